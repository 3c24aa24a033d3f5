//! Failed logins, counted per IP and per account across every `serve` process (the table is
//! shared, so the limit holds behind a load balancer too).

use super::schema::login_failures;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub const SCOPE_IP: &str = "ip";
pub const SCOPE_ACCOUNT: &str = "account";
/// Not a failure: an account created from the sign-up page, per client address (the same
/// counting serves the sign-up limit).
pub const SCOPE_SIGNUP: &str = "signup";
/// Not a failure either: a password-reset request, per client address.
pub const SCOPE_PASSWORD_RESET: &str = "password_reset";
/// Not a failure either: a visitor's report, per client address and per address given.
pub const SCOPE_REPORT_IP: &str = "report_ip";
pub const SCOPE_REPORT_EMAIL: &str = "report_email";

pub async fn record(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((login_failures::scope.eq(scope), login_failures::key.eq(key)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Failures for `(scope, key)` since `since`.
pub async fn count_since(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::key.eq(key))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
        .await
}

/// The oldest failure for `(scope, key)` since `since`: when it leaves the window, one more
/// attempt becomes possible.
pub async fn oldest_since(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    since: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::key.eq(key))
        .filter(login_failures::at.gt(since))
        .select(diesel::dsl::min(login_failures::at))
        .first(conn)
        .await
}

pub async fn clear(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::scope.eq(scope))
            .filter(login_failures::key.eq(key)),
    )
    .execute(conn)
    .await
}

/// Forgets failures older than `before` (they no longer count towards any limit).
pub async fn purge_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::at.lt(before)))
        .execute(conn)
        .await
}

/// Failures of every key of `scope` since `since`.
pub async fn count_scope_since(
    conn: &mut AsyncPgConnection,
    scope: &str,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
        .await
}
