-- Issue 11: communes and EPCIs as reference data, the member directory, venues, sharing of
-- equipment and places (offers and loan requests), the département's listed entries with
-- their claim invitations, and the full-text search they share.

-- Trusted extensions (a database owner may create them; no superuser needed).
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- `unaccent()` is only STABLE (it reads its dictionary by name); index expressions and
-- generated values need an IMMUTABLE function. Naming the dictionary makes it safe.
CREATE FUNCTION cc_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- A name as compared for typos (trigram similarity): lower case, no accents, one space
-- between words, "st"/"ste" read as "saint"/"sainte".
CREATE FUNCTION cc_search_name(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$
    SELECT trim(regexp_replace(regexp_replace(regexp_replace(
        lower(cc_unaccent($1)), '[^a-z0-9]+', ' ', 'g'),
        '(^| )st( |$)', '\1saint\2', 'g'), '(^| )ste( |$)', '\1sainte\2', 'g'))
    $$;

-- French stemming with accents ignored: "theatre" finds "Théâtre", "danses" finds "danse".
CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION french_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, french_stem;

-- Reference data shipped with the binary (communes, EPCIs), loaded after the migrations
-- when its checksum changed (see db::reference).
CREATE TABLE reference_data (
    name TEXT PRIMARY KEY,
    checksum TEXT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Établissements publics de coopération intercommunale (SIREN code).
CREATE TABLE epcis (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL
);

CREATE TABLE communes (
    -- INSEE code (`88160`, Corsica `2A004`).
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    departement TEXT NOT NULL,
    postal_codes TEXT[] NOT NULL DEFAULT '{}',
    epci_code TEXT REFERENCES epcis (code),
    population INTEGER,
    -- The commune's centre (WGS 84), when known.
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    search_name TEXT GENERATED ALWAYS AS (cc_search_name(name)) STORED
);
CREATE INDEX communes_departement ON communes (departement, search_name);
CREATE INDEX communes_epci ON communes (epci_code);
CREATE INDEX communes_postal_codes ON communes USING gin (postal_codes);

-- The member directory: what a member shows about themselves. `commune_code` replaces the
-- free-text `commune` (kept as it was typed until it is matched).
ALTER TABLE accounts
    ADD COLUMN directory_kind TEXT NOT NULL DEFAULT 'autre' CHECK (directory_kind IN (
        'compagnie', 'association', 'bibliotheque', 'ecole_de_musique', 'etablissement_scolaire',
        'ehpad_medico_social', 'collectivite', 'artiste', 'lieu', 'autre')),
    ADD COLUMN commune_code TEXT REFERENCES communes (code),
    ADD COLUMN postal_code TEXT NOT NULL DEFAULT '' CHECK (postal_code ~ '^([0-9][0-9AB][0-9]{3})?$'),
    ADD COLUMN address TEXT NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    ADD COLUMN latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN phone TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    ADD COLUMN contact_email TEXT NOT NULL DEFAULT '' CHECK (length(contact_email) <= 254),
    -- Extra public links (social networks, ticketing…), besides `website`.
    ADD COLUMN links TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN directory_hidden BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN search_doc TSVECTOR,
    ADD COLUMN search_name TEXT NOT NULL DEFAULT '',
    ADD CONSTRAINT accounts_coordinates CHECK ((latitude IS NULL) = (longitude IS NULL));
UPDATE accounts SET directory_kind = 'artiste' WHERE kind = 'individual';

CREATE FUNCTION accounts_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_name := cc_search_name(coalesce(nullif(NEW.display_name, ''), NEW.username));
    NEW.search_doc :=
        setweight(to_tsvector('french_unaccent', coalesce(nullif(NEW.display_name, ''), NEW.username)), 'A')
        || setweight(to_tsvector('french_unaccent', array_to_string(NEW.disciplines, ' ')), 'B')
        || setweight(to_tsvector('french_unaccent', NEW.bio_markdown), 'C');
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_search BEFORE INSERT OR UPDATE OF display_name, username, disciplines, bio_markdown
    ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_search_refresh();
UPDATE accounts SET display_name = display_name;
CREATE INDEX accounts_search_doc ON accounts USING gin (search_doc);
CREATE INDEX accounts_search_name ON accounts USING gin (search_name gin_trgm_ops);
CREATE INDEX accounts_commune ON accounts (commune_code);

-- Announcements (and posts) carry the INSEE code of their commune.
ALTER TABLE posts ADD COLUMN commune_code TEXT REFERENCES communes (code);
CREATE INDEX posts_commune ON posts (commune_code) WHERE commune_code IS NOT NULL;

-- Venues: places of artistic practice, each an ActivityPub actor (`Organization` with a
-- `location` `Place`) served at /venues/{slug}.
CREATE TABLE venues (
    id BIGSERIAL PRIMARY KEY,
    actor_id BIGINT NOT NULL UNIQUE REFERENCES actors (id) ON DELETE CASCADE,
    slug TEXT NOT NULL CHECK (slug ~ '^[a-z0-9](-?[a-z0-9])*$' AND length(slug) BETWEEN 3 AND 60),
    -- The member who created it; managers below may edit too.
    owner_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
    description_markdown TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    postal_code TEXT NOT NULL DEFAULT '' CHECK (postal_code ~ '^([0-9][0-9AB][0-9]{3})?$'),
    commune_code TEXT NOT NULL REFERENCES communes (code),
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    -- Audience capacity (people), when known.
    capacity INTEGER CHECK (capacity BETWEEN 0 AND 1000000),
    -- Rooms and spaces, technical equipment, conditions of use: Markdown.
    spaces_markdown TEXT NOT NULL DEFAULT '',
    equipment_markdown TEXT NOT NULL DEFAULT '',
    conditions_markdown TEXT NOT NULL DEFAULT '',
    -- Accessibility.
    step_free_access BOOLEAN NOT NULL DEFAULT FALSE,
    hearing_loop BOOLEAN NOT NULL DEFAULT FALSE,
    accessibility_notes TEXT NOT NULL DEFAULT '' CHECK (length(accessibility_notes) <= 2000),
    disciplines TEXT[] NOT NULL DEFAULT '{}',
    contact_email TEXT NOT NULL DEFAULT '' CHECK (length(contact_email) <= 254),
    contact_phone TEXT NOT NULL DEFAULT '' CHECK (length(contact_phone) <= 40),
    website TEXT NOT NULL DEFAULT '' CHECK (length(website) <= 500),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    -- Set by a moderator (hide): no longer listed nor shown to anyone but its managers.
    hidden_at TIMESTAMPTZ,
    search_doc TSVECTOR,
    search_name TEXT NOT NULL DEFAULT '',
    CONSTRAINT venues_coordinates CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE UNIQUE INDEX venues_slug ON venues (slug);
CREATE INDEX venues_owner ON venues (owner_account_id);
CREATE INDEX venues_commune ON venues (commune_code);

CREATE FUNCTION venues_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_name := cc_search_name(NEW.name);
    NEW.search_doc :=
        setweight(to_tsvector('french_unaccent', NEW.name), 'A')
        || setweight(to_tsvector('french_unaccent', array_to_string(NEW.disciplines, ' ')), 'B')
        || setweight(to_tsvector('french_unaccent',
               NEW.description_markdown || ' ' || NEW.spaces_markdown || ' ' || NEW.equipment_markdown), 'C');
    RETURN NEW;
END $$;
CREATE TRIGGER venues_search BEFORE INSERT OR UPDATE ON venues
    FOR EACH ROW EXECUTE FUNCTION venues_search_refresh();
CREATE INDEX venues_search_doc ON venues USING gin (search_doc);
CREATE INDEX venues_search_name ON venues USING gin (search_name gin_trgm_ops);

-- Other members who manage a venue with its owner.
CREATE TABLE venue_managers (
    venue_id BIGINT NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, account_id)
);
CREATE INDEX venue_managers_account ON venue_managers (account_id);

-- Sharing ("mutualisation"): equipment or a space to lend or share.
CREATE TABLE offers (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The venue it belongs to or takes place at, if any.
    venue_id BIGINT REFERENCES venues (id) ON DELETE SET NULL,
    category TEXT NOT NULL CHECK (category IN ('son', 'lumiere', 'scene', 'video', 'mobilier',
        'costumes', 'vehicule', 'salle', 'autre')),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 150),
    description_markdown TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    -- free | paid | exchange, and the details in words (price, what is asked in return).
    terms TEXT NOT NULL CHECK (terms IN ('free', 'paid', 'exchange')),
    terms_details TEXT NOT NULL DEFAULT '' CHECK (length(terms_details) <= 2000),
    commune_code TEXT NOT NULL REFERENCES communes (code),
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    -- Public offers are listed to everyone and federate as an announcement (`post_id`) of
    -- kind pret_materiel or mise_a_disposition_lieu; others only to logged-in members.
    public BOOLEAN NOT NULL DEFAULT TRUE,
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    -- No longer available (kept for the history of its requests).
    closed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    hidden_at TIMESTAMPTZ,
    search_doc TSVECTOR,
    search_name TEXT NOT NULL DEFAULT '',
    CONSTRAINT offers_coordinates CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX offers_account ON offers (account_id);
CREATE INDEX offers_venue ON offers (venue_id) WHERE venue_id IS NOT NULL;
CREATE INDEX offers_commune ON offers (commune_code);
CREATE UNIQUE INDEX offers_post ON offers (post_id) WHERE post_id IS NOT NULL;

CREATE FUNCTION offers_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_name := cc_search_name(NEW.title);
    NEW.search_doc :=
        setweight(to_tsvector('french_unaccent', NEW.title), 'A')
        || setweight(to_tsvector('french_unaccent', NEW.category), 'B')
        || setweight(to_tsvector('french_unaccent', NEW.description_markdown || ' ' || NEW.terms_details), 'C');
    RETURN NEW;
END $$;
CREATE TRIGGER offers_search BEFORE INSERT OR UPDATE ON offers
    FOR EACH ROW EXECUTE FUNCTION offers_search_refresh();
CREATE INDEX offers_search_doc ON offers USING gin (search_doc);
CREATE INDEX offers_search_name ON offers USING gin (search_name gin_trgm_ops);

-- Photos of venues and offers, with their text alternative.
CREATE TABLE photos (
    id BIGSERIAL PRIMARY KEY,
    venue_id BIGINT REFERENCES venues (id) ON DELETE CASCADE,
    offer_id BIGINT REFERENCES offers (id) ON DELETE CASCADE,
    -- File name under <data_dir>/photos.
    path TEXT NOT NULL UNIQUE,
    alt TEXT NOT NULL CHECK (length(alt) BETWEEN 1 AND 500),
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((venue_id IS NULL) <> (offer_id IS NULL))
);
CREATE INDEX photos_venue ON photos (venue_id, position) WHERE venue_id IS NOT NULL;
CREATE INDEX photos_offer ON photos (offer_id, position) WHERE offer_id IS NOT NULL;

-- A member asks to borrow an offer for given dates; the owner accepts or declines.
CREATE TABLE loan_requests (
    id BIGSERIAL PRIMARY KEY,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    requester_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    message TEXT NOT NULL DEFAULT '' CHECK (length(message) <= 5000),
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled')),
    -- The owner's words when answering.
    answer TEXT NOT NULL DEFAULT '' CHECK (length(answer) <= 5000),
    decided_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on),
    -- Two accepted loans of one offer never overlap, whatever the race.
    CONSTRAINT loan_requests_no_overlap EXCLUDE USING gist (
        offer_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&) WHERE (state = 'accepted')
);
CREATE INDEX loan_requests_offer ON loan_requests (offer_id, starts_on);
CREATE INDEX loan_requests_requester ON loan_requests (requester_account_id, created_at DESC);

-- Entries the département listed (bulk import) before the actor has an account. Claiming
-- one makes an account of it (`account_id`), and a venue too when `is_venue`.
CREATE TABLE directory_entries (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind TEXT NOT NULL CHECK (kind IN ('compagnie', 'association', 'bibliotheque',
        'ecole_de_musique', 'etablissement_scolaire', 'ehpad_medico_social', 'collectivite',
        'artiste', 'lieu', 'autre')),
    disciplines TEXT[] NOT NULL DEFAULT '{}',
    email TEXT NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    phone TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    address TEXT NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    postal_code TEXT NOT NULL DEFAULT '' CHECK (postal_code ~ '^([0-9][0-9AB][0-9]{3})?$'),
    commune_code TEXT REFERENCES communes (code),
    website TEXT NOT NULL DEFAULT '' CHECK (length(website) <= 500),
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    is_venue BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_at TIMESTAMPTZ,
    account_id BIGINT UNIQUE REFERENCES accounts (id) ON DELETE SET NULL,
    -- The venue made from it at claim time, when `is_venue`.
    venue_id BIGINT REFERENCES venues (id) ON DELETE SET NULL,
    search_doc TSVECTOR,
    search_name TEXT NOT NULL DEFAULT '',
    CONSTRAINT directory_entries_coordinates CHECK ((latitude IS NULL) = (longitude IS NULL))
);
-- Re-importing a file matches on the e-mail address, else on name + commune.
CREATE UNIQUE INDEX directory_entries_email ON directory_entries (lower(email)) WHERE email <> '';
CREATE INDEX directory_entries_name_commune ON directory_entries (search_name, commune_code);
CREATE INDEX directory_entries_unclaimed ON directory_entries (id) WHERE claimed_at IS NULL;

CREATE FUNCTION directory_entries_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_name := cc_search_name(NEW.name);
    NEW.search_doc :=
        setweight(to_tsvector('french_unaccent', NEW.name), 'A')
        || setweight(to_tsvector('french_unaccent', array_to_string(NEW.disciplines, ' ')), 'B');
    RETURN NEW;
END $$;
CREATE TRIGGER directory_entries_search BEFORE INSERT OR UPDATE ON directory_entries
    FOR EACH ROW EXECUTE FUNCTION directory_entries_search_refresh();
CREATE INDEX directory_entries_search_doc ON directory_entries USING gin (search_doc);
CREATE INDEX directory_entries_search_trgm ON directory_entries USING gin (search_name gin_trgm_ops);

-- Invitations to claim an entry: a single-use link mailed to the entry's address, valid
-- 30 days. Only the SHA-256 of the link's token is stored.
CREATE TABLE claim_invitations (
    token_hash TEXT PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES directory_entries (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    sent_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX claim_invitations_entry ON claim_invitations (entry_id, created_at DESC);

-- Notifications about loan requests (a new request for the owner, the answer for the
-- requester) and venues (a new follower for its managers).
ALTER TABLE notifications
    ADD COLUMN loan_request_id BIGINT REFERENCES loan_requests (id) ON DELETE CASCADE,
    ADD COLUMN venue_id BIGINT REFERENCES venues (id) ON DELETE CASCADE;
CREATE INDEX notifications_loan_request ON notifications (loan_request_id)
    WHERE loan_request_id IS NOT NULL;

-- Reports and moderation of venues and offers (venues are actors: `actor_id` names them too).
ALTER TABLE report_targets
    ADD COLUMN venue_id BIGINT REFERENCES venues (id) ON DELETE SET NULL,
    ADD COLUMN offer_id BIGINT REFERENCES offers (id) ON DELETE SET NULL;
ALTER TABLE moderation_actions
    ADD COLUMN venue_id BIGINT REFERENCES venues (id) ON DELETE SET NULL,
    ADD COLUMN offer_id BIGINT REFERENCES offers (id) ON DELETE SET NULL;
