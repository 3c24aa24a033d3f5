//! Announcement alerts: a member's saved filters (`service::alerts`).

use super::{
    notifications::DbNotification,
    schema::{accounts, alerts},
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = alerts)]
pub struct DbAlert {
    pub id: i64,
    pub account_id: i64,
    pub kind: Option<String>,
    /// Lower case, compared with the announcement's disciplines in lower case.
    pub disciplines: Vec<String>,
    /// INSEE code of the commune.
    pub commune: Option<String>,
    /// `instant`, `daily`, `weekly` or `none`.
    pub mail: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = alerts)]
pub struct NewAlert {
    pub account_id: i64,
    pub kind: Option<String>,
    pub disciplines: Vec<String>,
    pub commune: Option<String>,
    pub mail: String,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewAlert) -> QueryResult<DbAlert> {
    diesel::insert_into(alerts::table)
        .values(new)
        .returning(DbAlert::as_returning())
        .get_result(conn)
        .await
}

/// A member's alerts, oldest first.
pub async fn by_account(
    conn: &mut AsyncPgConnection,
    account_id: i64,
) -> QueryResult<Vec<DbAlert>> {
    alerts::table
        .filter(alerts::account_id.eq(account_id))
        .order(alerts::id.asc())
        .select(DbAlert::as_select())
        .load(conn)
        .await
}

/// Locks the member's account row, so that two concurrent creations cannot both pass the
/// per-member cap.
pub async fn lock_account(conn: &mut AsyncPgConnection, account_id: i64) -> QueryResult<()> {
    accounts::table
        .find(account_id)
        .select(accounts::id)
        .for_update()
        .first::<i64>(conn)
        .await
        .map(|_| ())
}

/// Deletes one of the member's alerts; `false` when the member has no such alert.
pub async fn delete_own(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    id: i64,
) -> QueryResult<bool> {
    let n = diesel::delete(
        alerts::table
            .filter(alerts::id.eq(id))
            .filter(alerts::account_id.eq(account_id)),
    )
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// What matching needs to know of a newly published announcement.
#[derive(Debug, Clone)]
pub struct Announcement<'a> {
    /// The notification type written (`announcement`).
    pub notification_kind: &'a str,
    pub post_id: i64,
    /// The member who published it (never notified), and the actor it went out as (the
    /// member's own, or the page).
    pub author_account_id: Option<i64>,
    pub author_actor_id: i64,
    pub kind: Option<&'a str>,
    /// Lower case.
    pub disciplines: &'a [String],
    /// The INSEE code of its commune (`posts.commune_code`), when it has one.
    pub communes: &'a [String],
}

/// One statement: every member with at least one alert matching the announcement gets one
/// notification. When several of a member's alerts match, the one that mails soonest wins
/// (instant, then daily, weekly, none), so the member is told the way they asked for most.
/// `dedupe_key` keeps it to one row even if this ran twice for the same announcement.
const MATCH_SQL: &str = "\
INSERT INTO notifications (account_id, kind, post_id, alert_id, dedupe_key, delivery)
SELECT DISTINCT ON (a.account_id)
       a.account_id, $1, $2, a.id, $3,
       CASE a.mail WHEN 'none' THEN 'centre' ELSE a.mail END
FROM alerts a
JOIN accounts acc ON acc.id = a.account_id
WHERE acc.suspended_at IS NULL
  AND a.account_id IS DISTINCT FROM $4
  AND acc.actor_id <> $5
  AND (a.kind IS NULL OR a.kind = $6)
  AND (cardinality(a.disciplines) = 0 OR a.disciplines && $7)
  AND (a.commune IS NULL OR a.commune = ANY($8))
  AND NOT EXISTS (
      SELECT 1 FROM notification_preferences p
      WHERE p.account_id = a.account_id AND p.kind = $1 AND p.delivery = 'off')
ORDER BY a.account_id,
         CASE a.mail WHEN 'instant' THEN 0 WHEN 'daily' THEN 1 WHEN 'weekly' THEN 2 ELSE 3 END,
         a.id
ON CONFLICT DO NOTHING
RETURNING id, account_id, kind, actor_id, post_id, comment_id, object_ap_id, alert_id,
          dedupe_key, delivery, created_at, read_at, digested_at, report_id,
          moderation_action_id, loan_request_id, venue_id, workspace_id,
          workspace_message_id, workspace_document_id, workspace_meeting_id,
          workspace_invitation_id";

/// Records the notifications of a new announcement for every member whose alerts match it,
/// in one statement; returns the rows written.
pub async fn record_matches(
    conn: &mut AsyncPgConnection,
    announcement: &Announcement<'_>,
) -> QueryResult<Vec<DbNotification>> {
    diesel::sql_query(MATCH_SQL)
        .bind::<Text, _>(announcement.notification_kind)
        .bind::<BigInt, _>(announcement.post_id)
        .bind::<Text, _>(format!("announcement:{}", announcement.post_id))
        .bind::<Nullable<BigInt>, _>(announcement.author_account_id)
        .bind::<BigInt, _>(announcement.author_actor_id)
        .bind::<Nullable<Text>, _>(announcement.kind)
        .bind::<Array<Text>, _>(announcement.disciplines)
        .bind::<Array<Text>, _>(announcement.communes)
        .load::<DbNotification>(conn)
        .await
}

/// The alert pseudo-kind of new projects: an alert with this kind (or with no kind) hears
/// of newly listed workspaces; announcements never match it.
pub const PROJECT_KIND: &str = "projet";

/// What matching needs to know of a workspace newly listed (a "new project").
#[derive(Debug, Clone)]
pub struct Project<'a> {
    /// The notification type written (`project`).
    pub notification_kind: &'a str,
    pub workspace_id: uuid::Uuid,
    /// Who listed it (never notified) and their actor (named in the notification).
    pub account_id: i64,
    pub actor_id: i64,
    /// Lower case.
    pub disciplines: &'a [String],
    /// The INSEE code of its commune, when it has one.
    pub communes: &'a [String],
}

/// The sibling of [`MATCH_SQL`] for projects: alerts with no kind or the `projet` kind,
/// matched on disciplines and commune as announcements are; one notification per member,
/// never for the member who listed it nor for its current members (they know it).
const PROJECT_MATCH_SQL: &str = "\
INSERT INTO notifications (account_id, kind, actor_id, workspace_id, alert_id, dedupe_key, delivery)
SELECT DISTINCT ON (a.account_id)
       a.account_id, $1, $5, $2, a.id, $3,
       CASE a.mail WHEN 'none' THEN 'centre' ELSE a.mail END
FROM alerts a
JOIN accounts acc ON acc.id = a.account_id
WHERE acc.suspended_at IS NULL
  AND a.account_id <> $4
  AND acc.actor_id <> $5
  AND (a.kind IS NULL OR a.kind = $6)
  AND (cardinality(a.disciplines) = 0 OR a.disciplines && $7)
  AND (a.commune IS NULL OR a.commune = ANY($8))
  AND NOT EXISTS (
      SELECT 1 FROM workspace_members m
      WHERE m.workspace_id = $2 AND m.actor_id = acc.actor_id)
  AND NOT EXISTS (
      SELECT 1 FROM notification_preferences p
      WHERE p.account_id = a.account_id AND p.kind = $1 AND p.delivery = 'off')
ORDER BY a.account_id,
         CASE a.mail WHEN 'instant' THEN 0 WHEN 'daily' THEN 1 WHEN 'weekly' THEN 2 ELSE 3 END,
         a.id
ON CONFLICT DO NOTHING
RETURNING id, account_id, kind, actor_id, post_id, comment_id, object_ap_id, alert_id,
          dedupe_key, delivery, created_at, read_at, digested_at, report_id,
          moderation_action_id, loan_request_id, venue_id, workspace_id,
          workspace_message_id, workspace_document_id, workspace_meeting_id,
          workspace_invitation_id";

/// Records the notifications of a newly listed workspace for every member whose alerts
/// match it, in one statement; returns the rows written. `dedupe_key` keeps it to one per
/// member and workspace, however often it is listed again.
pub async fn record_project_matches(
    conn: &mut AsyncPgConnection,
    project: &Project<'_>,
) -> QueryResult<Vec<DbNotification>> {
    diesel::sql_query(PROJECT_MATCH_SQL)
        .bind::<Text, _>(project.notification_kind)
        .bind::<diesel::sql_types::Uuid, _>(project.workspace_id)
        .bind::<Text, _>(format!("project:{}", project.workspace_id))
        .bind::<BigInt, _>(project.account_id)
        .bind::<BigInt, _>(project.actor_id)
        .bind::<Text, _>(PROJECT_KIND)
        .bind::<Array<Text>, _>(project.disciplines)
        .bind::<Array<Text>, _>(project.communes)
        .load::<DbNotification>(conn)
        .await
}
