//! The home page.

use crate::{federation::Data, i18n::Lang};
use askama::Template;
use axum::{Router, response::Html, routing::get};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    lang: Lang,
    instance_name: &'a str,
}

pub fn routes() -> Router {
    Router::new().route("/", get(http_get_home))
}

async fn http_get_home(data: Data) -> crate::error::AppResult<Html<String>> {
    let ctx = data.app_data();
    let page = HomePage {
        lang: ctx.default_lang,
        instance_name: &ctx.config.instance.name,
    };
    Ok(Html(page.render().map_err(|e| {
        crate::error::AppError::internal(e.to_string())
    })?))
}
