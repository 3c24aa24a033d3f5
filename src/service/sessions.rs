//! Browser sessions and login.
//!
//! A session is a random 32-byte token held by the browser in an HttpOnly cookie; the database
//! keeps only its SHA-256, with a per-session CSRF token and an expiry that slides forward while
//! the session is used.

use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, sessions::NewSession},
    error::{AppError, AppResult},
    service::{accounts, login_limits, tokens},
};
use chrono::{DateTime, Duration, Utc};

/// Lifetime of an unused session.
pub const SESSION_DAYS: i64 = 30;
/// The expiry is pushed forward at most this often, so most requests only read.
const SLIDE_AFTER_MINUTES: i64 = 5;
const MAX_USER_AGENT: usize = 300;

/// A hash of a password nobody knows, with the same parameters as real ones: a login for an
/// unknown name costs as much as one for a real account, so timing does not reveal which
/// names exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$YWZha2VzYWx0Zm9ydGltaW5n$6Qu9yF8Jk2PaNTD1NxDqP2YWfXfpsKWjHQ6uvlscR1M";

/// What the browser receives when a session opens. `token` is only ever in the cookie.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A valid session, as found from the cookie.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub account: DbAccount,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    /// True when this lookup pushed the expiry forward (the cookie should follow).
    pub extended: bool,
}

fn expiry_from_now() -> DateTime<Utc> {
    Utc::now() + Duration::days(SESSION_DAYS)
}

/// Opens a session for `account`. Expired sessions of everyone are swept at the same time.
pub async fn open(
    ctx: &AppContext,
    account: &DbAccount,
    user_agent: &str,
) -> AppResult<OpenedSession> {
    let token = tokens::new_secret();
    let csrf_token = tokens::new_secret();
    let expires_at = expiry_from_now();
    let user_agent: String = user_agent.chars().take(MAX_USER_AGENT).collect();
    let mut conn = ctx.conn().await?;
    db::sessions::delete_expired(&mut conn).await?;
    db::sessions::insert(
        &mut conn,
        &NewSession {
            token_hash: tokens::hash_token(&token),
            account_id: account.id,
            csrf_token: csrf_token.clone(),
            expires_at,
            user_agent,
        },
    )
    .await?;
    Ok(OpenedSession {
        token,
        csrf_token,
        expires_at,
    })
}

/// The session behind a cookie token, if it exists, has not expired and its account is not
/// suspended. Slides the expiry forward.
pub async fn lookup(ctx: &AppContext, token: &str) -> AppResult<Option<ActiveSession>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let hash = tokens::hash_token(token);
    let mut conn = ctx.conn().await?;
    let Some((session, account)) = db::sessions::active_with_account(&mut conn, &hash).await?
    else {
        return Ok(None);
    };
    if account.suspended_at.is_some() {
        return Ok(None);
    }
    let mut expires_at = session.expires_at;
    let mut extended = false;
    if Utc::now() - session.last_seen_at > Duration::minutes(SLIDE_AFTER_MINUTES) {
        expires_at = expiry_from_now();
        db::sessions::touch(&mut conn, &hash, expires_at).await?;
        extended = true;
    }
    Ok(Some(ActiveSession {
        account,
        csrf_token: session.csrf_token,
        expires_at,
        extended,
    }))
}

/// Closes the session of this cookie token. Returns whether one was open.
pub async fn close(ctx: &AppContext, token: &str) -> AppResult<bool> {
    let mut conn = ctx.conn().await?;
    Ok(db::sessions::delete(&mut conn, &tokens::hash_token(token)).await?)
}

/// What a login form submits, plus where it came from.
#[derive(Debug, Clone)]
pub struct LoginAttempt<'a> {
    /// Username or e-mail address.
    pub login: &'a str,
    pub password: &'a str,
    /// Client address, or "unknown".
    pub ip: &'a str,
    pub user_agent: &'a str,
}

#[derive(Debug)]
pub enum LoginError {
    /// Too many failures for this address or account.
    RateLimited(login_limits::Limited),
    /// Unknown login or wrong password (the same answer for both).
    BadCredentials,
    /// A required field is empty.
    Missing(Vec<&'static str>),
    Suspended,
    Other(AppError),
}

impl From<AppError> for LoginError {
    fn from(e: AppError) -> Self {
        LoginError::Other(e)
    }
}

impl From<diesel::result::Error> for LoginError {
    fn from(e: diesel::result::Error) -> Self {
        LoginError::Other(e.into())
    }
}

/// Checks the rate limits, then the password; on success clears the account's failures,
/// records the login and opens a session.
pub async fn login(
    ctx: &AppContext,
    attempt: LoginAttempt<'_>,
) -> Result<(DbAccount, OpenedSession), LoginError> {
    let login = attempt.login.trim();
    let mut missing = Vec::new();
    if login.is_empty() {
        missing.push("login");
    }
    if attempt.password.is_empty() {
        missing.push("password");
    }
    if !missing.is_empty() {
        return Err(LoginError::Missing(missing));
    }
    if let Some(limited) = login_limits::check_ip(ctx, attempt.ip).await? {
        return Err(LoginError::RateLimited(limited));
    }
    let account = {
        let mut conn = ctx.conn().await?;
        db::accounts::by_login(&mut conn, login).await?
    };
    if let Some(account) = &account
        && let Some(limited) = login_limits::check_account(ctx, account.id).await?
    {
        return Err(LoginError::RateLimited(limited));
    }
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.as_str())
        .unwrap_or(DUMMY_HASH);
    let password_ok = attempt.password.chars().count() <= accounts::MAX_PASSWORD_LEN
        && accounts::verify_password(attempt.password, hash).await;
    let account = match account {
        Some(account) if password_ok => account,
        other => {
            login_limits::record_failure(ctx, attempt.ip, other.map(|a| a.id)).await?;
            return Err(LoginError::BadCredentials);
        }
    };
    if account.suspended_at.is_some() {
        return Err(LoginError::Suspended);
    }
    login_limits::clear_account(ctx, account.id).await?;
    {
        let mut conn = ctx.conn().await?;
        db::accounts::touch_login(&mut conn, account.id).await?;
    }
    let session = open(ctx, &account, attempt.user_agent).await?;
    Ok((account, session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHash;

    #[test]
    fn dummy_hash_has_the_real_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("dummy hash parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = argon2::Params::try_from(&parsed).expect("params");
        let defaults = argon2::Params::default();
        assert_eq!(params.m_cost(), defaults.m_cost());
        assert_eq!(params.t_cost(), defaults.t_cost());
        assert_eq!(params.p_cost(), defaults.p_cost());
    }
}
