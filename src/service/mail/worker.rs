//! The mail worker: sends queued mails, one claimed row at a time per lane, records each
//! outcome right after the server's answer, and retries with growing delays.
//!
//! Every `serve` node runs one; rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease
//! (`claimed_at`), so two nodes never send the same mail, and a node that dies mid-send gives
//! its mail back when the lease ends. Queuing mails notifies `culturecnous_mails` at commit
//! (a trigger), which wakes the workers of every node; they also look at the queue every few
//! seconds (retries that came due, notifications lost while the listener reconnected).

use super::transport::{Mailer, Outcome};
use crate::{
    context::AppContext, db, db::listen::stop_requested, error::AppResult,
    sanitize::truncate_at_char_boundary,
};
use std::{sync::Arc, time::Duration};
use tokio::{
    sync::{Notify, watch},
    task::JoinHandle,
};

/// The channel a trigger on `mails` notifies when rows are inserted (migration
/// `mails_notify`).
pub const NOTIFY_CHANNEL: &str = "culturecnous_mails";
/// Mails sent at once by one worker (each lane holds one SMTP connection of the pool).
pub const LANES: usize = 4;
/// How long a claim holds a row. Far above the longest attempt (each SMTP command times out
/// after 30 s), so a slow send is never taken over while it is still going on.
pub const LEASE: Duration = Duration::from_secs(15 * 60);
/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(6 * 3600);
/// A mail that could not be sent for this long is marked failed.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
/// Sent mails are kept this long (the admin view counts them), failed ones longer.
pub const KEEP_SENT: Duration = Duration::from_secs(30 * 24 * 3600);
pub const KEEP_FAILED: Duration = Duration::from_secs(90 * 24 * 3600);
/// The worker looks at the queue this often when nothing woke it.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(3600);

/// What one pass over the queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Accepted by the server (or written to the file sink).
    pub sent: usize,
    /// Failed for now, queued again for later.
    pub retrying: usize,
    /// Refused for good, or given up after days of failures.
    pub failed: usize,
}

impl SendReport {
    fn add(&mut self, other: SendReport) {
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.failed += other.failed;
    }
}

/// Sends every mail that is due now, with the configured transport, and returns what
/// happened. Tests call it instead of waiting for the worker; it is safe to call while
/// workers run (they share the claims).
pub async fn send_due(ctx: &AppContext) -> AppResult<SendReport> {
    let mailer = Mailer::from_config(&ctx.config)?;
    drain(ctx, &mailer, None).await
}

/// Runs [`LANES`] lanes until none finds a due mail (or shutdown is asked: a lane finishes the
/// mail it is sending, then stops).
async fn drain(
    ctx: &AppContext,
    mailer: &Mailer,
    shutdown: Option<&watch::Receiver<bool>>,
) -> AppResult<SendReport> {
    let results = futures::future::join_all((0..LANES).map(|_| lane(ctx, mailer, shutdown))).await;
    let mut report = SendReport::default();
    let mut first_error = None;
    for result in results {
        match result {
            Ok(r) => report.add(r),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if report == SendReport::default() => Err(e),
        Some(e) => {
            tracing::warn!("mail worker: {e}");
            Ok(report)
        }
        None => Ok(report),
    }
}

async fn lane(
    ctx: &AppContext,
    mailer: &Mailer,
    shutdown: Option<&watch::Receiver<bool>>,
) -> AppResult<SendReport> {
    let mut report = SendReport::default();
    loop {
        if shutdown.is_some_and(|rx| *rx.borrow()) {
            return Ok(report);
        }
        let claimed = {
            let mut conn = ctx.conn().await?;
            db::mails::claim_due(&mut conn, secs(LEASE)).await?
        };
        let Some(mail) = claimed else {
            return Ok(report);
        };
        // No database connection is held while the server answers.
        let outcome = mailer.send(&mail).await;
        let mut conn = ctx.conn().await?;
        match outcome {
            Outcome::Sent => {
                // If this update is lost (database down), the row comes back when its lease
                // ends and goes out again with the same Message-ID, which receiving programs
                // use to drop the copy.
                db::mails::mark_sent(&mut conn, mail.id).await?;
                report.sent += 1;
            }
            Outcome::Retry(reason) => {
                let state = db::mails::retry_later(
                    &mut conn,
                    mail.id,
                    &truncate(&reason),
                    secs(MAX_RETRY_DELAY),
                    secs(GIVE_UP_AFTER),
                )
                .await?;
                if state.as_deref() == Some(db::mails::FAILED) {
                    tracing::warn!(
                        mail = mail.id,
                        "mail given up after days of failures: {reason}"
                    );
                    report.failed += 1;
                } else {
                    tracing::info!(mail = mail.id, "mail will be retried: {reason}");
                    report.retrying += 1;
                }
            }
            Outcome::Refused(reason) => {
                tracing::warn!(mail = mail.id, "mail refused: {reason}");
                db::mails::mark_failed(&mut conn, mail.id, &truncate(&reason)).await?;
                report.failed += 1;
            }
        }
    }
}

/// Server answers can be long; the admin view needs the gist.
fn truncate(reason: &str) -> String {
    const MAX: usize = 1000;
    if reason.len() <= MAX {
        return reason.to_string();
    }
    format!("{}…", truncate_at_char_boundary(reason, MAX))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Deletes sent mails after [`KEEP_SENT`] and failed ones after [`KEEP_FAILED`].
pub async fn maintain(ctx: &AppContext) -> AppResult<usize> {
    let mut conn = ctx.conn().await?;
    Ok(db::mails::purge(&mut conn, secs(KEEP_SENT), secs(KEEP_FAILED)).await?)
}

/// Starts the worker and its listener; both stop on the shutdown channel, the worker after
/// finishing the mails it is sending.
pub fn spawn(ctx: &AppContext, shutdown: watch::Receiver<bool>) -> AppResult<Vec<JoinHandle<()>>> {
    let mailer = Mailer::from_config(&ctx.config)?;
    if mailer.is_file_sink() {
        tracing::info!(
            "mail.smtp_url is empty: mails are written to {}",
            ctx.config
                .storage
                .data_dir
                .join(super::transport::OUTBOX_DIR)
                .display()
        );
    }
    let notify = Arc::new(Notify::new());
    Ok(vec![
        tokio::spawn(db::listen::wake_on_notify(
            ctx.pool.clone(),
            NOTIFY_CHANNEL,
            "mail",
            notify.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(run(ctx.clone(), mailer, notify, shutdown)),
    ])
}

async fn run(
    ctx: AppContext,
    mailer: Mailer,
    notify: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut next_maintenance = tokio::time::Instant::now();
    loop {
        // Registered before looking at the queue, so a mail queued meanwhile is not missed.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = drain(&ctx, &mailer, Some(&shutdown)).await {
            tracing::warn!("mail worker: {e}");
        }
        if tokio::time::Instant::now() >= next_maintenance {
            next_maintenance = tokio::time::Instant::now() + MAINTENANCE_INTERVAL;
            match maintain(&ctx).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("mail queue: {n} old mails purged"),
                Err(e) => tracing::warn!("mail queue maintenance: {e}"),
            }
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            changed = shutdown.changed() => {
                if stop_requested(changed, &shutdown) {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let long = "é".repeat(800);
        let cut = truncate(&long);
        assert!(cut.len() <= 1000 + "…".len());
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("550 no such user"), "550 no such user");
    }
}
