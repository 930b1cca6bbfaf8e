//! One call's lifecycle, in either direction, as a Sans-IO state machine.
//!
//! [`Call`] owns the decisions every front door used to make for itself: when
//! the ring timeout gives up, when media starts or moves, when the conversation
//! (a played WAV, an interview) begins, when we hang up, and how the call ended
//! ([`CallOutcome`]). It does no I/O and reads no clock: the driver feeds it the
//! user agent's [`Event`]s and the instants at which things happened
//! (`handle_*`), and carries out what it asks for ([`Call::poll_action`]) until
//! [`Call::end`] says the call is over. Drivers: the outbound interview call
//! ([`crate::interview_call`]), `voxhire call`, and the inbound calls of
//! `voxhire serve`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use voxhire_sip::ua::{Event, Party};

pub use crate::outcome::CallOutcome;

/// How long a BYE may take before we consider the call over anyway: a BYE
/// transaction times out after 64·T1 = 32 s.
const BYE_GRACE: Duration = Duration::from_secs(32);

/// What the driver should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start media toward the far end's SDP (the answer's, or early media's
    /// on a 183). Media that cannot use it is reported with
    /// [`Call::handle_media_refused`].
    StartMedia(Vec<u8>),
    /// The far end's media moved (a later answer, a re-INVITE).
    MoveMedia(Vec<u8>),
    /// The conversation begins: play the WAV, start the interview (outbound:
    /// the call was answered; inbound: our answer was acknowledged).
    Begin,
    /// The conversation must stop: the far end hung up, or we were told to stop.
    StopConversation,
    /// End the call: CANCEL while ringing out, BYE once up, 480 while ringing in.
    HangUp,
}

/// Which timer [`Call::handle_timeout`] found expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Nobody answered in time: CANCEL.
    Ring,
    /// The policy's `hangup_after`: BYE.
    HangupAfter,
    /// Our BYE or CANCEL never completed: the call is over anyway.
    Ending,
}

/// Rules for one call.
#[derive(Debug, Clone, Copy)]
pub struct CallPolicy {
    /// Outbound: give up ringing (CANCEL) after this long.
    pub ring_timeout: Duration,
    /// Hang up this long after the conversation began; `None`: when the
    /// conversation says it is done ([`Call::handle_conversation_done`]) or the
    /// far end hangs up.
    pub hangup_after: Option<Duration>,
    /// Outbound: start media on a provisional response's SDP (early media:
    /// ringback, announcements), not only on the answer.
    pub early_media: bool,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            ring_timeout: Duration::from_secs(30),
            hangup_after: None,
            early_media: false,
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEnd {
    pub outcome: CallOutcome,
    /// The last SIP status seen: 200 once answered, the failure's code otherwise.
    pub sip_status: u16,
    /// The failure's reason phrase, or why we gave up.
    pub reason: String,
    /// Who ended an answered call (`None` if it never was up, or it timed out).
    pub ended_by: Option<Party>,
    /// When the conversation began, if it did.
    pub began_at: Option<Instant>,
    pub ended_at: Instant,
}

#[derive(Debug)]
enum Phase {
    /// Outbound, before the answer. `cancelled`: our CANCEL is out.
    Ringing {
        deadline: Instant,
        cancelled: bool,
    },
    /// Inbound: our 2xx is out, the ACK not yet in.
    Answering,
    /// The conversation runs.
    Up {
        hangup_at: Option<Instant>,
    },
    /// We sent BYE (or CANCEL after being stopped); waiting for the end.
    Ending {
        give_up_at: Instant,
    },
    Done(CallEnd),
}

/// One call's lifecycle. See the module documentation.
#[derive(Debug)]
pub struct Call {
    policy: CallPolicy,
    phase: Phase,
    actions: VecDeque<Action>,
    media_started: bool,
    began_at: Option<Instant>,
    status: u16,
    reason: String,
    /// We were told to stop: a 487 or an end is our doing.
    stopped: bool,
    ring_timed_out: bool,
    /// Set when the call cannot go on for a reason of ours (unusable SDP).
    failure: Option<String>,
}

impl Call {
    /// An outbound call whose INVITE went out at `now`.
    pub fn outbound(now: Instant, policy: CallPolicy) -> Call {
        Call::new(
            policy,
            Phase::Ringing {
                deadline: now + policy.ring_timeout,
                cancelled: false,
            },
        )
    }

    /// An inbound call we answered (2xx with our SDP); media already runs.
    pub fn inbound(policy: CallPolicy) -> Call {
        let mut call = Call::new(policy, Phase::Answering);
        call.media_started = true;
        call.status = 200;
        call
    }

    fn new(policy: CallPolicy, phase: Phase) -> Call {
        Call {
            policy,
            phase,
            actions: VecDeque::new(),
            media_started: false,
            began_at: None,
            status: 0,
            reason: String::new(),
            stopped: false,
            ring_timed_out: false,
            failure: None,
        }
    }

    /// The next thing to do, until there is nothing left.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Call::handle_timeout`] wants to be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Ringing {
                deadline,
                cancelled: false,
            } => Some(*deadline),
            Phase::Up { hangup_at } => *hangup_at,
            Phase::Ending { give_up_at } => Some(*give_up_at),
            _ => None,
        }
    }

    /// How the call ended, once it has.
    pub fn end(&self) -> Option<&CallEnd> {
        match &self.phase {
            Phase::Done(end) => Some(end),
            _ => None,
        }
    }

    /// The conversation is running (begun and not yet over).
    pub fn is_up(&self) -> bool {
        matches!(self.phase, Phase::Up { .. })
    }

    /// An event of the user agent about this call.
    pub fn handle_sip(&mut self, now: Instant, event: &Event) {
        match event {
            Event::Progress { status, sdp, .. } => {
                if matches!(self.phase, Phase::Ringing { .. }) {
                    self.status = status.code();
                    if let Some(sdp) = sdp.as_ref().filter(|_| self.policy.early_media) {
                        self.media(sdp);
                    }
                }
            }
            Event::Answered { sdp, .. } => self.answered(now, sdp),
            Event::Confirmed { .. } => {
                if matches!(self.phase, Phase::Answering) {
                    self.begin(now);
                }
            }
            Event::Failed { status, reason, .. } => {
                self.status = status.code();
                self.reason.clone_from(reason);
                let outcome =
                    CallOutcome::of_failure(status.code(), self.ring_timed_out, self.stopped);
                self.finish(now, outcome, None);
            }
            Event::Cancelled { .. } => {
                self.status = 487;
                self.finish(now, CallOutcome::Cancelled, Some(Party::Remote));
            }
            Event::Ended { by, .. } => {
                if matches!(self.phase, Phase::Up { .. }) {
                    self.actions.push_back(Action::StopConversation);
                }
                let outcome = self.answered_outcome();
                self.finish(now, outcome, Some(*by));
            }
            Event::RemoteSdp { sdp, .. } => {
                if self.media_started {
                    self.actions.push_back(Action::MoveMedia(sdp.clone()));
                }
            }
            Event::IncomingCall { .. }
            | Event::Registered { .. }
            | Event::Unregistered
            | Event::RegistrationFailed { .. } => {}
        }
    }

    /// We were told to stop (Ctrl-C, shutdown, the campaign was cancelled).
    pub fn handle_stop(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        match self.phase {
            Phase::Ringing { .. } | Phase::Answering => {
                self.actions.push_back(Action::HangUp);
                self.phase = Phase::Ending {
                    give_up_at: now + BYE_GRACE,
                };
            }
            Phase::Up { .. } => {
                self.actions.push_back(Action::StopConversation);
                self.hang_up(now);
            }
            Phase::Ending { .. } | Phase::Done(_) => {}
        }
    }

    /// The conversation finished on its own (the WAV played, the interview
    /// said goodbye): hang up.
    pub fn handle_conversation_done(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Up { .. }) {
            self.hang_up(now);
        }
    }

    /// The media could not use the SDP of [`Action::StartMedia`] (no common
    /// codec, no audio): the call fails, and is hung up if it is up.
    pub fn handle_media_refused(&mut self, now: Instant, why: impl Into<String>) {
        let why = why.into();
        self.failure = Some(why.clone());
        self.reason = why;
        match self.phase {
            Phase::Ringing { .. } | Phase::Up { .. } | Phase::Answering => {
                if matches!(self.phase, Phase::Up { .. }) {
                    self.actions.push_back(Action::StopConversation);
                }
                self.hang_up(now);
            }
            Phase::Ending { .. } | Phase::Done(_) => {}
        }
    }

    /// Time passed: the ring timeout, the hang-up time, a BYE that never
    /// completed. Says which expired, if any.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Expired> {
        match self.phase {
            Phase::Ringing {
                deadline,
                cancelled: false,
            } if now >= deadline => {
                self.ring_timed_out = true;
                self.phase = Phase::Ringing {
                    deadline,
                    cancelled: true,
                };
                self.actions.push_back(Action::HangUp);
                Some(Expired::Ring)
            }
            Phase::Up {
                hangup_at: Some(at),
            } if now >= at => {
                self.actions.push_back(Action::StopConversation);
                self.hang_up(now);
                Some(Expired::HangupAfter)
            }
            Phase::Ending { give_up_at } if now >= give_up_at => {
                let outcome = self.answered_outcome();
                self.finish(now, outcome, None);
                Some(Expired::Ending)
            }
            _ => None,
        }
    }

    fn answered(&mut self, now: Instant, sdp: &[u8]) {
        match self.phase {
            Phase::Ringing {
                cancelled: false, ..
            } if !self.stopped => {
                self.status = 200;
                self.media(sdp);
                self.begin(now);
            }
            // Answered as we gave up: the user agent ends it (BYE) and reports
            // the 487; nothing to begin.
            Phase::Ringing { .. } => {}
            // A retransmitted 2xx, or an answer after we were stopped.
            _ => {}
        }
    }

    fn media(&mut self, sdp: &[u8]) {
        if self.media_started {
            self.actions.push_back(Action::MoveMedia(sdp.to_vec()));
        } else {
            self.media_started = true;
            self.actions.push_back(Action::StartMedia(sdp.to_vec()));
        }
    }

    fn begin(&mut self, now: Instant) {
        self.began_at = Some(now);
        self.phase = Phase::Up {
            hangup_at: self.policy.hangup_after.map(|d| now + d),
        };
        self.actions.push_back(Action::Begin);
    }

    fn hang_up(&mut self, now: Instant) {
        self.actions.push_back(Action::HangUp);
        self.phase = Phase::Ending {
            give_up_at: now + BYE_GRACE,
        };
    }

    /// The outcome of a call that got as far as being answered (or that we
    /// abandoned): what stopped it decides.
    fn answered_outcome(&self) -> CallOutcome {
        if self.failure.is_some() {
            CallOutcome::Failed
        } else if self.stopped {
            CallOutcome::Cancelled
        } else if self.began_at.is_some() {
            CallOutcome::Answered
        } else if self.ring_timed_out {
            CallOutcome::NoAnswer
        } else {
            CallOutcome::Failed
        }
    }

    fn finish(&mut self, now: Instant, outcome: CallOutcome, by: Option<Party>) {
        if matches!(self.phase, Phase::Done(_)) {
            return;
        }
        let outcome = match self.failure {
            Some(_) => CallOutcome::Failed,
            None => outcome,
        };
        self.phase = Phase::Done(CallEnd {
            outcome,
            sip_status: self.status,
            reason: self.reason.clone(),
            ended_by: by,
            began_at: self.began_at,
            ended_at: now,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxhire_sip::ua::CallHandle;
    use voxhire_sip::StatusCode;

    fn handle() -> CallHandle {
        CallHandle(1)
    }

    fn drain(call: &mut Call) -> Vec<Action> {
        std::iter::from_fn(|| call.poll_action()).collect()
    }

    fn failed(code: u16) -> Event {
        Event::Failed {
            call: handle(),
            status: StatusCode::new(code).unwrap(),
            reason: String::new(),
        }
    }

    fn answered() -> Event {
        Event::Answered {
            call: handle(),
            sdp: b"answer".to_vec(),
            dialog: voxhire_sip::dialog::DialogState {
                call_id: "c".into(),
                local_tag: "l".into(),
                remote_tag: "r".into(),
                local_uri: "<sip:voxhire@127.0.0.1>".into(),
                remote_uri: "<sip:alice@127.0.0.1>".into(),
                local_seq: 1,
                remote_target: "sip:alice@127.0.0.1:5070".into(),
                route_set: Vec::new(),
                peer: "127.0.0.1:5070".parse().unwrap(),
            },
        }
    }

    fn ended(by: Party) -> Event {
        Event::Ended { call: handle(), by }
    }

    fn policy() -> CallPolicy {
        CallPolicy {
            ring_timeout: Duration::from_secs(20),
            ..CallPolicy::default()
        }
    }

    #[test]
    fn an_answered_call_starts_media_begins_and_ends_when_the_far_end_hangs_up() {
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        assert_eq!(call.poll_timeout(), Some(t0 + Duration::from_secs(20)));
        call.handle_sip(t0 + Duration::from_secs(2), &answered());
        assert_eq!(
            drain(&mut call),
            [Action::StartMedia(b"answer".to_vec()), Action::Begin]
        );
        assert!(call.is_up());
        assert_eq!(call.poll_timeout(), None, "no ring timeout once answered");
        call.handle_sip(t0 + Duration::from_secs(2), &answered()); // retransmitted 2xx
        assert_eq!(drain(&mut call), []);
        call.handle_sip(t0 + Duration::from_secs(60), &ended(Party::Remote));
        assert_eq!(drain(&mut call), [Action::StopConversation]);
        let end = call.end().expect("ended");
        assert_eq!(end.outcome, CallOutcome::Answered);
        assert_eq!(end.sip_status, 200);
        assert_eq!(end.ended_by, Some(Party::Remote));
        assert_eq!(end.began_at, Some(t0 + Duration::from_secs(2)));
    }

    #[test]
    fn every_final_failure_class_maps_to_its_outcome() {
        let cases = [
            (301, CallOutcome::Failed), // a redirect we do not follow: a routing problem
            (302, CallOutcome::Failed),
            (404, CallOutcome::Rejected),
            (403, CallOutcome::Rejected),
            (486, CallOutcome::Busy),
            (480, CallOutcome::NoAnswer),
            (408, CallOutcome::Failed),
            (487, CallOutcome::Cancelled), // the far end gave up the transaction
            (500, CallOutcome::Failed),
            (503, CallOutcome::Failed),
            (600, CallOutcome::Busy),
            (603, CallOutcome::Rejected),
        ];
        for (code, want) in cases {
            let t0 = Instant::now();
            let mut call = Call::outbound(t0, policy());
            call.handle_sip(t0, &failed(code));
            let end = call.end().expect("ended");
            assert_eq!((code, end.outcome), (code, want));
            assert_eq!(end.sip_status, code);
            assert_eq!(end.began_at, None);
        }
    }

    #[test]
    fn the_ring_timeout_cancels_and_the_487_is_no_answer() {
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_sip(
            t0,
            &Event::Progress {
                call: handle(),
                status: StatusCode::new(180).unwrap(),
                sdp: None,
            },
        );
        assert_eq!(call.handle_timeout(t0 + Duration::from_secs(19)), None);
        assert_eq!(drain(&mut call), [], "not yet");
        assert_eq!(
            call.handle_timeout(t0 + Duration::from_secs(20)),
            Some(Expired::Ring)
        );
        assert_eq!(drain(&mut call), [Action::HangUp]);
        assert_eq!(call.poll_timeout(), None, "CANCEL sent once");
        call.handle_timeout(t0 + Duration::from_secs(21));
        assert_eq!(drain(&mut call), []);
        call.handle_sip(t0 + Duration::from_secs(21), &failed(487));
        assert_eq!(call.end().unwrap().outcome, CallOutcome::NoAnswer);
    }

    #[test]
    fn an_answer_crossing_our_cancel_begins_nothing_and_is_no_answer() {
        // The user agent BYEs a 2xx that crossed our CANCEL and reports 487
        // "answered while cancelling"; the call never begins.
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_timeout(t0 + Duration::from_secs(20));
        assert_eq!(drain(&mut call), [Action::HangUp]);
        call.handle_sip(t0 + Duration::from_secs(20), &answered());
        assert_eq!(drain(&mut call), []);
        call.handle_sip(t0 + Duration::from_secs(20), &failed(487));
        let end = call.end().unwrap();
        assert_eq!(end.outcome, CallOutcome::NoAnswer);
        assert_eq!(end.began_at, None);
    }

    #[test]
    fn a_408_after_our_cancel_is_no_answer_but_on_its_own_a_failure() {
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_timeout(t0 + Duration::from_secs(20));
        call.handle_sip(t0 + Duration::from_secs(52), &failed(408));
        assert_eq!(call.end().unwrap().outcome, CallOutcome::NoAnswer);
    }

    #[test]
    fn stopping_while_ringing_cancels_and_is_cancelled() {
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_stop(t0);
        assert_eq!(drain(&mut call), [Action::HangUp]);
        call.handle_stop(t0);
        assert_eq!(drain(&mut call), [], "stop is idempotent");
        call.handle_sip(t0, &failed(487));
        assert_eq!(call.end().unwrap().outcome, CallOutcome::Cancelled);
    }

    #[test]
    fn stopping_an_answered_call_stops_the_conversation_and_says_bye() {
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_sip(t0, &answered());
        drain(&mut call);
        call.handle_stop(t0 + Duration::from_secs(5));
        assert_eq!(drain(&mut call), [Action::StopConversation, Action::HangUp]);
        call.handle_sip(t0 + Duration::from_secs(5), &ended(Party::Local));
        assert_eq!(drain(&mut call), [], "already stopped");
        assert_eq!(call.end().unwrap().outcome, CallOutcome::Cancelled);
    }

    #[test]
    fn a_finished_conversation_hangs_up_and_a_lost_bye_still_ends_the_call() {
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_sip(t0, &answered());
        drain(&mut call);
        call.handle_conversation_done(t0 + Duration::from_secs(90));
        assert_eq!(drain(&mut call), [Action::HangUp]);
        let give_up = call.poll_timeout().expect("a BYE guard");
        assert_eq!(give_up, t0 + Duration::from_secs(90) + BYE_GRACE);
        assert_eq!(call.handle_timeout(give_up), Some(Expired::Ending));
        let end = call.end().expect("over after the guard");
        assert_eq!(end.outcome, CallOutcome::Answered);
        assert_eq!(end.ended_by, None);
    }

    #[test]
    fn hangup_after_ends_the_conversation_on_time() {
        let t0 = Instant::now();
        let mut call = Call::outbound(
            t0,
            CallPolicy {
                hangup_after: Some(Duration::from_secs(10)),
                ..policy()
            },
        );
        call.handle_sip(t0 + Duration::from_secs(3), &answered());
        drain(&mut call);
        assert_eq!(call.poll_timeout(), Some(t0 + Duration::from_secs(13)));
        call.handle_timeout(t0 + Duration::from_secs(13));
        assert_eq!(drain(&mut call), [Action::StopConversation, Action::HangUp]);
        call.handle_sip(t0 + Duration::from_secs(13), &ended(Party::Local));
        assert_eq!(call.end().unwrap().outcome, CallOutcome::Answered);
    }

    #[test]
    fn early_media_starts_on_a_183_only_when_asked_for() {
        let progress = Event::Progress {
            call: handle(),
            status: StatusCode::new(183).unwrap(),
            sdp: Some(b"early".to_vec()),
        };
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_sip(t0, &progress);
        assert_eq!(drain(&mut call), []);

        let mut call = Call::outbound(
            t0,
            CallPolicy {
                early_media: true,
                ..policy()
            },
        );
        call.handle_sip(t0, &progress);
        assert_eq!(drain(&mut call), [Action::StartMedia(b"early".to_vec())]);
        call.handle_sip(t0, &answered());
        assert_eq!(
            drain(&mut call),
            [Action::MoveMedia(b"answer".to_vec()), Action::Begin]
        );
    }

    #[test]
    fn an_unusable_answer_fails_the_call_and_hangs_up() {
        let t0 = Instant::now();
        let mut call = Call::outbound(t0, policy());
        call.handle_sip(t0, &answered());
        drain(&mut call);
        call.handle_media_refused(t0, "no common codec");
        assert_eq!(drain(&mut call), [Action::StopConversation, Action::HangUp]);
        call.handle_sip(t0, &ended(Party::Local));
        let end = call.end().unwrap();
        assert_eq!(end.outcome, CallOutcome::Failed);
        assert_eq!(end.reason, "no common codec");
    }

    #[test]
    fn an_inbound_call_begins_on_the_ack_and_a_cancel_before_it_is_cancelled() {
        let t0 = Instant::now();
        let mut call = Call::inbound(CallPolicy::default());
        assert_eq!(call.poll_timeout(), None, "no ring timeout inbound");
        call.handle_sip(t0, &Event::Confirmed { call: handle() });
        assert_eq!(drain(&mut call), [Action::Begin]);
        call.handle_conversation_done(t0 + Duration::from_secs(30));
        assert_eq!(drain(&mut call), [Action::HangUp]);
        call.handle_sip(t0 + Duration::from_secs(30), &ended(Party::Local));
        assert_eq!(call.end().unwrap().outcome, CallOutcome::Answered);

        let mut call = Call::inbound(CallPolicy::default());
        call.handle_sip(t0, &Event::Cancelled { call: handle() });
        let end = call.end().unwrap();
        assert_eq!((end.outcome, end.sip_status), (CallOutcome::Cancelled, 487));
    }

    #[test]
    fn a_re_invite_moves_running_media() {
        let t0 = Instant::now();
        let mut call = Call::inbound(CallPolicy::default());
        call.handle_sip(
            t0,
            &Event::RemoteSdp {
                call: handle(),
                sdp: b"moved".to_vec(),
            },
        );
        assert_eq!(drain(&mut call), [Action::MoveMedia(b"moved".to_vec())]);
    }
}
