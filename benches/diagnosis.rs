//! The territorial diagnosis (issue 14) with 10 000 members, 2 000 venues, 1 000 offers and
//! 1 000 loans, 500 workspaces, 50 000 announcements, a forum of 1 000 threads and 5 000
//! replies, 800 listed entries, 2 000 remote followers on 100 servers and 20 000 deliveries,
//! all in the département 88: the public page `/diagnostic` and the staff dashboard
//! `/admin/diagnostic` under four filters, `GET /api/v1/stats` (public and staff), the whole
//! exports, and each figure function alone. Through the real router in process
//! (`culturecnous::app`, `tower::ServiceExt`) on the test database harness, release build.
//! Prints p50/p90/p99/max next to the targets (pages p99 < 200 ms, a whole export < 2 s).
//! Never fails on time.
//!
//! One object of each kind is made through the real path (accounts by the domain function,
//! venue, offer, loan, announcement and forum through the API, the workspace by its service);
//! the bulk are SQL copies of those rows ([`copy_rows`]: every column of the catalogue,
//! the unique and varying ones overridden), so a column added later is copied too. Listed
//! entries, remote followers, activities and deliveries have no API to make them: plain SQL,
//! as the integration tests do.
//!
//! Run: `cargo bench --bench diagnosis`.

mod support;

use axum::{Router, http::Method};
use chrono::{Datelike, Utc};
use culturecnous::{
    i18n::Lang,
    service::{
        accounts::{NewAccountInput, create_account},
        diagnosis::{Audience, Filters, figures, report},
        directory::{DirectoryKind, SUGGESTED_DISCIPLINES},
        publishing::AnnouncementKind,
        sharing::OfferCategory,
        workspaces::manage::{WorkspaceInput, create as create_workspace},
    },
    testing::TestDatabases,
};
use diesel::{QueryableByName, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::{Duration, Instant};

const MEMBERS: i64 = 10_000;
const VENUES: i64 = 2_000;
const OFFERS: i64 = 1_000;
const LOANS: i64 = 1_000;
const WORKSPACES: i64 = 500;
const ANNOUNCEMENTS: i64 = 50_000;
const THREADS: i64 = 1_000;
const REPLIES: i64 = 5_000;
const ENTRIES: i64 = 800;
const CLAIMED: i64 = 300;
const FOLLOWERS: i64 = 2_000;
const SERVERS: i64 = 100;
const ACTIVITIES: i64 = 2_000;
const DELIVERIES: i64 = 20_000;
/// Hours in three years: the span of creation dates.
const SPAN_HOURS: i64 = 3 * 365 * 24;
/// Requests per URL measured (after one warm-up round).
const ROUNDS: usize = 30;
/// Rounds of each whole export.
const EXPORT_ROUNDS: usize = 5;

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` must not run it.
    if !support::started_by_cargo_bench() {
        println!("diagnosis benchmark: run it with `cargo bench --bench diagnosis`");
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

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

async fn text(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<String> {
    let v: Value = diesel::sql_query(sql)
        .get_result(conn)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {sql}"))?;
    Ok(v.value)
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
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

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    default_value: String,
    #[diesel(sql_type = Text)]
    generated: String,
}

/// Copies the row of `table` matching `source` (a condition on `t`, the source row) once
/// for each `g` of `from..=to`. Every column of the catalogue is copied as it is, except
/// generated ones, keys filled by their default (a sequence, a random UUID), and those of
/// `overrides`: SQL expressions of `g`, of `t` and of the relations of `joins` (a clause
/// after `FROM table t, generate_series(from, to) g`). Returns the rows made.
async fn copy_rows(
    conn: &mut AsyncPgConnection,
    table: &str,
    source: &str,
    (from, to): (i64, i64),
    joins: &str,
    overrides: &[(&str, String)],
) -> anyhow::Result<usize> {
    let columns: Vec<ColumnRow> = diesel::sql_query(
        "SELECT column_name::text AS name, coalesce(column_default, '')::text AS default_value, \
         is_generated::text AS generated FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)
    .await?;
    for (name, _) in overrides {
        anyhow::ensure!(
            columns.iter().any(|c| c.name == *name),
            "{table} has no column {name}"
        );
    }
    let (mut names, mut values) = (Vec::new(), Vec::new());
    for c in &columns {
        let by_default =
            c.default_value.starts_with("nextval(") || c.default_value == "gen_random_uuid()";
        match overrides.iter().find(|(n, _)| *n == c.name) {
            Some((_, expression)) => values.push(expression.clone()),
            None if by_default || c.generated == "ALWAYS" => continue,
            None => values.push(format!("t.{}", c.name)),
        }
        names.push(c.name.clone());
    }
    exec(
        conn,
        &format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {table} t \
             CROSS JOIN generate_series({from}, {to}) g {joins} WHERE {source}",
            names.join(", "),
            values.join(", ")
        ),
    )
    .await
}

/// A SQL array literal of `items`.
fn array(items: &[&str]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    format!("ARRAY[{}]::text[]", quoted.join(", "))
}

/// One of `items`, picked by the integer expression `seed`.
fn pick(items: &[&str], seed: &str) -> String {
    format!("({})[1 + ({seed}) % {}]", array(items), items.len())
}

/// The directory kind of `seed`, spread evenly over the ten kinds.
fn kind_of(seed: &str) -> String {
    let kinds: Vec<&str> = DirectoryKind::ALL.iter().map(|k| k.as_str()).collect();
    pick(&kinds, seed)
}

/// One to three distinct suggested disciplines for `seed`.
fn disciplines_of(seed: &str) -> String {
    let n = SUGGESTED_DISCIPLINES.len();
    format!(
        "(SELECT array_agg(({})[1 + (({seed}) * 7 + i * 5) % {n}]) \
         FROM generate_series(0, ({seed}) % 3) i)",
        array(SUGGESTED_DISCIPLINES)
    )
}

/// A commune of the département for `seed`, the populous ones more often (needs the join
/// [`COMMUNES`]).
fn commune_of(seed: &str) -> String {
    format!(
        "cm.codes[1 + floor(array_length(cm.codes, 1) \
         * power(((({seed}) * 7919) % 10007) / 10007.0, 3))::int]"
    )
}

/// The communes of the département, the most populous first, as `cm.codes`.
const COMMUNES: &str = "CROSS JOIN (SELECT array_agg(code ORDER BY population DESC NULLS LAST, code) \
     AS codes FROM communes WHERE departement = '88') cm";

/// A moment of the last three years for `seed`.
fn moment_of(seed: &str) -> String {
    format!("now() - make_interval(hours => ((({seed}) * 7919) % {SPAN_HOURS})::int)")
}

/// Joins the member account `alias` picked by `seed` (members are `bm0` … `bm9999`).
fn member_join(alias: &str, seed: &str) -> String {
    format!("JOIN accounts {alias} ON lower({alias}.username) = 'bm' || (({seed}) % {MEMBERS})")
}

use support::{in_process_get as send, in_process_request as request};

/// `POST uri` with a JSON body as the bearer of `token`; the answer must be 200 or 201.
async fn post(
    router: &Router,
    uri: &str,
    token: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let bearer = format!("Bearer {token}");
    let (status, answer) = request(
        router,
        Method::POST,
        uri,
        Some(("authorization", &bearer)),
        Some(body),
    )
    .await?;
    anyhow::ensure!(
        status.is_success(),
        "{uri}: {status}: {}",
        String::from_utf8_lossy(&answer)
    );
    Ok(serde_json::from_slice(&answer)?)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn id_of(v: &serde_json::Value) -> anyhow::Result<i64> {
    v["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no id in {v}"))
}

/// Each of `uris` `ROUNDS` times (after a warm-up round): one line of percentiles per URL.
async fn measure(
    label: &str,
    router: &Router,
    uris: &[(&str, String)],
    auth: Option<(&'static str, &str)>,
) -> anyhow::Result<()> {
    for (what, uri) in uris {
        let bytes = send(router, uri, auth).await?;
        let mut all = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let start = Instant::now();
            send(router, uri, auth).await?;
            all.push(start.elapsed());
        }
        println!(
            "{label}, {what} ({bytes} bytes): {} (target p99 < 200 ms)",
            support::Latencies::new(all).summary()
        );
    }
    Ok(())
}

async fn run(dbs: &'static TestDatabases) -> anyhow::Result<()> {
    let (ctx, router) = support::in_process_app(dbs).await?;
    let base = ctx.urls.base().to_string();
    let setup = Instant::now();

    // Through the real paths: the staff member, two members, one venue, offer, loan,
    // workspace, announcement, forum thread and reply.
    let account = |name: &str, role: &str| NewAccountInput {
        username: name.into(),
        email: format!("{name}@example.org"),
        password: "un mot de passe solide".into(),
        kind: "structure".into(),
        role: role.into(),
        display_name: name.into(),
    };
    let staff = create_account(&ctx, account("rachel", "staff"))
        .await
        .map_err(|e| anyhow::anyhow!("staff: {e:?}"))?;
    let bm0 = create_account(&ctx, account("bm0", "member"))
        .await
        .map_err(|e| anyhow::anyhow!("member: {e:?}"))?;
    create_account(&ctx, account("bm1", "member"))
        .await
        .map_err(|e| anyhow::anyhow!("member: {e:?}"))?;
    let staff_token = culturecnous::service::tokens::create_token(&ctx, "rachel", "bench").await?;
    let t0 = culturecnous::service::tokens::create_token(&ctx, "bm0", "bench").await?;
    let t1 = culturecnous::service::tokens::create_token(&ctx, "bm1", "bench").await?;
    let session = culturecnous::service::sessions::open(&ctx, &staff, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("session: {e:?}"))?;

    let mut conn = ctx.conn().await?;
    // The directory fields of the two members (the profile form writes the same columns).
    for (name, g) in [("bm0", 0), ("bm1", 1)] {
        exec(
            &mut conn,
            &format!(
                "UPDATE accounts SET directory_kind = {}, disciplines = {}, \
                 commune_code = {}, email_confirmed_at = now() FROM (SELECT {g} AS g) s {COMMUNES} \
                 WHERE username = '{name}'",
                kind_of("s.g"),
                disciplines_of("s.g"),
                commune_of("s.g + 1"),
            ),
        )
        .await?;
    }

    let venue = post(
        &router,
        "/api/v1/venues",
        &t0,
        serde_json::json!({"name": "Salle des fêtes", "description": "Une grande salle",
            "address": "1 rue Haute", "commune": "Épinal", "capacity": 250,
            "disciplines": ["théâtre", "musique"]}),
    )
    .await?;
    let venue_id = id_of(&venue)?;
    let offer = post(
        &router,
        "/api/v1/offers",
        &t0,
        serde_json::json!({"title": "Console son numérique", "description": "En bon état",
            "category": "son", "terms": "gratuit", "commune": "Épinal"}),
    )
    .await?;
    let offer_id = id_of(&offer)?;
    let day = |n: i64| (Utc::now().date_naive() + chrono::Duration::days(n)).to_string();
    let loan = post(
        &router,
        &format!("/api/v1/offers/{offer_id}/requests"),
        &t1,
        serde_json::json!({"starts_on": day(5), "ends_on": day(7), "message": "Merci"}),
    )
    .await?;
    let loan_id = id_of(&loan)?;
    post(
        &router,
        &format!("/api/v1/loan-requests/{loan_id}/accept"),
        &t0,
        serde_json::json!({"answer": "Oui"}),
    )
    .await?;
    let workspace = create_workspace(
        &ctx,
        &bm0,
        WorkspaceInput {
            name: "Résidence d'hiver".into(),
            description: "Une résidence avec des ateliers".into(),
            disciplines: vec!["théâtre".into()],
            commune: "Épinal".into(),
            listed: true,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("workspace: {e:?}"))?;
    let announcement = post(
        &router,
        "/api/v1/announcements",
        &t0,
        serde_json::json!({"title": "Régisseur son recherché", "body": "Pour la saison.",
            "kind": "emploi", "disciplines": ["théâtre"], "commune": "Épinal"}),
    )
    .await?;
    let announcement_id = id_of(&announcement)?;
    let category = post(
        &router,
        "/api/v1/forum/categories",
        &staff_token,
        serde_json::json!({"name": "Entraide", "description": "Questions"}),
    )
    .await?;
    let slug = category["slug"].as_str().unwrap_or("entraide").to_string();
    let thread = post(
        &router,
        &format!("/api/v1/forum/categories/{slug}/threads"),
        &t0,
        serde_json::json!({"title": "Qui connaît un régisseur ?", "body": "Pour mars."}),
    )
    .await?;
    let thread_id = id_of(&thread)?;
    post(
        &router,
        &format!("/api/v1/forum/threads/{thread_id}/replies"),
        &t1,
        serde_json::json!({"body": "Moi, à Épinal."}),
    )
    .await?;

    // Members bm2 … bm9999: their actors, then their accounts.
    let members = (2, MEMBERS - 1);
    copy_rows(
        &mut conn,
        "actors",
        &format!("t.id = {}", bm0.actor_id),
        members,
        "",
        &[
            ("ap_id", "replace(t.ap_id, '/bm0', '/bm' || g)".into()),
            ("username", "'bm' || g".into()),
            ("name", "'Membre ' || g".into()),
            (
                "inbox_url",
                "replace(t.inbox_url, '/bm0', '/bm' || g)".into(),
            ),
            ("url", "replace(t.url, '/bm0', '/bm' || g)".into()),
            ("published", moment_of("g")),
        ],
    )
    .await?;
    copy_rows(
        &mut conn,
        "accounts",
        &format!("t.id = {}", bm0.id),
        members,
        &format!("JOIN actors x ON lower(x.username) = 'bm' || g AND x.local {COMMUNES}"),
        &[
            ("actor_id", "x.id".into()),
            ("username", "'bm' || g".into()),
            ("email", "'bm' || g || '@example.org'".into()),
            ("display_name", "'Membre ' || g".into()),
            ("directory_kind", kind_of("g")),
            ("disciplines", disciplines_of("g")),
            // One in twenty without a commune.
            (
                "commune_code",
                format!(
                    "CASE WHEN g % 20 = 7 THEN NULL ELSE {} END",
                    commune_of("g + 1")
                ),
            ),
            ("created_at", moment_of("g")),
            ("directory_hidden", "g % 20 = 3".into()),
            (
                "suspended_at",
                "CASE WHEN g % 100 = 11 THEN now() END".into(),
            ),
            ("email_confirmed_at", "now()".into()),
        ],
    )
    .await?;

    // Venues: their actors, then the rows, owned by members across the communes.
    let venue_actor = text(
        &mut conn,
        &format!("SELECT actor_id::text AS value FROM venues WHERE id = {venue_id}"),
    )
    .await?;
    copy_rows(
        &mut conn,
        "actors",
        &format!("t.id = {venue_actor}"),
        (1, VENUES - 1),
        "",
        &[
            ("ap_id", "t.ap_id || '-' || g".into()),
            ("username", "t.username || '-' || g".into()),
            ("inbox_url", "t.inbox_url || '-' || g".into()),
        ],
    )
    .await?;
    copy_rows(
        &mut conn,
        "venues",
        &format!("t.id = {venue_id}"),
        (1, VENUES - 1),
        &format!(
            "JOIN actors src ON src.id = t.actor_id JOIN actors x ON x.ap_id = src.ap_id || '-' || g \
             {} {COMMUNES}",
            member_join("a", "g * 37")
        ),
        &[
            ("actor_id", "x.id".into()),
            ("slug", "t.slug || '-' || g".into()),
            ("name", "'Salle ' || g".into()),
            ("owner_account_id", "a.id".into()),
            ("commune_code", commune_of("g * 3")),
            (
                "capacity",
                "CASE WHEN g % 6 = 0 THEN NULL ELSE 20 + (g * 37) % 780 END".into(),
            ),
            ("disciplines", disciplines_of("g")),
            ("created_at", moment_of("g * 5")),
        ],
    )
    .await?;

    // Offers across categories and communes, then one accepted loan of each.
    let categories: Vec<&str> = OfferCategory::ALL.iter().map(|c| c.as_str()).collect();
    copy_rows(
        &mut conn,
        "offers",
        &format!("t.id = {offer_id}"),
        (1, OFFERS - 1),
        &format!("{} {COMMUNES}", member_join("a", "g * 41")),
        &[
            ("account_id", "a.id".into()),
            ("venue_id", "NULL".into()),
            ("post_id", "NULL".into()),
            ("category", pick(&categories, "g")),
            ("title", "t.title || ' ' || g".into()),
            ("commune_code", commune_of("g * 11")),
            ("created_at", moment_of("g * 13")),
        ],
    )
    .await?;
    copy_rows(
        &mut conn,
        "loan_requests",
        &format!("t.id = {loan_id}"),
        (1, LOANS - 1),
        &format!(
            "JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM offers \
                   WHERE id <> {offer_id}) o ON o.rn = g {}",
            member_join("a", "g * 43")
        ),
        &[
            ("offer_id", "o.id".into()),
            ("requester_account_id", "a.id".into()),
            ("state", "'accepted'".into()),
            ("decided_at", moment_of("g * 17")),
            ("created_at", moment_of("g * 17")),
        ],
    )
    .await?;

    // Workspaces: 60 % listed, each with its creator as owner and 2 to 5 more partners.
    let ws = workspace.id;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO workspace_members (workspace_id, actor_id, role) \
             SELECT '{ws}', actor_id, 'member' FROM accounts WHERE username IN ('bm1', 'bm2')"
        ),
    )
    .await?;
    copy_rows(
        &mut conn,
        "actors",
        &format!("t.id = {}", workspace.actor_id),
        (1, WORKSPACES - 1),
        "",
        &[
            ("ap_id", "t.ap_id || '-' || g".into()),
            ("username", "t.username || '-' || g".into()),
            ("inbox_url", "t.inbox_url || '-' || g".into()),
        ],
    )
    .await?;
    copy_rows(
        &mut conn,
        "workspaces",
        &format!("t.id = '{ws}'"),
        (1, WORKSPACES - 1),
        &format!(
            "JOIN actors src ON src.id = t.actor_id JOIN actors x ON x.ap_id = src.ap_id || '-' || g \
             {} {COMMUNES}",
            member_join("a", "g * 47")
        ),
        &[
            ("actor_id", "x.id".into()),
            ("name", "'Projet ' || g".into()),
            ("listed", "g % 5 < 3".into()),
            ("disciplines", disciplines_of("g")),
            (
                "commune_code",
                format!("CASE WHEN g % 4 = 0 THEN NULL ELSE {} END", commune_of("g * 7")),
            ),
            ("created_by_account_id", "a.id".into()),
            ("created_at", moment_of("g * 19")),
        ],
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO workspace_members (workspace_id, actor_id, role, joined_at) \
             SELECT w.id, a.actor_id, 'owner', w.created_at FROM workspaces w \
             JOIN accounts a ON a.id = w.created_by_account_id WHERE w.id <> '{ws}'"
        ),
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO workspace_members (workspace_id, actor_id, role, joined_at) \
             SELECT w.id, a.actor_id, 'member', w.created_at \
             FROM (SELECT id, created_at, row_number() OVER (ORDER BY id) AS rn FROM workspaces \
                   WHERE id <> '{ws}') w \
             CROSS JOIN LATERAL generate_series(1, 2 + w.rn::int % 4) i {} \
             ON CONFLICT DO NOTHING",
            member_join("a", "w.rn * 53 + i * 211")
        ),
    )
    .await?;

    // Announcements over three years, of every kind, discipline and commune.
    let kinds: Vec<&str> = AnnouncementKind::ALL.iter().map(|k| k.as_str()).collect();
    copy_rows(
        &mut conn,
        "posts",
        &format!("t.id = {announcement_id}"),
        (1, ANNOUNCEMENTS - 1),
        &format!("{} {COMMUNES}", member_join("a", "g * 31")),
        &[
            ("ap_id", "t.ap_id || '-' || g".into()),
            ("author_actor_id", "a.actor_id".into()),
            ("account_id", "a.id".into()),
            ("title", "t.title || ' ' || g".into()),
            ("slug", "t.slug || '-' || g".into()),
            ("kind", pick(&kinds, "g")),
            ("disciplines", disciplines_of("g * 3")),
            (
                "commune_code",
                format!(
                    "CASE WHEN g % 10 = 0 THEN NULL ELSE {} END",
                    commune_of("g")
                ),
            ),
            ("published_at", moment_of("g")),
            ("created_at", moment_of("g")),
            ("updated_at", moment_of("g")),
        ],
    )
    .await?;

    // The forum: threads over three years, replies spread over them (the reply counter
    // trigger is off during the copy, the counters set once after it).
    copy_rows(
        &mut conn,
        "posts",
        &format!("t.id = {thread_id}"),
        (1, THREADS - 1),
        &member_join("a", "g * 59"),
        &[
            ("ap_id", "t.ap_id || '-' || g".into()),
            ("author_actor_id", "a.actor_id".into()),
            ("account_id", "a.id".into()),
            ("title", "t.title || ' ' || g".into()),
            ("slug", "t.slug || '-' || g".into()),
            ("published_at", moment_of("g * 23")),
            ("created_at", moment_of("g * 23")),
            ("updated_at", moment_of("g * 23")),
        ],
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO forum_threads (post_id, category_id, last_activity_at) \
             SELECT p.id, t.category_id, p.published_at FROM forum_threads t \
             JOIN posts src ON src.id = t.post_id \
             JOIN posts p ON p.ap_id LIKE src.ap_id || '-%' WHERE t.post_id = {thread_id}"
        ),
    )
    .await?;
    exec(
        &mut conn,
        "ALTER TABLE comments DISABLE TRIGGER forum_threads_replies",
    )
    .await?;
    copy_rows(
        &mut conn,
        "comments",
        &format!(
            "t.id = (SELECT min(id) FROM comments WHERE post_id = {thread_id})"
        ),
        (1, REPLIES - 1),
        &format!(
            "JOIN (SELECT post_id, row_number() OVER (ORDER BY post_id) AS rn FROM forum_threads) th \
               ON th.rn = 1 + g % {THREADS} \
             JOIN posts tp ON tp.id = th.post_id {}",
            member_join("a", "g * 61")
        ),
        &[
            ("ap_id", "t.ap_id || '-' || g".into()),
            ("post_id", "th.post_id".into()),
            ("in_reply_to", "tp.ap_id".into()),
            ("author_actor_id", "a.actor_id".into()),
            ("account_id", "a.id".into()),
            (
                "published_at",
                "tp.published_at + make_interval(mins => (g % 5000)::int)".into(),
            ),
            ("updated_at", "now()".into()),
        ],
    )
    .await?;
    exec(
        &mut conn,
        "UPDATE forum_threads t SET reply_count = x.n, \
             last_activity_at = greatest(t.last_activity_at, x.last) \
         FROM (SELECT post_id, count(*) AS n, max(published_at) AS last FROM comments \
               WHERE deleted_at IS NULL GROUP BY post_id) x WHERE x.post_id = t.post_id",
    )
    .await?;
    exec(
        &mut conn,
        "ALTER TABLE comments ENABLE TRIGGER forum_threads_replies",
    )
    .await?;

    // Entries the département listed, 300 of them claimed since.
    exec(
        &mut conn,
        &format!(
            "INSERT INTO directory_entries (name, kind, disciplines, commune_code, created_at, \
                 updated_at, claimed_at) \
             SELECT 'Structure ' || g, {}, {}, {}, {created}, now(), \
                 CASE WHEN g <= {CLAIMED} \
                      THEN {created} + make_interval(days => ((g * 13) % 360)::int) END \
             FROM generate_series(1, {ENTRIES}) g {COMMUNES}",
            kind_of("g"),
            disciplines_of("g"),
            commune_of("g * 5"),
            created = "now() - interval '3 years' + make_interval(days => ((g * 7) % 700)::int)",
        ),
    )
    .await?;

    // Followers on 100 servers, each following one to three members.
    copy_rows(
        &mut conn,
        "actors",
        &format!("t.id = {}", bm0.actor_id),
        (1, FOLLOWERS),
        "",
        &[
            (
                "ap_id",
                format!("'https://scene' || g % {SERVERS} || '.example/users/f' || g"),
            ),
            ("username", "'f' || g".into()),
            ("domain", format!("'scene' || g % {SERVERS} || '.example'")),
            ("local", "false".into()),
            (
                "inbox_url",
                format!("'https://scene' || g % {SERVERS} || '.example/users/f' || g || '/inbox'"),
            ),
            (
                "shared_inbox_url",
                format!("'https://scene' || g % {SERVERS} || '.example/inbox'"),
            ),
            ("url", "NULL".into()),
            ("private_key_pem", "NULL".into()),
            ("name", "'Abonné ' || g".into()),
        ],
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO follows (follower_id, followee_id, state, activity_ap_id, created_at, \
                 updated_at) \
             SELECT r.id, a.actor_id, 'accepted', r.ap_id || '/follows/' || i, {at}, {at} \
             FROM (SELECT id, ap_id, row_number() OVER (ORDER BY id) AS rn FROM actors \
                   WHERE NOT local AND domain LIKE 'scene%.example') r \
             CROSS JOIN LATERAL generate_series(0, r.rn::int % 3) i {} \
             ON CONFLICT DO NOTHING",
            member_join("a", "r.rn * 17 + i * 3001"),
            at = moment_of("r.rn * 29 + i"),
        ),
    )
    .await?;

    // Activities of members (nine in ten public), each delivered to ten servers.
    exec(
        &mut conn,
        &format!(
            "INSERT INTO activities (ap_id, kind, actor_id, object_ap_id, data, public, created_at) \
             SELECT '{base}/activities/b' || g, 'Create', a.actor_id, '{base}/objects/b' || g, \
                 '{{}}'::jsonb, g % 10 <> 0, {} \
             FROM generate_series(1, {ACTIVITIES}) g {}",
            moment_of("g * 31"),
            member_join("a", "g * 67"),
        ),
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO deliveries (activity_id, inbox_url, domain, attempts, next_attempt_at, \
                 created_at, delivered_at) \
             SELECT act.id, 'https://scene' || s.n || '.example/inbox', \
                 'scene' || s.n || '.example', 1, act.created_at, act.created_at, \
                 act.created_at + interval '2 seconds' \
             FROM generate_series(0, {DELIVERIES} - 1) g \
             CROSS JOIN LATERAL (SELECT (g / {ACTIVITIES} + g % {ACTIVITIES}) % {SERVERS} AS n) s \
             JOIN (SELECT id, created_at, row_number() OVER (ORDER BY id) AS rn FROM activities \
                   WHERE ap_id LIKE '{base}/activities/b%') act ON act.rn = 1 + g % {ACTIVITIES}"
        ),
    )
    .await?;

    for table in [
        "actors",
        "accounts",
        "venues",
        "offers",
        "loan_requests",
        "workspaces",
        "workspace_members",
        "posts",
        "comments",
        "forum_threads",
        "directory_entries",
        "follows",
        "activities",
        "deliveries",
    ] {
        exec(&mut conn, &format!("ANALYZE {table}")).await?;
    }
    let counts = text(
        &mut conn,
        "SELECT concat_ws(', ', \
           (SELECT count(*) FROM accounts WHERE role = 'member') || ' members', \
           (SELECT count(*) FROM venues) || ' venues', \
           (SELECT count(*) FROM offers) || ' offers', \
           (SELECT count(*) FROM loan_requests WHERE state = 'accepted') || ' loans', \
           (SELECT count(*) FROM workspaces) || ' workspaces', \
           (SELECT count(*) FROM workspace_members) || ' workspace members', \
           (SELECT count(*) FROM posts WHERE category = 'announcement') || ' announcements', \
           (SELECT count(*) FROM forum_threads) || ' threads', \
           (SELECT count(*) FROM comments) || ' replies', \
           (SELECT count(*) FROM directory_entries) || ' listed entries', \
           (SELECT count(*) FROM follows) || ' follows', \
           (SELECT count(*) FROM deliveries) || ' deliveries') AS value",
    )
    .await?;
    println!("setup in {}: {counts}", ms(setup.elapsed()));

    // The EPCI with the most members, for the EPCI filter.
    let epci = text(
        &mut conn,
        "SELECT c.epci_code AS value FROM accounts a JOIN communes c ON c.code = a.commune_code \
         WHERE c.epci_code IS NOT NULL GROUP BY c.epci_code ORDER BY count(*) DESC LIMIT 1",
    )
    .await?;

    // Each figure alone, staff, no filter (the second call: the first warms the caches).
    let f = Filters::default();
    let staff_audience = Audience::Staff;
    macro_rules! alone {
        ($name:literal, $call:expr) => {{
            $call
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e:?}", $name))?;
            let start = Instant::now();
            $call
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e:?}", $name))?;
            println!("figure {}: {}", $name, ms(start.elapsed()));
        }};
    }
    alone!(
        "members_by_kind",
        figures::members_by_kind(&mut conn, &f, staff_audience)
    );
    alone!(
        "members_by_discipline",
        figures::members_by_discipline(&mut conn, &f, staff_audience)
    );
    alone!(
        "members_by_epci",
        figures::members_by_epci(&mut conn, &f, staff_audience)
    );
    alone!(
        "members_by_commune",
        figures::members_by_commune(&mut conn, &f, staff_audience)
    );
    alone!(
        "venues_by_epci",
        figures::venues_by_epci(&mut conn, &f, staff_audience)
    );
    alone!("sharing", figures::sharing(&mut conn, &f, staff_audience));
    alone!(
        "workspaces",
        figures::workspaces(&mut conn, &f, staff_audience)
    );
    alone!(
        "announcements_by_month",
        figures::announcements_by_month(&mut conn, &f, staff_audience)
    );
    alone!(
        "forum_by_month",
        figures::forum_by_month(&mut conn, &f, staff_audience)
    );
    alone!("claim_rate", figures::claim_rate(&mut conn, &f));
    alone!("reach", figures::reach(&mut conn, &f, staff_audience));
    let today = Utc::now().date_naive();
    let months: Vec<String> = (0..36)
        .rev()
        .filter_map(|back| today.checked_sub_months(chrono::Months::new(back)))
        .map(|d| d.format("%Y-%m").to_string())
        .collect();
    alone!(
        "claim_history",
        figures::claim_history(&mut conn, &f, &months)
    );
    alone!(
        "report::build (staff)",
        report::build(&ctx, &f, Audience::Staff, Lang::Fr)
    );
    alone!(
        "report::build (public)",
        report::build(&ctx, &f, Audience::Public, Lang::Fr)
    );
    // The plans of the slowest figures (their statements as `figures` writes them, staff,
    // no filter).
    explain(
        &mut conn,
        "members_by_discipline",
        "WITH m AS (SELECT a.id, a.disciplines FROM accounts a WHERE TRUE), \
         d AS (SELECT DISTINCT m.id, x AS spelling FROM m, unnest(m.disciplines) x), \
         s AS MATERIALIZED (SELECT u.spelling, cc_search_name(u.spelling) AS code \
               FROM (SELECT DISTINCT spelling FROM d) u) \
         SELECT s.code, mode() WITHIN GROUP (ORDER BY d.spelling) AS label, \
                count(DISTINCT d.id) AS count, (SELECT count(*) FROM m) AS total \
         FROM d JOIN s ON s.spelling = d.spelling GROUP BY s.code",
    )
    .await?;
    explain(
        &mut conn,
        "members_by_epci",
        "WITH m AS (SELECT a.commune_code FROM accounts a WHERE TRUE) \
         SELECT coalesce(e.code, 'unknown') AS code, coalesce(e.name, '') AS label, \
                g.count, ep.population, sum(g.count) OVER ()::bigint AS total \
         FROM (SELECT c.epci_code, count(*) AS count FROM m \
               LEFT JOIN communes c ON c.code = m.commune_code GROUP BY c.epci_code) g \
         LEFT JOIN epcis e ON e.code = g.epci_code \
         LEFT JOIN LATERAL (SELECT sum(pc_.population)::bigint AS population FROM communes pc_ \
                            WHERE pc_.epci_code = e.code) ep ON e.code IS NOT NULL",
    )
    .await?;
    drop(conn);

    // The pages, under four filters.
    let year = today.year() - 1;
    let filters: Vec<(&'static str, String)> = vec![
        ("no filter", String::new()),
        ("a year", format!("?period=year&from={year}")),
        (
            "a quarter and a kind",
            format!("?period=quarter&from={year}-Q2&kind=compagnie"),
        ),
        (
            "an EPCI and a discipline",
            format!("?epci={epci}&discipline=th%C3%A9%C3%A2tre"),
        ),
    ];
    let with = |path: &str| -> Vec<(&'static str, String)> {
        filters
            .iter()
            .map(|(what, q)| (*what, format!("{path}{q}")))
            .collect()
    };
    let cookie = format!("session={}", session.token);
    let bearer = format!("Bearer {staff_token}");
    measure("/diagnostic (visitor)", &router, &with("/diagnostic"), None).await?;
    measure(
        "/admin/diagnostic (staff)",
        &router,
        &with("/admin/diagnostic"),
        Some(("cookie", &cookie)),
    )
    .await?;
    let stats = vec![("no filter", "/api/v1/stats".to_string())];
    measure("GET /api/v1/stats (public)", &router, &stats, None).await?;
    measure(
        "GET /api/v1/stats (staff token)",
        &router,
        &stats,
        Some(("authorization", &bearer)),
    )
    .await?;

    // The whole exports.
    for (path, auth) in [
        ("/diagnostic/export.csv", None),
        ("/diagnostic/export.json", None),
        (
            "/admin/diagnostic/export.csv",
            Some(("cookie", cookie.as_str())),
        ),
    ] {
        let bytes = send(&router, path, auth).await?;
        let mut all = Vec::with_capacity(EXPORT_ROUNDS);
        for _ in 0..EXPORT_ROUNDS {
            let start = Instant::now();
            send(&router, path, auth).await?;
            all.push(start.elapsed());
        }
        println!(
            "{path} ({bytes} bytes), {EXPORT_ROUNDS} rounds: {} (target < 2 s)",
            support::Latencies::new(all).summary()
        );
    }
    println!("1-minute load average: {}", support::load_average());
    Ok(())
}
