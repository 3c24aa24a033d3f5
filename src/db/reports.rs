//! Reports: what was reported (targets, each with a snapshot of the content as it was), by
//! whom, why, and where the moderators are with it (state, assignment, internal notes).

use super::schema::{report_notes, report_targets, reports};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const STATE_OPEN: &str = "open";
pub const STATE_RESOLVED: &str = "resolved";

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = reports)]
pub struct DbReport {
    pub id: i64,
    /// The remote Flag's id; `None` for reports made here.
    pub ap_id: Option<String>,
    /// `None` = reported here; otherwise the sending server (`host[:port]`).
    pub origin_domain: Option<String>,
    pub reporter_account_id: Option<i64>,
    /// The remote actor that sent the Flag.
    pub reporter_actor_id: Option<i64>,
    /// A visitor's address (told the outcome by mail).
    pub reporter_email: Option<String>,
    pub reason: String,
    pub rule_ids: Vec<i64>,
    pub comment: String,
    /// The account the report is about.
    pub target_actor_id: Option<i64>,
    pub forward_requested: bool,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub forwarded_by: Option<i64>,
    pub state: String,
    pub assigned_to: Option<i64>,
    /// The action that closed it.
    pub resolution: Option<String>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DbReport {
    pub fn is_open(&self) -> bool {
        self.state == STATE_OPEN
    }
}

#[derive(Debug, Clone, Default, Insertable)]
#[diesel(table_name = reports)]
pub struct NewReport {
    pub ap_id: Option<String>,
    pub origin_domain: Option<String>,
    pub reporter_account_id: Option<i64>,
    pub reporter_actor_id: Option<i64>,
    pub reporter_email: Option<String>,
    pub reason: String,
    pub rule_ids: Vec<i64>,
    pub comment: String,
    pub target_actor_id: Option<i64>,
    pub forward_requested: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = report_targets)]
pub struct DbReportTarget {
    pub id: i64,
    pub report_id: i64,
    /// `actor`, `post`, `comment` (see `service::moderation::TargetKind`).
    pub kind: String,
    pub ap_id: String,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    /// The content as it was when reported (see `service::moderation::Snapshot`).
    pub snapshot: serde_json::Value,
    pub venue_id: Option<i64>,
    pub offer_id: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = report_targets)]
pub struct NewReportTarget {
    pub report_id: i64,
    pub kind: String,
    pub ap_id: String,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub snapshot: serde_json::Value,
    pub venue_id: Option<i64>,
    pub offer_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = report_notes)]
pub struct DbReportNote {
    pub id: i64,
    pub report_id: i64,
    pub author_account_id: Option<i64>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Stores a report and its targets. A remote report whose Flag id is already stored is not
/// stored again: `None`.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewReport,
    targets: Vec<NewReportTarget>,
) -> QueryResult<Option<(DbReport, Vec<DbReportTarget>)>> {
    let report: Option<DbReport> = diesel::insert_into(reports::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(DbReport::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    let Some(report) = report else {
        return Ok(None);
    };
    let targets: Vec<NewReportTarget> = targets
        .into_iter()
        .map(|t| NewReportTarget {
            report_id: report.id,
            ..t
        })
        .collect();
    let targets = diesel::insert_into(report_targets::table)
        .values(&targets)
        .on_conflict_do_nothing()
        .returning(DbReportTarget::as_returning())
        .get_results(conn)
        .await?;
    Ok(Some((report, targets)))
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbReport>> {
    reports::table
        .find(id)
        .select(DbReport::as_select())
        .first(conn)
        .await
        .optional()
}

/// The report, locked until the end of the caller's transaction (two moderators acting at
/// once: the second one sees the first one's decision).
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbReport>> {
    reports::table
        .find(id)
        .select(DbReport::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn targets_of(
    conn: &mut AsyncPgConnection,
    report_id: i64,
) -> QueryResult<Vec<DbReportTarget>> {
    report_targets::table
        .filter(report_targets::report_id.eq(report_id))
        .order(report_targets::id)
        .select(DbReportTarget::as_select())
        .load(conn)
        .await
}

pub async fn notes_of(
    conn: &mut AsyncPgConnection,
    report_id: i64,
) -> QueryResult<Vec<DbReportNote>> {
    report_notes::table
        .filter(report_notes::report_id.eq(report_id))
        .order((report_notes::created_at, report_notes::id))
        .select(DbReportNote::as_select())
        .load(conn)
        .await
}

pub async fn add_note(
    conn: &mut AsyncPgConnection,
    report_id: i64,
    author_account_id: i64,
    body: &str,
) -> QueryResult<DbReportNote> {
    diesel::insert_into(report_notes::table)
        .values((
            report_notes::report_id.eq(report_id),
            report_notes::author_account_id.eq(author_account_id),
            report_notes::body.eq(body),
        ))
        .returning(DbReportNote::as_returning())
        .get_result(conn)
        .await
}

/// Closes an open report with `resolution`; `None` when it was not open any more.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    id: i64,
    resolution: &str,
    by: Option<i64>,
) -> QueryResult<Option<DbReport>> {
    let now = Utc::now();
    diesel::update(
        reports::table
            .find(id)
            .filter(reports::state.eq(STATE_OPEN)),
    )
    .set((
        reports::state.eq(STATE_RESOLVED),
        reports::resolution.eq(resolution),
        reports::resolved_by.eq(by),
        reports::resolved_at.eq(now),
        reports::updated_at.eq(now),
    ))
    .returning(DbReport::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Number of open reports (the moderators' badge).
pub async fn count_open(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    reports::table
        .filter(reports::state.eq(STATE_OPEN))
        .count()
        .get_result(conn)
        .await
}
