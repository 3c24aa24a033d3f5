//! JSON API v1 (`/api/v1`), authenticated by `Authorization: Bearer <token>`.

use axum::Router;

pub fn api_routes() -> Router {
    Router::new()
}
