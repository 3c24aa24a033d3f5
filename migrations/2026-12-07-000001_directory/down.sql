ALTER TABLE moderation_actions DROP COLUMN offer_id, DROP COLUMN venue_id;
ALTER TABLE report_targets DROP COLUMN offer_id, DROP COLUMN venue_id;
ALTER TABLE notifications DROP COLUMN venue_id, DROP COLUMN loan_request_id;
DROP TABLE claim_invitations;
DROP TABLE directory_entries;
DROP FUNCTION directory_entries_search_refresh();
DROP TABLE loan_requests;
DROP TABLE photos;
DROP TABLE offers;
DROP FUNCTION offers_search_refresh();
DROP TABLE venue_managers;
DROP TABLE venues;
DROP FUNCTION venues_search_refresh();
ALTER TABLE posts DROP COLUMN commune_code;
DROP TRIGGER accounts_search ON accounts;
DROP FUNCTION accounts_search_refresh();
ALTER TABLE accounts
    DROP CONSTRAINT accounts_coordinates,
    DROP COLUMN search_name,
    DROP COLUMN search_doc,
    DROP COLUMN directory_hidden,
    DROP COLUMN links,
    DROP COLUMN contact_email,
    DROP COLUMN phone,
    DROP COLUMN longitude,
    DROP COLUMN latitude,
    DROP COLUMN address,
    DROP COLUMN postal_code,
    DROP COLUMN commune_code,
    DROP COLUMN directory_kind;
DROP TABLE communes;
DROP TABLE epcis;
DROP TABLE reference_data;
DROP TEXT SEARCH CONFIGURATION french_unaccent;
DROP FUNCTION cc_search_name(text);
DROP FUNCTION cc_unaccent(text);
-- The extensions stay: other objects of the database may use them.
