//! Routes other servers use: actors (content-negotiated), WebFinger, NodeInfo, inboxes.

use crate::{
    error::{AppError, AppResult},
    federation::{Data, negotiation::wants_activity_json},
};
use axum::{Router, extract::Path, http::HeaderMap, response::Response, routing::get};

pub fn routes() -> Router {
    Router::new().route("/users/{username}", get(http_get_user))
}

/// `/users/{username}`: the actor document for ActivityPub clients, the profile page otherwise.
async fn http_get_user(
    data: Data,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if wants_activity_json(&headers) {
        // The federation core serves the actor JSON here.
        return Err(AppError::not_found());
    }
    crate::web::pages::profile::render_profile(&data, &username, &headers).await
}
