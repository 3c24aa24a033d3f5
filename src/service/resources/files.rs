//! The file of a resource: versions (each upload adds version n+1 and keeps the older ones)
//! and downloads. The bytes live in the configured store (`service::storage`) under
//! `resources/{resource}/{version}`; what a file may be is `service::uploads`' rule.

use super::{page_path, visible, write::changeable_for_update, write::record_change};
use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        resources::{DbResource, DbResourceVersion, NewResourceVersion},
    },
    error::{AppError, AppResult},
    service::{storage, uploads},
};
use bytes::Bytes;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A file as uploaded: its name as sent and its bytes.
#[derive(Debug)]
pub struct FileUpload {
    pub file_name: String,
    pub bytes: Bytes,
}

/// A file that passed the checks, not stored yet.
#[derive(Debug)]
pub(super) struct CheckedFile {
    name: String,
    content_type: &'static str,
    bytes: Bytes,
}

/// A file in the store, its row not written yet.
#[derive(Debug)]
pub(super) struct StoredFile {
    version_id: Uuid,
    key: String,
    name: String,
    content_type: &'static str,
    size: i64,
    sha256: String,
}

/// Checks a file before anything is written (size 413, name and content 422 on `file`).
pub(super) fn check_upload(ctx: &AppContext, file: FileUpload) -> AppResult<CheckedFile> {
    let (name, content_type) = uploads::check_file(ctx, &file.file_name, &file.bytes)?;
    Ok(CheckedFile {
        name,
        content_type,
        bytes: file.bytes,
    })
}

/// Writes a checked file's bytes under a fresh key of resource `resource_id`.
pub(super) async fn store_file(
    ctx: &AppContext,
    resource_id: i64,
    file: CheckedFile,
) -> AppResult<StoredFile> {
    let version_id = Uuid::new_v4();
    let key = storage::resource_key(resource_id, version_id);
    let sha256 = hex::encode(Sha256::digest(&file.bytes));
    let size = i64::try_from(file.bytes.len()).map_err(|_| uploads::too_large(ctx))?;
    ctx.storage.put(&key, file.bytes).await?;
    Ok(StoredFile {
        version_id,
        key,
        name: file.name,
        content_type: file.content_type,
        size,
        sha256,
    })
}

/// Removes bytes whose rows could not be written.
pub(super) async fn unstore(ctx: &AppContext, stored: &StoredFile) {
    ctx.storage.remove(&stored.key).await;
}

/// Writes the row of the next version of `resource` for a stored file.
pub(super) async fn insert_version(
    conn: &mut AsyncPgConnection,
    resource: &DbResource,
    stored: &StoredFile,
    actor_id: i64,
) -> AppResult<DbResourceVersion> {
    let number = db::resources::last_version_number(conn, resource.id).await? + 1;
    Ok(db::resources::insert_version(
        conn,
        &NewResourceVersion {
            id: stored.version_id,
            resource_id: resource.id,
            version: number,
            file_name: stored.name.clone(),
            content_type: stored.content_type.to_string(),
            size_bytes: stored.size,
            sha256: stored.sha256.clone(),
            storage_key: stored.key.clone(),
            created_by_actor_id: Some(actor_id),
        },
    )
    .await?)
}

/// Adds version n+1 of the resource's file (its author or staff). Other servers hear of the
/// change when the resource is public.
pub async fn add_version(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    file: FileUpload,
) -> AppResult<(DbResource, DbResourceVersion)> {
    {
        // Who may do it first: a stranger learns nothing from the file's checks.
        let mut conn = ctx.conn().await?;
        conn.transaction::<_, AppError, _>(async |conn| {
            changeable_for_update(conn, account, id).await.map(|_| ())
        })
        .await?;
    }
    let checked = check_upload(ctx, file)?;
    let stored = store_file(ctx, id, checked).await?;
    let mut conn = ctx.conn().await?;
    let written = conn
        .transaction::<_, AppError, _>(async |conn| {
            let before = changeable_for_update(conn, account, id).await?;
            let version = insert_version(conn, &before, &stored, account.actor_id).await?;
            let after = db::resources::touch(conn, before.id).await?;
            record_change(ctx, conn, Some(&before), &after).await?;
            Ok((after, version))
        })
        .await;
    if written.is_err() {
        unstore(ctx, &stored).await;
    }
    written
}

/// A version `viewer` may download, and where its bytes are.
#[derive(Debug)]
pub struct Download {
    pub resource: DbResource,
    pub version: DbResourceVersion,
}

/// Version `number` (`None`: the latest) of a resource `viewer` may see; 404 otherwise.
pub async fn download(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    id: i64,
    number: Option<i32>,
) -> AppResult<Download> {
    let resource = visible(ctx, viewer, id).await?;
    let mut conn = ctx.conn().await?;
    let number = match number {
        Some(n) => n,
        None => db::resources::last_version_number(&mut conn, resource.id).await?,
    };
    let version = db::resources::version(&mut conn, resource.id, number)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Download { resource, version })
}

/// Where version `n` of a resource is downloaded from (site-relative).
pub fn download_path(resource_id: i64, number: i32) -> String {
    format!("{}/versions/{number}", page_path(resource_id))
}
