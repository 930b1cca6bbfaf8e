//! The skill taxonomy: canonical skill ids, their display names, and the ways
//! candidates and Whisper say them ("k8s", "cooper netties", 容器编排 →
//! `kubernetes`), from `data/skills.toml`.
//!
//! English synonyms match token by token with the spaces between words optional,
//! so one entry "spring boot" also catches "springboot", and "java script" is
//! JavaScript, not Java (the longest match wins). Mandarin synonyms match as
//! substrings. A match inside a negated or wished-for phrase ("I have never used
//! Kafka", 没用过Kafka, "I want to learn Rust") is returned with `negated` set so
//! the slot extractor can leave it out; see [`negation`] for how far that goes.
//!
//! ```
//! use voxhire_nlu::{skills::SkillTaxonomy, Lang};
//! let tax = SkillTaxonomy::builtin();
//! let ids: Vec<_> = tax.find("spring boot and cooper netties", Lang::En).into_iter().map(|m| m.id).collect();
//! assert_eq!(ids, ["spring", "kubernetes"]);
//! assert_eq!(tax.canonical("K8S"), Some("kubernetes"));
//! assert_eq!(tax.display_name("vue"), Some("Vue.js"));
//! ```

pub(crate) mod negation;
pub(crate) mod sounds;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::numbers::lex::{tokenize, Tok, TokKind};
use crate::types::Lang;

/// A skill found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillMatch {
    /// Canonical id (`kubernetes`).
    pub id: String,
    /// The words as said ("cooper netties").
    pub matched: String,
    /// Byte range in the text.
    pub span: Range<usize>,
    /// Said in a negated or hypothetical phrase ("never used", 没用过, "want to learn").
    pub negated: bool,
}

/// A taxonomy data file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SkillsError {
    #[error("skill taxonomy {file}: not valid TOML: {err}")]
    Toml {
        file: String,
        #[source]
        err: toml::de::Error,
    },
    #[error("skill taxonomy {file}: skill id {id:?} appears twice")]
    DuplicateId { file: String, id: String },
    #[error("skill taxonomy {file}: synonym {synonym:?} of skill {id:?} is already a synonym of {other:?}")]
    DuplicateSynonym {
        file: String,
        id: String,
        synonym: String,
        other: String,
    },
    #[error("skill taxonomy {file}: synonym {synonym:?} of skill {id:?} has no letters or digits")]
    EmptySynonym {
        file: String,
        id: String,
        synonym: String,
    },
}

#[derive(Deserialize)]
struct TaxonomyFile {
    skill: Vec<SkillEntry>,
}

#[derive(Deserialize)]
struct SkillEntry {
    id: String,
    name: String,
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    zh: Vec<String>,
    /// How Whisper writes the English name in characters when a Mandarin speaker
    /// says it (麦西扣 for MySQL): matched by sound, see [`sounds`].
    #[serde(default)]
    sounds: Vec<String>,
}

/// The skills the interview knows, indexed for matching.
#[derive(Debug)]
pub struct SkillTaxonomy {
    /// (id, display name)
    skills: Vec<(String, String)>,
    /// English synonym with its words joined ("springboot") → skill index.
    by_key: HashMap<String, usize>,
    /// The most tokens an English synonym spans (joiners like "." count).
    max_tokens: usize,
    /// Mandarin synonyms, ASCII lower-cased, longest first.
    zh: Vec<(String, usize)>,
    /// Renderings in characters, as sound units, with the skill index.
    sounds: Vec<(Vec<sounds::Unit>, usize)>,
}

static BUILTIN: LazyLock<SkillTaxonomy> = LazyLock::new(|| {
    SkillTaxonomy::from_toml("data/skills.toml", include_str!("../data/skills.toml"))
        .unwrap_or_else(|e| panic!("the built-in {e} (a test checks this file)"))
});

/// What an English synonym or a span of the utterance reads as with the spaces
/// (and `.`, `-`, `/`, `_`) dropped: "Vue.js" → "vuejs", "C++" → "c++".
fn join_key(toks: &[Tok]) -> Option<String> {
    let mut key = String::new();
    // ".NET": a leading dot is part of the name.
    if toks.first().is_some_and(|t| t.is(".")) && toks.len() > 1 {
        key.push('.');
    }
    for t in toks {
        match t.kind {
            TokKind::Word | TokKind::Digits => key.push_str(&t.text),
            TokKind::Sym if matches!(t.text.as_str(), "+" | "#") => key.push_str(&t.text),
            TokKind::Sym if is_joiner(t) => {}
            _ => return None,
        }
    }
    (!key.is_empty()).then_some(key)
}

fn is_joiner(t: &Tok) -> bool {
    t.kind == TokKind::Sym && matches!(t.text.as_str(), "." | "-" | "/" | "_")
}

impl SkillTaxonomy {
    /// The taxonomy shipped in `data/skills.toml`.
    pub fn builtin() -> &'static SkillTaxonomy {
        &BUILTIN
    }

    /// Reads a taxonomy file (`file` names it in errors).
    pub fn from_toml(file: &str, text: &str) -> Result<Self, SkillsError> {
        let parsed: TaxonomyFile = toml::from_str(text).map_err(|err| SkillsError::Toml {
            file: file.to_string(),
            err,
        })?;
        let mut tax = SkillTaxonomy {
            skills: Vec::new(),
            by_key: HashMap::new(),
            max_tokens: 1,
            zh: Vec::new(),
            sounds: Vec::new(),
        };
        for (idx, entry) in parsed.skill.into_iter().enumerate() {
            if tax.skills.iter().any(|(id, _)| *id == entry.id) {
                return Err(SkillsError::DuplicateId {
                    file: file.to_string(),
                    id: entry.id,
                });
            }
            let own = [entry.id.replace('_', " "), entry.name.clone()];
            for synonym in entry.en.iter().chain(own.iter()) {
                let toks = tokenize(synonym);
                let Some(key) = join_key(&toks) else {
                    return Err(SkillsError::EmptySynonym {
                        file: file.to_string(),
                        id: entry.id,
                        synonym: synonym.clone(),
                    });
                };
                match tax.by_key.get(&key) {
                    Some(&other) if other != idx && entry.en.contains(synonym) => {
                        return Err(SkillsError::DuplicateSynonym {
                            file: file.to_string(),
                            id: entry.id,
                            synonym: synonym.clone(),
                            other: tax.skills[other].0.clone(),
                        });
                    }
                    Some(_) => {}
                    None => {
                        tax.max_tokens = tax.max_tokens.max(toks.len());
                        tax.by_key.insert(key, idx);
                    }
                }
            }
            for synonym in &entry.zh {
                tax.zh.push((synonym.to_ascii_lowercase(), idx));
            }
            for rendering in &entry.sounds {
                let units = sounds::Reading::of(rendering).units();
                if units.is_empty() {
                    return Err(SkillsError::EmptySynonym {
                        file: file.to_string(),
                        id: entry.id,
                        synonym: rendering.clone(),
                    });
                }
                tax.sounds.push((units, idx));
            }
            tax.skills.push((entry.id, entry.name));
        }
        tax.zh.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        Ok(tax)
    }

    /// Every skill said in `text`, in the order said, negated ones flagged.
    /// Both scripts are matched whatever `lang` is (candidates mix them); `lang`
    /// is the language the turn was heard in and only used to skip the Mandarin
    /// scan of pure-ASCII English.
    pub fn find(&self, text: &str, lang: Lang) -> Vec<SkillMatch> {
        let toks = tokenize(text);
        self.find_in(text, &toks, lang)
    }

    /// [`find`](Self::find) on an already tokenized text.
    pub fn find_in(&self, text: &str, toks: &[Tok], lang: Lang) -> Vec<SkillMatch> {
        // (byte span, skill index)
        let mut found: Vec<(Range<usize>, usize)> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            // A name starts at a word, or at a dot glued to the word after it
            // and not to the one before (".NET", but not "asp.net").
            let dot_start = toks[i].is(".")
                && toks
                    .get(i + 1)
                    .is_some_and(|n| n.glued && n.kind == TokKind::Word)
                && !(toks[i].glued
                    && i > 0
                    && matches!(toks[i - 1].kind, TokKind::Word | TokKind::Digits));
            if !(matches!(toks[i].kind, TokKind::Word | TokKind::Digits) || dot_start) {
                i += 1;
                continue;
            }
            // Grow the joined key one token at a time; remember the longest hit.
            let mut key = String::new();
            let mut longest = None;
            for n in 1..=self.max_tokens.min(toks.len() - i) {
                let t = &toks[i + n - 1];
                if n == 1 && dot_start {
                    key.push('.');
                    continue;
                }
                match t.kind {
                    TokKind::Word | TokKind::Digits => key.push_str(&t.text),
                    TokKind::Sym if matches!(t.text.as_str(), "+" | "#") => key.push_str(&t.text),
                    TokKind::Sym if is_joiner(t) => continue,
                    _ => break,
                }
                if let Some(&idx) = self.by_key.get(&key) {
                    longest = Some((n, idx));
                }
            }
            match longest {
                Some((n, idx)) => {
                    found.push((toks[i].span.start..toks[i + n - 1].span.end, idx));
                    i += n;
                }
                None => i += 1,
            }
        }
        if lang == Lang::Zh || !text.is_ascii() {
            let lower = text.to_ascii_lowercase();
            for (pattern, idx) in &self.zh {
                for (start, _) in lower.match_indices(pattern.as_str()) {
                    found.push((start..start + pattern.len(), *idx));
                }
            }
        }
        // Longest first among those starting together; then drop overlaps.
        found.sort_by_key(|(span, _)| (span.start, std::cmp::Reverse(span.end)));
        let mut kept: Vec<(Range<usize>, usize)> = Vec::with_capacity(found.len());
        for (span, idx) in found {
            if kept.last().is_some_and(|(k, _)| k.end > span.start) {
                continue;
            }
            kept.push((span, idx));
        }
        kept.into_iter()
            .map(|(span, idx)| SkillMatch {
                id: self.skills[idx].0.clone(),
                matched: text[span.clone()].to_string(),
                negated: negation::is_negated(text, toks, &span),
                span,
            })
            .collect()
    }

    /// Skills said in English but written in characters (够 for Go, 麦西扣 for
    /// MySQL), found by sound and not overlapping `taken` (what [`find`](Self::find)
    /// already found). With `short` false only renderings of three or more
    /// syllables count: a one- or two-syllable sound is too easily an ordinary
    /// word unless the question asked for skills. `matched` keeps the characters
    /// as heard: the evidence of what was understood.
    pub fn find_by_sound(
        &self,
        text: &str,
        taken: &[Range<usize>],
        short: bool,
    ) -> Vec<SkillMatch> {
        if text.is_ascii() || self.sounds.is_empty() {
            return Vec::new();
        }
        let reading = sounds::Reading::of(text);
        let toks = tokenize(text);
        // (span, cost, skill) — the closest and then longest rendering wins a span.
        let mut found: Vec<(Range<usize>, f32, usize)> = Vec::new();
        for (units, idx) in &self.sounds {
            if !short && units.len() < 3 {
                continue;
            }
            for m in reading.find(units) {
                if taken
                    .iter()
                    .any(|t| t.start < m.span.end && m.span.start < t.end)
                {
                    continue;
                }
                found.push((m.span, m.cost, *idx));
            }
        }
        if short {
            // Latin words Whisper misspelt ("Vte", "Nodjas"): cost 1, behind any
            // rendering heard in characters.
            for (span, word) in reading.latin_words() {
                if self.by_key.contains_key(word)
                    || taken
                        .iter()
                        .any(|t| t.start < span.end && span.start < t.end)
                {
                    continue;
                }
                // The closest name; on a tie the longer ("vte": Vite, not Vue).
                let near = self
                    .by_key
                    .iter()
                    .filter_map(|(key, &idx)| {
                        sounds::near_spelling(word, key)
                            .map(|d| (d, std::cmp::Reverse(key.len()), key.clone(), idx))
                    })
                    .min();
                if let Some((_, _, _, idx)) = near {
                    found.push((span, 1.0, idx));
                }
            }
        }
        found.sort_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then((b.0.end - b.0.start).cmp(&(a.0.end - a.0.start)))
        });
        let mut kept: Vec<(Range<usize>, usize)> = Vec::new();
        for (span, _, idx) in found {
            if kept
                .iter()
                .any(|(k, _)| k.start < span.end && span.start < k.end)
            {
                continue;
            }
            kept.push((span, idx));
        }
        kept.sort_by_key(|(span, _)| span.start);
        kept.into_iter()
            .map(|(span, idx)| SkillMatch {
                id: self.skills[idx].0.clone(),
                matched: text[span.clone()].to_string(),
                negated: negation::is_negated(text, &toks, &span),
                span,
            })
            .collect()
    }

    /// The canonical id of a skill name or synonym ("Spring Boot", "k8s", 微服务,
    /// or an id itself), if the taxonomy knows it.
    pub fn canonical(&self, name: &str) -> Option<&str> {
        let lower = name.trim().to_ascii_lowercase();
        let idx = join_key(&tokenize(&lower))
            .and_then(|k| self.by_key.get(&k).copied())
            .or_else(|| self.zh.iter().find(|(s, _)| *s == lower).map(|(_, i)| *i))
            .or_else(|| self.skills.iter().position(|(id, _)| *id == lower))?;
        Some(&self.skills[idx].0)
    }

    /// The display name of a canonical id (`spring` → "Spring Boot").
    pub fn display_name(&self, id: &str) -> Option<&str> {
        self.skills
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, name)| name.as_str())
    }

    /// All canonical ids, in file order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.skills.iter().map(|(id, _)| id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_file_loads_with_enough_skills() {
        assert!(SkillTaxonomy::builtin().ids().count() >= 50);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let dup =
            "[[skill]]\nid='a'\nname='A'\nen=['x y']\n[[skill]]\nid='b'\nname='B'\nen=['xy']\n";
        let e = SkillTaxonomy::from_toml("t.toml", dup)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "skill taxonomy t.toml: synonym \"xy\" of skill \"b\" is already a synonym of \"a\""
        );
        let e = SkillTaxonomy::from_toml("t.toml", "[[skill]]\nname='x'")
            .map(|_| ())
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("skill taxonomy t.toml: not valid TOML"),
            "{e}"
        );
    }
}
