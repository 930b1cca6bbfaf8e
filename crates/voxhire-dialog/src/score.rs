//! The rubric applied to one question's answers: deterministic, and every point
//! traced to the rule that gave it and the words it came from.

use serde::Serialize;
use voxhire_nlu::{Evidence, Lang, SentenceSimilarity, Slot, SlotKind, SlotValue};

use crate::script::condition::normalize_skill;
use crate::script::{Question, Rubric, SimilarityRule, SkillRule, Tier};
use crate::slots::SlotTable;

/// Points of one question, rule by rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionScore {
    pub points: f32,
    pub max_points: f32,
    pub weight: f32,
    pub rules: Vec<RuleScore>,
}

/// What one rule gave, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleScore {
    /// `tier: years_experience >= 5`, `skills`, `similarity`.
    pub rule: String,
    pub points: f32,
    pub max_points: f32,
    /// In words: the values compared, the skills matched, the similarity.
    pub detail: String,
    pub evidence: Vec<Evidence>,
}

/// One decimal: scores are read by people, and rounding keeps reports stable.
pub(crate) fn round1(x: f32) -> f32 {
    (x * 10.0).round() / 10.0
}

/// Scores a question's answers (slots as heard, and merged in `table`).
pub(crate) fn score_question(
    question: &Question,
    slots: &[Slot],
    table: &SlotTable,
    lang: Lang,
    similarity: Option<&dyn SentenceSimilarity>,
) -> Option<QuestionScore> {
    let rubric: &Rubric = question.rubric.as_ref()?;
    let mut rules = Vec::new();
    if !rubric.tiers.is_empty() {
        rules.push(tiers(&rubric.tiers, table));
    }
    if let Some(rule) = &rubric.skills {
        rules.push(skills(rule, slots));
    }
    if let Some(rule) = &rubric.similarity {
        rules.push(open_answer(rule, slots, lang, similarity));
    }
    Some(QuestionScore {
        points: round1(rules.iter().map(|r| r.points).sum()),
        max_points: rubric.max_points(),
        weight: rubric.weight,
        rules,
    })
}

fn describe(slot: &Slot) -> String {
    match &slot.value {
        SlotValue::Years { years } => format!("{} = {years} years", slot.kind.name()),
        SlotValue::Money { amount, currency } => {
            format!("{} = {amount} {currency}", slot.kind.name())
        }
        SlotValue::Days { days } => format!("{} = {days} days", slot.kind.name()),
        SlotValue::Date { date } => format!("{} = {date}", slot.kind.name()),
        SlotValue::DateTime { at } => format!("{} = {at}", slot.kind.name()),
        SlotValue::Skills { skills } => format!("{} = {}", slot.kind.name(), skills.join(", ")),
        SlotValue::Text { text } => format!("{} = {text:?}", slot.kind.name()),
    }
}

/// The first tier that holds gives its points.
fn tiers(tiers: &[Tier], table: &SlotTable) -> RuleScore {
    let max = tiers.iter().map(|t| t.points).fold(0.0, f32::max);
    let read: Vec<&Slot> = {
        let mut kinds: Vec<SlotKind> = tiers.iter().flat_map(|t| t.when.slots()).collect();
        kinds.sort();
        kinds.dedup();
        kinds.iter().filter_map(|k| table.get(*k)).collect()
    };
    let values = if read.is_empty() {
        "no answer".to_owned()
    } else {
        read.iter()
            .map(|s| describe(s))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let evidence = read.iter().map(|s| s.evidence.clone()).collect();
    match tiers.iter().find(|t| t.when.holds(table)) {
        Some(t) => RuleScore {
            rule: format!("tier: {}", t.when),
            points: t.points,
            max_points: max,
            detail: values,
            evidence,
        },
        None => RuleScore {
            rule: "tiers: none holds".into(),
            points: 0.0,
            max_points: max,
            detail: values,
            evidence,
        },
    }
}

/// `points_each` per required skill the candidate named.
fn skills(rule: &SkillRule, slots: &[Slot]) -> RuleScore {
    let mut named = Vec::new();
    let mut evidence = Vec::new();
    for slot in slots {
        if let SlotValue::Skills { skills } = &slot.value {
            named.extend(skills.iter().map(|s| normalize_skill(s)));
            evidence.push(slot.evidence.clone());
        }
    }
    let (matched, missing): (Vec<&String>, Vec<&String>) =
        rule.required.iter().partition(|r| named.contains(r));
    let join = |v: &[&String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        }
    };
    RuleScore {
        rule: format!("skills: {} points each", rule.points_each),
        points: rule.points_each * matched.len() as f32,
        max_points: rule.points_each * rule.required.len() as f32,
        detail: format!("named {}; not named {}", join(&matched), join(&missing)),
        evidence,
    }
}

/// Similarity of the open answer to the reference answer.
fn open_answer(
    rule: &SimilarityRule,
    slots: &[Slot],
    lang: Lang,
    similarity: Option<&dyn SentenceSimilarity>,
) -> RuleScore {
    let texts: Vec<&str> = slots
        .iter()
        .filter_map(|s| match &s.value {
            SlotValue::Text { text } if s.kind == SlotKind::Project => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let evidence: Vec<Evidence> = slots
        .iter()
        .filter(|s| s.kind == SlotKind::Project)
        .map(|s| s.evidence.clone())
        .collect();
    let answer = texts.join(" ");
    let reference = rule.reference.text(lang);
    if answer.trim().is_empty() {
        return RuleScore {
            rule: "similarity".into(),
            points: 0.0,
            max_points: rule.points,
            detail: "no answer".into(),
            evidence,
        };
    }
    let embedded = similarity.and_then(|s| s.similarity(&answer, reference, lang));
    let (rule_name, share, detail) = match embedded {
        Some(sim) => {
            let share = ((sim - rule.floor) / (rule.full - rule.floor)).clamp(0.0, 1.0);
            (
                "similarity: embedding",
                share,
                format!(
                    "cosine similarity {sim:.2} to the reference answer (0 points at {}, all at {})",
                    rule.floor, rule.full
                ),
            )
        }
        None => {
            let keywords = match rule.keywords.get(lang) {
                Some(k) if !k.is_empty() => k.clone(),
                _ => derived_keywords(reference, lang),
            };
            let lower = answer.to_lowercase();
            let found: Vec<&String> = keywords
                .iter()
                .filter(|k| lower.contains(k.as_str()))
                .collect();
            let overlap = if keywords.is_empty() {
                0.0
            } else {
                found.len() as f32 / keywords.len() as f32
            };
            let share = (overlap / rule.keywords_full).clamp(0.0, 1.0);
            (
                "similarity: keywords",
                share,
                format!(
                    "{} of {} reference keywords ({}); all points at {:.0} %",
                    found.len(),
                    keywords.len(),
                    found
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    rule.keywords_full * 100.0
                ),
            )
        }
    };
    RuleScore {
        rule: rule_name.into(),
        points: round1(share * rule.points),
        max_points: rule.points,
        detail,
        evidence,
    }
}

/// Keywords of a reference answer when the script lists none: English words of
/// five letters or more; Mandarin two-character runs (no segmenter here).
fn derived_keywords(reference: &str, lang: Lang) -> Vec<String> {
    let mut out: Vec<String> = match lang {
        Lang::En => reference
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 5)
            .map(str::to_owned)
            .collect(),
        Lang::Zh => {
            let chars: Vec<char> = reference.chars().collect();
            chars
                .windows(2)
                .filter(|w| w.iter().all(|c| ('\u{4e00}'..='\u{9fff}').contains(c)))
                .map(|w| w.iter().collect())
                .collect()
        }
    };
    out.sort();
    out.dedup();
    out
}
