//! Chat messages of workspaces (private `Note`s) and their mentions.

use super::schema::workspace_messages;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
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
