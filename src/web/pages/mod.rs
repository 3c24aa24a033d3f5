//! HTML pages: one file per capability.

pub mod about;
pub mod account_links;
pub mod accounts;
pub mod admin;
pub mod admin_directory;
pub mod admin_domains;
pub mod admin_federation;
pub mod admin_mails;
pub mod admin_report_forward;
pub mod admin_reports;
pub mod admin_rules;
pub mod admin_sanctions;
pub mod alerts;
pub mod comments;
pub mod diagnosis;
pub mod directory;
pub mod directory_claim;
pub mod feeds;
pub mod follows;
pub mod forms;
pub mod forum;
pub mod forum_admin;
pub mod forum_thread;
pub mod home;
pub mod lang;
pub mod layout;
pub mod media;
pub mod moderation_decisions;
pub mod news;
pub mod notifications;
pub mod posts;
pub mod profile;
pub mod reactions;
pub mod reports;
pub mod resources;
pub mod settings;
pub mod sharing;
pub mod timeline;
pub mod tokens;
pub mod unsubscribe;
pub mod venues;
pub mod workspace_chat;
pub mod workspace_documents;
pub mod workspace_meetings;
pub mod workspace_members;
pub mod workspace_nav;
pub mod workspaces;

use crate::{
    error::{AppError, AppResult},
    i18n::Lang,
    web::auth::{LANG_COOKIE, ResolvedLang, cookie},
};
use askama::Template;
use axum::{
    Router,
    extract::{FromRequestParts, Request},
    http::{StatusCode, request::Parts},
    response::{Html, IntoResponse, Response},
};

pub fn routes() -> Router {
    Router::new()
        .merge(home::routes())
        .merge(forum_admin::routes())
        .merge(forum::routes())
        .merge(forum_thread::routes())
        .merge(workspace_chat::routes())
        .merge(accounts::routes())
        .merge(account_links::routes())
        .merge(settings::routes())
        .merge(tokens::routes())
        .merge(alerts::routes())
        .merge(follows::routes())
        .merge(admin::routes())
        .merge(admin_federation::routes())
        .merge(admin_mails::routes())
        .merge(admin_reports::routes())
        .merge(admin_domains::routes())
        .merge(admin_directory::routes())
        .merge(directory_claim::routes())
        .merge(admin_rules::routes())
        .merge(about::routes())
        .merge(admin_report_forward::routes())
        .merge(admin_sanctions::routes())
        .merge(unsubscribe::routes())
        .merge(lang::routes())
        .merge(media::routes())
        .merge(posts::routes())
        .merge(profile::routes())
        .merge(reactions::routes())
        .merge(comments::routes())
        .merge(timeline::routes())
        .merge(news::routes())
        .merge(feeds::routes())
        .merge(notifications::routes())
        .merge(reports::routes())
        .merge(moderation_decisions::routes())
        .merge(venues::routes())
        .merge(sharing::routes())
        .merge(resources::routes())
        .merge(directory::routes())
        .merge(diagnosis::routes())
        .merge(workspaces::routes())
        .merge(workspace_members::routes())
        .merge(workspace_meetings::routes())
        .merge(workspace_documents::routes())
}

/// Extractor: the language of the page. The member's own preference first, then the `lang`
/// cookie (the switch visitors use), then `instance.language`. Resolved once per request by the
/// session middleware.
#[derive(Debug, Clone, Copy)]
pub struct PageLang(pub Lang);

impl PageLang {
    pub fn from_request_headers(request: &Request) -> Lang {
        match request.extensions().get::<ResolvedLang>() {
            Some(ResolvedLang(lang)) => *lang,
            None => from_headers(request.headers()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(match parts.extensions.get::<ResolvedLang>() {
            Some(ResolvedLang(lang)) => *lang,
            None => from_headers(&parts.headers),
        }))
    }
}

/// Language of a page for code that only has the headers. Inside a request this is the
/// language the session middleware resolved (member preference > `lang` cookie > instance
/// default); outside one, the `lang` cookie, else French.
pub fn from_headers(headers: &axum::http::HeaderMap) -> Lang {
    if let Some(lang) = layout::current_lang() {
        return lang;
    }
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// Renders a template as a 200 HTML page.
pub fn render<T: Template>(page: &T) -> AppResult<Response> {
    render_status(StatusCode::OK, page)
}

/// Renders a template as an HTML page with `status` (422 for a form shown again with errors).
pub fn render_status<T: Template>(status: StatusCode, page: &T) -> AppResult<Response> {
    let body = page
        .render()
        .map_err(|e| AppError::internal(format!("template: {e}")))?;
    Ok((status, Html(body)).into_response())
}

/// `next` when it is a path on this site, so login cannot be turned into an open redirect.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2000;
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/parametres/profil"), Some("/parametres/profil"));
        assert_eq!(local_path("/admin?x=1"), Some("/admin?x=1"));
        assert_eq!(local_path("//evil.example/"), None);
        assert_eq!(local_path("/\\evil.example"), None);
        assert_eq!(local_path("https://evil.example/"), None);
        assert_eq!(local_path("javascript:alert(1)"), None);
        assert_eq!(local_path("/a\nb"), None);
        assert_eq!(local_path(""), None);
    }
}
