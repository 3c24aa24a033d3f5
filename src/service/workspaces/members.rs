//! Members: roles, leaving, removal. See the module documentation of `service::workspaces`.
//!
//! A member is a row in `workspace_members`; leaving or being removed deletes it, and the
//! audience of every later activity is read from that table, so nothing more reaches them.

use super::{Access, Role, invitations::notify};
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        schema::{accounts, workspace_members},
        workspaces::{DbWorkspace, DbWorkspaceMember},
    },
    error::{AppError, AppResult, ErrorKind},
    service::{
        notifications::{NotificationKind, WorkspaceRefs},
        outbound::{self, OutboundEvent},
    },
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

fn conflict(detail: &str) -> AppError {
    AppError::new(ErrorKind::Conflict, detail)
}

/// The members of a workspace with their actors, owner first (any member may read it).
pub async fn list(
    ctx: &AppContext,
    access: &Access,
) -> AppResult<Vec<(DbWorkspaceMember, DbActor)>> {
    let mut conn = ctx.conn().await?;
    // Membership is checked again on this call's connection (the rule).
    super::access_as(&mut conn, access.workspace.id, access.member.actor_id).await?;
    Ok(db::workspaces::members(&mut conn, access.workspace.id).await?)
}

/// Notifies the local owner and coordinators of a workspace (never `actor_id` themself).
pub(super) async fn notify_coordinators(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    kind: NotificationKind,
    actor_id: i64,
    refs: WorkspaceRefs,
) -> AppResult<()> {
    let account_ids: Vec<i64> = workspace_members::table
        .inner_join(accounts::table.on(accounts::actor_id.eq(workspace_members::actor_id)))
        .filter(workspace_members::workspace_id.eq(workspace.id))
        .filter(workspace_members::role.eq_any([Role::Owner.as_str(), Role::Coordinator.as_str()]))
        .filter(workspace_members::actor_id.ne(actor_id))
        .filter(accounts::suspended_at.is_null())
        .select(accounts::id)
        .load(conn)
        .await?;
    for account_id in account_ids {
        notify(ctx, conn, account_id, kind, actor_id, refs).await?;
    }
    Ok(())
}

async fn target_member(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
) -> AppResult<(DbWorkspaceMember, Role)> {
    let member = db::workspaces::member(conn, workspace_id, actor_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let role = Role::parse(&member.role)
        .ok_or_else(|| AppError::internal(format!("unknown workspace role {}", member.role)))?;
    Ok((member, role))
}

async fn notify_local(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: &DbActor,
    by_actor_id: i64,
    workspace_id: Uuid,
) -> AppResult<()> {
    if !actor.local {
        return Ok(());
    }
    if let Some(account) = db::accounts::by_actor_id(conn, actor.id).await? {
        notify(
            ctx,
            conn,
            account.id,
            NotificationKind::WorkspaceMembership,
            by_actor_id,
            WorkspaceRefs {
                workspace_id: Some(workspace_id),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// The owner gives member `actor_id` the role `role` (member or coordinator). Ownership is
/// transferred, not given here (422 naming `role`); the owner's own role does not change here
/// (409). 403 unless the owner; 404 when `actor_id` is not a member.
pub async fn change_role(
    ctx: &AppContext,
    access: &Access,
    actor_id: i64,
    role: Role,
) -> AppResult<DbWorkspaceMember> {
    access.require(Role::Owner)?;
    access.require_writable()?;
    if role == Role::Owner {
        return Err(AppError::field("role", "workspace_members.field.role"));
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceMember, AppError, _>(async |conn| {
        let (_, current) = target_member(conn, access.workspace.id, actor_id).await?;
        if current == Role::Owner {
            return Err(conflict(
                "the owner's role does not change: transfer the ownership to another member",
            )
            .with_message("workspace_members.error.owner_role"));
        }
        let updated: DbWorkspaceMember =
            diesel::update(workspace_members::table.find((access.workspace.id, actor_id)))
                .set(workspace_members::role.eq(role.as_str()))
                .returning(DbWorkspaceMember::as_returning())
                .get_result(conn)
                .await?;
        if current != role {
            let actor = db::actors::by_id(conn, actor_id).await?;
            notify_local(
                ctx,
                conn,
                &actor,
                access.member.actor_id,
                access.workspace.id,
            )
            .await?;
            if access.workspace.local {
                outbound::record(
                    ctx,
                    conn,
                    OutboundEvent::WorkspaceUpdated {
                        workspace: Box::new(access.workspace.clone()),
                    },
                )
                .await?;
            }
        }
        Ok(updated)
    })
    .await
}

/// A coordinator or the owner removes member `actor_id` from a workspace of ours. The owner
/// cannot be removed, a coordinator cannot remove another coordinator (403), nobody removes
/// themself (they leave: 409). A remote member is sent a `Remove` (the last thing they
/// receive from the workspace); a local one is notified.
pub async fn remove(ctx: &AppContext, access: &Access, actor_id: i64) -> AppResult<()> {
    access.require(Role::Coordinator)?;
    access.require_writable()?;
    if !access.workspace.local {
        return Err(conflict(
            "this workspace is hosted on another server: its members are managed there",
        ));
    }
    if actor_id == access.member.actor_id {
        return Err(
            conflict("to go, leave the workspace rather than remove yourself")
                .with_message("workspace_members.error.remove_self"),
        );
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let (_, role) = target_member(conn, access.workspace.id, actor_id).await?;
        if role == Role::Owner {
            return Err(AppError::forbidden("the owner cannot be removed")
                .with_message("workspace_members.error.remove_owner"));
        }
        if role >= access.role {
            return Err(AppError::forbidden("only the owner removes a coordinator")
                .with_message("workspace_members.error.remove_coordinator"));
        }
        diesel::delete(workspace_members::table.find((access.workspace.id, actor_id)))
            .execute(conn)
            .await?;
        let actor = db::actors::by_id(conn, actor_id).await?;
        if actor.local {
            notify_local(
                ctx,
                conn,
                &actor,
                access.member.actor_id,
                access.workspace.id,
            )
            .await?;
        } else {
            outbound::record(
                ctx,
                conn,
                OutboundEvent::WorkspaceMemberRemoved {
                    workspace: Box::new(access.workspace.clone()),
                    member: Box::new(actor),
                },
            )
            .await?;
        }
        Ok(())
    })
    .await
}

/// `actor` leaves workspace `workspace_id`: a local member from the page or the API (of a
/// workspace of ours, or of a remote one: then `OutboundEvent::WorkspaceLeft` is recorded),
/// or a remote member whose `Leave` arrived. The owner must transfer ownership first (409).
pub async fn leave(ctx: &AppContext, workspace_id: Uuid, actor: &DbActor) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let access = super::access_as(conn, workspace_id, actor.id).await?;
        if access.workspace.local && access.role == Role::Owner {
            return Err(conflict(
                "the owner cannot leave: transfer the ownership to another member first",
            )
            .with_message("workspace_members.error.owner_leave"));
        }
        diesel::delete(workspace_members::table.find((workspace_id, actor.id)))
            .execute(conn)
            .await?;
        if access.workspace.local {
            notify_coordinators(
                ctx,
                conn,
                &access.workspace,
                NotificationKind::WorkspaceMembership,
                actor.id,
                WorkspaceRefs {
                    workspace_id: Some(workspace_id),
                    ..Default::default()
                },
            )
            .await?;
        } else if actor.local {
            outbound::record(
                ctx,
                conn,
                OutboundEvent::WorkspaceLeft {
                    workspace: Box::new(access.workspace.clone()),
                    member: Box::new(actor.clone()),
                },
            )
            .await?;
        }
        Ok(())
    })
    .await
}
