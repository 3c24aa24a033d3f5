//! Every public URL and ActivityPub id is built here, from `instance.url`.

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
    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }
    pub fn activity(&self, uuid: &uuid::Uuid) -> String {
        format!("{}/activities/{uuid}", self.base)
    }
    pub fn avatar(&self, file_name: &str) -> String {
        format!("{}/media/avatars/{file_name}", self.base)
    }
}
