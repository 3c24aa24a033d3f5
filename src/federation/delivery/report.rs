//! What the admin page shows about the delivery queue.

use crate::{context::AppContext, db, error::AppResult};

/// What the admin page shows about the queue.
#[derive(Debug, Clone)]
pub struct QueueReport {
    pub stats: db::deliveries::QueueStats,
    pub domains: Vec<db::deliveries::DomainFailures>,
    pub errors: Vec<db::deliveries::RecentError>,
}

/// Queue depth, hosts with problems and the latest errors.
pub async fn queue_report(ctx: &AppContext, limit: i64) -> AppResult<QueueReport> {
    let mut conn = ctx.conn().await?;
    Ok(QueueReport {
        stats: db::deliveries::stats(&mut conn).await?,
        domains: db::deliveries::failures_by_domain(&mut conn, limit).await?,
        errors: db::deliveries::recent_errors(&mut conn, limit).await?,
    })
}
