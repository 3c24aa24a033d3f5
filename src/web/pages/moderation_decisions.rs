//! Moderators' decisions on the web: the decision form's handler of the report page, the
//! author's statement-of-reasons page with its appeal form, the "J'ai lu" of the notice,
//! the moderators' answer to an appeal and their reversal of a hidden item.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::moderation::{
        self, ActionKind,
        decisions::{self, Statement},
    },
    urls::{admin_report_path, decision_path},
    web::{
        api::moderation_decisions::input_from,
        auth::{CurrentUser, MaybeUser, Moderator, login_redirect_to},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, layout::redirect_with_flash, local_path, render, render_status},
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
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/admin/signalements/{id}/decision",
            post(http_post_decision),
        )
        .route("/decisions/{id}", get(http_get_decision))
        .route("/decisions/{id}/recours", post(http_post_appeal))
        .route(
            "/decisions/{id}/recours/reponse",
            post(http_post_appeal_answer),
        )
        .route("/decisions/{id}/lu", post(http_post_acknowledge))
        .route("/admin/decisions/{id}/retablir", post(http_post_unhide))
}

fn when(lang: Lang, at: DateTime<Utc>) -> String {
    match lang {
        Lang::Fr => at.format("%d/%m/%Y %H:%M UTC").to_string(),
        Lang::En => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

#[derive(Template)]
#[template(path = "moderation/conflict.html")]
struct ConflictPage<'a> {
    lang: Lang,
    message: String,
    back: &'a str,
}

/// `POST /admin/signalements/{id}/decision`: fields `action`, `statement`, `rule_ids`
/// (repeated), `note`, `send_outcome`. Back to the report page with a flash message; 422
/// naming the field; 409 saying who resolved it first and when.
async fn http_post_decision(
    data: Data,
    PageLang(lang): PageLang,
    Moderator(user): Moderator,
    Path(id): Path<i64>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut rule_ids = Vec::new();
    for (k, v) in &fields {
        if (k == "rule_ids" || k == "rule_ids[]") && !v.trim().is_empty() {
            rule_ids.push(
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| AppError::field("rule_ids", "field.rule.unknown"))?,
            );
        }
    }
    let send_outcome = matches!(field("send_outcome").as_str(), "on" | "true" | "1");
    let input = input_from(
        &field("action"),
        field("statement"),
        rule_ids,
        field("note"),
        send_outcome,
    )?;
    let back = admin_report_path(id);
    match moderation::resolve(ctx, &user.account, id, input).await {
        Ok(_) => Ok(redirect_with_flash(ctx, &back, "flash.report_resolved")),
        Err(e) if e.kind == ErrorKind::Conflict => {
            let message = conflict_message(ctx, lang, id).await?;
            render_status(
                StatusCode::CONFLICT,
                &ConflictPage {
                    lang,
                    message,
                    back: &back,
                },
            )
        }
        Err(e) => Err(e),
    }
}

/// "Ce signalement a déjà été traité par X le …".
async fn conflict_message(
    ctx: &crate::context::AppContext,
    lang: Lang,
    id: i64,
) -> AppResult<String> {
    let mut conn = ctx.conn().await?;
    let report = crate::db::reports::by_id(&mut conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let who = match report.resolved_by {
        Some(account) => {
            crate::db::accounts::by_id(&mut conn, account)
                .await?
                .username
        }
        None => "?".to_string(),
    };
    let outcome = crate::service::moderation::outcome_label(&report, lang);
    Ok(lang
        .t("moderation.resolve.already_resolved_by")
        .replace("{who}", &who)
        .replace(
            "{when}",
            &report
                .resolved_at
                .map(|t| when(lang, t))
                .unwrap_or_default(),
        )
        .replace("{outcome}", outcome))
}

#[derive(Template)]
#[template(path = "moderation/decision.html")]
struct DecisionPage<'a> {
    lang: Lang,
    csrf: &'a str,
    s: &'a Statement,
    iso: String,
    when: String,
    title: String,
    excerpt: String,
    paragraphs: Vec<&'a str>,
    rules: Vec<String>,
    mine: bool,
    moderator: bool,
    can_unhide: bool,
    appeal_sent: String,
    appeal_state_key: &'static str,
    /// The key of a suspended author's appeal link (sent back with the appeal).
    key: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KeyQuery {
    cle: String,
}

/// Who reads decision `id`: the logged-in account, else the account a suspended author's
/// appeal link names (`None`: 404, as for anyone else).
async fn reader(
    ctx: &crate::context::AppContext,
    user: Option<CurrentUser>,
    id: i64,
    key: &str,
) -> AppResult<(crate::db::accounts::DbAccount, bool)> {
    if let Some(user) = user {
        let moderator = user.is_moderator();
        return Ok((user.account, moderator));
    }
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::not_found());
    }
    match decisions::account_for_key(ctx, id, key).await? {
        Some(account) => Ok((account, false)),
        None => Err(AppError::not_found()),
    }
}

/// `GET /decisions/{id}`: the statement of reasons, for the account it concerns (and the
/// moderators); 404 for anyone else.
async fn http_get_decision(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    Query(query): Query<KeyQuery>,
) -> AppResult<Response> {
    if user.is_none() && query.cle.is_empty() {
        // The author follows the mailed link while logged out: log in first.
        return Ok(login_redirect_to(&decision_path(id)));
    }
    let (account, moderator) = reader(data.app_data(), user, id, &query.cle).await?;
    let s = decisions::view(data.app_data(), &account, id).await?;
    let (appeal_sent, appeal_state_key) = match &s.appeal {
        Some(a) => (
            lang.t("moderation.appeal.sent")
                .replace("{date}", &when(lang, a.created_at)),
            match a.state.as_str() {
                "granted" => "moderation.appeal.state.granted",
                "rejected" => "moderation.appeal.state.rejected",
                _ => "moderation.appeal.state.open",
            },
        ),
        None => (String::new(), "moderation.appeal.state.open"),
    };
    render(&DecisionPage {
        lang,
        csrf: csrf.value(),
        iso: s.entry.created_at.to_rfc3339(),
        when: when(lang, s.entry.created_at),
        title: s.title(),
        excerpt: s.excerpt(),
        paragraphs: s
            .entry
            .statement
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect(),
        rules: s.rule_texts(lang),
        mine: s.account_id == Some(account.id),
        moderator,
        can_unhide: s.kind == ActionKind::Hide && s.entry.reverted_at.is_none(),
        appeal_sent,
        appeal_state_key,
        key: query.cle.clone(),
        s: &s,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppealForm {
    text: String,
    /// A suspended author's appeal link key.
    cle: String,
}

/// `POST /decisions/{id}/recours`: the author's one appeal (a second one: 409).
async fn http_post_appeal(
    data: Data,
    MaybeUser(user): MaybeUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AppealForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (account, _) = reader(ctx, user, id, &form.cle).await?;
    decisions::appeal(ctx, &account, id, &form.text).await?;
    let back = if form.cle.is_empty() {
        decision_path(id)
    } else {
        format!("{}?cle={}", decision_path(id), form.cle)
    };
    Ok(redirect_with_flash(ctx, &back, "flash.appeal_sent"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnswerForm {
    outcome: String,
    decision_text: String,
}

/// `POST /decisions/{id}/recours/reponse`: a moderator grants or rejects the appeal.
async fn http_post_appeal_answer(
    data: Data,
    Moderator(user): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let grant = match form.outcome.as_str() {
        "grant" => true,
        "reject" => false,
        _ => return Err(AppError::field("outcome", "field.action.invalid")),
    };
    decisions::decide_appeal(ctx, &user.account, id, grant, &form.decision_text).await?;
    Ok(redirect_with_flash(
        ctx,
        &decision_path(id),
        "flash.appeal_decided",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AckForm {
    next: String,
}

/// `POST /decisions/{id}/lu`: the author acknowledges the notice; back where they were.
async fn http_post_acknowledge(
    data: Data,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AckForm>,
) -> AppResult<Response> {
    decisions::acknowledge(data.app_data(), &user.account, id).await?;
    let to = local_path(&form.next).unwrap_or("/");
    Ok(redirect_with_flash(
        data.app_data(),
        to,
        "flash.decision_acknowledged",
    ))
}

/// `POST /admin/decisions/{id}/retablir`: a moderator shows hidden content again.
async fn http_post_unhide(
    data: Data,
    Moderator(user): Moderator,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<AckForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    decisions::unhide(ctx, &user.account, id).await?;
    Ok(redirect_with_flash(
        ctx,
        &decision_path(id),
        "flash.content_unhidden",
    ))
}
