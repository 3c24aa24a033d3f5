//! The ActivityPub side of private project workspaces (DESIGN §3, "Privacy of workspaces").
//!
//! A workspace is a `Group` actor at `/workspaces/{uuid}` whose content (messages, documents,
//! meetings) is addressed by id to its remote members' personal inboxes only, and served only
//! to a fetch signed by a member ([`access`]); anyone else gets the same 404 as for an object
//! that does not exist. A remote workspace one of our members joined is mirrored in the same
//! tables: what it delivers is stored for that member, and what our member posts goes to the
//! workspace's inbox, which relays it to the other members.
//!
//! One file per capability, each with its outbound translation (`record`), its inbound side
//! and its routes: [`membership`] (the `Group` actor, `Invite`, `Accept`/`Reject`, `Join`,
//! `Leave`, `Remove`, `Update`), [`chat`] (`Note`), [`documents`] (`Document`),
//! [`meetings`] (`Event`). [`audience`] is the one place that says who receives workspace
//! content; [`inbound`] routes what arrives to the capability it belongs to.

pub mod access;
pub mod audience;
pub mod chat;
pub mod documents;
pub mod inbound;
pub mod meetings;
pub mod membership;

use crate::federation::inbox::InboxState;
use axum::Router;
use std::sync::Arc;

/// Every workspace route served to other servers.
pub fn routes(inbox_state: Arc<InboxState>) -> Router {
    Router::new()
        .merge(membership::routes(inbox_state))
        .merge(chat::routes())
        .merge(documents::routes())
        .merge(meetings::routes())
}
