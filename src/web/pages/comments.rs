//! Comments in the web UI: the threaded section under a post or announcement (built by
//! [`section`], shown by `templates/posts/_comments.html`), the reply form, its handler
//! (`POST /commentaires`), editing (`/commentaires/{id}/modifier`), deletion, and `/comments/{id}` — a comment's ActivityPub id, served
//! as a `Note` to ActivityPub clients (410 with a Tombstone once deleted) and as a redirect to
//! the comment under its post for browsers. The rules live in `service::comments`.

use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, comments::CommentAuthor, posts::DbPost},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        negotiation::{Face, face, vary_accept},
        objects::comment::{note, tombstone},
    },
    i18n::Lang,
    sanitize::SafeHtml,
    service::{
        comments::{self, Parent, ThreadItem, can_delete, can_edit},
        publishing::page_url,
        reactions,
    },
    urls::host_port,
    web::{
        auth::CurrentUser,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render_status},
    },
};
use activitypub_federation::{axum::json::FederationJson, protocol::context::WithContext};
use askama::Template;
use axum::{
    Router,
    extract::{FromRequestParts, Path, Query},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

pub fn routes() -> Router {
    Router::new()
        .route("/comments/{id}", get(http_get_comment))
        .route("/commentaires", post(http_post_comment))
        .route("/commentaires/repondre", get(http_get_reply))
        .route(
            "/commentaires/{id}/supprimer",
            post(http_post_delete_comment),
        )
        .route(
            "/commentaires/{id}/modifier",
            get(http_get_edit_comment).post(http_post_edit_comment),
        )
}

fn date(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    match lang {
        Lang::Fr => at.format("%d/%m/%Y %H:%M").to_string(),
        _ => at.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// How an author is shown: name, `@user@host` handle, profile link and avatar.
pub struct AuthorView {
    pub name: String,
    pub handle: String,
    pub url: String,
    /// The avatar: a path for ours (under `/media`), the cached `icon` URL for remote actors.
    pub avatar: Option<String>,
}

/// Where an avatar is loaded from: our own files by path, remote ones only over http(s).
fn avatar_src(author: &CommentAuthor) -> Option<String> {
    let url = url::Url::parse(author.icon_url.as_deref()?).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(if author.local {
        url.path().to_string()
    } else {
        url.to_string()
    })
}

pub fn author_view(author: &CommentAuthor) -> AuthorView {
    let name = if author.name.trim().is_empty() {
        author.username.clone()
    } else {
        author.name.clone()
    };
    let url = if author.local {
        format!("/users/{}", author.username)
    } else {
        author.url.clone().unwrap_or_else(|| author.ap_id.clone())
    };
    AuthorView {
        name,
        handle: format!("@{}@{}", author.username, author.domain),
        url,
        avatar: avatar_src(author),
    }
}

/// One comment as the thread shows it.
pub struct CommentRow {
    pub id: i64,
    pub author: AuthorView,
    pub published: String,
    pub published_iso: String,
    pub edited: bool,
    pub body: SafeHtml,
    /// A remote Note's content warning: the body is shown folded behind it.
    pub content_warning: Option<String>,
    pub deleted: bool,
    /// Replies follow, one level deeper: the item stays open around a nested list.
    pub has_replies: bool,
    /// Nested lists closed after this item (`</ol></li>` each), when the next item is
    /// shallower.
    pub closes: usize,
    pub reply_url: String,
    pub can_delete: bool,
    /// The reader wrote it: "Modifier" leads to its form.
    pub can_edit: bool,
    /// The remote page of a remote comment.
    pub original_url: Option<String>,
    /// The comment's id, for the like button.
    pub ap_id: String,
    /// "2 j'aime", empty when nobody likes it yet.
    pub likes_label: String,
    /// The reader likes it.
    pub liked: bool,
    pub published_at: chrono::DateTime<chrono::Utc>,
    /// Written since the reader's last visit (forum threads mark them).
    pub is_new: bool,
}

/// Likes of the comments of one thread: counts, and which ones the reader likes.
#[derive(Default)]
struct CommentLikes {
    counts: HashMap<String, i64>,
    liked: HashSet<String>,
}

impl CommentLikes {
    async fn load(
        conn: &mut db::PooledConn,
        items: &[ThreadItem],
        viewer: Option<&DbAccount>,
    ) -> AppResult<CommentLikes> {
        let ids: Vec<String> = items
            .iter()
            .filter(|i| i.comment.deleted_at.is_none())
            .map(|i| i.comment.ap_id.clone())
            .collect();
        let counts = reactions::counts(conn, &ids)
            .await?
            .into_iter()
            .filter(|(_, c)| c.likes > 0)
            .map(|(id, c)| (id, c.likes))
            .collect();
        let liked = match viewer {
            Some(v) => db::reactions::reacted_among(conn, v.actor_id, "like", &ids)
                .await?
                .into_iter()
                .collect(),
            None => HashSet::new(),
        };
        Ok(CommentLikes { counts, liked })
    }

    fn label(&self, lang: Lang, ap_id: &str) -> String {
        match self.counts.get(ap_id) {
            Some(&n) => {
                let key = if n == 1 || (lang == Lang::Fr && n <= 1) {
                    "reactions.like_count_one"
                } else {
                    "reactions.like_count_other"
                };
                format!("{n} {}", lang.t(key))
            }
            None => String::new(),
        }
    }
}

/// The comments section under a post or announcement: one page of whole threads.
pub struct CommentsSection {
    pub target: String,
    pub rows: Vec<CommentRow>,
    /// Comments under the post, on every page.
    pub count: usize,
    /// This page of comments (from 1), and how many there are.
    pub page: usize,
    pub pages: usize,
    /// Links to the older and newer pages of comments, when there are.
    pub older: Option<String>,
    pub newer: Option<String>,
    pub logged_in: bool,
    pub login_url: String,
    /// A remote post: its page on its own server, and that server's name.
    pub original: Option<(String, String)>,
    /// The page's path, where the like buttons come back to.
    pub back: String,
    /// The viewer's own comments under the post that a moderator hid: shown to them alone,
    /// with the notice and the decision.
    pub hidden_own: Vec<HiddenComment>,
    /// Why no reply can be written (a locked forum thread): shown instead of the form.
    pub closed: Option<String>,
}

/// One of the viewer's comments hidden by a moderator.
pub struct HiddenComment {
    pub id: i64,
    pub body: SafeHtml,
    /// The decision that hid it ("" when none is recorded).
    pub decision: String,
}

/// The comments of `viewer` under `post` that a moderator hid, each with its decision.
async fn hidden_own(
    conn: &mut db::PooledConn,
    post: &DbPost,
    viewer: Option<&DbAccount>,
) -> AppResult<Vec<HiddenComment>> {
    let Some(viewer) = viewer else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for c in db::comments::hidden_of_author(conn, post.id, viewer.actor_id).await? {
        let decision = db::moderation_actions::latest_hide(conn, None, Some(c.id))
            .await?
            .map(|a| crate::urls::decision_path(a.id))
            .unwrap_or_default();
        found.push(HiddenComment {
            id: c.id,
            body: SafeHtml::from_trusted_storage(c.body_html),
            decision,
        });
    }
    Ok(found)
}

impl CommentsSection {
    /// `</ol></li>` `n` times: closing markup, no content.
    pub fn closers(&self, n: &usize) -> SafeHtml {
        SafeHtml::from_trusted_storage("</ol></li>".repeat(*n))
    }
}

fn reply_url(ap_id: &str) -> String {
    format!(
        "/commentaires/repondre?cible={}",
        url::form_urlencoded::byte_serialize(ap_id.as_bytes()).collect::<String>()
    )
}

fn rows(
    lang: Lang,
    items: Vec<ThreadItem>,
    viewer: Option<&DbAccount>,
    likes: &CommentLikes,
) -> Vec<CommentRow> {
    let depths: Vec<usize> = items.iter().map(|i| i.depth).collect();
    items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            let next = depths.get(n + 1).copied().unwrap_or(0);
            let deleted = item.comment.deleted_at.is_some();
            let has_replies = next > item.depth;
            CommentRow {
                id: item.comment.id,
                author: author_view(&item.author),
                published: date(lang, item.comment.published_at),
                published_iso: item.comment.published_at.to_rfc3339(),
                edited: item.comment.updated_at > item.comment.published_at && !deleted,
                body: if deleted {
                    SafeHtml::default()
                } else {
                    // Under the comments' h2.
                    SafeHtml::from_trusted_storage(item.comment.body_html.clone()).nest_headings(3)
                },
                content_warning: if deleted {
                    None
                } else {
                    item.comment.content_warning.clone()
                },
                deleted,
                has_replies,
                closes: if has_replies {
                    0
                } else {
                    item.depth.saturating_sub(next)
                },
                reply_url: reply_url(&item.comment.ap_id),
                can_delete: !deleted && viewer.is_some_and(|v| can_delete(v, &item.comment)),
                can_edit: !deleted && viewer.is_some_and(|v| can_edit(v, &item.comment)),
                original_url: if item.author.local {
                    None
                } else {
                    item.comment.url.clone()
                },
                likes_label: likes.label(lang, &item.comment.ap_id),
                liked: likes.liked.contains(&item.comment.ap_id),
                published_at: item.comment.published_at,
                is_new: false,
                ap_id: item.comment.ap_id,
            }
        })
        .collect()
}

/// The page of comments a post's page shows: `?page=N` (from 1), page 1 when absent or
/// not a number, the last page when past it. Never rejects a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentsPage(pub usize);

impl<S: Send + Sync> FromRequestParts<S> for CommentsPage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let page = parts
            .uri
            .query()
            .and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "page")
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            })
            .filter(|p| *p >= 1)
            .unwrap_or(1);
        Ok(CommentsPage(page))
    }
}

/// `page_path` with the page of comments `page` (none for the first) and the anchor of
/// comment `id`.
pub fn anchor_at(page_path: &str, page: usize, id: i64) -> String {
    crate::service::publishing::anchor_at(page_path, page, id)
}

/// `page_path` showing the page of comments `page` (the bare path for the first).
fn with_page(page_path: &str, page: usize) -> String {
    if page > 1 {
        format!("{page_path}?page={page}")
    } else {
        page_path.to_string()
    }
}

/// The comments section of `post` for `viewer`: its page of comments `page`.
pub async fn section(
    ctx: &AppContext,
    lang: Lang,
    post: &DbPost,
    viewer: Option<&DbAccount>,
    CommentsPage(page): CommentsPage,
) -> AppResult<CommentsSection> {
    let mut conn = ctx.conn().await?;
    let found = comments::thread_page(&mut conn, post, page).await?;
    let items = found.items;
    let likes = CommentLikes::load(&mut conn, &items, viewer).await?;
    let count = found.total;
    let original = if post.local {
        None
    } else {
        let url = post.url.clone().unwrap_or_else(|| post.ap_id.clone());
        let host = url::Url::parse(&url)
            .ok()
            .and_then(|u| host_port(&u))
            .unwrap_or_default();
        Some((url, host))
    };
    let hidden_own = hidden_own(&mut conn, post, viewer).await?;
    let path = local_path(&page_url(post));
    let link = |n: usize| format!("{}#commentaires", with_page(&path, n));
    Ok(CommentsSection {
        hidden_own,
        target: post.ap_id.clone(),
        rows: rows(lang, items, viewer, &likes),
        back: with_page(&path, found.page),
        count,
        page: found.page,
        pages: found.pages,
        older: (found.page > 1).then(|| link(found.page - 1)),
        newer: (found.page < found.pages).then(|| link(found.page + 1)),
        logged_in: viewer.is_some(),
        login_url: format!(
            "/connexion?next={}",
            url::form_urlencoded::byte_serialize(with_page(&path, found.page).as_bytes())
                .collect::<String>()
        ),
        original,
        closed: None,
    })
}

/// The path of a page URL of ours (absolute for local posts, already a path for remote ones).
fn local_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.path().to_string(),
        Err(_) => url.to_string(),
    }
}

/// Where a comment is shown: its anchor on the page of its post's page that shows it.
pub async fn anchor(
    conn: &mut db::PooledConn,
    post: &DbPost,
    comment_id: i64,
) -> AppResult<String> {
    crate::service::publishing::comment_anchor(conn, post, comment_id).await
}

/// `/comments/{id}`: the Note (410 Tombstone once deleted) or, for browsers, the comment
/// under its post.
async fn http_get_comment(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let mut conn = ctx.conn().await?;
    let comment = db::comments::by_id(&mut conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let post = db::posts::by_id(&mut conn, comment.post_id)
        .await?
        .filter(DbPost::is_public)
        .ok_or_else(AppError::not_found)?;
    if face(&headers, Face::Page) == Face::Page {
        return Ok(vary_accept(
            Redirect::to(&anchor(&mut conn, &post, comment.id).await?).into_response(),
        ));
    }
    // Only our own comments are served here; a remote one lives at its own id.
    if comment.ap_id != ctx.urls.absolute(&format!("/comments/{id}")) {
        return Err(AppError::not_found());
    }
    if comment.deleted_at.is_some() {
        return Ok(vary_accept(
            (
                StatusCode::GONE,
                FederationJson(WithContext::new_default(tombstone(&comment))),
            )
                .into_response(),
        ));
    }
    // Withheld by the moderators (hidden, or by a suspended author): as if it did not exist.
    if db::comments::is_withheld(&mut conn, comment.id).await? {
        return Err(AppError::not_found());
    }
    let author = db::actors::by_id(&mut conn, comment.author_actor_id).await?;
    let parent = comments::find_parent(ctx, &mut conn, &comment.in_reply_to)
        .await?
        .ok_or_else(|| AppError::internal("the parent of a comment is missing"))?;
    let parent_author_id = parent
        .comment
        .as_ref()
        .map_or(parent.post.author_actor_id, |c| c.author_actor_id);
    let parent_author = db::actors::by_id(&mut conn, parent_author_id).await?;
    let counts = reactions::counts_of(&mut conn, &comment.ap_id).await?;
    let object = note(ctx, &comment, &author, &parent_author, counts)?;
    Ok(vary_accept(
        FederationJson(WithContext::new_default(object)).into_response(),
    ))
}

/// The fields of the comment form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommentForm {
    /// AP id of the post, announcement or comment replied to.
    pub target: String,
    pub body: String,
}

/// What the reply page shows of the parent.
struct ParentView {
    title: String,
    post_url: String,
    /// The comment replied to, when it is one.
    comment: Option<(AuthorView, SafeHtml)>,
}

#[derive(Template)]
#[template(path = "posts/comment_form.html")]
struct ReplyPage<'a> {
    lang: Lang,
    csrf: &'a str,
    parent: ParentView,
    form: CommentForm,
    errors: FormState,
}

async fn parent_view(ctx: &AppContext, parent: &Parent) -> AppResult<ParentView> {
    let comment = match &parent.comment {
        Some(c) => {
            let mut conn = ctx.conn().await?;
            let author = db::actors::by_id(&mut conn, c.author_actor_id).await?;
            let author = CommentAuthor::from(author);
            Some((
                author_view(&author),
                // Under the page's h1.
                SafeHtml::from_trusted_storage(c.body_html.clone()).nest_headings(2),
            ))
        }
        None => None,
    };
    Ok(ParentView {
        title: parent.post.title.clone(),
        post_url: local_path(&page_url(&parent.post)),
        comment,
    })
}

async fn open_parent(ctx: &AppContext, target: &str) -> AppResult<Parent> {
    let mut conn = ctx.conn().await?;
    comments::find_parent(ctx, &mut conn, target)
        .await?
        .filter(|p| p.post.is_public() && p.comment.as_ref().is_none_or(|c| c.deleted_at.is_none()))
        .ok_or_else(AppError::not_found)
}

async fn reply_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    form: CommentForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let parent = open_parent(ctx, &form.target).await?;
    let parent = parent_view(ctx, &parent).await?;
    render_status(
        status,
        &ReplyPage {
            lang,
            csrf: csrf.value(),
            parent,
            form,
            errors,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReplyQuery {
    cible: String,
    /// Set: the form opens with the text replied to, quoted.
    citer: String,
}

/// The Markdown quote of what `parent` says: "> **Name** a écrit :" then its text, each
/// line behind `>`, cut at a length that stays a quote.
async fn quote_of(ctx: &AppContext, lang: Lang, parent: &Parent) -> AppResult<String> {
    const QUOTE_CHARS: usize = 1_000;
    let mut conn = ctx.conn().await?;
    let (author_id, html) = match &parent.comment {
        Some(c) => (c.author_actor_id, c.body_html.clone()),
        None => (parent.post.author_actor_id, parent.post.body_html.clone()),
    };
    let author = db::actors::by_id(&mut conn, author_id).await?;
    let name = if author.name.trim().is_empty() {
        author.username.clone()
    } else {
        author.name.clone()
    };
    let text = crate::sanitize::excerpt(&crate::sanitize::plain_text(&html), QUOTE_CHARS);
    let mut quote = format!(
        "> **{}** {}\n>\n",
        name.replace(['*', '_', '[', ']'], ""),
        lang.t("comments.wrote")
    );
    for line in text.lines() {
        quote.push_str("> ");
        quote.push_str(line);
        quote.push('\n');
    }
    quote.push('\n');
    Ok(quote)
}

/// The reply form, with the post or comment replied to shown above it.
async fn http_get_reply(
    data: Data,
    PageLang(lang): PageLang,
    _user: CurrentUser,
    csrf: CsrfToken,
    Query(query): Query<ReplyQuery>,
) -> AppResult<Response> {
    let body = if query.citer.is_empty() {
        String::new()
    } else {
        let parent = open_parent(data.app_data(), &query.cible).await?;
        quote_of(data.app_data(), lang, &parent).await?
    };
    let form = CommentForm {
        target: query.cible,
        body,
    };
    reply_page(
        data.app_data(),
        lang,
        &csrf,
        form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_comment(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match comments::comment(&data, &user.account, &form.target, &form.body).await {
        Ok(comment) => {
            let mut conn = ctx.conn().await?;
            let post = db::posts::by_id(&mut conn, comment.post_id)
                .await?
                .ok_or_else(AppError::not_found)?;
            Ok(redirect_with_flash(
                ctx,
                &anchor(&mut conn, &post, comment.id).await?,
                "flash.comment_posted",
            ))
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            let errors = FormState::from_error(lang, &e);
            reply_page(
                ctx,
                lang,
                &csrf,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        // A locked forum thread: the form again, saying why, the text kept.
        Err(e)
            if crate::service::forum::threads::is_reply_refusal(&e)
                && e.kind == ErrorKind::Conflict =>
        {
            let status = e.status();
            reply_page(
                ctx,
                lang,
                &csrf,
                form,
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn http_post_delete_comment(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let comment = comments::delete_comment(ctx, &user.account, id).await?;
    let mut conn = ctx.conn().await?;
    let to = match db::posts::by_id(&mut conn, comment.post_id)
        .await?
        .filter(DbPost::is_public)
    {
        Some(post) => format!("{}#commentaires", local_path(&page_url(&post))),
        None => "/".to_string(),
    };
    Ok(redirect_with_flash(ctx, &to, "flash.comment_deleted"))
}

/// The byline of a remote post kept here links to its author's own page, with their handle;
/// its content warning, if it came with one, folds its body.
pub fn remote_view(
    mut view: crate::web::pages::posts::PostView,
    post: &DbPost,
    author: &crate::db::actors::DbActor,
) -> crate::web::pages::posts::PostView {
    if !post.local {
        view.author_url = author.url.clone().unwrap_or_else(|| author.ap_id.clone());
        view.author_name = format!(
            "{} (@{}@{})",
            view.author_name, author.username, author.domain
        );
        view.content_warning = post.content_warning.clone();
    }
    view
}

// ---------------------------------------------------------------------------------------------
// Editing

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    pub body: String,
}

#[derive(Template)]
#[template(path = "posts/comment_edit.html")]
struct EditPage<'a> {
    lang: Lang,
    csrf: &'a str,
    id: i64,
    post_title: String,
    /// The comment under its post: where "Annuler" goes back to.
    back: String,
    form: EditForm,
    errors: FormState,
}

async fn edit_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    comment: &db::comments::DbComment,
    form: EditForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let mut conn = ctx.conn().await?;
    let post = db::posts::by_id(&mut conn, comment.post_id)
        .await?
        .filter(DbPost::is_public)
        .ok_or_else(AppError::not_found)?;
    render_status(
        status,
        &EditPage {
            lang,
            csrf: csrf.value(),
            id: comment.id,
            back: anchor(&mut conn, &post, comment.id).await?,
            post_title: post.title,
            form,
            errors,
        },
    )
}

/// The edit form of one's own comment, filled with its Markdown.
async fn http_get_edit_comment(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let comment = comments::editable(ctx, &user.account, id).await?;
    let form = EditForm {
        body: comment.body_markdown.clone().unwrap_or_default(),
    };
    edit_page(
        ctx,
        lang,
        &csrf,
        &comment,
        form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_edit_comment(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    match comments::edit_comment(&data, &user.account, id, &form.body).await {
        Ok(comment) => {
            let mut conn = ctx.conn().await?;
            let post = db::posts::by_id(&mut conn, comment.post_id)
                .await?
                .ok_or_else(AppError::not_found)?;
            Ok(redirect_with_flash(
                ctx,
                &anchor(&mut conn, &post, comment.id).await?,
                "flash.comment_updated",
            ))
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            let comment = comments::editable(ctx, &user.account, id).await?;
            let errors = FormState::from_error(lang, &e);
            edit_page(
                ctx,
                lang,
                &csrf,
                &comment,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
