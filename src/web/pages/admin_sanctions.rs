//! Lifting sanctions: "Lever la suspension" on the admin account list (admins) and the list
//! of blocked remote actors with "Débloquer" (moderators). Each lift is written to the
//! moderators' log by `service::moderation::sanctions`.

use crate::{
    db::{self, actors::DbActor},
    error::AppResult,
    federation::Data,
    i18n::Lang,
    service::moderation::sanctions,
    web::{
        auth::{Admin, Moderator},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, layout::redirect_with_flash, render},
    },
};
use askama::Template;
use axum::{Router, extract::Path, response::Response, routing::get, routing::post};
use serde::Deserialize;

pub const BLOCKED_PATH: &str = "/admin/comptes-distants-bloques";

pub fn routes() -> Router {
    Router::new()
        .route(
            "/admin/comptes/{username}/lever-suspension",
            post(http_post_unsuspend),
        )
        .route(BLOCKED_PATH, get(http_get_blocked))
        .route(
            "/admin/comptes-distants-bloques/debloquer",
            post(http_post_unblock),
        )
}

async fn http_post_unsuspend(
    data: Data,
    Admin(user): Admin,
    Path(username): Path<String>,
    CsrfForm(_form): CsrfForm<EmptyForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let account = sanctions::lift_suspension(ctx, &user, &username).await?;
    let to = format!("/admin/comptes#compte-{}", account.username);
    Ok(redirect_with_flash(ctx, &to, "flash.account_unsuspended"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmptyForm {}

/// One blocked remote actor, as the list shows it.
struct BlockedRow {
    ap_id: String,
    handle: String,
    name: String,
    /// Its page on its server (else its id).
    url: String,
    blocked_iso: String,
    blocked: String,
}

impl From<DbActor> for BlockedRow {
    fn from(a: DbActor) -> Self {
        let at = a.blocked_at.unwrap_or(a.updated_at);
        BlockedRow {
            handle: format!("@{}@{}", a.username, a.domain),
            url: a.url.clone().unwrap_or_else(|| a.ap_id.clone()),
            name: a.name,
            ap_id: a.ap_id,
            blocked_iso: at.to_rfc3339(),
            blocked: at.format("%Y-%m-%d").to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/blocked_actors.html")]
struct BlockedPage<'a> {
    lang: Lang,
    csrf: &'a str,
    rows: Vec<BlockedRow>,
}

async fn http_get_blocked(
    data: Data,
    PageLang(lang): PageLang,
    Moderator(_user): Moderator,
    csrf: CsrfToken,
) -> AppResult<Response> {
    let rows = {
        let mut conn = data.app_data().conn().await?;
        db::actors::blocked(&mut conn).await?
    };
    render(&BlockedPage {
        lang,
        csrf: csrf.value(),
        rows: rows.into_iter().map(BlockedRow::from).collect(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UnblockForm {
    actor: String,
}

async fn http_post_unblock(
    data: Data,
    Moderator(user): Moderator,
    CsrfForm(form): CsrfForm<UnblockForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    sanctions::lift_block(ctx, &user, &form.actor).await?;
    Ok(redirect_with_flash(
        ctx,
        BLOCKED_PATH,
        "flash.actor_unblocked",
    ))
}
