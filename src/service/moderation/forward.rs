//! Forwarding a report to the server of the remote content it names: decided by a moderator
//! (the reporter may ask for it; a moderator may forward any report later), never automatic —
//! automatic forwarding tips off hostile administrators. The `Flag` goes from the instance
//! actor and never names the local reporter (`federation` builds it from the recorded
//! [`OutboundEvent::ReportForwarded`]).

use super::{ActionKind, ensure_moderator, log};
use crate::{
    context::AppContext,
    db::{
        self, accounts::DbAccount, moderation_actions::NewModerationAction, reports::DbReport,
        schema::reports,
    },
    error::{AppError, AppResult, ErrorKind},
    service::outbound::{self, OutboundEvent},
    urls::host_port,
};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use url::Url;

/// Forwards report `report_id` to the server(s) of the remote accounts and objects it names,
/// in one transaction: the outbound event, the log entry, and `forwarded_at/by`. Moderators
/// only (403); 404 for an unknown report; 409 when it was forwarded already or names nothing
/// remote.
pub async fn forward(ctx: &AppContext, by: &DbAccount, report_id: i64) -> AppResult<DbReport> {
    ensure_moderator(by)?;
    let local_domain = ctx.config.domain();
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let report = db::reports::lock(conn, report_id)
            .await?
            .ok_or_else(|| AppError::new(ErrorKind::NotFound, "report: no such report"))?;
        if let Some(at) = report.forwarded_at {
            return Err(AppError::new(
                ErrorKind::Conflict,
                format!(
                    "report {report_id} was already forwarded on {}",
                    at.format("%Y-%m-%d %H:%M UTC")
                ),
            )
            .with_message("moderation.forward.already"));
        }
        let remote: Vec<_> = db::reports::targets_of(conn, report.id)
            .await?
            .into_iter()
            .filter(|t| {
                Url::parse(&t.ap_id)
                    .ok()
                    .and_then(|u| host_port(&u))
                    .is_some_and(|d| d != local_domain)
            })
            .collect();
        if remote.is_empty() {
            return Err(AppError::new(
                ErrorKind::Conflict,
                format!("report {report_id} names nothing from another server: nothing to forward"),
            )
            .with_message("moderation.forward.nothing_remote"));
        }
        let now = Utc::now();
        let report: DbReport = diesel::update(reports::table.find(report.id))
            .set((
                reports::forwarded_at.eq(now),
                reports::forwarded_by.eq(by.id),
                reports::updated_at.eq(now),
            ))
            .returning(DbReport::as_returning())
            .get_result(conn)
            .await?;
        let mut servers: Vec<String> = remote
            .iter()
            .filter_map(|t| Url::parse(&t.ap_id).ok().and_then(|u| host_port(&u)))
            .collect();
        servers.sort();
        servers.dedup();
        log(
            conn,
            NewModerationAction {
                moderator_account_id: Some(by.id),
                report_id: Some(report.id),
                action: ActionKind::Forward.as_str().to_string(),
                target: servers.join(", "),
                details: serde_json::json!({
                    "servers": servers,
                    "targets": remote.iter().map(|t| t.ap_id.clone()).collect::<Vec<_>>(),
                }),
                ..NewModerationAction::default()
            },
        )
        .await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::ReportForwarded {
                report: Box::new(report.clone()),
                targets: remote,
            },
        )
        .await?;
        Ok(report)
    })
    .await
}
