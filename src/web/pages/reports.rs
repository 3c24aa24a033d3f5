//! Reporting (`/signaler`): the one form behind every "Signaler" link (posts, announcements,
//! comments, profiles — local or kept from another server). Members submit directly; visitors
//! leave an address and are limited per client address and per address given. Every report
//! goes through `service::moderation::reports::submit`.

use crate::{
    db::accounts::DbAccount,
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    sanitize::SafeHtml,
    service::{
        login_limits,
        moderation::{
            Reason, ReportInput, Reporter,
            reports::{self, MAX_COMMENT_CHARS},
            targets::{self, Target},
        },
    },
    web::{
        auth::{ClientIp, MaybeUser},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, render, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Query,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use url::Url;

/// The report form.
pub const PATH: &str = "/signaler";
/// The page shown once a report is stored.
const SENT_PATH: &str = "/signaler/merci";

pub fn routes() -> Router {
    Router::new()
        .route(PATH, get(http_get_report).post(http_post_report))
        .route(SENT_PATH, get(http_get_sent))
}

/// The address of the report form for `target` (an ActivityPub id or a page URL): what the
/// "Signaler" links point to.
pub fn form_url(target: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("cible", target)
        .finish();
    format!("{PATH}?{query}")
}

/// One reason offered, as a radio button.
pub struct ReasonChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// One rule of the instance offered, as a checkbox.
pub struct RuleChoice {
    pub id: i64,
    pub text: String,
    pub checked: bool,
}

/// What the form shows of the reported object (as it is now).
pub struct TargetView {
    pub kind_label: &'static str,
    pub title: String,
    pub author_name: String,
    pub url: String,
    pub html: SafeHtml,
    pub remote: bool,
}

#[derive(Template)]
#[template(path = "reports/form.html")]
struct ReportPage<'a> {
    lang: Lang,
    csrf: &'a str,
    /// The URL reported, as given (sent back with the form).
    cible: &'a str,
    target: TargetView,
    reasons: Vec<ReasonChoice>,
    rules: Vec<RuleChoice>,
    comment: &'a str,
    email: &'a str,
    forward: bool,
    /// Not logged in: the address field is shown.
    visitor: bool,
    max_comment: usize,
    errors: FormState,
}

#[derive(Template)]
#[template(path = "reports/sent.html")]
struct SentPage {
    lang: Lang,
    visitor: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReportQuery {
    cible: String,
}

/// What was submitted (read from the form's pairs: rules are repeated checkboxes).
#[derive(Debug, Default)]
struct ReportForm {
    cible: String,
    reason: String,
    rule_ids: Vec<String>,
    comment: String,
    email: String,
    forward: bool,
}

impl ReportForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = ReportForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "cible" => form.cible = value,
                "reason" => form.reason = value,
                "rule_ids" => form.rule_ids.push(value),
                "comment" => form.comment = value,
                "email" => form.email = value,
                "forward" => form.forward = !value.is_empty(),
                _ => {}
            }
        }
        form
    }
}

fn unknown_target() -> AppError {
    AppError::new(
        ErrorKind::NotFound,
        "target: nothing here is known by this URL",
    )
    .with_message("moderation.report.unknown_target")
}

/// The object named by `cible`, or a 404 (also for what the viewer cannot see here: a
/// draft, something deleted or hidden).
async fn target_of(data: &Data, cible: &str, viewer: Option<&DbAccount>) -> AppResult<Target> {
    let url = Url::parse(cible.trim()).map_err(|_| unknown_target())?;
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let target = targets::find(ctx, &mut conn, &url)
        .await?
        .ok_or_else(unknown_target)?;
    if !reports::visible_to(&mut conn, &target, viewer).await? {
        return Err(unknown_target());
    }
    Ok(target)
}

fn target_view(target: &Target) -> TargetView {
    use crate::service::moderation::TargetKind;
    TargetView {
        kind_label: match target.kind {
            TargetKind::Actor => "report.kind.actor",
            TargetKind::Post => "report.kind.post",
            TargetKind::Comment => "report.kind.comment",
            TargetKind::Venue => "report.kind.venue",
            TargetKind::Offer => "report.kind.offer",
            TargetKind::Resource => "report.kind.resource",
        },
        title: target.snapshot.title.clone(),
        author_name: target.snapshot.author_name.clone(),
        url: target.snapshot.url.clone(),
        html: SafeHtml::from_trusted_storage(target.snapshot.html.clone()),
        remote: !target.local,
    }
}

/// The form, empty or as submitted, with `errors`.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    data: &Data,
    lang: Lang,
    csrf: &str,
    target: &Target,
    form: &ReportForm,
    visitor: bool,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let current = {
        let mut conn = ctx.conn().await?;
        crate::db::rules::current(&mut conn).await?
    };
    let reasons = Reason::ALL
        .iter()
        .map(|r| ReasonChoice {
            value: r.as_str(),
            label: lang.t(r.label_key()),
            checked: form.reason == r.as_str(),
        })
        .collect();
    let rules = current
        .iter()
        .map(|r| RuleChoice {
            id: r.id,
            text: r.text(lang.code()).to_string(),
            checked: form.rule_ids.iter().any(|id| *id == r.id.to_string()),
        })
        .collect();
    render_status(
        status,
        &ReportPage {
            lang,
            csrf,
            cible: &form.cible,
            target: target_view(target),
            reasons,
            rules,
            comment: &form.comment,
            email: &form.email,
            forward: form.forward,
            visitor,
            max_comment: MAX_COMMENT_CHARS,
            errors,
        },
    )
}

async fn http_get_report(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Query(query): Query<ReportQuery>,
) -> AppResult<Response> {
    let target = target_of(&data, &query.cible, user.as_ref().map(|u| &u.account)).await?;
    let form = ReportForm {
        cible: query.cible.trim().to_string(),
        ..ReportForm::default()
    };
    form_page(
        &data,
        lang,
        csrf.value(),
        &target,
        &form,
        user.is_none(),
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

/// The fields' own problems, all at once (the service checks them again).
fn check_fields(form: &ReportForm, visitor: bool, errors: &mut FormState) -> Option<Reason> {
    let reason = Reason::parse(form.reason.trim());
    if form.reason.trim().is_empty() {
        errors.add("reason", "field.required");
    } else if reason.is_none() {
        errors.add("reason", "field.reason.unknown");
    }
    if form.rule_ids.iter().any(|id| id.parse::<i64>().is_err()) {
        errors.add("rule_ids", "field.rule.unknown");
    }
    if form.comment.trim().chars().count() > MAX_COMMENT_CHARS {
        errors.add("comment", "field.too_long");
    }
    if visitor {
        let email = form.email.trim();
        if email.is_empty() {
            errors.add("email", "field.required");
        } else if !crate::service::accounts::email_looks_valid(email) {
            errors.add("email", "field.email.invalid");
        }
    }
    reason
}

async fn http_post_report(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let form = ReportForm::from_pairs(pairs);
    let target = target_of(&data, &form.cible, user.as_ref().map(|u| &u.account)).await?;
    let visitor = user.is_none();
    let again = |errors: FormState, status: StatusCode| {
        form_page(
            &data,
            lang,
            csrf.value(),
            &target,
            &form,
            visitor,
            errors,
            status,
        )
    };
    let mut errors = FormState::new(lang);
    let reason = check_fields(&form, visitor, &mut errors);
    let Some(reason) = reason.filter(|_| errors.is_empty()) else {
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if visitor
        && let Some(limited) = login_limits::check_visitor_report(ctx, &ip, &form.email).await?
    {
        let mut response = again(
            FormState::new(lang).with_general("report.rate_limited"),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await?;
        if let Ok(value) = HeaderValue::from_str(&limited.retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let input = ReportInput {
        reporter: match &user {
            Some(u) => Reporter::Member(Box::new(u.account.clone())),
            None => Reporter::Visitor {
                email: form.email.trim().to_string(),
            },
        },
        targets: vec![Url::parse(form.cible.trim()).map_err(|_| unknown_target())?],
        reason,
        rule_ids: form
            .rule_ids
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect(),
        comment: form.comment.clone(),
        forward: form.forward,
    };
    let email = form.email.trim().to_string();
    let mut conn = ctx.conn().await?;
    let stored = conn
        .transaction::<_, AppError, _>(async |conn| {
            let submitted = reports::submit(ctx, conn, input).await?;
            if visitor {
                login_limits::record_visitor_report(conn, &ip, &email).await?;
            }
            Ok(submitted)
        })
        .await;
    drop(conn);
    match stored {
        Ok(_) => Ok(Redirect::to(SENT_PATH).into_response()),
        Err(e) if e.kind == ErrorKind::Validation => {
            again(
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) if e.kind == ErrorKind::Conflict => {
            again(FormState::from_error(lang, &e), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

async fn http_get_sent(
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    render(&SentPage {
        lang,
        visitor: user.is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_url_encodes_the_target() {
        assert_eq!(
            form_url("http://localhost:8080/posts/3#comment-4"),
            "/signaler?cible=http%3A%2F%2Flocalhost%3A8080%2Fposts%2F3%23comment-4"
        );
    }

    #[test]
    fn reads_repeated_rules() {
        let form = ReportForm::from_pairs(vec![
            ("cible".into(), "http://x/1".into()),
            ("rule_ids".into(), "1".into()),
            ("rule_ids".into(), "3".into()),
            ("forward".into(), "1".into()),
        ]);
        assert_eq!(form.rule_ids, vec!["1", "3"]);
        assert!(form.forward);
        let mut errors = FormState::new(Lang::Fr);
        assert_eq!(check_fields(&form, true, &mut errors), None);
        assert!(errors.has("reason"));
        assert!(errors.has("email"));
        assert!(!errors.has("rule_ids"));
    }
}
