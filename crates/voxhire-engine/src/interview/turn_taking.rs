//! Turn-taking: when the candidate's turn ends, and how long they waited for the
//! agent's reply.
//!
//! Sans-IO: the session feeds it what the listener heard (with what the NLU made
//! of it) and when the agent's audio started, with explicit instants; it decides
//! and queues [`TurnOutput`]s. The listener decodes each utterance twice at most:
//! at the first short pause (80 ms of silence, [`FinalHeard::at_pause`], offered
//! once the decode is back and the silence has lasted 250 ms) and
//! at the endpoint (the script's end-of-turn silence). A pause decode that is
//! already a complete answer ([`end_of_turn::is_complete`]) ends the turn at once
//! — the utterance is committed and its endpoint final, when it comes, is dropped
//! — so a clear "five years" is answered ~0.1 s + one decode (0.25 s at least) after the candidate
//! stops, not after the whole end-of-turn silence. Anything else waits for the
//! endpoint.
//!
//! The driver (session.rs), per event:
//!
//! ```text
//! Heard::Final(f) from the listener:
//!     if tt.wants(&f) { u = nlu(f); tt.handle_final(now, f, u) } else { tt.handle_skipped(&f) }
//! the dialog's Listen { context }:   tt.handle_listen(context.nlu)
//! the agent's first audio of a line: tt.handle_agent_audio(now, cached)
//! then, always:
//!     while let Some(o) = tt.poll_output() {
//!         CommitUtterance => listener.commit()
//!         Answer { .. }   => dialog.handle_input(Final { .. })
//!         Latency(l)      => log l
//!     }
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;
use voxhire_dialog::NluContextSpec;
use voxhire_nlu::Understanding;

use super::end_of_turn;
use super::listener::FinalHeard;

/// Voice-to-voice latency of one turn and where it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TurnLatency {
    pub turn: u32,
    /// Candidate's last speech frame → agent's first audio frame out.
    pub voice_to_voice_ms: u64,
    /// Silence the turn-taking waited for (to the pause decode or the endpoint).
    pub endpoint_ms: u64,
    /// Endpoint → final transcript.
    pub asr_ms: u64,
    /// Final transcript → dialog decided (NLU + dialog).
    pub nlu_ms: u64,
    /// Dialog decided → first audio frame sent (TTS or cache, plus RTP pacing).
    pub tts_ms: u64,
    pub cached_prompt: bool,
    /// The turn was taken at a pause (a complete answer), not at the endpoint.
    pub early: bool,
}

/// What the session must do.
#[derive(Debug)]
pub enum TurnOutput {
    /// End the listener's utterance now: the turn was taken at a pause.
    CommitUtterance,
    /// The candidate's turn `turn` is over: hand it to the dialog.
    Answer {
        turn: u32,
        heard: FinalHeard,
        understanding: Understanding,
    },
    /// The agent's reply started: how long the candidate waited.
    Latency(TurnLatency),
}

/// A reply the candidate is waiting for.
#[derive(Debug)]
struct Waiting {
    turn: u32,
    speech_end_at: Instant,
    endpoint_at: Instant,
    asr_ready_at: Instant,
    decided_at: Instant,
    early: bool,
}

#[derive(Debug, Default)]
pub struct TurnTaking {
    /// What the current question expects (None before the first question).
    listening: Option<NluContextSpec>,
    /// Start of the utterance taken at a pause: its endpoint final is dropped.
    committed: Option<Duration>,
    waiting: Option<Waiting>,
    next_turn: u32,
    latencies: Vec<TurnLatency>,
    out: VecDeque<TurnOutput>,
}

impl TurnTaking {
    // --- getters ---

    /// Every finished turn's latency, in order.
    pub fn latencies(&self) -> &[TurnLatency] {
        &self.latencies
    }

    /// Whether `heard` needs understanding (the endpoint final of a turn already
    /// taken at its pause does not: it is dropped).
    pub fn wants(&self, heard: &FinalHeard) -> bool {
        heard.at_pause || self.committed != Some(heard.start)
    }

    // --- handle_* ---

    /// The dialog listens for an answer to a question expecting `expect`.
    pub fn handle_listen(&mut self, expect: NluContextSpec) {
        self.listening = Some(expect);
    }

    /// A transcript [`wants`](Self::wants) said no to: the endpoint final of a
    /// turn taken at its pause, dropped.
    pub fn handle_skipped(&mut self, heard: &FinalHeard) {
        if !heard.at_pause && self.committed == Some(heard.start) {
            self.committed = None;
        }
    }

    /// A transcript from the listener, understood. `now` is when the
    /// understanding was ready (the dialog decides right after).
    pub fn handle_final(&mut self, now: Instant, heard: FinalHeard, understanding: Understanding) {
        if !heard.at_pause && self.committed == Some(heard.start) {
            // The endpoint of a turn already taken at its pause.
            self.committed = None;
            return;
        }
        if heard.at_pause {
            let complete = self.listening.as_ref().is_some_and(|l| {
                end_of_turn::is_complete(&understanding, &heard.text, heard.confidence, l)
            });
            if !complete {
                // Wait for the endpoint (or more speech).
                return;
            }
            self.committed = Some(heard.start);
            self.out.push_back(TurnOutput::CommitUtterance);
        }
        let turn = self.next_turn;
        self.next_turn += 1;
        self.waiting = Some(Waiting {
            turn,
            speech_end_at: heard.speech_end_at,
            endpoint_at: heard.endpoint_at,
            asr_ready_at: heard.asr_ready_at,
            decided_at: now,
            early: heard.at_pause,
        });
        self.out.push_back(TurnOutput::Answer {
            turn,
            heard,
            understanding,
        });
    }

    /// The agent's audio started leaving at `at` (`cached`: from the prompt cache).
    /// Closes the turn the candidate was waiting on, if any.
    pub fn handle_agent_audio(&mut self, at: Instant, cached: bool) {
        let Some(w) = self.waiting.take() else { return };
        let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_millis() as u64;
        let l = TurnLatency {
            turn: w.turn,
            voice_to_voice_ms: ms(w.speech_end_at, at),
            endpoint_ms: ms(w.speech_end_at, w.endpoint_at),
            asr_ms: ms(w.endpoint_at, w.asr_ready_at),
            nlu_ms: ms(w.asr_ready_at, w.decided_at),
            tts_ms: ms(w.decided_at, at),
            cached_prompt: cached,
            early: w.early,
        };
        self.latencies.push(l);
        self.out.push_back(TurnOutput::Latency(l));
    }

    // --- poll_* ---

    #[must_use]
    pub fn poll_output(&mut self) -> Option<TurnOutput> {
        self.out.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxhire_nlu::{Evidence, Intent, Slot, SlotKind, SlotValue};

    /// A fake clock: instants as milliseconds after a fixed origin.
    struct Clock(Instant);
    impl Clock {
        fn at(&self, ms: u64) -> Instant {
            self.0 + Duration::from_millis(ms)
        }
    }

    fn heard(
        clock: &Clock,
        text: &str,
        start_ms: u64,
        speech_end: u64,
        ready: u64,
        at_pause: bool,
    ) -> FinalHeard {
        FinalHeard {
            text: text.into(),
            confidence: 0.9,
            start: Duration::from_millis(start_ms),
            end: Duration::from_millis(speech_end),
            speech_end_at: clock.at(speech_end),
            endpoint_at: clock.at(ready),
            asr_ready_at: clock.at(ready),
            speculative: at_pause,
            at_pause,
            decode_ms: 0,
            decode_threads: 1,
        }
    }

    fn years(y: f32) -> Understanding {
        Understanding {
            intent: Intent::Answer,
            intent_score: 0.9,
            slots: vec![Slot {
                kind: SlotKind::YearsExperience,
                value: SlotValue::Years { years: y },
                evidence: Evidence {
                    quote: String::new(),
                    turn: 0,
                    start_ms: 0,
                    end_ms: 0,
                },
                confidence: 0.9,
            }],
        }
    }

    fn unclear() -> Understanding {
        Understanding {
            intent: Intent::Unclear,
            intent_score: 0.3,
            slots: Vec::new(),
        }
    }

    fn asking(kind: SlotKind) -> TurnTaking {
        let mut tt = TurnTaking::default();
        tt.handle_listen(NluContextSpec {
            expected: vec![kind],
            yes_no: false,
        });
        tt
    }

    fn drain(tt: &mut TurnTaking) -> Vec<String> {
        std::iter::from_fn(|| tt.poll_output())
            .map(|o| match o {
                TurnOutput::CommitUtterance => "commit".to_string(),
                TurnOutput::Answer { turn, heard, .. } => format!("answer {turn} {}", heard.text),
                TurnOutput::Latency(l) => format!("latency {} {}", l.turn, l.voice_to_voice_ms),
            })
            .collect()
    }

    #[test]
    fn a_complete_answer_is_taken_at_the_pause() {
        let clock = Clock(Instant::now());
        let mut tt = asking(SlotKind::YearsExperience);
        // Speech 1000..2500 ms; the pause decode is back at 2900 ms.
        let f = heard(&clock, "五年。", 1000, 2500, 2900, true);
        assert!(tt.wants(&f));
        tt.handle_final(clock.at(2905), f, years(5.0));
        assert_eq!(drain(&mut tt), ["commit", "answer 0 五年。"]);
        // The endpoint final of the same utterance comes after the commit: dropped.
        let end = heard(&clock, "五年。", 1000, 2500, 2950, false);
        assert!(!tt.wants(&end));
        tt.handle_skipped(&end);
        assert!(drain(&mut tt).is_empty());
        // A later utterance that happens to be fed anyway is a new turn.
        assert!(tt.wants(&end));
        // The reply's first audio at 2960 ms: 460 ms voice to voice.
        tt.handle_agent_audio(clock.at(2960), true);
        assert_eq!(drain(&mut tt), ["latency 0 460"]);
        let l = tt.latencies()[0];
        assert!(l.early && l.cached_prompt);
        assert_eq!((l.endpoint_ms, l.nlu_ms, l.tts_ms), (400, 5, 55));
    }

    #[test]
    fn an_incomplete_pause_waits_for_the_endpoint() {
        let clock = Clock(Instant::now());
        let mut tt = asking(SlotKind::Skills);
        // "React, and" at the pause: the candidate is still going.
        let f = heard(&clock, "React，还有", 1000, 2000, 2300, true);
        tt.handle_final(clock.at(2300), f, unclear());
        assert!(drain(&mut tt).is_empty());
        // Resumed speech; the endpoint final carries the whole answer.
        let end = heard(&clock, "React，还有Vue。", 1000, 3500, 4400, false);
        assert!(tt.wants(&end));
        tt.handle_final(clock.at(4410), end, unclear());
        assert_eq!(drain(&mut tt), ["answer 0 React，还有Vue。"]);
        tt.handle_agent_audio(clock.at(4500), false);
        assert_eq!(drain(&mut tt), ["latency 0 1000"]);
        assert!(!tt.latencies()[0].early);
    }

    #[test]
    fn a_slow_pause_decode_of_an_earlier_utterance_does_not_drop_the_next() {
        let clock = Clock(Instant::now());
        let mut tt = asking(SlotKind::YearsExperience);
        tt.handle_final(
            clock.at(2900),
            heard(&clock, "五年。", 1000, 2500, 2900, true),
            years(5.0),
        );
        drain(&mut tt);
        // The next utterance (another start) at its endpoint is a new turn.
        let next = heard(&clock, "对。", 6000, 6500, 7400, false);
        assert!(tt.wants(&next));
        tt.handle_final(clock.at(7400), next, unclear());
        assert_eq!(drain(&mut tt), ["answer 1 对。"]);
    }

    #[test]
    fn audio_without_a_waiting_turn_is_no_latency() {
        // The greeting and a barge-in reprompt close nothing.
        let clock = Clock(Instant::now());
        let mut tt = TurnTaking::default();
        tt.handle_agent_audio(clock.at(100), true);
        assert!(drain(&mut tt).is_empty());
        // Before any question a pause decode is never complete.
        tt.handle_final(
            clock.at(900),
            heard(&clock, "五年。", 0, 500, 900, true),
            years(5.0),
        );
        assert!(drain(&mut tt).is_empty());
    }
}
