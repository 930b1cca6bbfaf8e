//! Header storage and the typed headers a UA needs, parsed on demand.
//!
//! Headers are kept raw (name canonicalised, value unfolded) in arrival order;
//! unknown headers pass through untouched. Typed views (`Via`, `NameAddr`, `CSeq`)
//! parse a value when asked and print back to the wire form.

use std::fmt;

use super::uri::{parse_hostport, split_unquoted, Host, Params, Uri};
use crate::Method;

/// RFC 3261 §7.3.3 compact forms → canonical names (plus common extensions).
fn canonical_name(name: &str) -> String {
    let full = match name.to_ascii_lowercase().as_str() {
        "i" | "call-id" => "Call-ID",
        "m" | "contact" => "Contact",
        "e" | "content-encoding" => "Content-Encoding",
        "l" | "content-length" => "Content-Length",
        "c" | "content-type" => "Content-Type",
        "f" | "from" => "From",
        "s" | "subject" => "Subject",
        "k" | "supported" => "Supported",
        "t" | "to" => "To",
        "v" | "via" => "Via",
        "o" | "event" => "Event",
        "r" | "refer-to" => "Refer-To",
        "u" | "allow-events" => "Allow-Events",
        "cseq" => "CSeq",
        "max-forwards" => "Max-Forwards",
        "www-authenticate" => "WWW-Authenticate",
        "proxy-authenticate" => "Proxy-Authenticate",
        "authorization" => "Authorization",
        "proxy-authorization" => "Proxy-Authorization",
        "record-route" => "Record-Route",
        "route" => "Route",
        "require" => "Require",
        "proxy-require" => "Proxy-Require",
        "unsupported" => "Unsupported",
        "allow" => "Allow",
        "accept" => "Accept",
        "expires" => "Expires",
        "retry-after" => "Retry-After",
        "user-agent" => "User-Agent",
        _ => return name.to_string(),
    };
    full.to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// An ordered multimap of raw headers, names compared case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every header line named `name`, in order (not split on commas).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every comma-separated element of every `name` line (RFC 3261 §7.3.1).
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.all(name)
            .flat_map(|v| split_unquoted(v, ','))
            .map(str::trim)
    }

    pub fn count(&self, name: &str) -> usize {
        self.0
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push(Header {
            name: canonical_name(name),
            value: value.into(),
        });
    }

    /// Replaces every `name` line with one.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.push(name, value);
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }

    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }
}

pub(crate) fn is_quoted_string_valid(s: &str) -> bool {
    // Called with the text between the quotes; checks escapes are complete.
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return false;
        }
    }
    !escaped
}

/// A top-level Via element: `SIP/2.0/UDP host:port;branch=…` (RFC 3261 §20.42).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
}

/// RFC 3261 §8.1.1.7: branches starting with this cookie are unique per transaction.
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

impl Via {
    pub fn parse(s: &str) -> Option<Via> {
        let s = s.trim();
        // sent-protocol: "SIP / 2.0 / UDP" with LWS allowed around the slashes.
        let mut parts = s.splitn(3, '/');
        let name = parts.next()?.trim();
        let version = parts.next()?.trim();
        let rest = parts.next()?.trim_start();
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return None;
        }
        let transport_end = rest.find(|c: char| c.is_whitespace())?;
        let transport = &rest[..transport_end];
        if transport.is_empty() || !transport.bytes().all(super::is_token_char) {
            return None;
        }
        let rest = rest[transport_end..].trim_start();
        let (sent_by, params) = match rest.split_once(';') {
            Some((sb, p)) => (
                sb.trim(),
                Params::parse(p, |v| !v.contains(char::is_whitespace))?,
            ),
            None => (rest.trim(), Params::default()),
        };
        let (host, port) = parse_hostport(sent_by)?;
        Some(Via {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// RFC 3261 §17.2.3: whether this Via identifies its transaction by branch alone.
    /// A bare cookie carries no identifier (RFC 4475 §3.2.1), so it does not count.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| {
            b.len() > BRANCH_MAGIC_COOKIE.len() && b.starts_with(BRANCH_MAGIC_COOKIE)
        })
    }

    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.to_string(),
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SIP/2.0/{} {}{}",
            self.transport,
            self.sent_by(),
            self.params
        )
    }
}

/// `"Display" <uri>;params` or `uri;params` (From, To, Contact, Route, Record-Route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: Uri,
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display: None,
            uri,
            params: Params::default(),
        }
    }

    pub fn parse(s: &str) -> Option<NameAddr> {
        let s = s.trim();
        if let Some(lt) = find_unquoted(s, '<') {
            let display = s[..lt].trim();
            let display = if display.is_empty() {
                None
            } else if let Some(inner) = display.strip_prefix('"') {
                let inner = inner.strip_suffix('"')?;
                if !is_quoted_string_valid(inner) {
                    return None;
                }
                Some(display.to_string())
            } else {
                // RFC 3261 §25.1: an unquoted display name is *(token LWS) (RFC 4475 §3.1.2.15).
                let ok = display
                    .split_whitespace()
                    .all(|t| t.bytes().all(super::is_token_char));
                if !ok {
                    return None;
                }
                Some(display.to_string())
            };
            let rest = &s[lt + 1..];
            let gt = rest.find('>')?;
            let uri = Uri::parse(&rest[..gt])?;
            let after = rest[gt + 1..].trim_start();
            let params = match after.strip_prefix(';') {
                Some(p) => Params::parse(p, |_| true)?,
                None if after.is_empty() => Params::default(),
                None => return None,
            };
            Some(NameAddr {
                display,
                uri,
                params,
            })
        } else {
            if s.contains('"') {
                return None;
            }
            // addr-spec form: the URI's own parameters would be ambiguous, so RFC 3261
            // §20.10 says the parameters belong to the header (and '?' is not allowed).
            let (uri, params) = match s.split_once(';') {
                Some((u, p)) => (u.trim(), Params::parse(p, |_| true)?),
                None => (s, Params::default()),
            };
            if uri.contains('?') {
                return None;
            }
            Some(NameAddr {
                display: None,
                uri: Uri::parse(uri)?,
                params,
            })
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }
}

fn find_unquoted(s: &str, needle: char) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == needle && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "{d} ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// `CSeq: 314159 INVITE` (RFC 3261 §20.16; the number fits 32 bits, RFC 4475 §3.1.2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(s: &str) -> Option<CSeq> {
        let mut it = s.split_whitespace();
        let seq = it.next()?;
        let method = Method::parse(it.next()?)?;
        if it.next().is_some() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(CSeq {
            seq: seq.parse().ok()?,
            method,
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_parse_and_print() {
        let v = Via::parse("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds;rport").unwrap();
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds;rport"
        );
        assert!(v.has_rfc3261_branch());
        let folded =
            Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ;\n  branch  =   z9hG4bK9ikj8")
                .unwrap();
        assert_eq!(folded.branch(), Some("z9hG4bK9ikj8"));
        assert_eq!(folded.transport, "TCP");
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;,;,,").is_none());
        assert!(!Via::parse("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK")
            .unwrap()
            .has_rfc3261_branch());
    }

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse("\"Bob\" <sip:bob@biloxi.com>;tag=a6c85cf").unwrap();
        assert_eq!(n.tag(), Some("a6c85cf"));
        assert_eq!(n.to_string(), "\"Bob\" <sip:bob@biloxi.com>;tag=a6c85cf");
        let n = NameAddr::parse("sip:j.user@example.com;tag=42").unwrap();
        assert_eq!(n.tag(), Some("42"));
        assert!(NameAddr::parse("\"Mr. J. User <sip:j.user@example.com>").is_none());
        assert!(NameAddr::parse("Watson, Thomas <sip:t.watson@example.org>").is_none());
        assert!(NameAddr::parse("\"Joe\" <sip:joe@example.org>;;;;").is_none());
        assert!(NameAddr::parse("T. Watson <sip:t.watson@example.org>").is_some());
        assert!(NameAddr::parse("caller<sip:caller@example.com>;tag=323").is_some());
    }

    #[test]
    fn cseq_bounds() {
        assert_eq!(
            CSeq::parse("0009\r\n INVITE").unwrap().to_string(),
            "9 INVITE"
        );
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_none());
        assert!(CSeq::parse("-1 INVITE").is_none());
    }

    #[test]
    fn compact_names_are_canonical() {
        let mut h = Headers::new();
        h.push("v", "SIP/2.0/UDP a");
        h.push("VIA", "SIP/2.0/UDP b, SIP/2.0/UDP c");
        assert_eq!(h.list("Via").count(), 3);
        assert_eq!(h.iter().next().unwrap().name, "Via");
    }
}
