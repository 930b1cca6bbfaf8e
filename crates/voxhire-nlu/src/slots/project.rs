//! Project description: the utterance itself, when the question asks for one,
//! without the fillers around it ("um so basically …", 嗯那个……).
//!
//! Only leading/trailing fillers go, plus hesitation sounds anywhere (um, uh, 嗯,
//! 呃): 那个 and 就是 inside a sentence often carry meaning (那个项目 = "that
//! project"), so they stay there.

use super::{Found, Input};
use crate::numbers::lex::TokKind;
use crate::types::{SlotKind, SlotValue};

/// Hesitation sounds, dropped anywhere.
const EN_HESITATION: [&str; 8] = ["um", "umm", "uh", "uhh", "er", "erm", "hmm", "mm"];
const ZH_HESITATION: [char; 4] = ['嗯', '呃', '额', '唔'];
/// Fillers dropped at the start or end only.
const EN_EDGE: [&str; 8] = [
    "so",
    "well",
    "okay",
    "ok",
    "like",
    "basically",
    "yeah",
    "right",
];
const ZH_EDGE: [&str; 9] = [
    "那个", "就是", "然后", "这个", "啊", "吧", "呢", "的话", "嘛",
];

pub(super) fn extract(input: &Input, out: &mut Vec<Found>) {
    if !input.expects(SlotKind::Project) {
        return;
    }
    let text = clean(input);
    if text.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
        return;
    }
    let span = 0..input.text.len();
    let mut found = Found::new(SlotKind::Project, SlotValue::Text { text }, span, 0.9);
    // A description may well contain "not"; it is kept as said.
    found.negation_checked = true;
    out.push(found);
}

fn clean(input: &Input) -> String {
    // Keep tokens that are not hesitations, then rebuild with the original spacing.
    let keep: Vec<&crate::numbers::lex::Tok> = input
        .toks
        .iter()
        .filter(|t| !(t.kind == TokKind::Word && t.is_any(&EN_HESITATION)))
        .filter(|t| !t.cjk().is_some_and(|c| ZH_HESITATION.contains(&c)))
        .collect();
    // "系统，呃，用" → "系统，用": a dropped sound leaves two commas in a row.
    let keep: Vec<&crate::numbers::lex::Tok> = keep
        .iter()
        .enumerate()
        .filter(|(k, t)| !(t.is_clause_break() && *k > 0 && keep[k - 1].is_clause_break()))
        .map(|(_, t)| *t)
        .collect();
    let mut s = String::new();
    for (k, t) in keep.iter().enumerate() {
        if k > 0 && !t.glued && keep[k - 1].span.end < t.span.start {
            s.push(' ');
        }
        s.push_str(&input.text[t.span.clone()]);
    }
    let mut s = s.as_str().trim_matches(is_edge_punct);
    loop {
        let before = s.len();
        for w in EN_EDGE {
            s = strip_word_prefix(s, w).trim_start_matches(is_edge_punct);
            s = strip_word_suffix(s, w).trim_end_matches(is_edge_punct);
        }
        for w in ZH_EDGE {
            s = s
                .strip_prefix(w)
                .unwrap_or(s)
                .trim_start_matches(is_edge_punct);
            s = s
                .strip_suffix(w)
                .unwrap_or(s)
                .trim_end_matches(is_edge_punct);
        }
        if s.len() == before {
            break;
        }
    }
    s.to_string()
}

fn is_edge_punct(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '.' | '，' | '。' | '、' | '…' | '-')
}

fn strip_word_prefix<'a>(s: &'a str, w: &str) -> &'a str {
    match s.get(..w.len()) {
        Some(head)
            if head.eq_ignore_ascii_case(w)
                && s[w.len()..].starts_with(|c: char| !c.is_ascii_alphanumeric()) =>
        {
            &s[w.len()..]
        }
        _ => s,
    }
}

fn strip_word_suffix<'a>(s: &'a str, w: &str) -> &'a str {
    let Some(cut) = s.len().checked_sub(w.len()) else {
        return s;
    };
    match s.get(cut..) {
        Some(tail)
            if tail.eq_ignore_ascii_case(w)
                && s[..cut].ends_with(|c: char| !c.is_ascii_alphanumeric()) =>
        {
            &s[..cut]
        }
        _ => s,
    }
}
