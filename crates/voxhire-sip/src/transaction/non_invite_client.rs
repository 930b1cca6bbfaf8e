//! Non-INVITE client transaction (RFC 3261 §17.1.2).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Timer, TimerConfig, Timers, TxOutput};
use crate::message::{Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonInviteClientState {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub struct NonInviteClientTransaction {
    state: NonInviteClientState,
    request: Request,
    wire: Vec<u8>,
    timers: Timers,
    interval: Duration,
    config: TimerConfig,
    out: VecDeque<TxOutput>,
}

impl NonInviteClientTransaction {
    pub fn new(now: Instant, request: Request, config: TimerConfig) -> Self {
        let wire = request.to_bytes();
        let mut timers = Timers::default();
        if config.retransmits() {
            timers.set(Timer::E, now + config.t1);
        }
        timers.set(Timer::F, now + config.t1x64());
        NonInviteClientTransaction {
            state: NonInviteClientState::Trying,
            out: VecDeque::from([TxOutput::Send(wire.clone())]),
            request,
            wire,
            timers,
            interval: config.t1,
            config,
        }
    }

    pub fn state(&self) -> NonInviteClientState {
        self.state
    }

    pub fn request(&self) -> &Request {
        &self.request
    }

    pub fn is_terminated(&self) -> bool {
        self.state == NonInviteClientState::Terminated
    }

    pub fn handle_response(&mut self, now: Instant, response: Response) {
        use NonInviteClientState::*;
        match self.state {
            Trying | Proceeding if response.status.is_provisional() => {
                self.state = Proceeding;
                self.out.push_back(TxOutput::Response(response));
            }
            Trying | Proceeding => {
                self.state = Completed;
                self.timers.clear_all();
                // §17.1.2.2: Timer K = T4 for unreliable transports, zero for
                // reliable ones.
                self.timers
                    .set(Timer::K, now + self.config.absorb(self.config.t4));
                self.out.push_back(TxOutput::Response(response));
            }
            Completed | Terminated => {}
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        use NonInviteClientState::*;
        while let Some(timer) = self.timers.pop_expired(now) {
            match (self.state, timer) {
                (Trying | Proceeding, Timer::E) => {
                    self.out.push_back(TxOutput::Send(self.wire.clone()));
                    // §17.1.2.2: double up to T2 in Trying; T2 flat in Proceeding.
                    self.interval = match self.state {
                        Trying => (self.interval * 2).min(self.config.t2),
                        _ => self.config.t2,
                    };
                    self.timers.set(Timer::E, now + self.interval);
                }
                (Trying | Proceeding, Timer::F) => {
                    self.state = Terminated;
                    self.timers.clear_all();
                    self.out.push_back(TxOutput::Timeout);
                }
                (Completed, Timer::K) => {
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
    use crate::transaction::test_support::{request, response};

    #[test]
    fn timer_e_doubles_to_t2_then_timer_f() {
        let t0 = Instant::now();
        let mut tx = NonInviteClientTransaction::new(t0, request("BYE"), TimerConfig::default());
        assert!(matches!(tx.poll_output(), Some(TxOutput::Send(_))));
        let mut sends = Vec::new();
        let mut timed_out = false;
        while let Some(at) = tx.poll_timeout() {
            tx.handle_timeout(at);
            while let Some(o) = tx.poll_output() {
                match o {
                    TxOutput::Send(_) => sends.push((at - t0).as_millis()),
                    TxOutput::Timeout => timed_out = true,
                    TxOutput::Response(_) => panic!("no response was fed"),
                }
            }
        }
        // 500, +1000, +2000, then every T2 = 4 s until 64·T1 = 32 s.
        assert_eq!(
            sends,
            vec![500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert!(timed_out && tx.is_terminated());
    }

    #[test]
    fn final_response_then_timer_k() {
        let t0 = Instant::now();
        let bye = request("BYE");
        let mut tx = NonInviteClientTransaction::new(t0, bye.clone(), TimerConfig::default());
        tx.poll_output();
        tx.handle_response(t0, response(&bye, 200));
        assert!(matches!(tx.poll_output(), Some(TxOutput::Response(r)) if r.status.code() == 200));
        tx.handle_response(t0, response(&bye, 200));
        assert!(tx.poll_output().is_none(), "retransmitted final absorbed");
        assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_secs(5)));
        tx.handle_timeout(t0 + Duration::from_secs(5));
        assert!(tx.is_terminated());
    }
}
