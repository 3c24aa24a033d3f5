//! Members of project workspaces: the list, invitations (by username, e-mail address or
//! fediverse handle), the caller's invitations and their answers, roles, removal, leaving,
//! and join requests. The twin of the pages in `web::pages::workspace_members`; the rules
//! live in `service::workspaces::{members, invitations}`.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        workspaces::{DbWorkspaceInvitation, DbWorkspaceJoinRequest, DbWorkspaceMember},
    },
    error::{AppError, AppResult},
    federation::Data,
    service::workspaces::{
        self, Role,
        invitations::{self, handle_of},
        members,
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    routing::{delete, get, patch, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_members,
        http_post_member,
        http_patch_member,
        http_delete_member,
        http_post_leave,
        http_delete_invitation,
        http_get_my_invitations,
        http_post_accept_invitation,
        http_post_decline_invitation,
        http_post_join_request,
        http_post_accept_join_request,
        http_post_decline_join_request,
    ),
    components(schemas(
        MemberView,
        MemberList,
        InviteRequest,
        InvitationView,
        InvitationList,
        RoleRequest,
        JoinRequestBody,
        JoinRequestView,
    ))
)]
pub struct WorkspaceMembersApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/workspaces/{id}/members",
            get(http_get_members).post(http_post_member),
        )
        .route(
            "/api/v1/workspaces/{id}/members/{actor_id}",
            patch(http_patch_member).delete(http_delete_member),
        )
        .route("/api/v1/workspaces/{id}/leave", post(http_post_leave))
        .route(
            "/api/v1/workspaces/{id}/invitations/{invitation_id}",
            delete(http_delete_invitation),
        )
        .route(
            "/api/v1/workspace-invitations",
            get(http_get_my_invitations),
        )
        .route(
            "/api/v1/workspace-invitations/{id}/accept",
            post(http_post_accept_invitation),
        )
        .route(
            "/api/v1/workspace-invitations/{id}/decline",
            post(http_post_decline_invitation),
        )
        .route(
            "/api/v1/workspaces/{id}/join-requests",
            post(http_post_join_request),
        )
        .route(
            "/api/v1/workspaces/{id}/join-requests/{request_id}/accept",
            post(http_post_accept_join_request),
        )
        .route(
            "/api/v1/workspaces/{id}/join-requests/{request_id}/decline",
            post(http_post_decline_join_request),
        )
}

/// One member of a workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// The member's actor id here (used in `…/members/{actor_id}`).
    pub actor_id: i64,
    /// `user@host`.
    pub handle: String,
    pub name: String,
    pub ap_id: String,
    /// Whether the member's account is on this server.
    pub local: bool,
    /// `owner`, `coordinator` or `member`.
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberView>,
}

/// An invitation: `target` is a username (`name` or `@name`), an e-mail address or a
/// fediverse handle (`user@host`, `@user@host`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InviteRequest {
    pub target: String,
    /// `member` (default) or `coordinator`.
    pub role: Option<String>,
    /// A word for the invitee (2 000 characters at most).
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub workspace_name: String,
    /// The invitee: `user@host`, or the e-mail address.
    pub target: String,
    pub role: String,
    pub message: String,
    /// `pending`, `accepted`, `declined`, `withdrawn` or `expired`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The `Invite` activity, for an invitation that went to another server or came from one.
    pub ap_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub items: Vec<InvitationView>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoleRequest {
    /// `member` or `coordinator`.
    pub role: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct JoinRequestBody {
    /// A word for the coordinators (2 000 characters at most).
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestView {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub actor_id: i64,
    pub message: String,
    /// `pending`, `accepted` or `declined`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

fn parse_uuid(id: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::not_found())
}

fn parse_actor_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

fn parse_role(role: &str) -> AppResult<Role> {
    Role::parse(role.trim()).ok_or_else(|| AppError::field("role", "workspace_members.field.role"))
}

fn member_view(ctx: &AppContext, member: DbWorkspaceMember, actor: DbActor) -> MemberView {
    MemberView {
        actor_id: actor.id,
        handle: handle_of(ctx, &actor),
        name: actor.name,
        ap_id: actor.ap_id,
        local: actor.local,
        role: member.role,
        joined_at: member.joined_at,
    }
}

fn invitation_view(
    invitation: DbWorkspaceInvitation,
    workspace_name: String,
    target: String,
) -> InvitationView {
    InvitationView {
        id: invitation.id,
        workspace_id: invitation.workspace_id,
        workspace_name,
        target,
        role: invitation.role,
        message: invitation.message,
        status: invitation.status,
        created_at: invitation.created_at,
        expires_at: invitation.expires_at,
        ap_id: invitation.ap_id,
    }
}

fn join_request_view(r: DbWorkspaceJoinRequest) -> JoinRequestView {
    JoinRequestView {
        id: r.id,
        workspace_id: r.workspace_id,
        actor_id: r.actor_id,
        message: r.message,
        status: r.status,
        created_at: r.created_at,
    }
}

async fn caller_actor(ctx: &AppContext, user: &ApiUser) -> AppResult<DbActor> {
    if user.account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    let mut conn = ctx.conn().await?;
    Ok(db::actors::by_id(&mut conn, user.account.actor_id).await?)
}

/// The members of a workspace (its members only; anyone else gets 404).
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/members",
    tag = "workspace members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "Owner first, then coordinators, then by arrival", body = MemberList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_members(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<MemberList>> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let items = members::list(ctx, &access)
        .await?
        .into_iter()
        .map(|(m, a)| member_view(ctx, m, a))
        .collect();
    Ok(ApiJson(MemberList { items }))
}

/// Invites someone (coordinators and the owner): a member here by username, an e-mail
/// address (a link to sign up and join is mailed) or a fediverse handle (an `Invite` goes to
/// that account's server).
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/members",
    tag = "workspace members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = InviteRequest,
    responses(
        (status = 201, description = "Invited", body = InvitationView),
        (status = 403, description = "The caller is neither a coordinator nor the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member, already invited, or the workspace is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nobody found for `target`, or a bad `role` or `message`", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_member(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InviteRequest>,
) -> AppResult<(StatusCode, ApiJson<InvitationView>)> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let role = match body.role.as_deref() {
        None | Some("") => Role::Member,
        Some(r) => parse_role(r)?,
    };
    let invited = invitations::invite(&data, &access, &body.target, role, &body.message).await?;
    let target = match (&invited.invitation.email, invited.invitation.actor_id) {
        (Some(email), _) => email.clone(),
        (None, Some(actor_id)) => {
            let mut conn = ctx.conn().await?;
            handle_of(ctx, &db::actors::by_id(&mut conn, actor_id).await?)
        }
        (None, None) => String::new(),
    };
    Ok((
        StatusCode::CREATED,
        ApiJson(invitation_view(
            invited.invitation,
            access.workspace.name,
            target,
        )),
    ))
}

/// Changes a member's role (the owner only): `member` or `coordinator`.
#[utoipa::path(
    patch,
    path = "/api/v1/workspaces/{id}/members/{actor_id}",
    tag = "workspace members",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("actor_id" = i64, Path, description = "The member's actor id"),
    ),
    request_body = RoleRequest,
    responses(
        (status = 200, description = "The member with the new role", body = MemberView),
        (status = 403, description = "The caller is not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The owner's role (transfer the ownership instead), or archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown role, or `owner`", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_member(
    data: Data,
    user: ApiUser,
    Path((id, actor_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> AppResult<ApiJson<MemberView>> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let member = members::change_role(
        ctx,
        &access,
        parse_actor_id(&actor_id)?,
        parse_role(&body.role)?,
    )
    .await?;
    let mut conn = ctx.conn().await?;
    let actor = db::actors::by_id(&mut conn, member.actor_id).await?;
    Ok(ApiJson(member_view(ctx, member, actor)))
}

/// Removes a member (coordinators and the owner; the owner cannot be removed, and only the
/// owner removes a coordinator).
#[utoipa::path(
    delete,
    path = "/api/v1/workspaces/{id}/members/{actor_id}",
    tag = "workspace members",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("actor_id" = i64, Path, description = "The member's actor id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not allowed to remove this member", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Removing oneself (leave instead), or archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_member(
    data: Data,
    user: ApiUser,
    Path((id, actor_id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    members::remove(ctx, &access, parse_actor_id(&actor_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves a workspace (the owner transfers the ownership first).
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/leave",
    tag = "workspace members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 204, description = "Left"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The owner cannot leave", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_leave(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let ctx = data.app_data();
    let actor = caller_actor(ctx, &user).await?;
    members::leave(ctx, parse_uuid(&id)?, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws a pending invitation (coordinators and the owner).
#[utoipa::path(
    delete,
    path = "/api/v1/workspaces/{id}/invitations/{invitation_id}",
    tag = "workspace members",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("invitation_id" = Uuid, Path, description = "Invitation id"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "The caller is neither a coordinator nor the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_invitation(
    data: Data,
    user: ApiUser,
    Path((id, invitation_id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    invitations::withdraw(ctx, &access, parse_uuid(&invitation_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's pending invitations (to workspaces here and on other servers).
#[utoipa::path(
    get,
    path = "/api/v1/workspace-invitations",
    tag = "workspace members",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = InvitationList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_my_invitations(data: Data, user: ApiUser) -> AppResult<ApiJson<InvitationList>> {
    let ctx = data.app_data();
    let actor = caller_actor(ctx, &user).await?;
    let target = handle_of(ctx, &actor);
    let items = invitations::received(ctx, actor.id)
        .await?
        .into_iter()
        .map(|r| invitation_view(r.invitation, r.workspace.name, target.clone()))
        .collect();
    Ok(ApiJson(InvitationList { items }))
}

async fn answer(
    data: &Data,
    user: &ApiUser,
    id: &str,
    accept: bool,
) -> AppResult<ApiJson<InvitationView>> {
    let ctx = data.app_data();
    let actor = caller_actor(ctx, user).await?;
    let invitation = invitations::answer(ctx, parse_uuid(id)?, &actor, accept).await?;
    let mut conn = ctx.conn().await?;
    let name = db::workspaces::by_id(&mut conn, invitation.workspace_id)
        .await?
        .map(|w| w.name)
        .unwrap_or_default();
    Ok(ApiJson(invitation_view(
        invitation,
        name,
        handle_of(ctx, &actor),
    )))
}

/// Accepts an invitation addressed to the caller: they become a member.
#[utoipa::path(
    post,
    path = "/api/v1/workspace-invitations/{id}/accept",
    tag = "workspace members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "Accepted", body = InvitationView),
        (status = 404, description = "No such invitation addressed to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered or withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_accept_invitation(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<InvitationView>> {
    answer(&data, &user, &id, true).await
}

/// Declines an invitation addressed to the caller.
#[utoipa::path(
    post,
    path = "/api/v1/workspace-invitations/{id}/decline",
    tag = "workspace members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "Declined", body = InvitationView),
        (status = 404, description = "No such invitation addressed to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered or withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_decline_invitation(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<InvitationView>> {
    answer(&data, &user, &id, false).await
}

/// Asks to join a listed workspace; its coordinators answer.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/join-requests",
    tag = "workspace members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = JoinRequestBody,
    responses(
        (status = 201, description = "Asked", body = JoinRequestView),
        (status = 404, description = "No such listed workspace", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member, already asked, or archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Message too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_join_request(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<JoinRequestBody>,
) -> AppResult<(StatusCode, ApiJson<JoinRequestView>)> {
    let ctx = data.app_data();
    let actor = caller_actor(ctx, &user).await?;
    let request =
        invitations::request_to_join(ctx, parse_uuid(&id)?, &actor, &body.message, None).await?;
    Ok((StatusCode::CREATED, ApiJson(join_request_view(request))))
}

async fn answer_join(
    data: &Data,
    user: &ApiUser,
    id: &str,
    request_id: &str,
    accept: bool,
) -> AppResult<ApiJson<JoinRequestView>> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(id)?, user.account.actor_id).await?;
    let request =
        invitations::answer_join_request(ctx, &access, parse_uuid(request_id)?, accept).await?;
    Ok(ApiJson(join_request_view(request)))
}

/// Accepts a join request (coordinators and the owner): the requester becomes a member.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/join-requests/{request_id}/accept",
    tag = "workspace members",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("request_id" = Uuid, Path, description = "Join request id"),
    ),
    responses(
        (status = 200, description = "Accepted", body = JoinRequestView),
        (status = 403, description = "The caller is neither a coordinator nor the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered, or archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_accept_join_request(
    data: Data,
    user: ApiUser,
    Path((id, request_id)): Path<(String, String)>,
) -> AppResult<ApiJson<JoinRequestView>> {
    answer_join(&data, &user, &id, &request_id, true).await
}

/// Declines a join request (coordinators and the owner).
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/join-requests/{request_id}/decline",
    tag = "workspace members",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("request_id" = Uuid, Path, description = "Join request id"),
    ),
    responses(
        (status = 200, description = "Declined", body = JoinRequestView),
        (status = 403, description = "The caller is neither a coordinator nor the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered, or archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_decline_join_request(
    data: Data,
    user: ApiUser,
    Path((id, request_id)): Path<(String, String)>,
) -> AppResult<ApiJson<JoinRequestView>> {
    answer_join(&data, &user, &id, &request_id, false).await
}
