-- Private project workspaces (issue 12): a workspace is a `Group` actor whose content only its
-- members ever see. The same tables hold the workspaces of this server (`local`) and the
-- remote workspaces one of our members joined (their content as it was delivered to us).
-- Every id that appears in a URL is a random UUID.
CREATE TABLE workspaces (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_id BIGINT NOT NULL UNIQUE REFERENCES actors (id) ON DELETE CASCADE,
    local BOOLEAN NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
    description_markdown TEXT NOT NULL DEFAULT '' CHECK (length(description_markdown) <= 10000),
    description_html TEXT NOT NULL DEFAULT '',
    disciplines TEXT[] NOT NULL DEFAULT '{}',
    -- Where the project takes place, when given (alerts on new projects, diagnosis by EPCI).
    commune_code TEXT REFERENCES communes (code),
    -- Listed: its name and description are public (list of projects, join requests).
    listed BOOLEAN NOT NULL DEFAULT FALSE,
    created_by_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Archived: read-only for everyone, kept for its members.
    archived_at TIMESTAMPTZ
);
CREATE INDEX workspaces_listed ON workspaces (created_at DESC) WHERE listed AND local;

-- Members, local or remote actors. Leaving or being removed deletes the row: nothing is
-- delivered to an actor without one.
CREATE TABLE workspace_members (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'coordinator', 'member')),
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Unread counter of the chat: the last message seen (workspace_messages.seq).
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, actor_id)
);
CREATE INDEX workspace_members_actor ON workspace_members (actor_id);
-- One owner per workspace of ours (remote workspaces list only our members).
CREATE UNIQUE INDEX workspace_members_one_owner ON workspace_members (workspace_id)
    WHERE role = 'owner';

-- Invitations: to an actor (a local member by username, a remote one by handle) or to an
-- e-mail address (the link signs the person up). Also the invitations our members received
-- from remote workspaces (`ap_id` is then the remote `Invite`).
CREATE TABLE workspace_invitations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    invited_by_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    actor_id BIGINT REFERENCES actors (id) ON DELETE CASCADE,
    email TEXT CHECK (email IS NULL OR length(email) <= 254),
    -- SHA-256 of the secret of the mailed link (e-mail invitations).
    token_hash TEXT UNIQUE,
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('coordinator', 'member')),
    message TEXT NOT NULL DEFAULT '' CHECK (length(message) <= 2000),
    -- The `Invite` activity (sent by us, or received).
    ap_id TEXT UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn', 'expired')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL DEFAULT now() + interval '30 days',
    answered_at TIMESTAMPTZ,
    CHECK ((actor_id IS NULL) <> (email IS NULL))
);
CREATE UNIQUE INDEX workspace_invitations_pending_actor
    ON workspace_invitations (workspace_id, actor_id) WHERE status = 'pending' AND actor_id IS NOT NULL;
CREATE UNIQUE INDEX workspace_invitations_pending_email
    ON workspace_invitations (workspace_id, lower(email)) WHERE status = 'pending' AND email IS NOT NULL;
CREATE INDEX workspace_invitations_actor ON workspace_invitations (actor_id) WHERE actor_id IS NOT NULL;

-- Requests to join a listed workspace.
CREATE TABLE workspace_join_requests (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    message TEXT NOT NULL DEFAULT '' CHECK (length(message) <= 2000),
    -- A remote `Join`, when it came by federation.
    ap_id TEXT UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    answered_at TIMESTAMPTZ,
    answered_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX workspace_join_requests_pending
    ON workspace_join_requests (workspace_id, actor_id) WHERE status = 'pending';

-- Chat messages (private `Note`s).
CREATE TABLE workspace_messages (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Order of the conversation and unread counters.
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    author_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    ap_id TEXT NOT NULL UNIQUE,
    body_markdown TEXT NOT NULL CHECK (length(body_markdown) <= 10000),
    body_html TEXT NOT NULL,
    in_reply_to_id UUID REFERENCES workspace_messages (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at TIMESTAMPTZ,
    deleted_at TIMESTAMPTZ
);
CREATE INDEX workspace_messages_page ON workspace_messages (workspace_id, seq DESC);

CREATE TABLE workspace_message_mentions (
    message_id UUID NOT NULL REFERENCES workspace_messages (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, actor_id)
);

-- Documents: folders, documents (a name in a folder) and their versions (every upload of the
-- same name adds one).
CREATE TABLE workspace_folders (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    parent_id UUID REFERENCES workspace_folders (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (workspace_id, parent_id, name)
);

CREATE TABLE workspace_documents (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    folder_id UUID REFERENCES workspace_folders (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    ap_id TEXT NOT NULL UNIQUE,
    created_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX workspace_documents_name
    ON workspace_documents (workspace_id, folder_id, lower(name)) NULLS NOT DISTINCT
    WHERE deleted_at IS NULL;

CREATE TABLE workspace_document_versions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id UUID NOT NULL REFERENCES workspace_documents (id) ON DELETE CASCADE,
    version INTEGER NOT NULL CHECK (version >= 1),
    ap_id TEXT NOT NULL UNIQUE,
    uploaded_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    -- Where the bytes are: a key in the configured store (ours), or the URL a remote
    -- workspace serves them at (fetched signed by the member).
    storage_key TEXT,
    remote_url TEXT,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (document_id, version),
    CHECK ((storage_key IS NULL) <> (remote_url IS NULL))
);

-- Online meetings (private `Event`s).
CREATE TABLE workspace_meetings (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ap_id TEXT NOT NULL UNIQUE,
    organizer_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    agenda_markdown TEXT NOT NULL DEFAULT '' CHECK (length(agenda_markdown) <= 10000),
    agenda_html TEXT NOT NULL DEFAULT '',
    starts_at TIMESTAMPTZ NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    -- The unguessable room name, and the full link (built from meetings.video_base_url, or as
    -- a remote workspace sent it).
    room_name TEXT,
    video_url TEXT,
    -- Minutes, written after the meeting.
    notes_markdown TEXT NOT NULL DEFAULT '' CHECK (length(notes_markdown) <= 50000),
    notes_html TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    cancelled_at TIMESTAMPTZ
);
CREATE INDEX workspace_meetings_start ON workspace_meetings (workspace_id, starts_at);

CREATE TABLE workspace_meeting_attendees (
    meeting_id UUID NOT NULL REFERENCES workspace_meetings (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, actor_id)
);
CREATE INDEX workspace_meeting_attendees_actor ON workspace_meeting_attendees (actor_id);

-- The secret of each member's personal calendar feed (SHA-256; the URL carries the secret).
CREATE TABLE calendar_feeds (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What a notification is about, for the workspace events.
ALTER TABLE notifications
    ADD COLUMN workspace_id UUID REFERENCES workspaces (id) ON DELETE CASCADE,
    ADD COLUMN workspace_message_id UUID REFERENCES workspace_messages (id) ON DELETE CASCADE,
    ADD COLUMN workspace_document_id UUID REFERENCES workspace_documents (id) ON DELETE CASCADE,
    ADD COLUMN workspace_meeting_id UUID REFERENCES workspace_meetings (id) ON DELETE CASCADE,
    ADD COLUMN workspace_invitation_id UUID REFERENCES workspace_invitations (id) ON DELETE CASCADE;
CREATE INDEX notifications_workspace ON notifications (workspace_id) WHERE workspace_id IS NOT NULL;
