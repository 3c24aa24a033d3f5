//! The digest job's queries (`service::digest`): its lock and bookkeeping in
//! `scheduled_runs`, the members with pending items, their items, and marking them sent.

use super::{
    notifications::DbNotification,
    schema::{notifications, scheduled_runs},
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// First key of the job's advisory locks, so they cannot collide with other locks.
const LOCK_SPACE: i32 = 0x6469_6765; // "dige"

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Takes the job's session-level advisory lock without waiting: `false` when another
/// process (another `serve` node) holds it. Held until [`unlock`] or until the connection
/// closes, so a crashed node never keeps it.
pub async fn try_lock(conn: &mut AsyncPgConnection, job: &str) -> QueryResult<bool> {
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked")
        .bind::<diesel::sql_types::Integer, _>(LOCK_SPACE)
        .bind::<Text, _>(job)
        .get_result(conn)
        .await?;
    Ok(row.locked)
}

pub async fn unlock(conn: &mut AsyncPgConnection, job: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1, hashtext($2)) AS locked")
        .bind::<diesel::sql_types::Integer, _>(LOCK_SPACE)
        .bind::<Text, _>(job)
        .get_result::<Locked>(conn)
        .await
        .map(|_| ())
}

/// The last period the job completed.
pub async fn last_period(conn: &mut AsyncPgConnection, job: &str) -> QueryResult<Option<String>> {
    scheduled_runs::table
        .find(job)
        .select(scheduled_runs::last_period)
        .first(conn)
        .await
        .optional()
}

pub async fn set_last_period(
    conn: &mut AsyncPgConnection,
    job: &str,
    period: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(scheduled_runs::table)
        .values((
            scheduled_runs::job.eq(job),
            scheduled_runs::last_period.eq(period),
            scheduled_runs::ran_at.eq(now),
        ))
        .on_conflict(scheduled_runs::job)
        .do_update()
        .set((
            scheduled_runs::last_period.eq(period),
            scheduled_runs::ran_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The next members (by id) with items waiting for a digest of `delivery` recorded up to
/// `until`.
pub async fn members_with_pending(
    conn: &mut AsyncPgConnection,
    delivery: &str,
    until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    notifications::table
        .filter(notifications::delivery.eq(delivery))
        .filter(notifications::digested_at.is_null())
        .filter(notifications::created_at.le(until))
        .select(notifications::account_id)
        .distinct()
        .order(notifications::account_id)
        .limit(limit)
        .load(conn)
        .await
}

/// The pending items of these members a digest may show (what the centre shows: see
/// [`super::notifications::visible_sql`]), oldest first per member.
fn pending_visible_sql() -> String {
    format!(
        "SELECT n.* FROM notifications n \
         LEFT JOIN actors a ON a.id = n.actor_id \
         LEFT JOIN posts p ON p.id = n.post_id \
         LEFT JOIN actors pa ON pa.id = p.author_actor_id \
         LEFT JOIN comments c ON c.id = n.comment_id \
         WHERE n.account_id = ANY($1) AND n.delivery = $2 AND n.digested_at IS NULL \
           AND n.created_at <= $3 AND {} \
         ORDER BY n.account_id, n.id",
        super::notifications::visible_sql()
    )
}

pub async fn pending_visible(
    conn: &mut AsyncPgConnection,
    members: &[i64],
    delivery: &str,
    until: DateTime<Utc>,
) -> QueryResult<Vec<DbNotification>> {
    diesel::sql_query(pending_visible_sql())
        .bind::<Array<BigInt>, _>(members)
        .bind::<Text, _>(delivery)
        .bind::<Timestamptz, _>(until)
        .load::<DbNotification>(conn)
        .await
}

/// Marks every pending item of these members (shown or no longer visible) as carried by a
/// digest.
pub async fn mark_digested(
    conn: &mut AsyncPgConnection,
    members: &[i64],
    delivery: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::account_id.eq_any(members))
            .filter(notifications::delivery.eq(delivery))
            .filter(notifications::digested_at.is_null())
            .filter(notifications::created_at.le(until)),
    )
    .set(notifications::digested_at.eq(now))
    .execute(conn)
    .await
}
