//! Domain blocks for administrators' tools (the twin of the page `/admin/domaines` and of
//! `culturecnous domain`): `POST`, `GET /api/v1/admin/domain-blocks`, `GET` and `DELETE
//! /api/v1/admin/domain-blocks/{domain}`. Admins only; each change is logged.

use crate::{
    db::domain_blocks::DbDomainBlock,
    error::{AppError, AppResult},
    federation::Data,
    service::{
        domain_blocks::{self, BlockOptions, Severity},
        moderation::ensure_admin,
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::{FromRequestParts, Path},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_domain_blocks,
        http_post_domain_block,
        http_get_domain_block,
        http_delete_domain_block
    ),
    components(schemas(DomainBlockItem, DomainBlockList, NewDomainBlock, DomainBlockMade))
)]
pub struct AdminDomainsApi;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/api/v1/admin/domain-blocks",
            get(http_get_domain_blocks).post(http_post_domain_block),
        )
        .route(
            "/api/v1/admin/domain-blocks/{domain}",
            get(http_get_domain_block).delete(http_delete_domain_block),
        )
}

/// A blocked domain.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainBlockItem {
    /// `host` (its subdomains and every port too) or `host:port`.
    #[schema(example = "spam.example")]
    pub domain: String,
    /// `silence` (kept off public lists) or `reject` (every activity refused, follows removed).
    #[schema(example = "reject")]
    pub severity: String,
    /// Shown on the public "À propos" page.
    pub public_comment: String,
    /// For administrators only.
    pub private_comment: String,
    /// Reports (`Flag`s) from the domain are refused.
    pub reject_reports: bool,
    pub created_at: DateTime<Utc>,
}

impl From<DbDomainBlock> for DomainBlockItem {
    fn from(b: DbDomainBlock) -> Self {
        DomainBlockItem {
            domain: b.domain,
            severity: b.severity,
            public_comment: b.public_comment,
            private_comment: b.reason,
            reject_reports: b.reject_reports,
            created_at: b.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainBlockList {
    /// Sorted by domain.
    pub items: Vec<DomainBlockItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomainBlock {
    /// `host` or `host:port`; a leading `https://` and a trailing `/` are tolerated.
    #[schema(example = "spam.example")]
    pub domain: String,
    /// `silence` or `reject`.
    #[schema(example = "reject")]
    pub severity: String,
    /// Shown on the public "À propos" page.
    pub public_comment: Option<String>,
    /// For administrators only.
    pub private_comment: Option<String>,
    /// Refuse reports (`Flag`s) from the domain.
    pub reject_reports: Option<bool>,
}

/// A block as made, with what it cut.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainBlockMade {
    pub block: DomainBlockItem,
    /// `false` when an existing block was changed.
    pub created: bool,
    /// Queued deliveries to the domain, dropped (`reject` only).
    pub deliveries_dropped: usize,
    /// Follows between our accounts and the domain's, removed (`reject` only).
    pub follows_removed: usize,
}

/// Extractor: an API caller who is an admin. Others get 403 before their body is even read.
pub struct ApiAdmin(pub ApiUser);

impl<S: Send + Sync> FromRequestParts<S> for ApiAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let user = ApiUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        ensure_admin(&user.account)
            .map_err(|e| e.with_message("error.role_required").into_response())?;
        Ok(ApiAdmin(user))
    }
}

/// Every blocked domain.
#[utoipa::path(
    get,
    path = "/api/v1/admin/domain-blocks",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The blocked domains", body = DomainBlockList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_domain_blocks(
    data: Data,
    ApiAdmin(_user): ApiAdmin,
) -> AppResult<ApiJson<DomainBlockList>> {
    let items = domain_blocks::list(data.app_data())
        .await?
        .into_iter()
        .map(DomainBlockItem::from)
        .collect();
    Ok(ApiJson(DomainBlockList { items }))
}

/// Blocks a domain, or changes its block. `reject` drops the deliveries queued there and
/// removes follows in both directions, in the same transaction.
#[utoipa::path(
    post,
    path = "/api/v1/admin/domain-blocks",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewDomainBlock,
    responses(
        (status = 201, description = "Blocked", body = DomainBlockMade),
        (status = 200, description = "The existing block was changed", body = DomainBlockMade),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong: `domain` (not a domain name, or this instance's own), `severity` (not `silence` or `reject`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_domain_block(
    data: Data,
    ApiAdmin(user): ApiAdmin,
    ApiJson(body): ApiJson<NewDomainBlock>,
) -> AppResult<(StatusCode, ApiJson<DomainBlockMade>)> {
    let severity = Severity::parse(body.severity.trim())
        .ok_or_else(|| AppError::field("severity", "field.severity.invalid"))?;
    let options = BlockOptions {
        public_comment: body.public_comment.unwrap_or_default(),
        private_comment: body.private_comment.unwrap_or_default(),
        reject_reports: body.reject_reports.unwrap_or(false),
    };
    let made = domain_blocks::block_by(
        data.app_data(),
        Some(&user.account),
        &body.domain,
        severity,
        &options,
    )
    .await?;
    let status = if made.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        ApiJson(DomainBlockMade {
            block: made.block.into(),
            created: made.created,
            deliveries_dropped: made.deliveries_dropped,
            follows_removed: made.follows_removed,
        }),
    ))
}

/// One blocked domain.
#[utoipa::path(
    get,
    path = "/api/v1/admin/domain-blocks/{domain}",
    tag = "admin",
    security(("bearer" = [])),
    params(("domain" = String, Path, description = "The blocked domain, as listed")),
    responses(
        (status = 200, description = "The block", body = DomainBlockItem),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "This domain is not blocked", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_domain_block(
    data: Data,
    ApiAdmin(_user): ApiAdmin,
    Path(domain): Path<String>,
) -> AppResult<ApiJson<DomainBlockItem>> {
    if domain_blocks::normalize_domain(&domain).is_err() {
        return Err(AppError::not_found());
    }
    let block = domain_blocks::get(data.app_data(), &domain)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(ApiJson(block.into()))
}

/// Lifts the block on a domain (removed follows are not restored).
#[utoipa::path(
    delete,
    path = "/api/v1/admin/domain-blocks/{domain}",
    tag = "admin",
    security(("bearer" = [])),
    params(("domain" = String, Path, description = "The blocked domain, as listed")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "This domain is not blocked", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_domain_block(
    data: Data,
    ApiAdmin(user): ApiAdmin,
    Path(domain): Path<String>,
) -> AppResult<StatusCode> {
    if domain_blocks::normalize_domain(&domain).is_err() {
        return Err(AppError::not_found());
    }
    domain_blocks::unblock_by(data.app_data(), Some(&user.account), &domain)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(StatusCode::NO_CONTENT)
}
