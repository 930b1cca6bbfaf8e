//! Is a phrase negated or only wished for? Best effort, clause by clause: a
//! clause ends at punctuation or a contrast word ("but", 但是, 不过), and a
//! negation cue in the clause before the phrase (or, in Mandarin, after it:
//! "Kafka没用过") negates it. "I know Java but never used Kafka" keeps Java and
//! drops Kafka; without punctuation, "Java我会Kafka不会" loses Java too (one
//! clause) — Whisper usually punctuates Mandarin, so this is rare.
//!
//! Shared by the skill matcher and the slot extractors (a salary in "if it were
//! 30k" is not the candidate's answer).

use std::ops::Range;

use crate::numbers::lex::{Tok, TokKind};

const EN_CONTRAST: [&str; 7] = [
    "but", "though", "although", "however", "except", "whereas", "yet",
];
const EN_CUES: [&str; 20] = [
    "never",
    "not",
    "no",
    "don't",
    "dont",
    "didn't",
    "didnt",
    "haven't",
    "havent",
    "hasn't",
    "hasnt",
    "can't",
    "cant",
    "cannot",
    "without",
    "nor",
    "neither",
    "unfamiliar",
    "zero",
    "none",
];
/// Words that make a following phrase a wish, not a fact ("want to learn Go").
const EN_WISH: [&str; 8] = [
    "want", "wanna", "like", "plan", "planning", "hope", "hoping", "going",
];
const ZH_BEFORE: [&str; 14] = [
    "没",
    "不会",
    "不熟",
    "不懂",
    "不了解",
    "不太",
    "未曾",
    "从未",
    "想学",
    "打算学",
    "准备学",
    "要学",
    "不怎么",
    "如果",
];
const ZH_AFTER: [&str; 14] = [
    "没用过",
    "没有用过",
    "没怎么用",
    "没接触",
    "没有接触",
    "没做过",
    "没学过",
    "没碰过",
    "不会",
    "不熟",
    "不太熟",
    "不了解",
    "不懂",
    "用得不多",
];

/// True when token `k` ends a clause.
fn is_boundary(toks: &[Tok], k: usize) -> bool {
    let t = &toks[k];
    let next = |c: char| toks.get(k + 1).and_then(Tok::cjk) == Some(c);
    t.is_clause_break()
        || (t.kind == TokKind::Word && t.is_any(&EN_CONTRAST))
        || match t.cjk() {
            Some('但') => true,
            Some('不') => next('过') && k > 0 && toks[k - 1].is_clause_break(),
            Some('可') => next('是'),
            _ => false,
        }
}

/// The byte range of the clause around `span` (which must lie on token edges).
pub(crate) fn clause(text: &str, toks: &[Tok], span: &Range<usize>) -> Range<usize> {
    let first = toks
        .iter()
        .position(|t| t.span.end > span.start)
        .unwrap_or(0);
    let last = toks
        .iter()
        .rposition(|t| t.span.start < span.end)
        .unwrap_or(toks.len().saturating_sub(1));
    let start = (0..first)
        .rev()
        .find(|&k| is_boundary(toks, k))
        .map_or(0, |k| toks[k].span.end);
    let end = (last + 1..toks.len())
        .find(|&k| is_boundary(toks, k))
        .map_or(text.len(), |k| toks[k].span.start);
    start.min(span.start)..end.max(span.end)
}

/// Is a value (years, money, a date) said as not the case? Narrower than for
/// skills: "no less than 30k", "I can't start until March", "not sure, maybe five
/// years" and 我还没离职，需要一个月 all keep their value; "I don't have five years",
/// 没有五年, 不是两万, "if it were 30k", 如果是两万 do not.
pub(crate) fn is_value_negated(text: &str, toks: &[Tok], span: &Range<usize>) -> bool {
    let c = clause(text, toks, span);
    let before = &text[c.start..span.start];
    // Mandarin: the negation right before the value, or a hypothetical anywhere before.
    let near: String = before
        .chars()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if ["没有", "不是", "没"].iter().any(|cue| near.ends_with(cue))
        || ["如果", "假如", "要是", "假设"]
            .iter()
            .any(|cue| before.contains(cue))
    {
        return true;
    }
    let words: Vec<&Tok> = toks
        .iter()
        .filter(|t| t.kind == TokKind::Word && t.span.start >= c.start && t.span.end <= span.start)
        .collect();
    words.iter().enumerate().any(|(k, t)| {
        // The word after the cue, even when it is inside the value's own words
        // ("not more than three years").
        let next = toks
            .iter()
            .find(|n| n.kind == TokKind::Word && n.span.start >= t.span.end);
        let qualified = next.is_some_and(|n| {
            n.is_any(&[
                "less", "lower", "under", "below", "fewer", "more", "over", "above", "sure",
                "certain", "exactly", "know", "remember", "think", "recall", "until", "till",
                "before", "earlier", "sooner", "problem", "worries", "i", "i've", "ive", "we",
            ])
        });
        let until_later = words[k..]
            .iter()
            .any(|w| w.is_any(&["until", "till", "before"]));
        let hypothetical = t.is("if")
            && next.is_some_and(|n| n.is_any(&["it", "i", "you", "they", "the"]))
            && words.get(k + 2).is_some_and(|n| {
                n.is_any(&["were", "was", "had", "offered", "offer", "paid", "pay"])
            });
        (t.is_any(&EN_CUES) && !qualified && !until_later) || hypothetical
    })
}

/// True when the phrase at `span` is negated or hypothetical in its clause.
pub(crate) fn is_negated(text: &str, toks: &[Tok], span: &Range<usize>) -> bool {
    let c = clause(text, toks, span);
    let before = &text[c.start..span.start];
    let after = &text[span.end..c.end];
    if ZH_BEFORE.iter().any(|cue| before.contains(cue))
        || ZH_AFTER.iter().any(|cue| after.contains(cue))
    {
        return true;
    }
    let words: Vec<&Tok> = toks
        .iter()
        .filter(|t| t.kind == TokKind::Word && t.span.start >= c.start && t.span.end <= span.start)
        .collect();
    let negated = words.iter().enumerate().any(|(k, t)| {
        // "no I have used it" / "no problem": a leading "no" answers, not negates.
        let answer_no = t.is("no")
            && words.get(k + 1).is_some_and(|n| {
                n.is_any(&["i", "i've", "ive", "we", "problem", "worries", "doubt"])
            });
        t.is_any(&EN_CUES) && !answer_no
    });
    let wish = words.iter().enumerate().any(|(k, t)| {
        t.is_any(&["learn", "learning", "try"]) && words[..k].iter().any(|w| w.is_any(&EN_WISH))
    }) || words.iter().any(|t| t.is_any(&["if", "unless", "wish"]));
    // "Kafka, not really" / "Kafka no": a short no right after, ending the clause.
    let after: Vec<&Tok> = toks
        .iter()
        .filter(|t| t.span.start >= span.end && t.span.end <= c.end && t.kind == TokKind::Word)
        .collect();
    let after_no = match after.as_slice() {
        [n] => n.is_any(&["not", "no", "never"]),
        [n, m, ..] => {
            n.is_any(&["not", "no", "never"]) && m.is_any(&["really", "much", "so", "at", "yet"])
        }
        _ => false,
    };
    negated || wish || after_no
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::lex::tokenize;

    fn neg(text: &str, phrase: &str) -> bool {
        let start = text
            .find(phrase)
            .unwrap_or_else(|| panic!("{phrase} not in {text}"));
        is_negated(text, &tokenize(text), &(start..start + phrase.len()))
    }

    #[test]
    fn clauses_split_at_contrast_words() {
        assert!(!neg("I know Java but I have never used Kafka", "Java"));
        assert!(neg("I know Java but I have never used Kafka", "Kafka"));
        assert!(neg("我用过Java，没用过Kafka", "Kafka"));
        assert!(!neg("我用过Java，没用过Kafka", "Java"));
        assert!(neg("Kafka和Redis都没用过", "Redis"));
        assert!(!neg("no problem I use redis daily", "redis"));
        assert!(neg("I want to learn rust", "rust"));
        assert!(!neg("我用过Java但是不太熟Spring", "Java"));
    }
}
