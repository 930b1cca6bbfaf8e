//! Slot extraction: the facts of one utterance (years of experience, skills,
//! salary, start date, notice period, callback time, project), each with the
//! words it came from.
//!
//! Every extractor walks the shared token stream ([`crate::numbers::lex`]) and
//! reports candidates with a byte span; this module keeps a candidate when the
//! question expects its slot, or when it is unambiguous on its own (a salary with
//! a currency or "a month", a skill name that is no common English word), and
//! drops it when it sits in a negated or hypothetical clause ("I don't have five
//! years", "if it were 30k"). One slot per kind: the most confident, first said
//! on ties. Without `ctx.local_now` nothing relative to today is extracted (start
//! date, callback time, "since 2018"): there is nothing to resolve it against.
//!
//! ```
//! use chrono::NaiveDate;
//! use voxhire_nlu::slots::{extract_slots, TaggerHints};
//! use voxhire_nlu::{Heard, Lang, NluContext, SlotKind, SlotValue};
//! let heard = Heard { text: "about seven years mostly java".into(), lang: Lang::En,
//!     turn: 2, start_ms: 10_000, end_ms: 12_000, confidence: 0.9 };
//! let now = NaiveDate::from_ymd_opt(2026, 11, 25).and_then(|d| d.and_hms_opt(14, 30, 0));
//! let ctx = NluContext { expected: vec![SlotKind::YearsExperience], local_now: now, yes_no: false };
//! let slots = extract_slots(&heard, &ctx, &TaggerHints::default());
//! assert_eq!(slots[0].value, SlotValue::Years { years: 7.0 });
//! assert_eq!(slots[0].evidence.quote, "about seven years");
//! ```

mod calendar;
mod callback;
mod clock;
mod cue_words;
mod money;
mod project;
mod start;
mod years;

use std::borrow::Cow;
use std::ops::Range;

use crate::numbers::lex::{tokenize, Tok};
use crate::skills::{negation, SkillTaxonomy};
use crate::types::{Evidence, Heard, Lang, NluContext, Slot, SlotKind, SlotValue};

/// Hints from the Mandarin LAC tagger: byte ranges in `heard.text` tagged TIME,
/// and the segmented words with their LAC tags (empty for English or when
/// unavailable).
#[derive(Debug, Clone, Default)]
pub struct TaggerHints {
    pub time_spans: Vec<Range<usize>>,
    pub words: Vec<(String, String)>,
}

/// What one extractor found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub kind: SlotKind,
    pub value: SlotValue,
    /// The words carrying the value (byte range in the text).
    pub span: Range<usize>,
    pub confidence: f32,
    /// Clear enough to keep when the question did not ask for this slot.
    pub clear: bool,
    /// The extractor already judged negation (skills do it per skill; "no notice"
    /// is a value, not a negated one).
    pub negation_checked: bool,
}

impl Found {
    pub fn new(kind: SlotKind, value: SlotValue, span: Range<usize>, confidence: f32) -> Found {
        Found {
            kind,
            value,
            span,
            confidence,
            clear: false,
            negation_checked: false,
        }
    }
    pub fn clear(mut self, clear: bool) -> Found {
        self.clear = clear;
        self
    }
    /// The extractor dropped negated candidates itself (to choose among the rest).
    pub fn negation_checked(mut self) -> Found {
        self.negation_checked = true;
        self
    }
}

/// One utterance, tokenized once, and what the question expects.
pub(crate) struct Input<'a> {
    pub text: &'a str,
    pub toks: &'a [Tok],
    pub lang: Lang,
    pub ctx: &'a NluContext,
    pub hints: &'a TaggerHints,
}

impl Input<'_> {
    pub fn expects(&self, kind: SlotKind) -> bool {
        self.ctx.expected.contains(&kind)
    }
    /// The byte range from token `a` to the end of token `b - 1`.
    pub fn span(&self, a: usize, b: usize) -> Range<usize> {
        let end = b.max(a + 1).min(self.toks.len());
        match (self.toks.get(a), self.toks.get(end - 1)) {
            (Some(x), Some(y)) => x.span.start..y.span.end,
            _ => 0..0,
        }
    }
    /// True when the ASCII-lowercased text contains any of `words` (Mandarin cues).
    pub fn has_any(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.text.contains(w))
    }
    /// True when any word token is one of `words` (English cues).
    pub fn has_word(&self, words: &[&str]) -> bool {
        self.toks.iter().any(|t| t.is_any(words))
    }
}

/// The slots said in `heard`, given what the question expects.
pub fn extract_slots(heard: &Heard, ctx: &NluContext, hints: &TaggerHints) -> Vec<Slot> {
    // Same byte offsets as `heard.text`: spans quote what was heard.
    let text = match heard.lang {
        Lang::Zh => cue_words::normalise(&heard.text),
        Lang::En => Cow::Borrowed(heard.text.as_str()),
    };
    let toks = tokenize(&text);
    let input = Input {
        text: &text,
        toks: &toks,
        lang: heard.lang,
        ctx,
        hints,
    };
    let mut found = Vec::new();
    years::extract(&input, &mut found);
    money::extract(&input, &mut found);
    start::extract(&input, &mut found);
    callback::extract(&input, &mut found);
    skills(&input, &mut found);
    project::extract(&input, &mut found);

    let mut best: Vec<Found> = Vec::new();
    for f in found {
        if !(input.expects(f.kind) || f.clear) {
            continue;
        }
        if !f.negation_checked && negation::is_value_negated(input.text, input.toks, &f.span) {
            continue;
        }
        match best.iter_mut().find(|b| b.kind == f.kind) {
            Some(b) if f.confidence > b.confidence => *b = f,
            Some(_) => {}
            None => best.push(f),
        }
    }
    best.sort_by_key(|f| f.kind);
    best.into_iter()
        .map(|f| Slot {
            kind: f.kind,
            evidence: Evidence {
                quote: heard
                    .text
                    .get(f.span.clone())
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                turn: heard.turn,
                start_ms: heard.start_ms,
                end_ms: heard.end_ms,
            },
            value: f.value,
            confidence: f.confidence,
        })
        .collect()
}

/// Skill names that are also everyday English words: said alone, outside a
/// question about skills, they are not taken as skills.
const AMBIGUOUS_SKILL_WORDS: [&str; 17] = [
    "spring",
    "react",
    "node",
    "swift",
    "rust",
    "ruby",
    "hive",
    "spark",
    "elastic",
    "flutter",
    "oracle",
    "distributed",
    "containers",
    "es",
    "ts",
    "rails",
    // "Sure, go ahead." is no Go.
    "go",
];

fn skills(input: &Input, out: &mut Vec<Found>) {
    let tax = SkillTaxonomy::builtin();
    let mut matches = tax.find_in(input.text, input.toks, input.lang);
    if input.lang == Lang::Zh {
        let taken: Vec<_> = matches.iter().map(|m| m.span.clone()).collect();
        let short = input.expects(SlotKind::Skills);
        matches.extend(tax.find_by_sound(input.text, &taken, short));
        matches.sort_by_key(|m| m.span.start);
    }
    let kept: Vec<_> = matches.iter().filter(|m| !m.negated).collect();
    let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
        return;
    };
    let mut ids: Vec<String> = Vec::new();
    for m in &kept {
        if !ids.contains(&m.id) {
            ids.push(m.id.clone());
        }
    }
    let clear = kept
        .iter()
        .any(|m| !AMBIGUOUS_SKILL_WORDS.contains(&m.matched.to_ascii_lowercase().as_str()));
    out.push(Found {
        kind: SlotKind::Skills,
        value: SlotValue::Skills { skills: ids },
        span: first.span.start..last.span.end,
        confidence: 0.9,
        clear,
        negation_checked: true,
    });
}
