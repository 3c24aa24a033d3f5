//! `Join`: a remote actor asks to join a listed workspace of ours (`{object: Group}`).

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{Data, workspaces::membership},
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::JoinType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Join {
    #[serde(rename = "type")]
    pub kind: JoinType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The group to join.
    pub object: Value,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    /// A message to the coordinators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

#[async_trait::async_trait]
impl Activity for Join {
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
        membership::receive_join(
            data,
            &self.id,
            &actor,
            &self.object,
            self.content.as_deref(),
        )
        .await
    }
}
