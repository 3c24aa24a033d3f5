//! The chat of a workspace: messages posted, edited and deleted by members (local ones here,
//! remote ones through the inbox: the same functions, with the remote actor as author),
//! mentions of members, unread counters, and the live frames pushed to open pages through
//! [`hub`] once each transaction has committed.

pub mod hub;

use super::{Access, Role};
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        workspace_messages::{DbWorkspaceMessage, NewWorkspaceMessage},
        workspaces::{DbWorkspace, DbWorkspaceMember},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::{SafeHtml, plain_text},
    service::{
        mentions::{self, Mention},
        notifications::{self, Event, NotificationKind, WorkspaceRefs},
        outbound::{self, OutboundEvent},
    },
};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use uuid::Uuid;

/// Longest message, in characters (Markdown as written, or the text of a remote message).
pub const MAX_CHARS: usize = 10_000;
/// Messages per page of the conversation.
pub const PAGE_SIZE: i64 = 50;

/// What a message says, as it arrives.
#[derive(Debug, Clone)]
pub enum Body {
    /// Written here, in Markdown.
    Markdown(String),
    /// Received from another server: its HTML (cleaned here), its id there, when it was
    /// written, and the actors its `Mention` tags name.
    Remote {
        ap_id: String,
        html: String,
        published: Option<DateTime<Utc>>,
        mentioned: Vec<String>,
    },
}

/// Text checked and rendered: the stored Markdown (the plain text for a remote message), the
/// HTML and the members it mentions.
struct Rendered {
    markdown: String,
    html: SafeHtml,
    mentioned: Vec<DbActor>,
}

fn too_long_or_empty(text: &str) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    if text.trim().is_empty() {
        errors.add("body", "field.required");
    } else if text.chars().count() > MAX_CHARS {
        errors.add("body", "workspace_chat.error.too_long");
    }
    errors.into_result()
}

/// The access of a remote author in a remote workspace we mirror, whose `Group` relayed their
/// message: that workspace lists only our members, so its `Group` vouches for the author.
pub fn relayed_access(workspace: DbWorkspace, author_actor_id: i64) -> Access {
    Access {
        member: DbWorkspaceMember {
            workspace_id: workspace.id,
            actor_id: author_actor_id,
            role: Role::Member.as_str().to_string(),
            joined_at: workspace.created_at,
            last_read_seq: 0,
        },
        workspace,
        role: Role::Member,
    }
}

/// `access` checked again inside a transaction (membership may have ended meanwhile). A
/// relayed author of a remote workspace ([`relayed_access`]) has no row: the workspace row
/// is read again, the rest kept.
async fn recheck(conn: &mut AsyncPgConnection, access: &Access) -> AppResult<Access> {
    let id = access.workspace.id;
    match super::access_as(conn, id, access.member.actor_id).await {
        Err(e) if e.kind == ErrorKind::NotFound && !access.workspace.local => {
            let author = db::actors::by_id(conn, access.member.actor_id).await?;
            let workspace = db::workspaces::by_id(conn, id)
                .await?
                .ok_or_else(AppError::not_found)?;
            if author.local {
                return Err(e);
            }
            Ok(relayed_access(workspace, author.id))
        }
        other => other,
    }
}

/// Checks the length, renders and links the mentions of members (only members can be
/// mentioned: any other `@name` stays plain text).
async fn render(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    body: &Body,
) -> AppResult<Rendered> {
    let members: Vec<DbActor> = db::workspaces::members(conn, workspace_id)
        .await?
        .into_iter()
        .map(|(_, actor)| actor)
        .collect();
    match body {
        Body::Markdown(text) => {
            let text = text.replace("\r\n", "\n");
            let text = text.trim();
            too_long_or_empty(text)?;
            let html = SafeHtml::from_markdown(text);
            let domain = ctx.config.domain();
            let handles = mentions::handles_in_html(html.as_str(), &domain);
            let mut mentioned = Vec::new();
            for handle in handles {
                let host = handle.host.as_deref().unwrap_or(&domain);
                if let Some(actor) = members.iter().find(|a| {
                    a.username.eq_ignore_ascii_case(&handle.user)
                        && a.domain.eq_ignore_ascii_case(host)
                }) && !mentioned.iter().any(|m: &DbActor| m.id == actor.id)
                {
                    mentioned.push(actor.clone());
                }
            }
            let tags: Vec<Mention> = mentioned.iter().map(Mention::of).collect();
            let html = mentions::link_html(&html, &tags, &domain);
            Ok(Rendered {
                markdown: text.to_string(),
                html,
                mentioned,
            })
        }
        Body::Remote {
            html, mentioned, ..
        } => {
            let html = SafeHtml::clean(html);
            let text = plain_text(html.as_str());
            too_long_or_empty(&text)?;
            let mentioned = members
                .into_iter()
                .filter(|a| mentioned.contains(&a.ap_id))
                .collect();
            Ok(Rendered {
                markdown: text,
                html,
                mentioned,
            })
        }
    }
}

/// Notifies the local members of `actors` (other than the author) that they were mentioned.
async fn notify_mentioned(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    message: &DbWorkspaceMessage,
    actors: &[DbActor],
) -> AppResult<()> {
    for actor in actors {
        if !actor.local || actor.id == message.author_actor_id {
            continue;
        }
        let Some(account) = db::accounts::by_actor_id(conn, actor.id).await? else {
            continue;
        };
        notifications::record(
            ctx,
            conn,
            Event {
                account_id: account.id,
                kind: NotificationKind::WorkspaceMention,
                actor_id: Some(message.author_actor_id),
                post_id: None,
                comment_id: None,
                object_ap_id: Some(message.ap_id.clone()),
                alert_id: None,
                dedupe_key: Some(format!("workspace-mention:{}:{}", message.id, actor.id)),
                report_id: None,
                moderation_action_id: None,
                loan_request_id: None,
                venue_id: None,
                workspace: WorkspaceRefs {
                    workspace_id: Some(message.workspace_id),
                    message_id: Some(message.id),
                    ..Default::default()
                },
            },
        )
        .await?;
    }
    Ok(())
}

/// The parent of a reply: a message of the same workspace, else 422 on `in_reply_to`.
async fn parent(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    in_reply_to: Option<Uuid>,
) -> AppResult<Option<DbWorkspaceMessage>> {
    let Some(id) = in_reply_to else {
        return Ok(None);
    };
    match db::workspace_messages::by_id(conn, id).await? {
        Some(m) if m.workspace_id == workspace_id => Ok(Some(m)),
        _ => Err(AppError::field(
            "in_reply_to",
            "workspace_chat.error.unknown_parent",
        )),
    }
}

/// A member posts a message (a local member's Markdown, or a remote member's message that
/// arrived by federation: then it is stored once, whatever the number of copies received).
/// 422 naming `body` when empty or over [`MAX_CHARS`], 409 when the workspace is archived.
/// Mentioned local members are notified; open pages get the message once committed.
pub async fn post(
    ctx: &AppContext,
    access: &Access,
    body: Body,
    in_reply_to: Option<Uuid>,
) -> AppResult<DbWorkspaceMessage> {
    access.require_writable()?;
    let mut conn = ctx.conn().await?;
    let workspace = access.workspace.clone();
    let author_id = access.member.actor_id;
    let (message, fresh) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let access = recheck(conn, access).await?;
            access.require_writable()?;
            if let Body::Remote { ap_id, .. } = &body
                && let Some(existing) = db::workspace_messages::by_ap_id(conn, ap_id).await?
            {
                if existing.workspace_id != workspace.id || existing.author_actor_id != author_id {
                    return Err(AppError::bad_request(
                        "this message belongs to someone else",
                    ));
                }
                return Ok((existing, false));
            }
            let rendered = render(ctx, conn, workspace.id, &body).await?;
            let parent = parent(conn, workspace.id, in_reply_to).await?;
            let id = Uuid::new_v4();
            let (ap_id, created_at) = match &body {
                Body::Markdown(_) => (
                    ctx.urls.workspace_object(&workspace.id, "messages", &id),
                    Utc::now(),
                ),
                Body::Remote {
                    ap_id, published, ..
                } => (
                    ap_id.clone(),
                    published
                        .filter(|p| *p <= Utc::now())
                        .unwrap_or_else(Utc::now),
                ),
            };
            let message = db::workspace_messages::insert(
                conn,
                &NewWorkspaceMessage {
                    id,
                    workspace_id: workspace.id,
                    author_actor_id: author_id,
                    ap_id,
                    body_markdown: rendered.markdown,
                    body_html: rendered.html.into_string(),
                    in_reply_to_id: parent.map(|p| p.id),
                    created_at,
                },
            )
            .await?
            .ok_or_else(|| AppError::bad_request("this message was already received"))?;
            let ids: Vec<i64> = rendered.mentioned.iter().map(|a| a.id).collect();
            db::workspace_messages::set_mentions(conn, message.id, &ids).await?;
            notify_mentioned(ctx, conn, &message, &rendered.mentioned).await?;
            let author = db::actors::by_id(conn, author_id).await?;
            if author.local {
                // The author has read their own message.
                db::workspace_messages::mark_read(conn, workspace.id, author_id, message.seq)
                    .await?;
            }
            outbound::record(
                ctx,
                conn,
                OutboundEvent::WorkspaceMessagePosted {
                    workspace: Box::new(access.workspace.clone()),
                    message: Box::new(message.clone()),
                    author: Box::new(author),
                },
            )
            .await?;
            hub::notify_others(
                conn,
                &ctx.chat_hub,
                workspace.id,
                hub::Kind::Message,
                message.id,
            )
            .await?;
            Ok((message, true))
        })
        .await?;
    if fresh {
        ctx.chat_hub
            .publish_message(&mut conn, hub::Kind::Message, &message)
            .await;
    }
    Ok(message)
}

/// The message `id` of the workspace (404 when it is another workspace's or unknown).
async fn message_of(
    conn: &mut AsyncPgConnection,
    access: &Access,
    id: Uuid,
) -> AppResult<DbWorkspaceMessage> {
    match db::workspace_messages::by_id_for_update(conn, id).await? {
        Some(m) if m.workspace_id == access.workspace.id => Ok(m),
        _ => Err(AppError::not_found()),
    }
}

/// A member edits their own message (nobody else may: 403). A remote member's edit arrives
/// as [`Body::Remote`] with the same `ap_id`. Deleted messages cannot be edited (409).
pub async fn edit(
    ctx: &AppContext,
    access: &Access,
    id: Uuid,
    body: Body,
) -> AppResult<DbWorkspaceMessage> {
    access.require_writable()?;
    let mut conn = ctx.conn().await?;
    let workspace_id = access.workspace.id;
    let actor_id = access.member.actor_id;
    let message = conn
        .transaction::<_, AppError, _>(async |conn| {
            let access = recheck(conn, access).await?;
            access.require_writable()?;
            let message = message_of(conn, &access, id).await?;
            if message.author_actor_id != actor_id {
                return Err(AppError::forbidden("only its author edits a message"));
            }
            if message.deleted_at.is_some() {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "this message was deleted",
                ));
            }
            let rendered = render(ctx, conn, workspace_id, &body).await?;
            let before = db::workspace_messages::mentions(conn, message.id).await?;
            let updated = db::workspace_messages::set_body(
                conn,
                message.id,
                &rendered.markdown,
                rendered.html.as_str(),
                Utc::now(),
            )
            .await?;
            let ids: Vec<i64> = rendered.mentioned.iter().map(|a| a.id).collect();
            db::workspace_messages::set_mentions(conn, message.id, &ids).await?;
            let newly: Vec<DbActor> = rendered
                .mentioned
                .into_iter()
                .filter(|a| !before.contains(&a.id))
                .collect();
            notify_mentioned(ctx, conn, &updated, &newly).await?;
            let author = db::actors::by_id(conn, actor_id).await?;
            outbound::record(
                ctx,
                conn,
                OutboundEvent::WorkspaceMessageEdited {
                    workspace: Box::new(access.workspace.clone()),
                    message: Box::new(updated.clone()),
                    author: Box::new(author),
                },
            )
            .await?;
            hub::notify_others(conn, &ctx.chat_hub, workspace_id, hub::Kind::Edited, id).await?;
            Ok(updated)
        })
        .await?;
    ctx.chat_hub
        .publish_message(&mut conn, hub::Kind::Edited, &message)
        .await;
    Ok(message)
}

/// A member deletes their own message; a coordinator (or the owner) may delete anyone's.
/// The row stays, without its text, so the conversation keeps its shape.
pub async fn delete(ctx: &AppContext, access: &Access, id: Uuid) -> AppResult<DbWorkspaceMessage> {
    access.require_writable()?;
    let mut conn = ctx.conn().await?;
    let workspace_id = access.workspace.id;
    let actor_id = access.member.actor_id;
    let message = conn
        .transaction::<_, AppError, _>(async |conn| {
            let access = recheck(conn, access).await?;
            access.require_writable()?;
            let message = message_of(conn, &access, id).await?;
            let own = message.author_actor_id == actor_id;
            // A coordinator of a workspace hosted elsewhere is not ours to trust.
            let moderates = access.workspace.local && access.role >= Role::Coordinator;
            if !(own || moderates) {
                return Err(AppError::forbidden(
                    "only its author or a coordinator deletes a message",
                ));
            }
            if message.deleted_at.is_some() {
                return Ok(message);
            }
            let deleted =
                db::workspace_messages::mark_deleted(conn, message.id, Utc::now()).await?;
            db::workspace_messages::set_mentions(conn, message.id, &[]).await?;
            let author = db::actors::by_id(conn, message.author_actor_id).await?;
            outbound::record(
                ctx,
                conn,
                OutboundEvent::WorkspaceMessageDeleted {
                    workspace: Box::new(access.workspace.clone()),
                    message: Box::new(deleted.clone()),
                    author: Box::new(author),
                },
            )
            .await?;
            hub::notify_others(conn, &ctx.chat_hub, workspace_id, hub::Kind::Deleted, id).await?;
            Ok(deleted)
        })
        .await?;
    ctx.chat_hub
        .publish_message(&mut conn, hub::Kind::Deleted, &message)
        .await;
    Ok(message)
}

/// One message as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: Uuid,
    pub seq: i64,
    pub ap_id: String,
    pub author: String,
    pub author_handle: String,
    pub author_url: String,
    #[serde(skip)]
    pub author_actor_id: i64,
    /// Empty when deleted.
    pub html: SafeHtml,
    #[serde(skip)]
    pub markdown: String,
    pub in_reply_to: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

impl MessageView {
    pub fn of(message: &DbWorkspaceMessage, author: &DbActor) -> MessageView {
        MessageView {
            id: message.id,
            seq: message.seq,
            ap_id: message.ap_id.clone(),
            author: if author.name.is_empty() {
                author.username.clone()
            } else {
                author.name.clone()
            },
            author_handle: format!("@{}@{}", author.username, author.domain),
            author_url: author.url.clone().unwrap_or_else(|| author.ap_id.clone()),
            author_actor_id: author.id,
            // Stored cleaned; cleaned again on the way out costs little and keeps the type.
            html: SafeHtml::clean(&message.body_html),
            markdown: message.body_markdown.clone(),
            in_reply_to: message.in_reply_to_id,
            created_at: message.created_at,
            edited_at: message.edited_at,
            deleted: message.deleted_at.is_some(),
        }
    }
}

/// One page of the conversation.
#[derive(Debug, Clone)]
pub struct Page {
    /// Oldest first within the page.
    pub messages: Vec<MessageView>,
    /// The `before` of the page of older messages, if there are any.
    pub older: Option<i64>,
    /// Messages of others the member had not seen before this page was read.
    pub unread: i64,
    /// The member's read marker before this page was read.
    pub last_read_seq: i64,
}

/// The page of messages before `before` (a `seq`; none = the latest), 50 a page.
pub async fn page(ctx: &AppContext, access: &Access, before: Option<i64>) -> AppResult<Page> {
    let mut conn = ctx.conn().await?;
    let access = super::access_as(&mut conn, access.workspace.id, access.member.actor_id).await?;
    let mut rows =
        db::workspace_messages::page(&mut conn, access.workspace.id, before, PAGE_SIZE + 1).await?;
    let older = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|m| m.seq)
    } else {
        None
    };
    let mut messages = Vec::with_capacity(rows.len());
    let mut authors: Vec<DbActor> = Vec::new();
    for row in rows.iter().rev() {
        let author = match authors.iter().find(|a| a.id == row.author_actor_id) {
            Some(a) => a.clone(),
            None => {
                let a = db::actors::by_id(&mut conn, row.author_actor_id).await?;
                authors.push(a.clone());
                a
            }
        };
        messages.push(MessageView::of(row, &author));
    }
    let unread = db::workspace_messages::unread(
        &mut conn,
        access.workspace.id,
        access.member.actor_id,
        access.member.last_read_seq,
    )
    .await?;
    Ok(Page {
        messages,
        older,
        unread,
        last_read_seq: access.member.last_read_seq,
    })
}

/// One message of the workspace, as shown.
pub async fn one(ctx: &AppContext, access: &Access, id: Uuid) -> AppResult<MessageView> {
    let mut conn = ctx.conn().await?;
    let access = super::access_as(&mut conn, access.workspace.id, access.member.actor_id).await?;
    let message = match db::workspace_messages::by_id(&mut conn, id).await? {
        Some(m) if m.workspace_id == access.workspace.id => m,
        _ => return Err(AppError::not_found()),
    };
    let author = db::actors::by_id(&mut conn, message.author_actor_id).await?;
    Ok(MessageView::of(&message, &author))
}

/// The member has read the conversation up to `up_to` (a `seq`; none = everything so far).
/// The marker never moves back. Returns the unread count left.
pub async fn mark_read(ctx: &AppContext, access: &Access, up_to: Option<i64>) -> AppResult<i64> {
    let mut conn = ctx.conn().await?;
    let access = super::access_as(&mut conn, access.workspace.id, access.member.actor_id).await?;
    let last = db::workspace_messages::last_seq(&mut conn, access.workspace.id).await?;
    let up_to = up_to.unwrap_or(last).clamp(0, last);
    let marker = db::workspace_messages::mark_read(
        &mut conn,
        access.workspace.id,
        access.member.actor_id,
        up_to,
    )
    .await?;
    Ok(db::workspace_messages::unread(
        &mut conn,
        access.workspace.id,
        access.member.actor_id,
        marker,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rule_names_the_body() {
        assert!(too_long_or_empty("bonjour").is_ok());
        for bad in ["", "   ", &"a".repeat(MAX_CHARS + 1)] {
            let e = too_long_or_empty(bad).expect_err("refused");
            assert_eq!(e.kind, crate::error::ErrorKind::Validation);
            assert!(e.fields.iter().any(|f| f.field == "body"));
        }
        assert!(too_long_or_empty(&"é".repeat(MAX_CHARS)).is_ok());
    }
}
