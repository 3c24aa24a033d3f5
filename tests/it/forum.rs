//! The forum (issue 13): categories managed by staff, threads and replies by page and API,
//! lock, pin, move and delete by the category's moderators, subscriptions and unread
//! markers, and the French full-text search. Federation is in `forum_federation`.

use crate::{
    common::TestApp,
    helpers::{Browser, api, call, create, error_fields, rows_in, token},
};
use axum::http::{Method, StatusCode};
use culturecnous::db::schema::{comments, forum_threads, notifications};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

/// Staff `rachel`, members `lea`, `marc`, `nina`; a category « Matériel technique ».
struct Forum {
    app: TestApp,
    staff: String,
    lea: String,
    marc: String,
    nina: String,
}

async fn forum() -> Forum {
    let app = TestApp::new().await;
    app.create_user("rachel", "staff").await;
    for name in ["lea", "marc", "nina"] {
        app.create_user(name, "member").await;
    }
    let staff = token(&app, "rachel").await;
    create(
        &app,
        &staff,
        "/api/v1/forum/categories",
        json!({"name": "Matériel technique", "description": "Son, lumière, **scène**"}),
    )
    .await;
    Forum {
        lea: token(&app, "lea").await,
        marc: token(&app, "marc").await,
        nina: token(&app, "nina").await,
        staff,
        app,
    }
}

async fn start(app: &TestApp, token: &str, slug: &str, title: &str, body: &str) -> Value {
    create(
        app,
        token,
        &format!("/api/v1/forum/categories/{slug}/threads"),
        json!({"title": title, "body": body}),
    )
    .await
}

async fn reply(app: &TestApp, token: &str, thread: i64, body: &str) -> crate::common::TestResponse {
    api(
        app,
        Method::POST,
        &format!("/api/v1/forum/threads/{thread}/replies"),
        token,
        Some(json!({"body": body})),
    )
    .await
}

async fn thread_row(app: &TestApp, id: i64) -> (i32, bool) {
    let mut conn = app.ctx.conn().await.expect("conn");
    forum_threads::table
        .find(id)
        .select((
            forum_threads::reply_count,
            forum_threads::locked_at.is_not_null(),
        ))
        .first(&mut conn)
        .await
        .expect("thread")
}

async fn notification_kinds(app: &TestApp, username: &str) -> Vec<String> {
    let account = crate::helpers::local_actor(app, username).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let account_id: i64 = culturecnous::db::schema::accounts::table
        .filter(culturecnous::db::schema::accounts::actor_id.eq(account.id))
        .select(culturecnous::db::schema::accounts::id)
        .first(&mut conn)
        .await
        .expect("account");
    notifications::table
        .filter(notifications::account_id.eq(account_id))
        .order(notifications::id)
        .select(notifications::kind)
        .load(&mut conn)
        .await
        .expect("kinds")
}

#[tokio::test]
async fn staff_create_order_and_edit_categories_and_nobody_else_can() {
    let f = forum().await;
    let app = &f.app;
    // A member may not create one.
    let r = api(
        app,
        Method::POST,
        "/api/v1/forum/categories",
        &f.lea,
        Some(json!({"name": "Hors sujet"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Bad fields are all named; a slug of a member or a page is taken; nothing is written.
    let before = rows_in(app, "forum_categories").await;
    let r = api(
        app,
        Method::POST,
        "/api/v1/forum/categories",
        &f.staff,
        Some(json!({"name": "", "description": "x".repeat(2001), "slug": "Pas Bon"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["name", "description", "slug"]);
    for taken in ["lea", "sujets", "materiel-technique"] {
        let r = api(
            app,
            Method::POST,
            "/api/v1/forum/categories",
            &f.staff,
            Some(json!({"name": "Autre", "slug": taken})),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{taken}: {}",
            r.body
        );
        assert_eq!(error_fields(&r), vec!["slug"], "{taken}");
    }
    assert_eq!(rows_in(app, "forum_categories").await, before);

    // A second category, from the page; then ordered first.
    let staff = Browser::logged_in(app, "rachel").await;
    let r = staff
        .submit_form(
            "/forum/nouvelle-categorie",
            &[
                ("name", "Éducation artistique"),
                ("description", ""),
                ("slug", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some("/forum/education-artistique"));
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["slug"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let list = api(app, Method::GET, "/api/v1/forum/categories", &f.lea, None).await;
    assert_eq!(
        names(list.json()),
        vec!["materiel-technique", "education-artistique"]
    );
    let r = staff
        .submit_form("/forum/education-artistique/ordre", &[("direction", "up")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = api(app, Method::GET, "/api/v1/forum/categories", &f.lea, None).await;
    assert_eq!(
        names(list.json()),
        vec!["education-artistique", "materiel-technique"]
    );
    // A member cannot reorder or edit.
    let lea = Browser::logged_in(app, "lea").await;
    let r = lea
        .submit_form("/forum/materiel-technique/ordre", &[("direction", "up")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = lea.get("/forum/materiel-technique/modifier").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Staff edits the name; the slug stays.
    let r = api(
        app,
        Method::PATCH,
        "/api/v1/forum/categories/materiel-technique",
        &f.staff,
        Some(json!({"name": "Matériel et technique"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = lea.get("/forum").await;
    assert!(page.body.contains("Matériel et technique"), "{}", page.body);
    assert!(page.body.contains("/forum/materiel-technique"));
}

#[tokio::test]
async fn members_start_threads_and_reply_and_bad_input_writes_nothing() {
    let f = forum().await;
    let app = &f.app;
    // Refused: no title, no body, a title too long; all named, nothing stored.
    let r = api(
        app,
        Method::POST,
        "/api/v1/forum/categories/materiel-technique/threads",
        &f.lea,
        Some(json!({"title": " ", "body": ""})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["title", "body"]);
    let r = api(
        app,
        Method::POST,
        "/api/v1/forum/categories/materiel-technique/threads",
        &f.lea,
        Some(json!({"title": "t".repeat(201), "body": "ok"})),
    )
    .await;
    assert_eq!(error_fields(&r), vec!["title"]);
    let r = api(
        app,
        Method::POST,
        "/api/v1/forum/categories/inconnue/threads",
        &f.lea,
        Some(json!({"title": "Titre", "body": "ok"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(rows_in(app, "forum_threads").await, 0);

    // Started from the page: the thread's page, in its category, not in the news.
    let lea = Browser::logged_in(app, "lea").await;
    let r = lea
        .submit_form(
            "/forum/materiel-technique/nouveau-sujet",
            &[("title", ""), ("body", "Bonjour")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("f-title-error"), "{}", r.body);
    assert!(r.body.contains("Bonjour"), "the body typed is kept");
    let r = lea
        .submit_form(
            "/forum/materiel-technique/nouveau-sujet",
            &[
                ("title", "Qui prête une console son numérique ?"),
                ("body", "Pour un spectacle en **EHPAD** le 12 mars."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page_path = r.header("location").expect("location").to_string();
    assert!(page_path.starts_with("/forum/sujets/"), "{page_path}");
    let id: i64 = page_path
        .trim_start_matches("/forum/sujets/")
        .split('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let page = lea.get(&page_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<strong>EHPAD</strong>"));
    let list = Browser::new(app).get("/forum/materiel-technique").await;
    assert!(list.body.contains("Qui prête une console son numérique ?"));
    let news = Browser::new(app).get("/actualites").await;
    assert!(
        !news.body.contains("console son"),
        "threads stay in the forum"
    );

    // Replies: by API (to the thread, then to a reply); counters and last activity follow.
    let r = reply(app, &f.marc, id, "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r), vec!["body"]);
    let first = reply(app, &f.marc, id, "J'en ai une, une Yamaha TF1.").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let first_id = first.json()["id"].as_i64().expect("id");
    let r = api(
        app,
        Method::POST,
        &format!("/api/v1/forum/threads/{id}/replies"),
        &f.nina,
        Some(json!({"body": "Merci Marc !", "in_reply_to": first_id})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(thread_row(app, id).await, (2, false));
    let detail = api(
        app,
        Method::GET,
        &format!("/api/v1/forum/threads/{id}"),
        &f.lea,
        None,
    )
    .await
    .json();
    assert_eq!(detail["replies"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail["replies"][1]["parent_id"], first_id);
    assert_eq!(
        detail["replies"][0]["new"], true,
        "new since lea's last visit"
    );
    // A reply deleted by its author no longer counts.
    let r = api(
        app,
        Method::DELETE,
        &format!("/api/v1/comments/{first_id}"),
        &f.marc,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(thread_row(app, id).await.0, 1);
}

#[tokio::test]
async fn moderators_lock_pin_move_and_delete_and_members_cannot() {
    let f = forum().await;
    let app = &f.app;
    create(
        app,
        &f.staff,
        "/api/v1/forum/categories",
        json!({"name": "Financements"}),
    )
    .await;
    let old = start(app, &f.lea, "materiel-technique", "Ancien sujet", "texte").await["id"]
        .as_i64()
        .expect("id");
    let id = start(
        app,
        &f.lea,
        "materiel-technique",
        "Projecteurs LED",
        "texte",
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let moderate = |token: &str, body: Value| {
        let token = token.to_string();
        async move {
            api(
                app,
                Method::POST,
                &format!("/api/v1/forum/threads/{id}/moderation"),
                &token,
                Some(body),
            )
            .await
        }
    };
    // A member (even its author) may not moderate.
    let r = moderate(&f.lea, json!({"action": "lock"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Staff chooses marc as a moderator of the category: he may.
    let staff = Browser::logged_in(app, "rachel").await;
    let r = staff
        .submit_form(
            "/forum/materiel-technique/moderateurs",
            &[("username", "personne")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("f-username-error"), "{}", r.body);
    let r = staff
        .submit_form(
            "/forum/materiel-technique/moderateurs",
            &[("username", "marc")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = moderate(&f.marc, json!({"action": "lock"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["locked"], true);

    // Locked: replies are refused with the reason, nothing stored; the page says so.
    let before = rows_in(app, "comments").await;
    let r = reply(app, &f.nina, id, "Trop tard ?").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("locked"), "{}", r.body);
    assert_eq!(rows_in(app, "comments").await, before);
    let nina = Browser::logged_in(app, "nina").await;
    let page = nina.get(&format!("/forum/sujets/{id}")).await;
    let page = if page.status == StatusCode::PERMANENT_REDIRECT || page.status.is_redirection() {
        nina.get(page.header("location").expect("location")).await
    } else {
        page
    };
    assert!(
        page.body.contains("Ce sujet est verrouillé"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"target\""), "no reply form");
    let r = moderate(&f.marc, json!({"action": "unlock"})).await;
    assert_eq!(r.json()["locked"], false);
    assert_eq!(
        reply(app, &f.nina, id, "Merci").await.status,
        StatusCode::CREATED
    );

    // Pinned first, even older; a thread with newer activity otherwise leads.
    reply(app, &f.nina, old, "relance").await;
    let list = api(
        app,
        Method::GET,
        "/api/v1/forum/categories/materiel-technique/threads",
        &f.nina,
        None,
    )
    .await
    .json();
    assert_eq!(list["items"][0]["id"], old, "last activity first");
    let r = moderate(&f.marc, json!({"action": "pin"})).await;
    assert_eq!(r.json()["pinned"], true);
    let list = api(
        app,
        Method::GET,
        "/api/v1/forum/categories/materiel-technique/threads",
        &f.nina,
        None,
    )
    .await
    .json();
    assert_eq!(list["items"][0]["id"], id, "pinned first");

    // Move: marc does not moderate « Financements »; staff does. Unknown category: named.
    let r = moderate(
        &f.marc,
        json!({"action": "move", "category": "financements"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = moderate(
        &f.staff,
        json!({"action": "move", "category": "nulle-part"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r), vec!["category"]);
    let r = moderate(
        &f.staff,
        json!({"action": "move", "category": "financements"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["category"], "financements");
    assert_eq!(r.json()["pinned"], false, "a moved thread is unpinned");
    let r = moderate(&f.staff, json!({"action": "sauter"})).await;
    assert_eq!(error_fields(&r), vec!["action"]);

    // Delete: nina may not; its author may; then it is gone, and replying is refused.
    let r = api(
        app,
        Method::DELETE,
        &format!("/api/v1/forum/threads/{id}"),
        &f.nina,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(
        app,
        Method::DELETE,
        &format!("/api/v1/forum/threads/{id}"),
        &f.lea,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(
        app,
        Method::GET,
        &format!("/api/v1/forum/threads/{id}"),
        &f.nina,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = reply(app, &f.nina, id, "Encore là ?").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A moderator deletes someone else's thread.
    let r = api(
        app,
        Method::DELETE,
        &format!("/api/v1/forum/threads/{old}"),
        &f.marc,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}

#[tokio::test]
async fn followers_of_a_category_or_thread_are_told_and_unread_threads_are_marked() {
    let f = forum().await;
    let app = &f.app;
    // nina follows the category (page form); marc through the API.
    let nina = Browser::logged_in(app, "nina").await;
    let r = nina
        .submit_form("/forum/materiel-technique/suivre", &[("follow", "on")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = api(
        app,
        Method::PUT,
        "/api/v1/forum/categories/materiel-technique/subscription",
        &f.marc,
        Some(json!({"following": true})),
    )
    .await;
    assert_eq!(r.json()["following"], true);
    let id = start(
        app,
        &f.lea,
        "materiel-technique",
        "Gradateurs",
        "Qui en a ?",
    )
    .await["id"]
        .as_i64()
        .expect("id");
    assert_eq!(notification_kinds(app, "nina").await, vec!["forum_thread"]);
    assert_eq!(notification_kinds(app, "marc").await, vec!["forum_thread"]);
    assert!(
        notification_kinds(app, "lea").await.is_empty(),
        "not its author"
    );

    // The list marks it unread for nina until she reads it.
    let unread = |token: String| async move {
        api(
            app,
            Method::GET,
            "/api/v1/forum/categories/materiel-technique/threads",
            &token,
            None,
        )
        .await
        .json()["items"][0]["unread"]
            .as_bool()
            .expect("unread")
    };
    assert!(unread(f.nina.clone()).await);
    assert!(!unread(f.lea.clone()).await, "its author read it");
    api(
        app,
        Method::GET,
        &format!("/api/v1/forum/threads/{id}"),
        &f.nina,
        None,
    )
    .await;
    assert!(!unread(f.nina.clone()).await);

    // A reply: lea (author, following it) is told once, as the one replied to; nina follows
    // the thread and is told of the next reply; marc stops following.
    reply(app, &f.marc, id, "J'en ai deux").await;
    assert_eq!(notification_kinds(app, "lea").await, vec!["reply"]);
    let r = api(
        app,
        Method::PUT,
        &format!("/api/v1/forum/threads/{id}/subscription"),
        &f.nina,
        Some(json!({"following": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(unread(f.nina.clone()).await, "a new reply");
    reply(app, &f.lea, id, "Super, je t'écris").await;
    assert_eq!(
        notification_kinds(app, "nina").await,
        vec!["forum_thread", "forum_reply"]
    );
    // marc, who replied, now follows the thread and hears of lea's answer.
    assert_eq!(
        notification_kinds(app, "marc").await,
        vec!["forum_thread", "forum_reply"]
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let n: i64 = comments::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(n, 2);
}

#[tokio::test]
async fn search_forgives_accents_plurals_and_typos_and_filters_by_category() {
    let f = forum().await;
    let app = &f.app;
    create(
        app,
        &f.staff,
        "/api/v1/forum/categories",
        json!({"name": "Financements"}),
    )
    .await;
    let t1 = start(
        app,
        &f.lea,
        "financements",
        "Subvention pour une résidence d'artistes",
        "La DRAC finance-t-elle les résidences en milieu rural ?",
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let t2 = start(
        app,
        &f.marc,
        "materiel-technique",
        "Console lumière à prêter",
        "Pour le théâtre municipal",
    )
    .await["id"]
        .as_i64()
        .expect("id");
    reply(
        app,
        &f.nina,
        t2,
        "Le théâtre de Gérardmer a des projecteurs.",
    )
    .await;
    let ids = |q: &str, category: &str| {
        let uri = format!(
            "/api/v1/forum/search?q={}&category={category}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        async move {
            let r = call(app, Method::GET, &uri, None, None).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            r.json()["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|h| {
                    (
                        h["thread_id"].as_i64().unwrap_or(0),
                        h["reply"].as_bool().unwrap_or(false),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    // Accents and plurals.
    assert_eq!(ids("residences", "").await, vec![(t1, false)]);
    assert_eq!(
        ids("THEATRE", "").await.len(),
        2,
        "the thread and the reply"
    );
    // A typo in a title.
    assert_eq!(ids("subventon", "").await, vec![(t1, false)]);
    // A reply is found, and the category filters.
    assert_eq!(ids("projecteurs", "").await, vec![(t2, true)]);
    assert!(ids("theatre", "financements").await.is_empty());
    // An unknown category is named; an empty query finds nothing.
    let r = call(
        app,
        Method::GET,
        "/api/v1/forum/search?q=x&category=zzz",
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["category"]);
    assert!(ids("", "").await.is_empty());
    // The page too; a deleted thread is no longer found.
    let page = Browser::new(app).get("/forum/recherche?q=residence").await;
    assert!(
        page.body.contains("Subvention pour une résidence"),
        "{}",
        page.body
    );
    api(
        app,
        Method::DELETE,
        &format!("/api/v1/forum/threads/{t1}"),
        &f.lea,
        None,
    )
    .await;
    assert!(ids("residences", "").await.is_empty());
    let page = Browser::new(app)
        .get("/forum/recherche?q=x&categorie=nulle")
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("f-categorie-error"), "{}", page.body);
}

#[tokio::test]
async fn the_reply_form_quotes_what_it_answers_and_a_locked_thread_says_why() {
    let f = forum().await;
    let app = &f.app;
    let created = start(
        app,
        &f.lea,
        "materiel-technique",
        "Câbles DMX",
        "Il me faut 20 m.",
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let ap_id = created["ap_id"].as_str().expect("ap_id").to_string();
    let marc = Browser::logged_in(app, "marc").await;
    let form = marc
        .get(&format!(
            "/commentaires/repondre?cible={}&citer=1",
            url::form_urlencoded::byte_serialize(ap_id.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let text = form.body.replace("&#62;", ">").replace("&gt;", ">");
    assert!(text.contains("> **lea** a écrit :"), "{}", form.body);
    assert!(text.contains("> Il me faut 20 m."), "{}", form.body);
    let r = marc
        .submit_form(
            "/commentaires",
            &[
                ("target", ap_id.as_str()),
                ("body", "> Il me faut 20 m.\n\nJ'en ai 30 m."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(thread_row(app, id).await.0, 1);
    api(
        app,
        Method::POST,
        &format!("/api/v1/forum/threads/{id}/moderation"),
        &f.staff,
        Some(json!({"action": "lock"})),
    )
    .await;
    let r = marc
        .submit_form(
            "/commentaires",
            &[("target", ap_id.as_str()), ("body", "Et encore")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("verrouillé"), "{}", r.body);
    assert!(r.body.contains("Et encore"), "the text is kept");
    assert_eq!(thread_row(app, id).await, (1, true));
}

#[tokio::test]
async fn the_forum_pages_pass_the_mechanical_accessibility_checks() {
    let f = forum().await;
    let app = &f.app;
    let created = start(
        app,
        &f.lea,
        "materiel-technique",
        "Câbles DMX",
        "Il me faut **20 m**.",
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let ap_id = created["ap_id"].as_str().expect("ap_id").to_string();
    reply(app, &f.marc, id, "J'en ai 30 m.").await;
    let page = crate::helpers::path_of(created["url"].as_str().expect("url"));
    let lea = Browser::logged_in(app, "lea").await;
    let staff = Browser::logged_in(app, "rachel").await;
    let mut pages = Vec::new();
    for (what, who) in [("member", &lea), ("staff", &staff)] {
        for path in [
            "/forum".to_string(),
            "/forum/materiel-technique".to_string(),
            page.clone(),
            "/forum/recherche?q=cables".to_string(),
            "/forum/materiel-technique/nouveau-sujet".to_string(),
        ] {
            pages.push((format!("{path} ({what})"), who.get(&path).await));
        }
    }
    pages.push((
        "/forum/nouvelle-categorie".to_string(),
        staff.get("/forum/nouvelle-categorie").await,
    ));
    pages.push((
        "/forum/materiel-technique/modifier".to_string(),
        staff.get("/forum/materiel-technique/modifier").await,
    ));
    pages.push((format!("{page} (visitor)"), app.get_html(&page).await));
    pages.push((
        "quote form".to_string(),
        lea.get(&format!(
            "/commentaires/repondre?cible={}&citer=1",
            url::form_urlencoded::byte_serialize(ap_id.as_bytes()).collect::<String>()
        ))
        .await,
    ));
    pages.push((
        "/forum/materiel-technique/nouveau-sujet (errors)".to_string(),
        lea.submit_form(
            "/forum/materiel-technique/nouveau-sujet",
            &[("title", ""), ("body", "")],
        )
        .await,
    ));
    pages.push((
        "/forum/nouvelle-categorie (errors)".to_string(),
        staff
            .submit_form(
                "/forum/nouvelle-categorie",
                &[("name", ""), ("slug", "Non !")],
            )
            .await,
    ));
    crate::accessibility::assert_accessible(&pages);
}

#[tokio::test]
async fn threads_and_replies_are_reported_through_the_one_reporting_path() {
    let f = forum().await;
    let app = &f.app;
    let created = start(
        app,
        &f.lea,
        "materiel-technique",
        "Vends matériel",
        "Prix imbattables",
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let reply_id = reply(app, &f.marc, id, "Arnaque ?").await.json()["id"]
        .as_i64()
        .expect("reply id");
    let before = rows_in(app, "reports").await;
    // The thread by its id, and the reply by its page anchor.
    let page = created["url"].as_str().expect("url").to_string();
    for target in [
        created["ap_id"].as_str().expect("ap_id").to_string(),
        format!("{page}#comment-{reply_id}"),
    ] {
        let r = api(
            app,
            Method::POST,
            "/api/v1/reports",
            &f.nina,
            Some(json!({"target": target, "reason": "spam", "comment": "Hors sujet"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{target}: {}", r.body);
    }
    assert_eq!(rows_in(app, "reports").await, before + 2);
}
