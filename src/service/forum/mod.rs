//! The professional forum: categories created and ordered by staff, each a `Group` actor the
//! fediverse can follow (FEP-1b12); threads (a title and a Markdown body, a `Page` like a
//! Lemmy post) and their replies (`Note`s with `inReplyTo`).
//!
//! A thread is a `posts` row of category `thread` with its forum state in `forum_threads`;
//! a reply is a `comments` row of that post. So replies, likes, mentions, edits, reports and
//! moderators' removals go through the same domain functions as everywhere else
//! (`service::comments`, `service::reactions`, `service::moderation`); this module adds what
//! is the forum's own: categories, starting and moving threads, locking and pinning, who
//! moderates a category, subscriptions and read markers — and the rule
//! [`ensure_open_for_replies`] that the reply paths call.

pub mod categories;
pub mod search;
pub mod subscriptions;
pub mod threads;

use crate::{
    db::{self, accounts::DbAccount, forum::DbCategory, posts::DbPost},
    error::{AppError, AppResult, ErrorKind},
    service::accounts::{is_moderator, is_staff},
};
use diesel_async::AsyncPgConnection;

/// Threads per page of a category.
pub const THREADS_PER_PAGE: i64 = 30;
/// Longest title of a thread (characters).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body of a thread (characters).
pub const MAX_BODY_CHARS: usize = 20_000;

/// How the forum names an author: display name, else username; with their server when they
/// are not ours.
pub fn author_label(actor: &db::actors::DbActor) -> String {
    let name = if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    };
    if actor.local {
        name
    } else {
        format!("{name} (@{}@{})", actor.username, actor.domain)
    }
}

/// Whether `account` moderates `category`: the instance's moderators and admins, staff, and
/// the members staff chose for this category.
pub async fn moderates(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    category: &DbCategory,
) -> AppResult<bool> {
    if account.suspended_at.is_some() {
        return Ok(false);
    }
    if is_moderator(account) || is_staff(account) {
        return Ok(true);
    }
    Ok(db::forum::is_moderator(conn, category.id, account.actor_id).await?)
}

/// 403 unless `account` moderates `category`.
pub async fn require_moderator(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    category: &DbCategory,
) -> AppResult<()> {
    if moderates(conn, account, category).await? {
        Ok(())
    } else {
        Err(
            AppError::forbidden("only the moderators of this category may do this")
                .with_message("forum.error.not_moderator"),
        )
    }
}

/// The one rule on replying in the forum, called by every path that stores a reply (a local
/// comment, a remote `Note`): a reply to a thread that is deleted, withheld or locked is
/// refused, with the reason. Replies to anything else pass.
pub async fn ensure_open_for_replies(conn: &mut AsyncPgConnection, post: &DbPost) -> AppResult<()> {
    if post.category != db::posts::CATEGORY_THREAD {
        return Ok(());
    }
    if post.deleted_at.is_some() || post.hidden_at.is_some() {
        return Err(AppError::new(ErrorKind::Gone, "this thread was deleted")
            .with_message("forum.error.thread_deleted"));
    }
    let thread = db::forum::thread(conn, post.id)
        .await?
        .ok_or_else(|| AppError::internal("a thread without its forum state"))?;
    if thread.is_locked() {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "this thread is locked: it takes no more replies",
        )
        .with_message("forum.error.locked"));
    }
    Ok(())
}
