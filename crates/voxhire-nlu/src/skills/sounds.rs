//! Code-switching: English skill names that Whisper wrote as Chinese characters.
//!
//! A Mandarin speaker says "主要是Go和MySQL"; over a phone line Whisper base often
//! writes what it heard in characters: 够和麦西扣, 沟本奶地 (Kubernetes). Spelling
//! does not help (each rendering picks different characters for the same sounds),
//! so names are matched by sound: the utterance and each skill's known renderings
//! (`sounds` in `data/skills.toml`) become sequences of toneless pinyin syllables
//! (Latin words stay as they are), and a rendering matches a window of the
//! utterance when its syllables are close: the same after folding the
//! distinctions a phone line and regional accents blur (zh/z, ch/c, sh/s, n/l,
//! -ng/-n), with half a point for an aspiration slip (b/p, d/t, g/k, j/q, z/c)
//! or a nasal slip, and a budget that grows with the rendering's length.
//!
//! A one-syllable rendering (够 for Go) is only taken where a list item can be:
//! between punctuation, the start or end, or list words (和, 跟, 还有, 用, 是…)
//! — "不够" is not Go.

use std::ops::Range;

use pinyin::ToPinyin;

/// One sound unit: a syllable of pinyin, or a Latin word lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unit {
    /// Folded initial ("" for none or for a Latin word).
    initial: &'static str,
    /// Folded final, or the Latin word.
    rest: String,
    /// The initial before folding (empty for a Latin word).
    raw_initial: &'static str,
}

/// A stretch of the utterance read as units, with the byte span of each unit.
#[derive(Debug)]
pub(crate) struct Reading {
    units: Vec<(Unit, Range<usize>, char)>,
}

/// A rendering heard in the utterance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SoundMatch {
    pub span: Range<usize>,
    /// Sum of the per-unit distances (0 = the same sounds).
    pub cost: f32,
}

const INITIALS: [&str; 23] = [
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
    "z", "c", "s", "y", "w",
];

/// Words that separate list items around a one-syllable name.
const LIST_BEFORE: &[char] = &[
    '和', '跟', '与', '及', '用', '是', '会', '还', '有', '过', '做',
];
const LIST_AFTER: &[char] = &[
    '和', '跟', '与', '及', '还', '也', '语', '以', '都', '的', '这',
];

fn split_syllable(s: &str) -> (&'static str, &str) {
    for i in INITIALS {
        if let Some(rest) = s.strip_prefix(i) {
            if !rest.is_empty() {
                return (i, rest);
            }
        }
    }
    ("", s)
}

fn fold_initial(i: &'static str) -> &'static str {
    match i {
        "zh" => "z",
        "ch" => "c",
        "sh" => "s",
        "n" => "l",
        // y/w are spelling, not sounds: yi = i, wu = u.
        "y" | "w" => "",
        other => other,
    }
}

fn fold_final(f: &str) -> String {
    let f = match f {
        "eng" => "en",
        "ing" => "in",
        "ang" => "an",
        "ong" => "on",
        // Not "ou": 够 (Go) must stay apart from 过 (guo), the commonest
        // aspect marker after a skill list ("都用过").
        "uo" => "o",
        other => other,
    };
    f.to_string()
}

fn unit_of_syllable(s: &str) -> Unit {
    let (raw_initial, raw_rest) = split_syllable(s);
    Unit {
        initial: fold_initial(raw_initial),
        rest: fold_final(raw_rest),
        raw_initial,
    }
}

fn latin_unit(word: &str) -> Unit {
    Unit {
        initial: "",
        rest: word.to_ascii_lowercase(),
        raw_initial: "",
    }
}

fn aspiration_pair(a: &str, b: &str) -> bool {
    let pair = |x: &str, y: &str| (a == x && b == y) || (a == y && b == x);
    pair("b", "p") || pair("d", "t") || pair("g", "k") || pair("j", "q") || pair("z", "c")
}

/// Distance between two units: 0 the same sound, 0.5 a slip, 1 different.
fn distance(a: &Unit, b: &Unit) -> f32 {
    let latin = |u: &Unit| u.raw_initial.is_empty() && u.rest.is_ascii() && u.rest.len() > 4;
    if latin(a) || latin(b) {
        return if a.rest == b.rest { 0.0 } else { 1.0 };
    }
    let initial = if a.initial == b.initial {
        0.0
    } else if aspiration_pair(a.initial, b.initial) {
        0.5
    } else {
        1.0
    };
    let rest = if a.rest == b.rest {
        0.0
    } else if a.rest.trim_end_matches('n') == b.rest.trim_end_matches('n') {
        0.5
    } else {
        1.0
    };
    f32::min(1.0, initial + rest)
}

/// Most total distance a rendering of `n` units may have and still match.
fn budget(n: usize) -> f32 {
    match n {
        0 | 1 => 0.0,
        2 => 0.5,
        3 => 1.0,
        _ => 1.5,
    }
}

impl Reading {
    /// Reads `text` (simplified Chinese, Latin words, punctuation) as units;
    /// punctuation and spaces break windows (a separator is kept as a unit that
    /// never matches).
    pub fn of(text: &str) -> Reading {
        let mut units = Vec::new();
        let mut latin_start: Option<usize> = None;
        let flush = |units: &mut Vec<(Unit, Range<usize>, char)>, start: usize, end: usize| {
            units.push((latin_unit(&text[start..end]), start..end, 'a'));
        };
        for (i, c) in text.char_indices() {
            if c.is_ascii_alphanumeric() {
                latin_start.get_or_insert(i);
                continue;
            }
            if let Some(s) = latin_start.take() {
                flush(&mut units, s, i);
            }
            let span = i..i + c.len_utf8();
            match c.to_pinyin() {
                Some(p) => units.push((unit_of_syllable(p.plain()), span, c)),
                None => units.push((separator(), span, c)),
            }
        }
        if let Some(s) = latin_start {
            flush(&mut units, s, text.len());
        }
        Reading { units }
    }

    /// The units of a rendering (no separators).
    pub fn units(&self) -> Vec<Unit> {
        self.units
            .iter()
            .filter(|(u, _, _)| !is_separator(u))
            .map(|(u, _, _)| u.clone())
            .collect()
    }

    /// Every window of this reading that sounds like `rendering`.
    pub fn find(&self, rendering: &[Unit]) -> Vec<SoundMatch> {
        let n = rendering.len();
        let mut out = Vec::new();
        if n == 0 || self.units.len() < n {
            return out;
        }
        for start in 0..=self.units.len() - n {
            let window = &self.units[start..start + n];
            if window.iter().any(|(u, _, _)| is_separator(u)) {
                continue;
            }
            let cost: f32 = window
                .iter()
                .zip(rendering)
                .map(|((u, _, _), r)| distance(u, r))
                .sum();
            if cost > budget(n) {
                continue;
            }
            if n == 1 && !self.list_slot(start) {
                continue;
            }
            out.push(SoundMatch {
                span: window[0].1.start..window[n - 1].1.end,
                cost,
            });
        }
        out
    }

    /// The Latin words of the reading (lower-cased) with their byte spans.
    pub fn latin_words(&self) -> impl Iterator<Item = (Range<usize>, &str)> {
        self.units
            .iter()
            .filter(|(_, _, c)| *c == 'a')
            .map(|(u, span, _)| (span.clone(), u.rest.as_str()))
    }

    /// Whether unit `i` stands alone as a list item.
    fn list_slot(&self, i: usize) -> bool {
        let before = i
            .checked_sub(1)
            .map(|j| &self.units[j])
            .is_none_or(|(u, _, c)| is_separator(u) || LIST_BEFORE.contains(c));
        let after = self
            .units
            .get(i + 1)
            .is_none_or(|(u, _, c)| is_separator(u) || LIST_AFTER.contains(c));
        before && after
    }
}

/// Whether a Latin word Whisper wrote inside Mandarin is a misspelt `name`
/// ("Vte" for Vite, "Nodjas" for Node.js, "Njava" for Java): within one edit
/// (two from six letters on), on the whole word or without a stray first letter.
/// Only used where the question asked for skills: inside a Mandarin answer a Latin
/// word is nearly always a product name.
pub(crate) fn near_spelling(word: &str, name: &str) -> Option<usize> {
    if word.len() < 3 || name.len() < 3 || word == name {
        return None;
    }
    if word.get(1..).is_some_and(|w| w.len() >= 3 && w == name) {
        return Some(1);
    }
    let limit = if name.len() >= 6 { 2 } else { 1 };
    let d = edit_distance(word, name);
    (word.get(..1) == name.get(..1) && d <= limit).then_some(d)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn separator() -> Unit {
    Unit {
        initial: "",
        rest: String::new(),
        raw_initial: "",
    }
}

fn is_separator(u: &Unit) -> bool {
    u.rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str, rendering: &str) -> Vec<String> {
        let r = Reading::of(rendering).units();
        Reading::of(text)
            .find(&r)
            .into_iter()
            .map(|m| text[m.span].to_string())
            .collect()
    }

    #[test]
    fn same_sounds_other_characters() {
        assert_eq!(spans("主要是够和麦西扣", "麦西扣"), ["麦西扣"]);
        assert_eq!(spans("还有一点沟本奶地", "库本奈地"), ["沟本奶地"]);
        // zh/z, n/l, -ng/-n are folded; g/k is half a point.
        assert_eq!(spans("用过库伯内特斯", "酷博耐特丝"), ["库伯内特斯"]);
    }

    #[test]
    fn different_sounds_do_not_match() {
        assert!(spans("我负责订单系统", "麦西扣").is_empty());
        assert!(
            spans("麦，西扣", "麦西扣").is_empty(),
            "punctuation breaks a name"
        );
    }

    #[test]
    fn one_syllable_only_as_a_list_item() {
        assert_eq!(spans("主要是够和麦西扣", "够"), ["够"]);
        assert_eq!(spans("我用狗，还有Java", "够"), ["狗"]);
        assert!(spans("时间不够用", "够").is_empty());
        assert!(spans("够了", "够").is_empty());
        assert!(spans("redis、mysql、kafka都用过", "够").is_empty());
    }

    #[test]
    fn misspelt_latin_names() {
        assert_eq!(near_spelling("vte", "vite"), Some(1));
        assert_eq!(near_spelling("nodjas", "nodejs"), Some(2));
        assert_eq!(near_spelling("njava", "java"), Some(1));
        assert_eq!(near_spelling("java", "java"), None, "exact is not near");
        assert_eq!(near_spelling("go", "gin"), None);
        assert_eq!(near_spelling("dark", "docker"), None);
        assert_eq!(near_spelling("react", "redis"), None);
    }

    #[test]
    fn latin_words_inside_renderings() {
        assert_eq!(spans("我用买SQL比较多", "麦SQL"), ["买SQL"]);
        assert!(spans("我用MySQL", "麦SQL").is_empty());
        // "Go" is no English synonym (too common a word), but a list item in Mandarin.
        assert_eq!(spans("主要是Go和MySQL", "go"), ["Go"]);
        assert!(spans("我们go一下", "go").is_empty());
    }
}
