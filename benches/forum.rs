//! The forum with a category of 2 000 threads and 50 000 replies (issue 13): a category's
//! thread list (page and API, as a member with read markers and as a visitor) and a thread
//! with 500 replies (page and API), through the real router in process
//! (`culturecnous::app`, `tower::ServiceExt`) on the test database harness. Prints
//! p50/p90/p99/max per kind of request and the query plan of the list. Targets: list p99 <
//! 25 ms, the 500-reply thread p99 < 50 ms. Never fails on time.
//!
//! One thread and one reply are made through the API (the real path); the rest are SQL copies
//! of them (the reply counter trigger is switched off during the bulk copy and the counters
//! set once after it: the copy measures nothing).
//!
//! Run: `cargo bench --bench forum`.

mod support;

use axum::{
    Router,
    http::{Method, StatusCode},
};
use culturecnous::{
    service::accounts::{NewAccountInput, create_account},
    testing::TestDatabases,
};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::{Duration, Instant};

const THREADS: i64 = 2_000;
const REPLIES: i64 = 50_000;
/// Replies of the one long thread measured.
const LONG_THREAD_REPLIES: i64 = 500;
/// Requests per URL measured (after one warm-up round).
const ROUNDS: usize = 60;

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` must not run it.
    if !support::started_by_cargo_bench() {
        println!("forum benchmark: run it with `cargo bench --bench forum`");
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

use support::{in_process_get as send, in_process_request as request};

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn measure(
    label: &str,
    target: &str,
    router: &Router,
    uris: &[String],
    auth: Option<(&'static str, &str)>,
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
    let count = all.len();
    println!(
        "{label}: {count} requests over {} URLs ({bytes} bytes a round): {} (target p99 < {target})",
        uris.len(),
        support::Latencies::new(all).summary(),
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
    create_account(&ctx, account("rachel", "staff"))
        .await
        .map_err(|e| anyhow::anyhow!("staff: {e:?}"))?;
    let reader = create_account(&ctx, account("lea", "member"))
        .await
        .map_err(|e| anyhow::anyhow!("member: {e:?}"))?;
    let staff_token = culturecnous::service::tokens::create_token(&ctx, "rachel", "bench").await?;
    let reader_token = culturecnous::service::tokens::create_token(&ctx, "lea", "bench").await?;
    let session = culturecnous::service::sessions::open(&ctx, &reader, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("session: {e:?}"))?;
    let staff = ("authorization", format!("Bearer {staff_token}"));

    // The category, one thread and one reply through the API.
    let (status, body) = request(
        &router,
        Method::POST,
        "/api/v1/forum/categories",
        Some((staff.0, &staff.1)),
        Some(serde_json::json!({"name": "Matériel technique"})),
    )
    .await?;
    anyhow::ensure!(
        status == StatusCode::CREATED,
        "category: {status}: {body:?}"
    );
    let (status, body) = request(
        &router,
        Method::POST,
        "/api/v1/forum/categories/materiel-technique/threads",
        Some((staff.0, &staff.1)),
        Some(serde_json::json!({
            "title": "Qui prête une console son numérique ?",
            "body": "Pour un spectacle en **EHPAD** le 12 mars, il nous faudrait une console et deux retours.",
        })),
    )
    .await?;
    anyhow::ensure!(status == StatusCode::CREATED, "thread: {status}: {body:?}");
    let first: serde_json::Value = serde_json::from_slice(&body)?;
    let first_id = first["id"].as_i64().unwrap_or_default();
    let (status, body) = request(
        &router,
        Method::POST,
        &format!("/api/v1/forum/threads/{first_id}/replies"),
        Some((staff.0, &staff.1)),
        Some(serde_json::json!({"body": "Nous en avons une, une Yamaha TF1, à Épinal."})),
    )
    .await?;
    anyhow::ensure!(status == StatusCode::CREATED, "reply: {status}: {body:?}");

    let setup = Instant::now();
    let mut conn = ctx.conn().await?;
    let base = ctx.urls.base().to_string();
    let copies = THREADS - 1;
    // The threads, spread over the last 60 days.
    exec(
        &mut conn,
        &format!(
            "WITH made AS (
                 INSERT INTO posts (category, ap_id, author_actor_id, account_id, as_page, title,
                     slug, summary, body_markdown, body_html, hashtags, disciplines, commune,
                     draft, published_at, created_at, updated_at, local, mentions)
                 SELECT p.category, '{base}/forum/sujets/c' || g, p.author_actor_id, p.account_id,
                     false, p.title || ' ' || g, p.slug || '-' || g, p.summary, p.body_markdown,
                     p.body_html, p.hashtags, p.disciplines, p.commune, false,
                     now() - (g || ' minutes')::interval * 43, now(), now(), true, p.mentions
                 FROM posts p, generate_series(1, {copies}) g WHERE p.id = {first_id}
                 RETURNING id, published_at)
             INSERT INTO forum_threads (post_id, category_id, last_activity_at)
             SELECT made.id, t.category_id, made.published_at
             FROM made, forum_threads t WHERE t.post_id = {first_id}"
        ),
    )
    .await?;
    exec(&mut conn, "UPDATE posts SET ap_id = '{base}/forum/sujets/' || id WHERE ap_id LIKE '%/forum/sujets/c%'".replace("{base}", &base).as_str()).await?;
    // The replies: 500 under the first thread, the rest spread over the others.
    exec(
        &mut conn,
        "ALTER TABLE comments DISABLE TRIGGER forum_threads_replies",
    )
    .await?;
    let spread = REPLIES - LONG_THREAD_REPLIES;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO comments (ap_id, post_id, in_reply_to, author_actor_id, account_id,
                 body_markdown, body_html, published_at, updated_at, mentions)
             SELECT '{base}/comments/c' || g, {first_id}, c.in_reply_to, c.author_actor_id,
                 c.account_id, c.body_markdown || ' ' || g, c.body_html,
                 now() - (g || ' seconds')::interval, now(), c.mentions
             FROM comments c, generate_series(2, {LONG_THREAD_REPLIES}) g
             WHERE c.post_id = {first_id}"
        ),
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO comments (ap_id, post_id, in_reply_to, author_actor_id, account_id,
                 body_markdown, body_html, published_at, updated_at, mentions)
             SELECT '{base}/comments/s' || g, t.post_id, p.ap_id, c.author_actor_id,
                 c.account_id, c.body_markdown || ' ' || g, c.body_html,
                 p.published_at + (g % 600 || ' seconds')::interval, now(), c.mentions
             FROM generate_series(1, {spread}) g,
             (SELECT array_agg(post_id ORDER BY post_id) AS ids FROM forum_threads
              WHERE post_id <> {first_id}) a,
             LATERAL (SELECT a.ids[1 + g % {copies}] AS post_id) t
             JOIN posts p ON p.id = t.post_id,
             (SELECT * FROM comments WHERE post_id = {first_id} ORDER BY id LIMIT 1) c"
        ),
    )
    .await?;
    exec(
        &mut conn,
        "UPDATE comments SET ap_id = regexp_replace(ap_id, '/comments/[cs][0-9]+$', '/comments/' || id)
         WHERE ap_id ~ '/comments/[cs][0-9]+$'",
    )
    .await?;
    exec(
        &mut conn,
        "UPDATE forum_threads t SET reply_count = x.n, last_activity_at = greatest(t.last_activity_at, x.last)
         FROM (SELECT post_id, count(*) AS n, max(published_at) AS last FROM comments
               WHERE deleted_at IS NULL GROUP BY post_id) x
         WHERE x.post_id = t.post_id",
    )
    .await?;
    exec(
        &mut conn,
        "ALTER TABLE comments ENABLE TRIGGER forum_threads_replies",
    )
    .await?;
    // The member has read about half the threads.
    exec(
        &mut conn,
        &format!(
            "INSERT INTO forum_reads (account_id, post_id, read_at)
             SELECT {}, post_id, now() FROM forum_threads WHERE post_id % 2 = 0",
            reader.id
        ),
    )
    .await?;
    for table in ["posts", "comments", "forum_threads", "forum_reads"] {
        exec(&mut conn, &format!("ANALYZE {table}")).await?;
    }
    println!(
        "setup: {THREADS} threads and {REPLIES} replies in {}",
        ms(setup.elapsed())
    );
    explain(
        &mut conn,
        "the thread list, page 30",
        "SELECT t.post_id FROM forum_threads t JOIN posts p ON p.id = t.post_id
         WHERE t.category_id = 1 AND p.deleted_at IS NULL AND p.hidden_at IS NULL
         ORDER BY t.pinned_at IS NULL, t.last_activity_at DESC, t.post_id DESC
         LIMIT 30 OFFSET 870",
    )
    .await?;
    drop(conn);

    let slug = "materiel-technique";
    let lists: Vec<String> = ["", "?page=2", "?page=10", "?page=30", "?page=67"]
        .iter()
        .map(|q| format!("/forum/{slug}{q}"))
        .collect();
    let api_lists: Vec<String> = ["", "?page=5", "?page=40"]
        .iter()
        .map(|q| format!("/api/v1/forum/categories/{slug}/threads{q}"))
        .collect();
    let thread_page = format!(
        "/forum/sujets/{first_id}/{}",
        first["url"]
            .as_str()
            .and_then(|u| u.rsplit('/').next())
            .unwrap_or_default()
    );
    let threads: Vec<String> = vec![
        thread_page.clone(),
        format!("{thread_page}?page=3"),
        format!("{thread_page}?page=10"),
    ];
    let api_threads: Vec<String> = vec![
        format!("/api/v1/forum/threads/{first_id}"),
        format!("/api/v1/forum/threads/{first_id}?page=5"),
    ];
    let cookie = format!("session={}", session.token);
    let bearer = format!("Bearer {reader_token}");
    measure(
        "thread list (HTML, visitor)",
        "25 ms",
        &router,
        &lists,
        None,
    )
    .await?;
    measure(
        "thread list (HTML, member with read markers)",
        "25 ms",
        &router,
        &lists,
        Some(("cookie", &cookie)),
    )
    .await?;
    measure(
        "thread list (API, member)",
        "25 ms",
        &router,
        &api_lists,
        Some(("authorization", &bearer)),
    )
    .await?;
    measure(
        "thread of 500 replies (HTML, visitor)",
        "50 ms",
        &router,
        &threads,
        None,
    )
    .await?;
    measure(
        "thread of 500 replies (HTML, member)",
        "50 ms",
        &router,
        &threads,
        Some(("cookie", &cookie)),
    )
    .await?;
    measure(
        "thread of 500 replies (API, member)",
        "50 ms",
        &router,
        &api_threads,
        Some(("authorization", &bearer)),
    )
    .await?;
    Ok(())
}
