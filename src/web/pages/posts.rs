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
        negotiation::wants_activity_json,
        objects::article::{summary_text, tombstone},
    },
    i18n::Lang,
    sanitize::SafeHtml,
    service::{
        accounts::is_staff,
        publishing::{
            self, AnnouncementKind, Category, Lookup, PostInput, PostPatch, can_edit, page_url,
            today,
        },
    },
    web::{
        auth::{CurrentUser, MaybeUser},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::set_flash, render, render_status},
    },
};
use activitypub_federation::{axum::json::FederationJson, protocol::context::WithContext};
use askama::Template;
use axum::{
    Router,
    extract::{Path, Query},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

/// Items per page of the lists.
pub const PAGE_SIZE: i64 = 20;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/articles/nouveau",
            get(http_get_new_post).post(http_post_new_post),
        )
        .route(
            "/annonces/nouvelle",
            get(http_get_new_announcement).post(http_post_new_announcement),
        )
        .route("/annonces", get(http_get_announcements))
        .route("/blog/{username}", get(http_get_blog))
        .route("/posts/{id}", get(http_get_post))
        .route("/posts/{id}/{slug}", get(http_get_post_slug))
        .route(
            "/posts/{id}/modifier",
            get(http_get_edit_post).post(http_post_edit_post),
        )
        .route("/posts/{id}/supprimer", post(http_post_delete_post))
        .route("/posts/{id}/publier", post(http_post_publish_post))
        .route("/announcements/{id}", get(http_get_announcement))
        .route(
            "/announcements/{id}/{slug}",
            get(http_get_announcement_slug),
        )
        .route(
            "/announcements/{id}/modifier",
            get(http_get_edit_announcement).post(http_post_edit_announcement),
        )
        .route(
            "/announcements/{id}/supprimer",
            post(http_post_delete_announcement),
        )
        .route(
            "/announcements/{id}/publier",
            post(http_post_publish_announcement),
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
    pub hashtags: Vec<String>,
    pub kind_label: Option<&'static str>,
    pub deadline: Option<String>,
    pub closed: bool,
    pub disciplines: Vec<String>,
    pub commune: String,
    pub draft: bool,
    pub can_edit: bool,
    pub is_announcement: bool,
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
        hashtags: post.hashtags.clone(),
        kind_label: post
            .kind
            .as_deref()
            .and_then(AnnouncementKind::parse)
            .map(|k| lang.t(k.label_key())),
        deadline: post.deadline.map(|d| date_fr(lang, d)),
        closed: post.is_closed(today()),
        disciplines: post.disciplines.clone(),
        commune: post.commune.clone(),
        draft: post.draft,
        can_edit: viewer.is_some_and(|v| can_edit(v, post)),
        is_announcement: post.is_announcement(),
    }
}

#[derive(Template)]
#[template(path = "posts/show.html")]
struct ShowPage<'a> {
    lang: Lang,
    csrf: &'a str,
    post: PostView,
}

/// `Vary: Accept` on every answer of a content-negotiated URL.
fn vary_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
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
    if slug.is_none() && wants_activity_json(headers) {
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
                let object = publishing::object_json(ctx, &post, &author)?;
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
    let page = render(&ShowPage {
        lang,
        csrf,
        post: view(lang, &post, &author, viewer),
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
        }
    }

    fn input(&self) -> PostInput {
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
        }
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
        },
    )
}

async fn http_get_new_post(
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    form_page(
        lang,
        &user,
        &csrf,
        Category::Post,
        None,
        PostForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
}

async fn http_get_new_announcement(
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    form_page(
        lang,
        &user,
        &csrf,
        Category::Announcement,
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

async fn create(
    data: &Data,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    category: Category,
    form: PostForm,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match publishing::create(ctx, &user.account, category, form.input()).await {
        Ok(post) => {
            let key = if post.draft {
                "flash.post_draft_saved"
            } else {
                "flash.post_published"
            };
            Ok(redirect_with_flash(ctx, &page_url(&post), key))
        }
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            lang,
            user,
            csrf,
            category,
            None,
            form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

async fn http_post_new_post(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<PostForm>,
) -> AppResult<Response> {
    create(&data, lang, &user, &csrf, Category::Post, form).await
}

async fn http_post_new_announcement(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<PostForm>,
) -> AppResult<Response> {
    create(&data, lang, &user, &csrf, Category::Announcement, form).await
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

async fn edit_form(
    data: &Data,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    category: Category,
    id: &str,
) -> AppResult<Response> {
    let post = load_editable(data.app_data(), user, category, id).await?;
    form_page(
        lang,
        user,
        csrf,
        category,
        Some(&post),
        PostForm::from_post(&post),
        FormState::new(lang),
        StatusCode::OK,
    )
}

async fn edit(
    data: &Data,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    category: Category,
    id: &str,
    form: PostForm,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let post = load_editable(ctx, user, category, id).await?;
    match publishing::edit(
        ctx,
        &user.account,
        category,
        post.id,
        PostPatch::from(form.input()),
    )
    .await
    {
        Ok(updated) => Ok(redirect_with_flash(
            ctx,
            &page_url(&updated),
            "flash.post_updated",
        )),
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            lang,
            user,
            csrf,
            category,
            Some(&post),
            form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

async fn http_get_edit_post(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    edit_form(&data, lang, &user, &csrf, Category::Post, &id).await
}

async fn http_get_edit_announcement(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    edit_form(&data, lang, &user, &csrf, Category::Announcement, &id).await
}

async fn http_post_edit_post(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PostForm>,
) -> AppResult<Response> {
    edit(&data, lang, &user, &csrf, Category::Post, &id, form).await
}

async fn http_post_edit_announcement(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PostForm>,
) -> AppResult<Response> {
    edit(&data, lang, &user, &csrf, Category::Announcement, &id, form).await
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn delete(
    data: &Data,
    user: &CurrentUser,
    category: Category,
    id: &str,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    publishing::delete(ctx, &user.account, category, id).await?;
    let to = match category {
        Category::Post => format!("/blog/{}", user.account.username),
        Category::Announcement => "/annonces".to_string(),
    };
    Ok(redirect_with_flash(ctx, &to, "flash.post_deleted"))
}

async fn http_post_delete_post(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    delete(&data, &user, Category::Post, &id).await
}

async fn http_post_delete_announcement(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    delete(&data, &user, Category::Announcement, &id).await
}

async fn publish(
    data: &Data,
    user: &CurrentUser,
    category: Category,
    id: &str,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let post = publishing::publish_draft(ctx, &user.account, category, id).await?;
    Ok(redirect_with_flash(
        ctx,
        &page_url(&post),
        "flash.post_published",
    ))
}

async fn http_post_publish_post(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    publish(&data, &user, Category::Post, &id).await
}

async fn http_post_publish_announcement(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    publish(&data, &user, Category::Announcement, &id).await
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    page: Option<String>,
}

/// The 1-based page number asked for; nonsense is page 1.
fn page_number(page: Option<&str>) -> i64 {
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

fn pagination(page: i64, total: i64, link: impl Fn(i64) -> String) -> Pagination {
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
    render(&BlogPage {
        lang,
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
    logged_in: bool,
    kinds: Vec<KindOption>,
    kind: String,
    discipline: String,
    commune: String,
    open: String,
    total: i64,
    items: Vec<PostView>,
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
    let mut items = Vec::with_capacity(rows.len());
    for post in &rows {
        let author = db::actors::by_id(&mut conn, post.author_actor_id).await?;
        items.push(view(lang, post, &author, user.as_ref().map(|u| &u.account)));
    }
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
    render_status(
        status,
        &ListPage {
            lang,
            logged_in: user.is_some(),
            kinds: kinds(lang),
            kind,
            discipline,
            commune,
            open,
            total,
            items,
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
