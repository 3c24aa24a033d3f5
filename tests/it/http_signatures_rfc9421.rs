//! RFC 9421 HTTP Message Signatures, in and out.
//!
//! In: requests signed here the way Fedify 2.x and Mastodon 4.5 sign (`Signature-Input:
//! sig1=("@method" "@target-uri" "@authority" "content-digest" …);created=…;keyid=…;alg=…`,
//! `Signature: sig1=:…:`), with the pure-Rust `rsa` crate rather than the server's signer,
//! are accepted on the first knock; each spoiled one is refused with 401 and nothing stored.
//! Out: a server that reads only RFC 9421 gets a second knock in it, and is remembered.

use crate::{
    common::TestApp,
    delivery::{publish, setup as member_setup},
    federation_inbox::{Remote, follow_json, refused, remote_actor, stored},
    sink::{Answer, Sink},
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use culturecnous::{
    db::{self, schema::instances},
    federation::{
        delivery::drain, inbound_signature::verify_request, rfc9421::Target, signatures::precheck,
    },
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rsa::Pkcs1v15Sign;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ALICE: &str = "http://localhost:8080/users/alice";

/// How a request is signed with RFC 9421; every field can be spoiled by a test.
struct Signing9421 {
    components: Vec<&'static str>,
    created: Option<u64>,
    alg: Option<&'static str>,
    key_id: String,
    /// `None`: the body's SHA-256.
    content_digest: Option<String>,
    /// Extra members appended to both headers (a second signature).
    extra_input: Option<String>,
    extra_signature: Option<String>,
}

impl Signing9421 {
    fn by(remote: &Remote) -> Signing9421 {
        Signing9421 {
            components: vec!["@method", "@target-uri", "@authority", "content-digest"],
            created: Some(unix(SystemTime::now())),
            alg: Some("rsa-v1_5-sha256"),
            key_id: remote.key_id.clone(),
            content_digest: None,
            extra_input: None,
            extra_signature: None,
        }
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// A POST of `body` to `path` on `localhost:8080`, signed by `signer`'s key as `signing` says.
fn post_9421(path: &str, body: Vec<u8>, signer: &Remote, signing: &Signing9421) -> Request<Body> {
    let digest = signing
        .content_digest
        .clone()
        .unwrap_or_else(|| format!("sha-256=:{}:", BASE64.encode(Sha256::digest(&body))));
    let date = httpdate::fmt_http_date(SystemTime::now());
    let value = |name: &str| -> String {
        match name {
            "@method" => "POST".into(),
            "@target-uri" => format!("http://localhost:8080{path}"),
            "@authority" => "localhost:8080".into(),
            "@path" => path.into(),
            "content-digest" => digest.clone(),
            "date" => date.clone(),
            "content-type" => "application/activity+json".into(),
            other => panic!("no value for {other}"),
        }
    };
    let list = signing
        .components
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(" ");
    let mut params = format!("({list})");
    if let Some(created) = signing.created {
        params.push_str(&format!(";created={created}"));
    }
    params.push_str(&format!(";keyid=\"{}\"", signing.key_id));
    if let Some(alg) = signing.alg {
        params.push_str(&format!(";alg=\"{alg}\""));
    }
    let mut base = String::new();
    for c in &signing.components {
        base.push_str(&format!("\"{c}\": {}\n", value(c)));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    let signature = signer
        .key
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(base.as_bytes()),
        )
        .expect("sign");
    let mut input = format!("sig1={params}");
    let mut signature = format!("sig1=:{}:", BASE64.encode(signature));
    if let Some(extra) = &signing.extra_input {
        input.push_str(&format!(", {extra}"));
    }
    if let Some(extra) = &signing.extra_signature {
        signature.push_str(&format!(", {extra}"));
    }
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", "localhost:8080")
        .header("date", date)
        .header("content-digest", digest)
        .header("content-type", "application/activity+json")
        .header("signature-input", input)
        .header("signature", signature)
        .body(Body::from(body))
        .expect("request")
}

async fn setup() -> (TestApp, Remote, Remote) {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;
    let carol = remote_actor(&app, "http://remote.example:1234", "carol", 1).await;
    (app, bob, carol)
}

async fn remembered_scheme(app: &TestApp, domain: &str) -> Option<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    instances::table
        .find(domain)
        .select(instances::signature_scheme)
        .first::<Option<String>>(&mut conn)
        .await
        .optional()
        .expect("query")
        .flatten()
}

fn follow_body(bob: &Remote, n: u32) -> Vec<u8> {
    serde_json::to_vec(&follow_json(bob, ALICE, n)).expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rfc9421_follow_is_accepted_on_the_first_knock_and_its_server_remembered() {
    let (app, bob, _) = setup().await;
    let request = post_9421("/inbox", follow_body(&bob, 1), &bob, &Signing9421::by(&bob));
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.body);
    assert_eq!(stored(&app).await.follows, 1);
    assert_eq!(
        remembered_scheme(&app, "remote.example:1234")
            .await
            .as_deref(),
        Some("rfc9421"),
        "a server that signs with RFC 9421 gets RFC 9421 signatures"
    );
    // The per-member inbox, a signed date instead of `created`, and no `alg` (an RSA key
    // signs RSASSA-PKCS1-v1_5 SHA-256) are accepted too.
    let signing = Signing9421 {
        components: vec!["@method", "@path", "@authority", "date", "content-digest"],
        created: None,
        alg: None,
        ..Signing9421::by(&bob)
    };
    let response = app
        .send(post_9421(
            "/users/alice/inbox",
            follow_body(&bob, 2),
            &bob,
            &signing,
        ))
        .await;
    assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc9421_without_a_required_component_is_401() {
    let (app, bob, _) = setup().await;
    for (components, missing) in [
        (
            vec!["@target-uri", "@authority", "content-digest"],
            "@method",
        ),
        (vec!["@method", "@authority", "content-digest"], "path"),
        (vec!["@method", "@path", "content-digest"], "host"),
        (
            vec!["@method", "@target-uri", "@authority"],
            "content-digest",
        ),
    ] {
        let signing = Signing9421 {
            components,
            ..Signing9421::by(&bob)
        };
        let request = post_9421("/inbox", follow_body(&bob, 1), &bob, &signing);
        let response = app.send(request).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{missing}");
        assert!(
            response.body.contains(missing),
            "{missing}: {}",
            response.body
        );
    }
    // Neither `created` nor a signed date.
    let signing = Signing9421 {
        created: None,
        ..Signing9421::by(&bob)
    };
    let request = post_9421("/inbox", follow_body(&bob, 1), &bob, &signing);
    refused(&app, request, StatusCode::UNAUTHORIZED).await;
    assert_eq!(stored(&app).await.follows, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc9421_created_outside_the_window_is_401() {
    let (app, bob, _) = setup().await;
    let now = SystemTime::now();
    for created in [
        now - Duration::from_secs(2 * 3600),
        now + Duration::from_secs(2 * 3600),
    ] {
        let signing = Signing9421 {
            created: Some(unix(created)),
            ..Signing9421::by(&bob)
        };
        let request = post_9421("/inbox", follow_body(&bob, 1), &bob, &signing);
        refused(&app, request, StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc9421_content_digest_mismatch_is_401() {
    let (app, bob, _) = setup().await;
    let signing = Signing9421 {
        content_digest: Some(format!(
            "sha-256=:{}:",
            BASE64.encode(Sha256::digest(b"another body"))
        )),
        ..Signing9421::by(&bob)
    };
    let request = post_9421("/inbox", follow_body(&bob, 1), &bob, &signing);
    refused(&app, request, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_signatures_of_which_one_is_bad_are_401() {
    let (app, bob, _) = setup().await;
    let signing = Signing9421 {
        extra_input: Some(format!(
            "sig2=(\"@method\" \"@target-uri\" \"content-digest\");created={};keyid=\"{}\"",
            unix(SystemTime::now()),
            bob.key_id
        )),
        extra_signature: Some(format!("sig2=:{}:", BASE64.encode([7u8; 256]))),
        ..Signing9421::by(&bob)
    };
    let request = post_9421("/inbox", follow_body(&bob, 1), &bob, &signing);
    refused(&app, request, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc9421_unknown_algorithm_is_401() {
    let (app, bob, _) = setup().await;
    for alg in ["ed25519", "hmac-sha256", "rsa-sha256"] {
        let signing = Signing9421 {
            alg: Some(alg),
            ..Signing9421::by(&bob)
        };
        let request = post_9421("/inbox", follow_body(&bob, 1), &bob, &signing);
        refused(&app, request, StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc9421_key_of_another_actor_is_401() {
    let (app, bob, carol) = setup().await;
    // Carol signs a Follow whose actor is Bob.
    let request = post_9421(
        "/inbox",
        follow_body(&bob, 1),
        &carol,
        &Signing9421::by(&carol),
    );
    refused(&app, request, StatusCode::UNAUTHORIZED).await;
    // Bob's keyId with Carol's key: the signature does not verify.
    let signing = Signing9421 {
        key_id: bob.key_id.clone(),
        ..Signing9421::by(&carol)
    };
    let request = post_9421("/inbox", follow_body(&bob, 1), &carol, &signing);
    refused(&app, request, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_reading_only_rfc9421_gets_a_second_knock_and_is_remembered() {
    let (app, alice) = member_setup().await;
    let sink = Sink::start().await;
    sink.trust(&format!("{}#main-key", alice.ap_id), &alice.public_key_pem);
    sink.answer(Answer {
        rfc9421_only: true,
        ..Answer::default()
    });
    let (first, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 1);
    let received = sink.received();
    assert_eq!(received.len(), 2, "draft-cavage first, then RFC 9421");
    assert!(!received[0].headers.contains_key("signature-input"));
    assert!(received[0].verified.is_ok(), "{:?}", received[0].verified);
    let second = &received[1];
    // Our own strict inbound checks read and verify it.
    let signature = precheck(
        &Method::POST,
        &second.headers,
        &second.body,
        &sink.host(),
        SystemTime::now(),
    )
    .expect("pre-check");
    verify_request(
        &signature,
        &Method::POST,
        &"/inbox".parse().expect("uri"),
        &second.headers,
        Target {
            scheme: "http",
            authority: &sink.host(),
        },
        &alice.public_key_pem,
    )
    .expect("verifies");
    let input = second.headers["signature-input"].to_str().expect("ascii");
    assert!(
        input.starts_with(
            "sig1=(\"@method\" \"@target-uri\" \"@authority\" \"date\" \"content-digest\");created="
        ),
        "{input}"
    );
    assert!(input.ends_with(&format!(
        ";keyid=\"{}#main-key\";alg=\"rsa-v1_5-sha256\"",
        alice.ap_id
    )));
    assert!(second.headers.contains_key("content-digest"));
    assert!(!second.headers.contains_key("digest"));
    let mut conn = app.ctx.conn().await.expect("conn");
    let row = db::deliveries::by_activity(&mut conn, first)
        .await
        .expect("rows")
        .remove(0);
    assert!(row.delivered_at.is_some(), "{row:?}");
    assert_eq!(
        remembered_scheme(&app, &sink.host()).await.as_deref(),
        Some("rfc9421")
    );

    // Remembered: the next delivery is signed with RFC 9421 at once (a fresh drain reads the
    // memory from the database).
    publish(&app, &alice, vec![sink.url("/inbox")]).await;
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 1);
    let received = sink.received();
    assert_eq!(received.len(), 3);
    assert!(received[2].headers.contains_key("signature-input"));
}
