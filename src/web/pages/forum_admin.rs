//! Staff's management of the forum's categories: create (`/forum/nouvelle-categorie`), edit
//! name and description, order, and choose each category's moderators
//! (`/forum/{slug}/modifier`). Anyone else: 403 (the rules are in
//! `service::forum::categories`).

use super::forum::{actor_label, actor_link};
use crate::{
    context::AppContext,
    error::{AppError, AppResult},
    federation::Data,
    i18n::Lang,
    service::forum::categories::{self, CategoryInput, Direction},
    web::{
        auth::CurrentUser,
        csrf::CsrfForm,
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
            "/forum/nouvelle-categorie",
            get(http_get_new).post(http_post_new),
        )
        .route(
            "/forum/{slug}/modifier",
            get(http_get_edit).post(http_post_edit),
        )
        .route("/forum/{slug}/ordre", post(http_post_order))
        .route("/forum/{slug}/moderateurs", post(http_post_add_moderator))
        .route(
            "/forum/{slug}/moderateurs/{actor}/retirer",
            post(http_post_remove_moderator),
        )
}

fn require_staff(user: &CurrentUser) -> AppResult<()> {
    if crate::service::accounts::is_staff(&user.account) {
        Ok(())
    } else {
        Err(
            AppError::forbidden("only staff manage the forum's categories")
                .with_message("forum.error.staff_only"),
        )
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
struct CategoryForm {
    name: String,
    description: String,
    slug: String,
}

impl CategoryForm {
    fn input(&self) -> CategoryInput {
        CategoryInput {
            name: self.name.clone(),
            description: self.description.clone(),
            slug: self.slug.clone(),
        }
    }
}

struct ModeratorRow {
    name: String,
    url: String,
    remove_action: String,
}

#[derive(Template)]
#[template(path = "forum/category_form.html")]
struct CategoryFormPage<'a> {
    lang: Lang,
    csrf: &'a str,
    heading: String,
    action: String,
    /// New category: the slug can be chosen.
    creating: bool,
    form: CategoryForm,
    errors: FormState,
    /// Editing: the category's address and its moderators.
    slug: String,
    moderators: Vec<ModeratorRow>,
    moderator_errors: FormState,
    moderator_value: String,
}

async fn http_get_new(PageLang(lang): PageLang, user: CurrentUser) -> AppResult<Response> {
    require_staff(&user)?;
    render_status(
        StatusCode::OK,
        &CategoryFormPage {
            lang,
            csrf: &user.csrf_token,
            heading: lang.t("forum.new_category").to_string(),
            action: "/forum/nouvelle-categorie".into(),
            creating: true,
            form: CategoryForm::default(),
            errors: FormState::new(lang),
            slug: String::new(),
            moderators: Vec::new(),
            moderator_errors: FormState::new(lang),
            moderator_value: String::new(),
        },
    )
}

async fn http_post_new(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match categories::create(ctx, &user.account, form.input()).await {
        Ok(category) => Ok(redirect_with_flash(
            ctx,
            &format!("/forum/{}", category.slug),
            "flash.forum.category_created",
        )),
        Err(e) if !e.fields.is_empty() => render_status(
            e.status(),
            &CategoryFormPage {
                lang,
                csrf: &user.csrf_token,
                heading: lang.t("forum.new_category").to_string(),
                action: "/forum/nouvelle-categorie".into(),
                creating: true,
                form,
                errors: FormState::from_error(lang, &e),
                slug: String::new(),
                moderators: Vec::new(),
                moderator_errors: FormState::new(lang),
                moderator_value: String::new(),
            },
        ),
        Err(e) => Err(e),
    }
}

/// The edit page, with `form` as typed (or the category as stored) and errors.
#[allow(clippy::too_many_arguments)]
async fn edit_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    slug: &str,
    form: Option<CategoryForm>,
    errors: FormState,
    moderator_errors: FormState,
    moderator_value: String,
    status: StatusCode,
) -> AppResult<Response> {
    require_staff(user)?;
    let mut conn = ctx.conn().await?;
    let (category, _) = categories::by_slug(&mut conn, slug).await?;
    let moderators = categories::moderators(&mut conn, &category)
        .await?
        .iter()
        .map(|a| ModeratorRow {
            name: actor_label(a),
            url: actor_link(a),
            remove_action: format!("/forum/{}/moderateurs/{}/retirer", category.slug, a.id),
        })
        .collect();
    let form = form.unwrap_or_else(|| CategoryForm {
        name: category.name.clone(),
        description: category.description_markdown.clone(),
        slug: category.slug.clone(),
    });
    render_status(
        status,
        &CategoryFormPage {
            lang,
            csrf: &user.csrf_token,
            heading: format!("{} · {}", lang.t("forum.edit_category"), category.name),
            action: format!("/forum/{}/modifier", category.slug),
            creating: false,
            form,
            errors,
            slug: category.slug.clone(),
            moderators,
            moderator_errors,
            moderator_value,
        },
    )
}

async fn http_get_edit(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    edit_page(
        data.app_data(),
        lang,
        &user,
        &slug,
        None,
        FormState::new(lang),
        FormState::new(lang),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn http_post_edit(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match categories::edit(ctx, &user.account, &slug, form.input()).await {
        Ok(category) => Ok(redirect_with_flash(
            ctx,
            &format!("/forum/{}", category.slug),
            "flash.forum.category_edited",
        )),
        Err(e) if !e.fields.is_empty() => {
            let status = e.status();
            edit_page(
                ctx,
                lang,
                &user,
                &slug,
                Some(form),
                FormState::from_error(lang, &e),
                FormState::new(lang),
                String::new(),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OrderForm {
    /// `up` or `down`.
    direction: String,
}

async fn http_post_order(
    data: Data,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<OrderForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let direction = match form.direction.as_str() {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => return Err(AppError::field("direction", "forum.field.unknown_action")),
    };
    categories::reorder(ctx, &user.account, &slug, direction).await?;
    Ok(redirect_with_flash(
        ctx,
        "/forum",
        "flash.forum.category_moved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ModeratorForm {
    username: String,
}

async fn http_post_add_moderator(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ModeratorForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match categories::add_moderator(ctx, &user.account, &slug, &form.username).await {
        Ok(_) => Ok(redirect_with_flash(
            ctx,
            &format!("/forum/{slug}/modifier"),
            "flash.forum.moderator_added",
        )),
        Err(e) if !e.fields.is_empty() => {
            let status = e.status();
            edit_page(
                ctx,
                lang,
                &user,
                &slug,
                None,
                FormState::new(lang),
                FormState::from_error(lang, &e),
                form.username,
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn http_post_remove_moderator(
    data: Data,
    user: CurrentUser,
    Path((slug, actor)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let actor: i64 = actor.parse().map_err(|_| AppError::not_found())?;
    categories::remove_moderator(ctx, &user.account, &slug, actor).await?;
    Ok(redirect_with_flash(
        ctx,
        &format!("/forum/{slug}/modifier"),
        "flash.forum.moderator_removed",
    ))
}
