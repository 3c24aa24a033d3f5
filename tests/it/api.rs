//! JSON API base: bearer authentication, tokens, problem+json errors, the OpenAPI document.

use crate::{
    common::{TestApp, TestResponse},
    helpers::{Browser, call},
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use culturecnous::{db::schema::accounts, service::tokens};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::BTreeSet;

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> TestResponse {
    call(app, Method::GET, path, token, None).await
}

#[track_caller]
fn assert_problem(r: &TestResponse, status: StatusCode) -> serde_json::Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.body
    );
    let problem = r.json();
    assert_eq!(problem["status"], status.as_u16(), "{}", r.body);
    problem
}

#[tokio::test(flavor = "multi_thread")]
async fn me_needs_a_valid_unrevoked_bearer_token() {
    let app = TestApp::new().await;
    let account = app.create_user("camille", "moderator").await;
    let token = tokens::create_token(&app.ctx, "camille", "test")
        .await
        .expect("token");

    // Missing: 401, a Bearer challenge, the header named as the field.
    let r = get(&app, "/api/v1/me", None).await;
    let problem = assert_problem(&r, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["field"], "authorization", "{}", r.body);
    let challenge = r.header("www-authenticate").expect("challenge");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(!challenge.contains("invalid_token"), "{challenge}");

    // Another scheme is the same as no token.
    let r = app
        .send(
            Request::builder()
                .uri("/api/v1/me")
                .header(header::AUTHORIZATION, "Basic Y2FtaWxsZTpwdw==")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").is_some());

    // Unknown token.
    let r = get(&app, "/api/v1/me", Some("ccn_not-a-real-token")).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);
    let challenge = r.header("www-authenticate").expect("challenge");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    // Valid.
    let r = get(&app, "/api/v1/me", Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("application/json")
    );
    let me = r.json();
    assert_eq!(me["username"], "camille");
    assert_eq!(me["role"], "moderator");
    assert_eq!(me["kind"], "individual");
    assert_eq!(me["display_name"], "camille");
    assert_eq!(me["ap_id"], "http://localhost:8080/users/camille");

    // Even a browser asking for HTML gets problem+json under /api/.
    let r = app.get_html("/api/v1/me").await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);

    // Revoked.
    let id = tokens::list_tokens(&app.ctx, &account).await.expect("list")[0].id;
    tokens::revoke_token(&app.ctx, &account, id)
        .await
        .expect("revoke");
    let r = get(&app, "/api/v1/me", Some(&token)).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspended_account_is_refused_even_with_a_valid_token() {
    let app = TestApp::new().await;
    let account = app.create_user("sacha", "member").await;
    let token = tokens::create_token(&app.ctx, "sacha", "")
        .await
        .expect("token");
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(accounts::table.find(account.id))
        .set(accounts::suspended_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .expect("suspend");
    let r = get(&app, "/api/v1/me", Some(&token)).await;
    assert_problem(&r, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_listed_created_and_revoked_by_their_owner_only() {
    let app = TestApp::new().await;
    app.create_user("alix", "member").await;
    let other = app.create_user("noe", "member").await;
    let token = tokens::create_token(&app.ctx, "alix", "cli")
        .await
        .expect("token");
    let other_token = tokens::create_token(&app.ctx, "noe", "theirs")
        .await
        .expect("token");
    let other_id = tokens::list_tokens(&app.ctx, &other).await.expect("list")[0].id;

    // Create: 201, the secret once, and it works.
    let r = call(
        &app,
        Method::POST,
        "/api/v1/tokens",
        Some(&token),
        Some((
            "application/json".into(),
            r#"{"name": "  agenda script  "}"#.into(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    assert_eq!(created["name"], "agenda script");
    assert_eq!(created["revoked"], false);
    let secret = created["secret"].as_str().expect("secret").to_string();
    let new_id = created["id"].as_i64().expect("id");
    let r = get(&app, "/api/v1/me", Some(&secret)).await;
    assert_eq!(r.json()["username"], "alix");

    // List: own tokens only, newest first, never a secret or hash.
    let r = get(&app, "/api/v1/tokens", Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.json()["items"].as_array().expect("items").clone();
    let names: Vec<&str> = items.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["agenda script", "cli"]);
    assert!(items[1]["last_used_at"].is_string(), "used tokens say when");
    assert!(!r.body.contains(&secret) && !r.body.contains("hash"));
    assert!(!r.body.contains("theirs"));

    // Someone else's token: 404, and it still works.
    let r = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/tokens/{other_id}"),
        Some(&token),
        None,
    )
    .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/api/v1/me", Some(&other_token)).await.status,
        StatusCode::OK
    );
    for bad in ["999999999", "abc"] {
        let r = call(
            &app,
            Method::DELETE,
            &format!("/api/v1/tokens/{bad}"),
            Some(&token),
            None,
        )
        .await;
        assert_problem(&r, StatusCode::NOT_FOUND);
    }

    // Own token: 204, listed as revoked, refused afterwards; revoking twice is harmless.
    for _ in 0..2 {
        let r = call(
            &app,
            Method::DELETE,
            &format!("/api/v1/tokens/{new_id}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    assert_problem(
        &get(&app, "/api/v1/me", Some(&secret)).await,
        StatusCode::UNAUTHORIZED,
    );
    let r = get(&app, "/api/v1/tokens", Some(&token)).await;
    let items = r.json()["items"].as_array().expect("items").clone();
    let revoked = items
        .iter()
        .find(|t| t["id"].as_i64() == Some(new_id))
        .expect("still listed");
    assert_eq!(revoked["revoked"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_json_bodies_get_problems_naming_the_field_and_write_nothing() {
    let app = TestApp::new().await;
    let account = app.create_user("lou", "member").await;
    let token = tokens::create_token(&app.ctx, "lou", "main")
        .await
        .expect("token");
    let post = |content_type: &'static str, body: String| {
        let app = &app;
        let token = token.clone();
        async move {
            call(
                app,
                Method::POST,
                "/api/v1/tokens",
                Some(&token),
                Some((content_type.into(), body.into_bytes())),
            )
            .await
        }
    };

    let r = post("text/plain", r#"{"name": "x"}"#.into()).await;
    assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = call(&app, Method::POST, "/api/v1/tokens", Some(&token), None).await;
    assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let r = post("application/json", r#"{"name": "#.into()).await;
    let problem = assert_problem(&r, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("line 1"),
        "{}",
        r.body
    );

    for (body, field, code) in [
        (
            r#"{"name": 5}"#.to_string(),
            "name",
            "api.json.invalid_value",
        ),
        (
            r#"{"name": "x", "scopes": ["all"]}"#.to_string(),
            "scopes",
            "api.json.unknown_field",
        ),
        (
            format!(r#"{{"name": "{}"}}"#, "n".repeat(101)),
            "name",
            "field.too_long",
        ),
        ("[]".to_string(), "body", "api.json.invalid_value"),
    ] {
        let r = post("application/json; charset=utf-8", body.clone()).await;
        let problem = assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["field"], field, "{body}: {}", r.body);
        assert_eq!(problem["errors"][0]["code"], code, "{body}: {}", r.body);
        assert!(
            !problem["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        );
    }

    // Authentication is checked before the body is read.
    let r = call(
        &app,
        Method::POST,
        "/api/v1/tokens",
        None,
        Some(("application/json".into(), "{".into())),
    )
    .await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);

    let left = tokens::list_tokens(&app.ctx, &account).await.expect("list");
    assert_eq!(left.len(), 1, "no token was created by a bad request");
}

/// `(path, method)` of every `.route("/api/…", …)` in the source: what the server serves
/// under `/api`. Modules register full literal paths (see `web/api/mod.rs`).
fn routes_in_source() -> BTreeSet<(String, String)> {
    let method =
        regex::Regex::new(r"(?:^|[^A-Za-z0-9_])(get|post|put|patch|delete)\s*\(").expect("regex");
    let path = regex::Regex::new(r#"^\s*"([^"]*)""#).expect("regex");
    let mut found = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("read src")
            .filter_map(Result::ok)
        {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("read source");
            for (start, _) in text.match_indices(".route(") {
                let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                if text[line_start..start].contains("//") {
                    continue; // a comment, not a route
                }
                let rest = &text[start + ".route(".len()..];
                // The call's arguments, up to the matching parenthesis.
                let mut depth = 1;
                let mut end = rest.len();
                for (i, c) in rest.char_indices() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                end = i;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let args = &rest[..end];
                let Some(literal) = path.captures(args) else {
                    continue;
                };
                let route = literal[1].to_string();
                if !route.starts_with("/api/") {
                    continue;
                }
                let after = &args[literal[0].len()..];
                for m in method.captures_iter(after) {
                    found.insert((route.clone(), m[1].to_string()));
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_document_lists_every_api_route() {
    let app = TestApp::new().await;
    let r = get(&app, "/api/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], "http://localhost:8080");
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(|m| (path.clone(), m.clone()))
                .collect::<Vec<_>>()
        })
        .collect();

    let served = routes_in_source();
    // The scanner must see the routes we know of, or it proves nothing.
    for known in [
        ("/api/v1/me", "get"),
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/openapi.json", "get"),
    ] {
        assert!(
            served.contains(&(known.0.to_string(), known.1.to_string())),
            "scanner missed {known:?}: {served:?}"
        );
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /api/v1/openapi.json: {undocumented:?}"
    );

    // And every documented operation is really routed, and protected unless public.
    let parameter = regex::Regex::new(r"\{[^}]+\}").expect("regex");
    for (path, method) in &documented {
        let concrete = parameter.replace_all(path, "1").into_owned();
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let r = call(&app, method.clone(), &concrete, None, None).await;
        assert_ne!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not routed"
        );
        assert!(
            !(r.status == StatusCode::NOT_FOUND && r.body.is_empty()),
            "{method} {path} is documented but not routed"
        );
        let op = &doc["paths"][path.as_str()][method.as_str().to_lowercase()];
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|req| req.get("bearer").is_some()));
        if secured {
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} says it needs a token"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The settings page /parametres/jetons

/// The value of the read-only field that shows a new token's secret.
fn shown_secret(html: &str) -> Option<String> {
    let field = &html[html.find("id=\"new-token\"")?..];
    let start = field.find("value=\"")? + "value=\"".len();
    let end = start + field[start..].find('"')?;
    Some(field[start..end].to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_page_creates_shows_once_and_revokes_tokens() {
    let app = TestApp::new().await;
    let account = app.create_user("lea", "member").await;
    let other = app.create_user("max", "member").await;
    let other_token = tokens::create_token_for(&app.ctx, &other, "theirs")
        .await
        .expect("token");
    let browser = Browser::with_session(&app, &account).await;

    // Visitors who are not logged in are sent to the login page.
    let r = app.get_html("/parametres/jetons").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.header("location").unwrap_or("").starts_with("/connexion"));

    let r = browser.get("/parametres/jetons").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<h1>Jetons d"), "{}", r.body);
    assert!(r.body.contains("encore aucun jeton"), "{}", r.body);
    assert!(r.body.contains(r#"<label for="f-name">"#), "{}", r.body);
    assert!(shown_secret(&r.body).is_none());

    // Create: the answer shows the secret, which works.
    let r = browser
        .post_form(
            "/parametres/jetons",
            &[("csrf_token", &browser.csrf), ("name", "agenda du site")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = shown_secret(&r.body).expect("the new secret is shown");
    assert!(secret.starts_with("ccn_"), "{secret}");
    assert!(r.body.contains(r#"<label for="new-token">"#));
    let me = get(&app, "/api/v1/me", Some(&secret)).await;
    assert_eq!(me.json()["username"], "lea");

    // Shown once: the page no longer has it, only the token's name and state.
    let r = browser.get("/parametres/jetons").await;
    assert!(!r.body.contains(&secret), "secret shown again");
    assert!(r.body.contains("agenda du site"));
    assert!(r.body.contains(">actif<"), "{}", r.body);
    assert!(!r.body.contains("theirs"), "only the member's own tokens");

    // A name too long: 422, the message tied to the field, nothing created.
    let long = "n".repeat(101);
    let r = browser
        .post_form(
            "/parametres/jetons",
            &[("csrf_token", &browser.csrf), ("name", &long)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains(r#"aria-describedby="f-name-hint f-name-error""#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"id="f-name-error""#));
    assert!(r.body.contains(&long), "the typed name is kept");
    assert!(shown_secret(&r.body).is_none());

    // Without the CSRF token: refused, nothing created.
    let r = browser
        .post_form("/parametres/jetons", &[("name", "forged")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let mine = tokens::list_tokens(&app.ctx, &account).await.expect("list");
    assert_eq!(mine.len(), 1, "only the valid form created a token");
    let id = mine[0].id;

    // Revoke: without CSRF refused; someone else's is 404; own one is revoked.
    let r = browser
        .post_form(&format!("/parametres/jetons/{id}/revoquer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, "/api/v1/me", Some(&secret)).await.status,
        StatusCode::OK
    );
    let r = browser
        .post_form(
            &format!("/parametres/jetons/{}/revoquer", other_token.info.id),
            &[("csrf_token", &browser.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/api/v1/me", Some(&other_token.secret))
            .await
            .status,
        StatusCode::OK
    );
    let r = browser
        .post_form(
            &format!("/parametres/jetons/{id}/revoquer"),
            &[("csrf_token", &browser.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some("/parametres/jetons"));
    assert_eq!(
        get(&app, "/api/v1/me", Some(&secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = browser.get("/parametres/jetons").await;
    assert!(r.body.contains(">révoqué<"), "{}", r.body);
    assert!(!r.body.contains("/revoquer\""), "no revoke button left");
}
