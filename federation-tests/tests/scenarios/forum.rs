//! The forum across instances (issue 13): B's member follows A's category by handle (as a
//! Lemmy user follows a community), receives the thread and the reply the category announces
//! and keeps them (the thread as a remote post, the reply as its comment); B's member then
//! posts a thread into A's category, which A shows and re-announces to its other followers —
//! here a Fedify peer, which also receives the `Announce` of A's own new thread.
//!
//! B has no way yet to write into a remote category from its UI or API, so B's thread is
//! driven from the harness: a Lemmy-shaped `Create(Page)` queued in B's delivery queue as
//! B's member, which B's own workers sign with the member's key and deliver over HTTP.

use culturecnous::{
    db::{self, accounts::DbAccount, schema::accounts},
    federation::delivery::{OutgoingActivity, enqueue},
    service::forum::{categories::CategoryInput, threads::ThreadInput},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use federation_tests::{Instance, Peer, settle};
use serde_json::json;

async fn account(instance: &Instance, username: &str) -> DbAccount {
    let mut conn = instance.ctx().conn().await.expect("connection");
    db::accounts::by_login(&mut conn, username)
        .await
        .expect("load account")
        .unwrap_or_else(|| panic!("no account {username} on {}", instance.name()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_category_followed_from_another_instance_and_a_fedify_peer_announces_its_threads() {
    let (a, b, peer) = tokio::join!(
        Instance::in_process("A"),
        Instance::in_process("B"),
        Peer::start()
    );
    let (_regie, alice, carol, bob) = tokio::join!(
        a.create_user("regie"),
        a.create_user("alice"),
        a.create_user("carol"),
        b.create_user("bob")
    );
    {
        let mut conn = a.ctx().conn().await.expect("connection");
        diesel::update(accounts::table.filter(accounts::username.eq("regie")))
            .set(accounts::role.eq("staff"))
            .execute(&mut conn)
            .await
            .expect("regie is staff");
    }
    let category = culturecnous::service::forum::categories::create(
        a.ctx(),
        &account(&a, "regie").await,
        CategoryInput {
            name: "Théâtre amateur".into(),
            description: "Troupes et répétitions.".into(),
            slug: String::new(),
        },
    )
    .await
    .expect("category");
    let group = format!("{}/forum/{}", a.url(), category.slug);

    // B's member follows it by handle (WebFinger `theatre-amateur@A`), the peer by its id.
    b.follow(&bob, &a.handle(&category.slug)).await;
    peer.follow(&group).await;
    settle(
        &[&a, &b],
        "both follows of the category accepted",
        || async {
            let on_b = b.follow_state(&bob.ap_id, &group).await;
            let peer_state = peer.state().await;
            let on_peer = peer_state.following.get(&group).map(|f| f.state.clone());
            if on_b.as_deref() == Some("accepted") && on_peer.as_deref() == Some("accepted") {
                Ok(())
            } else {
                let received = peer.received().await;
                Err(format!(
                    "bob on B: {on_b:?}, peer: {on_peer:?}; peer refused {:?}, errors {:?}",
                    received.refused(),
                    received.errors
                ))
            }
        },
    )
    .await;
    let cached = b.actor(&group).await.expect("B keeps the category's actor");
    assert_eq!(cached.kind, "Group");

    // A's member starts a thread, another replies.
    let data = a.federation().to_request_data();
    let thread = culturecnous::service::forum::threads::start(
        &data,
        &account(&a, "alice").await,
        &category.slug,
        ThreadInput {
            title: "Une salle pour répéter à Épinal ?".into(),
            body: "Nous sommes **douze**, le mardi soir.".into(),
        },
    )
    .await
    .expect("alice's thread");
    let reply = culturecnous::service::comments::comment(
        &data,
        &account(&a, "carol").await,
        &thread.ap_id,
        "La MJC a une salle libre.",
    )
    .await
    .expect("carol's reply");
    let _ = (&alice, &carol);

    // B keeps the announced thread as a remote post, and the reply under it.
    let stored = settle(&[&a, &b], "B to keep the announced thread", || async {
        b.stored_post(&thread.ap_id)
            .await
            .ok_or_else(|| "not stored yet".to_string())
    })
    .await;
    assert_eq!(stored.title, "Une salle pour répéter à Épinal ?");
    settle(&[&a, &b], "B to keep the announced reply", || async {
        let mut conn = b.ctx().conn().await.expect("connection");
        match db::comments::by_ap_id(&mut conn, &reply.ap_id)
            .await
            .expect("query")
        {
            Some(c) if c.post_id == stored.id => Ok(()),
            other => Err(format!("B has {other:?}")),
        }
    })
    .await;

    // The peer got the category's Announce of the thread (the bare one Mastodon reads).
    let announce = peer
        .wait_for_activity("Announce", |x| {
            x.actor.as_deref() == Some(group.as_str())
                && x.object.as_deref() == Some(thread.ap_id.as_str())
        })
        .await;
    assert_eq!(announce.json["actor"], group.as_str());

    // B's member posts a thread into A's category (Lemmy's shape), delivered by B's workers.
    let page_id = format!("{}/objects/{}", b.url(), uuid::Uuid::new_v4());
    let create_id = format!("{}/activities/{}", b.url(), uuid::Uuid::new_v4());
    {
        let ctx = b.ctx();
        let mut conn = ctx.conn().await.expect("connection");
        let bob_actor = db::actors::by_ap_id(&mut conn, &bob.ap_id)
            .await
            .expect("query")
            .expect("bob");
        let public = "https://www.w3.org/ns/activitystreams#Public";
        let create = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": create_id,
            "type": "Create",
            "actor": bob.ap_id,
            "to": [public],
            "cc": [group],
            "audience": group,
            "object": {
                "id": page_id,
                "type": "Page",
                "attributedTo": bob.ap_id,
                "name": "Festival de printemps : qui vient ?",
                "content": "<p>Nous jouons à Remiremont en avril.</p>",
                "mediaType": "text/html",
                "to": [group, public],
                "audience": group,
                "published": chrono::Utc::now(),
            }
        });
        enqueue(
            &mut conn,
            &ctx.config.domain(),
            OutgoingActivity {
                ap_id: &create_id,
                kind: "Create",
                actor: &bob_actor,
                object_ap_id: Some(&page_id),
                json: create,
                public: true,
            },
            vec![url::Url::parse(&format!("{group}/inbox")).expect("inbox")],
        )
        .await
        .expect("queue bob's thread");
    }
    let shown = settle(&[&a, &b], "A to show B's thread", || async {
        a.stored_post(&page_id)
            .await
            .ok_or_else(|| "not stored yet".to_string())
    })
    .await;
    assert_eq!(shown.category, "thread");
    assert_eq!(shown.title, "Festival de printemps : qui vient ?");
    // Re-announced to the other followers under its original id, never back to B.
    let relayed = peer
        .wait_for_activity("Announce", |x| {
            x.actor.as_deref() == Some(group.as_str())
                && x.json["object"]["id"].as_str() == Some(create_id.as_str())
        })
        .await;
    assert_eq!(relayed.json["object"]["object"]["id"], page_id.as_str());
    let announces = a.published_activities("Announce", &page_id).await;
    assert!(!announces.is_empty(), "A announced B's thread");
    for id in &announces {
        for row in a.deliveries_of(id).await {
            assert!(
                !row.inbox_url.starts_with(b.url()),
                "B's own thread sent back to B: {row:?}"
            );
        }
    }
}
