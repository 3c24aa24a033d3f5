-- The resolved mentions of a local comment (`[{href, name, url}]`, as `posts.mentions`): kept
-- so an edit or a fetch of the Note needs no WebFinger look-up.
ALTER TABLE comments ADD COLUMN mentions JSONB NOT NULL DEFAULT '[]';
