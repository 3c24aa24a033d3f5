//! The département's bulk import (issue 11, item 5): a generated 10 000-row CSV (names of
//! companies, associations, libraries…, communes of the Vosges written with and without
//! accents, "St"/"Saint", upper case; about 2 % bad rows) imported through the function the
//! CLI uses, on the test database harness (real PostgreSQL); then the same file again
//! (every row an update); then 50 000 rows once, with the process's peak memory (VmHWM)
//! before and after, which stays flat because rows are streamed and written by batches.
//! Target: ≥ 2 000 rows/s on 10 000 rows. Never fails on time.
//!
//! Run: `cargo bench --bench directory_import`.

use culturecnous::{
    context::AppContext,
    db,
    service::{
        communes,
        directory::import::{self, ImportOptions, ImportReport},
    },
    testing::TestDatabases,
};
use std::{
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    time::Instant,
};

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` must not run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("directory import benchmark: run it with `cargo bench --bench directory_import`");
        return Ok(());
    }
    let dbs = TestDatabases::get();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(dbs))
}

const PREFIXES: &[(&str, &str)] = &[
    ("Compagnie", "compagnie"),
    ("Cie", "Compagnie de théâtre"),
    ("Association", "association"),
    ("Les Amis de", "asso"),
    ("Médiathèque de", "Bibliothèque / médiathèque"),
    ("Bibliothèque municipale de", "bibliotheque"),
    ("École de musique de", "École de musique"),
    ("Collège", "etablissement_scolaire"),
    ("EHPAD", "EHPAD"),
    ("Mairie de", "collectivite"),
    ("Théâtre", "lieu"),
    ("Ensemble vocal", "autre"),
];

const WORDS: &[&str] = &[
    "des Trois Pommes",
    "du Petit Pont",
    "l'Étourneau",
    "la Lune Rousse",
    "des Sapins",
    "du Haut-Fer",
    "la Moselle",
    "des Chaumes",
    "Saint-Nicolas",
    "la Vôge",
    "des Myrtilles",
    "la Schlucht",
];

const DISCIPLINES: &[&str] = &[
    "théâtre",
    "musique|danse",
    "lecture publique; conte",
    "arts visuels",
    "cirque, arts de la rue",
    "patrimoine",
    "",
];

/// How people write a commune's name in a spreadsheet.
fn written(name: &str, i: usize) -> String {
    match i % 4 {
        0 => name.to_string(),
        1 => name.replace("Saint-", "St-").replace("Sainte-", "Ste-"),
        2 => name
            .replace(['é', 'è', 'ê'], "e")
            .replace('â', "a")
            .replace('ô', "o")
            .replace('î', "i"),
        _ => name.to_uppercase(),
    }
}

/// Writes `rows` rows, the `n`-th with e-mail `n@…` from `first`; every 50th row is bad.
fn generate(path: &Path, first: usize, rows: usize) -> anyhow::Result<()> {
    let vosges = communes::in_departement("88");
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "name;kind;disciplines;email;phone;address;postal_code;commune;website;latitude;longitude;is_venue"
    )?;
    for n in first..first + rows {
        let (prefix, kind) = PREFIXES[n % PREFIXES.len()];
        let word = WORDS[(n / PREFIXES.len()) % WORDS.len()];
        let commune = vosges[(n * 7) % vosges.len()];
        let postal = commune.postal_codes.split(' ').next().unwrap_or("");
        let mut email = format!("contact{n}@structure{}.fr", n % 97);
        let mut commune_text = written(commune.name, n);
        let mut latitude = commune
            .latitude
            .map(|l| format!("{l:.4}"))
            .unwrap_or_default();
        let longitude = commune
            .longitude
            .map(|l| format!("{l:.4}"))
            .unwrap_or_default();
        match n % 150 {
            0 => email = "pas-une-adresse".into(),
            50 => commune_text = "Ville-Imaginaire".into(),
            100 => latitude = String::new(),
            _ => {}
        }
        writeln!(
            out,
            "{prefix} {word} {n};{kind};\"{}\";{email};03 29 {:02} {:02} {:02};{} rue de la Gare;{postal};{commune_text};https://structure{n}.example.fr;{latitude};{longitude};{}",
            DISCIPLINES[n % DISCIPLINES.len()],
            n % 100,
            (n / 100) % 100,
            n % 37,
            n % 60 + 1,
            if kind == "lieu" { "oui" } else { "non" },
        )?;
    }
    out.flush()?;
    Ok(())
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn timed(ctx: &AppContext, path: &Path, what: &str) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    let file = std::fs::File::open(path)?;
    let report = import::import(ctx, file, ImportOptions::default(), &mut |_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{what}: {} rows in {secs:.2} s = {:.0} rows/s (created {}, updated {}, skipped {}); peak RSS {} MiB",
        report.rows,
        report.rows as f64 / secs,
        report.created,
        report.updated,
        report.skipped,
        vm_hwm_kib() / 1024
    );
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &report.skipped_lines {
        let kind: String = s
            .reason
            .split(['«', ':'])
            .next()
            .unwrap_or("")
            .trim()
            .into();
        *reasons.entry(kind).or_default() += 1;
    }
    for (reason, count) in reasons {
        println!("    skipped: {count} × {reason}");
    }
    Ok(report)
}

async fn run(dbs: &'static TestDatabases) -> anyhow::Result<()> {
    let config = dbs.config(8080).await;
    let dir: PathBuf = config.storage.data_dir.clone();
    std::fs::create_dir_all(&dir)?;
    let pool = db::pool::build_pool(&config.database.url, config.database.pool_size)?;
    let ctx = AppContext::new(config, pool);

    let small = dir.join("annuaire-10000.csv");
    generate(&small, 0, 10_000)?;
    println!("peak RSS before importing: {} MiB", vm_hwm_kib() / 1024);
    timed(&ctx, &small, "10 000 rows, first import").await?;
    timed(&ctx, &small, "10 000 rows, re-import (updates)").await?;

    let large = dir.join("annuaire-50000.csv");
    generate(&large, 10_000, 50_000)?;
    timed(&ctx, &large, "50 000 rows, first import").await?;
    let _ = std::fs::remove_file(&small);
    let _ = std::fs::remove_file(&large);
    Ok(())
}
