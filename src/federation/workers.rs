//! Background tasks of every `serve` process: delivery workers, the listener that wakes them
//! when deliveries are enqueued (by any process), and periodic queue maintenance. All stop on
//! the shutdown channel; workers first finish the sends they started (at most the send
//! deadline), so a graceful stop loses nothing and re-sends nothing.

use crate::{
    context::AppContext,
    db::listen::stop_requested,
    db::{self, deliveries::ClaimedDelivery},
    federation::delivery::{
        Engine, EngineSettings, HostLimiter, InFlight, NOTIFY_CHANNEL, Outcome, RECORD_BATCH,
        RECORD_DELAY, delivery_client,
    },
};
use std::{sync::Arc, time::Duration};
use tokio::{
    sync::{Notify, watch},
    task::JoinHandle,
};

/// Workers look at the queue this often when nothing woke them (rows whose retry time came,
/// rows enqueued while the listener was reconnecting).
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Finished rows are kept this long (for the admin page), then deleted.
const KEEP_DELIVERED: Duration = Duration::from_secs(7 * 24 * 3600);
const KEEP_FAILED: Duration = Duration::from_secs(30 * 24 * 3600);
/// Rows waiting for a host marked unreachable are given up after this long.
const UNREACHABLE_EXPIRY: Duration = Duration::from_secs(14 * 24 * 3600);
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Starts `federation.delivery_workers` workers, the listener and the maintenance task.
pub fn spawn(ctx: &AppContext, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let notify = Arc::new(Notify::new());
    let limiter = Arc::new(HostLimiter::default());
    let mut handles = vec![
        tokio::spawn(db::listen::wake_on_notify(
            ctx.pool.clone(),
            NOTIFY_CHANNEL,
            "delivery",
            notify.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(maintenance(ctx.clone(), shutdown.clone())),
    ];
    let client = match delivery_client(ctx) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!("no delivery workers: {e}");
            return handles;
        }
    };
    for _ in 0..ctx.config.federation.delivery_workers {
        let engine = Engine::new(
            ctx.clone(),
            client.clone(),
            limiter.clone(),
            EngineSettings::worker(),
        );
        handles.push(tokio::spawn(run_worker(
            engine,
            notify.clone(),
            shutdown.clone(),
        )));
    }
    handles
}

/// One worker: keeps up to `max_in_flight` sends going, claiming more in batches as sends
/// finish, when woken, or every [`POLL_INTERVAL`]; records outcomes in batches too.
async fn run_worker(engine: Engine, notify: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let mut in_flight = InFlight::default();
    let mut finished: Vec<(ClaimedDelivery, Outcome)> = Vec::new();
    let mut record_by = tokio::time::Instant::now();
    let mut stopping = *shutdown.borrow();
    loop {
        // Registered before claiming, so a notification during the claim is not missed.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !stopping && engine.wants_more(&in_flight) {
            let room = engine.room(&in_flight);
            if let Err(e) = engine.start_more(&mut in_flight, room).await {
                tracing::warn!("delivery worker: claiming failed: {e}");
            }
        }
        if in_flight.is_empty() {
            if !finished.is_empty() {
                record(&engine, &mut finished).await;
                continue;
            }
            if stopping {
                return;
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                changed = shutdown.changed() => stopping = stop_requested(changed, &shutdown),
            }
            continue;
        }
        let can_take_more = !stopping && engine.wants_more(&in_flight);
        tokio::select! {
            done = engine.next_finished(&mut in_flight) => {
                if finished.is_empty() {
                    record_by = tokio::time::Instant::now() + RECORD_DELAY;
                }
                finished.extend(done);
                if finished.len() >= RECORD_BATCH {
                    record(&engine, &mut finished).await;
                }
            }
            _ = tokio::time::sleep_until(record_by), if !finished.is_empty() => {
                record(&engine, &mut finished).await;
            }
            _ = &mut notified, if can_take_more => {}
            _ = tokio::time::sleep(POLL_INTERVAL), if can_take_more => {}
            changed = shutdown.changed(), if !stopping => {
                stopping = stop_requested(changed, &shutdown);
            }
        }
    }
}

async fn record(engine: &Engine, finished: &mut Vec<(ClaimedDelivery, Outcome)>) {
    if let Err(e) = engine.record(std::mem::take(finished)).await {
        // The rows keep their lease and come back when it ends.
        tracing::warn!("delivery worker: recording outcomes failed: {e}");
    }
}

/// Deletes old finished rows and gives up on rows stuck behind long-unreachable hosts.
async fn maintenance(ctx: AppContext, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(MAINTENANCE_INTERVAL) => {}
            changed = shutdown.changed() => {
                if stop_requested(changed, &shutdown) {
                    return;
                }
                continue;
            }
        }
        if let Err(e) = maintain(&ctx).await {
            tracing::warn!("delivery maintenance: {e}");
        }
    }
}

pub async fn maintain(ctx: &AppContext) -> crate::error::AppResult<(usize, usize)> {
    let mut conn = ctx.conn().await?;
    let purged =
        db::deliveries::purge_finished(&mut conn, millis(KEEP_DELIVERED), millis(KEEP_FAILED))
            .await?;
    let expired = db::deliveries::expire_unreachable(&mut conn, millis(UNREACHABLE_EXPIRY)).await?;
    Ok((purged, expired))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
