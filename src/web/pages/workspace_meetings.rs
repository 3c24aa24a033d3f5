//! Meeting pages of a workspace (`/espaces/{id}/reunions…`): the meetings to come and the
//! past ones with the form to schedule one, a meeting's page (video link, `.ics` file,
//! minutes, change, cancel), and the member's personal calendar feed (`/calendrier/…`). The
//! rules live in `service::workspaces::meetings`, shared with the API and the inbox.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, workspace_meetings::DbWorkspaceMeeting},
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    sanitize::SafeHtml,
    service::{
        digest::paris_time,
        workspaces::{
            self, Access, Role,
            meetings::{self, MeetingInput, MeetingPatch},
        },
    },
    web::{
        auth::CurrentUser,
        csrf::{CsrfForm, CsrfToken},
        pages::{
            PageLang, forms::FormState, layout::redirect_with_flash, render, render_status,
            workspace_nav::WorkspaceNav,
        },
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/espaces/{id}/reunions",
            get(http_get_meetings).post(http_post_meeting),
        )
        .route("/espaces/{id}/reunions/{meeting}", get(http_get_meeting))
        .route(
            "/espaces/{id}/reunions/{meeting}/modifier",
            post(http_post_edit),
        )
        .route(
            "/espaces/{id}/reunions/{meeting}/compte-rendu",
            post(http_post_notes),
        )
        .route(
            "/espaces/{id}/reunions/{meeting}/annuler",
            post(http_post_cancel),
        )
        .route("/calendrier", post(http_post_feed))
        .route("/calendrier/{file}", get(http_get_feed))
}

/// The content type of calendars.
pub const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";

fn parse_uuid(s: &str) -> AppResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| AppError::not_found())
}

/// "14/01/2027 à 14:30" (Paris time).
pub fn when(lang: Lang, at: DateTime<Utc>) -> String {
    let local = paris_time(at);
    match lang {
        Lang::Fr => local.format("%d/%m/%Y à %H:%M").to_string(),
        _ => local.format("%Y-%m-%d at %H:%M").to_string(),
    }
}

fn actor_name(actor: &DbActor) -> String {
    if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    }
}

/// One meeting as the lists show it.
struct MeetingRow {
    url: String,
    title: String,
    when: String,
    iso: String,
    duration: i32,
    cancelled: bool,
}

fn row(lang: Lang, m: &DbWorkspaceMeeting) -> MeetingRow {
    MeetingRow {
        url: meetings::page_path(m),
        title: m.title.clone(),
        when: when(lang, m.starts_at),
        iso: m.starts_at.to_rfc3339(),
        duration: m.duration_minutes,
        cancelled: m.is_cancelled(),
    }
}

/// A member in the attendees' checkboxes.
struct AttendeeChoice {
    actor_id: i64,
    name: String,
    checked: bool,
}

/// The fields of the schedule and change forms, as typed.
#[derive(Debug, Clone, Default)]
struct MeetingForm {
    title: String,
    agenda: String,
    starts_at: String,
    duration_minutes: String,
    /// `None`: every member (the form was not sent yet).
    attendees: Option<Vec<i64>>,
}

impl MeetingForm {
    fn read(pairs: &[(String, String)]) -> MeetingForm {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        MeetingForm {
            title: get("title"),
            agenda: get("agenda"),
            starts_at: get("starts_at"),
            duration_minutes: get("duration_minutes"),
            attendees: Some(
                pairs
                    .iter()
                    .filter(|(k, _)| k == "attendees")
                    .filter_map(|(_, v)| v.parse().ok())
                    .collect(),
            ),
        }
    }

    fn of(m: &DbWorkspaceMeeting, attendees: &[DbActor]) -> MeetingForm {
        MeetingForm {
            title: m.title.clone(),
            agenda: m.agenda_markdown.clone(),
            starts_at: meetings::form_start(m.starts_at),
            duration_minutes: m.duration_minutes.to_string(),
            attendees: Some(attendees.iter().map(|a| a.id).collect()),
        }
    }
}

async fn attendee_choices(
    ctx: &AppContext,
    workspace_id: Uuid,
    chosen: Option<&[i64]>,
) -> AppResult<Vec<AttendeeChoice>> {
    let mut conn = ctx.conn().await?;
    Ok(db::workspaces::members(&mut conn, workspace_id)
        .await?
        .into_iter()
        .map(|(m, actor)| AttendeeChoice {
            actor_id: m.actor_id,
            name: actor_name(&actor),
            checked: chosen.is_none_or(|c| c.contains(&m.actor_id)),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "workspaces/meetings.html")]
struct ListPage {
    lang: Lang,
    wsnav: WorkspaceNav,
    csrf: String,
    upcoming: Vec<MeetingRow>,
    past: Vec<MeetingRow>,
    form: MeetingForm,
    choices: Vec<AttendeeChoice>,
    errors: FormState,
    video_configured: bool,
    has_feed: bool,
}

async fn nav(ctx: &AppContext, access: &Access, section: &'static str) -> AppResult<WorkspaceNav> {
    let mut conn = ctx.conn().await?;
    WorkspaceNav::load(&mut conn, access, section).await
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    access: &Access,
    form: MeetingForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let list = meetings::list(ctx, access.workspace.id, user.account.actor_id).await?;
    let choices = attendee_choices(ctx, access.workspace.id, form.attendees.as_deref()).await?;
    render_status(
        status,
        &ListPage {
            lang,
            wsnav: nav(ctx, access, "reunions").await?,
            csrf: csrf.value().to_string(),
            upcoming: list.upcoming.iter().map(|m| row(lang, m)).collect(),
            past: list.past.iter().map(|m| row(lang, m)).collect(),
            form,
            choices,
            errors,
            video_configured: !ctx.config.meetings.video_base_url.is_empty(),
            has_feed: meetings::has_feed(ctx, &user.account).await?,
        },
    )
}

async fn http_get_meetings(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let form = MeetingForm {
        duration_minutes: "60".into(),
        ..Default::default()
    };
    list_page(
        ctx,
        lang,
        &user,
        &csrf,
        &access,
        form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_meeting(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let form = MeetingForm::read(&pairs);
    let input = MeetingInput {
        title: form.title.clone(),
        agenda: form.agenda.clone(),
        starts_at: form.starts_at.clone(),
        duration_minutes: form.duration_minutes.clone(),
        attendees: form.attendees.clone(),
    };
    match meetings::schedule(ctx, &access, input).await {
        Ok(meeting) => Ok(redirect_with_flash(
            ctx,
            &meetings::page_path(&meeting),
            "flash.workspace_meetings.scheduled",
        )),
        Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::Conflict) => {
            let status = e.status();
            list_page(
                ctx,
                lang,
                &user,
                &csrf,
                &access,
                form,
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "workspaces/meeting.html")]
struct ShowPage {
    lang: Lang,
    wsnav: WorkspaceNav,
    csrf: String,
    meeting: MeetingRow,
    ends: String,
    organizer: Option<String>,
    attendees: Vec<String>,
    video_url: Option<String>,
    ics_url: String,
    agenda: SafeHtml,
    notes: SafeHtml,
    started: bool,
    can_write_notes: bool,
    can_change: bool,
    form: MeetingForm,
    notes_text: String,
    choices: Vec<AttendeeChoice>,
    errors: FormState,
}

/// What the meeting page shows again after a refused form.
enum Retry {
    None,
    Edit(MeetingForm),
    Notes(String),
}

#[allow(clippy::too_many_arguments)]
async fn show_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    access: &Access,
    meeting_id: Uuid,
    retry: Retry,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let view = meetings::get(ctx, access.workspace.id, user.account.actor_id, meeting_id).await?;
    let m = &view.meeting;
    let me = user.account.actor_id;
    let organizer = match m.organizer_actor_id {
        Some(id) => match view.attendees.iter().find(|a| a.id == id) {
            Some(a) => Some(actor_name(a)),
            None => {
                let mut conn = ctx.conn().await?;
                Some(actor_name(&db::actors::by_id(&mut conn, id).await?))
            }
        },
        None => None,
    };
    let attends = view.attendees.iter().any(|a| a.id == me);
    let writable = !access.workspace.is_archived() && !m.is_cancelled();
    let started = m.starts_at <= Utc::now();
    let can_change = writable
        && access.workspace.local
        && (m.organizer_actor_id == Some(me) || access.role >= Role::Coordinator);
    let (form, notes_text) = match retry {
        Retry::Edit(form) => (form, m.notes_markdown.clone()),
        Retry::Notes(notes) => (MeetingForm::of(m, &view.attendees), notes),
        Retry::None => (
            MeetingForm::of(m, &view.attendees),
            m.notes_markdown.clone(),
        ),
    };
    let choices = attendee_choices(ctx, access.workspace.id, form.attendees.as_deref()).await?;
    render_status(
        status,
        &ShowPage {
            lang,
            wsnav: nav(ctx, access, "reunions").await?,
            csrf: csrf.value().to_string(),
            meeting: row(lang, m),
            ends: when(lang, m.ends_at()),
            organizer,
            attendees: view.attendees.iter().map(actor_name).collect(),
            video_url: m.video_url.clone(),
            ics_url: meetings::ics_path(m),
            agenda: SafeHtml::clean(&m.agenda_html),
            notes: SafeHtml::clean(&m.notes_html),
            started,
            can_write_notes: writable
                && started
                && access.workspace.local
                && (attends || access.role >= Role::Coordinator),
            can_change,
            form,
            notes_text,
            choices,
            errors,
        },
    )
}

async fn http_get_meeting(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path((id, meeting)): Path<(String, String)>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let workspace_id = parse_uuid(&id)?;
    if let Some(meeting) = meeting.strip_suffix(".ics") {
        let body = meetings::ics(
            ctx,
            workspace_id,
            user.account.actor_id,
            parse_uuid(meeting)?,
        )
        .await?;
        return Ok(calendar_response(body, "reunion.ics"));
    }
    let access = workspaces::access(ctx, workspace_id, user.account.actor_id).await?;
    show_page(
        ctx,
        lang,
        &user,
        &csrf,
        &access,
        parse_uuid(&meeting)?,
        Retry::None,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

/// A calendar file.
pub fn calendar_response(body: String, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, CALENDAR_TYPE.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

async fn http_post_edit(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path((id, meeting)): Path<(String, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let meeting_id = parse_uuid(&meeting)?;
    let form = MeetingForm::read(&pairs);
    let patch = MeetingPatch {
        title: Some(form.title.clone()),
        agenda: Some(form.agenda.clone()),
        starts_at: Some(form.starts_at.clone()),
        duration_minutes: Some(form.duration_minutes.clone()),
        attendees: form.attendees.clone(),
    };
    // The form shows the start to the minute: the same minute keeps the start as it was.
    let mut patch = patch;
    let current = meetings::get(ctx, access.workspace.id, user.account.actor_id, meeting_id)
        .await?
        .meeting;
    if patch.starts_at.as_deref() == Some(meetings::form_start(current.starts_at).as_str()) {
        patch.starts_at = None;
    }
    match meetings::update(ctx, &access, meeting_id, patch).await {
        Ok(m) => Ok(redirect_with_flash(
            ctx,
            &meetings::page_path(&m),
            "flash.workspace_meetings.updated",
        )),
        Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::Conflict) => {
            let status = e.status();
            show_page(
                ctx,
                lang,
                &user,
                &csrf,
                &access,
                meeting_id,
                Retry::Edit(form),
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct NotesForm {
    notes: String,
}

async fn http_post_notes(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path((id, meeting)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<NotesForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let meeting_id = parse_uuid(&meeting)?;
    match meetings::write_notes(ctx, &access, meeting_id, &form.notes).await {
        Ok(m) => Ok(redirect_with_flash(
            ctx,
            &meetings::page_path(&m),
            "flash.workspace_meetings.notes_saved",
        )),
        Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::Conflict) => {
            let status = e.status();
            show_page(
                ctx,
                lang,
                &user,
                &csrf,
                &access,
                meeting_id,
                Retry::Notes(form.notes),
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn http_post_cancel(
    data: Data,
    user: CurrentUser,
    Path((id, meeting)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NotesForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let m = meetings::cancel(ctx, &access, parse_uuid(&meeting)?).await?;
    Ok(redirect_with_flash(
        ctx,
        &meetings::page_path(&m),
        "flash.workspace_meetings.cancelled",
    ))
}

#[derive(Template)]
#[template(path = "workspaces/calendar_feed.html")]
struct FeedPage {
    lang: Lang,
    url: String,
}

/// Creates the member's calendar feed, or gives it a new address (the old one stops
/// working); the address is shown on this page only.
async fn http_post_feed(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    CsrfForm(_): CsrfForm<NotesForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let token = meetings::reset_feed(ctx, &user.account).await?;
    let mut response = render(&FeedPage {
        lang,
        url: ctx.urls.absolute(&meetings::feed_path(&token)),
    })?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// A personal calendar feed: the secret in the address is the authority (calendar programs
/// send no cookie).
async fn http_get_feed(data: Data, Path(file): Path<String>) -> AppResult<Response> {
    let token = file.strip_suffix(".ics").ok_or_else(AppError::not_found)?;
    let body = meetings::feed(data.app_data(), token).await?;
    Ok(calendar_response(body, "reunions.ics"))
}
