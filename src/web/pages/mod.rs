//! HTML pages: one file per capability.

pub mod home;
pub mod profile;

use crate::i18n::Lang;
use axum::{Router, extract::Request, http::header};

pub fn routes() -> Router {
    Router::new().merge(home::routes())
}

/// Language of a page: the `lang` cookie when set, else the browser's preference between the
/// languages we speak, else French.
pub struct PageLang;

impl PageLang {
    pub fn from_request_headers(request: &Request) -> Lang {
        from_headers(request.headers())
    }
}

pub fn from_headers(headers: &axum::http::HeaderMap) -> Lang {
    if let Some(lang) = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
    {
        return lang;
    }
    Lang::default()
}
