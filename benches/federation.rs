//! Federation benchmarks. They print figures and never fail on time.
//!
//! B-3 fan-out: one activity from a member with 10 000 followers on 500 instances (450 with
//! a shared inbox, 50 without, 20 followers each), delivered by the background workers to
//! local sink servers (20–50 ms latency each) that verify every signature and Digest.
//! Expected: exactly 1 450 signed requests. Printed: enqueue time, total delivery time,
//! request rate, RSS growth.
//!
//! Run: `cargo bench --bench federation` (uses the test database harness: a throwaway
//! PostgreSQL cluster, or `TEST_DATABASE_URL`).

#[path = "support/fan_out.rs"]
mod fan_out_world;
#[path = "../tests/it/sink.rs"]
mod sink;

use culturecnous::{
    context::AppContext,
    db::{self, schema::deliveries},
    federation,
    service::accounts::{NewAccountInput, create_account},
    testing::TestDatabases,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use fan_out_world::{EXPECTED_REQUESTS, FOLLOWERS_PER_INSTANCE, SHARED_INSTANCES, SOLO_INSTANCES};
use sink::Sink;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` must not run the fan-out.
    if !std::env::args().any(|a| a == "--bench") {
        println!("federation benchmark: run it with `cargo bench --bench federation`");
        return Ok(());
    }
    raise_open_files_limit();
    let dbs = TestDatabases::get();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(fan_out(dbs))
}

/// 500 listeners plus their connections need more than the usual 1 024 descriptors.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// CPU time (user + system) this process used so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    micros(usage.ru_utime) + micros(usage.ru_stime)
}

/// Resident and peak resident memory of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn fan_out(dbs: &'static TestDatabases) -> anyhow::Result<()> {
    println!(
        "B-3 fan-out: {SHARED_INSTANCES} instances with a shared inbox, {SOLO_INSTANCES} without, {FOLLOWERS_PER_INSTANCE} followers each"
    );
    let mut config = dbs.config(8080).await;
    config.database.pool_size = 16;
    // What `serve` runs by default (the test harness lowers it).
    config.federation.delivery_workers =
        culturecnous::config::FederationSettings::default().delivery_workers;
    let workers = config.federation.delivery_workers;
    std::fs::create_dir_all(config.storage.data_dir.join("media"))?;
    let pool = db::pool::build_pool(&config.database.url, config.database.pool_size)?;
    let ctx = AppContext::new(config, pool);
    culturecnous::service::actors::ensure_system_actors(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let federation = federation::build_config(&ctx).await?;
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
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = ctx.conn().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let sender = db::actors::by_id(&mut conn, account.actor_id).await?;

    let setup = Instant::now();
    let (sinks, follower_count) = fan_out_world::build(&mut conn, &sender, Sink::counting).await?;
    println!(
        "  setup: {} sinks, {} followers in {:.1} s",
        sinks.len(),
        follower_count,
        setup.elapsed().as_secs_f64()
    );

    let (rss_before, _) = memory_kib();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks = federation::spawn_background_tasks(&ctx, &federation, stopped);
    // Let the listener connect, so the enqueue notification wakes the workers.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let cpu_before = cpu_time();
    let started = Instant::now();
    let activity_id = fan_out_world::publish(&mut conn, &ctx, &sender)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let enqueue_time = started.elapsed();
    let queued: i64 = deliveries::table
        .filter(deliveries::activity_id.eq(activity_id))
        .count()
        .get_result(&mut conn)
        .await?;

    let deadline = Instant::now() + Duration::from_secs(300);
    let delivered = loop {
        let delivered: i64 = deliveries::table
            .filter(deliveries::activity_id.eq(activity_id))
            .filter(deliveries::delivered_at.is_not_null())
            .count()
            .get_result(&mut conn)
            .await?;
        if delivered >= queued || Instant::now() > deadline {
            break delivered;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let delivery_time = started.elapsed();
    let cpu_used = cpu_time().saturating_sub(cpu_before);
    let (rss_after, peak) = memory_kib();
    stop.send(true)?;
    for task in tasks {
        let _ = task.await;
    }
    let received: usize = sinks.iter().map(Sink::count).sum();
    let verified: usize = sinks.iter().map(Sink::verified_count).sum();
    let seconds = delivery_time.as_secs_f64();
    println!("  delivery rows queued:        {queued} (expected {EXPECTED_REQUESTS})");
    println!(
        "  enqueue (followers query + activity + rows, one transaction): {:.1} ms",
        enqueue_time.as_secs_f64() * 1000.0
    );
    println!(
        "  all delivered ({delivered}/{queued}) by {workers} workers: {seconds:.2} s from enqueue ({:.0} requests/s)",
        delivered as f64 / seconds
    );
    println!(
        "  CPU used by this process meanwhile (sender + sinks' verification): {:.2} s over {} cores",
        cpu_used.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "  requests received by sinks:  {received} (expected {EXPECTED_REQUESTS}), signatures + digests verified: {verified}"
    );
    println!(
        "  RSS: {:.1} MiB before, {:.1} MiB after, growth {:.1} MiB, peak {:.1} MiB (sinks run in this process too)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after as f64 - rss_before as f64) / 1024.0,
        peak as f64 / 1024.0
    );
    if received != EXPECTED_REQUESTS || verified != EXPECTED_REQUESTS {
        println!("  WARNING: request count or verification differs from the expected figure");
    }
    Ok(())
}
