//! Online meetings of workspaces (private `Event`s), their attendees, and the members'
//! calendar feeds.

use super::schema::workspace_meetings;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspace_meetings)]
pub struct DbWorkspaceMeeting {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub ap_id: String,
    pub organizer_actor_id: Option<i64>,
    pub title: String,
    pub agenda_markdown: String,
    pub agenda_html: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub room_name: Option<String>,
    pub video_url: Option<String>,
    pub notes_markdown: String,
    pub notes_html: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}
