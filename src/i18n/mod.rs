//! Interface languages. French first, English available; every user-visible sentence is a key
//! in [`messages::MESSAGES`], so a missing translation is a test failure rather than a blank.

mod messages;

use std::{collections::HashMap, sync::LazyLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The translation of `key`; the key itself when it is unknown (and a test catches that).
    pub fn t(self, key: &str) -> &'static str {
        static TABLE: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
            LazyLock::new(|| {
                messages::MESSAGES
                    .iter()
                    .map(|(k, fr, en)| (*k, (*fr, *en)))
                    .collect()
            });
        match TABLE.get(key) {
            Some((fr, en)) => match self {
                Lang::Fr => fr,
                Lang::En => en,
            },
            None => {
                tracing::warn!("missing translation key {key}");
                // Leak-free fallback: keys are mostly 'static already.
                messages::UNKNOWN
            }
        }
    }

    /// Whether `key` exists: used by tests and by code that builds keys dynamically.
    pub fn has(key: &str) -> bool {
        messages::MESSAGES.iter().any(|(k, _, _)| *k == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_translated() {
        let mut seen = std::collections::HashSet::new();
        for (k, fr, en) in messages::MESSAGES {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(
                !fr.is_empty() && !en.is_empty(),
                "empty translation for {k}"
            );
        }
    }

    #[test]
    fn parse_languages() {
        assert_eq!(Lang::parse("FR"), Some(Lang::Fr));
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
    }
}
