//! `GET /api/v1/stats`: the territorial diagnosis as JSON (DESIGN §6), from the same
//! [`report::build`] as the pages and the exports. Public; a staff or admin token sees exact
//! counts, anyone else counts under 5 as `"<5"` and the others rounded to 5.

use crate::{
    error::AppResult,
    federation::Data,
    i18n::Lang,
    service::{
        accounts::is_staff,
        diagnosis::{
            self, Audience, RawFilters, export,
            report::{self, DatasetId, Datum, Report},
        },
    },
    web::api::{ApiJson, directory::MaybeApiUser, openapi::Problem},
};
use axum::{Router, extract::Query, routing::get};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_stats),
    components(schemas(Stats)),
    tags((name = "stats", description = "Figures of the territorial diagnosis")),
)]
pub struct StatsApi;

pub fn routes() -> Router {
    Router::new().route("/api/v1/stats", get(http_get_stats))
}

/// The filters, as the query string carries them (every parameter optional).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; `RawFilters` reads it.
struct StatsQuery {
    /// `month` (`from` = `YYYY-MM`), `quarter` (`YYYY-Q1`…`YYYY-Q4`), `year` (`YYYY`) or
    /// `custom` (`from`/`to` = `YYYY-MM-DD`, both included). Without it, `from`/`to` alone
    /// mean custom dates; nothing means since the beginning.
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// A discipline, compared without case or accents.
    discipline: Option<String>,
    /// A directory kind (`compagnie`, `association`, `bibliotheque`, …).
    kind: Option<String>,
    /// An EPCI's SIREN code.
    epci: Option<String>,
}

/// The figures. Every count is a number, or `"<5"` when withheld from the public.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// `public` (small counts withheld, others rounded to 5) or `staff` (exact counts).
    pub audience: &'static str,
    /// The filters applied: `from` and `to` (first and last days, null when open),
    /// `discipline`, `kind`, `epci`.
    #[schema(value_type = Object)]
    pub filters: Value,
    /// `{total, by_kind, by_discipline, by_commune, by_epci}` (keys: kind codes,
    /// normalised disciplines, INSEE and SIREN codes; `unknown` for no commune).
    #[schema(value_type = Object)]
    pub members: Value,
    /// `{total, by_kind, by_month: {"YYYY-MM": {kind: n}}}`.
    #[schema(value_type = Object)]
    pub announcements: Value,
    /// `{total, capacity, by_epci: {siren: {venues, capacity}}}`.
    #[schema(value_type = Object)]
    pub venues: Value,
    /// `{opened, partners: {total, by_kind}}` (`remote`: partners from other servers).
    #[schema(value_type = Object)]
    pub workspaces: Value,
    /// `{offers: {total, by_category}, loans: {total, by_category}}`.
    #[schema(value_type = Object)]
    pub sharing: Value,
    /// `{threads, replies, by_month: {"YYYY-MM": {threads, replies}}}`.
    #[schema(value_type = Object)]
    pub forum: Value,
    /// `{followers: {total, by_server}, deliveries: {total, by_server}}`.
    #[schema(value_type = Object)]
    pub reach: Value,
    /// `{listed, claimed, rate}` (rate in %, null when unknown).
    #[schema(value_type = Object)]
    pub claim_rate: Value,
    /// Where the same figures are downloaded (CSV and JSON).
    #[schema(value_type = Object)]
    pub exports: Value,
}

/// `{code: value}` of a dataset's `key` and `value` columns.
fn map_of(report: &Report, id: DatasetId, key: usize, value: usize) -> Value {
    let mut m = Map::new();
    for row in &report.dataset(id).rows {
        if let Datum::Text(k) = &row[key] {
            m.insert(k.clone(), row[value].json());
        }
    }
    Value::Object(m)
}

/// `{month: {column name: value}}` of a dataset with a month first.
fn by_month(report: &Report, id: DatasetId) -> Value {
    let columns = id.columns();
    let mut m = Map::new();
    for row in &report.dataset(id).rows {
        if let Datum::Text(month) = &row[0] {
            let values: Map<String, Value> = columns
                .iter()
                .zip(row)
                .skip(1)
                .map(|(c, d)| (c.name.to_string(), d.json()))
                .collect();
            m.insert(month.clone(), Value::Object(values));
        }
    }
    Value::Object(m)
}

fn indicator(report: &Report, code: &str) -> Value {
    report.indicator(code).map_or(Value::Null, Datum::json)
}

fn stats(report: &Report, base_url: &str, query: &str) -> Stats {
    let ind = |code: &str| indicator(report, code);
    let mut announcements_by_month = Map::new();
    for row in &report.dataset(DatasetId::AnnouncementsByMonth).rows {
        if let (Datum::Text(month), Datum::Text(kind)) = (&row[0], &row[1]) {
            let entry = announcements_by_month
                .entry(month.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = entry {
                o.insert(kind.clone(), row[3].json());
            }
        }
    }
    let mut venues_by_epci = Map::new();
    for row in &report.dataset(DatasetId::VenuesByEpci).rows {
        if let Datum::Text(code) = &row[0] {
            venues_by_epci.insert(
                code.clone(),
                json!({ "venues": row[2].json(), "capacity": row[3].json() }),
            );
        }
    }
    let audience = report.audience;
    Stats {
        audience: match audience {
            Audience::Public => "public",
            Audience::Staff => "staff",
        },
        filters: export::filters_json(&report.filters),
        members: json!({
            "total": ind("membres"),
            "by_kind": map_of(report, DatasetId::MembersByKind, 0, 2),
            "by_discipline": map_of(report, DatasetId::MembersByDiscipline, 0, 2),
            "by_commune": map_of(report, DatasetId::MembersByCommune, 0, 2),
            "by_epci": map_of(report, DatasetId::MembersByEpci, 0, 2),
        }),
        announcements: json!({
            "total": ind("annonces"),
            "by_kind": map_of(report, DatasetId::AnnouncementsByKind, 0, 2),
            "by_month": Value::Object(announcements_by_month),
        }),
        venues: json!({
            "total": ind("lieux"),
            "capacity": ind("capacite"),
            "by_epci": Value::Object(venues_by_epci),
        }),
        workspaces: json!({
            "opened": ind("espaces_ouverts"),
            "partners": {
                "total": ind("partenaires"),
                "by_kind": map_of(report, DatasetId::PartnersByKind, 0, 2),
            },
        }),
        sharing: json!({
            "offers": {
                "total": ind("offres"),
                "by_category": map_of(report, DatasetId::OffersByCategory, 0, 2),
            },
            "loans": {
                "total": ind("prets"),
                "by_category": map_of(report, DatasetId::LoansByCategory, 0, 2),
            },
        }),
        forum: json!({
            "threads": ind("sujets_forum"),
            "replies": ind("reponses_forum"),
            "by_month": by_month(report, DatasetId::ForumByMonth),
        }),
        reach: json!({
            "followers": {
                "total": ind("abonnes_distants"),
                "by_server": map_of(report, DatasetId::FollowersByServer, 0, 1),
            },
            "deliveries": {
                "total": ind("envois"),
                "by_server": map_of(report, DatasetId::DeliveriesByServer, 0, 1),
            },
        }),
        claim_rate: json!({
            "listed": ind("fiches_listees"),
            "claimed": ind("fiches_revendiquees"),
            "rate": ind("taux_de_revendication"),
        }),
        exports: json!({
            "csv": format!("{base_url}{}{query}", export::export_path(audience, "csv")),
            "json": format!("{base_url}{}{query}", export::export_path(audience, "json")),
        }),
    }
}

/// The figures of the territorial diagnosis. No token needed; a staff or admin token
/// (`Authorization: Bearer <token>`) sees exact counts, an unknown token is refused (401).
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    tag = "stats",
    params(StatsQuery),
    responses(
        (status = 200, description = "The figures for the filters", body = Stats),
        (status = 400, description = "An unknown or unreadable filter (`period`, `from`, `to`, `discipline`, `kind`, `epci`), or a period ending before it starts; the fields are named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token was sent but is unknown or revoked", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_stats(
    data: Data,
    MaybeApiUser(user): MaybeApiUser,
    Query(raw): Query<RawFilters>,
) -> AppResult<ApiJson<Stats>> {
    let ctx = data.app_data();
    let audience = match &user {
        Some(u) if is_staff(&u.account) => Audience::Staff,
        _ => Audience::Public,
    };
    let filters = diagnosis::parse_filters(&mut *ctx.conn().await?, &raw).await?;
    let report = report::build(ctx, &filters, audience, Lang::Fr).await?;
    let query = crate::web::pages::diagnosis::query_of(&raw);
    Ok(ApiJson(stats(&report, ctx.urls.base(), &query)))
}
