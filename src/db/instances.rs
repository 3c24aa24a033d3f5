//! Health of each remote host we deliver to: failure streaks, unreachable marks, and the
//! `Retry-After` pauses they asked for.

use super::schema::{deliveries, instances};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = instances)]
pub struct DbInstance {
    pub domain: String,
    pub first_failure_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub unreachable_since: Option<DateTime<Utc>>,
    pub retry_after_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub async fn get(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<Option<DbInstance>> {
    instances::table
        .find(domain)
        .select(DbInstance::as_select())
        .first(conn)
        .await
        .optional()
}

/// The host answered (or sent us something): its failure streak ends, and if it was marked
/// unreachable, the deliveries that waited for it become due now. Writes nothing when the
/// host was already healthy, so calling it for every inbound activity is cheap.
/// Returns whether the host was unreachable.
pub async fn mark_alive(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<bool> {
    let revived: Option<Option<DateTime<Utc>>> = diesel::sql_query(
        "WITH old AS (SELECT domain, unreachable_since FROM instances \
                      WHERE domain = $1 \
                        AND (first_failure_at IS NOT NULL OR unreachable_since IS NOT NULL) \
                      FOR UPDATE) \
         UPDATE instances SET first_failure_at = NULL, unreachable_since = NULL, \
           last_success_at = now() \
         FROM old WHERE instances.domain = old.domain \
         RETURNING old.unreachable_since AS was",
    )
    .bind::<Text, _>(domain)
    .get_result::<WasUnreachable>(conn)
    .await
    .optional()?
    .map(|row| row.was);
    let was_unreachable = matches!(revived, Some(Some(_)));
    if was_unreachable {
        make_domain_due(conn, domain).await?;
    }
    Ok(was_unreachable)
}

#[derive(QueryableByName)]
struct WasUnreachable {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    was: Option<DateTime<Utc>>,
}

/// Pending deliveries to `domain` that nobody holds are made due now.
async fn make_domain_due(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<usize> {
    diesel::update(
        deliveries::table
            .filter(deliveries::domain.eq(domain))
            .filter(deliveries::delivered_at.is_null())
            .filter(deliveries::failed_at.is_null())
            .filter(deliveries::claimed_at.is_null()),
    )
    .set(deliveries::next_attempt_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// Records that each of `domains` answered a delivery. Rows are written in domain order, so
/// two workers recording at once wait for each other instead of deadlocking.
pub async fn record_successes(conn: &mut AsyncPgConnection, domains: &[String]) -> QueryResult<()> {
    if domains.is_empty() {
        return Ok(());
    }
    let revived: Vec<DomainRow> = diesel::sql_query(
        "SELECT domain FROM instances WHERE domain = ANY($1) AND unreachable_since IS NOT NULL",
    )
    .bind::<Array<Text>, _>(domains)
    .load(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO instances (domain, last_success_at) \
         SELECT d, now() FROM unnest($1::text[]) d ORDER BY d \
         ON CONFLICT (domain) DO UPDATE SET last_success_at = now(), \
         first_failure_at = NULL, unreachable_since = NULL",
    )
    .bind::<Array<Text>, _>(domains)
    .execute(conn)
    .await?;
    for row in revived {
        make_domain_due(conn, &row.domain).await?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct DomainRow {
    #[diesel(sql_type = Text)]
    domain: String,
}

/// Records a failed delivery (no answer, 5xx, 408). A host whose failure streak is older
/// than `unreachable_after_ms` is marked unreachable. Returns whether it is now unreachable.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    domain: &str,
    error: &str,
    unreachable_after_ms: i64,
) -> QueryResult<bool> {
    let row: Unreachable = diesel::sql_query(
        "INSERT INTO instances (domain, first_failure_at, last_failure_at, last_error) \
         VALUES ($1, now(), now(), $2) \
         ON CONFLICT (domain) DO UPDATE SET \
           first_failure_at = COALESCE(instances.first_failure_at, now()), \
           last_failure_at = now(), \
           last_error = $2, \
           unreachable_since = CASE \
             WHEN instances.unreachable_since IS NOT NULL THEN instances.unreachable_since \
             WHEN instances.first_failure_at <= now() - $3 * interval '1 millisecond' THEN now() \
             ELSE NULL END \
         RETURNING unreachable_since IS NOT NULL AS unreachable",
    )
    .bind::<Text, _>(domain)
    .bind::<Text, _>(error)
    .bind::<BigInt, _>(unreachable_after_ms)
    .get_result(conn)
    .await?;
    Ok(row.unreachable)
}

#[derive(QueryableByName)]
struct Unreachable {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    unreachable: bool,
}

/// A `429 Retry-After`: nothing goes to `domain` for `pause_ms`. The host is alive, so its
/// failure streak is not extended.
pub async fn pause(
    conn: &mut AsyncPgConnection,
    domain: &str,
    pause_ms: i64,
    error: &str,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO instances (domain, retry_after_until, last_error) \
         VALUES ($1, now() + $2 * interval '1 millisecond', $3) \
         ON CONFLICT (domain) DO UPDATE SET \
           retry_after_until = GREATEST(COALESCE(instances.retry_after_until, now()), \
                                        now() + $2 * interval '1 millisecond'), \
           last_error = $3",
    )
    .bind::<Text, _>(domain)
    .bind::<BigInt, _>(pause_ms)
    .bind::<Text, _>(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every server whose accepted HTTP signature scheme is known, with that scheme.
pub async fn signature_schemes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, String)>> {
    instances::table
        .filter(instances::signature_scheme.is_not_null())
        .select((
            instances::domain,
            instances::signature_scheme.assume_not_null(),
        ))
        .load(conn)
        .await
}

/// Remembers that `domain` accepted the HTTP signature scheme `scheme`.
pub async fn remember_signature_scheme(
    conn: &mut AsyncPgConnection,
    domain: &str,
    scheme: &str,
) -> QueryResult<()> {
    diesel::insert_into(instances::table)
        .values((
            instances::domain.eq(domain),
            instances::signature_scheme.eq(scheme),
        ))
        .on_conflict(instances::domain)
        .do_update()
        .set(instances::signature_scheme.eq(scheme))
        .execute(conn)
        .await?;
    Ok(())
}
