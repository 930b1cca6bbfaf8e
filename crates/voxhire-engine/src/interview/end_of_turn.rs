//! Whether what the candidate has said so far already answers the question —
//! the semantic half of end-of-turn detection.
//!
//! Silence alone makes a slow agent: a fixed 800 ms end-of-turn pause plus a
//! decode is a second of dead air after every answer. The listener decodes at
//! the first short pause (80 ms of silence); when that decode is a complete answer to what
//! was asked, the session takes the turn at once, and only otherwise waits out the
//! script's end-of-turn silence. Complete means: a clear yes/no to a yes/no
//! question; the number, date or time a question asks for; at least one skill to
//! the skills question. An answer that trails off — ends in a comma or an
//! ellipsis, or in "and", "um", 还有, 嗯 — is never complete, whatever it holds
//! ("React, and…" goes on), and neither is an open answer (the project question):
//! people pause mid-story.
//!
//! An open answer has a middle way ([`open_answer_ends`]): when what was said
//! so far is a whole sentence of some length, the turn may end at a shorter
//! silence than the script's, because the dialog adds whatever the candidate
//! says right after to the answer (`Input::Resumed`) instead of losing it.
//!
//! Pure and clock-free: the session supplies what was heard and understood.

use voxhire_dialog::NluContextSpec;
use voxhire_nlu::{Intent, SlotKind, Understanding};

const MIN_CONFIDENCE_YES_NO: f32 = 0.15;
const MIN_CONFIDENCE_VALUE: f32 = 0.5;

/// Words after which the candidate is still going.
const TRAILING_EN: &[&str] = &[
    "and", "also", "um", "uh", "er", "erm", "like", "so", "then", "with", "or", "plus", "but",
    "the", "a", "an", "of", "to", "in", "my", "i", "maybe", "probably", "because",
];
const TRAILING_ZH: &[&str] = &[
    "和",
    "跟",
    "还有",
    "以及",
    "然后",
    "就是",
    "那个",
    "这个",
    "嗯",
    "呃",
    "额",
    "还",
    "另外",
    "比如",
    "包括",
    "或者",
    "但是",
    "不过",
    "所以",
    "因为",
    "主要",
    "大概",
    "差不多",
];
/// Punctuation Whisper ends an unfinished sentence with.
const TRAILING_MARKS: &[char] = &[',', '，', '、', '…', '-', '—', ':', '：', ';', '；'];

/// The utterance ends as if more is coming.
pub fn trails_off(text: &str) -> bool {
    let t = text.trim();
    if t.ends_with("...") || t.ends_with('…') {
        return true;
    }
    if t.chars()
        .last()
        .is_some_and(|c| TRAILING_MARKS.contains(&c))
    {
        return true;
    }
    let t = t.trim_end_matches(|c: char| c.is_ascii_punctuation() || "。！？".contains(c));
    if TRAILING_ZH.iter().any(|w| t.ends_with(w)) {
        return true;
    }
    let last = t
        .rsplit(|c: char| !c.is_alphanumeric() && c != '\'')
        .find(|w| !w.is_empty())
        .unwrap_or("");
    last.is_ascii() && TRAILING_EN.contains(&last.to_ascii_lowercase().as_str())
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .chars()
        .last()
        .is_some_and(|c| ".!?。！？".contains(c))
}

/// Words (an English word, or two Chinese characters) an open answer needs
/// before a sentence's end may end it: "I led the migration." is an answer,
/// "Well." is not.
const MIN_OPEN_WORDS: usize = 6;

/// Rough word count: English words, and two Chinese characters as one.
fn word_count(text: &str) -> usize {
    let cjk = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    text.split(|c: char| c.is_whitespace() || ('\u{3000}'..='\u{9fff}').contains(&c))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
        + cjk / 2
}

/// Whether an open answer (`text`, heard with `confidence`) so far ends where
/// a story may end: a whole sentence Whisper closed with a full stop, of at
/// least [`MIN_OPEN_WORDS`], not trailing off ("…and then", "还有", a comma).
/// The turn may then end at the shorter open silence.
pub fn open_answer_ends(text: &str, confidence: f32) -> bool {
    confidence >= MIN_CONFIDENCE_VALUE
        && !trails_off(text)
        && ends_sentence(text)
        && word_count(text) >= MIN_OPEN_WORDS
}

/// Whether `text` (heard with `confidence`, understood as `u`) is a complete
/// answer to a question expecting `expect`, so the turn can be taken now.
pub fn is_complete(
    u: &Understanding,
    text: &str,
    confidence: f32,
    expect: &NluContextSpec,
) -> bool {
    if trails_off(text) {
        return false;
    }
    let words = word_count(text);
    // Whisper's confidence (mean token probability) is low on one- and two-word
    // answers however clear they are ("可以。" came back at 0.24, "Go ahead." at
    // 0.47 in e2e calls), so a yes/no leans on the intent's score and only
    // rejects the near-noise; a value must be heard well.
    if expect.yes_no {
        return confidence >= MIN_CONFIDENCE_YES_NO
            && matches!(u.intent, Intent::Yes | Intent::No)
            && u.intent_score >= 0.85
            && words <= 12;
    }
    if confidence < MIN_CONFIDENCE_VALUE {
        return false;
    }
    if expect.expected.is_empty() || expect.expected.contains(&SlotKind::Project) {
        return false;
    }
    // A list is only over when Whisper heard the sentence end (it writes a full
    // stop for a falling, final intonation and a comma for a list pause).
    if expect.expected.contains(&SlotKind::Skills) && !ends_sentence(text) {
        return false;
    }
    // The question's first slot is what it asks; a value inferred on the way
    // ("one month notice" → a start date, confidence 0.7) is not an answer yet:
    // "…one month notice, [550 ms] so I could start on the first" goes on.
    let Some(primary) = expect.expected.first() else {
        return false;
    };
    u.intent == Intent::Answer
        && u.slots
            .iter()
            .any(|s| s.kind == *primary && s.confidence >= 0.8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxhire_nlu::{Evidence, Slot, SlotValue};

    fn answer(kind: SlotKind, value: SlotValue) -> Understanding {
        Understanding {
            intent: Intent::Answer,
            intent_score: 0.9,
            slots: vec![Slot {
                kind,
                value,
                evidence: Evidence {
                    quote: String::new(),
                    turn: 0,
                    start_ms: 0,
                    end_ms: 0,
                },
                confidence: 0.9,
            }],
        }
    }

    fn expecting(kind: SlotKind) -> NluContextSpec {
        NluContextSpec {
            expected: vec![kind],
            yes_no: false,
        }
    }

    #[test]
    fn trailing_off_is_seen_in_both_languages() {
        for t in [
            "React, and",
            "I use React and...",
            "Mostly Java, um",
            "主要用React，",
            "React和",
            "主要是Vue，还有",
            "嗯……",
            "React、",
        ] {
            assert!(trails_off(t), "{t:?}");
        }
        for t in [
            "React and Vue.",
            "主要用React和Vue。",
            "Yes.",
            "五年",
            "two weeks",
        ] {
            assert!(!trails_off(t), "{t:?}");
        }
    }

    #[test]
    fn a_skill_list_is_complete_unless_it_trails_off() {
        let u = answer(
            SlotKind::Skills,
            SlotValue::Skills {
                skills: vec!["react".into()],
            },
        );
        let q = expecting(SlotKind::Skills);
        assert!(is_complete(&u, "主要用React和Vue。", 0.8, &q));
        assert!(!is_complete(&u, "主要用React，还有", 0.8, &q));
        assert!(!is_complete(&u, "React and", 0.8, &q));
        // No full stop: Whisper did not hear the list end.
        assert!(!is_complete(&u, "React", 0.8, &q));
        // Unsure what was heard: wait for the whole turn.
        assert!(!is_complete(&u, "React.", 0.3, &q));
    }

    #[test]
    fn numbers_complete_open_answers_never() {
        let years = answer(SlotKind::YearsExperience, SlotValue::Years { years: 4.0 });
        assert!(is_complete(
            &years,
            "四年多。",
            0.8,
            &expecting(SlotKind::YearsExperience)
        ));
        // A slot the question did not ask for does not end the turn.
        assert!(!is_complete(
            &years,
            "四年多。",
            0.8,
            &expecting(SlotKind::SalaryMonthly)
        ));
        let project = answer(SlotKind::Project, SlotValue::Text { text: "x".into() });
        assert!(!is_complete(
            &project,
            "我做了订单系统。",
            0.9,
            &expecting(SlotKind::Project)
        ));
    }

    #[test]
    fn an_open_answer_may_end_at_a_whole_sentence() {
        for t in [
            "I led the migration of our payment service to microservices.",
            "我负责过公司商城网站的重构，页面加载时间缩短了一半。",
            "我主要做了订单系统的重构。",
        ] {
            assert!(open_answer_ends(t, 0.8), "{t:?}");
        }
        for t in [
            // Too short to be the story.
            "Well, yes.",
            "好的。",
            // Not closed, or trailing off.
            "I led the migration of our payment service",
            "I led the migration of our payment service to microservices, and",
            "我负责过公司商城网站的重构，还有",
            "I led the migration of our payment service to microservices...",
        ] {
            assert!(!open_answer_ends(t, 0.8), "{t:?}");
        }
        // Unsure what was heard.
        assert!(!open_answer_ends(
            "I led the migration of our payment service to microservices.",
            0.3
        ));
    }

    #[test]
    fn a_value_inferred_from_another_is_no_answer_yet() {
        let mut u = answer(SlotKind::NoticePeriod, SlotValue::Days { days: 30 });
        let mut start = u.slots[0].clone();
        start.kind = SlotKind::StartDate;
        start.value = SlotValue::Date {
            date: chrono::NaiveDate::from_ymd_opt(2027, 1, 3).unwrap(),
        };
        start.confidence = 0.7;
        u.slots.push(start);
        let q = NluContextSpec {
            expected: vec![SlotKind::StartDate, SlotKind::NoticePeriod],
            yes_no: false,
        };
        assert!(!is_complete(
            &u,
            "I need to give one month notice.",
            0.8,
            &q
        ));
        u.slots[1].confidence = 0.95;
        assert!(is_complete(&u, "I can start on the first.", 0.8, &q));
    }

    #[test]
    fn yes_no_needs_a_clear_short_answer() {
        let q = NluContextSpec {
            expected: Vec::new(),
            yes_no: true,
        };
        let yes = Understanding {
            intent: Intent::Yes,
            intent_score: 0.95,
            slots: Vec::new(),
        };
        assert!(is_complete(&yes, "可以。", 0.9, &q));
        // Short answers come back with a low mean token probability.
        assert!(is_complete(&yes, "可以。", 0.24, &q));
        assert!(!is_complete(&yes, "可以。", 0.05, &q));
        assert!(!is_complete(&yes, "可以，不过", 0.9, &q));
        let unsure = Understanding {
            intent_score: 0.6,
            ..yes.clone()
        };
        assert!(!is_complete(&unsure, "yeah I guess", 0.9, &q));
    }
}
