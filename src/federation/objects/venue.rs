//! A venue on the wire: the `Organization` of its actor with a `location` `Place` (name,
//! `PostalAddress`, coordinates when known), its first photo as `icon` and `image`, and its
//! facts (address, capacity, accessibility…) as `PropertyValue` attachments, which Mastodon
//! shows as profile fields.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        venues::{DbPhoto, DbVenue},
    },
    error::AppResult,
    federation::objects::{
        actor_context,
        person::{Image, Person, image_type, local_person},
    },
    i18n::Lang,
    sanitize::escape_text,
    service::{communes, venues::photos},
};
use activitypub_federation::protocol::context::WithContext;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use url::Url;

/// `Place` (ActivityStreams), as Mobilizon and Gancio send it: `address` is a schema.org
/// `PostalAddress` (or a plain string elsewhere), kept as it came.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

/// One profile field (schema.org `PropertyValue`, Mastodon's shape): `value` is HTML.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub value: String,
}

impl PropertyValue {
    fn new(name: &str, value: String) -> Self {
        Self {
            kind: "PropertyValue".to_string(),
            name: name.to_string(),
            value,
        }
    }
}

/// `attachment` holds anything (images, links…): only `PropertyValue`s are kept.
pub fn deserialize_attachments<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<PropertyValue>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    Ok(items
        .into_iter()
        .filter_map(|v| serde_json::from_value::<PropertyValue>(v).ok())
        .filter(|p| p.kind == "PropertyValue")
        .collect())
}

/// `@context` of a venue's document: the actor context plus the schema.org terms of its
/// `PropertyValue`s and `PostalAddress`.
pub fn venue_context() -> Value {
    let mut context = actor_context();
    if let Some(items) = context.as_array_mut()
        && let Some(Value::Object(map)) = items.last_mut()
    {
        map.insert("schema".into(), json!("http://schema.org#"));
        map.insert("PropertyValue".into(), json!("schema:PropertyValue"));
        map.insert("value".into(), json!("schema:value"));
        map.insert("PostalAddress".into(), json!("schema:PostalAddress"));
        map.insert("address".into(), json!("schema:address"));
        map.insert("streetAddress".into(), json!("schema:streetAddress"));
        map.insert("postalCode".into(), json!("schema:postalCode"));
        map.insert("addressLocality".into(), json!("schema:addressLocality"));
        map.insert("addressCountry".into(), json!("schema:addressCountry"));
    }
    context
}

/// The venue's `Place`.
pub fn place(venue: &DbVenue) -> Place {
    let commune = communes::by_code(&venue.commune_code);
    let mut address = serde_json::Map::new();
    address.insert("type".into(), json!("PostalAddress"));
    if !venue.address.is_empty() {
        address.insert("streetAddress".into(), json!(venue.address));
    }
    if !venue.postal_code.is_empty() {
        address.insert("postalCode".into(), json!(venue.postal_code));
    }
    if let Some(c) = commune {
        address.insert("addressLocality".into(), json!(c.name));
    }
    address.insert("addressCountry".into(), json!("FR"));
    Place {
        kind: "Place".to_string(),
        name: Some(venue.name.clone()),
        address: Some(Value::Object(address)),
        latitude: venue.latitude,
        longitude: venue.longitude,
    }
}

/// The facts Mastodon shows under the profile, in the instance's language.
pub fn attachments(ctx: &AppContext, venue: &DbVenue) -> Vec<PropertyValue> {
    let lang = Lang::parse(&ctx.config.instance.language).unwrap_or_default();
    let mut fields = Vec::new();
    let commune = communes::by_code(&venue.commune_code)
        .map(|c| c.name.to_string())
        .unwrap_or_default();
    let address = [venue.address.as_str(), venue.postal_code.as_str(), &commune]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    fields.push(PropertyValue::new(
        lang.t("venue.field.address"),
        escape_text(&address),
    ));
    if let Some(capacity) = venue.capacity {
        fields.push(PropertyValue::new(
            lang.t("venue.field.capacity"),
            format!("{capacity} {}", lang.t("venue.people")),
        ));
    }
    let mut access = Vec::new();
    if venue.step_free_access {
        access.push(lang.t("venue.step_free_access").to_string());
    }
    if venue.hearing_loop {
        access.push(lang.t("venue.hearing_loop").to_string());
    }
    if !venue.accessibility_notes.is_empty() {
        access.push(venue.accessibility_notes.clone());
    }
    if !access.is_empty() {
        fields.push(PropertyValue::new(
            lang.t("venue.field.accessibility"),
            escape_text(&access.join(" · ")),
        ));
    }
    if !venue.disciplines.is_empty() {
        fields.push(PropertyValue::new(
            lang.t("field_label.disciplines"),
            escape_text(&venue.disciplines.join(", ")),
        ));
    }
    if !venue.website.is_empty() {
        let href = escape_text(&venue.website);
        fields.push(PropertyValue::new(
            lang.t("field_label.website"),
            format!("<a href=\"{href}\" rel=\"nofollow noopener noreferrer me\">{href}</a>"),
        ));
    }
    if !venue.contact_email.is_empty() {
        fields.push(PropertyValue::new(
            lang.t("venue.field.contact_email"),
            escape_text(&venue.contact_email),
        ));
    }
    if !venue.contact_phone.is_empty() {
        fields.push(PropertyValue::new(
            lang.t("venue.field.contact_phone"),
            escape_text(&venue.contact_phone),
        ));
    }
    fields
}

/// The `Organization` of a venue's actor.
pub fn venue_person(
    ctx: &AppContext,
    actor: DbActor,
    venue: &DbVenue,
    photos: &[DbPhoto],
) -> AppResult<Person> {
    let mut person = local_person(actor)?;
    let picture = photos.first().and_then(|p| {
        Url::parse(&photos::photo_url(ctx, &p.path))
            .ok()
            .map(|url| Image {
                kind: image_type(),
                media_type: photos::photo_media_type(&p.path).map(String::from),
                url,
            })
    });
    person.icon = picture.clone();
    person.image = picture;
    person.location = Some(place(venue));
    person.attachment = attachments(ctx, venue);
    Ok(person)
}

/// The document of any local actor and its `@context`: a venue's with its place and facts,
/// others as `person::local_person` makes them.
pub async fn local_actor_parts(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: DbActor,
) -> AppResult<(Person, Value)> {
    if actor.local
        && let Some(venue) = db::venues::by_actor_id(conn, actor.id).await?
    {
        let photos = db::venues::photos(conn, venue.id).await?;
        return Ok((venue_person(ctx, actor, &venue, &photos)?, venue_context()));
    }
    Ok((local_person(actor)?, actor_context()))
}

/// [`local_actor_parts`] as the JSON-LD document served at the actor's id.
pub async fn local_actor_document(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: DbActor,
) -> AppResult<WithContext<Person>> {
    let (person, context) = local_actor_parts(ctx, conn, actor).await?;
    Ok(WithContext::new(person, context))
}

/// Whether a parsed actor document is a venue's (it has a `Place`).
pub fn is_venue_document(person: &Person) -> bool {
    person.location.as_ref().is_some_and(|p| p.kind == "Place")
}
