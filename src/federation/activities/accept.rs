//! `Accept(Follow)`: a remote actor accepted a local member's Follow; and the Accept we send
//! when someone follows one of ours.

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
    fetch::object_id::ObjectId, kinds::activity::AcceptType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accept {
    #[serde(rename = "type")]
    pub kind: AcceptType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The Follow accepted: embedded (Mastodon, Lemmy, Mbin) or by id (Mitra).
    pub object: Value,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

impl Accept {
    /// `target` accepts `follower`'s `follow`, embedded whole (Mastodon matches on it).
    pub fn new(id: Url, target: &DbActor, follower: &DbActor, follow: Follow) -> AppResult<Accept> {
        Ok(Accept {
            kind: AcceptType::Accept,
            id,
            actor: target.ap_url.clone().into(),
            object: serde_json::to_value(follow)?,
            to: vec![follower.ap_url.clone()],
        })
    }
}

#[async_trait::async_trait]
impl Activity for Accept {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    /// Only the followed actor may accept.
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
                true,
            )
            .await?
            {
                return Ok(());
            }
        }
        receive_follow_answer(data, &self.id, &self.object, self.actor.inner(), true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::activities::FollowRef;
    use crate::testing::fixture;

    #[test]
    fn fixture_accepts_parse_and_name_a_follow() {
        for path in [
            "lemmy/activities/following/accept.json",
            "mbin/activities/accept.json",
            "mitra/activities/accept.json",
        ] {
            let accept: Accept =
                serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(
                FollowRef::from_value(&accept.object).is_some(),
                "{path}: no Follow in {}",
                accept.object
            );
        }
    }
}
