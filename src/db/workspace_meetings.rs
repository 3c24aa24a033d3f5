//! Online meetings of workspaces (private `Event`s), their attendees, and the members'
//! calendar feeds.

use super::schema::{
    accounts, actors, calendar_feeds, workspace_meeting_attendees, workspace_meetings,
    workspace_members,
};
use crate::db::actors::DbActor;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
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
    /// Bumped by every change (the calendar entry's SEQUENCE).
    pub sequence: i32,
}

impl DbWorkspaceMeeting {
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + chrono::Duration::minutes(i64::from(self.duration_minutes))
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled_at.is_some()
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = workspace_meetings)]
pub struct NewMeeting {
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
}

/// What a change of a meeting sets (its sequence is bumped with it).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = workspace_meetings)]
pub struct MeetingChanges {
    pub title: String,
    pub agenda_markdown: String,
    pub agenda_html: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewMeeting,
) -> QueryResult<DbWorkspaceMeeting> {
    diesel::insert_into(workspace_meetings::table)
        .values(new)
        .returning(DbWorkspaceMeeting::as_returning())
        .get_result(conn)
        .await
}

/// Meeting `id` of workspace `workspace_id`, locked for a change.
pub async fn in_workspace_for_update(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<DbWorkspaceMeeting>> {
    workspace_meetings::table
        .find(id)
        .filter(workspace_meetings::workspace_id.eq(workspace_id))
        .select(DbWorkspaceMeeting::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Meeting `id` of workspace `workspace_id`.
pub async fn in_workspace(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<DbWorkspaceMeeting>> {
    workspace_meetings::table
        .find(id)
        .filter(workspace_meetings::workspace_id.eq(workspace_id))
        .select(DbWorkspaceMeeting::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<DbWorkspaceMeeting>> {
    workspace_meetings::table
        .filter(workspace_meetings::ap_id.eq(ap_id))
        .select(DbWorkspaceMeeting::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Every meeting of a workspace, by start.
pub async fn of_workspace(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
) -> QueryResult<Vec<DbWorkspaceMeeting>> {
    workspace_meetings::table
        .filter(workspace_meetings::workspace_id.eq(workspace_id))
        .select(DbWorkspaceMeeting::as_select())
        .order((workspace_meetings::starts_at, workspace_meetings::id))
        .load(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &MeetingChanges,
) -> QueryResult<DbWorkspaceMeeting> {
    diesel::update(workspace_meetings::table.find(id))
        .set((
            changes,
            workspace_meetings::updated_at.eq(diesel::dsl::now),
            workspace_meetings::sequence.eq(workspace_meetings::sequence + 1),
        ))
        .returning(DbWorkspaceMeeting::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_notes(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    markdown: &str,
    html: &str,
) -> QueryResult<DbWorkspaceMeeting> {
    diesel::update(workspace_meetings::table.find(id))
        .set((
            workspace_meetings::notes_markdown.eq(markdown),
            workspace_meetings::notes_html.eq(html),
            workspace_meetings::updated_at.eq(diesel::dsl::now),
            workspace_meetings::sequence.eq(workspace_meetings::sequence + 1),
        ))
        .returning(DbWorkspaceMeeting::as_returning())
        .get_result(conn)
        .await
}

/// Sets the video link (a meeting received from another server: as it was sent).
pub async fn set_video_url(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    video_url: Option<&str>,
) -> QueryResult<()> {
    diesel::update(workspace_meetings::table.find(id))
        .set(workspace_meetings::video_url.eq(video_url))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn cancel(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<DbWorkspaceMeeting> {
    diesel::update(workspace_meetings::table.find(id))
        .set((
            workspace_meetings::cancelled_at.eq(diesel::dsl::now),
            workspace_meetings::updated_at.eq(diesel::dsl::now),
            workspace_meetings::sequence.eq(workspace_meetings::sequence + 1),
        ))
        .returning(DbWorkspaceMeeting::as_returning())
        .get_result(conn)
        .await
}

/// Replaces the attendees of a meeting.
pub async fn set_attendees(
    conn: &mut AsyncPgConnection,
    meeting_id: Uuid,
    actor_ids: &[i64],
) -> QueryResult<()> {
    diesel::delete(
        workspace_meeting_attendees::table
            .filter(workspace_meeting_attendees::meeting_id.eq(meeting_id)),
    )
    .execute(conn)
    .await?;
    let rows: Vec<_> = actor_ids
        .iter()
        .map(|a| {
            (
                workspace_meeting_attendees::meeting_id.eq(meeting_id),
                workspace_meeting_attendees::actor_id.eq(*a),
            )
        })
        .collect();
    diesel::insert_into(workspace_meeting_attendees::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|_| ())
}

/// The attendees of a meeting, by name.
pub async fn attendees(
    conn: &mut AsyncPgConnection,
    meeting_id: Uuid,
) -> QueryResult<Vec<DbActor>> {
    workspace_meeting_attendees::table
        .inner_join(actors::table)
        .filter(workspace_meeting_attendees::meeting_id.eq(meeting_id))
        .select(DbActor::as_select())
        .order((actors::name, actors::id))
        .load(conn)
        .await
}

/// The local accounts among the attendees (to notify), as (account id, actor id).
pub async fn local_attendee_accounts(
    conn: &mut AsyncPgConnection,
    meeting_id: Uuid,
) -> QueryResult<Vec<(i64, i64)>> {
    workspace_meeting_attendees::table
        .inner_join(
            accounts::table.on(accounts::actor_id.eq(workspace_meeting_attendees::actor_id)),
        )
        .filter(workspace_meeting_attendees::meeting_id.eq(meeting_id))
        .select((accounts::id, accounts::actor_id))
        .load(conn)
        .await
}

/// The meetings `actor_id` attends, in the workspaces they still belong to, starting after
/// `since`, by start.
pub async fn attended_by(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DbWorkspaceMeeting>> {
    workspace_meetings::table
        .inner_join(
            workspace_meeting_attendees::table
                .on(workspace_meeting_attendees::meeting_id.eq(workspace_meetings::id)),
        )
        .inner_join(
            workspace_members::table.on(workspace_members::workspace_id
                .eq(workspace_meetings::workspace_id)
                .and(workspace_members::actor_id.eq(workspace_meeting_attendees::actor_id))),
        )
        .filter(workspace_meeting_attendees::actor_id.eq(actor_id))
        .filter(workspace_meetings::starts_at.ge(since))
        .select(DbWorkspaceMeeting::as_select())
        .order((workspace_meetings::starts_at, workspace_meetings::id))
        .load(conn)
        .await
}

/// Sets the (hashed) secret of an account's calendar feed, replacing any previous one.
pub async fn set_feed_token(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    token_hash: &str,
) -> QueryResult<()> {
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::account_id.eq(account_id),
            calendar_feeds::token_hash.eq(token_hash),
        ))
        .on_conflict(calendar_feeds::account_id)
        .do_update()
        .set((
            calendar_feeds::token_hash.eq(token_hash),
            calendar_feeds::created_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The account whose calendar feed has this (hashed) secret.
pub async fn feed_account(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<i64>> {
    calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .select(calendar_feeds::account_id)
        .first(conn)
        .await
        .optional()
}

/// Whether the account has a calendar feed.
pub async fn has_feed(conn: &mut AsyncPgConnection, account_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        calendar_feeds::table.filter(calendar_feeds::account_id.eq(account_id)),
    ))
    .get_result(conn)
    .await
}
