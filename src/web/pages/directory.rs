//! The directory (`/annuaire`): one search box and its filters over members, venues, sharing
//! offers and the département's listed entries, results as cards (sorted by distance, with
//! a small map drawn in SVG, when a commune to search around is given); and the public page
//! of a listed entry nobody claimed yet (`/annuaire/fiches/{id}`). The search itself is
//! `service::directory::search`, shared with `GET /api/v1/directory`.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        communes::{self, Commune},
        directory::{
            DirectoryKind, SUGGESTED_DISCIPLINES,
            search::{self, Hit, HitType, SearchPage, SearchParams, SearchQuery},
        },
    },
    web::{
        auth::MaybeUser,
        pages::{PageLang, forms::FormState, render, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{Path, Query},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

pub fn routes() -> Router {
    Router::new()
        .route("/annuaire", get(http_get_directory))
        .route("/annuaire/fiches/{id}", get(http_get_entry))
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// One result card.
pub struct Card {
    pub name: String,
    pub url: String,
    pub type_label: &'static str,
    pub kind_label: Option<&'static str>,
    pub commune: Option<String>,
    pub disciplines: String,
    /// "à 12,3 km".
    pub distance: Option<String>,
    pub claimed: bool,
}

/// "12,3" (French) or "12.3" (English): one decimal.
pub fn format_km(lang: Lang, km: f64) -> String {
    let s = format!("{km:.1}");
    if lang.code() == "fr" {
        s.replace('.', ",")
    } else {
        s
    }
}

fn card(lang: Lang, hit: &Hit) -> Card {
    Card {
        name: hit.name.clone(),
        url: hit.path.clone(),
        type_label: lang.t(hit.hit_type.label_key()),
        kind_label: hit.kind.map(|k| lang.t(k.label_key())),
        commune: hit
            .commune_code
            .as_deref()
            .and_then(communes::by_code)
            .map(Commune::label)
            .or_else(|| hit.commune_name.clone()),
        disciplines: hit.disciplines.join(", "),
        distance: hit.distance_km.map(|km| {
            lang.t("directory.distance")
                .replace("{km}", &format_km(lang, km))
        }),
        claimed: hit.claimed,
    }
}

/// A point of the map: the result's position projected around the centre commune.
pub struct MapPoint {
    /// SVG coordinates, one decimal.
    pub x: String,
    pub y: String,
    pub label: String,
}

/// Projects the page's results (equirectangular, the centre commune in the middle) into a
/// 300×300 box, the farthest result at the edge. No tiles, no third party: a few circles.
fn map_points(near: &Commune, page: &SearchPage) -> Vec<MapPoint> {
    let (Some(lat0), Some(lon0)) = (near.latitude, near.longitude) else {
        return Vec::new();
    };
    let scale_lon = lat0.to_radians().cos();
    let offsets: Vec<(f64, f64, &Hit)> = page
        .items
        .iter()
        .filter_map(|h| Some(((h.longitude? - lon0) * scale_lon, h.latitude? - lat0, h)))
        .collect();
    let reach = offsets
        .iter()
        .map(|(dx, dy, _)| dx.abs().max(dy.abs()))
        .fold(0.0_f64, f64::max)
        .max(0.01);
    offsets
        .into_iter()
        .map(|(dx, dy, h)| MapPoint {
            x: format!("{:.1}", 150.0 + dx / reach * 135.0),
            y: format!("{:.1}", 150.0 - dy / reach * 135.0),
            label: h.name.clone(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "directory/search.html")]
struct DirectoryPage {
    lang: Lang,
    q: String,
    types: Vec<Choice>,
    kinds: Vec<Choice>,
    discipline: String,
    disciplines: &'static [&'static str],
    commune: String,
    near: String,
    radius: String,
    closed: bool,
    communes: Vec<&'static Commune>,
    errors: FormState,
    results_heading: String,
    cards: Vec<Card>,
    near_label: Option<String>,
    map: Vec<MapPoint>,
    pagination: crate::web::pages::posts::Pagination,
}

fn value(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_string()
}

/// The query string of the search, page number last (filters kept from page to page).
fn search_link(params: &SearchParams, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (name, v) in [
        ("q", &params.q),
        ("type", &params.hit_type),
        ("kind", &params.kind),
        ("discipline", &params.discipline),
        ("commune", &params.commune),
        ("near", &params.near),
        ("radius", &params.radius),
        ("closed", &params.closed),
    ] {
        let v = value(v);
        if !v.is_empty() {
            s.append_pair(name, &v);
        }
    }
    s.append_pair("page", &page.to_string());
    format!("/annuaire?{}", s.finish())
}

async fn http_get_directory(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Query(params): Query<SearchParams>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (query, errors) = match params.check(&ctx.config.instance.departement) {
        Ok(q) => (Some(q), FormState::new(lang)),
        Err(e) if e.kind == ErrorKind::Validation => (None, FormState::from_error(lang, &e)),
        Err(e) => return Err(e),
    };
    let results = match &query {
        Some(q) => search::search(ctx, user.as_ref().map(|u| &u.account), q).await?,
        None => SearchPage {
            total: 0,
            page: 1,
            per_page: search::PER_PAGE,
            items: Vec::new(),
        },
    };
    let checked = query.clone().unwrap_or_else(SearchQuery::default);
    let hit_type = value(&params.hit_type);
    let kind = value(&params.kind);
    let types = HitType::ALL
        .iter()
        .map(|t| Choice {
            value: t.as_str(),
            label: lang.t(t.label_key()),
            selected: checked.hit_type == Some(*t) || hit_type == t.as_str(),
        })
        .collect();
    let kinds = DirectoryKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: lang.t(k.label_key()),
            selected: checked.kind == Some(*k) || kind == k.as_str(),
        })
        .collect();
    let results_heading = if results.total == 1 {
        lang.t("directory.results_one").to_string()
    } else {
        format!("{} {}", results.total, lang.t("directory.results_many"))
    };
    let map = checked
        .near
        .map(|n| map_points(n, &results))
        .unwrap_or_default();
    let pages = results.pages();
    let page = results.page;
    let pagination = crate::web::pages::posts::Pagination {
        page,
        pages,
        prev: (page > 1).then(|| search_link(&params, (page - 1).min(pages))),
        next: (page < pages).then(|| search_link(&params, page + 1)),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &DirectoryPage {
            lang,
            q: value(&params.q),
            types,
            kinds,
            discipline: value(&params.discipline),
            disciplines: SUGGESTED_DISCIPLINES,
            commune: value(&params.commune),
            near: value(&params.near),
            radius: value(&params.radius),
            closed: checked.include_closed,
            communes: communes::in_departement(&ctx.config.instance.departement),
            errors,
            results_heading,
            cards: results.items.iter().map(|h| card(lang, h)).collect(),
            near_label: checked.near.map(Commune::label),
            map,
            pagination,
        },
    )
}

#[derive(Template)]
#[template(path = "directory/entry.html")]
struct EntryPage {
    lang: Lang,
    name: String,
    kind_label: &'static str,
    disciplines: String,
    commune: String,
    address: String,
    website: String,
    phone: String,
    /// The number without spaces, for `tel:`.
    phone_link: String,
    /// Absolute URL of this page, what a report names.
    report_target: String,
}

async fn http_get_entry(
    data: Data,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let entry = search::listed_entry(ctx, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if entry.claimed {
        // Its account shows instead.
        return match entry.claimed_by_username {
            Some(username) => Ok(Redirect::to(&format!("/users/{username}")).into_response()),
            None => Err(AppError::not_found()),
        };
    }
    let commune = entry.commune().map(Commune::label).unwrap_or_default();
    let address = [entry.address.trim(), entry.postal_code.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    // Only web addresses become links.
    let website = if entry.website.starts_with("https://") || entry.website.starts_with("http://") {
        entry.website.clone()
    } else {
        String::new()
    };
    render(&EntryPage {
        lang,
        kind_label: lang.t(entry
            .directory_kind()
            .unwrap_or(DirectoryKind::Autre)
            .label_key()),
        disciplines: entry.disciplines.join(", "),
        commune,
        address,
        website,
        phone: entry.phone.clone(),
        phone_link: entry.phone.chars().filter(|c| !c.is_whitespace()).collect(),
        report_target: ctx.urls.absolute(&format!("/annuaire/fiches/{}", entry.id)),
        name: entry.name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters() {
        let params = SearchParams {
            q: Some("théâtre".into()),
            near: Some("Épinal".into()),
            radius: Some("20".into()),
            ..Default::default()
        };
        assert_eq!(
            search_link(&params, 3),
            "/annuaire?q=th%C3%A9%C3%A2tre&near=%C3%89pinal&radius=20&page=3"
        );
        assert_eq!(format_km(Lang::Fr, 12.345), "12,3");
    }
}
