//! Single-use links mailed to members (address confirmation, password reset, change of
//! address). Only the SHA-256 of the secret is stored: the link itself exists only in the mail.

use super::schema::{account_tokens, accounts};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = account_tokens)]
pub struct DbAccountToken {
    pub token_hash: String,
    pub account_id: i64,
    pub purpose: String,
    /// The address the link was sent to (for a change of address, the new one).
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = account_tokens)]
pub struct NewAccountToken {
    pub token_hash: String,
    pub account_id: i64,
    pub purpose: String,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewAccountToken) -> QueryResult<()> {
    diesel::insert_into(account_tokens::table)
        .values(new)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The link behind `token_hash`, read without a lock (to show a page).
pub async fn by_hash(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<DbAccountToken>> {
    account_tokens::table
        .find(token_hash)
        .select(DbAccountToken::as_select())
        .first(conn)
        .await
        .optional()
}

/// The link behind `token_hash`, locked until the end of the transaction, so two submissions
/// of the same link cannot both use it.
pub async fn by_hash_for_update(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<DbAccountToken>> {
    account_tokens::table
        .find(token_hash)
        .select(DbAccountToken::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks every unused link of `account_id` for `purpose` as used: once one of them has done
/// its job, the older ones must not do it again.
pub async fn use_all(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    purpose: &str,
) -> QueryResult<usize> {
    diesel::update(
        account_tokens::table
            .filter(account_tokens::account_id.eq(account_id))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// Links of `account_id` for `purpose` made since `since` (the per-account mail limits).
pub async fn count_since(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    purpose: &str,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    account_tokens::table
        .filter(account_tokens::account_id.eq(account_id))
        .filter(account_tokens::purpose.eq(purpose))
        .filter(account_tokens::created_at.gt(since))
        .count()
        .get_result(conn)
        .await
}

/// Deletes links that expired more than a day ago (kept that long so a late click still gets
/// "this link has expired" rather than "this link is not valid").
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(
        account_tokens::table
            .filter(account_tokens::expires_at.lt(Utc::now() - chrono::Duration::days(1))),
    )
    .execute(conn)
    .await
}

/// Records that the account's address is confirmed.
pub async fn confirm_account_email(
    conn: &mut AsyncPgConnection,
    account_id: i64,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::email_confirmed_at.eq(diesel::dsl::now),
            accounts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Replaces the account's address by one its owner just proved they read (so it is confirmed).
pub async fn set_account_email(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    email: &str,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::email.eq(email),
            accounts::email_confirmed_at.eq(diesel::dsl::now),
            accounts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    password_hash: &str,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::password_hash.eq(password_hash),
            accounts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}
