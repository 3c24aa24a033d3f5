//! Which HTTP signature scheme each server accepts from us, remembered per server.
//!
//! Draft-cavage is the default (what Mastodon reads today). A server is remembered as RFC 9421
//! when it accepted an RFC 9421 signature from us after refusing a draft-cavage one (the
//! double knock of `http_client::HttpSigner`), or when it sent us a verified RFC 9421
//! signature itself (a server that signs so reads so); it goes back to draft-cavage the same
//! way. The memory lives in `instances.signature_scheme` (shared by every process) and, for
//! reading, in a per-process copy reloaded every [`RELOAD_EVERY`] (one small query), so
//! signing a delivery never waits for the database.

use crate::context::AppContext;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How often the per-process copy is read again from the database, to learn what other
/// processes learnt.
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);

/// An HTTP signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// draft-cavage-http-signatures (`Signature: keyId=…,headers=…,signature=…`).
    Cavage,
    /// HTTP Message Signatures (`Signature-Input` + `Signature`).
    Rfc9421,
}

impl SignatureScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureScheme::Cavage => "cavage",
            SignatureScheme::Rfc9421 => "rfc9421",
        }
    }

    pub fn parse(text: &str) -> Option<SignatureScheme> {
        match text {
            "cavage" => Some(SignatureScheme::Cavage),
            "rfc9421" => Some(SignatureScheme::Rfc9421),
            _ => None,
        }
    }

    /// The scheme tried when this one was refused.
    pub fn other(self) -> SignatureScheme {
        match self {
            SignatureScheme::Cavage => SignatureScheme::Rfc9421,
            SignatureScheme::Rfc9421 => SignatureScheme::Cavage,
        }
    }
}

struct Snapshot {
    loaded_at: Option<Instant>,
    schemes: HashMap<String, SignatureScheme>,
}

/// The per-process copy of the remembered schemes, backed by the database.
pub struct SchemeMemory {
    ctx: AppContext,
    copy: Mutex<Snapshot>,
    reload: tokio::sync::Mutex<()>,
}

impl SchemeMemory {
    pub fn new(ctx: AppContext) -> SchemeMemory {
        SchemeMemory {
            ctx,
            copy: Mutex::new(Snapshot {
                loaded_at: None,
                schemes: HashMap::new(),
            }),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        self.copy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fresh(&self) -> bool {
        self.lock()
            .loaded_at
            .is_some_and(|at| at.elapsed() < RELOAD_EVERY)
    }

    /// The scheme to try first with `domain` (`host[:port]`): the remembered one, else
    /// draft-cavage. A database failure leaves the previous copy in use.
    pub async fn first_for(&self, domain: &str) -> SignatureScheme {
        if !self.fresh() {
            let _one_reload = self.reload.lock().await;
            if !self.fresh() {
                self.reload().await;
            }
        }
        self.lock()
            .schemes
            .get(domain)
            .copied()
            .unwrap_or(SignatureScheme::Cavage)
    }

    async fn reload(&self) {
        let loaded = async {
            let mut conn = self.ctx.conn().await.map_err(|e| e.to_string())?;
            crate::db::instances::signature_schemes(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        let mut copy = self.lock();
        copy.loaded_at = Some(Instant::now());
        match loaded {
            Ok(rows) => {
                copy.schemes = rows
                    .into_iter()
                    .filter_map(|(domain, s)| Some((domain, SignatureScheme::parse(&s)?)))
                    .collect();
            }
            Err(e) => tracing::warn!("reading the remembered signature schemes: {e}"),
        }
    }

    /// Remembers that `domain` accepted `scheme` (written only when it changes).
    pub async fn remember(&self, domain: &str, scheme: SignatureScheme) {
        {
            let mut copy = self.lock();
            if copy.schemes.get(domain) == Some(&scheme) {
                return;
            }
            copy.schemes.insert(domain.to_string(), scheme);
        }
        remember_in_database(&self.ctx, domain, scheme).await;
    }
}

/// Writes `domain`'s accepted scheme; a failure is logged (the next double knock learns it
/// again).
pub async fn remember_in_database(ctx: &AppContext, domain: &str, scheme: SignatureScheme) {
    let written = async {
        let mut conn = ctx.conn().await.map_err(|e| e.to_string())?;
        crate::db::instances::remember_signature_scheme(&mut conn, domain, scheme.as_str())
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    match written {
        Ok(()) => tracing::info!("{domain} accepts {} signatures", scheme.as_str()),
        Err(e) => tracing::warn!("remembering the signature scheme of {domain}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scheme in [SignatureScheme::Cavage, SignatureScheme::Rfc9421] {
            assert_eq!(SignatureScheme::parse(scheme.as_str()), Some(scheme));
            assert_eq!(scheme.other().other(), scheme);
        }
        assert_eq!(SignatureScheme::parse("hs2019"), None);
    }
}
