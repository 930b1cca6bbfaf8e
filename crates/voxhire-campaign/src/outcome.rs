//! How one call attempt ended, and the record of it kept in the store.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the call engine reports when a call is over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The interview ran to its end.
    Completed {
        score: Option<f64>,
        recommendation: Option<String>,
    },
    /// The candidate asked never to be called again.
    OptedOut,
    /// The candidate asked to be called at `at`, their local time.
    CallbackRequested { at: NaiveDateTime },
    /// The candidate refused the recording / AI disclosure.
    DeclinedConsent,
    /// Someone else answered.
    WrongPerson,
    /// A knockout rule ended the interview early.
    KnockedOut { score: Option<f64> },
    /// The candidate hung up mid-interview.
    HungUp,
    /// 486/600 Busy.
    Busy,
    /// Rang out (ring timeout, 408, 480).
    NoAnswer,
    /// A voicemail answered (answering-machine detection was on): retried
    /// when `retry.on` lists `voicemail` (the default).
    Voicemail,
    /// The callee's side refused the call (403, 603 Decline, 404…): not
    /// retried unless `retry.on` lists `rejected`.
    Rejected { status: u16 },
    /// Anything else: 4xx/5xx from the trunk, network error, engine error —
    /// or, found on restart, an attempt that started and never ended
    /// (`reason = "interrupted"`).
    Failed { reason: String },
}

impl AttemptOutcome {
    /// Stable snake_case name, as stored and shown.
    pub fn kind(&self) -> &'static str {
        match self {
            AttemptOutcome::Completed { .. } => "completed",
            AttemptOutcome::OptedOut => "opted_out",
            AttemptOutcome::CallbackRequested { .. } => "callback_requested",
            AttemptOutcome::DeclinedConsent => "declined_consent",
            AttemptOutcome::WrongPerson => "wrong_person",
            AttemptOutcome::KnockedOut { .. } => "knocked_out",
            AttemptOutcome::HungUp => "hung_up",
            AttemptOutcome::Busy => "busy",
            AttemptOutcome::NoAnswer => "no_answer",
            AttemptOutcome::Voicemail => "voicemail",
            AttemptOutcome::Rejected { .. } => "rejected",
            AttemptOutcome::Failed { .. } => "failed",
        }
    }

    /// Whether a person picked up.
    pub fn answered(&self) -> bool {
        !matches!(
            self,
            AttemptOutcome::Busy
                | AttemptOutcome::NoAnswer
                | AttemptOutcome::Voicemail
                | AttemptOutcome::Rejected { .. }
                | AttemptOutcome::Failed { .. }
        )
    }

    /// The interview score, when the call produced one.
    pub fn score(&self) -> Option<f64> {
        match self {
            AttemptOutcome::Completed { score, .. } | AttemptOutcome::KnockedOut { score } => {
                *score
            }
            _ => None,
        }
    }

    /// The outcome used for an attempt found started but never ended.
    pub fn interrupted() -> AttemptOutcome {
        AttemptOutcome::Failed {
            reason: "interrupted".to_owned(),
        }
    }
}

/// One call attempt as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub candidate_id: String,
    /// 1 for the first call to this candidate, 2 for the first retry …
    pub attempt_no: u32,
    /// Written before the INVITE leaves.
    pub started_at: DateTime<Utc>,
    /// `None` while the call runs — or when the process died during it.
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<AttemptOutcome>,
    pub report_path: Option<PathBuf>,
}

impl AttemptRecord {
    /// The outcome to act on: an attempt that never ended was interrupted.
    pub fn effective_outcome(&self) -> AttemptOutcome {
        self.outcome
            .clone()
            .unwrap_or_else(AttemptOutcome::interrupted)
    }

    /// When the attempt ended, or when it started if it never did.
    pub fn effective_end(&self) -> DateTime<Utc> {
        self.ended_at.unwrap_or(self.started_at)
    }
}
