//! `Leave`: a remote member leaves a workspace of ours (`{object: Group}`).

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{Data, workspaces::membership},
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::LeaveType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Leave {
    #[serde(rename = "type")]
    pub kind: LeaveType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The group left.
    pub object: Value,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

#[async_trait::async_trait]
impl Activity for Leave {
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
        let actor = self.actor.dereference(data).await?;
        membership::receive_leave(data, &actor, &self.object).await
    }
}
