//! The home page: what the platform is, and where to start.

use crate::{
    db::posts::Listing,
    error::AppResult,
    federation::Data,
    i18n::Lang,
    web::{
        auth::MaybeUser,
        pages::{
            PageLang,
            feeds::{HeadMeta, feed_links},
            news::{self, NewsItem},
            render,
        },
    },
};

/// Actualités shown on the home page.
const HOME_NEWS: i64 = 3;
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
    /// Open Graph and the Actualités feeds for `<head>`.
    head: HeadMeta,
    /// The latest Actualités.
    latest: Vec<NewsItem>,
    /// `instance.page_actor`: the département's page is `/users/{page_actor}`.
    page_actor: &'a str,
    /// `@annonces@host`: the fediverse channel of every new announcement.
    channel_handle: String,
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
    let latest = news::latest(ctx, lang, Listing::News, HOME_NEWS).await?;
    let head = HeadMeta::page(
        ctx,
        "website",
        &ctx.config.instance.name,
        lang.t("home.tagline"),
        "/",
    )
    .with_feeds(feed_links(lang.t("news.title"), "/actualites", ""));
    render(&HomePage {
        lang,
        instance_name: &ctx.config.instance.name,
        username: user.as_ref().map(|u| u.username.as_str()),
        registration_open: ctx.config.registration.open,
        head,
        latest,
        page_actor: &ctx.config.instance.page_actor,
        channel_handle: crate::service::actors::channel_handle(ctx),
    })
}
