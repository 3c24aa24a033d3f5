//! The chat of a workspace (`/espaces/{id}/discussion`): the conversation, 50 messages a
//! page, the form (posted and reloaded without JavaScript), edit and delete forms on one's
//! own messages, and the WebSocket (`…/discussion/ws`) through which the page's small script
//! receives new messages live and posts them. The rules live in `service::workspaces::chat`.

use crate::{
    context::AppContext,
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::workspaces::{
        self, Access, Role,
        chat::{self, Body, MessageView, hub::Subscription},
    },
    urls::workspace_page,
    web::{
        auth::{CurrentUser, MaybeUser},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, render_status, workspace_nav::WorkspaceNav},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{
        Path, Query,
        ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use std::time::Duration;
use uuid::Uuid;

/// Largest frame a page may send (a message of 10 000 characters is at most 40 000 bytes).
const MAX_FRAME_BYTES: usize = 64 * 1024;
/// How often an open socket checks that its member still belongs to the workspace.
const RECHECK_EVERY: Duration = Duration::from_secs(30);

pub fn routes() -> Router {
    Router::new()
        .route(
            "/espaces/{id}/discussion",
            get(http_get_chat).post(http_post_chat),
        )
        .route("/espaces/{id}/discussion/ws", get(http_get_chat_socket))
        .route(
            "/espaces/{id}/discussion/{message}/modifier",
            post(http_post_edit_message),
        )
        .route(
            "/espaces/{id}/discussion/{message}/supprimer",
            post(http_post_delete_message),
        )
}

fn chat_path(id: &Uuid) -> String {
    workspace_page(id, "discussion")
}

#[derive(Template)]
#[template(path = "workspaces/chat.html")]
struct ChatPage<'a> {
    lang: Lang,
    wsnav: WorkspaceNav,
    csrf: &'a str,
    messages: Vec<MessageView>,
    /// Link to the page of older messages.
    older: Option<String>,
    /// Link back to the latest messages when an older page is shown.
    newer: Option<String>,
    /// The reader's actor (their own messages get edit and delete forms).
    me: i64,
    /// Coordinators may delete anyone's message in a workspace hosted here.
    moderator: bool,
    writable: bool,
    action: String,
    body: String,
    reply_to: Option<MessageView>,
    errors: FormState,
}

impl ChatPage<'_> {
    fn can_edit(&self, m: &MessageView) -> bool {
        self.writable && !m.deleted && m.author_actor_id == self.me
    }
    fn can_delete(&self, m: &MessageView) -> bool {
        self.writable && !m.deleted && (m.author_actor_id == self.me || self.moderator)
    }
    fn parent_of(&self, m: &MessageView) -> Option<&MessageView> {
        let id = m.in_reply_to?;
        self.messages.iter().find(|p| p.id == id)
    }
    fn time(&self, m: &MessageView) -> String {
        m.created_at.format("%d/%m/%Y %H:%M").to_string()
    }
}

#[derive(Debug, Default, Deserialize)]
struct ChatQuery {
    before: Option<i64>,
    /// The message answered (`?reponse=<id>`).
    reponse: Option<Uuid>,
}

#[derive(Debug, Default, Deserialize)]
struct MessageForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    in_reply_to: String,
}

async fn member_access(ctx: &AppContext, user: &CurrentUser, id: Uuid) -> AppResult<Access> {
    workspaces::access(ctx, id, user.account.actor_id).await
}

#[allow(clippy::too_many_arguments)]
async fn chat_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    access: &Access,
    before: Option<i64>,
    reply_to: Option<Uuid>,
    body: String,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let page = chat::page(ctx, access, before).await?;
    if before.is_none() {
        // Opening the conversation reads it.
        chat::mark_read(ctx, access, None).await?;
    }
    let mut conn = ctx.conn().await?;
    let fresh =
        workspaces::access_as(&mut conn, access.workspace.id, access.member.actor_id).await?;
    let wsnav = WorkspaceNav::load(&mut conn, &fresh, "discussion").await?;
    drop(conn);
    let reply_to = match reply_to {
        Some(id) => chat::one(ctx, access, id).await.ok().filter(|m| !m.deleted),
        None => None,
    };
    let path = chat_path(&access.workspace.id);
    render_status(
        status,
        &ChatPage {
            lang,
            wsnav,
            csrf: csrf.value(),
            older: page.older.map(|seq| format!("{path}?before={seq}")),
            newer: before.map(|_| path.clone()),
            messages: page.messages,
            me: access.member.actor_id,
            moderator: access.workspace.local && access.role >= Role::Coordinator,
            writable: !access.workspace.is_archived(),
            action: path,
            body,
            reply_to,
            errors,
        },
    )
}

async fn http_get_chat(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<Uuid>,
    Query(query): Query<ChatQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = member_access(ctx, &user, id).await?;
    chat_page(
        ctx,
        lang,
        &csrf,
        &access,
        query.before,
        query.reponse,
        String::new(),
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

fn parse_reply(value: &str) -> AppResult<Option<Uuid>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(value)
        .map(Some)
        .map_err(|_| AppError::field("in_reply_to", "workspace_chat.error.unknown_parent"))
}

async fn http_post_chat(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = member_access(ctx, &user, id).await?;
    let result = match parse_reply(&form.in_reply_to) {
        Ok(parent) => chat::post(ctx, &access, Body::Markdown(form.body.clone()), parent).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(message) => {
            Ok(Redirect::to(&format!("{}#m-{}", chat_path(&id), message.id)).into_response())
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            chat_page(
                ctx,
                lang,
                &csrf,
                &access,
                None,
                parse_reply(&form.in_reply_to).ok().flatten(),
                form.body,
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn http_post_edit_message(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path((id, message)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = member_access(ctx, &user, id).await?;
    match chat::edit(ctx, &access, message, Body::Markdown(form.body.clone())).await {
        Ok(m) => Ok(Redirect::to(&format!("{}#m-{}", chat_path(&id), m.id)).into_response()),
        Err(e) if e.kind == ErrorKind::Validation => {
            chat_page(
                ctx,
                lang,
                &csrf,
                &access,
                None,
                None,
                String::new(),
                FormState::from_error(lang, &e).with_general("workspace_chat.error.edit"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct EmptyForm {}

async fn http_post_delete_message(
    data: Data,
    user: CurrentUser,
    Path((id, message)): Path<(Uuid, Uuid)>,
    CsrfForm(_form): CsrfForm<EmptyForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = member_access(ctx, &user, id).await?;
    chat::delete(ctx, &access, message).await?;
    Ok(Redirect::to(&chat_path(&id)).into_response())
}

// The live socket.

/// What a page sends through the socket.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ClientFrame {
    /// A new message (the same rules as the form).
    Post {
        body: String,
        #[serde(default)]
        in_reply_to: Option<Uuid>,
    },
    /// The page has shown everything up to `up_to`.
    Read { up_to: Option<i64> },
}

/// Whether a browser says the socket is opened from another site (cross-site WebSocket
/// hijacking: the session cookie would go along).
fn cross_site(ctx: &AppContext, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let ours = url::Url::parse(&ctx.config.instance.url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let same_host = origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
    !(origin.eq_ignore_ascii_case(&ours) || same_host)
}

/// The socket of an open chat page. The session and the membership are checked before the
/// upgrade: no session → 401, not a member (or no such workspace) → 404, nothing opened.
async fn http_get_chat_socket(
    data: Data,
    MaybeUser(user): MaybeUser,
    PageLang(lang): PageLang,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ctx = data.app_data().clone();
    let Some(user) = user else {
        return AppError::unauthorized().into_response();
    };
    let access = match member_access(&ctx, &user, id).await {
        Ok(access) => access,
        Err(e) => return e.into_response(),
    };
    if cross_site(&ctx, &headers) {
        return AppError::forbidden("the chat opens from this site only").into_response();
    }
    match upgrade {
        Ok(upgrade) => {
            // Subscribed before answering: nothing posted after the handshake is missed.
            let subscription = ctx.chat_hub.subscribe(access.workspace.id);
            upgrade
                .max_message_size(MAX_FRAME_BYTES)
                .max_frame_size(MAX_FRAME_BYTES)
                .on_upgrade(move |socket| run_socket(ctx, access, lang, subscription, socket))
        }
        Err(rejection) => rejection.into_response(),
    }
}

fn error_frame(lang: Lang, error: &AppError) -> String {
    let (field, key) = error
        .fields
        .first()
        .map(|f| (f.field.as_str(), f.message_key))
        .unwrap_or(("", error.message_key.unwrap_or(error.kind.title_key())));
    serde_json::json!({
        "type": "error",
        "status": error.status().as_u16(),
        "field": field,
        "message": lang.t(key),
    })
    .to_string()
}

async fn run_socket(
    ctx: AppContext,
    access: Access,
    lang: Lang,
    mut subscription: Subscription,
    mut socket: WebSocket,
) {
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.tick().await;
    loop {
        tokio::select! {
            frame = subscription.receiver.recv() => match frame {
                Ok(frame) => {
                    if socket.send(Message::Text((&*frame).into())).await.is_err() {
                        break;
                    }
                }
                // Too slow: some frames were skipped; tell the page to reload what it missed.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let resync = r#"{"type":"resync"}"#;
                    if socket.send(Message::Text(resync.into())).await.is_err() {
                        break;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let answer = handle_frame(&ctx, &access, lang, text.as_str()).await;
                    if let Some(answer) = answer
                        && socket.send(Message::Text(answer.into())).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = recheck.tick() => {
                // A member removed meanwhile stops receiving at once.
                if workspaces::access(&ctx, access.workspace.id, access.member.actor_id)
                    .await
                    .is_err()
                {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            }
        }
    }
}

/// One frame from the page; the answer to send back, if any.
async fn handle_frame(ctx: &AppContext, access: &Access, lang: Lang, text: &str) -> Option<String> {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => frame,
        Err(_) => {
            return Some(error_frame(
                lang,
                &AppError::bad_request("unreadable frame"),
            ));
        }
    };
    match frame {
        ClientFrame::Post { body, in_reply_to } => {
            match chat::post(ctx, access, Body::Markdown(body), in_reply_to).await {
                Ok(message) => Some(
                    serde_json::json!({"type": "posted", "id": message.id, "seq": message.seq})
                        .to_string(),
                ),
                Err(e) => Some(error_frame(lang, &e)),
            }
        }
        ClientFrame::Read { up_to } => match chat::mark_read(ctx, access, up_to).await {
            Ok(unread) => Some(serde_json::json!({"type": "unread", "unread": unread}).to_string()),
            Err(e) => Some(error_frame(lang, &e)),
        },
    }
}
