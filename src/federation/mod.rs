//! ActivityPub: actors, objects, activities, inbox, delivery. Built on activitypub_federation.

pub mod activities;
pub mod collections;
pub mod delivery;
pub mod forum;
pub mod http_client;
pub mod inbound_signature;
pub mod inbox;
pub mod interactions;
pub mod negotiation;
pub mod network;
pub mod nodeinfo;
pub mod objects;
pub mod outbound_signature;
pub mod outbox;
pub mod rfc9421;
pub mod routes;
pub mod rsa_keys;
pub mod signature_scheme;
pub mod signatures;
pub mod structured_fields;
pub mod untrusted;
pub mod venues;
pub mod webfinger;
pub mod workers;
pub mod workspaces;

use crate::context::AppContext;
use axum::Router;
use tokio::{sync::watch, task::JoinHandle};

pub type FederationConfig = activitypub_federation::config::FederationConfig<AppContext>;
pub use crate::context::Data;

/// Routes served to other servers: WebFinger, NodeInfo, actors, collections, inboxes.
pub fn federation_routes() -> Router {
    Router::new()
        .merge(routes::routes())
        .merge(interactions::routes())
}

/// The library configuration: our domain, the context as app data, the one outbound client
/// (SSRF-filtering resolver, no redirects, 10 s timeout, and the instance actor signing every
/// fetch in the scheme each server reads: servers in authorized-fetch mode answer only signed
/// fetches; see `http_client::HttpSigner`), and the URL verifier.
/// `ensure_system_actors` must have run: the instance actor row is loaded here.
pub async fn build_config(ctx: &AppContext) -> anyhow::Result<FederationConfig> {
    use anyhow::Context as _;
    let allow_private = ctx.config.federation.allow_private_addresses;
    let instance_actor = {
        let mut conn = ctx
            .pool
            .get()
            .await
            .context("database connection for the instance actor")?;
        crate::db::actors::by_ap_id(&mut conn, &ctx.urls.instance_actor())
            .await?
            .context("the instance actor is missing (ensure_system_actors runs first)")?
    };
    let pem = instance_actor
        .private_key_pem
        .as_deref()
        .context("the instance actor has no private key")?;
    let fetch_signer = outbound_signature::Signer::for_actor(&instance_actor.ap_id, pem)
        .context("the instance actor's private key")?;
    let user_agent = user_agent(ctx);
    let config = FederationConfig::builder()
        .domain(ctx.config.domain())
        .app_data(ctx.clone())
        .client(http_client::build_federation_client(
            ctx,
            allow_private,
            &user_agent,
            Some(std::sync::Arc::new(fetch_signer)),
        )?)
        .request_timeout(http_client::REQUEST_TIMEOUT)
        .http_fetch_limit(FETCHES_PER_REQUEST)
        .url_verifier(Box::new(http_client::SsrfUrlVerifier::new(allow_private)))
        // Debug mode lets ids carry ports and plain http (test instances on localhost:PORT);
        // it is tied to the tests-only switch, like http URLs.
        .debug(allow_private)
        .allow_http_urls(allow_private)
        .build()
        .await?;
    Ok(config)
}

/// What our requests to other servers say they come from.
pub fn user_agent(ctx: &AppContext) -> String {
    format!(
        "cultureCnous/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        ctx.urls.base()
    )
}

/// Most remote fetches one inbound request may cause (actor, object, parents…): bounds the
/// work a hostile chain of references can make us do.
pub const FETCHES_PER_REQUEST: u32 = 20;

/// Delivery workers and periodic clean-ups; they stop when `shutdown` turns true. Deliveries
/// have their own client (`delivery::delivery_client`), not the library configuration's.
pub fn spawn_background_tasks(
    ctx: &AppContext,
    _federation: &FederationConfig,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    workers::spawn(ctx, shutdown)
}
