//! RFC 3261 §17 transactions, Sans-IO. Over an unreliable transport (UDP) requests and
//! final responses are retransmitted (Timers A, E, G) and retransmissions absorbed
//! afterwards (D, I, J, K); over a reliable one (TCP, TLS) neither happens: no
//! retransmission timers, and D, I, J, K are zero ([`TimerConfig::reliable`]).
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
    /// The transaction's messages go over a reliable transport (TCP, TLS): the
    /// transport retransmits, so the transaction does not (RFC 3261 §17.1.1.2,
    /// §17.1.2.2, §17.2.1, §17.2.2).
    pub reliable: bool,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            reliable: false,
        }
    }
}

impl TimerConfig {
    /// 64·T1: Timer B, F, H, J, L, M (RFC 3261 table 4, RFC 6026).
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }

    /// These timers for a transaction over a reliable (`true`) or unreliable
    /// transport.
    #[must_use]
    pub fn over(self, reliable: bool) -> TimerConfig {
        TimerConfig { reliable, ..self }
    }

    /// Whether the transaction retransmits (Timers A, E, G): only over UDP.
    pub fn retransmits(&self) -> bool {
        !self.reliable
    }

    /// How long to absorb retransmissions (Timers D, I, J, K): `unreliable` over
    /// UDP, zero over a reliable transport, which never retransmits.
    pub fn absorb(&self, unreliable: Duration) -> Duration {
        if self.reliable {
            Duration::ZERO
        } else {
            unreliable
        }
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

/// Over TCP or TLS (RFC 3261 §17): no retransmission, nothing to absorb afterwards,
/// the same timeouts (B, F, H) — each case against the same transaction over UDP.
#[cfg(test)]
mod reliable_transport_tests {
    use super::test_support::{invite, request, response};
    use super::*;

    /// Fires `$tx`'s timers up to `$until` after `$t0`; the instants (ms after `$t0`)
    /// it sent something at. (A macro: the four transaction types share no trait.)
    macro_rules! resends {
        ($tx:expr, $t0:expr, $until:expr) => {{
            let mut at_ms = Vec::new();
            while let Some(at) = $tx.poll_timeout().filter(|&at| at <= $t0 + $until) {
                $tx.handle_timeout(at);
                if sends(std::iter::from_fn(|| $tx.poll_output())) > 0 {
                    at_ms.push((at - $t0).as_millis());
                }
            }
            at_ms
        }};
    }

    fn sends(out: impl Iterator<Item = TxOutput>) -> usize {
        out.filter(|o| matches!(o, TxOutput::Send(_))).count()
    }

    #[test]
    fn client_transactions_do_not_retransmit_and_end_at_their_final_response() {
        for reliable in [false, true] {
            let config = TimerConfig::default().over(reliable);
            let t0 = Instant::now();
            // INVITE: Timer A only over UDP; Timer B either way.
            let mut tx = InviteClientTransaction::new(t0, invite(), config);
            while tx.poll_output().is_some() {}
            let resent = resends!(tx, t0, Duration::from_secs(10));
            assert_eq!(
                resent.is_empty(),
                reliable,
                "INVITE retransmits: {resent:?}"
            );
            // A 486 is ACKed; the transaction then waits (Timer D) only over UDP.
            let now = t0 + Duration::from_secs(10);
            tx.handle_response(now, response(&invite(), 486));
            tx.handle_timeout(now);
            assert_eq!(tx.is_terminated(), reliable);

            // Non-INVITE: Timer E only over UDP; after the final, Timer K only over UDP.
            let mut tx = NonInviteClientTransaction::new(t0, request("OPTIONS"), config);
            while tx.poll_output().is_some() {}
            let resent = resends!(tx, t0, Duration::from_secs(10));
            assert_eq!(
                resent.is_empty(),
                reliable,
                "OPTIONS retransmits: {resent:?}"
            );
            tx.handle_response(now, response(&request("OPTIONS"), 200));
            tx.handle_timeout(now);
            assert_eq!(tx.is_terminated(), reliable);
        }
    }

    #[test]
    fn server_transactions_do_not_retransmit_finals_nor_wait_after_them() {
        for reliable in [false, true] {
            let config = TimerConfig::default().over(reliable);
            let t0 = Instant::now();
            // INVITE refused: Timer G only over UDP; after the ACK, Timer I only over UDP.
            let mut tx = InviteServerTransaction::new(invite(), config);
            tx.send_response(t0, &response(&invite(), 486));
            while tx.poll_output().is_some() {}
            let resent = resends!(tx, t0, Duration::from_secs(5));
            assert_eq!(resent.is_empty(), reliable, "486 retransmits: {resent:?}");
            let now = t0 + Duration::from_secs(5);
            assert!(tx.handle_request(now, &request("ACK")));
            tx.handle_timeout(now);
            assert_eq!(tx.is_terminated(), reliable);

            // Non-INVITE answered: Timer J only over UDP.
            let mut tx = NonInviteServerTransaction::new(config);
            tx.send_response(t0, &response(&request("OPTIONS"), 200));
            tx.handle_timeout(t0);
            assert_eq!(tx.is_terminated(), reliable);
        }
    }
}
