//! The moderators' pages: the queue of reports (`/admin/signalements`), one report with its
//! snapshots, history, notes and assignment (`/admin/signalements/{id}`), and the audit log
//! (`/admin/journal`, admins only).
//!
//! The report page also carries two forms whose handlers live elsewhere: the decision
//! (`POST /admin/signalements/{id}/decision`) and forwarding
//! (`POST /admin/signalements/{id}/transmettre`).

use crate::{
    db::{reports::DbReport, rules::DbRule},
    error::AppResult,
    federation::Data,
    i18n::Lang,
    sanitize::SafeHtml,
    service::moderation::{
        ActionKind, Reason, Resolution,
        queue::{
            self, ActionView, AssignedFilter, LogFilter, LogPage, NoteView, OriginFilter,
            QueueFilter, ReportView, ReporterView, StateFilter, TargetView,
        },
    },
    web::{
        auth::{Admin, Moderator},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, admin_federation::short_time, layout::redirect_with_flash, render},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{Path, RawQuery},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub const QUEUE_PATH: &str = "/admin/signalements";
pub const LOG_PATH: &str = "/admin/journal";

pub fn routes() -> Router {
    Router::new()
        .route(QUEUE_PATH, get(http_get_reports))
        .route("/admin/signalements/{id}", get(http_get_report))
        .route("/admin/signalements/{id}/notes", post(http_post_note))
        .route(
            "/admin/signalements/{id}/attribution",
            post(http_post_assign),
        )
        .route(LOG_PATH, get(http_get_journal))
}

/// A choice of a `<select>` or a radio group.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// One row of the queue, ready to show.
struct Row {
    id: i64,
    created_iso: String,
    created: String,
    reason: &'static str,
    kind: &'static str,
    what: String,
    more_targets: usize,
    origin: String,
    state: &'static str,
    assignee: String,
}

#[derive(Template)]
#[template(path = "admin/reports.html")]
struct QueuePage<'a> {
    lang: Lang,
    rows: Vec<Row>,
    states: Vec<Choice>,
    reasons: Vec<Choice>,
    assigned: Vec<Choice>,
    origin: &'a str,
    count: String,
    page: i64,
    pages: i64,
    prev_link: Option<String>,
    next_link: Option<String>,
}

fn state_key(state: &str) -> &'static str {
    if state == crate::db::reports::STATE_RESOLVED {
        "admin.reports.state_resolved"
    } else {
        "admin.reports.state_open"
    }
}

fn origin_text(lang: Lang, report: &DbReport) -> String {
    match &report.origin_domain {
        Some(domain) => domain.clone(),
        None => lang.t("admin.reports.origin_local").to_string(),
    }
}

async fn http_get_reports(
    data: Data,
    PageLang(lang): PageLang,
    Moderator(user): Moderator,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let filter = QueueFilter::parse(raw.as_deref())?;
    let found = queue::list(data.app_data(), &user, &filter).await?;
    let rows = found
        .items
        .iter()
        .map(|item| {
            let (kind, what) = match item.first() {
                Some((kind, snapshot)) => {
                    let what = match (snapshot.title.trim(), snapshot.author_name.trim()) {
                        ("", author) => author.to_string(),
                        (title, "") => title.to_string(),
                        (title, author) if title == author => title.to_string(),
                        (title, author) => format!("{title} ({author})"),
                    };
                    (queue::target_kind_key(kind), what)
                }
                None => ("moderation.target.other", String::new()),
            };
            Row {
                id: item.report.id,
                created_iso: item.report.created_at.to_rfc3339(),
                created: short_time(&item.report.created_at),
                reason: lang.t(item.reason_key()),
                kind: lang.t(kind),
                what,
                more_targets: item.targets.len().saturating_sub(1),
                origin: origin_text(lang, &item.report),
                state: lang.t(state_key(&item.report.state)),
                assignee: item.assignee.clone().unwrap_or_default(),
            }
        })
        .collect();
    let states = [
        (StateFilter::Open, "admin.reports.state_open"),
        (StateFilter::Resolved, "admin.reports.state_resolved"),
        (StateFilter::All, "admin.reports.state_all"),
    ]
    .into_iter()
    .map(|(s, key)| Choice {
        value: s.as_str(),
        label: lang.t(key),
        selected: filter.state == s,
    })
    .collect();
    let mut reasons = vec![Choice {
        value: "",
        label: lang.t("admin.reports.any_reason"),
        selected: filter.reason.is_none(),
    }];
    reasons.extend(Reason::ALL.iter().map(|r| Choice {
        value: r.as_str(),
        label: lang.t(r.label_key()),
        selected: filter.reason == Some(*r),
    }));
    let assigned = [
        (AssignedFilter::Any, "admin.reports.assigned_any"),
        (AssignedFilter::Me, "admin.reports.assigned_me"),
        (AssignedFilter::Nobody, "admin.reports.assigned_nobody"),
    ]
    .into_iter()
    .map(|(a, key)| Choice {
        value: a.as_param(),
        label: lang.t(key),
        selected: filter.assigned == a,
    })
    .collect();
    let count = match found.total {
        0 => lang.t("admin.reports.count_none").to_string(),
        1 => lang.t("admin.reports.count_one").to_string(),
        n => lang
            .t("admin.reports.count_many")
            .replace("{count}", &n.to_string()),
    };
    let link = |p: i64| format!("{QUEUE_PATH}?{}", filter.query_at(p));
    render(&QueuePage {
        lang,
        rows,
        states,
        reasons,
        assigned,
        origin: match &filter.origin {
            OriginFilter::Any => "",
            other => other.as_param(),
        },
        count,
        page: found.page,
        pages: found.pages,
        prev_link: (found.page > 1).then(|| link(found.page - 1)),
        next_link: found.next_page().map(link),
    })
}

/// A target as the report page shows it.
struct TargetBlock<'a> {
    view: &'a TargetView,
    kind: &'static str,
    live: &'static str,
    /// The snapshot's HTML. It was sanitised when stored (a post's, comment's or profile's
    /// stored HTML); it is cleaned again here through the shared allow-list, because the
    /// JSONB column is not written exclusively from a `SafeHtml`.
    html: SafeHtml,
    published: Option<chrono::DateTime<chrono::Utc>>,
    captured: Option<chrono::DateTime<chrono::Utc>>,
}

/// An action of the decision form.
struct ActionChoice {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "admin/report.html")]
struct ReportPage<'a> {
    lang: Lang,
    csrf: &'a str,
    view: &'a ReportView,
    id: i64,
    reason: &'static str,
    state: &'static str,
    created: String,
    created_iso: String,
    targets: Vec<TargetBlock<'a>>,
    reporter: &'a ReporterView,
    rules: &'a [DbRule],
    previous: Vec<Row>,
    history: Vec<LogRow<'a>>,
    notes: &'a [NoteView],
    log: Vec<LogRow<'a>>,
    actions: Vec<ActionChoice>,
    current_rules: Vec<DbRule>,
    resolution: &'static str,
    resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    forwarded_at: Option<chrono::DateTime<chrono::Utc>>,
    can_forward: bool,
}

/// A log entry, ready to show.
struct LogRow<'a> {
    entry: &'a ActionView,
    label: &'static str,
    when: String,
    when_iso: String,
    /// `target` when it is a web address (shown as a link).
    link: Option<&'a str>,
}

fn log_row<'a>(lang: Lang, entry: &'a ActionView) -> LogRow<'a> {
    let target = entry.action.target.as_str();
    LogRow {
        label: lang.t(entry.label_key()),
        when: short_time(&entry.action.created_at),
        when_iso: entry.action.created_at.to_rfc3339(),
        link: (target.starts_with("https://") || target.starts_with("http://")).then_some(target),
        entry,
    }
}

/// The decisions that make sense for what the report names.
fn decision_choices(lang: Lang, view: &ReportView) -> Vec<ActionChoice> {
    let content = view.targets.iter().any(|t| t.target.kind != "actor");
    let local_account = view.about_local_account();
    let remote_account = view.target_actor.as_ref().is_some_and(|a| !a.local);
    Resolution::ALL
        .iter()
        .filter(|r| match r {
            Resolution::Dismiss => true,
            Resolution::Hide | Resolution::Delete | Resolution::Redirect => content,
            Resolution::Warn | Resolution::Suspend => local_account,
            Resolution::Block => remote_account,
        })
        .map(|r| ActionChoice {
            value: r.as_str(),
            label: lang.t(r.action().label_key()),
        })
        .collect()
}

async fn http_get_report(
    data: Data,
    PageLang(lang): PageLang,
    Moderator(user): Moderator,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = queue::parse_report_id(&id)?;
    let view = queue::detail(ctx, &user, id).await?;
    let current_rules = {
        let mut conn = ctx.conn().await?;
        crate::db::rules::current(&mut conn).await?
    };
    let report = &view.report;
    let targets = view
        .targets
        .iter()
        .map(|t| TargetBlock {
            view: t,
            kind: lang.t(queue::target_kind_key(&t.target.kind)),
            live: lang.t(t.live.label_key()),
            html: SafeHtml::clean(&t.snapshot.html).nest_headings(4),
            published: t.snapshot.published_at,
            captured: t.snapshot.captured_at,
        })
        .collect();
    let previous = view
        .previous_reports
        .iter()
        .map(|r| Row {
            id: r.id,
            created_iso: r.created_at.to_rfc3339(),
            created: short_time(&r.created_at),
            reason: lang.t(queue::reason_key(&r.reason)),
            kind: "",
            what: String::new(),
            more_targets: 0,
            origin: origin_text(lang, r),
            state: lang.t(state_key(&r.state)),
            assignee: r
                .resolution
                .as_deref()
                .map(|res| lang.t(queue::action_key(res)).to_string())
                .unwrap_or_default(),
        })
        .collect();
    let resolution = report
        .resolution
        .as_deref()
        .map(|r| lang.t(queue::action_key(r)))
        .unwrap_or("");
    render(&ReportPage {
        lang,
        csrf: csrf.value(),
        id,
        reason: lang.t(view.reason_key()),
        state: lang.t(state_key(&report.state)),
        created: short_time(&report.created_at),
        created_iso: report.created_at.to_rfc3339(),
        targets,
        reporter: &view.reporter,
        rules: &view.rules,
        previous,
        history: view
            .previous_actions
            .iter()
            .map(|a| log_row(lang, a))
            .collect(),
        notes: &view.notes,
        log: view.actions.iter().map(|a| log_row(lang, a)).collect(),
        actions: decision_choices(lang, &view),
        current_rules,
        resolution,
        resolved_at: report.resolved_at,
        forwarded_at: report.forwarded_at,
        can_forward: view.names_remote() && report.forwarded_at.is_none(),
        view: &view,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NoteForm {
    body: String,
}

async fn http_post_note(
    data: Data,
    Moderator(user): Moderator,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = queue::parse_report_id(&id)?;
    queue::add_note(ctx, &user, id, &form.body).await?;
    Ok(redirect_with_flash(
        ctx,
        &format!("{QUEUE_PATH}/{id}#notes"),
        "flash.report_note_added",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AssignForm {
    assignee: String,
}

async fn http_post_assign(
    data: Data,
    Moderator(user): Moderator,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = queue::parse_report_id(&id)?;
    let assignee = match form.assignee.trim() {
        "" => None,
        name => Some(name),
    };
    queue::assign(ctx, &user, id, assignee).await?;
    Ok(redirect_with_flash(
        ctx,
        &format!("{QUEUE_PATH}/{id}#attribution"),
        "flash.report_assigned",
    ))
}

#[derive(Template)]
#[template(path = "admin/journal.html")]
struct JournalPage<'a> {
    lang: Lang,
    rows: Vec<LogRow<'a>>,
    actions: Vec<Choice>,
    moderators: &'a [String],
    moderator: &'a str,
    prev_link: Option<String>,
    next_link: Option<String>,
}

async fn http_get_journal(
    data: Data,
    PageLang(lang): PageLang,
    Admin(user): Admin,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let filter = LogFilter::parse(raw.as_deref())?;
    let LogPage {
        entries,
        page,
        more,
        moderators,
    } = queue::audit_log(data.app_data(), &user, &filter).await?;
    let mut actions = vec![Choice {
        value: "",
        label: lang.t("admin.journal.any_action"),
        selected: filter.action.is_none(),
    }];
    actions.extend(ActionKind::ALL.iter().map(|k| Choice {
        value: k.as_str(),
        label: lang.t(k.label_key()),
        selected: filter.action == Some(*k),
    }));
    let link = |p: i64| {
        let q = filter.query_at(p);
        if q.is_empty() {
            LOG_PATH.to_string()
        } else {
            format!("{LOG_PATH}?{q}")
        }
    };
    render(&JournalPage {
        lang,
        rows: entries.iter().map(|e| log_row(lang, e)).collect(),
        actions,
        moderators: &moderators,
        moderator: filter.moderator.as_deref().unwrap_or(""),
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: more.then(|| link(page + 1)),
    })
}
