//! What arrives for a workspace: a `Create`, `Update` or `Delete` whose object belongs to a
//! workspace (ours, or a remote one our members belong to), sent by a member or relayed by
//! the workspace's `Group` inside an `Announce`. The inbox activities call the `route_*`
//! functions first; when they answer `true` the activity was workspace content and nothing
//! else (comments, remote posts) may see it. Each capability then checks and stores it.

use crate::{
    db::{self, actors::DbActor, workspaces::DbWorkspace},
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{id_of, type_of},
        workspaces::{chat, documents, meetings},
    },
};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use url::Url;

/// What the activity did to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// One workspace object that arrived, with everything its capability needs to check it.
#[derive(Debug)]
pub struct Received<'a> {
    pub action: Action,
    /// The id of the activity (`Create`/`Update`/`Delete`; the inner one when relayed).
    pub activity_id: &'a Url,
    /// Who signed what we received: a member, or the workspace's `Group` when it relays.
    pub sender: &'a DbActor,
    /// The object (for `Delete`: a Tombstone, or `{"id": …}` when only its id was sent).
    pub object: &'a Value,
    pub workspace: &'a DbWorkspace,
    /// The workspace's `Group` actor.
    pub group: &'a DbActor,
}

impl Received<'_> {
    /// Whether the workspace's own `Group` sent it (a relay it vouches for).
    pub fn relayed(&self) -> bool {
        self.sender.id == self.group.id
    }

    /// Whether a remote workspace's own server speaks for `actor`, who has no member row
    /// here: our copy of a remote workspace lists only our members, so its `Group` relaying,
    /// or an actor on the `Group`'s own server, is vouched for by that server.
    pub fn vouched_for(&self, actor: &DbActor) -> bool {
        if self.workspace.local || actor.local {
            return false;
        }
        self.relayed()
            || matches!(
                (Url::parse(&actor.ap_id), Url::parse(&self.group.ap_id)),
                (Ok(a), Ok(g)) if crate::urls::same_origin(&a, &g)
            )
    }

    /// The one rule on who may send workspace content: the workspace's `Group` relaying, a
    /// member of the workspace, or an actor its remote server vouches for
    /// ([`Self::vouched_for`]). Anyone else: 403, nothing stored.
    pub async fn check_sender(&self, conn: &mut AsyncPgConnection) -> AppResult<()> {
        if self.relayed() || self.vouched_for(self.sender) {
            return Ok(());
        }
        match db::workspaces::member(conn, self.workspace.id, self.sender.id).await? {
            Some(_) => Ok(()),
            None => Err(AppError::forbidden(
                "only members of the workspace send its content",
            )),
        }
    }

    /// The object's author (`attributedTo`, else the `actor` of an `Event`'s organizer),
    /// which must be the sender unless the workspace relays it.
    pub fn author_url(&self) -> AppResult<Url> {
        let author = self
            .object
            .get("attributedTo")
            .and_then(id_of)
            .ok_or_else(|| AppError::bad_request("workspace object without attributedTo"))?;
        if !self.relayed() && author.as_str() != self.sender.ap_id {
            return Err(AppError::bad_request(
                "a member may only send their own workspace objects",
            ));
        }
        Ok(author)
    }
}

/// Every URL the object names as its workspace: `audience` (FEP-1b12), `context`, `target`,
/// then its `to` recipients.
fn candidate_workspaces(object: &Value) -> Vec<Url> {
    let mut urls = Vec::new();
    for key in ["audience", "context", "target", "to"] {
        match object.get(key) {
            Some(Value::Array(items)) => urls.extend(items.iter().filter_map(id_of)),
            Some(v) => urls.extend(id_of(v)),
            None => {}
        }
    }
    urls
}

/// The workspace (and its `Group`) the object belongs to, if it names one we hold.
pub async fn workspace_of(
    data: &Data,
    object: &Value,
) -> AppResult<Option<(DbWorkspace, DbActor)>> {
    let candidates = candidate_workspaces(object);
    if candidates.is_empty() {
        return Ok(None);
    }
    let mut conn = data.app_data().conn().await?;
    for url in candidates {
        if let Some(found) = db::workspaces::by_actor_ap_id(&mut conn, url.as_str()).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Hands the object to its capability by type.
async fn dispatch(data: &Data, received: Received<'_>) -> AppResult<()> {
    match type_of(received.object) {
        Some("Note") | Some("ChatMessage") => chat::receive(data, received).await,
        Some("Document") | Some("Image") => documents::receive(data, received).await,
        Some("Event") => meetings::receive(data, received).await,
        // A Tombstone or a bare id (Delete): whichever capability holds that id.
        _ if received.action == Action::Delete => {
            let Some(id) = id_of(received.object) else {
                return Ok(());
            };
            match holder_of(data, &id).await? {
                Some(Holder::Message) => chat::receive(data, received).await,
                Some(Holder::Document) => documents::receive(data, received).await,
                Some(Holder::Meeting) => meetings::receive(data, received).await,
                None => Ok(()),
            }
        }
        // Any other type is not workspace content we keep: accepted and dropped.
        _ => Ok(()),
    }
}

enum Holder {
    Message,
    Document,
    Meeting,
}

/// Which table holds the object `id`.
async fn holder_of(data: &Data, id: &Url) -> AppResult<Option<Holder>> {
    use crate::db::schema::{workspace_documents, workspace_meetings, workspace_messages};
    let mut conn = data.app_data().conn().await?;
    let id = id.as_str();
    let message: i64 = workspace_messages::table
        .filter(workspace_messages::ap_id.eq(id))
        .count()
        .get_result(&mut conn)
        .await?;
    if message > 0 {
        return Ok(Some(Holder::Message));
    }
    let document: i64 = workspace_documents::table
        .filter(workspace_documents::ap_id.eq(id))
        .count()
        .get_result(&mut conn)
        .await?;
    if document > 0 {
        return Ok(Some(Holder::Document));
    }
    let meeting: i64 = workspace_meetings::table
        .filter(workspace_meetings::ap_id.eq(id))
        .count()
        .get_result(&mut conn)
        .await?;
    Ok((meeting > 0).then_some(Holder::Meeting))
}

/// The workspace a deleted object belonged to (a `Delete` names only the object's id).
async fn workspace_of_deleted(data: &Data, id: &Url) -> AppResult<Option<(DbWorkspace, DbActor)>> {
    use crate::db::schema::{workspace_documents, workspace_meetings, workspace_messages};
    let mut conn = data.app_data().conn().await?;
    let id = id.as_str();
    let workspace_id: Option<uuid::Uuid> = workspace_messages::table
        .filter(workspace_messages::ap_id.eq(id))
        .select(workspace_messages::workspace_id)
        .union(
            workspace_documents::table
                .filter(workspace_documents::ap_id.eq(id))
                .select(workspace_documents::workspace_id),
        )
        .union(
            workspace_meetings::table
                .filter(workspace_meetings::ap_id.eq(id))
                .select(workspace_meetings::workspace_id),
        )
        .first(&mut conn)
        .await
        .optional()?;
    let Some(workspace_id) = workspace_id else {
        return Ok(None);
    };
    let Some(workspace) = db::workspaces::by_id(&mut conn, workspace_id).await? else {
        return Ok(None);
    };
    let group = db::actors::by_id(&mut conn, workspace.actor_id).await?;
    Ok(Some((workspace, group)))
}

/// A `Create` or `Update` (the object embedded): `Ok(true)` when it was workspace content
/// (stored or refused by its capability), `Ok(false)` when it is not about a workspace.
pub async fn route(
    data: &Data,
    action: Action,
    activity_id: &Url,
    sender: &DbActor,
    object: &Value,
) -> AppResult<bool> {
    let found = if action == Action::Delete {
        match id_of(object) {
            Some(id) => workspace_of_deleted(data, &id).await?,
            None => None,
        }
    } else {
        workspace_of(data, object).await?
    };
    let Some((workspace, group)) = found else {
        return Ok(false);
    };
    if sender.kind == "Group" && sender.id != group.id {
        return Err(AppError::bad_request(
            "a workspace may only relay its own content",
        ));
    }
    dispatch(
        data,
        Received {
            action,
            activity_id,
            sender,
            object,
            workspace: &workspace,
            group: &group,
        },
    )
    .await?;
    Ok(true)
}

/// An `Announce` by a workspace `Group` we hold of a `Create`/`Update`/`Delete` (embedded):
/// the workspace relaying what a member posted. `Ok(false)` when the announcer is not a
/// workspace we hold.
pub async fn route_announce(data: &Data, sender: &DbActor, inner: &Value) -> AppResult<bool> {
    let workspace = {
        let mut conn = data.app_data().conn().await?;
        db::workspaces::by_actor_id(&mut conn, sender.id).await?
    };
    if workspace.is_none() {
        return Ok(false);
    }
    let action = match type_of(inner) {
        Some("Create") => Action::Create,
        Some("Update") => Action::Update,
        Some("Delete") => Action::Delete,
        _ => return Ok(true),
    };
    let object = match inner.get("object") {
        Some(Value::String(id)) if action == Action::Delete => serde_json::json!({ "id": id }),
        Some(object) if object.is_object() => object.clone(),
        _ => {
            return Err(AppError::bad_request(
                "a workspace relays activities with their object embedded",
            ));
        }
    };
    let Some(activity_id) = inner.get("id").and_then(id_of) else {
        return Err(AppError::bad_request("relayed activity without an id"));
    };
    route(data, action, &activity_id, sender, &object).await?;
    Ok(true)
}
