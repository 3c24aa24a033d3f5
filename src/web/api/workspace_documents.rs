//! Documents of a workspace: list, upload (multipart field `file`, optional `folder`),
//! read, download a version, delete; folders. The twin of the pages in
//! `web::pages::workspace_documents`; the rules live in `service::workspaces::documents`.

use crate::{
    context::AppContext,
    db::workspace_documents::{DbWorkspaceDocument, DbWorkspaceDocumentVersion, DbWorkspaceFolder},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        workspaces::documents::{fetch_remote_file, file_response},
    },
    service::workspaces::documents::{self, Source, Upload},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path},
    http::StatusCode,
    response::Response,
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_documents,
        http_post_document,
        http_get_document,
        http_delete_document,
        http_get_version_file,
        http_get_folders,
        http_post_folder,
    ),
    components(schemas(
        DocumentCreated,
        DocumentItem,
        DocumentDetail,
        VersionItem,
        FolderItem,
        NewFolderRequest,
        DocumentUpload,
    ))
)]
pub struct WorkspaceDocumentsApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/workspaces/{id}/documents",
            // The file's own limit (`storage.max_upload_mb`, 413 past it) is enforced while
            // reading the body, so the request limit is lifted here.
            get(http_get_documents)
                .post(http_post_document)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/workspaces/{id}/documents/{doc}",
            get(http_get_document).delete(http_delete_document),
        )
        .route(
            "/api/v1/workspaces/{id}/documents/{doc}/versions/{n}/file",
            get(http_get_version_file),
        )
        .route(
            "/api/v1/workspaces/{id}/folders",
            get(http_get_folders).post(http_post_folder),
        )
}

fn parse_uuid(s: &str) -> AppResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| AppError::not_found())
}

/// A multipart upload: `file` (required), `folder` (a folder id, optional).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct DocumentUpload {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub folder: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentCreated {
    pub id: Uuid,
    /// The version's ActivityPub id.
    pub ap_id: String,
    pub download_url: String,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentItem {
    pub id: Uuid,
    pub name: String,
    pub folder: Option<Uuid>,
    pub version: i32,
    pub content_type: String,
    pub size_bytes: i64,
    /// The uploader of the latest version (`user` or `user@host`).
    pub uploader: Option<String>,
    pub updated_at: String,
    pub download_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionItem {
    pub version: i32,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploader: Option<String>,
    pub created_at: String,
    pub download_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDetail {
    pub id: Uuid,
    pub ap_id: String,
    pub name: String,
    pub folder: Option<Uuid>,
    pub versions: Vec<VersionItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FolderItem {
    pub id: Uuid,
    pub name: String,
    pub parent: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFolderRequest {
    pub name: String,
    pub parent: Option<Uuid>,
}

fn handle(actor: &crate::db::actors::DbActor) -> String {
    if actor.local {
        actor.username.clone()
    } else {
        format!("{}@{}", actor.username, actor.domain)
    }
}

fn download_url(ctx: &AppContext, document: &DbWorkspaceDocument, version: i32) -> String {
    ctx.urls.absolute(&format!(
        "/api/v1/workspaces/{}/documents/{}/versions/{version}/file",
        document.workspace_id, document.id
    ))
}

fn folder_item(f: DbWorkspaceFolder) -> FolderItem {
    FolderItem {
        id: f.id,
        name: f.name,
        parent: f.parent_id,
    }
}

/// Every document of the workspace (all folders), latest change first. Members only.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/documents",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The documents", body = Vec<DocumentItem>),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_documents(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<Vec<DocumentItem>>> {
    let ctx = data.app_data();
    let listed = documents::all_documents(ctx, &user.account, parse_uuid(&id)?).await?;
    Ok(ApiJson(
        listed
            .into_iter()
            .map(|l| DocumentItem {
                id: l.document.id,
                download_url: download_url(ctx, &l.document, l.latest.version),
                name: l.document.name,
                folder: l.document.folder_id,
                version: l.latest.version,
                content_type: l.latest.content_type,
                size_bytes: l.latest.size_bytes,
                uploader: l.uploader.as_ref().map(handle),
                updated_at: l.document.updated_at.to_rfc3339(),
            })
            .collect(),
    ))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(ErrorKind::PayloadTooLarge, "upload too large")
    } else {
        AppError::bad_request(format!("multipart: {e}"))
    }
}

/// Reads a multipart upload (`file`, `folder`), stopping with 413 past the file limit.
pub async fn read_upload(ctx: &AppContext, mut multipart: Multipart) -> AppResult<Upload> {
    let max = ctx.config.max_upload_bytes();
    let (mut file, mut file_name, mut folder) = (None, String::new(), None);
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                file_name = field.file_name().unwrap_or_default().to_string();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if bytes.len() + chunk.len() > max {
                        return Err(documents::too_large(ctx));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
            }
            "folder" => {
                let text = field.text().await.map_err(multipart_error)?;
                let text = text.trim();
                if !text.is_empty() {
                    folder = Some(Uuid::parse_str(text).map_err(|_| {
                        AppError::field("folder", "workspace_documents.folder.unknown")
                    })?);
                }
            }
            _ => {}
        }
    }
    let Some(file) = file else {
        return Err(AppError::field("file", "field.required"));
    };
    Ok(Upload {
        file_name,
        folder_id: folder,
        bytes: file.into(),
    })
}

/// Uploads a file: a new document, or a new version of the document of the same name in the
/// same folder. The content type is decided by the bytes and must match the extension.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/documents",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = DocumentCreated),
        (status = 400, description = "Not a multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than storage.max_upload_mb", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file` empty, an executable, a type not accepted, content not matching the extension, or a name with a path or control characters; `folder` unknown", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_document(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<(StatusCode, ApiJson<DocumentCreated>)> {
    let ctx = data.app_data();
    let id = parse_uuid(&id)?;
    // Membership first: a non-member learns nothing, whatever the body.
    crate::service::workspaces::access(ctx, id, user.account.actor_id).await?;
    let multipart =
        multipart.map_err(|e| AppError::bad_request(format!("multipart body expected: {e}")))?;
    let upload = read_upload(ctx, multipart).await?;
    let (document, version) = documents::upload(ctx, &user.account, id, upload).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(created(ctx, &document, &version)),
    ))
}

fn created(
    ctx: &AppContext,
    document: &DbWorkspaceDocument,
    version: &DbWorkspaceDocumentVersion,
) -> DocumentCreated {
    DocumentCreated {
        id: document.id,
        ap_id: version.ap_id.clone(),
        download_url: download_url(ctx, document, version.version),
        version: version.version,
    }
}

/// A document and its versions, newest first. Members only.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/documents/{doc}",
    tag = "workspaces",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("doc" = Uuid, Path, description = "Document id"),
    ),
    responses(
        (status = 200, description = "The document", body = DocumentDetail),
        (status = 404, description = "No such document, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_document(
    data: Data,
    user: ApiUser,
    Path((id, doc)): Path<(String, String)>,
) -> AppResult<ApiJson<DocumentDetail>> {
    let ctx = data.app_data();
    let view =
        documents::document_view(ctx, &user.account, parse_uuid(&id)?, parse_uuid(&doc)?).await?;
    let versions = view
        .versions
        .iter()
        .map(|(v, a)| VersionItem {
            version: v.version,
            content_type: v.content_type.clone(),
            size_bytes: v.size_bytes,
            uploader: a.as_ref().map(handle),
            created_at: v.created_at.to_rfc3339(),
            download_url: download_url(ctx, &view.document, v.version),
        })
        .collect();
    Ok(ApiJson(DocumentDetail {
        id: view.document.id,
        ap_id: view.document.ap_id.clone(),
        name: view.document.name.clone(),
        folder: view.document.folder_id,
        versions,
    }))
}

/// Deletes a document (its uploader, or a coordinator or the owner).
#[utoipa::path(
    delete,
    path = "/api/v1/workspaces/{id}/documents/{doc}",
    tag = "workspaces",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("doc" = Uuid, Path, description = "Document id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither its uploader nor a coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_document(
    data: Data,
    user: ApiUser,
    Path((id, doc)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    documents::delete(
        data.app_data(),
        &user.account,
        parse_uuid(&id)?,
        parse_uuid(&doc)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams a version's file to a member: its stored content type, `Content-Disposition:
/// attachment`, `X-Content-Type-Options: nosniff`.
pub async fn download_response(
    ctx: &AppContext,
    got: documents::Download,
    inline: bool,
) -> AppResult<Response> {
    let (stream, size) = match &got.source {
        Source::Stored(key) => ctx.storage.get(key).await?,
        Source::Remote { url, member } => {
            let max = u64::try_from(ctx.config.max_upload_bytes()).unwrap_or(u64::MAX);
            fetch_remote_file(ctx, member, url, max).await?
        }
    };
    file_response(
        &got.document.name,
        &got.version.content_type,
        size,
        stream,
        inline,
    )
}

/// The file of version `n`. Members only.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/documents/{doc}/versions/{n}/file",
    tag = "workspaces",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("doc" = Uuid, Path, description = "Document id"),
        ("n" = i32, Path, description = "Version number"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "No such version, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_version_file(
    data: Data,
    user: ApiUser,
    Path((id, doc, n)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let n: i32 = n.parse().map_err(|_| AppError::not_found())?;
    let got = documents::download(
        ctx,
        &user.account,
        parse_uuid(&id)?,
        parse_uuid(&doc)?,
        Some(n),
    )
    .await?;
    download_response(ctx, got, false).await
}

/// Every folder of the workspace. Members only.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/folders",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The folders", body = Vec<FolderItem>),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_folders(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<Vec<FolderItem>>> {
    let folders = documents::folders(data.app_data(), &user.account, parse_uuid(&id)?).await?;
    Ok(ApiJson(folders.into_iter().map(folder_item).collect()))
}

/// Creates a folder (under `parent`, or at the top level).
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/folders",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = NewFolderRequest,
    responses(
        (status = 201, description = "Created", body = FolderItem),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`name` empty, too long, with a path or control characters, or taken; `parent` unknown", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_folder(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewFolderRequest>,
) -> AppResult<(StatusCode, ApiJson<FolderItem>)> {
    let folder = documents::create_folder(
        data.app_data(),
        &user.account,
        parse_uuid(&id)?,
        body.parent,
        &body.name,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(folder_item(folder))))
}
