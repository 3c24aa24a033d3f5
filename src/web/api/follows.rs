//! Follows: follow a fediverse account by handle or actor URL, list, unfollow. The twin of
//! the page "Suivre un compte du fédivers"; the rules live in `service::follows`.

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    service::follows::{self, FollowState, FollowingEntry},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, extract::Query, http::StatusCode, routing::get};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_follows, http_post_follow, http_delete_follow),
    components(schemas(FollowRequest, FollowAnswer, FollowState, Following, FollowingList))
)]
pub struct FollowsApi;

pub fn routes() -> Router {
    Router::new().route(
        "/api/v1/follows",
        get(http_get_follows)
            .post(http_post_follow)
            .delete(http_delete_follow),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowRequest {
    /// `user@host` (a leading `@` is fine) or the URL of an actor.
    #[schema(example = "camille@mastodon.example")]
    pub target: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowAnswer {
    /// `pending` until the remote server accepts; local accounts answer at once.
    pub state: FollowState,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TargetQuery {
    /// The account to stop following: `user@host` or its actor URL.
    pub target: Option<String>,
}

/// An account the caller follows or asked to follow.
#[derive(Debug, Serialize, ToSchema)]
pub struct Following {
    pub ap_id: String,
    #[schema(example = "camille@mastodon.example")]
    pub handle: String,
    pub name: String,
    pub url: Option<String>,
    pub state: FollowState,
    pub since: DateTime<Utc>,
}

impl From<FollowingEntry> for Following {
    fn from(e: FollowingEntry) -> Self {
        Following {
            ap_id: e.ap_id,
            handle: e.handle,
            name: e.name,
            url: e.url,
            state: e.state,
            since: e.since,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowingList {
    /// Newest first.
    pub items: Vec<Following>,
}

/// The accounts the caller follows or asked to follow.
#[utoipa::path(
    get,
    path = "/api/v1/follows",
    tag = "follows",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's follows", body = FollowingList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_follows(data: Data, user: ApiUser) -> AppResult<ApiJson<FollowingList>> {
    let items = follows::list_following(data.app_data(), &user.account, 1000)
        .await?
        .into_iter()
        .map(Following::from)
        .collect();
    Ok(ApiJson(FollowingList { items }))
}

/// Follows an account, here or on another server of the fediverse.
#[utoipa::path(
    post,
    path = "/api/v1/follows",
    tag = "follows",
    security(("bearer" = [])),
    request_body = FollowRequest,
    responses(
        (status = 200, description = "Where the follow stands", body = FollowAnswer),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`target` is malformed, not found, not allowed (private address) or the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable: retry", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_follow(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<FollowRequest>,
) -> AppResult<ApiJson<FollowAnswer>> {
    let state = follows::request_follow(&data, &user.account, &body.target).await?;
    Ok(ApiJson(FollowAnswer { state }))
}

/// Stops following an account (or withdraws a pending request).
#[utoipa::path(
    delete,
    path = "/api/v1/follows",
    tag = "follows",
    security(("bearer" = [])),
    params(TargetQuery),
    responses(
        (status = 204, description = "No longer followed; a remote server is told"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`target` is missing, malformed or not followed", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_follow(
    data: Data,
    user: ApiUser,
    Query(query): Query<TargetQuery>,
) -> AppResult<StatusCode> {
    let target = query
        .target
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| AppError::field("target", "field.required"))?;
    follows::unfollow(&data, &user.account, &target).await?;
    Ok(StatusCode::NO_CONTENT)
}
