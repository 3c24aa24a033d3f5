//! RSS 2.0 and Atom 1.0 feeds of the public lists, and what pages put in their `<head>` so
//! readers and link previews find them (`<link rel="alternate">`, canonical, Open Graph).
//!
//! | feed | RSS | Atom |
//! |---|---|---|
//! | Actualités (posts and announcements of everyone) | `/actualites/rss.xml` | `/actualites/atom.xml` |
//! | a member's or the département page's blog (its posts and announcements) | `/blog/{username}/rss.xml` | `/blog/{username}/atom.xml` |
//! | announcements, with the list's filters (`?kind=emploi&commune=…&discipline=…&open=true`) | `/annonces/rss.xml` | `/annonces/atom.xml` |
//! | the public resources of the library (never a members-only one) | `/ressources/rss.xml` | `/ressources/atom.xml` |
//!
//! Each carries the 20 latest items, written in the instance's language (`instance.language`,
//! not the visitor's: one URL, one document, so shared caches stay right). Answers are cacheable for five minutes by anyone, with an
//! ETag (a hash of the bytes: the document only depends on the rows, never on the clock) and a
//! `Last-Modified`, and a `304` for a matching `If-None-Match`.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        posts::{DbPost, Listing},
    },
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        objects::{article::summary_text, note::facts_line},
    },
    i18n::Lang,
    sanitize::excerpt,
    service::{
        covers,
        publishing::{AnnouncementKind, page_url, today},
    },
    web::{
        feeds::{self, Enclosure, Feed, FeedCategory, FeedItem},
        pages::posts::ListQuery,
    },
};
use axum::{
    Router,
    extract::{Path, Query},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

/// Items in a feed.
pub const FEED_ITEMS: i64 = 20;
pub const RSS_TYPE: &str = "application/rss+xml";
pub const ATOM_TYPE: &str = "application/atom+xml";
const CACHE_CONTROL: &str = "public, max-age=300";
/// Longest `og:description`, in characters.
const DESCRIPTION_CHARS: usize = 300;

pub fn routes() -> Router {
    Router::new()
        .route("/actualites/rss.xml", get(http_get_news_rss))
        .route("/actualites/atom.xml", get(http_get_news_atom))
        .route("/blog/{username}/rss.xml", get(http_get_blog_rss))
        .route("/blog/{username}/atom.xml", get(http_get_blog_atom))
        .route("/annonces/rss.xml", get(http_get_announcements_rss))
        .route("/annonces/atom.xml", get(http_get_announcements_atom))
        .route("/ressources/rss.xml", get(http_get_resources_rss))
        .route("/ressources/atom.xml", get(http_get_resources_atom))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Atom,
}

impl Format {
    fn file(self) -> &'static str {
        match self {
            Format::Rss => "rss.xml",
            Format::Atom => "atom.xml",
        }
    }
    fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The `<head>` of pages

/// One `<link rel="alternate">` to a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedLink {
    pub media_type: &'static str,
    pub title: String,
    pub href: String,
}

/// The RSS and Atom links of the feed at `{base}/rss.xml` and `{base}/atom.xml` (`query`, when
/// not empty, is appended to both: the announcement filters).
pub fn feed_links(title: &str, base: &str, query: &str) -> Vec<FeedLink> {
    let q = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    vec![
        FeedLink {
            media_type: RSS_TYPE,
            title: format!("{title} (RSS)"),
            href: format!("{base}/rss.xml{q}"),
        },
        FeedLink {
            media_type: ATOM_TYPE,
            title: format!("{title} (Atom)"),
            href: format!("{base}/atom.xml{q}"),
        },
    ]
}

#[derive(Debug, Clone, PartialEq)]
pub struct OgImage {
    pub url: String,
    pub alt: String,
}

/// What `templates/partials/open_graph.html` writes into `<head>`.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadMeta {
    /// `article`, `website` or `profile`.
    pub og_type: &'static str,
    pub title: String,
    /// Plain text, already cut to a preview's length.
    pub description: String,
    /// Absolute URL of the page; also `og:url`.
    pub canonical: String,
    pub site_name: String,
    /// `fr_FR` or `en_GB`.
    pub locale: &'static str,
    pub image: Option<OgImage>,
    /// RFC 3339, for `article:published_time`.
    pub published_time: Option<String>,
    /// Absolute URL of the author's profile, for `article:author`.
    pub author: Option<String>,
    /// The ActivityPub id, offered as `application/activity+json` to fediverse software.
    pub activity_json: Option<String>,
    pub feeds: Vec<FeedLink>,
}

impl HeadMeta {
    /// The meta of a page at `path` (site-relative) with `title`.
    pub fn page(
        ctx: &AppContext,
        og_type: &'static str,
        title: &str,
        description: &str,
        path: &str,
    ) -> Self {
        HeadMeta {
            og_type,
            title: title.to_string(),
            description: excerpt(description, DESCRIPTION_CHARS),
            canonical: ctx.urls.absolute(path),
            site_name: ctx.config.instance.name.clone(),
            locale: match Lang::parse(&ctx.config.instance.language) {
                Some(Lang::En) => "en_GB",
                _ => "fr_FR",
            },
            image: None,
            published_time: None,
            author: None,
            activity_json: None,
            feeds: Vec::new(),
        }
    }

    pub fn with_feeds(mut self, feeds: Vec<FeedLink>) -> Self {
        self.feeds = feeds;
        self
    }

    pub fn with_activity_json(mut self, ap_id: &str) -> Self {
        self.activity_json = Some(ap_id.to_string());
        self
    }

    /// The meta of a post or announcement page: an article, with its cover image if any.
    pub fn of_post(ctx: &AppContext, post: &DbPost, author: &DbActor) -> Self {
        let path = url::Url::parse(&page_url(post))
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let mut meta = HeadMeta::page(ctx, "article", &post.title, &summary_text(post), &path);
        // A remote post kept here: search engines are sent to the original.
        meta.canonical = if post.local {
            page_url(post)
        } else {
            post.url.clone().unwrap_or_else(|| post.ap_id.clone())
        };
        meta.image = match (&post.cover_image_path, &post.cover_image_alt) {
            (Some(path), Some(alt)) => covers::cover_url(ctx, path).map(|url| OgImage {
                url,
                alt: alt.clone(),
            }),
            _ => None,
        };
        meta.published_time = post.published_at.map(feeds::rfc3339);
        meta.author = Some(author.ap_id.clone());
        meta.activity_json = Some(post.ap_id.clone());
        meta
    }
}

// ---------------------------------------------------------------------------------------------
// Items

fn display_name(actor: &DbActor) -> &str {
    if actor.name.trim().is_empty() {
        &actor.username
    } else {
        &actor.name
    }
}

/// Size of a stored cover, for the RSS enclosure (0 when the file cannot be read).
async fn cover_length(ctx: &AppContext, path: &str) -> u64 {
    match covers::cover_file_name(path) {
        Some(name) => tokio::fs::metadata(covers::cover_dir(ctx).join(name))
            .await
            .map(|m| m.len())
            .unwrap_or(0),
        None => 0,
    }
}

/// A post or announcement as a feed entry: announcements open with their facts (kind,
/// deadline, commune) as they do on the fediverse.
pub async fn feed_item(ctx: &AppContext, lang: Lang, post: &DbPost, author: &DbActor) -> FeedItem {
    let published = post.published_at.unwrap_or(post.created_at);
    let kind = post.kind.as_deref().and_then(AnnouncementKind::parse);
    let mut categories = Vec::with_capacity(post.hashtags.len() + 1);
    if let Some(kind) = kind {
        categories.push(FeedCategory {
            term: kind.as_str().to_string(),
            label: lang.t(kind.label_key()).to_string(),
        });
    }
    categories.extend(post.hashtags.iter().map(|t| FeedCategory {
        term: t.clone(),
        label: format!("#{t}"),
    }));
    let content_html = if post.is_announcement() {
        format!(
            "<p>{}</p>{}",
            feeds::html_escape(&facts_line(lang, post)),
            post.body_html
        )
    } else {
        post.body_html.clone()
    };
    let enclosure = match &post.cover_image_path {
        Some(path) => match covers::cover_url(ctx, path) {
            Some(url) => Some(Enclosure {
                url,
                media_type: covers::cover_media_type(path).to_string(),
                length: cover_length(ctx, path).await,
            }),
            None => None,
        },
        None => None,
    };
    FeedItem {
        id: post.ap_id.clone(),
        url: page_url(post),
        title: post.title.clone(),
        author_name: display_name(author).to_string(),
        author_url: author.ap_id.clone(),
        published,
        updated: post.updated_at.max(published),
        categories,
        summary: summary_text(post),
        content_html,
        enclosure,
    }
}

async fn feed(
    ctx: &AppContext,
    lang: Lang,
    title: String,
    description: String,
    page_path: &str,
    self_path: &str,
    rows: &[(DbPost, DbActor)],
) -> Feed {
    let mut items = Vec::with_capacity(rows.len());
    for (post, author) in rows {
        items.push(feed_item(ctx, lang, post, author).await);
    }
    let updated = items.iter().map(|i| i.updated).max().unwrap_or_else(epoch);
    Feed {
        title,
        description,
        page_url: ctx.urls.absolute(page_path),
        self_url: ctx.urls.absolute(self_path),
        language: lang.code(),
        updated,
        items,
    }
}

fn epoch() -> DateTime<Utc> {
    Utc.timestamp_opt(0, 0).single().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Answers

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for GET).
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

fn answer(format: Format, feed: &Feed, headers: &HeaderMap) -> AppResult<Response> {
    let body = match format {
        Format::Rss => feeds::rss(feed),
        Format::Atom => feeds::atom(feed),
    };
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(body.as_bytes())[..16])
    );
    let header_value =
        |v: &str| HeaderValue::from_str(v).map_err(|e| AppError::internal(format!("header: {e}")));
    let mut response = if etag_matches(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        r
    };
    let out = response.headers_mut();
    out.insert(header::ETAG, header_value(&etag)?);
    out.insert(
        header::LAST_MODIFIED,
        header_value(&httpdate::fmt_http_date(feed.updated.into()))?,
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Actualités

async fn news(data: &Data, format: Format, headers: &HeaderMap) -> AppResult<Response> {
    let ctx = data.app_data();
    let lang = ctx.default_lang;
    let rows = {
        let mut conn = ctx.conn().await?;
        db::posts::list_public_with_authors(&mut conn, Listing::News, 0, FEED_ITEMS).await?
    };
    let feed = feed(
        ctx,
        lang,
        format!("{} · {}", lang.t("news.title"), ctx.config.instance.name),
        lang.t("news.description").to_string(),
        "/actualites",
        &format!("/actualites/{}", format.file()),
        &rows,
    )
    .await;
    answer(format, &feed, headers)
}

async fn http_get_news_rss(data: Data, headers: HeaderMap) -> AppResult<Response> {
    news(&data, Format::Rss, &headers).await
}

async fn http_get_news_atom(data: Data, headers: HeaderMap) -> AppResult<Response> {
    news(&data, Format::Atom, &headers).await
}

// ---------------------------------------------------------------------------------------------
// Blogs

/// The local actor whose blog `/blog/{username}` is: a member or the département page.
pub async fn blog_actor(ctx: &AppContext, username: &str) -> AppResult<DbActor> {
    let mut conn = ctx.conn().await?;
    db::actors::local_by_username(&mut conn, &username.to_lowercase())
        .await?
        // The instance actor and the announcement channel (a Service) have no blog.
        .filter(|a| !matches!(a.kind.as_str(), "Application" | "Service") && a.deleted_at.is_none())
        .ok_or_else(AppError::not_found)
}

/// The i18n key of the words before a blog's name: the département page says it is the page.
pub fn blog_heading_key(ctx: &AppContext, actor: &DbActor) -> &'static str {
    if actor.username == ctx.config.instance.page_actor {
        "posts.page_blog_of"
    } else {
        "posts.blog_of"
    }
}

/// The title of a blog and of its feeds.
pub fn blog_title(ctx: &AppContext, lang: Lang, actor: &DbActor) -> String {
    format!(
        "{} {}",
        lang.t(blog_heading_key(ctx, actor)),
        display_name(actor)
    )
}

async fn blog(
    data: &Data,
    format: Format,
    username: &str,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let lang = ctx.default_lang;
    let actor = blog_actor(ctx, username).await?;
    let rows = {
        let mut conn = ctx.conn().await?;
        db::posts::list_public_with_authors(&mut conn, Listing::Actor(actor.id), 0, FEED_ITEMS)
            .await?
    };
    let base = format!("/blog/{}", actor.username);
    let feed = feed(
        ctx,
        lang,
        blog_title(ctx, lang, &actor),
        format!(
            "{} {}",
            lang.t("feeds.blog_description"),
            display_name(&actor)
        ),
        &base,
        &format!("{base}/{}", format.file()),
        &rows,
    )
    .await;
    answer(format, &feed, headers)
}

async fn http_get_blog_rss(
    data: Data,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    blog(&data, Format::Rss, &username, &headers).await
}

async fn http_get_blog_atom(
    data: Data,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    blog(&data, Format::Atom, &username, &headers).await
}

// ---------------------------------------------------------------------------------------------
// Announcements

/// The query string of the list's filters, as the list page and its feeds share it.
pub fn announcement_query(filter: &db::posts::AnnouncementFilter) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(kind) = &filter.kind {
        q.append_pair("kind", kind);
    }
    if let Some(discipline) = &filter.discipline {
        q.append_pair("discipline", discipline);
    }
    if let Some(commune) = &filter.commune {
        q.append_pair("commune", commune);
    }
    match filter.open {
        Some(true) => {
            q.append_pair("open", "true");
        }
        Some(false) => {
            q.append_pair("open", "false");
        }
        None => {}
    }
    q.finish()
}

/// The title of the announcement list (and of its feeds): with the kind when filtered on one.
pub fn announcements_title(lang: Lang, kind: Option<&str>) -> String {
    match kind.and_then(AnnouncementKind::parse) {
        Some(kind) => format!(
            "{} : {}",
            lang.t("announcements.title"),
            lang.t(kind.label_key())
        ),
        None => lang.t("announcements.title").to_string(),
    }
}

async fn announcements(
    data: &Data,
    format: Format,
    query: &ListQuery,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let lang = ctx.default_lang;
    // A feed URL is typed once into a reader: a wrong kind must say so, not fall back to all.
    let departement = &ctx.config.instance.departement;
    let filter = query.filter(departement).map_err(|e| {
        if e.kind != ErrorKind::Validation {
            return e;
        }
        if !e.fields.iter().any(|f| f.field == "kind") {
            // Only the commune is wrong.
            let wanted = query.commune.as_deref().unwrap_or_default().trim();
            let key = e
                .fields
                .first()
                .map_or("field.commune.unknown", |f| f.message_key);
            let mut bad =
                AppError::bad_request(format!("commune: {wanted:?} names no single commune"))
                    .with_message(key);
            bad.fields = e.fields;
            return bad;
        }
        let wanted = query.kind.as_deref().unwrap_or_default().trim();
        let known: Vec<&str> = AnnouncementKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut bad = AppError::bad_request(format!(
            "kind: unknown announcement kind {wanted:?}; expected one of {}",
            known.join(", ")
        ))
        .with_message("feeds.unknown_kind");
        bad.fields = e.fields;
        bad
    })?;
    let rows = {
        let mut conn = ctx.conn().await?;
        let (posts, _) =
            db::posts::list_announcements(&mut conn, &filter, today(), 0, FEED_ITEMS).await?;
        let authors = db::posts::authors_of(&mut conn, &posts).await?;
        posts
            .into_iter()
            .filter_map(|p| {
                let author = authors.get(&p.author_actor_id).cloned();
                author.map(|a| (p, a))
            })
            .collect::<Vec<_>>()
    };
    let query_string = announcement_query(&filter);
    let with_query = |path: &str| {
        if query_string.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query_string}")
        }
    };
    let feed = feed(
        ctx,
        lang,
        format!(
            "{} · {}",
            announcements_title(lang, filter.kind.as_deref()),
            ctx.config.instance.name
        ),
        lang.t("feeds.announcements_description").to_string(),
        &with_query("/annonces"),
        &with_query(&format!("/annonces/{}", format.file())),
        &rows,
    )
    .await;
    answer(format, &feed, headers)
}

async fn http_get_announcements_rss(
    data: Data,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    announcements(&data, Format::Rss, &query, &headers).await
}

async fn http_get_announcements_atom(
    data: Data,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    announcements(&data, Format::Atom, &query, &headers).await
}

// ---------------------------------------------------------------------------------------------
// Ressources

/// The public resources, newest first; the latest file of each as its enclosure.
async fn resources(data: &Data, format: Format, headers: &HeaderMap) -> AppResult<Response> {
    use crate::service::resources::{self as library, Theme, download_path, page_path};
    let ctx = data.app_data();
    let lang = ctx.default_lang;
    let rows = library::latest_public(ctx, FEED_ITEMS).await?;
    let items: Vec<FeedItem> = rows
        .iter()
        .map(|(r, author, latest)| {
            let mut categories: Vec<FeedCategory> = Theme::parse(&r.theme)
                .map(|t| FeedCategory {
                    term: t.as_str().to_string(),
                    label: lang.t(t.label_key()).to_string(),
                })
                .into_iter()
                .collect();
            categories.extend(r.disciplines.iter().map(|d| FeedCategory {
                term: d.clone(),
                label: d.clone(),
            }));
            FeedItem {
                id: r.ap_id.clone(),
                url: ctx.urls.absolute(&page_path(r.id)),
                title: r.title.clone(),
                author_name: display_name(author).to_string(),
                author_url: author.ap_id.clone(),
                published: r.created_at,
                updated: r.updated_at.max(r.created_at),
                categories,
                summary: excerpt(&crate::sanitize::plain_text(&r.body_html), 400),
                content_html: r.body_html.clone(),
                enclosure: latest.as_ref().map(|v| Enclosure {
                    url: ctx.urls.absolute(&download_path(r.id, v.version)),
                    media_type: v.content_type.clone(),
                    length: u64::try_from(v.size_bytes).unwrap_or(0),
                }),
            }
        })
        .collect();
    let updated = items.iter().map(|i| i.updated).max().unwrap_or_else(epoch);
    let feed = Feed {
        title: format!(
            "{} · {}",
            lang.t("resources.title"),
            ctx.config.instance.name
        ),
        description: lang.t("resources.intro").to_string(),
        page_url: ctx.urls.absolute("/ressources"),
        self_url: ctx.urls.absolute(&format!("/ressources/{}", format.file())),
        language: lang.code(),
        updated,
        items,
    };
    answer(format, &feed, headers)
}

async fn http_get_resources_rss(data: Data, headers: HeaderMap) -> AppResult<Response> {
    resources(&data, Format::Rss, &headers).await
}

async fn http_get_resources_atom(data: Data, headers: HeaderMap) -> AppResult<Response> {
    resources(&data, Format::Atom, &headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_inm(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(value).expect("header"),
        );
        h
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists() {
        assert!(etag_matches(&with_inm("\"abc\""), "\"abc\""));
        assert!(etag_matches(&with_inm("W/\"abc\""), "\"abc\""));
        assert!(etag_matches(&with_inm("\"x\", \"abc\""), "\"abc\""));
        assert!(etag_matches(&with_inm("*"), "\"abc\""));
        assert!(!etag_matches(&with_inm("\"abd\""), "\"abc\""));
        assert!(!etag_matches(&HeaderMap::new(), "\"abc\""));
    }

    #[test]
    fn feed_links_come_in_pairs_with_the_filters() {
        let links = feed_links("Annonces", "/annonces", "kind=emploi");
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].media_type, RSS_TYPE);
        assert_eq!(links[0].href, "/annonces/rss.xml?kind=emploi");
        assert_eq!(links[1].media_type, ATOM_TYPE);
        assert_eq!(links[1].href, "/annonces/atom.xml?kind=emploi");
        assert_eq!(
            feed_links("B", "/blog/zoe", "")[0].href,
            "/blog/zoe/rss.xml"
        );
    }

    #[test]
    fn the_filters_round_trip_into_a_query_string() {
        let filter = db::posts::AnnouncementFilter {
            kind: Some("emploi".into()),
            discipline: None,
            commune: Some("Saint-Côme d'Olt".into()),
            open: Some(true),
        };
        assert_eq!(
            announcement_query(&filter),
            "kind=emploi&commune=Saint-C%C3%B4me+d%27Olt&open=true"
        );
        assert_eq!(announcement_query(&Default::default()), "");
    }
}
