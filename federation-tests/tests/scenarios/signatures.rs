//! HTTP signatures with Fedify 2 (`federation-tests/peer2`), which signs its first request to
//! a server with RFC 9421 and falls back to draft-cavage only when refused: we accept its
//! first knock, and it reads what we send.

use federation_tests::{Instance, Peer, PeerOutgoing, settle};

#[tokio::test(flavor = "multi_thread")]
async fn fedify2_peer_is_accepted_on_its_rfc9421_first_knock_and_reads_our_deliveries() {
    let (a, peer) = tokio::join!(Instance::in_process("A"), Peer::start_fedify2());
    let alice = a.create_user("alice").await;

    let follow_id = peer.follow(&alice.ap_id).await;
    settle(
        &[&a],
        "the Fedify 2 peer's follow to be accepted",
        || async {
            let state = peer.state().await;
            match state.following.get(&alice.ap_id) {
                Some(f) if f.state == "accepted" => Ok(()),
                other => {
                    let received = peer.received().await;
                    Err(format!(
                        "peer's follow: {other:?}; refused by the peer: {:?}; peer errors: {:?}; \
                     sent: {:?}",
                        received.refused(),
                        received.errors,
                        received.outgoing
                    ))
                }
            }
        },
    )
    .await;

    let received = peer.received().await;
    // What the peer POSTed to us: its Follow, signed with RFC 9421 and accepted at once (a
    // 401 would have made it knock again with draft-cavage).
    let to_us: Vec<&PeerOutgoing> = received
        .outgoing
        .iter()
        .filter(|o| o.method == "POST" && o.url.starts_with(a.url()))
        .collect();
    assert!(
        !to_us.is_empty(),
        "the peer sent us nothing: {:?}",
        received.outgoing
    );
    for post in &to_us {
        assert_eq!(post.scheme, "rfc9421", "{post:?}");
        assert!(
            post.status.is_some_and(|s| (200..300).contains(&s)),
            "refused: {post:?}"
        );
    }
    // Our Accept reached it and Fedify verified it.
    let accept = peer
        .wait_for_activity("Accept", |activity| {
            activity.object.as_deref() == Some(follow_id.as_str())
        })
        .await;
    assert_eq!(accept.actor.as_deref(), Some(alice.ap_id.as_str()));
    let accepts: Vec<_> = received
        .inbox_requests
        .iter()
        .filter(|r| r.kind.as_deref() == Some("Accept"))
        .collect();
    assert!(
        accepts.iter().all(|r| (200..300).contains(&r.status)),
        "the peer refused our Accept: {accepts:?}"
    );
    assert!(
        received.errors.is_empty(),
        "peer errors: {:?}",
        received.errors
    );
}
