//! `AppContext`: the one context every handler and domain function receives. It is also the
//! activitypub_federation app data (`Data<AppContext>`). No globals.

use crate::{
    config::Config,
    db::{DbPool, PooledConn},
    error::AppResult,
    i18n::Lang,
    urls::Urls,
};
use std::{ops::Deref, path::PathBuf, sync::Arc};

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
    /// `http.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// This process's copy of the domain blocks (inbox, outbound client).
    pub blocks: crate::service::domain_blocks::BlockCache,
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
    pub fn new(config: Config, pool: DbPool) -> Self {
        let urls = Urls::new(&config.instance.url);
        let default_lang = Lang::parse(&config.instance.language).unwrap_or_default();
        let media_dir = config.storage.data_dir.join("media");
        // Validated with the configuration: an invalid entry never gets this far.
        let trusted_proxies =
            crate::client_addr::parse_cidrs(&config.http.trusted_proxies).unwrap_or_default();
        AppContext(Arc::new(Inner {
            config,
            pool,
            urls,
            default_lang,
            media_dir,
            trusted_proxies,
            blocks: Default::default(),
        }))
    }

    /// A pooled connection; a pool failure becomes 503 (the client may retry).
    pub async fn conn(&self) -> AppResult<PooledConn> {
        Ok(self.pool.get().await?)
    }
}
