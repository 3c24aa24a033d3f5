-- Notifications and mail (issue 9): address confirmation and single-use account links, the
-- mail queue, the notification centre with per-type preferences, announcement alerts and the
-- bookkeeping of scheduled digests.

-- Accounts that existed before confirmation was required are taken as confirmed.
ALTER TABLE accounts ADD COLUMN email_confirmed_at TIMESTAMPTZ;
UPDATE accounts SET email_confirmed_at = created_at;

-- Single-use links sent by mail. Only the SHA-256 of the secret is stored. `email` is the
-- address the link was sent to: for a change of address, the new one, which becomes the
-- account's address when the link is used.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password', 'change_email')),
    email TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose);

-- The mail queue: written in the transaction of the action that causes the mail, sent by the
-- mail worker. `message_id` is fixed at enqueue time, so a mail sent again after a crash
-- between the SMTP answer and the update carries the same Message-ID.
CREATE TABLE mails (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    to_address TEXT NOT NULL,
    category TEXT NOT NULL,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    unsubscribe_url TEXT,
    message_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_at TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at TIMESTAMPTZ,
    failed_at TIMESTAMPTZ
);
CREATE INDEX mails_due ON mails (next_attempt_at) WHERE state = 'queued';
CREATE INDEX mails_failed ON mails (failed_at DESC) WHERE state = 'failed';

-- Saved searches of announcements. An empty filter (no kind, no discipline, no commune) is
-- "every new announcement". `commune` is the INSEE code of a known commune.
CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT,
    disciplines TEXT[] NOT NULL DEFAULT '{}',
    commune TEXT,
    mail TEXT NOT NULL CHECK (mail IN ('instant', 'daily', 'weekly', 'none')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX alerts_account ON alerts (account_id);
CREATE INDEX alerts_kind ON alerts (kind);

-- One row per event for one member. `delivery` is what the member's preference said when it
-- was recorded (centre, instant, daily, weekly); `digested_at` marks the rows a digest mail
-- already carried, so a digest interrupted by a restart neither skips nor repeats anyone.
-- `dedupe_key` keeps a repeated event (the same like twice) to one row.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    actor_id BIGINT REFERENCES actors (id) ON DELETE CASCADE,
    post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    comment_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    object_ap_id TEXT,
    alert_id BIGINT REFERENCES alerts (id) ON DELETE SET NULL,
    dedupe_key TEXT,
    delivery TEXT NOT NULL CHECK (delivery IN ('centre', 'instant', 'daily', 'weekly')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at TIMESTAMPTZ,
    digested_at TIMESTAMPTZ
);
CREATE INDEX notifications_account ON notifications (account_id, id DESC);
CREATE INDEX notifications_unread ON notifications (account_id) WHERE read_at IS NULL;
CREATE INDEX notifications_digest ON notifications (delivery, account_id)
    WHERE digested_at IS NULL AND delivery IN ('daily', 'weekly');
CREATE UNIQUE INDEX notifications_dedupe ON notifications (account_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL;
CREATE INDEX notifications_post ON notifications (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX notifications_comment ON notifications (comment_id) WHERE comment_id IS NOT NULL;
CREATE INDEX notifications_actor ON notifications (actor_id) WHERE actor_id IS NOT NULL;

-- A member's choice per notification type; a type without a row has its default.
CREATE TABLE notification_preferences (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    delivery TEXT NOT NULL CHECK (delivery IN ('centre', 'instant', 'daily', 'weekly', 'off')),
    PRIMARY KEY (account_id, kind)
);

-- Periodic jobs (the digests): the last period each one completed, e.g. '2026-12-04' or
-- '2026-W49', so a restart neither runs a period twice nor forgets one.
CREATE TABLE scheduled_runs (
    job TEXT PRIMARY KEY,
    last_period TEXT NOT NULL,
    ran_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The key that signs unsubscribe links, made once per instance.
ALTER TABLE instance_identity ADD COLUMN link_secret TEXT;
