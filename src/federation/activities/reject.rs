//! `Reject(Follow)`: a remote actor refused (or removed) a local member's Follow; and the
//! Reject we send when a follow of one of ours is refused (the instance actor has no followers).

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{follow::Follow, receive_follow_answer, verify_follow_answer},
    },
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::RejectType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reject {
    #[serde(rename = "type")]
    pub kind: RejectType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The Follow refused: embedded or by id.
    pub object: Value,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

impl Reject {
    /// `target` refuses `follower`'s `follow`, embedded whole.
    pub fn new(id: Url, target: &DbActor, follower: &DbActor, follow: Follow) -> AppResult<Reject> {
        Ok(Reject {
            kind: RejectType::Reject,
            id,
            actor: target.ap_url.clone().into(),
            object: serde_json::to_value(follow)?,
            to: vec![follower.ap_url.clone()],
        })
    }
}

#[async_trait::async_trait]
impl Activity for Reject {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    /// Only the followed actor may refuse.
    async fn verify(&self, data: &Data) -> AppResult<()> {
        verify_follow_answer(data, &self.object, self.actor.inner()).await
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        // The answer to one of our workspaces' invitations (the Invite by id or embedded).
        if crate::federation::activities::answers_invite(&self.object) {
            let actor = self.actor.dereference(data).await?;
            if crate::federation::workspaces::membership::receive_invite_answer(
                data,
                &self.object,
                &actor,
                false,
            )
            .await?
            {
                return Ok(());
            }
        }
        receive_follow_answer(data, &self.id, &self.object, self.actor.inner(), false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::activities::FollowRef;

    #[test]
    fn reject_by_id_or_embedded_parses() {
        let by_id: Reject = serde_json::from_value(serde_json::json!({
            "type": "Reject", "id": "https://a.example/r/1", "actor": "https://a.example/u/x",
            "object": "http://localhost:8080/activities/1", "to": "http://localhost:8080/users/alice"
        }))
        .expect("by id");
        assert_eq!(by_id.to.len(), 1);
        assert!(matches!(
            FollowRef::from_value(&by_id.object),
            Some(FollowRef::Id(_))
        ));
        let embedded: Reject = serde_json::from_value(serde_json::json!({
            "type": "Reject", "id": "https://a.example/r/2", "actor": "https://a.example/u/x",
            "object": {"type": "Follow", "actor": "http://localhost:8080/users/alice",
                       "object": "https://a.example/u/x"}
        }))
        .expect("embedded");
        assert!(matches!(
            FollowRef::from_value(&embedded.object),
            Some(FollowRef::Embedded { .. })
        ));
    }
}
