//! Meetings as private `Event`s: `Create`/`Update`/`Delete` to the audience of [`super::audience`], the remote side that keeps them for our members, and the signed-fetch route of a meeting.
//!
//! For a workspace of ours the workspace's `Group` signs the activities (it vouches for
//! whichever member scheduled, changed or cancelled the meeting; the `Event` stays
//! `attributedTo` its organiser). For a remote workspace one of our members belongs to, the
//! member signs and the workspace's inbox relays.

use crate::urls::same_origin;
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        workspace_meetings::{DbWorkspaceMeeting, MeetingChanges, NewMeeting},
        workspaces::DbWorkspace,
    },
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::id_of,
        objects::AS_CONTEXT,
        workspaces::{
            access::member_fetch,
            audience::{self, PrivateActivity, enqueue_private},
            inbound::{Action, Received},
        },
    },
    sanitize::SafeHtml,
    service::{
        outbound::{OutboundEvent, new_activity_id},
        workspaces::meetings::{MAX_DURATION, MAX_TITLE_CHARS, MIN_DURATION, notify_attendees},
    },
};
use activitypub_federation::axum::json::FederationJson;
use axum::{
    Router,
    extract::Path,
    http::request::Parts,
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

/// Routes of this capability's objects (signed fetch by members only).
pub fn routes() -> Router {
    Router::new().route(
        "/workspaces/{workspace}/meetings/{meeting}",
        get(http_get_meeting),
    )
}

/// The `Event` of a meeting, for a fetch signed by a member of its workspace; 404 for anyone
/// else, exactly as for a meeting that does not exist.
async fn http_get_meeting(
    data: Data,
    Path((workspace_id, meeting_id)): Path<(String, String)>,
    parts: Parts,
) -> AppResult<Response> {
    let (Ok(workspace_id), Ok(meeting_id)) =
        (Uuid::parse_str(&workspace_id), Uuid::parse_str(&meeting_id))
    else {
        return Err(AppError::not_found());
    };
    let ctx = data.app_data();
    let (workspace, meeting) = {
        let mut conn = ctx.conn().await?;
        let workspace = db::workspaces::by_id(&mut conn, workspace_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let meeting = db::workspace_meetings::in_workspace(&mut conn, workspace_id, meeting_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        (workspace, meeting)
    };
    // Only meetings this server made are served from here.
    if meeting.ap_id
        != ctx
            .urls
            .workspace_object(&workspace.id, "meetings", &meeting.id)
    {
        return Err(AppError::not_found());
    }
    member_fetch(&data, &parts, &workspace).await?;
    let mut conn = ctx.conn().await?;
    let audience = audience::of(&mut conn, &workspace, None).await?;
    let mut object = event_json(ctx, &mut conn, &workspace, &meeting, &audience.to).await?;
    if let Some(map) = object.as_object_mut() {
        map.insert("@context".into(), json!(AS_CONTEXT));
    }
    Ok(FederationJson(object).into_response())
}

/// The `Event` of a meeting, addressed to `to`.
async fn event_json(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    meeting: &DbWorkspaceMeeting,
    to: &[Url],
) -> AppResult<Value> {
    let group = db::actors::by_id(conn, workspace.actor_id).await?;
    let organizer = match meeting.organizer_actor_id {
        Some(id) => Some(db::actors::by_id(conn, id).await?.ap_id),
        None => None,
    };
    let mut event = json!({
        "type": "Event",
        "id": meeting.ap_id,
        "name": meeting.title,
        "content": meeting.agenda_html,
        "mediaType": "text/html",
        "source": {"content": meeting.agenda_markdown, "mediaType": "text/markdown"},
        "startTime": meeting.starts_at.to_rfc3339(),
        "endTime": meeting.ends_at().to_rfc3339(),
        "duration": format!("PT{}M", meeting.duration_minutes),
        "published": meeting.created_at.to_rfc3339(),
        "updated": meeting.updated_at.to_rfc3339(),
        "audience": group.ap_id,
        "context": group.ap_id,
        "to": to,
        "url": ctx.urls.absolute(&crate::service::workspaces::meetings::page_path(meeting)),
    });
    if let Some(map) = event.as_object_mut() {
        if let Some(organizer) = organizer {
            map.insert("attributedTo".into(), json!(organizer));
        }
        if let Some(video) = &meeting.video_url {
            map.insert(
                "attachment".into(),
                json!([{"type": "Link", "href": video, "name": "video", "mediaType": "text/html"}]),
            );
            map.insert(
                "location".into(),
                json!({"type": "VirtualLocation", "url": video}),
            );
        }
        if !meeting.notes_html.is_empty() {
            map.insert("summary".into(), json!(meeting.notes_html));
        }
    }
    Ok(event)
}

/// The activity and deliveries of one of this capability's events.
pub async fn record(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    event: OutboundEvent,
) -> AppResult<()> {
    let (kind, workspace, meeting, actor) = match event {
        OutboundEvent::WorkspaceMeetingScheduled {
            workspace,
            meeting,
            organizer,
        } => ("Create", workspace, meeting, organizer),
        OutboundEvent::WorkspaceMeetingUpdated {
            workspace,
            meeting,
            actor,
        } => ("Update", workspace, meeting, actor),
        OutboundEvent::WorkspaceMeetingCancelled {
            workspace,
            meeting,
            actor,
        } => ("Delete", workspace, meeting, actor),
        _ => return Ok(()),
    };
    let audience = audience::of(conn, &workspace, None).await?;
    if audience.inboxes.is_empty() {
        return Ok(());
    }
    // Ours: the workspace vouches and signs; remote: our member signs, the workspace relays.
    let signer = if workspace.local {
        db::actors::by_id(conn, workspace.actor_id).await?
    } else {
        *actor
    };
    let object = if kind == "Delete" {
        let group = db::actors::by_id(conn, workspace.actor_id).await?;
        json!({
            "type": "Tombstone",
            "id": meeting.ap_id,
            "formerType": "Event",
            "audience": group.ap_id,
            "context": group.ap_id,
        })
    } else {
        event_json(ctx, conn, &workspace, &meeting, &audience.to).await?
    };
    let id = new_activity_id(ctx)?;
    let json = json!({
        "@context": AS_CONTEXT,
        "id": id,
        "type": kind,
        "actor": signer.ap_id,
        "to": audience.to,
        "object": object,
        "published": Utc::now().to_rfc3339(),
    });
    enqueue_private(
        ctx,
        conn,
        PrivateActivity {
            id: &id,
            kind,
            actor: &signer,
            object_ap_id: &meeting.ap_id,
            json,
        },
        audience.inboxes,
    )
    .await
}

/// What an `Event` says, read defensively.
struct RemoteEvent {
    title: String,
    agenda_html: String,
    agenda_markdown: String,
    starts_at: DateTime<Utc>,
    duration_minutes: i32,
    video_url: Option<String>,
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    text(v)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Minutes of an ISO 8601 duration such as `PT1H30M` (hours and minutes only).
fn duration_minutes(s: &str) -> Option<i64> {
    let rest = s.strip_prefix("PT")?;
    let mut total = 0i64;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' => total += number.parse::<i64>().ok()? * 60,
            'M' => total += number.parse::<i64>().ok()?,
            'S' => {}
            _ => return None,
        }
        if !c.is_ascii_digit() {
            number.clear();
        }
    }
    Some(total)
}

/// An https link only (what our members click).
fn https(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()
        .filter(|u| u.scheme() == "https" && u.host().is_some())
        .map(String::from)
}

/// The video link of an `Event`: an attached `Link`, else a virtual location's URL.
fn video_of(object: &Value) -> Option<String> {
    let from_link = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => https(s),
            Value::Object(_) => text(v.get("href"))
                .or_else(|| text(v.get("url")))
                .and_then(https),
            _ => None,
        }
    };
    let attached = match object.get("attachment") {
        Some(Value::Array(items)) => items.iter().find_map(from_link),
        Some(v) => from_link(v),
        None => None,
    };
    attached.or_else(|| object.get("location").and_then(from_link))
}

fn read_event(object: &Value) -> AppResult<RemoteEvent> {
    let title: String = text(object.get("name"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::bad_request("Event without a name"))?
        .chars()
        .take(MAX_TITLE_CHARS)
        .collect();
    let starts_at = time(object.get("startTime"))
        .ok_or_else(|| AppError::bad_request("Event without a valid startTime"))?;
    let minutes = time(object.get("endTime"))
        .map(|end| (end - starts_at).num_minutes())
        .or_else(|| text(object.get("duration")).and_then(duration_minutes))
        .unwrap_or(60);
    let duration_minutes =
        i32::try_from(minutes.clamp(i64::from(MIN_DURATION), i64::from(MAX_DURATION)))
            .unwrap_or(MIN_DURATION);
    let agenda_html = SafeHtml::clean(text(object.get("content")).unwrap_or("")).into_string();
    let agenda_markdown: String = object
        .get("source")
        .and_then(|s| text(s.get("content")))
        .unwrap_or("")
        .chars()
        .take(crate::service::workspaces::meetings::MAX_AGENDA_CHARS)
        .collect();
    Ok(RemoteEvent {
        title,
        agenda_html,
        agenda_markdown,
        starts_at,
        duration_minutes,
        video_url: video_of(object),
    })
}

/// An object of this capability that arrived for a workspace we hold: a meeting of a remote
/// workspace our members belong to, kept for them (they all attend) and notified.
pub async fn receive(data: &Data, received: Received<'_>) -> AppResult<()> {
    let ctx = data.app_data();
    if received.workspace.local {
        return Err(AppError::bad_request(
            "meetings of a workspace hosted here are scheduled here",
        ));
    }
    let id = id_of(received.object).ok_or_else(|| AppError::bad_request("Event without an id"))?;
    // The object comes from the server of whoever sent it (the workspace, or the member).
    if !same_origin(&id, &Url::parse(&received.sender.ap_id)?) {
        return Err(AppError::bad_request(
            "an Event's id must be on its sender's server",
        ));
    }
    let mut conn = ctx.conn().await?;
    received.check_sender(&mut conn).await?;
    let event = match received.action {
        Action::Delete => None,
        _ => Some(read_event(received.object)?),
    };
    let organizer = match received.action {
        Action::Delete => None,
        _ => {
            let author = received.author_url()?;
            db::actors::by_ap_id(&mut conn, author.as_str()).await?
        }
    };
    let workspace = received.workspace.clone();
    conn.transaction::<(), AppError, _>(async |conn| {
        let existing = db::workspace_meetings::by_ap_id(conn, id.as_str()).await?;
        if existing
            .as_ref()
            .is_some_and(|m| m.workspace_id != workspace.id)
        {
            return Err(AppError::bad_request(
                "this meeting belongs to another workspace",
            ));
        }
        let Some(event) = event else {
            if let Some(meeting) = existing.filter(|m| !m.is_cancelled()) {
                let cancelled = db::workspace_meetings::cancel(conn, meeting.id).await?;
                notify_attendees(ctx, conn, &cancelled, organizer_id(&cancelled)).await?;
            }
            return Ok(());
        };
        let meeting = match existing {
            Some(meeting) => {
                let updated = db::workspace_meetings::update(
                    conn,
                    meeting.id,
                    &MeetingChanges {
                        title: event.title,
                        agenda_markdown: event.agenda_markdown,
                        agenda_html: event.agenda_html,
                        starts_at: event.starts_at,
                        duration_minutes: event.duration_minutes,
                    },
                )
                .await?;
                db::workspace_meetings::set_video_url(conn, meeting.id, event.video_url.as_deref())
                    .await?;
                updated
            }
            None => {
                db::workspace_meetings::insert(
                    conn,
                    &NewMeeting {
                        id: Uuid::new_v4(),
                        workspace_id: workspace.id,
                        ap_id: id.to_string(),
                        organizer_actor_id: organizer.as_ref().map(|o: &DbActor| o.id),
                        title: event.title,
                        agenda_markdown: event.agenda_markdown,
                        agenda_html: event.agenda_html,
                        starts_at: event.starts_at,
                        duration_minutes: event.duration_minutes,
                        room_name: None,
                        video_url: event.video_url,
                    },
                )
                .await?
            }
        };
        let locals: Vec<i64> = db::workspaces::members(conn, workspace.id)
            .await?
            .into_iter()
            .filter(|(_, actor)| actor.local)
            .map(|(m, _)| m.actor_id)
            .collect();
        db::workspace_meetings::set_attendees(conn, meeting.id, &locals).await?;
        notify_attendees(ctx, conn, &meeting, organizer_id(&meeting)).await?;
        Ok(())
    })
    .await
}

fn organizer_id(meeting: &DbWorkspaceMeeting) -> Option<i64> {
    meeting.organizer_actor_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_and_video_links() {
        assert_eq!(duration_minutes("PT1H30M"), Some(90));
        assert_eq!(duration_minutes("PT45M"), Some(45));
        assert_eq!(duration_minutes("P1D"), None);
        let event = json!({"attachment": [{"type": "Link", "href": "https://visio.example/r-1"}]});
        assert_eq!(
            video_of(&event).as_deref(),
            Some("https://visio.example/r-1")
        );
        let event = json!({"location": {"type": "VirtualLocation", "url": "javascript:alert(1)"}});
        assert_eq!(video_of(&event), None);
    }
}
