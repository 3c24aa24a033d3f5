//! Chat messages as private `Note`s: `Create`/`Update`/`Delete` to the audience of
//! [`super::audience`], replies of remote members shown in the chat (and relayed by the
//! workspace's `Group` to the other remote members), and the signed-fetch route of a message.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, workspace_messages::DbWorkspaceMessage, workspaces::DbWorkspace},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        activities::{id_of, new_activity_id},
        collections::activity_json_response,
        objects::AS_CONTEXT,
        workspaces::{
            access::member_fetch,
            audience::{self, Audience, PrivateActivity, enqueue_private},
            inbound::{Action, Received},
        },
    },
    service::{
        outbound::OutboundEvent,
        workspaces::{
            Access, access_as,
            chat::{self, Body},
        },
    },
};
use activitypub_federation::fetch::object_id::ObjectId;
use axum::{Router, extract::Path, http::request::Parts, response::Response, routing::get};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

/// Routes of this capability's objects (signed fetch by members only).
pub fn routes() -> Router {
    Router::new().route(
        "/workspaces/{workspace}/messages/{id}",
        get(http_get_workspace_message),
    )
}

/// A message as its `Note`, for a fetch signed by a member of its workspace; 404 for
/// anyone else, exactly like an unknown message.
async fn http_get_workspace_message(
    data: Data,
    Path((workspace_id, id)): Path<(Uuid, Uuid)>,
    parts: Parts,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (workspace, message) = {
        let mut conn = ctx.conn().await?;
        let Some(workspace) = db::workspaces::by_id(&mut conn, workspace_id).await? else {
            return Err(AppError::not_found());
        };
        let message = db::workspace_messages::by_id(&mut conn, id)
            .await?
            .filter(|m| m.workspace_id == workspace.id && m.deleted_at.is_none())
            .ok_or_else(AppError::not_found)?;
        (workspace, message)
    };
    member_fetch(&data, &parts, &workspace).await?;
    let mut conn = ctx.conn().await?;
    let author = db::actors::by_id(&mut conn, message.author_actor_id).await?;
    let audience = audience::of(&mut conn, &workspace, None).await?;
    let mut note = note(ctx, &mut conn, &workspace, &message, &author, &audience).await?;
    if let Some(map) = note.as_object_mut() {
        map.insert("@context".into(), json!(AS_CONTEXT));
    }
    Ok(activity_json_response(note))
}

/// The workspace's `Group` id.
async fn group_of(conn: &mut AsyncPgConnection, workspace: &DbWorkspace) -> AppResult<DbActor> {
    Ok(db::actors::by_id(conn, workspace.actor_id).await?)
}

/// The `Note` of a message, addressed to `audience.to` only.
async fn note(
    _ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    message: &DbWorkspaceMessage,
    author: &DbActor,
    audience: &Audience,
) -> AppResult<Value> {
    let group = group_of(conn, workspace).await?;
    let mut tags = Vec::new();
    for actor_id in db::workspace_messages::mentions(conn, message.id).await? {
        let actor = db::actors::by_id(conn, actor_id).await?;
        tags.push(json!({
            "type": "Mention",
            "href": actor.ap_id,
            "name": format!("@{}@{}", actor.username, actor.domain),
        }));
    }
    let mut note = json!({
        "id": message.ap_id,
        "type": "Note",
        "attributedTo": author.ap_id,
        "content": message.body_html,
        "mediaType": "text/html",
        "published": message.created_at.to_rfc3339(),
        "audience": group.ap_id,
        "context": group.ap_id,
        "to": audience.to,
        "tag": tags,
    });
    let map = note
        .as_object_mut()
        .ok_or_else(|| AppError::internal("note is an object"))?;
    if author.local {
        map.insert(
            "source".into(),
            json!({"content": message.body_markdown, "mediaType": "text/markdown"}),
        );
    }
    if let Some(edited) = message.edited_at {
        map.insert("updated".into(), json!(edited.to_rfc3339()));
    }
    if let Some(parent) = message.in_reply_to_id
        && let Some(parent) = db::workspace_messages::by_id(conn, parent).await?
    {
        map.insert("inReplyTo".into(), json!(parent.ap_id));
    }
    Ok(note)
}

/// The activity and deliveries of one chat event:
/// - a local member's message: `Create`/`Update`/`Delete` signed by them, to the remote
///   members (a workspace of ours) or to the workspace's `Group` (a remote one, which relays);
/// - a remote member's message in a workspace of ours: the same activity, embedded in an
///   `Announce` by the `Group`, to the other remote members;
/// - a remote member's message in a remote workspace: its server relays it, nothing to send.
pub async fn record(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    event: OutboundEvent,
) -> AppResult<()> {
    let (workspace, message, author, action) = match event {
        OutboundEvent::WorkspaceMessagePosted {
            workspace,
            message,
            author,
        } => (workspace, message, author, Action::Create),
        OutboundEvent::WorkspaceMessageEdited {
            workspace,
            message,
            author,
        } => (workspace, message, author, Action::Update),
        OutboundEvent::WorkspaceMessageDeleted {
            workspace,
            message,
            author,
        } => (workspace, message, author, Action::Delete),
        _ => return Ok(()),
    };
    if !author.local && !workspace.local {
        return Ok(());
    }
    let group = group_of(conn, &workspace).await?;
    let except = (!author.local).then_some(&*author);
    let audience = audience::of(conn, &workspace, except).await?;
    if audience.inboxes.is_empty() {
        return Ok(());
    }
    let object = match action {
        Action::Delete => json!({
            "id": message.ap_id,
            "type": "Tombstone",
            "audience": group.ap_id,
            "context": group.ap_id,
        }),
        _ => note(ctx, conn, &workspace, &message, &author, &audience).await?,
    };
    let kind = match action {
        Action::Create => "Create",
        Action::Update => "Update",
        Action::Delete => "Delete",
    };
    if author.local {
        let id = new_activity_id(ctx)?;
        let activity = json!({
            "@context": AS_CONTEXT,
            "id": id,
            "type": kind,
            "actor": author.ap_id,
            "object": object,
            "to": audience.to,
        });
        return enqueue_private(
            ctx,
            conn,
            PrivateActivity {
                id: &id,
                kind,
                actor: &author,
                object_ap_id: &message.ap_id,
                json: activity,
            },
            audience.inboxes,
        )
        .await;
    }
    // A remote member's message: the workspace relays what it received, as its author's
    // activity, so the other servers check the author's part themselves.
    let inner_id = match action {
        Action::Create => format!("{}#create", message.ap_id),
        Action::Update => format!(
            "{}#update-{}",
            message.ap_id,
            message
                .edited_at
                .unwrap_or_else(Utc::now)
                .timestamp_millis()
        ),
        Action::Delete => format!("{}#delete", message.ap_id),
    };
    let id = new_activity_id(ctx)?;
    let activity = json!({
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Announce",
        "actor": group.ap_id,
        "object": {
            "id": inner_id,
            "type": kind,
            "actor": author.ap_id,
            "object": object,
            "to": audience.to,
        },
        "to": audience.to,
    });
    enqueue_private(
        ctx,
        conn,
        PrivateActivity {
            id: &id,
            kind: "Announce",
            actor: &group,
            object_ap_id: &message.ap_id,
            json: activity,
        },
        audience.inboxes,
    )
    .await
}

/// The `content` of a received `Note` (a plain string, else the first of `contentMap`).
fn content_of(object: &Value) -> Option<String> {
    match object.get("content") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => object
            .get("contentMap")
            .and_then(Value::as_object)
            .and_then(|m| m.values().find_map(|v| v.as_str().map(str::to_string))),
    }
}

/// The actors the `Mention` tags of a received object name.
fn mentioned_of(object: &Value) -> Vec<String> {
    let tags = match object.get("tag") {
        Some(Value::Array(tags)) => tags.iter().collect(),
        Some(tag @ Value::Object(_)) => vec![tag],
        _ => Vec::new(),
    };
    tags.into_iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The access of a remote author: their membership, or, in a remote workspace we mirror,
/// the vouching of its server ([`Received::vouched_for`]); 403 else.
async fn author_access(
    conn: &mut AsyncPgConnection,
    received: &Received<'_>,
    author: &DbActor,
) -> AppResult<Access> {
    match access_as(conn, received.workspace.id, author.id).await {
        Ok(access) => Ok(access),
        Err(e) if e.kind == ErrorKind::NotFound && received.vouched_for(author) => {
            Ok(chat::relayed_access(received.workspace.clone(), author.id))
        }
        Err(e) if e.kind == ErrorKind::NotFound => Err(AppError::forbidden(
            "only members of the workspace post in its chat",
        )),
        Err(e) => Err(e),
    }
}

/// A `Note` that arrived for a workspace we hold: stored through the same functions as a
/// local member's message, with the remote actor as author (idempotent on its id).
pub async fn receive(data: &Data, received: Received<'_>) -> AppResult<()> {
    let ctx = data.app_data();
    received.check_sender(&mut *ctx.conn().await?).await?;
    let object_id = id_of(received.object)
        .ok_or_else(|| AppError::bad_request("workspace message without an id"))?;
    if received.action == Action::Delete {
        return receive_delete(data, &received, &object_id).await;
    }
    let author_url = received.author_url()?;
    if object_id.origin() != author_url.origin() {
        return Err(AppError::bad_request(
            "a message's id lives on its author's server",
        ));
    }
    let author = ObjectId::<DbActor>::from(author_url)
        .dereference(data)
        .await
        .map_err(|_| AppError::bad_request("the author of this message cannot be found"))?;
    if author.local {
        // Our own members' messages come from here, never back from elsewhere.
        return Ok(());
    }
    let html = content_of(received.object)
        .ok_or_else(|| AppError::bad_request("workspace message without content"))?;
    let published = received
        .object
        .get("published")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc));
    let mut conn = ctx.conn().await?;
    let access = author_access(&mut conn, &received, &author).await?;
    let body = Body::Remote {
        ap_id: object_id.to_string(),
        html,
        published,
        mentioned: mentioned_of(received.object),
    };
    match received.action {
        Action::Create => {
            let parent = match received.object.get("inReplyTo").and_then(id_of) {
                Some(parent) => db::workspace_messages::by_ap_id(&mut conn, parent.as_str())
                    .await?
                    .filter(|p| p.workspace_id == received.workspace.id)
                    .map(|p| p.id),
                None => None,
            };
            drop(conn);
            chat::post(ctx, &access, body, parent).await?;
        }
        Action::Update => {
            let message = db::workspace_messages::by_ap_id(&mut conn, object_id.as_str())
                .await?
                .filter(|m| m.workspace_id == received.workspace.id);
            drop(conn);
            match message {
                Some(message) => {
                    chat::edit(ctx, &access, message.id, body).await?;
                }
                // An edit of a message we never received: take it as new.
                None => {
                    chat::post(ctx, &access, body, None).await?;
                }
            }
        }
        Action::Delete => {}
    }
    Ok(())
}

/// A `Delete` of a message: by its author, or relayed by the workspace's `Group`.
async fn receive_delete(data: &Data, received: &Received<'_>, object_id: &Url) -> AppResult<()> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let Some(message) = db::workspace_messages::by_ap_id(&mut conn, object_id.as_str())
        .await?
        .filter(|m| m.workspace_id == received.workspace.id)
    else {
        return Ok(());
    };
    let author = db::actors::by_id(&mut conn, message.author_actor_id).await?;
    if author.local {
        // Our members' messages are deleted here, by them or our coordinators.
        return Ok(());
    }
    if !received.relayed() && received.sender.id != author.id {
        return Err(AppError::forbidden(
            "a member may only delete their own messages",
        ));
    }
    let access = author_access(&mut conn, received, &author).await?;
    drop(conn);
    chat::delete(ctx, &access, message.id).await?;
    Ok(())
}
