//! Workspace chat fan-out (issue 12), against the real `culturecnous serve` (managed
//! PostgreSQL, as in production). It prints figures and never fails on time.
//!
//! 200 members of one workspace each keep the chat open (one WebSocket each, with their own
//! session). One member posts 200 messages through the JSON API, one at a time: each message
//! is timed from the moment its POST leaves until each socket has its frame. Printed: the
//! latency of one delivery (p50, p99) and of the whole fan-out (the last of the 200 sockets),
//! and the server's resident memory before and after opening the sockets, per connection.
//!
//! Run: `cargo bench --bench workspace_chat`.

mod support;

use culturecnous::{
    context::AppContext,
    db::{self, actors::NewActor, schema::workspace_members, workspaces::NewWorkspace},
    service::{
        accounts::{NewAccountInput, create_account},
        sessions, tokens,
    },
};
use diesel_async::RunQueryDsl;
use futures::StreamExt;
use std::time::{Duration, Instant};
use support::{Latencies, Serve, mib};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use uuid::Uuid;

const CONNECTIONS: usize = 200;
const MESSAGES: usize = 200;

fn main() -> anyhow::Result<()> {
    if !support::started_by_cargo_bench() {
        println!("workspace chat benchmark: run it with `cargo bench --bench workspace_chat`");
        return Ok(());
    }
    support::raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run());
    Ok(())
}

/// A workspace of the instance with its `Group` actor.
async fn workspace(ctx: &AppContext) -> Uuid {
    let id = Uuid::new_v4();
    let keys = culturecnous::service::actors::generate_keypair()
        .await
        .expect("keys");
    let now = chrono::Utc::now();
    let mut conn = ctx.conn().await.expect("conn");
    let actor = db::actors::insert(
        &mut conn,
        &NewActor {
            ap_id: ctx.urls.workspace(&id),
            kind: "Group".into(),
            username: id.to_string(),
            domain: ctx.config.domain(),
            local: true,
            name: "Résidence".into(),
            summary_html: String::new(),
            icon_url: None,
            url: None,
            inbox_url: ctx.urls.workspace_inbox(&id),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            following_url: None,
            public_key_pem: keys.public_key,
            private_key_pem: Some(keys.private_key),
            manually_approves_followers: true,
            discoverable: false,
            published: now,
            last_refreshed_at: now,
        },
    )
    .await
    .expect("group");
    db::workspaces::insert(
        &mut conn,
        &NewWorkspace {
            id,
            actor_id: actor.id,
            local: true,
            name: "Résidence".into(),
            description_markdown: String::new(),
            description_html: String::new(),
            disciplines: Vec::new(),
            commune_code: None,
            listed: false,
            created_by_account_id: None,
        },
    )
    .await
    .expect("workspace");
    id
}

/// Member number `n`: their account, membership and a session.
async fn member(ctx: &AppContext, ws: Uuid, n: usize) -> String {
    let username = format!("membre{n}");
    let account = create_account(
        ctx,
        NewAccountInput {
            username: username.clone(),
            email: format!("{username}@example.org"),
            password: "un mot de passe solide".into(),
            kind: "individual".into(),
            role: "member".into(),
            display_name: format!("Membre {n}"),
        },
    )
    .await
    .expect("account");
    let mut conn = ctx.conn().await.expect("conn");
    use diesel::ExpressionMethods;
    diesel::insert_into(workspace_members::table)
        .values((
            workspace_members::workspace_id.eq(ws),
            workspace_members::actor_id.eq(account.actor_id),
            workspace_members::role.eq(if n == 0 { "owner" } else { "member" }),
        ))
        .execute(&mut conn)
        .await
        .expect("member");
    sessions::open(ctx, &account, "bench")
        .await
        .expect("session")
        .token
}

/// The message number written in a frame's HTML (`<p>bench n</p>`).
fn number_in(frame: &str) -> Option<usize> {
    let value: serde_json::Value = serde_json::from_str(frame).ok()?;
    if value["type"] != "message" {
        return None;
    }
    let html = value["html"].as_str()?;
    let start = html.find("bench ")? + "bench ".len();
    html[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

async fn run() {
    println!(
        "Workspace chat: {CONNECTIONS} open WebSockets in one workspace, {MESSAGES} messages posted one at a time"
    );
    let mut serve = Serve::new("chat");
    serve.start().await;
    let ctx = support::side_context(&serve);
    let ws = workspace(&ctx).await;
    let mut sessions = Vec::with_capacity(CONNECTIONS);
    for n in 0..CONNECTIONS {
        sessions.push(member(&ctx, ws, n).await);
    }
    let token = tokens::create_token(&ctx, "membre0", "bench")
        .await
        .expect("token");

    // A warm-up request, then the memory before any socket.
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let post_url = format!("{}/api/v1/workspaces/{ws}/messages", serve.base_url());
    let r = http
        .get(&post_url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("warm-up");
    assert!(r.status().is_success(), "{}", r.status());
    let (rss_before, _) = serve.rss_kib();

    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut readers = Vec::with_capacity(CONNECTIONS);
    let connect_started = Instant::now();
    for session in &sessions {
        let mut request = format!("ws://localhost:{}/espaces/{ws}/discussion/ws", serve.port)
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "cookie",
            format!("session={session}").parse().expect("cookie"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("socket");
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            let (_write, mut read) = socket.split();
            while let Some(Ok(message)) = read.next().await {
                if let tungstenite::Message::Text(text) = message
                    && let Some(n) = number_in(text.as_str())
                {
                    let _ = tx.send((n, Instant::now()));
                }
            }
        }));
    }
    let connect_time = connect_started.elapsed();
    drop(tx);
    let (rss_after, _) = serve.rss_kib();

    let mut deliveries = Vec::with_capacity(CONNECTIONS * MESSAGES);
    let mut fan_outs = Vec::with_capacity(MESSAGES);
    let started = Instant::now();
    for n in 0..MESSAGES {
        let at = Instant::now();
        let r = http
            .post(&post_url)
            .bearer_auth(&token)
            .json(&serde_json::json!({"body": format!("bench {n}")}))
            .send()
            .await
            .expect("post");
        assert_eq!(
            r.status().as_u16(),
            201,
            "{}",
            r.text().await.unwrap_or_default()
        );
        let mut received = 0;
        let mut last = at;
        while received < CONNECTIONS {
            let Ok(Some((m, when))) =
                tokio::time::timeout(Duration::from_secs(30), rx.recv()).await
            else {
                panic!(
                    "message {n}: only {received} of {CONNECTIONS} sockets got it. Log:\n{}",
                    serve.log_tail()
                );
            };
            if m != n {
                continue;
            }
            received += 1;
            deliveries.push(when - at);
            last = last.max(when);
        }
        fan_outs.push(last - at);
    }
    let wall = started.elapsed();
    let per_connection = rss_after.saturating_sub(rss_before) as f64 / CONNECTIONS as f64;
    println!(
        "  opening {CONNECTIONS} sockets: {:.2} s; server memory {:.1} MiB before, {:.1} MiB after: {:.1} KiB per connection",
        connect_time.as_secs_f64(),
        mib(rss_before),
        mib(rss_after),
        per_connection
    );
    println!(
        "  one delivery (POST sent → frame on a socket), {} deliveries: {}",
        deliveries.len(),
        Latencies::new(deliveries).summary()
    );
    println!(
        "  whole fan-out (POST sent → the last of {CONNECTIONS} sockets), {MESSAGES} messages: {}",
        Latencies::new(fan_outs).summary()
    );
    println!(
        "  {MESSAGES} messages in {:.2} s; machine: {} cores, load {}",
        wall.as_secs_f64(),
        std::thread::available_parallelism().map_or(2, usize::from),
        support::load_average()
    );
    for reader in readers {
        reader.abort();
    }
    serve.terminate().await;
}
