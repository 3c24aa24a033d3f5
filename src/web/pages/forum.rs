//! The forum's pages: the categories (`/forum`), a category's threads (`/forum/{slug}`,
//! content-negotiated: ActivityPub clients get its `Group`), starting a thread
//! (`/forum/{slug}/nouveau-sujet`), following a category, and the search
//! (`/forum/recherche`). A thread's own page is in `forum_thread`, staff's management of
//! categories in `forum_admin`. The rules live in `service::forum`, shared with
//! `/api/v1/forum`.

use crate::{
    context::AppContext,
    error::AppResult,
    federation::{
        Data,
        negotiation::{Face, face, vary_accept},
    },
    i18n::Lang,
    service::forum::{
        categories::{self, CategorySummary},
        search::{self, SearchHit},
        subscriptions::{self, Target},
        threads::{self, ThreadInput, ThreadRow},
    },
    web::{
        auth::{CurrentUser, MaybeUser},
        csrf::CsrfForm,
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{Path, Query},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route("/forum", get(http_get_forum))
        .route("/forum/recherche", get(http_get_search))
        .route("/forum/{slug}", get(http_get_category))
        .route(
            "/forum/{slug}/nouveau-sujet",
            get(http_get_new_thread).post(http_post_new_thread),
        )
        .route("/forum/{slug}/suivre", post(http_post_follow_category))
}

/// "05/12/2026 à 14:30" (Paris time).
pub fn date(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    crate::web::pages::workspace_meetings::when(lang, at)
}

pub use crate::service::forum::author_label as actor_label;

/// Where an actor's name links to: our profile page, or their own page elsewhere.
pub fn actor_link(actor: &crate::db::actors::DbActor) -> String {
    actor.url.clone().unwrap_or_else(|| actor.ap_id.clone())
}

// ---------------------------------------------------------------------------------------------
// /forum

struct CategoryRow {
    url: String,
    name: String,
    description_html: String,
    threads: i64,
    last_activity: Option<String>,
    last_activity_iso: Option<String>,
}

#[derive(Template)]
#[template(path = "forum/index.html")]
struct IndexPage<'a> {
    lang: Lang,
    csrf: &'a str,
    categories: Vec<CategoryRow>,
    is_staff: bool,
}

async fn http_get_forum(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let list = categories::list(&mut conn).await?;
    render(&IndexPage {
        lang,
        csrf: user.as_ref().map(|u| u.csrf_token.as_str()).unwrap_or(""),
        categories: list
            .into_iter()
            .map(
                |CategorySummary {
                     category,
                     threads,
                     last_activity_at,
                 }| CategoryRow {
                    url: format!("/forum/{}", category.slug),
                    name: category.name,
                    description_html: category.description_html,
                    threads,
                    last_activity: last_activity_at.map(|at| date(lang, at)),
                    last_activity_iso: last_activity_at.map(|at| at.to_rfc3339()),
                },
            )
            .collect(),
        is_staff: user
            .as_ref()
            .is_some_and(|u| crate::service::accounts::is_staff(&u.account)),
    })
}

// ---------------------------------------------------------------------------------------------
// /forum/{slug}

pub struct ThreadLine {
    pub url: String,
    pub title: String,
    pub author: String,
    pub replies: i32,
    pub last_activity: String,
    pub last_activity_iso: String,
    pub pinned: bool,
    pub locked: bool,
    pub unread: bool,
}

fn thread_line(lang: Lang, row: ThreadRow) -> ThreadLine {
    ThreadLine {
        url: local_path(&crate::service::publishing::page_url(&row.post)),
        title: row.post.title.clone(),
        author: actor_label(&row.author),
        replies: row.thread.reply_count,
        last_activity: date(lang, row.thread.last_activity_at),
        last_activity_iso: row.thread.last_activity_at.to_rfc3339(),
        pinned: row.thread.is_pinned(),
        locked: row.thread.is_locked(),
        unread: row.unread,
    }
}

struct Moderator {
    name: String,
    url: String,
}

#[derive(Template)]
#[template(path = "forum/category.html")]
struct CategoryPage<'a> {
    lang: Lang,
    csrf: &'a str,
    slug: String,
    name: String,
    description_html: String,
    handle: String,
    threads: Vec<ThreadLine>,
    page: i64,
    pages: i64,
    older: Option<String>,
    newer: Option<String>,
    logged_in: bool,
    following: bool,
    is_staff: bool,
    moderators: Vec<Moderator>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    page: Option<String>,
}

impl PageQuery {
    fn page(&self) -> i64 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse::<i64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }
}

async fn http_get_category(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if face(&headers, Face::Page) == Face::Document {
        return Ok(vary_accept(
            crate::federation::forum::category_document(&data, &slug).await?,
        ));
    }
    let ctx = data.app_data();
    let viewer = user.as_ref().map(|u| &u.account);
    let mut conn = ctx.conn().await?;
    let (category, _) = categories::by_slug(&mut conn, &slug).await?;
    let (rows, pages) = threads::list(&mut conn, &category, viewer, query.page()).await?;
    let page = query.page().clamp(1, pages);
    let moderators = categories::moderators(&mut conn, &category)
        .await?
        .iter()
        .map(|a| Moderator {
            name: actor_label(a),
            url: actor_link(a),
        })
        .collect();
    drop(conn);
    let following = match viewer {
        Some(v) => {
            subscriptions::is_following(ctx, v, &Target::Category(category.slug.clone())).await?
        }
        None => false,
    };
    let base = format!("/forum/{}", category.slug);
    let page_link = |n: i64| {
        if n == 1 {
            base.clone()
        } else {
            format!("{base}?page={n}")
        }
    };
    let page_view = CategoryPage {
        lang,
        csrf: user.as_ref().map(|u| u.csrf_token.as_str()).unwrap_or(""),
        handle: format!("@{}@{}", category.slug, ctx.config.domain()),
        slug: category.slug.clone(),
        name: category.name.clone(),
        description_html: category.description_html.clone(),
        threads: rows.into_iter().map(|r| thread_line(lang, r)).collect(),
        page,
        pages,
        older: (page > 1).then(|| page_link(page - 1)),
        newer: (page < pages).then(|| page_link(page + 1)),
        logged_in: user.is_some(),
        following,
        is_staff: viewer.is_some_and(crate::service::accounts::is_staff),
        moderators,
    };
    Ok(vary_accept(render(&page_view)?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FollowForm {
    /// "on" follows, anything else stops following.
    follow: String,
    /// Where to come back to (a path of ours).
    back: String,
}

/// A path of ours to come back to, or `fallback`.
pub fn back_path(back: &str, fallback: &str) -> String {
    if back.starts_with('/') && !back.starts_with("//") {
        back.to_string()
    } else {
        fallback.to_string()
    }
}

async fn http_post_follow_category(
    data: Data,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<FollowForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let on = form.follow == "on";
    subscriptions::set(ctx, &user.account, &Target::Category(slug.clone()), on).await?;
    Ok(redirect_with_flash(
        ctx,
        &back_path(&form.back, &format!("/forum/{slug}")),
        if on {
            "flash.forum.following"
        } else {
            "flash.forum.not_following"
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// New thread

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ThreadForm {
    pub title: String,
    pub body: String,
}

impl ThreadForm {
    pub fn input(&self) -> ThreadInput {
        ThreadInput {
            title: self.title.clone(),
            body: self.body.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "forum/thread_form.html")]
pub struct ThreadFormPage<'a> {
    pub lang: Lang,
    pub csrf: &'a str,
    pub heading: String,
    pub action: String,
    pub back: String,
    pub back_label: String,
    pub form: ThreadForm,
    pub errors: FormState,
    pub submit: String,
}

async fn new_thread_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    slug: &str,
    form: ThreadForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let mut conn = ctx.conn().await?;
    let (category, _) = categories::by_slug(&mut conn, slug).await?;
    render_status(
        status,
        &ThreadFormPage {
            lang,
            csrf: &user.csrf_token,
            heading: format!("{} · {}", lang.t("forum.new_thread"), category.name),
            action: format!("/forum/{}/nouveau-sujet", category.slug),
            back: format!("/forum/{}", category.slug),
            back_label: category.name.clone(),
            form,
            errors,
            submit: lang.t("forum.new_thread_submit").to_string(),
        },
    )
}

async fn http_get_new_thread(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    new_thread_page(
        data.app_data(),
        lang,
        &user,
        &slug,
        ThreadForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_new_thread(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ThreadForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match threads::start(&data, &user.account, &slug, form.input()).await {
        Ok(post) => Ok(redirect_with_flash(
            ctx,
            &local_path(&crate::service::publishing::page_url(&post)),
            "flash.forum.thread_started",
        )),
        Err(e) if !e.fields.is_empty() => {
            let status = e.status();
            new_thread_page(
                ctx,
                lang,
                &user,
                &slug,
                form,
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The path of a page URL of ours (absolute for local threads, already a path for remote
/// ones).
pub fn local_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.path().to_string(),
        Err(_) => url.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Search

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchQuery {
    q: String,
    categorie: String,
    page: Option<String>,
}

struct HitRow {
    url: String,
    title: String,
    excerpt: String,
    category: String,
    author: String,
    is_reply: bool,
    date: String,
    iso: String,
}

struct CategoryChoice {
    slug: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "forum/search.html")]
struct SearchPage {
    lang: Lang,
    q: String,
    categories: Vec<CategoryChoice>,
    hits: Vec<HitRow>,
    searched: bool,
    total: i64,
    older: Option<String>,
    newer: Option<String>,
    errors: FormState,
}

async fn http_get_search(
    data: Data,
    PageLang(lang): PageLang,
    Query(query): Query<SearchQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let mut conn = ctx.conn().await?;
    let all = crate::db::forum::categories(&mut conn).await?;
    drop(conn);
    let category = query.categorie.trim();
    let mut errors = FormState::new(lang);
    let mut hits = Vec::new();
    let mut total = 0;
    let searched = !query.q.trim().is_empty();
    let mut status = StatusCode::OK;
    if !category.is_empty() && !all.iter().any(|c| c.slug == category) {
        errors.add("categorie", "forum.field.unknown_category");
        status = StatusCode::BAD_REQUEST;
    } else if searched {
        let found = search::search(
            ctx,
            &search::Query {
                text: query.q.clone(),
                category: Some(category.to_string()).filter(|c| !c.is_empty()),
                page,
            },
        )
        .await?;
        total = found.total;
        hits = found
            .hits
            .into_iter()
            .map(|h: SearchHit| HitRow {
                url: h.url,
                title: h.title,
                excerpt: h.excerpt,
                category: h.category_name,
                author: h.author,
                is_reply: h.is_reply,
                date: date(lang, h.published_at),
                iso: h.published_at.to_rfc3339(),
            })
            .collect();
    }
    let link = |n: i64| {
        format!(
            "/forum/recherche?q={}&categorie={}&page={n}",
            url::form_urlencoded::byte_serialize(query.q.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(category.as_bytes()).collect::<String>()
        )
    };
    let pages = (total + search::PER_PAGE - 1) / search::PER_PAGE;
    render_status(
        status,
        &SearchPage {
            lang,
            q: query.q.clone(),
            categories: all
                .into_iter()
                .map(|c| CategoryChoice {
                    selected: c.slug == category,
                    slug: c.slug,
                    name: c.name,
                })
                .collect(),
            hits,
            searched,
            total,
            older: (page > 1).then(|| link(page - 1)),
            newer: (page < pages).then(|| link(page + 1)),
            errors,
        },
    )
}
