//! Cryptographic check of an inbound request's HTTP signature, on what
//! [`precheck`](super::signatures::precheck) parsed: one parser decides what is signed, and
//! the digest it checked against the body is the only hash of the body taken. Verification
//! runs with aws-lc-rs (`rsa_keys.rs`).

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::{
        rfc9421::{self, Target},
        rsa_keys::{Scheme, VerifyingKey},
        signatures::InboundSignature,
    },
};
use axum::http::{HeaderMap, Method, Uri, header};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};

use super::signatures::SignatureParams;

fn unauthorized(detail: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unauthorized, detail)
}

/// The string the sender signed (draft-cavage-http-signatures): each header the signature
/// names, in its order, as `name: value`, joined by newlines. A header sent several times is
/// joined with `, `; an absent `Host` (HTTP/2, some proxies) is our domain, which the
/// pre-check compared with a present one.
pub fn signing_string(
    params: &SignatureParams,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    local_domain: &str,
) -> AppResult<String> {
    let mut lines = Vec::with_capacity(params.headers.len());
    for name in &params.headers {
        let value = match name.as_str() {
            "(request-target)" => format!(
                "{} {}",
                method.as_str().to_ascii_lowercase(),
                uri.path_and_query().map_or("/", |p| p.as_str())
            ),
            "(created)" => params
                .created
                .ok_or_else(|| unauthorized("(created) is signed but missing"))?
                .to_string(),
            "(expires)" => params
                .expires
                .ok_or_else(|| unauthorized("(expires) is signed but missing"))?
                .to_string(),
            "host" if !headers.contains_key(header::HOST) => local_domain.to_string(),
            other => {
                let values = headers
                    .get_all(other)
                    .iter()
                    .map(|v| v.to_str())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| unauthorized(format!("signed header {other} is not ASCII")))?;
                if values.is_empty() {
                    return Err(unauthorized(format!("signed header {other} is missing")));
                }
                values.join(", ")
            }
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

/// Checks `params.signature` over `signing_string` with the RSA key in `public_key_pem`
/// (RSASSA-PKCS1-v1_5 with SHA-256: `rsa-sha256`, and what `hs2019` means with an RSA key).
pub fn verify(
    params: &SignatureParams,
    signing_string: &str,
    public_key_pem: &str,
) -> AppResult<()> {
    let key = VerifyingKey::from_pem(public_key_pem)
        .map_err(|_| unauthorized("the actor's public key is not a usable RSA key"))?;
    verify_cavage(params, signing_string, &key)
}

fn verify_cavage(
    params: &SignatureParams,
    signing_string: &str,
    key: &VerifyingKey,
) -> AppResult<()> {
    let signature = BASE64
        .decode(params.signature.trim())
        .map_err(|_| unauthorized("signature is not base64"))?;
    if key.verify(Scheme::Pkcs1Sha256, signing_string.as_bytes(), &signature) {
        Ok(())
    } else {
        Err(unauthorized("the signature does not match the actor's key"))
    }
}

/// Verifies a pre-checked signature of either scheme against the request with the actor's
/// key: `target` is how the request reached us (our scheme, and `Host` or our domain).
pub fn verify_with(
    signature: &InboundSignature,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    target: Target<'_>,
    key: &VerifyingKey,
) -> AppResult<()> {
    match signature {
        InboundSignature::Cavage(params) => {
            let signed = signing_string(params, method, uri, headers, target.authority)?;
            verify_cavage(params, &signed, key)
        }
        InboundSignature::Rfc9421(sig) => {
            let base = rfc9421::signature_base(sig, method, uri, target, headers)?;
            if key.verify(sig.scheme, base.as_bytes(), &sig.signature) {
                Ok(())
            } else {
                Err(unauthorized("the signature does not match the actor's key"))
            }
        }
    }
}

/// [`verify_with`] the actor's key in `public_key_pem`.
pub fn verify_request(
    signature: &InboundSignature,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    target: Target<'_>,
    public_key_pem: &str,
) -> AppResult<()> {
    let key = VerifyingKey::from_pem(public_key_pem)
        .map_err(|_| unauthorized("the actor's public key is not a usable RSA key"))?;
    verify_with(signature, method, uri, headers, target, &key)
}

/// How a request reached us: the scheme of our URL and our domain (the pre-check compared a
/// present `Host` with it).
pub fn local_target(ctx: &crate::context::AppContext) -> (&'static str, String) {
    let scheme = if ctx.urls.base().starts_with("https:") {
        "https"
    } else {
        "http"
    };
    (scheme, ctx.config.domain().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::signatures::parse_signature;
    use axum::http::HeaderValue;
    use rsa::{Pkcs1v15Sign, RsaPrivateKey, pkcs8::EncodePublicKey};
    use sha2::{Digest, Sha256};

    #[test]
    fn verifies_what_was_signed_and_nothing_else() {
        let mut rng = rand::thread_rng();
        let private = RsaPrivateKey::new(&mut rng, 2048).expect("key");
        let pem = private
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .expect("pem");
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("culture.example"));
        headers.insert(
            "date",
            HeaderValue::from_static("Wed, 20 Dec 2023 10:00:00 GMT"),
        );
        headers.insert("digest", HeaderValue::from_static("SHA-256=abc"));
        let signed = "(request-target): post /inbox\nhost: culture.example\n\
                      date: Wed, 20 Dec 2023 10:00:00 GMT\ndigest: SHA-256=abc";
        let signature = private
            .sign(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(signed.as_bytes()),
            )
            .expect("sign");
        let params = parse_signature(&format!(
            "keyId=\"https://a.example/u#k\",algorithm=\"rsa-sha256\",\
             headers=\"(request-target) host date digest\",signature=\"{}\"",
            BASE64.encode(signature)
        ))
        .expect("params");
        let uri: Uri = "/inbox".parse().expect("uri");
        let built = signing_string(&params, &Method::POST, &uri, &headers, "culture.example")
            .expect("signing string");
        assert_eq!(built, signed);
        verify(&params, &built, &pem).expect("genuine");
        // Without Host, our domain stands in for it.
        let mut no_host = headers.clone();
        no_host.remove("host");
        let built = signing_string(&params, &Method::POST, &uri, &no_host, "culture.example")
            .expect("signing string");
        verify(&params, &built, &pem).expect("genuine without Host");
        // Another path, another date: refused.
        let other: Uri = "/users/x/inbox".parse().expect("uri");
        let built = signing_string(&params, &Method::POST, &other, &headers, "culture.example")
            .expect("signing string");
        assert_eq!(
            verify(&params, &built, &pem).expect_err("other path").kind,
            ErrorKind::Unauthorized
        );
        headers.insert(
            "date",
            HeaderValue::from_static("Wed, 20 Dec 2023 10:00:01 GMT"),
        );
        let built = signing_string(&params, &Method::POST, &uri, &headers, "culture.example")
            .expect("signing string");
        assert!(verify(&params, &built, &pem).is_err());
        assert!(verify(&params, &built, "not a key").is_err());
    }
}
