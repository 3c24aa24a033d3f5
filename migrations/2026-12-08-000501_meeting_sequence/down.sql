ALTER TABLE workspace_meetings DROP COLUMN sequence;
