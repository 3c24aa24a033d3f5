//! The recorded instance URL, run as real processes: the first start records `instance.url`, a
//! start with another URL stops with both named (exit 2), and `instance move-url` moves a
//! never-federated instance's ids, refused once others know them.

use crate::{
    common::{PASSWORD, TestApp},
    helpers::{follow, remote_actor_row},
};
use culturecnous::{config::Config, db, testing::TestDatabases};
use diesel_async::RunQueryDsl;
use std::{
    path::PathBuf,
    process::{Child, Output, Stdio},
    time::{Duration, Instant},
};
use tokio::io::AsyncWriteExt;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The environment of the binary for `config`, with `url` as `instance.url` and `port` bound.
fn env(config: &Config, url: &str, port: u16) -> Vec<(String, String)> {
    vec![
        (
            "CULTURECNOUS__DATABASE__URL".into(),
            config.database.url.clone(),
        ),
        (
            "CULTURECNOUS__STORAGE__DATA_DIR".into(),
            config.storage.data_dir.display().to_string(),
        ),
        ("CULTURECNOUS__INSTANCE__URL".into(), url.into()),
        (
            "CULTURECNOUS__HTTP__BIND".into(),
            format!("127.0.0.1:{port}"),
        ),
        (
            "CULTURECNOUS__FEDERATION__ALLOW_PRIVATE_ADDRESSES".into(),
            "true".into(),
        ),
        ("RUST_LOG".into(), "warn".into()),
        ("NO_COLOR".into(), "1".into()),
    ]
}

fn binary(env: &[(String, String)]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_culturecnous"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CULTURECNOUS__") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    command
}

async fn run(args: &[&str], env: &[(String, String)], stdin: &str) -> Output {
    let mut command = tokio::process::Command::from(binary(env));
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run the binary");
    let mut input = child.stdin.take().expect("stdin");
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A `serve` child process, killed on drop.
struct Serve {
    child: Child,
    log: PathBuf,
}

impl Serve {
    fn spawn(config: &Config, env: &[(String, String)], name: &str) -> Serve {
        let log = config
            .storage
            .data_dir
            .with_extension(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = binary(env)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().expect("log handle")))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("start serve");
        Serve { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `GET {base}/` until it answers; fails with the log if the process exits first.
    async fn wait_until_answers(&mut self, base: &str) {
        let client = http_client();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve exited early ({status}): {}", self.log());
            }
            if let Ok(r) = client.get(format!("{base}/")).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not answer: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the process to exit by itself; its exit code.
    async fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

async fn recorded_url(config: &Config) -> Option<String> {
    let pool = db::pool::build_pool(&config.database.url, 1).expect("pool");
    let mut conn = pool.get().await.expect("conn");
    let row = db::instance_identity::read(&mut conn).await.expect("read");
    row.and_then(|r| r.url)
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_records_the_url_and_another_url_stops_with_both_named() {
    let dbs = TestDatabases::get();
    let port = free_port();
    let config = dbs.config(port).await;
    let first_url = format!("http://localhost:{port}");
    assert_eq!(recorded_url(&config).await, None, "nothing recorded yet");

    let mut serve = Serve::spawn(&config, &env(&config, &first_url, port), "first");
    serve
        .wait_until_answers(&format!("http://127.0.0.1:{port}"))
        .await;
    assert_eq!(
        recorded_url(&config).await.as_deref(),
        Some(first_url.as_str())
    );
    drop(serve);

    // The newcomer's path: the default first, then a real domain on the same data.
    let other_port = free_port();
    let mut serve = Serve::spawn(
        &config,
        &env(&config, "https://culture.example", other_port),
        "second",
    );
    let code = serve.wait_exit().await;
    let log = serve.log();
    assert_eq!(
        code,
        Some(2),
        "a changed instance.url is a configuration error: {log}"
    );
    assert!(log.contains(&first_url), "names the recorded URL: {log}");
    assert!(
        log.contains("https://culture.example"),
        "names the new URL: {log}"
    );
    assert!(
        log.contains("culturecnous instance move-url https://culture.example"),
        "gives the way out: {log}"
    );
    assert!(!log.contains("Internal"), "{log}");

    // The other commands refuse the same way, before writing anything.
    let out = run(
        &[
            "user",
            "create",
            "--username",
            "alice",
            "--email",
            "alice@example.org",
            "--password-stdin",
        ],
        &env(&config, "https://culture.example", other_port),
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&first_url));
    assert_eq!(
        recorded_url(&config).await.as_deref(),
        Some(first_url.as_str()),
        "a refused start changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn move_url_on_a_fresh_instance_then_serve_with_the_new_url() {
    let dbs = TestDatabases::get();
    let old_port = free_port();
    let config = dbs.config(old_port).await;
    let old_url = format!("http://localhost:{old_port}");
    let old_env = env(&config, &old_url, old_port);

    // A first life on the old URL: system actors, a member, a post mentioning her.
    let mut serve = Serve::spawn(&config, &old_env, "old");
    serve
        .wait_until_answers(&format!("http://127.0.0.1:{old_port}"))
        .await;
    let out = run(
        &[
            "user",
            "create",
            "--username",
            "alice",
            "--email",
            "alice@example.org",
            "--password-stdin",
        ],
        &old_env,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_success(&out, "user create");
    let out = run(&["token", "create", "--user", "alice"], &old_env, "").await;
    assert_success(&out, "token create");
    let token = text(&out.stdout)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .expect("token line")
        .trim()
        .to_string();
    let client = http_client();
    let created = client
        .post(format!("http://127.0.0.1:{old_port}/api/v1/posts"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "title": "Premier billet",
            "body": "Bonjour, c'est @alice qui écrit.",
        }))
        .send()
        .await
        .expect("POST /api/v1/posts");
    assert_eq!(
        created.status(),
        201,
        "{}",
        created.text().await.unwrap_or_default()
    );
    let created: serde_json::Value = created.json().await.expect("json");
    let post_id = created["id"].as_i64().expect("post id");
    assert!(
        created["ap_id"]
            .as_str()
            .is_some_and(|id| id.starts_with(&old_url)),
        "{created}"
    );
    drop(serve);
    {
        // What the move has to rewrite: ids, links in HTML, stored activities, mentions.
        let pool = db::pool::build_pool(&config.database.url, 1).expect("pool");
        let mut conn = pool.get().await.expect("conn");
        let before = db::instance_identity::values_containing(&mut conn, &old_url, 1000)
            .await
            .expect("scan");
        for column in [
            "actors.ap_id",
            "actors.inbox_url",
            "posts.ap_id",
            "posts.body_html",
            "posts.mentions",
            "activities.data",
        ] {
            assert!(
                before.iter().any(|v| v.starts_with(&format!("{column}: "))),
                "{column} names {old_url} before the move: {before:#?}"
            );
        }
    }

    let new_port = free_port();
    let new_url = format!("http://localhost:{new_port}");
    let out = run(&["instance", "move-url", &new_url], &old_env, "").await;
    assert_success(&out, "instance move-url");
    assert!(
        text(&out.stdout).contains(&new_url),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        recorded_url(&config).await.as_deref(),
        Some(new_url.as_str())
    );

    // Nothing stored names the old URL or the old domain any more.
    {
        let pool = db::pool::build_pool(&config.database.url, 1).expect("pool");
        let mut conn = pool.get().await.expect("conn");
        let left = db::instance_identity::values_containing(&mut conn, &old_url, 10)
            .await
            .expect("scan");
        assert!(left.is_empty(), "values still naming {old_url}: {left:#?}");
        let domain = format!("localhost:{old_port}");
        let left = db::instance_identity::values_containing(&mut conn, &domain, 10)
            .await
            .expect("scan");
        assert!(left.is_empty(), "values still naming {domain}: {left:#?}");
    }

    // The old URL no longer starts; the new one does, and serves the new ids.
    let out = run(&["token", "create", "--user", "alice"], &old_env, "").await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let new_env = env(&config, &new_url, new_port);
    let mut serve = Serve::spawn(&config, &new_env, "new");
    let base = format!("http://127.0.0.1:{new_port}");
    serve.wait_until_answers(&base).await;
    let actor: serde_json::Value = client
        .get(format!("{base}/users/alice"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("GET actor")
        .json()
        .await
        .expect("actor JSON");
    assert_eq!(actor["id"], format!("{new_url}/users/alice"), "{actor}");
    assert_eq!(actor["inbox"], format!("{new_url}/users/alice/inbox"));
    assert_eq!(actor["outbox"], format!("{new_url}/users/alice/outbox"));
    assert_eq!(
        actor["followers"],
        format!("{new_url}/users/alice/followers")
    );
    assert_eq!(
        actor["publicKey"]["owner"],
        format!("{new_url}/users/alice")
    );
    assert!(
        actor["publicKey"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with(&format!("{new_url}/users/alice#"))),
        "{actor}"
    );
    let post: serde_json::Value = client
        .get(format!("{base}/api/v1/posts/{post_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET post")
        .json()
        .await
        .expect("post JSON");
    assert!(
        post["ap_id"]
            .as_str()
            .is_some_and(|id| id.starts_with(&format!("{new_url}/"))),
        "{post}"
    );
    let me: serde_json::Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET me")
        .json()
        .await
        .expect("me JSON");
    assert_eq!(me["ap_id"], format!("{new_url}/users/alice"));
}

#[tokio::test(flavor = "multi_thread")]
async fn move_url_is_refused_once_others_know_the_ids() {
    // A remote follower.
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let alice_actor = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::actors::by_id(&mut conn, alice.actor_id)
            .await
            .expect("actor")
    };
    let remote = remote_actor_row(&app, "remote.example", "bob", true).await;
    follow(&app, &remote, &alice_actor, "accepted").await;
    let old_url = app.ctx.config.base_url();
    let app_env = env(&app.ctx.config, &old_url, free_port());
    let out = run(
        &["instance", "move-url", "https://culture.example"],
        &app_env,
        "",
    )
    .await;
    assert!(!out.status.success(), "refused: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(stderr.contains(&old_url), "{stderr}");
    assert!(
        stderr.contains("1 follow(s) with remote accounts"),
        "{stderr}"
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let unchanged = db::actors::by_id(&mut conn, alice.actor_id)
        .await
        .expect("actor");
    assert_eq!(unchanged.ap_id, format!("{old_url}/users/alice"));

    // A delivery once queued, long since purged: the trace stays.
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(
        "INSERT INTO activities (ap_id, kind, actor_id, data, public) \
         SELECT 'http://localhost:8080/activities/1', 'Create', id, '{}'::jsonb, true \
         FROM actors WHERE local LIMIT 1",
    )
    .execute(&mut conn)
    .await
    .expect("activity");
    diesel::sql_query(
        "INSERT INTO deliveries (activity_id, inbox_url, domain) \
         SELECT id, 'http://remote.example/inbox', 'remote.example' FROM activities",
    )
    .execute(&mut conn)
    .await
    .expect("delivery");
    diesel::sql_query("DELETE FROM deliveries")
        .execute(&mut conn)
        .await
        .expect("purge");
    let out = run(
        &["instance", "move-url", "https://culture.example"],
        &env(&app.ctx.config, &old_url, free_port()),
        "",
    )
    .await;
    assert!(!out.status.success(), "refused: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("a delivery to another server was queued"),
        "{stderr}"
    );
}
