//! FEP-1b12 on the way out: whatever is said in a category — a thread, a reply, an edit, a
//! deletion, a like, a lock, a pin, a move — is sent to the category's followers wrapped in
//! an `Announce` by the category's `Group` ([`announce`], the one place that does it), and a
//! new thread is also announced bare ([`announce_object`]) because Mastodon does not unwrap
//! `Announce(Create)`. The inner activity of one of our members is stored under its own id
//! (it can be fetched, it is in their outbox) and sent directly only to the remote actors it
//! names (mentions, the remote author replied to); never to the author's followers as a blog
//! post would be.

use super::objects::{addressed, forum_context, page, page_of, reply_note};
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        comments::DbComment,
        forum::{DbCategory, DbThread},
        posts::{CATEGORY_THREAD, DbPost},
    },
    error::{AppError, AppResult},
    federation::{
        activities::{create_or_update::CreateOrUpdateType, new_activity_id},
        delivery::{OutgoingActivity, enqueue, followers_inboxes},
        objects::{PUBLIC, article, comment},
    },
    service::{
        mentions::{self, Mention},
        outbound::{ForumRelayKind, OutboundEvent},
    },
    urls::host_port,
};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use url::Url;

/// The category a thread or one of its replies (by AP id) belongs to, with its `Group`.
pub async fn category_of_object(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> AppResult<Option<(DbCategory, DbActor)>> {
    let post_id = match db::posts::by_ap_id(conn, ap_id).await? {
        Some(post) => post.id,
        None => match db::comments::by_ap_id(conn, ap_id).await? {
            Some(comment) => comment.post_id,
            None => return Ok(None),
        },
    };
    category_of_post(conn, post_id).await
}

async fn category_of_post(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> AppResult<Option<(DbCategory, DbActor)>> {
    let Some(thread) = db::forum::thread(conn, post_id).await? else {
        return Ok(None);
    };
    group_of(conn, thread.category_id).await.map(Some)
}

async fn group_of(
    conn: &mut AsyncPgConnection,
    category_id: i64,
) -> AppResult<(DbCategory, DbActor)> {
    let category = db::forum::category_by_id(conn, category_id)
        .await?
        .ok_or_else(|| AppError::internal("a thread without its category"))?;
    let actor = db::actors::by_id(conn, category.actor_id).await?;
    Ok((category, actor))
}

/// Stores an activity signed by the local `actor` and its deliveries to `inboxes` (rejected
/// domains left out).
#[allow(clippy::too_many_arguments)]
async fn store(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    id: &Url,
    kind: &str,
    actor: &DbActor,
    object_ap_id: &str,
    mut json: Value,
    inboxes: Vec<Url>,
) -> AppResult<()> {
    json["@context"] = forum_context();
    let inboxes = ctx.blocks.without_rejected(conn, inboxes).await?;
    enqueue(
        conn,
        &ctx.config.domain(),
        OutgoingActivity {
            ap_id: id.as_str(),
            kind,
            actor,
            object_ap_id: Some(object_ap_id),
            json,
            public: true,
        },
        inboxes,
    )
    .await?;
    Ok(())
}

/// The innermost object id of an activity (`object`, an IRI or a node, recursively).
fn innermost_id(activity: &Value) -> String {
    let mut node = activity;
    while let Some(object) = node.get("object") {
        node = object;
    }
    match node {
        Value::String(s) => s.clone(),
        other => other
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// The category's followers (shared inbox when they have one, each once), without those on
/// `skip_domain` (the server an activity came from: it has it already).
async fn follower_inboxes(
    conn: &mut AsyncPgConnection,
    group: &DbActor,
    skip_domain: Option<&str>,
) -> AppResult<Vec<Url>> {
    let mut inboxes = followers_inboxes(conn, group.id).await?;
    if let Some(skip) = skip_domain {
        inboxes.retain(|u| host_port(u).as_deref() != Some(skip));
    }
    Ok(inboxes)
}

/// FEP-1b12: the category's `Group` announces `inner` (an activity, embedded whole) to its
/// followers: `to` Public, `cc` its followers collection. `skip_domain`: the server the
/// inner activity came from, never sent back to it.
pub async fn announce(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    group: &DbActor,
    mut inner: Value,
    skip_domain: Option<&str>,
) -> AppResult<()> {
    if let Some(map) = inner.as_object_mut() {
        map.remove("@context");
    }
    let id = new_activity_id(ctx)?;
    let object_ap_id = innermost_id(&inner);
    let json = json!({
        "type": "Announce",
        "id": id,
        "actor": group.ap_id,
        "object": inner,
        "to": [PUBLIC],
        "cc": group.followers_url.iter().collect::<Vec<_>>(),
        "audience": group.ap_id,
    });
    let inboxes = follower_inboxes(conn, group, skip_domain).await?;
    store(
        ctx,
        conn,
        &id,
        "Announce",
        group,
        &object_ap_id,
        json,
        inboxes,
    )
    .await
}

/// The bare `Announce` of a new thread's object (by id), the boost Mastodon shows.
pub async fn announce_object(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    group: &DbActor,
    object_ap_id: &str,
    author: &DbActor,
    skip_domain: Option<&str>,
) -> AppResult<()> {
    let id = new_activity_id(ctx)?;
    let mut cc: Vec<&str> = group.followers_url.iter().map(String::as_str).collect();
    if author.id != group.id {
        cc.push(&author.ap_id);
    }
    let json = json!({
        "type": "Announce",
        "id": id,
        "actor": group.ap_id,
        "object": object_ap_id,
        "to": [PUBLIC],
        "cc": cc,
        "published": chrono::Utc::now(),
    });
    let inboxes = follower_inboxes(conn, group, skip_domain).await?;
    store(
        ctx,
        conn,
        &id,
        "Announce",
        group,
        object_ap_id,
        json,
        inboxes,
    )
    .await
}

/// The inboxes of the remote actors `mentioned` names and of `others` (remote, alive),
/// shared inbox when they have one, each once.
async fn direct_inboxes(
    conn: &mut AsyncPgConnection,
    mentioned: &[Mention],
    others: &[&DbActor],
) -> AppResult<Vec<Url>> {
    let mut actors: Vec<DbActor> = others.iter().map(|a| (*a).clone()).collect();
    for m in mentioned {
        if let Some(actor) = db::actors::by_ap_id(conn, &m.href).await? {
            actors.push(actor);
        }
    }
    let mut inboxes: Vec<Url> = Vec::new();
    for actor in actors {
        if actor.local || actor.deleted_at.is_some() {
            continue;
        }
        if let Ok(url) = Url::parse(actor.shared_inbox_url.as_ref().unwrap_or(&actor.inbox_url))
            && !inboxes.contains(&url)
        {
            inboxes.push(url);
        }
    }
    Ok(inboxes)
}

/// An activity of a local actor about a thread: stored and sent to `direct`, then announced
/// by the category. Nothing is said in the name of another server's actor: what they do
/// reaches the category as an activity of theirs, relayed by [`relay`].
#[allow(clippy::too_many_arguments)]
async fn said_in_category(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    group: &DbActor,
    id: Url,
    kind: &str,
    actor: &DbActor,
    activity: Value,
    direct: Vec<Url>,
) -> AppResult<()> {
    if !actor.local {
        return Ok(());
    }
    let object = innermost_id(&activity);
    store(
        ctx,
        conn,
        &id,
        kind,
        actor,
        &object,
        activity.clone(),
        direct,
    )
    .await?;
    announce(ctx, conn, group, activity, None).await
}

/// `Create`/`Update` of a thread's `Page` by its author (a `PostPublished`/`PostUpdated` of
/// a post of category `thread`).
pub async fn thread_create_or_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    kind: CreateOrUpdateType,
    post: &DbPost,
    author: &DbActor,
) -> AppResult<()> {
    let (page, _, group) = page_of(ctx, conn, post).await?;
    let (to, cc) = addressed(&group);
    let id = new_activity_id(ctx)?;
    let activity = json!({
        "type": kind.as_str(),
        "id": id,
        "actor": author.ap_id,
        "object": page,
        "to": to,
        "cc": cc,
        "audience": group.ap_id,
    });
    let direct = direct_inboxes(conn, &mentions::stored(post), &[]).await?;
    said_in_category(
        ctx,
        conn,
        &group,
        id,
        kind.as_str(),
        author,
        activity,
        direct,
    )
    .await?;
    if kind == CreateOrUpdateType::Create {
        announce_object(ctx, conn, &group, &post.ap_id, author, None).await?;
    }
    Ok(())
}

/// `Delete` of a thread (a Tombstone), by its author — or by the category itself for a
/// thread of another server the moderators removed.
pub async fn thread_delete(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    author: &DbActor,
) -> AppResult<()> {
    let Some((_, group)) = category_of_post(conn, post.id).await? else {
        return Ok(());
    };
    let (to, cc) = addressed(&group);
    let mut tombstone = article::tombstone(post);
    tombstone["formerType"] = json!("Page");
    let id = new_activity_id(ctx)?;
    let activity = json!({
        "type": "Delete",
        "id": id,
        "actor": author.ap_id,
        "object": tombstone,
        "to": to,
        "cc": cc,
        "audience": group.ap_id,
    });
    let direct = direct_inboxes(conn, &mentions::stored(post), &[]).await?;
    said_in_category(ctx, conn, &group, id, "Delete", author, activity, direct).await
}

/// The remote authors a reply answers (its parent's and the thread's), who hear of it
/// directly besides the category's followers.
async fn reply_recipients(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    reply: &DbComment,
) -> AppResult<Vec<DbActor>> {
    let mut out = Vec::new();
    if let Some(parent) =
        crate::service::comments::find_parent(ctx, conn, &reply.in_reply_to).await?
    {
        out.push(db::actors::by_id(conn, parent.author_actor_id()).await?);
        if parent.post.author_actor_id != parent.author_actor_id() {
            out.push(db::actors::by_id(conn, parent.post.author_actor_id).await?);
        }
    }
    Ok(out)
}

/// `Create`/`Update` of a local reply of a thread. `previously_mentioned`: those an edit no
/// longer names still hold a copy to update.
pub async fn reply_create_or_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    kind: CreateOrUpdateType,
    reply: &DbComment,
    author: &DbActor,
    previously_mentioned: &[Mention],
) -> AppResult<()> {
    let Some((_, group)) = category_of_post(conn, reply.post_id).await? else {
        return Ok(());
    };
    let note = reply_note(ctx, conn, reply, &group).await?;
    let id = new_activity_id(ctx)?;
    let activity = json!({
        "type": kind.as_str(),
        "id": id,
        "actor": author.ap_id,
        "object": note,
        "to": note["to"],
        "cc": note["cc"],
        "audience": group.ap_id,
    });
    let mut mentioned = comment::stored_mentions(reply);
    mentioned.extend(previously_mentioned.iter().cloned());
    let recipients = reply_recipients(ctx, conn, reply).await?;
    let refs: Vec<&DbActor> = recipients.iter().collect();
    let direct = direct_inboxes(conn, &mentioned, &refs).await?;
    said_in_category(
        ctx,
        conn,
        &group,
        id,
        kind.as_str(),
        author,
        activity,
        direct,
    )
    .await
}

/// `Delete` of a local reply of a thread (its Tombstone).
pub async fn reply_delete(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    reply: &DbComment,
    author: &DbActor,
) -> AppResult<()> {
    let Some((_, group)) = category_of_post(conn, reply.post_id).await? else {
        return Ok(());
    };
    let (to, cc) = addressed(&group);
    let id = new_activity_id(ctx)?;
    let activity = json!({
        "type": "Delete",
        "id": id,
        "actor": author.ap_id,
        "object": comment::tombstone(reply),
        "to": to,
        "cc": cc,
        "audience": group.ap_id,
    });
    let recipients = reply_recipients(ctx, conn, reply).await?;
    let refs: Vec<&DbActor> = recipients.iter().collect();
    let direct = direct_inboxes(conn, &comment::stored_mentions(reply), &refs).await?;
    said_in_category(ctx, conn, &group, id, "Delete", author, activity, direct).await
}

/// A like (or its `Undo`) of a thread or of one of its replies, already sent to the author:
/// the category announces it too. Anything else: nothing.
pub async fn announce_if_in_category(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    object_ap_id: &str,
    activity: &Value,
) -> AppResult<()> {
    match category_of_object(conn, object_ap_id).await? {
        Some((_, group)) => announce(ctx, conn, &group, activity.clone(), None).await,
        None => Ok(()),
    }
}

/// Whether `post` is a thread (its events go through the category).
pub fn is_thread(post: &DbPost) -> bool {
    post.category == CATEGORY_THREAD
}

/// A moderator's `Lock` of a thread, or its `Undo`, as Lemmy sends them; announced.
async fn lock(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    category: &DbCategory,
    moderator: &DbActor,
    locked: bool,
) -> AppResult<()> {
    let (_, group) = group_of(conn, category.id).await?;
    let (to, cc) = addressed(&group);
    let lock_id = new_activity_id(ctx)?;
    let lock = json!({
        "type": "Lock",
        "id": lock_id,
        "actor": moderator.ap_id,
        "object": post.ap_id,
        "to": to,
        "cc": cc,
        "audience": group.ap_id,
    });
    let (id, kind, activity) = if locked {
        (lock_id, "Lock", lock)
    } else {
        let id = new_activity_id(ctx)?;
        let undo = json!({
            "type": "Undo",
            "id": id,
            "actor": moderator.ap_id,
            "object": lock,
            "to": to,
            "cc": cc,
            "audience": group.ap_id,
        });
        (id, "Undo", undo)
    };
    said_in_category(ctx, conn, &group, id, kind, moderator, activity, Vec::new()).await
}

/// A moderator's `Add` (pin) or `Remove` (unpin) of a thread's `Page` to the category's
/// `featured` collection, as Lemmy sends them; announced.
async fn pin(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    category: &DbCategory,
    moderator: &DbActor,
    pinned: bool,
) -> AppResult<()> {
    let (_, group) = group_of(conn, category.id).await?;
    let (to, cc) = addressed(&group);
    let id = new_activity_id(ctx)?;
    let kind = if pinned { "Add" } else { "Remove" };
    let activity = json!({
        "type": kind,
        "id": id,
        "actor": moderator.ap_id,
        "object": post.ap_id,
        "target": ctx.urls.forum_category_part(&category.slug, "featured"),
        "to": to,
        "cc": cc,
        "audience": group.ap_id,
    });
    said_in_category(ctx, conn, &group, id, kind, moderator, activity, Vec::new()).await
}

/// A thread moved: its new category announces an `Update` of the `Page` whose `audience` is
/// now that category, signed by the moderator who moved it.
async fn moved(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    to_category: &DbCategory,
    moderator: &DbActor,
) -> AppResult<()> {
    let thread: DbThread = db::forum::thread(conn, post.id)
        .await?
        .ok_or_else(|| AppError::internal("a thread without its forum state"))?;
    let (_, group) = group_of(conn, to_category.id).await?;
    let author = db::actors::by_id(conn, post.author_actor_id).await?;
    let page = page(ctx, post, &thread, &group, &author);
    let (to, cc) = addressed(&group);
    let id = new_activity_id(ctx)?;
    let activity = json!({
        "type": "Update",
        "id": id,
        "actor": moderator.ap_id,
        "object": page,
        "to": to,
        "cc": cc,
        "audience": group.ap_id,
    });
    said_in_category(
        ctx,
        conn,
        &group,
        id,
        "Update",
        moderator,
        activity,
        Vec::new(),
    )
    .await
}

/// Another server's activity about one of our threads was applied: the category announces
/// it, rebuilt from our rows under its original id and actor, to every follower except the
/// actor's own server.
async fn relay(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    category: &DbCategory,
    kind: ForumRelayKind,
    activity_id: &str,
    actor: &DbActor,
    object_ap_id: &str,
) -> AppResult<()> {
    let (_, group) = group_of(conn, category.id).await?;
    let (to, cc) = addressed(&group);
    let skip = Some(actor.domain.as_str());
    let mut thread_created = false;
    let inner = match kind {
        ForumRelayKind::Create | ForumRelayKind::Update => {
            let object = if let Some(post) = db::posts::by_ap_id(conn, object_ap_id).await? {
                thread_created = kind == ForumRelayKind::Create;
                page_of(ctx, conn, &post).await?.0
            } else if let Some(reply) = db::comments::by_ap_id(conn, object_ap_id).await? {
                reply_note(ctx, conn, &reply, &group).await?
            } else {
                return Ok(());
            };
            json!({
                "type": if kind == ForumRelayKind::Create { "Create" } else { "Update" },
                "id": activity_id,
                "actor": actor.ap_id,
                "object": object,
                "to": to,
                "cc": cc,
                "audience": group.ap_id,
            })
        }
        ForumRelayKind::Delete => json!({
            "type": "Delete",
            "id": activity_id,
            "actor": actor.ap_id,
            "object": {"type": "Tombstone", "id": object_ap_id},
            "to": to,
            "cc": cc,
            "audience": group.ap_id,
        }),
        ForumRelayKind::Like => json!({
            "type": "Like",
            "id": activity_id,
            "actor": actor.ap_id,
            "object": object_ap_id,
            "audience": group.ap_id,
        }),
        ForumRelayKind::UndoLike => {
            // Recorded before the like is forgotten: its row still names the Like's id.
            let mut like = json!({
                "type": "Like",
                "actor": actor.ap_id,
                "object": object_ap_id,
            });
            if let Some(reaction) =
                db::reactions::find(conn, db::reactions::LIKE, object_ap_id, actor.id).await?
            {
                like["id"] = json!(reaction.activity_ap_id);
            }
            json!({
                "type": "Undo",
                "id": activity_id,
                "actor": actor.ap_id,
                "object": like,
                "audience": group.ap_id,
            })
        }
    };
    announce(ctx, conn, &group, inner, skip).await?;
    if thread_created {
        announce_object(ctx, conn, &group, object_ap_id, actor, skip).await?;
    }
    Ok(())
}

/// The forum's own outbound events (see `service::outbound`).
pub async fn record(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    event: OutboundEvent,
) -> AppResult<()> {
    match event {
        OutboundEvent::ThreadLocked {
            post,
            category,
            moderator,
            locked,
        } => lock(ctx, conn, &post, &category, &moderator, locked).await,
        OutboundEvent::ThreadPinned {
            post,
            category,
            moderator,
            pinned,
        } => pin(ctx, conn, &post, &category, &moderator, pinned).await,
        OutboundEvent::ThreadMoved {
            post,
            to,
            moderator,
            ..
        } => moved(ctx, conn, &post, &to, &moderator).await,
        OutboundEvent::ForumRelayed {
            category,
            kind,
            activity_id,
            actor,
            object_ap_id,
        } => {
            relay(
                ctx,
                conn,
                &category,
                kind,
                &activity_id,
                &actor,
                &object_ap_id,
            )
            .await
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_object_of_wrapped_activities() {
        let undo =
            json!({"type": "Undo", "object": {"type": "Like", "object": "https://a.example/p/1"}});
        assert_eq!(innermost_id(&undo), "https://a.example/p/1");
        let create =
            json!({"type": "Create", "object": {"type": "Page", "id": "https://a.example/p/2"}});
        assert_eq!(innermost_id(&create), "https://a.example/p/2");
        assert_eq!(innermost_id(&json!({"type": "Lock"})), "");
    }
}
