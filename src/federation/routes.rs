//! Routes other servers use: actors (content-negotiated), collections, activities, inboxes,
//! WebFinger, host-meta and NodeInfo. Inbox routes are not nested: nesting would strip the
//! path that HTTP signatures cover.

use crate::{
    db,
    error::{AppError, AppResult},
    federation::{
        Data,
        collections::{self, Network, PageQuery},
        inbox::{self, InboxState, MAX_INBOX_BYTES},
        negotiation::{Face, face, vary_accept},
        nodeinfo,
        objects::person::actor_document,
        webfinger,
    },
};
use activitypub_federation::axum::json::FederationJson;
use axum::{
    Extension, Router,
    extract::{Path, Query, Request},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

pub fn routes() -> Router {
    let inbox_state = Arc::new(InboxState::default());
    let limit = || RequestBodyLimitLayer::new(MAX_INBOX_BYTES);
    Router::new()
        .route(
            "/users/{username}/inbox",
            post(http_post_user_inbox).layer(limit()),
        )
        .route("/users/{username}/outbox", get(http_get_user_outbox))
        .route("/users/{username}/followers", get(http_get_user_followers))
        .route("/users/{username}/following", get(http_get_user_following))
        .route("/actor", get(http_get_instance_actor))
        .route("/actor/inbox", post(http_post_shared_inbox).layer(limit()))
        .route("/actor/outbox", get(http_get_instance_outbox))
        .route("/inbox", post(http_post_shared_inbox).layer(limit()))
        .route("/activities/{uuid}", get(http_get_activity))
        .route("/.well-known/webfinger", get(webfinger::http_get_webfinger))
        .route("/.well-known/host-meta", get(webfinger::http_get_host_meta))
        .route(
            "/.well-known/host-meta.json",
            get(webfinger::http_get_host_meta_json),
        )
        .route(
            "/.well-known/nodeinfo",
            get(nodeinfo::http_get_nodeinfo_links),
        )
        .route("/nodeinfo/2.1", get(nodeinfo::http_get_nodeinfo))
        .layer(Extension(inbox_state.clone()))
        .merge(super::venues::routes(inbox_state.clone()))
        .merge(super::forum::routes(inbox_state.clone()))
        .merge(super::workspaces::routes(inbox_state))
}

/// The document side of `/users/{username}`: a local actor's document (410 once deleted or
/// while suspended). The route, which also serves the profile page, is in `web`.
pub async fn user_document(data: &Data, username: &str) -> AppResult<Response> {
    let ctx = data.app_data();
    let actor = {
        let mut conn = ctx.conn().await?;
        let actor = db::actors::local_by_username(&mut conn, username)
            .await?
            .filter(|a| a.ap_id == ctx.urls.user(&a.username))
            .ok_or_else(AppError::not_found)?;
        // A suspended account's actor is gone (410), as Mastodon answers for one: the
        // `Delete` of the actor sent on suspension says the same to the servers that knew it.
        if let Some(account) = db::accounts::by_actor_id(&mut conn, actor.id).await?
            && account.suspended_at.is_some()
        {
            return Err(AppError::new(
                crate::error::ErrorKind::Gone,
                "this account is suspended",
            ));
        }
        actor
    };
    if actor.deleted_at.is_some() {
        return Err(AppError::new(
            crate::error::ErrorKind::Gone,
            "this actor was deleted",
        ));
    }
    Ok(FederationJson(actor_document(actor)?).into_response())
}

/// `/actor`: the instance actor (Application). Browsers are sent to the home page.
async fn http_get_instance_actor(data: Data, headers: HeaderMap) -> AppResult<Response> {
    if face(&headers, Face::Document) == Face::Page {
        return Ok(vary_accept(Redirect::to("/").into_response()));
    }
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let actor = db::actors::by_ap_id(&mut conn, &ctx.urls.instance_actor())
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(vary_accept(
        FederationJson(actor_document(actor)?).into_response(),
    ))
}

async fn http_get_user_outbox(
    data: Data,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    collections::user_outbox(&data, &username, &query).await
}

async fn http_get_instance_outbox(
    data: Data,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let actor = {
        let mut conn = ctx.conn().await?;
        db::actors::by_ap_id(&mut conn, &ctx.urls.instance_actor())
            .await?
            .ok_or_else(AppError::not_found)?
    };
    collections::outbox(&data, &actor, &query).await
}

async fn http_get_user_followers(
    data: Data,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    collections::network(&data, &username, Network::Followers, &query).await
}

async fn http_get_user_following(
    data: Data,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    collections::network(&data, &username, Network::Following, &query).await
}

/// `/activities/{uuid}`: a public activity we published (JSON); browsers go to its actor.
async fn http_get_activity(
    data: Data,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (activity, actor_page) = collections::public_activity(&data, &uuid).await?;
    if face(&headers, Face::Document) == Face::Page
        && let Some(page) = actor_page
    {
        return Ok(vary_accept(Redirect::to(&page).into_response()));
    }
    Ok(vary_accept(collections::activity_json_response(activity)))
}

async fn http_post_shared_inbox(
    data: Data,
    Extension(state): Extension<Arc<InboxState>>,
    request: Request,
) -> Response {
    inbox::receive(&data, &state, request).await
}

/// A member's own inbox: same processing as the shared one, 404 for an unknown member.
async fn http_post_user_inbox(
    data: Data,
    Extension(state): Extension<Arc<InboxState>>,
    Path(username): Path<String>,
    request: Request,
) -> Response {
    let ctx = data.app_data();
    let exists = match ctx.conn().await {
        Ok(mut conn) => db::actors::local_by_username(&mut conn, &username)
            .await
            .map(|a| a.is_some_and(|a| a.deleted_at.is_none()))
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match exists {
        Ok(true) => inbox::receive(&data, &state, request).await,
        Ok(false) => AppError::not_found().into_response(),
        Err(e) => e.into_response(),
    }
}
