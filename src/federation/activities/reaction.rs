//! What an inbound `Like` and `Announce` share: the object must name an id (an IRI, or an
//! embedded node whose id is used; its copy is never trusted), and the reaction goes to the
//! one domain function, `service::reactions::receive_reaction`.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor},
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{id_of, type_of},
    },
    service::{
        self,
        reactions::{ReactionKind, ReactionRef},
    },
};
use activitypub_federation::fetch::object_id::ObjectId;
use serde_json::Value;
use url::Url;

/// `verify()` of a reaction: 400 when its object names no id.
pub fn verify(kind: ReactionKind, object: &Value) -> AppResult<()> {
    match id_of(object) {
        Some(_) => Ok(()),
        None => Err(AppError::bad_request(format!(
            "{} object: missing or not a URL",
            kind.activity_type()
        ))),
    }
}

/// `receive()` of a reaction `id` by `actor` on `object`.
pub async fn receive(
    data: &Data,
    kind: ReactionKind,
    id: &Url,
    actor: &ObjectId<DbActor>,
    object: &Value,
) -> AppResult<()> {
    let Some(object) = id_of(object) else {
        return Ok(());
    };
    let actor = actor.dereference(data).await?;
    service::reactions::receive_reaction(data.app_data(), kind, id, &actor, &object).await
}

impl ReactionRef {
    /// An embedded `Like` or `Announce` (Misskey's and Pleroma's emoji reactions included);
    /// `None` for anything else, a bare IRI included (see [`undo_reference`]).
    pub fn embedded(object: &Value) -> Option<ReactionRef> {
        let kind = match type_of(object)? {
            "Like" | "EmojiReact" => ReactionKind::Like,
            "Announce" => ReactionKind::Announce,
            _ => return None,
        };
        let url = |key: &str| object.get(key).and_then(id_of);
        Some(ReactionRef {
            id: url("id"),
            kind: Some(kind),
            actor: url("actor"),
            object: url("object"),
        })
    }
}

/// Whether the `object` of an inbound `Undo` is a like or boost (embedded, or the id of one
/// we stored); `None` leaves it to the other Undo handlers (Follow).
pub async fn undo_reference(ctx: &AppContext, object: &Value) -> AppResult<Option<ReactionRef>> {
    if let Some(reference) = ReactionRef::embedded(object) {
        return Ok(Some(reference));
    }
    let Value::String(id) = object else {
        return Ok(None);
    };
    let mut conn = ctx.conn().await?;
    Ok(db::reactions::by_activity(&mut conn, id)
        .await?
        .map(|_| ReactionRef {
            id: Url::parse(id).ok(),
            kind: None,
            actor: None,
            object: None,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;
    use serde_json::json;

    #[test]
    fn undo_references() {
        let undo: Value = serde_json::from_str(&fixture("mastodon/activities/undo_like_page.json"))
            .expect("fixture");
        let reference = ReactionRef::embedded(&undo["object"]).expect("a like");
        assert_eq!(reference.kind, Some(ReactionKind::Like));
        assert_eq!(
            reference.id.map(|u| u.to_string()).as_deref(),
            Some("https://mastodon.madrid/users/felix#likes/212341")
        );
        assert_eq!(
            reference.object.map(|u| u.to_string()).as_deref(),
            Some("https://ds9.lemmy.ml/post/147")
        );
        let boost = ReactionRef::embedded(&json!({
            "type": "Announce", "id": "https://m.example/users/b/statuses/1/activity",
            "actor": "https://m.example/users/b", "object": "http://localhost:8080/posts/1"
        }))
        .expect("a boost");
        assert_eq!(boost.kind, Some(ReactionKind::Announce));
        let follow: Value =
            serde_json::from_str(&fixture("mastodon/activities/undo_follow.json")).expect("f");
        assert!(ReactionRef::embedded(&follow["object"]).is_none());
        assert!(ReactionRef::embedded(&json!("https://m.example/likes/1")).is_none());
    }
}
