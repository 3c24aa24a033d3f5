//! The forum's search, shared by `/forum/recherche` and `GET /api/v1/forum/search`: threads
//! (title and body) and replies, in the directory's French full text (`french_unaccent`:
//! "theatre" finds "Théâtre", "subventions" finds "subvention"), with trigram word similarity
//! on thread titles for typos ("subvension"), optionally in one category. Only what the
//! public sees: live threads and replies, nothing the moderators withhold.
//!
//! The query text is cleaned as the directory's is (`directory::search::clean_query`) and
//! read by `websearch_to_tsquery`, which accepts any string.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor},
    error::{AppError, AppResult},
    sanitize::{excerpt, plain_text},
    service::{directory::search::clean_query, publishing::page_url_of},
};
use chrono::{DateTime, Utc};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Nullable, Text, Timestamptz},
};
use diesel_async::RunQueryDsl;

/// Results per page.
pub const PER_PAGE: i64 = 20;
/// Characters of text shown under each result.
const EXCERPT_CHARS: usize = 240;

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub text: String,
    /// A category's slug; `None`: every category.
    pub category: Option<String>,
    /// From 1.
    pub page: i64,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The thread's page, or the reply's anchor on it (a path).
    pub url: String,
    pub title: String,
    pub excerpt: String,
    pub category_slug: String,
    pub category_name: String,
    pub author: String,
    pub is_reply: bool,
    pub published_at: DateTime<Utc>,
    pub thread_id: i64,
    pub reply_id: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Found {
    pub hits: Vec<SearchHit>,
    pub total: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    post_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    comment_id: Option<i64>,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    local: bool,
    #[diesel(sql_type = Text)]
    html: String,
    #[diesel(sql_type = Timestamptz)]
    published_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    author_actor_id: i64,
    #[diesel(sql_type = BigInt)]
    category_id: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The live-thread condition on `posts` (aliased `p`): a thread, not deleted, not hidden,
/// its author not sanctioned.
fn live_thread() -> String {
    format!(
        "p.category = '{}' AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND NOT {}",
        db::posts::CATEGORY_THREAD,
        db::actors::sanctioned_sql("p.author_actor_id")
    )
}

/// One page of what matches `query`, best first (title matches first, then by rank and
/// date). An empty query finds nothing; an unknown category is 400 naming `category`.
pub async fn search(ctx: &AppContext, query: &Query) -> AppResult<Found> {
    let text = clean_query(&query.text);
    if text.is_empty() {
        return Ok(Found::default());
    }
    let mut conn = ctx.conn().await?;
    let category_id = match query.category.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(slug) => Some(
            db::forum::category_by_slug(&mut conn, slug)
                .await?
                .ok_or_else(|| {
                    let mut e = AppError::field("category", "forum.field.unknown_category");
                    e.kind = crate::error::ErrorKind::BadRequest;
                    e
                })?
                .id,
        ),
    };
    let page = query.page.max(1);
    let live = live_thread();
    let sanctioned_reply = db::actors::sanctioned_sql("c.author_actor_id");
    let sql = format!(
        "WITH q AS (SELECT websearch_to_tsquery('french_unaccent', $1) AS tsq, \
                           cc_search_name($1) AS name), \
         hits AS ( \
           SELECT p.id AS post_id, NULL::bigint AS comment_id, p.title, p.slug, p.ap_id, p.local, \
                  p.body_html AS html, p.published_at, p.author_actor_id, t.category_id, \
                  (ts_rank_cd(p.search_doc, q.tsq)::float8 \
                   + word_similarity(q.name, p.search_name)::float8 \
                   + CASE WHEN ts_filter(p.search_doc, '{{a}}') @@ q.tsq \
                            OR word_similarity(q.name, p.search_name) >= 0.6 \
                          THEN 1 ELSE 0 END) AS rank \
           FROM posts p JOIN forum_threads t ON t.post_id = p.id, q \
           WHERE {live} AND (p.search_doc @@ q.tsq OR q.name <% p.search_name) \
           UNION ALL \
           SELECT p.id, c.id, p.title, p.slug, c.ap_id, p.local, c.body_html, c.published_at, \
                  c.author_actor_id, t.category_id, ts_rank_cd(c.search_doc, q.tsq)::float8 \
           FROM comments c JOIN posts p ON p.id = c.post_id \
                JOIN forum_threads t ON t.post_id = p.id, q \
           WHERE {live} AND c.deleted_at IS NULL AND c.hidden_at IS NULL \
             AND NOT {sanctioned_reply} AND c.search_doc @@ q.tsq \
         ) \
         SELECT post_id, comment_id, title, slug, ap_id, local, html, published_at, \
                author_actor_id, category_id, count(*) OVER () AS total \
         FROM hits WHERE ($2::bigint IS NULL OR category_id = $2) \
         ORDER BY rank DESC, published_at DESC, post_id DESC, comment_id NULLS FIRST \
         LIMIT $3 OFFSET $4"
    );
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Text, _>(&text)
        .bind::<Nullable<BigInt>, _>(category_id)
        .bind::<BigInt, _>(PER_PAGE)
        .bind::<BigInt, _>((page - 1) * PER_PAGE)
        .load(&mut conn)
        .await?;
    let total = rows.as_slice().first().map_or(0, |r| r.total);
    let categories = db::forum::categories(&mut conn).await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let author: DbActor = db::actors::by_id(&mut conn, row.author_actor_id).await?;
        let category = categories.iter().find(|c| c.id == row.category_id);
        // The thread's page: its AP id for ours (`/forum/sujets/{id}/{slug}`), the local
        // page of a remote one.
        let thread_ap_id = ctx.urls.forum_thread(row.post_id);
        let page = page_url_of(
            row.post_id,
            row.local,
            db::posts::CATEGORY_THREAD,
            &thread_ap_id,
            &row.slug,
        );
        let page = url::Url::parse(&page)
            .map(|u| u.path().to_string())
            .unwrap_or(page);
        let url = match row.comment_id {
            Some(id) => {
                let post = db::posts::by_id(&mut conn, row.post_id)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                crate::service::publishing::comment_anchor(&mut conn, &post, id).await?
            }
            None => page,
        };
        hits.push(SearchHit {
            url,
            title: row.title,
            excerpt: excerpt(&plain_text(&row.html), EXCERPT_CHARS),
            category_slug: category.map(|c| c.slug.clone()).unwrap_or_default(),
            category_name: category.map(|c| c.name.clone()).unwrap_or_default(),
            author: super::author_label(&author),
            is_reply: row.comment_id.is_some(),
            published_at: row.published_at,
            thread_id: row.post_id,
            reply_id: row.comment_id,
        });
    }
    Ok(Found { hits, total })
}
