//! Strict checks of an inbound request's HTTP signature, run before the cryptographic check
//! (`inbound_signature.rs`) verifies it with the actor's key.
//!
//! Two schemes are read: draft-cavage (`Signature: keyId=…,headers=…,signature=…`, what
//! Mastodon sends today) and RFC 9421 (`Signature-Input` + `Signature`, see `rfc9421.rs`).
//! A request carrying `Signature-Input` is RFC 9421 and nothing else; [`precheck`] decides
//! which, once, and returns an [`InboundSignature`]. Both share the host check and the time
//! window ([`Window`]).
//!
//! A `headers=` list without `(request-target)` or `host` (a signature that can be replayed to
//! another path or server), a `Date` far from our clock, an unsigned or wrong Digest are
//! refused here with 401.
//!
//! One parser decides: [`precheck`] parses the `Signature` header once (parameter names in any
//! case, spaces allowed, a repeated parameter refused) and the cryptographic check verifies
//! exactly those parameters. Values that another reader could split differently (a comma, a
//! quote or a control character inside one) are refused with 401. A `Date` (or `(created)`,
//! `(expires)`) that would run out while the request is processed (the actor fetch can take
//! seconds) is refused here too: see [`VERIFY_MARGIN`].

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::{
        rfc9421::{self, MessageSignature},
        signature_scheme::SignatureScheme,
    },
};
use axum::http::{HeaderMap, Method, header};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// How far a request's `Date` (and `(created)`) may be from our clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(60 * 60);

/// A `Date`, `(created)` or `(expires)` that leaves the accepted window within this time is
/// refused up front: the actor fetch before the cryptographic check can take seconds, and a
/// request is abandoned after `inbox::PROCESSING_TIMEOUT` (less than this), so no signature is
/// accepted on a date that ran out while it was processed.
pub const VERIFY_MARGIN: Duration = Duration::from_secs(30);

/// Longest `Signature` header read: a real one is about 500 bytes.
pub const MAX_SIGNATURE_HEADER: usize = 8 * 1024;

/// The parameters of a `Signature` header (draft-cavage-http-signatures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    pub key_id: String,
    pub algorithm: Option<String>,
    /// Lower-cased, in signing order.
    pub headers: Vec<String>,
    pub signature: String,
    pub created: Option<u64>,
    pub expires: Option<u64>,
}

fn unauthorized(detail: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unauthorized, detail)
}

/// Splits `k1="v1",k2=v2` respecting quotes (a keyId URL may hold a comma).
fn split_params(value: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let (val, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted[..end].to_string(), &quoted[end + 1..])
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (rest[..end].trim().to_string(), &rest[end..])
        };
        out.push((key, val));
        rest = after.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

pub fn parse_signature(value: &str) -> AppResult<SignatureParams> {
    if value.len() > MAX_SIGNATURE_HEADER {
        return Err(unauthorized("Signature header: too long"));
    }
    let params = split_params(value).ok_or_else(|| unauthorized("Signature header: malformed"))?;
    for (i, (name, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(unauthorized(format!(
                "Signature header: parameter {name} given twice"
            )));
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let key_id = get("keyid").ok_or_else(|| unauthorized("Signature header: no keyId"))?;
    let signature =
        get("signature").ok_or_else(|| unauthorized("Signature header: no signature"))?;
    // draft-cavage: without `headers`, only `date` is signed.
    let headers = get("headers")
        .unwrap_or_else(|| "date".to_string())
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let number = |name: &str| -> AppResult<Option<u64>> {
        get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| unauthorized(format!("Signature header: {name} is not a number")))
            })
            .transpose()
    };
    Ok(SignatureParams {
        key_id,
        algorithm: get("algorithm"),
        headers,
        signature,
        created: number("created")?,
        expires: number("expires")?,
    })
}

/// Refuses parameter values that another reader of the header could split differently: a
/// comma, a quote or a control character inside a value.
fn check_values(params: &SignatureParams) -> AppResult<()> {
    let headers = params.headers.join(" ");
    let values = [
        ("keyId", params.key_id.as_str()),
        ("algorithm", params.algorithm.as_deref().unwrap_or("")),
        ("headers", headers.as_str()),
        ("signature", params.signature.trim()),
    ];
    for (name, value) in values {
        if value.contains([',', '"']) || value.chars().any(|c| c.is_ascii_control()) {
            return Err(unauthorized(format!(
                "Signature header: {name} holds a character it cannot hold"
            )));
        }
    }
    Ok(())
}

/// `host[:port]` of the keyId, for per-domain rate limiting before any verification.
pub fn key_id_host(headers: &HeaderMap) -> Option<String> {
    let key_id = if headers.contains_key("signature-input") {
        rfc9421::parse(headers).ok()?.key_id
    } else {
        let value = headers.get("signature")?.to_str().ok()?;
        parse_signature(value).ok()?.key_id
    };
    let url = Url::parse(&key_id).ok()?;
    crate::urls::host_port(&url).map(|h| h.to_ascii_lowercase())
}

/// Whether `key_id` names a key of `actor`: `{actor}#fragment` (Mastodon, Pleroma, Lemmy,
/// Misskey…), `{actor}/sub-path` (GoToSocial) or the actor itself.
pub fn key_belongs_to(key_id: &Url, actor: &Url) -> bool {
    let mut without_fragment = key_id.clone();
    without_fragment.set_fragment(None);
    if &without_fragment == actor {
        return true;
    }
    crate::urls::same_origin(key_id, actor)
        && key_id.query().is_none()
        && key_id
            .path()
            .strip_prefix(actor.path().trim_end_matches('/'))
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The accepted time window at one instant: [`MAX_CLOCK_SKEW`] either way, past dates still
/// valid [`VERIFY_MARGIN`] later. One rule for `Date`, `created` and `expires` of both schemes.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    now_s: u64,
}

impl Window {
    pub fn at(now: SystemTime) -> Window {
        Window { now_s: unix(now) }
    }

    fn late_s(self) -> u64 {
        self.now_s + VERIFY_MARGIN.as_secs()
    }

    /// The request's `Date` header, present, readable and in the window.
    pub fn check_date_header(self, headers: &HeaderMap) -> AppResult<()> {
        let skew = MAX_CLOCK_SKEW.as_secs();
        let date = headers
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .ok_or_else(|| unauthorized("Date header missing or malformed"))?;
        let date_s = unix(date);
        if date_s + skew < self.late_s() {
            return Err(unauthorized("Date header is too old"));
        }
        if date_s > self.now_s + skew {
            return Err(unauthorized("Date header is in the future"));
        }
        Ok(())
    }

    /// A signature's creation time (`(created)`, `created`) in the window.
    pub fn check_created(self, created: u64) -> AppResult<()> {
        let skew = MAX_CLOCK_SKEW.as_secs();
        if created > self.now_s + skew || created + skew < self.late_s() {
            return Err(unauthorized(
                "signature created time is outside the accepted window",
            ));
        }
        Ok(())
    }

    /// A signature's expiry (`(expires)`, `expires`) not about to pass.
    pub fn check_expires(self, expires: u64) -> AppResult<()> {
        if expires < self.late_s() {
            return Err(unauthorized("signature has expired"));
        }
        Ok(())
    }
}

/// An inbound signature that passed the pre-check, in its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundSignature {
    Cavage(SignatureParams),
    Rfc9421(MessageSignature),
}

impl InboundSignature {
    pub fn key_id(&self) -> &str {
        match self {
            InboundSignature::Cavage(p) => &p.key_id,
            InboundSignature::Rfc9421(s) => &s.key_id,
        }
    }

    /// The scheme, as remembered per server for what we send it.
    pub fn scheme(&self) -> SignatureScheme {
        match self {
            InboundSignature::Cavage(_) => SignatureScheme::Cavage,
            InboundSignature::Rfc9421(_) => SignatureScheme::Rfc9421,
        }
    }
}

/// Checks the `Digest` header against the body: every listed digest must be SHA-256 and match.
pub fn check_digest(headers: &HeaderMap, body: &[u8]) -> AppResult<()> {
    let value = headers
        .get("digest")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("Digest header missing"))?;
    let expected = BASE64.encode(Sha256::digest(body));
    let mut seen = false;
    for part in value.split(',') {
        let (algorithm, digest) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| unauthorized("Digest header: malformed"))?;
        if !algorithm.trim().eq_ignore_ascii_case("sha-256") {
            return Err(unauthorized(format!(
                "Digest header: unsupported algorithm {algorithm}"
            )));
        }
        if digest.trim() != expected {
            return Err(unauthorized("Digest header does not match the body"));
        }
        seen = true;
    }
    if !seen {
        return Err(unauthorized("Digest header: empty"));
    }
    Ok(())
}

/// All checks that need no key, in the request's scheme: RFC 9421 when it carries
/// `Signature-Input` (see `rfc9421::precheck`), draft-cavage otherwise (see
/// [`precheck_cavage`]). Either way `Host`, when present, must be ours, and no signature may
/// sit in `Authorization`.
pub fn precheck(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    local_domain: &str,
    now: SystemTime,
) -> AppResult<InboundSignature> {
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("signature"))
    {
        // A second place a signature could be read from: one place only.
        return Err(unauthorized(
            "send the HTTP signature in the Signature header",
        ));
    }
    if let Some(host) = headers.get(header::HOST) {
        let host = host.to_str().unwrap_or_default();
        if !host.eq_ignore_ascii_case(local_domain) {
            return Err(unauthorized(format!(
                "request signed for host {host}, this is {local_domain}"
            )));
        }
    }
    if headers.contains_key("signature-input") {
        return rfc9421::precheck(method, headers, body, now).map(InboundSignature::Rfc9421);
    }
    precheck_cavage(method, headers, body, now).map(InboundSignature::Cavage)
}

/// The draft-cavage checks: the signature names `(request-target)`, `host`, `date` and (for
/// requests with a body) `digest`; every named header is present; the `Date` (and
/// `(created)`/`(expires)`) are within [`MAX_CLOCK_SKEW`] of `now`; the Digest matches the
/// body; the algorithm is one we verify. Returns the parsed parameters.
fn precheck_cavage(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> AppResult<SignatureParams> {
    let mut values = headers.get_all("signature").iter();
    let value = values
        .next()
        .ok_or_else(|| unauthorized("request is not signed (no Signature header)"))?;
    if values.next().is_some() {
        return Err(unauthorized("several Signature headers"));
    }
    let value = value
        .to_str()
        .map_err(|_| unauthorized("Signature header: not ASCII"))?;
    let params = parse_signature(value)?;
    check_values(&params)?;

    if let Some(algorithm) = &params.algorithm {
        let algorithm = algorithm.to_ascii_lowercase();
        if algorithm != "rsa-sha256" && algorithm != "hs2019" {
            return Err(unauthorized(format!(
                "signature algorithm {algorithm} is not supported (rsa-sha256, hs2019)"
            )));
        }
    }
    let with_body = *method != Method::GET && *method != Method::HEAD;
    let mut required = vec!["(request-target)", "host", "date"];
    if with_body {
        required.push("digest");
    }
    for name in required {
        if !params.headers.iter().any(|h| h == name) {
            return Err(unauthorized(format!("the signature does not cover {name}")));
        }
    }
    for name in &params.headers {
        match name.as_str() {
            "(request-target)" => {}
            // A signature cannot cover itself, nor the header it could be read from.
            "signature" | "authorization" => {
                return Err(unauthorized(format!("{name} cannot be a signed header")));
            }
            "(created)" if params.created.is_some() => {}
            "(expires)" if params.expires.is_some() => {}
            "(created)" | "(expires)" => {
                return Err(unauthorized(format!("{name} is signed but missing")));
            }
            // Absent Host (HTTP/2): the verifier uses our domain, which is what we check.
            "host" if !headers.contains_key(header::HOST) => {}
            other if !headers.contains_key(other) => {
                return Err(unauthorized(format!("signed header {other} is missing")));
            }
            other => {
                // A repeated header could be signed as its first copy, its last or both
                // joined, depending on the reader: one copy, readable.
                let mut copies = headers.get_all(other).iter();
                if copies.next().is_some_and(|v| v.to_str().is_err()) {
                    return Err(unauthorized(format!("signed header {other} is not ASCII")));
                }
                if copies.next().is_some() {
                    return Err(unauthorized(format!(
                        "signed header {other} is sent several times"
                    )));
                }
            }
        }
    }
    let window = Window::at(now);
    window.check_date_header(headers)?;
    if let Some(created) = params.created {
        window.check_created(created)?;
    }
    if let Some(expires) = params.expires {
        window.check_expires(expires)?;
    }

    if with_body {
        check_digest(headers, body)?;
    }
    let decoded = BASE64
        .decode(params.signature.trim())
        .map_err(|_| unauthorized("signature is not base64"))?;
    if decoded.is_empty() {
        return Err(unauthorized("signature is empty"));
    }
    let key_url = Url::parse(&params.key_id).map_err(|_| unauthorized("keyId is not a URL"))?;
    if !matches!(key_url.scheme(), "http" | "https") {
        return Err(unauthorized("keyId is not an http(s) URL"));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};
    use serde_json::Value;

    fn vectors() -> Value {
        let vectors = crate::testing::fixture("http-signatures/mastodon-cavage-vectors.json");
        serde_json::from_str(&vectors).expect("json")
    }

    /// The Mastodon vector of a valid signed POST with its Digest.
    fn valid_vector() -> Value {
        vectors()["vectors"]
            .as_array()
            .expect("vectors")
            .iter()
            .find(|v| v["name"] == "valid POST with Digest")
            .expect("vector")
            .clone()
    }

    fn headers_of(vector: &Value) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in vector["headers"].as_object().expect("headers") {
            map.insert(
                HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).expect("name"),
                HeaderValue::from_str(v.as_str().expect("value")).expect("value"),
            );
        }
        map
    }

    fn vector_now() -> SystemTime {
        httpdate::parse_http_date("Wed, 20 Dec 2023 10:00:00 GMT").expect("date")
    }

    #[test]
    fn mastodon_post_vectors() {
        let all = vectors();
        for vector in all["vectors"].as_array().expect("vectors") {
            if vector["method"] != "POST" {
                continue;
            }
            let headers = headers_of(vector);
            let body = vector["body"].as_str().unwrap_or_default().as_bytes();
            let result = precheck(
                &Method::POST,
                &headers,
                body,
                "www.example.com",
                vector_now(),
            );
            let expect = vector["expect"].as_str().expect("expect");
            if expect == "valid" {
                let InboundSignature::Cavage(params) =
                    result.unwrap_or_else(|e| panic!("{}: {e}", vector["name"]))
                else {
                    panic!("a draft-cavage signature");
                };
                assert_eq!(params.key_id, all["key_id"].as_str().expect("key"));
                assert_eq!(params.algorithm.as_deref(), Some("rsa-sha256"));
            } else {
                let err = result.expect_err(vector["name"].as_str().expect("name"));
                assert_eq!(err.kind, ErrorKind::Unauthorized);
            }
        }
    }

    #[test]
    fn clock_window_both_ways() {
        let valid = valid_vector();
        let headers = headers_of(&valid);
        let body = b"Hello world";
        let base = vector_now();
        for (offset, ok) in [
            (Duration::from_secs(59 * 60), true),
            (Duration::from_secs(2 * 3600), false),
        ] {
            // Our clock behind the Date (Date in the future) and ahead of it (Date too old).
            for now in [base - offset, base + offset] {
                let r = precheck(&Method::POST, &headers, body, "www.example.com", now);
                assert_eq!(r.is_ok(), ok, "offset {offset:?}: {r:?}");
            }
        }
    }

    #[test]
    fn host_digest_and_header_list_rules() {
        let valid = valid_vector();
        let headers = headers_of(&valid);
        let now = vector_now();
        // Another server's request replayed to us.
        assert!(
            precheck(
                &Method::POST,
                &headers,
                b"Hello world",
                "other.example",
                now
            )
            .is_err()
        );
        // Body changed.
        assert!(
            precheck(
                &Method::POST,
                &headers,
                b"Hello world!",
                "www.example.com",
                now
            )
            .is_err()
        );
        // headers= without (request-target) or host.
        for list in ["host date digest", "(request-target) date digest"] {
            let mut h = headers.clone();
            let sig = h["signature"]
                .to_str()
                .expect("ascii")
                .replace("host date digest (request-target)", list);
            h.insert("signature", HeaderValue::from_str(&sig).expect("value"));
            let err = precheck(&Method::POST, &h, b"Hello world", "www.example.com", now)
                .expect_err(list);
            assert_eq!(err.kind, ErrorKind::Unauthorized);
        }
        // Unknown algorithm.
        let mut h = headers.clone();
        let sig = h["signature"]
            .to_str()
            .expect("ascii")
            .replace("rsa-sha256", "rsa-sha1");
        h.insert("signature", HeaderValue::from_str(&sig).expect("value"));
        assert!(precheck(&Method::POST, &h, b"Hello world", "www.example.com", now).is_err());
        // No signature at all.
        let mut h = headers.clone();
        h.remove("signature");
        assert!(precheck(&Method::POST, &h, b"Hello world", "www.example.com", now).is_err());
    }

    #[test]
    fn signature_parameters_parse() {
        let p = parse_signature(
            "keyId=\"https://a.example/u/x#main-key\",algorithm=\"hs2019\",created=1700000000,\
             expires=1700003600,headers=\"(request-target) (created) (expires) host date digest\",\
             signature=\"YWJj\"",
        )
        .expect("parse");
        assert_eq!(p.created, Some(1_700_000_000));
        assert_eq!(p.expires, Some(1_700_003_600));
        assert_eq!(p.headers.len(), 6);
        assert!(parse_signature("keyId=\"x\" garbage").is_err());
        assert!(parse_signature("signature=\"abc\"").is_err());
    }

    #[test]
    fn every_spelling_reads_the_same_and_unsplittable_values_are_refused() {
        let plain = "keyId=\"https://a.example/u/x#main-key\",algorithm=\"rsa-sha256\",\
                         headers=\"(request-target) host date digest\",signature=\"YWJj\"";
        for spelling in [
            plain.to_string(),
            "keyid=\"https://a.example/u/x#main-key\", ALGORITHM=\"RSA-SHA256\", \
             Headers=\"(request-target) Host Date Digest\", SIGNATURE = \"YWJj\""
                .to_string(),
            "signature=YWJj,headers=\"(request-target) host date digest\",\
             algorithm=rsa-sha256,keyId=\"https://a.example/u/x#main-key\",foo=\"bar\""
                .to_string(),
        ] {
            let params = parse_signature(&spelling).expect(&spelling);
            check_values(&params).expect("plain values");
            assert_eq!(
                params.key_id, "https://a.example/u/x#main-key",
                "{spelling}"
            );
            assert_eq!(
                params.algorithm.map(|a| a.to_ascii_lowercase()).as_deref(),
                Some("rsa-sha256"),
                "{spelling}"
            );
            assert_eq!(
                params.headers,
                ["(request-target)", "host", "date", "digest"],
                "{spelling}"
            );
            assert_eq!(params.signature, "YWJj", "{spelling}");
        }
        // What another reader could read differently is refused.
        for bad in [
            "keyId=\"https://a.example/u/x#k\",keyid=\"https://b.example/k\",signature=\"YWJj\"",
            "keyId=\"https://a.example/u/x#k\",signature=\"YWJj\",signature=\"eHl6\"",
        ] {
            assert!(parse_signature(bad).is_err(), "{bad}");
        }
        let comma = parse_signature("keyId=\"https://a.example/u/x#k,y\",signature=\"YWJj\"")
            .expect("parses");
        assert!(check_values(&comma).is_err());
        let quote =
            parse_signature("keyId=https://a.example/u/x#k\"y,signature=\"YWJj\"").expect("parses");
        assert!(check_values(&quote).is_err());
        assert!(parse_signature(&"a".repeat(MAX_SIGNATURE_HEADER + 1)).is_err());
    }

    #[test]
    fn a_date_about_to_leave_the_window_is_refused() {
        let valid = valid_vector();
        let headers = headers_of(&valid);
        let date = vector_now();
        let at = |elapsed: Duration| {
            precheck(
                &Method::POST,
                &headers,
                b"Hello world",
                "www.example.com",
                date + elapsed,
            )
        };
        assert!(at(MAX_CLOCK_SKEW - VERIFY_MARGIN - Duration::from_secs(1)).is_ok());
        assert!(at(MAX_CLOCK_SKEW - VERIFY_MARGIN + Duration::from_secs(1)).is_err());
        // Repeated signed headers: the library and we would read different copies.
        let mut twice = headers.clone();
        twice.append(
            header::DATE,
            HeaderValue::from_static("Wed, 20 Dec 2023 09:59:00 GMT"),
        );
        let err = precheck(
            &Method::POST,
            &twice,
            b"Hello world",
            "www.example.com",
            date,
        )
        .expect_err("two dates");
        assert_eq!(err.kind, ErrorKind::Unauthorized);
    }

    #[test]
    fn key_ownership() {
        let u = |s: &str| Url::parse(s).expect("url");
        let actor = u("https://a.example/users/bob");
        assert!(key_belongs_to(
            &u("https://a.example/users/bob#main-key"),
            &actor
        ));
        assert!(key_belongs_to(
            &u("https://a.example/users/bob/main-key"),
            &actor
        ));
        assert!(!key_belongs_to(
            &u("https://a.example/users/bobby#main-key"),
            &actor
        ));
        assert!(!key_belongs_to(
            &u("https://a.example/users/eve#main-key"),
            &actor
        ));
        assert!(!key_belongs_to(
            &u("https://a.example:444/users/bob#main-key"),
            &actor
        ));
    }
}
