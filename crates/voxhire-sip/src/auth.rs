//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617 MD5, qop=auth).

use std::fmt::Write as _;

use md5::{Digest as _, Md5};

use crate::message::uri::{quote, split_params_list};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// A parsed `WWW-Authenticate` / `Proxy-Authenticate: Digest …` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Option<String>,
    pub qop_auth: bool,
    pub stale: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("challenge scheme is not Digest")]
    NotDigest,
    #[error("challenge lacks {0}")]
    Missing(&'static str),
    #[error("unsupported digest algorithm {0}")]
    Algorithm(String),
    #[error("qop {0:?} offered without \"auth\"")]
    Qop(String),
    #[error("malformed challenge parameters")]
    Syntax,
}

impl Challenge {
    pub fn parse(header: &str) -> Result<Challenge, AuthError> {
        let header = header.trim();
        let (scheme, rest) = header
            .split_once(char::is_whitespace)
            .unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(AuthError::NotDigest);
        }
        let mut realm = None;
        let mut nonce = None;
        let mut opaque = None;
        let mut algorithm = None;
        let mut qop = None;
        let mut stale = false;
        for (name, value) in split_params_list(rest).ok_or(AuthError::Syntax)? {
            match name.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(value),
                "nonce" => nonce = Some(value),
                "opaque" => opaque = Some(value),
                "algorithm" => algorithm = Some(value),
                "qop" => qop = Some(value),
                "stale" => stale = value.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        if let Some(a) = &algorithm {
            if !a.eq_ignore_ascii_case("MD5") {
                return Err(AuthError::Algorithm(a.clone()));
            }
        }
        let qop_auth = match &qop {
            None => false,
            Some(q) if q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")) => true,
            Some(q) => return Err(AuthError::Qop(q.clone())),
        };
        Ok(Challenge {
            realm: realm.ok_or(AuthError::Missing("realm"))?,
            nonce: nonce.ok_or(AuthError::Missing("nonce"))?,
            opaque,
            algorithm,
            qop_auth,
            stale,
        })
    }

    /// The `Authorization` value for `method uri`. `nc` counts uses of this nonce
    /// (RFC 2617 §3.2.2), `cnonce` comes from the caller's seeded RNG.
    pub fn authorization(
        &self,
        creds: &Credentials,
        method: &str,
        uri: &str,
        nc: u32,
        cnonce: &str,
    ) -> String {
        let ha1 = md5_hex(&format!(
            "{}:{}:{}",
            creds.username, self.realm, creds.password
        ));
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let nc = format!("{nc:08x}");
        let response = if self.qop_auth {
            md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
        } else {
            md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        // Values are written back as quoted-strings with escapes, so a realm or nonce
        // holding a quote reads back unchanged (RFC 2617 §3.2.2).
        let mut out = format!(
            "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\", algorithm=MD5",
            quote(&creds.username),
            quote(&self.realm),
            quote(&self.nonce),
            quote(uri)
        );
        if self.qop_auth {
            let _ = write!(out, ", qop=auth, nc={nc}, cnonce={}", quote(cnonce));
        }
        if let Some(o) = &self.opaque {
            let _ = write!(out, ", opaque={}", quote(o));
        }
        out
    }
}

fn md5_hex(s: &str) -> String {
    let digest = Md5::digest(s.as_bytes());
    digest.iter().fold(String::with_capacity(32), |mut acc, b| {
        let _ = write!(acc, "{b:02x}");
        acc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_example_response() {
        // RFC 2617 §3.5 worked example (HTTP, but the digest arithmetic is identical).
        let c = Challenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        let creds = Credentials {
            username: "Mufasa".into(),
            password: "Circle Of Life".into(),
        };
        let h = c.authorization(&creds, "GET", "/dir/index.html", 1, "0a4f113b");
        assert!(
            h.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{h}"
        );
        assert!(h.contains("nc=00000001"));
        assert!(h.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    }

    #[test]
    fn rejects_what_we_cannot_answer() {
        assert_eq!(
            Challenge::parse("Basic realm=\"x\""),
            Err(AuthError::NotDigest)
        );
        assert_eq!(
            Challenge::parse("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256"),
            Err(AuthError::Algorithm("SHA-256".into()))
        );
        assert_eq!(
            Challenge::parse("Digest realm=\"x\""),
            Err(AuthError::Missing("nonce"))
        );
        let no_qop = Challenge::parse("Digest realm=\"x\", nonce=\"n\"").unwrap();
        assert!(!no_qop.qop_auth);
        // Found by fuzzing: an unterminated quoted nonce used to leak its quote into
        // the Authorization header.
        assert_eq!(
            Challenge::parse("Digest realm=\"r\", nonce=\"n"),
            Err(AuthError::Syntax)
        );
    }

    #[test]
    fn escaped_quotes_survive_into_the_authorization() {
        let c = Challenge::parse(r#"Digest realm="a\",b", nonce="n""#).unwrap();
        assert_eq!(c.realm, "a\",b");
        let creds = Credentials {
            username: "alice".into(),
            password: "secret".into(),
        };
        let h = c.authorization(&creds, "INVITE", "sip:b@127.0.0.1", 1, "c");
        assert!(h.contains(r#"realm="a\",b""#), "{h}");
    }
}
