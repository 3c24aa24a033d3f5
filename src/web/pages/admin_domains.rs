//! `/admin/domaines`: the blocked domains for administrators — the list (severity, public and
//! private comments, reports refused, date), a form to block a domain or change its block (a
//! `reject` is confirmed first, with what it cuts), and unblocking. The twin of
//! `/api/v1/admin/domain-blocks` and of `culturecnous domain`.

use crate::{
    db::domain_blocks::DbDomainBlock,
    error::{AppResult, ErrorKind, FieldErrors},
    federation::Data,
    i18n::Lang,
    service::domain_blocks::{self, BlockOptions, Severity},
    web::{
        auth::Admin,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{Path, Query},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub const PATH: &str = "/admin/domaines";

pub fn routes() -> Router {
    Router::new()
        .route(PATH, get(http_get_domains).post(http_post_domain))
        .route(
            "/admin/domaines/{domain}/debloquer",
            post(http_post_unblock),
        )
}

/// The i18n key describing a severity to administrators.
pub fn severity_key(severity: &str) -> &'static str {
    match severity {
        "reject" => "admin.domains.severity.reject",
        _ => "admin.domains.severity.silence",
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DomainForm {
    domain: String,
    severity: String,
    public_comment: String,
    private_comment: String,
    /// A checkbox: present when ticked.
    reject_reports: Option<String>,
    /// `1` once a `reject` was confirmed.
    confirm: String,
}

#[derive(Template)]
#[template(path = "admin/domains.html")]
struct DomainsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    blocks: &'a [DbDomainBlock],
    form: &'a DomainForm,
    errors: FormState,
}

#[derive(Template)]
#[template(path = "admin/domain_confirm.html")]
struct ConfirmPage<'a> {
    lang: Lang,
    csrf: &'a str,
    domain: &'a str,
    form: &'a DomainForm,
    deliveries: i64,
    follows: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EditQuery {
    /// Prefills the form with this block, to change it.
    domaine: Option<String>,
}

async fn http_get_domains(
    data: Data,
    PageLang(lang): PageLang,
    Admin(_user): Admin,
    csrf: CsrfToken,
    Query(query): Query<EditQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let blocks = domain_blocks::list(ctx).await?;
    let form = query
        .domaine
        .as_deref()
        .and_then(|d| blocks.iter().find(|b| b.domain == d))
        .map(|b| DomainForm {
            domain: b.domain.clone(),
            severity: b.severity.clone(),
            public_comment: b.public_comment.clone(),
            private_comment: b.reason.clone(),
            reject_reports: b.reject_reports.then(|| "1".to_string()),
            confirm: String::new(),
        })
        .unwrap_or_else(|| DomainForm {
            severity: Severity::Silence.as_str().to_string(),
            ..DomainForm::default()
        });
    render(&DomainsPage {
        lang,
        csrf: csrf.value(),
        blocks: &blocks,
        form: &form,
        errors: FormState::new(lang),
    })
}

async fn http_post_domain(
    data: Data,
    PageLang(lang): PageLang,
    Admin(user): Admin,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<DomainForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let severity = Severity::parse(form.severity.trim());
    let checked = domain_blocks::blockable(ctx, &form.domain);
    let mut errors = FieldErrors::default();
    if let Err(e) = &checked {
        errors.0.extend(e.fields.iter().cloned());
    }
    if severity.is_none() {
        errors.add("severity", "field.severity.invalid");
    }
    let (domain, severity) = match (checked, severity) {
        (Ok(domain), Some(severity)) => (domain, severity),
        _ => {
            return form_again(
                ctx,
                lang,
                &csrf,
                &form,
                FormState::from_fields(lang, &errors.0),
            )
            .await;
        }
    };
    if severity == Severity::Reject && form.confirm != "1" {
        let (deliveries, follows) = domain_blocks::reject_effects(ctx, &domain).await?;
        return render(&ConfirmPage {
            lang,
            csrf: csrf.value(),
            domain: &domain,
            form: &form,
            deliveries,
            follows,
        });
    }
    let options = BlockOptions {
        public_comment: form.public_comment.clone(),
        private_comment: form.private_comment.clone(),
        reject_reports: form.reject_reports.is_some(),
    };
    match domain_blocks::block_by(ctx, Some(&user.account), &domain, severity, &options).await {
        Ok(_) => Ok(redirect_with_flash(ctx, PATH, "flash.domain_blocked")),
        Err(e) if e.kind == ErrorKind::Validation => {
            form_again(ctx, lang, &csrf, &form, FormState::from_error(lang, &e)).await
        }
        Err(e) => Err(e),
    }
}

/// The page again, with the form as typed and what is wrong with it (422).
async fn form_again(
    ctx: &crate::context::AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    form: &DomainForm,
    errors: FormState,
) -> AppResult<Response> {
    let blocks = domain_blocks::list(ctx).await?;
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &DomainsPage {
            lang,
            csrf: csrf.value(),
            blocks: &blocks,
            form,
            errors,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmptyForm {}

async fn http_post_unblock(
    data: Data,
    Admin(user): Admin,
    Path(domain): Path<String>,
    CsrfForm(_form): CsrfForm<EmptyForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    if domain_blocks::normalize_domain(&domain).is_err() {
        return Err(crate::error::AppError::not_found());
    }
    domain_blocks::unblock_by(ctx, Some(&user.account), &domain)
        .await?
        .ok_or_else(crate::error::AppError::not_found)?;
    Ok(redirect_with_flash(ctx, PATH, "flash.domain_unblocked"))
}
