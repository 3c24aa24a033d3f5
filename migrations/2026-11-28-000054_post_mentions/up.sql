-- Mentions of a post or announcement (issue 4), resolved once when it is written so that page
-- renders, edits and the federated object (Mention tags, cc, delivery) need no network:
-- [{"href": actor AP id, "name": "@user@host", "url": profile page}].
ALTER TABLE posts ADD COLUMN mentions JSONB NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(mentions) = 'array');
