//! Harness for federation scenarios: several cultureCnous instances talking real HTTP with real
//! signatures, on `127.0.0.1` with ids on `http://localhost:<port>` (different ports are
//! different origins), each with its own database in the test process' one PostgreSQL cluster.
//!
//! - [`Instance::in_process`] starts an instance inside the test (`culturecnous::start_with_listener`),
//!   [`Instance::in_process_tapped`] puts a recording proxy in front of it so a test can count
//!   what arrived on the wire (the inbox dedupes, so its tables cannot tell "sent twice");
//! - [`Instance::binary`] runs the real `culturecnous serve` as a child process configured only
//!   through `CULTURECNOUS__…` variables, which can be killed with SIGKILL and restarted;
//! - [`Instance::binary_nodes`] runs several `serve` processes on one database behind a
//!   round-robin load balancer, as an operator with several servers does;
//! - [`Peer`] runs the Fedify-based Node peer in `federation-tests/peer/`.
//!
//! Nothing sleeps for a fixed time: [`eventually`] polls a condition until a deadline and fails
//! with the last reason it saw.
//!
//! Everything here is test code: failures panic with a message that says what to do.

mod instance;
mod peer;
mod process;
mod tap;

pub use instance::{DeliveryRow, Instance, StoredPost, User};
pub use peer::{
    Peer, PeerActivity, PeerInboxRequest, PeerObject, PeerOutgoing, PeerReceived, PeerState,
};
pub use tap::TappedRequest;

use std::{
    future::Future,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// Password of every account the harness creates.
pub const PASSWORD: &str = "un mot de passe solide";

/// How long a scenario step may take before the test fails. Generous for a loaded 2-core CI
/// machine; a passing step returns as soon as its condition holds.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Polls `check` until it returns `Ok`, and returns that value. Fails the test after `timeout`
/// with `what` and the last error `check` gave, so a stuck scenario says where it stuck.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(20);
    loop {
        match check().await {
            Ok(value) => return value,
            Err(reason) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}: {reason}")
            }
            Err(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(250));
            }
        }
    }
}

/// [`eventually`], draining the delivery queue of every running in-process instance before each
/// check: what a scenario step waits for usually needs one or more hops of delivery (a Follow
/// out, its Accept back). Binary instances deliver with their own workers.
pub async fn settle<T, F, Fut>(instances: &[&Instance], what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    eventually(what, STEP_TIMEOUT, || {
        let checked = check();
        async move {
            for instance in instances {
                if instance.running().is_some() {
                    instance.drain().await;
                }
            }
            checked.await
        }
    })
    .await
}

/// The workspace root (where `Cargo.toml`, `target/` and `federation-tests/` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A port nobody listens on right now: bind port 0, note the port, release it. Used where the
/// listener is not ours to hand over (a child process binds it itself).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// An HTTP answer read to the end.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub content_type: Option<String>,
    pub body: String,
}

impl Answer {
    /// The body as JSON; fails the test with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "expected JSON, got {} ({e}): {}",
                self.status,
                truncate(&self.body)
            )
        })
    }

    /// The JSON body of a 2xx answer; anything else fails the test with `what` and the body.
    pub fn success(&self, what: &str) -> serde_json::Value {
        assert!(
            self.status.is_success(),
            "{what}: expected success, got {}: {}",
            self.status,
            truncate(&self.body)
        );
        if self.body.trim().is_empty() {
            serde_json::Value::Null
        } else {
            self.json()
        }
    }
}

pub(crate) async fn read_answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response
        .text()
        .await
        .unwrap_or_else(|e| format!("(unreadable body: {e})"));
    Answer {
        status,
        content_type,
        body,
    }
}

/// At most 2 000 characters of `text`, for failure messages.
pub(crate) fn truncate(text: &str) -> String {
    const MAX: usize = 2000;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}… ({} bytes in all)", &text[..i], text.len()),
        None => text.to_string(),
    }
}

/// The HTTP client tests use: never through a proxy from the environment (everything is on
/// 127.0.0.1), never following redirects silently.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("HTTP client")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn eventually_returns_once_the_condition_holds() {
        let mut calls = 0;
        let value = eventually("the third call", Duration::from_secs(5), || {
            calls += 1;
            let n = calls;
            async move {
                if n >= 3 {
                    Ok(n)
                } else {
                    Err(format!("call {n}"))
                }
            }
        })
        .await;
        assert_eq!(value, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for nothing good: still bad")]
    async fn eventually_fails_with_the_last_reason() {
        eventually("nothing good", Duration::from_millis(50), || async {
            Err::<(), _>("still bad".to_string())
        })
        .await;
    }

    #[test]
    fn truncate_keeps_short_text_and_cuts_long_text() {
        assert_eq!(truncate("court"), "court");
        let long = "é".repeat(3000);
        let cut = truncate(&long);
        assert!(cut.starts_with(&"é".repeat(2000)));
        assert!(cut.ends_with("(6000 bytes in all)"), "{cut}");
    }

    #[test]
    fn free_ports_can_be_bound() {
        let port = free_port();
        assert_ne!(port, 0);
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    }
}
