//! The binary itself: configuration errors, `migrate`, `user create`, `token create`, and
//! `serve` on its managed PostgreSQL cluster, each run as a real process.

use crate::common::{PASSWORD, TestApp};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use culturecnous::{db, db::postgres::ManagedCluster, testing::TestDatabases};
use std::{
    path::{Path, PathBuf},
    process::{Child, Output, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};
use tokio::io::AsyncWriteExt;

fn binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_culturecnous"));
    // Only what each test sets: a developer's own CULTURECNOUS__* must not leak in.
    for (key, _) in std::env::vars() {
        if key.starts_with("CULTURECNOUS__") {
            command.env_remove(key);
        }
    }
    command.env("RUST_LOG", "warn");
    command
}

/// Runs the binary to completion with `stdin` as its standard input.
async fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut command = tokio::process::Command::from(binary());
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run the binary");
    let mut input = child.stdin.take().expect("stdin");
    // A command may refuse its arguments and exit before reading its input: then the pipe
    // is closed, which is not the test's failure (its exit status and messages are checked).
    match input.write_all(stdin.as_bytes()).await {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    }
    drop(input);
    tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("culturecnous {args:?} did not finish in 3 minutes"))
        .expect("wait for the binary")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// The last non-empty line of standard output: where `token create` prints the token.
fn last_line(out: &Output) -> String {
    stdout(out)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

#[test]
fn invalid_configuration_exits_2_naming_the_key() {
    let out = binary()
        .arg("migrate")
        .env("CULTURECNOUS__INSTANCE__LANGUAGE", "klingon")
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("instance.language"), "{stderr}");
    assert!(stderr.contains("klingon"), "{stderr}");

    let out = binary()
        .arg("serve")
        .env("CULTURECNOUS__STORAGE__MAX_UPLOAD_MB", "beaucoup")
        .stdin(Stdio::null())
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("storage.max_upload_mb"), "{stderr}");

    let out = binary()
        .arg("serve")
        .env(
            "CULTURECNOUS__MAIL__SMTP_URL",
            "imap://culture:s3cr3t@mail.example",
        )
        .stdin(Stdio::null())
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mail.smtp_url"), "{stderr}");
    assert!(
        !stderr.contains("s3cr3t"),
        "the password stays out of logs: {stderr}"
    );
}

/// Environment pointing the binary at the database of a test app.
fn env_for(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        (
            "CULTURECNOUS__DATABASE__URL",
            app.ctx.config.database.url.clone(),
        ),
        (
            "CULTURECNOUS__STORAGE__DATA_DIR",
            app.ctx.config.storage.data_dir.display().to_string(),
        ),
        (
            "CULTURECNOUS__INSTANCE__URL",
            app.ctx.config.instance.url.clone(),
        ),
    ]
}

fn as_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn get_me(app: &TestApp, token: &str) -> crate::common::TestResponse {
    app.send(
        Request::builder()
            .method(Method::GET)
            .uri("/api/v1/me")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn user_create_then_token_create_gives_a_working_api_token() {
    let app = TestApp::new().await;
    let env = env_for(&app);
    let env = as_refs(&env);

    let out = run(
        &[
            "user",
            "create",
            "--username",
            "la_fabrique",
            "--email",
            "contact@fabrique.example",
            "--role",
            "staff",
            "--kind",
            "structure",
            "--display-name",
            "La Fabrique",
            "--password-stdin",
        ],
        &env,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_success(&out, "user create");
    assert!(stdout(&out).contains("la_fabrique"), "{}", stdout(&out));

    let mut conn = app.ctx.conn().await.expect("conn");
    let account = db::accounts::by_login(&mut conn, "la_fabrique")
        .await
        .expect("query")
        .expect("the account exists");
    assert_eq!(account.role, "staff");
    assert_eq!(account.kind, "structure");
    assert_eq!(account.display_name, "La Fabrique");
    assert!(
        culturecnous::service::accounts::verify_password(PASSWORD, &account.password_hash).await,
        "the password read from stdin (without its newline) is the account's password"
    );

    let out = run(
        &[
            "token",
            "create",
            "--user",
            "la_fabrique",
            "--name",
            "agenda",
        ],
        &env,
        "",
    )
    .await;
    assert_success(&out, "token create");
    let token = last_line(&out);
    assert!(token.starts_with("ccn_"), "last line: {token:?}");
    assert!(
        !token.contains(' '),
        "the token is alone on its line: {token:?}"
    );

    let r = get_me(&app, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let me = r.json();
    assert_eq!(me["username"], "la_fabrique");
    assert_eq!(me["role"], "staff");
    assert_eq!(me["kind"], "structure");
    assert_eq!(me["display_name"], "La Fabrique");
    assert_eq!(me["ap_id"], "http://localhost:8080/users/la_fabrique");

    // Named token listed under its name; an unknown user is refused, naming the option.
    let r = app
        .send(
            Request::builder()
                .uri("/api/v1/tokens")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.json()["items"][0]["name"], "agenda", "{}", r.body);
    let out = run(&["token", "create", "--user", "personne"], &env, "").await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--user"), "{}", stderr(&out));
    assert!(
        last_line(&out).is_empty(),
        "no token printed: {}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_create_refuses_weak_passwords_and_duplicates() {
    let app = TestApp::new().await;
    let env = env_for(&app);
    let env = as_refs(&env);
    let create = |username: &'static str, email: &'static str| {
        [
            "user",
            "create",
            "--username",
            username,
            "--email",
            email,
            "--password-stdin",
        ]
    };
    let exists = |username: &'static str| {
        let ctx = app.ctx.clone();
        async move {
            let mut conn = ctx.conn().await.expect("conn");
            db::accounts::by_login(&mut conn, username)
                .await
                .expect("query")
                .is_some()
        }
    };

    for weak in ["court\n", "", "\n"] {
        let out = run(&create("camille", "camille@example.org"), &env, weak).await;
        assert!(!out.status.success(), "password {weak:?} accepted");
        assert!(stderr(&out).contains("--password"), "{}", stderr(&out));
        assert!(!exists("camille").await, "nothing written");
    }

    let out = run(
        &create("camille", "camille@example.org"),
        &env,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_success(&out, "user create");
    assert!(exists("camille").await);

    let out = run(
        &create("camille", "autre@example.org"),
        &env,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(!out.status.success(), "duplicate username accepted");
    assert!(stderr(&out).contains("--username"), "{}", stderr(&out));
    assert!(stderr(&out).contains("taken"), "{}", stderr(&out));
    assert!(!exists("autre@example.org").await);

    let out = run(
        &create("dominique", "CAMILLE@example.org"),
        &env,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(!out.status.success(), "duplicate e-mail accepted");
    assert!(stderr(&out).contains("--email"), "{}", stderr(&out));
    assert!(!exists("dominique").await);

    // Rules the argument parser enforces name the option too.
    let out = run(
        &[
            "user",
            "create",
            "--username",
            "dominique",
            "--email",
            "d@example.org",
            "--role",
            "emperor",
            "--password-stdin",
        ],
        &env,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--role"), "{}", stderr(&out));
    assert!(!exists("dominique").await);
}

static EMPTY_DB: AtomicU32 = AtomicU32::new(0);

/// Number of migrations shipped in `migrations/`.
fn migration_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("up.sql").exists())
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_builds_an_empty_database_once() {
    let dbs = TestDatabases::get();
    let name = format!(
        "cli_empty_{}_{}",
        std::process::id(),
        EMPTY_DB.fetch_add(1, Ordering::SeqCst)
    );
    let (admin, connection) = tokio_postgres::connect(&dbs.url("postgres"), tokio_postgres::NoTls)
        .await
        .expect("connect to the maintenance database");
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create an empty database");
    let url = dbs.url(&name);
    let data_dir = dbs.root.join(&name);
    let data_dir = data_dir.display().to_string();
    let env = [
        ("CULTURECNOUS__DATABASE__URL", url.as_str()),
        ("CULTURECNOUS__STORAGE__DATA_DIR", data_dir.as_str()),
    ];

    let out = run(&["migrate"], &env, "").await;
    assert_success(&out, "migrate");
    let expected = format!("applied {} database migration(s)", migration_count());
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));

    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to the migrated database");
    tokio::spawn(connection);
    for table in ["accounts", "actors", "api_tokens", "sessions"] {
        let row = client
            .query_one("SELECT to_regclass($1)::text", &[&table])
            .await
            .expect("query");
        let found: Option<String> = row.get(0);
        assert_eq!(found.as_deref(), Some(table), "table {table} created");
    }
    drop(client);

    let out = run(&["migrate"], &env, "").await;
    assert_success(&out, "second migrate");
    assert!(
        !stderr(&out).contains("applied"),
        "nothing left to apply: {}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// `serve` on its own managed cluster.

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Whether a process whose command line mentions `path` is alive (the postmaster is started
/// as `postgres -D <path>`).
fn process_mentioning(path: &Path) -> Option<String> {
    let needle = path.display().to_string();
    let own = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.chars().all(|c| c.is_ascii_digit()) && name != own.as_str()
        })
        .find_map(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (cmdline.contains(&needle) && cmdline.contains("postgres")).then_some(cmdline)
        })
}

/// A temporary data folder and the `serve` processes using it. Dropping it stops them
/// (SIGTERM, then SIGKILL), stops the cluster if a killed server left it running, and
/// removes the folder, so that a failing assertion leaves nothing behind.
struct ManagedSite {
    root: PathBuf,
    data_dir: PathBuf,
    servers: Vec<Child>,
}

impl ManagedSite {
    fn new() -> ManagedSite {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let root =
            std::env::temp_dir().join(format!("culturecnous-cli-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&root).expect("temp folder");
        let data_dir = root.join("data");
        ManagedSite {
            root,
            data_dir,
            servers: Vec::new(),
        }
    }

    fn pg_dir(&self) -> PathBuf {
        self.data_dir.join("postgres")
    }

    fn postmaster_pid(&self) -> PathBuf {
        self.pg_dir().join("postmaster.pid")
    }

    fn env(&self, port: u16) -> Vec<(&'static str, String)> {
        vec![
            ("CULTURECNOUS__DATABASE__URL", String::new()),
            (
                "CULTURECNOUS__STORAGE__DATA_DIR",
                self.data_dir.display().to_string(),
            ),
            ("CULTURECNOUS__HTTP__BIND", format!("127.0.0.1:{port}")),
            (
                "CULTURECNOUS__INSTANCE__URL",
                format!("http://localhost:{port}"),
            ),
        ]
    }

    /// Starts `serve` on `port`; its output goes to a log file read on failure.
    fn spawn_serve(&mut self, port: u16) -> (usize, PathBuf) {
        let log = self.root.join(format!("serve-{}.log", self.servers.len()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = binary()
            .arg("serve")
            .envs(self.env(port))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().expect("log file")))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("start serve");
        self.servers.push(child);
        (self.servers.len() - 1, log)
    }

    /// Waits for server `index` to exit; None when it is still running after `limit`.
    async fn wait_exit(
        &mut self,
        index: usize,
        limit: Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.servers[index].try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ManagedSite {
    fn drop(&mut self) {
        for child in &mut self.servers {
            if let Ok(None) = child.try_wait() {
                if let Ok(pid) = i32::try_from(child.id()) {
                    // SAFETY: signalling a child process we started and have not reaped.
                    unsafe {
                        libc::kill(pid, libc::SIGTERM);
                    }
                }
                let deadline = Instant::now() + Duration::from_secs(30);
                while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if self.postmaster_pid().exists()
            && let Ok(cluster) = ManagedCluster::new(&self.pg_dir())
        {
            cluster.stop_blocking();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_its_own_cluster_and_stops_it() {
    let mut site = ManagedSite::new();
    let port = free_port();
    let env = site.env(port);
    let env = as_refs(&env);
    let client = http_client();
    let base = format!("http://127.0.0.1:{port}");
    let password = format!("{PASSWORD}\n");
    let create = |username: &'static str| {
        [
            "user",
            "create",
            "--username",
            username,
            "--email",
            match username {
                "premiere" => "premiere@example.org",
                _ => "seconde@example.org",
            },
            "--role",
            "admin",
            "--password-stdin",
        ]
    };

    // Nothing runs yet: the command creates the cluster, uses it and stops it again.
    let out = run(&create("premiere"), &env, &password).await;
    assert_success(&out, "user create with no server running");
    assert!(site.pg_dir().join("PG_VERSION").exists(), "cluster created");
    assert!(
        !site.postmaster_pid().exists(),
        "the command stopped the cluster it started"
    );

    // serve starts the cluster and answers in French.
    let (first, log) = site.spawn_serve(port);
    let deadline = Instant::now() + Duration::from_secs(180);
    let home = loop {
        if let Ok(Some(status)) = site.servers[first].try_wait() {
            panic!(
                "serve exited early ({status}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        if let Ok(r) = client
            .get(format!("{base}/"))
            .header("accept", "text/html")
            .send()
            .await
        {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not answer within 3 minutes: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(home.status(), reqwest::StatusCode::OK);
    let body = home.text().await.expect("body");
    assert!(body.contains(r#"<html lang="fr">"#), "{body}");
    assert!(body.contains("acteurs culturels"), "{body}");
    assert!(site.postmaster_pid().exists(), "serve runs the cluster");

    // Commands run while serve is up use its cluster and leave it running.
    let out = run(&create("seconde"), &env, &password).await;
    assert_success(&out, "user create while serve runs");
    let out = run(&["token", "create", "--user", "seconde"], &env, "").await;
    assert_success(&out, "token create while serve runs");
    let token = last_line(&out);
    assert!(site.postmaster_pid().exists(), "the cluster is still up");
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /api/v1/me");
    assert_eq!(me.status(), reqwest::StatusCode::OK);
    let me: serde_json::Value = me.json().await.expect("json");
    assert_eq!(me["username"], "seconde");
    assert_eq!(me["role"], "admin");
    assert_eq!(
        me["ap_id"],
        format!("http://localhost:{port}/users/seconde")
    );

    // A second server on the same data folder refuses to start.
    let (second, second_log) = site.spawn_serve(free_port());
    let status = site
        .wait_exit(second, Duration::from_secs(60))
        .await
        .expect("the second serve exits by itself");
    assert!(!status.success(), "second serve must fail");
    let message = std::fs::read_to_string(&second_log).unwrap_or_default();
    assert!(message.contains("already running"), "{message}");
    assert!(
        message.contains(&site.data_dir.display().to_string()),
        "{message}"
    );
    let again = client
        .get(format!("{base}/"))
        .send()
        .await
        .expect("the first serve still answers");
    assert_eq!(again.status(), reqwest::StatusCode::OK);

    // SIGTERM: clean exit, and the cluster is stopped with it.
    let pid = i32::try_from(site.servers[first].id()).expect("pid");
    // SAFETY: signalling the child process we started.
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM sent");
    let status = site
        .wait_exit(first, Duration::from_secs(90))
        .await
        .unwrap_or_else(|| {
            panic!(
                "serve did not stop after SIGTERM: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(
        !site.postmaster_pid().exists(),
        "postmaster.pid is gone after serve stopped"
    );
    assert_eq!(process_mentioning(&site.pg_dir()), None, "no postgres left");

    // The stopped cluster is reused by the next command, which stops it again.
    let out = run(&["token", "create", "--user", "premiere"], &env, "").await;
    assert_success(&out, "token create with no server running");
    assert!(last_line(&out).starts_with("ccn_"));
    assert!(!site.postmaster_pid().exists());
    assert_eq!(process_mentioning(&site.pg_dir()), None, "no postgres left");
}
