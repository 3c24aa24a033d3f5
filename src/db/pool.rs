//! Connection pool and migrations.

use diesel_async::{
    AsyncMigrationHarness, AsyncPgConnection,
    pooled_connection::{
        AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
        deadpool::{Object, Pool},
    },
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<AsyncPgConnection>;
pub type PooledConn = Object<AsyncPgConnection>;

/// Builds a pool; connections are opened lazily, and a broken one (e.g. after a database
/// restart) is dropped and replaced on the next checkout.
///
/// Checkouts are not verified with a `SELECT 1` (diesel-async's default): an inbox request
/// checks out three or four connections, and the extra round trips cost as much database CPU
/// as the queries themselves (B-1 bench). A connection the server closed is still detected
/// without a query (its socket is closed), and one that fails mid-query becomes a 503 the
/// client retries.
pub fn build_pool(url: &str, size: u32) -> anyhow::Result<DbPool> {
    let mut manager_config = ManagerConfig::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, manager_config);
    let pool = Pool::builder(manager)
        .max_size(usize::try_from(size).unwrap_or(16))
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?;
    Ok(pool)
}

/// Applies pending migrations; returns how many ran. Needs the multi-threaded runtime.
///
/// Several `serve` processes may start at once on one database (several nodes behind a load
/// balancer): a session-level advisory lock makes them take turns, so one applies the
/// migrations and the others then find nothing pending.
pub async fn run_migrations(pool: &DbPool) -> anyhow::Result<usize> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await?;
    diesel::sql_query(MIGRATION_LOCK_SQL)
        .execute(&mut conn)
        .await
        .map_err(|e| anyhow::anyhow!("taking the migration lock: {e}"))?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = harness
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.len())
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
    let mut conn = harness.into_inner();
    // Reference data is loaded under the same lock, once the tables exist.
    let applied = match applied {
        Ok(n) => match super::reference::sync(&mut conn).await {
            Ok(_) => super::reference::backfill_commune_codes(&mut conn)
                .await
                .map(|_| n)
                .map_err(|e| anyhow::anyhow!("matching the communes typed before: {e}")),
            Err(e) => Err(anyhow::anyhow!("loading the communes: {e}")),
        },
        Err(e) => Err(e),
    };
    let unlocked = diesel::sql_query(MIGRATION_UNLOCK_SQL)
        .execute(&mut conn)
        .await;
    if unlocked.is_err() {
        // A session that cannot unlock must not go back to the pool holding the lock.
        let _ = Object::take(conn);
    }
    applied
}

/// An arbitrary key that names "applying cultureCnous migrations" among advisory locks.
const MIGRATION_LOCK_SQL: &str = "SELECT pg_advisory_lock(7157480210561043)";
const MIGRATION_UNLOCK_SQL: &str = "SELECT pg_advisory_unlock(7157480210561043)";
