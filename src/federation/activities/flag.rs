//! `Flag`: another server reports something of ours to our moderators; and the `Flag` we send
//! when a moderator forwards a report about a remote account or object to its server.
//!
//! Every real shape is read:
//! - Mastodon, GoToSocial, Mobilizon: the actor is the sender's *instance* actor (an
//!   `Application`), `object` lists the reported account and posts, the comment is in
//!   `content`; GoToSocial may address it with `bto` (read, never required).
//! - Lemmy and Mbin: the actor is the reporting `Person`, a single object (or a list), the
//!   reason in `summary` (Mbin also repeats it in `content`).
//! - Misskey: `object` is the reported account; the posts are the URLs the reporter pasted
//!   in `content`. URLs of ours found in `content` are added to the targets.
//!
//! Only ids on this instance count (the rest legitimately lives elsewhere and is ignored);
//! a Flag naming nothing of ours is accepted and stores nothing; the same Flag id delivered
//! twice makes one report; a Flag whose `object` names no URL is a 400. Reports from a domain
//! whose block rejects them are dropped by the inbox before this runs (202).

use crate::{
    context::AppContext,
    db::{self, actors::DbActor},
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::{deserialize_one_or_many_values, id_of},
    },
    service::moderation::{
        Reason, ReportInput, Reporter,
        reports::{self, MAX_COMMENT_CHARS, MAX_TARGETS},
    },
    urls::host_port,
};
use activitypub_federation::{
    fetch::object_id::ObjectId, kinds::activity::FlagType,
    protocol::helpers::deserialize_one_or_many, traits::Activity,
};
use diesel_async::AsyncConnection as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    #[serde(rename = "type")]
    pub kind: FlagType,
    pub id: Url,
    pub actor: ObjectId<DbActor>,
    /// What is reported: an IRI, an embedded node, or a list of either.
    #[serde(default)]
    pub object: Value,
    /// The comment (Mastodon, GoToSocial, Misskey, Mbin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    /// The reason (Lemmy, Mbin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Value>,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many_values",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cc: Vec<Value>,
    /// GoToSocial's blind addressing.
    #[serde(
        default,
        deserialize_with = "deserialize_one_or_many_values",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub bto: Vec<Value>,
}

impl Flag {
    /// The Flag we send: from `actor` (our instance actor), about `objects` (the reported
    /// account first, then its reported objects), `content` the reason and comment, addressed
    /// to the reported account(s).
    pub fn new(id: Url, actor: &DbActor, objects: &[Url], content: String, to: Vec<Url>) -> Flag {
        Flag {
            kind: FlagType::Flag,
            id,
            actor: actor.ap_url.clone().into(),
            object: Value::Array(
                objects
                    .iter()
                    .map(|u| Value::String(u.to_string()))
                    .collect(),
            ),
            content: Some(Value::String(content)),
            summary: None,
            to,
            cc: Vec::new(),
            bto: Vec::new(),
        }
    }

    /// The ids `object` names, in order, without repeats.
    pub fn object_ids(&self) -> Vec<Url> {
        let items: Vec<&Value> = match &self.object {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let mut out: Vec<Url> = Vec::new();
        for id in items.into_iter().filter_map(id_of) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// The reporter's words: `content` (HTML or text) and `summary` when it says something
    /// else, as plain text, cut to what a report keeps.
    pub fn comment(&self) -> String {
        let text = |v: &Option<Value>| {
            v.as_ref()
                .and_then(Value::as_str)
                .map(crate::sanitize::plain_text)
                .unwrap_or_default()
        };
        let (summary, content) = (text(&self.summary), text(&self.content));
        let joined = match (summary.is_empty(), content.is_empty()) {
            (_, true) => summary,
            (true, false) => content,
            (false, false) if summary == content => content,
            (false, false) => format!("{summary}\n\n{content}"),
        };
        joined.chars().take(MAX_COMMENT_CHARS).collect()
    }

    /// Everything it reports that may be ours: the object ids, then the URLs of this instance
    /// written in `content` (Misskey's way of naming the posts).
    pub fn target_urls(&self, base: &str) -> Vec<Url> {
        let mut out = self.object_ids();
        if let Some(content) = self.content.as_ref().and_then(Value::as_str) {
            for token in content.split(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | ')' | ',')
            }) {
                let token = token.trim_end_matches(['.', ';', ':', '!', '?']);
                if !token.starts_with(base) {
                    continue;
                }
                if let Ok(url) = Url::parse(token)
                    && !out.contains(&url)
                {
                    out.push(url);
                }
            }
        }
        out.truncate(MAX_TARGETS);
        out
    }

    /// The reason, when the sender's words say it plainly (Lemmy and Mbin send free text;
    /// Mastodon sends no category): otherwise `other`.
    pub fn reason(&self) -> Reason {
        let words = self.comment().to_lowercase();
        if words.contains("spam") {
            Reason::Spam
        } else if words.contains("harass") || words.contains("harcèlement") {
            Reason::Harassment
        } else if words.contains("illegal") || words.contains("illégal") {
            Reason::Illegal
        } else {
            Reason::Other
        }
    }
}

#[async_trait::async_trait]
impl Activity for Flag {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> AppResult<()> {
        if self.object_ids().is_empty() {
            return Err(AppError::bad_request(
                "Flag object: names no URL (an IRI, a node with an id, or a list of them)",
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        let ctx = data.app_data();
        let domain = host_port(self.actor.inner())
            .ok_or_else(|| AppError::bad_request("Flag actor: no host"))?;
        let actor = self.actor.dereference(data).await?;
        let input = ReportInput {
            reporter: Reporter::Remote {
                actor_id: actor.id,
                flag_id: self.id.clone(),
                domain,
            },
            targets: self.target_urls(ctx.urls.base()),
            reason: self.reason(),
            rule_ids: Vec::new(),
            comment: self.comment(),
            forward: false,
        };
        let mut conn = ctx.conn().await?;
        let stored = conn
            .transaction::<_, AppError, _>(async |conn| {
                if !db::received_activities::mark_received(conn, self.id.as_str()).await? {
                    return Ok(None);
                }
                reports::submit(ctx, conn, input).await
            })
            .await?;
        match stored {
            Some(s) => tracing::info!(
                "report {} received from {} ({} target(s))",
                s.report.id,
                self.id,
                s.targets.len()
            ),
            None => tracing::debug!("Flag {}: nothing of ours, or already received", self.id),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;
    use serde_json::json;

    const BASE: &str = "https://example.com";

    fn parse(path: &str) -> Flag {
        serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn strings(urls: &[Url]) -> Vec<&str> {
        urls.iter().map(Url::as_str).collect()
    }

    #[test]
    fn mastodon_flag() {
        let flag = parse("mastodon/activities/flag.json");
        assert_eq!(
            flag.actor.inner().as_str(),
            "https://mastodon.example/actor"
        );
        assert_eq!(
            strings(&flag.object_ids()),
            vec![
                "https://example.com/users/1",
                "https://example.com/posts/380590",
                "https://example.com/posts/380591"
            ]
        );
        assert_eq!(
            flag.comment(),
            "Please take a look at this user and their posts"
        );
        assert_eq!(flag.reason(), Reason::Other);
        assert_eq!(flag.to.len(), 1);
        let spec = parse("mastodon-spec/flag.json");
        assert_eq!(spec.object_ids().len(), 2);
        assert_eq!(spec.comment(), "Boo!!");
    }

    #[test]
    fn gotosocial_flag_with_bto() {
        let mut value: Value =
            serde_json::from_str(&fixture("gotosocial/flag.json")).expect("fixture");
        let flag: Flag = serde_json::from_value(value.clone()).expect("gotosocial");
        assert_eq!(flag.object_ids().len(), 2);
        assert_eq!(flag.comment(), "dark souls sucks, please yeet this nerd");
        // GoToSocial addresses its Flags with `bto` (one IRI or a list).
        value["bto"] = json!("http://fossbros-anonymous.io/users/foss_satan");
        let flag: Flag = serde_json::from_value(value).expect("with bto");
        assert_eq!(flag.bto.len(), 1);
    }

    #[test]
    fn lemmy_and_mbin_flags() {
        let lemmy = parse("lemmy/activities/community/report_page.json");
        assert_eq!(
            strings(&lemmy.object_ids()),
            vec!["http://enterprise.lemmy.ml/post/7"]
        );
        assert_eq!(lemmy.comment(), "report this post");
        let mbin = parse("mbin/activities/flag.json");
        assert_eq!(mbin.object_ids().len(), 2);
        // The same words in summary and content are kept once.
        assert_eq!(mbin.comment(), "dikjhgasdpas dsaü");
    }

    #[test]
    fn misskey_names_posts_in_content() {
        let flag: Flag = serde_json::from_value(json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "type": "Flag",
            "id": "https://misskey.example/9pq2kd01ab",
            "actor": "https://misskey.example/users/9i5sd2fb3c",
            "content": "Spam: https://example.com/announcements/12 et https://example.com/posts/3/un-titre, aussi https://other.example/notes/1",
            "object": ["https://example.com/users/alice"]
        }))
        .expect("misskey");
        assert_eq!(
            strings(&flag.target_urls(BASE)),
            vec![
                "https://example.com/users/alice",
                "https://example.com/announcements/12",
                "https://example.com/posts/3/un-titre"
            ]
        );
        assert_eq!(flag.reason(), Reason::Spam);
    }

    #[test]
    fn html_content_and_embedded_objects() {
        let flag: Flag = serde_json::from_value(json!({
            "type": "Flag",
            "id": "https://a.example/flags/1",
            "actor": "https://a.example/actor",
            "content": "<p>Voir <a href=\"https://example.com/posts/9\">ce billet</a></p>",
            "object": {"id": "https://example.com/users/bob", "type": "Person"}
        }))
        .expect("flag");
        assert_eq!(flag.comment(), "Voir ce billet");
        assert_eq!(
            strings(&flag.target_urls(BASE)),
            vec![
                "https://example.com/users/bob",
                "https://example.com/posts/9"
            ]
        );
    }

    #[test]
    fn a_flag_naming_no_url_parses_but_names_nothing() {
        for object in [
            json!(null),
            json!("not a url"),
            json!([]),
            json!([{"type": "Note"}]),
        ] {
            let flag: Flag = serde_json::from_value(json!({
                "type": "Flag", "id": "https://a.example/flags/2",
                "actor": "https://a.example/actor", "object": object
            }))
            .expect("flag");
            assert!(flag.object_ids().is_empty());
        }
    }

    #[test]
    fn outgoing_flag_shape() {
        let flag = Flag {
            kind: FlagType::Flag,
            id: Url::parse("http://localhost:8080/reports/4").expect("url"),
            actor: Url::parse("http://localhost:8080/actor")
                .expect("url")
                .into(),
            object: json!(["https://r.example/users/x", "https://r.example/notes/1"]),
            content: Some(json!("Spam\n\nvu deux fois")),
            summary: None,
            to: vec![Url::parse("https://r.example/users/x").expect("url")],
            cc: Vec::new(),
            bto: Vec::new(),
        };
        let value = serde_json::to_value(&flag).expect("json");
        assert_eq!(value["type"], "Flag");
        assert_eq!(value["object"][0], "https://r.example/users/x");
        assert!(value.get("summary").is_none() && value.get("bto").is_none());
        let back: Flag = serde_json::from_value(value).expect("back");
        assert_eq!(back.object_ids().len(), 2);
    }
}
