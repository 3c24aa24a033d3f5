//! `federation`'s side of [`crate::service::outbound::Outbox`]: each [`OutboundEvent`] becomes
//! its activity (JSON-LD), its audience and its `deliveries` rows, written on the caller's
//! connection — inside the domain function's transaction. One module per capability.

mod channel;
mod comments;
mod follows;
mod moderation;
mod posts;
mod reactions;
mod resources;

pub use posts::object_json;
pub use resources::resource_document;

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{
        activities::create_or_update::CreateOrUpdateType,
        delivery::{OutgoingActivity, enqueue},
        workspaces,
    },
    service::outbound::{OutboundEvent, Outbox},
};
use activitypub_federation::protocol::context::WithContext;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use url::Url;

/// The outbox plugged into every running context.
#[derive(Debug, Clone, Copy, Default)]
pub struct FederationOutbox;

#[async_trait::async_trait]
impl Outbox for FederationOutbox {
    async fn record(
        &self,
        ctx: &AppContext,
        conn: &mut AsyncPgConnection,
        event: OutboundEvent,
    ) -> AppResult<()> {
        match event {
            OutboundEvent::PostPublished { post, author } => {
                posts::create_or_update(ctx, conn, CreateOrUpdateType::Create, &post, &author).await
            }
            OutboundEvent::PostUpdated { post, author } => {
                posts::create_or_update(ctx, conn, CreateOrUpdateType::Update, &post, &author).await
            }
            OutboundEvent::PostDeleted { post, author } => {
                posts::delete(ctx, conn, &post, &author).await
            }
            OutboundEvent::ChannelBoosted { post } => channel::boost(ctx, conn, &post).await,
            OutboundEvent::ChannelBoostWithdrawn { post } => {
                channel::withdraw(ctx, conn, &post).await
            }
            OutboundEvent::CommentCreated { comment, author } => {
                comments::create_or_update(
                    ctx,
                    conn,
                    CreateOrUpdateType::Create,
                    &comment,
                    &author,
                    &[],
                )
                .await
            }
            OutboundEvent::CommentUpdated {
                comment,
                author,
                previously_mentioned,
            } => {
                comments::create_or_update(
                    ctx,
                    conn,
                    CreateOrUpdateType::Update,
                    &comment,
                    &author,
                    &previously_mentioned,
                )
                .await
            }
            OutboundEvent::CommentDeleted { comment, author } => {
                comments::delete(ctx, conn, &comment, &author).await
            }
            OutboundEvent::Reacted {
                kind,
                activity_id,
                actor,
                object,
                object_author,
            } => {
                reactions::react(
                    ctx,
                    conn,
                    kind,
                    activity_id,
                    &actor,
                    &object,
                    object_author.as_deref(),
                )
                .await
            }
            OutboundEvent::ReactionWithdrawn {
                kind,
                activity_id,
                actor,
                object,
                object_author,
            } => {
                reactions::undo(
                    ctx,
                    conn,
                    kind,
                    activity_id,
                    &actor,
                    &object,
                    object_author.as_deref(),
                )
                .await
            }
            OutboundEvent::FollowRequested {
                follow_id,
                follower,
                target,
            } => follows::follow(ctx, conn, follow_id, &follower, &target).await,
            OutboundEvent::Unfollowed {
                follow_id,
                follower,
                target,
            } => follows::unfollow(ctx, conn, follow_id, &follower, &target).await,
            OutboundEvent::FollowAccepted {
                follow_id,
                follower,
                target,
            } => follows::answer(ctx, conn, true, follow_id, &follower, &target).await,
            OutboundEvent::FollowRejected {
                follow_id,
                follower,
                target,
            } => follows::answer(ctx, conn, false, follow_id, &follower, &target).await,
            OutboundEvent::ProfileUpdated { actor } => {
                follows::profile_update(ctx, conn, &actor).await
            }
            OutboundEvent::ReportForwarded { report, targets } => {
                moderation::forward(ctx, conn, &report, &targets).await
            }
            OutboundEvent::ReportOutcomeSent { report } => {
                moderation::outcome(ctx, conn, &report).await
            }
            OutboundEvent::AccountSuspended { actor } | OutboundEvent::VenueDeleted { actor } => {
                moderation::actor_deleted(ctx, conn, &actor).await
            }
            OutboundEvent::AccountRestored { actor } => {
                moderation::actor_restored(ctx, conn, &actor).await
            }
            OutboundEvent::ResourcePublished { resource, author } => {
                resources::publish(ctx, conn, &resource, &author).await
            }
            OutboundEvent::ResourceUpdated { resource, author } => {
                resources::update(ctx, conn, &resource, &author).await
            }
            OutboundEvent::ResourceWithdrawn { resource, author } => {
                resources::withdraw(ctx, conn, &resource, &author).await
            }
            event @ (OutboundEvent::WorkspaceInvited { .. }
            | OutboundEvent::WorkspaceInvitationWithdrawn { .. }
            | OutboundEvent::WorkspaceInvitationAnswered { .. }
            | OutboundEvent::WorkspaceLeft { .. }
            | OutboundEvent::WorkspaceMemberRemoved { .. }
            | OutboundEvent::WorkspaceUpdated { .. }) => {
                workspaces::membership::record(ctx, conn, event).await
            }
            event @ (OutboundEvent::WorkspaceMessagePosted { .. }
            | OutboundEvent::WorkspaceMessageEdited { .. }
            | OutboundEvent::WorkspaceMessageDeleted { .. }) => {
                workspaces::chat::record(ctx, conn, event).await
            }
            event @ (OutboundEvent::WorkspaceDocumentAdded { .. }
            | OutboundEvent::WorkspaceDocumentDeleted { .. }) => {
                workspaces::documents::record(ctx, conn, event).await
            }
            event @ (OutboundEvent::ThreadLocked { .. }
            | OutboundEvent::ThreadPinned { .. }
            | OutboundEvent::ThreadMoved { .. }
            | OutboundEvent::ForumRelayed { .. }) => {
                crate::federation::forum::record(ctx, conn, event).await
            }
            event @ (OutboundEvent::WorkspaceMeetingScheduled { .. }
            | OutboundEvent::WorkspaceMeetingUpdated { .. }
            | OutboundEvent::WorkspaceMeetingCancelled { .. }) => {
                workspaces::meetings::record(ctx, conn, event).await
            }
        }
    }
}

/// What one event comes to: an activity and the inboxes it goes to.
struct Outgoing<'a> {
    id: Url,
    kind: &'static str,
    /// The local actor that signs it.
    actor: &'a DbActor,
    object_ap_id: String,
    json: serde_json::Value,
    /// Addressed to as:Public.
    public: bool,
    inboxes: Vec<Url>,
}

impl Outgoing<'_> {
    /// Stores the activity and its deliveries (see [`enqueue`]), none to a rejected domain.
    async fn enqueue(self, ctx: &AppContext, conn: &mut AsyncPgConnection) -> AppResult<()> {
        let inboxes = ctx.blocks.without_rejected(conn, self.inboxes).await?;
        enqueue(
            conn,
            &ctx.config.domain(),
            OutgoingActivity {
                ap_id: self.id.as_str(),
                kind: self.kind,
                actor: self.actor,
                object_ap_id: Some(&self.object_ap_id),
                json: self.json,
                public: self.public,
            },
            inboxes,
        )
        .await?;
        Ok(())
    }
}

/// The activity with the default ActivityStreams `@context`.
fn with_context<T: Serialize>(activity: T) -> AppResult<serde_json::Value> {
    serde_json::to_value(WithContext::new_default(activity))
        .map_err(|e| AppError::internal(format!("serialise activity: {e}")))
}
