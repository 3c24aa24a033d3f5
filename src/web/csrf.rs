//! CSRF protection for every form POST, in two layers.
//!
//! 1. A token in each form (`csrf_token`), compared in constant time with the expected one: the
//!    session's own token for a logged-in visitor, otherwise a random token kept in the `csrf`
//!    cookie (double submit). A cross-site page can neither read the cookie nor the page, so it
//!    cannot produce the field. [`CsrfForm`] checks urlencoded forms before the handler runs;
//!    multipart handlers call [`CsrfToken::verify`] before writing anything.
//! 2. [`reject_cross_site`]: a browser request that carries cookies and says it comes from
//!    another site (`Sec-Fetch-Site`, or an `Origin` that is not this host) is refused before any
//!    handler runs, whatever the token.
//!
//! A missing or wrong token answers 403 with the `error.csrf` message; nothing is written.

use crate::error::{AppError, AppResult};
use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";
/// Cookie holding the token of visitors who are not logged in.
pub const COOKIE: &str = "csrf";
/// Largest urlencoded form [`CsrfForm`] reads.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// The token expected from this request's forms, set up by the session middleware.
#[derive(Debug)]
pub struct CsrfState {
    token: String,
    /// True when the visitor had no token yet: the cookie must be sent if a form used it.
    fresh: bool,
    used: AtomicBool,
}

impl CsrfState {
    pub(crate) fn new(token: String, fresh: bool) -> Self {
        Self {
            token,
            fresh,
            used: AtomicBool::new(false),
        }
    }

    /// The value to put in forms.
    pub fn value(&self) -> &str {
        self.used.store(true, Ordering::Relaxed);
        &self.token
    }

    /// Whether a new token was handed out and must now be stored in the cookie.
    pub(crate) fn needs_cookie(&self) -> bool {
        self.fresh && self.used.load(Ordering::Relaxed)
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Checks a submitted token. A fresh state (the visitor sent no cookie) never matches.
    pub fn verify(&self, submitted: Option<&str>) -> AppResult<()> {
        match submitted {
            Some(s) if !self.fresh && constant_time_eq(s.as_bytes(), self.token.as_bytes()) => {
                Ok(())
            }
            _ => Err(rejected()),
        }
    }
}

/// The 403 answer to a form without a valid token.
pub fn rejected() -> AppError {
    AppError::forbidden("missing or invalid CSRF token").with_message("error.csrf")
}

/// Compares without stopping at the first difference, so timing tells nothing about the
/// expected token.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Extractor: the token to embed in this page's forms (`csrf.value()`), and the checker for
/// handlers that parse their body themselves (multipart).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub Arc<CsrfState>);

impl CsrfToken {
    pub fn value(&self) -> &str {
        self.0.value()
    }

    pub fn verify(&self, submitted: Option<&str>) -> AppResult<()> {
        self.0.verify(submitted)
    }

    fn from_parts(parts: &Parts) -> AppResult<Self> {
        parts
            .extensions
            .get::<Arc<CsrfState>>()
            .cloned()
            .map(CsrfToken)
            .ok_or_else(|| AppError::internal("CSRF state missing: session middleware not applied"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        Self::from_parts(parts)
    }
}

/// Extractor for an urlencoded form whose `csrf_token` field was checked first: the handler
/// only runs for a genuine form of ours. Missing fields of `T` should default (`#[serde(default)]`)
/// so that the handler reports them as field errors.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

impl<T, S> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let token = CsrfToken::from_parts(&parts).map_err(IntoResponse::into_response)?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            // Whatever it is, it is not one of our forms: refuse as a forgery.
            return Err(rejected().into_response());
        }
        let bytes = crate::body::read_capped(body, MAX_FORM_BYTES)
            .await
            .map_err(IntoResponse::into_response)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| AppError::bad_request(format!("form: {e}")).into_response())?;
        let submitted = pairs
            .iter()
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v.as_str());
        token
            .verify(submitted)
            .map_err(IntoResponse::into_response)?;
        let value = serde_urlencoded::from_bytes::<T>(&bytes)
            .map_err(|e| AppError::bad_request(format!("form: {e}")).into_response())?;
        Ok(CsrfForm(value))
    }
}

/// Refuses state-changing browser requests that come from another site. Only requests that
/// carry cookies are concerned: without cookies there is no session to abuse, and servers
/// posting to inboxes or API clients with bearer tokens send none.
pub async fn reject_cross_site(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !safe
        && request.headers().contains_key(header::COOKIE)
        && !is_exempt(request.uri().path())
        && is_cross_site(&request)
    {
        return rejected().into_response();
    }
    next.run(request).await
}

/// Paths that take cross-site POSTs on purpose. The one-click unsubscribe URL of a mail
/// (RFC 8058) is posted by mail programs, web mail included, from wherever they run; its
/// signed token is the authority and it can only stop mails, so a forged post gains nothing.
fn is_exempt(path: &str) -> bool {
    path == crate::service::mail::unsubscribe::PATH
}

fn is_cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Neither header: not a modern browser's cross-site request; the token decides.
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    !origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn fresh_tokens_never_verify() {
        let state = CsrfState::new("t".repeat(43), true);
        let value = state.value().to_string();
        assert!(state.verify(Some(&value)).is_err());
        assert!(state.needs_cookie());
        let state = CsrfState::new("t".repeat(43), false);
        assert!(state.verify(Some(&"t".repeat(43))).is_ok());
        assert!(state.verify(Some("t")).is_err());
        assert!(state.verify(None).is_err());
        assert!(!state.needs_cookie());
    }

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().method(Method::POST).uri("/connexion");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(axum::body::Body::empty()).expect("request")
    }

    #[test]
    fn detects_cross_site_requests() {
        assert!(!is_cross_site(&request(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!is_cross_site(&request(&[("sec-fetch-site", "none")])));
        assert!(is_cross_site(&request(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&request(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_site(&request(&[
            ("host", "culture.example"),
            ("origin", "https://culture.example")
        ])));
        assert!(is_cross_site(&request(&[
            ("host", "culture.example"),
            ("origin", "https://evil.example")
        ])));
        assert!(is_cross_site(&request(&[
            ("host", "culture.example"),
            ("origin", "null")
        ])));
        assert!(!is_cross_site(&request(&[("host", "culture.example")])));
    }
}
