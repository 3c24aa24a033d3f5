//! Browser side of accounts, through the router: registration, login, logout, sessions, CSRF,
//! rate limits, roles, profile editing (hostile HTML, avatars), cookies and languages.

use crate::{
    common::{PASSWORD, TestApp, TestResponse},
    helpers::{Browser, Part, csrf_in, rows_in, set_cookies},
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use culturecnous::db::{
    self,
    schema::{accounts, login_failures, sessions},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A 1×1 PNG.
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

fn png() -> Vec<u8> {
    STANDARD.decode(PNG_B64).expect("png")
}

fn set_cookie(response: &TestResponse, name: &str) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn location(response: &TestResponse) -> &str {
    response.header("location").unwrap_or("")
}

async fn account(app: &TestApp, username: &str) -> db::accounts::DbAccount {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account exists")
}

fn avatar_files(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.ctx.media_dir.join("avatars")) {
        Ok(dir) => dir
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Registration

#[tokio::test(flavor = "multi_thread")]
async fn register_creates_account_actor_and_logged_in_session() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let form = browser.get("/inscription").await;
    assert_eq!(form.status, StatusCode::OK);
    for field in [
        "name=\"username\"",
        "name=\"email\"",
        "name=\"password\"",
        "name=\"kind\"",
        "name=\"display_name\"",
        "type=\"submit\"",
        "for=\"f-username\"",
    ] {
        assert!(form.body.contains(field), "{field} missing: {}", form.body);
    }
    // Anonymous forms get their token from a cookie set by this page.
    let csrf_cookie = set_cookie(&form, "csrf").expect("csrf cookie");
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"));

    let r = browser
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/users/alice");
    let cookie = set_cookie(&r, "session").expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    let token = cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("token");

    let alice = account(&app, "alice").await;
    assert_eq!(alice.role, "member");
    assert_eq!(alice.kind, "individual");
    assert_eq!(alice.display_name, "Compagnie du Soleil");
    assert!(alice.password_hash.starts_with("$argon2id$"));
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::by_id(&mut conn, alice.actor_id)
        .await
        .expect("actor");
    assert_eq!(actor.ap_id, "http://localhost:8080/users/alice");
    assert_eq!(actor.kind, "Person");
    // The database keeps only the token's hash.
    let hashes: Vec<String> = sessions::table
        .filter(sessions::account_id.eq(alice.id))
        .select(sessions::token_hash)
        .load(&mut conn)
        .await
        .expect("sessions");
    assert_eq!(
        hashes,
        vec![culturecnous::service::tokens::hash_token(&token)]
    );

    // Logged in: the profile page shows the edit link, the header the logout form, and the
    // welcome message once.
    let page = browser.get("/users/alice").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Compagnie du Soleil"), "{}", page.body);
    assert!(page.body.contains("Modifier mon profil"), "{}", page.body);
    assert!(
        page.body.contains("action=\"/deconnexion\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Bienvenue"), "{}", page.body);
    let again = browser.get("/users/alice").await;
    assert!(!again.body.contains("Bienvenue"), "flash shown twice");
    // Someone else sees no edit link.
    let other = Browser::new(&app).get("/users/alice").await;
    assert!(!other.body.contains("Modifier mon profil"));
}

#[tokio::test(flavor = "multi_thread")]
async fn register_as_structure_makes_an_organization() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let token = browser.csrf("/inscription").await;
    let r = browser
        .post_form(
            "/inscription",
            &[
                ("csrf_token", &token),
                ("kind", "structure"),
                ("display_name", "Médiathèque de Lorient"),
                ("username", "mediatheque"),
                ("email", "contact@mediatheque.example"),
                ("password", "des livres pour tous"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let account = account(&app, "mediatheque").await;
    assert_eq!(account.kind, "structure");
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::by_id(&mut conn, account.actor_id)
        .await
        .expect("actor");
    assert_eq!(actor.kind, "Organization");
    let page = browser.get("/users/mediatheque").await;
    assert!(page.body.contains("Une structure"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn register_duplicate_username_in_other_case_is_refused() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let browser = Browser::new(&app);
    let r = browser
        .register("Alice", "autre@example.org", "une phrase de passe")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Cet identifiant est déjà pris."),
        "{}",
        r.body
    );
    // Accessible errors: summary linking to the field, field marked and described.
    assert!(r.body.contains("class=\"error-summary\""), "{}", r.body);
    assert!(r.body.contains("href=\"#f-username\""), "{}", r.body);
    assert!(r.body.contains("id=\"f-username-error\""), "{}", r.body);
    let input = r
        .body
        .split("<input")
        .find(|i| i.contains("id=\"f-username\""))
        .expect("username input");
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert!(input.contains("f-username-error"), "{input}");
    // Values are kept, except the password.
    assert!(r.body.contains("value=\"autre@example.org\""), "{}", r.body);
    assert!(
        !r.body.contains("une phrase de passe"),
        "password echoed back"
    );
    assert_eq!(rows_in(&app, "accounts").await, 1);
    assert!(set_cookie(&r, "session").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn register_reserved_name_is_refused() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    for name in ["admin", "departement", "inbox"] {
        let r = browser
            .register(name, &format!("{name}@example.org"), "une phrase de passe")
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("est réservé"), "{name}: {}", r.body);
    }
    assert_eq!(rows_in(&app, "accounts").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn register_weak_password_and_bad_fields_are_reported_together() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let r = browser
        .register("bob", "pas-une-adresse", "motdepasse")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"f-password-error\""), "{}", r.body);
    assert!(r.body.contains("id=\"f-email-error\""), "{}", r.body);
    assert!(r.body.contains("au moins 10 caractères"), "{}", r.body);
    assert!(
        r.body.contains("value=\"bob\""),
        "username kept: {}",
        r.body
    );
    assert_eq!(rows_in(&app, "accounts").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn register_without_a_valid_csrf_token_is_forbidden_and_writes_nothing() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let fields = [
        ("kind", "individual"),
        ("display_name", "Eve"),
        ("username", "eve"),
        ("email", "eve@example.org"),
        ("password", "une phrase de passe"),
    ];
    // No cookie, no field.
    let r = browser.post_form("/inscription", &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Le formulaire a expiré"), "{}", r.body);
    // A cookie but no field.
    browser.csrf("/inscription").await;
    let r = browser.post_form("/inscription", &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A field that does not match the cookie.
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    let r = browser.post_form("/inscription", &with_wrong).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A token from another browser.
    let stolen = Browser::new(&app).csrf("/inscription").await;
    let mut with_stolen = fields.to_vec();
    with_stolen.push(("csrf_token", &stolen));
    let r = browser.post_form("/inscription", &with_stolen).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(rows_in(&app, "accounts").await, 0);
    assert_eq!(rows_in(&app, "sessions").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_form_is_413_and_writes_nothing() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let token = browser.csrf("/inscription").await;
    let huge = "a".repeat(culturecnous::web::csrf::MAX_FORM_BYTES);
    let fields = [
        ("csrf_token", token.as_str()),
        ("kind", "individual"),
        ("display_name", huge.as_str()),
        ("username", "eve"),
        ("email", "eve@example.org"),
        ("password", "une phrase de passe"),
    ];
    let r = browser.post_form("/inscription", &fields).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(rows_in(&app, "accounts").await, 0);
    // Just under the cap, the same form is read (and refused for its too long name).
    let fits = "a".repeat(culturecnous::web::csrf::MAX_FORM_BYTES / 2);
    let mut fields = fields;
    fields[2] = ("display_name", fits.as_str());
    let r = browser.post_form("/inscription", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(rows_in(&app, "accounts").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_site_posts_are_refused_even_with_a_token() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let token = browser.csrf("/inscription").await;
    let body = serde_urlencoded::to_string([
        ("csrf_token", token.as_str()),
        ("kind", "individual"),
        ("username", "eve"),
        ("email", "eve@example.org"),
        ("password", "une phrase de passe"),
    ])
    .expect("form");
    let r = browser
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/inscription")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site"),
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(rows_in(&app, "accounts").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_registration_shows_a_page_and_refuses_posts() {
    let app = TestApp::with_config(|c| c.registration.open = false).await;
    let browser = Browser::new(&app);
    let page = browser.get("/inscription").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Inscriptions fermées"), "{}", page.body);
    assert!(!page.body.contains("name=\"username\""));
    // Even a well-formed post with a valid token creates nothing.
    let token = browser.csrf("/connexion").await;
    let r = browser
        .post_form(
            "/inscription",
            &[
                ("csrf_token", &token),
                ("kind", "individual"),
                ("username", "eve"),
                ("email", "eve@example.org"),
                ("password", "une phrase de passe"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(rows_in(&app, "accounts").await, 0);
    // No sign-up link either.
    let home = browser.get("/").await;
    assert!(
        !home.body.contains("href=\"/inscription\""),
        "{}",
        home.body
    );
}

// ---------------------------------------------------------------------------------------------
// Login and logout

#[tokio::test(flavor = "multi_thread")]
async fn login_by_username_or_email_and_next() {
    let app = TestApp::new().await;
    app.create_user("bob", "member").await;

    let by_name = Browser::new(&app);
    let r = by_name.login("Bob", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/users/bob");
    assert!(set_cookie(&r, "session").is_some());
    let settings = by_name.get("/parametres/profil").await;
    assert_eq!(settings.status, StatusCode::OK);

    let by_email = Browser::new(&app);
    let r = by_email.login("BOB@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(rows_in(&app, "sessions").await, 2);
    assert!(account(&app, "bob").await.last_login_at.is_some());

    // A page that needs a login sends there, and back after.
    let browser = Browser::new(&app);
    let r = browser.get("/parametres/profil").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/connexion?next=%2Fparametres%2Fprofil");
    let page = browser.get(location(&r)).await;
    assert!(
        page.body
            .contains("name=\"next\" value=\"/parametres/profil\""),
        "{}",
        page.body
    );
    let token = csrf_in(&page.body);
    let r = browser
        .post_form(
            "/connexion",
            &[
                ("csrf_token", &token),
                ("login", "bob"),
                ("password", PASSWORD),
                ("next", "/parametres/profil"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/parametres/profil");

    // `next` never leaves the site.
    let browser = Browser::new(&app);
    let token = browser.csrf("/connexion").await;
    let r = browser
        .post_form(
            "/connexion",
            &[
                ("csrf_token", &token),
                ("login", "bob"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/users/bob");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_with_wrong_password_or_unknown_name_is_refused() {
    let app = TestApp::new().await;
    app.create_user("bob", "member").await;
    let browser = Browser::new(&app);
    let r = browser.login("bob", "pas le bon mot de passe").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Identifiant ou mot de passe incorrect."),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"bob\""), "login kept: {}", r.body);
    assert!(set_cookie(&r, "session").is_none());
    let unknown = browser.login("personne", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown
            .body
            .contains("Identifiant ou mot de passe incorrect.")
    );
    let empty = browser.login("", "").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.body.contains("id=\"f-password-error\""),
        "{}",
        empty.body
    );
    assert_eq!(rows_in(&app, "sessions").await, 0);
    // Login without a token is a forgery.
    let r = browser
        .post_form("/connexion", &[("login", "bob"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(rows_in(&app, "sessions").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn login_is_rate_limited_per_account() {
    let app = TestApp::new().await;
    app.create_user("bob", "member").await;
    // Each attempt from its own address: only the account limit can apply.
    for i in 0..5 {
        let b = Browser::from_ip(&app, &format!("192.0.2.{}", i + 1));
        let r = b.login("bob", "mauvais mot de passe").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    let b = Browser::from_ip(&app, "192.0.2.100");
    let r = b.login("bob@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.body.contains("Trop de tentatives de connexion"),
        "{}",
        r.body
    );
    let retry: i64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    assert!(set_cookie(&r, "session").is_none());
    assert_eq!(rows_in(&app, "sessions").await, 0);
    // Another account is not affected.
    app.create_user("carol", "member").await;
    let r = b.login("carol", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn success_clears_the_account_failures() {
    let app = TestApp::new().await;
    let bob = app.create_user("bob", "member").await;
    let b = Browser::new(&app);
    for _ in 0..4 {
        b.login("bob", "mauvais mot de passe").await;
    }
    let r = b.login("bob", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut conn = app.ctx.conn().await.expect("conn");
    let left: i64 = login_failures::table
        .filter(login_failures::scope.eq("account"))
        .filter(login_failures::key.eq(bob.id.to_string()))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(left, 0);
    // Four more failures are allowed again before the limit.
    for _ in 0..4 {
        let r = Browser::new(&app)
            .login("bob", "mauvais mot de passe")
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn login_is_rate_limited_per_ip() {
    let app = TestApp::new().await;
    app.create_user("bob", "member").await;
    let attacker = Browser::from_ip(&app, "203.0.113.7");
    for i in 0..10 {
        let r = attacker
            .login(&format!("inconnu{i}"), "mauvais mot de passe")
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    // Blocked, even with the right password of a real account.
    let r = attacker.login("bob", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    // Another address is not.
    let r = Browser::from_ip(&app, "198.51.100.2")
        .login("bob", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_deletes_the_session_row() {
    let app = TestApp::new().await;
    app.create_user("bob", "member").await;
    let browser = Browser::new(&app);
    browser.login("bob", PASSWORD).await;
    assert_eq!(rows_in(&app, "sessions").await, 1);
    // Logging in again from the same browser replaces its session.
    browser.login("bob", PASSWORD).await;
    assert_eq!(rows_in(&app, "sessions").await, 1);
    let old_cookies = browser.cookies();

    // Logout without the token does nothing.
    let r = browser.post_form("/deconnexion", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(rows_in(&app, "sessions").await, 1);

    let page = browser.get("/users/bob").await;
    let token = csrf_in(&page.body);
    let r = browser
        .post_form("/deconnexion", &[("csrf_token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let cleared = set_cookie(&r, "session").expect("session cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(rows_in(&app, "sessions").await, 0);
    let home = browser.get("/").await;
    assert!(home.body.contains("Vous êtes déconnecté."), "{}", home.body);
    assert!(home.body.contains("href=\"/connexion\""));

    // The old cookie, replayed, no longer opens anything.
    let replay = Browser::new(&app);
    replay.set_all_cookies(old_cookies);
    let r = replay.get("/parametres/profil").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/connexion"));
}

#[tokio::test(flavor = "multi_thread")]
async fn secure_cookies_when_the_instance_is_https() {
    let app = TestApp::with_config(|c| c.instance.url = "https://culture.example".into()).await;
    let browser = Browser::new(&app);
    let form = browser.get("/inscription").await;
    assert!(
        set_cookie(&form, "csrf")
            .expect("csrf cookie")
            .contains("; Secure"),
        "csrf cookie not Secure"
    );
    let r = browser
        .register("alice", "alice@example.org", "une phrase de passe")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let cookie = set_cookie(&r, "session").expect("session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
}

// ---------------------------------------------------------------------------------------------
// Roles

#[tokio::test(flavor = "multi_thread")]
async fn roles_guard_the_administration() {
    let app = TestApp::new().await;
    app.create_user("membre", "member").await;
    app.create_user("modo", "moderator").await;
    app.create_user("chef", "admin").await;

    let r = Browser::new(&app).get("/admin").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/connexion?next=%2Fadmin");

    let member = Browser::new(&app);
    member.login("membre", PASSWORD).await;
    assert_eq!(member.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        member.get("/admin/comptes").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!member.get("/").await.body.contains("href=\"/admin\""));

    let modo = Browser::new(&app);
    modo.login("modo", PASSWORD).await;
    let overview = modo.get("/admin").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.body.contains("Comptes par rôle"),
        "{}",
        overview.body
    );
    assert!(
        overview.body.contains("href=\"/admin\""),
        "admin link in the header"
    );
    assert_eq!(
        modo.get("/admin/comptes").await.status,
        StatusCode::FORBIDDEN
    );
    // A moderator cannot change roles, even with a valid token.
    let token = csrf_in(&overview.body);
    let r = modo
        .post_form(
            "/admin/comptes/membre/role",
            &[("csrf_token", &token), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(account(&app, "membre").await.role, "member");

    let admin = Browser::new(&app);
    admin.login("chef", PASSWORD).await;
    let list = admin.get("/admin/comptes").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("membre@example.org"), "{}", list.body);
    let token = csrf_in(&list.body);
    // Without the token: refused.
    let r = admin
        .post_form("/admin/comptes/membre/role", &[("role", "moderator")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(account(&app, "membre").await.role, "member");
    let r = admin
        .post_form(
            "/admin/comptes/membre/role",
            &[("csrf_token", &token), ("role", "moderator")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(account(&app, "membre").await.role, "moderator");
    let r = admin
        .post_form(
            "/admin/comptes/membre/role",
            &[("csrf_token", &token), ("role", "emperor")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(account(&app, "membre").await.role, "moderator");
    // The last admin keeps the role.
    let r = admin
        .post_form(
            "/admin/comptes/chef/role",
            &[("csrf_token", &token), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("dernier administrateur"), "{}", r.body);
    assert_eq!(account(&app, "chef").await.role, "admin");
    // The promoted member now reaches the overview.
    let promoted = Browser::new(&app);
    promoted.login("membre", PASSWORD).await;
    assert_eq!(promoted.get("/admin").await.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Profile

async fn logged_in<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    app.create_user(username, "member").await;
    Browser::logged_in(app, username).await
}

fn profile_parts<'a>(token: &'a str, bio: &'a str) -> Vec<Part<'a>> {
    vec![
        Part::text("csrf_token", token),
        Part::text("display_name", "Théâtre <b>du</b> Pays"),
        Part::text("bio", bio),
        Part::text("disciplines", "théâtre, marionnettes ,, Théâtre"),
        Part::text("commune", "Pontivy"),
        Part::text("website", "https://theatre.example/"),
        Part::text("language", ""),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_update_sanitises_hostile_html() {
    let app = TestApp::new().await;
    let browser = logged_in(&app, "bob").await;
    let form = browser.get("/parametres/profil").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    for label in [
        "for=\"f-display_name\"",
        "for=\"f-bio\"",
        "for=\"f-avatar\"",
        "for=\"f-hide_network\"",
    ] {
        assert!(form.body.contains(label), "{label}");
    }
    let token = csrf_in(&form.body);
    let bio = "**Compagnie** de théâtre.\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[clic](javascript:alert(1)) <a href=\"javascript:alert(2)\">lien</a>";
    let mut parts = profile_parts(&token, bio);
    parts.push(Part::text("hide_network", "on"));
    let r = browser.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/users/bob");

    let bob = account(&app, "bob").await;
    assert_eq!(bob.bio_markdown, bio, "the Markdown is kept as typed");
    for bad in ["<script", "onerror", "javascript:", "<img"] {
        assert!(
            !bob.bio_html.contains(bad),
            "{bad} stored: {}",
            bob.bio_html
        );
    }
    assert!(
        bob.bio_html.contains("<strong>Compagnie</strong>"),
        "{}",
        bob.bio_html
    );
    assert_eq!(bob.disciplines, vec!["théâtre", "marionnettes"]);
    assert_eq!(bob.commune, "Pontivy");
    assert_eq!(bob.website, "https://theatre.example/");
    assert!(bob.hide_network);
    assert_eq!(bob.language, None);
    // The actor (what other servers see) follows.
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::by_id(&mut conn, bob.actor_id)
        .await
        .expect("actor");
    assert_eq!(actor.summary_html, bob.bio_html);
    assert_eq!(actor.name, "Théâtre <b>du</b> Pays");

    let page = Browser::new(&app).get("/users/bob").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<strong>Compagnie</strong>"),
        "{}",
        page.body
    );
    for bad in ["<script>alert", "onerror", "javascript:", "<b>du</b>"] {
        assert!(!page.body.contains(bad), "{bad} rendered: {}", page.body);
    }
    assert!(
        page.body.contains("Théâtre &lt;b&gt;du&lt;/b&gt; Pays")
            || page.body.contains("Théâtre &#60;b&#62;du&#60;/b&#62; Pays"),
        "display name not escaped: {}",
        page.body
    );
    assert!(page.body.contains("marionnettes") && page.body.contains("Pontivy"));
    assert!(page.body.contains("href=\"https://theatre.example/\""));
    assert!(page.body.contains("@bob@localhost:8080"), "{}", page.body);

    // Unchecking the box turns it off again.
    let token = csrf_in(&browser.get("/parametres/profil").await.body);
    let r = browser
        .post_multipart("/parametres/profil", profile_parts(&token, "Plus court."))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!account(&app, "bob").await.hide_network);
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_update_is_federated_to_remote_followers() {
    use culturecnous::db::schema::{activities, deliveries, follows};
    let app = TestApp::new().await;
    let browser = logged_in(&app, "bob").await;
    let bob = account(&app, "bob").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let now = chrono::Utc::now();
    let remote = db::actors::insert(
        &mut conn,
        &db::actors::NewActor {
            ap_id: "https://mastodon.example/users/zoe".into(),
            kind: "Person".into(),
            username: "zoe".into(),
            domain: "mastodon.example".into(),
            local: false,
            name: "Zoé".into(),
            summary_html: String::new(),
            icon_url: None,
            url: None,
            inbox_url: "https://mastodon.example/users/zoe/inbox".into(),
            shared_inbox_url: Some("https://mastodon.example/inbox".into()),
            outbox_url: None,
            followers_url: None,
            following_url: None,
            public_key_pem: "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----".into(),
            private_key_pem: None,
            manually_approves_followers: false,
            discoverable: true,
            published: now,
            last_refreshed_at: now,
        },
    )
    .await
    .expect("remote actor");
    diesel::insert_into(follows::table)
        .values((
            follows::follower_id.eq(remote.id),
            follows::followee_id.eq(bob.actor_id),
            follows::state.eq("accepted"),
            follows::activity_ap_id.eq("https://mastodon.example/follows/1"),
        ))
        .execute(&mut conn)
        .await
        .expect("follow");

    // A refused form sends nothing.
    let token = csrf_in(&browser.get("/parametres/profil").await.body);
    let mut parts = profile_parts(&token, "Bio");
    parts.push(Part::text("website", "pas un site"));
    assert_eq!(
        browser
            .post_multipart("/parametres/profil", parts)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let updates = || {
        activities::table
            .filter(activities::kind.eq("Update"))
            .filter(activities::actor_id.eq(bob.actor_id))
            .select(activities::id)
    };
    let none: Vec<i64> = updates().load(&mut conn).await.expect("activities");
    assert!(none.is_empty());

    let r = browser
        .post_multipart("/parametres/profil", profile_parts(&token, "Nouvelle bio"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let ids: Vec<i64> = updates().load(&mut conn).await.expect("activities");
    assert_eq!(ids.len(), 1);
    let inboxes: Vec<String> = deliveries::table
        .filter(deliveries::activity_id.eq(ids[0]))
        .select(deliveries::inbox_url)
        .load(&mut conn)
        .await
        .expect("deliveries");
    assert_eq!(inboxes, vec!["https://mastodon.example/inbox".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_errors_are_shown_next_to_fields_and_nothing_is_written() {
    let app = TestApp::new().await;
    let browser = logged_in(&app, "bob").await;
    let before = account(&app, "bob").await;
    let token = csrf_in(&browser.get("/parametres/profil").await.body);
    let long_name = "x".repeat(101);
    let r = browser
        .post_multipart(
            "/parametres/profil",
            vec![
                Part::text("csrf_token", &token),
                Part::text("display_name", &long_name),
                Part::text("bio", "Nouvelle bio"),
                Part::text("website", "javascript:alert(1)"),
                Part::text("language", "de"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for field in ["display_name", "website", "language"] {
        assert!(
            r.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field}: {}",
            r.body
        );
    }
    assert!(r.body.contains("Nouvelle bio"), "values kept");
    let after = account(&app, "bob").await;
    assert_eq!(after.bio_markdown, before.bio_markdown);
    assert_eq!(after.updated_at, before.updated_at);

    // Without the token: 403, nothing written.
    let r = browser
        .post_multipart(
            "/parametres/profil",
            vec![Part::text("display_name", "Pirate"), Part::text("bio", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(account(&app, "bob").await.display_name, "bob");
}

#[tokio::test(flavor = "multi_thread")]
async fn avatar_png_is_stored_served_and_replaced() {
    let app = TestApp::new().await;
    let browser = logged_in(&app, "bob").await;
    let token = csrf_in(&browser.get("/parametres/profil").await.body);
    let mut parts = profile_parts(&token, "Bio");
    parts.push(Part::File {
        name: "avatar",
        file_name: "moi.png",
        content_type: "image/png",
        bytes: png(),
    });
    let r = browser.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let bob = account(&app, "bob").await;
    let path = bob.avatar_path.clone().expect("avatar path");
    let name = path.strip_prefix("avatars/").expect("under avatars/");
    assert!(name.ends_with(".png") && name.len() > 40, "{name}");
    assert_eq!(avatar_files(&app), vec![name.to_string()]);
    let stored = std::fs::read(app.ctx.media_dir.join(&path)).expect("file");
    assert_eq!(stored, png());
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::by_id(&mut conn, bob.actor_id)
        .await
        .expect("actor");
    assert_eq!(
        actor.icon_url.as_deref(),
        Some(format!("http://localhost:8080/media/avatars/{name}").as_str())
    );

    let served = app.get(&format!("/media/avatars/{name}"), "image/*").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    let page = Browser::new(&app).get("/users/bob").await;
    assert!(
        page.body
            .contains(&format!("src=\"/media/avatars/{name}\"")),
        "{}",
        page.body
    );
    assert_eq!(
        app.get("/media/avatars/..%2F..%2Fserve.lock", "*/*")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A new avatar replaces the old file; a form without a file keeps the current one.
    let token = csrf_in(&browser.get("/parametres/profil").await.body);
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 0x3b]);
    let mut parts = profile_parts(&token, "Bio");
    parts.push(Part::File {
        name: "avatar",
        file_name: "moi.gif",
        content_type: "application/octet-stream",
        bytes: gif,
    });
    let r = browser.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let files = avatar_files(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(".gif"), "{files:?}");
    let mut parts = profile_parts(&token, "Bio");
    parts.push(Part::File {
        name: "avatar",
        file_name: "",
        content_type: "application/octet-stream",
        bytes: Vec::new(),
    });
    let r = browser.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(avatar_files(&app), files);
    assert_eq!(
        account(&app, "bob").await.avatar_path,
        Some(format!("avatars/{}", files[0]))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn avatar_that_is_not_an_image_is_refused_whatever_its_name() {
    let app = TestApp::new().await;
    let browser = logged_in(&app, "bob").await;
    let token = csrf_in(&browser.get("/parametres/profil").await.body);
    for bytes in [
        b"ceci est un texte, pas une image".to_vec(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
    ] {
        let mut parts = profile_parts(&token, "Nouvelle bio");
        parts.push(Part::File {
            name: "avatar",
            file_name: "photo.png",
            content_type: "image/png",
            bytes,
        });
        let r = browser.post_multipart("/parametres/profil", parts).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body
                .contains("Le fichier doit être une image PNG, JPEG, GIF ou WebP."),
            "{}",
            r.body
        );
        assert!(r.body.contains("id=\"f-avatar-error\""));
    }
    assert!(avatar_files(&app).is_empty());
    let bob = account(&app, "bob").await;
    assert_eq!(bob.avatar_path, None);
    assert_eq!(bob.bio_markdown, "", "nothing else written either");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_avatars_are_refused() {
    let app = TestApp::new().await;
    let browser = logged_in(&app, "bob").await;
    let token = csrf_in(&browser.get("/parametres/profil").await.body);
    // Just over 2 MiB, within the body limit: refused by the size check.
    let mut big = png();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let mut parts = profile_parts(&token, "Bio");
    parts.push(Part::File {
        name: "avatar",
        file_name: "grand.png",
        content_type: "image/png",
        bytes: big,
    });
    let r = browser.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("image est trop lourde."), "{}", r.body);
    // Far over: the body itself is cut off, with the same answer.
    let mut huge = png();
    huge.resize(5 * 1024 * 1024, 0);
    let mut parts = profile_parts(&token, "Bio");
    parts.push(Part::File {
        name: "avatar",
        file_name: "enorme.png",
        content_type: "image/png",
        bytes: huge,
    });
    let r = browser.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("image est trop lourde."), "{}", r.body);
    assert!(avatar_files(&app).is_empty());
    let bob = account(&app, "bob").await;
    assert_eq!(bob.avatar_path, None);
    assert_eq!(bob.bio_markdown, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn avatar_limit_follows_a_smaller_max_upload() {
    let app = TestApp::with_config(|c| c.storage.max_upload_mb = 1).await;
    let browser = logged_in(&app, "bob").await;
    let form = browser.get("/parametres/profil").await;
    assert!(form.body.contains("1 Mo"), "{}", form.body);
    let token = csrf_in(&form.body);
    let mut big = png();
    big.resize(1024 * 1024 + 10, 0);
    let mut parts = profile_parts(&token, "Bio");
    parts.push(Part::File {
        name: "avatar",
        file_name: "moyen.png",
        content_type: "image/png",
        bytes: big,
    });
    let r = browser.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(avatar_files(&app).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_profiles_are_404_and_the_page_actor_has_one() {
    let app = TestApp::new().await;
    assert_eq!(
        app.get_html("/users/personne").await.status,
        StatusCode::NOT_FOUND
    );
    let page = app.get_html("/users/departement").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Page institutionnelle"), "{}", page.body);
    app.create_user("alice", "member").await;
    let r = app.get_html("/users/Alice").await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(location(&r), "/users/alice");
}

// ---------------------------------------------------------------------------------------------
// Language

#[tokio::test(flavor = "multi_thread")]
async fn language_follows_preference_then_cookie_then_instance() {
    let app = TestApp::new().await;
    // Instance default.
    let r = Browser::new(&app).get("/").await;
    assert!(r.body.contains("<html lang=\"fr\">"));
    assert!(r.body.contains("Inscription"));

    // A visitor with the lang cookie.
    let visitor = Browser::new(&app);
    visitor.set_cookie("lang", "en");
    let r = visitor.get("/connexion").await;
    assert!(r.body.contains("<html lang=\"en\">"), "{}", r.body);
    assert!(r.body.contains("Username or e-mail address"), "{}", r.body);

    // The switch sets the cookie and comes back to the page.
    let switcher = Browser::new(&app);
    let page = switcher.get("/connexion").await;
    let token = csrf_in(&page.body);
    let r = switcher
        .post_form(
            "/langue",
            &[
                ("csrf_token", &token),
                ("lang", "en"),
                ("next", "/connexion"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/connexion");
    assert!(
        switcher
            .get("/connexion")
            .await
            .body
            .contains("<html lang=\"en\">")
    );

    // A member who prefers English gets English everywhere, error pages included…
    let member = logged_in(&app, "bob").await;
    let token = csrf_in(&member.get("/parametres/profil").await.body);
    let mut parts = profile_parts(&token, "Bio");
    parts.pop();
    parts.push(Part::text("language", "en"));
    let r = member.post_multipart("/parametres/profil", parts).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = member.get("/users/bob").await;
    assert!(page.body.contains("<html lang=\"en\">"), "{}", page.body);
    assert!(page.body.contains("Edit my profile"), "{}", page.body);
    assert!(
        page.body.contains("Your profile is saved."),
        "{}",
        page.body
    );
    let missing = member.get("/users/personne").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("<html lang=\"en\">"),
        "{}",
        missing.body
    );
    // …and the preference wins over a French cookie.
    member.set_cookie("lang", "fr");
    assert!(member.get("/").await.body.contains("<html lang=\"en\">"));
}

#[tokio::test(flavor = "multi_thread")]
async fn instance_language_is_the_default() {
    let app = TestApp::with_config(|c| c.instance.language = "en".into()).await;
    let r = Browser::new(&app).get("/inscription").await;
    assert!(r.body.contains("<html lang=\"en\">"), "{}", r.body);
    assert!(r.body.contains("Create an account"));
}

// ---------------------------------------------------------------------------------------------
// Layout

#[tokio::test(flavor = "multi_thread")]
async fn layout_has_skip_link_navigation_and_no_inline_code() {
    let app = TestApp::new().await;
    let r = Browser::new(&app).get("/").await;
    assert_eq!(r.header("cache-control"), Some("private, no-cache"));
    assert!(r.body.contains("class=\"skip-link\" href=\"#contenu\""));
    assert!(r.body.contains("<main id=\"contenu\""));
    assert!(r.body.contains("<nav class=\"site-nav\" aria-label="));
    assert!(r.body.contains("aria-current=\"page\""));
    for inline in ["<script", "style=", "<style", " onclick="] {
        assert!(!r.body.contains(inline), "{inline} in {}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn suspended_accounts_cannot_log_in_and_lose_their_sessions() {
    let app = TestApp::new().await;
    let browser = logged_in(&app, "bob").await;
    assert_eq!(
        browser.get("/parametres/profil").await.status,
        StatusCode::OK
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(accounts::table.filter(accounts::username.eq("bob")))
        .set(accounts::suspended_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .expect("suspend");
    // The open session no longer counts.
    let r = browser.get("/parametres/profil").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = Browser::new(&app).login("bob", PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("Ce compte est suspendu"), "{}", r.body);
    assert!(set_cookie(&r, "session").is_none());
}

/// Usernames and e-mails match whatever their case, through the `lower(…)` indexes.
#[tokio::test(flavor = "multi_thread")]
async fn account_lookups_ignore_case() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    for login in ["ALICE", "Alice@Example.ORG", " alice "] {
        let found = db::accounts::by_login(&mut conn, login)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("{login} not found"));
        assert_eq!(found.id, alice.id);
    }
    assert!(
        db::accounts::by_login(&mut conn, "alicia")
            .await
            .expect("query")
            .is_none()
    );
    assert!(
        db::accounts::username_taken(&mut conn, "ALICE")
            .await
            .expect("query")
    );
    assert!(
        !db::accounts::username_taken(&mut conn, "bob")
            .await
            .expect("query")
    );
    assert!(
        db::accounts::email_taken(&mut conn, "ALICE@example.org")
            .await
            .expect("query")
    );
    assert!(
        !db::accounts::email_taken(&mut conn, "bob@example.org")
            .await
            .expect("query")
    );
    let actor = db::actors::local_by_username(&mut conn, "Alice")
        .await
        .expect("query")
        .expect("actor");
    assert_eq!(actor.id, alice.actor_id);
    // A local actor is no remote one, whatever its domain.
    assert!(
        db::actors::remote_by_handle(&mut conn, &actor.domain, "ALICE")
            .await
            .expect("query")
            .is_none()
    );
}
