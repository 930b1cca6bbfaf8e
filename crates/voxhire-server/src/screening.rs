//! Résumé screening: the résumé's text read with the interview's own NLU
//! (the skills taxonomy with its English and Mandarin names, the years
//! parsers), matched against the job's requirements, with the quote behind
//! every decision. Knock-outs: a must-have skill that is missing, fewer years
//! than the minimum.

use serde::{Deserialize, Serialize};
use voxhire_lang::Lang;
use voxhire_nlu::embed::MiniLm;
use voxhire_nlu::skills::SkillTaxonomy;
use voxhire_nlu::slots::{extract_slots, TaggerHints};
use voxhire_nlu::{Heard, NluContext, SlotKind, SlotValue};

/// What a job asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Skills a candidate must have (taxonomy names or synonyms, e.g. "k8s").
    #[serde(default)]
    pub must_have: Vec<String>,
    /// Skills that count in the candidate's favour.
    #[serde(default)]
    pub nice_to_have: Vec<String>,
    /// Minimum years of experience in total.
    #[serde(default)]
    pub min_years: Option<f32>,
    /// The role in a sentence or two ("Backend engineer building payment
    /// services"), compared by meaning with the résumé's sentences. Default:
    /// the job's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl Requirements {
    /// Checks every skill against the taxonomy; the error names the unknown one.
    pub fn validate(&self) -> Result<(), String> {
        let tax = SkillTaxonomy::builtin();
        for s in self.must_have.iter().chain(&self.nice_to_have) {
            if tax.canonical(s).is_none() {
                return Err(format!("{s:?} is not a skill the taxonomy knows"));
            }
        }
        if self
            .summary
            .as_ref()
            .is_some_and(|s| s.chars().count() > 500)
        {
            return Err("summary: at most 500 characters".into());
        }
        match self.min_years {
            Some(y) if !(0.0..=60.0).contains(&y) => Err("min_years must be from 0 to 60".into()),
            _ => Ok(()),
        }
    }
}

/// One requirement and how the résumé meets it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub requirement: String,
    pub kind: &'static str,
    pub met: bool,
    /// The résumé's words that meet it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

/// The screening's result.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Screening {
    /// `shortlisted` or `screened_out`.
    pub decision: &'static str,
    /// 0–100.
    pub score: u32,
    pub checks: Vec<Check>,
    /// Why it was screened out (empty when shortlisted).
    pub reasons: Vec<String>,
    /// Every skill found (canonical ids).
    pub skills: Vec<String>,
    /// The most years of experience the résumé states.
    pub years: Option<f32>,
    /// How close the résumé reads to the role, by meaning (English résumés;
    /// the sentence-embedding model is English-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<Similarity>,
}

/// The résumé's sentence closest in meaning to the role.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Similarity {
    /// Cosine similarity of the two sentence embeddings (MiniLM), -1 to 1.
    pub cosine: f32,
    /// The role as compared.
    pub role: String,
    pub quote: String,
}

/// Cosine at which a résumé's closest sentence counts as about the role, and
/// at which it counts fully. Measured with all-MiniLM-L6-v2
/// (`cargo test -p voxhire-server --test screening_similarity -- --nocapture`):
/// against "Backend engineer building payment services in Java", sentences
/// about backend work score 0.29–0.73 and unrelated ones (coaching, sales,
/// languages) −0.03–0.16; on a held-out frontend role, 0.43 and 0.17 for
/// two frontend sentences, ≤ 0.02 for unrelated ones. The model leans on
/// shared words, so similarity ranks and explains; it never screens out.
pub const SIMILAR_FROM: f32 = 0.25;
pub const SIMILAR_FULLY: f32 = 0.6;

/// The most résumé sentences compared (a résumé is rarely longer).
const MAX_SENTENCES: usize = 80;

/// Finds the résumé sentence closest to `role` by meaning.
pub fn similarity(minilm: &MiniLm, text: &str, role: &str) -> anyhow::Result<Option<Similarity>> {
    let sentences: Vec<&str> = text
        .split(['\n', '.', ';', '!', '?', '。', '；', '！', '？'])
        .map(str::trim)
        .filter(|l| l.split_whitespace().count() >= 3)
        .take(MAX_SENTENCES)
        .collect();
    if sentences.is_empty() || role.trim().is_empty() {
        return Ok(None);
    }
    let role_vec = minilm.embed(role)?;
    let mut best: Option<(f32, &str)> = None;
    // Batches of 16 keep the padded tensor small.
    for chunk in sentences.chunks(16) {
        for (v, sentence) in minilm.embed_batch(chunk)?.iter().zip(chunk) {
            let cos: f32 = v.iter().zip(&role_vec).map(|(a, b)| a * b).sum();
            if best.is_none_or(|(b, _)| cos > b) {
                best = Some((cos, sentence));
            }
        }
    }
    Ok(best.map(|(cos, quote)| Similarity {
        cosine: (cos * 100.0).round() / 100.0,
        role: role.to_owned(),
        quote: quote.chars().take(160).collect(),
    }))
}

/// A résumé's main language: Mandarin when at least a fifth of its letters
/// are Chinese characters (a Mandarin résumé names English tech terms; an
/// English one rarely has any characters).
pub fn language_of(text: &str) -> Lang {
    let (mut han, mut letters) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        han += usize::from(matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}'));
    }
    if letters > 0 && han * 5 >= letters {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// The sentence (or line) around a byte range, trimmed, as a quote.
fn quote_at(text: &str, at: usize) -> String {
    let is_end = |c: char| matches!(c, '\n' | '.' | '。' | ';' | '；' | '!' | '！');
    let start = text[..at].rfind(is_end).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let end = text[at..].find(is_end).map_or(text.len(), |i| at + i);
    let q = text[start..end].trim();
    q.chars().take(160).collect()
}

/// Screens `text` (the résumé, `lang` its main language) against `req`;
/// `similar` is how close it reads to the role, when measured.
///
/// Score: 60 × the share of must-haves met, 25 × nice-to-haves, 15 × years
/// (against the minimum). With a similarity, the must-haves weigh 50 and the
/// nice-to-haves 20, and 15 goes to how close the résumé reads to the role.
pub fn screen(
    text: &str,
    lang: Lang,
    req: &Requirements,
    similar: Option<Similarity>,
) -> Screening {
    let tax = SkillTaxonomy::builtin();
    let found: Vec<_> = tax
        .find(text, lang)
        .into_iter()
        .filter(|m| !m.negated)
        .collect();
    let mut skills: Vec<String> = Vec::new();
    for m in &found {
        if !skills.contains(&m.id) {
            skills.push(m.id.clone());
        }
    }
    let years = stated_years(text, lang);
    let mut checks = Vec::new();
    let mut reasons = Vec::new();
    let mut check_skill = |name: &str, kind: &'static str| -> bool {
        let id = tax.canonical(name).unwrap_or(name);
        let hit = found.iter().find(|m| m.id == id);
        checks.push(Check {
            requirement: tax.display_name(id).unwrap_or(name).to_owned(),
            kind,
            met: hit.is_some(),
            quote: hit.map(|m| quote_at(text, m.span.start)),
        });
        hit.is_some()
    };
    let must_met = req
        .must_have
        .iter()
        .filter(|s| check_skill(s, "must_have"))
        .count();
    let nice_met = req
        .nice_to_have
        .iter()
        .filter(|s| check_skill(s, "nice_to_have"))
        .count();
    for c in checks.iter().filter(|c| c.kind == "must_have" && !c.met) {
        reasons.push(format!("missing must-have skill {}", c.requirement));
    }
    let mut years_part = 1.0;
    if let Some(min) = req.min_years {
        let met = years.as_ref().is_some_and(|(y, _)| *y >= min);
        checks.push(Check {
            requirement: format!("at least {min} years of experience"),
            kind: "min_years",
            met,
            quote: years.as_ref().map(|(_, q)| q.clone()),
        });
        if !met {
            reasons.push(match &years {
                Some((y, _)) => format!("{y} years of experience, fewer than {min}"),
                None => format!("no years of experience stated (at least {min} asked)"),
            });
        }
        years_part = match &years {
            Some((y, _)) if min > 0.0 => (y / min).min(1.0),
            Some(_) => 1.0,
            None => 0.0,
        };
    }
    let share = |met: usize, of: usize| if of == 0 { 1.0 } else { met as f32 / of as f32 };
    let (must_w, nice_w, role_part) = match &similar {
        None => (60.0, 25.0, 0.0),
        Some(sim) => {
            let part =
                ((sim.cosine - SIMILAR_FROM) / (SIMILAR_FULLY - SIMILAR_FROM)).clamp(0.0, 1.0);
            checks.push(Check {
                requirement: format!("close to the role: {}", sim.role),
                kind: "similarity",
                met: sim.cosine >= SIMILAR_FROM,
                quote: Some(sim.quote.clone()),
            });
            (50.0, 20.0, 15.0 * part)
        }
    };
    let score = must_w * share(must_met, req.must_have.len())
        + nice_w * share(nice_met, req.nice_to_have.len())
        + 15.0 * years_part
        + role_part;
    Screening {
        decision: if reasons.is_empty() {
            "shortlisted"
        } else {
            "screened_out"
        },
        score: score.round() as u32,
        checks,
        reasons,
        skills,
        years: years.map(|(y, _)| y),
        similarity: similar,
    }
}

/// The most years of experience any line of the résumé states, with that
/// line: the interview's own years parser, line by line ("5 years of Java",
/// 五年多开发经验, "since 2019").
fn stated_years(text: &str, lang: Lang) -> Option<(f32, String)> {
    let ctx = NluContext {
        expected: vec![SlotKind::YearsExperience],
        ..NluContext::default()
    };
    let mut best: Option<(f32, String)> = None;
    for line in text
        .split(['\n', '。', '.', ';', '；'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let heard = Heard {
            text: line.to_owned(),
            lang,
            turn: 0,
            start_ms: 0,
            end_ms: 0,
            confidence: 1.0,
        };
        for slot in extract_slots(&heard, &ctx, &TaggerHints::default()) {
            if let SlotValue::Years { years } = slot.value {
                if best.as_ref().is_none_or(|(b, _)| years > *b) {
                    best = Some((years, line.chars().take(160).collect()));
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Requirements {
        Requirements {
            must_have: vec!["Java".into(), "k8s".into()],
            nice_to_have: vec!["Kafka".into(), "Go".into()],
            min_years: Some(3.0),
            summary: None,
        }
    }

    #[test]
    fn an_english_resume_that_meets_the_job_is_shortlisted_with_quotes() {
        let cv = "Alice Chen\nBackend engineer with 6 years of experience.\n\
                  Built payment services in Java and Spring Boot, deployed on Kubernetes.\n\
                  Streams with Kafka.";
        let s = screen(cv, Lang::En, &req(), None);
        assert_eq!(s.decision, "shortlisted", "{s:#?}");
        assert_eq!(s.years, Some(6.0));
        let java = s.checks.iter().find(|c| c.requirement == "Java").unwrap();
        assert!(java.met);
        assert!(
            java.quote
                .as_deref()
                .unwrap()
                .contains("Java and Spring Boot"),
            "{java:?}"
        );
        // 60 (both must-haves) + 12.5 (one nice-to-have of two) + 15 (years).
        assert_eq!(s.score, 88, "{s:#?}");
    }

    #[test]
    fn a_mandarin_resume_is_read_in_mandarin() {
        let cv =
            "张伟\n五年多后端开发经验。\n主要用Java和Spring Cloud，服务部署在K8s上。\n熟悉Go。";
        let s = screen(cv, Lang::Zh, &req(), None);
        assert_eq!(s.decision, "shortlisted", "{s:#?}");
        assert!(s.years.is_some_and(|y| y >= 5.0), "{s:#?}");
        assert!(s.skills.contains(&"kubernetes".to_string()), "{s:#?}");
    }

    #[test]
    fn a_missing_must_have_or_too_few_years_screens_out_with_reasons() {
        let cv = "Frontend developer, 2 years of React and TypeScript. Never used Java.";
        let s = screen(cv, Lang::En, &req(), None);
        assert_eq!(s.decision, "screened_out");
        assert!(s.reasons.iter().any(|r| r.contains("Java")), "{s:#?}");
        assert!(
            s.reasons.iter().any(|r| r.contains("fewer than 3")),
            "{s:#?}"
        );
        assert!(s.score < 30, "{s:#?}");
    }

    #[test]
    fn the_resume_language_is_told_by_its_characters() {
        assert_eq!(language_of("Java developer, 5 years"), Lang::En);
        assert_eq!(
            language_of("五年Java开发经验，熟悉Spring Cloud和Kubernetes"),
            Lang::Zh
        );
        assert_eq!(language_of(""), Lang::En);
    }

    #[test]
    fn requirements_name_known_skills() {
        assert!(req().validate().is_ok());
        let bad = Requirements {
            must_have: vec!["Klingon".into()],
            ..Requirements::default()
        };
        assert!(bad.validate().unwrap_err().contains("Klingon"));
    }
}
