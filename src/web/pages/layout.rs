//! The page chrome: what `base.html` shows around every page (navigation for the visitor, the
//! logout and language forms with their CSRF token, the flash message).
//!
//! The session middleware builds one [`Chrome`] per request and runs the handler inside
//! [`scope`]; `base.html` reads it with [`chrome()`]. This keeps every page struct free of
//! layout fields (a page only needs `lang`), so pages written by anyone get the same header.
//! The value is request-scoped (a tokio task-local), not global state.

use crate::{i18n::Lang, web::csrf::CsrfState};
use axum::{
    http::HeaderValue,
    response::{IntoResponse, Redirect, Response},
};
use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

tokio::task_local! {
    static CHROME: Arc<Chrome>;
}

/// The logged-in visitor, as the header shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub username: String,
    pub display_name: String,
    pub moderator: bool,
    /// Of the département's team (staff or admin): the diagnosis dashboard.
    pub staff: bool,
    /// The address awaits confirmation and the instance requires it to publish (the banner).
    pub unconfirmed: bool,
    /// Unread notifications (the header's counter; 0 where no page is rendered).
    pub unread_notifications: i64,
    /// Open reports, for moderators and admins (the header's badge; 0 for others and where
    /// no page is rendered).
    pub open_reports: i64,
    /// A moderation decision the member has not acknowledged: its id and whether it is a
    /// warning (the notice shown on every page; `None` where no page is rendered).
    pub moderation_notice: Option<(i64, bool)>,
}

impl NavUser {
    /// The accessible name of the header's notifications link, e.g. "Notifications, 3 non
    /// lues".
    pub fn notifications_label(&self, lang: &Lang) -> String {
        match self.unread_notifications {
            0 => lang.t("nav.notifications_none").to_string(),
            1 => lang.t("nav.notifications_one").to_string(),
            n => lang
                .t("nav.notifications_many")
                .replace("{count}", &n.to_string()),
        }
    }

    /// The accessible name of the header's link to the reports, e.g. "Signalements, 3
    /// ouverts".
    pub fn reports_label(&self, lang: &Lang) -> String {
        match self.open_reports {
            0 => lang.t("nav.reports_none").to_string(),
            1 => lang.t("nav.reports_one").to_string(),
            n => lang
                .t("nav.reports_many")
                .replace("{count}", &n.to_string()),
        }
    }

    pub fn label(&self) -> &str {
        if self.display_name.is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
}

#[derive(Debug)]
pub struct Chrome {
    pub lang: Lang,
    pub instance_name: String,
    /// Whether the header offers "Inscription" (`registration.open`).
    pub registration_open: bool,
    pub user: Option<NavUser>,
    csrf: Option<Arc<CsrfState>>,
    flash: Option<String>,
    flash_shown: AtomicBool,
    /// Path and query of the current page (where the language switch comes back to).
    pub path: String,
}

impl Chrome {
    pub(crate) fn new(
        lang: Lang,
        instance_name: String,
        registration_open: bool,
        user: Option<NavUser>,
        csrf: Arc<CsrfState>,
        flash: Option<String>,
        path: String,
    ) -> Self {
        Self {
            lang,
            instance_name,
            registration_open,
            user,
            csrf: Some(csrf),
            flash,
            flash_shown: AtomicBool::new(false),
            path,
        }
    }

    /// Outside a request (a template rendered elsewhere): no user, no forms.
    fn detached() -> Self {
        Self {
            lang: Lang::default(),
            instance_name: "cultureCnous".to_string(),
            registration_open: false,
            user: None,
            csrf: None,
            flash: None,
            flash_shown: AtomicBool::new(false),
            path: "/".to_string(),
        }
    }

    /// The CSRF token for the header's forms; empty when rendered outside a request.
    pub fn csrf_token(&self) -> &str {
        self.csrf.as_ref().map(|c| c.value()).unwrap_or("")
    }

    /// Whether the header can carry forms (logout, language switch).
    pub fn has_forms(&self) -> bool {
        self.csrf.is_some()
    }

    /// The flash message, translated, marking it shown (its cookie is then cleared).
    pub fn take_flash(&self) -> Option<&'static str> {
        let key = self.flash.as_deref()?;
        self.flash_shown.store(true, Ordering::Relaxed);
        Some(self.lang.t(key))
    }

    pub(crate) fn flash_was_shown(&self) -> bool {
        self.flash_shown.load(Ordering::Relaxed)
    }

    /// Whether `href` is the current page (for `aria-current`).
    pub fn is_current(&self, href: &str) -> bool {
        let path = self.path.split('?').next().unwrap_or("");
        path == href
    }

    /// The language the switch offers.
    pub fn other_lang(&self) -> Lang {
        match self.lang {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }
}

/// Runs `future` (the rest of the request) with `chrome` available to templates.
pub async fn scope<F: Future>(chrome: Arc<Chrome>, future: F) -> F::Output {
    CHROME.scope(chrome, future).await
}

/// The chrome of the current request.
pub fn chrome() -> Arc<Chrome> {
    CHROME
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::new(Chrome::detached()))
}

/// The current request's language, when called inside a request.
pub fn current_lang() -> Option<Lang> {
    CHROME.try_with(|c| c.lang).ok()
}

/// A flash message key from its cookie: only existing keys of the `flash.` family are shown,
/// so a forged cookie can at most display one of our own sentences.
pub fn flash_key(value: &str) -> Option<String> {
    (value.starts_with("flash.") && Lang::has(value)).then(|| value.to_string())
}

/// The answer to a form POST that succeeded: back to a page (post/redirect/get), which shows
/// the flash message `key`.
pub fn redirect_with_flash(
    ctx: &crate::context::AppContext,
    to: &str,
    key: &'static str,
) -> Response {
    let mut response = Redirect::to(to).into_response();
    set_flash(ctx, &mut response, key);
    response
}

/// Sets a flash message (an i18n key of the `flash.` family) shown on the next page.
pub fn set_flash(ctx: &crate::context::AppContext, response: &mut Response, key: &'static str) {
    let value: HeaderValue =
        crate::web::auth::set_cookie_value(ctx, crate::web::auth::FLASH_COOKIE, key, Some(300));
    crate::web::auth::add_cookie(response, value);
}
