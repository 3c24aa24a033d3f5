//! The list of venues (`/lieux`, `GET /api/v1/venues`): filters by commune, discipline,
//! accessibility and capacity, or sorted by distance from a commune.

use crate::{
    context::AppContext,
    db::{schema::venues, venues::DbVenue},
    error::{AppResult, FieldErrors},
    service::{
        communes::{self, Commune},
        directory::distance_km,
    },
};
use diesel::{
    prelude::*,
    sql_types::{Bool, Text},
};
use diesel_async::RunQueryDsl;

/// Venues per page.
pub const PAGE_SIZE: usize = 20;
/// Highest page number accepted.
pub const MAX_PAGE: i64 = 10_000;

/// The filters as typed (a form's query string or the API's).
#[derive(Debug, Clone, Default)]
pub struct ListFilters {
    pub commune: String,
    /// Sort by distance from this commune.
    pub near: String,
    pub discipline: String,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub min_capacity: Option<i64>,
    pub page: i64,
}

/// One listed venue.
#[derive(Debug, Clone)]
pub struct ListedVenue {
    pub venue: DbVenue,
    pub commune: Option<&'static Commune>,
    /// From the `near` commune, when asked and when the venue can be placed (its own
    /// coordinates, else its commune's centre).
    pub distance_km: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct VenuePage {
    pub total: usize,
    pub page: i64,
    pub items: Vec<ListedVenue>,
}

impl VenuePage {
    pub fn has_next(&self) -> bool {
        (self.page as usize) * PAGE_SIZE < self.total
    }
}

/// Where a venue is, for distances: its coordinates, else its commune's centre.
pub fn position(venue: &DbVenue) -> Option<(f64, f64)> {
    match (venue.latitude, venue.longitude) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        _ => communes::by_code(&venue.commune_code).and_then(|c| Some((c.latitude?, c.longitude?))),
    }
}

/// The listed venues: neither deleted nor hidden, and not of a suspended owner.
pub async fn list(ctx: &AppContext, filters: &ListFilters) -> AppResult<VenuePage> {
    let departement = &ctx.config.instance.departement;
    let mut errors = FieldErrors::default();
    let commune = match communes::parse_field(&filters.commune, departement) {
        Ok(c) => c,
        Err(key) => {
            errors.add("commune", key);
            None
        }
    };
    let near = match communes::parse_field(&filters.near, departement) {
        Ok(c) => c,
        Err(key) => {
            errors.add("near", key);
            None
        }
    };
    if !(1..=MAX_PAGE).contains(&filters.page) {
        errors.add("page", "field.page.invalid");
    }
    if filters.min_capacity.is_some_and(|c| c < 0) {
        errors.add("min_capacity", "field.capacity.range");
    }
    errors.into_result()?;
    let mut query = venues::table
        .filter(venues::deleted_at.is_null())
        .filter(venues::hidden_at.is_null())
        .filter(diesel::dsl::sql::<Bool>(
            "NOT EXISTS (SELECT 1 FROM accounts so_ WHERE so_.id = venues.owner_account_id \
             AND so_.suspended_at IS NOT NULL)",
        ))
        .select(DbVenue::as_select())
        .into_boxed();
    if let Some(c) = commune {
        query = query.filter(venues::commune_code.eq(c.code));
    }
    if filters.step_free_access {
        query = query.filter(venues::step_free_access.eq(true));
    }
    if filters.hearing_loop {
        query = query.filter(venues::hearing_loop.eq(true));
    }
    if let Some(min) = filters.min_capacity {
        let min = i32::try_from(min).unwrap_or(i32::MAX);
        query = query.filter(venues::capacity.ge(min));
    }
    let discipline = filters.discipline.trim();
    if !discipline.is_empty() {
        // Compared without case or accents, as disciplines are free text.
        query = query.filter(
            diesel::dsl::sql::<Bool>(
                "EXISTS (SELECT 1 FROM unnest(venues.disciplines) d_ \
                 WHERE cc_search_name(d_) = cc_search_name(",
            )
            .bind::<Text, _>(discipline.to_string())
            .sql("))"),
        );
    }
    let mut conn = ctx.conn().await?;
    let rows: Vec<DbVenue> = query
        .order((venues::name.asc(), venues::id.asc()))
        .load(&mut conn)
        .await?;
    let origin = near.and_then(|c| Some((c.latitude?, c.longitude?)));
    let mut items: Vec<ListedVenue> = rows
        .into_iter()
        .map(|venue| {
            let distance_km = origin.and_then(|o| position(&venue).map(|p| distance_km(o, p)));
            ListedVenue {
                commune: communes::by_code(&venue.commune_code),
                distance_km,
                venue,
            }
        })
        .collect();
    if origin.is_some() {
        // Nearest first; venues that cannot be placed last, by name (the sort is stable).
        items.sort_by(|a, b| match (a.distance_km, b.distance_km) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    let total = items.len();
    let start = ((filters.page - 1) as usize).saturating_mul(PAGE_SIZE);
    let items = items.into_iter().skip(start).take(PAGE_SIZE).collect();
    Ok(VenuePage {
        total,
        page: filters.page,
        items,
    })
}
