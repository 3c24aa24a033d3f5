//! The pages behind the links mailed to members: password reset (`/mot-de-passe-oublie`, then
//! `/mot-de-passe/{token}`), address confirmation (`/confirmer-adresse/{token}`, and
//! `/renvoyer-confirmation` for a new link) and change of address (`/changer-adresse/{token}`).
//!
//! A GET on a link only shows a page (mail scanners open links before people do); the form on
//! that page, a POST, is what uses it.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::account_links::{self, LinkProblem, LinkPurpose},
    web::{
        auth::{self, ClientIp, CurrentUser},
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
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/mot-de-passe-oublie",
            get(http_get_forgot_password).post(http_post_forgot_password),
        )
        .route(
            "/mot-de-passe/{token}",
            get(http_get_reset_password).post(http_post_reset_password),
        )
        .route(
            "/confirmer-adresse/{token}",
            get(http_get_confirm_email).post(http_post_confirm_email),
        )
        .route(
            "/renvoyer-confirmation",
            post(http_post_resend_confirmation),
        )
        .route(
            "/changer-adresse/{token}",
            get(http_get_change_email).post(http_post_change_email),
        )
}

#[derive(Template)]
#[template(path = "accounts/forgot_password.html")]
struct ForgotPasswordPage<'a> {
    lang: Lang,
    csrf: &'a str,
    email: &'a str,
    errors: FormState,
    /// The request was taken: show the answer instead of the form.
    sent: bool,
}

#[derive(Template)]
#[template(path = "accounts/reset_password.html")]
struct ResetPasswordPage<'a> {
    lang: Lang,
    csrf: &'a str,
    action: &'a str,
    username: &'a str,
    errors: FormState,
}

/// A page with one button that uses a link (confirmation of an address).
#[derive(Template)]
#[template(path = "accounts/use_link.html")]
struct UseLinkPage<'a> {
    lang: Lang,
    csrf: &'a str,
    title: &'static str,
    text: &'static str,
    email: &'a str,
    action: &'a str,
    submit: &'static str,
}

#[derive(Template)]
#[template(path = "accounts/link_problem.html")]
struct LinkProblemPage {
    lang: Lang,
    title: &'static str,
    message: &'static str,
    again_href: &'static str,
    again_label: &'static str,
}

/// The page that explains why a link cannot be used, with the way to get a new one.
fn link_problem_page(
    lang: Lang,
    purpose: LinkPurpose,
    problem: LinkProblem,
    error: &AppError,
) -> AppResult<Response> {
    let (again_href, again_label) = match purpose {
        LinkPurpose::ResetPassword => ("/mot-de-passe-oublie", "link.again_reset"),
        LinkPurpose::ConfirmEmail => ("/parametres/compte", "link.again_confirm"),
        LinkPurpose::ChangeEmail => ("/parametres/compte", "link.again_change"),
    };
    render_status(
        error.status(),
        &LinkProblemPage {
            lang,
            title: lang.t("link.problem_title"),
            message: lang.t(problem.message_key()),
            again_href,
            again_label: lang.t(again_label),
        },
    )
}

/// Shows a link problem as its page; other errors go on as they are.
fn or_link_problem(
    lang: Lang,
    purpose: LinkPurpose,
    result: AppResult<Response>,
) -> AppResult<Response> {
    match result {
        Err(e) => match LinkProblem::of(&e) {
            Some(problem) => link_problem_page(lang, purpose, problem, &e),
            None => Err(e),
        },
        ok => ok,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForgotPasswordForm {
    pub email: String,
}

async fn http_get_forgot_password(
    PageLang(lang): PageLang,
    csrf: CsrfToken,
) -> AppResult<Response> {
    render(&ForgotPasswordPage {
        lang,
        csrf: csrf.value(),
        email: "",
        errors: FormState::new(lang),
        sent: false,
    })
}

/// The same page whether or not an account has this address.
async fn http_post_forgot_password(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ForgotPasswordForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match account_links::request_password_reset(ctx, &form.email, &ip).await {
        Ok(()) => render(&ForgotPasswordPage {
            lang,
            csrf: csrf.value(),
            email: form.email.trim(),
            errors: FormState::new(lang),
            sent: true,
        }),
        Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::TooManyRequests) => {
            let mut response = render_status(
                e.status(),
                &ForgotPasswordPage {
                    lang,
                    csrf: csrf.value(),
                    email: form.email.trim(),
                    errors: FormState::from_error(lang, &e),
                    sent: false,
                },
            )?;
            if e.kind == ErrorKind::TooManyRequests {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
            }
            Ok(response)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewPasswordForm {
    pub password: String,
}

async fn http_get_reset_password(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let action = format!("/mot-de-passe/{token}");
    let result = async {
        let (_, account) =
            account_links::check_link(ctx, &token, LinkPurpose::ResetPassword).await?;
        render(&ResetPasswordPage {
            lang,
            csrf: csrf.value(),
            action: &action,
            username: &account.username,
            errors: FormState::new(lang),
        })
    }
    .await;
    or_link_problem(lang, LinkPurpose::ResetPassword, result)
}

/// Changes the password and closes every session of the account; the member then logs in.
async fn http_post_reset_password(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let action = format!("/mot-de-passe/{token}");
    let result = match account_links::reset_password(ctx, &token, &form.password).await {
        Ok(_) => {
            let mut response = redirect_with_flash(ctx, "/connexion", "flash.password_reset");
            // This browser's session, if it had one, is closed with the others.
            auth::add_cookie(&mut response, auth::clear_session_cookie(ctx));
            Ok(response)
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            let (_, account) =
                account_links::check_link(ctx, &token, LinkPurpose::ResetPassword).await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPasswordPage {
                    lang,
                    csrf: csrf.value(),
                    action: &action,
                    username: &account.username,
                    errors: FormState::from_error(lang, &e),
                },
            )
        }
        Err(e) => Err(e),
    };
    or_link_problem(lang, LinkPurpose::ResetPassword, result)
}

#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

async fn http_get_confirm_email(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let page = LinkPage {
        purpose: LinkPurpose::ConfirmEmail,
        path: "/confirmer-adresse",
        title: "confirm.title",
        text: "confirm.text",
        submit: "confirm.submit",
    };
    page.show(&data, lang, &csrf, &token).await
}

/// What the page a mailed link opens says. Opening it (GET) never uses the link: mail
/// scanners open links too; only its button does.
struct LinkPage {
    purpose: LinkPurpose,
    /// The link's path without its token.
    path: &'static str,
    title: &'static str,
    text: &'static str,
    submit: &'static str,
}

impl LinkPage {
    async fn show(
        &self,
        data: &Data,
        lang: Lang,
        csrf: &CsrfToken,
        token: &str,
    ) -> AppResult<Response> {
        let ctx = data.app_data();
        let action = format!("{}/{token}", self.path);
        let result = async {
            let (link, _) = account_links::check_link(ctx, token, self.purpose).await?;
            render(&UseLinkPage {
                lang,
                csrf: csrf.value(),
                title: lang.t(self.title),
                text: lang.t(self.text),
                email: &link.email,
                action: &action,
                submit: lang.t(self.submit),
            })
        }
        .await;
        or_link_problem(lang, self.purpose, result)
    }
}

async fn http_post_confirm_email(
    data: Data,
    PageLang(lang): PageLang,
    Path(token): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let result = account_links::confirm_email(ctx, &token)
        .await
        .map(|_| redirect_with_flash(ctx, "/", "flash.email_confirmed"));
    or_link_problem(lang, LinkPurpose::ConfirmEmail, result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResendForm {
    /// The page the banner was on, to come back to.
    pub next: String,
}

/// The banner's "Renvoyer le lien" button.
async fn http_post_resend_confirmation(
    data: Data,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<ResendForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    if let Err(e) = account_links::resend_confirmation(ctx, &user.account).await {
        return Ok(with_retry_after(e));
    }
    let back = local_path(&form.next).unwrap_or("/parametres/compte");
    Ok(redirect_with_flash(ctx, back, "flash.confirmation_sent"))
}

/// The error's response; past a limit, with `Retry-After` (the limits count over an hour).
pub fn with_retry_after(e: AppError) -> Response {
    let limited = e.kind == ErrorKind::TooManyRequests;
    let mut response = e.into_response();
    if limited {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
    }
    response
}

async fn http_get_change_email(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let page = LinkPage {
        purpose: LinkPurpose::ChangeEmail,
        path: "/changer-adresse",
        title: "email_change.confirm_title",
        text: "email_change.confirm_text",
        submit: "email_change.confirm_submit",
    };
    page.show(&data, lang, &csrf, &token).await
}

async fn http_post_change_email(
    data: Data,
    PageLang(lang): PageLang,
    Path(token): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let result = account_links::confirm_email_change(ctx, &token)
        .await
        .map(|_| redirect_with_flash(ctx, "/parametres/compte", "flash.email_changed"));
    or_link_problem(lang, LinkPurpose::ChangeEmail, result)
}
