//! Blocked domains: `reject` refuses every activity from the domain, `silence` keeps its posts
//! and replies out. Read through `service::domain_blocks`, which caches them for the inbox.

use super::schema::domain_blocks;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const SILENCE: &str = "silence";
pub const REJECT: &str = "reject";

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = domain_blocks)]
pub struct DbDomainBlock {
    pub domain: String,
    pub severity: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// Blocks `domain` (already normalised: lower case), or changes the block's severity.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    domain: &str,
    severity: &str,
    reason: &str,
) -> QueryResult<DbDomainBlock> {
    diesel::insert_into(domain_blocks::table)
        .values((
            domain_blocks::domain.eq(domain),
            domain_blocks::severity.eq(severity),
            domain_blocks::reason.eq(reason),
        ))
        .on_conflict(domain_blocks::domain)
        .do_update()
        .set((
            domain_blocks::severity.eq(severity),
            domain_blocks::reason.eq(reason),
        ))
        .returning(DbDomainBlock::as_returning())
        .get_result(conn)
        .await
}

/// Lifts the block; `true` when there was one.
pub async fn delete(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<bool> {
    let n = diesel::delete(domain_blocks::table.find(domain))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The blocks that apply to any of `domains` (a host, its `host:port`, its parent domains).
pub async fn matching(
    conn: &mut AsyncPgConnection,
    domains: &[String],
) -> QueryResult<Vec<DbDomainBlock>> {
    domain_blocks::table
        .filter(domain_blocks::domain.eq_any(domains))
        .select(DbDomainBlock::as_select())
        .load(conn)
        .await
}

/// Every block, sorted by domain.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DbDomainBlock>> {
    domain_blocks::table
        .order(domain_blocks::domain)
        .select(DbDomainBlock::as_select())
        .load(conn)
        .await
}
