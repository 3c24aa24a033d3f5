//! Moderation: a forwarded report (`Flag` from the instance actor), the outcome of a report
//! sent back to the server that sent it, a suspended account's `Delete` and its restoration.

use crate::{
    context::AppContext,
    db::{
        actors::DbActor,
        reports::{DbReport, DbReportTarget},
    },
    error::{AppError, AppResult},
};
use diesel_async::AsyncPgConnection;

// FOUNDATION PLACEHOLDERS: each is replaced by its owner before the issue is merged.

pub(super) async fn forward(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _report: &DbReport,
    _targets: &[DbReportTarget],
) -> AppResult<()> {
    Err(AppError::internal("report forwarding is not built yet"))
}

pub(super) async fn outcome(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _report: &DbReport,
) -> AppResult<()> {
    Err(AppError::internal("report outcomes are not built yet"))
}

pub(super) async fn actor_deleted(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _actor: &DbActor,
) -> AppResult<()> {
    Err(AppError::internal("suspension is not built yet"))
}

pub(super) async fn actor_restored(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _actor: &DbActor,
) -> AppResult<()> {
    Err(AppError::internal("restoration is not built yet"))
}
