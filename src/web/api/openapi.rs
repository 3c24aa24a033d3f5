//! The OpenAPI 3.1 document of the JSON API, served at `/api/v1/openapi.json`.
//!
//! Each API module describes its own paths and schemas with one `#[derive(OpenApi)]` struct;
//! [`document`] merges them. A new module adds one `.merge_from(…)` line there (a test fails
//! when a route under `/api/v1` is missing from the document).

use crate::{federation::Data, web::api};
use axum::{Json, Router, routing::get};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::{
        self, Server,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

/// Name of the security scheme that paths refer to: `security(("bearer" = []))`.
pub const BEARER: &str = "bearer";

/// An error, as every API route reports it (`application/problem+json`, RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say it all.
    #[schema(example = "about:blank")]
    pub r#type: String,
    /// Short English title of the status.
    #[schema(example = "Some fields need correcting")]
    pub title: String,
    pub status: u16,
    /// What went wrong, in English, for the developer.
    pub detail: String,
    /// The first field at fault, when the problem is about input.
    pub field: Option<String>,
    /// Every field at fault, when the problem is about input.
    pub errors: Option<Vec<ProblemField>>,
}

/// One input field that broke a rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// Path of the field in the request (`title`, `tags[2]`, `place.latitude`) or the header
    /// name (`authorization`).
    pub field: String,
    /// Stable machine-readable code of the rule.
    #[schema(example = "field.required")]
    pub code: String,
    /// The rule, in the interface language of the request.
    pub message: String,
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal access token, created on the page /parametres/jetons or \
                         with `culturecnous token create --user NAME`.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cultureCnous API",
        description = "JSON API of a cultureCnous instance. Authenticate with \
            `Authorization: Bearer <token>`. Errors are `application/problem+json` \
            documents naming the field at fault.",
        license(name = "AGPL-3.0-only", identifier = "AGPL-3.0-only"),
    ),
    paths(http_get_openapi),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerScheme),
    tags(
        (name = "meta", description = "About the API itself"),
        (name = "accounts", description = "The caller's account, its address and password"),
        (name = "tokens", description = "Personal access tokens"),
        (name = "follows", description = "Following accounts across the fediverse"),
        (name = "publishing", description = "Blog posts and announcements"),
        (name = "reactions", description = "Likes and boosts of posts, announcements and comments"),
        (name = "comments", description = "Comments under posts and announcements"),
        (name = "notifications", description = "The notification centre and notification preferences"),
        (name = "alerts", description = "Saved filters notifying new announcements"),
        (name = "moderation", description = "Reports to the instance's moderators"),
        (name = "venues", description = "Venues (places of artistic practice, each followable from the fediverse), their managers and photos"),
        (name = "sharing", description = "Offers of equipment and spaces, and loan requests"),
        (name = "resources", description = "The resources library: guides, templates, legal and funding notes (files with versions, or links)"),
        (name = "workspaces", description = "Private project workspaces: create, edit, archive, transfer ownership"),
        (name = "workspace members", description = "Members of project workspaces: invitations, roles, join requests, leaving"),
        (name = "workspaces", description = "Private project workspaces: members only, 404 to anyone else"),
        (name = "forum", description = "The professional forum: categories (followable Groups), threads, replies, moderation, subscriptions, search"),
    )
)]
struct BaseApi;

/// The whole document: the base plus every API module's paths and schemas.
pub fn document() -> openapi::OpenApi {
    BaseApi::openapi()
        .merge_from(api::me::MeApi::openapi())
        .merge_from(api::profile::ProfileApi::openapi())
        .merge_from(api::account::AccountApi::openapi())
        .merge_from(api::follows::FollowsApi::openapi())
        .merge_from(api::tokens::TokensApi::openapi())
        .merge_from(api::posts::PostsApi::openapi())
        .merge_from(api::reactions::ReactionsApi::openapi())
        .merge_from(api::comments::CommentsApi::openapi())
        .merge_from(api::notifications::NotificationsApi::openapi())
        .merge_from(api::admin_mails::AdminMailsApi::openapi())
        .merge_from(api::admin_reports::AdminReportsApi::openapi())
        .merge_from(api::admin_report_forward::AdminReportForwardApi::openapi())
        .merge_from(api::admin_sanctions::AdminSanctionsApi::openapi())
        .merge_from(api::alerts::AlertsApi::openapi())
        .merge_from(api::admin_domains::AdminDomainsApi::openapi())
        .merge_from(api::admin_directory::AdminDirectoryApi::openapi())
        .merge_from(api::rules::RulesApi::openapi())
        .merge_from(api::reports::ReportsApi::openapi())
        .merge_from(api::moderation_decisions::ModerationDecisionsApi::openapi())
        .merge_from(api::moderation_followup::ModerationFollowupApi::openapi())
        .merge_from(api::venues::VenuesApi::openapi())
        .merge_from(api::offers::OffersApi::openapi())
        .merge_from(api::resources::ResourcesApi::openapi())
        .merge_from(api::directory::DirectoryApi::openapi())
        .merge_from(api::stats::StatsApi::openapi())
        .merge_from(api::workspaces::WorkspacesApi::openapi())
        .merge_from(api::forum::ForumApi::openapi())
        .merge_from(api::workspace_members::WorkspaceMembersApi::openapi())
        .merge_from(api::workspace_messages::WorkspaceMessagesApi::openapi())
        .merge_from(api::workspace_meetings::WorkspaceMeetingsApi::openapi())
        .merge_from(api::workspace_documents::WorkspaceDocumentsApi::openapi())
}

pub fn routes() -> Router {
    Router::new().route("/api/v1/openapi.json", get(http_get_openapi))
}

/// The OpenAPI 3.1 description of this API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)),
)]
async fn http_get_openapi(data: Data) -> Json<openapi::OpenApi> {
    let mut doc = document();
    doc.servers = Some(vec![Server::new(data.app_data().urls.base())]);
    Json(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_openapi_3_1_with_bearer_scheme() {
        let json = serde_json::to_value(document()).expect("serialise");
        assert!(
            json["openapi"].as_str().unwrap_or("").starts_with("3.1"),
            "{}",
            json["openapi"]
        );
        assert_eq!(
            json["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        assert!(json["paths"]["/api/v1/me"]["get"].is_object());
        assert!(json["components"]["schemas"]["Problem"].is_object());
    }
}
