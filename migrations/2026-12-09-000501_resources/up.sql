-- The resources library (`/ressources`): guides, templates, legal and funding notes, each a
-- file with versions (kept in the same store as workspace documents), a link, or both.
CREATE TABLE resources (
    id BIGSERIAL PRIMARY KEY,
    ap_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body_markdown TEXT NOT NULL DEFAULT '',
    -- Written only from a `SafeHtml`.
    body_html TEXT NOT NULL DEFAULT '',
    link_url TEXT CHECK (link_url IS NULL OR length(link_url) <= 2000),
    disciplines TEXT[] NOT NULL DEFAULT '{}',
    theme TEXT NOT NULL
        CHECK (theme IN ('guide', 'modele', 'juridique', 'financement', 'autre')),
    -- Never federated, never in a feed, a list or a search for visitors.
    members_only BOOLEAN NOT NULL DEFAULT FALSE,
    -- Staff's pick: listed first.
    curated BOOLEAN NOT NULL DEFAULT FALSE,
    author_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    -- Hidden by the moderators.
    hidden_at TIMESTAMPTZ,
    search_doc TSVECTOR
);
CREATE INDEX resources_listing ON resources (curated DESC, created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND hidden_at IS NULL;
CREATE INDEX resources_author ON resources (author_actor_id);

CREATE FUNCTION resources_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_doc :=
        setweight(to_tsvector('french_unaccent', NEW.title), 'A')
        || setweight(to_tsvector('french_unaccent', array_to_string(NEW.disciplines, ' ')), 'B')
        || setweight(to_tsvector('french_unaccent', NEW.body_markdown), 'C');
    RETURN NEW;
END $$;
CREATE TRIGGER resources_search BEFORE INSERT OR UPDATE ON resources
    FOR EACH ROW EXECUTE FUNCTION resources_search_refresh();
CREATE INDEX resources_search_doc ON resources USING gin (search_doc);

-- The versions of a resource's file; the bytes are in the store under `storage_key`.
CREATE TABLE resource_versions (
    id UUID PRIMARY KEY,
    resource_id BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    version INTEGER NOT NULL CHECK (version >= 1),
    file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (resource_id, version)
);
