//! A remote server stand-in for delivery tests and the fan-out bench: an HTTP listener on
//! 127.0.0.1 (reached as `http://localhost:PORT`, its own host for the queue) that records
//! every request, checks its HTTP signature and Digest against the public keys it was given,
//! and answers what the test tells it to.
#![allow(dead_code)]

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use rsa::{
    RsaPublicKey,
    pkcs8::{DecodePublicKey, EncodePublicKey},
};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use url::Url;

/// One request as the sink saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The keyId whose key verified the signature, or why it did not verify.
    pub verified: Result<String, String>,
}

/// What the sink answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    /// Bytes of body to send back (`x` repeated).
    pub body_len: usize,
    /// Wait this long before answering.
    pub latency: Duration,
    /// Extra header (e.g. `location`).
    pub header: Option<(String, String)>,
    /// Answer 401 to a request not signed with RFC 9421 (`Signature-Input`), as a server
    /// reading only HTTP Message Signatures does.
    pub rfc9421_only: bool,
}

impl Default for Answer {
    fn default() -> Self {
        Self {
            status: StatusCode::ACCEPTED,
            retry_after: None,
            body_len: 0,
            latency: Duration::ZERO,
            header: None,
            rfc9421_only: false,
        }
    }
}

#[derive(Default)]
pub struct SinkState {
    received: Mutex<Vec<Received>>,
    answer: Mutex<Answer>,
    keys: Mutex<HashMap<String, ParsedPublicKey>>,
    /// Keep bodies and headers (tests) or only count (bench, to measure the sender).
    count_only: bool,
    count: std::sync::atomic::AtomicUsize,
    verified: std::sync::atomic::AtomicUsize,
}

pub struct Sink {
    pub addr: SocketAddr,
    pub state: Arc<SinkState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    pub async fn start() -> Sink {
        Self::start_with(Arc::new(SinkState::default())).await
    }

    /// A sink that only counts requests and verified signatures (for benches).
    pub async fn counting() -> Sink {
        Self::start_with(Arc::new(SinkState {
            count_only: true,
            ..SinkState::default()
        }))
        .await
    }

    async fn start_with(state: Arc<SinkState>) -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind sink");
        let addr = listener.local_addr().expect("sink address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Sink { addr, state, task }
    }

    /// `localhost:PORT`: the host deliveries to this sink are grouped under.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.host())).expect("sink url")
    }

    pub fn answer(&self, answer: Answer) {
        *self.state.answer.lock().expect("lock") = answer;
    }

    pub fn answer_status(&self, status: u16) {
        self.answer(Answer {
            status: StatusCode::from_u16(status).expect("status"),
            ..Answer::default()
        });
    }

    /// Trust `public_key_pem` for signatures whose keyId is `key_id`.
    pub fn trust(&self, key_id: &str, public_key_pem: &str) {
        let der = RsaPublicKey::from_public_key_pem(public_key_pem)
            .and_then(|key| key.to_public_key_der())
            .expect("public key");
        let key =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_bytes()).expect("RSA key");
        self.state
            .keys
            .lock()
            .expect("lock")
            .insert(key_id.to_string(), key);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    pub fn count(&self) -> usize {
        self.state.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn verified_count(&self) -> usize {
        self.state
            .verified
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn handle(State(state): State<Arc<SinkState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 4 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let verified = {
        let keys = state.keys.lock().expect("lock");
        verify_signature(parts.method.as_str(), &path, &parts.headers, &body, &keys)
    };
    state
        .count
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if verified.is_ok() {
        state
            .verified
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    if !state.count_only {
        state.received.lock().expect("lock").push(Received {
            method: parts.method.to_string(),
            path,
            headers: parts.headers.clone(),
            body,
            verified,
        });
    }
    let answer = state.answer.lock().expect("lock").clone();
    if !answer.latency.is_zero() {
        tokio::time::sleep(answer.latency).await;
    }
    let mut response = Response::new(Body::from(vec![b'x'; answer.body_len]));
    *response.status_mut() = answer.status;
    if answer.rfc9421_only && !parts.headers.contains_key("signature-input") {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    if let Some(retry_after) = answer.retry_after {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&retry_after).expect("retry-after"),
        );
    }
    if let Some((name, value)) = answer.header {
        response.headers_mut().insert(
            header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(&value).expect("header value"),
        );
    }
    response
}

/// Checks a draft-cavage HTTP signature the way a strict receiver does: the signed headers
/// must cover the request target, host, date (or `created`) and digest; the Digest must match
/// the body; the signature must verify with the key named by keyId. Returns the keyId.
/// RSA runs on aws-lc, as fast as the OpenSSL of most servers: a pure-Rust verification cost
/// the fan-out bench's in-process sinks more CPU than the sender's signing, on the same cores.
pub fn verify_signature(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    keys: &HashMap<String, ParsedPublicKey>,
) -> Result<String, String> {
    let header_value = |name: &str| -> Result<String, String> {
        headers
            .get(name)
            .ok_or_else(|| format!("missing header {name}"))?
            .to_str()
            .map(str::to_string)
            .map_err(|e| format!("header {name}: {e}"))
    };
    let signature_header = header_value("signature")?;
    let params = parse_signature_params(&signature_header);
    let param = |name: &str| -> Result<&String, String> {
        params
            .get(name)
            .ok_or_else(|| format!("signature parameter {name} missing"))
    };
    let key_id = param("keyId")?.clone();
    let signed: Vec<&str> = param("headers")?.split(' ').collect();
    for required in ["(request-target)", "host", "digest"] {
        if !signed.contains(&required) {
            return Err(format!("{required} is not signed"));
        }
    }
    if !signed.contains(&"date") && !signed.contains(&"(created)") {
        return Err("neither date nor (created) is signed".into());
    }
    let mut lines = Vec::new();
    for name in &signed {
        let value = match *name {
            "(request-target)" => format!("{} {path_and_query}", method.to_lowercase()),
            "(created)" => param("created")?.clone(),
            "(expires)" => param("expires")?.clone(),
            other => header_value(other)?,
        };
        lines.push(format!("{name}: {value}"));
    }
    let signing_string = lines.join("\n");
    let signature = BASE64
        .decode(param("signature")?)
        .map_err(|e| format!("signature is not base64: {e}"))?;
    let key = keys
        .get(&key_id)
        .ok_or_else(|| format!("unknown keyId {key_id}"))?;
    key.verify_sig(signing_string.as_bytes(), &signature)
        .map_err(|_| "bad signature".to_string())?;
    let digest = header_value("digest")?;
    let expected = format!("SHA-256={}", BASE64.encode(Sha256::digest(body)));
    if digest != expected {
        return Err(format!(
            "digest {digest} does not match the body ({expected})"
        ));
    }
    Ok(key_id)
}

fn parse_signature_params(header: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            break;
        };
        let name = name.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((value, remaining)) => (value.to_string(), remaining),
                None => (quoted.to_string(), ""),
            }
        } else {
            match after.split_once(',') {
                Some((value, remaining)) => (value.trim().to_string(), remaining),
                None => (after.trim().to_string(), ""),
            }
        };
        params.insert(name, value);
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    params
}
