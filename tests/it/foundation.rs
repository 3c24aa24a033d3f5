//! The skeleton: home page, security headers, error formats.

use crate::common::TestApp;
use axum::http::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn home_page_is_french_by_default_with_security_headers() {
    let app = TestApp::new().await;
    let r = app.get_html("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(r#"<html lang="fr">"#), "{}", r.body);
    assert!(r.body.contains("acteurs culturels"), "{}", r.body);
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("referrer-policy").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_page_is_404_html_for_browsers_and_problem_json_otherwise() {
    let app = TestApp::new().await;
    let r = app.get("/api/v1/nothing-here", "application/json").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get_html("/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn stylesheet_is_cached() {
    let app = TestApp::new().await;
    let r = app.get("/assets/style.css", "text/css").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("cache-control").unwrap_or("").contains("max-age"));
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/css")
    );
}

/// Every migration can be reverted: down all the way to an empty schema, then up again.
#[tokio::test(flavor = "multi_thread")]
async fn migrations_revert_to_nothing_and_apply_again() {
    use culturecnous::{db::pool, testing::TestDatabases};
    use diesel_async::{AsyncMigrationHarness, RunQueryDsl};
    use diesel_migrations::MigrationHarness;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let app_tables = async |p: &pool::DbPool| -> i64 {
        let mut conn = p.get().await.expect("conn");
        diesel::sql_query(
            "SELECT count(*) AS n FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .get_result::<Count>(&mut conn)
        .await
        .expect("count tables")
        .n
    };

    let url = TestDatabases::get().fresh_database().await;
    let p = pool::build_pool(&url, 2).expect("pool");
    let migrated = app_tables(&p).await;
    assert!(
        migrated >= 10,
        "a migrated database has its tables: {migrated}"
    );

    let conn = p.get().await.expect("conn");
    let reverted = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        harness
            .revert_all_migrations(pool::MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| e.to_string())
    })
    .await
    .expect("join")
    .expect("every down.sql runs");
    assert!(reverted >= 10, "reverted {reverted} migrations");
    assert_eq!(app_tables(&p).await, 0, "down.sql leaves no table behind");

    let applied = pool::run_migrations(&p).await.expect("up again");
    assert_eq!(applied, reverted, "every migration applies again");
    assert_eq!(app_tables(&p).await, migrated);
}
