//! Activities we published: each is stored once, served at its id, and is the body every
//! delivery of it sends.

use super::schema::{activities, actors};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = activities)]
pub struct DbActivity {
    pub id: i64,
    pub ap_id: String,
    pub kind: String,
    pub actor_id: i64,
    pub object_ap_id: Option<String>,
    pub data: serde_json::Value,
    pub public: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = activities)]
pub struct NewActivity<'a> {
    pub ap_id: &'a str,
    pub kind: &'a str,
    pub actor_id: i64,
    pub object_ap_id: Option<&'a str>,
    pub data: &'a serde_json::Value,
    pub public: bool,
}

/// Inserts the activity; returns its row id.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewActivity<'_>) -> QueryResult<i64> {
    diesel::insert_into(activities::table)
        .values(new)
        .returning(activities::id)
        .get_result(conn)
        .await
}

pub async fn by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<DbActivity>> {
    activities::table
        .filter(activities::ap_id.eq(ap_id))
        .select(DbActivity::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<DbActivity>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    activities::table
        .filter(activities::id.eq_any(ids))
        .select(DbActivity::as_select())
        .load(conn)
        .await
}

/// The latest activity of `kind` that `actor_id` published about `object_ap_id` (the boost
/// a later `Undo` withdraws).
pub async fn latest_by_actor_about(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    kind: &str,
    object_ap_id: &str,
) -> QueryResult<Option<DbActivity>> {
    activities::table
        .filter(activities::actor_id.eq(actor_id))
        .filter(activities::kind.eq(kind))
        .filter(activities::object_ap_id.eq(object_ap_id))
        .order(activities::id.desc())
        .select(DbActivity::as_select())
        .first(conn)
        .await
        .optional()
}

/// SQL condition on `activities`: nothing the moderators withhold — not about a hidden post,
/// comment or resource, nor a resource now members-only, not by a suspended or blocked actor. Outboxes and activity fetches use it.
fn not_withheld() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    use std::sync::LazyLock;
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "(NOT EXISTS (SELECT 1 FROM posts hp_ WHERE hp_.ap_id = activities.object_ap_id \
                          AND hp_.hidden_at IS NOT NULL) \
              AND NOT EXISTS (SELECT 1 FROM comments hc_ \
                              WHERE hc_.ap_id = activities.object_ap_id \
                                AND hc_.hidden_at IS NOT NULL) \
              AND NOT EXISTS (SELECT 1 FROM resources hr_ \
                              WHERE hr_.ap_id = activities.object_ap_id \
                                AND (hr_.hidden_at IS NOT NULL OR hr_.members_only)) \
              AND NOT {})",
            super::actors::sanctioned_sql("activities.actor_id")
        )
    });
    diesel::dsl::sql::<diesel::sql_types::Bool>(&SQL)
}

/// One page of an actor's public activities (their JSON), newest first: an outbox page.
pub async fn public_page_by_actor(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<serde_json::Value>> {
    activities::table
        .filter(activities::actor_id.eq(actor_id))
        .filter(activities::public.eq(true))
        .filter(not_withheld())
        .order(activities::id.desc())
        .offset(offset)
        .limit(limit)
        .select(activities::data)
        .load(conn)
        .await
}

/// A public activity's JSON and the page (`url`) of its actor; non-public ones are `None`,
/// like activities that do not exist.
pub async fn public_with_actor_url(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<(serde_json::Value, Option<String>)>> {
    activities::table
        .inner_join(actors::table.on(actors::id.eq(activities::actor_id)))
        .filter(activities::ap_id.eq(ap_id))
        .filter(activities::public.eq(true))
        .filter(not_withheld())
        .select((activities::data, actors::url))
        .first(conn)
        .await
        .optional()
}

pub async fn count_public_by_actor(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
) -> QueryResult<i64> {
    activities::table
        .filter(activities::actor_id.eq(actor_id))
        .filter(activities::public.eq(true))
        .filter(not_withheld())
        .count()
        .get_result(conn)
        .await
}
