//! `POST /api/v1/admin/reports/{id}/resolve`: a moderator's decision on a report (the twin of
//! the report page's decision form).

use crate::{
    db::reports::DbReport,
    error::{AppError, AppResult},
    federation::Data,
    service::moderation::{self, Resolution, ResolveInput},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, extract::Path, routing::post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_post_resolve),
    components(schemas(ResolveBody, ResolvedReport)),
    tags((name = "moderation", description = "Reports and moderators' decisions")),
)]
pub struct ModerationDecisionsApi;

pub fn routes() -> Router {
    Router::new().route(
        "/api/v1/admin/reports/{id}/resolve",
        post(http_post_resolve),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResolveBody {
    /// `dismiss`, `hide`, `delete`, `redirect`, `warn`, `suspend` (local account) or `block`
    /// (remote actor).
    #[schema(example = "redirect")]
    pub action: String,
    /// The moderators' internal note (never shown to the author nor the reporter).
    #[serde(default)]
    pub note: Option<String>,
    /// The statement of reasons shown to the author; a preset text when absent.
    #[serde(default)]
    pub statement: Option<String>,
    /// The instance rules the decision refers to.
    #[serde(default)]
    pub rule_ids: Option<Vec<i64>>,
    /// For a report received from another server: send the outcome back to it.
    #[serde(default)]
    pub send_outcome: Option<bool>,
}

/// A report after the decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedReport {
    pub id: i64,
    #[schema(example = "resolved")]
    pub state: String,
    /// The action that closed it.
    #[schema(example = "redirect")]
    pub resolution: Option<String>,
    /// The moderator's account id.
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTime<Utc>>,
    #[schema(example = "off_topic")]
    pub reason: String,
    /// `None` = reported here; otherwise the server that sent the `Flag`.
    pub origin_domain: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<DbReport> for ResolvedReport {
    fn from(r: DbReport) -> Self {
        ResolvedReport {
            id: r.id,
            state: r.state,
            resolution: r.resolution,
            resolved_by: r.resolved_by,
            resolved_at: r.resolved_at,
            reason: r.reason,
            origin_domain: r.origin_domain,
            created_at: r.created_at,
        }
    }
}

/// Resolves a report: the action is applied to what it names, the author receives a
/// statement of reasons (removals and restrictions), the reporter the outcome.
#[utoipa::path(
    post,
    path = "/api/v1/admin/reports/{id}/resolve",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The report")),
    request_body = ResolveBody,
    responses(
        (status = 200, description = "The report, resolved", body = ResolvedReport),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already resolved (who and when in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown `action`, an action that does not apply to what the report names, unknown `rule_ids`, or a text too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_resolve(
    data: Data,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ResolveBody>,
) -> AppResult<ApiJson<ResolvedReport>> {
    moderation::ensure_moderator(&user.account)?;
    let input = input_from(
        &body.action,
        body.statement.unwrap_or_default(),
        body.rule_ids.unwrap_or_default(),
        body.note.unwrap_or_default(),
        body.send_outcome.unwrap_or(false),
    )?;
    let report = moderation::resolve(data.app_data(), &user.account, id, input).await?;
    Ok(ApiJson(report.into()))
}

/// The decision as submitted (API or form); an unknown action is a 422 naming `action`.
pub fn input_from(
    action: &str,
    statement: String,
    rule_ids: Vec<i64>,
    note: String,
    send_outcome: bool,
) -> AppResult<ResolveInput> {
    let action = Resolution::parse(action.trim())
        .ok_or_else(|| AppError::field("action", "field.action.invalid"))?;
    Ok(ResolveInput {
        action,
        statement,
        rule_ids,
        note,
        send_outcome,
    })
}
