//! Where a webhook may post: never into the server's own network unless an operator says so.
//!
//! A webhook URL is chosen by an administrator, but the server is what connects; a URL naming
//! `127.0.0.1`, the cloud metadata address or a machine of the district's LAN would make the sender
//! (and the deliveries list, which reports what answered) a scanner of networks the administrator
//! cannot otherwise reach. So loopback, private, link-local, shared (CGNAT), multicast, broadcast,
//! documentation and unspecified addresses are refused in every spelling (the WHATWG URL parser
//! turns `2130706433`, `0x7f000001` and `127.1` into `127.0.0.1` before we look), at creation and
//! again when sending: the sender's resolver checks every address a name resolves to and hands the
//! connector only checked ones, so a name that resolves elsewhere later (DNS rebinding) is refused
//! then. An operator may allow named internal hosts or blocks (`webhook_allowed_targets`), keep a
//! static host table (`webhook_hosts`), and turn DNS off (`webhook_dns = false`: only the table
//! resolves; the tests and offline installations run so, and never ask a name server anything).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use ipnet::IpNet;

/// Why a URL may not be a webhook target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not an absolute http(s) URL with a host.
    Invalid,
    /// A user name or password in the URL (it would be stored and shown in clear).
    Credentials,
    /// The host is, or resolves to, an internal address.
    Internal(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Invalid => "invalid_url",
            Refusal::Credentials => "url_credentials",
            Refusal::Internal(_) => "internal_address",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Invalid => "an absolute http(s) URL".into(),
            Refusal::Credentials => {
                "a URL without a user name or password (the receiver checks the signature)".into()
            }
            Refusal::Internal(what) => format!(
                "{what} is an internal address (loopback, private, link-local, multicast or \
                 reserved); an operator may allow it with the setting webhook_allowed_targets"
            ),
        }
    }
}

/// Names an operator maps to addresses; shared by every clone, so a test can change an entry on a
/// running server (which is how DNS rebinding is tested without a name server).
#[derive(Clone, Debug, Default)]
pub struct HostTable(Arc<RwLock<HashMap<String, Vec<IpAddr>>>>);

impl HostTable {
    pub fn set(&self, host: &str, addrs: Vec<IpAddr>) {
        if let Ok(mut t) = self.0.write() {
            t.insert(host.trim_end_matches('.').to_ascii_lowercase(), addrs);
        }
    }

    fn get(&self, host: &str) -> Option<Vec<IpAddr>> {
        self.0.read().ok().and_then(|t| t.get(host).cloned())
    }
}

/// The operator's rules for webhook targets (settings `webhook_allowed_targets`, `webhook_hosts`,
/// `webhook_dns`).
#[derive(Clone, Debug)]
pub struct TargetPolicy {
    allowed_nets: Vec<IpNet>,
    allowed_hosts: Vec<String>,
    pub hosts: HostTable,
    pub dns: bool,
}

impl Default for TargetPolicy {
    fn default() -> Self {
        Self {
            allowed_nets: vec![],
            allowed_hosts: vec![],
            hosts: HostTable::default(),
            dns: true,
        }
    }
}

impl TargetPolicy {
    /// `allowed`: comma-separated addresses, CIDR blocks or host names; `hosts`: comma-separated
    /// `name=address` entries (one name may be listed more than once).
    pub fn parse(allowed: &str, hosts: &str, dns: bool) -> Result<Self, (&'static str, String)> {
        let mut policy = Self {
            dns,
            ..Self::default()
        };
        for entry in allowed.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.allowed_nets.push(net.trunc());
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.allowed_nets.push(IpNet::from(ip));
            } else if is_host_name(entry) {
                policy
                    .allowed_hosts
                    .push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err((
                    "webhook_allowed_targets",
                    format!("`{entry}` is not an address, a CIDR block or a host name"),
                ));
            }
        }
        for entry in hosts.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let parsed = entry
                .split_once('=')
                .and_then(|(name, ip)| Some((name.trim(), ip.trim().parse::<IpAddr>().ok()?)))
                .filter(|(name, _)| is_host_name(name));
            let Some((name, ip)) = parsed else {
                return Err((
                    "webhook_hosts",
                    format!("`{entry}` is not name=address, e.g. ioc.internal=10.0.5.20"),
                ));
            };
            let mut addrs = policy.hosts.get(name).unwrap_or_default();
            addrs.push(ip);
            policy.hosts.set(name, addrs);
        }
        Ok(policy)
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allowed_nets.iter().any(|n| n.contains(&ip))
    }

    fn allows_host(&self, host: &str) -> bool {
        self.allowed_hosts.iter().any(|h| h == host)
    }

    /// The URL's form: http(s), a host, no credentials, and no internal address written as its
    /// host. Names are not resolved here ([`TargetPolicy::vet`] does).
    pub fn check_form(&self, raw: &str) -> Result<reqwest::Url, Refusal> {
        let url = reqwest::Url::parse(raw.trim()).map_err(|_| Refusal::Invalid)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Invalid);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        match url.host() {
            None => Err(Refusal::Invalid),
            Some(url::Host::Ipv4(ip)) => self.literal(IpAddr::V4(ip)).map(|_| url.clone()),
            Some(url::Host::Ipv6(ip)) => self.literal(IpAddr::V6(ip)).map(|_| url.clone()),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let local = name == "localhost" || name.ends_with(".localhost");
                if local && !self.allows_host(&name) {
                    return Err(Refusal::Internal(name));
                }
                Ok(url)
            }
        }
    }

    fn literal(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.allows_ip(ip) {
            Ok(())
        } else {
            Err(Refusal::Internal(ip.to_string()))
        }
    }

    /// [`TargetPolicy::check_form`], then every address the host resolves to now. A name that
    /// does not resolve yet is accepted (the receiver may not be in DNS yet); the sender checks
    /// again at each delivery.
    pub async fn vet(&self, raw: &str) -> Result<reqwest::Url, Refusal> {
        let url = self.check_form(raw)?;
        if let Some(url::Host::Domain(name)) = url.host() {
            // An allowed host is trusted whatever it resolves to, as at send time.
            if self.allows_host(&name.trim_end_matches('.').to_ascii_lowercase()) {
                return Ok(url);
            }
            if let Ok(addrs) = self.resolve(name).await {
                for ip in addrs {
                    self.literal(ip)?;
                }
            }
        }
        Ok(url)
    }

    /// The addresses of `host` by the table, then DNS (when on); allowed hosts are not filtered.
    pub async fn resolve(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(addrs) = self.hosts.get(&host) {
            return Ok(addrs);
        }
        if !self.dns {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host} is not in webhook_hosts and webhook_dns is off"),
            ));
        }
        let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
        Ok(found.map(|sa| sa.ip()).collect())
    }

    /// The addresses the sender may connect to for `host`: all of them, or an error naming the
    /// first internal one (a name with one internal address among public ones is refused whole).
    async fn connectable(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let addrs = self.resolve(&name).await.map_err(|e| e.to_string())?;
        if self.allows_host(&name) {
            return Ok(addrs);
        }
        if let Some(bad) = addrs.iter().find(|ip| !self.allows_ip(**ip)) {
            return Err(format!(
                "refused: {name} resolves to {bad}, an internal address"
            ));
        }
        Ok(addrs)
    }
}

/// The sender's resolver: the connector only ever sees addresses [`TargetPolicy`] allowed.
#[derive(Clone, Debug)]
pub struct GuardedResolver(pub TargetPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let addrs = policy.connectable(name.as_str()).await?;
            let addrs: reqwest::dns::Addrs =
                Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

fn is_host_name(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && s.parse::<IpAddr>().is_err()
}

/// Not a public unicast address: IANA's special-purpose registries (RFC 6890 and successors), the
/// parts a webhook has no business reaching.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, the cloud metadata address among them
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || ip.is_multicast()
        || a >= 240 // reserved, broadcast
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return internal_v4(v4);
    }
    let seg = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local
        || (seg[0] & 0xffc0) == 0xfe80 // link-local
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) // discard
        // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96): judged by the IPv4 address inside.
        || (seg[..6] == [0, 0, 0, 0, 0, 0])
        || (seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            && internal_v4(Ipv4Addr::new(
                (seg[6] >> 8) as u8,
                seg[6] as u8,
                (seg[7] >> 8) as u8,
                seg[7] as u8,
            )))
        || (seg[0] == 0x2002 // 6to4: the IPv4 address in the next 32 bits
            && internal_v4(Ipv4Addr::new(
                (seg[1] >> 8) as u8,
                seg[1] as u8,
                (seg[2] >> 8) as u8,
                seg[2] as u8,
            )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TargetPolicy {
        TargetPolicy::parse("", "", false).expect("empty")
    }

    #[test]
    fn loopback_in_every_spelling_is_refused() {
        let p = policy();
        for url in [
            "http://127.0.0.1:9/x",
            "http://127.1/x",
            "http://2130706433/x",
            "http://0x7f000001/x",
            "http://0177.0.0.1/x",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://0.0.0.0/x",
            "http://localhost:8080/x",
            "http://LOCALHOST./x",
            "http://app.localhost/x",
        ] {
            assert!(
                matches!(p.check_form(url), Err(Refusal::Internal(_))),
                "{url}: {:?}",
                p.check_form(url)
            );
        }
    }

    #[test]
    fn credentials_and_other_schemes_are_refused() {
        let p = policy();
        assert_eq!(
            p.check_form("https://user:pass@ioc.example.vn/x"),
            Err(Refusal::Credentials)
        );
        assert_eq!(
            p.check_form("https://user@ioc.example.vn/x"),
            Err(Refusal::Credentials)
        );
        assert_eq!(
            p.check_form("ftp://ioc.example.vn/x"),
            Err(Refusal::Invalid)
        );
        assert_eq!(p.check_form("/hooks"), Err(Refusal::Invalid));
        assert!(p.check_form("https://ioc.haiphong.gov.vn/hooks").is_ok());
    }

    #[test]
    fn internal_ranges_are_known() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808"] {
            assert!(!is_internal(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn an_operator_may_allow_internal_targets() {
        let p =
            TargetPolicy::parse("10.0.5.0/24, ioc.internal, localhost", "", false).expect("valid");
        assert!(p.check_form("http://10.0.5.20/x").is_ok());
        assert!(p.check_form("http://10.0.6.20/x").is_err());
        assert!(p.check_form("http://localhost/x").is_ok());
        assert!(TargetPolicy::parse("10.0.0.0/40", "", true).is_err());
        assert!(TargetPolicy::parse("", "ioc.internal", true).is_err());
        assert!(TargetPolicy::parse("", "ioc.internal=nowhere", true).is_err());
    }

    #[tokio::test]
    async fn names_are_judged_by_what_they_resolve_to() {
        let p = TargetPolicy::parse(
            "ioc.internal",
            "ioc.internal=10.0.5.20, lan.example=192.168.1.9, ok.example=8.8.8.8",
            false,
        )
        .expect("valid");
        assert!(p.vet("https://ok.example/x").await.is_ok());
        assert!(matches!(
            p.vet("https://lan.example/x").await,
            Err(Refusal::Internal(_))
        ));
        // An allowed host is trusted whatever it resolves to; an unknown name waits for sending.
        assert!(p.vet("https://ioc.internal/x").await.is_ok());
        assert!(p.vet("https://nowhere.example/x").await.is_ok());
        assert!(p.connectable("nowhere.example").await.is_err());
        // Rebinding: the same name, resolving elsewhere later, is refused at send time.
        p.hosts
            .set("ok.example", vec!["127.0.0.1".parse().expect("ip")]);
        let err = p.connectable("ok.example").await.expect_err("rebound");
        assert!(err.contains("127.0.0.1"), "{err}");
    }
}
