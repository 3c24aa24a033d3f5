//! Actors: local (members, the département page, the instance actor…) and remote ones.

use super::{lower, schema::actors};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = actors)]
pub struct DbActor {
    pub id: i64,
    pub ap_id: String,
    pub kind: String,
    pub username: String,
    pub domain: String,
    pub local: bool,
    pub name: String,
    pub summary_html: String,
    pub icon_url: Option<String>,
    pub url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub published: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_refreshed_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// A remote actor blocked by the moderators: its activities are refused, its content hidden.
    pub blocked_at: Option<DateTime<Utc>>,
    /// `ap_id` parsed once: activitypub_federation's `Object::id` must hand out a `&Url`.
    #[diesel(select_expression = actors::ap_id, deserialize_as = ApUrl)]
    pub ap_url: url::Url,
}

/// Reads a text column as a URL (see [`DbActor::ap_url`]). Every stored `ap_id` came from a
/// `Url`, so a failure here means the row was written by hand.
pub struct ApUrl(String);

impl diesel::deserialize::Queryable<diesel::sql_types::Text, diesel::pg::Pg> for ApUrl {
    type Row = String;
    fn build(row: String) -> diesel::deserialize::Result<Self> {
        Ok(ApUrl(row))
    }
}

impl TryFrom<ApUrl> for url::Url {
    type Error = url::ParseError;
    fn try_from(value: ApUrl) -> Result<Self, Self::Error> {
        url::Url::parse(&value.0)
    }
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = actors)]
pub struct NewActor {
    pub ap_id: String,
    pub kind: String,
    pub username: String,
    pub domain: String,
    pub local: bool,
    pub name: String,
    pub summary_html: String,
    pub icon_url: Option<String>,
    pub url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub published: DateTime<Utc>,
    pub last_refreshed_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewActor) -> QueryResult<DbActor> {
    diesel::insert_into(actors::table)
        .values(new)
        .returning(DbActor::as_returning())
        .get_result(conn)
        .await
}

/// Inserts or refreshes a remote actor by `ap_id`. A local actor is never overwritten.
pub async fn upsert_remote(conn: &mut AsyncPgConnection, new: &NewActor) -> QueryResult<DbActor> {
    if let Some(existing) = by_ap_id(conn, &new.ap_id).await?
        && existing.local
    {
        return Ok(existing);
    }
    diesel::insert_into(actors::table)
        .values(new)
        .on_conflict(actors::ap_id)
        .do_update()
        .set((
            new,
            actors::updated_at.eq(diesel::dsl::now),
            actors::deleted_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(DbActor::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbActor> {
    actors::table
        .find(id)
        .select(DbActor::as_select())
        .first(conn)
        .await
}

pub async fn by_ap_id(conn: &mut AsyncPgConnection, ap_id: &str) -> QueryResult<Option<DbActor>> {
    actors::table
        .filter(actors::ap_id.eq(ap_id))
        .select(DbActor::as_select())
        .first(conn)
        .await
        .optional()
}

/// A local actor by its username, case-insensitively.
pub async fn local_by_username(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> QueryResult<Option<DbActor>> {
    actors::table
        .filter(actors::local.eq(true))
        .filter(lower(actors::username).eq(lower(username)))
        .select(DbActor::as_select())
        .first(conn)
        .await
        .optional()
}

/// A remote actor we already know by its handle: `domain` is `host[:port]`, as stored.
pub async fn remote_by_handle(
    conn: &mut AsyncPgConnection,
    domain: &str,
    username: &str,
) -> QueryResult<Option<DbActor>> {
    actors::table
        .filter(actors::local.eq(false))
        .filter(actors::domain.eq(domain))
        .filter(lower(actors::username).eq(lower(username)))
        .select(DbActor::as_select())
        .first(conn)
        .await
        .optional()
}

/// What a local member's profile edit changes on their actor. `icon_url: None` keeps the
/// current icon (diesel skips `None` fields of a changeset).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = actors)]
pub struct ActorProfileChanges<'a> {
    pub name: &'a str,
    pub summary_html: &'a str,
    pub icon_url: Option<&'a str>,
}

pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &ActorProfileChanges<'_>,
) -> QueryResult<()> {
    diesel::update(actors::table.find(id))
        .set((changes, actors::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Removes the icon of actor `id` (a venue whose last photo went).
pub async fn clear_icon(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(actors::table.find(id))
        .set(actors::icon_url.eq(None::<String>))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Sets the name and summary of actor `id` unless they are already these; `true` when the row
/// changed (of several processes starting at once, one sees `true`).
pub async fn set_name_and_summary_if_changed(
    conn: &mut AsyncPgConnection,
    id: i64,
    name: &str,
    summary_html: &str,
) -> QueryResult<bool> {
    let n = diesel::update(
        actors::table.find(id).filter(
            actors::name
                .ne(name)
                .or(actors::summary_html.ne(summary_html)),
        ),
    )
    .set((
        actors::name.eq(name),
        actors::summary_html.eq(summary_html),
        actors::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// Keeps a deleted remote actor as a marker (so it is not fetched again) without its profile.
pub async fn mark_deleted(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(actors::table.find(id))
        .set((
            actors::deleted_at.eq(Some(Utc::now())),
            actors::name.eq(""),
            actors::summary_html.eq(""),
            actors::icon_url.eq(None::<String>),
            actors::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// SQL condition on the actor id in `column`: that actor is sanctioned — a remote actor
/// blocked by the moderators, or a local one whose account is suspended. What it wrote is
/// then left out of everything public. `column` is a trusted column name, never input.
pub fn sanctioned_sql(column: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM actors sa_ LEFT JOIN accounts sacc_ ON sacc_.actor_id = sa_.id \
           WHERE sa_.id = {column} \
             AND (sa_.blocked_at IS NOT NULL OR sacc_.suspended_at IS NOT NULL))"
    )
}

/// Whether actor `id` is sanctioned (see [`sanctioned_sql`]).
pub async fn is_sanctioned(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        &sanctioned_sql(&id.to_string()),
    ))
    .get_result(conn)
    .await
}

/// Marks (`Some(now)`) or clears (`None`) the moderators' block of a remote actor.
pub async fn set_blocked(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbActor> {
    diesel::update(actors::table.find(id))
        .set(actors::blocked_at.eq(at))
        .returning(DbActor::as_returning())
        .get_result(conn)
        .await
}

/// Remote actors blocked by the moderators, most recent block first.
pub async fn blocked(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DbActor>> {
    actors::table
        .filter(actors::blocked_at.is_not_null())
        .order((actors::blocked_at.desc(), actors::id.desc()))
        .select(DbActor::as_select())
        .load(conn)
        .await
}
