//! API bearer tokens: random, shown once, stored as SHA-256, revocable.

use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, schema::api_tokens},
    error::{AppError, AppResult},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix that makes a leaked token recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "ccn_";

/// The instance's key for signed links (unsubscribe links, appeal links), made once and kept
/// in the database so every node signs alike.
pub async fn link_key(conn: &mut diesel_async::AsyncPgConnection) -> AppResult<Vec<u8>> {
    Ok(
        crate::db::instance_identity::link_secret(conn, &new_secret())
            .await?
            .into_bytes(),
    )
}

/// HMAC-SHA256 of `payload` under `key`, URL-safe.
pub fn sign_with(key: &[u8], payload: &str) -> AppResult<String> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| crate::error::AppError::internal("link key"))?;
    mac.update(payload.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// Whether `signature` is [`sign_with`]'s for `payload` (compared in constant time).
pub fn signature_matches(key: &[u8], payload: &str, signature: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Ok(given) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(payload.as_bytes());
    mac.verify_slice(&given).is_ok()
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `value` has the shape of a [`new_secret`] (43 characters of URL-safe base64):
/// anything else is not worth a query.
pub fn is_well_formed_secret(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Creates a token for the account named `login` (username or e-mail); returns the secret.
pub async fn create_token(ctx: &AppContext, login: &str, name: &str) -> AppResult<String> {
    let account = {
        let mut conn = ctx.conn().await?;
        db::accounts::by_login(&mut conn, login)
            .await?
            .ok_or_else(|| AppError::field("user", "field.credentials.invalid"))?
    };
    Ok(create_token_for(ctx, &account, name).await?.secret)
}

/// Longest token name, in characters.
pub const TOKEN_NAME_MAX: usize = 100;

/// A token as its owner sees it: never the secret, which is only known at creation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A token just created: the only moment its secret exists outside its owner's hands.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub info: TokenInfo,
    pub secret: String,
}

/// Creates a token for `account`. The name is trimmed; it may be empty.
pub async fn create_token_for(
    ctx: &AppContext,
    account: &DbAccount,
    name: &str,
) -> AppResult<CreatedToken> {
    let name = name.trim();
    if name.chars().count() > TOKEN_NAME_MAX {
        return Err(AppError::field("name", "field.too_long"));
    }
    let mut conn = ctx.conn().await?;
    let secret = format!("{TOKEN_PREFIX}{}", new_secret());
    let info = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::account_id.eq(account.id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(hash_token(&secret)),
        ))
        .returning(TokenInfo::as_returning())
        .get_result(&mut conn)
        .await?;
    Ok(CreatedToken { info, secret })
}

/// The tokens of `account`, newest first, revoked ones included (so the owner sees history).
pub async fn list_tokens(ctx: &AppContext, account: &DbAccount) -> AppResult<Vec<TokenInfo>> {
    let mut conn = ctx.conn().await?;
    Ok(api_tokens::table
        .filter(api_tokens::account_id.eq(account.id))
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .select(TokenInfo::as_select())
        .load(&mut conn)
        .await?)
}

/// The account behind a bearer token, if the token exists and is not revoked.
pub async fn authenticate(ctx: &AppContext, token: &str) -> AppResult<DbAccount> {
    let mut conn = ctx.conn().await?;
    let hash = hash_token(token.trim());
    let account_id: Option<i64> = diesel::update(
        api_tokens::table
            .filter(api_tokens::token_hash.eq(&hash))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::last_used_at.eq(diesel::dsl::now))
    .returning(api_tokens::account_id)
    .get_result(&mut conn)
    .await
    .optional()?;
    let account_id =
        account_id.ok_or_else(|| AppError::unauthorized().with_message("field.token.invalid"))?;
    let account = db::accounts::by_id(&mut conn, account_id).await?;
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    Ok(account)
}

/// Revokes a token of `account` by its id. Revoking twice is harmless.
pub async fn revoke_token(ctx: &AppContext, account: &DbAccount, token_id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(token_id))
            .filter(api_tokens::account_id.eq(account.id)),
    )
    .set(api_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(&mut conn)
    .await?;
    if n == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}
