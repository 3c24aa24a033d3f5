//! Rate limits (issue 8): the inbox allowance per verified sending server (a burst of 1 000
//! from one server accepted whole, forgeries charged to nobody), the fetch budget per client
//! address for activities from unknown actors, sign-ups per address, and client addresses
//! taken from `X-Forwarded-For` only when a trusted proxy sends it.

use crate::{
    common::{PASSWORD, TestApp},
    federation_inbox::{KEYS, Signing, follow_json, remote_actor, signed_post},
    helpers::Browser,
    sink::Sink,
};
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use futures::{StreamExt, stream};
use rsa::{RsaPrivateKey, pkcs8::DecodePrivateKey};
use serde_json::json;
use std::net::SocketAddr;

const ALICE: &str = "http://localhost:8080/users/alice";

fn from(ip: &str, mut request: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{ip}:50000").parse().expect("addr");
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

fn retry_after(r: &crate::common::TestResponse) -> u64 {
    r.header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds")
}

/// An activity of a type nobody handles: accepted and ignored, the cheapest to process.
fn arrive(actor: &str, n: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/arrive/{n}"),
        "type": "Arrive",
        "actor": actor,
    }))
    .expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_1000_activities_from_one_server_is_accepted_whole() {
    let app = TestApp::new().await;
    assert_eq!(app.ctx.config.federation.inbox_burst, 1000);
    let busy = remote_actor(&app, "http://busy.example", "community", 0).await;
    let statuses: Vec<StatusCode> = stream::iter(0..1000)
        .map(|n| {
            let request = from(
                "192.0.2.10",
                signed_post("/inbox", arrive(busy.id(), n), &Signing::by(&busy)),
            );
            let app = &app;
            async move { app.send(request).await.status }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    assert_eq!(
        accepted,
        1000,
        "{:?}",
        statuses.iter().find(|s| **s != StatusCode::ACCEPTED)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_limit_counts_verified_activities_per_server_only() {
    let app = TestApp::with_config(|c| {
        c.federation.inbox_burst = 5;
        c.federation.inbox_per_minute = 1;
    })
    .await;
    app.create_user("alice", "member").await;
    let flood = remote_actor(&app, "http://flood.example", "spam", 1).await;
    let bob = remote_actor(&app, "http://remote.example:1234", "bob", 0).await;

    // Forgeries claiming the server (bad digest) are refused and cost it nothing.
    let mut spoiled = Signing::by(&flood);
    spoiled.digest = Some("SHA-256=AAAA".into());
    for n in 0..20 {
        let r = app
            .send(signed_post("/inbox", arrive(flood.id(), n), &spoiled))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    // Its own five verified activities pass, from whatever address.
    for n in 0..5 {
        let ip = format!("192.0.2.{}", n + 1);
        let r = app
            .send(from(
                &ip,
                signed_post("/inbox", arrive(flood.id(), 100 + n), &Signing::by(&flood)),
            ))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{n}: {}", r.body);
    }
    // The sixth: 429 with Retry-After (a minute for one token at one a minute).
    let r = app
        .send(signed_post(
            "/inbox",
            arrive(flood.id(), 200),
            &Signing::by(&flood),
        ))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!((1..=60).contains(&retry_after(&r)), "{}", retry_after(&r));
    assert!(r.body.contains("flood.example"), "{}", r.body);
    // Another server is not affected.
    let body = serde_json::to_vec(&follow_json(&bob, ALICE, 1)).expect("json");
    let ok = app
        .send(signed_post("/inbox", body, &Signing::by(&bob)))
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
}

/// A signed activity from `{base}/users/{name}`, an actor we do not know (its key must be
/// fetched).
fn from_unknown(base: &str, name: &str, n: usize) -> Request<Body> {
    let actor = format!("{base}/users/{name}");
    let key = RsaPrivateKey::from_pkcs8_pem(&KEYS[0].private_key).expect("key");
    signed_post(
        "/inbox",
        arrive(&actor, n),
        &Signing::new(key, format!("{actor}#main-key")),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn activities_from_unknown_actors_spend_a_fetch_budget_per_client_address() {
    let app = TestApp::with_config(|c| {
        c.federation.inbox_fetch_burst = 3;
        c.federation.inbox_fetch_per_minute = 1;
    })
    .await;
    app.create_user("alice", "member").await;
    let known = remote_actor(&app, "http://remote.example:1234", "bob", 1).await;
    // The peers answer every fetch with nonsense: the key cannot be read, 401. The address
    // claims a new server each time: the budget is the address's, whatever it claims.
    let peers = [
        Sink::start().await,
        Sink::start().await,
        Sink::start().await,
    ];
    let fetched = || peers.iter().map(|p| p.received().len()).sum::<usize>();
    for (n, peer) in peers.iter().enumerate() {
        let base = format!("http://{}", peer.host());
        let r = app
            .send(from(
                "203.0.113.5",
                from_unknown(&base, &format!("ghost{n}"), n),
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{n}: {}", r.body);
    }
    assert_eq!(fetched(), 3);
    // The fourth from that address: 429, nothing fetched.
    let fourth = Sink::start().await;
    let r = app
        .send(from(
            "203.0.113.5",
            from_unknown(&format!("http://{}", fourth.host()), "ghost3", 3),
        ))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.body.contains("needing fetches from 203.0.113.5"),
        "{}",
        r.body
    );
    assert!(retry_after(&r) >= 1);
    assert_eq!(
        fetched() + fourth.received().len(),
        3,
        "no fetch once the budget is spent"
    );
    // An activity of a known actor from that address needs no fetch: accepted.
    let r = app
        .send(from(
            "203.0.113.5",
            signed_post("/inbox", arrive(known.id(), 1), &Signing::by(&known)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    // Another address has its own budget.
    let r = app
        .send(from(
            "198.51.100.7",
            from_unknown(&format!("http://{}", fourth.host()), "ghost4", 4),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(fourth.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_introducing_200_new_actors_at_once_gets_through() {
    let app = TestApp::new().await;
    let peer = Sink::start().await;
    let base = format!("http://{}", peer.host());
    let statuses: Vec<StatusCode> = stream::iter(0..200)
        .map(|n| {
            let request = from("192.0.2.20", from_unknown(&base, &format!("new{n}"), n));
            let app = &app;
            async move { app.send(request).await.status }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    // Each actor was fetched (the peer answers nonsense, hence 401), none was refused for
    // the budget.
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(peer.received().len(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ups_are_limited_per_client_address() {
    let app = TestApp::with_config(|c| c.registration.per_address_per_hour = 2).await;
    for name in ["anne", "bruno"] {
        let r = Browser::from_ip(&app, "203.0.113.9")
            .register(name, &format!("{name}@example.org"), PASSWORD)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
    }
    let r = Browser::from_ip(&app, "203.0.113.9")
        .register("claire", "claire@example.org", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.body
            .contains("Trop de comptes ont été créés depuis votre adresse"),
        "{}",
        r.body
    );
    assert!((1..=3600).contains(&retry_after(&r)));
    assert!(!r.body.contains(PASSWORD), "the password is not sent back");
    assert_eq!(crate::helpers::rows_in(&app, "accounts").await, 2);
    // In English for an English browser.
    let en = Browser::from_ip(&app, "203.0.113.9");
    en.set_cookie("lang", "en");
    let r = en.register("claire", "claire@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.body.contains("Too many accounts were created"),
        "{}",
        r.body
    );
    // Another address may.
    let r = Browser::from_ip(&app, "198.51.100.3")
        .register("claire", "claire@example.org", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let app = TestApp::with_config(|c| {
        c.http.trusted_proxies = vec!["10.0.0.0/8".into()];
        c.registration.per_address_per_hour = 1;
    })
    .await;
    // Through the proxy, each visitor is counted under their own address.
    let r = Browser::behind_proxy(&app, "10.0.0.2", "203.0.113.1")
        .register("anne", "anne@example.org", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = Browser::behind_proxy(&app, "10.0.0.2", "203.0.113.2")
        .register("bruno", "bruno@example.org", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A client-supplied address on the left of the chain does not hide the real one.
    let r = Browser::behind_proxy(&app, "10.0.0.2", "198.18.0.1, 203.0.113.1")
        .register("claire", "claire@example.org", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // From a peer that is not a trusted proxy the header is ignored: counted under the peer.
    let r = Browser::behind_proxy(&app, "192.0.2.50", "203.0.113.3")
        .register("denis", "denis@example.org", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = Browser::behind_proxy(&app, "192.0.2.50", "203.0.113.4")
        .register("emma", "emma@example.org", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}
