-- The moderators' queue listing every report (open and resolved), newest first: without it
-- that listing reads and sorts the whole table.
CREATE INDEX reports_by_date ON reports (created_at DESC, id DESC);
