//! The inbox: signatures, digests, clocks, origins, limits, replays — each refused with its
//! status and nothing stored — and what accepted activities do.
//!
//! Remote actors are rows inserted directly (domain `remote.example:1234` and the like), so no
//! fetch happens; requests are signed here with draft-cavage rsa-sha256, the way Mastodon
//! signs, and sent through the router.

use crate::common::TestApp;
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::Utc;
use culturecnous::db::{
    self,
    actors::{DbActor, NewActor},
    schema::{activities, actors, deliveries, follows, instances, received_activities},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, pkcs8::DecodePrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::{
    sync::LazyLock,
    time::{Duration, SystemTime},
};

/// Key pairs made once per test process (RSA-2048 generation is slow).
pub static KEYS: LazyLock<Vec<activitypub_federation::http_signatures::Keypair>> =
    LazyLock::new(|| {
        (0..3)
            .map(|_| {
                activitypub_federation::http_signatures::generate_actor_keypair().expect("keypair")
            })
            .collect()
    });

/// A remote actor known to the instance under test, with its private key.
pub struct Remote {
    pub actor: DbActor,
    pub key: RsaPrivateKey,
    pub key_id: String,
}

impl Remote {
    pub fn id(&self) -> &str {
        &self.actor.ap_id
    }
}

/// Inserts `{base}/users/{username}` as a remote actor signing with key number `key`.
pub async fn remote_actor(app: &TestApp, base: &str, username: &str, key: usize) -> Remote {
    let keys = &KEYS[key];
    let ap_id = format!("{base}/users/{username}");
    let domain = base
        .split("://")
        .nth(1)
        .expect("base URL")
        .trim_end_matches('/')
        .to_string();
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::insert(
        &mut conn,
        &NewActor {
            ap_id: ap_id.clone(),
            kind: "Person".into(),
            username: username.into(),
            domain,
            local: false,
            name: format!("{username} (remote)"),
            summary_html: String::new(),
            icon_url: None,
            url: Some(format!("{base}/@{username}")),
            inbox_url: format!("{ap_id}/inbox"),
            shared_inbox_url: Some(format!("{base}/inbox")),
            outbox_url: Some(format!("{ap_id}/outbox")),
            followers_url: Some(format!("{ap_id}/followers")),
            following_url: Some(format!("{ap_id}/following")),
            public_key_pem: keys.public_key.clone(),
            private_key_pem: None,
            manually_approves_followers: false,
            discoverable: true,
            published: Utc::now(),
            last_refreshed_at: Utc::now(),
        },
    )
    .await
    .expect("insert remote actor");
    Remote {
        key: RsaPrivateKey::from_pkcs8_pem(&keys.private_key).expect("private key"),
        key_id: format!("{ap_id}#main-key"),
        actor,
    }
}

/// How a request is signed; every field can be spoiled by a test.
pub struct Signing {
    pub key: RsaPrivateKey,
    pub key_id: String,
    pub date: SystemTime,
    pub headers: Vec<&'static str>,
    pub content_type: String,
    /// `None`: the SHA-256 of the body.
    pub digest: Option<String>,
    pub host: String,
}

impl Signing {
    pub fn by(remote: &Remote) -> Signing {
        Signing::new(remote.key.clone(), remote.key_id.clone())
    }

    pub fn new(key: RsaPrivateKey, key_id: String) -> Signing {
        Signing {
            key,
            key_id,
            date: SystemTime::now(),
            headers: vec!["(request-target)", "host", "date", "digest", "content-type"],
            content_type: "application/activity+json".into(),
            digest: None,
            host: "localhost:8080".into(),
        }
    }
}

/// A POST of `body` to `path`, signed as `signing` says (draft-cavage, rsa-sha256).
pub fn signed_post(path: &str, body: Vec<u8>, signing: &Signing) -> Request<Body> {
    let digest = signing
        .digest
        .clone()
        .unwrap_or_else(|| format!("SHA-256={}", BASE64.encode(Sha256::digest(&body))));
    let date = httpdate::fmt_http_date(signing.date);
    let value_of = |name: &str| -> String {
        match name {
            "(request-target)" => format!("post {path}"),
            "host" => signing.host.clone(),
            "date" => date.clone(),
            "digest" => digest.clone(),
            "content-type" => signing.content_type.clone(),
            other => panic!("no value for {other}"),
        }
    };
    let signing_string = signing
        .headers
        .iter()
        .map(|h| format!("{h}: {}", value_of(h)))
        .collect::<Vec<_>>()
        .join("\n");
    let signature = signing
        .key
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_string.as_bytes()),
        )
        .expect("sign");
    let header = format!(
        "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{}\"",
        signing.key_id,
        signing.headers.join(" "),
        BASE64.encode(signature)
    );
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", &signing.host)
        .header("date", date)
        .header("digest", digest)
        .header("content-type", &signing.content_type)
        .header("signature", header)
        .body(Body::from(body))
        .expect("request")
}

pub fn follow_json(from: &Remote, target: &str, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/follow-{n}", from.id()),
        "type": "Follow",
        "actor": from.id(),
        "object": target,
    })
}

/// Sends `activity` to the shared inbox, signed by `from`.
pub async fn deliver(app: &TestApp, from: &Remote, activity: &Value) -> StatusCode {
    let body = serde_json::to_vec(activity).expect("json");
    app.send(signed_post("/inbox", body, &Signing::by(from)))
        .await
        .status
}

/// What the inbox may have written, as counts.
#[derive(Debug, PartialEq, Eq)]
pub struct Stored {
    pub received: i64,
    pub follows: i64,
    pub activities: i64,
    pub deliveries: i64,
    pub actors: i64,
}

pub async fn stored(app: &TestApp) -> Stored {
    let mut conn = app.ctx.conn().await.expect("conn");
    Stored {
        received: received_activities::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
        follows: follows::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
        activities: activities::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
        deliveries: deliveries::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
        actors: actors::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
    }
}

/// An app with a member `alice` and a remote `bob` on `remote.example:1234`.
async fn setup() -> (TestApp, Remote) {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    (app, bob)
}

const ALICE: &str = "http://localhost:8080/users/alice";

/// Sends a spoiled request and checks the status and that nothing was written.
pub async fn refused(app: &TestApp, request: Request<Body>, status: StatusCode) {
    let before = stored(app).await;
    let response = app.send(request).await;
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(stored(app).await, before, "something was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_follow_is_accepted_once_and_answered() {
    let (app, bob) = setup().await;
    let follow = follow_json(&bob, ALICE, 1);
    let body = serde_json::to_vec(&follow).expect("json");
    let request = || signed_post("/inbox", body.clone(), &Signing::by(&bob));
    let first = app.send(request()).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let after_first = stored(&app).await;
    assert_eq!(after_first.follows, 1);
    assert_eq!(after_first.received, 1);
    // The same request replayed: accepted, not processed again.
    let replay = app.send(request()).await;
    assert_eq!(replay.status, StatusCode::ACCEPTED, "{}", replay.body);
    assert_eq!(stored(&app).await, after_first);

    let mut conn = app.ctx.conn().await.expect("conn");
    let (kind, data, inbox): (String, Value, String) = activities::table
        .inner_join(deliveries::table)
        .select((activities::kind, activities::data, deliveries::inbox_url))
        .first(&mut conn)
        .await
        .expect("one Accept queued");
    assert_eq!(kind, "Accept");
    assert_eq!(inbox, "http://remote.example:1234/users/bob/inbox");
    assert_eq!(data["actor"], ALICE);
    assert_eq!(data["object"]["id"], follow["id"]);
    assert_eq!(data["object"]["type"], "Follow");
    let state: String = follows::table
        .select(follows::state)
        .first(&mut conn)
        .await
        .expect("follow");
    assert_eq!(state, "accepted");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_per_member_inbox_works_and_unknown_members_have_none() {
    let (app, bob) = setup().await;
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 2)).expect("json");
    let ok = app
        .send(signed_post(
            "/users/alice/inbox",
            body.clone(),
            &Signing::by(&bob),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
    refused(
        &app,
        signed_post("/users/nobody/inbox", body, &Signing::by(&bob)),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_post_is_401_and_nothing_is_stored() {
    let (app, bob) = setup().await;
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 3)).expect("json");
    let request = Request::builder()
        .method(Method::POST)
        .uri("/inbox")
        .header("host", "localhost:8080")
        .header("content-type", "application/activity+json")
        .body(Body::from(body))
        .expect("request");
    refused(&app, request, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn signature_by_another_key_is_401() {
    let (app, bob) = setup().await;
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 4)).expect("json");
    let mut signing = Signing::by(&bob);
    signing.key = RsaPrivateKey::from_pkcs8_pem(&KEYS[2].private_key).expect("key");
    refused(
        &app,
        signed_post("/inbox", body, &signing),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn digest_mismatch_is_401() {
    let (app, bob) = setup().await;
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 5)).expect("json");
    let mut signing = Signing::by(&bob);
    signing.digest = Some(format!(
        "SHA-256={}",
        BASE64.encode(Sha256::digest(b"another body"))
    ));
    refused(
        &app,
        signed_post("/inbox", body, &signing),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn date_two_hours_old_or_ahead_is_401() {
    let (app, bob) = setup().await;
    for (n, date) in [
        (6, SystemTime::now() - Duration::from_secs(2 * 3600)),
        (7, SystemTime::now() + Duration::from_secs(2 * 3600)),
    ] {
        let body = serde_json::to_vec(&follow_json(&bob, ALICE, n)).expect("json");
        let mut signing = Signing::by(&bob);
        signing.date = date;
        refused(
            &app,
            signed_post("/inbox", body, &signing),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signature_not_covering_request_target_or_host_is_401() {
    let (app, bob) = setup().await;
    for (n, headers) in [
        (8, vec!["host", "date", "digest"]),
        (9, vec!["(request-target)", "date", "digest"]),
        (10, vec!["(request-target)", "host", "digest"]),
        (11, vec!["(request-target)", "host", "date"]),
    ] {
        let body = serde_json::to_vec(&follow_json(&bob, ALICE, n)).expect("json");
        let mut signing = Signing::by(&bob);
        signing.headers = headers;
        refused(
            &app,
            signed_post("/inbox", body, &signing),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn request_signed_for_another_server_is_401() {
    let (app, bob) = setup().await;
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 12)).expect("json");
    let mut signing = Signing::by(&bob);
    signing.host = "other.example".into();
    refused(
        &app,
        signed_post("/inbox", body, &signing),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_of_actor_x_with_actor_y_is_401() {
    let (app, bob) = setup().await;
    let eve = remote_actor(&app, "http://remote.example:1234", "eve", 1).await;
    // Eve signs, correctly, an activity that claims to be Bob's.
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 13)).expect("json");
    refused(
        &app,
        signed_post("/inbox", body, &Signing::by(&eve)),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_with_object_on_another_port_is_400() {
    let (app, bob) = setup().await;
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "http://remote.example:1234/activities/create-1",
        "type": "Create",
        "actor": bob.id(),
        "to": "as:Public",
        "object": {
            "id": "http://remote.example:4321/notes/1",
            "type": "Note",
            "attributedTo": bob.id(),
            "content": "<p>Bonjour</p>",
        }
    });
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&create).expect("json"),
            &Signing::by(&bob),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
    // The same Create with the object on the actor's origin passes (and is ignored: nothing
    // here handles notes).
    let mut good = create.clone();
    good["id"] = json!("http://remote.example:1234/activities/create-2");
    good["object"]["id"] = json!("http://remote.example:1234/notes/1");
    assert_eq!(deliver(&app, &bob, &good).await, StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_id_on_another_origin_than_its_actor_is_400() {
    let (app, bob) = setup().await;
    let mut follow = follow_json(&bob, ALICE, 14);
    follow["id"] = json!("http://remote.example:9999/activities/follow-14");
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&follow).expect("json"),
            &Signing::by(&bob),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn activities_about_local_actors_from_elsewhere_are_refused() {
    let (app, bob) = setup().await;
    // Claiming to be Alice.
    let mut follow = follow_json(&bob, "http://remote.example:1234/users/bob", 15);
    follow["actor"] = json!(ALICE);
    follow["id"] = json!("http://localhost:8080/activities/forged");
    let mut signing = Signing::by(&bob);
    signing.key_id = format!("{ALICE}#main-key");
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&follow).expect("json"),
            &signing,
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Updating Alice's profile.
    let update = json!({
        "id": "http://remote.example:1234/activities/update-alice",
        "type": "Update",
        "actor": bob.id(),
        "object": {"id": ALICE, "type": "Person"}
    });
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&update).expect("json"),
            &Signing::by(&bob),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Deleting Alice.
    let delete = json!({
        "id": "http://remote.example:1234/activities/delete-alice",
        "type": "Delete",
        "actor": bob.id(),
        "object": ALICE
    });
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&delete).expect("json"),
            &Signing::by(&bob),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_mebibyte_body_is_413() {
    let (app, bob) = setup().await;
    let mut follow = follow_json(&bob, ALICE, 16);
    follow["padding"] = json!("x".repeat(2 * 1024 * 1024));
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&follow).expect("json"),
            &Signing::by(&bob),
        ),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // Without Content-Length (a stream), the limit holds while reading.
    let body = serde_json::to_vec(&follow).expect("json");
    let mut request = signed_post("/inbox", Vec::new(), &Signing::by(&bob));
    let stream = futures::stream::iter(
        body.chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    *request.body_mut() = Body::from_stream(stream);
    request.headers_mut().remove("content-length");
    refused(&app, request, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_deep_json_is_400() {
    let (app, bob) = setup().await;
    let body = format!(
        r#"{{"id":"http://remote.example:1234/a/1","type":"Create","actor":"{}","object":{}{}}}"#,
        bob.id(),
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    refused(
        &app,
        signed_post("/inbox", body.into_bytes(), &Signing::by(&bob)),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_or_activity_is_400() {
    let (app, bob) = setup().await;
    for body in [
        b"{not json".to_vec(),
        b"[1, 2]".to_vec(),
        serde_json::to_vec(&json!({"type": "Follow", "actor": bob.id()})).expect("json"),
        // A Follow without object: malformed, not "some other type".
        serde_json::to_vec(&json!({
            "id": "http://remote.example:1234/f/x", "type": "Follow", "actor": bob.id()
        }))
        .expect("json"),
    ] {
        refused(
            &app,
            signed_post("/inbox", body, &Signing::by(&bob)),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn text_plain_is_415_and_json_types_are_accepted() {
    let (app, bob) = setup().await;
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 17)).expect("json");
    let mut signing = Signing::by(&bob);
    signing.content_type = "text/plain".into();
    refused(
        &app,
        signed_post("/inbox", body, &signing),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    for (n, ct) in [
        (
            18,
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        ),
        (19, "application/json"),
    ] {
        let body = serde_json::to_vec(&follow_json(&bob, ALICE, n)).expect("json");
        let mut signing = Signing::by(&bob);
        signing.content_type = ct.into();
        let r = app.send(signed_post("/inbox", body, &signing)).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{ct}: {}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_activity_types_are_202_and_ignored() {
    let (app, bob) = setup().await;
    let before = stored(&app).await;
    let arrive = json!({
        "id": "http://remote.example:1234/activities/arrive-1",
        "type": "Arrive",
        "actor": bob.id(),
        "to": ["Public"],
        "location": {"type": "Place", "name": "Médiathèque"}
    });
    assert_eq!(deliver(&app, &bob, &arrive).await, StatusCode::ACCEPTED);
    assert_eq!(stored(&app).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn compact_json_ld_addressing_is_understood() {
    let (app, bob) = setup().await;
    for (n, to) in [
        (20, json!("as:Public")),
        (21, json!(["Public", ALICE])),
        (22, json!("https://www.w3.org/ns/activitystreams#Public")),
    ] {
        let mut follow = follow_json(&bob, ALICE, n);
        follow["to"] = to.clone();
        follow["cc"] = json!(bob.actor.followers_url);
        assert_eq!(
            deliver(&app, &bob, &follow).await,
            StatusCode::ACCEPTED,
            "{to}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activity_from_an_unreachable_host_revives_it() {
    let (app, bob) = setup().await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::insert_into(instances::table)
            .values((
                instances::domain.eq("remote.example:1234"),
                instances::first_failure_at.eq(Some(Utc::now() - chrono::Duration::days(8))),
                instances::unreachable_since.eq(Some(Utc::now() - chrono::Duration::days(1))),
            ))
            .execute(&mut conn)
            .await
            .expect("instance");
    }
    assert_eq!(
        deliver(&app, &bob, &follow_json(&bob, ALICE, 24)).await,
        StatusCode::ACCEPTED
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let unreachable: Option<chrono::DateTime<Utc>> = instances::table
        .find("remote.example:1234")
        .select(instances::unreachable_since)
        .first(&mut conn)
        .await
        .expect("instance");
    assert_eq!(unreachable, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn database_down_is_503_never_202() {
    let (app, bob) = setup().await;
    // The same instance, with a pool whose database does not exist.
    let mut config = app.ctx.config.clone();
    let url = url::Url::parse(&config.database.url).map(|mut u| {
        u.set_path("/no_such_database");
        u.to_string()
    });
    config.database.url = match url {
        Ok(u) => u,
        Err(_) => format!("{} dbname=no_such_database", config.database.url),
    };
    let pool = culturecnous::db::pool::build_pool(&config.database.url, 2).expect("pool");
    let ctx = culturecnous::context::AppContext::new(config, pool);
    let federation = culturecnous::federation::FederationConfig::builder()
        .domain(ctx.config.domain())
        .app_data(ctx.clone())
        .debug(true)
        .build()
        .await
        .expect("config");
    let router = culturecnous::app(ctx, federation);
    let down = TestApp {
        ctx: app.ctx.clone(),
        federation: app.federation.clone(),
        router,
    };
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 25)).expect("json");
    let r = down
        .send(signed_post("/inbox", body, &Signing::by(&bob)))
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(stored(&app).await.received, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn update_of_an_actor_refreshes_it_and_only_it_may_update_itself() {
    let (app, bob) = setup().await;
    let mut doc: Value = serde_json::from_str(&culturecnous::testing::fixture(
        "mastodon/objects/person.json",
    ))
    .expect("json");
    let base = "http://remote.example:1234";
    doc["id"] = json!(bob.id());
    doc["preferredUsername"] = json!("bob");
    doc["name"] = json!("Bob Renommé");
    doc["summary"] = json!("<p>Nouveau<script>alert(1)</script></p>");
    doc["inbox"] = json!(format!("{}/inbox", bob.id()));
    doc["endpoints"] = json!({"sharedInbox": format!("{base}/inbox")});
    doc["publicKey"] = json!({
        "id": bob.key_id, "owner": bob.id(), "publicKeyPem": KEYS[0].public_key
    });
    let update = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": format!("{}#updates/1", bob.id()),
        "type": "Update",
        "actor": bob.id(),
        "to": "as:Public",
        "object": doc,
    });
    assert_eq!(deliver(&app, &bob, &update).await, StatusCode::ACCEPTED);
    let mut conn = app.ctx.conn().await.expect("conn");
    let row = db::actors::by_ap_id(&mut conn, bob.id())
        .await
        .expect("query")
        .expect("bob");
    assert_eq!(row.name, "Bob Renommé");
    assert!(row.summary_html.contains("Nouveau"));
    assert!(!row.summary_html.contains("script"));

    // Eve updating Bob: refused.
    let eve = remote_actor(&app, base, "eve", 1).await;
    let mut forged = update.clone();
    forged["id"] = json!(format!("{}#updates/2", eve.id()));
    forged["actor"] = json!(eve.id());
    forged["object"]["name"] = json!("Bob piraté");
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&forged).expect("json"),
            &Signing::by(&eve),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_of_an_actor_removes_it_and_its_follows() {
    let (app, bob) = setup().await;
    assert_eq!(
        deliver(&app, &bob, &follow_json(&bob, ALICE, 26)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(stored(&app).await.follows, 1);
    let delete = json!({
        "id": format!("{}#delete", bob.id()),
        "type": "Delete",
        "actor": bob.id(),
        "object": bob.id(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    });
    assert_eq!(deliver(&app, &bob, &delete).await, StatusCode::ACCEPTED);
    assert_eq!(stored(&app).await.follows, 0);
    let mut conn = app.ctx.conn().await.expect("conn");
    let row = db::actors::by_ap_id(&mut conn, bob.id())
        .await
        .expect("query")
        .expect("row kept as a marker");
    assert!(row.deleted_at.is_some());
    assert!(row.name.is_empty());
    // Anything it sends afterwards is ignored.
    assert_eq!(
        deliver(&app, &bob, &follow_json(&bob, ALICE, 27)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(stored(&app).await.follows, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_of_an_unknown_actor_is_accepted_without_fetching() {
    let app = TestApp::new().await;
    // Never inserted: its key is unknown, and fetching it would fail (nothing listens).
    let signing = Signing::new(
        RsaPrivateKey::from_pkcs8_pem(&KEYS[2].private_key).expect("key"),
        "http://ghost.example:1/users/gone#main-key".into(),
    );
    let before = stored(&app).await;
    let delete = json!({
        "id": "http://ghost.example:1/users/gone#delete",
        "type": "Delete",
        "actor": "http://ghost.example:1/users/gone",
        "object": "http://ghost.example:1/users/gone",
    });
    let started = std::time::Instant::now();
    let status = app
        .send(signed_post(
            "/inbox",
            serde_json::to_vec(&delete).expect("json"),
            &signing,
        ))
        .await
        .status;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stored(&app).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_actor_whose_key_cannot_be_fetched_is_401() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    // An actor on a port where nothing listens.
    let signing = Signing::new(
        RsaPrivateKey::from_pkcs8_pem(&KEYS[0].private_key).expect("key"),
        "http://127.0.0.1:9/users/nobody#main-key".into(),
    );
    let follow = json!({
        "id": "http://127.0.0.1:9/activities/1",
        "type": "Follow",
        "actor": "http://127.0.0.1:9/users/nobody",
        "object": ALICE,
    });
    refused(
        &app,
        signed_post(
            "/inbox",
            serde_json::to_vec(&follow).expect("json"),
            &signing,
        ),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn received_ids_are_kept_a_week_then_purged() {
    let app = TestApp::new().await;
    let mut conn = app.ctx.conn().await.expect("conn");
    for (id, age_days) in [
        ("https://a.example/old", 8),
        ("https://a.example/recent", 6),
    ] {
        diesel::insert_into(received_activities::table)
            .values((
                received_activities::ap_id.eq(id),
                received_activities::received_at.eq(Utc::now() - chrono::Duration::days(age_days)),
            ))
            .execute(&mut conn)
            .await
            .expect("insert");
    }
    assert!(
        !db::received_activities::mark_received(&mut conn, "https://a.example/recent")
            .await
            .expect("mark")
    );
    let purged = culturecnous::federation::inbox::purge_received(&app.ctx)
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    assert!(
        db::received_activities::was_received(&mut conn, "https://a.example/recent")
            .await
            .expect("query")
    );
    assert!(
        !db::received_activities::was_received(&mut conn, "https://a.example/old")
            .await
            .expect("query")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_ids_are_resolved_even_where_private_addresses_are_allowed() {
    // The private-address switch lets loopback through; it does not skip the checks. A known
    // actor on a name no DNS answers (`.invalid`) is refused before anything is stored, as in
    // production.
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ghost = remote_actor(&app, "http://ghost.invalid", "ghost", 0).await;
    let before = stored(&app).await;
    let follow = follow_json(&ghost, ALICE, 1);
    assert_eq!(deliver(&app, &ghost, &follow).await, StatusCode::FORBIDDEN);
    assert_eq!(stored(&app).await, before);
    // The same activity from a name that resolves to loopback is taken.
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 1).await;
    let follow = follow_json(&bob, ALICE, 2);
    assert_eq!(deliver(&app, &bob, &follow).await, StatusCode::ACCEPTED);
}
