//! Outbound requests never reach loopback, private or otherwise internal addresses (unless the
//! tests-only switch allows them), whatever path they take: the client, the library's
//! fetches, deliveries.

use crate::{
    common::TestApp,
    sink::{Answer, Sink},
};
use axum::http::StatusCode;
use culturecnous::{
    db,
    federation::{
        delivery::{OutgoingActivity, drain, enqueue},
        http_client::{MAX_BODY_BYTES, Refused, build_client, check_ip, forbidden_range},
    },
};
use std::net::IpAddr;
use url::Url;

#[test]
fn the_classifier_refuses_every_internal_range() {
    for ip in [
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.0.1",
        "198.18.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "224.0.0.251",
        "0.0.0.0",
        "192.0.2.10",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "2001:0:53aa:64c::1",
        "fd00::1",
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::1",
    ] {
        let addr: IpAddr = ip.parse().expect("ip");
        assert!(forbidden_range(addr).is_some(), "{ip} must be refused");
        assert!(matches!(check_ip(addr, false), Err(Refused::Address(..))));
    }
    for ip in ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"] {
        assert!(forbidden_range(ip.parse().expect("ip")).is_none(), "{ip}");
    }
}

/// Whether the request failed because of our filter (middleware or resolver), found by type
/// in the error chain rather than by message.
fn is_refusal(e: &reqwest_middleware::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = match e {
        reqwest_middleware::Error::Middleware(inner) => {
            if inner.downcast_ref::<Refused>().is_some() {
                return true;
            }
            Some(inner.as_ref())
        }
        reqwest_middleware::Error::Reqwest(inner) => Some(inner),
    };
    while let Some(err) = current {
        if err.downcast_ref::<Refused>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<Refused>().is_some())
        {
            return true;
        }
        current = err.source();
    }
    false
}

#[tokio::test]
async fn the_client_refuses_internal_addresses_unless_allowed() {
    let strict = build_client(false, "test").expect("client");
    for url in [
        "http://127.0.0.1:9/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[::1]:9/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[fd00::1]/",
        "http://0x7f.1/",
    ] {
        let error = strict.get(url).send().await.expect_err(url);
        assert!(is_refusal(&error), "{url}: {error:?}");
    }

    // A name resolving to loopback is refused by the resolver, at connection time.
    let sink = Sink::start().await;
    let by_name = format!("http://localhost:{}/", sink.addr.port());
    let error = strict.get(&by_name).send().await.expect_err("localhost");
    assert!(is_refusal(&error), "{error:?}");
    assert_eq!(sink.received().len(), 0, "nothing reached the listener");

    // The same requests go through when the tests-only switch allows it (so the refusals
    // above are the filter's doing, not a dead port).
    let lax = build_client(true, "test").expect("client");
    let ok = lax.get(&by_name).send().await.expect("allowed");
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    let literal = format!("http://127.0.0.1:{}/", sink.addr.port());
    assert_eq!(
        lax.get(&literal).send().await.expect("allowed").status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(sink.received().len(), 2);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let sink = Sink::start().await;
    sink.answer(Answer {
        status: StatusCode::FOUND,
        header: Some(("location".into(), "http://169.254.169.254/".into())),
        ..Answer::default()
    });
    let client = build_client(true, "test").expect("client");
    let response = client
        .get(sink.url("/start").as_str())
        .send()
        .await
        .expect("response");
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "the 302 comes back as is"
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn library_fetches_go_through_the_filter_and_the_cap() {
    use activitypub_federation::fetch::fetch_object_http;
    // Production settings: private addresses refused.
    let strict = TestApp::with_config(|c| c.federation.allow_private_addresses = false).await;
    let data = strict.federation.to_request_data();
    let sink = Sink::start().await;
    for url in [
        "http://127.0.0.1:9/users/x".to_string(),
        "https://169.254.169.254/latest".to_string(),
        format!("http://localhost:{}/users/x", sink.addr.port()),
        "https://localhost/users/x".to_string(),
    ] {
        let result =
            fetch_object_http::<_, serde_json::Value>(&Url::parse(&url).expect("url"), &data).await;
        assert!(result.is_err(), "{url} must be refused");
    }
    assert_eq!(sink.received().len(), 0);

    // With the switch on (tests), the same client fetches, but never more than 1 MiB.
    let lax = TestApp::new().await;
    let data = lax.federation.to_request_data();
    sink.answer(Answer {
        status: StatusCode::OK,
        body_len: 2 * MAX_BODY_BYTES,
        header: Some(("content-type".into(), "application/activity+json".into())),
        ..Answer::default()
    });
    let result = fetch_object_http::<_, serde_json::Value>(&sink.url("/big"), &data).await;
    assert!(
        matches!(
            result,
            Err(activitypub_federation::error::Error::ResponseBodyLimit)
        ),
        "{:?}",
        result.err()
    );
    assert_eq!(sink.received().len(), 1);
    // Fetches are signed by the instance actor (authorized-fetch servers require it).
    assert!(sink.received()[0].headers.contains_key("signature"));
    let key_id = format!("{}#main-key", lax.ctx.urls.instance_actor());
    let signature = sink.received()[0].headers["signature"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(signature.contains(&key_id), "{signature}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fetched_document_with_another_id_is_not_trusted() {
    use activitypub_federation::fetch::fetch_object_http;
    let app = TestApp::new().await;
    let data = app.federation.to_request_data();
    let sink = Sink::start().await;
    // Serves a document claiming to be something on another host.
    let body = serde_json::json!({"id": "http://elsewhere.example/users/x", "type": "Person"});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let served = body.to_string();
    let server = tokio::spawn(async move {
        let app = axum::Router::new().fallback(move || {
            let served = served.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/activity+json",
                    )],
                    served,
                )
            }
        });
        let _ = axum::serve(listener, app).await;
    });
    let url = Url::parse(&format!("http://localhost:{port}/users/x")).expect("url");
    let result = fetch_object_http::<_, serde_json::Value>(&url, &data).await;
    server.abort();
    assert!(
        matches!(
            result,
            Err(activitypub_federation::error::Error::FetchWrongId(_))
        ),
        "{:?}",
        result.err()
    );
    drop(sink);
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_to_internal_addresses_are_refused_for_good() {
    let app = TestApp::with_config(|c| c.federation.allow_private_addresses = false).await;
    let account = app.create_user("alice", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let alice = db::actors::by_id(&mut conn, account.actor_id)
        .await
        .expect("actor");
    let ap_id = app.ctx.urls.activity(&uuid::Uuid::new_v4());
    let json = serde_json::json!({"id": ap_id, "type": "Create", "actor": alice.ap_id});
    let activity_id = enqueue(
        &mut conn,
        &app.ctx.config.domain(),
        OutgoingActivity {
            ap_id: &ap_id,
            kind: "Create",
            actor: &alice,
            object_ap_id: None,
            json,
            public: true,
        },
        vec![
            Url::parse("http://127.0.0.1:9/inbox").expect("url"),
            Url::parse("http://[::ffff:a9fe:a9fe]/inbox").expect("url"),
            Url::parse("https://localhost/inbox").expect("url"),
        ],
    )
    .await
    .expect("enqueue");
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 3);
    let rows = db::deliveries::by_activity(&mut conn, activity_id)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert!(row.failed_at.is_some(), "refused for good: {row:?}");
        assert!(
            row.last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("not sent")),
            "{row:?}"
        );
    }
}
