//! The sending engine: claims due rows, signs and sends them as their activity's actor,
//! and records the outcomes (retry schedule, host health). Workers keep one engine each;
//! [`drain`] builds its own.

use super::{
    BACKOFF, DEFAULT_PAUSE, LEASE, MAX_PAUSE, PROBE_INTERVAL, SEND_DEADLINE, UNREACHABLE_AFTER,
    classify::{Outcome, classify, shorten},
};
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        deliveries::{ClaimParams, ClaimedDelivery},
    },
    error::{AppError, AppResult},
    federation::{
        FederationConfig,
        http_client::{self, SsrfUrlVerifier},
        outbound_signature::{SignAs, Signer},
    },
};
use activitypub_federation::error::Error as FederationError;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use reqwest_middleware::ClientWithMiddleware;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::task::{Id as TaskId, JoinSet};
use url::Url;

/// The wait before the next attempt once `attempts_done` attempts failed, `None` to give up.
pub fn retry_delay(attempts_done: i32) -> Option<Duration> {
    let index = usize::try_from(attempts_done.checked_sub(1)?).ok()?;
    BACKOFF.get(index).copied()
}

/// Delivers every due row now (rows waiting for a retry stay waiting), and waits for rows
/// other workers are sending at that moment. Returns how many rows were attempted. Tests call
/// it instead of sleeping.
/// `_federation` is the library configuration callers hold; deliveries no longer go through
/// it (see [`delivery_client`]).
pub async fn drain(ctx: &AppContext, _federation: &FederationConfig) -> AppResult<usize> {
    let engine = Engine::new(
        ctx.clone(),
        delivery_client(ctx)?,
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

/// A stored activity, serialized once, with the key that signs it.
pub(crate) struct StoredActivity {
    /// The JSON sent to every inbox, as stored.
    body: bytes::Bytes,
    /// The activity's actor: the local actor whose key signs the requests.
    signer: Arc<SigningActor>,
}

/// A local actor from the engine's cache, with its private key parsed once (`None`, with the
/// reason, when it has none that can sign).
pub(crate) struct SigningActor {
    signer: Result<Arc<Signer>, String>,
}

impl SigningActor {
    fn of(actor: &DbActor) -> SigningActor {
        let signer = match actor.private_key_pem.as_deref() {
            None => Err("the signing actor has no private key".to_string()),
            Some(pem) => Signer::for_actor(&actor.ap_id, pem)
                .map(Arc::new)
                .map_err(|e| format!("the signing actor's key: {e}")),
        };
        SigningActor { signer }
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
            max_in_flight: 64,
            per_host: 4,
            lease: LEASE,
            probe_interval: PROBE_INTERVAL,
        }
    }

    fn drain() -> Self {
        Self::worker()
    }
}

/// One claimed row with what is needed to send it.
struct Job {
    row: ClaimedDelivery,
    body: bytes::Bytes,
    signer: Arc<Signer>,
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

/// The client deliveries go through: the federation client (SSRF checks, blocked domains,
/// response probe, and the signer that picks each server's scheme), without a fetch signer:
/// every delivery names its own.
pub(crate) fn delivery_client(ctx: &AppContext) -> AppResult<ClientWithMiddleware> {
    http_client::build_federation_client(
        ctx,
        ctx.config.federation.allow_private_addresses,
        &crate::federation::user_agent(ctx),
        None,
    )
    .map_err(|e| AppError::internal(format!("delivery client: {e}")))
}

/// Claims, sends and records. Cheap to build; workers keep one each, drains build their own.
pub(crate) struct Engine {
    ctx: AppContext,
    sender: Arc<Sender>,
    limiter: Arc<HostLimiter>,
    settings: EngineSettings,
    activities: Mutex<HashMap<i64, Arc<StoredActivity>>>,
    actors: Mutex<HashMap<i64, Arc<SigningActor>>>,
}

/// What a send needs besides its row: the client and the URL checks.
struct Sender {
    client: ClientWithMiddleware,
    verifier: SsrfUrlVerifier,
    allow_private: bool,
}

/// Finished sends are recorded together once this many are waiting (or nothing else runs, or
/// [`RECORD_DELAY`] passed): one transaction for several outcomes.
pub(crate) const RECORD_BATCH: usize = 16;
pub(crate) const RECORD_DELAY: Duration = Duration::from_millis(50);

/// Attempts at recording a batch of outcomes, and the wait before the second one (doubled
/// before the third).
const RECORD_TRIES: u32 = 3;
const RECORD_RETRY_WAIT: Duration = Duration::from_millis(100);

/// Entries kept in each of the engine's small caches before they are emptied.
const CACHE_SIZE: usize = 256;

impl Engine {
    pub(crate) fn new(
        ctx: AppContext,
        client: ClientWithMiddleware,
        limiter: Arc<HostLimiter>,
        settings: EngineSettings,
    ) -> Self {
        let allow_private = ctx.config.federation.allow_private_addresses;
        Self {
            ctx,
            sender: Arc::new(Sender {
                client,
                verifier: SsrfUrlVerifier::new(allow_private),
                allow_private,
            }),
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
            let sender = self.sender.clone();
            let row = job.row.clone();
            let handle = in_flight.set.spawn(async move {
                let outcome = send_one(&sender, &job).await;
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
        for activity in db::activities::by_ids(conn, &missing).await? {
            let signer = self.actor(conn, activity.actor_id).await?;
            let body = match serde_json::to_vec(&activity.data) {
                Ok(body) => body,
                Err(e) => return Err(AppError::internal(format!("activity JSON: {e}"))),
            };
            let stored = Arc::new(StoredActivity {
                body: body.into(),
                signer,
            });
            let mut cache = lock(&self.activities);
            if cache.len() >= CACHE_SIZE {
                cache.clear();
            }
            cache.insert(activity.id, stored.clone());
            found.insert(activity.id, stored);
        }
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let problem = match found.get(&row.activity_id) {
                Some(activity) => match &activity.signer.signer {
                    Ok(signer) => {
                        jobs.push(Job {
                            row: row.clone(),
                            body: activity.body.clone(),
                            signer: signer.clone(),
                        });
                        continue;
                    }
                    Err(problem) => problem.clone(),
                },
                None => "activity not found".to_string(),
            };
            self.limiter.release(&row.domain);
            db::deliveries::mark_failed(conn, row.id, row.attempts + 1, &problem).await?;
        }
        Ok(jobs)
    }

    /// A local actor with its key parsed, from the cache or the database.
    async fn actor(&self, conn: &mut AsyncPgConnection, id: i64) -> AppResult<Arc<SigningActor>> {
        if let Some(actor) = lock(&self.actors).get(&id) {
            return Ok(actor.clone());
        }
        let actor = Arc::new(SigningActor::of(&db::actors::by_id(conn, id).await?));
        let mut cache = lock(&self.actors);
        if cache.len() >= CACHE_SIZE {
            cache.clear();
        }
        cache.insert(id, actor.clone());
        Ok(actor)
    }

    /// Whether to claim more now: when a quarter of the slots are free (or all of them), so
    /// claims come in batches rather than one query per finished send. Each claim ranks every
    /// due row, so their number, not their size, is what costs.
    pub(crate) fn wants_more(&self, in_flight: &InFlight) -> bool {
        let max = self.settings.max_in_flight;
        in_flight.len() <= max - max / 4
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

    /// Writes the outcomes of finished sends in one transaction, tried again (up to
    /// [`RECORD_TRIES`] times) if it fails: rows left unrecorded would be sent again once their
    /// lease ends.
    pub(crate) async fn record(&self, done: Vec<(ClaimedDelivery, Outcome)>) -> AppResult<()> {
        if done.is_empty() {
            return Ok(());
        }
        let mut tries = 0;
        loop {
            tries += 1;
            let result = match self.ctx.conn().await {
                Ok(mut conn) => {
                    conn.transaction::<_, AppError, _>(async |conn| {
                        record_outcomes(conn, &done).await
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            match result {
                Err(e) if tries < RECORD_TRIES => {
                    tracing::info!("recording delivery outcomes failed, trying again: {e}");
                    tokio::time::sleep(RECORD_RETRY_WAIT * tries).await;
                }
                result => return result,
            }
        }
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

/// Signs and sends one row: a POST of the stored JSON as `application/activity+json`, signed
/// as the activity's actor by the client's signer (in the scheme the server reads), under
/// [`SEND_DEADLINE`]; the answer's status, seen by the response probe, decides the outcome.
async fn send_one(sender: &Sender, job: &Job) -> Outcome {
    let inbox = match Url::parse(&job.row.inbox_url) {
        Ok(url) => url,
        Err(e) => return Outcome::Refused(format!("invalid inbox URL: {e}")),
    };
    if let Err(refused) = http_client::check_url(&inbox, sender.allow_private) {
        return Outcome::Refused(format!("not sent: {refused}"));
    }
    if let Err(refused) = sender.verifier.check_inbound(&inbox).await {
        // A DNS failure may pass, so this is retried rather than given up.
        return Outcome::Retry {
            error: format!("inbox refused by URL verification: {refused}"),
            host_down: true,
        };
    }
    let send = async {
        let response = sender
            .client
            .post(inbox)
            .header(reqwest::header::CONTENT_TYPE, FEDERATION_CONTENT_TYPE)
            .body(job.body.clone())
            .with_extension(SignAs(job.signer.clone()))
            .send()
            .await
            .map_err(FederationError::ReqwestMiddleware)?;
        // Read (up to a limit) so the connection can serve the next delivery.
        drain_body(response).await;
        Ok::<(), FederationError>(())
    };
    let (result, probed) =
        http_client::with_response_probe(tokio::time::timeout(SEND_DEADLINE, send)).await;
    classify(result, probed)
}

/// The content type of every delivery.
const FEDERATION_CONTENT_TYPE: &str = "application/activity+json";

/// Most of an answer's body read before the connection is given up.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

async fn drain_body(mut response: reqwest::Response) {
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > MAX_ANSWER_BYTES {
            break;
        }
    }
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
    // Host rows in one order whoever records, so concurrent batches cannot deadlock.
    alive.sort_unstable();
    down.sort_unstable();
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
}
