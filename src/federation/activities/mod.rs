//! Activities, one file each: the protocol struct, its constructor for outgoing use and its
//! `impl Activity` for inbound use. `verify()` only checks (origins, authorship);
//! `receive()` writes, inside one transaction that starts with the duplicate-activity guard.

pub mod accept;
pub mod announce;
pub mod create;
pub mod create_or_update;
pub mod delete;
pub mod flag;
pub mod follow;
pub mod invite;
pub mod join;
pub mod leave;
pub mod like;
pub mod other;
pub mod reaction;
pub mod reject;
pub mod remove;
pub mod undo;
pub mod update;

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    service,
    urls::same_origin,
};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::Value;
use url::Url;

/// A fresh id for an activity we publish (`/activities/{uuid}`).
pub use crate::service::outbound::new_activity_id;

/// `type` of a JSON-LD node: a string, or the first string of a list (compact JSON-LD allows
/// several types).
pub fn type_of(node: &Value) -> Option<&str> {
    match node.get("type")? {
        Value::String(s) => Some(s.as_str()),
        Value::Array(items) => items.iter().find_map(Value::as_str),
        _ => None,
    }
}

/// The `id` of a reference that is either a bare IRI or an embedded node.
pub fn id_of(reference: &Value) -> Option<Url> {
    match reference {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(map) => map
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    }
}

/// Reads a value or a list of values as a list (compact JSON-LD sends a lone `tag` or
/// `attachment` without brackets). `null` and a missing field give an empty list.
pub fn deserialize_one_or_many_values<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    let items = match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(serde::de::Error::custom))
        .collect()
}

pub use crate::service::follows::FollowRef;

impl FollowRef {
    /// `None` when the object is neither an IRI nor an embedded `Follow` (an Accept of an
    /// invitation, an Undo of a Like…): not ours to handle here.
    pub fn from_value(object: &Value) -> Option<FollowRef> {
        match object {
            Value::String(s) => Url::parse(s).ok().map(FollowRef::Id),
            Value::Object(map) => {
                if type_of(object) != Some("Follow") {
                    return None;
                }
                let url = |key: &str| map.get(key).and_then(id_of);
                Some(FollowRef::Embedded {
                    id: url("id"),
                    actor: url("actor")?,
                    object: url("object")?,
                })
            }
            _ => None,
        }
    }
}

/// `verify()` of Accept and Reject: only the followed actor may answer a Follow (an object
/// that is no Follow is not ours to check).
async fn verify_follow_answer(data: &Data, object: &Value, answering: &Url) -> AppResult<()> {
    if let Some(reference) = FollowRef::from_value(object) {
        let mut conn = data.app_data().conn().await?;
        service::follows::find_outbound_follow(&mut conn, &reference, answering).await?;
    }
    Ok(())
}

/// Whether the object of an Accept or Reject may be one of our `Invite`s: an embedded
/// `Invite`, or a bare id (a Follow's id looks the same: the caller looks it up).
pub fn answers_invite(object: &Value) -> bool {
    object.is_string() || type_of(object) == Some("Invite")
}

/// `receive()` of Accept (`accepted`) and Reject.
async fn receive_follow_answer(
    data: &Data,
    id: &Url,
    object: &Value,
    answering: &Url,
    accepted: bool,
) -> AppResult<()> {
    let Some(reference) = FollowRef::from_value(object) else {
        return Ok(());
    };
    service::follows::follow_answered(data.app_data(), id, &reference, answering, accepted).await
}

/// Types whose embedded `object` legitimately lives on another origin: Accept and Reject
/// answer our own Follow; Announce shares someone else's object (its handler must fetch it
/// from its origin rather than trust the copy); Like names someone else's object (only its
/// id is read); Flag names our objects by nature (only their ids are read).
const FOREIGN_OBJECT_TYPES: &[&str] = &["Accept", "Reject", "Announce", "Like", "Flag"];
/// Types whose `object`, even given as a bare IRI, must be the actor's own.
const OWN_OBJECT_TYPES: &[&str] = &["Update", "Delete", "Undo", "Create"];

/// Origin rules every inbound activity obeys, whatever its type, before any key is looked up:
/// the activity id and any embedded object id are on the actor's origin (scheme, host and
/// port), and so is the object of a Create, Update, Delete or Undo even as a bare IRI — which
/// also refuses activities about a local actor or object coming from elsewhere.
pub fn check_origins(activity: &Value, id: &Url, actor: &Url) -> AppResult<()> {
    if !same_origin(id, actor) {
        return Err(AppError::bad_request(format!(
            "activity id {id} is not on the origin of its actor {actor}"
        )));
    }
    let kind = type_of(activity).unwrap_or_default();
    let Some(object) = activity.get("object") else {
        return Ok(());
    };
    if FOREIGN_OBJECT_TYPES.contains(&kind) {
        return Ok(());
    }
    let embedded = object.is_object();
    if embedded || OWN_OBJECT_TYPES.contains(&kind) {
        let objects: Vec<&Value> = match object {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for object in objects {
            if !object.is_object() && !OWN_OBJECT_TYPES.contains(&kind) {
                continue;
            }
            if let Some(object_id) = id_of(object) {
                if !same_origin(&object_id, actor) {
                    return Err(AppError::bad_request(format!(
                        "object {object_id} of a {kind} is not on the origin of its actor {actor}"
                    )));
                }
            } else if object.is_string() {
                return Err(AppError::bad_request(format!(
                    "object of a {kind}: not a URL"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use activitypub_federation::protocol::helpers::deserialize_one_or_many;
    use serde_json::json;

    fn u(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn create_with_object_on_another_port_is_refused() {
        let actor = u("http://remote.example:1234/users/bob");
        let good = json!({
            "id": "http://remote.example:1234/activities/1",
            "type": "Create",
            "actor": actor.as_str(),
            "object": {"id": "http://remote.example:1234/notes/1", "type": "Note"}
        });
        check_origins(&good, &u("http://remote.example:1234/activities/1"), &actor)
            .expect("same origin");
        let mut bad = good.clone();
        bad["object"]["id"] = json!("http://remote.example:4321/notes/1");
        assert!(
            check_origins(&bad, &u("http://remote.example:1234/activities/1"), &actor).is_err()
        );
        // The activity id itself on another port.
        assert!(
            check_origins(&good, &u("http://remote.example:9999/activities/1"), &actor).is_err()
        );
    }

    #[test]
    fn update_or_delete_of_someone_else_is_refused() {
        let actor = u("https://remote.example/users/bob");
        let id = u("https://remote.example/activities/2");
        let delete_local = json!({
            "type": "Delete", "object": "http://localhost:8080/users/alice"
        });
        assert!(check_origins(&delete_local, &id, &actor).is_err());
        let update_other = json!({
            "type": "Update",
            "object": {"id": "https://elsewhere.example/users/eve", "type": "Person"}
        });
        assert!(check_origins(&update_other, &id, &actor).is_err());
        // Follow and Like name objects elsewhere by IRI: fine.
        let follow = json!({"type": "Follow", "object": "http://localhost:8080/users/alice"});
        check_origins(&follow, &id, &actor).expect("follow");
        // Accept embeds our own Follow.
        let accept = json!({"type": "Accept", "object": {
            "id": "http://localhost:8080/activities/x", "type": "Follow",
            "actor": "http://localhost:8080/users/alice", "object": actor.as_str()}});
        check_origins(&accept, &id, &actor).expect("accept");
    }

    #[test]
    fn a_flag_names_our_objects_embedded_or_not() {
        let actor = u("https://remote.example/actor");
        let id = u("https://remote.example/reports/1");
        for object in [
            json!([
                "http://localhost:8080/users/alice",
                "http://localhost:8080/posts/1"
            ]),
            json!({"id": "http://localhost:8080/posts/1", "type": "Note"}),
            json!([{"id": "http://localhost:8080/users/alice", "type": "Person"}]),
        ] {
            let flag = json!({"type": "Flag", "object": object});
            check_origins(&flag, &id, &actor).expect("a Flag names our objects");
        }
        // Its own id still has to be on the actor's origin.
        let flag = json!({"type": "Flag", "object": "http://localhost:8080/posts/1"});
        assert!(check_origins(&flag, &u("https://elsewhere.example/reports/1"), &actor).is_err());
    }

    #[test]
    fn follow_references() {
        assert_eq!(
            FollowRef::from_value(&json!("https://a.example/f/1")),
            Some(FollowRef::Id(u("https://a.example/f/1")))
        );
        let embedded = FollowRef::from_value(&json!({
            "type": "Follow", "actor": "https://a.example/u/x", "object": "https://b.example/u/y"
        }))
        .expect("embedded");
        assert_eq!(embedded.id(), None);
        assert!(
            FollowRef::from_value(&json!({"type": "Like", "id": "https://a.example/l/1"}))
                .is_none()
        );
    }

    #[derive(serde::Deserialize)]
    struct Addressed {
        #[serde(default, deserialize_with = "deserialize_one_or_many")]
        to: Vec<Url>,
        #[serde(default, deserialize_with = "deserialize_one_or_many")]
        cc: Vec<Url>,
        #[serde(default, deserialize_with = "deserialize_one_or_many_values")]
        tag: Vec<Value>,
        #[serde(default, deserialize_with = "deserialize_one_or_many_values")]
        attachment: Vec<Value>,
    }

    #[test]
    fn compact_json_ld_one_or_many_and_public_spellings() {
        let public = u(crate::federation::objects::PUBLIC);
        for spelling in ["as:Public", "Public", crate::federation::objects::PUBLIC] {
            let a: Addressed = serde_json::from_value(json!({
                "to": spelling,
                "cc": [spelling, "https://a.example/users/x/followers"],
                "tag": {"type": "Hashtag", "name": "#culture"},
                "attachment": [{"type": "Image", "url": "https://a.example/i.png"}]
            }))
            .expect("parse");
            assert_eq!(a.to, vec![public.clone()], "{spelling}");
            assert_eq!(a.cc.len(), 2);
            assert!(a.cc.contains(&public));
            assert_eq!(a.tag.len(), 1);
            assert_eq!(a.attachment.len(), 1);
        }
        let empty: Addressed = serde_json::from_value(json!({"tag": null})).expect("parse");
        assert!(empty.to.is_empty() && empty.tag.is_empty());
    }
}
