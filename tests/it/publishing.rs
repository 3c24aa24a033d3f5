//! Blog posts and announcements: the rules of issue 4 "Bad input and limits" through the API
//! and the web form, the federated objects (Article with summary and preview, Note opening
//! with its title), deliveries to followers' shared inboxes on create/update/delete, drafts,
//! publishing as the page, 410 Tombstones, and the announcement list filters.

use crate::{
    common::{TestApp, TestResponse},
    helpers::{
        AP, UNSAFE_MARKUP, api, error_fields, local_actor, path_of, queued, remote_follower,
        rows_in, token,
    },
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use chrono::{Duration, Utc};
use culturecnous::db::schema::posts;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

fn future_date() -> String {
    (Utc::now() + Duration::days(30))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blog_post_is_an_article_with_summary_and_preview_sent_to_followers_shared_inboxes() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "m1", &alice).await;
    remote_follower(&app, "masto.example", "m2", &alice).await;
    remote_follower(&app, "other.example", "o1", &alice).await;
    let t = token(&app, "alice").await;
    let body = "Nous avons **joué** à Rodez. #Théâtre et #danse au programme.\n\n".to_string()
        + &"Un long récit de la résidence. ".repeat(40);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/posts",
        &t,
        Some(json!({"title": "Retour de résidence", "body": body})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    let ap_id = created["ap_id"].as_str().expect("ap_id").to_string();
    let id = created["id"].as_i64().expect("id");
    assert_eq!(ap_id, format!("http://localhost:8080/posts/{id}"));
    assert!(
        created["url"]
            .as_str()
            .expect("url")
            .ends_with("/retour-de-residence"),
        "{created}"
    );

    let r = app.get(&path_of(&ap_id), AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .contains("activity+json")
    );
    let article = r.json();
    assert_eq!(article["type"], "Article");
    assert_eq!(article["id"], ap_id);
    assert_eq!(article["name"], "Retour de résidence");
    assert_eq!(article["attributedTo"], alice.ap_id);
    assert!(
        article["content"]
            .as_str()
            .expect("content")
            .contains("<strong>joué</strong>")
    );
    let summary = article["summary"].as_str().expect("summary");
    assert!(summary.starts_with("Nous avons joué à Rodez."), "{summary}");
    assert!(
        summary.ends_with('…') && summary.chars().count() < 500,
        "{summary}"
    );
    assert_eq!(article["preview"]["type"], "Note");
    assert!(
        article["preview"]["content"]
            .as_str()
            .expect("preview")
            .contains("Retour de résidence")
    );
    assert_eq!(
        article["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(
        article["cc"],
        json!([alice.followers_url.clone().expect("followers")])
    );
    let tags: Vec<&str> = article["tag"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(tags, vec!["#Théâtre", "#danse"]);
    assert!(
        article["url"]
            .as_str()
            .expect("url")
            .ends_with("/retour-de-residence")
    );

    let creates = queued(&app, "Create").await;
    assert_eq!(creates.len(), 1);
    let (activity, inboxes) = &creates[0];
    assert_eq!(activity["type"], "Create");
    assert_eq!(activity["actor"], alice.ap_id);
    assert_eq!(activity["object"]["id"], ap_id);
    assert_eq!(
        inboxes,
        &vec![
            "http://masto.example/inbox".to_string(),
            "http://other.example/inbox".to_string()
        ],
        "one delivery per shared inbox"
    );

    // Browsers get the page, at the id and at the slugged URL.
    let page = app.get_html(&path_of(&ap_id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Retour de résidence"));
    let slugged = app
        .get_html(&path_of(created["url"].as_str().expect("url")))
        .await;
    assert_eq!(slugged.status, StatusCode::OK);
    // The member's blog lists it.
    let blog = app.get_html("/blog/alice").await;
    assert_eq!(blog.status, StatusCode::OK);
    assert!(blog.body.contains("Retour de résidence"), "{}", blog.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_announcement_is_a_note_opening_with_its_title_with_the_kind_hashtag() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;
    let deadline = future_date();
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &t,
        Some(json!({
            "title": "Résidence d'été",
            "body": "Accueil de compagnies en juillet. #cirque",
            "kind": "appel_a_projets",
            "deadline": deadline,
            "disciplines": ["Cirque", "Danse"],
            "commune": "Rodez",
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ap_id = r.json()["ap_id"].as_str().expect("ap_id").to_string();
    assert!(ap_id.contains("/announcements/"), "{ap_id}");
    let note = app.get(&path_of(&ap_id), AP).await.json();
    assert_eq!(note["type"], "Note");
    let content = note["content"].as_str().expect("content");
    assert!(
        content.starts_with("<p><strong>Résidence d&#39;été</strong></p>"),
        "{content}"
    );
    assert!(content.contains("Appel à projets"), "{content}");
    assert!(content.contains("Rodez"), "{content}");
    let (y, m, d) = (&deadline[0..4], &deadline[5..7], &deadline[8..10]);
    assert!(content.contains(&format!("{d}/{m}/{y}")), "{content}");
    let tags: Vec<&str> = note["tag"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(tags, vec!["#appelAProjets", "#cirque"]);

    let detail = api(
        &app,
        Method::GET,
        &format!("/api/v1/announcements/{}", r.json()["id"]),
        &t,
        None,
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.json()["kind"], "appel_a_projets");
    assert_eq!(detail.json()["closed"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_the_field_named_and_nothing_written() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "m1", &alice).await;
    let t = token(&app, "alice").await;
    let before = rows_in(&app, "activities").await;
    let cases = [
        (
            "/api/v1/posts",
            json!({"title": "  ", "body": "b"}),
            "title",
        ),
        (
            "/api/v1/posts",
            json!({"title": "t", "body": "x".repeat(100_001)}),
            "body",
        ),
        (
            "/api/v1/announcements",
            json!({"title": "t", "body": "b", "kind": "concert"}),
            "kind",
        ),
        (
            "/api/v1/announcements",
            json!({"title": "t", "body": "b", "kind": "emploi", "deadline": "2020-01-01"}),
            "deadline",
        ),
        (
            "/api/v1/announcements",
            json!({"title": "t", "body": "b", "kind": "emploi", "deadline": "demain"}),
            "deadline",
        ),
    ];
    for (path, body, field) in cases {
        let r = api(&app, Method::POST, path, &t, Some(body)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.body
        );
        assert!(
            r.header("content-type")
                .unwrap_or("")
                .contains("problem+json"),
            "{field}"
        );
        assert_eq!(error_fields(&r), vec![field.to_string()], "{}", r.body);
    }
    // Exactly 100 000 characters is allowed.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/posts",
        &t,
        Some(json!({"title": "t", "body": "é".repeat(100_000)})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        rows_in(&app, "posts").await,
        1,
        "only the valid post was written"
    );
    assert_eq!(rows_in(&app, "activities").await, before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_author_edits_or_deletes_and_an_edit_federates_an_update() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "m1", &alice).await;
    let ta = token(&app, "alice").await;
    let tb = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/posts",
        &ta,
        Some(json!({"title": "A", "body": "Texte"})),
    )
    .await;
    let id = r.json()["id"].as_i64().expect("id");
    let uri = format!("/api/v1/posts/{id}");
    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &tb,
        Some(json!({"title": "Volé"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api(&app, Method::DELETE, &uri, &tb, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(queued(&app, "Update").await.is_empty());
    // An announcement id is not a post.
    let r = api(&app, Method::GET, "/api/v1/announcements/1", &ta, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &ta,
        Some(json!({"title": "A, revu", "body": "Nouveau #texte"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["title"], "A, revu");
    assert_eq!(r.json()["hashtags"], json!(["texte"]));
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].0["object"]["name"], "A, revu");
    assert!(updates[0].0["object"]["updated"].is_string());
    assert_eq!(updates[0].1, vec!["http://masto.example/inbox".to_string()]);
    // An invalid edit changes nothing.
    let r = api(&app, Method::PATCH, &uri, &ta, Some(json!({"title": ""}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        api(&app, Method::GET, &uri, &ta, None).await.json()["title"],
        "A, revu"
    );
    assert_eq!(queued(&app, "Update").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_post_federates_a_delete_and_answers_410_with_a_tombstone() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "m1", &alice).await;
    let t = token(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &t,
        Some(json!({"title": "Prêt de projecteurs", "body": "Six PAR LED.", "kind": "pret_materiel"})),
    )
    .await;
    let created = r.json();
    let id = created["id"].as_i64().expect("id");
    let ap_id = created["ap_id"].as_str().expect("ap_id").to_string();
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/announcements/{id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    let r = app.get(&path_of(&ap_id), AP).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    let tomb = r.json();
    assert_eq!(tomb["type"], "Tombstone");
    assert_eq!(tomb["id"], ap_id);
    assert_eq!(tomb["formerType"], "Note");
    assert_eq!(
        app.get_html(&path_of(&ap_id)).await.status,
        StatusCode::GONE
    );
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/announcements/{id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::GONE);

    let deletes = queued(&app, "Delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].0["object"]["type"], "Tombstone");
    assert_eq!(deletes[0].0["object"]["id"], ap_id);
    assert_eq!(deletes[0].0["actor"], alice.ap_id);
    assert_eq!(deletes[0].1, vec!["http://masto.example/inbox".to_string()]);
    // Deleting twice: nothing left to delete.
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/announcements/{id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(queued(&app, "Delete").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn drafts_stay_private_until_published() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "m1", &alice).await;
    let ta = token(&app, "alice").await;
    let tb = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/posts",
        &ta,
        Some(json!({"title": "Brouillon", "body": "…", "draft": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let created = r.json();
    let id = created["id"].as_i64().expect("id");
    let ap_path = path_of(created["ap_id"].as_str().expect("ap_id"));
    assert!(
        queued(&app, "Create").await.is_empty(),
        "drafts are not federated"
    );
    assert_eq!(app.get(&ap_path, AP).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get_html(&ap_path).await.status, StatusCode::NOT_FOUND);
    let uri = format!("/api/v1/posts/{id}");
    assert_eq!(
        api(&app, Method::GET, &uri, &tb, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, Method::GET, &uri, &ta, None).await.json()["draft"],
        true
    );

    let r = api(&app, Method::POST, &format!("{uri}/publish"), &ta, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["draft"], false);
    assert_eq!(queued(&app, "Create").await.len(), 1);
    assert_eq!(app.get(&ap_path, AP).await.status, StatusCode::OK);
    let r = api(&app, Method::POST, &format!("{uri}/publish"), &ta, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_staff_publish_as_the_page() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("sam", "staff").await;
    app.create_user("sue", "staff").await;
    let page = local_actor(&app, "departement").await;
    remote_follower(&app, "masto.example", "fan", &page).await;
    let ta = token(&app, "alice").await;
    let ts = token(&app, "sam").await;
    let body = json!({"title": "Communiqué", "body": "Texte", "as_page": true});
    let r = api(&app, Method::POST, "/api/v1/posts", &ta, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(rows_in(&app, "posts").await, 0);
    let r = api(&app, Method::POST, "/api/v1/posts", &ts, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().expect("id");
    let article = app
        .get(&path_of(r.json()["ap_id"].as_str().expect("ap_id")), AP)
        .await
        .json();
    assert_eq!(article["attributedTo"], page.ap_id);
    let creates = queued(&app, "Create").await;
    assert_eq!(creates[0].0["actor"], page.ap_id);
    assert_eq!(creates[0].1, vec!["http://masto.example/inbox".to_string()]);
    // Another staff member may edit the page's post; a member may not.
    let tsue = token(&app, "sue").await;
    let uri = format!("/api/v1/posts/{id}");
    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &tsue,
        Some(json!({"summary": "Résumé"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api(
        &app,
        Method::PATCH,
        &uri,
        &ta,
        Some(json!({"summary": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_announcement_list_filters_by_kind_discipline_commune_and_state() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;
    let post = |title: &str, kind: &str, commune: &str, disciplines: Value| {
        json!({"title": title, "body": "b", "kind": kind, "commune": commune,
               "disciplines": disciplines, "deadline": future_date()})
    };
    for body in [
        post("Emploi régie", "emploi", "Rodez", json!(["Théâtre"])),
        post("Résidence danse", "residence", "Millau", json!(["Danse"])),
        post("Ancien appel", "appel_a_projets", "Rodez", json!(["Danse"])),
    ] {
        let r = api(&app, Method::POST, "/api/v1/announcements", &t, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // The third one's deadline has passed since.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(posts::table.filter(posts::title.eq("Ancien appel")))
            .set(posts::deadline.eq((Utc::now() - Duration::days(2)).date_naive()))
            .execute(&mut conn)
            .await
            .expect("update");
    }
    let titles = |r: TestResponse| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["title"].as_str().expect("title").to_string())
            .collect()
    };
    let get = |q: &str| {
        let uri = format!("/api/v1/announcements{q}");
        let t = t.clone();
        let app = &app;
        async move { api(app, Method::GET, &uri, &t, None).await }
    };
    assert_eq!(titles(get("").await).len(), 3);
    assert_eq!(titles(get("?kind=emploi").await), vec!["Emploi régie"]);
    assert_eq!(
        titles(get("?discipline=danse").await),
        vec!["Ancien appel", "Résidence danse"]
    );
    assert_eq!(
        titles(get("?commune=rodez&open=true").await),
        vec!["Emploi régie"]
    );
    assert_eq!(titles(get("?open=false").await), vec!["Ancien appel"]);
    let r = get("?kind=concert").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r), vec!["kind".to_string()]);

    let html = app.get_html("/annonces?open=false").await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        html.body.contains("Ancien appel") && html.body.contains(">clos<"),
        "{}",
        html.body
    );
    assert!(!html.body.contains("Emploi régie"));
    let html = app.get_html("/annonces?kind=emploi").await;
    assert!(html.body.contains("Emploi régie") && !html.body.contains("Ancien appel"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_html_from_the_form_is_stored_and_shown_sanitised() {
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    let session = culturecnous::service::sessions::open(&app.ctx, &account, "test")
        .await
        .expect("session");
    let cookie = format!("session={}", session.token);
    let post_form = |path: &str, fields: Vec<(&str, String)>| {
        let body = serde_urlencoded::to_string(&fields).expect("urlencode");
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request")
    };
    let hostile = format!(
        "Bonjour <script>alert(1)</script><style>p{{}}</style><iframe src=\"https://evil.example\"></iframe>\
         <a href=\"javascript:alert(2)\">j</a> <a href=\"data:text/html,x\">d</a> \
         <img src=x onerror=alert(3)><p onclick=\"x()\">clic</p><div><b>non fermé {}",
        "<div>".repeat(10_000)
    );
    // Errors first: the form comes back with the message tied to the field.
    let r = app
        .send(post_form(
            "/annonces/nouvelle",
            vec![
                ("csrf_token", session.csrf_token.clone()),
                ("title", String::new()),
                ("body", "b".into()),
                ("kind", "concert".into()),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(r#"aria-describedby="f-title-error""#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"id="f-kind-error""#), "{}", r.body);
    assert_eq!(rows_in(&app, "posts").await, 0);
    // Without the CSRF token: refused.
    let r = app
        .send(post_form(
            "/articles/nouveau",
            vec![("title", "t".into()), ("body", "b".into())],
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app
        .send(post_form(
            "/articles/nouveau",
            vec![
                ("csrf_token", session.csrf_token.clone()),
                ("title", "<script>alert(4)</script>Titre".into()),
                ("body", hostile),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = path_of(r.header("location").expect("location"));
    let page = app
        .send(
            Request::builder()
                .uri(&location)
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let main = page.body.split("<main").nth(1).expect("main");
    for bad in UNSAFE_MARKUP {
        assert!(!main.contains(bad), "{bad} in the page");
    }
    assert!(
        main.contains("&#60;script&#62;alert(4)"),
        "title escaped: {main}"
    );
    assert!(main.contains("<b>non fermé"), "{main}");
    let mut conn = app.ctx.conn().await.expect("conn");
    let stored: String = posts::table
        .select(posts::body_html)
        .first(&mut conn)
        .await
        .expect("stored");
    for bad in ["<script", "<iframe", "javascript:", "onerror", "<div"] {
        assert!(!stored.contains(bad), "{bad} stored");
    }
    // The edit and delete buttons are there for the author, with the CSRF token.
    assert!(main.contains("/modifier"));
    assert!(main.contains(&session.csrf_token));
    let id = location
        .trim_start_matches("/posts/")
        .split('/')
        .next()
        .expect("id")
        .to_string();
    let r = app
        .send(post_form(
            &format!("/posts/{id}/supprimer"),
            vec![("csrf_token", session.csrf_token.clone())],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.get_html(&format!("/posts/{id}")).await.status,
        StatusCode::GONE
    );
}
