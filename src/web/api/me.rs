//! `GET /api/v1/me`: who the token belongs to. Tools call it first to check their token.

use crate::{
    federation::Data,
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, routing::get};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(paths(http_get_me), components(schemas(Me)))]
pub struct MeApi;

pub fn routes() -> Router {
    Router::new().route("/api/v1/me", get(http_get_me))
}

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[schema(example = "la_fabrique")]
    pub username: String,
    /// `member`, `staff`, `moderator` or `admin`.
    #[schema(example = "member")]
    pub role: String,
    /// `individual` (a person) or `structure` (company, library, school, council…).
    #[schema(example = "structure")]
    pub kind: String,
    /// The account's ActivityPub id (its actor URL).
    #[schema(example = "https://culture.example/users/la_fabrique")]
    pub ap_id: String,
    #[schema(example = "La Fabrique")]
    pub display_name: String,
    /// Whether the account's address is confirmed (until it is, publishing may be refused:
    /// `accounts.require_confirmation`).
    pub email_confirmed: bool,
}

/// The account the bearer token belongs to.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = Me),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Suspended account", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_me(data: Data, user: ApiUser) -> ApiJson<Me> {
    let account = user.account;
    ApiJson(Me {
        ap_id: data.app_data().urls.user(&account.username),
        username: account.username,
        role: account.role,
        kind: account.kind,
        display_name: account.display_name,
        email_confirmed: account.email_confirmed_at.is_some(),
    })
}
