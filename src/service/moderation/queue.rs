//! The moderators' view of reports: the queue (filters, paging), one report with everything a
//! decision needs (snapshots, reporter, rules, the reported account's history, notes, the
//! actions already taken), internal notes, assignment, and the audit log (admins only).
//!
//! Every function checks the caller's role first: a member gets 403 and nothing changes.

use super::{ActionKind, Reason, ensure_admin, ensure_moderator, targets::Snapshot};
use crate::{
    context::AppContext,
    db::{
        self, Conn,
        accounts::DbAccount,
        actors::DbActor,
        moderation_actions::{DbModerationAction, NewModerationAction},
        reports::{DbReport, DbReportNote, DbReportTarget, STATE_OPEN, STATE_RESOLVED},
        rules::DbRule,
        schema::{accounts, actors, comments, moderation_actions, posts, report_targets, reports},
    },
    error::{AppError, AppResult, ErrorKind},
};
use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::collections::HashMap;

/// Reports on one page of the queue.
pub const PER_PAGE: i64 = 50;
/// Entries on one page of the audit log.
pub const LOG_PER_PAGE: i64 = 50;
/// Previous reports and actions shown in an account's history.
pub const HISTORY_LIMIT: i64 = 20;
/// Longest internal note.
pub const MAX_NOTE_CHARS: usize = 5000;
/// Highest page number accepted.
const MAX_PAGE: i64 = 100_000;

/// Which reports by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    #[default]
    Open,
    Resolved,
    All,
}

impl StateFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Open => "open",
            StateFilter::Resolved => "resolved",
            StateFilter::All => "all",
        }
    }
}

/// Where reports come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OriginFilter {
    #[default]
    Any,
    /// Made here (members and visitors).
    Local,
    /// Received from any other server.
    Remote,
    /// Received from this server (`host[:port]`).
    Host(String),
}

impl OriginFilter {
    /// The value of the `origin` parameter (empty: any).
    pub fn as_param(&self) -> &str {
        match self {
            OriginFilter::Any => "",
            OriginFilter::Local => "local",
            OriginFilter::Remote => "remote",
            OriginFilter::Host(h) => h,
        }
    }
}

/// Whose reports by assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssignedFilter {
    #[default]
    Any,
    /// Assigned to the caller.
    Me,
    /// Assigned to nobody.
    Nobody,
}

impl AssignedFilter {
    pub fn as_param(self) -> &'static str {
        match self {
            AssignedFilter::Any => "",
            AssignedFilter::Me => "me",
            AssignedFilter::Nobody => "none",
        }
    }
}

/// The queue's filters and page, as read from a query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFilter {
    pub state: StateFilter,
    pub reason: Option<Reason>,
    pub origin: OriginFilter,
    pub assigned: AssignedFilter,
    /// From 1.
    pub page: i64,
}

impl Default for QueueFilter {
    fn default() -> Self {
        QueueFilter {
            state: StateFilter::Open,
            reason: None,
            origin: OriginFilter::Any,
            assigned: AssignedFilter::Any,
            page: 1,
        }
    }
}

/// A page number from 1; otherwise a 422 naming `page`.
pub fn parse_page(value: &str) -> AppResult<i64> {
    if value.is_empty() {
        return Ok(1);
    }
    value
        .parse::<i64>()
        .ok()
        .filter(|p| (1..=MAX_PAGE).contains(p))
        .ok_or_else(|| AppError::field("page", "field.page.invalid"))
}

/// Whether `host` reads as a server name with an optional port (`social.example:8443`).
fn looks_like_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !name.starts_with(['.', '-'])
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

impl QueueFilter {
    /// Reads `state`, `reason`, `origin`, `assigned` and `page`; an empty value means "any"
    /// (the state defaults to `open`). A value outside the list → 422 naming the parameter.
    /// Other parameters are ignored.
    pub fn parse(raw: Option<&str>) -> AppResult<QueueFilter> {
        let mut filter = QueueFilter::default();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                "state" => {
                    filter.state = match value {
                        "" | "open" => StateFilter::Open,
                        "resolved" => StateFilter::Resolved,
                        "all" => StateFilter::All,
                        _ => return Err(AppError::field("state", "field.report_state.unknown")),
                    }
                }
                "reason" => {
                    filter.reason = match value {
                        "" => None,
                        v => Some(Reason::parse(v).ok_or_else(|| {
                            AppError::field("reason", "field.report_reason.unknown")
                        })?),
                    }
                }
                "origin" => {
                    let v = value.to_ascii_lowercase();
                    filter.origin = match v.as_str() {
                        "" => OriginFilter::Any,
                        "local" => OriginFilter::Local,
                        "remote" => OriginFilter::Remote,
                        host if looks_like_host(host) => OriginFilter::Host(host.to_string()),
                        _ => return Err(AppError::field("origin", "field.report_origin.unknown")),
                    }
                }
                "assigned" => {
                    filter.assigned = match value {
                        "" => AssignedFilter::Any,
                        "me" => AssignedFilter::Me,
                        "none" => AssignedFilter::Nobody,
                        _ => {
                            return Err(AppError::field(
                                "assigned",
                                "field.report_assigned.unknown",
                            ));
                        }
                    }
                }
                "page" => filter.page = parse_page(value)?,
                _ => {}
            }
        }
        Ok(filter)
    }

    /// The query string of these filters at `page` (without `?`), for paging links.
    pub fn query_at(&self, page: i64) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        out.append_pair("state", self.state.as_str());
        if let Some(reason) = self.reason {
            out.append_pair("reason", reason.as_str());
        }
        if self.origin != OriginFilter::Any {
            out.append_pair("origin", self.origin.as_param());
        }
        if self.assigned != AssignedFilter::Any {
            out.append_pair("assigned", self.assigned.as_param());
        }
        if page > 1 {
            out.append_pair("page", &page.to_string());
        }
        out.finish()
    }

    /// The reports these filters select (no order, no paging).
    fn query(&self, me: i64) -> reports::BoxedQuery<'static, Pg> {
        let mut q = reports::table.into_boxed();
        match self.state {
            StateFilter::Open => q = q.filter(reports::state.eq(STATE_OPEN)),
            StateFilter::Resolved => q = q.filter(reports::state.eq(STATE_RESOLVED)),
            StateFilter::All => {}
        }
        if let Some(reason) = self.reason {
            q = q.filter(reports::reason.eq(reason.as_str()));
        }
        match &self.origin {
            OriginFilter::Any => {}
            OriginFilter::Local => q = q.filter(reports::origin_domain.is_null()),
            OriginFilter::Remote => q = q.filter(reports::origin_domain.is_not_null()),
            OriginFilter::Host(host) => q = q.filter(reports::origin_domain.eq(host.clone())),
        }
        match self.assigned {
            AssignedFilter::Any => {}
            AssignedFilter::Me => q = q.filter(reports::assigned_to.eq(me)),
            AssignedFilter::Nobody => q = q.filter(reports::assigned_to.is_null()),
        }
        q
    }
}

/// One row of the queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub report: DbReport,
    pub targets: Vec<DbReportTarget>,
    /// The username of the moderator it is assigned to.
    pub assignee: Option<String>,
}

impl QueueItem {
    /// What the row shows of the reported content: its kind, and the snapshot's title (or
    /// author) of the first target.
    pub fn first(&self) -> Option<(&str, Snapshot)> {
        <[DbReportTarget]>::first(&self.targets)
            .map(|t| (t.kind.as_str(), Snapshot::from_json(&t.snapshot)))
    }

    pub fn reason_key(&self) -> &'static str {
        reason_key(&self.report.reason)
    }
}

/// One page of the queue.
#[derive(Debug, Clone)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Reports matching the filters, all pages together.
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

impl QueuePage {
    pub fn next_page(&self) -> Option<i64> {
        (self.page < self.pages).then_some(self.page + 1)
    }
}

/// The i18n key of a stored reason.
pub fn reason_key(reason: &str) -> &'static str {
    Reason::parse(reason)
        .map(Reason::label_key)
        .unwrap_or("moderation.reason.other")
}

/// The i18n key of a stored log action.
pub fn action_key(action: &str) -> &'static str {
    ActionKind::parse(action)
        .map(ActionKind::label_key)
        .unwrap_or("moderation.action.unknown")
}

/// The i18n key of a target kind (`actor`, `post`, `comment`).
pub fn target_kind_key(kind: &str) -> &'static str {
    match kind {
        "actor" => "moderation.target.actor",
        "post" => "moderation.target.post",
        "comment" => "moderation.target.comment",
        _ => "moderation.target.other",
    }
}

/// Usernames of these accounts.
async fn usernames(conn: &mut Conn, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = accounts::table
        .filter(accounts::id.eq_any(ids))
        .select((accounts::id, accounts::username))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

async fn account_named(conn: &mut Conn, username: &str) -> AppResult<Option<DbAccount>> {
    Ok(accounts::table
        .filter(accounts::username.eq(username))
        .select(DbAccount::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// One page of reports, newest first.
pub async fn list(ctx: &AppContext, by: &DbAccount, filter: &QueueFilter) -> AppResult<QueuePage> {
    ensure_moderator(by)?;
    let mut conn = ctx.conn().await?;
    let conn = &mut *conn;
    let total: i64 = filter.query(by.id).count().get_result(conn).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = filter.page.clamp(1, MAX_PAGE);
    let rows: Vec<DbReport> = filter
        .query(by.id)
        .order((reports::created_at.desc(), reports::id.desc()))
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
        .select(DbReport::as_select())
        .load(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut targets: HashMap<i64, Vec<DbReportTarget>> = HashMap::new();
    if !ids.is_empty() {
        let all: Vec<DbReportTarget> = report_targets::table
            .filter(report_targets::report_id.eq_any(&ids))
            .order((report_targets::report_id, report_targets::id))
            .select(DbReportTarget::as_select())
            .load(conn)
            .await?;
        for t in all {
            targets.entry(t.report_id).or_default().push(t);
        }
    }
    let assignees: Vec<i64> = rows.iter().filter_map(|r| r.assigned_to).collect();
    let names = usernames(conn, &assignees).await?;
    let items = rows
        .into_iter()
        .map(|report| QueueItem {
            targets: targets.remove(&report.id).unwrap_or_default(),
            assignee: report.assigned_to.and_then(|id| names.get(&id).cloned()),
            report,
        })
        .collect();
    Ok(QueuePage {
        items,
        total,
        page,
        pages,
    })
}

/// What became of a reported object since the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// As it was.
    Unchanged,
    /// Edited after the report.
    Edited,
    /// Hidden by a moderator.
    Hidden,
    /// Deleted (or no longer stored here).
    Deleted,
    /// A remote account blocked by the moderators.
    Blocked,
    /// A local account suspended.
    Suspended,
}

impl LiveState {
    pub fn as_str(self) -> &'static str {
        match self {
            LiveState::Unchanged => "unchanged",
            LiveState::Edited => "edited",
            LiveState::Hidden => "hidden",
            LiveState::Deleted => "deleted",
            LiveState::Blocked => "blocked",
            LiveState::Suspended => "suspended",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            LiveState::Unchanged => "moderation.live.unchanged",
            LiveState::Edited => "moderation.live.edited",
            LiveState::Hidden => "moderation.live.hidden",
            LiveState::Deleted => "moderation.live.deleted",
            LiveState::Blocked => "moderation.live.blocked",
            LiveState::Suspended => "moderation.live.suspended",
        }
    }
}

/// A target of a report with its snapshot and its state now.
#[derive(Debug, Clone)]
pub struct TargetView {
    pub target: DbReportTarget,
    pub snapshot: Snapshot,
    pub live: LiveState,
    /// Where to see it now.
    pub live_url: String,
    /// Content or account of another server.
    pub remote: bool,
}

/// Who reported (moderators only ever see this).
#[derive(Debug, Clone, PartialEq)]
pub enum ReporterView {
    Member {
        username: String,
    },
    Visitor {
        email: String,
    },
    Remote {
        ap_id: String,
        name: String,
        domain: String,
    },
    /// The account or actor was deleted since.
    Unknown,
}

/// A log entry with the moderator's username.
#[derive(Debug, Clone)]
pub struct ActionView {
    pub action: DbModerationAction,
    pub moderator: Option<String>,
}

impl ActionView {
    pub fn label_key(&self) -> &'static str {
        action_key(&self.action.action)
    }
}

/// A note with its author's username.
#[derive(Debug, Clone)]
pub struct NoteView {
    pub note: DbReportNote,
    pub author: Option<String>,
}

/// Everything the report page shows.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub report: DbReport,
    pub targets: Vec<TargetView>,
    pub reporter: ReporterView,
    /// The rules the reporter cited.
    pub rules: Vec<DbRule>,
    /// The account the report is about.
    pub target_actor: Option<DbActor>,
    /// Earlier and later reports about the same account (this one excluded), newest first.
    pub previous_reports: Vec<DbReport>,
    /// Actions taken about the same account, newest first.
    pub previous_actions: Vec<ActionView>,
    pub notes: Vec<NoteView>,
    /// The log entries of this report, oldest first.
    pub actions: Vec<ActionView>,
    pub assignee: Option<String>,
    pub resolved_by: Option<String>,
    pub forwarded_by: Option<String>,
    /// Moderators and admins one can assign the report to: (id, username).
    pub moderators: Vec<(i64, String)>,
}

impl ReportView {
    /// Whether it names content or an account of another server (it can be forwarded).
    pub fn names_remote(&self) -> bool {
        self.targets.iter().any(|t| t.remote)
    }

    /// Whether the reported account is one of ours.
    pub fn about_local_account(&self) -> bool {
        self.target_actor.as_ref().is_some_and(|a| a.local)
    }

    pub fn reason_key(&self) -> &'static str {
        reason_key(&self.report.reason)
    }

    /// Whether the reporter cited `rule`.
    pub fn cited(&self, rule: &DbRule) -> bool {
        self.report.rule_ids.contains(&rule.id)
    }

    pub fn is_assigned_to(&self, account_id: &i64) -> bool {
        self.report.assigned_to == Some(*account_id)
    }
}

/// A post's or comment's `deleted_at`, `hidden_at` and `updated_at`.
type ContentMarks = (Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>);

async fn live_state(
    conn: &mut Conn,
    target: &DbReportTarget,
    snapshot: &Snapshot,
) -> AppResult<LiveState> {
    let edited_after = |updated: DateTime<Utc>| snapshot.captured_at.is_some_and(|at| updated > at);
    let of_content = |row: Option<ContentMarks>| match row {
        None | Some((Some(_), _, _)) => LiveState::Deleted,
        Some((None, Some(_), _)) => LiveState::Hidden,
        Some((None, None, updated)) if edited_after(updated) => LiveState::Edited,
        Some(_) => LiveState::Unchanged,
    };
    match target.kind.as_str() {
        "post" => {
            let Some(id) = target.post_id else {
                return Ok(LiveState::Deleted);
            };
            let row = posts::table
                .find(id)
                .select((posts::deleted_at, posts::hidden_at, posts::updated_at))
                .first(conn)
                .await
                .optional()?;
            Ok(of_content(row))
        }
        "comment" => {
            let Some(id) = target.comment_id else {
                return Ok(LiveState::Deleted);
            };
            let row = comments::table
                .find(id)
                .select((
                    comments::deleted_at,
                    comments::hidden_at,
                    comments::updated_at,
                ))
                .first(conn)
                .await
                .optional()?;
            Ok(of_content(row))
        }
        _ => {
            let Some(id) = target.actor_id else {
                return Ok(LiveState::Deleted);
            };
            let blocked: Option<Option<DateTime<Utc>>> = actors::table
                .find(id)
                .select(actors::blocked_at)
                .first(conn)
                .await
                .optional()?;
            match blocked {
                None => return Ok(LiveState::Deleted),
                Some(Some(_)) => return Ok(LiveState::Blocked),
                Some(None) => {}
            }
            let suspended: Option<Option<DateTime<Utc>>> = accounts::table
                .filter(accounts::actor_id.eq(id))
                .select(accounts::suspended_at)
                .first(conn)
                .await
                .optional()?;
            Ok(if matches!(suspended, Some(Some(_))) {
                LiveState::Suspended
            } else {
                LiveState::Unchanged
            })
        }
    }
}

async fn action_views(
    conn: &mut Conn,
    actions: Vec<DbModerationAction>,
) -> AppResult<Vec<ActionView>> {
    let ids: Vec<i64> = actions
        .iter()
        .filter_map(|a| a.moderator_account_id)
        .collect();
    let names = usernames(conn, &ids).await?;
    Ok(actions
        .into_iter()
        .map(|action| ActionView {
            moderator: action
                .moderator_account_id
                .and_then(|id| names.get(&id).cloned()),
            action,
        })
        .collect())
}

/// One report with everything the report page shows; 404 when there is no such report.
pub async fn detail(ctx: &AppContext, by: &DbAccount, id: i64) -> AppResult<ReportView> {
    ensure_moderator(by)?;
    let mut conn = ctx.conn().await?;
    let conn = &mut *conn;
    let report = db::reports::by_id(conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut targets = Vec::new();
    for target in db::reports::targets_of(conn, id).await? {
        let snapshot = Snapshot::from_json(&target.snapshot);
        let live = live_state(conn, &target, &snapshot).await?;
        let remote = !target.ap_id.starts_with(ctx.urls.base());
        let live_url =
            if snapshot.url.starts_with("http://") || snapshot.url.starts_with("https://") {
                snapshot.url.clone()
            } else {
                target.ap_id.clone()
            };
        targets.push(TargetView {
            target,
            snapshot,
            live,
            live_url,
            remote,
        });
    }
    let reporter = if let Some(account_id) = report.reporter_account_id {
        match usernames(conn, &[account_id]).await?.remove(&account_id) {
            Some(username) => ReporterView::Member { username },
            None => ReporterView::Unknown,
        }
    } else if let Some(email) = &report.reporter_email {
        ReporterView::Visitor {
            email: email.clone(),
        }
    } else if let Some(actor_id) = report.reporter_actor_id {
        let actor = db::actors::by_id(conn, actor_id).await.optional()?;
        match actor {
            Some(a) => ReporterView::Remote {
                domain: report.origin_domain.clone().unwrap_or(a.domain.clone()),
                ap_id: a.ap_id,
                name: a.name,
            },
            None => ReporterView::Unknown,
        }
    } else {
        ReporterView::Unknown
    };
    let rules = db::rules::by_ids(conn, &report.rule_ids).await?;
    let (target_actor, previous_reports, previous_actions) = match report.target_actor_id {
        Some(actor_id) => {
            let actor = db::actors::by_id(conn, actor_id).await.optional()?;
            let previous: Vec<DbReport> = reports::table
                .filter(reports::target_actor_id.eq(actor_id))
                .filter(reports::id.ne(report.id))
                .order((reports::created_at.desc(), reports::id.desc()))
                .limit(HISTORY_LIMIT)
                .select(DbReport::as_select())
                .load(conn)
                .await?;
            let actions = db::moderation_actions::affecting(conn, actor_id, HISTORY_LIMIT).await?;
            (actor, previous, action_views(conn, actions).await?)
        }
        None => (None, Vec::new(), Vec::new()),
    };
    let notes = db::reports::notes_of(conn, id).await?;
    let note_authors: Vec<i64> = notes.iter().filter_map(|n| n.author_account_id).collect();
    let names = usernames(conn, &note_authors).await?;
    let notes = notes
        .into_iter()
        .map(|note| NoteView {
            author: note.author_account_id.and_then(|a| names.get(&a).cloned()),
            note,
        })
        .collect();
    let actions = db::moderation_actions::of_report(conn, id).await?;
    let actions = action_views(conn, actions).await?;
    let people: Vec<i64> = [report.assigned_to, report.resolved_by, report.forwarded_by]
        .into_iter()
        .flatten()
        .collect();
    let names = usernames(conn, &people).await?;
    let name_of = |id: Option<i64>| id.and_then(|id| names.get(&id).cloned());
    let moderators: Vec<(i64, String)> = accounts::table
        .filter(accounts::role.eq_any(["moderator", "admin"]))
        .filter(accounts::suspended_at.is_null())
        .order(accounts::username)
        .select((accounts::id, accounts::username))
        .load(conn)
        .await?;
    Ok(ReportView {
        assignee: name_of(report.assigned_to),
        resolved_by: name_of(report.resolved_by),
        forwarded_by: name_of(report.forwarded_by),
        report,
        targets,
        reporter,
        rules,
        target_actor,
        previous_reports,
        previous_actions,
        notes,
        actions,
        moderators,
    })
}

/// Adds an internal note (1 to 5 000 characters) to a report.
pub async fn add_note(
    ctx: &AppContext,
    by: &DbAccount,
    report_id: i64,
    body: &str,
) -> AppResult<DbReportNote> {
    ensure_moderator(by)?;
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::field("body", "field.required"));
    }
    if body.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::field("body", "field.too_long"));
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        db::reports::lock(conn, report_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        Ok(db::reports::add_note(conn, report_id, by.id, body).await?)
    })
    .await
}

/// Assigns a report to a moderator or an admin (by username), or to nobody (`None`), and logs
/// it. Unknown username, or an account that does not moderate → 422 naming `assignee`.
pub async fn assign(
    ctx: &AppContext,
    by: &DbAccount,
    report_id: i64,
    assignee: Option<&str>,
) -> AppResult<DbReport> {
    ensure_moderator(by)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let report = db::reports::lock(conn, report_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let to = match assignee.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(username) => {
                let account = account_named(conn, username)
                    .await?
                    .filter(|a| ensure_moderator(a).is_ok())
                    .ok_or_else(|| AppError::field("assignee", "field.assignee.unknown"))?;
                Some(account)
            }
        };
        let to_id = to.as_ref().map(|a| a.id);
        if report.assigned_to == to_id {
            return Ok(report);
        }
        let updated = diesel::update(reports::table.find(report_id))
            .set((
                reports::assigned_to.eq(to_id),
                reports::updated_at.eq(Utc::now()),
            ))
            .returning(DbReport::as_returning())
            .get_result(conn)
            .await?;
        super::log(
            conn,
            NewModerationAction {
                moderator_account_id: Some(by.id),
                report_id: Some(report_id),
                action: ActionKind::Assign.as_str().to_string(),
                target: to.as_ref().map(|a| a.username.clone()).unwrap_or_default(),
                details: serde_json::json!({
                    "assigned_to": to.as_ref().map(|a| a.username.clone()),
                }),
                ..NewModerationAction::default()
            },
        )
        .await?;
        Ok(updated)
    })
    .await
}

/// The audit log's filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub action: Option<ActionKind>,
    /// A moderator's username.
    pub moderator: Option<String>,
    /// From 1.
    pub page: i64,
}

impl LogFilter {
    /// Reads `action`, `moderator` and `page`; an unknown action → 422 naming `action`.
    pub fn parse(raw: Option<&str>) -> AppResult<LogFilter> {
        let mut filter = LogFilter {
            page: 1,
            ..LogFilter::default()
        };
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                "action" if value.is_empty() => filter.action = None,
                "action" => {
                    filter.action = Some(
                        ActionKind::parse(value)
                            .ok_or_else(|| AppError::field("action", "field.log_action.unknown"))?,
                    )
                }
                "moderator" => {
                    filter.moderator = (!value.is_empty()).then(|| value.to_string());
                }
                "page" => filter.page = parse_page(value)?,
                _ => {}
            }
        }
        Ok(filter)
    }

    pub fn query_at(&self, page: i64) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        if let Some(action) = self.action {
            out.append_pair("action", action.as_str());
        }
        if let Some(m) = &self.moderator {
            out.append_pair("moderator", m);
        }
        if page > 1 {
            out.append_pair("page", &page.to_string());
        }
        out.finish()
    }
}

/// One page of the audit log.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub entries: Vec<ActionView>,
    pub page: i64,
    pub more: bool,
    /// Accounts that took at least one action: the moderator filter's choices.
    pub moderators: Vec<String>,
}

/// The audit log, newest first (admins only). An unknown moderator → 422 naming `moderator`.
pub async fn audit_log(ctx: &AppContext, by: &DbAccount, filter: &LogFilter) -> AppResult<LogPage> {
    ensure_admin(by)?;
    let mut conn = ctx.conn().await?;
    let conn = &mut *conn;
    let mut q = moderation_actions::table.into_boxed();
    if let Some(action) = filter.action {
        q = q.filter(moderation_actions::action.eq(action.as_str()));
    }
    if let Some(username) = &filter.moderator {
        let account = account_named(conn, username)
            .await?
            .ok_or_else(|| AppError::field("moderator", "field.moderator.unknown"))?;
        q = q.filter(moderation_actions::moderator_account_id.eq(account.id));
    }
    let page = filter.page.clamp(1, MAX_PAGE);
    let mut rows: Vec<DbModerationAction> = q
        .order((
            moderation_actions::created_at.desc(),
            moderation_actions::id.desc(),
        ))
        .limit(LOG_PER_PAGE + 1)
        .offset((page - 1) * LOG_PER_PAGE)
        .select(DbModerationAction::as_select())
        .load(conn)
        .await?;
    let more = rows.len() as i64 > LOG_PER_PAGE;
    rows.truncate(LOG_PER_PAGE as usize);
    let entries = action_views(conn, rows).await?;
    let moderators: Vec<String> = accounts::table
        .filter(
            accounts::id.eq_any(
                moderation_actions::table
                    .filter(moderation_actions::moderator_account_id.is_not_null())
                    .select(moderation_actions::moderator_account_id.assume_not_null())
                    .distinct(),
            ),
        )
        .order(accounts::username)
        .select(accounts::username)
        .load(conn)
        .await?;
    Ok(LogPage {
        entries,
        page,
        more,
        moderators,
    })
}

/// A 404 for a report id that does not parse (the path's `{id}`).
pub fn parse_report_id(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::new(ErrorKind::NotFound, "no such report"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_name_the_bad_field() {
        let f = QueueFilter::parse(Some(
            "state=all&reason=spam&origin=Social.Example:8443&page=3",
        ))
        .expect("parse");
        assert_eq!(f.state, StateFilter::All);
        assert_eq!(f.reason, Some(Reason::Spam));
        assert_eq!(f.origin, OriginFilter::Host("social.example:8443".into()));
        assert_eq!(f.page, 3);
        assert_eq!(
            QueueFilter::parse(Some(&f.query_at(3))).expect("round trip"),
            f
        );
        assert_eq!(
            QueueFilter::parse(None).expect("empty"),
            QueueFilter::default()
        );
        for (query, field) in [
            ("state=closed", "state"),
            ("reason=rude", "reason"),
            ("origin=not%20a%20host", "origin"),
            ("origin=host:99999", "origin"),
            ("assigned=bob", "assigned"),
            ("page=0", "page"),
            ("page=x", "page"),
        ] {
            let e = QueueFilter::parse(Some(query)).expect_err(query);
            assert_eq!(e.kind, ErrorKind::Validation, "{query}");
            assert_eq!(e.fields[0].field, field, "{query}");
        }
        let e = LogFilter::parse(Some("action=explode")).expect_err("action");
        assert_eq!(e.fields[0].field, "action");
        let l = LogFilter::parse(Some("action=assign&moderator=lea&page=2")).expect("log");
        assert_eq!(l.action, Some(ActionKind::Assign));
        assert_eq!(
            LogFilter::parse(Some(&l.query_at(2))).expect("round trip"),
            l
        );
    }
}
