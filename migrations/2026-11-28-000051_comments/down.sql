DROP TABLE comments;
DROP INDEX posts_timeline_idx;
ALTER TABLE posts DROP COLUMN url;
ALTER TABLE posts DROP COLUMN local;
