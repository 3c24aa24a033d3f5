//! Comments: list those under a post or announcement (local and remote), comment, edit,
//! delete. The twin of `web::pages::comments`; the rules live in `service::comments`.

use crate::{
    db::{self, comments::DbComment},
    error::{AppError, AppResult},
    federation::Data,
    service::comments::{self, ThreadItem},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::{Path, Query},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, patch},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_comments,
        http_post_comment,
        http_patch_comment,
        http_delete_comment
    ),
    components(schemas(
        NewCommentRequest,
        CommentPatchRequest,
        CommentCreated,
        CommentItem,
        CommentAuthorItem,
        CommentList
    ))
)]
pub struct CommentsApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/comments",
            get(http_get_comments).post(http_post_comment),
        )
        .route(
            "/api/v1/comments/{id}",
            patch(http_patch_comment).delete(http_delete_comment),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommentRequest {
    /// ActivityPub id (or page URL) of the post, announcement or comment replied to.
    #[schema(example = "http://localhost:8080/announcements/12")]
    pub in_reply_to: String,
    /// Markdown, 10 000 characters at most.
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentPatchRequest {
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentCreated {
    pub id: i64,
    /// ActivityPub id (`/comments/{id}`).
    pub ap_id: String,
    /// Where it is shown: its anchor on the post's page.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentAuthorItem {
    pub name: String,
    /// `@user@host`.
    pub handle: String,
    pub ap_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentItem {
    pub id: i64,
    pub ap_id: String,
    /// The remote page of a remote comment; the anchor on the post's page for ours.
    pub url: String,
    /// ActivityPub id of the parent (the post, or another comment).
    pub in_reply_to: String,
    pub author: CommentAuthorItem,
    /// Sanitised HTML.
    pub content_html: String,
    /// The content warning of a remote Note (plain text): clients show the body behind it.
    pub content_warning: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    /// One page, in thread order (depth first): whole threads (a direct reply to the post
    /// and every comment below it), about 200 comments, more when one thread is longer.
    /// Deleted comments are left out.
    pub items: Vec<CommentItem>,
    /// Pass it as `cursor` for the next page; `null` on the last page. The same URL is in the
    /// `Link: <…>; rel="next"` header.
    pub next_cursor: Option<String>,
    /// Comments under the post on all pages (deleted ones not counted).
    pub total: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentsQuery {
    /// ActivityPub id (or page URL) of a post or announcement.
    pub object: Option<String>,
    /// Where the page starts: the `next_cursor` of the page before (an opaque string). None:
    /// the first page.
    pub cursor: Option<String>,
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

/// Where a comment is shown on its post's page (`page`: the page of its comments).
fn comment_page(post_page: &str, page: usize, id: i64) -> String {
    crate::web::pages::comments::anchor_at(post_page, page, id)
}

/// The post's page, and the page of its comments that shows `comment`.
async fn post_page(data: &Data, comment: &DbComment) -> AppResult<(String, usize)> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let post = db::posts::by_id(&mut conn, comment.post_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let page = comments::page_of(&mut conn, &post, comment.id).await?;
    Ok((absolute_page(data, &post), page))
}

fn absolute_page(data: &Data, post: &db::posts::DbPost) -> String {
    let page = crate::service::publishing::page_url(post);
    if page.starts_with('/') {
        data.app_data().urls.absolute(&page)
    } else {
        page
    }
}

fn item(post_page: &str, t: ThreadItem) -> CommentItem {
    let c = t.comment;
    CommentItem {
        url: match (&c.url, t.author.local) {
            (Some(url), false) => url.clone(),
            _ => comment_page(post_page, t.page, c.id),
        },
        id: c.id,
        ap_id: c.ap_id,
        in_reply_to: c.in_reply_to,
        author: CommentAuthorItem {
            name: if t.author.name.trim().is_empty() {
                t.author.username.clone()
            } else {
                t.author.name.clone()
            },
            handle: format!("@{}@{}", t.author.username, t.author.domain),
            ap_id: t.author.ap_id,
        },
        content_html: c.body_html,
        content_warning: c.content_warning,
        published: c.published_at,
        updated: (c.updated_at > c.published_at).then_some(c.updated_at),
    }
}

/// The comments under a post or announcement, local and remote, one page of whole threads
/// at a time: follow `next_cursor` (or the `Link: <…>; rel="next"` header) until it is
/// `null` to read them all, each once.
#[utoipa::path(
    get,
    path = "/api/v1/comments",
    tag = "comments",
    security(("bearer" = [])),
    params(CommentsQuery),
    responses(
        (status = 200, description = "One page of comments, in thread order", body = CommentList,
            headers(("Link" = String, description = "`<…/api/v1/comments?object=…&cursor=…>; rel=\"next\"`, absent on the last page"))),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post or announcement", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The post was deleted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`object` missing, or `cursor` not one this API gave", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_comments(
    data: Data,
    _user: ApiUser,
    Query(query): Query<CommentsQuery>,
) -> AppResult<Response> {
    let object = query
        .object
        .filter(|o| !o.trim().is_empty())
        .ok_or_else(|| AppError::field("object", "field.required"))?;
    let (post, found) =
        comments::comments_of(data.app_data(), &object, query.cursor.as_deref()).await?;
    let page = absolute_page(&data, &post);
    let link = found.next_cursor.as_deref().map(|cursor| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("object", &object)
            .append_pair("cursor", cursor)
            .finish();
        let next = data
            .app_data()
            .urls
            .absolute(&format!("/api/v1/comments?{query}"));
        format!("<{next}>; rel=\"next\"")
    });
    let body = ApiJson(CommentList {
        items: found
            .items
            .into_iter()
            .filter(|t| t.comment.deleted_at.is_none())
            .map(|t| item(&page, t))
            .collect(),
        next_cursor: found.next_cursor,
        total: found.total,
    });
    let mut response = body.into_response();
    if let Some(link) = link {
        let value = HeaderValue::from_str(&link)
            .map_err(|e| AppError::internal(format!("Link header: {e}")))?;
        response.headers_mut().insert(header::LINK, value);
    }
    Ok(response)
}

/// Comments a post, an announcement or a comment (federated as `Create(Note)` to the
/// parent's author and audience).
#[utoipa::path(
    post,
    path = "/api/v1/comments",
    tag = "comments",
    security(("bearer" = [])),
    request_body = NewCommentRequest,
    responses(
        (status = 201, description = "Published", body = CommentCreated),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Suspended account, or the address awaits confirmation (`accounts.require_confirmation`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nothing public to reply to at `in_reply_to`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty body, or over 10 000 characters", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_comment(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewCommentRequest>,
) -> AppResult<(StatusCode, ApiJson<CommentCreated>)> {
    let comment = comments::comment(&data, &user.account, &body.in_reply_to, &body.body).await?;
    let (post_page, page) = post_page(&data, &comment).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CommentCreated {
            id: comment.id,
            url: comment_page(&post_page, page, comment.id),
            ap_id: comment.ap_id,
        }),
    ))
}

/// Edits one's own comment (federated as `Update(Note)`).
#[utoipa::path(
    patch,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id")),
    request_body = CommentPatchRequest,
    responses(
        (status = 200, description = "The edited comment", body = CommentItem),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's comment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty body, or over 10 000 characters", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_comment(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CommentPatchRequest>,
) -> AppResult<ApiJson<CommentItem>> {
    let ctx = data.app_data();
    let comment = comments::edit_comment(&data, &user.account, parse_id(&id)?, &body.body).await?;
    let (post_page, page) = post_page(&data, &comment).await?;
    let mut conn = ctx.conn().await?;
    let author = db::actors::by_id(&mut conn, comment.author_actor_id).await?;
    let author = db::comments::CommentAuthor::from(author);
    Ok(ApiJson(item(
        &post_page,
        ThreadItem {
            comment,
            author,
            depth: 0,
            page,
        },
    )))
}

/// Deletes a comment: one's own, or any as a moderator (federated as `Delete`).
#[utoipa::path(
    delete,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's comment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_comment(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    comments::delete_comment(data.app_data(), &user.account, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
