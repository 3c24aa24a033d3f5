//! One cultureCnous instance under test: in-process or the real binary, same helpers for both.

use crate::{
    Answer, PASSWORD, eventually, free_port, http_client,
    process::ChildServer,
    read_answer,
    tap::{Tap, TappedRequest},
};
use culturecnous::{
    RunningInstance,
    config::{Config, ENV_PREFIX},
    context::AppContext,
    db::{
        actors::DbActor,
        pool,
        schema::{activities, actors, deliveries, follows, posts, received_activities},
    },
    federation::FederationConfig,
    service::{
        accounts::{NewAccountInput, create_account},
        tokens::create_token,
    },
    start_with_listener,
    testing::TestDatabases,
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};
use tokio::net::TcpListener;

/// A member created by the harness, with an API token.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub token: String,
    /// The actor URL, as `GET /api/v1/me` reports it.
    pub ap_id: String,
}

/// A row of the persistent delivery queue, as the scenarios look at it.
#[derive(Debug, Clone, Queryable)]
pub struct DeliveryRow {
    pub id: i64,
    pub inbox_url: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub delivered: bool,
    pub failed: bool,
}

/// A post or announcement as an instance stores it, for the checks.
#[derive(Debug, Clone, Queryable)]
pub struct StoredPost {
    pub id: i64,
    pub category: String,
    pub title: String,
    pub body_html: String,
    pub deleted: bool,
}

enum Runner {
    InProcess {
        running: Option<Box<RunningInstance>>,
        tap: Option<Tap>,
    },
    Binary {
        process: ChildServer,
    },
    /// Several `culturecnous serve` processes on one database and one data folder, each on
    /// its own port, behind a round-robin load balancer on the instance's port.
    Nodes {
        nodes: Vec<ChildServer>,
        node_ports: Vec<u16>,
        balancer: Tap,
        /// The balancer's port, bound before the first start.
        public: Option<TcpListener>,
    },
}

/// An instance under test. Its database and data folder outlive stops, so `start()` after
/// `stop()` (or `kill9()`) brings back the same instance on the same port.
pub struct Instance {
    name: String,
    port: u16,
    url: String,
    config: Config,
    /// A context on the instance's database that works whether or not the server runs: for
    /// the binary, for a stopped instance, and for checks.
    side: AppContext,
    /// Built once the instance has started once (it needs the system actors).
    side_federation: Option<FederationConfig>,
    http: reqwest::Client,
    runner: Runner,
}

impl Instance {
    /// An instance running inside the test process.
    pub async fn in_process(name: &str) -> Instance {
        Self::new_in_process(name, false).await
    }

    /// An in-process instance behind a recording proxy ([`Instance::tapped_requests`]).
    pub async fn in_process_tapped(name: &str) -> Instance {
        Self::new_in_process(name, true).await
    }

    async fn new_in_process(name: &str, tapped: bool) -> Instance {
        let dbs = TestDatabases::get();
        let public = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = public.local_addr().expect("local address").port();
        let config = dbs.config(port).await;
        let mut instance = Instance::assemble(
            name,
            port,
            config,
            Runner::InProcess {
                running: None,
                tap: tapped.then(Tap::new),
            },
        );
        instance.start_in_process(public).await;
        instance.build_side_federation().await;
        instance
    }

    /// The real `culturecnous serve`, in a child process, configured only through
    /// `CULTURECNOUS__…` variables: a fresh database in the test cluster, its own data folder,
    /// a fixed port (so it can come back on the same one), private addresses allowed.
    pub async fn binary(name: &str) -> Instance {
        let exe = culturecnous_binary();
        let dbs = TestDatabases::get();
        let port = free_port();
        let config = dbs.config(port).await;
        let log_path = config.storage.data_dir.with_extension("serve.log");
        let mut process = ChildServer::new(
            format!("instance {name} (culturecnous serve on port {port})"),
            exe,
            log_path,
        );
        process.args = vec!["serve".into()];
        process.env = binary_env(&config);
        process.remove_prefix = Some(ENV_PREFIX);
        let mut instance = Instance::assemble(name, port, config, Runner::Binary { process });
        instance.start().await;
        instance.build_side_federation().await;
        instance
    }

    /// `count` real `culturecnous serve` processes sharing one database, one data folder and
    /// one `instance.url`, each bound to its own port, behind a load balancer on the
    /// instance's port that spreads requests round-robin (POSTs on their own counter): how an
    /// operator runs several servers. They all start at once, as after a deployment.
    pub async fn binary_nodes(name: &str, count: usize) -> Instance {
        assert!(count >= 1, "at least one node");
        let exe = culturecnous_binary();
        let dbs = TestDatabases::get();
        let public = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = public.local_addr().expect("local address").port();
        let config = dbs.config(port).await;
        let mut nodes = Vec::new();
        let mut node_ports = Vec::new();
        for n in 1..=count {
            let node_port = free_port();
            let log_path = config
                .storage
                .data_dir
                .with_extension(format!("node{n}.serve.log"));
            let mut process = ChildServer::new(
                format!("instance {name}, node {n} (culturecnous serve on port {node_port})"),
                exe.clone(),
                log_path,
            );
            process.args = vec!["serve".into()];
            process.env = binary_env(&config)
                .into_iter()
                .map(|(k, v)| {
                    if k == "CULTURECNOUS__HTTP__BIND" {
                        (k, format!("127.0.0.1:{node_port}"))
                    } else {
                        (k, v)
                    }
                })
                .collect();
            process.remove_prefix = Some(ENV_PREFIX);
            nodes.push(process);
            node_ports.push(node_port);
        }
        let runner = Runner::Nodes {
            nodes,
            node_ports,
            balancer: Tap::new(),
            public: Some(public),
        };
        let mut instance = Instance::assemble(name, port, config, runner);
        instance.start().await;
        instance.build_side_federation().await;
        instance
    }

    fn assemble(name: &str, port: u16, config: Config, runner: Runner) -> Instance {
        std::fs::create_dir_all(config.storage.data_dir.join("media")).expect("data folder");
        let pool = pool::build_pool(&config.database.url, 4).expect("pool");
        let side = AppContext::new(config.clone(), pool);
        Instance {
            name: name.into(),
            port,
            url: config.base_url(),
            config,
            side,
            side_federation: None,
            http: http_client(),
            runner,
        }
    }

    async fn build_side_federation(&mut self) {
        let federation = culturecnous::federation::build_config(&self.side)
            .await
            .unwrap_or_else(|e| panic!("federation config of instance {}: {e:#}", self.name));
        self.side_federation = Some(federation);
    }

    async fn start_in_process(&mut self, public: TcpListener) {
        let Runner::InProcess { running, tap } = &mut self.runner else {
            unreachable!("in-process runner")
        };
        let (listener, tapped_port) = match tap {
            Some(_) => (
                TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind the backend port"),
                Some(public),
            ),
            None => (public, None),
        };
        let started = start_with_listener(self.config.clone(), listener)
            .await
            .unwrap_or_else(|e| panic!("instance {} does not start: {e:#}", self.name));
        if let (Some(tap), Some(public)) = (tap, tapped_port) {
            tap.start(public, started.local_addr);
        }
        *running = Some(Box::new(started));
    }

    // ---- identity -------------------------------------------------------------------------

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://localhost:<port>`, the base of every id.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `localhost:<port>`, the domain part of handles.
    pub fn domain(&self) -> String {
        self.config.domain()
    }

    /// `username@localhost:<port>`.
    pub fn handle(&self, username: &str) -> String {
        format!("{username}@{}", self.domain())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The context to call domain functions with: the running instance's own when it runs in
    /// this process, otherwise one on the same database.
    pub fn ctx(&self) -> &AppContext {
        match &self.runner {
            Runner::InProcess {
                running: Some(r), ..
            } => &r.ctx,
            _ => &self.side,
        }
    }

    /// The federation configuration going with [`Instance::ctx`].
    pub fn federation(&self) -> &FederationConfig {
        match &self.runner {
            Runner::InProcess {
                running: Some(r), ..
            } => &r.federation,
            _ => self
                .side_federation
                .as_ref()
                .expect("built when the instance first started"),
        }
    }

    /// The running in-process instance, if this is one and it runs.
    pub fn running(&self) -> Option<&RunningInstance> {
        match &self.runner {
            Runner::InProcess { running, .. } => running.as_deref(),
            Runner::Binary { .. } | Runner::Nodes { .. } => None,
        }
    }

    pub fn is_binary(&self) -> bool {
        matches!(self.runner, Runner::Binary { .. } | Runner::Nodes { .. })
    }

    /// How many `serve` processes answer for this instance (1 unless started with
    /// [`Instance::binary_nodes`]).
    pub fn node_count(&self) -> usize {
        match &self.runner {
            Runner::Nodes { nodes, .. } => nodes.len(),
            _ => 1,
        }
    }

    /// `http://localhost:<port>` of node `n` (from 0) itself, bypassing the load balancer.
    pub fn node_url(&self, n: usize) -> String {
        match &self.runner {
            Runner::Nodes { node_ports, .. } => format!("http://localhost:{}", node_ports[n]),
            _ => {
                assert_eq!(n, 0, "instance {} has one node", self.name);
                self.url.clone()
            }
        }
    }

    /// Process id of the binary, while it runs.
    pub fn pid(&self) -> Option<u32> {
        match &self.runner {
            Runner::Binary { process } => process.pid(),
            Runner::Nodes { nodes, .. } => nodes.iter().next().and_then(ChildServer::pid),
            Runner::InProcess { .. } => None,
        }
    }

    /// The end of the binary's log (empty for in-process instances), for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        match &self.runner {
            Runner::Binary { process } => process.log_tail(lines),
            Runner::Nodes { nodes, .. } => nodes
                .iter()
                .map(|node| node.log_tail(lines))
                .collect::<Vec<_>>()
                .join("\n"),
            Runner::InProcess { .. } => String::new(),
        }
    }

    // ---- lifecycle ------------------------------------------------------------------------

    pub fn is_running(&mut self) -> bool {
        match &mut self.runner {
            Runner::InProcess { running, .. } => running.is_some(),
            Runner::Binary { process } => process.is_running(),
            Runner::Nodes { nodes, .. } => nodes.iter_mut().any(ChildServer::is_running),
        }
    }

    /// Starts the stopped instance again: same port, same database, same data folder.
    pub async fn start(&mut self) {
        match &mut self.runner {
            Runner::InProcess { running, .. } => {
                assert!(running.is_none(), "instance {} already runs", self.name);
                let public = bind_again(self.port).await;
                self.start_in_process(public).await;
            }
            Runner::Binary { process } => {
                process.spawn();
                process
                    .wait_until_answers(&self.http, &format!("{}/", self.url))
                    .await;
            }
            Runner::Nodes {
                nodes,
                node_ports,
                balancer,
                public,
            } => {
                for node in nodes.iter_mut() {
                    node.spawn();
                }
                for (node, port) in nodes.iter_mut().zip(node_ports.iter()) {
                    node.wait_until_answers(&self.http, &format!("http://localhost:{port}/"))
                        .await;
                }
                let public = match public.take() {
                    Some(listener) => listener,
                    None => bind_again(self.port).await,
                };
                let backends = node_ports
                    .iter()
                    .map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], *p)))
                    .collect();
                balancer.start_balanced(public, backends);
            }
        }
    }

    /// A clean stop: SIGTERM for the binary, `shutdown()` for an in-process instance (its
    /// port closes at once).
    pub async fn stop(&mut self) {
        match &mut self.runner {
            Runner::InProcess { running, tap } => {
                if let Some(tap) = tap {
                    tap.stop().await;
                }
                if let Some(r) = running.take() {
                    r.shutdown().await;
                }
            }
            Runner::Binary { process } => {
                process.terminate(Duration::from_secs(20)).await;
            }
            Runner::Nodes {
                nodes, balancer, ..
            } => {
                balancer.stop().await;
                for node in nodes.iter_mut() {
                    node.terminate(Duration::from_secs(20)).await;
                }
            }
        }
    }

    /// SIGTERM and wait (the binary only). Panics if the process had to be killed or failed.
    pub async fn terminate(&mut self) {
        let name = self.name.clone();
        let processes: Vec<&mut ChildServer> = match &mut self.runner {
            Runner::Binary { process } => vec![process],
            Runner::Nodes {
                nodes, balancer, ..
            } => {
                balancer.stop().await;
                nodes.iter_mut().collect()
            }
            Runner::InProcess { .. } => {
                panic!("terminate() is for the binary; use stop() for instance {name}")
            }
        };
        for process in processes {
            let status = process.terminate(Duration::from_secs(20)).await;
            if let Some(status) = status {
                assert!(
                    status.success(),
                    "{} did not stop cleanly on SIGTERM ({status}). Its log:\n{}",
                    process.label,
                    process.log_tail(40)
                );
            }
        }
    }

    /// SIGKILL (the binary only): no shutdown code runs, as in a crash.
    pub fn kill9(&mut self) {
        let name = self.name.clone();
        match &mut self.runner {
            Runner::Binary { process } => {
                process.kill9();
            }
            Runner::Nodes { nodes, .. } => {
                for node in nodes.iter_mut() {
                    node.kill9();
                }
            }
            Runner::InProcess { .. } => {
                panic!("kill9() needs a real process; instance {name} runs in-process")
            }
        }
    }

    /// Stop (cleanly), then start again.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    // ---- accounts and API -----------------------------------------------------------------

    /// A member account with an API token. In-process through the domain functions; for the
    /// binary through its own command line (`user create`, `token create`), with the same
    /// environment as `serve`. Either way the token is checked with `GET /api/v1/me`.
    pub async fn create_user(&self, username: &str) -> User {
        let token = match &self.runner {
            Runner::InProcess { .. } => {
                create_account(
                    self.ctx(),
                    NewAccountInput {
                        username: username.into(),
                        email: format!("{username}@example.org"),
                        password: PASSWORD.into(),
                        kind: "individual".into(),
                        role: "member".into(),
                        display_name: username.into(),
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("create {username} on {}: {e:?}", self.name));
                create_token(self.ctx(), username, "federation-tests")
                    .await
                    .unwrap_or_else(|e| panic!("token for {username} on {}: {e:?}", self.name))
            }
            Runner::Binary { .. } | Runner::Nodes { .. } => {
                let process = self.cli_process();
                let env = process.env.clone();
                let exe = process.program.clone();
                run_cli(
                    &exe,
                    &env,
                    &[
                        "user",
                        "create",
                        "--username",
                        username,
                        "--email",
                        &format!("{username}@example.org"),
                        "--password-stdin",
                    ],
                    Some(PASSWORD),
                )
                .await;
                let out = run_cli(
                    &exe,
                    &env,
                    &[
                        "token",
                        "create",
                        "--user",
                        username,
                        "--name",
                        "federation-tests",
                    ],
                    None,
                )
                .await;
                out.lines()
                    .rev()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or_else(|| panic!("`token create` printed no token: {out}"))
                    .to_string()
            }
        };
        let me = self
            .api_get(&token, "/api/v1/me")
            .await
            .success("GET /api/v1/me with the new token");
        let ap_id = me["ap_id"]
            .as_str()
            .unwrap_or_else(|| panic!("/api/v1/me has no ap_id: {me}"))
            .to_string();
        User {
            username: username.into(),
            token,
            ap_id,
        }
    }

    /// The process whose program and environment the command-line subcommands reuse.
    fn cli_process(&self) -> &ChildServer {
        match &self.runner {
            Runner::Binary { process } => process,
            Runner::Nodes { nodes, .. } => nodes.iter().next().expect("at least one node"),
            Runner::InProcess { .. } => panic!("instance {} runs in-process", self.name),
        }
    }

    /// `method path` on this instance with `Authorization: Bearer token` and a JSON body.
    pub async fn api(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} on instance {}: {e}", self.name));
        read_answer(response).await
    }

    /// [`Instance::api`] sent to node `n` directly, not through the load balancer.
    pub async fn api_on_node(
        &self,
        n: usize,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let url = format!("{}{path}", self.node_url(n));
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url} on instance {}: {e}", self.name));
        read_answer(response).await
    }

    pub async fn api_get(&self, token: &str, path: &str) -> Answer {
        self.api(reqwest::Method::GET, token, path, None).await
    }

    pub async fn api_post(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.api(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    pub async fn api_delete(&self, token: &str, path: &str) -> Answer {
        self.api(reqwest::Method::DELETE, token, path, None).await
    }

    pub async fn api_patch(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.api(reqwest::Method::PATCH, token, path, Some(body))
            .await
    }

    /// `GET path` as a browser would (`Accept: text/html`), without a session.
    pub async fn get_page(&self, path: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} on instance {}: {e}", self.name));
        read_answer(response).await
    }

    /// `POST /api/v1/follows {target}` as `user`; returns the answered `state`.
    pub async fn follow(&self, user: &User, target: &str) -> String {
        let answer = self
            .api_post(
                &user.token,
                "/api/v1/follows",
                &serde_json::json!({ "target": target }),
            )
            .await
            .success(&format!("{} follows {target}", user.username));
        answer["state"]
            .as_str()
            .unwrap_or_else(|| panic!("follow answer without state: {answer}"))
            .to_string()
    }

    /// `DELETE /api/v1/follows?target=…` as `user`.
    pub async fn unfollow(&self, user: &User, target: &str) {
        let path = format!(
            "/api/v1/follows?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("target", target)
                .finish()
        );
        self.api_delete(&user.token, &path)
            .await
            .success(&format!("{} unfollows {target}", user.username));
    }

    /// `GET url` as an ActivityPub client would (`Accept: application/activity+json`).
    pub async fn get_activity_json(&self, url: &str) -> Answer {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/activity+json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        read_answer(response).await
    }

    /// The ids listed by a (possibly paged) `OrderedCollection`/`Collection` at `url`,
    /// following `first` and `next`. Items may be ids or embedded objects.
    pub async fn collection_items(&self, url: &str) -> Result<Vec<String>, String> {
        let mut items = Vec::new();
        let root = self.fetch_json(url).await?;
        let mut page = match root.get("first") {
            Some(Value::String(first)) => Some(self.fetch_json(first).await?),
            Some(first @ Value::Object(_)) => Some(first.clone()),
            _ => Some(root.clone()),
        };
        let mut pages = 0;
        while let Some(current) = page.take() {
            pages += 1;
            if pages > 100 {
                return Err(format!("{url}: more than 100 pages"));
            }
            for key in ["orderedItems", "items"] {
                match current.get(key) {
                    Some(Value::Array(list)) => items.extend(list.iter().filter_map(item_id)),
                    Some(one @ (Value::String(_) | Value::Object(_))) => items.extend(item_id(one)),
                    _ => {}
                }
            }
            if let Some(Value::String(next)) = current.get("next") {
                page = Some(self.fetch_json(next).await?);
            }
        }
        Ok(items)
    }

    async fn fetch_json(&self, url: &str) -> Result<Value, String> {
        let answer = self.get_activity_json(url).await;
        if !answer.status.is_success() {
            return Err(format!("GET {url}: {} {}", answer.status, answer.body));
        }
        serde_json::from_str(&answer.body).map_err(|e| format!("GET {url}: not JSON ({e})"))
    }

    // ---- the delivery queue ---------------------------------------------------------------

    /// Delivers everything this instance has pending, now, from this process (in-process
    /// instances only; the binary's own workers deliver its queue).
    pub async fn drain(&self) {
        let name = &self.name;
        let running = self
            .running()
            .unwrap_or_else(|| panic!("drain(): instance {name} is not running in-process"));
        culturecnous::federation::delivery::drain_all_now(&running.ctx, &running.federation)
            .await
            .unwrap_or_else(|e| panic!("draining the queue of instance {name}: {e:?}"));
    }

    /// Makes every pending delivery nobody is sending right now due at once (what the
    /// backoff would do, minus the wait); returns how many. Rows under a worker's lease are
    /// left alone, so nothing is claimed twice. The instance's own workers then deliver them
    /// (they poll every second).
    pub async fn make_deliveries_due(&self) -> usize {
        let mut conn = self.conn().await;
        culturecnous::db::deliveries::make_all_due(&mut conn)
            .await
            .expect("make deliveries due")
    }

    /// Deliveries neither delivered nor given up.
    pub async fn pending_deliveries(&self) -> i64 {
        let mut conn = self.conn().await;
        deliveries::table
            .filter(deliveries::delivered_at.is_null())
            .filter(deliveries::failed_at.is_null())
            .count()
            .get_result(&mut conn)
            .await
            .expect("count deliveries")
    }

    /// The deliveries of the activity whose id is `activity_ap_id`.
    pub async fn deliveries_of(&self, activity_ap_id: &str) -> Vec<DeliveryRow> {
        let mut conn = self.conn().await;
        deliveries::table
            .inner_join(activities::table)
            .filter(activities::ap_id.eq(activity_ap_id))
            .select((
                deliveries::id,
                deliveries::inbox_url,
                deliveries::attempts,
                deliveries::last_error,
                deliveries::delivered_at.is_not_null(),
                deliveries::failed_at.is_not_null(),
            ))
            .order(deliveries::id)
            .load(&mut conn)
            .await
            .expect("load deliveries")
    }

    /// Ids of the activities of `kind` this instance published about `object_ap_id`, oldest
    /// first.
    pub async fn published_activities(&self, kind: &str, object_ap_id: &str) -> Vec<String> {
        let mut conn = self.conn().await;
        activities::table
            .filter(activities::kind.eq(kind))
            .filter(activities::object_ap_id.eq(object_ap_id))
            .order(activities::id)
            .select(activities::ap_id)
            .load(&mut conn)
            .await
            .expect("load activities")
    }

    // ---- rows, for the checks ---------------------------------------------------------------

    async fn conn(&self) -> culturecnous::db::PooledConn {
        self.side
            .pool
            .get()
            .await
            .unwrap_or_else(|e| panic!("database of instance {}: {e}", self.name))
    }

    /// The actor row (local or cached remote) with this id.
    pub async fn actor(&self, ap_id: &str) -> Option<DbActor> {
        let mut conn = self.conn().await;
        culturecnous::db::actors::by_ap_id(&mut conn, ap_id)
            .await
            .expect("load actor")
    }

    /// State of the follow `follower` → `followee` as this instance stores it.
    pub async fn follow_state(&self, follower_ap_id: &str, followee_ap_id: &str) -> Option<String> {
        let mut conn = self.conn().await;
        let (follower, followee) = diesel::alias!(actors as follower, actors as followee);
        follows::table
            .inner_join(follower.on(follower.field(actors::id).eq(follows::follower_id)))
            .inner_join(followee.on(followee.field(actors::id).eq(follows::followee_id)))
            .filter(follower.field(actors::ap_id).eq(follower_ap_id))
            .filter(followee.field(actors::ap_id).eq(followee_ap_id))
            .select(follows::state)
            .first::<String>(&mut conn)
            .await
            .optional()
            .expect("load follow")
    }

    /// Waits until the follow `follower` → `followee` is in `state` here (`None`: gone).
    pub async fn wait_follow_state(&self, follower: &str, followee: &str, state: Option<&str>) {
        let what = format!(
            "instance {}: follow {follower} -> {followee} to be {state:?}",
            self.name
        );
        eventually(&what, crate::STEP_TIMEOUT, || async {
            let now = self.follow_state(follower, followee).await;
            if now.as_deref() == state {
                Ok(())
            } else {
                Err(format!("it is {now:?}"))
            }
        })
        .await;
    }

    /// The copy this instance keeps of the post or announcement `ap_id` (remote or local).
    pub async fn stored_post(&self, ap_id: &str) -> Option<StoredPost> {
        let mut conn = self.conn().await;
        posts::table
            .filter(posts::ap_id.eq(ap_id))
            .select((
                posts::id,
                posts::category,
                posts::title,
                posts::body_html,
                posts::deleted_at.is_not_null(),
            ))
            .first(&mut conn)
            .await
            .optional()
            .expect("load post")
    }

    /// How many times the inbox recorded the activity `ap_id` (0 or 1: the ids are unique).
    pub async fn received_count(&self, ap_id: &str) -> i64 {
        let mut conn = self.conn().await;
        received_activities::table
            .filter(received_activities::ap_id.eq(ap_id))
            .count()
            .get_result(&mut conn)
            .await
            .expect("count received activities")
    }

    /// What reached this instance's public port (tapped instances only).
    pub fn tapped_requests(&self) -> Vec<TappedRequest> {
        match &self.runner {
            Runner::InProcess { tap: Some(tap), .. } => tap.requests(),
            Runner::Nodes { balancer, .. } => balancer.requests(),
            _ => panic!(
                "instance {} has no tap: start it with Instance::in_process_tapped",
                self.name
            ),
        }
    }

    /// How many POSTs carrying the activity `ap_id` reached this instance (tapped only).
    pub fn posts_of_activity(&self, ap_id: &str) -> usize {
        self.tapped_requests()
            .iter()
            .filter(|r| r.method == "POST" && r.activity_id.as_deref() == Some(ap_id))
            .count()
    }
}

fn item_id(item: &Value) -> Option<String> {
    match item {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// The environment `serve` (and the other subcommands) get for `config`.
fn binary_env(config: &Config) -> Vec<(String, String)> {
    let mut env = vec![
        ("CULTURECNOUS__INSTANCE__URL", config.instance.url.clone()),
        ("CULTURECNOUS__HTTP__BIND", config.http.bind.clone()),
        ("CULTURECNOUS__DATABASE__URL", config.database.url.clone()),
        ("CULTURECNOUS__DATABASE__POOL_SIZE", "8".to_string()),
        (
            "CULTURECNOUS__STORAGE__DATA_DIR",
            config.storage.data_dir.display().to_string(),
        ),
        (
            "CULTURECNOUS__FEDERATION__ALLOW_PRIVATE_ADDRESSES",
            "true".to_string(),
        ),
        (
            "CULTURECNOUS__FEDERATION__DELIVERY_WORKERS",
            config.federation.delivery_workers.to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect::<Vec<_>>();
    // The log is a file the failure messages quote: no colour codes in it.
    env.push(("NO_COLOR".into(), "1".into()));
    if std::env::var_os("RUST_LOG").is_none() {
        env.push(("RUST_LOG".into(), "info,activitypub_federation=info".into()));
    }
    env
}

/// Runs a `culturecnous` subcommand to completion; returns its standard output. Fails the test
/// with both outputs when it does not succeed.
async fn run_cli(
    exe: &Path,
    env: &[(String, String)],
    args: &[&str],
    stdin: Option<&str>,
) -> String {
    use tokio::io::AsyncWriteExt;
    let mut command = tokio::process::Command::new(exe);
    command
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with(ENV_PREFIX) {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} {args:?}: {e}", exe.display()));
    if let Some(mut input) = child.stdin.take() {
        if let Some(text) = stdin {
            input
                .write_all(format!("{text}\n").as_bytes())
                .await
                .expect("write stdin");
        }
        drop(input);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("culturecnous {args:?} did not finish in 60 s"))
        .expect("wait for culturecnous");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "culturecnous {args:?} failed ({}):\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Binds `127.0.0.1:port` again after a stop; the port may take a moment to be released.
async fn bind_again(port: u16) -> TcpListener {
    eventually(
        &format!("port {port} to be free again"),
        Duration::from_secs(10),
        || async move {
            TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| e.to_string())
        },
    )
    .await
}

/// The `culturecnous` binary of this build: `CULTURECNOUS_BIN` if set, else the one beside
/// this test executable (`target/<profile>/culturecnous`). Cargo builds it for the main
/// crate's own integration tests, so `cargo test --workspace` and `cargo build` provide it;
/// `cargo test -p federation-tests` alone does not. A missing binary, or one older than the
/// sources it is built from (`src/`, `templates/`, `migrations/`), fails the test with the
/// command to run, rather than testing yesterday's code.
pub(crate) fn culturecnous_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CULTURECNOUS_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("path of the test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> folder");
    let bin = profile_dir.join("culturecnous");
    let build_it = "run `cargo build --bin culturecnous` (or `cargo test --workspace`, which \
                    builds it), or point CULTURECNOUS_BIN at a binary";
    let bin_time = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("no culturecnous binary at {}: {build_it}", bin.display()));
    let root = crate::workspace_root();
    let newer: Vec<PathBuf> = ["src", "templates", "migrations"]
        .iter()
        .flat_map(|dir| files_under(&root.join(dir)))
        .filter(|(_, modified)| *modified > bin_time)
        .map(|(path, _)| path)
        .take(3)
        .collect();
    assert!(
        newer.is_empty(),
        "{} is older than its sources (e.g. {newer:?}): {build_it}",
        bin.display()
    );
    bin
}

/// Every file under `dir`, with its modification time.
fn files_under(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(path),
                Ok(m) => {
                    if let Ok(modified) = m.modified() {
                        found.push((path, modified));
                    }
                }
                Err(_) => {}
            }
        }
    }
    found
}
