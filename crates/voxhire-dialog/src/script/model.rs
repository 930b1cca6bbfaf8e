//! The validated interview: what the state machine and the scorer read.

use std::collections::BTreeMap;

use voxhire_nlu::{Lang, SlotKind};

use super::condition::Condition;
use crate::io::EndpointSettings;

/// One value per interview language. After validation every language the
/// script offers is present.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PerLang<T> {
    pub en: Option<T>,
    pub zh: Option<T>,
}

impl<T> PerLang<T> {
    pub fn get(&self, lang: Lang) -> Option<&T> {
        match lang {
            Lang::En => self.en.as_ref(),
            Lang::Zh => self.zh.as_ref(),
        }
    }
}

impl PerLang<String> {
    /// The text in `lang`; empty only if the script was built around validation.
    pub fn text(&self, lang: Lang) -> &str {
        self.get(lang).map_or("", String::as_str)
    }
}

/// The fixed lines of one language (`[prompts.en]`).
#[derive(Debug, Clone, Default)]
pub struct FixedTexts {
    pub greeting: String,
    pub disclosure: String,
    pub consent_question: String,
    /// Contains `{name}`.
    pub identity: String,
    /// Asked when the call has no candidate name; without it the identity check
    /// is skipped for such calls.
    pub identity_no_name: Option<String>,
    pub good_time: String,
    pub callback_question: String,
    pub no_input: String,
    pub no_match: String,
    pub dtmf_yes_no: String,
    pub closing: Closings,
    /// The read-back line per confirmable slot, with `{value}` (every slot of
    /// [`CONFIRMABLE`](super::confirm::CONFIRMABLE) is present after validation).
    pub confirm: BTreeMap<SlotKind, String>,
    /// The keypad line per slot of [`KEYABLE`](super::confirm::KEYABLE).
    pub key_in: BTreeMap<SlotKind, String>,
}

/// The last line of the call, per way it ends.
#[derive(Debug, Clone, Default)]
pub struct Closings {
    pub completed: String,
    pub opted_out: String,
    pub rescheduled: String,
    pub declined_consent: String,
    pub wrong_person: String,
    pub knocked_out: String,
    pub no_response: String,
}

#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub prompt: PerLang<String>,
    /// What the question asks for (given to the NLU; the answer must fill one).
    pub slots: Vec<SlotKind>,
    /// Vocabulary to prime the ASR with ("Kubernetes, Kafka, Redis").
    pub asr_prompt: PerLang<String>,
    pub reprompt_no_input: PerLang<String>,
    pub reprompt_no_match: PerLang<String>,
    pub max_retries: u32,
    pub barge_in: bool,
    pub endpointing: EndpointSettings,
    pub followups: Vec<FollowUp>,
    pub knockouts: Vec<Knockout>,
    pub rubric: Option<Rubric>,
}

impl Question {
    /// The slots whose value decides points or a knockout.
    pub fn scored_slots(&self) -> Vec<SlotKind> {
        let mut out: Vec<SlotKind> = self.knockouts.iter().flat_map(|k| k.when.slots()).collect();
        if let Some(r) = &self.rubric {
            out.extend(r.tiers.iter().flat_map(|t| t.when.slots()));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Asked after the question's answer when `when` holds on the slots given so far.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub id: String,
    pub when: Condition,
    pub prompt: PerLang<String>,
    pub slots: Vec<SlotKind>,
    pub asr_prompt: PerLang<String>,
    /// Without these, the script's generic no-input/no-match line and the prompt.
    pub reprompt_no_input: PerLang<String>,
    pub reprompt_no_match: PerLang<String>,
}

/// Ends the interview politely when `when` holds.
#[derive(Debug, Clone)]
pub struct Knockout {
    pub when: Condition,
    pub reason: String,
}

/// How a question's answer earns points. Its maximum is the best tier plus every
/// required skill plus the similarity points.
#[derive(Debug, Clone)]
pub struct Rubric {
    pub weight: f32,
    /// The first tier whose condition holds gives its points.
    pub tiers: Vec<Tier>,
    pub skills: Option<SkillRule>,
    pub similarity: Option<SimilarityRule>,
}

#[derive(Debug, Clone)]
pub struct Tier {
    pub when: Condition,
    pub points: f32,
}

/// Points for each required skill the candidate named.
#[derive(Debug, Clone)]
pub struct SkillRule {
    pub required: Vec<String>,
    pub points_each: f32,
}

/// An open answer against a reference answer: embedding similarity mapped
/// linearly from `floor` (0 points) to `full` (all points); without embeddings,
/// the share of keywords the answer contains, from 0 to `keywords_full`.
#[derive(Debug, Clone)]
pub struct SimilarityRule {
    pub points: f32,
    pub reference: PerLang<String>,
    pub keywords: PerLang<Vec<String>>,
    pub floor: f32,
    pub full: f32,
    pub keywords_full: f32,
}

impl Rubric {
    pub fn max_points(&self) -> f32 {
        let tiers = self.tiers.iter().map(|t| t.points).fold(0.0, f32::max);
        let skills = self
            .skills
            .as_ref()
            .map_or(0.0, |s| s.points_each * s.required.len() as f32);
        let sim = self.similarity.as_ref().map_or(0.0, |s| s.points);
        tiers + skills + sim
    }
}

/// Thresholds of the overall 0–100 score.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub advance_at: f32,
    pub hold_at: f32,
}
