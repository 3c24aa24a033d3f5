//! The inboxes (`/inbox`, `/users/{username}/inbox`, `/actor/inbox`): what gets in, and how.
//!
//! The whole inbound path runs here, on one parse of the body: the signature pre-check (which
//! also checks the Digest, the only hash of the body), the origin checks, the activity id's URL
//! checks (resolution included, cached, in every mode), one read of the signing actor (fetched
//! only when unknown or stale), the signature, then the activity's own `verify` and `receive`.
//! Every rejection has the right status and nothing is stored before the request is proven
//! genuine:
//!
//! | check | status |
//! |---|---|
//! | over `federation.inbox_burst` (then `inbox_per_minute`) verified activities from one server | 429 + Retry-After |
//! | over `federation.inbox_fetch_burst` (then `inbox_fetch_per_minute`) activities that make us fetch something, from one client address | 429 + Retry-After |
//! | body over [`MAX_INBOX_BYTES`] | 413 |
//! | content type other than ActivityStreams JSON | 415 |
//! | no or malformed signature, unsigned `(request-target)`/`host`/`date`/`digest`, Date more than 1 h away, Digest mismatch, keyId not the actor's, key unknown, bad signature | 401 |
//! | the same for RFC 9421 (`Signature-Input`): unsigned `@method`/path/host/`content-digest`, `created` or `date` outside the window, Content-Digest mismatch, more than one signature, unknown `alg` | 401 |
//! | JSON nested deeper than [`MAX_JSON_DEPTH`], malformed, ids off the actor's origin (scheme, host and port), a local actor claimed from elsewhere | 400 |
//! | database unavailable, processing over [`PROCESSING_TIMEOUT`] | 503 (the sender retries) |
//! | a `Flag` whose `object` names no URL | 400 |
//! | from a `reject`ed domain, or a `Flag` from a domain whose block rejects reports: dropped | 202 |
//! | accepted (new, replayed, or of a type nobody handles) | 202 |
//! | from a `reject`ed domain or an actor the moderators blocked: dropped, nothing stored | 202 |

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        activities::{
            accept::Accept, announce::Announce, check_origins, create::Create, delete::Delete,
            flag::Flag, follow::Follow, id_of, invite::Invite, join::Join, leave::Leave,
            like::Like, other::Other, reject::Reject, remove::Remove, type_of, undo::Undo,
            update::Update,
        },
        http_client::SsrfUrlVerifier,
        inbound_signature,
        objects::is_local_url,
        rfc9421::Target,
        signature_scheme::{SignatureScheme, remember_in_database},
        signatures::{key_belongs_to, key_id_host, precheck},
    },
    urls::host_port,
};
use crate::{
    federation::http_client::{FetchScope, with_fetch_scope},
    service::rate_limit::{Budget, TokenBuckets},
};
use activitypub_federation::{fetch::object_id::ObjectId, traits::Activity};
use axum::{
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use url::Url;

/// Largest inbox body: real activities are a few KiB; Mastodon's limit is the same.
pub const MAX_INBOX_BYTES: usize = 1024 * 1024;
/// Deepest JSON accepted. Checked on the raw bytes, before any parser runs, so a hostile
/// 10 000-level document costs one linear scan.
pub const MAX_JSON_DEPTH: usize = 64;
/// A request not answered by then gets 503 and is retried by its sender.
pub const PROCESSING_TIMEOUT: Duration = Duration::from_secs(9);
/// Sending hosts remembered as recently marked alive before old entries are forgotten.
const ALIVE_MAX_HOSTS: usize = 10_000;
/// How often one process marks a sending host alive (deliveries to it resume).
const MARK_ALIVE_EVERY: Duration = Duration::from_secs(30);
/// How often a process purges received-activity ids older than a week.
const PURGE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Every activity an inbox accepts: specific types first, the catch-all last. Dispatch is on
/// `type`, so a malformed Follow is a 400, not a silently ignored "other".
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum InboxActivity {
    Follow(Follow),
    Accept(Accept),
    Reject(Reject),
    Undo(Undo),
    Update(Update),
    Delete(Delete),
    Create(Create),
    Like(Like),
    Announce(Announce),
    Flag(Flag),
    Invite(Invite),
    Join(Join),
    Leave(Leave),
    Remove(Remove),
    Other(Other),
}

impl<'de> Deserialize<'de> for InboxActivity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut value = Value::deserialize(deserializer)?;
        // Every string of an activity read this way (not through the inbox, which strips
        // them when it parses the body), before anything reads it.
        crate::federation::untrusted::strip_nuls(&mut value);
        InboxActivity::from_value(value).map_err(D::Error::custom)
    }
}

impl InboxActivity {
    /// The activity in `value`, dispatched on its `type` (the JSON text is not read again).
    pub fn from_value(mut value: Value) -> serde_json::Result<InboxActivity> {
        // Compact JSON-LD may list several types; the first one decides.
        if let Some(first) = type_of(&value).map(str::to_string)
            && value.get("type").is_some_and(Value::is_array)
        {
            value["type"] = Value::String(first);
        }
        match type_of(&value) {
            Some("Follow") => serde_json::from_value(value).map(InboxActivity::Follow),
            Some("Accept") => serde_json::from_value(value).map(InboxActivity::Accept),
            Some("Reject") => serde_json::from_value(value).map(InboxActivity::Reject),
            Some("Undo") => serde_json::from_value(value).map(InboxActivity::Undo),
            Some("Update") => serde_json::from_value(value).map(InboxActivity::Update),
            Some("Delete") => serde_json::from_value(value).map(InboxActivity::Delete),
            Some("Create") => serde_json::from_value(value).map(InboxActivity::Create),
            Some("Like") => serde_json::from_value(value).map(InboxActivity::Like),
            Some("Announce") => serde_json::from_value(value).map(InboxActivity::Announce),
            Some("Flag") => serde_json::from_value(value).map(InboxActivity::Flag),
            Some("Invite") => serde_json::from_value(value).map(InboxActivity::Invite),
            Some("Join") => serde_json::from_value(value).map(InboxActivity::Join),
            Some("Leave") => serde_json::from_value(value).map(InboxActivity::Leave),
            Some("Remove") => serde_json::from_value(value).map(InboxActivity::Remove),
            _ => serde_json::from_value(value).map(InboxActivity::Other),
        }
    }

    /// [`Activity::receive`], with the signing actor the inbox already read (a `Create` does
    /// not read it again).
    pub async fn receive_from(self, signer: DbActor, data: &Data) -> AppResult<()> {
        match self {
            InboxActivity::Create(a) => a.receive_from(signer, data).await,
            other => other.receive(data).await,
        }
    }
}

#[async_trait::async_trait]
impl Activity for InboxActivity {
    type DataType = AppContext;
    type Error = AppError;

    fn id(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => a.id(),
            InboxActivity::Accept(a) => a.id(),
            InboxActivity::Reject(a) => a.id(),
            InboxActivity::Undo(a) => a.id(),
            InboxActivity::Update(a) => a.id(),
            InboxActivity::Delete(a) => a.id(),
            InboxActivity::Create(a) => a.id(),
            InboxActivity::Like(a) => a.id(),
            InboxActivity::Announce(a) => a.id(),
            InboxActivity::Flag(a) => a.id(),
            InboxActivity::Invite(a) => a.id(),
            InboxActivity::Join(a) => a.id(),
            InboxActivity::Leave(a) => a.id(),
            InboxActivity::Remove(a) => a.id(),
            InboxActivity::Other(a) => a.id(),
        }
    }

    fn actor(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => a.actor(),
            InboxActivity::Accept(a) => a.actor(),
            InboxActivity::Reject(a) => a.actor(),
            InboxActivity::Undo(a) => a.actor(),
            InboxActivity::Update(a) => a.actor(),
            InboxActivity::Delete(a) => a.actor(),
            InboxActivity::Create(a) => a.actor(),
            InboxActivity::Like(a) => a.actor(),
            InboxActivity::Announce(a) => a.actor(),
            InboxActivity::Flag(a) => a.actor(),
            InboxActivity::Invite(a) => a.actor(),
            InboxActivity::Join(a) => a.actor(),
            InboxActivity::Leave(a) => a.actor(),
            InboxActivity::Remove(a) => a.actor(),
            InboxActivity::Other(a) => a.actor(),
        }
    }

    async fn verify(&self, data: &Data) -> AppResult<()> {
        match self {
            InboxActivity::Follow(a) => a.verify(data).await,
            InboxActivity::Accept(a) => a.verify(data).await,
            InboxActivity::Reject(a) => a.verify(data).await,
            InboxActivity::Undo(a) => a.verify(data).await,
            InboxActivity::Update(a) => a.verify(data).await,
            InboxActivity::Delete(a) => a.verify(data).await,
            InboxActivity::Create(a) => a.verify(data).await,
            InboxActivity::Like(a) => a.verify(data).await,
            InboxActivity::Announce(a) => a.verify(data).await,
            InboxActivity::Flag(a) => a.verify(data).await,
            InboxActivity::Invite(a) => a.verify(data).await,
            InboxActivity::Join(a) => a.verify(data).await,
            InboxActivity::Leave(a) => a.verify(data).await,
            InboxActivity::Remove(a) => a.verify(data).await,
            InboxActivity::Other(a) => a.verify(data).await,
        }
    }

    async fn receive(self, data: &Data) -> AppResult<()> {
        match self {
            InboxActivity::Follow(a) => a.receive(data).await,
            InboxActivity::Accept(a) => a.receive(data).await,
            InboxActivity::Reject(a) => a.receive(data).await,
            InboxActivity::Undo(a) => a.receive(data).await,
            InboxActivity::Update(a) => a.receive(data).await,
            InboxActivity::Delete(a) => a.receive(data).await,
            InboxActivity::Create(a) => a.receive(data).await,
            InboxActivity::Like(a) => a.receive(data).await,
            InboxActivity::Announce(a) => a.receive(data).await,
            InboxActivity::Flag(a) => a.receive(data).await,
            InboxActivity::Invite(a) => a.receive(data).await,
            InboxActivity::Join(a) => a.receive(data).await,
            InboxActivity::Leave(a) => a.receive(data).await,
            InboxActivity::Remove(a) => a.receive(data).await,
            InboxActivity::Other(a) => a.receive(data).await,
        }
    }
}

/// State shared by the inbox routes of one router: the rate limiters and the time of the last
/// purge of old received-activity ids.
#[derive(Default)]
pub struct InboxState {
    /// Per sending server, charged only for requests whose signature checked out.
    hosts: TokenBuckets,
    /// Per client address, charged by activities that make us fetch something.
    fetchers: Arc<TokenBuckets>,
    last_purge: AtomicU64,
    /// The URL checks of activity ids, built from the configuration on first use.
    verifier: OnceLock<SsrfUrlVerifier>,
    /// When each sending host was last marked alive by this process.
    alive: Mutex<HashMap<String, Instant>>,
    /// Signing hosts this process already remembered as RFC 9421 signers.
    rfc9421_signers: Mutex<HashSet<String>>,
}

tokio::task_local! {
    /// Set once the request's signature checked out: the request counts against its
    /// server's allowance.
    static SIGNATURE_VERIFIED: AtomicBool;
}

fn mark_verified() {
    let _ = SIGNATURE_VERIFIED.try_with(|v| v.store(true, Ordering::Relaxed));
}

/// A 429 with `Retry-After`.
fn too_many(detail: String, retry_after: u64) -> Response {
    let mut response = AppError::new(ErrorKind::TooManyRequests, detail).into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

impl InboxState {
    fn verifier(&self, ctx: &AppContext) -> &SsrfUrlVerifier {
        self.verifier
            .get_or_init(|| SsrfUrlVerifier::new(ctx.config.federation.allow_private_addresses))
    }

    /// Whether `host` should be marked alive now: not when this process did it less than
    /// [`MARK_ALIVE_EVERY`] ago (a busy peer would cost a write per activity). A host that
    /// failed since then is revived by its next activity after that delay.
    fn alive_unmarked(&self, host: &str) -> bool {
        let now = Instant::now();
        let Ok(mut alive) = self.alive.lock() else {
            return true;
        };
        if alive
            .get(host)
            .is_some_and(|at| now.duration_since(*at) < MARK_ALIVE_EVERY)
        {
            return false;
        }
        if alive.len() >= ALIVE_MAX_HOSTS {
            alive.retain(|_, at| now.duration_since(*at) < MARK_ALIVE_EVERY);
        }
        alive.insert(host.to_string(), now);
        true
    }

    /// Whether `host` was not yet remembered by this process as a server signing with RFC
    /// 9421 (it is now). Bounded like the alive marks.
    fn signs_rfc9421_unmarked(&self, host: &str) -> bool {
        let Ok(mut hosts) = self.rfc9421_signers.lock() else {
            return false;
        };
        if hosts.len() >= ALIVE_MAX_HOSTS {
            hosts.clear();
        }
        hosts.insert(host.to_string())
    }

    /// Starts a purge of received ids older than a week, at most once an hour per process.
    fn maybe_purge(&self, ctx: &AppContext) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let last = self.last_purge.load(Ordering::Relaxed);
        if now.saturating_sub(last) < PURGE_EVERY.as_secs()
            || self
                .last_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let ctx = ctx.clone();
        tokio::spawn(async move {
            if let Err(e) = purge_received(&ctx).await {
                tracing::warn!("purging received activity ids: {e}");
            }
        });
    }
}

/// Deletes received-activity ids older than a week (they are kept at least that long).
pub async fn purge_received(ctx: &AppContext) -> AppResult<usize> {
    let mut conn = ctx.conn().await?;
    Ok(crate::db::received_activities::purge_old(&mut conn).await?)
}

/// Whether the raw JSON nests deeper than `max` (strings are skipped, escapes honoured).
pub fn json_too_deep(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `application/activity+json`, `application/ld+json` (any profile) or `application/json`.
pub fn check_content_type(headers: &HeaderMap) -> AppResult<()> {
    match crate::body::media_type(headers).as_str() {
        "application/activity+json" | "application/ld+json" | "application/json" => Ok(()),
        other => Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            format!(
                "content type {other:?} is not accepted: send application/activity+json, \
                 application/ld+json or application/json"
            ),
        )),
    }
}

/// `id`, `actor` and `type` of an activity, each required.
fn envelope(value: &Value) -> AppResult<(Url, Url)> {
    if !value.is_object() {
        return Err(AppError::bad_request("an activity is a JSON object"));
    }
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .ok_or_else(|| AppError::bad_request("activity id: missing or not a URL"))?;
    let actor = value
        .get("actor")
        .and_then(id_of)
        .ok_or_else(|| AppError::bad_request("activity actor: missing or not a URL"))?;
    if type_of(value).is_none() {
        return Err(AppError::bad_request("activity type: missing"));
    }
    Ok((id, actor))
}

/// Whether the activity is dropped because of a domain block: everything from a `reject`ed
/// domain (the actor's or the signing key's), and reports (`Flag`) from a domain whose block
/// says "reject reports".
async fn blocked(ctx: &AppContext, actor: &Url, key_id: &Url, activity: &Value) -> AppResult<bool> {
    use crate::service::domain_blocks::Severity;
    let hosts: Vec<String> = [host_port(actor), host_port(key_id)]
        .into_iter()
        .flatten()
        .collect();
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    // `silence` is Mastodon's "limit": what its accounts send still reaches their followers
    // here; the public lists leave it out when they read it.
    let drop = ctx.blocks.severity(ctx, &hosts).await? == Some(Severity::Reject)
        || (type_of(activity) == Some("Flag") && ctx.blocks.rejects_reports(ctx, &hosts).await?);
    if drop {
        let kind = type_of(activity).unwrap_or("activity");
        let id = activity.get("id").and_then(Value::as_str).unwrap_or("");
        tracing::info!("dropped {kind} {id} from a blocked domain");
    }
    Ok(drop)
}

/// Who sent a request, for the log: the host its signature claims (not verified yet when
/// it is refused) and the connecting address.
struct Sender {
    host: String,
    peer: String,
}

impl Sender {
    fn of(host: Option<&str>, peer: &str) -> Sender {
        Sender {
            host: host.unwrap_or("-").into(),
            peer: if peer.is_empty() {
                "-".into()
            } else {
                peer.into()
            },
        }
    }
}

/// One log line per refused request, with its status, reason and sender. Internal errors are
/// logged where they become a response; an unavailable database is the operator's news from
/// elsewhere, not a refusal.
fn log_refusal(sender: &Sender, e: &AppError) {
    match e.kind {
        ErrorKind::Internal | ErrorKind::Unavailable => {}
        _ => tracing::info!(
            host = sender.host,
            peer = sender.peer,
            status = e.status().as_u16(),
            "inbound activity refused: {}",
            e.detail
        ),
    }
}

/// Receives one inbound request; the status is what the sender gets.
pub async fn receive(data: &Data, state: &InboxState, request: Request) -> Response {
    let started = Instant::now();
    let ctx = data.app_data();
    let settings = &ctx.config.federation;
    // The claimed signing host's allowance is taken now and given back unless the signature
    // checks out, so the limit holds for verified servers only: a forger cannot drain a real
    // server's allowance.
    let host_budget = Budget::new(settings.inbox_burst, settings.inbox_per_minute);
    let host = key_id_host(request.headers());
    if let Some(host) = &host
        && let Err(retry_after) = state.hosts.take(host, host_budget)
    {
        return too_many(format!("too many activities from {host}"), retry_after);
    }
    let client = crate::client_addr::of(request.extensions())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let fetch_scope = Arc::new(FetchScope::new(
        state.fetchers.clone(),
        client.clone(),
        Budget::new(settings.inbox_fetch_burst, settings.inbox_fetch_per_minute),
    ));
    state.maybe_purge(ctx);
    let sender = Sender::of(host.as_deref(), &client);
    let outcome = SIGNATURE_VERIFIED
        .scope(
            AtomicBool::new(false),
            with_fetch_scope(fetch_scope.clone(), async move {
                let outcome =
                    tokio::time::timeout(PROCESSING_TIMEOUT, process(data, state, request)).await;
                let verified = SIGNATURE_VERIFIED.with(|v| v.load(Ordering::Relaxed));
                (outcome, verified)
            }),
        )
        .await;
    let (outcome, verified) = outcome;
    if !verified && let Some(host) = &host {
        state.hosts.give_back(host, host_budget);
    }
    if let Some(retry_after) = fetch_scope.refused_for() {
        tracing::info!("inbox refused: fetch budget of {client} spent");
        return too_many(
            format!("too many activities needing fetches from {client}"),
            retry_after,
        );
    }
    match outcome {
        Ok(Ok(status)) => status.into_response(),
        Ok(Err(e)) => {
            log_refusal(&sender, &e);
            e.into_response()
        }
        Err(_) => {
            tracing::warn!(
                host = sender.host,
                peer = sender.peer,
                "inbox processing timed out after {:?}",
                started.elapsed()
            );
            let mut response =
                AppError::unavailable("processing timed out, retry later").into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            response
        }
    }
}

async fn process(data: &Data, state: &InboxState, request: Request) -> AppResult<StatusCode> {
    let (parts, body) = request.into_parts();
    check_content_type(&parts.headers)?;
    if !parts.headers.contains_key("signature") {
        // Refused before the body is read: unsigned requests cost nothing.
        return Err(AppError::new(
            ErrorKind::Unauthorized,
            "request is not signed (no Signature header)",
        ));
    }
    let bytes = crate::body::read_capped(body, MAX_INBOX_BYTES).await?;
    let signature = precheck(
        &parts.method,
        &parts.headers,
        &bytes,
        data.domain(),
        SystemTime::now(),
    )?;
    if json_too_deep(&bytes, MAX_JSON_DEPTH) {
        return Err(AppError::bad_request(format!(
            "JSON nested deeper than {MAX_JSON_DEPTH} levels"
        )));
    }
    let value = crate::federation::untrusted::parse_inbound(&bytes)?;
    let (id, actor) = envelope(&value)?;
    if is_local_url(data, &actor) || is_local_url(data, &id) {
        return Err(AppError::bad_request(
            "an activity of a local actor cannot come from elsewhere",
        ));
    }
    check_origins(&value, &id, &actor)?;
    let key_id = Url::parse(signature.key_id())
        .map_err(|_| AppError::new(ErrorKind::Unauthorized, "keyId is not a URL"))?;
    if !key_belongs_to(&key_id, &actor) {
        return Err(AppError::new(
            ErrorKind::Unauthorized,
            format!("signed with {key_id}, which is not a key of the actor {actor}"),
        ));
    }

    let ctx = data.app_data();
    if blocked(ctx, &actor, &key_id, &value).await? {
        // Answered as accepted so the sender does not retry; nothing fetched, nothing stored.
        return Ok(StatusCode::ACCEPTED);
    }
    // The signing actor, read once: from our table when known and fresh, else fetched.
    let known = {
        let mut conn = ctx.conn().await?;
        crate::db::actors::by_ap_id(&mut conn, actor.as_str()).await?
    };
    if known.as_ref().is_some_and(|a| a.blocked_at.is_some()) {
        // An actor the moderators blocked: dropped like a rejected domain's activity, before
        // any fetch or write, and answered as accepted so the sender does not retry.
        tracing::info!("dropped an activity of {actor}, blocked by the moderators");
        return Ok(StatusCode::ACCEPTED);
    }
    if known.is_none()
        && type_of(&value) == Some("Delete")
        && value.get("object").and_then(id_of).as_ref() == Some(&actor)
    {
        // An account we never knew was deleted: nothing to undo, and its key is gone
        // (fetching it would answer 410).
        return Ok(StatusCode::ACCEPTED);
    }
    let signer = match known {
        Some(signer) if !needs_refresh(&signer) => signer,
        _ => ObjectId::<DbActor>::from(actor.clone())
            .dereference(data)
            .await
            .map_err(|e| {
                if e.kind == ErrorKind::Unavailable {
                    e
                } else {
                    AppError::new(
                        ErrorKind::Unauthorized,
                        format!("cannot get the key of {actor}: {}", e.detail),
                    )
                }
            })?,
    };
    if signer.deleted_at.is_some() {
        // Gone: whatever it still sends is ignored (a retried Delete included).
        return Ok(StatusCode::ACCEPTED);
    }
    if signer.local {
        return Err(AppError::bad_request(
            "an activity of a local actor cannot come from elsewhere",
        ));
    }
    // What production checks on every activity id, in every mode (the private-address switch
    // only lets loopback pass): scheme, port, name, and its resolution (cached).
    state
        .verifier(ctx)
        .check_inbound(&id)
        .await
        .map_err(|refused| AppError::forbidden(format!("activity id {id}: {refused}")))?;
    let (scheme, authority) = inbound_signature::local_target(ctx);
    inbound_signature::verify_request(
        &signature,
        &parts.method,
        &parts.uri,
        &parts.headers,
        Target {
            scheme,
            authority: &authority,
        },
        &signer.public_key_pem,
    )?;
    mark_verified();

    let activity = InboxActivity::from_value(value)
        .map_err(|e| AppError::bad_request(format!("malformed activity: {e}")))?;
    activity.verify(data).await?;
    activity.receive_from(signer, data).await?;
    if signature.scheme() == SignatureScheme::Rfc9421
        && let Some(host) = host_port(&key_id)
        && state.signs_rfc9421_unmarked(&host)
    {
        // A server that signs with RFC 9421 reads it: what we send it is signed so too.
        remember_in_database(ctx, &host, SignatureScheme::Rfc9421).await;
    }
    if let Some(domain) = host_port(&actor)
        && state.alive_unmarked(&domain)
    {
        // A host that sends us something is alive: deliveries to it resume.
        let mut conn = ctx.conn().await?;
        crate::federation::delivery::mark_alive(&mut conn, &domain).await?;
    }
    Ok(StatusCode::ACCEPTED)
}

/// Whether a stored remote actor is due for a refetch: the library's own interval (a day; 20
/// seconds in debug builds), so that [`ObjectId::dereference`] is called exactly when it would
/// fetch.
fn needs_refresh(actor: &DbActor) -> bool {
    let interval = if cfg!(debug_assertions) {
        chrono::Duration::seconds(20)
    } else {
        chrono::Duration::days(1)
    };
    !actor.local && actor.last_refreshed_at < chrono::Utc::now() - interval
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_on_raw_bytes() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(json_too_deep(deep.as_bytes(), MAX_JSON_DEPTH));
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(!json_too_deep(ok.as_bytes(), MAX_JSON_DEPTH));
        // Brackets inside strings do not count, escaped quotes do not end strings.
        let tricky = format!(
            r#"{{"a": "{}\"{}", "b": [1]}}"#,
            "[".repeat(100),
            "{".repeat(100)
        );
        assert!(!json_too_deep(tricky.as_bytes(), 2));
    }

    #[test]
    fn content_types() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).expect("ct"));
            h
        };
        for ok in [
            "application/activity+json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "application/json; charset=utf-8",
            "Application/Activity+JSON",
        ] {
            check_content_type(&with(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "text/html",
        ] {
            let e = check_content_type(&with(bad)).expect_err(bad);
            assert_eq!(e.kind, ErrorKind::UnsupportedMediaType);
        }
        assert!(check_content_type(&HeaderMap::new()).is_err());
    }

    #[test]
    fn dispatch_on_type() {
        let follow: InboxActivity = serde_json::from_str(
            r#"{"type":"Follow","id":"https://a.example/f/1","actor":"https://a.example/u/x","object":"https://b.example/u/y"}"#,
        )
        .expect("follow");
        assert!(matches!(follow, InboxActivity::Follow(_)));
        let other: InboxActivity = serde_json::from_str(
            r#"{"type":"Arrive","id":"https://a.example/f/1","actor":"https://a.example/u/x"}"#,
        )
        .expect("other");
        assert!(matches!(other, InboxActivity::Other(_)));
        // A Follow without object is malformed, not "other".
        assert!(
            serde_json::from_str::<InboxActivity>(
                r#"{"type":"Follow","id":"https://a.example/f/1","actor":"https://a.example/u/x"}"#
            )
            .is_err()
        );
        // Several types: the first one counts.
        let multi: InboxActivity = serde_json::from_str(
            r#"{"type":["Delete","as:Delete"],"id":"https://a.example/d/1","actor":"https://a.example/u/x","object":"https://a.example/u/x"}"#,
        )
        .expect("multi");
        assert!(matches!(multi, InboxActivity::Delete(_)));
    }
}
