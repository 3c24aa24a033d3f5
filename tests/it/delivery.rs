//! The persistent delivery queue against real listeners: signatures, shared-inbox dedup,
//! backoff, permanent failures, 429 pauses, unreachable hosts, leases, restarts, workers.

use crate::{
    common::TestApp,
    helpers::{follow, remote_actor_row},
    sink::{Answer, Sink},
};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use culturecnous::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        deliveries::{ClaimParams, DbDelivery},
        schema::{deliveries, instances},
    },
    federation::delivery::{
        self, BACKOFF, OutgoingActivity, drain, drain_all_now, enqueue, followers_inboxes,
        mark_alive,
    },
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::time::Duration;
use url::Url;

/// A local member whose key signs, and the test instance.
pub async fn setup() -> (TestApp, DbActor) {
    let app = TestApp::new().await;
    let account = app.create_user("alice", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = db::actors::by_id(&mut conn, account.actor_id)
        .await
        .expect("actor");
    (app, actor)
}

fn key_id(actor: &DbActor) -> String {
    format!("{}#main-key", actor.ap_id)
}

/// Enqueues a `Create(Note)` by `actor` to `inboxes` in one transaction; returns the
/// activity row id and the JSON sent.
pub async fn publish(
    app: &TestApp,
    actor: &DbActor,
    inboxes: Vec<Url>,
) -> (i64, serde_json::Value) {
    let uuid = uuid::Uuid::new_v4();
    let ap_id = app.ctx.urls.activity(&uuid);
    let json = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": ap_id,
        "type": "Create",
        "actor": actor.ap_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": format!("{}/notes/{uuid}", app.ctx.urls.base()),
            "type": "Note",
            "attributedTo": actor.ap_id,
            "content": "<p>Bonjour le fédivers</p>",
        },
    });
    let domain = app.ctx.config.domain();
    let mut conn = app.ctx.conn().await.expect("conn");
    let sent = json.clone();
    let id = conn
        .transaction::<i64, culturecnous::error::AppError, _>(async |conn| {
            enqueue(
                conn,
                &domain,
                OutgoingActivity {
                    ap_id: &ap_id,
                    kind: "Create",
                    actor,
                    object_ap_id: None,
                    json: sent,
                    public: true,
                },
                inboxes,
            )
            .await
        })
        .await
        .expect("enqueue");
    (id, json)
}

async fn rows_of(ctx: &AppContext, activity_id: i64) -> Vec<DbDelivery> {
    let mut conn = ctx.conn().await.expect("conn");
    db::deliveries::by_activity(&mut conn, activity_id)
        .await
        .expect("rows")
}

async fn instance(ctx: &AppContext, domain: &str) -> db::instances::DbInstance {
    let mut conn = ctx.conn().await.expect("conn");
    db::instances::get(&mut conn, domain)
        .await
        .expect("query")
        .expect("instance row")
}

fn seconds_from_now(at: DateTime<Utc>) -> i64 {
    (at - Utc::now()).num_seconds()
}

#[tokio::test(flavor = "multi_thread")]
async fn enqueue_and_drain_delivers_signed_requests() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.trust(&key_id(&alice), &alice.public_key_pem);
    let bob_inbox = sink.url("/users/bob/inbox");
    let carol_inbox = sink.url("/users/carol/inbox");
    let (activity_id, json) = publish(
        &app,
        &alice,
        vec![
            bob_inbox.clone(),
            carol_inbox.clone(),
            bob_inbox.clone(),
            // Our own inbox: local effects are applied directly, never delivered.
            Url::parse("http://localhost:8080/users/alice/inbox").expect("url"),
        ],
    )
    .await;
    let rows = rows_of(&app.ctx, activity_id).await;
    assert_eq!(rows.len(), 2, "one row per distinct remote inbox");
    assert!(rows.iter().all(|r| r.domain == sink.host()));

    let attempted = drain(&app.ctx, &app.federation).await.expect("drain");
    assert_eq!(attempted, 2);
    let received = sink.received();
    assert_eq!(received.len(), 2);
    let mut paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/users/bob/inbox", "/users/carol/inbox"]);
    for request in &received {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.verified.as_deref(),
            Ok(key_id(&alice).as_str()),
            "signature and digest verify with alice's public key"
        );
        assert_eq!(
            request
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/activity+json")
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json body");
        assert_eq!(body, json, "the stored activity is sent as is");
    }
    for row in rows_of(&app.ctx, activity_id).await {
        assert!(row.delivered_at.is_some(), "{row:?}");
        assert_eq!(row.attempts, 1);
        assert!(row.claimed_at.is_none());
    }
    // Delivered rows are not sent again.
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        0
    );
    assert_eq!(sink.received().len(), 2);
    // The activity is stored, dereferenceable by its id.
    let mut conn = app.ctx.conn().await.expect("conn");
    let stored = db::activities::by_ap_id(&mut conn, json["id"].as_str().expect("id"))
        .await
        .expect("query")
        .expect("stored activity");
    assert_eq!(stored.data, json);
    // A healthy host is recorded as such.
    assert!(
        instance(&app.ctx, &sink.host())
            .await
            .last_success_at
            .is_some()
    );
}

/// Activities and delivery rows of `actor`, as (kind, inbox) pairs.
async fn outbox_rows(ctx: &AppContext, actor: &DbActor) -> Vec<(String, String)> {
    use culturecnous::db::schema::activities;
    let mut conn = ctx.conn().await.expect("conn");
    activities::table
        .inner_join(deliveries::table.on(deliveries::activity_id.eq(activities::id)))
        .filter(activities::actor_id.eq(actor.id))
        .select((activities::kind, deliveries::inbox_url))
        .load(&mut conn)
        .await
        .expect("outbox rows")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outbound_event_commits_or_rolls_back_with_its_transaction() {
    use culturecnous::{
        error::AppError,
        service::outbound::{self, OutboundEvent},
    };
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    let fan = remote_actor_row(&app, &sink.host(), "fan", true).await;
    follow(&app, &fan, &alice, "accepted").await;
    let event = || OutboundEvent::ProfileUpdated {
        actor: Box::new(alice.clone()),
    };
    let mut conn = app.ctx.conn().await.expect("conn");
    let failed = conn
        .transaction::<(), AppError, _>(async |conn| {
            outbound::record(&app.ctx, conn, event()).await?;
            Err(AppError::bad_request(
                "the domain function failed after recording",
            ))
        })
        .await;
    assert!(failed.is_err());
    assert!(
        outbox_rows(&app.ctx, &alice).await.is_empty(),
        "a rolled-back event leaves no activity and no delivery"
    );
    conn.transaction::<(), AppError, _>(async |conn| {
        outbound::record(&app.ctx, conn, event()).await
    })
    .await
    .expect("committed");
    assert_eq!(
        outbox_rows(&app.ctx, &alice).await,
        vec![("Update".to_string(), sink.url("/inbox").to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_signature_is_detected_by_the_sink() {
    // Guards the guard: the sink must reject a request signed by another key.
    let (app, alice) = setup().await;
    let other = app.create_user("mallory", "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let mallory = db::actors::by_id(&mut conn, other.actor_id)
        .await
        .expect("actor");
    let sink = Sink::start().await;
    // The sink believes alice's keyId belongs to mallory's key.
    sink.trust(&key_id(&alice), &mallory.public_key_pem);
    publish(&app, &alice, vec![sink.url("/inbox")]).await;
    drain(&app.ctx, &app.federation).await.expect("drain");
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert!(
        received[0]
            .verified
            .as_ref()
            .is_err_and(|e| e.contains("bad signature")),
        "{:?}",
        received[0].verified
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn followers_on_one_shared_inbox_get_one_request() {
    let (app, alice) = setup().await;
    let big = Sink::start().await;
    let small = Sink::start().await;
    big.trust(&key_id(&alice), &alice.public_key_pem);
    small.trust(&key_id(&alice), &alice.public_key_pem);
    for n in 0..6 {
        let follower = remote_actor_row(&app, &big.host(), &format!("fan{n}"), true).await;
        follow(&app, &follower, &alice, "accepted").await;
    }
    // Two followers on a server without shared inbox: one request each.
    for n in 0..2 {
        let follower = remote_actor_row(&app, &small.host(), &format!("solo{n}"), false).await;
        follow(&app, &follower, &alice, "accepted").await;
    }
    // Not followers (yet / any more): nothing for them.
    let pending = remote_actor_row(&app, &small.host(), "pending", false).await;
    follow(&app, &pending, &alice, "pending").await;
    let gone = remote_actor_row(&app, &small.host(), "gone", false).await;
    follow(&app, &gone, &alice, "accepted").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(culturecnous::db::schema::actors::table.find(gone.id))
        .set(culturecnous::db::schema::actors::deleted_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .expect("delete gone");

    let inboxes = followers_inboxes(&mut conn, alice.id)
        .await
        .expect("inboxes");
    assert_eq!(inboxes.len(), 3, "{inboxes:?}");
    assert!(inboxes.contains(&big.url("/inbox")));
    assert!(inboxes.contains(&small.url("/users/solo0/inbox")));
    assert!(inboxes.contains(&small.url("/users/solo1/inbox")));

    let (activity_id, _) = publish(&app, &alice, inboxes).await;
    assert_eq!(rows_of(&app.ctx, activity_id).await.len(), 3);
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 3);
    assert_eq!(big.received().len(), 1, "six followers, one shared inbox");
    assert_eq!(big.received()[0].path, "/inbox");
    assert_eq!(small.received().len(), 2);
    assert!(big.received().iter().all(|r| r.verified.is_ok()));
    assert!(small.received().iter().all(|r| r.verified.is_ok()));
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_on_the_backoff_schedule_then_given_up() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.answer_status(500);
    let (activity_id, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;

    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 1);
    let row = rows_of(&app.ctx, activity_id).await.remove(0);
    assert_eq!(row.attempts, 1);
    assert!(row.delivered_at.is_none() && row.failed_at.is_none());
    assert!(
        row.last_error.as_deref().is_some_and(|e| e.contains("500")),
        "{row:?}"
    );
    let wait = seconds_from_now(row.next_attempt_at);
    assert!(
        (55..=60).contains(&wait),
        "first retry after 1 min, got {wait} s"
    );
    // Not due yet: a plain drain leaves it alone.
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 0);
    assert_eq!(sink.received().len(), 1);
    let host = instance(&app.ctx, &sink.host()).await;
    assert!(host.first_failure_at.is_some() && host.unreachable_since.is_none());

    for (n, delay) in BACKOFF.iter().enumerate().skip(1) {
        assert_eq!(
            drain_all_now(&app.ctx, &app.federation)
                .await
                .expect("drain"),
            1
        );
        let row = rows_of(&app.ctx, activity_id).await.remove(0);
        assert_eq!(row.attempts, i32::try_from(n + 1).expect("small"));
        assert!(row.failed_at.is_none());
        let wait = seconds_from_now(row.next_attempt_at);
        let expected = i64::try_from(delay.as_secs()).expect("small");
        assert!(
            (expected - 5..=expected).contains(&wait),
            "retry {n}: expected {expected} s, got {wait} s"
        );
    }
    // The ninth attempt is the last.
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        1
    );
    let row = rows_of(&app.ctx, activity_id).await.remove(0);
    assert_eq!(row.attempts, 9);
    assert!(row.failed_at.is_some());
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("gave up after 9 attempts")),
        "{row:?}"
    );
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        0
    );
    assert_eq!(sink.received().len(), 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn gone_from_an_actor_inbox_marks_the_actor_gone() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.answer_status(410);
    let bob = remote_actor_row(&app, &sink.host(), "bob", true).await;
    let carol = remote_actor_row(&app, &sink.host(), "carol", true).await;
    let (activity_id, _) =
        publish(&app, &alice, vec![Url::parse(&bob.inbox_url).expect("url")]).await;

    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 1);
    let row = rows_of(&app.ctx, activity_id).await.remove(0);
    assert!(row.failed_at.is_some(), "410 is not retried: {row:?}");
    assert_eq!(row.attempts, 1);
    let mut conn = app.ctx.conn().await.expect("conn");
    let bob = db::actors::by_id(&mut conn, bob.id).await.expect("bob");
    assert!(bob.deleted_at.is_some(), "bob is gone");
    let carol = db::actors::by_id(&mut conn, carol.id).await.expect("carol");
    assert!(carol.deleted_at.is_none(), "only the owner of that inbox");
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        0
    );
    assert_eq!(sink.received().len(), 1);

    // A 410 on a shared inbox says nothing about any one actor.
    publish(&app, &alice, vec![sink.url("/inbox")]).await;
    drain(&app.ctx, &app.federation).await.expect("drain");
    let carol = db::actors::by_id(&mut conn, carol.id).await.expect("carol");
    assert!(carol.deleted_at.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn client_errors_are_not_retried_but_timeouts_and_throttling_are() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.answer_status(400);
    let (bad, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 1);
    let row = rows_of(&app.ctx, bad).await.remove(0);
    assert!(row.failed_at.is_some(), "{row:?}");
    assert!(row.last_error.as_deref().is_some_and(|e| e.contains("400")));
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        0
    );
    // A 400 may be a signature the server does not read: one more knock, in RFC 9421.
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert!(!received[0].headers.contains_key("signature-input"));
    assert!(received[1].headers.contains_key("signature-input"));
    // A host answering 4xx is alive.
    let host = instance(&app.ctx, &sink.host()).await;
    assert!(host.first_failure_at.is_none() && host.last_success_at.is_some());

    sink.answer_status(408);
    let (timeout, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;
    drain(&app.ctx, &app.federation).await.expect("drain");
    let row = rows_of(&app.ctx, timeout).await.remove(0);
    assert!(
        row.failed_at.is_none() && row.attempts == 1,
        "408 is retried: {row:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_requests_pauses_that_host_only() {
    let (app, alice) = setup().await;
    let busy = Sink::start().await;
    let calm = Sink::start().await;
    busy.answer(Answer {
        status: StatusCode::TOO_MANY_REQUESTS,
        retry_after: Some("120".into()),
        ..Answer::default()
    });
    let (first, _) = publish(&app, &alice, vec![busy.url("/inbox"), calm.url("/inbox")]).await;
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 2);
    let paused = instance(&app.ctx, &busy.host()).await;
    let until = paused.retry_after_until.expect("paused");
    let pause = seconds_from_now(until);
    assert!(
        (110..=120).contains(&pause),
        "Retry-After honoured: {pause} s"
    );
    assert!(
        paused.first_failure_at.is_none(),
        "a 429 is not a failure of the host"
    );
    let row = rows_of(&app.ctx, first)
        .await
        .into_iter()
        .find(|r| r.domain == busy.host())
        .expect("busy row");
    assert!(row.failed_at.is_none() && row.attempts == 1);
    assert!(
        seconds_from_now(row.next_attempt_at) >= 110,
        "not before the pause ends"
    );

    // While paused, the host gets nothing, even when its rows are due; others are served.
    let (second, _) = publish(&app, &alice, vec![busy.url("/inbox"), calm.url("/inbox")]).await;
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        1
    );
    assert_eq!(busy.received().len(), 1);
    assert_eq!(calm.received().len(), 2);
    assert!(
        rows_of(&app.ctx, second)
            .await
            .iter()
            .any(|r| r.domain == busy.host() && r.attempts == 0)
    );

    // The pause ends: everything waiting goes out.
    busy.answer_status(202);
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(instances::table.find(busy.host()))
        .set(instances::retry_after_until.eq(Utc::now() - chrono::Duration::seconds(1)))
        .execute(&mut conn)
        .await
        .expect("end pause");
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        2
    );
    assert_eq!(busy.received().len(), 3);
    for id in [first, second] {
        assert!(
            rows_of(&app.ctx, id)
                .await
                .iter()
                .all(|r| r.delivered_at.is_some())
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_failing_for_seven_days_is_skipped_until_it_is_alive_again() {
    let (app, alice) = setup().await;
    let down = Sink::start().await;
    down.answer_status(503);
    // Its failure streak started eight days ago.
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::insert_into(instances::table)
        .values((
            instances::domain.eq(down.host()),
            instances::first_failure_at.eq(Utc::now() - chrono::Duration::days(8)),
            instances::last_failure_at.eq(Utc::now() - chrono::Duration::hours(1)),
        ))
        .execute(&mut conn)
        .await
        .expect("instance");
    publish(&app, &alice, vec![down.url("/inbox")]).await;
    drain(&app.ctx, &app.federation).await.expect("drain");
    let host = instance(&app.ctx, &down.host()).await;
    assert!(
        host.unreachable_since.is_some(),
        "marked unreachable: {host:?}"
    );

    // Skipped: nothing is sent to it, even when due.
    let (waiting, _) = publish(&app, &alice, vec![down.url("/inbox")]).await;
    assert_eq!(
        drain_all_now(&app.ctx, &app.federation)
            .await
            .expect("drain"),
        0
    );
    assert_eq!(down.received().len(), 1);

    // It sends us an activity: alive again, and what waited is due at once.
    down.answer_status(202);
    mark_alive(&mut conn, &down.host())
        .await
        .expect("mark alive");
    let host = instance(&app.ctx, &down.host()).await;
    assert!(host.unreachable_since.is_none() && host.first_failure_at.is_none());
    assert!(drain(&app.ctx, &app.federation).await.expect("drain") >= 1);
    assert!(
        rows_of(&app.ctx, waiting)
            .await
            .iter()
            .all(|r| r.delivered_at.is_some())
    );
    // Calling it for a healthy host changes nothing.
    mark_alive(&mut conn, &down.host())
        .await
        .expect("mark alive");
    mark_alive(&mut conn, "never-seen.example")
        .await
        .expect("mark alive");
    assert!(
        db::instances::get(&mut conn, "never-seen.example")
            .await
            .expect("query")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_host_is_probed_once_in_a_while() {
    let (app, alice) = setup().await;
    let down = Sink::start().await;
    down.answer_status(202);
    let mut conn = app.ctx.conn().await.expect("conn");
    // Unreachable, last tried seven hours ago (more than the probe interval).
    diesel::insert_into(instances::table)
        .values((
            instances::domain.eq(down.host()),
            instances::first_failure_at.eq(Utc::now() - chrono::Duration::days(9)),
            instances::last_failure_at.eq(Utc::now() - chrono::Duration::hours(7)),
            instances::unreachable_since.eq(Utc::now() - chrono::Duration::days(2)),
        ))
        .execute(&mut conn)
        .await
        .expect("instance");
    let (id, _) = publish(&app, &alice, vec![down.url("/inbox")]).await;
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 1);
    assert!(rows_of(&app.ctx, id).await[0].delivered_at.is_some());
    let host = instance(&app.ctx, &down.host()).await;
    assert!(
        host.unreachable_since.is_none(),
        "the probe answered: {host:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_respect_the_per_host_cap() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    let other = Sink::start().await;
    let inboxes: Vec<Url> = (0..10)
        .map(|n| sink.url(&format!("/users/u{n}/inbox")))
        .chain([other.url("/inbox")])
        .collect();
    publish(&app, &alice, inboxes).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let params = ClaimParams {
        limit: 100,
        per_host: 4,
        in_flight: &[(sink.host(), 3)],
        lease_ms: 60_000,
        probe_interval_ms: 3_600_000,
    };
    let claimed = db::deliveries::claim(&mut conn, &params)
        .await
        .expect("claim");
    let on_sink = claimed.iter().filter(|c| c.domain == sink.host()).count();
    assert_eq!(on_sink, 1, "4 per host, 3 already in flight");
    assert_eq!(
        claimed.iter().filter(|c| c.domain == other.host()).count(),
        1
    );
    // Claimed rows are leased: a second claim does not see them.
    let again = db::deliveries::claim(
        &mut conn,
        &ClaimParams {
            in_flight: &[],
            ..params.clone()
        },
    )
    .await
    .expect("claim");
    assert_eq!(again.len(), 4);
    assert!(again.iter().all(|c| claimed.iter().all(|d| d.id != c.id)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_whose_worker_died_is_claimed_again_after_the_lease() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.trust(&key_id(&alice), &alice.public_key_pem);
    let (id, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;
    // A worker claims the row with a 1.5 s lease, then dies without a word.
    let mut conn = app.ctx.conn().await.expect("conn");
    let lease = Duration::from_millis(1500);
    let claimed = db::deliveries::claim(
        &mut conn,
        &ClaimParams {
            limit: 10,
            per_host: 4,
            in_flight: &[],
            lease_ms: 1500,
            probe_interval_ms: 3_600_000,
        },
    )
    .await
    .expect("claim");
    assert_eq!(claimed.len(), 1);
    let row = rows_of(&app.ctx, id).await.remove(0);
    assert!(row.claimed_at.is_some());
    let started = std::time::Instant::now();
    // drain waits for the lease, then takes the row over.
    assert_eq!(drain(&app.ctx, &app.federation).await.expect("drain"), 1);
    assert!(
        started.elapsed() >= lease - Duration::from_millis(200),
        "not before the lease ends"
    );
    assert_eq!(sink.received().len(), 1);
    assert!(sink.received()[0].verified.is_ok());
    let row = rows_of(&app.ctx, id).await.remove(0);
    assert!(row.delivered_at.is_some() && row.claimed_at.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_rows_survive_a_restart() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.trust(&key_id(&alice), &alice.public_key_pem);
    let (id, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;
    // The process goes away: pool closed, context and federation config dropped.
    let config = app.ctx.config.clone();
    app.ctx.pool.close();
    drop(app);
    // A new process on the same database.
    let pool = db::pool::build_pool(&config.database.url, 4).expect("pool");
    let ctx = AppContext::new(config, pool);
    culturecnous::service::actors::ensure_system_actors(&ctx)
        .await
        .expect("system actors");
    let federation = culturecnous::federation::build_config(&ctx)
        .await
        .expect("federation");
    assert_eq!(drain(&ctx, &federation).await.expect("drain"), 1);
    assert_eq!(sink.received().len(), 1);
    assert!(sink.received()[0].verified.is_ok());
    assert!(rows_of(&ctx, id).await[0].delivered_at.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn background_workers_deliver_on_commit_and_stop_gracefully() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.trust(&key_id(&alice), &alice.public_key_pem);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks =
        culturecnous::federation::spawn_background_tasks(&app.ctx, &app.federation, stopped);
    // Let the listener connect before enqueueing (the poll would catch up anyway).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (id, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rows_of(&app.ctx, id).await[0].delivered_at.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "workers never delivered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sink.received().len(), 1);
    assert!(sink.received()[0].verified.is_ok());
    stop.send(true).expect("stop");
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("background task stops")
            .expect("no panic");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_purges_old_rows_and_gives_up_behind_dead_hosts() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    let (done, _) = publish(&app, &alice, vec![sink.url("/inbox")]).await;
    drain(&app.ctx, &app.federation).await.expect("drain");
    let dead_host = "dead.example";
    let (stuck, _) = publish(
        &app,
        &alice,
        vec![Url::parse(&format!("https://{dead_host}/inbox")).expect("url")],
    )
    .await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(deliveries::table.filter(deliveries::activity_id.eq(done)))
        .set(deliveries::delivered_at.eq(Utc::now() - chrono::Duration::days(8)))
        .execute(&mut conn)
        .await
        .expect("age");
    diesel::update(deliveries::table.filter(deliveries::activity_id.eq(stuck)))
        .set(deliveries::created_at.eq(Utc::now() - chrono::Duration::days(15)))
        .execute(&mut conn)
        .await
        .expect("age");
    diesel::insert_into(instances::table)
        .values((
            instances::domain.eq(dead_host),
            instances::unreachable_since.eq(Utc::now() - chrono::Duration::days(10)),
            instances::last_failure_at.eq(Utc::now()),
        ))
        .execute(&mut conn)
        .await
        .expect("instance");
    let (purged, expired) = culturecnous::federation::workers::maintain(&app.ctx)
        .await
        .expect("maintain");
    assert_eq!((purged, expired), (1, 1));
    assert!(rows_of(&app.ctx, done).await.is_empty());
    assert!(rows_of(&app.ctx, stuck).await[0].failed_at.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_page_shows_queue_and_failures_to_admins_only() {
    let (app, alice) = setup().await;
    let sink = Sink::start().await;
    sink.answer_status(503);
    publish(&app, &alice, vec![sink.url("/inbox")]).await;
    drain(&app.ctx, &app.federation).await.expect("drain");

    let admin = app.create_user("root_admin", "admin").await;
    let session = culturecnous::service::sessions::open(&app.ctx, &admin, "test")
        .await
        .expect("session");
    let page = app
        .send(
            axum::http::Request::builder()
                .uri("/admin/federation")
                .header("cookie", format!("session={}; lang=fr", session.token))
                .header("accept", "text/html")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Fédération"), "{}", page.body);
    assert!(page.body.contains(&sink.host()), "failing host listed");
    assert!(page.body.contains("503"), "last error shown");
    assert!(page.body.contains("<caption"), "tables are labelled");

    let bob = app.create_user("bob_member", "member").await;
    let session = culturecnous::service::sessions::open(&app.ctx, &bob, "test")
        .await
        .expect("session");
    let forbidden = app
        .send(
            axum::http::Request::builder()
                .uri("/admin/federation")
                .header("cookie", format!("session={}", session.token))
                .header("accept", "text/html")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let anonymous = app.get_html("/admin/federation").await;
    assert!(anonymous.status.is_redirection(), "{}", anonymous.status);
}

#[test]
fn delivery_timing_constants_are_consistent() {
    // The lease must outlast the send deadline, or a live worker could lose its rows.
    assert!(delivery::LEASE > delivery::SEND_DEADLINE * 2);
    assert!(delivery::SEND_DEADLINE > culturecnous::federation::http_client::REQUEST_TIMEOUT);
}

/// Two workers recording outcomes at once, for the same hosts listed in opposite orders, wait
/// for each other instead of deadlocking (a deadlock lost a whole batch of outcomes, whose rows
/// went out again when their lease ended).
#[tokio::test(flavor = "multi_thread")]
async fn workers_recording_the_same_hosts_at_once_do_not_deadlock() {
    let app = TestApp::new().await;
    let domains: Vec<String> = (0..200).map(|i| format!("h{i:03}.example")).collect();
    let reversed: Vec<String> = domains.iter().rev().cloned().collect();
    let record = |ctx: AppContext, hosts: Vec<String>| {
        tokio::spawn(async move {
            let mut conn = ctx.conn().await.expect("conn");
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                db::instances::record_successes(conn, &hosts).await
            })
            .await
        })
    };
    for round in 0..20 {
        let one = record(app.ctx.clone(), domains.clone());
        let other = record(app.ctx.clone(), reversed.clone());
        for task in [one, other] {
            task.await
                .expect("task")
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
    let mut conn = app.ctx.conn().await.expect("conn");
    let alive: i64 = instances::table
        .filter(instances::last_success_at.is_not_null())
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(alive, 200);
}
