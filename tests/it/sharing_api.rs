//! Sharing (issue 11, item 3) through the API: offers, their announcement (created, updated,
//! deleted with the offer), visibility, loan requests and their rules, notifications and
//! mails of both sides.

use crate::common::TestApp;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use culturecnous::{
    db::{
        self,
        accounts::DbAccount,
        schema::{loan_requests, mails, notifications},
    },
    service::sharing,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

async fn new_app() -> TestApp {
    let app = TestApp::new().await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query("UPDATE accounts SET email_confirmed_at = now()")
        .execute(&mut conn)
        .await
        .expect("confirm");
    app
}

async fn member(app: &TestApp, name: &str) -> (DbAccount, String) {
    let account = app.create_user(name, "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query("UPDATE accounts SET email_confirmed_at = now()")
        .execute(&mut conn)
        .await
        .expect("confirm");
    let account = db::accounts::by_id(&mut conn, account.id)
        .await
        .expect("account");
    let token = token(app, name).await;
    (account, token)
}

fn offer_body() -> Value {
    json!({
        "title": "Console son 16 pistes",
        "description": "Une console **Yamaha** avec ses câbles.",
        "category": "son",
        "terms": "gratuit",
        "terms_details": "Contre un café",
        "commune": "Épinal",
    })
}

async fn new_offer(app: &TestApp, token: &str, body: Value) -> Value {
    create(app, token, "/api/v1/offers", body).await
}

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

async fn ask(
    app: &TestApp,
    token: &str,
    offer: i64,
    from: i64,
    to: i64,
) -> crate::common::TestResponse {
    api(
        app,
        Method::POST,
        &format!("/api/v1/offers/{offer}/requests"),
        token,
        Some(
            json!({"starts_on": day(from), "ends_on": day(to), "message": "Pour notre spectacle"}),
        ),
    )
    .await
}

async fn decide(
    app: &TestApp,
    token: &str,
    loan: i64,
    action: &str,
) -> crate::common::TestResponse {
    api(
        app,
        Method::POST,
        &format!("/api/v1/loan-requests/{loan}/{action}"),
        token,
        Some(json!({"answer": "Avec plaisir"})),
    )
    .await
}

async fn post_of(app: &TestApp, offer_id: i64) -> Option<db::posts::DbPost> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let offer = db::offers::by_id(&mut conn, offer_id)
        .await
        .expect("offer")
        .expect("offer row");
    match offer.post_id {
        Some(id) => Some(post_row(app, id).await),
        None => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_field_is_reported_at_once_and_nothing_is_written() {
    let app = new_app().await;
    let (_alice, token) = member(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/offers",
        &token,
        Some(json!({
            "title": "  ",
            "category": "piano",
            "terms": "cher",
            "commune": "Nullepartville",
            "latitude": 48.17,
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut fields = error_fields(&r);
    fields.sort();
    assert_eq!(
        fields,
        ["category", "commune", "longitude", "terms", "title"],
        "{}",
        r.body
    );
    // A venue the member does not manage is refused too.
    let mut body = offer_body();
    body["venue_id"] = json!(4242);
    let r = api(&app, Method::POST, "/api/v1/offers", &token, Some(body)).await;
    assert_eq!(error_fields(&r), ["venue_id"], "{}", r.body);
    assert_eq!(rows_in(&app, "offers").await, 0);
    assert_eq!(rows_in(&app, "posts").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_offer_federates_as_an_announcement_updated_and_deleted_with_it() {
    let app = new_app().await;
    let (alice, token) = member(&app, "alice").await;
    let (bob, bob_token) = member(&app, "bob").await;
    let alice_actor = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "m1", &alice_actor).await;
    // Bob's alert on loans of equipment hears of it.
    create(
        &app,
        &bob_token,
        "/api/v1/alerts",
        json!({"kind": "pret_materiel", "mail": "instant"}),
    )
    .await;

    let created = new_offer(&app, &token, offer_body()).await;
    let id = created["id"].as_i64().expect("id");
    assert_eq!(
        path_of(created["url"].as_str().expect("url")),
        format!("/mutualisation/{id}")
    );
    let post = post_of(&app, id).await.expect("an announcement");
    assert_eq!(
        path_of(created["post_url"].as_str().expect("post_url")),
        format!("/annonces/{}", post.id)
    );
    assert_eq!(post.title, "Console son 16 pistes");
    assert_eq!(post.kind.as_deref(), Some("pret_materiel"));
    assert_eq!(post.account_id, Some(alice.id));
    assert!(
        post.body_markdown.contains("Yamaha"),
        "{}",
        post.body_markdown
    );
    assert!(
        post.body_markdown.contains("Gratuit — Contre un café"),
        "{}",
        post.body_markdown
    );
    assert!(
        post.body_markdown
            .contains(&format!("{LOCAL}/mutualisation/{id}")),
        "{}",
        post.body_markdown
    );
    let creates = queued(&app, "Create").await;
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0].1, ["http://masto.example/inbox"]);
    assert!(
        creates[0].0["object"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("Console son 16 pistes"))
    );
    // The alert: a notification and an instant mail to Bob.
    let mut conn = app.ctx.conn().await.expect("conn");
    let bob_notes: Vec<(String, Option<i64>)> = notifications::table
        .filter(notifications::account_id.eq(bob.id))
        .select((notifications::kind, notifications::post_id))
        .load(&mut conn)
        .await
        .expect("notifications");
    assert_eq!(bob_notes, [("announcement".to_string(), Some(post.id))]);

    // Editing the offer updates the announcement (Update federates).
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/offers/{id}"),
        &token,
        Some(json!({"title": "Console son 24 pistes"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["title"], "Console son 24 pistes");
    assert_eq!(post_row(&app, post.id).await.title, "Console son 24 pistes");
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1, "{updates:?}");

    // Closing deletes it (Delete federates); reopening publishes a new one.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/offers/{id}"),
        &token,
        Some(json!({"closed": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["closed"], true);
    assert!(post_row(&app, post.id).await.deleted_at.is_some());
    assert!(post_of(&app, id).await.is_none());
    assert_eq!(queued(&app, "Delete").await.len(), 1);
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/offers/{id}"),
        &token,
        Some(json!({"closed": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let again = post_of(&app, id).await.expect("a new announcement");
    assert_ne!(again.id, post.id);

    // Members-only: the announcement goes.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/offers/{id}"),
        &token,
        Some(json!({"public": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(post_row(&app, again.id).await.deleted_at.is_some());
    assert!(post_of(&app, id).await.is_none());

    // Someone else may neither edit nor delete it.
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/offers/{id}"),
        &bob_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/offers/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/offers/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_space_is_announced_as_a_place_to_share() {
    let app = new_app().await;
    let (_alice, token) = member(&app, "alice").await;
    let mut body = offer_body();
    body["category"] = json!("salle");
    body["title"] = json!("Salle de répétition");
    let id = new_offer(&app, &token, body).await["id"]
        .as_i64()
        .expect("id");
    let post = post_of(&app, id).await.expect("announcement");
    assert_eq!(post.kind.as_deref(), Some("mise_a_disposition_lieu"));
}

#[tokio::test(flavor = "multi_thread")]
async fn members_only_offers_are_hidden_from_visitors() {
    let app = new_app().await;
    let (_alice, token) = member(&app, "alice").await;
    let (bob, bob_token) = member(&app, "bob").await;
    let mut body = offer_body();
    body["public"] = json!(false);
    body["title"] = json!("Projecteurs réservés");
    let id = new_offer(&app, &token, body).await["id"]
        .as_i64()
        .expect("id");
    assert!(
        post_of(&app, id).await.is_none(),
        "members-only: no announcement"
    );
    assert_eq!(rows_in(&app, "posts").await, 0);

    assert!(sharing::visible(&app.ctx, None, id).await.is_err());
    assert!(sharing::visible(&app.ctx, Some(&bob), id).await.is_ok());
    let filter = sharing::ListFilter {
        page: 1,
        ..Default::default()
    };
    assert_eq!(
        sharing::list(&app.ctx, None, &filter)
            .await
            .expect("list")
            .total,
        0
    );
    assert_eq!(
        sharing::list(&app.ctx, Some(&bob), &filter)
            .await
            .expect("list")
            .total,
        1
    );
    let r = api(&app, Method::GET, "/api/v1/offers", &bob_token, None).await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);
    // The pages: a visitor finds nothing, a member finds it.
    let page = app.get_html("/mutualisation").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Projecteurs réservés"));
    let page = app.get_html(&format!("/mutualisation/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let browser = Browser::with_session(&app, &bob).await;
    let page = browser.get("/mutualisation").await;
    assert!(page.body.contains("Projecteurs réservés"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_filters_and_sorts_by_distance() {
    let app = new_app().await;
    let (_alice, token) = member(&app, "alice").await;
    let (_bob, bob_token) = member(&app, "bob").await;
    for (title, category, terms, commune) in [
        ("Gradins", "scene", "paid", "Épinal"),
        ("Micros", "son", "free", "Saint-Dié-des-Vosges"),
        ("Enceintes", "son", "exchange", "Gérardmer"),
    ] {
        let mut body = offer_body();
        body["title"] = json!(title);
        body["category"] = json!(category);
        body["terms"] = json!(terms);
        body["commune"] = json!(commune);
        new_offer(&app, &token, body).await;
    }
    let titles = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["title"].as_str().expect("title").to_string())
            .collect()
    };
    let r = api(
        &app,
        Method::GET,
        "/api/v1/offers?category=son",
        &bob_token,
        None,
    )
    .await;
    let mut found = titles(&r.json());
    found.sort();
    assert_eq!(found, ["Enceintes", "Micros"]);
    let r = api(
        &app,
        Method::GET,
        "/api/v1/offers?terms=paid",
        &bob_token,
        None,
    )
    .await;
    assert_eq!(titles(&r.json()), ["Gradins"]);
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/offers?commune={}", enc("Gérardmer")),
        &bob_token,
        None,
    )
    .await;
    assert_eq!(titles(&r.json()), ["Enceintes"]);
    // Near Saint-Dié: Saint-Dié itself, then Gérardmer, then Épinal.
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/offers?near={}", enc("St-Dié-des-Vosges")),
        &bob_token,
        None,
    )
    .await;
    let json = r.json();
    assert_eq!(
        titles(&json),
        ["Micros", "Enceintes", "Gradins"],
        "{}",
        r.body
    );
    let km: Vec<f64> = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["distance_km"].as_f64().expect("km"))
        .collect();
    assert!(km[0] < 1.0 && km[1] > 10.0 && km[2] > km[1], "{km:?}");
    let r = api(
        &app,
        Method::GET,
        "/api/v1/offers?category=piano",
        &bob_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r), ["category"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn loan_requests_follow_the_rules() {
    let app = new_app().await;
    let (_alice, token) = member(&app, "alice").await;
    let (_bob, bob_token) = member(&app, "bob").await;
    let (_carol, carol_token) = member(&app, "carol").await;
    let id = new_offer(&app, &token, offer_body()).await["id"]
        .as_i64()
        .expect("id");

    // In the past; the end before the start; one's own offer.
    let r = ask(&app, &bob_token, id, -1, 2).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), ["starts_on"]);
    let r = ask(&app, &bob_token, id, 5, 3).await;
    assert_eq!(error_fields(&r), ["ends_on"], "{}", r.body);
    let r = ask(&app, &token, id, 5, 6).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = ask(&app, &bob_token, 999_999, 5, 6).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = ask(&app, &bob_token, id, 10, 12).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["state"], "pending");
    let bob_loan = r.json()["id"].as_i64().expect("id");
    let carol_loan = ask(&app, &carol_token, id, 12, 14).await.json()["id"]
        .as_i64()
        .expect("id");

    // Only the owner answers: the requester 403, a stranger 404.
    let (_dan, dan_token) = member(&app, "dan").await;
    assert_eq!(
        decide(&app, &bob_token, bob_loan, "accept").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&app, &dan_token, bob_loan, "accept").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        decide(&app, &dan_token, bob_loan, "cancel").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        decide(&app, &token, bob_loan, "cancel").await.status,
        StatusCode::FORBIDDEN
    );

    let r = decide(&app, &token, bob_loan, "accept").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "accepted");
    assert_eq!(r.json()["answer"], "Avec plaisir");
    assert_eq!(
        decide(&app, &token, bob_loan, "decline").await.status,
        StatusCode::CONFLICT
    );

    // Carol's overlapping request can no longer be accepted; a new one is refused at once,
    // naming the dates taken.
    let r = decide(&app, &token, carol_loan, "accept").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), ["starts_on"]);
    let r = ask(&app, &carol_token, id, 11, 11).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("{} – {}", day(10), day(12)))),
        "{}",
        r.body
    );
    let r = decide(&app, &token, carol_loan, "decline").await;
    assert_eq!(r.json()["state"], "declined");
    // The offer shows the dates taken.
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/offers/{id}"),
        &carol_token,
        None,
    )
    .await;
    assert_eq!(
        r.json()["taken"],
        json!([{"starts_on": day(10), "ends_on": day(12)}])
    );

    // Bob cancels his accepted loan before it starts; the dates are free again.
    let r = decide(&app, &bob_token, bob_loan, "cancel").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "cancelled");
    assert_eq!(
        ask(&app, &carol_token, id, 11, 11).await.status,
        StatusCode::CREATED
    );

    // History: Bob's sent requests, Alice's received ones.
    let r = api(&app, Method::GET, "/api/v1/loan-requests", &bob_token, None).await;
    let json = r.json();
    assert_eq!(json["sent"].as_array().map(Vec::len), Some(1), "{}", r.body);
    assert_eq!(json["sent"][0]["owner"], "alice");
    assert_eq!(json["received"], json!([]));
    let r = api(&app, Method::GET, "/api/v1/loan-requests", &token, None).await;
    assert_eq!(
        r.json()["received"].as_array().map(Vec::len),
        Some(3),
        "{}",
        r.body
    );

    // A closed offer takes no request.
    api(
        &app,
        Method::PATCH,
        &format!("/api/v1/offers/{id}"),
        &token,
        Some(json!({"closed": true})),
    )
    .await;
    assert_eq!(
        ask(&app, &carol_token, id, 20, 21).await.status,
        StatusCode::CONFLICT
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_concurrent_overlapping_accepts_exactly_one_wins() {
    let app = new_app().await;
    let (_alice, token) = member(&app, "alice").await;
    let (_bob, bob_token) = member(&app, "bob").await;
    let (_carol, carol_token) = member(&app, "carol").await;
    let id = new_offer(&app, &token, offer_body()).await["id"]
        .as_i64()
        .expect("id");
    let a = ask(&app, &bob_token, id, 3, 6).await.json()["id"]
        .as_i64()
        .expect("id");
    let b = ask(&app, &carol_token, id, 5, 8).await.json()["id"]
        .as_i64()
        .expect("id");
    let (ra, rb) = tokio::join!(
        decide(&app, &token, a, "accept"),
        decide(&app, &token, b, "accept")
    );
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses[0], 200, "{} / {}", ra.body, rb.body);
    assert!(
        [409, 422].contains(&statuses[1]),
        "{} / {}",
        ra.body,
        rb.body
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let accepted: i64 = loan_requests::table
        .filter(loan_requests::state.eq("accepted"))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(accepted, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn both_sides_are_notified_and_mailed() {
    let app = new_app().await;
    let (alice, token) = member(&app, "alice").await;
    let (bob, bob_token) = member(&app, "bob").await;
    let id = new_offer(&app, &token, offer_body()).await["id"]
        .as_i64()
        .expect("id");
    let loan = ask(&app, &bob_token, id, 2, 3).await.json()["id"]
        .as_i64()
        .expect("id");

    let mut conn = app.ctx.conn().await.expect("conn");
    let to_alice: Vec<(String, Option<i64>, String)> = notifications::table
        .filter(notifications::account_id.eq(alice.id))
        .select((
            notifications::kind,
            notifications::loan_request_id,
            notifications::delivery,
        ))
        .load(&mut conn)
        .await
        .expect("notifications");
    assert_eq!(
        to_alice,
        [(
            "loan_request".to_string(),
            Some(loan),
            "instant".to_string()
        )]
    );
    let mail = latest_mail_to(&app, "alice@example.org").await;
    assert_eq!(
        mail.subject,
        "bob demande à emprunter « Console son 16 pistes »"
    );
    assert!(
        mail.text_body.contains("/mutualisation/demandes"),
        "{}",
        mail.text_body
    );
    // In the centre, through the API.
    let r = api(&app, Method::GET, "/api/v1/notifications", &token, None).await;
    assert_eq!(r.json()["items"][0]["type"], "loan_request", "{}", r.body);
    assert_eq!(
        r.json()["items"][0]["text"],
        "bob demande à emprunter « Console son 16 pistes »"
    );

    decide(&app, &token, loan, "decline").await;
    let to_bob: Vec<(String, Option<i64>)> = notifications::table
        .filter(notifications::account_id.eq(bob.id))
        .select((notifications::kind, notifications::loan_request_id))
        .load(&mut conn)
        .await
        .expect("notifications");
    assert_eq!(to_bob, [("loan_answer".to_string(), Some(loan))]);
    let mail = latest_mail_to(&app, "bob@example.org").await;
    assert_eq!(
        mail.subject,
        "alice a refusé votre demande de prêt pour « Console son 16 pistes »"
    );
    let loan2 = ask(&app, &bob_token, id, 4, 5).await.json()["id"]
        .as_i64()
        .expect("id");
    decide(&app, &token, loan2, "accept").await;
    let mail = latest_mail_to(&app, "bob@example.org").await;
    assert_eq!(
        mail.subject,
        "alice a accepté votre demande de prêt pour « Console son 16 pistes »"
    );
    let count: i64 = mails::table
        .filter(mails::to_address.eq("bob@example.org"))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(count, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn photos_are_added_with_their_alt_text_and_removed() {
    let app = new_app().await;
    let (_alice, token) = member(&app, "alice").await;
    let (_bob, bob_token) = member(&app, "bob").await;
    let id = new_offer(&app, &token, offer_body()).await["id"]
        .as_i64()
        .expect("id");
    let png = b"\x89PNG\r\n\x1a\n0000000000000000".to_vec();
    let uri = format!("/api/v1/offers/{id}/photos");
    let send = async |token: &str, alt: &str, bytes: Vec<u8>| {
        let body = multipart(vec![
            Part::png("file", "a.png", bytes),
            Part::text("alt", alt),
        ]);
        call(&app, Method::POST, &uri, Some(token), Some(body)).await
    };
    let r = send(&token, "", b"not an image".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut fields = error_fields(&r);
    fields.sort();
    assert_eq!(fields, ["alt", "file"]);
    assert_eq!(
        send(&bob_token, "Console", png.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let r = send(&token, "La console vue de face", png).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let photo = r.json()["id"].as_i64().expect("id");
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/offers/{id}"),
        &bob_token,
        None,
    )
    .await;
    assert_eq!(
        r.json()["photos"][0]["alt"],
        "La console vue de face",
        "{}",
        r.body
    );
    let url = r.json()["photos"][0]["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert_eq!(app.get_html(&path_of(&url)).await.status, StatusCode::OK);
    // The venues' photo route shares the folder but never serves an offer's photo (it
    // would bypass the offer's visibility).
    let file = url.rsplit('/').next().expect("file name");
    assert_eq!(
        app.get_html(&format!("/media/photos/{file}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/offers/{id}/photos/{photo}"),
        &token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        app.get_html(&path_of(&url)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(rows_in(&app, "photos").await, 0);
}
