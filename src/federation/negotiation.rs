//! Content negotiation: ActivityPub clients get JSON-LD, browsers get HTML, from one URL.

use axum::http::{HeaderMap, header};

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
}
