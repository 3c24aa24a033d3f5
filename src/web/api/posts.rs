//! Blog posts and announcements: create, read, edit, publish, delete, list announcements with
//! filters. The twin of the pages in `web::pages::posts`; the rules live in
//! `service::publishing`.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, posts::DbPost},
    error::{AppError, AppResult},
    federation::Data,
    service::{
        covers,
        publishing::{
            self, AnnouncementKind, Category, CoverChange, PostInput, PostPatch, page_url, today,
        },
    },
    web::{
        api::{ApiJson, ApiUser, openapi::Problem},
        pages::posts::{ListQuery, PAGE_SIZE},
    },
};
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, Query, multipart::MultipartError},
    http::StatusCode,
    routing::{get, post, put},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_post_post,
        http_get_post,
        http_patch_post,
        http_delete_post,
        http_post_publish_post,
        http_post_announcement,
        http_get_announcements,
        http_get_announcement,
        http_patch_announcement,
        http_delete_announcement,
        http_post_publish_announcement,
        http_put_post_cover,
        http_delete_post_cover,
        http_put_announcement_cover,
        http_delete_announcement_cover,
    ),
    components(schemas(
        CoverImage,
        CoverUpload,
        NewPostRequest,
        NewAnnouncementRequest,
        PostPatchRequest,
        Created,
        PostDetail,
        AnnouncementList,
        AnnouncementKind,
    ))
)]
pub struct PostsApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/posts", post(http_post_post))
        .route(
            "/api/v1/posts/{id}",
            get(http_get_post)
                .patch(http_patch_post)
                .delete(http_delete_post),
        )
        .route("/api/v1/posts/{id}/publish", post(http_post_publish_post))
        .route(
            "/api/v1/announcements",
            get(http_get_announcements).post(http_post_announcement),
        )
        .route(
            "/api/v1/announcements/{id}",
            get(http_get_announcement)
                .patch(http_patch_announcement)
                .delete(http_delete_announcement),
        )
        .route(
            "/api/v1/announcements/{id}/publish",
            post(http_post_publish_announcement),
        )
        .route(
            "/api/v1/posts/{id}/cover",
            put(http_put_post_cover)
                .delete(http_delete_post_cover)
                .layer(DefaultBodyLimit::max(COVER_BODY_LIMIT)),
        )
        .route(
            "/api/v1/announcements/{id}/cover",
            put(http_put_announcement_cover)
                .delete(http_delete_announcement_cover)
                .layer(DefaultBodyLimit::max(COVER_BODY_LIMIT)),
        )
}

/// Body limit of the cover uploads: the largest cover any configuration allows, plus room
/// for the alt text and the multipart framing.
const COVER_BODY_LIMIT: usize = crate::config::MAX_COVER_KB as usize * 1024 + 64 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostRequest {
    #[schema(example = "Retour sur la résidence d'automne")]
    pub title: String,
    /// Markdown (CommonMark); `#tags` become hashtags.
    pub body: String,
    /// Plain text shown by Mastodon under the title; an excerpt of the body when absent.
    #[serde(default)]
    pub summary: Option<String>,
    /// Publish as the département page (staff and admins only).
    #[serde(default)]
    pub as_page: bool,
    /// Save unpublished (not federated, visible to its author only).
    #[serde(default)]
    pub draft: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnnouncementRequest {
    pub title: String,
    pub body: String,
    pub kind: String,
    /// `YYYY-MM-DD` (today or later); the announcement shows "clos" after it.
    #[serde(default)]
    #[schema(example = "2027-01-31")]
    pub deadline: Option<String>,
    #[serde(default)]
    pub disciplines: Option<Vec<String>>,
    /// The commune: its INSEE code (`88413`), its name (`Saint-Dié-des-Vosges`, "St" and
    /// accents forgiven) or "Name (88)" when several communes share the name; a name is taken
    /// in the configured département first. Unknown or ambiguous: 422 naming `commune`.
    #[serde(default)]
    #[schema(example = "Saint-Dié-des-Vosges")]
    pub commune: Option<String>,
    #[serde(default)]
    pub as_page: bool,
    #[serde(default)]
    pub draft: bool,
}

/// Reads `null` as `Some(None)` and a missing field (via `default`) as `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A partial edit: absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostPatchRequest {
    pub title: Option<String>,
    pub body: Option<String>,
    pub summary: Option<String>,
    /// Announcements only.
    pub kind: Option<String>,
    /// Announcements only; `null` or `""` removes the deadline.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub deadline: Option<Option<String>>,
    pub disciplines: Option<Vec<String>>,
    /// Announcements only: an INSEE code, a name or "Name (88)"; `""` removes it.
    pub commune: Option<String>,
}

impl From<PostPatchRequest> for PostPatch {
    fn from(r: PostPatchRequest) -> Self {
        PostPatch {
            title: r.title,
            body: r.body,
            summary: r.summary,
            kind: r.kind,
            deadline: r.deadline.map(Option::unwrap_or_default),
            disciplines: r.disciplines,
            commune: r.commune,
            ..Default::default()
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
    /// The public page.
    pub url: String,
    /// The ActivityPub id (`/posts/{id}` or `/announcements/{id}`).
    pub ap_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostDetail {
    pub id: i64,
    pub url: String,
    pub ap_id: String,
    /// ActivityPub id of the actor it is published as.
    pub author: String,
    pub as_page: bool,
    pub title: String,
    pub summary: String,
    /// The Markdown as written.
    pub body: String,
    /// The sanitised HTML.
    pub content: String,
    pub hashtags: Vec<String>,
    pub draft: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub kind: Option<AnnouncementKind>,
    pub deadline: Option<NaiveDate>,
    /// The deadline has passed ("clos").
    pub closed: bool,
    pub disciplines: Vec<String>,
    /// The commune's official name (empty for none).
    pub commune: String,
    /// The commune's INSEE code, or `null`.
    #[schema(example = "88413")]
    pub commune_code: Option<String>,
    /// The cover image, or `null`.
    pub cover_image: Option<CoverImage>,
    /// Likes, local and remote (in the answer of `GET …/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likes: Option<i64>,
    /// Boosts, local and remote (in the answer of `GET …/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boosts: Option<i64>,
}

/// A cover image: its address and its alt text.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverImage {
    pub url: String,
    pub alt: String,
}

fn cover_of(ctx: &AppContext, post: &DbPost) -> Option<CoverImage> {
    Some(CoverImage {
        url: covers::cover_url(ctx, post.cover_image_path.as_deref()?)?,
        alt: post.cover_image_alt.clone()?,
    })
}

fn detail(ctx: &AppContext, post: &DbPost, author: &DbActor) -> PostDetail {
    PostDetail {
        id: post.id,
        url: page_url(post),
        ap_id: post.ap_id.clone(),
        author: author.ap_id.clone(),
        as_page: post.as_page,
        title: post.title.clone(),
        summary: post.summary.clone(),
        body: post.body_markdown.clone(),
        content: post.body_html.clone(),
        hashtags: post.hashtags.clone(),
        draft: post.draft,
        published_at: post.published_at,
        updated_at: post.updated_at,
        kind: post.kind.as_deref().and_then(AnnouncementKind::parse),
        deadline: post.deadline,
        closed: post.is_closed(today()),
        disciplines: post.disciplines.clone(),
        commune: post.commune.clone(),
        commune_code: post.commune_code.clone(),
        cover_image: cover_of(ctx, post),
        likes: None,
        boosts: None,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementList {
    pub total: i64,
    pub page: i64,
    /// Newest first, 20 per page.
    pub items: Vec<PostDetail>,
}

/// Query of the announcement list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnouncementQuery {
    /// One of the kinds.
    pub kind: Option<String>,
    /// A discipline (case-insensitive).
    pub discipline: Option<String>,
    /// A commune: INSEE code, name or "Name (88)" (as when publishing); the announcements
    /// of that commune. Unknown or ambiguous: 422 naming `commune`.
    pub commune: Option<String>,
    /// `true`: deadline not passed; `false`: closed.
    pub open: Option<String>,
    /// 1-based.
    pub page: Option<String>,
}

/// Ids are numbers; anything else names nothing (404, like a missing id).
fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

fn created(post: &DbPost) -> (StatusCode, ApiJson<Created>) {
    (
        StatusCode::CREATED,
        ApiJson(Created {
            id: post.id,
            url: page_url(post),
            ap_id: post.ap_id.clone(),
        }),
    )
}

// The bodies shared by the post and announcement routes: utoipa documents one function per
// route, so each route keeps a thin documented handler that calls one of these.

async fn create_one(
    data: &Data,
    user: &ApiUser,
    category: Category,
    input: PostInput,
) -> AppResult<(StatusCode, ApiJson<Created>)> {
    let post = publishing::create(data, &user.account, category, input).await?;
    Ok(created(&post))
}

async fn delete_one(
    data: &Data,
    user: &ApiUser,
    category: Category,
    id: &str,
) -> AppResult<StatusCode> {
    publishing::delete(data.app_data(), &user.account, category, parse_id(id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_one(
    ctx: &AppContext,
    user: &ApiUser,
    category: Category,
    id: i64,
) -> AppResult<ApiJson<PostDetail>> {
    let (post, author) = publishing::visible(ctx, Some(&user.account), category, id).await?;
    let mut detail = detail(ctx, &post, &author);
    let mut conn = ctx.conn().await?;
    let counts = crate::service::reactions::counts(&mut conn, std::slice::from_ref(&post.ap_id))
        .await?
        .remove(&post.ap_id)
        .unwrap_or_default();
    detail.likes = Some(counts.likes);
    detail.boosts = Some(counts.boosts);
    Ok(ApiJson(detail))
}

async fn patch_one(
    data: &Data,
    user: &ApiUser,
    category: Category,
    id: i64,
    body: PostPatchRequest,
) -> AppResult<ApiJson<PostDetail>> {
    let ctx = data.app_data();
    let post = publishing::edit(data, &user.account, category, id, body.into()).await?;
    let mut conn = ctx.conn().await?;
    let author = db::actors::by_id(&mut conn, post.author_actor_id).await?;
    Ok(ApiJson(detail(ctx, &post, &author)))
}

async fn publish_one(
    ctx: &AppContext,
    user: &ApiUser,
    category: Category,
    id: i64,
) -> AppResult<ApiJson<PostDetail>> {
    let post = publishing::publish_draft(ctx, &user.account, category, id).await?;
    let mut conn = ctx.conn().await?;
    let author = db::actors::by_id(&mut conn, post.author_actor_id).await?;
    Ok(ApiJson(detail(ctx, &post, &author)))
}

/// Publishes a blog post (federated as `Create(Article)` to the author's followers).
#[utoipa::path(
    post,
    path = "/api/v1/posts",
    tag = "publishing",
    security(("bearer" = [])),
    request_body = NewPostRequest,
    responses(
        (status = 201, description = "Published (or saved as a draft)", body = Created),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`as_page` without the staff role, or the address awaits confirmation (`accounts.require_confirmation`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty title or body, body over 100 000 characters…", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_post(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewPostRequest>,
) -> AppResult<(StatusCode, ApiJson<Created>)> {
    let input = PostInput {
        title: body.title,
        body: body.body,
        summary: body.summary.unwrap_or_default(),
        as_page: body.as_page,
        draft: body.draft,
        ..Default::default()
    };
    create_one(&data, &user, Category::Post, input).await
}

/// A blog post (drafts: to their author only).
#[utoipa::path(
    get,
    path = "/api/v1/posts/{id}",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses(
        (status = 200, description = "The post", body = PostDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Deleted", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_post(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<PostDetail>> {
    get_one(data.app_data(), &user, Category::Post, parse_id(&id)?).await
}

/// Edits a blog post (federated as `Update` once published).
#[utoipa::path(
    patch,
    path = "/api/v1/posts/{id}",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    request_body = PostPatchRequest,
    responses(
        (status = 200, description = "The edited post", body = PostDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's post", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_post(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostPatchRequest>,
) -> AppResult<ApiJson<PostDetail>> {
    patch_one(&data, &user, Category::Post, parse_id(&id)?, body).await
}

/// Deletes a blog post (federated as `Delete`; its id answers 410 afterwards).
#[utoipa::path(
    delete,
    path = "/api/v1/posts/{id}",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's post", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_post(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    delete_one(&data, &user, Category::Post, &id).await
}

/// Publishes a draft blog post.
#[utoipa::path(
    post,
    path = "/api/v1/posts/{id}/publish",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses(
        (status = 200, description = "Published", body = PostDetail),
        (status = 403, description = "Someone else's post, or the address awaits confirmation (`accounts.require_confirmation`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already published", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_publish_post(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<PostDetail>> {
    publish_one(data.app_data(), &user, Category::Post, parse_id(&id)?).await
}

/// Publishes an announcement (federated as `Create(Note)` with the kind's hashtag).
#[utoipa::path(
    post,
    path = "/api/v1/announcements",
    tag = "publishing",
    security(("bearer" = [])),
    request_body = NewAnnouncementRequest,
    responses(
        (status = 201, description = "Published (or saved as a draft)", body = Created),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`as_page` without the staff role, or the address awaits confirmation (`accounts.require_confirmation`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty title, unknown kind, deadline in the past, unknown or ambiguous `commune`…", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_announcement(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewAnnouncementRequest>,
) -> AppResult<(StatusCode, ApiJson<Created>)> {
    let input = PostInput {
        title: body.title,
        body: body.body,
        kind: body.kind,
        deadline: body.deadline.unwrap_or_default(),
        disciplines: body.disciplines.unwrap_or_default(),
        commune: body.commune.unwrap_or_default(),
        as_page: body.as_page,
        draft: body.draft,
        ..Default::default()
    };
    create_one(&data, &user, Category::Announcement, input).await
}

/// Published announcements, newest first, filtered.
#[utoipa::path(
    get,
    path = "/api/v1/announcements",
    tag = "publishing",
    security(("bearer" = [])),
    params(AnnouncementQuery),
    responses(
        (status = 200, description = "One page of announcements", body = AnnouncementList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown kind, unknown or ambiguous `commune`", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_announcements(
    data: Data,
    _user: ApiUser,
    Query(query): Query<AnnouncementQuery>,
) -> AppResult<ApiJson<AnnouncementList>> {
    let ctx = data.app_data();
    let list = ListQuery {
        kind: query.kind,
        discipline: query.discipline,
        commune: query.commune,
        open: query.open,
        page: None,
    };
    let filter = list.filter(&ctx.config.instance.departement)?;
    let page = query
        .page
        .as_deref()
        .map(|p| {
            p.trim()
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=10_000).contains(p))
                .ok_or_else(|| AppError::field("page", "field.page.invalid"))
        })
        .transpose()?
        .unwrap_or(1);
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
        items.push(detail(ctx, post, &author));
    }
    Ok(ApiJson(AnnouncementList { total, page, items }))
}

/// An announcement (drafts: to their author only).
#[utoipa::path(
    get,
    path = "/api/v1/announcements/{id}",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Announcement id")),
    responses(
        (status = 200, description = "The announcement", body = PostDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such announcement", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Deleted", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_announcement(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<PostDetail>> {
    get_one(
        data.app_data(),
        &user,
        Category::Announcement,
        parse_id(&id)?,
    )
    .await
}

/// Edits an announcement (federated as `Update` once published).
#[utoipa::path(
    patch,
    path = "/api/v1/announcements/{id}",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Announcement id")),
    request_body = PostPatchRequest,
    responses(
        (status = 200, description = "The edited announcement", body = PostDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's announcement", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such announcement", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_announcement(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostPatchRequest>,
) -> AppResult<ApiJson<PostDetail>> {
    patch_one(&data, &user, Category::Announcement, parse_id(&id)?, body).await
}

/// Deletes an announcement (federated as `Delete`).
#[utoipa::path(
    delete,
    path = "/api/v1/announcements/{id}",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Announcement id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's announcement", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such announcement", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_announcement(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    delete_one(&data, &user, Category::Announcement, &id).await
}

/// Publishes a draft announcement.
#[utoipa::path(
    post,
    path = "/api/v1/announcements/{id}/publish",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Announcement id")),
    responses(
        (status = 200, description = "Published", body = PostDetail),
        (status = 403, description = "Someone else's announcement, or the address awaits confirmation (`accounts.require_confirmation`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such announcement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already published", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The deadline passed while it was a draft", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_publish_announcement(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<PostDetail>> {
    publish_one(
        data.app_data(),
        &user,
        Category::Announcement,
        parse_id(&id)?,
    )
    .await
}

/// The multipart body of a cover upload (OpenAPI description only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CoverUpload {
    /// PNG, JPEG, GIF or WebP (recognised by its bytes), within `storage.max_cover_kb`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The alt text (required).
    alt: String,
}

/// Field errors of the shared rules, renamed to this endpoint's multipart fields.
fn rename_cover_fields(mut e: AppError) -> AppError {
    for f in &mut e.fields {
        match f.field.as_str() {
            "cover_image" => f.field = "file".into(),
            "cover_image_alt" => f.field = "alt".into(),
            _ => {}
        }
    }
    e
}

fn multipart_error(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            crate::error::ErrorKind::PayloadTooLarge,
            format!("the body is limited to {COVER_BODY_LIMIT} bytes"),
        )
    } else {
        AppError::bad_request(format!("multipart: {e}"))
    }
}

async fn put_cover(
    data: &Data,
    user: &ApiUser,
    category: Category,
    id: &str,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<ApiJson<CoverImage>> {
    let ctx = data.app_data();
    let id = parse_id(id)?;
    let mut multipart =
        multipart.map_err(|_| AppError::bad_request("expected a multipart/form-data body"))?;
    let (mut file, mut alt) = (None, None);
    // One byte over the largest limit is enough to know a file is too big.
    let cap = crate::config::MAX_COVER_KB as usize * 1024 + 1;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    let room = cap.saturating_sub(bytes.len());
                    bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                file = Some(bytes);
            }
            "alt" => alt = Some(field.text().await.map_err(multipart_error)?),
            _ => {}
        }
    }
    let file = file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| AppError::field("file", "field.required"))?;
    let patch = PostPatch {
        cover: CoverChange::Upload(file),
        cover_alt: Some(alt.unwrap_or_default()),
        ..Default::default()
    };
    let post = publishing::edit(data, &user.account, category, id, patch)
        .await
        .map_err(rename_cover_fields)?;
    cover_of(ctx, &post)
        .map(ApiJson)
        .ok_or_else(|| AppError::internal("the cover was not stored"))
}

async fn delete_cover(
    data: &Data,
    user: &ApiUser,
    category: Category,
    id: &str,
) -> AppResult<StatusCode> {
    let patch = PostPatch {
        cover: CoverChange::Remove,
        ..Default::default()
    };
    publishing::edit(data, &user.account, category, parse_id(id)?, patch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the cover image of a blog post (replacing any); a published post is federated again
/// as `Update`.
#[utoipa::path(
    put,
    path = "/api/v1/posts/{id}/cover",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    request_body(content = CoverUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The stored image", body = CoverImage),
        (status = 403, description = "Someone else's post", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the route limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file` missing, not an image or too large; `alt` missing", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_put_post_cover(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<ApiJson<CoverImage>> {
    put_cover(&data, &user, Category::Post, &id, multipart).await
}

/// Removes the cover image of a blog post.
#[utoipa::path(
    delete,
    path = "/api/v1/posts/{id}/cover",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 403, description = "Someone else's post", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_post_cover(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    delete_cover(&data, &user, Category::Post, &id).await
}

/// Sets the cover image of an announcement (replacing any).
#[utoipa::path(
    put,
    path = "/api/v1/announcements/{id}/cover",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Announcement id")),
    request_body(content = CoverUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The stored image", body = CoverImage),
        (status = 403, description = "Someone else's announcement", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such announcement", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the route limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file` missing, not an image or too large; `alt` missing", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_put_announcement_cover(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<ApiJson<CoverImage>> {
    put_cover(&data, &user, Category::Announcement, &id, multipart).await
}

/// Removes the cover image of an announcement.
#[utoipa::path(
    delete,
    path = "/api/v1/announcements/{id}/cover",
    tag = "publishing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Announcement id")),
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 403, description = "Someone else's announcement", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such announcement", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_announcement_cover(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    delete_cover(&data, &user, Category::Announcement, &id).await
}
