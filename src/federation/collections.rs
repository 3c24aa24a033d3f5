//! Paged `OrderedCollection`s of a local actor: followers, following (ids of accepted follows;
//! a member who hides their network keeps the counts but not the items) and outbox (the
//! actor's public activities).

use crate::{
    db::{self, actors::DbActor},
    error::{AppError, AppResult},
    federation::{Data, negotiation::ACTIVITY_JSON, objects::AS_CONTEXT},
};
use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Followers and following per page.
pub const NETWORK_PAGE_SIZE: i64 = 40;
/// Activities per outbox page (they are embedded whole).
pub const OUTBOX_PAGE_SIZE: i64 = 20;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub page: Option<String>,
}

impl PageQuery {
    /// `None` for the collection itself, `Some(n ≥ 1)` for a page.
    pub fn page(&self) -> AppResult<Option<i64>> {
        match self.page.as_deref() {
            None => Ok(None),
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .map(Some)
                .ok_or_else(|| AppError::bad_request("page: a whole number from 1")),
        }
    }
}

pub fn activity_json_response(body: Value) -> Response {
    let mut response = body.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ACTIVITY_JSON),
    );
    response
}

/// The collection itself, or one of its pages.
pub fn ordered_collection(
    id: &str,
    total: i64,
    page_size: i64,
    page: Option<i64>,
    items: Option<Vec<Value>>,
) -> Value {
    let last_page = ((total + page_size - 1) / page_size).max(1);
    match (page, items) {
        (Some(n), Some(items)) => {
            let mut map = Map::new();
            map.insert("@context".into(), json!(AS_CONTEXT));
            map.insert("id".into(), json!(format!("{id}?page={n}")));
            map.insert("type".into(), json!("OrderedCollectionPage"));
            map.insert("partOf".into(), json!(id));
            map.insert("totalItems".into(), json!(total));
            if n < last_page {
                map.insert("next".into(), json!(format!("{id}?page={}", n + 1)));
            }
            if n > 1 {
                map.insert("prev".into(), json!(format!("{id}?page={}", n - 1)));
            }
            map.insert("orderedItems".into(), Value::Array(items));
            Value::Object(map)
        }
        _ => json!({
            "@context": AS_CONTEXT,
            "id": id,
            "type": "OrderedCollection",
            "totalItems": total,
            "first": format!("{id}?page=1"),
            "last": format!("{id}?page={last_page}"),
        }),
    }
}

/// A local actor whose collections are served, with whether it hides its network.
async fn owner(data: &Data, username: &str) -> AppResult<(DbActor, bool)> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let actor = db::actors::local_by_username(&mut conn, username)
        .await?
        .filter(|a| a.deleted_at.is_none() && a.ap_id == ctx.urls.user(&a.username))
        .ok_or_else(AppError::not_found)?;
    let hidden = match db::accounts::by_actor_id(&mut conn, actor.id).await? {
        Some(account) if account.suspended_at.is_some() => return Err(AppError::not_found()),
        Some(account) => account.hide_network,
        None => false,
    };
    Ok((actor, hidden))
}

#[derive(Clone, Copy)]
pub enum Network {
    Followers,
    Following,
}

/// `/users/{username}/followers` and `/users/{username}/following`.
pub async fn network(
    data: &Data,
    username: &str,
    which: Network,
    query: &PageQuery,
) -> AppResult<Response> {
    let (actor, hidden) = owner(data, username).await?;
    network_of(data, &actor, hidden, which, query).await
}

/// The followers or following collection of `actor` (a member, or a venue: see
/// `federation::venues`); `hidden`: counts only.
pub async fn network_of(
    data: &Data,
    actor: &DbActor,
    hidden: bool,
    which: Network,
    query: &PageQuery,
) -> AppResult<Response> {
    let page = query.page()?;
    let mut conn = data.app_data().conn().await?;
    let (id, total) = match which {
        Network::Followers => (
            actor.followers_url.clone(),
            db::follows::count_followers(&mut conn, actor.id).await?,
        ),
        Network::Following => (
            actor.following_url.clone(),
            db::follows::count_following(&mut conn, actor.id).await?,
        ),
    };
    let id = id.ok_or_else(AppError::not_found)?;
    if hidden {
        // Counts stay public; the items (and the pages that would list them) do not exist.
        return Ok(activity_json_response(json!({
            "@context": AS_CONTEXT,
            "id": id,
            "type": "OrderedCollection",
            "totalItems": total,
        })));
    }
    let items = match page {
        Some(n) => {
            let offset = (n - 1) * NETWORK_PAGE_SIZE;
            let ids = match which {
                Network::Followers => {
                    db::follows::follower_ids_page(&mut conn, actor.id, offset, NETWORK_PAGE_SIZE)
                        .await?
                }
                Network::Following => {
                    db::follows::following_ids_page(&mut conn, actor.id, offset, NETWORK_PAGE_SIZE)
                        .await?
                }
            };
            Some(ids.into_iter().map(Value::String).collect())
        }
        None => None,
    };
    let body = ordered_collection(&id, total, NETWORK_PAGE_SIZE, page, items);
    Ok(activity_json_response(body))
}

/// The outbox of a local actor: its public activities, newest first.
pub async fn outbox(data: &Data, actor: &DbActor, query: &PageQuery) -> AppResult<Response> {
    let page = query.page()?;
    let id = actor.outbox_url.clone().ok_or_else(AppError::not_found)?;
    let mut conn = data.app_data().conn().await?;
    let total = db::activities::count_public_by_actor(&mut conn, actor.id).await?;
    let items = match page {
        Some(n) => {
            let rows = db::activities::public_page_by_actor(
                &mut conn,
                actor.id,
                (n - 1) * OUTBOX_PAGE_SIZE,
                OUTBOX_PAGE_SIZE,
            )
            .await?;
            Some(
                rows.into_iter()
                    .map(|mut activity| {
                        if let Some(map) = activity.as_object_mut() {
                            map.remove("@context");
                        }
                        activity
                    })
                    .collect(),
            )
        }
        None => None,
    };
    Ok(activity_json_response(ordered_collection(
        &id,
        total,
        OUTBOX_PAGE_SIZE,
        page,
        items,
    )))
}

/// `/users/{username}/outbox`
pub async fn user_outbox(data: &Data, username: &str, query: &PageQuery) -> AppResult<Response> {
    let (actor, _) = owner(data, username).await?;
    outbox(data, &actor, query).await
}

/// A published activity at its id, when it is public, with the page of its actor (for
/// browsers). Non-public activities are 404, like activities that do not exist.
pub async fn public_activity(data: &Data, uuid: &str) -> AppResult<(Value, Option<String>)> {
    let uuid = uuid::Uuid::parse_str(uuid).map_err(|_| AppError::not_found())?;
    let ctx = data.app_data();
    let ap_id = ctx.urls.activity(&uuid);
    let mut conn = ctx.conn().await?;
    db::activities::public_with_actor_url(&mut conn, &ap_id)
        .await?
        .ok_or_else(AppError::not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_to_each_other() {
        let c = ordered_collection("https://x/f", 85, 40, None, None);
        assert_eq!(c["type"], "OrderedCollection");
        assert_eq!(c["totalItems"], 85);
        assert_eq!(c["first"], "https://x/f?page=1");
        assert_eq!(c["last"], "https://x/f?page=3");
        let p = ordered_collection("https://x/f", 85, 40, Some(2), Some(vec![json!("a")]));
        assert_eq!(p["type"], "OrderedCollectionPage");
        assert_eq!(p["next"], "https://x/f?page=3");
        assert_eq!(p["prev"], "https://x/f?page=1");
        assert_eq!(p["partOf"], "https://x/f");
        let last = ordered_collection("https://x/f", 85, 40, Some(3), Some(vec![]));
        assert!(last.get("next").is_none());
    }

    #[test]
    fn page_numbers() {
        let q = |p: &str| PageQuery {
            page: Some(p.to_string()),
        };
        assert_eq!(q("2").page().expect("2"), Some(2));
        assert!(q("0").page().is_err());
        assert!(q("x").page().is_err());
        assert_eq!(PageQuery { page: None }.page().expect("none"), None);
    }
}
