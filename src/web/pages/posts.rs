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
}

fn view(lang: Lang, post: &DbPost, author: &DbActor, viewer: Option<&DbAccount>) -> PostView {
    let published_at = post.published_at.unwrap_or(post.created_at);
    PostView {
        url: page_url(post),
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
    }
}

#[derive(Template)]
#[template(path = "posts/show.html")]
struct ShowPage<'a> {
    lang: Lang,
    csrf: &'a str,
    /// Canonical, Open Graph and ActivityPub links of `<head>`.
    head: crate::web::pages::feeds::HeadMeta,
    post: PostView,
    comments: crate::web::pages::comments::CommentsSection,
    reactions: crate::web::pages::reactions::ReactionsView,
}

/// `/posts/{id}` and `/announcements/{id}`: the Article/Note for ActivityPub clients (410 with
/// a Tombstone once deleted), the page for browsers.
async fn show(
    data: &Data,
    category: Category,
    id: &str,
    slug: Option<&str>,
    headers: &HeaderMap,
    lang: Lang,
    user: Option<CurrentUser>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let viewer = user.as_ref().map(|u| &u.account);
    let found = publishing::lookup(ctx, viewer, category, id).await?;
    // The slugged URL is the page's alone; the bare id is negotiated.
    if slug.is_none() && face(headers, Face::Page) == Face::Document {
        let response = match found {
            Lookup::Gone(post) => (
                StatusCode::GONE,
                FederationJson(WithContext::new_default(tombstone(&post))),
            )
                .into_response(),
            Lookup::Found(post, author) => {
                if post.draft {
                    return Err(AppError::not_found());
                }
                if !post.local {
                    // A remote post kept here: its object is at its own id.
                    return Ok(vary_accept(
                        (StatusCode::FOUND, [(header::LOCATION, post.ap_id.clone())])
                            .into_response(),
                    ));
                }
                let counts = {
                    let mut conn = ctx.conn().await?;
                    crate::service::reactions::counts_of(&mut conn, &post.ap_id).await?
                };
                let object = crate::federation::outbox::object_json(ctx, &post, &author, counts)?;
                FederationJson(WithContext::new_default(object)).into_response()
            }
        };
        return Ok(vary_accept(response));
    }
    let (post, author) = match found {
        Lookup::Found(post, author) => (*post, *author),
        Lookup::Gone(_) => return Err(AppError::new(ErrorKind::Gone, "this was deleted")),
    };
    if slug.is_some_and(|s| s != post.slug) {
        return Ok(Redirect::permanent(&page_url(&post)).into_response());
    }
    let csrf = user.as_ref().map(|u| u.csrf_token.as_str()).unwrap_or("");
    let mut shown = crate::web::pages::comments::remote_view(
        view(lang, &post, &author, viewer),
        &post,
        &author,
    );
    // The body's headings go under the title's h1 (a remote body may open with an h4).
    shown.body = std::mem::take(&mut shown.body).nest_headings(2);
    let page = render(&ShowPage {
        lang,
        csrf,
        head: crate::web::pages::feeds::HeadMeta::of_post(ctx, &post, &author),
        post: shown,
        comments: crate::web::pages::comments::section(ctx, lang, &post, viewer).await?,
        reactions: crate::web::pages::reactions::view_for(ctx, lang, &post, viewer).await?,
    })?;
    Ok(vary_accept(page))
}

async fn http_get_post(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    show(&data, Category::Post, &id, None, &headers, lang, user).await
}

async fn http_get_post_slug(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path((id, slug)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    show(
        &data,
        Category::Post,
        &id,
        Some(&slug),
        &headers,
        lang,
        user,
    )
    .await
}

async fn http_get_announcement(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    show(
        &data,
        Category::Announcement,
        &id,
        None,
        &headers,
        lang,
        user,
    )
    .await
}

async fn http_get_announcement_slug(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path((id, slug)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    show(
        &data,
        Category::Announcement,
        &id,
        Some(&slug),
        &headers,
        lang,
        user,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Forms

/// The fields of the form, as typed (shown again when something must be corrected).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PostForm {
    title: String,
    summary: String,
    body: String,
    kind: String,
    deadline: String,
    disciplines: String,
    commune: String,
    as_page: Option<String>,
    draft: Option<String>,
    cover_image_alt: String,
    remove_cover_image: Option<String>,
}

impl PostForm {
    fn from_post(post: &DbPost) -> Self {
        PostForm {
            title: post.title.clone(),
            summary: post.summary.clone(),
            body: post.body_markdown.clone(),
            kind: post.kind.clone().unwrap_or_default(),
            deadline: post
                .deadline
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            disciplines: post.disciplines.join(", "),
            commune: post.commune.clone(),
            as_page: post.as_page.then(|| "on".into()),
            draft: post.draft.then(|| "on".into()),
            cover_image_alt: post.cover_image_alt.clone().unwrap_or_default(),
            remove_cover_image: None,
        }
    }

    /// What the form asks for; `cover` is the uploaded file (empty when none was chosen).
    fn input(&self, cover: Option<Vec<u8>>) -> PostInput {
        PostInput {
            title: self.title.clone(),
            body: self.body.clone(),
            summary: self.summary.clone(),
            kind: self.kind.clone(),
            deadline: self.deadline.clone(),
            disciplines: vec![self.disciplines.clone()],
            commune: self.commune.clone(),
            as_page: self.as_page.is_some(),
            draft: self.draft.is_some(),
            cover: match cover {
                _ if self.remove_cover_image.is_some() => CoverChange::Remove,
                Some(bytes) if !bytes.is_empty() => CoverChange::Upload(bytes),
                _ => CoverChange::Keep,
            },
            cover_alt: Some(self.cover_image_alt.clone()),
        }
    }

    fn set(&mut self, name: &str, value: String) {
        match name {
            "title" => self.title = value,
            "summary" => self.summary = value,
            "body" => self.body = value,
            "kind" => self.kind = value,
            "deadline" => self.deadline = value,
            "disciplines" => self.disciplines = value,
            "commune" => self.commune = value,
            "as_page" => self.as_page = Some(value),
            "draft" => self.draft = Some(value),
            "cover_image_alt" => self.cover_image_alt = value,
            "remove_cover_image" => self.remove_cover_image = Some(value),
            _ => {}
        }
    }
}

/// The post form as submitted, its CSRF token checked: urlencoded (no file), or multipart with
/// the cover image (`cover_image`), the alt text (`cover_image_alt`) and "Retirer l'image"
/// (`remove_cover_image`).
struct PostSubmission {
    form: PostForm,
    /// The file part, up to one byte over the largest limit (enough to know it is too big).
    cover: Option<Vec<u8>>,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            ErrorKind::PayloadTooLarge,
            format!("the form is limited to {FORM_BODY_LIMIT} bytes"),
        )
    } else {
        AppError::bad_request(format!("multipart: {e}"))
    }
}

impl<S: Send + Sync> FromRequest<S> for PostSubmission {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let (mut parts, body) = request.into_parts();
        let token = CsrfToken::from_request_parts(&mut parts, state).await?;
        let media_type = crate::body::media_type(&parts.headers);
        let request = Request::from_parts(parts, body);
        let mut form = PostForm::default();
        let mut cover = None;
        let mut submitted_token = None;
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => {
                let bytes = crate::body::read_capped(request.into_body(), FORM_TEXT_BYTES).await?;
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                    .map_err(|e| AppError::bad_request(format!("form: {e}")))?;
                for (name, value) in pairs {
                    if name == csrf::FIELD {
                        submitted_token = Some(value);
                    } else {
                        form.set(&name, value);
                    }
                }
            }
            "multipart/form-data" => {
                let mut multipart = Multipart::from_request(request, state)
                    .await
                    .map_err(|_| csrf::rejected())?;
                let cap = crate::config::MAX_COVER_KB as usize * 1024 + 1;
                while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
                    let name = field.name().unwrap_or_default().to_string();
                    if name == "cover_image" {
                        let mut bytes = Vec::new();
                        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                            let room = cap.saturating_sub(bytes.len());
                            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        }
                        cover = Some(bytes);
                        continue;
                    }
                    let value = field.text().await.map_err(multipart_error)?;
                    if name == csrf::FIELD {
                        submitted_token = Some(value);
                    } else {
                        form.set(&name, value);
                    }
                }
            }
            // Whatever it is, it is not one of our forms: refused as a forgery.
            _ => return Err(csrf::rejected()),
        }
        token.verify(submitted_token.as_deref())?;
        Ok(PostSubmission { form, cover })
    }
}

/// A size in the page's words ("5 Mo").
fn size_text(lang: Lang, bytes: usize) -> String {
    let kib = bytes / 1024;
    let unit = lang.t("unit.megabyte");
    if kib >= 1024 && kib.is_multiple_of(1024) {
        format!("{} {unit}", kib / 1024)
    } else {
        format!("{:.1} {unit}", kib as f64 / 1024.0)
    }
}

struct KindOption {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "posts/form.html")]
struct FormPage<'a> {
    lang: Lang,
    csrf: &'a str,
    is_announcement: bool,
    /// `None` for a new post.
    editing: Option<String>,
    action: String,
    form: PostForm,
    errors: FormState,
    kinds: Vec<KindOption>,
    may_publish_as_page: bool,
    /// The stored cover (site-relative URL) when editing a post that has one.
    cover_url: Option<String>,
    /// The cover size limit, in the page's words.
    max_cover: String,
}

impl FormPage<'_> {
    fn title_key(&self) -> &'static str {
        match (self.is_announcement, self.editing.is_some()) {
            (false, false) => "posts.new_title",
            (false, true) => "posts.edit_title",
            (true, false) => "announcements.new_title",
            (true, true) => "announcements.edit_title",
        }
    }
}

fn kinds(lang: Lang) -> Vec<KindOption> {
    AnnouncementKind::ALL
        .into_iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: lang.t(k.label_key()),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    category: Category,
    editing: Option<&DbPost>,
    form: PostForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let action = match (category, editing) {
        (Category::Post, None) => "/articles/nouveau".to_string(),
        (Category::Announcement, None) => "/annonces/nouvelle".to_string(),
        (c, Some(p)) => format!("{}/{}/modifier", base_path(c), p.id),
    };
    render_status(
        status,
        &FormPage {
            lang,
            csrf: csrf.value(),
            is_announcement: category == Category::Announcement,
            editing: editing.map(page_url),
            action,
            form,
            errors,
            kinds: kinds(lang),
            may_publish_as_page: editing.is_none() && is_staff(&user.account),
            cover_url: editing
                .and_then(|p| p.cover_image_path.as_deref())
                .and_then(covers::cover_path_url),
            max_cover: size_text(lang, covers::max_cover_bytes(ctx)),
        },
    )
}

/// Posts or announcements, as a type: each form handler below is one generic function, routed
/// once per section (`http_post_new::<Posts>`, `http_post_new::<Announcements>`).
trait Section: Send + Sync + 'static {
    const CATEGORY: Category;
}

struct Posts;
struct Announcements;

impl Section for Posts {
    const CATEGORY: Category = Category::Post;
}

impl Section for Announcements {
    const CATEGORY: Category = Category::Announcement;
}

async fn http_get_new<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    form_page(
        data.app_data(),
        lang,
        &user,
        &csrf,
        S::CATEGORY,
        None,
        PostForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
}

fn redirect_with_flash(ctx: &AppContext, to: &str, key: &'static str) -> Response {
    let mut response = Redirect::to(to).into_response();
    set_flash(ctx, &mut response, key);
    response
}

async fn http_post_new<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    submission: PostSubmission,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let PostSubmission { form, cover } = submission;
    match publishing::create(&data, &user.account, S::CATEGORY, form.input(cover)).await {
        Ok(post) => {
            let key = if post.draft {
                "flash.post_draft_saved"
            } else {
                "flash.post_published"
            };
            Ok(redirect_with_flash(ctx, &page_url(&post), key))
        }
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            ctx,
            lang,
            &user,
            &csrf,
            S::CATEGORY,
            None,
            form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

/// The post as its editor may see it: 404 when missing, 403 when someone else's.
async fn load_editable(
    ctx: &AppContext,
    user: &CurrentUser,
    category: Category,
    id: &str,
) -> AppResult<DbPost> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let (post, _) = publishing::visible(ctx, Some(&user.account), category, id).await?;
    if !can_edit(&user.account, &post) {
        return Err(
            AppError::forbidden("this is someone else's post").with_message("publishing.not_yours")
        );
    }
    Ok(post)
}

async fn http_get_edit<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let post = load_editable(data.app_data(), &user, S::CATEGORY, &id).await?;
    form_page(
        data.app_data(),
        lang,
        &user,
        &csrf,
        S::CATEGORY,
        Some(&post),
        PostForm::from_post(&post),
        FormState::new(lang),
        StatusCode::OK,
    )
}

async fn http_post_edit<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    submission: PostSubmission,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let post = load_editable(ctx, &user, S::CATEGORY, &id).await?;
    let PostSubmission { form, cover } = submission;
    let patch = PostPatch::from(form.input(cover));
    match publishing::edit(&data, &user.account, S::CATEGORY, post.id, patch).await {
        Ok(updated) => Ok(redirect_with_flash(
            ctx,
            &page_url(&updated),
            "flash.post_updated",
        )),
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            ctx,
            lang,
            &user,
            &csrf,
            S::CATEGORY,
            Some(&post),
            form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn http_post_delete<S: Section>(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    publishing::delete(ctx, &user.account, S::CATEGORY, id).await?;
    let to = match S::CATEGORY {
        Category::Post => format!("/blog/{}", user.account.username),
        Category::Announcement => "/annonces".to_string(),
    };
    Ok(redirect_with_flash(ctx, &to, "flash.post_deleted"))
}

async fn http_post_publish<S: Section>(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let post = publishing::publish_draft(ctx, &user.account, S::CATEGORY, id).await?;
    Ok(redirect_with_flash(
        ctx,
        &page_url(&post),
        "flash.post_published",
    ))
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    page: Option<String>,
}

/// The 1-based page number asked for; nonsense is page 1.
pub fn page_number(page: Option<&str>) -> i64 {
    page.and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1)
}

pub struct Pagination {
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub fn pagination(page: i64, total: i64, link: impl Fn(i64) -> String) -> Pagination {
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    Pagination {
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    }
}

#[derive(Template)]
#[template(path = "posts/blog.html")]
struct BlogPage {
    lang: Lang,
    /// Feed links and Open Graph of `<head>`.
    head: crate::web::pages::feeds::HeadMeta,
    /// "Le blog de", or "Le blog de la page du département :".
    heading: &'static str,
    author_name: String,
    author_url: String,
    is_own: bool,
    posts: Vec<PostView>,
    drafts: Vec<PostView>,
    pagination: Pagination,
}

async fn http_get_blog(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let page = page_number(query.page.as_deref());
    let mut conn = ctx.conn().await?;
    let actor = db::actors::local_by_username(&mut conn, &username.to_lowercase())
        .await?
        .filter(|a| a.kind != "Application" && a.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let (rows, total) =
        db::posts::list_posts_by_actor(&mut conn, actor.id, (page - 1) * PAGE_SIZE, PAGE_SIZE)
            .await?;
    let viewer = user.as_ref().map(|u| &u.account);
    let is_own = viewer.is_some_and(|v| v.actor_id == actor.id);
    let drafts = match viewer {
        Some(v) if is_own => db::posts::drafts_by_account(&mut conn, v.id, "post")
            .await?
            .into_iter()
            .filter(|p| p.author_actor_id == actor.id)
            .map(|p| view(lang, &p, &actor, viewer))
            .collect(),
        _ => Vec::new(),
    };
    let name = if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    };
    let base = format!("/blog/{}", actor.username);
    let title = crate::web::pages::feeds::blog_title(ctx, lang, &actor);
    let heading = lang.t(crate::web::pages::feeds::blog_heading_key(ctx, &actor));
    let head = crate::web::pages::feeds::HeadMeta::page(
        ctx,
        "website",
        &title,
        &crate::federation::objects::article::plain_text(&actor.summary_html),
        &base,
    )
    .with_feeds(crate::web::pages::feeds::feed_links(&title, &base, ""));
    render(&BlogPage {
        lang,
        head,
        heading,
        author_name: name,
        author_url: format!("/users/{}", actor.username),
        is_own,
        posts: rows.iter().map(|p| view(lang, p, &actor, viewer)).collect(),
        drafts,
        pagination: pagination(page, total, |n| format!("{base}?page={n}")),
    })
}

/// Filters of the announcement list, as the query string carries them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub kind: Option<String>,
    pub discipline: Option<String>,
    pub commune: Option<String>,
    /// `true`/`ouvertes` (open), `false`/`closes` (closed), anything else: all.
    pub open: Option<String>,
    pub page: Option<String>,
}

impl ListQuery {
    /// The database filter; an unknown kind is a field error.
    pub fn filter(&self) -> AppResult<AnnouncementFilter> {
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let kind = match clean(&self.kind) {
            Some(k) => Some(
                AnnouncementKind::parse(&k)
                    .ok_or_else(|| AppError::field("kind", "field.announcement_kind.unknown"))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let open = match clean(&self.open).as_deref() {
            Some("true" | "1" | "ouvertes") => Some(true),
            Some("false" | "0" | "closes") => Some(false),
            _ => None,
        };
        Ok(AnnouncementFilter {
            kind,
            discipline: clean(&self.discipline),
            commune: clean(&self.commune),
            open,
        })
    }
}

#[derive(Template)]
#[template(path = "announcements/list.html")]
struct ListPage {
    lang: Lang,
    /// Feed links (of the kind filtered on, if any) and Open Graph of `<head>`.
    head: crate::web::pages::feeds::HeadMeta,
    logged_in: bool,
    kinds: Vec<KindOption>,
    kind: String,
    discipline: String,
    commune: String,
    open: String,
    total: i64,
    items: Vec<PostView>,
    /// "3 j'aime · 2 partages" by page URL of the items that have any.
    reaction_labels: std::collections::HashMap<String, String>,
    pagination: Pagination,
    errors: FormState,
}

async fn http_get_announcements(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let page = page_number(query.page.as_deref());
    let (filter, errors) = match query.filter() {
        Ok(f) => (f, FormState::new(lang)),
        Err(e) if e.kind == ErrorKind::Validation => (
            AnnouncementFilter::default(),
            FormState::from_error(lang, &e),
        ),
        Err(e) => return Err(e),
    };
    let mut conn = ctx.conn().await?;
    let (rows, total) = db::posts::list_announcements(
        &mut conn,
        &filter,
        today(),
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    let authors = db::posts::authors_of(&mut conn, &rows).await?;
    let items = rows
        .iter()
        .filter_map(|post| {
            let author = authors.get(&post.author_actor_id)?;
            Some(view(lang, post, author, user.as_ref().map(|u| &u.account)))
        })
        .collect::<Vec<_>>();
    let reaction_labels =
        crate::web::pages::reactions::labels_by_page(&mut conn, lang, &rows).await?;
    let open = match filter.open {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
    .to_string();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let kind = filter.kind.clone().unwrap_or_default();
    let discipline = filter.discipline.clone().unwrap_or_default();
    let commune = filter.commune.clone().unwrap_or_default();
    let link = |n: i64| {
        format!(
            "/annonces?kind={}&discipline={}&commune={}&open={}&page={n}",
            enc(&kind),
            enc(&discipline),
            enc(&commune),
            enc(&open)
        )
    };
    let pagination = pagination(page, total, link);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let head = {
        use crate::web::pages::feeds::{
            HeadMeta, announcement_query, announcements_title, feed_links,
        };
        let title = announcements_title(lang, filter.kind.as_deref());
        let query = announcement_query(&filter);
        let path = if query.is_empty() {
            "/annonces".to_string()
        } else {
            format!("/annonces?{query}")
        };
        HeadMeta::page(
            ctx,
            "website",
            &title,
            lang.t("feeds.announcements_description"),
            &path,
        )
        .with_feeds(feed_links(&title, "/annonces", &query))
    };
    render_status(
        status,
        &ListPage {
            lang,
            head,
            logged_in: user.is_some(),
            kinds: kinds(lang),
            kind,
            discipline,
            commune,
            open,
            total,
            items,
            reaction_labels,
            pagination,
            errors,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_bounded() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("3")), 3);
        assert_eq!(page_number(Some("-2")), 1);
        assert_eq!(page_number(Some("abc")), 1);
        let p = pagination(2, 45, |n| format!("?page={n}"));
        assert_eq!(p.pages, 3);
        assert_eq!(p.prev.as_deref(), Some("?page=1"));
        assert_eq!(p.next.as_deref(), Some("?page=3"));
    }
}
