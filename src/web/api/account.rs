//! The API twins of the account pages that mail links: a new confirmation link, a
//! password-reset request, a change of address. The links themselves are opened in a browser.

use crate::{
    federation::Data,
    service::account_links,
    web::{
        api::{ApiJson, ApiUser, openapi::Problem},
        auth::ClientIp,
        pages::account_links::with_retry_after,
    },
};
use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_post_confirmation,
        http_post_password_reset,
        http_post_email_change
    ),
    components(schemas(Accepted, PasswordResetRequest, EmailChangeRequest))
)]
pub struct AccountApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/account/confirmation", post(http_post_confirmation))
        .route("/api/v1/account/email", post(http_post_email_change))
        .route("/api/v1/password-reset", post(http_post_password_reset))
}

/// The request was taken; what follows happens by mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(example = "accepted")]
    pub status: &'static str,
}

fn accepted() -> (StatusCode, ApiJson<Accepted>) {
    (
        StatusCode::ACCEPTED,
        ApiJson(Accepted { status: "accepted" }),
    )
}

/// Mails a new link confirming the caller's address.
#[utoipa::path(
    post,
    path = "/api/v1/account/confirmation",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new link is on its way to the account's address", body = Accepted),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The address is already confirmed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Three links were already sent in the past hour", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_confirmation(data: Data, user: ApiUser) -> Response {
    match account_links::resend_confirmation(data.app_data(), &user.account).await {
        Ok(()) => accepted().into_response(),
        Err(e) => with_retry_after(e),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The address of the account.
    #[schema(example = "contact@compagnie.example")]
    pub email: String,
}

/// Asks for a password-reset link (valid one hour, single use). The answer is the same whether
/// or not an account has this address.
#[utoipa::path(
    post,
    path = "/api/v1/password-reset",
    tag = "accounts",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If an account has this address, a link is on its way to it", body = Accepted),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`email` is empty or not an address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client address in the past hour", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_password_reset(
    data: Data,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Response {
    match account_links::request_password_reset(data.app_data(), &body.email, &ip).await {
        Ok(()) => accepted().into_response(),
        Err(e) => with_retry_after(e),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    /// The new address: it replaces the current one once the link mailed to it is used.
    #[schema(example = "nouvelle@compagnie.example")]
    pub email: String,
    /// The account's current password.
    pub current_password: String,
}

/// Asks to change the caller's address: a link goes to the new address, a notice to the old.
#[utoipa::path(
    post,
    path = "/api/v1/account/email",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = EmailChangeRequest,
    responses(
        (status = 202, description = "The link is on its way to the new address", body = Accepted),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong `current_password`; `email` invalid, the same or taken", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Five changes were already asked for in the past hour", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_email_change(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<EmailChangeRequest>,
) -> Response {
    let result = account_links::request_email_change(
        data.app_data(),
        &user.account,
        &body.current_password,
        &body.email,
    )
    .await;
    match result {
        Ok(()) => accepted().into_response(),
        Err(e) => with_retry_after(e),
    }
}
