//! Directory search (issue 11): 10 000 members, 2 000 venues, 5 000 sharing offers and 800
//! listed entries of the Vosges and around, generated with SQL (realistic French names,
//! disciplines, communes), then 20 representative searches — accents, plurals, typos,
//! kind/discipline/commune filters, distance with a radius, the empty query, tsquery
//! characters — through `service::directory::search::search`, the function the page
//! `/annuaire` and `GET /api/v1/directory` call. Prints p50/p99 per query and overall.
//! Target: p99 < 30 ms. Never fails on time.
//!
//! Run: `cargo bench --bench directory_search`.

use culturecnous::{
    context::AppContext,
    db,
    service::directory::search::{SearchParams, explain, search},
    testing::TestDatabases,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::time::{Duration, Instant};

const MEMBERS: i64 = 10_000;
const VENUES: i64 = 2_000;
const OFFERS: i64 = 5_000;
const ENTRIES: i64 = 800;
/// Timed runs of each query (after one warm-up run).
const ROUNDS: usize = 50;

/// (label, query string as the page receives it).
const QUERIES: &[(&str, &str)] = &[
    ("browse everything", ""),
    ("accents: theatre", "q=theatre"),
    ("accents: Théâtre", "q=Th%C3%A9%C3%A2tre"),
    ("plural: danses", "q=danses"),
    ("typo: médiatèque", "q=m%C3%A9diat%C3%A8que"),
    ("typo: compagine", "q=compagine"),
    ("two words", "q=musique+vologne"),
    ("kind filter", "kind=compagnie"),
    ("kind + query", "kind=bibliotheque&q=lecture"),
    ("discipline filter", "discipline=arts+visuels"),
    (
        "discipline + query",
        "discipline=Th%C3%A9%C3%A2tre&q=ombres",
    ),
    ("commune filter", "commune=%C3%89pinal"),
    (
        "commune + type",
        "commune=Saint-Di%C3%A9-des-Vosges&type=venue",
    ),
    ("near", "near=Remiremont"),
    ("near + radius", "near=G%C3%A9rardmer&radius=15"),
    (
        "near + radius + query",
        "near=%C3%89pinal&radius=30&q=salle",
    ),
    ("offers: console", "type=offer&q=console"),
    (
        "tsquery characters",
        "q=%26%7C%21%28%29%3A%2A%27%5C+theatre",
    ),
    ("1 000 characters", "LONG"),
    ("deep page", "page=40"),
];

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` must not run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("directory search benchmark: run it with `cargo bench --bench directory_search`");
        return Ok(());
    }
    let dbs = TestDatabases::get();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(dbs))
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<usize> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {sql}"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Name parts: `pick(array, g)` picks by a hash of the row number, so every run builds the
/// same data.
const GENERATE: &str = r#"
CREATE TEMP TABLE bench_words AS SELECT
  ARRAY['Compagnie', 'Association', 'Collectif', 'Ensemble', 'Atelier', 'Chorale', 'Harmonie',
        'Théâtre', 'Cie', 'Les Amis', 'Troupe', 'Orchestre', 'Fanfare', 'Studio', 'Maison']
    AS heads,
  ARRAY['des Ombres', 'du Lac', 'de la Vologne', 'des Hautes-Vosges', 'Bleu Nuit', 'des Saltimbanques',
        'de la Moselle', 'des Trois Chaumes', 'du Ballon', 'de la Schlucht', 'des Myrtilles',
        'du Haut-Fer', 'à Roulettes', 'des Lumières', 'de la Meurthe', 'Vagabonde', 'des Sapins',
        'de l''Étang', 'du Donon', 'des Images']
    AS tails,
  ARRAY['théâtre', 'musique', 'danse', 'arts visuels', 'lecture publique', 'cirque',
        'arts de la rue', 'marionnette', 'patrimoine', 'cinéma', 'photographie',
        'arts numériques', 'littérature', 'conte'] AS disciplines,
  ARRAY['compagnie', 'association', 'bibliotheque', 'ecole_de_musique', 'etablissement_scolaire',
        'ehpad_medico_social', 'collectivite', 'artiste', 'lieu', 'autre'] AS kinds,
  ARRAY['Salle des fêtes', 'Médiathèque', 'Théâtre', 'Espace culturel', 'Grange', 'Auditorium',
        'Chapelle', 'Cinéma', 'Halle', 'Studio de danse'] AS venue_heads,
  ARRAY['Console', 'Projecteurs', 'Praticables', 'Vidéoprojecteur', 'Chaises pliantes',
        'Costumes d''époque', 'Camion', 'Sonorisation', 'Pendrillons', 'Micro HF'] AS offer_heads,
  ARRAY['son', 'lumiere', 'scene', 'video', 'mobilier', 'costumes', 'vehicule', 'salle', 'autre']
    AS categories,
  (SELECT array_agg(code ORDER BY code) FROM communes WHERE departement = '88') AS c88,
  (SELECT array_agg(code ORDER BY code) FROM communes WHERE departement IN ('54', '70', '52', '68'))
    AS around;

CREATE TEMP TABLE bench_members AS
SELECT g,
  w.heads[1 + (g * 7) % array_length(w.heads, 1)] || ' ' || w.tails[1 + (g * 13) % array_length(w.tails, 1)]
    || CASE WHEN g % 3 = 0 THEN ' ' || g ELSE '' END AS name,
  ARRAY[w.disciplines[1 + (g * 5) % 14], w.disciplines[1 + (g * 11) % 14]] AS disciplines,
  w.kinds[1 + (g * 3) % 10] AS kind,
  CASE WHEN g % 5 = 0 THEN w.around[1 + (g * 31) % array_length(w.around, 1)]
       ELSE w.c88[1 + (g * 17) % array_length(w.c88, 1)] END AS commune
FROM generate_series(1, 10000) g, bench_words w;

INSERT INTO actors (ap_id, kind, username, domain, local, name, inbox_url, public_key_pem, private_key_pem)
SELECT 'http://localhost:8080/users/membre' || g, 'Person', 'membre' || g, 'localhost:8080', true,
       name, 'http://localhost:8080/users/membre' || g || '/inbox', 'pem', 'pem'
FROM bench_members;

INSERT INTO accounts (actor_id, username, email, password_hash, kind, display_name, bio_markdown,
                      disciplines, directory_kind, commune_code, latitude, longitude, directory_hidden)
SELECT a.id, 'membre' || m.g, 'membre' || m.g || '@example.org', 'x',
       CASE WHEN m.kind = 'artiste' THEN 'individual' ELSE 'structure' END, m.name,
       'Nous créons des spectacles ' || m.disciplines[1] || ' et ' || m.disciplines[2]
         || ' dans les villages, avec les écoles et les médiathèques du territoire.',
       m.disciplines, m.kind, m.commune,
       CASE WHEN m.g % 3 = 0 THEN c.latitude + ((m.g % 7) - 3) * 0.003 END,
       CASE WHEN m.g % 3 = 0 THEN c.longitude + ((m.g % 5) - 2) * 0.003 END,
       m.g % 50 = 0
FROM bench_members m
JOIN actors a ON a.username = 'membre' || m.g AND a.local
JOIN communes c ON c.code = m.commune;

INSERT INTO actors (ap_id, kind, username, domain, local, name, inbox_url, public_key_pem, private_key_pem)
SELECT 'http://localhost:8080/venues/lieu-' || g, 'Organization', 'lieu-' || g, 'localhost:8080', true,
       'lieu ' || g, 'http://localhost:8080/venues/lieu-' || g || '/inbox', 'pem', 'pem'
FROM generate_series(1, 2000) g;

INSERT INTO venues (actor_id, slug, owner_account_id, name, description_markdown, commune_code,
                    latitude, longitude, disciplines, capacity)
SELECT a.id, 'lieu-' || g,
       (SELECT id FROM accounts WHERE username = 'membre' || (1 + (g * 37) % 10000)),
       w.venue_heads[1 + (g * 3) % 10] || ' ' || w.tails[1 + (g * 7) % 20] || CASE WHEN g % 2 = 0 THEN ' ' || g ELSE '' END,
       'Une salle de ' || (50 + g % 400) || ' places, avec scène, loges et parking.',
       w.c88[1 + (g * 23) % array_length(w.c88, 1)],
       CASE WHEN g % 2 = 0 THEN c.latitude + 0.002 END,
       CASE WHEN g % 2 = 0 THEN c.longitude - 0.002 END,
       ARRAY[w.disciplines[1 + g % 14]], 50 + g % 400
FROM generate_series(1, 2000) g
CROSS JOIN bench_words w
JOIN actors a ON a.username = 'lieu-' || g AND a.local
JOIN communes c ON c.code = w.c88[1 + (g * 23) % array_length(w.c88, 1)];

INSERT INTO offers (account_id, category, title, description_markdown, terms, commune_code, public,
                    closed_at)
SELECT (SELECT id FROM accounts WHERE username = 'membre' || (1 + (g * 41) % 10000)),
       w.categories[1 + g % 9],
       w.offer_heads[1 + (g * 7) % 10] || ' ' || w.tails[1 + (g * 3) % 20],
       'À prêter pour vos spectacles, à retirer sur place ; merci d''en prendre soin.',
       (ARRAY['free', 'paid', 'exchange'])[1 + g % 3],
       w.c88[1 + (g * 29) % array_length(w.c88, 1)],
       g % 4 <> 0,
       CASE WHEN g % 10 = 3 THEN now() END
FROM generate_series(1, 5000) g, bench_words w;

INSERT INTO directory_entries (name, kind, disciplines, commune_code, is_venue)
SELECT CASE WHEN g % 4 = 0 THEN 'Médiathèque ' ELSE w.heads[1 + g % 15] || ' ' END
         || w.tails[1 + (g * 11) % 20] || ' ' || g,
       w.kinds[1 + g % 10], ARRAY[w.disciplines[1 + g % 14]],
       w.c88[1 + (g * 19) % array_length(w.c88, 1)], g % 6 = 0
FROM generate_series(1, 800) g, bench_words w;

VACUUM ANALYZE accounts;
VACUUM ANALYZE actors;
VACUUM ANALYZE venues;
VACUUM ANALYZE offers;
VACUUM ANALYZE directory_entries;
"#;

async fn run(dbs: &'static TestDatabases) -> anyhow::Result<()> {
    let mut config = dbs.config(8080).await;
    config.database.pool_size = 4;
    let departement = config.instance.departement.clone();
    let pool = db::pool::build_pool(&config.database.url, config.database.pool_size)?;
    let ctx = AppContext::new(config.clone(), pool);
    culturecnous::service::instance_url::check_or_record(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("instance identity: {e:?}"))?;
    culturecnous::service::actors::ensure_system_actors(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("system actors: {e:?}"))?;

    let started = Instant::now();
    let mut conn = AsyncPgConnection::establish(&config.database.url).await?;
    for statement in GENERATE
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        exec(&mut conn, statement).await?;
    }
    println!(
        "generated {MEMBERS} members, {VENUES} venues, {OFFERS} offers, {ENTRIES} listed entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let long = format!("q={}", "th%C3%A9%C3%A2tre+".repeat(125));
    let mut all = Vec::with_capacity(QUERIES.len() * ROUNDS);
    println!(
        "{:<24} {:>8} {:>10} {:>10}",
        "query", "results", "p50", "p99"
    );
    for (label, query) in QUERIES {
        let query = if *query == "LONG" {
            long.as_str()
        } else {
            query
        };
        let params: SearchParams = serde_urlencoded::from_str(query)?;
        let checked = params
            .check(&departement)
            .map_err(|e| anyhow::anyhow!("{label}: {e:?}"))?;
        let first = search(&ctx, None, &checked)
            .await
            .map_err(|e| anyhow::anyhow!("{label}: {e:?}"))?;
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let start = Instant::now();
            search(&ctx, None, &checked)
                .await
                .map_err(|e| anyhow::anyhow!("{label}: {e:?}"))?;
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "{:<24} {:>8} {:>10} {:>10}",
            label,
            first.total,
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99))
        );
        all.extend(times);
    }
    for (label, query) in [
        ("browse everything", ""),
        ("accents: theatre", "q=theatre"),
        ("near", "near=Remiremont"),
    ] {
        let params: SearchParams = serde_urlencoded::from_str(query)?;
        let checked = params
            .check(&departement)
            .map_err(|e| anyhow::anyhow!("{label}: {e:?}"))?;
        println!("plan of {label}:");
        for line in explain(&ctx, None, &checked)
            .await
            .map_err(|e| anyhow::anyhow!("{label}: {e:?}"))?
        {
            println!("    {line}");
        }
    }
    all.sort();
    println!(
        "overall: {} searches: p50 {}, p90 {}, p99 {}, max {} (target p99 < 30 ms)",
        all.len(),
        ms(percentile(&all, 0.50)),
        ms(percentile(&all, 0.90)),
        ms(percentile(&all, 0.99)),
        ms(percentile(&all, 1.0)),
    );
    Ok(())
}
