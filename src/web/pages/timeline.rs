//! A member's timeline (`/fil`): the posts and announcements, local and remote, of the actors
//! they follow and their own, newest first, each linking to its page here.

use crate::{
    db::{self, actors::DbActor},
    error::AppResult,
    federation::Data,
    i18n::Lang,
    sanitize::{excerpt, plain_text},
    service::publishing::{AnnouncementKind, page_url},
    web::{
        auth::CurrentUser,
        pages::{
            PageLang,
            posts::{PAGE_SIZE, Pagination, page_number, pagination},
            render,
        },
    },
};
use askama::Template;
use axum::{Router, extract::Query, response::Response, routing::get};
use serde::Deserialize;

/// Characters of the excerpt under each title.
const EXCERPT_CHARS: usize = 280;

pub fn routes() -> Router {
    Router::new().route("/fil", get(http_get_timeline))
}

/// One entry of the timeline.
pub struct TimelineItem {
    /// The page here (remote posts too).
    pub url: String,
    pub title: String,
    pub kind_label: Option<&'static str>,
    pub author_name: String,
    pub author_handle: String,
    pub author_url: String,
    pub published: String,
    pub published_iso: String,
    pub excerpt: String,
    /// The server of a remote post, `None` for ours.
    pub remote_host: Option<String>,
}

#[derive(Template)]
#[template(path = "timeline/index.html")]
struct TimelinePage {
    lang: Lang,
    items: Vec<TimelineItem>,
    pagination: Pagination,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TimelineQuery {
    page: Option<String>,
}

fn item(lang: Lang, post: &db::posts::DbPost, author: &DbActor) -> TimelineItem {
    let published_at = post.published_at.unwrap_or(post.created_at);
    let url = page_url(post);
    let url = match url::Url::parse(&url) {
        Ok(u) => u.path().to_string(),
        Err(_) => url,
    };
    TimelineItem {
        url,
        title: post.title.clone(),
        kind_label: post
            .kind
            .as_deref()
            .and_then(AnnouncementKind::parse)
            .map(|k| lang.t(k.label_key())),
        author_name: if author.name.trim().is_empty() {
            author.username.clone()
        } else {
            author.name.clone()
        },
        author_handle: format!("@{}@{}", author.username, author.domain),
        author_url: if author.local {
            format!("/users/{}", author.username)
        } else {
            author.url.clone().unwrap_or_else(|| author.ap_id.clone())
        },
        published: match lang {
            Lang::Fr => published_at.format("%d/%m/%Y").to_string(),
            _ => published_at.format("%Y-%m-%d").to_string(),
        },
        published_iso: published_at.to_rfc3339(),
        excerpt: excerpt(&plain_text(&post.body_html), EXCERPT_CHARS),
        remote_host: (!post.local).then(|| author.domain.clone()),
    }
}

async fn http_get_timeline(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Query(query): Query<TimelineQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let page = page_number(query.page.as_deref());
    let mut conn = ctx.conn().await?;
    let (posts, total) = db::posts::timeline(
        &mut conn,
        user.account.actor_id,
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    let authors = db::posts::authors_of(&mut conn, &posts).await?;
    let items = posts
        .iter()
        .filter_map(|post| Some(item(lang, post, authors.get(&post.author_actor_id)?)))
        .collect();
    render(&TimelinePage {
        lang,
        items,
        pagination: pagination(page, total, |n| format!("/fil?page={n}")),
    })
}
