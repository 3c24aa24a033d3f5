//! Comments on the wire: a `Note` with `inReplyTo`, out (our members' comments) and in
//! (replies from Mastodon, Misskey, GoToSocial, Pleroma, Friendica…, and public posts of the
//! actors our members follow).
//!
//! Inbound objects are read field by field from the JSON rather than through a strict
//! struct: real servers send `attributedTo` as a list, `url` as a Link, `content` only in
//! `contentMap`, `source` as a bare string, `as:Public` for the public collection… and a
//! comment must not be lost for any of that.

use crate::{
    context::AppContext,
    db::{actors::DbActor, comments::DbComment},
    error::{AppError, AppResult},
    federation::{
        activities::{id_of, type_of},
        objects::{PUBLIC, article::Source, counts::CountCollection, is_public},
        untrusted::{check_id_lengths, parse_web_link, without_nul},
    },
    sanitize::{SafeHtml, excerpt, plain_text},
    service::{comments::IncomingNote, mentions, reactions::Counts},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// `tag` entry naming an actor (the author of the parent, so it is notified).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Mention {
    #[serde(rename = "type")]
    pub kind: String,
    pub href: Url,
    /// `@user@host`.
    pub name: String,
}

impl Mention {
    pub fn of(actor: &DbActor) -> AppResult<Mention> {
        Ok(Mention {
            kind: "Mention".into(),
            href: Url::parse(&actor.ap_id)?,
            name: format!("@{}@{}", actor.username, actor.domain),
        })
    }

    fn stored(m: &mentions::Mention) -> AppResult<Mention> {
        Ok(Mention {
            kind: "Mention".into(),
            href: Url::parse(&m.href)?,
            name: m.name.clone(),
        })
    }
}

/// The mentions stored with a local comment (an unreadable value counts as none).
pub fn stored_mentions(comment: &DbComment) -> Vec<mentions::Mention> {
    crate::service::comments::stored_mentions(comment)
}

/// A local comment as a `Note`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommentNote {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    pub attributed_to: Url,
    pub in_reply_to: Url,
    pub content: String,
    pub media_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    pub url: Url,
    pub published: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    pub tag: Vec<Mention>,
    /// How many likes and boosts it has (Mastodon 4.3+ shows them).
    pub likes: CountCollection,
    pub shares: CountCollection,
}

/// `to` and `cc` of a comment: public, copied to the commenter's followers, to the author of
/// the parent (who is also mentioned, so Mastodon notifies them) and to the actors the text
/// mentions.
pub fn comment_audience(
    author: &DbActor,
    parent_author: &DbActor,
    mentioned: &[mentions::Mention],
) -> AppResult<(Vec<Url>, Vec<Url>)> {
    let mut cc = Vec::new();
    if let Some(followers) = &author.followers_url {
        cc.push(Url::parse(followers)?);
    }
    if parent_author.id != author.id {
        cc.push(Url::parse(&parent_author.ap_id)?);
    }
    for m in mentioned {
        let href = Url::parse(&m.href)?;
        if m.href != author.ap_id && !cc.contains(&href) {
            cc.push(href);
        }
    }
    Ok((vec![Url::parse(PUBLIC)?], cc))
}

/// A comment written here as a `Note`, with its likes and boosts `counts`. `url` is its id:
/// browsers asking for it are sent to the comment under its post.
pub fn note(
    _ctx: &AppContext,
    comment: &DbComment,
    author: &DbActor,
    parent_author: &DbActor,
    counts: Counts,
) -> AppResult<CommentNote> {
    let mentioned = stored_mentions(comment);
    let (to, cc) = comment_audience(author, parent_author, &mentioned)?;
    let id = Url::parse(&comment.ap_id)?;
    let (likes, shares) = CountCollection::pair(&comment.ap_id, counts)?;
    let mut tag = if parent_author.id == author.id {
        Vec::new()
    } else {
        vec![Mention::of(parent_author)?]
    };
    for m in &mentioned {
        let m = Mention::stored(m)?;
        if m.href.as_str() != author.ap_id && !tag.iter().any(|t| t.href == m.href) {
            tag.push(m);
        }
    }
    Ok(CommentNote {
        kind: "Note".into(),
        url: id.clone(),
        id,
        attributed_to: Url::parse(&author.ap_id)?,
        in_reply_to: Url::parse(&comment.in_reply_to)?,
        content: comment.body_html.clone(),
        media_type: "text/html".into(),
        source: comment.body_markdown.as_ref().map(|md| Source {
            content: md.clone(),
            media_type: "text/markdown".into(),
        }),
        published: comment.published_at,
        updated: (comment.updated_at > comment.published_at).then_some(comment.updated_at),
        to,
        cc,
        tag,
        likes,
        shares,
    })
}

/// `Tombstone` served (with 410) for a deleted comment, and sent in its `Delete`.
pub fn tombstone(comment: &DbComment) -> Value {
    serde_json::json!({
        "type": "Tombstone",
        "id": comment.ap_id,
        "formerType": "Note",
        "deleted": comment.deleted_at.unwrap_or(comment.updated_at),
    })
}

/// Object types received as comments or posts; anything else (Question, Event…) is ignored.
pub const ACCEPTED_TYPES: &[&str] = &["Note", "Article", "Page"];

/// A string field, without NUL characters (a fetched object did not go through the inbox's
/// cleaning, and PostgreSQL refuses them).
fn text(node: &Value, key: &str) -> String {
    without_nul(node.get(key).and_then(Value::as_str).unwrap_or_default()).into_owned()
}

/// `content`, else the first `contentMap` entry (some servers send only the map).
fn content_of(node: &Value) -> String {
    let content = node.get("content").and_then(Value::as_str).or_else(|| {
        node.get("contentMap")
            .and_then(Value::as_object)
            .and_then(|map| map.values().find_map(Value::as_str))
    });
    without_nul(content.unwrap_or_default()).into_owned()
}

/// A reference that may be an IRI, a node, or a list of those: the first usable id.
fn first_id(value: &Value) -> Option<Url> {
    match value {
        Value::Array(items) => items.iter().find_map(first_id),
        other => id_of(other),
    }
}

/// `url`: an IRI, a `Link` (`href`), or a list of them; the HTML one preferred. Only http(s)
/// links count: the link is shown as an `href` on our pages.
fn url_of(value: &Value) -> Option<Url> {
    let href = |v: &Value| match v {
        Value::String(s) => parse_web_link(s),
        Value::Object(map) => map
            .get("href")
            .and_then(Value::as_str)
            .and_then(parse_web_link),
        _ => None,
    };
    match value {
        Value::Array(items) => items
            .iter()
            .find(|v| v.get("mediaType").and_then(Value::as_str) == Some("text/html"))
            .and_then(href)
            .or_else(|| items.iter().find_map(href)),
        other => href(other),
    }
}

fn date(node: &Value, key: &str) -> Option<DateTime<Utc>> {
    node.get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

fn addressed_to_public(node: &Value) -> bool {
    ["to", "cc"].iter().any(|key| match node.get(*key) {
        Some(Value::String(s)) => is_public(s),
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str().is_some_and(is_public)),
        _ => false,
    })
}

fn hashtags_of(node: &Value) -> Vec<String> {
    let tags: Vec<&Value> = match node.get("tag") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other @ Value::Object(_)) => vec![other],
        _ => Vec::new(),
    };
    tags.into_iter()
        .filter(|t| type_of(t) == Some("Hashtag"))
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(|n| without_nul(n).trim_start_matches('#').to_string())
        .filter(|n| !n.is_empty() && n.chars().count() <= 100)
        .take(50)
        .collect()
}

/// The actors the `Mention` tags name (at most 50).
fn mentioned_of(node: &Value) -> Vec<Url> {
    let tags: Vec<&Value> = match node.get("tag") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other @ Value::Object(_)) => vec![other],
        _ => Vec::new(),
    };
    tags.into_iter()
        .filter(|t| type_of(t) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(Value::as_str))
        .filter_map(|href| Url::parse(href).ok())
        .take(50)
        .collect()
}

/// Longest content warning kept, in characters.
pub const MAX_CONTENT_WARNING_CHARS: usize = 500;

/// On a Note (Mastodon, Misskey, Pleroma, GoToSocial) a `summary` is a content warning —
/// with `sensitive: true`, but some servers omit the flag, and the text alone already asks
/// for the body to be hidden. On an Article or Page it is an abstract, not a warning.
fn content_warning_of(kind: &str, summary: &str) -> Option<String> {
    if kind != "Note" {
        return None;
    }
    let text = plain_text(SafeHtml::clean(summary).as_str());
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then(|| excerpt(&text, MAX_CONTENT_WARNING_CHARS))
}

/// Reads an embedded Note/Article/Page into the value the service stores from; an error (400)
/// when it has no usable id or type.
pub fn parse_note(node: &Value) -> AppResult<IncomingNote> {
    if !node.is_object() {
        return Err(AppError::bad_request("the object is not embedded"));
    }
    let id = node
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .ok_or_else(|| AppError::bad_request("object id: missing or not a URL"))?;
    check_id_lengths(node)?;
    let kind = type_of(node)
        .ok_or_else(|| AppError::bad_request("object type: missing"))?
        .to_string();
    let summary = text(node, "summary");
    Ok(IncomingNote {
        content_warning: content_warning_of(&kind, &summary),
        id,
        kind,
        attributed_to: node.get("attributedTo").and_then(first_id),
        in_reply_to: node.get("inReplyTo").and_then(first_id),
        name: text(node, "name"),
        summary,
        content: content_of(node),
        url: node.get("url").and_then(url_of),
        published: date(node, "published"),
        public: addressed_to_public(node),
        hashtags: hashtags_of(node),
        mentioned: mentioned_of(node),
    })
}

/// Whether a parsed object is of a type we keep ([`ACCEPTED_TYPES`]).
pub fn is_accepted_type(note: &IncomingNote) -> bool {
    ACCEPTED_TYPES.contains(&note.kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    #[test]
    fn fixture_replies_parse() {
        for (path, public) in [
            ("mastodon/activities/create_note.json", true),
            ("pleroma/activities/create_note.json", true),
            ("friendica/activities/create_note.json", true),
            ("smithereen/activities/create_note.json", true),
        ] {
            let activity: Value =
                serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            let note = parse_note(&activity["object"]).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(is_accepted_type(&note), "{path}");
            assert!(note.in_reply_to.is_some(), "{path}");
            assert!(note.attributed_to.is_some(), "{path}");
            assert!(!note.content.is_empty(), "{path}");
            assert_eq!(note.public, public, "{path}");
        }
        let mastodon: Value =
            serde_json::from_str(&fixture("mastodon/objects/note_1.json")).expect("json");
        let note = parse_note(&mastodon).expect("note");
        assert_eq!(
            note.url.map(|u| u.to_string()).as_deref(),
            Some("https://mastodon.madrid/@felix/107224289116410645")
        );
        assert!(note.published.is_some());
    }

    #[test]
    fn content_warnings_of_notes_only() {
        // No real payload in the fixtures carries one: a Mastodon Note given a CW the way
        // Mastodon sends it (`summary` + `sensitive: true`).
        let mut mastodon: Value =
            serde_json::from_str(&fixture("mastodon/objects/note_1.json")).expect("json");
        assert_eq!(parse_note(&mastodon).expect("note").content_warning, None);
        mastodon["summary"] = Value::from("Spoiler : la fin <b>du</b>   spectacle");
        mastodon["sensitive"] = Value::from(true);
        let note = parse_note(&mastodon).expect("note");
        assert_eq!(
            note.content_warning.as_deref(),
            Some("Spoiler : la fin du spectacle")
        );
        // Pleroma sends an empty summary when there is none.
        let pleroma: Value =
            serde_json::from_str(&fixture("pleroma/activities/create_note.json")).expect("json");
        let note = parse_note(&pleroma["object"]).expect("note");
        assert_eq!(note.content_warning, None);
        // An Article's summary is its abstract.
        let article = parse_note(&serde_json::json!({
            "id": "https://a.example/a/1", "type": "Article", "summary": "Résumé", "content": "x"
        }))
        .expect("article");
        assert_eq!(article.content_warning, None);
    }

    #[test]
    fn tolerant_shapes() {
        let note = parse_note(&serde_json::json!({
            "id": "https://a.example/n/1",
            "type": ["Note"],
            "attributedTo": [{"type": "Person", "id": "https://a.example/u/x"}],
            "inReplyTo": {"id": "https://b.example/p/1", "type": "Note"},
            "contentMap": {"fr": "<p>Bonjour</p>"},
            "url": [{"type": "Link", "mediaType": "text/html", "href": "https://a.example/@x/1"}],
            "cc": "as:Public",
            "tag": {"type": "Hashtag", "name": "#appelAProjets"}
        }))
        .expect("parse");
        assert_eq!(note.kind, "Note");
        assert_eq!(
            note.attributed_to.map(|u| u.to_string()).as_deref(),
            Some("https://a.example/u/x")
        );
        assert_eq!(
            note.in_reply_to.map(|u| u.to_string()).as_deref(),
            Some("https://b.example/p/1")
        );
        assert_eq!(note.content, "<p>Bonjour</p>");
        assert!(note.public);
        assert_eq!(note.hashtags, vec!["appelAProjets"]);
        assert!(parse_note(&serde_json::json!("https://a.example/n/1")).is_err());
        assert!(parse_note(&serde_json::json!({"type": "Note"})).is_err());
    }
}
