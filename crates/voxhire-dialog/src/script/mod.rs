//! The interview script: a TOML file a recruiter writes (company, role, the
//! lines the agent says in each language, the questions with their follow-ups,
//! reprompts, knockouts and scoring rubric), validated when it loads.
//!
//! Every error names the file, the key path (`questions[2].followups[0].when`)
//! and the line. Scripts that ask about or score a protected attribute (age,
//! gender, origin, marital or family status, religion, health, disability) are
//! refused: see [`protected`]. The two scripts in `config/` are the reference
//! for the format; in short:
//!
//! ```text
//! id, title, company, role, languages = ["en"]
//! [endpointing]   min_speech_ms, end_of_turn_silence_ms, max_utterance_ms, no_input_timeout_ms
//! [dialog]        barge_in (default true), max_retries (default 2),
//!                 confirm_below (default 0.65): read back a scored number or
//!                 date heard with less confidence than this (0: never)
//! [scoring]       advance_at (70), hold_at (50): thresholds of the 0–100 score
//! [prompts.<lang>] greeting, disclosure, consent_question, identity ({name}),
//!                 identity_no_name (optional), good_time, callback_question,
//!                 no_input, no_match, dtmf_yes_no
//! [prompts.<lang>.closing] completed, opted_out, rescheduled, declined_consent,
//!                 wrong_person, knocked_out, no_response
//! [prompts.<lang>.confirm] years_experience, salary_monthly, start_date,
//!                 notice_period: read-back lines with {value} (optional: built-in)
//! [prompts.<lang>.key_in] years_experience, salary_monthly, notice_period:
//!                 keypad entry after a failed read-back (optional: built-in)
//! [[questions]]   id, slots, prompt.<lang>, reprompt_no_input.<lang>,
//!                 reprompt_no_match.<lang>, asr_prompt.<lang>, max_retries,
//!                 barge_in, endpointing.*
//!   [[questions.followups]] id, when, prompt.<lang>, slots, asr_prompt, reprompt_*
//!   [[questions.knockout]]  when, reason
//!   [questions.rubric]      weight, tiers = [{ when, points }],
//!                           skills = { required, points_each },
//!                           similarity = { points, reference.<lang>, keywords.<lang>,
//!                                          floor, full, keywords_full }
//! [intent_examples.<lang>] yes/no/repeat/reschedule/opt_out/answer/unclear = [...]
//! ```
//!
//! Conditions (`when`) are described in [`condition`]; they may only read slots
//! the question (or an earlier follow-up of it) asks for.

pub mod condition;
pub mod confirm;
mod error;
mod locate;
mod model;
pub mod protected;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use voxhire_nlu::{IntentExamples, Lang};

pub use condition::Condition;
pub use error::{KeyPath, ScriptError};
pub use model::{
    Closings, FixedTexts, FollowUp, Knockout, PerLang, Question, Rubric, SimilarityRule, SkillRule,
    Thresholds, Tier,
};

use crate::io::{EndpointSettings, PromptId};

/// A loaded, validated interview script. Shared by every call of a campaign
/// (`Arc<InterviewScript>`).
#[derive(Debug, Clone)]
pub struct InterviewScript {
    pub(crate) path: PathBuf,
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) company: String,
    pub(crate) role: String,
    pub(crate) languages: Vec<Lang>,
    pub(crate) texts: PerLang<FixedTexts>,
    pub(crate) endpointing: EndpointSettings,
    pub(crate) barge_in: bool,
    pub(crate) max_retries: u32,
    pub(crate) confirm_below: f32,
    pub(crate) thresholds: Thresholds,
    pub(crate) questions: Vec<Question>,
    pub(crate) intent_examples: IntentExamples,
}

impl InterviewScript {
    /// Reads and validates a script file.
    pub fn load(path: impl AsRef<Path>) -> Result<InterviewScript, ScriptError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            file: path.to_owned(),
            source,
        })?;
        Self::from_str(&text, path)
    }

    /// Validates a script held in memory; `path` is only used in errors.
    #[allow(clippy::should_implement_trait)] // FromStr has no room for the path.
    pub fn from_str(text: &str, path: impl AsRef<Path>) -> Result<InterviewScript, ScriptError> {
        validate::validate(text, path.as_ref())
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn company(&self) -> &str {
        &self.company
    }
    pub fn role(&self) -> &str {
        &self.role
    }
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The interview languages offered, the first being the default.
    pub fn languages(&self) -> &[Lang] {
        &self.languages
    }
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }
    /// The script-wide endpointing (questions may override it; the dialog passes
    /// each turn's settings in `ListenContext::endpointing`).
    pub fn endpointing(&self) -> EndpointSettings {
        self.endpointing
    }
    /// A scored value heard with less confidence than this is read back to the
    /// candidate (0: never).
    pub fn confirm_below(&self) -> f32 {
        self.confirm_below
    }
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }
    /// Example utterances per intent, for the English intent classifier.
    pub fn intent_examples(&self) -> IntentExamples {
        self.intent_examples.clone()
    }

    /// The fixed lines of `lang` (falls back to the default language).
    pub fn texts(&self, lang: Lang) -> &FixedTexts {
        self.texts
            .get(lang)
            .or_else(|| self.languages.first().and_then(|l| self.texts.get(*l)))
            .unwrap_or(&EMPTY_TEXTS)
    }

    /// Every fixed line of `lang` with its id, for the TTS prompt cache. Lines
    /// with `{name}` are listed with the placeholder (the dialog fills it in, so
    /// those are synthesised live).
    pub fn prompts(&self, lang: Lang) -> Vec<(PromptId, String)> {
        let mut out = Vec::new();
        let mut add = |id: String, text: &str| {
            if !text.is_empty() {
                out.push((PromptId(id), text.to_owned()));
            }
        };
        if self.texts.get(lang).is_none() {
            return Vec::new();
        }
        let t = self.texts(lang);
        add("greeting".into(), &t.greeting);
        add("disclosure".into(), &t.disclosure);
        add("consent_question".into(), &t.consent_question);
        add("identity".into(), &t.identity);
        if let Some(line) = &t.identity_no_name {
            add("identity_no_name".into(), line);
        }
        add("good_time".into(), &t.good_time);
        add("callback_question".into(), &t.callback_question);
        add("no_input".into(), &t.no_input);
        add("no_match".into(), &t.no_match);
        add("dtmf_yes_no".into(), &t.dtmf_yes_no);
        for (status, line) in closings(&t.closing) {
            add(format!("closing.{status}"), line);
        }
        for (kind, line) in &t.key_in {
            add(format!("key_in.{}", kind.name()), line);
        }
        for q in &self.questions {
            let base = format!("questions.{}", q.id);
            add(format!("{base}.prompt"), q.prompt.text(lang));
            add(
                format!("{base}.reprompt_no_input"),
                q.reprompt_no_input.text(lang),
            );
            add(
                format!("{base}.reprompt_no_match"),
                q.reprompt_no_match.text(lang),
            );
            for f in &q.followups {
                let base = format!("{base}.followups.{}", f.id);
                add(format!("{base}.prompt"), f.prompt.text(lang));
                add(
                    format!("{base}.reprompt_no_input"),
                    f.reprompt_no_input.text(lang),
                );
                add(
                    format!("{base}.reprompt_no_match"),
                    f.reprompt_no_match.text(lang),
                );
            }
        }
        out
    }
}

/// The closing lines with the status name they are said for.
pub(crate) fn closings(c: &Closings) -> [(&'static str, &String); 7] {
    [
        ("completed", &c.completed),
        ("opted_out", &c.opted_out),
        ("rescheduled", &c.rescheduled),
        ("declined_consent", &c.declined_consent),
        ("wrong_person", &c.wrong_person),
        ("knocked_out", &c.knocked_out),
        ("no_response", &c.no_response),
    ]
}

static EMPTY_TEXTS: FixedTexts = FixedTexts {
    greeting: String::new(),
    disclosure: String::new(),
    consent_question: String::new(),
    identity: String::new(),
    identity_no_name: None,
    good_time: String::new(),
    callback_question: String::new(),
    no_input: String::new(),
    no_match: String::new(),
    dtmf_yes_no: String::new(),
    closing: Closings {
        completed: String::new(),
        opted_out: String::new(),
        rescheduled: String::new(),
        declined_consent: String::new(),
        wrong_person: String::new(),
        knocked_out: String::new(),
        no_response: String::new(),
    },
    confirm: BTreeMap::new(),
    key_in: BTreeMap::new(),
};
