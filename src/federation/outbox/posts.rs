//! Posts and announcements: `Create`/`Update` of the Article (post) or Note (announcement),
//! `Delete` of a Tombstone; to the author's followers and the remote actors it mentions (and,
//! for `Update` and `Delete` of an announcement the channel boosted, the channel's followers).

use super::{Outgoing, channel::channel_followers_of, with_context};
use crate::{
    context::AppContext,
    db::{self, actors::DbActor, posts::DbPost},
    error::{AppError, AppResult},
    federation::{
        activities::{
            create_or_update::{CreateOrUpdate, CreateOrUpdateType},
            delete::Delete,
            new_activity_id,
        },
        delivery::followers_inboxes,
        forum,
        objects::{
            article::{article, audience_of, tombstone},
            note::note,
        },
    },
    service::{mentions, reactions::Counts},
};
use activitypub_federation::{fetch::object_id::ObjectId, kinds::activity::DeleteType};
use diesel_async::AsyncPgConnection;
use url::Url;

/// The federated form of a post (Article) or announcement (Note), with its likes and boosts
/// `counts` (see [`crate::service::reactions::counts_of`]).
pub fn object_json(
    ctx: &AppContext,
    post: &DbPost,
    author: &DbActor,
    counts: Counts,
) -> AppResult<serde_json::Value> {
    let value = if post.is_announcement() {
        serde_json::to_value(note(ctx, post, author, counts)?)
    } else {
        serde_json::to_value(article(ctx, post, author, counts)?)
    };
    value.map_err(|e| AppError::internal(format!("serialise object: {e}")))
}

/// The inboxes of the actors a post mentions, other than our own (shared inbox when they
/// have one).
async fn mentioned_inboxes(conn: &mut AsyncPgConnection, post: &DbPost) -> AppResult<Vec<Url>> {
    let mut inboxes = Vec::new();
    for mention in mentions::stored(post) {
        let Some(actor) = db::actors::by_ap_id(conn, &mention.href).await? else {
            continue;
        };
        if actor.local || actor.deleted_at.is_some() {
            continue;
        }
        if let Ok(url) = Url::parse(actor.shared_inbox_url.as_ref().unwrap_or(&actor.inbox_url)) {
            inboxes.push(url);
        }
    }
    Ok(inboxes)
}

/// The followers' inboxes and the mentioned actors' ones, each once.
async fn audience_inboxes(
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    author: &DbActor,
) -> AppResult<Vec<Url>> {
    let mut inboxes = followers_inboxes(conn, author.id).await?;
    for url in mentioned_inboxes(conn, post).await? {
        if !inboxes.contains(&url) {
            inboxes.push(url);
        }
    }
    Ok(inboxes)
}

/// `Create` or `Update` of `post` to its author's followers and to the actors it mentions.
pub(super) async fn create_or_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    kind: CreateOrUpdateType,
    post: &DbPost,
    author: &DbActor,
) -> AppResult<()> {
    // A forum thread is said in its category (FEP-1b12), not on its author's blog.
    if forum::outbox::is_thread(post) {
        return forum::outbox::thread_create_or_update(ctx, conn, kind, post, author).await;
    }
    let (to, cc) = audience_of(author, post)?;
    let id = new_activity_id(ctx)?;
    let counts = crate::service::reactions::counts_of(conn, &post.ap_id).await?;
    let activity = CreateOrUpdate::new(
        kind,
        id.clone(),
        Url::parse(&author.ap_id)?,
        object_json(ctx, post, author, counts)?,
        to,
        cc,
    );
    let mut inboxes = audience_inboxes(conn, post, author).await?;
    if kind == CreateOrUpdateType::Update {
        inboxes.extend(channel_followers_of(ctx, conn, post).await?);
    }
    Outgoing {
        id,
        kind: kind.as_str(),
        actor: author,
        object_ap_id: post.ap_id.clone(),
        json: with_context(activity)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// `Delete` of a Tombstone, to the same audience.
pub(super) async fn delete(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    author: &DbActor,
) -> AppResult<()> {
    if forum::outbox::is_thread(post) {
        return forum::outbox::thread_delete(ctx, conn, post, author).await;
    }
    let (to, cc) = audience_of(author, post)?;
    let id = new_activity_id(ctx)?;
    let activity = Delete {
        kind: DeleteType::Delete,
        id: id.clone(),
        actor: ObjectId::from(Url::parse(&author.ap_id)?),
        object: tombstone(post),
        to,
        cc,
    };
    let mut inboxes = audience_inboxes(conn, post, author).await?;
    inboxes.extend(channel_followers_of(ctx, conn, post).await?);
    Outgoing {
        id,
        kind: "Delete",
        actor: author,
        object_ap_id: post.ap_id.clone(),
        json: with_context(activity)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}
