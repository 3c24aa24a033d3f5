//! Where uploaded files (workspace documents, resources of the library) are kept: a folder under `data_dir`
//! (`storage.backend = "local"`, the default) or a bucket of an S3-compatible service
//! (`"s3"`), both through the `object_store` crate. Built once at start into the context.
//!
//! Keys are opaque (`workspaces/{workspace}/{version}`, `resources/{resource}/{version}`): a user's file name never
//! becomes part of a path.

use crate::{
    config::StorageConfig,
    error::{AppError, AppResult},
};
use bytes::Bytes;
use futures::{StreamExt, stream::BoxStream};
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem,
    path::Path as StorePath, prefix::PrefixStore,
};
use std::sync::Arc;
use uuid::Uuid;

/// The configured store, or why it could not be built (then every use answers 503).
#[derive(Clone)]
pub struct Storage {
    store: Result<Arc<dyn ObjectStore>, String>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.store {
            Ok(s) => write!(f, "Storage({s})"),
            Err(e) => write!(f, "Storage(unavailable: {e})"),
        }
    }
}

/// The key of one stored version of a workspace document.
pub fn version_key(workspace_id: Uuid, version_id: Uuid) -> String {
    format!("workspaces/{workspace_id}/{version_id}")
}

/// The key of one stored version of a resource of the library.
pub fn resource_key(resource_id: i64, version_id: Uuid) -> String {
    format!("resources/{resource_id}/{version_id}")
}

impl Storage {
    /// The store `config` names. Nothing is written yet: the local folder is created with the
    /// first file.
    pub fn from_config(config: &StorageConfig) -> Self {
        Self {
            store: build(config),
        }
    }

    fn store(&self) -> AppResult<&Arc<dyn ObjectStore>> {
        self.store
            .as_ref()
            .map_err(|e| AppError::unavailable(format!("file storage unavailable: {e}")))
    }

    fn path(key: &str) -> AppResult<StorePath> {
        StorePath::parse(key).map_err(|e| AppError::internal(format!("storage key {key}: {e}")))
    }

    /// Writes `bytes` under `key` (replacing what was there).
    pub async fn put(&self, key: &str, bytes: Bytes) -> AppResult<()> {
        let store = self.store()?;
        store
            .put(&Self::path(key)?, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| AppError::unavailable(format!("cannot store {key}: {e}")))?;
        Ok(())
    }

    /// The bytes under `key`, as a stream, and their length. 404 when absent.
    pub async fn get(
        &self,
        key: &str,
    ) -> AppResult<(BoxStream<'static, std::io::Result<Bytes>>, u64)> {
        let store = self.store()?;
        let got = store.get(&Self::path(key)?).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => AppError::not_found(),
            e => AppError::unavailable(format!("cannot read {key}: {e}")),
        })?;
        let size = got.meta.size;
        let stream = got
            .into_stream()
            .map(|r| r.map_err(std::io::Error::other))
            .boxed();
        Ok((stream, size))
    }

    /// Whether something is stored under `key`.
    pub async fn exists(&self, key: &str) -> AppResult<bool> {
        let store = self.store()?;
        match store.head(&Self::path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(AppError::unavailable(format!("cannot read {key}: {e}"))),
        }
    }

    /// Removes `key`; a missing object is not an error, a failure is only logged (the row
    /// that named it is already gone).
    pub async fn remove(&self, key: &str) {
        let Ok(store) = self.store() else { return };
        let Ok(path) = Self::path(key) else { return };
        match store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!("could not remove stored file {key}: {e}"),
        }
    }
}

fn build(config: &StorageConfig) -> Result<Arc<dyn ObjectStore>, String> {
    match config.backend.as_str() {
        "s3" => {
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(&config.s3_bucket)
                .with_region(&config.s3_region)
                .with_access_key_id(&config.s3_access_key_id)
                .with_secret_access_key(&config.s3_secret_access_key)
                .with_allow_http(config.s3_allow_http);
            if !config.s3_endpoint.is_empty() {
                builder = builder.with_endpoint(&config.s3_endpoint);
            }
            builder
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| e.to_string())
        }
        _ => {
            let dir = std::path::absolute(config.data_dir.join("files"))
                .map_err(|e| format!("storage.data_dir: {e}"))?;
            let prefix = StorePath::from_absolute_path(&dir).map_err(|e| e.to_string())?;
            Ok(Arc::new(PrefixStore::new(LocalFileSystem::new(), prefix)))
        }
    }
}

/// Whether `config` builds a store (checked with the configuration, naming the key).
pub fn check(config: &StorageConfig) -> Result<(), String> {
    build(config).map(|_| ())
}
