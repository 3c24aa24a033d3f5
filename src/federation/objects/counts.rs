//! `likes` and `shares` of our objects: unpaged `Collection`s with a `totalItems` only, as
//! Mastodon serves them. Mastodon 4.3+ reads them to show the counts of remote posts.
//! `replies` of our posts and announcements: an `OrderedCollection` of their direct replies,
//! with `totalItems` and its first page (served by `federation::interactions`).

use crate::{error::AppResult, service::reactions::Counts};
use serde::{Deserialize, Serialize};
use url::Url;

/// Which of the two collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Likes,
    /// Boosts (`Announce`s).
    Shares,
}

impl Interaction {
    /// The last path segment of the collection, after the object's id.
    pub fn segment(self) -> &'static str {
        match self {
            Interaction::Likes => "likes",
            Interaction::Shares => "shares",
        }
    }

    /// How many of this interaction `counts` holds.
    pub fn total(self, counts: Counts) -> i64 {
        match self {
            Interaction::Likes => counts.likes,
            Interaction::Shares => counts.boosts,
        }
    }
}

/// `{"id": "<object id>/likes", "type": "Collection", "totalItems": n}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CountCollection {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub total_items: i64,
}

impl CountCollection {
    /// The `which` collection of the object `object_id`, holding `counts`.
    pub fn of(object_id: &str, which: Interaction, counts: Counts) -> AppResult<CountCollection> {
        Ok(CountCollection {
            id: Url::parse(&format!(
                "{}/{}",
                object_id.trim_end_matches('/'),
                which.segment()
            ))?,
            kind: "Collection".into(),
            total_items: which.total(counts),
        })
    }

    /// `likes` and `shares` of `object_id`.
    pub fn pair(object_id: &str, counts: Counts) -> AppResult<(CountCollection, CountCollection)> {
        Ok((
            CountCollection::of(object_id, Interaction::Likes, counts)?,
            CountCollection::of(object_id, Interaction::Shares, counts)?,
        ))
    }
}

/// `{"id": "<object id>/replies", "type": "OrderedCollection", "totalItems": n,
/// "first": "<object id>/replies?page=1"}`: the direct replies of a post or announcement.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RepliesCollection {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub total_items: i64,
    pub first: Url,
}

/// The last path segment of a `replies` collection, after the object's id.
pub const REPLIES_SEGMENT: &str = "replies";

impl RepliesCollection {
    /// The `replies` of `object_id`, holding `counts.replies` items.
    pub fn of(object_id: &str, counts: Counts) -> AppResult<RepliesCollection> {
        let id = format!("{}/{REPLIES_SEGMENT}", object_id.trim_end_matches('/'));
        Ok(RepliesCollection {
            first: Url::parse(&format!("{id}?page=1"))?,
            id: Url::parse(&id)?,
            kind: "OrderedCollection".into(),
            total_items: counts.replies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_named_after_the_object() {
        let counts = Counts {
            likes: 3,
            boosts: 1,
            replies: 0,
        };
        let (likes, shares) =
            CountCollection::pair("https://ex.org/posts/7", counts).expect("collections");
        assert_eq!(
            serde_json::to_value(&likes).expect("json"),
            serde_json::json!({
                "id": "https://ex.org/posts/7/likes",
                "type": "Collection",
                "totalItems": 3,
            })
        );
        assert_eq!(shares.id.as_str(), "https://ex.org/posts/7/shares");
        assert_eq!(shares.total_items, 1);
    }

    #[test]
    fn replies_name_their_first_page() {
        let counts = Counts {
            replies: 12,
            ..Counts::default()
        };
        let replies = RepliesCollection::of("https://ex.org/posts/7", counts).expect("replies");
        assert_eq!(
            serde_json::to_value(&replies).expect("json"),
            serde_json::json!({
                "id": "https://ex.org/posts/7/replies",
                "type": "OrderedCollection",
                "totalItems": 12,
                "first": "https://ex.org/posts/7/replies?page=1",
            })
        );
    }
}
