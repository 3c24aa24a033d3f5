//! Notifications (issue 9): every type recorded by local actions and by signed activities from
//! a remote server, grouping of likes and boosts, pages of 20, marking read (API and forms),
//! the header's counter, preferences (off, instant mail, centre), visibility after a deletion
//! or a domain block, and bad input.

use crate::{
    common::TestApp,
    federation_inbox::{Remote, deliver, remote_actor},
    helpers::{
        Browser, api, create, enc, error_fields, local_actor, remote_actor_row, token, unescape,
    },
    reactions::{announce, like, undo},
};
use axum::http::{Method, StatusCode};
use culturecnous::{
    db::schema::{accounts, actors, mails, notification_preferences, notifications},
    service::{
        domain_blocks::{self, BlockOptions, Severity},
        notifications::{NotificationKind, events},
    },
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

const REMOTE: &str = "http://remote.example:1234";
const LOCAL: &str = "http://localhost:8080";

async fn publish(app: &TestApp, token: &str, title: &str, body: &str) -> Value {
    create(
        app,
        token,
        "/api/v1/posts",
        json!({"title": title, "body": body}),
    )
    .await
}

async fn comment(app: &TestApp, token: &str, in_reply_to: &str, body: &str) -> Value {
    create(
        app,
        token,
        "/api/v1/comments",
        json!({"in_reply_to": in_reply_to, "body": body}),
    )
    .await
}

/// `GET /api/v1/notifications` as `token`'s owner (extra query appended).
async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let r = api(
        app,
        Method::GET,
        &format!("/api/v1/notifications{query}"),
        token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// `(type, text)` of every item of the first page.
async fn items(app: &TestApp, token: &str) -> Vec<(String, String)> {
    list(app, token, "").await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["type"].as_str().expect("type").to_string(),
                i["text"].as_str().expect("text").to_string(),
            )
        })
        .collect()
}

fn types(items: &[(String, String)]) -> Vec<&str> {
    let mut t: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
    t.sort_unstable();
    t
}

async fn notification_rows(app: &TestApp) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    notifications::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

async fn confirm_emails(app: &TestApp) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(accounts::table)
        .set(accounts::email_confirmed_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .expect("confirm");
}

/// `(to, subject, unsubscribe_url)` of the queued mails.
async fn queued_mails(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    let mut conn = app.ctx.conn().await.expect("conn");
    mails::table
        .order(mails::id)
        .select((mails::to_address, mails::subject, mails::unsubscribe_url))
        .load(&mut conn)
        .await
        .expect("mails")
}

#[tokio::test(flavor = "multi_thread")]
async fn local_actions_notify_each_type_once_and_never_the_actor() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("carol", "member").await;
    let alice = token(&app, "alice").await;
    let bob = token(&app, "bob").await;
    let carol = token(&app, "carol").await;

    let post = publish(&app, &alice, "Résidence d'automne", "Du texte.").await;
    let post_id = post["ap_id"].as_str().expect("ap_id").to_string();
    // Her own comment, like and boost: nothing for her.
    let own = comment(&app, &alice, &post_id, "Précision : dès lundi.").await;
    let own_id = own["ap_id"].as_str().expect("ap_id").to_string();
    for path in ["/api/v1/likes", "/api/v1/boosts"] {
        let r = api(
            &app,
            Method::POST,
            path,
            &alice,
            Some(json!({"object": post_id})),
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    assert_eq!(notification_rows(&app).await, 0);

    // Bob replies, mentioning her too (one notification: the reply), and replies to her comment.
    let reply = comment(&app, &bob, &post_id, "Bravo @alice !").await;
    comment(&app, &bob, &own_id, "Merci pour la précision.").await;
    // Bob mentions her in a post of his; likes and boosts hers; follows her.
    publish(&app, &bob, "Mes lectures", "Lisez ce qu'écrit @alice.").await;
    for path in ["/api/v1/likes", "/api/v1/boosts"] {
        let r = api(
            &app,
            Method::POST,
            path,
            &bob,
            Some(json!({"object": post_id})),
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let r = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &bob,
        Some(json!({"target": format!("{LOCAL}/users/alice")})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Carol likes Bob's reply (his comment): for Bob.
    let reply_id = reply["ap_id"].as_str().expect("ap_id").to_string();
    let r = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &carol,
        Some(json!({"object": reply_id})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);

    let got = items(&app, &alice).await;
    assert_eq!(
        types(&got),
        vec!["boost", "follow", "like", "mention", "reply", "reply"],
        "{got:?}"
    );
    let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
    for expected in [
        "bob a répondu à « Résidence d'automne »",
        "bob a répondu à votre commentaire sur « Résidence d'automne »",
        "bob vous a mentionné dans « Mes lectures »",
        "bob a aimé « Résidence d'automne »",
        "bob a partagé « Résidence d'automne »",
        "bob vous suit désormais",
    ] {
        assert!(texts.contains(&expected), "{expected} not in {texts:?}");
    }
    let first = &list(&app, &alice, "").await["items"][0];
    assert_eq!(first["actor"]["name"], "bob");
    assert_eq!(first["actor"]["url"], format!("{LOCAL}/users/bob"));
    assert!(
        first["object_url"]
            .as_str()
            .expect("url")
            .starts_with(LOCAL)
    );
    assert_eq!(first["read"], false);
    let bob_items = items(&app, &bob).await;
    assert_eq!(
        bob_items,
        vec![(
            "like".to_string(),
            "carol a aimé votre commentaire sur « Résidence d'automne »".to_string()
        )]
    );

    // Editing the reply changes nothing; a new mention in the edit reaches Carol only.
    let reply_row: i64 = reply["id"].as_i64().expect("id");
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/comments/{reply_row}"),
        &bob,
        Some(json!({"body": "Bravo @alice et @carol !"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(items(&app, &alice).await.len(), 6);
    assert_eq!(
        types(&items(&app, &carol).await),
        vec!["mention"],
        "the edit's new mention"
    );

    // Withdrawn like and unfollow: their notifications go.
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/likes?object={}", enc(&post_id)),
        &bob,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = api(
        &app,
        Method::DELETE,
        &format!(
            "/api/v1/follows?target={}",
            enc(&format!("{LOCAL}/users/alice"))
        ),
        &bob,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(
        types(&items(&app, &alice).await),
        vec!["boost", "mention", "reply", "reply"]
    );

    // A member who approves followers by hand gets a request.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(actors::table.filter(actors::username.eq("carol")))
            .set(actors::manually_approves_followers.eq(true))
            .execute(&mut conn)
            .await
            .expect("manual");
    }
    let r = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &alice,
        Some(json!({"target": format!("{LOCAL}/users/carol")})),
    )
    .await;
    assert_eq!(r.json()["state"], "pending", "{}", r.body);
    let carol_items = items(&app, &carol).await;
    assert!(
        carol_items.contains(&(
            "follow_request".to_string(),
            "alice demande à vous suivre".to_string()
        )),
        "{carol_items:?}"
    );
}

fn note(
    from: &Remote,
    n: &str,
    in_reply_to: Option<&str>,
    content: &str,
    mention: Option<&str>,
) -> Value {
    let mut tags = Vec::new();
    if let Some(href) = mention {
        tags.push(json!({"type": "Mention", "href": href, "name": "@alice@localhost:8080"}));
    }
    json!({
        "id": format!("{}/statuses/{n}", from.id()),
        "type": "Note",
        "attributedTo": from.id(),
        "inReplyTo": in_reply_to,
        "content": content,
        "published": "2026-01-02T10:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/followers", from.id())],
        "tag": tags,
    })
}

fn activity(from: &Remote, kind: &str, n: &str, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/{kind}-{n}", from.id()),
        "type": kind,
        "actor": from.id(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": object,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn federated_activities_notify_each_type_and_undo_removes() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let alice_id = format!("{LOCAL}/users/alice");
    let post = publish(&app, &alice, "Appel à projets", "Du texte.").await;
    let post_id = post["ap_id"].as_str().expect("ap_id").to_string();
    let own = comment(&app, &alice, &post_id, "Date limite : vendredi.").await;
    let own_id = own["ap_id"].as_str().expect("ap_id").to_string();
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;

    // A reply to her post (with a mention of her: one notification), a reply to her comment,
    // and a post that mentions her though nobody here follows Bob.
    let reply = note(&bob, "1", Some(&post_id), "<p>Bravo !</p>", Some(&alice_id));
    let sub = note(&bob, "2", Some(&own_id), "<p>Merci.</p>", None);
    let top = note(&bob, "3", None, "<p>Allez lire @alice</p>", Some(&alice_id));
    for (n, object) in [("1", reply.clone()), ("2", sub), ("3", top)] {
        let status = deliver(&app, &bob, &activity(&bob, "Create", n, object)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    // A replay records nothing more.
    deliver(&app, &bob, &activity(&bob, "Create", "1", reply.clone())).await;
    let bob_like = like(&bob, &post_id, 1);
    assert_eq!(deliver(&app, &bob, &bob_like).await, StatusCode::ACCEPTED);
    assert_eq!(
        deliver(&app, &bob, &announce(&bob, &post_id, 9)).await,
        StatusCode::ACCEPTED
    );
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#follows/1", bob.id()),
        "type": "Follow",
        "actor": bob.id(),
        "object": alice_id,
    });
    assert_eq!(deliver(&app, &bob, &follow).await, StatusCode::ACCEPTED);

    let got = items(&app, &alice).await;
    assert_eq!(
        types(&got),
        vec!["boost", "follow", "like", "mention", "reply", "reply"],
        "{got:?}"
    );
    assert!(got.contains(&(
        "reply".to_string(),
        "bob (remote) a répondu à « Appel à projets »".to_string()
    )));
    let first = &list(&app, &alice, "").await["items"][0];
    assert_eq!(first["actor"]["url"], format!("{REMOTE}/@bob"));
    // Every link leads to a page here: the remote post that mentions her is kept for it.
    for item in list(&app, &alice, "").await["items"]
        .as_array()
        .expect("items")
    {
        let url = item["object_url"].as_str().expect("object_url");
        if item["type"] == "follow" {
            assert_eq!(url, format!("{REMOTE}/@bob"));
            continue;
        }
        let r = app.get_html(&crate::helpers::path_of(url)).await;
        assert!(
            r.status == StatusCode::OK || r.status.is_redirection(),
            "{url}: {}",
            r.status
        );
    }

    // An edit of the reply records nothing twice.
    let mut edited = reply.clone();
    edited["content"] = json!("<p>Bravo encore !</p>");
    deliver(&app, &bob, &activity(&bob, "Update", "1", edited)).await;
    assert_eq!(items(&app, &alice).await.len(), 6);

    // Undo of the like and of the follow: gone.
    assert_eq!(
        deliver(&app, &bob, &undo(&bob, bob_like, 1)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        deliver(&app, &bob, &undo(&bob, follow, 2)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        types(&items(&app, &alice).await),
        vec!["boost", "mention", "reply", "reply"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn likes_are_grouped_and_pages_hold_twenty() {
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let post = publish(&app, &alice, "Exposition", "Du texte.").await;
    let post_id = post["ap_id"].as_str().expect("ap_id").to_string();
    let mut conn = app.ctx.conn().await.expect("conn");
    // Five likes and two boosts of one object, then 24 new followers.
    for i in 0..5 {
        let fan = remote_actor_row(&app, "fans.example", &format!("fan{i}"), true).await;
        events::reacted(
            &app.ctx,
            &mut conn,
            NotificationKind::Like,
            fan.id,
            &post_id,
        )
        .await
        .expect("like");
        if i < 2 {
            events::reacted(
                &app.ctx,
                &mut conn,
                NotificationKind::Boost,
                fan.id,
                &post_id,
            )
            .await
            .expect("boost");
        }
    }
    let me = local_actor(&app, "alice").await;
    for i in 0..24 {
        let f = remote_actor_row(&app, "followers.example", &format!("f{i}"), true).await;
        events::followed(&app.ctx, &mut conn, f.id, me.id, false)
            .await
            .expect("follow");
    }
    drop(conn);

    // 26 items: 24 follows, one group of likes, one of boosts.
    let page1 = list(&app, &alice, "").await;
    assert_eq!(page1["items"].as_array().expect("items").len(), 20);
    assert_eq!(page1["unread"], 26);
    assert_eq!(page1["pages"], 2);
    let page2 = list(&app, &alice, "?page=2").await;
    let rest = page2["items"].as_array().expect("items");
    assert_eq!(rest.len(), 6);
    let texts: Vec<&str> = rest.iter().filter_map(|i| i["text"].as_str()).collect();
    assert!(
        texts.contains(&"fan4 et 4 autres ont aimé « Exposition »"),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"fan1 et une autre personne ont partagé « Exposition »"),
        "{texts:?}"
    );

    // The page: 20 items, the unread ones marked in words too, a link to page 2.
    let browser = Browser::with_session(&app, &account).await;
    let html = unescape(&browser.get("/notifications").await.body);
    assert_eq!(
        html.matches("class=\"notification notification-unread\"")
            .count(),
        20
    );
    assert_eq!(
        html.matches("<span class=\"notification-badge\">Non lue</span>")
            .count(),
        20
    );
    assert!(html.contains("href=\"/notifications?page=2\" rel=\"next\""));
    assert!(html.contains("26 notifications non lues."));
    let html2 = unescape(&browser.get("/notifications?page=2").await.body);
    assert!(html2.contains("fan4 et 4 autres ont aimé « Exposition »"));
    assert_eq!(
        browser.get("/notifications?page=x").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Marking the group read marks every like of it.
    let group = rest
        .iter()
        .find(|i| i["type"] == "like")
        .expect("like group");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/notifications/read",
        &alice,
        Some(json!({"ids": [group["id"]]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["marked"], 5);
    assert_eq!(r.json()["unread"], 25);
}

#[tokio::test(flavor = "multi_thread")]
async fn read_marks_by_form_and_api_and_the_header_counts() {
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let alice = token(&app, "alice").await;
    let bob = token(&app, "bob").await;
    let post = publish(&app, &alice, "Concert", "Du texte.").await;
    let post_id = post["ap_id"].as_str().expect("ap_id").to_string();
    for body in ["Un", "Deux", "Trois"] {
        comment(&app, &bob, &post_id, body).await;
    }

    let browser = Browser::with_session(&app, &account).await;
    // The counter is on every page, with an accessible name.
    for path in ["/", "/annonces", "/parametres/profil"] {
        let html = browser.get(path).await.body;
        assert!(
            html.contains("aria-label=\"Notifications, 3 non lues\"")
                && html.contains(">Notifications (3)</a>"),
            "{path}: {html}"
        );
    }
    // Someone else's counter is theirs.
    let other = app.create_user("carol", "member").await;
    let carol_browser = Browser::with_session(&app, &other).await;
    assert!(
        carol_browser
            .get("/")
            .await
            .body
            .contains("aria-label=\"Notifications, aucune non lue\"")
    );

    // Mark one read by the form: needs the CSRF token.
    let first = list(&app, &alice, "").await["items"][0]["id"]
        .as_i64()
        .expect("id");
    let path = format!("/notifications/{first}/lire");
    let r = browser
        .post_form(&path, &[("back", "/notifications")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = browser
        .submit_form(&path, &[("back", "https://evil.example/")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some("/notifications"));
    let html = browser.get("/notifications").await.body;
    assert!(html.contains(">Notifications (2)</a>"), "{html}");
    assert_eq!(html.matches("notification-unread").count(), 2);
    // Someone else's id changes nothing.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/notifications/read",
        &bob,
        Some(json!({"ids": [first + 1]})),
    )
    .await;
    assert_eq!(r.json()["marked"], 0);
    assert_eq!(
        list(&app, &alice, "?unread=true").await["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Mark all by the form; then, after new ones, all by the API.
    let r = browser
        .submit_form("/notifications/tout-lire", &[("back", "/notifications")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = browser.get("/notifications").await.body;
    assert!(html.contains("aria-label=\"Notifications, aucune non lue\""));
    assert!(!html.contains("notification-unread"));
    comment(&app, &bob, &post_id, "Quatre").await;
    assert_eq!(list(&app, &alice, "").await["unread"], 1);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/notifications/read",
        &alice,
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["unread"], 0);
    let all = list(&app, &alice, "").await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(4));
    assert!(
        all["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["read"] == true)
    );
    assert_eq!(list(&app, &alice, "?unread=true").await["items"], json!([]));

    // Bad input names its field.
    for (query, field) in [("?unread=maybe", "unread"), ("?page=0", "page")] {
        let r = api(
            &app,
            Method::GET,
            &format!("/api/v1/notifications{query}"),
            &alice,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(error_fields(&r), vec![field]);
    }
    let r = api(
        &app,
        Method::POST,
        "/api/v1/notifications/read",
        &alice,
        Some(json!({"ids": "all"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["ids"]);
    // Without a session or token: no centre.
    let r = app.get_html("/notifications").await;
    assert!(
        r.status.is_redirection() || r.status == StatusCode::UNAUTHORIZED,
        "{}",
        r.status
    );
    let r = app.get("/api/v1/notifications", "application/json").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn preferences_decide_what_is_recorded_and_mailed() {
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    confirm_emails(&app).await;
    // What `start` does first: the instance's identity row (which holds the link key).
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    let alice = token(&app, "alice").await;
    let bob = token(&app, "bob").await;

    // Defaults: replies and mentions by mail at once, the rest in the centre.
    let r = api(
        &app,
        Method::GET,
        "/api/v1/notification-preferences",
        &alice,
        None,
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"reply": "instant", "mention": "instant", "follow": "centre",
               "follow_request": "centre", "like": "centre", "boost": "centre",
               "announcement": "centre", "report_outcome": "instant",
               "moderation_decision": "instant", "loan_request": "instant",
               "loan_answer": "instant",
               "workspace_invitation": "instant", "workspace_join_request": "instant",
               "workspace_mention": "instant", "workspace_document": "centre",
               "workspace_meeting": "instant", "workspace_membership": "centre",
               "project": "centre", "forum_thread": "centre", "forum_reply": "centre"})
    );

    let post = publish(&app, &alice, "Atelier d'écriture", "Du texte.").await;
    let post_id = post["ap_id"].as_str().expect("ap_id").to_string();
    comment(&app, &bob, &post_id, "Je viens !").await;
    let mails = queued_mails(&app).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (to, subject, unsubscribe) = &mails[0];
    assert_eq!(to, "alice@example.org");
    assert_eq!(subject, "bob a répondu à « Atelier d'écriture »");
    let unsubscribe = unsubscribe.as_deref().expect("List-Unsubscribe URL");
    assert!(
        unsubscribe.starts_with(&format!("{LOCAL}/desabonnement?t=")),
        "{unsubscribe}"
    );
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        let (category, text): (String, String) = mails::table
            .select((mails::category, mails::text_body))
            .first(&mut conn)
            .await
            .expect("mail");
        assert_eq!(category, "notification");
        assert!(
            text.contains(unsubscribe) && text.contains("/comments/"),
            "{text}"
        );
    }
    // Its one-click link (RFC 8058) stops the mails of replies; they stay in the centre.
    let r = app
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri(crate::helpers::path_of(unsubscribe))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from("List-Unsubscribe=One-Click"))
                .expect("request"),
        )
        .await;
    assert!(r.status.is_success(), "{}: {}", r.status, r.body);
    let r = api(
        &app,
        Method::GET,
        "/api/v1/notification-preferences",
        &alice,
        None,
    )
    .await;
    assert_eq!(r.json()["reply"], "centre");
    comment(&app, &bob, &post_id, "Et j'amène des amis.").await;
    assert_eq!(queued_mails(&app).await.len(), 1, "no second mail");
    assert_eq!(list(&app, &alice, "").await["unread"], 2);

    // The like: centre only, no mail. Then likes off: nothing recorded.
    let like = |who: String| {
        let app = &app;
        let post_id = post_id.clone();
        async move {
            let r = api(
                app,
                Method::POST,
                "/api/v1/likes",
                &who,
                Some(json!({"object": post_id})),
            )
            .await;
            assert!(r.status.is_success(), "{}", r.body);
        }
    };
    like(bob.clone()).await;
    assert_eq!(queued_mails(&app).await.len(), 1);
    assert_eq!(
        types(&items(&app, &alice).await),
        vec!["like", "reply", "reply"]
    );
    let r = api(
        &app,
        Method::PUT,
        "/api/v1/notification-preferences",
        &alice,
        Some(json!({"like": "off", "follow": "instant"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["like"], "off");
    assert_eq!(r.json()["reply"], "centre");
    app.create_user("dan", "member").await;
    let dan = token(&app, "dan").await;
    let before = notification_rows(&app).await;
    like(dan.clone()).await;
    assert_eq!(notification_rows(&app).await, before, "likes are off");

    // Bad input: the field named, nothing changed.
    for (body, field) in [
        (json!({"nope": "centre"}), "nope"),
        (json!({"reply": "sometimes", "like": "centre"}), "reply"),
        (json!({"reply": 3}), "reply"),
        (json!({"announcement": "instant"}), "announcement"),
    ] {
        let r = api(
            &app,
            Method::PUT,
            "/api/v1/notification-preferences",
            &alice,
            Some(body),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(error_fields(&r), vec![field]);
    }
    let r = api(
        &app,
        Method::GET,
        "/api/v1/notification-preferences",
        &alice,
        None,
    )
    .await;
    assert_eq!(r.json()["like"], "off");

    // The settings page: linked from the settings, a choice per type, saved by a form.
    let browser = Browser::with_session(&app, &account).await;
    assert!(
        browser
            .get("/parametres/profil")
            .await
            .body
            .contains("href=\"/parametres/notifications\"")
    );
    let html = unescape(&browser.get("/parametres/notifications").await.body);
    for label in [
        "Dans le centre seulement",
        "Par courriel tout de suite",
        "Résumé quotidien",
        "Résumé hebdomadaire",
        "Désactivé",
        "Nouvelles annonces de vos alertes",
    ] {
        assert!(html.contains(label), "{label}");
    }
    // Announcements: the centre or nothing (their mails are chosen per alert).
    assert!(html.contains("id=\"f-announcement-off\""));
    assert!(!html.contains("id=\"f-announcement-instant\""));
    assert!(html.contains("id=\"f-like-off\" name=\"like\" value=\"off\" checked"));
    let r = browser
        .submit_form(
            "/parametres/notifications",
            &[("mention", "weekly"), ("like", "centre")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = browser
        .submit_form("/parametres/notifications", &[("mention", "bientôt")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#f-mention\""));
    let mut conn = app.ctx.conn().await.expect("conn");
    let mut stored: Vec<(String, String)> = notification_preferences::table
        .select((
            notification_preferences::kind,
            notification_preferences::delivery,
        ))
        .load(&mut conn)
        .await
        .expect("prefs");
    stored.sort();
    assert_eq!(
        stored,
        vec![
            ("follow".into(), "instant".into()),
            ("like".into(), "centre".into()),
            ("mention".into(), "weekly".into()),
            ("reply".into(), "centre".into())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_shows_about_deleted_content_or_blocked_domains() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let alice = token(&app, "alice").await;
    let bob = token(&app, "bob").await;
    let first = publish(&app, &alice, "Premier", "Du texte.").await;
    let second = publish(&app, &alice, "Second", "Du texte.").await;
    let first_id = first["ap_id"].as_str().expect("ap_id").to_string();
    let second_id = second["ap_id"].as_str().expect("ap_id").to_string();
    comment(&app, &bob, &first_id, "Sur le premier").await;
    let removed = comment(&app, &bob, &second_id, "Sur le second").await;
    let remote = remote_actor(&app, REMOTE, "zed", 1).await;
    deliver(&app, &remote, &like(&remote, &second_id, 1)).await;
    assert_eq!(list(&app, &alice, "").await["unread"], 3);

    // The first post is deleted: its reply goes from the list and the counter.
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/posts/{}", first["id"]),
        &alice,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let got = items(&app, &alice).await;
    assert_eq!(types(&got), vec!["like", "reply"], "{got:?}");
    assert_eq!(list(&app, &alice, "").await["unread"], 2);

    // A deleted comment: its reply goes.
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/comments/{}", removed["id"]),
        &bob,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(types(&items(&app, &alice).await), vec!["like"]);

    // The liker's domain is blocked (silenced, then rejected): gone, counter included.
    domain_blocks::block(
        &app.ctx,
        "remote.example",
        Severity::Silence,
        &BlockOptions::default(),
    )
    .await
    .expect("block");
    let all = list(&app, &alice, "").await;
    assert_eq!(
        (all["unread"].clone(), all["items"].clone()),
        (json!(0), json!([]))
    );
    let account = {
        let mut conn = app.ctx.conn().await.expect("conn");
        accounts::table
            .filter(accounts::username.eq("alice"))
            .select(culturecnous::db::accounts::DbAccount::as_select())
            .first(&mut conn)
            .await
            .expect("alice")
    };
    let html = Browser::with_session(&app, &account)
        .await
        .get("/notifications")
        .await
        .body;
    assert!(
        html.contains("aria-label=\"Notifications, aucune non lue\""),
        "{html}"
    );
    assert!(
        html.contains("Aucune notification pour l'instant")
            || unescape(&html).contains("Aucune notification pour l'instant")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_header_counter_is_one_query_served_by_the_unread_index() {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .expect("set");
    let sql =
        culturecnous::db::notifications::count_sql(true).replace("$1", &account.id.to_string());
    let plan: Vec<Line> = diesel::sql_query(format!("EXPLAIN {sql}"))
        .load(&mut conn)
        .await
        .expect("explain");
    let plan: String = plan.into_iter().map(|l| l.line + "\n").collect();
    assert!(plan.contains("notifications_unread"), "{plan}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_staff_member_who_wrote_as_the_page_hears_of_its_replies() {
    let app = TestApp::new().await;
    app.create_user("sophie", "staff").await;
    app.create_user("bob", "member").await;
    let sophie = token(&app, "sophie").await;
    let bob = token(&app, "bob").await;
    let post = create(
        &app,
        &sophie,
        "/api/v1/posts",
        json!({"title": "Fête de la musique", "body": "Programme.", "as_page": true}),
    )
    .await;
    let post_id = post["ap_id"].as_str().expect("ap_id").to_string();
    // Her own like (as herself) of what she wrote as the page: nothing.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &sophie,
        Some(json!({"object": post_id})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(notification_rows(&app).await, 0);
    comment(&app, &bob, &post_id, "J'y serai.").await;
    assert_eq!(
        items(&app, &sophie).await,
        vec![(
            "reply".to_string(),
            "bob a répondu à « Fête de la musique »".to_string()
        )]
    );
}
