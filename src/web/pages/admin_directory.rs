//! `/admin/annuaire`: the département's listed entries for its team (administrators and
//! staff) — the claim rate ("N comptes activés sur M fiches listées"), the entries with
//! filters, claim invitations (one entry, or every entry never invited) and the CSV import,
//! which shows the same report as `culturecnous directory import`. The twin of
//! `/api/v1/admin/directory`.

use crate::{
    context::AppContext,
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        communes,
        directory::{
            DirectoryKind,
            claim::{self, Counts, Entry, Filter},
            import::{self, ImportOptions, ImportReport},
        },
    },
    web::{
        auth::CurrentUser,
        csrf::{self, CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Query},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub const PATH: &str = "/admin/annuaire";

pub fn routes() -> Router {
    Router::new()
        .route(PATH, get(http_get_admin_directory))
        .route(
            "/admin/annuaire/invitations",
            post(http_post_admin_directory_invitations),
        )
        .route(
            "/admin/annuaire/import",
            // `storage.max_upload_mb` is applied while reading the file.
            post(http_post_admin_directory_import).layer(DefaultBodyLimit::disable()),
        )
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
struct ListQuery {
    etat: String,
    q: String,
    commune: String,
    page: i64,
}

#[derive(Template)]
#[template(path = "admin/directory.html")]
struct DirectoryPage<'a> {
    lang: Lang,
    csrf: &'a str,
    counts: Counts,
    rate: String,
    states: String,
    filters: Vec<(&'static str, &'static str, bool)>,
    query: &'a ListQuery,
    entries: Vec<Entry>,
    results: String,
    prev_link: Option<String>,
    next_link: Option<String>,
    errors: FormState,
    report: Option<ImportReport>,
    report_text: String,
    communes: Vec<&'static communes::Commune>,
}

impl DirectoryPage<'_> {
    fn kind_label(&self, code: &str) -> &'static str {
        DirectoryKind::parse(code)
            .map(|k| self.lang.t(k.label_key()))
            .unwrap_or("")
    }
}

fn team(user: &CurrentUser) -> AppResult<()> {
    claim::ensure_directory_team(&user.account).map_err(|e| e.with_message("error.role_required"))
}

fn list_link(query: &ListQuery, page: i64) -> String {
    let params = [
        ("etat", query.etat.as_str()),
        ("q", query.q.as_str()),
        ("commune", query.commune.as_str()),
    ];
    let mut link = format!("{PATH}?page={page}");
    for (k, v) in params {
        if !v.is_empty() {
            link.push_str(&format!("&{k}={}", urlencode(v)));
        }
    }
    link
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn page_for(
    ctx: &AppContext,
    lang: Lang,
    csrf: &str,
    query: &ListQuery,
    report: Option<ImportReport>,
    mut errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let filter = Filter::parse(&query.etat);
    let commune = match communes::parse_field(&query.commune, &ctx.config.instance.departement) {
        Ok(c) => c.map(|c| c.code),
        Err(key) => {
            errors.add("commune", key);
            None
        }
    };
    let counts = claim::counts(ctx).await?;
    let page = query.page.max(0);
    let (entries, total) = if errors.has("commune") {
        (Vec::new(), 0)
    } else {
        claim::list(ctx, filter, &query.q, commune, page).await?
    };
    let fill = |key: &str, pairs: &[(&str, i64)]| {
        let mut s = lang.t(key).to_string();
        for (k, v) in pairs {
            s = s.replace(&format!("{{{k}}}"), &v.to_string());
        }
        s
    };
    let rate = fill(
        "admin.directory.rate",
        &[("claimed", counts.claimed), ("listed", counts.listed)],
    );
    let states = fill(
        "admin.directory.states",
        &[
            ("invited", counts.invited),
            ("not_invited", counts.not_invited),
            ("no_email", counts.no_email),
        ],
    );
    let report_text = report
        .as_ref()
        .map(|r| {
            lang.t("admin.directory.report")
                .replace("{rows}", &r.rows.to_string())
                .replace("{created}", &r.created.to_string())
                .replace("{updated}", &r.updated.to_string())
                .replace("{skipped}", &r.skipped.to_string())
        })
        .unwrap_or_default();
    let page_view = DirectoryPage {
        lang,
        csrf,
        rate,
        states,
        filters: Filter::ALL
            .iter()
            .map(|f| (f.as_str(), lang.t(f.label_key()), *f == filter))
            .collect(),
        query,
        results: fill("admin.directory.results", &[("total", total)]),
        prev_link: (page > 0).then(|| list_link(query, page - 1)),
        next_link: ((page + 1) * claim::PAGE_SIZE < total).then(|| list_link(query, page + 1)),
        entries,
        counts,
        errors,
        report,
        report_text,
        communes: communes::in_departement(&ctx.config.instance.departement),
    };
    render_status(status, &page_view)
}

async fn http_get_admin_directory(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    team(&user)?;
    page_for(
        data.app_data(),
        lang,
        csrf.value(),
        &query,
        None,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InviteForm {
    /// One entry; absent: every entry never invited.
    entry_id: Option<i64>,
}

async fn http_post_admin_directory_invitations(
    data: Data,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<Response> {
    team(&user)?;
    let ctx = data.app_data();
    let ids = form.entry_id.map(|id| vec![id]);
    let counts = claim::invite(ctx, Some(&user.account), ids.as_deref()).await?;
    let flash = if counts.invited > 0 {
        "flash.directory_invited"
    } else {
        "flash.directory_nothing_to_invite"
    };
    Ok(redirect_with_flash(ctx, PATH, flash))
}

/// The upload: the CSV file (kept up to `storage.max_upload_mb`), the CSRF token and the
/// trial box.
async fn http_post_admin_directory_import(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf_token: CsrfToken,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    team(&user)?;
    let ctx = data.app_data();
    let mut multipart =
        multipart.map_err(|e| AppError::bad_request(format!("multipart form expected: {e}")))?;
    let limit = usize::try_from(ctx.config.storage.max_upload_mb.saturating_mul(1024 * 1024))
        .unwrap_or(usize::MAX);
    let too_large = || {
        AppError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "the file is larger than {} MB",
                ctx.config.storage.max_upload_mb
            ),
        )
    };
    let mut submitted_csrf = None;
    let mut file: Option<Vec<u8>> = None;
    let mut dry_run = false;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("multipart: {e}")))?
    {
        match field.name().unwrap_or("") {
            "file" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| AppError::bad_request(format!("multipart: {e}")))?
                {
                    if bytes.len() + chunk.len() > limit {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
            }
            name if name == csrf::FIELD => {
                submitted_csrf = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| AppError::bad_request(format!("multipart: {e}")))?,
                );
            }
            "dry_run" => dry_run = true,
            _ => {}
        }
    }
    csrf_token.verify(submitted_csrf.as_deref())?;
    let query = ListQuery::default();
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let mut errors = FormState::new(lang);
        errors.add("file", "field.import.file_required");
        return page_for(
            ctx,
            lang,
            csrf_token.value(),
            &query,
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let outcome = import::import(
        ctx,
        std::io::Cursor::new(bytes),
        ImportOptions { dry_run },
        &mut |_| {},
    )
    .await;
    match outcome {
        Ok(report) => {
            page_for(
                ctx,
                lang,
                csrf_token.value(),
                &query,
                Some(report),
                FormState::new(lang),
                StatusCode::OK,
            )
            .await
        }
        Err(import::ImportError::Database(e)) => Err(e),
        Err(e) => {
            let e: AppError = e.into();
            let mut errors = FormState::new(lang);
            for f in &e.fields {
                errors.add(&f.field, f.message_key);
            }
            page_for(
                ctx,
                lang,
                csrf_token.value(),
                &query,
                None,
                errors,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}
