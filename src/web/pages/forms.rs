//! Form state for templates: which fields are wrong and why, in the page's language, so a form
//! can be shown again with each message next to its field (tied by `aria-describedby`) and an
//! error summary at the top.

use crate::{
    error::{AppError, FieldError},
    i18n::Lang,
};

#[derive(Debug, Clone)]
pub struct FormState {
    pub lang: Lang,
    /// (field name, translated message), in the order they were found.
    errors: Vec<(String, &'static str)>,
    /// A problem with the whole form (e.g. too many attempts), translated.
    pub general: Option<&'static str>,
}

impl FormState {
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            errors: Vec::new(),
            general: None,
        }
    }

    pub fn from_fields(lang: Lang, fields: &[FieldError]) -> Self {
        let mut state = Self::new(lang);
        for f in fields {
            state.add(&f.field, f.message_key);
        }
        state
    }

    /// The field errors of a validation error; its message key (if any) as the general message.
    pub fn from_error(lang: Lang, error: &AppError) -> Self {
        let mut state = Self::from_fields(lang, &error.fields);
        if error.fields.is_empty() {
            state.general = Some(lang.t(error.message_key.unwrap_or(error.kind.title_key())));
        }
        state
    }

    pub fn with_general(mut self, key: &str) -> Self {
        self.general = Some(self.lang.t(key));
        self
    }

    pub fn add(&mut self, field: &str, message_key: &str) {
        // One message per field: the first problem found is the one to fix first.
        if !self.has(field) {
            self.errors
                .push((field.to_string(), self.lang.t(message_key)));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.general.is_none()
    }

    pub fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|(f, _)| f == field)
    }

    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| *m)
    }

    pub fn errors(&self) -> &[(String, &'static str)] {
        &self.errors
    }

    /// The `id`s that describe field `name`: its hint (when it has one) and its error message.
    pub fn describedby(&self, name: &str, has_hint: bool) -> String {
        let mut ids = Vec::new();
        if has_hint {
            ids.push(format!("f-{name}-hint"));
        }
        if self.has(name) {
            ids.push(format!("f-{name}-error"));
        }
        ids.join(" ")
    }

    /// "Erreur :" before each message, for screen readers and readers of a printed page.
    pub fn error_prefix(&self) -> &'static str {
        self.lang.t("form.error_prefix")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_fields() {
        let mut state = FormState::new(Lang::Fr);
        state.add("username", "field.username.taken");
        state.add("username", "field.required");
        assert_eq!(state.errors().len(), 1);
        assert_eq!(
            state.describedby("username", true),
            "f-username-hint f-username-error"
        );
        assert_eq!(state.describedby("email", true), "f-email-hint");
        assert_eq!(state.describedby("email", false), "");
        assert_eq!(
            state.error("username"),
            Some(Lang::Fr.t("field.username.taken"))
        );
        assert!(!state.is_empty());
    }
}
