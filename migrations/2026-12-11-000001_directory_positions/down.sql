DROP TRIGGER directory_entries_position ON directory_entries;
DROP TRIGGER offers_position ON offers;
DROP TRIGGER venues_position ON venues;
DROP TRIGGER accounts_position ON accounts;
ALTER TABLE directory_entries DROP COLUMN pos_x, DROP COLUMN pos_y, DROP COLUMN pos_z;
ALTER TABLE offers DROP COLUMN pos_x, DROP COLUMN pos_y, DROP COLUMN pos_z;
ALTER TABLE venues DROP COLUMN pos_x, DROP COLUMN pos_y, DROP COLUMN pos_z;
ALTER TABLE accounts DROP COLUMN pos_x, DROP COLUMN pos_y, DROP COLUMN pos_z;
DROP FUNCTION cc_set_position();
