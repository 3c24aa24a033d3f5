//! Blog posts, announcements and forum threads: one table, told apart by `category`.
//! Threads live in the forum (`db::forum`): the blog, news, timeline and announcement
//! listings below leave them out.

use super::schema::posts;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const CATEGORY_POST: &str = "post";
pub const CATEGORY_ANNOUNCEMENT: &str = "announcement";
/// A forum thread (`Page`), with its forum state in `forum_threads`.
pub const CATEGORY_THREAD: &str = "thread";

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = posts)]
pub struct DbPost {
    pub id: i64,
    pub category: String,
    pub ap_id: String,
    pub author_actor_id: i64,
    pub account_id: Option<i64>,
    pub as_page: bool,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body_markdown: String,
    /// Written only from a `SafeHtml` (see `service::publishing`).
    pub body_html: String,
    pub cover_image_path: Option<String>,
    pub cover_image_alt: Option<String>,
    pub hashtags: Vec<String>,
    pub kind: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub disciplines: Vec<String>,
    pub commune: String,
    pub draft: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// `false` for a remote Article/Note kept because a local member follows its author.
    pub local: bool,
    /// The remote page of a remote post (`None` for local ones).
    pub url: Option<String>,
    /// Resolved mentions, `[{href, name, url}]` (see `service::mentions`).
    pub mentions: serde_json::Value,
    /// A remote Note's content warning (its `summary`): the body is shown folded under it.
    pub content_warning: Option<String>,
    /// Hidden by a moderator: not public, still shown to its author with the decision.
    pub hidden_at: Option<DateTime<Utc>>,
    /// INSEE code of the announcement's commune (see `service::communes`); `commune` keeps
    /// what was typed before communes came from the official list.
    pub commune_code: Option<String>,
}

impl DbPost {
    pub fn is_announcement(&self) -> bool {
        self.category == CATEGORY_ANNOUNCEMENT
    }

    /// Visible to everyone: published, not deleted, not hidden by a moderator.
    pub fn is_public(&self) -> bool {
        !self.draft && self.deleted_at.is_none() && self.hidden_at.is_none()
    }

    /// An announcement is closed ("clos") once its deadline day is over.
    pub fn is_closed(&self, today: NaiveDate) -> bool {
        self.deadline.is_some_and(|d| d < today)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = posts)]
pub struct NewPost {
    pub id: i64,
    pub category: String,
    pub ap_id: String,
    pub author_actor_id: i64,
    pub account_id: Option<i64>,
    pub as_page: bool,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body_markdown: String,
    pub body_html: String,
    pub hashtags: Vec<String>,
    pub kind: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub disciplines: Vec<String>,
    pub commune: String,
    pub commune_code: Option<String>,
    pub draft: bool,
    pub published_at: Option<DateTime<Utc>>,
}

/// The columns an edit rewrites.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = posts, treat_none_as_null = true)]
pub struct PostChanges {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body_markdown: String,
    pub body_html: String,
    pub hashtags: Vec<String>,
    pub kind: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub disciplines: Vec<String>,
    pub commune: String,
    pub commune_code: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The cover image and the resolved mentions: written apart from [`NewPost`] and
/// [`PostChanges`] because they come from the upload and the WebFinger look-ups.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = posts, treat_none_as_null = true)]
pub struct PostExtras {
    pub cover_image_path: Option<String>,
    pub cover_image_alt: Option<String>,
    pub mentions: serde_json::Value,
}

pub async fn set_extras(
    conn: &mut AsyncPgConnection,
    id: i64,
    extras: &PostExtras,
) -> QueryResult<DbPost> {
    diesel::update(posts::table.find(id))
        .set(extras)
        .returning(DbPost::as_returning())
        .get_result(conn)
        .await
}

/// A remote Article/Note kept for a local follower (`local = false`, no account).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = posts)]
pub struct NewRemotePost {
    pub id: i64,
    pub category: String,
    pub ap_id: String,
    pub author_actor_id: i64,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body_markdown: String,
    pub body_html: String,
    pub hashtags: Vec<String>,
    pub kind: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub local: bool,
    pub url: Option<String>,
    pub content_warning: Option<String>,
}

/// Sets (or clears) the content warning of a remote post, as its latest version says.
pub async fn set_content_warning(
    conn: &mut AsyncPgConnection,
    id: i64,
    content_warning: Option<&str>,
) -> QueryResult<()> {
    diesel::update(posts::table.find(id))
        .set(posts::content_warning.eq(content_warning))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Inserts a remote post; `None` when its id is already stored (a replay).
pub async fn insert_remote(
    conn: &mut AsyncPgConnection,
    new: &NewRemotePost,
) -> QueryResult<Option<DbPost>> {
    diesel::insert_into(posts::table)
        .values(new)
        .on_conflict(posts::ap_id)
        .do_nothing()
        .returning(DbPost::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn by_ap_id(conn: &mut AsyncPgConnection, ap_id: &str) -> QueryResult<Option<DbPost>> {
    posts::table
        .filter(posts::ap_id.eq(ap_id))
        .select(DbPost::as_select())
        .first(conn)
        .await
        .optional()
}

/// SQL condition on `posts`: the moderators keep nothing of it from the public — not hidden
/// (`hidden_at`), its author neither a suspended account nor a blocked remote actor. Every
/// public list of posts and announcements filters with it (with `deleted_at` and `draft`).
pub fn not_withheld() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    use std::sync::LazyLock;
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "(posts.hidden_at IS NULL AND NOT {})",
            super::actors::sanctioned_sql("posts.author_actor_id")
        )
    });
    diesel::dsl::sql::<diesel::sql_types::Bool>(&SQL)
}

/// A member's timeline (`/fil`): published posts and announcements, local and remote, of
/// `actor_id` and of the actors it follows (accepted), newest first, and the total.
pub async fn timeline(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DbPost>, i64)> {
    use super::schema::follows;
    let base = || {
        let followed = follows::table
            .filter(follows::follower_id.eq(actor_id))
            .filter(follows::state.eq("accepted"))
            .select(follows::followee_id);
        posts::table
            .filter(posts::deleted_at.is_null())
            .filter(posts::draft.eq(false))
            .filter(posts::category.ne(CATEGORY_THREAD))
            .filter(not_withheld())
            .filter(
                posts::author_actor_id
                    .eq(actor_id)
                    .or(posts::author_actor_id.eq_any(followed)),
            )
    };
    let total = base().count().get_result(conn).await?;
    let items = base()
        .select(DbPost::as_select())
        .order((posts::published_at.desc(), posts::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await?;
    Ok((items, total))
}

/// The id the next row will get: the AP id (`/posts/{id}`) is built from it before the insert.
pub async fn next_id(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "nextval('posts_id_seq')",
    ))
    .get_result(conn)
    .await
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewPost) -> QueryResult<DbPost> {
    diesel::insert_into(posts::table)
        .values(new)
        .returning(DbPost::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbPost>> {
    posts::table
        .find(id)
        .select(DbPost::as_select())
        .first(conn)
        .await
        .optional()
}

/// The row locked until the end of the transaction (edits and deletes serialise on it).
pub async fn by_id_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbPost>> {
    posts::table
        .find(id)
        .select(DbPost::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &PostChanges,
) -> QueryResult<DbPost> {
    diesel::update(posts::table.find(id))
        .set(changes)
        .returning(DbPost::as_returning())
        .get_result(conn)
        .await
}

pub async fn mark_published(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> QueryResult<DbPost> {
    diesel::update(posts::table.find(id))
        .set((
            posts::draft.eq(false),
            posts::published_at.eq(at),
            posts::updated_at.eq(at),
        ))
        .returning(DbPost::as_returning())
        .get_result(conn)
        .await
}

pub async fn mark_deleted(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(posts::table.find(id))
        .set((posts::deleted_at.eq(at), posts::updated_at.eq(at)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Filters of the announcement list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct AnnouncementFilter {
    pub kind: Option<String>,
    /// Matched without regard to case.
    pub discipline: Option<String>,
    /// INSEE code of the commune (`posts.commune_code`).
    pub commune: Option<String>,
    /// `Some(true)`: deadline not passed (or none); `Some(false)`: closed.
    pub open: Option<bool>,
}

fn announcements_query<'a>(
    filter: &'a AnnouncementFilter,
    today: NaiveDate,
) -> posts::BoxedQuery<'a, diesel::pg::Pg> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let mut query = posts::table
        .filter(posts::category.eq(CATEGORY_ANNOUNCEMENT))
        .filter(posts::local.eq(true))
        .filter(posts::deleted_at.is_null())
        .filter(posts::draft.eq(false))
        .filter(not_withheld())
        .into_boxed();
    if let Some(kind) = &filter.kind {
        query = query.filter(posts::kind.eq(kind));
    }
    if let Some(discipline) = &filter.discipline {
        query = query.filter(
            sql::<Bool>(
                "EXISTS (SELECT 1 FROM unnest(posts.disciplines) d WHERE lower(d) = lower(",
            )
            .bind::<Text, _>(discipline.clone())
            .sql("))"),
        );
    }
    if let Some(commune) = &filter.commune {
        query = query.filter(posts::commune_code.eq(commune));
    }
    match filter.open {
        Some(true) => {
            query = query.filter(posts::deadline.is_null().or(posts::deadline.ge(today)));
        }
        Some(false) => query = query.filter(posts::deadline.lt(today)),
        None => {}
    }
    query
}

/// One page of published announcements, newest first, and the total matching.
pub async fn list_announcements(
    conn: &mut AsyncPgConnection,
    filter: &AnnouncementFilter,
    today: NaiveDate,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DbPost>, i64)> {
    let total = announcements_query(filter, today)
        .count()
        .get_result(conn)
        .await?;
    let items = announcements_query(filter, today)
        .select(DbPost::as_select())
        .order((posts::published_at.desc(), posts::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await?;
    Ok((items, total))
}

/// Published blog posts of an actor, newest first, and the total.
pub async fn list_posts_by_actor(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DbPost>, i64)> {
    let base = || {
        posts::table
            .filter(posts::category.eq(CATEGORY_POST))
            .filter(posts::local.eq(true))
            .filter(posts::author_actor_id.eq(actor_id))
            .filter(posts::deleted_at.is_null())
            .filter(posts::draft.eq(false))
            .filter(not_withheld())
    };
    let total = base().count().get_result(conn).await?;
    let items = base()
        .select(DbPost::as_select())
        .order((posts::published_at.desc(), posts::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await?;
    Ok((items, total))
}

/// Drafts written by an account (they are shown to it only).
pub async fn drafts_by_account(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    category: &str,
) -> QueryResult<Vec<DbPost>> {
    posts::table
        .filter(posts::account_id.eq(account_id))
        .filter(posts::category.eq(category))
        .filter(posts::deleted_at.is_null())
        .filter(posts::draft.eq(true))
        .select(DbPost::as_select())
        .order(posts::id.desc())
        .limit(200)
        .load(conn)
        .await
}

/// Which published local rows a public listing shows (posts and announcements together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Everyone's: the "Actualités" page and its feeds (served by `posts_news_idx`).
    News,
    /// Published as one actor (member or the département page): its blog feed, its profile.
    Actor(i64),
    /// Everyone's announcements (not blog posts): the announcement channel's page.
    Announcements,
}

fn listing_query(listing: Listing) -> posts::BoxedQuery<'static, diesel::pg::Pg, posts::SqlType> {
    let query = posts::table
        .filter(posts::local.eq(true))
        .filter(posts::deleted_at.is_null())
        .filter(posts::draft.eq(false))
        .filter(posts::category.ne(CATEGORY_THREAD))
        .filter(not_withheld())
        .into_boxed();
    match listing {
        Listing::News => query,
        Listing::Actor(actor_id) => query.filter(posts::author_actor_id.eq(actor_id)),
        Listing::Announcements => query.filter(posts::category.eq(CATEGORY_ANNOUNCEMENT)),
    }
}

/// One page of a listing, newest first, each row with its author: one query, whatever the
/// page size (the Actualités page is benchmarked).
pub async fn list_public_with_authors(
    conn: &mut AsyncPgConnection,
    listing: Listing,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<(DbPost, super::actors::DbActor)>> {
    use super::schema::actors;
    let mut query = posts::table
        .inner_join(actors::table)
        .filter(posts::local.eq(true))
        .filter(posts::deleted_at.is_null())
        .filter(posts::draft.eq(false))
        .filter(posts::category.ne(CATEGORY_THREAD))
        .filter(not_withheld())
        .select((DbPost::as_select(), super::actors::DbActor::as_select()))
        .into_boxed();
    match listing {
        Listing::News => {}
        Listing::Actor(actor_id) => query = query.filter(posts::author_actor_id.eq(actor_id)),
        Listing::Announcements => {
            query = query.filter(posts::category.eq(CATEGORY_ANNOUNCEMENT));
        }
    }
    query
        .order((posts::published_at.desc(), posts::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await
}

/// How many rows a listing has (for its pagination).
pub async fn count_public(conn: &mut AsyncPgConnection, listing: Listing) -> QueryResult<i64> {
    listing_query(listing).count().get_result(conn).await
}

/// The authors of `rows`, by actor id, in one query (lists that were loaded without them).
pub async fn authors_of(
    conn: &mut AsyncPgConnection,
    rows: &[DbPost],
) -> QueryResult<std::collections::HashMap<i64, super::actors::DbActor>> {
    use super::schema::actors;
    let mut ids: Vec<i64> = rows.iter().map(|p| p.author_actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let authors: Vec<super::actors::DbActor> = actors::table
        .filter(actors::id.eq_any(ids))
        .select(super::actors::DbActor::as_select())
        .load(conn)
        .await?;
    Ok(authors.into_iter().map(|a| (a.id, a)).collect())
}

/// Hides (`Some(now)`) or shows again (`None`) a post or announcement; the moderators' mark.
pub async fn set_hidden(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbPost> {
    diesel::update(posts::table.find(id))
        .set(posts::hidden_at.eq(at))
        .returning(DbPost::as_returning())
        .get_result(conn)
        .await
}
