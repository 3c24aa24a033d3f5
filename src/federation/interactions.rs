//! `/posts/{id}/likes`, `/posts/{id}/shares`, and the same under `/announcements/{id}` and
//! `/comments/{id}`: how many likes and boosts one of our objects has, as an unpaged
//! `Collection` with `totalItems` and no items (what Mastodon serves, and reads since 4.3 to
//! show the counts of remote posts). The same visibility as the object: 404 for an unknown,
//! draft or remote object, 410 once it is deleted; a browser is sent to the object's page.

use crate::{
    db::{self, posts::DbPost},
    error::{AppError, AppResult},
    federation::{
        Data,
        negotiation::{Face, face, vary_accept},
        objects::counts::{CountCollection, Interaction},
    },
    service::{
        publishing::{self, Category, Lookup, page_url},
        reactions,
    },
};
use activitypub_federation::{axum::json::FederationJson, protocol::context::WithContext};
use axum::{
    Router,
    extract::Path,
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
        return Ok(vary_accept(
            Redirect::to(&publishing::comment_anchor(&post, comment.id)).into_response(),
        ));
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
