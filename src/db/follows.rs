//! Follow relations between any two actors, local or remote.

use super::{
    actors::DbActor,
    schema::{actors, follows},
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";
pub const REJECTED: &str = "rejected";

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = follows)]
pub struct DbFollow {
    pub id: i64,
    pub follower_id: i64,
    pub followee_id: i64,
    pub state: String,
    pub activity_ap_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
) -> QueryResult<Option<DbFollow>> {
    follows::table
        .filter(follows::follower_id.eq(follower_id))
        .filter(follows::followee_id.eq(followee_id))
        .select(DbFollow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The follow whose Follow activity has this id.
pub async fn by_activity_id(
    conn: &mut AsyncPgConnection,
    activity_ap_id: &str,
) -> QueryResult<Option<DbFollow>> {
    follows::table
        .filter(follows::activity_ap_id.eq(activity_ap_id))
        .select(DbFollow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Creates the relation or, when it exists, moves it to `state` with a new Follow id (a
/// re-follow after a Reject or an Undo that crossed paths).
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
    state: &str,
    activity_ap_id: &str,
) -> QueryResult<DbFollow> {
    diesel::insert_into(follows::table)
        .values((
            follows::follower_id.eq(follower_id),
            follows::followee_id.eq(followee_id),
            follows::state.eq(state),
            follows::activity_ap_id.eq(activity_ap_id),
        ))
        .on_conflict((follows::follower_id, follows::followee_id))
        .do_update()
        .set((
            follows::state.eq(state),
            follows::activity_ap_id.eq(activity_ap_id),
            follows::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbFollow::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_state(
    conn: &mut AsyncPgConnection,
    id: i64,
    state: &str,
) -> QueryResult<DbFollow> {
    diesel::update(follows::table.find(id))
        .set((
            follows::state.eq(state),
            follows::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbFollow::as_returning())
        .get_result(conn)
        .await
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(follows::table.find(id)).execute(conn).await
}

/// Removes every relation in which `actor_id` takes part, either side.
pub async fn delete_all_of(conn: &mut AsyncPgConnection, actor_id: i64) -> QueryResult<usize> {
    diesel::delete(
        follows::table.filter(
            follows::follower_id
                .eq(actor_id)
                .or(follows::followee_id.eq(actor_id)),
        ),
    )
    .execute(conn)
    .await
}

/// Accepted followers / followed accounts, for collection counts.
pub async fn count_followers(conn: &mut AsyncPgConnection, actor_id: i64) -> QueryResult<i64> {
    follows::table
        .filter(follows::followee_id.eq(actor_id))
        .filter(follows::state.eq(ACCEPTED))
        .count()
        .get_result(conn)
        .await
}

pub async fn count_following(conn: &mut AsyncPgConnection, actor_id: i64) -> QueryResult<i64> {
    follows::table
        .filter(follows::follower_id.eq(actor_id))
        .filter(follows::state.eq(ACCEPTED))
        .count()
        .get_result(conn)
        .await
}

/// One page of accepted followers' ids, newest first.
pub async fn follower_ids_page(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<String>> {
    follows::table
        .inner_join(actors::table.on(actors::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(actor_id))
        .filter(follows::state.eq(ACCEPTED))
        .order(follows::id.desc())
        .offset(offset)
        .limit(limit)
        .select(actors::ap_id)
        .load(conn)
        .await
}

/// One page of the ids of accounts `actor_id` follows (accepted), newest first.
pub async fn following_ids_page(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<String>> {
    follows::table
        .inner_join(actors::table.on(actors::id.eq(follows::followee_id)))
        .filter(follows::follower_id.eq(actor_id))
        .filter(follows::state.eq(ACCEPTED))
        .order(follows::id.desc())
        .offset(offset)
        .limit(limit)
        .select(actors::ap_id)
        .load(conn)
        .await
}

/// Where to deliver what `actor_id` publishes to its followers: the shared inbox of each
/// accepted remote follower, or its own inbox when it has none. Deduplicated.
pub async fn follower_inboxes(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
) -> QueryResult<Vec<String>> {
    follows::table
        .inner_join(actors::table.on(actors::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(actor_id))
        .filter(follows::state.eq(ACCEPTED))
        .filter(actors::local.eq(false))
        .filter(actors::deleted_at.is_null())
        .select(diesel::dsl::sql::<diesel::sql_types::Text>(
            "COALESCE(actors.shared_inbox_url, actors.inbox_url)",
        ))
        .distinct()
        .load(conn)
        .await
}

/// The follows an actor made, with the followed actor, newest first (for "my follows").
pub async fn following_of(
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    limit: i64,
) -> QueryResult<Vec<(DbFollow, DbActor)>> {
    follows::table
        .inner_join(actors::table.on(actors::id.eq(follows::followee_id)))
        .filter(follows::follower_id.eq(follower_id))
        .order(follows::id.desc())
        .limit(limit)
        .select((DbFollow::as_select(), DbActor::as_select()))
        .load(conn)
        .await
}
