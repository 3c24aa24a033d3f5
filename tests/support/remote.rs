//! Remote actors for fault-tolerance tests and benchmarks: key pairs, the actor rows an
//! instance caches for them, and requests signed the way Mastodon signs them
//! (draft-cavage, `rsa-sha256` over `(request-target) host date digest`).
//!
//! Included with `#[path]` by the tests and benches that need it (not a test target itself).
#![allow(dead_code)]

use activitypub_federation::http_signatures::{Keypair, generate_actor_keypair};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use culturecnous::db::actors::NewActor;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, pkcs8::DecodePrivateKey};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// `n` RSA-2048 key pairs, made on every core at once (one takes a fraction of a second in an
/// optimised build, several seconds in a debug one).
pub fn keypairs(n: usize) -> Vec<Keypair> {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let per_thread = n.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let count = per_thread.min(n.saturating_sub(t * per_thread));
            std::thread::spawn(move || {
                (0..count)
                    .map(|_| generate_actor_keypair().expect("RSA key pair"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("key generation thread"))
        .collect()
}

pub fn private_key(keypair: &Keypair) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(&keypair.private_key).expect("private key PEM")
}

/// The row an instance keeps for the remote actor `{base}/users/{username}`, freshly
/// refreshed, so its key is used without any fetch.
pub fn actor_row(base: &str, username: &str, public_key_pem: &str) -> NewActor {
    let ap_id = format!("{base}/users/{username}");
    let domain = base
        .split("://")
        .nth(1)
        .expect("base URL with a scheme")
        .trim_end_matches('/')
        .to_string();
    let now = chrono::Utc::now();
    NewActor {
        ap_id: ap_id.clone(),
        kind: "Person".into(),
        username: username.into(),
        domain,
        local: false,
        name: format!("{username} (remote)"),
        summary_html: String::new(),
        icon_url: None,
        url: Some(format!("{base}/@{username}")),
        inbox_url: format!("{ap_id}/inbox"),
        shared_inbox_url: Some(format!("{base}/inbox")),
        outbox_url: Some(format!("{ap_id}/outbox")),
        followers_url: Some(format!("{ap_id}/followers")),
        following_url: Some(format!("{ap_id}/following")),
        public_key_pem: public_key_pem.to_string(),
        private_key_pem: None,
        manually_approves_followers: false,
        discoverable: true,
        published: now,
        last_refreshed_at: now,
    }
}

/// A POST ready to send: the same bytes can be sent again (a replay, or a retry after 503).
#[derive(Debug, Clone)]
pub struct SignedPost {
    /// The activity id, to check what the receiver stored.
    pub activity_id: String,
    pub path: String,
    /// `host`, `date`, `digest`, `content-type`, `signature`.
    pub headers: Vec<(&'static str, String)>,
    pub body: bytes::Bytes,
}

/// Signs `activity` for `POST {path}` on `host` (`localhost:PORT`), as `key_id`.
pub fn sign_post(
    key: &RsaPrivateKey,
    key_id: &str,
    host: &str,
    path: &str,
    activity: &serde_json::Value,
    date: SystemTime,
) -> SignedPost {
    let body = serde_json::to_vec(activity).expect("activity JSON");
    let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(&body)));
    let date = httpdate::fmt_http_date(date);
    let signing_string =
        format!("(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {digest}");
    let signature = key
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_string.as_bytes()),
        )
        .expect("RSA signature");
    let signature = format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"{}\"",
        BASE64.encode(signature)
    );
    SignedPost {
        activity_id: activity["id"].as_str().unwrap_or_default().to_string(),
        path: path.to_string(),
        headers: vec![
            ("host", host.to_string()),
            ("date", date),
            ("digest", digest),
            ("content-type", "application/activity+json".to_string()),
            ("signature", signature),
        ],
        body: body.into(),
    }
}

/// Sends `post` to the listener at `addr` (the `Host` header names the instance, whatever
/// address the socket has). Returns the status, or the transport error.
pub async fn send(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    post: &SignedPost,
) -> Result<reqwest::StatusCode, String> {
    let mut request = client.post(format!("http://{addr}{}", post.path));
    for (name, value) in &post.headers {
        request = request.header(*name, value);
    }
    let response = request
        .body(post.body.clone())
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = response.status();
    // Read the body so the connection goes back to the pool.
    let _ = response.bytes().await;
    Ok(status)
}
