//! `Like`: a remote actor likes one of our posts, announcements or comments; and the Like we
//! send when a member likes something. Misskey sends its emoji reactions as a `Like` with the
//! emoji in `_misskey_reaction` and `content`: each counts as one like.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{id_of, reaction},
    },
    service::reactions::ReactionKind,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::LikeType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Like {
    #[serde(rename = "type")]
    pub kind: LikeType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The liked object: an IRI, or (rarely) the object embedded; only its id is used.
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
    /// Misskey's emoji reaction (`"👍"`, `":blobcat:"`), counted as a like.
    #[serde(
        rename = "_misskey_reaction",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub misskey_reaction: Option<Value>,
    /// Misskey and Pleroma put the emoji here too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
}

impl Like {
    /// `actor` likes `object`, addressed to `to` (the object's author).
    pub fn new(id: Url, actor: &DbActor, object: &Url, to: Vec<Url>) -> Like {
        Like {
            kind: LikeType::Like,
            id,
            actor: actor.ap_url.clone().into(),
            object: Value::String(object.to_string()),
            to,
            cc: Vec::new(),
            misskey_reaction: None,
            content: None,
        }
    }

    /// The id of the liked object.
    pub fn object_id(&self) -> Option<Url> {
        id_of(&self.object)
    }
}

#[async_trait::async_trait]
impl Activity for Like {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> AppResult<()> {
        reaction::verify(ReactionKind::Like, &self.object)
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        let kind = ReactionKind::Like;
        reaction::receive(data, kind, &self.id, &self.actor, &self.object).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;
    use serde_json::json;

    #[test]
    fn mastodon_like_parses() {
        let like: Like = serde_json::from_str(&fixture("mastodon/activities/like_page.json"))
            .expect("mastodon like");
        assert_eq!(
            like.object_id().map(|u| u.to_string()).as_deref(),
            Some("https://ds9.lemmy.ml/post/147")
        );
        assert_eq!(
            like.actor.inner().as_str(),
            "https://mastodon.madrid/users/felix"
        );
    }

    #[test]
    fn misskey_reaction_is_a_like() {
        // The shape Misskey sends for an emoji reaction (custom emoji tagged, content set).
        let like: Like = serde_json::from_value(json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
                {"misskey": "https://misskey-hub.net/ns#", "_misskey_reaction": "misskey:_misskey_reaction"}],
            "type": "Like",
            "id": "https://misskey.example/likes/9k2x1a",
            "actor": "https://misskey.example/users/9abc",
            "object": "http://localhost:8080/posts/1",
            "content": ":blobcat:",
            "_misskey_reaction": ":blobcat:",
            "tag": [{"id": "https://misskey.example/emojis/blobcat", "type": "Emoji",
                "name": ":blobcat:", "updated": "2024-01-01T00:00:00.000Z",
                "icon": {"type": "Image", "mediaType": "image/png",
                    "url": "https://misskey.example/files/blobcat.png"}}]
        }))
        .expect("misskey like");
        assert_eq!(like.misskey_reaction, Some(json!(":blobcat:")));
        assert_eq!(
            like.object_id().map(|u| u.to_string()).as_deref(),
            Some("http://localhost:8080/posts/1")
        );
    }

    #[test]
    fn outgoing_like_round_trips() {
        let actor_url = Url::parse("http://localhost:8080/users/alice").expect("url");
        let like = Like {
            kind: LikeType::Like,
            id: Url::parse("http://localhost:8080/activities/1").expect("url"),
            actor: actor_url.into(),
            object: json!("https://remote.example/notes/1"),
            to: vec![Url::parse("https://remote.example/users/bob").expect("url")],
            cc: Vec::new(),
            misskey_reaction: None,
            content: None,
        };
        let value = serde_json::to_value(&like).expect("json");
        assert_eq!(value["type"], "Like");
        assert!(value.get("_misskey_reaction").is_none());
        let back: Like = serde_json::from_value(value).expect("parse back");
        assert_eq!(back.to.len(), 1);
    }
}
