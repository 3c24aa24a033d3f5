//! Authorized fetch of workspace objects: only a GET signed by a member actor gets anything;
//! an unsigned fetch, a bad signature, or a signature by anyone else gets the same 404 as an
//! object that does not exist (nothing tells an outsider that the workspace exists).

use crate::{
    db::{self, actors::DbActor, workspaces::DbWorkspace},
    error::{AppError, AppResult},
    federation::{
        Data, inbound_signature,
        rfc9421::Target,
        signatures::{key_belongs_to, precheck},
    },
};
use activitypub_federation::fetch::object_id::ObjectId;
use axum::http::request::Parts;
use std::time::SystemTime;
use url::Url;

/// The actor whose valid HTTP signature the request carries, or `None` (unsigned, malformed,
/// outside the time window, unknown key that cannot be fetched, bad signature). The key's
/// owner is the keyId without its fragment (`…/users/x#main-key`), read from our table or
/// fetched once.
pub async fn signed_requester(data: &Data, parts: &Parts) -> Option<DbActor> {
    if !parts.headers.contains_key("signature") {
        return None;
    }
    let signature = precheck(
        &parts.method,
        &parts.headers,
        &[],
        data.domain(),
        SystemTime::now(),
    )
    .ok()?;
    let key_id = Url::parse(signature.key_id()).ok()?;
    let mut owner = key_id.clone();
    owner.set_fragment(None);
    let ctx = data.app_data();
    let known = {
        let mut conn = ctx.conn().await.ok()?;
        db::actors::by_ap_id(&mut conn, owner.as_str()).await.ok()?
    };
    let actor = match known {
        Some(actor) => actor,
        None => ObjectId::<DbActor>::from(owner.clone())
            .dereference(data)
            .await
            .ok()?,
    };
    if actor.deleted_at.is_some() || !key_belongs_to(&key_id, &Url::parse(&actor.ap_id).ok()?) {
        return None;
    }
    let (scheme, authority) = inbound_signature::local_target(ctx);
    inbound_signature::verify_request(
        &signature,
        &parts.method,
        &parts.uri,
        &parts.headers,
        Target {
            scheme,
            authority: &authority,
        },
        &actor.public_key_pem,
    )
    .ok()?;
    Some(actor)
}

/// The member of `workspace` who signed this fetch; 404 for anyone else.
pub async fn member_fetch(
    data: &Data,
    parts: &Parts,
    workspace: &DbWorkspace,
) -> AppResult<DbActor> {
    let actor = signed_requester(data, parts)
        .await
        .ok_or_else(AppError::not_found)?;
    let mut conn = data.app_data().conn().await?;
    db::workspaces::member(&mut conn, workspace.id, actor.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(actor)
}
