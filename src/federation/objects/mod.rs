//! Protocol structs (what goes over the wire) beside their `impl Object`/`Actor`.

pub mod article;
pub mod comment;
pub mod counts;
pub mod note;
pub mod person;
pub mod venue;

use serde_json::{Value, json};
use url::Url;

pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
pub const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// The full IRI of the public collection; `as:Public` and `Public` mean the same.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// `@context` of actor documents and of activities that embed an actor. Strict JSON-LD peers
/// (Fedify, Mitra) drop `publicKey` unless the security vocabulary is declared.
pub fn actor_context() -> Value {
    json!([
        AS_CONTEXT,
        SECURITY_CONTEXT,
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
        }
    ])
}

/// `@context` of plain activities (Follow, Accept, Undo…).
pub fn activity_context() -> Value {
    Value::String(AS_CONTEXT.to_string())
}

/// Whether an addressing value (`to`, `cc`…) names the public collection, in any of the
/// spellings real servers use.
pub fn is_public(value: &str) -> bool {
    matches!(value, PUBLIC | "as:Public" | "Public")
}

/// Whether `url` names something on this instance (same host and port as our domain).
pub fn is_local_url(data: &crate::federation::Data, url: &Url) -> bool {
    crate::urls::host_port(url).as_deref() == Some(data.domain())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_spellings() {
        assert!(is_public(PUBLIC));
        assert!(is_public("as:Public"));
        assert!(is_public("Public"));
        assert!(!is_public("https://a.example/users/x/followers"));
    }
}
