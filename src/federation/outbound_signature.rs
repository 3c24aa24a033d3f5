//! Signing what we send: deliveries (POST) and fetches (GET), in either scheme.
//!
//! - draft-cavage, as the library signed before and Mastodon reads: `Host`, `Date`, `Digest:
//!   SHA-256=…` (with a body), and `Signature: keyId="{actor}#main-key",algorithm="rsa-sha256",
//!   headers="(request-target) host date digest",signature="…"` (`(request-target) host date`
//!   for a GET);
//! - RFC 9421: `Host`, `Date`, `Content-Digest: sha-256=:…:` (with a body), `Signature-Input:
//!   sig1=("@method" "@target-uri" "@authority" "date" "content-digest");created=…;
//!   keyid="…";alg="rsa-v1_5-sha256"` (no `content-digest` for a GET) and `Signature:
//!   sig1=:…:`.
//!
//! Both sign RSASSA-PKCS1-v1_5 with SHA-256 with the actor's key, parsed once into a
//! [`Signer`]. Whatever another scheme left on the request is removed first, so a request is
//! signed one way only. Which scheme a server gets is `http_client::HttpSigner`'s choice.

use crate::federation::{
    rfc9421::content_digest,
    rsa_keys::{KeyError, SigningKey},
    signature_scheme::SignatureScheme,
    structured_fields::{Item, serialize_inner_list},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use reqwest::{
    Request,
    header::{HeaderName, HeaderValue},
};
use sha2::{Digest, Sha256};
use std::{sync::Arc, time::SystemTime};

/// An actor's key, parsed once, with the keyId it signs as.
#[derive(Debug)]
pub struct Signer {
    pub key_id: String,
    key: SigningKey,
}

impl Signer {
    /// The signer of the actor `actor_id` whose PKCS#8 PEM private key is `private_key_pem`;
    /// its keyId is `{actor_id}#main-key`, as our actors publish it.
    pub fn for_actor(actor_id: &str, private_key_pem: &str) -> Result<Signer, KeyError> {
        Ok(Signer {
            key_id: format!("{actor_id}#main-key"),
            key: SigningKey::from_pkcs8_pem(private_key_pem)?,
        })
    }
}

/// A request extension: sign this request as this actor (deliveries, members' fetches).
#[derive(Debug, Clone)]
pub struct SignAs(pub Arc<Signer>);

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("the request has no host")]
    NoHost,
    #[error("the request body is a stream, which cannot be digested")]
    StreamedBody,
    #[error("the signing key: {0}")]
    Key(#[from] KeyError),
    #[error("header {0} would not be a valid value")]
    Header(&'static str),
}

/// Headers a signature of either scheme sets.
const SIGNATURE_HEADERS: [&str; 5] = [
    "signature",
    "signature-input",
    "digest",
    "content-digest",
    "authorization",
];

fn set(request: &mut Request, name: &'static str, value: String) -> Result<(), SigningError> {
    // Every value set here is built from a URL, a date, base64 or a keyId URL: visible ASCII.
    let value = HeaderValue::from_str(&value).map_err(|_| SigningError::Header(name))?;
    request
        .headers_mut()
        .insert(HeaderName::from_static(name), value);
    Ok(())
}

/// `host[:port]` as the request's URL names it (the default port left out).
fn authority(request: &Request) -> Result<String, SigningError> {
    crate::urls::host_port(request.url())
        .map(|h| h.to_ascii_lowercase())
        .ok_or(SigningError::NoHost)
}

/// Signs `request` (its method, URL and body as they are) as `signer` in `scheme`, dated
/// `now`.
pub fn sign(
    request: &mut Request,
    signer: &Signer,
    scheme: SignatureScheme,
    now: SystemTime,
) -> Result<(), SigningError> {
    for name in SIGNATURE_HEADERS {
        request.headers_mut().remove(name);
    }
    let body: Option<Vec<u8>> = match request.body() {
        None => None,
        Some(body) => Some(body.as_bytes().ok_or(SigningError::StreamedBody)?.to_vec()),
    };
    let with_body = body.is_some() || request.method() != reqwest::Method::GET;
    let host = authority(request)?;
    let date = httpdate::fmt_http_date(now);
    set(request, "host", host.clone())?;
    set(request, "date", date.clone())?;
    let body = body.unwrap_or_default();
    match scheme {
        SignatureScheme::Cavage => sign_cavage(request, signer, &host, &date, with_body, &body),
        SignatureScheme::Rfc9421 => {
            sign_rfc9421(request, signer, &host, &date, with_body, &body, now)
        }
    }
}

fn request_target(request: &Request) -> String {
    let url = request.url();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

fn sign_cavage(
    request: &mut Request,
    signer: &Signer,
    host: &str,
    date: &str,
    with_body: bool,
    body: &[u8],
) -> Result<(), SigningError> {
    let mut signed = format!(
        "(request-target): {} {}\nhost: {host}\ndate: {date}",
        request.method().as_str().to_ascii_lowercase(),
        request_target(request)
    );
    let mut headers = "(request-target) host date";
    if with_body {
        let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(body)));
        signed.push_str(&format!("\ndigest: {digest}"));
        set(request, "digest", digest)?;
        headers = "(request-target) host date digest";
    }
    let signature = BASE64.encode(signer.key.sign_sha256(signed.as_bytes())?);
    set(
        request,
        "signature",
        format!(
            "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{headers}\",signature=\"{signature}\"",
            signer.key_id
        ),
    )
}

fn sign_rfc9421(
    request: &mut Request,
    signer: &Signer,
    host: &str,
    date: &str,
    with_body: bool,
    body: &[u8],
    now: SystemTime,
) -> Result<(), SigningError> {
    let target_uri = request.url().as_str().to_string();
    let mut lines = vec![
        ("@method", request.method().as_str().to_string()),
        ("@target-uri", target_uri),
        ("@authority", host.to_string()),
        ("date", date.to_string()),
    ];
    if with_body {
        let digest = content_digest(body);
        set(request, "content-digest", digest.clone())?;
        lines.push(("content-digest", digest));
    }
    let created = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let components: Vec<(Item, Vec<(String, Item)>)> = lines
        .iter()
        .map(|(name, _)| (Item::String((*name).to_string()), Vec::new()))
        .collect();
    let params = vec![
        (
            "created".to_string(),
            Item::Integer(i64::try_from(created).unwrap_or(i64::MAX)),
        ),
        ("keyid".to_string(), Item::String(signer.key_id.clone())),
        ("alg".to_string(), Item::String("rsa-v1_5-sha256".into())),
    ];
    let params_text = serialize_inner_list(&components, &params);
    let mut base = String::new();
    for (name, value) in &lines {
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params_text}"));
    let signature = BASE64.encode(signer.key.sign_sha256(base.as_bytes())?);
    set(request, "signature-input", format!("sig1={params_text}"))?;
    set(request, "signature", format!("sig1=:{signature}:"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::{
        rsa_keys::{Scheme, VerifyingKey},
        signatures::{InboundSignature, precheck},
    };

    fn request(method: reqwest::Method, url: &str, body: Option<&'static str>) -> Request {
        let mut request = Request::new(method, url.parse().expect("url"));
        if let Some(body) = body {
            *request.body_mut() = Some(body.into());
        }
        request
    }

    fn to_axum(request: &Request) -> (axum::http::Method, axum::http::HeaderMap) {
        let method = request.method().as_str().parse().expect("method");
        let mut headers = axum::http::HeaderMap::new();
        for (k, v) in request.headers() {
            headers.append(
                axum::http::HeaderName::from_bytes(k.as_str().as_bytes()).expect("name"),
                axum::http::HeaderValue::from_bytes(v.as_bytes()).expect("value"),
            );
        }
        (method, headers)
    }

    /// What we sign, in both schemes, passes our own strict inbound checks and verifies.
    #[test]
    fn both_schemes_pass_our_inbound_checks() {
        let pair = activitypub_federation::http_signatures::generate_actor_keypair().expect("key");
        let signer =
            Signer::for_actor("https://culture.example/users/a", &pair.private_key).expect("key");
        let public = VerifyingKey::from_pem(&pair.public_key).expect("public");
        let now = SystemTime::now();
        for scheme in [SignatureScheme::Cavage, SignatureScheme::Rfc9421] {
            for (method, body) in [
                (reqwest::Method::POST, Some("{\"type\":\"Create\"}")),
                (reqwest::Method::GET, None),
            ] {
                let mut req = request(method, "https://remote.example/inbox?x=1", body);
                sign(&mut req, &signer, scheme, now).expect("sign");
                let (method, headers) = to_axum(&req);
                let checked = precheck(
                    &method,
                    &headers,
                    body.unwrap_or("").as_bytes(),
                    "remote.example",
                    now,
                )
                .unwrap_or_else(|e| panic!("{scheme:?} {method}: {e}"));
                assert_eq!(checked.scheme(), scheme);
                assert_eq!(checked.key_id(), "https://culture.example/users/a#main-key");
                let uri: axum::http::Uri = "/inbox?x=1".parse().expect("uri");
                crate::federation::inbound_signature::verify_with(
                    &checked,
                    &method,
                    &uri,
                    &headers,
                    crate::federation::rfc9421::Target {
                        scheme: "https",
                        authority: "remote.example",
                    },
                    &public,
                )
                .unwrap_or_else(|e| panic!("{scheme:?} {method}: {e}"));
                if let InboundSignature::Rfc9421(s) = &checked {
                    assert_eq!(s.scheme, Scheme::Pkcs1Sha256);
                    assert!(headers.get("digest").is_none());
                } else {
                    assert!(headers.get("signature-input").is_none());
                }
            }
        }
    }

    #[test]
    fn the_draft_cavage_header_is_the_one_the_library_sent() {
        let pair = activitypub_federation::http_signatures::generate_actor_keypair().expect("key");
        let signer =
            Signer::for_actor("https://culture.example/users/a", &pair.private_key).expect("key");
        let mut req = request(
            reqwest::Method::POST,
            "https://remote.example/inbox",
            Some("x"),
        );
        // Left-overs of another scheme go.
        req.headers_mut()
            .insert("signature-input", HeaderValue::from_static("sig1=()"));
        sign(
            &mut req,
            &signer,
            SignatureScheme::Cavage,
            SystemTime::now(),
        )
        .expect("sign");
        let signature = req.headers()["signature"].to_str().expect("ascii");
        assert!(signature.starts_with(
            "keyId=\"https://culture.example/users/a#main-key\",algorithm=\"rsa-sha256\",\
             headers=\"(request-target) host date digest\",signature=\""
        ));
        assert_eq!(req.headers()["host"], "remote.example");
        assert_eq!(
            req.headers()["digest"],
            "SHA-256=LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE="
        );
        assert!(req.headers().get("signature-input").is_none());
    }
}
