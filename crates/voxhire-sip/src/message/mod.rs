//! SIP messages: parsing a datagram into a request or response, and printing one.
//!
//! Framing follows RFC 3261 §18.3 for datagrams: the body is Content-Length octets
//! after the blank line, anything beyond is ignored (RFC 4475 §3.1.1.8), and a
//! missing Content-Length means "the rest of the datagram". Headers are unfolded
//! (§7.3.1) and kept raw; the few a UA must trust are validated here, so that every
//! message reaching the transaction layer is well-formed.

mod header;
pub(crate) mod uri;

pub use header::{CSeq, Header, Headers, NameAddr, Via, BRANCH_MAGIC_COOKIE};
pub use uri::{Host, Params, SipUri, Uri};

use std::fmt::Write as _;

use crate::{Method, StatusCode};

/// RFC 3261 §25.1 `token` characters.
pub fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: StatusCode,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipMessage {
    Request(Request),
    Response(Response),
}

/// Why a datagram was not accepted, sorted by what goes back on the wire.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not recognisably SIP (or a broken response): RFC 3261 §18.3 / RFC 4475 say drop it.
    #[error("dropped: {0}")]
    Dropped(String),
    /// A request that a UAS must answer with an error; the raw headers are kept so
    /// the error response can copy Via, From, To, Call-ID and CSeq (§8.2.6.2).
    #[error("bad request: {reason}")]
    BadRequest {
        status: StatusCode,
        reason: String,
        headers: Headers,
    },
}

impl ParseError {
    /// The status to answer with, or `None` when the message is silently dropped.
    /// This is the one place a parse failure maps to the wire.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ParseError::Dropped(_) => None,
            ParseError::BadRequest { status, .. } => Some(*status),
        }
    }
}

const MAX_MESSAGE: usize = 65_535;

impl SipMessage {
    pub fn parse(datagram: &[u8]) -> Result<SipMessage, ParseError> {
        if datagram.len() > MAX_MESSAGE {
            return Err(ParseError::Dropped("datagram too large".into()));
        }
        // RFC 3261 §7.5: implementations SHOULD ignore CRLFs before the start line (keep-alives).
        let start = datagram
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .ok_or_else(|| ParseError::Dropped("empty datagram".into()))?;
        let data = &datagram[start..];
        let (head_end, body_start) =
            find_head_end(data).ok_or_else(|| ParseError::Dropped("no end of headers".into()))?;
        let head = std::str::from_utf8(&data[..head_end])
            .map_err(|_| ParseError::Dropped("headers are not UTF-8".into()))?;
        let mut lines = unfold(head).into_iter();
        let start_line = lines.next().unwrap_or_default();

        let mut headers = Headers::new();
        let mut bad_header = None;
        for line in lines {
            match line.split_once(':') {
                Some((name, value)) if is_header_name(name.trim_end()) => {
                    headers.push(name.trim_end(), value.trim())
                }
                _ => bad_header = Some(line),
            }
        }

        let is_response = start_line.starts_with("SIP/");
        let reject = |reason: String, status: StatusCode, headers: Headers| -> ParseError {
            if is_response {
                ParseError::Dropped(reason)
            } else {
                ParseError::BadRequest {
                    status,
                    reason,
                    headers,
                }
            }
        };
        if let Some(line) = bad_header {
            return Err(reject(
                format!("malformed header line {line:?}"),
                StatusCode::BAD_REQUEST,
                headers,
            ));
        }

        let body = match frame_body(&headers, &data[body_start..]) {
            Ok(b) => b.to_vec(),
            Err(reason) => return Err(reject(reason, StatusCode::BAD_REQUEST, headers)),
        };

        if is_response {
            parse_status_line(&start_line, headers, body).map_err(ParseError::Dropped)
        } else {
            parse_request(&start_line, headers, body)
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            SipMessage::Request(r) => r.to_bytes(),
            SipMessage::Response(r) => r.to_bytes(),
        }
    }
}

fn find_head_end(data: &[u8]) -> Option<(usize, usize)> {
    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
        return Some((i, i + 4));
    }
    // Bare-LF line endings are tolerated on receipt.
    data.windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2))
}

/// Splits the head into logical lines, joining folded continuation lines (§7.3.1).
fn unfold(head: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with([' ', '\t']) && !out.is_empty() {
            let last = out.last_mut().expect("checked non-empty");
            last.push(' ');
            last.push_str(line.trim_start());
        } else {
            out.push(line.to_string());
        }
    }
    out
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_char)
}

fn frame_body<'a>(headers: &Headers, rest: &'a [u8]) -> Result<&'a [u8], String> {
    let mut values = headers.all("Content-Length");
    let Some(first) = values.next() else {
        return Ok(rest);
    };
    // RFC 4475 §3.3.9: conflicting (or repeated) Content-Length values break framing.
    if values.next().is_some() {
        return Err("multiple Content-Length values".into());
    }
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid Content-Length {first:?}"));
    }
    let len: usize = first
        .parse()
        .map_err(|_| format!("Content-Length {first} out of range"))?;
    if len > rest.len() {
        // RFC 4475 §3.1.2.2: over UDP a short body is an error, not a wait.
        return Err(format!(
            "Content-Length {len} exceeds the {} octets received",
            rest.len()
        ));
    }
    Ok(&rest[..len])
}

fn parse_status_line(line: &str, headers: Headers, body: Vec<u8>) -> Result<SipMessage, String> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if version != "SIP/2.0" {
        return Err(format!("unsupported response version {version:?}"));
    }
    let code = parts.next().unwrap_or_default();
    let status = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.parse().ok().and_then(StatusCode::new))
        .flatten()
        .ok_or_else(|| format!("invalid status code {code:?}"))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let response = Response {
        status,
        reason,
        headers,
        body,
    };
    validate_common(&response.headers, None)?;
    Ok(SipMessage::Response(response))
}

fn parse_request(line: &str, headers: Headers, body: Vec<u8>) -> Result<SipMessage, ParseError> {
    let bad = |reason: String, headers: Headers| ParseError::BadRequest {
        status: StatusCode::BAD_REQUEST,
        reason,
        headers,
    };
    // Request-Line = Method SP Request-URI SP SIP-Version (§25.1): exactly single spaces;
    // RFC 4475 §3.1.2.8–3.1.2.10 allow rejecting extra or embedded whitespace.
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, uri, version] = parts[..] else {
        return Err(bad(format!("malformed request line {line:?}"), headers));
    };
    if version != "SIP/2.0" {
        let looks_like_version = version
            .strip_prefix("SIP/")
            .is_some_and(|v| v.split('.').count() == 2);
        return Err(if looks_like_version {
            ParseError::BadRequest {
                status: StatusCode::VERSION_NOT_SUPPORTED,
                reason: format!("SIP version {version} not supported"),
                headers,
            }
        } else {
            bad(format!("malformed request line {line:?}"), headers)
        });
    }
    let Some(method) = Method::parse(method) else {
        return Err(bad(format!("invalid method {method:?}"), headers));
    };
    let Some(uri) = Uri::parse(uri) else {
        return Err(bad(format!("invalid Request-URI {uri:?}"), headers));
    };
    if uri.sip().is_some_and(|u| u.headers.is_some()) {
        // RFC 4475 §3.1.2.11: headers in a Request-URI are never acted on; reject.
        return Err(bad("Request-URI carries escaped headers".into(), headers));
    }
    if let Err(reason) = validate_common(&headers, Some(&method)) {
        return Err(bad(reason, headers));
    }
    Ok(SipMessage::Request(Request {
        method,
        uri,
        headers,
        body,
    }))
}

/// Checks the headers every transaction relies on (RFC 3261 §8.1.1, RFC 4475 §3.3.1, §3.3.8).
fn validate_common(headers: &Headers, method: Option<&Method>) -> Result<(), String> {
    for name in ["Call-ID", "From", "To", "CSeq"] {
        match headers.count(name) {
            1 => {}
            0 => return Err(format!("missing {name}")),
            _ => return Err(format!("more than one {name}")),
        }
    }
    let call_id = headers.get("Call-ID").unwrap_or_default();
    if call_id.is_empty() || call_id.contains(char::is_whitespace) {
        return Err(format!("invalid Call-ID {call_id:?}"));
    }
    for name in ["From", "To"] {
        let v = headers.get(name).unwrap_or_default();
        NameAddr::parse(v).ok_or_else(|| format!("invalid {name} {v:?}"))?;
    }
    let cseq_raw = headers.get("CSeq").unwrap_or_default();
    let cseq = CSeq::parse(cseq_raw).ok_or_else(|| format!("invalid CSeq {cseq_raw:?}"))?;
    if let Some(m) = method {
        if &cseq.method != m {
            return Err(format!("CSeq method {} does not match {m}", cseq.method));
        }
    }
    let mut vias = 0;
    for v in headers.list("Via") {
        Via::parse(v).ok_or_else(|| format!("invalid Via {v:?}"))?;
        vias += 1;
    }
    if vias == 0 {
        return Err("missing Via".into());
    }
    if method.is_some() {
        match headers.count("Max-Forwards") {
            0 => {}
            1 => {
                let mf = headers.get("Max-Forwards").unwrap_or_default();
                let ok = mf.len() <= 5 && mf.bytes().all(|b| b.is_ascii_digit()) && !mf.is_empty();
                if !ok || mf.parse::<u32>().map_or(true, |v| v > 255) {
                    return Err(format!("invalid Max-Forwards {mf:?}"));
                }
            }
            _ => return Err("more than one Max-Forwards".into()),
        }
        for c in headers.list("Contact") {
            if c != "*" && NameAddr::parse(c).is_none() {
                return Err(format!("invalid Contact {c:?}"));
            }
        }
    }
    Ok(())
}

fn write_headers(out: &mut String, headers: &Headers, body: &[u8]) {
    for h in headers.iter() {
        if h.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        let _ = write!(out, "{}: {}\r\n", h.name, h.value);
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
}

macro_rules! common_getters {
    ($t:ty) => {
        impl $t {
            pub fn call_id(&self) -> &str {
                self.headers.get("Call-ID").unwrap_or_default()
            }

            /// Validated at parse time for received messages.
            pub fn cseq(&self) -> Option<CSeq> {
                self.headers.get("CSeq").and_then(CSeq::parse)
            }

            pub fn from(&self) -> Option<NameAddr> {
                self.headers.get("From").and_then(NameAddr::parse)
            }

            pub fn to(&self) -> Option<NameAddr> {
                self.headers.get("To").and_then(NameAddr::parse)
            }

            pub fn top_via(&self) -> Option<Via> {
                self.headers.list("Via").next().and_then(Via::parse)
            }
        }
    };
}
common_getters!(Request);
common_getters!(Response);

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} SIP/2.0\r\n", self.method, self.uri);
        write_headers(&mut out, &self.headers, &self.body);
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("SIP/2.0 {} {}\r\n", self.status, self.reason);
        write_headers(&mut out, &self.headers, &self.body);
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// A response to `headers` of a request (RFC 3261 §8.2.6.2): Via, From, To,
    /// Call-ID and CSeq copied; a To tag is the caller's business.
    pub fn for_request_headers(status: StatusCode, headers: &Headers) -> Response {
        let mut out = Headers::new();
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            for v in headers.all(name) {
                out.push(name, v);
            }
        }
        Response {
            status,
            reason: status.reason().to_string(),
            headers: out,
            body: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK74bf9\r\n\
Max-Forwards: 70\r\n\
From: Alice <sip:alice@127.0.0.1>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@127.0.0.1>\r\n\
Call-ID: 3848276298220188511@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@127.0.0.1:5070>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\n";

    #[test]
    fn request_roundtrip() {
        let SipMessage::Request(r) = SipMessage::parse(INVITE).unwrap() else {
            panic!("not a request")
        };
        assert_eq!(r.method, Method::Invite);
        assert_eq!(r.cseq().unwrap().seq, 1);
        assert_eq!(r.from().unwrap().tag(), Some("9fxced76sl"));
        assert_eq!(r.body, b"v=0\n");
        let again = SipMessage::parse(&r.to_bytes()).unwrap();
        assert_eq!(again, SipMessage::Request(r));
    }

    #[test]
    fn bad_requests_map_to_status() {
        let mut bad_cl = INVITE.to_vec();
        let at = bad_cl
            .windows(17)
            .position(|w| w == b"Content-Length: 4")
            .unwrap();
        bad_cl[at + 16] = b'9';
        let err = SipMessage::parse(&bad_cl).unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));

        let v7 = String::from_utf8_lossy(INVITE).replacen("SIP/2.0\r\n", "SIP/7.0\r\n", 1);
        let err = SipMessage::parse(v7.as_bytes()).unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::VERSION_NOT_SUPPORTED));

        assert!(matches!(
            SipMessage::parse(b"\r\n\r\n"),
            Err(ParseError::Dropped(_))
        ));
        assert!(matches!(
            SipMessage::parse(b"\x00\x01garbage"),
            Err(ParseError::Dropped(_))
        ));
    }

    #[test]
    fn response_status_line() {
        let r = b"SIP/2.0 180 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
        let SipMessage::Response(resp) = SipMessage::parse(r).unwrap() else {
            panic!("not a response")
        };
        assert_eq!(resp.status, StatusCode::RINGING);
        assert_eq!(resp.reason, "");
        let big = String::from_utf8_lossy(r).replacen("180", "4294967301", 1);
        assert!(matches!(
            SipMessage::parse(big.as_bytes()),
            Err(ParseError::Dropped(_))
        ));
    }
}
