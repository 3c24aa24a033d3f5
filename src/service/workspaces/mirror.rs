//! Remote workspaces held for our members: a `Group` on another server invited one of our
//! members (`Invite`), removed one (`Remove`), or changed (`Update`). The workspace is kept as
//! a mirror row (`local = false`) of the same tables as ours, so the pages, the chat and the
//! documents read it the same way; only our members are listed among its members.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        workspace_federation::{self as wf, NewReceivedInvitation},
        workspaces::{DbWorkspace, DbWorkspaceInvitation, NewWorkspace},
    },
    error::{AppError, AppResult},
    service::notifications::{self, Event, NotificationKind, WorkspaceRefs},
};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use url::Url;
use uuid::Uuid;

/// Longest workspace name (the table's limit).
const MAX_NAME: usize = 150;
/// Longest invitation message (the table's limit).
const MAX_MESSAGE: usize = 2000;

/// What a remote `Group` says of itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupState {
    pub name: String,
    /// Sanitised HTML.
    pub description_html: String,
    pub archived_at: Option<DateTime<Utc>>,
}

impl GroupState {
    /// The state of `group` as its stored actor row has it (not archived).
    pub fn of_actor(group: &DbActor) -> GroupState {
        GroupState {
            name: group.name.clone(),
            description_html: group.summary_html.clone(),
            archived_at: None,
        }
    }
}

/// A name the table accepts: trimmed, at most 150 characters, the username when empty.
fn mirror_name(name: &str, group: &DbActor) -> String {
    let name = name.trim();
    let name = if name.is_empty() {
        group.username.trim()
    } else {
        name
    };
    let name: String = name.chars().take(MAX_NAME).collect();
    if name.is_empty() {
        "—".to_string()
    } else {
        name
    }
}

/// The mirror row of remote `group`, created when missing, refreshed from `state` otherwise.
async fn upsert_mirror(
    conn: &mut AsyncPgConnection,
    group: &DbActor,
    state: &GroupState,
) -> AppResult<DbWorkspace> {
    let name = mirror_name(&state.name, group);
    match db::workspaces::by_actor_id(conn, group.id).await? {
        Some(workspace) if workspace.local => Err(AppError::bad_request(
            "a workspace of this server cannot be changed from elsewhere",
        )),
        Some(workspace) => Ok(wf::update_mirror(
            conn,
            workspace.id,
            &name,
            &state.description_html,
            state.archived_at.or(workspace.archived_at),
        )
        .await?),
        None => Ok(db::workspaces::insert(
            conn,
            &NewWorkspace {
                id: Uuid::new_v4(),
                actor_id: group.id,
                local: false,
                name,
                description_markdown: String::new(),
                description_html: state.description_html.clone(),
                disciplines: Vec::new(),
                commune_code: None,
                listed: false,
                created_by_account_id: None,
            },
        )
        .await?),
    }
}

fn notification(
    account_id: i64,
    kind: NotificationKind,
    group: &DbActor,
    workspace: Uuid,
    invitation: Option<Uuid>,
    dedupe_key: String,
) -> Event {
    Event {
        account_id,
        kind,
        actor_id: Some(group.id),
        post_id: None,
        comment_id: None,
        object_ap_id: None,
        alert_id: None,
        dedupe_key: Some(dedupe_key),
        report_id: None,
        moderation_action_id: None,
        loan_request_id: None,
        venue_id: None,
        workspace: WorkspaceRefs {
            workspace_id: Some(workspace),
            invitation_id: invitation,
            ..Default::default()
        },
    }
}

/// Remote workspace `group` invited our member `invitee` with `Invite` `invite_id`: the
/// mirror row is created or refreshed, the pending invitation stored and the member told.
/// `None` when nothing was stored: a replayed `Invite`, an invitee that is no member of
/// ours, already a member, or already invited (the first invitation stands).
pub async fn receive_invitation(
    ctx: &AppContext,
    group: &DbActor,
    invite_id: &Url,
    invitee: &DbActor,
    message: &str,
) -> AppResult<Option<DbWorkspaceInvitation>> {
    if group.local || group.kind != "Group" {
        return Err(AppError::bad_request(
            "only a remote Group invites to a workspace",
        ));
    }
    let message: String = message.trim().chars().take(MAX_MESSAGE).collect();
    let mut conn = ctx.conn().await?;
    conn.transaction::<Option<DbWorkspaceInvitation>, AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, invite_id.as_str()).await? {
            return Ok(None);
        }
        if !invitee.local || invitee.deleted_at.is_some() {
            return Ok(None);
        }
        let Some(account) = db::accounts::by_actor_id(conn, invitee.id).await? else {
            return Ok(None);
        };
        if account.suspended_at.is_some() {
            return Ok(None);
        }
        let workspace = upsert_mirror(conn, group, &GroupState::of_actor(group)).await?;
        if db::workspaces::member(conn, workspace.id, invitee.id)
            .await?
            .is_some()
            || wf::pending_invitation(conn, workspace.id, invitee.id)
                .await?
                .is_some()
            || wf::invitation_by_ap_id(conn, invite_id.as_str())
                .await?
                .is_some()
        {
            return Ok(None);
        }
        let invitation = wf::insert_received_invitation(
            conn,
            &NewReceivedInvitation {
                workspace_id: workspace.id,
                invited_by_actor_id: group.id,
                actor_id: Some(invitee.id),
                message,
                ap_id: Some(invite_id.to_string()),
            },
        )
        .await?;
        notifications::record(
            ctx,
            conn,
            notification(
                account.id,
                NotificationKind::WorkspaceInvitation,
                group,
                workspace.id,
                Some(invitation.id),
                format!("workspace-invitation:{}", invitation.id),
            ),
        )
        .await?;
        Ok(Some(invitation))
    })
    .await
}

/// Remote workspace `group` removed our member `member` (`Remove` `activity_id`): the
/// membership is dropped and the member told. Whether a membership was dropped.
pub async fn removed(
    ctx: &AppContext,
    group: &DbActor,
    activity_id: &Url,
    member: &DbActor,
) -> AppResult<bool> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<bool, AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(false);
        }
        let Some(workspace) = db::workspaces::by_actor_id(conn, group.id).await? else {
            return Ok(false);
        };
        if workspace.local || !member.local {
            return Ok(false);
        }
        if !wf::delete_member(conn, workspace.id, member.id).await? {
            return Ok(false);
        }
        if let Some(account) = db::accounts::by_actor_id(conn, member.id).await? {
            notifications::record(
                ctx,
                conn,
                notification(
                    account.id,
                    NotificationKind::WorkspaceMembership,
                    group,
                    workspace.id,
                    None,
                    format!("workspace-removed:{activity_id}"),
                ),
            )
            .await?;
        }
        Ok(true)
    })
    .await
}

/// Remote workspace `group` changed (`Update` of the `Group`): name, description and archive
/// state of its mirror. `None` when we hold no mirror of it.
pub async fn updated(
    ctx: &AppContext,
    group: &DbActor,
    state: &GroupState,
) -> AppResult<Option<DbWorkspace>> {
    let mut conn = ctx.conn().await?;
    let Some(workspace) = db::workspaces::by_actor_id(&mut conn, group.id).await? else {
        return Ok(None);
    };
    if workspace.local {
        return Ok(None);
    }
    let name = mirror_name(&state.name, group);
    Ok(Some(
        wf::update_mirror(
            &mut conn,
            workspace.id,
            &name,
            &state.description_html,
            state.archived_at,
        )
        .await?,
    ))
}
