//! Likes and boosts (issue 4): inbound Like / Announce / Undo from signed remote actors,
//! counted once per actor and shown on the page and in the API; likes and boosts by members,
//! queued to the right inboxes and undone; blocked domains dropped before anything is fetched
//! or stored.

use crate::{
    common::TestApp,
    federation_inbox::{Remote, deliver, remote_actor, stored},
    helpers::{
        Browser, api, create, csrf_in, enc, local_actor, path_of, queued, remote_follower, rows_in,
        token, unescape,
    },
};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use culturecnous::{
    db::{self, actors::DbActor, posts::NewRemotePost, schema::comments},
    service::domain_blocks::{self, BlockOptions, Severity},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

const BOB_BASE: &str = "http://remote.example:1234";

/// Publishes a blog post as `token`'s owner through the API; returns its AP id.
async fn publish(app: &TestApp, token: &str, title: &str, draft: bool) -> String {
    let body = json!({"title": title, "body": "Du texte.", "draft": draft});
    let created = create(app, token, "/api/v1/posts", body).await;
    created["ap_id"].as_str().expect("ap_id").to_string()
}

/// `{likes, boosts, liked, boosted}` of `object` as `token`'s owner sees them.
async fn summary(app: &TestApp, token: &str, object: &str) -> Value {
    let r = api(
        app,
        Method::GET,
        &format!("/api/v1/reactions?object={}", enc(object)),
        token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn counts(app: &TestApp, token: &str, object: &str) -> (i64, i64) {
    let s = summary(app, token, object).await;
    (
        s["likes"].as_i64().expect("likes"),
        s["boosts"].as_i64().expect("boosts"),
    )
}

pub fn like(from: &Remote, object: &str, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#likes/{n}", from.id()),
        "type": "Like",
        "actor": from.id(),
        "object": object,
    })
}

pub fn announce(from: &Remote, object: &str, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/statuses/{n}/activity", from.id()),
        "type": "Announce",
        "actor": from.id(),
        "published": Utc::now().to_rfc3339(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["http://localhost:8080/users/alice", format!("{}/followers", from.id())],
        "object": object,
    })
}

pub fn undo(from: &Remote, object: Value, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#undo/{n}", from.id()),
        "type": "Undo",
        "actor": from.id(),
        "object": object,
    })
}

/// The page of a post as a browser sees it (following the slug redirect).
async fn page(app: &TestApp, ap_id: &str) -> String {
    let r = app.get_html(&path_of(ap_id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    unescape(&r.body)
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound_likes_and_boosts_are_counted_once_and_undone_by_their_actor_only() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let post = publish(&app, &alice, "Résidence d'automne", false).await;
    let bob = remote_actor(&app, BOB_BASE, "bob", 0).await;
    let carol = remote_actor(&app, BOB_BASE, "carol", 1).await;

    let bob_like = like(&bob, &post, 1);
    assert_eq!(deliver(&app, &bob, &bob_like).await, StatusCode::ACCEPTED);
    // A replay, and a second Like by the same actor under another id: still one like.
    assert_eq!(deliver(&app, &bob, &bob_like).await, StatusCode::ACCEPTED);
    assert_eq!(
        deliver(&app, &bob, &like(&bob, &post, 2)).await,
        StatusCode::ACCEPTED
    );
    let bob_boost = announce(&bob, &post, 7);
    assert_eq!(deliver(&app, &bob, &bob_boost).await, StatusCode::ACCEPTED);
    assert_eq!(
        deliver(&app, &carol, &like(&carol, &post, 1)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(counts(&app, &alice, &post).await, (2, 1));
    assert!(page(&app, &post).await.contains("2 j'aime · 1 partage"));
    let s = summary(&app, &alice, &post).await;
    assert_eq!(
        (s["liked"].as_bool(), s["boosted"].as_bool()),
        (Some(false), Some(false))
    );

    // Carol tries to undo Bob's like and boost: embedded, and by id. Nothing changes.
    let forged = undo(&carol, bob_like.clone(), 1);
    assert_eq!(deliver(&app, &carol, &forged).await, StatusCode::ACCEPTED);
    let by_id = undo(&carol, bob_boost["id"].clone(), 2);
    assert_eq!(deliver(&app, &carol, &by_id).await, StatusCode::ACCEPTED);
    assert_eq!(counts(&app, &alice, &post).await, (2, 1));

    // Bob undoes his like (embedded, Mastodon's shape) and his boost (by id).
    let mut embedded = bob_like.clone();
    embedded.as_object_mut().expect("object").remove("@context");
    assert_eq!(
        deliver(&app, &bob, &undo(&bob, embedded, 1)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(counts(&app, &alice, &post).await, (1, 1));
    assert_eq!(
        deliver(&app, &bob, &undo(&bob, bob_boost["id"].clone(), 2)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(counts(&app, &alice, &post).await, (1, 0));
    assert!(page(&app, &post).await.contains("1 j'aime · 0 partage"));

    // An announcement's counts show on the list page too (only for items that have some).
    let r = api(
        &app,
        Method::POST,
        "/api/v1/announcements",
        &alice,
        Some(json!({"title": "Régisseur", "body": "Poste à pourvoir.", "kind": "emploi"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let announcement = r.json()["ap_id"].as_str().expect("ap_id").to_string();
    let list = unescape(&app.get_html("/annonces").await.body);
    assert!(!list.contains("reaction-counts"), "{list}");
    assert_eq!(
        deliver(&app, &bob, &announce(&bob, &announcement, 8)).await,
        StatusCode::ACCEPTED
    );
    let list = unescape(&app.get_html("/annonces").await.body);
    assert!(list.contains("0 j'aime · 1 partage"), "{list}");

    // The post JSON of the API carries the counts too.
    let id = post.rsplit('/').next().expect("id");
    let detail = api(
        &app,
        Method::GET,
        &format!("/api/v1/posts/{id}"),
        &alice,
        None,
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.json()["likes"], 1, "{}", detail.body);
    assert_eq!(detail.json()["boosts"], 0, "{}", detail.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn likes_of_unknown_drafts_or_foreign_objects_are_accepted_and_ignored() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let post = publish(&app, &alice, "Publié", false).await;
    let draft = publish(&app, &alice, "Brouillon", true).await;
    let bob = remote_actor(&app, BOB_BASE, "bob", 0).await;

    for (n, object) in [
        "http://localhost:8080/posts/999999",
        "http://localhost:8080/comments/999999",
        draft.as_str(),
        "https://elsewhere.example/notes/1",
    ]
    .into_iter()
    .enumerate()
    {
        let status = deliver(&app, &bob, &like(&bob, object, n as u32)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{object}");
        let boost = announce(&bob, object, n as u32);
        assert_eq!(deliver(&app, &bob, &boost).await, StatusCode::ACCEPTED);
    }
    assert_eq!(rows_in(&app, "reactions").await, 0);
    // Each was still recorded as received (a retry is not processed again).
    assert_eq!(stored(&app).await.received, 8);

    // Misskey's emoji reaction: a Like with `_misskey_reaction`; counted as a like.
    let misskey = json!({
        "@context": ["https://www.w3.org/ns/activitystreams",
            {"misskey": "https://misskey-hub.net/ns#", "_misskey_reaction": "misskey:_misskey_reaction"}],
        "type": "Like",
        "id": format!("{BOB_BASE}/likes/9k2x1a"),
        "actor": bob.id(),
        "object": post,
        "content": "🎭",
        "_misskey_reaction": "🎭",
    });
    assert_eq!(deliver(&app, &bob, &misskey).await, StatusCode::ACCEPTED);
    assert_eq!(counts(&app, &alice, &post).await, (1, 0));

    // A Like without an object is malformed.
    let mut broken = like(&bob, &post, 50);
    broken.as_object_mut().expect("object").remove("object");
    assert_eq!(deliver(&app, &bob, &broken).await, StatusCode::BAD_REQUEST);
}

/// A remote author `dave` on `dave.example:1234` and a post of his stored here.
async fn remote_post(app: &TestApp) -> (DbActor, String) {
    let dave = remote_actor(app, "http://dave.example:1234", "dave", 2).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let id = db::posts::next_id(&mut conn).await.expect("id");
    let ap_id = "http://dave.example:1234/notes/1".to_string();
    db::posts::insert_remote(
        &mut conn,
        &NewRemotePost {
            id,
            category: "post".into(),
            ap_id: ap_id.clone(),
            author_actor_id: dave.actor.id,
            title: "Un article d'ailleurs".into(),
            slug: "un-article-d-ailleurs".into(),
            summary: String::new(),
            body_markdown: String::new(),
            body_html: "<p>Bonjour</p>".into(),
            hashtags: Vec::new(),
            kind: None,
            published_at: Some(Utc::now()),
            local: false,
            url: Some("http://dave.example:1234/@dave/1".into()),
            content_warning: None,
        },
    )
    .await
    .expect("insert")
    .expect("new row");
    (dave.actor, ap_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_members_like_and_boost_are_delivered_once_and_undone() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let alice_actor = local_actor(&app, "alice").await;
    remote_follower(&app, "followers.example", "f1", &alice_actor).await;
    let (dave, object) = remote_post(&app).await;
    let body = json!({ "object": object });

    let first = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &alice,
        Some(body.clone()),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.json()["liked"], true);
    assert_eq!(first.json()["likes"], 1);
    let again = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &alice,
        Some(body.clone()),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let likes = queued(&app, "Like").await;
    assert_eq!(likes.len(), 1, "liking twice sends one Like");
    let (like_json, like_inboxes) = &likes[0];
    assert_eq!(like_inboxes, &vec![dave.inbox_url.clone()]);
    assert_eq!(like_json["object"], object.as_str());
    assert_eq!(like_json["actor"], "http://localhost:8080/users/alice");

    let boost = api(
        &app,
        Method::POST,
        "/api/v1/boosts",
        &alice,
        Some(body.clone()),
    )
    .await;
    assert_eq!(boost.status, StatusCode::CREATED, "{}", boost.body);
    api(
        &app,
        Method::POST,
        "/api/v1/boosts",
        &alice,
        Some(body.clone()),
    )
    .await;
    let boosts = queued(&app, "Announce").await;
    assert_eq!(boosts.len(), 1, "boosting twice sends one Announce");
    let (announce_json, announce_inboxes) = &boosts[0];
    let mut expected = vec![
        "http://followers.example/inbox".to_string(),
        dave.inbox_url.clone(),
    ];
    expected.sort();
    assert_eq!(announce_inboxes, &expected);
    assert_eq!(
        announce_json["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    let cc = announce_json["cc"].as_array().expect("cc");
    assert!(
        cc.contains(&json!("http://localhost:8080/users/alice/followers")),
        "{cc:?}"
    );
    assert!(cc.contains(&json!(dave.ap_id)), "{cc:?}");

    let s = summary(&app, &alice, &object).await;
    assert_eq!(
        (s["likes"].as_i64(), s["boosts"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (s["liked"].as_bool(), s["boosted"].as_bool()),
        (Some(true), Some(true))
    );

    // Unlike and unboost: Undo of the very activities, to the same inboxes.
    let uri = |kind: &str| format!("/api/v1/{kind}?object={}", enc(&object));
    let r = api(&app, Method::DELETE, &uri("likes"), &alice, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(&app, Method::DELETE, &uri("boosts"), &alice, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // Again: nothing left to undo, nothing sent.
    api(&app, Method::DELETE, &uri("likes"), &alice, None).await;
    let undos = queued(&app, "Undo").await;
    assert_eq!(undos.len(), 2, "{undos:?}");
    assert_eq!(undos[0].0["object"]["type"], "Like");
    assert_eq!(undos[0].0["object"]["id"], like_json["id"]);
    assert_eq!(undos[0].1, vec![dave.inbox_url.clone()]);
    assert_eq!(undos[1].0["object"]["type"], "Announce");
    assert_eq!(undos[1].0["object"]["id"], announce_json["id"]);
    assert_eq!(&undos[1].1, &expected);
    assert_eq!(counts(&app, &alice, &object).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_or_hidden_objects_are_refused_with_nothing_written() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bea", "member").await;
    let alice = token(&app, "alice").await;
    let bea = token(&app, "bea").await;
    let draft = publish(&app, &alice, "Brouillon", true).await;
    let post = publish(&app, &alice, "Publié", false).await;

    for (body, status, field) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, Some("object")),
        (
            json!({"object": "pas une adresse"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("object"),
        ),
        (
            json!({"object": "javascript:alert(1)"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("object"),
        ),
        (json!({"object": draft}), StatusCode::NOT_FOUND, None),
        (
            json!({"object": "http://localhost:8080/posts/424242"}),
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        for path in ["/api/v1/likes", "/api/v1/boosts"] {
            let r = api(&app, Method::POST, path, &bea, Some(body.clone())).await;
            assert_eq!(r.status, status, "{path} {body}: {}", r.body);
            if let Some(field) = field {
                assert_eq!(r.json()["field"], field, "{}", r.body);
            }
        }
    }
    assert_eq!(rows_in(&app, "reactions").await, 0);
    assert!(queued(&app, "Like").await.is_empty());

    // A local post by a local member: counted, nothing to deliver (no remote follower).
    let r = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &bea,
        Some(json!({"object": post})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let likes = queued(&app, "Like").await;
    assert_eq!(likes.len(), 1);
    assert!(likes[0].1.is_empty(), "{:?}", likes[0].1);
    // Alice sees the like but did not like it herself.
    let s = summary(&app, &alice, &post).await;
    assert_eq!(
        (s["likes"].as_i64(), s["liked"].as_bool()),
        (Some(1), Some(false))
    );
    // Deleting the post hides it: its reactions can no longer be read or added.
    let id = post.rsplit('/').next().expect("id");
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/posts/{id}"),
        &alice,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/boosts",
        &bea,
        Some(json!({"object": post})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_buttons_like_and_boost_with_csrf_and_readers_see_the_counts() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bea", "member").await;
    let alice = token(&app, "alice").await;
    let post = publish(&app, &alice, "Appel à projets", false).await;

    // Logged out: the counts, no buttons.
    let anonymous = page(&app, &post).await;
    assert!(anonymous.contains("0 j'aime · 0 partage"), "{anonymous}");
    assert!(!anonymous.contains("action=\"/reactions\""));

    let bea = Browser::logged_in(&app, "bea").await;
    let path = path_of(&post);
    let html = unescape(&bea.get(&path).await.body);
    assert!(html.contains("action=\"/reactions\""), "{html}");
    assert!(html.contains("aria-pressed=\"false\""));
    let token = csrf_in(&html);

    // Without the CSRF token: refused, nothing stored.
    let r = bea
        .post_form("/reactions", &[("object", &post), ("kind", "like")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(rows_in(&app, "reactions").await, 0);

    let r = bea
        .post_form(
            "/reactions",
            &[("csrf_token", &token), ("object", &post), ("kind", "like")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.header("location").expect("location").to_string();
    assert!(to.starts_with(&post), "{to}");
    let r = bea
        .post_form(
            "/reactions",
            &[
                ("csrf_token", &token),
                ("object", &post),
                ("kind", "announce"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let html = unescape(&bea.get(&path).await.body);
    assert!(html.contains("1 j'aime · 1 partage"), "{html}");
    assert_eq!(html.matches("aria-pressed=\"true\"").count(), 2, "{html}");
    assert!(html.contains("name=\"undo\" value=\"1\""));

    // Unlike through the same form.
    let r = bea
        .post_form(
            "/reactions",
            &[
                ("csrf_token", &token),
                ("object", &post),
                ("kind", "like"),
                ("undo", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(page(&app, &post).await.contains("0 j'aime · 1 partage"));

    // An unknown kind names the field.
    let r = bea
        .post_form(
            "/reactions",
            &[
                ("csrf_token", &token),
                ("object", &post),
                ("kind", "dislike"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

/// A remote actor on `host` that the instance does not know: any fetch of its key would fail.
fn unknown_actor(base: &str, key: usize) -> Remote {
    use rsa::pkcs8::DecodePrivateKey;
    let keys = &crate::federation_inbox::KEYS[key];
    let ap_id = format!("{base}/users/ghost");
    let now = Utc::now();
    Remote {
        key: rsa::RsaPrivateKey::from_pkcs8_pem(&keys.private_key).expect("key"),
        key_id: format!("{ap_id}#main-key"),
        actor: DbActor {
            id: -1,
            ap_id: ap_id.clone(),
            ap_url: url::Url::parse(&ap_id).expect("url"),
            kind: "Person".into(),
            username: "ghost".into(),
            domain: base.trim_start_matches("http://").into(),
            local: false,
            name: String::new(),
            summary_html: String::new(),
            icon_url: None,
            url: None,
            inbox_url: format!("{ap_id}/inbox"),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            following_url: None,
            public_key_pem: keys.public_key.clone(),
            private_key_pem: None,
            manually_approves_followers: false,
            discoverable: true,
            published: now,
            updated_at: now,
            last_refreshed_at: now,
            deleted_at: None,
            blocked_at: None,
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_domains_are_dropped_unfetched_and_silenced_replies_stay_out_of_public_threads() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let post = publish(&app, &alice, "Résidence", false).await;
    let known = remote_actor(&app, "http://blocked.example:1234", "known", 0).await;
    let quiet = remote_actor(&app, "http://quiet.example:1234", "quiet", 1).await;
    let open = remote_actor(&app, BOB_BASE, "bob", 2).await;
    let spam = BlockOptions {
        private_comment: "spam".into(),
        ..Default::default()
    };
    domain_blocks::block(&app.ctx, "Blocked.Example", Severity::Reject, &spam)
        .await
        .expect("block");
    domain_blocks::block(
        &app.ctx,
        "quiet.example",
        Severity::Silence,
        &BlockOptions::default(),
    )
    .await
    .expect("silence");

    // Rejected: a known actor's Like and a follow, an unknown actor (never fetched).
    let before = stored(&app).await;
    assert_eq!(
        deliver(&app, &known, &like(&known, &post, 1)).await,
        StatusCode::ACCEPTED
    );
    let follow = json!({
        "id": format!("{}#follow/1", known.id()), "type": "Follow",
        "actor": known.id(), "object": "http://localhost:8080/users/alice"
    });
    assert_eq!(deliver(&app, &known, &follow).await, StatusCode::ACCEPTED);
    let ghost = unknown_actor("http://sub.blocked.example:9999", 2);
    assert_eq!(
        deliver(&app, &ghost, &like(&ghost, &post, 1)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        stored(&app).await,
        before,
        "nothing stored, no actor fetched"
    );
    assert_eq!(rows_in(&app, "reactions").await, 0);

    // Silenced ("limit"): replies stored but left out of the public thread, likes counted.
    let reply = |from: &Remote, n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/statuses/{n}/activity", from.id()),
            "type": "Create",
            "actor": from.id(),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["http://localhost:8080/users/alice"],
            "object": {
                "id": format!("{}/statuses/{n}", from.id()),
                "type": "Note",
                "attributedTo": from.id(),
                "inReplyTo": post,
                "published": Utc::now().to_rfc3339(),
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": ["http://localhost:8080/users/alice"],
                "content": "<p>Bravo !</p>",
            }
        })
    };
    assert_eq!(
        deliver(&app, &quiet, &reply(&quiet, 1)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        deliver(&app, &quiet, &like(&quiet, &post, 1)).await,
        StatusCode::ACCEPTED
    );
    // The same reply from a domain nobody blocked is kept: the drop is the block's doing.
    assert_eq!(
        deliver(&app, &open, &reply(&open, 2)).await,
        StatusCode::ACCEPTED
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let mut authors: Vec<i64> = comments::table
        .select(comments::author_actor_id)
        .load(&mut conn)
        .await
        .expect("comments");
    authors.sort_unstable();
    let mut expected = vec![open.actor.id, quiet.actor.id];
    expected.sort_unstable();
    assert_eq!(authors, expected, "the silenced reply is stored");
    let list = api(
        &app,
        Method::GET,
        &format!("/api/v1/comments?object={}", enc(&post)),
        &alice,
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.json()["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["author"]["ap_id"], open.id());
    let html = page(&app, &post).await;
    assert_eq!(html.matches("Bravo !").count(), 1, "{html}");
    assert_eq!(counts(&app, &alice, &post).await, (1, 0));

    // Outbound: no follow of, and no reaction to, an account on a rejected domain.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &alice,
        Some(json!({"target": "someone@blocked.example:1234"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "target");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &alice,
        Some(json!({"target": known.id()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let id = db::posts::next_id(&mut conn).await.expect("id");
    let blocked_post = "http://blocked.example:1234/notes/1";
    db::posts::insert_remote(
        &mut conn,
        &NewRemotePost {
            id,
            category: "post".into(),
            ap_id: blocked_post.into(),
            author_actor_id: known.actor.id,
            title: "t".into(),
            slug: "t".into(),
            summary: String::new(),
            body_markdown: String::new(),
            body_html: String::new(),
            hashtags: Vec::new(),
            kind: None,
            published_at: Some(Utc::now()),
            local: false,
            url: None,
            content_warning: None,
        },
    )
    .await
    .expect("insert");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &alice,
        Some(json!({"object": blocked_post})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "object");
    assert!(queued(&app, "Like").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn comments_can_be_liked_from_the_page_with_their_own_counts() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bea", "member").await;
    let alice = token(&app, "alice").await;
    let bea_token = token(&app, "bea").await;
    let post = publish(&app, &alice, "Résidence d'été", false).await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/comments",
        &bea_token,
        Some(json!({"in_reply_to": post, "body": "Quelles dates ?"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let comment = r.json();
    let comment_ap_id = comment["ap_id"].as_str().expect("ap_id").to_string();
    let comment_id = comment["id"].as_i64().expect("id");

    // A reader sees no count yet; alice sees a like button for the comment.
    assert!(!page(&app, &post).await.contains("1 j'aime ·"));
    let session = Browser::logged_in(&app, "alice").await;
    let path = path_of(&post);
    let html = unescape(&session.get(&path).await.body);
    assert!(
        html.contains(&format!("name=\"object\" value=\"{comment_ap_id}\"")),
        "{html}"
    );
    let token = csrf_in(&html);
    let r = session
        .post_form(
            "/reactions",
            &[
                ("csrf_token", &token),
                ("object", &comment_ap_id),
                ("kind", "like"),
                ("back", &format!("{path}#comment-{comment_id}")),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.header("location")
            .expect("location")
            .ends_with(&format!("#comment-{comment_id}")),
        "back to the comment"
    );
    assert_eq!(counts(&app, &alice, &comment_ap_id).await, (1, 0));
    assert_eq!(
        counts(&app, &alice, &post).await,
        (0, 0),
        "the post is apart"
    );
    let html = unescape(&session.get(&path).await.body);
    let at = html
        .find(&format!("id=\"comment-{comment_id}\""))
        .expect("the comment");
    let comment_html = &html[at..];
    assert!(comment_html.contains("1 j'aime"), "{comment_html}");
    assert!(
        comment_html.contains("aria-pressed=\"true\""),
        "{comment_html}"
    );
    assert!(page(&app, &post).await.contains("1 j'aime"));
}
