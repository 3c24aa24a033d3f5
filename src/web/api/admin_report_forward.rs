//! `POST /api/v1/admin/reports/{id}/forward`: a moderator sends a report to the server of the
//! remote content it names, as a `Flag` from the instance actor (the twin of the button on
//! the report page).

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    service::moderation::forward::forward,
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, extract::Path, routing::post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_post_admin_report_forward),
    components(schemas(ReportForwarded)),
    tags((name = "moderation", description = "Reports and the moderators' actions")),
)]
pub struct AdminReportForwardApi;

pub fn routes() -> Router {
    Router::new().route(
        "/api/v1/admin/reports/{id}/forward",
        post(http_post_admin_report_forward),
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportForwarded {
    /// The report.
    pub id: i64,
    /// When it was forwarded (now).
    pub forwarded_at: Option<DateTime<Utc>>,
}

/// Forwards the report to the server(s) of the remote accounts and objects it names: one
/// `Flag` per server, from the instance actor, never naming the reporter, through the
/// delivery queue.
#[utoipa::path(
    post,
    path = "/api/v1/admin/reports/{id}/forward",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The report")),
    responses(
        (status = 200, description = "Forwarded (the Flag is queued for delivery)", body = ReportForwarded),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already forwarded, or names nothing from another server", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_admin_report_forward(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<ReportForwarded>> {
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::new(ErrorKind::NotFound, "report: no such report"))?;
    let report = forward(data.app_data(), &user.account, id).await?;
    Ok(ApiJson(ReportForwarded {
        id: report.id,
        forwarded_at: report.forwarded_at,
    }))
}
