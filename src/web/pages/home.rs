//! The home page: what the platform is, and where to start.

use crate::{
    error::AppResult,
    federation::Data,
    i18n::Lang,
    web::{
        auth::MaybeUser,
        pages::{PageLang, render},
    },
};
use askama::Template;
use axum::{Router, response::Response, routing::get};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    lang: Lang,
    instance_name: &'a str,
    /// Username of the logged-in member.
    username: Option<&'a str>,
    registration_open: bool,
}

pub fn routes() -> Router {
    Router::new().route("/", get(http_get_home))
}

async fn http_get_home(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    let ctx = data.app_data();
    render(&HomePage {
        lang,
        instance_name: &ctx.config.instance.name,
        username: user.as_ref().map(|u| u.username.as_str()),
        registration_open: ctx.config.registration.open,
    })
}
