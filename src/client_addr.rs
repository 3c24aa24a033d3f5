//! The client's address, for every limit keyed on it (logins, sign-ups, the inbox's fetch
//! budget).
//!
//! Behind a TLS reverse proxy every connection comes from the proxy, so its `X-Forwarded-For`
//! or `Forwarded` header must name the client — but anyone can send those headers, so they are
//! read only when the TCP peer is one of `http.trusted_proxies`. The client is then the
//! right-most address of the chain that is not itself a trusted proxy: each proxy appends the
//! address it saw, so everything to the left of the first untrusted hop may be forged.

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The client address of this request, set by [`middleware`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Parses `http.trusted_proxies`: CIDRs (`10.0.0.0/8`, `fd00::/8`) or single addresses. On
/// error, the offending value and why.
pub fn parse_cidrs(values: &[String]) -> Result<Vec<IpNet>, (String, String)> {
    values
        .iter()
        .map(|raw| {
            let value = raw.trim();
            if let Ok(net) = value.parse::<IpNet>() {
                return Ok(net.trunc());
            }
            if let Ok(ip) = value.parse::<IpAddr>() {
                return Ok(IpNet::from(ip));
            }
            Err((
                raw.clone(),
                "expected an IP address or a CIDR such as 10.0.0.0/8 or fd00::/8".to_string(),
            ))
        })
        .collect()
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = canonical(ip);
    proxies.iter().any(|net| net.contains(&ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack listener reports) are
/// judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One address of a forwarding header: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`,
/// `2001:db8::1`, quoted or not. `unknown` and obfuscated names give `None`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok()
}

/// The forwarding chain, client first: the `for=` parameters of `Forwarded` (RFC 7239) when
/// present, else `X-Forwarded-For`. An element that is not an address ends the chain as `None`.
fn chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| parse_node(v))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter(|s| !s.trim().is_empty())
        .map(parse_node)
        .collect()
}

/// The client address of a request that came from `peer`.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if proxies.is_empty() || !trusted(peer, proxies) {
        return canonical(peer);
    }
    let mut nearest = canonical(peer);
    for hop in chain(headers).into_iter().rev() {
        match hop {
            Some(ip) if trusted(ip, proxies) => nearest = canonical(ip),
            Some(ip) => return canonical(ip),
            // Unreadable: the last proxy we trust is as far as we can see.
            None => return nearest,
        }
    }
    nearest
}

/// Sets [`ClientAddr`] on every request that has connection info (a real listener).
pub async fn middleware(
    State(ctx): State<crate::context::AppContext>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let addr = client_addr(peer.ip(), request.headers(), &ctx.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(addr));
    }
    next.run(request).await
}

/// The client address set by [`middleware`], or the TCP peer's.
pub fn of(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions.get::<ClientAddr>().map(|c| c.0).or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| canonical(c.0.ip()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn cidrs_parse_or_name_the_bad_value() {
        let nets = parse_cidrs(&["10.0.0.0/8".into(), "::1".into(), " 192.168.1.7/24 ".into()])
            .expect("valid");
        assert_eq!(nets.len(), 3);
        assert!(nets[2].contains(&ip("192.168.1.200")));
        for bad in ["10.0.0.0/33", "proxy.example", "", "10.0.0/8", "::1/129"] {
            let (value, _) = parse_cidrs(&[bad.to_string()]).expect_err(bad);
            assert_eq!(value, bad);
        }
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_proxies() {
        let proxies = parse_cidrs(&["10.0.0.0/8".into(), "::1".into()]).expect("valid");
        let xff = headers(&[("x-forwarded-for", "203.0.113.9")]);
        // From the proxy: the header names the client.
        assert_eq!(
            client_addr(ip("10.1.2.3"), &xff, &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(client_addr(ip("::1"), &xff, &proxies), ip("203.0.113.9"));
        // From anyone else: ignored.
        assert_eq!(
            client_addr(ip("198.51.100.1"), &xff, &proxies),
            ip("198.51.100.1")
        );
        // No proxies configured: ignored.
        assert_eq!(client_addr(ip("10.1.2.3"), &xff, &[]), ip("10.1.2.3"));
        // The right-most untrusted address wins: the left part may be forged by the client.
        let chained = headers(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.5"),
        ]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), &chained, &proxies),
            ip("203.0.113.9")
        );
        // Only trusted hops: the left-most of them.
        let internal = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.5")]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), &internal, &proxies),
            ip("10.9.9.9")
        );
        // Garbage stops the walk at the last trusted hop.
        let garbage = headers(&[("x-forwarded-for", "1.1.1.1, nonsense, 10.0.0.5")]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), &garbage, &proxies),
            ip("10.0.0.5")
        );
        // No header at all: the proxy itself.
        assert_eq!(
            client_addr(ip("10.0.0.1"), &HeaderMap::new(), &proxies),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_header_wins_and_accepts_ports_and_ipv6() {
        let proxies = parse_cidrs(&["10.0.0.0/8".into()]).expect("valid");
        let h = headers(&[
            (
                "forwarded",
                r#"for="[2001:db8::7]:4711";proto=https, for=10.0.0.2"#,
            ),
            ("x-forwarded-for", "198.51.100.77"),
        ]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &proxies), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "For=192.0.2.60:8080;by=10.0.0.1")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &proxies), ip("192.0.2.60"));
        // A dual-stack listener reports IPv4 peers as mapped IPv6.
        let xff = headers(&[("x-forwarded-for", "192.0.2.1")]);
        assert_eq!(
            client_addr(ip("::ffff:10.0.0.1"), &xff, &proxies),
            ip("192.0.2.1")
        );
    }
}
