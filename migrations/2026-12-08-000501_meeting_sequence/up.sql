-- The revision of a meeting, bumped by every change (its calendar entry's SEQUENCE, so that
-- calendar programs replace the copy they hold).
ALTER TABLE workspace_meetings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0);
