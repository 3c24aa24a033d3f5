//! Venues through the API and the pages: fields and their rules, slugs, managers' rights,
//! hidden and deleted venues, the list with its filters and distances, photos.

use crate::{
    common::TestApp,
    covers_mentions::png,
    helpers::{
        Browser, Part, api, call, create, csrf_in, enc, error_fields, multipart, path_of, rows_in,
        token,
    },
};
use axum::http::{Method, StatusCode};
use culturecnous::db;
use serde_json::{Value, json};

async fn venue(app: &TestApp, token: &str, body: Value) -> Value {
    create(app, token, "/api/v1/venues", body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_venue_gets_its_actor_and_a_free_slug() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    // A member already holds the username the next venue's name gives.
    app.create_user("galerie", "member").await;
    let t = token(&app, "alice").await;
    let first = venue(
        &app,
        &t,
        json!({"name": "Théâtre de la Rose", "commune": "Épinal", "postal_code": "88000",
               "description": "Une **belle** salle <script>x()</script>", "capacity": 120,
               "disciplines": ["théâtre", "Theatre", "danse"]}),
    )
    .await;
    assert_eq!(
        first["ap_id"],
        "http://localhost:8080/venues/theatre-de-la-rose"
    );
    assert_eq!(first["url"], first["ap_id"]);
    assert_eq!(first["handle"], "theatre-de-la-rose@localhost:8080");
    let again = venue(
        &app,
        &t,
        json!({"name": "Théâtre de la Rose", "commune": "88160"}),
    )
    .await;
    assert_eq!(
        again["ap_id"],
        "http://localhost:8080/venues/theatre-de-la-rose-2"
    );
    let hall = venue(&app, &t, json!({"name": "Galerie", "commune": "Gérardmer"})).await;
    assert_eq!(hall["ap_id"], "http://localhost:8080/venues/galerie-2");

    let id = first["id"].as_i64().expect("id");
    let r = api(&app, Method::GET, &format!("/api/v1/venues/{id}"), &t, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = r.json();
    assert_eq!(d["commune_code"], "88160");
    assert_eq!(d["owner"], "alice");
    assert_eq!(d["is_manager"], true);
    // Disciplines deduplicated without case or accents; Markdown sanitised.
    assert_eq!(d["disciplines"], json!(["théâtre", "danse"]));
    let html = d["description_html"].as_str().expect("html");
    assert!(html.contains("<strong>belle</strong>"), "{html}");
    assert!(!html.contains("script"), "{html}");

    // The actor row: an Organization whose username is the slug.
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::local_by_username(&mut conn, "theatre-de-la-rose")
        .await
        .expect("query")
        .expect("actor");
    assert_eq!(actor.kind, "Organization");
    assert_eq!(actor.name, "Théâtre de la Rose");
    assert_eq!(
        actor.inbox_url,
        "http://localhost:8080/venues/theatre-de-la-rose/inbox"
    );
    assert!(actor.private_key_pem.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_broken_rule_is_named_at_once_and_nothing_is_written() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;
    let venues_before = rows_in(&app, "venues").await;
    let actors_before = rows_in(&app, "actors").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/venues",
        &t,
        Some(json!({
            "name": "  ",
            "commune": "Épinal",
            "postal_code": "88400",
            "latitude": 48.1,
            "capacity": -3,
            "contact_email": "pas-un-mail",
            "contact_phone": "appelez-moi",
            "website": "javascript:alert(1)",
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut fields = error_fields(&r);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "capacity",
            "contact_email",
            "contact_phone",
            "longitude",
            "name",
            "postal_code",
            "website"
        ]
    );
    let r = api(
        &app,
        Method::POST,
        "/api/v1/venues",
        &t,
        Some(json!({"name": "Lieu", "commune": "Nullepart-sur-Rien", "latitude": 91.0, "longitude": 6.0})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut fields = error_fields(&r);
    fields.sort();
    assert_eq!(fields, vec!["commune", "latitude"]);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/venues",
        &t,
        Some(json!({"name": "Lieu"})),
    )
    .await;
    assert_eq!(error_fields(&r), vec!["commune"]);
    // A value of the wrong JSON type is named too.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/venues",
        &t,
        Some(json!({"name": "Lieu", "commune": "Épinal", "capacity": "beaucoup"})),
    )
    .await;
    assert_eq!(error_fields(&r), vec!["capacity"]);
    assert_eq!(rows_in(&app, "venues").await, venues_before);
    assert_eq!(rows_in(&app, "actors").await, actors_before);
    // Without a token: 401.
    let r = call(&app, Method::POST, "/api/v1/venues", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_managers_edit_and_only_the_owner_names_managers() {
    let app = TestApp::new().await;
    for u in ["alice", "bob", "carol"] {
        app.create_user(u, "member").await;
    }
    let (ta, tb, tc) = (
        token(&app, "alice").await,
        token(&app, "bob").await,
        token(&app, "carol").await,
    );
    let id = venue(&app, &ta, json!({"name": "La Forge", "commune": "Épinal"})).await["id"]
        .as_i64()
        .expect("id");
    let uri = format!("/api/v1/venues/{id}");
    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &tb,
        Some(json!({"name": "Pris"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api(&app, Method::DELETE, &uri, &tb, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The owner adds bob; an unknown member is a field error.
    let managers = format!("{uri}/managers");
    let r = api(
        &app,
        Method::POST,
        &managers,
        &ta,
        Some(json!({"username": "nobody"})),
    )
    .await;
    assert_eq!(error_fields(&r), vec!["username"]);
    let r = api(
        &app,
        Method::POST,
        &managers,
        &ta,
        Some(json!({"username": "bob"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // A manager edits, but does not name managers.
    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &tb,
        Some(json!({"name": "La Forge nouvelle", "capacity": 80, "latitude": 48.17, "longitude": 6.45})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["name"], "La Forge nouvelle");
    assert_eq!(r.json()["capacity"], 80);
    // The slug (and so the actor id) does not follow the name.
    assert!(
        r.json()["ap_id"]
            .as_str()
            .expect("ap_id")
            .ends_with("/venues/la-forge")
    );
    let r = api(
        &app,
        Method::POST,
        &managers,
        &tb,
        Some(json!({"username": "carol"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // `null` clears a value; absent fields keep theirs.
    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &ta,
        Some(json!({"capacity": null})),
    )
    .await;
    assert_eq!(r.json()["capacity"], Value::Null);
    assert_eq!(r.json()["latitude"], 48.17);
    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &ta,
        Some(json!({"latitude": null})),
    )
    .await;
    assert_eq!(error_fields(&r), vec!["latitude"]);
    // The owner removes bob, who may then no longer edit.
    let r = api(&app, Method::DELETE, &format!("{managers}/bob"), &ta, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(&app, Method::PATCH, &uri, &tb, Some(json!({"name": "x"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Deleting: carol may not, alice may; then it is gone for everyone.
    let r = api(&app, Method::DELETE, &uri, &tc, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(&app, Method::DELETE, &uri, &ta, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(&app, Method::GET, &uri, &ta, None).await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = app.get_html("/venues/la-forge").await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = app
        .get("/venues/la-forge", "application/activity+json")
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = api(&app, Method::PATCH, &uri, &ta, Some(json!({"name": "x"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Its slug is never given again.
    let again = venue(&app, &ta, json!({"name": "La Forge", "commune": "Épinal"})).await;
    assert!(
        again["ap_id"]
            .as_str()
            .expect("ap_id")
            .ends_with("/venues/la-forge-2")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hidden_venue_exists_only_for_its_managers() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let (ta, tb) = (token(&app, "alice").await, token(&app, "bob").await);
    let id = venue(&app, &ta, json!({"name": "Le Hangar", "commune": "Épinal"})).await["id"]
        .as_i64()
        .expect("id");
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::venues::set_hidden(&mut conn, id, Some(chrono::Utc::now()))
            .await
            .expect("hide");
    }
    let uri = format!("/api/v1/venues/{id}");
    assert_eq!(
        api(&app, Method::GET, &uri, &tb, None).await.status,
        StatusCode::NOT_FOUND
    );
    let r = api(&app, Method::GET, &uri, &ta, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["hidden"], true);
    assert_eq!(
        app.get_html("/venues/le-hangar").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/venues/le-hangar", "application/activity+json")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .get(
            "/.well-known/webfinger?resource=acct:le-hangar@localhost:8080",
            "application/jrd+json",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = api(&app, Method::GET, "/api/v1/venues", &tb, None)
        .await
        .json();
    assert_eq!(list["total"], 0);
    // Its managers see it, with the notice.
    let alice = Browser::logged_in(&app, "alice").await;
    let r = alice.get("/venues/le-hangar").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("masqué par la modération"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_filters_and_sorts_by_distance() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;
    venue(
        &app,
        &t,
        json!({"name": "Scène de Saint-Dié", "commune": "Saint-Dié-des-Vosges",
                           "capacity": 400, "step_free_access": true, "disciplines": ["Musique"]}),
    )
    .await;
    venue(
        &app,
        &t,
        json!({"name": "Atelier d'Épinal", "commune": "Épinal", "capacity": 30,
                           "hearing_loop": true}),
    )
    .await;
    venue(
        &app,
        &t,
        json!({"name": "Chalet de Gérardmer", "commune": "Gérardmer",
                           "latitude": 48.07, "longitude": 6.88, "step_free_access": true}),
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["name"].as_str().expect("name").to_string())
            .collect()
    };
    let all = api(&app, Method::GET, "/api/v1/venues", &t, None)
        .await
        .json();
    assert_eq!(all["total"], 3);
    // By name without `near`.
    assert_eq!(names(&all)[0], "Atelier d'Épinal");
    let near = api(
        &app,
        Method::GET,
        &format!("/api/v1/venues?near={}", enc("Épinal")),
        &t,
        None,
    )
    .await
    .json();
    assert_eq!(
        names(&near),
        vec![
            "Atelier d'Épinal",
            "Chalet de Gérardmer",
            "Scène de Saint-Dié"
        ]
    );
    let d = near["items"][2]["distance_km"].as_f64().expect("km");
    assert!((35.0..50.0).contains(&d), "{d}");
    let r = api(
        &app,
        Method::GET,
        "/api/v1/venues?step_free_access=true&min_capacity=100",
        &t,
        None,
    )
    .await
    .json();
    assert_eq!(names(&r), vec!["Scène de Saint-Dié"]);
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/venues?discipline={}", enc("musique")),
        &t,
        None,
    )
    .await
    .json();
    assert_eq!(names(&r), vec!["Scène de Saint-Dié"]);
    let r = api(
        &app,
        Method::GET,
        "/api/v1/venues?hearing_loop=true&commune=88160",
        &t,
        None,
    )
    .await
    .json();
    assert_eq!(names(&r), vec!["Atelier d'Épinal"]);
    let r = api(&app, Method::GET, "/api/v1/venues?near=Atlantide", &t, None).await;
    assert_eq!(error_fields(&r), vec!["near"]);
    // The page: distances in km, the add button for members only.
    let page = app
        .get_html(&format!("/lieux?near={}", enc("Épinal")))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(" km"), "{}", page.body);
    assert!(!page.body.contains("/lieux/nouveau"));
    let page = app.get_html("/lieux?min_capacity=abc").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let alice = Browser::logged_in(&app, "alice").await;
    assert!(alice.get("/lieux").await.body.contains("/lieux/nouveau"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_form_creates_a_venue_and_reports_errors_by_field() {
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    let alice = Browser::with_session(&app, &account).await;
    assert_eq!(
        app.get_html("/lieux/nouveau").await.status,
        StatusCode::SEE_OTHER
    );
    let r = alice
        .submit_form(
            "/lieux/nouveau",
            &[
                ("name", "Grange"),
                ("commune", "Épinal"),
                ("latitude", "abc"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("f-latitude-error"), "{}", r.body);
    assert!(r.body.contains("value=\"Grange\""));
    let r = alice
        .submit_form(
            "/lieux/nouveau",
            &[
                ("name", "Grange aux Concerts"),
                ("commune", "Épinal"),
                ("step_free_access", "on"),
                ("equipment", "- console 16 pistes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.header("location").expect("location").to_string();
    assert_eq!(location, "/venues/grange-aux-concerts");
    let page = alice.get(&location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("@grange-aux-concerts@localhost:8080"));
    assert!(page.body.contains("console 16 pistes"));
    assert!(page.body.contains("/venues/grange-aux-concerts/modifier"));
    // Someone else sees a "Signaler" link, no edit button; the edit page is 404 to them.
    let account = app.create_user("bob", "member").await;
    let bob = Browser::with_session(&app, &account).await;
    let page = bob.get(&location).await;
    assert!(!page.body.contains("/modifier"));
    assert!(page.body.contains("report-link"));
    assert_eq!(
        bob.get("/venues/grange-aux-concerts/modifier").await.status,
        StatusCode::NOT_FOUND
    );
    // The edit form, pre-filled, saves.
    let form = alice.get("/venues/grange-aux-concerts/modifier").await;
    assert!(form.body.contains("value=\"Grange aux Concerts\""));
    let csrf = csrf_in(&form.body);
    let r = alice
        .post_form(
            "/venues/grange-aux-concerts/modifier",
            &[
                ("csrf_token", &csrf),
                ("name", "Grange"),
                ("commune", "Épinal"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        alice
            .get(&location)
            .await
            .body
            .contains("<h1 class=\"p-name\">Grange</h1>")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn photos_need_an_alt_text_and_become_the_actor_icon() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let t = token(&app, "alice").await;
    let id = venue(&app, &t, json!({"name": "Galerie", "commune": "Épinal"})).await["id"]
        .as_i64()
        .expect("id");
    let uri = format!("/api/v1/venues/{id}/photos");
    let upload = |parts: Vec<Part<'static>>, who: String| {
        let app = &app;
        let uri = uri.clone();
        async move { call(app, Method::POST, &uri, Some(&who), Some(multipart(parts))).await }
    };
    let r = upload(vec![Part::png("file", "a.png", png(4, 0))], t.clone()).await;
    assert_eq!(error_fields(&r), vec!["alt"]);
    let r = upload(
        vec![
            Part::png("file", "a.png", b"not an image".to_vec()),
            Part::text("alt", "x"),
        ],
        t.clone(),
    )
    .await;
    assert_eq!(error_fields(&r), vec!["file"]);
    let tb = token(&app, "bob").await;
    let r = upload(
        vec![
            Part::png("file", "a.png", png(4, 0)),
            Part::text("alt", "La salle"),
        ],
        tb,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(rows_in(&app, "photos").await, 0);
    let r = upload(
        vec![
            Part::png("file", "a.png", png(4, 0)),
            Part::text("alt", "La grande salle vide"),
        ],
        t.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let photo = r.json();
    let served = app
        .get(&path_of(photo["url"].as_str().expect("url")), "*/*")
        .await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/png"));
    let doc = app
        .get("/venues/galerie", "application/activity+json")
        .await
        .json();
    assert_eq!(doc["icon"]["url"], photo["url"]);
    assert_eq!(doc["icon"]["mediaType"], "image/png");
    let page = app.get_html("/venues/galerie").await;
    assert!(page.body.contains("alt=\"La grande salle vide\""));
    let r = api(
        &app,
        Method::DELETE,
        &format!("{uri}/{}", photo["id"]),
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&path_of(photo["url"].as_str().expect("url")), "*/*")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let doc = app
        .get("/venues/galerie", "application/activity+json")
        .await
        .json();
    assert!(doc.get("icon").is_none(), "{doc}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_announcement_form_offers_the_managed_venues() {
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;
    venue(&app, &t, json!({"name": "Le Préau", "commune": "Épinal"})).await;
    let alice = Browser::with_session(&app, &account).await;
    let form = alice.get("/annonces/nouvelle").await;
    assert!(form.body.contains("name=\"as_venue\""), "{}", form.body);
    assert!(
        form.body
            .contains("<option value=\"le-preau\">Le Préau</option>")
    );
    // Blog posts are the member's own: no choice there.
    assert!(
        !alice
            .get("/articles/nouveau")
            .await
            .body
            .contains("as_venue")
    );
    let r = alice
        .submit_form(
            "/annonces/nouvelle",
            &[
                ("title", "Résidence au Préau"),
                ("body", "Une semaine de plateau."),
                ("kind", "residence"),
                ("as_venue", "le-preau"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::local_by_username(&mut conn, "le-preau")
        .await
        .expect("query")
        .expect("venue actor");
    let posts: Vec<String> = {
        use culturecnous::db::schema::posts;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        posts::table
            .filter(posts::author_actor_id.eq(actor.id))
            .select(posts::title)
            .load(&mut conn)
            .await
            .expect("posts")
    };
    assert_eq!(posts, vec!["Résidence au Préau".to_string()]);
    // Someone else's venue is refused next to the field.
    let other = app.create_user("bob", "member").await;
    let bob = Browser::with_session(&app, &other).await;
    assert!(
        !bob.get("/annonces/nouvelle")
            .await
            .body
            .contains("as_venue")
    );
    let r = bob
        .submit_form(
            "/annonces/nouvelle",
            &[
                ("title", "Usurpation"),
                ("body", "x"),
                ("kind", "residence"),
                ("as_venue", "le-preau"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Vous ne gérez pas ce lieu"), "{}", r.body);
}
