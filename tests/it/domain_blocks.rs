//! Domain blocks (issue 8): `reject` cuts a domain off both ways — queued deliveries dropped
//! (at block time and when a worker would claim one), follows removed in both directions,
//! fetches and WebFinger refused before any request — and `silence` ("limit") keeps follows
//! and lets its accounts reach their followers' timeline, never the public lists and feeds.

use crate::{
    common::TestApp,
    federation_inbox::{Remote, deliver, remote_actor},
    helpers::{Browser, create, follow, local_actor, remote_follower, token},
    sink::Sink,
};
use activitypub_federation::fetch::{object_id::ObjectId, webfinger::webfinger_resolve_actor};
use axum::http::StatusCode;
use culturecnous::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        deliveries::ClaimParams,
        schema::{activities, deliveries, follows, posts},
    },
    service::domain_blocks::{self, BlockOptions, Severity},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

async fn pending_domains(app: &TestApp) -> Vec<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let mut domains: Vec<String> = deliveries::table
        .filter(deliveries::delivered_at.is_null())
        .filter(deliveries::failed_at.is_null())
        .select(deliveries::domain)
        .load(&mut conn)
        .await
        .expect("deliveries");
    domains.sort();
    domains.dedup();
    domains
}

async fn follow_pairs(app: &TestApp) -> Vec<(i64, i64)> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let mut pairs: Vec<(i64, i64)> = follows::table
        .select((follows::follower_id, follows::followee_id))
        .load(&mut conn)
        .await
        .expect("follows");
    pairs.sort_unstable();
    pairs
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reject_block_drops_queued_deliveries_and_removes_follows_both_ways() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice_token = token(&app, "alice").await;
    let alice = local_actor(&app, "alice").await;
    let far = remote_follower(&app, "far.example:1234", "far", &alice).await;
    let sub = remote_follower(&app, "sub.far.example", "sub", &alice).await;
    let bob = remote_follower(&app, "remote.example:1234", "bob", &alice).await;
    // Alice follows an account there too.
    follow(&app, &alice, &far, "accepted").await;
    // A look-alike domain is not a subdomain.
    let nofar = remote_follower(&app, "nofar.example", "nofar", &alice).await;

    create(
        &app,
        &alice_token,
        "/api/v1/posts",
        json!({"title": "Résidence", "body": "Du texte."}),
    )
    .await;
    assert_eq!(
        pending_domains(&app).await,
        vec![
            "far.example:1234",
            "nofar.example",
            "remote.example:1234",
            "sub.far.example"
        ]
    );

    let blocked = domain_blocks::block(
        &app.ctx,
        "far.example",
        Severity::Reject,
        &BlockOptions {
            public_comment: "Spam".into(),
            private_comment: "reports #12, #13".into(),
            reject_reports: true,
        },
    )
    .await
    .expect("block");
    assert_eq!(blocked.deliveries_dropped, 2);
    assert_eq!(blocked.follows_removed, 3);
    assert_eq!(blocked.block.public_comment, "Spam");
    assert_eq!(blocked.block.reason, "reports #12, #13");
    assert!(blocked.block.reject_reports);
    assert_eq!(
        pending_domains(&app).await,
        vec!["nofar.example", "remote.example:1234"]
    );
    let mut expected = vec![(bob.id, alice.id), (nofar.id, alice.id)];
    expected.sort_unstable();
    assert_eq!(follow_pairs(&app).await, expected);
    assert!(
        !follow_pairs(&app)
            .await
            .iter()
            .any(|&(a, b)| { [far.id, sub.id].contains(&a) || [far.id, sub.id].contains(&b) })
    );

    // Nothing new is queued there: a reply to a comment its account left before the block
    // reaches the other followers, not the author's server.
    let mut conn = app.ctx.conn().await.expect("conn");
    let (post_id, post_ap_id): (i64, String) = posts::table
        .select((posts::id, posts::ap_id))
        .first(&mut conn)
        .await
        .expect("post");
    let far_note = format!("{}/statuses/before-the-block", far.ap_id);
    db::comments::insert_remote(
        &mut conn,
        &db::comments::NewRemoteComment {
            ap_id: far_note.clone(),
            post_id,
            parent_id: None,
            in_reply_to: post_ap_id,
            author_actor_id: far.id,
            body_html: "<p>Avant le blocage.</p>".into(),
            url: None,
            published_at: chrono::Utc::now(),
            content_warning: None,
            mentions: json!([]),
        },
    )
    .await
    .expect("remote comment");
    drop(conn);
    let before_reply: i64 = {
        let mut conn = app.ctx.conn().await.expect("conn");
        deliveries::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count")
    };
    let r = crate::helpers::api(
        &app,
        axum::http::Method::POST,
        "/api/v1/comments",
        &alice_token,
        Some(json!({"in_reply_to": far_note, "body": "Merci !"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let after_reply: i64 = {
        let mut conn = app.ctx.conn().await.expect("conn");
        deliveries::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count")
    };
    assert!(
        after_reply > before_reply,
        "the reply reaches alice's other followers"
    );
    assert_eq!(
        pending_domains(&app).await,
        vec!["nofar.example", "remote.example:1234"],
        "no delivery queued to the rejected domain"
    );

    // A delivery queued there anyway (by a node that had not seen the block yet) is dropped
    // when a worker would claim it, never handed out.
    let mut conn = app.ctx.conn().await.expect("conn");
    let activity_id: i64 = activities::table
        .select(activities::id)
        .first(&mut conn)
        .await
        .expect("activity");
    diesel::insert_into(deliveries::table)
        .values((
            deliveries::activity_id.eq(activity_id),
            deliveries::inbox_url.eq("http://deep.sub.far.example/inbox"),
            deliveries::domain.eq("deep.sub.far.example"),
        ))
        .execute(&mut conn)
        .await
        .expect("late delivery");
    let claimed = db::deliveries::claim(
        &mut conn,
        &ClaimParams {
            limit: 100,
            per_host: 100,
            in_flight: &[],
            lease_ms: 60_000,
            probe_interval_ms: 60_000,
        },
    )
    .await
    .expect("claim");
    let mut claimed: Vec<String> = claimed.into_iter().map(|c| c.domain).collect();
    claimed.sort();
    // The post's and the reply's deliveries, none to the rejected domain.
    assert_eq!(
        claimed,
        vec![
            "nofar.example",
            "nofar.example",
            "remote.example:1234",
            "remote.example:1234"
        ]
    );
    let late: i64 = deliveries::table
        .filter(deliveries::domain.eq("deep.sub.far.example"))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(late, 0, "dropped, not kept for a retry");

    // A silence block keeps follows and deliveries.
    let quiet = domain_blocks::block(
        &app.ctx,
        "nofar.example",
        Severity::Silence,
        &BlockOptions::default(),
    )
    .await
    .expect("silence");
    assert_eq!((quiet.deliveries_dropped, quiet.follows_removed), (0, 0));
    assert_eq!(follow_pairs(&app).await, expected);

    // Listed, then lifted.
    let listed: Vec<(String, String)> = domain_blocks::list(&app.ctx)
        .await
        .expect("list")
        .into_iter()
        .map(|b| (b.domain, b.severity))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("far.example".to_string(), "reject".to_string()),
            ("nofar.example".to_string(), "silence".to_string())
        ]
    );
    assert!(
        domain_blocks::unblock(&app.ctx, "FAR.example")
            .await
            .expect("unblock")
    );
    assert!(
        !domain_blocks::unblock(&app.ctx, "far.example")
            .await
            .expect("unblock")
    );
    // Our own domain cannot be blocked.
    let own = domain_blocks::block(
        &app.ctx,
        "localhost:8080",
        Severity::Reject,
        &BlockOptions::default(),
    )
    .await
    .expect_err("own domain");
    assert_eq!(own.fields[0].field, "domain");
}

async fn fetch_actor(app: &TestApp, url: url::Url) -> Result<DbActor, String> {
    let data = app.federation.to_request_data();
    ObjectId::<DbActor>::from(url)
        .dereference(&data)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn fetches_and_webfinger_to_a_rejected_domain_are_refused_without_a_request() {
    let app = TestApp::new().await;
    let sink = Sink::start().await;
    let data = app.federation.to_request_data();

    // Unblocked, both reach the peer (which answers nonsense): the test can see requests.
    assert!(fetch_actor(&app, sink.url("/users/one")).await.is_err());
    let handle = format!("one@{}", sink.host());
    assert!(
        webfinger_resolve_actor::<AppContext, DbActor>(&handle, &data)
            .await
            .is_err()
    );
    let seen = sink.received().len();
    assert!(seen >= 2, "{seen}");

    domain_blocks::block(
        &app.ctx,
        &sink.host(),
        Severity::Reject,
        &BlockOptions::default(),
    )
    .await
    .expect("block");
    let fetched = fetch_actor(&app, sink.url("/users/two")).await;
    let error = fetched.expect_err("refused");
    assert!(error.contains("blocked"), "{error}");
    let data = app.federation.to_request_data();
    let resolved =
        webfinger_resolve_actor::<AppContext, DbActor>(&format!("two@{}", sink.host()), &data)
            .await;
    assert!(resolved.is_err());
    // Following by handle is refused by name, before any look-up.
    let alice_token = {
        app.create_user("alice", "member").await;
        token(&app, "alice").await
    };
    let r = crate::helpers::api(
        &app,
        axum::http::Method::POST,
        "/api/v1/follows",
        &alice_token,
        Some(json!({"target": format!("three@{}", sink.host())})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // A mention there stays plain text, unresolved.
    let post = create(
        &app,
        &alice_token,
        "/api/v1/posts",
        json!({"title": "Mention", "body": format!("Bonjour @four@{} !", sink.host())}),
    )
    .await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let mentions: Value = posts::table
        .filter(posts::ap_id.eq(post["ap_id"].as_str().expect("ap_id")))
        .select(posts::mentions)
        .first(&mut conn)
        .await
        .expect("post");
    assert_eq!(mentions, json!([]), "{mentions}");
    assert_eq!(sink.received().len(), seen, "no request after the block");
}

fn note(from: &Remote, n: u32, in_reply_to: Option<&str>, content: &str) -> Value {
    json!({
        "id": format!("{}/statuses/{n}", from.id()),
        "type": "Note",
        "attributedTo": from.id(),
        "inReplyTo": in_reply_to,
        "content": content,
        "published": "2026-01-02T10:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/followers", from.id())],
    })
}

fn create_of(from: &Remote, n: u32, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/create-{n}", from.id()),
        "type": "Create",
        "actor": from.id(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": object,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn silenced_accounts_reach_their_followers_but_not_public_lists_and_feeds() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice", "member").await;
    let zoe = app.create_user("zoe", "member").await;
    let alice_token = token(&app, "alice").await;
    let quiet = remote_actor(&app, "http://quiet.example:1234", "quiet", 0).await;
    let alice_actor = local_actor(&app, "alice").await;
    follow(&app, &alice_actor, &quiet.actor, "accepted").await;
    follow(&app, &quiet.actor, &alice_actor, "accepted").await;
    let blocked = domain_blocks::block(
        &app.ctx,
        "quiet.example",
        Severity::Silence,
        &BlockOptions::default(),
    )
    .await
    .expect("silence");
    assert_eq!(blocked.follows_removed, 0);
    assert_eq!(follow_pairs(&app).await.len(), 2, "follows stay");

    // A post of the silenced account: stored, on its follower's timeline.
    let post = create_of(
        &quiet,
        1,
        note(&quiet, 1, None, "<p>Spectacle limité au Théâtre</p>"),
    );
    assert_eq!(deliver(&app, &quiet, &post).await, StatusCode::ACCEPTED);
    let mut conn = app.ctx.conn().await.expect("conn");
    let stored: i64 = posts::table
        .filter(posts::author_actor_id.eq(quiet.actor.id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(stored, 1, "the silenced post is stored");
    let fil = Browser::with_session(&app, &alice).await.get("/fil").await;
    assert_eq!(fil.status, StatusCode::OK);
    assert!(fil.body.contains("Spectacle limité"), "{}", fil.body);
    let zoe_fil = Browser::with_session(&app, &zoe).await.get("/fil").await;
    assert!(!zoe_fil.body.contains("Spectacle limité"));

    // A reply to alice's post: stored, out of the public thread; an open domain's reply shows.
    let ours = create(
        &app,
        &alice_token,
        "/api/v1/posts",
        json!({"title": "Ouverture de saison", "body": "Venez nombreux."}),
    )
    .await;
    let ours_ap_id = ours["ap_id"].as_str().expect("ap_id").to_string();
    let reply = create_of(
        &quiet,
        2,
        note(&quiet, 2, Some(&ours_ap_id), "<p>Réponse limitée</p>"),
    );
    assert_eq!(deliver(&app, &quiet, &reply).await, StatusCode::ACCEPTED);
    let open = remote_actor(&app, "http://open.example:1234", "open", 1).await;
    let open_reply = create_of(
        &open,
        3,
        note(&open, 3, Some(&ours_ap_id), "<p>Réponse ouverte</p>"),
    );
    assert_eq!(
        deliver(&app, &open, &open_reply).await,
        StatusCode::ACCEPTED
    );
    let stored_replies: i64 = db::schema::comments::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(stored_replies, 2);
    let page = app
        .get_html(&crate::helpers::path_of(ours["url"].as_str().expect("url")))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Réponse ouverte"), "{}", page.body);
    assert!(!page.body.contains("Réponse limitée"));

    // Never in the public lists and feeds.
    for path in [
        "/actualites",
        "/annonces",
        "/actualites/rss.xml",
        "/actualites/atom.xml",
        "/annonces/rss.xml",
        "/annonces/atom.xml",
    ] {
        let r = app.get_html(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(!r.body.contains("limité"), "{path}: {}", r.body);
    }
    assert!(
        app.get_html("/actualites")
            .await
            .body
            .contains("Ouverture de saison")
    );
}

/// Runs the binary against the test app's database.
async fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_culturecnous"));
    command
        .args(args)
        .env("CULTURECNOUS__DATABASE__URL", &app.ctx.config.database.url)
        .env(
            "CULTURECNOUS__STORAGE__DATA_DIR",
            &app.ctx.config.storage.data_dir,
        )
        .env("CULTURECNOUS__INSTANCE__URL", &app.ctx.config.instance.url)
        .stdin(std::process::Stdio::null());
    tokio::task::spawn_blocking(move || command.output().expect("run binary"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_blocks_lists_and_unblocks_domains() {
    let app = TestApp::new().await;
    let alice = {
        app.create_user("alice", "member").await;
        local_actor(&app, "alice").await
    };
    remote_follower(&app, "spam.example", "spammer", &alice).await;
    let out = cli(
        &app,
        &[
            "domain",
            "block",
            "Spam.Example",
            "--severity",
            "reject",
            "--public-comment",
            "Spam",
            "--private-comment",
            "see report 4",
            "--reject-reports",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "blocked spam.example (reject): 0 queued deliveries dropped, 1 follows removed"
        ),
        "{stdout}"
    );
    assert!(follow_pairs(&app).await.is_empty());

    let out = cli(&app, &["domain", "list"]).await;
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim(),
        "spam.example\treject\treject-reports\tSpam\tsee report 4"
    );

    // Bad input: named, non-zero, nothing written.
    let out = cli(
        &app,
        &["domain", "block", "bad domain", "--severity", "silence"],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--domain"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(
        &app,
        &["domain", "block", "x.example", "--severity", "mute"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "clap refuses the severity");
    assert_eq!(domain_blocks::list(&app.ctx).await.expect("list").len(), 1);

    let out = cli(&app, &["domain", "unblock", "spam.example"]).await;
    assert!(out.status.success());
    let out = cli(&app, &["domain", "unblock", "spam.example"]).await;
    assert!(!out.status.success(), "not blocked any more");
    assert!(
        domain_blocks::list(&app.ctx)
            .await
            .expect("list")
            .is_empty()
    );

    // An invalid trusted proxy stops any command with exit code 2, naming the key.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_culturecnous"));
    command.args(["domain", "list"]).env(
        "CULTURECNOUS__HTTP__TRUSTED_PROXIES",
        "10.0.0.0/8,10.0.0.0/33",
    );
    let out = tokio::task::spawn_blocking(move || command.output().expect("run"))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http.trusted_proxies"));
}
