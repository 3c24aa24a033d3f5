//! Issue 10, domain blocks, rules and roles: admins block and unblock domains (API, pages,
//! command line) and edit the instance's rules, each change in the moderators' log; moderators
//! and members get 403 and nothing changes; the "À propos" page shows the rules and the
//! moderated servers with their public comment only; role changes are logged.

use crate::{
    common::TestApp,
    helpers::{Browser, api, error_fields, local_actor, remote_follower, rows_in, token, unescape},
};
use axum::http::{Method, StatusCode};
use culturecnous::{
    db::{moderation_actions::DbModerationAction, schema::moderation_actions},
    service::domain_blocks,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

/// The moderators' log, oldest first.
async fn log_entries(app: &TestApp) -> Vec<DbModerationAction> {
    let mut conn = app.ctx.conn().await.expect("conn");
    moderation_actions::table
        .order(moderation_actions::id)
        .select(DbModerationAction::as_select())
        .load(&mut conn)
        .await
        .expect("log")
}

async fn rule_texts(app: &TestApp) -> Vec<String> {
    let r = api_get(app, "/api/v1/rules").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["text_fr"].as_str().expect("text").to_string())
        .collect()
}

/// A browser with a session of `username` (and its CSRF token for `submit_form`).
async fn browser_of<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let account = culturecnous::db::accounts::by_login(&mut conn, username)
        .await
        .expect("account")
        .expect("exists");
    Browser::with_session(app, &account).await
}

async fn api_get(app: &TestApp, uri: &str) -> crate::common::TestResponse {
    crate::helpers::call(app, Method::GET, uri, None, None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_block_change_list_and_lift_domains_through_the_api() {
    let app = TestApp::new().await;
    let admin = app.create_user("ada", "admin").await;
    app.create_user("alice", "member").await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "spam.example", "spammer", &alice).await;
    let t = token(&app, "ada").await;

    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/domain-blocks",
        &t,
        Some(json!({
            "domain": "Spam.Example",
            "severity": "silence",
            "public_comment": "Publicités",
            "private_comment": "voir le signalement 12",
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let made = r.json();
    assert_eq!(made["created"], true);
    assert_eq!(made["block"]["domain"], "spam.example");
    assert_eq!(made["block"]["severity"], "silence");
    assert_eq!(made["block"]["private_comment"], "voir le signalement 12");
    assert_eq!(made["follows_removed"], 0);
    assert_eq!(rows_in(&app, "follows").await, 1, "silence keeps follows");

    // Changing it: 200, and a reject cuts the follow.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/domain-blocks",
        &t,
        Some(json!({"domain": "spam.example", "severity": "reject", "reject_reports": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let made = r.json();
    assert_eq!(made["created"], false);
    assert_eq!(made["block"]["severity"], "reject");
    assert_eq!(made["block"]["reject_reports"], true);
    assert_eq!(made["follows_removed"], 1);
    assert_eq!(rows_in(&app, "follows").await, 0);

    let r = api(&app, Method::GET, "/api/v1/admin/domain-blocks", &t, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.json()["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["domain"], "spam.example");
    let r = api(
        &app,
        Method::GET,
        "/api/v1/admin/domain-blocks/spam.example",
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["severity"], "reject");
    let r = api(
        &app,
        Method::GET,
        "/api/v1/admin/domain-blocks/other.example",
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = api(
        &app,
        Method::DELETE,
        "/api/v1/admin/domain-blocks/spam.example",
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(
        &app,
        Method::DELETE,
        "/api/v1/admin/domain-blocks/spam.example",
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        domain_blocks::list(&app.ctx)
            .await
            .expect("list")
            .is_empty()
    );

    let log = log_entries(&app).await;
    let kinds: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(kinds, ["domain_block", "domain_block", "domain_unblock"]);
    for e in &log {
        assert_eq!(e.moderator_account_id, Some(admin.id));
        assert_eq!(e.target, "spam.example");
    }
    assert_eq!(log[0].note, "voir le signalement 12");
    assert_eq!(log[0].details["severity"], "silence");
    assert_eq!(log[0].details["reject_reports"], false);
    assert_eq!(log[1].details["severity"], "reject");
    assert_eq!(log[1].details["reject_reports"], true);
    assert_eq!(log[1].details["previous_severity"], "silence");
    assert_eq!(log[1].details["follows_removed"], 1);
    assert_eq!(log[2].details["severity"], "reject");
}

#[tokio::test(flavor = "multi_thread")]
async fn moderators_and_members_are_refused_and_nothing_changes() {
    let app = TestApp::new().await;
    app.create_user("ada", "admin").await;
    app.create_user("moderatrice", "moderator").await;
    app.create_user("amelie", "member").await;
    let admin = token(&app, "ada").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/domain-blocks",
        &admin,
        Some(json!({"domain": "kept.example", "severity": "silence"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rules_before = rule_texts(&app).await;
    let log_before = log_entries(&app).await.len();
    let first_rule = api_get(&app, "/api/v1/rules").await.json()["items"][0]["id"]
        .as_i64()
        .expect("id");

    for name in ["moderatrice", "amelie"] {
        let t = token(&app, name).await;
        let calls: Vec<(Method, String, Option<Value>)> = vec![
            (
                Method::POST,
                "/api/v1/admin/domain-blocks".into(),
                Some(json!({"domain": "new.example", "severity": "reject"})),
            ),
            (Method::GET, "/api/v1/admin/domain-blocks".into(), None),
            (
                Method::GET,
                "/api/v1/admin/domain-blocks/kept.example".into(),
                None,
            ),
            (
                Method::DELETE,
                "/api/v1/admin/domain-blocks/kept.example".into(),
                None,
            ),
            (
                Method::POST,
                "/api/v1/admin/rules".into(),
                Some(json!({"text_fr": "Une règle de plus."})),
            ),
            (
                Method::PATCH,
                format!("/api/v1/admin/rules/{first_rule}"),
                Some(json!({"text_fr": "Changée."})),
            ),
            (
                Method::DELETE,
                format!("/api/v1/admin/rules/{first_rule}"),
                None,
            ),
        ];
        // Refused before the body is read: a bad body does not tell them more.
        let r = api(
            &app,
            Method::POST,
            "/api/v1/admin/domain-blocks",
            &t,
            Some(json!({"domain": "bad domain"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        for (method, uri, body) in calls {
            let r = api(&app, method.clone(), &uri, &t, body).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{name} {method} {uri}: {}",
                r.body
            );
        }

        let browser = browser_of(&app, name).await;
        for path in [
            "/admin/domaines",
            "/admin/regles",
            &format!("/admin/regles/{first_rule}"),
        ] {
            let r = browser.get(path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name} GET {path}");
        }
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                "/admin/domaines".into(),
                vec![("domain", "new.example"), ("severity", "silence")],
            ),
            ("/admin/domaines/kept.example/debloquer".into(), vec![]),
            (
                "/admin/regles".into(),
                vec![("text_fr", "Une règle de plus.")],
            ),
            (
                format!("/admin/regles/{first_rule}"),
                vec![("text_fr", "Changée.")],
            ),
            (
                format!("/admin/regles/{first_rule}/deplacer"),
                vec![("position", "3")],
            ),
            (format!("/admin/regles/{first_rule}/retirer"), vec![]),
        ];
        for (path, fields) in posts {
            let r = browser.submit_form(&path, &fields).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name} POST {path}");
        }
    }
    let blocks = domain_blocks::list(&app.ctx).await.expect("list");
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].domain, "kept.example");
    assert_eq!(rule_texts(&app).await, rules_before);
    assert_eq!(log_entries(&app).await.len(), log_before);

    // The overview links to both pages for admins only.
    let overview = browser_of(&app, "moderatrice").await.get("/admin").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(!overview.body.contains("/admin/domaines"));
    let overview = browser_of(&app, "ada").await.get("/admin").await;
    assert!(overview.body.contains("href=\"/admin/domaines\""));
    assert!(overview.body.contains("href=\"/admin/regles\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_domain_block_input_names_the_field_and_writes_nothing() {
    let app = TestApp::new().await;
    app.create_user("ada", "admin").await;
    let t = token(&app, "ada").await;
    let cases = [
        (
            json!({"domain": "bad domain", "severity": "silence"}),
            "domain",
        ),
        (
            json!({"domain": "x.example/path", "severity": "reject"}),
            "domain",
        ),
        (
            json!({"domain": "localhost", "severity": "reject"}),
            "domain",
        ),
        (
            json!({"domain": "localhost:8080", "severity": "silence"}),
            "domain",
        ),
        (
            json!({"domain": "x.example", "severity": "mute"}),
            "severity",
        ),
        (json!({"domain": "x.example", "severity": ""}), "severity"),
        (json!({"severity": "reject"}), "domain"),
        (json!({"domain": "x.example"}), "severity"),
    ];
    for (body, field) in cases {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/admin/domain-blocks",
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
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{body}"
        );
        assert_eq!(error_fields(&r), [field], "{body}: {}", r.body);
    }
    assert!(
        domain_blocks::list(&app.ctx)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(log_entries(&app).await.is_empty());

    // The page says the same next to the field.
    let browser = browser_of(&app, "ada").await;
    let r = browser
        .submit_form(
            "/admin/domaines",
            &[("domain", "localhost"), ("severity", "silence")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"f-domain-error\""), "{}", r.body);
    assert!(
        unescape(&r.body).contains("Ce domaine est celui de cette instance."),
        "{}",
        r.body
    );
    let r = browser
        .submit_form(
            "/admin/domaines",
            &[("domain", "x.example"), ("severity", "mute")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"f-severity-error\""), "{}", r.body);
    assert!(
        domain_blocks::list(&app.ctx)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_page_blocks_confirms_a_reject_and_unblocks() {
    let app = TestApp::new().await;
    let admin = app.create_user("ada", "admin").await;
    app.create_user("alice", "member").await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "far.example", "far", &alice).await;
    let browser = browser_of(&app, "ada").await;

    let page = browser.get("/admin/domaines").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<label for=\"f-domain\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<label for=\"f-public_comment\">"));
    assert!(page.body.contains("<label for=\"f-private_comment\">"));
    assert!(page.body.contains("<label for=\"f-reject_reports\">"));

    let r = browser
        .submit_form(
            "/admin/domaines",
            &[
                ("domain", "far.example"),
                ("severity", "silence"),
                ("public_comment", "Trop de publicités"),
                ("private_comment", "note interne"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = browser.get("/admin/domaines").await;
    assert!(
        page.body.contains("id=\"domaine-far.example\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Trop de publicités"));
    assert!(page.body.contains("note interne"));

    // A reject asks first, saying what it cuts; nothing changes until it is confirmed.
    let fields = [
        ("domain", "far.example"),
        ("severity", "reject"),
        ("public_comment", "Trop de publicités"),
        ("private_comment", "note interne"),
        ("reject_reports", "1"),
    ];
    let r = browser.submit_form("/admin/domaines", &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let text = unescape(&r.body);
    assert!(text.contains("Confirmer le rejet de far.example"), "{text}");
    assert!(
        text.contains("abonnements supprimés, dans les deux sens : <strong>1</strong>"),
        "{text}"
    );
    assert!(text.contains("name=\"confirm\" value=\"1\""));
    assert_eq!(rows_in(&app, "follows").await, 1);
    assert_eq!(
        domain_blocks::get(&app.ctx, "far.example")
            .await
            .expect("get")
            .expect("block")
            .severity,
        "silence"
    );

    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "1"));
    let r = browser.submit_form("/admin/domaines", &confirmed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let block = domain_blocks::get(&app.ctx, "far.example")
        .await
        .expect("get")
        .expect("block");
    assert_eq!(block.severity, "reject");
    assert!(block.reject_reports);
    assert_eq!(rows_in(&app, "follows").await, 0);

    let r = browser
        .submit_form("/admin/domaines/far.example/debloquer", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        domain_blocks::list(&app.ctx)
            .await
            .expect("list")
            .is_empty()
    );
    let r = browser
        .submit_form("/admin/domaines/far.example/debloquer", &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let log = log_entries(&app).await;
    let kinds: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(kinds, ["domain_block", "domain_block", "domain_unblock"]);
    assert!(log.iter().all(|e| e.moderator_account_id == Some(admin.id)));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_about_page_shows_rules_and_moderated_servers_without_private_comments() {
    let app = TestApp::new().await;
    app.create_user("ada", "admin").await;
    let t = token(&app, "ada").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/domain-blocks",
        &t,
        Some(json!({
            "domain": "spam.example",
            "severity": "reject",
            "public_comment": "Spam massif",
            "private_comment": "SECRET-NOTE",
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let r = app.get_html("/a-propos").await;
    assert_eq!(r.status, StatusCode::OK);
    let text = unescape(&r.body);
    assert!(text.contains("<ol class=\"rules\">"), "{text}");
    assert!(
        text.contains("Pas de publicité abusive ni de messages répétés (spam)."),
        "{text}"
    );
    assert!(text.contains("spam.example"));
    assert!(text.contains("Spam massif"));
    assert!(text.contains("Suspendu : aucun échange avec ce serveur"));
    assert!(!text.contains("SECRET-NOTE"));
    assert!(text.contains("Comment fonctionne la modération"));

    // In English, the rules' English text.
    let browser = Browser::new(&app);
    browser.set_cookie("lang", "en");
    let r = browser.get("/a-propos").await;
    assert!(
        r.body
            .contains("No unsolicited advertising or repeated messages (spam)."),
        "{}",
        r.body
    );
    assert!(!r.body.contains("SECRET-NOTE"));

    // Linked from every page's footer; the registration page shows the rules.
    assert!(app.get_html("/").await.body.contains("href=\"/a-propos\""));
    let register = unescape(&app.get_html("/inscription").await.body);
    assert!(
        register.contains("Pas de publicité abusive ni de messages répétés (spam)."),
        "{register}"
    );
    assert!(register.contains("En vous inscrivant, vous acceptez ces règles."));
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_edit_rules_through_the_api_and_withdrawn_rules_stay_readable() {
    let app = TestApp::new().await;
    let admin = app.create_user("ada", "admin").await;
    let t = token(&app, "ada").await;
    let rules = api_get(&app, "/api/v1/rules").await.json();
    let items = rules["items"].as_array().expect("items");
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["number"], 1);
    let first = items[0]["id"].as_i64().expect("id");

    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/rules",
        &t,
        Some(json!({"text_fr": "  Citer ses sources. ", "text_en": "Cite your sources."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    assert_eq!(created["number"], 5);
    assert_eq!(created["text_fr"], "Citer ses sources.");
    let id = created["id"].as_i64().expect("id");

    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/rules/{id}"),
        &t,
        Some(json!({"text_fr": "Citer ses sources et ses crédits.", "position": 1})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["number"], 1);
    assert_eq!(r.json()["text_en"], "Cite your sources.");
    let texts = rule_texts(&app).await;
    assert_eq!(texts.len(), 5);
    assert_eq!(texts[0], "Citer ses sources et ses crédits.");
    assert!(texts[1].starts_with("Respecter la loi"), "{texts:?}");

    // Bad input names the field; nothing changes.
    for (body, field) in [
        (json!({"text_fr": "   "}), "text_fr"),
        (json!({"text_fr": "x".repeat(1001)}), "text_fr"),
        (json!({"text_en": "x".repeat(1001)}), "text_en"),
        (json!({"position": 0}), "position"),
        (
            json!({"text_fr": "Pas à moitié.", "position": 0}),
            "position",
        ),
    ] {
        let r = api(
            &app,
            Method::PATCH,
            &format!("/api/v1/admin/rules/{id}"),
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
        assert_eq!(error_fields(&r), [field], "{body}");
    }
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/rules",
        &t,
        Some(json!({"text_fr": ""})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rule_texts(&app).await, texts);

    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/admin/rules/{first}"),
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let after = rule_texts(&app).await;
    assert_eq!(after.len(), 4);
    assert!(!after.iter().any(|t| t.starts_with("Respecter la loi")));
    // Still readable by id (the decisions citing it show it), with no number.
    let r = api_get(&app, &format!("/api/v1/rules/{first}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let withdrawn = r.json();
    assert!(withdrawn["withdrawn_at"].is_string(), "{withdrawn}");
    assert!(withdrawn["number"].is_null());
    assert!(
        withdrawn["text_fr"]
            .as_str()
            .expect("text")
            .starts_with("Respecter la loi")
    );
    for method in [Method::DELETE, Method::PATCH] {
        let body = (method == Method::PATCH).then(|| json!({"text_fr": "Encore ?"}));
        let r = api(
            &app,
            method,
            &format!("/api/v1/admin/rules/{first}"),
            &t,
            body,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        api_get(&app, "/api/v1/rules/999999").await.status,
        StatusCode::NOT_FOUND
    );

    let log = log_entries(&app).await;
    let kinds: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        kinds,
        ["rule_create", "rule_update", "rule_update", "rule_delete"]
    );
    assert!(log.iter().all(|e| e.moderator_account_id == Some(admin.id)));
    assert_eq!(log[0].target, id.to_string());
    assert_eq!(log[2].details["from_number"], 5);
    assert_eq!(log[2].details["to_number"], 1);
    assert_eq!(log[3].target, first.to_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_edit_rules_from_the_admin_page() {
    let app = TestApp::new().await;
    app.create_user("ada", "admin").await;
    let browser = browser_of(&app, "ada").await;
    let page = browser.get("/admin/regles").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<label for=\"f-text_fr\">"),
        "{}",
        page.body
    );

    let r = browser
        .submit_form("/admin/regles", &[("text_fr", ""), ("text_en", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"f-text_fr-error\""), "{}", r.body);

    let r = browser
        .submit_form(
            "/admin/regles",
            &[("text_fr", "Créditer les artistes."), ("text_en", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let texts = rule_texts(&app).await;
    assert_eq!(
        texts.last().map(String::as_str),
        Some("Créditer les artistes.")
    );
    let rules = api_get(&app, "/api/v1/rules").await.json();
    let id = rules["items"][4]["id"].as_i64().expect("id");

    let edit = browser.get(&format!("/admin/regles/{id}")).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.body.contains("Créditer les artistes."));
    let r = browser
        .submit_form(
            &format!("/admin/regles/{id}"),
            &[
                ("text_fr", "Créditer les artistes et les photographes."),
                ("text_en", "Credit artists."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = browser
        .submit_form(
            &format!("/admin/regles/{id}/deplacer"),
            &[("position", "4")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let texts = rule_texts(&app).await;
    assert_eq!(texts[3], "Créditer les artistes et les photographes.");
    let r = browser
        .submit_form(&format!("/admin/regles/{id}/retirer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(rule_texts(&app).await.len(), 4);
    let page = browser.get("/admin/regles").await;
    assert!(!page.body.contains("photographes"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_round_trip_is_logged_without_an_account() {
    let app = TestApp::new().await;
    let out = cli(
        &app,
        &[
            "domain",
            "block",
            "cli.example",
            "--severity",
            "silence",
            "--public-comment",
            "Bruyant",
            "--private-comment",
            "décidé en réunion",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&app, &["domain", "list"]).await;
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "cli.example\tsilence\t-\tBruyant\tdécidé en réunion"
    );
    let out = cli(&app, &["domain", "unblock", "cli.example"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&app, &["domain", "list"]).await;
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");

    let log = log_entries(&app).await;
    let kinds: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(kinds, ["domain_block", "domain_unblock"]);
    assert!(log.iter().all(|e| e.moderator_account_id.is_none()));
    assert_eq!(log[0].target, "cli.example");
    assert_eq!(log[0].note, "décidé en réunion");
}

#[tokio::test(flavor = "multi_thread")]
async fn role_changes_are_logged() {
    let app = TestApp::new().await;
    let admin = app.create_user("ada", "admin").await;
    app.create_user("bob", "member").await;
    let browser = browser_of(&app, "ada").await;
    let r = browser
        .submit_form("/admin/comptes/bob/role", &[("role", "moderator")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The same role again changes nothing and logs nothing.
    let r = browser
        .submit_form("/admin/comptes/bob/role", &[("role", "moderator")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A moderator cannot change roles.
    let mo = browser_of(&app, "bob").await;
    let r = mo
        .submit_form("/admin/comptes/ada/role", &[("role", "member")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let log = log_entries(&app).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].action, "role_change");
    assert_eq!(log[0].moderator_account_id, Some(admin.id));
    assert_eq!(log[0].target, "bob");
    assert_eq!(log[0].details, json!({"from": "member", "to": "moderator"}));
}

/// Runs the binary against the test app's database.
async fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_culturecnous"));
    command
        .args(args)
        .env("CULTURECNOUS__DATABASE__URL", &app.ctx.config.database.url)
        .env(
            "CULTURECNOUS__STORAGE__DATA_DIR",
            &app.ctx.config.storage.data_dir,
        )
        .env("CULTURECNOUS__INSTANCE__URL", &app.ctx.config.instance.url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null());
    tokio::task::spawn_blocking(move || command.output().expect("run binary"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_new_pages_pass_the_mechanical_accessibility_checks() {
    let app = TestApp::new().await;
    app.create_user("ada", "admin").await;
    let t = token(&app, "ada").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/domain-blocks",
        &t,
        Some(json!({"domain": "spam.example", "severity": "silence", "public_comment": "Spam"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rule = api_get(&app, "/api/v1/rules").await.json()["items"][0]["id"]
        .as_i64()
        .expect("id");
    let admin = browser_of(&app, "ada").await;
    let english = Browser::new(&app);
    english.set_cookie("lang", "en");
    let pages = vec![
        ("about", app.get_html("/a-propos").await),
        ("about (en)", english.get("/a-propos").await),
        ("register", app.get_html("/inscription").await),
        ("domains", admin.get("/admin/domaines").await),
        (
            "domains (edit)",
            admin.get("/admin/domaines?domaine=spam.example").await,
        ),
        (
            "domains (errors)",
            admin
                .submit_form(
                    "/admin/domaines",
                    &[("domain", "bad domain"), ("severity", "x")],
                )
                .await,
        ),
        (
            "domains (confirm)",
            admin
                .submit_form(
                    "/admin/domaines",
                    &[("domain", "spam.example"), ("severity", "reject")],
                )
                .await,
        ),
        ("rules", admin.get("/admin/regles").await),
        ("rule", admin.get(&format!("/admin/regles/{rule}")).await),
        (
            "rules (errors)",
            admin.submit_form("/admin/regles", &[("text_fr", "")]).await,
        ),
    ];
    for (name, page) in pages {
        assert!(
            page.status == StatusCode::OK || page.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            page.status
        );
        let found = crate::accessibility::problems(&page.body);
        assert!(found.is_empty(), "{name}: {found:#?}");
    }
}
