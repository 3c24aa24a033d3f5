//! Likes and boosts (`Announce`), local and remote, one row per (kind, object, actor).

use super::schema::reactions;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const LIKE: &str = "like";
pub const ANNOUNCE: &str = "announce";

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = reactions)]
pub struct DbReaction {
    pub id: i64,
    pub kind: String,
    pub object_ap_id: String,
    pub actor_id: i64,
    pub activity_ap_id: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = reactions)]
pub struct NewReaction<'a> {
    pub kind: &'a str,
    pub object_ap_id: &'a str,
    pub actor_id: i64,
    pub activity_ap_id: &'a str,
}

/// Inserts the reaction; `None` when the actor already reacted so to this object (or the
/// activity id is already known): liking twice keeps one row.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewReaction<'_>,
) -> QueryResult<Option<DbReaction>> {
    diesel::insert_into(reactions::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(DbReaction::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The reaction of `kind` by `actor_id` to `object_ap_id`, if any.
pub async fn find(
    conn: &mut AsyncPgConnection,
    kind: &str,
    object_ap_id: &str,
    actor_id: i64,
) -> QueryResult<Option<DbReaction>> {
    reactions::table
        .filter(reactions::kind.eq(kind))
        .filter(reactions::object_ap_id.eq(object_ap_id))
        .filter(reactions::actor_id.eq(actor_id))
        .select(DbReaction::as_select())
        .first(conn)
        .await
        .optional()
}

/// The reaction made by the activity `activity_ap_id` (what an `Undo` names by id).
pub async fn by_activity(
    conn: &mut AsyncPgConnection,
    activity_ap_id: &str,
) -> QueryResult<Option<DbReaction>> {
    reactions::table
        .filter(reactions::activity_ap_id.eq(activity_ap_id))
        .select(DbReaction::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::delete(reactions::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

/// `(object_ap_id, kind, count)` for each of `objects` that has reactions, in one query.
pub async fn counts(
    conn: &mut AsyncPgConnection,
    objects: &[String],
) -> QueryResult<Vec<(String, String, i64)>> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    // Reactions of a blocked actor or a suspended account do not count.
    let not_sanctioned = diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "NOT {}",
        super::actors::sanctioned_sql("reactions.actor_id")
    ));
    reactions::table
        .filter(reactions::object_ap_id.eq_any(objects))
        .filter(not_sanctioned)
        .group_by((reactions::object_ap_id, reactions::kind))
        .select((
            reactions::object_ap_id,
            reactions::kind,
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .await
}

/// Which of `objects` `actor_id` reacted to with `kind`, in one query.
pub async fn reacted_among(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    kind: &str,
    objects: &[String],
) -> QueryResult<Vec<String>> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    reactions::table
        .filter(reactions::actor_id.eq(actor_id))
        .filter(reactions::kind.eq(kind))
        .filter(reactions::object_ap_id.eq_any(objects))
        .select(reactions::object_ap_id)
        .load(conn)
        .await
}

/// The kinds of reaction `actor_id` made to `object_ap_id`.
pub async fn kinds_by(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    object_ap_id: &str,
) -> QueryResult<Vec<String>> {
    reactions::table
        .filter(reactions::object_ap_id.eq(object_ap_id))
        .filter(reactions::actor_id.eq(actor_id))
        .select(reactions::kind)
        .load(conn)
        .await
}
