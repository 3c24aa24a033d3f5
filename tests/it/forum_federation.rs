//! The forum on the fediverse (issue 13): categories as `Group` actors (WebFinger, follows),
//! FEP-1b12 announces of what is said in them, threads and replies from other servers in
//! Lemmy's and Mastodon's shapes, and moderation (lock, pin, delete) federated.
//!
//! `/work/shared/fixtures/lemmy/` holds Lemmy's `Group`, `Person` and `Follow` only: the
//! community activities below (`Create(Page)`, `Lock`, `Like`, `Add` to `featured`) are
//! written here in Lemmy's documented shape (lemmy `crates/apub/assets/lemmy/activities/…`),
//! not copied from it.

use crate::{
    common::TestApp,
    federation_inbox::{Remote, Signing, deliver, remote_actor, signed_post},
    helpers::{queued, remote_follower, rows_in},
};
use axum::http::StatusCode;
use culturecnous::{
    db::{self, accounts::DbAccount, actors::DbActor, forum::DbCategory},
    federation::objects::person::{ActorType, Person},
    service::{
        self,
        domain_blocks::{BlockOptions, Severity},
        forum::{categories::CategoryInput, threads::ThreadInput},
        reactions::ReactionKind,
    },
};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

const AP: &str = "application/activity+json";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const CATEGORY: &str = "http://localhost:8080/forum/theatre-amateur";
const BOB: &str = "http://remote.example:1234/users/bob";

struct Forum {
    app: TestApp,
    staff: DbAccount,
    alice: DbAccount,
    bob: Remote,
    category: DbCategory,
}

async fn forum() -> Forum {
    let app = TestApp::new().await;
    let staff = app.create_user("regie", "staff").await;
    let alice = app.create_user("alice", "member").await;
    let category = service::forum::categories::create(
        &app.ctx,
        &staff,
        CategoryInput {
            name: "Théâtre amateur".into(),
            description: "Troupes, *répétitions* et salles.".into(),
            slug: String::new(),
        },
    )
    .await
    .expect("category");
    assert_eq!(category.slug, "theatre-amateur");
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    let group = group_actor(&app, &category).await;
    // A remote follower of the category (shared inbox `http://lemmy.example/inbox`).
    remote_follower(&app, "lemmy.example", "carla", &group).await;
    Forum {
        app,
        staff,
        alice,
        bob,
        category,
    }
}

async fn group_actor(app: &TestApp, category: &DbCategory) -> DbActor {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::actors::by_id(&mut conn, category.actor_id)
        .await
        .expect("group")
}

async fn start_thread(f: &Forum, title: &str) -> db::posts::DbPost {
    let data = f.app.federation.to_request_data();
    service::forum::threads::start(
        &data,
        &f.alice,
        "theatre-amateur",
        ThreadInput {
            title: title.into(),
            body: "Qui veut **répéter** samedi ?".into(),
        },
    )
    .await
    .expect("thread")
}

/// The `Announce`s queued, their inner activity, and where they go.
async fn announces(app: &TestApp) -> Vec<(Value, Vec<String>)> {
    queued(app, "Announce").await
}

/// A Lemmy `Create(Page)` addressed to the category (Lemmy 0.19's shape: the Page `to` the
/// community and Public, `audience` the community).
fn lemmy_create_page(n: u32, name: &str) -> Value {
    json!({
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        "actor": BOB,
        "to": [PUBLIC],
        "cc": [CATEGORY],
        "audience": CATEGORY,
        "type": "Create",
        "id": format!("http://remote.example:1234/activities/create/page-{n}"),
        "object": {
            "type": "Page",
            "id": format!("http://remote.example:1234/post/{n}"),
            "attributedTo": BOB,
            "to": [CATEGORY, PUBLIC],
            "cc": [],
            "name": name,
            "content": "<p>Nous cherchons une salle à Épinal.</p>",
            "mediaType": "text/html",
            "source": {"content": "Nous cherchons une salle à Épinal.", "mediaType": "text/markdown"},
            "sensitive": false,
            "published": "2026-11-30T10:00:00Z",
            "language": {"identifier": "fr", "name": "Français"},
            "audience": CATEGORY
        }
    })
}

/// A Mastodon `Create(Note)` whose reply (`in_reply_to`) or mention (none) decides its fate.
fn mastodon_note(n: u32, content: &str, in_reply_to: Option<&str>, mention: bool) -> Value {
    let mut note = json!({
        "type": "Note",
        "id": format!("http://remote.example:1234/users/bob/statuses/{n}"),
        "attributedTo": BOB,
        "content": content,
        "to": [PUBLIC],
        "cc": ["http://remote.example:1234/users/bob/followers"],
        "published": "2026-11-30T11:00:00Z",
        "tag": []
    });
    if let Some(parent) = in_reply_to {
        note["inReplyTo"] = json!(parent);
    }
    if mention {
        note["cc"] = json!([CATEGORY]);
        note["tag"] = json!([{"type": "Mention", "href": CATEGORY,
                              "name": "@theatre-amateur@localhost:8080"}]);
    }
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("http://remote.example:1234/users/bob/statuses/{n}/activity"),
        "type": "Create",
        "actor": BOB,
        "published": "2026-11-30T11:00:00Z",
        "to": note["to"],
        "cc": note["cc"],
        "object": note
    })
}

fn inner_type(announce: &Value) -> &str {
    announce["object"]["type"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_category_is_a_group_found_by_webfinger_and_followed() {
    let f = forum().await;
    let r = f.app.get("/forum/theatre-amateur", AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let doc = r.json();
    assert_eq!(doc["type"], "Group");
    assert_eq!(doc["id"], CATEGORY);
    assert_eq!(doc["preferredUsername"], "theatre-amateur");
    assert_eq!(doc["name"], "Théâtre amateur");
    assert!(
        doc["summary"]
            .as_str()
            .expect("summary")
            .contains("<em>répétitions</em>")
    );
    assert_eq!(
        doc["source"]["content"],
        "Troupes, *répétitions* et salles."
    );
    assert_eq!(doc["inbox"], format!("{CATEGORY}/inbox"));
    assert_eq!(doc["outbox"], format!("{CATEGORY}/outbox"));
    assert_eq!(doc["followers"], format!("{CATEGORY}/followers"));
    assert_eq!(doc["featured"], format!("{CATEGORY}/featured"));
    assert_eq!(doc["attributedTo"], format!("{CATEGORY}/moderators"));
    assert_eq!(doc["moderators"], format!("{CATEGORY}/moderators"));
    assert_eq!(
        doc["endpoints"]["sharedInbox"],
        "http://localhost:8080/inbox"
    );
    assert_eq!(doc["publicKey"]["owner"], CATEGORY);
    assert_eq!(doc["manuallyApprovesFollowers"], false);
    assert_eq!(doc["discoverable"], true);
    assert_eq!(doc["postingRestrictedToMods"], false);
    assert!(doc["published"].is_string());
    // Our own reader takes it as a Group, as it takes Lemmy's community.
    let ours: Person = serde_json::from_value(doc.clone()).expect("our group parses");
    assert_eq!(ours.kind, ActorType::Group);
    let lemmy: Person =
        serde_json::from_str(&culturecnous::testing::fixture("lemmy/objects/group.json"))
            .expect("lemmy group parses");
    assert_eq!(lemmy.kind, ActorType::Group);
    let lemmy_user: Person =
        serde_json::from_str(&culturecnous::testing::fixture("lemmy/objects/person.json"))
            .expect("lemmy person parses");
    assert_eq!(lemmy_user.kind, ActorType::Person);

    // WebFinger: `!theatre-amateur@localhost:8080` on Lemmy is this acct.
    let r = f
        .app
        .get(
            "/.well-known/webfinger?resource=acct:theatre-amateur@localhost:8080",
            "application/jrd+json",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let jrd = r.json();
    assert_eq!(jrd["subject"], "acct:theatre-amateur@localhost:8080");
    assert!(
        jrd["links"]
            .as_array()
            .expect("links")
            .iter()
            .any(|l| l["rel"] == "self" && l["href"] == CATEGORY)
    );
    // Not a person: `/users/theatre-amateur` does not serve it.
    let r = f.app.get("/users/theatre-amateur", AP).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // A Lemmy user follows it through its own inbox: accepted at once.
    let mut follow: Value = serde_json::from_str(&culturecnous::testing::fixture(
        "lemmy/activities/following/follow.json",
    ))
    .expect("fixture");
    follow["actor"] = json!(BOB);
    follow["to"] = json!([CATEGORY]);
    follow["object"] = json!(CATEGORY);
    follow["id"] = json!("http://remote.example:1234/activities/follow/1");
    let body = serde_json::to_vec(&follow).expect("json");
    let r = f
        .app
        .send(signed_post(
            "/forum/theatre-amateur/inbox",
            body,
            &Signing::by(&f.bob),
        ))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let accepts = queued(&f.app, "Accept").await;
    assert_eq!(accepts.len(), 1);
    assert_eq!(accepts[0].0["actor"], CATEGORY);
    assert_eq!(
        accepts[0].1,
        vec!["http://remote.example:1234/users/bob/inbox"]
    );
    let followers = f
        .app
        .get("/forum/theatre-amateur/followers", AP)
        .await
        .json();
    assert_eq!(followers["totalItems"], 2, "{followers}");

    // Undo(Follow) ends it.
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "http://remote.example:1234/activities/undo/1",
        "type": "Undo", "actor": BOB, "to": [CATEGORY], "object": follow,
    });
    assert_eq!(deliver(&f.app, &f.bob, &undo).await, StatusCode::ACCEPTED);
    let followers = f
        .app
        .get("/forum/theatre-amateur/followers", AP)
        .await
        .json();
    assert_eq!(followers["totalItems"], 1, "{followers}");
    // An unknown category's inbox is 404.
    let r = f
        .app
        .send(signed_post(
            "/forum/nope/inbox",
            serde_json::to_vec(&follow).expect("json"),
            &Signing::by(&f.bob),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_thread_and_reply_are_announced_to_the_category_followers_only() {
    let f = forum().await;
    // Alice's own follower on another server must not get the thread as a blog post.
    let alice_actor = crate::helpers::local_actor(&f.app, "alice").await;
    remote_follower(&f.app, "masto.example", "dora", &alice_actor).await;
    let post = start_thread(&f, "Répétition publique").await;

    let all = announces(&f.app).await;
    assert_eq!(all.len(), 2, "{all:?}");
    let (wrapped, inboxes) = &all[0];
    assert_eq!(wrapped["actor"], CATEGORY);
    assert_eq!(wrapped["to"], json!([PUBLIC]));
    assert_eq!(wrapped["cc"], json!([format!("{CATEGORY}/followers")]));
    assert_eq!(inner_type(wrapped), "Create");
    let page = &wrapped["object"]["object"];
    assert_eq!(page["type"], "Page");
    assert_eq!(page["id"], post.ap_id);
    assert_eq!(page["name"], "Répétition publique");
    assert_eq!(page["audience"], CATEGORY);
    assert_eq!(page["cc"], json!([CATEGORY]));
    assert_eq!(page["commentsEnabled"], true);
    assert_eq!(page["stickied"], false);
    assert_eq!(page["mediaType"], "text/html");
    assert_eq!(page["source"]["mediaType"], "text/markdown");
    assert_eq!(page["attributedTo"], alice_actor.ap_id);
    assert!(
        page["url"]
            .as_str()
            .expect("url")
            .contains("/forum/sujets/")
    );
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    // Mastodon's boost of the bare object.
    let (bare, inboxes) = &all[1];
    assert_eq!(bare["object"], post.ap_id);
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    // The author's Create is stored (dereferenceable) but sent nowhere: no blog delivery.
    let creates = queued(&f.app, "Create").await;
    assert_eq!(creates.len(), 1);
    assert!(creates[0].1.is_empty(), "{:?}", creates[0].1);
    // The Page document itself.
    let r = f.app.get(&format!("/forum/sujets/{}", post.id), AP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["type"], "Page");
    // The category's outbox lists its announces.
    let outbox = f.app.get("/forum/theatre-amateur/outbox", AP).await.json();
    assert_eq!(outbox["totalItems"], 2, "{outbox}");

    // A reply: Announce(Create(Note)) to the follower only.
    let carol = f.app.create_user("carol", "member").await;
    let data = f.app.federation.to_request_data();
    let reply = service::comments::comment(&data, &carol, &post.ap_id, "J'en suis !")
        .await
        .expect("reply");
    let all = announces(&f.app).await;
    assert_eq!(all.len(), 3, "a reply is announced once (no bare boost)");
    let (wrapped, inboxes) = &all[2];
    assert_eq!(inner_type(wrapped), "Create");
    let note = &wrapped["object"]["object"];
    assert_eq!(note["type"], "Note");
    assert_eq!(note["id"], reply.ap_id);
    assert_eq!(note["inReplyTo"], post.ap_id);
    assert_eq!(note["audience"], CATEGORY);
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    let creates = queued(&f.app, "Create").await;
    assert_eq!(creates.len(), 2);
    assert!(creates[1].1.is_empty(), "{:?}", creates[1].1);
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_from_lemmy_and_mastodon_become_threads_and_are_relayed() {
    let f = forum().await;
    // Bob follows the category too: what he sends is never sent back to his server.
    let group = group_actor(&f.app, &f.category).await;
    crate::helpers::follow(&f.app, &f.bob.actor, &group, "accepted").await;

    let create = lemmy_create_page(1, "Salle de répétition à Épinal ?");
    assert_eq!(deliver(&f.app, &f.bob, &create).await, StatusCode::ACCEPTED);
    let mut conn = f.app.ctx.conn().await.expect("conn");
    let post = db::posts::by_ap_id(&mut conn, "http://remote.example:1234/post/1")
        .await
        .expect("query")
        .expect("the Page is kept");
    assert_eq!(post.category, "thread");
    assert_eq!(post.title, "Salle de répétition à Épinal ?");
    assert!(!post.local);
    let thread = db::forum::thread(&mut conn, post.id)
        .await
        .expect("query")
        .expect("thread");
    assert_eq!(thread.category_id, f.category.id);
    let all = announces(&f.app).await;
    assert_eq!(all.len(), 2, "{all:?}");
    let (wrapped, inboxes) = &all[0];
    assert_eq!(inner_type(wrapped), "Create");
    assert_eq!(
        wrapped["object"]["id"], create["id"],
        "the original activity id"
    );
    assert_eq!(wrapped["object"]["actor"], BOB);
    assert_eq!(wrapped["object"]["object"]["type"], "Page");
    assert_eq!(
        wrapped["object"]["object"]["name"],
        "Salle de répétition à Épinal ?"
    );
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    assert_eq!(all[1].0["object"], "http://remote.example:1234/post/1");
    // Replayed: nothing more.
    assert_eq!(deliver(&f.app, &f.bob, &create).await, StatusCode::ACCEPTED);
    assert_eq!(announces(&f.app).await.len(), 2);

    // Mastodon: a Note mentioning the category, its first line the title.
    let note = mastodon_note(
        7,
        "<p>Qui joue samedi à Remiremont ?</p><p>Nous avons deux places.</p>",
        None,
        true,
    );
    assert_eq!(deliver(&f.app, &f.bob, &note).await, StatusCode::ACCEPTED);
    let post = db::posts::by_ap_id(&mut conn, "http://remote.example:1234/users/bob/statuses/7")
        .await
        .expect("query")
        .expect("the Note is a thread");
    assert_eq!(post.category, "thread");
    assert_eq!(post.title, "Qui joue samedi à Remiremont ?");
    assert_eq!(announces(&f.app).await.len(), 4);

    // A Note mentioning nobody of ours is no thread.
    let plain = mastodon_note(8, "<p>Bonjour</p>", None, false);
    assert_eq!(deliver(&f.app, &f.bob, &plain).await, StatusCode::ACCEPTED);
    assert!(
        db::posts::by_ap_id(&mut conn, "http://remote.example:1234/users/bob/statuses/8")
            .await
            .expect("query")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_threads_and_replies_are_refused_with_the_reason_and_nothing_stored() {
    let f = forum().await;
    // No title.
    let untitled = lemmy_create_page(2, "  ");
    let body = serde_json::to_vec(&untitled).expect("json");
    let r = f
        .app
        .send(signed_post("/inbox", body, &Signing::by(&f.bob)))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("name"), "{}", r.body);
    assert_eq!(rows_in(&f.app, "posts").await, 0);

    // A remote reply is relayed; once locked, the next one is refused (409), nothing kept.
    let post = start_thread(&f, "Atelier voix").await;
    let reply = mastodon_note(20, "<p>Moi !</p>", Some(&post.ap_id), false);
    assert_eq!(deliver(&f.app, &f.bob, &reply).await, StatusCode::ACCEPTED);
    assert_eq!(rows_in(&f.app, "comments").await, 1);
    let all = announces(&f.app).await;
    let relayed = all.last().expect("relayed reply");
    assert_eq!(relayed.0["object"]["id"], reply["id"]);
    assert_eq!(relayed.0["object"]["object"]["inReplyTo"], post.ap_id);
    assert_eq!(relayed.0["object"]["object"]["audience"], CATEGORY);
    assert_eq!(relayed.1, vec!["http://lemmy.example/inbox".to_string()]);

    service::forum::threads::set_locked(&f.app.ctx, &f.staff, post.id, true)
        .await
        .expect("lock");
    let locks = queued(&f.app, "Lock").await;
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].0["object"], post.ap_id);
    assert_eq!(locks[0].0["actor"], "http://localhost:8080/users/regie");
    let all = announces(&f.app).await;
    let (wrapped, inboxes) = all.last().expect("announced lock");
    assert_eq!(inner_type(wrapped), "Lock");
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    let page = f
        .app
        .get(&format!("/forum/sujets/{}", post.id), AP)
        .await
        .json();
    assert_eq!(page["commentsEnabled"], false);

    let announced = all.len();
    let late = mastodon_note(21, "<p>Trop tard ?</p>", Some(&post.ap_id), false);
    let body = serde_json::to_vec(&late).expect("json");
    let r = f
        .app
        .send(signed_post("/inbox", body, &Signing::by(&f.bob)))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("locked"), "{}", r.body);
    assert_eq!(rows_in(&f.app, "comments").await, 1);
    assert_eq!(announces(&f.app).await.len(), announced);

    // Unlocked: Undo(Lock), announced.
    service::forum::threads::set_locked(&f.app.ctx, &f.staff, post.id, false)
        .await
        .expect("unlock");
    let all = announces(&f.app).await;
    let (wrapped, _) = all.last().expect("announced undo");
    assert_eq!(inner_type(wrapped), "Undo");
    assert_eq!(wrapped["object"]["object"]["type"], "Lock");

    // Deleted: Announce(Delete), then a reply is refused (410), nothing kept.
    service::forum::threads::delete(&f.app.ctx, &f.alice, post.id)
        .await
        .expect("delete");
    let all = announces(&f.app).await;
    let (wrapped, inboxes) = all.last().expect("announced delete");
    assert_eq!(inner_type(wrapped), "Delete");
    assert_eq!(wrapped["object"]["object"]["id"], post.ap_id);
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    let r = f.app.get(&format!("/forum/sujets/{}", post.id), AP).await;
    assert_eq!(r.status, StatusCode::GONE);
    let gone = mastodon_note(22, "<p>Encore là ?</p>", Some(&post.ap_id), false);
    let body = serde_json::to_vec(&gone).expect("json");
    let r = f
        .app
        .send(signed_post("/inbox", body, &Signing::by(&f.bob)))
        .await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert!(r.body.contains("deleted"), "{}", r.body);
    assert_eq!(rows_in(&f.app, "comments").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn blocked_actors_and_domains_cannot_post_a_thread() {
    let f = forum().await;
    {
        let mut conn = f.app.ctx.conn().await.expect("conn");
        db::actors::set_blocked(&mut conn, f.bob.actor.id, Some(chrono::Utc::now()))
            .await
            .expect("block bob");
    }
    let create = lemmy_create_page(3, "Interdit");
    assert_eq!(deliver(&f.app, &f.bob, &create).await, StatusCode::ACCEPTED);
    assert_eq!(rows_in(&f.app, "posts").await, 0);
    assert_eq!(rows_in(&f.app, "forum_threads").await, 0);
    assert!(announces(&f.app).await.is_empty());
    {
        let mut conn = f.app.ctx.conn().await.expect("conn");
        db::actors::set_blocked(&mut conn, f.bob.actor.id, None)
            .await
            .expect("unblock bob");
    }
    service::domain_blocks::block(
        &f.app.ctx,
        "remote.example",
        Severity::Reject,
        &BlockOptions::default(),
    )
    .await
    .expect("block domain");
    let create = lemmy_create_page(4, "Interdit aussi");
    assert_eq!(deliver(&f.app, &f.bob, &create).await, StatusCode::ACCEPTED);
    assert_eq!(rows_in(&f.app, "posts").await, 0);
    assert_eq!(rows_in(&f.app, "forum_threads").await, 0);
    assert!(announces(&f.app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn pins_and_likes_are_announced_and_remote_moderation_is_refused() {
    let f = forum().await;
    let post = start_thread(&f, "Calendrier des festivals").await;
    service::forum::threads::set_pinned(&f.app.ctx, &f.staff, post.id, true)
        .await
        .expect("pin");
    let adds = queued(&f.app, "Add").await;
    assert_eq!(adds.len(), 1);
    assert_eq!(adds[0].0["object"], post.ap_id);
    assert_eq!(adds[0].0["target"], format!("{CATEGORY}/featured"));
    let all = announces(&f.app).await;
    let (wrapped, inboxes) = all.last().expect("announced add");
    assert_eq!(inner_type(wrapped), "Add");
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    let featured = f.app.get("/forum/theatre-amateur/featured", AP).await;
    assert_eq!(featured.status, StatusCode::OK);
    let featured = featured.json();
    assert_eq!(featured["totalItems"], 1);
    assert_eq!(featured["orderedItems"][0]["id"], post.ap_id);
    assert_eq!(featured["orderedItems"][0]["stickied"], true);

    // A remote Lock (Lemmy's LockPage) or unpin: the sender moderates nothing here.
    let lock = json!({
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        "id": "http://remote.example:1234/activities/lock/1",
        "actor": BOB, "to": [PUBLIC], "cc": [CATEGORY], "audience": CATEGORY,
        "type": "Lock", "object": post.ap_id,
    });
    let r = f
        .app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&lock).expect("json"),
            &Signing::by(&f.bob),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let remove = json!({
        "id": "http://remote.example:1234/activities/remove/1",
        "actor": BOB, "to": [PUBLIC], "cc": [CATEGORY], "audience": CATEGORY,
        "type": "Remove", "object": post.ap_id, "target": format!("{CATEGORY}/featured"),
    });
    let r = f
        .app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&remove).expect("json"),
            &Signing::by(&f.bob),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Lemmy's UndoLockPage: refused the same way.
    let undo_lock = json!({
        "id": "http://remote.example:1234/activities/undo/lock-1",
        "actor": BOB, "to": [PUBLIC], "cc": [CATEGORY], "audience": CATEGORY,
        "type": "Undo", "object": lock,
    });
    let r = f
        .app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&undo_lock).expect("json"),
            &Signing::by(&f.bob),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let mut conn = f.app.ctx.conn().await.expect("conn");
    let thread = db::forum::thread(&mut conn, post.id)
        .await
        .expect("query")
        .expect("thread");
    // Nothing of the refused activities was recorded (not even as received).
    for id in [&lock["id"], &remove["id"], &undo_lock["id"]] {
        let id = id.as_str().expect("id");
        let fresh = db::received_activities::mark_received(&mut conn, id)
            .await
            .expect("query");
        assert!(fresh, "{id} was recorded as received");
    }
    assert!(!thread.is_locked() && thread.is_pinned());

    // Bob's Like (Lemmy's Vote): kept and relayed under its id, not back to his server.
    let group = group_actor(&f.app, &f.category).await;
    crate::helpers::follow(&f.app, &f.bob.actor, &group, "accepted").await;
    let like = json!({
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        "id": "http://remote.example:1234/activities/like/1",
        "actor": BOB, "object": post.ap_id, "type": "Like", "audience": CATEGORY,
    });
    assert_eq!(deliver(&f.app, &f.bob, &like).await, StatusCode::ACCEPTED);
    let all = announces(&f.app).await;
    let (wrapped, inboxes) = all.last().expect("announced like");
    assert_eq!(inner_type(wrapped), "Like");
    assert_eq!(wrapped["object"]["id"], like["id"]);
    assert_eq!(wrapped["object"]["object"], post.ap_id);
    assert_eq!(inboxes, &vec!["http://lemmy.example/inbox".to_string()]);
    // Undone: Announce(Undo(Like)) naming the original Like.
    let undo = json!({
        "id": "http://remote.example:1234/activities/undo/like-1",
        "actor": BOB, "type": "Undo", "object": like, "audience": CATEGORY,
    });
    assert_eq!(deliver(&f.app, &f.bob, &undo).await, StatusCode::ACCEPTED);
    let all = announces(&f.app).await;
    let (wrapped, _) = all.last().expect("announced undo");
    assert_eq!(inner_type(wrapped), "Undo");
    assert_eq!(wrapped["object"]["object"]["id"], like["id"]);

    // A member's like: to the author as before, and announced by the category.
    let carol = f.app.create_user("carol", "member").await;
    let before = announces(&f.app).await.len();
    let url = url::Url::parse(&post.ap_id).expect("url");
    service::reactions::react(&f.app.ctx, &carol, ReactionKind::Like, &url)
        .await
        .expect("like");
    let all = announces(&f.app).await;
    assert_eq!(all.len(), before + 1);
    assert_eq!(inner_type(&all[before].0), "Like");
    assert_eq!(
        all[before].0["object"]["actor"],
        "http://localhost:8080/users/carol"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_moved_thread_is_announced_by_its_new_category() {
    let f = forum().await;
    let other = service::forum::categories::create(
        &f.app.ctx,
        &f.staff,
        CategoryInput {
            name: "Musique".into(),
            description: String::new(),
            slug: String::new(),
        },
    )
    .await
    .expect("category");
    let group = group_actor(&f.app, &other).await;
    remote_follower(&f.app, "mbin.example", "eve", &group).await;
    let post = start_thread(&f, "Chorale").await;
    service::forum::threads::move_to(&f.app.ctx, &f.staff, post.id, "musique")
        .await
        .expect("move");
    let all = announces(&f.app).await;
    let (wrapped, inboxes) = all.last().expect("announced update");
    assert_eq!(wrapped["actor"], "http://localhost:8080/forum/musique");
    assert_eq!(inner_type(wrapped), "Update");
    assert_eq!(
        wrapped["object"]["object"]["audience"],
        "http://localhost:8080/forum/musique"
    );
    assert_eq!(inboxes, &vec!["http://mbin.example/inbox".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn lemmy_edits_deletes_and_community_announces_apply() {
    let f = forum().await;
    let create = lemmy_create_page(5, "Stage d'improvisation");
    assert_eq!(deliver(&f.app, &f.bob, &create).await, StatusCode::ACCEPTED);
    let before = announces(&f.app).await.len();

    // Lemmy's Update of the Page (its author edits it): applied and relayed.
    let mut page = create["object"].clone();
    page["name"] = json!("Stage d'improvisation (complet)");
    page["updated"] = json!("2026-11-30T12:00:00Z");
    let update = json!({
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        "actor": BOB, "to": [PUBLIC], "cc": [CATEGORY], "audience": CATEGORY,
        "type": "Update", "id": "http://remote.example:1234/activities/update/page-5",
        "object": page,
    });
    assert_eq!(deliver(&f.app, &f.bob, &update).await, StatusCode::ACCEPTED);
    let mut conn = f.app.ctx.conn().await.expect("conn");
    let post = db::posts::by_ap_id(&mut conn, "http://remote.example:1234/post/5")
        .await
        .expect("query")
        .expect("post");
    assert_eq!(post.title, "Stage d'improvisation (complet)");
    let all = announces(&f.app).await;
    assert_eq!(all.len(), before + 1);
    assert_eq!(inner_type(&all[before].0), "Update");
    assert_eq!(all[before].0["object"]["id"], update["id"]);

    // Lemmy's Delete (the author deletes the post): applied and relayed.
    let delete = json!({
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        "actor": BOB, "to": [PUBLIC], "cc": [CATEGORY], "audience": CATEGORY,
        "type": "Delete", "id": "http://remote.example:1234/activities/delete/page-5",
        "object": "http://remote.example:1234/post/5",
    });
    assert_eq!(deliver(&f.app, &f.bob, &delete).await, StatusCode::ACCEPTED);
    let post = db::posts::by_id(&mut conn, post.id)
        .await
        .expect("query")
        .expect("post");
    assert!(post.deleted_at.is_some());
    let all = announces(&f.app).await;
    assert_eq!(all.len(), before + 2);
    assert_eq!(inner_type(&all[before + 1].0), "Delete");
    assert_eq!(
        all[before + 1].0["object"]["object"]["id"],
        "http://remote.example:1234/post/5"
    );

    // A Lemmy community alice follows announces a post of its own server (Lemmy's
    // `Announce(Create(Page))`): unwrapped and kept as a remote post.
    let community = remote_actor(&f.app, "http://remote.example:1234", "c-main", 1).await;
    diesel::sql_query("UPDATE actors SET kind = 'Group' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(community.actor.id)
        .execute(&mut conn)
        .await
        .expect("a Group");
    let alice_actor = crate::helpers::local_actor(&f.app, "alice").await;
    let mut community_actor = community.actor.clone();
    community_actor.kind = "Group".into();
    crate::helpers::follow(&f.app, &alice_actor, &community_actor, "accepted").await;
    let announce = json!({
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        "actor": community.id(), "to": [PUBLIC],
        "cc": [format!("{}/followers", community.id())],
        "type": "Announce", "id": "http://remote.example:1234/activities/announce/create/9",
        "object": {
            "actor": BOB, "to": [PUBLIC], "cc": [community.id()], "audience": community.id(),
            "type": "Create", "id": "http://remote.example:1234/activities/create/page-9",
            "object": {
                "type": "Page", "id": "http://remote.example:1234/post/9",
                "attributedTo": BOB, "to": [community.id(), PUBLIC], "cc": [],
                "name": "Une annonce de Lemmy",
                "content": "<p>Bonjour la communauté.</p>", "mediaType": "text/html",
                "audience": community.id(), "published": "2026-11-30T10:00:00Z"
            }
        }
    });
    assert_eq!(
        deliver(&f.app, &community, &announce).await,
        StatusCode::ACCEPTED
    );
    let kept = db::posts::by_ap_id(&mut conn, "http://remote.example:1234/post/9")
        .await
        .expect("query")
        .expect("the announced Page is kept");
    assert_eq!(kept.title, "Une annonce de Lemmy");
    assert_eq!(kept.author_actor_id, f.bob.actor.id);
    assert!(!kept.local);
}
