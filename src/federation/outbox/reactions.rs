//! Likes and boosts: `Like` to the object's author, `Announce` also to the booster's
//! followers; `Undo` of either to the inboxes the original reached.

use super::{Outgoing, with_context};
use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::AppResult,
    federation::{
        activities::{announce::Announce, like::Like, new_activity_id, undo::Undo},
        delivery::followers_inboxes,
        forum,
    },
    service::reactions::ReactionKind,
};
use activitypub_federation::{kinds::activity::UndoType, traits::Actor};
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use url::Url;

/// The Like or Announce `actor` sends for `object` with the id `id`, and the inboxes it goes
/// to: a Like to the author (when remote), an Announce also to the booster's followers.
async fn outgoing(
    conn: &mut AsyncPgConnection,
    kind: ReactionKind,
    id: &Url,
    actor: &DbActor,
    object: &Url,
    author: Option<&DbActor>,
) -> AppResult<(Value, Vec<Url>)> {
    let remote_author = author.filter(|a| !a.local && a.deleted_at.is_none());
    match kind {
        ReactionKind::Like => {
            let to = author.map(|a| vec![a.ap_url.clone()]).unwrap_or_default();
            let like = Like::new(id.clone(), actor, object, to);
            let inboxes = remote_author.map(|a| vec![a.inbox()]).unwrap_or_default();
            Ok((serde_json::to_value(like)?, inboxes))
        }
        ReactionKind::Announce => {
            let announce = Announce::new(id.clone(), actor, object, author)?;
            let mut inboxes = followers_inboxes(conn, actor.id).await?;
            if let Some(author) = remote_author {
                inboxes.push(author.inbox());
            }
            Ok((serde_json::to_value(announce)?, inboxes))
        }
    }
}

pub(super) async fn react(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    kind: ReactionKind,
    id: Url,
    actor: &DbActor,
    object: &Url,
    author: Option<&DbActor>,
) -> AppResult<()> {
    let (activity, inboxes) = outgoing(conn, kind, &id, actor, object, author).await?;
    // A like in the forum is also announced by the category (FEP-1b12).
    if kind == ReactionKind::Like {
        forum::outbox::announce_if_in_category(ctx, conn, object.as_str(), &activity).await?;
    }
    Outgoing {
        id,
        kind: kind.activity_type(),
        actor,
        object_ap_id: object.to_string(),
        json: with_context(activity)?,
        public: kind == ReactionKind::Announce,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// `Undo` of the reaction whose activity was `original_id`.
pub(super) async fn undo(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    kind: ReactionKind,
    original_id: Url,
    actor: &DbActor,
    object: &Url,
    author: Option<&DbActor>,
) -> AppResult<()> {
    let (original, inboxes) = outgoing(conn, kind, &original_id, actor, object, author).await?;
    let to = original
        .get("to")
        .cloned()
        .and_then(|v| serde_json::from_value::<Vec<Url>>(v).ok())
        .unwrap_or_default();
    let id = new_activity_id(ctx)?;
    let undo = Undo {
        kind: UndoType::Undo,
        id: id.clone(),
        actor: actor.ap_url.clone().into(),
        object: original,
        to,
    };
    if kind == ReactionKind::Like {
        forum::outbox::announce_if_in_category(
            ctx,
            conn,
            object.as_str(),
            &serde_json::to_value(&undo)?,
        )
        .await?;
    }
    Outgoing {
        id,
        kind: "Undo",
        actor,
        object_ap_id: original_id.to_string(),
        json: with_context(undo)?,
        public: kind == ReactionKind::Announce,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}
