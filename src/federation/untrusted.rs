//! What every string from another server goes through before it is stored or rendered:
//! NUL characters removed (PostgreSQL refuses them in `text`, and the error would be ours),
//! ids short enough for a B-tree index, and links that are http(s) or nothing.
//!
//! Inbound activities are cleaned when the inbox body becomes JSON ([`parse_inbound`] for the
//! inbox's own checks, [`strip_nuls`] from `InboxActivity`'s deserializer for what the library
//! hands to the activity handlers: the same result); documents fetched by us are cleaned
//! where they become rows (`Person::into_new_remote_actor`, `comment::parse_note`), which also
//! covers the embedded copies.

use crate::error::{AppError, AppResult};
use serde_json::Value;
use std::borrow::Cow;
use url::Url;

/// Longest id or link accepted from another server, in bytes. PostgreSQL cannot index a
/// `text` value much over 2.7 KB (B-tree row limit), and ids are unique columns; real ids are
/// under 200 bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Keys whose string values (or lists of strings) are ids or links, checked by
/// [`check_id_lengths`].
const ID_KEYS: &[&str] = &[
    "id",
    "actor",
    "object",
    "target",
    "origin",
    "inReplyTo",
    "attributedTo",
    "url",
    "href",
    "inbox",
    "outbox",
    "followers",
    "following",
    "sharedInbox",
    "owner",
    "to",
    "cc",
    "bto",
    "bcc",
    "audience",
];

/// An inbound body as JSON, cleaned the way the activity itself will be ([`strip_nuls`]), so
/// the checks made on it see what is processed; ids too long to store are refused (400).
pub fn parse_inbound(bytes: &[u8]) -> AppResult<Value> {
    let mut value: Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_request(format!("malformed JSON: {e}")))?;
    strip_nuls(&mut value);
    check_id_lengths(&value)?;
    Ok(value)
}

/// `s` without its NUL characters (borrowed when it has none).
pub fn without_nul(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', ""))
    } else {
        Cow::Borrowed(s)
    }
}

/// Removes NUL characters from every string (keys included) of a JSON document. Iterative:
/// a deep document costs no stack.
pub fn strip_nuls(value: &mut Value) {
    let mut stack = vec![value];
    while let Some(node) = stack.pop() {
        match node {
            Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    let entries = std::mem::take(map);
                    for (key, item) in entries {
                        map.insert(key.replace('\0', ""), item);
                    }
                }
                stack.extend(map.values_mut());
            }
            _ => {}
        }
    }
}

/// Refuses (400, naming the field) an id or link longer than [`MAX_URL_BYTES`] anywhere in an
/// inbound document.
pub fn check_id_lengths(value: &Value) -> AppResult<()> {
    let mut stack: Vec<(&str, &Value)> = vec![("", value)];
    while let Some((key, node)) = stack.pop() {
        match node {
            Value::String(s) if s.len() > MAX_URL_BYTES && ID_KEYS.contains(&key) => {
                return Err(AppError::bad_request(format!(
                    "{key}: longer than {MAX_URL_BYTES} bytes"
                )));
            }
            Value::Array(items) => stack.extend(items.iter().map(|item| (key, item))),
            Value::Object(map) => stack.extend(map.iter().map(|(k, v)| (k.as_str(), v))),
            _ => {}
        }
    }
    Ok(())
}

/// `url` when a browser may follow it from our pages: `http` or `https` with a host, not too
/// long. Anything else (`javascript:`, `data:`, `vbscript:`, `file:`…) is dropped.
pub fn web_link(url: Url) -> Option<Url> {
    (matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.as_str().len() <= MAX_URL_BYTES)
        .then_some(url)
}

/// [`web_link`] of a string, parsed.
pub fn parse_web_link(s: &str) -> Option<Url> {
    Url::parse(s).ok().and_then(web_link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nuls_go_from_values_and_keys() {
        let mut v = json!({
            "name": "a\u{0}b",
            "tag": [{"name": "#x\u{0}"}, "\u{0}"],
            "k\u{0}ey": {"deep": ["\u{0}\u{0}z"]},
            "n": 1,
        });
        strip_nuls(&mut v);
        assert_eq!(
            v,
            json!({"name": "ab", "tag": [{"name": "#x"}, ""], "key": {"deep": ["z"]}, "n": 1})
        );
        assert_eq!(without_nul("a\u{0}"), "a");
        assert!(matches!(without_nul("abc"), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_documents_cost_no_stack() {
        let mut v = Value::String("\u{0}".into());
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        strip_nuls(&mut v);
        check_id_lengths(&v).expect("no id");
        // Dropping a deep Value recurses: let it go without running the destructor.
        std::mem::forget(v);
    }

    #[test]
    fn long_ids_are_refused_with_their_field() {
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_BYTES));
        for doc in [
            json!({"id": long}),
            json!({"object": {"inReplyTo": long}}),
            json!({"cc": ["https://a.example/ok", long]}),
        ] {
            assert!(check_id_lengths(&doc).is_err(), "{doc}");
        }
        let err = check_id_lengths(&json!({"object": {"inReplyTo": long}})).expect_err("long");
        assert!(err.detail.starts_with("inReplyTo"), "{}", err.detail);
        // Long text is not an id.
        check_id_lengths(&json!({"content": long, "id": "https://a.example/1"})).expect("text");
    }

    #[test]
    fn only_web_links_are_kept() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://a.example/x",
            "mailto:a@a.example",
        ] {
            assert_eq!(parse_web_link(bad), None, "{bad}");
        }
        for good in ["https://a.example/@x", "http://a.example:8080/p?q=1#f"] {
            assert!(parse_web_link(good).is_some(), "{good}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_BYTES));
        assert_eq!(parse_web_link(&long), None);
    }
}
