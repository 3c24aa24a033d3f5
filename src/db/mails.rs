//! The mail queue: rows written in the transaction of the action that causes a mail, sent by
//! the mail worker (`service::mail`).

use super::schema::mails;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const QUEUED: &str = "queued";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
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

/// Queues mails; returns their ids in order.
pub async fn insert_many(conn: &mut AsyncPgConnection, new: &[NewMail]) -> QueryResult<Vec<i64>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    diesel::insert_into(mails::table)
        .values(new)
        .returning(mails::id)
        .get_results(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbMail> {
    mails::table
        .find(id)
        .select(DbMail::as_select())
        .first(conn)
        .await
}
