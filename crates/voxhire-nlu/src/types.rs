//! What goes into and comes out of understanding one turn.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// The interview language (voxhire's one [`voxhire_lang::Lang`]).
pub use voxhire_lang::Lang;

/// What the candidate meant by the turn as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Yes,
    No,
    /// "Sorry, could you repeat that?"
    Repeat,
    /// "Not now, call me tomorrow at ten."
    Reschedule,
    /// "Please don't call me again."
    OptOut,
    /// A substantive answer to the question.
    Answer,
    Unclear,
}

/// The facts an interview extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    YearsExperience,
    Skills,
    SalaryMonthly,
    StartDate,
    NoticePeriod,
    CallbackTime,
    Project,
}

impl SlotKind {
    pub const ALL: [SlotKind; 7] = [
        SlotKind::YearsExperience,
        SlotKind::Skills,
        SlotKind::SalaryMonthly,
        SlotKind::StartDate,
        SlotKind::NoticePeriod,
        SlotKind::CallbackTime,
        SlotKind::Project,
    ];

    /// The name used in scripts and reports (`years_experience`, …).
    pub fn name(self) -> &'static str {
        match self {
            SlotKind::YearsExperience => "years_experience",
            SlotKind::Skills => "skills",
            SlotKind::SalaryMonthly => "salary_monthly",
            SlotKind::StartDate => "start_date",
            SlotKind::NoticePeriod => "notice_period",
            SlotKind::CallbackTime => "callback_time",
            SlotKind::Project => "project",
        }
    }
}

impl std::str::FromStr for SlotKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SlotKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = SlotKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown slot {s:?} (known: {})", names.join(", "))
            })
    }
}

/// A slot's value, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SlotValue {
    /// Years of experience ("five and a half years" → 5.5).
    Years { years: f32 },
    /// Canonical skill ids from the taxonomy ("k8s" → "kubernetes"), in the order said.
    Skills { skills: Vec<String> },
    /// Money per month in the currency's whole units ("25k" → 25000, 两万五 → 25000).
    Money { amount: u64, currency: String },
    /// A calendar date (start date), resolved against the call's local date.
    Date { date: NaiveDate },
    /// A duration in days (notice period: "one month" → 30, 两周 → 14).
    Days { days: u32 },
    /// A local date and time (callback time), resolved against the call's local time.
    DateTime { at: NaiveDateTime },
    /// Free text (project description).
    Text { text: String },
}

/// Where a slot or a score came from: the words and when they were said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The words of the utterance that carry the value (or the whole utterance).
    pub quote: String,
    /// The candidate's turn number in the call (0-based).
    pub turn: u32,
    /// Milliseconds from the call's answer to the start / end of the utterance.
    pub start_ms: u64,
    pub end_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub kind: SlotKind,
    pub value: SlotValue,
    pub evidence: Evidence,
    /// 0..1: how sure the extractor is (rules that matched exactly: 1.0).
    pub confidence: f32,
}

/// One final utterance of the candidate, as the ASR heard it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heard {
    pub text: String,
    pub lang: Lang,
    pub turn: u32,
    pub start_ms: u64,
    pub end_ms: u64,
    /// ASR confidence 0..1.
    pub confidence: f32,
}

/// What the current question expects, given to the understanding of one turn.
#[derive(Debug, Clone, Default)]
pub struct NluContext {
    /// The slots the question asks for (others are still extracted if clearly present).
    pub expected: Vec<SlotKind>,
    /// The call's local date and time (the candidate's time zone) at the utterance,
    /// for "tomorrow at ten" / 周三下午两点.
    pub local_now: Option<NaiveDateTime>,
    /// True when the question is a yes/no question (consent, identity, "good time?").
    pub yes_no: bool,
}

/// The understanding of one turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    pub intent: Intent,
    /// 0..1 confidence in the intent.
    pub intent_score: f32,
    pub slots: Vec<Slot>,
}

impl Understanding {
    pub fn slot(&self, kind: SlotKind) -> Option<&Slot> {
        self.slots.iter().find(|s| s.kind == kind)
    }
}

/// Example utterances per intent and language, from the interview script, that
/// the English embedding classifier compares a turn against (on top of the
/// crate's built-in examples and rules).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntentExamples {
    pub examples: Vec<(Intent, Lang, String)>,
}

/// Semantic similarity of two texts in one language (cosine of sentence
/// embeddings, 0..1), for scoring open answers against a reference answer.
/// `None` when the language has no embedding model (Mandarin: the scorer falls
/// back to keyword overlap).
pub trait SentenceSimilarity: Send + Sync {
    fn similarity(&self, a: &str, b: &str, lang: Lang) -> Option<f32>;
}
