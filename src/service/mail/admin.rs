//! The mail queue as administrators see it: how many mails wait, went out or failed, and the
//! failed ones with the server's reason, so a refused address or a broken mail server shows.

use crate::{
    context::AppContext,
    db::{
        self,
        mails::{DbMail, QueueCounts},
    },
    error::{AppError, AppResult},
};

/// The states a listing can ask for.
pub const STATES: &[&str] = &[db::mails::QUEUED, db::mails::SENT, db::mails::FAILED];
/// The most mails one listing shows.
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone)]
pub struct MailQueueReport {
    pub counts: QueueCounts,
    /// The state listed.
    pub state: String,
    /// Mails in that state, most recent first.
    pub mails: Vec<DbMail>,
}

/// Counts, and up to `limit` mails in `state` (`queued`, `sent` or `failed`).
pub async fn queue_report(ctx: &AppContext, state: &str, limit: i64) -> AppResult<MailQueueReport> {
    if !STATES.contains(&state) {
        return Err(AppError::field("state", "field.mail_state.unknown"));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::field("limit", "field.mail_limit.range"));
    }
    let mut conn = ctx.conn().await?;
    let counts = db::mails::counts(&mut conn).await?;
    let mails = db::mails::in_state(&mut conn, state, limit).await?;
    Ok(MailQueueReport {
        counts,
        state: state.to_string(),
        mails,
    })
}
