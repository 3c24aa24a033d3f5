//! `/admin/federation`: the delivery queue as admins need to see it: how much is waiting,
//! which hosts fail (unreachable, paused by a 429, failing), and the latest errors.

use crate::{
    error::AppResult,
    federation::{
        Data,
        delivery::{QueueReport, queue_report},
    },
    i18n::Lang,
    web::{
        auth::Admin,
        pages::{PageLang, render},
    },
};
use askama::Template;
use axum::{Router, response::Response, routing::get};
use chrono::{DateTime, Utc};

/// Rows shown in each table.
pub const ROWS_SHOWN: i64 = 50;

pub fn routes() -> Router {
    Router::new().route("/admin/federation", get(http_get_admin_federation))
}

#[derive(Template)]
#[template(path = "admin/federation.html")]
struct FederationPage<'a> {
    lang: Lang,
    report: &'a QueueReport,
}

/// `2026-11-28 14:05 UTC`: the admin reads times, the `datetime` attribute keeps the precise
/// value for tools.
pub fn short_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn http_get_admin_federation(
    data: Data,
    PageLang(lang): PageLang,
    Admin(_user): Admin,
) -> AppResult<Response> {
    let report = queue_report(data.app_data(), ROWS_SHOWN).await?;
    render(&FederationPage {
        lang,
        report: &report,
    })
}
