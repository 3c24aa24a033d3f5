//! Likes and boosts: `POST`/`DELETE /api/v1/likes` and `/api/v1/boosts`, and the counts of an
//! object (`GET /api/v1/reactions`). The twin of the buttons under posts; the rules live in
//! `service::reactions`, shared with the inbox.

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    service::reactions::{self, ReactionKind},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::Query,
    http::StatusCode,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_post_like,
        http_delete_like,
        http_post_boost,
        http_delete_boost,
        http_get_reactions
    ),
    components(schemas(ReactionRequest, ReactionSummary))
)]
pub struct ReactionsApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/likes",
            post(http_post_like).delete(http_delete_like),
        )
        .route(
            "/api/v1/boosts",
            post(http_post_boost).delete(http_delete_boost),
        )
        .route("/api/v1/reactions", get(http_get_reactions))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionRequest {
    /// The ActivityPub id of a post, announcement or comment (ours, or a remote post shown
    /// here).
    #[schema(example = "https://culture.example/posts/12")]
    pub object: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObjectQuery {
    /// The ActivityPub id of a post, announcement or comment.
    pub object: Option<String>,
}

/// The counts of an object, and what the caller did to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReactionSummary {
    pub object: String,
    pub likes: i64,
    pub boosts: i64,
    pub liked: bool,
    pub boosted: bool,
}

fn object_url(object: Option<&str>) -> AppResult<Url> {
    let object = object
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| AppError::field("object", "field.required"))?;
    let url = Url::parse(object).map_err(|_| AppError::field("object", "field.object.invalid"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::field("object", "field.object.invalid"));
    }
    Ok(url)
}

async fn summary(data: &Data, user: &ApiUser, object: &Url) -> AppResult<ReactionSummary> {
    let (counts, state) =
        reactions::summary(data.app_data(), Some(&user.account), object.as_str()).await?;
    Ok(ReactionSummary {
        object: object.to_string(),
        likes: counts.likes,
        boosts: counts.boosts,
        liked: state.liked,
        boosted: state.boosted,
    })
}

async fn add(
    data: &Data,
    user: &ApiUser,
    kind: ReactionKind,
    body: ReactionRequest,
) -> AppResult<(StatusCode, ApiJson<ReactionSummary>)> {
    let object = object_url(Some(&body.object))?;
    let created = reactions::react(data.app_data(), &user.account, kind, &object).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(summary(data, user, &object).await?)))
}

async fn remove(
    data: &Data,
    user: &ApiUser,
    kind: ReactionKind,
    query: ObjectQuery,
) -> AppResult<StatusCode> {
    let object = object_url(query.object.as_deref())?;
    reactions::unreact(data.app_data(), &user.account, kind, &object).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Likes a post, announcement or comment (a remote author is sent a `Like`). Liking again
/// changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/likes",
    tag = "reactions",
    security(("bearer" = [])),
    request_body = ReactionRequest,
    responses(
        (status = 201, description = "Liked now", body = ReactionSummary),
        (status = 200, description = "Already liked: nothing changed", body = ReactionSummary),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published object", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`object` is missing or not a URL, or its server is blocked", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_like(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<ReactionRequest>,
) -> AppResult<(StatusCode, ApiJson<ReactionSummary>)> {
    add(&data, &user, ReactionKind::Like, body).await
}

/// Withdraws a like (a remote author is sent an `Undo`).
#[utoipa::path(
    delete,
    path = "/api/v1/likes",
    tag = "reactions",
    security(("bearer" = [])),
    params(ObjectQuery),
    responses(
        (status = 204, description = "Not liked (any more)"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such object", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`object` is missing or not a URL", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_like(
    data: Data,
    user: ApiUser,
    Query(query): Query<ObjectQuery>,
) -> AppResult<StatusCode> {
    remove(&data, &user, ReactionKind::Like, query).await
}

/// Boosts a post, announcement or comment: an `Announce` to the caller's followers and the
/// author. Boosting again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/boosts",
    tag = "reactions",
    security(("bearer" = [])),
    request_body = ReactionRequest,
    responses(
        (status = 201, description = "Boosted now", body = ReactionSummary),
        (status = 200, description = "Already boosted: nothing changed", body = ReactionSummary),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published object", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`object` is missing or not a URL, or its server is blocked", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_boost(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<ReactionRequest>,
) -> AppResult<(StatusCode, ApiJson<ReactionSummary>)> {
    add(&data, &user, ReactionKind::Announce, body).await
}

/// Undoes a boost (followers and the author are sent an `Undo`).
#[utoipa::path(
    delete,
    path = "/api/v1/boosts",
    tag = "reactions",
    security(("bearer" = [])),
    params(ObjectQuery),
    responses(
        (status = 204, description = "Not boosted (any more)"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such object", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`object` is missing or not a URL", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_boost(
    data: Data,
    user: ApiUser,
    Query(query): Query<ObjectQuery>,
) -> AppResult<StatusCode> {
    remove(&data, &user, ReactionKind::Announce, query).await
}

/// Likes and boosts of an object, local and remote, and whether the caller liked or boosted it.
#[utoipa::path(
    get,
    path = "/api/v1/reactions",
    tag = "reactions",
    security(("bearer" = [])),
    params(ObjectQuery),
    responses(
        (status = 200, description = "The counts", body = ReactionSummary),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published object", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`object` is missing or not a URL", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_reactions(
    data: Data,
    user: ApiUser,
    Query(query): Query<ObjectQuery>,
) -> AppResult<ApiJson<ReactionSummary>> {
    let object = object_url(query.object.as_deref())?;
    Ok(ApiJson(summary(&data, &user, &object).await?))
}
