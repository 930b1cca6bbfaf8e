//! INVITE server transaction (RFC 3261 §17.2.1, with RFC 6026's Accepted state).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Timer, TimerConfig, Timers, TxOutput};
use crate::message::{Request, Response};
use crate::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteServerState {
    Proceeding,
    /// A non-2xx final was sent; retransmit it until the ACK (Timer G, H).
    Completed,
    /// ACK received; absorb ACK retransmissions (Timer I).
    Confirmed,
    /// RFC 6026 §7.1: a 2xx was sent; absorb INVITE retransmissions (Timer L). The
    /// 2xx itself is retransmitted by the UA core (§13.3.1.4), not here.
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub struct InviteServerTransaction {
    state: InviteServerState,
    invite: Request,
    last_response: Option<Vec<u8>>,
    timers: Timers,
    interval: Duration,
    config: TimerConfig,
    out: VecDeque<TxOutput>,
}

impl InviteServerTransaction {
    /// §17.2.1: the transaction answers 100 Trying itself so the client stops
    /// retransmitting while the TU decides.
    pub fn new(invite: Request, config: TimerConfig) -> Self {
        let trying =
            Response::for_request_headers(crate::StatusCode::TRYING, &invite.headers).to_bytes();
        InviteServerTransaction {
            state: InviteServerState::Proceeding,
            invite,
            out: VecDeque::from([TxOutput::Send(trying.clone())]),
            last_response: Some(trying),
            timers: Timers::default(),
            interval: config.t1,
            config,
        }
    }

    pub fn state(&self) -> InviteServerState {
        self.state
    }

    pub fn request(&self) -> &Request {
        &self.invite
    }

    pub fn is_terminated(&self) -> bool {
        self.state == InviteServerState::Terminated
    }

    /// Whether a final response may still be sent.
    pub fn is_pending(&self) -> bool {
        self.state == InviteServerState::Proceeding
    }

    /// A retransmitted INVITE or an ACK matching this transaction. Returns true
    /// when the request was an ACK that confirms a non-2xx final.
    pub fn handle_request(&mut self, now: Instant, request: &Request) -> bool {
        use InviteServerState::*;
        match (self.state, &request.method) {
            (Proceeding | Completed, Method::Invite) => {
                if let Some(r) = &self.last_response {
                    self.out.push_back(TxOutput::Send(r.clone()));
                }
                false
            }
            (Completed, Method::Ack) => {
                self.state = Confirmed;
                self.timers.clear_all();
                // §17.2.1: Timer I = T4 for unreliable transports, zero for
                // reliable ones.
                self.timers
                    .set(Timer::I, now + self.config.absorb(self.config.t4));
                true
            }
            _ => false,
        }
    }

    /// The TU's response. Provisional ones are retransmitted on request
    /// retransmissions; finals move the state machine.
    pub fn send_response(&mut self, now: Instant, response: &Response) {
        use InviteServerState::*;
        if self.state != Proceeding {
            return;
        }
        let wire = response.to_bytes();
        self.out.push_back(TxOutput::Send(wire.clone()));
        self.last_response = Some(wire);
        if response.status.is_success() {
            self.state = Accepted;
            self.timers.set(Timer::L, now + self.config.t1x64());
        } else if response.status.is_final() {
            self.state = Completed;
            if self.config.retransmits() {
                self.timers.set(Timer::G, now + self.interval);
            }
            self.timers.set(Timer::H, now + self.config.t1x64());
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        use InviteServerState::*;
        while let Some(timer) = self.timers.pop_expired(now) {
            match (self.state, timer) {
                (Completed, Timer::G) => {
                    if let Some(r) = &self.last_response {
                        self.out.push_back(TxOutput::Send(r.clone()));
                    }
                    self.interval = (self.interval * 2).min(self.config.t2);
                    self.timers.set(Timer::G, now + self.interval);
                }
                (Completed, Timer::H) => {
                    // §17.2.1: no ACK arrived; the TU hears of a transaction failure.
                    self.state = Terminated;
                    self.timers.clear_all();
                    self.out.push_back(TxOutput::Timeout);
                }
                (Confirmed, Timer::I) | (Accepted, Timer::L) => {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::test_support::{invite, request, response};

    #[test]
    fn trying_then_final_retransmitted_with_timer_g_until_ack() {
        let t0 = Instant::now();
        let inv = invite();
        let mut tx = InviteServerTransaction::new(inv.clone(), TimerConfig::default());
        assert!(
            matches!(tx.poll_output(), Some(TxOutput::Send(b)) if b.starts_with(b"SIP/2.0 100"))
        );
        // A retransmitted INVITE gets the last provisional again.
        tx.handle_request(t0, &inv);
        assert!(
            matches!(tx.poll_output(), Some(TxOutput::Send(b)) if b.starts_with(b"SIP/2.0 100"))
        );
        tx.send_response(t0, &response(&inv, 486));
        assert!(tx.poll_output().is_some());
        let mut resends = Vec::new();
        for _ in 0..5 {
            let at = tx.poll_timeout().unwrap();
            tx.handle_timeout(at);
            while let Some(TxOutput::Send(_)) = tx.poll_output() {
                resends.push((at - t0).as_millis());
            }
        }
        // G: T1, then doubling, capped at T2 (4 s).
        assert_eq!(resends, vec![500, 1500, 3500, 7500, 11500]);
        assert!(tx.handle_request(t0 + Duration::from_secs(12), &request("ACK")));
        assert_eq!(tx.state(), InviteServerState::Confirmed);
        tx.handle_timeout(t0 + Duration::from_secs(17));
        assert!(tx.is_terminated());
    }

    #[test]
    fn timer_h_without_ack() {
        let t0 = Instant::now();
        let inv = invite();
        let mut tx = InviteServerTransaction::new(inv.clone(), TimerConfig::default());
        tx.send_response(t0, &response(&inv, 603));
        tx.handle_timeout(t0 + Duration::from_secs(32));
        let outs: Vec<_> = std::iter::from_fn(|| tx.poll_output()).collect();
        assert!(outs.contains(&TxOutput::Timeout));
        assert!(tx.is_terminated());
    }

    #[test]
    fn accepted_absorbs_invite_retransmissions() {
        let t0 = Instant::now();
        let inv = invite();
        let mut tx = InviteServerTransaction::new(inv.clone(), TimerConfig::default());
        tx.poll_output();
        tx.send_response(t0, &response(&inv, 200));
        tx.poll_output();
        tx.handle_request(t0, &inv);
        assert!(tx.poll_output().is_none());
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }
}
