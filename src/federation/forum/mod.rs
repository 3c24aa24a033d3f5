//! The forum's side of federation: each category is a public `Group` (FEP-1b12) that anyone
//! on the fediverse can follow (a community on Lemmy, Mbin, PieFed; an account on Mastodon)
//! and that wraps every accepted activity of its threads in an `Announce` to its followers.
//!
//! - `objects.rs`: the `Page` of a thread, the `Note` of a reply, the `Group` of a category;
//! - `actor.rs`: the documents ([`category_document`], [`thread_document`], which `web`'s
//!   pages call for ActivityPub clients) and the category's inbox and collections;
//! - `outbox.rs`: what our events become (the one [`announce`] used by every path);
//! - `inbound.rs`: threads from other servers (`Create(Page)` addressed to a category, a
//!   `Note` mentioning it), moderation activities from elsewhere (refused), and the
//!   `Announce`s of a remote `Group` our members follow.

mod actor;
pub mod inbound;
mod objects;
pub mod outbox;

pub use actor::{category_document, routes, thread_document};
pub use outbox::{announce, record};

use crate::db::{self, posts::CATEGORY_THREAD};

/// Whether the post `post_id` is a thread (for callers holding only its id).
pub async fn is_thread_id(conn: &mut db::Conn, post_id: i64) -> crate::error::AppResult<bool> {
    Ok(db::posts::by_id(conn, post_id)
        .await?
        .is_some_and(|p| p.category == CATEGORY_THREAD))
}
