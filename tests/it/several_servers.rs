//! Several `serve` processes on one database (nodes behind a load balancer) start together:
//! the migrations they all run at start must not collide.

use culturecnous::{db::pool, testing::TestDatabases};

#[tokio::test(flavor = "multi_thread")]
async fn servers_starting_together_apply_the_migrations_once() {
    let dbs = TestDatabases::get();
    let name = format!("several_servers_{}", std::process::id());
    let (admin, connection) = tokio_postgres::connect(&dbs.url("postgres"), tokio_postgres::NoTls)
        .await
        .expect("connect to the maintenance database");
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create an empty database");
    let url = dbs.url(&name);
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("up.sql").exists())
        .count();

    // One pool per "server", each migrating on its own thread at the same time.
    let nodes: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool::build_pool(&url, 2).expect("pool");
            tokio::spawn(async move { pool::run_migrations(&pool).await })
        })
        .collect();
    let mut applied = Vec::new();
    for node in nodes {
        applied.push(
            node.await
                .expect("join")
                .unwrap_or_else(|e| panic!("a server failed to migrate: {e:#}")),
        );
    }
    applied.sort_unstable();
    assert_eq!(
        applied,
        vec![0, 0, migrations],
        "one server applies every migration, the others find none pending"
    );
}
