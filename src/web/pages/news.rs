//! "Actualités": the public page mixing the local blog posts and announcements of everyone,
//! newest first, and the short lists built from the same items (home page, profile pages).
//! Its feeds live in `pages::feeds`.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        posts::{DbPost, Listing},
    },
    error::AppResult,
    federation::{Data, objects::article::summary_text},
    i18n::Lang,
    sanitize::excerpt,
    service::publishing::{AnnouncementKind, page_url, today},
    web::pages::{
        PageLang,
        feeds::{HeadMeta, feed_links},
        posts::{PAGE_SIZE, Pagination, page_number, pagination},
        render,
    },
};
use askama::Template;
use axum::{Router, extract::Query, response::Response, routing::get};
use chrono::NaiveDate;
use serde::Deserialize;

/// Characters of the excerpt under each title.
const EXCERPT_CHARS: usize = 240;

pub fn routes() -> Router {
    Router::new().route("/actualites", get(http_get_news))
}

/// One line of a list of posts and announcements.
#[derive(Debug, Clone)]
pub struct NewsItem {
    pub url: String,
    pub title: String,
    /// "Article de blog", or the announcement's kind.
    pub kind_label: &'static str,
    pub is_announcement: bool,
    pub author_name: String,
    pub author_url: String,
    pub published: String,
    pub published_iso: String,
    pub excerpt: String,
    pub closed: bool,
    pub deadline: Option<String>,
    /// The deadline as `YYYY-MM-DD`, for `<time datetime>` (empty when none).
    pub deadline_iso: String,
    pub commune: String,
}

fn date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::Fr => d.format("%d/%m/%Y").to_string(),
        _ => d.format("%Y-%m-%d").to_string(),
    }
}

pub fn news_item(lang: Lang, post: &DbPost, author: &DbActor, today: NaiveDate) -> NewsItem {
    let published_at = post.published_at.unwrap_or(post.created_at);
    NewsItem {
        url: page_url(post),
        title: post.title.clone(),
        kind_label: match post.kind.as_deref().and_then(AnnouncementKind::parse) {
            Some(kind) => lang.t(kind.label_key()),
            None => lang.t("news.kind_post"),
        },
        is_announcement: post.is_announcement(),
        author_name: if author.name.trim().is_empty() {
            author.username.clone()
        } else {
            author.name.clone()
        },
        author_url: format!("/users/{}", author.username),
        published: date(lang, published_at.date_naive()),
        published_iso: published_at.to_rfc3339(),
        excerpt: excerpt(&summary_text(post), EXCERPT_CHARS),
        closed: post.is_closed(today),
        deadline: post.deadline.map(|d| date(lang, d)),
        deadline_iso: post.deadline.map(|d| d.to_string()).unwrap_or_default(),
        commune: post.commune.clone(),
    }
}

/// The `limit` latest items of a listing (home page, profile page): one query.
pub async fn latest(
    ctx: &AppContext,
    lang: Lang,
    listing: Listing,
    limit: i64,
) -> AppResult<Vec<NewsItem>> {
    let rows = {
        let mut conn = ctx.conn().await?;
        db::posts::list_public_with_authors(&mut conn, listing, 0, limit).await?
    };
    let today = today();
    Ok(rows
        .iter()
        .map(|(post, author)| news_item(lang, post, author, today))
        .collect())
}

#[derive(Template)]
#[template(path = "news/list.html")]
struct NewsPage {
    lang: Lang,
    head: HeadMeta,
    page_actor: String,
    total: i64,
    items: Vec<NewsItem>,
    pagination: Pagination,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    page: Option<String>,
}

async fn http_get_news(
    data: Data,
    PageLang(lang): PageLang,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let page = page_number(query.page.as_deref());
    let (rows, total) = {
        let mut conn = ctx.conn().await?;
        let total = db::posts::count_public(&mut conn, Listing::News).await?;
        let rows = db::posts::list_public_with_authors(
            &mut conn,
            Listing::News,
            (page - 1) * PAGE_SIZE,
            PAGE_SIZE,
        )
        .await?;
        (rows, total)
    };
    let today = today();
    let title = lang.t("news.title");
    let path = if page > 1 {
        format!("/actualites?page={page}")
    } else {
        "/actualites".to_string()
    };
    let head = HeadMeta::page(ctx, "website", title, lang.t("news.description"), &path)
        .with_feeds(feed_links(title, "/actualites", ""));
    render(&NewsPage {
        lang,
        head,
        page_actor: ctx.config.instance.page_actor.clone(),
        total,
        items: rows
            .iter()
            .map(|(post, author)| news_item(lang, post, author, today))
            .collect(),
        pagination: pagination(page, total, |n| format!("/actualites?page={n}")),
    })
}
