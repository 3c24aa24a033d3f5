//! Federation scenarios: real servers on 127.0.0.1 talking real HTTP with real signatures.
//! Instances are in-process unless the scenario is about the process itself (kill, restart);
//! the Fedify peer is a third-party implementation.

#[path = "scenarios/forum.rs"]
mod forum;
#[path = "scenarios/signatures.rs"]
mod signatures;
#[path = "scenarios/workspaces.rs"]
mod workspaces;

use culturecnous::{
    db::accounts::DbAccount,
    service::profile::{ProfileInput, update_profile},
};
use federation_tests::{Instance, Peer, STEP_TIMEOUT, User, eventually, settle};
use serde_json::{Value, json};

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
        ..ProfileInput::from_account(&account, &ctx.config.instance.departement)
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

/// The comments of `object` as `instance`'s API lists them: (author actor id, content HTML).
async fn comments_of(
    instance: &Instance,
    user: &User,
    object: &str,
) -> Result<Vec<(String, String)>, String> {
    let path = format!("/api/v1/comments?{}", query("object", object));
    let answer = instance.api_get(&user.token, &path).await;
    if !answer.status.is_success() {
        return Err(format!("GET {path}: {} {}", answer.status, answer.body));
    }
    let json = answer.json();
    let items = json["items"]
        .as_array()
        .ok_or_else(|| format!("no items in {json}"))?;
    Ok(items
        .iter()
        .map(|c| {
            (
                c["author"]["ap_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                c["content_html"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

fn query(key: &str, value: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(key, value)
        .finish()
}

/// A string field of a JSON answer, or the test fails saying which.
fn field(json: &Value, key: &str) -> String {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        .to_string()
}

/// The whole life of an announcement between two instances: B's member follows A's member; A
/// publishes an announcement, B stores and shows it; B replies, likes and boosts, and A shows
/// the reply under the announcement and the counts; A edits then deletes, and B applies both.
#[tokio::test(flavor = "multi_thread")]
async fn announcement_travels_with_reply_like_boost_edit_and_delete() {
    let (a, b) = tokio::join!(Instance::in_process("A"), Instance::in_process("B"));
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    b.follow(&bob, &a.handle("alice")).await;
    settle(&[&a, &b], "bob's follow of alice accepted", || async {
        match b.follow_state(&bob.ap_id, &alice.ap_id).await.as_deref() {
            Some("accepted") => Ok(()),
            other => Err(format!("on B: {other:?}")),
        }
    })
    .await;

    // A publishes; B stores the Note and shows it on a page of its own.
    let created = a
        .api_post(
            &alice.token,
            "/api/v1/announcements",
            &json!({
                "title": "Résidence de création à Tulle",
                "body": "Deux semaines de **résidence** pour une compagnie de théâtre.",
                "kind": "residence",
                "commune": "Tulle",
            }),
        )
        .await
        .success("alice publishes an announcement");
    let announcement = field(&created, "ap_id");
    let id = created["id"].as_i64().expect("id");
    let stored = settle(&[&a, &b], "B to store alice's announcement", || async {
        b.stored_post(&announcement)
            .await
            .ok_or_else(|| "not stored yet".to_string())
    })
    .await;
    assert_eq!(stored.category, "announcement", "the kind hashtag tells B");
    assert!(
        stored.body_html.contains("<strong>résidence</strong>"),
        "B keeps the formatted text: {}",
        stored.body_html
    );
    let page = b.get_page(&format!("/announcements/{}", stored.id)).await;
    assert_eq!(
        page.status, 200,
        "B's page of the remote announcement: {}",
        page.body
    );
    assert!(page.body.contains("Résidence de création à Tulle"));
    assert!(page.body.contains(&announcement), "B links to the original");

    // B replies, likes and boosts; A shows all three.
    let reply = b
        .api_post(
            &bob.token,
            "/api/v1/comments",
            &json!({"in_reply_to": announcement, "body": "Nous sommes *intéressés* !"}),
        )
        .await
        .success("bob replies");
    let reply_ap_id = field(&reply, "ap_id");
    b.api_post(
        &bob.token,
        "/api/v1/likes",
        &json!({"object": announcement}),
    )
    .await
    .success("bob likes");
    b.api_post(
        &bob.token,
        "/api/v1/boosts",
        &json!({"object": announcement}),
    )
    .await
    .success("bob boosts");
    settle(&[&a, &b], "A to show bob's reply and reactions", || async {
        let comments = comments_of(&a, &alice, &announcement).await?;
        let reactions = a
            .api_get(
                &alice.token,
                &format!("/api/v1/reactions?{}", query("object", &announcement)),
            )
            .await;
        let reactions = reactions.json();
        let replied = comments
            .iter()
            .any(|(author, html)| author == &bob.ap_id && html.contains("<em>intéressés</em>"));
        if replied && reactions["likes"] == 1 && reactions["boosts"] == 1 {
            Ok(())
        } else {
            Err(format!("comments {comments:?}, reactions {reactions}"))
        }
    })
    .await;
    assert_eq!(
        a.received_count(&reply_ap_id).await,
        0,
        "the Note id is not an activity id"
    );
    let page = a.get_page(&format!("/announcements/{id}")).await;
    assert!(
        page.body.contains("<em>intéressés</em>"),
        "A shows the reply under the announcement"
    );

    // A edits, then deletes; B applies both.
    a.api_patch(
        &alice.token,
        &format!("/api/v1/announcements/{id}"),
        &json!({"body": "Trois semaines de **résidence**, dates changées."}),
    )
    .await
    .success("alice edits");
    settle(&[&a, &b], "B to apply the edit", || async {
        let stored = b.stored_post(&announcement).await.ok_or("gone")?;
        if stored.body_html.contains("dates changées") {
            Ok(())
        } else {
            Err(format!("B has {}", stored.body_html))
        }
    })
    .await;
    a.api_delete(&alice.token, &format!("/api/v1/announcements/{id}"))
        .await
        .success("alice deletes");
    settle(&[&a, &b], "B to apply the delete", || async {
        match b.stored_post(&announcement).await {
            Some(stored) if !stored.deleted => Err("still there".to_string()),
            _ => Ok(()),
        }
    })
    .await;
    let page = b.get_page(&format!("/announcements/{}", stored.id)).await;
    assert!(
        page.status == 410 || page.status == 404,
        "B no longer shows the deleted announcement: {}",
        page.status
    );
}

/// Fedify receives a blog post as `Create(Article)` and its vocabulary parses the Article.
#[tokio::test(flavor = "multi_thread")]
async fn fedify_peer_parses_a_blog_post_article() {
    let (a, peer) = tokio::join!(Instance::in_process("A"), Peer::start());
    let alice = a.create_user("alice").await;
    peer.follow(&alice.ap_id).await;
    settle(&[&a], "the peer's follow to be accepted", || async {
        match peer.state().await.following.get(&alice.ap_id) {
            Some(f) if f.state == "accepted" => Ok(()),
            other => Err(format!("peer's follow: {other:?}")),
        }
    })
    .await;

    let created = a
        .api_post(
            &alice.token,
            "/api/v1/posts",
            &json!({
                "title": "Carnet de tournée",
                "summary": "Trois dates dans le nord du département.",
                "body": "Nous jouons à **Ussel**, Meymac et Égletons. #théâtre",
            }),
        )
        .await
        .success("alice publishes a blog post");
    let article = field(&created, "ap_id");
    let object = settle(&[&a], "the peer to parse the Article", || async {
        let received = peer.received().await;
        if !received.errors.is_empty() || !received.refused().is_empty() {
            return Err(format!(
                "peer errors {:?}, refused {:?}",
                received.errors,
                received.refused()
            ));
        }
        received
            .objects
            .iter()
            .find(|o| o.id.as_deref() == Some(article.as_str()))
            .cloned()
            .ok_or_else(|| "no Create received yet".to_string())
    })
    .await;
    assert_eq!(object.kind.as_deref(), Some("Article"), "{object:?}");
    assert_eq!(object.name.as_deref(), Some("Carnet de tournée"));
    assert_eq!(
        object.summary.as_deref(),
        Some("Trois dates dans le nord du département.")
    );
    assert!(
        object
            .content
            .as_deref()
            .is_some_and(|c| c.contains("<strong>Ussel</strong>")),
        "{object:?}"
    );
    assert_eq!(object.attributed_to.as_deref(), Some(alice.ap_id.as_str()));
    let received = peer.received().await;
    assert!(
        received.errors.is_empty(),
        "the peer had errors: {:?}",
        received.errors
    );
}

/// Several servers for one instance: two `culturecnous serve` processes on one database, one
/// data folder and one `instance.url`, behind a round-robin load balancer. Followers on two
/// remote instances follow through the balancer (their signed Follows reach both nodes' inbox);
/// the member publishes through node 1 while both nodes' delivery workers compete for the
/// queue; every remote instance receives each Create exactly once (counted on the wire).
#[tokio::test(flavor = "multi_thread")]
async fn two_serve_nodes_on_one_database_deliver_each_activity_once_and_both_answer_the_inbox() {
    let (a, b, c) = tokio::join!(
        Instance::binary_nodes("A", 2),
        Instance::in_process_tapped("B"),
        Instance::in_process_tapped("C")
    );
    assert_eq!(a.node_count(), 2);
    let alice = a.create_user("alice").await;
    let on_b = ["bea", "basile", "berenice"];
    let on_c = ["camille", "cyril"];
    let mut followers: Vec<(&Instance, User)> = Vec::new();
    for name in on_b {
        followers.push((&b, b.create_user(name).await));
    }
    for name in on_c {
        followers.push((&c, c.create_user(name).await));
    }

    // Each follows alice by handle: WebFinger, actor fetch and the signed Follow all go
    // through the balancer, POSTs alternating between the nodes.
    for (instance, user) in &followers {
        instance.follow(user, &a.handle("alice")).await;
    }
    settle(&[&b, &c], "every follow of alice accepted", || async {
        for (instance, user) in &followers {
            let theirs = instance.follow_state(&user.ap_id, &alice.ap_id).await;
            let ours = a.follow_state(&user.ap_id, &alice.ap_id).await;
            if theirs.as_deref() != Some("accepted") || ours.as_deref() != Some("accepted") {
                return Err(format!(
                    "{}: on {} {theirs:?}, on A {ours:?}; A's logs:\n{}",
                    user.username,
                    instance.name(),
                    a.log_tail(10)
                ));
            }
        }
        Ok(())
    })
    .await;
    let follows_in: Vec<_> = a
        .tapped_requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.activity_type.as_deref() == Some("Follow"))
        .collect();
    assert_eq!(follows_in.len(), followers.len(), "one Follow each");
    for node in 0..a.node_count() {
        let answered: Vec<_> = follows_in.iter().filter(|r| r.backend == node).collect();
        assert!(
            !answered.is_empty()
                && answered
                    .iter()
                    .all(|r| r.path.ends_with("inbox") && r.status == Some(202)),
            "node {} answers signed activities on the inbox: {:?}",
            node + 1,
            follows_in
                .iter()
                .map(|r| (&r.path, r.backend, r.status))
                .collect::<Vec<_>>()
        );
    }

    // Three posts through node 1; both nodes' workers deliver.
    let mut creates = Vec::new();
    for n in 1..=3 {
        let created = a
            .api_on_node(
                0,
                reqwest::Method::POST,
                &alice.token,
                "/api/v1/posts",
                Some(&json!({
                    "title": format!("Billet {n} depuis deux serveurs"),
                    "body": format!("Le billet numéro **{n}**."),
                })),
            )
            .await
            .success("alice publishes through node 1");
        let post = field(&created, "ap_id");
        let activities = a.published_activities("Create", &post).await;
        assert_eq!(activities.len(), 1, "one Create for {post}: {activities:?}");
        creates.push((post, activities[0].clone()));
    }
    settle(&[&b, &c], "every Create delivered to B and C", || async {
        for (post, create) in &creates {
            let rows = a.deliveries_of(create).await;
            if rows.len() != 2 || !rows.iter().all(|r| r.delivered) {
                return Err(format!("deliveries of {create}: {rows:?}"));
            }
            for remote in [&b, &c] {
                if remote.stored_post(post).await.is_none() {
                    return Err(format!("{} has not stored {post}", remote.name()));
                }
            }
        }
        Ok(())
    })
    .await;
    for (_, create) in &creates {
        for remote in [&b, &c] {
            assert_eq!(
                remote.posts_of_activity(create),
                1,
                "{create} reached {} exactly once: {:?}",
                remote.name(),
                remote
                    .tapped_requests()
                    .iter()
                    .filter(|r| r.method == "POST")
                    .map(|r| (&r.path, &r.activity_id, r.status))
                    .collect::<Vec<_>>()
            );
            assert_eq!(remote.received_count(create).await, 1);
        }
    }
    assert_eq!(a.pending_deliveries().await, 0, "nothing left in the queue");
    let mut a = a;
    a.terminate().await;
}

/// The announcement channel: a Fedify account follows `annonces@A` and another instance's
/// member follows it by handle; each new announcement reaches both as the channel's signed
/// `Announce` (a blog post does not); its deletion reaches the Fedify follower as the author's
/// `Delete` and the channel's `Undo(Announce)`.
#[tokio::test(flavor = "multi_thread")]
async fn fedify_peer_and_another_instance_follow_the_channel_and_receive_its_boosts() {
    let (a, b, peer) = tokio::join!(
        Instance::in_process("A"),
        Instance::in_process("B"),
        Peer::start()
    );
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    let channel = format!("{}/users/annonces", a.url());

    peer.follow(&channel).await;
    let state = b.follow(&bob, &a.handle("annonces")).await;
    assert!(state == "pending" || state == "accepted", "got {state}");
    settle(
        &[&a, &b],
        "both follows of the channel accepted",
        || async {
            let peer_state = peer.state().await;
            let peer_follow = peer_state.following.get(&channel).map(|f| f.state.clone());
            let bob_follow = b.follow_state(&bob.ap_id, &channel).await;
            if peer_follow.as_deref() == Some("accepted")
                && bob_follow.as_deref() == Some("accepted")
            {
                Ok(())
            } else {
                let received = peer.received().await;
                Err(format!(
                    "peer: {peer_follow:?}, bob on B: {bob_follow:?}; refused by the peer: {:?}; \
                 peer errors: {:?}",
                    received.refused(),
                    received.errors
                ))
            }
        },
    )
    .await;
    let mut followers = a
        .collection_items(&format!("{channel}/followers"))
        .await
        .expect("the channel's followers");
    followers.sort();
    let mut expected = vec![peer.actor_url().to_string(), bob.ap_id.clone()];
    expected.sort();
    assert_eq!(followers, expected);

    // A blog post, then an announcement: only the announcement is boosted.
    let post = a
        .api_post(
            &alice.token,
            "/api/v1/posts",
            &json!({"title": "Notre saison", "body": "Un article de blog."}),
        )
        .await
        .success("alice writes a blog post");
    let created = a
        .api_post(
            &alice.token,
            "/api/v1/announcements",
            &json!({
                "title": "Appel à projets : résidence d'été",
                "body": "Une résidence de **deux semaines** à Tulle.",
                "kind": "appel_a_projets",
                "commune": "Tulle",
            }),
        )
        .await
        .success("alice publishes an announcement");
    let announcement = field(&created, "ap_id");
    let boost = settle(
        &[&a, &b],
        "the peer to accept the channel's Announce",
        || async {
            let received = peer.received().await;
            received
                .activities
                .iter()
                .find(|x| {
                    x.kind == "Announce" && x.object.as_deref() == Some(announcement.as_str())
                })
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "accepted: {:?}; refused: {:?}; errors: {:?}",
                        received
                            .activities
                            .iter()
                            .map(|x| (&x.kind, &x.object))
                            .collect::<Vec<_>>(),
                        received.refused(),
                        received.errors
                    )
                })
        },
    )
    .await;
    assert_eq!(
        boost.actor.as_deref(),
        Some(channel.as_str()),
        "signed by the channel"
    );
    let boost_id = boost.id.clone().expect("the Announce has an id");
    assert!(boost_id.starts_with(a.url()), "{boost_id}");
    let to = boost.json["to"].to_string();
    assert!(
        to.contains("as:Public") || to.contains("#Public"),
        "{}",
        boost.json
    );
    assert!(
        boost.json["cc"]
            .to_string()
            .contains(&format!("{channel}/followers")),
        "{}",
        boost.json
    );
    let post_ap_id = field(&post, "ap_id");
    let received = peer.received().await;
    assert!(
        received
            .of_kind("Announce")
            .iter()
            .all(|x| x.object.as_deref() != Some(post_ap_id.as_str())),
        "a blog post is not boosted"
    );
    assert_eq!(received.of_kind("Announce").len(), 1, "one boost");

    // The other instance's inbox accepted the same signed Announce.
    let deliveries = a.deliveries_of(&boost_id).await;
    let to_b: Vec<_> = deliveries
        .iter()
        .filter(|d| d.inbox_url.starts_with(b.url()))
        .collect();
    assert_eq!(to_b.len(), 1, "one delivery to B: {deliveries:?}");
    assert!(to_b[0].delivered, "B accepted it: {deliveries:?}");

    // Deleted: the peer hears the Delete (though it follows only the channel) and the Undo.
    let id = created["id"].as_i64().expect("id");
    a.api_delete(&alice.token, &format!("/api/v1/announcements/{id}"))
        .await
        .success("alice deletes");
    settle(&[&a, &b], "the peer to accept the Delete and the Undo", || async {
        let received = peer.received().await;
        let deleted = received
            .of_kind("Delete")
            .iter()
            .any(|x| x.json["object"].to_string().contains(&announcement));
        let undone = received.of_kind("Undo").iter().any(|x| {
            x.actor.as_deref() == Some(channel.as_str())
                && x.json["object"].to_string().contains(&boost_id)
        });
        if deleted && undone {
            Ok(())
        } else {
            Err(format!(
                "Delete: {deleted}, Undo: {undone}; accepted: {:?}; refused: {:?}; errors: {:?}",
                received
                    .activities
                    .iter()
                    .map(|x| (&x.kind, &x.id))
                    .collect::<Vec<_>>(),
                received.refused(),
                received.errors
            ))
        }
    })
    .await;
    let received = peer.received().await;
    assert!(
        received.refused().is_empty() && received.errors.is_empty(),
        "the peer refused {:?}, errors {:?}",
        received.refused(),
        received.errors
    );
}

/// A report travels between servers: B's member reports A's announcement and asks to forward
/// it; B's moderator forwards it; A receives a `Flag` from B's instance actor — never naming
/// B's reporter — and lists it in A's admin queue with B as its origin; A's moderator deletes
/// the announcement and B applies the `Delete`.
#[tokio::test(flavor = "multi_thread")]
async fn a_forwarded_report_reaches_the_authors_server_which_deletes_the_announcement() {
    use culturecnous::{
        db::{self, reports::DbReport, schema::activities},
        service::accounts::set_role,
    };
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;

    let (a, b) = tokio::join!(Instance::in_process("A"), Instance::in_process("B"));
    let (alice, amir, bob, mona) = tokio::join!(
        a.create_user("alice"),
        a.create_user("amir"),
        b.create_user("bob"),
        b.create_user("mona"),
    );
    set_role(a.ctx(), &amir.username, "moderator")
        .await
        .expect("amir moderates A");
    set_role(b.ctx(), &mona.username, "moderator")
        .await
        .expect("mona moderates B");
    // B learns of A's announcement the usual way: bob follows alice.
    b.follow(&bob, &a.handle("alice")).await;
    settle(&[&a, &b], "bob's follow of alice accepted", || async {
        match b.follow_state(&bob.ap_id, &alice.ap_id).await.as_deref() {
            Some("accepted") => Ok(()),
            other => Err(format!("on B: {other:?}")),
        }
    })
    .await;
    let created = a
        .api_post(
            &alice.token,
            "/api/v1/announcements",
            &json!({
                "title": "Stage de théâtre gratuit",
                "body": "Inscrivez-vous sur un site douteux.",
                "kind": "formation",
            }),
        )
        .await
        .success("alice publishes an announcement");
    let announcement = field(&created, "ap_id");
    settle(&[&a, &b], "B to store alice's announcement", || async {
        b.stored_post(&announcement)
            .await
            .ok_or_else(|| "not stored yet".to_string())
    })
    .await;

    // On B: bob reports it and asks to forward; mona forwards.
    let reported = b
        .api_post(
            &bob.token,
            "/api/v1/reports",
            &json!({
                "target": announcement,
                "reason": "spam",
                "comment": "Arnaque déguisée en stage",
                "forward": true,
            }),
        )
        .await
        .success("bob reports alice's announcement");
    let b_report = reported["id"].as_i64().expect("report id");
    b.api_post(
        &mona.token,
        &format!("/api/v1/admin/reports/{b_report}/forward"),
        &json!({}),
    )
    .await
    .success("mona forwards the report");

    // The Flag B sends names neither bob's username nor his actor.
    let flags: Vec<Value> = {
        let mut conn = b.ctx().conn().await.expect("B's database");
        activities::table
            .filter(activities::kind.eq("Flag"))
            .select(activities::data)
            .load(&mut conn)
            .await
            .expect("B's Flags")
    };
    assert_eq!(flags.len(), 1, "one Flag: {flags:?}");
    let flag = flags[0].to_string();
    assert!(
        !flag.contains(&bob.ap_id) && !flag.contains("bob"),
        "the Flag names the reporter: {flag}"
    );
    assert_eq!(flags[0]["actor"], format!("{}/actor", b.url()));

    // A receives it and lists it in its queue, from B, naming the announcement.
    let queue = settle(&[&a, &b], "A to list B's report", || async {
        let answer = a
            .api_get(&amir.token, "/api/v1/admin/reports?state=open")
            .await;
        if !answer.status.is_success() {
            return Err(format!("{}: {}", answer.status, answer.body));
        }
        let items = answer.json()["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        items
            .into_iter()
            .find(|item| item["origin"] == b.domain())
            .ok_or_else(|| format!("no report from {} yet: {}", b.domain(), answer.body))
    })
    .await;
    let targets = queue["targets"].to_string();
    assert!(targets.contains(&announcement), "targets: {targets}");
    let a_report = queue["id"].as_i64().expect("A's report id");
    // A stored it as coming from B's instance actor, and no trace of bob.
    let stored: DbReport = {
        let mut conn = a.ctx().conn().await.expect("A's database");
        db::reports::by_id(&mut conn, a_report)
            .await
            .expect("query")
            .expect("A's report")
    };
    let reporter = {
        let mut conn = a.ctx().conn().await.expect("A's database");
        db::actors::by_id(
            &mut conn,
            stored.reporter_actor_id.expect("a remote reporter"),
        )
        .await
        .expect("reporter")
    };
    assert_eq!(reporter.ap_id, format!("{}/actor", b.url()));
    assert_eq!(stored.reporter_account_id, None);
    assert!(!stored.comment.contains("bob"), "{}", stored.comment);
    assert!(stored.comment.contains("Arnaque"), "{}", stored.comment);

    // A's moderator deletes the announcement; B applies the Delete.
    a.api_post(
        &amir.token,
        &format!("/api/v1/admin/reports/{a_report}/resolve"),
        &json!({"action": "delete"}),
    )
    .await
    .success("amir deletes the announcement");
    settle(&[&a, &b], "B to apply the delete", || async {
        match b.stored_post(&announcement).await {
            Some(stored) if !stored.deleted => Err("still there on B".to_string()),
            _ => Ok(()),
        }
    })
    .await;
}

/// A member of B follows a venue of A (an `Organization` at `/venues/{slug}`, found by
/// WebFinger); A's manager edits the venue (B receives the `Update`) and publishes a
/// residency call as the venue (B receives the `Create` from the venue's actor).
#[tokio::test(flavor = "multi_thread")]
async fn a_remote_member_follows_a_venue_and_receives_its_update_and_residency_call() {
    let (a, b) = tokio::join!(Instance::in_process("A"), Instance::in_process("B"));
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    let created = a
        .api_post(
            &alice.token,
            "/api/v1/venues",
            &json!({
                "name": "La Grange",
                "commune": "Épinal",
                "address": "2 rue des Prés",
                "latitude": 48.17, "longitude": 6.45,
                "capacity": 120,
            }),
        )
        .await
        .success("alice creates a venue");
    let venue = field(&created, "ap_id");
    let venue_id = created["id"].as_i64().expect("id");
    assert!(venue.ends_with("/venues/la-grange"), "{venue}");

    // B's member follows the venue by handle.
    b.follow(&bob, &a.handle("la-grange")).await;
    settle(&[&a, &b], "bob's follow of the venue accepted", || async {
        let on_a = a.follow_state(&bob.ap_id, &venue).await;
        let on_b = b.follow_state(&bob.ap_id, &venue).await;
        if on_a.as_deref() == Some("accepted") && on_b.as_deref() == Some("accepted") {
            Ok(())
        } else {
            Err(format!("on A: {on_a:?}, on B: {on_b:?}"))
        }
    })
    .await;
    let cached = b.actor(&venue).await.expect("B cached the venue's actor");
    assert_eq!(cached.kind, "Organization");
    assert_eq!(cached.name, "La Grange");

    // The manager edits the venue: B's copy follows.
    a.api_patch(
        &alice.token,
        &format!("/api/v1/venues/{venue_id}"),
        &json!({"name": "La Grange aux Concerts", "commune": "Gérardmer"}),
    )
    .await
    .success("alice edits the venue");
    let update = new_update(&a, &venue, 0).await;
    settle(&[&a, &b], "the venue's new name on B", || async {
        let cached = b.actor(&venue).await.ok_or("the venue is not cached")?;
        if cached.name == "La Grange aux Concerts" {
            Ok(())
        } else {
            Err(format!("B has {:?}", cached.name))
        }
    })
    .await;
    assert_eq!(b.received_count(&update).await, 1, "B recorded the Update");
    // What B received names the new place.
    let document = a
        .get_activity_json(&venue)
        .await
        .success("the venue's document");
    assert_eq!(
        document["location"]["address"]["addressLocality"], "Gérardmer",
        "{document}"
    );

    // A residency call published as the venue reaches B, from the venue's actor.
    let call = a
        .api_post(
            &alice.token,
            "/api/v1/announcements",
            &json!({
                "title": "Résidence d'automne à la Grange",
                "body": "Trois semaines de plateau pour une compagnie.",
                "kind": "residence",
                "as_venue": "la-grange",
            }),
        )
        .await
        .success("alice publishes as the venue");
    let announcement = field(&call, "ap_id");
    let stored = settle(
        &[&a, &b],
        "B to store the venue's residency call",
        || async {
            b.stored_post(&announcement)
                .await
                .ok_or_else(|| "not stored yet".to_string())
        },
    )
    .await;
    assert_eq!(stored.category, "announcement");
    let author = b.actor(&venue).await.expect("the venue on B");
    let row = {
        let mut conn = b.ctx().conn().await.expect("connection");
        culturecnous::db::posts::by_ap_id(&mut conn, &announcement)
            .await
            .expect("query")
            .expect("the announcement on B")
    };
    assert_eq!(
        row.author_actor_id, author.id,
        "the venue is the author on B"
    );
}
