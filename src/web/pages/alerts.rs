//! Settings: the member's announcement alerts (`/parametres/alertes`). Lists them with a
//! delete button each and a form to add one; the « M'alerter pour cette recherche » form of
//! `/annonces` posts here too. The rules live in `service::alerts`, shared with
//! `/api/v1/alerts`.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        alerts::{self, Alert, AlertInput, AlertKind, AlertMail},
        communes::{self, Commune},
    },
    web::{
        auth::CurrentUser,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/parametres/alertes",
            get(http_get_alerts).post(http_post_alert),
        )
        .route(
            "/parametres/alertes/{id}/supprimer",
            post(http_post_delete_alert),
        )
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// The kind choices of the forms.
pub fn kind_choices(lang: Lang) -> Vec<Choice> {
    AlertKind::all()
        .map(|k| Choice {
            value: k.as_str(),
            label: lang.t(k.label_key()),
        })
        .collect()
}

/// The mail choices of the forms, "at once" first.
pub fn mail_choices(lang: Lang) -> Vec<Choice> {
    AlertMail::ALL
        .into_iter()
        .map(|m| Choice {
            value: m.as_str(),
            label: lang.t(m.label_key()),
        })
        .collect()
}

struct AlertRow {
    id: i64,
    /// "Résidence · théâtre, danse · Épinal (88)", or "Toutes les annonces".
    summary: String,
    mail: &'static str,
}

fn row(lang: Lang, alert: &Alert) -> AlertRow {
    let mut parts = Vec::new();
    if let Some(kind) = alert.kind {
        parts.push(lang.t(kind.label_key()).to_string());
    }
    if !alert.disciplines.is_empty() {
        parts.push(alert.disciplines.join(", "));
    }
    if let Some(c) = alert.commune {
        parts.push(c.label());
    }
    let summary = if parts.is_empty() {
        lang.t("alerts.every_announcement").to_string()
    } else {
        parts.join(" · ")
    };
    AlertRow {
        id: alert.id,
        summary,
        mail: lang.t(alert.mail.label_key()),
    }
}

#[derive(Template)]
#[template(path = "settings/alerts.html")]
struct AlertsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    alerts: Vec<AlertRow>,
    max_alerts: i64,
    kinds: Vec<Choice>,
    mails: Vec<Choice>,
    communes: Vec<&'static Commune>,
    form: &'a AlertForm,
    errors: FormState,
}

/// The fields of both forms (this page's and the one of `/annonces`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlertForm {
    kind: String,
    /// Comma-separated.
    disciplines: String,
    commune: String,
    mail: String,
}

impl AlertForm {
    fn input(&self) -> AlertInput {
        AlertInput {
            kind: Some(self.kind.clone()),
            disciplines: vec![self.disciplines.clone()],
            commune: Some(self.commune.clone()),
            mail: self.mail.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn page_with(
    data: &Data,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    form: &AlertForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let alerts = alerts::list(data.app_data(), &user.account)
        .await?
        .iter()
        .map(|a| row(lang, a))
        .collect();
    render_status(
        status,
        &AlertsPage {
            lang,
            csrf: csrf.value(),
            alerts,
            max_alerts: alerts::MAX_ALERTS_PER_MEMBER,
            kinds: kind_choices(lang),
            mails: mail_choices(lang),
            communes: communes::in_departement(&data.app_data().config.instance.departement),
            form,
            errors,
        },
    )
}

async fn http_get_alerts(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    let form = AlertForm {
        mail: AlertMail::Instant.as_str().to_string(),
        ..AlertForm::default()
    };
    page_with(
        &data,
        lang,
        &user,
        &csrf,
        &form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

/// Saves an alert and goes back to the list; a refused filter shows the page again with the
/// fields at fault named and the values kept.
async fn http_post_alert(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<AlertForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match alerts::create(ctx, &user.account, &form.input()).await {
        Ok(_) => Ok(redirect_with_flash(
            ctx,
            "/parametres/alertes",
            "flash.alert_created",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            let errors = FormState::from_error(lang, &e);
            page_with(
                &data,
                lang,
                &user,
                &csrf,
                &form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Deletes one of the member's alerts; someone else's (or an unknown id) is a 404.
async fn http_post_delete_alert(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    alerts::delete(ctx, &user.account, id).await?;
    Ok(redirect_with_flash(
        ctx,
        "/parametres/alertes",
        "flash.alert_deleted",
    ))
}
