//! JSON API v1 (`/api/v1`), authenticated by `Authorization: Bearer <token>`.
//!
//! One file per capability, each with its handlers (`http_<verb>_<resource>`), its
//! `routes()` and its `#[derive(OpenApi)]` struct; `openapi.rs` merges the documents.
//!
//! Conventions every module follows, because a test checks them:
//! - routes are registered with their full literal path (`.route("/api/v1/…", get(…))`),
//!   never through `nest`, so the test can compare the routes with the OpenAPI document;
//! - every route has a `#[utoipa::path]` and is listed in its module's `#[openapi(paths(…))]`;
//! - bodies are read with [`ApiJson`], callers identified with [`ApiUser`]; failures are
//!   `AppError`s, rendered as `application/problem+json` by `web::errors`.

pub mod account;
pub mod admin_directory;
pub mod admin_domains;
pub mod admin_mails;
pub mod admin_report_forward;
pub mod admin_reports;
pub mod admin_sanctions;
pub mod alerts;
pub mod auth;
pub mod comments;
pub mod directory;
pub mod follows;
pub mod forum;
pub mod json;
pub mod me;
pub mod moderation_decisions;
pub mod moderation_followup;
pub mod notifications;
pub mod offers;
pub mod openapi;
pub mod posts;
pub mod profile;
pub mod reactions;
pub mod reports;
pub mod resources;
pub mod rules;
pub mod stats;
pub mod tokens;
pub mod venues;
pub mod workspace_documents;
pub mod workspace_meetings;
pub mod workspace_members;
pub mod workspace_messages;
pub mod workspaces;

pub use auth::ApiUser;
pub use json::ApiJson;

use axum::Router;

pub fn api_routes() -> Router {
    Router::new()
        .merge(openapi::routes())
        .merge(me::routes())
        .merge(profile::routes())
        .merge(account::routes())
        .merge(follows::routes())
        .merge(tokens::routes())
        .merge(posts::routes())
        .merge(reactions::routes())
        .merge(comments::routes())
        .merge(notifications::routes())
        .merge(admin_mails::routes())
        .merge(admin_reports::routes())
        .merge(admin_report_forward::routes())
        .merge(admin_sanctions::routes())
        .merge(alerts::routes())
        .merge(admin_domains::routes())
        .merge(admin_directory::routes())
        .merge(rules::routes())
        .merge(reports::routes())
        .merge(moderation_decisions::routes())
        .merge(moderation_followup::routes())
        .merge(venues::routes())
        .merge(workspace_messages::routes())
        .merge(offers::routes())
        .merge(resources::routes())
        .merge(directory::routes())
        .merge(stats::routes())
        .merge(workspaces::routes())
        .merge(forum::routes())
        .merge(workspace_members::routes())
        .merge(workspace_meetings::routes())
        .merge(workspace_documents::routes())
}
