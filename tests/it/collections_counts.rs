//! `likes` and `shares` collections (issue 4, read by Mastodon 4.3+ to show the counts of
//! remote posts): carried by our Article and Notes, served at `<object id>/likes|shares` as a
//! `Collection` with `totalItems` only, following inbound and local likes and boosts; 404 for
//! unknown, draft or remote objects, 410 once deleted, browsers sent to the page.

use crate::{
    common::{TestApp, TestResponse},
    federation_inbox::{Remote, deliver, remote_actor},
    helpers::{AP, api, create, path_of, queued, token},
    reactions::{announce, like, undo},
};
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

const REMOTE: &str = "http://remote.example:1234";

async fn accepted(app: &TestApp, from: &Remote, activity: Value) {
    assert_eq!(
        deliver(app, from, &activity).await,
        StatusCode::ACCEPTED,
        "{activity}"
    );
}

/// GET as an ActivityPub client.
async fn get_ap(app: &TestApp, path: &str) -> TestResponse {
    app.get(path, AP).await
}

/// The `likes`/`shares` collection at `{ap_id}/{which}`: checks its whole shape and returns
/// its `totalItems`.
async fn total(app: &TestApp, ap_id: &str, which: &str) -> i64 {
    let url = format!("{ap_id}/{which}");
    let r = get_ap(app, &path_of(&url)).await;
    assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.body);
    assert_eq!(r.header("content-type"), Some(AP), "{url}");
    assert_eq!(r.header("vary"), Some("Accept"), "{url}");
    let body = r.json();
    let map = body.as_object().expect("object");
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    // totalItems only, no items nor pages, as Mastodon serves them.
    assert_eq!(keys, ["@context", "id", "totalItems", "type"], "{body}");
    assert_eq!(body["id"], url.as_str());
    assert_eq!(body["type"], "Collection");
    body["totalItems"].as_i64().expect("totalItems")
}

/// `(likes, shares)` as the collections say, checked against the object's own `likes` and
/// `shares` (`object_path` serves the object).
async fn counts(app: &TestApp, ap_id: &str) -> (i64, i64) {
    let likes = total(app, ap_id, "likes").await;
    let shares = total(app, ap_id, "shares").await;
    let object = get_ap(app, &path_of(ap_id)).await;
    assert_eq!(object.status, StatusCode::OK, "{}", object.body);
    let object = object.json();
    assert_eq!(
        object["likes"],
        json!({"id": format!("{ap_id}/likes"), "type": "Collection", "totalItems": likes}),
        "{object}"
    );
    assert_eq!(
        object["shares"],
        json!({"id": format!("{ap_id}/shares"), "type": "Collection", "totalItems": shares}),
        "{object}"
    );
    (likes, shares)
}

/// `{id, ap_id}` of a new post, announcement or comment made through the API.
async fn make(app: &TestApp, token: &str, uri: &str, body: Value) -> (i64, String) {
    let created = create(app, token, uri, body).await;
    (
        created["id"].as_i64().expect("id"),
        created["ap_id"].as_str().expect("ap_id").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_follow_inbound_and_local_likes_and_boosts_on_every_kind_of_object() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("dave", "member").await;
    let alice = token(&app, "alice").await;
    let dave = token(&app, "dave").await;
    let (_, post) = make(
        &app,
        &alice,
        "/api/v1/posts",
        json!({"title": "Résidence d'automne", "body": "Du texte."}),
    )
    .await;
    let (_, announcement) = make(
        &app,
        &alice,
        "/api/v1/announcements",
        json!({"title": "Régisseur", "body": "Poste à pourvoir.", "kind": "emploi"}),
    )
    .await;
    let (_, comment) = make(
        &app,
        &dave,
        "/api/v1/comments",
        json!({"in_reply_to": post, "body": "Bravo !"}),
    )
    .await;
    assert!(post.starts_with("http://localhost:8080/posts/"), "{post}");
    assert!(
        announcement.starts_with("http://localhost:8080/announcements/"),
        "{announcement}"
    );
    assert!(
        comment.starts_with("http://localhost:8080/comments/"),
        "{comment}"
    );
    for object in [&post, &announcement, &comment] {
        assert_eq!(counts(&app, object).await, (0, 0), "{object}");
    }
    // The Creates sent at publication carry the (then empty) collections.
    let creates = queued(&app, "Create").await;
    let article = creates
        .iter()
        .map(|(json, _)| &json["object"])
        .find(|o| o["id"] == post.as_str())
        .expect("Create(Article)");
    assert_eq!(
        article["likes"],
        json!({"id": format!("{post}/likes"), "type": "Collection", "totalItems": 0})
    );
    assert_eq!(article["shares"]["totalItems"], 0);

    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let carol = remote_actor(&app, REMOTE, "carol", 1).await;
    let bob_like = like(&bob, &post, 1);
    accepted(&app, &bob, bob_like.clone()).await;
    accepted(&app, &bob, bob_like.clone()).await; // a replay counts once
    accepted(&app, &carol, like(&carol, &post, 1)).await;
    accepted(&app, &bob, announce(&bob, &post, 2)).await;
    accepted(&app, &bob, like(&bob, &announcement, 3)).await;
    accepted(&app, &carol, announce(&carol, &comment, 4)).await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &dave,
        Some(json!({"object": post})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);

    assert_eq!(counts(&app, &post).await, (3, 1));
    assert_eq!(counts(&app, &announcement).await, (1, 0));
    assert_eq!(counts(&app, &comment).await, (0, 1));

    // Bob takes his like back; the collection follows.
    accepted(&app, &bob, undo(&bob, bob_like, 5)).await;
    assert_eq!(counts(&app, &post).await, (2, 1));

    // An Update sent now carries the current counts.
    let id = post.rsplit('/').next().expect("id");
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/posts/{id}"),
        &alice,
        Some(json!({"title": "Résidence d'hiver"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let updates = queued(&app, "Update").await;
    let (update, _) = updates.last().expect("Update");
    assert_eq!(update["object"]["id"], post.as_str());
    assert_eq!(update["object"]["likes"]["totalItems"], 2, "{update}");
    assert_eq!(update["object"]["shares"]["totalItems"], 1, "{update}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_draft_and_remote_objects_are_404_deleted_ones_410_and_browsers_see_the_page() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let (post_id, post) = make(
        &app,
        &alice,
        "/api/v1/posts",
        json!({"title": "Publié", "body": "Du texte."}),
    )
    .await;
    let (draft_id, _) = make(
        &app,
        &alice,
        "/api/v1/posts",
        json!({"title": "Brouillon", "body": "Pas encore.", "draft": true}),
    )
    .await;
    let (announcement_id, announcement) = make(
        &app,
        &alice,
        "/api/v1/announcements",
        json!({"title": "Bénévoles", "body": "Pour le festival.", "kind": "benevolat"}),
    )
    .await;
    let (comment_id, comment) = make(
        &app,
        &alice,
        "/api/v1/comments",
        json!({"in_reply_to": post, "body": "Précision : c'est gratuit."}),
    )
    .await;
    // A reply from a remote server, stored as a comment: its collections live over there.
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let bob_note = format!("{}/statuses/9", bob.id());
    accepted(
        &app,
        &bob,
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{bob_note}/activity"),
            "type": "Create",
            "actor": bob.id(),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": bob_note,
                "type": "Note",
                "attributedTo": bob.id(),
                "inReplyTo": post,
                "content": "<p>Je viens !</p>",
                "published": "2026-01-02T10:00:00Z",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        }),
    )
    .await;
    let remote_comment_id = {
        let mut conn = app.ctx.conn().await.expect("conn");
        culturecnous::db::comments::by_ap_id(&mut conn, &bob_note)
            .await
            .expect("query")
            .expect("remote reply stored")
            .id
    };

    for which in ["likes", "shares"] {
        for path in [
            format!("/posts/999999/{which}"),
            format!("/posts/pas-un-nombre/{which}"),
            format!("/posts/{draft_id}/{which}"),
            // The right id under the wrong kind of object.
            format!("/announcements/{post_id}/{which}"),
            format!("/posts/{announcement_id}/{which}"),
            format!("/comments/999999/{which}"),
            format!("/comments/{remote_comment_id}/{which}"),
        ] {
            let r = get_ap(&app, &path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
        }
    }

    // A browser is sent to the page that shows the object.
    let r = app.get_html(&format!("/posts/{post_id}/likes")).await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
    let location = r.header("location").expect("location").to_string();
    assert!(location.starts_with(&format!("{post}/")), "{location}");
    let page = app.get_html(&path_of_any(&location)).await;
    assert_eq!(page.status, StatusCode::OK, "{location}");
    let r = app
        .get_html(&format!("/comments/{comment_id}/shares"))
        .await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
    assert!(
        r.header("location")
            .expect("location")
            .ends_with(&format!("#comment-{comment_id}")),
        "{:?}",
        r.header("location")
    );
    assert_eq!(r.header("vary"), Some("Accept"));

    // Deleted: 410 with a Tombstone of the collection, for each kind of object.
    for (uri, ap_id) in [
        (format!("/api/v1/comments/{comment_id}"), &comment),
        (
            format!("/api/v1/announcements/{announcement_id}"),
            &announcement,
        ),
        (format!("/api/v1/posts/{post_id}"), &post),
    ] {
        let r = api(&app, Method::DELETE, &uri, &alice, None).await;
        assert!(r.status.is_success(), "{uri}: {}", r.body);
        for which in ["likes", "shares"] {
            let url = format!("{ap_id}/{which}");
            let r = get_ap(&app, &path_of(&url)).await;
            assert_eq!(r.status, StatusCode::GONE, "{url}: {}", r.body);
            assert_eq!(r.header(header::CONTENT_TYPE.as_str()), Some(AP));
            let body = r.json();
            assert_eq!(body["type"], "Tombstone", "{body}");
            assert_eq!(body["id"], url.as_str(), "{body}");
            assert_eq!(body["formerType"], "Collection", "{body}");
            let html = app.get_html(&path_of(&url)).await;
            assert_eq!(html.status, StatusCode::GONE, "{url}");
        }
    }
}

/// The path of a site-relative or absolute local URL.
fn path_of_any(url: &str) -> String {
    if url.starts_with('/') {
        url.to_string()
    } else {
        path_of(url)
    }
}
