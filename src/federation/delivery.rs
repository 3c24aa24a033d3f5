//! Persistent delivery queue. Domain functions call [`enqueue`] inside their own transaction,
//! so the domain rows and the deliveries commit (or roll back) together.
//!
//! Sending: rows are claimed (see `db::deliveries::claim`), signed by the library's
//! `SendActivityTask` as the activity's actor, sent with a 10 s limit, and the answer decides
//! what happens next ([`Outcome`]): delivered; retried after 1 min, 5 min, 30 min, 2 h, 6 h,
//! 12 h, 24 h, 48 h, then given up; given up at once on a permanent 4xx; the sender marked gone
//! on a 410 from its own inbox; the host paused on a 429. The background workers
//! (`workers.rs`) and the test helpers [`drain`] / [`drain_all_now`] share this engine.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        deliveries::{ClaimParams, ClaimedDelivery},
        schema::deliveries,
    },
    error::{AppError, AppResult},
    federation::{
        Data, FederationConfig,
        http_client::{self, ProbedResponse, Refused},
    },
    urls::host_port,
};
use activitypub_federation::{
    activity_sending::SendActivityTask, error::Error as FederationError, traits::Activity,
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde::Serialize;
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::task::{Id as TaskId, JoinSet};
use url::Url;

/// Channel of the PostgreSQL notification sent when deliveries are enqueued: it is delivered
/// at commit, to every `serve` process, and wakes their workers.
pub const NOTIFY_CHANNEL: &str = "culturecnous_deliveries";

/// Waits before each retry; after the last one the delivery is given up.
pub const BACKOFF: [Duration; 8] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(48 * 3600),
];

/// A host failing for this long is marked unreachable.
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// An unreachable host still gets one probe delivery per this interval, so it is noticed when
/// it comes back even if it never writes to us first.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(6 * 3600);

/// How long a claimed row is a worker's. Longer than the send deadline with a wide margin:
/// only a dead worker should ever let a lease run out.
pub const LEASE: Duration = Duration::from_secs(30);

/// The whole send (signing included) is abandoned after this long, whatever the client does.
pub const SEND_DEADLINE: Duration = Duration::from_secs(12);

/// A `429` without a usable `Retry-After` pauses the host this long; longer requests are
/// capped so a hostile header cannot park deliveries for months.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
pub const MAX_PAUSE: Duration = Duration::from_secs(24 * 3600);

/// Longest error text kept on a row.
const MAX_ERROR_CHARS: usize = 500;

/// An activity to publish: stored once (dereferenceable at its id), delivered to each inbox.
pub struct OutgoingActivity<'a> {
    pub ap_id: &'a str,
    pub kind: &'a str,
    pub actor: &'a DbActor,
    pub object_ap_id: Option<&'a str>,
    pub json: serde_json::Value,
    /// Addressed to as:Public (may appear in outboxes and be served to anyone).
    pub public: bool,
}

/// Stores the activity and one delivery row per distinct remote inbox; returns the activity
/// row id. Local inboxes are skipped (local effects are applied directly by the caller).
/// Workers of every process are woken when the caller's transaction commits.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    local_domain: &str,
    activity: OutgoingActivity<'_>,
    inboxes: Vec<Url>,
) -> AppResult<i64> {
    let activity_id = db::activities::insert(
        conn,
        &db::activities::NewActivity {
            ap_id: activity.ap_id,
            kind: activity.kind,
            actor_id: activity.actor.id,
            object_ap_id: activity.object_ap_id,
            data: &activity.json,
            public: activity.public,
        },
    )
    .await?;
    let mut seen = HashSet::new();
    let rows: Vec<_> = inboxes
        .into_iter()
        .filter_map(|inbox| {
            let domain = host_port(&inbox)?;
            if domain == local_domain || !seen.insert(inbox.to_string()) {
                return None;
            }
            Some((
                deliveries::activity_id.eq(activity_id),
                deliveries::inbox_url.eq(inbox.to_string()),
                deliveries::domain.eq(domain),
            ))
        })
        .collect();
    if !rows.is_empty() {
        // Postgres caps the bind parameters of one statement; big fan-outs go in chunks.
        for chunk in rows.chunks(10_000) {
            diesel::insert_into(deliveries::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}"))
            .execute(conn)
            .await?;
    }
    Ok(activity_id)
}

/// The inboxes that reach every remote follower of `actor_id`: one per shared inbox, else
/// the follower's own inbox, deduplicated (N followers on one server → one request).
pub async fn followers_inboxes(conn: &mut AsyncPgConnection, actor_id: i64) -> AppResult<Vec<Url>> {
    let inboxes = db::follows::follower_inboxes(conn, actor_id).await?;
    let mut seen = HashSet::new();
    Ok(inboxes
        .iter()
        .filter_map(|s| Url::parse(s).ok())
        .filter(|u| seen.insert(u.clone()))
        .collect())
}

/// A host sent us something: it is alive again. Call it for every accepted inbound activity
/// (it writes nothing when the host was healthy). Deliveries that waited for an unreachable
/// host become due at once.
pub async fn mark_alive(conn: &mut AsyncPgConnection, domain: &str) -> AppResult<()> {
    if db::instances::mark_alive(conn, domain).await? {
        diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The wait before the next attempt once `attempts_done` attempts failed, `None` to give up.
pub fn retry_delay(attempts_done: i32) -> Option<Duration> {
    let index = usize::try_from(attempts_done.checked_sub(1)?).ok()?;
    BACKOFF.get(index).copied()
}

/// Delivers every due row now (rows waiting for a retry stay waiting), and waits for rows
/// other workers are sending at that moment. Returns how many rows were attempted. Tests call
/// it instead of sleeping.
pub async fn drain(ctx: &AppContext, federation: &FederationConfig) -> AppResult<usize> {
    let engine = Engine::new(
        ctx.clone(),
        federation,
        Arc::new(HostLimiter::default()),
        EngineSettings::drain(),
    );
    engine.run_until_idle().await
}

/// Makes every pending row due (skipping backoff waits, not host pauses or unreachable marks)
/// and then [`drain`]s. For tests.
pub async fn drain_all_now(ctx: &AppContext, federation: &FederationConfig) -> AppResult<usize> {
    {
        let mut conn = ctx.conn().await?;
        db::deliveries::make_all_due(&mut conn).await?;
    }
    drain(ctx, federation).await
}

/// What the admin page shows about the queue.
#[derive(Debug, Clone)]
pub struct QueueReport {
    pub stats: db::deliveries::QueueStats,
    pub domains: Vec<db::deliveries::DomainFailures>,
    pub errors: Vec<db::deliveries::RecentError>,
}

/// Queue depth, hosts with problems and the latest errors.
pub async fn queue_report(ctx: &AppContext, limit: i64) -> AppResult<QueueReport> {
    let mut conn = ctx.conn().await?;
    Ok(QueueReport {
        stats: db::deliveries::stats(&mut conn).await?,
        domains: db::deliveries::failures_by_domain(&mut conn, limit).await?,
        errors: db::deliveries::recent_errors(&mut conn, limit).await?,
    })
}

/// What one send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// Worth another try later. `host_down` when the host did not answer properly (no answer,
    /// 5xx, 408), which counts towards marking it unreachable.
    Retry { error: String, host_down: bool },
    /// 429: the host asks us to wait (for `Retry-After` when given).
    Paused {
        error: String,
        retry_after: Option<Duration>,
    },
    /// 410 from the inbox: its owner is gone; not retried.
    Gone(String),
    /// A permanent 4xx (anything but 408 and 429): not retried.
    Rejected(String),
    /// We refused to send (address or URL not allowed, nothing to sign with): not retried.
    Refused(String),
}

impl Outcome {
    /// Whether the host answered like a live server.
    fn host_alive(&self) -> bool {
        matches!(
            self,
            Outcome::Delivered | Outcome::Gone(_) | Outcome::Rejected(_) | Outcome::Paused { .. }
        )
    }
}

/// Classifies a send from the library's result and the response status the probe saw.
pub fn classify(
    result: Result<Result<(), FederationError>, tokio::time::error::Elapsed>,
    probed: Option<ProbedResponse>,
) -> Outcome {
    if let Some(ProbedResponse {
        status,
        retry_after,
    }) = probed
    {
        let detail = match &result {
            Ok(Err(e)) => format!("HTTP {status}: {}", error_chain(e)),
            _ => format!("HTTP {status}"),
        };
        return match status {
            s if s.is_success() => Outcome::Delivered,
            StatusCode::GONE => Outcome::Gone(detail),
            StatusCode::TOO_MANY_REQUESTS => Outcome::Paused {
                error: detail,
                retry_after,
            },
            StatusCode::REQUEST_TIMEOUT => Outcome::Retry {
                error: detail,
                host_down: true,
            },
            s if s.is_client_error() => Outcome::Rejected(detail),
            s => Outcome::Retry {
                error: detail,
                host_down: s.is_server_error(),
            },
        };
    }
    match result {
        Err(_) => Outcome::Retry {
            error: format!("no answer within {} s", SEND_DEADLINE.as_secs()),
            host_down: true,
        },
        Ok(Ok(())) => Outcome::Retry {
            error: "the request ended without a response".into(),
            host_down: true,
        },
        Ok(Err(e)) => match refusal_in(&e) {
            Some(refused) => Outcome::Refused(format!("not sent: {refused}")),
            None => Outcome::Retry {
                error: error_chain(&e),
                host_down: true,
            },
        },
    }
}

/// Our SSRF refusal, wherever it sits in the error (middleware or resolver).
fn refusal_in(e: &FederationError) -> Option<Refused> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = match e {
        FederationError::ReqwestMiddleware(reqwest_middleware::Error::Middleware(inner)) => {
            if let Some(refused) = inner.downcast_ref::<Refused>() {
                return Some(refused.clone());
            }
            Some(inner.as_ref())
        }
        FederationError::ReqwestMiddleware(reqwest_middleware::Error::Reqwest(inner))
        | FederationError::Reqwest(inner) => Some(inner),
        _ => None,
    };
    while let Some(err) = current {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(refused) = io.get_ref().and_then(|i| i.downcast_ref::<Refused>())
        {
            return Some(refused.clone());
        }
        current = err.source();
    }
    None
}

/// The error with its causes ("error sending request: connection refused"), shortened.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    shorten(&text)
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_ERROR_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_ERROR_CHARS).collect();
    short.push('…');
    short
}

/// The stored JSON of an activity, handed to the library's sender as is.
pub(crate) struct StoredActivity {
    id: Url,
    actor: Url,
    /// The local actor whose key signs the requests.
    signer: Arc<DbActor>,
    json: serde_json::Value,
}

impl std::fmt::Debug for StoredActivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredActivity")
            .field("id", &self.id.as_str())
            .field("actor", &self.actor.as_str())
            .finish()
    }
}

impl Serialize for StoredActivity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

#[async_trait::async_trait]
impl Activity for StoredActivity {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    /// Stored activities are ours and only ever sent; the inbox parses what it receives into
    /// its own types, never into this one.
    async fn verify(&self, _data: &Data) -> Result<(), AppError> {
        Err(AppError::bad_request(
            "a stored outgoing activity cannot be received",
        ))
    }

    async fn receive(self, _data: &Data) -> Result<(), AppError> {
        Err(AppError::bad_request(
            "a stored outgoing activity cannot be received",
        ))
    }
}

/// How many rows this process sends to each host at once, shared by its workers, so one slow
/// host cannot hold every worker. Claims go one at a time so the count stays exact.
#[derive(Default)]
pub(crate) struct HostLimiter {
    counts: Mutex<HashMap<String, i32>>,
    claim_lock: tokio::sync::Mutex<()>,
}

impl HostLimiter {
    fn snapshot(&self) -> Vec<(String, i32)> {
        self.lock().iter().map(|(d, n)| (d.clone(), *n)).collect()
    }

    fn acquire(&self, rows: &[ClaimedDelivery]) {
        let mut counts = self.lock();
        for row in rows {
            *counts.entry(row.domain.clone()).or_insert(0) += 1;
        }
    }

    fn release(&self, domain: &str) {
        let mut counts = self.lock();
        if let Some(n) = counts.get_mut(domain) {
            *n -= 1;
            if *n <= 0 {
                counts.remove(domain);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i32>> {
        // A panic while holding this lock leaves plain counters behind: still usable.
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct EngineSettings {
    /// Sends in flight at once for one engine (one worker, or one drain).
    pub max_in_flight: usize,
    /// Sends in flight at once per host for the whole process.
    pub per_host: i32,
    pub lease: Duration,
    pub probe_interval: Duration,
}

impl EngineSettings {
    pub(crate) fn worker() -> Self {
        Self {
            max_in_flight: 16,
            per_host: 4,
            lease: LEASE,
            probe_interval: PROBE_INTERVAL,
        }
    }

    fn drain() -> Self {
        Self {
            max_in_flight: 32,
            ..Self::worker()
        }
    }
}

/// One claimed row with what is needed to send it.
struct Job {
    row: ClaimedDelivery,
    activity: Arc<StoredActivity>,
}

/// Sends running in the background, with the rows they are about (to account for a panic).
#[derive(Default)]
pub(crate) struct InFlight {
    set: JoinSet<(ClaimedDelivery, Outcome)>,
    rows: HashMap<TaskId, ClaimedDelivery>,
}

impl InFlight {
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Waits for one send to finish, then takes every other one already finished.
    pub(crate) async fn next_finished(&mut self) -> Vec<(ClaimedDelivery, Outcome)> {
        let mut done = Vec::new();
        if let Some(first) = self.set.join_next_with_id().await {
            done.extend(self.settle(first));
        }
        while let Some(more) = self.set.try_join_next_with_id() {
            done.extend(self.settle(more));
        }
        done
    }

    fn settle(
        &mut self,
        joined: Result<(TaskId, (ClaimedDelivery, Outcome)), tokio::task::JoinError>,
    ) -> Option<(ClaimedDelivery, Outcome)> {
        match joined {
            Ok((id, result)) => {
                self.rows.remove(&id);
                Some(result)
            }
            Err(e) => {
                let row = self.rows.remove(&e.id())?;
                Some((
                    row,
                    Outcome::Retry {
                        error: shorten(&format!("send task failed: {e}")),
                        host_down: false,
                    },
                ))
            }
        }
    }
}

/// Claims, sends and records. Cheap to build; workers keep one each, drains build their own.
pub(crate) struct Engine {
    ctx: AppContext,
    data: Arc<Data>,
    limiter: Arc<HostLimiter>,
    settings: EngineSettings,
    activities: Mutex<HashMap<i64, Arc<StoredActivity>>>,
    actors: Mutex<HashMap<i64, Arc<DbActor>>>,
}

/// Finished sends are recorded together once this many are waiting (or nothing else runs, or
/// [`RECORD_DELAY`] passed): one transaction for several outcomes.
pub(crate) const RECORD_BATCH: usize = 8;
pub(crate) const RECORD_DELAY: Duration = Duration::from_millis(50);

/// Entries kept in each of the engine's small caches before they are emptied.
const CACHE_SIZE: usize = 256;

impl Engine {
    pub(crate) fn new(
        ctx: AppContext,
        federation: &FederationConfig,
        limiter: Arc<HostLimiter>,
        settings: EngineSettings,
    ) -> Self {
        Self {
            ctx,
            data: Arc::new(federation.to_request_data()),
            limiter,
            settings,
            activities: Mutex::new(HashMap::new()),
            actors: Mutex::new(HashMap::new()),
        }
    }

    /// Claims up to `room` due rows and starts sending them. Returns how many started.
    pub(crate) async fn start_more(
        &self,
        in_flight: &mut InFlight,
        room: usize,
    ) -> AppResult<usize> {
        if room == 0 {
            return Ok(0);
        }
        let jobs = self.claim(room).await?;
        let started = jobs.len();
        for job in jobs {
            let data = self.data.clone();
            let row = job.row.clone();
            let handle = in_flight.set.spawn(async move {
                let outcome = send_one(&data, &job).await;
                (job.row, outcome)
            });
            in_flight.rows.insert(handle.id(), row);
        }
        Ok(started)
    }

    async fn claim(&self, room: usize) -> AppResult<Vec<Job>> {
        let mut conn = self.ctx.conn().await?;
        let rows = {
            let _one_claim_at_a_time = self.limiter.claim_lock.lock().await;
            let in_flight = self.limiter.snapshot();
            let rows = db::deliveries::claim(
                &mut conn,
                &ClaimParams {
                    limit: i64::try_from(room).unwrap_or(i64::MAX),
                    per_host: self.settings.per_host,
                    in_flight: &in_flight,
                    lease_ms: millis(self.settings.lease),
                    probe_interval_ms: millis(self.settings.probe_interval),
                },
            )
            .await?;
            self.limiter.acquire(&rows);
            rows
        };
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        match self.load_jobs(&mut conn, &rows).await {
            Ok(jobs) => Ok(jobs),
            Err(e) => {
                for row in &rows {
                    self.limiter.release(&row.domain);
                }
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                if let Err(release_error) = db::deliveries::release(&mut conn, &ids).await {
                    tracing::warn!("releasing claimed deliveries: {release_error}");
                }
                Err(e)
            }
        }
    }

    /// Loads the activities and signing actors of claimed rows (cached across claims). Rows
    /// that cannot be sent at all are given up here.
    async fn load_jobs(
        &self,
        conn: &mut AsyncPgConnection,
        rows: &[ClaimedDelivery],
    ) -> AppResult<Vec<Job>> {
        let mut wanted: Vec<i64> = rows.iter().map(|r| r.activity_id).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut found: HashMap<i64, Arc<StoredActivity>> = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = lock(&self.activities);
            for id in wanted {
                match cache.get(&id) {
                    Some(activity) => {
                        found.insert(id, activity.clone());
                    }
                    None => missing.push(id),
                }
            }
        }
        let mut unusable: HashMap<i64, String> = HashMap::new();
        for activity in db::activities::by_ids(conn, &missing).await? {
            let actor = self.actor(conn, activity.actor_id).await?;
            match Url::parse(&activity.ap_id) {
                Ok(id) => {
                    let stored = Arc::new(StoredActivity {
                        id,
                        actor: actor.ap_url.clone(),
                        signer: actor,
                        json: activity.data,
                    });
                    let mut cache = lock(&self.activities);
                    if cache.len() >= CACHE_SIZE {
                        cache.clear();
                    }
                    cache.insert(activity.id, stored.clone());
                    found.insert(activity.id, stored);
                }
                Err(e) => {
                    unusable.insert(activity.id, format!("invalid activity id: {e}"));
                }
            }
        }
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let problem = match found.get(&row.activity_id) {
                Some(activity) if activity.signer.private_key_pem.is_some() => {
                    jobs.push(Job {
                        row: row.clone(),
                        activity: activity.clone(),
                    });
                    continue;
                }
                Some(_) => "the signing actor has no private key".to_string(),
                None => unusable
                    .remove(&row.activity_id)
                    .unwrap_or_else(|| "activity not found".into()),
            };
            self.limiter.release(&row.domain);
            db::deliveries::mark_failed(conn, row.id, row.attempts + 1, &problem).await?;
        }
        Ok(jobs)
    }

    async fn actor(&self, conn: &mut AsyncPgConnection, id: i64) -> AppResult<Arc<DbActor>> {
        if let Some(actor) = lock(&self.actors).get(&id) {
            return Ok(actor.clone());
        }
        let actor = Arc::new(db::actors::by_id(conn, id).await?);
        let mut cache = lock(&self.actors);
        if cache.len() >= CACHE_SIZE {
            cache.clear();
        }
        cache.insert(id, actor.clone());
        Ok(actor)
    }

    /// Whether to claim more now: when half the slots are free (or all of them), so claims
    /// come in batches rather than one query per finished send.
    pub(crate) fn wants_more(&self, in_flight: &InFlight) -> bool {
        in_flight.len() <= self.settings.max_in_flight / 2
    }

    pub(crate) fn room(&self, in_flight: &InFlight) -> usize {
        self.settings.max_in_flight.saturating_sub(in_flight.len())
    }

    /// Waits for sends to finish (see [`InFlight::next_finished`]) and frees their host slots
    /// at once; their outcomes still have to be [`Engine::record`]ed.
    pub(crate) async fn next_finished(
        &self,
        in_flight: &mut InFlight,
    ) -> Vec<(ClaimedDelivery, Outcome)> {
        let done = in_flight.next_finished().await;
        for (row, _) in &done {
            self.limiter.release(&row.domain);
        }
        done
    }

    /// Writes the outcomes of finished sends in one transaction.
    pub(crate) async fn record(&self, done: Vec<(ClaimedDelivery, Outcome)>) -> AppResult<()> {
        if done.is_empty() {
            return Ok(());
        }
        let mut conn = self.ctx.conn().await?;
        conn.transaction::<_, AppError, _>(async |conn| record_outcomes(conn, &done).await)
            .await
    }

    /// Sends every due row, then waits for rows other workers hold and sends what became due.
    /// Returns how many rows were attempted.
    pub(crate) async fn run_until_idle(&self) -> AppResult<usize> {
        let mut in_flight = InFlight::default();
        let mut finished = Vec::new();
        let mut attempted = 0;
        loop {
            if self.wants_more(&in_flight) {
                let room = self.room(&in_flight);
                self.start_more(&mut in_flight, room).await?;
            }
            if in_flight.is_empty() {
                if !finished.is_empty() {
                    attempted += finished.len();
                    self.record(std::mem::take(&mut finished)).await?;
                    continue;
                }
                if self.wait_for_other_workers().await? {
                    continue;
                }
                return Ok(attempted);
            }
            finished.extend(self.next_finished(&mut in_flight).await);
            if finished.len() >= RECORD_BATCH {
                attempted += finished.len();
                self.record(std::mem::take(&mut finished)).await?;
            }
        }
    }

    /// Waits until no other worker holds a lease; returns whether there was one to wait for.
    async fn wait_for_other_workers(&self) -> AppResult<bool> {
        let deadline = tokio::time::Instant::now() + self.settings.lease + Duration::from_secs(1);
        let mut waited = false;
        loop {
            let leased = {
                let mut conn = self.ctx.conn().await?;
                db::deliveries::count_leased(&mut conn).await?
            };
            if leased == 0 || tokio::time::Instant::now() >= deadline {
                return Ok(waited);
            }
            waited = true;
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Signs and sends one row.
async fn send_one(data: &Data, job: &Job) -> Outcome {
    let inbox = match Url::parse(&job.row.inbox_url) {
        Ok(url) => url,
        Err(e) => return Outcome::Refused(format!("invalid inbox URL: {e}")),
    };
    let allow_private = data.app_data().config.federation.allow_private_addresses;
    if let Err(refused) = http_client::check_url(&inbox, allow_private) {
        return Outcome::Refused(format!("not sent: {refused}"));
    }
    let task = match SendActivityTask::prepare(
        job.activity.as_ref(),
        job.activity.signer.as_ref(),
        vec![inbox],
        data,
    )
    .await
    {
        Ok(mut tasks) if !tasks.is_empty() => tasks.swap_remove(0),
        // The library dropped the inbox: its own checks (DNS lookup, port) failed. A DNS
        // failure may pass, so this is retried rather than given up.
        Ok(_) => {
            return Outcome::Retry {
                error:
                    "inbox refused by URL verification (DNS lookup failed or address not allowed)"
                        .into(),
                host_down: true,
            };
        }
        Err(e) => return Outcome::Refused(format!("cannot sign: {}", error_chain(&e))),
    };
    let (result, probed) = http_client::with_response_probe(tokio::time::timeout(
        SEND_DEADLINE,
        task.sign_and_send(data),
    ))
    .await;
    classify(result, probed)
}

/// Applies outcomes: rows first, then host health (failures before successes, so a host that
/// answered at least once in the batch ends up alive).
async fn record_outcomes(
    conn: &mut AsyncPgConnection,
    done: &[(ClaimedDelivery, Outcome)],
) -> AppResult<()> {
    let delivered: Vec<i64> = done
        .iter()
        .filter(|(_, o)| *o == Outcome::Delivered)
        .map(|(r, _)| r.id)
        .collect();
    db::deliveries::mark_delivered(conn, &delivered).await?;
    let mut alive: Vec<String> = Vec::new();
    let mut down: Vec<(String, String)> = Vec::new();
    for (row, outcome) in done {
        let attempts = row.attempts + 1;
        match outcome {
            Outcome::Delivered => {}
            Outcome::Gone(error) => {
                db::deliveries::mark_failed(conn, row.id, attempts, error).await?;
                db::deliveries::mark_inbox_owner_gone(conn, &row.inbox_url).await?;
            }
            Outcome::Rejected(error) | Outcome::Refused(error) => {
                db::deliveries::mark_failed(conn, row.id, attempts, error).await?;
            }
            Outcome::Paused { error, retry_after } => {
                let pause = retry_after
                    .unwrap_or(DEFAULT_PAUSE)
                    .clamp(Duration::from_secs(1), MAX_PAUSE);
                db::instances::pause(conn, &row.domain, millis(pause), error).await?;
                match retry_delay(attempts) {
                    Some(delay) => {
                        let wait = delay.max(pause);
                        db::deliveries::reschedule(conn, row.id, attempts, millis(wait), error)
                            .await?;
                    }
                    None => give_up(conn, row, attempts, error).await?,
                }
            }
            Outcome::Retry { error, host_down } => {
                match retry_delay(attempts) {
                    Some(delay) => {
                        db::deliveries::reschedule(conn, row.id, attempts, millis(delay), error)
                            .await?;
                    }
                    None => give_up(conn, row, attempts, error).await?,
                }
                if *host_down {
                    down.push((row.domain.clone(), error.clone()));
                }
            }
        }
        if outcome.host_alive() && !alive.contains(&row.domain) {
            alive.push(row.domain.clone());
        }
    }
    for (domain, error) in down {
        if alive.contains(&domain) {
            continue;
        }
        let unreachable =
            db::instances::record_failure(conn, &domain, &error, millis(UNREACHABLE_AFTER)).await?;
        if unreachable {
            tracing::info!("{domain} has failed for 7 days: marked unreachable");
        }
    }
    db::instances::record_successes(conn, &alive).await?;
    Ok(())
}

async fn give_up(
    conn: &mut AsyncPgConnection,
    row: &ClaimedDelivery,
    attempts: i32,
    error: &str,
) -> AppResult<()> {
    let text = shorten(&format!("gave up after {attempts} attempts: {error}"));
    db::deliveries::mark_failed(conn, row.id, attempts, &text).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule_then_give_up() {
        assert_eq!(retry_delay(0), None);
        assert_eq!(retry_delay(1), Some(Duration::from_secs(60)));
        assert_eq!(retry_delay(2), Some(Duration::from_secs(300)));
        assert_eq!(retry_delay(8), Some(Duration::from_secs(48 * 3600)));
        assert_eq!(retry_delay(9), None);
        let total: Duration = BACKOFF.iter().sum();
        assert!(
            total >= Duration::from_secs(2 * 24 * 3600),
            "at least two days"
        );
    }

    fn probed(status: u16) -> Option<ProbedResponse> {
        Some(ProbedResponse {
            status: StatusCode::from_u16(status).expect("status"),
            retry_after: None,
        })
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(classify(Ok(Ok(())), probed(202)), Outcome::Delivered);
        assert!(matches!(
            classify(Ok(Ok(())), probed(410)),
            Outcome::Gone(_)
        ));
        assert!(matches!(
            classify(Ok(Ok(())), probed(400)),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            classify(Ok(Ok(())), probed(403)),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            classify(Ok(Ok(())), probed(429)),
            Outcome::Paused { .. }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("x".into()))), probed(408)),
            Outcome::Retry {
                host_down: true,
                ..
            }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("x".into()))), probed(503)),
            Outcome::Retry {
                host_down: true,
                ..
            }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("x".into()))), probed(302)),
            Outcome::Retry {
                host_down: false,
                ..
            }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("down".into()))), None),
            Outcome::Retry {
                host_down: true,
                ..
            }
        ));
        let refused = FederationError::ReqwestMiddleware(reqwest_middleware::Error::middleware(
            Refused::NoHost,
        ));
        assert!(matches!(
            classify(Ok(Err(refused)), None),
            Outcome::Refused(_)
        ));
    }

    #[test]
    fn long_errors_are_shortened() {
        let long = "x".repeat(2000);
        assert_eq!(shorten(&long).chars().count(), MAX_ERROR_CHARS + 1);
        assert_eq!(shorten("short"), "short");
    }
}
