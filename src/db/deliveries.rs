//! The persistent delivery queue: one row per (activity, inbox).
//!
//! A worker *claims* due rows: it locks them with `FOR UPDATE SKIP LOCKED` (so workers of every
//! process share the queue without waiting on each other), pushes `next_attempt_at` forward by
//! a lease and sets `claimed_at`. A row whose worker died simply becomes due again when the
//! lease ends. The outcome of a send then either marks the row delivered or failed, or
//! schedules the next attempt.

use super::schema::{actors, deliveries};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Int4, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A row a worker holds.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
#[diesel(table_name = deliveries)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub activity_id: i64,
    pub inbox_url: String,
    pub domain: String,
    /// Attempts made before this one.
    pub attempts: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = deliveries)]
pub struct DbDelivery {
    pub id: i64,
    pub activity_id: i64,
    pub inbox_url: String,
    pub domain: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
}

/// How to claim.
#[derive(Debug, Clone)]
pub struct ClaimParams<'a> {
    /// Most rows to take.
    pub limit: i64,
    /// Most rows in flight per host, counting `in_flight`.
    pub per_host: i32,
    /// Rows this process already has in flight, per host.
    pub in_flight: &'a [(String, i32)],
    /// How long the rows are ours before another worker may take them.
    pub lease_ms: i64,
    /// An unreachable host gets one probe per this interval.
    pub probe_interval_ms: i64,
}

/// Claims due rows, oldest first, at most `per_host` per host (minus what is in flight),
/// skipping hosts that asked us to wait (429) and unreachable hosts (except for a probe once
/// per `probe_interval`). Rows locked by another transaction are skipped, never waited for.
/// Due rows for a domain under a `reject` block are dropped by the same statement, never sent
/// (those queued after the block, by a node that had not seen it yet).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    params: &ClaimParams<'_>,
) -> QueryResult<Vec<ClaimedDelivery>> {
    let (busy_domains, busy_counts): (Vec<String>, Vec<i32>) =
        params.in_flight.iter().cloned().unzip();
    let rejected = super::domain_blocks::covered_sql("h.domain", super::domain_blocks::REJECT);
    // Written so that the plan does not hang on the table's statistics, which a fan-out has
    // just made wrong (thousands of rows where the last ANALYZE saw a few): the due rows are
    // read once, hosts are judged once each (not once per row), and the rows to lock are
    // found by their ids. Nested loops the planner chose on stale counts cost 22 ms a claim
    // over 1 450 due rows (now about 4 ms).
    diesel::sql_query(format!(
        "WITH usage AS ( \
           SELECT * FROM unnest($1::text[], $2::int4[]) AS u(domain, used) \
         ), due AS MATERIALIZED ( \
           SELECT d.id, d.domain, d.next_attempt_at FROM deliveries d \
           WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= now() \
         ), hosts AS MATERIALIZED ( \
           SELECT h.domain, \
                  CASE WHEN NOT EXISTS (SELECT 1 FROM domain_blocks WHERE severity = 'reject') \
                       THEN false ELSE {rejected} END AS rejected, \
                  EXISTS (SELECT 1 FROM instances i WHERE i.domain = h.domain \
                    AND (i.retry_after_until > now() \
                         OR (i.unreachable_since IS NOT NULL \
                             AND i.last_failure_at > now() - $3 * interval '1 millisecond'))) AS held \
           FROM (SELECT DISTINCT domain FROM due) h \
         ), dropped AS ( \
           DELETE FROM deliveries d \
           WHERE d.id = ANY (ARRAY(SELECT due.id FROM due \
                                   WHERE due.domain = ANY (ARRAY(SELECT domain FROM hosts WHERE rejected)))) \
         ), ranked AS ( \
           SELECT due.id, due.domain, due.next_attempt_at, \
                  row_number() OVER (PARTITION BY due.domain ORDER BY due.next_attempt_at, due.id) AS rn \
           FROM due \
           WHERE due.domain NOT IN (SELECT domain FROM hosts WHERE rejected OR held) \
         ), picked AS ( \
           SELECT r.id, r.next_attempt_at FROM ranked r LEFT JOIN usage u ON u.domain = r.domain \
           WHERE r.rn <= $4 - COALESCE(u.used, 0) \
           ORDER BY r.next_attempt_at, r.id \
           LIMIT $5 \
         ), locked AS ( \
           SELECT d.id FROM deliveries d \
           WHERE d.id = ANY (ARRAY(SELECT id FROM picked)) \
             AND d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= now() \
           FOR UPDATE OF d SKIP LOCKED \
         ) \
         UPDATE deliveries \
         SET next_attempt_at = now() + $6 * interval '1 millisecond', claimed_at = now() \
         FROM locked WHERE deliveries.id = locked.id \
         RETURNING deliveries.id, deliveries.activity_id, deliveries.inbox_url, \
                   deliveries.domain, deliveries.attempts",
    ))
    .bind::<Array<Text>, _>(busy_domains)
    .bind::<Array<Int4>, _>(busy_counts)
    .bind::<BigInt, _>(params.probe_interval_ms)
    .bind::<Int4, _>(params.per_host)
    .bind::<BigInt, _>(params.limit)
    .bind::<BigInt, _>(params.lease_ms)
    .load(conn)
    .await
}

/// These rows arrived.
pub async fn mark_delivered(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(deliveries::table.filter(deliveries::id.eq_any(ids)))
        .set((
            deliveries::delivered_at.eq(diesel::dsl::now),
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::claimed_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
}

/// Another attempt after `delay_ms`.
pub async fn reschedule(
    conn: &mut AsyncPgConnection,
    id: i64,
    attempts: i32,
    delay_ms: i64,
    error: &str,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE deliveries SET attempts = $2, last_error = $3, claimed_at = NULL, \
         next_attempt_at = now() + $4 * interval '1 millisecond' WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Int4, _>(attempts)
    .bind::<Text, _>(error)
    .bind::<BigInt, _>(delay_ms)
    .execute(conn)
    .await
}

/// We give up on this row.
pub async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: i64,
    attempts: i32,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::attempts.eq(attempts),
            deliveries::failed_at.eq(diesel::dsl::now),
            deliveries::last_error.eq(error),
            deliveries::claimed_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
}

/// Hands claimed rows back untouched (e.g. the worker could not load what it needed).
pub async fn release(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(deliveries::table.filter(deliveries::id.eq_any(ids)))
        .set((
            deliveries::next_attempt_at.eq(diesel::dsl::now),
            deliveries::claimed_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
}

/// Makes every pending row that nobody holds due now (tests skip the backoff waits with it).
pub async fn make_all_due(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::update(
        deliveries::table
            .filter(deliveries::delivered_at.is_null())
            .filter(deliveries::failed_at.is_null())
            .filter(deliveries::claimed_at.is_null())
            .filter(deliveries::next_attempt_at.gt(diesel::dsl::now)),
    )
    .set(deliveries::next_attempt_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// Pending rows whose lease is running (a worker is sending them right now).
pub async fn count_leased(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    deliveries::table
        .filter(deliveries::delivered_at.is_null())
        .filter(deliveries::failed_at.is_null())
        .filter(deliveries::claimed_at.is_not_null())
        .filter(deliveries::next_attempt_at.gt(diesel::dsl::now))
        .count()
        .get_result(conn)
        .await
}

/// A `410 Gone` from an actor's own inbox: that actor no longer exists.
pub async fn mark_inbox_owner_gone(
    conn: &mut AsyncPgConnection,
    inbox: &str,
) -> QueryResult<usize> {
    diesel::update(
        actors::table
            .filter(actors::inbox_url.eq(inbox))
            .filter(actors::local.eq(false))
            .filter(actors::deleted_at.is_null()),
    )
    .set(actors::deleted_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

pub async fn by_activity(
    conn: &mut AsyncPgConnection,
    activity_id: i64,
) -> QueryResult<Vec<DbDelivery>> {
    deliveries::table
        .filter(deliveries::activity_id.eq(activity_id))
        .order(deliveries::id)
        .select(DbDelivery::as_select())
        .load(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbDelivery> {
    deliveries::table
        .find(id)
        .select(DbDelivery::as_select())
        .first(conn)
        .await
}

/// Queue figures for the admin page.
#[derive(Debug, Clone, Default, QueryableByName, PartialEq)]
pub struct QueueStats {
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    #[diesel(sql_type = BigInt)]
    pub due: i64,
    #[diesel(sql_type = BigInt)]
    pub in_flight: i64,
    #[diesel(sql_type = BigInt)]
    pub retrying: i64,
    #[diesel(sql_type = BigInt)]
    pub delivered_24h: i64,
    #[diesel(sql_type = BigInt)]
    pub failed_24h: i64,
}

pub async fn stats(conn: &mut AsyncPgConnection) -> QueryResult<QueueStats> {
    diesel::sql_query(
        "SELECT \
           count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS pending, \
           count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL \
                            AND next_attempt_at <= now()) AS due, \
           count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL \
                            AND claimed_at IS NOT NULL AND next_attempt_at > now()) AS in_flight, \
           count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL \
                            AND attempts > 0) AS retrying, \
           count(*) FILTER (WHERE delivered_at > now() - interval '24 hours') AS delivered_24h, \
           count(*) FILTER (WHERE failed_at > now() - interval '24 hours') AS failed_24h \
         FROM deliveries",
    )
    .get_result(conn)
    .await
}

/// Per host: rows waiting, rows given up on lately, and the host's health.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct DomainFailures {
    #[diesel(sql_type = Text)]
    pub domain: String,
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    #[diesel(sql_type = BigInt)]
    pub retrying: i64,
    #[diesel(sql_type = BigInt)]
    pub failed_7d: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub first_failure_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub unreachable_since: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub retry_after_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub last_error: Option<String>,
}

pub async fn failures_by_domain(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<DomainFailures>> {
    diesel::sql_query(
        "WITH per_domain AS ( \
           SELECT domain, \
             count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS pending, \
             count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL \
                              AND attempts > 0) AS retrying, \
             count(*) FILTER (WHERE failed_at > now() - interval '7 days') AS failed_7d \
           FROM deliveries \
           WHERE (delivered_at IS NULL AND failed_at IS NULL) \
              OR failed_at > now() - interval '7 days' \
           GROUP BY domain \
         ) \
         SELECT COALESCE(p.domain, i.domain) AS domain, \
                COALESCE(p.pending, 0) AS pending, COALESCE(p.retrying, 0) AS retrying, \
                COALESCE(p.failed_7d, 0) AS failed_7d, \
                i.first_failure_at, i.unreachable_since, \
                CASE WHEN i.retry_after_until > now() THEN i.retry_after_until END \
                  AS retry_after_until, \
                i.last_error \
         FROM per_domain p FULL JOIN instances i ON i.domain = p.domain \
         WHERE COALESCE(p.retrying, 0) > 0 OR COALESCE(p.failed_7d, 0) > 0 \
            OR i.first_failure_at IS NOT NULL OR i.unreachable_since IS NOT NULL \
            OR i.retry_after_until > now() \
         ORDER BY (i.unreachable_since IS NULL), COALESCE(p.failed_7d, 0) DESC, \
                  COALESCE(p.retrying, 0) DESC, 1 \
         LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// A recent error, with what it was about.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct RecentError {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub domain: String,
    #[diesel(sql_type = Text)]
    pub inbox_url: String,
    #[diesel(sql_type = Text)]
    pub activity_ap_id: String,
    #[diesel(sql_type = Text)]
    pub activity_kind: String,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub last_error: String,
    /// When we gave up; `None` while it is still retried.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub failed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
}

pub async fn recent_errors(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<RecentError>> {
    diesel::sql_query(
        "SELECT d.id, d.domain, d.inbox_url, a.ap_id AS activity_ap_id, a.kind AS activity_kind, \
                d.attempts, d.last_error, d.failed_at, d.next_attempt_at \
         FROM deliveries d JOIN activities a ON a.id = d.activity_id \
         WHERE d.last_error IS NOT NULL AND d.delivered_at IS NULL \
         ORDER BY COALESCE(d.failed_at, d.next_attempt_at) DESC, d.id DESC \
         LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Drops finished rows: delivered ones after `delivered_ms`, given-up ones after `failed_ms`.
pub async fn purge_finished(
    conn: &mut AsyncPgConnection,
    delivered_ms: i64,
    failed_ms: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM deliveries WHERE \
           delivered_at < now() - $1 * interval '1 millisecond' \
           OR failed_at < now() - $2 * interval '1 millisecond'",
    )
    .bind::<BigInt, _>(delivered_ms)
    .bind::<BigInt, _>(failed_ms)
    .execute(conn)
    .await
}

/// Gives up on rows that waited more than `older_than_ms` for a host marked unreachable.
pub async fn expire_unreachable(
    conn: &mut AsyncPgConnection,
    older_than_ms: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE deliveries d SET failed_at = now(), claimed_at = NULL, \
           last_error = 'host unreachable; gave up after waiting for it' \
         FROM instances i \
         WHERE i.domain = d.domain AND i.unreachable_since IS NOT NULL \
           AND d.delivered_at IS NULL AND d.failed_at IS NULL \
           AND d.created_at < now() - $1 * interval '1 millisecond' \
           AND (d.claimed_at IS NULL OR d.next_attempt_at <= now())",
    )
    .bind::<BigInt, _>(older_than_ms)
    .execute(conn)
    .await
}

/// Every inbox the activities of `actor_id` were ever queued to, one per server where we know
/// a shared inbox there (else each inbox seen): the servers that know the actor.
pub async fn known_inboxes_of(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        inbox: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT DISTINCT COALESCE( \
             (SELECT a.shared_inbox_url FROM actors a \
              WHERE a.domain = d.domain AND NOT a.local AND a.shared_inbox_url IS NOT NULL \
              ORDER BY a.id LIMIT 1), \
             d.inbox_url) AS inbox \
         FROM deliveries d JOIN activities act ON act.id = d.activity_id \
         WHERE act.actor_id = $1 \
         ORDER BY inbox",
    )
    .bind::<diesel::sql_types::BigInt, _>(actor_id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.inbox).collect())
}
