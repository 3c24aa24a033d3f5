//! Chat messages of workspaces (private `Note`s) and their mentions.

use super::schema::{workspace_members, workspace_message_mentions, workspace_messages};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspace_messages)]
pub struct DbWorkspaceMessage {
    pub id: Uuid,
    pub seq: i64,
    pub workspace_id: Uuid,
    pub author_actor_id: i64,
    pub ap_id: String,
    pub body_markdown: String,
    pub body_html: String,
    pub in_reply_to_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = workspace_messages)]
pub struct NewWorkspaceMessage {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub author_actor_id: i64,
    pub ap_id: String,
    pub body_markdown: String,
    pub body_html: String,
    pub in_reply_to_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Inserts a message; `None` when a message with that `ap_id` already exists (a remote
/// message received twice).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewWorkspaceMessage,
) -> QueryResult<Option<DbWorkspaceMessage>> {
    diesel::insert_into(workspace_messages::table)
        .values(new)
        .on_conflict(workspace_messages::ap_id)
        .do_nothing()
        .returning(DbWorkspaceMessage::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn by_id(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<DbWorkspaceMessage>> {
    workspace_messages::table
        .find(id)
        .select(DbWorkspaceMessage::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<DbWorkspaceMessage>> {
    workspace_messages::table
        .filter(workspace_messages::ap_id.eq(ap_id))
        .select(DbWorkspaceMessage::as_select())
        .first(conn)
        .await
        .optional()
}

/// Locks the message row for an edit or a deletion.
pub async fn by_id_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<DbWorkspaceMessage>> {
    workspace_messages::table
        .find(id)
        .select(DbWorkspaceMessage::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Up to `limit` messages of the workspace before `before` (a `seq`, exclusive), newest
/// first; deleted ones included (shown as "message deleted").
pub async fn page(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DbWorkspaceMessage>> {
    let mut query = workspace_messages::table
        .filter(workspace_messages::workspace_id.eq(workspace_id))
        .select(DbWorkspaceMessage::as_select())
        .order(workspace_messages::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(workspace_messages::seq.lt(before));
    }
    query.load(conn).await
}

/// The latest `limit` messages of a workspace (newest first), deleted ones left out.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    limit: i64,
) -> QueryResult<Vec<DbWorkspaceMessage>> {
    workspace_messages::table
        .filter(workspace_messages::workspace_id.eq(workspace_id))
        .filter(workspace_messages::deleted_at.is_null())
        .select(DbWorkspaceMessage::as_select())
        .order(workspace_messages::seq.desc())
        .limit(limit)
        .load(conn)
        .await
}

/// New text of a message.
pub async fn set_body(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    body_markdown: &str,
    body_html: &str,
    edited_at: DateTime<Utc>,
) -> QueryResult<DbWorkspaceMessage> {
    diesel::update(workspace_messages::table.find(id))
        .set((
            workspace_messages::body_markdown.eq(body_markdown),
            workspace_messages::body_html.eq(body_html),
            workspace_messages::edited_at.eq(Some(edited_at)),
        ))
        .returning(DbWorkspaceMessage::as_returning())
        .get_result(conn)
        .await
}

/// Marks a message deleted and forgets its text (the row keeps its place in the
/// conversation and its id, so replies and federated copies still point somewhere).
pub async fn mark_deleted(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<DbWorkspaceMessage> {
    diesel::update(workspace_messages::table.find(id))
        .set((
            workspace_messages::deleted_at.eq(Some(at)),
            workspace_messages::body_markdown.eq(""),
            workspace_messages::body_html.eq(""),
        ))
        .returning(DbWorkspaceMessage::as_returning())
        .get_result(conn)
        .await
}

/// Replaces the mentions of a message.
pub async fn set_mentions(
    conn: &mut AsyncPgConnection,
    message_id: Uuid,
    actor_ids: &[i64],
) -> QueryResult<()> {
    diesel::delete(
        workspace_message_mentions::table
            .filter(workspace_message_mentions::message_id.eq(message_id)),
    )
    .execute(conn)
    .await?;
    if actor_ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = actor_ids
        .iter()
        .map(|a| {
            (
                workspace_message_mentions::message_id.eq(message_id),
                workspace_message_mentions::actor_id.eq(*a),
            )
        })
        .collect();
    diesel::insert_into(workspace_message_mentions::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// The actors a message mentions.
pub async fn mentions(conn: &mut AsyncPgConnection, message_id: Uuid) -> QueryResult<Vec<i64>> {
    workspace_message_mentions::table
        .filter(workspace_message_mentions::message_id.eq(message_id))
        .select(workspace_message_mentions::actor_id)
        .order(workspace_message_mentions::actor_id)
        .load(conn)
        .await
}

/// Moves the member's read marker forward to `seq` (never back); the new marker.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
    seq: i64,
) -> QueryResult<i64> {
    diesel::update(
        workspace_members::table
            .find((workspace_id, actor_id))
            .filter(workspace_members::last_read_seq.lt(seq)),
    )
    .set(workspace_members::last_read_seq.eq(seq))
    .execute(conn)
    .await?;
    workspace_members::table
        .find((workspace_id, actor_id))
        .select(workspace_members::last_read_seq)
        .first(conn)
        .await
}

/// The highest `seq` of a workspace's messages (0 when none).
pub async fn last_seq(conn: &mut AsyncPgConnection, workspace_id: Uuid) -> QueryResult<i64> {
    workspace_messages::table
        .filter(workspace_messages::workspace_id.eq(workspace_id))
        .select(diesel::dsl::max(workspace_messages::seq))
        .first::<Option<i64>>(conn)
        .await
        .map(|s| s.unwrap_or(0))
}

/// Messages of others after the member's read marker (deleted ones not counted).
pub async fn unread(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
    last_read_seq: i64,
) -> QueryResult<i64> {
    workspace_messages::table
        .filter(workspace_messages::workspace_id.eq(workspace_id))
        .filter(workspace_messages::seq.gt(last_read_seq))
        .filter(workspace_messages::author_actor_id.ne(actor_id))
        .filter(workspace_messages::deleted_at.is_null())
        .count()
        .get_result(conn)
        .await
}
