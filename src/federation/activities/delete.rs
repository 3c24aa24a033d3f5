//! `Delete` of an actor by itself: the cached actor is marked deleted and its follows go.
//! Deletes of other objects (comments, remote posts) go to `service::comments`.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{Data, activities::id_of},
    service,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::DeleteType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delete {
    #[serde(rename = "type")]
    pub kind: DeleteType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The deleted object: an IRI or an embedded node (often a Tombstone).
    pub object: Value,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cc: Vec<Url>,
}

impl Delete {
    /// Whether the actor deletes itself (an account deletion).
    pub fn deletes_actor(&self) -> bool {
        id_of(&self.object).as_ref() == Some(self.actor.inner())
    }
}

#[async_trait::async_trait]
impl Activity for Delete {
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
        if !self.deletes_actor() {
            // A deleted object (IRI or Tombstone): a comment or remote post, by its author only.
            let Some(object_id) = id_of(&self.object) else {
                return Ok(());
            };
            let actor = self.actor.dereference(data).await?;
            // Workspace content goes to its workspace and nowhere else.
            let object = match &self.object {
                Value::String(id) => serde_json::json!({ "id": id }),
                other => other.clone(),
            };
            if crate::federation::workspaces::inbound::route(
                data,
                crate::federation::workspaces::inbound::Action::Delete,
                &self.id,
                &actor,
                &object,
            )
            .await?
            {
                return Ok(());
            }
            return service::comments::receive_delete(
                data.app_data(),
                &self.id,
                &actor,
                &object_id,
            )
            .await;
        }
        let actor = self.actor.dereference_local(data).await?;
        service::follows::delete_remote_actor(data.app_data(), &self.id, &actor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    #[test]
    fn fixture_deletes_parse_and_are_not_actor_deletions() {
        for path in [
            "mastodon/activities/delete.json",
            "pleroma/activities/delete.json",
            "friendica/activities/delete.json",
        ] {
            let delete: Delete =
                serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(!delete.deletes_actor(), "{path}");
        }
        let account: Delete = serde_json::from_value(serde_json::json!({
            "type": "Delete", "id": "https://a.example/users/x#delete",
            "actor": "https://a.example/users/x", "object": "https://a.example/users/x",
            "to": ["https://www.w3.org/ns/activitystreams#Public"]
        }))
        .expect("parse");
        assert!(account.deletes_actor());
    }
}
