//! `GET /api/v1/admin/mails`: the mail queue for administrators' tools (the twin of the page
//! `/admin/courriels`).

use crate::{
    db::mails::{DbMail, FAILED},
    error::{AppError, AppResult},
    federation::Data,
    service::mail::admin::queue_report,
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, extract::Query, routing::get};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_admin_mails),
    components(schemas(MailQueue, MailCounts, MailItem)),
    tags((name = "admin", description = "Administration (admins only)")),
)]
pub struct AdminMailsApi;

pub fn routes() -> Router {
    Router::new().route("/api/v1/admin/mails", get(http_get_admin_mails))
}

/// Default of `limit`.
const DEFAULT_LIMIT: i64 = 50;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailsQuery {
    /// `failed` (default), `queued` or `sent`.
    pub state: Option<String>,
    /// How many mails to list, 1 to 200 (default 50), most recent first.
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailQueue {
    pub counts: MailCounts,
    /// The state listed.
    #[schema(example = "failed")]
    pub state: String,
    pub items: Vec<MailItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailCounts {
    /// Waiting to be sent.
    pub queued: i64,
    /// Among the queued, those waiting for another try after a failure.
    pub retrying: i64,
    /// Sent (kept 30 days).
    pub sent: i64,
    /// Refused by the server or given up after 3 days of failures (kept 90 days).
    pub failed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailItem {
    pub id: i64,
    #[schema(example = "lea@example.org")]
    pub to: String,
    /// `confirm_email`, `reset_password`, `change_email`, `email_changed`, `notification` or
    /// `digest`.
    #[schema(example = "notification")]
    pub category: String,
    pub subject: String,
    /// `fr` or `en`.
    pub lang: String,
    #[schema(example = "failed")]
    pub state: String,
    pub attempts: i32,
    /// The server's answer or the reason of the last failure.
    #[schema(
        example = "permanent error (550): 5.1.1 <lea@example.org>: Recipient address rejected"
    )]
    pub last_error: Option<String>,
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    /// Queued mails: when the next try is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

impl From<DbMail> for MailItem {
    fn from(m: DbMail) -> Self {
        let queued = m.state == crate::db::mails::QUEUED;
        MailItem {
            id: m.id,
            to: m.to_address,
            category: m.category,
            subject: m.subject,
            lang: m.lang,
            state: m.state,
            attempts: m.attempts,
            last_error: m.last_error,
            message_id: m.message_id,
            created_at: m.created_at,
            next_attempt_at: queued.then_some(m.next_attempt_at),
            sent_at: m.sent_at,
            failed_at: m.failed_at,
        }
    }
}

/// Counts of the mail queue, and the mails in one state, most recent first: by default the
/// failed ones, with the recipient and the server's reason.
#[utoipa::path(
    get,
    path = "/api/v1/admin/mails",
    tag = "admin",
    security(("bearer" = [])),
    params(MailsQuery),
    responses(
        (status = 200, description = "The queue's counts and the listed mails", body = MailQueue),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown `state`, or `limit` out of range", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_admin_mails(
    data: Data,
    user: ApiUser,
    Query(query): Query<MailsQuery>,
) -> AppResult<ApiJson<MailQueue>> {
    if !crate::service::accounts::is_admin(&user.account) {
        return Err(AppError::forbidden("admins only").with_message("error.role_required"));
    }
    let limit = match query.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse()
            .map_err(|_| AppError::field("limit", "field.mail_limit.range"))?,
    };
    let state = query.state.as_deref().unwrap_or(FAILED);
    let report = queue_report(data.app_data(), state, limit).await?;
    let c = report.counts;
    Ok(ApiJson(MailQueue {
        counts: MailCounts {
            queued: c.queued,
            retrying: c.retrying,
            sent: c.sent,
            failed: c.failed,
        },
        state: report.state,
        items: report.mails.into_iter().map(MailItem::from).collect(),
    }))
}
