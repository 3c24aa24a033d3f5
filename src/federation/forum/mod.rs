//! The forum's side of federation: each category is a public `Group` (FEP-1b12) that wraps
//! every accepted activity of its threads in an `Announce` to its followers.

use crate::{
    context::AppContext,
    error::{AppError, AppResult},
    federation::Data,
    service::outbound::OutboundEvent,
};
use axum::response::Response;
use diesel_async::AsyncPgConnection;

/// The category's `Group` document (ActivityPub clients of `/forum/{slug}`).
pub async fn category_document(_data: &Data, _slug: &str) -> AppResult<Response> {
    Err(AppError::not_found())
}

/// A thread's `Page` (ActivityPub clients of `/forum/sujets/{id}`).
pub async fn thread_document(_data: &Data, _post_id: i64) -> AppResult<Response> {
    Err(AppError::not_found())
}

/// The forum's own outbound events (see `service::outbound`).
pub async fn record(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _event: OutboundEvent,
) -> AppResult<()> {
    Ok(())
}
