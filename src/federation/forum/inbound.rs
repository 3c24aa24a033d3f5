//! The forum's inbound side.
//!
//! - **Threads from elsewhere** ([`route_create`]): a `Create` whose object is a `Page` or
//!   `Article` addressed to one of our categories (in `to`, `cc` or `audience`: Lemmy's
//!   shape), or a `Note` without `inReplyTo` whose `Mention` tag names a category
//!   (Mastodon's: the title is its first line), becomes a thread through
//!   `service::forum::threads::receive_remote` — refused 422 on `name` without a title.
//!   Replies are comments (`service::comments::receive_note`, which refuses a reply to a
//!   locked thread with 409 and to a deleted one with 410, storing nothing).
//! - **Moderation from elsewhere** ([`route_moderation`]): `Lock`, `Undo(Lock)` and
//!   `Add`/`Remove` on a category's `featured` collection are read in Lemmy's shapes and would
//!   apply only when the sender moderates the thread's category. Our categories' moderators
//!   are all local accounts, so from a remote actor these are refused with 403 and nothing is
//!   stored.
//! - **A remote `Group` our members follow** ([`route_announce`]): its `Announce(Create)`
//!   of a `Page` or `Note` is unwrapped and handled like the inner activity — the object is
//!   trusted as embedded only when it lives on the `Group`'s own origin, and fetched from its
//!   origin otherwise.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, forum::DbCategory},
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{id_of, type_of},
        objects::{
            comment::{is_accepted_type, parse_note},
            is_local_url,
        },
    },
    sanitize::SafeHtml,
    service,
    urls::same_origin,
};
use activitypub_federation::fetch::{fetch_object_http, object_id::ObjectId};
use serde_json::Value;
use url::Url;

/// The http(s) URLs of an addressing field (an IRI, a node, or a list of them); `as:Public`
/// and other compact IRIs are left out.
fn urls_of(value: Option<&Value>) -> Vec<Url> {
    let urls: Vec<Url> = match value {
        Some(Value::Array(items)) => items.iter().filter_map(id_of).collect(),
        Some(other) => id_of(other).into_iter().collect(),
        None => Vec::new(),
    };
    urls.into_iter()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .collect()
}

/// The `href`s of an object's `Mention` tags.
fn mentions_of(object: &Value) -> Vec<Url> {
    let tags: Vec<&Value> = match object.get("tag") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other @ Value::Object(_)) => vec![other],
        _ => Vec::new(),
    };
    tags.into_iter()
        .filter(|t| type_of(t) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(Value::as_str))
        .filter_map(|s| Url::parse(s).ok())
        .collect()
}

/// The first of `candidates` that is one of our categories.
async fn first_category(data: &Data, candidates: Vec<Url>) -> AppResult<Option<DbCategory>> {
    let mut conn = data.app_data().conn().await?;
    for url in candidates {
        if !is_local_url(data, &url) {
            continue;
        }
        if let Some((category, _)) = db::forum::category_by_ap_id(&mut conn, url.as_str()).await? {
            return Ok(Some(category));
        }
    }
    Ok(None)
}

/// The category a created object starts a thread in, if any: a `Page`/`Article` addressed
/// to it, or a `Note` without `inReplyTo` that mentions it.
pub async fn target_category(data: &Data, object: &Value) -> AppResult<Option<DbCategory>> {
    if object.get("inReplyTo").is_some_and(|v| !v.is_null()) {
        return Ok(None);
    }
    match type_of(object) {
        Some("Page" | "Article") => {
            let mut candidates = urls_of(object.get("audience"));
            candidates.extend(urls_of(object.get("to")));
            candidates.extend(urls_of(object.get("cc")));
            first_category(data, candidates).await
        }
        Some("Note") => first_category(data, mentions_of(object)).await,
        _ => Ok(None),
    }
}

/// A `Create` of a thread in one of our categories: stored through
/// `service::forum::threads::receive_remote` (`Ok(true)`); anything else is not ours
/// (`Ok(false)`).
pub async fn route_create(
    data: &Data,
    activity_id: &Url,
    actor: &DbActor,
    object: &Value,
) -> AppResult<bool> {
    let Some(category) = target_category(data, object).await? else {
        return Ok(false);
    };
    let note = parse_note(object)?;
    if !is_accepted_type(&note) {
        return Ok(false);
    }
    service::comments::check_author(&note, actor)?;
    let content = note.content.clone();
    let html = tokio::task::spawn_blocking(move || SafeHtml::clean(&content))
        .await
        .map_err(|e| AppError::internal(format!("sanitising task: {e}")))?;
    service::forum::threads::receive_remote(
        data.app_data(),
        activity_id.as_str(),
        actor,
        &category,
        &note,
        html,
    )
    .await?;
    Ok(true)
}

/// The thread a moderation activity's `object` names, when it is one of ours.
async fn thread_named(ctx: &AppContext, object: Option<&Value>) -> AppResult<Option<i64>> {
    let Some(id) = object.and_then(|o| match o {
        // `Undo(Lock)`: the Lock is embedded; its object is the thread.
        Value::Object(_) if type_of(o) == Some("Lock") => o.get("object").and_then(id_of),
        other => id_of(other),
    }) else {
        return Ok(None);
    };
    let mut conn = ctx.conn().await?;
    Ok(db::posts::by_ap_id(&mut conn, id.as_str())
        .await?
        .filter(|p| p.category == db::posts::CATEGORY_THREAD)
        .map(|p| p.id))
}

/// `Lock`, `Undo(Lock)`, `Add`/`Remove` (target: a category's `featured`) from another
/// server about one of our threads: only the category's moderators may, and they are all
/// local, so this is a 403 with nothing stored. `Ok(false)`: not about our forum.
pub async fn route_moderation(data: &Data, activity: &Value) -> AppResult<bool> {
    let kind = type_of(activity).unwrap_or_default();
    let about_forum = match kind {
        "Lock" => true,
        "Undo" => activity.get("object").and_then(type_of) == Some("Lock"),
        "Add" | "Remove" => activity
            .get("target")
            .and_then(id_of)
            .is_some_and(|t| is_local_url(data, &t) && t.path().ends_with("/featured")),
        _ => false,
    };
    if !about_forum {
        return Ok(false);
    }
    if thread_named(data.app_data(), activity.get("object"))
        .await?
        .is_none()
    {
        return Ok(false);
    }
    Err(AppError::forbidden(
        "only the moderators of this category may lock or pin its threads, and they are local",
    )
    .with_message("forum.error.not_moderator"))
}

/// An `Announce` by a remote `Group` one of our members follows, whose object is an embedded
/// `Create` of a `Page`, `Article` or `Note`: handled like that `Create` from its own actor.
/// `Ok(false)`: not such an announce (the caller goes on as for any boost).
pub async fn route_announce(data: &Data, sender: &DbActor, inner: &Value) -> AppResult<bool> {
    if sender.local || sender.kind != "Group" || type_of(inner) != Some("Create") {
        return Ok(false);
    }
    {
        let mut conn = data.app_data().conn().await?;
        if !db::comments::followed_locally(&mut conn, sender.id).await? {
            return Ok(false);
        }
    }
    let (Some(activity_id), Some(inner_actor)) = (
        inner.get("id").and_then(id_of),
        inner.get("actor").and_then(id_of),
    ) else {
        return Err(AppError::bad_request(
            "announced activity without id or actor",
        ));
    };
    let Some(embedded) = inner.get("object") else {
        return Ok(true);
    };
    let Some(object_id) = id_of(embedded) else {
        return Err(AppError::bad_request("announced object without an id"));
    };
    if !same_origin(&object_id, &inner_actor) || !same_origin(&activity_id, &inner_actor) {
        return Err(AppError::bad_request(
            "announced activity: its object is not on its actor's origin",
        ));
    }
    // The Group signed the Announce: what lives on its own origin is vouched for; anything
    // else is read from its origin.
    let object = if embedded.is_object() && same_origin(&object_id, &sender.ap_url) {
        embedded.clone()
    } else {
        fetch_object_http::<AppContext, Value>(&object_id, data)
            .await?
            .object
    };
    if id_of(&object).as_ref() != Some(&object_id) {
        return Err(AppError::bad_request("announced object: its id changed"));
    }
    let note = parse_note(&object)?;
    if !is_accepted_type(&note) {
        return Ok(true);
    }
    let actor = ObjectId::<DbActor>::from(inner_actor)
        .dereference(data)
        .await?;
    service::comments::receive_note_relayed(data.app_data(), &activity_id, &actor, &note, true)
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addressing_and_mentions_in_their_several_shapes() {
        let page = json!({
            "to": ["https://a.example/c/x", "as:Public"],
            "cc": "https://b.example/forum/y",
            "audience": {"id": "https://b.example/forum/z", "type": "Group"},
            "tag": {"type": "Mention", "href": "https://b.example/forum/y"}
        });
        assert_eq!(urls_of(page.get("to")).len(), 1, "as:Public is no URL");
        assert_eq!(urls_of(page.get("cc")).len(), 1);
        assert_eq!(
            urls_of(page.get("audience")),
            vec![Url::parse("https://b.example/forum/z").expect("url")]
        );
        assert_eq!(mentions_of(&page).len(), 1);
        assert!(urls_of(None).is_empty());
        let hashtag_only = json!({"tag": [{"type": "Hashtag", "href": "https://b.example/t"}]});
        assert!(mentions_of(&hashtag_only).is_empty());
    }
}
