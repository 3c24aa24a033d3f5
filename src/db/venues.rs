//! Venues (places of artistic practice, each an ActivityPub actor), their managers and photos.

use super::{
    accounts::DbAccount,
    lower,
    schema::{accounts, photos, venue_managers, venues},
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = venues)]
pub struct DbVenue {
    pub id: i64,
    pub actor_id: i64,
    pub slug: String,
    pub owner_account_id: i64,
    pub name: String,
    pub description_markdown: String,
    pub description_html: String,
    pub address: String,
    pub postal_code: String,
    pub commune_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: Option<i32>,
    pub spaces_markdown: String,
    pub equipment_markdown: String,
    pub conditions_markdown: String,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub accessibility_notes: String,
    pub disciplines: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    pub website: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hidden_at: Option<DateTime<Utc>>,
}

/// Every field a member edits (the same set on creation and on edit).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = venues, treat_none_as_null = true)]
pub struct VenueFields {
    pub name: String,
    pub description_markdown: String,
    pub description_html: String,
    pub address: String,
    pub postal_code: String,
    pub commune_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: Option<i32>,
    pub spaces_markdown: String,
    pub equipment_markdown: String,
    pub conditions_markdown: String,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub accessibility_notes: String,
    pub disciplines: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    pub website: String,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    slug: &str,
    owner_account_id: i64,
    fields: &VenueFields,
) -> QueryResult<DbVenue> {
    diesel::insert_into(venues::table)
        .values((
            venues::actor_id.eq(actor_id),
            venues::slug.eq(slug),
            venues::owner_account_id.eq(owner_account_id),
            fields,
        ))
        .returning(DbVenue::as_returning())
        .get_result(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    fields: &VenueFields,
) -> QueryResult<DbVenue> {
    diesel::update(venues::table.find(id))
        .set((fields, venues::updated_at.eq(diesel::dsl::now)))
        .returning(DbVenue::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbVenue>> {
    venues::table
        .find(id)
        .select(DbVenue::as_select())
        .first(conn)
        .await
        .optional()
}

/// Locks the row for the rest of the transaction (edits and deletions of one venue queue).
pub async fn by_id_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbVenue>> {
    venues::table
        .find(id)
        .select(DbVenue::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn by_slug(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<DbVenue>> {
    venues::table
        .filter(venues::slug.eq(slug))
        .select(DbVenue::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn by_actor_id(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
) -> QueryResult<Option<DbVenue>> {
    venues::table
        .filter(venues::actor_id.eq(actor_id))
        .select(DbVenue::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn set_deleted(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbVenue> {
    diesel::update(venues::table.find(id))
        .set((
            venues::deleted_at.eq(Some(Utc::now())),
            venues::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbVenue::as_returning())
        .get_result(conn)
        .await
}

/// Marks (`Some(now)`) or clears (`None`) the moderators' hiding of a venue.
pub async fn set_hidden(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbVenue> {
    diesel::update(venues::table.find(id))
        .set(venues::hidden_at.eq(at))
        .returning(DbVenue::as_returning())
        .get_result(conn)
        .await
}

/// Whether `account_id` manages the venue (its owner or an added manager).
pub async fn is_manager(
    conn: &mut AsyncPgConnection,
    venue: &DbVenue,
    account_id: i64,
) -> QueryResult<bool> {
    if venue.owner_account_id == account_id {
        return Ok(true);
    }
    diesel::select(diesel::dsl::exists(
        venue_managers::table
            .filter(venue_managers::venue_id.eq(venue.id))
            .filter(venue_managers::account_id.eq(account_id)),
    ))
    .get_result(conn)
    .await
}

/// Adds a manager; `false` when they already were one.
pub async fn add_manager(
    conn: &mut AsyncPgConnection,
    venue_id: i64,
    account_id: i64,
) -> QueryResult<bool> {
    let n = diesel::insert_into(venue_managers::table)
        .values((
            venue_managers::venue_id.eq(venue_id),
            venue_managers::account_id.eq(account_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Removes a manager; `false` when they were none.
pub async fn remove_manager(
    conn: &mut AsyncPgConnection,
    venue_id: i64,
    account_id: i64,
) -> QueryResult<bool> {
    let n = diesel::delete(
        venue_managers::table
            .filter(venue_managers::venue_id.eq(venue_id))
            .filter(venue_managers::account_id.eq(account_id)),
    )
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// The usernames of the added managers (the owner excluded), in the order they were added.
pub async fn manager_usernames(
    conn: &mut AsyncPgConnection,
    venue_id: i64,
) -> QueryResult<Vec<String>> {
    venue_managers::table
        .inner_join(accounts::table)
        .filter(venue_managers::venue_id.eq(venue_id))
        .order(venue_managers::created_at.asc())
        .select(accounts::username)
        .load(conn)
        .await
}

/// The account ids of every manager, the owner first.
pub async fn manager_account_ids(
    conn: &mut AsyncPgConnection,
    venue: &DbVenue,
) -> QueryResult<Vec<i64>> {
    let mut ids = vec![venue.owner_account_id];
    let others: Vec<i64> = venue_managers::table
        .filter(venue_managers::venue_id.eq(venue.id))
        .order(venue_managers::created_at.asc())
        .select(venue_managers::account_id)
        .load(conn)
        .await?;
    ids.extend(
        others
            .into_iter()
            .filter(|id| *id != venue.owner_account_id),
    );
    Ok(ids)
}

/// The live venues `account_id` manages, by name.
pub async fn managed_by(
    conn: &mut AsyncPgConnection,
    account_id: i64,
) -> QueryResult<Vec<DbVenue>> {
    let managed = venue_managers::table
        .filter(venue_managers::account_id.eq(account_id))
        .select(venue_managers::venue_id);
    venues::table
        .filter(venues::deleted_at.is_null())
        .filter(
            venues::owner_account_id
                .eq(account_id)
                .or(venues::id.eq_any(managed)),
        )
        .order(venues::name.asc())
        .select(DbVenue::as_select())
        .load(conn)
        .await
}

pub use super::photos::DbPhoto;

/// Whether `file` is the stored name of a venue's photo (offers' photos share the folder but
/// are served, with their own visibility rule, by the sharing pages).
pub async fn is_venue_photo(conn: &mut AsyncPgConnection, file: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        photos::table
            .filter(photos::path.eq(file))
            .filter(photos::venue_id.is_not_null()),
    ))
    .get_result(conn)
    .await
}

pub async fn photos(conn: &mut AsyncPgConnection, venue_id: i64) -> QueryResult<Vec<DbPhoto>> {
    photos::table
        .filter(photos::venue_id.eq(venue_id))
        .order((photos::position.asc(), photos::id.asc()))
        .select(DbPhoto::as_select())
        .load(conn)
        .await
}

pub async fn insert_photo(
    conn: &mut AsyncPgConnection,
    venue_id: i64,
    path: &str,
    alt: &str,
) -> QueryResult<DbPhoto> {
    let next: Option<i32> = photos::table
        .filter(photos::venue_id.eq(venue_id))
        .select(diesel::dsl::max(photos::position))
        .first(conn)
        .await?;
    diesel::insert_into(photos::table)
        .values((
            photos::venue_id.eq(venue_id),
            photos::path.eq(path),
            photos::alt.eq(alt),
            photos::position.eq(next.map_or(0, |p| p + 1)),
        ))
        .returning(DbPhoto::as_returning())
        .get_result(conn)
        .await
}

pub async fn delete_photo(
    conn: &mut AsyncPgConnection,
    venue_id: i64,
    photo_id: i64,
) -> QueryResult<Option<DbPhoto>> {
    diesel::delete(
        photos::table
            .filter(photos::id.eq(photo_id))
            .filter(photos::venue_id.eq(venue_id)),
    )
    .returning(DbPhoto::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// A member by username, case-insensitively (managers are named by username).
pub async fn member_by_username(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> QueryResult<Option<DbAccount>> {
    accounts::table
        .filter(lower(accounts::username).eq(lower(username)))
        .select(DbAccount::as_select())
        .first(conn)
        .await
        .optional()
}
