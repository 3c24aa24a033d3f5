//! The directory search (`/annuaire`, `GET /api/v1/directory`): French full text with
//! accents and plurals forgiven, trigram typos, filters, distance order, what is never listed,
//! odd queries, pagination, and the page and the API agreeing. Venues, offers and listed
//! entries are inserted with SQL (their own code lives elsewhere).

use crate::common::TestApp;
use crate::helpers::{call, enc, error_fields, token, unescape};
use axum::http::{Method, StatusCode};
use diesel_async::RunQueryDsl;
use serde_json::Value;

async fn exec(app: &TestApp, sql: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A member with its directory fields.
async fn member(
    app: &TestApp,
    username: &str,
    name: &str,
    kind: &str,
    disciplines: &str,
    commune: &str,
) -> i64 {
    let account = app.create_user(username, "member").await;
    exec(
        app,
        &format!(
            "UPDATE accounts SET display_name = '{name}', directory_kind = '{kind}', \
             disciplines = '{disciplines}', commune_code = '{commune}' WHERE id = {}",
            account.id
        ),
    )
    .await;
    account.id
}

/// A venue (with its actor) owned by `owner`.
async fn venue(app: &TestApp, slug: &str, name: &str, commune: &str, owner: i64) {
    exec(
        app,
        &format!(
            "WITH a AS (INSERT INTO actors (ap_id, kind, username, domain, local, name, inbox_url, \
               public_key_pem, private_key_pem) VALUES ('http://localhost:8080/venues/{slug}', \
               'Organization', '{slug}', 'localhost:8080', true, '{name}', \
               'http://localhost:8080/venues/{slug}/inbox', 'pem', 'pem') RETURNING id) \
             INSERT INTO venues (actor_id, slug, owner_account_id, name, commune_code, disciplines) \
             SELECT id, '{slug}', {owner}, '{name}', '{commune}', '{{musique}}' FROM a"
        ),
    )
    .await;
}

async fn offer(app: &TestApp, owner: i64, title: &str, commune: &str, extra: &str) {
    exec(
        app,
        &format!(
            "INSERT INTO offers (account_id, category, title, terms, commune_code, public, closed_at) \
             VALUES ({owner}, 'son', '{title}', 'free', '{commune}', {extra})"
        ),
    )
    .await;
}

async fn entry(app: &TestApp, name: &str, kind: &str, commune: &str, extra: &str) {
    exec(
        app,
        &format!(
            "INSERT INTO directory_entries (name, kind, disciplines, email, phone, website, \
             commune_code, claimed_at, account_id) VALUES ('{name}', '{kind}', '{{lecture publique}}', \
             'secret-{kind}@example.org', '03 29 00 00 00', 'https://example.org', '{commune}', {extra})"
        ),
    )
    .await;
}

/// Épinal 88160, Saint-Dié-des-Vosges 88413, Gérardmer 88196, Remiremont 88383, Nancy 54395.
async fn seeded() -> TestApp {
    let app = TestApp::new().await;
    let alice = member(
        &app,
        "alice",
        "Compagnie du Théâtre des Ombres",
        "compagnie",
        "{théâtre}",
        "88160",
    )
    .await;
    member(
        &app,
        "bruno",
        "Ballet des Vosges",
        "compagnie",
        "{Danse}",
        "88413",
    )
    .await;
    member(
        &app,
        "cachee",
        "Théâtre Caché",
        "compagnie",
        "{théâtre}",
        "88160",
    )
    .await;
    exec(
        &app,
        "UPDATE accounts SET directory_hidden = true WHERE username = 'cachee'",
    )
    .await;
    member(
        &app,
        "suspendu",
        "Théâtre Suspendu",
        "compagnie",
        "{théâtre}",
        "88160",
    )
    .await;
    exec(
        &app,
        "UPDATE accounts SET suspended_at = now() WHERE username = 'suspendu'",
    )
    .await;
    venue(
        &app,
        "salle-des-fetes-gerardmer",
        "Salle des danses de Gérardmer",
        "88196",
        alice,
    )
    .await;
    venue(&app, "salle-masquee", "Salle masquée", "88160", alice).await;
    exec(
        &app,
        "UPDATE venues SET hidden_at = now() WHERE slug = 'salle-masquee'",
    )
    .await;
    offer(
        &app,
        alice,
        "Console son seize pistes",
        "88383",
        "true, NULL",
    )
    .await;
    offer(
        &app,
        alice,
        "Console réservée aux membres",
        "88383",
        "false, NULL",
    )
    .await;
    offer(
        &app,
        alice,
        "Console prêtée puis rendue",
        "88383",
        "true, now()",
    )
    .await;
    entry(
        &app,
        "Médiathèque intercommunale de Saint-Dié",
        "bibliotheque",
        "88413",
        "NULL, NULL",
    )
    .await;
    entry(
        &app,
        "Théâtre déjà revendiqué",
        "lieu",
        "88160",
        &format!("now(), {alice}"),
    )
    .await;
    app
}

async fn api(app: &TestApp, query: &str) -> Value {
    let r = call(
        app,
        Method::GET,
        &format!("/api/v1/directory?{query}"),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    r.json()
}

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn french_words_accents_plurals_and_typos_are_forgiven() {
    let app = seeded().await;
    let theatre = names(&api(&app, "q=theatre").await);
    assert_eq!(theatre, ["Compagnie du Théâtre des Ombres"], "{theatre:?}");
    // "danses" finds the member whose discipline is "Danse" and the venue named "danses".
    let danses = names(&api(&app, "q=danses").await);
    assert!(
        danses.contains(&"Ballet des Vosges".to_string()),
        "{danses:?}"
    );
    assert!(
        danses.contains(&"Salle des danses de Gérardmer".to_string()),
        "{danses:?}"
    );
    // A typo, without the accent: the listed entry is found by trigram likeness.
    let typo = api(&app, &format!("q={}", enc("médiatèque"))).await;
    assert_eq!(
        names(&typo),
        ["Médiathèque intercommunale de Saint-Dié"],
        "{typo}"
    );
    let item = &typo["items"][0];
    assert_eq!(item["claimed"], false);
    assert_eq!(item["type"], "member");
    assert_eq!(item["kind"], "bibliotheque");
    assert!(
        item["url"]
            .as_str()
            .unwrap_or("")
            .contains("/annuaire/fiches/"),
        "{item}"
    );
    // Name matches come before matches of a discipline only.
    exec(
        &app,
        "UPDATE accounts SET disciplines = '{théâtre, danse}' WHERE username = 'bruno'",
    )
    .await;
    let ranked = names(&api(&app, "q=theatre").await);
    assert_eq!(
        ranked,
        ["Compagnie du Théâtre des Ombres", "Ballet des Vosges"],
        "{ranked:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hidden_suspended_claimed_and_system_actors_are_never_listed() {
    let app = seeded().await;
    let all = api(&app, "").await;
    let listed = names(&all);
    for absent in [
        "Théâtre Caché",
        "Théâtre Suspendu",
        "Salle masquée",
        "Théâtre déjà revendiqué",
        "Console réservée aux membres",
        "Console prêtée puis rendue",
    ] {
        assert!(
            !listed.contains(&absent.to_string()),
            "{absent}: {listed:?}"
        );
    }
    // The instance actor, the announcement channel and the département's page have no account.
    assert_eq!(all["total"], 5, "{listed:?}");
    assert_eq!(
        listed,
        [
            "Ballet des Vosges",
            "Compagnie du Théâtre des Ombres",
            "Console son seize pistes",
            "Médiathèque intercommunale de Saint-Dié",
            "Salle des danses de Gérardmer"
        ]
    );
    // A blocked actor is left out too (db::actors::sanctioned_sql).
    exec(
        &app,
        "UPDATE actors SET blocked_at = now() WHERE username = 'bruno'",
    )
    .await;
    assert!(!names(&api(&app, "").await).contains(&"Ballet des Vosges".to_string()));
    // Members see members-only offers with a token; closed offers when asked.
    let token = token(&app, "alice").await;
    let r = call(
        &app,
        Method::GET,
        "/api/v1/directory?type=offer",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        names(&r.json()),
        ["Console réservée aux membres", "Console son seize pistes"]
    );
    assert_eq!(
        names(&api(&app, "type=offer&q=consoles").await),
        ["Console son seize pistes"]
    );
    let closed = names(&api(&app, "type=offer&closed=true").await);
    assert_eq!(
        closed,
        ["Console prêtée puis rendue", "Console son seize pistes"]
    );
    // A bad token is refused rather than ignored.
    let r = call(&app, Method::GET, "/api/v1/directory", Some("nope"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_by_type_kind_discipline_and_commune() {
    let app = seeded().await;
    assert_eq!(
        names(&api(&app, "type=venue").await),
        ["Salle des danses de Gérardmer"]
    );
    assert_eq!(
        names(&api(&app, "type=member").await),
        [
            "Ballet des Vosges",
            "Compagnie du Théâtre des Ombres",
            "Médiathèque intercommunale de Saint-Dié"
        ]
    );
    assert_eq!(
        names(&api(&app, "kind=lieu").await),
        ["Salle des danses de Gérardmer"]
    );
    assert_eq!(
        names(&api(&app, "kind=bibliotheque").await),
        ["Médiathèque intercommunale de Saint-Dié"]
    );
    // Case and accents of disciplines do not matter.
    assert_eq!(
        names(&api(&app, "discipline=THEATRE").await),
        ["Compagnie du Théâtre des Ombres"]
    );
    assert_eq!(
        names(&api(&app, &format!("discipline={}", enc("danse"))).await),
        ["Ballet des Vosges"]
    );
    let by_commune = api(&app, &format!("commune={}", enc("Saint-Dié-des-Vosges"))).await;
    assert_eq!(
        names(&by_commune),
        [
            "Ballet des Vosges",
            "Médiathèque intercommunale de Saint-Dié"
        ]
    );
    assert_eq!(
        by_commune["items"][0]["commune"],
        "Saint-Dié-des-Vosges (88)"
    );
    assert_eq!(by_commune["items"][0]["commune_code"], "88413");
    // Unknown values are named.
    for (query, field) in [
        ("kind=banane", "kind"),
        ("type=chose", "type"),
        ("commune=Nulle-Part-Sur-Rien", "commune"),
        ("near=Nulle-Part-Sur-Rien", "near"),
        ("near=Epinal&radius=-4", "radius"),
    ] {
        let r = call(
            &app,
            Method::GET,
            &format!("/api/v1/directory?{query}"),
            None,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(error_fields(&r), [field], "{query}: {}", r.body);
        let page = app.get_html(&format!("/annuaire?{query}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(
            page.body.contains(&format!("href=\"#f-{field}\"")),
            "{query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn near_a_commune_sorts_by_distance_in_km_within_a_radius() {
    let app = seeded().await;
    // The member in Épinal has its own coordinates; the others use their commune's centre.
    exec(
        &app,
        "UPDATE accounts SET latitude = 48.10, longitude = 6.50 WHERE username = 'alice'",
    )
    .await;
    let v = api(&app, "near=Remiremont").await;
    assert_eq!(
        names(&v),
        [
            "Console son seize pistes",
            "Compagnie du Théâtre des Ombres",
            "Salle des danses de Gérardmer",
            "Ballet des Vosges",
            "Médiathèque intercommunale de Saint-Dié"
        ]
    );
    let km: Vec<f64> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["distance_km"].as_f64().expect("distance"))
        .collect();
    assert_eq!(km[0], 0.0);
    assert!((10.0..15.0).contains(&km[1]), "{km:?}");
    assert!(km.windows(2).all(|w| w[0] <= w[1]), "{km:?}");
    let near = names(&api(&app, "near=Remiremont&radius=25").await);
    assert_eq!(
        near,
        [
            "Console son seize pistes",
            "Compagnie du Théâtre des Ombres",
            "Salle des danses de Gérardmer"
        ]
    );
    // The page shows the distance.
    let page = app.get_html("/annuaire?near=Remiremont&radius=25").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("à 0,0 km"), "{}", page.body);
    assert!(page.body.contains("<svg"), "a map of the results");
    // Without coordinates of its own, a member stands at its commune's centre again.
    exec(
        &app,
        "UPDATE accounts SET latitude = NULL, longitude = NULL WHERE username = 'alice'",
    )
    .await;
    let v = api(&app, "near=Remiremont").await;
    let alice = distance_of(&v, "Compagnie du Théâtre des Ombres");
    assert!((15.0..25.0).contains(&alice), "Épinal's centre: {alice}");
    // Results without any position are left out when sorting by distance.
    exec(
        &app,
        "UPDATE directory_entries SET commune_code = NULL WHERE claimed_at IS NULL",
    )
    .await;
    assert_eq!(api(&app, "near=Remiremont").await["total"], 4);
}

fn distance_of(v: &Value, name: &str) -> f64 {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["name"] == name)
        .and_then(|i| i["distance_km"].as_f64())
        .unwrap_or_else(|| panic!("{name} with a distance in {v}"))
}

/// Rows placed at their commune's centre move with it when a new list of communes is loaded.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_list_of_communes_moves_the_rows_placed_by_their_commune() {
    let app = seeded().await;
    let before = distance_of(&api(&app, "near=Remiremont").await, "Ballet des Vosges");
    // An older list put Saint-Dié in Marseille, and the rows there were placed by it.
    exec(
        &app,
        "UPDATE communes SET latitude = 43.3, longitude = 5.4 WHERE code = '88413'",
    )
    .await;
    exec(
        &app,
        "UPDATE accounts SET commune_code = commune_code WHERE commune_code = '88413'",
    )
    .await;
    let moved = distance_of(&api(&app, "near=Remiremont").await, "Ballet des Vosges");
    assert!(moved > 400.0, "{moved}");
    // This build's list is loaded again at start: the rows come back with the commune.
    exec(&app, "DELETE FROM reference_data").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    assert!(
        culturecnous::db::reference::sync(&mut conn)
            .await
            .expect("load")
    );
    let after = distance_of(&api(&app, "near=Remiremont").await, "Ballet des Vosges");
    assert!((after - before).abs() < 1e-6, "{before} then {after}");
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_queries_give_sensible_results_never_errors() {
    let app = seeded().await;
    for q in [
        "&|!():*'\\".to_string(),
        "theatre & | ! ( ) : * ' \\".to_string(),
        "'theatre".to_string(),
        "théâtre:*".to_string(),
        "!theatre".to_string(),
        "\"théâtre\" -danse OR".to_string(),
        "x".repeat(1000),
        format!("theatre {}", "a".repeat(995)),
        "   ".to_string(),
        "le la les de".to_string(),
    ] {
        let v = api(&app, &format!("q={}", enc(&q))).await;
        assert!(v["total"].as_i64().is_some(), "{q}");
        let page = app.get_html(&format!("/annuaire?q={}", enc(&q))).await;
        assert_eq!(page.status, StatusCode::OK, "{q}");
    }
    // Operators are read as spaces: the word still matches.
    assert_eq!(
        names(&api(&app, &format!("q={}", enc("!theatre:*"))).await),
        ["Compagnie du Théâtre des Ombres"]
    );
    // Only symbols: the whole directory.
    assert_eq!(
        api(&app, &format!("q={}", enc("&|!():*'\\"))).await["total"],
        5
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_of_twenty_keep_the_filters() {
    let app = TestApp::new().await;
    let mut values = Vec::new();
    for i in 0..45 {
        values.push(format!(
            "('Bibliothèque numéro {i:02}', 'bibliotheque', '{{lecture publique}}', '88160')"
        ));
    }
    exec(
        &app,
        &format!(
            "INSERT INTO directory_entries (name, kind, disciplines, commune_code) VALUES {}",
            values.join(", ")
        ),
    )
    .await;
    let first = api(&app, "q=bibliotheques&kind=bibliotheque").await;
    assert_eq!(first["total"], 45);
    assert_eq!(first["per_page"], 20);
    assert_eq!(first["items"].as_array().map(Vec::len), Some(20));
    let third = api(&app, "q=bibliotheques&kind=bibliotheque&page=3").await;
    assert_eq!(third["page"], 3);
    assert_eq!(third["items"].as_array().map(Vec::len), Some(5));
    let beyond = api(&app, "q=bibliotheques&kind=bibliotheque&page=9").await;
    assert_eq!(beyond["total"], 45);
    assert_eq!(beyond["items"].as_array().map(Vec::len), Some(0));
    let page = app
        .get_html("/annuaire?q=bibliotheques&kind=bibliotheque&page=2")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("45 résultats"), "{}", page.body);
    assert!(
        page.body
            .contains("/annuaire?q=bibliotheques&#38;kind=bibliotheque&#38;page=3"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("/annuaire?q=bibliotheques&#38;kind=bibliotheque&#38;page=1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_and_the_api_agree_and_the_listed_entry_has_its_page() {
    let app = seeded().await;
    for query in [
        "q=theatre",
        "q=danses",
        "type=member",
        "near=Remiremont",
        "",
    ] {
        let v = api(&app, query).await;
        let page = app.get_html(&format!("/annuaire?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        let body = unescape(&page.body);
        for item in v["items"].as_array().expect("items") {
            let url = item["url"].as_str().unwrap_or("");
            let path = crate::helpers::path_of(url);
            assert!(
                body.contains(&format!(
                    "<a href=\"{path}\">{}</a>",
                    item["name"].as_str().unwrap_or("")
                )),
                "{query}: {path}"
            );
        }
        let heading = match v["total"].as_i64() {
            Some(1) => "1 résultat".to_string(),
            Some(n) => format!("{n} résultats"),
            None => panic!("total"),
        };
        assert!(body.contains(&heading), "{query}: {heading}");
    }
    let page = app.get_html("/annuaire").await;
    assert!(page.body.contains("Fiche non revendiquée"));
    assert!(
        page.body
            .contains("href=\"/annuaire\" aria-current=\"page\"")
    );
    assert!(page.body.contains("href=\"/users/alice\""));
    assert!(
        page.body
            .contains("href=\"/venues/salle-des-fetes-gerardmer\"")
    );
    assert!(page.body.contains("href=\"/mutualisation/"));
    // The listed entry's page: public details, never the e-mail address.
    let v = api(&app, "q=mediatheque").await;
    let path = crate::helpers::path_of(v["items"][0]["url"].as_str().unwrap_or(""));
    let entry = app.get_html(&path).await;
    assert_eq!(entry.status, StatusCode::OK);
    let body = unescape(&entry.body);
    assert!(body.contains("Médiathèque intercommunale de Saint-Dié"));
    assert!(body.contains("Bibliothèque / médiathèque"));
    assert!(body.contains("Saint-Dié-des-Vosges (88)"));
    assert!(body.contains("03 29 00 00 00"));
    assert!(body.contains("https://example.org"));
    assert!(!body.contains("secret-"), "never the e-mail");
    assert!(body.contains(
        "Vous êtes cette structure ? Demandez votre invitation à l'équipe du département."
    ));
    assert!(body.contains("class=\"report-link\""));
    // A claimed entry sends to its account; an unknown one is 404.
    let mut conn = app.ctx.conn().await.expect("conn");
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let claimed: Id =
        diesel::sql_query("SELECT id FROM directory_entries WHERE claimed_at IS NOT NULL")
            .get_result(&mut conn)
            .await
            .expect("claimed");
    let r = app
        .get_html(&format!("/annuaire/fiches/{}", claimed.id))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), Some("/users/alice"));
    assert_eq!(
        app.get_html("/annuaire/fiches/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_html("/annuaire/fiches/abc").await.status,
        StatusCode::NOT_FOUND
    );
}
