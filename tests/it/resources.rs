//! The resources library (issue 13, part 6) through the JSON API, the pages, the feeds and
//! federation: creation with files and versions, safe downloads, the bad files
//! refused with nothing stored, members-only resources invisible to visitors on every URL,
//! the département page's `Announce` (public resources only) and its withdrawal, rights of
//! the author, another member and staff, and moderation after publication.

use crate::{
    common::{TestApp, TestResponse},
    helpers::{
        AP, Browser, LOCAL, Part, api, call, error_fields, local_actor, multipart, queued,
        remote_follower, rows_in, token,
    },
};
use axum::http::{Method, StatusCode};
use serde_json::json;

/// A tiny but well-formed PDF (plain ASCII, so the response body compares as text).
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
/// The first bytes of an ELF program.
const ELF: &[u8] = &[
    0x7F, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3E, 0,
];

async fn new_app(max_upload_mb: u64) -> TestApp {
    let app = TestApp::with_config(|c| {
        c.storage.max_upload_mb = max_upload_mb;
        c.accounts.require_confirmation = false;
    })
    .await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    app
}

fn file(file_name: &'static str, bytes: &[u8]) -> Part<'static> {
    Part::File {
        name: "file",
        file_name,
        content_type: "application/octet-stream",
        bytes: bytes.to_vec(),
    }
}

/// Proposes a resource through the API as multipart (`file`: with a PDF named guide.pdf).
async fn propose(
    app: &TestApp,
    token: &str,
    title: &str,
    members_only: bool,
    with_file: bool,
) -> TestResponse {
    let mut parts = vec![
        Part::text("title", title),
        Part::text("body", "Les **étapes** pour déclarer un spectacle."),
        Part::text("theme", "guide"),
        Part::text("disciplines", "Théâtre, Musique"),
        Part::text("members_only", if members_only { "true" } else { "false" }),
    ];
    if with_file {
        parts.push(file("guide.pdf", PDF));
    } else {
        parts.push(Part::text("link_url", "https://example.org/guide"));
    }
    call(
        app,
        Method::POST,
        "/api/v1/resources",
        Some(token),
        Some(multipart(parts)),
    )
    .await
}

/// Proposes and expects 201: (id, url).
async fn created(app: &TestApp, token: &str, title: &str, members_only: bool) -> (i64, String) {
    let r = propose(app, token, title, members_only, true).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let json = r.json();
    (
        json["id"].as_i64().expect("id"),
        json["url"].as_str().expect("url").to_string(),
    )
}

/// Files in the local store.
fn stored_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .map(|e| {
                let p = e.path();
                if p.is_dir() { walk(&p) } else { 1 }
            })
            .sum()
    }
    walk(&app.ctx.config.storage.data_dir.join("files"))
}

fn assert_safe_download(r: &TestResponse) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let disposition = r.header("content-disposition").expect("disposition");
    assert!(
        disposition.starts_with("attachment") && disposition.contains("guide.pdf"),
        "{disposition}"
    );
    assert_eq!(r.body.as_bytes(), PDF);
}

#[tokio::test(flavor = "multi_thread")]
async fn members_propose_by_api_and_page_with_versions_and_safe_downloads() {
    let app = new_app(5).await;
    app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;

    // Neither a file nor a link: refused, naming the field; a JSON body is accepted too.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/resources",
        &t,
        Some(json!({"title": "Guide", "body": "Sans fichier"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["link_url"]);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/resources",
        &t,
        Some(json!({"title": "Fiche SACEM", "body": "Le lien.", "link_url": "https://example.org/sacem", "theme": "juridique"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = call(
        &app,
        Method::POST,
        "/api/v1/resources",
        Some(&t),
        Some(("text/plain".into(), b"title=x".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);

    // With a file: 201 {id, url}, the url being the page.
    let (id, url) = created(&app, &t, "Guide de la diffusion", false).await;
    assert_eq!(url, format!("{LOCAL}/ressources/{id}"));
    assert_eq!(stored_files(&app), 1);

    // Downloads, by a visitor, from the API and from the page.
    let r = call(
        &app,
        Method::GET,
        &format!("/api/v1/resources/{id}/versions/1/file"),
        None,
        None,
    )
    .await;
    assert_safe_download(&r);
    assert_safe_download(&app.get_html(&format!("/ressources/{id}/versions/1")).await);

    // A second version keeps the first.
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/resources/{id}/versions"),
        Some(&t),
        Some(multipart(vec![file("guide.pdf", PDF)])),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["version"], 2);
    let detail = api(
        &app,
        Method::GET,
        &format!("/api/v1/resources/{id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    let versions = detail.json()["versions"]
        .as_array()
        .expect("versions")
        .clone();
    assert_eq!(
        versions
            .iter()
            .map(|v| v["version"].clone())
            .collect::<Vec<_>>(),
        vec![json!(2), json!(1)]
    );
    assert_eq!(stored_files(&app), 2);
    let page = app.get_html(&format!("/ressources/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Guide de la diffusion"));
    assert!(page.body.contains(&format!("/ressources/{id}/versions/2")));
    assert!(page.body.contains("report-link"), "a report link");

    // By the page: a form with its errors named, then a link-only resource.
    let alice = Browser::logged_in(&app, "alice").await;
    let before = rows_in(&app, "resources").await;
    let r = alice
        .submit_multipart(
            "/ressources/nouvelle",
            vec![
                Part::text("title", ""),
                Part::text("body", "x"),
                Part::text("theme", "guide"),
                file("", b""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("error-summary") && r.body.contains("href=\"#f-title\""));
    assert!(r.body.contains("href=\"#f-link_url\""));
    assert_eq!(
        rows_in(&app, "resources").await,
        before,
        "nothing half-written"
    );
    let r = alice
        .submit_multipart(
            "/ressources/nouvelle",
            vec![
                Part::text("title", "Modèle de convention d'accueil"),
                Part::text("body", "Une convention type."),
                Part::text("theme", "modele"),
                Part::text("disciplines", "Danse"),
                Part::text("link_url", "https://example.org/convention"),
                file("", b""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.header("location").expect("location").to_string();
    assert!(location.starts_with("/ressources/"), "{location}");
    let page = alice.get(&location).await;
    assert!(page.body.contains("Modèle") && page.body.contains("https://example.org/convention"));
    let list = app.get_html("/ressources").await;
    assert!(list.body.contains("Modèle de convention"), "{}", list.body);
    assert!(list.body.contains("/ressources/rss.xml"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_over_the_limit_or_a_renamed_program_is_refused_with_nothing_stored() {
    let app = new_app(1).await;
    app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;
    let mut big = PDF.to_vec();
    big.resize(1024 * 1024 + 1, b' ');
    let r = call(
        &app,
        Method::POST,
        "/api/v1/resources",
        Some(&t),
        Some(multipart(vec![
            Part::text("title", "Trop gros"),
            Part::text("body", "x"),
            file("gros.pdf", &big),
        ])),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["file"]);
    let r = call(
        &app,
        Method::POST,
        "/api/v1/resources",
        Some(&t),
        Some(multipart(vec![
            Part::text("title", "Contrat"),
            Part::text("body", "x"),
            file("contrat.pdf", ELF),
        ])),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["file"]);
    // The page says so too, on the form.
    let alice = Browser::logged_in(&app, "alice").await;
    let r = alice
        .submit_multipart(
            "/ressources/nouvelle",
            vec![
                Part::text("title", "Contrat"),
                Part::text("body", "x"),
                file("contrat.pdf", ELF),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("href=\"#f-file\""), "{}", r.body);
    // Over the limit: the form again, with the file's error and what was typed.
    let r = alice
        .submit_multipart(
            "/ressources/nouvelle",
            vec![
                Part::text("title", "Trop gros pour le site"),
                Part::text("body", "x"),
                file("gros.pdf", &big),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("href=\"#f-file\""), "{}", r.body);
    assert!(
        r.body.contains("value=\"Trop gros pour le site\""),
        "{}",
        r.body
    );
    assert_eq!(rows_in(&app, "resources").await, 0);
    assert_eq!(rows_in(&app, "resource_versions").await, 0);
    assert_eq!(stored_files(&app), 0);

    // A new version is checked the same way.
    let (id, _) = created(&app, &t, "Guide", false).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/resources/{id}/versions"),
        Some(&t),
        Some(multipart(vec![file("guide.pdf", ELF)])),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(rows_in(&app, "resource_versions").await, 1);
    assert_eq!(stored_files(&app), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn members_only_resources_are_invisible_to_visitors_on_every_url() {
    let app = new_app(5).await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let t = token(&app, "alice").await;
    let tb = token(&app, "bob").await;
    let (secret, _) = created(&app, &t, "Tarifs négociés réservés", true).await;
    let (public, public_url) = created(&app, &t, "Guide public des subventions", false).await;

    // A visitor: the same 404 as for nothing, on every URL.
    for path in [
        format!("/ressources/{secret}"),
        format!("/ressources/{secret}/versions/1"),
    ] {
        let r = app.get_html(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    // The edit form sends a visitor to the login page, whatever the id.
    assert_eq!(
        app.get_html(&format!("/ressources/{secret}/modifier"))
            .await
            .status,
        app.get_html("/ressources/999999/modifier").await.status
    );
    for path in [
        format!("/api/v1/resources/{secret}"),
        format!("/api/v1/resources/{secret}/versions/1/file"),
    ] {
        let r = call(&app, Method::GET, &path, None, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = app.get(&format!("/ressources/{secret}"), AP).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "an ActivityPub fetch too");
    let report_form = |id: i64| {
        format!(
            "/signaler?cible={}",
            crate::helpers::enc(&format!("{LOCAL}/ressources/{id}"))
        )
    };
    let r = app.get_html(&report_form(secret)).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the report form names it to members only"
    );
    assert!(!r.body.contains("Tarifs"));
    assert_eq!(
        app.get_html(&report_form(public)).await.status,
        StatusCode::OK
    );
    for path in [
        "/ressources",
        "/ressources?q=tarif",
        "/ressources?q=negocies",
        "/ressources/rss.xml",
        "/ressources/atom.xml",
    ] {
        let r = app.get_html(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(!r.body.contains("Tarifs"), "{path}: {}", r.body);
    }
    for path in ["/ressources/rss.xml", "/ressources/atom.xml"] {
        assert!(
            app.get_html(path).await.body.contains("Guide public"),
            "{path}"
        );
    }
    let r = call(&app, Method::GET, "/api/v1/resources?q=tarifs", None, None).await;
    assert_eq!(r.json()["total"], 0, "{}", r.body);
    let r = call(&app, Method::GET, "/api/v1/resources", None, None).await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);

    // Members see it: page, file, list, search (accents and plurals forgiven), API.
    let bob = Browser::logged_in(&app, "bob").await;
    let r = bob.get(&format!("/ressources/{secret}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Tarifs négociés"));
    assert_eq!(
        bob.get(&format!("/ressources/{secret}/versions/1"))
            .await
            .status,
        StatusCode::OK
    );
    assert!(
        bob.get("/ressources?q=tarif+negocie")
            .await
            .body
            .contains("Tarifs négociés")
    );
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/resources/{secret}"),
        &tb,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api(&app, Method::GET, "/api/v1/resources?q=réservé", &tb, None).await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);

    // A public resource is an Article at its page URL.
    let r = app.get(&format!("/ressources/{public}"), AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let doc = r.json();
    assert_eq!(doc["type"], "Article");
    assert_eq!(doc["id"], public_url.as_str());
    assert_eq!(doc["name"], "Guide public des subventions");
    assert_eq!(doc["attributedTo"], format!("{LOCAL}/users/alice"));
    assert_eq!(doc["to"][0], "https://www.w3.org/ns/activitystreams#Public");
    assert!(doc["summary"].as_str().expect("summary").contains("étapes"));
    assert_eq!(
        doc["attachment"][0]["url"],
        format!("{LOCAL}/ressources/{public}/versions/1")
    );
    assert_eq!(doc["attachment"][0]["mediaType"], "application/pdf");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_announces_public_resources_to_its_followers_and_withdraws_them() {
    let app = new_app(5).await;
    app.create_user("alice", "member").await;
    let t = token(&app, "alice").await;
    let page = local_actor(&app, "departement").await;
    remote_follower(&app, "remote.example", "zoe", &page).await;
    let inbox = vec!["http://remote.example/inbox".to_string()];

    // Members-only: no activity at all.
    let (secret, _) = created(&app, &t, "Réservée", true).await;
    assert_eq!(rows_in(&app, "activities").await, 0);
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/resources/{secret}"),
        &t,
        Some(json!({"title": "Toujours réservée"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(rows_in(&app, "activities").await, 0);

    // Public: the page announces it to its followers.
    let (id, url) = created(&app, &t, "Guide public", false).await;
    let announces = queued(&app, "Announce").await;
    assert_eq!(announces.len(), 1);
    let (announce, inboxes) = &announces[0];
    assert_eq!(announce["actor"], page.ap_id.as_str());
    assert_eq!(announce["object"], url.as_str());
    assert_eq!(inboxes, &inbox);
    let outbox = app.get("/users/departement/outbox?page=1", AP).await;
    assert!(outbox.body.contains(&url), "{}", outbox.body);

    // An edit goes out as Update from the author, to the same inboxes.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/resources/{id}"),
        &t,
        Some(json!({"body": "Mis à jour."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].0["object"]["type"], "Article");
    assert_eq!(updates[0].1, inbox);
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/resources/{id}"),
        &t,
        Some(json!({"body": "Mis à jour."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        queued(&app, "Update").await.len(),
        1,
        "nothing changed, nothing sent"
    );

    // Turned members-only: Delete by the author and the page withdraws its Announce; the
    // outbox no longer shows it.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/resources/{id}"),
        &t,
        Some(json!({"members_only": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let deletes = queued(&app, "Delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].0["object"]["id"], url.as_str());
    assert_eq!(deletes[0].1, inbox);
    let undos = queued(&app, "Undo").await;
    assert_eq!(undos.len(), 1);
    assert_eq!(undos[0].0["actor"], page.ap_id.as_str());
    assert_eq!(undos[0].0["object"]["type"], "Announce");
    let outbox = app.get("/users/departement/outbox?page=1", AP).await;
    assert!(!outbox.body.contains(&url), "{}", outbox.body);
    assert_eq!(
        app.get(&format!("/ressources/{id}"), AP).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(queued(&app, "Announce").await.len(), 1, "no new Announce");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_author_and_staff_may_change_a_resource_another_member_may_not() {
    let app = new_app(5).await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("sam", "staff").await;
    let (ta, tb, ts) = (
        token(&app, "alice").await,
        token(&app, "bob").await,
        token(&app, "sam").await,
    );
    let (id, _) = created(&app, &ta, "Guide d'alice", false).await;
    let (newer, _) = created(&app, &ta, "Plus récent", false).await;
    let path = format!("/api/v1/resources/{id}");

    // Another member: 403 on every change.
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &tb,
        Some(json!({"title": "À bob"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &tb,
        Some(json!({"curated": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Its author may edit, not curate: asking both writes nothing.
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &ta,
        Some(json!({"title": "Titre changé", "curated": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let shown = api(&app, Method::GET, &path, &ta, None).await.json();
    assert_eq!(shown["title"], "Guide d'alice");
    assert_eq!(shown["curated"], false);
    let r = call(
        &app,
        Method::POST,
        &format!("{path}/versions"),
        Some(&tb),
        Some(multipart(vec![file("guide.pdf", PDF)])),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        api(&app, Method::DELETE, &path, &tb, None).await.status,
        StatusCode::FORBIDDEN
    );
    let bob = Browser::logged_in(&app, "bob").await;
    let page = bob.get(&format!("/ressources/{id}")).await;
    assert!(!page.body.contains("/modifier") && !page.body.contains("/supprimer"));
    assert_eq!(
        bob.get(&format!("/ressources/{id}/modifier")).await.status,
        StatusCode::FORBIDDEN
    );
    // Without a token: 401.
    let r = call(
        &app,
        Method::PATCH,
        &path,
        None,
        Some(("application/json".into(), b"{}".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Staff edit and curate; the pick comes first in the list.
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &ts,
        Some(json!({"title": "Guide revu", "curated": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["curated"], true);
    let list = call(&app, Method::GET, "/api/v1/resources", None, None)
        .await
        .json();
    let order: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(order, vec![id, newer]);
    // The author may not curate.
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &ta,
        Some(json!({"curated": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The author deletes: the files go, the page says it is gone.
    assert_eq!(stored_files(&app), 2);
    assert_eq!(
        api(&app, Method::DELETE, &path, &ta, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(stored_files(&app), 1);
    assert_eq!(
        app.get_html(&format!("/ressources/{id}")).await.status,
        StatusCode::GONE
    );
    // Staff delete through the page.
    let sam = Browser::logged_in(&app, "sam").await;
    let r = sam
        .submit_form(&format!("/ressources/{newer}/supprimer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(stored_files(&app), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reported_resource_is_hidden_by_the_moderators() {
    let app = new_app(5).await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("modo", "moderator").await;
    let page = local_actor(&app, "departement").await;
    remote_follower(&app, "remote.example", "zoe", &page).await;
    let ta = token(&app, "alice").await;
    let (id, url) = created(&app, &ta, "Fiche douteuse", false).await;

    let tb = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/reports",
        &tb,
        Some(json!({"target": url, "reason": "spam", "comment": "Publicité."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json()["id"].as_i64().expect("report id");
    let tm = token(&app, "modo").await;
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/admin/reports/{report}"),
        &tm,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(&url), "{}", r.body);

    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/admin/reports/{report}/resolve"),
        &tm,
        Some(json!({"action": "hide", "statement": "Publicité."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Gone for visitors and other members, kept for its author with a notice.
    assert_eq!(
        app.get_html(&format!("/ressources/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/ressources/{id}"), AP).await.status,
        StatusCode::NOT_FOUND
    );
    let bob = Browser::logged_in(&app, "bob").await;
    assert_eq!(
        bob.get(&format!("/ressources/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!bob.get("/ressources").await.body.contains("Fiche douteuse"));
    let alice = Browser::logged_in(&app, "alice").await;
    let r = alice.get(&format!("/ressources/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("masquée"), "{}", r.body);
    // Other servers are told.
    assert_eq!(queued(&app, "Delete").await.len(), 1);
    assert_eq!(queued(&app, "Undo").await.len(), 1);

    // What a suspended member wrote is withheld from the public.
    let (other, _) = created(&app, &ta, "Autre fiche d'alice", false).await;
    assert!(
        app.get_html("/ressources")
            .await
            .body
            .contains("Autre fiche")
    );
    {
        use culturecnous::db::schema::accounts;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(accounts::table.filter(accounts::username.eq("alice")))
            .set(accounts::suspended_at.eq(diesel::dsl::now))
            .execute(&mut conn)
            .await
            .expect("suspend");
    }
    assert!(
        !app.get_html("/ressources")
            .await
            .body
            .contains("Autre fiche")
    );
    assert!(
        !app.get_html("/ressources/rss.xml")
            .await
            .body
            .contains("Autre fiche")
    );
    assert_eq!(
        app.get_html(&format!("/ressources/{other}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_pages_pass_the_mechanical_accessibility_checks() {
    let app = new_app(5).await;
    app.create_user("alice", "member").await;
    app.create_user("sam", "staff").await;
    let t = token(&app, "alice").await;
    let (id, _) = created(&app, &t, "Guide de la diffusion", false).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/resources/{id}/versions"),
        Some(&t),
        Some(multipart(vec![file("guide.pdf", PDF)])),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = propose(&app, &t, "Le lien utile", false, false).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let alice = Browser::logged_in(&app, "alice").await;
    let sam = Browser::logged_in(&app, "sam").await;
    let mut pages = Vec::new();
    for (who, path) in [
        (&alice, "/ressources".to_string()),
        (&alice, "/ressources?q=guide&theme=guide".to_string()),
        (&alice, "/ressources/nouvelle".to_string()),
        (&alice, format!("/ressources/{id}")),
        (&alice, format!("/ressources/{id}/modifier")),
        (&sam, format!("/ressources/{id}")),
    ] {
        pages.push((path.clone(), who.get(&path).await));
    }
    pages.push((
        "/ressources?theme=poesie (errors)".to_string(),
        alice.get("/ressources?theme=poesie").await,
    ));
    pages.push((
        format!("/ressources/{id} (visitor)"),
        app.get_html(&format!("/ressources/{id}")).await,
    ));
    let errors = alice
        .submit_multipart(
            "/ressources/nouvelle",
            vec![
                Part::text("title", ""),
                Part::text("link_url", "javascript:alert(1)"),
                file("contrat.pdf", ELF),
            ],
        )
        .await;
    assert_eq!(errors.status, StatusCode::UNPROCESSABLE_ENTITY);
    pages.push(("/ressources/nouvelle (errors)".to_string(), errors));
    let version_error = alice
        .submit_multipart(
            &format!("/ressources/{id}/versions"),
            vec![file("guide.pdf", ELF)],
        )
        .await;
    assert_eq!(version_error.status, StatusCode::UNPROCESSABLE_ENTITY);
    pages.push((format!("/ressources/{id} (errors)"), version_error));
    crate::accessibility::assert_accessible(&pages);
}
