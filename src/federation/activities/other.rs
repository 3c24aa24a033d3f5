//! The catch-all: an activity type nobody here handles yet. It passed the signature and
//! origin checks; it is answered 202 and ignored, so senders do not retry it.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::Data,
};
use activitypub_federation::{fetch::object_id::ObjectId, traits::Activity};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Other {
    #[serde(rename = "type")]
    pub kind: Value,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// Read for the forum's `Lock` and `Add` (Lemmy's moderation of a thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Value>,
}

#[async_trait::async_trait]
impl Activity for Other {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    /// `Lock` and `Add` (to a category's `featured`) of one of our threads: only its
    /// category's moderators may (see `federation::forum::inbound`).
    async fn verify(&self, data: &Data) -> AppResult<()> {
        crate::federation::forum::inbound::route_moderation(
            data,
            &serde_json::json!({"type": self.kind, "object": self.object, "target": self.target}),
        )
        .await?;
        Ok(())
    }

    async fn receive(self, _data: &Data) -> AppResult<()> {
        tracing::debug!("ignored inbound {} {}", self.kind, self.id);
        Ok(())
    }
}
