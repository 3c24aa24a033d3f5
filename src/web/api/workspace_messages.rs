//! The chat of a workspace: post, read (paged, with the unread count), edit, delete, mark
//! read. The twin of `web::pages::workspace_chat`; the rules live in
//! `service::workspaces::chat`. Every call checks membership: anyone else gets 404.

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    service::workspaces::{
        self,
        chat::{self, Body, MessageView},
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::{Path, Query},
    http::StatusCode,
    routing::{get, patch, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_workspace_messages,
        http_post_workspace_message,
        http_patch_workspace_message,
        http_delete_workspace_message,
        http_post_workspace_messages_read,
    ),
    components(schemas(
        NewMessageRequest,
        MessagePatchRequest,
        MessageCreated,
        MessageItem,
        MessageList,
        ReadRequest,
        ReadAnswer,
    ))
)]
pub struct WorkspaceMessagesApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/workspaces/{id}/messages",
            get(http_get_workspace_messages).post(http_post_workspace_message),
        )
        .route(
            "/api/v1/workspaces/{id}/messages/read",
            post(http_post_workspace_messages_read),
        )
        .route(
            "/api/v1/workspaces/{id}/messages/{mid}",
            patch(http_patch_workspace_message).delete(http_delete_workspace_message),
        )
}

/// A new message.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageRequest {
    /// Markdown, 1 to 10 000 characters. `@name` (or `@name@server`) of a member mentions them.
    pub body: String,
    /// The message answered (same workspace).
    #[serde(default)]
    pub in_reply_to: Option<Uuid>,
}

/// The new text of one's own message.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagePatchRequest {
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageCreated {
    pub id: Uuid,
    /// The message's ActivityPub id (fetchable by members only, with a signature).
    pub ap_id: String,
    /// Its place in the conversation (for `before` and `read`).
    pub seq: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageItem {
    pub id: Uuid,
    pub seq: i64,
    pub ap_id: String,
    /// The author's display name.
    pub author: String,
    /// `@user@server`.
    pub author_handle: String,
    pub author_url: String,
    /// Sanitised HTML; empty when deleted.
    pub html: String,
    pub in_reply_to: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

impl From<MessageView> for MessageItem {
    fn from(m: MessageView) -> Self {
        MessageItem {
            id: m.id,
            seq: m.seq,
            ap_id: m.ap_id,
            author: m.author,
            author_handle: m.author_handle,
            author_url: m.author_url,
            html: m.html.into_string(),
            in_reply_to: m.in_reply_to,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    /// Newest first, 50 at most.
    pub items: Vec<MessageItem>,
    /// Pass as `before` for the older messages; absent on the last page.
    pub next_before: Option<i64>,
    /// Messages of others the caller has not marked read.
    pub unread: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageListQuery {
    /// Only messages older than this `seq`.
    pub before: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The `seq` read up to; absent = everything so far.
    #[serde(default)]
    pub up_to: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAnswer {
    pub unread: i64,
}

async fn access_of(data: &Data, user: &ApiUser, id: Uuid) -> AppResult<workspaces::Access> {
    workspaces::access(data.app_data(), id, user.account.actor_id).await
}

#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/messages",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id"), MessageListQuery),
    responses(
        (status = 200, description = "One page of the chat, newest first", body = MessageList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_workspace_messages(
    data: Data,
    user: ApiUser,
    Path(id): Path<Uuid>,
    Query(query): Query<MessageListQuery>,
) -> AppResult<ApiJson<MessageList>> {
    let access = access_of(&data, &user, id).await?;
    let page = chat::page(data.app_data(), &access, query.before).await?;
    Ok(ApiJson(MessageList {
        items: page
            .messages
            .into_iter()
            .rev()
            .map(MessageItem::from)
            .collect(),
        next_before: page.older,
        unread: page.unread,
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/messages",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = NewMessageRequest,
    responses(
        (status = 201, description = "Posted (and sent to the members)", body = MessageCreated),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`body` empty or over 10 000 characters; `in_reply_to` not a message of this workspace", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_workspace_message(
    data: Data,
    user: ApiUser,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<NewMessageRequest>,
) -> AppResult<(StatusCode, ApiJson<MessageCreated>)> {
    let access = access_of(&data, &user, id).await?;
    let message = chat::post(
        data.app_data(),
        &access,
        Body::Markdown(body.body),
        body.in_reply_to,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(MessageCreated {
            id: message.id,
            ap_id: message.ap_id,
            seq: message.seq,
        }),
    ))
}

#[utoipa::path(
    patch,
    path = "/api/v1/workspaces/{id}/messages/{mid}",
    tag = "workspaces",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("mid" = Uuid, Path, description = "Message id"),
    ),
    request_body = MessagePatchRequest,
    responses(
        (status = 200, description = "Edited", body = MessageItem),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or message, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Archived workspace, or deleted message", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`body` empty or over 10 000 characters", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_workspace_message(
    data: Data,
    user: ApiUser,
    Path((id, mid)): Path<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<MessagePatchRequest>,
) -> AppResult<ApiJson<MessageItem>> {
    let ctx = data.app_data();
    let access = access_of(&data, &user, id).await?;
    let message = chat::edit(ctx, &access, mid, Body::Markdown(body.body)).await?;
    Ok(ApiJson(chat::one(ctx, &access, message.id).await?.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/workspaces/{id}/messages/{mid}",
    tag = "workspaces",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("mid" = Uuid, Path, description = "Message id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the author nor a coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or message, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_workspace_message(
    data: Data,
    user: ApiUser,
    Path((id, mid)): Path<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let access = access_of(&data, &user, id).await?;
    chat::delete(data.app_data(), &access, mid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/messages/read",
    tag = "workspaces",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = ReadRequest,
    responses(
        (status = 200, description = "The unread count left", body = ReadAnswer),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`up_to` negative", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_workspace_messages_read(
    data: Data,
    user: ApiUser,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReadRequest>,
) -> AppResult<ApiJson<ReadAnswer>> {
    let access = access_of(&data, &user, id).await?;
    if body.up_to.is_some_and(|n| n < 0) {
        return Err(AppError::field("up_to", "workspace_chat.error.up_to"));
    }
    let unread = chat::mark_read(data.app_data(), &access, body.up_to).await?;
    Ok(ApiJson(ReadAnswer { unread }))
}
