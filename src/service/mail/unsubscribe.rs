//! One-click unsubscribe links (RFC 8058): every notification and digest mail carries a link
//! that stops that kind of mail without logging in. The link names the member and what to
//! stop, signed with HMAC-SHA256 under a key made once per instance, so nobody can stop
//! another member's mails by guessing.

use crate::{
    context::AppContext, db, error::AppResult, service::notifications::NotificationKind,
    service::tokens,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use diesel_async::AsyncPgConnection;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The path of the unsubscribe page (GET shows a confirmation, POST unsubscribes).
pub const PATH: &str = "/desabonnement";

/// What a link stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Mails for one notification type (the type stays in the centre).
    Kind(NotificationKind),
    /// Mails of one alert.
    Alert(i64),
    /// The daily and weekly digests.
    Digest,
}

impl Scope {
    fn encode(self) -> String {
        match self {
            Scope::Kind(k) => format!("kind-{}", k.as_str()),
            Scope::Alert(id) => format!("alert-{id}"),
            Scope::Digest => "digest".to_string(),
        }
    }

    fn decode(s: &str) -> Option<Scope> {
        if s == "digest" {
            return Some(Scope::Digest);
        }
        if let Some(k) = s.strip_prefix("kind-") {
            return NotificationKind::parse(k).map(Scope::Kind);
        }
        s.strip_prefix("alert-")?.parse().ok().map(Scope::Alert)
    }
}

async fn key(conn: &mut AsyncPgConnection) -> AppResult<Vec<u8>> {
    Ok(
        db::instance_identity::link_secret(conn, &tokens::new_secret())
            .await?
            .into_bytes(),
    )
}

fn signature(key: &[u8], payload: &str) -> AppResult<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| crate::error::AppError::internal("unsubscribe key"))?;
    mac.update(payload.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The signed token `{account}.{scope}.{signature}`.
pub async fn token(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    scope: Scope,
) -> AppResult<String> {
    let payload = format!("{account_id}.{}", scope.encode());
    let sig = signature(&key(conn).await?, &payload)?;
    Ok(format!("{payload}.{sig}"))
}

/// The absolute unsubscribe URL for a mail (also the `List-Unsubscribe` target).
pub async fn link(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    account_id: i64,
    scope: Scope,
) -> AppResult<String> {
    let token = token(conn, account_id, scope).await?;
    Ok(ctx.urls.absolute(&format!("{PATH}?t={token}")))
}

/// The unsubscribe URLs of many mails at once (one read of the key), in the order given.
pub async fn links(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    targets: &[(i64, Scope)],
) -> AppResult<Vec<String>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let key = key(conn).await?;
    targets
        .iter()
        .map(|(account_id, scope)| {
            let payload = format!("{account_id}.{}", scope.encode());
            let sig = signature(&key, &payload)?;
            Ok(ctx.urls.absolute(&format!("{PATH}?t={payload}.{sig}")))
        })
        .collect()
}

/// The member and scope of a token, when its signature is right; `None` otherwise.
pub async fn verify(conn: &mut AsyncPgConnection, token: &str) -> AppResult<Option<(i64, Scope)>> {
    let mut parts = token.splitn(3, '.');
    let (Some(account), Some(scope), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (Ok(account_id), Some(scope)) = (account.parse::<i64>(), Scope::decode(scope)) else {
        return Ok(None);
    };
    let Ok(given) = URL_SAFE_NO_PAD.decode(sig) else {
        return Ok(None);
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(conn).await?)
        .map_err(|_| crate::error::AppError::internal("unsubscribe key"))?;
    mac.update(format!("{account}.{}", scope.encode()).as_bytes());
    // Constant-time comparison.
    Ok(mac.verify_slice(&given).ok().map(|()| (account_id, scope)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        for scope in [
            Scope::Kind(NotificationKind::Reply),
            Scope::Alert(42),
            Scope::Digest,
        ] {
            assert_eq!(Scope::decode(&scope.encode()), Some(scope));
        }
        assert_eq!(Scope::decode("alert-x"), None);
        assert_eq!(Scope::decode("kind-nope"), None);
    }
}
