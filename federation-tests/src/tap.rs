//! A recording reverse proxy in front of an in-process instance: the instance's public port is
//! the proxy's, every request is forwarded unchanged (Host included, so signatures still
//! verify) and noted. The inbox dedupes activity ids, so only the wire can tell whether a
//! sender delivered something twice.
//!
//! With several backends it is the load balancer in front of several `serve` processes on one
//! database: POSTs go round-robin (the first to backend 0, the next to backend 1, …) and so do
//! other requests, on their own counter, so a scenario knows both nodes get inbox traffic.

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderName, StatusCode, header},
    response::{IntoResponse, Response},
};
use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

/// One request that reached the tapped instance's public port.
#[derive(Debug, Clone)]
pub struct TappedRequest {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The instance's answer; `None` when it could not be reached.
    pub status: Option<u16>,
    /// `id` and `type` of a JSON body, when it has them (an activity POSTed to an inbox).
    pub activity_id: Option<String>,
    pub activity_type: Option<String>,
    pub body: String,
    /// Which backend answered (its index; always 0 for a single backend).
    pub backend: usize,
}

pub(crate) struct Tap {
    log: Arc<Mutex<Vec<TappedRequest>>>,
    running: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

struct Forward {
    backends: Vec<SocketAddr>,
    posts: AtomicUsize,
    others: AtomicUsize,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<TappedRequest>>>,
}

impl Tap {
    pub fn new() -> Self {
        Self {
            log: Arc::new(Mutex::new(Vec::new())),
            running: None,
        }
    }

    /// Serves `public`, forwarding to `backend`. The log survives stops and restarts.
    pub fn start(&mut self, public: TcpListener, backend: SocketAddr) {
        self.start_balanced(public, vec![backend]);
    }

    /// Serves `public`, spreading requests over `backends` round-robin (POSTs and other
    /// requests each on their own counter).
    pub fn start_balanced(&mut self, public: TcpListener, backends: Vec<SocketAddr>) {
        assert!(!backends.is_empty(), "the tap needs a backend");
        assert!(self.running.is_none(), "the tap is already running");
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("proxy client");
        let state = Arc::new(Forward {
            backends,
            posts: AtomicUsize::new(0),
            others: AtomicUsize::new(0),
            client,
            log: self.log.clone(),
        });
        let router = Router::new().fallback(forward).with_state(state);
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let _ = axum::serve(public, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        });
        self.running = Some((stop, task));
    }

    /// Closes the public port (connections included), as a stopped server would.
    pub async fn stop(&mut self) {
        if let Some((stop, mut task)) = self.running.take() {
            let _ = stop.send(true);
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }

    pub fn requests(&self) -> Vec<TappedRequest> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

async fn forward(State(state): State<Arc<Forward>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("tap: {e}")).into_response(),
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let counter = if parts.method == axum::http::Method::POST {
        &state.posts
    } else {
        &state.others
    };
    let backend = counter.fetch_add(1, Ordering::SeqCst) % state.backends.len();
    let mut builder = state.client.request(
        parts.method.clone(),
        format!("http://{}{path}", state.backends[backend]),
    );
    for (name, value) in &parts.headers {
        if !is_hop_by_hop(name) {
            builder = builder.header(name, value);
        }
    }
    let result = builder.body(bytes.clone()).send().await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut entry = TappedRequest {
        method: parts.method.to_string(),
        path,
        status: None,
        activity_id: field("id"),
        activity_type: field("type"),
        body: text,
        backend,
    };
    let response = match result {
        Ok(upstream) => {
            let status = upstream.status();
            entry.status = Some(status.as_u16());
            let mut response = Response::builder().status(status);
            for (name, value) in upstream.headers() {
                if !is_hop_by_hop(name) {
                    response = response.header(name, value);
                }
            }
            match upstream.bytes().await {
                Ok(body) => response
                    .body(Body::from(body))
                    .unwrap_or_else(|e| bad_gateway(&e.to_string())),
                Err(e) => bad_gateway(&e.to_string()),
            }
        }
        Err(e) => bad_gateway(&e.to_string()),
    };
    if let Ok(mut log) = state.log.lock() {
        log.push(entry);
    }
    response
}

fn bad_gateway(reason: &str) -> Response {
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/plain")],
        format!("tap: the instance behind this port did not answer: {reason}"),
    )
        .into_response()
}
