//! The interview state machine (Sans-IO): fed [`Input`]s with `now`, it queues
//! [`Action`]s and [`DialogEvent`]s and keeps one timer table.
//!
//! The steps: consent (after the greeting and the recording/AI disclosure) →
//! identity → "is now a good time?" → the questions with their follow-ups →
//! closing → hang up. At every listening point an opt-out closes the call and
//! marks the number do-not-call, a reschedule asks for (or takes) a callback
//! time, and "repeat" says the line again without counting a retry.
//!
//! Turn taking: every prompt is a `Say` followed at once by a `Listen` (so the
//! engine primes the ASR while the line plays); the no-input timer starts when
//! the engine reports `PlaybackFinished`. Candidate speech over an interruptible
//! line stops it (`StopPlayback`); speech over the disclosure is not taken as an
//! answer.

mod confirm;
mod event;
mod flow;
mod lines;
mod record;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use voxhire_nlu::{Lang, SentenceSimilarity, SlotKind};

pub use confirm::{
    render as render_value, value_confidence, zh_number, ConfirmOutcome, Confirmation,
};
pub use event::{DialogEvent, DialogEventKind, RepromptReason};
pub use record::{AnswerTurn, KnockoutRecord, QuestionStatus, YesNoAnswer};

use crate::io::{Action, Input, ListenContext};
use crate::report::{Report, Status};
use crate::script::InterviewScript;
pub(crate) use record::QuestionRecord;

/// The dialog's timers, indexing [`Interview::timers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The candidate has not spoken since the prompt finished (or has spoken
    /// for longer than a turn can last without a final result).
    NoInput = 0,
}

impl Timer {
    const ALL: [Timer; 1] = [Timer::NoInput];
}

/// Where the interview is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for `Input::Answered`.
    Ringing,
    Consent,
    Identity,
    GoodTime,
    CallbackTime,
    Question {
        q: usize,
        follow: Option<usize>,
    },
    /// Reading back a scored value heard with low confidence.
    Confirm {
        q: usize,
        follow: Option<usize>,
        kind: SlotKind,
    },
    /// Keying a number in after a failed read-back.
    KeyIn {
        q: usize,
        follow: Option<usize>,
        kind: SlotKind,
    },
    /// The closing line is said (or the far end hung up): nothing more happens.
    Ended,
}

impl Phase {
    fn is_yes_no(self) -> bool {
        matches!(
            self,
            Phase::Consent | Phase::Identity | Phase::GoodTime | Phase::Confirm { .. }
        )
    }
    fn is_listening(self) -> bool {
        !matches!(self, Phase::Ringing | Phase::Ended)
    }
}

/// One call's interview.
pub struct Interview {
    pub(crate) script: Arc<InterviewScript>,
    pub(crate) lang: Lang,
    pub(crate) candidate_name: Option<String>,
    pub(crate) answered_at: Option<Instant>,
    pub(crate) ended_at: Option<Instant>,
    pub(crate) phase: Phase,
    /// Retries used at the current step (a repeat does not count).
    pub(crate) attempts: u32,
    /// The agent has lines queued or playing.
    pub(crate) speaking: bool,
    /// Every queued line may be interrupted.
    pub(crate) speaking_barge_in: bool,
    /// The id of the last line queued (for the barge-in event).
    pub(crate) last_prompt: String,
    /// `StopPlayback` was sent for the current lines.
    pub(crate) stop_sent: bool,
    /// The candidate started speaking over a line that may not be interrupted.
    pub(crate) spoke_over_locked: bool,
    /// The candidate is speaking (VAD onset, no final yet).
    pub(crate) speech_since: Option<Instant>,
    pub(crate) listen: Option<ListenContext>,
    pub(crate) timers: [Option<Instant>; Timer::ALL.len()],
    pub(crate) actions: VecDeque<Action>,
    pub(crate) events: VecDeque<DialogEvent>,
    // What the report is made of.
    pub(crate) status: Option<Status>,
    pub(crate) records: Vec<QuestionRecord>,
    pub(crate) consent: Option<YesNoAnswer>,
    pub(crate) identity: Option<YesNoAnswer>,
    pub(crate) good_time: Option<YesNoAnswer>,
    pub(crate) callback_at: Option<NaiveDateTime>,
    pub(crate) knockout: Option<KnockoutRecord>,
    pub(crate) do_not_call: bool,
    /// The value being read back or keyed in.
    pub(crate) pending: Option<confirm::Pending>,
    /// Digits keyed so far at a key-in step.
    pub(crate) keyed: String,
    /// The question whose open answer was the last one taken, while it may
    /// still go on ([`Input::Resumed`]).
    pub(crate) open_answer: Option<usize>,
}

/// Redacts the candidate's name (it must not reach logs).
impl std::fmt::Debug for Interview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interview")
            .field("script", &self.script.id())
            .field("lang", &self.lang)
            .field(
                "candidate_name",
                &self.candidate_name.as_ref().map(|_| "<redacted>"),
            )
            .field("phase", &self.phase)
            .field("attempts", &self.attempts)
            .field("speaking", &self.speaking)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Interview {
    /// A new interview in `lang` (the script's first language if it does not
    /// offer `lang`). `candidate_name` fills `{name}`; without it the identity
    /// check uses `identity_no_name` or is skipped.
    pub fn new(
        script: Arc<InterviewScript>,
        lang: Lang,
        candidate_name: Option<String>,
        now: Instant,
    ) -> Interview {
        let _ = now; // Nothing is timed before the call is answered.
        let lang = if script.languages().contains(&lang) {
            lang
        } else {
            script.languages().first().copied().unwrap_or(lang)
        };
        let records = script
            .questions()
            .iter()
            .map(|_| QuestionRecord::new())
            .collect();
        Interview {
            script,
            lang,
            candidate_name: candidate_name.filter(|n| !n.trim().is_empty()),
            answered_at: None,
            ended_at: None,
            phase: Phase::Ringing,
            attempts: 0,
            speaking: false,
            speaking_barge_in: true,
            last_prompt: String::new(),
            stop_sent: false,
            spoke_over_locked: false,
            speech_since: None,
            listen: None,
            timers: [None; Timer::ALL.len()],
            actions: VecDeque::new(),
            events: VecDeque::new(),
            status: None,
            records,
            consent: None,
            identity: None,
            good_time: None,
            callback_at: None,
            knockout: None,
            do_not_call: false,
            pending: None,
            keyed: String::new(),
            open_answer: None,
        }
    }

    /// The language the interview runs in.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// True once the interview has ended (closing said and `HangUp` queued, or
    /// the far end hung up).
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// The outcome so far (`None` while the interview runs).
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// Feeds one call event.
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Answered => {
                if self.phase == Phase::Ringing {
                    self.answered_at = Some(now);
                    self.enter(now, Phase::Consent);
                }
            }
            Input::PlaybackFinished => self.playback_finished(now),
            Input::SpeechStarted => self.speech_started(now),
            Input::Partial { .. } => {
                // Speech is going on: keep the no-input timer from firing mid-turn.
                if self.timers[Timer::NoInput as usize].is_some() {
                    self.arm_speech_guard(now);
                }
            }
            Input::Final {
                heard,
                understanding,
            } => self.final_heard(now, heard, understanding),
            Input::Resumed {
                heard,
                understanding,
            } => self.resumed(now, heard, understanding),
            Input::Dtmf(digit) => self.dtmf(now, digit),
            Input::HangUp => self.far_end_hung_up(now),
        }
    }

    /// Fires the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        for timer in Timer::ALL {
            let slot = &mut self.timers[timer as usize];
            if slot.is_some_and(|at| at <= now) {
                *slot = None;
                match timer {
                    Timer::NoInput => {
                        self.speech_since = None;
                        self.on_reply(now, flow::Reply::Silence);
                    }
                }
            }
        }
    }

    /// The earliest armed timer.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    /// The next thing the engine must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next audit event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<DialogEvent> {
        self.events.pop_front()
    }

    /// The report: what was asked and answered, the scores with their evidence,
    /// the outcome. Callable at any time (a call cut short gives a partial
    /// report). `similarity` scores open answers; without it (or for a language
    /// it does not cover) keywords are counted instead.
    pub fn finish(&self, similarity: Option<&dyn SentenceSimilarity>) -> Report {
        crate::report::build(self, similarity)
    }

    fn at_ms(&self, now: Instant) -> u64 {
        self.answered_at
            .map_or(0, |a| now.saturating_duration_since(a).as_millis() as u64)
    }

    fn event(&mut self, now: Instant, kind: DialogEventKind) {
        let at_ms = self.at_ms(now);
        self.events.push_back(DialogEvent { at_ms, kind });
    }

    fn no_input_timeout(&self) -> Duration {
        self.listen
            .as_ref()
            .map_or(Duration::from_secs(6), |l| l.no_input_timeout)
    }

    /// While the candidate speaks, "no input" means the turn never produced a
    /// final (the ASR dropped it): wait for the longest turn plus the timeout.
    fn arm_speech_guard(&mut self, since: Instant) {
        let max_turn = self.listen.as_ref().map_or(Duration::from_secs(30), |l| {
            Duration::from_millis(u64::from(l.endpointing.max_utterance_ms))
        });
        self.timers[Timer::NoInput as usize] = Some(since + max_turn + self.no_input_timeout());
    }

    fn playback_finished(&mut self, now: Instant) {
        self.speaking = false;
        self.stop_sent = false;
        if !self.phase.is_listening() {
            return;
        }
        match self.speech_since {
            Some(since) => self.arm_speech_guard(since),
            None => self.timers[Timer::NoInput as usize] = Some(now + self.no_input_timeout()),
        }
    }

    fn speech_started(&mut self, now: Instant) {
        if !self.phase.is_listening() {
            return;
        }
        self.speech_since = Some(now);
        if self.speaking {
            if !self.speaking_barge_in {
                self.spoke_over_locked = true;
            } else if !self.stop_sent {
                self.stop_sent = true;
                self.actions.push_back(Action::StopPlayback);
                let prompt = self.last_prompt.clone();
                self.event(now, DialogEventKind::BargeIn { prompt });
            }
        } else {
            self.arm_speech_guard(now);
        }
    }

    fn final_heard(
        &mut self,
        now: Instant,
        heard: voxhire_nlu::Heard,
        u: voxhire_nlu::Understanding,
    ) {
        if !self.phase.is_listening() {
            return;
        }
        self.speech_since = None;
        if std::mem::take(&mut self.spoke_over_locked) {
            let prompt = self.last_prompt.clone();
            self.event(now, DialogEventKind::SpokeOverPrompt { prompt });
            if !self.speaking {
                self.timers[Timer::NoInput as usize] = Some(now + self.no_input_timeout());
            }
            return;
        }
        self.timers[Timer::NoInput as usize] = None;
        self.on_reply(
            now,
            flow::Reply::Said {
                heard,
                understanding: u,
            },
        );
    }

    /// See [`Input::Resumed`].
    fn resumed(&mut self, now: Instant, heard: voxhire_nlu::Heard, u: voxhire_nlu::Understanding) {
        let answers_this_step = self
            .listen
            .as_ref()
            .is_some_and(|l| u.slots.iter().any(|s| l.nlu.expected.contains(&s.kind)));
        let q = match self.open_answer.take() {
            Some(q) if self.phase.is_listening() && !answers_this_step => q,
            _ => return self.final_heard(now, heard, u),
        };
        self.speech_since = None;
        self.spoke_over_locked = false;
        self.timers[Timer::NoInput as usize] = None;
        let question = self.script.questions()[q].id.clone();
        self.records[q].add_to_open_answer(&heard, u.intent);
        self.event(
            now,
            DialogEventKind::AnswerResumed {
                question,
                turn: heard.turn,
            },
        );
        self.open_answer = Some(q);
        self.ask(now, flow::Ask::Repeat);
    }

    fn dtmf(&mut self, now: Instant, digit: char) {
        if !self.phase.is_listening() {
            return;
        }
        if let Phase::KeyIn { .. } = self.phase {
            return self.key_pressed(now, digit);
        }
        let meaning = match digit {
            '1' if self.phase.is_yes_no() => Some(voxhire_nlu::Intent::Yes),
            '2' if self.phase.is_yes_no() => Some(voxhire_nlu::Intent::No),
            _ => None,
        };
        self.event(now, DialogEventKind::Dtmf { digit, meaning });
        if meaning.is_some() {
            if self.speaking && !self.stop_sent {
                // A key press is an answer: stop the line (even the DTMF hint).
                self.stop_sent = true;
                self.actions.push_back(Action::StopPlayback);
            }
            self.timers[Timer::NoInput as usize] = None;
            self.on_reply(now, flow::Reply::Key(digit));
        }
    }

    fn far_end_hung_up(&mut self, now: Instant) {
        if self.phase == Phase::Ended {
            return;
        }
        let status = if self.phase == Phase::Ringing {
            Status::NoAnswer
        } else {
            Status::HungUp
        };
        if let Phase::Question { q, .. } = self.phase {
            if let Some(r) = self.records.get_mut(q) {
                if r.status == QuestionStatus::NotAsked {
                    r.status = QuestionStatus::Asked;
                }
            }
        }
        // A read-back left open: the value stands as heard; a number withdrawn
        // and not yet keyed in stays withdrawn.
        match self.phase {
            Phase::Confirm { q, .. } => {
                self.resolve(now, q, ConfirmOutcome::Unconfirmed, None, String::new())
            }
            Phase::KeyIn { q, .. } => {
                let reply = std::mem::take(&mut self.keyed);
                self.resolve(now, q, ConfirmOutcome::Rejected, None, reply)
            }
            _ => {}
        }
        self.end(now, status);
    }
}
