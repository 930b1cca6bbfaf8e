//! When the simulated candidate talks: a Sans-IO turn-taker fed the VAD's verdict on
//! the agent's audio and the time, emitting "take turn i" and "hang up".
//!
//! The agent's turn is over when, since the candidate's last action ended, the
//! agent has spoken for at least `min_speech` and has then been silent for `gap`
//! (measured on analysed audio, not on the wall clock, so a late VAD chunk never
//! makes the candidate talk over speech it has not heard yet). A barge-in turn
//! instead starts `barge_in_after` past the agent's first speech onset.
//!
//! ```ignore
//! // (The root crate is a binary, so this is not run as a doctest; the unit tests
//! // below drive the same loop.)
//! let start = Instant::now();
//! let mut t = TurnTaker::new(TurnConfig::default(), vec![Plan::act(None)], start);
//! let chunk = Duration::from_millis(32);
//! for i in 0..40 {
//!     // 0.64 s of agent speech, then silence.
//!     t.handle_vad(start + chunk * i, chunk, i < 20);
//! }
//! assert_eq!(t.poll_output(), Some(Output::Take { turn: 0 }));
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct TurnConfig {
    /// Agent speech needed (since our last action) before its silence ends its turn:
    /// a cough or a click must not hand us the floor.
    pub min_speech: Duration,
    /// Agent silence that ends its turn.
    pub gap: Duration,
    /// Hang up when the agent has said nothing for this long, and this long after
    /// our last turn if the agent never hangs up.
    pub idle_timeout: Duration,
}

impl Default for TurnConfig {
    fn default() -> Self {
        TurnConfig {
            min_speech: Duration::from_millis(300),
            gap: Duration::from_millis(600),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// What one scripted turn asks of the turn-taker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub barge_in_after: Option<Duration>,
    pub kind: PlanKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    /// The driver plays audio or sends DTMF and calls [`TurnTaker::action_done`].
    Act,
    /// Say nothing for this long, then listen again.
    Silence(Duration),
    /// The driver hangs up; nothing follows.
    Hangup,
}

impl Plan {
    #[cfg(test)]
    pub fn act(barge_in_after: Option<Duration>) -> Plan {
        Plan {
            barge_in_after,
            kind: PlanKind::Act,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Do turn `turn` now.
    Take { turn: usize },
    /// Hang up: the agent went quiet for the idle timeout, or never hung up after
    /// our last turn.
    HangUp { after_last_turn: bool },
}

/// An agent speech segment (pauses shorter than `gap` merged), in ms since the call start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
}

/// How long the agent took to start talking after one of our answers ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Response {
    pub turn: usize,
    /// End of our speech (ms since the call start).
    pub answer_end_ms: u64,
    /// The agent's first speech onset after it (ms since the call start).
    pub agent_onset_ms: u64,
    pub latency_ms: u64,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Listening for the end of the agent's turn before taking turn `next`.
    Waiting {
        next: usize,
    },
    /// The driver is carrying out turn `turn`.
    Acting {
        turn: usize,
    },
    /// A silence turn: nothing until `until`, then wait for turn `next`.
    Holding {
        next: usize,
        until: Instant,
    },
    /// Every turn taken: the agent should hang up.
    Done {
        since: Instant,
    },
    Ended,
}

#[derive(Debug)]
pub struct TurnTaker {
    config: TurnConfig,
    plans: Vec<Plan>,
    start: Instant,
    phase: Phase,
    /// Agent speech only counts from here (the end of our last action).
    since: Instant,
    /// Agent speech since `since`.
    speech: Duration,
    /// Onset of the first agent speech since `since` (barge-in counts from it).
    onset: Option<Instant>,
    /// End of the last analysed chunk of agent speech.
    last_speech_end: Option<Instant>,
    /// End of the audio the VAD has judged so far.
    analysed_until: Instant,
    open_segment: Option<(Instant, Instant)>,
    segments: Vec<Segment>,
    /// Our last answer's speech end, waiting for the agent's reply onset.
    awaiting_reply: Option<(usize, Instant)>,
    responses: Vec<Response>,
    taken: usize,
    outputs: VecDeque<Output>,
}

impl TurnTaker {
    /// `start` is the call's answer time: the agent is expected to speak first.
    pub fn new(config: TurnConfig, plans: Vec<Plan>, start: Instant) -> TurnTaker {
        let phase = if plans.is_empty() {
            Phase::Done { since: start }
        } else {
            Phase::Waiting { next: 0 }
        };
        TurnTaker {
            config,
            plans,
            start,
            phase,
            since: start,
            speech: Duration::ZERO,
            onset: None,
            last_speech_end: None,
            analysed_until: start,
            open_segment: None,
            segments: Vec::new(),
            awaiting_reply: None,
            responses: Vec::new(),
            taken: 0,
            outputs: VecDeque::new(),
        }
    }

    // Getters.

    /// Turns started so far.
    pub fn turns_taken(&self) -> usize {
        self.taken
    }

    #[cfg(test)]
    pub fn all_turns_taken(&self) -> bool {
        self.taken == self.plans.len()
    }

    /// Agent speech segments, the one in progress included.
    pub fn segments(&self) -> Vec<Segment> {
        let mut out = self.segments.clone();
        if let Some((s, e)) = self.open_segment {
            out.push(self.segment(s, e));
        }
        out
    }

    pub fn responses(&self) -> &[Response] {
        &self.responses
    }

    // Inputs.

    /// The VAD's verdict on the chunk of agent audio `[at, at + len)`.
    pub fn handle_vad(&mut self, at: Instant, len: Duration, is_speech: bool) {
        let end = at + len;
        self.analysed_until = self.analysed_until.max(end);
        if is_speech {
            self.heard_speech(at, end);
        } else if let Some((s, e)) = self.open_segment {
            if end.saturating_duration_since(e) >= self.config.gap {
                self.segments.push(self.segment(s, e));
                self.open_segment = None;
            }
        }
        if let Phase::Waiting { next } = self.phase {
            let turn_over = self.speech >= self.config.min_speech
                && self.last_speech_end.is_some_and(|e| {
                    self.analysed_until.saturating_duration_since(e) >= self.config.gap
                });
            if turn_over {
                self.take(next, self.analysed_until);
            }
        }
        self.handle_timeout(end);
    }

    /// Our action for the current turn finished at `now`; our speech in it ended at
    /// `speech_end` (before `now` by the answer's trailing silence).
    pub fn action_done(&mut self, now: Instant, speech_end: Instant) {
        if let Phase::Acting { turn } = self.phase {
            self.awaiting_reply = Some((turn, speech_end));
            self.listen_from(now, turn + 1);
        }
    }

    /// The call ended (either side hung up): no more outputs.
    pub fn handle_ended(&mut self) {
        self.phase = Phase::Ended;
        self.outputs.clear();
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Waiting { next } => {
                let barge_in = self.plans[next]
                    .barge_in_after
                    .zip(self.onset)
                    .is_some_and(|(after, onset)| now >= onset + after);
                if barge_in {
                    self.take(next, now);
                } else if now >= self.idle_deadline() {
                    self.hang_up(false);
                }
            }
            // No reset: the reprompt that began during our silence is our cue.
            Phase::Holding { next, until } if now >= until => self.wait_for(next, now),
            Phase::Done { since } if now >= since + self.config.idle_timeout => self.hang_up(true),
            _ => {}
        }
    }

    // Outputs.

    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`TurnTaker::handle_timeout`] next has something to do.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting { next } => {
                let barge_in = self.plans[next]
                    .barge_in_after
                    .zip(self.onset)
                    .map(|(after, onset)| onset + after);
                let idle = self.idle_deadline();
                Some(barge_in.map_or(idle, |b| b.min(idle)))
            }
            Phase::Holding { until, .. } => Some(until),
            Phase::Done { since } => Some(since + self.config.idle_timeout),
            Phase::Acting { .. } | Phase::Ended => None,
        }
    }

    // Internals.

    fn heard_speech(&mut self, at: Instant, end: Instant) {
        self.open_segment = Some(match self.open_segment {
            Some((s, _)) => (s, end),
            None => (at, end),
        });
        self.last_speech_end = Some(end);
        if at >= self.since {
            self.speech += end - at;
            self.onset.get_or_insert(at);
        }
        if let Some((turn, answer_end)) = self.awaiting_reply {
            if at >= answer_end {
                self.awaiting_reply = None;
                let (answer_end_ms, agent_onset_ms) = (self.ms(answer_end), self.ms(at));
                self.responses.push(Response {
                    turn,
                    answer_end_ms,
                    agent_onset_ms,
                    // From the rounded figures, so the three always add up.
                    latency_ms: agent_onset_ms.saturating_sub(answer_end_ms),
                });
            }
        }
    }

    fn take(&mut self, turn: usize, now: Instant) {
        self.taken = turn + 1;
        self.outputs.push_back(Output::Take { turn });
        self.phase = match self.plans[turn].kind {
            PlanKind::Act => Phase::Acting { turn },
            PlanKind::Silence(d) => {
                // The agent's no-input reprompt may start during the silence: count
                // its speech from now, so the reprompt's end is our next cue.
                self.reset_listening(now);
                Phase::Holding {
                    next: turn + 1,
                    until: now + d,
                }
            }
            PlanKind::Hangup => Phase::Ended,
        };
        if matches!(self.phase, Phase::Holding { .. }) && turn + 1 == self.plans.len() {
            self.phase = Phase::Done { since: now };
        }
    }

    fn listen_from(&mut self, now: Instant, next: usize) {
        self.reset_listening(now);
        self.wait_for(next, now);
    }

    fn wait_for(&mut self, next: usize, now: Instant) {
        self.phase = if next < self.plans.len() {
            Phase::Waiting { next }
        } else {
            Phase::Done { since: now }
        };
    }

    fn reset_listening(&mut self, now: Instant) {
        self.since = now;
        self.speech = Duration::ZERO;
        self.onset = None;
    }

    fn hang_up(&mut self, after_last_turn: bool) {
        self.phase = Phase::Ended;
        self.outputs.push_back(Output::HangUp { after_last_turn });
    }

    fn idle_deadline(&self) -> Instant {
        let last = self
            .last_speech_end
            .map_or(self.since, |e| e.max(self.since));
        last + self.config.idle_timeout
    }

    fn segment(&self, s: Instant, e: Instant) -> Segment {
        Segment {
            start_ms: self.ms(s),
            end_ms: self.ms(e),
        }
    }

    fn ms(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.start).as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: Duration = Duration::from_millis(32);

    /// Feeds `ms` of agent audio (speech or silence) from `*t`, collecting outputs
    /// with the time they appeared.
    fn feed(tt: &mut TurnTaker, t: &mut Instant, ms: u64, speech: bool) -> Vec<(u64, Output)> {
        let start = *t;
        let mut out = Vec::new();
        while *t < start + Duration::from_millis(ms) {
            if let Some(d) = tt.poll_timeout().filter(|&d| d < *t + CHUNK) {
                tt.handle_timeout(d.max(*t));
            }
            tt.handle_vad(*t, CHUNK, speech);
            *t += CHUNK;
            while let Some(o) = tt.poll_output() {
                out.push(((*t - start).as_millis() as u64, o));
            }
        }
        out
    }

    fn taker(plans: Vec<Plan>) -> (TurnTaker, Instant) {
        let start = Instant::now();
        (TurnTaker::new(TurnConfig::default(), plans, start), start)
    }

    #[test]
    fn takes_the_turn_after_speech_then_the_gap() {
        let (mut tt, mut t) = taker(vec![Plan::act(None), Plan::act(None)]);
        assert!(feed(&mut tt, &mut t, 1000, false).is_empty());
        assert!(feed(&mut tt, &mut t, 2000, true).is_empty());
        // A pause shorter than the gap does not end the agent's turn.
        assert!(feed(&mut tt, &mut t, 400, false).is_empty());
        assert!(feed(&mut tt, &mut t, 500, true).is_empty());
        let out = feed(&mut tt, &mut t, 1000, false);
        assert_eq!(out.len(), 1);
        let (at, o) = out[0];
        assert_eq!(o, Output::Take { turn: 0 });
        assert!(
            (600..=640).contains(&at),
            "turn taken {at} ms into the silence"
        );
        // While we act, the agent's speech neither counts nor ends a turn.
        assert!(feed(&mut tt, &mut t, 300, true).is_empty());
        assert!(feed(&mut tt, &mut t, 1000, false).is_empty());
        assert_eq!(tt.turns_taken(), 1);
    }

    #[test]
    fn short_sounds_do_not_end_the_agents_turn() {
        let (mut tt, mut t) = taker(vec![Plan::act(None)]);
        assert!(feed(&mut tt, &mut t, 96, true).is_empty());
        assert!(feed(&mut tt, &mut t, 2000, false).is_empty());
        assert!(feed(&mut tt, &mut t, 320, true).is_empty());
        assert_eq!(feed(&mut tt, &mut t, 700, false).len(), 1);
    }

    #[test]
    fn measures_the_agents_response_latency_and_segments() {
        let (mut tt, mut t) = taker(vec![Plan::act(None), Plan::act(None)]);
        let call_start = t;
        feed(&mut tt, &mut t, 1000, true);
        assert_eq!(feed(&mut tt, &mut t, 640, false).len(), 1);
        // Our answer: 1.5 s, the last 200 ms of it silence.
        t += Duration::from_millis(1500);
        tt.action_done(t, t - Duration::from_millis(200));
        feed(&mut tt, &mut t, 544, false);
        feed(&mut tt, &mut t, 1000, true);
        let r = tt.responses();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].turn, 0);
        assert_eq!(r[0].latency_ms, 544 + 200);
        assert_eq!(
            r[0].answer_end_ms,
            (t - call_start).as_millis() as u64 - 1024 - 544 - 200
        );
        let segs = tt.segments();
        assert_eq!(segs.len(), 2);
        assert_eq!(
            segs[0],
            Segment {
                start_ms: 0,
                end_ms: 1024
            }
        );
    }

    #[test]
    fn barge_in_starts_while_the_agent_talks() {
        let plans = vec![Plan::act(Some(Duration::from_millis(800)))];
        let (mut tt, mut t) = taker(plans);
        feed(&mut tt, &mut t, 500, false);
        let out = feed(&mut tt, &mut t, 3000, true);
        assert_eq!(out.len(), 1);
        assert!((800..=832).contains(&out[0].0), "{out:?}");
    }

    #[test]
    fn silence_turn_waits_then_listens_to_the_reprompt() {
        let (mut tt, mut t) = taker(vec![
            Plan {
                barge_in_after: None,
                kind: PlanKind::Silence(Duration::from_millis(3000)),
            },
            Plan::act(None),
        ]);
        feed(&mut tt, &mut t, 1000, true);
        assert_eq!(
            feed(&mut tt, &mut t, 640, false)[0].1,
            Output::Take { turn: 0 }
        );
        // The agent reprompts 2 s into our silence and finishes before it ends:
        // the reprompt is our cue once the silence is over.
        feed(&mut tt, &mut t, 1400, false);
        feed(&mut tt, &mut t, 800, true);
        let out = feed(&mut tt, &mut t, 1500, false);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].1, Output::Take { turn: 1 });
    }

    #[test]
    fn hangs_up_when_the_agent_never_hangs_up() {
        let config = TurnConfig {
            idle_timeout: Duration::from_secs(5),
            ..TurnConfig::default()
        };
        let start = Instant::now();
        let mut tt = TurnTaker::new(config, vec![Plan::act(None)], start);
        let mut t = start;
        feed(&mut tt, &mut t, 1000, true);
        feed(&mut tt, &mut t, 640, false);
        tt.action_done(t, t);
        let out = feed(&mut tt, &mut t, 6000, false);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].1,
            Output::HangUp {
                after_last_turn: true
            }
        );
        assert!((4900..=5100).contains(&out[0].0), "{out:?}");
    }

    #[test]
    fn hangs_up_when_the_agent_stays_silent() {
        let config = TurnConfig {
            idle_timeout: Duration::from_secs(3),
            ..TurnConfig::default()
        };
        let start = Instant::now();
        let mut tt = TurnTaker::new(config, vec![Plan::act(None)], start);
        let mut t = start;
        let out = feed(&mut tt, &mut t, 4000, false);
        assert_eq!(
            out,
            vec![(
                3008,
                Output::HangUp {
                    after_last_turn: false
                }
            )]
        );
    }

    #[test]
    fn hangup_turn_ends_the_plan() {
        let (mut tt, mut t) = taker(vec![Plan {
            barge_in_after: None,
            kind: PlanKind::Hangup,
        }]);
        feed(&mut tt, &mut t, 500, true);
        let out = feed(&mut tt, &mut t, 700, false);
        assert_eq!(out.len(), 1);
        assert!(tt.all_turns_taken());
        assert_eq!(tt.poll_timeout(), None);
        assert!(feed(&mut tt, &mut t, 120_000, false).is_empty());
    }
}
