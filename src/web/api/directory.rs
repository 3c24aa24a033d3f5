//! `GET /api/v1/directory`: the directory search of the page `/annuaire` as JSON (the same
//! `service::directory::search`). Public; a token lets members see members-only offers.

use crate::{
    error::AppResult,
    federation::Data,
    service::directory::search::{self, Hit, SearchParams},
    web::api::{ApiJson, ApiUser, auth::bearer_token, openapi::Problem},
};
use axum::{
    Router,
    extract::{FromRequestParts, Query},
    http::request::Parts,
    routing::get,
};
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_directory),
    components(schemas(DirectoryPage, DirectoryItem)),
    tags((name = "directory", description = "The directory of members, venues and sharing offers")),
)]
pub struct DirectoryApi;

pub fn routes() -> Router {
    Router::new().route("/api/v1/directory", get(http_get_directory))
}

/// The caller, when the request carries a bearer token (then it must be valid); visitors
/// without one are welcome.
pub struct MaybeApiUser(pub Option<ApiUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeApiUser {
    type Rejection = <ApiUser as FromRequestParts<S>>::Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if bearer_token(parts).is_none() {
            return Ok(MaybeApiUser(None));
        }
        Ok(MaybeApiUser(Some(
            ApiUser::from_request_parts(parts, state).await?,
        )))
    }
}

/// The search, as the query string carries it (every parameter optional).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; `SearchParams` reads it.
struct DirectoryQuery {
    /// Words to look for (accents, plurals and typos forgiven); empty: browse everything.
    /// Cut at 200 characters; any character is accepted.
    q: Option<String>,
    /// `member`, `venue` or `offer`.
    #[param(rename = "type")]
    r#type: Option<String>,
    /// Directory kind: `compagnie`, `association`, `bibliotheque`, `ecole_de_musique`,
    /// `etablissement_scolaire`, `ehpad_medico_social`, `collectivite`, `artiste`, `lieu`
    /// (venues count as `lieu`), `autre`. Offers have no kind.
    kind: Option<String>,
    /// A discipline, compared without case or accents.
    discipline: Option<String>,
    /// A commune: name, "Name (88)" or INSEE code.
    commune: Option<String>,
    /// A commune to sort by distance from (results without a position are left out).
    near: Option<String>,
    /// Only results within this many km of `near` (0 < radius ≤ 1000).
    radius: Option<f64>,
    /// `true`: closed offers too.
    closed: Option<bool>,
    /// 1-based page of 20 results.
    page: Option<i64>,
}

/// One result.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryItem {
    /// `member`, `venue` or `offer`.
    #[serde(rename = "type")]
    #[schema(example = "venue")]
    pub hit_type: String,
    pub name: String,
    /// Its page on this instance (for an unclaimed listed entry, `/annuaire/fiches/{id}`).
    pub url: String,
    /// Its ActivityPub id (members and venues).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ap_id: Option<String>,
    /// "Épinal (88)".
    pub commune: Option<String>,
    /// INSEE code.
    pub commune_code: Option<String>,
    /// Directory kind code (none for offers).
    pub kind: Option<String>,
    /// Offers' category (`son`, `lumiere`, `scene`, `video`, `mobilier`, `costumes`,
    /// `vehicule`, `salle`, `autre`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub disciplines: Vec<String>,
    /// Distance from `near`, in km, when it was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// False for an entry the département listed that nobody claimed yet.
    pub claimed: bool,
}

/// One page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryPage {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<DirectoryItem>,
}

fn item(ctx: &crate::context::AppContext, hit: Hit) -> DirectoryItem {
    let commune = hit
        .commune_code
        .as_deref()
        .and_then(crate::service::communes::by_code)
        .map(|c| c.label())
        .or(hit.commune_name);
    DirectoryItem {
        hit_type: hit.hit_type.as_str().to_string(),
        name: hit.name,
        url: ctx.urls.absolute(&hit.path),
        ap_id: hit.ap_id,
        commune,
        commune_code: hit.commune_code,
        kind: hit.kind.map(|k| k.as_str().to_string()),
        category: hit.category,
        disciplines: hit.disciplines,
        distance_km: hit.distance_km.map(|d| (d * 10.0).round() / 10.0),
        claimed: hit.claimed,
    }
}

/// Searches the directory. No token needed; with one (`Authorization: Bearer <token>`),
/// members also see members-only offers, and an unknown token is refused (401).
#[utoipa::path(
    get,
    path = "/api/v1/directory",
    tag = "directory",
    params(DirectoryQuery),
    responses(
        (status = 200, description = "A page of results, best first (nearest first with `near`)", body = DirectoryPage),
        (status = 401, description = "A token was sent but is unknown or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown `type` or `kind`, unknown or ambiguous `commune`/`near`, bad `radius`", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_directory(
    data: Data,
    MaybeApiUser(user): MaybeApiUser,
    Query(params): Query<SearchParams>,
) -> AppResult<ApiJson<DirectoryPage>> {
    let ctx = data.app_data();
    let query = params.check(&ctx.config.instance.departement)?;
    let page = search::search(ctx, user.as_ref().map(|u| &u.account), &query).await?;
    Ok(ApiJson(DirectoryPage {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        items: page.items.into_iter().map(|h| item(ctx, h)).collect(),
    }))
}
