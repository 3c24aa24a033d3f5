//! Accounts: registration, passwords, authentication, roles.

use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, accounts::NewAccount},
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    service::{account_links, actors},
};
use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use diesel_async::AsyncConnection;

pub const ROLES: &[&str] = &["member", "staff", "moderator", "admin"];
pub const KINDS: &[&str] = &["individual", "structure"];
pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Names that would collide with routes, well-known accounts or staff roles.
pub const RESERVED_USERNAMES: &[&str] = &[
    "admin",
    "administrateur",
    "administrator",
    "api",
    "inbox",
    "outbox",
    "actor",
    "instance",
    "root",
    "system",
    "support",
    "moderation",
    "moderateur",
    "moderator",
    "staff",
    "postmaster",
    "webmaster",
    "hostmaster",
    "abuse",
    "security",
    "noreply",
    "no_reply",
    "null",
    "undefined",
    "www",
    "mail",
    "static",
    "assets",
    "media",
    "users",
    "user",
    "login",
    "logout",
    "register",
    "inscription",
    "connexion",
    "settings",
    "parametres",
    "profile",
    "profil",
    "well_known",
    "nodeinfo",
    "webfinger",
    "forum",
    "workspaces",
    "venues",
    "lieux",
    "posts",
    "announcements",
    "annonces",
    "directory",
    "annuaire",
    "reports",
    "signalements",
    "departement",
    "culturecnous",
    "help",
    "aide",
    "about",
    "apropos",
    "contact",
    "feeds",
    "rss",
    "atom",
];

/// Shape of a username: 3–30 of `a-z`, `0-9`, `_`. Used for accounts and `instance.page_actor`.
pub fn check_username_shape(username: &str) -> Result<(), &'static str> {
    let len = username.chars().count();
    if !(3..=30).contains(&len) {
        return Err("must be 3 to 30 characters long");
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err("may only contain lowercase letters a-z, digits and _");
    }
    Ok(())
}

/// Lower-cases and trims what a person typed, so `Alice` and `alice` are the same account.
pub fn normalize_username(input: &str) -> String {
    input.trim().to_lowercase()
}

pub fn is_reserved(username: &str, page_actor: &str) -> bool {
    username == page_actor || RESERVED_USERNAMES.contains(&username)
}

pub fn email_looks_valid(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.len() <= 254
}

/// A few of the passwords every attacker tries first.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "motdepasse",
    "1234567890",
    "0123456789",
    "azertyuiop",
    "qwertyuiop",
    "password123",
    "motdepasse1",
    "aaaaaaaaaa",
    "iloveyou12",
    "culturecnous",
    "bonjour123",
    "soleil1234",
    "1234512345",
    "1111111111",
    "abcdefghij",
    "qwerty1234",
    "azerty1234",
];

/// Returns the i18n key of the problem, if any.
pub fn check_password(password: &str, username: &str) -> Option<&'static str> {
    if password.chars().count() > MAX_PASSWORD_LEN {
        return Some("field.password.too_long");
    }
    let lowered = password.to_lowercase();
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if password.chars().count() < MIN_PASSWORD_LEN
        || COMMON_PASSWORDS.contains(&lowered.as_str())
        || (!username.is_empty() && lowered.contains(username))
        || distinct.len() < 4
    {
        return Some("field.password.weak");
    }
    None
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
pub async fn hash_password(password: &str) -> AppResult<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| AppError::internal(format!("join: {e}")))?
}

pub async fn verify_password(password: &str, hash: &str) -> bool {
    let password = password.to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[derive(Debug, Clone)]
pub struct NewAccountInput {
    pub username: String,
    pub email: String,
    pub password: String,
    pub kind: String,
    pub role: String,
    pub display_name: String,
}

/// How an account comes to exist.
#[derive(Debug, Clone, Copy)]
enum Origin<'a> {
    /// Made by an administrator (`culturecnous user create`) or a tool: the address is taken
    /// as confirmed, no mail is sent.
    Administrative,
    /// Made by its owner on the sign-up page: unconfirmed, and the confirmation link is queued
    /// in the same transaction.
    Registration,
    /// Made by the actor of a directory entry the département listed, through the link of
    /// its claim invitation: the address the invitation reached is taken as confirmed, and
    /// the entry and invitation are taken over in the same transaction.
    Claim(&'a crate::service::directory::claim::ClaimTarget),
}

/// Creates an account on an administrator's word (`culturecnous user create`, scripts, tests):
/// its address is taken as confirmed. See [`register`] for the sign-up page.
pub async fn create_account(ctx: &AppContext, input: NewAccountInput) -> AppResult<DbAccount> {
    create(ctx, input, Origin::Administrative).await
}

/// Sign-up: creates the account unconfirmed and queues the mail with its confirmation link,
/// in the same transaction. Until the link is used the member can log in and read, but not
/// publish while `accounts.require_confirmation` is on (see [`ensure_can_publish`]).
pub async fn register(ctx: &AppContext, input: NewAccountInput) -> AppResult<DbAccount> {
    create(ctx, input, Origin::Registration).await
}

/// Claim of a listed directory entry: creates the account (address confirmed) and takes the
/// entry over, in one transaction; see [`crate::service::directory::claim`].
pub async fn create_claiming(
    ctx: &AppContext,
    input: NewAccountInput,
    target: &crate::service::directory::claim::ClaimTarget,
) -> AppResult<DbAccount> {
    create(ctx, input, Origin::Claim(target)).await
}

/// The one rule on who may publish posts, announcements and comments: not a suspended
/// account, and not one whose address still awaits confirmation when the instance requires
/// it. Every domain function that publishes calls it first.
pub fn ensure_can_publish(ctx: &AppContext, account: &DbAccount) -> AppResult<()> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    if account_links::awaits_confirmation(ctx, account) {
        return Err(AppError::forbidden(
            "confirm your e-mail address before publishing: follow the link mailed to you, \
             or ask for a new one (POST /api/v1/account/confirmation)",
        )
        .with_message("publishing.unconfirmed"));
    }
    Ok(())
}

/// Creates an account and its actor (with a fresh RSA-2048 key pair) in one transaction.
/// Every broken rule is reported at once, field by field; nothing is written on error.
async fn create(
    ctx: &AppContext,
    input: NewAccountInput,
    origin: Origin<'_>,
) -> AppResult<DbAccount> {
    let username = normalize_username(&input.username);
    let email = input.email.trim().to_string();
    let display_name = input.display_name.trim().to_string();
    let mut errors = FieldErrors::default();
    if username.is_empty() {
        errors.add("username", "field.required");
    } else if check_username_shape(&username).is_err() {
        errors.add("username", "field.username.invalid");
    } else if is_reserved(&username, &ctx.config.instance.page_actor) {
        errors.add("username", "field.username.reserved");
    }
    if email.is_empty() {
        errors.add("email", "field.required");
    } else if !email_looks_valid(&email) {
        errors.add("email", "field.email.invalid");
    }
    if input.password.is_empty() {
        errors.add("password", "field.required");
    } else if let Some(key) = check_password(&input.password, &username) {
        errors.add("password", key);
    }
    if !KINDS.contains(&input.kind.as_str()) {
        errors.add("kind", "field.kind.invalid");
    }
    if !ROLES.contains(&input.role.as_str()) {
        errors.add("role", "field.role.invalid");
    }
    if display_name.chars().count() > 100 {
        errors.add("display_name", "field.too_long");
    }
    {
        let mut conn = ctx.conn().await?;
        if !errors.has("username") && db::accounts::username_taken(&mut conn, &username).await? {
            errors.add("username", "field.username.taken");
        }
        if !errors.has("email") && db::accounts::email_taken(&mut conn, &email).await? {
            errors.add("email", "field.email.taken");
        }
    }
    errors.into_result()?;

    let password_hash = hash_password(&input.password).await?;
    let keypair = actors::generate_keypair().await?;
    let kind = input.kind.clone();
    let role = input.role.clone();
    let mut conn = ctx.conn().await?;
    let result = conn
        .transaction::<DbAccount, AppError, _>(async |conn| {
            let actor_kind = if kind == "structure" {
                "Organization"
            } else {
                "Person"
            };
            let new_actor =
                actors::new_local_actor(ctx, &username, actor_kind, &display_name, keypair);
            let actor = db::actors::insert(conn, &new_actor).await?;
            let account = db::accounts::insert(
                conn,
                &NewAccount {
                    actor_id: actor.id,
                    username: username.clone(),
                    email: email.clone(),
                    password_hash,
                    role,
                    kind,
                    display_name: display_name.clone(),
                },
            )
            .await?;
            match origin {
                Origin::Administrative => {
                    db::account_tokens::confirm_account_email(conn, account.id).await?;
                    Ok(db::accounts::by_id(conn, account.id).await?)
                }
                Origin::Registration => {
                    account_links::queue_confirmation(conn, ctx, &account).await?;
                    Ok(account)
                }
                Origin::Claim(target) => {
                    db::account_tokens::confirm_account_email(conn, account.id).await?;
                    crate::service::directory::claim::take_over(ctx, conn, &account, target)
                        .await?;
                    Ok(db::accounts::by_id(conn, account.id).await?)
                }
            }
        })
        .await;
    match result {
        Ok(account) => Ok(account),
        // Two sign-ups racing for the same name: the loser gets the same answer as above.
        Err(e) if e.kind == ErrorKind::Conflict => {
            if e.detail.contains("email") {
                Err(AppError::field("email", "field.email.taken"))
            } else {
                Err(AppError::field("username", "field.username.taken"))
            }
        }
        Err(e) => Err(e),
    }
}

pub async fn set_role(ctx: &AppContext, username: &str, role: &str) -> AppResult<DbAccount> {
    if !ROLES.contains(&role) {
        return Err(AppError::field("role", "field.role.invalid"));
    }
    let mut conn = ctx.conn().await?;
    let account = db::accounts::by_login(&mut conn, username)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(db::accounts::set_role(&mut conn, account.id, role).await?)
}

/// Role checks, in one place.
pub fn is_moderator(account: &DbAccount) -> bool {
    matches!(account.role.as_str(), "moderator" | "admin")
}
pub fn is_admin(account: &DbAccount) -> bool {
    account.role == "admin"
}
pub fn is_staff(account: &DbAccount) -> bool {
    matches!(account.role.as_str(), "staff" | "admin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(check_username_shape("alice_2").is_ok());
        assert!(check_username_shape("al").is_err());
        assert!(check_username_shape(&"a".repeat(31)).is_err());
        assert!(check_username_shape("Alice").is_err());
        assert!(check_username_shape("élodie").is_err());
        assert!(check_username_shape("a-b").is_err());
        assert_eq!(normalize_username("  Alice "), "alice");
        assert!(is_reserved("admin", "departement"));
        assert!(is_reserved("maville", "maville"));
        assert!(!is_reserved("alice", "departement"));
    }

    #[test]
    fn password_rules() {
        assert_eq!(check_password("short", "bob"), Some("field.password.weak"));
        assert_eq!(
            check_password("motdepasse", "bob"),
            Some("field.password.weak")
        );
        assert_eq!(
            check_password("aaaaaaaaaaaa", "bob"),
            Some("field.password.weak")
        );
        assert_eq!(
            check_password("bobbobbob123!", "bob"),
            Some("field.password.weak")
        );
        assert_eq!(
            check_password(&"x1y2".repeat(70), "bob"),
            Some("field.password.too_long")
        );
        assert_eq!(check_password("correct horse battery", "bob"), None);
    }

    #[test]
    fn email_rules() {
        assert!(email_looks_valid("a@b.fr"));
        assert!(!email_looks_valid("a@b"));
        assert!(!email_looks_valid("@b.fr"));
        assert!(!email_looks_valid("a b@c.fr"));
    }
}
