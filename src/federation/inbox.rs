//! The inboxes (`/inbox`, `/users/{username}/inbox`, `/actor/inbox`): what gets in, and how.
//!
//! activitypub_federation verifies the HTTP signature and dispatches the activity; this module
//! wraps it so that every rejection has the right status and nothing is stored before the
//! request is proven genuine:
//!
//! | check | status |
//! |---|---|
//! | over `federation.inbox_burst` (then `inbox_per_minute`) verified activities from one server | 429 + Retry-After |
//! | over `federation.inbox_fetch_burst` (then `inbox_fetch_per_minute`) activities that make us fetch something, from one client address | 429 + Retry-After |
//! | body over [`MAX_INBOX_BYTES`] | 413 |
//! | content type other than ActivityStreams JSON | 415 |
//! | no or malformed signature, unsigned `(request-target)`/`host`/`date`/`digest`, Date more than 1 h away, Digest mismatch, keyId not the actor's, key unknown, bad signature | 401 |
//! | JSON nested deeper than [`MAX_JSON_DEPTH`], malformed, ids off the actor's origin (scheme, host and port), a local actor claimed from elsewhere | 400 |
//! | database unavailable, processing over [`PROCESSING_TIMEOUT`] | 503 (the sender retries) |
//! | accepted (new, replayed, or of a type nobody handles) | 202 |

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        activities::{
            accept::Accept, announce::Announce, check_origins, create::Create, delete::Delete,
            follow::Follow, id_of, like::Like, other::Other, reject::Reject, type_of, undo::Undo,
            update::Update,
        },
        objects::is_local_url,
        signatures::{key_belongs_to, key_id_host, precheck},
    },
    urls::host_port,
};
use crate::{
    federation::http_client::{FetchScope, with_fetch_scope},
    service::rate_limit::{Budget, TokenBuckets},
};
use activitypub_federation::{
    axum::inbox::{ActivityData, receive_activity},
    fetch::object_id::ObjectId,
    traits::Activity,
};
use axum::{
    body::Body,
    extract::{FromRequest, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::{
    sync::{
        Arc,
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
    Other(Other),
}

impl<'de> Deserialize<'de> for InboxActivity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut value = Value::deserialize(deserializer)?;
        // Compact JSON-LD may list several types; the first one decides.
        if let Some(first) = type_of(&value).map(str::to_string)
            && value.get("type").is_some_and(Value::is_array)
        {
            value["type"] = Value::String(first);
        }
        let parsed = match type_of(&value) {
            Some("Follow") => serde_json::from_value(value).map(InboxActivity::Follow),
            Some("Accept") => serde_json::from_value(value).map(InboxActivity::Accept),
            Some("Reject") => serde_json::from_value(value).map(InboxActivity::Reject),
            Some("Undo") => serde_json::from_value(value).map(InboxActivity::Undo),
            Some("Update") => serde_json::from_value(value).map(InboxActivity::Update),
            Some("Delete") => serde_json::from_value(value).map(InboxActivity::Delete),
            Some("Create") => serde_json::from_value(value).map(InboxActivity::Create),
            Some("Like") => serde_json::from_value(value).map(InboxActivity::Like),
            Some("Announce") => serde_json::from_value(value).map(InboxActivity::Announce),
            _ => serde_json::from_value(value).map(InboxActivity::Other),
        };
        parsed.map_err(D::Error::custom)
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
            InboxActivity::Other(a) => a.actor(),
        }
    }

    async fn verify(&self, data: &Data) -> AppResult<()> {
        mark_verified();
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
}

tokio::task_local! {
    /// Set once the library has verified the request's signature (it calls
    /// `Activity::verify` only then): the request counts against its server's allowance.
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
/// domain (the actor's or the signing key's).
async fn blocked(ctx: &AppContext, actor: &Url, key_id: &Url, activity: &Value) -> AppResult<bool> {
    use crate::service::domain_blocks::Severity;
    let hosts: Vec<String> = [host_port(actor), host_port(key_id)]
        .into_iter()
        .flatten()
        .collect();
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    // `silence` is Mastodon's "limit": what its accounts send still reaches their followers
    // here; the public lists leave it out when they read it.
    let drop = ctx.blocks.severity(ctx, &hosts).await? == Some(Severity::Reject);
    if drop {
        let kind = type_of(activity).unwrap_or("activity");
        let id = activity.get("id").and_then(Value::as_str).unwrap_or("");
        tracing::info!("dropped {kind} {id} from a blocked domain");
    }
    Ok(drop)
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
    let outcome = SIGNATURE_VERIFIED
        .scope(
            AtomicBool::new(false),
            with_fetch_scope(fetch_scope.clone(), async move {
                let outcome =
                    tokio::time::timeout(PROCESSING_TIMEOUT, process(data, request)).await;
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
            if e.kind != ErrorKind::Unavailable {
                tracing::info!("inbox refused ({:?}): {}", e.kind, e.detail);
            }
            e.into_response()
        }
        Err(_) => {
            tracing::warn!("inbox processing timed out after {:?}", started.elapsed());
            let mut response =
                AppError::unavailable("processing timed out, retry later").into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            response
        }
    }
}

async fn process(data: &Data, request: Request) -> AppResult<StatusCode> {
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
    let params = precheck(
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
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad_request(format!("malformed JSON: {e}")))?;
    let (id, actor) = envelope(&value)?;
    if is_local_url(data, &actor) || is_local_url(data, &id) {
        return Err(AppError::bad_request(
            "an activity of a local actor cannot come from elsewhere",
        ));
    }
    check_origins(&value, &id, &actor)?;
    let key_id = Url::parse(&params.key_id)
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
    if type_of(&value) == Some("Delete")
        && value.get("object").and_then(id_of).as_ref() == Some(&actor)
    {
        let mut conn = ctx.conn().await?;
        if crate::db::actors::by_ap_id(&mut conn, actor.as_str())
            .await?
            .is_none()
        {
            // An account we never knew was deleted: nothing to undo, and its key is gone
            // (fetching it would answer 410).
            return Ok(StatusCode::ACCEPTED);
        }
    }
    let signer = ObjectId::<DbActor>::from(actor.clone())
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
        })?;
    if signer.deleted_at.is_some() {
        // Gone: whatever it still sends is ignored (a retried Delete included).
        return Ok(StatusCode::ACCEPTED);
    }
    if signer.local {
        return Err(AppError::bad_request(
            "an activity of a local actor cannot come from elsewhere",
        ));
    }

    let request = Request::from_parts(parts, Body::from(bytes));
    let activity_data = ActivityData::from_request(request, &())
        .await
        .map_err(|_| AppError::bad_request("unreadable body"))?;
    receive_activity::<InboxActivity, DbActor, AppContext>(activity_data, data).await?;
    if let Some(domain) = host_port(&actor) {
        // A host that sends us something is alive: deliveries to it resume.
        let mut conn = ctx.conn().await?;
        crate::federation::delivery::mark_alive(&mut conn, &domain).await?;
    }
    Ok(StatusCode::ACCEPTED)
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
