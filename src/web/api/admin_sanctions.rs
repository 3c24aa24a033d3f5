//! Lifting sanctions from tools: `POST /api/v1/admin/accounts/{username}/unsuspend` (admins,
//! within 30 days of the suspension) and `POST /api/v1/admin/actors/unblock` (moderators) —
//! the twins of the buttons of `/admin/comptes` and `/admin/comptes-distants-bloques`.

use crate::{
    error::AppResult,
    federation::Data,
    service::moderation::sanctions,
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, extract::Path, routing::post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_post_unsuspend, http_post_unblock),
    components(schemas(UnsuspendAnswer, UnblockRequest, UnblockAnswer)),
    tags((name = "moderation", description = "Moderation (moderators and admins)")),
)]
pub struct AdminSanctionsApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/admin/accounts/{username}/unsuspend",
            post(http_post_unsuspend),
        )
        .route("/api/v1/admin/actors/unblock", post(http_post_unblock))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnsuspendAnswer {
    #[schema(example = "lea")]
    pub username: String,
    /// Always `null` after a successful call.
    pub suspended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnblockRequest {
    /// The ActivityPub id of the blocked remote actor.
    #[schema(example = "https://mastodon.example/users/spammer")]
    pub actor: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnblockAnswer {
    #[schema(example = "https://mastodon.example/users/spammer")]
    pub actor: String,
    /// Always `null` after a successful call.
    pub blocked_at: Option<DateTime<Utc>>,
}

/// Lifts the suspension of a member (admins only, within 30 days of the suspension): the
/// account can log in again, its content is public again and `Update` of its actor federates
/// to the servers that knew it. Written to the moderators' log.
#[utoipa::path(
    post,
    path = "/api/v1/admin/accounts/{username}/unsuspend",
    tag = "moderation",
    security(("bearer" = [])),
    params(("username" = String, Path, description = "The suspended member")),
    responses(
        (status = 200, description = "The suspension is lifted", body = UnsuspendAnswer),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is not suspended, or the suspension is more than 30 days old", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable: retry", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_unsuspend(
    data: Data,
    user: ApiUser,
    Path(username): Path<String>,
) -> AppResult<ApiJson<UnsuspendAnswer>> {
    let account = sanctions::lift_suspension(data.app_data(), &user.account, &username).await?;
    Ok(ApiJson(UnsuspendAnswer {
        username: account.username,
        suspended_at: account.suspended_at,
    }))
}

/// Lifts the block of a remote actor (moderators and admins): its activities are accepted
/// and its content shown again; the follows the block removed are not restored. Written to
/// the moderators' log.
#[utoipa::path(
    post,
    path = "/api/v1/admin/actors/unblock",
    tag = "moderation",
    security(("bearer" = [])),
    request_body = UnblockRequest,
    responses(
        (status = 200, description = "The block is lifted", body = UnblockAnswer),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The actor is not blocked", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`actor` names no remote actor known here (or a local one)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable: retry", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_unblock(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<UnblockRequest>,
) -> AppResult<ApiJson<UnblockAnswer>> {
    let actor = sanctions::lift_block(data.app_data(), &user.account, &body.actor).await?;
    Ok(ApiJson(UnblockAnswer {
        actor: actor.ap_id,
        blocked_at: actor.blocked_at,
    }))
}
