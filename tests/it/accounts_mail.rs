//! Mailed links of accounts, through the router: address confirmation at registration (and
//! publishing refused until then), password reset, change of address; each link's misuse
//! (twice, expired, altered) and the API twins.

use crate::{
    common::{PASSWORD, TestApp, TestResponse},
    helpers::{Browser, api, call, csrf_in, latest_mail_to, link_in, mails_to, token},
};
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use culturecnous::{
    db::{
        self,
        schema::{account_tokens, accounts, sessions},
    },
    service::tokens::hash_token,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

fn location(r: &TestResponse) -> &str {
    r.header("location").unwrap_or("")
}

async fn account(app: &TestApp, username: &str) -> db::accounts::DbAccount {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account exists")
}

/// The secret at the end of a link path.
fn secret_of(path: &str) -> &str {
    path.rsplit('/').next().expect("secret")
}

async fn token_row(app: &TestApp, secret: &str) -> db::account_tokens::DbAccountToken {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::account_tokens::by_hash(&mut conn, &hash_token(secret))
        .await
        .expect("query")
        .expect("token row")
}

/// Moves a link's expiry into the past.
async fn expire(app: &TestApp, secret: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    let n = diesel::update(account_tokens::table.find(hash_token(secret)))
        .set(account_tokens::expires_at.eq(Utc::now() - Duration::minutes(1)))
        .execute(&mut conn)
        .await
        .expect("expire");
    assert_eq!(n, 1);
}

/// An altered copy of a link path: its last character changed.
fn altered(path: &str) -> String {
    let mut chars: Vec<char> = path.chars().collect();
    let last = chars.last_mut().expect("non-empty");
    *last = if *last == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

async fn session_count(app: &TestApp, account_id: i64) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    sessions::table
        .filter(sessions::account_id.eq(account_id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

fn announcement() -> serde_json::Value {
    json!({"title": "Résidence d'été", "body": "Trois semaines au théâtre.", "kind": "residence"})
}

/// GETs `path` and POSTs its form (the CSRF token read from the page).
async fn open_and_submit(
    browser: &Browser<'_>,
    path: &str,
    fields: &[(&str, &str)],
) -> TestResponse {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.body);
    let token = csrf_in(&page.body);
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    browser.post_form(path, &all).await
}

// ---------------------------------------------------------------------------------------------
// Confirmation at registration

#[tokio::test(flavor = "multi_thread")]
async fn registration_mails_a_link_and_publishing_waits_for_it() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let r = browser
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let alice = account(&app, "alice").await;
    assert!(alice.email_confirmed_at.is_none(), "unconfirmed at first");

    // One mail, in French (the instance's language), with the link; the database keeps only
    // the hash of its secret.
    let mail = latest_mail_to(&app, "alice@example.org").await;
    assert_eq!(mail.category, "confirm_email");
    assert_eq!(mail.lang, "fr");
    assert_eq!(mail.account_id, Some(alice.id));
    assert!(mail.subject.contains("Confirmez"), "{}", mail.subject);
    assert!(mail.text_body.contains("Bonjour Compagnie du Soleil"));
    let link = link_in(&mail.text_body, "/confirmer-adresse/");
    assert!(mail.html_body.contains(&link), "the HTML part has the link");
    let secret = secret_of(&link).to_string();
    let row = token_row(&app, &secret).await;
    assert_eq!(row.purpose, "confirm_email");
    assert_eq!(row.account_id, alice.id);
    assert_ne!(row.token_hash, secret);
    assert!(row.expires_at > Utc::now() + Duration::days(2));

    // Logged in, reading is fine; the banner asks to confirm and offers a new link.
    let page = browser.get("/users/alice").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Confirmez votre adresse"),
        "{}",
        page.body
    );
    assert!(page.body.contains("action=\"/renvoyer-confirmation\""));
    assert!(page.body.contains("Renvoyer le lien"));

    // Publishing is refused: API (403 problem+json saying why) and web form.
    let bearer = token(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &bearer,
        Some(announcement()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("confirm your e-mail address"),
        "{}",
        r.body
    );
    let r = api(
        &app,
        Method::POST,
        "/api/v1/posts",
        &bearer,
        Some(json!({"title": "Bonjour", "body": "Premier article."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let me = api(&app, Method::GET, "/api/v1/me", &bearer, None).await;
    assert_eq!(me.json()["email_confirmed"], json!(false));
    let csrf = csrf_in(&browser.get("/annonces/nouvelle").await.body);
    let r = browser
        .post_form(
            "/annonces/nouvelle",
            &[
                ("csrf_token", &csrf),
                ("title", "Résidence d'été"),
                ("body", "Trois semaines."),
                ("kind", "residence"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body
            .contains("Confirmez votre adresse e-mail avant de publier")
    );
    assert_eq!(crate::helpers::rows_in(&app, "posts").await, 0);

    // A comment is refused too (on a post by a confirmed member).
    app.create_user("bob", "member").await;
    let bob = token(&app, "bob").await;
    let post = crate::helpers::create(&app, &bob, "/api/v1/announcements", announcement()).await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/comments",
        &bearer,
        Some(json!({"in_reply_to": post["ap_id"], "body": "Bravo"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Opening the link (what a mail scanner does too) uses nothing.
    let page = Browser::new(&app).get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("alice@example.org"));
    assert!(page.body.contains(&format!("action=\"{link}\"")));
    assert!(token_row(&app, &secret).await.used_at.is_none());
    assert!(account(&app, "alice").await.email_confirmed_at.is_none());

    // The button confirms (from any browser: the link is the proof).
    let r = open_and_submit(&Browser::new(&app), &link, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(account(&app, "alice").await.email_confirmed_at.is_some());
    assert!(token_row(&app, &secret).await.used_at.is_some());

    // Now publishing works, and the banner is gone.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &bearer,
        Some(announcement()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/comments",
        &bearer,
        Some(json!({"in_reply_to": post["ap_id"], "body": "Bravo"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        !browser
            .get("/users/alice")
            .await
            .body
            .contains("action=\"/renvoyer-confirmation\"")
    );
    let me = api(&app, Method::GET, "/api/v1/me", &bearer, None).await;
    assert_eq!(me.json()["email_confirmed"], json!(true));

    // The same link again: a clear page, nothing changes.
    let before = account(&app, "alice").await.email_confirmed_at;
    let again = Browser::new(&app);
    let page = again.get(&link).await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.body);
    assert!(page.body.contains("déjà servi"), "{}", page.body);
    assert!(page.body.contains("href=\"/parametres/compte\""));
    let csrf = csrf_in(&again.get("/mot-de-passe-oublie").await.body);
    let r = again.post_form(&link, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert_eq!(account(&app, "alice").await.email_confirmed_at, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn confirmation_links_expired_or_altered_change_nothing() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    browser
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    let link = link_in(
        &latest_mail_to(&app, "alice@example.org").await.text_body,
        "/confirmer-adresse/",
    );

    // Altered: 400, with the way to a new link.
    let bad = altered(&link);
    let page = browser.get(&bad).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("pas valable"), "{}", page.body);
    let csrf = csrf_in(&browser.get("/users/alice").await.body);
    let r = browser.post_form(&bad, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Not even shaped like a link.
    let r = browser.get("/confirmer-adresse/abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Expired: 410.
    expire(&app, secret_of(&link)).await;
    let page = browser.get(&link).await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.body);
    assert!(page.body.contains("expiré"), "{}", page.body);
    let r = browser.post_form(&link, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(account(&app, "alice").await.email_confirmed_at.is_none());

    // A new link works.
    let r = browser
        .post_form(
            "/renvoyer-confirmation",
            &[("csrf_token", &csrf), ("next", "/users/alice")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/users/alice");
    let fresh = link_in(
        &latest_mail_to(&app, "alice@example.org").await.text_body,
        "/confirmer-adresse/",
    );
    assert_ne!(fresh, link);
    let r = open_and_submit(&browser, &fresh, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(account(&app, "alice").await.email_confirmed_at.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn new_confirmation_links_are_limited() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    browser
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    let csrf = csrf_in(&browser.get("/users/alice").await.body);
    // The registration's link counts: two more within the hour.
    for _ in 0..2 {
        let r = browser
            .post_form("/renvoyer-confirmation", &[("csrf_token", &csrf)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let r = browser
        .post_form("/renvoyer-confirmation", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("3600"));
    assert!(r.body.contains("Trois liens"), "{}", r.body);
    let bearer = token(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/account/confirmation",
        &bearer,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.header("retry-after"), Some("3600"));
    assert_eq!(mails_to(&app, "alice@example.org").await, 3);
    // Not logged in: no new link.
    let anonymous = Browser::new(&app);
    let csrf = csrf_in(&anonymous.get("/connexion").await.body);
    let r = anonymous
        .post_form("/renvoyer-confirmation", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A confirmed account has nothing to confirm.
    app.create_user("bob", "member").await;
    let bob = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/account/confirmation",
        &bob,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_sends_a_new_confirmation_link() {
    let app = TestApp::new().await;
    Browser::new(&app)
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    let first = latest_mail_to(&app, "alice@example.org").await;
    let bearer = token(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/account/confirmation",
        &bearer,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let second = latest_mail_to(&app, "alice@example.org").await;
    assert_ne!(first.id, second.id);
    assert_eq!(second.category, "confirm_email");
    // Both links work until one is used; then the other is spent too.
    let a = link_in(&first.text_body, "/confirmer-adresse/");
    let b = link_in(&second.text_body, "/confirmer-adresse/");
    let browser = Browser::new(&app);
    assert_eq!(
        open_and_submit(&browser, &b, &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(browser.get(&a).await.status, StatusCode::GONE);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_required_confirmation_new_members_publish_at_once() {
    let app = TestApp::with_config(|c| c.accounts.require_confirmation = false).await;
    let browser = Browser::new(&app);
    let r = browser
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Still sent the link, still unconfirmed, but no banner and publishing works.
    assert_eq!(
        latest_mail_to(&app, "alice@example.org").await.category,
        "confirm_email"
    );
    assert!(account(&app, "alice").await.email_confirmed_at.is_none());
    assert!(
        !browser
            .get("/users/alice")
            .await
            .body
            .contains("action=\"/renvoyer-confirmation\"")
    );
    let bearer = token(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &bearer,
        Some(announcement()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_made_by_an_administrator_are_confirmed() {
    let app = TestApp::new().await;
    let bob = app.create_user("bob", "member").await;
    assert!(bob.email_confirmed_at.is_some());
    assert_eq!(mails_to(&app, "bob@example.org").await, 0);
    // An English instance writes its mails in English; a member's own language wins.
    let app = TestApp::with_config(|c| c.instance.language = "en".into()).await;
    Browser::new(&app)
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    let mail = latest_mail_to(&app, "alice@example.org").await;
    assert_eq!(mail.lang, "en");
    assert!(mail.subject.contains("Confirm your e-mail address"));
    assert!(mail.text_body.starts_with("Hello "));
}

// ---------------------------------------------------------------------------------------------
// Password reset

#[tokio::test(flavor = "multi_thread")]
async fn password_reset_changes_the_password_and_closes_every_session() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let laptop = Browser::logged_in(&app, "alice").await;
    let phone = Browser::logged_in(&app, "alice").await;
    assert_eq!(session_count(&app, alice.id).await, 2);

    // The login page leads to the form.
    let login = Browser::new(&app).get("/connexion").await;
    assert!(login.body.contains("href=\"/mot-de-passe-oublie\""));
    let visitor = Browser::new(&app);
    let form = visitor.get("/mot-de-passe-oublie").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"email\""));
    assert!(form.body.contains("for=\"f-email\""));
    let csrf = csrf_in(&form.body);
    let r = visitor
        .post_form(
            "/mot-de-passe-oublie",
            &[("csrf_token", &csrf), ("email", "Alice@Example.org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Si un compte existe"), "{}", r.body);

    let mail = latest_mail_to(&app, "alice@example.org").await;
    assert_eq!(mail.category, "reset_password");
    let link = link_in(&mail.text_body, "/mot-de-passe/");
    let secret = secret_of(&link).to_string();
    let row = token_row(&app, &secret).await;
    assert_eq!(row.purpose, "reset_password");
    let validity = row.expires_at - row.created_at;
    assert!(
        validity > Duration::minutes(59) && validity <= Duration::minutes(61),
        "{validity:?}"
    );

    // Opening the link shows the form and uses nothing.
    let page = visitor.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("name=\"password\""));
    assert!(page.body.contains("autocomplete=\"new-password\""));
    assert!(token_row(&app, &secret).await.used_at.is_none());
    let csrf = csrf_in(&page.body);

    // The rules of registration hold: a weak password changes nothing.
    let r = visitor
        .post_form(&link, &[("csrf_token", &csrf), ("password", "motdepasse")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("aria-describedby=\"f-password-hint f-password-error\"")
            || r.body.contains("f-password-error")
    );
    assert!(token_row(&app, &secret).await.used_at.is_none());
    assert_eq!(session_count(&app, alice.id).await, 2);

    // A good one: changed, every session closed, then log in with it.
    let new_password = "une toute nouvelle phrase";
    let r = visitor
        .post_form(&link, &[("csrf_token", &csrf), ("password", new_password)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/connexion");
    assert_eq!(session_count(&app, alice.id).await, 0);
    assert!(token_row(&app, &secret).await.used_at.is_some());
    for browser in [&laptop, &phone] {
        let r = browser.get("/parametres/profil").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "still logged in");
        assert!(location(&r).starts_with("/connexion"));
    }
    let r = Browser::new(&app).login("alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "old password");
    let r = Browser::new(&app).login("alice", new_password).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The link again: 410, nothing changed.
    let r = visitor
        .post_form(
            &link,
            &[
                ("csrf_token", &csrf),
                ("password", "encore une autre phrase"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert!(r.body.contains("déjà servi"));
    assert!(r.body.contains("href=\"/mot-de-passe-oublie\""));
    assert_eq!(visitor.get(&link).await.status, StatusCode::GONE);
    let r = Browser::new(&app).login("alice", new_password).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the password did not change"
    );
}

/// Asks for a password reset for `email` from the form, as `visitor`; returns the link the
/// mail carries and the visitor's CSRF token.
async fn ask_reset_link(app: &TestApp, visitor: &Browser<'_>, email: &str) -> (String, String) {
    let csrf = csrf_in(&visitor.get("/mot-de-passe-oublie").await.body);
    visitor
        .post_form(
            "/mot-de-passe-oublie",
            &[("csrf_token", csrf.as_str()), ("email", email)],
        )
        .await;
    let link = link_in(
        &latest_mail_to(app, email).await.text_body,
        "/mot-de-passe/",
    );
    (link, csrf)
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_links_expired_or_altered_change_nothing() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let _session = Browser::logged_in(&app, "alice").await;
    let visitor = Browser::new(&app);
    let (link, csrf) = ask_reset_link(&app, &visitor, "alice@example.org").await;
    let password = "une toute nouvelle phrase";

    let bad = altered(&link);
    assert_eq!(visitor.get(&bad).await.status, StatusCode::BAD_REQUEST);
    let r = visitor
        .post_form(&bad, &[("csrf_token", &csrf), ("password", password)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("pas valable"));

    expire(&app, secret_of(&link)).await;
    let page = visitor.get(&link).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("expiré"));
    assert!(page.body.contains("href=\"/mot-de-passe-oublie\""));
    let r = visitor
        .post_form(&link, &[("csrf_token", &csrf), ("password", password)])
        .await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);

    // Nothing changed: same password, the session still open.
    assert_eq!(
        account(&app, "alice").await.password_hash,
        alice.password_hash
    );
    assert_eq!(session_count(&app, alice.id).await, 1);
    // A confirmation link is no reset link.
    let r = visitor
        .get(&link.replace("/mot-de-passe/", "/confirmer-adresse/"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_addresses_get_the_same_answer() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ask = async |email: &str| {
        let visitor = Browser::new(&app);
        let csrf = csrf_in(&visitor.get("/mot-de-passe-oublie").await.body);
        let r = visitor
            .post_form(
                "/mot-de-passe-oublie",
                &[("csrf_token", &csrf), ("email", email)],
            )
            .await;
        (r.status, r.body.replace(&csrf, "").replace(email, "EMAIL"))
    };
    let known = ask("alice@example.org").await;
    let unknown = ask("personne@example.org").await;
    assert_eq!(known.0, StatusCode::OK);
    assert_eq!(known, unknown);
    assert_eq!(mails_to(&app, "alice@example.org").await, 1);
    assert_eq!(mails_to(&app, "personne@example.org").await, 0);

    // The API: always 202, and a malformed address is named.
    for email in ["alice@example.org", "personne@example.org"] {
        let r = call(
            &app,
            Method::POST,
            "/api/v1/password-reset",
            None,
            Some((
                "application/json".into(),
                json!({ "email": email }).to_string().into_bytes(),
            )),
        )
        .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        assert_eq!(r.json()["status"], "accepted");
    }
    assert_eq!(mails_to(&app, "alice@example.org").await, 2);
    let r = call(
        &app,
        Method::POST,
        "/api/v1/password-reset",
        None,
        Some((
            "application/json".into(),
            json!({ "email": "pas une adresse" })
                .to_string()
                .into_bytes(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "email");
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_requests_are_limited_per_client_address_and_account() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let from = Browser::from_ip(&app, "203.0.113.7");
    let csrf = csrf_in(&from.get("/mot-de-passe-oublie").await.body);
    for _ in 0..5 {
        let r = from
            .post_form(
                "/mot-de-passe-oublie",
                &[("csrf_token", &csrf), ("email", "alice@example.org")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // At most three mails an hour reach the account, whatever the requests.
    assert_eq!(mails_to(&app, "alice@example.org").await, 3);
    let r = from
        .post_form(
            "/mot-de-passe-oublie",
            &[("csrf_token", &csrf), ("email", "personne@example.org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("Trop de demandes"), "{}", r.body);
    // Another client address is not held back.
    let other = Browser::from_ip(&app, "203.0.113.8");
    let csrf = csrf_in(&other.get("/mot-de-passe-oublie").await.body);
    let r = other
        .post_form(
            "/mot-de-passe-oublie",
            &[("csrf_token", &csrf), ("email", "personne@example.org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // An empty address is named.
    let r = other
        .post_form(
            "/mot-de-passe-oublie",
            &[("csrf_token", &csrf), ("email", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("f-email-error"));
}

// ---------------------------------------------------------------------------------------------
// Change of address

#[tokio::test(flavor = "multi_thread")]
async fn change_of_address_is_confirmed_on_the_new_one() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let browser = Browser::logged_in(&app, "alice").await;
    let page = browser.get("/parametres/compte").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("alice@example.org"));
    assert!(page.body.contains("for=\"f-current_password\""));
    assert!(page.body.contains("for=\"f-email\""));
    let csrf = csrf_in(&page.body);
    let change = async |email: &str, password: &str| {
        browser
            .post_form(
                "/parametres/compte/adresse",
                &[
                    ("csrf_token", &csrf),
                    ("email", email),
                    ("current_password", password),
                ],
            )
            .await
    };

    // Wrong password, taken or same address, not an address: each field named, no mail.
    let r = change("alice@nouveau.example", "pas le bon mot de passe").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("f-current_password-error"));
    let r = change("bob@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("f-email-error"));
    assert_eq!(
        change("alice@example.org", PASSWORD).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        change("nulle part", PASSWORD).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(mails_to(&app, "alice@example.org").await, 0);

    // The link goes to the new address, a notice to the old one; nothing changes yet.
    let r = change("alice@nouveau.example", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to_new = latest_mail_to(&app, "alice@nouveau.example").await;
    assert_eq!(to_new.category, "change_email");
    let notice = latest_mail_to(&app, "alice@example.org").await;
    assert_eq!(notice.category, "email_changed");
    assert!(notice.text_body.contains("alice@nouveau.example"));
    assert!(
        !notice.text_body.contains("/changer-adresse/"),
        "no link to the old address"
    );
    let link = link_in(&to_new.text_body, "/changer-adresse/");
    assert_eq!(
        token_row(&app, secret_of(&link)).await.email,
        "alice@nouveau.example"
    );
    assert_eq!(account(&app, "alice").await.email, "alice@example.org");

    // Opening the link changes nothing; its button does.
    let page = browser.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(account(&app, "alice").await.email, "alice@example.org");
    let r = open_and_submit(&browser, &link, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let now = account(&app, "alice").await;
    assert_eq!(now.email, "alice@nouveau.example");
    assert!(now.email_confirmed_at.is_some());
    assert_eq!(now.id, alice.id);

    // Twice: 410, nothing changes.
    let r = browser.get(&link).await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = browser.post_form(&link, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(account(&app, "alice").await.email, "alice@nouveau.example");
}

#[tokio::test(flavor = "multi_thread")]
async fn change_of_address_checks_the_address_again_when_the_link_is_used() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let bearer = token(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/account/email",
        &bearer,
        Some(json!({"email": "commun@example.org", "current_password": PASSWORD})),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/account/email",
        &bearer,
        Some(json!({"email": "autre@example.org", "current_password": "faux"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "current_password");
    let link = link_in(
        &latest_mail_to(&app, "commun@example.org").await.text_body,
        "/changer-adresse/",
    );
    // Meanwhile bob takes that address.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(accounts::table.filter(accounts::username.eq("bob")))
            .set(accounts::email.eq("commun@example.org"))
            .execute(&mut conn)
            .await
            .expect("bob's address");
    }
    let browser = Browser::new(&app);
    let r = open_and_submit(&browser, &link, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("autre compte"), "{}", r.body);
    assert_eq!(account(&app, "alice").await.email, "alice@example.org");
    // Expired and altered links as for the other links.
    expire(&app, secret_of(&link)).await;
    assert_eq!(browser.get(&link).await.status, StatusCode::GONE);
    assert_eq!(
        browser.get(&altered(&link)).await.status,
        StatusCode::BAD_REQUEST
    );
}

// ---------------------------------------------------------------------------------------------
// Accessibility

#[tokio::test(flavor = "multi_thread")]
async fn the_account_link_pages_pass_the_mechanical_accessibility_checks() {
    let app = TestApp::new().await;
    app.create_user("bob", "member").await;
    let alice = Browser::new(&app);
    alice
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    let confirm = link_in(
        &latest_mail_to(&app, "alice@example.org").await.text_body,
        "/confirmer-adresse/",
    );
    let visitor = Browser::new(&app);
    let (reset, csrf) = ask_reset_link(&app, &visitor, "bob@example.org").await;
    let alice_csrf = csrf_in(&alice.get("/parametres/compte").await.body);
    let mut pages = vec![
        ("banner".into(), alice.get("/users/alice").await),
        (
            "account settings".into(),
            alice.get("/parametres/compte").await,
        ),
        (
            "forgot password".into(),
            visitor.get("/mot-de-passe-oublie").await,
        ),
        ("reset form".into(), visitor.get(&reset).await),
        ("confirm page".into(), visitor.get(&confirm).await),
    ];
    pages.push((
        "forgot password (sent)".into(),
        visitor
            .post_form(
                "/mot-de-passe-oublie",
                &[("csrf_token", &csrf), ("email", "personne@example.org")],
            )
            .await,
    ));
    pages.push((
        "forgot password (errors)".into(),
        visitor
            .post_form(
                "/mot-de-passe-oublie",
                &[("csrf_token", &csrf), ("email", "")],
            )
            .await,
    ));
    pages.push((
        "reset form (errors)".into(),
        visitor
            .post_form(&reset, &[("csrf_token", &csrf), ("password", "court")])
            .await,
    ));
    pages.push((
        "account settings (errors)".into(),
        alice
            .post_form(
                "/parametres/compte/adresse",
                &[
                    ("csrf_token", &alice_csrf),
                    ("email", "x"),
                    ("current_password", ""),
                ],
            )
            .await,
    ));
    let errors = &pages
        .iter()
        .find(|(n, _)| n == "account settings (errors)")
        .expect("page")
        .1
        .body;
    assert!(errors.contains("error-summary"), "{errors}");
    crate::accessibility::assert_accessible(&pages);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_is_not_published_before_confirmation() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let bearer = token(&app, "alice").await;
    let mut draft = announcement();
    draft["draft"] = json!(true);
    let created = crate::helpers::create(&app, &bearer, "/api/v1/announcements", draft).await;
    // The address is no longer taken as confirmed (as after an instance turns the rule on for
    // accounts that registered without it).
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(accounts::table.filter(accounts::username.eq("alice")))
            .set(accounts::email_confirmed_at.eq(None::<chrono::DateTime<Utc>>))
            .execute(&mut conn)
            .await
            .expect("unconfirm");
    }
    let publish = format!("/api/v1/announcements/{}/publish", created["id"]);
    let r = api(&app, Method::POST, &publish, &bearer, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("confirm your e-mail address"), "{}", r.body);
    let id = created["id"].as_i64().expect("id");
    assert!(crate::helpers::post_row(&app, id).await.draft);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_of_address_are_limited() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let bearer = token(&app, "alice").await;
    let ask = async |n: usize| {
        api(
            &app,
            Method::POST,
            "/api/v1/account/email",
            &bearer,
            Some(json!({"email": format!("alice{n}@example.org"), "current_password": PASSWORD})),
        )
        .await
    };
    for n in 0..5 {
        assert_eq!(ask(n).await.status, StatusCode::ACCEPTED);
    }
    let r = ask(5).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("3600"));
    assert_eq!(mails_to(&app, "alice5@example.org").await, 0);
    assert_eq!(
        mails_to(&app, "alice@example.org").await,
        5,
        "one notice per request"
    );
}
