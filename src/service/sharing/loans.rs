//! Requests to borrow an offer for given dates: a member asks, the owner accepts or
//! declines, the requester may cancel. Two accepted loans of one offer never overlap: each
//! action checks first (under the offer's lock) for a clear answer, and the database's
//! `loan_requests_no_overlap` constraint settles any race the same way.

use super::{can_see, closed_error};
use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, loan_requests::DbLoanRequest, offers::DbOffer},
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    service::{
        notifications::{self, Event, NotificationKind},
        publishing::today,
    },
};
use chrono::NaiveDate;
use diesel_async::{AsyncConnection, AsyncPgConnection};

pub const MAX_MESSAGE_CHARS: usize = 5_000;

/// The states of a request (the codes of `loan_requests.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanState {
    Pending,
    Accepted,
    Declined,
    Cancelled,
}

impl LoanState {
    pub fn as_str(self) -> &'static str {
        match self {
            LoanState::Pending => "pending",
            LoanState::Accepted => "accepted",
            LoanState::Declined => "declined",
            LoanState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<LoanState> {
        [
            LoanState::Pending,
            LoanState::Accepted,
            LoanState::Declined,
            LoanState::Cancelled,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            LoanState::Pending => "sharing.state.pending",
            LoanState::Accepted => "sharing.state.accepted",
            LoanState::Declined => "sharing.state.declined",
            LoanState::Cancelled => "sharing.state.cancelled",
        }
    }
}

/// What the requester typed.
#[derive(Debug, Clone, Default)]
pub struct LoanInput {
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    pub ends_on: String,
    pub message: String,
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// "du 2027-03-01 au 2027-03-04, …": the dates accepted loans already take.
fn taken_text(taken: &[DbLoanRequest]) -> String {
    taken
        .iter()
        .map(|l| format!("{} – {}", l.starts_on, l.ends_on))
        .collect::<Vec<_>>()
        .join(", ")
}

/// 422 naming the dates already taken.
fn overlap_error(taken: &[DbLoanRequest]) -> AppError {
    let mut e = AppError::field("starts_on", "sharing.loan.overlap");
    e.detail = format!(
        "these dates overlap an accepted loan: {}",
        taken_text(taken)
    );
    e
}

/// Maps the exclusion constraint's refusal (a race lost despite the check) to a 409 naming
/// the same field and message as the check's 422.
fn overlap_race(e: diesel::result::Error) -> AppError {
    if let diesel::result::Error::DatabaseError(_, info) = &e
        && info.constraint_name() == Some(db::loan_requests::NO_OVERLAP_CONSTRAINT)
    {
        let mut err = AppError::new(
            ErrorKind::Conflict,
            "these dates overlap an accepted loan (accepted at the same moment)",
        )
        .with_message("sharing.loan.overlap");
        err.fields = vec![crate::error::FieldError {
            field: "starts_on".into(),
            message_key: "sharing.loan.overlap",
        }];
        return err;
    }
    e.into()
}

/// Asks to borrow `offer_id` for the dates given.
pub async fn request(
    ctx: &AppContext,
    account: &DbAccount,
    offer_id: i64,
    input: LoanInput,
) -> AppResult<DbLoanRequest> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    let mut errors = FieldErrors::default();
    let starts_on = parse_date(&input.starts_on);
    let ends_on = parse_date(&input.ends_on);
    match starts_on {
        None => errors.add("starts_on", "sharing.field.date"),
        Some(d) if d < today() => errors.add("starts_on", "sharing.loan.past"),
        _ => {}
    }
    match (starts_on, ends_on) {
        (_, None) => errors.add("ends_on", "sharing.field.date"),
        (Some(s), Some(e)) if e < s => errors.add("ends_on", "sharing.loan.ends_before"),
        _ => {}
    }
    let message = input.message.replace("\r\n", "\n").trim().to_string();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        errors.add("message", "field.too_long");
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbLoanRequest, AppError, _>(async |conn| {
        let offer = db::offers::by_id_for_update(conn, offer_id)
            .await?
            .filter(|o| can_see(Some(account), o))
            .ok_or_else(AppError::not_found)?;
        if offer.account_id == account.id {
            return Err(AppError::forbidden("one does not borrow one's own offer")
                .with_message("sharing.loan.own_offer"));
        }
        if offer.closed_at.is_some() {
            return Err(closed_error());
        }
        errors.into_result()?;
        let (Some(starts_on), Some(ends_on)) = (starts_on, ends_on) else {
            return Err(AppError::internal("checked dates missing"));
        };
        let taken =
            db::loan_requests::accepted_overlapping(conn, offer.id, starts_on, ends_on, None)
                .await?;
        if !taken.is_empty() {
            return Err(overlap_error(&taken));
        }
        let loan =
            db::loan_requests::insert(conn, offer.id, account.id, starts_on, ends_on, &message)
                .await?;
        notifications::record(
            ctx,
            conn,
            loan_event(
                offer.account_id,
                NotificationKind::LoanRequest,
                account.actor_id,
                loan.id,
            ),
        )
        .await?;
        Ok(loan)
    })
    .await
}

fn loan_event(account_id: i64, kind: NotificationKind, actor_id: i64, loan_id: i64) -> Event {
    Event {
        account_id,
        kind,
        actor_id: Some(actor_id),
        post_id: None,
        comment_id: None,
        object_ap_id: None,
        alert_id: None,
        dedupe_key: None,
        report_id: None,
        moderation_action_id: None,
        loan_request_id: Some(loan_id),
        venue_id: None,
        workspace: Default::default(),
    }
}

/// The request and its offer, locked (offer first, so that two decisions on one offer take
/// turns): 404 when `account` is neither its requester nor the offer's owner.
async fn involved(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    id: i64,
) -> AppResult<(DbLoanRequest, DbOffer)> {
    let loan = db::loan_requests::by_id(conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let offer = db::offers::by_id_for_update(conn, loan.offer_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let loan = db::loan_requests::by_id_for_update(conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if loan.requester_account_id != account.id && offer.account_id != account.id {
        return Err(AppError::not_found());
    }
    Ok((loan, offer))
}

fn not_pending() -> AppError {
    AppError::new(ErrorKind::Conflict, "this request was already answered")
        .with_message("sharing.loan.not_pending")
}

/// The owner accepts (`accept`) or declines a pending request, with an optional answer.
pub async fn decide(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    accept: bool,
    answer: &str,
) -> AppResult<DbLoanRequest> {
    let answer = answer.replace("\r\n", "\n").trim().to_string();
    if answer.chars().count() > MAX_MESSAGE_CHARS {
        return Err(AppError::field("answer", "field.too_long"));
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbLoanRequest, AppError, _>(async |conn| {
        let (loan, offer) = involved(conn, account, id).await?;
        if offer.account_id != account.id || account.suspended_at.is_some() {
            return Err(AppError::forbidden("only the offer's owner answers")
                .with_message("sharing.loan.owner_only"));
        }
        if loan.state != LoanState::Pending.as_str() {
            return Err(not_pending());
        }
        let state = if accept {
            let taken = db::loan_requests::accepted_overlapping(
                conn,
                offer.id,
                loan.starts_on,
                loan.ends_on,
                Some(loan.id),
            )
            .await?;
            if !taken.is_empty() {
                return Err(overlap_error(&taken));
            }
            LoanState::Accepted
        } else {
            LoanState::Declined
        };
        let decided =
            db::loan_requests::set_state(conn, loan.id, state.as_str(), Some(&answer), true)
                .await
                .map_err(overlap_race)?;
        notifications::record(
            ctx,
            conn,
            loan_event(
                loan.requester_account_id,
                NotificationKind::LoanAnswer,
                account.actor_id,
                loan.id,
            ),
        )
        .await?;
        Ok(decided)
    })
    .await
}

/// The requester withdraws a request: while it is pending, or once accepted until the day
/// before the loan starts.
pub async fn cancel(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<DbLoanRequest> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbLoanRequest, AppError, _>(async |conn| {
        let (loan, _offer) = involved(conn, account, id).await?;
        if loan.requester_account_id != account.id {
            return Err(AppError::forbidden("only the requester cancels")
                .with_message("sharing.loan.requester_only"));
        }
        if !cancellable(&loan) {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "this request can no longer be cancelled",
            )
            .with_message("sharing.loan.not_cancellable"));
        }
        Ok(
            db::loan_requests::set_state(conn, loan.id, LoanState::Cancelled.as_str(), None, false)
                .await?,
        )
    })
    .await
}

/// A request with what the history shows of it.
#[derive(Debug, Clone)]
pub struct LoanView {
    pub loan: DbLoanRequest,
    pub offer: DbOffer,
    /// The other party: the owner (sent requests) or the requester (received ones).
    pub other: DbAccount,
}

/// The requests a member sent and received, newest first.
pub async fn history(
    ctx: &AppContext,
    account: &DbAccount,
) -> AppResult<(Vec<LoanView>, Vec<LoanView>)> {
    let mut conn = ctx.conn().await?;
    let sent = db::loan_requests::sent_by(&mut conn, account.id).await?;
    let received = db::loan_requests::received_by(&mut conn, account.id).await?;
    let mut out_sent = Vec::with_capacity(sent.len());
    for loan in sent {
        let offer = db::offers::by_id(&mut conn, loan.offer_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let other = db::accounts::by_id(&mut conn, offer.account_id).await?;
        out_sent.push(LoanView { loan, offer, other });
    }
    let mut out_received = Vec::with_capacity(received.len());
    for loan in received {
        let offer = db::offers::by_id(&mut conn, loan.offer_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let other = db::accounts::by_id(&mut conn, loan.requester_account_id).await?;
        out_received.push(LoanView { loan, offer, other });
    }
    Ok((out_sent, out_received))
}

/// The date ranges accepted loans take, from today on.
pub async fn taken(ctx: &AppContext, offer_id: i64) -> AppResult<Vec<(NaiveDate, NaiveDate)>> {
    let mut conn = ctx.conn().await?;
    Ok(db::loan_requests::taken_from(&mut conn, offer_id, today())
        .await?
        .into_iter()
        .map(|l| (l.starts_on, l.ends_on))
        .collect())
}

/// Whether the requester may still cancel the request (the pages show the button).
pub fn cancellable(loan: &DbLoanRequest) -> bool {
    match LoanState::parse(&loan.state) {
        Some(LoanState::Pending) => true,
        Some(LoanState::Accepted) => today() < loan.starts_on,
        _ => false,
    }
}
