//! `federation`'s side of [`crate::service::network::Network`]: WebFinger and actor fetches
//! through the library, with our SSRF rules.

use crate::{
    context::{AppContext, Data},
    db::actors::DbActor,
    error::AppResult,
    federation::http_client,
    service::network::Network,
};
use activitypub_federation::fetch::{object_id::ObjectId, webfinger::webfinger_resolve_actor};
use std::net::IpAddr;
use url::Url;

/// The network port plugged into every running context.
#[derive(Debug, Clone, Copy, Default)]
pub struct FederationNetwork;

#[async_trait::async_trait]
impl Network for FederationNetwork {
    async fn webfinger_actor(&self, data: &Data, user: &str, host: &str) -> AppResult<DbActor> {
        webfinger_resolve_actor::<AppContext, DbActor>(&format!("{user}@{host}"), data).await
    }

    async fn fetch_actor(&self, data: &Data, url: Url) -> AppResult<DbActor> {
        ObjectId::<DbActor>::from(url).dereference(data).await
    }

    fn forbidden_address(&self, ip: IpAddr) -> Option<&'static str> {
        http_client::forbidden_range(ip)
    }
}
