//! The one outbound HTTP client: fetches, deliveries, WebFinger and media all go through it.
//!
//! Server-side request forgery is stopped at three places, because each covers a gap of the
//! others:
//! - the DNS resolver ([`FilteringResolver`]) hands reqwest only public addresses, so the
//!   address that is vetted is the address that is connected to (no DNS-rebinding window);
//! - URLs with an IP literal never reach a resolver, so a client middleware ([`AddressGuard`])
//!   checks them on every request, whoever builds it;
//! - the library's [`UrlVerifier`] ([`SsrfUrlVerifier`]), which the inbox also runs on every
//!   activity id, refuses them before any work is done, with an error that says why; it
//!   resolves names through the same resolver.
//!
//! Resolutions are cached for [`DNS_CACHE_TTL`], and every check runs in every mode:
//! `federation.allow_private_addresses` (tests, benchmarks) only lets loopback and private
//! addresses pass them.
//!
//! Outgoing requests are signed by the innermost layer, [`HttpSigner`], in the HTTP signature
//! scheme each server accepts (draft-cavage by default, RFC 9421 for servers known to read it,
//! with a second knock in the other scheme when a signature is refused): deliveries and the
//! library's fetches alike, so one place decides how we sign.
//!
//! Redirects are not followed by the client (the library follows one itself, after checking
//! the new URL again), environment proxies are ignored (a proxy would resolve names for us,
//! out of the resolver's sight). Every body we read comes through the library, which stops
//! at [`MAX_BODY_BYTES`].

use crate::federation::{
    outbound_signature::{SignAs, Signer, sign},
    signature_scheme::SchemeMemory,
};
use activitypub_federation::{config::UrlVerifier, error::Error as FederationError};
use http::Extensions;
use reqwest::{
    Client, Request, Response, StatusCode,
    dns::{Addrs, Name, Resolve, Resolving},
    header::{HeaderMap, RETRY_AFTER},
    redirect::Policy,
};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use std::{
    cell::RefCell,
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};
use url::{Host, Url};

/// Every outbound request is abandoned after this long, body included: a peer that trickles
/// one byte per second frees its delivery worker here.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest body read from another server: the library's own cap (`reqwest_shim`), which it
/// does not export; the SSRF tests check fetches stop there.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why an address or URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0} is not a public address ({1})")]
    Address(IpAddr, &'static str),
    #[error("{0} resolves to no public address")]
    NoPublicAddress(String),
    #[error("{0} names this machine or a private network")]
    LocalName(String),
    #[error("URL scheme {0} is not allowed")]
    Scheme(String),
    #[error("URL has no host")]
    NoHost,
    #[error("{0} is a blocked domain")]
    Blocked(String),
    #[error("too many fetches for inbound activities from {0}: retry in {1} s")]
    FetchBudget(String, u64),
    #[error("{0} is not a plain domain name")]
    DomainName(String),
    #[error("explicit ports are not allowed")]
    Port,
    #[error("{0} does not resolve")]
    Unresolved(String),
}

/// The range `ip` belongs to when it must not be contacted, `None` when it is public.
///
/// IPv4-mapped (`::ffff:a.b.c.d`) addresses are judged by the IPv4 address they carry; the
/// deprecated IPv4-compatible (`::a.b.c.d`) and translated forms, NAT64, 6to4 and Teredo are
/// refused whole, because each can reach an IPv4 host we cannot see from the address alone.
pub fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let range = match (a, b, c) {
        (0, _, _) => "this network 0.0.0.0/8",
        (10, _, _) => "private 10.0.0.0/8",
        (100, 64..=127, _) => "shared address space (CGNAT) 100.64.0.0/10",
        (127, _, _) => "loopback 127.0.0.0/8",
        (169, 254, _) => "link-local 169.254.0.0/16",
        (172, 16..=31, _) => "private 172.16.0.0/12",
        (192, 0, 0) => "IETF protocol assignments 192.0.0.0/24",
        (192, 0, 2) => "documentation 192.0.2.0/24",
        (192, 88, 99) => "6to4 relay anycast 192.88.99.0/24",
        (192, 168, _) => "private 192.168.0.0/16",
        (198, 18..=19, _) => "benchmarking 198.18.0.0/15",
        (198, 51, 100) => "documentation 198.51.100.0/24",
        (203, 0, 113) => "documentation 203.0.113.0/24",
        (224..=239, _, _) => "multicast 224.0.0.0/4",
        (255, 255, 255) if ip.is_broadcast() => "broadcast 255.255.255.255",
        (240..=255, _, _) => "reserved 240.0.0.0/4",
        _ => return None,
    };
    Some(range)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let range = match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "unspecified ::",
        [0, 0, 0, 0, 0, 0, 0, 1] => "loopback ::1",
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible ::/96",
        [0, 0, 0, 0, 0xffff, 0, _, _] => "IPv4-translated ::ffff:0:0:0/96",
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => "NAT64 64:ff9b::/96",
        [0x64, 0xff9b, 1, ..] => "local-use NAT64 64:ff9b:1::/48",
        [0x100, 0, 0, 0, ..] => "discard-only 100::/64",
        [0x2001, 0, ..] => "Teredo 2001::/32",
        [0x2001, 0x0..=0x1ff, ..] => "IETF protocol assignments 2001::/23",
        [0x2001, 0xdb8, ..] => "documentation 2001:db8::/32",
        [0x2002, ..] => "6to4 2002::/16",
        [0x3fff, 0..=0x0fff, ..] => "documentation 3fff::/20",
        [0xfc00..=0xfdff, ..] => "unique local fc00::/7",
        [0xfe80..=0xfebf, ..] => "link-local fe80::/10",
        [0xfec0..=0xfeff, ..] => "site-local fec0::/10",
        [0xff00..=0xffff, ..] => "multicast ff00::/8",
        // Only 2000::/3 is allocated for global unicast; the rest is reserved.
        [first, ..] if first & 0xe000 != 0x2000 => "reserved (outside 2000::/3)",
        _ => return None,
    };
    Some(range)
}

/// Checks one address unless private addresses are allowed (tests).
pub fn check_ip(ip: IpAddr, allow_private: bool) -> Result<(), Refused> {
    match forbidden_range(ip) {
        Some(range) if !allow_private => Err(Refused::Address(ip, range)),
        _ => Ok(()),
    }
}

/// Checks what can be checked without DNS: the scheme, IP-literal hosts, and names that
/// always mean this machine (`localhost`, `*.localhost`).
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::Scheme(url.scheme().to_string()));
    }
    match url.host() {
        None => Err(Refused::NoHost),
        Some(Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), allow_private),
        Some(Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), allow_private),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                return Err(Refused::LocalName(name));
            }
            Ok(())
        }
    }
}

/// How long a resolution is reused. Short, so that a peer moving to another address is
/// followed quickly, and long enough that a busy peer costs one look-up every half minute
/// instead of one per activity.
pub const DNS_CACHE_TTL: Duration = Duration::from_secs(30);
/// Names kept in the resolution cache; past this, expired ones are forgotten, then all.
const DNS_CACHE_MAX: usize = 10_000;

/// Resolutions of the last [`DNS_CACHE_TTL`], unfiltered (each resolver filters them with its
/// own rule), shared by the client, the URL verifier and the inbox. Failures are not kept.
static DNS_CACHE: LazyLock<Mutex<HashMap<String, Resolution>>> = LazyLock::new(Default::default);

/// When a name was resolved, and what to.
type Resolution = (Instant, Vec<SocketAddr>);

/// Every address `host` resolves to, from the cache when resolved less than
/// [`DNS_CACHE_TTL`] ago.
async fn lookup_cached(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    let now = Instant::now();
    if let Ok(cache) = DNS_CACHE.lock()
        && let Some((at, addrs)) = cache.get(host)
        && now.duration_since(*at) < DNS_CACHE_TTL
    {
        return Ok(addrs.clone());
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
    if let Ok(mut cache) = DNS_CACHE.lock() {
        if cache.len() >= DNS_CACHE_MAX {
            cache.retain(|_, (at, _)| now.duration_since(*at) < DNS_CACHE_TTL);
            if cache.len() >= DNS_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(host.to_string(), (now, addrs.clone()));
    }
    Ok(addrs)
}

/// Names under the top-level domains reserved for examples and tests (`.example`, `.test`,
/// RFC 2606), which no DNS answers. Where private addresses are allowed (tests only), they
/// resolve to loopback, so that test peers may carry the names real payloads use while every
/// check still runs on them.
fn reserved_for_tests(host: &str) -> bool {
    host.ends_with(".example") || host.ends_with(".test")
}

/// DNS resolver that returns only the public addresses of a name (all of them when private
/// addresses are allowed), and fails when none is left. reqwest connects only to what it
/// returns, so the check and the connection use the same answer. Resolutions are cached for
/// [`DNS_CACHE_TTL`].
#[derive(Debug, Clone)]
pub struct FilteringResolver {
    allow_private: bool,
}

impl FilteringResolver {
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }

    /// Resolves `host` and keeps the addresses we may contact.
    pub async fn resolve_host(&self, host: &str) -> std::io::Result<Vec<SocketAddr>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let refused = |e: Refused| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e);
        if !self.allow_private && (host == "localhost" || host.ends_with(".localhost")) {
            return Err(refused(Refused::LocalName(host)));
        }
        let addrs = if self.allow_private && reserved_for_tests(&host) {
            vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 0))]
        } else {
            lookup_cached(&host).await?
        };
        let mut kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| check_ip(a.ip(), self.allow_private).is_ok())
            .collect();
        if kept.is_empty() {
            return Err(refused(Refused::NoPublicAddress(host)));
        }
        // IPv4 first: test peers listen on 127.0.0.1 only, and most servers answer on both.
        kept.sort_by_key(|a| !a.is_ipv4());
        kept.dedup();
        Ok(kept)
    }
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let addrs = resolver.resolve_host(name.as_str()).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Client middleware refusing IP-literal hosts (which never reach the resolver) and schemes
/// other than http(s), on every request sent through the client.
#[derive(Debug, Clone)]
pub struct AddressGuard {
    allow_private: bool,
}

#[async_trait::async_trait]
impl Middleware for AddressGuard {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        if let Err(refused) = check_url(req.url(), self.allow_private) {
            return Err(reqwest_middleware::Error::middleware(refused));
        }
        next.run(req, extensions).await
    }
}

/// Client middleware refusing every request to a domain under a `reject` block (fetches,
/// WebFinger, deliveries), before any DNS look-up or connection.
#[derive(Clone)]
pub struct BlockGuard {
    ctx: crate::context::AppContext,
}

#[async_trait::async_trait]
impl Middleware for BlockGuard {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        use crate::service::domain_blocks::Severity;
        if let Some(host) = crate::urls::host_port(req.url()) {
            let severity = self
                .ctx
                .blocks
                .severity(&self.ctx, &[host.as_str()])
                .await
                .map_err(reqwest_middleware::Error::middleware)?;
            if severity == Some(Severity::Reject) {
                return Err(reqwest_middleware::Error::middleware(Refused::Blocked(
                    host,
                )));
            }
        }
        next.run(req, extensions).await
    }
}

/// The fetch budget of the inbound request being processed: every inbound activity that makes
/// us send at least one request (an unknown actor, a referenced object) takes one token from
/// the bucket of its connecting address.
pub struct FetchScope {
    pub buckets: Arc<crate::service::rate_limit::TokenBuckets>,
    pub key: String,
    pub budget: crate::service::rate_limit::Budget,
    charged: AtomicBool,
    /// Seconds to wait, when the budget refused a fetch (0: it did not).
    refused: AtomicU64,
}

impl FetchScope {
    pub fn new(
        buckets: Arc<crate::service::rate_limit::TokenBuckets>,
        key: String,
        budget: crate::service::rate_limit::Budget,
    ) -> Self {
        FetchScope {
            buckets,
            key,
            budget,
            charged: AtomicBool::new(false),
            refused: AtomicU64::new(0),
        }
    }

    /// Takes the request's token on its first fetch; later fetches of the same request are
    /// covered (their number is bounded by the library's per-request fetch limit).
    fn charge(&self) -> Result<(), u64> {
        if self.charged.load(Ordering::Relaxed) {
            return Ok(());
        }
        match self.buckets.take(&self.key, self.budget) {
            Ok(()) => {
                self.charged.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(retry) => {
                self.refused.store(retry, Ordering::Relaxed);
                Err(retry)
            }
        }
    }

    /// When a fetch was refused, the seconds until the address may try again.
    pub fn refused_for(&self) -> Option<u64> {
        match self.refused.load(Ordering::Relaxed) {
            0 => None,
            secs => Some(secs),
        }
    }
}

tokio::task_local! {
    static FETCH_SCOPE: Arc<FetchScope>;
}

/// Runs `future` (the processing of one inbound request) with `scope` as its fetch budget.
pub async fn with_fetch_scope<F: Future>(scope: Arc<FetchScope>, future: F) -> F::Output {
    FETCH_SCOPE.scope(scope, future).await
}

/// Client middleware charging fetches made while an inbound request is processed to that
/// request's [`FetchScope`]; other requests (deliveries, fetches for members) pass.
#[derive(Debug, Clone, Default)]
pub struct FetchBudget;

#[async_trait::async_trait]
impl Middleware for FetchBudget {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let charged =
            FETCH_SCOPE.try_with(|scope| scope.charge().map_err(|r| (scope.key.clone(), r)));
        if let Ok(Err((key, retry))) = charged {
            return Err(reqwest_middleware::Error::middleware(Refused::FetchBudget(
                key, retry,
            )));
        }
        next.run(req, extensions).await
    }
}

/// What the last response seen by [`ResponseProbe`] in the current task said, for code that
/// calls library functions which keep the status to themselves (the library's sender turns a
/// 410 or a 400 into `Ok(())`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbedResponse {
    pub status: StatusCode,
    /// `Retry-After` as a delay from now (seconds or an HTTP date).
    pub retry_after: Option<Duration>,
}

tokio::task_local! {
    static PROBE: RefCell<Option<ProbedResponse>>;
}

/// Runs `future` and returns its output with the status of the last response the client
/// received while it ran (`None` when no response came back: refused, timeout, network error).
pub async fn with_response_probe<F: Future>(future: F) -> (F::Output, Option<ProbedResponse>) {
    PROBE
        .scope(RefCell::new(None), async move {
            let output = future.await;
            let probed = PROBE.with(|cell| cell.borrow_mut().take());
            (output, probed)
        })
        .await
}

/// Records the status and `Retry-After` of each response into the task's probe, if any.
#[derive(Debug, Clone, Default)]
pub struct ResponseProbe;

#[async_trait::async_trait]
impl Middleware for ResponseProbe {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let response = next.run(req, extensions).await?;
        let probed = ProbedResponse {
            status: response.status(),
            retry_after: parse_retry_after(response.headers(), SystemTime::now()),
        };
        let _ = PROBE.try_with(|cell| *cell.borrow_mut() = Some(probed));
        Ok(response)
    }
}

/// `Retry-After` as seconds or as an HTTP date, relative to `now`.
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The library's URL verifier, and the inbox's check of every activity id: the client's
/// rules (scheme, IP literals, local names), then the name resolved through the same filtering
/// resolver (cached), so a name that points only at this machine or a private network is
/// refused before any work is done. The checks run whatever `allow_private_addresses` says;
/// that switch only lets loopback and private addresses pass them (test instances).
#[derive(Debug, Clone)]
pub struct SsrfUrlVerifier {
    allow_private: bool,
    resolver: FilteringResolver,
}

impl SsrfUrlVerifier {
    pub fn new(allow_private: bool) -> Self {
        Self {
            allow_private,
            resolver: FilteringResolver::new(allow_private),
        }
    }

    /// [`check_url`], then the host's resolution.
    pub async fn check(&self, url: &Url) -> Result<(), Refused> {
        check_url(url, self.allow_private)?;
        if let Some(Host::Domain(name)) = url.host() {
            self.resolver.resolve_host(name).await.map_err(|e| {
                match e.into_inner().map(|e| e.downcast::<Refused>()) {
                    Some(Ok(refused)) => *refused,
                    _ => Refused::Unresolved(name.to_string()),
                }
            })?;
        }
        Ok(())
    }

    /// What the library checks on an inbound activity's id when it receives it itself, with
    /// our resolver instead of an uncached look-up: http(s) (plain http and explicit ports only
    /// when private addresses are allowed), a plain domain name, then [`Self::check`].
    pub async fn check_inbound(&self, url: &Url) -> Result<(), Refused> {
        if url.scheme() == "http" && !self.allow_private {
            return Err(Refused::Scheme(url.scheme().to_string()));
        }
        let Some(domain) = url.domain() else {
            return Err(match url.host_str() {
                Some(host) => Refused::DomainName(host.to_string()),
                None => Refused::NoHost,
            });
        };
        if domain.is_empty()
            || !domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(Refused::DomainName(domain.to_string()));
        }
        if url.port().is_some() && !self.allow_private {
            return Err(Refused::Port);
        }
        self.check(url).await
    }
}

#[async_trait::async_trait]
impl UrlVerifier for SsrfUrlVerifier {
    async fn verify(&self, url: &Url) -> Result<(), FederationError> {
        self.check(url)
            .await
            // The client middleware's error: one shape for a refusal, whoever makes it.
            .map_err(|refused| {
                FederationError::ReqwestMiddleware(reqwest_middleware::Error::middleware(refused))
            })
    }
}

/// Whether an answer may mean "not this signature scheme": what Mastodon, Fedify and we
/// answer to a signature they do not read.
fn refused_signature(status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST
}

/// Signs outgoing requests, in the scheme the server is known to accept, and knocks twice:
/// a request refused with 401 or 400 is signed again in the other scheme and sent once more;
/// when that one succeeds, the server is remembered as accepting it (see
/// `signature_scheme.rs`).
///
/// Which requests it signs, and as whom: a request carrying a [`SignAs`] extension as that
/// actor (deliveries, members' fetches); any other GET as the instance actor when the client
/// has one (the library's fetches of actors and objects, which servers in authorized-fetch
/// mode require signed); anything else goes unsigned. Being the innermost layer, it signs
/// exactly what is sent, after the other layers passed the request, and each knock is seen by
/// none of them but the last one by [`ResponseProbe`].
pub struct HttpSigner {
    memory: Arc<SchemeMemory>,
    fetch_signer: Option<Arc<Signer>>,
}

impl HttpSigner {
    pub fn new(memory: Arc<SchemeMemory>, fetch_signer: Option<Arc<Signer>>) -> HttpSigner {
        HttpSigner {
            memory,
            fetch_signer,
        }
    }
}

#[async_trait::async_trait]
impl Middleware for HttpSigner {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let signer = match extensions.get::<SignAs>() {
            Some(SignAs(signer)) => signer.clone(),
            None if req.method() == reqwest::Method::GET => match &self.fetch_signer {
                Some(signer) => signer.clone(),
                None => return next.run(req, extensions).await,
            },
            None => return next.run(req, extensions).await,
        };
        let Some(domain) = crate::urls::host_port(req.url()) else {
            return next.run(req, extensions).await;
        };
        let first = self.memory.first_for(&domain.to_ascii_lowercase()).await;
        let second_knock = req.try_clone();
        sign(&mut req, &signer, first, SystemTime::now())
            .map_err(reqwest_middleware::Error::middleware)?;
        let response = next.clone().run(req, extensions).await?;
        let Some(mut again) = second_knock.filter(|_| refused_signature(response.status())) else {
            return Ok(response);
        };
        drop(response);
        let other = first.other();
        sign(&mut again, &signer, other, SystemTime::now())
            .map_err(reqwest_middleware::Error::middleware)?;
        let response = next.run(again, extensions).await?;
        if response.status().is_success() {
            self.memory
                .remember(&domain.to_ascii_lowercase(), other)
                .await;
        }
        Ok(response)
    }
}

/// Builds the client every outbound request uses.
pub fn build_client(allow_private: bool, user_agent: &str) -> anyhow::Result<ClientWithMiddleware> {
    Ok(ClientBuilder::new(base_client(allow_private, user_agent)?)
        .with(AddressGuard { allow_private })
        .with(ResponseProbe)
        .build())
}

/// [`build_client`] plus what needs the running instance: requests to blocked domains are
/// refused, fetches for inbound requests are charged to their budget, and requests are signed
/// by [`HttpSigner`] (GETs without their own signer as `fetch_signer`, when given).
pub fn build_federation_client(
    ctx: &crate::context::AppContext,
    allow_private: bool,
    user_agent: &str,
    fetch_signer: Option<Arc<Signer>>,
) -> anyhow::Result<ClientWithMiddleware> {
    let memory = Arc::new(SchemeMemory::new(ctx.clone()));
    Ok(ClientBuilder::new(base_client(allow_private, user_agent)?)
        .with(BlockGuard { ctx: ctx.clone() })
        .with(FetchBudget)
        .with(AddressGuard { allow_private })
        .with(ResponseProbe)
        .with(HttpSigner::new(memory, fetch_signer))
        .build())
}

fn base_client(allow_private: bool, user_agent: &str) -> anyhow::Result<Client> {
    let client = Client::builder()
        .redirect(Policy::none())
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        .tcp_nodelay(true)
        .user_agent(user_agent)
        .dns_resolver(Arc::new(FilteringResolver::new(allow_private)))
        .build()?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn refuses_non_public_addresses() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.8.8",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::ffff:0:7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "2002:7f00:1::",
            "2002:c0a8:101::",
            "3fff:10::1",
            "fc00::1",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "1::1",
            "4000::1",
        ] {
            assert!(forbidden_range(ip(s)).is_some(), "{s} should be refused");
            assert!(check_ip(ip(s), false).is_err(), "{s}");
            assert!(check_ip(ip(s), true).is_ok(), "{s} allowed in tests");
        }
    }

    #[test]
    fn accepts_public_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "2a01:4f8::1",
        ] {
            assert_eq!(forbidden_range(ip(s)), None, "{s} should be allowed");
        }
    }

    #[test]
    fn urls_with_literal_private_hosts_are_refused() {
        for u in [
            "http://127.0.0.1:9/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://LOCALHOST./",
        ] {
            let url = Url::parse(u).expect("url");
            assert!(check_url(&url, false).is_err(), "{u}");
            assert!(check_url(&url, true).is_ok(), "{u} allowed in tests");
        }
        let ftp = Url::parse("ftp://example.org/").expect("url");
        assert!(matches!(check_url(&ftp, true), Err(Refused::Scheme(_))));
        assert!(check_url(&Url::parse("https://example.org/x").expect("url"), false).is_ok());
        assert!(check_url(&Url::parse("https://8.8.8.8/").expect("url"), false).is_ok());
    }

    #[test]
    fn retry_after_in_seconds_or_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "120".parse().expect("header"));
        assert_eq!(
            parse_retry_after(&headers, now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(300));
        headers.insert(RETRY_AFTER, later.parse().expect("header"));
        assert_eq!(
            parse_retry_after(&headers, now),
            Some(Duration::from_secs(300))
        );
        headers.insert(RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(parse_retry_after(&headers, now), None);
    }

    #[tokio::test]
    async fn resolver_drops_loopback_unless_allowed() {
        let strict = FilteringResolver::new(false);
        assert!(strict.resolve_host("localhost").await.is_err());
        assert!(strict.resolve_host("127.0.0.1").await.is_err());
        assert!(strict.resolve_host("remote.example").await.is_err());
        let lax = FilteringResolver::new(true);
        let addrs = lax.resolve_host("localhost").await.expect("resolves");
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
        // Cached: the second answer is the first one.
        assert_eq!(lax.resolve_host("localhost").await.expect("cached"), addrs);
        let addrs = lax.resolve_host("remote.example").await.expect("test name");
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn inbound_ids_are_checked_in_every_mode() {
        let url = |s: &str| Url::parse(s).expect("url");
        let strict = SsrfUrlVerifier::new(false);
        for refused in [
            "http://mastodon.social/users/x",
            "https://localhost/users/x",
            "https://127.0.0.1/users/x",
            "https://mastodon.social:8443/users/x",
            "https://under_score.example/users/x",
            "https://nowhere.invalid/users/x",
            "ftp://mastodon.social/users/x",
        ] {
            assert!(
                strict.check_inbound(&url(refused)).await.is_err(),
                "{refused}"
            );
        }
        let lax = SsrfUrlVerifier::new(true);
        lax.check_inbound(&url("http://localhost:8080/users/x"))
            .await
            .expect("loopback allowed in tests");
        for refused in [
            "http://127.0.0.1:8080/users/x",
            "https://nowhere.invalid/users/x",
            "javascript://localhost/x",
        ] {
            assert!(lax.check_inbound(&url(refused)).await.is_err(), "{refused}");
        }
    }
}
