//! The client's address for per-IP limits. Behind a reverse proxy the socket peer is the proxy, so
//! `X-Forwarded-For` / `Forwarded` are read — but only when the peer is a trusted proxy
//! (`ROOMCAST_TRUSTED_PROXIES`), walking the chain from the right past trusted hops, so a client
//! cannot choose its own bucket. IPv6 clients are keyed by their /64 (one subscriber's prefix),
//! or every address of a prefix would get its own bucket.
use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address to rate-limit for a request that arrived from `peer`.
pub fn client_key(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    limit_key(client_ip(peer, headers, trusted))
}

/// The client's IP as far as trusted proxies vouch for it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let hops = forwarded_for(headers).or_else(|| x_forwarded_for(headers));
    let Some(hops) = hops else {
        return peer;
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        let Some(ip) = hop else {
            // Unreadable: stop at the last hop we could trust to have written it.
            return client;
        };
        client = canonical(ip);
        if !is_trusted(client, trusted) {
            return client;
        }
    }
    client
}

/// IPv6 addresses collapse to their /64; IPv4 stays as is.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Whether a socket peer is one of the trusted proxies (whose `X-Forwarded-*` may be believed).
pub fn is_trusted_peer(peer: IpAddr, trusted: &[IpNet]) -> bool {
    is_trusted(canonical(peer), trusted)
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// `X-Forwarded-For: client, proxy1, proxy2` (all header lines, in order).
fn x_forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(value.split(',').map(|h| parse_node(h.trim())));
    }
    (!hops.is_empty()).then_some(hops)
}

/// RFC 7239 `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"`.
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in headers.get_all("forwarded") {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in value.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim())
            });
            hops.push(node.and_then(parse_node));
        }
    }
    (!hops.is_empty()).then_some(hops)
}

/// An address, optionally quoted, bracketed and with a port (`"[2001:db8::1]:443"`, `1.2.3.4:80`).
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "198.51.100.7, 203.0.113.9, 10.1.2.3")]);
        // From a trusted proxy: the first untrusted hop from the right.
        assert_eq!(client_ip(ip("10.0.0.1"), &xff, &trusted), ip("203.0.113.9"));
        // From anyone else: the header is the client's own claim and ignored.
        assert_eq!(client_ip(ip("192.0.2.1"), &xff, &trusted), ip("192.0.2.1"));
        let fwd = headers(&[(
            "forwarded",
            r#"for=198.51.100.7;proto=https, for="[2001:db8:cafe::17]:4711""#,
        )]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &fwd, &trusted),
            ip("2001:db8:cafe::17")
        );
        let garbage = headers(&[("x-forwarded-for", "198.51.100.7, nonsense")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &garbage, &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &xff, &trusted),
            ip("203.0.113.9"),
            "IPv4-mapped peers are IPv4"
        );
    }

    #[test]
    fn ipv6_is_keyed_by_its_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("203.0.113.9")), ip("203.0.113.9"));
    }
}
