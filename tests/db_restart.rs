//! Fault tolerance: the database restarts (`pg_ctl restart -m fast`) while the inbox is under
//! load. The inbox must answer 503 while it cannot reach the database (senders retry), never
//! 202 for an activity it did not store, and recover without restarting the process.
//!
//! A test binary of its own: it restarts this process' whole test cluster, which would break
//! any other test running against it at the same time.

#[path = "support/remote.rs"]
mod remote;

use culturecnous::{
    db::{
        self,
        schema::{activities, follows, received_activities},
    },
    service::accounts::{NewAccountInput, create_account},
    testing::TestDatabases,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use remote::SignedPost;
use reqwest::StatusCode;
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

/// Remote servers sending (the inbox limits each signing host to a burst of 300).
const HOSTS: usize = 8;
/// Follows sent before and during the restart, then after it.
const BEFORE: usize = 600;
const AFTER: usize = 100;
const SENDERS: usize = 12;

/// What the senders saw.
#[derive(Default)]
struct Tally {
    /// Activity id → when it was answered 202.
    accepted: HashMap<String, Instant>,
    unavailable: usize,
    transport_errors: Vec<String>,
    /// Anything else: (status, activity id).
    unexpected: Vec<(StatusCode, String)>,
}

/// Sends every queued request; on 503 (or a dropped connection) the same request goes back
/// in the queue, as a real sender retries. Returns when the queue is empty.
async fn send_all(
    client: reqwest::Client,
    addr: std::net::SocketAddr,
    queue: Arc<Mutex<VecDeque<SignedPost>>>,
    tally: Arc<Mutex<Tally>>,
) {
    loop {
        let Some(post) = queue.lock().expect("queue").pop_front() else {
            return;
        };
        let result = remote::send(&client, addr, &post).await;
        let retry = {
            let mut tally = tally.lock().expect("tally");
            match result {
                Ok(StatusCode::ACCEPTED) => {
                    tally
                        .accepted
                        .insert(post.activity_id.clone(), Instant::now());
                    false
                }
                Ok(StatusCode::SERVICE_UNAVAILABLE) => {
                    tally.unavailable += 1;
                    true
                }
                Ok(status) => {
                    tally.unexpected.push((status, post.activity_id.clone()));
                    false
                }
                Err(e) => {
                    tally.transport_errors.push(e);
                    true
                }
            }
        };
        if retry {
            tokio::time::sleep(Duration::from_millis(20)).await;
            queue.lock().expect("queue").push_back(post);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_under_inbox_load_is_503_then_recovers_and_loses_nothing() {
    // Shown when the test fails: what the server logged (an internal error says which one).
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let dbs = TestDatabases::get();
    let Some(cluster) = dbs.cluster() else {
        eprintln!(
            "skipped: TEST_DATABASE_URL points at an external database, which this test \
             cannot restart"
        );
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut config = dbs.config(addr.port()).await;
    // Only the inbox talks to the database: the Accepts it queues stay queued.
    config.federation.delivery_workers = 0;
    let instance = culturecnous::start_with_listener(config, listener)
        .await
        .expect("instance starts");
    let ctx = instance.ctx.clone();
    let alice = create_account(
        &ctx,
        NewAccountInput {
            username: "alice".into(),
            email: "alice@example.org".into(),
            password: "un mot de passe solide".into(),
            kind: "individual".into(),
            role: "member".into(),
            display_name: "Alice".into(),
        },
    )
    .await
    .expect("alice");
    let alice_ap_id = ctx.urls.user("alice");

    let keypair = tokio::task::spawn_blocking(|| remote::keypairs(1).remove(0))
        .await
        .expect("keys");
    let key = remote::private_key(&keypair);
    let mut senders = Vec::new();
    {
        let mut conn = ctx.conn().await.expect("conn");
        for h in 0..HOSTS {
            let base = format!("http://remote{h}.example");
            let row = remote::actor_row(&base, "bob", &keypair.public_key);
            db::actors::insert(&mut conn, &row)
                .await
                .expect("remote actor");
            senders.push(row.ap_id);
        }
    }
    let host = ctx.config.domain();
    let sign = {
        let alice_ap_id = alice_ap_id.clone();
        move |range: std::ops::Range<usize>| -> VecDeque<SignedPost> {
            range
                .map(|n| {
                    let actor = &senders[n % HOSTS];
                    let follow = serde_json::json!({
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "id": format!("{actor}/follows/{n}"),
                        "type": "Follow",
                        "actor": actor,
                        "object": alice_ap_id,
                    });
                    remote::sign_post(
                        &key,
                        &format!("{actor}#main-key"),
                        &host,
                        "/inbox",
                        &follow,
                        SystemTime::now(),
                    )
                })
                .collect()
        }
    };
    let (before, after) =
        tokio::task::spawn_blocking(move || (sign(0..BEFORE), sign(BEFORE..BEFORE + AFTER)))
            .await
            .expect("signing");
    let all_ids: Vec<String> = before
        .iter()
        .chain(after.iter())
        .map(|p| p.activity_id.clone())
        .collect();

    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let queue = Arc::new(Mutex::new(before));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let load: Vec<_> = (0..SENDERS)
        .map(|_| tokio::spawn(send_all(client.clone(), addr, queue.clone(), tally.clone())))
        .collect();

    // Restart once the load is well under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.lock().expect("tally").accepted.len() < 100 {
        assert!(Instant::now() < deadline, "the inbox never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let restart_started = Instant::now();
    cluster.restart().await.expect("pg_ctl restart");
    let restart_done = Instant::now();
    let in_queue_at_restart_end = queue.lock().expect("queue").len();
    for task in load {
        task.await.expect("sender");
    }

    // After the restart, in the same process: the pool has recovered.
    let queue = Arc::new(Mutex::new(after));
    let load: Vec<_> = (0..SENDERS)
        .map(|_| tokio::spawn(send_all(client.clone(), addr, queue.clone(), tally.clone())))
        .collect();
    for task in load {
        task.await.expect("sender");
    }

    let tally = std::mem::take(&mut *tally.lock().expect("tally"));
    assert!(
        tally.unexpected.is_empty(),
        "only 202 and 503 are acceptable answers, got {:?}",
        &tally.unexpected[..tally.unexpected.len().min(10)]
    );
    assert!(
        tally.transport_errors.is_empty(),
        "the server dropped connections: {:?}",
        &tally.transport_errors[..tally.transport_errors.len().min(10)]
    );
    assert!(
        tally.unavailable > 0,
        "no request was answered 503: the restart ({:?}) did not happen under load \
         ({in_queue_at_restart_end} requests were still queued when it ended)",
        restart_done - restart_started
    );
    assert_eq!(tally.accepted.len(), all_ids.len(), "every Follow accepted");
    assert!(
        tally.accepted.values().any(|at| *at > restart_done),
        "requests were accepted after the restart"
    );

    // Every activity answered 202 is stored, and stored once.
    let mut conn = ctx.conn().await.expect("the pool recovered");
    let received: Vec<String> = received_activities::table
        .select(received_activities::ap_id)
        .load(&mut conn)
        .await
        .expect("received ids");
    let accepts: Vec<Option<String>> = activities::table
        .filter(activities::kind.eq("Accept"))
        .select(activities::object_ap_id)
        .load(&mut conn)
        .await
        .expect("accepts");
    let mut accepts_per_follow: HashMap<String, usize> = HashMap::new();
    for object in accepts.into_iter().flatten() {
        *accepts_per_follow.entry(object).or_default() += 1;
    }
    let mut missing = Vec::new();
    for id in &all_ids {
        if !received.contains(id) || accepts_per_follow.get(id) != Some(&1) {
            missing.push((
                id.clone(),
                received.contains(id),
                accepts_per_follow.get(id).copied(),
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} accepted Follows are not stored exactly once (id, id recorded, Accepts): {:?}",
        missing.len(),
        all_ids.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(accepts_per_follow.len(), all_ids.len(), "no other Accept");
    let accepted_follows: i64 = follows::table
        .filter(follows::followee_id.eq(alice.actor_id))
        .filter(follows::state.eq("accepted"))
        .count()
        .get_result(&mut conn)
        .await
        .expect("follows");
    assert_eq!(accepted_follows, HOSTS as i64);
    eprintln!(
        "restart took {:?}; {} answers were 503 meanwhile; {} Follows stored once each",
        restart_done - restart_started,
        tally.unavailable,
        all_ids.len()
    );
    drop(conn);
    instance.shutdown().await;
}
