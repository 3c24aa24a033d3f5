//! The open-data files of the diagnosis, written from a [`Report`]: one CSV and one JSON per
//! dataset, the whole report as one CSV (long format) and one JSON, and the data package
//! describing them (Frictionless Data Package with a Table Schema per resource: the shape
//! data.gouv.fr reads, with the licence, the data dictionary and the stable URL of each file).
//!
//! CSV: UTF-8 without BOM, comma-separated, a header line always (a period without data gives
//! a valid file with its header only), `<5` for a suppressed count, empty for an unknown
//! number, decimals with a point. JSON: the same values, `"<5"` and `null`; each dataset is a
//! Data Resource with its data inline.

use super::{
    Audience, Filters, Period,
    report::{Dataset, DatasetId, Datum, FieldType, Report, Role},
    suppress::SUPPRESSED_JSON,
};
use crate::i18n::Lang;
use chrono::NaiveDate;
use serde_json::{Map, Value, json};

/// The licence every file carries (`diagnosis.licence_*`).
#[derive(Debug, Clone, Copy)]
pub struct Licence<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub url: &'a str,
}

impl Licence<'_> {
    fn json(&self) -> Value {
        json!([{ "name": self.id, "title": self.title, "path": self.url }])
    }
}

/// Where the files of one audience live: `/diagnostic/donnees` for the public,
/// `/admin/diagnostic/donnees` for staff.
pub fn files_prefix(audience: Audience) -> &'static str {
    match audience {
        Audience::Public => "/diagnostic/donnees",
        Audience::Staff => "/admin/diagnostic/donnees",
    }
}

/// The path of the whole report's export in `format` (`csv` or `json`).
pub fn export_path(audience: Audience, format: &str) -> String {
    match audience {
        Audience::Public => format!("/diagnostic/export.{format}"),
        Audience::Staff => format!("/admin/diagnostic/export.{format}"),
    }
}

/// The path of a dataset's file in `format` (`csv` or `json`).
pub fn dataset_path(audience: Audience, id: DatasetId, format: &str) -> String {
    format!("{}/{}.{format}", files_prefix(audience), id.slug())
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Vec<u8> {
    // Writing to a Vec cannot fail.
    writer.into_inner().unwrap_or_default()
}

/// One dataset as CSV.
pub fn dataset_csv(dataset: &Dataset) -> Vec<u8> {
    let mut w = csv_writer();
    let _ = w.write_record(dataset.columns().iter().map(|c| c.name));
    for row in &dataset.rows {
        let _ = w.write_record(row.iter().map(Datum::csv));
    }
    finish(w)
}

/// Header of the long format.
pub const LONG_HEADER: [&str; 6] = ["jeu", "mois", "code", "libelle", "mesure", "valeur"];

/// The whole report as one CSV, one line per measured value: `jeu` (the dataset), `mois`,
/// `code`, `libelle` (the row, empty where the dataset has none), `mesure` (the column
/// measured) and `valeur`.
pub fn report_csv(report: &Report) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(LONG_HEADER);
    for dataset in &report.datasets {
        let columns = dataset.columns();
        for row in &dataset.rows {
            let key = |role: Role| {
                columns
                    .iter()
                    .zip(row)
                    .find(|(c, _)| c.role == role)
                    .map(|(_, d)| d.csv())
                    .unwrap_or_default()
            };
            let (month, code, label) = (key(Role::Month), key(Role::Code), key(Role::Label));
            for (column, datum) in columns.iter().zip(row) {
                if column.role == Role::Measure {
                    let _ = w.write_record([
                        dataset.id.slug(),
                        &month,
                        &code,
                        &label,
                        column.name,
                        &datum.csv(),
                    ]);
                }
            }
        }
    }
    finish(w)
}

fn day(d: NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

/// The filters as JSON: the period's first and last days (null when open), then the others.
pub fn filters_json(filters: &Filters) -> Value {
    let (start, last) = match filters.period {
        Period::All => (Value::Null, Value::Null),
        Period::Range { start, end } => (
            if start == NaiveDate::MIN {
                Value::Null
            } else {
                day(start)
            },
            if end == NaiveDate::MAX {
                Value::Null
            } else {
                end.pred_opt().map_or(Value::Null, day)
            },
        ),
    };
    json!({
        "from": start,
        "to": last,
        "discipline": filters.discipline,
        "kind": filters.kind.map(|k| k.as_str()),
        "epci": filters.epci,
    })
}

/// A dataset's Table Schema: its data dictionary, in French (the dataset's language).
pub fn table_schema(id: DatasetId) -> Value {
    let lang = Lang::Fr;
    let fields: Vec<Value> = id
        .columns()
        .iter()
        .map(|c| {
            let mut f = Map::new();
            f.insert("name".into(), c.name.into());
            f.insert("type".into(), c.kind.as_str().into());
            f.insert("description".into(), lang.t(c.meaning).into());
            if let Some(unit) = c.unit {
                f.insert("unit".into(), lang.t(unit).into());
            }
            Value::Object(f)
        })
        .collect();
    let suppressed = id
        .columns()
        .iter()
        .any(|c| matches!(c.kind, FieldType::Integer | FieldType::Number));
    let mut schema = json!({ "fields": fields });
    if suppressed {
        // A count below 5 withheld from the public reads as a missing value.
        schema["missingValues"] = json!(["", SUPPRESSED_JSON]);
    }
    schema
}

fn rows_json(dataset: &Dataset) -> Vec<Value> {
    let columns = dataset.columns();
    dataset
        .rows
        .iter()
        .map(|row| {
            Value::Object(
                columns
                    .iter()
                    .zip(row)
                    .map(|(c, d)| (c.name.to_string(), d.json()))
                    .collect(),
            )
        })
        .collect()
}

/// A dataset's resource description (without its data): name, title, description, path,
/// format, schema.
fn resource(base_url: &str, audience: Audience, id: DatasetId, format: &str) -> Map<String, Value> {
    let lang = Lang::Fr;
    let mut r = Map::new();
    r.insert("name".into(), id.slug().into());
    r.insert("title".into(), lang.t(id.title_key()).into());
    r.insert("description".into(), lang.t(id.description_key()).into());
    r.insert(
        "path".into(),
        format!("{base_url}{}", dataset_path(audience, id, format)).into(),
    );
    r.insert("format".into(), format.into());
    r.insert("encoding".into(), "utf-8".into());
    r.insert(
        "mediatype".into(),
        if format == "csv" {
            "text/csv"
        } else {
            "application/json"
        }
        .into(),
    );
    r.insert("schema".into(), table_schema(id));
    r
}

fn common(report: &Report, licence: Licence<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("licenses".into(), licence.json());
    m.insert("created".into(), report.generated_at.to_rfc3339().into());
    m.insert("filters".into(), filters_json(&report.filters));
    m.insert(
        "audience".into(),
        match report.audience {
            Audience::Public => "public",
            Audience::Staff => "staff",
        }
        .into(),
    );
    m
}

/// One dataset as JSON: a Data Resource with its rows inline (`data`).
pub fn dataset_json(report: &Report, id: DatasetId, licence: Licence<'_>, base_url: &str) -> Value {
    let mut r = resource(base_url, report.audience, id, "json");
    r.remove("path");
    r.insert("profile".into(), "tabular-data-resource".into());
    r.extend(common(report, licence));
    r.insert("data".into(), Value::Array(rows_json(report.dataset(id))));
    Value::Object(r)
}

/// The whole report as JSON: a Data Package with every dataset inline.
pub fn report_json(report: &Report, licence: Licence<'_>, base_url: &str) -> Value {
    let mut p = package_head(base_url, licence);
    p.extend(common(report, licence));
    let resources: Vec<Value> = report
        .datasets
        .iter()
        .map(|d| {
            let mut r = resource(base_url, report.audience, d.id, "json");
            r.remove("path");
            r.insert("profile".into(), "tabular-data-resource".into());
            r.insert("data".into(), Value::Array(rows_json(d)));
            Value::Object(r)
        })
        .collect();
    p.insert("resources".into(), Value::Array(resources));
    Value::Object(p)
}

fn package_head(base_url: &str, licence: Licence<'_>) -> Map<String, Value> {
    let lang = Lang::Fr;
    let mut p = Map::new();
    p.insert("profile".into(), "tabular-data-package".into());
    p.insert("name".into(), "diagnostic-culturel-territorial".into());
    p.insert("title".into(), lang.t("diagnosis.package.title").into());
    p.insert(
        "description".into(),
        lang.t("diagnosis.package.description").into(),
    );
    p.insert(
        "homepage".into(),
        format!("{base_url}{}", files_prefix(Audience::Public)).into(),
    );
    p.insert("licenses".into(), licence.json());
    p
}

/// The data package of the public files: every dataset's CSV at its stable URL, with its
/// schema (no data: the files are read at their paths, with the filters of their query).
pub fn datapackage(licence: Licence<'_>, base_url: &str) -> Value {
    let mut p = package_head(base_url, licence);
    let resources: Vec<Value> = DatasetId::ALL
        .iter()
        .map(|id| {
            let mut r = resource(base_url, Audience::Public, *id, "csv");
            r.insert("profile".into(), "tabular-data-resource".into());
            Value::Object(r)
        })
        .collect();
    p.insert("resources".into(), Value::Array(resources));
    Value::Object(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::diagnosis::suppress::Cell;

    fn report(rows: Vec<Vec<Datum>>) -> Report {
        Report {
            audience: Audience::Public,
            filters: Filters::default(),
            generated_at: chrono::Utc::now(),
            datasets: DatasetId::ALL
                .iter()
                .map(|id| Dataset {
                    id: *id,
                    rows: if *id == DatasetId::MembersByEpci {
                        rows.clone()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        }
    }

    const LICENCE: Licence<'static> = Licence {
        id: "etalab-2.0",
        title: "Licence Ouverte",
        url: "https://example.org/lo",
    };

    #[test]
    fn an_empty_dataset_is_a_valid_file_with_its_header() {
        let r = report(Vec::new());
        let csv = dataset_csv(r.dataset(DatasetId::MembersByEpci));
        assert_eq!(
            String::from_utf8(csv).expect("utf-8"),
            "siren,epci,membres,population,membres_pour_10000_habitants\r\n"
        );
        let long = String::from_utf8(report_csv(&r)).expect("utf-8");
        assert_eq!(long, "jeu,mois,code,libelle,mesure,valeur\r\n");
        let json = dataset_json(&r, DatasetId::MembersByEpci, LICENCE, "https://x.example");
        assert_eq!(json["data"], json!([]));
        assert_eq!(json["licenses"][0]["name"], "etalab-2.0");
        assert_eq!(json["schema"]["fields"][2]["name"], "membres");
    }

    #[test]
    fn values_are_written_with_suppression_and_quoting() {
        let r = report(vec![vec![
            Datum::Text("200000001".into()),
            Datum::Text("CA d'Épinal, \"centre\"".into()),
            Datum::Count(Cell::Suppressed),
            Datum::Number(Some(12000.0)),
            Datum::Number(None),
        ]]);
        let csv =
            String::from_utf8(dataset_csv(r.dataset(DatasetId::MembersByEpci))).expect("utf-8");
        assert!(
            csv.ends_with("200000001,\"CA d'Épinal, \"\"centre\"\"\",<5,12000,\r\n"),
            "{csv}"
        );
        let json = dataset_json(&r, DatasetId::MembersByEpci, LICENCE, "https://x.example");
        assert_eq!(json["data"][0]["membres"], "<5");
        assert_eq!(json["data"][0]["membres_pour_10000_habitants"], Value::Null);
        let long = String::from_utf8(report_csv(&r)).expect("utf-8");
        assert!(long.contains("membres-par-epci,,200000001,"), "{long}");
        assert!(long.contains(",membres,<5\r\n"), "{long}");
        assert!(long.contains(",population,12000\r\n"), "{long}");
    }

    #[test]
    fn the_data_package_lists_every_dataset_at_its_stable_url() {
        let p = datapackage(LICENCE, "https://x.example");
        let resources = p["resources"].as_array().expect("resources");
        assert_eq!(resources.len(), DatasetId::ALL.len());
        assert_eq!(
            resources[1]["path"],
            "https://x.example/diagnostic/donnees/membres-par-type.csv"
        );
        assert_eq!(resources[1]["schema"]["missingValues"], json!(["", "<5"]));
        assert_eq!(p["licenses"][0]["path"], "https://example.org/lo");
    }
}
