//! Actors on the wire: `Person`, `Organization`, `Application`, `Group`, `Service`, all read
//! and written through one struct, and the `Object`/`Actor` impls of [`DbActor`].
//!
//! Delivery workers sign with `impl Actor for DbActor` (the private key never leaves the row);
//! `ObjectId<DbActor>::dereference` reads the `actors` table first and fetches (signed by the
//! instance actor) only unknown or stale remote actors.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::{DbActor, NewActor},
    },
    error::{AppError, AppResult},
    federation::{
        Data,
        objects::{actor_context, is_local_url},
        untrusted::{MAX_URL_BYTES, web_link, without_nul},
    },
    sanitize::SafeHtml,
    urls::{host_port, same_origin},
};
use activitypub_federation::{
    fetch::object_id::ObjectId,
    protocol::{context::WithContext, helpers::deserialize_skip_error, public_key::PublicKey},
    traits::{Actor, Object},
};
use chrono::{DateTime, Utc};
use rsa::{
    RsaPublicKey,
    pkcs1::DecodeRsaPublicKey,
    pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding},
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use url::Url;

/// Longest `name` kept from a remote actor (characters); longer ones are cut.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest `preferredUsername` accepted from a remote actor.
pub const MAX_USERNAME_CHARS: usize = 255;

/// The actor types we read and serve. The database CHECK allows the same five.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum ActorType {
    Person,
    Organization,
    Application,
    Group,
    Service,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::Person => "Person",
            ActorType::Organization => "Organization",
            ActorType::Application => "Application",
            ActorType::Group => "Group",
            ActorType::Service => "Service",
        }
    }

    pub fn parse(kind: &str) -> Option<ActorType> {
        Some(match kind {
            "Person" => ActorType::Person,
            "Organization" => ActorType::Organization,
            "Application" => ActorType::Application,
            "Group" => ActorType::Group,
            "Service" => ActorType::Service,
            _ => return None,
        })
    }
}

/// An image reference (`icon`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(rename = "type", default = "image_type")]
    pub kind: String,
    pub url: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

pub(crate) fn image_type() -> String {
    "Image".to_string()
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub shared_inbox: Option<Url>,
}

/// Any actor document. Optional fields that other servers send in odd shapes (an `icon`
/// list, a `url` object…) are read leniently; the fields signatures and delivery depend on
/// (`id`, `inbox`, `publicKey`) are strict.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub id: ObjectId<DbActor>,
    pub preferred_username: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub summary: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_icon"
    )]
    pub icon: Option<Image>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub url: Option<Url>,
    pub inbox: Url,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub outbox: Option<Url>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub followers: Option<Url>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub following: Option<Url>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub endpoints: Option<Endpoints>,
    pub public_key: PublicKey,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub discoverable: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub manually_approves_followers: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub published: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub updated: Option<DateTime<Utc>>,
    /// A venue's header picture (its first photo); see `objects::venue`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_icon"
    )]
    pub image: Option<Image>,
    /// Where a venue is: a `Place` (see `objects::venue`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_skip_error"
    )]
    pub location: Option<super::venue::Place>,
    /// Profile fields as Mastodon shows them (`PropertyValue`s).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::venue::deserialize_attachments"
    )]
    pub attachment: Vec<super::venue::PropertyValue>,
}

/// `icon` is an Image, a list of Images (PeerTube: several sizes) or junk: keep the last
/// usable one (lists go from small to large), drop the rest.
fn deserialize_icon<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Image>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let candidates = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    Ok(candidates
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Url::parse(&s).ok().map(|url| Image {
                kind: image_type(),
                url,
                media_type: None,
            }),
            other => serde_json::from_value::<Image>(other).ok(),
        })
        // An avatar is shown as `src`: http(s) only (no `data:`, `javascript:`…).
        .rfind(|image| web_link(image.url.clone()).is_some()))
}

/// The public key as SPKI PEM (`BEGIN PUBLIC KEY`, 64-column lines), the only form the
/// signature verifier reads. Converted here, once, on intake: Mobilizon publishes PKCS#1
/// (`BEGIN RSA PUBLIC KEY`), Smithereen writes the base64 on one line.
pub fn normalize_public_key(pem: &str) -> AppResult<String> {
    let pem = pem.trim();
    let key = RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .or_else(|_| {
            let der =
                lenient_pem_body(pem).ok_or_else(|| AppError::bad_request("publicKey: not PEM"))?;
            RsaPublicKey::from_public_key_der(&der)
                .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
                .map_err(|e| AppError::bad_request(format!("publicKey: unreadable RSA key: {e}")))
        })?;
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| AppError::bad_request(format!("publicKey: {e}")))
}

/// The bytes between the BEGIN and END lines of a PEM block, whatever its line lengths.
fn lenient_pem_body(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Person {
    /// The row for a remote actor document that passed [`Object::verify`].
    ///
    /// Every string is stripped of NUL characters here (fetched documents do not go through
    /// the inbox's cleaning), and the links shown on our pages (`url`, `icon`) are kept only
    /// when they are http(s).
    pub fn into_new_remote_actor(self) -> AppResult<NewActor> {
        let id: Url = self.id.into_inner();
        let domain = host_port(&id).ok_or_else(|| AppError::bad_request("actor id has no host"))?;
        let preferred_username = without_nul(&self.preferred_username);
        let username = preferred_username.trim();
        if username.is_empty() || username.chars().count() > MAX_USERNAME_CHARS {
            return Err(AppError::bad_request(
                "preferredUsername: missing or too long",
            ));
        }
        let public_key_pem = normalize_public_key(&self.public_key.public_key_pem)?;
        let name = self
            .name
            .map(|n| truncate_chars(without_nul(&n).trim(), MAX_NAME_CHARS))
            .unwrap_or_default();
        let summary_html = self
            .summary
            .map(|s| SafeHtml::clean(&without_nul(&s)).into_string())
            .unwrap_or_default();
        let shared_inbox_url = self
            .endpoints
            .and_then(|e| e.shared_inbox)
            .and_then(web_link)
            .map(|u| u.to_string());
        let now = Utc::now();
        Ok(NewActor {
            ap_id: id.to_string(),
            kind: self.kind.as_str().to_string(),
            username: username.to_string(),
            domain,
            local: false,
            name,
            summary_html,
            icon_url: self.icon.and_then(|i| web_link(i.url)).map(String::from),
            url: self.url.and_then(web_link).map(String::from),
            inbox_url: self.inbox.to_string(),
            shared_inbox_url,
            outbox_url: self.outbox.and_then(web_link).map(String::from),
            followers_url: self.followers.and_then(web_link).map(String::from),
            following_url: self.following.and_then(web_link).map(String::from),
            public_key_pem,
            private_key_pem: None,
            manually_approves_followers: self.manually_approves_followers.unwrap_or(false),
            discoverable: self.discoverable.unwrap_or(false),
            published: self.published.unwrap_or(now),
            last_refreshed_at: now,
        })
    }

    /// Checks an actor document received from `expected` (the URL it was fetched from, or the
    /// actor of the activity that carried it): same origin, key owned by the actor, usable
    /// key and inbox.
    pub fn check(&self, expected: &Url) -> AppResult<()> {
        let id = self.id.inner();
        if !same_origin(id, expected) {
            return Err(AppError::bad_request(format!(
                "actor {id} is not on the origin of {expected}"
            )));
        }
        if &self.public_key.owner != id {
            return Err(AppError::bad_request(format!(
                "publicKey.owner {} is not the actor {id}",
                self.public_key.owner
            )));
        }
        if !matches!(self.inbox.scheme(), "http" | "https") {
            return Err(AppError::bad_request("inbox: not an http(s) URL"));
        }
        for (field, url) in [("id", id), ("inbox", &self.inbox)] {
            if url.as_str().len() > MAX_URL_BYTES {
                return Err(AppError::bad_request(format!(
                    "{field}: longer than {MAX_URL_BYTES} bytes"
                )));
            }
        }
        normalize_public_key(&self.public_key.public_key_pem)?;
        Ok(())
    }
}

/// The JSON-LD document served at a local actor's id, `@context` included.
pub fn actor_document(actor: DbActor) -> AppResult<WithContext<Person>> {
    Ok(WithContext::new(local_person(actor)?, actor_context()))
}

/// The protocol struct of a local actor (what `into_json` returns).
pub fn local_person(actor: DbActor) -> AppResult<Person> {
    let kind = ActorType::parse(&actor.kind)
        .ok_or_else(|| AppError::internal(format!("actor kind {}", actor.kind)))?;
    let name = if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    };
    let icon = parse_opt(&actor.icon_url).map(|url| Image {
        kind: image_type(),
        media_type: guess_media_type(url.path()),
        url,
    });
    let public_key = actor.public_key();
    Ok(Person {
        kind,
        preferred_username: actor.username.clone(),
        name: Some(name),
        // Local summaries are written from `SafeHtml` only.
        summary: Some(SafeHtml::from_trusted_storage(actor.summary_html.clone()).into_string()),
        icon,
        url: parse_opt(&actor.url),
        inbox: actor.inbox(),
        outbox: parse_opt(&actor.outbox_url),
        followers: parse_opt(&actor.followers_url),
        following: parse_opt(&actor.following_url),
        endpoints: Some(Endpoints {
            shared_inbox: actor.shared_inbox(),
        }),
        public_key,
        discoverable: Some(actor.discoverable),
        manually_approves_followers: Some(actor.manually_approves_followers),
        published: Some(actor.published),
        updated: Some(actor.updated_at),
        image: None,
        location: None,
        attachment: Vec::new(),
        id: actor.ap_url.into(),
    })
}

pub(crate) fn guess_media_type(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let ext = lower.rsplit('.').next()?;
    Some(
        match ext {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "gif" => "image/gif",
            "avif" => "image/avif",
            _ => return None,
        }
        .to_string(),
    )
}

fn parse_opt(url: &Option<String>) -> Option<Url> {
    url.as_deref().and_then(|u| Url::parse(u).ok())
}

#[async_trait::async_trait]
impl Object for DbActor {
    type DataType = AppContext;
    type Kind = Person;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.ap_url
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        Some(self.last_refreshed_at)
    }

    async fn read_from_id(object_id: Url, data: &Data) -> AppResult<Option<Self>> {
        let mut conn = data.app_data().conn().await?;
        Ok(db::actors::by_ap_id(&mut conn, object_id.as_str()).await?)
    }

    /// A fetch answered 410 Gone: the actor is gone, and so are its follows.
    async fn delete(&self, data: &Data) -> AppResult<()> {
        if self.local {
            return Ok(());
        }
        let mut conn = data.app_data().conn().await?;
        crate::service::follows::remove_deleted_actor(&mut conn, self.id).await
    }

    fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    async fn into_json(self, _data: &Data) -> AppResult<Person> {
        local_person(self)
    }

    async fn verify(json: &Person, expected_domain: &Url, data: &Data) -> AppResult<()> {
        if is_local_url(data, json.id.inner()) {
            return Err(AppError::bad_request(
                "a remote document claims a local actor id",
            ));
        }
        json.check(expected_domain)
    }

    async fn from_json(json: Person, data: &Data) -> AppResult<Self> {
        let new = json.into_new_remote_actor()?;
        let mut conn = data.app_data().conn().await?;
        Ok(db::actors::upsert_remote(&mut conn, &new).await?)
    }
}

impl Actor for DbActor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        // Stored inboxes came from a `Url`; the id is a harmless fallback for a hand-edited row.
        Url::parse(&self.inbox_url).unwrap_or_else(|_| self.ap_url.clone())
    }

    fn shared_inbox(&self) -> Option<Url> {
        parse_opt(&self.shared_inbox_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    const ACTOR_FIXTURES: &[&str] = &[
        "mastodon/objects/person.json",
        "mastodon-spec/activitypub-actor.json",
        "lemmy/objects/person.json",
        "lemmy/objects/group.json",
        "friendica/objects/person_1.json",
        "pleroma/objects/person.json",
        "smithereen/objects/person.json",
        "wordpress/objects/person.json",
        "mobilizon/objects/person.json",
        "mobilizon/objects/group.json",
        "peertube/objects/group.json",
        "discourse/objects/group.json",
    ];

    #[test]
    fn every_fixture_actor_parses_verifies_and_becomes_a_row() {
        for path in ACTOR_FIXTURES {
            let person: Person = serde_json::from_str(&fixture(path))
                .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
            let id = person.id.inner().clone();
            person
                .check(&id)
                .unwrap_or_else(|e| panic!("{path} does not verify: {e}"));
            let row = person
                .clone()
                .into_new_remote_actor()
                .unwrap_or_else(|e| panic!("{path} gives no row: {e}"));
            assert_eq!(row.ap_id, id.to_string(), "{path}");
            assert!(!row.local);
            assert!(row.private_key_pem.is_none());
            assert!(
                row.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"),
                "{path}: {}",
                row.public_key_pem
            );
            assert!(!row.username.is_empty(), "{path}");
            // The verifier (strict PEM reader) accepts what we stored.
            RsaPublicKey::from_public_key_pem(&row.public_key_pem)
                .unwrap_or_else(|e| panic!("{path}: stored key unreadable: {e}"));
            // Round trip: what we serialise reads back the same.
            let back: Person =
                serde_json::from_value(serde_json::to_value(&person).expect("serialise"))
                    .expect("round trip");
            assert_eq!(back.id, person.id, "{path}");
            assert_eq!(back.inbox, person.inbox, "{path}");
            assert_eq!(back.public_key, person.public_key, "{path}");
        }
    }

    #[test]
    fn fixture_details_survive() {
        let m: Person =
            serde_json::from_str(&fixture("mastodon/objects/person.json")).expect("mastodon");
        assert_eq!(m.kind, ActorType::Person);
        assert_eq!(
            m.endpoints.and_then(|e| e.shared_inbox).map(String::from),
            Some("https://masto.qa.urbanwildlife.biz/inbox".to_string())
        );
        assert!(m.icon.is_some());
        let p: Person =
            serde_json::from_str(&fixture("peertube/objects/group.json")).expect("peertube");
        assert_eq!(p.kind, ActorType::Group);
        // The larger of the two avatars.
        assert!(p.icon.expect("icon").url.as_str().contains("13b0214b"));
        let mobilizon: Person =
            serde_json::from_str(&fixture("mobilizon/objects/person.json")).expect("mobilizon");
        // PKCS#1 key converted to SPKI.
        let row = mobilizon.into_new_remote_actor().expect("row");
        assert!(row.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    }

    #[test]
    fn hostile_summary_is_cleaned_and_name_cut() {
        let mut doc: Value =
            serde_json::from_str(&fixture("mastodon/objects/person.json")).expect("json");
        doc["summary"] = Value::String(
            "<p onclick=\"x()\">Bonjour<script>alert(1)</script> <a href=\"javascript:x\">l</a></p>"
                .into(),
        );
        doc["name"] = Value::String("n".repeat(1000));
        let person: Person = serde_json::from_value(doc).expect("parse");
        let row = person.into_new_remote_actor().expect("row");
        assert!(!row.summary_html.contains("script"), "{}", row.summary_html);
        assert!(
            !row.summary_html.contains("onclick"),
            "{}",
            row.summary_html
        );
        assert!(
            !row.summary_html.contains("javascript"),
            "{}",
            row.summary_html
        );
        assert!(row.summary_html.contains("Bonjour"));
        assert_eq!(row.name.chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn verification_refuses_foreign_origins_and_borrowed_keys() {
        let doc = fixture("mastodon/objects/person.json");
        let person: Person = serde_json::from_str(&doc).expect("parse");
        let other_port =
            Url::parse("https://masto.qa.urbanwildlife.biz:8443/users/mastodon").expect("url");
        assert!(person.check(&other_port).is_err());
        let mut value: Value = serde_json::from_str(&doc).expect("json");
        value["publicKey"]["owner"] = Value::String("https://evil.example/users/x".into());
        let borrowed: Person = serde_json::from_value(value).expect("parse");
        let id = borrowed.id.inner().clone();
        assert!(borrowed.check(&id).is_err());
        let mut value: Value = serde_json::from_str(&doc).expect("json");
        value["publicKey"]["publicKeyPem"] = Value::String("not a key".into());
        let broken: Person = serde_json::from_value(value).expect("parse");
        assert!(broken.check(&id).is_err());
    }

    #[test]
    fn unknown_actor_types_and_missing_inbox_are_refused() {
        let mut value: Value =
            serde_json::from_str(&fixture("mastodon/objects/person.json")).expect("json");
        value["type"] = Value::String("Note".into());
        assert!(serde_json::from_value::<Person>(value.clone()).is_err());
        value["type"] = Value::String("Person".into());
        value.as_object_mut().expect("object").remove("inbox");
        assert!(serde_json::from_value::<Person>(value).is_err());
    }
}
