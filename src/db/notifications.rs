//! Notifications: one row per event for one member (see `service::notifications`).

use super::schema::notifications;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = notifications)]
pub struct DbNotification {
    pub id: i64,
    pub account_id: i64,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub object_ap_id: Option<String>,
    pub alert_id: Option<i64>,
    pub dedupe_key: Option<String>,
    pub delivery: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub digested_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification {
    pub account_id: i64,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub object_ap_id: Option<String>,
    pub alert_id: Option<i64>,
    pub dedupe_key: Option<String>,
    pub delivery: String,
}

/// Records notifications; a row whose `(account_id, dedupe_key)` exists already is skipped.
/// Returns the rows written.
pub async fn insert_many(
    conn: &mut AsyncPgConnection,
    new: &[NewNotification],
) -> QueryResult<Vec<DbNotification>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    diesel::insert_into(notifications::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(DbNotification::as_returning())
        .get_results(conn)
        .await
}
