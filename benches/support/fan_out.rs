//! B-3's world, shared by the fan-out bench and the kill -9 durability bench: 500 sink
//! instances (450 with a shared inbox, 50 without) answering after 20–50 ms, each with 20
//! remote followers of one local sender.

use crate::sink::{Answer, Sink};
use culturecnous::{
    context::AppContext,
    db::{
        actors::{DbActor, NewActor},
        schema::{actors, follows},
    },
    error::AppError,
    federation::delivery::{OutgoingActivity, enqueue, followers_inboxes},
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::{future::Future, time::Duration};

pub const SHARED_INSTANCES: usize = 450;
pub const SOLO_INSTANCES: usize = 50;
pub const FOLLOWERS_PER_INSTANCE: usize = 20;
/// One request per shared inbox, one per follower elsewhere.
pub const EXPECTED_REQUESTS: usize = SHARED_INSTANCES + SOLO_INSTANCES * FOLLOWERS_PER_INSTANCE;

/// Starts the sinks with `start_sink`, makes them trust `sender`'s key, and inserts their
/// followers of `sender` (accepted). Returns the sinks and the number of followers.
pub async fn build<F, Fut>(
    conn: &mut AsyncPgConnection,
    sender: &DbActor,
    start_sink: F,
) -> anyhow::Result<(Vec<Sink>, usize)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Sink>,
{
    let key_id = format!("{}#main-key", sender.ap_id);
    let mut sinks = Vec::with_capacity(SHARED_INSTANCES + SOLO_INSTANCES);
    for i in 0..SHARED_INSTANCES + SOLO_INSTANCES {
        let sink = start_sink().await;
        sink.trust(&key_id, &sender.public_key_pem);
        sink.answer(Answer {
            latency: Duration::from_millis(20 + (i as u64 * 7) % 31),
            ..Answer::default()
        });
        sinks.push(sink);
    }
    let now = chrono::Utc::now();
    let mut followers = Vec::new();
    for (i, sink) in sinks.iter().enumerate() {
        let host = sink.host();
        for n in 0..FOLLOWERS_PER_INSTANCE {
            followers.push(NewActor {
                ap_id: format!("http://{host}/users/f{n}"),
                kind: "Person".into(),
                username: format!("f{n}"),
                domain: host.clone(),
                local: false,
                name: format!("Follower {n}"),
                summary_html: String::new(),
                icon_url: None,
                url: None,
                inbox_url: format!("http://{host}/users/f{n}/inbox"),
                shared_inbox_url: (i < SHARED_INSTANCES).then(|| format!("http://{host}/inbox")),
                outbox_url: None,
                followers_url: None,
                following_url: None,
                public_key_pem: sender.public_key_pem.clone(),
                private_key_pem: None,
                manually_approves_followers: false,
                discoverable: true,
                published: now,
                last_refreshed_at: now,
            });
        }
    }
    for chunk in followers.chunks(1000) {
        let ids: Vec<i64> = diesel::insert_into(actors::table)
            .values(chunk)
            .returning(actors::id)
            .get_results(conn)
            .await?;
        let rows: Vec<_> = ids
            .iter()
            .map(|id| {
                (
                    follows::follower_id.eq(*id),
                    follows::followee_id.eq(sender.id),
                    follows::state.eq("accepted"),
                    follows::activity_ap_id.eq(format!("http://bench.example/follows/{id}")),
                )
            })
            .collect();
        diesel::insert_into(follows::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok((sinks, followers.len()))
}

/// Enqueues one public `Create(Note)` by `sender` to all its followers' inboxes, in one
/// transaction as the domain functions do; returns the activity row id.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    ctx: &AppContext,
    sender: &DbActor,
) -> Result<i64, AppError> {
    let domain = ctx.config.domain();
    let ap_id = ctx.urls.activity(&uuid::Uuid::new_v4());
    let json = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": ap_id,
        "type": "Create",
        "actor": sender.ap_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/followers", sender.ap_id)],
        "object": {
            "id": format!("{}/posts/1", ctx.urls.base()),
            "type": "Note",
            "attributedTo": sender.ap_id,
            "content": "<p>Appel à projets : résidence d'artistes au printemps.</p>".repeat(10),
        },
    });
    conn.transaction::<i64, AppError, _>(async |conn| {
        let inboxes = followers_inboxes(conn, sender.id).await?;
        enqueue(
            conn,
            &domain,
            OutgoingActivity {
                ap_id: &ap_id,
                kind: "Create",
                actor: sender,
                object_ap_id: None,
                json,
                public: true,
            },
            inboxes,
        )
        .await
    })
    .await
}
