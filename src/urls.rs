//! Every public URL and ActivityPub id is built here, from `instance.url`; and the origin
//! comparison every layer relies on.

use url::Url;

/// `host[:port]` of a URL: how instances (our own domain included) are named everywhere —
/// in tests, instances differ only by port, so the port is part of the name.
pub fn host_port(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// Whether two URLs share an origin: scheme, host **and** port (instances in tests differ only
/// by port, so comparing domains alone would let one impersonate another).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The page listing a member's loan requests, sent and received.
pub const LOAN_REQUESTS_PATH: &str = "/mutualisation/demandes";

/// A report's page in the moderators' view.
pub fn admin_report_path(id: i64) -> String {
    format!("/admin/signalements/{id}")
}

/// The page where an author reads a moderation decision about them (the statement of
/// reasons) and may appeal it.
pub fn decision_path(id: i64) -> String {
    format!("/decisions/{id}")
}

/// A workspace's pages (members only), in French like every page path: the activity page
/// and its sections. `section` is "" for the activity page, else `discussion`, `documents`,
/// `reunions`, `membres` or `parametres`.
pub fn workspace_page(id: &uuid::Uuid, section: &str) -> String {
    if section.is_empty() {
        format!("/espaces/{id}")
    } else {
        format!("/espaces/{id}/{section}")
    }
}

/// Where forum threads live, whatever their category.
pub const FORUM_THREADS_PATH: &str = "/forum/sujets";

#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
}

impl Urls {
    pub fn new(base_url: &str) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn user(&self, username: &str) -> String {
        format!("{}/users/{username}", self.base)
    }
    pub fn user_inbox(&self, username: &str) -> String {
        format!("{}/users/{username}/inbox", self.base)
    }
    pub fn user_outbox(&self, username: &str) -> String {
        format!("{}/users/{username}/outbox", self.base)
    }
    pub fn user_followers(&self, username: &str) -> String {
        format!("{}/users/{username}/followers", self.base)
    }
    pub fn user_following(&self, username: &str) -> String {
        format!("{}/users/{username}/following", self.base)
    }
    /// The public HTML profile page (content negotiation serves the same URL).
    pub fn profile_page(&self, username: &str) -> String {
        self.user(username)
    }
    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.base)
    }
    pub fn instance_actor_inbox(&self) -> String {
        format!("{}/actor/inbox", self.base)
    }
    pub fn instance_actor_outbox(&self) -> String {
        format!("{}/actor/outbox", self.base)
    }
    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }
    /// The id of a `Flag` we send (a report forwarded to another server).
    pub fn report(&self, id: i64) -> String {
        self.absolute(&format!("/reports/{id}"))
    }
    pub fn activity(&self, uuid: &uuid::Uuid) -> String {
        format!("{}/activities/{uuid}", self.base)
    }
    pub fn avatar(&self, file_name: &str) -> String {
        format!("{}/media/avatars/{file_name}", self.base)
    }

    /// A workspace's `Group` actor; its objects live under it (`/messages/{uuid}`,
    /// `/documents/{uuid}`, `/meetings/{uuid}`, …), served to signed member fetches only.
    pub fn workspace(&self, id: &uuid::Uuid) -> String {
        format!("{}/workspaces/{id}", self.base)
    }
    pub fn workspace_inbox(&self, id: &uuid::Uuid) -> String {
        format!("{}/workspaces/{id}/inbox", self.base)
    }
    /// A forum category's `Group` actor (and page: content negotiation serves both).
    pub fn forum_category(&self, slug: &str) -> String {
        format!("{}/forum/{slug}", self.base)
    }
    /// A part of a category's actor: `inbox`, `outbox`, `followers`, `featured`, `moderators`.
    pub fn forum_category_part(&self, slug: &str, part: &str) -> String {
        format!("{}/forum/{slug}/{part}", self.base)
    }
    /// A thread's `Page` id (its page is `{id}/{slug}`): stable when the thread moves.
    pub fn forum_thread(&self, post_id: i64) -> String {
        format!("{}{FORUM_THREADS_PATH}/{post_id}", self.base)
    }
    /// An object of a workspace: `kind` is `messages`, `documents`, `versions` or `meetings`.
    pub fn workspace_object(&self, id: &uuid::Uuid, kind: &str, object: &uuid::Uuid) -> String {
        format!("{}/workspaces/{id}/{kind}/{object}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_keeps_explicit_ports_only() {
        let hp = |s: &str| host_port(&Url::parse(s).expect("url"));
        assert_eq!(
            hp("http://localhost:8081/users/a").as_deref(),
            Some("localhost:8081")
        );
        assert_eq!(
            hp("https://Culture.Example/x").as_deref(),
            Some("culture.example")
        );
        // The scheme's default port is no part of the name.
        assert_eq!(
            hp("https://culture.example:443/").as_deref(),
            Some("culture.example")
        );
        assert_eq!(hp("data:text/plain,hi"), None);
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin(
            &url("https://a.example/users/x"),
            &url("https://A.example:443/notes/1")
        ));
        assert!(!same_origin(
            &url("http://localhost:8081/users/x"),
            &url("http://localhost:8082/users/x")
        ));
        assert!(!same_origin(
            &url("http://a.example/users/x"),
            &url("https://a.example/users/x")
        ));
        assert!(!same_origin(
            &url("https://a.example/users/x"),
            &url("https://b.example/users/x")
        ));
    }
}
