//! `/annuaire/revendiquer/{token}`: the page a claim invitation links to. It shows the listed
//! entry and asks for a username (suggested from the name), a password (the sign-up rules)
//! and the acceptance of the instance's rules; then the account takes the entry over and the
//! member is logged in. A used, expired or unknown link gets a page (410/404) saying to ask
//! the département for a new invitation.

use crate::{
    error::{AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        directory::{
            DirectoryKind,
            claim::{self, ClaimTarget},
        },
        sessions,
    },
    web::{
        auth,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, StatusCode, header},
    response::Response,
    routing::get,
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new().route(
        "/annuaire/revendiquer/{token}",
        get(http_get_claim).post(http_post_claim),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ClaimForm {
    username: String,
    password: String,
    /// A checkbox: present when ticked.
    accept_rules: Option<String>,
}

#[derive(Template)]
#[template(path = "directory/claim.html")]
struct ClaimPage<'a> {
    lang: Lang,
    csrf: &'a str,
    token: &'a str,
    target: &'a ClaimTarget,
    kind: &'static str,
    username: &'a str,
    errors: FormState,
    rules: Vec<crate::db::rules::DbRule>,
}

fn kind_label(lang: Lang, code: &str) -> &'static str {
    DirectoryKind::parse(code)
        .map(|k| lang.t(k.label_key()))
        .unwrap_or("")
}

async fn http_get_claim(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let target = claim::lookup(ctx, &token).await?;
    let username = claim::suggest_username(&target.entry.name);
    render(&ClaimPage {
        lang,
        csrf: csrf.value(),
        token: &token,
        kind: kind_label(lang, &target.entry.kind),
        target: &target,
        username: &username,
        errors: FormState::new(lang),
        rules: crate::service::moderation::rules::current(ctx).await?,
    })
}

async fn http_post_claim(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<ClaimForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let target = claim::lookup(ctx, &token).await?;
    let outcome = if form.accept_rules.is_none() {
        Err(crate::error::AppError::field(
            "accept_rules",
            "field.rules.must_accept",
        ))
    } else {
        claim::claim(ctx, &token, &form.username, &form.password).await
    };
    match outcome {
        Ok(account) => {
            if let Some(old) =
                auth::cookie(&headers, auth::SESSION_COOKIE).filter(|t| !t.is_empty())
            {
                sessions::close(ctx, old).await?;
            }
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let session = sessions::open(ctx, &account, agent).await?;
            let mut response = redirect_with_flash(
                ctx,
                &format!("/users/{}", account.username),
                "flash.claimed",
            );
            auth::add_cookie(
                &mut response,
                auth::session_cookie(ctx, &session.token, session.expires_at),
            );
            Ok(response)
        }
        Err(e) if e.kind == ErrorKind::Validation => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ClaimPage {
                lang,
                csrf: csrf.value(),
                token: &token,
                kind: kind_label(lang, &target.entry.kind),
                target: &target,
                username: &form.username,
                errors: FormState::from_error(lang, &e),
                rules: crate::service::moderation::rules::current(ctx).await?,
            },
        ),
        Err(e) => Err(e),
    }
}
