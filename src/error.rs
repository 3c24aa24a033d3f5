//! One error type for the whole application. Each error has a kind that fixes its HTTP status;
//! validation errors name their fields. The response format (HTML page or
//! `application/problem+json`) is chosen in one place, `web::errors::render_errors`, from the
//! request: handlers only return `AppError`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Gone,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// Input that parsed but breaks a rule; `fields` says which.
    Validation,
    TooManyRequests,
    /// The database or another dependency is down: the client should retry.
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Gone => StatusCode::GONE,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// i18n key of the page title / problem title.
    pub fn title_key(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "error.bad_request",
            ErrorKind::Unauthorized => "error.unauthorized",
            ErrorKind::Forbidden => "error.forbidden",
            ErrorKind::NotFound => "error.not_found",
            ErrorKind::Gone => "error.gone",
            ErrorKind::Conflict => "error.conflict",
            ErrorKind::PayloadTooLarge => "error.too_large",
            ErrorKind::UnsupportedMediaType => "error.unsupported_media",
            ErrorKind::Validation => "error.validation",
            ErrorKind::TooManyRequests => "error.rate_limited",
            ErrorKind::Unavailable => "error.unavailable",
            ErrorKind::Internal => "error.internal",
        }
    }
}

/// A rule broken by one input field. `message_key` is an i18n key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message_key: &'static str,
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: ErrorKind,
    /// For logs and API clients; never shown raw in HTML for internal errors.
    pub detail: String,
    pub fields: Vec<FieldError>,
    /// Optional i18n key replacing the kind's generic message on the page.
    pub message_key: Option<&'static str>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            fields: Vec::new(),
            message_key: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, detail)
    }
    pub fn unauthorized() -> Self {
        Self::new(ErrorKind::Unauthorized, "authentication required")
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, detail)
    }
    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, "not found")
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, detail)
    }

    /// One field broke one rule.
    pub fn field(field: &str, message_key: &'static str) -> Self {
        Self::fields(vec![FieldError {
            field: field.to_string(),
            message_key,
        }])
    }

    /// Several fields broke rules: all are reported at once.
    pub fn fields(fields: Vec<FieldError>) -> Self {
        let detail = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message_key))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            kind: ErrorKind::Validation,
            detail,
            fields,
            message_key: None,
        }
    }

    pub fn with_message(mut self, key: &'static str) -> Self {
        self.message_key = Some(key);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for AppError {}

/// Collects field errors so a form reports every problem at once.
#[derive(Debug, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message_key: &'static str) {
        self.0.push(FieldError {
            field: field.to_string(),
            message_key,
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|f| f.field == field)
    }
    /// `Ok(())` when nothing was added.
    pub fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::fields(self.0))
        }
    }
}

impl IntoResponse for AppError {
    /// The body is written later by `web::errors::render_errors`, which knows whether the
    /// client wants HTML or JSON; the error rides along in the response extensions.
    fn into_response(self) -> Response {
        if self.kind == ErrorKind::Internal {
            tracing::error!("internal error: {}", self.detail);
        }
        let mut response = self.status().into_response();
        response.extensions_mut().insert(Arc::new(self));
        response
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::not_found(),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                AppError::new(ErrorKind::Conflict, info.message().to_string())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::unavailable(info.message().to_string())
            }
            // diesel-async reports a connection lost mid-query ("connection closed", an I/O
            // error) as UnableToSendCommand: the database is unavailable, not our bug.
            Error::DatabaseError(
                DatabaseErrorKind::Unknown | DatabaseErrorKind::UnableToSendCommand,
                ref info,
            ) if is_connection_failure(info.message()) => {
                AppError::unavailable(info.message().to_string())
            }
            other => AppError::internal(format!("database: {other}")),
        }
    }
}

fn is_connection_failure(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("connection")
        || m.contains("communicating with the server")
        || m.contains("terminating")
        || m.contains("shutting down")
        || m.contains("starting up")
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        AppError::unavailable(format!("database pool: {e}"))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<AppError>() {
            Ok(app) => app,
            Err(e) => AppError::internal(format!("{e:#}")),
        }
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::internal(format!("io: {e}"))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::bad_request(format!("json: {e}"))
    }
}

impl From<url::ParseError> for AppError {
    fn from(e: url::ParseError) -> Self {
        AppError::bad_request(format!("url: {e}"))
    }
}

impl From<activitypub_federation::error::Error> for AppError {
    fn from(e: activitypub_federation::error::Error) -> Self {
        use activitypub_federation::error::Error as F;
        if let Some(refused) = ssrf_refusal(&e) {
            // Another server named an address we never contact: its input, not our fault.
            return AppError::forbidden(format!("URL refused: {refused}"));
        }
        match e {
            F::NotFound => AppError::not_found(),
            F::ObjectDeleted(_) => AppError::new(ErrorKind::Gone, e.to_string()),
            F::ActivitySignatureInvalid | F::ActivityBodyDigestInvalid => {
                AppError::new(ErrorKind::Unauthorized, e.to_string())
            }
            F::ParseReceivedActivity { .. }
            | F::UrlVerificationError(_)
            | F::UrlParse(_)
            | F::FetchWrongId(_)
            | F::FetchInvalidContentType(_)
            | F::ParseFetchedObject(..) => AppError::bad_request(e.to_string()),
            F::DomainResolveError(_) | F::ResolveInternalIpError(..) => {
                AppError::forbidden(e.to_string())
            }
            F::RequestLimit | F::ResponseBodyLimit => AppError::bad_request(e.to_string()),
            // A fetched document that is neither JSON nor UTF-8.
            F::Utf8(_) => AppError::bad_request(format!("fetched document unreadable: {e}")),
            F::Reqwest(_) | F::ReqwestMiddleware(_) | F::WebfingerResolveFailed(_) => {
                AppError::new(ErrorKind::BadRequest, e.to_string())
            }
            other => AppError::internal(other.to_string()),
        }
    }
}

/// Our SSRF refusal ([`Refused`](crate::federation::http_client::Refused)) carried by a
/// library error, wherever it sits: the URL verifier's or the client middleware's error, or
/// the resolver's I/O error inside reqwest's.
fn ssrf_refusal(
    e: &activitypub_federation::error::Error,
) -> Option<crate::federation::http_client::Refused> {
    use crate::federation::http_client::Refused;
    use activitypub_federation::error::Error as F;
    let mut current: Option<&(dyn std::error::Error + 'static)> = match e {
        F::ReqwestMiddleware(reqwest_middleware::Error::Middleware(inner)) => Some(inner.as_ref()),
        F::ReqwestMiddleware(reqwest_middleware::Error::Reqwest(inner)) | F::Reqwest(inner) => {
            Some(inner)
        }
        _ => None,
    };
    while let Some(err) = current {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        if let Some(refused) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<Refused>())
        {
            return Some(refused.clone());
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::http_client::{Refused, SsrfUrlVerifier};
    use activitypub_federation::{config::UrlVerifier, error::Error as F};

    #[tokio::test]
    async fn an_ssrf_refusal_is_a_403_that_says_why() {
        let verifier = SsrfUrlVerifier::new(false);
        let url = url::Url::parse("http://127.0.0.1:9/users/x").expect("url");
        let refusal = verifier.verify(&url).await.expect_err("refused");
        let e = AppError::from(refusal);
        assert_eq!(e.kind, ErrorKind::Forbidden, "{e}");
        assert!(
            e.detail.starts_with("URL refused: 127.0.0.1"),
            "{}",
            e.detail
        );
        // The resolver's refusal, inside an I/O error inside reqwest's, reads the same way.
        let io = std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            Refused::LocalName("localhost".into()),
        );
        let e = AppError::from(F::ReqwestMiddleware(reqwest_middleware::Error::middleware(
            io,
        )));
        assert_eq!(e.kind, ErrorKind::Forbidden, "{e}");
        assert!(e.detail.contains("localhost"), "{}", e.detail);
        // Other library errors keep their mapping; a fetched body that is not UTF-8 is 400.
        let not_utf8 = String::from_utf8(vec![0xff]).expect_err("not UTF-8");
        assert_eq!(
            AppError::from(F::Utf8(not_utf8)).kind,
            ErrorKind::BadRequest
        );
        assert_eq!(
            AppError::from(F::ActivitySignatureInvalid).kind,
            ErrorKind::Unauthorized
        );
    }
}
