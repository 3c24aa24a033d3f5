//! `/posts/{id}/likes`, `/posts/{id}/shares`, and the same under `/announcements/{id}` and
//! `/comments/{id}`: how many likes and boosts one of our objects has, as an unpaged
//! `Collection` with `totalItems` and no items (what Mastodon serves, and reads since 4.3 to
//! show the counts of remote posts). The same visibility as the object: 404 for an unknown,
//! draft or remote object, 410 once it is deleted; a browser is sent to the object's page.
//! `/posts/{id}/replies` and `/announcements/{id}/replies`: the direct replies of a post or
//! announcement, a paged `OrderedCollection` of their ids, oldest first, with `totalItems`
//! (the same visibility rules).

use crate::{
    db::{self, posts::DbPost},
    error::{AppError, AppResult},
    federation::{
        Data,
        collections::{PageQuery, activity_json_response, ordered_collection},
        negotiation::{Face, face, vary_accept},
        objects::counts::{CountCollection, Interaction, REPLIES_SEGMENT},
    },
    service::{
        publishing::{self, Category, Lookup, page_url},
        reactions,
    },
};
use activitypub_federation::{axum::json::FederationJson, protocol::context::WithContext};
use axum::{
    Router,
    extract::{Path, Query},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

pub fn routes() -> Router {
    Router::new()
        .route("/posts/{id}/likes", get(http_get_post_likes))
        .route("/posts/{id}/shares", get(http_get_post_shares))
        .route(
            "/announcements/{id}/likes",
            get(http_get_announcement_likes),
        )
        .route(
            "/announcements/{id}/shares",
            get(http_get_announcement_shares),
        )
        .route("/comments/{id}/likes", get(http_get_comment_likes))
        .route("/comments/{id}/shares", get(http_get_comment_shares))
        .route("/posts/{id}/replies", get(http_get_post_replies))
        .route(
            "/announcements/{id}/replies",
            get(http_get_announcement_replies),
        )
}

/// A browser (asking for HTML, not for ActivityStreams) is sent to the page instead.
fn is_browser(headers: &HeaderMap) -> bool {
    face(headers, Face::Document) == Face::Page
}

fn gone(object_ap_id: &str, which: Interaction) -> AppResult<Response> {
    let id = format!("{}/{}", object_ap_id.trim_end_matches('/'), which.segment());
    let tombstone = serde_json::json!({
        "type": "Tombstone",
        "id": id,
        "formerType": "Collection",
    });
    Ok(vary_accept(
        (
            StatusCode::GONE,
            FederationJson(WithContext::new_default(tombstone)),
        )
            .into_response(),
    ))
}

async fn collection(data: &Data, object_ap_id: &str, which: Interaction) -> AppResult<Response> {
    let mut conn = data.app_data().conn().await?;
    let counts = reactions::counts_of(&mut conn, object_ap_id).await?;
    let body = CountCollection::of(object_ap_id, which, counts)?;
    Ok(vary_accept(
        FederationJson(WithContext::new_default(body)).into_response(),
    ))
}

/// The collection of a post or announcement.
async fn of_post(
    data: &Data,
    category: Category,
    id: &str,
    which: Interaction,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    // No viewer: a draft is 404 here whoever asks, as its object is.
    let post = match publishing::lookup(data.app_data(), None, category, id).await? {
        Lookup::Found(post, _) => post,
        Lookup::Gone(post) if post.local => {
            if is_browser(headers) {
                return Err(AppError::new(
                    crate::error::ErrorKind::Gone,
                    "this was deleted",
                ));
            }
            return gone(&post.ap_id, which);
        }
        Lookup::Gone(_) => return Err(AppError::not_found()),
    };
    // A remote post kept here has its collections at its own server.
    if post.draft || !post.local {
        return Err(AppError::not_found());
    }
    if is_browser(headers) {
        return Ok(vary_accept(Redirect::to(&page_url(&post)).into_response()));
    }
    collection(data, &post.ap_id, which).await
}

/// The collection of one of our comments (under a visible post).
async fn of_comment(
    data: &Data,
    id: &str,
    which: Interaction,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let (comment, post) = {
        let mut conn = ctx.conn().await?;
        let comment = db::comments::by_id(&mut conn, id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let post = db::posts::by_id(&mut conn, comment.post_id)
            .await?
            .filter(DbPost::is_public)
            .ok_or_else(AppError::not_found)?;
        (comment, post)
    };
    // Only our own comments: a remote one has its collections at its own server.
    if comment.ap_id != ctx.urls.absolute(&format!("/comments/{id}")) {
        return Err(AppError::not_found());
    }
    if comment.deleted_at.is_some() {
        if is_browser(headers) {
            return Err(AppError::new(
                crate::error::ErrorKind::Gone,
                "this was deleted",
            ));
        }
        return gone(&comment.ap_id, which);
    }
    if is_browser(headers) {
        let mut conn = data.app_data().conn().await?;
        let to = publishing::comment_anchor(&mut conn, &post, comment.id).await?;
        return Ok(vary_accept(Redirect::to(&to).into_response()));
    }
    collection(data, &comment.ap_id, which).await
}

async fn http_get_post_likes(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    of_post(&data, Category::Post, &id, Interaction::Likes, &headers).await
}

async fn http_get_post_shares(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    of_post(&data, Category::Post, &id, Interaction::Shares, &headers).await
}

async fn http_get_announcement_likes(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    of_post(
        &data,
        Category::Announcement,
        &id,
        Interaction::Likes,
        &headers,
    )
    .await
}

async fn http_get_announcement_shares(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    of_post(
        &data,
        Category::Announcement,
        &id,
        Interaction::Shares,
        &headers,
    )
    .await
}

async fn http_get_comment_likes(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    of_comment(&data, &id, Interaction::Likes, &headers).await
}

async fn http_get_comment_shares(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    of_comment(&data, &id, Interaction::Shares, &headers).await
}

/// Replies per page of a `replies` collection.
pub const REPLIES_PAGE_SIZE: i64 = 40;

/// The `replies` collection of a post or announcement, or one of its pages.
async fn replies_of_post(
    data: &Data,
    category: Category,
    id: &str,
    query: &PageQuery,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let page = query.page()?;
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let post = match publishing::lookup(data.app_data(), None, category, id).await? {
        Lookup::Found(post, _) => post,
        Lookup::Gone(post) if post.local => {
            if is_browser(headers) {
                return Err(AppError::new(
                    crate::error::ErrorKind::Gone,
                    "this was deleted",
                ));
            }
            let tombstone = serde_json::json!({
                "type": "Tombstone",
                "id": format!("{}/{REPLIES_SEGMENT}", post.ap_id.trim_end_matches('/')),
                "formerType": "OrderedCollection",
            });
            return Ok(vary_accept(
                (
                    StatusCode::GONE,
                    FederationJson(WithContext::new_default(tombstone)),
                )
                    .into_response(),
            ));
        }
        Lookup::Gone(_) => return Err(AppError::not_found()),
    };
    // A remote post kept here has its replies at its own server.
    if post.draft || !post.local {
        return Err(AppError::not_found());
    }
    if is_browser(headers) {
        return Ok(vary_accept(
            Redirect::to(&format!("{}#commentaires", page_url(&post))).into_response(),
        ));
    }
    let mut conn = data.app_data().conn().await?;
    let total = db::comments::count_direct_replies(&mut conn, &post.ap_id).await?;
    let items = match page {
        Some(n) => Some(
            db::comments::direct_reply_ids_page(
                &mut conn,
                post.id,
                (n - 1) * REPLIES_PAGE_SIZE,
                REPLIES_PAGE_SIZE,
            )
            .await?
            .into_iter()
            .map(serde_json::Value::String)
            .collect(),
        ),
        None => None,
    };
    let collection_id = format!("{}/{REPLIES_SEGMENT}", post.ap_id.trim_end_matches('/'));
    let body = ordered_collection(&collection_id, total, REPLIES_PAGE_SIZE, page, items);
    Ok(vary_accept(activity_json_response(body)))
}

async fn http_get_post_replies(
    data: Data,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    replies_of_post(&data, Category::Post, &id, &query, &headers).await
}

async fn http_get_announcement_replies(
    data: Data,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    replies_of_post(&data, Category::Announcement, &id, &query, &headers).await
}
