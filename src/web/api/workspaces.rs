//! Project workspaces: create, list mine, read, edit, archive, unarchive, transfer
//! ownership. The twin of the pages in `web::pages::workspaces`; the rules live in
//! `service::workspaces`. A workspace the caller is not a member of answers 404, exactly as
//! one that does not exist.

use crate::{
    context::AppContext,
    db::workspaces::DbWorkspace,
    error::{AppError, AppResult},
    federation::Data,
    service::workspaces::{
        self, Role,
        manage::{self, WorkspaceInput},
    },
    urls::workspace_page,
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

#[derive(OpenApi)]
#[openapi(
    paths(
        http_post_workspace,
        http_get_workspaces,
        http_get_workspace,
        http_patch_workspace,
        http_post_archive,
        http_post_unarchive,
        http_post_transfer,
    ),
    components(schemas(
        NewWorkspaceRequest,
        WorkspacePatchRequest,
        WorkspaceCreated,
        WorkspaceDetail,
        WorkspaceList,
        TransferRequest,
    ))
)]
pub struct WorkspacesApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/workspaces",
            get(http_get_workspaces).post(http_post_workspace),
        )
        .route(
            "/api/v1/workspaces/{id}",
            get(http_get_workspace).patch(http_patch_workspace),
        )
        .route("/api/v1/workspaces/{id}/archive", post(http_post_archive))
        .route(
            "/api/v1/workspaces/{id}/unarchive",
            post(http_post_unarchive),
        )
        .route("/api/v1/workspaces/{id}/transfer", post(http_post_transfer))
}

/// A new workspace. Only `name` is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewWorkspaceRequest {
    /// 1 to 150 characters.
    pub name: String,
    /// Markdown.
    pub description: String,
    pub disciplines: Vec<String>,
    /// Name and description public (open projects, join requests, "new project" alerts).
    pub listed: bool,
    /// A commune name ("Épinal", "Épinal (88)") or INSEE code, where the project takes place.
    pub commune: String,
}

/// A partial edit: absent fields keep their value; `commune: ""` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WorkspacePatchRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub listed: Option<bool>,
    pub commune: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceCreated {
    pub id: Uuid,
    /// The workspace's page (members only).
    pub url: String,
    /// The ActivityPub id of its `Group` actor.
    pub ap_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceDetail {
    pub id: Uuid,
    pub url: String,
    pub name: String,
    /// Markdown as written (empty for a remote workspace).
    pub description: String,
    pub description_html: String,
    pub disciplines: Vec<String>,
    /// INSEE code.
    pub commune_code: Option<String>,
    pub listed: bool,
    pub archived: bool,
    /// Hosted on this server.
    pub local: bool,
    /// The caller's role: `owner`, `coordinator` or `member`.
    pub role: String,
    pub members: i64,
    /// Chat messages of others the caller has not seen (in the list only; 0 otherwise).
    pub unread: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceList {
    pub items: Vec<WorkspaceDetail>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The username of the new owner: a member of the workspace with an account here.
    pub to: String,
}

fn parse_id(id: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::not_found())
}

fn detail(
    ctx: &AppContext,
    w: DbWorkspace,
    role: Role,
    members: i64,
    unread: i64,
) -> WorkspaceDetail {
    WorkspaceDetail {
        url: ctx.urls.absolute(&workspace_page(&w.id, "")),
        id: w.id,
        archived: w.is_archived(),
        name: w.name,
        description: w.description_markdown,
        description_html: w.description_html,
        disciplines: w.disciplines,
        commune_code: w.commune_code,
        listed: w.listed,
        local: w.local,
        role: role.as_str().to_string(),
        members,
        unread,
        created_at: w.created_at,
    }
}

/// The workspace as the caller, a member, sees it now.
async fn current(ctx: &AppContext, user: &ApiUser, id: Uuid) -> AppResult<WorkspaceDetail> {
    let mut conn = ctx.conn().await?;
    let access = workspaces::access_as(&mut conn, id, user.account.actor_id).await?;
    let members = manage::member_count(&mut conn, &access).await?;
    Ok(detail(ctx, access.workspace, access.role, members, 0))
}

/// Creates a workspace hosted here, with the caller as its owner. A listed one notifies the
/// members whose "new project" alerts match it.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces",
    tag = "workspaces",
    security(("bearer" = [])),
    request_body = NewWorkspaceRequest,
    responses(
        (status = 201, description = "Created", body = WorkspaceCreated),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named: name, description, disciplines, commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_workspace(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewWorkspaceRequest>,
) -> AppResult<(StatusCode, ApiJson<WorkspaceCreated>)> {
    let ctx = data.app_data();
    let workspace = manage::create(
        ctx,
        &user.account,
        WorkspaceInput {
            name: body.name,
            description: body.description,
            disciplines: body.disciplines,
            commune: body.commune,
            listed: body.listed,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(WorkspaceCreated {
            url: ctx.urls.absolute(&workspace_page(&workspace.id, "")),
            ap_id: ctx.urls.workspace(&workspace.id),
            id: workspace.id,
        }),
    ))
}

/// The caller's workspaces (hosted here or on other servers), the most recently changed
/// first, archived ones last.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces",
    tag = "workspaces",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's workspaces", body = WorkspaceList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_workspaces(data: Data, user: ApiUser) -> AppResult<ApiJson<WorkspaceList>> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let items = manage::mine(&mut conn, user.account.actor_id)
        .await?
        .into_iter()
        .map(|m| detail(ctx, m.workspace, m.role, m.members, m.unread))
        .collect();
    Ok(ApiJson(WorkspaceList { items }))
}

/// One of the caller's workspaces.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The workspace", body = WorkspaceDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_workspace(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<WorkspaceDetail>> {
    let ctx = data.app_data();
    Ok(ApiJson(current(ctx, &user, parse_id(&id)?).await?))
}

/// Edits a workspace (coordinators and the owner; not when archived). Its remote members
/// get an `Update` of the `Group`.
#[utoipa::path(
    patch,
    path = "/api/v1/workspaces/{id}",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = WorkspacePatchRequest,
    responses(
        (status = 200, description = "The workspace as saved", body = WorkspaceDetail),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_workspace(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WorkspacePatchRequest>,
) -> AppResult<ApiJson<WorkspaceDetail>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let access = workspaces::access(ctx, id, user.account.actor_id).await?;
    let w = &access.workspace;
    let input = WorkspaceInput {
        name: body.name.unwrap_or_else(|| w.name.clone()),
        description: body
            .description
            .unwrap_or_else(|| w.description_markdown.clone()),
        disciplines: body.disciplines.unwrap_or_else(|| w.disciplines.clone()),
        // The code reads back without ambiguity.
        commune: body
            .commune
            .unwrap_or_else(|| w.commune_code.clone().unwrap_or_default()),
        listed: body.listed.unwrap_or(w.listed),
    };
    manage::update(ctx, &user.account, id, input).await?;
    Ok(ApiJson(current(ctx, &user, id).await?))
}

/// Archives a workspace (its owner only): read-only for everyone from then on.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/archive",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The workspace, archived", body = WorkspaceDetail),
        (status = 403, description = "The caller is not its owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_archive(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<WorkspaceDetail>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    manage::archive(ctx, &user.account, id).await?;
    Ok(ApiJson(current(ctx, &user, id).await?))
}

/// Brings an archived workspace back (its owner only).
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/unarchive",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The workspace, active again", body = WorkspaceDetail),
        (status = 403, description = "The caller is not its owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_unarchive(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<WorkspaceDetail>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    manage::unarchive(ctx, &user.account, id).await?;
    Ok(ApiJson(current(ctx, &user, id).await?))
}

/// Hands the workspace to another member with an account here (its owner only); the old
/// owner stays as a coordinator, the new one is notified.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/transfer",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "The workspace; the caller is now a coordinator", body = WorkspaceDetail),
        (status = 403, description = "The caller is not its owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` is not a local member of the workspace", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_transfer(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransferRequest>,
) -> AppResult<ApiJson<WorkspaceDetail>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    // Membership first: a non-member learns nothing, not even whether `to` exists.
    workspaces::access(ctx, id, user.account.actor_id).await?;
    let to = manage::local_actor_id(ctx, &body.to).await?;
    manage::transfer_ownership(ctx, &user.account, id, to).await?;
    Ok(ApiJson(current(ctx, &user, id).await?))
}
