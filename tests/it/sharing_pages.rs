//! Sharing (issue 11, item 3) through the pages: publishing an offer by its form (every
//! field error at once), the offer page and its loan form, the history with its buttons,
//! the nav link; and the moderation of offers (report, hide, delete).

use crate::common::TestApp;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use culturecnous::db;
use serde_json::json;

async fn new_app() -> TestApp {
    let app = TestApp::new().await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    app
}

async fn confirm_everyone(app: &TestApp) {
    use diesel_async::RunQueryDsl;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query("UPDATE accounts SET email_confirmed_at = now()")
        .execute(&mut conn)
        .await
        .expect("confirm");
}

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// A browser with a session of `username` and its CSRF token.
async fn session<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let account = db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account");
    Browser::with_session(app, &account).await
}

/// The id in a `/mutualisation/{id}` redirect.
fn offer_id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/mutualisation/")
        .parse()
        .unwrap_or_else(|_| panic!("not an offer page: {location}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offer_is_published_by_its_form_and_asked_for_from_its_page() {
    let app = new_app().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    confirm_everyone(&app).await;
    let alice = session(&app, "alice").await;

    // The nav links to the list, which links to the form.
    let home = alice.get("/mutualisation").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body
            .contains(r#"<a href="/mutualisation" aria-current="page">Mutualisation</a>"#),
        "{}",
        home.body
    );
    assert!(home.body.contains("/mutualisation/nouvelle"));

    // Every field error at once, values kept.
    let r = alice
        .submit_form(
            "/mutualisation/nouvelle",
            &[
                ("title", ""),
                ("category", "piano"),
                ("terms", "free"),
                ("commune", ""),
                ("latitude", "48,1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for field in ["title", "category", "commune", "longitude"] {
        assert!(
            r.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field}: {}",
            r.body
        );
    }
    assert_eq!(rows_in(&app, "offers").await, 0);

    let r = alice
        .submit_form(
            "/mutualisation/nouvelle",
            &[
                ("title", "Praticables de scène"),
                ("description", "Six praticables *Samia*."),
                ("category", "scene"),
                ("terms", "exchange"),
                ("terms_details", "Un coup de main au montage"),
                ("commune", "Remiremont"),
                ("public", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.header("location").expect("location").to_string();
    let id = offer_id_in(&location);
    let page = alice.get(&location).await;
    assert!(page.body.contains("Praticables de scène"));
    assert!(page.body.contains("<em>Samia</em>"), "{}", page.body);
    assert!(
        page.body.contains("Échange — Un coup de main au montage"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("/mutualisation/{id}/modifier")));
    let offer = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::offers::by_id(&mut conn, id)
            .await
            .expect("q")
            .expect("offer")
    };
    assert!(offer.post_id.is_some(), "public: an announcement");

    // A visitor sees the page, with the report link and no loan form.
    let visitor = app.get_html(&location).await;
    assert_eq!(visitor.status, StatusCode::OK);
    assert!(visitor.body.contains("/signaler?"), "{}", visitor.body);
    assert!(!visitor.body.contains("/demander\""));

    // Bob asks: in the past first (the page again, the field named), then right.
    let bob = session(&app, "bob").await;
    let page = bob.get(&location).await;
    assert!(page.body.contains("Demander un prêt"), "{}", page.body);
    let r = bob
        .submit_form(
            &format!("/mutualisation/{id}/demander"),
            &[
                ("starts_on", &day(-3)),
                ("ends_on", &day(2)),
                ("message", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"f-starts_on-error\""), "{}", r.body);
    let r = bob
        .submit_form(
            &format!("/mutualisation/{id}/demander"),
            &[
                ("starts_on", &day(3)),
                ("ends_on", &day(4)),
                ("message", "Pour le festival"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some("/mutualisation/demandes"));
    let history = bob.get("/mutualisation/demandes").await;
    assert!(history.body.contains("Praticables de scène"));
    assert!(history.body.contains("En attente"));
    assert!(history.body.contains("/annuler"), "{}", history.body);

    // Alice accepts from her history; the dates show as taken on the offer page.
    let history = alice.get("/mutualisation/demandes").await;
    assert!(
        history.body.contains("Pour le festival"),
        "{}",
        history.body
    );
    let loan_id = {
        use culturecnous::db::schema::loan_requests;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let mut conn = app.ctx.conn().await.expect("conn");
        loan_requests::table
            .select(loan_requests::id)
            .first::<i64>(&mut conn)
            .await
            .expect("loan")
    };
    // Bob cannot accept his own request.
    let r = bob
        .submit_form(
            &format!("/mutualisation/demandes/{loan_id}/accepter"),
            &[("answer", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = alice
        .submit_form(
            &format!("/mutualisation/demandes/{loan_id}/accepter"),
            &[("answer", "Rendez-vous au hangar")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let history = bob.get("/mutualisation/demandes").await;
    assert!(history.body.contains("Acceptée"));
    assert!(history.body.contains("Rendez-vous au hangar"));
    let page = bob.get(&location).await;
    assert!(
        page.body
            .contains(&format!("<time datetime=\"{}\">", day(3))),
        "{}",
        page.body
    );

    // Alice closes it: no loan form any more; the list hides it unless asked.
    let r = alice
        .submit_form(&format!("/mutualisation/{id}/etat/clore"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!bob.get(&location).await.body.contains("Demander un prêt"));
    assert!(!bob.get("/mutualisation").await.body.contains("Praticables"));
    assert!(
        bob.get("/mutualisation?closed=on")
            .await
            .body
            .contains("Praticables")
    );
    // English through the language setting.
    let english = bob.get("/mutualisation/demandes").await;
    assert_eq!(english.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offer_photo_needs_its_alt_text() {
    let app = new_app().await;
    app.create_user("alice", "member").await;
    confirm_everyone(&app).await;
    let alice = session(&app, "alice").await;
    let r = alice
        .submit_form(
            "/mutualisation/nouvelle",
            &[
                ("title", "Costumes"),
                ("category", "costumes"),
                ("terms", "free"),
                ("commune", "Épinal"),
                ("public", "on"),
            ],
        )
        .await;
    let id = offer_id_in(r.header("location").expect("location"));
    let png = b"\x89PNG\r\n\x1a\n0000000000000000".to_vec();
    let r = alice
        .submit_multipart(
            &format!("/mutualisation/{id}/photos"),
            vec![
                Part::png("photo", "a.png", png.clone()),
                Part::text("photo_alt", " "),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"f-photo_alt-error\""), "{}", r.body);
    let r = alice
        .submit_multipart(
            &format!("/mutualisation/{id}/photos"),
            vec![
                Part::png("photo", "a.png", png),
                Part::text("photo_alt", "Robes du XIXe siècle"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get_html(&format!("/mutualisation/{id}")).await;
    assert!(
        page.body.contains("alt=\"Robes du XIXe siècle\""),
        "{}",
        page.body
    );
    let start = page.body.find("/mutualisation/photos/").expect("photo url");
    let end = start + page.body[start..].find('"').expect("end");
    let photo = app.get_html(&page.body[start..end]).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.header("content-type"), Some("image/png"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reported_offer_is_hidden_then_deleted_by_a_moderator() {
    let app = new_app().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("modo", "moderator").await;
    confirm_everyone(&app).await;
    let alice = token(&app, "alice").await;
    let bob = token(&app, "bob").await;
    let modo = token(&app, "modo").await;
    let created = create(
        &app,
        &alice,
        "/api/v1/offers",
        json!({"title": "Camion 20 m3", "category": "vehicule", "terms": "paid", "commune": "Épinal"}),
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let page = created["url"].as_str().expect("url").to_string();

    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &bob,
        Some(json!({"target": page, "reason": "spam", "comment": "Arnaque"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json()["id"].as_i64().expect("id");
    {
        use culturecnous::db::schema::report_targets;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let mut conn = app.ctx.conn().await.expect("conn");
        let (kind, offer_id): (String, Option<i64>) = report_targets::table
            .filter(report_targets::report_id.eq(report))
            .select((report_targets::kind, report_targets::offer_id))
            .first(&mut conn)
            .await
            .expect("target");
        assert_eq!((kind.as_str(), offer_id), ("offer", Some(id)));
    }
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/admin/reports/{report}/resolve"),
        &modo,
        Some(json!({"action": "hide"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let offer = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::offers::by_id(&mut conn, id)
            .await
            .expect("q")
            .expect("offer")
    };
    assert!(offer.hidden_at.is_some());
    let post = post_row(&app, offer.post_id.expect("announcement")).await;
    assert!(post.hidden_at.is_some(), "its announcement is hidden too");
    // Others find nothing; the owner sees it with the notice.
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/offers/{id}"),
        &bob,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_html(&format!("/mutualisation/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = api(&app, Method::GET, "/api/v1/offers", &bob, None).await;
    assert_eq!(r.json()["total"], 0);
    let owner = session(&app, "alice").await;
    let own = owner.get(&format!("/mutualisation/{id}")).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.contains("masquée par la modération"),
        "{}",
        own.body
    );

    // A second report, resolved by deletion: the announcement's Delete federates.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &modo,
        Some(json!({"target": page, "reason": "spam"})),
    )
    .await;
    let report = r.json()["id"].as_i64().expect("id");
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/admin/reports/{report}/resolve"),
        &modo,
        Some(json!({"action": "delete"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(post_row(&app, post.id).await.deleted_at.is_some());
    assert_eq!(queued(&app, "Delete").await.len(), 1);
    assert_eq!(
        owner.get(&format!("/mutualisation/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}
