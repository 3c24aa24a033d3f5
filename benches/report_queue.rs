//! The moderators' report queue with 5 000 reports (issue 10): the page `/admin/signalements`
//! as a logged-in moderator (HTML) and `GET /api/v1/admin/reports` (JSON), with filters and
//! paging, through the real router in process (`culturecnous::app`, `tower::ServiceExt`),
//! against the test database harness. Prints p50/p90/p99/max per kind of request and the
//! query plans of the queue's main queries. Target: p99 < 50 ms. Never fails on time.
//!
//! One report is made through the one reporting path (`reports::submit`); the 4 999 others
//! are SQL copies of it with varied reasons, origins, states and dates (5 000 notifications
//! of moderators would measure the notification centre, not the queue).
//!
//! Run: `cargo bench --bench report_queue`.

mod support;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use culturecnous::{
    error::AppError,
    service::{
        accounts::{NewAccountInput, create_account},
        moderation::{Reason, ReportInput, Reporter, reports::submit},
    },
    testing::TestDatabases,
};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use http_body_util::BodyExt;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const REPORTS: i64 = 5_000;
/// Requests per URL measured (after one warm-up round).
const ROUNDS: usize = 60;

const PAGES: &[&str] = &[
    "/admin/signalements",
    "/admin/signalements?state=all",
    "/admin/signalements?state=open&page=30",
    "/admin/signalements?state=all&page=100",
    "/admin/signalements?reason=off_topic",
    "/admin/signalements?reason=spam&state=all&page=10",
    "/admin/signalements?origin=remote&state=all",
    "/admin/signalements?origin=hote3.example&state=all&page=2",
    "/admin/signalements?origin=local&reason=harassment",
    "/admin/signalements?assigned=me&state=all",
];

const API: &[&str] = &[
    "/api/v1/admin/reports",
    "/api/v1/admin/reports?state=all&page=100",
    "/api/v1/admin/reports?reason=illegal&state=all",
    "/api/v1/admin/reports?origin=remote&page=3",
    "/api/v1/admin/reports?state=resolved&page=20",
];

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` must not run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("report queue benchmark: run it with `cargo bench --bench report_queue`");
        return Ok(());
    }
    let dbs = TestDatabases::get();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(dbs))
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<usize> {
    Ok(diesel::sql_query(sql).execute(conn).await?)
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

async fn explain(conn: &mut AsyncPgConnection, label: &str, sql: &str) -> anyhow::Result<()> {
    let lines: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN ANALYZE {sql}"))
        .load(conn)
        .await?;
    println!("plan of {label}:");
    for l in lines {
        println!("    {}", l.line);
    }
    Ok(())
}

async fn send(router: &Router, uri: &str, auth: (&'static str, &str)) -> anyhow::Result<usize> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(auth.0, auth.1)
        .header(
            header::ACCEPT,
            if uri.starts_with("/api/") {
                "application/json"
            } else {
                "text/html"
            },
        )
        .body(Body::empty())?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if status != StatusCode::OK {
        anyhow::bail!("{uri}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body.len())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn measure(
    label: &str,
    router: &Router,
    uris: &[&str],
    auth: (&'static str, &str),
) -> anyhow::Result<()> {
    let mut bytes = 0;
    for uri in uris {
        bytes += send(router, uri, auth).await?;
    }
    let mut all = Vec::with_capacity(uris.len() * ROUNDS);
    for _ in 0..ROUNDS {
        for uri in uris {
            let start = Instant::now();
            send(router, uri, auth).await?;
            all.push(start.elapsed());
        }
    }
    all.sort();
    println!(
        "{label}: {} requests over {} URLs ({} bytes a round): p50 {}, p90 {}, p99 {}, max {} (target p99 < 50 ms)",
        all.len(),
        uris.len(),
        bytes,
        ms(percentile(&all, 0.50)),
        ms(percentile(&all, 0.90)),
        ms(percentile(&all, 0.99)),
        ms(percentile(&all, 1.0)),
    );
    Ok(())
}

async fn run(dbs: &'static TestDatabases) -> anyhow::Result<()> {
    let (ctx, router) = support::in_process_app(dbs).await?;

    let account = |name: &str, role: &str| NewAccountInput {
        username: name.into(),
        email: format!("{name}@example.org"),
        password: "un mot de passe solide".into(),
        kind: "individual".into(),
        role: role.into(),
        display_name: name.into(),
    };
    let moderator = create_account(&ctx, account("moderatrice", "moderator"))
        .await
        .map_err(|e| anyhow::anyhow!("moderator: {e:?}"))?;
    create_account(&ctx, account("autrice", "member"))
        .await
        .map_err(|e| anyhow::anyhow!("author: {e:?}"))?;
    let reporter = create_account(&ctx, account("lea", "member"))
        .await
        .map_err(|e| anyhow::anyhow!("reporter: {e:?}"))?;
    let author_token =
        culturecnous::service::tokens::create_token(&ctx, "autrice", "bench").await?;
    let moderator_token =
        culturecnous::service::tokens::create_token(&ctx, "moderatrice", "bench").await?;
    let session = culturecnous::service::sessions::open(&ctx, &moderator, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("session: {e:?}"))?;

    // One announcement-like post, reported once through the real path.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/posts")
        .header(header::AUTHORIZATION, format!("Bearer {author_token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({
                "title": "Grand spectacle de fin d'année",
                "body": "Venez nombreux au **spectacle** de la compagnie, samedi à 20 h.",
            })
            .to_string(),
        ))?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    anyhow::ensure!(status == StatusCode::CREATED, "post: {status}");
    let created: serde_json::Value = serde_json::from_slice(&body)?;
    let ap_id = created["ap_id"].as_str().unwrap_or_default().to_string();

    let setup = Instant::now();
    let mut conn = ctx.conn().await?;
    let input = ReportInput {
        reporter: Reporter::Member(Box::new(reporter)),
        targets: vec![url::Url::parse(&ap_id)?],
        reason: Reason::OffTopic,
        rule_ids: vec![4],
        comment: "Ceci va dans l'agenda des sorties.".into(),
        forward: false,
    };
    let first = conn
        .transaction::<_, AppError, _>(async |conn| submit(&ctx, conn, input).await)
        .await
        .map_err(|e| anyhow::anyhow!("submit: {e:?}"))?
        .ok_or_else(|| anyhow::anyhow!("report not stored"))?
        .report
        .id;
    let copies = REPORTS - 1;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO reports (origin_domain, reporter_account_id, reason, rule_ids, comment,
                 target_actor_id, state, assigned_to, resolution, resolved_by, resolved_at,
                 created_at, updated_at)
             SELECT CASE WHEN g % 7 = 0 THEN 'hote' || (g % 5) || '.example' END,
                 r.reporter_account_id,
                 (ARRAY['spam', 'illegal', 'harassment', 'off_topic', 'other'])[1 + g % 5],
                 r.rule_ids, 'Signalement ' || g, r.target_actor_id,
                 CASE WHEN g % 3 = 0 THEN 'resolved' ELSE 'open' END,
                 CASE WHEN g % 11 = 0 THEN {moderator} END,
                 CASE WHEN g % 3 = 0 THEN 'dismiss' END,
                 CASE WHEN g % 3 = 0 THEN {moderator} END,
                 CASE WHEN g % 3 = 0 THEN now() - (g || ' minutes')::interval END,
                 now() - (g || ' minutes')::interval, now()
             FROM reports r, generate_series(1, {copies}) g
             WHERE r.id = {first}",
            moderator = moderator.id,
        ),
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO report_targets (report_id, kind, ap_id, actor_id, post_id, comment_id,
                 snapshot)
             SELECT r.id, t.kind, t.ap_id, t.actor_id, t.post_id, t.comment_id, t.snapshot
             FROM reports r, report_targets t
             WHERE t.report_id = {first} AND r.id <> {first}"
        ),
    )
    .await?;
    exec(&mut conn, "ANALYZE reports").await?;
    exec(&mut conn, "ANALYZE report_targets").await?;
    println!(
        "setup: {REPORTS} reports with their targets in {}",
        ms(setup.elapsed())
    );

    explain(
        &mut conn,
        "the open queue, page 30",
        "SELECT id FROM reports WHERE state = 'open' ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 1450",
    )
    .await?;
    explain(
        &mut conn,
        "every report, page 2",
        "SELECT id FROM reports ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 50",
    )
    .await?;
    explain(
        &mut conn,
        "by reason",
        "SELECT id FROM reports WHERE reason = 'off_topic' AND state = 'open' ORDER BY created_at DESC, id DESC LIMIT 50",
    )
    .await?;
    explain(
        &mut conn,
        "by origin",
        "SELECT id FROM reports WHERE origin_domain = 'hote3.example' ORDER BY created_at DESC, id DESC LIMIT 50",
    )
    .await?;
    explain(
        &mut conn,
        "the count of the open queue",
        "SELECT count(*) FROM reports WHERE state = 'open'",
    )
    .await?;
    drop(conn);

    let cookie = format!("session={}", session.token);
    measure(
        "queue page (HTML, moderator session)",
        &router,
        PAGES,
        ("cookie", &cookie),
    )
    .await?;
    let bearer = format!("Bearer {moderator_token}");
    measure(
        "queue API (JSON, bearer token)",
        &router,
        API,
        ("authorization", &bearer),
    )
    .await?;
    measure(
        "one report page (HTML)",
        &router,
        &[&format!("/admin/signalements/{first}")],
        ("cookie", &cookie),
    )
    .await?;
    Ok(())
}
