//! Local accounts: the people and structures who log in.

use super::{lower, schema::accounts};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = accounts)]
pub struct DbAccount {
    pub id: i64,
    pub actor_id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub kind: String,
    pub display_name: String,
    pub bio_markdown: String,
    pub bio_html: String,
    pub avatar_path: Option<String>,
    pub disciplines: Vec<String>,
    pub commune: String,
    pub website: String,
    pub language: Option<String>,
    pub hide_network: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
    /// When the address was confirmed; `None` until the member follows the link mailed at
    /// registration (`accounts.require_confirmation`).
    pub email_confirmed_at: Option<DateTime<Utc>>,
    /// Directory kind (`service::directory::DirectoryKind` codes: compagnie, association…).
    pub directory_kind: String,
    /// INSEE code of the member's commune; `commune` keeps what was typed before communes
    /// came from the official list.
    pub commune_code: Option<String>,
    pub postal_code: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Public contact details shown in the directory.
    pub phone: String,
    pub contact_email: String,
    pub links: Vec<String>,
    /// The member chose not to be listed in the directory or its search.
    pub directory_hidden: bool,
    /// Maintained by a trigger (name as compared for typos).
    pub search_name: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount {
    pub actor_id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub kind: String,
    pub display_name: String,
}

/// The editable part of a profile. `bio_html` must come from `SafeHtml`.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct ProfileChanges {
    pub display_name: String,
    pub bio_markdown: String,
    pub bio_html: String,
    pub disciplines: Vec<String>,
    pub commune: String,
    pub website: String,
    pub language: Option<String>,
    pub hide_network: bool,
}

/// What the member directory shows of a member (`service::profile`). `None` coordinates or
/// commune clear them.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
pub struct DirectoryChanges {
    pub directory_kind: String,
    pub commune_code: Option<String>,
    pub postal_code: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: String,
    pub contact_email: String,
    pub links: Vec<String>,
    pub directory_hidden: bool,
}

pub async fn update_directory(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &DirectoryChanges,
) -> QueryResult<DbAccount> {
    diesel::update(accounts::table.find(id))
        .set(changes)
        .returning(DbAccount::as_returning())
        .get_result(conn)
        .await
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewAccount) -> QueryResult<DbAccount> {
    diesel::insert_into(accounts::table)
        .values(new)
        .returning(DbAccount::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbAccount> {
    accounts::table
        .find(id)
        .select(DbAccount::as_select())
        .first(conn)
        .await
}

/// The account, locked until the end of the transaction.
pub async fn by_id_for_update(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbAccount> {
    accounts::table
        .find(id)
        .select(DbAccount::as_select())
        .for_update()
        .first(conn)
        .await
}

/// Finds an account by e-mail address only, case-insensitively.
pub async fn by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<DbAccount>> {
    accounts::table
        .filter(lower(accounts::email).eq(email.trim().to_lowercase()))
        .select(DbAccount::as_select())
        .first(conn)
        .await
        .optional()
}

/// Whether an account other than `account_id` has this address.
pub async fn email_taken_by_other(
    conn: &mut AsyncPgConnection,
    email: &str,
    account_id: i64,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        accounts::table
            .filter(lower(accounts::email).eq(lower(email)))
            .filter(accounts::id.ne(account_id)),
    ))
    .get_result(conn)
    .await
}

pub async fn by_actor_id(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
) -> QueryResult<Option<DbAccount>> {
    accounts::table
        .filter(accounts::actor_id.eq(actor_id))
        .select(DbAccount::as_select())
        .first(conn)
        .await
        .optional()
}

/// Finds an account by username or e-mail, case-insensitively.
pub async fn by_login(conn: &mut AsyncPgConnection, login: &str) -> QueryResult<Option<DbAccount>> {
    let login = login.trim().to_lowercase();
    accounts::table
        .filter(
            lower(accounts::username)
                .eq(&login)
                .or(lower(accounts::email).eq(&login)),
        )
        .select(DbAccount::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn username_taken(conn: &mut AsyncPgConnection, username: &str) -> QueryResult<bool> {
    let taken_by_account: bool = diesel::select(diesel::dsl::exists(
        accounts::table.filter(lower(accounts::username).eq(lower(username))),
    ))
    .get_result(conn)
    .await?;
    if taken_by_account {
        return Ok(true);
    }
    Ok(super::actors::local_by_username(conn, username)
        .await?
        .is_some())
}

pub async fn email_taken(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        accounts::table.filter(lower(accounts::email).eq(lower(email))),
    ))
    .get_result(conn)
    .await
}

pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &ProfileChanges,
) -> QueryResult<DbAccount> {
    diesel::update(accounts::table.find(id))
        .set((changes, accounts::updated_at.eq(diesel::dsl::now)))
        .returning(DbAccount::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_avatar(
    conn: &mut AsyncPgConnection,
    id: i64,
    path: Option<&str>,
) -> QueryResult<DbAccount> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::avatar_path.eq(path),
            accounts::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbAccount::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_role(conn: &mut AsyncPgConnection, id: i64, role: &str) -> QueryResult<DbAccount> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::role.eq(role),
            accounts::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbAccount::as_returning())
        .get_result(conn)
        .await
}

/// `None`: the instance default language.
pub async fn set_language(
    conn: &mut AsyncPgConnection,
    id: i64,
    language: Option<&str>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::language.eq(language),
            accounts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn touch_login(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set(accounts::last_login_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    accounts::table.count().get_result(conn).await
}
