//! Non-INVITE server transaction (RFC 3261 §17.2.2).

use std::collections::VecDeque;
use std::time::Instant;

use super::{Timer, TimerConfig, Timers, TxOutput};
use crate::message::Response;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonInviteServerState {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub struct NonInviteServerTransaction {
    state: NonInviteServerState,
    last_response: Option<Vec<u8>>,
    timers: Timers,
    config: TimerConfig,
    out: VecDeque<TxOutput>,
}

impl NonInviteServerTransaction {
    pub fn new(config: TimerConfig) -> Self {
        NonInviteServerTransaction {
            state: NonInviteServerState::Trying,
            last_response: None,
            timers: Timers::default(),
            config,
            out: VecDeque::new(),
        }
    }

    pub fn state(&self) -> NonInviteServerState {
        self.state
    }

    pub fn is_terminated(&self) -> bool {
        self.state == NonInviteServerState::Terminated
    }

    /// A retransmission of the request: re-send the last response, if any (§17.2.2).
    pub fn handle_retransmission(&mut self) {
        if let Some(r) = &self.last_response {
            self.out.push_back(TxOutput::Send(r.clone()));
        }
    }

    pub fn send_response(&mut self, now: Instant, response: &Response) {
        use NonInviteServerState::*;
        if matches!(self.state, Completed | Terminated) {
            return;
        }
        let wire = response.to_bytes();
        self.out.push_back(TxOutput::Send(wire.clone()));
        self.last_response = Some(wire);
        if response.status.is_final() {
            self.state = Completed;
            // Timer J = 64·T1 for unreliable transports, zero for reliable ones.
            self.timers
                .set(Timer::J, now + self.config.absorb(self.config.t1x64()));
        } else {
            self.state = Proceeding;
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_expired(now) {
            if (self.state, timer) == (NonInviteServerState::Completed, Timer::J) {
                self.state = NonInviteServerState::Terminated;
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
    use std::time::Duration;

    use super::*;
    use crate::transaction::test_support::{request, response};

    #[test]
    fn absorbs_retransmissions_until_timer_j() {
        let t0 = Instant::now();
        let bye = request("BYE");
        let mut tx = NonInviteServerTransaction::new(TimerConfig::default());
        tx.handle_retransmission();
        assert!(
            tx.poll_output().is_none(),
            "nothing to repeat before the TU answers"
        );
        tx.send_response(t0, &response(&bye, 200));
        assert!(tx.poll_output().is_some());
        tx.handle_retransmission();
        assert!(
            matches!(tx.poll_output(), Some(TxOutput::Send(b)) if b.starts_with(b"SIP/2.0 200"))
        );
        tx.handle_timeout(t0 + Duration::from_secs(31));
        assert!(!tx.is_terminated());
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }
}
