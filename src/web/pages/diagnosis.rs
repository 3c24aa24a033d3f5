//! The territorial diagnosis: the public page (`/diagnostic`), the team's dashboard
//! (`/admin/diagnostic`, staff and admins: exact counts), the open-data catalogue
//! (`/diagnostic/donnees`: licence, files, data dictionary, data package) and the files
//! (`…/donnees/{jeu}.csv|json`, `…/export.csv|json`).
//!
//! Every figure comes from one [`report::build`] (the suppression rule already applied for
//! the reader); this module only lays it out: a chart (server-rendered SVG, see
//! [`crate::web::charts`]) with its text alternative, the data table next to it, and the
//! links to its files carrying the same filters. The filters live in the query string, so
//! a view is shared by its address.

use crate::{
    context::AppContext,
    db::schema::{communes, epcis},
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        diagnosis::{
            self, Audience, RawFilters,
            export::{self, Licence},
            report::{self, DatasetId, Datum, FieldType, Report, Role},
            suppress::Cell,
        },
        directory::{DirectoryKind, SUGGESTED_DISCIPLINES},
    },
    web::{
        auth::CurrentUser,
        charts::{self, Bar, Chart, Line, Place, Value},
        pages::{PageLang, forms::FormState, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{Path, Query},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

pub fn routes() -> Router {
    Router::new()
        .route("/diagnostic", get(http_get_public))
        .route("/admin/diagnostic", get(http_get_staff))
        .route("/diagnostic/donnees", get(http_get_catalogue))
        .route(
            "/diagnostic/donnees/datapackage.json",
            get(http_get_datapackage),
        )
        .route("/diagnostic/donnees/{file}", get(http_get_public_file))
        .route("/admin/diagnostic/donnees/{file}", get(http_get_staff_file))
        .route("/diagnostic/export.csv", get(http_get_public_csv))
        .route("/diagnostic/export.json", get(http_get_public_json))
        .route("/admin/diagnostic/export.csv", get(http_get_staff_csv))
        .route("/admin/diagnostic/export.json", get(http_get_staff_json))
}

/// 403 unless the member is of the département's team.
fn require_staff(user: &CurrentUser) -> AppResult<()> {
    if user.is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden("staff only").with_message("error.role_required"))
    }
}

/// The licence of the files (`diagnosis.licence_*`).
pub fn licence(ctx: &AppContext) -> Licence<'_> {
    let c = &ctx.config.diagnosis;
    Licence {
        id: &c.licence_id,
        title: &c.licence_title,
        url: &c.licence_url,
    }
}

// ---------------------------------------------------------------------------------------
// Numbers as people read them

/// How numbers are written in `lang` (the charts' formatters: one way for the whole page).
fn number_format(lang: Lang) -> fn(f64) -> String {
    match lang {
        Lang::Fr => charts::format_fr,
        Lang::En => charts::format_en,
    }
}

/// `n` with thousands separated: a narrow no-break space in French, a comma in English.
pub fn format_int(lang: Lang, n: i64) -> String {
    number_format(lang)(n as f64)
}

/// `x` with at most one decimal (a comma in French), thousands separated.
pub fn format_decimal(lang: Lang, x: f64) -> String {
    number_format(lang)((x * 10.0).round() / 10.0)
}

/// A chart's frame in `lang`.
fn frame<'a>(lang: Lang, id: &'a str, title: &'a str, description: &'a str) -> Chart<'a> {
    Chart {
        empty: lang.t("diagnosis.chart.empty"),
        number: number_format(lang),
        ..Chart::new(id, title, description)
    }
}

/// A value of a table as the page shows it.
fn shown(lang: Lang, datum: &Datum, kind: FieldType) -> String {
    match datum {
        Datum::Text(s) if s.is_empty() => lang.t("diagnosis.row.unknown").into(),
        Datum::Text(s) => s.clone(),
        Datum::Count(Cell::Value(n)) => format_int(lang, *n),
        Datum::Count(Cell::Suppressed) => "< 5".into(),
        Datum::Number(None) => "–".into(),
        Datum::Number(Some(x)) if kind == FieldType::Integer => format_int(lang, x.round() as i64),
        Datum::Number(Some(x)) => format_decimal(lang, *x),
    }
}

fn chart_value(datum: &Datum) -> Value {
    match datum.number() {
        Some(x) => Value::Number(x),
        None => Value::Suppressed,
    }
}

// ---------------------------------------------------------------------------------------
// The page

/// A choice of a filter's list.
struct Opt {
    value: String,
    label: String,
    selected: bool,
}

/// The filter form as the visitor filled it.
struct FilterForm {
    periods: Vec<Opt>,
    from: String,
    to: String,
    disciplines: Vec<Opt>,
    kinds: Vec<Opt>,
    epcis: Vec<Opt>,
}

/// A table of the page.
struct TableView {
    headers: Vec<String>,
    /// Per column: right-aligned numbers.
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

/// One section: a dataset with its chart, table and files.
struct Section {
    slug: &'static str,
    title: &'static str,
    description: &'static str,
    chart: Option<String>,
    table: TableView,
    csv: String,
    json: String,
}

/// A key figure of the summary.
struct KeyFigure {
    label: &'static str,
    value: String,
    unit: &'static str,
}

#[derive(Template)]
#[template(path = "diagnosis/page.html")]
struct DiagnosisPage {
    lang: Lang,
    staff: bool,
    action: &'static str,
    form: FilterForm,
    errors: FormState,
    /// The report was built (no filter error).
    shown: bool,
    scope: Option<Scope>,
    key_figures: Vec<KeyFigure>,
    sections: Vec<Section>,
    export_csv: String,
    export_json: String,
    licence_title: String,
    licence_url: String,
}

/// The query string of `raw` (empty values left out), `?` included when not empty.
pub fn query_of(raw: &RawFilters) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("period", &raw.period),
        ("from", &raw.from),
        ("to", &raw.to),
        ("discipline", &raw.discipline),
        ("kind", &raw.kind),
        ("epci", &raw.epci),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// The EPCIs of the configured département, by name.
async fn epci_list(
    conn: &mut AsyncPgConnection,
    departement: &str,
) -> AppResult<Vec<(String, String)>> {
    Ok(epcis::table
        .filter(
            epcis::code.eq_any(
                communes::table
                    .filter(communes::departement.eq(departement))
                    .filter(communes::epci_code.is_not_null())
                    .select(communes::epci_code.assume_not_null()),
            ),
        )
        .select((epcis::code, epcis::name))
        .order(epcis::name.asc())
        .load(conn)
        .await?)
}

fn form(lang: Lang, raw: &RawFilters, epci_rows: &[(String, String)]) -> FilterForm {
    let current = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let (period, discipline, kind, epci) = (
        current(&raw.period),
        current(&raw.discipline),
        current(&raw.kind),
        current(&raw.epci),
    );
    let mut periods = vec![Opt {
        value: String::new(),
        label: lang.t("diagnosis.filter.period_all").into(),
        selected: period.is_empty(),
    }];
    for (value, key) in [
        ("month", "diagnosis.filter.period_month"),
        ("quarter", "diagnosis.filter.period_quarter"),
        ("year", "diagnosis.filter.period_year"),
        ("custom", "diagnosis.filter.period_custom"),
    ] {
        periods.push(Opt {
            value: value.into(),
            label: lang.t(key).into(),
            selected: period == value,
        });
    }
    let any = |key: &str, empty: bool| Opt {
        value: String::new(),
        label: lang.t(key).into(),
        selected: empty,
    };
    let mut disciplines = vec![any(
        "diagnosis.filter.any_discipline",
        discipline.is_empty(),
    )];
    let mut known = false;
    for d in SUGGESTED_DISCIPLINES {
        let selected = d.eq_ignore_ascii_case(&discipline);
        known |= selected;
        disciplines.push(Opt {
            value: (*d).into(),
            label: (*d).into(),
            selected,
        });
    }
    if !known && !discipline.is_empty() {
        disciplines.push(Opt {
            value: discipline.clone(),
            label: discipline.clone(),
            selected: true,
        });
    }
    let mut kinds = vec![any("diagnosis.filter.any_kind", kind.is_empty())];
    kinds.extend(DirectoryKind::ALL.iter().map(|k| Opt {
        value: k.as_str().into(),
        label: lang.t(k.label_key()).into(),
        selected: kind == k.as_str(),
    }));
    let mut epcis = vec![any("diagnosis.filter.any_epci", epci.is_empty())];
    epcis.extend(epci_rows.iter().map(|(code, name)| Opt {
        value: code.clone(),
        label: name.clone(),
        selected: *code == epci,
    }));
    FilterForm {
        periods,
        from: current(&raw.from),
        to: current(&raw.to),
        disciplines,
        kinds,
        epcis,
    }
}

/// A day as the page shows it, with its ISO form for `<time datetime>`.
struct DayView {
    iso: String,
    shown: String,
}

/// What the figures cover: the period's first and last days (none: open), then the other
/// filters in words.
struct Scope {
    from: Option<DayView>,
    to: Option<DayView>,
    rest: String,
}

fn scope_of(lang: Lang, report: &Report, epci_rows: &[(String, String)]) -> Scope {
    let f = &report.filters;
    let day = |d: chrono::NaiveDate| DayView {
        iso: d.format("%Y-%m-%d").to_string(),
        shown: d.format("%d/%m/%Y").to_string(),
    };
    let (from, to) = match f.period {
        diagnosis::Period::All => (None, None),
        diagnosis::Period::Range { start, end } => (
            (start != chrono::NaiveDate::MIN).then(|| day(start)),
            (end != chrono::NaiveDate::MAX)
                .then(|| end.pred_opt().map(day))
                .flatten(),
        ),
    };
    let mut parts = Vec::new();
    if let Some(d) = &f.discipline {
        parts.push(format!("{} {d}", lang.t("diagnosis.scope.discipline")));
    }
    if let Some(k) = f.kind {
        parts.push(format!(
            "{} {}",
            lang.t("diagnosis.scope.kind"),
            lang.t(k.label_key())
        ));
    }
    if let Some(e) = &f.epci {
        let name = epci_rows
            .iter()
            .find(|(c, _)| c == e)
            .map_or(e.as_str(), |(_, n)| n.as_str());
        parts.push(format!("{} {name}", lang.t("diagnosis.scope.epci")));
    }
    Scope {
        from,
        to,
        rest: parts.iter().map(|p| format!(" · {p}")).collect(),
    }
}

/// Column `name`'s header (every column of `report::DatasetId::columns` has one; a test
/// checks it).
fn header_of(lang: Lang, name: &str) -> String {
    header_key(name).map_or_else(|| name.to_string(), |k| lang.t(k).to_string())
}

fn header_key(name: &str) -> Option<&'static str> {
    Some(match name {
        "code" => "diagnosis.head.code",
        "libelle" => "diagnosis.head.libelle",
        "mois" => "diagnosis.head.mois",
        "code_insee" => "diagnosis.head.code_insee",
        "commune" => "diagnosis.head.commune",
        "siren" => "diagnosis.head.siren",
        "epci" => "diagnosis.head.epci",
        "serveur" => "diagnosis.head.serveur",
        "population" => "diagnosis.head.population",
        "membres_pour_10000_habitants" => "diagnosis.head.membres_pour_10000_habitants",
        "membres" => "diagnosis.head.membres",
        "lieux" => "diagnosis.head.lieux",
        "capacite" => "diagnosis.head.capacite",
        "offres" => "diagnosis.head.offres",
        "prets" => "diagnosis.head.prets",
        "partenaires" => "diagnosis.head.partenaires",
        "annonces" => "diagnosis.head.annonces",
        "sujets" => "diagnosis.head.sujets",
        "reponses" => "diagnosis.head.reponses",
        "fiches_listees" => "diagnosis.head.fiches_listees",
        "fiches_revendiquees" => "diagnosis.head.fiches_revendiquees",
        "taux_de_revendication" => "diagnosis.head.taux_de_revendication",
        "abonnes" => "diagnosis.head.abonnes",
        "envois" => "diagnosis.head.envois",
        "indicateur" => "diagnosis.head.indicateur",
        "valeur" => "diagnosis.head.valeur",
        "unite" => "diagnosis.head.unite",
        _ => return None,
    })
}

/// The columns the page shows of a dataset: codes are left out where a label says the same.
fn visible_columns(id: DatasetId) -> Vec<usize> {
    let columns = id.columns();
    let has_label = columns.iter().any(|c| c.role == Role::Label);
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !(has_label && c.role == Role::Code))
        .map(|(i, _)| i)
        .collect()
}

fn table_of(lang: Lang, report: &Report, id: DatasetId) -> TableView {
    let dataset = report.dataset(id);
    let columns = id.columns();
    if id == DatasetId::AnnouncementsByMonth {
        return announcements_table(lang, report);
    }
    let visible = visible_columns(id);
    TableView {
        headers: visible
            .iter()
            .map(|i| header_of(lang, columns[*i].name))
            .collect(),
        numeric: visible
            .iter()
            .map(|i| columns[*i].role == Role::Measure)
            .collect(),
        rows: dataset
            .rows
            .iter()
            .map(|row| {
                visible
                    .iter()
                    .map(|i| shown(lang, &row[*i], columns[*i].kind))
                    .collect()
            })
            .collect(),
    }
}

/// Announcements: a row per month, a column per kind (the file keeps one row per pair).
fn announcements_table(lang: Lang, report: &Report) -> TableView {
    let dataset = report.dataset(DatasetId::AnnouncementsByMonth);
    let mut kinds: Vec<String> = Vec::new();
    let mut by_month: Vec<(String, Vec<String>)> = Vec::new();
    for row in &dataset.rows {
        let (Datum::Text(month), Datum::Text(label)) = (&row[0], &row[2]) else {
            continue;
        };
        if !kinds.contains(label) {
            kinds.push(label.clone());
        }
        let value = shown(lang, &row[3], FieldType::Integer);
        match by_month.last_mut() {
            Some((m, values)) if m == month => values.push(value),
            _ => by_month.push((month.clone(), vec![value])),
        }
    }
    let mut headers = vec![header_of(lang, "mois")];
    headers.extend(kinds.iter().cloned());
    let mut numeric = vec![false];
    numeric.extend(kinds.iter().map(|_| true));
    TableView {
        headers,
        numeric,
        rows: by_month
            .into_iter()
            .map(|(m, values)| std::iter::once(m).chain(values).collect())
            .collect(),
    }
}

/// The label of a row (its label column, else its code or month).
fn row_label(id: DatasetId, row: &[Datum]) -> String {
    let columns = id.columns();
    let pick = |role: Role| {
        columns
            .iter()
            .zip(row)
            .find(|(c, _)| c.role == role)
            .and_then(|(_, d)| match d {
                Datum::Text(s) if !s.is_empty() => Some(s.clone()),
                _ => None,
            })
    };
    pick(Role::Label)
        .or_else(|| pick(Role::Code))
        .or_else(|| pick(Role::Month))
        .unwrap_or_default()
}

/// Most bars a chart draws (the table lists every row).
const MAX_BARS: usize = 20;

/// Horizontal bars of column `measure`, in the dataset's order (largest first).
fn bar_chart(lang: Lang, report: &Report, id: DatasetId, measure: usize) -> String {
    let dataset = report.dataset(id);
    let kind = id.columns()[measure].kind;
    let bars: Vec<Bar> = dataset
        .rows
        .iter()
        .take(MAX_BARS)
        .map(|row| Bar {
            label: row_label(id, row),
            value: chart_value(&row[measure]),
            shown: shown(lang, &row[measure], kind),
        })
        .collect();
    let description = describe_bars(lang, &bars, dataset.rows.len());
    let title = lang.t(id.title_key());
    let chart_id = format!("chart-{}", id.slug());
    charts::bars(&frame(lang, &chart_id, title, &description), &bars)
}

/// The text alternative of a bar chart: what it ranks, its first bars, where the rest is.
fn describe_bars(lang: Lang, bars: &[Bar], rows: usize) -> String {
    if bars.is_empty() {
        return lang.t("diagnosis.chart.empty").into();
    }
    let first: Vec<String> = bars
        .iter()
        .take(3)
        .map(|b| format!("{} : {}", b.label, b.shown))
        .collect();
    let mut s = lang
        .t("diagnosis.chart.bars_desc")
        .replace("{count}", &rows.to_string())
        .replace("{first}", &first.join(" ; "));
    if rows > bars.len() {
        s.push(' ');
        s.push_str(
            &lang
                .t("diagnosis.chart.bars_more")
                .replace("{shown}", &bars.len().to_string()),
        );
    }
    s
}

/// A time series of the month-column datasets: one line per measure in `measures`.
fn series_chart(lang: Lang, report: &Report, id: DatasetId, measures: &[usize]) -> String {
    let dataset = report.dataset(id);
    let columns = id.columns();
    let x: Vec<String> = dataset.rows.iter().map(|r| row_label(id, r)).collect();
    let lines: Vec<Line> = measures
        .iter()
        .map(|m| Line {
            name: header_of(lang, columns[*m].name),
            points: dataset.rows.iter().map(|r| chart_value(&r[*m])).collect(),
        })
        .collect();
    draw_series(lang, id, &x, lines)
}

/// Announcements by month: one line per kind with at least one shown month.
fn announcements_chart(lang: Lang, report: &Report) -> String {
    let dataset = report.dataset(DatasetId::AnnouncementsByMonth);
    let mut x: Vec<String> = Vec::new();
    let mut lines: Vec<Line> = Vec::new();
    for row in &dataset.rows {
        let (Datum::Text(month), Datum::Text(label)) = (&row[0], &row[2]) else {
            continue;
        };
        if x.last() != Some(month) {
            x.push(month.clone());
        }
        match lines.iter_mut().find(|l| &l.name == label) {
            Some(line) => line.points.push(chart_value(&row[3])),
            None => lines.push(Line {
                name: label.clone(),
                points: vec![chart_value(&row[3])],
            }),
        }
    }
    lines.retain(|l| {
        l.points
            .iter()
            .any(|p| matches!(p, Value::Number(n) if *n > 0.0))
    });
    draw_series(lang, DatasetId::AnnouncementsByMonth, &x, lines)
}

fn draw_series(lang: Lang, id: DatasetId, x: &[String], lines: Vec<Line>) -> String {
    let description = describe_series(lang, x, &lines);
    let chart_id = format!("chart-{}", id.slug());
    charts::time_series(
        &frame(lang, &chart_id, lang.t(id.title_key()), &description),
        x,
        &lines,
    )
}

/// The text alternative of a time series: its span, and each line's highest point.
fn describe_series(lang: Lang, x: &[String], lines: &[Line]) -> String {
    let (Some(first), Some(last)) = (x.first(), x.last()) else {
        return lang.t("diagnosis.chart.empty").into();
    };
    if lines.is_empty() {
        return lang.t("diagnosis.chart.empty").into();
    }
    let mut s = lang
        .t("diagnosis.chart.series_desc")
        .replace("{from}", first)
        .replace("{to}", last);
    for line in lines {
        let best = line
            .points
            .iter()
            .zip(x)
            .filter_map(|(p, m)| match p {
                Value::Number(n) => Some((*n, m)),
                Value::Suppressed => None,
            })
            .fold(None::<(f64, &String)>, |acc, (n, m)| match acc {
                Some((b, _)) if b >= n => acc,
                _ => Some((n, m)),
            });
        s.push(' ');
        s.push_str(&match best {
            Some((n, m)) => lang
                .t("diagnosis.chart.series_peak")
                .replace("{line}", &line.name)
                .replace("{value}", &format_decimal(lang, n))
                .replace("{month}", m),
            None => lang
                .t("diagnosis.chart.series_hidden")
                .replace("{line}", &line.name),
        });
    }
    s
}

/// Members by commune on a map of proportional circles at the communes' centres.
async fn commune_map(
    conn: &mut AsyncPgConnection,
    lang: Lang,
    report: &Report,
) -> AppResult<String> {
    let id = DatasetId::MembersByCommune;
    let dataset = report.dataset(id);
    let codes: Vec<String> = dataset
        .rows
        .iter()
        .filter_map(|r| match &r[0] {
            Datum::Text(code) => Some(code.clone()),
            _ => None,
        })
        .collect();
    let centres: HashMap<String, (f64, f64)> = communes::table
        .filter(communes::code.eq_any(&codes))
        .filter(communes::latitude.is_not_null())
        .filter(communes::longitude.is_not_null())
        .select((
            communes::code,
            communes::latitude.assume_not_null(),
            communes::longitude.assume_not_null(),
        ))
        .load::<(String, f64, f64)>(conn)
        .await?
        .into_iter()
        .map(|(c, lat, lon)| (c, (lat, lon)))
        .collect();
    let places: Vec<Place> = dataset
        .rows
        .iter()
        .filter_map(|row| {
            let Datum::Text(code) = &row[0] else {
                return None;
            };
            let (latitude, longitude) = *centres.get(code)?;
            Some(Place {
                label: row_label(id, row),
                latitude,
                longitude,
                value: chart_value(&row[2]),
                shown: shown(lang, &row[2], FieldType::Integer),
            })
        })
        .collect();
    let description = if places.is_empty() {
        lang.t("diagnosis.chart.empty").to_string()
    } else {
        lang.t("diagnosis.chart.map_desc")
            .replace("{count}", &places.len().to_string())
    };
    Ok(charts::symbol_map(
        &frame(
            lang,
            "chart-carte-communes",
            lang.t("diagnosis.chart.map_title"),
            &description,
        ),
        &places,
    ))
}

/// The sections of the page, in order (the summary is shown as key figures).
async fn sections(
    conn: &mut AsyncPgConnection,
    lang: Lang,
    report: &Report,
    query: &str,
) -> AppResult<Vec<Section>> {
    let mut out = Vec::new();
    for id in DatasetId::ALL {
        let chart = match id {
            DatasetId::Summary => continue,
            DatasetId::MembersByCommune => Some(commune_map(conn, lang, report).await?),
            DatasetId::MembersByEpci
            | DatasetId::MembersByKind
            | DatasetId::MembersByDiscipline => Some(bar_chart(lang, report, id, 2)),
            DatasetId::VenuesByEpci
            | DatasetId::OffersByCategory
            | DatasetId::LoansByCategory
            | DatasetId::PartnersByKind
            | DatasetId::AnnouncementsByKind => Some(bar_chart(lang, report, id, 2)),
            DatasetId::FollowersByServer | DatasetId::DeliveriesByServer => {
                Some(bar_chart(lang, report, id, 1))
            }
            DatasetId::AnnouncementsByMonth => Some(announcements_chart(lang, report)),
            DatasetId::ForumByMonth => Some(series_chart(lang, report, id, &[1, 2])),
            DatasetId::ClaimsByMonth => Some(series_chart(lang, report, id, &[3])),
        };
        out.push(Section {
            slug: id.slug(),
            title: lang.t(id.title_key()),
            description: lang.t(id.description_key()),
            chart,
            table: table_of(lang, report, id),
            csv: format!(
                "{}{query}",
                export::dataset_path(report.audience, id, "csv")
            ),
            json: format!(
                "{}{query}",
                export::dataset_path(report.audience, id, "json")
            ),
        });
    }
    Ok(out)
}

fn key_figures(lang: Lang, report: &Report) -> Vec<KeyFigure> {
    report
        .dataset(DatasetId::Summary)
        .rows
        .iter()
        .filter_map(|row| {
            let Datum::Text(code) = &row[0] else {
                return None;
            };
            let ind = report::INDICATORS.iter().find(|c| **c == code)?;
            Some(KeyFigure {
                label: lang.t(report::indicator_key(ind)),
                value: shown(lang, &row[2], FieldType::Number),
                unit: lang.t(report::indicator_unit(ind)),
            })
        })
        .collect()
}

async fn page(data: &Data, lang: Lang, audience: Audience, raw: RawFilters) -> AppResult<Response> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let epci_rows = epci_list(&mut conn, &ctx.config.instance.departement).await?;
    let staff = audience == Audience::Staff;
    let form = form(lang, &raw, &epci_rows);
    let query = query_of(&raw);
    let l = licence(ctx);
    let mut page = DiagnosisPage {
        lang,
        staff,
        action: if staff {
            "/admin/diagnostic"
        } else {
            "/diagnostic"
        },
        form,
        errors: FormState::new(lang),
        shown: false,
        scope: None,
        key_figures: Vec::new(),
        sections: Vec::new(),
        export_csv: format!("{}{query}", export::export_path(audience, "csv")),
        export_json: format!("{}{query}", export::export_path(audience, "json")),
        licence_title: l.title.to_string(),
        licence_url: l.url.to_string(),
    };
    let filters = match diagnosis::parse_filters(&mut conn, &raw).await {
        Ok(f) => f,
        Err(e) if e.kind == ErrorKind::BadRequest => {
            page.errors = FormState::from_error(lang, &e);
            return render_status(StatusCode::BAD_REQUEST, &page);
        }
        Err(e) => return Err(e),
    };
    // The report takes connections of its own: give this one back meanwhile.
    drop(conn);
    let report = report::build(ctx, &filters, audience, lang).await?;
    page.shown = true;
    page.scope = Some(scope_of(lang, &report, &epci_rows));
    page.key_figures = key_figures(lang, &report);
    let mut conn = ctx.conn().await?;
    page.sections = sections(&mut conn, lang, &report, &query).await?;
    let mut response = render_status(StatusCode::OK, &page)?;
    if staff {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    Ok(response)
}

async fn http_get_public(
    data: Data,
    PageLang(lang): PageLang,
    Query(raw): Query<RawFilters>,
) -> AppResult<Response> {
    page(&data, lang, Audience::Public, raw).await
}

async fn http_get_staff(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Query(raw): Query<RawFilters>,
) -> AppResult<Response> {
    require_staff(&user)?;
    page(&data, lang, Audience::Staff, raw).await
}

// ---------------------------------------------------------------------------------------
// The catalogue of the open data

/// One field of the dictionary as the catalogue shows it.
struct FieldView {
    name: &'static str,
    kind: &'static str,
    meaning: &'static str,
    unit: &'static str,
}

struct DatasetView {
    slug: &'static str,
    title: &'static str,
    description: &'static str,
    csv: String,
    json: String,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "diagnosis/catalogue.html")]
struct CataloguePage {
    lang: Lang,
    datasets: Vec<DatasetView>,
    base_url: String,
    licence_title: String,
    licence_url: String,
}

async fn http_get_catalogue(data: Data, PageLang(lang): PageLang) -> AppResult<Response> {
    let ctx = data.app_data();
    let l = licence(ctx);
    let datasets = DatasetId::ALL
        .iter()
        .map(|id| DatasetView {
            slug: id.slug(),
            title: lang.t(id.title_key()),
            description: lang.t(id.description_key()),
            csv: export::dataset_path(Audience::Public, *id, "csv"),
            json: export::dataset_path(Audience::Public, *id, "json"),
            fields: id
                .columns()
                .iter()
                .map(|c| FieldView {
                    name: c.name,
                    kind: lang.t(type_key(c.kind)),
                    meaning: lang.t(c.meaning),
                    unit: c.unit.map_or("", |u| lang.t(u)),
                })
                .collect(),
        })
        .collect();
    render_status(
        StatusCode::OK,
        &CataloguePage {
            lang,
            datasets,
            base_url: ctx.urls.base().to_string(),
            licence_title: l.title.to_string(),
            licence_url: l.url.to_string(),
        },
    )
}

fn type_key(kind: FieldType) -> &'static str {
    match kind {
        FieldType::String => "diagnosis.type.string",
        FieldType::Integer => "diagnosis.type.integer",
        FieldType::Number => "diagnosis.type.number",
        FieldType::YearMonth => "diagnosis.type.yearmonth",
    }
}

// ---------------------------------------------------------------------------------------
// Files

/// A file's response: its type, the licence as a `Link`, public caching or none for staff.
fn file_response(
    ctx: &AppContext,
    audience: Audience,
    content_type: &'static str,
    filename: &str,
    body: Vec<u8>,
) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "<{}>; rel=\"license\"",
        ctx.config.diagnosis.licence_url
    )) {
        headers.insert(header::LINK, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match audience {
            Audience::Public => "public, max-age=300",
            Audience::Staff => "private, no-store",
        }),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static(match audience {
            Audience::Public => "*",
            Audience::Staff => "null",
        }),
    );
    response
}

const CSV: &str = "text/csv; charset=utf-8";
const JSON: &str = "application/json";

/// The report for a file: the filters read (400 naming the field), the figures built in
/// French (the language of the files).
async fn file_report(ctx: &AppContext, audience: Audience, raw: &RawFilters) -> AppResult<Report> {
    let filters = diagnosis::parse_filters(&mut *ctx.conn().await?, raw).await?;
    report::build(ctx, &filters, audience, Lang::Fr).await
}

async fn dataset_file(
    data: &Data,
    audience: Audience,
    file: &str,
    raw: RawFilters,
) -> AppResult<Response> {
    let (slug, format) = file.rsplit_once('.').ok_or_else(AppError::not_found)?;
    let id = DatasetId::parse(slug).ok_or_else(AppError::not_found)?;
    if !matches!(format, "csv" | "json") {
        return Err(AppError::not_found());
    }
    let ctx = data.app_data();
    let report = file_report(ctx, audience, &raw).await?;
    Ok(if format == "csv" {
        file_response(
            ctx,
            audience,
            CSV,
            file,
            export::dataset_csv(report.dataset(id)),
        )
    } else {
        let body = export::dataset_json(&report, id, licence(ctx), ctx.urls.base());
        file_response(ctx, audience, JSON, file, body.to_string().into_bytes())
    })
}

async fn http_get_public_file(
    data: Data,
    Path(file): Path<String>,
    Query(raw): Query<RawFilters>,
) -> AppResult<Response> {
    dataset_file(&data, Audience::Public, &file, raw).await
}

async fn http_get_staff_file(
    data: Data,
    user: CurrentUser,
    Path(file): Path<String>,
    Query(raw): Query<RawFilters>,
) -> AppResult<Response> {
    require_staff(&user)?;
    dataset_file(&data, Audience::Staff, &file, raw).await
}

async fn whole_csv(data: &Data, audience: Audience, raw: RawFilters) -> AppResult<Response> {
    let ctx = data.app_data();
    let report = file_report(ctx, audience, &raw).await?;
    Ok(file_response(
        ctx,
        audience,
        CSV,
        "diagnostic.csv",
        export::report_csv(&report),
    ))
}

async fn whole_json(data: &Data, audience: Audience, raw: RawFilters) -> AppResult<Response> {
    let ctx = data.app_data();
    let report = file_report(ctx, audience, &raw).await?;
    let body = export::report_json(&report, licence(ctx), ctx.urls.base());
    Ok(file_response(
        ctx,
        audience,
        JSON,
        "diagnostic.json",
        body.to_string().into_bytes(),
    ))
}

async fn http_get_public_csv(data: Data, Query(raw): Query<RawFilters>) -> AppResult<Response> {
    whole_csv(&data, Audience::Public, raw).await
}

async fn http_get_public_json(data: Data, Query(raw): Query<RawFilters>) -> AppResult<Response> {
    whole_json(&data, Audience::Public, raw).await
}

async fn http_get_staff_csv(
    data: Data,
    user: CurrentUser,
    Query(raw): Query<RawFilters>,
) -> AppResult<Response> {
    require_staff(&user)?;
    whole_csv(&data, Audience::Staff, raw).await
}

async fn http_get_staff_json(
    data: Data,
    user: CurrentUser,
    Query(raw): Query<RawFilters>,
) -> AppResult<Response> {
    require_staff(&user)?;
    whole_json(&data, Audience::Staff, raw).await
}

async fn http_get_datapackage(data: Data) -> AppResult<Response> {
    let ctx = data.app_data();
    let body = export::datapackage(licence(ctx), ctx.urls.base());
    Ok(file_response(
        ctx,
        Audience::Public,
        JSON,
        "datapackage.json",
        body.to_string().into_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_for_each_language() {
        assert_eq!(format_int(Lang::Fr, 1_250), "1\u{202f}250");
        assert_eq!(format_int(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(format_int(Lang::Fr, 999), "999");
        assert_eq!(format_int(Lang::Fr, -1000), "-1\u{202f}000");
        assert_eq!(format_decimal(Lang::Fr, 12.34), "12,3");
        assert_eq!(format_decimal(Lang::En, 12.0), "12");
        assert_eq!(format_decimal(Lang::En, 1234.56), "1,234.6");
    }

    #[test]
    fn every_column_has_a_header() {
        for id in DatasetId::ALL {
            for c in id.columns() {
                assert!(header_key(c.name).is_some(), "{}", c.name);
            }
        }
    }

    #[test]
    fn the_query_keeps_only_given_filters() {
        let raw = RawFilters {
            period: Some("year".into()),
            from: Some("2026".into()),
            discipline: Some("arts visuels".into()),
            kind: Some(" ".into()),
            ..RawFilters::default()
        };
        assert_eq!(
            query_of(&raw),
            "?period=year&from=2026&discipline=arts+visuels"
        );
        assert_eq!(query_of(&RawFilters::default()), "");
    }
}
