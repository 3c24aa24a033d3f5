//! Comments, what a real user expects (issue 4, H6): editing one's comment from the page
//! (form, errors on the field, 403 for someone else's), content warnings of remote Notes
//! folded in a `<details>`, avatars beside the names, a `Create` whose object is only a URL
//! (fetched from the actor's origin, refused elsewhere without a request), and mentions in
//! comments (linked, tagged, in `cc`, delivered).

use crate::{
    common::{TestApp, TestResponse},
    federation_inbox::{Remote, deliver, remote_actor},
    helpers::{api, follow, path_of, queued, token},
};
use axum::{
    Router,
    body::Body,
    extract::Path,
    http::{HeaderMap, Method, Request, StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use culturecnous::db::{
    self,
    comments::DbComment,
    schema::{actors, comments, posts},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

const REMOTE: &str = "http://remote.example:1234";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// An announcement by `username`, published through the API: its AP id.
async fn announcement(app: &TestApp, username: &str, title: &str) -> String {
    let token = token(app, username).await;
    let r = api(
        app,
        Method::POST,
        "/api/v1/announcements",
        &token,
        Some(json!({"title": title, "body": "Le texte de l'annonce.", "kind": "residence"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["ap_id"].as_str().expect("ap_id").to_string()
}

fn note(from: &Remote, n: &str, in_reply_to: Option<&str>, content: &str) -> Value {
    json!({
        "id": format!("{}/statuses/{n}", from.id()),
        "type": "Note",
        "attributedTo": from.id(),
        "inReplyTo": in_reply_to,
        "content": content,
        "published": "2026-01-02T10:00:00Z",
        "to": [PUBLIC],
        "cc": [format!("{}/followers", from.id())],
    })
}

fn create(from: &Remote, n: &str, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/create-{n}", from.id()),
        "type": "Create",
        "actor": from.id(),
        "to": [PUBLIC],
        "object": object,
    })
}

async fn all_comments(app: &TestApp) -> Vec<DbComment> {
    let mut conn = app.ctx.conn().await.expect("conn");
    comments::table
        .order(comments::id)
        .select(DbComment::as_select())
        .load(&mut conn)
        .await
        .expect("comments")
}

async fn set_icon(app: &TestApp, actor_ap_id: &str, icon: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(actors::table.filter(actors::ap_id.eq(actor_ap_id)))
        .set(actors::icon_url.eq(Some(icon)))
        .execute(&mut conn)
        .await
        .expect("icon");
}

/// A logged-in member: GET and form POST with the session cookie (and CSRF token, unless
/// `csrf` is false).
struct Member {
    cookie: String,
    csrf: String,
}

impl Member {
    async fn new(app: &TestApp, username: &str) -> Member {
        let account = app.create_user(username, "member").await;
        let session = culturecnous::service::sessions::open(&app.ctx, &account, "test")
            .await
            .expect("session");
        Member {
            cookie: format!("session={}", session.token),
            csrf: session.csrf_token,
        }
    }

    async fn get(&self, app: &TestApp, path: &str) -> TestResponse {
        app.send(
            Request::builder()
                .uri(path)
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, &self.cookie)
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> TestResponse {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if csrf {
            all.push(("csrf_token", &self.csrf));
        }
        app.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, &self.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(serde_urlencoded::to_string(&all).expect("form")))
                .expect("request"),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Editing from the page

#[tokio::test(flavor = "multi_thread")]
async fn a_comment_is_edited_from_its_page_by_its_author_only() {
    let app = TestApp::new().await;
    let alice = Member::new(&app, "alice").await;
    let mallory = Member::new(&app, "mallory").await;
    let ap_id = announcement(&app, "alice", "Résidence d'été").await;
    let page = path_of(&ap_id);

    let r = alice
        .post(
            &app,
            "/commentaires",
            &[("target", &ap_id), ("body", "Premier *jet*")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let comment = all_comments(&app).await.pop().expect("comment");
    let edit = format!("/commentaires/{}/modifier", comment.id);

    // "Modifier" for its author, not for anyone else.
    let shown = alice.get(&app, &page).await;
    assert!(
        shown.body.contains(&format!("href=\"{edit}\"")),
        "{}",
        shown.body
    );
    let shown = mallory.get(&app, &page).await;
    assert!(!shown.body.contains(&edit));

    // The form, filled with the Markdown, its label tied to the textarea.
    let form = alice.get(&app, &edit).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains("<label for=\"f-body\">"),
        "{}",
        form.body
    );
    assert!(
        form.body.contains(">Premier *jet*</textarea>"),
        "{}",
        form.body
    );
    assert!(form.body.contains(&format!("action=\"{edit}\"")));

    // Someone else's comment: 403 for the form and the change, nothing written.
    assert_eq!(mallory.get(&app, &edit).await.status, StatusCode::FORBIDDEN);
    let r = mallory.post(&app, &edit, &[("body", "Piraté")], true).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Without the CSRF token: refused too.
    let r = alice
        .post(&app, &edit, &[("body", "Sans jeton")], false)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        all_comments(&app).await[0].body_markdown.as_deref(),
        Some("Premier *jet*")
    );
    assert!(queued(&app, "Update").await.is_empty());

    // An empty body: 422, the error summary and the message tied to the field.
    let r = alice.post(&app, &edit, &[("body", "  ")], true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("class=\"error-summary\""), "{}", r.body);
    assert!(r.body.contains("href=\"#f-body\""));
    assert!(
        r.body
            .contains("aria-describedby=\"f-body-hint f-body-error\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("aria-invalid=\"true\""));
    let long = "x".repeat(10_001);
    let r = alice.post(&app, &edit, &[("body", &long)], true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("10 000"), "{}", r.body);
    assert!(queued(&app, "Update").await.is_empty());

    // Saved: back to the comment, changed on the page, federated as Update.
    let r = alice
        .post(&app, &edit, &[("body", "Version **finale**")], true)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.header("location")
            .expect("location")
            .ends_with(&format!("#comment-{}", comment.id)),
        "{:?}",
        r.header("location")
    );
    let after = all_comments(&app).await;
    assert_eq!(
        after[0].body_markdown.as_deref(),
        Some("Version **finale**")
    );
    let shown = alice.get(&app, &page).await;
    assert!(
        shown.body.contains("Version <strong>finale</strong>"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("modifié"));
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].0["object"]["id"], comment.ap_id.as_str());
    assert!(
        updates[0].0["object"]["content"]
            .as_str()
            .expect("content")
            .contains("<strong>finale</strong>")
    );

    // A deleted comment has no form any more.
    let r = alice
        .post(
            &app,
            &format!("/commentaires/{}/supprimer", comment.id),
            &[],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(alice.get(&app, &edit).await.status, StatusCode::NOT_FOUND);
    // Logged out: to the login page.
    let r = app.get_html(&edit).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

// ---------------------------------------------------------------------------------------------
// 2. Content warnings

#[tokio::test(flavor = "multi_thread")]
async fn content_warnings_of_remote_notes_fold_the_body_in_details() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ap_id = announcement(&app, "alice", "Appel à textes").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;

    // As Mastodon sends it: the real Create fixture, given a CW.
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/mastodon/activities/create_note.json"
    ))
    .expect("fixture");
    let shape: Value = serde_json::from_str(&fixture).expect("json");
    let mut object = note(
        &bob,
        "1",
        Some(&ap_id),
        "<p>La fin du spectacle : tout le monde danse.</p>",
    );
    object["summary"] = json!("Divulgâcheur <b>fin</b> du spectacle");
    object["sensitive"] = json!(true);
    object["contentMap"] = shape["object"]["contentMap"].clone();
    let r = deliver(&app, &bob, &create(&bob, "1", object)).await;
    assert_eq!(r, StatusCode::ACCEPTED);
    let stored = all_comments(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].content_warning.as_deref(),
        Some("Divulgâcheur fin du spectacle")
    );
    // A reply without a CW (Mastodon sends `"summary": null`).
    let mut plain = note(&bob, "2", Some(&ap_id), "<p>Sans avertissement</p>");
    plain["summary"] = Value::Null;
    assert_eq!(
        deliver(&app, &bob, &create(&bob, "2", plain)).await,
        StatusCode::ACCEPTED
    );

    let page = app.get_html(&path_of(&ap_id)).await;
    assert_eq!(page.status, StatusCode::OK);
    let at = page
        .body
        .find(&format!("id=\"comment-{}\"", stored[0].id))
        .expect("comment");
    let item = &page.body[at..];
    let details = item
        .find("<details class=\"content-warning\">")
        .expect("details");
    let summary = item.find("<summary>").expect("summary");
    let cw = item.find("Divulgâcheur fin du spectacle").expect("cw text");
    let body = item.find("tout le monde danse").expect("body");
    let closed = item.find("</details>").expect("end of details");
    assert!(details < summary && summary < cw && cw < body && body < closed);
    // Not open by default; the other reply is shown as is.
    assert!(!item[details..summary].contains("open"));
    let other = page.body.find("Sans avertissement").expect("other");
    let other_item = &page.body[page.body[..other].rfind("<li id=\"comment-").expect("li")..other];
    assert!(!other_item.contains("<details"), "{other_item}");

    // An Update may lift the warning.
    let mut edited = note(&bob, "1", Some(&ap_id), "<p>Plus de secret.</p>");
    edited["summary"] = json!("");
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/update-1", bob.id()),
        "type": "Update",
        "actor": bob.id(),
        "object": edited,
    });
    assert_eq!(deliver(&app, &bob, &update).await, StatusCode::ACCEPTED);
    assert_eq!(all_comments(&app).await[0].content_warning, None);

    // A remote post of a followed actor keeps its warning too, on its local page.
    let alice_actor = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::actors::local_by_username(&mut conn, "alice")
            .await
            .expect("query")
            .expect("alice")
    };
    follow(&app, &alice_actor, &bob.actor, "accepted").await;
    let mut post = note(&bob, "10", None, "<p>Les coulisses du festival</p>");
    post["summary"] = json!("Photos de coulisses");
    post["sensitive"] = json!(true);
    assert_eq!(
        deliver(&app, &bob, &create(&bob, "10", post)).await,
        StatusCode::ACCEPTED
    );
    let (id, slug): (i64, String) = {
        let mut conn = app.ctx.conn().await.expect("conn");
        posts::table
            .filter(posts::local.eq(false))
            .select((posts::id, posts::slug))
            .first(&mut conn)
            .await
            .expect("remote post")
    };
    let page = app.get_html(&format!("/posts/{id}/{slug}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // Titled by its warning: the folded text shows nowhere else (title, Open Graph…).
    assert_eq!(
        page.body.matches("Les coulisses du festival").count(),
        1,
        "{}",
        page.body
    );
    let details = page
        .body
        .find("<details class=\"content-warning\">")
        .expect("details");
    let summary = page.body[details..]
        .find("Photos de coulisses")
        .expect("cw")
        + details;
    let body = page.body.find("Les coulisses du festival").expect("body");
    assert!(details < summary && summary < body, "{}", page.body);
}

// ---------------------------------------------------------------------------------------------
// 3. Avatars

#[tokio::test(flavor = "multi_thread")]
async fn threads_show_avatars_lazily_with_empty_alt() {
    let app = TestApp::new().await;
    let alice = Member::new(&app, "alice").await;
    let ap_id = announcement(&app, "alice", "Prêt de gradins").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let carol = remote_actor(&app, REMOTE, "carol", 1).await;
    set_icon(&app, bob.id(), "https://cdn.remote.example/avatars/bob.png").await;
    // A hostile icon URL is never used.
    set_icon(&app, carol.id(), "javascript:alert(1)").await;
    set_icon(
        &app,
        "http://localhost:8080/users/alice",
        "http://localhost:8080/media/avatars/alice.png",
    )
    .await;
    for (from, n) in [(&bob, "1"), (&carol, "2")] {
        let r = deliver(
            &app,
            from,
            &create(from, n, note(from, n, Some(&ap_id), "<p>Salut</p>")),
        )
        .await;
        assert_eq!(r, StatusCode::ACCEPTED);
    }
    let r = alice
        .post(
            &app,
            "/commentaires",
            &[("target", &ap_id), ("body", "Merci !")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let page = app.get_html(&path_of(&ap_id)).await;
    assert!(
        page.body.contains(
            "<img class=\"avatar\" src=\"https://cdn.remote.example/avatars/bob.png\" alt=\"\" width=\"48\" height=\"48\" loading=\"lazy\""
        ),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<img class=\"avatar\" src=\"/media/avatars/alice.png\" alt=\"\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("javascript:"));
    assert_eq!(page.body.matches("class=\"avatar\"").count(), 2);
}

// ---------------------------------------------------------------------------------------------
// 4. Create by reference

/// A remote server at `http://localhost:PORT` serving bob's statuses; counts the requests
/// and whether they were signed.
struct FakeOrigin {
    base: String,
    hits: Arc<AtomicUsize>,
    signed: Arc<AtomicUsize>,
}

async fn fake_origin(in_reply_to: String) -> FakeOrigin {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let signed = Arc::new(AtomicUsize::new(0));
    let (h, s, b) = (hits.clone(), signed.clone(), base.clone());
    let app = Router::new().route(
        "/users/bob/statuses/{n}",
        get(move |Path(n): Path<String>, headers: HeaderMap| {
            let (hits, signed, base, in_reply_to) =
                (h.clone(), s.clone(), b.clone(), in_reply_to.clone());
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                if headers.contains_key("signature") {
                    signed.fetch_add(1, Ordering::SeqCst);
                }
                let actor = format!("{base}/users/bob");
                let body = json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": format!("{actor}/statuses/{n}"),
                    "type": "Note",
                    "attributedTo": actor,
                    "inReplyTo": in_reply_to,
                    "content": "<p>Par référence <script>x()</script></p>",
                    "to": [PUBLIC],
                    "cc": [format!("{actor}/followers")],
                });
                (
                    [(header::CONTENT_TYPE, "application/activity+json")],
                    body.to_string(),
                )
                    .into_response()
            }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    FakeOrigin { base, hits, signed }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_by_reference_is_fetched_from_the_actors_origin_only() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ap_id = announcement(&app, "alice", "Atelier d'écriture").await;
    let origin = fake_origin(ap_id.clone()).await;
    let bob = remote_actor(&app, &origin.base, "bob", 0).await;
    let mallory = remote_actor(&app, REMOTE, "mallory", 1).await;

    // Off-origin: mallory names bob's status. Refused, nothing fetched, nothing stored.
    let forged = create(&mallory, "1", json!(format!("{}/statuses/7", bob.id())));
    assert_eq!(
        deliver(&app, &mallory, &forged).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(AtomicUsize::load(&origin.hits, Ordering::SeqCst), 0);
    assert!(all_comments(&app).await.is_empty());

    // On the actor's origin: fetched (signed), checked, stored like an embedded Note.
    let by_ref = create(&bob, "7", json!(format!("{}/statuses/7", bob.id())));
    assert_eq!(deliver(&app, &bob, &by_ref).await, StatusCode::ACCEPTED);
    assert_eq!(AtomicUsize::load(&origin.hits, Ordering::SeqCst), 1);
    assert_eq!(
        AtomicUsize::load(&origin.signed, Ordering::SeqCst),
        1,
        "signed fetch"
    );
    let stored = all_comments(&app).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].ap_id, format!("{}/statuses/7", bob.id()));
    assert_eq!(stored[0].in_reply_to, ap_id);
    assert!(stored[0].body_html.contains("Par référence"));
    assert!(!stored[0].body_html.contains("<script"));
    // Sent again (a replay, or another Create of the same object): no new fetch, no new row.
    assert_eq!(deliver(&app, &bob, &by_ref).await, StatusCode::ACCEPTED);
    let again = create(&bob, "7b", json!(format!("{}/statuses/7", bob.id())));
    assert_eq!(deliver(&app, &bob, &again).await, StatusCode::ACCEPTED);
    assert_eq!(AtomicUsize::load(&origin.hits, Ordering::SeqCst), 1);
    assert_eq!(all_comments(&app).await.len(), 1);
    let page = app.get_html(&path_of(&ap_id)).await;
    assert!(page.body.contains("Par référence"));
}

// ---------------------------------------------------------------------------------------------
// 5. Mentions

#[tokio::test(flavor = "multi_thread")]
async fn mentions_in_comments_are_linked_tagged_and_delivered() {
    let app = TestApp::new().await;
    let alice = Member::new(&app, "alice").await;
    app.create_user("zoe", "member").await;
    let ap_id = announcement(&app, "zoe", "Chorale").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let dan = remote_actor(&app, "http://other.example:4321", "dan", 1).await;

    let r = alice
        .post(
            &app,
            "/commentaires",
            &[
                ("target", &ap_id),
                (
                    "body",
                    "Avec @bob@remote.example:1234 et @zoe, pas `@dan@other.example:4321`",
                ),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let comment = all_comments(&app).await.pop().expect("comment");
    assert!(
        comment.body_html.contains(&format!(
            "<a href=\"{REMOTE}/@bob\" class=\"u-url mention\""
        )),
        "{}",
        comment.body_html
    );
    assert!(
        comment
            .body_html
            .contains("href=\"http://localhost:8080/users/zoe\""),
        "{}",
        comment.body_html
    );
    assert!(
        comment
            .body_html
            .contains("<code>@dan@other.example:4321</code>")
    );

    let creates = queued(&app, "Create").await;
    let (activity, inboxes) = creates.last().expect("create");
    let object = &activity["object"];
    let tags: Vec<&str> = object["tag"]
        .as_array()
        .expect("tags")
        .iter()
        .filter(|t| t["type"] == "Mention")
        .map(|t| t["href"].as_str().expect("href"))
        .collect();
    assert!(tags.contains(&bob.id()), "{tags:?}");
    assert!(
        tags.contains(&"http://localhost:8080/users/zoe"),
        "{tags:?}"
    );
    assert!(!tags.contains(&dan.id()));
    let cc = object["cc"].as_array().expect("cc");
    assert!(cc.contains(&json!(bob.id())), "{cc:?}");
    assert_eq!(activity["cc"], object["cc"]);
    assert_eq!(
        inboxes,
        &vec![format!("{REMOTE}/inbox")],
        "bob's shared inbox"
    );
    // Served the same at the comment's id.
    let served = app
        .get(&path_of(&comment.ap_id), "application/activity+json")
        .await;
    assert_eq!(served.json()["tag"], object["tag"]);

    // Edited to mention dan instead: the Update reaches dan (and still bob, who saw it).
    let token = token(&app, "alice").await;
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/comments/{}", comment.id),
        &token,
        Some(json!({"body": "Finalement @dan@other.example:4321"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let updates = queued(&app, "Update").await;
    let (update, inboxes) = updates.last().expect("update");
    assert!(
        update["object"]["tag"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|t| t["href"] == dan.id())
    );
    assert!(
        inboxes.contains(&"http://other.example:4321/inbox".to_string()),
        "{inboxes:?}"
    );
    assert!(inboxes.contains(&format!("{REMOTE}/inbox")), "{inboxes:?}");
}
