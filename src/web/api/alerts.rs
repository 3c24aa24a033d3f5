//! Announcement alerts: the caller's saved filters (list, create, delete).

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    service::alerts::{self, Alert, AlertInput},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    routing::{delete, get},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_alerts, http_post_alert, http_delete_alert),
    components(schemas(AlertItem, AlertList, NewAlert, CreatedAlert, AlertCommune))
)]
pub struct AlertsApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/alerts", get(http_get_alerts).post(http_post_alert))
        .route("/api/v1/alerts/{id}", delete(http_delete_alert))
}

/// The commune of an alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertCommune {
    /// INSEE code.
    #[schema(example = "88160")]
    pub code: String,
    #[schema(example = "Épinal")]
    pub name: String,
    #[schema(example = "88")]
    pub departement: String,
}

/// A saved filter. Absent or empty parts match everything.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertItem {
    pub id: i64,
    /// Announcement kind, `projet` for new listed project workspaces, or none for every
    /// announcement and project.
    #[schema(example = "residence")]
    pub kind: Option<String>,
    /// Matches announcements sharing at least one of them (compared in lower case); empty:
    /// any.
    pub disciplines: Vec<String>,
    pub commune: Option<AlertCommune>,
    /// `instant`, `daily`, `weekly` or `none` (notification centre only).
    #[schema(example = "daily")]
    pub mail: String,
    pub created_at: DateTime<Utc>,
}

impl From<Alert> for AlertItem {
    fn from(a: Alert) -> Self {
        AlertItem {
            id: a.id,
            kind: a.kind.map(|k| k.as_str().to_string()),
            disciplines: a.disciplines,
            commune: a.commune.map(|c| AlertCommune {
                code: c.code.to_string(),
                name: c.name.to_string(),
                departement: c.departement.to_string(),
            }),
            mail: a.mail.as_str().to_string(),
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertList {
    /// Oldest first.
    pub items: Vec<AlertItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlert {
    /// `emploi`, `appel_a_projets`, `residence`, `pret_materiel`, `mise_a_disposition_lieu`,
    /// `benevolat`, `formation`, `autre`, or `projet` for new listed project workspaces;
    /// absent: every announcement and project.
    #[schema(example = "residence")]
    pub kind: Option<String>,
    /// Absent or empty: any discipline.
    pub disciplines: Option<Vec<String>>,
    /// A commune: its name ("Épinal"), with its département when several communes share
    /// the name ("Saint-Amand (62)"), or its INSEE code. Absent: anywhere.
    #[schema(example = "Épinal")]
    pub commune: Option<String>,
    /// `instant`, `daily`, `weekly` or `none`.
    #[schema(example = "instant")]
    pub mail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAlert {
    pub id: i64,
}

/// The caller's alerts.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "alerts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's alerts", body = AlertList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_alerts(data: Data, user: ApiUser) -> AppResult<ApiJson<AlertList>> {
    let items = alerts::list(data.app_data(), &user.account)
        .await?
        .into_iter()
        .map(AlertItem::from)
        .collect();
    Ok(ApiJson(AlertList { items }))
}

/// Saves a filter: each new announcement matching it notifies the caller.
#[utoipa::path(
    post,
    path = "/api/v1/alerts",
    tag = "alerts",
    security(("bearer" = [])),
    request_body = NewAlert,
    responses(
        (status = 201, description = "Saved", body = CreatedAlert),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong (unknown `kind`, unknown or ambiguous `commune`, unknown `mail`, too many `disciplines`; `alerts`: the same search saved already, or too many alerts)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_alert(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewAlert>,
) -> AppResult<(StatusCode, ApiJson<CreatedAlert>)> {
    let input = AlertInput {
        kind: body.kind,
        disciplines: body.disciplines.unwrap_or_default(),
        commune: body.commune,
        mail: body.mail,
    };
    let alert = alerts::create(data.app_data(), &user.account, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(CreatedAlert { id: alert.id })))
}

/// Deletes one of the caller's alerts.
#[utoipa::path(
    delete,
    path = "/api/v1/alerts/{id}",
    tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Id of the alert, from `GET /api/v1/alerts`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert among the caller's", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_alert(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    alerts::delete(data.app_data(), &user.account, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
