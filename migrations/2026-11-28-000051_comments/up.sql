-- Comments (issue 4): replies to posts and announcements, local or from anywhere, threaded.
-- Remote posts: a public Article/Note of an actor a local member follows is kept in `posts`
-- (local = false) so it can be shown on the follower's timeline and commented.
ALTER TABLE posts ADD COLUMN local BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE posts ADD COLUMN url TEXT;

-- The timeline (`/fil`): the published posts of a set of authors, newest first.
CREATE INDEX posts_timeline_idx ON posts (author_actor_id, published_at DESC, id DESC)
    WHERE deleted_at IS NULL AND NOT draft;

CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
    -- Local: `{base}/comments/{id}`; remote: the Note's id.
    ap_id TEXT NOT NULL UNIQUE,
    -- The root of the thread: the post or announcement everything hangs under.
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    -- NULL: a direct reply to the post.
    parent_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    -- The parent's ActivityPub id, as the Note says it.
    in_reply_to TEXT NOT NULL,
    author_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- The local account that wrote it (NULL for remote comments).
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    -- What a local author typed; NULL for remote comments.
    body_markdown TEXT,
    -- Always sanitised (`SafeHtml`).
    body_html TEXT NOT NULL,
    -- The remote HTML page of the comment, when it has one.
    url TEXT,
    published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);

CREATE INDEX comments_post_idx ON comments (post_id, id);
CREATE INDEX comments_parent_idx ON comments (parent_id);
CREATE INDEX comments_author_idx ON comments (author_actor_id);
