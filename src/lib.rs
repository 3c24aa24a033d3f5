//! cultureCnous: a federated platform where the cultural actors of a territory build projects
//! together. See DESIGN.md (shared with the team) for the map of the system.

pub mod body;
pub mod client_addr;
pub mod config;
pub mod context;
pub mod db;
pub mod error;
pub mod federation;
pub mod i18n;
#[cfg(test)]
mod layers;
pub mod sanitize;
pub mod service;
#[doc(hidden)]
pub mod testing;
pub mod urls;
pub mod web;

use crate::{
    config::Config,
    context::AppContext,
    db::{database::Database, pool},
};
use anyhow::Context as _;
use axum::Router;
use std::{fs::File, net::SocketAddr, path::PathBuf};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

/// The log filter when `RUST_LOG` is not set: our own messages from `info` up, and from the
/// libraries only what an operator acts on. Under hostile load html5ever warns once per
/// malformed document ("foster parenting not implemented"), the federation library notes
/// every fetch at `info`, and PostgreSQL notices arrive at `info`: none of that is news.
pub const DEFAULT_LOG_FILTER: &str = "info,activitypub_federation=warn,html5ever=error,\
markup5ever=error,ammonia=warn,tokio_postgres=warn,hyper=warn,hyper_util=warn,reqwest=warn,\
h2=warn,rustls=warn";

/// The whole router: federation, web pages and JSON API, with the shared middleware.
pub fn app(ctx: AppContext, federation: federation::FederationConfig) -> Router {
    let router = Router::new()
        .merge(federation::federation_routes())
        .merge(web::web_routes())
        .merge(web::api::api_routes());
    web::apply_middleware(router, ctx, federation)
}

/// A running instance: what `serve` runs and what tests start in-process.
pub struct RunningInstance {
    pub ctx: AppContext,
    pub federation: federation::FederationConfig,
    pub local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
    database: Database,
    _lock: Option<File>,
}

impl RunningInstance {
    /// Stops accepting requests, lets running ones and the workers finish, then stops the
    /// managed database if this process started it.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        for task in self.background {
            let _ = task.await;
        }
        self.ctx.pool.close();
        self.database.close().await;
    }

    /// A receiver that turns true when shutdown starts (for background tasks).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// Starts an instance on `http.bind`.
pub async fn start(config: Config) -> anyhow::Result<RunningInstance> {
    let listener = TcpListener::bind(&config.http.bind)
        .await
        .with_context(|| format!("cannot listen on {} (http.bind)", config.http.bind))?;
    start_with_listener(config, listener).await
}

/// Starts an instance on an already bound listener (tests bind port 0 first, then build the
/// instance URL from the port they got).
pub async fn start_with_listener(
    config: Config,
    listener: TcpListener,
) -> anyhow::Result<RunningInstance> {
    std::fs::create_dir_all(&config.storage.data_dir).with_context(|| {
        format!(
            "cannot create the data folder {} (storage.data_dir)",
            config.storage.data_dir.display()
        )
    })?;
    // Only the managed database needs one server per data folder; with `database.url`,
    // several servers (nodes behind a load balancer) share the database and the files.
    let lock = if config.database.url.is_empty() {
        Some(lock_data_dir(&config.storage.data_dir)?)
    } else {
        None
    };
    let database = Database::open(&config).await?;
    let result = start_on_database(config, listener, &database).await;
    match result {
        Ok((ctx, federation, local_addr, shutdown, server, background)) => Ok(RunningInstance {
            ctx,
            federation,
            local_addr,
            shutdown,
            server,
            background,
            database,
            _lock: lock,
        }),
        Err(e) => {
            database.close().await;
            Err(e)
        }
    }
}

impl AppContext {
    /// The context of a running instance: `federation` is its outbox and its network.
    pub fn new(config: Config, pool: db::DbPool) -> Self {
        AppContext::with_ports(
            config,
            pool,
            std::sync::Arc::new(federation::outbox::FederationOutbox),
            std::sync::Arc::new(federation::network::FederationNetwork),
        )
    }
}

type Started = (
    AppContext,
    federation::FederationConfig,
    SocketAddr,
    watch::Sender<bool>,
    JoinHandle<std::io::Result<()>>,
    Vec<JoinHandle<()>>,
);

async fn start_on_database(
    config: Config,
    listener: TcpListener,
    database: &Database,
) -> anyhow::Result<Started> {
    let pool = pool::build_pool(&database.url, config.database.pool_size)?;
    pool::run_migrations(&pool)
        .await
        .context("applying database migrations")?;
    std::fs::create_dir_all(config.storage.data_dir.join("media"))?;
    let ctx = AppContext::new(config, pool);
    service::instance_url::check_or_record(&ctx).await?;
    service::actors::ensure_system_actors(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("creating the system actors: {e}"))?;
    let federation = federation::build_config(&ctx).await?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut background = federation::spawn_background_tasks(&ctx, &federation, shutdown_rx.clone());
    background.extend(
        service::mail::worker::spawn(&ctx, shutdown_rx.clone())
            .map_err(|e| anyhow::anyhow!("starting the mail worker: {e}"))?,
    );
    background.push(service::digest::spawn(&ctx, shutdown_rx.clone()));
    background.push(tokio::spawn(service::workspaces::chat::hub::listen(
        ctx.pool.clone(),
        ctx.chat_hub.clone(),
        shutdown_rx.clone(),
    )));
    let router = app(ctx.clone(), federation.clone());
    let local_addr = listener.local_addr()?;
    let mut rx = shutdown_rx;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })
        .await
    });
    tracing::info!(
        "listening on {local_addr}, public URL {}",
        ctx.config.instance.url
    );
    Ok((ctx, federation, local_addr, shutdown, server, background))
}

/// One `serve` per data folder: a second one would fight over the managed database.
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<File> {
    let path: PathBuf = data_dir.join("serve.lock");
    let file = File::create(&path)
        .with_context(|| format!("cannot create the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow::anyhow!(
            "another cultureCnous server is already running with the data folder {}. \
             Stop it first, or give this one its own folder with CULTURECNOUS__STORAGE__DATA_DIR.",
            data_dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::from(e).context(format!("cannot lock {}", path.display())))
        }
    }
}

#[cfg(test)]
mod log_filter_tests {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::{EnvFilter, layer::SubscriberExt};

    /// Collects the targets of the events that pass the filter.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Seen {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if let Ok(mut seen) = self.0.lock() {
                seen.push(event.metadata().target().to_string());
            }
        }
    }

    #[test]
    fn third_party_noise_stays_out_of_the_default_log() {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(super::DEFAULT_LOG_FILTER))
            .with(seen.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "html5ever::tree_builder", "foster parenting not implemented");
            tracing::info!(target: "activitypub_federation::fetch", "Fetching remote object");
            tracing::info!(target: "tokio_postgres::connection", "NOTICE: skipping");
            tracing::info!(target: "culturecnous::federation::inbox", "inbound activity refused");
            tracing::error!(target: "html5ever::tree_builder", "a real html5ever error");
            tracing::warn!(target: "activitypub_federation::fetch", "a library warning");
        });
        let seen = seen.0.lock().expect("lock").clone();
        assert_eq!(
            seen,
            [
                "culturecnous::federation::inbox",
                "html5ever::tree_builder",
                "activitypub_federation::fetch"
            ]
        );
    }
}
