//! RFC 3261 §17 transactions over an unreliable transport, Sans-IO.
//!
//! Each state machine is fed requests/responses and `now`, and queues what it wants
//! sent and what the transaction user (the UA core) must hear. Timers live in one
//! table ([`Timer`], [`Timers`]); `poll_timeout` returns the earliest deadline.

mod invite_client;
mod invite_server;
mod non_invite_client;
mod non_invite_server;

pub use invite_client::InviteClientTransaction;
pub use invite_server::InviteServerTransaction;
pub use non_invite_client::NonInviteClientTransaction;
pub use non_invite_server::NonInviteServerTransaction;

use std::time::{Duration, Instant};

use crate::message::{Request, Response};
use crate::Method;

/// T1, T2 and T4 (RFC 3261 §17.1.1.1, table 4). Tests may shrink them.
#[derive(Debug, Clone, Copy)]
pub struct TimerConfig {
    /// RTT estimate, 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: Duration,
    /// Maximum time a message remains in the network, 5 s.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: Timer B, F, H, J, L, M (RFC 3261 table 4, RFC 6026).
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// The RFC 3261 table-4 timers (plus RFC 6026's L and M).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// INVITE request retransmit (client).
    A,
    /// INVITE transaction timeout (client).
    B,
    /// Wait for response retransmits after a non-2xx final (INVITE client).
    D,
    /// Non-INVITE request retransmit (client).
    E,
    /// Non-INVITE transaction timeout (client).
    F,
    /// INVITE final response retransmit (server).
    G,
    /// Wait for ACK (server).
    H,
    /// Wait for ACK retransmits (server).
    I,
    /// Wait for non-INVITE request retransmits (server).
    J,
    /// Wait for response retransmits (non-INVITE client).
    K,
    /// Absorb INVITE retransmits after a 2xx (server, RFC 6026).
    L,
    /// Absorb 2xx retransmits (INVITE client, RFC 6026).
    M,
}

const TIMER_COUNT: usize = 12;

/// Deadlines indexed by [`Timer`].
#[derive(Debug, Clone, Default)]
pub struct Timers([Option<Instant>; TIMER_COUNT]);

impl Timers {
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer as usize] = Some(at);
    }

    pub fn clear(&mut self, timer: Timer) {
        self.0[timer as usize] = None;
    }

    pub fn clear_all(&mut self) {
        self.0 = [None; TIMER_COUNT];
    }

    pub fn earliest(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Removes and returns the earliest timer that is due at `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        const ALL: [Timer; TIMER_COUNT] = [
            Timer::A,
            Timer::B,
            Timer::D,
            Timer::E,
            Timer::F,
            Timer::G,
            Timer::H,
            Timer::I,
            Timer::J,
            Timer::K,
            Timer::L,
            Timer::M,
        ];
        let timer = ALL
            .into_iter()
            .filter(|t| self.0[*t as usize].is_some_and(|at| at <= now))
            .min_by_key(|t| self.0[*t as usize])?;
        self.0[timer as usize] = None;
        Some(timer)
    }
}

/// What a transaction asks of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOutput {
    /// Put these bytes on the wire to the transaction's peer.
    Send(Vec<u8>),
    /// A response for the transaction user (client transactions).
    Response(Response),
    /// The transaction gave up: Timer B or F fired (the TU treats it as 408).
    Timeout,
}

/// Identifies a transaction (RFC 3261 §17.1.3 and §17.2.3). The ACK of a non-2xx
/// matches its INVITE's server transaction, so ACK keys as INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionKey {
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: Method,
    },
    /// RFC 2543 peers without the magic cookie (RFC 4475 §3.4.1): match on dialog
    /// identifiers and CSeq number instead (§17.2.3, last paragraphs).
    Rfc2543 {
        call_id: String,
        from_tag: String,
        cseq: u32,
        sent_by: String,
        method: Method,
    },
}

impl TransactionKey {
    fn key_method(method: &Method) -> Method {
        match method {
            Method::Ack => Method::Invite,
            m => m.clone(),
        }
    }

    /// Key of the server transaction a received request belongs to.
    pub fn for_request(request: &Request) -> Option<TransactionKey> {
        let via = request.top_via()?;
        let method = Self::key_method(&request.method);
        if via.has_rfc3261_branch() {
            return Some(TransactionKey::Rfc3261 {
                branch: via.branch()?.to_string(),
                sent_by: via.sent_by(),
                method,
            });
        }
        Some(TransactionKey::Rfc2543 {
            call_id: request.call_id().to_string(),
            from_tag: request.from()?.tag().unwrap_or_default().to_string(),
            cseq: request.cseq()?.seq,
            sent_by: via.sent_by(),
            method,
        })
    }

    /// Key of the client transaction a received response belongs to (§17.1.3).
    pub fn for_response(response: &Response) -> Option<TransactionKey> {
        let via = response.top_via()?;
        Some(TransactionKey::Rfc3261 {
            branch: via.branch()?.to_string(),
            sent_by: via.sent_by(),
            method: response.cseq()?.method,
        })
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::message::{Request, Response, SipMessage};
    use crate::StatusCode;

    pub fn invite() -> Request {
        request("INVITE")
    }

    pub fn request(method: &str) -> Request {
        let raw = format!(
            "{method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKtest1\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n\
             Call-ID: tx-test@127.0.0.1\r\nCSeq: 1 {method}\r\nContact: <sip:alice@127.0.0.1:5070>\r\n\r\n"
        );
        match SipMessage::parse(raw.as_bytes()).expect("test request parses") {
            SipMessage::Request(r) => r,
            SipMessage::Response(_) => unreachable!("built a request"),
        }
    }

    pub fn response(to: &Request, code: u16) -> Response {
        let status = StatusCode::new(code).expect("valid code");
        let mut r = Response::for_request_headers(status, &to.headers);
        if code > 100 {
            let tagged = format!("{};tag=b2", to.headers.get("To").unwrap_or_default());
            r.headers.set("To", tagged);
        }
        r
    }
}
