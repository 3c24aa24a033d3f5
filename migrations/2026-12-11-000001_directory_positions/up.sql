-- Where each directory row stands, as a point on the unit sphere (x, y, z): its own
-- coordinates, else its commune's centre; NULL when it has neither. Sorting by distance then
-- needs no join with the communes and no trigonometry per row: the straight-line (chord)
-- distance between two such points grows with the distance along the Earth's surface, so
-- ordering by the squared chord is ordering by the true distance.
CREATE FUNCTION cc_set_position() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lat float8 := NEW.latitude;
    lon float8 := NEW.longitude;
BEGIN
    IF lat IS NULL OR lon IS NULL THEN
        SELECT c.latitude, c.longitude INTO lat, lon
        FROM communes c WHERE c.code = NEW.commune_code;
    END IF;
    IF lat IS NULL OR lon IS NULL THEN
        NEW.pos_x := NULL;
        NEW.pos_y := NULL;
        NEW.pos_z := NULL;
    ELSE
        NEW.pos_x := cos(radians(lat)) * cos(radians(lon));
        NEW.pos_y := cos(radians(lat)) * sin(radians(lon));
        NEW.pos_z := sin(radians(lat));
    END IF;
    RETURN NEW;
END
$$;

ALTER TABLE accounts ADD COLUMN pos_x float8, ADD COLUMN pos_y float8, ADD COLUMN pos_z float8;
ALTER TABLE venues ADD COLUMN pos_x float8, ADD COLUMN pos_y float8, ADD COLUMN pos_z float8;
ALTER TABLE offers ADD COLUMN pos_x float8, ADD COLUMN pos_y float8, ADD COLUMN pos_z float8;
ALTER TABLE directory_entries
    ADD COLUMN pos_x float8, ADD COLUMN pos_y float8, ADD COLUMN pos_z float8;

CREATE TRIGGER accounts_position BEFORE INSERT OR UPDATE OF latitude, longitude, commune_code
    ON accounts FOR EACH ROW EXECUTE FUNCTION cc_set_position();
CREATE TRIGGER venues_position BEFORE INSERT OR UPDATE OF latitude, longitude, commune_code
    ON venues FOR EACH ROW EXECUTE FUNCTION cc_set_position();
CREATE TRIGGER offers_position BEFORE INSERT OR UPDATE OF latitude, longitude, commune_code
    ON offers FOR EACH ROW EXECUTE FUNCTION cc_set_position();
CREATE TRIGGER directory_entries_position
    BEFORE INSERT OR UPDATE OF latitude, longitude, commune_code
    ON directory_entries FOR EACH ROW EXECUTE FUNCTION cc_set_position();

-- Rows written before: their positions (the communes' centres are there when the official
-- list was loaded; a later load of the list recomputes the positions it moves).
UPDATE accounts SET commune_code = commune_code WHERE latitude IS NOT NULL OR commune_code IS NOT NULL;
UPDATE venues SET commune_code = commune_code;
UPDATE offers SET commune_code = commune_code;
UPDATE directory_entries SET commune_code = commune_code
    WHERE latitude IS NOT NULL OR commune_code IS NOT NULL;
