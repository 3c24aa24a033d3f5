//! Content negotiation: ActivityPub clients get JSON-LD, browsers get HTML, from one URL.
//! [`face`] is the one decision for every object URL (actors, posts, announcements,
//! comments, their collections, activities); [`vary_accept`] marks every such answer. The
//! handlers that serve both faces live in `web` (which may call `federation` for the
//! document); `federation` never renders a page.

use crate::error::AppResult;
use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::Response,
};
use std::future::Future;

/// The two answers an object URL has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// The HTML page (or a redirect to it).
    Page,
    /// The ActivityStreams document.
    Document,
}

/// Which face a request gets: the document to clients asking for ActivityStreams, the page to
/// browsers; a client naming neither (`*/*`, no `Accept`) gets `otherwise` — the page where
/// the URL is first a page (profiles, posts), the document where it is first a document (the
/// instance actor, activities, collections).
pub fn face(headers: &HeaderMap, otherwise: Face) -> Face {
    if wants_activity_json(headers) {
        Face::Document
    } else if accepts_html(headers) {
        Face::Page
    } else {
        otherwise
    }
}

/// `Vary: Accept` on an answer of a content-negotiated URL: caches must key on `Accept`.
pub fn vary_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// Answers with `page` or `document` as [`face`] decides, marked with [`vary_accept`]. Both
/// are futures not yet started: only the chosen one runs.
pub async fn negotiate(
    headers: &HeaderMap,
    otherwise: Face,
    page: impl Future<Output = AppResult<Response>>,
    document: impl Future<Output = AppResult<Response>>,
) -> AppResult<Response> {
    let response = match face(headers, otherwise) {
        Face::Page => page.await?,
        Face::Document => document.await?,
    };
    Ok(vary_accept(response))
}

pub const ACTIVITY_JSON: &str = "application/activity+json";
pub const LD_JSON_AS: &str =
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// True when the client asks for ActivityStreams JSON (`application/activity+json`, or
/// `application/ld+json` with or without the ActivityStreams profile) rather than HTML.
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    if accept.contains("application/activity+json") || accept.contains("application/ld+json") {
        // A browser listing text/html first still gets HTML.
        let html = accept.find("text/html");
        let ap = accept
            .find("application/activity+json")
            .into_iter()
            .chain(accept.find("application/ld+json"))
            .min();
        return match (html, ap) {
            (Some(h), Some(a)) => a < h,
            _ => true,
        };
    }
    false
}

/// True when the client lists `text/html` at all (a browser).
pub fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(accept: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(
            header::ACCEPT,
            HeaderValue::from_str(accept).expect("header"),
        );
        m
    }

    #[test]
    fn negotiates() {
        assert!(wants_activity_json(&h("application/activity+json")));
        assert!(wants_activity_json(&h(LD_JSON_AS)));
        assert!(wants_activity_json(&h("application/ld+json")));
        assert!(!wants_activity_json(&h(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )));
        assert!(!wants_activity_json(&h("*/*")));
        assert!(!wants_activity_json(&HeaderMap::new()));
        assert!(wants_activity_json(&h(
            "application/activity+json, text/html;q=0.1"
        )));
    }

    #[test]
    fn faces() {
        let browser = h("text/html,application/xhtml+xml,*/*;q=0.8");
        let server = h(LD_JSON_AS);
        let any = h("*/*");
        for otherwise in [Face::Page, Face::Document] {
            assert_eq!(face(&browser, otherwise), Face::Page);
            assert_eq!(face(&server, otherwise), Face::Document);
            assert_eq!(face(&any, otherwise), otherwise);
            assert_eq!(face(&HeaderMap::new(), otherwise), otherwise);
        }
    }
}
