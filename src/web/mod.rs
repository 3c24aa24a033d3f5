//! The web side: HTML pages and the JSON API, and the middleware they share.

pub mod api;
pub mod assets;
pub mod auth;
pub mod charts;
pub mod csrf;
pub mod errors;
pub mod feeds;
pub mod pages;
pub mod security;

use crate::{context::AppContext, federation::FederationConfig};
use activitypub_federation::config::FederationMiddleware;
use axum::{Router, middleware};

/// HTML pages and static assets.
pub fn web_routes() -> Router {
    Router::new().merge(pages::routes()).merge(assets::routes())
}

/// Middleware shared by every route. Order matters: the outermost layer is listed last.
/// The session layer wraps the error renderer so error pages know the visitor and language;
/// cross-site form posts are refused before any handler runs.
pub fn apply_middleware(router: Router, ctx: AppContext, federation: FederationConfig) -> Router {
    router
        .layer(middleware::from_fn(csrf::reject_cross_site))
        .layer(middleware::from_fn(errors::render_errors))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            auth::session_middleware,
        ))
        .layer(middleware::from_fn(security::security_headers))
        .layer(middleware::from_fn_with_state(
            ctx,
            crate::client_addr::middleware,
        ))
        .layer(FederationMiddleware::new(federation))
}
