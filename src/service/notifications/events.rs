//! What the domain functions call, inside their own transactions, to notify the local members
//! concerned by an action: the author of what was replied to, liked or boosted, the members
//! mentioned, the member followed. Never the actor themself, never a remote actor. Each event
//! carries a `dedupe_key`, so an edit, a replayed activity or a second like of the same object
//! by the same actor records nothing twice, and a withdrawn like, boost or follow removes its
//! notification.

use super::{Event, NotificationKind, record};
use crate::{
    context::AppContext,
    db::{
        comments::DbComment,
        posts::DbPost,
        schema::{accounts, actors, comments, notifications, posts},
    },
    error::AppResult,
};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The member (account id) of each local actor among `actor_ids`: `(actor_id, account_id)`.
/// Suspended members are left out.
async fn members_of_actors(
    conn: &mut AsyncPgConnection,
    actor_ids: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    if actor_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(accounts::table
        .filter(accounts::actor_id.eq_any(actor_ids))
        .filter(accounts::suspended_at.is_null())
        .select((accounts::actor_id, accounts::id))
        .load(conn)
        .await?)
}

/// The member who wrote something: its `account_id` column when set (a post published as the
/// département's page names the staff member who wrote it), else the member whose actor
/// signed it. `(actor_id, account_id)` of that member, unless suspended or remote.
async fn writer(
    conn: &mut AsyncPgConnection,
    author_actor_id: i64,
    account_id: Option<i64>,
) -> AppResult<Option<(i64, i64)>> {
    let found = match account_id {
        Some(id) => accounts::table
            .find(id)
            .filter(accounts::suspended_at.is_null())
            .select((accounts::actor_id, accounts::id))
            .first(conn)
            .await
            .optional()?,
        None => members_of_actors(conn, &[author_actor_id])
            .await?
            .into_iter()
            .next(),
    };
    Ok(found)
}

/// The members behind these actor ids (`href` of mentions): `(actor_id, account_id)`.
async fn members_of_ap_ids(
    conn: &mut AsyncPgConnection,
    ap_ids: &[String],
) -> AppResult<Vec<(i64, i64)>> {
    if ap_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(accounts::table
        .inner_join(actors::table)
        .filter(actors::ap_id.eq_any(ap_ids))
        .filter(actors::local.eq(true))
        .filter(accounts::suspended_at.is_null())
        .select((accounts::actor_id, accounts::id))
        .load(conn)
        .await?)
}

/// Whether any of these actor ids is a member's.
pub async fn mentions_member(conn: &mut AsyncPgConnection, ap_ids: &[String]) -> AppResult<bool> {
    Ok(!members_of_ap_ids(conn, ap_ids).await?.is_empty())
}

fn event(account_id: i64, kind: NotificationKind, actor_id: i64) -> Event {
    Event {
        account_id,
        kind,
        actor_id: Some(actor_id),
        post_id: None,
        comment_id: None,
        object_ap_id: None,
        alert_id: None,
        dedupe_key: None,
        report_id: None,
        moderation_action_id: None,
        loan_request_id: None,
        venue_id: None,
        workspace: Default::default(),
    }
}

/// A comment was written (here or elsewhere) or edited under `post`: its parent's author
/// hears of the reply, the members it mentions (`mentioned`: actor ids as URLs) of the
/// mention. An edit only reaches members newly mentioned.
pub async fn comment_written(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    comment: &DbComment,
    mentioned: &[String],
) -> AppResult<()> {
    let author = comment.author_actor_id;
    let parent: Option<(i64, Option<i64>)> = match comment.parent_id {
        Some(parent) => comments::table
            .find(parent)
            .select((comments::author_actor_id, comments::account_id))
            .first(conn)
            .await
            .optional()?,
        None => posts::table
            .find(comment.post_id)
            .select((posts::author_actor_id, posts::account_id))
            .first(conn)
            .await
            .optional()?,
    };
    let recipient = match parent {
        Some((actor, account)) => writer(conn, actor, account).await?,
        None => None,
    };
    let mut replied_to = None;
    if let Some((actor_id, account_id)) = recipient
        && actor_id != author
        && Some(account_id) != comment.account_id
    {
        replied_to = Some(account_id);
        let mut e = event(account_id, NotificationKind::Reply, author);
        e.post_id = Some(comment.post_id);
        e.comment_id = Some(comment.id);
        e.object_ap_id = Some(comment.ap_id.clone());
        e.dedupe_key = Some(format!("reply:{}", comment.id));
        record(ctx, conn, e).await?;
    }
    for (actor_id, account_id) in members_of_ap_ids(conn, mentioned).await? {
        // The member replied to already knows: one notification per comment.
        if actor_id == author
            || Some(account_id) == replied_to
            || Some(account_id) == comment.account_id
        {
            continue;
        }
        let mut e = event(account_id, NotificationKind::Mention, author);
        e.post_id = Some(comment.post_id);
        e.comment_id = Some(comment.id);
        e.object_ap_id = Some(comment.ap_id.clone());
        e.dedupe_key = Some(format!("mention:comment:{}", comment.id));
        record(ctx, conn, e).await?;
    }
    Ok(())
}

/// A post or announcement was published or edited (here or elsewhere): the members it
/// mentions hear of it, once per post.
pub async fn post_written(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    mentioned: &[String],
) -> AppResult<()> {
    if post.draft || post.deleted_at.is_some() {
        return Ok(());
    }
    for (actor_id, account_id) in members_of_ap_ids(conn, mentioned).await? {
        if actor_id == post.author_actor_id || Some(account_id) == post.account_id {
            continue;
        }
        let mut e = event(account_id, NotificationKind::Mention, post.author_actor_id);
        e.post_id = Some(post.id);
        e.object_ap_id = Some(post.ap_id.clone());
        e.dedupe_key = Some(format!("mention:post:{}", post.id));
        record(ctx, conn, e).await?;
    }
    Ok(())
}

fn reaction_key(kind: NotificationKind, actor_id: i64, object: &str) -> String {
    format!("{}:{actor_id}:{object}", kind.as_str())
}

/// `actor_id` liked (`Like`) or boosted (`Boost`) `object` (the AP id of a post,
/// announcement or comment): its author hears of it when they are a member. Boosts of
/// comments are not notified.
pub async fn reacted(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    kind: NotificationKind,
    actor_id: i64,
    object: &str,
) -> AppResult<()> {
    let (author, written_by, post_id, comment_id) = match posts::table
        .filter(posts::ap_id.eq(object))
        .select((posts::author_actor_id, posts::account_id, posts::id))
        .first::<(i64, Option<i64>, i64)>(conn)
        .await
        .optional()?
    {
        Some((author, account, post)) => (author, account, post, None),
        None => {
            if kind == NotificationKind::Boost {
                return Ok(());
            }
            match comments::table
                .filter(comments::ap_id.eq(object))
                .select((
                    comments::author_actor_id,
                    comments::account_id,
                    comments::post_id,
                    comments::id,
                ))
                .first::<(i64, Option<i64>, i64, i64)>(conn)
                .await
                .optional()?
            {
                Some((author, account, post, comment)) => (author, account, post, Some(comment)),
                None => return Ok(()),
            }
        }
    };
    if author == actor_id {
        return Ok(());
    }
    let Some((member_actor, account_id)) = writer(conn, author, written_by).await? else {
        return Ok(());
    };
    if member_actor == actor_id {
        return Ok(());
    }
    let mut e = event(account_id, kind, actor_id);
    e.post_id = Some(post_id);
    e.comment_id = comment_id;
    e.object_ap_id = Some(object.to_string());
    e.dedupe_key = Some(reaction_key(kind, actor_id, object));
    record(ctx, conn, e).await?;
    Ok(())
}

/// A like or boost was withdrawn: its notification goes.
pub async fn reaction_withdrawn(
    conn: &mut AsyncPgConnection,
    kind: NotificationKind,
    actor_id: i64,
    object: &str,
) -> AppResult<()> {
    diesel::delete(
        notifications::table
            .filter(notifications::actor_id.eq(actor_id))
            .filter(notifications::dedupe_key.eq(reaction_key(kind, actor_id, object))),
    )
    .execute(conn)
    .await?;
    Ok(())
}

fn follow_key(kind: NotificationKind, follower_id: i64, followee_id: i64) -> String {
    format!("{}:{follower_id}:{followee_id}", kind.as_str())
}

/// `follower_id` now follows `followee_id` (`pending`: asks to, the member approves by hand).
pub async fn followed(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
    pending: bool,
) -> AppResult<()> {
    if follower_id == followee_id {
        return Ok(());
    }
    let kind = if pending {
        NotificationKind::FollowRequest
    } else {
        NotificationKind::Follow
    };
    let Some((_, account_id)) = members_of_actors(conn, &[followee_id])
        .await?
        .into_iter()
        .next()
    else {
        // A venue's new follower: its managers hear of it, the venue named.
        if let Some(venue) = crate::db::venues::by_actor_id(conn, followee_id).await? {
            for manager in crate::db::venues::manager_account_ids(conn, &venue).await? {
                let mut e = event(manager, kind, follower_id);
                e.venue_id = Some(venue.id);
                e.dedupe_key = Some(follow_key(kind, follower_id, followee_id));
                record(ctx, conn, e).await?;
            }
        }
        return Ok(());
    };
    let mut e = event(account_id, kind, follower_id);
    e.dedupe_key = Some(follow_key(kind, follower_id, followee_id));
    record(ctx, conn, e).await?;
    Ok(())
}

/// `follower_id` no longer follows (or asks to follow) `followee_id`: the notifications go.
pub async fn unfollowed(
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
) -> AppResult<()> {
    let keys = [NotificationKind::Follow, NotificationKind::FollowRequest]
        .map(|k| follow_key(k, follower_id, followee_id));
    diesel::delete(
        notifications::table
            .filter(notifications::actor_id.eq(follower_id))
            .filter(notifications::dedupe_key.eq_any(keys)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A thread was started in a forum category (here or from another server): the members
/// following the category hear of it, never its author.
pub async fn forum_thread_started(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    category_id: i64,
) -> AppResult<()> {
    let followers =
        crate::db::forum::subscribers(conn, crate::db::forum::Followed::Category(category_id))
            .await?;
    for account_id in followers {
        if Some(account_id) == post.account_id {
            continue;
        }
        let mut e = event(
            account_id,
            NotificationKind::ForumThread,
            post.author_actor_id,
        );
        e.post_id = Some(post.id);
        e.object_ap_id = Some(post.ap_id.clone());
        e.dedupe_key = Some(format!("forum_thread:{}", post.id));
        record(ctx, conn, e).await?;
    }
    Ok(())
}

/// A reply was written in a forum thread (here or from another server): the members
/// following the thread hear of it, except its author and whoever was already told of this
/// reply (as the one replied to, or mentioned).
pub async fn forum_reply_written(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    comment: &DbComment,
) -> AppResult<()> {
    use crate::db::schema::notifications;
    let followers =
        crate::db::forum::subscribers(conn, crate::db::forum::Followed::Thread(comment.post_id))
            .await?;
    if followers.is_empty() {
        return Ok(());
    }
    let told: Vec<i64> = notifications::table
        .filter(notifications::comment_id.eq(comment.id))
        .select(notifications::account_id)
        .load(conn)
        .await?;
    for account_id in followers {
        if Some(account_id) == comment.account_id || told.contains(&account_id) {
            continue;
        }
        let mut e = event(
            account_id,
            NotificationKind::ForumReply,
            comment.author_actor_id,
        );
        e.post_id = Some(comment.post_id);
        e.comment_id = Some(comment.id);
        e.object_ap_id = Some(comment.ap_id.clone());
        e.dedupe_key = Some(format!("forum_reply:{}", comment.id));
        record(ctx, conn, e).await?;
    }
    Ok(())
}
