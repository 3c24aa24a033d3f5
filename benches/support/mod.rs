//! What the process benchmarks share: the real `culturecnous serve` in a child process on its
//! own data folder (its managed, durable PostgreSQL included, as in production), resident
//! memory readings, latency percentiles and a baseline of committed inserts.
#![allow(dead_code)]

use culturecnous::{
    config::{Config, ENV_PREFIX},
    context::AppContext,
    db::postgres::{APP_DATABASE, ManagedCluster},
    service::{
        accounts::{NewAccountInput, create_account},
        tokens::create_token,
    },
};
use std::{
    fs::OpenOptions,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// Benchmarks run only under `cargo bench` (which passes `--bench`): `cargo test
/// --all-targets` runs bench targets too, and these take minutes.
pub fn started_by_cargo_bench() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The sections asked for on the command line (`cargo bench --bench inbox -- b1`), or all.
pub fn wanted(all: &[&'static str]) -> Vec<&'static str> {
    let asked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let chosen: Vec<&'static str> = all
        .iter()
        .copied()
        .filter(|name| asked.iter().any(|a| a == name))
        .collect();
    if chosen.is_empty() {
        all.to_vec()
    } else {
        chosen
    }
}

/// Hundreds of sockets need more than the usual 1 024 descriptors.
pub fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// A port nobody listens on right now (the child binds it itself).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `VmRSS` and `VmHWM` (peak) of a process, in KiB.
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `culturecnous serve` as an operator runs it: configured through the environment only, a
/// data folder of its own and, unless a database URL is given, the managed PostgreSQL
/// cluster inside it (durable: fsync on). Everything is stopped and removed on drop.
pub struct Serve {
    pub label: String,
    pub port: u16,
    pub dir: PathBuf,
    pub database_url: Option<String>,
    pub extra_env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Serve {
    /// A new instance (nothing started yet) on a fresh folder under the temp directory,
    /// which the `postgres` system user can reach.
    pub fn new(label: &str) -> Serve {
        let dir = std::env::temp_dir().join(format!(
            "culturecnous-bench-{}-{label}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(dir.join("data")).expect("bench folder");
        Serve {
            label: label.into(),
            port: free_port(),
            dir,
            database_url: None,
            extra_env: Vec::new(),
            child: None,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("serve.log")
    }

    /// `localhost:PORT`: the instance's domain, which signed requests name as `host`.
    pub fn domain(&self) -> String {
        format!("localhost:{}", self.port)
    }

    pub fn base_url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The managed cluster under the data folder.
    pub fn cluster(&self) -> ManagedCluster {
        ManagedCluster::new(&self.data_dir().join("postgres")).expect("PostgreSQL binaries")
    }

    /// Where the instance's data lives (the managed cluster's, unless a URL was given).
    pub fn db_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| self.cluster().connection_string(APP_DATABASE))
    }

    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .expect("serve is running")
    }

    pub fn rss_kib(&self) -> (u64, u64) {
        rss_kib(self.pid())
    }

    /// Starts `serve` and waits for its first answered request; returns how long that took
    /// from the spawn.
    pub async fn start(&mut self) -> Duration {
        assert!(self.child.is_none(), "{} already runs", self.label);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_culturecnous"));
        command
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("log handle")))
            .stderr(Stdio::from(log));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with(ENV_PREFIX) {
                command.env_remove(name);
            }
        }
        command
            .env("CULTURECNOUS__INSTANCE__URL", self.base_url())
            .env(
                "CULTURECNOUS__HTTP__BIND",
                format!("127.0.0.1:{}", self.port),
            )
            .env("CULTURECNOUS__STORAGE__DATA_DIR", self.data_dir())
            .env("CULTURECNOUS__FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true")
            .env("NO_COLOR", "1")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            );
        if let Some(url) = &self.database_url {
            command.env("CULTURECNOUS__DATABASE__URL", url);
        }
        command.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        let started = Instant::now();
        self.child = Some(command.spawn().expect("spawn culturecnous serve"));
        self.wait_until_answers().await;
        started.elapsed()
    }

    async fn wait_until_answers(&mut self) {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let url = format!("http://127.0.0.1:{}/", self.port);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!(
                    "{} exited ({status}) before answering. Log:\n{}",
                    self.label,
                    self.log_tail()
                );
            }
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer within 2 minutes. Log:\n{}",
                self.label,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// SIGKILL: what a crash or the OOM killer does. The managed PostgreSQL (its own process
    /// group) keeps running, as it would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit (the managed PostgreSQL is stopped with it when this
    /// process started it).
    pub async fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: a signal to our own child, not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
            }
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill9();
        let pg = self.data_dir().join("postgres");
        if pg.join("PG_VERSION").exists()
            && let Ok(cluster) = ManagedCluster::new(&pg)
        {
            cluster.stop_blocking();
        }
        if std::env::var_os("KEEP_BENCH_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("kept {}", self.dir.display());
        }
    }
}

/// A diesel connection to `url`, for setting up rows and counting results.
pub async fn connect(url: &str) -> diesel_async::AsyncPgConnection {
    use diesel_async::AsyncConnection;
    diesel_async::AsyncPgConnection::establish(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// Sorted latencies and what is printed about them.
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn new(mut all: Vec<Duration>) -> Latencies {
        all.sort_unstable();
        Latencies(all)
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn summary(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(self.percentile(50.0)),
            ms(self.percentile(90.0)),
            ms(self.percentile(99.0)),
            ms(self.0.last().copied().unwrap_or_default())
        )
    }
}

/// Committed single-row inserts per second into a scratch table shaped like a stored
/// activity (text id, ~1.5 KB JSONB), from `clients` connections for `length`: the ceiling
/// any handler that stores one row per activity runs into on this machine and database.
pub async fn insert_rate(url: &str, clients: usize, length: Duration) -> f64 {
    let (admin, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let admin_task = tokio::spawn(conn);
    admin
        .batch_execute(
            "DROP TABLE IF EXISTS bench_insert_scratch; \
             CREATE TABLE bench_insert_scratch (id BIGSERIAL PRIMARY KEY, ap_id TEXT NOT NULL UNIQUE, \
             data JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await
        .expect("scratch table");
    let payload = serde_json::json!({
        "type": "Create",
        "object": {"type": "Note", "content": "<p>Résidence d'artistes au printemps</p>".repeat(35)},
    })
    .to_string();
    let deadline = Instant::now() + length;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let url = url.to_string();
            let payload = payload.clone();
            tokio::spawn(async move {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                let task = tokio::spawn(conn);
                let insert = client
                    .prepare("INSERT INTO bench_insert_scratch (ap_id, data) VALUES ($1, $2::text::jsonb)")
                    .await
                    .expect("prepare");
                let mut done = 0usize;
                while Instant::now() < deadline {
                    let id = format!("https://bench.example/activities/{c}-{done}");
                    client
                        .execute(&insert, &[&id, &payload])
                        .await
                        .expect("insert");
                    done += 1;
                }
                drop(client);
                let _ = task.await;
                done
            })
        })
        .collect();
    let started = Instant::now();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("insert client");
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    admin
        .batch_execute("DROP TABLE bench_insert_scratch")
        .await
        .expect("drop scratch table");
    drop(admin);
    let _ = admin_task.await;
    rate
}

/// CPU time (user + system) a process used so far.
pub fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    // SAFETY: sysconf has no preconditions.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100);
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / per_second.max(1))
}

pub fn own_pid() -> u32 {
    std::process::id()
}

/// CPU time used so far by a PostgreSQL cluster: the postmaster and its live children
/// (backends of a connection pool live as long as the pool).
pub fn cluster_cpu(cluster_dir: &std::path::Path) -> Duration {
    let Some(postmaster) = std::fs::read_to_string(cluster_dir.join("postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
    else {
        return Duration::ZERO;
    };
    let mut total = cpu_of(postmaster);
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if parent == Some(postmaster) {
                total += cpu_of(pid);
            }
        }
    }
    total
}

/// CPU used by the server, its database and this process between two readings.
pub struct CpuMeter {
    server: u32,
    cluster_dir: PathBuf,
    start: (Duration, Duration, Duration, Instant),
}

impl CpuMeter {
    pub fn start(serve: &Serve) -> CpuMeter {
        let server = serve.pid();
        let cluster_dir = serve.data_dir().join("postgres");
        let start = (
            cpu_of(server),
            cluster_cpu(&cluster_dir),
            cpu_of(own_pid()),
            Instant::now(),
        );
        CpuMeter {
            server,
            cluster_dir,
            start,
        }
    }

    /// "server 12.9 s, PostgreSQL 8.1 s, this client 2.1 s over 24.5 s (2 cores)", and the
    /// server's and database's CPU per item.
    pub fn report(&self, items: usize) -> String {
        let server = cpu_of(self.server).saturating_sub(self.start.0);
        let db = cluster_cpu(&self.cluster_dir).saturating_sub(self.start.1);
        let client = cpu_of(own_pid()).saturating_sub(self.start.2);
        let wall = self.start.3.elapsed();
        let per = |d: Duration| d.as_secs_f64() * 1e6 / items.max(1) as f64;
        format!(
            "CPU: server {:.1} s ({:.0} µs/request), PostgreSQL {:.1} s ({:.0} µs/request), this client {:.1} s, over {:.1} s of wall time on {} cores (1-minute load average: {})",
            server.as_secs_f64(),
            per(server),
            db.as_secs_f64(),
            per(db),
            client.as_secs_f64(),
            wall.as_secs_f64(),
            std::thread::available_parallelism().map_or(2, usize::from),
            load_average()
        )
    }
}

/// The 1-minute load average: the machine is shared, and other work skews every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// A context on the instance's database, from outside the process (as the CLI does).
pub fn side_context(serve: &Serve) -> AppContext {
    let mut config = Config::default();
    config.database.url = serve.db_url();
    config.instance.url = serve.base_url();
    config.http.bind = format!("127.0.0.1:{}", serve.port);
    config.storage.data_dir = serve.data_dir();
    config.federation.allow_private_addresses = true;
    let pool = culturecnous::db::pool::build_pool(&config.database.url, 4).expect("pool");
    AppContext::new(config, pool)
}

/// The instance's JSON API, as one member with a token.
pub struct Api {
    http: reqwest::Client,
    base: String,
    host: String,
    token: String,
}

impl Api {
    /// Creates the member `username` (through the domain functions, as `user create` does)
    /// and a token for it.
    pub async fn member(serve: &Serve, username: &str) -> Api {
        let ctx = side_context(serve);
        create_account(
            &ctx,
            NewAccountInput {
                username: username.into(),
                email: format!("{username}@example.org"),
                password: "un mot de passe solide".into(),
                kind: "structure".into(),
                role: "member".into(),
                display_name: format!("Compagnie {username}"),
            },
        )
        .await
        .expect("account");
        let token = create_token(&ctx, username, "bench").await.expect("token");
        Api {
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            base: format!("http://127.0.0.1:{}", serve.port),
            host: serve.domain(),
            token,
        }
    }

    /// `POST path` with a JSON body; the answer must be a success.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("host", &self.host)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: {e}: {text}"))
    }
}

/// The application in process on a test database of `dbs` (instance identity and system
/// actors recorded, as `serve` does at start): its context and its router, for benchmarks
/// that send requests through `tower::ServiceExt` without a socket.
pub async fn in_process_app(
    dbs: &'static culturecnous::testing::TestDatabases,
) -> anyhow::Result<(AppContext, axum::Router)> {
    let mut config = dbs.config(8080).await;
    config.database.pool_size = 8;
    std::fs::create_dir_all(config.storage.data_dir.join("media"))?;
    let pool = culturecnous::db::pool::build_pool(&config.database.url, config.database.pool_size)?;
    let ctx = AppContext::new(config, pool);
    culturecnous::service::instance_url::check_or_record(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("instance identity: {e:?}"))?;
    culturecnous::service::actors::ensure_system_actors(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("system actors: {e:?}"))?;
    let federation = culturecnous::federation::build_config(&ctx).await?;
    let router = culturecnous::app(ctx.clone(), federation);
    Ok((ctx, router))
}

/// One request through the in-process router: `Accept` is JSON for `/api/` paths and HTML
/// otherwise, `auth` one header (`authorization` or `cookie`), `body` sent as JSON. Answers
/// the status and the whole body.
pub async fn in_process_request(
    router: &axum::Router,
    method: axum::http::Method,
    uri: &str,
    auth: Option<(&'static str, &str)>,
    body: Option<serde_json::Value>,
) -> anyhow::Result<(axum::http::StatusCode, bytes::Bytes)> {
    use axum::{body::Body, http::header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let mut builder = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(
            header::ACCEPT,
            if uri.starts_with("/api/") {
                "application/json"
            } else {
                "text/html"
            },
        );
    if let Some((name, value)) = auth {
        builder = builder.header(name, value);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = router.clone().oneshot(builder.body(body)?).await?;
    let status = response.status();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// `GET uri` through the in-process router; anything but 200 is an error. Answers the body's
/// length.
pub async fn in_process_get(
    router: &axum::Router,
    uri: &str,
    auth: Option<(&'static str, &str)>,
) -> anyhow::Result<usize> {
    let (status, body) =
        in_process_request(router, axum::http::Method::GET, uri, auth, None).await?;
    if status != axum::http::StatusCode::OK {
        anyhow::bail!("{uri}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body.len())
}
