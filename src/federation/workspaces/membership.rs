//! The workspace's `Group` actor (`/workspaces/{uuid}`, its inbox; 404 to anyone but its
//! members and invitees, WebFinger included) and membership over federation: `Invite`,
//! `Accept`/`Reject` of it, `Join`, `Leave`, `Remove`, `Update` of the group.

use crate::{
    context::AppContext, error::AppResult, federation::inbox::InboxState,
    service::outbound::OutboundEvent,
};
use axum::Router;
use diesel_async::AsyncPgConnection;
use std::sync::Arc;

/// The `Group` actor's routes.
pub fn routes(_inbox_state: Arc<InboxState>) -> Router {
    Router::new()
}

/// The activity and deliveries of one membership event.
pub async fn record(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _event: OutboundEvent,
) -> AppResult<()> {
    Ok(())
}
