//! Who is on the other end of a request: the client's address and whether it reached us over TLS.
//!
//! Behind nginx or Caddy the TCP peer is the proxy. The forwarding header is read only when the peer
//! is one of the configured `trusted_proxies`, and then from the right: each proxy appends the
//! address it saw, so the rightmost address that is not itself a trusted proxy is the client (OWASP;
//! anything to its left was written by the client and proves nothing). From any other peer the
//! headers are ignored, so a forged `X-Forwarded-For` cannot dodge sign-in throttling, write an
//! address into the audit log or turn on HSTS. Throttling, audit, API-key limits, HSTS and the
//! request log all take the address from here.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest};
use ipnet::IpNet;

use crate::state::AppState;

/// Which header the trusted proxies write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (and `X-Forwarded-Proto`): nginx's `$proxy_add_x_forwarded_for`, Caddy.
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=…;proto=…`.
    Forwarded,
}

impl ProxyHeader {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(format!(
                "`{other}` is neither x-forwarded-for nor forwarded"
            )),
        }
    }
}

/// The proxies whose forwarding headers are believed; empty (the default) believes none.
#[derive(Clone, Debug)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ProxyHeader,
}

impl Default for TrustedProxies {
    fn default() -> Self {
        Self {
            nets: Vec::new(),
            header: ProxyHeader::XForwardedFor,
        }
    }
}

/// The client of one request as the server believes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// `None` only when actix knows no peer (a test request without one).
    pub addr: Option<IpAddr>,
    /// The request reached the first trusted proxy over TLS (the server itself speaks plain HTTP).
    pub https: bool,
}

impl Client {
    /// The address as stored in the audit log and the throttling table.
    pub fn addr_text(&self) -> String {
        self.addr
            .map(|a| a.to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    /// The client of a request, by the server's settings.
    pub fn of(req: &HttpRequest) -> Self {
        let proxies = req
            .app_data::<web::Data<AppState>>()
            .map(|s| &s.settings.trusted_proxies);
        let peer = req.peer_addr();
        match proxies {
            Some(p) => p.client(peer, req.headers()),
            None => TrustedProxies::default().client(peer, req.headers()),
        }
    }
}

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR blocks (`127.0.0.1, 10.0.0.0/8, ::1`).
    pub fn parse(list: &str, header: ProxyHeader) -> Result<Self, String> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| canonical_net(n.trunc()))
                    .map_err(|_| {
                        format!("`{s}` is not an address or a CIDR block such as 10.0.0.0/8")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { nets, header })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client behind `peer`: the peer itself unless it is trusted, else the rightmost hop of
    /// the forwarding header that is not trusted (the leftmost when every hop is trusted). A hop
    /// that is not an address (`unknown`, an obfuscated name, garbage) ends the walk: the client is
    /// then the last address a trusted proxy vouched for.
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Client {
        let peer = peer.map(|p| canonical(p.ip()));
        let Some(peer_ip) = peer.filter(|ip| self.trusts(*ip)) else {
            return Client {
                addr: peer,
                https: false,
            };
        };
        let hops = match self.header {
            ProxyHeader::XForwardedFor => forwarded_for_hops(headers),
            ProxyHeader::Forwarded => forwarded_hops(headers),
        };
        let mut client = peer_ip;
        for hop in hops.iter().rev() {
            let Some(ip) = hop.as_deref().and_then(parse_hop) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Client {
            addr: Some(client),
            https: self.proto(headers).is_some_and(|p| p == "https"),
        }
    }

    /// The scheme the nearest trusted proxy was reached with.
    fn proto(&self, headers: &HeaderMap) -> Option<String> {
        match self.header {
            ProxyHeader::XForwardedFor => headers
                .get_all("x-forwarded-proto")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .map(|p| p.trim().to_ascii_lowercase()),
            ProxyHeader::Forwarded => forwarded_elements(headers)
                .last()
                .and_then(|e| param(e, "proto"))
                .map(|p| p.to_ascii_lowercase()),
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as a dual-stack listener reports them) compare
/// as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// A block of IPv4-mapped addresses (`::ffff:10.0.0.0/104`) as the IPv4 block it is, since
/// addresses are compared in their [`canonical`] form.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        other => other,
    }
}

/// `X-Forwarded-For` values, every header line in order, split at commas.
fn forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<String>> {
    headers
        .get_all("x-forwarded-for")
        .flat_map(|v| match v.to_str() {
            Ok(s) => s.split(',').map(|h| Some(h.trim().to_owned())).collect(),
            Err(_) => vec![None],
        })
        .collect()
}

/// RFC 7239 elements (`for=…;proto=…`), every header line in order, split at commas.
fn forwarded_elements(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("forwarded")
        .flat_map(|v| {
            v.to_str()
                .unwrap_or("for=unknown")
                .split(',')
                .map(|e| e.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<String>> {
    forwarded_elements(headers)
        .iter()
        .map(|e| param(e, "for"))
        .collect()
}

/// One parameter of a `Forwarded` element, unquoted.
fn param(element: &str, name: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`. Anything else (`unknown`, `_hidden`, a name) is `None`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = hop.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).expect("ascii"),
            );
        }
        h
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(s.parse().expect("ip"), 40000))
    }

    fn xff(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list, ProxyHeader::XForwardedFor).expect("valid")
    }

    #[test]
    fn without_trusted_proxies_the_headers_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let c = TrustedProxies::default().client(peer("127.0.0.1"), &h);
        assert_eq!(c.addr, Some("127.0.0.1".parse().expect("ip")));
        assert!(!c.https);
    }

    #[test]
    fn an_untrusted_peer_cannot_forge_its_address() {
        let p = xff("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        let c = p.client(peer("192.0.2.7"), &h);
        assert_eq!(c.addr, Some("192.0.2.7".parse().expect("ip")));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = xff("10.0.0.0/8, 127.0.0.1");
        // The client wrote "1.1.1.1" itself; nginx appended what it saw, an inner proxy too.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1, 198.51.100.4"),
            ("x-forwarded-for", "10.1.2.3"),
        ]);
        let c = p.client(peer("127.0.0.1"), &h);
        assert_eq!(c.addr, Some("198.51.100.4".parse().expect("ip")));
    }

    #[test]
    fn garbage_ends_the_walk_at_the_last_vouched_address() {
        let p = xff("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "198.51.100.4, unknown, 10.0.0.2")]);
        let c = p.client(peer("10.0.0.1"), &h);
        assert_eq!(c.addr, Some("10.0.0.2".parse().expect("ip")));
        let c = p.client(peer("10.0.0.1"), &HeaderMap::new());
        assert_eq!(c.addr, Some("10.0.0.1".parse().expect("ip")));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let p = xff("::ffff:127.0.0.1/128");
        let h = headers(&[("x-forwarded-for", "[2001:db8::7]:4711")]);
        let c = p.client(peer("127.0.0.1"), &h);
        assert_eq!(c.addr, Some("2001:db8::7".parse().expect("ip")));
        let h = headers(&[("x-forwarded-for", "192.0.2.60:8080")]);
        let c = p.client(peer("::ffff:127.0.0.1"), &h);
        assert_eq!(c.addr, Some("192.0.2.60".parse().expect("ip")));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_configured_and_only_then() {
        let p = TrustedProxies::parse("127.0.0.1", ProxyHeader::Forwarded).expect("valid");
        let h = headers(&[
            (
                "forwarded",
                r#"for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "203.0.113.1"),
        ]);
        let c = p.client(peer("127.0.0.1"), &h);
        assert_eq!(c.addr, Some("2001:db8:cafe::17".parse().expect("ip")));
        assert!(c.https);
        // A proxy configured for X-Forwarded-For never reads a Forwarded header a client sent.
        let c = xff("127.0.0.1").client(peer("127.0.0.1"), &h);
        assert_eq!(c.addr, Some("203.0.113.1".parse().expect("ip")));
        assert!(!c.https);
    }

    #[test]
    fn https_is_what_the_nearest_proxy_says() {
        let p = xff("127.0.0.1");
        let h = headers(&[("x-forwarded-proto", "http, https")]);
        assert!(p.client(peer("127.0.0.1"), &h).https);
        let h = headers(&[("x-forwarded-proto", "https, http")]);
        assert!(!p.client(peer("127.0.0.1"), &h).https);
    }

    #[test]
    fn a_bad_entry_is_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/33", ProxyHeader::XForwardedFor).is_err());
        assert!(TrustedProxies::parse("proxy.local", ProxyHeader::XForwardedFor).is_err());
        assert!(ProxyHeader::parse("x-real-ip").is_err());
        let p = xff(" 10.0.0.5/8 ,, ::1 ");
        assert!(p.trusts("10.200.0.1".parse().expect("ip")));
        assert!(p.trusts("::1".parse().expect("ip")));
        assert!(!p.trusts("11.0.0.1".parse().expect("ip")));
    }
}
