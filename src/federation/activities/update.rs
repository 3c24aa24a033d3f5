//! `Update` of an actor: a remote profile changed (the cached row is refreshed), and the
//! Update we send to followers when a member edits their profile. Updates of Notes and
//! Articles (comments, remote posts) go to `service::comments`; other objects are ignored.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::type_of,
        objects::{
            PUBLIC,
            person::{ActorType, Person},
        },
    },
    service,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::UpdateType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    #[serde(rename = "type")]
    pub kind: UpdateType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
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

impl Update {
    /// A public Update of `actor`'s own document, copied to its followers.
    pub fn new(id: Url, actor: &DbActor, object: Value) -> AppResult<Update> {
        let mut cc = Vec::new();
        if let Some(followers) = actor.followers_url.as_deref() {
            cc.push(Url::parse(followers)?);
        }
        Ok(Update {
            kind: UpdateType::Update,
            id,
            actor: actor.ap_url.clone().into(),
            object,
            to: vec![Url::parse(PUBLIC)?],
            cc,
        })
    }

    /// The updated actor document, when the object is an actor.
    fn actor_document(&self) -> AppResult<Option<Person>> {
        if type_of(&self.object).is_none_or(|t| ActorType::parse(t).is_none()) {
            return Ok(None);
        }
        let person: Person = serde_json::from_value(self.object.clone())
            .map_err(|e| AppError::bad_request(format!("Update: actor document: {e}")))?;
        Ok(Some(person))
    }
}

#[async_trait::async_trait]
impl Activity for Update {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    /// An actor may only update itself, with a document that passes the fetch checks.
    async fn verify(&self, _data: &Data) -> AppResult<()> {
        if let Some(person) = self.actor_document()? {
            if person.id.inner() != self.actor.inner() {
                return Err(AppError::bad_request("an actor may only update itself"));
            }
            person.check(self.actor.inner())?;
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        let Some(person) = self.actor_document()? else {
            if self.object.is_object() {
                // Workspace content goes to its workspace and nowhere else.
                let actor = self.actor.dereference(data).await?;
                if crate::federation::workspaces::inbound::route(
                    data,
                    crate::federation::workspaces::inbound::Action::Update,
                    &self.id,
                    &actor,
                    &self.object,
                )
                .await?
                {
                    return Ok(());
                }
            }
            // An edited Note/Article: a comment or a remote post we keep (by its author only).
            if self.object.is_object()
                && type_of(&self.object).is_some_and(|t| {
                    crate::federation::objects::comment::ACCEPTED_TYPES.contains(&t)
                })
            {
                let actor = self.actor.dereference(data).await?;
                let note = crate::federation::objects::comment::parse_note(&self.object)?;
                return service::comments::receive_update(data.app_data(), &self.id, &actor, &note)
                    .await;
            }
            return Ok(());
        };
        let new = person.into_new_remote_actor()?;
        let group = new.kind == "Group";
        service::follows::update_remote_actor(data.app_data(), &self.id, &new).await?;
        if group {
            // A remote workspace one of our members belongs to: its mirror follows.
            crate::federation::workspaces::membership::receive_group_update(data, &self.object)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn update_of_an_actor_or_of_something_else() {
        let person: Value =
            serde_json::from_str(&crate::testing::fixture("mastodon/objects/person.json"))
                .expect("json");
        let update: Update = serde_json::from_value(json!({
            "type": "Update", "id": "https://masto.qa.urbanwildlife.biz/users/mastodon#updates/1",
            "actor": "https://masto.qa.urbanwildlife.biz/users/mastodon",
            "to": "as:Public", "object": person
        }))
        .expect("parse");
        assert!(update.actor_document().expect("doc").is_some());
        let note: Update = serde_json::from_value(json!({
            "type": "Update", "id": "https://a.example/u/1", "actor": "https://a.example/users/x",
            "object": {"id": "https://a.example/notes/1", "type": "Note"}
        }))
        .expect("parse");
        assert!(note.actor_document().expect("doc").is_none());
    }
}
