//! `Follow`: someone asks to follow one of our actors (answered with Accept or Reject), or one
//! of our members asks to follow someone elsewhere.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult, ErrorKind},
    federation::{Data, objects::is_local_url},
    service,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::FollowType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Follow {
    #[serde(rename = "type")]
    pub kind: FollowType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    pub object: ObjectId<DbActor>,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

impl Follow {
    pub fn new(id: Url, actor: &DbActor, object: &DbActor) -> Follow {
        Follow {
            kind: FollowType::Follow,
            id,
            actor: actor.ap_url.clone().into(),
            object: object.ap_url.clone().into(),
            to: vec![object.ap_url.clone()],
        }
    }
}

#[async_trait::async_trait]
impl Activity for Follow {
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

    /// Follows of actors that are not ours, unknown or deleted are ignored (a relay or a
    /// stale handle); the rest are answered by [`service::follows::accept_inbound_follow`].
    async fn receive(self, data: &Data) -> AppResult<()> {
        if !is_local_url(data, self.object.inner()) {
            return Ok(());
        }
        let target = match self.object.dereference_local(data).await {
            Ok(target) => target,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
            // Database unavailable: 503 and the sender retries, rather than 202 and nothing kept.
            Err(e) => return Err(e),
        };
        if target.deleted_at.is_some() {
            return Ok(());
        }
        {
            // A workspace has no followers: the Follow is dropped as if the workspace did not
            // exist (a Reject would tell an outsider that it does).
            let mut conn = data.app_data().conn().await?;
            if crate::federation::workspaces::membership::is_workspace_group(&mut conn, &target)
                .await?
            {
                return Ok(());
            }
        }
        let follower = self.actor.dereference(data).await?;
        service::follows::accept_inbound_follow(data.app_data(), &follower, &target, &self.id)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    #[test]
    fn fixture_follows_parse() {
        for path in [
            "mastodon/activities/follow.json",
            "lemmy/activities/following/follow.json",
            "pleroma/activities/follow.json",
        ] {
            let follow: Follow =
                serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(follow.kind, FollowType::Follow);
            assert!(follow.object.inner().as_str().starts_with("http"), "{path}");
        }
    }
}
