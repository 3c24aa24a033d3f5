//! Meetings of a workspace and the caller's calendar feed. The twin of the pages in
//! `web::pages::workspace_meetings`; the rules live in `service::workspaces::meetings`.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, workspace_meetings::DbWorkspaceMeeting},
    error::{AppError, AppResult},
    federation::Data,
    service::workspaces::{
        self, Access,
        meetings::{self, MeetingInput, MeetingPatch},
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    routing::{get, post, put},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_meetings,
        http_post_meeting,
        http_get_meeting,
        http_patch_meeting,
        http_delete_meeting,
        http_put_notes,
        http_post_calendar_feed,
    ),
    components(schemas(
        NewMeetingRequest,
        MeetingPatchRequest,
        NotesRequest,
        MeetingCreated,
        MeetingDetail,
        MeetingList,
        CalendarFeed,
    )),
    tags((name = "workspace meetings", description = "Online meetings of project workspaces, their calendar files and the caller's calendar feed")),
)]
pub struct WorkspaceMeetingsApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/workspaces/{id}/meetings",
            get(http_get_meetings).post(http_post_meeting),
        )
        .route(
            "/api/v1/workspaces/{id}/meetings/{meeting}",
            get(http_get_meeting)
                .patch(http_patch_meeting)
                .delete(http_delete_meeting),
        )
        .route(
            "/api/v1/workspaces/{id}/meetings/{meeting}/notes",
            put(http_put_notes),
        )
        .route("/api/v1/calendar-feed", post(http_post_calendar_feed))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeetingRequest {
    #[schema(example = "Préparation de la résidence")]
    pub title: String,
    /// RFC 3339.
    #[schema(example = "2027-01-14T14:30:00+01:00")]
    pub starts_at: String,
    /// 5 to 1440.
    #[schema(example = 90)]
    pub duration_minutes: i64,
    /// Markdown.
    #[serde(default)]
    pub agenda: String,
    /// Members invited: local usernames, `user@host` for members of other servers, or actor
    /// ids (URLs). Default: every member. The caller always attends.
    #[serde(default)]
    pub attendees: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingPatchRequest {
    pub title: Option<String>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    pub duration_minutes: Option<i64>,
    pub agenda: Option<String>,
    pub attendees: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesRequest {
    /// The minutes, Markdown.
    pub notes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingCreated {
    pub id: Uuid,
    pub ap_id: String,
    /// The video room, when the instance has a video service configured.
    pub video_url: Option<String>,
    /// The meeting's calendar file (for members, with their session or token).
    pub ics_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingDetail {
    pub id: Uuid,
    pub ap_id: String,
    pub title: String,
    /// Markdown.
    pub agenda: String,
    pub agenda_html: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub video_url: Option<String>,
    pub ics_url: String,
    /// The meeting's page.
    pub url: String,
    /// The minutes, Markdown.
    pub notes: String,
    pub notes_html: String,
    pub cancelled: bool,
    /// The organiser's handle (`username`, or `user@host` on another server).
    pub organizer: Option<String>,
    pub attendees: Vec<String>,
    /// Revision, bumped by every change.
    pub sequence: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingList {
    /// To come or under way, soonest first.
    pub upcoming: Vec<MeetingDetail>,
    /// Latest first.
    pub past: Vec<MeetingDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeed {
    /// The secret address of the caller's calendar feed (shown once; the previous one no
    /// longer works).
    pub url: String,
}

fn parse_uuid(s: &str) -> AppResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| AppError::not_found())
}

/// `username` here, `user@host` elsewhere.
fn handle(actor: &DbActor) -> String {
    if actor.local {
        actor.username.clone()
    } else {
        format!("{}@{}", actor.username, actor.domain)
    }
}

/// The members named, as actor ids; a name that is not a member's gives an id no member has,
/// so the service reports it with the other fields.
async fn attendee_ids(
    ctx: &AppContext,
    access: &Access,
    names: Option<Vec<String>>,
) -> AppResult<Option<Vec<i64>>> {
    let Some(names) = names else {
        return Ok(None);
    };
    let mut conn = ctx.conn().await?;
    let members = db::workspaces::members(&mut conn, access.workspace.id).await?;
    Ok(Some(
        names
            .iter()
            .map(|n| {
                let n = n.trim().trim_start_matches('@');
                members
                    .iter()
                    .find(|(_, a)| handle(a).eq_ignore_ascii_case(n) || a.ap_id == n)
                    .map(|(m, _)| m.actor_id)
                    .unwrap_or(0)
            })
            .collect(),
    ))
}

/// An RFC 3339 start, else something the service refuses as a start.
fn rfc3339(s: String) -> String {
    if s.trim().is_empty() || DateTime::parse_from_rfc3339(s.trim()).is_ok() {
        s
    } else {
        "not RFC 3339".into()
    }
}

async fn detail(ctx: &AppContext, m: &DbWorkspaceMeeting) -> AppResult<MeetingDetail> {
    let mut conn = ctx.conn().await?;
    let attendees = db::workspace_meetings::attendees(&mut conn, m.id).await?;
    let organizer = match m.organizer_actor_id {
        Some(id) => Some(handle(&db::actors::by_id(&mut conn, id).await?)),
        None => None,
    };
    Ok(MeetingDetail {
        id: m.id,
        ap_id: m.ap_id.clone(),
        title: m.title.clone(),
        agenda: m.agenda_markdown.clone(),
        agenda_html: m.agenda_html.clone(),
        starts_at: m.starts_at,
        ends_at: m.ends_at(),
        duration_minutes: m.duration_minutes,
        video_url: m.video_url.clone(),
        ics_url: ctx.urls.absolute(&meetings::ics_path(m)),
        url: ctx.urls.absolute(&meetings::page_path(m)),
        notes: m.notes_markdown.clone(),
        notes_html: m.notes_html.clone(),
        cancelled: m.is_cancelled(),
        organizer,
        attendees: attendees.iter().map(handle).collect(),
        sequence: m.sequence,
    })
}

/// The workspace's meetings (members only: anyone else gets 404).
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/meetings",
    tag = "workspace meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "Upcoming and past meetings", body = MeetingList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_meetings(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<MeetingList>> {
    let ctx = data.app_data();
    let list = meetings::list(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let mut upcoming = Vec::new();
    for m in &list.upcoming {
        upcoming.push(detail(ctx, m).await?);
    }
    let mut past = Vec::new();
    for m in &list.past {
        past.push(detail(ctx, m).await?);
    }
    Ok(ApiJson(MeetingList { upcoming, past }))
}

/// Schedules a meeting; the attendees are notified, remote ones receive a private `Event`.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/meetings",
    tag = "workspace meetings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Workspace id")),
    request_body = NewMeetingRequest,
    responses(
        (status = 201, description = "Scheduled", body = MeetingCreated),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every field that breaks a rule (title, starts_at not RFC 3339 or past, duration_minutes outside 5..1440, agenda too long, attendees not members)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_meeting(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMeetingRequest>,
) -> AppResult<(StatusCode, ApiJson<MeetingCreated>)> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let attendees = attendee_ids(ctx, &access, body.attendees).await?;
    let meeting = meetings::schedule(
        ctx,
        &access,
        MeetingInput {
            title: body.title,
            agenda: body.agenda,
            starts_at: rfc3339(body.starts_at),
            duration_minutes: body.duration_minutes.to_string(),
            attendees,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(MeetingCreated {
            id: meeting.id,
            ics_url: ctx.urls.absolute(&meetings::ics_path(&meeting)),
            ap_id: meeting.ap_id,
            video_url: meeting.video_url,
        }),
    ))
}

/// One meeting (members only).
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/meetings/{meeting}",
    tag = "workspace meetings",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("meeting" = Uuid, Path, description = "Meeting id"),
    ),
    responses(
        (status = 200, description = "The meeting", body = MeetingDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_meeting(
    data: Data,
    user: ApiUser,
    Path((id, meeting)): Path<(String, String)>,
) -> AppResult<ApiJson<MeetingDetail>> {
    let ctx = data.app_data();
    let view = meetings::get(
        ctx,
        parse_uuid(&id)?,
        user.account.actor_id,
        parse_uuid(&meeting)?,
    )
    .await?;
    Ok(ApiJson(detail(ctx, &view.meeting).await?))
}

/// Changes the fields given (the organiser, or a coordinator or the owner).
#[utoipa::path(
    patch,
    path = "/api/v1/workspaces/{id}/meetings/{meeting}",
    tag = "workspace meetings",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("meeting" = Uuid, Path, description = "Meeting id"),
    ),
    request_body = MeetingPatchRequest,
    responses(
        (status = 200, description = "Changed", body = MeetingDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the organiser nor a coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The meeting is cancelled or the workspace archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every field that breaks a rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_meeting(
    data: Data,
    user: ApiUser,
    Path((id, meeting)): Path<(String, String)>,
    ApiJson(body): ApiJson<MeetingPatchRequest>,
) -> AppResult<ApiJson<MeetingDetail>> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let attendees = attendee_ids(ctx, &access, body.attendees).await?;
    let updated = meetings::update(
        ctx,
        &access,
        parse_uuid(&meeting)?,
        MeetingPatch {
            title: body.title,
            agenda: body.agenda,
            starts_at: body.starts_at.map(rfc3339),
            duration_minutes: body.duration_minutes.map(|d| d.to_string()),
            attendees,
        },
    )
    .await?;
    Ok(ApiJson(detail(ctx, &updated).await?))
}

/// Cancels the meeting (it stays listed, marked cancelled; calendars show it cancelled).
#[utoipa::path(
    delete,
    path = "/api/v1/workspaces/{id}/meetings/{meeting}",
    tag = "workspace meetings",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("meeting" = Uuid, Path, description = "Meeting id"),
    ),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the organiser nor a coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workspace is archived", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_meeting(
    data: Data,
    user: ApiUser,
    Path((id, meeting)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    meetings::cancel(ctx, &access, parse_uuid(&meeting)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Writes the minutes of a meeting that has started (any attendee, or a coordinator).
#[utoipa::path(
    put,
    path = "/api/v1/workspaces/{id}/meetings/{meeting}/notes",
    tag = "workspace meetings",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Workspace id"),
        ("meeting" = Uuid, Path, description = "Meeting id"),
    ),
    request_body = NotesRequest,
    responses(
        (status = 200, description = "Saved", body = MeetingDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an attendee", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The meeting is cancelled or the workspace archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`notes` too long, or the meeting has not started", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_put_notes(
    data: Data,
    user: ApiUser,
    Path((id, meeting)): Path<(String, String)>,
    ApiJson(body): ApiJson<NotesRequest>,
) -> AppResult<ApiJson<MeetingDetail>> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let updated = meetings::write_notes(ctx, &access, parse_uuid(&meeting)?, &body.notes).await?;
    Ok(ApiJson(detail(ctx, &updated).await?))
}

/// A new secret address for the caller's calendar feed (every meeting they attend, from 90
/// days back); the previous address stops working.
#[utoipa::path(
    post,
    path = "/api/v1/calendar-feed",
    tag = "workspace meetings",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The feed's new address", body = CalendarFeed),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_calendar_feed(
    data: Data,
    user: ApiUser,
) -> AppResult<(StatusCode, ApiJson<CalendarFeed>)> {
    let ctx = data.app_data();
    let token = meetings::reset_feed(ctx, &user.account).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CalendarFeed {
            url: ctx.urls.absolute(&meetings::feed_path(&token)),
        }),
    ))
}
