-- Follow relations between any two actors, local or remote.
CREATE TABLE follows (
    id BIGSERIAL PRIMARY KEY,
    follower_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    -- id of the Follow activity (ours when the follower is local, theirs otherwise).
    activity_ap_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, state);
CREATE INDEX follows_activity ON follows (activity_ap_id);

-- Activities we published: dereferenceable at their id, and the body every delivery sends.
CREATE TABLE activities (
    id BIGSERIAL PRIMARY KEY,
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- The id of the object the activity is about, to list an actor's outbox or find an Update.
    object_ap_id TEXT,
    data JSONB NOT NULL,
    -- Addressed to as:Public: may appear in the outbox and be served to anyone.
    public BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX activities_actor ON activities (actor_id, id DESC);

-- Persistent delivery queue: one row per (activity, inbox). Workers claim due rows with
-- FOR UPDATE SKIP LOCKED and push next_attempt_at forward as a lease while sending.
CREATE TABLE deliveries (
    id BIGSERIAL PRIMARY KEY,
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    inbox_url TEXT NOT NULL,
    domain TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ,
    -- Set when we gave up (retries exhausted or a permanent 4xx).
    failed_at TIMESTAMPTZ,
    UNIQUE (activity_id, inbox_url)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX deliveries_domain ON deliveries (domain) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Health of each remote host we talk to.
CREATE TABLE instances (
    domain TEXT PRIMARY KEY,
    first_failure_at TIMESTAMPTZ,
    last_failure_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    -- Failing for 7 days: skipped until it answers again or sends us something.
    unreachable_since TIMESTAMPTZ,
    -- A 429 Retry-After from that host: nothing is sent to it before this time.
    retry_after_until TIMESTAMPTZ,
    last_error TEXT
);

-- Ids of the activities we accepted, so a replayed activity is processed once.
CREATE TABLE received_activities (
    ap_id TEXT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX received_activities_at ON received_activities (received_at);
