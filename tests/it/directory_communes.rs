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
