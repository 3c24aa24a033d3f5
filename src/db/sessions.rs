//! Browser sessions. The cookie carries a random token; only its SHA-256 is stored here, so a
//! leaked database dump does not let anyone log in.

use super::{
    accounts::DbAccount,
    schema::{accounts, sessions},
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = sessions)]
pub struct DbSession {
    pub token_hash: String,
    pub account_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession {
    pub token_hash: String,
    pub account_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user_agent: String,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewSession) -> QueryResult<DbSession> {
    diesel::insert_into(sessions::table)
        .values(new)
        .returning(DbSession::as_returning())
        .get_result(conn)
        .await
}

/// A session that has not expired, with its account.
pub async fn active_with_account(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<(DbSession, DbAccount)>> {
    sessions::table
        .inner_join(accounts::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .select((DbSession::as_select(), DbAccount::as_select()))
        .first(conn)
        .await
        .optional()
}

/// Slides the expiry forward: a session used regularly stays open.
pub async fn touch(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(sessions::table.find(token_hash))
        .set((
            sessions::last_seen_at.eq(diesel::dsl::now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Returns whether a row was deleted.
pub async fn delete(conn: &mut AsyncPgConnection, token_hash: &str) -> QueryResult<bool> {
    diesel::delete(sessions::table.find(token_hash))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

pub async fn delete_expired(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(diesel::dsl::now)))
        .execute(conn)
        .await
}

pub async fn count_active(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .count()
        .get_result(conn)
        .await
}

/// Closes every session of an account (after a password reset). Returns how many were open.
pub async fn delete_all_of(conn: &mut AsyncPgConnection, account_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::account_id.eq(account_id)))
        .execute(conn)
        .await
}
