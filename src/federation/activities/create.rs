//! Inbound `Create` of a Note, Article or Page: a thread in one of our forum categories
//! (see `federation::forum::inbound`); a reply to one of our posts, announcements or
//! comments becomes a comment; a public post of an actor our members follow is kept as a
//! remote post (see `service::comments::receive_note`). Anything else is accepted and ignored.
//!
//! Some servers send the object by reference only (`"object": "https://…/notes/1"`): it is
//! then fetched from its origin — signed by the instance actor, through the SSRF-checked
//! client — when that origin is the actor's (the inbox refuses any other before this runs),
//! and handled like an embedded one.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor},
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::type_of,
        objects::comment::{ACCEPTED_TYPES, is_accepted_type, parse_note},
        workspaces::inbound::{self as workspace_inbound, Action},
    },
    service,
    urls::{host_port, same_origin},
};
use activitypub_federation::{
    fetch::{fetch_object_http, object_id::ObjectId},
    kinds::activity::CreateType,
    traits::Activity,
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
    /// The created object: embedded, or its id (then fetched from its origin).
    pub object: Value,
}

/// An object of a type we keep (Note, Article, Page).
fn kept(object: &Value) -> bool {
    object.is_object() && type_of(object).is_some_and(|t| ACCEPTED_TYPES.contains(&t))
}

impl Create {
    /// The embedded object when it is of a type we keep.
    fn kept_object(&self) -> Option<&Value> {
        Some(&self.object).filter(|o| kept(o))
    }

    /// The object's id when it is given by reference only.
    fn reference(&self) -> AppResult<Option<Url>> {
        match &self.object {
            Value::String(s) => Url::parse(s)
                .map(Some)
                .map_err(|_| AppError::bad_request("object of a Create: not a URL")),
            _ => Ok(None),
        }
    }
}

/// Fetches the object a `Create` names by reference: only from the actor's own origin (an
/// object elsewhere could be anyone's), and not when we already keep it. `None`: nothing to
/// store (already kept, a type we do not keep, or on a rejected domain).
async fn fetch_reference(data: &Data, actor: &Url, url: &Url) -> AppResult<Option<Value>> {
    if !same_origin(url, actor) {
        return Err(AppError::bad_request(format!(
            "object {url} of a Create is not on the origin of its actor {actor}"
        )));
    }
    let ctx = data.app_data();
    {
        let mut conn = ctx.conn().await?;
        if db::comments::by_ap_id(&mut conn, url.as_str())
            .await?
            .is_some()
            || db::posts::by_ap_id(&mut conn, url.as_str())
                .await?
                .is_some()
        {
            return Ok(None);
        }
        // An object on a rejected domain is not fetched (the client would refuse it too).
        if let Some(host) = host_port(url)
            && service::domain_blocks::severity_of(&mut conn, &host).await?
                == Some(service::domain_blocks::Severity::Reject)
        {
            return Ok(None);
        }
    }
    let fetched = fetch_object_http::<AppContext, Value>(url, data).await?;
    // The library follows the object's own id on the same host: the origin (port included)
    // must still be the actor's.
    let object = fetched.object;
    let id = object
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok());
    if !id.as_ref().is_some_and(|id| same_origin(id, actor)) {
        return Err(AppError::bad_request(format!(
            "the object fetched from {url} is not on the origin of its actor {actor}"
        )));
    }
    Ok(kept(&object).then_some(object))
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
        let actor = self.actor.dereference(data).await?;
        self.receive_from(actor, data).await
    }
}

impl Create {
    /// [`Activity::receive`] with the activity's actor already read (by the inbox, which
    /// checked the signature with its key).
    pub async fn receive_from(self, actor: DbActor, data: &Data) -> AppResult<()> {
        // Workspace content goes to its workspace and nowhere else.
        if self.object.is_object()
            && workspace_inbound::route(data, Action::Create, &self.id, &actor, &self.object)
                .await?
        {
            return Ok(());
        }
        let fetched = match self.reference()? {
            Some(url) => match fetch_reference(data, self.actor.inner(), &url).await? {
                Some(object) => Some(object),
                None => return Ok(()),
            },
            None => None,
        };
        let Some(object) = fetched.as_ref().or_else(|| self.kept_object()) else {
            return Ok(());
        };
        // A thread started in one of our forum categories (before comments: a Page or a
        // mentioning Note is not a reply).
        if crate::federation::forum::inbound::route_create(data, &self.id, &actor, object).await? {
            return Ok(());
        }
        // A fetched object may be of any type: only those we keep go on.
        let note = parse_note(object)?;
        if !is_accepted_type(&note) {
            return Ok(());
        }
        service::comments::receive_note(data.app_data(), &self.id, &actor, &note).await
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
