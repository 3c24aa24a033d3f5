//! Test support shared by the integration tests and `federation-tests`: one throwaway
//! PostgreSQL cluster per test process (or `TEST_DATABASE_URL`), a migrated template database,
//! and a fresh database cloned from it for each test.
//!
//! Not used by the server itself; public only so the other test crate can reach it.

use crate::{
    config::Config,
    db::{
        pool,
        postgres::{Durability, ManagedCluster},
    },
};
use std::{
    path::PathBuf,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

const TEMPLATE_DB: &str = "culturecnous_template";

/// The text of a real payload from another server, `path` relative to `shared/fixtures/`
/// (read-only, beside the repository). Panics naming the file: a test without its fixture
/// cannot say anything.
pub fn fixture(path: &str) -> String {
    let full = format!("{}/../shared/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Where test databases live, set up once per process.
pub struct TestDatabases {
    /// Connection string to a maintenance database, for CREATE DATABASE.
    admin_url: String,
    /// Builds the connection string of a named database.
    url_for: fn(&TestDatabases, &str) -> String,
    cluster: Option<ManagedCluster>,
    pub root: PathBuf,
}

static DATABASES: OnceLock<Result<TestDatabases, String>> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDatabases {
    /// The process-wide test databases, started on first use. Panics with the reason when
    /// PostgreSQL cannot be started: a test without its database cannot say anything.
    pub fn get() -> &'static TestDatabases {
        let result = DATABASES.get_or_init(|| {
            // Own thread and runtime: the caller's runtime may be single-threaded, and the
            // migration harness needs a multi-threaded one.
            std::thread::spawn(|| {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(Self::setup())
            })
            .join()
            .unwrap_or_else(|_| Err("test database setup panicked".into()))
        });
        match result {
            Ok(dbs) => dbs,
            Err(e) => panic!("cannot start the test database: {e}"),
        }
    }

    async fn setup() -> Result<TestDatabases, String> {
        let root = std::env::temp_dir().join(format!(
            "culturecnous-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        let dbs = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => TestDatabases {
                admin_url: url,
                url_for: |dbs, name| replace_db_name(&dbs.admin_url, name),
                cluster: None,
                root,
            },
            _ => {
                let cluster = ManagedCluster::new(&root.join("pg")).map_err(|e| e.to_string())?;
                cluster
                    .init_if_needed(Durability::Throwaway)
                    .await
                    .map_err(|e| e.to_string())?;
                cluster.start().await.map_err(|e| e.to_string())?;
                register_exit_stop(cluster.clone());
                TestDatabases {
                    admin_url: cluster.connection_string("postgres"),
                    url_for: |dbs, name| {
                        dbs.cluster
                            .as_ref()
                            .map(|c| c.connection_string(name))
                            .unwrap_or_default()
                    },
                    cluster: Some(cluster),
                    root,
                }
            }
        };
        dbs.create_template().await?;
        Ok(dbs)
    }

    async fn create_template(&self) -> Result<(), String> {
        let admin = connect(&self.admin_url).await?;
        for sql in [
            format!("DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"),
            format!("CREATE DATABASE {TEMPLATE_DB}"),
        ] {
            admin
                .batch_execute(&sql)
                .await
                .map_err(|e| format!("{sql}: {}", db_error(&e)))?;
        }
        let pool = pool::build_pool(&self.url(TEMPLATE_DB), 1).map_err(|e| e.to_string())?;
        pool::run_migrations(&pool)
            .await
            .map_err(|e| format!("migrate template: {e:#}"))?;
        pool.close();
        drop(pool);
        Ok(())
    }

    /// Connection string of database `name`.
    pub fn url(&self, name: &str) -> String {
        (self.url_for)(self, name)
    }

    /// The managed cluster, when tests run their own (fault tests restart it).
    pub fn cluster(&self) -> Option<&ManagedCluster> {
        self.cluster.as_ref()
    }

    /// A new, migrated, empty database; returns its connection string.
    pub async fn fresh_database(&self) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("test_{}_{n}", std::process::id());
        let admin = connect(&self.admin_url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // CREATE DATABASE … TEMPLATE fails while another session copies the same template:
        // retry briefly instead of serialising every test.
        let mut attempt = 0;
        loop {
            match admin
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
                .await
            {
                Ok(()) => break,
                Err(e) if attempt < 50 => {
                    attempt += 1;
                    tracing::debug!("create {name}: {e}, retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("create test database {name}: {}", db_error(&e)),
            }
        }
        self.url(&name)
    }

    /// A configuration for an instance under test: fresh database, own data folder,
    /// private addresses allowed, ids on `http://localhost:{port}`.
    pub async fn config(&self, port: u16) -> Config {
        let mut config = Config::default();
        config.database.url = self.fresh_database().await;
        config.database.pool_size = 8;
        config.instance.url = format!("http://localhost:{port}");
        config.http.bind = format!("127.0.0.1:{port}");
        config.federation.allow_private_addresses = true;
        config.federation.delivery_workers = 2;
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        config.storage.data_dir = self.root.join(format!("data-{n}"));
        config
    }
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// Swaps the database name of a `postgres://` URL or a `key=value` string.
fn replace_db_name(url: &str, name: &str) -> String {
    if let Ok(mut parsed) = url::Url::parse(url) {
        parsed.set_path(&format!("/{name}"));
        return parsed.to_string();
    }
    let mut parts: Vec<String> = url
        .split_whitespace()
        .filter(|kv| !kv.starts_with("dbname="))
        .map(str::to_string)
        .collect();
    parts.push(format!("dbname={name}"));
    parts.join(" ")
}

static EXIT_CLUSTER: OnceLock<ManagedCluster> = OnceLock::new();

extern "C" fn stop_cluster_at_exit() {
    if let Some(cluster) = EXIT_CLUSTER.get() {
        cluster.stop_blocking();
        let _ = std::fs::remove_dir_all(cluster.dir().parent().unwrap_or(cluster.dir()));
    }
}

/// The test process owns its cluster: stop it when the process exits, however the tests went.
fn register_exit_stop(cluster: ManagedCluster) {
    if EXIT_CLUSTER.set(cluster).is_ok() {
        // SAFETY: registering a plain `extern "C" fn` with no captured state.
        unsafe {
            libc::atexit(stop_cluster_at_exit);
        }
    }
}
