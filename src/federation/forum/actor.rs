//! The ActivityPub side of `/forum/…`: a category's `Group` document and collections (inbox,
//! outbox, followers, featured, moderators) and a thread's `Page` document. The HTML pages
//! of the same URLs are `web`'s; they call [`category_document`] and [`thread_document`] for
//! ActivityPub clients.

use super::objects::{forum_context, group, page_of};
use crate::{
    db::{self, actors::DbActor, forum::DbCategory, posts::CATEGORY_THREAD},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        collections::{self, Network, PageQuery, activity_json_response},
        inbox::{self, InboxState, MAX_INBOX_BYTES},
        objects::{AS_CONTEXT, article::tombstone},
    },
};
use activitypub_federation::protocol::context::WithContext;
use axum::{
    Extension, Router,
    extract::{Path, Query, Request},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

/// Pinned threads listed in a category's `featured` collection.
const FEATURED_MAX: i64 = 50;

pub fn routes(inbox_state: Arc<InboxState>) -> Router {
    Router::new()
        .route(
            "/forum/{slug}/inbox",
            post(http_post_category_inbox).layer(RequestBodyLimitLayer::new(MAX_INBOX_BYTES)),
        )
        .route("/forum/{slug}/outbox", get(http_get_category_outbox))
        .route("/forum/{slug}/followers", get(http_get_category_followers))
        .route("/forum/{slug}/featured", get(http_get_category_featured))
        .route(
            "/forum/{slug}/moderators",
            get(http_get_category_moderators),
        )
        .layer(Extension(inbox_state))
}

/// The category `slug` and its `Group` actor; 404 when unknown.
async fn category(data: &Data, slug: &str) -> AppResult<(DbCategory, DbActor)> {
    let mut conn = data.app_data().conn().await?;
    let category = db::forum::category_by_slug(&mut conn, slug)
        .await?
        .ok_or_else(AppError::not_found)?;
    let actor = db::actors::by_id(&mut conn, category.actor_id).await?;
    if actor.deleted_at.is_some() {
        return Err(AppError::new(ErrorKind::Gone, "this category was deleted"));
    }
    Ok((category, actor))
}

/// The `Group` of the category `slug` (404 when unknown), as served at its id.
pub async fn category_document(data: &Data, slug: &str) -> AppResult<Response> {
    let (category, actor) = category(data, slug).await?;
    let document = group(data.app_data(), &category, actor).await?;
    Ok(activity_json_response(document))
}

/// The `Page` of the thread `post_id`: 410 with a Tombstone once deleted, 404 when it is
/// not a thread of ours or is withheld by the moderators.
pub async fn thread_document(data: &Data, post_id: i64) -> AppResult<Response> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let post = db::posts::by_id(&mut conn, post_id)
        .await?
        .filter(|p| p.category == CATEGORY_THREAD && p.local && !p.draft)
        .ok_or_else(AppError::not_found)?;
    if post.deleted_at.is_some() {
        let mut stone = tombstone(&post);
        stone["formerType"] = json!("Page");
        return Ok((
            StatusCode::GONE,
            activitypub_federation::axum::json::FederationJson(WithContext::new_default(stone)),
        )
            .into_response());
    }
    if post.hidden_at.is_some()
        || db::actors::is_sanctioned(&mut conn, post.author_actor_id).await?
    {
        return Err(AppError::not_found());
    }
    let (mut page, _, _) = page_of(ctx, &mut conn, &post).await?;
    page["@context"] = forum_context();
    let counts = crate::service::reactions::counts_of(&mut conn, &post.ap_id).await?;
    let (likes, shares) =
        crate::federation::objects::counts::CountCollection::pair(&post.ap_id, counts)?;
    page["likes"] = serde_json::to_value(likes)?;
    page["shares"] = serde_json::to_value(shares)?;
    Ok(activity_json_response(page))
}

async fn http_get_category_outbox(
    data: Data,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let (_, actor) = category(&data, &slug).await?;
    collections::outbox(&data, &actor, &query).await
}

async fn http_get_category_followers(
    data: Data,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let (_, actor) = category(&data, &slug).await?;
    collections::network_of(&data, &actor, false, Network::Followers, &query).await
}

/// `featured`: the pinned threads' `Page`s, most recently pinned first (Lemmy reads it to
/// show them stickied).
async fn http_get_category_featured(data: Data, Path(slug): Path<String>) -> AppResult<Response> {
    let (category, _) = category(&data, &slug).await?;
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let mut items: Vec<Value> = Vec::new();
    for (post, thread, _) in
        db::forum::list_threads(&mut conn, category.id, 0, FEATURED_MAX).await?
    {
        if !thread.is_pinned() || post.hidden_at.is_some() {
            continue;
        }
        let (page, _, _) = page_of(ctx, &mut conn, &post).await?;
        items.push(page);
    }
    Ok(activity_json_response(json!({
        "@context": forum_context(),
        "id": ctx.urls.forum_category_part(&slug, "featured"),
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    })))
}

/// `moderators` (also the `Group`'s `attributedTo`, as Lemmy reads it): the members staff
/// chose for this category. The instance's moderators moderate every category and are not
/// listed.
async fn http_get_category_moderators(data: Data, Path(slug): Path<String>) -> AppResult<Response> {
    let (category, _) = category(&data, &slug).await?;
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let items: Vec<String> = db::forum::moderators(&mut conn, category.id)
        .await?
        .into_iter()
        .filter(|a| a.deleted_at.is_none())
        .map(|a| a.ap_id)
        .collect();
    Ok(activity_json_response(json!({
        "@context": AS_CONTEXT,
        "id": ctx.urls.forum_category_part(&slug, "moderators"),
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    })))
}

/// A category's own inbox: the shared inbox's processing, 404 for an unknown category.
async fn http_post_category_inbox(
    data: Data,
    Extension(state): Extension<Arc<InboxState>>,
    Path(slug): Path<String>,
    request: Request,
) -> Response {
    match category(&data, &slug).await {
        Ok(_) => inbox::receive(&data, &state, request).await,
        Err(e) => e.into_response(),
    }
}
