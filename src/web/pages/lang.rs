//! The language switch in the header: a cookie for every visitor, and the member's preference
//! when logged in (it outranks the cookie, so it must follow the switch too).

use crate::{
    error::AppResult,
    federation::Data,
    i18n::Lang,
    service::profile,
    web::{
        auth::{self, MaybeUser},
        csrf::CsrfForm,
        pages::local_path,
    },
};
use axum::{
    Router,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new().route("/langue", post(http_post_lang))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LangForm {
    lang: String,
    next: String,
}

async fn http_post_lang(
    data: Data,
    MaybeUser(user): MaybeUser,
    CsrfForm(form): CsrfForm<LangForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let Some(lang) = Lang::parse(&form.lang) else {
        return Err(crate::error::AppError::field(
            "lang",
            "field.language.invalid",
        ));
    };
    if let Some(user) = &user {
        profile::set_language(ctx, user.id, Some(lang)).await?;
    }
    let target = local_path(&form.next).unwrap_or("/");
    let mut response = Redirect::to(target).into_response();
    auth::add_cookie(&mut response, auth::lang_cookie(ctx, lang));
    Ok(response)
}
