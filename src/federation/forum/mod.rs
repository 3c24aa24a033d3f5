//! The forum's side of federation: each category is a public `Group` (FEP-1b12) that wraps
//! every accepted activity of its threads in an `Announce` to its followers.

use crate::{context::AppContext, error::AppResult, service::outbound::OutboundEvent};
use diesel_async::AsyncPgConnection;

/// The forum's own outbound events (see `service::outbound`).
pub async fn record(
    _ctx: &AppContext,
    _conn: &mut AsyncPgConnection,
    _event: OutboundEvent,
) -> AppResult<()> {
    Ok(())
}
