//! Blocked domains: `reject` cuts the domain off both ways, `silence` keeps its accounts out of
//! public lists. Read through `service::domain_blocks`, which caches them for the inbox and the
//! outbound client.

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
    /// The moderators' private note.
    pub reason: String,
    pub created_at: DateTime<Utc>,
    /// What may be shown publicly about the block.
    pub public_comment: String,
    /// Reports from the domain are refused.
    pub reject_reports: bool,
}

/// A block as written.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = domain_blocks)]
pub struct NewDomainBlock<'a> {
    /// Already normalised (lower case).
    pub domain: &'a str,
    pub severity: &'a str,
    pub reason: &'a str,
    pub public_comment: &'a str,
    pub reject_reports: bool,
}

/// Blocks a domain, or changes its block.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    new: &NewDomainBlock<'_>,
) -> QueryResult<DbDomainBlock> {
    diesel::insert_into(domain_blocks::table)
        .values(new)
        .on_conflict(domain_blocks::domain)
        .do_update()
        .set(new)
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

/// Lifts the block and returns it; `None` when there was none.
pub async fn delete_returning(
    conn: &mut AsyncPgConnection,
    domain: &str,
) -> QueryResult<Option<DbDomainBlock>> {
    diesel::delete(domain_blocks::table.find(domain))
        .returning(DbDomainBlock::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The block on exactly `domain` (already normalised).
pub async fn find(
    conn: &mut AsyncPgConnection,
    domain: &str,
) -> QueryResult<Option<DbDomainBlock>> {
    domain_blocks::table
        .find(domain)
        .select(DbDomainBlock::as_select())
        .first(conn)
        .await
        .optional()
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

/// SQL condition: the `host[:port]` value of `column` is under a block of `severity` (the
/// entry itself, its bare host, or a parent domain of it — the rule of
/// `service::domain_blocks::candidates`). `column` is a trusted column name, never input.
pub fn covered_sql(column: &str, severity: &str) -> String {
    debug_assert!(severity == SILENCE || severity == REJECT);
    covered_by(column, &format!("db_.severity = '{severity}' AND "))
}

/// SQL condition: the `host[:port]` value of `column` is under a block of either severity.
pub fn covered_by_any_sql(column: &str) -> String {
    covered_by(column, "")
}

fn covered_by(column: &str, severity_condition: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM domain_blocks db_ WHERE {severity_condition}\
           (db_.domain = lower({column}) \
                OR db_.domain = split_part(lower({column}), ':', 1) \
                OR split_part(lower({column}), ':', 1) LIKE '%.' || db_.domain))"
    )
}

/// Deliveries not yet made to `domain` (and its subdomains, every port for a bare host):
/// dropped, never sent.
pub async fn drop_pending_deliveries(
    conn: &mut AsyncPgConnection,
    domain: &str,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM deliveries d \
         WHERE d.delivered_at IS NULL AND d.failed_at IS NULL \
           AND (lower(d.domain) = $1 OR split_part(lower(d.domain), ':', 1) = $1 \
                OR split_part(lower(d.domain), ':', 1) LIKE '%.' || $1)",
    )
    .bind::<diesel::sql_types::Text, _>(domain)
    .execute(conn)
    .await
}

/// Follows in either direction between our accounts and the accounts of `domain` (and its
/// subdomains): removed.
pub async fn drop_follows(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM follows f USING actors a \
         WHERE (a.id = f.follower_id OR a.id = f.followee_id) AND NOT a.local \
           AND (lower(a.domain) = $1 OR split_part(lower(a.domain), ':', 1) = $1 \
                OR split_part(lower(a.domain), ':', 1) LIKE '%.' || $1)",
    )
    .bind::<diesel::sql_types::Text, _>(domain)
    .execute(conn)
    .await
}

/// The SQL condition of [`drop_pending_deliveries`] and [`drop_follows`] on `column`, `$1`
/// being the domain.
const UNDER_DOMAIN: &str = "(lower({c}) = $1 OR split_part(lower({c}), ':', 1) = $1 \
     OR split_part(lower({c}), ':', 1) LIKE '%.' || $1)";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many deliveries [`drop_pending_deliveries`] would drop now.
pub async fn count_pending_deliveries(
    conn: &mut AsyncPgConnection,
    domain: &str,
) -> QueryResult<i64> {
    let sql = format!(
        "SELECT count(*) AS n FROM deliveries d \
         WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND {}",
        UNDER_DOMAIN.replace("{c}", "d.domain")
    );
    let row: Count = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(domain)
        .get_result(conn)
        .await?;
    Ok(row.n)
}

/// How many follows [`drop_follows`] would remove now.
pub async fn count_follows(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<i64> {
    let sql = format!(
        "SELECT count(DISTINCT f.id) AS n FROM follows f JOIN actors a \
           ON (a.id = f.follower_id OR a.id = f.followee_id) \
         WHERE NOT a.local AND {}",
        UNDER_DOMAIN.replace("{c}", "a.domain")
    );
    let row: Count = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(domain)
        .get_result(conn)
        .await?;
    Ok(row.n)
}
