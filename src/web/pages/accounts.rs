//! Registration, login and logout pages.

use crate::{
    context::AppContext,
    error::{AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        accounts::{NewAccountInput, register},
        sessions::{self, LoginAttempt, LoginError},
    },
    web::{
        auth::{self, ClientIp, MaybeUser},
        csrf::{CsrfForm, CsrfToken},
        pages::{
            PageLang, forms::FormState, layout::redirect_with_flash, local_path, render,
            render_status,
        },
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Query,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/inscription",
            get(http_get_register).post(http_post_register),
        )
        .route("/connexion", get(http_get_login).post(http_post_login))
        .route("/deconnexion", post(http_post_logout))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    pub username: String,
    pub email: String,
    pub password: String,
    pub kind: String,
    pub display_name: String,
}

#[derive(Template)]
#[template(path = "accounts/register.html")]
struct RegisterPage<'a> {
    lang: Lang,
    csrf: &'a str,
    form: &'a RegisterForm,
    errors: FormState,
    /// The instance's rules, which registering accepts.
    rules: Vec<crate::db::rules::DbRule>,
}

#[derive(Template)]
#[template(path = "accounts/registration_closed.html")]
struct RegistrationClosedPage {
    lang: Lang,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub login: String,
    pub password: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage<'a> {
    lang: Lang,
    csrf: &'a str,
    login: &'a str,
    next: &'a str,
    errors: FormState,
    registration_open: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Closes the session this browser had before logging in again, so it does not linger.
async fn close_previous_session(ctx: &AppContext, headers: &HeaderMap) -> AppResult<()> {
    if let Some(token) = auth::cookie(headers, auth::SESSION_COOKIE).filter(|t| !t.is_empty()) {
        sessions::close(ctx, token).await?;
    }
    Ok(())
}

/// 303 to `target` with the new session cookie and a flash message.
fn logged_in_redirect(
    ctx: &AppContext,
    target: &str,
    session: &sessions::OpenedSession,
    flash: &'static str,
) -> Response {
    let mut response = redirect_with_flash(ctx, target, flash);
    auth::add_cookie(
        &mut response,
        auth::session_cookie(ctx, &session.token, session.expires_at),
    );
    response
}

async fn http_get_register(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    let ctx = data.app_data();
    if let Some(user) = user {
        return Ok(Redirect::to(&format!("/users/{}", user.username)).into_response());
    }
    if !ctx.config.registration.open {
        return render(&RegistrationClosedPage { lang });
    }
    let form = RegisterForm {
        kind: "individual".into(),
        ..Default::default()
    };
    render(&RegisterPage {
        lang,
        csrf: csrf.value(),
        form: &form,
        rules: crate::service::moderation::rules::current(ctx).await?,
        errors: FormState::new(lang),
    })
}

async fn http_post_register(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(mut form): CsrfForm<RegisterForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    if !ctx.config.registration.open {
        return render_status(StatusCode::FORBIDDEN, &RegistrationClosedPage { lang });
    }
    if let Some(limited) = crate::service::login_limits::check_signup(ctx, &ip).await? {
        form.password.clear();
        let mut response = render_status(
            StatusCode::TOO_MANY_REQUESTS,
            &RegisterPage {
                lang,
                csrf: csrf.value(),
                form: &form,
                rules: crate::service::moderation::rules::current(ctx).await?,
                errors: FormState::new(lang).with_general("register.rate_limited"),
            },
        )?;
        if let Ok(value) = HeaderValue::from_str(&limited.retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let input = NewAccountInput {
        username: form.username.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
        kind: form.kind.clone(),
        role: "member".into(),
        display_name: form.display_name.clone(),
    };
    match register(ctx, input).await {
        Ok(account) => {
            crate::service::login_limits::record_signup(ctx, &ip).await?;
            close_previous_session(ctx, &headers).await?;
            let session = sessions::open(ctx, &account, user_agent(&headers)).await?;
            Ok(logged_in_redirect(
                ctx,
                &format!("/users/{}", account.username),
                &session,
                "flash.welcome",
            ))
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            // Never send a password back to the browser.
            form.password.clear();
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage {
                    lang,
                    csrf: csrf.value(),
                    form: &form,
                    rules: crate::service::moderation::rules::current(ctx).await?,
                    errors: FormState::from_error(lang, &e),
                },
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextQuery {
    next: String,
}

async fn http_get_login(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    render(&LoginPage {
        lang,
        csrf: csrf.value(),
        login: "",
        next: local_path(&query.next).unwrap_or(""),
        errors: FormState::new(lang),
        registration_open: ctx.config.registration.open,
    })
}

async fn http_post_login(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let attempt = LoginAttempt {
        login: &form.login,
        password: &form.password,
        ip: &ip,
        user_agent: user_agent(&headers),
    };
    let next = local_path(&form.next).unwrap_or("");
    let (status, errors, retry_after) = match sessions::login(ctx, attempt).await {
        Ok((account, session)) => {
            close_previous_session(ctx, &headers).await?;
            let target = if next.is_empty() {
                format!("/users/{}", account.username)
            } else {
                next.to_string()
            };
            return Ok(logged_in_redirect(
                ctx,
                &target,
                &session,
                "flash.logged_in",
            ));
        }
        Err(LoginError::BadCredentials) => {
            let mut errors = FormState::new(lang);
            errors.add("login", "field.credentials.invalid");
            (StatusCode::UNPROCESSABLE_ENTITY, errors, None)
        }
        Err(LoginError::Missing(fields)) => {
            let mut errors = FormState::new(lang);
            for f in fields {
                errors.add(f, "field.required");
            }
            (StatusCode::UNPROCESSABLE_ENTITY, errors, None)
        }
        Err(LoginError::RateLimited(limited)) => (
            StatusCode::TOO_MANY_REQUESTS,
            FormState::new(lang).with_general("login.rate_limited"),
            Some(limited.retry_after_secs),
        ),
        Err(LoginError::Suspended) => (
            StatusCode::FORBIDDEN,
            FormState::new(lang).with_general("login.suspended"),
            None,
        ),
        Err(LoginError::Other(e)) => return Err(e),
    };
    let mut response = render_status(
        status,
        &LoginPage {
            lang,
            csrf: csrf.value(),
            login: form.login.trim(),
            next,
            errors,
            registration_open: ctx.config.registration.open,
        },
    )?;
    if let Some(secs) = retry_after
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

/// Logout: closes the session of this browser (its row is deleted) and clears the cookie.
async fn http_post_logout(
    data: Data,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    close_previous_session(ctx, &headers).await?;
    let mut response = redirect_with_flash(ctx, "/", "flash.logged_out");
    auth::add_cookie(&mut response, auth::clear_session_cookie(ctx));
    Ok(response)
}
