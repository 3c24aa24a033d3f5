//! The diagnosis as datasets: every table the pages show, the exports write and the API
//! answers is a [`Dataset`] built here, once per request, from the figures (exact counts)
//! and the suppression rule for the reader's [`Audience`].
//!
//! One list of datasets ([`DatasetId::ALL`]), each with its data dictionary ([`Column`]:
//! field, type, meaning, unit, and its role in the long format of the full export), so a
//! table on the page, its CSV, its JSON and the data package describing them cannot
//! disagree. Labels are written in the language asked for (exports use French, the
//! language of the dataset).
//!
//! Time series cover every month of the period (months without data count 0, shown `< 5`
//! to the public like any small count): from the period's first month, or the first month
//! with data when the period is open, to its last month, never past the current month. A
//! period without any data has no month: its tables are empty.

use super::{
    Audience, Filters, Period, Table,
    figures::{self, REMOTE, UNKNOWN},
    suppress::{self, Cell},
};
use crate::{
    context::AppContext,
    error::AppResult,
    i18n::Lang,
    service::{directory::DirectoryKind, publishing::AnnouncementKind, sharing::OfferCategory},
};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use std::collections::{BTreeSet, HashMap};

/// The datasets, in the order of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetId {
    Summary,
    MembersByKind,
    MembersByDiscipline,
    MembersByEpci,
    MembersByCommune,
    VenuesByEpci,
    OffersByCategory,
    LoansByCategory,
    PartnersByKind,
    AnnouncementsByKind,
    AnnouncementsByMonth,
    ForumByMonth,
    ClaimsByMonth,
    FollowersByServer,
    DeliveriesByServer,
}

/// Types of the data dictionary, named as in a Frictionless Table Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Integer,
    Number,
    YearMonth,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::YearMonth => "yearmonth",
        }
    }
}

/// What a column is in the long format of the full export (`jeu, mois, code, libelle,
/// mesure, valeur`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Month,
    Code,
    Label,
    /// A measured value: one line of the long format each.
    Measure,
}

/// One field of the data dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name in the CSV header and the JSON rows (stable).
    pub name: &'static str,
    pub kind: FieldType,
    pub role: Role,
    /// i18n key of what it means.
    pub meaning: &'static str,
    /// i18n key of its unit, if it has one.
    pub unit: Option<&'static str>,
}

const fn col(
    name: &'static str,
    kind: FieldType,
    role: Role,
    meaning: &'static str,
    unit: Option<&'static str>,
) -> Column {
    Column {
        name,
        kind,
        role,
        meaning,
        unit,
    }
}

const CODE: Column = col(
    "code",
    FieldType::String,
    Role::Code,
    "diagnosis.field.code",
    None,
);
const LABEL: Column = col(
    "libelle",
    FieldType::String,
    Role::Label,
    "diagnosis.field.label",
    None,
);
const MONTH: Column = col(
    "mois",
    FieldType::YearMonth,
    Role::Month,
    "diagnosis.field.month",
    None,
);
const INSEE: Column = col(
    "code_insee",
    FieldType::String,
    Role::Code,
    "diagnosis.field.insee",
    None,
);
const COMMUNE: Column = col(
    "commune",
    FieldType::String,
    Role::Label,
    "diagnosis.field.commune",
    None,
);
const SIREN: Column = col(
    "siren",
    FieldType::String,
    Role::Code,
    "diagnosis.field.siren",
    None,
);
const EPCI: Column = col(
    "epci",
    FieldType::String,
    Role::Label,
    "diagnosis.field.epci",
    None,
);
const SERVER: Column = col(
    "serveur",
    FieldType::String,
    Role::Code,
    "diagnosis.field.server",
    None,
);
const POPULATION: Column = col(
    "population",
    FieldType::Integer,
    Role::Measure,
    "diagnosis.field.population",
    Some("diagnosis.unit.inhabitants"),
);
const MEMBER_RATE: Column = col(
    "membres_pour_10000_habitants",
    FieldType::Number,
    Role::Measure,
    "diagnosis.field.member_rate",
    Some("diagnosis.unit.per_10k"),
);

const fn count(name: &'static str, meaning: &'static str, unit: &'static str) -> Column {
    col(name, FieldType::Integer, Role::Measure, meaning, Some(unit))
}

const MEMBERS: Column = count(
    "membres",
    "diagnosis.field.members",
    "diagnosis.unit.members",
);

impl DatasetId {
    pub const ALL: [DatasetId; 15] = [
        DatasetId::Summary,
        DatasetId::MembersByKind,
        DatasetId::MembersByDiscipline,
        DatasetId::MembersByEpci,
        DatasetId::MembersByCommune,
        DatasetId::VenuesByEpci,
        DatasetId::OffersByCategory,
        DatasetId::LoansByCategory,
        DatasetId::PartnersByKind,
        DatasetId::AnnouncementsByKind,
        DatasetId::AnnouncementsByMonth,
        DatasetId::ForumByMonth,
        DatasetId::ClaimsByMonth,
        DatasetId::FollowersByServer,
        DatasetId::DeliveriesByServer,
    ];

    /// Its name in URLs and files (stable).
    pub fn slug(self) -> &'static str {
        match self {
            DatasetId::Summary => "synthese",
            DatasetId::MembersByKind => "membres-par-type",
            DatasetId::MembersByDiscipline => "membres-par-discipline",
            DatasetId::MembersByEpci => "membres-par-epci",
            DatasetId::MembersByCommune => "membres-par-commune",
            DatasetId::VenuesByEpci => "lieux-par-epci",
            DatasetId::OffersByCategory => "offres-par-categorie",
            DatasetId::LoansByCategory => "prets-par-categorie",
            DatasetId::PartnersByKind => "partenaires-par-type",
            DatasetId::AnnouncementsByKind => "annonces-par-type",
            DatasetId::AnnouncementsByMonth => "annonces-par-mois",
            DatasetId::ForumByMonth => "forum-par-mois",
            DatasetId::ClaimsByMonth => "fiches-revendiquees-par-mois",
            DatasetId::FollowersByServer => "abonnes-par-serveur",
            DatasetId::DeliveriesByServer => "envois-par-serveur",
        }
    }

    pub fn parse(slug: &str) -> Option<DatasetId> {
        DatasetId::ALL.into_iter().find(|d| d.slug() == slug)
    }

    /// i18n key of its title.
    pub fn title_key(self) -> &'static str {
        match self {
            DatasetId::Summary => "diagnosis.ds.summary",
            DatasetId::MembersByKind => "diagnosis.ds.members_by_kind",
            DatasetId::MembersByDiscipline => "diagnosis.ds.members_by_discipline",
            DatasetId::MembersByEpci => "diagnosis.ds.members_by_epci",
            DatasetId::MembersByCommune => "diagnosis.ds.members_by_commune",
            DatasetId::VenuesByEpci => "diagnosis.ds.venues_by_epci",
            DatasetId::OffersByCategory => "diagnosis.ds.offers_by_category",
            DatasetId::LoansByCategory => "diagnosis.ds.loans_by_category",
            DatasetId::PartnersByKind => "diagnosis.ds.partners_by_kind",
            DatasetId::AnnouncementsByKind => "diagnosis.ds.announcements_by_kind",
            DatasetId::AnnouncementsByMonth => "diagnosis.ds.announcements_by_month",
            DatasetId::ForumByMonth => "diagnosis.ds.forum_by_month",
            DatasetId::ClaimsByMonth => "diagnosis.ds.claims_by_month",
            DatasetId::FollowersByServer => "diagnosis.ds.followers_by_server",
            DatasetId::DeliveriesByServer => "diagnosis.ds.deliveries_by_server",
        }
    }

    /// i18n key of what it counts, and how (the period rule, who is counted).
    pub fn description_key(self) -> &'static str {
        match self {
            DatasetId::Summary => "diagnosis.dsd.summary",
            DatasetId::MembersByKind => "diagnosis.dsd.members_by_kind",
            DatasetId::MembersByDiscipline => "diagnosis.dsd.members_by_discipline",
            DatasetId::MembersByEpci => "diagnosis.dsd.members_by_epci",
            DatasetId::MembersByCommune => "diagnosis.dsd.members_by_commune",
            DatasetId::VenuesByEpci => "diagnosis.dsd.venues_by_epci",
            DatasetId::OffersByCategory => "diagnosis.dsd.offers_by_category",
            DatasetId::LoansByCategory => "diagnosis.dsd.loans_by_category",
            DatasetId::PartnersByKind => "diagnosis.dsd.partners_by_kind",
            DatasetId::AnnouncementsByKind => "diagnosis.dsd.announcements_by_kind",
            DatasetId::AnnouncementsByMonth => "diagnosis.dsd.announcements_by_month",
            DatasetId::ForumByMonth => "diagnosis.dsd.forum_by_month",
            DatasetId::ClaimsByMonth => "diagnosis.dsd.claims_by_month",
            DatasetId::FollowersByServer => "diagnosis.dsd.followers_by_server",
            DatasetId::DeliveriesByServer => "diagnosis.dsd.deliveries_by_server",
        }
    }

    /// The data dictionary: its columns, in order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            DatasetId::Summary => {
                const {
                    &[
                        col(
                            "indicateur",
                            FieldType::String,
                            Role::Code,
                            "diagnosis.field.indicator",
                            None,
                        ),
                        LABEL,
                        col(
                            "valeur",
                            FieldType::Number,
                            Role::Measure,
                            "diagnosis.field.value",
                            None,
                        ),
                        col(
                            "unite",
                            FieldType::String,
                            Role::Label,
                            "diagnosis.field.unit",
                            None,
                        ),
                    ]
                }
            }
            DatasetId::MembersByKind => &[CODE, LABEL, MEMBERS],
            DatasetId::MembersByDiscipline => &[CODE, LABEL, MEMBERS],
            DatasetId::MembersByEpci => &[SIREN, EPCI, MEMBERS, POPULATION, MEMBER_RATE],
            DatasetId::MembersByCommune => &[INSEE, COMMUNE, MEMBERS, POPULATION, MEMBER_RATE],
            DatasetId::VenuesByEpci => {
                const {
                    &[
                        SIREN,
                        EPCI,
                        count("lieux", "diagnosis.field.venues", "diagnosis.unit.venues"),
                        count(
                            "capacite",
                            "diagnosis.field.capacity",
                            "diagnosis.unit.seats",
                        ),
                    ]
                }
            }
            DatasetId::OffersByCategory => {
                const {
                    &[
                        CODE,
                        LABEL,
                        count("offres", "diagnosis.field.offers", "diagnosis.unit.offers"),
                    ]
                }
            }
            DatasetId::LoansByCategory => {
                const {
                    &[
                        CODE,
                        LABEL,
                        count("prets", "diagnosis.field.loans", "diagnosis.unit.loans"),
                    ]
                }
            }
            DatasetId::PartnersByKind => {
                const {
                    &[
                        CODE,
                        LABEL,
                        count(
                            "partenaires",
                            "diagnosis.field.partners",
                            "diagnosis.unit.partners",
                        ),
                    ]
                }
            }
            DatasetId::AnnouncementsByKind => {
                const {
                    &[
                        CODE,
                        LABEL,
                        count(
                            "annonces",
                            "diagnosis.field.announcements_total",
                            "diagnosis.unit.announcements",
                        ),
                    ]
                }
            }
            DatasetId::AnnouncementsByMonth => {
                const {
                    &[
                        MONTH,
                        CODE,
                        LABEL,
                        count(
                            "annonces",
                            "diagnosis.field.announcements",
                            "diagnosis.unit.announcements",
                        ),
                    ]
                }
            }
            DatasetId::ForumByMonth => {
                const {
                    &[
                        MONTH,
                        count(
                            "sujets",
                            "diagnosis.field.threads",
                            "diagnosis.unit.threads",
                        ),
                        count(
                            "reponses",
                            "diagnosis.field.replies",
                            "diagnosis.unit.replies",
                        ),
                    ]
                }
            }
            DatasetId::ClaimsByMonth => {
                const {
                    &[
                        MONTH,
                        count(
                            "fiches_listees",
                            "diagnosis.field.listed",
                            "diagnosis.unit.entries",
                        ),
                        count(
                            "fiches_revendiquees",
                            "diagnosis.field.claimed",
                            "diagnosis.unit.entries",
                        ),
                        col(
                            "taux_de_revendication",
                            FieldType::Number,
                            Role::Measure,
                            "diagnosis.field.claim_rate",
                            Some("diagnosis.unit.percent"),
                        ),
                    ]
                }
            }
            DatasetId::FollowersByServer => {
                const {
                    &[
                        SERVER,
                        count(
                            "abonnes",
                            "diagnosis.field.followers",
                            "diagnosis.unit.accounts",
                        ),
                    ]
                }
            }
            DatasetId::DeliveriesByServer => {
                const {
                    &[
                        SERVER,
                        count(
                            "envois",
                            "diagnosis.field.deliveries",
                            "diagnosis.unit.deliveries",
                        ),
                    ]
                }
            }
        }
    }
}

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    Text(String),
    /// A count as the reader may see it.
    Count(Cell),
    /// A rate, a percentage or a population; `None` when unknown (or hidden with the count
    /// it derives from).
    Number(Option<f64>),
}

impl Datum {
    /// The value in a CSV cell: `<5` for a suppressed count, empty when unknown, decimals
    /// with a point and at most two digits.
    pub fn csv(&self) -> String {
        match self {
            Datum::Text(s) => s.clone(),
            Datum::Count(Cell::Value(n)) => n.to_string(),
            Datum::Count(Cell::Suppressed) => suppress::SUPPRESSED_JSON.to_string(),
            Datum::Number(None) => String::new(),
            Datum::Number(Some(x)) => decimal(*x),
        }
    }

    /// The value in JSON: `"<5"` for a suppressed count, `null` when unknown.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Datum::Text(s) => serde_json::Value::String(s.clone()),
            Datum::Count(c) => serde_json::to_value(c).unwrap_or(serde_json::Value::Null),
            Datum::Number(None) => serde_json::Value::Null,
            Datum::Number(Some(x)) => serde_json::Number::from_f64(round2(*x))
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
        }
    }

    /// A count or number to draw, `None` when suppressed or unknown.
    pub fn number(&self) -> Option<f64> {
        match self {
            Datum::Count(Cell::Value(n)) => Some(*n as f64),
            Datum::Number(x) => *x,
            _ => None,
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `x` with at most two decimals, a point, no trailing zeros.
fn decimal(x: f64) -> String {
    let s = format!("{:.2}", round2(x));
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// One table.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub id: DatasetId,
    /// Rows of values in the order of [`DatasetId::columns`].
    pub rows: Vec<Vec<Datum>>,
}

impl Dataset {
    pub fn columns(&self) -> &'static [Column] {
        self.id.columns()
    }
}

/// Every dataset for one reader and one set of filters.
#[derive(Debug, Clone)]
pub struct Report {
    pub audience: Audience,
    pub filters: Filters,
    pub generated_at: DateTime<Utc>,
    pub datasets: Vec<Dataset>,
}

impl Report {
    pub fn dataset(&self, id: DatasetId) -> &Dataset {
        self.datasets
            .iter()
            .find(|d| d.id == id)
            .expect("every dataset is built")
    }

    /// The summary value of `indicator`, as built.
    pub fn indicator(&self, indicator: &str) -> Option<&Datum> {
        self.dataset(DatasetId::Summary)
            .rows
            .iter()
            .find(|r| matches!(r.first(), Some(Datum::Text(code)) if code == indicator))
            .and_then(|r| r.get(2))
    }
}

/// Codes of the summary's indicators, in order.
pub const INDICATORS: [&str; 16] = [
    "membres",
    "lieux",
    "capacite",
    "offres",
    "prets",
    "espaces_ouverts",
    "partenaires",
    "annonces",
    "sujets_forum",
    "reponses_forum",
    "abonnes_distants",
    "envois",
    "fiches_listees",
    "fiches_revendiquees",
    "taux_de_revendication",
    "serveurs_abonnes",
];

/// i18n key of an indicator's label.
pub fn indicator_key(code: &str) -> &'static str {
    match code {
        "membres" => "diagnosis.ind.members",
        "lieux" => "diagnosis.ind.venues",
        "capacite" => "diagnosis.ind.capacity",
        "offres" => "diagnosis.ind.offers",
        "prets" => "diagnosis.ind.loans",
        "espaces_ouverts" => "diagnosis.ind.workspaces",
        "partenaires" => "diagnosis.ind.partners",
        "annonces" => "diagnosis.ind.announcements",
        "sujets_forum" => "diagnosis.ind.threads",
        "reponses_forum" => "diagnosis.ind.replies",
        "abonnes_distants" => "diagnosis.ind.followers",
        "envois" => "diagnosis.ind.deliveries",
        "fiches_listees" => "diagnosis.ind.listed",
        "fiches_revendiquees" => "diagnosis.ind.claimed",
        "taux_de_revendication" => "diagnosis.ind.claim_rate",
        _ => "diagnosis.ind.servers",
    }
}

/// i18n key of an indicator's unit.
pub fn indicator_unit(code: &str) -> &'static str {
    match code {
        "membres" => "diagnosis.unit.members",
        "lieux" => "diagnosis.unit.venues",
        "capacite" => "diagnosis.unit.seats",
        "offres" => "diagnosis.unit.offers",
        "prets" => "diagnosis.unit.loans",
        "espaces_ouverts" => "diagnosis.unit.workspaces",
        "partenaires" => "diagnosis.unit.partners",
        "annonces" => "diagnosis.unit.announcements",
        "sujets_forum" => "diagnosis.unit.threads",
        "reponses_forum" => "diagnosis.unit.replies",
        "abonnes_distants" => "diagnosis.unit.accounts",
        "envois" => "diagnosis.unit.deliveries",
        "fiches_listees" | "fiches_revendiquees" => "diagnosis.unit.entries",
        "taux_de_revendication" => "diagnosis.unit.percent",
        _ => "diagnosis.unit.servers",
    }
}

/// The label of a row's code: kinds, categories and announcement kinds translated, the
/// rows without a territory or from other servers named, anything else as stored.
fn label_of(lang: Lang, what: DatasetId, code: &str, stored: &str) -> String {
    if code == UNKNOWN {
        return lang.t("diagnosis.row.unknown").to_string();
    }
    if code == REMOTE {
        return lang.t("diagnosis.row.remote").to_string();
    }
    let key = match what {
        DatasetId::MembersByKind | DatasetId::PartnersByKind | DatasetId::AnnouncementsByKind => {
            DirectoryKind::parse(code).map(DirectoryKind::label_key)
        }
        DatasetId::OffersByCategory | DatasetId::LoansByCategory => {
            OfferCategory::parse(code).map(OfferCategory::label_key)
        }
        DatasetId::AnnouncementsByMonth => AnnouncementKind::parse(code).map(|k| k.label_key()),
        _ => None,
    };
    key.map_or_else(|| stored.to_string(), |k| lang.t(k).to_string())
}

/// The rows of a table of counts: code, label and (for territories) population and rate.
fn counts_rows(
    lang: Lang,
    id: DatasetId,
    table: &Table,
    audience: Audience,
    with_population: bool,
) -> Vec<Vec<Datum>> {
    let shown = suppress::table(table, audience);
    shown
        .rows
        .iter()
        .zip(&table.rows)
        .map(|(s, exact)| {
            let mut row = vec![
                Datum::Text(s.code.clone()),
                Datum::Text(label_of(lang, id, &s.code, &s.label)),
                Datum::Count(s.cell),
            ];
            if with_population {
                row.push(Datum::Number(exact.population.map(|p| p as f64)));
                row.push(Datum::Number(s.rate_per_10k));
            }
            row
        })
        .collect()
}

/// `YYYY-MM` of a day.
fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// The months the series cover (see the module header). `data` holds the months with data.
pub fn months_of(period: Period, data: &BTreeSet<String>, today: NaiveDate) -> Vec<String> {
    /// Longest series drawn, in months (a custom period from year 1000 stays readable).
    const MAX_MONTHS: u32 = 600;
    let current = month_of(today);
    let start = period
        .start()
        .filter(|d| *d != NaiveDate::MIN)
        .map(month_of);
    let end = period
        .end()
        .filter(|d| *d != NaiveDate::MAX)
        .and_then(|d| d.pred_opt())
        .map(month_of);
    // A period without any data has no months: its files are empty, with their header.
    let Some(first_data) = data.first() else {
        return Vec::new();
    };
    let first = match start {
        Some(s)
            if s.as_str() < first_data.as_str() && months_between(&s, first_data) > MAX_MONTHS =>
        {
            first_data.clone()
        }
        Some(s) => s,
        None => first_data.clone(),
    };
    let mut last = end.map_or(current.clone(), |e| e.min(current));
    if let Some(d) = data.last()
        && *d > last
    {
        last = d.clone();
    }
    let Some(mut day) = NaiveDate::parse_from_str(&format!("{first}-01"), "%Y-%m-%d").ok() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while month_of(day) <= last && out.len() < MAX_MONTHS as usize {
        out.push(month_of(day));
        match day.checked_add_months(Months::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

fn months_between(a: &str, b: &str) -> u32 {
    let parse = |s: &str| -> Option<i64> {
        let (y, m) = s.split_once('-')?;
        Some(y.parse::<i64>().ok()? * 12 + m.parse::<i64>().ok()?)
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => u32::try_from((b - a).abs()).unwrap_or(u32::MAX),
        _ => 0,
    }
}

/// Percentage of `part` in `whole`, when both are shown and `whole` is not zero.
fn percent(part: Cell, whole: Cell) -> Option<f64> {
    match (part, whole) {
        (Cell::Value(p), Cell::Value(w)) if w > 0 => Some(p as f64 * 100.0 / w as f64),
        _ => None,
    }
}

/// Runs `figure` on a connection of its own from the pool.
async fn on_own_connection<T>(
    ctx: &AppContext,
    figure: impl AsyncFnOnce(&mut AsyncPgConnection) -> AppResult<T>,
) -> AppResult<T> {
    let mut conn = ctx.conn().await?;
    figure(&mut conn).await
}

/// Builds every dataset for `audience` (see the module header).
///
/// The figures are independent statements: they run at the same time, each on a connection
/// of its own (the report takes about the time of its slowest figure rather than their
/// sum, measured by `cargo bench --bench diagnosis`). The caller holds no connection while
/// waiting, so concurrent reports cannot starve each other of the pool.
pub async fn build(
    ctx: &AppContext,
    filters: &Filters,
    audience: Audience,
    lang: Lang,
) -> AppResult<Report> {
    let f = filters;
    let (
        by_kind,
        by_discipline,
        by_epci,
        by_commune,
        venues,
        sharing,
        workspaces,
        announcements,
        forum,
        claims,
        reach,
    ) = tokio::try_join!(
        on_own_connection(ctx, async |c| figures::members_by_kind(c, f, audience)
            .await),
        on_own_connection(ctx, async |c| figures::members_by_discipline(
            c, f, audience
        )
        .await),
        on_own_connection(ctx, async |c| figures::members_by_epci(c, f, audience)
            .await),
        on_own_connection(ctx, async |c| figures::members_by_commune(c, f, audience)
            .await),
        on_own_connection(ctx, async |c| figures::venues_by_epci(c, f, audience).await),
        on_own_connection(ctx, async |c| figures::sharing(c, f, audience).await),
        on_own_connection(ctx, async |c| figures::workspaces(c, f, audience).await),
        on_own_connection(ctx, async |c| figures::announcements_by_month(
            c, f, audience
        )
        .await),
        on_own_connection(ctx, async |c| figures::forum_by_month(c, f, audience).await),
        on_own_connection(ctx, async |c| figures::claim_rate(c, f).await),
        on_own_connection(ctx, async |c| figures::reach(c, f, audience).await),
    )?;

    let generated_at = Utc::now();
    let data_months: BTreeSet<String> = announcements
        .points
        .iter()
        .chain(&forum.points)
        .map(|p| p.0.clone())
        .chain(claims.by_month.iter().map(|(m, _)| m.clone()))
        .collect();
    let months = months_of(filters.period, &data_months, generated_at.date_naive());
    let history = on_own_connection(ctx, async |c| {
        figures::claim_history(c, filters, &months).await
    })
    .await?;

    let cell = |n: i64| suppress::cell(n, audience);

    // Venues, with the capacity shown only where the number of venues is.
    let shown_venues = suppress::table(&venues.venues, audience);
    let mut venue_rows: Vec<Vec<Datum>> = shown_venues
        .rows
        .iter()
        .map(|s| {
            let capacity = match s.cell {
                Cell::Suppressed => Cell::Suppressed,
                Cell::Value(_) => Cell::Value(venues.capacity.count(&s.code)),
            };
            vec![
                Datum::Text(s.code.clone()),
                Datum::Text(label_of(lang, DatasetId::VenuesByEpci, &s.code, &s.label)),
                Datum::Count(s.cell),
                Datum::Count(capacity),
            ]
        })
        .collect();
    let capacity_total = match shown_venues.total {
        Cell::Suppressed => Cell::Suppressed,
        Cell::Value(_) => Cell::Value(venues.capacity.total),
    };

    // Announcements: every month of the series × every kind.
    let mut announcement_counts: HashMap<(&str, &str), i64> = HashMap::new();
    for (m, k, n) in &announcements.points {
        announcement_counts.insert((m.as_str(), k.as_str()), *n);
    }
    let mut announcement_rows = Vec::new();
    for m in &months {
        for kind in AnnouncementKind::ALL {
            let n = announcement_counts
                .get(&(m.as_str(), kind.as_str()))
                .copied()
                .unwrap_or(0);
            announcement_rows.push(vec![
                Datum::Text(m.clone()),
                Datum::Text(kind.as_str().into()),
                Datum::Text(lang.t(kind.label_key()).into()),
                Datum::Count(cell(n)),
            ]);
        }
    }
    let announcements_total: i64 = announcements.points.iter().map(|p| p.2).sum();
    let mut announcements_by_kind = Table {
        rows: Vec::new(),
        total: announcements_total,
    };
    for kind in AnnouncementKind::ALL {
        let n: i64 = announcements
            .points
            .iter()
            .filter(|p| p.1 == kind.as_str())
            .map(|p| p.2)
            .sum();
        if n > 0 {
            announcements_by_kind.rows.push(super::Row {
                code: kind.as_str().into(),
                label: kind.as_str().into(),
                count: n,
                population: None,
            });
        }
    }
    announcements_by_kind
        .rows
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));

    let mut forum_rows: Vec<Vec<Datum>> = months
        .iter()
        .map(|m| {
            vec![
                Datum::Text(m.clone()),
                Datum::Count(cell(forum.count(m, "threads"))),
                Datum::Count(cell(forum.count(m, "replies"))),
            ]
        })
        .collect();
    let forum_total = |code: &str| -> i64 {
        forum
            .points
            .iter()
            .filter(|p| p.1 == code)
            .map(|p| p.2)
            .sum()
    };

    let mut claim_rows: Vec<Vec<Datum>> = history
        .iter()
        .map(|(m, listed, claimed)| {
            let (listed, claimed) = (cell(*listed), cell(*claimed));
            vec![
                Datum::Text(m.clone()),
                Datum::Count(listed),
                Datum::Count(claimed),
                Datum::Number(percent(claimed, listed)),
            ]
        })
        .collect();

    let server_rows = |table: &Table| -> Vec<Vec<Datum>> {
        suppress::table(table, audience)
            .rows
            .into_iter()
            .map(|s| vec![Datum::Text(s.code), Datum::Count(s.cell)])
            .collect()
    };

    // The summary.
    let (listed, claimed) = (cell(claims.listed), cell(claims.claimed));
    let summary_values: Vec<(&str, Datum)> = vec![
        ("membres", Datum::Count(cell(by_kind.total))),
        ("lieux", Datum::Count(shown_venues.total)),
        ("capacite", Datum::Count(capacity_total)),
        ("offres", Datum::Count(cell(sharing.offers.total))),
        ("prets", Datum::Count(cell(sharing.loans.total))),
        ("espaces_ouverts", Datum::Count(cell(workspaces.opened))),
        ("partenaires", Datum::Count(cell(workspaces.partners.total))),
        ("annonces", Datum::Count(cell(announcements_total))),
        ("sujets_forum", Datum::Count(cell(forum_total("threads")))),
        ("reponses_forum", Datum::Count(cell(forum_total("replies")))),
        (
            "abonnes_distants",
            Datum::Count(cell(reach.followers.total)),
        ),
        ("envois", Datum::Count(cell(reach.deliveries.total))),
        ("fiches_listees", Datum::Count(listed)),
        ("fiches_revendiquees", Datum::Count(claimed)),
        (
            "taux_de_revendication",
            Datum::Number(percent(claimed, listed)),
        ),
        (
            "serveurs_abonnes",
            Datum::Count(Cell::Value(reach.followers.rows.len() as i64)),
        ),
    ];
    debug_assert!(
        summary_values
            .iter()
            .map(|(c, _)| *c)
            .eq(INDICATORS.iter().copied())
    );
    let mut summary_rows: Vec<Vec<Datum>> = summary_values
        .into_iter()
        .map(|(code, value)| {
            vec![
                Datum::Text(code.into()),
                Datum::Text(lang.t(indicator_key(code)).into()),
                value,
                Datum::Text(lang.t(indicator_unit(code)).into()),
            ]
        })
        .collect();

    let mut datasets = Vec::with_capacity(DatasetId::ALL.len());
    for id in DatasetId::ALL {
        let rows = match id {
            DatasetId::Summary => std::mem::take(&mut summary_rows),
            DatasetId::MembersByKind => counts_rows(lang, id, &by_kind, audience, false),
            DatasetId::MembersByDiscipline => {
                counts_rows(lang, id, &by_discipline, audience, false)
            }
            DatasetId::MembersByEpci => counts_rows(lang, id, &by_epci, audience, true),
            DatasetId::MembersByCommune => counts_rows(lang, id, &by_commune, audience, true),
            DatasetId::VenuesByEpci => std::mem::take(&mut venue_rows),
            DatasetId::OffersByCategory => counts_rows(lang, id, &sharing.offers, audience, false),
            DatasetId::LoansByCategory => counts_rows(lang, id, &sharing.loans, audience, false),
            DatasetId::PartnersByKind => {
                counts_rows(lang, id, &workspaces.partners, audience, false)
            }
            DatasetId::AnnouncementsByKind => {
                counts_rows(lang, id, &announcements_by_kind, audience, false)
            }
            DatasetId::AnnouncementsByMonth => std::mem::take(&mut announcement_rows),
            DatasetId::ForumByMonth => std::mem::take(&mut forum_rows),
            DatasetId::ClaimsByMonth => std::mem::take(&mut claim_rows),
            DatasetId::FollowersByServer => server_rows(&reach.followers),
            DatasetId::DeliveriesByServer => server_rows(&reach.deliveries),
        };
        datasets.push(Dataset { id, rows });
    }

    Ok(Report {
        audience,
        filters: filters.clone(),
        generated_at,
        datasets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn every_dataset_has_a_unique_slug_and_columns_with_unique_names() {
        let slugs: BTreeSet<&str> = DatasetId::ALL.iter().map(|d| d.slug()).collect();
        assert_eq!(slugs.len(), DatasetId::ALL.len());
        for id in DatasetId::ALL {
            assert_eq!(DatasetId::parse(id.slug()), Some(id));
            let names: BTreeSet<&str> = id.columns().iter().map(|c| c.name).collect();
            assert_eq!(names.len(), id.columns().len(), "{}", id.slug());
            assert!(id.columns().iter().any(|c| c.role == Role::Measure));
            for c in id.columns() {
                assert!(Lang::has(c.meaning), "{}", c.meaning);
                if let Some(u) = c.unit {
                    assert!(Lang::has(u), "{u}");
                }
            }
            assert!(Lang::has(id.title_key()));
            assert!(Lang::has(id.description_key()));
        }
        for code in INDICATORS {
            assert!(Lang::has(indicator_key(code)), "{code}");
            assert!(Lang::has(indicator_unit(code)), "{code}");
        }
    }

    #[test]
    fn months_cover_the_period_up_to_now() {
        let data: BTreeSet<String> = ["2026-02".to_string()].into();
        let today = d("2026-05-15");
        assert_eq!(
            months_of(Period::All, &data, today),
            ["2026-02", "2026-03", "2026-04", "2026-05"]
        );
        assert!(months_of(Period::All, &BTreeSet::new(), today).is_empty());
        let quarter = Period::Range {
            start: d("2026-01-01"),
            end: d("2026-04-01"),
        };
        assert_eq!(
            months_of(quarter, &data, today),
            ["2026-01", "2026-02", "2026-03"]
        );
        assert!(months_of(quarter, &BTreeSet::new(), today).is_empty());
        // A period reaching into the future stops at the current month.
        let year = Period::Range {
            start: d("2026-01-01"),
            end: d("2027-01-01"),
        };
        assert_eq!(months_of(year, &data, today).len(), 5);
        // An open start begins with the data; a very early start is cut to it.
        let open = Period::Range {
            start: NaiveDate::MIN,
            end: d("2026-04-01"),
        };
        assert_eq!(months_of(open, &data, today), ["2026-02", "2026-03"]);
        let ancient = Period::Range {
            start: d("1000-01-01"),
            end: d("2026-04-01"),
        };
        assert_eq!(months_of(ancient, &data, today), ["2026-02", "2026-03"]);
    }

    #[test]
    fn values_are_written_for_csv_and_json() {
        assert_eq!(Datum::Count(Cell::Suppressed).csv(), "<5");
        assert_eq!(
            Datum::Count(Cell::Suppressed).json(),
            serde_json::json!("<5")
        );
        assert_eq!(Datum::Count(Cell::Value(1250)).csv(), "1250");
        assert_eq!(Datum::Number(Some(12.345)).csv(), "12.35");
        assert_eq!(Datum::Number(Some(40.0)).csv(), "40");
        assert_eq!(Datum::Number(None).csv(), "");
        assert_eq!(Datum::Number(None).json(), serde_json::Value::Null);
        assert_eq!(Datum::Number(Some(2.5)).json(), serde_json::json!(2.5));
    }
}
