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

use crate::{
    db::{self, posts::CATEGORY_THREAD},
    error::AppError,
    federation::Data,
};
use axum::{Router, extract::Path, response::Response, routing::get};

/// `GET /forum/{slug}` and `GET /forum/sujets/{id}[/{slug}]` as documents only, until the
/// forum's pages (`web::pages::forum`, which negotiate and call [`category_document`] and
/// [`thread_document`]) exist on this branch. A merge with those pages drops this router.
pub fn interim_document_routes() -> Router {
    async fn category(data: Data, Path(slug): Path<String>) -> Response {
        category_document(&data, &slug)
            .await
            .unwrap_or_else(axum::response::IntoResponse::into_response)
    }
    async fn thread(data: Data, Path(id): Path<String>) -> Response {
        thread_by_path(&data, &id).await
    }
    async fn thread_with_slug(data: Data, Path((id, _)): Path<(String, String)>) -> Response {
        thread_by_path(&data, &id).await
    }
    async fn thread_by_path(data: &Data, id: &str) -> Response {
        use axum::response::IntoResponse;
        match id.parse::<i64>() {
            Ok(id) => thread_document(data, id)
                .await
                .unwrap_or_else(IntoResponse::into_response),
            Err(_) => AppError::not_found().into_response(),
        }
    }
    Router::new()
        .route("/forum/{slug}", get(category))
        .route("/forum/sujets/{id}", get(thread))
        .route("/forum/sujets/{id}/{slug}", get(thread_with_slug))
}

/// Whether the post `post_id` is a thread (for callers holding only its id).
pub async fn is_thread_id(conn: &mut db::Conn, post_id: i64) -> crate::error::AppResult<bool> {
    Ok(db::posts::by_id(conn, post_id)
        .await?
        .is_some_and(|p| p.category == CATEGORY_THREAD))
}
