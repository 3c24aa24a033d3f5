//! The announcement channel (`/users/annonces`, a `Service`): it boosts every new public local
//! announcement — `Announce` to as:Public, cc its followers and the author — so a fediverse
//! account that follows it sees each one; and withdraws the boost (`Undo(Announce)`) when the
//! announcement is deleted. The `Delete` itself reaches the channel's followers through
//! [`channel_followers_of`], which `posts` adds to the audience of `Update` and `Delete`:
//! Mastodon removes its copy of a status, and every boost of it, on that `Delete`.

use super::{Outgoing, with_context};
use crate::{
    context::AppContext,
    db::{self, actors::DbActor, posts::DbPost},
    error::{AppError, AppResult},
    federation::{
        activities::{announce::Announce, new_activity_id, undo::Undo},
        delivery::followers_inboxes,
    },
    service::actors,
};
use activitypub_federation::kinds::activity::UndoType;
use diesel_async::AsyncPgConnection;
use url::Url;

pub(super) const ANNOUNCE: &str = "Announce";

async fn channel(ctx: &AppContext, conn: &mut AsyncPgConnection) -> AppResult<DbActor> {
    actors::channel(ctx, conn)
        .await?
        .ok_or_else(|| AppError::internal("the announcement channel is missing"))
}

/// The channel boosts `post` (a local announcement that just became public).
pub(super) async fn boost(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
) -> AppResult<()> {
    let channel = channel(ctx, conn).await?;
    let author = db::actors::by_id(conn, post.author_actor_id).await?;
    let id = new_activity_id(ctx)?;
    let announce = Announce::new(
        id.clone(),
        &channel,
        &Url::parse(&post.ap_id)?,
        Some(&author),
    )?;
    let inboxes = followers_inboxes(conn, channel.id).await?;
    Outgoing {
        id,
        kind: ANNOUNCE,
        actor: &channel,
        object_ap_id: post.ap_id.clone(),
        json: with_context(announce)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// The channel withdraws its boost of `post` (deleted): see [`undo_announce`].
pub(super) async fn withdraw(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
) -> AppResult<()> {
    let channel = channel(ctx, conn).await?;
    undo_announce(ctx, conn, &channel, &post.ap_id, true).await
}

/// `booster` withdraws its latest `Announce` of `object_ap_id`: `Undo` of the stored
/// activity, to its followers. Nothing when it never announced it. `listed`: whether the
/// `Undo` may show in the booster's outbox (it names the object).
pub(super) async fn undo_announce(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    booster: &DbActor,
    object_ap_id: &str,
    listed: bool,
) -> AppResult<()> {
    let Some(boost) =
        db::activities::latest_by_actor_about(conn, booster.id, ANNOUNCE, object_ap_id).await?
    else {
        return Ok(());
    };
    let mut original = boost.data;
    let to = original
        .get("to")
        .cloned()
        .and_then(|v| serde_json::from_value::<Vec<Url>>(v).ok())
        .unwrap_or_default();
    if let Some(map) = original.as_object_mut() {
        map.remove("@context");
    }
    let id = new_activity_id(ctx)?;
    let undo = Undo {
        kind: UndoType::Undo,
        id: id.clone(),
        actor: booster.ap_url.clone().into(),
        object: original,
        to,
    };
    let inboxes = followers_inboxes(conn, booster.id).await?;
    Outgoing {
        id,
        kind: "Undo",
        actor: booster,
        object_ap_id: boost.ap_id,
        json: with_context(undo)?,
        public: listed,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// The inboxes of the channel's followers when the channel boosted `post` (they hold a copy
/// and must hear of its edits and deletion), else none.
pub(super) async fn channel_followers_of(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
) -> AppResult<Vec<Url>> {
    if !post.local || !post.is_announcement() {
        return Ok(Vec::new());
    }
    let Some(channel) = actors::channel(ctx, conn).await? else {
        return Ok(Vec::new());
    };
    let boosted = db::activities::latest_by_actor_about(conn, channel.id, ANNOUNCE, &post.ap_id)
        .await?
        .is_some();
    if !boosted {
        return Ok(Vec::new());
    }
    followers_inboxes(conn, channel.id).await
}
