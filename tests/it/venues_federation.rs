//! Venues as ActivityPub actors: the `Organization` document with its `Place`, WebFinger,
//! follows accepted with the managers told, `Update` on edit, `Delete` on deletion.

use crate::{
    common::TestApp,
    federation_inbox::{deliver, remote_actor},
    helpers::{api, create, queued, remote_follower, token},
};
use axum::http::{Method, StatusCode};
use culturecnous::{
    db::{self, schema::notifications},
    federation::objects::{person::Person, venue::is_venue_document},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

const AP: &str = "application/activity+json";
const VENUE: &str = "http://localhost:8080/venues/theatre-du-peuple";

async fn setup(app: &TestApp) -> (String, i64) {
    app.create_user("alice", "member").await;
    let t = token(app, "alice").await;
    let created = create(
        app,
        &t,
        "/api/v1/venues",
        json!({
            "name": "Théâtre du Peuple",
            "commune": "Bussang",
            "postal_code": "88540",
            "address": "40 rue du Théâtre",
            "latitude": 47.886, "longitude": 6.853,
            "capacity": 800,
            "step_free_access": true,
            "description": "Un théâtre en bois, *ouvert sur la forêt*.",
        }),
    )
    .await;
    assert_eq!(created["ap_id"], VENUE);
    (t, created["id"].as_i64().expect("id"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_venue_is_an_organization_with_a_place_found_by_webfinger() {
    let app = TestApp::new().await;
    setup(&app).await;
    let r = app.get("/venues/theatre-du-peuple", AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("vary"), Some("Accept"));
    let doc = r.json();
    assert_eq!(doc["type"], "Organization");
    assert_eq!(doc["id"], VENUE);
    assert_eq!(doc["preferredUsername"], "theatre-du-peuple");
    assert_eq!(doc["inbox"], format!("{VENUE}/inbox"));
    assert_eq!(doc["outbox"], format!("{VENUE}/outbox"));
    assert_eq!(doc["followers"], format!("{VENUE}/followers"));
    assert_eq!(
        doc["endpoints"]["sharedInbox"],
        "http://localhost:8080/inbox"
    );
    assert_eq!(doc["publicKey"]["owner"], VENUE);
    assert!(
        doc["summary"]
            .as_str()
            .expect("summary")
            .contains("<em>ouvert sur la forêt</em>")
    );
    let place = &doc["location"];
    assert_eq!(place["type"], "Place");
    assert_eq!(place["name"], "Théâtre du Peuple");
    assert_eq!(place["latitude"], 47.886);
    assert_eq!(place["longitude"], 6.853);
    assert_eq!(place["address"]["type"], "PostalAddress");
    assert_eq!(place["address"]["streetAddress"], "40 rue du Théâtre");
    assert_eq!(place["address"]["postalCode"], "88540");
    assert_eq!(place["address"]["addressLocality"], "Bussang");
    let fields = doc["attachment"].as_array().expect("attachment");
    assert!(fields.iter().all(|f| f["type"] == "PropertyValue"));
    assert!(
        fields
            .iter()
            .any(|f| f["name"] == "Jauge" && f["value"] == "800 personnes"),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|f| f["value"].as_str().is_some_and(|v| v.contains("Accès PMR")))
    );
    // It parses back as an actor, as another server of ours reads it.
    let person: Person = serde_json::from_value(doc.clone()).expect("parse back");
    assert!(is_venue_document(&person));
    assert_eq!(
        person.location.as_ref().and_then(|p| p.latitude),
        Some(47.886)
    );
    let row = person.into_new_remote_actor().expect("row");
    assert_eq!(row.kind, "Organization");
    assert_eq!(row.name, "Théâtre du Peuple");
    // Browsers get the page.
    let page = app.get_html("/venues/theatre-du-peuple").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("@theatre-du-peuple@localhost:8080"));
    // WebFinger, by handle and by URL.
    for resource in ["acct:theatre-du-peuple@localhost:8080", VENUE] {
        let r = app
            .get(
                &format!("/.well-known/webfinger?resource={resource}"),
                "application/jrd+json",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{resource}: {}", r.body);
        let jrd = r.json();
        assert_eq!(jrd["subject"], "acct:theatre-du-peuple@localhost:8080");
        assert!(
            jrd["links"]
                .as_array()
                .expect("links")
                .iter()
                .any(|l| l["rel"] == "self" && l["href"] == VENUE),
            "{jrd}"
        );
    }
    // Its username is no member's: `/users/{slug}` leads to the venue's page, and serves no
    // second document.
    let r = app.get_html("/users/theatre-du-peuple").await;
    assert_eq!(r.header("location"), Some("/venues/theatre-du-peuple"));
    assert_eq!(
        app.get("/users/theatre-du-peuple", AP).await.status,
        StatusCode::NOT_FOUND
    );
    // Unknown venues: 404 everywhere.
    assert_eq!(
        app.get("/venues/nulle-part", AP).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_html("/venues/nulle-part").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_follow_is_accepted_and_the_managers_are_told() {
    let app = TestApp::new().await;
    let (t, id) = setup(&app).await;
    app.create_user("bob", "member").await;
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/venues/{id}/managers"),
        &t,
        Some(json!({"username": "bob"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let carol = remote_actor(&app, "http://remote.example:1234", "carol", 0).await;
    let follow = json!({
        "id": "http://remote.example:1234/activities/follow-venue",
        "type": "Follow", "actor": carol.id(), "object": VENUE,
    });
    assert_eq!(deliver(&app, &carol, &follow).await, StatusCode::ACCEPTED);
    let accepts = queued(&app, "Accept").await;
    assert_eq!(accepts.len(), 1);
    assert_eq!(accepts[0].0["actor"], VENUE);
    assert_eq!(accepts[0].0["object"]["id"], follow["id"]);
    assert_eq!(
        accepts[0].1,
        vec!["http://remote.example:1234/users/carol/inbox".to_string()]
    );
    // Both managers are told, the venue named.
    let mut conn = app.ctx.conn().await.expect("conn");
    let rows: Vec<(String, Option<i64>)> = notifications::table
        .filter(notifications::actor_id.eq(carol.actor.id))
        .select((notifications::kind, notifications::venue_id))
        .load(&mut conn)
        .await
        .expect("notifications");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().all(|(k, v)| k == "follow" && *v == Some(id)),
        "{rows:?}"
    );
    let listed = api(&app, Method::GET, "/api/v1/notifications", &t, None)
        .await
        .json();
    let text = listed["items"][0]["text"]
        .as_str()
        .expect("text")
        .to_string();
    assert!(text.contains("Théâtre du Peuple"), "{listed}");
    // The followers collection counts and lists it.
    let followers = app
        .get("/venues/theatre-du-peuple/followers?page=1", AP)
        .await;
    assert_eq!(followers.status, StatusCode::OK, "{}", followers.body);
    assert_eq!(followers.json()["totalItems"], 1);
    assert_eq!(followers.json()["orderedItems"][0], carol.id());
    // The venue's own inbox takes activities too; an unknown venue's is 404.
    let r = app
        .send(
            axum::http::Request::post("/venues/nulle-part/inbox")
                .header("content-type", AP)
                .body(axum::body::Body::from("{}"))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn editing_sends_an_update_and_deleting_a_delete_to_followers() {
    let app = TestApp::new().await;
    let (t, id) = setup(&app).await;
    let actor = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::actors::by_ap_id(&mut conn, VENUE)
            .await
            .expect("query")
            .expect("actor")
    };
    remote_follower(&app, "remote.example", "dora", &actor).await;
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/venues/{id}"),
        &t,
        Some(json!({"name": "Théâtre du Peuple – Maurice Pottecher", "capacity": 900})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    let (update, inboxes) = &updates[0];
    assert_eq!(update["actor"], VENUE);
    assert_eq!(update["object"]["type"], "Organization");
    assert_eq!(
        update["object"]["name"],
        "Théâtre du Peuple – Maurice Pottecher"
    );
    assert_eq!(
        update["object"]["location"]["name"],
        "Théâtre du Peuple – Maurice Pottecher"
    );
    assert_eq!(inboxes, &vec!["http://remote.example/inbox".to_string()]);
    // A refused edit federates nothing.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/venues/{id}"),
        &t,
        Some(json!({"commune": "Atlantide"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(queued(&app, "Update").await.len(), 1);
    // Deleting: a Delete of the actor to its followers; WebFinger forgets it.
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/venues/{id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let deletes = queued(&app, "Delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].0["object"], VENUE);
    assert_eq!(
        deletes[0].1,
        vec!["http://remote.example/inbox".to_string()]
    );
    let r = app
        .get(
            "/.well-known/webfinger?resource=acct:theatre-du-peuple@localhost:8080",
            "application/jrd+json",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manager_publishes_a_residency_call_as_the_venue() {
    let app = TestApp::new().await;
    let (t, _) = setup(&app).await;
    app.create_user("bob", "member").await;
    let actor = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::actors::by_ap_id(&mut conn, VENUE)
            .await
            .expect("query")
            .expect("actor")
    };
    remote_follower(&app, "remote.example", "dora", &actor).await;
    let call = json!({
        "title": "Appel à résidence 2027",
        "body": "Deux semaines au plateau, logement compris.",
        "kind": "residence",
        "as_venue": "theatre-du-peuple",
    });
    // Someone who does not manage it may not.
    let tb = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &tb,
        Some(call.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(crate::helpers::error_fields(&r), vec!["as_venue"]);
    let mut with_page = call.clone();
    with_page["as_page"] = json!(true);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &t,
        Some(with_page),
    )
    .await;
    assert_eq!(crate::helpers::error_fields(&r), vec!["as_venue"]);
    assert!(queued(&app, "Create").await.is_empty());
    let created = create(&app, &t, "/api/v1/announcements", call).await;
    let creates = queued(&app, "Create").await;
    assert_eq!(creates.len(), 1);
    let (create_activity, inboxes) = &creates[0];
    assert_eq!(create_activity["actor"], VENUE);
    assert_eq!(create_activity["object"]["attributedTo"], VENUE);
    assert_eq!(create_activity["object"]["id"], created["ap_id"]);
    assert!(
        inboxes.contains(&"http://remote.example/inbox".to_string()),
        "{inboxes:?}"
    );
    // The member who published still edits it; the venue's page lists it.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/announcements/{}", created["id"]),
        &t,
        Some(json!({"title": "Appel à résidence 2027 (prolongé)"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = app.get_html("/venues/theatre-du-peuple").await;
    assert!(
        page.body.contains("Appel à résidence 2027 (prolongé)"),
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reported_venue_is_hidden_then_deleted_by_a_moderator() {
    let app = TestApp::new().await;
    let (_, id) = setup(&app).await;
    app.create_user("bob", "member").await;
    app.create_user("modo", "moderator").await;
    let (tb, tm) = (token(&app, "bob").await, token(&app, "modo").await);
    let report = |who: String| {
        let app = &app;
        async move {
            let r = api(
                app,
                Method::POST,
                "/api/v1/reports",
                &who,
                Some(json!({"target": VENUE, "reason": "spam", "comment": "Faux lieu."})),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.json()["id"].as_i64().expect("id")
        }
    };
    let first = report(tb.clone()).await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        let targets: Vec<(String, Option<i64>, Option<i64>, serde_json::Value)> =
            culturecnous::db::schema::report_targets::table
                .filter(culturecnous::db::schema::report_targets::report_id.eq(first))
                .select((
                    culturecnous::db::schema::report_targets::kind,
                    culturecnous::db::schema::report_targets::venue_id,
                    culturecnous::db::schema::report_targets::actor_id,
                    culturecnous::db::schema::report_targets::snapshot,
                ))
                .load(&mut conn)
                .await
                .expect("targets");
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].0, "venue");
        assert_eq!(targets[0].1, Some(id));
        assert!(targets[0].2.is_some());
        assert_eq!(targets[0].3["title"], "Théâtre du Peuple");
    }
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/admin/reports/{first}/resolve"),
        &tm,
        Some(json!({"action": "hide"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.get_html("/venues/theatre-du-peuple").await.status,
        StatusCode::NOT_FOUND
    );
    let listed = api(&app, Method::GET, "/api/v1/venues", &tb, None)
        .await
        .json();
    assert_eq!(listed["total"], 0);
    // Then deleted: a Delete of its actor, and it is gone.
    let second = report(tb).await;
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/admin/reports/{second}/resolve"),
        &tm,
        Some(json!({"action": "delete"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.get("/venues/theatre-du-peuple", AP).await.status,
        StatusCode::GONE
    );
    let deletes = queued(&app, "Delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].0["object"], VENUE);
}
