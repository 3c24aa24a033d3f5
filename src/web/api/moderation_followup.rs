//! The API twins of the moderation forms that follow a report or a decision: internal notes and
//! assignment of a report; the author's decision (read, acknowledged, appealed); the
//! moderators' answer to an appeal and the showing again of hidden content. Each calls the
//! same domain function as its form.

use crate::{
    db::moderation_actions::DbAppeal,
    error::AppResult,
    federation::Data,
    service::moderation::{decisions, queue},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_post_note,
        http_post_assign,
        http_get_decision,
        http_post_read,
        http_post_appeal,
        http_post_appeal_answer,
        http_post_unhide
    ),
    components(schemas(
        NoteBody,
        NoteCreated,
        AssignBody,
        Assigned,
        DecisionView,
        RuleCited,
        AppealView,
        AppealBody,
        AppealAnswerBody,
        UnhideDone
    ))
)]
pub struct ModerationFollowupApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/admin/reports/{id}/notes", post(http_post_note))
        .route("/api/v1/admin/reports/{id}/assign", post(http_post_assign))
        .route("/api/v1/decisions/{id}", get(http_get_decision))
        .route("/api/v1/decisions/{id}/read", post(http_post_read))
        .route("/api/v1/decisions/{id}/appeal", post(http_post_appeal))
        .route(
            "/api/v1/admin/decisions/{id}/appeal",
            post(http_post_appeal_answer),
        )
        .route(
            "/api/v1/admin/decisions/{id}/unhide",
            post(http_post_unhide),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteBody {
    /// 1 to 5 000 characters, seen by moderators only.
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteCreated {
    pub id: i64,
    pub created_at: DateTime<Utc>,
}

/// Adds an internal note to a report (the report page's "Notes" form).
#[utoipa::path(
    post,
    path = "/api/v1/admin/reports/{id}/notes",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The report")),
    request_body = NoteBody,
    responses(
        (status = 201, description = "The note", body = NoteCreated),
        (status = 403, description = "Not a moderator or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`body` empty or too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_note(
    data: Data,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NoteBody>,
) -> AppResult<(StatusCode, ApiJson<NoteCreated>)> {
    let note = queue::add_note(data.app_data(), &user.account, id, &body.body).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(NoteCreated {
            id: note.id,
            created_at: note.created_at,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignBody {
    /// A moderator's or admin's username; `null` or absent: nobody.
    #[serde(default)]
    pub assignee: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Assigned {
    pub id: i64,
    /// The account id it is assigned to, if any.
    pub assigned_to: Option<i64>,
}

/// Assigns a report to a moderator or an admin, or to nobody (written to the log).
#[utoipa::path(
    post,
    path = "/api/v1/admin/reports/{id}/assign",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The report")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The report's assignment", body = Assigned),
        (status = 403, description = "Not a moderator or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`assignee` is not a moderator or an admin", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_assign(
    data: Data,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AssignBody>,
) -> AppResult<ApiJson<Assigned>> {
    let report =
        queue::assign(data.app_data(), &user.account, id, body.assignee.as_deref()).await?;
    Ok(ApiJson(Assigned {
        id: report.id,
        assigned_to: report.assigned_to,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleCited {
    pub id: i64,
    pub text_fr: String,
    pub text_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealView {
    pub id: i64,
    /// `open`, `granted` or `rejected`.
    pub state: String,
    pub text: String,
    /// The moderators' answer, once given.
    pub decision_text: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<DbAppeal> for AppealView {
    fn from(a: DbAppeal) -> Self {
        AppealView {
            id: a.id,
            state: a.state,
            text: a.text,
            decision_text: a.decision_text,
            created_at: a.created_at,
            decided_at: a.decided_at,
        }
    }
}

/// A moderation decision as its author reads it (the statement of reasons).
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: i64,
    /// What was done: `hide`, `delete`, `redirect`, `warn`, `suspend`, `block`, …
    #[schema(example = "redirect")]
    pub action: String,
    /// Why, as written for the author.
    pub statement: String,
    pub rules: Vec<RuleCited>,
    /// What it was about, as it was when reported (title or excerpt).
    pub about: String,
    pub created_at: DateTime<Utc>,
    pub acknowledged: bool,
    /// Undone since (content shown again, suspension lifted, appeal granted).
    pub reverted: bool,
    /// Whether an appeal can still be made (once, against a removal or restriction).
    pub appealable: bool,
    pub appeal: Option<AppealView>,
}

fn decision_view(statement: decisions::Statement) -> DecisionView {
    let about = statement
        .snapshot
        .as_ref()
        .map(|s| s.title.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| statement.excerpt());
    let appealable = statement.appealable();
    DecisionView {
        id: statement.entry.id,
        action: statement.entry.action.clone(),
        statement: statement.entry.statement.clone(),
        rules: statement
            .rules
            .iter()
            .map(|r| RuleCited {
                id: r.id,
                text_fr: r.text_fr.clone(),
                text_en: r.text_en.clone(),
            })
            .collect(),
        about,
        created_at: statement.entry.created_at,
        acknowledged: statement.entry.acknowledged_at.is_some(),
        reverted: statement.entry.reverted_at.is_some(),
        appealable,
        appeal: statement.appeal.map(AppealView::from),
    }
}

/// A decision about the caller (or any decision, for moderators); 404 for anyone else.
#[utoipa::path(
    get,
    path = "/api/v1/decisions/{id}",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The decision")),
    responses(
        (status = 200, description = "The statement of reasons", body = DecisionView),
        (status = 404, description = "No such decision about the caller", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_decision(
    data: Data,
    user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<ApiJson<DecisionView>> {
    let statement = decisions::view(data.app_data(), &user.account, id).await?;
    Ok(ApiJson(decision_view(statement)))
}

/// The author marks the decision read: the notice leaves their pages.
#[utoipa::path(
    post,
    path = "/api/v1/decisions/{id}/read",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The decision")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 404, description = "No such decision about the caller", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_read(data: Data, user: ApiUser, Path(id): Path<i64>) -> AppResult<StatusCode> {
    decisions::acknowledge(data.app_data(), &user.account, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealBody {
    /// Why the decision should be reconsidered (1 to 5 000 characters).
    pub text: String,
}

/// The author appeals the decision, once; moderators are notified.
#[utoipa::path(
    post,
    path = "/api/v1/decisions/{id}/appeal",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The decision")),
    request_body = AppealBody,
    responses(
        (status = 201, description = "The appeal", body = AppealView),
        (status = 404, description = "No such decision about the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already appealed, or not appealable", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`text` empty or too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_appeal(
    data: Data,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AppealBody>,
) -> AppResult<(StatusCode, ApiJson<AppealView>)> {
    let appeal = decisions::appeal(data.app_data(), &user.account, id, &body.text).await?;
    Ok((StatusCode::CREATED, ApiJson(appeal.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealAnswerBody {
    /// `true`: granted (what can be undone is undone); `false`: rejected.
    pub grant: bool,
    /// The answer the author reads.
    pub text: String,
}

/// A moderator answers the appeal against decision `id`; the author is told.
#[utoipa::path(
    post,
    path = "/api/v1/admin/decisions/{id}/appeal",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The decision appealed")),
    request_body = AppealAnswerBody,
    responses(
        (status = 200, description = "The appeal, answered", body = AppealView),
        (status = 403, description = "Not a moderator or an admin (or lifting a suspension without being an admin)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision or no appeal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`decision_text` empty or too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_appeal_answer(
    data: Data,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AppealAnswerBody>,
) -> AppResult<ApiJson<AppealView>> {
    let appeal =
        decisions::decide_appeal(data.app_data(), &user.account, id, body.grant, &body.text)
            .await?;
    Ok(ApiJson(appeal.into()))
}

/// A moderator shows again what decision `id` hid (an `unhide` entry in the log; the author is
/// told).
#[utoipa::path(
    post,
    path = "/api/v1/admin/decisions/{id}/unhide",
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The `hide` decision")),
    responses(
        (status = 200, description = "The `unhide` entry of the log", body = UnhideDone),
        (status = 403, description = "Not a moderator or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a hide, or already undone", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_unhide(
    data: Data,
    user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<ApiJson<UnhideDone>> {
    let entry = decisions::unhide(data.app_data(), &user.account, id).await?;
    Ok(ApiJson(UnhideDone {
        id: entry.id,
        action: entry.action,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnhideDone {
    /// The id of the `unhide` entry.
    pub id: i64,
    #[schema(example = "unhide")]
    pub action: String,
}
