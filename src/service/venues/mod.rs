//! Venues: places of artistic practice that members create and manage. Each venue is an
//! ActivityPub actor (`Organization` with a `location` `Place`, served at `/venues/{slug}`):
//! its actor row is written here with the venue, and every change federates through an
//! outbound event recorded in the same transaction.

pub mod list;
pub mod photos;

use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        actors::{DbActor, NewActor},
        venues::{DbVenue, VenueFields},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::SafeHtml,
    service::{
        accounts::is_reserved,
        actors::generate_keypair,
        communes::{self, Commune},
        outbound::{self, OutboundEvent},
    },
};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use unicode_normalization::UnicodeNormalization;

pub const MAX_NAME: usize = 150;
pub const MAX_MARKDOWN: usize = 20_000;
pub const MAX_ADDRESS: usize = 300;
pub const MAX_NOTES: usize = 2_000;
pub const MAX_DISCIPLINES: usize = 15;
pub const MAX_DISCIPLINE_LEN: usize = 40;
pub const MAX_EMAIL: usize = 254;
pub const MAX_PHONE: usize = 40;
pub const MAX_WEBSITE: usize = 500;
pub const MAX_CAPACITY: i64 = 1_000_000;
/// Longest slug before a collision suffix (the table allows 60).
const MAX_SLUG_BASE: usize = 50;

/// What a member submits to create or edit a venue: plain data, as the form, the API or the
/// import's claim flow have it. Text fields are taken as typed (trimmed here).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VenueInput {
    pub name: String,
    /// Markdown.
    pub description: String,
    pub address: String,
    /// A commune name (or INSEE code), as `communes::parse_field` reads it. Required.
    pub commune: String,
    /// Empty, or one of the commune's postal codes.
    pub postal_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: Option<i64>,
    /// Markdown.
    pub spaces: String,
    /// Markdown.
    pub equipment: String,
    /// Markdown.
    pub conditions: String,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub accessibility_notes: String,
    pub disciplines: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    pub website: String,
    /// Fields the caller could not read (a form's non-numeric capacity or coordinates):
    /// reported as `field.number.invalid` with the other errors, all at once.
    pub unreadable: Vec<String>,
}

impl VenueInput {
    /// The form as the venue currently stands, to pre-fill it.
    pub fn from_venue(venue: &DbVenue) -> Self {
        Self {
            name: venue.name.clone(),
            description: venue.description_markdown.clone(),
            address: venue.address.clone(),
            commune: communes::by_code(&venue.commune_code)
                .map(|c| c.name.to_string())
                .unwrap_or_else(|| venue.commune_code.clone()),
            postal_code: venue.postal_code.clone(),
            latitude: venue.latitude,
            longitude: venue.longitude,
            capacity: venue.capacity.map(i64::from),
            spaces: venue.spaces_markdown.clone(),
            equipment: venue.equipment_markdown.clone(),
            conditions: venue.conditions_markdown.clone(),
            step_free_access: venue.step_free_access,
            hearing_loop: venue.hearing_loop,
            accessibility_notes: venue.accessibility_notes.clone(),
            disciplines: venue.disciplines.clone(),
            contact_email: venue.contact_email.clone(),
            contact_phone: venue.contact_phone.clone(),
            website: venue.website.clone(),
            unreadable: Vec::new(),
        }
    }
}

/// Comma-separated disciplines as a form has them, trimmed, empty ones dropped.
pub fn split_disciplines(input: &str) -> Vec<String> {
    input
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(String::from)
        .collect()
}

fn too_long(s: &str, max: usize) -> bool {
    s.chars().count() > max
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

fn valid_phone(phone: &str) -> bool {
    phone.chars().filter(char::is_ascii_digit).count() >= 4
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '.' | '-' | '(' | ')'))
}

fn valid_website(website: &str) -> bool {
    url::Url::parse(website).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        && (website.starts_with("http://") || website.starts_with("https://"))
}

/// Checks every field (all errors at once) and gives the row's fields.
pub fn validate(ctx: &AppContext, input: &VenueInput) -> AppResult<VenueFields> {
    let mut errors = FieldErrors::default();
    for field in &input.unreadable {
        errors.add(field, "field.number.invalid");
    }
    let name = input.name.trim();
    if name.is_empty() {
        errors.add("name", "field.required");
    } else if too_long(name, MAX_NAME) {
        errors.add("name", "field.too_long");
    }
    for (field, value) in [
        ("description", &input.description),
        ("spaces", &input.spaces),
        ("equipment", &input.equipment),
        ("conditions", &input.conditions),
    ] {
        if too_long(value, MAX_MARKDOWN) {
            errors.add(field, "field.too_long");
        }
    }
    let address = input.address.trim();
    if too_long(address, MAX_ADDRESS) {
        errors.add("address", "field.too_long");
    }
    let commune: Option<&Commune> =
        match communes::parse_field(&input.commune, &ctx.config.instance.departement) {
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                errors.add("commune", "field.required");
                None
            }
            Err(key) => {
                errors.add("commune", key);
                None
            }
        };
    let postal_code = input.postal_code.trim();
    if !postal_code.is_empty()
        && let Some(c) = commune
        && !c.postal_codes.split_whitespace().any(|p| p == postal_code)
    {
        errors.add("postal_code", "field.postal_code.not_of_commune");
    }
    match (input.latitude, input.longitude) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                errors.add("latitude", "field.latitude.range");
            }
            if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                errors.add("longitude", "field.longitude.range");
            }
        }
        (None, None) => {}
        (Some(_), None) => errors.add("longitude", "field.coordinates.both"),
        (None, Some(_)) => errors.add("latitude", "field.coordinates.both"),
    }
    if let Some(capacity) = input.capacity
        && !(0..=MAX_CAPACITY).contains(&capacity)
    {
        errors.add("capacity", "field.capacity.range");
    }
    let notes = input.accessibility_notes.trim();
    if too_long(notes, MAX_NOTES) {
        errors.add("accessibility_notes", "field.too_long");
    }
    let mut disciplines: Vec<String> = Vec::new();
    for d in input
        .disciplines
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        if too_long(d, MAX_DISCIPLINE_LEN) {
            errors.add("disciplines", "field.disciplines.too_long");
            break;
        }
        let key = communes::normalize(d);
        if !disciplines.iter().any(|e| communes::normalize(e) == key) {
            disciplines.push(d.to_string());
        }
    }
    if disciplines.len() > MAX_DISCIPLINES {
        errors.add("disciplines", "field.disciplines.too_many");
    }
    let email = input.contact_email.trim();
    if !email.is_empty() && (too_long(email, MAX_EMAIL) || !valid_email(email)) {
        errors.add("contact_email", "field.email.invalid");
    }
    let phone = input.contact_phone.trim();
    if !phone.is_empty() && (too_long(phone, MAX_PHONE) || !valid_phone(phone)) {
        errors.add("contact_phone", "field.phone.invalid");
    }
    let website = input.website.trim();
    if !website.is_empty() && (too_long(website, MAX_WEBSITE) || !valid_website(website)) {
        errors.add("website", "field.website.invalid");
    }
    errors.into_result()?;
    let commune = commune.ok_or_else(|| AppError::internal("commune checked above"))?;
    Ok(VenueFields {
        name: name.to_string(),
        description_html: SafeHtml::from_markdown(&input.description).into_string(),
        description_markdown: input.description.clone(),
        address: address.to_string(),
        postal_code: postal_code.to_string(),
        commune_code: commune.code.to_string(),
        latitude: input.latitude,
        longitude: input.longitude,
        capacity: input.capacity.and_then(|c| i32::try_from(c).ok()),
        spaces_markdown: input.spaces.clone(),
        equipment_markdown: input.equipment.clone(),
        conditions_markdown: input.conditions.clone(),
        step_free_access: input.step_free_access,
        hearing_loop: input.hearing_loop,
        accessibility_notes: notes.to_string(),
        disciplines,
        contact_email: email.to_string(),
        contact_phone: phone.to_string(),
        website: website.to_string(),
    })
}

/// The slug a name gives: lower-case ASCII letters and digits (accents dropped), words joined
/// by hyphens, at least three characters.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.nfd() {
        let c = match c {
            'œ' | 'Œ' => {
                slug.push_str("oe");
                continue;
            }
            'æ' | 'Æ' => {
                slug.push_str("ae");
                continue;
            }
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if unicode_normalization::char::is_combining_mark(c) {
            continue;
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.chars().take(MAX_SLUG_BASE).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.len() < 3 {
        slug = if slug.is_empty() {
            "lieu".to_string()
        } else {
            format!("lieu-{slug}")
        };
    }
    slug
}

/// The first free slug among `base`, `base-2`, `base-3`…: free of every local actor's username
/// (the venue's actor username is its slug), of venue slugs and of reserved names.
async fn free_slug(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    base: &str,
) -> AppResult<String> {
    for n in 1..10_000 {
        let candidate = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        if is_reserved(&candidate, &ctx.config.instance.page_actor) {
            continue;
        }
        if db::actors::local_by_username(conn, &candidate)
            .await?
            .is_none()
            && db::venues::by_slug(conn, &candidate).await?.is_none()
        {
            return Ok(candidate);
        }
    }
    Err(AppError::internal("no free slug"))
}

pub fn venue_path(slug: &str) -> String {
    format!("/venues/{slug}")
}

/// The actor row of a new venue.
fn new_venue_actor(
    ctx: &AppContext,
    slug: &str,
    fields: &VenueFields,
    keypair: activitypub_federation::http_signatures::Keypair,
) -> NewActor {
    let base = ctx.urls.absolute(&venue_path(slug));
    let now = Utc::now();
    NewActor {
        ap_id: base.clone(),
        kind: "Organization".to_string(),
        username: slug.to_string(),
        domain: ctx.config.domain(),
        local: true,
        name: fields.name.clone(),
        summary_html: fields.description_html.clone(),
        icon_url: None,
        url: Some(base.clone()),
        inbox_url: format!("{base}/inbox"),
        shared_inbox_url: Some(ctx.urls.shared_inbox()),
        outbox_url: Some(format!("{base}/outbox")),
        followers_url: Some(format!("{base}/followers")),
        following_url: None,
        public_key_pem: keypair.public_key,
        private_key_pem: Some(keypair.private_key),
        manually_approves_followers: false,
        discoverable: true,
        published: now,
        last_refreshed_at: now,
    }
}

fn may_create(owner: &DbAccount) -> AppResult<()> {
    if owner.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    Ok(())
}

/// A venue checked and given its key pair, ready to be written inside a transaction that
/// does more (the claim of a listed entry creates the account and its venue at once).
#[derive(Debug, Clone)]
pub struct PreparedVenue {
    fields: VenueFields,
    keypair: activitypub_federation::http_signatures::Keypair,
}

/// Checks `input` and generates the venue actor's key pair (slow: kept out of transactions).
pub async fn prepare(ctx: &AppContext, input: &VenueInput) -> AppResult<PreparedVenue> {
    let fields = validate(ctx, input)?;
    let keypair = generate_keypair().await?;
    Ok(PreparedVenue { fields, keypair })
}

/// Writes a prepared venue and its actor, managed by account `owner_id`, in the caller's
/// transaction.
pub async fn insert_prepared(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    owner_id: i64,
    prepared: &PreparedVenue,
) -> AppResult<DbVenue> {
    let fields = &prepared.fields;
    let slug = free_slug(ctx, conn, &slugify(&fields.name)).await?;
    let actor = db::actors::insert(
        conn,
        &new_venue_actor(ctx, &slug, fields, prepared.keypair.clone()),
    )
    .await
    .map_err(slug_conflict)?;
    db::venues::insert(conn, actor.id, &slug, owner_id, fields)
        .await
        .map_err(slug_conflict)
}

/// Creates a venue managed by `owner`, with its actor.
pub async fn create(ctx: &AppContext, owner: &DbAccount, input: VenueInput) -> AppResult<DbVenue> {
    may_create(owner)?;
    let prepared = prepare(ctx, &input).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbVenue, AppError, _>(async |conn| {
        insert_prepared(ctx, conn, owner.id, &prepared).await
    })
    .await
}

/// Two creations that chose the same slug at the same moment: the second is told to retry.
fn slug_conflict(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => AppError::new(
            ErrorKind::Conflict,
            "a venue of that name was just created; retry",
        ),
        e => e.into(),
    }
}

/// Whether `viewer` manages `venue`.
pub async fn is_manager(
    conn: &mut AsyncPgConnection,
    venue: &DbVenue,
    viewer: Option<&DbAccount>,
) -> AppResult<bool> {
    Ok(match viewer {
        Some(account) => db::venues::is_manager(conn, venue, account.id).await?,
        None => false,
    })
}

/// A venue as `viewer` may see it: deleted ones are gone for everyone (410), hidden ones
/// exist only for their managers; others get 404.
pub async fn visible(
    ctx: &AppContext,
    slug: &str,
    viewer: Option<&DbAccount>,
) -> AppResult<(DbVenue, DbActor, bool)> {
    let mut conn = ctx.conn().await?;
    let venue = db::venues::by_slug(&mut conn, slug)
        .await?
        .ok_or_else(AppError::not_found)?;
    visible_row(&mut conn, venue, viewer).await
}

/// [`visible`] by id.
pub async fn visible_by_id(
    ctx: &AppContext,
    id: i64,
    viewer: Option<&DbAccount>,
) -> AppResult<(DbVenue, DbActor, bool)> {
    let mut conn = ctx.conn().await?;
    let venue = db::venues::by_id(&mut conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    visible_row(&mut conn, venue, viewer).await
}

async fn visible_row(
    conn: &mut AsyncPgConnection,
    venue: DbVenue,
    viewer: Option<&DbAccount>,
) -> AppResult<(DbVenue, DbActor, bool)> {
    if venue.deleted_at.is_some() {
        return Err(AppError::new(ErrorKind::Gone, "this venue was deleted"));
    }
    let manager = is_manager(conn, &venue, viewer).await?;
    if venue.hidden_at.is_some() && !manager {
        return Err(AppError::not_found());
    }
    let actor = db::actors::by_id(conn, venue.actor_id).await?;
    Ok((venue, actor, manager))
}

/// The venue `id` locked for a change by `account`: 404 when it does not exist, is deleted,
/// or `account` does not manage it (others may not learn more).
async fn managed_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
    account: &DbAccount,
) -> AppResult<DbVenue> {
    let venue = db::venues::by_id_for_update(conn, id)
        .await?
        .filter(|v| v.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    if !db::venues::is_manager(conn, &venue, account.id).await? {
        let hidden = venue.hidden_at.is_some();
        return Err(if hidden {
            AppError::not_found()
        } else {
            AppError::forbidden("only the venue's managers may change it")
        });
    }
    Ok(venue)
}

/// Edits a venue (its managers only). The actor's name and summary follow, and its
/// followers get an `Update` of the `Organization`.
pub async fn edit(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    input: VenueInput,
) -> AppResult<DbVenue> {
    let fields = validate(ctx, &input)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbVenue, AppError, _>(async |conn| {
        let venue = managed_for_update(conn, id, account).await?;
        let venue = db::venues::update(conn, venue.id, &fields).await?;
        federate_update(ctx, conn, &venue).await?;
        Ok(venue)
    })
    .await
}

/// Brings the venue's actor row in line with the venue (name, summary, first photo) and
/// records the `Update` of the actor for its followers.
pub async fn federate_update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    venue: &DbVenue,
) -> AppResult<()> {
    let photos = db::venues::photos(conn, venue.id).await?;
    let icon = photos.first().map(|p| photos::photo_url(ctx, &p.path));
    db::actors::update_profile(
        conn,
        venue.actor_id,
        &db::actors::ActorProfileChanges {
            name: &venue.name,
            summary_html: &venue.description_html,
            icon_url: icon.as_deref(),
        },
    )
    .await?;
    if icon.is_none() {
        db::actors::clear_icon(conn, venue.actor_id).await?;
    }
    let actor = db::actors::by_id(conn, venue.actor_id).await?;
    outbound::record(
        ctx,
        conn,
        OutboundEvent::ProfileUpdated {
            actor: Box::new(actor),
        },
    )
    .await
}

/// Deletes a venue (its managers only): the row is kept, marked deleted (its slug is never
/// given again), and a `Delete` of its actor reaches the servers that know it.
pub async fn delete(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let photos = conn
        .transaction::<Vec<db::venues::DbPhoto>, AppError, _>(async |conn| {
            let venue = managed_for_update(conn, id, account).await?;
            remove(ctx, conn, &venue).await
        })
        .await?;
    photos::remove_files(ctx, &photos).await;
    Ok(())
}

/// Removes `venue` in the caller's transaction (its managers' deletion, or a moderator's):
/// returns its photos, whose files the caller removes once committed.
pub async fn remove(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    venue: &DbVenue,
) -> AppResult<Vec<db::venues::DbPhoto>> {
    let photos = db::venues::photos(conn, venue.id).await?;
    for photo in &photos {
        db::venues::delete_photo(conn, venue.id, photo.id).await?;
    }
    db::venues::set_deleted(conn, venue.id).await?;
    let actor = db::actors::by_id(conn, venue.actor_id).await?;
    db::actors::mark_deleted(conn, actor.id).await?;
    outbound::record(
        ctx,
        conn,
        OutboundEvent::VenueDeleted {
            actor: Box::new(actor),
        },
    )
    .await?;
    Ok(photos)
}

/// The owner adds a manager by username.
pub async fn add_manager(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    username: &str,
) -> AppResult<()> {
    let username = username.trim().trim_start_matches('@');
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let venue = managed_for_update(conn, id, account).await?;
        if venue.owner_account_id != account.id {
            return Err(AppError::forbidden(
                "only the venue's owner manages its managers",
            ));
        }
        let member = db::venues::member_by_username(conn, username)
            .await?
            .filter(|m| m.suspended_at.is_none())
            .ok_or_else(|| AppError::field("username", "field.actor.unknown"))?;
        if member.id != venue.owner_account_id {
            db::venues::add_manager(conn, venue.id, member.id).await?;
        }
        Ok(())
    })
    .await
}

/// The owner removes a manager (or a manager removes themself).
pub async fn remove_manager(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    username: &str,
) -> AppResult<()> {
    let username = username.trim().trim_start_matches('@');
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let venue = managed_for_update(conn, id, account).await?;
        let member = db::venues::member_by_username(conn, username)
            .await?
            .ok_or_else(|| AppError::field("username", "field.actor.unknown"))?;
        if venue.owner_account_id != account.id && member.id != account.id {
            return Err(AppError::forbidden(
                "only the venue's owner manages its managers",
            ));
        }
        if !db::venues::remove_manager(conn, venue.id, member.id).await? {
            return Err(AppError::field("username", "field.actor.not_member"));
        }
        Ok(())
    })
    .await
}

/// The actor of venue `slug` for a post `account` publishes as it: only its managers may
/// (a field error on `as_venue` otherwise, as for a venue that does not exist).
pub async fn publishing_actor(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    slug: &str,
) -> AppResult<DbActor> {
    let venue = db::venues::by_slug(conn, slug)
        .await?
        .filter(|v| v.deleted_at.is_none() && v.hidden_at.is_none());
    match venue {
        Some(venue) if db::venues::is_manager(conn, &venue, account.id).await? => {
            Ok(db::actors::by_id(conn, venue.actor_id).await?)
        }
        _ => Err(AppError::field("as_venue", "field.as_venue.not_manager")),
    }
}

/// The venues `account` manages (what it may publish as).
pub async fn managed_by(ctx: &AppContext, account: &DbAccount) -> AppResult<Vec<DbVenue>> {
    let mut conn = ctx.conn().await?;
    Ok(db::venues::managed_by(&mut conn, account.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_drop_accents_and_join_words() {
        assert_eq!(
            slugify("Théâtre de la Rose des Vents"),
            "theatre-de-la-rose-des-vents"
        );
        assert_eq!(slugify("  L'Œuvre  — Épinal!! "), "l-oeuvre-epinal");
        assert_eq!(slugify("A"), "lieu-a");
        assert_eq!(slugify("!!!"), "lieu");
        let long = slugify(&"abc ".repeat(40));
        assert!(
            long.len() <= MAX_SLUG_BASE && !long.ends_with('-'),
            "{long}"
        );
    }

    #[test]
    fn contact_checks() {
        assert!(valid_email("a@b.fr"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a b@c.fr"));
        assert!(valid_phone("+33 (0)3 29 00 00 00"));
        assert!(!valid_phone("call me"));
        assert!(valid_website("https://lieu.example/x"));
        assert!(!valid_website("javascript:alert(1)"));
        assert!(!valid_website("lieu.example"));
    }
}
