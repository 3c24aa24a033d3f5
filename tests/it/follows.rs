//! Follows, both ways: inbound Follow → Accept/Reject, Undo; outbound by handle or URL
//! (pending until Accept, Reject handled, unfollow sends Undo), through the service, the JSON
//! API and the page; remote actors fetched signed, cached and refreshed; profile updates sent
//! to followers; and two real instances following each other over HTTP.

use crate::{
    common::{PASSWORD, TestApp},
    federation_inbox::{KEYS, Remote, Signing, deliver, remote_actor, signed_post, stored},
    helpers::{Browser, api, enc, queued, token},
};
use axum::{
    Json, Router,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use culturecnous::{
    db::{
        self,
        schema::{actors, deliveries},
    },
    federation::objects::person::Person,
    service::{
        self,
        accounts::{NewAccountInput, create_account},
        follows::{FollowState, request_follow, unfollow},
    },
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rsa::{RsaPrivateKey, pkcs8::DecodePrivateKey};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

// ---------------------------------------------------------------------------------------------
// A remote server stand-in: WebFinger and actor documents, recording what it is asked.

#[derive(Clone, Default)]
struct RemoteState {
    actors: Arc<Mutex<HashMap<String, Value>>>,
    requests: Arc<Mutex<Vec<(String, HeaderMap)>>>,
    base: Arc<Mutex<String>>,
    /// How long actor documents take to come.
    delay: Arc<Mutex<Duration>>,
}

struct FakeRemote {
    base: String,
    host: String,
    state: RemoteState,
}

#[derive(serde::Deserialize)]
struct WebfingerQuery {
    resource: String,
}

async fn fake_webfinger(
    State(state): State<RemoteState>,
    Query(q): Query<WebfingerQuery>,
    headers: HeaderMap,
) -> Response {
    state
        .requests
        .lock()
        .expect("lock")
        .push((format!("webfinger {}", q.resource), headers));
    let base = state.base.lock().expect("lock").clone();
    let user = q
        .resource
        .strip_prefix("acct:")
        .and_then(|r| r.split('@').next())
        .unwrap_or_default()
        .to_string();
    if !state.actors.lock().expect("lock").contains_key(&user) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut response = Json(json!({
        "subject": q.resource,
        "links": [{"rel": "self", "type": "application/activity+json",
                   "href": format!("{base}/users/{user}")}]
    }))
    .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/jrd+json".parse().expect("ct"),
    );
    response
}

async fn fake_actor(
    State(state): State<RemoteState>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Response {
    state
        .requests
        .lock()
        .expect("lock")
        .push((format!("actor {user}"), headers));
    let delay = *state.delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    match state.actors.lock().expect("lock").get(&user) {
        Some(doc) => {
            let mut response = doc.to_string().into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                "application/activity+json".parse().expect("ct"),
            );
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl FakeRemote {
    async fn start() -> FakeRemote {
        let state = RemoteState::default();
        let app = Router::new()
            .route("/.well-known/webfinger", get(fake_webfinger))
            .route("/users/{user}", get(fake_actor))
            .fallback(|| async { StatusCode::ACCEPTED })
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let host = format!("localhost:{port}");
        let base = format!("http://{host}");
        *state.base.lock().expect("lock") = base.clone();
        FakeRemote { base, host, state }
    }

    fn id(&self, user: &str) -> String {
        format!("{}/users/{user}", self.base)
    }

    /// Publishes an actor document for `user`, signing with key number `key`.
    fn add_actor(&self, user: &str, name: &str, key: usize) -> Value {
        let id = self.id(user);
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": user,
            "name": name,
            "summary": "<p>Compagnie de théâtre</p>",
            "inbox": format!("{id}/inbox"),
            "outbox": format!("{id}/outbox"),
            "followers": format!("{id}/followers"),
            "endpoints": {"sharedInbox": format!("{}/inbox", self.base)},
            "publicKey": {"id": format!("{id}#main-key"), "owner": id,
                          "publicKeyPem": KEYS[key].public_key},
        });
        self.state
            .actors
            .lock()
            .expect("lock")
            .insert(user.to_string(), doc.clone());
        doc
    }

    fn signing(&self, user: &str, key: usize) -> Signing {
        Signing::new(
            RsaPrivateKey::from_pkcs8_pem(&KEYS[key].private_key).expect("key"),
            format!("{}#main-key", self.id(user)),
        )
    }

    fn requests(&self) -> Vec<(String, HeaderMap)> {
        self.state.requests.lock().expect("lock").clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn follow_state(app: &TestApp, follower: &str, followee: &str) -> Option<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let follower = db::actors::by_ap_id(&mut conn, follower)
        .await
        .expect("query")?;
    let followee = db::actors::by_ap_id(&mut conn, followee)
        .await
        .expect("query")?;
    db::follows::get(&mut conn, follower.id, followee.id)
        .await
        .expect("query")
        .map(|f| f.state)
}

const ALICE: &str = "http://localhost:8080/users/alice";

// ---------------------------------------------------------------------------------------------
// Inbound

#[tokio::test(flavor = "multi_thread")]
async fn follow_of_the_instance_actor_is_rejected() {
    let app = TestApp::new().await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    let follow = json!({
        "id": "http://remote.example:1234/activities/f-instance",
        "type": "Follow",
        "actor": bob.id(),
        "object": "http://localhost:8080/actor",
    });
    assert_eq!(deliver(&app, &bob, &follow).await, StatusCode::ACCEPTED);
    assert_eq!(stored(&app).await.follows, 0);
    let rejects = queued(&app, "Reject").await;
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].0["object"]["id"], follow["id"]);
    assert_eq!(rejects[0].0["actor"], "http://localhost:8080/actor");
    assert_eq!(
        rejects[0].1,
        vec!["http://remote.example:1234/users/bob/inbox".to_string()]
    );
    assert!(queued(&app, "Accept").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_actor_and_structures_accept_follows() {
    let app = TestApp::new().await;
    create_account(
        &app.ctx,
        NewAccountInput {
            username: "mediatheque".into(),
            email: "m@example.org".into(),
            password: PASSWORD.into(),
            kind: "structure".into(),
            role: "member".into(),
            display_name: "Médiathèque".into(),
        },
    )
    .await
    .expect("structure");
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    for (n, target) in [
        (1, "http://localhost:8080/users/departement"),
        (2, "http://localhost:8080/users/mediatheque"),
    ] {
        let follow = json!({
            "id": format!("http://remote.example:1234/activities/f-{n}"),
            "type": "Follow", "actor": bob.id(), "object": target,
        });
        assert_eq!(deliver(&app, &bob, &follow).await, StatusCode::ACCEPTED);
        assert_eq!(
            follow_state(&app, bob.id(), target).await.as_deref(),
            Some("accepted")
        );
    }
    assert_eq!(queued(&app, "Accept").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn undo_follow_removes_the_follower_and_only_its_author_may_undo() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    let eve = remote_actor(&app, "http://remote.example:1234", "eve", 1).await;
    let follow = json!({
        "id": "http://remote.example:1234/activities/f-undo",
        "type": "Follow", "actor": bob.id(), "object": ALICE,
    });
    assert_eq!(deliver(&app, &bob, &follow).await, StatusCode::ACCEPTED);
    assert_eq!(
        follow_state(&app, bob.id(), ALICE).await.as_deref(),
        Some("accepted")
    );
    // Eve cannot undo Bob's follow, neither by id nor embedded.
    let forged = json!({
        "id": "http://remote.example:1234/activities/undo-forged",
        "type": "Undo", "actor": eve.id(), "object": follow["id"],
    });
    assert_eq!(deliver(&app, &eve, &forged).await, StatusCode::BAD_REQUEST);
    assert_eq!(
        follow_state(&app, bob.id(), ALICE).await.as_deref(),
        Some("accepted")
    );
    let undo = json!({
        "id": "http://remote.example:1234/activities/undo-1",
        "type": "Undo", "actor": bob.id(), "object": follow,
    });
    assert_eq!(deliver(&app, &bob, &undo).await, StatusCode::ACCEPTED);
    assert_eq!(follow_state(&app, bob.id(), ALICE).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn inbox_processing_is_cut_at_nine_seconds_with_503() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let remote = FakeRemote::start().await;
    remote.add_actor("slow", "Slow", 1);
    *remote.state.delay.lock().expect("lock") = Duration::from_secs(30);
    let before = stored(&app).await;
    let follow = json!({
        "id": format!("{}/activities/slow-follow", remote.base),
        "type": "Follow", "actor": remote.id("slow"), "object": ALICE,
    });
    let started = std::time::Instant::now();
    let r = app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&follow).expect("json"),
            &remote.signing("slow", 1),
        ))
        .await;
    let elapsed = started.elapsed();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(
        elapsed >= Duration::from_millis(8_500) && elapsed < Duration::from_secs(12),
        "{elapsed:?}"
    );
    assert_eq!(stored(&app).await, before);
}

// ---------------------------------------------------------------------------------------------
// Outbound

#[tokio::test(flavor = "multi_thread")]
async fn following_by_handle_stays_pending_until_accepted() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let remote = FakeRemote::start().await;
    remote.add_actor("carol", "Carol du Fédivers", 1);
    remote.add_actor("eve", "Eve", 2);
    let data = app.federation.to_request_data();
    let carol = remote.id("carol");

    let state = request_follow(&data, &alice, &format!("@carol@{}", remote.host))
        .await
        .expect("follow");
    assert_eq!(state, FollowState::Pending);
    assert_eq!(
        follow_state(&app, ALICE, &carol).await.as_deref(),
        Some("pending")
    );
    // Asking again changes nothing and sends nothing more.
    assert_eq!(
        request_follow(&data, &alice, &carol).await.expect("again"),
        FollowState::Pending
    );
    let sent = queued(&app, "Follow").await;
    assert_eq!(sent.len(), 1);
    let (follow, inboxes) = &sent[0];
    assert_eq!(follow["actor"], ALICE);
    assert_eq!(follow["object"], carol);
    assert_eq!(inboxes, &vec![format!("{carol}/inbox")]);
    // The actor was cached, its summary cleaned.
    let mut conn = app.ctx.conn().await.expect("conn");
    let cached = db::actors::by_ap_id(&mut conn, &carol)
        .await
        .expect("query")
        .expect("cached");
    assert_eq!(cached.name, "Carol du Fédivers");
    assert_eq!(cached.domain, remote.host);
    assert!(!cached.local);
    // WebFinger, then the actor fetched with the instance actor's signature.
    let requests = remote.requests();
    assert!(requests[0].0.starts_with("webfinger acct:carol@"));
    let (_, fetch_headers) = requests
        .iter()
        .find(|(what, _)| what == "actor carol")
        .expect("actor fetched");
    let signature = fetch_headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .expect("signed fetch");
    assert!(
        signature.contains("keyId=\"http://localhost:8080/actor#main-key\""),
        "{signature}"
    );

    // An Accept from someone else is refused; Carol's own is taken.
    let accept = |actor: &str, n: u32| {
        json!({
            "id": format!("{}/activities/accept-{n}", remote.base),
            "type": "Accept",
            "actor": actor,
            "object": {"id": follow["id"], "type": "Follow", "actor": ALICE, "object": carol},
        })
    };
    let forged = app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&accept(&remote.id("eve"), 1)).expect("json"),
            &remote.signing("eve", 2),
        ))
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.body);
    assert_eq!(
        follow_state(&app, ALICE, &carol).await.as_deref(),
        Some("pending")
    );
    let genuine = app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&accept(&carol, 2)).expect("json"),
            &remote.signing("carol", 1),
        ))
        .await;
    assert_eq!(genuine.status, StatusCode::ACCEPTED, "{}", genuine.body);
    assert_eq!(
        follow_state(&app, ALICE, &carol).await.as_deref(),
        Some("accepted")
    );

    // Unfollow: the row goes, an Undo of the same Follow is sent.
    unfollow(&data, &alice, &format!("carol@{}", remote.host))
        .await
        .expect("unfollow");
    assert_eq!(follow_state(&app, ALICE, &carol).await, None);
    let undos = queued(&app, "Undo").await;
    assert_eq!(undos.len(), 1);
    assert_eq!(undos[0].0["object"]["id"], follow["id"]);
    assert_eq!(undos[0].0["object"]["type"], "Follow");
    assert_eq!(undos[0].1, vec![format!("{carol}/inbox")]);
    let again = unfollow(&data, &alice, &carol)
        .await
        .expect_err("not following");
    assert_eq!(again.fields[0].field, "target");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reject_by_id_is_recorded_and_asking_again_sends_a_new_follow() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let remote = FakeRemote::start().await;
    remote.add_actor("dave", "Dave", 1);
    let data = app.federation.to_request_data();
    let dave = remote.id("dave");
    assert_eq!(
        request_follow(&data, &alice, &dave).await.expect("follow"),
        FollowState::Pending
    );
    let follow_id = queued(&app, "Follow").await[0].0["id"].clone();
    // Mitra names the Follow by id only.
    let reject = json!({
        "id": format!("{}/activities/reject-1", remote.base),
        "type": "Reject", "actor": dave, "object": follow_id, "to": ALICE,
    });
    let r = app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&reject).expect("json"),
            &remote.signing("dave", 1),
        ))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(
        follow_state(&app, ALICE, &dave).await.as_deref(),
        Some("rejected")
    );
    assert_eq!(
        request_follow(&data, &alice, &dave).await.expect("again"),
        FollowState::Pending
    );
    let follows_sent = queued(&app, "Follow").await;
    assert_eq!(follows_sent.len(), 2);
    assert_ne!(follows_sent[0].0["id"], follows_sent[1].0["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn local_accounts_are_followed_at_once_and_oneself_not_at_all() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    app.create_user("carol", "member").await;
    let data = app.federation.to_request_data();
    assert_eq!(
        request_follow(&data, &alice, "carol@localhost:8080")
            .await
            .expect("local"),
        FollowState::Accepted
    );
    assert_eq!(
        request_follow(&data, &alice, "http://localhost:8080/actor")
            .await
            .expect("instance actor"),
        FollowState::Rejected
    );
    let own = request_follow(&data, &alice, "alice@localhost:8080")
        .await
        .expect_err("self");
    assert_eq!(own.fields[0].message_key, "field.target.self");
    let unknown = request_follow(&data, &alice, "nobody@localhost:8080")
        .await
        .expect_err("unknown");
    assert_eq!(unknown.fields[0].field, "target");
    // Nothing goes over the network for local follows.
    assert_eq!(stored(&app).await.deliveries, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn private_and_link_local_targets_are_refused_as_a_field_error() {
    let app = TestApp::with_config(|c| c.federation.allow_private_addresses = false).await;
    app.create_user("alice", "member").await;
    let token = token(&app, "alice").await;
    let before = stored(&app).await;
    for target in [
        "http://127.0.0.1:9/",
        "http://169.254.169.254/",
        "http://[::1]:9/users/x",
        "bob@127.0.0.1:9",
        "http://localhost:9/users/x",
        "bob@10.0.0.1",
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/follows",
            &token,
            Some(json!({ "target": target })),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{target}: {}",
            r.body
        );
        let problem = r.json();
        assert_eq!(problem["field"], "target", "{target}");
        assert_eq!(
            problem["errors"][0]["code"], "field.target.forbidden",
            "{target}"
        );
    }
    assert_eq!(stored(&app).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_follows_lists_and_unfollows() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("carol", "member").await;
    let token = token(&app, "alice").await;
    let remote = FakeRemote::start().await;
    remote.add_actor("zoe", "Zoé", 1);

    let r = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &token,
        Some(json!({"target": format!("zoe@{}", remote.host)})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!({"state": "pending"}));
    let r = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &token,
        Some(json!({"target": "http://localhost:8080/users/carol"})),
    )
    .await;
    assert_eq!(r.json(), json!({"state": "accepted"}));

    let list = api(&app, Method::GET, "/api/v1/follows", &token, None).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.json()["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["handle"], "carol@localhost:8080");
    assert_eq!(items[1]["state"], "pending");

    let bad = api(
        &app,
        Method::POST,
        "/api/v1/follows",
        &token,
        Some(json!({"target": "pas un compte"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["field"], "target");
    let missing = api(&app, Method::DELETE, "/api/v1/follows", &token, None).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);

    let uri = format!(
        "/api/v1/follows?target={}",
        enc(&format!("zoe@{}", remote.host))
    );
    let gone = api(&app, Method::DELETE, &uri, &token, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_eq!(queued(&app, "Undo").await.len(), 1);
    let again = api(&app, Method::DELETE, &uri, &token, None).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

    let anonymous = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/follows")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"target":"carol@localhost:8080"}"#))
                .expect("request"),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_follow_page_reports_errors_next_to_the_field_and_lists_follows() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    app.create_user("carol", "member").await;
    let browser = Browser::with_session(&app, &alice).await;

    let page = browser.get("/suivre").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<h1>Suivre un compte du fédivers</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<label for=\"f-target\">"));
    assert!(page.body.contains("aria-describedby=\"f-target-hint\""));

    let csrf = browser.csrf.as_str();
    let wrong = browser
        .post_form(
            "/suivre",
            &[("csrf_token", csrf), ("target", "pas un compte")],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("aria-invalid=\"true\""));
    assert!(wrong.body.contains("id=\"f-target-error\""));
    assert!(
        wrong
            .body
            .contains("aria-describedby=\"f-target-hint f-target-error\""),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("value=\"pas un compte\""));

    let forged = browser
        .post_form(
            "/suivre",
            &[("csrf_token", "faux"), ("target", "carol@localhost:8080")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(stored(&app).await.follows, 0);

    let done = browser
        .post_form(
            "/suivre",
            &[("csrf_token", csrf), ("target", "carol@localhost:8080")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let listed = browser.get("/suivre").await;
    assert!(
        listed.body.contains("@carol@localhost:8080"),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("Ne plus suivre"));

    let stopped = browser
        .post_form(
            "/suivre/arreter",
            &[
                ("csrf_token", csrf),
                ("target", "http://localhost:8080/users/carol"),
            ],
        )
        .await;
    assert_eq!(stopped.status, StatusCode::SEE_OTHER, "{}", stopped.body);
    assert_eq!(stored(&app).await.follows, 0);

    // Visitors are sent to the login page.
    let anonymous = app.get_html("/suivre").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

// ---------------------------------------------------------------------------------------------
// Remote actors: refresh and profile updates

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_remote_actor_is_fetched_again() {
    let app = TestApp::new().await;
    let remote = FakeRemote::start().await;
    remote.add_actor("carol", "Ancien nom", 1);
    let data = app.federation.to_request_data();
    let carol = remote.id("carol");
    let id: activitypub_federation::fetch::object_id::ObjectId<db::actors::DbActor> =
        url::Url::parse(&carol).expect("url").into();
    let first = id.dereference(&data).await.expect("fetch");
    assert_eq!(first.name, "Ancien nom");
    remote.add_actor("carol", "Nouveau nom", 1);
    // Fresh: served from the cache.
    let cached = id
        .dereference(&data.reset_request_count())
        .await
        .expect("cache");
    assert_eq!(cached.name, "Ancien nom");
    // A day old: fetched again.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(actors::table.filter(actors::ap_id.eq(&carol)))
            .set(actors::last_refreshed_at.eq(chrono::Utc::now() - chrono::Duration::hours(25)))
            .execute(&mut conn)
            .await
            .expect("age");
    }
    let refreshed = id
        .dereference(&data.reset_request_count())
        .await
        .expect("refetch");
    assert_eq!(refreshed.name, "Nouveau nom");
    assert!(refreshed.last_refreshed_at > chrono::Utc::now() - chrono::Duration::minutes(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_update_goes_once_to_each_server_of_the_followers() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    let eve = remote_actor(&app, "http://remote.example:1234", "eve", 1).await;
    let zed = remote_actor(&app, "http://other.example", "zed", 2).await;
    let no_shared: Remote = {
        let r = remote_actor(&app, "http://solo.example", "solo", 2).await;
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(actors::table.find(r.actor.id))
            .set(actors::shared_inbox_url.eq(None::<String>))
            .execute(&mut conn)
            .await
            .expect("no shared inbox");
        r
    };
    for (n, who) in [&bob, &eve, &zed, &no_shared].into_iter().enumerate() {
        let follow = json!({
            "id": format!("{}/follows/{n}", who.id()),
            "type": "Follow", "actor": who.id(), "object": ALICE,
        });
        assert_eq!(deliver(&app, who, &follow).await, StatusCode::ACCEPTED);
    }
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = {
        diesel::update(actors::table.find(alice.actor_id))
            .set(actors::name.eq("Alice Nouvelle"))
            .execute(&mut conn)
            .await
            .expect("rename");
        db::actors::by_id(&mut conn, alice.actor_id)
            .await
            .expect("alice")
    };
    service::follows::federate_profile_update(&mut conn, &app.ctx, &actor)
        .await
        .expect("federate");
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    let (update, mut inboxes) = updates[0].clone();
    inboxes.sort();
    assert_eq!(
        inboxes,
        vec![
            "http://other.example/inbox".to_string(),
            "http://remote.example:1234/inbox".to_string(),
            "http://solo.example/users/solo/inbox".to_string(),
        ]
    );
    assert_eq!(update["actor"], ALICE);
    assert!(
        update["@context"]
            .as_array()
            .expect("context")
            .contains(&json!("https://w3id.org/security/v1"))
    );
    assert_eq!(
        update["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(update["cc"], json!([format!("{ALICE}/followers")]));
    let person: Person = serde_json::from_value(update["object"].clone()).expect("a Person");
    assert_eq!(person.name.as_deref(), Some("Alice Nouvelle"));
    assert_eq!(person.id.inner().as_str(), ALICE);
}

// ---------------------------------------------------------------------------------------------
// Two real instances, real HTTP, signatures made by the library

#[tokio::test(flavor = "multi_thread")]
async fn a_member_of_one_instance_follows_a_member_of_another() {
    let dbs = culturecnous::testing::TestDatabases::get();
    let mut started = Vec::new();
    for _ in 0..2 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let config = dbs.config(port).await;
        started.push(
            culturecnous::start_with_listener(config, listener)
                .await
                .expect("start"),
        );
    }
    let (a, b) = (&started[0], &started[1]);
    let new_user = |username: &str| NewAccountInput {
        username: username.into(),
        email: format!("{username}@example.org"),
        password: PASSWORD.into(),
        kind: "individual".into(),
        role: "member".into(),
        display_name: username.into(),
    };
    let alice = create_account(&a.ctx, new_user("alice"))
        .await
        .expect("alice");
    create_account(&b.ctx, new_user("bob")).await.expect("bob");
    let b_domain = b.ctx.config.domain();
    let bob_id = b.ctx.urls.user("bob");
    let alice_id = a.ctx.urls.user("alice");

    let state = request_follow(
        &a.federation.to_request_data(),
        &alice,
        &format!("bob@{b_domain}"),
    )
    .await
    .expect("follow");
    assert_eq!(state, FollowState::Pending);

    let state_on = |ctx: culturecnous::context::AppContext, follower: String, followee: String| async move {
        let mut conn = ctx.conn().await.expect("conn");
        let follower = db::actors::by_ap_id(&mut conn, &follower).await.expect("q");
        let followee = db::actors::by_ap_id(&mut conn, &followee).await.expect("q");
        match (follower, followee) {
            (Some(f), Some(e)) => db::follows::get(&mut conn, f.id, e.id)
                .await
                .expect("q")
                .map(|x| x.state),
            _ => None,
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        for instance in [a, b] {
            culturecnous::federation::delivery::drain(&instance.ctx, &instance.federation)
                .await
                .expect("drain");
        }
        let on_a = state_on(a.ctx.clone(), alice_id.clone(), bob_id.clone()).await;
        let on_b = state_on(b.ctx.clone(), alice_id.clone(), bob_id.clone()).await;
        if on_a.as_deref() == Some("accepted") && on_b.as_deref() == Some("accepted") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not accepted in time: on A {on_a:?}, on B {on_b:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut conn = b.ctx.conn().await.expect("conn");
    let failed: i64 = deliveries::table
        .filter(deliveries::last_error.is_not_null())
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(failed, 0);
    drop(conn);
    for instance in started {
        instance.shutdown().await;
    }
}
