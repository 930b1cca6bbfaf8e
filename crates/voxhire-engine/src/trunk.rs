//! The SIP trunk file (TOML): where to send calls and how to authenticate.
//!
//! ```toml
//! proxy = "127.0.0.1:5060"          # next hop for out-of-dialog requests (optional);
//!                                   # or a name: "sip.example.com" (RFC 3263: NAPTR,
//!                                   # SRV _sip._udp, A/AAAA) or "sip.example.com:5060"
//! # dns_server = "127.0.0.1:53"     # resolve names here instead of /etc/resolv.conf
//! username = "alice"
//! password_env = "VOXHIRE_TRUNK_PASSWORD"   # the password itself never goes in the file
//! from = "sip:alice@127.0.0.1"
//! codecs = ["PCMU", "PCMA", "opus"]
//! # srtp = true                     # offer SRTP keyed in the SDP (SDES); a trunk that
//!                                   # answers in the clear fails the call
//! registrar = "sip:127.0.0.1:5060"  # optional: REGISTER so the trunk sends inbound calls
//! register_expires = 300
//! # keepalive_secs = 30              # keep-alives (0: none): TCP/TLS, a CRLF ping after this
//!                                   # much quiet; a registration over UDP, a STUN Binding
//!                                   # request to the registrar every 80–100 % of it
//! ```

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use voxhire_sip::auth::Credentials;
use voxhire_sip::message::Uri;
use voxhire_sip::sdp::Codec;

use std::sync::{Arc, Mutex};

use crate::locate::{HostPort, Locator};
use crate::sip_stream::{StreamConfig, TlsClient};
use voxhire_sip::ua::Transport;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrunkFile {
    proxy: Option<String>,
    dns_server: Option<String>,
    transport: Option<String>,
    tls_ca: Option<std::path::PathBuf>,
    username: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    from: Option<String>,
    codecs: Option<Vec<String>>,
    srtp: Option<bool>,
    registrar: Option<String>,
    register_expires: Option<u32>,
    keepalive_secs: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Trunk {
    /// Where out-of-dialog requests go: the proxy as written when it is an
    /// address, else after [`Trunk::locate`].
    pub proxy: Option<SocketAddr>,
    /// A proxy given by name over UDP: located again for every call (see
    /// [`ProxyRoute`]). A TCP or TLS trunk keeps its one connection to `proxy`.
    pub route: Option<Arc<ProxyRoute>>,
    /// The proxy as written, when it is a name to resolve.
    pub proxy_name: Option<HostPort>,
    pub dns_server: Option<SocketAddr>,
    /// How requests reach the proxy: UDP (default), or one TCP or TLS connection.
    pub transport: Transport,
    /// Roots for the proxy's TLS certificate (default: the Mozilla roots).
    pub tls_ca: Option<std::path::PathBuf>,
    pub credentials: Option<Credentials>,
    pub from: Option<Uri>,
    pub codecs: Vec<Codec>,
    /// Offer SRTP (SDES, RFC 4568) on every outbound call. Inbound calls are
    /// answered in SRTP whenever they offer it, whatever this says.
    pub srtp: bool,
    pub registrar: Option<Uri>,
    pub register_expires: u32,
    /// Keep-alives (RFC 5626; default 30 s, 0 for none): double-CRLF on a
    /// TCP/TLS connection after this long idle; STUN to the registrar about this
    /// often while registered over UDP.
    pub keepalive: Option<std::time::Duration>,
}

pub const DEFAULT_CODECS: [Codec; 3] = [Codec::Pcmu, Codec::Pcma, Codec::Opus];

impl Default for Trunk {
    fn default() -> Self {
        Trunk {
            proxy: None,
            route: None,
            proxy_name: None,
            dns_server: None,
            transport: Transport::Udp,
            tls_ca: None,
            credentials: None,
            from: None,
            codecs: DEFAULT_CODECS.to_vec(),
            srtp: false,
            registrar: None,
            register_expires: 300,
            keepalive: Some(std::time::Duration::from_secs(30)),
        }
    }
}

/// How long a call waits for DNS before it uses the proxy's last addresses.
const LOCATE_AGAIN_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Where a trunk's proxy, given by name, is now: located again (RFC 3263) for
/// every call. The resolver caches each record for its TTL, so DNS is asked
/// again only once a record has expired, and the SRV weights spread the calls
/// over the hosts of one priority. If DNS fails, the addresses last located are
/// used.
pub struct ProxyRoute {
    name: HostPort,
    /// The transport the trunk is reached over: which NAPTR services and SRV
    /// names are asked for.
    transport: Transport,
    locator: Locator,
    /// The last successful location: the best address, then the others.
    last: Mutex<(SocketAddr, Vec<SocketAddr>)>,
}

impl std::fmt::Debug for ProxyRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRoute")
            .field("name", &self.name.host)
            .field("last", &self.last.lock().map(|l| l.clone()).ok())
            .finish()
    }
}

impl ProxyRoute {
    /// Where the next INVITE goes, and where after it on a timeout or a 503
    /// (RFC 3263 §4.3).
    pub async fn next_hops(&self) -> (SocketAddr, Vec<SocketAddr>) {
        let located = tokio::time::timeout(
            LOCATE_AGAIN_WITHIN,
            self.locator.targets(&self.name, self.transport),
        )
        .await
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "no DNS answer within {LOCATE_AGAIN_WITHIN:?}"
            ))
        });
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match located {
            Ok(targets) => {
                if let Some((best, rest)) = targets.split_first() {
                    let now = (best.addr, rest.iter().map(|t| t.addr).collect());
                    if *last != now {
                        tracing::info!(proxy = %self.name.host, addr = %now.0,
                            others = now.1.len(), "trunk located again");
                    }
                    *last = now;
                }
            }
            Err(e) => tracing::warn!(proxy = %self.name.host, error = %format!("{e:#}"),
                "locating the trunk failed; calling its last addresses"),
        }
        last.clone()
    }
}

impl Trunk {
    /// [`Trunk::load`], then [`Trunk::locate`]: a trunk ready to call through.
    pub async fn load_located(path: &Path) -> Result<Trunk> {
        let mut trunk = Self::load(path)?;
        trunk
            .locate()
            .await
            .with_context(|| format!("in trunk file {}", path.display()))?;
        Ok(trunk)
    }

    /// Resolves a proxy given by name (RFC 3263): its best address, and
    /// the [`ProxyRoute`] each call asks for its next hops.
    pub async fn locate(&mut self) -> Result<()> {
        let Some(name) = self.proxy_name.clone() else {
            return Ok(());
        };
        let locator = match self.dns_server {
            Some(server) => Locator::with_server(server)?,
            None => Locator::system()?,
        };
        let targets = locator
            .targets(&name, self.transport)
            .await
            .with_context(|| format!("proxy: locating {}", name.host))?;
        let Some(best) = targets.first() else {
            bail!("proxy: {} has no address", name.host);
        };
        tracing::info!(proxy = %name.host, addr = %best.addr, found_by = best.found_by,
            others = targets.len() - 1, "trunk located");
        self.proxy = Some(best.addr);
        // Over TCP or TLS each address gets its own connection when a call
        // first goes there (`sip_endpoint`), so failing over works alike.
        let others = targets[1..].iter().map(|t| t.addr).collect();
        self.route = Some(Arc::new(ProxyRoute {
            name,
            transport: self.transport,
            locator,
            last: Mutex::new((best.addr, others)),
        }));
        Ok(())
    }

    /// The connection to the proxy when the transport is TCP or TLS (after
    /// [`Trunk::locate`]); `None` for UDP. A TLS certificate must name the proxy
    /// as written in the file (RFC 5922), not an address DNS led to.
    fn stream(&self) -> Result<Option<StreamConfig>> {
        if self.transport == Transport::Udp {
            return Ok(None);
        }
        let peer = self
            .proxy
            .context("transport: a TCP or TLS trunk needs its proxy located first")?;
        let tls = match self.transport {
            Transport::Tls => {
                let name = match &self.proxy_name {
                    Some(hp) => hp.host.clone(),
                    None => peer.ip().to_string(),
                };
                Some(TlsClient::new(&name, self.tls_ca.as_deref())?)
            }
            _ => None,
        };
        Ok(Some(StreamConfig {
            peer,
            tls,
            keepalive: self.keepalive,
        }))
    }

    /// What the SIP endpoint needs of the trunk: its credentials and, for TCP or
    /// TLS, how to connect to it.
    pub fn sip_options(&self) -> Result<crate::sip_endpoint::SipOptions> {
        Ok(crate::sip_endpoint::SipOptions {
            credentials: self.credentials.clone(),
            stream: self.stream()?,
            tls_listen: None,
        })
    }

    pub fn load(path: &Path) -> Result<Trunk> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading trunk file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in trunk file {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Trunk> {
        // toml's error names the line, column and key at fault.
        let file: TrunkFile = toml::from_str(text)?;
        let transport = match file.transport.as_deref() {
            None | Some("udp") => Transport::Udp,
            Some("tcp") => Transport::Tcp,
            Some("tls") => Transport::Tls,
            Some(other) => bail!("transport: {other:?} is not udp, tcp or tls"),
        };
        if transport != Transport::Udp && file.proxy.is_none() {
            bail!("transport: {transport:?} needs a proxy to connect to");
        }
        if file.tls_ca.is_some() && transport != Transport::Tls {
            bail!("tls_ca: only for transport = \"tls\"");
        }
        let proxy_name = file
            .proxy
            .map(|p| {
                HostPort::parse(&p).with_context(|| {
                    format!("proxy: {p:?} is not an IP:port address or a host name")
                })
            })
            .transpose()?;
        // An address needs no DNS; a name is resolved by `locate`.
        let (proxy, proxy_name) = match proxy_name {
            Some(hp) => match hp.literal(transport) {
                Some(addr) => (Some(addr), None),
                None => (None, Some(hp)),
            },
            None => (None, None),
        };
        let dns_server = file
            .dns_server
            .map(|d| {
                d.parse::<SocketAddr>()
                    .with_context(|| format!("dns_server: {d:?} is not an IP:port address"))
            })
            .transpose()?;
        let password = match (file.password, file.password_env) {
            (Some(_), Some(_)) => bail!("password: give password_env only, never the password itself"),
            (Some(_), None) => bail!(
                "password: a password in the trunk file would sit on disk in the clear; \
                 put it in an environment variable and name that with password_env (docs/security.md)"
            ),
            (None, Some(var)) => {
                Some(std::env::var(&var).with_context(|| {
                    format!("password_env: environment variable {var} is not set")
                })?)
            }
            (None, None) => None,
        };
        let credentials = match (file.username, password) {
            (Some(username), Some(password)) => Some(Credentials { username, password }),
            (None, None) => None,
            (Some(_), None) => bail!("username is set but neither password nor password_env"),
            (None, Some(_)) => bail!("a password is set but no username"),
        };
        let parse_uri = |key: &str, v: Option<String>| -> Result<Option<Uri>> {
            v.map(|s| {
                Uri::parse(&s)
                    .filter(|u| u.sip().is_some())
                    .with_context(|| format!("{key}: {s:?} is not a sip: URI"))
            })
            .transpose()
        };
        let from = parse_uri("from", file.from)?;
        let registrar = parse_uri("registrar", file.registrar)?;
        let codecs = match file.codecs {
            None => DEFAULT_CODECS.to_vec(),
            Some(names) => {
                let mut out = Vec::new();
                for n in &names {
                    out.push(Codec::from_name(n).with_context(|| {
                        format!("codecs: unknown codec {n:?} (supported: PCMU, PCMA, opus)")
                    })?);
                }
                if out.is_empty() {
                    bail!("codecs: the list is empty");
                }
                out
            }
        };
        if file.srtp == Some(true) && transport != Transport::Tls {
            tracing::warn!(
                "trunk has srtp = true without transport = \"tls\": the SRTP keys travel in the SDP in the clear"
            );
        }
        if registrar.is_some() && credentials.is_none() {
            tracing::warn!(
                "trunk has a registrar but no credentials; REGISTER will be sent unauthenticated"
            );
        }
        Ok(Trunk {
            proxy,
            route: None,
            proxy_name,
            dns_server,
            transport,
            tls_ca: file.tls_ca,
            credentials,
            from,
            codecs,
            srtp: file.srtp.unwrap_or(false),
            registrar,
            register_expires: file.register_expires.unwrap_or(300),
            keepalive: match file.keepalive_secs {
                None => Some(std::time::Duration::from_secs(30)),
                Some(0) => None,
                Some(s) if s <= 3600 => Some(std::time::Duration::from_secs(s)),
                Some(s) => {
                    bail!("keepalive_secs: {s} is more than an hour (0 turns keep-alives off)")
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        // Only this test reads the variable.
        std::env::set_var("VOXHIRE_TRUNK_TEST_PASSWORD", "secret");
        let t = Trunk::parse(
            "proxy = \"127.0.0.1:5080\"\nusername = \"alice\"\npassword_env = \"VOXHIRE_TRUNK_TEST_PASSWORD\"\nfrom = \"sip:alice@127.0.0.1\"\ncodecs = [\"PCMA\"]\n",
        )
        .unwrap();
        assert_eq!(t.proxy, Some("127.0.0.1:5080".parse().unwrap()));
        assert_eq!(t.codecs, vec![Codec::Pcma]);
        assert_eq!(t.credentials.unwrap().username, "alice");
    }

    #[test]
    fn a_proxy_by_name_waits_for_dns_and_an_address_does_not() {
        let t =
            Trunk::parse("proxy = \"sip.example.com\"\ndns_server = \"127.0.0.1:5353\"").unwrap();
        assert_eq!(t.proxy, None);
        assert_eq!(t.proxy_name.map(|h| h.host), Some("sip.example.com".into()));
        assert_eq!(t.dns_server, Some("127.0.0.1:5353".parse().unwrap()));
        let t = Trunk::parse("proxy = \"10.1.2.3\"").unwrap();
        assert_eq!(t.proxy, Some("10.1.2.3:5060".parse().unwrap()));
        assert_eq!(t.proxy_name, None);
        let t = Trunk::parse("proxy = \"10.1.2.3\"\ntransport = \"tls\"").unwrap();
        assert_eq!(t.proxy, Some("10.1.2.3:5061".parse().unwrap()));
    }

    #[test]
    fn errors_name_the_key() {
        let e = format!("{:#}", Trunk::parse("codecs = [\"G729\"]").unwrap_err());
        assert!(e.contains("codecs") && e.contains("G729"), "{e}");
        let e = format!("{:#}", Trunk::parse("proxy = \"no where\"").unwrap_err());
        assert!(e.contains("proxy"), "{e}");
        let e = format!(
            "{:#}",
            Trunk::parse("dns_server = \"localhost\"").unwrap_err()
        );
        assert!(e.contains("dns_server"), "{e}");
        let e = format!("{:#}", Trunk::parse("usernme = \"x\"").unwrap_err());
        assert!(e.contains("usernme") && e.contains("line 1"), "{e}");
        let e = format!("{:#}", Trunk::parse("username = \"x\"").unwrap_err());
        assert!(e.contains("password"), "{e}");
        let e = format!(
            "{:#}",
            Trunk::parse("username = \"x\"\npassword = \"secret\"").unwrap_err()
        );
        assert!(e.contains("password_env") && !e.contains("secret"), "{e}");
    }
}
