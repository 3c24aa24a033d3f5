//! Meetings as private `Event`s: `Create`/`Update`/`Delete` to the audience of [`super::audience`], the remote side that keeps them for our members, and the signed-fetch route of a meeting.

use crate::{
    context::AppContext,
    error::AppResult,
    federation::{Data, workspaces::inbound::Received},
    service::outbound::OutboundEvent,
};
use axum::Router;
use diesel_async::AsyncPgConnection;

/// Routes of this capability's objects (signed fetch by members only).
pub fn routes() -> Router {
    Router::new()
}

/// The activity and deliveries of one of this capability's events.
pub async fn record(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _event: OutboundEvent,
) -> AppResult<()> {
    Ok(())
}

/// An object of this capability that arrived for a workspace we hold.
pub async fn receive(_data: &Data, _received: Received<'_>) -> AppResult<()> {
    Ok(())
}
