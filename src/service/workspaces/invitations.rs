//! Invitations (by username, e-mail or fediverse handle) and join requests.
//! See the module documentation of `service::workspaces`.

use crate::{
    context::AppContext,
    db::{
        actors::DbActor,
        workspaces::{DbWorkspaceInvitation, DbWorkspaceJoinRequest},
    },
    error::{AppError, AppResult},
};
use url::Url;
use uuid::Uuid;

/// Answers invitation `invitation_id` as `actor`: a local member from the page or the API,
/// or a remote invitee whose `Accept`/`Reject` of our `Invite` arrived. For an invitation
/// of a remote workspace (our member invited elsewhere) it also records
/// `OutboundEvent::WorkspaceInvitationAnswered`. 404 unless `actor` is the invitee.
pub async fn answer(
    _ctx: &AppContext,
    _invitation_id: Uuid,
    _actor: &DbActor,
    _accept: bool,
) -> AppResult<DbWorkspaceInvitation> {
    Err(AppError::internal(
        "workspace invitations are not built yet",
    ))
}

/// `actor` (local, or remote whose `Join` arrived with id `ap_id`) asks to join listed
/// workspace `workspace_id`; its coordinators are notified. 404 unless the workspace is
/// ours and listed.
pub async fn request_to_join(
    _ctx: &AppContext,
    _workspace_id: Uuid,
    _actor: &DbActor,
    _message: &str,
    _ap_id: Option<&Url>,
) -> AppResult<DbWorkspaceJoinRequest> {
    Err(AppError::internal(
        "workspace join requests are not built yet",
    ))
}
