//! Comments and remote posts (issue 4, "federation in"): signed inbound Create/Update/Delete of
//! Notes from a fake remote server, threads, sanitising, replays, authorship; remote posts of
//! followed actors on `/fil` and at their local page; local comments through the form and the
//! API with their deliveries; `/comments/{id}` negotiation and 410.

use crate::{
    common::TestApp,
    federation_inbox::{Remote, deliver, remote_actor},
    helpers::{
        AP, Browser, UNSAFE_MARKUP, api, create, enc, follow, local_actor, path_of, queued,
        rows_in, token, unescape,
    },
};
use axum::http::{Method, StatusCode};
use culturecnous::db::{
    self,
    schema::{comments, posts},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

const REMOTE: &str = "http://remote.example:1234";

/// Publishes an announcement as `token`'s owner through the API; returns its AP id.
async fn announcement(app: &TestApp, token: &str, title: &str) -> String {
    let body = json!({"title": title, "body": "Le texte de l'annonce.", "kind": "emploi"});
    let created = create(app, token, "/api/v1/announcements", body).await;
    created["ap_id"].as_str().expect("ap_id").to_string()
}

fn note(from: &Remote, n: &str, in_reply_to: Option<&str>, content: &str) -> Value {
    json!({
        "id": format!("{}/statuses/{n}", from.id()),
        "type": "Note",
        "attributedTo": from.id(),
        "inReplyTo": in_reply_to,
        "content": content,
        "url": format!("{REMOTE}/@{}/{n}", from.actor.username),
        "published": "2026-01-02T10:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/followers", from.id())],
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

async fn all_comments(app: &TestApp) -> Vec<db::comments::DbComment> {
    let mut conn = app.ctx.conn().await.expect("conn");
    comments::table
        .order(comments::id)
        .select(db::comments::DbComment::as_select())
        .load(&mut conn)
        .await
        .expect("comments")
}

const HOSTILE: &str = "Bravo <script>alert(1)</script><style>p{}</style>\
    <iframe src=\"https://evil.example\"></iframe><a href=\"javascript:alert(2)\">j</a> \
    <a href=\"data:text/html,x\">d</a> <img src=x onerror=alert(3)><p onclick=\"x()\">clic</p><b>non fermé";

#[tokio::test(flavor = "multi_thread")]
async fn remote_replies_are_stored_sanitised_threaded_updated_and_deleted_by_their_author_only() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice_token = token(&app, "alice").await;
    let ap_id = announcement(&app, &alice_token, "Régisseur recherché").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let carol = remote_actor(&app, REMOTE, "carol", 1).await;

    // A hostile reply, with 10 000 nested divs.
    let content = format!("{HOSTILE}{}", "<div>".repeat(10_000));
    let create = activity(&bob, "Create", "1", note(&bob, "1", Some(&ap_id), &content));
    assert_eq!(deliver(&app, &bob, &create).await, StatusCode::ACCEPTED);
    // Replayed: stored once.
    assert_eq!(deliver(&app, &bob, &create).await, StatusCode::ACCEPTED);
    // The same Note in another Create (another activity id): still stored once.
    let again = activity(
        &bob,
        "Create",
        "1b",
        note(&bob, "1", Some(&ap_id), &content),
    );
    assert_eq!(deliver(&app, &bob, &again).await, StatusCode::ACCEPTED);
    let stored = all_comments(&app).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let first = &stored[0];
    assert_eq!(first.ap_id, format!("{}/statuses/1", bob.id()));
    assert_eq!(first.in_reply_to, ap_id);
    assert_eq!(first.parent_id, None);
    for bad in UNSAFE_MARKUP.into_iter().chain(["<div"]) {
        assert!(!first.body_html.contains(bad), "{bad} stored");
    }
    assert!(
        first.body_html.contains("<b>non fermé"),
        "{}",
        first.body_html
    );

    // A reply to the reply (by carol), threaded under it.
    let nested = activity(
        &carol,
        "Create",
        "2",
        note(&carol, "2", Some(&first.ap_id), "<p>D'accord avec Bob</p>"),
    );
    assert_eq!(deliver(&app, &carol, &nested).await, StatusCode::ACCEPTED);
    let stored = all_comments(&app).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].parent_id, Some(first.id));
    assert_eq!(stored[1].post_id, first.post_id);

    // Shown on the page, nested, sanitised.
    let page = app.get_html(&path_of(&ap_id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let main = page.body.split("<main").nth(1).expect("main");
    for bad in ["<script", "<iframe", "javascript:", "onerror", "onclick"] {
        assert!(!main.contains(bad), "{bad} in the page");
    }
    let first_at = main
        .find(&format!("id=\"comment-{}\"", first.id))
        .expect("first comment");
    let replies_at = main[first_at..]
        .find("<ol class=\"comment-replies\">")
        .expect("nested list")
        + first_at;
    let second_at = main
        .find(&format!("id=\"comment-{}\"", stored[1].id))
        .expect("second comment");
    assert!(first_at < replies_at && replies_at < second_at);
    assert!(unescape(main).contains("D'accord avec Bob"));
    assert!(main.contains("@bob@remote.example:1234"));
    // Logged out: a prompt to log in, no form.
    assert!(main.contains("/connexion?next="), "{main}");
    assert!(!main.contains("action=\"/commentaires\""));

    // And in the API, in thread order.
    let list = api(
        &app,
        Method::GET,
        &format!("/api/v1/comments?object={}", enc(&ap_id)),
        &alice_token,
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.json()["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["ap_id"], first.ap_id.as_str());
    assert_eq!(items[0]["author"]["handle"], "@bob@remote.example:1234");
    assert_eq!(items[0]["url"], format!("{REMOTE}/@bob/1"));
    assert_eq!(items[1]["in_reply_to"], first.ap_id.as_str());
    assert!(
        !items[0]["content_html"]
            .as_str()
            .expect("html")
            .contains("<script")
    );
    let unknown = api(
        &app,
        Method::GET,
        "/api/v1/comments?object=http%3A%2F%2Flocalhost%3A8080%2Fannouncements%2F999999",
        &alice_token,
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    // Update by the author: applied, sanitised.
    let mut edited = note(
        &bob,
        "1",
        Some(&ap_id),
        "<p>Corrigé <script>x()</script></p>",
    );
    edited["updated"] = json!("2026-01-03T10:00:00Z");
    let update = activity(&bob, "Update", "1", edited);
    assert_eq!(deliver(&app, &bob, &update).await, StatusCode::ACCEPTED);
    let after = all_comments(&app).await;
    assert!(
        after[0].body_html.contains("Corrigé"),
        "{}",
        after[0].body_html
    );
    assert!(!after[0].body_html.contains("<script"));

    // Someone else's Update or Delete of bob's note changes nothing.
    let mut forged = note(&bob, "1", Some(&ap_id), "<p>Piraté</p>");
    forged["attributedTo"] = json!(carol.id());
    let forged_update = activity(&carol, "Update", "9", forged);
    assert_ne!(
        deliver(&app, &carol, &forged_update).await,
        StatusCode::ACCEPTED
    );
    let forged_delete = activity(&carol, "Delete", "9", json!(first.ap_id));
    assert_eq!(
        deliver(&app, &carol, &forged_delete).await,
        StatusCode::FORBIDDEN
    );
    let unchanged = all_comments(&app).await;
    assert!(unchanged[0].body_html.contains("Corrigé"));
    assert!(unchanged[0].deleted_at.is_none());

    // Delete by the author (a Tombstone): deleted; it has a reply, so it shows as deleted.
    let delete = activity(
        &bob,
        "Delete",
        "1",
        json!({"id": first.ap_id, "type": "Tombstone"}),
    );
    assert_eq!(deliver(&app, &bob, &delete).await, StatusCode::ACCEPTED);
    let after = all_comments(&app).await;
    assert!(after[0].deleted_at.is_some());
    let page = app.get_html(&path_of(&ap_id)).await;
    assert!(page.body.contains("commentaire supprimé"), "{}", page.body);
    assert!(!page.body.contains("Corrigé"));
    // Carol deletes hers: both vanish.
    let delete = activity(&carol, "Delete", "2", json!(stored[1].ap_id));
    assert_eq!(deliver(&app, &carol, &delete).await, StatusCode::ACCEPTED);
    let page = app.get_html(&path_of(&ap_id)).await;
    assert!(!page.body.contains("commentaire supprimé"), "{}", page.body);
    assert!(!unescape(&page.body).contains("D'accord"));
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_to_unknown_objects_are_accepted_and_ignored() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let create = activity(
        &bob,
        "Create",
        "1",
        note(
            &bob,
            "1",
            Some("https://elsewhere.example/notes/1"),
            "<p>Hello</p>",
        ),
    );
    assert_eq!(deliver(&app, &bob, &create).await, StatusCode::ACCEPTED);
    let local_unknown = activity(
        &bob,
        "Create",
        "2",
        note(
            &bob,
            "2",
            Some("http://localhost:8080/announcements/424242"),
            "<p>Hello</p>",
        ),
    );
    assert_eq!(
        deliver(&app, &bob, &local_unknown).await,
        StatusCode::ACCEPTED
    );
    // A followers-only reply to one of our announcements is not shown publicly.
    let token = token(&app, "alice").await;
    let ap_id = announcement(&app, &token, "Annonce").await;
    let mut private = note(&bob, "4", Some(&ap_id), "<p>Entre nous</p>");
    private["to"] = json!([format!("{}/followers", bob.id())]);
    private["cc"] = json!([]);
    let private = activity(&bob, "Create", "4", private);
    assert_eq!(deliver(&app, &bob, &private).await, StatusCode::ACCEPTED);
    assert!(all_comments(&app).await.is_empty());
    // Not a reply, from an actor nobody here follows: not kept either.
    let post = activity(&bob, "Create", "3", note(&bob, "3", None, "<p>Salut</p>"));
    assert_eq!(deliver(&app, &bob, &post).await, StatusCode::ACCEPTED);
    let mut conn = app.ctx.conn().await.expect("conn");
    let remote_posts: i64 = posts::table
        .filter(posts::local.eq(false))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(remote_posts, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_of_followed_actors_are_kept_on_the_timeline_and_their_local_page() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    app.create_user("zoe", "member").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let carol = remote_actor(&app, REMOTE, "carol", 1).await;
    let alice_actor = local_actor(&app, "alice").await;
    follow(&app, &alice_actor, &bob.actor, "accepted").await;

    let mut object = note(
        &bob,
        "10",
        None,
        "<p>Appel à candidatures pour une résidence <a href=\"javascript:x()\">ici</a> #appelAProjets</p>",
    );
    object["tag"] = json!([{"type": "Hashtag", "name": "#appelAProjets", "href": format!("{REMOTE}/tags/appelAProjets")}]);
    let create = activity(&bob, "Create", "10", object);
    assert_eq!(deliver(&app, &bob, &create).await, StatusCode::ACCEPTED);
    assert_eq!(deliver(&app, &bob, &create).await, StatusCode::ACCEPTED);
    // From carol, whom nobody follows: ignored.
    let other = activity(
        &carol,
        "Create",
        "11",
        note(&carol, "11", None, "<p>Ignorée</p>"),
    );
    assert_eq!(deliver(&app, &carol, &other).await, StatusCode::ACCEPTED);

    let mut conn = app.ctx.conn().await.expect("conn");
    let kept: Vec<db::posts::DbPost> = posts::table
        .filter(posts::local.eq(false))
        .select(db::posts::DbPost::as_select())
        .load(&mut conn)
        .await
        .expect("posts");
    assert_eq!(kept.len(), 1, "{kept:?}");
    let post = &kept[0];
    assert_eq!(post.ap_id, format!("{}/statuses/10", bob.id()));
    assert_eq!(post.category, "announcement");
    assert_eq!(post.kind.as_deref(), Some("appel_a_projets"));
    assert_eq!(post.account_id, None);
    assert!(
        post.title.starts_with("Appel à candidatures"),
        "{}",
        post.title
    );
    assert!(!post.body_html.contains("javascript:"));

    // On alice's timeline, linking to its page here; not on the public list.
    let browser = Browser::with_session(&app, &alice).await;
    let fil = browser.get("/fil").await;
    assert_eq!(fil.status, StatusCode::OK, "{}", fil.body);
    let local_page = format!("/announcements/{}/{}", post.id, post.slug);
    assert!(fil.body.contains(&local_page), "{}", fil.body);
    assert!(fil.body.contains("href=\"/fil\""), "nav link");
    let public = app.get_html("/annonces").await;
    assert!(!public.body.contains("Appel à candidatures"));
    // Not on the timeline of someone who does not follow bob; logged out: to the login page.
    let zoe = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::accounts::by_login(&mut conn, "zoe")
            .await
            .expect("query")
            .expect("zoe")
    };
    let zoe_fil = Browser::with_session(&app, &zoe).await.get("/fil").await;
    assert!(!zoe_fil.body.contains(&local_page));
    assert_eq!(app.get_html("/fil").await.status, StatusCode::SEE_OTHER);

    // Its local page, with a link to the original; JSON clients go to its own id.
    let page = app.get_html(&local_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(unescape(&page.body).contains("Voir l'original sur"));
    assert!(page.body.contains(&format!("{REMOTE}/@bob/10")));
    let json = app.get(&format!("/announcements/{}", post.id), AP).await;
    assert_eq!(json.status, StatusCode::FOUND);
    assert_eq!(json.header("location"), Some(post.ap_id.as_str()));

    // Alice comments it: delivered to bob (the author), Mention tag.
    let reply = browser
        .submit_form(
            "/commentaires",
            &[("target", &post.ap_id), ("body", "Je suis intéressée !")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.header("location").expect("location").to_string();
    assert!(
        location.starts_with(&format!("{local_page}#comment-")),
        "{location}"
    );
    let creates = queued(&app, "Create").await;
    let (create, inboxes) = creates.last().expect("create");
    assert_eq!(create["object"]["inReplyTo"], post.ap_id.as_str());
    assert_eq!(inboxes, &vec![format!("{}/inbox", bob.id())]);

    // Bob edits, then deletes his post: applied.
    let mut edited = note(
        &bob,
        "10",
        None,
        "<p>Résidence prolongée #appelAProjets</p>",
    );
    edited["updated"] = json!("2026-01-05T00:00:00Z");
    assert_eq!(
        deliver(&app, &bob, &activity(&bob, "Update", "10", edited)).await,
        StatusCode::ACCEPTED
    );
    // The title changed, and so did the slug: the old address redirects.
    let moved = app.get_html(&local_page).await;
    assert_eq!(moved.status, StatusCode::PERMANENT_REDIRECT);
    let page = app.get_html(&format!("/announcements/{}", post.id)).await;
    assert!(page.body.contains("Résidence prolongée"), "{}", page.body);
    assert_eq!(
        deliver(
            &app,
            &bob,
            &activity(&bob, "Delete", "10", json!(post.ap_id))
        )
        .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.get_html(&format!("/announcements/{}", post.id))
            .await
            .status,
        StatusCode::GONE
    );
    let fil = browser.get("/fil").await;
    assert!(!fil.body.contains(&format!("/announcements/{}/", post.id)));
}

#[tokio::test(flavor = "multi_thread")]
async fn local_comments_federate_validate_and_belong_to_their_author() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    app.create_user("mallory", "member").await;
    app.create_user("modo", "moderator").await;
    let alice_token = token(&app, "alice").await;
    let mallory_token = token(&app, "mallory").await;
    let modo_token = token(&app, "modo").await;
    let ap_id = announcement(&app, &alice_token, "Prêt de projecteurs").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    // A remote follower of alice on another server.
    let fan = remote_actor(&app, "http://fans.example:4321", "fan", 2).await;
    let alice_actor = local_actor(&app, "alice").await;
    follow(&app, &fan.actor, &alice_actor, "accepted").await;

    // Bob replies, alice answers bob through the API.
    let create = activity(
        &bob,
        "Create",
        "1",
        note(&bob, "1", Some(&ap_id), "<p>Dispo ?</p>"),
    );
    assert_eq!(deliver(&app, &bob, &create).await, StatusCode::ACCEPTED);
    let bob_note = format!("{}/statuses/1", bob.id());
    let before = rows_in(&app, "activities").await;
    for (body, code) in [
        ("   ".to_string(), "field.required"),
        ("x".repeat(10_001), "field.comment_body.too_long"),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/comments",
            &alice_token,
            Some(json!({"in_reply_to": bob_note, "body": body})),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["field"], "body");
        assert_eq!(r.json()["errors"][0]["code"], code);
    }
    assert_eq!(all_comments(&app).await.len(), 1);
    assert_eq!(rows_in(&app, "activities").await, before);

    let r = api(
        &app,
        Method::POST,
        "/api/v1/comments",
        &alice_token,
        Some(json!({"in_reply_to": bob_note, "body": "Oui, **samedi**."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    let comment_ap_id = created["ap_id"].as_str().expect("ap_id").to_string();
    let comment_id = created["id"].as_i64().expect("id");
    assert_eq!(
        comment_ap_id,
        format!("http://localhost:8080/comments/{comment_id}")
    );
    let creates = queued(&app, "Create").await;
    let (activity_json, inboxes) = creates.last().expect("create");
    let object = &activity_json["object"];
    assert_eq!(object["type"], "Note");
    assert_eq!(object["inReplyTo"], bob_note.as_str());
    assert_eq!(object["attributedTo"], "http://localhost:8080/users/alice");
    assert!(
        object["content"]
            .as_str()
            .expect("content")
            .contains("<strong>samedi</strong>")
    );
    assert_eq!(object["tag"][0]["type"], "Mention");
    assert_eq!(object["tag"][0]["href"], bob.id());
    assert!(
        object["cc"]
            .as_array()
            .expect("cc")
            .contains(&json!(bob.id()))
    );
    assert_eq!(
        inboxes,
        &vec![
            "http://fans.example:4321/inbox".to_string(),
            format!("{}/inbox", bob.id()),
        ]
    );

    // Its id: the Note for ActivityPub clients, the anchor for browsers.
    let path = path_of(&comment_ap_id);
    let r = app.get(&path, AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["id"], comment_ap_id.as_str());
    assert_eq!(r.json()["inReplyTo"], bob_note.as_str());
    let r = app.get_html(&path).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.header("location")
            .expect("location")
            .ends_with(&format!("#comment-{comment_id}")),
        "{:?}",
        r.header("location")
    );

    // Through the form: a reply to the announcement itself; errors come back on the field.
    let browser = Browser::with_session(&app, &alice).await;
    let r = browser
        .submit_form("/commentaires", &[("target", &ap_id), ("body", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("aria-describedby=\"f-body-hint f-body-error\""),
        "{}",
        r.body
    );
    assert_eq!(all_comments(&app).await.len(), 2);
    let r = browser
        .submit_form(
            "/commentaires",
            &[("target", &ap_id), ("body", "Merci à tous")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = browser.get(&path_of(&ap_id)).await;
    assert!(page.body.contains("Merci à tous"));
    assert!(
        page.body.contains("action=\"/commentaires\""),
        "form for members"
    );
    assert!(
        page.body.contains("/commentaires/repondre?cible="),
        "reply links"
    );
    let reply_page = browser
        .get(&format!("/commentaires/repondre?cible={}", enc(&bob_note)))
        .await;
    assert_eq!(reply_page.status, StatusCode::OK, "{}", reply_page.body);
    assert!(reply_page.body.contains("Dispo ?"));
    assert!(reply_page.body.contains(&format!("value=\"{bob_note}\"")));

    // Someone else cannot edit or delete it; a moderator may delete.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/comments/{comment_id}"),
        &mallory_token,
        Some(json!({"body": "piraté"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/comments/{comment_id}"),
        &mallory_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/comments/{comment_id}"),
        &alice_token,
        Some(json!({"body": "Oui, dimanche."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()["content_html"]
            .as_str()
            .expect("html")
            .contains("dimanche")
    );
    let updates = queued(&app, "Update").await;
    assert_eq!(
        updates.last().expect("update").0["object"]["id"],
        comment_ap_id.as_str()
    );

    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/comments/{comment_id}"),
        &modo_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let deletes = queued(&app, "Delete").await;
    let (delete, inboxes) = deletes.last().expect("delete");
    assert_eq!(delete["actor"], "http://localhost:8080/users/alice");
    assert_eq!(delete["object"]["type"], "Tombstone");
    assert!(inboxes.contains(&format!("{}/inbox", bob.id())));
    let r = app.get(&path, AP).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.json()["type"], "Tombstone");
    // A deleted comment can no longer be edited.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/comments/{comment_id}"),
        &alice_token,
        Some(json!({"body": "encore"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
