//! SIP and other URIs (RFC 3261 §19.1, §25.1).
//!
//! SIP/SIPS URIs are parsed into parts; any other scheme (`tel:`, `isbn:`,
//! `soap.beep://…`) is kept opaque, which is all a UA needs to reject it with 416
//! (RFC 4475 §3.3.2–3.3.4). Escapes (`%41`) are kept as written: RFC 3261 §19.1.4
//! compares escaped and unescaped forms as equal, but a UA never needs to unescape.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// A parameter list `;name=value;flag` as written, order kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, Option<String>)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The value of `name`, when present with a value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Parses `;a=b;c` (leading `;` already stripped: input is `a=b;c`). Empty
    /// parameters (`;;`) are a syntax error (RFC 4475 §3.1.2.1).
    pub fn parse(s: &str, value_ok: impl Fn(&str) -> bool) -> Option<Params> {
        let mut out = Vec::new();
        for part in split_unquoted(s, ';') {
            let part = part.trim();
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (part, None),
            };
            if name.is_empty() || !name.bytes().all(super::is_token_char) {
                return None;
            }
            if let Some(v) = value {
                if v.is_empty() || !value_ok(v) {
                    return None;
                }
            }
            out.push((name.to_string(), value.map(str::to_string)));
        }
        Some(Params(out))
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in &self.0 {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        Ok(())
    }
}

/// Splits on `sep` outside double quotes and angle brackets.
pub(crate) fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped, mut angle) = (false, false, 0u32);
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle += 1,
            '>' if !quoted => angle = angle.saturating_sub(1),
            c if c == sep && !quoted && angle == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Host::Ip(a) => write!(f, "{a}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

impl Host {
    pub fn parse(s: &str) -> Option<Host> {
        if let Some(v6) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return v6.parse().ok().map(Host::Ip);
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Some(Host::Ip(ip));
        }
        let ok = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        ok.then(|| Host::Name(s.to_ascii_lowercase()))
    }
}

/// `host[:port]`, as in a URI or a Via sent-by.
pub(crate) fn parse_hostport(s: &str) -> Option<(Host, Option<u16>)> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']')?;
        let rest = &s[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return None,
        };
        (&s[..=end], port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    Some((Host::parse(host)?, port))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    pub secure: bool,
    /// userinfo's user part, escapes kept as written.
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
    /// `?name=value&…`, kept raw: a UA never turns them into real headers (RFC 4475 §3.1.2.11).
    pub headers: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    /// Any other absolute URI, kept verbatim.
    Other(String),
}

fn valid_uri_char(c: char) -> bool {
    !(c.is_ascii_control() || c == ' ' || c == '<' || c == '>' || c == '"' || c == '\t')
}

impl Uri {
    pub fn parse(s: &str) -> Option<Uri> {
        if s.is_empty() || !s.chars().all(valid_uri_char) {
            return None;
        }
        let (scheme, rest) = s.split_once(':')?;
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !scheme_ok || rest.is_empty() {
            return None;
        }
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "sip" => false,
            "sips" => true,
            _ => return Some(Uri::Other(s.to_string())),
        };
        // The user part may hold ';', '?', ':' and more (RFC 4475 §3.1.1.2, §3.1.1.9),
        // but never an unescaped '@': the first '@' ends userinfo.
        let (userinfo, hostpart) = match rest.split_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(u) => {
                let (user, pw) = match u.split_once(':') {
                    Some((user, pw)) => (user, Some(pw.to_string())),
                    None => (u, None),
                };
                if user.is_empty() {
                    return None;
                }
                (Some(user.to_string()), pw)
            }
            None => (None, None),
        };
        let (hostpart, headers) = match hostpart.split_once('?') {
            Some((h, hdrs)) => (h, Some(hdrs.to_string())),
            None => (hostpart, None),
        };
        let (hostport, params) = match hostpart.split_once(';') {
            Some((hp, p)) => (hp, Params::parse(p, |_| true)?),
            None => (hostpart, Params::default()),
        };
        let (host, port) = parse_hostport(hostport)?;
        Some(Uri::Sip(SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        }))
    }

    pub fn sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other(_) => None,
        }
    }

    /// Where to send a request for this URI, if the host is an IP literal (RFC 3263
    /// resolution of names is the driver's business, not this Sans-IO crate's).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        let u = self.sip()?;
        match u.host {
            Host::Ip(ip) => Some(SocketAddr::new(ip, u.port.unwrap_or(5060))),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Other(s) => f.write_str(s),
            Uri::Sip(u) => {
                f.write_str(if u.secure { "sips:" } else { "sip:" })?;
                if let Some(user) = &u.user {
                    f.write_str(user)?;
                    if let Some(pw) = &u.password {
                        write!(f, ":{pw}")?;
                    }
                    f.write_str("@")?;
                }
                write!(f, "{}", u.host)?;
                if let Some(p) = u.port {
                    write!(f, ":{p}")?;
                }
                write!(f, "{}", u.params)?;
                if let Some(h) = &u.headers {
                    write!(f, "?{h}")?;
                }
                Ok(())
            }
        }
    }
}

/// Parses `a="b, c", d=e` auth-param lists (RFC 3261 §25.1), unquoting values.
/// `None` when a quoted value is unterminated or a parameter has no `=`.
pub(crate) fn split_params_list(s: &str) -> Option<Vec<(String, String)>> {
    split_unquoted(s, ',')
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=')?;
            let v = v.trim();
            let value = match v.strip_prefix('"') {
                Some(inner) => unquote(inner)?,
                None => v.to_string(),
            };
            Some((n.trim().to_string(), value))
        })
        .collect()
}

/// The content of a quoted-string after its opening quote: quoted-pairs (`\x`)
/// undone, `None` unless it ends exactly at the closing quote.
fn unquote(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().trim().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

/// Writes `s` as a quoted-string, escaping `"` and `\\` (RFC 3261 §25.1).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) {
        let u = Uri::parse(s).unwrap_or_else(|| panic!("parse {s}"));
        assert_eq!(u.to_string(), s);
    }

    #[test]
    fn parse_and_print() {
        roundtrip("sip:alice@127.0.0.1:5060;transport=udp");
        roundtrip("sips:bob@example.com");
        roundtrip("sip:[::1]:5070");
        roundtrip("sip:user;par=u%40example.net@example.com");
        roundtrip("tel:+15551234567");
        roundtrip("soap.beep://192.0.2.103:3002");
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(
            u.sip().unwrap().user.as_deref(),
            Some("user;par=u%40example.net")
        );
        assert_eq!(
            Uri::parse("sip:10.0.0.1:5080").unwrap().socket_addr(),
            Some("10.0.0.1:5080".parse().unwrap())
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "sip:",
            "<sip:a@b>",
            "sip:a@b c",
            "sip:a@host:99999",
            "sip:a@b;;x",
            "1x:foo",
        ] {
            assert!(Uri::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn torture_uri_with_password_and_odd_user() {
        let s = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
        let u = Uri::parse(s).unwrap();
        let sip = u.sip().unwrap();
        assert_eq!(sip.host, Host::Name("example.com".into()));
        assert!(sip.password.is_some());
    }
}
