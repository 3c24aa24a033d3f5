//! `AppContext`: the one context every handler and domain function receives. It is also the
//! activitypub_federation app data (`Data<AppContext>`). No globals.
//!
//! It carries the two ports through which `service` reaches the network without importing
//! `federation`: the [`Outbox`] that turns outbound events into activities and deliveries,
//! and the [`Network`] that resolves remote actors. `federation` implements both; the
//! constructor that plugs them in (`AppContext::new`) lives in `lib.rs`, the one place that
//! knows every layer.

use crate::{
    config::Config,
    db::{DbPool, PooledConn},
    error::AppResult,
    i18n::Lang,
    service::{network::Network, outbound::Outbox},
    urls::Urls,
};
use std::{ops::Deref, path::PathBuf, sync::Arc};

/// The library's per-request data: the context plus the fetch budget of one request. Domain
/// functions that may reach the network take it and hand it to [`Network`].
pub type Data = activitypub_federation::config::Data<AppContext>;

#[derive(Clone)]
pub struct AppContext(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub pool: DbPool,
    pub urls: Urls,
    /// Default interface language (`instance.language`).
    pub default_lang: Lang,
    /// Folder for uploaded files (avatars, documents…).
    pub media_dir: PathBuf,
    /// Where domain functions record what must be federated (see `service::outbound`).
    pub outbox: Arc<dyn Outbox>,
    /// Remote look-ups domain functions need (see `service::network`).
    pub network: Arc<dyn Network>,
    /// `http.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// This process's copy of the domain blocks (inbox, outbound client).
    pub blocks: crate::service::domain_blocks::BlockCache,
    /// Where workspace documents are stored (`storage.backend`), built once.
    pub storage: crate::service::storage::Storage,
    /// This process's live chat channels (see `service::workspaces::chat::hub`).
    pub chat_hub: crate::service::workspaces::chat::hub::Hub,
}

impl Deref for AppContext {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext")
            .field("url", &self.config.instance.url)
            .finish()
    }
}

impl AppContext {
    /// A context with the given outbox and network ports. `AppContext::new` (in `lib.rs`)
    /// plugs in the federation ones.
    pub fn with_ports(
        config: Config,
        pool: DbPool,
        outbox: Arc<dyn Outbox>,
        network: Arc<dyn Network>,
    ) -> Self {
        let urls = Urls::new(&config.instance.url);
        let default_lang = Lang::parse(&config.instance.language).unwrap_or_default();
        let media_dir = config.storage.data_dir.join("media");
        // Validated with the configuration: an invalid entry never gets this far.
        let trusted_proxies =
            crate::client_addr::parse_cidrs(&config.http.trusted_proxies).unwrap_or_default();
        let storage = crate::service::storage::Storage::from_config(&config.storage);
        AppContext(Arc::new(Inner {
            config,
            pool,
            urls,
            default_lang,
            media_dir,
            outbox,
            network,
            trusted_proxies,
            blocks: Default::default(),
            storage,
            chat_hub: Default::default(),
        }))
    }

    /// The language named by `code` (a member's stored choice), else the instance's.
    pub fn lang_or_default(&self, code: Option<&str>) -> Lang {
        code.and_then(Lang::parse).unwrap_or(self.default_lang)
    }

    /// A pooled connection; a pool failure becomes 503 (the client may retry).
    pub async fn conn(&self) -> AppResult<PooledConn> {
        Ok(self.pool.get().await?)
    }
}
