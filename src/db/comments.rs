//! Comments: replies to a post or announcement (or to another comment), written here or
//! received from anywhere. `post_id` is the root of the thread, `parent_id` the comment
//! replied to (NULL for a direct reply to the post).

use super::schema::{actors, comments, follows, posts};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = comments)]
pub struct DbComment {
    pub id: i64,
    pub ap_id: String,
    pub post_id: i64,
    pub parent_id: Option<i64>,
    pub in_reply_to: String,
    pub author_actor_id: i64,
    pub account_id: Option<i64>,
    pub body_markdown: Option<String>,
    /// Written only from a `SafeHtml` (see `service::comments`).
    pub body_html: String,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// The content warning of a remote Note (its `summary`), plain text.
    pub content_warning: Option<String>,
    /// The resolved mentions of a local comment (`service::mentions::Mention` list).
    pub mentions: serde_json::Value,
    /// Hidden by a moderator: left out of every list, still shown to its author.
    pub hidden_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment {
    pub id: i64,
    pub ap_id: String,
    pub post_id: i64,
    pub parent_id: Option<i64>,
    pub in_reply_to: String,
    pub author_actor_id: i64,
    pub account_id: Option<i64>,
    pub body_markdown: Option<String>,
    pub body_html: String,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
    pub content_warning: Option<String>,
    pub mentions: serde_json::Value,
}

/// A remote reply as inserted: its id comes from the table's sequence in the same statement.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = comments)]
pub struct NewRemoteComment {
    pub ap_id: String,
    pub post_id: i64,
    pub parent_id: Option<i64>,
    pub in_reply_to: String,
    pub author_actor_id: i64,
    pub body_html: String,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
    pub content_warning: Option<String>,
    pub mentions: serde_json::Value,
}

/// The author of a comment, as a thread shows it.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = actors)]
pub struct CommentAuthor {
    pub id: i64,
    pub ap_id: String,
    pub username: String,
    pub domain: String,
    pub local: bool,
    pub name: String,
    pub icon_url: Option<String>,
    pub url: Option<String>,
}

impl From<super::actors::DbActor> for CommentAuthor {
    fn from(a: super::actors::DbActor) -> Self {
        CommentAuthor {
            id: a.id,
            ap_id: a.ap_id,
            username: a.username,
            domain: a.domain,
            local: a.local,
            name: a.name,
            icon_url: a.icon_url,
            url: a.url,
        }
    }
}

/// The id the next row will get: a local comment's AP id (`/comments/{id}`) is built from it.
pub async fn next_id(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "nextval('comments_id_seq')",
    ))
    .get_result(conn)
    .await
}

/// Inserts a comment; `None` when its AP id is already stored (a replay of a remote Note).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewComment,
) -> QueryResult<Option<DbComment>> {
    diesel::insert_into(comments::table)
        .values(new)
        .on_conflict(comments::ap_id)
        .do_nothing()
        .returning(DbComment::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Inserts a remote reply in one statement; its new id, `None` when its AP id is already
/// stored (a replay of the Note under another activity id).
pub async fn insert_remote(
    conn: &mut AsyncPgConnection,
    new: &NewRemoteComment,
) -> QueryResult<Option<i64>> {
    diesel::insert_into(comments::table)
        .values(new)
        .on_conflict(comments::ap_id)
        .do_nothing()
        .returning(comments::id)
        .get_result(conn)
        .await
        .optional()
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbComment>> {
    comments::table
        .find(id)
        .select(DbComment::as_select())
        .first(conn)
        .await
        .optional()
}

/// The row locked until the end of the transaction (edits and deletes serialise on it).
pub async fn by_id_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbComment>> {
    comments::table
        .find(id)
        .select(DbComment::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn by_ap_id(conn: &mut AsyncPgConnection, ap_id: &str) -> QueryResult<Option<DbComment>> {
    comments::table
        .filter(comments::ap_id.eq(ap_id))
        .select(DbComment::as_select())
        .first(conn)
        .await
        .optional()
}

/// Comments by accounts of silenced domains are left out of everything public (Mastodon's
/// "limit" hides them from non-followers): this SQL condition names them.
fn not_silenced() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    let silenced =
        super::domain_blocks::covered_sql("actors.domain", super::domain_blocks::SILENCE);
    diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("NOT {silenced}"))
}

/// SQL condition on `comments`: the moderators keep it from the public — hidden
/// (`hidden_at`), or its author is a suspended account or a blocked remote actor. Such a
/// comment counts nowhere and shows as removed where a reply below it keeps its place.
fn withheld_sql() -> &'static str {
    use std::sync::LazyLock;
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "(comments.hidden_at IS NOT NULL OR {})",
            super::actors::sanctioned_sql("comments.author_actor_id")
        )
    });
    &SQL
}

fn not_withheld() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("NOT {}", withheld_sql()))
}

/// The shape of every thread under a post: each comment's id, parent and whether it is
/// deleted, oldest first. Three small columns, so a post with many thousands of comments is
/// read whole to cut its threads into pages. Comments by accounts of silenced domains are
/// left out: the threads are public.
pub async fn outline(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> QueryResult<Vec<(i64, Option<i64>, bool)>> {
    comments::table
        .inner_join(actors::table.on(actors::id.eq(comments::author_actor_id)))
        .filter(comments::post_id.eq(post_id))
        .filter(not_silenced())
        .order(comments::id)
        .select((
            comments::id,
            comments::parent_id,
            diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "(comments.deleted_at IS NOT NULL OR {})",
                withheld_sql()
            )),
        ))
        .load(conn)
        .await
}

/// The comments `ids` under a post (deleted ones too: they keep their replies in place),
/// oldest first, with their authors (none of a silenced domain). A comment the moderators
/// withhold (hidden, or by a sanctioned author) comes back as a deleted one, without its
/// text: it keeps its replies in place and shows nothing.
pub async fn thread_rows(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    ids: &[i64],
) -> QueryResult<Vec<(DbComment, CommentAuthor)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(DbComment, CommentAuthor, bool)> = comments::table
        .inner_join(actors::table.on(actors::id.eq(comments::author_actor_id)))
        .filter(comments::post_id.eq(post_id))
        .filter(comments::id.eq_any(ids))
        .filter(not_silenced())
        .order(comments::id)
        .select((
            DbComment::as_select(),
            CommentAuthor::as_select(),
            diesel::dsl::sql::<diesel::sql_types::Bool>(withheld_sql()),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(mut comment, author, withheld)| {
            if withheld && comment.deleted_at.is_none() {
                comment.deleted_at = Some(comment.hidden_at.unwrap_or(comment.updated_at));
                comment.body_html = String::new();
                comment.body_markdown = None;
                comment.content_warning = None;
            }
            (comment, author)
        })
        .collect())
}

/// The comments under post `post_id` by actor `author_actor_id` that a moderator hid (not
/// deleted), oldest first: shown to their author alone, with the decision.
pub async fn hidden_of_author(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    author_actor_id: i64,
) -> QueryResult<Vec<DbComment>> {
    comments::table
        .filter(comments::post_id.eq(post_id))
        .filter(comments::author_actor_id.eq(author_actor_id))
        .filter(comments::hidden_at.is_not_null())
        .filter(comments::deleted_at.is_null())
        .order(comments::id)
        .select(DbComment::as_select())
        .load(conn)
        .await
}

/// Whether the moderators withhold `comment_id` from the public (see [`withheld_sql`]).
pub async fn is_withheld(conn: &mut AsyncPgConnection, comment_id: i64) -> QueryResult<bool> {
    comments::table
        .find(comment_id)
        .select(diesel::dsl::sql::<diesel::sql_types::Bool>(withheld_sql()))
        .first(conn)
        .await
        .optional()
        .map(|w| w.unwrap_or(true))
}

/// How many direct replies (not deleted, none of a silenced domain) the post or announcement
/// `post_ap_id` has.
pub async fn count_direct_replies(
    conn: &mut AsyncPgConnection,
    post_ap_id: &str,
) -> QueryResult<i64> {
    comments::table
        .inner_join(posts::table.on(posts::id.eq(comments::post_id)))
        .inner_join(actors::table.on(actors::id.eq(comments::author_actor_id)))
        .filter(not_silenced())
        .filter(posts::ap_id.eq(post_ap_id))
        .filter(comments::parent_id.is_null())
        .filter(comments::deleted_at.is_null())
        .filter(not_withheld())
        .count()
        .get_result(conn)
        .await
}

/// The ActivityPub ids of one page of a post's direct replies (not deleted, none of a
/// silenced domain), oldest first.
pub async fn direct_reply_ids_page(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<String>> {
    comments::table
        .inner_join(actors::table.on(actors::id.eq(comments::author_actor_id)))
        .filter(comments::post_id.eq(post_id))
        .filter(not_silenced())
        .filter(comments::parent_id.is_null())
        .filter(comments::deleted_at.is_null())
        .filter(not_withheld())
        .order(comments::id)
        .offset(offset)
        .limit(limit)
        .select(comments::ap_id)
        .load(conn)
        .await
}

/// The new text of a comment (an edit here, or an `Update` from its server).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = comments, treat_none_as_null = true)]
pub struct CommentBody<'a> {
    pub body_markdown: Option<&'a str>,
    /// Written only from a `SafeHtml`.
    pub body_html: &'a str,
    pub content_warning: Option<&'a str>,
    pub mentions: &'a serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

pub async fn update_body(
    conn: &mut AsyncPgConnection,
    id: i64,
    body: &CommentBody<'_>,
) -> QueryResult<DbComment> {
    diesel::update(comments::table.find(id))
        .set(body)
        .returning(DbComment::as_returning())
        .get_result(conn)
        .await
}

pub async fn mark_deleted(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(comments::table.find(id))
        .set((comments::deleted_at.eq(at), comments::updated_at.eq(at)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Comments shown under a post (deleted ones not counted).
pub async fn count_for_post(conn: &mut AsyncPgConnection, post_id: i64) -> QueryResult<i64> {
    comments::table
        .filter(comments::post_id.eq(post_id))
        .filter(comments::deleted_at.is_null())
        .filter(not_withheld())
        .count()
        .get_result(conn)
        .await
}

/// Whether some local actor follows `actor_id` (accepted): what it publishes is then kept.
pub async fn followed_locally(conn: &mut AsyncPgConnection, actor_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        follows::table
            .inner_join(actors::table.on(actors::id.eq(follows::follower_id)))
            .filter(follows::followee_id.eq(actor_id))
            .filter(follows::state.eq("accepted"))
            .filter(actors::local.eq(true)),
    ))
    .get_result(conn)
    .await
}

/// Hides (`Some(now)`) or shows again (`None`) a comment; the moderators' mark.
pub async fn set_hidden(
    conn: &mut AsyncPgConnection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> QueryResult<DbComment> {
    diesel::update(comments::table.find(id))
        .set(comments::hidden_at.eq(at))
        .returning(DbComment::as_returning())
        .get_result(conn)
        .await
}
