//! `Invite`: a remote workspace (`Group`) invites one of our members
//! (`{actor: Group, object: Group, target: invitee}`); see
//! `federation::workspaces::membership` for the `Invite`s our workspaces send.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{Data, workspaces::membership},
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::InviteType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    #[serde(rename = "type")]
    pub kind: InviteType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The group invited into (the workspace inviting: its own id).
    pub object: Value,
    /// The invitee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Value>,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    /// The invitation's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

#[async_trait::async_trait]
impl Activity for Invite {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> AppResult<()> {
        Ok(())
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        let group = self.actor.dereference(data).await?;
        membership::receive_invite(
            data,
            &self.id,
            &group,
            &self.object,
            self.target.as_ref(),
            self.content.as_deref(),
        )
        .await
    }
}
