//! The forum's JSON API: categories (staff create and edit them), threads, replies,
//! moderation (lock, pin, move), subscriptions and search. The twin of the pages in
//! `web::pages::forum*`; the rules live in `service::forum` (and `service::comments` for
//! replies). Reading needs no token; writing needs one.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, posts::DbPost},
    error::{AppError, AppResult},
    federation::Data,
    service::{
        comments,
        forum::{
            categories::{self, CategoryInput},
            search,
            subscriptions::{self, Target},
            threads::{self, ThreadInput},
        },
        publishing::page_url,
    },
    web::api::{ApiJson, ApiUser, directory::MaybeApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::{Path, Query},
    http::StatusCode,
    routing::{get, post, put},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_categories,
        http_post_category,
        http_patch_category,
        http_get_threads,
        http_post_thread,
        http_get_thread,
        http_patch_thread,
        http_delete_thread,
        http_post_reply,
        http_post_moderation,
        http_put_category_subscription,
        http_put_thread_subscription,
        http_get_search,
    ),
    components(schemas(
        CategoryView,
        CategoryList,
        NewCategoryRequest,
        CategoryPatchRequest,
        CategoryCreated,
        ThreadSummary,
        ThreadList,
        NewThreadRequest,
        ThreadPatchRequest,
        ThreadCreated,
        ThreadDetail,
        ReplyView,
        NewReplyRequest,
        ReplyCreated,
        ModerationRequest,
        SubscriptionRequest,
        SubscriptionView,
        SearchResults,
        SearchResult,
    ))
)]
pub struct ForumApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/forum/categories",
            get(http_get_categories).post(http_post_category),
        )
        .route(
            "/api/v1/forum/categories/{slug}",
            axum::routing::patch(http_patch_category),
        )
        .route(
            "/api/v1/forum/categories/{slug}/threads",
            get(http_get_threads).post(http_post_thread),
        )
        .route(
            "/api/v1/forum/categories/{slug}/subscription",
            put(http_put_category_subscription),
        )
        .route(
            "/api/v1/forum/threads/{id}",
            get(http_get_thread)
                .patch(http_patch_thread)
                .delete(http_delete_thread),
        )
        .route("/api/v1/forum/threads/{id}/replies", post(http_post_reply))
        .route(
            "/api/v1/forum/threads/{id}/moderation",
            post(http_post_moderation),
        )
        .route(
            "/api/v1/forum/threads/{id}/subscription",
            put(http_put_thread_subscription),
        )
        .route("/api/v1/forum/search", get(http_get_search))
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

fn name_of(actor: &DbActor) -> String {
    if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    }
}

fn handle_of(ctx: &AppContext, actor: &DbActor) -> String {
    if actor.local {
        format!("{}@{}", actor.username, ctx.config.domain())
    } else {
        format!("{}@{}", actor.username, actor.domain)
    }
}

fn absolute(ctx: &AppContext, url: String) -> String {
    if url.starts_with('/') {
        ctx.urls.absolute(&url)
    } else {
        url
    }
}

// ---------------------------------------------------------------------------------------------
// Categories

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub slug: String,
    pub name: String,
    /// Markdown as written.
    pub description: String,
    pub description_html: String,
    /// Its page, and the ActivityPub id of its `Group` (the same URL, content-negotiated).
    pub url: String,
    pub ap_id: String,
    /// `slug@host`: what to search for on Mastodon or Lemmy to follow it.
    pub handle: String,
    /// Live threads.
    pub threads: i64,
    pub last_activity_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    /// In staff's order.
    pub items: Vec<CategoryView>,
}

/// A new category (staff). Only `name` is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewCategoryRequest {
    /// 1 to 80 characters.
    pub name: String,
    /// Markdown, up to 2 000 characters.
    pub description: String,
    /// Lower-case letters, digits and hyphens; empty: made from the name. Never changes.
    pub slug: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CategoryPatchRequest {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryCreated {
    pub slug: String,
    pub url: String,
    pub ap_id: String,
}

/// The forum's categories, in staff's order, with their figures.
#[utoipa::path(
    get,
    path = "/api/v1/forum/categories",
    tag = "forum",
    responses((status = 200, description = "The categories", body = CategoryList)),
)]
async fn http_get_categories(data: Data) -> AppResult<ApiJson<CategoryList>> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let items = categories::list(&mut conn)
        .await?
        .into_iter()
        .map(|s| CategoryView {
            url: ctx.urls.forum_category(&s.category.slug),
            ap_id: ctx.urls.forum_category(&s.category.slug),
            handle: format!("{}@{}", s.category.slug, ctx.config.domain()),
            slug: s.category.slug,
            name: s.category.name,
            description: s.category.description_markdown,
            description_html: s.category.description_html,
            threads: s.threads,
            last_activity_at: s.last_activity_at,
        })
        .collect();
    Ok(ApiJson(CategoryList { items }))
}

/// Creates a category (staff): a `Group` the fediverse can follow, last in the order.
#[utoipa::path(
    post,
    path = "/api/v1/forum/categories",
    tag = "forum",
    security(("bearer" = [])),
    request_body = NewCategoryRequest,
    responses(
        (status = 201, description = "Created", body = CategoryCreated),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named: name, description, slug (shape, or taken)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_category(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewCategoryRequest>,
) -> AppResult<(StatusCode, ApiJson<CategoryCreated>)> {
    let ctx = data.app_data();
    let category = categories::create(
        ctx,
        &user.account,
        CategoryInput {
            name: body.name,
            description: body.description,
            slug: body.slug,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CategoryCreated {
            url: ctx.urls.forum_category(&category.slug),
            ap_id: ctx.urls.forum_category(&category.slug),
            slug: category.slug,
        }),
    ))
}

/// Changes a category's name or description (staff); its followers get an `Update`.
#[utoipa::path(
    patch,
    path = "/api/v1/forum/categories/{slug}",
    tag = "forum",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The category's slug")),
    request_body = CategoryPatchRequest,
    responses(
        (status = 200, description = "Changed", body = CategoryCreated),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_category(
    data: Data,
    user: ApiUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<CategoryPatchRequest>,
) -> AppResult<ApiJson<CategoryCreated>> {
    let ctx = data.app_data();
    let current = {
        let mut conn = ctx.conn().await?;
        categories::by_slug(&mut conn, &slug).await?.0
    };
    let category = categories::edit(
        ctx,
        &user.account,
        &slug,
        CategoryInput {
            name: body.name.unwrap_or(current.name),
            description: body.description.unwrap_or(current.description_markdown),
            slug: String::new(),
        },
    )
    .await?;
    Ok(ApiJson(CategoryCreated {
        url: ctx.urls.forum_category(&category.slug),
        ap_id: ctx.urls.forum_category(&category.slug),
        slug: category.slug,
    }))
}

// ---------------------------------------------------------------------------------------------
// Threads

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadSummary {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub ap_id: String,
    pub category: String,
    pub author: String,
    /// `user@host`.
    pub author_handle: String,
    pub replies: i32,
    pub pinned: bool,
    pub locked: bool,
    /// Activity since the caller last read it (false without a token).
    pub unread: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadList {
    /// Pinned first, then by last activity.
    pub items: Vec<ThreadSummary>,
    pub page: i64,
    pub pages: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// From 1.
    pub page: Option<i64>,
}

fn summary(
    ctx: &AppContext,
    slug: &str,
    post: &DbPost,
    thread: &db::forum::DbThread,
    author: &DbActor,
    unread: bool,
) -> ThreadSummary {
    ThreadSummary {
        id: post.id,
        title: post.title.clone(),
        url: absolute(ctx, page_url(post)),
        ap_id: post.ap_id.clone(),
        category: slug.to_string(),
        author: name_of(author),
        author_handle: handle_of(ctx, author),
        replies: thread.reply_count,
        pinned: thread.is_pinned(),
        locked: thread.is_locked(),
        unread,
        published_at: post.published_at,
        last_activity_at: thread.last_activity_at,
    }
}

/// One page (30) of a category's threads, pinned first then by last activity.
#[utoipa::path(
    get,
    path = "/api/v1/forum/categories/{slug}/threads",
    tag = "forum",
    params(("slug" = String, Path, description = "The category's slug"), PageParams),
    responses(
        (status = 200, description = "The threads", body = ThreadList),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_threads(
    data: Data,
    MaybeApiUser(user): MaybeApiUser,
    Path(slug): Path<String>,
    Query(params): Query<PageParams>,
) -> AppResult<ApiJson<ThreadList>> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let (category, _) = categories::by_slug(&mut conn, &slug).await?;
    let page = params.page.unwrap_or(1).max(1);
    let viewer = user.as_ref().map(|u| &u.account);
    let (rows, pages) = threads::list(&mut conn, &category, viewer, page).await?;
    Ok(ApiJson(ThreadList {
        items: rows
            .iter()
            .map(|r| summary(ctx, &category.slug, &r.post, &r.thread, &r.author, r.unread))
            .collect(),
        page: page.min(pages),
        pages,
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewThreadRequest {
    /// 1 to 200 characters.
    pub title: String,
    /// Markdown, 1 to 20 000 characters.
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadCreated {
    pub id: i64,
    pub url: String,
    pub ap_id: String,
}

/// Starts a thread in a category: public at once, announced by the category to its
/// followers; its author follows it.
#[utoipa::path(
    post,
    path = "/api/v1/forum/categories/{slug}/threads",
    tag = "forum",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The category's slug")),
    request_body = NewThreadRequest,
    responses(
        (status = 201, description = "Started", body = ThreadCreated),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Suspended, or the address is not confirmed yet", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named: title, body", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_thread(
    data: Data,
    user: ApiUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<NewThreadRequest>,
) -> AppResult<(StatusCode, ApiJson<ThreadCreated>)> {
    let ctx = data.app_data();
    let post = threads::start(
        &data,
        &user.account,
        &slug,
        ThreadInput {
            title: body.title,
            body: body.body,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ThreadCreated {
            id: post.id,
            url: absolute(ctx, page_url(&post)),
            ap_id: post.ap_id,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyView {
    pub id: i64,
    pub ap_id: String,
    /// The reply it answers (`None`: the thread itself).
    pub parent_id: Option<i64>,
    pub author: String,
    pub author_handle: String,
    /// Sanitised HTML; empty once deleted.
    pub content_html: String,
    pub deleted: bool,
    pub published_at: DateTime<Utc>,
    /// Written since the caller last read the thread (before this request).
    pub new: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadDetail {
    #[serde(flatten)]
    pub summary: ThreadSummary,
    /// Markdown as written (empty for a thread from another server).
    pub body: String,
    pub body_html: String,
    /// This page of replies, threaded depth-first.
    pub replies_page: usize,
    pub replies_pages: usize,
    pub replies: Vec<ReplyView>,
    /// Whether the caller follows it.
    pub following: bool,
}

/// A thread and one page of its replies (threaded, depth-first). Reading it with a token
/// marks it read for the caller.
#[utoipa::path(
    get,
    path = "/api/v1/forum/threads/{id}",
    tag = "forum",
    params(("id" = i64, Path, description = "Thread id"), PageParams),
    responses(
        (status = 200, description = "The thread", body = ThreadDetail),
        (status = 404, description = "No such thread (or deleted, or withheld)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_thread(
    data: Data,
    MaybeApiUser(user): MaybeApiUser,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> AppResult<ApiJson<ThreadDetail>> {
    let ctx = data.app_data();
    let viewer = user.as_ref().map(|u| &u.account);
    let shown = threads::show(ctx, parse_id(&id)?, viewer).await?;
    let mut conn = ctx.conn().await?;
    let page = usize::try_from(params.page.unwrap_or(1).max(1)).unwrap_or(1);
    let found = comments::thread_page(&mut conn, &shown.post, page).await?;
    let replies = found
        .items
        .into_iter()
        .map(|item| {
            let deleted = item.comment.deleted_at.is_some();
            ReplyView {
                id: item.comment.id,
                ap_id: item.comment.ap_id.clone(),
                parent_id: item.comment.parent_id,
                author: if item.author.name.trim().is_empty() {
                    item.author.username.clone()
                } else {
                    item.author.name.clone()
                },
                author_handle: format!(
                    "{}@{}",
                    item.author.username,
                    if item.author.local {
                        ctx.config.domain()
                    } else {
                        item.author.domain.clone()
                    }
                ),
                content_html: if deleted {
                    String::new()
                } else {
                    item.comment.body_html.clone()
                },
                deleted,
                published_at: item.comment.published_at,
                new: shown
                    .previously_read
                    .is_some_and(|read| item.comment.published_at > read),
            }
        })
        .collect();
    Ok(ApiJson(ThreadDetail {
        summary: summary(
            ctx,
            &shown.category.slug,
            &shown.post,
            &shown.thread,
            &shown.author,
            false,
        ),
        body: shown.post.body_markdown.clone(),
        body_html: shown.post.body_html.clone(),
        replies_page: found.page,
        replies_pages: found.pages,
        replies,
        following: shown.subscribed,
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ThreadPatchRequest {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// Its author edits a thread (an `Update` announced by the category).
#[utoipa::path(
    patch,
    path = "/api/v1/forum/threads/{id}",
    tag = "forum",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id")),
    request_body = ThreadPatchRequest,
    responses(
        (status = 200, description = "Edited", body = ThreadCreated),
        (status = 403, description = "Someone else's thread", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named: title, body", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_thread(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ThreadPatchRequest>,
) -> AppResult<ApiJson<ThreadCreated>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let current = {
        let mut conn = ctx.conn().await?;
        threads::live_thread(&mut conn, id).await?.0
    };
    let post = threads::edit(
        &data,
        &user.account,
        id,
        ThreadInput {
            title: body.title.unwrap_or(current.title),
            body: body.body.unwrap_or(current.body_markdown),
        },
    )
    .await?;
    Ok(ApiJson(ThreadCreated {
        id: post.id,
        url: absolute(ctx, page_url(&post)),
        ap_id: post.ap_id,
    }))
}

/// Deletes a thread: its author, or a moderator of its category.
#[utoipa::path(
    delete,
    path = "/api/v1/forum/threads/{id}",
    tag = "forum",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither its author nor a moderator of its category", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_thread(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    threads::delete(data.app_data(), &user.account, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewReplyRequest {
    /// Markdown.
    pub body: String,
    /// The reply answered (its id); absent: the thread itself.
    pub in_reply_to: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyCreated {
    pub id: i64,
    pub ap_id: String,
}

/// Replies in a thread (or to one of its replies). A locked thread answers 409, a deleted
/// one 410, each with the reason.
#[utoipa::path(
    post,
    path = "/api/v1/forum/threads/{id}/replies",
    tag = "forum",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id")),
    request_body = NewReplyRequest,
    responses(
        (status = 201, description = "Posted", body = ReplyCreated),
        (status = 404, description = "No such thread or reply", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The thread is locked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body breaks a rule (empty, too long)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_reply(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewReplyRequest>,
) -> AppResult<(StatusCode, ApiJson<ReplyCreated>)> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let target = {
        let mut conn = ctx.conn().await?;
        let (post, _, _) = threads::live_thread(&mut conn, id).await?;
        match body.in_reply_to {
            Some(reply) => db::comments::by_id(&mut conn, reply)
                .await?
                .filter(|c| c.post_id == post.id)
                .map(|c| c.ap_id)
                .ok_or_else(AppError::not_found)?,
            None => post.ap_id,
        }
    };
    let comment = comments::comment(&data, &user.account, &target, &body.body).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ReplyCreated {
            id: comment.id,
            ap_id: comment.ap_id,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationRequest {
    /// `lock`, `unlock`, `pin`, `unpin` or `move`.
    pub action: String,
    /// The destination category's slug (for `move`).
    #[serde(default)]
    pub category: Option<String>,
}

/// A moderator of the thread's category locks, unlocks, pins, unpins or moves it (each
/// federated as Lemmy does: `Lock`, `Add`/`Remove` on `featured`…).
#[utoipa::path(
    post,
    path = "/api/v1/forum/threads/{id}/moderation",
    tag = "forum",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id")),
    request_body = ModerationRequest,
    responses(
        (status = 200, description = "Done: the thread as it is now", body = ThreadSummary),
        (status = 403, description = "Not a moderator of the category (or of the destination)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown action or category, named", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_moderation(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ModerationRequest>,
) -> AppResult<ApiJson<ThreadSummary>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let account = &user.account;
    match body.action.as_str() {
        "lock" => threads::set_locked(ctx, account, id, true).await?,
        "unlock" => threads::set_locked(ctx, account, id, false).await?,
        "pin" => threads::set_pinned(ctx, account, id, true).await?,
        "unpin" => threads::set_pinned(ctx, account, id, false).await?,
        "move" => {
            threads::move_to(ctx, account, id, body.category.as_deref().unwrap_or("")).await?
        }
        _ => return Err(AppError::field("action", "forum.field.unknown_action")),
    };
    let mut conn = ctx.conn().await?;
    let (post, thread, category) = threads::live_thread(&mut conn, id).await?;
    let author = db::actors::by_id(&mut conn, post.author_actor_id).await?;
    Ok(ApiJson(summary(
        ctx,
        &category.slug,
        &post,
        &thread,
        &author,
        false,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// Follow (`true`) or stop following (`false`).
    pub following: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub following: bool,
}

/// Follows a category (told of each new thread) or stops following it.
#[utoipa::path(
    put,
    path = "/api/v1/forum/categories/{slug}/subscription",
    tag = "forum",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The category's slug")),
    request_body = SubscriptionRequest,
    responses(
        (status = 200, description = "Done", body = SubscriptionView),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_put_category_subscription(
    data: Data,
    user: ApiUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<SubscriptionRequest>,
) -> AppResult<ApiJson<SubscriptionView>> {
    let following = subscriptions::set(
        data.app_data(),
        &user.account,
        &Target::Category(slug),
        body.following,
    )
    .await?;
    Ok(ApiJson(SubscriptionView { following }))
}

/// Follows a thread (told of each new reply) or stops following it.
#[utoipa::path(
    put,
    path = "/api/v1/forum/threads/{id}/subscription",
    tag = "forum",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id")),
    request_body = SubscriptionRequest,
    responses(
        (status = 200, description = "Done", body = SubscriptionView),
        (status = 404, description = "No such thread", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_put_thread_subscription(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubscriptionRequest>,
) -> AppResult<ApiJson<SubscriptionView>> {
    let following = subscriptions::set(
        data.app_data(),
        &user.account,
        &Target::Thread(parse_id(&id)?),
        body.following,
    )
    .await?;
    Ok(ApiJson(SubscriptionView { following }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find (French full text: accents and plurals do not matter; typos in titles
    /// are forgiven).
    pub q: Option<String>,
    /// A category's slug.
    pub category: Option<String>,
    /// From 1.
    pub page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub url: String,
    pub title: String,
    pub excerpt: String,
    pub category: String,
    pub author: String,
    /// A reply (else the thread itself).
    pub reply: bool,
    pub thread_id: i64,
    pub reply_id: Option<i64>,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchResult>,
    pub total: i64,
    pub page: i64,
}

/// Searches threads and replies (20 a page, best first).
#[utoipa::path(
    get,
    path = "/api/v1/forum/search",
    tag = "forum",
    params(SearchParams),
    responses(
        (status = 200, description = "What matches", body = SearchResults),
        (status = 400, description = "Unknown category, named", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_search(
    data: Data,
    Query(params): Query<SearchParams>,
) -> AppResult<ApiJson<SearchResults>> {
    let ctx = data.app_data();
    let page = params.page.unwrap_or(1).max(1);
    let found = search::search(
        ctx,
        &search::Query {
            text: params.q.unwrap_or_default(),
            category: params.category,
            page,
        },
    )
    .await?;
    Ok(ApiJson(SearchResults {
        total: found.total,
        page,
        items: found
            .hits
            .into_iter()
            .map(|h| SearchResult {
                url: absolute(ctx, h.url),
                title: h.title,
                excerpt: h.excerpt,
                category: h.category_slug,
                author: h.author,
                reply: h.is_reply,
                thread_id: h.thread_id,
                reply_id: h.reply_id,
                published_at: h.published_at,
            })
            .collect(),
    }))
}
