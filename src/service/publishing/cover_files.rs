//! The cover image file of a change: written before the transaction, removed again when the
//! change fails, so no file is left behind.

use super::validation::CoverPlan;
use crate::{
    context::AppContext,
    error::AppResult,
    service::covers::{self, WrittenCover},
};

/// Writes the new cover image, if the plan has one (before the transaction).
pub(super) async fn write_new_cover(
    ctx: &AppContext,
    plan: &CoverPlan,
) -> AppResult<Option<WrittenCover>> {
    match plan {
        CoverPlan::New { bytes, kind, .. } => {
            Ok(Some(covers::write_cover(ctx, bytes, *kind).await?))
        }
        _ => Ok(None),
    }
}

/// Runs a transaction that stores `written` (if any): on failure the new file is removed, so
/// a refused or failed change leaves no file behind.
pub(super) async fn removing_on_error<T>(
    written: &Option<WrittenCover>,
    result: AppResult<T>,
) -> AppResult<T> {
    if result.is_err()
        && let Some(file) = written
    {
        covers::remove_file(&file.path).await;
    }
    result
}
