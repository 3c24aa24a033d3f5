//! ActivityPub: actors, objects, activities, inbox, delivery. Built on activitypub_federation.

pub mod delivery;
pub mod negotiation;
pub mod routes;

use crate::context::AppContext;
use axum::Router;
use tokio::{sync::watch, task::JoinHandle};

pub type FederationConfig = activitypub_federation::config::FederationConfig<AppContext>;
pub type Data = activitypub_federation::config::Data<AppContext>;

/// Routes served to other servers: WebFinger, NodeInfo, actors, collections, inboxes.
pub fn federation_routes() -> Router {
    Router::new().merge(routes::routes())
}

/// The library configuration: our domain, the context as app data.
pub async fn build_config(ctx: &AppContext) -> anyhow::Result<FederationConfig> {
    let allow_private = ctx.config.federation.allow_private_addresses;
    let config = FederationConfig::builder()
        .domain(ctx.config.domain())
        .app_data(ctx.clone())
        .debug(allow_private)
        .allow_http_urls(allow_private)
        .build()
        .await?;
    Ok(config)
}

/// Delivery workers and periodic clean-ups; they stop when `shutdown` turns true.
pub fn spawn_background_tasks(
    _ctx: &AppContext,
    _federation: &FederationConfig,
    _shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    Vec::new()
}
