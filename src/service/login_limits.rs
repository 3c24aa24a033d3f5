//! Login rate limits: at most [`MAX_PER_IP`] failures per client address and [`MAX_PER_ACCOUNT`]
//! per account within [`WINDOW_MINUTES`]. Past that, login answers 429 until the oldest failure
//! leaves the window. A successful login clears the account's failures (not the address's: an
//! attacker who owns one account must not reset the counter used against the others).
//!
//! Sign-ups are limited the same way: at most `registration.per_address_per_hour` accounts
//! created per client address within an hour.
//!
//! Visitors' reports too: at most [`REPORTS_PER_ADDRESS_PER_HOUR`] per client address and
//! [`REPORTS_PER_EMAIL_PER_HOUR`] per address given, within an hour.

use crate::{
    context::AppContext,
    db::{
        Conn,
        login_failures::{
            self, SCOPE_ACCOUNT, SCOPE_IP, SCOPE_REPORT_EMAIL, SCOPE_REPORT_IP, SCOPE_SIGNUP,
        },
    },
    error::AppResult,
};
use chrono::{Duration, Utc};

pub const WINDOW_MINUTES: i64 = 15;
pub const MAX_PER_IP: i64 = 10;
pub const MAX_PER_ACCOUNT: i64 = 5;
/// Window of the sign-up limit.
pub const SIGNUP_WINDOW_MINUTES: i64 = 60;
/// Reports a visitor (not logged in) may send per client address within an hour.
pub const REPORTS_PER_ADDRESS_PER_HOUR: i64 = 5;
/// Reports a visitor may send per email address given within an hour.
pub const REPORTS_PER_EMAIL_PER_HOUR: i64 = 3;
/// Window of the visitors' report limits.
const REPORT_WINDOW_MINUTES: i64 = 60;
/// Failures older than this are deleted when new ones are recorded.
const RETENTION_HOURS: i64 = 24;

/// Which limit was hit, and in how many seconds one more attempt is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after_secs: i64,
}

async fn check_scope(
    ctx: &AppContext,
    scope: &str,
    key: &str,
    max: i64,
) -> AppResult<Option<Limited>> {
    check_window(ctx, scope, key, max, WINDOW_MINUTES).await
}

async fn check_window(
    ctx: &AppContext,
    scope: &str,
    key: &str,
    max: i64,
    window_minutes: i64,
) -> AppResult<Option<Limited>> {
    let mut conn = ctx.conn().await?;
    let since = Utc::now() - Duration::minutes(window_minutes);
    let count = login_failures::count_since(&mut conn, scope, key, since).await?;
    if count < max {
        return Ok(None);
    }
    let oldest = login_failures::oldest_since(&mut conn, scope, key, since)
        .await?
        .unwrap_or_else(Utc::now);
    let free_at = oldest + Duration::minutes(window_minutes);
    let retry_after_secs = (free_at - Utc::now()).num_seconds().max(1);
    Ok(Some(Limited { retry_after_secs }))
}

/// Whether the client address may try to log in now.
pub async fn check_ip(ctx: &AppContext, ip: &str) -> AppResult<Option<Limited>> {
    check_scope(ctx, SCOPE_IP, ip, MAX_PER_IP).await
}

/// Whether the account may be tried now.
pub async fn check_account(ctx: &AppContext, account_id: i64) -> AppResult<Option<Limited>> {
    check_scope(ctx, SCOPE_ACCOUNT, &account_id.to_string(), MAX_PER_ACCOUNT).await
}

/// Records one failure for the address and, when the login named an existing account, for it.
pub async fn record_failure(ctx: &AppContext, ip: &str, account_id: Option<i64>) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    login_failures::record(&mut conn, SCOPE_IP, ip).await?;
    if let Some(id) = account_id {
        login_failures::record(&mut conn, SCOPE_ACCOUNT, &id.to_string()).await?;
    }
    login_failures::purge_before(&mut conn, Utc::now() - Duration::hours(RETENTION_HOURS)).await?;
    Ok(())
}

pub async fn clear_account(ctx: &AppContext, account_id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    login_failures::clear(&mut conn, SCOPE_ACCOUNT, &account_id.to_string()).await?;
    Ok(())
}

/// Whether the client address may create one more account now.
pub async fn check_signup(ctx: &AppContext, ip: &str) -> AppResult<Option<Limited>> {
    let max = i64::from(ctx.config.registration.per_address_per_hour);
    check_window(ctx, SCOPE_SIGNUP, ip, max, SIGNUP_WINDOW_MINUTES).await
}

/// Counts an account created from the client address.
pub async fn record_signup(ctx: &AppContext, ip: &str) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    login_failures::record(&mut conn, SCOPE_SIGNUP, ip).await?;
    Ok(())
}

/// The key of an email address given by a visitor (the same address however it is typed).
fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a visitor may send one more report now, from the client address `ip` and giving
/// `email`; the later of the two limits when both are reached.
pub async fn check_visitor_report(
    ctx: &AppContext,
    ip: &str,
    email: &str,
) -> AppResult<Option<Limited>> {
    let by_address = check_window(
        ctx,
        SCOPE_REPORT_IP,
        ip,
        REPORTS_PER_ADDRESS_PER_HOUR,
        REPORT_WINDOW_MINUTES,
    )
    .await?;
    let by_email = check_window(
        ctx,
        SCOPE_REPORT_EMAIL,
        &email_key(email),
        REPORTS_PER_EMAIL_PER_HOUR,
        REPORT_WINDOW_MINUTES,
    )
    .await?;
    Ok(by_address
        .into_iter()
        .chain(by_email)
        .max_by_key(|l| l.retry_after_secs))
}

/// Counts a visitor's report, in the transaction that stores it (a report refused for bad
/// fields counts for nothing).
pub async fn record_visitor_report(conn: &mut Conn, ip: &str, email: &str) -> AppResult<()> {
    login_failures::record(conn, SCOPE_REPORT_IP, ip).await?;
    login_failures::record(conn, SCOPE_REPORT_EMAIL, &email_key(email)).await?;
    Ok(())
}
