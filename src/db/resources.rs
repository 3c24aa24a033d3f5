//! Resources of the library and the versions of their files (see `service::resources`).

use super::schema::{resource_versions, resources};
use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql,
    prelude::*,
    sql_types::{Bool, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = resources)]
pub struct DbResource {
    pub id: i64,
    pub ap_id: String,
    pub title: String,
    pub body_markdown: String,
    /// Written only from a `SafeHtml`.
    pub body_html: String,
    pub link_url: Option<String>,
    pub disciplines: Vec<String>,
    pub theme: String,
    pub members_only: bool,
    pub curated: bool,
    pub author_actor_id: i64,
    pub account_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hidden_at: Option<DateTime<Utc>>,
}

impl DbResource {
    /// Whether anyone outside the members may see it (and other servers hear of it).
    pub fn is_public(&self) -> bool {
        !self.members_only && self.deleted_at.is_none() && self.hidden_at.is_none()
    }
}

/// The fields a member writes (creation and edit alike).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = resources, treat_none_as_null = true)]
pub struct ResourceFields {
    pub title: String,
    pub body_markdown: String,
    pub body_html: String,
    pub link_url: Option<String>,
    pub disciplines: Vec<String>,
    pub theme: String,
    pub members_only: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = resource_versions)]
pub struct DbResourceVersion {
    pub id: Uuid,
    pub resource_id: i64,
    pub version: i32,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_by_actor_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = resource_versions)]
pub struct NewResourceVersion {
    pub id: Uuid,
    pub resource_id: i64,
    pub version: i32,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_by_actor_id: Option<i64>,
}

/// A fresh resource id, taken before the insert so that the stored file's key and the
/// `ap_id` can name it.
pub async fn next_id(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    diesel::select(sql::<diesel::sql_types::BigInt>(
        "nextval('resources_id_seq')",
    ))
    .get_result(conn)
    .await
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    id: i64,
    ap_id: &str,
    author_actor_id: i64,
    account_id: i64,
    fields: &ResourceFields,
) -> QueryResult<DbResource> {
    diesel::insert_into(resources::table)
        .values((
            resources::id.eq(id),
            resources::ap_id.eq(ap_id),
            resources::author_actor_id.eq(author_actor_id),
            resources::account_id.eq(account_id),
            fields,
        ))
        .returning(DbResource::as_returning())
        .get_result(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    fields: &ResourceFields,
) -> QueryResult<DbResource> {
    diesel::update(resources::table.find(id))
        .set((fields, resources::updated_at.eq(Utc::now())))
        .returning(DbResource::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbResource>> {
    resources::table
        .find(id)
        .select(DbResource::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn by_id_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbResource>> {
    resources::table
        .find(id)
        .for_update()
        .select(DbResource::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<DbResource>> {
    resources::table
        .filter(resources::ap_id.eq(ap_id))
        .select(DbResource::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn set_curated(
    conn: &mut AsyncPgConnection,
    id: i64,
    curated: bool,
) -> QueryResult<DbResource> {
    diesel::update(resources::table.find(id))
        .set(resources::curated.eq(curated))
        .returning(DbResource::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_hidden(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbResource> {
    diesel::update(resources::table.find(id))
        .set(resources::hidden_at.eq(at))
        .returning(DbResource::as_returning())
        .get_result(conn)
        .await
}

/// Marks the resource deleted and drops its versions' rows; returns the resource and the
/// storage keys of the files to remove once committed.
pub async fn mark_deleted(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<(DbResource, Vec<String>)> {
    let resource = diesel::update(resources::table.find(id))
        .set(resources::deleted_at.eq(Some(Utc::now())))
        .returning(DbResource::as_returning())
        .get_result(conn)
        .await?;
    let keys =
        diesel::delete(resource_versions::table.filter(resource_versions::resource_id.eq(id)))
            .returning(resource_versions::storage_key)
            .get_results(conn)
            .await?;
    Ok((resource, keys))
}

/// The filters of the list, already checked.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub discipline: Option<String>,
    pub theme: Option<String>,
    /// Words to find (French full text: accents and plurals forgiven).
    pub q: Option<String>,
    /// Members-only resources too (the viewer is a logged-in member).
    pub include_members_only: bool,
    pub offset: i64,
    pub limit: i64,
}

fn filtered(query: &ListQuery) -> resources::BoxedQuery<'static, diesel::pg::Pg> {
    // What a suspended or blocked author wrote is left out of everything public.
    let mut q = resources::table
        .filter(resources::deleted_at.is_null())
        .filter(resources::hidden_at.is_null())
        .filter(sql::<Bool>(&format!(
            "NOT {}",
            super::actors::sanctioned_sql("resources.author_actor_id")
        )))
        .into_boxed();
    if !query.include_members_only {
        q = q.filter(resources::members_only.eq(false));
    }
    if let Some(theme) = &query.theme {
        q = q.filter(resources::theme.eq(theme.clone()));
    }
    if let Some(discipline) = &query.discipline {
        q = q.filter(
            sql::<Bool>(
                "EXISTS (SELECT 1 FROM unnest(resources.disciplines) d_ \
                 WHERE cc_search_name(d_) = cc_search_name(",
            )
            .bind::<Text, _>(discipline.clone())
            .sql("))"),
        );
    }
    if let Some(words) = &query.q {
        q = q.filter(
            sql::<Bool>("resources.search_doc @@ websearch_to_tsquery('french_unaccent', ")
                .bind::<Text, _>(words.clone())
                .sql(")"),
        );
    }
    q
}

/// One page of the list: staff's picks first, then the newest; and the total.
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> QueryResult<(Vec<DbResource>, i64)> {
    let total = filtered(query).count().get_result(conn).await?;
    let rows = filtered(query)
        .order((
            resources::curated.desc(),
            resources::created_at.desc(),
            resources::id.desc(),
        ))
        .offset(query.offset)
        .limit(query.limit)
        .select(DbResource::as_select())
        .load(conn)
        .await?;
    Ok((rows, total))
}

/// The newest public resources, for the feeds.
pub async fn latest_public(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<DbResource>> {
    filtered(&ListQuery::default())
        .order((resources::created_at.desc(), resources::id.desc()))
        .limit(limit)
        .select(DbResource::as_select())
        .load(conn)
        .await
}

/// Every version of a resource, newest first.
pub async fn versions(
    conn: &mut AsyncPgConnection,
    resource_id: i64,
) -> QueryResult<Vec<DbResourceVersion>> {
    resource_versions::table
        .filter(resource_versions::resource_id.eq(resource_id))
        .order(resource_versions::version.desc())
        .select(DbResourceVersion::as_select())
        .load(conn)
        .await
}

pub async fn version(
    conn: &mut AsyncPgConnection,
    resource_id: i64,
    number: i32,
) -> QueryResult<Option<DbResourceVersion>> {
    resource_versions::table
        .filter(resource_versions::resource_id.eq(resource_id))
        .filter(resource_versions::version.eq(number))
        .select(DbResourceVersion::as_select())
        .first(conn)
        .await
        .optional()
}

/// The newest version number (0: no file yet).
pub async fn last_version_number(
    conn: &mut AsyncPgConnection,
    resource_id: i64,
) -> QueryResult<i32> {
    let n: Option<i32> = resource_versions::table
        .filter(resource_versions::resource_id.eq(resource_id))
        .select(diesel::dsl::max(resource_versions::version))
        .first(conn)
        .await?;
    Ok(n.unwrap_or(0))
}

pub async fn insert_version(
    conn: &mut AsyncPgConnection,
    new: &NewResourceVersion,
) -> QueryResult<DbResourceVersion> {
    diesel::insert_into(resource_versions::table)
        .values(new)
        .returning(DbResourceVersion::as_returning())
        .get_result(conn)
        .await
}

/// Touches `updated_at` (a new version changes the resource).
pub async fn touch(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbResource> {
    diesel::update(resources::table.find(id))
        .set(resources::updated_at.eq(Utc::now()))
        .returning(DbResource::as_returning())
        .get_result(conn)
        .await
}
