//! `Create` and `Update` of our blog posts (`Article`) and announcements (`Note`), sent to the
//! author's followers. Inbound Create/Update of replies belongs to the comments slice.

use crate::federation::objects::PUBLIC;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum CreateOrUpdateType {
    Create,
    Update,
}

impl CreateOrUpdateType {
    pub fn as_str(self) -> &'static str {
        match self {
            CreateOrUpdateType::Create => "Create",
            CreateOrUpdateType::Update => "Update",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdate {
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateType,
    pub id: Url,
    pub actor: Url,
    /// The embedded object (Article or Note), so receivers need not fetch it.
    pub object: Value,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    pub published: DateTime<Utc>,
}

impl CreateOrUpdate {
    /// Wraps `object`, copying its audience (Mastodon checks the activity's addressing).
    pub fn new(
        kind: CreateOrUpdateType,
        id: Url,
        actor: Url,
        object: Value,
        to: Vec<Url>,
        cc: Vec<Url>,
    ) -> Self {
        CreateOrUpdate {
            kind,
            id,
            actor,
            object,
            to,
            cc,
            published: Utc::now(),
        }
    }

    /// Whether it is addressed to everyone (then it may appear in the outbox).
    pub fn is_public(&self) -> bool {
        self.to.iter().chain(&self.cc).any(|u| u.as_str() == PUBLIC)
    }
}
