//! `GET /api/v1/admin/reports` and `GET /api/v1/admin/reports/{id}`: the moderators' queue of
//! reports and one report (the twins of `/admin/signalements`), moderators and admins only.
//!
//! The two actions on a report are documented next to their handlers: `…/resolve` with the
//! decision, `…/forward` with forwarding (the OpenAPI test checks every route is documented).

use crate::{
    db::reports::DbReport,
    error::AppResult,
    federation::Data,
    service::moderation::{
        queue::{self, QueueFilter, QueueItem, ReportView, ReporterView},
        targets::Snapshot,
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::{Path, RawQuery},
    routing::get,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_reports, http_get_report),
    components(schemas(
        ReportList,
        ReportItem,
        ReportDetail,
        ReportReporter,
        ReportTarget,
        ReportSnapshot,
        ReportNote,
        ReportAction
    ))
)]
pub struct AdminReportsApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/admin/reports", get(http_get_reports))
        .route("/api/v1/admin/reports/{id}", get(http_get_report))
}

/// The query of `GET /api/v1/admin/reports` (read by hand, so a bad value is a 422 naming it).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportsQuery {
    /// `open` (default), `resolved` or `all`.
    state: Option<String>,
    /// `spam`, `illegal`, `harassment`, `off_topic` or `other`; empty: every reason.
    reason: Option<String>,
    /// `local` (reported here), `remote` (received from any other server) or a server's name
    /// (`host[:port]`); empty: all.
    origin: Option<String>,
    /// `me` (assigned to the caller) or `none` (assigned to nobody); empty: all.
    assigned: Option<String>,
    /// From 1; 50 reports a page, newest first.
    page: Option<i64>,
}

/// A report in the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportItem {
    pub id: i64,
    /// `open` or `resolved`.
    #[schema(example = "open")]
    pub state: String,
    /// `spam`, `illegal`, `harassment`, `off_topic` or `other`.
    #[schema(example = "off_topic")]
    pub reason: String,
    pub comment: String,
    /// The ActivityPub ids of what it names.
    pub targets: Vec<String>,
    /// `local` (a member or a visitor here) or the server that sent it (`host[:port]`).
    #[schema(example = "local")]
    pub origin: String,
    /// The reporter asked to forward it to the reported content's server.
    pub forward_requested: bool,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The username of the moderator it is assigned to.
    pub assigned_to: Option<String>,
    /// The decision that closed it: `dismiss`, `hide`, `delete`, `redirect`, `warn`, `suspend`
    /// or `block`.
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl ReportItem {
    fn new(report: &DbReport, targets: Vec<String>, assigned_to: Option<String>) -> Self {
        ReportItem {
            id: report.id,
            state: report.state.clone(),
            reason: report.reason.clone(),
            comment: report.comment.clone(),
            targets,
            origin: report
                .origin_domain
                .clone()
                .unwrap_or_else(|| "local".to_string()),
            forward_requested: report.forward_requested,
            forwarded_at: report.forwarded_at,
            created_at: report.created_at,
            assigned_to,
            resolution: report.resolution.clone(),
            resolved_at: report.resolved_at,
        }
    }
}

impl From<QueueItem> for ReportItem {
    fn from(item: QueueItem) -> Self {
        let targets = item.targets.into_iter().map(|t| t.ap_id).collect();
        ReportItem::new(&item.report, targets, item.assignee)
    }
}

/// One page of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportItem>,
    /// Reports matching the filters, all pages together.
    pub total: i64,
    /// The next page's number, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page: Option<i64>,
}

/// Who reported (moderators only).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportReporter {
    /// `member`, `visitor`, `remote` or `unknown` (deleted since).
    #[schema(example = "member")]
    pub kind: String,
    /// A member's username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A visitor's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The remote actor that sent the `Flag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The server that sent the `Flag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl From<&ReporterView> for ReportReporter {
    fn from(r: &ReporterView) -> Self {
        let mut out = ReportReporter {
            kind: String::new(),
            username: None,
            email: None,
            actor: None,
            domain: None,
        };
        match r {
            ReporterView::Member { username } => {
                out.kind = "member".into();
                out.username = Some(username.clone());
            }
            ReporterView::Visitor { email } => {
                out.kind = "visitor".into();
                out.email = Some(email.clone());
            }
            ReporterView::Remote { ap_id, domain, .. } => {
                out.kind = "remote".into();
                out.actor = Some(ap_id.clone());
                out.domain = Some(domain.clone());
            }
            ReporterView::Unknown => out.kind = "unknown".into(),
        }
        out
    }
}

/// The content as it was when reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportSnapshot {
    /// A post's title or an account's name; empty for a comment.
    pub title: String,
    /// Sanitised HTML.
    pub html: String,
    pub author_name: String,
    pub author_ap_id: String,
    pub url: String,
    pub published_at: Option<DateTime<Utc>>,
    pub captured_at: Option<DateTime<Utc>>,
}

impl From<&Snapshot> for ReportSnapshot {
    fn from(s: &Snapshot) -> Self {
        ReportSnapshot {
            title: s.title.clone(),
            html: s.html.clone(),
            author_name: s.author_name.clone(),
            author_ap_id: s.author_ap_id.clone(),
            url: s.url.clone(),
            published_at: s.published_at,
            captured_at: s.captured_at,
        }
    }
}

/// What a report names, with its snapshot and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportTarget {
    /// `actor`, `post` or `comment`.
    #[schema(example = "post")]
    pub kind: String,
    pub ap_id: String,
    /// Where to see it now.
    pub url: String,
    /// Another server's content or account.
    pub remote: bool,
    /// `unchanged`, `edited`, `hidden`, `deleted`, `blocked` or `suspended`.
    #[schema(example = "unchanged")]
    pub now: String,
    pub snapshot: ReportSnapshot,
}

/// An internal note.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportNote {
    pub id: i64,
    pub author: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// An entry of the moderators' log.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportAction {
    pub id: i64,
    /// `dismiss`, `hide`, `delete`, `redirect`, `warn`, `suspend`, `block`, `forward`,
    /// `assign`, …
    #[schema(example = "assign")]
    pub action: String,
    /// The moderator's username; none for the system or the command line.
    pub moderator: Option<String>,
    /// What it was done to (a URL, a domain, a username).
    pub target: String,
    /// Told to the author.
    pub statement: String,
    /// Moderators only.
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub reverted_at: Option<DateTime<Utc>>,
}

impl From<&queue::ActionView> for ReportAction {
    fn from(a: &queue::ActionView) -> Self {
        ReportAction {
            id: a.action.id,
            action: a.action.action.clone(),
            moderator: a.moderator.clone(),
            target: a.action.target.clone(),
            statement: a.action.statement.clone(),
            note: a.action.note.clone(),
            created_at: a.action.created_at,
            reverted_at: a.action.reverted_at,
        }
    }
}

/// One report with its targets' snapshots, the reporter, notes and actions, and the reported
/// account's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDetail {
    #[serde(flatten)]
    pub report: ReportItem,
    /// The instance rules the reporter cited.
    pub rule_ids: Vec<i64>,
    pub reporter: ReportReporter,
    /// The ActivityPub id of the account the report is about.
    pub account: Option<String>,
    pub snapshots: Vec<ReportTarget>,
    /// Internal notes, oldest first.
    pub notes: Vec<ReportNote>,
    /// The log entries of this report, oldest first.
    pub actions: Vec<ReportAction>,
    /// Other reports about the same account, newest first (ids).
    pub previous_reports: Vec<i64>,
    /// Actions taken about the same account, newest first.
    pub previous_actions: Vec<ReportAction>,
}

impl From<ReportView> for ReportDetail {
    fn from(v: ReportView) -> Self {
        let targets = v.targets.iter().map(|t| t.target.ap_id.clone()).collect();
        ReportDetail {
            report: ReportItem::new(&v.report, targets, v.assignee.clone()),
            rule_ids: v.report.rule_ids.clone(),
            reporter: ReportReporter::from(&v.reporter),
            account: v.target_actor.as_ref().map(|a| a.ap_id.clone()),
            snapshots: v
                .targets
                .iter()
                .map(|t| ReportTarget {
                    kind: t.target.kind.clone(),
                    ap_id: t.target.ap_id.clone(),
                    url: t.live_url.clone(),
                    remote: t.remote,
                    now: t.live.as_str().to_string(),
                    snapshot: ReportSnapshot::from(&t.snapshot),
                })
                .collect(),
            notes: v
                .notes
                .iter()
                .map(|n| ReportNote {
                    id: n.note.id,
                    author: n.author.clone(),
                    body: n.note.body.clone(),
                    created_at: n.note.created_at,
                })
                .collect(),
            actions: v.actions.iter().map(ReportAction::from).collect(),
            previous_reports: v.previous_reports.iter().map(|r| r.id).collect(),
            previous_actions: v.previous_actions.iter().map(ReportAction::from).collect(),
        }
    }
}

/// The queue of reports, newest first, 50 a page, with filters.
#[utoipa::path(
    get,
    path = "/api/v1/admin/reports",
    tag = "moderation",
    security(("bearer" = [])),
    params(ReportsQuery),
    responses(
        (status = 200, description = "One page of reports", body = ReportList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter has an unknown value (the field names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_reports(
    data: Data,
    user: ApiUser,
    RawQuery(raw): RawQuery,
) -> AppResult<ApiJson<ReportList>> {
    crate::service::moderation::ensure_moderator(&user.account)?;
    let filter = QueueFilter::parse(raw.as_deref())?;
    let found = queue::list(data.app_data(), &user.account, &filter).await?;
    let next_page = found.next_page();
    Ok(ApiJson(ReportList {
        total: found.total,
        next_page,
        items: found.items.into_iter().map(ReportItem::from).collect(),
    }))
}

/// One report: what it names with the snapshots, who reported, the notes, the actions taken,
/// and the reported account's history.
#[utoipa::path(
    get,
    path = "/api/v1/admin/reports/{id}",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report", body = ReportDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_report(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<ReportDetail>> {
    crate::service::moderation::ensure_moderator(&user.account)?;
    let id = queue::parse_report_id(&id)?;
    let view = queue::detail(data.app_data(), &user.account, id).await?;
    Ok(ApiJson(ReportDetail::from(view)))
}
