//! The forum: categories (each a `Group` actor), their chosen moderators, the forum state of
//! threads (a thread is a `posts` row of category `thread`; its replies are `comments`),
//! subscriptions and read markers.

use super::{
    actors::DbActor,
    posts::{CATEGORY_THREAD, DbPost},
    schema::{
        actors, forum_categories, forum_category_moderators, forum_reads, forum_subscriptions,
        forum_threads, posts,
    },
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = forum_categories)]
pub struct DbCategory {
    pub id: i64,
    pub slug: String,
    pub actor_id: i64,
    pub name: String,
    pub description_markdown: String,
    pub description_html: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = forum_categories)]
pub struct NewCategory {
    pub slug: String,
    pub actor_id: i64,
    pub name: String,
    pub description_markdown: String,
    pub description_html: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = forum_threads, primary_key(post_id))]
pub struct DbThread {
    pub post_id: i64,
    pub category_id: i64,
    pub locked_at: Option<DateTime<Utc>>,
    pub pinned_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
    pub reply_count: i32,
}

impl DbThread {
    pub fn is_locked(&self) -> bool {
        self.locked_at.is_some()
    }

    pub fn is_pinned(&self) -> bool {
        self.pinned_at.is_some()
    }
}

// ---------------------------------------------------------------------------------------------
// Categories

pub async fn insert_category(
    conn: &mut AsyncPgConnection,
    new: &NewCategory,
) -> QueryResult<Option<DbCategory>> {
    diesel::insert_into(forum_categories::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(DbCategory::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Every category, in the order staff chose.
pub async fn categories(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DbCategory>> {
    forum_categories::table
        .order((forum_categories::position, forum_categories::id))
        .select(DbCategory::as_select())
        .load(conn)
        .await
}

pub async fn category_by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> QueryResult<Option<DbCategory>> {
    forum_categories::table
        .filter(forum_categories::slug.eq(slug))
        .select(DbCategory::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn category_by_id(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbCategory>> {
    forum_categories::table
        .find(id)
        .select(DbCategory::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn category_by_actor(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
) -> QueryResult<Option<DbCategory>> {
    forum_categories::table
        .filter(forum_categories::actor_id.eq(actor_id))
        .select(DbCategory::as_select())
        .first(conn)
        .await
        .optional()
}

/// The category whose `Group` has the id `ap_id`.
pub async fn category_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<(DbCategory, DbActor)>> {
    forum_categories::table
        .inner_join(actors::table)
        .filter(actors::ap_id.eq(ap_id))
        .select((DbCategory::as_select(), DbActor::as_select()))
        .first(conn)
        .await
        .optional()
}

pub async fn update_category(
    conn: &mut AsyncPgConnection,
    id: i64,
    name: &str,
    description_markdown: &str,
    description_html: &str,
) -> QueryResult<DbCategory> {
    diesel::update(forum_categories::table.find(id))
        .set((
            forum_categories::name.eq(name),
            forum_categories::description_markdown.eq(description_markdown),
            forum_categories::description_html.eq(description_html),
            forum_categories::updated_at.eq(Utc::now()),
        ))
        .returning(DbCategory::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_position(conn: &mut AsyncPgConnection, id: i64, position: i32) -> QueryResult<()> {
    diesel::update(forum_categories::table.find(id))
        .set(forum_categories::position.eq(position))
        .execute(conn)
        .await?;
    Ok(())
}

/// The next position: after every category.
pub async fn next_position(conn: &mut AsyncPgConnection) -> QueryResult<i32> {
    let max: Option<i32> = forum_categories::table
        .select(diesel::dsl::max(forum_categories::position))
        .first(conn)
        .await?;
    Ok(max.map_or(0, |m| m + 1))
}

// ---------------------------------------------------------------------------------------------
// Moderators chosen by staff

pub async fn moderators(
    conn: &mut AsyncPgConnection,
    category_id: i64,
) -> QueryResult<Vec<DbActor>> {
    forum_category_moderators::table
        .inner_join(actors::table)
        .filter(forum_category_moderators::category_id.eq(category_id))
        .order(forum_category_moderators::added_at)
        .select(DbActor::as_select())
        .load(conn)
        .await
}

pub async fn is_moderator(
    conn: &mut AsyncPgConnection,
    category_id: i64,
    actor_id: i64,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        forum_category_moderators::table.find((category_id, actor_id)),
    ))
    .get_result(conn)
    .await
}

pub async fn add_moderator(
    conn: &mut AsyncPgConnection,
    category_id: i64,
    actor_id: i64,
) -> QueryResult<bool> {
    let n = diesel::insert_into(forum_category_moderators::table)
        .values((
            forum_category_moderators::category_id.eq(category_id),
            forum_category_moderators::actor_id.eq(actor_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn remove_moderator(
    conn: &mut AsyncPgConnection,
    category_id: i64,
    actor_id: i64,
) -> QueryResult<bool> {
    let n = diesel::delete(forum_category_moderators::table.find((category_id, actor_id)))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

// ---------------------------------------------------------------------------------------------
// Threads

pub async fn insert_thread(
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    category_id: i64,
) -> QueryResult<DbThread> {
    diesel::insert_into(forum_threads::table)
        .values((
            forum_threads::post_id.eq(post.id),
            forum_threads::category_id.eq(category_id),
            forum_threads::last_activity_at.eq(post.published_at.unwrap_or(post.created_at)),
        ))
        .returning(DbThread::as_returning())
        .get_result(conn)
        .await
}

pub async fn thread(conn: &mut AsyncPgConnection, post_id: i64) -> QueryResult<Option<DbThread>> {
    forum_threads::table
        .find(post_id)
        .select(DbThread::as_select())
        .first(conn)
        .await
        .optional()
}

/// The thread row, locked for the rest of the transaction.
pub async fn thread_for_update(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> QueryResult<Option<DbThread>> {
    forum_threads::table
        .find(post_id)
        .select(DbThread::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn set_locked(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbThread> {
    diesel::update(forum_threads::table.find(post_id))
        .set(forum_threads::locked_at.eq(at))
        .returning(DbThread::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_pinned(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbThread> {
    diesel::update(forum_threads::table.find(post_id))
        .set(forum_threads::pinned_at.eq(at))
        .returning(DbThread::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_category(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    category_id: i64,
) -> QueryResult<DbThread> {
    diesel::update(forum_threads::table.find(post_id))
        .set(forum_threads::category_id.eq(category_id))
        .returning(DbThread::as_returning())
        .get_result(conn)
        .await
}

/// A thread of the list: the post, its forum state and its author.
pub type ListedThread = (DbPost, DbThread, DbActor);

/// The live threads of a category (published, not deleted, not withheld by moderation), one
/// page: pinned first, then by last activity.
pub async fn list_threads(
    conn: &mut AsyncPgConnection,
    category_id: i64,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<ListedThread>> {
    forum_threads::table
        .inner_join(posts::table.inner_join(actors::table))
        .filter(forum_threads::category_id.eq(category_id))
        .filter(posts::deleted_at.is_null())
        .filter(super::posts::not_withheld())
        .order((
            forum_threads::pinned_at.is_null(),
            forum_threads::last_activity_at.desc(),
            forum_threads::post_id.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .select((
            DbPost::as_select(),
            DbThread::as_select(),
            DbActor::as_select(),
        ))
        .load(conn)
        .await
}

pub async fn count_threads(conn: &mut AsyncPgConnection, category_id: i64) -> QueryResult<i64> {
    forum_threads::table
        .inner_join(posts::table)
        .filter(forum_threads::category_id.eq(category_id))
        .filter(posts::deleted_at.is_null())
        .filter(super::posts::not_withheld())
        .count()
        .get_result(conn)
        .await
}

/// The pinned live threads of a category (its `featured` collection), newest pin first.
pub async fn pinned(conn: &mut AsyncPgConnection, category_id: i64) -> QueryResult<Vec<DbPost>> {
    forum_threads::table
        .inner_join(posts::table)
        .filter(forum_threads::category_id.eq(category_id))
        .filter(forum_threads::pinned_at.is_not_null())
        .filter(posts::deleted_at.is_null())
        .filter(super::posts::not_withheld())
        .order(forum_threads::pinned_at.desc())
        .select(DbPost::as_select())
        .load(conn)
        .await
}

/// The thread of `post_id` with its post, when the post is a thread.
pub async fn thread_with_post(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> QueryResult<Option<(DbPost, DbThread)>> {
    forum_threads::table
        .inner_join(posts::table)
        .filter(forum_threads::post_id.eq(post_id))
        .filter(posts::category.eq(CATEGORY_THREAD))
        .select((DbPost::as_select(), DbThread::as_select()))
        .first(conn)
        .await
        .optional()
}

/// Per category: live threads, and the latest activity.
pub async fn category_stats(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(i64, i64, Option<DateTime<Utc>>)>> {
    forum_threads::table
        .inner_join(posts::table)
        .filter(posts::deleted_at.is_null())
        .filter(super::posts::not_withheld())
        .group_by(forum_threads::category_id)
        .select((
            forum_threads::category_id,
            diesel::dsl::count_star(),
            diesel::dsl::max(forum_threads::last_activity_at),
        ))
        .load(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

/// What a subscription follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    Category(i64),
    Thread(i64),
}

pub async fn subscribe(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    followed: Followed,
) -> QueryResult<bool> {
    let (category, thread) = match followed {
        Followed::Category(id) => (Some(id), None),
        Followed::Thread(id) => (None, Some(id)),
    };
    let n = diesel::insert_into(forum_subscriptions::table)
        .values((
            forum_subscriptions::account_id.eq(account_id),
            forum_subscriptions::category_id.eq(category),
            forum_subscriptions::thread_post_id.eq(thread),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn unsubscribe(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    followed: Followed,
) -> QueryResult<bool> {
    let query = forum_subscriptions::table
        .filter(forum_subscriptions::account_id.eq(account_id))
        .into_boxed();
    let query = match followed {
        Followed::Category(id) => query.filter(forum_subscriptions::category_id.eq(id)),
        Followed::Thread(id) => query.filter(forum_subscriptions::thread_post_id.eq(id)),
    };
    let ids: Vec<i64> = query.select(forum_subscriptions::id).load(conn).await?;
    let n = diesel::delete(forum_subscriptions::table.filter(forum_subscriptions::id.eq_any(ids)))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

pub async fn is_subscribed(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    followed: Followed,
) -> QueryResult<bool> {
    let query = forum_subscriptions::table
        .filter(forum_subscriptions::account_id.eq(account_id))
        .into_boxed();
    let query = match followed {
        Followed::Category(id) => query.filter(forum_subscriptions::category_id.eq(id)),
        Followed::Thread(id) => query.filter(forum_subscriptions::thread_post_id.eq(id)),
    };
    Ok(query
        .select(forum_subscriptions::id)
        .first::<i64>(conn)
        .await
        .optional()?
        .is_some())
}

/// The accounts subscribed to `followed`.
pub async fn subscribers(
    conn: &mut AsyncPgConnection,
    followed: Followed,
) -> QueryResult<Vec<i64>> {
    let query = forum_subscriptions::table.into_boxed();
    let query = match followed {
        Followed::Category(id) => query.filter(forum_subscriptions::category_id.eq(id)),
        Followed::Thread(id) => query.filter(forum_subscriptions::thread_post_id.eq(id)),
    };
    query
        .select(forum_subscriptions::account_id)
        .load(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Read markers

/// Records that `account_id` read the thread up to `at` (never moves back).
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    post_id: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(forum_reads::table)
        .values((
            forum_reads::account_id.eq(account_id),
            forum_reads::post_id.eq(post_id),
            forum_reads::read_at.eq(at),
        ))
        .on_conflict((forum_reads::account_id, forum_reads::post_id))
        .do_update()
        .set(
            forum_reads::read_at.eq(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                "greatest(forum_reads.read_at, excluded.read_at)",
            )),
        )
        .execute(conn)
        .await?;
    Ok(())
}

/// When `account_id` last read each of `post_ids` (absent: never).
pub async fn read_at(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    post_ids: &[i64],
) -> QueryResult<Vec<(i64, DateTime<Utc>)>> {
    forum_reads::table
        .filter(forum_reads::account_id.eq(account_id))
        .filter(forum_reads::post_id.eq_any(post_ids))
        .select((forum_reads::post_id, forum_reads::read_at))
        .load(conn)
        .await
}
