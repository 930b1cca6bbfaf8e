//! The script file as written: every field optional so that validation (not
//! serde) reports what is missing, with the key path and line.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScript {
    pub id: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub role: Option<String>,
    pub languages: Option<Vec<String>>,
    #[serde(default)]
    pub endpointing: RawEndpointing,
    #[serde(default)]
    pub dialog: RawDialog,
    #[serde(default)]
    pub scoring: RawScoring,
    #[serde(default)]
    pub prompts: BTreeMap<String, RawFixedTexts>,
    #[serde(default)]
    pub questions: Vec<RawQuestion>,
    /// `[intent_examples.en] yes = ["sure", …]`
    #[serde(default)]
    pub intent_examples: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEndpointing {
    pub min_speech_ms: Option<u32>,
    pub end_of_turn_silence_ms: Option<u32>,
    pub max_utterance_ms: Option<u32>,
    pub no_input_timeout_ms: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDialog {
    pub barge_in: Option<bool>,
    pub max_retries: Option<u32>,
    pub confirm_below: Option<f32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScoring {
    pub advance_at: Option<f32>,
    pub hold_at: Option<f32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFixedTexts {
    pub greeting: Option<String>,
    pub disclosure: Option<String>,
    pub consent_question: Option<String>,
    pub identity: Option<String>,
    pub identity_no_name: Option<String>,
    pub good_time: Option<String>,
    pub callback_question: Option<String>,
    pub no_input: Option<String>,
    pub no_match: Option<String>,
    pub dtmf_yes_no: Option<String>,
    #[serde(default)]
    pub closing: RawClosings,
    /// `years_experience = "So that's {value} of experience?"`
    #[serde(default)]
    pub confirm: BTreeMap<String, String>,
    #[serde(default)]
    pub key_in: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClosings {
    pub completed: Option<String>,
    pub opted_out: Option<String>,
    pub rescheduled: Option<String>,
    pub declined_consent: Option<String>,
    pub wrong_person: Option<String>,
    pub knocked_out: Option<String>,
    pub no_response: Option<String>,
}

/// `{ en = "…", zh = "…" }`
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPerLang<T> {
    pub en: Option<T>,
    pub zh: Option<T>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuestion {
    pub id: Option<String>,
    pub prompt: Option<RawPerLang<String>>,
    #[serde(default)]
    pub slots: Vec<String>,
    pub asr_prompt: Option<RawPerLang<String>>,
    pub reprompt_no_input: Option<RawPerLang<String>>,
    pub reprompt_no_match: Option<RawPerLang<String>>,
    pub max_retries: Option<u32>,
    pub barge_in: Option<bool>,
    #[serde(default)]
    pub endpointing: RawEndpointing,
    #[serde(default)]
    pub followups: Vec<RawFollowUp>,
    #[serde(default)]
    pub knockout: Vec<RawKnockout>,
    pub rubric: Option<RawRubric>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFollowUp {
    pub id: Option<String>,
    pub when: Option<String>,
    pub prompt: Option<RawPerLang<String>>,
    #[serde(default)]
    pub slots: Vec<String>,
    pub asr_prompt: Option<RawPerLang<String>>,
    pub reprompt_no_input: Option<RawPerLang<String>>,
    pub reprompt_no_match: Option<RawPerLang<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKnockout {
    pub when: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRubric {
    pub weight: Option<f32>,
    #[serde(default)]
    pub tiers: Vec<RawTier>,
    pub skills: Option<RawSkillRule>,
    pub similarity: Option<RawSimilarityRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTier {
    pub when: Option<String>,
    pub points: Option<f32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSkillRule {
    #[serde(default)]
    pub required: Vec<String>,
    pub points_each: Option<f32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSimilarityRule {
    pub points: Option<f32>,
    pub reference: Option<RawPerLang<String>>,
    pub keywords: Option<RawPerLang<Vec<String>>>,
    pub floor: Option<f32>,
    pub full: Option<f32>,
    pub keywords_full: Option<f32>,
}
