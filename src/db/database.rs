//! Which database to use: the configured URL, or the managed cluster under `data_dir`.

use super::postgres::{APP_DATABASE, ClusterError, Durability, ManagedCluster};
use crate::config::Config;

/// A resolved database: its connection string, and the managed cluster when there is one.
pub struct Database {
    pub url: String,
    pub cluster: Option<ManagedCluster>,
    /// True when this process started the cluster and so must stop it.
    pub started_here: bool,
}

impl Database {
    /// Uses `database.url` when set; otherwise creates (first time) and starts (if not already
    /// running, e.g. under a running `serve`) the private cluster under `data_dir/postgres`.
    pub async fn open(config: &Config) -> Result<Database, ClusterError> {
        if !config.database.url.is_empty() {
            return Ok(Database {
                url: config.database.url.clone(),
                cluster: None,
                started_here: false,
            });
        }
        let cluster = ManagedCluster::new(&config.storage.data_dir.join("postgres"))?;
        cluster.init_if_needed(Durability::Durable).await?;
        let started_here = cluster.start().await?;
        cluster.ensure_database(APP_DATABASE).await?;
        Ok(Database {
            url: cluster.connection_string(APP_DATABASE),
            cluster: Some(cluster),
            started_here,
        })
    }

    /// Stops the managed cluster if this process started it.
    pub async fn close(&self) {
        if let (Some(cluster), true) = (&self.cluster, self.started_here) {
            if let Err(e) = cluster.stop().await {
                tracing::error!("stopping the managed PostgreSQL failed: {e}");
            } else {
                tracing::info!("managed PostgreSQL stopped");
            }
        }
    }
}
