//! Ids of the inbound activities we processed, so a replayed or re-delivered activity is
//! processed once.

use super::schema::received_activities;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// How long ids are kept. Senders retry for about two days; a week leaves a wide margin.
pub const KEEP_DAYS: i64 = 7;

/// Records `ap_id`; `true` the first time, `false` when it was already there. Call it inside
/// the transaction that applies the activity, so a failure leaves the id unrecorded and the
/// sender's retry is processed. Concurrent copies wait on the primary key, then see `false`.
pub async fn mark_received(conn: &mut AsyncPgConnection, ap_id: &str) -> QueryResult<bool> {
    let inserted = diesel::insert_into(received_activities::table)
        .values(received_activities::ap_id.eq(ap_id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

pub async fn was_received(conn: &mut AsyncPgConnection, ap_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        received_activities::table.filter(received_activities::ap_id.eq(ap_id)),
    ))
    .get_result(conn)
    .await
}

/// Deletes ids older than [`KEEP_DAYS`]; returns how many.
pub async fn purge_old(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let cutoff = chrono::Utc::now() - chrono::Duration::days(KEEP_DAYS);
    diesel::delete(received_activities::table.filter(received_activities::received_at.lt(cutoff)))
        .execute(conn)
        .await
}
