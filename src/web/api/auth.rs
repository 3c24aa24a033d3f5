//! `ApiUser`: the account behind the request's `Authorization: Bearer <token>` header.

use crate::{
    context::AppContext,
    db::accounts::DbAccount,
    error::{AppError, ErrorKind},
    federation::FederationConfig,
    service,
};
use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
    response::{IntoResponse, Response},
};

/// Challenge sent when no credentials came (RFC 6750 §3).
const CHALLENGE_MISSING: &str = "Bearer realm=\"culturecnous\"";
/// Challenge sent when the token is unknown or revoked (RFC 6750 §3.1).
const CHALLENGE_INVALID: &str = "Bearer realm=\"culturecnous\", error=\"invalid_token\"";

/// An authenticated API caller. Extracting it checks the token (hashed lookup, not revoked,
/// account not suspended) and records its last use.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub account: DbAccount,
}

/// Why a request was refused. 401s carry a `WWW-Authenticate: Bearer` challenge so that
/// clients know which scheme to use; other failures (suspended account, database down) keep
/// their own status.
#[derive(Debug)]
pub struct ApiAuthRejection {
    error: AppError,
    challenge: Option<&'static str>,
}

impl IntoResponse for ApiAuthRejection {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl ApiAuthRejection {
    fn unauthorized(message_key: &'static str, detail: &str, challenge: &'static str) -> Self {
        let mut error = AppError::field("authorization", message_key);
        error.kind = ErrorKind::Unauthorized;
        error.detail = detail.to_string();
        ApiAuthRejection {
            error,
            challenge: Some(challenge),
        }
    }

    fn missing() -> Self {
        Self::unauthorized(
            "api.token.missing",
            "send the header Authorization: Bearer <token>",
            CHALLENGE_MISSING,
        )
    }

    fn invalid() -> Self {
        Self::unauthorized(
            "field.token.invalid",
            "the bearer token is unknown or revoked",
            CHALLENGE_INVALID,
        )
    }
}

/// The token of an `Authorization: Bearer <token>` header; `None` when the header is absent,
/// not a bearer one, or empty.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiAuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx: AppContext = parts
            .extensions
            .get::<FederationConfig>()
            .map(|config| config.to_request_data().app_data().clone())
            .ok_or_else(|| ApiAuthRejection {
                error: AppError::internal("FederationMiddleware is not installed"),
                challenge: None,
            })?;
        let token = bearer_token(parts).ok_or_else(ApiAuthRejection::missing)?;
        match service::tokens::authenticate(&ctx, token).await {
            Ok(account) => Ok(ApiUser { account }),
            Err(e) if e.kind == ErrorKind::Unauthorized => Err(ApiAuthRejection::invalid()),
            Err(error) => Err(ApiAuthRejection {
                error,
                challenge: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut builder = Request::builder().uri("/api/v1/me");
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        builder.body(()).expect("request").into_parts().0
    }

    #[test]
    fn reads_bearer_tokens_only() {
        assert_eq!(
            bearer_token(&parts(Some("Bearer ccn_abc"))),
            Some("ccn_abc")
        );
        assert_eq!(
            bearer_token(&parts(Some("bearer   ccn_abc  "))),
            Some("ccn_abc")
        );
        assert_eq!(bearer_token(&parts(Some("Basic dXNlcjpwdw=="))), None);
        assert_eq!(bearer_token(&parts(Some("Bearer"))), None);
        assert_eq!(bearer_token(&parts(Some("Bearer    "))), None);
        assert_eq!(bearer_token(&parts(None)), None);
    }
}
