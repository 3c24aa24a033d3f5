//! The département's listed entries for the team's tools (the twin of `/admin/annuaire` and
//! of `culturecnous directory import`): `GET /api/v1/admin/directory` (claim counts and
//! entries), `POST /api/v1/admin/directory/invitations` and `POST
//! /api/v1/admin/directory/import` (a CSV body). Administrators and staff only.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    service::directory::{
        claim::{self, Counts, Filter, InviteCounts},
        import::{self, ImportOptions, ImportReport},
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, FromRequestParts, Query},
    http::{HeaderMap, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_admin_directory,
        http_post_admin_directory_invitations,
        http_post_admin_directory_import
    ),
    components(schemas(
        DirectoryAdmin,
        DirectoryCounts,
        DirectoryEntryItem,
        InvitationsRequest,
        InvitationsSent,
        ImportReportBody,
        SkippedLineBody
    ))
)]
pub struct AdminDirectoryApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/admin/directory", get(http_get_admin_directory))
        .route(
            "/api/v1/admin/directory/invitations",
            post(http_post_admin_directory_invitations),
        )
        .route(
            "/api/v1/admin/directory/import",
            // The configured `storage.max_upload_mb` is applied by the handler.
            post(http_post_admin_directory_import).layer(DefaultBodyLimit::disable()),
        )
}

/// Extractor: an API caller of the département's team (administrator or staff).
pub struct ApiDirectoryTeam(pub ApiUser);

impl<S: Send + Sync> FromRequestParts<S> for ApiDirectoryTeam {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let user = ApiUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        claim::ensure_directory_team(&user.account)
            .map_err(|e| e.with_message("error.role_required").into_response())?;
        Ok(ApiDirectoryTeam(user))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryCounts {
    /// Listed entries.
    pub listed: i64,
    /// Entries taken over by their account (the claim rate is `claimed / listed`).
    pub claimed: i64,
    /// Invited, not claimed yet.
    pub invited: i64,
    /// With an address, never invited.
    pub not_invited: i64,
    /// Not claimed and without an address.
    pub no_email: i64,
}

impl From<Counts> for DirectoryCounts {
    fn from(c: Counts) -> Self {
        DirectoryCounts {
            listed: c.listed,
            claimed: c.claimed,
            invited: c.invited,
            not_invited: c.not_invited,
            no_email: c.no_email,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryEntryItem {
    pub id: i64,
    pub name: String,
    /// A directory kind code (`compagnie`, `association`, …).
    pub kind: String,
    pub disciplines: Vec<String>,
    pub email: String,
    /// INSEE code.
    pub commune_code: Option<String>,
    pub commune: String,
    pub postal_code: String,
    pub is_venue: bool,
    pub claimed_at: Option<DateTime<Utc>>,
    /// The account that claimed it.
    pub username: Option<String>,
    /// When the last invitation was sent.
    pub invited_at: Option<DateTime<Utc>>,
}

impl From<claim::Entry> for DirectoryEntryItem {
    fn from(e: claim::Entry) -> Self {
        DirectoryEntryItem {
            id: e.id,
            name: e.name,
            kind: e.kind,
            disciplines: e.disciplines,
            email: e.email,
            commune_code: e.commune_code,
            commune: e.commune,
            postal_code: e.postal_code,
            is_venue: e.is_venue,
            claimed_at: e.claimed_at,
            username: e.username,
            invited_at: e.invited_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryAdmin {
    pub counts: DirectoryCounts,
    /// Entries matching the filters.
    pub total: i64,
    pub page: i64,
    pub items: Vec<DirectoryEntryItem>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct DirectoryQuery {
    /// `all` (default), `claimed`, `invited`, `not_invited`, `no_email`.
    pub state: String,
    /// Part of the name (case and accents ignored).
    pub q: String,
    /// A commune (name or INSEE code).
    pub commune: String,
    /// From 0; 50 entries a page.
    pub page: i64,
}

/// Claim counts and the listed entries.
#[utoipa::path(
    get,
    path = "/api/v1/admin/directory",
    tag = "admin",
    security(("bearer" = [])),
    params(DirectoryQuery),
    responses(
        (status = 200, description = "Counts and entries", body = DirectoryAdmin),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`commune` is unknown or ambiguous", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_admin_directory(
    data: Data,
    ApiDirectoryTeam(_user): ApiDirectoryTeam,
    Query(query): Query<DirectoryQuery>,
) -> AppResult<ApiJson<DirectoryAdmin>> {
    let ctx = data.app_data();
    let commune =
        crate::service::communes::parse_field(&query.commune, &ctx.config.instance.departement)
            .map_err(|key| AppError::field("commune", key))?;
    let counts = claim::counts(ctx).await?;
    let page = query.page.max(0);
    let (items, total) = claim::list(
        ctx,
        Filter::parse(&query.state),
        &query.q,
        commune.map(|c| c.code),
        page,
    )
    .await?;
    Ok(ApiJson(DirectoryAdmin {
        counts: counts.into(),
        total,
        page,
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationsRequest {
    /// Entries to invite (again: their earlier links stop working). Absent: every unclaimed
    /// entry with an address that was never invited.
    pub entry_ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationsSent {
    /// Invitations queued for mailing.
    pub invited: u64,
    pub skipped_no_email: u64,
    pub skipped_claimed: u64,
}

impl From<InviteCounts> for InvitationsSent {
    fn from(c: InviteCounts) -> Self {
        InvitationsSent {
            invited: c.invited,
            skipped_no_email: c.skipped_no_email,
            skipped_claimed: c.skipped_claimed,
        }
    }
}

/// Mails claim invitations (single-use links valid 30 days).
#[utoipa::path(
    post,
    path = "/api/v1/admin/directory/invitations",
    tag = "admin",
    security(("bearer" = [])),
    request_body = InvitationsRequest,
    responses(
        (status = 200, description = "What was sent", body = InvitationsSent),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`entry_ids` is empty or too long (1 000 at most)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_admin_directory_invitations(
    data: Data,
    ApiDirectoryTeam(user): ApiDirectoryTeam,
    ApiJson(body): ApiJson<InvitationsRequest>,
) -> AppResult<ApiJson<InvitationsSent>> {
    if let Some(ids) = &body.entry_ids
        && (ids.is_empty() || ids.len() > 1000)
    {
        return Err(AppError::field("entry_ids", "field.entry_ids.invalid"));
    }
    let counts = claim::invite(
        data.app_data(),
        Some(&user.account),
        body.entry_ids.as_deref(),
    )
    .await?;
    Ok(ApiJson(counts.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedLineBody {
    pub line: u64,
    pub reason: String,
}

/// The import's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportBody {
    /// `utf-8` or `windows-1252` (a file that was not UTF-8 is read as Windows-1252/Latin-1).
    pub encoding: String,
    pub separator: String,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub skipped_lines: Vec<SkippedLineBody>,
    pub ignored_columns: Vec<String>,
    pub dry_run: bool,
}

impl From<ImportReport> for ImportReportBody {
    fn from(r: ImportReport) -> Self {
        ImportReportBody {
            encoding: r.encoding,
            separator: r.separator,
            rows: r.rows,
            created: r.created,
            updated: r.updated,
            skipped: r.skipped,
            skipped_lines: r
                .skipped_lines
                .into_iter()
                .map(|s| SkippedLineBody {
                    line: s.line,
                    reason: s.reason,
                })
                .collect(),
            ignored_columns: r.ignored_columns,
            dry_run: r.dry_run,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct ImportQuery {
    /// Check and report, write nothing.
    pub dry_run: bool,
}

/// Whether a body of this type can be a CSV file.
pub fn is_csv_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "text/csv" | "text/plain" | "application/csv" | "application/octet-stream"
    )
}

/// Imports a CSV file (the body, `text/csv`), as `culturecnous directory import` does.
#[utoipa::path(
    post,
    path = "/api/v1/admin/directory/import",
    tag = "admin",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file: columns name, kind, disciplines, email, phone, address, postal_code, commune, website, latitude, longitude, is_venue"),
    responses(
        (status = 200, description = "The report", body = ImportReportBody),
        (status = 400, description = "The file cannot be read or lacks the required columns (`name`, and `commune` or `postal_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator or staff", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `storage.max_upload_mb`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as text/csv", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_admin_directory_import(
    data: Data,
    ApiDirectoryTeam(_user): ApiDirectoryTeam,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<ApiJson<ImportReportBody>> {
    let ctx = data.app_data();
    if !is_csv_type(&headers) {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "send the file as text/csv",
        ));
    }
    let limit = usize::try_from(ctx.config.storage.max_upload_mb.saturating_mul(1024 * 1024))
        .unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        AppError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "the file is larger than {} MB",
                ctx.config.storage.max_upload_mb
            ),
        )
    })?;
    let report = import::import(
        ctx,
        std::io::Cursor::new(bytes),
        ImportOptions {
            dry_run: query.dry_run,
        },
        &mut |_| {},
    )
    .await?;
    Ok(ApiJson(report.into()))
}
