//! The activity page of a workspace: its latest chat messages, documents and meetings in one
//! view, for its members only.

use super::{Access, access_as};
use crate::{
    db::schema::{actors, workspace_documents, workspace_meetings, workspace_messages},
    error::AppResult,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// How many items of each kind the page shows.
pub const LATEST: i64 = 8;

/// A chat message as the activity page shows it; a deleted one keeps its place, without
/// its text.
#[derive(Debug, Clone)]
pub struct RecentMessage {
    pub id: Uuid,
    pub author: String,
    pub created_at: DateTime<Utc>,
    /// Sanitised HTML; empty when deleted.
    pub body_html: String,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub struct RecentDocument {
    pub id: Uuid,
    pub name: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct RecentMeeting {
    pub id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// Newest first.
    pub messages: Vec<RecentMessage>,
    /// Latest changed first (deleted documents left out).
    pub documents: Vec<RecentDocument>,
    /// Upcoming ones first (soonest first), then the latest past ones.
    pub meetings: Vec<RecentMeeting>,
}

/// The access of `actor_id` to workspace `id` (404 for anyone else) and what happened in it
/// lately.
pub async fn activity(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    actor_id: i64,
) -> AppResult<(Access, Activity)> {
    let access = access_as(conn, id, actor_id).await?;
    let activity = Activity {
        messages: messages(conn, id).await?,
        documents: documents(conn, id).await?,
        meetings: meetings(conn, id).await?,
    };
    Ok((access, activity))
}

async fn messages(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Vec<RecentMessage>> {
    type Row = (
        Uuid,
        String,
        String,
        DateTime<Utc>,
        String,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = workspace_messages::table
        .inner_join(actors::table)
        .filter(workspace_messages::workspace_id.eq(id))
        .select((
            workspace_messages::id,
            actors::name,
            actors::username,
            workspace_messages::created_at,
            workspace_messages::body_html,
            workspace_messages::deleted_at,
        ))
        .order(workspace_messages::seq.desc())
        .limit(LATEST)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, username, created_at, body_html, deleted_at)| RecentMessage {
                id,
                author: if name.trim().is_empty() {
                    username
                } else {
                    name
                },
                created_at,
                deleted: deleted_at.is_some(),
                body_html: if deleted_at.is_some() {
                    String::new()
                } else {
                    body_html
                },
            },
        )
        .collect())
}

async fn documents(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Vec<RecentDocument>> {
    let rows: Vec<(Uuid, String, DateTime<Utc>)> = workspace_documents::table
        .filter(workspace_documents::workspace_id.eq(id))
        .filter(workspace_documents::deleted_at.is_null())
        .select((
            workspace_documents::id,
            workspace_documents::name,
            workspace_documents::updated_at,
        ))
        .order(workspace_documents::updated_at.desc())
        .limit(LATEST)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, updated_at)| RecentDocument {
            id,
            name,
            updated_at,
        })
        .collect())
}

async fn meetings(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Vec<RecentMeeting>> {
    type Row = (Uuid, String, DateTime<Utc>, i32, Option<DateTime<Utc>>);
    let now = Utc::now();
    let select = (
        workspace_meetings::id,
        workspace_meetings::title,
        workspace_meetings::starts_at,
        workspace_meetings::duration_minutes,
        workspace_meetings::cancelled_at,
    );
    let upcoming: Vec<Row> = workspace_meetings::table
        .filter(workspace_meetings::workspace_id.eq(id))
        .filter(workspace_meetings::starts_at.ge(now))
        .select(select)
        .order(workspace_meetings::starts_at.asc())
        .limit(LATEST)
        .load(conn)
        .await?;
    let left = LATEST - upcoming.len() as i64;
    let past: Vec<Row> = if left > 0 {
        workspace_meetings::table
            .filter(workspace_meetings::workspace_id.eq(id))
            .filter(workspace_meetings::starts_at.lt(now))
            .select(select)
            .order(workspace_meetings::starts_at.desc())
            .limit(left)
            .load(conn)
            .await?
    } else {
        Vec::new()
    };
    Ok(upcoming
        .into_iter()
        .chain(past)
        .map(
            |(id, title, starts_at, duration_minutes, cancelled_at)| RecentMeeting {
                id,
                title,
                starts_at,
                duration_minutes,
                cancelled: cancelled_at.is_some(),
            },
        )
        .collect())
}
