//! `/admin/courriels`: the mail queue for administrators — how many mails wait, went out or
//! failed, and each failed mail with its recipient and the server's reason.

use crate::{
    db::mails::{FAILED, QUEUED, SENT},
    error::AppResult,
    federation::Data,
    i18n::Lang,
    service::mail::admin::{MailQueueReport, queue_report},
    web::{
        auth::Admin,
        pages::{PageLang, admin_federation::short_time, render},
    },
};
use askama::Template;
use axum::{Router, extract::Query, response::Response, routing::get};
use serde::Deserialize;

pub const PATH: &str = "/admin/courriels";
/// Mails listed on the page.
pub const ROWS_SHOWN: i64 = 100;

pub fn routes() -> Router {
    Router::new().route(PATH, get(http_get_admin_mails))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StateQuery {
    state: Option<String>,
}

/// The i18n key naming a mail's category (the `category` column).
pub fn category_key(category: &str) -> &'static str {
    match category {
        "confirm_email" => "admin.mails.category.confirm_email",
        "reset_password" => "admin.mails.category.reset_password",
        "change_email" => "admin.mails.category.change_email",
        "email_changed" => "admin.mails.category.email_changed",
        "notification" => "admin.mails.category.notification",
        "digest" => "admin.mails.category.digest",
        "claim_invitation" => "admin.mails.category.claim_invitation",
        "workspace_invitation" => "admin.mails.category.workspace_invitation",
        _ => "admin.mails.category.other",
    }
}

/// The listings offered, with the key of their link.
const TABS: [(&str, &str); 3] = [
    (FAILED, "admin.mails.tab.failed"),
    (QUEUED, "admin.mails.tab.queued"),
    (SENT, "admin.mails.tab.sent"),
];

#[derive(Template)]
#[template(path = "admin/mails.html")]
struct MailsPage<'a> {
    lang: Lang,
    report: &'a MailQueueReport,
    tabs: &'static [(&'static str, &'static str)],
    heading: &'static str,
}

async fn http_get_admin_mails(
    data: Data,
    PageLang(lang): PageLang,
    Admin(_user): Admin,
    Query(query): Query<StateQuery>,
) -> AppResult<Response> {
    let state = query.state.as_deref().unwrap_or(FAILED);
    let report = queue_report(data.app_data(), state, ROWS_SHOWN).await?;
    let heading = TABS
        .iter()
        .find(|(s, _)| *s == report.state)
        .map(|(_, key)| *key)
        .unwrap_or("admin.mails.tab.failed");
    render(&MailsPage {
        lang,
        report: &report,
        tabs: &TABS,
        heading,
    })
}

/// `2026-11-28 14:05 UTC`, as on the federation page.
pub fn when(at: &chrono::DateTime<chrono::Utc>) -> String {
    short_time(at)
}
