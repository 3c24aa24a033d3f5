//! Federation scenarios: real servers on 127.0.0.1 talking real HTTP with real signatures.
//! Instances are in-process unless the scenario is about the process itself (kill, restart);
//! the Fedify peer is a third-party implementation.

use culturecnous::{
    db::accounts::DbAccount,
    service::profile::{ProfileInput, update_profile},
};
use federation_tests::{Instance, Peer, STEP_TIMEOUT, eventually, settle};

/// Changes a member's display name and bio through the profile domain function, the one the
/// web form and the API call, which federates `Update(Person)` to the followers.
async fn change_profile(instance: &Instance, username: &str, display_name: &str, bio: &str) {
    let ctx = instance.ctx();
    let account: DbAccount = {
        let mut conn = ctx.conn().await.expect("connection");
        culturecnous::db::accounts::by_login(&mut conn, username)
            .await
            .expect("load account")
            .unwrap_or_else(|| panic!("no account {username} on {}", instance.name()))
    };
    let input = ProfileInput {
        display_name: display_name.into(),
        bio: bio.into(),
        ..ProfileInput::from_account(&account)
    };
    update_profile(ctx, &account, &input, None)
        .await
        .unwrap_or_else(|e| panic!("update {username}'s profile: {e:?}"));
}

/// The id of the one `Update` `instance` published about `actor` since `before` of them.
async fn new_update(instance: &Instance, actor: &str, before: usize) -> String {
    let updates = instance.published_activities("Update", actor).await;
    assert_eq!(
        updates.len(),
        before + 1,
        "one profile change must publish exactly one Update about {actor}: {updates:?}"
    );
    updates[before].clone()
}

/// The followers collection URL the actor document announces.
async fn followers_url(instance: &Instance, actor: &str) -> String {
    let answer = instance.get_activity_json(actor).await;
    let json = answer.success(&format!("GET {actor} as activity+json"));
    json["followers"]
        .as_str()
        .unwrap_or_else(|| panic!("{actor} announces no followers collection: {json}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_by_handle_profile_update_and_unfollow_between_two_instances() {
    let (a, b) = tokio::join!(Instance::in_process("A"), Instance::in_process("B"));
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));

    // B's member follows A's member by handle: WebFinger, actor fetch, signed Follow.
    let state = b.follow(&bob, &a.handle("alice")).await;
    assert!(
        state == "pending" || state == "accepted",
        "a fresh remote follow is pending or accepted, got {state}"
    );
    settle(
        &[&a, &b],
        "bob's follow of alice accepted on both sides",
        || async {
            let on_a = a.follow_state(&bob.ap_id, &alice.ap_id).await;
            let on_b = b.follow_state(&bob.ap_id, &alice.ap_id).await;
            if on_a.as_deref() == Some("accepted") && on_b.as_deref() == Some("accepted") {
                Ok(())
            } else {
                Err(format!("on A: {on_a:?}, on B: {on_b:?}"))
            }
        },
    )
    .await;
    let followers = followers_url(&a, &alice.ap_id).await;
    let listed = a.collection_items(&followers).await.expect("followers");
    assert_eq!(listed, vec![bob.ap_id.clone()], "alice's followers on A");
    let cached = b.actor(&alice.ap_id).await.expect("B cached alice's actor");
    assert!(!cached.local);
    assert_eq!(cached.name, "alice");

    // A's profile change reaches B as Update(Person).
    change_profile(&a, "alice", "Alice Martin", "Comédienne à **Tulle**").await;
    let update = new_update(&a, &alice.ap_id, 0).await;
    settle(&[&a, &b], "alice's new profile on B", || async {
        let cached = b.actor(&alice.ap_id).await.ok_or("alice is not cached")?;
        if cached.name == "Alice Martin" && cached.summary_html.contains("<strong>Tulle</strong>") {
            Ok(())
        } else {
            Err(format!(
                "B has {:?} / {:?}",
                cached.name, cached.summary_html
            ))
        }
    })
    .await;
    assert_eq!(b.received_count(&update).await, 1, "B recorded the Update");

    // B's member unfollows: Undo(Follow); A's followers collection is empty again.
    b.unfollow(&bob, &a.handle("alice")).await;
    b.wait_follow_state(&bob.ap_id, &alice.ap_id, None).await;
    settle(&[&a, &b], "alice's followers on A to be empty", || async {
        let state = a.follow_state(&bob.ap_id, &alice.ap_id).await;
        let listed = a.collection_items(&followers).await?;
        if state.is_none() && listed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "follow on A: {state:?}, followers listed: {listed:?}"
            ))
        }
    })
    .await;
}

/// The delivery queue survives a crash: A (the real binary) queues an Update while B is down,
/// is killed with SIGKILL and restarted; B comes back on the same port with the same database
/// and receives the Update exactly once (counted on the wire, in front of B's inbox).
#[tokio::test(flavor = "multi_thread")]
async fn queued_activity_survives_kill9_and_arrives_exactly_once() {
    let (mut a, mut b) = tokio::join!(Instance::binary("A"), Instance::in_process_tapped("B"));
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));

    // By actor URL this time. A's Accept leaves through the binary's own workers.
    b.follow(&bob, &alice.ap_id).await;
    settle(
        &[&b],
        "bob's follow of the binary's alice accepted",
        || async {
            let on_a = a.follow_state(&bob.ap_id, &alice.ap_id).await;
            let on_b = b.follow_state(&bob.ap_id, &alice.ap_id).await;
            if on_a.as_deref() == Some("accepted") && on_b.as_deref() == Some("accepted") {
                Ok(())
            } else {
                Err(format!(
                    "on A: {on_a:?}, on B: {on_b:?}; A's log:\n{}",
                    a.log_tail(20)
                ))
            }
        },
    )
    .await;

    b.stop().await;
    change_profile(
        &a,
        "alice",
        "Alice pendant la panne",
        "Écrit pendant que B dort.",
    )
    .await;
    let update = new_update(&a, &alice.ap_id, 0).await;
    // The binary's worker tries, fails (B is down) and schedules a retry.
    let row = eventually(
        "A's worker to try (and fail) to deliver the Update to the stopped B",
        STEP_TIMEOUT,
        || async {
            let rows = a.deliveries_of(&update).await;
            match rows.as_slice() {
                [row] if row.attempts >= 1 && !row.delivered && row.last_error.is_some() => {
                    Ok(row.clone())
                }
                _ => Err(format!("deliveries: {rows:?}")),
            }
        },
    )
    .await;
    assert!(
        !row.failed,
        "one refused connection must not end the delivery"
    );

    a.kill9();
    assert!(!a.is_running(), "A is down after SIGKILL");
    a.start().await;
    b.start().await;
    // Skip the backoff (minutes) instead of waiting for it: the restarted A's workers deliver.
    assert_eq!(
        a.make_deliveries_due().await,
        1,
        "exactly the Update is pending"
    );
    eventually(
        "the Update to reach B after both restarts",
        STEP_TIMEOUT,
        || async {
            let rows = a.deliveries_of(&update).await;
            let cached = b
                .actor(&alice.ap_id)
                .await
                .ok_or("alice is not cached on B")?;
            if cached.name == "Alice pendant la panne" && rows.iter().all(|r| r.delivered) {
                Ok(())
            } else {
                Err(format!(
                    "B has {:?}; A's deliveries: {rows:?}; A's log:\n{}",
                    cached.name,
                    a.log_tail(20)
                ))
            }
        },
    )
    .await;
    assert_eq!(
        b.posts_of_activity(&update),
        1,
        "the Update reached B's port exactly once: {:?}",
        b.tapped_requests()
            .iter()
            .filter(|r| r.method == "POST")
            .map(|r| (&r.path, &r.activity_type, r.status))
            .collect::<Vec<_>>()
    );
    assert_eq!(b.received_count(&update).await, 1);
    assert_eq!(a.pending_deliveries().await, 0, "nothing left in A's queue");
    a.terminate().await;
}

/// A third-party implementation (Fedify, strict JSON-LD and signatures) follows our member,
/// gets the Accept and the profile Update, and is followed back.
#[tokio::test(flavor = "multi_thread")]
async fn fedify_peer_follows_gets_update_and_is_followed_back() {
    let (a, peer) = tokio::join!(Instance::in_process("A"), Peer::start());
    let alice = a.create_user("alice").await;

    let follow_id = peer.follow(&alice.ap_id).await;
    let answer_of_follow = |kind: &'static str| {
        let follow_id = follow_id.clone();
        move |activity: &federation_tests::PeerActivity| {
            activity.kind == kind && activity.object.as_deref() == Some(follow_id.as_str())
        }
    };
    settle(&[&a], "the peer's follow to be accepted", || async {
        let state = peer.state().await;
        match state.following.get(&alice.ap_id) {
            Some(f) if f.state == "accepted" => Ok(()),
            other => {
                let received = peer.received().await;
                Err(format!(
                    "peer's follow: {other:?}; refused by the peer: {:?}; peer errors: {:?}",
                    received.refused(),
                    received.errors
                ))
            }
        }
    })
    .await;
    let accept = peer
        .wait_for_activity("Accept", answer_of_follow("Accept"))
        .await;
    assert_eq!(accept.actor.as_deref(), Some(alice.ap_id.as_str()));
    assert_eq!(
        a.follow_state(peer.actor_url(), &alice.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    let followers = followers_url(&a, &alice.ap_id).await;
    assert_eq!(
        a.collection_items(&followers).await.expect("followers"),
        vec![peer.actor_url().to_string()]
    );

    change_profile(&a, "alice", "Alice pour Fedify", "Bonjour le *fédivers*").await;
    let update = new_update(&a, &alice.ap_id, 0).await;
    settle(&[&a], "the peer to accept alice's Update", || async {
        let received = peer.received().await;
        match received
            .activities
            .iter()
            .find(|x| x.id.as_deref() == Some(&update))
        {
            Some(activity) => Ok(activity.clone()),
            None => Err(format!(
                "not yet; refused: {:?}; errors: {:?}",
                received.refused(),
                received.errors
            )),
        }
    })
    .await;
    let received = peer.received().await;
    let got = received
        .activities
        .iter()
        .find(|x| x.id.as_deref() == Some(&update))
        .expect("the Update");
    assert_eq!(got.kind, "Update");
    assert_eq!(got.actor.as_deref(), Some(alice.ap_id.as_str()));
    assert_eq!(got.object.as_deref(), Some(alice.ap_id.as_str()));
    assert_eq!(
        got.json["object"]["name"], "Alice pour Fedify",
        "the Update carries the new profile: {}",
        got.json
    );

    // Our member follows the peer back, by actor URL (Fedify's WebFinger wants https).
    let state = a.follow(&alice, peer.actor_url()).await;
    assert!(state == "pending" || state == "accepted", "got {state}");
    settle(
        &[&a],
        "alice's follow of the peer to be accepted",
        || async {
            let ours = a.follow_state(&alice.ap_id, peer.actor_url()).await;
            let theirs = peer.state().await.followers;
            if ours.as_deref() == Some("accepted") && theirs.contains(&alice.ap_id) {
                Ok(())
            } else {
                let received = peer.received().await;
                Err(format!(
                    "on A: {ours:?}; peer's followers: {theirs:?}; refused by the peer: {:?}; \
                 peer errors: {:?}",
                    received.refused(),
                    received.errors
                ))
            }
        },
    )
    .await;

    let received = peer.received().await;
    assert!(
        received.refused().is_empty() && received.errors.is_empty(),
        "the peer refused {:?}, errors {:?}",
        received.refused(),
        received.errors
    );
    assert_eq!(
        received.of_kind("Accept").len(),
        1,
        "one Accept for one Follow"
    );
}
