//! What hiding, suspending and blocking do everywhere, and lifting them (issue 10, item 4):
//! hidden content leaves every public list, feed, API and ActivityPub fetch but its author
//! still sees it with the notice; a suspended account's actor is gone (410) and `Delete` of
//! it federates; a blocked remote actor's activities are dropped and its content hidden.

use crate::{
    common::TestApp,
    federation_inbox::{Remote, deliver, remote_actor, stored},
    helpers::{
        AP, Browser, api, create, enc, follow, local_actor, path_of, queued, remote_follower,
        rows_in, token,
    },
};
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use culturecnous::{
    db::{
        self,
        accounts::DbAccount,
        moderation_actions::NewModerationAction,
        schema::{accounts, actors, follows, moderation_actions},
    },
    error::{AppError, AppResult, ErrorKind},
    service::moderation::{self, ActionKind, sanctions},
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Value, json};

const REMOTE: &str = "http://remote.example:1234";

async fn account(app: &TestApp, username: &str) -> DbAccount {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account")
}

/// Runs `sanction` (suspend, unsuspend, block, unblock) by `by` on `actor_id` in one
/// transaction, as the decisions do.
async fn apply(app: &TestApp, by: &DbAccount, actor_id: i64, sanction: &str) -> AppResult<()> {
    let ctx = app.ctx.clone();
    let mut conn = app.ctx.conn().await.expect("conn");
    conn.transaction::<(), AppError, _>(async |conn| match sanction {
        "suspend" => sanctions::suspend(&ctx, conn, by, actor_id).await,
        "unsuspend" => sanctions::unsuspend(&ctx, conn, by, actor_id).await,
        "block" => sanctions::block(&ctx, conn, by, actor_id).await,
        "unblock" => sanctions::unblock(&ctx, conn, by, actor_id).await,
        other => panic!("no sanction {other}"),
    })
    .await
}

/// Every public place a post or announcement shows, as text.
async fn public_places(app: &TestApp, token: &str) -> String {
    let mut all = String::new();
    for path in [
        "/actualites",
        "/actualites/rss.xml",
        "/actualites/atom.xml",
        "/annonces",
        "/annonces/rss.xml",
        "/annonces/atom.xml",
        "/blog/alice",
        "/blog/alice/rss.xml",
        "/blog/alice/atom.xml",
        "/users/alice",
        "/users/annonces",
    ] {
        let r = app.get_html(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        all.push_str(&r.body);
    }
    let r = api(app, Method::GET, "/api/v1/announcements", token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    all.push_str(&r.body);
    let r = app.get("/users/alice/outbox?page=1", AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    all.push_str(&r.body);
    all
}

/// How many notifications `token`'s owner has not read.
async fn unread(app: &TestApp, token: &str) -> i64 {
    let r = api(app, Method::GET, "/api/v1/notifications", token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["unread"].as_i64().expect("unread")
}

async fn comment_items(app: &TestApp, token: &str, object: &str) -> Vec<Value> {
    let r = api(
        app,
        Method::GET,
        &format!("/api/v1/comments?object={}", enc(object)),
        token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn hidden_content_leaves_every_public_place_and_its_author_still_sees_it() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("carol", "member").await;
    let moderator = app.create_user("modo", "moderator").await;
    let alice_token = token(&app, "alice").await;
    let carol_token = token(&app, "carol").await;
    let post = create(
        &app,
        &alice_token,
        "/api/v1/posts",
        json!({"title": "Billet caché", "body": "Du texte."}),
    )
    .await;
    let announcement = create(
        &app,
        &alice_token,
        "/api/v1/announcements",
        json!({"title": "Annonce cachée", "body": "Le texte.", "kind": "emploi"}),
    )
    .await;
    let open = create(
        &app,
        &alice_token,
        "/api/v1/posts",
        json!({"title": "Billet ouvert", "body": "Du texte."}),
    )
    .await;
    let open_ap_id = open["ap_id"].as_str().expect("ap_id").to_string();
    let comment = create(
        &app,
        &carol_token,
        "/api/v1/comments",
        json!({"in_reply_to": open_ap_id, "body": "Commentaire masqué bientôt"}),
    )
    .await;
    let comment_id = comment["id"].as_i64().expect("id");
    let post_id = post["id"].as_i64().expect("id");
    let announcement_id = announcement["id"].as_i64().expect("id");
    let post_page = path_of(post["url"].as_str().expect("url"));

    // Alice is told of Carol's comment.
    assert_eq!(unread(&app, &alice_token).await, 1);
    let before = public_places(&app, &carol_token).await;
    assert!(before.contains("Billet caché"));
    assert!(before.contains("Annonce cachée"));
    assert_eq!(
        comment_items(&app, &carol_token, &open_ap_id).await.len(),
        1
    );

    // The moderator hides them (what the decisions do), with the log entry of the post.
    let action_id = {
        let mut conn = app.ctx.conn().await.expect("conn");
        let now = Some(Utc::now());
        db::posts::set_hidden(&mut conn, post_id, now)
            .await
            .expect("hide");
        db::posts::set_hidden(&mut conn, announcement_id, now)
            .await
            .expect("hide");
        db::comments::set_hidden(&mut conn, comment_id, now)
            .await
            .expect("hide");
        let alice = local_actor(&app, "alice").await;
        moderation::log(
            &mut conn,
            NewModerationAction {
                moderator_account_id: Some(moderator.id),
                action: ActionKind::Hide.as_str().into(),
                affected_actor_id: Some(alice.id),
                target: post["ap_id"].as_str().expect("ap_id").into(),
                post_id: Some(post_id),
                statement: "Hors sujet".into(),
                ..Default::default()
            },
        )
        .await
        .expect("log")
        .id
    };

    let after = public_places(&app, &carol_token).await;
    assert!(!after.contains("Billet caché"), "{after}");
    assert!(!after.contains("Annonce cachée"), "{after}");
    assert!(after.contains("Billet ouvert"));
    // Its object answers like a missing one, to anyone.
    for ap_id in [&post["ap_id"], &announcement["ap_id"]] {
        let r = app.get(&path_of(ap_id.as_str().expect("ap_id")), AP).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
    assert_eq!(app.get_html(&post_page).await.status, StatusCode::NOT_FOUND);
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/posts/{post_id}"),
        &carol_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // The comment: out of the notifications, the list and the count, its object 404.
    assert_eq!(unread(&app, &alice_token).await, 0);
    assert!(
        comment_items(&app, &carol_token, &open_ap_id)
            .await
            .is_empty()
    );
    let r = app.get(&format!("/comments/{comment_id}"), AP).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let open_page = path_of(open["url"].as_str().expect("url"));
    let anonymous = app.get_html(&open_page).await.body;
    assert!(!anonymous.contains("Commentaire masqué bientôt"));

    // Its author sees it, with the notice and the decision; nobody else does.
    let alice = Browser::logged_in(&app, "alice").await;
    let page = alice.get(&post_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Masqué par la modération"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("/decisions/{action_id}")));
    let carol = Browser::logged_in(&app, "carol").await;
    assert_eq!(carol.get(&post_page).await.status, StatusCode::NOT_FOUND);
    let own = carol.get(&open_page).await.body;
    assert!(own.contains("Commentaire masqué bientôt"), "{own}");
    assert!(own.contains("Masqué par la modération"));
    let others = alice.get(&open_page).await.body;
    assert!(!others.contains("Commentaire masqué bientôt"));

    // Unhidden: public again.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::posts::set_hidden(&mut conn, post_id, None)
            .await
            .expect("unhide");
        db::comments::set_hidden(&mut conn, comment_id, None)
            .await
            .expect("unhide");
    }
    let again = public_places(&app, &carol_token).await;
    assert!(again.contains("Billet caché"));
    assert!(!again.contains("Annonce cachée"));
    let r = app
        .get(&path_of(post["ap_id"].as_str().expect("ap_id")), AP)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        comment_items(&app, &carol_token, &open_ap_id).await.len(),
        1
    );
    assert_eq!(unread(&app, &alice_token).await, 1);
    let page = alice.get(&post_page).await.body;
    assert!(!page.contains("Masqué par la modération"));
}

#[tokio::test(flavor = "multi_thread")]
async fn suspension_deletes_the_actor_everywhere_and_admins_lift_it_within_thirty_days() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let moderator = app.create_user("modo", "moderator").await;
    let other_moderator = app.create_user("modo2", "moderator").await;
    let root = app.create_user("chef", "admin").await;
    let alice_token = token(&app, "alice").await;
    let alice_actor = local_actor(&app, "alice").await;
    remote_follower(&app, "far.example", "f", &alice_actor).await;
    // A server that once received something from alice, no longer following her.
    let gone = remote_follower(&app, "other.example", "o", &alice_actor).await;
    let post = create(
        &app,
        &alice_token,
        "/api/v1/posts",
        json!({"title": "Billet dAlice", "body": "Du texte."}),
    )
    .await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::delete(follows::table.filter(follows::follower_id.eq(gone.id)))
            .execute(&mut conn)
            .await
            .expect("unfollow");
    }
    let browser = Browser::logged_in(&app, "alice").await;
    assert_eq!(browser.get("/fil").await.status, StatusCode::OK);

    // A moderator cannot suspend staff, nor anyone themself.
    let e = apply(&app, &moderator, other_moderator.actor_id, "suspend")
        .await
        .expect_err("staff");
    assert_eq!(e.kind, ErrorKind::Forbidden);
    let e = apply(&app, &root, root.actor_id, "suspend")
        .await
        .expect_err("self");
    assert_eq!(e.kind, ErrorKind::Forbidden);
    // A member cannot suspend anyone.
    let member = account(&app, "alice").await;
    let e = apply(&app, &member, moderator.actor_id, "suspend")
        .await
        .expect_err("member");
    assert_eq!(e.kind, ErrorKind::Forbidden);

    apply(&app, &moderator, alice_actor.id, "suspend")
        .await
        .expect("suspend");
    assert!(account(&app, "alice").await.suspended_at.is_some());
    // Gone for the public.
    assert_eq!(app.get("/users/alice", AP).await.status, StatusCode::GONE);
    assert_eq!(app.get_html("/users/alice").await.status, StatusCode::GONE);
    let r = app
        .get(
            "/.well-known/webfinger?resource=acct:alice@localhost:8080",
            "application/jrd+json",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let post_path = path_of(post["ap_id"].as_str().expect("ap_id"));
    assert_eq!(app.get(&post_path, AP).await.status, StatusCode::NOT_FOUND);
    assert!(
        !app.get_html("/actualites")
            .await
            .body
            .contains("Billet dAlice")
    );
    // Sessions closed, login refused with the reason, tokens refused.
    assert_eq!(
        rows_in(&app, &format!("sessions WHERE account_id = {}", member.id)).await,
        0
    );
    assert_ne!(browser.get("/fil").await.status, StatusCode::OK);
    let login = Browser::new(&app)
        .login("alice", crate::common::PASSWORD)
        .await;
    assert_ne!(login.status, StatusCode::SEE_OTHER);
    assert!(login.body.contains("suspendu"), "{}", login.body);
    let r = api(&app, Method::GET, "/api/v1/me", &alice_token, None).await;
    assert_ne!(r.status, StatusCode::OK);
    // `Delete` of the actor, signed by it, to its followers and every server it reached.
    let deletes = queued(&app, "Delete").await;
    let (activity, inboxes) = deletes
        .iter()
        .find(|(a, _)| a["object"] == alice_actor.ap_id.as_str())
        .expect("Delete of the actor");
    assert_eq!(activity["actor"], alice_actor.ap_id.as_str());
    assert_eq!(
        inboxes,
        &vec![
            "http://far.example/inbox".to_string(),
            "http://other.example/inbox".to_string()
        ]
    );

    // Twice is a conflict; a moderator cannot lift it; an admin can suspend staff.
    let e = apply(&app, &root, alice_actor.id, "suspend")
        .await
        .expect_err("twice");
    assert_eq!(e.kind, ErrorKind::Conflict);
    let e = apply(&app, &moderator, alice_actor.id, "unsuspend")
        .await
        .expect_err("moderator");
    assert_eq!(e.kind, ErrorKind::Forbidden);
    apply(&app, &root, other_moderator.actor_id, "suspend")
        .await
        .expect("admin suspends staff");

    // Lifted by an admin through the API: logged, `Update` of the actor to the same servers.
    let moderator_token = token(&app, "modo").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/accounts/alice/unsuspend",
        &moderator_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let root_token = token(&app, "chef").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/accounts/alice/unsuspend",
        &root_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["suspended_at"], Value::Null);
    assert_eq!(app.get("/users/alice", AP).await.status, StatusCode::OK);
    assert!(
        app.get_html("/actualites")
            .await
            .body
            .contains("Billet dAlice")
    );
    let updates = queued(&app, "Update").await;
    let (_, inboxes) = updates
        .iter()
        .find(|(a, _)| a["object"]["id"] == alice_actor.ap_id.as_str())
        .expect("Update of the actor");
    assert_eq!(
        inboxes,
        &vec![
            "http://far.example/inbox".to_string(),
            "http://other.example/inbox".to_string()
        ]
    );
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        let logged: Vec<(String, Option<i64>)> = moderation_actions::table
            .filter(moderation_actions::action.eq("unsuspend"))
            .select((
                moderation_actions::action,
                moderation_actions::moderator_account_id,
            ))
            .load(&mut conn)
            .await
            .expect("log");
        assert_eq!(logged, vec![("unsuspend".to_string(), Some(root.id))]);
    }
    // Lifting again: nothing to lift.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/accounts/alice/unsuspend",
        &root_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // Past 30 days, too late.
    apply(&app, &moderator, alice_actor.id, "suspend")
        .await
        .expect("suspend again");
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(accounts::table.filter(accounts::username.eq("alice")))
            .set(accounts::suspended_at.eq(Some(Utc::now() - Duration::days(31))))
            .execute(&mut conn)
            .await
            .expect("age");
    }
    let admin_page = Browser::logged_in(&app, "chef").await;
    let list = admin_page.get("/admin/comptes").await.body;
    assert!(!list.contains("/admin/comptes/alice/lever-suspension"));
    assert!(
        list.contains("/admin/comptes/modo2/lever-suspension"),
        "{list}"
    );
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/accounts/alice/unsuspend",
        &root_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("30"), "{}", r.body);
    assert!(account(&app, "alice").await.suspended_at.is_some());
}

/// Keeps the cached remote actor fresh, so the inbox reads its key from the table (a debug
/// build refetches actors older than 20 seconds, and nothing listens at its address).
async fn fresh(app: &TestApp, remote: &Remote) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(actors::table.find(remote.actor.id))
        .set(actors::last_refreshed_at.eq(Utc::now()))
        .execute(&mut conn)
        .await
        .expect("refresh");
}

/// A public reply from `from` to `in_reply_to`.
fn reply(from: &Remote, n: &str, in_reply_to: &str, content: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/create-{n}", from.id()),
        "type": "Create",
        "actor": from.id(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": format!("{}/statuses/{n}", from.id()),
            "type": "Note",
            "attributedTo": from.id(),
            "inReplyTo": in_reply_to,
            "content": content,
            "published": "2026-01-02T10:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_actor_is_refused_and_hidden_until_unblocked() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let moderator = app.create_user("modo", "moderator").await;
    let alice_token = token(&app, "alice").await;
    let alice = local_actor(&app, "alice").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    follow(&app, &bob.actor, &alice, "accepted").await;
    follow(&app, &alice, &bob.actor, "accepted").await;
    let post = create(
        &app,
        &alice_token,
        "/api/v1/posts",
        json!({"title": "Billet", "body": "Du texte."}),
    )
    .await;
    let post_ap_id = post["ap_id"].as_str().expect("ap_id").to_string();
    let create_1 = reply(&bob, "1", &post_ap_id, "<p>Message de Bob</p>");
    assert_eq!(deliver(&app, &bob, &create_1).await, StatusCode::ACCEPTED);
    assert_eq!(
        comment_items(&app, &alice_token, &post_ap_id).await.len(),
        1
    );

    // A local actor is suspended, not blocked; a member blocks nobody.
    let e = apply(&app, &moderator, alice.id, "block")
        .await
        .expect_err("local");
    assert_eq!(e.kind, ErrorKind::Validation);
    assert_eq!(e.fields[0].field, "actor");
    let member = account(&app, "alice").await;
    let e = apply(&app, &member, bob.actor.id, "block")
        .await
        .expect_err("member");
    assert_eq!(e.kind, ErrorKind::Forbidden);

    apply(&app, &moderator, bob.actor.id, "block")
        .await
        .expect("block");
    // Follows gone both ways; its comment out of the lists.
    assert_eq!(rows_in(&app, "follows").await, 0);
    assert!(
        comment_items(&app, &alice_token, &post_ap_id)
            .await
            .is_empty()
    );
    let page = app
        .get_html(&path_of(post["url"].as_str().expect("url")))
        .await
        .body;
    assert!(!page.contains("Message de Bob"));
    // What it sends now is dropped before anything is stored.
    fresh(&app, &bob).await;
    let before = stored(&app).await;
    let comments_before = rows_in(&app, "comments").await;
    let create_2 = reply(&bob, "2", &post_ap_id, "<p>Encore Bob</p>");
    assert_eq!(deliver(&app, &bob, &create_2).await, StatusCode::ACCEPTED);
    assert_eq!(stored(&app).await, before);
    assert_eq!(rows_in(&app, "comments").await, comments_before);
    // Members cannot follow it again nor react to what it wrote.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &alice_token,
        Some(json!({"target": bob.id()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "target");
    // Listed for the moderators.
    let moderator_browser = Browser::logged_in(&app, "modo").await;
    let list = moderator_browser
        .get("/admin/comptes-distants-bloques")
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("@bob@remote.example:1234"),
        "{}",
        list.body
    );
    let member_browser = Browser::logged_in(&app, "alice").await;
    assert_eq!(
        member_browser
            .get("/admin/comptes-distants-bloques")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Unblocked through the API (members: 403): logged, content back, follows stay removed.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/actors/unblock",
        &alice_token,
        Some(json!({"actor": bob.id()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let moderator_token = token(&app, "modo").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/actors/unblock",
        &moderator_token,
        Some(json!({"actor": alice.ap_id})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "actor");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/actors/unblock",
        &moderator_token,
        Some(json!({"actor": bob.id()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["blocked_at"], Value::Null);
    assert_eq!(
        comment_items(&app, &alice_token, &post_ap_id).await.len(),
        1
    );
    assert_eq!(rows_in(&app, "follows").await, 0);
    assert_eq!(
        rows_in(&app, "moderation_actions WHERE action = 'unblock'").await,
        1
    );
    // Its activities are accepted again.
    fresh(&app, &bob).await;
    assert_eq!(deliver(&app, &bob, &create_2).await, StatusCode::ACCEPTED);
    assert_eq!(
        comment_items(&app, &alice_token, &post_ap_id).await.len(),
        2
    );
}
