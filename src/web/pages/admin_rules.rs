//! `/admin/regles`: the instance's rules for administrators — add, edit (French and English
//! texts), move up or down, withdraw. The twin of `/api/v1/admin/rules`.

use crate::{
    db::rules::DbRule,
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::moderation::rules::{self, RuleInput},
    web::{
        auth::Admin,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render, render_status},
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

pub const PATH: &str = "/admin/regles";

pub fn routes() -> Router {
    Router::new()
        .route(PATH, get(http_get_rules).post(http_post_rule))
        .route(
            "/admin/regles/{id}",
            get(http_get_rule).post(http_post_edit),
        )
        .route("/admin/regles/{id}/deplacer", post(http_post_move))
        .route("/admin/regles/{id}/retirer", post(http_post_withdraw))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RuleForm {
    text_fr: String,
    text_en: String,
}

impl RuleForm {
    fn input(&self) -> RuleInput {
        RuleInput {
            text_fr: self.text_fr.clone(),
            text_en: self.text_en.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/rules.html")]
struct RulesPage<'a> {
    lang: Lang,
    csrf: &'a str,
    rules: &'a [DbRule],
    form: &'a RuleForm,
    errors: FormState,
}

#[derive(Template)]
#[template(path = "admin/rule_edit.html")]
struct EditPage<'a> {
    lang: Lang,
    csrf: &'a str,
    id: i64,
    number: usize,
    form: &'a RuleForm,
    errors: FormState,
}

fn rule_id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::not_found())
}

async fn rules_page(
    data: &Data,
    lang: Lang,
    csrf: &CsrfToken,
    status: StatusCode,
    form: &RuleForm,
    errors: FormState,
) -> AppResult<Response> {
    let current = rules::current(data.app_data()).await?;
    render_status(
        status,
        &RulesPage {
            lang,
            csrf: csrf.value(),
            rules: &current,
            form,
            errors,
        },
    )
}

async fn http_get_rules(
    data: Data,
    PageLang(lang): PageLang,
    Admin(_user): Admin,
    csrf: CsrfToken,
) -> AppResult<Response> {
    rules_page(
        &data,
        lang,
        &csrf,
        StatusCode::OK,
        &RuleForm::default(),
        FormState::new(lang),
    )
    .await
}

async fn http_post_rule(
    data: Data,
    PageLang(lang): PageLang,
    Admin(user): Admin,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match rules::create(ctx, &user.account, &form.input()).await {
        Ok(rule) => Ok(redirect_with_flash(
            ctx,
            &format!("{PATH}#regle-{}", rule.id),
            "flash.rule_created",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            let errors = FormState::from_error(lang, &e);
            rules_page(
                &data,
                lang,
                &csrf,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The rule in force with this id and its number (404 otherwise).
async fn in_force(data: &Data, id: i64) -> AppResult<(DbRule, usize)> {
    let current = rules::current(data.app_data()).await?;
    let number = rules::number_of(&current, id).ok_or_else(AppError::not_found)?;
    let rule = current
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(AppError::not_found)?;
    Ok((rule, number))
}

async fn http_get_rule(
    data: Data,
    PageLang(lang): PageLang,
    Admin(_user): Admin,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = rule_id(&id)?;
    let (rule, number) = in_force(&data, id).await?;
    render(&EditPage {
        lang,
        csrf: csrf.value(),
        id,
        number,
        form: &RuleForm {
            text_fr: rule.text_fr,
            text_en: rule.text_en,
        },
        errors: FormState::new(lang),
    })
}

async fn http_post_edit(
    data: Data,
    PageLang(lang): PageLang,
    Admin(user): Admin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = rule_id(&id)?;
    match rules::update(ctx, &user.account, id, &form.input()).await {
        Ok(rule) => Ok(redirect_with_flash(
            ctx,
            &format!("{PATH}#regle-{}", rule.id),
            "flash.rule_updated",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            let (_, number) = in_force(&data, id).await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &EditPage {
                    lang,
                    csrf: csrf.value(),
                    id,
                    number,
                    form: &form,
                    errors: FormState::from_error(lang, &e),
                },
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MoveForm {
    position: String,
}

async fn http_post_move(
    data: Data,
    Admin(user): Admin,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = rule_id(&id)?;
    let position: i64 = form
        .position
        .trim()
        .parse()
        .map_err(|_| AppError::field("position", "field.rule_position.invalid"))?;
    let rule = rules::move_to(ctx, &user.account, id, position).await?;
    Ok(redirect_with_flash(
        ctx,
        &format!("{PATH}#regle-{}", rule.id),
        "flash.rule_moved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmptyForm {}

async fn http_post_withdraw(
    data: Data,
    Admin(user): Admin,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm<EmptyForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    rules::withdraw(ctx, &user.account, rule_id(&id)?).await?;
    Ok(redirect_with_flash(ctx, PATH, "flash.rule_withdrawn"))
}
