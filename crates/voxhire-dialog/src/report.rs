//! The report of one call (`report.json`): the outcome, each question's answers,
//! slots and points with the rule and the words behind them, the overall score
//! and the recommendation.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use voxhire_nlu::{Lang, SentenceSimilarity, Slot};

use crate::interview::{
    AnswerTurn, Confirmation, Interview, KnockoutRecord, QuestionStatus, RepromptReason,
    YesNoAnswer,
};
use crate::score::{round1, score_question, RuleScore};

/// How the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `finish` was called while the interview was still running.
    InProgress,
    Completed,
    OptedOut,
    Rescheduled,
    DeclinedConsent,
    WrongPerson,
    KnockedOut,
    /// No usable yes/no at consent, identity or "good time" after the retries.
    NoResponse,
    /// The candidate hung up before the end.
    HungUp,
    /// The call was never answered.
    NoAnswer,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::OptedOut => "opted_out",
            Status::Rescheduled => "rescheduled",
            Status::DeclinedConsent => "declined_consent",
            Status::WrongPerson => "wrong_person",
            Status::KnockedOut => "knocked_out",
            Status::NoResponse => "no_response",
            Status::HungUp => "hung_up",
            Status::NoAnswer => "no_answer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    Advance,
    Hold,
    Reject,
}

impl Recommendation {
    /// The name in reports and summaries (`advance`, `hold`, `reject`).
    pub fn name(self) -> &'static str {
        match self {
            Recommendation::Advance => "advance",
            Recommendation::Hold => "hold",
            Recommendation::Reject => "reject",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub script_id: String,
    pub company: String,
    pub role: String,
    pub lang: Lang,
    pub status: Status,
    /// Weighted 0–100 over every scored question (unanswered ones count 0).
    pub score: f32,
    /// Only for a completed or knocked-out interview: a partial one is not judged.
    pub recommendation: Option<Recommendation>,
    /// Why that recommendation, in words.
    pub recommendation_reason: String,
    pub callback_at: Option<NaiveDateTime>,
    pub do_not_call: bool,
    pub knockout: Option<KnockoutRecord>,
    pub consent: Option<YesNoAnswer>,
    pub identity: Option<YesNoAnswer>,
    pub good_time: Option<YesNoAnswer>,
    pub questions: Vec<QuestionReport>,
    /// From answer to the end of the interview.
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionReport {
    pub id: String,
    pub status: QuestionStatus,
    /// Why it was given up, for an unanswered question.
    pub unanswered_reason: Option<RepromptReason>,
    pub followups_asked: Vec<String>,
    /// Everything the candidate said while the question was open.
    pub answers: Vec<AnswerTurn>,
    pub slots: Vec<Slot>,
    /// Values read back to the candidate (heard with low confidence), and
    /// what became of them.
    pub confirmations: Vec<Confirmation>,
    pub points: f32,
    pub max_points: f32,
    pub weight: f32,
    pub rules: Vec<RuleScore>,
}

pub(crate) fn build(iv: &Interview, similarity: Option<&dyn SentenceSimilarity>) -> Report {
    let script = &iv.script;
    let mut questions = Vec::new();
    let (mut weighted, mut weights) = (0.0_f32, 0.0_f32);
    for (question, record) in script.questions().iter().zip(&iv.records) {
        let score = score_question(question, &record.slots, &record.table, iv.lang, similarity);
        let (points, max_points, weight, rules) = match score {
            Some(s) => {
                if s.max_points > 0.0 {
                    weighted += s.weight * s.points / s.max_points;
                    weights += s.weight;
                }
                (s.points, s.max_points, s.weight, s.rules)
            }
            None => (0.0, 0.0, 0.0, Vec::new()),
        };
        questions.push(QuestionReport {
            id: question.id.clone(),
            status: record.status,
            unanswered_reason: record.unanswered,
            followups_asked: record.followups_asked.clone(),
            answers: record.turns.clone(),
            slots: record.slots.clone(),
            confirmations: record.confirmations.clone(),
            points,
            max_points,
            weight,
            rules,
        });
    }
    let score = if weights > 0.0 {
        round1(100.0 * weighted / weights)
    } else {
        0.0
    };
    let status = iv.status.unwrap_or(Status::InProgress);
    let t = script.thresholds();
    let (recommendation, recommendation_reason) = match status {
        Status::KnockedOut => (
            Some(Recommendation::Reject),
            match &iv.knockout {
                Some(k) => format!("knocked out at {}: {} ({})", k.question, k.reason, k.rule),
                None => "knocked out".to_owned(),
            },
        ),
        Status::Completed if score >= t.advance_at => (
            Some(Recommendation::Advance),
            format!("score {score} ≥ advance_at {}", t.advance_at),
        ),
        Status::Completed if score >= t.hold_at => (
            Some(Recommendation::Hold),
            format!(
                "hold_at {} ≤ score {score} < advance_at {}",
                t.hold_at, t.advance_at
            ),
        ),
        Status::Completed => (
            Some(Recommendation::Reject),
            format!("score {score} < hold_at {}", t.hold_at),
        ),
        other => (
            None,
            format!(
                "interview not completed ({}): no recommendation",
                other.name()
            ),
        ),
    };
    Report {
        script_id: script.id().to_owned(),
        company: script.company().to_owned(),
        role: script.role().to_owned(),
        lang: iv.lang,
        status,
        score,
        recommendation,
        recommendation_reason,
        callback_at: iv.callback_at,
        do_not_call: iv.do_not_call,
        knockout: iv.knockout.clone(),
        consent: iv.consent.clone(),
        identity: iv.identity.clone(),
        good_time: iv.good_time.clone(),
        questions,
        duration_ms: match (iv.answered_at, iv.ended_at) {
            (Some(a), Some(e)) => Some(e.saturating_duration_since(a).as_millis() as u64),
            _ => None,
        },
    }
}
