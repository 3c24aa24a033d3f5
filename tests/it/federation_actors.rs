//! What other servers see: actor documents (content-negotiated), WebFinger, host-meta,
//! NodeInfo, the paged collections and published activities.

use crate::{
    common::{PASSWORD, TestApp},
    federation_inbox::{KEYS, remote_actor},
};
use axum::http::StatusCode;
use chrono::Utc;
use culturecnous::{
    db::{
        self,
        actors::NewActor,
        schema::{accounts, activities, actors, follows},
    },
    federation::objects::person::Person,
    service::accounts::{NewAccountInput, create_account},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

const AP: &str = "application/activity+json";
const LD: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

fn context_has_security(doc: &Value) -> bool {
    doc["@context"]
        .as_array()
        .is_some_and(|c| c.contains(&json!("https://w3id.org/security/v1")))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_is_a_person_with_everything_peers_need_and_no_private_key() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(actors::table.find(alice.actor_id))
            .set((
                actors::summary_html.eq("<p>Danseuse</p>"),
                actors::icon_url.eq("http://localhost:8080/media/avatars/a1.png"),
            ))
            .execute(&mut conn)
            .await
            .expect("profile");
    }
    for accept in [AP, LD] {
        let r = app.get("/users/alice", accept).await;
        assert_eq!(r.status, StatusCode::OK, "{accept}: {}", r.body);
        assert_eq!(r.header("content-type"), Some(AP));
        assert_eq!(r.header("vary"), Some("Accept"));
        assert!(!r.body.contains("PRIVATE"), "private key served");
        let doc = r.json();
        assert!(context_has_security(&doc), "{doc}");
        assert_eq!(doc["type"], "Person");
        assert_eq!(doc["id"], "http://localhost:8080/users/alice");
        assert_eq!(doc["preferredUsername"], "alice");
        assert_eq!(doc["name"], "alice");
        assert_eq!(doc["summary"], "<p>Danseuse</p>");
        assert_eq!(
            doc["icon"]["url"],
            "http://localhost:8080/media/avatars/a1.png"
        );
        assert_eq!(doc["icon"]["mediaType"], "image/png");
        assert_eq!(doc["url"], "http://localhost:8080/users/alice");
        assert_eq!(doc["inbox"], "http://localhost:8080/users/alice/inbox");
        assert_eq!(doc["outbox"], "http://localhost:8080/users/alice/outbox");
        assert_eq!(
            doc["followers"],
            "http://localhost:8080/users/alice/followers"
        );
        assert_eq!(
            doc["following"],
            "http://localhost:8080/users/alice/following"
        );
        assert_eq!(
            doc["endpoints"]["sharedInbox"],
            "http://localhost:8080/inbox"
        );
        assert_eq!(
            doc["publicKey"]["id"],
            "http://localhost:8080/users/alice#main-key"
        );
        assert_eq!(
            doc["publicKey"]["owner"],
            "http://localhost:8080/users/alice"
        );
        assert!(
            doc["publicKey"]["publicKeyPem"]
                .as_str()
                .expect("pem")
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        assert_eq!(doc["discoverable"], true);
        assert_eq!(doc["manuallyApprovesFollowers"], false);
        assert!(doc["published"].is_string());
        // What we serve, we read back.
        let person: Person = serde_json::from_value(doc).expect("parses as a Person");
        let id = person.id.inner().clone();
        person.check(&id).expect("verifies");
    }
    // A browser gets the profile page from the same URL.
    let page = app.get_html("/users/alice").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert_eq!(page.header("vary"), Some("Accept"));
}

#[tokio::test(flavor = "multi_thread")]
async fn structures_and_the_page_are_organizations_and_the_instance_actor_an_application() {
    let app = TestApp::new().await;
    create_account(
        &app.ctx,
        NewAccountInput {
            username: "theatre".into(),
            email: "t@example.org".into(),
            password: PASSWORD.into(),
            kind: "structure".into(),
            role: "member".into(),
            display_name: "Théâtre du Pays".into(),
        },
    )
    .await
    .expect("structure");
    let theatre = app.get("/users/theatre", AP).await.json();
    assert_eq!(theatre["type"], "Organization");
    assert_eq!(theatre["name"], "Théâtre du Pays");
    let page = app.get("/users/departement", AP).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.json()["type"], "Organization");

    let instance = app.get("/actor", AP).await;
    assert_eq!(instance.status, StatusCode::OK);
    assert_eq!(instance.header("content-type"), Some(AP));
    let doc = instance.json();
    assert_eq!(doc["type"], "Application");
    assert_eq!(doc["id"], "http://localhost:8080/actor");
    assert_eq!(doc["inbox"], "http://localhost:8080/actor/inbox");
    assert!(context_has_security(&doc));
    assert!(doc["publicKey"]["publicKeyPem"].is_string());
    assert!(!instance.body.contains("PRIVATE"));
    // Browsers are sent home.
    let browser = app.get_html("/actor").await;
    assert_eq!(browser.status, StatusCode::SEE_OTHER);
    // The instance actor is not served under /users/.
    assert_eq!(
        app.get("/users/actor", AP).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_suspended_and_deleted_actors() {
    let app = TestApp::new().await;
    assert_eq!(
        app.get("/users/nobody", AP).await.status,
        StatusCode::NOT_FOUND
    );
    let bob = app.create_user("bob", "member").await;
    let carol = app.create_user("carol", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(accounts::table.find(bob.id))
        .set(accounts::suspended_at.eq(Some(Utc::now())))
        .execute(&mut conn)
        .await
        .expect("suspend");
    diesel::update(actors::table.find(carol.actor_id))
        .set(actors::deleted_at.eq(Some(Utc::now())))
        .execute(&mut conn)
        .await
        .expect("delete");
    // A suspended account's actor is gone, as Mastodon answers (issue 10).
    assert_eq!(app.get("/users/bob", AP).await.status, StatusCode::GONE);
    assert_eq!(app.get("/users/carol", AP).await.status, StatusCode::GONE);
    let wf = app
        .get(
            "/.well-known/webfinger?resource=acct:bob@localhost:8080",
            "application/jrd+json",
        )
        .await;
    assert_eq!(wf.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn webfinger_finds_members_by_handle_and_url() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    for resource in [
        "acct:alice@localhost:8080",
        "acct:Alice@localhost:8080",
        "alice@localhost:8080",
        "http://localhost:8080/users/alice",
    ] {
        let r = app
            .get(
                &format!(
                    "/.well-known/webfinger?resource={}",
                    url::form_urlencoded::byte_serialize(resource.as_bytes()).collect::<String>()
                ),
                "application/jrd+json",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{resource}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/jrd+json"));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let jrd = r.json();
        assert_eq!(jrd["subject"], "acct:alice@localhost:8080", "{resource}");
        let links = jrd["links"].as_array().expect("links");
        assert!(links.iter().any(|l| l["rel"] == "self"
            && l["type"] == AP
            && l["href"] == "http://localhost:8080/users/alice"));
        assert!(
            links
                .iter()
                .any(|l| l["rel"] == "http://webfinger.net/rel/profile-page")
        );
    }
    for (resource, status) in [
        ("acct:nobody@localhost:8080", StatusCode::NOT_FOUND),
        ("acct:alice@elsewhere.example", StatusCode::NOT_FOUND),
        ("http://localhost:8080/users/nobody", StatusCode::NOT_FOUND),
        ("mailto:alice", StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .get(
                &format!("/.well-known/webfinger?resource={resource}"),
                "application/jrd+json",
            )
            .await;
        assert_eq!(r.status, status, "{resource}");
    }
    let missing = app
        .get("/.well-known/webfinger", "application/jrd+json")
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn webfinger_finds_the_instance_actor_by_origin_and_hides_private_actors() {
    let app = TestApp::new().await;
    for resource in [
        "http://localhost:8080/",
        "http://localhost:8080",
        "acct:localhost:8080@localhost:8080",
        "http://localhost:8080/actor",
    ] {
        let r = app
            .get(
                &format!("/.well-known/webfinger?resource={resource}"),
                "application/jrd+json",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{resource}: {}", r.body);
        let jrd = r.json();
        let links = jrd["links"].as_array().expect("links");
        assert!(
            links
                .iter()
                .any(|l| l["rel"] == "self" && l["href"] == "http://localhost:8080/actor"),
            "{resource}: {jrd}"
        );
        assert!(
            links
                .iter()
                .any(|l| l["rel"] == "https://www.w3.org/ns/activitystreams#Application")
        );
    }
    // A private workspace actor: not discoverable, same answer as nothing.
    let keys = &KEYS[0];
    let mut conn = app.ctx.conn().await.expect("conn");
    db::actors::insert(
        &mut conn,
        &NewActor {
            ap_id: "http://localhost:8080/workspaces/secret".into(),
            kind: "Group".into(),
            username: "secret".into(),
            domain: "localhost:8080".into(),
            local: true,
            name: "Projet confidentiel".into(),
            summary_html: String::new(),
            icon_url: None,
            url: None,
            inbox_url: "http://localhost:8080/workspaces/secret/inbox".into(),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            following_url: None,
            public_key_pem: keys.public_key.clone(),
            private_key_pem: Some(keys.private_key.clone()),
            manually_approves_followers: true,
            discoverable: false,
            published: Utc::now(),
            last_refreshed_at: Utc::now(),
        },
    )
    .await
    .expect("workspace actor");
    for resource in [
        "acct:secret@localhost:8080",
        "http://localhost:8080/workspaces/secret",
    ] {
        let r = app
            .get(
                &format!("/.well-known/webfinger?resource={resource}"),
                "application/jrd+json",
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{resource}");
    }
    assert_eq!(
        app.get("/users/secret", AP).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn host_meta_points_to_webfinger() {
    let app = TestApp::new().await;
    let r = app
        .get("/.well-known/host-meta", "application/xrd+xml")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("application/xrd+xml")
    );
    assert!(
        r.body
            .contains("template=\"http://localhost:8080/.well-known/webfinger?resource={uri}\"")
    );
    let json = app
        .get("/.well-known/host-meta.json", "application/json")
        .await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(
        json.json()["links"][0]["template"],
        "http://localhost:8080/.well-known/webfinger?resource={uri}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nodeinfo_says_what_runs_here_and_counts_users_and_posts() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let links = app.get("/.well-known/nodeinfo", "application/json").await;
    assert_eq!(links.status, StatusCode::OK);
    let links = links.json();
    assert_eq!(
        links["links"][0]["rel"],
        "http://nodeinfo.diaspora.software/ns/schema/2.1"
    );
    assert_eq!(
        links["links"][0]["href"],
        "http://localhost:8080/nodeinfo/2.1"
    );

    let r = app.get("/nodeinfo/2.1", "application/json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .contains("nodeinfo.diaspora.software/ns/schema/2.1")
    );
    let info = r.json();
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "culturecnous");
    assert_eq!(info["software"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["protocols"], json!(["activitypub"]));
    assert_eq!(info["openRegistrations"], true);
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert_eq!(info["usage"]["users"]["activeMonth"], 2);
    assert_eq!(info["usage"]["users"]["activeHalfyear"], 2);
    assert_eq!(info["usage"]["localPosts"], 0);

    // A public Create counts as a post; a private one does not; an old login is not active.
    let mut conn = app.ctx.conn().await.expect("conn");
    for (n, public) in [(1, true), (2, false)] {
        diesel::insert_into(activities::table)
            .values((
                activities::ap_id.eq(format!("http://localhost:8080/activities/c{n}")),
                activities::kind.eq("Create"),
                activities::actor_id.eq(alice.actor_id),
                activities::data.eq(json!({})),
                activities::public.eq(public),
            ))
            .execute(&mut conn)
            .await
            .expect("activity");
    }
    diesel::update(accounts::table.filter(accounts::username.eq("bob")))
        .set((
            accounts::created_at.eq(Utc::now() - chrono::Duration::days(100)),
            accounts::last_login_at.eq(Some(Utc::now() - chrono::Duration::days(40))),
        ))
        .execute(&mut conn)
        .await
        .expect("old login");
    let closed = TestApp::with_config(|c| c.registration.open = false).await;
    let info = app.get("/nodeinfo/2.1", "application/json").await.json();
    assert_eq!(info["usage"]["localPosts"], 1);
    assert_eq!(info["usage"]["users"]["activeMonth"], 1);
    assert_eq!(info["usage"]["users"]["activeHalfyear"], 2);
    let closed_info = closed.get("/nodeinfo/2.1", "application/json").await.json();
    assert_eq!(closed_info["openRegistrations"], false);
}

async fn add_followers(app: &TestApp, followee_actor: i64, n: usize, state: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    for i in 0..n {
        let actor = db::actors::insert(
            &mut conn,
            &NewActor {
                ap_id: format!("https://f{i}-{state}.example/users/u"),
                kind: "Person".into(),
                username: "u".into(),
                domain: format!("f{i}-{state}.example"),
                local: false,
                name: String::new(),
                summary_html: String::new(),
                icon_url: None,
                url: None,
                inbox_url: format!("https://f{i}-{state}.example/users/u/inbox"),
                shared_inbox_url: None,
                outbox_url: None,
                followers_url: None,
                following_url: None,
                public_key_pem: KEYS[0].public_key.clone(),
                private_key_pem: None,
                manually_approves_followers: false,
                discoverable: true,
                published: Utc::now(),
                last_refreshed_at: Utc::now(),
            },
        )
        .await
        .expect("actor");
        diesel::insert_into(follows::table)
            .values((
                follows::follower_id.eq(actor.id),
                follows::followee_id.eq(followee_actor),
                follows::state.eq(state),
                follows::activity_ap_id.eq(format!("https://f{i}-{state}.example/follow")),
            ))
            .execute(&mut conn)
            .await
            .expect("follow");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn followers_are_a_paged_ordered_collection_and_can_be_hidden() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    add_followers(&app, alice.actor_id, 45, "accepted").await;
    add_followers(&app, alice.actor_id, 2, "pending").await;
    let base = "http://localhost:8080/users/alice/followers";

    let r = app.get("/users/alice/followers", AP).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some(AP));
    let c = r.json();
    assert_eq!(c["type"], "OrderedCollection");
    assert_eq!(c["id"], base);
    assert_eq!(c["totalItems"], 45);
    assert_eq!(c["first"], format!("{base}?page=1"));

    let p1 = app.get("/users/alice/followers?page=1", AP).await.json();
    assert_eq!(p1["type"], "OrderedCollectionPage");
    assert_eq!(p1["partOf"], base);
    assert_eq!(p1["orderedItems"].as_array().expect("items").len(), 40);
    assert_eq!(p1["next"], format!("{base}?page=2"));
    let p2 = app.get("/users/alice/followers?page=2", AP).await.json();
    let items = p2["orderedItems"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    assert!(p2.get("next").is_none());
    assert!(items.iter().all(|i| {
        i.as_str()
            .unwrap_or_default()
            .ends_with("-accepted.example/users/u")
    }));
    assert_eq!(
        app.get("/users/alice/followers?page=zero", AP).await.status,
        StatusCode::BAD_REQUEST
    );

    // Hidden network: counts stay, items go.
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(accounts::table.find(alice.id))
        .set(accounts::hide_network.eq(true))
        .execute(&mut conn)
        .await
        .expect("hide");
    for path in ["/users/alice/followers", "/users/alice/followers?page=1"] {
        let hidden = app.get(path, AP).await.json();
        assert_eq!(hidden["totalItems"], 45, "{path}");
        assert!(hidden.get("orderedItems").is_none(), "{path}: {hidden}");
        assert!(hidden.get("first").is_none(), "{path}: {hidden}");
    }
    assert_eq!(
        app.get("/users/nobody/followers", AP).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn following_lists_accepted_follows() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    let eve = remote_actor(&app, "http://remote.example:1234", "eve", 1).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    for (who, state) in [(&bob, "accepted"), (&eve, "pending")] {
        diesel::insert_into(follows::table)
            .values((
                follows::follower_id.eq(alice.actor_id),
                follows::followee_id.eq(who.actor.id),
                follows::state.eq(state),
                follows::activity_ap_id.eq(format!("http://localhost:8080/activities/{state}")),
            ))
            .execute(&mut conn)
            .await
            .expect("follow");
    }
    let c = app.get("/users/alice/following", AP).await.json();
    assert_eq!(c["totalItems"], 1);
    let page = app.get("/users/alice/following?page=1", AP).await.json();
    assert_eq!(page["orderedItems"], json!([bob.id()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outbox_and_activity_ids_serve_public_activities_only() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let public_id = uuid::Uuid::new_v4();
    let private_id = uuid::Uuid::new_v4();
    let mut conn = app.ctx.conn().await.expect("conn");
    for (uuid, kind, public) in [(public_id, "Update", true), (private_id, "Follow", false)] {
        let ap_id = app.ctx.urls.activity(&uuid);
        diesel::insert_into(activities::table)
            .values((
                activities::ap_id.eq(&ap_id),
                activities::kind.eq(kind),
                activities::actor_id.eq(alice.actor_id),
                activities::data.eq(json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": ap_id, "type": kind, "actor": "http://localhost:8080/users/alice"
                })),
                activities::public.eq(public),
            ))
            .execute(&mut conn)
            .await
            .expect("activity");
    }
    let outbox = app.get("/users/alice/outbox", AP).await.json();
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 1);
    let page = app.get("/users/alice/outbox?page=1", AP).await.json();
    let items = page["orderedItems"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "Update");
    assert!(items[0].get("@context").is_none());

    let r = app.get(&format!("/activities/{public_id}"), AP).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some(AP));
    assert_eq!(r.json()["type"], "Update");
    for path in [
        format!("/activities/{private_id}"),
        format!("/activities/{}", uuid::Uuid::new_v4()),
        "/activities/not-a-uuid".to_string(),
    ] {
        assert_eq!(
            app.get(&path, AP).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The instance actor's outbox exists (empty).
    let instance = app.get("/actor/outbox", AP).await.json();
    assert_eq!(instance["totalItems"], 0);
}
