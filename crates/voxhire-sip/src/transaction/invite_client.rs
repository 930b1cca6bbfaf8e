//! INVITE client transaction (RFC 3261 §17.1.1, with RFC 6026's Accepted state).

use std::time::Instant;

use super::{Timer, TimerConfig, Timers, TxOutput};
use crate::message::{Request, Response};
use crate::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteClientState {
    Calling,
    Proceeding,
    /// RFC 6026 §7.2: a 2xx was passed up; further 2xx retransmissions go to the TU
    /// (which re-sends its ACK) until Timer M.
    Accepted,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub struct InviteClientTransaction {
    state: InviteClientState,
    invite: Request,
    wire: Vec<u8>,
    ack: Option<Vec<u8>>,
    timers: Timers,
    next_a: std::time::Duration,
    config: TimerConfig,
    out: std::collections::VecDeque<TxOutput>,
}

impl InviteClientTransaction {
    /// Starts the transaction: the INVITE is queued for sending, Timers A and B armed.
    pub fn new(now: Instant, invite: Request, config: TimerConfig) -> Self {
        let wire = invite.to_bytes();
        let mut timers = Timers::default();
        if config.retransmits() {
            timers.set(Timer::A, now + config.t1);
        }
        timers.set(Timer::B, now + config.t1x64());
        let mut out = std::collections::VecDeque::new();
        out.push_back(TxOutput::Send(wire.clone()));
        InviteClientTransaction {
            state: InviteClientState::Calling,
            invite,
            wire,
            ack: None,
            timers,
            next_a: config.t1 * 2,
            config,
            out,
        }
    }

    pub fn state(&self) -> InviteClientState {
        self.state
    }

    pub fn request(&self) -> &Request {
        &self.invite
    }

    pub fn is_terminated(&self) -> bool {
        self.state == InviteClientState::Terminated
    }

    pub fn handle_response(&mut self, now: Instant, response: Response) {
        use InviteClientState::*;
        let status = response.status;
        match self.state {
            Calling | Proceeding if status.is_provisional() => {
                self.state = Proceeding;
                // §17.1.1.2: a provisional response stops retransmissions.
                self.timers.clear(Timer::A);
                self.timers.clear(Timer::B);
                self.out.push_back(TxOutput::Response(response));
            }
            Calling | Proceeding if status.is_success() => {
                self.state = Accepted;
                self.timers.clear_all();
                self.timers.set(Timer::M, now + self.config.t1x64());
                self.out.push_back(TxOutput::Response(response));
            }
            Calling | Proceeding => {
                self.state = Completed;
                self.timers.clear_all();
                // §17.1.1.2: Timer D is at least 32 s for unreliable transports,
                // zero for reliable ones.
                let d = self.config.absorb(std::time::Duration::from_secs(32));
                self.timers.set(Timer::D, now + d);
                let ack = self.build_ack(&response).to_bytes();
                self.out.push_back(TxOutput::Send(ack.clone()));
                self.ack = Some(ack);
                self.out.push_back(TxOutput::Response(response));
            }
            Accepted if status.is_success() => self.out.push_back(TxOutput::Response(response)),
            Completed if status.is_final() && !status.is_success() => {
                if let Some(ack) = &self.ack {
                    self.out.push_back(TxOutput::Send(ack.clone()));
                }
            }
            Accepted | Completed | Terminated => {}
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        use InviteClientState::*;
        while let Some(timer) = self.timers.pop_expired(now) {
            match (self.state, timer) {
                (Calling, Timer::A) => {
                    self.out.push_back(TxOutput::Send(self.wire.clone()));
                    self.timers.set(Timer::A, now + self.next_a);
                    self.next_a *= 2;
                }
                (Calling, Timer::B) => {
                    self.state = Terminated;
                    self.timers.clear_all();
                    self.out.push_back(TxOutput::Timeout);
                }
                (Completed, Timer::D) | (Accepted, Timer::M) => {
                    self.state = Terminated;
                    self.timers.clear_all();
                }
                _ => {}
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    pub fn poll_output(&mut self) -> Option<TxOutput> {
        self.out.pop_front()
    }

    /// §17.1.1.3: the ACK for a non-2xx final shares the INVITE's branch, Request-URI,
    /// Call-ID, From, Route and CSeq number; its To is the response's (with tag).
    fn build_ack(&self, response: &Response) -> Request {
        let mut ack = Request {
            method: Method::Ack,
            uri: self.invite.uri.clone(),
            headers: crate::message::Headers::new(),
            body: Vec::new(),
        };
        if let Some(via) = self.invite.headers.list("Via").next() {
            ack.headers.push("Via", via);
        }
        ack.headers.push("Max-Forwards", "70");
        for name in ["From", "Call-ID"] {
            if let Some(v) = self.invite.headers.get(name) {
                ack.headers.push(name, v);
            }
        }
        ack.headers
            .push("To", response.headers.get("To").unwrap_or_default());
        let seq = self.invite.cseq().map(|c| c.seq).unwrap_or_default();
        ack.headers.push("CSeq", format!("{seq} ACK"));
        for route in self.invite.headers.all("Route") {
            ack.headers.push("Route", route);
        }
        ack
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::message::SipMessage;
    use crate::transaction::test_support::{invite, response};

    fn drain(tx: &mut InviteClientTransaction) -> Vec<TxOutput> {
        std::iter::from_fn(|| tx.poll_output()).collect()
    }

    #[test]
    fn timer_a_doubles_until_timer_b() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, invite(), TimerConfig::default());
        assert_eq!(drain(&mut tx).len(), 1);
        let mut sends_at = Vec::new();
        let mut now = t0;
        while let Some(at) = tx.poll_timeout() {
            now = at;
            tx.handle_timeout(now);
            for o in drain(&mut tx) {
                match o {
                    TxOutput::Send(_) => sends_at.push((now - t0).as_millis()),
                    TxOutput::Timeout => assert_eq!((now - t0).as_millis(), 32_000),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        // RFC 3261 §17.1.1.2: retransmit at T1, 3T1, 7T1, … (INVITE intervals are not capped at T2).
        assert_eq!(sends_at, vec![500, 1500, 3500, 7500, 15500, 31500]);
        assert!(tx.is_terminated());
        assert_eq!(now - t0, Duration::from_secs(32));
    }

    #[test]
    fn non_2xx_is_acked_and_retransmits_reacked() {
        let t0 = Instant::now();
        let inv = invite();
        let mut tx = InviteClientTransaction::new(t0, inv.clone(), TimerConfig::default());
        drain(&mut tx);
        tx.handle_response(t0, response(&inv, 180));
        assert_eq!(tx.state(), InviteClientState::Proceeding);
        assert!(matches!(drain(&mut tx)[..], [TxOutput::Response(_)]));
        tx.handle_response(t0, response(&inv, 486));
        let out = drain(&mut tx);
        let TxOutput::Send(ack) = &out[0] else {
            panic!("expected ACK first: {out:?}")
        };
        let SipMessage::Request(ack) = SipMessage::parse(ack).unwrap() else {
            panic!()
        };
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKtest1"));
        assert_eq!(ack.to().unwrap().tag(), Some("b2"));
        assert_eq!(ack.cseq().unwrap().to_string(), "1 ACK");
        assert!(matches!(&out[1], TxOutput::Response(r) if r.status.code() == 486));
        // Retransmitted 486: ACK again, TU not bothered.
        tx.handle_response(t0 + Duration::from_secs(1), response(&inv, 486));
        assert!(matches!(drain(&mut tx)[..], [TxOutput::Send(_)]));
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }

    #[test]
    fn retransmitted_2xx_reach_the_tu_until_timer_m() {
        let t0 = Instant::now();
        let inv = invite();
        let mut tx = InviteClientTransaction::new(t0, inv.clone(), TimerConfig::default());
        drain(&mut tx);
        tx.handle_response(t0, response(&inv, 200));
        tx.handle_response(t0 + Duration::from_millis(500), response(&inv, 200));
        assert_eq!(drain(&mut tx).len(), 2);
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }
}
