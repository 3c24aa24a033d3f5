//! Blog posts and announcements: the forms to write, edit, publish and delete them, their
//! public pages (content-negotiated: `/posts/{id}` and `/announcements/{id}` are also their
//! ActivityPub ids), a member's blog and the announcement list with its filters. The rules
//! live in `service::publishing`, shared with `/api/v1/posts` and `/api/v1/announcements`.

use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        posts::{AnnouncementFilter, DbPost},
    },
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        negotiation::{Face, face, vary_accept},
        objects::article::{summary_text, tombstone},
    },
    i18n::Lang,
    sanitize::SafeHtml,
    service::{
        accounts::is_staff,
        covers,
        publishing::{
            self, AnnouncementKind, Category, CoverChange, Lookup, PostInput, PostPatch, can_edit,
            page_url, today,
        },
    },
    web::{
        auth::{CurrentUser, MaybeUser},
        csrf::{self, CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::set_flash, render, render_status},
    },
};
use activitypub_federation::{axum::json::FederationJson, protocol::context::WithContext};
use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Path, Query, Request},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

mod form;
mod lists;
mod show;

use form::*;
pub use lists::{ListQuery, Pagination, page_number, pagination};
use lists::{http_get_announcements, http_get_blog};
use show::*;

/// Items per page of the lists.
pub const PAGE_SIZE: i64 = 20;

/// Room for the text fields of the post form: a body of 100 000 accented characters is
/// 600 000 bytes urlencoded, so a body somewhat over the limit still gets its field error.
const FORM_TEXT_BYTES: usize = 2 * 1024 * 1024;
/// Body limit of the post forms: the largest cover image any configuration allows plus the
/// text fields. Over it: 413; a cover over the configured limit but under this is a field
/// error.
pub const FORM_BODY_LIMIT: usize = crate::config::MAX_COVER_KB as usize * 1024 + FORM_TEXT_BYTES;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/articles/nouveau",
            get(http_get_new::<Posts>)
                .post(http_post_new::<Posts>)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/annonces/nouvelle",
            get(http_get_new::<Announcements>)
                .post(http_post_new::<Announcements>)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route("/annonces", get(http_get_announcements))
        .route("/blog/{username}", get(http_get_blog))
        .route("/posts/{id}", get(http_get_post))
        .route("/posts/{id}/{slug}", get(http_get_post_slug))
        .route(
            "/posts/{id}/modifier",
            get(http_get_edit::<Posts>)
                .post(http_post_edit::<Posts>)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route("/posts/{id}/supprimer", post(http_post_delete::<Posts>))
        .route("/posts/{id}/publier", post(http_post_publish::<Posts>))
        .route("/announcements/{id}", get(http_get_announcement))
        .route(
            "/announcements/{id}/{slug}",
            get(http_get_announcement_slug),
        )
        .route(
            "/announcements/{id}/modifier",
            get(http_get_edit::<Announcements>)
                .post(http_post_edit::<Announcements>)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/announcements/{id}/supprimer",
            post(http_post_delete::<Announcements>),
        )
        .route(
            "/announcements/{id}/publier",
            post(http_post_publish::<Announcements>),
        )
}

fn base_path(category: Category) -> &'static str {
    match category {
        Category::Post => "/posts",
        Category::Announcement => "/announcements",
    }
}

fn date_fr(lang: Lang, d: chrono::NaiveDate) -> String {
    match lang {
        Lang::Fr => d.format("%d/%m/%Y").to_string(),
        _ => d.format("%Y-%m-%d").to_string(),
    }
}

/// What the templates show of a post.
pub struct PostView {
    pub url: String,
    /// Its ActivityPub id (what a report names).
    pub ap_id: String,
    pub base: String,
    pub title: String,
    pub summary: String,
    pub body: SafeHtml,
    pub author_name: String,
    pub author_url: String,
    pub published: String,
    pub published_iso: String,
    pub updated: Option<String>,
    /// The last edit, for `<time datetime>` (empty when never edited).
    pub updated_iso: String,
    pub hashtags: Vec<String>,
    pub kind_label: Option<&'static str>,
    pub deadline: Option<String>,
    /// The deadline as `YYYY-MM-DD`, for `<time datetime>` (empty when none).
    pub deadline_iso: String,
    pub closed: bool,
    pub disciplines: Vec<String>,
    pub commune: String,
    pub draft: bool,
    pub can_edit: bool,
    pub is_announcement: bool,
    /// The cover image (site-relative URL) and its alt text.
    pub cover_url: Option<String>,
    pub cover_alt: String,
    /// A remote Note's content warning (set by `comments::remote_view`): the body is folded.
    pub content_warning: Option<String>,
    /// Set when a moderator hid it (only its author and the moderators see it then): the
    /// link to the decision ("" when none is recorded).
    pub moderation_notice: Option<String>,
}

/// The notice a hidden post carries for those who still see it: the link to the latest
/// decision that hid it.
pub(crate) async fn moderation_notice(
    ctx: &crate::context::AppContext,
    post: &DbPost,
) -> AppResult<Option<String>> {
    if post.hidden_at.is_none() {
        return Ok(None);
    }
    let mut conn = ctx.conn().await?;
    let action = db::moderation_actions::latest_hide(&mut conn, Some(post.id), None).await?;
    Ok(Some(
        action
            .map(|a| crate::urls::decision_path(a.id))
            .unwrap_or_default(),
    ))
}

fn view(lang: Lang, post: &DbPost, author: &DbActor, viewer: Option<&DbAccount>) -> PostView {
    let published_at = post.published_at.unwrap_or(post.created_at);
    PostView {
        url: page_url(post),
        ap_id: post.ap_id.clone(),
        base: format!("{}/{}", base_path(Category::of(post)), post.id),
        title: post.title.clone(),
        summary: summary_text(post),
        body: SafeHtml::from_trusted_storage(post.body_html.clone()),
        author_name: if author.name.trim().is_empty() {
            author.username.clone()
        } else {
            author.name.clone()
        },
        author_url: format!("/users/{}", author.username),
        published: date_fr(lang, published_at.date_naive()),
        published_iso: published_at.to_rfc3339(),
        updated: (post.published_at.is_some() && post.updated_at > published_at)
            .then(|| date_fr(lang, post.updated_at.date_naive())),
        updated_iso: post.updated_at.to_rfc3339(),
        hashtags: post.hashtags.clone(),
        kind_label: post
            .kind
            .as_deref()
            .and_then(AnnouncementKind::parse)
            .map(|k| lang.t(k.label_key())),
        deadline: post.deadline.map(|d| date_fr(lang, d)),
        deadline_iso: post.deadline.map(|d| d.to_string()).unwrap_or_default(),
        closed: post.is_closed(today()),
        disciplines: post.disciplines.clone(),
        commune: post.commune.clone(),
        draft: post.draft,
        can_edit: viewer.is_some_and(|v| can_edit(v, post)),
        is_announcement: post.is_announcement(),
        cover_url: post
            .cover_image_path
            .as_deref()
            .and_then(covers::cover_path_url),
        cover_alt: post.cover_image_alt.clone().unwrap_or_default(),
        content_warning: None,
        moderation_notice: None,
    }
}
