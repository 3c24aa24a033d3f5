//! Queries of workspace membership over federation: the invitations that travel as `Invite`,
//! the mirror rows of remote workspaces our members belong to, and who may see a workspace's
//! `Group` actor.

use super::schema::{actors, workspace_invitations, workspace_members, workspaces};
use crate::db::workspaces::{DbWorkspace, DbWorkspaceInvitation};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// The invitation whose `Invite` activity is `ap_id` (sent by us, or received).
pub async fn invitation_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<DbWorkspaceInvitation>> {
    workspace_invitations::table
        .filter(workspace_invitations::ap_id.eq(ap_id))
        .select(DbWorkspaceInvitation::as_select())
        .first(conn)
        .await
        .optional()
}

/// The pending invitation of `actor_id` to `workspace_id`, if any.
pub async fn pending_invitation(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
) -> QueryResult<Option<DbWorkspaceInvitation>> {
    workspace_invitations::table
        .filter(workspace_invitations::workspace_id.eq(workspace_id))
        .filter(workspace_invitations::actor_id.eq(actor_id))
        .filter(workspace_invitations::status.eq("pending"))
        .select(DbWorkspaceInvitation::as_select())
        .first(conn)
        .await
        .optional()
}

/// A received invitation: our member `actor_id` invited by the remote workspace's `Group`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = workspace_invitations)]
pub struct NewReceivedInvitation {
    pub workspace_id: Uuid,
    pub invited_by_actor_id: i64,
    pub actor_id: Option<i64>,
    pub message: String,
    pub ap_id: Option<String>,
}

pub async fn insert_received_invitation(
    conn: &mut AsyncPgConnection,
    new: &NewReceivedInvitation,
) -> QueryResult<DbWorkspaceInvitation> {
    diesel::insert_into(workspace_invitations::table)
        .values(new)
        .returning(DbWorkspaceInvitation::as_returning())
        .get_result(conn)
        .await
}

/// Name, description and archive state of a mirrored remote workspace, as its `Group` says.
pub async fn update_mirror(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    name: &str,
    description_html: &str,
    archived_at: Option<DateTime<Utc>>,
) -> QueryResult<DbWorkspace> {
    diesel::update(workspaces::table.find(workspace_id))
        .set((
            workspaces::name.eq(name),
            workspaces::description_html.eq(description_html),
            workspaces::archived_at.eq(archived_at),
            workspaces::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbWorkspace::as_returning())
        .get_result(conn)
        .await
}

/// Drops `actor_id`'s membership of `workspace_id`; whether there was one.
pub async fn delete_member(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
) -> QueryResult<bool> {
    let n = diesel::delete(workspace_members::table.find((workspace_id, actor_id)))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Whether `actor_id` is a member of `workspace_id` or holds a pending invitation to it.
pub async fn member_or_invitee(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
) -> QueryResult<bool> {
    let members: i64 = workspace_members::table
        .filter(workspace_members::workspace_id.eq(workspace_id))
        .filter(workspace_members::actor_id.eq(actor_id))
        .count()
        .get_result(conn)
        .await?;
    if members > 0 {
        return Ok(true);
    }
    let invited: i64 = workspace_invitations::table
        .filter(workspace_invitations::workspace_id.eq(workspace_id))
        .filter(workspace_invitations::actor_id.eq(actor_id))
        .filter(workspace_invitations::status.eq("pending"))
        .filter(workspace_invitations::expires_at.gt(diesel::dsl::now))
        .count()
        .get_result(conn)
        .await?;
    Ok(invited > 0)
}

/// Whether a remote member or a pending remote invitee of `workspace_id` lives on `domain`
/// (that server's instance actor may fetch the `Group` to check our `Invite`).
pub async fn hosts_member_or_invitee(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    domain: &str,
) -> QueryResult<bool> {
    let members: i64 = workspace_members::table
        .inner_join(actors::table)
        .filter(workspace_members::workspace_id.eq(workspace_id))
        .filter(actors::local.eq(false))
        .filter(actors::domain.eq(domain))
        .count()
        .get_result(conn)
        .await?;
    if members > 0 {
        return Ok(true);
    }
    let invited: i64 = workspace_invitations::table
        .inner_join(actors::table.on(workspace_invitations::actor_id.eq(actors::id.nullable())))
        .filter(workspace_invitations::workspace_id.eq(workspace_id))
        .filter(workspace_invitations::status.eq("pending"))
        .filter(workspace_invitations::expires_at.gt(diesel::dsl::now))
        .filter(actors::local.eq(false))
        .filter(actors::domain.eq(domain))
        .count()
        .get_result(conn)
        .await?;
    Ok(invited > 0)
}
