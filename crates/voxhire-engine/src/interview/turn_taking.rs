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
//! An open answer (the project question) is never complete at a pause, but
//! when the dialog can still add to it (`ListenContext::resumable`) and the pause
//! decode is a whole sentence ([`end_of_turn::open_answer_ends`]), the turn ends
//! at the shorter open silence ([`TurnOutput::EndUtterance`]) instead of the
//! script's 1.2 s. Speech that starts within [`RESUME_WINDOW`] of such an answer's
//! end, while the agent's next line is still to come or playing, is the candidate
//! going on: its final is handed over as resumed, and the listener listens for
//! the open question again meanwhile ([`TurnOutput::Resuming`]). Speech after
//! that line has played is an answer to it, however quick.
//!
//! The driver (session.rs), per event:
//!
//! ```text
//! Heard::Final(f) from the listener:
//!     if tt.wants(&f) { u = nlu(f); tt.handle_final(now, f, u) } else { tt.handle_skipped(&f) }
//! the listener's SpeechStarted { at }: tt.handle_speech_started(now, at, agent_speaking)
//! the dialog's Listen { context }:   tt.handle_listen(context.nlu, context.resumable)
//! the agent's first audio of a line: tt.handle_agent_audio(now, cached)
//! then, always:
//!     while let Some(o) = tt.poll_output() {
//!         CommitUtterance  => listener.commit()
//!         EndUtterance     => listener.end_after(start, end, silence)
//!         Resuming         => listener: the open question's vocabulary and endpointing
//!         Answer { .. }    => dialog.handle_input(Final or Resumed { .. })
//!         Latency(l)       => log l
//!     }
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;
use voxhire_dialog::NluContextSpec;
use voxhire_nlu::{SlotKind, Understanding};

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

/// Silence after a whole sentence that ends an open answer the dialog can
/// still add to (the script's end-of-turn silence, 1.2 s for the project
/// question, applies otherwise).
pub const OPEN_SILENCE: Duration = Duration::from_millis(600);

/// Speech starting this soon after the voice of an open answer ended goes on
/// with that answer (1.2 s was the open question's whole silence before).
pub const RESUME_WINDOW: Duration = Duration::from_millis(2500);

/// What the session must do.
#[derive(Debug)]
pub enum TurnOutput {
    /// End the listener's utterance now: the turn was taken at a pause.
    CommitUtterance,
    /// End the utterance from `start` (paused at `end`, on the call's audio
    /// clock) once its silence reaches `silence`, unless the candidate speaks
    /// again first.
    EndUtterance {
        start: Duration,
        end: Duration,
        silence: Duration,
    },
    /// The candidate went on with the open answer just taken: listen for that
    /// question again (its vocabulary and endpointing) until the dialog's next
    /// `Listen`.
    Resuming,
    /// The candidate's turn `turn` is over: hand it to the dialog — as a
    /// continuation of the open answer before it when `resumed`.
    Answer {
        turn: u32,
        heard: FinalHeard,
        understanding: Understanding,
        resumed: bool,
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

/// An open answer just taken, which the candidate may still go on with.
#[derive(Debug)]
struct Resumable {
    until: Instant,
    expect: NluContextSpec,
}

#[derive(Debug)]
pub struct TurnTaking {
    /// What the current question expects (None before the first question).
    listening: Option<NluContextSpec>,
    /// The dialog can add to the current question's open answer.
    resumable: bool,
    /// Silence that ends a whole-sentence open answer (None: off).
    open_silence: Option<Duration>,
    /// The last answer, while speech may still go on with it.
    open_answer: Option<Resumable>,
    /// Onset (call's audio clock) of speech going on with an open answer: the
    /// utterance holding it is handed over as resumed.
    resumed_at: Option<Duration>,
    /// Start of the utterance taken at a pause: its endpoint final is dropped.
    committed: Option<Duration>,
    waiting: Option<Waiting>,
    next_turn: u32,
    latencies: Vec<TurnLatency>,
    out: VecDeque<TurnOutput>,
}

impl Default for TurnTaking {
    fn default() -> Self {
        TurnTaking::new(Some(OPEN_SILENCE))
    }
}

impl TurnTaking {
    /// `open_silence`: see [`OPEN_SILENCE`] (None: open answers always wait for
    /// the script's silence).
    pub fn new(open_silence: Option<Duration>) -> Self {
        TurnTaking {
            listening: None,
            resumable: false,
            open_silence,
            open_answer: None,
            resumed_at: None,
            committed: None,
            waiting: None,
            next_turn: 0,
            latencies: Vec::new(),
            out: VecDeque::new(),
        }
    }

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
    /// `resumable`: the dialog adds speech that goes on right after an open
    /// answer to it (`ListenContext::resumable`).
    pub fn handle_listen(&mut self, expect: NluContextSpec, resumable: bool) {
        self.listening = Some(expect);
        self.resumable = resumable;
    }

    /// The listener heard speech start at `at` (call's audio clock), `now`;
    /// `agent_speaking`: the agent has lines queued or playing.
    pub fn handle_speech_started(&mut self, now: Instant, at: Duration, agent_speaking: bool) {
        let Some(open) = self.open_answer.take() else {
            return;
        };
        if now > open.until || !agent_speaking {
            return;
        }
        self.resumed_at = Some(at);
        self.listening = Some(open.expect);
        self.resumable = true;
        self.out.push_back(TurnOutput::Resuming);
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
                // Wait for the endpoint (or more speech); a whole sentence of an
                // open answer the dialog can add to, for the open silence only.
                if let Some(silence) = self.open_silence.filter(|_| {
                    self.resumable && end_of_turn::open_answer_ends(&heard.text, heard.confidence)
                }) {
                    self.out.push_back(TurnOutput::EndUtterance {
                        start: heard.start,
                        end: heard.end,
                        silence,
                    });
                }
                return;
            }
            self.committed = Some(heard.start);
            self.out.push_back(TurnOutput::CommitUtterance);
        }
        let turn = self.next_turn;
        self.next_turn += 1;
        // The utterance that holds the onset of speech going on with an open
        // answer continues it (pre-roll puts its start a little before).
        let resumed = self
            .resumed_at
            .take()
            .is_some_and(|at| heard.start <= at + Duration::from_millis(500) && at <= heard.end);
        self.open_answer = self
            .resumable
            .then(|| self.listening.clone())
            .flatten()
            .filter(|l| l.expected.contains(&SlotKind::Project))
            .map(|expect| Resumable {
                until: heard.speech_end_at + RESUME_WINDOW,
                expect,
            });
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
            resumed,
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
    use voxhire_nlu::{Evidence, Intent, Slot, SlotValue};

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

    fn expecting(kind: SlotKind) -> NluContextSpec {
        NluContextSpec {
            expected: vec![kind],
            yes_no: false,
        }
    }

    fn asking(kind: SlotKind) -> TurnTaking {
        let mut tt = TurnTaking::default();
        tt.handle_listen(expecting(kind), false);
        tt
    }

    fn drain(tt: &mut TurnTaking) -> Vec<String> {
        std::iter::from_fn(|| tt.poll_output())
            .map(|o| match o {
                TurnOutput::CommitUtterance => "commit".to_string(),
                TurnOutput::Answer {
                    turn,
                    heard,
                    resumed,
                    ..
                } => format!(
                    "{} {turn} {}",
                    if resumed { "resumed" } else { "answer" },
                    heard.text
                ),
                TurnOutput::EndUtterance { silence, .. } => {
                    format!("end after {}", silence.as_millis())
                }
                TurnOutput::Resuming => "resuming".to_string(),
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

    fn project() -> Understanding {
        Understanding {
            intent: Intent::Answer,
            intent_score: 0.8,
            slots: Vec::new(),
        }
    }

    fn asking_project(resumable: bool) -> TurnTaking {
        let mut tt = TurnTaking::default();
        tt.handle_listen(expecting(SlotKind::Project), resumable);
        tt
    }

    const STORY: &str = "I led the migration of our payment service to microservices.";

    /// The project question, its story's final (speech 1.0-5.0 s) handed over at 5.61 s.
    fn story_taken() -> (Clock, TurnTaking) {
        let clock = Clock(Instant::now());
        let mut tt = asking_project(true);
        tt.handle_final(
            clock.at(5610),
            heard(&clock, STORY, 1000, 5000, 5610, false),
            project(),
        );
        (clock, tt)
    }

    #[test]
    fn an_open_answer_ends_at_the_open_silence_after_a_whole_sentence() {
        let clock = Clock(Instant::now());
        let mut tt = asking_project(true);
        // Mid-sentence pause: not a whole sentence, wait.
        let f = heard(&clock, "I led the migration of", 1000, 2000, 2300, true);
        tt.handle_final(clock.at(2300), f, project());
        assert!(drain(&mut tt).is_empty());
        // At the sentence's end: end the utterance at 600 ms of silence.
        let f = heard(&clock, STORY, 1000, 5000, 5300, true);
        tt.handle_final(clock.at(5300), f, project());
        assert_eq!(drain(&mut tt), ["end after 600"]);
        // The listener ended it: its final is the answer.
        let end = heard(&clock, STORY, 1000, 5000, 5610, false);
        tt.handle_final(clock.at(5615), end, project());
        assert_eq!(drain(&mut tt), [format!("answer 0 {STORY}")]);
    }

    #[test]
    fn an_open_answer_the_dialog_cannot_add_to_waits_for_the_whole_silence() {
        let clock = Clock(Instant::now());
        // The last question: nothing can be added after it.
        let mut tt = asking_project(false);
        tt.handle_final(
            clock.at(5300),
            heard(&clock, STORY, 1000, 5000, 5300, true),
            project(),
        );
        assert!(drain(&mut tt).is_empty());
        // Switched off.
        let mut tt = TurnTaking::new(None);
        tt.handle_listen(expecting(SlotKind::Project), true);
        tt.handle_final(
            clock.at(5300),
            heard(&clock, STORY, 1000, 5000, 5300, true),
            project(),
        );
        assert!(drain(&mut tt).is_empty());
    }

    #[test]
    fn speech_going_on_after_an_open_answer_is_handed_over_as_resumed() {
        let (clock, mut tt) = story_taken();
        assert_eq!(drain(&mut tt).len(), 1);
        // The dialog moves on to the salary question.
        tt.handle_listen(expecting(SlotKind::SalaryMonthly), false);
        tt.handle_agent_audio(clock.at(5700), true);
        assert_eq!(drain(&mut tt), ["latency 0 700"]);
        // 1.1 s after the story's end the candidate goes on.
        tt.handle_speech_started(clock.at(6300), Duration::from_millis(6100), true);
        assert_eq!(drain(&mut tt), ["resuming"]);
        // Whose pause decode is judged as the open answer again.
        let more = "It cut our latency by half in the first month.";
        tt.handle_final(
            clock.at(8300),
            heard(&clock, more, 6000, 8000, 8300, true),
            project(),
        );
        assert_eq!(drain(&mut tt), ["end after 600"]);
        tt.handle_final(
            clock.at(8610),
            heard(&clock, more, 6000, 8000, 8610, false),
            project(),
        );
        assert_eq!(drain(&mut tt), [format!("resumed 1 {more}")]);
        // And it may go on once more; later speech is a new answer.
        tt.handle_listen(expecting(SlotKind::SalaryMonthly), false);
        tt.handle_speech_started(clock.at(11_200), Duration::from_millis(11_000), true);
        assert!(drain(&mut tt).is_empty(), "2.6 s after: the next answer");
        tt.handle_final(
            clock.at(12_500),
            heard(&clock, "Twelve thousand.", 11_000, 12_000, 12_500, false),
            unclear(),
        );
        assert_eq!(drain(&mut tt), ["answer 2 Twelve thousand."]);
    }

    #[test]
    fn a_quick_answer_after_the_next_line_has_played_is_no_resumption() {
        let (clock, mut tt) = story_taken();
        drain(&mut tt);
        tt.handle_listen(expecting(SlotKind::SalaryMonthly), false);
        // "您的期望月薪是多少？" played 5.7-7.0 s; the answer starts 200 ms later,
        // within the resume window but after the line.
        tt.handle_speech_started(clock.at(7250), Duration::from_millis(7200), false);
        assert!(drain(&mut tt).is_empty());
        let f = heard(&clock, "两万五。", 7200, 8000, 8700, false);
        tt.handle_final(clock.at(8700), f, unclear());
        assert_eq!(drain(&mut tt), ["answer 1 两万五。"]);
    }

    #[test]
    fn a_resumption_is_only_the_utterance_that_holds_its_onset() {
        let (clock, mut tt) = story_taken();
        drain(&mut tt);
        // A cough starts "speech" but makes no utterance.
        tt.handle_speech_started(clock.at(5900), Duration::from_millis(5800), true);
        assert_eq!(drain(&mut tt), ["resuming"]);
        // The next utterance, seconds later, is an answer of its own.
        let f = heard(&clock, "Twelve thousand.", 9000, 10_000, 10_500, false);
        tt.handle_final(clock.at(10_500), f, unclear());
        assert_eq!(drain(&mut tt), ["answer 1 Twelve thousand."]);
    }
}
