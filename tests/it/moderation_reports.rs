//! Reporting (issue 10): the "Signaler" form for members and visitors, `POST /api/v1/reports`,
//! what a report stores (targets, snapshots) and who is told, the visitors' rate limit, the
//! forward request (remote content only), the moderators' header badge and the links.

use crate::{
    common::TestApp,
    helpers::{
        Browser, api, create, csrf_in, enc, error_fields, latest_mail_to, path_of,
        remote_actor_row, rows_in, token,
    },
};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use culturecnous::{
    db::{
        self,
        posts::NewRemotePost,
        reports::{DbReport, DbReportTarget},
        schema::{notifications, report_targets, reports},
    },
    service::moderation::targets::Snapshot,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

/// An instance with a member `alice` who published a post, a member `bob`, a moderator `mod`
/// and an admin `boss`. Returns the post's ActivityPub id and page path.
async fn instance() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("mod", "moderator").await;
    app.create_user("boss", "admin").await;
    let alice = token(&app, "alice").await;
    let post = create(
        &app,
        &alice,
        "/api/v1/posts",
        json!({"title": "Concert au kiosque", "body": "Entrée libre, venez nombreux."}),
    )
    .await;
    let ap_id = post["ap_id"].as_str().expect("ap_id").to_string();
    let page = path_of(post["url"].as_str().expect("url"));
    (app, ap_id, page)
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

async fn targets_of(app: &TestApp, report_id: i64) -> Vec<DbReportTarget> {
    let mut conn = app.ctx.conn().await.expect("conn");
    report_targets::table
        .filter(report_targets::report_id.eq(report_id))
        .select(DbReportTarget::as_select())
        .load(&mut conn)
        .await
        .expect("targets")
}

/// Who got a `report` notification about `report_id`.
async fn notified_about(app: &TestApp, report_id: i64) -> Vec<i64> {
    let mut conn = app.ctx.conn().await.expect("conn");
    notifications::table
        .filter(notifications::kind.eq("report"))
        .filter(notifications::report_id.eq(report_id))
        .select(notifications::account_id)
        .order(notifications::account_id)
        .load(&mut conn)
        .await
        .expect("notifications")
}

async fn account(app: &TestApp, username: &str) -> db::accounts::DbAccount {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account")
}

async fn first_rule_id(app: &TestApp) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::rules::current(&mut conn).await.expect("rules")[0].id
}

/// A post of `dave` on another server, kept here.
async fn remote_post(app: &TestApp) -> String {
    let dave = remote_actor_row(app, "dave.example", "dave", true).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let id = db::posts::next_id(&mut conn).await.expect("id");
    let ap_id = "http://dave.example/notes/1".to_string();
    db::posts::insert_remote(
        &mut conn,
        &NewRemotePost {
            id,
            category: "post".into(),
            ap_id: ap_id.clone(),
            author_actor_id: dave.id,
            title: "Un article d'ailleurs".into(),
            slug: "un-article-d-ailleurs".into(),
            summary: String::new(),
            body_markdown: String::new(),
            body_html: "<p>Achetez maintenant</p>".into(),
            hashtags: Vec::new(),
            kind: None,
            published_at: Some(Utc::now()),
            local: false,
            url: Some("http://dave.example/@dave/1".into()),
            content_warning: None,
        },
    )
    .await
    .expect("insert")
    .expect("new row");
    ap_id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_reports_through_the_form_and_the_api_and_every_moderator_is_told() {
    let (app, ap_id, _page) = instance().await;
    let rule = first_rule_id(&app).await;
    let bob = Browser::logged_in(&app, "bob").await;
    let form_path = format!("/signaler?cible={}", enc(&ap_id));
    let form = bob.get(&form_path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Concert au kiosque"), "{}", form.body);
    assert!(form.body.contains("<legend>Motif du signalement"));
    assert!(form.body.contains("name=\"reason\" value=\"off_topic\""));
    assert!(
        form.body
            .contains(&format!("name=\"rule_ids\" value=\"{rule}\""))
    );
    // A member is known: no address asked; local content: nothing to forward.
    assert!(!form.body.contains("name=\"email\""));
    assert!(!form.body.contains("name=\"forward\""));

    let csrf = csrf_in(&form.body);
    let rule_s = rule.to_string();
    let r = bob
        .post_form(
            "/signaler",
            &[
                ("csrf_token", &csrf),
                ("cible", &ap_id),
                ("reason", "off_topic"),
                ("rule_ids", &rule_s),
                ("comment", "Ceci relève de l'agenda."),
                ("forward", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some("/signaler/merci"));
    let sent = bob.get("/signaler/merci").await;
    assert!(
        sent.body.contains("Les modérateurs vont l"),
        "{}",
        sent.body
    );

    let stored = all_reports(&app).await;
    assert_eq!(stored.len(), 1);
    let report = &stored[0];
    let bob_row = account(&app, "bob").await;
    let carol_row = app.create_user("carol", "member").await;
    assert_eq!(report.reason, "off_topic");
    assert_eq!(report.rule_ids, vec![rule]);
    assert_eq!(report.comment, "Ceci relève de l'agenda.");
    assert_eq!(report.reporter_account_id, Some(bob_row.id));
    // Local content: forwarding is meaningless, whatever was asked.
    assert!(!report.forward_requested);
    let targets = targets_of(&app, report.id).await;
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].kind, "post");
    assert_eq!(targets[0].ap_id, ap_id);
    let snapshot = Snapshot::from_json(&targets[0].snapshot);
    assert_eq!(snapshot.title, "Concert au kiosque");
    assert!(snapshot.html.contains("Entrée libre"));

    // The moderator and the admin are notified, and mailed (instant by default).
    let (moderator, admin) = (account(&app, "mod").await, account(&app, "boss").await);
    let mut expected = vec![moderator.id, admin.id];
    expected.sort_unstable();
    assert_eq!(notified_about(&app, report.id).await, expected);
    latest_mail_to(&app, "mod@example.org").await;
    latest_mail_to(&app, "boss@example.org").await;

    // The API: carol reports the same post.
    let carol = token(&app, "carol").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &carol,
        Some(json!({"target": ap_id, "reason": "spam", "comment": "Pub.", "rule_ids": [rule]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().expect("id");
    let stored = all_reports(&app).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].id, id);
    assert_eq!(stored[1].reporter_account_id, Some(carol_row.id));
    assert_eq!(targets_of(&app, id).await.len(), 1);
    assert_eq!(notified_about(&app, id).await, expected);

    // Carol again, while her report is open: a clear conflict, nothing stored.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &carol,
        Some(json!({"target": ap_id, "reason": "spam"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(all_reports(&app).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_reports_with_an_address_and_is_limited_per_client_address_and_per_email() {
    let (app, ap_id, _page) = instance().await;
    let visitor = Browser::from_ip(&app, "192.0.2.7");
    let form_path = format!("/signaler?cible={}", enc(&ap_id));
    let form = visitor.get(&form_path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"email\""));
    let csrf = csrf_in(&form.body);

    // No address: the form again, naming the field; nothing stored.
    let r = visitor
        .post_form(
            "/signaler",
            &[("csrf_token", &csrf), ("cible", &ap_id), ("reason", "spam")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"f-email-error\""), "{}", r.body);
    assert!(r.body.contains("href=\"#f-email\""));
    assert_eq!(rows_in(&app, "reports").await, 0);

    let limit = culturecnous::service::login_limits::REPORTS_PER_ADDRESS_PER_HOUR;
    for n in 0..limit {
        let email = format!("visiteur{n}@example.net");
        let r = visitor
            .post_form(
                "/signaler",
                &[
                    ("csrf_token", &csrf),
                    ("cible", &ap_id),
                    ("reason", "harassment"),
                    ("email", &email),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "report {n}: {}", r.body);
    }
    let stored = all_reports(&app).await;
    assert_eq!(stored.len() as i64, limit);
    assert_eq!(
        stored[0].reporter_email.as_deref(),
        Some("visiteur0@example.net")
    );
    assert_eq!(stored[0].reporter_account_id, None);
    let r = visitor
        .post_form(
            "/signaler",
            &[
                ("csrf_token", &csrf),
                ("cible", &ap_id),
                ("reason", "harassment"),
                ("email", "encore@example.net"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("Trop de signalements"), "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert_eq!(rows_in(&app, "reports").await, limit);

    // The same address given from elsewhere is limited too.
    let per_email = culturecnous::service::login_limits::REPORTS_PER_EMAIL_PER_HOUR;
    let elsewhere = Browser::from_ip(&app, "198.51.100.9");
    let csrf = csrf_in(&elsewhere.get(&form_path).await.body);
    for n in 0..per_email {
        let r = elsewhere
            .post_form(
                "/signaler",
                &[
                    ("csrf_token", &csrf),
                    ("cible", &ap_id),
                    ("reason", "other"),
                    ("email", "Meme@Example.net"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "report {n}: {}", r.body);
    }
    let r = elsewhere
        .post_form(
            "/signaler",
            &[
                ("csrf_token", &csrf),
                ("cible", &ap_id),
                ("reason", "other"),
                ("email", "meme@example.net"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(rows_in(&app, "reports").await, limit + per_email);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_target_is_404_and_a_bad_reason_422_and_nothing_is_stored() {
    let (app, ap_id, _page) = instance().await;
    let unknown = "http://localhost:8080/posts/999999";
    let bob = Browser::logged_in(&app, "bob").await;
    let page = bob.get(&format!("/signaler?cible={}", enc(unknown))).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    assert!(
        crate::helpers::unescape(&page.body).contains("n'existe pas"),
        "{}",
        page.body
    );
    let page = bob.get("/signaler?cible=pas-une-url").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let csrf = csrf_in(
        &bob.get(&format!("/signaler?cible={}", enc(&ap_id)))
            .await
            .body,
    );
    let r = bob
        .post_form(
            "/signaler",
            &[
                ("csrf_token", &csrf),
                ("cible", unknown),
                ("reason", "spam"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = bob
        .post_form(
            "/signaler",
            &[
                ("csrf_token", &csrf),
                ("cible", &ap_id),
                ("reason", "boring"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"f-reason-error\""), "{}", r.body);
    assert!(r.body.contains("href=\"#f-reason\""));

    // A draft is not shown to others, nor can it be reported by them.
    let alice = token(&app, "alice").await;
    let draft = create(
        &app,
        &alice,
        "/api/v1/posts",
        json!({"title": "Brouillon secret", "body": "Pas encore.", "draft": true}),
    )
    .await;
    let draft = draft["ap_id"].as_str().expect("ap_id").to_string();
    let page = bob.get(&format!("/signaler?cible={}", enc(&draft))).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("Brouillon secret"));
    let visitor = Browser::new(&app);
    let page = visitor
        .get(&format!("/signaler?cible={}", enc(&draft)))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let bearer = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bearer,
        Some(json!({"target": draft, "reason": "spam"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bearer,
        Some(json!({"target": unknown, "reason": "spam"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bearer,
        Some(json!({"target": ap_id, "reason": "boring"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["reason".to_string()]);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bearer,
        Some(json!({"target": "pas une adresse", "reason": "spam"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["target".to_string()]);
    let long = "x".repeat(5001);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bearer,
        Some(json!({"target": ap_id, "reason": "spam", "comment": long})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["comment".to_string()]);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bearer,
        Some(json!({"target": ap_id, "reason": "spam", "rule_ids": [987654]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["rule_ids".to_string()]);
    let r = crate::helpers::call(
        &app,
        Method::POST,
        "/api/v1/reports",
        Some(&bearer),
        Some(("application/json".into(), b"{\"target\": ".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(rows_in(&app, "reports").await, 0);
    assert_eq!(rows_in(&app, "report_targets").await, 0);
    assert_eq!(rows_in(&app, "notifications").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarding_is_offered_and_recorded_for_remote_content_only() {
    let (app, local, _page) = instance().await;
    let remote = remote_post(&app).await;
    let bob = Browser::logged_in(&app, "bob").await;
    let form = bob.get(&format!("/signaler?cible={}", enc(&remote))).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"forward\""));
    assert!(
        crate::helpers::unescape(&form.body)
            .contains("Transmettre aussi le signalement au serveur de ce contenu (anonymement)")
    );
    let form = bob.get(&format!("/signaler?cible={}", enc(&local))).await;
    assert!(!form.body.contains("name=\"forward\""));

    let bearer = token(&app, "bob").await;
    for target in [&local, &remote] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/reports",
            &bearer,
            Some(json!({"target": target, "reason": "spam", "forward": true})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let stored = all_reports(&app).await;
    assert!(
        !stored[0].forward_requested,
        "local content is not forwarded"
    );
    assert!(stored[1].forward_requested);
    let targets = targets_of(&app, stored[1].id).await;
    assert_eq!(targets[0].ap_id, remote);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_survives_the_author_editing_then_deleting_the_post() {
    let (app, ap_id, _page) = instance().await;
    let bob = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bob,
        Some(json!({"target": ap_id, "reason": "illegal"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report_id = r.json()["id"].as_i64().expect("id");
    let alice = token(&app, "alice").await;
    let api_path = format!("/api/v1/posts/{}", ap_id.rsplit('/').next().expect("id"));
    let r = api(
        &app,
        Method::PATCH,
        &api_path,
        &alice,
        Some(json!({"title": "Tout autre chose", "body": "Rien à voir."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api(&app, Method::DELETE, &api_path, &alice, None).await;
    assert!(r.status.is_success(), "{}", r.body);
    let targets = targets_of(&app, report_id).await;
    assert_eq!(targets.len(), 1);
    let snapshot = Snapshot::from_json(&targets[0].snapshot);
    assert_eq!(snapshot.title, "Concert au kiosque");
    assert!(snapshot.html.contains("Entrée libre"));
    assert!(snapshot.author_ap_id.ends_with("/users/alice"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_open_reports_badge_shows_to_moderators_only() {
    let (app, ap_id, _page) = instance().await;
    let bob = token(&app, "bob").await;
    for target in [
        ap_id.clone(),
        format!("{}/users/alice", crate::helpers::LOCAL),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/reports",
            &bob,
            Some(json!({"target": target, "reason": "spam"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let moderator = Browser::logged_in(&app, "mod").await;
    let home = moderator.get("/").await;
    assert!(
        home.body.contains("href=\"/admin/signalements\""),
        "{}",
        home.body
    );
    assert!(
        home.body.contains("Signalements, 2 en attente"),
        "{}",
        home.body
    );
    let admin = Browser::logged_in(&app, "boss").await;
    assert!(
        admin
            .get("/")
            .await
            .body
            .contains("Signalements, 2 en attente")
    );
    let member = Browser::logged_in(&app, "bob").await;
    let home = member.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.body.contains("/admin/signalements"), "{}", home.body);
    // The moderators' notification types are on a moderator's settings page only.
    let settings = member.get("/parametres/notifications").await;
    assert_eq!(settings.status, StatusCode::OK);
    assert!(!settings.body.contains("name=\"report\""));
    let settings = moderator.get("/parametres/notifications").await;
    assert!(
        settings.body.contains("name=\"report\""),
        "{}",
        settings.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_post_announcement_comment_and_profile_page_has_a_signaler_link() {
    let (app, post_ap_id, post_page) = instance().await;
    let alice = token(&app, "alice").await;
    let announcement = create(
        &app,
        &alice,
        "/api/v1/announcements",
        json!({"title": "Audition", "body": "Pour un spectacle.", "kind": "residence"}),
    )
    .await;
    let bob = token(&app, "bob").await;
    let comment = create(
        &app,
        &bob,
        "/api/v1/comments",
        json!({"in_reply_to": post_ap_id, "body": "Quelle bonne idée."}),
    )
    .await;
    let visitor = Browser::new(&app);
    let link = |target: &str| format!("href=\"/signaler?cible={}\"", enc(target));

    let page = visitor.get(&post_page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&link(&post_ap_id)), "{}", page.body);
    let comment_ap_id = comment["ap_id"].as_str().expect("ap_id");
    assert!(page.body.contains(&link(comment_ap_id)), "{}", page.body);

    let page = visitor
        .get(&path_of(announcement["url"].as_str().expect("url")))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let announcement_ap_id = announcement["ap_id"].as_str().expect("ap_id");
    assert!(
        page.body.contains(&link(announcement_ap_id)),
        "{}",
        page.body
    );

    let page = visitor.get("/users/alice").await;
    assert_eq!(page.status, StatusCode::OK);
    let profile = format!("{}/users/alice", crate::helpers::LOCAL);
    assert!(page.body.contains(&link(&profile)), "{}", page.body);

    // Each link opens the form about its own object.
    for target in [&post_ap_id, comment_ap_id, announcement_ap_id, &profile] {
        let form = visitor
            .get(&format!("/signaler?cible={}", enc(target)))
            .await;
        assert_eq!(form.status, StatusCode::OK, "{target}: {}", form.body);
    }
}
