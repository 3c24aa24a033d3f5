//! The announcement channel `annonces` (a `Service`): its actor document, WebFinger, page and
//! place on the home and announcements pages; remote follows accepted and undone; a boost
//! (`Announce`) of every new public local announcement to its followers — not of blog posts,
//! drafts or edits — and the withdrawal of the boost when the announcement is deleted.

use crate::{
    common::TestApp,
    federation_inbox::{deliver, remote_actor},
    helpers::{AP, LOCAL, api, create, enc, local_actor, path_of, queued, remote_follower, token},
};
use axum::http::{Method, StatusCode};
use culturecnous::db;
use serde_json::{Value, json};

const CHANNEL: &str = "http://localhost:8080/users/annonces";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn follow_state(app: &TestApp, follower: &str) -> Option<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let follower = db::actors::by_ap_id(&mut conn, follower)
        .await
        .expect("query")?;
    let channel = db::actors::by_ap_id(&mut conn, CHANNEL)
        .await
        .expect("query")
        .expect("the channel exists");
    db::follows::get(&mut conn, follower.id, channel.id)
        .await
        .expect("query")
        .map(|f| f.state)
}

async fn announcement(app: &TestApp, token: &str, title: &str, draft: bool) -> Value {
    create(
        app,
        token,
        "/api/v1/announcements",
        json!({
            "title": title,
            "body": "Deux semaines de **résidence** pour une compagnie.",
            "kind": "residence",
            "commune": "Tulle",
            "draft": draft,
        }),
    )
    .await
}

/// The channel's Announces queued so far, with the inboxes each goes to.
async fn channel_announces(app: &TestApp) -> Vec<(Value, Vec<String>)> {
    queued(app, "Announce")
        .await
        .into_iter()
        .filter(|(a, _)| a["actor"] == CHANNEL)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_channel_is_a_public_service_found_by_webfinger_and_not_counted_as_a_user() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;

    let r = app.get("/users/annonces", AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let actor = r.json();
    assert_eq!(actor["type"], "Service");
    assert_eq!(actor["id"], CHANNEL);
    assert_eq!(actor["preferredUsername"], "annonces");
    assert_eq!(
        actor["name"],
        format!("Annonces de {}", app.ctx.config.instance.name)
    );
    assert!(
        actor["summary"]
            .as_str()
            .is_some_and(|s| s.contains("annonce") && s.contains(&format!("{LOCAL}/annonces"))),
        "summary: {}",
        actor["summary"]
    );
    assert_eq!(actor["inbox"], format!("{CHANNEL}/inbox"));
    assert_eq!(actor["outbox"], format!("{CHANNEL}/outbox"));
    assert_eq!(actor["followers"], format!("{CHANNEL}/followers"));
    assert_eq!(actor["following"], format!("{CHANNEL}/following"));
    assert_eq!(actor["endpoints"]["sharedInbox"], format!("{LOCAL}/inbox"));
    assert_eq!(actor["manuallyApprovesFollowers"], false);
    assert_eq!(actor["url"], CHANNEL);
    assert_eq!(actor["publicKey"]["owner"], CHANNEL);
    assert!(
        actor["publicKey"]["publicKeyPem"]
            .as_str()
            .is_some_and(|k| k.contains("BEGIN PUBLIC KEY")),
        "{}",
        actor["publicKey"]
    );

    let r = app
        .get(
            "/.well-known/webfinger?resource=acct:annonces@localhost:8080",
            "application/jrd+json",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let jrd = r.json();
    assert_eq!(jrd["subject"], "acct:annonces@localhost:8080");
    let links = jrd["links"].as_array().expect("links");
    assert!(
        links
            .iter()
            .any(|l| l["rel"] == "self" && l["href"] == CHANNEL && l["type"] == AP),
        "{jrd}"
    );

    // One member: the system actors are not users.
    let r = app.get("/nodeinfo/2.1", "application/json").await;
    assert_eq!(r.json()["usage"]["users"]["total"], 1, "{}", r.body);

    // Creating the system actors again (another start) keeps the same channel.
    let again = culturecnous::service::actors::ensure_system_actors(&app.ctx)
        .await
        .expect("system actors");
    assert_eq!(again.channel.ap_id, CHANNEL);
    assert_eq!(
        again.channel.public_key_pem,
        local_actor(&app, "annonces").await.public_key_pem
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn browsers_get_the_channel_page_and_the_handle_shows_on_home_and_announcements() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    announcement(&app, &alice, "Résidence de création à Tulle", false).await;
    create(
        &app,
        &alice,
        "/api/v1/posts",
        json!({"title": "Notre saison au théâtre", "body": "Un article de blog."}),
    )
    .await;

    let page = app.get_html("/users/annonces").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        page.header("content-type")
    );
    assert!(
        page.body.contains("@annonces@localhost:8080"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Suivez"), "the follow hint");
    assert!(page.body.contains("Mastodon"), "the follow hint");
    assert!(page.body.contains("Canal des annonces"));
    assert!(
        page.body.contains("Résidence de création à Tulle"),
        "the latest announcements are listed"
    );
    assert!(
        !page.body.contains("Notre saison au théâtre"),
        "blog posts are not announcements"
    );
    assert!(
        page.body.contains(&format!("href=\"{CHANNEL}\"")),
        "the page links its ActivityPub actor"
    );

    for path in ["/", "/annonces"] {
        let page = app.get_html(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.body.contains("@annonces@localhost:8080")
                && page.body.contains("href=\"/users/annonces\""),
            "{path} shows the channel's handle"
        );
    }

    // The channel writes nothing of its own: no blog, no blog feed.
    for path in ["/blog/annonces", "/blog/annonces/rss.xml"] {
        assert_eq!(
            app.get_html(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    let english = app
        .send(
            axum::http::Request::builder()
                .uri("/users/annonces")
                .header("accept", "text/html")
                .header("cookie", "lang=en")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(english.status, StatusCode::OK);
    assert!(
        english.body.contains("Follow")
            && english.body.contains("Announcement channel")
            && english.body.contains("Every new public announcement"),
        "English on request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_follow_of_the_channel_is_accepted_listed_and_undone() {
    let app = TestApp::new().await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    let follow = json!({
        "id": "http://remote.example:1234/activities/follow-channel",
        "type": "Follow", "actor": bob.id(), "object": CHANNEL,
    });
    assert_eq!(deliver(&app, &bob, &follow).await, StatusCode::ACCEPTED);
    assert_eq!(
        follow_state(&app, bob.id()).await.as_deref(),
        Some("accepted")
    );
    let accepts = queued(&app, "Accept").await;
    assert_eq!(accepts.len(), 1);
    assert_eq!(accepts[0].0["actor"], CHANNEL);
    assert_eq!(accepts[0].0["object"]["id"], follow["id"]);
    assert_eq!(
        accepts[0].1,
        vec!["http://remote.example:1234/users/bob/inbox".to_string()]
    );

    let followers = app.get("/users/annonces/followers", AP).await.json();
    assert_eq!(followers["totalItems"], 1);
    let page = app.get("/users/annonces/followers?page=1", AP).await.json();
    assert_eq!(page["orderedItems"], json!([bob.id()]));

    let undo = json!({
        "id": "http://remote.example:1234/activities/undo-follow-channel",
        "type": "Undo", "actor": bob.id(), "object": follow,
    });
    assert_eq!(deliver(&app, &bob, &undo).await, StatusCode::ACCEPTED);
    assert_eq!(follow_state(&app, bob.id()).await, None);
    let followers = app.get("/users/annonces/followers", AP).await.json();
    assert_eq!(followers["totalItems"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn new_announcements_are_boosted_to_the_followers_but_not_posts_drafts_or_edits() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let channel = local_actor(&app, "annonces").await;
    remote_follower(&app, "mastodon.example", "lea", &channel).await;
    remote_follower(&app, "mastodon.example", "max", &channel).await;
    remote_follower(&app, "other.example", "zoe", &channel).await;

    // A blog post is not an announcement.
    create(
        &app,
        &alice,
        "/api/v1/posts",
        json!({"title": "Notre saison", "body": "Un article."}),
    )
    .await;
    // A draft is not public yet.
    let draft = announcement(&app, &alice, "Appel à projets (brouillon)", true).await;
    assert!(
        channel_announces(&app).await.is_empty(),
        "nothing boosted yet"
    );

    let published = announcement(&app, &alice, "Résidence à Tulle", false).await;
    let boosts = channel_announces(&app).await;
    assert_eq!(boosts.len(), 1, "one boost for one announcement");
    let (announce, inboxes) = &boosts[0];
    assert_eq!(announce["type"], "Announce");
    assert_eq!(announce["actor"], CHANNEL);
    assert_eq!(announce["object"], published["ap_id"]);
    assert_eq!(announce["to"], json!([PUBLIC]));
    let cc = announce["cc"].as_array().expect("cc");
    assert!(
        cc.contains(&json!(format!("{CHANNEL}/followers"))),
        "cc the channel's followers: {announce}"
    );
    assert!(
        cc.contains(&json!(format!("{LOCAL}/users/alice"))),
        "cc the author"
    );
    assert!(
        announce["id"]
            .as_str()
            .is_some_and(|id| id.starts_with(&format!("{LOCAL}/activities/"))),
        "{announce}"
    );
    assert!(announce["@context"].is_array() || announce["@context"].is_string());
    assert_eq!(
        inboxes,
        &vec![
            "http://mastodon.example/inbox".to_string(),
            "http://other.example/inbox".to_string()
        ],
        "one delivery per shared inbox"
    );
    // The boost is public at its id, and is not counted as a member's boost.
    let id = announce["id"].as_str().expect("id");
    let served = app.get(&path_of(id), AP).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.json()["object"], published["ap_id"]);
    let reactions = api(
        &app,
        Method::GET,
        &format!(
            "/api/v1/reactions?object={}",
            enc(published["ap_id"].as_str().expect("ap_id"))
        ),
        &alice,
        None,
    )
    .await;
    assert_eq!(reactions.status, StatusCode::OK, "{}", reactions.body);
    assert_eq!(reactions.json()["boosts"], 0, "{}", reactions.body);

    // An edit is federated as Update (to the channel's followers too), not boosted again.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/announcements/{}", published["id"]),
        &alice,
        Some(json!({"body": "Trois semaines de résidence."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(channel_announces(&app).await.len(), 1, "no boost on edit");
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    assert!(
        updates[0]
            .1
            .contains(&"http://mastodon.example/inbox".to_string()),
        "the channel's followers hold a copy: {:?}",
        updates[0].1
    );

    // Publishing the draft boosts it, once.
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/announcements/{}/publish", draft["id"]),
        &alice,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}: {}", r.status, r.body);
    let boosts = channel_announces(&app).await;
    assert_eq!(boosts.len(), 2);
    assert_eq!(boosts[1].0["object"], draft["ap_id"]);

    // The channel's outbox lists its boosts, newest first.
    let outbox = app.get("/users/annonces/outbox", AP).await.json();
    assert_eq!(outbox["totalItems"], 2, "{outbox}");
    let page = app.get("/users/annonces/outbox?page=1", AP).await.json();
    let items = page["orderedItems"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|a| a["type"] == "Announce"));
    assert_eq!(items[0]["object"], draft["ap_id"]);
    assert_eq!(items[1]["object"], published["ap_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn announcements_published_as_the_page_are_boosted_too_and_without_followers_still_listed() {
    let app = TestApp::new().await;
    app.create_user("claire", "staff").await;
    let staff = token(&app, "claire").await;
    let created = create(
        &app,
        &staff,
        "/api/v1/announcements",
        json!({
            "title": "Appel à projets du département",
            "body": "Pour les compagnies.",
            "kind": "appel_a_projets",
            "as_page": true,
        }),
    )
    .await;
    let boosts = channel_announces(&app).await;
    assert_eq!(boosts.len(), 1);
    assert_eq!(boosts[0].0["object"], created["ap_id"]);
    assert!(boosts[0].1.is_empty(), "no follower, no delivery");
    let outbox = app.get("/users/annonces/outbox", AP).await.json();
    assert_eq!(outbox["totalItems"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_boosted_announcement_tells_the_channel_followers_and_undoes_the_boost() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice = token(&app, "alice").await;
    let channel = local_actor(&app, "annonces").await;
    remote_follower(&app, "mastodon.example", "lea", &channel).await;
    let published = announcement(&app, &alice, "Prêt de projecteurs", false).await;
    let boost = channel_announces(&app).await[0].0.clone();

    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/announcements/{}", published["id"]),
        &alice,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}: {}", r.status, r.body);

    let deletes = queued(&app, "Delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].0["object"]["id"], published["ap_id"]);
    assert_eq!(
        deletes[0].1,
        vec!["http://mastodon.example/inbox".to_string()],
        "the Delete reaches the channel's followers, who hold the boosted copy"
    );
    let undos: Vec<_> = queued(&app, "Undo")
        .await
        .into_iter()
        .filter(|(a, _)| a["actor"] == CHANNEL)
        .collect();
    assert_eq!(undos.len(), 1);
    let (undo, inboxes) = &undos[0];
    assert_eq!(undo["object"]["type"], "Announce");
    assert_eq!(undo["object"]["id"], boost["id"]);
    assert_eq!(undo["object"]["object"], published["ap_id"]);
    assert!(undo["object"].get("@context").is_none());
    assert_eq!(inboxes, &vec!["http://mastodon.example/inbox".to_string()]);

    // A deleted draft was never boosted: nothing to undo.
    let draft = announcement(&app, &alice, "Brouillon", true).await;
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/announcements/{}", draft["id"]),
        &alice,
        None,
    )
    .await;
    assert!(r.status.is_success());
    assert_eq!(
        queued(&app, "Undo")
            .await
            .iter()
            .filter(|(a, _)| a["actor"] == CHANNEL)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_refreshes_the_channel_name_and_tells_its_followers() {
    let app = TestApp::new().await;
    let channel = local_actor(&app, "annonces").await;
    remote_follower(&app, "mastodon.example", "lea", &channel).await;
    // As if `instance.name` had changed since the channel was created.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::actors::set_name_and_summary_if_changed(
            &mut conn,
            channel.id,
            "Annonces d'avant",
            &channel.summary_html,
        )
        .await
        .expect("update");
    }
    let started = culturecnous::service::actors::ensure_system_actors(&app.ctx)
        .await
        .expect("system actors");
    let expected = format!("Annonces de {}", app.ctx.config.instance.name);
    assert_eq!(started.channel.name, expected);
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0].0["actor"], CHANNEL);
    assert_eq!(updates[0].0["object"]["type"], "Service");
    assert_eq!(updates[0].0["object"]["name"], expected);
    assert_eq!(
        updates[0].1,
        vec!["http://mastodon.example/inbox".to_string()]
    );
    // Nothing changed: no Update.
    culturecnous::service::actors::ensure_system_actors(&app.ctx)
        .await
        .expect("system actors");
    assert_eq!(queued(&app, "Update").await.len(), 1);
}
