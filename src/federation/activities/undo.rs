//! `Undo(Follow)`: a remote actor stops following one of ours; and the Undo we send when a
//! member unfollows. `Undo(Like)` and `Undo(Announce)` go to `service::reactions`; Undo of
//! other activities is ignored.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{FollowRef, follow::Follow},
    },
    service,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::UndoType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Undo {
    #[serde(rename = "type")]
    pub kind: UndoType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    pub object: Value,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

impl Undo {
    /// `actor` withdraws its `follow`, embedded whole.
    pub fn new(id: Url, actor: &DbActor, follow: Follow) -> AppResult<Undo> {
        let to = follow.to.clone();
        Ok(Undo {
            kind: UndoType::Undo,
            id,
            actor: actor.ap_url.clone().into(),
            object: serde_json::to_value(follow)?,
            to,
        })
    }
}

#[async_trait::async_trait]
impl Activity for Undo {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    /// An actor may only undo its own Follow (and a Lock only when it may lock).
    async fn verify(&self, data: &Data) -> AppResult<()> {
        // `Undo(Lock)` of one of our threads: only its category's moderators may.
        crate::federation::forum::inbound::route_moderation(
            data,
            &serde_json::json!({"type": "Undo", "object": self.object}),
        )
        .await?;
        if let Some(reference) = FollowRef::from_value(&self.object) {
            let mut conn = data.app_data().conn().await?;
            service::follows::find_inbound_follow(&mut conn, &reference, self.actor.inner())
                .await?;
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        if let Some(reaction) =
            super::reaction::undo_reference(data.app_data(), &self.object).await?
        {
            let actor = self.actor.dereference(data).await?;
            return service::reactions::receive_undo(data.app_data(), &self.id, &actor, &reaction)
                .await;
        }
        if crate::federation::workspaces::membership::receive_invite_undo(
            data,
            self.actor.inner(),
            &self.object,
        )
        .await?
        {
            return Ok(());
        }
        let Some(reference) = FollowRef::from_value(&self.object) else {
            return Ok(());
        };
        service::follows::undo_inbound_follow(
            data.app_data(),
            &self.id,
            &reference,
            self.actor.inner(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    #[test]
    fn fixture_undo_follows_parse() {
        for path in [
            "mastodon/activities/undo_follow.json",
            "lemmy/activities/following/undo_follow.json",
        ] {
            let undo: Undo =
                serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            match FollowRef::from_value(&undo.object) {
                Some(FollowRef::Embedded { actor, .. }) => assert_eq!(&actor, undo.actor.inner()),
                other => panic!("{path}: {other:?}"),
            }
        }
        // An Undo of something else is read, and left to other modules.
        let like: Undo = serde_json::from_str(&fixture("mastodon/activities/undo_like_page.json"))
            .expect("undo like");
        assert!(FollowRef::from_value(&like.object).is_none());
    }
}
