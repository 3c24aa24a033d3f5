-- Blog posts and announcements (issue 4): one table, `category` tells them apart; the
-- announcement-only columns stay NULL / empty for blog posts.
CREATE TABLE posts (
    id BIGSERIAL PRIMARY KEY,
    category TEXT NOT NULL CHECK (category IN ('post', 'announcement')),
    ap_id TEXT NOT NULL UNIQUE,
    -- The actor it is published as: the member's, or the département page's (`as_page`).
    author_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- The local account that wrote it (NULL for remote objects, or once the account is gone).
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    as_page BOOLEAN NOT NULL DEFAULT FALSE,
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    cover_image_path TEXT,
    cover_image_alt TEXT,
    hashtags TEXT[] NOT NULL DEFAULT '{}',
    kind TEXT CHECK (kind IS NULL OR kind IN ('emploi', 'appel_a_projets', 'residence',
        'pret_materiel', 'mise_a_disposition_lieu', 'benevolat', 'formation', 'autre')),
    deadline DATE,
    disciplines TEXT[] NOT NULL DEFAULT '{}',
    commune TEXT NOT NULL DEFAULT '',
    draft BOOLEAN NOT NULL DEFAULT FALSE,
    published_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    CHECK ((category = 'announcement') = (kind IS NOT NULL))
);

CREATE INDEX posts_listing_idx ON posts (category, published_at DESC, id DESC)
    WHERE deleted_at IS NULL AND NOT draft;
CREATE INDEX posts_author_idx ON posts (author_actor_id, id DESC);
CREATE INDEX posts_account_idx ON posts (account_id, id DESC);
