-- Browsing the directory lists each table in name order: an index scan gives the first rows
-- of a page without sorting every member, venue and offer.
CREATE INDEX accounts_search_name_order ON accounts (search_name, id);
CREATE INDEX venues_search_name_order ON venues (search_name, id);
CREATE INDEX offers_search_name_order ON offers (search_name, id);
-- The search leaves out sanctioned actors and suspended accounts: anti-joins against these
-- few rows instead of reading every actor.
CREATE INDEX actors_gone_or_blocked ON actors (id) WHERE deleted_at IS NOT NULL OR blocked_at IS NOT NULL;
CREATE INDEX accounts_suspended ON accounts (id) WHERE suspended_at IS NOT NULL;
