-- Moderation after publication: the instance's rules, reports (from members, visitors and
-- remote Flags) with what they name and a snapshot of it, the moderators' log of actions
-- (which is also each author's statement of reasons), internal notes, appeals, and the marks
-- that hide content or cut off an actor.

CREATE TABLE instance_rules (
    id BIGSERIAL PRIMARY KEY,
    position INTEGER NOT NULL DEFAULT 0,
    text_fr TEXT NOT NULL CHECK (length(text_fr) BETWEEN 1 AND 1000),
    text_en TEXT NOT NULL DEFAULT '' CHECK (length(text_en) <= 1000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A rule a decision cited stays readable after it is withdrawn.
    deleted_at TIMESTAMPTZ
);
CREATE INDEX instance_rules_order ON instance_rules (position, id) WHERE deleted_at IS NULL;

INSERT INTO instance_rules (position, text_fr, text_en) VALUES
 (1, 'Respecter la loi : pas de contenu illégal, haineux, diffamatoire ou portant atteinte aux droits d''autrui.',
     'Obey the law: no illegal, hateful or defamatory content, nothing that infringes the rights of others.'),
 (2, 'Respecter les autres membres : pas de harcèlement, d''insulte ni d''attaque personnelle.',
     'Respect other members: no harassment, insults or personal attacks.'),
 (3, 'Pas de publicité abusive ni de messages répétés (spam).',
     'No unsolicited advertising or repeated messages (spam).'),
 (4, 'Publier au bon endroit : les annonces de spectacles vont dans l''agenda des sorties, pas dans les annonces.',
     'Post in the right place: show listings belong on the events agenda, not among the announcements.');

CREATE TABLE reports (
    id BIGSERIAL PRIMARY KEY,
    -- The remote Flag's id (reports received from another server); NULL for local reports.
    ap_id TEXT UNIQUE,
    -- NULL = reported here (member or visitor); otherwise the sending server (host[:port]).
    origin_domain TEXT,
    reporter_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    -- The remote actor that sent the Flag (an instance actor or a person).
    reporter_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    -- A visitor's address, to tell them the outcome.
    reporter_email TEXT,
    reason TEXT NOT NULL CHECK (reason IN ('spam', 'illegal', 'harassment', 'off_topic', 'other')),
    rule_ids BIGINT[] NOT NULL DEFAULT '{}',
    comment TEXT NOT NULL DEFAULT '' CHECK (length(comment) <= 5000),
    -- The account the report is about (the author of the reported content, or the profile).
    target_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    forward_requested BOOLEAN NOT NULL DEFAULT false,
    forwarded_at TIMESTAMPTZ,
    forwarded_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    assigned_to BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    -- The action that closed it (dismiss, hide, delete, redirect, warn, suspend, block).
    resolution TEXT,
    resolved_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    resolved_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX reports_queue ON reports (state, created_at DESC, id DESC);
CREATE INDEX reports_by_reason ON reports (reason, state, created_at DESC);
CREATE INDEX reports_by_target_actor ON reports (target_actor_id, created_at DESC);
CREATE INDEX reports_by_origin ON reports (origin_domain, created_at DESC);

-- What a report names, each with the content as it was when reported.
CREATE TABLE report_targets (
    id BIGSERIAL PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    -- 'actor', 'post', 'comment'; later features add theirs (venue, offer, forum message…).
    kind TEXT NOT NULL,
    ap_id TEXT NOT NULL,
    actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    comment_id BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    -- {title, html, author_name, author_ap_id, url, published_at}: kept when the original
    -- is edited or deleted.
    snapshot JSONB NOT NULL DEFAULT '{}',
    UNIQUE (report_id, ap_id)
);
CREATE INDEX report_targets_post ON report_targets (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX report_targets_comment ON report_targets (comment_id) WHERE comment_id IS NOT NULL;
CREATE INDEX report_targets_actor ON report_targets (actor_id) WHERE actor_id IS NOT NULL;

-- The audit log: every moderation action, who took it, when, on what and why. An entry with an
-- `affected_actor_id` is also that author's statement of reasons.
CREATE TABLE moderation_actions (
    id BIGSERIAL PRIMARY KEY,
    -- NULL for actions taken by the system or from the command line.
    moderator_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    report_id BIGINT REFERENCES reports (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    affected_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    -- What it was done to: a URL (content, actor), a domain, a username, a rule number.
    target TEXT NOT NULL DEFAULT '',
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    comment_id BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    rule_ids BIGINT[] NOT NULL DEFAULT '{}',
    -- Shown to the author (the "why"); never the internal note.
    statement TEXT NOT NULL DEFAULT '',
    -- Moderators only.
    note TEXT NOT NULL DEFAULT '',
    details JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When the author dismissed the notice shown on their next visit.
    acknowledged_at TIMESTAMPTZ,
    -- When the action was undone (unhide, lifted suspension, appeal granted), and by whom.
    reverted_at TIMESTAMPTZ,
    reverted_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL
);
CREATE INDEX moderation_actions_log ON moderation_actions (created_at DESC, id DESC);
CREATE INDEX moderation_actions_affected ON moderation_actions (affected_actor_id, created_at DESC);
CREATE INDEX moderation_actions_report ON moderation_actions (report_id) WHERE report_id IS NOT NULL;

CREATE TABLE report_notes (
    id BIGSERIAL PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    author_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX report_notes_by_report ON report_notes (report_id, created_at);

-- One appeal per decision.
CREATE TABLE appeals (
    id BIGSERIAL PRIMARY KEY,
    action_id BIGINT NOT NULL UNIQUE REFERENCES moderation_actions (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'granted', 'rejected')),
    decided_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    decided_at TIMESTAMPTZ,
    decision_text TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX appeals_open ON appeals (created_at) WHERE state = 'open';

-- Hidden by a moderator: not public, still shown to its author with the notice; reversible.
ALTER TABLE posts ADD COLUMN hidden_at TIMESTAMPTZ;
ALTER TABLE comments ADD COLUMN hidden_at TIMESTAMPTZ;
-- A remote actor blocked by the moderators: its activities are refused, its content hidden.
ALTER TABLE actors ADD COLUMN blocked_at TIMESTAMPTZ;

ALTER TABLE notifications ADD COLUMN report_id BIGINT REFERENCES reports (id) ON DELETE CASCADE;
ALTER TABLE notifications ADD COLUMN moderation_action_id BIGINT
    REFERENCES moderation_actions (id) ON DELETE CASCADE;
CREATE INDEX notifications_report ON notifications (report_id) WHERE report_id IS NOT NULL;
CREATE INDEX notifications_moderation_action ON notifications (moderation_action_id)
    WHERE moderation_action_id IS NOT NULL;
