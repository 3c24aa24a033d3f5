//! The workspace's `Group` actor (`/workspaces/{uuid}`, its inbox; 404 to anyone but its
//! members and invitees, WebFinger included) and membership over federation: `Invite`,
//! `Accept`/`Reject` of it, `Join`, `Leave`, `Remove`, `Update` of the group.
//!
//! | event or activity | from → to | what it does |
//! |---|---|---|
//! | `Invite {actor: Group, object: Group, target: invitee}` | our Group → the invitee's personal inbox | a pending invitation (and a mirror of the workspace) on the invitee's server |
//! | `Accept`/`Reject {object: Invite}` | the invitee → the Group's inbox | `invitations::answer` |
//! | `Undo {object: Invite}` | our Group → the invitee's personal inbox | the invitee's server marks the invitation withdrawn (`invitations::withdrawn_by_group`) |
//! | `Join {object: Group}` | anyone → the Group's inbox | `invitations::request_to_join` (listed workspaces only) |
//! | `Leave {object: Group}` | a member → the Group's inbox | `members::leave` |
//! | `Remove {actor: Group, object: member, target: Group}` | our Group → that member only | the mirror drops our member |
//! | `Update(Group)` | our Group → its remote members | the mirror's name, description, archive |

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, workspace_federation as wf, workspaces::DbWorkspace},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        activities::{id_of, new_activity_id},
        inbox::{self, InboxState, MAX_INBOX_BYTES},
        negotiation::{Face, face, vary_accept},
        objects::{activity_context, actor_context, person::local_person},
        workspaces::{
            access::signed_requester,
            audience::{self, PrivateActivity, enqueue_private},
        },
    },
    sanitize,
    service::{
        outbound::OutboundEvent,
        workspaces::{
            invitations, members,
            mirror::{self, GroupState},
        },
    },
    urls::workspace_page,
};
use activitypub_federation::axum::json::FederationJson;
use axum::{
    Extension, Router,
    extract::{Path, Request},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use url::Url;
use uuid::Uuid;

/// The `Group` actor's routes.
pub fn routes(inbox_state: Arc<InboxState>) -> Router {
    Router::new()
        .route("/workspaces/{uuid}", get(http_get_group))
        .route(
            "/workspaces/{uuid}/inbox",
            post(http_post_group_inbox).layer(RequestBodyLimitLayer::new(MAX_INBOX_BYTES)),
        )
        .layer(Extension(inbox_state))
}

/// `/workspaces/{uuid}`: browsers go to the workspace's page (which answers 404 to
/// non-members); the `Group` document goes only to a fetch signed by a member, a pending
/// invitee, or an actor of a server hosting one (its instance actor checks our `Invite`
/// with it); a listed workspace's document, which says nothing but its name and
/// description, to anyone. Everyone else gets the 404 of an unknown id.
async fn http_get_group(
    data: Data,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> AppResult<Response> {
    let id = Uuid::parse_str(&uuid).map_err(|_| AppError::not_found())?;
    if face(&headers, Face::Document) == Face::Page {
        return Ok(vary_accept(
            Redirect::to(&workspace_page(&id, "")).into_response(),
        ));
    }
    let (parts, _) = request.into_parts();
    let ctx = data.app_data();
    let workspace = {
        let mut conn = ctx.conn().await?;
        db::workspaces::by_id(&mut conn, id)
            .await?
            .filter(|w| w.local)
            .ok_or_else(AppError::not_found)?
    };
    if !workspace.listed {
        let requester = signed_requester(&data, &parts)
            .await
            .ok_or_else(AppError::not_found)?;
        let mut conn = ctx.conn().await?;
        if !may_see_group(&mut conn, &workspace, &requester).await? {
            return Err(AppError::not_found());
        }
    }
    let mut conn = ctx.conn().await?;
    let group = db::actors::by_id(&mut conn, workspace.actor_id).await?;
    Ok(vary_accept(
        FederationJson(group_document(&workspace, group)?).into_response(),
    ))
}

/// Whether `requester` may read the `Group` of unlisted `workspace`: a member, a pending
/// invitee, or any actor of a server hosting a remote member or pending invitee.
pub async fn may_see_group(
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    requester: &DbActor,
) -> AppResult<bool> {
    if requester.deleted_at.is_some() {
        return Ok(false);
    }
    if wf::member_or_invitee(conn, workspace.id, requester.id).await? {
        return Ok(true);
    }
    Ok(!requester.local
        && wf::hosts_member_or_invitee(conn, workspace.id, &requester.domain).await?)
}

/// The `Group` document of a workspace of ours: who it is, its inbox and key; no outbox, no
/// followers, no shared inbox (nothing of it is public), and whether it is archived.
pub fn group_document(workspace: &DbWorkspace, group: DbActor) -> AppResult<Value> {
    let mut person = local_person(group)?;
    person.name = Some(workspace.name.clone());
    person.summary = Some(workspace.description_html.clone());
    person.url = None;
    person.outbox = None;
    person.followers = None;
    person.following = None;
    person.endpoints = None;
    person.discoverable = Some(false);
    person.manually_approves_followers = Some(true);
    let mut document = serde_json::to_value(person)?;
    if let Value::Object(map) = &mut document {
        map.insert("@context".into(), actor_context());
        // Read by other servers of ours (archived = read-only); others ignore the term.
        map.insert(
            "archived".into(),
            workspace
                .archived_at
                .map_or(Value::Null, |at| Value::String(at.to_rfc3339())),
        );
    }
    Ok(document)
}

/// What a `Group` document says of the workspace (the archive date is our own term).
pub fn group_state(group: &DbActor, document: &Value) -> GroupState {
    let archived_at = document
        .get("archived")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|at| at.with_timezone(&Utc));
    GroupState {
        archived_at,
        ..GroupState::of_actor(group)
    }
}

/// A workspace's inbox: the same processing as the shared inbox. Any valid UUID takes
/// activities, so that the answer says nothing of whether the workspace exists.
async fn http_post_group_inbox(
    data: Data,
    Extension(state): Extension<Arc<InboxState>>,
    Path(uuid): Path<String>,
    request: Request,
) -> Response {
    if Uuid::parse_str(&uuid).is_err() {
        return AppError::not_found().into_response();
    }
    inbox::receive(&data, &state, request).await
}

// ---------------------------------------------------------------------------------------------
// Outbound

/// The activity and deliveries of one membership event.
pub async fn record(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    event: OutboundEvent,
) -> AppResult<()> {
    match event {
        OutboundEvent::WorkspaceInvited {
            workspace,
            invitation,
            invitee,
        } => {
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let id = match invitation.ap_id.as_deref() {
                Some(id) => Url::parse(id)?,
                None => return Err(AppError::internal("a remote invitation without its id")),
            };
            let json = invite_json(&id, &group, &invitee, &invitation.message);
            let inboxes = vec![Url::parse(&invitee.inbox_url)?];
            let object = group.ap_id.clone();
            enqueue_private(
                ctx,
                conn,
                PrivateActivity {
                    id: &id,
                    kind: "Invite",
                    actor: &group,
                    object_ap_id: &object,
                    json,
                },
                inboxes,
            )
            .await
        }
        OutboundEvent::WorkspaceInvitationWithdrawn {
            workspace,
            invitation,
            invitee,
        } => {
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let invite_id = match invitation.ap_id.as_deref() {
                Some(id) => Url::parse(id)?,
                None => return Err(AppError::internal("a remote invitation without its id")),
            };
            let id = new_activity_id(ctx)?;
            let mut invite = invite_json(&invite_id, &group, &invitee, &invitation.message);
            if let Some(map) = invite.as_object_mut() {
                map.remove("@context");
            }
            let json = json!({
                "@context": activity_context(),
                "id": id.as_str(),
                "type": "Undo",
                "actor": group.ap_id,
                "object": invite,
                "to": [invitee.ap_id],
            });
            let inboxes = vec![Url::parse(&invitee.inbox_url)?];
            enqueue_private(
                ctx,
                conn,
                PrivateActivity {
                    id: &id,
                    kind: "Undo",
                    actor: &group,
                    object_ap_id: invite_id.as_str(),
                    json,
                },
                inboxes,
            )
            .await
        }
        OutboundEvent::WorkspaceInvitationAnswered {
            workspace,
            invitation,
            member,
            accepted,
        } => {
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let Some(invite_id) = invitation.ap_id.as_deref() else {
                return Err(AppError::internal("a remote invitation without its id"));
            };
            let id = new_activity_id(ctx)?;
            let kind = if accepted { "Accept" } else { "Reject" };
            let json = json!({
                "@context": activity_context(),
                "id": id.as_str(),
                "type": kind,
                "actor": member.ap_id,
                "object": {
                    "id": invite_id,
                    "type": "Invite",
                    "actor": group.ap_id,
                    "object": group.ap_id,
                    "target": member.ap_id,
                },
                "to": [group.ap_id],
            });
            to_group(ctx, conn, &id, kind, &member, &group, invite_id, json).await
        }
        OutboundEvent::WorkspaceLeft { workspace, member } => {
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let id = new_activity_id(ctx)?;
            let json = json!({
                "@context": activity_context(),
                "id": id.as_str(),
                "type": "Leave",
                "actor": member.ap_id,
                "object": group.ap_id,
                "to": [group.ap_id],
            });
            let object = group.ap_id.clone();
            to_group(ctx, conn, &id, "Leave", &member, &group, &object, json).await
        }
        OutboundEvent::WorkspaceMemberRemoved { workspace, member } => {
            if member.local {
                return Ok(());
            }
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let id = new_activity_id(ctx)?;
            let json = json!({
                "@context": activity_context(),
                "id": id.as_str(),
                "type": "Remove",
                "actor": group.ap_id,
                "object": member.ap_id,
                "target": group.ap_id,
                "to": [member.ap_id],
            });
            let inboxes = vec![Url::parse(&member.inbox_url)?];
            enqueue_private(
                ctx,
                conn,
                PrivateActivity {
                    id: &id,
                    kind: "Remove",
                    actor: &group,
                    object_ap_id: &member.ap_id,
                    json,
                },
                inboxes,
            )
            .await
        }
        OutboundEvent::WorkspaceUpdated { workspace } => {
            if !workspace.local {
                return Ok(());
            }
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let audience = audience::of(conn, &workspace, None).await?;
            if audience.inboxes.is_empty() {
                return Ok(());
            }
            let id = new_activity_id(ctx)?;
            let to: Vec<&str> = audience.to.iter().map(Url::as_str).collect();
            let json = json!({
                "@context": actor_context(),
                "id": id.as_str(),
                "type": "Update",
                "actor": group.ap_id,
                "object": strip_context(group_document(&workspace, group.clone())?),
                "to": to,
            });
            enqueue_private(
                ctx,
                conn,
                PrivateActivity {
                    id: &id,
                    kind: "Update",
                    actor: &group,
                    object_ap_id: &group.ap_id,
                    json,
                },
                audience.inboxes,
            )
            .await
        }
        _ => Ok(()),
    }
}

/// An `Invite` of `invitee` into `group`, with the invitation's message as its content.
pub fn invite_json(id: &Url, group: &DbActor, invitee: &DbActor, message: &str) -> Value {
    let mut json = json!({
        "@context": activity_context(),
        "id": id.as_str(),
        "type": "Invite",
        "actor": group.ap_id,
        "object": group.ap_id,
        "target": invitee.ap_id,
        "to": [invitee.ap_id],
    });
    if !message.trim().is_empty() {
        json["content"] = Value::String(format!("<p>{}</p>", sanitize::escape_text(message)));
    }
    json
}

fn strip_context(mut document: Value) -> Value {
    if let Value::Object(map) = &mut document {
        map.remove("@context");
    }
    document
}

/// One activity of our member `actor` to remote workspace `group`'s inbox (it relays).
#[allow(clippy::too_many_arguments)]
async fn to_group(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    id: &Url,
    kind: &'static str,
    actor: &DbActor,
    group: &DbActor,
    object: &str,
    json: Value,
) -> AppResult<()> {
    if group.local {
        return Ok(());
    }
    let inboxes = vec![Url::parse(&group.inbox_url)?];
    enqueue_private(
        ctx,
        conn,
        PrivateActivity {
            id,
            kind,
            actor,
            object_ap_id: object,
            json,
        },
        inboxes,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Inbound

/// The workspace of ours whose `Group` is `group_id`, if any.
async fn local_workspace(data: &Data, group_id: &Url) -> AppResult<Option<DbWorkspace>> {
    let mut conn = data.app_data().conn().await?;
    Ok(db::workspaces::by_actor_ap_id(&mut conn, group_id.as_str())
        .await?
        .map(|(workspace, _)| workspace)
        .filter(|w| w.local))
}

/// An `Invite` from a remote `Group` to one of our members: the invitation is stored for
/// them (see [`mirror::receive_invitation`]). Invitations to anyone else are ignored.
pub async fn receive_invite(
    data: &Data,
    id: &Url,
    group: &DbActor,
    object: &Value,
    target: Option<&Value>,
    content: Option<&str>,
) -> AppResult<()> {
    if group.kind != "Group" {
        return Ok(());
    }
    if id_of(object).as_ref() != Some(&group.ap_url) {
        return Err(AppError::bad_request(
            "a Group invites into itself: the object of an Invite is its actor",
        ));
    }
    let Some(target) = target.and_then(id_of) else {
        return Err(AppError::bad_request(
            "Invite: target (the invitee) missing",
        ));
    };
    let invitee = {
        let mut conn = data.app_data().conn().await?;
        db::actors::by_ap_id(&mut conn, target.as_str()).await?
    };
    let Some(invitee) = invitee.filter(|a| a.local) else {
        return Ok(());
    };
    let message = content.map(sanitize::plain_text).unwrap_or_default();
    mirror::receive_invitation(data.app_data(), group, id, &invitee, &message).await?;
    Ok(())
}

/// An `Undo` whose object is an `Invite` (embedded, or its id when it names one of the
/// invitations held here): `Ok(true)` when it was one, withdrawn if `actor` is the `Group`
/// that sent it (known here since its `Invite`); `Ok(false)` when the `Undo` is about
/// something else.
pub async fn receive_invite_undo(data: &Data, actor: &Url, object: &Value) -> AppResult<bool> {
    let Some(invite_id) = id_of(object) else {
        return Ok(false);
    };
    let mut conn = data.app_data().conn().await?;
    let embedded_invite = object.get("type").and_then(Value::as_str) == Some("Invite");
    if !embedded_invite
        && wf::invitation_by_ap_id(&mut conn, invite_id.as_str())
            .await?
            .is_none()
    {
        return Ok(false);
    }
    let group = db::actors::by_ap_id(&mut conn, actor.as_str()).await?;
    drop(conn);
    if let Some(group) = group {
        invitations::withdrawn_by_group(data.app_data(), &group, invite_id.as_str()).await?;
    }
    Ok(true)
}

/// An `Accept` or `Reject` of one of our `Invite`s by its invitee: `Ok(true)` when the object
/// is one of our invitations (answered, or already answered), `Ok(false)` when it is not
/// about an invitation (a Follow's answer).
pub async fn receive_invite_answer(
    data: &Data,
    object: &Value,
    answering: &DbActor,
    accepted: bool,
) -> AppResult<bool> {
    let Some(invite_id) = id_of(object) else {
        return Ok(false);
    };
    let ctx = data.app_data();
    let invitation = {
        let mut conn = ctx.conn().await?;
        let Some(invitation) = wf::invitation_by_ap_id(&mut conn, invite_id.as_str()).await? else {
            return Ok(false);
        };
        let ours = db::workspaces::by_id(&mut conn, invitation.workspace_id)
            .await?
            .is_some_and(|w| w.local);
        if !ours {
            return Ok(true);
        }
        invitation
    };
    if invitation.actor_id != Some(answering.id) {
        return Err(AppError::bad_request(
            "only the invitee may answer an invitation",
        ));
    }
    if invitation.status != "pending" {
        // A replay, or an answer after a withdrawal: nothing to do.
        return Ok(true);
    }
    match invitations::answer(ctx, invitation.id, answering, accepted).await {
        Ok(_) => Ok(true),
        // Expired or answered meanwhile: the sender must not retry.
        Err(e) if matches!(e.kind, ErrorKind::Conflict | ErrorKind::Gone) => Ok(true),
        Err(e) => Err(e),
    }
}

/// A `Join` of a workspace of ours: a join request (listed workspaces only; anything else
/// is dropped without a word, as for a workspace that does not exist).
pub async fn receive_join(
    data: &Data,
    id: &Url,
    actor: &DbActor,
    object: &Value,
    content: Option<&str>,
) -> AppResult<()> {
    let Some(group_id) = id_of(object) else {
        return Err(AppError::bad_request("Join: object (the group) missing"));
    };
    let Some(workspace) = local_workspace(data, &group_id).await? else {
        return Ok(());
    };
    let message: String = content
        .map(sanitize::plain_text)
        .unwrap_or_default()
        .chars()
        .take(2000)
        .collect();
    match invitations::request_to_join(data.app_data(), workspace.id, actor, &message, Some(id))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Conflict) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A `Leave` of a workspace of ours by a remote member: the membership is dropped, nothing
/// more is delivered to them.
pub async fn receive_leave(data: &Data, actor: &DbActor, object: &Value) -> AppResult<()> {
    let Some(group_id) = id_of(object) else {
        return Err(AppError::bad_request("Leave: object (the group) missing"));
    };
    let Some(workspace) = local_workspace(data, &group_id).await? else {
        return Ok(());
    };
    let member = {
        let mut conn = data.app_data().conn().await?;
        db::workspaces::member(&mut conn, workspace.id, actor.id).await?
    };
    if member.is_none() {
        return Ok(());
    }
    match members::leave(data.app_data(), workspace.id, actor).await {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Conflict) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A `Remove` by a remote `Group` we mirror of one of our members: the membership is
/// dropped and the member told. Anything else is ignored.
pub async fn receive_remove(
    data: &Data,
    id: &Url,
    group: &DbActor,
    object: &Value,
    target: Option<&Value>,
) -> AppResult<()> {
    if group.kind != "Group" {
        return Ok(());
    }
    if let Some(target) = target.and_then(id_of)
        && target != group.ap_url
    {
        return Ok(());
    }
    let Some(member_id) = id_of(object) else {
        return Err(AppError::bad_request("Remove: object (the member) missing"));
    };
    let member = {
        let mut conn = data.app_data().conn().await?;
        db::actors::by_ap_id(&mut conn, member_id.as_str()).await?
    };
    let Some(member) = member.filter(|m| m.local) else {
        return Ok(());
    };
    mirror::removed(data.app_data(), group, id, &member).await?;
    Ok(())
}

/// An `Update` of a remote `Group` (its row already refreshed): the mirror follows.
pub async fn receive_group_update(data: &Data, object: &Value) -> AppResult<()> {
    let Some(group_id) = id_of(object) else {
        return Ok(());
    };
    let group = {
        let mut conn = data.app_data().conn().await?;
        db::actors::by_ap_id(&mut conn, group_id.as_str()).await?
    };
    let Some(group) = group.filter(|g| !g.local && g.kind == "Group") else {
        return Ok(());
    };
    mirror::updated(data.app_data(), &group, &group_state(&group, object)).await?;
    Ok(())
}

/// Whether `actor` is the `Group` of a workspace (ours or mirrored): nobody follows it.
pub async fn is_workspace_group(conn: &mut AsyncPgConnection, actor: &DbActor) -> AppResult<bool> {
    Ok(actor.kind == "Group" && db::workspaces::by_actor_id(conn, actor.id).await?.is_some())
}
