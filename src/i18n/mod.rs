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

    /// Every file of `src/` and `templates/` with its text, except the messages themselves.
    fn sources() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let messages = root.join("src/i18n/messages.rs");
        let mut files = Vec::new();
        let mut stack = vec![root.join("templates"), root.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path != messages
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    files.push((path, text));
                }
            }
        }
        files
    }

    /// Every key the templates and the code ask for exists: a missing one would show "?".
    #[test]
    fn every_used_key_exists() {
        let call = regex::Regex::new(r#"\bt\("([a-z0-9_.]+)"\)"#).expect("regex");
        let field_key = regex::Regex::new(r#""((?:field|error)\.[a-z0-9_.]+)""#).expect("regex");
        let mut missing = Vec::new();
        for (path, text) in sources() {
            for cap in call
                .captures_iter(&text)
                .chain(field_key.captures_iter(&text))
            {
                let key = &cap[1];
                if !Lang::has(key) && !key.ends_with('.') && !key.ends_with(".html") {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "missing translations:\n{}",
            missing.join("\n")
        );
    }

    /// Every defined key is asked for somewhere, by its full name (keys are never built with
    /// `format!`, so that this test and the one above can see them): a sentence nobody shows is
    /// a sentence nobody maintains.
    #[test]
    fn every_defined_key_is_used() {
        let sources: String = sources().into_iter().map(|(_, text)| text).collect();
        let unused: Vec<&str> = messages::MESSAGES
            .iter()
            .map(|(key, _, _)| *key)
            .filter(|key| !sources.contains(&format!("\"{key}\"")))
            .collect();
        assert!(unused.is_empty(), "keys defined but never used: {unused:?}");
    }

    #[test]
    fn parse_languages() {
        assert_eq!(Lang::parse("FR"), Some(Lang::Fr));
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
    }
}
