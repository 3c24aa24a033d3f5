//! What a member follows in the forum: a category (told of its new threads) or a thread
//! (told of its new replies). Starting a thread or replying in it follows it. The
//! notifications themselves are written by `notifications::events` (`forum_thread_started`,
//! `forum_reply_written`) and reach the member as their settings say.

use super::threads::live_thread;
use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, forum::Followed},
    error::{AppError, AppResult},
};

/// What to follow, by its public name.
#[derive(Debug, Clone)]
pub enum Target {
    Category(String),
    Thread(i64),
}

async fn resolve(ctx: &AppContext, target: &Target) -> AppResult<Followed> {
    let mut conn = ctx.conn().await?;
    match target {
        Target::Category(slug) => db::forum::category_by_slug(&mut conn, slug)
            .await?
            .map(|c| Followed::Category(c.id))
            .ok_or_else(AppError::not_found),
        Target::Thread(id) => {
            let (post, _, _) = live_thread(&mut conn, *id).await?;
            Ok(Followed::Thread(post.id))
        }
    }
}

/// Follows (`on`) or stops following a category or a thread; doing it twice changes
/// nothing. 404 for an unknown category or thread.
pub async fn set(
    ctx: &AppContext,
    account: &DbAccount,
    target: &Target,
    on: bool,
) -> AppResult<bool> {
    let followed = resolve(ctx, target).await?;
    let mut conn = ctx.conn().await?;
    if on {
        db::forum::subscribe(&mut conn, account.id, followed).await?;
    } else {
        db::forum::unsubscribe(&mut conn, account.id, followed).await?;
    }
    Ok(on)
}

/// Whether the member follows it.
pub async fn is_following(
    ctx: &AppContext,
    account: &DbAccount,
    target: &Target,
) -> AppResult<bool> {
    let followed = resolve(ctx, target).await?;
    let mut conn = ctx.conn().await?;
    Ok(db::forum::is_subscribed(&mut conn, account.id, followed).await?)
}
