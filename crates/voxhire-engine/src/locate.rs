//! Locating a SIP server by name (RFC 3263 §4), for a trunk given as a host name:
//! NAPTR (which transports the domain offers), then SRV (which hosts and ports, by
//! priority and weight, RFC 2782), then A/AAAA — for the transport the trunk file
//! chose: UDP (`SIP+D2U`, `_sip._udp`, port 5060), TCP (`SIP+D2T`, `_sip._tcp`) or TLS
//! (`SIPS+D2T`, `_sips._tcp`, port 5061). A domain whose NAPTR records do not offer
//! that transport is an error that says what they offer.
//!
//! DNS goes through `hickory-resolver`: the system's resolver configuration, or one
//! name server given in the trunk file (`dns_server`).

use std::net::{IpAddr, SocketAddr};

use anyhow::{bail, Context, Result};
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use rand::Rng;
use voxhire_sip::ua::Transport;

/// The NAPTR service, SRV prefix and default port of a transport (RFC 3263 §4.1).
fn service(transport: Transport) -> (&'static str, &'static str, u16) {
    match transport {
        Transport::Udp => ("SIP+D2U", "_sip._udp", SIP_PORT),
        Transport::Tcp => ("SIP+D2T", "_sip._tcp", SIP_PORT),
        Transport::Tls => ("SIPS+D2T", "_sips._tcp", 5061),
    }
}

/// The default SIP port (RFC 3261 §19.1.1).
pub const SIP_PORT: u16 = 5060;

/// One address to try, and the DNS step that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    /// `literal`, `a` (an explicit port, or no SRV), `srv`, or `naptr`.
    pub found_by: &'static str,
}

/// A SIP server's host as written: a name or an IP literal, and a port if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: Option<u16>,
}

impl HostPort {
    /// `host`, `host:port`, `1.2.3.4:5060`, `[::1]:5060` or `sip:host[:port]`
    /// (URI parameters are ignored).
    pub fn parse(s: &str) -> Result<HostPort> {
        let s = s.trim();
        let s = s.strip_prefix("sip:").unwrap_or(s);
        let s = s.split(';').next().unwrap_or(s);
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(HostPort {
                host: addr.ip().to_string(),
                port: Some(addr.port()),
            });
        }
        if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(HostPort {
                host: ip.to_string(),
                port: None,
            });
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .with_context(|| format!("{p:?} is not a port"))?,
                ),
            ),
            None => (s, None),
        };
        let valid = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            bail!("{host:?} is neither an IP address nor a host name");
        }
        Ok(HostPort {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The address itself when the host is an IP literal (no DNS needed), with
    /// `transport`'s default port when none was written.
    pub fn literal(&self, transport: Transport) -> Option<SocketAddr> {
        let ip: IpAddr = self.host.parse().ok()?;
        Some(SocketAddr::new(
            ip,
            self.port.unwrap_or(service(transport).2),
        ))
    }
}

/// Resolves SIP server names.
pub struct Locator {
    resolver: TokioResolver,
}

impl Locator {
    /// The system's DNS configuration (`/etc/resolv.conf`).
    pub fn system() -> Result<Locator> {
        let resolver = TokioResolver::builder_tokio()
            .context("reading the system's DNS configuration")?
            .build()
            .context("starting the DNS resolver")?;
        Ok(Locator { resolver })
    }

    /// One name server (UDP, then TCP for truncated answers), e.g. a local one.
    pub fn with_server(server: SocketAddr) -> Result<Locator> {
        let mut ns = NameServerConfig::udp_and_tcp(server.ip());
        for c in &mut ns.connections {
            c.port = server.port();
        }
        let config = ResolverConfig::from_name_servers(vec![ns]);
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .build()
            .context("starting the DNS resolver")?;
        Ok(Locator { resolver })
    }

    /// The addresses to try for `server` over UDP, best first (RFC 3263 §4.2).
    pub async fn udp_targets(&self, server: &HostPort) -> Result<Vec<Target>> {
        self.targets(server, Transport::Udp).await
    }

    /// The addresses to try for `server` over `transport`, best first.
    pub async fn targets(&self, server: &HostPort, transport: Transport) -> Result<Vec<Target>> {
        let (naptr_service, srv_prefix, default_port) = service(transport);
        if let Some(addr) = server.literal(transport) {
            return Ok(vec![Target {
                addr,
                found_by: "literal",
            }]);
        }
        if let Some(port) = server.port {
            return self.addresses(&server.host, port, "a").await;
        }
        // §4.1: NAPTR first; with none, SRV for the transport we speak.
        let srv_names = match self.naptr(&server.host, naptr_service).await? {
            Some(names) => names.into_iter().map(|n| (n, "naptr")).collect(),
            None => vec![(format!("{srv_prefix}.{}", server.host), "srv")],
        };
        let mut targets = Vec::new();
        for (name, step) in &srv_names {
            for (host, port) in self.srv(name).await? {
                targets.extend(self.addresses(&host, port, step).await.unwrap_or_default());
            }
        }
        if targets.is_empty() && srv_names.iter().all(|(_, s)| *s == "srv") {
            return self.addresses(&server.host, default_port, "a").await;
        }
        if targets.is_empty() {
            bail!("{}: its NAPTR/SRV records lead to no address", server.host);
        }
        Ok(targets)
    }

    /// The SRV names of the domain's NAPTR records for `wanted` (`SIP+D2U`…),
    /// in order; `None` when it has no NAPTR records at all — or when the DNS
    /// server refuses or fails the NAPTR query, as servers that know nothing of
    /// NAPTR do: SRV is then tried as with none (RFC 3263 §4.1).
    async fn naptr(&self, host: &str, wanted: &str) -> Result<Option<Vec<String>>> {
        let lookup = match self.lookup(host, RecordType::NAPTR).await {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(None),
            Err(e) => match e.downcast_ref::<NetError>() {
                Some(NetError::Dns(DnsError::ResponseCode(
                    code @ (ResponseCode::Refused | ResponseCode::ServFail | ResponseCode::NotImp),
                ))) => {
                    tracing::info!(%host, %code, "no NAPTR answer; trying SRV");
                    return Ok(None);
                }
                _ => return Err(e),
            },
        };
        let mut records: Vec<_> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::NAPTR(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        if records.is_empty() {
            return Ok(None);
        }
        records.sort_by_key(|n| (n.order, n.preference));
        let offered: Vec<String> = records
            .iter()
            .map(|n| String::from_utf8_lossy(&n.services).to_ascii_uppercase())
            .collect();
        let udp: Vec<String> = records
            .iter()
            .zip(&offered)
            .filter(|(n, s)| *s == wanted && n.flags.eq_ignore_ascii_case(b"s"))
            .map(|(n, _)| n.replacement.to_ascii().trim_end_matches('.').to_owned())
            .collect();
        if udp.is_empty() {
            bail!(
                "{host}: its NAPTR records offer {} only, not {wanted} (the trunk file's transport)",
                offered.join(", ")
            );
        }
        Ok(Some(udp))
    }

    /// SRV targets of `name` (host, port) in RFC 2782 order: by priority, and
    /// within a priority by weighted random choice.
    async fn srv(&self, name: &str) -> Result<Vec<(String, u16)>> {
        let Some(lookup) = self.lookup(name, RecordType::SRV).await? else {
            return Ok(Vec::new());
        };
        let mut records: Vec<(u16, u16, u16, String)> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(s) => Some((
                    s.priority,
                    s.weight,
                    s.port,
                    s.target.to_ascii().trim_end_matches('.').to_owned(),
                )),
                _ => None,
            })
            // "." means the service is decidedly not available there.
            .filter(|(_, _, _, t)| !t.is_empty())
            .collect();
        records.sort_by_key(|r| r.0);
        let mut ordered = Vec::new();
        let mut rng = rand::rng();
        while !records.is_empty() {
            let priority = records[0].0;
            let mut same: Vec<_> = records
                .iter()
                .filter(|r| r.0 == priority)
                .cloned()
                .collect();
            records.retain(|r| r.0 != priority);
            while !same.is_empty() {
                let total: u32 = same.iter().map(|r| u32::from(r.1)).sum();
                let pick = if total == 0 {
                    0
                } else {
                    let mut x = rng.random_range(0..total);
                    same.iter()
                        .position(|r| {
                            let w = u32::from(r.1);
                            if x < w {
                                true
                            } else {
                                x -= w;
                                false
                            }
                        })
                        .unwrap_or(0)
                };
                let r = same.remove(pick);
                ordered.push((r.3, r.2));
            }
        }
        Ok(ordered)
    }

    /// A and AAAA records of `host`, each with `port`.
    async fn addresses(
        &self,
        host: &str,
        port: u16,
        found_by: &'static str,
    ) -> Result<Vec<Target>> {
        let ips = self
            .resolver
            .lookup_ip(format!("{host}."))
            .await
            .with_context(|| format!("looking up the address of {host}"))?;
        Ok(ips
            .iter()
            .map(|ip| Target {
                addr: SocketAddr::new(ip, port),
                found_by,
            })
            .collect())
    }

    /// A lookup where "no such records" is `None`, not an error.
    async fn lookup(
        &self,
        name: &str,
        kind: RecordType,
    ) -> Result<Option<hickory_resolver::lookup::Lookup>> {
        match self.resolver.lookup(format!("{name}."), kind).await {
            Ok(l) => Ok(Some(l)),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(None),
            Err(e) => Err(e).with_context(|| format!("looking up {kind} records of {name}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HostPort;

    #[test]
    fn servers_are_read_as_written() {
        let hp = |s: &str| HostPort::parse(s).unwrap();
        assert_eq!(
            hp("10.0.0.1:5080"),
            HostPort {
                host: "10.0.0.1".into(),
                port: Some(5080)
            }
        );
        assert_eq!(
            hp("[::1]:5062"),
            HostPort {
                host: "::1".into(),
                port: Some(5062)
            }
        );
        assert_eq!(
            hp("Trunk.Example.COM"),
            HostPort {
                host: "trunk.example.com".into(),
                port: None
            }
        );
        assert_eq!(
            hp("sip:trunk.example.com:5070;transport=udp"),
            HostPort {
                host: "trunk.example.com".into(),
                port: Some(5070)
            }
        );
        for bad in [
            "",
            "trunk..example",
            "trunk.example:0",
            "trunk.example:99999",
            "a b",
        ] {
            assert!(HostPort::parse(bad).is_err(), "{bad:?}");
        }
    }
}
