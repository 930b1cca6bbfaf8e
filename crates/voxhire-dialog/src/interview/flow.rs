//! The transitions: a reply (words, a key, or silence) is classified for the
//! current step, then one `match` on (step, signal) decides what happens next.

use std::time::Instant;

use chrono::NaiveDateTime;
use voxhire_nlu::{Evidence, Heard, Intent, Lang, Slot, SlotKind, SlotValue, Understanding};

use super::confirm::ConfirmOutcome;
use super::event::{DialogEventKind, RepromptReason};
use super::record::{AnswerTurn, KnockoutRecord, QuestionStatus, YesNoAnswer};
use super::{Interview, Phase, Timer};
use crate::io::{Action, PromptId};
use crate::report::Status;

/// After a digit, how long the candidate may pause before the number counts
/// as complete without the pound key.
const INTER_DIGIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);

/// What the candidate did at a listening point.
pub(super) enum Reply {
    Said {
        heard: Heard,
        understanding: Understanding,
    },
    Key(char),
    Silence,
    /// Keys that make no value (a salary of 0).
    BadKeys,
}

/// The reply read against the current step.
enum Signal {
    OptOut,
    Repeat,
    /// A callback time came with the reply.
    Callback(NaiveDateTime),
    /// "Not now" without a time.
    Reschedule,
    Yes(YesNoAnswer),
    No(YesNoAnswer),
    /// Slots the question asks for, and the ASR's confidence in the words.
    Answer(Vec<Slot>, f32),
    Retry(RepromptReason),
    GiveUp(RepromptReason),
}

/// How a step's lines are said.
#[derive(Clone, Copy)]
pub(super) enum Ask {
    First,
    Repeat,
    Retry(RepromptReason),
}

impl Interview {
    pub(super) fn on_reply(&mut self, now: Instant, reply: Reply) {
        if !self.phase.is_listening() {
            return;
        }
        if let (Phase::KeyIn { .. }, Reply::Silence) = (self.phase, &reply) {
            if !self.keyed.is_empty() {
                // The candidate stopped typing without the pound key.
                return self.finish_key_in(now);
            }
        }
        let resumable = self.listen.as_ref().is_some_and(|l| l.resumable);
        self.open_answer = None;
        let signal = self.classify(now, &reply);
        match (self.phase, signal) {
            (Phase::Ringing | Phase::Ended, _) => {}
            (_, Signal::OptOut) => {
                self.do_not_call = true;
                self.actions.push_back(Action::MarkDoNotCall);
                self.event(now, DialogEventKind::DoNotCall);
                self.close(now, Status::OptedOut);
            }
            (_, Signal::Repeat) => {
                let question = self.step_key();
                self.event(now, DialogEventKind::Repeat { question });
                self.ask(now, Ask::Repeat);
            }
            (_, Signal::Callback(at)) => {
                self.callback_at = Some(at);
                self.actions.push_back(Action::ScheduleCallback { at });
                self.event(now, DialogEventKind::CallbackScheduled { at });
                self.close(now, Status::Rescheduled);
            }
            (_, Signal::Reschedule) => self.enter(now, Phase::CallbackTime),
            (Phase::Consent, Signal::Yes(a)) => {
                self.consent = Some(a);
                let next = self.after_consent();
                self.enter(now, next);
            }
            (Phase::Consent, Signal::No(a)) => {
                self.consent = Some(a);
                self.close(now, Status::DeclinedConsent);
            }
            (Phase::Identity, Signal::Yes(a)) => {
                self.identity = Some(a);
                self.enter(now, Phase::GoodTime);
            }
            (Phase::Identity, Signal::No(a)) => {
                self.identity = Some(a);
                self.close(now, Status::WrongPerson);
            }
            (Phase::GoodTime, Signal::Yes(a)) => {
                self.good_time = Some(a);
                self.next_question(now, 0);
            }
            (Phase::GoodTime, Signal::No(a)) => {
                self.good_time = Some(a);
                self.enter(now, Phase::CallbackTime);
            }
            (Phase::Question { q, follow }, Signal::Answer(slots, asr)) => {
                // Recorded at once: a hang-up during the read-back keeps it.
                self.record_answer(now, q, slots.clone());
                if resumable && slots.iter().any(|s| s.kind == SlotKind::Project) {
                    self.open_answer = Some(q);
                }
                match self.to_confirm(q, &slots, asr) {
                    Some(pending) => self.start_confirmation(now, q, follow, pending),
                    None => self.after_answer(now, q, follow),
                }
            }
            (Phase::Confirm { q, follow, .. }, Signal::Yes(a)) => {
                self.resolve(now, q, ConfirmOutcome::Confirmed, None, a.quote);
                self.after_answer(now, q, follow);
            }
            (
                Phase::Confirm { q, follow, kind } | Phase::KeyIn { q, follow, kind },
                Signal::Answer(slots, _),
            ) => {
                let by = slots.into_iter().find(|s| s.kind == kind);
                let reply = by
                    .as_ref()
                    .map(|s| s.evidence.quote.clone())
                    .unwrap_or_default();
                if let Some(slot) = &by {
                    let question = self.step_key();
                    self.event(
                        now,
                        DialogEventKind::SlotFilled {
                            question,
                            slot: slot.clone(),
                        },
                    );
                }
                self.keyed.clear();
                self.resolve(now, q, ConfirmOutcome::Corrected, by, reply);
                self.records[q].status = QuestionStatus::Answered;
                self.after_answer(now, q, follow);
            }
            (Phase::Confirm { q, follow, kind }, Signal::No(a)) => {
                if Self::keyable(kind) {
                    self.keyed.clear();
                    self.enter(now, Phase::KeyIn { q, follow, kind });
                } else {
                    // A date: withdrawn, and the question asked again.
                    self.resolve(now, q, ConfirmOutcome::Rejected, None, a.quote);
                    self.phase = Phase::Question { q, follow };
                    self.attempts = 0;
                    self.ask(now, Ask::Retry(RepromptReason::NoMatch));
                }
            }
            (Phase::Confirm { q, follow, .. }, Signal::GiveUp(_)) => {
                self.resolve(now, q, ConfirmOutcome::Unconfirmed, None, String::new());
                self.after_answer(now, q, follow);
            }
            (Phase::KeyIn { q, follow, .. }, Signal::GiveUp(_)) => {
                self.keyed.clear();
                self.resolve(now, q, ConfirmOutcome::Rejected, None, String::new());
                self.after_answer(now, q, follow);
            }
            (_, Signal::Retry(reason)) => {
                self.attempts += 1;
                let question = self.step_key();
                let attempt = self.attempts;
                self.event(
                    now,
                    DialogEventKind::Reprompt {
                        question,
                        reason,
                        attempt,
                    },
                );
                self.ask(now, Ask::Retry(reason));
            }
            (Phase::Consent | Phase::Identity | Phase::GoodTime, Signal::GiveUp(_)) => {
                self.close(now, Status::NoResponse)
            }
            // No time given after the retries: the campaign calls again per its policy.
            (Phase::CallbackTime, Signal::GiveUp(_)) => self.close(now, Status::Rescheduled),
            (Phase::Question { q, follow }, Signal::GiveUp(reason)) => {
                let question = self.step_key();
                self.event(now, DialogEventKind::QuestionSkipped { question, reason });
                match follow {
                    None => {
                        let r = &mut self.records[q];
                        r.status = QuestionStatus::Unanswered;
                        r.unanswered = Some(reason);
                        self.next_question(now, q + 1);
                    }
                    Some(f) => self.next_followup(now, q, f + 1),
                }
            }
            // Yes/no and answers only mean something at their own steps; the
            // classifier never produces them elsewhere.
            (_, Signal::Yes(_) | Signal::No(_) | Signal::Answer(..)) => {
                self.ask(now, Ask::Retry(RepromptReason::NoMatch))
            }
        }
    }

    /// Reads a reply for the current step (and records what was said).
    fn classify(&mut self, now: Instant, reply: &Reply) -> Signal {
        let phase = self.phase;
        let (heard, u) = match reply {
            Reply::Silence => return self.retry_or_give_up(RepromptReason::NoInput),
            Reply::BadKeys => return self.retry_or_give_up(RepromptReason::NoMatch),
            Reply::Key(d) => {
                let answer = YesNoAnswer {
                    yes: *d == '1',
                    via: "dtmf",
                    quote: d.to_string(),
                    turn: None,
                    at_ms: self.at_ms(now),
                };
                return if answer.yes {
                    Signal::Yes(answer)
                } else {
                    Signal::No(answer)
                };
            }
            Reply::Said {
                heard,
                understanding,
            } => (heard, understanding),
        };
        let question = self.step_key();
        self.event(
            now,
            DialogEventKind::Heard {
                question,
                turn: heard.turn,
                intent: u.intent,
                intent_score: u.intent_score,
            },
        );
        let callback = match u.slot(SlotKind::CallbackTime).map(|s| &s.value) {
            Some(SlotValue::DateTime { at }) => Some(*at),
            _ => None,
        };
        let answer = |yes| YesNoAnswer {
            yes,
            via: "speech",
            quote: heard.text.clone(),
            turn: Some(heard.turn),
            at_ms: heard.start_ms,
        };
        match (phase, u.intent) {
            (_, Intent::OptOut) => Signal::OptOut,
            (_, Intent::Repeat) => Signal::Repeat,
            // "Tomorrow at ten would be better" to "is now a good time?" is a no
            // with a time, whatever intent the NLU saw in it.
            (Phase::GoodTime, intent) if intent != Intent::Yes && callback.is_some() => {
                callback.map_or(Signal::Reschedule, Signal::Callback)
            }
            (Phase::CallbackTime, _) | (_, Intent::Reschedule) | (Phase::GoodTime, Intent::No) => {
                match callback {
                    Some(at) => Signal::Callback(at),
                    None if phase == Phase::CallbackTime => {
                        self.retry_or_give_up(RepromptReason::NoMatch)
                    }
                    None if phase == Phase::GoodTime => Signal::No(answer(false)),
                    None => Signal::Reschedule,
                }
            }
            (Phase::Consent | Phase::Identity | Phase::GoodTime, Intent::Yes) => {
                Signal::Yes(answer(true))
            }
            (Phase::Consent | Phase::Identity, Intent::No) => Signal::No(answer(false)),
            (Phase::Question { q, follow }, intent) => {
                let slots = self.answer_slots(q, follow, heard, u);
                let turn = AnswerTurn::new(
                    self.followup_id(q, follow),
                    heard,
                    intent,
                    !slots.is_empty(),
                );
                self.records[q].turns.push(turn);
                if slots.is_empty() {
                    self.retry_or_give_up(RepromptReason::NoMatch)
                } else {
                    Signal::Answer(slots, heard.confidence)
                }
            }
            // "Yes" / "no, thirty thousand" / the value again.
            (Phase::Confirm { kind, .. }, intent) => {
                let heard_value = self.pending.as_ref().map(|p| &p.slot.value);
                match u.slot(kind) {
                    Some(s) if Some(&s.value) != heard_value => {
                        Signal::Answer(vec![s.clone()], heard.confidence)
                    }
                    Some(_) => Signal::Yes(answer(true)),
                    None if intent == Intent::Yes => Signal::Yes(answer(true)),
                    None if intent == Intent::No => Signal::No(answer(false)),
                    None => self.retry_or_give_up(RepromptReason::NoMatch),
                }
            }
            // The number said instead of keyed.
            (Phase::KeyIn { kind, .. }, _) => match u.slot(kind) {
                Some(s) => Signal::Answer(vec![s.clone()], heard.confidence),
                None => self.retry_or_give_up(RepromptReason::NoMatch),
            },
            _ => self.retry_or_give_up(RepromptReason::NoMatch),
        }
    }

    fn retry_or_give_up(&self, reason: RepromptReason) -> Signal {
        if self.attempts >= self.max_retries() {
            Signal::GiveUp(reason)
        } else {
            Signal::Retry(reason)
        }
    }

    fn max_retries(&self) -> u32 {
        match self.phase {
            // A read-back is one short turn, asked once more at most.
            Phase::Confirm { .. } | Phase::KeyIn { .. } => 1,
            Phase::Question { q, .. } => self.script.questions()[q].max_retries,
            _ => self.script.max_retries,
        }
    }

    /// The slots of the reply that the question asks for. An open question
    /// (`project`) takes the utterance itself when the NLU found no project in
    /// it but it is a substantive answer.
    fn answer_slots(
        &self,
        q: usize,
        follow: Option<usize>,
        heard: &Heard,
        u: &Understanding,
    ) -> Vec<Slot> {
        let question = &self.script.questions()[q];
        let kinds = match follow {
            Some(f) => &question.followups[f].slots,
            None => &question.slots,
        };
        let mut out: Vec<Slot> = u
            .slots
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .cloned()
            .collect();
        let substantive = match heard.lang {
            Lang::En => heard.text.split_whitespace().count() >= 3,
            Lang::Zh => heard.text.chars().filter(|c| c.is_alphanumeric()).count() >= 5,
        };
        if kinds.contains(&SlotKind::Project)
            && !out.iter().any(|s| s.kind == SlotKind::Project)
            && matches!(u.intent, Intent::Answer | Intent::Unclear)
            && substantive
        {
            out.push(Slot {
                kind: SlotKind::Project,
                value: SlotValue::Text {
                    text: heard.text.clone(),
                },
                evidence: Evidence {
                    quote: heard.text.clone(),
                    turn: heard.turn,
                    start_ms: heard.start_ms,
                    end_ms: heard.end_ms,
                },
                confidence: heard.confidence,
            });
        }
        out
    }

    fn record_answer(&mut self, now: Instant, q: usize, slots: Vec<Slot>) {
        let question = self.step_key();
        for slot in slots {
            self.event(
                now,
                DialogEventKind::SlotFilled {
                    question: question.clone(),
                    slot: slot.clone(),
                },
            );
            let r = &mut self.records[q];
            r.table.insert(slot.clone());
            r.slots.push(slot);
        }
        self.records[q].status = QuestionStatus::Answered;
    }

    /// Knockouts first (a knocked-out candidate hears no follow-up), then the
    /// follow-ups whose condition holds, then the next question.
    fn after_answer(&mut self, now: Instant, q: usize, follow: Option<usize>) {
        let question = &self.script.questions()[q];
        let record = &self.records[q];
        if let Some(k) = question
            .knockouts
            .iter()
            .find(|k| k.when.holds(&record.table))
        {
            let evidence = k
                .when
                .slots()
                .iter()
                .filter_map(|kind| record.table.get(*kind))
                .map(|s| s.evidence.clone())
                .collect();
            let knockout = KnockoutRecord {
                question: question.id.clone(),
                rule: k.when.to_string(),
                reason: k.reason.clone(),
                evidence,
            };
            self.event(
                now,
                DialogEventKind::Knockout {
                    question: knockout.question.clone(),
                    rule: knockout.rule.clone(),
                    reason: knockout.reason.clone(),
                },
            );
            self.knockout = Some(knockout);
            self.close(now, Status::KnockedOut);
            return;
        }
        self.next_followup(now, q, follow.map_or(0, |f| f + 1));
    }

    pub(super) fn next_followup(&mut self, now: Instant, q: usize, from: usize) {
        let question = &self.script.questions()[q];
        let table = &self.records[q].table;
        let next =
            (from..question.followups.len()).find(|&f| question.followups[f].when.holds(table));
        match next {
            Some(f) => {
                let id = question.followups[f].id.clone();
                self.records[q].followups_asked.push(id);
                self.enter(now, Phase::Question { q, follow: Some(f) });
            }
            None => self.next_question(now, q + 1),
        }
    }

    fn next_question(&mut self, now: Instant, q: usize) {
        if q < self.script.questions().len() {
            self.records[q].status = QuestionStatus::Asked;
            self.enter(now, Phase::Question { q, follow: None });
        } else {
            self.close(now, Status::Completed);
        }
    }

    fn after_consent(&self) -> Phase {
        let has_no_name_line = self.script.texts(self.lang).identity_no_name.is_some();
        if self.candidate_name.is_some() || has_no_name_line {
            Phase::Identity
        } else {
            Phase::GoodTime
        }
    }

    pub(super) fn enter(&mut self, now: Instant, phase: Phase) {
        self.phase = phase;
        self.attempts = 0;
        let state = match phase {
            Phase::Question { q, follow: None } => {
                format!("question:{}", self.script.questions()[q].id)
            }
            Phase::Question { .. } => format!("followup:{}", self.step_key()),
            Phase::Confirm { .. } => format!("confirm:{}", self.step_key()),
            Phase::KeyIn { .. } => format!("key_in:{}", self.step_key()),
            _ => self.step_key(),
        };
        self.event(now, DialogEventKind::StateEntered { state });
        if let Phase::Question { q, follow } = phase {
            let question = self.script.questions()[q].id.clone();
            let followup = self.followup_id(q, follow);
            self.event(now, DialogEventKind::QuestionAsked { question, followup });
        }
        self.ask(now, Ask::First);
    }

    /// Says the current step's lines and listens.
    pub(super) fn ask(&mut self, now: Instant, how: Ask) {
        let lines = self.lines(how);
        self.timers[Timer::NoInput as usize] = None;
        for (id, text, barge_in) in lines {
            self.say(now, id, text, barge_in);
        }
        let context = self.listen_context();
        self.listen = Some(context.clone());
        self.actions.push_back(Action::Listen { context });
    }

    fn say(&mut self, now: Instant, id: String, text: String, barge_in: bool) {
        let text = match &self.candidate_name {
            Some(name) => text.replace("{name}", name),
            None => text.replace("{name}", ""),
        };
        if !self.speaking {
            self.speaking_barge_in = true;
        }
        self.speaking = true;
        self.speaking_barge_in &= barge_in;
        self.last_prompt = id.clone();
        self.event(
            now,
            DialogEventKind::PromptSaid {
                id: id.clone(),
                barge_in,
            },
        );
        self.actions.push_back(Action::Say {
            id: PromptId(id),
            text,
            barge_in,
        });
    }

    /// Says the closing line for `status` and hangs up.
    fn close(&mut self, now: Instant, status: Status) {
        let closing = &self.script.texts(self.lang).closing;
        let line = match status {
            Status::Completed => &closing.completed,
            Status::OptedOut => &closing.opted_out,
            Status::Rescheduled => &closing.rescheduled,
            Status::DeclinedConsent => &closing.declined_consent,
            Status::WrongPerson => &closing.wrong_person,
            Status::KnockedOut => &closing.knocked_out,
            _ => &closing.no_response,
        }
        .clone();
        let id = format!("closing.{}", status.name());
        self.event(
            now,
            DialogEventKind::StateEntered {
                state: "closing".into(),
            },
        );
        // The closing is said in full: the call ends right after it.
        self.say(now, id, line, false);
        self.actions.push_back(Action::HangUp);
        self.end(now, status);
    }

    pub(super) fn end(&mut self, now: Instant, status: Status) {
        self.phase = Phase::Ended;
        self.status = Some(status);
        self.ended_at = Some(now);
        self.timers = [None; Timer::ALL.len()];
        self.listen = None;
        let callback_at = self.callback_at;
        self.event(
            now,
            DialogEventKind::Outcome {
                status,
                callback_at,
            },
        );
    }

    /// A key at a key-in step: digits build the number, `*` starts over, `#`
    /// (or a pause) ends it.
    pub(super) fn key_pressed(&mut self, now: Instant, digit: char) {
        self.event(
            now,
            DialogEventKind::Dtmf {
                digit,
                meaning: None,
            },
        );
        if self.speaking && !self.stop_sent {
            self.stop_sent = true;
            self.actions.push_back(Action::StopPlayback);
        }
        match digit {
            '0'..='9' if self.keyed.len() < 9 => {
                self.keyed.push(digit);
                self.timers[Timer::NoInput as usize] = Some(now + INTER_DIGIT_TIMEOUT);
            }
            '*' => {
                self.keyed.clear();
                self.timers[Timer::NoInput as usize] = Some(now + self.no_input_timeout());
            }
            '#' => self.finish_key_in(now),
            _ => {}
        }
    }

    pub(super) fn finish_key_in(&mut self, now: Instant) {
        let Phase::KeyIn { q, follow, kind } = self.phase else {
            return;
        };
        self.timers[Timer::NoInput as usize] = None;
        match self.keyed_slot(kind, now) {
            Some(slot) => {
                let question = self.step_key();
                self.event(
                    now,
                    DialogEventKind::SlotFilled {
                        question,
                        slot: slot.clone(),
                    },
                );
                let reply = std::mem::take(&mut self.keyed);
                self.resolve(now, q, ConfirmOutcome::Keyed, Some(slot), reply);
                self.records[q].status = QuestionStatus::Answered;
                self.after_answer(now, q, follow);
            }
            None => {
                self.keyed.clear();
                self.on_reply(now, Reply::BadKeys);
            }
        }
    }

    pub(super) fn followup_id(&self, q: usize, follow: Option<usize>) -> Option<String> {
        follow.map(|f| self.script.questions()[q].followups[f].id.clone())
    }

    /// The step's key: `consent`, …, a question id, or `question.followup`.
    pub(super) fn step_key(&self) -> String {
        let question_key = |q: usize, follow: Option<usize>| {
            let question = &self.script.questions()[q];
            match follow {
                None => question.id.clone(),
                Some(f) => format!("{}.{}", question.id, question.followups[f].id),
            }
        };
        match self.phase {
            Phase::Ringing => "ringing".into(),
            Phase::Consent => "consent".into(),
            Phase::Identity => "identity".into(),
            Phase::GoodTime => "good_time".into(),
            Phase::CallbackTime => "callback_time".into(),
            Phase::Question { q, follow } => question_key(q, follow),
            Phase::Confirm { q, follow, kind } | Phase::KeyIn { q, follow, kind } => {
                format!("{}.{}", question_key(q, follow), kind.name())
            }
            Phase::Ended => "ended".into(),
        }
    }
}
