//! Communes from the official list (issue 11, item 0) and the member directory fields of
//! profiles (item 1): announcements store their commune's INSEE code, the list filters and
//! alerts match on it, free-text communes written before are matched at start, and members
//! edit their kind, disciplines, commune, postal code, coordinates, contacts and links.

use crate::common::TestApp;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use culturecnous::db::{
    reference::{Backfilled, backfill_commune_codes},
    schema::{accounts, notifications, posts},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

async fn member(app: &TestApp, name: &str) -> String {
    app.create_user(name, "member").await;
    token(app, name).await
}

async fn announce(app: &TestApp, token: &str, title: &str, commune: &str) -> Value {
    create(
        app,
        token,
        "/api/v1/announcements",
        json!({"title": title, "body": "Le détail.", "kind": "residence", "commune": commune}),
    )
    .await
}

/// (commune, commune_code) of a post, as stored.
async fn stored_commune(app: &TestApp, id: i64) -> (String, Option<String>) {
    let mut conn = app.ctx.conn().await.expect("conn");
    posts::table
        .find(id)
        .select((posts::commune, posts::commune_code))
        .first(&mut conn)
        .await
        .expect("post")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_announcement_stores_the_commune_it_names_whatever_the_spelling() {
    let app = TestApp::new().await;
    let t = member(&app, "alice").await;
    let created = announce(&app, &t, "Résidence", "st die des vosges").await;
    let id = created["id"].as_i64().expect("id");
    assert_eq!(
        stored_commune(&app, id).await,
        (
            "Saint-Dié-des-Vosges".to_string(),
            Some("88413".to_string())
        )
    );
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/announcements/{id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["commune"], "Saint-Dié-des-Vosges");
    assert_eq!(r.json()["commune_code"], "88413");

    // A name other départements share is the configured one's; "Name (dep)" and the INSEE
    // code name the others.
    for (typed, code) in [
        ("Charmes", "88090"),
        ("Charmes (21)", "21146"),
        ("21146", "21146"),
    ] {
        let id = announce(&app, &t, "Appel", typed).await["id"]
            .as_i64()
            .expect("id");
        assert_eq!(stored_commune(&app, id).await.1.as_deref(), Some(code));
    }

    // Unknown or ambiguous: 422 naming `commune`, nothing written.
    let before = rows_in(&app, "posts").await;
    for typed in ["Atlantide", "Saint-Amand"] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/announcements",
            &t,
            Some(json!({"title": "T", "body": "B", "kind": "emploi", "commune": typed})),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(error_fields(&r), vec!["commune".to_string()]);
    }
    assert_eq!(rows_in(&app, "posts").await, before);

    // An edit may change it (or remove it); an edit of other fields keeps it.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/announcements/{id}"),
        &t,
        Some(json!({"title": "Résidence d'été"})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(stored_commune(&app, id).await.1.as_deref(), Some("88413"));
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/announcements/{id}"),
        &t,
        Some(json!({"commune": "EPINAL"})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(r.json()["commune_code"], "88160");
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/announcements/{id}"),
        &t,
        Some(json!({"commune": "Atlantide"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["commune".to_string()]);
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/announcements/{id}"),
        &t,
        Some(json!({"commune": ""})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(stored_commune(&app, id).await, (String::new(), None));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_filters_on_the_commune_by_code_or_by_name() {
    let app = TestApp::new().await;
    let t = member(&app, "alice").await;
    announce(&app, &t, "À Saint-Dié", "Saint-Dié-des-Vosges").await;
    announce(&app, &t, "À Épinal", "Épinal").await;
    announce(&app, &t, "À Charmes (21)", "Charmes (21)").await;
    let titles = |r: crate::common::TestResponse| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["title"].as_str().expect("title").to_string())
            .collect()
    };
    for query in ["88413", "st-die-des-vosges", "SAINT DIE DES VOSGES (88)"] {
        let r = api(
            &app,
            Method::GET,
            &format!("/api/v1/announcements?commune={}", enc(query)),
            &t,
            None,
        )
        .await;
        assert_eq!(titles(r), vec!["À Saint-Dié"], "{query}");
    }
    // "Charmes" alone is the département's (none here); "Charmes (21)" the other one.
    let r = api(
        &app,
        Method::GET,
        "/api/v1/announcements?commune=charmes",
        &t,
        None,
    )
    .await;
    assert!(titles(r).is_empty());
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/announcements?commune={}", enc("Charmes (21)")),
        &t,
        None,
    )
    .await;
    assert_eq!(titles(r), vec!["À Charmes (21)"]);
    let r = api(
        &app,
        Method::GET,
        "/api/v1/announcements?commune=Atlantide",
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["commune".to_string()]);

    // The page: the same forms, the commune shown by its name, the département's communes
    // offered; an unknown commune is a field error on the page.
    let r = app.get_html("/annonces?commune=88160").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("À Épinal"), "{}", r.body);
    assert!(!r.body.contains("À Saint-Dié"));
    assert!(
        r.body.contains(r#"name="commune" value="Épinal""#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"<option value="Golbey"></option>"#));
    let r = app
        .get_html("/annonces?commune=st%20die%20des%20vosges")
        .await;
    assert!(r.body.contains("À Saint-Dié") && !r.body.contains("À Épinal"));
    let r = app.get_html("/annonces?commune=Atlantide").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(r##"href="#f-commune""##), "{}", r.body);
    assert!(r.body.contains(r#"value="Atlantide""#));

    // The feeds read it the same way; a wrong commune says so instead of listing everything.
    let r = app
        .get("/annonces/rss.xml?commune=st%20die%20des%20vosges", "*/*")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("À Saint-Dié") && !r.body.contains("À Épinal"));
    let r = app.get("/annonces/rss.xml?commune=Atlantide", "*/*").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("commune"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_on_a_commune_matches_an_announcement_that_spells_it_otherwise() {
    let app = TestApp::new().await;
    let author = member(&app, "autrice").await;
    let reader = member(&app, "lectrice").await;
    let reader_id = local_actor(&app, "lectrice").await;
    create(
        &app,
        &reader,
        "/api/v1/alerts",
        json!({"commune": "Saint-Dié-des-Vosges", "mail": "none"}),
    )
    .await;
    let matching = announce(&app, &author, "Résidence", "ST-DIE-DES-VOSGES").await["id"]
        .as_i64()
        .expect("id");
    let elsewhere = announce(&app, &author, "Ailleurs", "Épinal").await["id"]
        .as_i64()
        .expect("id");
    let mut conn = app.ctx.conn().await.expect("conn");
    let notified: Vec<(i64, i64)> = notifications::table
        .filter(notifications::kind.eq("announcement"))
        .inner_join(accounts::table.on(accounts::id.eq(notifications::account_id)))
        .filter(accounts::actor_id.eq(reader_id.id))
        .select((
            notifications::account_id,
            notifications::post_id.assume_not_null(),
        ))
        .load(&mut conn)
        .await
        .expect("notifications");
    let posts: Vec<i64> = notified.iter().map(|n| n.1).collect();
    assert_eq!(posts, vec![matching]);
    assert!(!posts.contains(&elsewhere));
}

#[tokio::test(flavor = "multi_thread")]
async fn communes_typed_before_the_official_list_are_matched_once() {
    let app = TestApp::new().await;
    let t = member(&app, "alice").await;
    let bob = app.create_user("bob", "member").await;
    let ids: Vec<i64> = {
        let mut v = Vec::new();
        for title in ["a", "b", "c", "d", "e", "f"] {
            v.push(
                announce(&app, &t, title, "").await["id"]
                    .as_i64()
                    .expect("id"),
            );
        }
        v
    };
    let typed = [
        "st die des vosges", // a unique name, spelt loosely
        "Charmes (21)",      // name and département
        "88160",             // an INSEE code
        "Charmes",           // several communes in France: left alone
        "Atlantide",         // none: left alone
        "saint-amand (62)",  // name and département, in lower case
    ];
    let mut conn = app.ctx.conn().await.expect("conn");
    for (id, text) in ids.iter().zip(typed) {
        diesel::update(posts::table.find(id))
            .set((
                posts::commune.eq(text),
                posts::commune_code.eq(None::<String>),
            ))
            .execute(&mut conn)
            .await
            .expect("legacy post");
    }
    diesel::update(accounts::table.find(bob.id))
        .set(accounts::commune.eq("Épinal"))
        .execute(&mut conn)
        .await
        .expect("legacy profile");

    let done = backfill_commune_codes(&mut conn).await.expect("backfill");
    assert_eq!(
        done,
        Backfilled {
            posts: 4,
            accounts: 1
        }
    );
    let mut found = Vec::new();
    for id in &ids {
        found.push(stored_commune(&app, *id).await);
    }
    let saint_amand = culturecnous::service::communes::resolve("Saint-Amand (62)");
    let culturecnous::service::communes::Resolved::Found(saint_amand) = saint_amand else {
        panic!("Saint-Amand (62)");
    };
    assert_eq!(
        found,
        vec![
            ("Saint-Dié-des-Vosges".into(), Some("88413".into())),
            ("Charmes".into(), Some("21146".into())),
            ("Épinal".into(), Some("88160".into())),
            ("Charmes".into(), None),
            ("Atlantide".into(), None),
            ("Saint-Amand".into(), Some(saint_amand.code.to_string())),
        ]
    );
    let bob_code: Option<String> = accounts::table
        .find(bob.id)
        .select(accounts::commune_code)
        .first(&mut conn)
        .await
        .expect("bob");
    assert_eq!(bob_code.as_deref(), Some("88160"));
    // Nothing left to match: a second run changes nothing.
    assert_eq!(
        backfill_commune_codes(&mut conn).await.expect("again"),
        Backfilled::default()
    );
}

/// The stored account of `username`.
async fn account_of(app: &TestApp, username: &str) -> culturecnous::db::accounts::DbAccount {
    let mut conn = app.ctx.conn().await.expect("conn");
    accounts::table
        .filter(accounts::username.eq(username))
        .select(culturecnous::db::accounts::DbAccount::as_select())
        .first(&mut conn)
        .await
        .expect("account")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_settings_form_edits_the_directory_fields_and_the_profile_shows_them() {
    let app = TestApp::new().await;
    app.create_user("cie", "member").await;
    let browser = Browser::logged_in(&app, "cie").await;
    let form = browser.get("/parametres/profil").await;
    assert_eq!(form.status, StatusCode::OK);
    for needle in [
        r#"<select id="f-directory_kind" name="directory_kind">"#,
        r#"name="discipline" value="théâtre""#,
        r#"list="communes-list""#,
        r#"<option value="Épinal"></option>"#,
        r#"id="f-postal_code""#,
        r#"id="f-latitude""#,
        r#"id="f-links""#,
        r#"id="f-directory_hidden""#,
    ] {
        assert!(form.body.contains(needle), "{needle}");
    }
    let token = csrf_in(&form.body);
    let fields = |commune: &'static str, postal: &'static str, lat: &'static str| {
        vec![
            Part::text("csrf_token", token.clone()),
            Part::text("display_name", "Compagnie du Rhin"),
            Part::text("directory_kind", "compagnie"),
            Part::text("discipline", "théâtre"),
            Part::text("discipline", "marionnette"),
            Part::text("disciplines", "Théâtre d'objets, THÉÂTRE"),
            Part::text("commune", commune),
            Part::text("postal_code", postal),
            Part::text("address", "12 rue Thiers"),
            Part::text("latitude", lat),
            Part::text("longitude", "6.95"),
            Part::text("phone", "03 29 00 00 00"),
            Part::text("contact_email", "contact@cie.example"),
            Part::text(
                "links",
                "https://billetterie.example/cie\r\nhttps://video.example/@cie",
            ),
            Part::text("directory_hidden", "on"),
        ]
    };
    // Every rule at once: the postal code is not the commune's, latitude out of range, a
    // link that is no web address; nothing is written.
    let mut bad = fields("Épinal", "88100", "91");
    bad.push(Part::text("links", "javascript:alert(1)"));
    let r = browser.post_multipart("/parametres/profil", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for field in ["postal_code", "latitude", "links"] {
        assert!(
            r.body.contains(&format!(r##"href="#f-{field}""##)),
            "{field}"
        );
    }
    assert!(
        r.body.contains(r#"value="12 rue Thiers""#),
        "the values typed stay"
    );
    let untouched = account_of(&app, "cie").await;
    assert_eq!(untouched.commune_code, None);
    assert!(!untouched.directory_hidden && untouched.links.is_empty());

    let r = browser
        .post_multipart(
            "/parametres/profil",
            fields("st die des vosges", "88100", "48,28"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let a = account_of(&app, "cie").await;
    assert_eq!(a.directory_kind, "compagnie");
    assert_eq!(
        a.disciplines,
        vec!["théâtre", "marionnette", "Théâtre d'objets"]
    );
    assert_eq!(a.commune, "Saint-Dié-des-Vosges");
    assert_eq!(a.commune_code.as_deref(), Some("88413"));
    assert_eq!(a.postal_code, "88100");
    assert_eq!((a.latitude, a.longitude), (Some(48.28), Some(6.95)));
    assert_eq!(a.phone, "03 29 00 00 00");
    assert_eq!(a.contact_email, "contact@cie.example");
    assert_eq!(
        a.links,
        vec![
            "https://billetterie.example/cie",
            "https://video.example/@cie"
        ]
    );
    assert!(a.directory_hidden);

    // The form shows it back: the ticked suggestions, the others, the commune by name.
    let form = browser.get("/parametres/profil").await;
    assert!(form.body.contains(r#"value="marionnette" checked"#));
    assert!(
        form.body
            .contains(r#"name="disciplines" value="Théâtre d&#39;objets""#)
            || form
                .body
                .contains(r#"name="disciplines" value="Théâtre d&#x27;objets""#)
    );
    assert!(
        form.body
            .contains(r#"name="commune" value="Saint-Dié-des-Vosges""#)
    );
    assert!(form.body.contains(r#"id="f-directory_hidden" name="directory_hidden" value="on" aria-describedby="f-directory_hidden-hint" checked"#));

    // The public profile shows the directory facts.
    let page = app.get_html("/users/cie").await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        r#"<dd class="p-category">Compagnie</dd>"#,
        r#"<span class="p-postal-code">88100</span> <span class="p-locality">Saint-Dié-des-Vosges</span>"#,
        "12 rue Thiers",
        r#"href="tel:0329000000""#,
        r#"href="mailto:contact@cie.example""#,
        r#"href="https://video.example/@cie""#,
        "marionnette",
    ] {
        assert!(page.body.contains(needle), "{needle}: {}", page.body);
    }

    // Unticking the box lists the member again; coordinates may be cleared together.
    let mut again = fields("Saint-Dié-des-Vosges", "", "");
    again.retain(|p| !matches!(p, Part::Text(n, _) if *n == "directory_hidden"));
    again.push(Part::text("longitude", ""));
    let r = browser.post_multipart("/parametres/profil", again).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let a = account_of(&app, "cie").await;
    assert!(!a.directory_hidden);
    assert_eq!((a.latitude, a.longitude), (None, None));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_profile_api_reads_and_patches_with_the_same_rules() {
    let app = TestApp::new().await;
    let t = member(&app, "biblio").await;
    let r = api(&app, Method::GET, "/api/v1/profile", &t, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["username"], "biblio");
    assert!(r.json()["commune"].is_null());
    assert!(r.json()["latitude"].is_null());

    let r = api(
        &app,
        Method::PATCH,
        "/api/v1/profile",
        &t,
        Some(json!({
            "directory_kind": "Bibliothèque / médiathèque",
            "disciplines": ["lecture publique", "conte"],
            "commune": "88160",
            "postal_code": "88000",
            "latitude": 48.17,
            "longitude": 6.45,
            "contact_email": "mediatheque@epinal.example",
            "links": ["https://catalogue.example/"],
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    assert_eq!(p["directory_kind"], "bibliotheque");
    assert_eq!(p["commune"]["code"], "88160");
    assert_eq!(p["commune"]["name"], "Épinal");
    assert_eq!(p["latitude"], 48.17);
    assert_eq!(p["links"], json!(["https://catalogue.example/"]));

    // A partial edit keeps the rest.
    let r = api(
        &app,
        Method::PATCH,
        "/api/v1/profile",
        &t,
        Some(json!({"phone": "+33 3 29 00 00 00", "directory_hidden": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = account_of(&app, "biblio").await;
    assert_eq!(a.commune_code.as_deref(), Some("88160"));
    assert_eq!(a.disciplines, vec!["lecture publique", "conte"]);
    assert!(a.directory_hidden);
    assert_eq!(a.phone, "+33 3 29 00 00 00");

    // Each rule, each with its field; nothing written.
    for (body, fields) in [
        (json!({"latitude": null}), vec!["latitude"]),
        (json!({"longitude": 200.0}), vec!["longitude"]),
        (
            json!({"latitude": -91.0, "longitude": 0.0}),
            vec!["latitude"],
        ),
        (json!({"postal_code": "88100"}), vec!["postal_code"]),
        (json!({"commune": "Golbey"}), vec!["postal_code"]),
        (json!({"postal_code": "8800"}), vec!["postal_code"]),
        (json!({"commune": "Atlantide"}), vec!["commune"]),
        (json!({"directory_kind": "fusée"}), vec!["directory_kind"]),
        (json!({"links": ["ftp://a.example"]}), vec!["links"]),
        (
            json!({"links": (0..6).map(|i| format!("https://{i}.example")).collect::<Vec<_>>()}),
            vec!["links"],
        ),
        (json!({"contact_email": "nope"}), vec!["contact_email"]),
        (
            json!({"phone": "call me", "website": "javascript:x"}),
            vec!["website", "phone"],
        ),
    ] {
        let r = api(
            &app,
            Method::PATCH,
            "/api/v1/profile",
            &t,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        let mut got = error_fields(&r);
        got.sort();
        let mut want: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{body}");
    }
    let after = account_of(&app, "biblio").await;
    assert_eq!(after.latitude, Some(48.17));
    assert_eq!(after.postal_code, "88000");
    assert_eq!(after.commune_code.as_deref(), Some("88160"));

    // Both coordinates cleared together, the commune removed with its postal code.
    let r = api(
        &app,
        Method::PATCH,
        "/api/v1/profile",
        &t,
        Some(json!({"latitude": null, "longitude": null, "commune": "", "postal_code": ""})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["commune"].is_null() && r.json()["longitude"].is_null());
    // An unknown field is refused, named.
    let r = api(
        &app,
        Method::PATCH,
        "/api/v1/profile",
        &t,
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["colour".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_announcement_form_offers_the_communes_and_names_a_wrong_one() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let browser = Browser::logged_in(&app, "alice").await;
    let form = browser.get("/annonces/nouvelle").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"list="communes-list""#));
    assert!(
        form.body
            .contains(r#"<option value="Saint-Dié-des-Vosges"></option>"#)
    );
    let csrf = csrf_in(&form.body);
    let send = |commune: &'static str| {
        let csrf = csrf.clone();
        let browser = &browser;
        async move {
            browser
                .post_form(
                    "/annonces/nouvelle",
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("title", "Résidence d'été"),
                        ("body", "Trois semaines."),
                        ("kind", "residence"),
                        ("commune", commune),
                    ],
                )
                .await
        }
    };
    let r = send("Atlantide").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains(r##"href="#f-commune""##), "{}", r.body);
    assert!(r.body.contains(r#"value="Atlantide""#));
    assert_eq!(rows_in(&app, "posts").await, 0);
    let r = send("golbey").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let stored: (String, Option<String>) = posts::table
        .select((posts::commune, posts::commune_code))
        .first(&mut conn)
        .await
        .expect("post");
    assert_eq!(stored, ("Golbey".to_string(), Some("88209".to_string())));
}
