//! Where a candidate is reached: a SIP URI dialled directly, or a phone
//! number the call engine dials through the trunk (`sip:<number>@<proxy>`).
//! Kept exactly as the recruiter wrote it; only checked for shape here.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Address {
    /// `sip:user@host[:port][;params]` or `sips:…`.
    Sip(String),
    /// `+8613800000000`, `tel:+1 212 555 0100`, `(212) 555-0100` …
    Phone(String),
}

impl Address {
    /// Checks the shape; the error says what is wrong without repeating the
    /// (personal) value.
    pub fn parse(s: &str) -> Result<Address, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err("is empty");
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("sip:") || lower.starts_with("sips:") {
            check_sip(s)?;
            return Ok(Address::Sip(s.to_owned()));
        }
        if normalise_number(s).is_some() {
            return Ok(Address::Phone(s.to_owned()));
        }
        Err("is neither a SIP URI (sip:user@host) nor a phone number (+8613800000000)")
    }

    pub fn as_str(&self) -> &str {
        match self {
            Address::Sip(s) | Address::Phone(s) => s,
        }
    }

    /// The forms under which this address may appear on a do-not-call list:
    /// the normalised number, and for a SIP URI `sip:user@host` (lowercased
    /// host, no port or parameters — the same person behind another port is
    /// still the same person) plus the number when the user part is one.
    pub fn match_keys(&self) -> Vec<String> {
        match self {
            Address::Phone(p) => normalise_number(p).into_iter().collect(),
            Address::Sip(uri) => sip_keys(uri),
        }
    }
}

fn check_sip(s: &str) -> Result<(), &'static str> {
    let (_, rest) = s.split_once(':').ok_or("has no scheme")?;
    let rest = rest.split([';', '?']).next().unwrap_or("");
    let (user, hostport) = rest
        .split_once('@')
        .ok_or("has no user part (sip:user@host)")?;
    if user.is_empty()
        || user
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
    {
        return Err("has an empty or malformed user part");
    }
    let (host, port) = split_host_port(hostport);
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if !host_ok {
        return Err("has an empty or malformed host");
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err("has a port that is not 1-65535"),
        }
    }
    Ok(())
}

/// `host:port` → (`host`, Some(`port`)); IPv6 references keep their brackets.
fn split_host_port(hp: &str) -> (&str, Option<&str>) {
    if let Some(end) = hp.find(']') {
        let (host, rest) = hp.split_at(end + 1);
        return (host, rest.strip_prefix(':'));
    }
    match hp.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hp, None),
    }
}

fn sip_keys(uri: &str) -> Vec<String> {
    // sip: and sips: reach the same person, so both map to `sip:`.
    let Some((_scheme, rest)) = uri.trim().split_once(':') else {
        return Vec::new();
    };
    let rest = rest.split([';', '?']).next().unwrap_or("");
    let Some((user, hostport)) = rest.split_once('@') else {
        return Vec::new();
    };
    let (host, _) = split_host_port(hostport);
    let mut keys = vec![format!("sip:{user}@{}", host.to_ascii_lowercase())];
    if let Some(n) = normalise_number(user) {
        keys.push(n);
    }
    keys
}

/// Digits with a leading `+` kept: `tel:+1 (212) 555-0100` → `+12125550100`.
/// `None` when the text is not a plausible number (3–15 digits, only
/// separators besides).
pub fn normalise_number(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix("tel:").unwrap_or(s);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let digits = out.trim_start_matches('+').len();
    (3..=15).contains(&digits).then_some(out)
}

/// `sip:+4915112345678@trunk.example` → `sip:***78@trunk.example`; a bare
/// number keeps only its last two digits. For logs and `Debug`.
pub fn mask(s: &str) -> String {
    let (prefix, rest) = match s.split_once(':') {
        Some((sch, rest)) if matches!(sch, "sip" | "sips" | "tel") => (format!("{sch}:"), rest),
        _ => (String::new(), s),
    };
    let (user, host) = match rest.split_once('@') {
        Some((u, h)) => (u, Some(h)),
        None => (rest, None),
    };
    let tail: String = {
        let chars: Vec<char> = user.chars().collect();
        chars[chars.len().saturating_sub(2)..].iter().collect()
    };
    match host {
        Some(h) => format!("{prefix}***{tail}@{h}"),
        None => format!("{prefix}***{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(matches!(
            Address::parse("sip:alice@127.0.0.1:5090"),
            Ok(Address::Sip(_))
        ));
        assert!(matches!(
            Address::parse("sips:bob@example.com;transport=tls"),
            Ok(Address::Sip(_))
        ));
        assert!(matches!(
            Address::parse("sip:carol@[::1]:5060"),
            Ok(Address::Sip(_))
        ));
        assert!(matches!(
            Address::parse("+86 138-0000-0000"),
            Ok(Address::Phone(_))
        ));
        assert!(matches!(
            Address::parse("tel:+12125550100"),
            Ok(Address::Phone(_))
        ));
        for bad in [
            "sip:127.0.0.1",
            "sip:@host",
            "sip:a@",
            "sip:a@h:99999",
            "alice",
            "12",
            "+1 555 CALL",
            "sip:a b@h",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn numbers_normalise_to_digits_and_plus() {
        assert_eq!(
            normalise_number("+1 (212) 555-0100").as_deref(),
            Some("+12125550100")
        );
        assert_eq!(
            normalise_number("tel:+86.138.0000.0000").as_deref(),
            Some("+8613800000000")
        );
        assert_eq!(normalise_number("1+2"), None);
    }

    #[test]
    fn sip_match_keys_ignore_port_params_and_host_case() {
        let a = Address::parse("sip:frank@LocalHost:5090;transport=udp").expect("valid");
        assert_eq!(a.match_keys(), vec!["sip:frank@localhost".to_string()]);
        let n = Address::parse("sip:+8613800000000@trunk.example").expect("valid");
        assert!(n.match_keys().contains(&"+8613800000000".to_string()));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("sip:alice@127.0.0.1:5090"), "sip:***ce@127.0.0.1:5090");
        assert_eq!(mask("+8613812345678"), "***78");
        assert_eq!(mask("tel:+12125550100"), "tel:***00");
    }
}
