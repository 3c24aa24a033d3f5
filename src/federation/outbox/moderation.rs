//! Moderation: a forwarded report (`Flag` from the instance actor), the outcome of a report
//! sent back to the server that sent it, a suspended account's `Delete` and its restoration.

use super::{Outgoing, with_context};
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        reports::{DbReport, DbReportTarget},
    },
    error::{AppError, AppResult},
    federation::{
        activities::{delete::Delete, new_activity_id, update::Update},
        delivery::followers_inboxes,
        objects::{PUBLIC, actor_context, person::actor_document},
    },
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::DeleteType, protocol::context::WithContext,
};
use diesel_async::AsyncPgConnection;
use std::collections::HashSet;
use url::Url;

// FOUNDATION PLACEHOLDERS: each is replaced by its owner before the issue is merged.

pub(super) async fn forward(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _report: &DbReport,
    _targets: &[DbReportTarget],
) -> AppResult<()> {
    Err(AppError::internal("report forwarding is not built yet"))
}

pub(super) async fn outcome(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _report: &DbReport,
) -> AppResult<()> {
    Err(AppError::internal("report outcomes are not built yet"))
}

/// Everyone who knows the local actor: its followers' inboxes and every server it has
/// delivered to (one shared inbox per server when we know one), each once.
async fn known_audience(conn: &mut AsyncPgConnection, actor: &DbActor) -> AppResult<Vec<Url>> {
    let mut inboxes = followers_inboxes(conn, actor.id).await?;
    let mut seen: HashSet<Url> = inboxes.iter().cloned().collect();
    for inbox in db::deliveries::known_inboxes_of(conn, actor.id).await? {
        if let Ok(url) = Url::parse(&inbox)
            && seen.insert(url.clone())
        {
            inboxes.push(url);
        }
    }
    Ok(inboxes)
}

/// A suspended account: `Delete` of its actor (object = the actor's id, as Mastodon sends on
/// a suspension), signed by the actor itself (its keys stay in our database), to its
/// followers and every server it delivered to. Receivers drop the account and its follows.
pub(super) async fn actor_deleted(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: &DbActor,
) -> AppResult<()> {
    let id = new_activity_id(ctx)?;
    let mut cc = Vec::new();
    if let Some(followers) = actor.followers_url.as_deref() {
        cc.push(Url::parse(followers)?);
    }
    let activity = Delete {
        kind: DeleteType::Delete,
        id: id.clone(),
        actor: ObjectId::from(actor.ap_url.clone()),
        object: serde_json::Value::String(actor.ap_id.clone()),
        to: vec![Url::parse(PUBLIC)?],
        cc,
    };
    let inboxes = known_audience(conn, actor).await?;
    Outgoing {
        id,
        kind: "Delete",
        actor,
        object_ap_id: actor.ap_id.clone(),
        json: with_context(activity)?,
        // Not served in the outbox nor at its id: the actor is gone for the public.
        public: false,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// A lifted suspension: `Update` of the actor (its current document), to the same audience
/// as the `Delete`. A server that kept the account (or fetches it again: a signed activity
/// makes Mastodon fetch its key, and the actor answers again) shows it anew; the follows it
/// dropped on the `Delete` are not restored there.
pub(super) async fn actor_restored(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: &DbActor,
) -> AppResult<()> {
    let inboxes = known_audience(conn, actor).await?;
    let document = actor_document(actor.clone())?;
    let id = new_activity_id(ctx)?;
    let update = Update::new(id.clone(), actor, serde_json::to_value(document.inner())?)?;
    let json = serde_json::to_value(WithContext::new(update, actor_context()))
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
