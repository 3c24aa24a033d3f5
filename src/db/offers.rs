//! Offers of equipment and spaces to lend or share, and their photos (see `service::sharing`).

use super::schema::{offers, photos};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = offers)]
pub struct DbOffer {
    pub id: i64,
    pub account_id: i64,
    pub venue_id: Option<i64>,
    pub category: String,
    pub title: String,
    pub description_markdown: String,
    /// Written only from a `SafeHtml`.
    pub description_html: String,
    pub terms: String,
    pub terms_details: String,
    pub commune_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub public: bool,
    /// The announcement that federates a public offer.
    pub post_id: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub search_name: String,
}

/// The fields a member writes (creation and edit alike).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = offers, treat_none_as_null = true)]
pub struct OfferFields {
    pub venue_id: Option<i64>,
    pub category: String,
    pub title: String,
    pub description_markdown: String,
    pub description_html: String,
    pub terms: String,
    pub terms_details: String,
    pub commune_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub public: bool,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    fields: &OfferFields,
) -> QueryResult<DbOffer> {
    diesel::insert_into(offers::table)
        .values((offers::account_id.eq(account_id), fields))
        .returning(DbOffer::as_returning())
        .get_result(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    fields: &OfferFields,
) -> QueryResult<DbOffer> {
    diesel::update(offers::table.find(id))
        .set((fields, offers::updated_at.eq(Utc::now())))
        .returning(DbOffer::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbOffer>> {
    offers::table
        .find(id)
        .select(DbOffer::as_select())
        .first(conn)
        .await
        .optional()
}

/// The offer, locked until the end of the caller's transaction.
pub async fn by_id_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbOffer>> {
    offers::table
        .find(id)
        .select(DbOffer::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The offer an announcement federates, if any.
pub async fn by_post_id(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> QueryResult<Option<DbOffer>> {
    offers::table
        .filter(offers::post_id.eq(post_id))
        .select(DbOffer::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn set_post(
    conn: &mut AsyncPgConnection,
    id: i64,
    post_id: Option<i64>,
) -> QueryResult<DbOffer> {
    diesel::update(offers::table.find(id))
        .set(offers::post_id.eq(post_id))
        .returning(DbOffer::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_closed(
    conn: &mut AsyncPgConnection,
    id: i64,
    closed_at: Option<DateTime<Utc>>,
) -> QueryResult<DbOffer> {
    diesel::update(offers::table.find(id))
        .set((
            offers::closed_at.eq(closed_at),
            offers::updated_at.eq(Utc::now()),
        ))
        .returning(DbOffer::as_returning())
        .get_result(conn)
        .await
}

pub async fn mark_deleted(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> QueryResult<DbOffer> {
    diesel::update(offers::table.find(id))
        .set((offers::deleted_at.eq(at), offers::post_id.eq(None::<i64>)))
        .returning(DbOffer::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_hidden(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbOffer> {
    diesel::update(offers::table.find(id))
        .set(offers::hidden_at.eq(at))
        .returning(DbOffer::as_returning())
        .get_result(conn)
        .await
}

pub use super::photos::DbPhoto;

pub async fn insert_photo(
    conn: &mut AsyncPgConnection,
    offer_id: i64,
    path: &str,
    alt: &str,
    position: i32,
) -> QueryResult<DbPhoto> {
    diesel::insert_into(photos::table)
        .values((
            photos::offer_id.eq(offer_id),
            photos::path.eq(path),
            photos::alt.eq(alt),
            photos::position.eq(position),
        ))
        .returning(DbPhoto::as_returning())
        .get_result(conn)
        .await
}

pub async fn photos_of(conn: &mut AsyncPgConnection, offer_id: i64) -> QueryResult<Vec<DbPhoto>> {
    photos::table
        .filter(photos::offer_id.eq(offer_id))
        .order((photos::position, photos::id))
        .select(DbPhoto::as_select())
        .load(conn)
        .await
}

/// Deletes one photo of the offer; returns its file name.
pub async fn delete_photo(
    conn: &mut AsyncPgConnection,
    offer_id: i64,
    photo_id: i64,
) -> QueryResult<Option<String>> {
    diesel::delete(
        photos::table
            .filter(photos::id.eq(photo_id))
            .filter(photos::offer_id.eq(offer_id)),
    )
    .returning(photos::path)
    .get_result(conn)
    .await
    .optional()
}

/// Deletes every photo of the offer; returns their file names.
pub async fn delete_photos(
    conn: &mut AsyncPgConnection,
    offer_id: i64,
) -> QueryResult<Vec<String>> {
    diesel::delete(photos::table.filter(photos::offer_id.eq(offer_id)))
        .returning(photos::path)
        .get_results(conn)
        .await
}
