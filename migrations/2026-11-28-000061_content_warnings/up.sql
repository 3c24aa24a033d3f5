-- Content warnings of remote Notes (Mastodon's `summary` + `sensitive: true`): the warning
-- text, shown in a closed <details> above the body. NULL: no warning.
ALTER TABLE comments ADD COLUMN content_warning TEXT;
ALTER TABLE posts ADD COLUMN content_warning TEXT;
