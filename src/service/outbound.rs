//! The one outbound path. A domain function that changes something other servers must hear
//! about records an [`OutboundEvent`] — what happened, to what, for whom — through
//! [`record`], inside the transaction that wrote its rows. The [`Outbox`] behind
//! `AppContext::outbox` (implemented by `federation`) turns the event into the activity, its
//! audience and its `deliveries` rows in that same transaction (a transactional outbox): the
//! rows and their federation commit or roll back together, and `service` never builds
//! ActivityStreams JSON nor imports `federation`.
//!
//! A new feature that federates adds a variant here and its translation in `federation`, not
//! a new path.

use crate::{
    context::AppContext,
    db::{
        actors::DbActor,
        comments::DbComment,
        forum::DbCategory,
        posts::DbPost,
        reports::{DbReport, DbReportTarget},
        resources::DbResource,
        workspace_documents::{DbWorkspaceDocument, DbWorkspaceDocumentVersion},
        workspace_meetings::DbWorkspaceMeeting,
        workspace_messages::DbWorkspaceMessage,
        workspaces::{DbWorkspace, DbWorkspaceInvitation},
    },
    error::AppResult,
    service::{mentions::Mention, reactions::ReactionKind},
};
use diesel_async::AsyncPgConnection;
use url::Url;

/// Something other servers must be told about. Rows are given as they are after the change
/// (a deleted post has its `deleted_at` set).
#[derive(Debug, Clone)]
pub enum OutboundEvent {
    /// A post or announcement became public (published at once, or a draft published):
    /// `Create` to its author's followers and the actors it mentions.
    PostPublished {
        post: Box<DbPost>,
        author: Box<DbActor>,
    },
    /// A local announcement became public (published at once, or a draft published): the
    /// announcement channel (`service::actors::CHANNEL_USERNAME`) boosts it — `Announce` to
    /// as:Public and the channel's followers. Recorded after its `PostPublished`.
    ChannelBoosted { post: Box<DbPost> },
    /// An announcement the channel boosted was deleted: the channel withdraws its boost
    /// (`Undo(Announce)` to its followers). Recorded after its `PostDeleted`, whose `Delete`
    /// already reaches the channel's followers too.
    ChannelBoostWithdrawn { post: Box<DbPost> },
    /// A published post or announcement was edited: `Update`, same audience.
    PostUpdated {
        post: Box<DbPost>,
        author: Box<DbActor>,
    },
    /// A published post or announcement was deleted: `Delete` of a Tombstone, same audience.
    PostDeleted {
        post: Box<DbPost>,
        author: Box<DbActor>,
    },
    /// A member commented: `Create(Note)` to the parent's and root's authors, the followers
    /// and the mentioned actors.
    CommentCreated {
        comment: Box<DbComment>,
        author: Box<DbActor>,
    },
    /// A member edited a comment: `Update(Note)`, also to those the previous version
    /// mentioned (they hold a copy).
    CommentUpdated {
        comment: Box<DbComment>,
        author: Box<DbActor>,
        previously_mentioned: Vec<Mention>,
    },
    /// A local comment was deleted (by its author or a moderator): `Delete` of a Tombstone,
    /// signed by its author.
    CommentDeleted {
        comment: Box<DbComment>,
        author: Box<DbActor>,
    },
    /// A member liked or boosted `object`. `activity_id` is already stored with the reaction
    /// (the later `Undo` names it). `object_author`: its author, when known.
    Reacted {
        kind: ReactionKind,
        activity_id: Url,
        actor: Box<DbActor>,
        object: Url,
        object_author: Option<Box<DbActor>>,
    },
    /// A member withdrew the like or boost whose activity was `activity_id`: `Undo` of it, to
    /// the inboxes the original reached.
    ReactionWithdrawn {
        kind: ReactionKind,
        activity_id: Url,
        actor: Box<DbActor>,
        object: Url,
        object_author: Option<Box<DbActor>>,
    },
    /// A member asked to follow a remote actor; `follow_id` is stored with the follow row.
    FollowRequested {
        follow_id: Url,
        follower: Box<DbActor>,
        target: Box<DbActor>,
    },
    /// A member stopped following a remote actor (or withdrew the request): `Undo(Follow)`.
    Unfollowed {
        follow_id: Url,
        follower: Box<DbActor>,
        target: Box<DbActor>,
    },
    /// A local actor accepted a remote actor's `Follow` (whose id is `follow_id`).
    FollowAccepted {
        follow_id: Url,
        follower: Box<DbActor>,
        target: Box<DbActor>,
    },
    /// A local actor refused a remote actor's `Follow`.
    FollowRejected {
        follow_id: Url,
        follower: Box<DbActor>,
        target: Box<DbActor>,
    },
    /// A local actor's profile changed (its row is already updated): `Update` of the actor
    /// to its followers.
    ProfileUpdated { actor: Box<DbActor> },
    /// A moderator forwarded a report about remote content: a `Flag` from the instance actor
    /// (never naming the local reporter) to the reported account's server, `object` = [the
    /// account, the reported objects…], the reason and comment in `content`.
    ReportForwarded {
        report: Box<DbReport>,
        targets: Vec<DbReportTarget>,
    },
    /// A report another server sent us was resolved and the moderator chose to tell it: the
    /// outcome goes back to the server that sent the `Flag`.
    ReportOutcomeSent { report: Box<DbReport> },
    /// A local account was suspended: `Delete` of its actor to every server that knows it.
    AccountSuspended { actor: Box<DbActor> },
    /// A venue was deleted (by its managers or a moderator): `Delete` of its actor to every
    /// server that knows it.
    VenueDeleted { actor: Box<DbActor> },
    /// A suspension was lifted: `Update` of the actor, so servers that kept it show it again.
    AccountRestored { actor: Box<DbActor> },

    // --- Resources of the library. Only public ones are ever recorded: a members-only
    // resource produces no activity at all.
    /// A resource became public (published public, or turned public): the département page
    /// (`instance.page_actor`) announces it — `Announce` to as:Public and its followers.
    ResourcePublished {
        resource: Box<DbResource>,
        author: Box<DbActor>,
    },
    /// A public resource was edited or got a new version: `Update` of its `Article`, by its
    /// author, to those who received the page's `Announce`.
    ResourceUpdated {
        resource: Box<DbResource>,
        author: Box<DbActor>,
    },
    /// A public resource stopped being public (deleted, hidden by the moderators, turned
    /// members-only): `Delete` of its `Article` by its author and `Undo(Announce)` by the page,
    /// to those who received the `Announce`.
    ResourceWithdrawn {
        resource: Box<DbResource>,
        author: Box<DbActor>,
    },

    // --- Workspaces (issue 12). Their content goes to the personal inboxes of the remote
    // members only (never as:Public, never a followers collection, never a shared inbox):
    // for a workspace of ours, to its remote members; for a remote workspace one of our
    // members belongs to, to the workspace's own inbox, which relays it.
    /// A workspace of ours invited a remote actor (`invitation.actor_id`): `Invite` from the
    /// workspace, `ap_id` stored on the invitation.
    WorkspaceInvited {
        workspace: Box<DbWorkspace>,
        invitation: Box<DbWorkspaceInvitation>,
        invitee: Box<DbActor>,
    },
    /// A workspace of ours withdrew its invitation of a remote actor: `Undo(Invite)` to
    /// that actor's personal inbox.
    WorkspaceInvitationWithdrawn {
        workspace: Box<DbWorkspace>,
        invitation: Box<DbWorkspaceInvitation>,
        invitee: Box<DbActor>,
    },
    /// Our member answered the invitation of a remote workspace: `Accept` or `Reject` of
    /// the `Invite`, to the workspace.
    WorkspaceInvitationAnswered {
        workspace: Box<DbWorkspace>,
        invitation: Box<DbWorkspaceInvitation>,
        member: Box<DbActor>,
        accepted: bool,
    },
    /// Our member left a remote workspace: `Leave` to the workspace.
    WorkspaceLeft {
        workspace: Box<DbWorkspace>,
        member: Box<DbActor>,
    },
    /// A workspace of ours removed a remote member: `Remove` to that member (the last thing
    /// they receive from it).
    WorkspaceMemberRemoved {
        workspace: Box<DbWorkspace>,
        member: Box<DbActor>,
    },
    /// A workspace of ours changed (name, description, archive, roles): `Update` of the
    /// `Group` to its remote members.
    WorkspaceUpdated { workspace: Box<DbWorkspace> },
    /// A chat message was posted (`Create(Note)`), edited (`Update`) or deleted (`Delete`).
    /// Recorded for our members' messages, and by a workspace of ours for a remote member's
    /// message it relays to the other remote members.
    WorkspaceMessagePosted {
        workspace: Box<DbWorkspace>,
        message: Box<DbWorkspaceMessage>,
        author: Box<DbActor>,
    },
    WorkspaceMessageEdited {
        workspace: Box<DbWorkspace>,
        message: Box<DbWorkspaceMessage>,
        author: Box<DbActor>,
    },
    WorkspaceMessageDeleted {
        workspace: Box<DbWorkspace>,
        message: Box<DbWorkspaceMessage>,
        author: Box<DbActor>,
    },
    /// A document version was uploaded to a workspace of ours: `Create(Document)` whose
    /// `url` needs a signed fetch by a member.
    WorkspaceDocumentAdded {
        workspace: Box<DbWorkspace>,
        document: Box<DbWorkspaceDocument>,
        version: Box<DbWorkspaceDocumentVersion>,
        uploader: Box<DbActor>,
    },
    /// A document of a workspace of ours was deleted: `Delete` of the `Document`.
    WorkspaceDocumentDeleted {
        workspace: Box<DbWorkspace>,
        document: Box<DbWorkspaceDocument>,
        actor: Box<DbActor>,
    },
    /// A meeting of a workspace of ours was scheduled (`Create(Event)`), changed or had its
    /// minutes written (`Update(Event)`), or was cancelled (`Delete`).
    WorkspaceMeetingScheduled {
        workspace: Box<DbWorkspace>,
        meeting: Box<DbWorkspaceMeeting>,
        organizer: Box<DbActor>,
    },
    WorkspaceMeetingUpdated {
        workspace: Box<DbWorkspace>,
        meeting: Box<DbWorkspaceMeeting>,
        actor: Box<DbActor>,
    },
    WorkspaceMeetingCancelled {
        workspace: Box<DbWorkspace>,
        meeting: Box<DbWorkspaceMeeting>,
        actor: Box<DbActor>,
    },
    // --- Forum (issue 13). A thread is a post of category `thread` and its replies are
    // comments: `PostPublished`/`PostUpdated`/`PostDeleted` and `Comment*` of a thread are
    // sent by `federation` through its category (FEP-1b12: the category's `Group` wraps them
    // in `Announce` to its followers). The variants below are the forum's own.
    /// A moderator locked or unlocked a thread: `Lock`/`Undo(Lock)` of the `Page`, announced
    /// by the category.
    ThreadLocked {
        post: Box<DbPost>,
        category: Box<DbCategory>,
        moderator: Box<DbActor>,
        locked: bool,
    },
    /// A moderator pinned or unpinned a thread: `Add`/`Remove` of the `Page` to the
    /// category's `featured` collection, announced by the category.
    ThreadPinned {
        post: Box<DbPost>,
        category: Box<DbCategory>,
        moderator: Box<DbActor>,
        pinned: bool,
    },
    /// A moderator moved a thread to another category: the new category announces it to
    /// its followers (`Announce` of an `Update` naming the new `audience`).
    ThreadMoved {
        post: Box<DbPost>,
        from: Box<DbCategory>,
        to: Box<DbCategory>,
        moderator: Box<DbActor>,
    },
    /// Another server's activity about one of our categories was accepted and applied (a
    /// thread, a reply, an edit, a deletion, a like or its undoing): the category relays it
    /// to its followers (`Announce` of the activity, FEP-1b12). `activity_id` is the received
    /// activity's id, `object_ap_id` what it acted on.
    ForumRelayed {
        category: Box<DbCategory>,
        kind: ForumRelayKind,
        activity_id: String,
        actor: Box<DbActor>,
        object_ap_id: String,
    },
}

/// What a relayed activity of the forum did (see [`OutboundEvent::ForumRelayed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForumRelayKind {
    Create,
    Update,
    Delete,
    Like,
    UndoLike,
}

/// Turns outbound events into activities and deliveries. Implemented by `federation`;
/// reached through `AppContext::outbox`.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Stores the activity the event stands for and one delivery per remote inbox of its
    /// audience, on `conn` — the caller's transaction.
    async fn record(
        &self,
        ctx: &AppContext,
        conn: &mut AsyncPgConnection,
        event: OutboundEvent,
    ) -> AppResult<()>;
}

/// Records `event` in the caller's transaction (see the module documentation).
pub async fn record(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    event: OutboundEvent,
) -> AppResult<()> {
    ctx.outbox.record(ctx, conn, event).await
}

/// A fresh id for an activity of ours. Domain functions take one when a row must name the
/// activity before it is built (a reaction, a follow: the later `Undo` refers to it).
pub fn new_activity_id(ctx: &AppContext) -> AppResult<Url> {
    Ok(Url::parse(&ctx.urls.activity(&uuid::Uuid::new_v4()))?)
}
