//! Project workspaces (private `Group` actors), their members, invitations and join requests.
//! The same rows hold our workspaces (`local`) and the remote workspaces our members joined.

use super::schema::{
    actors, workspace_invitations, workspace_join_requests, workspace_members, workspaces,
};
use crate::db::actors::DbActor;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspaces)]
pub struct DbWorkspace {
    pub id: Uuid,
    pub actor_id: i64,
    pub local: bool,
    pub name: String,
    pub description_markdown: String,
    pub description_html: String,
    pub disciplines: Vec<String>,
    pub commune_code: Option<String>,
    pub listed: bool,
    pub created_by_account_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl DbWorkspace {
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = workspaces)]
pub struct NewWorkspace {
    pub id: Uuid,
    pub actor_id: i64,
    pub local: bool,
    pub name: String,
    pub description_markdown: String,
    pub description_html: String,
    pub disciplines: Vec<String>,
    pub commune_code: Option<String>,
    pub listed: bool,
    pub created_by_account_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = workspace_members)]
pub struct DbWorkspaceMember {
    pub workspace_id: Uuid,
    pub actor_id: i64,
    /// `owner`, `coordinator` or `member` (see `service::workspaces::Role`).
    pub role: String,
    pub joined_at: DateTime<Utc>,
    pub last_read_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspace_invitations)]
pub struct DbWorkspaceInvitation {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub invited_by_actor_id: i64,
    pub actor_id: Option<i64>,
    pub email: Option<String>,
    pub token_hash: Option<String>,
    pub role: String,
    pub message: String,
    pub ap_id: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspace_join_requests)]
pub struct DbWorkspaceJoinRequest {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub actor_id: i64,
    pub message: String,
    pub ap_id: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by_actor_id: Option<i64>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewWorkspace) -> QueryResult<DbWorkspace> {
    diesel::insert_into(workspaces::table)
        .values(new)
        .returning(DbWorkspace::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<DbWorkspace>> {
    workspaces::table
        .find(id)
        .select(DbWorkspace::as_select())
        .first(conn)
        .await
        .optional()
}

/// The workspace whose `Group` actor is `actor_id`.
pub async fn by_actor_id(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
) -> QueryResult<Option<DbWorkspace>> {
    workspaces::table
        .filter(workspaces::actor_id.eq(actor_id))
        .select(DbWorkspace::as_select())
        .first(conn)
        .await
        .optional()
}

/// The workspace whose `Group` actor has the ActivityPub id `ap_id` (ours or remote).
pub async fn by_actor_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<(DbWorkspace, DbActor)>> {
    workspaces::table
        .inner_join(actors::table)
        .filter(actors::ap_id.eq(ap_id))
        .select((DbWorkspace::as_select(), DbActor::as_select()))
        .first(conn)
        .await
        .optional()
}

/// The membership of `actor_id` in `workspace_id`, if any.
pub async fn member(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
) -> QueryResult<Option<DbWorkspaceMember>> {
    workspace_members::table
        .find((workspace_id, actor_id))
        .select(DbWorkspaceMember::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every member with their actor, owner first, then coordinators, then by arrival.
pub async fn members(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
) -> QueryResult<Vec<(DbWorkspaceMember, DbActor)>> {
    workspace_members::table
        .inner_join(actors::table)
        .filter(workspace_members::workspace_id.eq(workspace_id))
        .select((DbWorkspaceMember::as_select(), DbActor::as_select()))
        .order((
            diesel::dsl::sql::<diesel::sql_types::Int4>(
                "CASE workspace_members.role WHEN 'owner' THEN 0 WHEN 'coordinator' THEN 1 ELSE 2 END",
            ),
            workspace_members::joined_at,
        ))
        .load(conn)
        .await
}

/// The personal inboxes (never the shared ones: a shared inbox is a server's, not a
/// member's) of the remote members of a workspace of ours. Workspace content goes there and
/// nowhere else.
pub async fn remote_member_inboxes(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
) -> QueryResult<Vec<(String, String)>> {
    workspace_members::table
        .inner_join(actors::table)
        .filter(workspace_members::workspace_id.eq(workspace_id))
        .filter(actors::local.eq(false))
        .filter(actors::deleted_at.is_null())
        .select((actors::ap_id, actors::inbox_url))
        .order(actors::id)
        .load(conn)
        .await
}
