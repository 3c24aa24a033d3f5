//! Single-use links mailed to members: address confirmation at registration, password reset,
//! change of address.
//!
//! Each link carries a random secret; `account_tokens` keeps only its SHA-256, the purpose, the
//! address it was sent to and an expiry. The mail is queued in the same transaction as the
//! token (`service::mail::enqueue`), so a link is never stored without its mail or mailed
//! without being stored. Showing a link's page never uses it (mail scanners fetch links); only
//! the form that page carries does, under a row lock, so a link works once.

use crate::{
    context::AppContext,
    db::{
        self,
        account_tokens::{DbAccountToken, NewAccountToken},
        accounts::DbAccount,
        login_failures::{SCOPE_ACCOUNT, SCOPE_PASSWORD_RESET},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    i18n::Lang,
    service::{
        accounts,
        mail::{self, MailBody, MailCategory, OutgoingMail},
        tokens,
    },
};
use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// How long the confirmation link mailed at registration works.
pub const CONFIRM_VALIDITY_HOURS: i64 = 72;
/// How long a password-reset link works.
pub const RESET_VALIDITY_HOURS: i64 = 1;
/// How long the link confirming a new address works.
pub const CHANGE_VALIDITY_HOURS: i64 = 24;

/// Confirmation links one account may receive per hour (the one sent at registration counts).
pub const MAX_CONFIRMATIONS_PER_HOUR: i64 = 3;
/// Reset links one account may receive per hour; more requests are answered the same way but
/// mail nothing, so nobody can flood a member's mailbox.
pub const MAX_RESETS_PER_ACCOUNT_PER_HOUR: i64 = 3;
/// Reset requests one client address may make per hour; more answer 429.
pub const MAX_RESETS_PER_ADDRESS_PER_HOUR: i64 = 5;
/// Changes of address one account may ask for per hour.
pub const MAX_CHANGES_PER_HOUR: i64 = 5;

/// What a link is for; stored as `account_tokens.purpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    ConfirmEmail,
    ResetPassword,
    ChangeEmail,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::ConfirmEmail => "confirm_email",
            LinkPurpose::ResetPassword => "reset_password",
            LinkPurpose::ChangeEmail => "change_email",
        }
    }

    fn validity(self) -> Duration {
        Duration::hours(match self {
            LinkPurpose::ConfirmEmail => CONFIRM_VALIDITY_HOURS,
            LinkPurpose::ResetPassword => RESET_VALIDITY_HOURS,
            LinkPurpose::ChangeEmail => CHANGE_VALIDITY_HOURS,
        })
    }

    /// The page a link of this purpose opens (the secret follows).
    pub fn path_prefix(self) -> &'static str {
        match self {
            LinkPurpose::ConfirmEmail => "/confirmer-adresse/",
            LinkPurpose::ResetPassword => "/mot-de-passe/",
            LinkPurpose::ChangeEmail => "/changer-adresse/",
        }
    }
}

/// Why a link cannot be used. Each is a page of its own (with a way to ask for a new link) and,
/// in the API, a problem document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Unknown secret: altered, truncated or made up (400).
    Invalid,
    /// Already used (410).
    Used,
    /// Past its expiry (410).
    Expired,
}

impl LinkProblem {
    pub fn message_key(self) -> &'static str {
        match self {
            LinkProblem::Invalid => "link.invalid",
            LinkProblem::Used => "link.used",
            LinkProblem::Expired => "link.expired",
        }
    }

    pub fn error(self) -> AppError {
        match self {
            LinkProblem::Invalid => {
                AppError::bad_request("this link is not valid (altered or incomplete)")
            }
            LinkProblem::Used => AppError::new(ErrorKind::Gone, "this link was already used"),
            LinkProblem::Expired => AppError::new(ErrorKind::Gone, "this link has expired"),
        }
        .with_message(self.message_key())
    }

    /// The problem an error from this module stands for, if it is a link problem.
    pub fn of(error: &AppError) -> Option<LinkProblem> {
        match error.message_key {
            Some("link.invalid") => Some(LinkProblem::Invalid),
            Some("link.used") => Some(LinkProblem::Used),
            Some("link.expired") => Some(LinkProblem::Expired),
            _ => None,
        }
    }
}

/// The language of mails to `account`: theirs, else the instance's.
pub fn member_lang(ctx: &AppContext, account: &DbAccount) -> Lang {
    ctx.lang_or_default(account.language.as_deref())
}

/// Who a mail is written to: what its words need to know about them.
struct Recipient<'a> {
    account_id: Option<i64>,
    lang: Lang,
    /// How the greeting names them.
    name: &'a str,
    username: &'a str,
}

impl<'a> Recipient<'a> {
    fn of(ctx: &AppContext, account: &'a DbAccount) -> Self {
        Recipient {
            account_id: Some(account.id),
            lang: member_lang(ctx, account),
            name: if account.display_name.trim().is_empty() {
                &account.username
            } else {
                &account.display_name
            },
            username: &account.username,
        }
    }

    fn greeting(&self) -> String {
        self.lang.t("mail.greeting").replace("{name}", self.name)
    }

    /// Replaces the `{instance}`, `{username}` and `{email}` placeholders of a mail sentence.
    fn fill(&self, ctx: &AppContext, key: &str, email: &str) -> String {
        self.lang
            .t(key)
            .replace("{instance}", &ctx.config.instance.name)
            .replace("{username}", self.username)
            .replace("{email}", email)
    }
}

/// Stores a new link for `account` in the caller's transaction; returns its secret.
async fn issue(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    purpose: LinkPurpose,
    email: &str,
) -> AppResult<String> {
    let secret = tokens::new_secret();
    db::account_tokens::insert(
        conn,
        &NewAccountToken {
            token_hash: tokens::hash_token(&secret),
            account_id: account.id,
            purpose: purpose.as_str().to_string(),
            email: email.to_string(),
            expires_at: Utc::now() + purpose.validity(),
        },
    )
    .await?;
    Ok(secret)
}

/// The mail that carries a link.
struct LinkMail {
    category: MailCategory,
    subject: &'static str,
    text: &'static str,
    action: &'static str,
    ignore: &'static str,
}

fn link_mail_text(purpose: LinkPurpose) -> LinkMail {
    match purpose {
        LinkPurpose::ConfirmEmail => LinkMail {
            category: MailCategory::ConfirmEmail,
            subject: "mail.confirm.subject",
            text: "mail.confirm.text",
            action: "mail.confirm.action",
            ignore: "mail.confirm.ignore",
        },
        LinkPurpose::ResetPassword => LinkMail {
            category: MailCategory::ResetPassword,
            subject: "mail.reset.subject",
            text: "mail.reset.text",
            action: "mail.reset.action",
            ignore: "mail.reset.ignore",
        },
        LinkPurpose::ChangeEmail => LinkMail {
            category: MailCategory::ChangeEmail,
            subject: "mail.change.subject",
            text: "mail.change.text",
            action: "mail.change.action",
            ignore: "mail.change.ignore",
        },
    }
}

/// Builds the mail carrying link `secret` of `purpose`, sent to `to`.
fn link_mail(
    ctx: &AppContext,
    recipient: &Recipient<'_>,
    purpose: LinkPurpose,
    to: &str,
    secret: &str,
) -> OutgoingMail {
    let lang = recipient.lang;
    let words = link_mail_text(purpose);
    let url = ctx
        .urls
        .absolute(&format!("{}{secret}", purpose.path_prefix()));
    let body = MailBody {
        greeting: recipient.greeting(),
        paragraphs: vec![recipient.fill(ctx, words.text, to)],
        action: Some((lang.t(words.action).to_string(), url)),
        footer: vec![recipient.fill(ctx, words.ignore, to)],
    };
    let (text, html) = body.render(lang, &ctx.config.instance.name);
    OutgoingMail {
        account_id: recipient.account_id,
        to: to.to_string(),
        lang,
        category: words.category,
        subject: recipient.fill(ctx, words.subject, to),
        text,
        html,
        unsubscribe_url: None,
    }
}

/// Stores a link and queues its mail, both in the caller's transaction.
async fn send_link(
    conn: &mut AsyncPgConnection,
    ctx: &AppContext,
    account: &DbAccount,
    purpose: LinkPurpose,
    to: &str,
) -> AppResult<()> {
    let secret = issue(conn, account, purpose, to).await?;
    let mail = link_mail(ctx, &Recipient::of(ctx, account), purpose, to, &secret);
    mail::enqueue(conn, ctx, mail).await?;
    Ok(())
}

/// Queues the confirmation link of a new account, in the registration's transaction.
pub async fn queue_confirmation(
    conn: &mut AsyncPgConnection,
    ctx: &AppContext,
    account: &DbAccount,
) -> AppResult<()> {
    send_link(
        conn,
        ctx,
        account,
        LinkPurpose::ConfirmEmail,
        &account.email,
    )
    .await
}

/// Whether `account` still has to confirm its address before publishing.
pub fn awaits_confirmation(ctx: &AppContext, account: &DbAccount) -> bool {
    ctx.config.accounts.require_confirmation && account.email_confirmed_at.is_none()
}

/// Sends a new confirmation link. 409 when the address is already confirmed, 429 past
/// [`MAX_CONFIRMATIONS_PER_HOUR`].
pub async fn resend_confirmation(ctx: &AppContext, account: &DbAccount) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        // Fresh and locked: two clicks at once count as two against the limit.
        let account = db::accounts::by_id_for_update(conn, account.id).await?;
        if account.email_confirmed_at.is_some() {
            return Err(
                AppError::new(ErrorKind::Conflict, "the address is already confirmed")
                    .with_message("confirm.already"),
            );
        }
        let since = Utc::now() - Duration::hours(1);
        let recent = db::account_tokens::count_since(
            conn,
            account.id,
            LinkPurpose::ConfirmEmail.as_str(),
            since,
        )
        .await?;
        if recent >= MAX_CONFIRMATIONS_PER_HOUR {
            return Err(AppError::new(
                ErrorKind::TooManyRequests,
                "too many confirmation links asked for in the past hour; try again later",
            )
            .with_message("confirm.rate_limited"));
        }
        send_link(
            conn,
            ctx,
            &account,
            LinkPurpose::ConfirmEmail,
            &account.email,
        )
        .await
    })
    .await
}

/// The link behind `secret` when it can still be used for `purpose`.
fn usable(token: Option<DbAccountToken>, purpose: LinkPurpose) -> AppResult<DbAccountToken> {
    let token = token
        .filter(|t| t.purpose == purpose.as_str())
        .ok_or_else(|| LinkProblem::Invalid.error())?;
    if token.used_at.is_some() {
        return Err(LinkProblem::Used.error());
    }
    if token.expires_at <= Utc::now() {
        return Err(LinkProblem::Expired.error());
    }
    Ok(token)
}

/// Checks a link without using it (to show its page): the account it is for.
pub async fn check_link(
    ctx: &AppContext,
    secret: &str,
    purpose: LinkPurpose,
) -> AppResult<(DbAccountToken, DbAccount)> {
    if !tokens::is_well_formed_secret(secret) {
        return Err(LinkProblem::Invalid.error());
    }
    let mut conn = ctx.conn().await?;
    let token = db::account_tokens::by_hash(&mut conn, &tokens::hash_token(secret)).await?;
    let token = usable(token, purpose)?;
    let account = db::accounts::by_id(&mut conn, token.account_id).await?;
    Ok((token, account))
}

/// Locks the link behind `secret` in the caller's transaction and checks it can be used.
async fn take_link(
    conn: &mut AsyncPgConnection,
    secret: &str,
    purpose: LinkPurpose,
) -> AppResult<DbAccountToken> {
    if !tokens::is_well_formed_secret(secret) {
        return Err(LinkProblem::Invalid.error());
    }
    let token = db::account_tokens::by_hash_for_update(conn, &tokens::hash_token(secret)).await?;
    usable(token, purpose)
}

/// Uses a confirmation link: the account's address is confirmed, the link (and any other
/// confirmation link of the account) used.
pub async fn confirm_email(ctx: &AppContext, secret: &str) -> AppResult<DbAccount> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbAccount, AppError, _>(async |conn| {
        let token = take_link(conn, secret, LinkPurpose::ConfirmEmail).await?;
        let account = db::accounts::by_id_for_update(conn, token.account_id).await?;
        // Sent to an address the account no longer has: it proves nothing about the current one.
        if !account.email.eq_ignore_ascii_case(&token.email) {
            return Err(LinkProblem::Invalid.error());
        }
        db::account_tokens::use_all(conn, account.id, LinkPurpose::ConfirmEmail.as_str()).await?;
        db::account_tokens::confirm_account_email(conn, account.id).await?;
        Ok(db::accounts::by_id(conn, account.id).await?)
    })
    .await
}

/// Asks for a password-reset link for the account with address `email`.
///
/// The answer is the same whether or not such an account exists (only a malformed address or
/// the per-address limit, which say nothing about accounts, answer otherwise), and both cases
/// do the same work: the mail is built and queued, and when there is no account (or the
/// account's hourly allowance is spent) that transaction is rolled back.
pub async fn request_password_reset(ctx: &AppContext, email: &str, ip: &str) -> AppResult<()> {
    let email = email.trim();
    if email.is_empty() {
        return Err(AppError::field("email", "field.required"));
    }
    if !accounts::email_looks_valid(email) {
        return Err(AppError::field("email", "field.email.invalid"));
    }
    let mut conn = ctx.conn().await?;
    let since = Utc::now() - Duration::hours(1);
    let from_address =
        db::login_failures::count_since(&mut conn, SCOPE_PASSWORD_RESET, ip, since).await?;
    if from_address >= MAX_RESETS_PER_ADDRESS_PER_HOUR {
        return Err(AppError::new(
            ErrorKind::TooManyRequests,
            "too many password-reset requests from this address; try again in an hour",
        )
        .with_message("reset.rate_limited"));
    }
    db::login_failures::record(&mut conn, SCOPE_PASSWORD_RESET, ip).await?;
    db::account_tokens::purge_expired(&mut conn).await?;

    let account = db::accounts::by_email(&mut conn, email)
        .await?
        .filter(|a| a.suspended_at.is_none());
    let result = conn
        .transaction::<(), ResetWork, _>(async |conn| {
            let Some(account) = account else {
                // Nobody to write to: the same work for a stand-in, then undone.
                let stand_in = Recipient {
                    account_id: None,
                    lang: ctx.default_lang,
                    name: "",
                    username: "",
                };
                let secret = tokens::new_secret();
                let mail = link_mail(ctx, &stand_in, LinkPurpose::ResetPassword, email, &secret);
                mail::enqueue(conn, ctx, mail).await?;
                return Err(ResetWork::Undo);
            };
            let recent = db::account_tokens::count_since(
                conn,
                account.id,
                LinkPurpose::ResetPassword.as_str(),
                since,
            )
            .await?;
            send_link(
                conn,
                ctx,
                &account,
                LinkPurpose::ResetPassword,
                &account.email,
            )
            .await?;
            if recent >= MAX_RESETS_PER_ACCOUNT_PER_HOUR {
                return Err(ResetWork::Undo);
            }
            Ok(())
        })
        .await;
    match result {
        Ok(()) | Err(ResetWork::Undo) => Ok(()),
        Err(ResetWork::Failed(e)) => Err(e),
    }
}

/// How the transaction of [`request_password_reset`] ends when it does not commit.
enum ResetWork {
    /// Done only so that every request costs the same: rolled back, nothing is sent.
    Undo,
    Failed(AppError),
}

impl From<AppError> for ResetWork {
    fn from(e: AppError) -> Self {
        ResetWork::Failed(e)
    }
}

impl From<diesel::result::Error> for ResetWork {
    fn from(e: diesel::result::Error) -> Self {
        ResetWork::Failed(e.into())
    }
}

/// Checks a new password against the rules of registration.
fn check_new_password(account: &DbAccount, password: &str) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    if password.is_empty() {
        errors.add("password", "field.required");
    } else if let Some(key) = accounts::check_password(password, &account.username) {
        errors.add("password", key);
    }
    errors.into_result()
}

/// Uses a reset link: the password changes, the link (and every other reset link of the
/// account) is used and every session of the account is closed, in one transaction. A link
/// problem or a refused password changes nothing.
pub async fn reset_password(
    ctx: &AppContext,
    secret: &str,
    new_password: &str,
) -> AppResult<DbAccount> {
    // Checked first without a lock: hashing takes a while and must not hold it.
    let (_, account) = check_link(ctx, secret, LinkPurpose::ResetPassword).await?;
    check_new_password(&account, new_password)?;
    let hash = accounts::hash_password(new_password).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbAccount, AppError, _>(async |conn| {
        let token = take_link(conn, secret, LinkPurpose::ResetPassword).await?;
        let account = db::accounts::by_id_for_update(conn, token.account_id).await?;
        db::account_tokens::use_all(conn, account.id, LinkPurpose::ResetPassword.as_str()).await?;
        db::account_tokens::set_password_hash(conn, account.id, &hash).await?;
        db::sessions::delete_all_of(conn, account.id).await?;
        // The owner proved they read the mail: past failed logins no longer lock them out.
        db::login_failures::clear(conn, SCOPE_ACCOUNT, &account.id.to_string()).await?;
        Ok(db::accounts::by_id(conn, account.id).await?)
    })
    .await
}

/// Asks to change the account's address to `new_email`: checks the current password, then
/// mails a confirmation link to the new address and a notice to the old one, in one
/// transaction. The address itself changes only when the link is used.
pub async fn request_email_change(
    ctx: &AppContext,
    account: &DbAccount,
    current_password: &str,
    new_email: &str,
) -> AppResult<()> {
    let new_email = new_email.trim().to_string();
    let mut errors = FieldErrors::default();
    if current_password.is_empty() {
        errors.add("current_password", "field.required");
    } else if current_password.chars().count() > accounts::MAX_PASSWORD_LEN
        || !accounts::verify_password(current_password, &account.password_hash).await
    {
        errors.add("current_password", "field.password.wrong");
    }
    if new_email.is_empty() {
        errors.add("email", "field.required");
    } else if !accounts::email_looks_valid(&new_email) {
        errors.add("email", "field.email.invalid");
    } else if new_email.eq_ignore_ascii_case(&account.email) {
        errors.add("email", "field.email.same");
    } else {
        let mut conn = ctx.conn().await?;
        if db::accounts::email_taken(&mut conn, &new_email).await? {
            errors.add("email", "field.email.taken");
        }
    }
    errors.into_result()?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let account = db::accounts::by_id_for_update(conn, account.id).await?;
        let since = Utc::now() - Duration::hours(1);
        let recent = db::account_tokens::count_since(
            conn,
            account.id,
            LinkPurpose::ChangeEmail.as_str(),
            since,
        )
        .await?;
        if recent >= MAX_CHANGES_PER_HOUR {
            return Err(AppError::new(
                ErrorKind::TooManyRequests,
                "too many changes of address asked for in the past hour; try again later",
            )
            .with_message("email_change.rate_limited"));
        }
        send_link(conn, ctx, &account, LinkPurpose::ChangeEmail, &new_email).await?;
        mail::enqueue(conn, ctx, change_notice(ctx, &account, &new_email)).await?;
        Ok(())
    })
    .await
}

/// The notice to the old address: someone asked to replace it.
fn change_notice(ctx: &AppContext, account: &DbAccount, new_email: &str) -> OutgoingMail {
    let recipient = Recipient::of(ctx, account);
    let body = MailBody {
        greeting: recipient.greeting(),
        paragraphs: vec![
            recipient.fill(ctx, "mail.changed.text", new_email),
            recipient.fill(ctx, "mail.changed.warning", new_email),
        ],
        action: None,
        footer: Vec::new(),
    };
    let (text, html) = body.render(recipient.lang, &ctx.config.instance.name);
    OutgoingMail {
        account_id: Some(account.id),
        to: account.email.clone(),
        lang: recipient.lang,
        category: MailCategory::EmailChanged,
        subject: recipient.fill(ctx, "mail.changed.subject", new_email),
        text,
        html,
        unsubscribe_url: None,
    }
}

/// Uses a change-of-address link: the account's address becomes the one the link was sent to
/// (confirmed, since the link proves it is read), unless another account took it meanwhile
/// (409, nothing changed).
pub async fn confirm_email_change(ctx: &AppContext, secret: &str) -> AppResult<DbAccount> {
    let mut conn = ctx.conn().await?;
    let result = conn
        .transaction::<DbAccount, AppError, _>(async |conn| {
            let token = take_link(conn, secret, LinkPurpose::ChangeEmail).await?;
            let account = db::accounts::by_id_for_update(conn, token.account_id).await?;
            let taken = db::accounts::email_taken_by_other(conn, &token.email, account.id).await?;
            if taken {
                return Err(email_taken());
            }
            db::account_tokens::use_all(conn, account.id, LinkPurpose::ChangeEmail.as_str())
                .await?;
            db::account_tokens::set_account_email(conn, account.id, &token.email).await?;
            Ok(db::accounts::by_id(conn, account.id).await?)
        })
        .await;
    match result {
        // Another account registered the address between the check and the update.
        Err(e) if e.kind == ErrorKind::Conflict && e.message_key.is_none() => Err(email_taken()),
        other => other,
    }
}

fn email_taken() -> AppError {
    AppError::new(
        ErrorKind::Conflict,
        "this address is now used by another account",
    )
    .with_message("email_change.taken")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_secrets_are_looked_up() {
        assert!(tokens::is_well_formed_secret(&tokens::new_secret()));
        assert!(!tokens::is_well_formed_secret("abc"));
        assert!(!tokens::is_well_formed_secret(&format!(
            "{}!",
            &tokens::new_secret()[..42]
        )));
    }

    #[test]
    fn link_problems_round_trip_through_errors() {
        for problem in [
            LinkProblem::Invalid,
            LinkProblem::Used,
            LinkProblem::Expired,
        ] {
            assert_eq!(LinkProblem::of(&problem.error()), Some(problem));
        }
        assert_eq!(LinkProblem::Invalid.error().status().as_u16(), 400);
        assert_eq!(LinkProblem::Used.error().status().as_u16(), 410);
        assert_eq!(LinkProblem::Expired.error().status().as_u16(), 410);
        assert_eq!(LinkProblem::of(&AppError::not_found()), None);
    }

    #[test]
    fn reset_links_last_one_hour() {
        assert_eq!(LinkPurpose::ResetPassword.validity(), Duration::hours(1));
    }
}
