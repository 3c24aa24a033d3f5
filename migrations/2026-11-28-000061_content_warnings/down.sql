ALTER TABLE posts DROP COLUMN content_warning;
ALTER TABLE comments DROP COLUMN content_warning;
