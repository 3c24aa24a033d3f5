//! The hand-written stylesheet (and the little JavaScript later features need), compiled into
//! the binary and served with long-lived caching: the URL carries a content hash.

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use std::sync::LazyLock;

const STYLE_CSS: &str = include_str!("../../templates/assets/style.css");
const CHAT_JS: &str = include_str!("../../templates/assets/chat.js");

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: STYLE_CSS,
    },
    Asset {
        name: "chat.js",
        content_type: "text/javascript; charset=utf-8",
        body: CHAT_JS,
    },
];

/// Short content hash, used as `?v=` in links so a new release is never served stale.
pub fn version(name: &str) -> &'static str {
    static VERSIONS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
        use sha2::{Digest, Sha256};
        ASSETS
            .iter()
            .map(|a| (a.name, hex::encode(&Sha256::digest(a.body.as_bytes())[..6])))
            .collect()
    });
    VERSIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("0")
}

pub fn routes() -> Router {
    Router::new().route("/assets/{name}", get(http_get_asset))
}

async fn http_get_asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", version(asset.name))) {
        headers.insert(header::ETAG, etag);
    }
    response
}
