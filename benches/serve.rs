//! Benchmarks of the `culturecnous serve` process itself (release build, managed durable
//! PostgreSQL, configured through the environment only). They print figures and never fail
//! on time.
//!
//! - **B-6 footprint**: time from spawning `serve` to its first answered request — first start
//!   (initdb and migrations), then with the existing database (the managed PostgreSQL started
//!   by `serve`, and an already running database given by URL) — and resident memory idle.
//!   Memory under load is printed by B-1 (`cargo bench --bench inbox -- b1`).
//! - **B-7 durability**: the B-3 fan-out (one post to 10 000 followers on 500 instances, 450
//!   with a shared inbox: 1 450 requests to sinks that verify signatures and answer after
//!   20–50 ms), with `serve` killed by SIGKILL in the middle and started again: every delivery
//!   must arrive; only those in flight at the kill may arrive twice.
//!
//! Run: `cargo bench --bench serve` (both), `-- footprint` or `-- durability`.

#[path = "support/fan_out.rs"]
mod fan_out_world;
#[path = "../tests/it/sink.rs"]
mod sink;
mod support;

use culturecnous::{
    context::AppContext,
    db::{self, postgres::APP_DATABASE, schema::deliveries},
    service::accounts::{NewAccountInput, create_account},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use fan_out_world::{EXPECTED_REQUESTS, FOLLOWERS_PER_INSTANCE, SHARED_INSTANCES, SOLO_INSTANCES};
use sink::Sink;
use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};
use support::{Serve, mib};

fn main() -> anyhow::Result<()> {
    if !support::started_by_cargo_bench() {
        println!("serve benchmarks: run them with `cargo bench --bench serve`");
        return Ok(());
    }
    support::raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for section in support::wanted(&["footprint", "durability"]) {
        match section {
            "footprint" => runtime.block_on(footprint()),
            _ => runtime.block_on(durability()),
        }
    }
    Ok(())
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// A few ordinary requests, so that "idle" means after the first pages were served.
async fn warm_up(serve: &Serve) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let base = format!("http://127.0.0.1:{}", serve.port);
    for (path, accept) in [
        ("/", "text/html"),
        ("/users/departement", "application/activity+json"),
        ("/users/departement", "text/html"),
        ("/actor", "application/activity+json"),
        (
            "/.well-known/webfinger?resource=acct:departement@localhost",
            "application/jrd+json",
        ),
        ("/.well-known/nodeinfo", "application/json"),
        ("/nodeinfo/2.1", "application/json"),
    ] {
        for _ in 0..5 {
            let _ = client
                .get(format!("{base}{path}"))
                .header("accept", accept)
                .header("host", serve.domain())
                .send()
                .await
                .and_then(|r| r.error_for_status());
        }
    }
}

async fn footprint() {
    println!("B-6 footprint: culturecnous serve (release), managed durable PostgreSQL");
    let mut serve = Serve::new("footprint");
    let first = serve.start().await;
    println!(
        "  first start (initdb, migrations, system actors) to first answer: {}",
        seconds(first)
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (fresh, _) = serve.rss_kib();
    warm_up(&serve).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (warm, peak) = serve.rss_kib();
    println!(
        "  RSS idle: {:.1} MiB just started, {:.1} MiB after serving a few pages (peak so far {:.1} MiB)",
        mib(fresh),
        mib(warm),
        mib(peak)
    );
    serve.terminate().await;

    let mut managed = Vec::new();
    for _ in 0..3 {
        managed.push(serve.start().await);
        serve.terminate().await;
    }
    println!(
        "  restart with the existing database, managed PostgreSQL started by serve: {}",
        managed
            .iter()
            .map(|d| seconds(*d))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let cluster = serve.cluster();
    cluster.start().await.expect("start the cluster");
    serve.database_url = Some(cluster.connection_string(APP_DATABASE));
    let mut external = Vec::new();
    for _ in 0..3 {
        external.push(serve.start().await);
        serve.terminate().await;
    }
    println!(
        "  restart with the existing database already running (database.url): {}",
        external
            .iter()
            .map(|d| seconds(*d))
            .collect::<Vec<_>>()
            .join(", ")
    );
    serve.start().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    warm_up(&serve).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (warm, _) = serve.rss_kib();
    println!(
        "  RSS idle with database.url (no managed cluster to supervise): {:.1} MiB",
        mib(warm)
    );
    serve.terminate().await;
    cluster.stop().await.expect("stop the cluster");
}

async fn delivery_counts(ctx: &AppContext, activity_id: i64) -> (i64, HashSet<String>) {
    let mut conn = ctx.conn().await.expect("conn");
    let delivered: i64 = deliveries::table
        .filter(deliveries::activity_id.eq(activity_id))
        .filter(deliveries::delivered_at.is_not_null())
        .count()
        .get_result(&mut conn)
        .await
        .expect("count delivered");
    let in_flight: Vec<String> = deliveries::table
        .filter(deliveries::activity_id.eq(activity_id))
        .filter(deliveries::delivered_at.is_null())
        .filter(deliveries::claimed_at.is_not_null())
        .select(deliveries::inbox_url)
        .load(&mut conn)
        .await
        .expect("in flight");
    (delivered, in_flight.into_iter().collect())
}

async fn durability() {
    println!(
        "B-7 durability: kill -9 of serve during a fan-out of {EXPECTED_REQUESTS} requests ({SHARED_INSTANCES} shared inboxes, {} personal ones), restart",
        SOLO_INSTANCES * FOLLOWERS_PER_INSTANCE
    );
    let mut serve = Serve::new("durability");
    serve.start().await;
    let ctx = support::side_context(&serve);
    let account = create_account(
        &ctx,
        NewAccountInput {
            username: "annonceuse".into(),
            email: "annonceuse@example.org".into(),
            password: "un mot de passe solide".into(),
            kind: "structure".into(),
            role: "member".into(),
            display_name: "Annonceuse".into(),
        },
    )
    .await
    .expect("sender account");
    let mut conn = ctx.conn().await.expect("conn");
    let sender = db::actors::by_id(&mut conn, account.actor_id)
        .await
        .expect("sender");

    let (sinks, _) = fan_out_world::build(&mut conn, &sender, Sink::start)
        .await
        .expect("fan-out world");

    let started = Instant::now();
    let activity_id = fan_out_world::publish(&mut conn, &ctx, &sender)
        .await
        .expect("enqueue");
    let expected: HashSet<String> = deliveries::table
        .filter(deliveries::activity_id.eq(activity_id))
        .select(deliveries::inbox_url)
        .load::<String>(&mut conn)
        .await
        .expect("rows")
        .into_iter()
        .collect();
    drop(conn);
    println!(
        "  {} delivery rows queued (expected {EXPECTED_REQUESTS})",
        expected.len()
    );

    let received = |sinks: &[Sink]| sinks.iter().map(Sink::count).sum::<usize>();
    let deadline = Instant::now() + Duration::from_secs(120);
    while received(&sinks) < EXPECTED_REQUESTS / 2 {
        assert!(
            Instant::now() < deadline,
            "the fan-out did not get half-way in 2 minutes. Log:\n{}",
            serve.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    serve.kill9();
    let killed_at = started.elapsed();
    let arrived_before_kill = received(&sinks);
    let (delivered_at_kill, in_flight) = delivery_counts(&ctx, activity_id).await;
    println!(
        "  killed (SIGKILL) after {}: {arrived_before_kill} requests had arrived, {delivered_at_kill} rows recorded delivered, {} rows claimed and not recorded (in flight)",
        seconds(killed_at),
        in_flight.len()
    );
    let restart = Instant::now();
    let up_in = serve.start().await;
    let deadline = Instant::now() + Duration::from_secs(180);
    let finished = loop {
        let (delivered, _) = delivery_counts(&ctx, activity_id).await;
        if delivered >= i64::try_from(expected.len()).unwrap_or(i64::MAX) {
            break restart.elapsed();
        }
        if Instant::now() > deadline {
            println!("  WARNING: only {delivered} rows delivered 3 minutes after the restart");
            break restart.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Sends still running at the end cannot be recorded delivered before they arrive.
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    let mut verified = 0;
    let mut total = 0;
    for sink in &sinks {
        for request in sink.received() {
            total += 1;
            verified += usize::from(request.verified.is_ok());
            *arrivals
                .entry(format!("http://{}{}", sink.host(), request.path))
                .or_insert(0) += 1;
        }
    }
    let missing = expected
        .iter()
        .filter(|inbox| !arrivals.contains_key(*inbox))
        .count();
    let twice: Vec<&String> = arrivals
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(inbox, _)| inbox)
        .collect();
    let twice_not_in_flight = twice.iter().filter(|i| !in_flight.contains(**i)).count();
    let unexpected = arrivals.keys().filter(|i| !expected.contains(*i)).count();
    println!(
        "  restarted: first answer after {}; all rows delivered {} after the restart ({} in all; in-flight rows wait for their 30 s lease)",
        seconds(up_in),
        seconds(finished),
        seconds(started.elapsed())
    );
    println!(
        "  arrivals: {total} requests ({verified} with a valid signature and digest) for {} inboxes; missing {missing}; arrived twice {} (of which not in flight at the kill: {twice_not_in_flight}); unexpected inboxes {unexpected}",
        arrivals.len(),
        twice.len()
    );
    if missing > 0 || twice_not_in_flight > 0 || verified != total {
        println!("  WARNING: durability target missed (see the figures above)");
    }
    serve.terminate().await;
}
