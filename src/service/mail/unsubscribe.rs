//! One-click unsubscribe links (RFC 8058): every notification and digest mail carries a link
//! that stops that kind of mail without logging in. The link names the member and what to
//! stop, signed with HMAC-SHA256 under a key made once per instance, so nobody can stop
//! another member's mails by guessing.

use crate::{
    context::AppContext,
    db::schema::{accounts, alerts},
    error::{AppError, AppResult},
    service::notifications::{Delivery, NotificationKind, delivery_for, set_delivery},
    service::tokens,
};
use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use diesel_async::{AsyncConnection, RunQueryDsl};

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

/// The signed token `{account}.{scope}.{signature}`.
pub async fn token(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    scope: Scope,
) -> AppResult<String> {
    let payload = format!("{account_id}.{}", scope.encode());
    let sig = tokens::sign_with(&tokens::link_key(conn).await?, &payload)?;
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
    let key = tokens::link_key(conn).await?;
    targets
        .iter()
        .map(|(account_id, scope)| {
            let payload = format!("{account_id}.{}", scope.encode());
            let sig = tokens::sign_with(&key, &payload)?;
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
    let payload = format!("{account}.{}", scope.encode());
    let key = tokens::link_key(conn).await?;
    Ok(tokens::signature_matches(&key, &payload, sig).then_some((account_id, scope)))
}

/// The answer to a link whose signature is wrong (altered, truncated, or from another
/// instance): 400, and nothing changes.
fn invalid_link() -> AppError {
    AppError::bad_request("invalid unsubscribe link").with_message("unsubscribe.invalid")
}

/// What a valid link stops, for the confirmation page; a bad signature is a 400.
pub async fn check(ctx: &AppContext, token: &str) -> AppResult<Scope> {
    let mut conn = ctx.conn().await?;
    match verify(&mut conn, token).await? {
        Some((_, scope)) => Ok(scope),
        None => Err(invalid_link()),
    }
}

/// What [`unsubscribe`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribed {
    pub scope: Scope,
    /// False when those mails were already stopped (a second click, a mail client that
    /// posts twice): the answer is the same.
    pub changed: bool,
}

/// Stops the mails a link names, in one transaction. A type's notifications stay in the
/// centre (only the mails stop); an alert keeps notifying in the centre without mails; the
/// digest scope moves every daily or weekly type to the centre and stops the mails of daily and
/// weekly alerts. Works without a session: the signed token is the authority.
pub async fn unsubscribe(ctx: &AppContext, token: &str) -> AppResult<Unsubscribed> {
    let mut conn = ctx.conn().await?;
    let Some((account_id, scope)) = verify(&mut conn, token).await? else {
        return Err(invalid_link());
    };
    let changed = conn
        .transaction::<_, AppError, _>(async |conn| {
            {
                // A link of a deleted account has nothing left to stop.
                let exists: Option<i64> = accounts::table
                    .find(account_id)
                    .select(accounts::id)
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                if exists.is_none() {
                    return Ok(false);
                }
                match scope {
                    Scope::Kind(kind) => stop_kind_mails(conn, account_id, kind, &MAILED).await,
                    Scope::Alert(alert_id) => {
                        let n = diesel::update(
                            alerts::table
                                .filter(alerts::id.eq(alert_id))
                                .filter(alerts::account_id.eq(account_id))
                                .filter(alerts::mail.ne("none")),
                        )
                        .set(alerts::mail.eq("none"))
                        .execute(conn)
                        .await?;
                        Ok(n > 0)
                    }
                    Scope::Digest => {
                        let mut changed = false;
                        for kind in NotificationKind::ALL {
                            changed |= stop_kind_mails(conn, account_id, *kind, &DIGESTS).await?;
                        }
                        let n = diesel::update(
                            alerts::table
                                .filter(alerts::account_id.eq(account_id))
                                .filter(alerts::mail.eq_any(["daily", "weekly"])),
                        )
                        .set(alerts::mail.eq("none"))
                        .execute(conn)
                        .await?;
                        Ok(changed || n > 0)
                    }
                }
            }
        })
        .await?;
    Ok(Unsubscribed { scope, changed })
}

/// Deliveries that send mail.
const MAILED: [Delivery; 3] = [Delivery::Instant, Delivery::Daily, Delivery::Weekly];
/// Deliveries that go into a digest.
const DIGESTS: [Delivery; 2] = [Delivery::Daily, Delivery::Weekly];

/// Moves `kind` to the centre when the member's delivery for it is one of `stop`.
async fn stop_kind_mails(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    kind: NotificationKind,
    stop: &[Delivery],
) -> AppResult<bool> {
    let current = delivery_for(conn, account_id, kind).await?;
    if !stop.contains(&current) {
        return Ok(false);
    }
    set_delivery(conn, account_id, kind, Delivery::Centre).await?;
    Ok(true)
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
