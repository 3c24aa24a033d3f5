//! Comments: `Create`/`Update` of the Note, `Delete` of a Tombstone; to the parent's author,
//! the root post's author, the followers and the mentioned actors.

use super::{Outgoing, with_context};
use crate::{
    context::AppContext,
    db::{self, actors::DbActor, comments::DbComment, posts::DbPost},
    error::{AppError, AppResult},
    federation::{
        activities::{
            create_or_update::{CreateOrUpdate, CreateOrUpdateType},
            delete::Delete,
            new_activity_id,
        },
        delivery::followers_inboxes,
        forum,
        objects::comment::{comment_audience, note, stored_mentions, tombstone},
    },
    service::{comments::find_parent, mentions::Mention},
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::DeleteType, traits::Actor,
};
use diesel_async::AsyncPgConnection;
use std::collections::HashSet;
use url::Url;

/// Where a comment's activities go: the parent's author (when remote), the root post's
/// author (when remote), the commenter's followers, when the root post is ours its author's
/// followers (the audience the post reached), and the remote actors the comment mentions
/// (shared inbox when they have one).
async fn audience_inboxes(
    conn: &mut AsyncPgConnection,
    author: &DbActor,
    parent_author: &DbActor,
    root: &DbPost,
    mentioned: &[Mention],
) -> AppResult<Vec<Url>> {
    let mut inboxes = Vec::new();
    if !parent_author.local {
        inboxes.push(parent_author.inbox());
    }
    let root_author = db::actors::by_id(conn, root.author_actor_id).await?;
    if !root_author.local && root_author.id != parent_author.id {
        inboxes.push(root_author.inbox());
    }
    inboxes.extend(followers_inboxes(conn, author.id).await?);
    if root.local && root_author.id != author.id {
        inboxes.extend(followers_inboxes(conn, root_author.id).await?);
    }
    for mention in mentioned {
        let Some(actor) = db::actors::by_ap_id(conn, &mention.href).await? else {
            continue;
        };
        if actor.local || actor.deleted_at.is_some() || actor.id == parent_author.id {
            continue;
        }
        if let Ok(url) = Url::parse(actor.shared_inbox_url.as_ref().unwrap_or(&actor.inbox_url)) {
            inboxes.push(url);
        }
    }
    let mut seen = HashSet::new();
    inboxes.retain(|u| seen.insert(u.clone()));
    Ok(inboxes)
}

/// The root post and the author of what the comment replies to.
async fn parent_of(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    comment: &DbComment,
) -> AppResult<(DbPost, DbActor)> {
    let parent = find_parent(ctx, conn, &comment.in_reply_to)
        .await?
        .ok_or_else(|| AppError::internal("the parent of a comment is missing"))?;
    let parent_author = db::actors::by_id(conn, parent.author_actor_id()).await?;
    Ok((parent.post, parent_author))
}

/// `Create` or `Update` of a local comment. `previously_mentioned`: those the previous
/// version mentioned, who hold a copy to update.
pub(super) async fn create_or_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    kind: CreateOrUpdateType,
    comment: &DbComment,
    author: &DbActor,
    previously_mentioned: &[Mention],
) -> AppResult<()> {
    // A reply in a forum thread is said in the thread's category (FEP-1b12).
    if forum::is_thread_id(conn, comment.post_id).await? {
        return forum::outbox::reply_create_or_update(
            ctx,
            conn,
            kind,
            comment,
            author,
            previously_mentioned,
        )
        .await;
    }
    let (root, parent_author) = parent_of(ctx, conn, comment).await?;
    let mentioned = stored_mentions(comment);
    let (to, cc) = comment_audience(author, &parent_author, &mentioned)?;
    let counts = crate::service::reactions::counts_of(conn, &comment.ap_id).await?;
    let object = serde_json::to_value(note(ctx, comment, author, &parent_author, counts)?)?;
    let id = new_activity_id(ctx)?;
    let activity =
        CreateOrUpdate::new(kind, id.clone(), Url::parse(&author.ap_id)?, object, to, cc);
    let mut reached = mentioned;
    for m in previously_mentioned {
        if !reached.iter().any(|r| r.href == m.href) {
            reached.push(m.clone());
        }
    }
    let inboxes = audience_inboxes(conn, author, &parent_author, &root, &reached).await?;
    Outgoing {
        id,
        kind: kind.as_str(),
        actor: author,
        object_ap_id: comment.ap_id.clone(),
        json: with_context(activity)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// `Delete` of a local comment's Tombstone, signed by its author.
pub(super) async fn delete(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    comment: &DbComment,
    author: &DbActor,
) -> AppResult<()> {
    if forum::is_thread_id(conn, comment.post_id).await? {
        return forum::outbox::reply_delete(ctx, conn, comment, author).await;
    }
    let (root, parent_author) = parent_of(ctx, conn, comment).await?;
    let mentioned = stored_mentions(comment);
    let (to, cc) = comment_audience(author, &parent_author, &mentioned)?;
    let id = new_activity_id(ctx)?;
    let activity = Delete {
        kind: DeleteType::Delete,
        id: id.clone(),
        actor: ObjectId::from(Url::parse(&author.ap_id)?),
        object: tombstone(comment),
        to,
        cc,
    };
    let inboxes = audience_inboxes(conn, author, &parent_author, &root, &mentioned).await?;
    Outgoing {
        id,
        kind: "Delete",
        actor: author,
        object_ap_id: comment.ap_id.clone(),
        json: with_context(activity)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}
