//! The validation context: builds errors that name the file, key and line, and
//! checks the pieces every part of a script is made of (ids, lines, slots,
//! conditions, skills, points).

use std::path::PathBuf;

use voxhire_nlu::skills::SkillTaxonomy;
use voxhire_nlu::{Lang, SlotKind};

use super::super::condition::{normalize_skill, Condition, ConditionError};
use super::super::error::{KeyPath, ScriptError};
use super::super::locate::Locator;
use super::super::model::PerLang;
use super::super::protected::{check_term, check_text};
use super::super::raw::{RawEndpointing, RawPerLang};
use crate::io::EndpointSettings;

pub(super) struct Ctx {
    pub(super) file: PathBuf,
    pub(super) loc: Locator,
}

pub(super) type R<T> = Result<T, ScriptError>;

impl Ctx {
    pub(super) fn invalid(&self, key: &KeyPath, message: impl Into<String>) -> ScriptError {
        ScriptError::Invalid {
            file: self.file.clone(),
            key: key.to_string(),
            line: self.loc.line(key),
            message: message.into(),
        }
    }

    pub(super) fn protected(&self, key: &KeyPath, term: String) -> ScriptError {
        ScriptError::ProtectedAttribute {
            file: self.file.clone(),
            key: key.to_string(),
            line: self.loc.line(key),
            term,
        }
    }

    pub(super) fn required<'a, T>(&self, v: &'a Option<T>, key: &KeyPath) -> R<&'a T> {
        v.as_ref().ok_or_else(|| self.invalid(key, "missing"))
    }

    pub(super) fn identifier(&self, v: &Option<String>, key: &KeyPath) -> R<String> {
        let id = self.required(v, key)?.trim().to_owned();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(self.invalid(key, format!("{id:?}: use letters, digits, _ and -")));
        }
        if let Some(term) = check_term(&id) {
            return Err(self.protected(key, term));
        }
        Ok(id)
    }

    /// A line the agent says: not empty, no placeholder but `{name}`, nothing
    /// protected.
    pub(super) fn line(&self, text: &str, key: &KeyPath) -> R<String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(self.invalid(key, "empty line"));
        }
        let without_name = text.replace("{name}", "");
        if without_name.contains('{') || without_name.contains('}') {
            return Err(self.invalid(
                key,
                "unknown placeholder (only {name}, the candidate's name, is filled in)",
            ));
        }
        if let Some(term) = check_text(text) {
            return Err(self.protected(key, term));
        }
        Ok(text.to_owned())
    }

    pub(super) fn required_line(&self, v: &Option<String>, key: &KeyPath) -> R<String> {
        let text = v
            .as_ref()
            .ok_or_else(|| self.invalid(key, "missing line"))?;
        self.line(text, key)
    }

    /// A per-language text that every offered language must have.
    pub(super) fn per_lang(
        &self,
        v: &Option<RawPerLang<String>>,
        langs: &[Lang],
        key: &KeyPath,
    ) -> R<PerLang<String>> {
        let raw = v.clone().unwrap_or_default();
        for &lang in langs {
            if raw_get(&raw, lang).is_none() {
                return Err(self.invalid(
                    &key.key(lang.code()),
                    format!("missing the {lang} text (the script offers {lang})"),
                ));
            }
        }
        self.optional_per_lang(&Some(raw), key)
    }

    pub(super) fn optional_per_lang(
        &self,
        v: &Option<RawPerLang<String>>,
        key: &KeyPath,
    ) -> R<PerLang<String>> {
        let Some(raw) = v else {
            return Ok(PerLang::default());
        };
        let mut out = PerLang::default();
        if let Some(t) = &raw.en {
            out.en = Some(self.line(t, &key.key("en"))?);
        }
        if let Some(t) = &raw.zh {
            out.zh = Some(self.line(t, &key.key("zh"))?);
        }
        Ok(out)
    }

    pub(super) fn slots(&self, names: &[String], key: &KeyPath) -> R<Vec<SlotKind>> {
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let k = key.index(i);
            if let Some(term) = check_term(name) {
                return Err(self.protected(&k, term));
            }
            let kind: SlotKind = name.parse().map_err(|e: String| self.invalid(&k, e))?;
            if kind == SlotKind::CallbackTime {
                return Err(self.invalid(
                    &k,
                    "callback_time is asked by the dialog itself, not by a question",
                ));
            }
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
        Ok(out)
    }

    /// A skill id of the NLU's taxonomy: a synonym ("k8s", "Spring Cloud",
    /// 小程序) is accepted and stored as its canonical id, an unknown skill is
    /// refused (it could never be matched, silently costing candidates points).
    pub(super) fn skill(&self, name: &str, key: &KeyPath) -> R<String> {
        let taxonomy = SkillTaxonomy::builtin();
        let normalized = normalize_skill(name);
        if let Some(id) = taxonomy.ids().find(|id| normalize_skill(id) == normalized) {
            return Ok(id.to_owned());
        }
        match taxonomy.canonical(name).or_else(|| taxonomy.canonical(&normalized)) {
            Some(id) => Ok(id.to_owned()),
            None => Err(self.invalid(
                key,
                format!(
                    "unknown skill {name:?}: the NLU's taxonomy (crates/voxhire-nlu/data/skills.toml) \
                     has no such skill or synonym"
                ),
            )),
        }
    }

    /// A condition that may only read slots in `allowed`.
    pub(super) fn condition(
        &self,
        v: &Option<String>,
        allowed: &[SlotKind],
        key: &KeyPath,
    ) -> R<Condition> {
        let text = self.required(v, key)?;
        let mut cond = Condition::parse(text).map_err(|e| match e {
            ConditionError::Protected(term) => self.protected(key, term),
            other => self.invalid(key, format!("bad condition: {other}")),
        })?;
        for id in cond.skill_ids_mut() {
            *id = self.skill(id, key)?;
        }
        for slot in cond.slots() {
            if !allowed.contains(&slot) {
                let names: Vec<_> = allowed.iter().map(|k| k.name()).collect();
                return Err(self.invalid(
                    key,
                    format!(
                        "{text:?} reads the slot {} which this question does not ask for (it asks for: {})",
                        slot.name(),
                        names.join(", ")
                    ),
                ));
            }
        }
        Ok(cond)
    }

    pub(super) fn endpointing(
        &self,
        raw: &RawEndpointing,
        base: EndpointSettings,
        key: &KeyPath,
    ) -> R<EndpointSettings> {
        let e = EndpointSettings {
            min_speech_ms: raw.min_speech_ms.unwrap_or(base.min_speech_ms),
            end_of_turn_silence_ms: raw
                .end_of_turn_silence_ms
                .unwrap_or(base.end_of_turn_silence_ms),
            max_utterance_ms: raw.max_utterance_ms.unwrap_or(base.max_utterance_ms),
            no_input_timeout_ms: raw.no_input_timeout_ms.unwrap_or(base.no_input_timeout_ms),
        };
        let checks = [
            ("min_speech_ms", e.min_speech_ms, 20, 2_000),
            (
                "end_of_turn_silence_ms",
                e.end_of_turn_silence_ms,
                100,
                5_000,
            ),
            ("max_utterance_ms", e.max_utterance_ms, 1_000, 120_000),
            ("no_input_timeout_ms", e.no_input_timeout_ms, 1_000, 60_000),
        ];
        for (name, value, lo, hi) in checks {
            if !(lo..=hi).contains(&value) {
                return Err(
                    self.invalid(&key.key(name), format!("{value} is outside {lo}..={hi} ms"))
                );
            }
        }
        Ok(e)
    }

    pub(super) fn points(&self, v: Option<f32>, key: &KeyPath) -> R<f32> {
        let p = v.ok_or_else(|| self.invalid(key, "missing"))?;
        if !(p.is_finite() && p >= 0.0) {
            return Err(self.invalid(key, format!("{p}: points must be a number ≥ 0")));
        }
        Ok(p)
    }
}

pub(super) fn raw_get<T>(raw: &RawPerLang<T>, lang: Lang) -> Option<&T> {
    match lang {
        Lang::En => raw.en.as_ref(),
        Lang::Zh => raw.zh.as_ref(),
    }
}
