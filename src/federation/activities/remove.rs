//! `Remove`: a remote workspace (`Group`) removed one of our members
//! (`{actor: Group, object: member, target: Group}`). Unpinning one of our forum threads
//! (`target`: a category's `featured`) is refused in `verify` (see `federation::forum`).

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{Data, workspaces::membership},
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::RemoveType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    #[serde(rename = "type")]
    pub kind: RemoveType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The member removed.
    pub object: Value,
    /// The group they were removed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Value>,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

#[async_trait::async_trait]
impl Activity for Remove {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    /// `Remove` from a category's `featured` (unpinning a thread): only its moderators may.
    async fn verify(&self, data: &Data) -> AppResult<()> {
        crate::federation::forum::inbound::route_moderation(
            data,
            &serde_json::json!({"type": "Remove", "object": self.object, "target": self.target}),
        )
        .await?;
        Ok(())
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        let group = self.actor.dereference(data).await?;
        membership::receive_remove(data, &self.id, &group, &self.object, self.target.as_ref()).await
    }
}
