//! Notification benchmarks (issue 9). They print figures and never fail on time.
//!
//! 1. Alerts: 10 000 members, of whom 2 000 hold an alert matching the announcement (instant
//!    mail) and 4 000 hold one that does not; one announcement is published through the real
//!    domain function (`service::publishing::create`). Printed: the time of the whole
//!    publication (its transaction records every notification and queues every mail), the
//!    notifications and mails written. Target: under 1 s.
//! 2. Daily digest: 10 000 members with 3 pending daily items each; `run_digest` builds and
//!    queues one mail per member. Printed: the build time, mails and items. Target: under
//!    30 s.
//!
//! Members are inserted with SQL copies of one account made the normal way (hashing 10 000
//! passwords would measure argon2, not notifications).
//!
//! Run: `cargo bench --bench notifications` (uses the test database harness: a throwaway
//! PostgreSQL cluster, or `TEST_DATABASE_URL`).

use culturecnous::{
    context::AppContext,
    db, federation,
    service::{
        accounts::{NewAccountInput, create_account},
        digest::{Period, run_digest},
        publishing::{self, Category, PostInput},
    },
    testing::TestDatabases,
};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Instant;

const MEMBERS: i64 = 10_000;
const MATCHING: i64 = 2_000;
const NOT_MATCHING: i64 = 4_000;
const DIGEST_ITEMS: i64 = 3;

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` must not run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("notifications benchmark: run it with `cargo bench --bench notifications`");
        return Ok(());
    }
    let dbs = TestDatabases::get();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(dbs))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn).await?.n)
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<usize> {
    Ok(diesel::sql_query(sql).execute(conn).await?)
}

async fn run(dbs: &'static TestDatabases) -> anyhow::Result<()> {
    let mut config = dbs.config(8080).await;
    config.database.pool_size = 8;
    std::fs::create_dir_all(config.storage.data_dir.join("media"))?;
    let pool = db::pool::build_pool(&config.database.url, config.database.pool_size)?;
    let ctx = AppContext::new(config, pool);
    culturecnous::service::instance_url::check_or_record(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("instance identity: {e:?}"))?;
    culturecnous::service::actors::ensure_system_actors(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("system actors: {e:?}"))?;
    let federation = federation::build_config(&ctx).await?;
    let data = federation.to_request_data();

    let account = |name: &str| NewAccountInput {
        username: name.into(),
        email: format!("{name}@example.org"),
        password: "un mot de passe solide".into(),
        kind: "individual".into(),
        role: "member".into(),
        display_name: name.into(),
    };
    let author = create_account(&ctx, account("autrice"))
        .await
        .map_err(|e| anyhow::anyhow!("author: {e:?}"))?;
    create_account(&ctx, account("modele"))
        .await
        .map_err(|e| anyhow::anyhow!("template: {e:?}"))?;

    let mut conn = ctx.conn().await?;
    let setup = Instant::now();
    exec(
        &mut conn,
        &format!(
            "INSERT INTO actors (ap_id, kind, username, domain, local, name, summary_html, url,
                 inbox_url, shared_inbox_url, outbox_url, followers_url, following_url,
                 public_key_pem, private_key_pem, manually_approves_followers, discoverable)
             SELECT replace(t.ap_id, 'modele', 'membre' || g), t.kind, 'membre' || g, t.domain, true,
                 'Membre ' || g, '', replace(t.url, 'modele', 'membre' || g),
                 replace(t.inbox_url, 'modele', 'membre' || g), t.shared_inbox_url,
                 replace(t.outbox_url, 'modele', 'membre' || g),
                 replace(t.followers_url, 'modele', 'membre' || g),
                 replace(t.following_url, 'modele', 'membre' || g),
                 t.public_key_pem, t.private_key_pem, false, true
             FROM actors t, generate_series(1, {MEMBERS}) g
             WHERE t.local AND t.username = 'modele'"
        ),
    )
    .await?;
    exec(
        &mut conn,
        "INSERT INTO accounts (actor_id, username, email, password_hash, display_name,
             email_confirmed_at)
         SELECT a.id, a.username, a.username || '@example.org', t.password_hash, a.name, now()
         FROM actors a, accounts t
         WHERE a.local AND a.username ~ '^membre[0-9]+$' AND t.username = 'modele'",
    )
    .await?;
    // 2 000 matching alerts (a residence in dance, in Épinal, mailed at once), 4 000 that do
    // not match (another kind, another commune, another discipline).
    exec(
        &mut conn,
        &format!(
            "INSERT INTO alerts (account_id, kind, disciplines, commune, mail)
             SELECT id, 'residence', '{{danse}}', '88160', 'instant' FROM accounts
             WHERE username ~ '^membre[0-9]+$' AND substr(username, 7)::int <= {MATCHING}"
        ),
    )
    .await?;
    exec(
        &mut conn,
        &format!(
            "INSERT INTO alerts (account_id, kind, disciplines, commune, mail)
             SELECT id,
                 CASE g % 3 WHEN 0 THEN 'emploi' ELSE 'residence' END,
                 CASE g % 3 WHEN 1 THEN '{{cirque}}'::text[] ELSE '{{}}'::text[] END,
                 CASE g % 3 WHEN 2 THEN '88413' ELSE NULL END,
                 'daily'
             FROM accounts, LATERAL (SELECT substr(username, 7)::int AS g) s
             WHERE username ~ '^membre[0-9]+$' AND g > {MATCHING} AND g <= {}",
            MATCHING + NOT_MATCHING
        ),
    )
    .await?;
    exec(&mut conn, "ANALYZE").await?;
    println!(
        "setup: {} members, {} alerts in {:.1?}",
        count(&mut conn, "SELECT count(*) AS n FROM accounts").await?,
        count(&mut conn, "SELECT count(*) AS n FROM alerts").await?,
        setup.elapsed()
    );

    // 1. One announcement.
    let started = Instant::now();
    let post = publishing::create(
        &data,
        &author,
        Category::Announcement,
        PostInput {
            title: "Résidence de création chorégraphique".into(),
            body: "Deux semaines au studio, hébergement compris.".into(),
            kind: "residence".into(),
            disciplines: vec!["Danse".into(), "Théâtre".into()],
            commune: "Épinal".into(),
            ..PostInput::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("publish: {e:?}"))?;
    let publish_time = started.elapsed();
    let notified = count(
        &mut conn,
        &format!(
            "SELECT count(*) AS n FROM notifications WHERE post_id = {}",
            post.id
        ),
    )
    .await?;
    let mails = count(&mut conn, "SELECT count(*) AS n FROM mails").await?;
    println!(
        "publish one announcement, {MATCHING} matching alerts of {MEMBERS} members: \
         {publish_time:.1?} (target < 1 s) — {notified} notifications, {mails} mails queued"
    );

    // 2. The daily digest.
    exec(
        &mut conn,
        &format!(
            "INSERT INTO notifications (account_id, kind, post_id, delivery)
             SELECT a.id, 'announcement', {}, 'daily'
             FROM accounts a, generate_series(1, {DIGEST_ITEMS})
             WHERE a.username ~ '^membre[0-9]+$'",
            post.id
        ),
    )
    .await?;
    exec(&mut conn, "ANALYZE notifications").await?;
    drop(conn);
    let started = Instant::now();
    let outcome = run_digest(&ctx, Period::Daily, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("digest: {e:?}"))?;
    let digest_time = started.elapsed();
    println!(
        "daily digest for {MEMBERS} members ({DIGEST_ITEMS} items each): {digest_time:.1?} \
         (target < 30 s) — {outcome:?}"
    );
    Ok(())
}
