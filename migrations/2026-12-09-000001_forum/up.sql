-- Issue 13: the professional forum. A category is a `Group` actor (FEP-1b12) that staff
-- create and order; a thread is a `posts` row of category `thread` (a `Page`, title + body)
-- with its forum state here; replies are `comments` of that post (`Note`s with
-- `inReplyTo`), so likes, reports, moderation, mentions and edits work as for every reply.

ALTER TABLE posts DROP CONSTRAINT posts_category_check;
ALTER TABLE posts ADD CONSTRAINT posts_category_check
    CHECK (category IN ('post', 'announcement', 'thread'));

CREATE TABLE forum_categories (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    actor_id BIGINT NOT NULL UNIQUE REFERENCES actors (id),
    name TEXT NOT NULL,
    description_markdown TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    position INT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX forum_categories_order ON forum_categories (position, id);

-- Members staff chose to moderate a category (besides the instance's moderators).
CREATE TABLE forum_category_moderators (
    category_id BIGINT NOT NULL REFERENCES forum_categories (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (category_id, actor_id)
);

CREATE TABLE forum_threads (
    post_id BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    category_id BIGINT NOT NULL REFERENCES forum_categories (id),
    locked_at TIMESTAMPTZ,
    pinned_at TIMESTAMPTZ,
    -- The thread's creation or its latest live reply; kept by the triggers below.
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reply_count INT NOT NULL DEFAULT 0
);
-- The thread list of a category: pinned first, then by last activity.
CREATE INDEX forum_threads_list ON forum_threads
    (category_id, (pinned_at IS NULL), last_activity_at DESC, post_id DESC);

-- Replies keep their thread's counter and last activity, whichever path wrote them (a local
-- reply, one from another server, a deletion by its author or a moderator).
CREATE FUNCTION forum_threads_count_replies() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    thread BIGINT := coalesce(NEW.post_id, OLD.post_id);
BEGIN
    UPDATE forum_threads t SET
        reply_count = (SELECT count(*) FROM comments c
                       WHERE c.post_id = thread AND c.deleted_at IS NULL AND c.hidden_at IS NULL),
        last_activity_at = greatest(
            (SELECT p.published_at FROM posts p WHERE p.id = thread),
            (SELECT max(c.published_at) FROM comments c
             WHERE c.post_id = thread AND c.deleted_at IS NULL AND c.hidden_at IS NULL))
    WHERE t.post_id = thread;
    RETURN NULL;
END $$;
CREATE TRIGGER forum_threads_replies AFTER INSERT OR UPDATE OF deleted_at, hidden_at OR DELETE
    ON comments FOR EACH ROW EXECUTE FUNCTION forum_threads_count_replies();

-- What a member follows in the forum: a whole category (new threads) or one thread (new
-- replies). Exactly one of the two.
CREATE TABLE forum_subscriptions (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    category_id BIGINT REFERENCES forum_categories (id) ON DELETE CASCADE,
    thread_post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((category_id IS NULL) <> (thread_post_id IS NULL))
);
CREATE UNIQUE INDEX forum_subscriptions_category ON forum_subscriptions (account_id, category_id)
    WHERE category_id IS NOT NULL;
CREATE UNIQUE INDEX forum_subscriptions_thread ON forum_subscriptions (account_id, thread_post_id)
    WHERE thread_post_id IS NOT NULL;
CREATE INDEX forum_subscriptions_by_category ON forum_subscriptions (category_id)
    WHERE category_id IS NOT NULL;
CREATE INDEX forum_subscriptions_by_thread ON forum_subscriptions (thread_post_id)
    WHERE thread_post_id IS NOT NULL;

-- When a member last read a thread: newer replies are "new" for them, and a thread with
-- activity after it is unread.
CREATE TABLE forum_reads (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    read_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, post_id)
);

-- The forum's French full-text search (the directory's configuration: accents and plurals
-- forgiven) over threads and replies, and trigram similarity on titles for typos.
ALTER TABLE posts
    ADD COLUMN search_doc TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('french_unaccent', title), 'A')
        || setweight(to_tsvector('french_unaccent', body_markdown), 'C')) STORED,
    ADD COLUMN search_name TEXT GENERATED ALWAYS AS (cc_search_name(title)) STORED;
CREATE INDEX posts_thread_search_doc ON posts USING gin (search_doc) WHERE category = 'thread';
CREATE INDEX posts_thread_search_name ON posts USING gin (search_name gin_trgm_ops)
    WHERE category = 'thread';
ALTER TABLE comments
    ADD COLUMN search_doc TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('french_unaccent', coalesce(body_markdown, body_html))) STORED;
CREATE INDEX comments_search_doc ON comments USING gin (search_doc);
