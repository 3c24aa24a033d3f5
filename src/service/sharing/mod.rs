//! Sharing ("mutualisation"): offers of equipment and spaces that members lend or share, and
//! the requests to borrow them (`loans.rs`). One domain function per action, shared by the
//! pages and the API; each validates every field first and writes in one transaction.
//!
//! A public offer federates through an announcement (kind `pret_materiel`, or
//! `mise_a_disposition_lieu` for a space) written by `service::publishing` in the same
//! transaction: editing the offer updates it, closing or deleting the offer (or making it
//! members-only) deletes it. This module never builds activities.

pub mod loans;
pub mod photos;

use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        offers::{DbOffer, OfferFields},
        schema::{offers, venue_managers, venues},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::SafeHtml,
    service::{
        accounts::{ensure_can_publish, is_moderator},
        communes::{self, Commune},
        directory::distance_km,
        publishing::{self, PostInput},
    },
};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

pub const MAX_TITLE_CHARS: usize = 150;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
pub const MAX_TERMS_DETAILS_CHARS: usize = 2_000;
/// Offers per page of the list.
pub const PAGE_SIZE: usize = 20;

/// What is offered (the codes of the `offers.category` check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferCategory {
    Son,
    Lumiere,
    Scene,
    Video,
    Mobilier,
    Costumes,
    Vehicule,
    Salle,
    Autre,
}

impl OfferCategory {
    pub const ALL: &'static [OfferCategory] = &[
        OfferCategory::Son,
        OfferCategory::Lumiere,
        OfferCategory::Scene,
        OfferCategory::Video,
        OfferCategory::Mobilier,
        OfferCategory::Costumes,
        OfferCategory::Vehicule,
        OfferCategory::Salle,
        OfferCategory::Autre,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferCategory::Son => "son",
            OfferCategory::Lumiere => "lumiere",
            OfferCategory::Scene => "scene",
            OfferCategory::Video => "video",
            OfferCategory::Mobilier => "mobilier",
            OfferCategory::Costumes => "costumes",
            OfferCategory::Vehicule => "vehicule",
            OfferCategory::Salle => "salle",
            OfferCategory::Autre => "autre",
        }
    }

    /// The code, or the French word as people type it (accents and case forgiven).
    pub fn parse(s: &str) -> Option<OfferCategory> {
        let s = communes::normalize(s.trim());
        let s = match s.as_str() {
            "lumieres" => "lumiere",
            "scenes" => "scene",
            "videos" => "video",
            "vehicules" => "vehicule",
            "salles" | "espace" | "lieu" => "salle",
            other => other,
        };
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            OfferCategory::Son => "sharing.category.son",
            OfferCategory::Lumiere => "sharing.category.lumiere",
            OfferCategory::Scene => "sharing.category.scene",
            OfferCategory::Video => "sharing.category.video",
            OfferCategory::Mobilier => "sharing.category.mobilier",
            OfferCategory::Costumes => "sharing.category.costumes",
            OfferCategory::Vehicule => "sharing.category.vehicule",
            OfferCategory::Salle => "sharing.category.salle",
            OfferCategory::Autre => "sharing.category.autre",
        }
    }

    /// The kind of the announcement that federates a public offer.
    pub fn announcement_kind(self) -> &'static str {
        match self {
            OfferCategory::Salle => "mise_a_disposition_lieu",
            _ => "pret_materiel",
        }
    }
}

/// On what terms it is lent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terms {
    Free,
    Paid,
    Exchange,
}

impl Terms {
    pub const ALL: &'static [Terms] = &[Terms::Free, Terms::Paid, Terms::Exchange];

    pub fn as_str(self) -> &'static str {
        match self {
            Terms::Free => "free",
            Terms::Paid => "paid",
            Terms::Exchange => "exchange",
        }
    }

    /// The code, or its French word (gratuit, payant, échange).
    pub fn parse(s: &str) -> Option<Terms> {
        match communes::normalize(s.trim()).as_str() {
            "free" | "gratuit" => Some(Terms::Free),
            "paid" | "payant" => Some(Terms::Paid),
            "exchange" | "echange" => Some(Terms::Exchange),
            _ => None,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Terms::Free => "sharing.terms.free",
            Terms::Paid => "sharing.terms.paid",
            Terms::Exchange => "sharing.terms.exchange",
        }
    }
}

/// What the member typed (form or API). Coordinates are text so that a form's empty field
/// means "none"; the API passes numbers formatted.
#[derive(Debug, Clone, Default)]
pub struct OfferInput {
    pub title: String,
    pub description: String,
    pub category: String,
    pub terms: String,
    pub terms_details: String,
    pub commune: String,
    pub latitude: String,
    pub longitude: String,
    /// Id of a venue the member manages; empty = none.
    pub venue_id: String,
    pub public: bool,
}

/// A partial edit (API `PATCH`): `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct OfferPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub terms: Option<String>,
    pub terms_details: Option<String>,
    pub commune: Option<String>,
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub venue_id: Option<String>,
    pub public: Option<bool>,
}

impl OfferInput {
    /// The stored offer as input, for an edit form or a partial edit.
    pub fn of(offer: &DbOffer) -> OfferInput {
        OfferInput {
            title: offer.title.clone(),
            description: offer.description_markdown.clone(),
            category: offer.category.clone(),
            terms: offer.terms.clone(),
            terms_details: offer.terms_details.clone(),
            // The INSEE code: a name may be shared by communes of other départements.
            commune: offer.commune_code.clone(),
            latitude: offer.latitude.map(|v| v.to_string()).unwrap_or_default(),
            longitude: offer.longitude.map(|v| v.to_string()).unwrap_or_default(),
            venue_id: offer.venue_id.map(|v| v.to_string()).unwrap_or_default(),
            public: offer.public,
        }
    }

    fn patched(mut self, p: OfferPatch) -> OfferInput {
        fn set(field: &mut String, v: Option<String>) {
            if let Some(v) = v {
                *field = v;
            }
        }
        set(&mut self.title, p.title);
        set(&mut self.description, p.description);
        set(&mut self.category, p.category);
        set(&mut self.terms, p.terms);
        set(&mut self.terms_details, p.terms_details);
        set(&mut self.commune, p.commune);
        set(&mut self.latitude, p.latitude);
        set(&mut self.longitude, p.longitude);
        set(&mut self.venue_id, p.venue_id);
        if let Some(public) = p.public {
            self.public = public;
        }
        self
    }
}

/// The checked input: the row's fields, and the commune.
struct Checked {
    fields: OfferFields,
    category: OfferCategory,
    terms: Terms,
    commune: &'static Commune,
}

fn parse_coordinate(s: &str, max: f64) -> Result<Option<f64>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= max => Ok(Some(v)),
        _ => Err(()),
    }
}

/// Checks every field and reports every problem at once (422 naming the fields).
async fn check(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    input: &OfferInput,
) -> AppResult<Checked> {
    let mut errors = FieldErrors::default();
    let title = input.title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        errors.add("title", "field.required");
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.add("title", "field.too_long");
    }
    let description = input.description.replace("\r\n", "\n").trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.add("description", "field.too_long");
    }
    let category = OfferCategory::parse(&input.category);
    if category.is_none() {
        errors.add("category", "sharing.field.category");
    }
    let terms = Terms::parse(&input.terms);
    if terms.is_none() {
        errors.add("terms", "sharing.field.terms");
    }
    let terms_details = input.terms_details.replace("\r\n", "\n").trim().to_string();
    if terms_details.chars().count() > MAX_TERMS_DETAILS_CHARS {
        errors.add("terms_details", "field.too_long");
    }
    let commune = match communes::parse_field(&input.commune, &ctx.config.instance.departement) {
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
    let latitude = parse_coordinate(&input.latitude, 90.0);
    let longitude = parse_coordinate(&input.longitude, 180.0);
    if latitude.is_err() {
        errors.add("latitude", "sharing.field.coordinate");
    }
    if longitude.is_err() {
        errors.add("longitude", "sharing.field.coordinate");
    }
    let (latitude, longitude) = match (latitude, longitude) {
        (Ok(Some(lat)), Ok(Some(lon))) => (Some(lat), Some(lon)),
        (Ok(None), Ok(None)) => (None, None),
        (Ok(None), Ok(Some(_))) => {
            errors.add("latitude", "sharing.field.coordinates_pair");
            (None, None)
        }
        (Ok(Some(_)), Ok(None)) => {
            errors.add("longitude", "sharing.field.coordinates_pair");
            (None, None)
        }
        _ => (None, None),
    };
    let venue_id = match input.venue_id.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(id) if manages_venue(conn, account.id, id).await? => Some(id),
            _ => {
                errors.add("venue_id", "sharing.field.venue");
                None
            }
        },
    };
    errors.into_result()?;
    let (Some(category), Some(terms), Some(commune)) = (category, terms, commune) else {
        return Err(AppError::internal("checked offer without its fields"));
    };
    Ok(Checked {
        fields: OfferFields {
            venue_id,
            category: category.as_str().to_string(),
            title,
            description_html: SafeHtml::from_markdown(&description).into_string(),
            description_markdown: description,
            terms: terms.as_str().to_string(),
            terms_details,
            commune_code: commune.code.to_string(),
            latitude,
            longitude,
            public: input.public,
        },
        category,
        terms,
        commune,
    })
}

/// Whether the member manages the venue (a live one).
pub async fn manages_venue(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    venue_id: i64,
) -> AppResult<bool> {
    let managed: i64 = venue_managers::table
        .inner_join(venues::table)
        .filter(venue_managers::account_id.eq(account_id))
        .filter(venue_managers::venue_id.eq(venue_id))
        .filter(venues::deleted_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    Ok(managed > 0)
}

/// The venues a member manages (id, name), for the form's choice.
pub async fn managed_venues(
    conn: &mut AsyncPgConnection,
    account_id: i64,
) -> AppResult<Vec<(i64, String)>> {
    Ok(venue_managers::table
        .inner_join(venues::table)
        .filter(venue_managers::account_id.eq(account_id))
        .filter(venues::deleted_at.is_null())
        .order(venues::name)
        .select((venues::id, venues::name))
        .load(conn)
        .await?)
}

/// The page of an offer.
pub fn page_path(id: i64) -> String {
    format!("/mutualisation/{id}")
}

/// The announcement that federates a public offer: its title, its description, its terms
/// and a link to the offer page.
fn announcement_input(ctx: &AppContext, offer: &DbOffer, checked: &Checked) -> PostInput {
    let lang = ctx.default_lang;
    let mut body = String::new();
    if !offer.description_markdown.is_empty() {
        body.push_str(&offer.description_markdown);
        body.push_str("\n\n");
    }
    body.push_str(&format!(
        "**{}** {}",
        lang.t("sharing.announcement.terms"),
        lang.t(checked.terms.label_key())
    ));
    if !offer.terms_details.is_empty() {
        body.push_str(&format!(" — {}", offer.terms_details.replace('\n', " ")));
    }
    body.push_str(&format!(
        "\n\n[{}]({})",
        lang.t("sharing.announcement.link"),
        ctx.urls.absolute(&page_path(offer.id))
    ));
    PostInput {
        title: offer.title.clone(),
        body,
        kind: checked.category.announcement_kind().to_string(),
        commune: checked.commune.code.to_string(),
        ..Default::default()
    }
}

/// Whether the offer should have a live announcement: public, open, not hidden or deleted.
fn federates(offer: &DbOffer) -> bool {
    offer.public
        && offer.closed_at.is_none()
        && offer.deleted_at.is_none()
        && offer.hidden_at.is_none()
}

/// Makes the announcement match the offer, in the caller's transaction: created when the
/// offer becomes public and open, updated when it changes, deleted when it stops being so.
async fn sync_announcement(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    owner: &DbAccount,
    offer: DbOffer,
    checked: Option<&Checked>,
) -> AppResult<DbOffer> {
    match (federates(&offer), offer.post_id) {
        (true, None) => {
            let checked = match checked {
                Some(c) => c,
                None => &check(ctx, conn, owner, &OfferInput::of(&offer)).await?,
            };
            let post = publishing::create_announcement_in(
                ctx,
                conn,
                owner,
                announcement_input(ctx, &offer, checked),
            )
            .await?;
            Ok(db::offers::set_post(conn, offer.id, Some(post.id)).await?)
        }
        (true, Some(post_id)) => {
            if let Some(checked) = checked {
                publishing::edit_announcement_in(
                    ctx,
                    conn,
                    post_id,
                    announcement_input(ctx, &offer, checked),
                )
                .await?;
            }
            Ok(offer)
        }
        (false, Some(post_id)) => {
            remove_announcement(ctx, conn, post_id).await?;
            Ok(db::offers::set_post(conn, offer.id, None).await?)
        }
        (false, None) => Ok(offer),
    }
}

/// Deletes the offer's announcement (federated as `Delete`).
async fn remove_announcement(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> AppResult<()> {
    if let Some(post) = db::posts::by_id_for_update(conn, post_id)
        .await?
        .filter(|p| p.deleted_at.is_none())
    {
        // An announcement carries no cover here, so there is no file to remove.
        publishing::remove(ctx, conn, post).await?;
    }
    Ok(())
}

/// Publishes a new offer (and, when public, its announcement).
pub async fn create(
    ctx: &AppContext,
    account: &DbAccount,
    input: OfferInput,
) -> AppResult<DbOffer> {
    ensure_can_publish(ctx, account)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbOffer, AppError, _>(async |conn| {
        let checked = check(ctx, conn, account, &input).await?;
        let offer = db::offers::insert(conn, account.id, &checked.fields).await?;
        sync_announcement(ctx, conn, account, offer, Some(&checked)).await
    })
    .await
}

/// The offer `account` may change (its owner), locked: 404 when missing or deleted, 403 for
/// someone else's.
pub(crate) async fn owned_for_update(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    id: i64,
) -> AppResult<DbOffer> {
    let offer = db::offers::by_id_for_update(conn, id)
        .await?
        .filter(|o| o.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    if offer.account_id != account.id || account.suspended_at.is_some() {
        if !can_see(Some(account), &offer) {
            return Err(AppError::not_found());
        }
        return Err(
            AppError::forbidden("this is someone else's offer").with_message("sharing.not_yours")
        );
    }
    Ok(offer)
}

/// Edits an offer (every field is given; see [`edit_partial`] for the API's `PATCH`).
pub async fn edit(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    input: OfferInput,
) -> AppResult<DbOffer> {
    edit_with(ctx, account, id, |_| input).await
}

/// Edits the fields given, keeping the others.
pub async fn edit_partial(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    patch: OfferPatch,
) -> AppResult<DbOffer> {
    edit_with(ctx, account, id, |offer| {
        OfferInput::of(offer).patched(patch)
    })
    .await
}

async fn edit_with(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    input: impl FnOnce(&DbOffer) -> OfferInput + Send,
) -> AppResult<DbOffer> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbOffer, AppError, _>(async |conn| {
        let offer = owned_for_update(conn, account, id).await?;
        let input = input(&offer);
        let checked = check(ctx, conn, account, &input).await?;
        if checked.fields.public && offer.post_id.is_none() && federates_after(&offer) {
            ensure_can_publish(ctx, account)?;
        }
        let updated = db::offers::update(conn, offer.id, &checked.fields).await?;
        sync_announcement(ctx, conn, account, updated, Some(&checked)).await
    })
    .await
}

/// Whether the offer would federate if it were public.
fn federates_after(offer: &DbOffer) -> bool {
    offer.closed_at.is_none() && offer.hidden_at.is_none()
}

/// Closes an offer (no longer available; its requests stay) or reopens it. Closing deletes
/// the announcement; reopening a public offer publishes a new one.
pub async fn set_closed(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    closed: bool,
) -> AppResult<DbOffer> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbOffer, AppError, _>(async |conn| {
        let offer = owned_for_update(conn, account, id).await?;
        if offer.closed_at.is_some() == closed {
            return Ok(offer);
        }
        let updated = db::offers::set_closed(conn, offer.id, closed.then(Utc::now)).await?;
        sync_announcement(ctx, conn, account, updated, None).await
    })
    .await
}

/// Deletes an offer (and its announcement); its photos' files go once committed.
pub async fn delete(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let files = conn
        .transaction::<Vec<String>, AppError, _>(async |conn| {
            let offer = owned_for_update(conn, account, id).await?;
            remove_in(ctx, conn, offer).await
        })
        .await?;
    photos::remove_files(ctx, &files).await;
    Ok(())
}

/// Deletes `offer` in the caller's transaction (its owner, or a moderator): the
/// announcement is deleted (federated), the photos' rows go; returns their files to remove
/// once committed.
pub async fn remove_in(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    offer: DbOffer,
) -> AppResult<Vec<String>> {
    if let Some(post_id) = offer.post_id {
        remove_announcement(ctx, conn, post_id).await?;
    }
    db::offers::mark_deleted(conn, offer.id, Utc::now()).await?;
    Ok(db::offers::delete_photos(conn, offer.id).await?)
}

/// Hides an offer in the caller's transaction (a moderator): no longer listed, its page 404
/// for everyone but its owner (who sees the notice) and the moderators; its announcement is
/// hidden too. Returns the owner's actor, `None` when the offer is gone.
pub async fn hide_in(conn: &mut AsyncPgConnection, offer_id: i64) -> AppResult<Option<i64>> {
    let Some(offer) = db::offers::by_id_for_update(conn, offer_id).await? else {
        return Ok(None);
    };
    let now = Some(Utc::now());
    db::offers::set_hidden(conn, offer.id, now).await?;
    if let Some(post_id) = offer.post_id {
        db::posts::set_hidden(conn, post_id, now).await?;
    }
    Ok(Some(
        db::accounts::by_id(conn, offer.account_id).await?.actor_id,
    ))
}

/// Deletes an offer in the caller's transaction (a moderator): its announcement is deleted
/// (`Delete` federates). Its photos stay on disk but are no longer served (a deleted offer's
/// photos never are). Returns the owner's actor, `None` when the offer is gone.
pub async fn remove_by_moderator(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    offer_id: i64,
) -> AppResult<Option<i64>> {
    let Some(offer) = db::offers::by_id_for_update(conn, offer_id).await? else {
        return Ok(None);
    };
    let owner = db::accounts::by_id(conn, offer.account_id).await?.actor_id;
    if offer.deleted_at.is_none() {
        if let Some(post_id) = offer.post_id {
            remove_announcement(ctx, conn, post_id).await?;
        }
        db::offers::mark_deleted(conn, offer.id, Utc::now()).await?;
    }
    Ok(Some(owner))
}

/// Whether `viewer` may see the offer at all.
pub fn can_see(viewer: Option<&DbAccount>, offer: &DbOffer) -> bool {
    if offer.deleted_at.is_some() {
        return false;
    }
    let owner = viewer.is_some_and(|v| v.id == offer.account_id);
    if offer.hidden_at.is_some() {
        return owner || viewer.is_some_and(is_moderator);
    }
    offer.public || viewer.is_some()
}

/// An offer as `viewer` may see it, else 404.
pub async fn visible(ctx: &AppContext, viewer: Option<&DbAccount>, id: i64) -> AppResult<DbOffer> {
    let mut conn = ctx.conn().await?;
    db::offers::by_id(&mut conn, id)
        .await?
        .filter(|o| can_see(viewer, o))
        .ok_or_else(AppError::not_found)
}

/// The filters of the list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub category: Option<OfferCategory>,
    pub terms: Option<Terms>,
    /// Only offers in this commune.
    pub commune: Option<&'static Commune>,
    /// Sorted by distance from this commune's centre (offers with coordinates use theirs).
    pub near: Option<&'static Commune>,
    /// Only offers with no accepted loan overlapping these dates.
    pub available: Option<(NaiveDate, NaiveDate)>,
    pub include_closed: bool,
    /// 1-based.
    pub page: usize,
}

/// One offer of the list, with its distance when sorted by distance.
#[derive(Debug, Clone)]
pub struct Listed {
    pub offer: DbOffer,
    pub distance_km: Option<f64>,
}

pub struct ListPage {
    pub total: usize,
    pub items: Vec<Listed>,
}

/// Where an offer is: its own coordinates, else its commune's centre.
pub fn position(offer: &DbOffer) -> Option<(f64, f64)> {
    match (offer.latitude, offer.longitude) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        _ => {
            let c = communes::by_code(&offer.commune_code)?;
            Some((c.latitude?, c.longitude?))
        }
    }
}

/// Parses the list's commune fields (`commune`, `near`) and dates (`from`, `to`) with the
/// field named on error.
pub fn parse_filter_commune(
    ctx: &AppContext,
    field: &str,
    value: &str,
) -> AppResult<Option<&'static Commune>> {
    communes::parse_field(value, &ctx.config.instance.departement)
        .map_err(|key| AppError::field(field, key))
}

/// The offers `viewer` may see that match `filter`: newest first, or nearest first with
/// `near`. Members-only offers are hidden from visitors; hidden, deleted (and, unless
/// asked, closed) offers are never listed.
pub async fn list(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    filter: &ListFilter,
) -> AppResult<ListPage> {
    use crate::db::schema::{accounts, loan_requests};
    let mut conn = ctx.conn().await?;
    let mut query = offers::table
        .inner_join(accounts::table)
        .filter(offers::deleted_at.is_null())
        .filter(offers::hidden_at.is_null())
        .filter(accounts::suspended_at.is_null())
        .select(DbOffer::as_select())
        .order((offers::created_at.desc(), offers::id.desc()))
        .into_boxed();
    if viewer.is_none() {
        query = query.filter(offers::public.eq(true));
    }
    if !filter.include_closed {
        query = query.filter(offers::closed_at.is_null());
    }
    if let Some(c) = filter.category {
        query = query.filter(offers::category.eq(c.as_str()));
    }
    if let Some(t) = filter.terms {
        query = query.filter(offers::terms.eq(t.as_str()));
    }
    if let Some(c) = filter.commune {
        query = query.filter(offers::commune_code.eq(c.code));
    }
    if let Some((from, to)) = filter.available {
        let taken = loan_requests::table
            .filter(loan_requests::state.eq("accepted"))
            .filter(loan_requests::starts_on.le(to))
            .filter(loan_requests::ends_on.ge(from))
            .select(loan_requests::offer_id);
        query = query.filter(offers::id.ne_all(taken));
    }
    // A département's offers are a few thousand at most: distances are computed here, on
    // the filtered rows, rather than in SQL.
    let rows: Vec<DbOffer> = query.load(&mut conn).await?;
    let mut items: Vec<Listed> = rows
        .into_iter()
        .map(|offer| {
            let distance_km = filter.near.and_then(|n| {
                let from = (n.latitude?, n.longitude?);
                Some(distance_km(from, position(&offer)?))
            });
            Listed { offer, distance_km }
        })
        .collect();
    if filter.near.is_some() {
        // Nearest first; offers whose place is unknown last.
        items.sort_by(|a, b| match (a.distance_km, b.distance_km) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    let total = items.len();
    let page = filter.page.max(1);
    let items = items
        .into_iter()
        .skip((page - 1).saturating_mul(PAGE_SIZE))
        .take(PAGE_SIZE)
        .collect();
    Ok(ListPage { total, items })
}

/// A conflict with the offer's state (closed).
fn closed_error() -> AppError {
    AppError::new(ErrorKind::Conflict, "this offer is closed").with_message("sharing.closed")
}
