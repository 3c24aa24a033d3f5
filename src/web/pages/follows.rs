//! "Suivre un compte du fédivers" (`/suivre`): follow an account elsewhere by handle or URL,
//! see where each request stands, unfollow. The rules live in `service::follows`, shared with
//! `POST /api/v1/follows` and the inbox.

use crate::{
    error::{AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::follows::{self, FollowState, FollowingEntry},
    web::{
        auth::CurrentUser,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

/// How many follows the page lists.
const LIST_LIMIT: i64 = 200;

pub fn routes() -> Router {
    Router::new()
        .route("/suivre", get(http_get_follows).post(http_post_follow))
        .route("/suivre/arreter", post(http_post_unfollow))
}

struct Row {
    ap_id: String,
    handle: String,
    name: String,
    url: Option<String>,
    state_key: &'static str,
}

impl From<FollowingEntry> for Row {
    fn from(e: FollowingEntry) -> Row {
        Row {
            state_key: match e.state {
                FollowState::Pending => "follows.state.pending",
                FollowState::Accepted => "follows.state.accepted",
                FollowState::Rejected => "follows.state.rejected",
            },
            ap_id: e.ap_id,
            handle: e.handle,
            name: e.name,
            url: e
                .url
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        }
    }
}

#[derive(Template)]
#[template(path = "follows/index.html")]
struct FollowsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    target: &'a str,
    errors: FormState,
    following: Vec<Row>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TargetForm {
    target: String,
}

async fn page(
    data: &Data,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    target: &str,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let following = follows::list_following(data.app_data(), &user.account, LIST_LIMIT)
        .await?
        .into_iter()
        .map(Row::from)
        .collect();
    render_status(
        status,
        &FollowsPage {
            lang,
            csrf: csrf.value(),
            target,
            errors,
            following,
        },
    )
}

async fn http_get_follows(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    page(
        &data,
        lang,
        &user,
        &csrf,
        "",
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_follow(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<TargetForm>,
) -> AppResult<Response> {
    match follows::request_follow(&data, &user.account, &form.target).await {
        Ok(state) => {
            let key = match state {
                FollowState::Pending => "flash.follow_pending",
                FollowState::Accepted => "flash.follow_accepted",
                FollowState::Rejected => "flash.follow_rejected",
            };
            Ok(redirect_with_flash(data.app_data(), "/suivre", key))
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            page(
                &data,
                lang,
                &user,
                &csrf,
                &form.target,
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn http_post_unfollow(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<TargetForm>,
) -> AppResult<Response> {
    match follows::unfollow(&data, &user.account, &form.target).await {
        Ok(()) => Ok(redirect_with_flash(
            data.app_data(),
            "/suivre",
            "flash.unfollowed",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            page(
                &data,
                lang,
                &user,
                &csrf,
                "",
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
