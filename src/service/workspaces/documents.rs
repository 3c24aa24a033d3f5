//! Documents of a workspace: folders, uploads (content type decided by the bytes, checked
//! against the name's extension), versions (the same name in the same folder adds version
//! n+1 and keeps the older ones), downloads and deletion.
//!
//! The bytes live in the configured store (`service::storage`) under opaque keys; a
//! document of a remote workspace held for our members has `remote_url` versions instead
//! (fetched, signed by the member, when downloaded: see `federation::workspaces::documents`).

use super::{Access, Role, access_as};
use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        workspace_documents::{
            DbWorkspaceDocument, DbWorkspaceDocumentVersion, DbWorkspaceFolder,
            NewWorkspaceDocument, NewWorkspaceDocumentVersion,
        },
        workspaces::DbWorkspace,
    },
    error::{AppError, AppResult, ErrorKind},
    service::{
        notifications::{self, Event, NotificationKind, WorkspaceRefs},
        outbound::{self, OutboundEvent},
        storage,
        uploads::{self, check_name},
    },
};
use bytes::Bytes;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use crate::service::uploads::{MAX_NAME_CHARS, detect, is_inline_image, too_large};

/// An upload: the file's name as sent, the folder chosen (`None`: top level), the bytes.
#[derive(Debug)]
pub struct Upload {
    pub file_name: String,
    pub folder_id: Option<Uuid>,
    pub bytes: Bytes,
}

/// A document with its newest version and that version's uploader.
#[derive(Debug, Clone)]
pub struct Listed {
    pub document: DbWorkspaceDocument,
    pub latest: DbWorkspaceDocumentVersion,
    pub uploader: Option<DbActor>,
}

/// A folder's content, and where it is.
#[derive(Debug, Clone)]
pub struct FolderView {
    pub access: Access,
    /// `None`: the top level.
    pub folder: Option<DbWorkspaceFolder>,
    /// From the top level down to the folder's parent.
    pub breadcrumb: Vec<DbWorkspaceFolder>,
    pub subfolders: Vec<DbWorkspaceFolder>,
    /// Every folder of the workspace with its path ("Affiches / 2026"), for the upload form.
    pub all_folders: Vec<(DbWorkspaceFolder, String)>,
    pub documents: Vec<Listed>,
}

/// One document with every version (newest first) and their uploaders.
#[derive(Debug, Clone)]
pub struct DocumentView {
    pub access: Access,
    pub document: DbWorkspaceDocument,
    pub folder_path: Vec<DbWorkspaceFolder>,
    pub versions: Vec<(DbWorkspaceDocumentVersion, Option<DbActor>)>,
}

impl DocumentView {
    /// Whether the viewer may delete it (its uploader, or a coordinator or the owner).
    pub fn can_delete(&self) -> bool {
        !self.access.workspace.is_archived()
            && (self.access.role >= Role::Coordinator
                || self.document.created_by_actor_id == Some(self.access.member.actor_id))
    }
}

fn ancestors(all: &[DbWorkspaceFolder], id: Option<Uuid>) -> Vec<DbWorkspaceFolder> {
    let mut chain = Vec::new();
    let mut next = id;
    while let Some(id) = next {
        let Some(f) = all.iter().find(|f| f.id == id) else {
            break;
        };
        if chain.iter().any(|c: &DbWorkspaceFolder| c.id == f.id) {
            break;
        }
        chain.push(f.clone());
        next = f.parent_id;
    }
    chain.reverse();
    chain
}

/// The folder and every folder under it.
fn subtree(all: &[DbWorkspaceFolder], root: Uuid) -> Vec<Uuid> {
    let mut ids = vec![root];
    let mut i = 0;
    while i < ids.len() {
        let parent = ids[i];
        for f in all.iter().filter(|f| f.parent_id == Some(parent)) {
            if !ids.contains(&f.id) {
                ids.push(f.id);
            }
        }
        i += 1;
    }
    ids
}

async fn listed(
    conn: &mut AsyncPgConnection,
    documents: Vec<DbWorkspaceDocument>,
) -> AppResult<Vec<Listed>> {
    let ids: Vec<Uuid> = documents.iter().map(|d| d.id).collect();
    let mut latest = db::workspace_documents::latest_versions(conn, &ids).await?;
    Ok(documents
        .into_iter()
        .filter_map(|document| {
            let i = latest
                .iter()
                .position(|(v, _)| v.document_id == document.id)?;
            let (latest, uploader) = latest.swap_remove(i);
            Some(Listed {
                document,
                latest,
                uploader,
            })
        })
        .collect())
}

/// The content of folder `folder_id` (`None`: the top level), for a member.
pub async fn folder_view(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    folder_id: Option<Uuid>,
) -> AppResult<FolderView> {
    let mut conn = ctx.conn().await?;
    let access = access_as(&mut conn, workspace_id, account.actor_id).await?;
    let all = db::workspace_documents::folders(&mut conn, workspace_id).await?;
    let folder = match folder_id {
        Some(id) => Some(
            all.iter()
                .find(|f| f.id == id)
                .cloned()
                .ok_or_else(AppError::not_found)?,
        ),
        None => None,
    };
    let mut breadcrumb = ancestors(&all, folder_id);
    breadcrumb.pop();
    let subfolders = all
        .iter()
        .filter(|f| f.parent_id == folder_id)
        .cloned()
        .collect();
    let mut all_folders: Vec<(DbWorkspaceFolder, String)> = all
        .iter()
        .map(|f| {
            let path = ancestors(&all, Some(f.id))
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(" / ");
            (f.clone(), path)
        })
        .collect();
    all_folders.sort_by_key(|a| a.1.to_lowercase());
    let documents =
        db::workspace_documents::live_in_folder(&mut conn, workspace_id, folder_id).await?;
    let documents = listed(&mut conn, documents).await?;
    Ok(FolderView {
        access,
        folder,
        breadcrumb,
        subfolders,
        all_folders,
        documents,
    })
}

/// Every live document of the workspace (every folder), newest change first, for a member.
pub async fn all_documents(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
) -> AppResult<Vec<Listed>> {
    let mut conn = ctx.conn().await?;
    access_as(&mut conn, workspace_id, account.actor_id).await?;
    let folders = db::workspace_documents::folders(&mut conn, workspace_id).await?;
    let mut docs = db::workspace_documents::live_in_folder(&mut conn, workspace_id, None).await?;
    let ids: Vec<Uuid> = folders.iter().map(|f| f.id).collect();
    docs.extend(db::workspace_documents::live_in_folders(&mut conn, &ids).await?);
    docs.sort_by_key(|d| std::cmp::Reverse(d.updated_at));
    listed(&mut conn, docs).await
}

/// Every folder of the workspace, for a member.
pub async fn folders(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
) -> AppResult<Vec<DbWorkspaceFolder>> {
    let mut conn = ctx.conn().await?;
    access_as(&mut conn, workspace_id, account.actor_id).await?;
    Ok(db::workspace_documents::folders(&mut conn, workspace_id).await?)
}

/// A document and its versions, for a member.
pub async fn document_view(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    document_id: Uuid,
) -> AppResult<DocumentView> {
    let mut conn = ctx.conn().await?;
    let access = access_as(&mut conn, workspace_id, account.actor_id).await?;
    let document = db::workspace_documents::live_by_id(&mut conn, workspace_id, document_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let all = db::workspace_documents::folders(&mut conn, workspace_id).await?;
    let folder_path = ancestors(&all, document.folder_id);
    let versions = db::workspace_documents::versions(&mut conn, document.id).await?;
    Ok(DocumentView {
        access,
        document,
        folder_path,
        versions,
    })
}

fn name_error(key: &'static str) -> AppError {
    AppError::field("name", key)
}

/// Creates a folder (under `parent_id`, or at the top level).
pub async fn create_folder(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    parent_id: Option<Uuid>,
    name: &str,
) -> AppResult<DbWorkspaceFolder> {
    let checked = check_name(name);
    let mut conn = ctx.conn().await?;
    let access = access_as(&mut conn, workspace_id, account.actor_id).await?;
    access.require_writable()?;
    let name = checked.map_err(name_error)?;
    if let Some(parent) = parent_id {
        db::workspace_documents::folder(&mut conn, workspace_id, parent)
            .await?
            .ok_or_else(|| AppError::field("parent", "workspace_documents.folder.unknown"))?;
    }
    db::workspace_documents::insert_folder(
        &mut conn,
        workspace_id,
        parent_id,
        &name,
        account.actor_id,
    )
    .await?
    .ok_or_else(|| name_error("workspace_documents.folder.taken"))
}

/// Renames a folder.
pub async fn rename_folder(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    folder_id: Uuid,
    name: &str,
) -> AppResult<DbWorkspaceFolder> {
    let checked = check_name(name);
    let mut conn = ctx.conn().await?;
    let access = access_as(&mut conn, workspace_id, account.actor_id).await?;
    access.require_writable()?;
    let name = checked.map_err(name_error)?;
    db::workspace_documents::folder(&mut conn, workspace_id, folder_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    db::workspace_documents::rename_folder(&mut conn, folder_id, &name)
        .await?
        .ok_or_else(|| name_error("workspace_documents.folder.taken"))
}

/// Deletes a folder. A folder holding documents or folders is deleted only with
/// `recursive` (the confirmation of the form), and only by a coordinator or the owner: its
/// documents are deleted with it.
pub async fn delete_folder(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    folder_id: Uuid,
    recursive: bool,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let keys = conn
        .transaction::<Vec<String>, AppError, _>(async |conn| {
            let access = access_as(conn, workspace_id, account.actor_id).await?;
            access.require_writable()?;
            let all = db::workspace_documents::folders(conn, workspace_id).await?;
            if !all.iter().any(|f| f.id == folder_id) {
                return Err(AppError::not_found());
            }
            let ids = subtree(&all, folder_id);
            let live = db::workspace_documents::live_in_folders(conn, &ids).await?;
            if (ids.len() > 1 || !live.is_empty()) && !recursive {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "the folder is not empty: confirm to delete its content too",
                )
                .with_message("workspace_documents.folder.not_empty"));
            }
            if !live.is_empty() {
                access.require(Role::Coordinator)?;
            }
            let actor = db::actors::by_id(conn, account.actor_id).await?;
            let deleted = db::workspace_documents::mark_deleted(
                conn,
                &live.iter().map(|d| d.id).collect::<Vec<_>>(),
            )
            .await?;
            for document in deleted {
                outbound::record(
                    ctx,
                    conn,
                    OutboundEvent::WorkspaceDocumentDeleted {
                        workspace: Box::new(access.workspace.clone()),
                        document: Box::new(document),
                        actor: Box::new(actor.clone()),
                    },
                )
                .await?;
            }
            let keys = db::workspace_documents::storage_keys_in_folders(conn, &ids).await?;
            db::workspace_documents::delete_folders(conn, &ids).await?;
            Ok(keys)
        })
        .await?;
    for key in keys {
        ctx.storage.remove(&key).await;
    }
    Ok(())
}

/// Adds a file: a new document, or version n+1 of the live document of the same name in the
/// same folder. The bytes are stored first; when the rows cannot be written they are removed.
/// The other local members are notified; remote members get a `Create(Document)`.
pub async fn upload(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    upload: Upload,
) -> AppResult<(DbWorkspaceDocument, DbWorkspaceDocumentVersion)> {
    {
        let mut conn = ctx.conn().await?;
        let access = access_as(&mut conn, workspace_id, account.actor_id).await?;
        access.require_writable()?;
    }
    let (name, content_type) = check_upload(ctx, &upload)?;
    let version_id = Uuid::new_v4();
    let key = storage::version_key(workspace_id, version_id);
    let sha256 = hex::encode(Sha256::digest(&upload.bytes));
    let size = i64::try_from(upload.bytes.len()).map_err(|_| too_large(ctx))?;
    ctx.storage.put(&key, upload.bytes).await?;
    let mut conn = ctx.conn().await?;
    let written = conn
        .transaction::<_, AppError, _>(async |conn| {
            let access = access_as(conn, workspace_id, account.actor_id).await?;
            access.require_writable()?;
            if let Some(folder) = upload.folder_id {
                db::workspace_documents::folder(conn, workspace_id, folder)
                    .await?
                    .ok_or_else(|| {
                        AppError::field("folder", "workspace_documents.folder.unknown")
                    })?;
            }
            let document = match db::workspace_documents::live_by_name_for_update(
                conn,
                workspace_id,
                upload.folder_id,
                &name,
            )
            .await?
            {
                Some(d) => d,
                None => {
                    let id = Uuid::new_v4();
                    db::workspace_documents::insert_document(
                        conn,
                        &NewWorkspaceDocument {
                            id,
                            workspace_id,
                            folder_id: upload.folder_id,
                            name: name.clone(),
                            ap_id: ctx
                                .urls
                                .workspace_object(&workspace_id, "documents", &id)
                                .to_string(),
                            created_by_actor_id: Some(account.actor_id),
                        },
                    )
                    .await?
                }
            };
            let number = db::workspace_documents::last_version_number(conn, document.id).await? + 1;
            let version = db::workspace_documents::insert_version(
                conn,
                &NewWorkspaceDocumentVersion {
                    id: version_id,
                    document_id: document.id,
                    version: number,
                    ap_id: ctx
                        .urls
                        .workspace_object(&workspace_id, "versions", &version_id)
                        .to_string(),
                    uploaded_by_actor_id: Some(account.actor_id),
                    storage_key: Some(key.clone()),
                    remote_url: None,
                    content_type: content_type.to_string(),
                    size_bytes: size,
                    sha256: sha256.clone(),
                },
            )
            .await?;
            let document = db::workspace_documents::touch(conn, document.id).await?;
            notify_members(ctx, conn, &access.workspace, &document, account.actor_id).await?;
            let uploader = db::actors::by_id(conn, account.actor_id).await?;
            outbound::record(
                ctx,
                conn,
                OutboundEvent::WorkspaceDocumentAdded {
                    workspace: Box::new(access.workspace.clone()),
                    document: Box::new(document.clone()),
                    version: Box::new(version.clone()),
                    uploader: Box::new(uploader),
                },
            )
            .await?;
            Ok((document, version))
        })
        .await;
    if written.is_err() {
        ctx.storage.remove(&key).await;
    }
    written
}

/// Tells the local members other than `actor_id` that a document was added.
pub async fn notify_members(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    document: &DbWorkspaceDocument,
    actor_id: i64,
) -> AppResult<()> {
    for (member, actor) in db::workspaces::members(conn, workspace.id).await? {
        if !actor.local || member.actor_id == actor_id {
            continue;
        }
        let Some(account) = db::accounts::by_actor_id(conn, member.actor_id).await? else {
            continue;
        };
        notifications::record(
            ctx,
            conn,
            Event {
                account_id: account.id,
                kind: NotificationKind::WorkspaceDocument,
                actor_id: Some(actor_id),
                post_id: None,
                comment_id: None,
                object_ap_id: Some(document.ap_id.clone()),
                alert_id: None,
                dedupe_key: None,
                report_id: None,
                moderation_action_id: None,
                loan_request_id: None,
                venue_id: None,
                workspace: WorkspaceRefs {
                    workspace_id: Some(workspace.id),
                    document_id: Some(document.id),
                    ..Default::default()
                },
            },
        )
        .await?;
    }
    Ok(())
}

/// Deletes a document (its uploader, or a coordinator or the owner): the row is kept as
/// deleted, its stored bytes are removed once the deletion is committed.
pub async fn delete(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    document_id: Uuid,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let keys = conn
        .transaction::<Vec<String>, AppError, _>(async |conn| {
            let access = access_as(conn, workspace_id, account.actor_id).await?;
            let document = db::workspace_documents::live_by_id(conn, workspace_id, document_id)
                .await?
                .ok_or_else(AppError::not_found)?;
            access.require_writable()?;
            if document.created_by_actor_id != Some(account.actor_id) {
                access.require(Role::Coordinator)?;
            }
            let deleted = db::workspace_documents::mark_deleted(conn, &[document.id]).await?;
            let actor = db::actors::by_id(conn, account.actor_id).await?;
            for document in deleted {
                outbound::record(
                    ctx,
                    conn,
                    OutboundEvent::WorkspaceDocumentDeleted {
                        workspace: Box::new(access.workspace.clone()),
                        document: Box::new(document),
                        actor: Box::new(actor.clone()),
                    },
                )
                .await?;
            }
            Ok(db::workspace_documents::storage_keys(conn, document.id).await?)
        })
        .await?;
    for key in keys {
        ctx.storage.remove(&key).await;
    }
    Ok(())
}

/// Where the bytes of a version are.
#[derive(Debug)]
pub enum Source {
    /// In our store, under this key.
    Stored(String),
    /// On the remote workspace's server: fetched signed by this member's actor.
    Remote { url: String, member: Box<DbActor> },
}

/// A version a member may download.
#[derive(Debug)]
pub struct Download {
    pub document: DbWorkspaceDocument,
    pub version: DbWorkspaceDocumentVersion,
    pub source: Source,
}

/// Version `number` (`None`: the latest) of a live document, for a member.
pub async fn download(
    ctx: &AppContext,
    account: &DbAccount,
    workspace_id: Uuid,
    document_id: Uuid,
    number: Option<i32>,
) -> AppResult<Download> {
    let mut conn = ctx.conn().await?;
    access_as(&mut conn, workspace_id, account.actor_id).await?;
    let document = db::workspace_documents::live_by_id(&mut conn, workspace_id, document_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let number = match number {
        Some(n) => n,
        None => db::workspace_documents::last_version_number(&mut conn, document.id).await?,
    };
    let version = db::workspace_documents::version(&mut conn, document.id, number)
        .await?
        .ok_or_else(AppError::not_found)?;
    let source = source_of(&mut conn, &version, account.actor_id).await?;
    Ok(Download {
        document,
        version,
        source,
    })
}

async fn source_of(
    conn: &mut AsyncPgConnection,
    version: &DbWorkspaceDocumentVersion,
    member_actor_id: i64,
) -> AppResult<Source> {
    match (&version.storage_key, &version.remote_url) {
        (Some(key), _) => Ok(Source::Stored(key.clone())),
        (None, Some(url)) => Ok(Source::Remote {
            url: url.clone(),
            member: Box::new(db::actors::by_id(conn, member_actor_id).await?),
        }),
        (None, None) => Err(AppError::not_found()),
    }
}

/// A version of a live document of a workspace of ours, for a remote member's signed fetch
/// (`member_actor_id` already checked as a member by the caller).
pub async fn version_for_member(
    ctx: &AppContext,
    workspace_id: Uuid,
    version_id: Uuid,
    member_actor_id: i64,
) -> AppResult<Download> {
    let mut conn = ctx.conn().await?;
    access_as(&mut conn, workspace_id, member_actor_id).await?;
    let (version, document) = db::workspace_documents::version_by_id(&mut conn, version_id)
        .await?
        .filter(|(_, d)| d.workspace_id == workspace_id && d.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let Some(key) = version.storage_key.clone() else {
        return Err(AppError::not_found());
    };
    Ok(Download {
        document,
        version,
        source: Source::Stored(key),
    })
}

/// What a remote workspace told us about a document (a `Create(Document)` relayed to our
/// member): stored with its `remote_url`, no bytes copied.
#[derive(Debug, Clone)]
pub struct RemoteDocument {
    pub document_ap_id: String,
    pub version_ap_id: String,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub url: String,
}

/// Records a document of a remote workspace we hold (top level; a new version when the
/// document is known). Repeated deliveries of one version are ignored.
pub async fn receive_remote(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    uploader: &DbActor,
    remote: RemoteDocument,
) -> AppResult<()> {
    if workspace.local {
        return Err(AppError::forbidden(
            "documents of our workspaces are made here",
        ));
    }
    let name = check_name(&remote.name).map_err(|key| AppError::field("name", key))?;
    if !uploads::is_accepted_type(&remote.content_type) {
        return Err(AppError::field("mediaType", "uploads.file.not_allowed"));
    }
    if remote.size_bytes <= 0 {
        return Err(AppError::field("size", "uploads.file.empty"));
    }
    if db::workspace_documents::version_by_ap_id(conn, &remote.version_ap_id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    conn.transaction::<(), AppError, _>(async |conn| {
        let document = match db::workspace_documents::by_ap_id(conn, &remote.document_ap_id).await?
        {
            Some(d) if d.workspace_id == workspace.id && d.deleted_at.is_none() => d,
            Some(_) => return Ok(()),
            None => {
                let taken = db::workspace_documents::live_by_name_for_update(
                    conn,
                    workspace.id,
                    None,
                    &name,
                )
                .await?;
                let name = match taken {
                    Some(_) => format!("{name} ({})", uploader.domain),
                    None => name.clone(),
                };
                db::workspace_documents::insert_document(
                    conn,
                    &NewWorkspaceDocument {
                        id: Uuid::new_v4(),
                        workspace_id: workspace.id,
                        folder_id: None,
                        name,
                        ap_id: remote.document_ap_id.clone(),
                        created_by_actor_id: Some(uploader.id),
                    },
                )
                .await?
            }
        };
        let number = db::workspace_documents::last_version_number(conn, document.id).await? + 1;
        db::workspace_documents::insert_version(
            conn,
            &NewWorkspaceDocumentVersion {
                id: Uuid::new_v4(),
                document_id: document.id,
                version: number,
                ap_id: remote.version_ap_id.clone(),
                uploaded_by_actor_id: Some(uploader.id),
                storage_key: None,
                remote_url: Some(remote.url.clone()),
                content_type: remote.content_type.clone(),
                size_bytes: remote.size_bytes,
                sha256: String::new(),
            },
        )
        .await?;
        let document = db::workspace_documents::touch(conn, document.id).await?;
        notify_members(ctx, conn, workspace, &document, uploader.id).await?;
        Ok(())
    })
    .await
}

/// A `Delete` of a document of a remote workspace we hold.
pub async fn receive_remote_delete(
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    document_ap_id: &str,
) -> AppResult<()> {
    if let Some(document) = db::workspace_documents::by_ap_id(conn, document_ap_id).await?
        && document.workspace_id == workspace.id
    {
        db::workspace_documents::mark_deleted(conn, &[document.id]).await?;
    }
    Ok(())
}

/// Checks an upload before anything is written (see [`uploads::check_file`]).
pub fn check_upload(ctx: &AppContext, upload: &Upload) -> AppResult<(String, &'static str)> {
    uploads::check_file(ctx, &upload.file_name, &upload.bytes)
}
