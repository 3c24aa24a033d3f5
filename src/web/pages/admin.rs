//! Administration: the overview (moderators and admins) and the account list where admins
//! change roles.

use crate::{
    db::accounts::DbAccount,
    error::AppResult,
    federation::Data,
    i18n::Lang,
    service::{
        accounts::ROLES,
        admin::{self, Overview},
    },
    web::{
        auth::{Admin, Moderator},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, layout::redirect_with_flash, render},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{Path, Query},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub const ACCOUNTS_PER_PAGE: i64 = 50;

pub fn routes() -> Router {
    Router::new()
        .route("/admin", get(http_get_admin))
        .route("/admin/comptes", get(http_get_accounts))
        .route("/admin/comptes/{username}/role", post(http_post_role))
}

/// The i18n key naming a role.
pub fn role_key(role: &str) -> &'static str {
    match role {
        "staff" => "role.staff",
        "moderator" => "role.moderator",
        "admin" => "role.admin",
        _ => "role.member",
    }
}

/// The i18n key naming an account kind.
pub fn kind_key(kind: &str) -> &'static str {
    match kind {
        "structure" => "kind.structure",
        _ => "kind.individual",
    }
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage<'a> {
    lang: Lang,
    overview: &'a Overview,
    is_admin: bool,
}

async fn http_get_admin(
    data: Data,
    PageLang(lang): PageLang,
    Moderator(user): Moderator,
) -> AppResult<Response> {
    let overview = admin::overview(data.app_data()).await?;
    render(&OverviewPage {
        lang,
        overview: &overview,
        is_admin: user.is_admin(),
    })
}

#[derive(Template)]
#[template(path = "admin/accounts.html")]
struct AccountsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    accounts: &'a [DbAccount],
    roles: &'static [&'static str],
    me: &'a str,
    page: i64,
    more: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    page: Option<i64>,
}

async fn http_get_accounts(
    data: Data,
    PageLang(lang): PageLang,
    Admin(user): Admin,
    csrf: CsrfToken,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let (accounts, more) = admin::accounts_page(data.app_data(), page, ACCOUNTS_PER_PAGE).await?;
    render(&AccountsPage {
        lang,
        csrf: csrf.value(),
        accounts: &accounts,
        roles: ROLES,
        me: &user.username,
        page,
        more,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RoleForm {
    role: String,
}

async fn http_post_role(
    data: Data,
    Admin(user): Admin,
    Path(username): Path<String>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let changed = admin::change_role(ctx, &user, &username, &form.role).await?;
    let to = format!("/admin/comptes#compte-{}", changed.username);
    Ok(redirect_with_flash(ctx, &to, "flash.role_changed"))
}
