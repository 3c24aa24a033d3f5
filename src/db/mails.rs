//! The mail queue: rows written in the transaction of the action that causes a mail, sent by
//! the mail worker (`service::mail`).

use super::schema::mails;
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const QUEUED: &str = "queued";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, PartialEq)]
#[diesel(table_name = mails)]
pub struct DbMail {
    pub id: i64,
    pub account_id: Option<i64>,
    pub to_address: String,
    pub category: String,
    pub lang: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unsubscribe_url: Option<String>,
    pub message_id: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = mails)]
pub struct NewMail {
    pub account_id: Option<i64>,
    pub to_address: String,
    pub category: String,
    pub lang: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unsubscribe_url: Option<String>,
    pub message_id: String,
}

/// Rows per INSERT statement: 9 values each stay well under PostgreSQL's 65 535 bind
/// parameters, so a digest for every member goes in whatever their number.
const INSERT_CHUNK: usize = 2000;

/// Queues mails; returns their ids in order.
pub async fn insert_many(conn: &mut AsyncPgConnection, new: &[NewMail]) -> QueryResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(new.len());
    for chunk in new.chunks(INSERT_CHUNK) {
        let chunk_ids: Vec<i64> = diesel::insert_into(mails::table)
            .values(chunk)
            .returning(mails::id)
            .get_results(conn)
            .await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbMail> {
    mails::table
        .find(id)
        .select(DbMail::as_select())
        .first(conn)
        .await
}

/// Takes the oldest due mail for this sender: `claimed_at` is its lease, so another worker (on
/// this node or another) skips it until the lease ends — a sender that died mid-way gives its
/// mail back after `lease_secs`. `SKIP LOCKED` keeps concurrent claims from waiting on each
/// other or taking the same row.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    lease_secs: i64,
) -> QueryResult<Option<DbMail>> {
    diesel::sql_query(
        "UPDATE mails SET claimed_at = now() \
         WHERE id = (SELECT id FROM mails \
             WHERE state = 'queued' AND next_attempt_at <= now() \
               AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => $1)) \
             ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING *",
    )
    .bind::<BigInt, _>(lease_secs)
    .get_result(conn)
    .await
    .optional()
}

/// The mail left: recorded right after the server's answer (or the file's rename).
pub async fn mark_sent(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    let n = diesel::update(mails::table.find(id).filter(mails::state.eq(QUEUED)))
        .set((
            mails::state.eq(SENT),
            mails::sent_at.eq(diesel::dsl::now),
            mails::attempts.eq(mails::attempts + 1),
            mails::claimed_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// A failure worth another try: the next one waits 1 minute after the first failure, twice as
/// long after each further one, at most `max_delay_secs`; a mail queued more than
/// `give_up_after_secs` ago is marked failed instead. Returns the row's new state.
pub async fn retry_later(
    conn: &mut AsyncPgConnection,
    id: i64,
    error: &str,
    max_delay_secs: i64,
    give_up_after_secs: i64,
) -> QueryResult<Option<String>> {
    diesel::sql_query(
        "UPDATE mails SET attempts = attempts + 1, last_error = $2, claimed_at = NULL, \
             next_attempt_at = now() + make_interval(secs => \
                 LEAST(60 * power(2, LEAST(attempts, 30)), $3)), \
             state = CASE WHEN created_at <= now() - make_interval(secs => $4) \
                 THEN 'failed' ELSE 'queued' END, \
             failed_at = CASE WHEN created_at <= now() - make_interval(secs => $4) \
                 THEN now() END \
         WHERE id = $1 AND state = 'queued' RETURNING state",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(error)
    .bind::<BigInt, _>(max_delay_secs)
    .bind::<BigInt, _>(give_up_after_secs)
    .get_result::<StateRow>(conn)
    .await
    .optional()
    .map(|row| row.map(|r| r.state))
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text)]
    state: String,
}

/// A refusal that will not change (the server refused the recipient for good, or the row
/// cannot make a mail): failed at once, never retried.
pub async fn mark_failed(conn: &mut AsyncPgConnection, id: i64, error: &str) -> QueryResult<bool> {
    let n = diesel::update(mails::table.find(id).filter(mails::state.eq(QUEUED)))
        .set((
            mails::state.eq(FAILED),
            mails::failed_at.eq(diesel::dsl::now),
            mails::attempts.eq(mails::attempts + 1),
            mails::last_error.eq(error),
            mails::claimed_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The queue at a glance, for the admin view.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct QueueCounts {
    /// Waiting to be sent (due or not).
    #[diesel(sql_type = BigInt)]
    pub queued: i64,
    /// Among the queued, those that already failed at least once and wait for another try.
    #[diesel(sql_type = BigInt)]
    pub retrying: i64,
    /// Sent and still kept (sent rows are purged after a few weeks).
    #[diesel(sql_type = BigInt)]
    pub sent: i64,
    /// Given up: refused recipients and mails that could not be sent for days.
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
}

pub async fn counts(conn: &mut AsyncPgConnection) -> QueryResult<QueueCounts> {
    diesel::sql_query(
        "SELECT count(*) FILTER (WHERE state = 'queued') AS queued, \
                count(*) FILTER (WHERE state = 'queued' AND attempts > 0) AS retrying, \
                count(*) FILTER (WHERE state = 'sent') AS sent, \
                count(*) FILTER (WHERE state = 'failed') AS failed \
         FROM mails",
    )
    .get_result(conn)
    .await
}

/// Mails in `state`, most recent first (by failure, sending or queueing time).
pub async fn in_state(
    conn: &mut AsyncPgConnection,
    state: &str,
    limit: i64,
) -> QueryResult<Vec<DbMail>> {
    let query = mails::table
        .filter(mails::state.eq(state))
        .select(DbMail::as_select())
        .limit(limit);
    match state {
        FAILED => {
            query
                .order((mails::failed_at.desc(), mails::id.desc()))
                .load(conn)
                .await
        }
        SENT => {
            query
                .order((mails::sent_at.desc(), mails::id.desc()))
                .load(conn)
                .await
        }
        _ => query.order(mails::id.desc()).load(conn).await,
    }
}

/// Deletes sent mails older than `keep_sent_secs` and failed ones older than
/// `keep_failed_secs`; returns how many.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    keep_sent_secs: i64,
    keep_failed_secs: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM mails WHERE \
            (state = 'sent' AND sent_at < now() - make_interval(secs => $1)) \
         OR (state = 'failed' AND failed_at < now() - make_interval(secs => $2))",
    )
    .bind::<BigInt, _>(keep_sent_secs)
    .bind::<BigInt, _>(keep_failed_secs)
    .execute(conn)
    .await
}
