//! Online meetings of workspaces (issue 12, items 5 and 7): scheduling through the page and
//! the API with every bad field named, the unguessable room and its link, the `.ics` file and
//! the personal calendar feed, the 404 for non-members, the private `Event` delivered to a
//! remote member and served to their signed fetch only, and an `Event` received for a remote
//! workspace our member belongs to.

use crate::common::TestApp;
use crate::federation_inbox::{Remote, Signing, remote_actor, signed_post};
use crate::helpers::*;
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{Datelike, Duration, Utc};
use culturecnous::db::{
    self,
    actors::DbActor,
    schema::{notifications, workspace_meeting_attendees, workspace_meetings},
    workspace_meetings::DbWorkspaceMeeting,
    workspaces::{DbWorkspace, NewWorkspace},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use icalendar::{Calendar, Component};
use rsa::Pkcs1v15Sign;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const VIDEO: &str = "https://visio.example/";

async fn new_app() -> TestApp {
    let app = TestApp::with_config(|c| c.meetings.video_base_url = VIDEO.into()).await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    app
}

/// A workspace of ours (its `Group` actor with keys), with its owner.
async fn workspace(app: &TestApp, name: &str, owner: &DbActor) -> DbWorkspace {
    let account = db::accounts::by_actor_id(&mut app.ctx.conn().await.expect("conn"), owner.id)
        .await
        .expect("query")
        .expect("owner account");
    new_workspace(&app.ctx, &account, name, false).await
}

async fn add_member(app: &TestApp, ws: &DbWorkspace, actor: &DbActor, role: &str) {
    add_workspace_member(&app.ctx, ws.id, actor.id, role).await;
}

async fn user(app: &TestApp, name: &str) -> (DbActor, String) {
    app.create_user(name, "member").await;
    (local_actor(app, name).await, token(app, name).await)
}

fn in_days(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339()
}

fn meetings_uri(ws: &DbWorkspace) -> String {
    format!("/api/v1/workspaces/{}/meetings", ws.id)
}

async fn meeting_row(app: &TestApp, id: &str) -> DbWorkspaceMeeting {
    let mut conn = app.ctx.conn().await.expect("conn");
    workspace_meetings::table
        .find(Uuid::parse_str(id).expect("uuid"))
        .select(DbWorkspaceMeeting::as_select())
        .first(&mut conn)
        .await
        .expect("meeting")
}

fn parse_ics(body: &str) -> Calendar {
    body.parse::<Calendar>().expect("a calendar that parses")
}

#[tokio::test]
async fn api_schedules_names_bad_fields_and_makes_unguessable_rooms() {
    let app = new_app().await;
    let (alice, alice_token) = user(&app, "alice").await;
    let (bob, _) = user(&app, "bob").await;
    let (_, carol_token) = user(&app, "carol").await;
    let ws = workspace(&app, "Résidence au foyer", &alice).await;
    add_member(&app, &ws, &bob, "member").await;
    let uri = meetings_uri(&ws);

    // Every bad field at once.
    let r = api(
        &app,
        Method::POST,
        &uri,
        &alice_token,
        Some(json!({"title": " ", "starts_at": "demain 14h", "duration_minutes": 3})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut fields = error_fields(&r);
    fields.sort();
    assert_eq!(fields, ["duration_minutes", "starts_at", "title"]);
    // A start in the past, a stranger as attendee.
    let r = api(
        &app,
        Method::POST,
        &uri,
        &alice_token,
        Some(json!({"title": "Bilan", "starts_at": in_days(-1), "duration_minutes": 60, "attendees": ["carol"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut fields = error_fields(&r);
    fields.sort();
    assert_eq!(fields, ["attendees", "starts_at"]);
    assert_eq!(rows_in(&app, "workspace_meetings").await, 0);

    let body = json!({"title": "Réunion de lancement", "starts_at": in_days(3), "duration_minutes": 90, "agenda": "1. **Planning**"});
    let first = create(&app, &alice_token, &uri, body.clone()).await;
    let second = create(&app, &alice_token, &uri, body).await;
    let rooms: Vec<String> = [&first, &second]
        .iter()
        .map(|m| {
            let link = m["video_url"].as_str().expect("a link");
            assert!(link.starts_with(VIDEO), "{link}");
            link[VIDEO.len()..].to_string()
        })
        .collect();
    assert_ne!(rooms[0], rooms[1]);
    for room in &rooms {
        assert!(room.starts_with("reunion-de-lancement-"), "{room}");
        let random = room.rsplit('-').next().expect("random part");
        assert!(random.len() >= 26, "{room}");
    }
    let row = meeting_row(&app, first["id"].as_str().expect("id")).await;
    assert_eq!(row.room_name.as_deref(), Some(rooms[0].as_str()));
    assert_eq!(
        first["ap_id"],
        app.ctx.urls.workspace_object(&ws.id, "meetings", &row.id)
    );
    // Both members attend (the default); bob is told, alice (who scheduled) is not.
    let mut conn = app.ctx.conn().await.expect("conn");
    let attendees: i64 = workspace_meeting_attendees::table
        .filter(workspace_meeting_attendees::meeting_id.eq(row.id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(attendees, 2);
    let told: Vec<Option<Uuid>> = notifications::table
        .filter(notifications::kind.eq("workspace_meeting"))
        .select(notifications::workspace_meeting_id)
        .load(&mut conn)
        .await
        .expect("notifications");
    assert_eq!(told.len(), 2, "bob, once per meeting");
    drop(conn);

    // The meeting, as a member reads it; nothing for an outsider, on any route.
    let one = format!("{uri}/{}", row.id);
    let r = api(&app, Method::GET, &one, &alice_token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["attendees"].as_array().map(Vec::len), Some(2));
    for (method, path, body) in [
        (Method::GET, uri.clone(), None),
        (
            Method::POST,
            uri.clone(),
            Some(json!({"title": "x", "starts_at": in_days(2), "duration_minutes": 30})),
        ),
        (Method::GET, one.clone(), None),
        (Method::PATCH, one.clone(), Some(json!({"title": "y"}))),
        (Method::DELETE, one.clone(), None),
        (
            Method::PUT,
            format!("{one}/notes"),
            Some(json!({"notes": "z"})),
        ),
    ] {
        let r = api(&app, method.clone(), &path, &carol_token, body).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            r.body
        );
    }
    // A change bumps the revision; minutes wait for the meeting to start.
    let r = api(
        &app,
        Method::PATCH,
        &one,
        &alice_token,
        Some(json!({"duration_minutes": 120})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["sequence"], 1);
    assert_eq!(r.json()["starts_at"], json!(row.starts_at));
    let r = api(
        &app,
        Method::PUT,
        &format!("{one}/notes"),
        &alice_token,
        Some(json!({"notes": "RAS"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), ["notes"]);

    // Archived: read-only.
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query("UPDATE workspaces SET archived_at = now()")
        .execute(&mut conn)
        .await
        .expect("archive");
    let r = api(
        &app,
        Method::POST,
        &uri,
        &alice_token,
        Some(json!({"title": "Encore", "starts_at": in_days(4), "duration_minutes": 30})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test]
async fn page_schedules_and_serves_the_ics_file() {
    let app = new_app().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, _) = user(&app, "bob").await;
    let ws = workspace(&app, "Atelier théâtre", &alice).await;
    add_member(&app, &ws, &bob, "member").await;
    let account = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::accounts::by_actor_id(&mut conn, alice.id)
            .await
            .expect("query")
            .expect("account")
    };
    let browser = Browser::with_session(&app, &account).await;
    let list = format!("/espaces/{}/reunions", ws.id);
    let page = browser.get(&list).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Programmer une réunion"),
        "{}",
        page.body
    );

    let r = browser
        .submit_form(
            &list,
            &[
                ("title", ""),
                ("starts_at", "14/01"),
                ("duration_minutes", "2000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for field in ["f-title", "f-starts_at", "f-duration_minutes"] {
        assert!(r.body.contains(&format!("href=\"#{field}\"")), "{field}");
    }
    assert_eq!(rows_in(&app, "workspace_meetings").await, 0);

    // A Paris wall-clock time in winter: UTC+1.
    let start = chrono::NaiveDate::from_ymd_opt(Utc::now().year() + 1, 1, 14).expect("date");
    let local = format!("{start}T14:30");
    let bob_id = bob.id.to_string();
    let r = browser
        .submit_form(
            &list,
            &[
                ("title", "Préparer les ateliers"),
                ("starts_at", &local),
                ("duration_minutes", "60"),
                ("agenda", "Le planning"),
                ("attendees", &bob_id),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.header("location").expect("location").to_string();
    let page = browser.get(&location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Rejoindre la réunion"), "{}", page.body);
    assert!(page.body.contains(VIDEO));

    let ics = browser.get(&format!("{location}.ics")).await;
    assert_eq!(ics.status, StatusCode::OK, "{}", ics.body);
    assert_eq!(
        ics.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let calendar = parse_ics(&ics.body);
    let event = calendar.events().next().expect("one event");
    let id = location.rsplit('/').next().expect("id");
    let row = meeting_row(&app, id).await;
    assert_eq!(event.get_uid(), Some(row.ap_id.as_str()));
    assert_eq!(event.get_summary(), Some("Préparer les ateliers"));
    assert_eq!(
        row.starts_at.to_rfc3339(),
        format!("{start}T13:30:00+00:00")
    );
    let dtstart = event.property_value("DTSTART").expect("DTSTART");
    assert_eq!(dtstart, row.starts_at.format("%Y%m%dT%H%M%SZ").to_string());
    let dtend = event.property_value("DTEND").expect("DTEND");
    assert_eq!(dtend, row.ends_at().format("%Y%m%dT%H%M%SZ").to_string());
    assert_eq!(event.get_url(), row.video_url.as_deref());
    assert_eq!(event.property_value("STATUS"), Some("CONFIRMED"));

    // An outsider's session gets 404 for the pages and the file.
    app.create_user("carol", "member").await;
    let carol = Browser::logged_in(&app, "carol").await;
    for path in [list.clone(), location.clone(), format!("{location}.ics")] {
        assert_eq!(
            carol.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Cancelled: the file says so.
    let r = browser
        .submit_form(&format!("{location}/annuler"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let calendar = parse_ics(&browser.get(&format!("{location}.ics")).await.body);
    let event = calendar.events().next().expect("event");
    assert_eq!(event.property_value("STATUS"), Some("CANCELLED"));
    assert_eq!(event.get_sequence(), Some(1));
}

#[tokio::test]
async fn personal_feed_lists_only_the_members_meetings() {
    let app = new_app().await;
    let (alice, alice_token) = user(&app, "alice").await;
    let (bob, bob_token) = user(&app, "bob").await;
    let (dan, _) = user(&app, "dan").await;
    let shared = workspace(&app, "Commun", &alice).await;
    add_member(&app, &shared, &bob, "member").await;
    add_member(&app, &shared, &dan, "member").await;
    let bobs = workspace(&app, "Celui de Bob", &bob).await;
    let both = create(
        &app,
        &alice_token,
        &meetings_uri(&shared),
        json!({"title": "Tous", "starts_at": in_days(2), "duration_minutes": 60}),
    )
    .await;
    let without_alice = create(&app, &bob_token, &meetings_uri(&shared), json!({"title": "Bob et Dan", "starts_at": in_days(2), "duration_minutes": 60, "attendees": ["dan"]})).await;
    let elsewhere = create(
        &app,
        &bob_token,
        &meetings_uri(&bobs),
        json!({"title": "Ailleurs", "starts_at": in_days(5), "duration_minutes": 30}),
    )
    .await;

    let r = api(
        &app,
        Method::POST,
        "/api/v1/calendar-feed",
        &alice_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let feed = path_of(r.json()["url"].as_str().expect("url"));
    let r = app.get(&feed, "text/calendar").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let uids: Vec<String> = parse_ics(&r.body)
        .events()
        .filter_map(|e| e.get_uid().map(String::from))
        .collect();
    assert_eq!(uids, [both["ap_id"].as_str().expect("ap_id")]);
    let bob_feed = {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/calendar-feed",
            &bob_token,
            None,
        )
        .await;
        path_of(r.json()["url"].as_str().expect("url"))
    };
    let body = app.get(&bob_feed, "text/calendar").await.body;
    let uids: Vec<String> = parse_ics(&body)
        .events()
        .filter_map(|e| e.get_uid().map(String::from))
        .collect();
    for m in [&both, &without_alice, &elsewhere] {
        assert!(uids.contains(&m["ap_id"].as_str().expect("ap_id").to_string()));
    }

    // Unknown and malformed tokens: 404.
    for path in [
        format!("/calendrier/{}.ics", "A".repeat(43)),
        "/calendrier/nope.ics".to_string(),
        feed.trim_end_matches(".ics").to_string(),
    ] {
        assert_eq!(
            app.get(&path, "text/calendar").await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A reset (from the page) makes the old address useless.
    let account = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::accounts::by_actor_id(&mut conn, alice.id)
            .await
            .expect("query")
            .expect("account")
    };
    let browser = Browser::with_session(&app, &account).await;
    let page = browser.submit_form("/calendrier", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = unescape(&page.body);
    let start = body
        .find(&format!("{LOCAL}/calendrier/"))
        .expect("new address");
    let end = start + body[start..].find(".ics").expect("suffix") + 4;
    let new_feed = path_of(&body[start..end]);
    assert_ne!(new_feed, feed);
    assert_eq!(
        app.get(&feed, "text/calendar").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&new_feed, "text/calendar").await.status,
        StatusCode::OK
    );
}

/// A GET signed by `remote` (or unsigned).
fn signed_get(path: &str, remote: Option<&Remote>) -> Request<Body> {
    let builder = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("accept", "application/activity+json");
    let Some(remote) = remote else {
        return builder.body(Body::empty()).expect("request");
    };
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let signing_string =
        format!("(request-target): get {path}\nhost: localhost:8080\ndate: {date}");
    let signature = remote
        .key
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_string.as_bytes()),
        )
        .expect("sign");
    builder
        .header("host", "localhost:8080")
        .header("date", date)
        .header(
            "signature",
            format!(
                "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{}\"",
                remote.key_id,
                BASE64.encode(signature)
            ),
        )
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn event_goes_to_the_remote_members_inbox_and_only_members_fetch_it() {
    let app = new_app().await;
    let (alice, alice_token) = user(&app, "alice").await;
    let ws = workspace(&app, "Fédéré", &alice).await;
    let r1 = remote_actor(&app, "https://b.example", "rene", 0).await;
    let x = remote_actor(&app, "https://c.example", "xavier", 1).await;
    add_member(&app, &ws, &r1.actor, "member").await;

    let m = create(&app, &alice_token, &meetings_uri(&ws), json!({"title": "Point d'étape", "starts_at": in_days(7), "duration_minutes": 45, "agenda": "Le *budget*"})).await;
    let ap_id = m["ap_id"].as_str().expect("ap_id");
    let created = queued(&app, "Create").await;
    let (activity, inboxes): &(Value, Vec<String>) = created
        .iter()
        .find(|(a, _)| a["object"]["id"] == ap_id)
        .expect("a Create of the Event");
    assert_eq!(inboxes, &vec![r1.actor.inbox_url.clone()]);
    assert_eq!(activity["to"], json!([r1.id()]));
    assert!(activity.get("cc").is_none(), "{activity}");
    let event = &activity["object"];
    assert_eq!(event["type"], "Event");
    assert_eq!(event["to"], json!([r1.id()]));
    assert_eq!(event["audience"], app.ctx.urls.workspace(&ws.id));
    assert_eq!(event["attributedTo"], alice.ap_id);
    assert_eq!(event["name"], "Point d'étape");
    assert_eq!(event["attachment"][0]["href"], m["video_url"]);
    assert!(
        !activity.to_string().contains("as:Public") && !activity.to_string().contains("#Public")
    );

    // The Event, for a member's signed fetch only.
    let path = path_of(ap_id);
    let r = app.send(signed_get(&path, Some(&r1))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["id"], ap_id);
    assert_eq!(r.json()["type"], "Event");
    let missing = format!("/workspaces/{}/meetings/{}", ws.id, Uuid::new_v4());
    let not_found = app.send(signed_get(&missing, Some(&r1))).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    for who in [None, Some(&x)] {
        let r = app.send(signed_get(&path, who)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        assert_eq!(r.body, not_found.body);
    }

    // Cancelled: a Delete to the same inbox only.
    let id = m["id"].as_str().expect("id");
    let r = api(
        &app,
        Method::DELETE,
        &format!("{}/{id}", meetings_uri(&ws)),
        &alice_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let deleted = queued(&app, "Delete").await;
    let (activity, inboxes) = deleted
        .iter()
        .find(|(a, _)| a["object"]["id"] == ap_id)
        .expect("a Delete");
    assert_eq!(inboxes, &vec![r1.actor.inbox_url.clone()]);
    assert_eq!(activity["to"], json!([r1.id()]));
}

#[tokio::test]
async fn an_event_of_a_remote_workspace_is_kept_for_our_members() {
    let app = new_app().await;
    let (alice, _) = user(&app, "alice").await;
    let group = remote_actor(&app, "https://b.example", "atelier", 2).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query("UPDATE actors SET kind = 'Group' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(group.actor.id)
        .execute(&mut conn)
        .await
        .expect("group");
    let mirror = db::workspaces::insert(
        &mut conn,
        &NewWorkspace {
            id: Uuid::new_v4(),
            actor_id: group.actor.id,
            local: false,
            name: "Atelier distant".into(),
            description_markdown: String::new(),
            description_html: String::new(),
            disciplines: Vec::new(),
            commune_code: None,
            listed: false,
            created_by_account_id: None,
        },
    )
    .await
    .expect("mirror");
    drop(conn);
    add_member(&app, &mirror, &alice, "member").await;

    let event_id = "https://b.example/workspaces/w1/meetings/m1";
    let starts = Utc::now() + Duration::days(10);
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://b.example/activities/c1",
        "type": "Create",
        "actor": group.id(),
        "to": [alice.ap_id],
        "object": {
            "id": event_id,
            "type": "Event",
            "name": "Répétition",
            "content": "<p>Texte <script>x</script></p>",
            "startTime": starts.to_rfc3339(),
            "endTime": (starts + Duration::minutes(75)).to_rfc3339(),
            "attributedTo": group.id(),
            "audience": group.id(),
            "to": [alice.ap_id],
            "attachment": [{"type": "Link", "href": "https://visio.b.example/repetition-0123456789abcdef"}],
        },
    });
    let body = serde_json::to_vec(&create).expect("json");
    let r = app
        .send(signed_post(
            "/users/alice/inbox",
            body,
            &Signing::by(&group),
        ))
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let stored: DbWorkspaceMeeting = workspace_meetings::table
        .filter(workspace_meetings::ap_id.eq(event_id))
        .select(DbWorkspaceMeeting::as_select())
        .first(&mut conn)
        .await
        .expect("stored");
    assert_eq!(stored.workspace_id, mirror.id);
    assert_eq!(stored.title, "Répétition");
    assert_eq!(stored.duration_minutes, 75);
    assert_eq!(
        stored.video_url.as_deref(),
        Some("https://visio.b.example/repetition-0123456789abcdef")
    );
    assert!(
        !stored.agenda_html.contains("script"),
        "{}",
        stored.agenda_html
    );
    let attendees: Vec<i64> = workspace_meeting_attendees::table
        .filter(workspace_meeting_attendees::meeting_id.eq(stored.id))
        .select(workspace_meeting_attendees::actor_id)
        .load(&mut conn)
        .await
        .expect("attendees");
    assert_eq!(attendees, [alice.id]);
    let told: i64 = notifications::table
        .filter(notifications::workspace_meeting_id.eq(stored.id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(told, 1);
    drop(conn);

    // Cancelled by the workspace.
    let delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://b.example/activities/d1",
        "type": "Delete",
        "actor": group.id(),
        "to": [alice.ap_id],
        "object": {"id": event_id, "type": "Tombstone"},
    });
    let body = serde_json::to_vec(&delete).expect("json");
    let r = app
        .send(signed_post(
            "/users/alice/inbox",
            body,
            &Signing::by(&group),
        ))
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let cancelled: Option<chrono::DateTime<Utc>> = workspace_meetings::table
        .filter(workspace_meetings::ap_id.eq(event_id))
        .select(workspace_meetings::cancelled_at)
        .first(&mut conn)
        .await
        .expect("row");
    assert!(cancelled.is_some());
}
