//! Request bodies, read with a cap: a client announcing or sending more than the cap gets 413
//! after at most `limit` bytes have been read, whatever the route's default limit.

use crate::error::{AppError, AppResult, ErrorKind};
use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, header},
};

/// The media type of the body, lowercased and without parameters (`charset`, `profile`…);
/// empty when the header is missing or not text.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The whole body, or 413 as soon as it grows past `limit` bytes (400 when the client breaks
/// off mid-body).
pub async fn read_capped(body: Body, limit: usize) -> AppResult<Bytes> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // axum reports http_body_util's LengthLimitError, here or as the source.
        let too_large = e.to_string().contains("length limit")
            || std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"));
        if too_large {
            AppError::new(
                ErrorKind::PayloadTooLarge,
                format!("the body is limited to {limit} bytes"),
            )
        } else {
            AppError::bad_request(format!("reading the body: {e}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_lose_case_and_parameters() {
        let mut headers = HeaderMap::new();
        assert_eq!(media_type(&headers), "");
        headers.insert(
            header::CONTENT_TYPE,
            "Application/LD+JSON; profile=\"https://www.w3.org/ns/activitystreams\""
                .parse()
                .expect("header"),
        );
        assert_eq!(media_type(&headers), "application/ld+json");
    }

    #[tokio::test]
    async fn over_the_cap_is_413_and_at_the_cap_is_read() {
        let e = read_capped(Body::from(vec![b'a'; 11]), 10)
            .await
            .expect_err("too large");
        assert_eq!(e.kind, ErrorKind::PayloadTooLarge);
        let bytes = read_capped(Body::from(vec![b'a'; 10]), 10)
            .await
            .expect("fits");
        assert_eq!(bytes.len(), 10);
    }
}
