//! Likes and boosts: one domain function per action, called by the web page, the JSON API and
//! the inbox alike. Every function writes its rows and records its outbound event in one
//! transaction; each inbound activity is applied in the transaction that records its id.
//!
//! What can be reacted to: a post or announcement (ours, or a remote one stored here) or a
//! comment. Remote actors' reactions are kept only for *our* objects; anything else is
//! ignored without error.

use crate::{
    context::AppContext,
    db::{
        self, Conn,
        accounts::DbAccount,
        actors::DbActor,
        reactions::{ANNOUNCE, DbReaction, LIKE, NewReaction},
    },
    error::{AppError, AppResult},
    service::{
        domain_blocks, forum, notifications,
        outbound::{self, ForumRelayKind, OutboundEvent, new_activity_id},
        publishing,
    },
    urls::host_port,
};
use diesel_async::AsyncConnection;
use serde::Serialize;

use std::collections::HashMap;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReactionKind {
    Like,
    /// A boost.
    Announce,
}

impl ReactionKind {
    /// As stored in `reactions.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReactionKind::Like => LIKE,
            ReactionKind::Announce => ANNOUNCE,
        }
    }

    /// `like`, `announce` (or `boost`, as the interface says).
    pub fn parse(s: &str) -> Option<ReactionKind> {
        match s {
            LIKE => Some(ReactionKind::Like),
            ANNOUNCE | "boost" => Some(ReactionKind::Announce),
            _ => None,
        }
    }

    /// The notification its author gets.
    pub fn notification(self) -> notifications::NotificationKind {
        match self {
            ReactionKind::Like => notifications::NotificationKind::Like,
            ReactionKind::Announce => notifications::NotificationKind::Boost,
        }
    }

    /// The ActivityStreams type.
    pub fn activity_type(self) -> &'static str {
        match self {
            ReactionKind::Like => "Like",
            ReactionKind::Announce => "Announce",
        }
    }
}

/// How many likes and boosts an object has, and (from [`counts_of`] only) how many direct
/// replies a post or announcement has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub likes: i64,
    pub boosts: i64,
    /// Comments answering a post or announcement directly, not deleted (its `replies`
    /// collection); 0 for a comment, and left at 0 by [`counts`].
    pub replies: i64,
}

/// What the reader did to an object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ViewerState {
    pub liked: bool,
    pub boosted: bool,
}

/// An object that can be liked or boosted.
#[derive(Debug, Clone)]
pub struct Target {
    pub ap_id: String,
    pub author: DbActor,
    /// Written here (a local post, announcement or comment by a member).
    pub local: bool,
    /// Published and not deleted (a comment: under a visible post).
    pub visible: bool,
    /// The local page that shows it, when there is one.
    pub page: Option<String>,
}

/// The post, announcement or comment whose id is `object`.
pub async fn find_target(conn: &mut Conn, object: &str) -> AppResult<Option<Target>> {
    if let Some(post) = db::posts::by_ap_id(conn, object).await? {
        let author = db::actors::by_id(conn, post.author_actor_id).await?;
        return Ok(Some(Target {
            ap_id: post.ap_id.clone(),
            local: post.local,
            visible: post.is_public(),
            page: post.local.then(|| publishing::page_url(&post)),
            author,
        }));
    }
    if let Some(comment) = db::comments::by_ap_id(conn, object).await? {
        let Some(post) = db::posts::by_id(conn, comment.post_id).await? else {
            return Ok(None);
        };
        let author = db::actors::by_id(conn, comment.author_actor_id).await?;
        return Ok(Some(Target {
            ap_id: comment.ap_id.clone(),
            local: author.local,
            visible: comment.deleted_at.is_none()
                && comment.hidden_at.is_none()
                && post.is_public(),
            page: post
                .local
                .then(|| format!("{}#comment-{}", publishing::page_url(&post), comment.id)),
            author,
        }));
    }
    Ok(None)
}

/// The visible object named by `object`, or 404 (unknown, draft, deleted).
pub async fn visible_target(conn: &mut Conn, object: &str) -> AppResult<Target> {
    find_target(conn, object)
        .await?
        .filter(|t| t.visible)
        .ok_or_else(AppError::not_found)
}

async fn member_actor(conn: &mut Conn, account: &DbAccount) -> AppResult<DbActor> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    Ok(db::actors::by_id(conn, account.actor_id).await?)
}

/// A member likes or boosts `object`. `Ok(true)` when done now, `Ok(false)` when it already
/// was (nothing stored or sent twice). Unknown, draft or deleted objects are 404; objects of
/// an account on a rejected domain are refused.
pub async fn react(
    ctx: &AppContext,
    account: &DbAccount,
    kind: ReactionKind,
    object: &Url,
) -> AppResult<bool> {
    let mut conn = ctx.conn().await?;
    let actor = member_actor(&mut conn, account).await?;
    let target = visible_target(&mut conn, object.as_str()).await?;
    if !target.author.local {
        domain_blocks::refuse_rejected(&mut conn, &target.author.domain, "object").await?;
    }
    if target.author.blocked_at.is_some() {
        return Err(AppError::field("object", "field.actor.blocked"));
    }
    let object = Url::parse(&target.ap_id)?;
    conn.transaction::<bool, AppError, _>(async |conn| {
        let id = new_activity_id(ctx)?;
        let inserted = db::reactions::insert(
            conn,
            &NewReaction {
                kind: kind.as_str(),
                object_ap_id: &target.ap_id,
                actor_id: actor.id,
                activity_ap_id: id.as_str(),
            },
        )
        .await?;
        if inserted.is_none() {
            return Ok(false);
        }
        let event = OutboundEvent::Reacted {
            kind,
            activity_id: id,
            actor: Box::new(actor.clone()),
            object: object.clone(),
            object_author: Some(Box::new(target.author.clone())),
        };
        outbound::record(ctx, conn, event).await?;
        notifications::events::reacted(ctx, conn, kind.notification(), actor.id, &target.ap_id)
            .await?;
        Ok(true)
    })
    .await
}

/// A member withdraws a like or boost: the row goes and an `Undo` of the original activity
/// follows it to the same inboxes. `Ok(false)` when there was nothing to withdraw; 404 when
/// the object is unknown too.
pub async fn unreact(
    ctx: &AppContext,
    account: &DbAccount,
    kind: ReactionKind,
    object: &Url,
) -> AppResult<bool> {
    let mut conn = ctx.conn().await?;
    let actor = member_actor(&mut conn, account).await?;
    conn.transaction::<bool, AppError, _>(async |conn| {
        let target = find_target(conn, object.as_str()).await?;
        let Some(reaction) =
            db::reactions::find(conn, kind.as_str(), object.as_str(), actor.id).await?
        else {
            return match target {
                Some(t) if t.visible => Ok(false),
                _ => Err(AppError::not_found()),
            };
        };
        db::reactions::delete(conn, reaction.id).await?;
        notifications::events::reaction_withdrawn(
            conn,
            kind.notification(),
            actor.id,
            &reaction.object_ap_id,
        )
        .await?;
        let event = OutboundEvent::ReactionWithdrawn {
            kind,
            activity_id: Url::parse(&reaction.activity_ap_id)?,
            actor: Box::new(actor.clone()),
            object: object.clone(),
            object_author: target.map(|t| Box::new(t.author)),
        };
        outbound::record(ctx, conn, event).await?;
        Ok(true)
    })
    .await
}

/// An inbound `Like` or `Announce` by the remote `actor`. Kept when `object` is one of our
/// visible posts, announcements or comments (once per actor and kind, whatever the number of
/// activities); ignored otherwise. A replayed activity is ignored.
pub async fn receive_reaction(
    ctx: &AppContext,
    kind: ReactionKind,
    activity_id: &Url,
    actor: &DbActor,
    object: &Url,
) -> AppResult<()> {
    let local_domain = ctx.config.domain();
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        if host_port(object).as_deref() != Some(local_domain.as_str()) {
            return Ok(());
        }
        let Some(target) = find_target(conn, object.as_str())
            .await?
            .filter(|t| t.visible && t.local)
        else {
            tracing::debug!(
                "{} of an unknown object {object}: ignored",
                kind.activity_type()
            );
            return Ok(());
        };
        let inserted = db::reactions::insert(
            conn,
            &NewReaction {
                kind: kind.as_str(),
                object_ap_id: &target.ap_id,
                actor_id: actor.id,
                activity_ap_id: activity_id.as_str(),
            },
        )
        .await?;
        if inserted.is_some() {
            notifications::events::reacted(ctx, conn, kind.notification(), actor.id, &target.ap_id)
                .await?;
            if kind == ReactionKind::Like {
                forum::threads::relay_about_object(
                    ctx,
                    conn,
                    &target.ap_id,
                    ForumRelayKind::Like,
                    activity_id.as_str(),
                    actor,
                )
                .await?;
            }
        }
        Ok(())
    })
    .await
}

/// The Like or Announce an `Undo` names: embedded (with its type), or by id (`federation`
/// reads it from the activity).
#[derive(Debug, Clone, PartialEq)]
pub struct ReactionRef {
    pub id: Option<Url>,
    pub kind: Option<ReactionKind>,
    pub actor: Option<Url>,
    pub object: Option<Url>,
}

/// The stored reaction `reference` names, if it is `actor_id`'s.
async fn referenced(
    conn: &mut Conn,
    reference: &ReactionRef,
    actor: &DbActor,
) -> AppResult<Option<DbReaction>> {
    if reference.actor.as_ref().is_some_and(|a| a != &actor.ap_url) {
        return Ok(None);
    }
    if let Some(id) = &reference.id
        && let Some(reaction) = db::reactions::by_activity(conn, id.as_str()).await?
    {
        return Ok((reaction.actor_id == actor.id).then_some(reaction));
    }
    match (&reference.kind, &reference.object) {
        (Some(kind), Some(object)) => {
            Ok(db::reactions::find(conn, kind.as_str(), object.as_str(), actor.id).await?)
        }
        _ => Ok(None),
    }
}

/// An inbound `Undo` of a Like or Announce: the actor's reaction goes. An Undo of someone
/// else's reaction, or of one we never stored, changes nothing. A replayed Undo is ignored.
pub async fn receive_undo(
    ctx: &AppContext,
    activity_id: &Url,
    actor: &DbActor,
    reference: &ReactionRef,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        match referenced(conn, reference, actor).await? {
            Some(reaction) => {
                // Relayed before the like is forgotten: its row names the Like's id.
                if reaction.kind == LIKE {
                    forum::threads::relay_about_object(
                        ctx,
                        conn,
                        &reaction.object_ap_id,
                        ForumRelayKind::UndoLike,
                        activity_id.as_str(),
                        actor,
                    )
                    .await?;
                }
                db::reactions::delete(conn, reaction.id).await?;
                if let Some(kind) = ReactionKind::parse(&reaction.kind) {
                    notifications::events::reaction_withdrawn(
                        conn,
                        kind.notification(),
                        actor.id,
                        &reaction.object_ap_id,
                    )
                    .await?;
                }
            }
            None => tracing::debug!("Undo {activity_id} names no reaction of its actor: ignored"),
        }
        Ok(())
    })
    .await
}

/// Likes and boosts of each of `objects`, in one query (objects without any are absent).
pub async fn counts(conn: &mut Conn, objects: &[String]) -> AppResult<HashMap<String, Counts>> {
    let mut out: HashMap<String, Counts> = HashMap::new();
    for (object, kind, n) in db::reactions::counts(conn, objects).await? {
        let entry = out.entry(object).or_default();
        match ReactionKind::parse(&kind) {
            Some(ReactionKind::Like) => entry.likes = n,
            Some(ReactionKind::Announce) => entry.boosts = n,
            None => {}
        }
    }
    Ok(out)
}

/// Likes, boosts and direct replies of one object (zero when it has none).
pub async fn counts_of(conn: &mut Conn, object: &str) -> AppResult<Counts> {
    let mut found = counts(conn, &[object.to_string()])
        .await?
        .remove(object)
        .unwrap_or_default();
    found.replies = db::comments::count_direct_replies(conn, object).await?;
    Ok(found)
}

/// Whether `actor_id` liked or boosted `object`.
pub async fn viewer_state(conn: &mut Conn, actor_id: i64, object: &str) -> AppResult<ViewerState> {
    let kinds = db::reactions::kinds_by(conn, actor_id, object).await?;
    Ok(ViewerState {
        liked: kinds.iter().any(|k| k == LIKE),
        boosted: kinds.iter().any(|k| k == ANNOUNCE),
    })
}

/// The counts of a visible object and what `viewer` did to it (404 when not visible).
pub async fn summary(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    object: &str,
) -> AppResult<(Counts, ViewerState)> {
    let mut conn = ctx.conn().await?;
    let target = visible_target(&mut conn, object).await?;
    let counts = counts(&mut conn, std::slice::from_ref(&target.ap_id))
        .await?
        .remove(&target.ap_id)
        .unwrap_or_default();
    let state = match viewer {
        Some(account) => viewer_state(&mut conn, account.actor_id, &target.ap_id).await?,
        None => ViewerState::default(),
    };
    Ok((counts, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse() {
        assert_eq!(ReactionKind::parse("like"), Some(ReactionKind::Like));
        assert_eq!(ReactionKind::parse("boost"), Some(ReactionKind::Announce));
        assert_eq!(
            ReactionKind::parse("announce"),
            Some(ReactionKind::Announce)
        );
        assert_eq!(ReactionKind::parse("dislike"), None);
    }
}
