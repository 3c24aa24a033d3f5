//! What an inbound `Like` and `Announce` share: the object must name an id (an IRI, or an
//! embedded node whose id is used; its copy is never trusted), and the reaction goes to the
//! one domain function, `service::reactions::receive_reaction`.

use crate::{
    db::actors::DbActor,
    error::{AppError, AppResult},
    federation::{Data, activities::id_of},
    service::{self, reactions::ReactionKind},
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
