//! The ActivityPub side of venues: the `Organization` document at `/venues/{slug}` (the page
//! side is in `web`), its inbox, outbox and followers collection.

use crate::{
    db::{self, actors::DbActor},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        collections::{self, Network, PageQuery},
        inbox::{self, InboxState, MAX_INBOX_BYTES},
        objects::venue::local_actor_document,
    },
};
use activitypub_federation::axum::json::FederationJson;
use axum::{
    Extension, Router,
    extract::{Path, Query, Request},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

pub fn routes(inbox_state: Arc<InboxState>) -> Router {
    Router::new()
        .route(
            "/venues/{slug}/inbox",
            post(http_post_venue_inbox).layer(RequestBodyLimitLayer::new(MAX_INBOX_BYTES)),
        )
        .route("/venues/{slug}/outbox", get(http_get_venue_outbox))
        .route("/venues/{slug}/followers", get(http_get_venue_followers))
        .layer(Extension(inbox_state))
}

/// The actor of a venue that exists for the public: 410 once deleted, 404 when unknown or
/// hidden by the moderators.
async fn public_venue_actor(data: &Data, slug: &str) -> AppResult<DbActor> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let venue = db::venues::by_slug(&mut conn, slug)
        .await?
        .ok_or_else(AppError::not_found)?;
    if venue.deleted_at.is_some() {
        return Err(AppError::new(ErrorKind::Gone, "this venue was deleted"));
    }
    if venue.hidden_at.is_some() {
        return Err(AppError::not_found());
    }
    Ok(db::actors::by_id(&mut conn, venue.actor_id).await?)
}

/// The document side of `/venues/{slug}`. The route, which also serves the venue's page, is
/// in `web`.
pub async fn venue_document(data: &Data, slug: &str) -> AppResult<Response> {
    let actor = public_venue_actor(data, slug).await?;
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let document = local_actor_document(ctx, &mut conn, actor).await?;
    Ok(FederationJson(document).into_response())
}

async fn http_get_venue_outbox(
    data: Data,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let actor = public_venue_actor(&data, &slug).await?;
    collections::outbox(&data, &actor, &query).await
}

async fn http_get_venue_followers(
    data: Data,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let actor = public_venue_actor(&data, &slug).await?;
    collections::network_of(&data, &actor, false, Network::Followers, &query).await
}

/// A venue's own inbox: same processing as the shared one, 404 for an unknown venue.
async fn http_post_venue_inbox(
    data: Data,
    Extension(state): Extension<Arc<InboxState>>,
    Path(slug): Path<String>,
    request: Request,
) -> Response {
    match public_venue_actor(&data, &slug).await {
        Ok(_) => inbox::receive(&data, &state, request).await,
        Err(e) => e.into_response(),
    }
}
