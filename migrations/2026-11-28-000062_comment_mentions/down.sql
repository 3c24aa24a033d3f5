ALTER TABLE comments DROP COLUMN mentions;
