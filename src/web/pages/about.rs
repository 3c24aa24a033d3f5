//! `/a-propos`: what the instance is, its rules, how moderation works, and the public list of
//! moderated servers (domain, measure, public comment — never the private one).

use crate::{
    db::{domain_blocks::DbDomainBlock, rules::DbRule},
    error::AppResult,
    federation::Data,
    i18n::Lang,
    service::{domain_blocks, moderation::rules},
    web::pages::{PageLang, render},
};
use askama::Template;
use axum::{Router, response::Response, routing::get};

pub const PATH: &str = "/a-propos";

pub fn routes() -> Router {
    Router::new().route(PATH, get(http_get_about))
}

/// The i18n key describing a severity to the public, in plain words.
pub fn public_severity_key(severity: &str) -> &'static str {
    match severity {
        "reject" => "about.severity.reject",
        _ => "about.severity.silence",
    }
}

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage<'a> {
    lang: Lang,
    name: &'a str,
    rules: &'a [DbRule],
    blocks: &'a [DbDomainBlock],
}

async fn http_get_about(data: Data, PageLang(lang): PageLang) -> AppResult<Response> {
    let ctx = data.app_data();
    let current = rules::current(ctx).await?;
    let blocks = domain_blocks::list(ctx).await?;
    render(&AboutPage {
        lang,
        name: &ctx.config.instance.name,
        rules: &current,
        blocks: &blocks,
    })
}
