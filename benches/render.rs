//! B-8 page render: the public "Actualités" list (20 items on a page, more in the database)
//! and one announcement with 200 comments, served by the real `culturecnous serve` (release,
//! managed durable PostgreSQL). 2 000 requests per page from 8 concurrent clients over
//! keep-alive connections; prints p50/p90/p99/max and the request rate. Target: p99 < 25 ms
//! on a 2-core machine. Never fails on time.
//!
//! Run: `cargo bench --bench render`.

mod support;

use serde_json::json;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use support::{Api, Latencies, Serve};

const CLIENTS: usize = 8;
const REQUESTS: usize = 2_000;
const WARM_UP: usize = 100;
const COMMENTS: usize = 200;
const NEWS_ITEMS: usize = 30;

fn main() -> anyhow::Result<()> {
    if !support::started_by_cargo_bench() {
        println!("render benchmark: run it with `cargo bench --bench render`");
        return Ok(());
    }
    support::raise_open_files_limit();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(render());
    Ok(())
}

async fn seed(serve: &Serve) -> (String, String) {
    let api = Api::member(serve, "compagnie").await;
    let body = "Nous accueillons une **compagnie** en résidence : plateau de 10 m × 8 m, \
                régie son et lumière, hébergement possible. Écrivez-nous avec un dossier \
                artistique et un calendrier. #théâtre #résidence\n\n\
                - deux semaines en mars\n- restitution publique\n- médiation avec les écoles";
    let kinds = [
        "residence",
        "appel_a_projets",
        "emploi",
        "pret_materiel",
        "formation",
    ];
    let mut target = String::new();
    for i in 0..NEWS_ITEMS {
        if i % 3 == 0 {
            api.post(
                "/api/v1/posts",
                json!({"title": format!("Carnet de tournée n° {i}"),
                       "summary": "Des nouvelles de la tournée dans le département.",
                       "body": body}),
            )
            .await;
        } else {
            let created = api
                .post(
                    "/api/v1/announcements",
                    json!({"title": format!("Annonce n° {i} : résidence au théâtre"),
                           "body": body, "kind": kinds[i % kinds.len()],
                           "commune": "Tulle", "disciplines": ["théâtre", "danse"]}),
                )
                .await;
            target = created["ap_id"].as_str().expect("ap_id").to_string();
        }
    }
    let page = target
        .strip_prefix(&serve.base_url())
        .expect("a local announcement")
        .to_string();
    for i in 0..COMMENTS {
        let body = format!(
            "Commentaire n° {i} : nous sommes *très* intéressés, pouvez-vous préciser les dates ?"
        );
        api.post(
            "/api/v1/comments",
            json!({"in_reply_to": target, "body": body}),
        )
        .await;
    }
    ("/actualites".to_string(), page)
}

/// `REQUESTS` GETs of `path` from `CLIENTS` concurrent clients; every answer must be 200.
async fn measure(serve: &Serve, path: &str) -> (Latencies, Duration, usize) {
    let url = Arc::new(format!("http://127.0.0.1:{}{path}", serve.port));
    let host = Arc::new(serve.domain());
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    let get = |client: reqwest::Client, url: Arc<String>, host: Arc<String>| async move {
        let started = Instant::now();
        let response = client
            .get(url.as_str())
            .header("host", host.as_str())
            .header("accept", "text/html")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert_eq!(response.status(), 200, "GET {url}");
        let bytes = response.bytes().await.expect("body").len();
        (started.elapsed(), bytes)
    };
    for _ in 0..WARM_UP {
        get(client.clone(), url.clone(), host.clone()).await;
    }
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, url, host) = (client.clone(), url.clone(), host.clone());
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(REQUESTS / CLIENTS);
                for _ in 0..REQUESTS / CLIENTS {
                    out.push(get(client.clone(), url.clone(), host.clone()).await);
                }
                out
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(REQUESTS);
    let mut bytes = 0;
    for task in tasks {
        for (latency, size) in task.await.expect("client task") {
            latencies.push(latency);
            bytes = size;
        }
    }
    (Latencies::new(latencies), started.elapsed(), bytes)
}

async fn render() {
    println!(
        "B-8 page render: culturecnous serve (release), {REQUESTS} requests per page, \
         {CLIENTS} concurrent clients; target p99 < 25 ms"
    );
    println!("load average before: {}", support::load_average());
    let mut serve = Serve::new("render");
    serve.start().await;
    let (news, announcement) = seed(&serve).await;
    for (label, path) in [
        ("Actualités (20 items a page)", news.as_str()),
        ("announcement with 200 comments", announcement.as_str()),
    ] {
        let (latencies, elapsed, bytes) = measure(&serve, path).await;
        println!(
            "{label} — GET {path} ({} KiB): {}; {:.0} requests/s",
            bytes / 1024,
            latencies.summary(),
            REQUESTS as f64 / elapsed.as_secs_f64()
        );
    }
    let (rss, peak) = serve.rss_kib();
    println!(
        "serve resident memory after: {:.1} MiB (peak {:.1} MiB)",
        support::mib(rss),
        support::mib(peak)
    );
    serve.terminate().await;
    serve.cluster().stop().await.expect("stop the cluster");
}
