//! Personal access tokens: list, create (the secret is shown once), revoke.

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    service::tokens::{self, TokenInfo},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    routing::{delete, get},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_tokens, http_post_token, http_delete_token),
    components(schemas(Token, TokenList, NewToken, CreatedToken))
)]
pub struct TokensApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/tokens", get(http_get_tokens).post(http_post_token))
        .route("/api/v1/tokens/{id}", delete(http_delete_token))
}

/// A token as its owner sees it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub id: i64,
    #[schema(example = "agenda script")]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

impl From<TokenInfo> for Token {
    fn from(t: TokenInfo) -> Self {
        Token {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked: t.revoked_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first, revoked ones included.
    pub items: Vec<Token>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name to recognise the token by (at most 100 characters).
    #[serde(default)]
    #[schema(example = "agenda script")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: Token,
    /// The secret to send as `Authorization: Bearer <secret>`. Shown this once only.
    #[schema(example = "ccn_3q2-7wEBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs")]
    pub secret: String,
}

/// The caller's tokens.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's tokens", body = TokenList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_tokens(data: Data, user: ApiUser) -> AppResult<ApiJson<TokenList>> {
    let items = tokens::list_tokens(data.app_data(), &user.account)
        .await?
        .into_iter()
        .map(Token::from)
        .collect();
    Ok(ApiJson(TokenList { items }))
}

/// Creates a token for the caller and returns its secret, once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("bearer" = [])),
    request_body = NewToken,
    responses(
        (status = 201, description = "The new token and its secret", body = CreatedToken),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong (`name` too long, unknown field)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_token(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewToken>,
) -> AppResult<(StatusCode, ApiJson<CreatedToken>)> {
    let created = tokens::create_token_for(data.app_data(), &user.account, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedToken {
            token: created.info.into(),
            secret: created.secret,
        }),
    ))
}

/// Revokes one of the caller's tokens (the one in use included). Revoking twice is harmless.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Id of the token, from `GET /api/v1/tokens`")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token among the caller's", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_token(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    // Read as text so that a non-numeric id is the same 404 problem as an unknown one,
    // rather than axum's plain-text rejection.
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    tokens::revoke_token(data.app_data(), &user.account, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
