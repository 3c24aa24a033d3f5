//! The resources library: list (public, members-only ones for members), propose (JSON, or
//! multipart with a `file`), read, edit, delete, curate, add a version, download a version.
//! The twin of the pages in `web::pages::resources`; the rules live in
//! `service::resources`.

use crate::{
    context::AppContext,
    db::{
        actors::DbActor,
        resources::{DbResource, DbResourceVersion},
    },
    error::{AppError, AppResult, ErrorKind},
    federation::{Data, workspaces::documents::file_response},
    service::{
        resources::{
            self, Download, FileUpload, ListFilter, ResourceInput, ResourcePatch, page_path,
        },
        uploads,
    },
    web::{
        api::{ApiJson, ApiUser, directory::MaybeApiUser, json, openapi::Problem},
        csrf::{self, CsrfToken},
    },
};
use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_resources,
        http_post_resource,
        http_get_resource,
        http_patch_resource,
        http_delete_resource,
        http_post_version,
        http_get_version_file,
    ),
    components(schemas(
        NewResourceRequest,
        ResourceUpload,
        VersionUpload,
        ResourcePatchRequest,
        ResourceCreated,
        ResourceDetail,
        ResourceList,
        ResourceVersionItem,
    ))
)]
pub struct ResourcesApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/resources",
            // The file's own limit (`storage.max_upload_mb`, 413 past it) is enforced while
            // reading the body, and a JSON body's by [`MAX_JSON_BYTES`].
            get(http_get_resources)
                .post(http_post_resource)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/resources/{id}",
            get(http_get_resource)
                .patch(http_patch_resource)
                .delete(http_delete_resource),
        )
        .route(
            "/api/v1/resources/{id}/versions",
            post(http_post_version).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/resources/{id}/versions/{n}/file",
            get(http_get_version_file),
        )
}

/// Largest JSON body of a new resource.
const MAX_JSON_BYTES: usize = 256 * 1024;

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

/// A new resource as JSON. A resource without a file needs a `link_url`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResourceRequest {
    pub title: String,
    /// Markdown.
    pub body: String,
    #[serde(default)]
    pub link_url: Option<String>,
    #[serde(default)]
    pub disciplines: Vec<String>,
    /// `guide`, `modele`, `juridique`, `financement` or `autre` (the default).
    #[serde(default)]
    pub theme: Option<String>,
    #[serde(default)]
    pub members_only: bool,
}

/// A new resource as `multipart/form-data`: the same fields as text, and the `file`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ResourceUpload {
    pub title: String,
    pub body: String,
    pub link_url: Option<String>,
    /// Comma-separated, or the field repeated.
    pub disciplines: Option<String>,
    pub theme: Option<String>,
    /// `true` / `false`.
    pub members_only: Option<String>,
    #[schema(value_type = Option<String>, format = Binary)]
    pub file: Option<Vec<u8>>,
}

/// A new version of the file: `multipart/form-data` with the `file`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct VersionUpload {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// A partial edit: fields left out keep their value. `curated` is for staff only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcePatchRequest {
    pub title: Option<String>,
    pub body: Option<String>,
    /// `""` removes the link (refused when the resource has no file).
    pub link_url: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub theme: Option<String>,
    pub members_only: Option<bool>,
    pub curated: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceCreated {
    pub id: i64,
    /// Its page, which is also its ActivityPub id.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceVersionItem {
    pub version: i32,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: String,
    pub download_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceDetail {
    pub id: i64,
    pub url: String,
    pub title: String,
    /// Markdown as written.
    pub body: String,
    /// Sanitised HTML.
    pub body_html: String,
    pub link_url: Option<String>,
    pub disciplines: Vec<String>,
    pub theme: String,
    pub members_only: bool,
    pub curated: bool,
    /// `user` (always a member here).
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    /// Newest first.
    pub versions: Vec<ResourceVersionItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceList {
    pub total: i64,
    pub page: i64,
    pub items: Vec<ResourceDetail>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ResourceQuery {
    /// Words to find (French full text: accents and plurals forgiven).
    pub q: Option<String>,
    /// `guide`, `modele`, `juridique`, `financement`, `autre`.
    pub theme: Option<String>,
    pub discipline: Option<String>,
    /// 1-based.
    pub page: Option<String>,
}

impl ResourceQuery {
    pub fn filter(&self) -> ListFilter {
        ListFilter {
            discipline: self.discipline.clone().unwrap_or_default(),
            theme: self.theme.clone().unwrap_or_default(),
            q: self.q.clone().unwrap_or_default(),
            page: self.page.clone().unwrap_or_default(),
        }
    }
}

fn version_item(ctx: &AppContext, v: &DbResourceVersion) -> ResourceVersionItem {
    ResourceVersionItem {
        version: v.version,
        file_name: v.file_name.clone(),
        content_type: v.content_type.clone(),
        size_bytes: v.size_bytes,
        created_at: v.created_at.to_rfc3339(),
        download_url: ctx.urls.absolute(&format!(
            "/api/v1/resources/{}/versions/{}/file",
            v.resource_id, v.version
        )),
    }
}

fn detail(
    ctx: &AppContext,
    r: &DbResource,
    author: &DbActor,
    versions: &[DbResourceVersion],
) -> ResourceDetail {
    ResourceDetail {
        id: r.id,
        url: ctx.urls.absolute(&page_path(r.id)),
        title: r.title.clone(),
        body: r.body_markdown.clone(),
        body_html: r.body_html.clone(),
        link_url: r.link_url.clone(),
        disciplines: r.disciplines.clone(),
        theme: r.theme.clone(),
        members_only: r.members_only,
        curated: r.curated,
        author: author.username.clone(),
        created_at: r.created_at.to_rfc3339(),
        updated_at: r.updated_at.to_rfc3339(),
        versions: versions.iter().map(|v| version_item(ctx, v)).collect(),
    }
}

/// The resources the caller may see: staff's picks first, then the newest. Without a token,
/// public ones only.
#[utoipa::path(
    get,
    path = "/api/v1/resources",
    tag = "resources",
    params(ResourceQuery),
    responses(
        (status = 200, description = "A page of resources", body = ResourceList),
        (status = 401, description = "A token was sent but is unknown or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown theme, or a bad page", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_resources(
    data: Data,
    MaybeApiUser(user): MaybeApiUser,
    Query(q): Query<ResourceQuery>,
) -> AppResult<ApiJson<ResourceList>> {
    let ctx = data.app_data();
    let viewer = user.as_ref().map(|u| &u.account);
    let found = resources::list(ctx, viewer, &q.filter()).await?;
    let mut conn = ctx.conn().await?;
    let mut items = Vec::with_capacity(found.items.len());
    for (r, author) in &found.items {
        let versions = crate::db::resources::versions(&mut conn, r.id).await?;
        items.push(detail(ctx, r, author, &versions));
    }
    Ok(ApiJson(ResourceList {
        total: found.total,
        page: found.page,
        items,
    }))
}

/// What a multipart form of a resource carries (the page's and the API's).
#[derive(Debug, Default)]
pub struct ResourceParts {
    pub input: ResourceInput,
    pub file: Option<FileUpload>,
    /// Whether `members_only` was sent at all (a `PATCH`-like edit keeps it otherwise).
    pub members_only_sent: bool,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(ErrorKind::PayloadTooLarge, "upload too large")
    } else {
        AppError::bad_request(format!("multipart: {e}"))
    }
}

fn truthy(value: &str) -> bool {
    matches!(value.trim(), "on" | "true" | "1" | "oui")
}

/// Reads a resource's multipart form (text fields and `file`), stopping with 413 past the
/// file limit. With `csrf` (the page), the token must come before the file, and is checked
/// before any of the file is read.
pub async fn read_parts(
    ctx: &AppContext,
    multipart: Multipart,
    csrf_token: Option<&CsrfToken>,
) -> AppResult<ResourceParts> {
    let mut parts = ResourceParts::default();
    read_parts_into(ctx, multipart, csrf_token, &mut parts).await?;
    Ok(parts)
}

/// [`read_parts`] into `parts`, which keeps what was read before a refusal (a page shows the
/// typed fields again with the file's error).
pub async fn read_parts_into(
    ctx: &AppContext,
    mut multipart: Multipart,
    csrf_token: Option<&CsrfToken>,
    parts: &mut ResourceParts,
) -> AppResult<()> {
    let mut submitted: Option<String> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if let Some(token) = csrf_token {
                token.verify(submitted.as_deref())?;
            }
            let file_name = field.file_name().unwrap_or_default().to_string();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if !uploads::fits(ctx, bytes.len(), chunk.len()) {
                    return Err(uploads::too_large(ctx));
                }
                bytes.extend_from_slice(&chunk);
            }
            // An empty file input of a form sends a nameless, empty part: no file.
            if !(file_name.is_empty() && bytes.is_empty()) {
                parts.file = Some(FileUpload {
                    file_name,
                    bytes: bytes.into(),
                });
            }
            continue;
        }
        let text = field.text().await.map_err(multipart_error)?;
        match name.as_str() {
            csrf::FIELD => submitted = Some(text),
            "title" => parts.input.title = text,
            "body" => parts.input.body = text,
            "link_url" => parts.input.link_url = text,
            "disciplines" => parts.input.disciplines.push(text),
            "theme" => parts.input.theme = text,
            "members_only" => {
                parts.members_only_sent = true;
                parts.input.members_only = truthy(&text);
            }
            _ => {}
        }
    }
    if let Some(token) = csrf_token {
        token.verify(submitted.as_deref())?;
    }
    Ok(())
}

/// Proposes a resource: JSON (`{title, body, link_url?, disciplines?, theme?,
/// members_only?}`), or `multipart/form-data` with the same fields and a `file`. A file's
/// content type is decided by its bytes and must match its extension.
#[utoipa::path(
    post,
    path = "/api/v1/resources",
    tag = "resources",
    security(("bearer" = [])),
    request_body(content(
        (NewResourceRequest = "application/json"),
        (ResourceUpload = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Published", body = ResourceCreated),
        (status = 400, description = "Unreadable body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Address not confirmed, or account suspended", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File larger than storage.max_upload_mb", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (named): `title`, `body`, `link_url` (invalid, or neither file nor link), `disciplines`, `theme`, `file` (empty, a program, a type not accepted, content not matching its extension)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_resource(
    data: Data,
    user: ApiUser,
    request: Request,
) -> AppResult<(StatusCode, ApiJson<ResourceCreated>)> {
    let ctx = data.app_data();
    let media_type = crate::body::media_type(request.headers());
    let (input, file) = if media_type == "multipart/form-data" {
        let multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| AppError::bad_request(format!("multipart body expected: {e}")))?;
        let parts = read_parts(ctx, multipart, None).await?;
        (parts.input, parts.file)
    } else if media_type == "application/json" {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BYTES)
            .await
            .map_err(|_| AppError::new(ErrorKind::PayloadTooLarge, "JSON body too large"))?;
        let body: NewResourceRequest = json::parse(&bytes)?;
        (
            ResourceInput {
                title: body.title,
                body: body.body,
                link_url: body.link_url.unwrap_or_default(),
                disciplines: body.disciplines,
                theme: body.theme.unwrap_or_default(),
                members_only: body.members_only,
            },
            None,
        )
    } else {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "send the body as application/json or multipart/form-data",
        )
        .with_message("api.json.content_type"));
    };
    let resource = resources::create(ctx, &user.account, input, file).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ResourceCreated {
            id: resource.id,
            url: resource.ap_id,
        }),
    ))
}

/// One resource with its versions. Members-only ones need a member's token (else 404).
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    params(("id" = i64, Path, description = "Resource id")),
    responses(
        (status = 200, description = "The resource", body = ResourceDetail),
        (status = 404, description = "No such resource, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Deleted", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_resource(
    data: Data,
    MaybeApiUser(user): MaybeApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<ResourceDetail>> {
    let ctx = data.app_data();
    let view = resources::show(ctx, user.as_ref().map(|u| &u.account), parse_id(&id)?).await?;
    Ok(ApiJson(detail(
        ctx,
        &view.resource,
        &view.author,
        &view.versions,
    )))
}

/// Edits the fields given (its author or staff); `curated` is staff's.
#[utoipa::path(
    patch,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Resource id")),
    request_body = ResourcePatchRequest,
    responses(
        (status = 200, description = "Saved", body = ResourceDetail),
        (status = 403, description = "Neither its author nor staff (or `curated` by a non-staff member)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resource", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (named)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_resource(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResourcePatchRequest>,
) -> AppResult<ApiJson<ResourceDetail>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let patch = ResourcePatch {
        title: body.title,
        body: body.body,
        link_url: body.link_url,
        disciplines: body.disciplines,
        theme: body.theme,
        members_only: body.members_only,
        curated: body.curated,
    };
    resources::edit_partial(ctx, &user.account, id, patch).await?;
    let view = resources::show(ctx, Some(&user.account), id).await?;
    Ok(ApiJson(detail(
        ctx,
        &view.resource,
        &view.author,
        &view.versions,
    )))
}

/// Deletes a resource (its author or staff): its files are removed; a public one is
/// withdrawn from other servers.
#[utoipa::path(
    delete,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Resource id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither its author nor staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resource", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_resource(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    resources::delete(data.app_data(), &user.account, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds version n+1 of the file (its author or staff).
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/versions",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Resource id")),
    request_body(content = VersionUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = ResourceVersionItem),
        (status = 400, description = "Not a multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither its author nor staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resource", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than storage.max_upload_mb", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file` missing, empty, a program, a type not accepted, or content not matching its extension", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_version(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<(StatusCode, ApiJson<ResourceVersionItem>)> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    // Who may do it first: a stranger learns nothing, whatever the body.
    let resource = resources::visible(ctx, Some(&user.account), id).await?;
    if !resources::can_change(&user.account, &resource) {
        return Err(
            AppError::forbidden("only its author or staff may change this resource")
                .with_message("resources.not_yours"),
        );
    }
    let multipart =
        multipart.map_err(|e| AppError::bad_request(format!("multipart body expected: {e}")))?;
    let parts = read_parts(ctx, multipart, None).await?;
    let file = parts
        .file
        .ok_or_else(|| AppError::field("file", "field.required"))?;
    let (_, version) = resources::add_version(ctx, &user.account, id, file).await?;
    Ok((StatusCode::CREATED, ApiJson(version_item(ctx, &version))))
}

/// Streams a version's file: its content type decided at upload, `Content-Disposition:
/// attachment`, `X-Content-Type-Options: nosniff`.
pub async fn download_response(ctx: &AppContext, got: Download) -> AppResult<Response> {
    let (stream, size) = ctx.storage.get(&got.version.storage_key).await?;
    file_response(
        &got.version.file_name,
        &got.version.content_type,
        size,
        stream,
        false,
    )
}

/// The file of version `n`. Members-only resources need a member's token (else 404).
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}/versions/{n}/file",
    tag = "resources",
    params(
        ("id" = i64, Path, description = "Resource id"),
        ("n" = i32, Path, description = "Version number"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "No such version, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_version_file(
    data: Data,
    MaybeApiUser(user): MaybeApiUser,
    Path((id, n)): Path<(String, String)>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let n: i32 = n.parse().map_err(|_| AppError::not_found())?;
    let got = resources::download(
        ctx,
        user.as_ref().map(|u| &u.account),
        parse_id(&id)?,
        Some(n),
    )
    .await?;
    download_response(ctx, got).await
}
