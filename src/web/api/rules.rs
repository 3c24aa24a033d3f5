//! The instance's rules: `GET /api/v1/rules` (public) and `GET /api/v1/rules/{id}` (withdrawn
//! rules included, as the decisions citing them show them); admins edit them with `POST
//! /api/v1/admin/rules`, `PATCH` and `DELETE /api/v1/admin/rules/{id}` (the twin of the page
//! `/admin/regles`).

use crate::{
    db::rules::DbRule,
    error::{AppError, AppResult},
    federation::Data,
    service::moderation::rules::{self, RuleInput},
    web::api::{ApiJson, admin_domains::ApiAdmin, openapi::Problem},
};
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    routing::{get, patch, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_rules,
        http_get_rule,
        http_post_rule,
        http_patch_rule,
        http_delete_rule
    ),
    components(schemas(RuleItem, RuleList, NewRule, RuleChange)),
    tags((name = "rules", description = "The instance's rules (edited by admins)")),
)]
pub struct RulesApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/rules", get(http_get_rules))
        .route("/api/v1/rules/{id}", get(http_get_rule))
        .route("/api/v1/admin/rules", post(http_post_rule))
        .route(
            "/api/v1/admin/rules/{id}",
            patch(http_patch_rule).delete(http_delete_rule),
        )
}

/// A rule of the instance.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleItem {
    pub id: i64,
    /// Its number among the rules in force (1 = first); absent once withdrawn.
    pub number: Option<usize>,
    #[schema(example = "Pas de publicité abusive ni de messages répétés (spam).")]
    pub text_fr: String,
    /// Empty: the French text is shown in English too.
    pub text_en: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was withdrawn; a withdrawn rule stays readable from the decisions citing it.
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl RuleItem {
    fn new(rule: DbRule, in_force: &[DbRule]) -> Self {
        RuleItem {
            id: rule.id,
            number: rules::number_of(in_force, rule.id),
            text_fr: rule.text_fr,
            text_en: rule.text_en,
            created_at: rule.created_at,
            updated_at: rule.updated_at,
            withdrawn_at: rule.deleted_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    /// The rules in force, in order.
    pub items: Vec<RuleItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    /// 1 to 1000 characters.
    pub text_fr: String,
    /// Up to 1000 characters; absent or empty: the French text is shown in English too.
    pub text_en: Option<String>,
}

/// What to change; absent fields are left as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleChange {
    /// 1 to 1000 characters.
    pub text_fr: Option<String>,
    /// Up to 1000 characters; empty: the French text is shown in English too.
    pub text_en: Option<String>,
    /// Its new number among the rules in force (1 = first; beyond the end = last).
    pub position: Option<i64>,
}

fn rule_id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::not_found())
}

async fn item(data: &Data, rule: DbRule) -> AppResult<RuleItem> {
    let in_force = rules::current(data.app_data()).await?;
    Ok(RuleItem::new(rule, &in_force))
}

/// The rules in force, in order (no token needed).
#[utoipa::path(
    get,
    path = "/api/v1/rules",
    tag = "rules",
    responses((status = 200, description = "The rules in force", body = RuleList)),
)]
async fn http_get_rules(data: Data) -> AppResult<ApiJson<RuleList>> {
    let in_force = rules::current(data.app_data()).await?;
    let items = in_force
        .iter()
        .cloned()
        .map(|r| RuleItem::new(r, &in_force))
        .collect();
    Ok(ApiJson(RuleList { items }))
}

/// One rule, withdrawn or not (no token needed).
#[utoipa::path(
    get,
    path = "/api/v1/rules/{id}",
    tag = "rules",
    params(("id" = i64, Path, description = "Id of the rule")),
    responses(
        (status = 200, description = "The rule", body = RuleItem),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_rule(data: Data, Path(id): Path<String>) -> AppResult<ApiJson<RuleItem>> {
    let rule = rules::get(data.app_data(), rule_id(&id)?).await?;
    Ok(ApiJson(item(&data, rule).await?))
}

/// Adds a rule after the others (admins).
#[utoipa::path(
    post,
    path = "/api/v1/admin/rules",
    tag = "rules",
    security(("bearer" = [])),
    request_body = NewRule,
    responses(
        (status = 201, description = "Added", body = RuleItem),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`text_fr` empty or too long, `text_en` too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_rule(
    data: Data,
    ApiAdmin(user): ApiAdmin,
    ApiJson(body): ApiJson<NewRule>,
) -> AppResult<(StatusCode, ApiJson<RuleItem>)> {
    let input = RuleInput {
        text_fr: body.text_fr,
        text_en: body.text_en.unwrap_or_default(),
    };
    let rule = rules::create(data.app_data(), &user.account, &input)
        .await
        .map_err(role_message)?;
    Ok((StatusCode::CREATED, ApiJson(item(&data, rule).await?)))
}

/// Changes a rule's texts and/or its place (admins).
#[utoipa::path(
    patch,
    path = "/api/v1/admin/rules/{id}",
    tag = "rules",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Id of the rule")),
    request_body = RuleChange,
    responses(
        (status = 200, description = "Changed", body = RuleItem),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule in force", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`text_fr` empty or too long, `text_en` too long, `position` below 1", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_rule(
    data: Data,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RuleChange>,
) -> AppResult<ApiJson<RuleItem>> {
    let ctx = data.app_data();
    let id = rule_id(&id)?;
    let texts = if body.text_fr.is_some() || body.text_en.is_some() {
        let rule = rules::get(ctx, id).await?;
        Some(RuleInput {
            text_fr: body.text_fr.unwrap_or(rule.text_fr),
            text_en: body.text_en.unwrap_or(rule.text_en),
        })
    } else {
        None
    };
    let rule = rules::change(ctx, &user.account, id, texts.as_ref(), body.position).await?;
    Ok(ApiJson(item(&data, rule).await?))
}

/// Withdraws a rule (admins): it leaves the list and stays readable by id.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/rules/{id}",
    tag = "rules",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Id of the rule")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule in force", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_rule(
    data: Data,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    rules::withdraw(data.app_data(), &user.account, rule_id(&id)?)
        .await
        .map_err(role_message)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A 403 says who may act.
fn role_message(e: AppError) -> AppError {
    if e.status() == StatusCode::FORBIDDEN {
        e.with_message("error.role_required")
    } else {
        e
    }
}
