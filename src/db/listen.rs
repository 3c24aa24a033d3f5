//! Waking background workers across processes: a connection of its own `LISTEN`s on a
//! channel that a trigger or the enqueuing transaction `NOTIFY`s at commit, so a row queued by
//! any `serve` node wakes the workers of every node at once. Workers still poll, which covers
//! the time the listener spends reconnecting.

use super::DbPool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures::StreamExt;
use std::{sync::Arc, time::Duration};
use tokio::sync::{Notify, watch};

/// How long a broken listener waits before it connects again.
const RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// Whether the shutdown channel says stop (a dropped sender means stop too).
pub fn stop_requested(
    changed: Result<(), watch::error::RecvError>,
    rx: &watch::Receiver<bool>,
) -> bool {
    changed.is_err() || *rx.borrow()
}

/// Listens on `channel` and wakes `notify`'s waiters at each notification, until shutdown;
/// reconnects after a failure. `label` names the worker in the log.
pub async fn wake_on_notify(
    pool: DbPool,
    channel: &'static str,
    label: &'static str,
    notify: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match open_listener(&pool, channel).await {
            Ok(mut conn) => {
                let mut notifications = std::pin::pin!(conn.notifications_stream());
                loop {
                    tokio::select! {
                        next = notifications.next() => match next {
                            Some(Ok(_)) => notify.notify_waiters(),
                            Some(Err(e)) => {
                                tracing::warn!("{label} listener: {e}");
                                break;
                            }
                            None => break,
                        },
                        changed = shutdown.changed() => {
                            if stop_requested(changed, &shutdown) {
                                return;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("{label} listener: cannot listen ({e}); polling meanwhile"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RECONNECT_DELAY) => {}
            changed = shutdown.changed() => {
                if stop_requested(changed, &shutdown) {
                    return;
                }
            }
        }
    }
}

/// A connection of its own (taken out of the pool, which replaces it), listening.
async fn open_listener(pool: &DbPool, channel: &str) -> anyhow::Result<AsyncPgConnection> {
    let pooled = pool.get().await?;
    let mut conn = deadpool::managed::Object::take(pooled);
    diesel::sql_query(format!("LISTEN {channel}"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}
