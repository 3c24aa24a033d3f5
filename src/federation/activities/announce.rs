//! `Announce` (a boost): a remote actor shares one of our posts, announcements or comments;
//! and the Announce we send when a member boosts something. An Announce of anything else (a
//! Lemmy community relaying its activities, a boost of a third party's post) is ignored.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{id_of, reaction},
        objects::PUBLIC,
    },
    service::reactions::ReactionKind,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::AnnounceType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    #[serde(rename = "type")]
    pub kind: AnnounceType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// The shared object: an IRI or an embedded node; only its id is used (an embedded copy
    /// from another origin is never trusted).
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
}

impl Announce {
    /// `actor` boosts `object` publicly: to Public, cc its followers and the object's author.
    pub fn new(
        id: Url,
        actor: &DbActor,
        object: &Url,
        author: Option<&DbActor>,
    ) -> AppResult<Announce> {
        let mut cc = Vec::new();
        if let Some(followers) = &actor.followers_url {
            cc.push(Url::parse(followers)?);
        }
        if let Some(author) = author
            && author.id != actor.id
        {
            cc.push(author.ap_url.clone());
        }
        Ok(Announce {
            kind: AnnounceType::Announce,
            id,
            actor: actor.ap_url.clone().into(),
            object: Value::String(object.to_string()),
            to: vec![Url::parse(PUBLIC)?],
            cc,
            published: Some(Utc::now()),
        })
    }

    /// The id of the shared object.
    pub fn object_id(&self) -> Option<Url> {
        id_of(&self.object)
    }
}

#[async_trait::async_trait]
impl Activity for Announce {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> AppResult<()> {
        reaction::verify(ReactionKind::Announce, &self.object)
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        if self.object.is_object() {
            // A workspace relaying what one of its members posted.
            let sender = self.actor.dereference(data).await?;
            if crate::federation::workspaces::inbound::route_announce(data, &sender, &self.object)
                .await?
            {
                return Ok(());
            }
            // A forum category elsewhere (Lemmy community, one of ours on another instance)
            // relaying a thread or reply to its followers here.
            if crate::federation::forum::inbound::route_announce(data, &sender, &self.object)
                .await?
            {
                return Ok(());
            }
        }
        let kind = ReactionKind::Announce;
        reaction::receive(data, kind, &self.id, &self.actor, &self.object).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;
    use serde_json::json;

    #[test]
    fn peertube_announce_parses() {
        let announce: Announce =
            serde_json::from_str(&fixture("peertube/activities/announce_video.json"))
                .expect("peertube announce");
        assert_eq!(
            announce.object_id().map(|u| u.to_string()).as_deref(),
            Some("https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1")
        );
        assert_eq!(announce.to.len(), 1);
    }

    #[test]
    fn mastodon_and_lemmy_shapes_parse() {
        // Mastodon: a boost, `published`, the object as an IRI, cc the author and followers.
        let mastodon: Announce = serde_json::from_value(json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://mastodon.example/users/bob/statuses/1123/activity",
            "type": "Announce",
            "actor": "https://mastodon.example/users/bob",
            "published": "2026-11-28T10:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["http://localhost:8080/users/alice",
                   "https://mastodon.example/users/bob/followers"],
            "object": "http://localhost:8080/posts/1"
        }))
        .expect("mastodon announce");
        assert!(mastodon.published.is_some());
        assert_eq!(mastodon.cc.len(), 2);
        // Lemmy: a community wraps an activity; the object is embedded (and not ours).
        let lemmy: Announce = serde_json::from_value(json!({
            "id": "https://lemmy.example/activities/announce/like/1",
            "type": "Announce",
            "actor": "https://lemmy.example/c/culture",
            "to": "as:Public",
            "object": {"id": "https://other.example/activities/like/1", "type": "Like",
                       "actor": "https://other.example/u/x",
                       "object": "https://lemmy.example/post/2"}
        }))
        .expect("lemmy announce");
        assert_eq!(
            lemmy.object_id().map(|u| u.to_string()).as_deref(),
            Some("https://other.example/activities/like/1")
        );
    }
}
