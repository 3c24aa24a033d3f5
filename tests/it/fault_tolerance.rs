//! Fault tolerance of delivery as `serve` runs it (background workers, not `drain`): a remote
//! that trickles its answer at one byte a second, and hosts that have been down for hours,
//! must not hold up deliveries to anyone else. (`delivery.rs` covers the same rules one send
//! at a time through `drain`; the database restart under inbox load has its own test binary,
//! `tests/db_restart.rs`.)

use crate::{common::TestApp, sink::Sink};
use chrono::Utc;
use culturecnous::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        deliveries::DbDelivery,
        schema::{deliveries, instances},
    },
    error::AppError,
    federation::{
        delivery::{OutgoingActivity, enqueue},
        spawn_background_tasks,
    },
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::{io::AsyncWriteExt, net::TcpListener, task::JoinSet};
use url::Url;

/// Most sends a process has in flight to one host (`EngineSettings::worker().per_host`).
const PER_HOST: i64 = 4;

/// An instance whose background workers run as in `serve`, with `workers` workers, and a
/// member whose key signs.
async fn with_workers(workers: u32) -> (TestApp, DbActor) {
    let app = TestApp::with_config(|c| c.federation.delivery_workers = workers).await;
    let account = app.create_user("alice", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::by_id(&mut conn, account.actor_id)
        .await
        .expect("actor");
    (app, actor)
}

/// Enqueues a `Create(Note)` by `actor` to `inboxes`; returns the activity row id.
async fn publish(ctx: &AppContext, actor: &DbActor, inboxes: Vec<Url>) -> i64 {
    let ap_id = ctx.urls.activity(&uuid::Uuid::new_v4());
    let json = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": ap_id,
        "type": "Create",
        "actor": actor.ap_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": format!("{ap_id}/note"),
            "type": "Note",
            "attributedTo": actor.ap_id,
            "content": "<p>Répétition ouverte samedi</p>",
        },
    });
    let domain = ctx.config.domain();
    let mut conn = ctx.conn().await.expect("conn");
    conn.transaction::<i64, AppError, _>(async |conn| {
        enqueue(
            conn,
            &domain,
            OutgoingActivity {
                ap_id: &ap_id,
                kind: "Create",
                actor,
                object_ap_id: None,
                json,
                public: true,
            },
            inboxes,
        )
        .await
    })
    .await
    .expect("enqueue")
}

async fn rows_of(ctx: &AppContext, activity_id: i64) -> Vec<DbDelivery> {
    let mut conn = ctx.conn().await.expect("conn");
    db::deliveries::by_activity(&mut conn, activity_id)
        .await
        .expect("rows")
}

/// Rows of `domain` a worker holds right now.
async fn claimed_on(ctx: &AppContext, domain: &str) -> i64 {
    let mut conn = ctx.conn().await.expect("conn");
    deliveries::table
        .filter(deliveries::domain.eq(domain))
        .filter(deliveries::claimed_at.is_not_null())
        .filter(deliveries::delivered_at.is_null())
        .filter(deliveries::failed_at.is_null())
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

/// A remote that accepts connections and then misbehaves, counting connections. Dropping it
/// closes every connection it holds.
struct BadRemote {
    port: u16,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

enum Behaviour {
    /// Answers `202 Accepted` one byte per second.
    Trickle,
    /// Reads the request and never answers.
    Silent,
}

impl BadRemote {
    async fn start(behaviour: Behaviour) -> BadRemote {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            // Owned here: aborting this task drops the set, which aborts (and closes) them all.
            let mut open = JoinSet::new();
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                match behaviour {
                    Behaviour::Trickle => open.spawn(async move {
                        // A real server answers once it has the request.
                        if read_request(&mut socket).await.is_none() {
                            return;
                        }
                        for byte in b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n" {
                            if socket.write_all(&[*byte]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }),
                    Behaviour::Silent => open.spawn(async move {
                        use tokio::io::AsyncReadExt;
                        let mut buf = [0u8; 4096];
                        while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                    }),
                };
            }
        });
        BadRemote {
            port,
            connections,
            task,
        }
    }

    fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    fn inbox(&self, n: usize) -> Url {
        Url::parse(&format!("http://{}/users/u{n}/inbox", self.host())).expect("url")
    }

    fn connections(&self) -> usize {
        AtomicUsize::load(&self.connections, Ordering::SeqCst)
    }
}

impl Drop for BadRemote {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP/1.1 request (headers, then `content-length` bytes of body).
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<()> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
        let body_len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if data.len() >= end + 4 + body_len {
            return Some(());
        }
    }
}

/// Polls `check` every 20 ms until it holds; fails with `what` after `timeout`.
async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stop_workers(
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
) {
    stop.send(true).expect("stop");
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("background task stops")
            .expect("no panic");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickling_remote_holds_a_few_slots_and_frees_them_at_the_timeout() {
    // One worker: whatever the slow host holds, nobody else can use.
    let (app, alice) = with_workers(1).await;
    let slow = BadRemote::start(Behaviour::Trickle).await;
    let fast = Sink::start().await;
    fast.trust(&format!("{}#main-key", alice.ap_id), &alice.public_key_pem);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks = spawn_background_tasks(&app.ctx, &app.federation, stopped);

    let slow_inboxes: Vec<Url> = (0..2 * PER_HOST as usize).map(|n| slow.inbox(n)).collect();
    let slow_activity = publish(&app.ctx, &alice, slow_inboxes).await;
    let enqueued = Instant::now();
    wait_for(
        "the worker to start on the slow host",
        Duration::from_secs(5),
        || async { slow.connections() >= PER_HOST as usize },
    )
    .await;
    // Published while the slow host holds its slots: it goes out at once.
    let fast_activity = publish(&app.ctx, &alice, vec![fast.url("/inbox")]).await;
    let published = Instant::now();
    wait_for(
        "the fast host to be served",
        Duration::from_secs(5),
        || async {
            rows_of(&app.ctx, fast_activity).await[0]
                .delivered_at
                .is_some()
        },
    )
    .await;
    // Causal, not timed: the fast host was served while every slow send still hung, i.e.
    // before the first of them reached its timeout.
    assert!(
        rows_of(&app.ctx, slow_activity)
            .await
            .iter()
            .all(|r| r.attempts == 0),
        "the fast delivery waited {:?} for the slow host's timeouts",
        published.elapsed()
    );
    assert!(fast.received()[0].verified.is_ok());
    // The slow host never gets more than its share, however long it takes.
    assert_eq!(slow.connections(), PER_HOST as usize);
    assert_eq!(claimed_on(&app.ctx, &slow.host()).await, PER_HOST);

    // At the 10 s timeout the slots are freed: the first sends are recorded as failed
    // attempts, and the same worker moves on to the next rows for that host.
    wait_for(
        "the slow sends to time out",
        Duration::from_secs(16),
        || async {
            rows_of(&app.ctx, slow_activity)
                .await
                .iter()
                .filter(|r| r.attempts == 1)
                .count()
                == PER_HOST as usize
        },
    )
    .await;
    let freed_after = enqueued.elapsed();
    assert!(
        freed_after >= Duration::from_secs(9),
        "timed out early ({freed_after:?})"
    );
    let rows = rows_of(&app.ctx, slow_activity).await;
    for row in rows.iter().filter(|r| r.attempts == 1) {
        assert!(
            row.delivered_at.is_none() && row.claimed_at.is_none(),
            "{row:?}"
        );
        assert!(
            row.last_error.is_some() && row.next_attempt_at > Utc::now(),
            "retried later: {row:?}"
        );
    }
    wait_for(
        "the next rows to be sent",
        Duration::from_secs(3),
        || async { slow.connections() == 2 * PER_HOST as usize },
    )
    .await;
    // Closing the slow host's connections ends the sends in flight; the worker stops cleanly.
    drop(slow);
    stop_workers(stop, tasks).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hosts_down_for_hours_do_not_delay_deliveries_to_other_hosts() {
    let (app, alice) = with_workers(2).await;
    let silent = BadRemote::start(Behaviour::Silent).await;
    let refusing = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("localhost:{}", listener.local_addr().expect("addr").port())
    };
    let sinks: Vec<Sink> = futures::future::join_all((0..10).map(|_| Sink::start())).await;
    // Both hosts have been failing for five hours, and a backlog for them is overdue: it is
    // older than anything else in the queue, so it comes first in claim order.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        for host in [silent.host(), refusing.clone()] {
            diesel::insert_into(instances::table)
                .values((
                    instances::domain.eq(host),
                    instances::first_failure_at.eq(Utc::now() - chrono::Duration::hours(5)),
                    instances::last_failure_at.eq(Utc::now() - chrono::Duration::minutes(2)),
                ))
                .execute(&mut conn)
                .await
                .expect("instance");
        }
    }
    let backlog: Vec<Url> = (0..150)
        .flat_map(|n| {
            [
                silent.inbox(n),
                Url::parse(&format!("http://{refusing}/users/u{n}/inbox")).expect("url"),
            ]
        })
        .collect();
    let backlog_activity = publish(&app.ctx, &alice, backlog).await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(deliveries::table.filter(deliveries::activity_id.eq(backlog_activity)))
            .set((
                deliveries::attempts.eq(3),
                deliveries::next_attempt_at.eq(Utc::now() - chrono::Duration::hours(3)),
            ))
            .execute(&mut conn)
            .await
            .expect("overdue backlog");
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks = spawn_background_tasks(&app.ctx, &app.federation, stopped);
    wait_for(
        "the backlog to be worked on",
        Duration::from_secs(5),
        || async { silent.connections() > 0 },
    )
    .await;
    let fresh = publish(
        &app.ctx,
        &alice,
        sinks.iter().map(|s| s.url("/inbox")).collect(),
    )
    .await;
    let published = Instant::now();
    let mut most_silent_claimed = 0;
    let deadline = published + Duration::from_secs(10);
    loop {
        most_silent_claimed = most_silent_claimed.max(claimed_on(&app.ctx, &silent.host()).await);
        let rows = rows_of(&app.ctx, fresh).await;
        if rows.iter().all(|r| r.delivered_at.is_some()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries to healthy hosts still waiting after 10 s: {:?}",
            rows.iter()
                .filter(|r| r.delivered_at.is_none())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Without the per-host cap, 300 overdue rows to dead hosts (half of them each holding a
    // slot for 10 s) would come first: the fresh deliveries would wait for minutes. Causal,
    // not timed: they were all delivered before any silent send reached its timeout.
    let silent_host = silent.host();
    assert!(
        rows_of(&app.ctx, backlog_activity)
            .await
            .iter()
            .filter(|r| r.domain == silent_host)
            .all(|r| r.attempts == 3),
        "healthy hosts waited {:?} for the silent host's timeouts",
        published.elapsed()
    );
    assert!(sinks.iter().all(|s| s.received().len() == 1));
    assert!(
        most_silent_claimed <= PER_HOST,
        "the silent host held {most_silent_claimed} sends at once"
    );
    // The refusing host's rows failed fast and went back to waiting, a few at a time.
    wait_for(
        "the refusing host to be tried",
        Duration::from_secs(10),
        || async {
            rows_of(&app.ctx, backlog_activity)
                .await
                .iter()
                .any(|r| r.domain == refusing && r.attempts == 4)
        },
    )
    .await;
    let backlog_rows = rows_of(&app.ctx, backlog_activity).await;
    let refused: Vec<&DbDelivery> = backlog_rows
        .iter()
        .filter(|r| r.domain == refusing && r.attempts == 4)
        .collect();
    assert!(!refused.is_empty(), "the refusing host was tried");
    assert!(
        refused
            .iter()
            .all(|r| r.delivered_at.is_none() && r.next_attempt_at > Utc::now()),
        "refused sends are retried later"
    );
    assert!(backlog_rows.iter().all(|r| r.delivered_at.is_none()));
    drop(silent);
    stop_workers(stop, tasks).await;
}
