//! The remote look-ups domain functions need (following `user@host`, resolving a mention),
//! declared here and implemented by `federation`, reached through `AppContext::network`, so
//! `service` never imports `federation`. Every look-up goes through the library's request
//! data ([`Data`]): it carries the fetch budget of the request that caused it.

use crate::{context::Data, db::actors::DbActor, error::AppResult};
use std::net::IpAddr;
use url::Url;

#[async_trait::async_trait]
pub trait Network: Send + Sync {
    /// The remote actor `user@host` names, found through WebFinger and stored (or refreshed).
    async fn webfinger_actor(&self, data: &Data, user: &str, host: &str) -> AppResult<DbActor>;

    /// The remote actor whose id is `url`, fetched (signed by the instance actor) and stored,
    /// or the stored copy while it is fresh.
    async fn fetch_actor(&self, data: &Data, url: Url) -> AppResult<DbActor>;

    /// Why an outbound request to `ip` is never made (loopback, private network…), if it is
    /// not; the same rule the outbound HTTP client applies.
    fn forbidden_address(&self, ip: IpAddr) -> Option<&'static str>;
}
