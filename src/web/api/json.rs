//! `ApiJson<T>`: axum's `Json` with errors an API client can act on. axum answers a bad body
//! with a plain-text sentence; we answer `application/problem+json` naming the field:
//! - wrong or missing `Content-Type` → 415;
//! - not JSON at all (syntax, truncated, trailing garbage) → 400 with line and column;
//! - valid JSON of the wrong shape (missing field, wrong type, unknown field) → 422 with the
//!   field's path (`title`, `disciplines[2]`, `location.latitude`);
//! - body over the size limit → 413.

use crate::error::{AppError, ErrorKind, FieldError};
use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

/// A JSON request body of type `T`, or a JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// `application/json`, or any `application/…+json` (e.g. `merge-patch+json`), parameters allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let essence = crate::body::media_type(headers);
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(request.headers()) {
            return Err(AppError::new(
                ErrorKind::UnsupportedMediaType,
                "send the body as JSON, with the header Content-Type: application/json",
            )
            .with_message("api.json.content_type"));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::new(ErrorKind::PayloadTooLarge, rejection.body_text())
                } else {
                    AppError::bad_request(rejection.body_text())
                }
            })?;
        parse(&bytes).map(ApiJson)
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses a whole body, mapping every failure to an `AppError` naming the field.
///
/// Request bodies are JSON objects: serde would also read a struct from an array (`[]` as a
/// struct whose fields all have defaults), which only hides client mistakes, and an object
/// leaves room to add fields later.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|e| malformed(&e))?;
        let mut error = AppError::field("body", "api.json.invalid_value");
        error.detail = "body: expected a JSON object".to_string();
        return Err(error);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(path_error)?;
    deserializer.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

fn malformed(e: &serde_json::Error) -> AppError {
    let detail = if e.is_eof() && e.line() == 1 && e.column() == 0 {
        "the body is empty; send a JSON document".to_string()
    } else {
        format!("the body is not valid JSON: {e}")
    };
    AppError::bad_request(detail).with_message("api.json.malformed")
}

/// The text between the first pair of backticks of a serde message (`missing field `x``).
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn join(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn path_error(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if !inner.is_data() {
        return malformed(&inner);
    }
    let message = inner.to_string();
    let (field, key) = if message.starts_with("missing field") {
        let name = quoted_name(&message).unwrap_or("");
        (join(&path, name), "field.required")
    } else if message.starts_with("unknown field") {
        // Here the path already ends with the unknown key.
        let name = quoted_name(&message).unwrap_or("");
        let field = if path == name || path.ends_with(&format!(".{name}")) {
            path
        } else {
            join(&path, name)
        };
        (field, "api.json.unknown_field")
    } else if path == "." {
        ("body".to_string(), "api.json.invalid_value")
    } else {
        (path, "api.json.invalid_value")
    };
    let mut app_error = AppError::fields(vec![FieldError {
        field: field.clone(),
        message_key: key,
    }]);
    app_error.detail = format!("{field}: {message}");
    app_error
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        place: Option<Place>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Place {
        latitude: f64,
    }

    fn field_of(body: &str) -> (ErrorKind, String, &'static str) {
        let e = parse::<Body>(body.as_bytes()).expect_err("must fail");
        let f = e.fields.first().cloned().unwrap_or(FieldError {
            field: String::new(),
            message_key: "",
        });
        (e.kind, f.field, f.message_key)
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(
            field_of("{}"),
            (ErrorKind::Validation, "title".into(), "field.required")
        );
        assert_eq!(
            field_of(r#"{"title": 5}"#),
            (
                ErrorKind::Validation,
                "title".into(),
                "api.json.invalid_value"
            )
        );
        assert_eq!(
            field_of(r#"{"title": "t", "tags": ["a", 3]}"#),
            (
                ErrorKind::Validation,
                "tags[1]".into(),
                "api.json.invalid_value"
            )
        );
        assert_eq!(
            field_of(r#"{"title": "t", "place": {"latitude": 1, "x": 2}}"#),
            (
                ErrorKind::Validation,
                "place.x".into(),
                "api.json.unknown_field"
            )
        );
        assert_eq!(
            field_of(r#"{"title": "t", "place": {}}"#),
            (
                ErrorKind::Validation,
                "place.latitude".into(),
                "field.required"
            )
        );
        assert_eq!(
            field_of(r#"{"title": "t", "colour": "red"}"#),
            (
                ErrorKind::Validation,
                "colour".into(),
                "api.json.unknown_field"
            )
        );
        assert_eq!(
            field_of("[1, 2]"),
            (
                ErrorKind::Validation,
                "body".into(),
                "api.json.invalid_value"
            )
        );
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert_eq!(
            field_of(r#""just a string""#),
            (
                ErrorKind::Validation,
                "body".into(),
                "api.json.invalid_value"
            )
        );
        for body in [
            "",
            "  ",
            "{",
            "[1,",
            r#"{"title": "t"} trailing"#,
            "{title: 1}",
        ] {
            let e = parse::<Body>(body.as_bytes()).expect_err(body);
            assert_eq!(e.kind, ErrorKind::BadRequest, "{body}: {e}");
            assert!(e.fields.is_empty(), "{body}");
        }
        let e = parse::<Body>(b"").expect_err("empty");
        assert!(e.detail.contains("empty"), "{}", e.detail);
        let e = parse::<Body>(b"{\n  \"title\": }").expect_err("bad");
        assert!(e.detail.contains("line 2"), "{}", e.detail);
    }

    #[test]
    fn json_content_types() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                v.parse().expect("header value"),
            );
            h
        };
        assert!(is_json(&headers("application/json")));
        assert!(is_json(&headers("Application/JSON; charset=utf-8")));
        assert!(is_json(&headers("application/merge-patch+json")));
        assert!(!is_json(&headers("text/plain")));
        assert!(!is_json(&headers("application/x-www-form-urlencoded")));
        assert!(!is_json(&HeaderMap::new()));
    }
}
