-- Actors: every member, the département page, venues, workspaces, the instance actor, and the
-- remote actors we know. Accounts (people who log in) point at their actor.
CREATE TABLE actors (
    id BIGSERIAL PRIMARY KEY,
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('Person', 'Organization', 'Group', 'Application', 'Service')),
    username TEXT NOT NULL,
    -- host[:port] of the actor's origin; ours for local actors.
    domain TEXT NOT NULL,
    local BOOLEAN NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    summary_html TEXT NOT NULL DEFAULT '',
    icon_url TEXT,
    url TEXT,
    inbox_url TEXT NOT NULL,
    shared_inbox_url TEXT,
    outbox_url TEXT,
    followers_url TEXT,
    following_url TEXT,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT,
    manually_approves_followers BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable BOOLEAN NOT NULL DEFAULT TRUE,
    published TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_refreshed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the actor was deleted (Delete of the actor, or 410 on fetch).
    deleted_at TIMESTAMPTZ,
    CHECK (local = (private_key_pem IS NOT NULL))
);
CREATE UNIQUE INDEX actors_local_username ON actors (lower(username)) WHERE local;
CREATE INDEX actors_domain_username ON actors (domain, lower(username));

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    actor_id BIGINT NOT NULL UNIQUE REFERENCES actors (id) ON DELETE CASCADE,
    username TEXT NOT NULL CHECK (username ~ '^[a-z0-9_]{3,30}$'),
    email TEXT NOT NULL CHECK (position('@' in email) > 1),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'staff', 'moderator', 'admin')),
    kind TEXT NOT NULL DEFAULT 'individual' CHECK (kind IN ('individual', 'structure')),
    display_name TEXT NOT NULL DEFAULT '',
    bio_markdown TEXT NOT NULL DEFAULT '',
    bio_html TEXT NOT NULL DEFAULT '',
    avatar_path TEXT,
    disciplines TEXT[] NOT NULL DEFAULT '{}',
    commune TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    -- NULL: follow the instance default.
    language TEXT CHECK (language IN ('fr', 'en')),
    hide_network BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ,
    suspended_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX accounts_username_ci ON accounts (lower(username));
CREATE UNIQUE INDEX accounts_email_ci ON accounts (lower(email));

-- Browser sessions. The cookie carries a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API bearer tokens, hashed at rest, revocable.
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- Failed logins, for rate limiting per IP and per account across every serve process.
CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('ip', 'account')),
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key ON login_failures (scope, key, at);
