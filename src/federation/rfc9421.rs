//! HTTP Message Signatures (RFC 9421), as Mastodon (4.5 and later) and Fedify (2.x) send
//! them: `Signature-Input: sig1=("@method" "@target-uri" "content-digest" …);created=…;
//! keyid="…";alg="rsa-v1_5-sha256"` and `Signature: sig1=:…:`.
//!
//! Inbound, [`parse`] reads both headers with the one structured-field parser
//! (`structured_fields.rs`) and [`precheck`] applies the same rules as the draft-cavage
//! pre-check, in their RFC 9421 form:
//! - **one signature per request**: a `Signature-Input` or `Signature` with more than one
//!   label is refused (no rule about which of several signatures counts, so no signature can
//!   ride along another one), and both headers must name the same label;
//! - the signature covers `@method`, the path (`@target-uri`, `@request-target` or `@path`),
//!   the host (`@target-uri`, `@authority` or `host`), and `content-digest` when the request
//!   has a body; the `Content-Digest` (RFC 9530, `sha-256` or `sha-512`) matches the body;
//! - a `created` parameter or a signed `date` is required, and each one given lies in the
//!   window of `MAX_CLOCK_SKEW` less `VERIFY_MARGIN`, like the `Date` of draft-cavage;
//!   `expires`, when given, is not about to pass;
//! - `alg` is `rsa-v1_5-sha256`, `rsa-pss-sha512`, or absent (RSASSA-PKCS1-v1_5 with
//!   SHA-256, what an RSA key means to Mastodon and Fedify); anything else is refused;
//! - components with parameters (`;sf`, `;key`, `;req`…), `@status` and `@query-param` are
//!   refused: no fediverse server signs them, and each would be one more way to read a field.
//!
//! [`signature_base`] builds the string that was signed exactly as RFC 9421 §2.5 says, the
//! last line being `"@signature-params": ` followed by the canonical serialization of what
//! was parsed: what is verified is what was checked.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::{
        rsa_keys::Scheme,
        structured_fields::{Item, Member, Params, parse_dictionary, serialize_inner_list},
    },
};
use axum::http::{HeaderMap, Method, Uri, header};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use sha2::{Digest, Sha256, Sha512};
use std::time::SystemTime;
use url::Url;

fn unauthorized(detail: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unauthorized, detail)
}

/// One RFC 9421 signature, as parsed from `Signature-Input` and `Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    pub label: String,
    pub key_id: String,
    pub scheme: Scheme,
    /// Covered components, lower-cased, in signing order (`@method`, `content-digest`…).
    pub components: Vec<String>,
    pub created: Option<u64>,
    pub expires: Option<u64>,
    /// The canonical `@signature-params` value: the inner list with its parameters.
    pub params_text: String,
    pub signature: Vec<u8>,
}

/// The values of every copy of a header, joined with `, ` (RFC 9110 field combination, which
/// is also how RFC 9421 reads a field sent on several lines).
fn combined(headers: &HeaderMap, name: &str) -> AppResult<Option<String>> {
    let values = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().map(str::trim))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| unauthorized(format!("{name} header is not ASCII")))?;
    Ok((!values.is_empty()).then(|| values.join(", ")))
}

/// The only member of a signature dictionary; several are refused.
fn single_member(headers: &HeaderMap, name: &str) -> AppResult<(String, Member)> {
    let value =
        combined(headers, name)?.ok_or_else(|| unauthorized(format!("no {name} header")))?;
    let mut members =
        parse_dictionary(&value).map_err(|e| unauthorized(format!("{name} header: {e}")))?;
    if members.len() > 1 {
        return Err(unauthorized(format!(
            "{name} carries {} signatures; send exactly one",
            members.len()
        )));
    }
    members
        .pop()
        .ok_or_else(|| unauthorized(format!("{name} header is empty")))
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a Item> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn timestamp(params: &Params, name: &str) -> AppResult<Option<u64>> {
    match param(params, name) {
        None => Ok(None),
        Some(Item::Integer(n)) => u64::try_from(*n)
            .map(Some)
            .map_err(|_| unauthorized(format!("signature parameter {name} is negative"))),
        Some(_) => Err(unauthorized(format!(
            "signature parameter {name} is not an integer"
        ))),
    }
}

/// The algorithm an `alg` parameter names; absent, an RSA key signs RSASSA-PKCS1-v1_5 with
/// SHA-256.
pub fn scheme_of(alg: Option<&str>) -> AppResult<Scheme> {
    match alg {
        None | Some("rsa-v1_5-sha256") => Ok(Scheme::Pkcs1Sha256),
        Some("rsa-pss-sha512") => Ok(Scheme::PssSha512),
        Some(other) => Err(unauthorized(format!(
            "signature algorithm {other} is not supported (rsa-v1_5-sha256, rsa-pss-sha512)"
        ))),
    }
}

/// Reads the request's one signature from `Signature-Input` and `Signature`.
pub fn parse(headers: &HeaderMap) -> AppResult<MessageSignature> {
    let (label, input) = single_member(headers, "signature-input")?;
    let (signature_label, signature) = single_member(headers, "signature")?;
    if label != signature_label {
        return Err(unauthorized(format!(
            "Signature-Input names {label}, Signature names {signature_label}"
        )));
    }
    let Member::InnerList(items, params) = input else {
        return Err(unauthorized("Signature-Input: not a list of components"));
    };
    let signature = match signature {
        Member::Item(Item::Bytes(bytes), _) if !bytes.is_empty() => bytes,
        _ => return Err(unauthorized("Signature: not a byte sequence")),
    };
    let mut components = Vec::with_capacity(items.len());
    for (item, item_params) in &items {
        let Item::String(name) = item else {
            return Err(unauthorized("Signature-Input: a component is not a string"));
        };
        if !item_params.is_empty() {
            return Err(unauthorized(format!(
                "component {name} has parameters, which are not supported"
            )));
        }
        if *name != name.to_ascii_lowercase() {
            return Err(unauthorized(format!("component {name} is not lower-case")));
        }
        if components.contains(name) {
            return Err(unauthorized(format!("component {name} is covered twice")));
        }
        components.push(name.clone());
    }
    let key_id = match param(&params, "keyid") {
        Some(Item::String(k)) => k.clone(),
        Some(_) => return Err(unauthorized("keyid is not a string")),
        None => return Err(unauthorized("Signature-Input: no keyid")),
    };
    let alg = match param(&params, "alg") {
        None => None,
        Some(Item::String(a)) => Some(a.as_str()),
        Some(_) => return Err(unauthorized("alg is not a string")),
    };
    let scheme = scheme_of(alg)?;
    Ok(MessageSignature {
        created: timestamp(&params, "created")?,
        expires: timestamp(&params, "expires")?,
        params_text: serialize_inner_list(&items, &params),
        label,
        key_id,
        scheme,
        components,
        signature,
    })
}

/// What a request was sent to, as the signer saw it: our scheme and host.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub scheme: &'a str,
    /// `host[:port]`, lower-case: the request's `Host` (checked to be ours) or our domain.
    pub authority: &'a str,
}

fn path_of(uri: &Uri) -> &str {
    match uri.path() {
        "" => "/",
        path => path,
    }
}

/// The value of one component (RFC 9421 §2.1 and §2.2).
fn component_value(
    name: &str,
    method: &Method,
    uri: &Uri,
    target: Target<'_>,
    headers: &HeaderMap,
) -> AppResult<String> {
    let request_target = match uri.query() {
        Some(q) => format!("{}?{q}", path_of(uri)),
        None => path_of(uri).to_string(),
    };
    Ok(match name {
        "@method" => method.as_str().to_string(),
        "@target-uri" => format!("{}://{}{request_target}", target.scheme, target.authority),
        "@authority" => target.authority.to_string(),
        "@scheme" => target.scheme.to_string(),
        "@request-target" => request_target,
        "@path" => path_of(uri).to_string(),
        "@query" => format!("?{}", uri.query().unwrap_or("")),
        "host" if !headers.contains_key(header::HOST) => target.authority.to_string(),
        derived if derived.starts_with('@') => {
            return Err(unauthorized(format!(
                "component {derived} is not supported"
            )));
        }
        field => combined(headers, field)?
            .ok_or_else(|| unauthorized(format!("signed header {field} is missing")))?,
    })
}

/// The signature base (RFC 9421 §2.5): one `"name": value` line per covered component, then
/// `"@signature-params": ` and the parameters.
pub fn signature_base(
    signature: &MessageSignature,
    method: &Method,
    uri: &Uri,
    target: Target<'_>,
    headers: &HeaderMap,
) -> AppResult<String> {
    let mut base = String::new();
    for name in &signature.components {
        let value = component_value(name, method, uri, target, headers)?;
        if value.contains(['\n', '\r']) {
            return Err(unauthorized(format!("component {name} spans lines")));
        }
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {}", signature.params_text));
    Ok(base)
}

/// Checks `Content-Digest` (RFC 9530) against the body: every digest given is SHA-256 or
/// SHA-512 and matches.
pub fn check_content_digest(headers: &HeaderMap, body: &[u8]) -> AppResult<()> {
    let value = combined(headers, "content-digest")?
        .ok_or_else(|| unauthorized("Content-Digest header missing"))?;
    let members = parse_dictionary(&value)
        .map_err(|e| unauthorized(format!("Content-Digest header: {e}")))?;
    if members.is_empty() {
        return Err(unauthorized("Content-Digest header: empty"));
    }
    for (algorithm, member) in members {
        let Member::Item(Item::Bytes(given), _) = member else {
            return Err(unauthorized(format!(
                "Content-Digest {algorithm}: not a byte sequence"
            )));
        };
        let expected = match algorithm.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            other => {
                return Err(unauthorized(format!(
                    "Content-Digest: unsupported algorithm {other}"
                )));
            }
        };
        if given != expected {
            return Err(unauthorized("Content-Digest does not match the body"));
        }
    }
    Ok(())
}

/// Every check that needs no key (see the module header). `Host` was compared with our
/// domain, and the `Authorization` header refused, by the caller.
pub fn precheck(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> AppResult<MessageSignature> {
    let signature = parse(headers)?;
    let covers = |names: &[&str]| {
        signature
            .components
            .iter()
            .any(|c| names.contains(&c.as_str()))
    };
    if !covers(&["@method"]) {
        return Err(unauthorized("the signature does not cover @method"));
    }
    if !covers(&["@target-uri", "@request-target", "@path"]) {
        return Err(unauthorized(
            "the signature does not cover the path (@target-uri)",
        ));
    }
    if !covers(&["@target-uri", "@authority", "host"]) {
        return Err(unauthorized(
            "the signature does not cover the host (@target-uri or @authority)",
        ));
    }
    let with_body = *method != Method::GET && *method != Method::HEAD;
    if with_body && !covers(&["content-digest"]) {
        return Err(unauthorized("the signature does not cover content-digest"));
    }
    for name in &signature.components {
        if matches!(
            name.as_str(),
            "signature" | "signature-input" | "authorization"
        ) {
            return Err(unauthorized(format!("{name} cannot be a signed header")));
        }
        if !name.starts_with('@') && name != "host" && !headers.contains_key(name.as_str()) {
            return Err(unauthorized(format!("signed header {name} is missing")));
        }
    }
    let window = super::signatures::Window::at(now);
    if covers(&["date"]) {
        window.check_date_header(headers)?;
    } else if signature.created.is_none() {
        return Err(unauthorized(
            "the signature has neither a created parameter nor a signed date",
        ));
    }
    if let Some(created) = signature.created {
        window.check_created(created)?;
    }
    if let Some(expires) = signature.expires {
        window.check_expires(expires)?;
    }
    if with_body {
        check_content_digest(headers, body)?;
    }
    let key_url = Url::parse(&signature.key_id).map_err(|_| unauthorized("keyid is not a URL"))?;
    if !matches!(key_url.scheme(), "http" | "https") {
        return Err(unauthorized("keyid is not an http(s) URL"));
    }
    Ok(signature)
}

/// The `Content-Digest` value of `body` we send: `sha-256=:…:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", BASE64.encode(Sha256::digest(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::rsa_keys::VerifyingKey;
    use axum::http::{HeaderName, HeaderValue};
    use serde_json::Value;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("testdata/rfc9421-appendix-b.json")).expect("json")
    }

    fn headers_of(value: &Value) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in value.as_object().expect("headers") {
            map.append(
                HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).expect("name"),
                HeaderValue::from_str(v.as_str().expect("value")).expect("value"),
            );
        }
        map
    }

    /// RFC 9421 Appendix B.2.1 and B.2.3 (rsa-pss-sha512 with `test-key-rsa-pss`): the
    /// signature base is the one printed in the RFC, and the RFC's signature verifies.
    #[test]
    fn appendix_b_rsa_examples_verify() {
        let all = fixture();
        let key = VerifyingKey::from_pem(all["test_key_rsa_pss_public"].as_str().expect("key"))
            .expect("test-key-rsa-pss");
        let request = &all["request"];
        let uri: Uri = request["target"]
            .as_str()
            .expect("target")
            .parse()
            .expect("uri");
        let target = Target {
            scheme: "https",
            authority: "example.com",
        };
        let examples = all["examples"].as_array().expect("examples");
        assert_eq!(examples.len(), 2);
        for example in examples {
            let name = example["name"].as_str().expect("name");
            let mut headers = headers_of(&request["headers"]);
            headers.extend(headers_of(&example["headers"]));
            let signature = parse(&headers).expect(name);
            assert_eq!(signature.key_id, "test-key-rsa-pss", "{name}");
            let base =
                signature_base(&signature, &Method::POST, &uri, target, &headers).expect(name);
            assert_eq!(base, example["base"].as_str().expect("base"), "{name}");
            // `alg` is absent from the examples: the key (RSA-PSS) says how they were made.
            assert!(
                key.verify(Scheme::PssSha512, base.as_bytes(), &signature.signature),
                "{name}"
            );
            assert!(
                !key.verify(
                    Scheme::PssSha512,
                    format!("{base} ").as_bytes(),
                    &signature.signature
                ),
                "{name}"
            );
        }
        // The request's Content-Digest (sha-512) is the body's.
        let headers = headers_of(&request["headers"]);
        check_content_digest(&headers, request["body"].as_str().expect("body").as_bytes())
            .expect("digest");
        assert!(check_content_digest(&headers, b"{\"hello\": \"world!\"}").is_err());
    }

    #[test]
    fn one_signature_per_request() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "signature-input",
            HeaderValue::from_static(
                "sig1=(\"@method\");keyid=\"https://a.example/k\", \
                 sig2=(\"@method\");keyid=\"https://a.example/k\"",
            ),
        );
        headers.insert(
            "signature",
            HeaderValue::from_static("sig1=:YQ==:, sig2=:Yg==:"),
        );
        let err = parse(&headers).expect_err("two");
        assert!(err.detail.contains("2 signatures"), "{}", err.detail);
        // The same on two header lines.
        let mut lines = HeaderMap::new();
        lines.append(
            "signature-input",
            HeaderValue::from_static("sig1=(\"@method\");keyid=\"https://a.example/k\""),
        );
        lines.append(
            "signature-input",
            HeaderValue::from_static("sig2=(\"@method\");keyid=\"https://a.example/k\""),
        );
        lines.insert("signature", HeaderValue::from_static("sig1=:YQ==:"));
        assert!(parse(&lines).is_err());
        // Labels that do not match.
        let mut other = HeaderMap::new();
        other.insert(
            "signature-input",
            HeaderValue::from_static("sig1=(\"@method\");keyid=\"https://a.example/k\""),
        );
        other.insert("signature", HeaderValue::from_static("sig2=:YQ==:"));
        assert!(parse(&other).is_err());
    }

    #[test]
    fn algorithms() {
        assert_eq!(scheme_of(None).expect("absent"), Scheme::Pkcs1Sha256);
        assert_eq!(
            scheme_of(Some("rsa-v1_5-sha256")).expect("v1.5"),
            Scheme::Pkcs1Sha256
        );
        assert_eq!(
            scheme_of(Some("rsa-pss-sha512")).expect("pss"),
            Scheme::PssSha512
        );
        for unknown in ["ed25519", "hmac-sha256", "ecdsa-p256-sha256", "rsa-sha256"] {
            assert_eq!(
                scheme_of(Some(unknown)).expect_err(unknown).kind,
                ErrorKind::Unauthorized
            );
        }
    }
}
