//! The département's bulk import of the actors it already knows (`culturecnous directory
//! import FILE.csv`, `/admin/annuaire`, `POST /api/v1/admin/directory/import`): a CSV file
//! becomes unclaimed `directory_entries` that their actors can later claim.
//!
//! The file is streamed: it is read once to learn its encoding (UTF-8, else Windows-1252,
//! which spreadsheets still write), then row by row; valid rows are written in batches of
//! [`BATCH_SIZE`], one transaction and three statements per batch, so a 50 000-row file
//! neither sits in memory nor in one huge transaction. A row that breaks a rule is skipped
//! and reported with its line; only an unreadable file or missing required columns stop the
//! import, before anything is written.

use crate::{
    context::AppContext,
    error::{AppError, AppResult, ErrorKind},
    service::{
        accounts::email_looks_valid,
        communes::{self, Resolved},
        directory::DirectoryKind,
    },
};
use diesel::{
    QueryableByName,
    sql_types::{Array, BigInt, Bool, Float8, Nullable, Text},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use encoding_rs::{Decoder, Encoding, UTF_8, WINDOWS_1252};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::LazyLock;

/// Rows written per transaction.
pub const BATCH_SIZE: usize = 1000;

/// The documented columns, in the order of the example file.
pub const COLUMNS: &[&str] = &[
    "name",
    "kind",
    "disciplines",
    "email",
    "phone",
    "address",
    "postal_code",
    "commune",
    "website",
    "latitude",
    "longitude",
    "is_venue",
];

/// What the import did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ImportReport {
    /// `utf-8` or `windows-1252` (a file that was not UTF-8 is read as Windows-1252, the
    /// superset of Latin-1 that spreadsheets write).
    pub encoding: String,
    /// The separator found on the header line.
    pub separator: String,
    /// Data rows read (the header excluded).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    /// Every skipped row, with its line in the file and why.
    pub skipped_lines: Vec<SkippedLine>,
    /// Header names that are not columns of the import: ignored.
    pub ignored_columns: Vec<String>,
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: String,
}

/// Why a file could not be imported at all (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("le fichier ne peut pas être lu : {0}")]
    Unreadable(String),
    #[error(
        "colonnes obligatoires absentes de la ligne d'en-tête : {}",
        .0.join(", ")
    )]
    MissingColumns(Vec<String>),
    #[error("{}", .0.detail)]
    Database(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Database(e)
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Database(e.into())
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Database(e) => e,
            ImportError::Unreadable(_) => {
                let mut err = AppError::new(ErrorKind::BadRequest, e.to_string());
                err.fields = vec![crate::error::FieldError {
                    field: "file".into(),
                    message_key: "field.import.unreadable",
                }];
                err
            }
            ImportError::MissingColumns(_) => {
                let mut err = AppError::new(ErrorKind::BadRequest, e.to_string());
                err.fields = vec![crate::error::FieldError {
                    field: "file".into(),
                    message_key: "field.import.missing_columns",
                }];
                err
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Validate and match every row, write nothing.
    pub dry_run: bool,
}

/// Imports a CSV file: see the module documentation. `progress` is called after each batch
/// with the number of data rows read so far.
pub async fn import<R: Read + Seek + Send>(
    ctx: &AppContext,
    mut input: R,
    options: ImportOptions,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ImportReport, ImportError> {
    let unreadable = |e: std::io::Error| ImportError::Unreadable(e.to_string());
    let encoding = sniff_encoding(&mut input).map_err(unreadable)?;
    input.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let mut decoded = BufReader::with_capacity(64 * 1024, DecodingReader::new(input, encoding));
    let separator = sniff_separator(decoded.fill_buf().map_err(unreadable)?);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .has_headers(false)
        .from_reader(decoded);
    let mut record = csv::StringRecord::new();
    let has_header = reader.read_record(&mut record).map_err(csv_unreadable)?;
    if !has_header {
        return Err(ImportError::Unreadable("le fichier est vide".into()));
    }
    let header = Header::parse(&record)?;
    let mut report = ImportReport {
        encoding: encoding.name().to_ascii_lowercase(),
        separator: (separator as char).to_string(),
        ignored_columns: header.ignored.clone(),
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let departement = ctx.config.instance.departement.clone();
    let mut seen = SeenKeys::default();
    let mut batch: Vec<Row> = Vec::with_capacity(BATCH_SIZE);
    let mut conn = ctx.conn().await?;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if e.is_io_error() => return Err(csv_unreadable(e)),
            Err(e) => {
                report.rows += 1;
                report.skip(line, format!("ligne illisible : {e}"));
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        match header.row(&record, line, &departement) {
            Ok(row) => match seen.duplicate_of(&row) {
                Some(first) => report.skip(line, format!("doublon de la ligne {first}")),
                None => batch.push(row),
            },
            Err(reason) => report.skip(line, reason),
        }
        if batch.len() >= BATCH_SIZE {
            write_batch(&mut conn, std::mem::take(&mut batch), options, &mut report).await?;
            progress(report.rows);
        }
    }
    if !batch.is_empty() {
        write_batch(&mut conn, batch, options, &mut report).await?;
    }
    progress(report.rows);
    report.skipped_lines.sort_by_key(|s| s.line);
    Ok(report)
}

impl ImportReport {
    fn skip(&mut self, line: u64, reason: String) {
        self.skipped += 1;
        self.skipped_lines.push(SkippedLine { line, reason });
    }
}

fn csv_unreadable(e: csv::Error) -> ImportError {
    ImportError::Unreadable(e.to_string())
}

/// UTF-8 when every byte decodes as such (a BOM is allowed), else Windows-1252.
fn sniff_encoding<R: Read>(input: &mut R) -> std::io::Result<&'static Encoding> {
    let mut decoder = UTF_8.new_decoder_with_bom_removal();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = vec![0u8; 64 * 1024 + 16];
    loop {
        let n = input.read(&mut buf)?;
        let last = n == 0;
        let mut src = &buf[..n];
        loop {
            let (result, read, _) = decoder.decode_to_utf8_without_replacement(src, &mut out, last);
            match result {
                encoding_rs::DecoderResult::Malformed(_, _) => return Ok(WINDOWS_1252),
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => src = &src[read..],
            }
        }
        if last {
            return Ok(UTF_8);
        }
    }
}

/// The most frequent of `;`, `,` and tab on the first line (French spreadsheets write `;`).
fn sniff_separator(start: &[u8]) -> u8 {
    let first_line = start.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let count = |sep: u8| first_line.iter().filter(|&&b| b == sep).count();
    [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|&s| (count(s), s == b';'))
        .unwrap_or(b',')
}

/// A reader giving the UTF-8 text of bytes in `encoding`, chunk by chunk.
struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    input_start: usize,
    input_end: usize,
    output: Vec<u8>,
    output_start: usize,
    output_end: usize,
    eof: bool,
}

impl<R: Read> DecodingReader<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        DecodingReader {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 32 * 1024],
            input_start: 0,
            input_end: 0,
            output: vec![0; 3 * 32 * 1024 + 16],
            output_start: 0,
            output_end: 0,
            eof: false,
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.output_start < self.output_end {
                let n = buf.len().min(self.output_end - self.output_start);
                buf[..n].copy_from_slice(&self.output[self.output_start..self.output_start + n]);
                self.output_start += n;
                return Ok(n);
            }
            if self.eof && self.input_start == self.input_end {
                return Ok(0);
            }
            if self.input_start == self.input_end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.input_start = 0;
                self.input_end = n;
                self.eof = n == 0;
            }
            let (_, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.input_start..self.input_end],
                &mut self.output,
                self.eof,
            );
            self.input_start += read;
            self.output_start = 0;
            self.output_end = written;
            if self.eof && written == 0 && self.input_start == self.input_end {
                return Ok(0);
            }
        }
    }
}

/// Where each known column is in the file.
struct Header {
    index: HashMap<&'static str, usize>,
    ignored: Vec<String>,
}

/// Header names people write for the documented columns (compared normalised: case, accents
/// and punctuation forgiven).
fn column_for(name: &str) -> Option<&'static str> {
    let n = communes::normalize(name).replace(' ', "_");
    Some(match n.as_str() {
        "name" | "nom" | "raison_sociale" | "structure" => "name",
        "kind" | "type" | "categorie" => "kind",
        "disciplines" | "discipline" => "disciplines",
        "email" | "e_mail" | "mail" | "courriel" | "adresse_e_mail" => "email",
        "phone" | "telephone" | "tel" => "phone",
        "address" | "adresse" => "address",
        "postal_code" | "code_postal" | "cp" | "postcode" => "postal_code",
        "commune" | "ville" | "city" => "commune",
        "website" | "site" | "site_web" | "site_internet" | "url" => "website",
        "latitude" | "lat" => "latitude",
        "longitude" | "lon" | "lng" => "longitude",
        "is_venue" | "lieu" | "est_un_lieu" | "venue" => "is_venue",
        _ => return None,
    })
}

impl Header {
    fn parse(record: &csv::StringRecord) -> Result<Header, ImportError> {
        let mut index = HashMap::new();
        let mut ignored = Vec::new();
        for (i, name) in record.iter().enumerate() {
            match column_for(name) {
                Some(column) if !index.contains_key(column) => {
                    index.insert(column, i);
                }
                _ if name.trim().is_empty() => {}
                _ => ignored.push(name.trim().to_string()),
            }
        }
        let mut missing = Vec::new();
        if !index.contains_key("name") {
            missing.push("name".to_string());
        }
        if !index.contains_key("commune") && !index.contains_key("postal_code") {
            missing.push("commune (ou postal_code)".to_string());
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns(missing));
        }
        Ok(Header { index, ignored })
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> &'r str {
        self.index
            .get(column)
            .and_then(|&i| record.get(i))
            .unwrap_or("")
            .trim()
    }

    /// The row, checked; or why it is skipped.
    fn row(&self, record: &csv::StringRecord, line: u64, departement: &str) -> Result<Row, String> {
        let get = |c: &str| self.get(record, c);
        let name = collapse_spaces(get("name"));
        if name.is_empty() {
            return Err("nom vide".into());
        }
        if name.chars().count() > 200 {
            return Err("nom trop long (200 caractères au plus)".into());
        }
        let is_venue = match parse_bool(get("is_venue")) {
            Some(b) => b,
            None => {
                return Err(format!(
                    "is_venue « {} » : oui, non, true, false, 1, 0 ou x",
                    get("is_venue")
                ));
            }
        };
        let kind = match get("kind") {
            "" if is_venue => DirectoryKind::Lieu,
            "" => DirectoryKind::Autre,
            k => DirectoryKind::parse(k).ok_or_else(|| format!("type inconnu « {k} »"))?,
        };
        let disciplines = split_disciplines(get("disciplines"));
        if disciplines.len() > 20 || disciplines.iter().any(|d| d.chars().count() > 60) {
            return Err("disciplines : 20 au plus, de 60 caractères au plus".into());
        }
        let email = get("email").to_string();
        if !email.is_empty() && !email_looks_valid(&email) {
            return Err(format!("adresse e-mail invalide « {email} »"));
        }
        let phone = get("phone").to_string();
        if phone.chars().count() > 40 {
            return Err("téléphone trop long (40 caractères au plus)".into());
        }
        let address = collapse_spaces(get("address"));
        if address.chars().count() > 300 {
            return Err("adresse trop longue (300 caractères au plus)".into());
        }
        let postal_code = get("postal_code").replace(' ', "");
        let postal_code =
            if postal_code.len() == 4 && postal_code.chars().all(|c| c.is_ascii_digit()) {
                // A spreadsheet that took the code for a number dropped its leading zero.
                format!("0{postal_code}")
            } else {
                postal_code
            };
        if !postal_code.is_empty() && !valid_postal_code(&postal_code) {
            return Err(format!("code postal invalide « {postal_code} »"));
        }
        let commune_input = get("commune");
        let commune = if !commune_input.is_empty() {
            match communes::resolve_with_postal_code(commune_input, &postal_code, departement) {
                Resolved::Found(c) => c,
                Resolved::Ambiguous(_) => {
                    return Err(format!(
                        "commune ambiguë « {commune_input} » : ajoutez le code postal"
                    ));
                }
                Resolved::Unknown => {
                    return Err(format!("commune inconnue « {commune_input} »"));
                }
            }
        } else if !postal_code.is_empty() {
            match by_postal_code(&postal_code).as_slice() {
                [one] => *one,
                [] => return Err(format!("aucune commune pour le code postal {postal_code}")),
                _ => {
                    return Err(format!(
                        "le code postal {postal_code} couvre plusieurs communes : \
                         indiquez la commune"
                    ));
                }
            }
        } else {
            return Err("commune et code postal vides".into());
        };
        let website = match normalize_website(get("website")) {
            Ok(w) => w,
            Err(()) => return Err(format!("adresse web invalide « {} »", get("website"))),
        };
        let latitude = parse_coordinate(get("latitude"), 90.0)
            .map_err(|()| format!("latitude invalide « {} »", get("latitude")))?;
        let longitude = parse_coordinate(get("longitude"), 180.0)
            .map_err(|()| format!("longitude invalide « {} »", get("longitude")))?;
        if latitude.is_some() != longitude.is_some() {
            return Err("latitude et longitude : les deux ou aucune".into());
        }
        Ok(Row {
            line,
            search_name: communes::normalize(&name),
            name,
            kind: kind.as_str(),
            disciplines,
            email,
            phone,
            address,
            postal_code,
            commune_code: commune.code,
            website,
            latitude,
            longitude,
            is_venue,
        })
    }
}

/// A valid row, ready to write.
#[derive(Debug, Clone)]
struct Row {
    line: u64,
    name: String,
    /// For duplicates inside the file (the database compares `cc_search_name`).
    search_name: String,
    kind: &'static str,
    disciplines: Vec<String>,
    email: String,
    phone: String,
    address: String,
    postal_code: String,
    commune_code: &'static str,
    website: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    is_venue: bool,
}

/// The keys seen so far in the file (e-mail; name + commune) and their first line.
#[derive(Default)]
struct SeenKeys {
    emails: HashMap<String, u64>,
    names: HashMap<(String, &'static str), u64>,
}

impl SeenKeys {
    fn duplicate_of(&mut self, row: &Row) -> Option<u64> {
        let email = row.email.to_lowercase();
        if !email.is_empty()
            && let Some(&first) = self.emails.get(&email)
        {
            return Some(first);
        }
        let name_key = (row.search_name.clone(), row.commune_code);
        if let Some(&first) = self.names.get(&name_key) {
            return Some(first);
        }
        if !email.is_empty() {
            self.emails.insert(email, row.line);
        }
        self.names.insert(name_key, row.line);
        None
    }
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_bool(s: &str) -> Option<bool> {
    match communes::normalize(s).as_str() {
        "" | "non" | "n" | "false" | "faux" | "0" | "no" => Some(false),
        "oui" | "o" | "true" | "vrai" | "1" | "x" | "yes" | "y" => Some(true),
        _ => None,
    }
}

/// Disciplines separated by `,`, `;` or `|`; blanks and repeats (case and accents aside)
/// dropped.
fn split_disciplines(s: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    s.split([',', ';', '|'])
        .map(collapse_spaces)
        .filter(|d| !d.is_empty() && seen.insert(communes::normalize(d)))
        .collect()
}

fn valid_postal_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[0].is_ascii_digit()
        && (b[1].is_ascii_digit() || b[1] == b'A' || b[1] == b'B')
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// An http(s) URL; a bare `www.example.fr` gets `https://`.
fn normalize_website(s: &str) -> Result<String, ()> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let candidate = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    let url = url::Url::parse(&candidate).map_err(|_| ())?;
    let host_ok = url.host_str().is_some_and(|h| h.contains('.'));
    if !matches!(url.scheme(), "http" | "https") || !host_ok || candidate.len() > 500 {
        return Err(());
    }
    Ok(url.to_string())
}

/// A coordinate in degrees (a decimal comma accepted), within ±`limit`.
fn parse_coordinate(s: &str, limit: f64) -> Result<Option<f64>, ()> {
    if s.is_empty() {
        return Ok(None);
    }
    let v: f64 = s.replace(',', ".").parse().map_err(|_| ())?;
    if !v.is_finite() || v.abs() > limit {
        return Err(());
    }
    Ok(Some(v))
}

/// Communes by postal code (a code may cover several communes).
fn by_postal_code(code: &str) -> Vec<&'static communes::Commune> {
    static INDEX: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
        let mut index: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for c in crate::db::reference::commune_lines() {
            for p in c.postal_codes.split(' ').filter(|p| !p.is_empty()) {
                index.entry(p).or_default().push(c.code);
            }
        }
        index
    });
    INDEX
        .get(code)
        .map(|codes| codes.iter().filter_map(|c| communes::by_code(c)).collect())
        .unwrap_or_default()
}

#[derive(QueryableByName)]
struct Match {
    #[diesel(sql_type = BigInt)]
    idx: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    entry_id: Option<i64>,
    #[diesel(sql_type = Bool)]
    claimed: bool,
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)]
    id: i64,
}

/// The existing entry of each row: the one with its e-mail, else the one with its name in
/// its commune.
const MATCH_SQL: &str = "
SELECT i.idx, COALESCE(by_email.id, by_name.id) AS entry_id,
       COALESCE(by_email.claimed, by_name.claimed, FALSE) AS claimed
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS i(idx, email, name, commune_code)
LEFT JOIN LATERAL (
    SELECT d.id, d.claimed_at IS NOT NULL AS claimed FROM directory_entries d
    WHERE i.email <> '' AND d.email <> '' AND lower(d.email) = lower(i.email)
    LIMIT 1
) by_email ON TRUE
LEFT JOIN LATERAL (
    SELECT d.id, d.claimed_at IS NOT NULL AS claimed FROM directory_entries d
    WHERE by_email.id IS NULL AND d.search_name = cc_search_name(i.name)
      AND d.commune_code = i.commune_code
    ORDER BY d.claimed_at IS NULL DESC, d.id
    LIMIT 1
) by_name ON TRUE";

/// The columns every write passes as parallel arrays ($2…$13); disciplines joined by U+001F.
const ROWS_SQL: &str = "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::float8[], $12::float8[],
    $13::bool[])
    AS u(id, name, kind, disciplines, email, phone, address, postal_code, commune_code, website,
         latitude, longitude, is_venue)";

fn update_sql() -> String {
    format!(
        "UPDATE directory_entries d SET name = u.name, kind = u.kind,
            disciplines = string_to_array(u.disciplines, E'\\x1f'), email = u.email,
            phone = u.phone, address = u.address, postal_code = u.postal_code,
            commune_code = u.commune_code, website = u.website, latitude = u.latitude,
            longitude = u.longitude, is_venue = u.is_venue, updated_at = now()
         FROM {ROWS_SQL}
         WHERE d.id = u.id AND d.claimed_at IS NULL
         RETURNING d.id"
    )
}

fn insert_sql() -> String {
    format!(
        "INSERT INTO directory_entries (name, kind, disciplines, email, phone, address,
            postal_code, commune_code, website, latitude, longitude, is_venue)
         SELECT u.name, u.kind, string_to_array(u.disciplines, E'\\x1f'), u.email, u.phone,
            u.address, u.postal_code, u.commune_code, u.website, u.latitude, u.longitude,
            u.is_venue
         FROM {ROWS_SQL}
         ON CONFLICT (lower(email)) WHERE email <> '' DO NOTHING
         RETURNING id"
    )
}

/// Parallel arrays of rows, bound to [`ROWS_SQL`].
#[derive(Default)]
struct Columns {
    id: Vec<i64>,
    name: Vec<String>,
    kind: Vec<String>,
    disciplines: Vec<String>,
    email: Vec<String>,
    phone: Vec<String>,
    address: Vec<String>,
    postal_code: Vec<String>,
    commune_code: Vec<String>,
    website: Vec<String>,
    latitude: Vec<Option<f64>>,
    longitude: Vec<Option<f64>>,
    is_venue: Vec<bool>,
}

impl Columns {
    fn push(&mut self, id: i64, row: &Row) {
        self.id.push(id);
        self.name.push(row.name.clone());
        self.kind.push(row.kind.to_string());
        self.disciplines.push(row.disciplines.join("\u{1f}"));
        self.email.push(row.email.clone());
        self.phone.push(row.phone.clone());
        self.address.push(row.address.clone());
        self.postal_code.push(row.postal_code.clone());
        self.commune_code.push(row.commune_code.to_string());
        self.website.push(row.website.clone());
        self.latitude.push(row.latitude);
        self.longitude.push(row.longitude);
        self.is_venue.push(row.is_venue);
    }

    fn len(&self) -> usize {
        self.id.len()
    }

    async fn run(self, conn: &mut AsyncPgConnection, sql: &str) -> AppResult<Vec<Written>> {
        Ok(diesel::sql_query(sql)
            .bind::<Array<BigInt>, _>(self.id)
            .bind::<Array<Text>, _>(self.name)
            .bind::<Array<Text>, _>(self.kind)
            .bind::<Array<Text>, _>(self.disciplines)
            .bind::<Array<Text>, _>(self.email)
            .bind::<Array<Text>, _>(self.phone)
            .bind::<Array<Text>, _>(self.address)
            .bind::<Array<Text>, _>(self.postal_code)
            .bind::<Array<Text>, _>(self.commune_code)
            .bind::<Array<Text>, _>(self.website)
            .bind::<Array<Nullable<Float8>>, _>(self.latitude)
            .bind::<Array<Nullable<Float8>>, _>(self.longitude)
            .bind::<Array<Bool>, _>(self.is_venue)
            .load::<Written>(conn)
            .await?)
    }
}

/// Matches a batch against the entries and writes it, in one transaction.
async fn write_batch(
    conn: &mut AsyncPgConnection,
    rows: Vec<Row>,
    options: ImportOptions,
    report: &mut ImportReport,
) -> AppResult<()> {
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| {
            let matches: Vec<Match> = diesel::sql_query(MATCH_SQL)
                .bind::<Array<BigInt>, _>((0..rows.len() as i64).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(rows.iter().map(|r| r.email.clone()).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(
                    rows.iter()
                        .map(|r| r.commune_code.to_string())
                        .collect::<Vec<_>>(),
                )
                .load(conn)
                .await?;
            let mut skipped = Vec::new();
            let mut updates = Columns::default();
            let mut inserts = Columns::default();
            // Two rows of the file may designate one entry (one by e-mail, one by name).
            let mut targeted: HashMap<i64, u64> = HashMap::new();
            for m in matches {
                let Some(row) = usize::try_from(m.idx).ok().and_then(|i| rows.get(i)) else {
                    continue;
                };
                match m.entry_id {
                    Some(_) if m.claimed => skipped.push(SkippedLine {
                        line: row.line,
                        reason: "fiche déjà revendiquée par son compte : non modifiée".into(),
                    }),
                    Some(id) => {
                        if let Some(&first) = targeted.get(&id) {
                            skipped.push(SkippedLine {
                                line: row.line,
                                reason: format!("doublon de la ligne {first}"),
                            });
                        } else {
                            targeted.insert(id, row.line);
                            updates.push(id, row);
                        }
                    }
                    None => inserts.push(0, row),
                }
            }
            let (updated, created) = if options.dry_run {
                (updates.len() as u64, inserts.len() as u64)
            } else {
                let mut updated = 0;
                let mut created = 0;
                if updates.len() > 0 {
                    updated = updates.run(conn, &update_sql()).await?.len() as u64;
                }
                if inserts.len() > 0 {
                    let wanted = inserts.len();
                    created = inserts.run(conn, &insert_sql()).await?.len() as u64;
                    if (created as usize) < wanted {
                        // Another import wrote the same address meanwhile.
                        return Err(AppError::new(
                            ErrorKind::Conflict,
                            "another import of the same entries ran at the same time: run \
                             this one again",
                        ));
                    }
                }
                (updated, created)
            };
            Ok((updated, created, skipped))
        })
        .await?;
    let (updated, created, skipped) = outcome;
    report.updated += updated;
    report.created += created;
    for s in skipped {
        report.skip(s.line, s.reason);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_sniffed_from_the_header() {
        assert_eq!(sniff_separator(b"name;kind;commune\na,b;c"), b';');
        assert_eq!(sniff_separator(b"name,kind,commune\n"), b',');
        assert_eq!(sniff_separator(b"name\tcommune\n"), b'\t');
        assert_eq!(sniff_separator(b"name\n"), b';');
    }

    #[test]
    fn latin1_is_detected_and_decoded() {
        let bytes = b"name;commune\nTh\xe9\xe2tre;\xc9pinal\n".to_vec();
        let mut cursor = std::io::Cursor::new(bytes.clone());
        assert_eq!(sniff_encoding(&mut cursor).ok(), Some(WINDOWS_1252));
        let mut text = String::new();
        DecodingReader::new(std::io::Cursor::new(bytes), WINDOWS_1252)
            .read_to_string(&mut text)
            .ok();
        assert_eq!(text, "name;commune\nThéâtre;Épinal\n");
        let utf8 = "\u{feff}name;commune\nThéâtre;Épinal\n".as_bytes().to_vec();
        assert_eq!(
            sniff_encoding(&mut std::io::Cursor::new(utf8.clone())).ok(),
            Some(UTF_8)
        );
        let mut text = String::new();
        DecodingReader::new(std::io::Cursor::new(utf8), UTF_8)
            .read_to_string(&mut text)
            .ok();
        assert_eq!(text, "name;commune\nThéâtre;Épinal\n");
    }

    #[test]
    fn header_names_are_forgiven_and_required_columns_checked() {
        let h = Header::parse(&csv::StringRecord::from(vec![
            "Nom",
            "Type",
            "Code postal",
            "E-mail",
            "Téléphone",
            "Remarques",
        ]))
        .ok();
        let h = h.expect("header");
        assert_eq!(h.index.get("postal_code"), Some(&2));
        assert_eq!(h.index.get("email"), Some(&3));
        assert_eq!(h.index.get("phone"), Some(&4));
        assert_eq!(h.ignored, vec!["Remarques".to_string()]);
        let missing = Header::parse(&csv::StringRecord::from(vec!["kind", "email"]));
        assert!(
            matches!(missing, Err(ImportError::MissingColumns(ref m)) if m.len() == 2),
            "{:?}",
            missing.err()
        );
    }

    #[test]
    fn field_rules() {
        assert_eq!(parse_bool("Oui"), Some(true));
        assert_eq!(parse_bool("x"), Some(true));
        assert_eq!(parse_bool(""), Some(false));
        assert_eq!(parse_bool("peut-être"), None);
        assert_eq!(
            split_disciplines("Théâtre, danse| theatre ;;Musique"),
            vec!["Théâtre", "danse", "Musique"]
        );
        assert_eq!(
            normalize_website("www.cie.fr").ok().as_deref(),
            Some("https://www.cie.fr/")
        );
        assert!(normalize_website("javascript:alert(1)").is_err());
        assert!(normalize_website("pas une adresse").is_err());
        assert_eq!(parse_coordinate("48,17", 90.0), Ok(Some(48.17)));
        assert!(parse_coordinate("91", 90.0).is_err());
        assert!(valid_postal_code("88000"));
        assert!(valid_postal_code("2A004"));
        assert!(!valid_postal_code("8800"));
    }
}
