//! Online meetings of a workspace: schedule (title, agenda, start, duration, attendees), change,
//! cancel, write the minutes; each meeting gets an unguessable video-room name and, when
//! `meetings.video_base_url` is set, its link. Calendars: one `.ics` per meeting and a personal
//! feed per member (a secret URL, stored hashed, that can be reset).
//!
//! Every function starts with the workspace access rule (a non-member gets 404). Changes are
//! recorded as `WorkspaceMeeting*` outbound events in the same transaction, and the local
//! attendees are notified.

use super::{Access, Role, access_as};
use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        workspace_meetings::{DbWorkspaceMeeting, MeetingChanges, NewMeeting},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::SafeHtml,
    service::{
        digest::paris_time,
        notifications::{self, Event, NotificationKind, WorkspaceRefs},
        outbound::{self, OutboundEvent},
        tokens,
    },
};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use icalendar::{Calendar, Component, EventLike, EventStatus};
use rand::RngCore;
use uuid::Uuid;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_AGENDA_CHARS: usize = 10_000;
pub const MAX_NOTES_CHARS: usize = 50_000;
pub const MIN_DURATION: i32 = 5;
pub const MAX_DURATION: i32 = 1440;
/// How far back the personal calendar feed goes.
pub const FEED_PAST_DAYS: i64 = 90;
/// Random bytes of a room name (128 bits).
const ROOM_RANDOM_BYTES: usize = 16;

/// What the organiser typed (the form) or sent (the API).
#[derive(Debug, Clone, Default)]
pub struct MeetingInput {
    pub title: String,
    /// Markdown.
    pub agenda: String,
    /// RFC 3339 (`2027-01-14T14:30:00+01:00`), or a date and time of day in Paris
    /// (`2027-01-14T14:30`, as a form's `datetime-local` sends it).
    pub starts_at: String,
    pub duration_minutes: String,
    /// Actor ids of members; `None`: every member.
    pub attendees: Option<Vec<i64>>,
}

/// The fields a change gives (the others are kept).
#[derive(Debug, Clone, Default)]
pub struct MeetingPatch {
    pub title: Option<String>,
    pub agenda: Option<String>,
    pub starts_at: Option<String>,
    pub duration_minutes: Option<String>,
    pub attendees: Option<Vec<i64>>,
}

/// A meeting with its attendees.
#[derive(Debug, Clone)]
pub struct MeetingView {
    pub meeting: DbWorkspaceMeeting,
    pub attendees: Vec<DbActor>,
}

/// A workspace's meetings: those to come (or under way), then the past ones, latest first.
#[derive(Debug, Clone, Default)]
pub struct MeetingList {
    pub upcoming: Vec<DbWorkspaceMeeting>,
    pub past: Vec<DbWorkspaceMeeting>,
}

/// The instant of a Paris wall-clock time (the first one when clocks go back, none when
/// they go forward over it).
pub fn paris_to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    [2, 1].into_iter().find_map(|offset| {
        let utc = (local - Duration::hours(offset)).and_utc();
        (paris_time(utc) == local).then_some(utc)
    })
}

/// Reads a start: RFC 3339, or a Paris date and time of day.
pub fn parse_start(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .into_iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .and_then(paris_to_utc)
}

/// The Paris wall-clock time of a start, as a `datetime-local` field shows it.
pub fn form_start(at: DateTime<Utc>) -> String {
    paris_time(at).format("%Y-%m-%dT%H:%M").to_string()
}

/// A slug of the title for the room name: lowercase ASCII letters and digits joined by
/// dashes, at most 40 characters.
fn slug(title: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    let mut dash = false;
    for c in title.nfkd() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
            if out.len() >= 40 {
                break;
            }
        } else if c.is_whitespace() || c.is_ascii_punctuation() {
            dash = true;
        }
    }
    out
}

/// An unguessable room name: the title's slug, then 128 random bits in hex.
pub fn room_name(title: &str) -> String {
    let mut bytes = [0u8; ROOM_RANDOM_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let random = hex::encode(bytes);
    match slug(title) {
        s if s.is_empty() => random,
        s => format!("{s}-{random}"),
    }
}

/// The video link of a room, when `meetings.video_base_url` is set.
pub fn video_url(ctx: &AppContext, room: &str) -> Option<String> {
    let base = &ctx.config.meetings.video_base_url;
    (!base.is_empty()).then(|| format!("{base}{room}"))
}

/// The checked fields of a meeting.
struct Checked {
    title: String,
    agenda: String,
    starts_at: DateTime<Utc>,
    duration_minutes: i32,
}

fn check_fields(
    errors: &mut FieldErrors,
    title: &str,
    agenda: &str,
    starts_at: &str,
    duration: &str,
    current_start: Option<DateTime<Utc>>,
) -> Option<Checked> {
    let title = title.trim().to_string();
    if title.is_empty() {
        errors.add("title", "field.required");
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.add("title", "field.too_long");
    }
    let agenda = agenda.replace("\r\n", "\n").trim().to_string();
    if agenda.chars().count() > MAX_AGENDA_CHARS {
        errors.add("agenda", "field.too_long");
    }
    let start = if starts_at.trim().is_empty() {
        errors.add("starts_at", "field.required");
        None
    } else {
        match parse_start(starts_at) {
            None => {
                errors.add("starts_at", "workspace_meetings.field.starts_at");
                None
            }
            // A start kept as it was may be past (the minutes are written afterwards).
            Some(at) if at < Utc::now() && Some(at) != current_start => {
                errors.add("starts_at", "workspace_meetings.field.past");
                None
            }
            Some(at) => Some(at),
        }
    };
    let duration = match duration.trim().parse::<i32>() {
        Ok(d) if (MIN_DURATION..=MAX_DURATION).contains(&d) => Some(d),
        _ => {
            errors.add("duration_minutes", "workspace_meetings.field.duration");
            None
        }
    };
    match (start, duration) {
        (Some(starts_at), Some(duration_minutes)) if errors.is_empty() => Some(Checked {
            title,
            agenda,
            starts_at,
            duration_minutes,
        }),
        _ => None,
    }
}

/// The attendees chosen, checked to be members (the organiser always attends).
async fn check_attendees(
    conn: &mut AsyncPgConnection,
    errors: &mut FieldErrors,
    workspace_id: Uuid,
    organizer: i64,
    chosen: Option<&[i64]>,
) -> AppResult<Vec<i64>> {
    let members: Vec<i64> = db::workspaces::members(conn, workspace_id)
        .await?
        .into_iter()
        .map(|(m, _)| m.actor_id)
        .collect();
    let mut out = match chosen {
        None => members.clone(),
        Some(chosen) => {
            if chosen.iter().any(|a| !members.contains(a)) {
                errors.add("attendees", "workspace_meetings.field.attendees");
            }
            chosen.to_vec()
        }
    };
    out.push(organizer);
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn refs(meeting: &DbWorkspaceMeeting) -> WorkspaceRefs {
    WorkspaceRefs {
        workspace_id: Some(meeting.workspace_id),
        meeting_id: Some(meeting.id),
        ..Default::default()
    }
}

/// Notifies the local attendees of a meeting but `actor_id` (who did it).
pub async fn notify_attendees(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    meeting: &DbWorkspaceMeeting,
    actor_id: Option<i64>,
) -> AppResult<()> {
    for (account_id, attendee) in
        db::workspace_meetings::local_attendee_accounts(conn, meeting.id).await?
    {
        if Some(attendee) == actor_id {
            continue;
        }
        notifications::record(
            ctx,
            conn,
            Event {
                account_id,
                kind: NotificationKind::WorkspaceMeeting,
                actor_id,
                post_id: None,
                comment_id: None,
                object_ap_id: Some(meeting.ap_id.clone()),
                alert_id: None,
                dedupe_key: None,
                report_id: None,
                moderation_action_id: None,
                loan_request_id: None,
                venue_id: None,
                workspace: refs(meeting),
            },
        )
        .await?;
    }
    Ok(())
}

fn cancelled_error() -> AppError {
    AppError::new(ErrorKind::Conflict, "this meeting was cancelled")
        .with_message("workspace_meetings.cancelled_error")
}

/// Schedules a meeting in the workspace of `access`.
pub async fn schedule(
    ctx: &AppContext,
    access: &Access,
    input: MeetingInput,
) -> AppResult<DbWorkspaceMeeting> {
    let workspace_id = access.workspace.id;
    let actor_id = access.member.actor_id;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceMeeting, AppError, _>(async |conn| {
        let access = access_as(conn, workspace_id, actor_id).await?;
        access.require_writable()?;
        let mut errors = FieldErrors::default();
        let checked = check_fields(
            &mut errors,
            &input.title,
            &input.agenda,
            &input.starts_at,
            &input.duration_minutes,
            None,
        );
        let attendees = check_attendees(
            conn,
            &mut errors,
            workspace_id,
            actor_id,
            input.attendees.as_deref(),
        )
        .await?;
        errors.into_result()?;
        let checked = checked.ok_or_else(|| AppError::internal("checked meeting missing"))?;
        let id = Uuid::new_v4();
        let room = room_name(&checked.title);
        let meeting = db::workspace_meetings::insert(
            conn,
            &NewMeeting {
                id,
                workspace_id,
                ap_id: ctx.urls.workspace_object(&workspace_id, "meetings", &id),
                organizer_actor_id: Some(actor_id),
                agenda_html: SafeHtml::from_markdown(&checked.agenda).into_string(),
                agenda_markdown: checked.agenda,
                title: checked.title,
                starts_at: checked.starts_at,
                duration_minutes: checked.duration_minutes,
                video_url: video_url(ctx, &room),
                room_name: Some(room),
            },
        )
        .await?;
        db::workspace_meetings::set_attendees(conn, meeting.id, &attendees).await?;
        notify_attendees(ctx, conn, &meeting, Some(actor_id)).await?;
        let organizer = db::actors::by_id(conn, actor_id).await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::WorkspaceMeetingScheduled {
                workspace: Box::new(access.workspace.clone()),
                meeting: Box::new(meeting.clone()),
                organizer: Box::new(organizer),
            },
        )
        .await?;
        Ok(meeting)
    })
    .await
}

/// The meeting `id` of the workspace, locked, with the access of `actor_id`.
async fn meeting_for_change(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
    id: Uuid,
) -> AppResult<(Access, DbWorkspaceMeeting)> {
    let access = access_as(conn, workspace_id, actor_id).await?;
    let meeting = db::workspace_meetings::in_workspace_for_update(conn, workspace_id, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    access.require_writable()?;
    Ok((access, meeting))
}

/// Changes a meeting: its organiser, or a coordinator or the owner.
pub async fn update(
    ctx: &AppContext,
    access: &Access,
    id: Uuid,
    patch: MeetingPatch,
) -> AppResult<DbWorkspaceMeeting> {
    let workspace_id = access.workspace.id;
    let actor_id = access.member.actor_id;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceMeeting, AppError, _>(async |conn| {
        let (access, meeting) = meeting_for_change(conn, workspace_id, actor_id, id).await?;
        if meeting.organizer_actor_id != Some(actor_id) {
            access.require(Role::Coordinator)?;
        }
        if meeting.is_cancelled() {
            return Err(cancelled_error());
        }
        let mut errors = FieldErrors::default();
        let current_start = meeting.starts_at.to_rfc3339();
        let checked = check_fields(
            &mut errors,
            patch.title.as_deref().unwrap_or(&meeting.title),
            patch.agenda.as_deref().unwrap_or(&meeting.agenda_markdown),
            patch.starts_at.as_deref().unwrap_or(&current_start),
            &patch
                .duration_minutes
                .clone()
                .unwrap_or_else(|| meeting.duration_minutes.to_string()),
            Some(meeting.starts_at),
        );
        let attendees = match &patch.attendees {
            Some(chosen) => Some(
                check_attendees(
                    conn,
                    &mut errors,
                    workspace_id,
                    meeting.organizer_actor_id.unwrap_or(actor_id),
                    Some(chosen),
                )
                .await?,
            ),
            None => None,
        };
        errors.into_result()?;
        let checked = checked.ok_or_else(|| AppError::internal("checked meeting missing"))?;
        let updated = db::workspace_meetings::update(
            conn,
            meeting.id,
            &MeetingChanges {
                agenda_html: SafeHtml::from_markdown(&checked.agenda).into_string(),
                agenda_markdown: checked.agenda,
                title: checked.title,
                starts_at: checked.starts_at,
                duration_minutes: checked.duration_minutes,
            },
        )
        .await?;
        if let Some(attendees) = attendees {
            db::workspace_meetings::set_attendees(conn, meeting.id, &attendees).await?;
        }
        notify_attendees(ctx, conn, &updated, Some(actor_id)).await?;
        record_update(ctx, conn, &access, &updated).await?;
        Ok(updated)
    })
    .await
}

async fn record_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    access: &Access,
    meeting: &DbWorkspaceMeeting,
) -> AppResult<()> {
    let actor = db::actors::by_id(conn, access.member.actor_id).await?;
    outbound::record(
        ctx,
        conn,
        OutboundEvent::WorkspaceMeetingUpdated {
            workspace: Box::new(access.workspace.clone()),
            meeting: Box::new(meeting.clone()),
            actor: Box::new(actor),
        },
    )
    .await
}

/// Writes the minutes of a meeting that has started: any attendee (or a coordinator).
pub async fn write_notes(
    ctx: &AppContext,
    access: &Access,
    id: Uuid,
    notes: &str,
) -> AppResult<DbWorkspaceMeeting> {
    let workspace_id = access.workspace.id;
    let actor_id = access.member.actor_id;
    let notes = notes.replace("\r\n", "\n").trim().to_string();
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceMeeting, AppError, _>(async |conn| {
        let (access, meeting) = meeting_for_change(conn, workspace_id, actor_id, id).await?;
        let attends = db::workspace_meetings::attendees(conn, meeting.id)
            .await?
            .iter()
            .any(|a| a.id == actor_id);
        if !attends {
            access.require(Role::Coordinator)?;
        }
        if meeting.is_cancelled() {
            return Err(cancelled_error());
        }
        if notes.chars().count() > MAX_NOTES_CHARS {
            return Err(AppError::field("notes", "field.too_long"));
        }
        if meeting.starts_at > Utc::now() {
            return Err(AppError::field(
                "notes",
                "workspace_meetings.field.notes_early",
            ));
        }
        let html = SafeHtml::from_markdown(&notes).into_string();
        let updated = db::workspace_meetings::set_notes(conn, meeting.id, &notes, &html).await?;
        record_update(ctx, conn, &access, &updated).await?;
        Ok(updated)
    })
    .await
}

/// Cancels a meeting (it stays listed, marked cancelled): its organiser or a coordinator.
pub async fn cancel(ctx: &AppContext, access: &Access, id: Uuid) -> AppResult<DbWorkspaceMeeting> {
    let workspace_id = access.workspace.id;
    let actor_id = access.member.actor_id;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceMeeting, AppError, _>(async |conn| {
        let (access, meeting) = meeting_for_change(conn, workspace_id, actor_id, id).await?;
        if meeting.organizer_actor_id != Some(actor_id) {
            access.require(Role::Coordinator)?;
        }
        if meeting.is_cancelled() {
            return Ok(meeting);
        }
        let cancelled = db::workspace_meetings::cancel(conn, meeting.id).await?;
        notify_attendees(ctx, conn, &cancelled, Some(actor_id)).await?;
        let actor = db::actors::by_id(conn, actor_id).await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::WorkspaceMeetingCancelled {
                workspace: Box::new(access.workspace.clone()),
                meeting: Box::new(cancelled.clone()),
                actor: Box::new(actor),
            },
        )
        .await?;
        Ok(cancelled)
    })
    .await
}

/// The workspace's meetings, for one of its members.
pub async fn list(ctx: &AppContext, workspace_id: Uuid, actor_id: i64) -> AppResult<MeetingList> {
    let mut conn = ctx.conn().await?;
    access_as(&mut conn, workspace_id, actor_id).await?;
    let now = Utc::now();
    let mut list = MeetingList::default();
    for m in db::workspace_meetings::of_workspace(&mut conn, workspace_id).await? {
        if m.ends_at() >= now {
            list.upcoming.push(m);
        } else {
            list.past.push(m);
        }
    }
    list.past.reverse();
    Ok(list)
}

/// One meeting of the workspace with its attendees, for one of its members.
pub async fn get(
    ctx: &AppContext,
    workspace_id: Uuid,
    actor_id: i64,
    id: Uuid,
) -> AppResult<MeetingView> {
    let mut conn = ctx.conn().await?;
    access_as(&mut conn, workspace_id, actor_id).await?;
    let meeting = db::workspace_meetings::in_workspace(&mut conn, workspace_id, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let attendees = db::workspace_meetings::attendees(&mut conn, meeting.id).await?;
    Ok(MeetingView { meeting, attendees })
}

/// The page of a meeting, relative to the site.
pub fn page_path(meeting: &DbWorkspaceMeeting) -> String {
    format!(
        "{}/{}",
        crate::urls::workspace_page(&meeting.workspace_id, "reunions"),
        meeting.id
    )
}

/// The `.ics` file of a meeting, relative to the site.
pub fn ics_path(meeting: &DbWorkspaceMeeting) -> String {
    format!("{}.ics", page_path(meeting))
}

/// The plain-text description of a calendar entry: the agenda, then the link.
fn description(ctx: &AppContext, meeting: &DbWorkspaceMeeting) -> String {
    let mut text = meeting.agenda_markdown.clone();
    if let Some(url) = &meeting.video_url {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(url);
    }
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&ctx.urls.absolute(&page_path(meeting)));
    text
}

fn vevent(ctx: &AppContext, meeting: &DbWorkspaceMeeting) -> icalendar::Event {
    let mut event = icalendar::Event::new();
    event
        .uid(&meeting.ap_id)
        .summary(&meeting.title)
        .description(&description(ctx, meeting))
        .starts(meeting.starts_at)
        .ends(meeting.ends_at())
        .timestamp(meeting.updated_at)
        .last_modified(meeting.updated_at)
        .sequence(u32::try_from(meeting.sequence).unwrap_or(0))
        .status(if meeting.is_cancelled() {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    match &meeting.video_url {
        Some(url) => {
            event.url(url).location(url);
        }
        None => {
            event.url(&ctx.urls.absolute(&page_path(meeting)));
        }
    }
    event.done()
}

fn calendar_of(ctx: &AppContext, name: &str, meetings: &[DbWorkspaceMeeting]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name);
    for m in meetings {
        calendar.push(vevent(ctx, m));
    }
    calendar.done().to_string()
}

/// The `.ics` file of one meeting, for a member.
pub async fn ics(
    ctx: &AppContext,
    workspace_id: Uuid,
    actor_id: i64,
    id: Uuid,
) -> AppResult<String> {
    let view = get(ctx, workspace_id, actor_id, id).await?;
    Ok(calendar_of(
        ctx,
        &view.meeting.title,
        std::slice::from_ref(&view.meeting),
    ))
}

/// A new secret for the member's calendar feed (the old address stops working); the
/// address is shown once: only its hash is kept.
pub async fn reset_feed(ctx: &AppContext, account: &DbAccount) -> AppResult<String> {
    let token = tokens::new_secret();
    let mut conn = ctx.conn().await?;
    db::workspace_meetings::set_feed_token(&mut conn, account.id, &tokens::hash_token(&token))
        .await?;
    Ok(token)
}

/// The site-relative address of a calendar feed.
pub fn feed_path(token: &str) -> String {
    format!("/calendrier/{token}.ics")
}

/// Whether the member has a calendar feed.
pub async fn has_feed(ctx: &AppContext, account: &DbAccount) -> AppResult<bool> {
    let mut conn = ctx.conn().await?;
    Ok(db::workspace_meetings::has_feed(&mut conn, account.id).await?)
}

/// The calendar feed of the secret `token`: the meetings its member attends in their
/// workspaces, from 90 days back. 404 for an unknown token.
pub async fn feed(ctx: &AppContext, token: &str) -> AppResult<String> {
    if !tokens::is_well_formed_secret(token) {
        return Err(AppError::not_found());
    }
    let mut conn = ctx.conn().await?;
    let account_id = db::workspace_meetings::feed_account(&mut conn, &tokens::hash_token(token))
        .await?
        .ok_or_else(AppError::not_found)?;
    let account = db::accounts::by_id(&mut conn, account_id).await?;
    let since = Utc::now() - Duration::days(FEED_PAST_DAYS);
    let meetings = db::workspace_meetings::attended_by(&mut conn, account.actor_id, since).await?;
    let name = format!("{} — {}", ctx.config.instance.name, account.username);
    Ok(calendar_of(ctx, &name, &meetings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn naive(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, 0))
            .expect("valid date")
    }

    #[test]
    fn paris_times_convert_both_ways() {
        // Winter: UTC+1.
        let at = paris_to_utc(naive(2027, 1, 14, 14, 30)).expect("exists");
        assert_eq!(at.to_rfc3339(), "2027-01-14T13:30:00+00:00");
        // Summer: UTC+2.
        let at = paris_to_utc(naive(2027, 7, 1, 9, 0)).expect("exists");
        assert_eq!(at.to_rfc3339(), "2027-07-01T07:00:00+00:00");
        assert_eq!(form_start(at), "2027-07-01T09:00");
        // 28 March 2027, 02:30 does not exist in Paris.
        assert_eq!(paris_to_utc(naive(2027, 3, 28, 2, 30)), None);
        assert_eq!(
            parse_start("2027-01-14T14:30:00+01:00").map(|a| a.to_rfc3339()),
            Some("2027-01-14T13:30:00+00:00".into())
        );
        assert_eq!(parse_start("14/01/2027"), None);
    }

    #[test]
    fn room_names_are_slugged_and_random() {
        let a = room_name("Réunion de lancement : résidence !");
        let b = room_name("Réunion de lancement : résidence !");
        assert_ne!(a, b);
        assert!(a.starts_with("reunion-de-lancement-residence-"), "{a}");
        let random = a.rsplit('-').next().unwrap_or("");
        assert_eq!(random.len(), 32);
        assert!(random.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(room_name("!!!").len(), 32);
    }
}
