//! Requests to borrow an offer for given dates (see `service::sharing::loans`).

use super::schema::loan_requests;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The name of the constraint that forbids two accepted overlapping loans of one offer.
pub const NO_OVERLAP_CONSTRAINT: &str = "loan_requests_no_overlap";

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = loan_requests)]
pub struct DbLoanRequest {
    pub id: i64,
    pub offer_id: i64,
    pub requester_account_id: i64,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub message: String,
    /// pending | accepted | declined | cancelled
    pub state: String,
    pub answer: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    offer_id: i64,
    requester_account_id: i64,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    message: &str,
) -> QueryResult<DbLoanRequest> {
    diesel::insert_into(loan_requests::table)
        .values((
            loan_requests::offer_id.eq(offer_id),
            loan_requests::requester_account_id.eq(requester_account_id),
            loan_requests::starts_on.eq(starts_on),
            loan_requests::ends_on.eq(ends_on),
            loan_requests::message.eq(message),
        ))
        .returning(DbLoanRequest::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbLoanRequest>> {
    loan_requests::table
        .find(id)
        .select(DbLoanRequest::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn by_id_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbLoanRequest>> {
    loan_requests::table
        .find(id)
        .select(DbLoanRequest::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Moves a request to `state`, with the owner's answer when deciding.
pub async fn set_state(
    conn: &mut AsyncPgConnection,
    id: i64,
    state: &str,
    answer: Option<&str>,
    decided: bool,
) -> QueryResult<DbLoanRequest> {
    let now = Utc::now();
    let target = loan_requests::table.find(id);
    let query = diesel::update(target).set((
        loan_requests::state.eq(state),
        loan_requests::updated_at.eq(now),
    ));
    let row = query
        .returning(DbLoanRequest::as_returning())
        .get_result(conn)
        .await?;
    if decided || answer.is_some() {
        return diesel::update(loan_requests::table.find(id))
            .set((
                loan_requests::answer.eq(answer.unwrap_or(&row.answer)),
                loan_requests::decided_at.eq(if decided { Some(now) } else { row.decided_at }),
            ))
            .returning(DbLoanRequest::as_returning())
            .get_result(conn)
            .await;
    }
    Ok(row)
}

/// Accepted loans of the offer that overlap `[starts_on, ends_on]` (both days included).
pub async fn accepted_overlapping(
    conn: &mut AsyncPgConnection,
    offer_id: i64,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    except: Option<i64>,
) -> QueryResult<Vec<DbLoanRequest>> {
    let mut query = loan_requests::table
        .filter(loan_requests::offer_id.eq(offer_id))
        .filter(loan_requests::state.eq("accepted"))
        .filter(loan_requests::starts_on.le(ends_on))
        .filter(loan_requests::ends_on.ge(starts_on))
        .select(DbLoanRequest::as_select())
        .order(loan_requests::starts_on)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(loan_requests::id.ne(id));
    }
    query.load(conn).await
}

/// Accepted loans of the offer ending today or later (the dates already taken).
pub async fn taken_from(
    conn: &mut AsyncPgConnection,
    offer_id: i64,
    from: NaiveDate,
) -> QueryResult<Vec<DbLoanRequest>> {
    loan_requests::table
        .filter(loan_requests::offer_id.eq(offer_id))
        .filter(loan_requests::state.eq("accepted"))
        .filter(loan_requests::ends_on.ge(from))
        .order(loan_requests::starts_on)
        .select(DbLoanRequest::as_select())
        .load(conn)
        .await
}

/// The requests a member sent, newest first.
pub async fn sent_by(
    conn: &mut AsyncPgConnection,
    account_id: i64,
) -> QueryResult<Vec<DbLoanRequest>> {
    loan_requests::table
        .filter(loan_requests::requester_account_id.eq(account_id))
        .order((loan_requests::created_at.desc(), loan_requests::id.desc()))
        .select(DbLoanRequest::as_select())
        .limit(500)
        .load(conn)
        .await
}

/// The requests made on the member's offers, newest first.
pub async fn received_by(
    conn: &mut AsyncPgConnection,
    account_id: i64,
) -> QueryResult<Vec<DbLoanRequest>> {
    use super::schema::offers;
    loan_requests::table
        .inner_join(offers::table)
        .filter(offers::account_id.eq(account_id))
        .order((loan_requests::created_at.desc(), loan_requests::id.desc()))
        .select(DbLoanRequest::as_select())
        .limit(500)
        .load(conn)
        .await
}
