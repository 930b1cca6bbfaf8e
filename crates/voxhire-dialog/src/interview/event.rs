//! The dialog's audit trail: what it decided and why, for `events.jsonl`.
//!
//! Events carry prompt ids, never prompt texts (a text may hold the candidate's
//! name); the candidate's words appear only as slot evidence.

use chrono::NaiveDateTime;
use serde::Serialize;
use voxhire_nlu::{Intent, Slot, SlotKind, SlotValue};

use super::confirm::ConfirmOutcome;
use crate::report::Status;

/// One dialog event, `at_ms` after the call was answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DialogEvent {
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: DialogEventKind,
}

/// Why the dialog asked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepromptReason {
    /// The candidate said nothing before the no-input timeout.
    NoInput,
    /// The candidate spoke but the answer did not fit the question.
    NoMatch,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DialogEventKind {
    /// A new step: `consent`, `identity`, `good_time`, `callback_time`,
    /// `question:<id>`, `followup:<id>.<followup>`, `closing`.
    StateEntered {
        state: String,
    },
    PromptSaid {
        id: String,
        barge_in: bool,
    },
    QuestionAsked {
        question: String,
        followup: Option<String>,
    },
    Reprompt {
        question: String,
        reason: RepromptReason,
        attempt: u32,
    },
    /// The candidate asked to hear the question again (not a retry).
    Repeat {
        question: String,
    },
    /// A final utterance and what the NLU made of it.
    Heard {
        question: String,
        turn: u32,
        intent: Intent,
        intent_score: f32,
    },
    SlotFilled {
        question: String,
        slot: Slot,
    },
    /// The candidate went on with the open answer to `question` after it was
    /// taken: utterance `turn` was added to it and the current line said again.
    AnswerResumed {
        question: String,
        turn: u32,
    },
    /// Candidate speech interrupted the agent; playback stopped.
    BargeIn {
        prompt: String,
    },
    /// The candidate spoke over a line that may not be interrupted (the
    /// disclosure); that utterance is not taken as an answer.
    SpokeOverPrompt {
        prompt: String,
    },
    /// A value heard with low confidence is read back.
    ConfirmAsked {
        question: String,
        slot: SlotKind,
        confidence: f32,
    },
    /// What became of it, and the value scored now (`None`: withdrawn).
    ConfirmResolved {
        question: String,
        slot: SlotKind,
        outcome: ConfirmOutcome,
        value: Option<SlotValue>,
    },
    Dtmf {
        digit: char,
        meaning: Option<Intent>,
    },
    QuestionSkipped {
        question: String,
        reason: RepromptReason,
    },
    Knockout {
        question: String,
        rule: String,
        reason: String,
    },
    CallbackScheduled {
        at: NaiveDateTime,
    },
    DoNotCall,
    Outcome {
        status: Status,
        callback_at: Option<NaiveDateTime>,
    },
}
