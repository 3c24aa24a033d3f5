//! Who is asking: the session middleware, the extractors handlers use (`CurrentUser`,
//! `MaybeUser`, the role guards `Moderator` and `Admin`, `ClientIp`), and the cookies.
//!
//! The middleware looks the session up once per request and leaves the result, the page
//! language, the CSRF state and the page chrome in the request extensions; extractors only read
//! them. After the handler it sends the cookies that must change (new CSRF cookie, slid
//! session, consumed flash message, stale session cookie).

use crate::{
    context::AppContext,
    db::accounts::DbAccount,
    error::{AppError, AppResult},
    i18n::Lang,
    service::{self, sessions::ActiveSession},
    web::{
        csrf::{self, CsrfState},
        pages::layout::{self, Chrome, NavUser},
    },
};
use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use std::{ops::Deref, sync::Arc};

pub const SESSION_COOKIE: &str = "session";
pub const LANG_COOKIE: &str = "lang";
pub const FLASH_COOKIE: &str = "flash";
const CSRF_COOKIE_DAYS: i64 = 30;
const LANG_COOKIE_DAYS: i64 = 365;

/// The logged-in member. Derefs to the account.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: DbAccount,
    /// This session's CSRF token (what forms must send back).
    pub csrf_token: String,
}

impl Deref for CurrentUser {
    type Target = DbAccount;
    fn deref(&self) -> &DbAccount {
        &self.account
    }
}

impl CurrentUser {
    pub fn is_moderator(&self) -> bool {
        service::accounts::is_moderator(&self.account)
    }
    pub fn is_admin(&self) -> bool {
        service::accounts::is_admin(&self.account)
    }
    pub fn is_staff(&self) -> bool {
        service::accounts::is_staff(&self.account)
    }
    /// 403 unless moderator or admin.
    pub fn require_moderator(&self) -> AppResult<()> {
        if self.is_moderator() {
            Ok(())
        } else {
            Err(AppError::forbidden("moderators only").with_message("error.role_required"))
        }
    }
    /// 403 unless admin.
    pub fn require_admin(&self) -> AppResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden("admins only").with_message("error.role_required"))
        }
    }
}

/// What the middleware found for this request.
#[derive(Debug, Clone)]
pub(crate) enum SessionState {
    Anonymous,
    User(Arc<CurrentUser>),
    /// The lookup failed (database down): handlers needing the user answer with this error
    /// instead of treating the visitor as logged out.
    Failed(AppError),
}

fn session_state(parts: &Parts) -> SessionState {
    parts
        .extensions
        .get::<SessionState>()
        .cloned()
        .unwrap_or(SessionState::Anonymous)
}

/// Where to send a visitor who must log in first.
pub fn login_redirect(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    login_redirect_to(next)
}

/// The login page, coming back to `next` (a local path) afterwards.
pub fn login_redirect_to(next: &str) -> Response {
    let target = format!(
        "/connexion?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    Redirect::to(&target).into_response()
}

/// Extractor: the logged-in member. A visitor who is not logged in is sent to the login page
/// (GET) or gets 401 (other methods).
impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        match session_state(parts) {
            SessionState::User(user) => Ok((*user).clone()),
            SessionState::Failed(e) => Err(e.into_response()),
            SessionState::Anonymous => {
                if matches!(parts.method, Method::GET | Method::HEAD) {
                    Err(login_redirect(parts))
                } else {
                    Err(AppError::unauthorized().into_response())
                }
            }
        }
    }
}

/// Extractor: the logged-in member, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        match session_state(parts) {
            SessionState::User(user) => Ok(MaybeUser(Some((*user).clone()))),
            SessionState::Failed(e) => Err(e),
            SessionState::Anonymous => Ok(MaybeUser(None)),
        }
    }
}

/// Extractor: a logged-in moderator or admin (403 for other members).
#[derive(Debug, Clone)]
pub struct Moderator(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Moderator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require_moderator()
            .map_err(IntoResponse::into_response)?;
        Ok(Moderator(user))
    }
}

/// Extractor: a logged-in admin (403 for other members).
#[derive(Debug, Clone)]
pub struct Admin(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require_admin().map_err(IntoResponse::into_response)?;
        Ok(Admin(user))
    }
}

/// Extractor: the client's IP address (see `client_addr`), or "unknown" when the server was not started with
/// connection info (router tests).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Behind a trusted reverse proxy, the address it forwarded (`http.trusted_proxies`).
        Ok(ClientIp(
            crate::client_addr::of(&parts.extensions)
                .map(|ip| ip.to_string())
                .unwrap_or_else(|| "unknown".to_string()),
        ))
    }
}

/// The language the middleware chose for this request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolvedLang(pub Lang);

/// Cookie values, first occurrence of each name.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value: always `Path=/; HttpOnly; SameSite=Lax`, `Secure` on https instances.
/// `max_age` of `None` deletes the cookie.
pub fn set_cookie_value(
    ctx: &AppContext,
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
) -> HeaderValue {
    let secure = if ctx.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    let age = max_age_secs.unwrap_or(0);
    let text = format!("{name}={value}; Path=/; Max-Age={age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Whether the response already sets (or deletes) cookie `name`.
fn sets_cookie(response: &Response, name: &str) -> bool {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with(&prefix))
}

/// Appends a `Set-Cookie` header.
pub fn add_cookie(response: &mut Response, value: HeaderValue) {
    response.headers_mut().append(header::SET_COOKIE, value);
}

/// The session cookie for a session that expires at `expires_at`.
pub fn session_cookie(
    ctx: &AppContext,
    token: &str,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> HeaderValue {
    let secs = (expires_at - chrono::Utc::now()).num_seconds().max(1);
    set_cookie_value(ctx, SESSION_COOKIE, token, Some(secs))
}

pub fn clear_session_cookie(ctx: &AppContext) -> HeaderValue {
    set_cookie_value(ctx, SESSION_COOKIE, "", None)
}

pub fn lang_cookie(ctx: &AppContext, lang: Lang) -> HeaderValue {
    set_cookie_value(
        ctx,
        LANG_COOKIE,
        lang.code(),
        Some(LANG_COOKIE_DAYS * 86_400),
    )
}

/// Paths that never render pages: no session lookup for them.
fn is_static(path: &str) -> bool {
    path.starts_with("/assets/") || path.starts_with("/media/")
}

/// The session middleware (see the module comment). Needs the context as state.
pub async fn session_middleware(
    State(ctx): State<AppContext>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_static(request.uri().path()) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let session_token = cookie(headers, SESSION_COOKIE)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let (state, active): (SessionState, Option<ActiveSession>) = match &session_token {
        None => (SessionState::Anonymous, None),
        Some(token) => match service::sessions::lookup(&ctx, token).await {
            Ok(Some(active)) => (
                SessionState::User(Arc::new(CurrentUser {
                    account: active.account.clone(),
                    csrf_token: active.csrf_token.clone(),
                })),
                Some(active),
            ),
            Ok(None) => (SessionState::Anonymous, None),
            Err(e) => (SessionState::Failed(e), None),
        },
    };
    let stale_session_cookie = session_token.is_some() && matches!(state, SessionState::Anonymous);

    let user = match &state {
        SessionState::User(user) => Some(user.clone()),
        _ => None,
    };
    let lang = user
        .as_ref()
        .and_then(|u| u.account.language.as_deref())
        .and_then(Lang::parse)
        .or_else(|| cookie(request.headers(), LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or(ctx.default_lang);

    let csrf_state = Arc::new(match &user {
        Some(user) => CsrfState::new(user.csrf_token.clone(), false),
        // A cookie value that is not one of our tokens is ignored.
        None => match cookie(request.headers(), csrf::COOKIE)
            .filter(|v| service::tokens::is_well_formed_secret(v))
        {
            Some(token) => CsrfState::new(token.to_string(), false),
            None => CsrfState::new(service::tokens::new_secret(), true),
        },
    });

    let flash = cookie(request.headers(), FLASH_COOKIE).and_then(layout::flash_key);
    let path = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    // The header's counter: one small query, for pages only (GET of a non-API path).
    let renders_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/api/");
    let unread_notifications = match &user {
        Some(u) if renders_page => service::notifications::centre::unread_count(&ctx, u.account.id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("unread notifications of {}: {e}", u.account.username);
                0
            }),
        _ => 0,
    };
    // The moderators' badge: one count, for moderators and admins only.
    let open_reports = match &user {
        Some(u) if renders_page && u.is_moderator() => {
            crate::service::moderation::reports::open_count(&ctx)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!("open reports: {e}");
                    0
                })
        }
        _ => 0,
    };
    // The moderation notice: one small indexed query, for pages only.
    let moderation_notice = match &user {
        Some(u) if renders_page => service::moderation::decisions::pending_notice(&ctx, &u.account)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("moderation notice of {}: {e}", u.account.username);
                None
            }),
        _ => None,
    };
    let chrome = Arc::new(Chrome::new(
        lang,
        ctx.config.instance.name.clone(),
        ctx.config.registration.open,
        user.as_ref().map(|u| NavUser {
            username: u.account.username.clone(),
            display_name: u.account.display_name.clone(),
            moderator: u.is_moderator(),
            staff: u.is_staff(),
            unconfirmed: service::account_links::awaits_confirmation(&ctx, &u.account),
            unread_notifications,
            open_reports,
            moderation_notice,
        }),
        csrf_state.clone(),
        flash,
        path,
    ));

    let extensions = request.extensions_mut();
    extensions.insert(state);
    extensions.insert(ResolvedLang(lang));
    extensions.insert(csrf_state.clone());
    extensions.insert(chrome.clone());

    let mut response = layout::scope(chrome.clone(), next.run(request)).await;

    if csrf_state.needs_cookie() && !sets_cookie(&response, csrf::COOKIE) {
        let value = set_cookie_value(
            &ctx,
            csrf::COOKIE,
            csrf_state.token(),
            Some(CSRF_COOKIE_DAYS * 86_400),
        );
        add_cookie(&mut response, value);
    }
    if chrome.flash_was_shown() && !sets_cookie(&response, FLASH_COOKIE) {
        add_cookie(
            &mut response,
            set_cookie_value(&ctx, FLASH_COOKIE, "", None),
        );
    }
    // Pages carry per-visitor tokens and navigation: never from a shared cache.
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    if !sets_cookie(&response, SESSION_COOKIE) {
        if let (Some(active), Some(token)) = (&active, &session_token) {
            if active.extended {
                add_cookie(
                    &mut response,
                    session_cookie(&ctx, token, active.expires_at),
                );
            }
        } else if stale_session_cookie {
            add_cookie(&mut response, clear_session_cookie(&ctx));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; session=abc ; lang=en"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("flash=x"));
        assert_eq!(cookie(&headers, "session"), Some("abc"));
        assert_eq!(cookie(&headers, "lang"), Some("en"));
        assert_eq!(cookie(&headers, "flash"), Some("x"));
        assert_eq!(cookie(&headers, "nope"), None);
    }

    #[test]
    fn only_our_tokens_are_accepted_from_cookies() {
        assert!(service::tokens::is_well_formed_secret(
            &service::tokens::new_secret()
        ));
        assert!(!service::tokens::is_well_formed_secret("short"));
        assert!(!service::tokens::is_well_formed_secret(
            &"a;".repeat(22)[..43]
        ));
    }
}
