//! Keeps phone numbers and SIP URIs out of logs below debug level.

use std::fmt;

/// Displays a URI or number with its user part masked (all but the last two
/// characters), unless debug logging is on for this crate.
pub struct Redacted<'a>(pub &'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if tracing::enabled!(tracing::Level::DEBUG) {
            return f.write_str(self.0);
        }
        f.write_str(&mask(self.0))
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `sip:+4915112345678@trunk.example` → `sip:***78@trunk.example`.
pub fn mask(s: &str) -> String {
    let (scheme, rest) = match s.split_once(':') {
        Some((sch, rest)) if matches!(sch, "sip" | "sips" | "tel") => (Some(sch), rest),
        _ => (None, s),
    };
    let (user, host) = match rest.split_once('@') {
        Some((u, h)) => (u, Some(h)),
        None if scheme == Some("tel") || host_free(rest) => (rest, None),
        None => ("", Some(rest)),
    };
    let tail: String = user
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let masked_user = if user.is_empty() {
        String::new()
    } else {
        format!("***{tail}")
    };
    let mut out = String::new();
    if let Some(sch) = scheme {
        out.push_str(sch);
        out.push(':');
    }
    out.push_str(&masked_user);
    if let Some(h) = host {
        if !masked_user.is_empty() {
            out.push('@');
        }
        out.push_str(h);
    }
    out
}

fn host_free(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_user_parts() {
        assert_eq!(
            mask("sip:+4915112345678@trunk.example"),
            "sip:***78@trunk.example"
        );
        assert_eq!(mask("tel:+15551234567"), "tel:***67");
        assert_eq!(mask("+15551234567"), "***67");
        assert_eq!(mask("sip:127.0.0.1:5060"), "sip:127.0.0.1:5060");
    }
}
