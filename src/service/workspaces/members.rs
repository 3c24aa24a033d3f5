//! Members: roles, leaving, removal. See the module documentation of `service::workspaces`.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
};
use uuid::Uuid;

/// `actor` leaves workspace `workspace_id`: a local member from the page or the API (of a
/// workspace of ours, or of a remote one: then `OutboundEvent::WorkspaceLeft` is recorded),
/// or a remote member whose `Leave` arrived. The owner must transfer ownership first (409).
pub async fn leave(_ctx: &AppContext, _workspace_id: Uuid, _actor: &DbActor) -> AppResult<()> {
    Err(AppError::internal("leaving a workspace is not built yet"))
}
