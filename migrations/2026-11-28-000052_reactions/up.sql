-- Likes and boosts (issue 4): one row per (kind, object, actor), whoever reacted — a local
-- member or a remote actor. `object_ap_id` is the id of the liked or boosted object (a local
-- post, announcement or comment, or a remote post stored here); no foreign key, because the
-- object may live in one of several tables.
CREATE TABLE reactions (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'announce')),
    object_ap_id TEXT NOT NULL,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- The Like or Announce: ours (`{base}/activities/{uuid}`) or the remote one.
    activity_ap_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (kind, object_ap_id, actor_id)
);

-- Counting per object (list pages ask for 20 objects at once).
CREATE INDEX reactions_object_idx ON reactions (object_ap_id, kind);
CREATE INDEX reactions_actor_idx ON reactions (actor_id);

-- Domains whose activities are refused (`reject`) or whose posts are kept out (`silence`).
-- `domain` is a lower-case host, or `host:port`.
CREATE TABLE domain_blocks (
    domain TEXT PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),
    severity TEXT NOT NULL CHECK (severity IN ('silence', 'reject')),
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
