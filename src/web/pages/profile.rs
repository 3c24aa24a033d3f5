//! The public profile page of a member (HTML side of `/users/{username}`).

use crate::{
    db::{self, accounts::DbAccount, actors::DbActor},
    error::{AppError, AppResult},
    federation::Data,
    i18n::Lang,
    sanitize::SafeHtml,
    service::{actors::INSTANCE_ACTOR_USERNAME, profile},
    web::pages::{admin::kind_key, from_headers, layout, render},
};
use askama::Template;
use axum::{
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};

#[derive(Template)]
#[template(path = "profile/show.html")]
struct ProfilePage<'a> {
    lang: Lang,
    name: &'a str,
    /// `@username@host`, as other fediverse servers know this account.
    handle: String,
    kind_label: &'static str,
    bio: SafeHtml,
    avatar_url: Option<String>,
    disciplines: &'a [String],
    commune: &'a str,
    website: &'a str,
    is_own: bool,
}

/// Only http(s) links become `href`s, whatever is stored.
fn safe_link(url: &str) -> &str {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        url
    } else {
        ""
    }
}

/// Renders the profile page; the route lives in `federation::routes` (content negotiation).
pub async fn render_profile(
    data: &Data,
    username: &str,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let lang = from_headers(headers);
    let wanted = username.to_lowercase();
    let (account, actor): (Option<DbAccount>, Option<DbActor>) = {
        let mut conn = ctx.conn().await?;
        match db::accounts::by_login(&mut conn, &wanted)
            .await?
            .filter(|a| a.username == wanted)
        {
            Some(account) => (Some(account), None),
            None => (
                None,
                db::actors::local_by_username(&mut conn, &wanted).await?,
            ),
        }
    };
    let canonical = account
        .as_ref()
        .map(|a| a.username.as_str())
        .or(actor.as_ref().map(|a| a.username.as_str()));
    if let Some(canonical) = canonical
        && canonical != username
    {
        return Ok(Redirect::permanent(&format!("/users/{canonical}")).into_response());
    }
    let handle = |name: &str| format!("@{name}@{}", ctx.config.domain());
    if let Some(account) = &account {
        let is_own = layout::chrome()
            .user
            .as_ref()
            .is_some_and(|u| u.username == account.username);
        let name = if account.display_name.is_empty() {
            &account.username
        } else {
            &account.display_name
        };
        return render(&ProfilePage {
            lang,
            name,
            handle: handle(&account.username),
            kind_label: lang.t(kind_key(&account.kind)),
            bio: SafeHtml::from_trusted_storage(account.bio_html.clone()),
            avatar_url: profile::avatar_path_url(account),
            disciplines: &account.disciplines,
            commune: &account.commune,
            website: safe_link(&account.website),
            is_own,
        });
    }
    // A local actor without an account: the département's page.
    match actor {
        Some(actor)
            if actor.username != INSTANCE_ACTOR_USERNAME
                && actor.deleted_at.is_none()
                && matches!(actor.kind.as_str(), "Person" | "Organization") =>
        {
            render(&ProfilePage {
                lang,
                name: if actor.name.is_empty() {
                    &actor.username
                } else {
                    &actor.name
                },
                handle: handle(&actor.username),
                kind_label: lang.t("kind.page"),
                // Written only from SafeHtml, but it is a column other code writes too:
                // clean again, it is cheap.
                bio: SafeHtml::clean(&actor.summary_html),
                avatar_url: None,
                disciplines: &[],
                commune: "",
                website: "",
                is_own: false,
            })
        }
        _ => Err(AppError::not_found()),
    }
}
