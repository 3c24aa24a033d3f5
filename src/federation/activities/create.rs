//! Inbound `Create` of a Note, Article or Page: a reply to one of our posts, announcements or
//! comments becomes a comment; a public post of an actor our members follow is kept as a
//! remote post (see `service::comments::receive_note`). Anything else is accepted and ignored.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{Data, activities::type_of, objects::comment::ACCEPTED_TYPES},
    service,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::CreateType, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Create {
    #[serde(rename = "type")]
    pub kind: CreateType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The created object, embedded (a bare IRI is ignored: we do not fetch on a push).
    pub object: Value,
}

impl Create {
    /// The embedded object when it is of a type we keep.
    fn kept_object(&self) -> Option<&Value> {
        self.object
            .is_object()
            .then_some(&self.object)
            .filter(|o| type_of(o).is_some_and(|t| ACCEPTED_TYPES.contains(&t)))
    }
}

#[async_trait::async_trait]
impl Activity for Create {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    /// Origins were checked by the inbox; authorship (`attributedTo` = actor) is checked by
    /// the service, which knows the object's shape.
    async fn verify(&self, _data: &Data) -> AppResult<()> {
        Ok(())
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        let Some(object) = self.kept_object() else {
            return Ok(());
        };
        let actor = self.actor.dereference(data).await?;
        service::comments::receive_note(data.app_data(), &self.id, &actor, object).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    #[test]
    fn fixture_creates_parse() {
        for path in [
            "mastodon/activities/create_note.json",
            "pleroma/activities/create_note.json",
            "friendica/activities/create_note.json",
            "friendica/activities/create_page_2.json",
        ] {
            let create: Create =
                serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(create.kept_object().is_some(), "{path}");
        }
        let question: Create = serde_json::from_value(serde_json::json!({
            "type": "Create", "id": "https://a.example/a/1", "actor": "https://a.example/u/x",
            "object": {"type": "Question", "id": "https://a.example/q/1"}
        }))
        .expect("parse");
        assert!(question.kept_object().is_none());
    }
}
