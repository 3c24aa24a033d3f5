//! Reporting from the API: `POST /api/v1/reports`, the twin of the `/signaler` page. Both go
//! through `service::moderation::reports::submit`.

use crate::{
    error::{AppError, AppResult, FieldErrors},
    federation::Data,
    service::moderation::{
        Reason, ReportInput, Reporter,
        reports::{self, MAX_COMMENT_CHARS},
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, http::StatusCode, routing::post};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_post_report),
    components(schemas(NewReportRequest, ReportCreated))
)]
pub struct ReportsApi;

pub fn routes() -> Router {
    Router::new().route("/api/v1/reports", post(http_post_report))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReportRequest {
    /// What is reported: the ActivityPub id or the page URL of a post, an announcement, a
    /// comment (a post's page with `#comment-{id}`) or a profile, local or kept from another
    /// server.
    #[schema(example = "http://localhost:8080/announcements/12")]
    pub target: String,
    /// `spam`, `illegal`, `harassment`, `off_topic` (e.g. a show announcement that belongs on
    /// the events agenda) or `other`.
    #[schema(example = "off_topic")]
    pub reason: String,
    /// What will help the moderators; 5 000 characters at most.
    #[serde(default)]
    pub comment: String,
    /// Ask that the report be also sent, anonymously, to the server of remote content (a
    /// moderator decides). Ignored for content of this instance.
    #[serde(default)]
    pub forward: bool,
    /// Ids of the instance rules broken (see the rules of the "À propos" page).
    #[serde(default)]
    pub rule_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportCreated {
    pub id: i64,
}

/// Reports something to the instance's moderators, who are notified. The person reported is
/// not told who reported them.
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "moderation",
    security(("bearer" = [])),
    request_body = NewReportRequest,
    responses(
        (status = 201, description = "Stored; the moderators are notified", body = ReportCreated),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Suspended account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nothing here is known at `target`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A report of yours naming this is still open", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`target` not a URL, unknown `reason` or rule, `comment` over 5 000 characters", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_report(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewReportRequest>,
) -> AppResult<(StatusCode, ApiJson<ReportCreated>)> {
    let ctx = data.app_data();
    let mut errors = FieldErrors::default();
    let target = Url::parse(body.target.trim());
    if body.target.trim().is_empty() {
        errors.add("target", "field.required");
    } else if target.is_err() {
        errors.add("target", "field.report_target.invalid");
    }
    let reason = Reason::parse(body.reason.trim());
    if reason.is_none() {
        errors.add("reason", "field.reason.unknown");
    }
    if body.comment.trim().chars().count() > MAX_COMMENT_CHARS {
        errors.add("comment", "field.too_long");
    }
    errors.into_result()?;
    let (Ok(target), Some(reason)) = (target, reason) else {
        return Err(AppError::internal("report fields checked above"));
    };
    let input = ReportInput {
        reporter: Reporter::Member(Box::new(user.account)),
        targets: vec![target],
        reason,
        rule_ids: body.rule_ids,
        comment: body.comment,
        forward: body.forward,
    };
    let mut conn = ctx.conn().await?;
    let submitted = conn
        .transaction::<_, AppError, _>(async |conn| reports::submit(ctx, conn, input).await)
        .await?
        .ok_or_else(|| AppError::internal("a member's report was not stored"))?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ReportCreated {
            id: submitted.report.id,
        }),
    ))
}
