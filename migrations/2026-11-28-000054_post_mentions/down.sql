ALTER TABLE posts DROP COLUMN mentions;
