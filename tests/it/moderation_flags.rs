//! Reports between servers (issue 10): a `Flag` received in the shared inbox, in every real
//! shape, becomes one report of the local targets it names; what is refused stores nothing;
//! a moderator forwards a report about remote content as a `Flag` from the instance actor,
//! never naming the reporter.

use crate::{
    common::TestApp,
    federation_inbox::{KEYS, Remote, Signing, deliver, remote_actor, signed_post},
    helpers::{Browser, api, create, local_actor, queued, token},
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use chrono::Utc;
use culturecnous::{
    db::{
        self,
        posts::NewRemotePost,
        reports::DbReport,
        schema::{moderation_actions, notifications, reports},
    },
    service::{
        domain_blocks::{self, BlockOptions, Severity},
        moderation::{Reason, ReportInput, Reporter, reports::submit},
    },
    testing::fixture,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rsa::{RsaPrivateKey, pkcs8::DecodePrivateKey};
use serde_json::{Value, json};

const REMOTE: &str = "http://remote.example:1234";

/// An app with a member `alice` who published an announcement, a moderator `mia`, and a
/// remote `bob` who sends Flags. Returns the announcement's ActivityPub id.
async fn setup() -> (TestApp, Remote, String) {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("mia", "moderator").await;
    let alice = token(&app, "alice").await;
    let created = create(
        &app,
        &alice,
        "/api/v1/announcements",
        json!({"title": "Résidence d'été", "body": "Appel ouvert.", "kind": "residence"}),
    )
    .await;
    let announcement = created["ap_id"].as_str().expect("ap_id").to_string();
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    (app, bob, announcement)
}

async fn all_reports(app: &TestApp) -> Vec<DbReport> {
    let mut conn = app.ctx.conn().await.expect("conn");
    reports::table
        .order(reports::id)
        .select(DbReport::as_select())
        .load(&mut conn)
        .await
        .expect("reports")
}

async fn target_ids(app: &TestApp, report: &DbReport) -> Vec<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let mut ids: Vec<String> = db::reports::targets_of(&mut conn, report.id)
        .await
        .expect("targets")
        .into_iter()
        .map(|t| t.ap_id)
        .collect();
    ids.sort();
    ids
}

/// A fixture with its ids rewritten to this test's hosts: sent by `from` with id `n`, its
/// objects replaced by ours (`local`), keeping its shape (a list, or a single id), plus one
/// id of another server that must be ignored when it is a list.
fn rewritten(path: &str, from: &Remote, n: u32, local: &[&str]) -> Value {
    let mut flag: Value = serde_json::from_str(&fixture(path)).expect("fixture");
    flag["id"] = json!(format!("{REMOTE}/flags/{n}"));
    flag["actor"] = json!(from.id());
    flag["object"] = match &flag["object"] {
        Value::Array(_) => {
            let mut ids: Vec<Value> = local.iter().map(|s| json!(s)).collect();
            ids.push(json!("https://elsewhere.example/notes/1"));
            Value::Array(ids)
        }
        _ => json!(local.last().expect("one local id")),
    };
    if flag.get("to").is_some()
        && let Some(first) = local.first()
    {
        flag["to"] = json!([first]);
    }
    flag
}

#[tokio::test(flavor = "multi_thread")]
async fn every_real_flag_shape_makes_one_report_of_the_local_targets() {
    let (app, bob, announcement) = setup().await;
    let alice = local_actor(&app, "alice").await.ap_id;
    let both = vec![alice.clone(), announcement.clone()];
    let mut expected_sorted = both.clone();
    expected_sorted.sort();
    let shapes = [
        ("mastodon/activities/flag.json", expected_sorted.clone()),
        ("mastodon-spec/flag.json", expected_sorted.clone()),
        ("gotosocial/flag.json", expected_sorted.clone()),
        ("mbin/activities/flag.json", expected_sorted.clone()),
        (
            "lemmy/activities/community/report_page.json",
            vec![announcement.clone()],
        ),
    ];
    let local: Vec<&str> = both.iter().map(String::as_str).collect();
    for (n, (path, expected)) in shapes.iter().enumerate() {
        let mut flag = rewritten(path, &bob, n as u32, &local);
        if path.starts_with("gotosocial") {
            flag["bto"] = json!([alice]);
        }
        assert_eq!(
            deliver(&app, &bob, &flag).await,
            StatusCode::ACCEPTED,
            "{path}"
        );
        let reports = all_reports(&app).await;
        assert_eq!(reports.len(), n + 1, "{path}: one report each");
        let report = reports.last().expect("report");
        assert_eq!(
            report.ap_id.as_deref(),
            flag["id"].as_str(),
            "{path}: Flag id"
        );
        assert_eq!(report.origin_domain.as_deref(), Some("remote.example:1234"));
        assert_eq!(report.reporter_actor_id, Some(bob.actor.id));
        assert_eq!(report.reporter_account_id, None);
        assert!(report.is_open());
        assert_eq!(&target_ids(&app, report).await, expected, "{path}");
        assert!(!report.comment.is_empty(), "{path}: comment kept");
    }
    // Misskey: the reported account in `object`, the posts pasted in `content`.
    let misskey = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "type": "Flag",
        "id": format!("{REMOTE}/9pq2kd01ab"),
        "actor": bob.id(),
        "content": format!("Spam répété : {announcement} (et https://elsewhere.example/notes/2)"),
        "object": [alice.clone()]
    });
    assert_eq!(deliver(&app, &bob, &misskey).await, StatusCode::ACCEPTED);
    let reports = all_reports(&app).await;
    let report = reports.last().expect("misskey report");
    assert_eq!(report.ap_id.as_deref(), misskey["id"].as_str());
    assert_eq!(target_ids(&app, report).await, expected_sorted);
    assert_eq!(report.reason, Reason::Spam.as_str());
    // The reported account is alice.
    let alice_row = local_actor(&app, "alice").await;
    assert_eq!(report.target_actor_id, Some(alice_row.id));
    // The moderator was told about each report.
    let mia = culturecnous::db::accounts::by_login(&mut app.ctx.conn().await.expect("conn"), "mia")
        .await
        .expect("query")
        .expect("mia");
    let mut conn = app.ctx.conn().await.expect("conn");
    let told: i64 = notifications::table
        .filter(notifications::account_id.eq(mia.id))
        .filter(notifications::report_id.is_not_null())
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(told, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_delivered_twice_makes_one_report() {
    let (app, bob, announcement) = setup().await;
    let flag = rewritten(
        "mastodon/activities/flag.json",
        &bob,
        1,
        &[announcement.as_str()],
    );
    assert_eq!(deliver(&app, &bob, &flag).await, StatusCode::ACCEPTED);
    assert_eq!(deliver(&app, &bob, &flag).await, StatusCode::ACCEPTED);
    assert_eq!(all_reports(&app).await.len(), 1);
    // Even once the replay guard forgot it (a week later), the Flag id stays unique.
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::delete(db::schema::received_activities::table)
        .execute(&mut conn)
        .await
        .expect("forget");
    assert_eq!(deliver(&app, &bob, &flag).await, StatusCode::ACCEPTED);
    assert_eq!(all_reports(&app).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_naming_nothing_local_is_accepted_and_stores_nothing() {
    let (app, bob, _) = setup().await;
    let flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Flag",
        "id": format!("{REMOTE}/flags/nothing"),
        "actor": bob.id(),
        "content": "look",
        "object": ["https://elsewhere.example/users/x", "http://localhost:8080/posts/999999"]
    });
    assert_eq!(deliver(&app, &bob, &flag).await, StatusCode::ACCEPTED);
    assert!(all_reports(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_from_a_domain_rejecting_reports_or_rejected_are_dropped() {
    let (app, bob, announcement) = setup().await;
    domain_blocks::block(
        &app.ctx,
        "remote.example",
        Severity::Silence,
        &BlockOptions {
            reject_reports: true,
            ..BlockOptions::default()
        },
    )
    .await
    .expect("block");
    let flag = rewritten(
        "mastodon/activities/flag.json",
        &bob,
        1,
        &[announcement.as_str()],
    );
    assert_eq!(deliver(&app, &bob, &flag).await, StatusCode::ACCEPTED);
    assert!(all_reports(&app).await.is_empty(), "reports rejected");
    // Other activities of a silenced domain still get in: only reports are refused.
    domain_blocks::block(
        &app.ctx,
        "remote.example",
        Severity::Silence,
        &BlockOptions::default(),
    )
    .await
    .expect("block without reject_reports");
    assert_eq!(deliver(&app, &bob, &flag).await, StatusCode::ACCEPTED);
    assert_eq!(all_reports(&app).await.len(), 1, "accepted once lifted");
    // A rejected domain: everything dropped, Flags included.
    let flag2 = rewritten(
        "mastodon/activities/flag.json",
        &bob,
        2,
        &[announcement.as_str()],
    );
    domain_blocks::block(
        &app.ctx,
        "remote.example",
        Severity::Reject,
        &BlockOptions::default(),
    )
    .await
    .expect("reject");
    assert_eq!(deliver(&app, &bob, &flag2).await, StatusCode::ACCEPTED);
    assert_eq!(all_reports(&app).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_badly_signed_or_objectless_flags_are_refused() {
    let (app, bob, announcement) = setup().await;
    let flag = rewritten(
        "mastodon/activities/flag.json",
        &bob,
        1,
        &[announcement.as_str()],
    );
    let body = serde_json::to_vec(&flag).expect("json");
    // Unsigned.
    let unsigned = Request::builder()
        .method(Method::POST)
        .uri("/inbox")
        .header("host", "localhost:8080")
        .header("content-type", "application/activity+json")
        .body(Body::from(body.clone()))
        .expect("request");
    assert_eq!(app.send(unsigned).await.status, StatusCode::UNAUTHORIZED);
    // Signed with a key that is not bob's.
    let other = RsaPrivateKey::from_pkcs8_pem(&KEYS[1].private_key).expect("key");
    let forged = signed_post("/inbox", body, &Signing::new(other, bob.key_id.clone()));
    assert_eq!(app.send(forged).await.status, StatusCode::UNAUTHORIZED);
    // No object, or an object that names no URL.
    for (n, object) in [None, Some(json!("not a url")), Some(json!([]))]
        .into_iter()
        .enumerate()
    {
        let mut bad = rewritten("mastodon/activities/flag.json", &bob, 10 + n as u32, &[]);
        match object {
            Some(o) => bad["object"] = o,
            None => {
                bad.as_object_mut().expect("object").remove("object");
            }
        }
        bad.as_object_mut().expect("object").remove("to");
        assert_eq!(
            deliver(&app, &bob, &bad).await,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    assert!(all_reports(&app).await.is_empty());
}

/// A remote author `dave` on `dave.example:1234` and a note of his stored here.
async fn remote_post(app: &TestApp) -> (db::actors::DbActor, String) {
    let dave = remote_actor(app, "http://dave.example:1234", "dave", 2).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let id = db::posts::next_id(&mut conn).await.expect("id");
    let ap_id = "http://dave.example:1234/notes/1".to_string();
    db::posts::insert_remote(
        &mut conn,
        &NewRemotePost {
            id,
            category: "post".into(),
            ap_id: ap_id.clone(),
            author_actor_id: dave.actor.id,
            title: "Une note d'ailleurs".into(),
            slug: "une-note-d-ailleurs".into(),
            summary: String::new(),
            body_markdown: String::new(),
            body_html: "<p>Achetez !</p>".into(),
            hashtags: Vec::new(),
            kind: None,
            published_at: Some(Utc::now()),
            local: false,
            url: Some("http://dave.example:1234/@dave/1".into()),
            content_warning: None,
        },
    )
    .await
    .expect("insert")
    .expect("new row");
    (dave.actor, ap_id)
}

/// `carol` (a member) reports `target`, asking to forward it; the report's id.
async fn carol_reports(app: &TestApp, target: &str) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    let carol = culturecnous::db::accounts::by_login(&mut conn, "carol")
        .await
        .expect("query")
        .expect("carol");
    let submitted = submit(
        &app.ctx,
        &mut conn,
        ReportInput {
            reporter: Reporter::Member(Box::new(carol)),
            targets: vec![target.parse().expect("url")],
            reason: Reason::Spam,
            rule_ids: Vec::new(),
            comment: "Publicité envoyée à tout le monde".into(),
            forward: true,
        },
    )
    .await
    .expect("submit")
    .expect("stored");
    submitted.report.id
}

async fn report_row(app: &TestApp, id: i64) -> DbReport {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::reports::by_id(&mut conn, id)
        .await
        .expect("query")
        .expect("report")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_moderator_forwards_a_report_as_a_flag_from_the_instance_never_naming_the_reporter() {
    let app = TestApp::new().await;
    app.create_user("carol", "member").await;
    app.create_user("mia", "moderator").await;
    let (dave, note) = remote_post(&app).await;
    let report_id = carol_reports(&app, &note).await;
    assert!(report_row(&app, report_id).await.forward_requested);
    let path = format!("/api/v1/admin/reports/{report_id}/forward");

    // A member cannot: 403, nothing changes.
    let carol = token(&app, "carol").await;
    let refused = api(&app, Method::POST, &path, &carol, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(report_row(&app, report_id).await.forwarded_at.is_none());
    assert!(queued(&app, "Flag").await.is_empty());

    let mia = token(&app, "mia").await;
    let ok = api(&app, Method::POST, &path, &mia, None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["id"], report_id);
    let report = report_row(&app, report_id).await;
    assert!(report.forwarded_at.is_some());
    assert!(report.forwarded_by.is_some());

    let flags = queued(&app, "Flag").await;
    assert_eq!(flags.len(), 1);
    let (flag, inboxes) = &flags[0];
    assert_eq!(flag["type"], "Flag");
    assert_eq!(
        flag["id"],
        format!("http://localhost:8080/reports/{report_id}")
    );
    assert_eq!(flag["actor"], "http://localhost:8080/actor");
    assert_eq!(flag["object"], json!([dave.ap_id, note]));
    assert_eq!(flag["to"], json!([dave.ap_id]));
    let content = flag["content"].as_str().expect("content");
    assert!(content.contains("Spam"), "{content}");
    assert!(content.contains("Publicité envoyée"), "{content}");
    assert_eq!(inboxes, &vec!["http://dave.example:1234/inbox".to_string()]);
    // The reporter is named nowhere.
    let text = flag.to_string();
    let carol_actor = local_actor(&app, "carol").await;
    assert!(!text.contains("carol"), "{text}");
    assert!(!text.contains(&carol_actor.ap_id), "{text}");

    // Logged once.
    let mut conn = app.ctx.conn().await.expect("conn");
    let logged: i64 = moderation_actions::table
        .filter(moderation_actions::report_id.eq(report_id))
        .filter(moderation_actions::action.eq("forward"))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(logged, 1);

    // Twice: a clear conflict, nothing more queued.
    let again = api(&app, Method::POST, &path, &mia, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("already forwarded"), "{}", again.body);
    assert_eq!(queued(&app, "Flag").await.len(), 1);
    // Unknown report.
    let missing = api(
        &app,
        Method::POST,
        "/api/v1/admin/reports/999999/forward",
        &mia,
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_page_button_forwards_and_a_local_report_has_nothing_to_forward() {
    let app = TestApp::new().await;
    app.create_user("carol", "member").await;
    let mia_account = app.create_user("mia", "moderator").await;
    let alice = app.create_user("alice", "member").await;
    let (_, note) = remote_post(&app).await;
    let remote_report = carol_reports(&app, &note).await;
    let local_report = carol_reports(
        &app,
        &format!("http://localhost:8080/users/{}", alice.username),
    )
    .await;

    let browser = Browser::with_session(&app, &mia_account).await;
    let path = format!("/admin/signalements/{remote_report}/transmettre");
    let r = browser.submit_form(&path, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("/admin/signalements/{remote_report}").as_str())
    );
    assert!(report_row(&app, remote_report).await.forwarded_at.is_some());
    assert_eq!(queued(&app, "Flag").await.len(), 1);

    // Nothing remote: a conflict, said on the page (API) or in the message (button).
    let mia = token(&app, "mia").await;
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/admin/reports/{local_report}/forward"),
        &mia,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("nothing from another server"), "{}", r.body);
    let r = browser
        .submit_form(
            &format!("/admin/signalements/{local_report}/transmettre"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(report_row(&app, local_report).await.forwarded_at.is_none());
    assert_eq!(queued(&app, "Flag").await.len(), 1);

    // Without the CSRF field: refused, nothing changes.
    let r = browser
        .post_form(
            &format!("/admin/signalements/{local_report}/transmettre"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A member's session: 403.
    let carol_account =
        culturecnous::db::accounts::by_login(&mut app.ctx.conn().await.expect("conn"), "carol")
            .await
            .expect("query")
            .expect("carol");
    let member = Browser::with_session(&app, &carol_account).await;
    let r = member.submit_form(&path, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outcome_goes_back_to_the_flags_sender_as_resolve_without_internal_notes() {
    let (app, bob, announcement) = setup().await;
    let flag = rewritten(
        "mastodon/activities/flag.json",
        &bob,
        1,
        &[announcement.as_str()],
    );
    assert_eq!(deliver(&app, &bob, &flag).await, StatusCode::ACCEPTED);
    let report = all_reports(&app).await.pop().expect("report");
    // As the resolving domain function does: close it and record the outcome.
    let mut conn = app.ctx.conn().await.expect("conn");
    let resolved = db::reports::resolve(&mut conn, report.id, "dismiss", None)
        .await
        .expect("resolve")
        .expect("open");
    culturecnous::service::outbound::record(
        &app.ctx,
        &mut conn,
        culturecnous::service::outbound::OutboundEvent::ReportOutcomeSent {
            report: Box::new(resolved),
        },
    )
    .await
    .expect("outcome");
    let sent = queued(&app, "Resolve").await;
    assert_eq!(sent.len(), 1);
    let (resolve, inboxes) = &sent[0];
    assert_eq!(resolve["actor"], "http://localhost:8080/actor");
    assert_eq!(resolve["object"]["id"], flag["id"]);
    assert_eq!(resolve["object"]["type"], "Flag");
    assert_eq!(resolve["object"]["actor"], bob.id());
    assert_eq!(resolve["object"]["object"], json!([announcement]));
    assert_eq!(resolve["to"], json!([bob.id()]));
    assert!(resolve["content"].is_string());
    assert_eq!(inboxes, &vec![format!("{REMOTE}/inbox")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_naming_two_servers_makes_one_flag_per_server() {
    let app = TestApp::new().await;
    let carol = app.create_user("carol", "member").await;
    app.create_user("mia", "moderator").await;
    let (dave, note) = remote_post(&app).await;
    let erin = remote_actor(&app, "http://erin.example:4321", "erin", 1).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let report_id = submit(
        &app.ctx,
        &mut conn,
        ReportInput {
            reporter: Reporter::Member(Box::new(carol)),
            targets: vec![note.parse().expect("url"), erin.id().parse().expect("url")],
            reason: Reason::Harassment,
            rule_ids: Vec::new(),
            comment: String::new(),
            forward: true,
        },
    )
    .await
    .expect("submit")
    .expect("stored")
    .report
    .id;
    drop(conn);
    let mia = token(&app, "mia").await;
    let ok = api(
        &app,
        Method::POST,
        &format!("/api/v1/admin/reports/{report_id}/forward"),
        &mia,
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let mut flags = queued(&app, "Flag").await;
    assert_eq!(flags.len(), 2, "{flags:?}");
    flags.sort_by_key(|(flag, _)| flag["id"].as_str().map(str::to_string));
    let (to_dave, dave_inboxes) = &flags[0];
    assert_eq!(to_dave["object"], json!([dave.ap_id, note]));
    assert_eq!(to_dave["to"], json!([dave.ap_id]));
    assert_eq!(
        dave_inboxes,
        &vec!["http://dave.example:1234/inbox".to_string()]
    );
    let (to_erin, erin_inboxes) = &flags[1];
    assert_eq!(to_erin["object"], json!([erin.id()]));
    assert_eq!(
        erin_inboxes,
        &vec!["http://erin.example:4321/inbox".to_string()]
    );
    assert_ne!(to_dave["id"], to_erin["id"], "each Flag has its own id");
    // No comment: the reason's label alone.
    assert!(to_erin["content"].as_str().is_some_and(|c| !c.is_empty()));
}
