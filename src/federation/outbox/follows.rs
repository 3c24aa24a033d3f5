//! Follows and profiles: `Follow`, `Undo(Follow)`, `Accept`/`Reject` of a remote Follow, and
//! `Update` of a local actor to its followers.

use super::{Outgoing, with_context};
use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{
        activities::{
            accept::Accept, follow::Follow, new_activity_id, reject::Reject, undo::Undo,
            update::Update,
        },
        delivery::followers_inboxes,
        objects::venue::local_actor_parts,
    },
};
use activitypub_federation::{protocol::context::WithContext, traits::Actor};
use diesel_async::AsyncPgConnection;
use url::Url;

/// `Follow` of a remote actor, to its inbox.
pub(super) async fn follow(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    follow_id: Url,
    follower: &DbActor,
    target: &DbActor,
) -> AppResult<()> {
    let follow = Follow::new(follow_id.clone(), follower, target);
    Outgoing {
        id: follow_id,
        kind: "Follow",
        actor: follower,
        object_ap_id: target.ap_id.clone(),
        json: with_context(follow)?,
        public: false,
        inboxes: vec![target.inbox()],
    }
    .enqueue(ctx, conn)
    .await
}

/// `Undo` of the `Follow` whose id is `follow_id`.
pub(super) async fn unfollow(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    follow_id: Url,
    follower: &DbActor,
    target: &DbActor,
) -> AppResult<()> {
    let id = new_activity_id(ctx)?;
    let object_ap_id = follow_id.to_string();
    let undo = Undo::new(
        id.clone(),
        follower,
        Follow::new(follow_id, follower, target),
    )?;
    Outgoing {
        id,
        kind: "Undo",
        actor: follower,
        object_ap_id,
        json: with_context(undo)?,
        public: false,
        inboxes: vec![target.inbox()],
    }
    .enqueue(ctx, conn)
    .await
}

/// `Accept` (or `Reject`) of the remote `follower`'s Follow of the local `target`.
pub(super) async fn answer(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    accepted: bool,
    follow_id: Url,
    follower: &DbActor,
    target: &DbActor,
) -> AppResult<()> {
    let object_ap_id = follow_id.to_string();
    let follow = Follow::new(follow_id, follower, target);
    let id = new_activity_id(ctx)?;
    let (kind, json) = if accepted {
        (
            "Accept",
            with_context(Accept::new(id.clone(), target, follower, follow)?)?,
        )
    } else {
        (
            "Reject",
            with_context(Reject::new(id.clone(), target, follower, follow)?)?,
        )
    };
    Outgoing {
        id,
        kind,
        actor: target,
        object_ap_id,
        json,
        public: false,
        inboxes: vec![follower.inbox()],
    }
    .enqueue(ctx, conn)
    .await
}

/// `Update` of a local actor's document (public), to its followers.
pub(super) async fn profile_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: &DbActor,
) -> AppResult<()> {
    let inboxes = followers_inboxes(conn, actor.id).await?;
    actor_update(ctx, conn, actor, inboxes).await
}

/// `Update` of a local actor's current document, to `inboxes` (a profile change; a lifted
/// suspension).
pub(super) async fn actor_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: &DbActor,
    inboxes: Vec<Url>,
) -> AppResult<()> {
    // A venue's document carries its place and facts.
    let (document, context) = local_actor_parts(ctx, conn, actor.clone()).await?;
    let id = new_activity_id(ctx)?;
    let update = Update::new(id.clone(), actor, serde_json::to_value(&document)?)?;
    let json = serde_json::to_value(WithContext::new(update, context))
        .map_err(|e| AppError::internal(format!("serialise Update: {e}")))?;
    Outgoing {
        id,
        kind: "Update",
        actor,
        object_ap_id: actor.ap_id.clone(),
        json,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}
