//! Splitting text into the pieces synthesised one model run at a time, and the few
//! English rewrites espeak-ng gets wrong.
//!
//! Sentences end at `.`, `!`, `?` (followed by a space, a line break or the end) and
//! at `。！？` (anywhere); a line break also ends one. A `.` after a known
//! abbreviation or a single letter ("Dr.", "e.g.", "J.") ends nothing. Inside a
//! sentence, clauses end at `, ; : — …` and their full-width forms; Piper marks
//! each clause end with a punctuation phoneme.

/// How a clause ends. Piper turns it into a punctuation phoneme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseEnd {
    Period,
    Question,
    Exclamation,
    Comma,
    Colon,
    Semicolon,
    /// Text ending without punctuation.
    None,
}

impl ClauseEnd {
    fn of(c: char) -> Option<ClauseEnd> {
        Some(match c {
            '.' | '。' | '．' => ClauseEnd::Period,
            '?' | '？' => ClauseEnd::Question,
            '!' | '！' => ClauseEnd::Exclamation,
            ',' | '，' | '、' | '—' | '–' | '…' => ClauseEnd::Comma,
            ':' | '：' => ClauseEnd::Colon,
            ';' | '；' => ClauseEnd::Semicolon,
            _ => return None,
        })
    }

    /// Whether this ends a sentence.
    pub fn is_sentence_end(self) -> bool {
        matches!(
            self,
            ClauseEnd::Period | ClauseEnd::Question | ClauseEnd::Exclamation
        )
    }
}

/// A clause: its words without the closing punctuation, and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause<'a> {
    pub text: &'a str,
    pub end: ClauseEnd,
}

/// A piece of text synthesised in one model run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub text: String,
    /// False when this is the first clause of a sentence split early for latency.
    pub ends_sentence: bool,
}

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "a.m", "p.m",
    "no", "approx", "dept", "inc", "ltd", "co", "corp", "mt", "ft", "u.s",
];

/// Characters that close a quotation or bracket and stay with the clause before.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '"' | '\'' | '”' | '’' | '」' | '』' | '》' | '）'
    )
}

fn is_cjk_terminator(c: char) -> bool {
    matches!(
        c,
        '。' | '！' | '？' | '，' | '、' | '；' | '：' | '．' | '…' | '—'
    )
}

/// One boundary found while scanning: byte range of the punctuation run (terminators
/// plus closers) and the kind.
struct Boundary {
    start: usize,
    end: usize,
    kind: ClauseEnd,
}

/// Finds clause boundaries (sentence ends included) in `text`.
fn boundaries(text: &str) -> Vec<Boundary> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c == '\n' {
            out.push(Boundary {
                start,
                end: start + 1,
                kind: ClauseEnd::Period,
            });
            i += 1;
            continue;
        }
        let Some(first_kind) = ClauseEnd::of(c) else {
            i += 1;
            continue;
        };
        // The run of terminators ("?!", "...") and closing quotes/brackets.
        let mut j = i;
        let mut dots = 0;
        while j < chars.len() && (ClauseEnd::of(chars[j].1).is_some() || is_closer(chars[j].1)) {
            if chars[j].1 == '.' {
                dots += 1;
            }
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |&(b, _)| b);
        let next = chars.get(j).map(|&(_, c)| c);
        let cjk = text[start..end].chars().any(is_cjk_terminator);
        let followed_by_space = next.is_none_or(char::is_whitespace);
        let mut kind = first_kind;
        if dots >= 2 {
            // "..." mid-sentence is a pause; at the end of a sentence a full stop.
            kind = if next.is_none_or(|_| next_word_starts_sentence(&chars[j..])) {
                ClauseEnd::Period
            } else {
                ClauseEnd::Comma
            };
        }
        let accept = if cjk {
            true
        } else if !followed_by_space {
            false // "3.5", "1,000", "12:30", "Node.js"
        } else if c == '.' && dots == 1 {
            !is_abbreviation(&text[..start])
        } else {
            true
        };
        if accept {
            out.push(Boundary { start, end, kind });
        }
        i = j.max(i + 1);
    }
    out
}

fn next_word_starts_sentence(rest: &[(usize, char)]) -> bool {
    rest.iter()
        .map(|&(_, c)| c)
        .find(|c| !c.is_whitespace())
        .is_none_or(|c| c.is_uppercase() || c.is_ascii_digit() || !c.is_alphabetic())
}

/// Whether the word just before a full stop is an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    // A lone letter is an initial ("J. Smith"), except the pronoun ("… am I.").
    (word.chars().count() == 1 && word.chars().all(char::is_alphabetic) && word != "I")
        || ABBREVIATIONS.contains(&lower.as_str())
}

/// Splits text into sentences, each trimmed and keeping its closing punctuation.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    for b in boundaries(text) {
        if b.kind.is_sentence_end() {
            push_trimmed(&mut out, &text[from..b.end]);
            from = b.end;
        }
    }
    push_trimmed(&mut out, &text[from..]);
    out
}

fn push_trimmed<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    let s = s.trim();
    if s.chars().any(char::is_alphanumeric) {
        out.push(s);
    }
}

/// Splits a sentence into clauses (text without the punctuation, and how it ends).
/// Clauses with no letters or digits are dropped.
pub fn clauses(sentence: &str) -> Vec<Clause<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    for b in boundaries(sentence) {
        push_clause(&mut out, &sentence[from..b.start], b.kind);
        from = b.end;
    }
    push_clause(&mut out, &sentence[from..], ClauseEnd::None);
    out
}

fn push_clause<'a>(out: &mut Vec<Clause<'a>>, s: &'a str, end: ClauseEnd) {
    let s = s.trim().trim_start_matches(is_closer).trim();
    if s.chars().any(char::is_alphanumeric) {
        out.push(Clause { text: s, end });
    } else if let Some(last) = out.last_mut() {
        // "Really?!" or a stray closing quote: keep the strongest end seen.
        if end.is_sentence_end() && !last.end.is_sentence_end() {
            last.end = end;
        }
    }
}

/// How the first sentence of a reply may be cut so its audio is ready sooner: the
/// listener hears the first words while the rest is synthesised.
pub struct FirstCut<'a> {
    /// Sentences up to this many characters stay whole (a Chinese character is one).
    pub max_chars: usize,
    /// A cut leaves at least this many characters before it.
    pub min_chars: usize,
    /// Where to cut a sentence without a usable clause boundary (byte offset), e.g.
    /// before "and", "with", "do" in English or between words in Chinese.
    pub phrase_cut: &'a dyn Fn(&str) -> Option<usize>,
}

/// Plans the model runs for `text`: one per sentence, except that a first sentence
/// longer than `cut.max_chars` is cut in two: after its first clause if that is
/// short enough, else where `cut.phrase_cut` says.
pub fn plan_chunks(text: &str, cut: &FirstCut<'_>) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for (n, sentence) in sentences(text).into_iter().enumerate() {
        if n == 0 && sentence.chars().count() > cut.max_chars {
            let at = first_clause_cut(sentence, cut.min_chars)
                .filter(|&at| sentence[..at].chars().count() <= cut.max_chars)
                .or_else(|| (cut.phrase_cut)(sentence));
            if let Some(at) = at.filter(|&at| sentence.is_char_boundary(at)) {
                let (head, tail) = sentence.split_at(at);
                if head.chars().any(char::is_alphanumeric)
                    && tail.chars().any(char::is_alphanumeric)
                {
                    chunks.push(Chunk {
                        text: head.trim().to_owned(),
                        ends_sentence: false,
                    });
                    chunks.push(Chunk {
                        text: tail.trim().to_owned(),
                        ends_sentence: true,
                    });
                    continue;
                }
            }
        }
        chunks.push(Chunk {
            text: sentence.to_owned(),
            ends_sentence: true,
        });
    }
    chunks
}

/// Byte offset just after the first clause boundary that leaves at least
/// `min_chars` before it and some words after it.
fn first_clause_cut(sentence: &str, min_chars: usize) -> Option<usize> {
    boundaries(sentence)
        .into_iter()
        .filter(|b| !b.kind.is_sentence_end())
        .find(|b| sentence[..b.start].chars().count() >= min_chars)
        .map(|b| b.end)
        .filter(|&end| sentence[end..].chars().any(char::is_alphanumeric))
}

/// Words an English phrase can start with: a break before them sounds like a
/// speaker pausing, not like a word torn off ("How many years of experience | do
/// you have with Java?").
const PHRASE_STARTERS: &[&str] = &[
    "and", "but", "or", "so", "because", "with", "for", "to", "about", "in", "on", "at", "from",
    "when", "where", "while", "which", "that", "who", "if", "do", "does", "did", "can", "could",
    "would", "will", "should", "have", "has", "are", "is", "were", "was",
];

/// English phrase cut: before the first phrase-starting word that has at least
/// three words (and `min_chars`) before it and two after it.
pub fn english_phrase_cut(sentence: &str, min_chars: usize) -> Option<usize> {
    let words: Vec<(usize, &str)> = sentence
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - sentence.as_ptr() as usize, w))
        .collect();
    (3..words.len().saturating_sub(1))
        .find(|&i| {
            let (at, word) = words[i];
            let bare: String = word
                .chars()
                .filter(|c| c.is_alphabetic())
                .collect::<String>()
                .to_lowercase();
            PHRASE_STARTERS.contains(&bare.as_str())
                && sentence[..at].trim().chars().count() >= min_chars
        })
        .map(|i| words[i].0)
}

/// Rewrites what espeak-ng reads badly in interview English: currency amounts
/// ("$80,000" would be "dollar eighty thousand"), phone numbers (read as one big
/// number), numeric ranges ("3-5 years") and a few titles.
pub fn normalize_english(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_alnum = i > 0 && chars[i - 1].is_alphanumeric();
        if c == '$' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            let (amount, used) = money(&chars[i + 1..]);
            out.push_str(&amount);
            i += 1 + used;
            continue;
        }
        let prev_joins = i > 0 && matches!(chars[i - 1], '-' | '/' | '.' | ':' | ',');
        if c.is_ascii_digit() && !prev_alnum && !prev_joins {
            if let Some((spoken, used)) = phone_number(&chars[i..]) {
                out.push_str(&spoken);
                i += used;
                continue;
            }
            if let Some((spoken, used)) = numeric_range(&chars[i..]) {
                out.push_str(&spoken);
                i += used;
                continue;
            }
        }
        if c.is_alphabetic() && !prev_alnum {
            let word: String = chars[i..]
                .iter()
                .take_while(|c| c.is_alphabetic())
                .collect();
            let n = word.chars().count();
            let title = match word.as_str() {
                "Dr" => Some("Doctor"),
                "Mr" => Some("Mister"),
                "Mrs" => Some("Missus"),
                "Ms" => Some("Miz"),
                _ => None,
            };
            if let (Some(title), Some('.')) = (title, chars.get(i + n)) {
                out.push_str(title);
                i += n + 1;
                continue;
            }
            out.push_str(&word);
            i += n;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `80,000` / `1.5M` / `120k` after a `$`: the spoken amount and chars consumed.
fn money(chars: &[char]) -> (String, usize) {
    let mut n = 0;
    while n < chars.len()
        && (chars[n].is_ascii_digit()
            || (matches!(chars[n], ',' | '.')
                && chars.get(n + 1).is_some_and(char::is_ascii_digit)))
    {
        n += 1;
    }
    let number: String = chars[..n].iter().collect();
    let (scale, used) = match chars.get(n) {
        Some('k' | 'K') => (" thousand", 1),
        Some('m' | 'M') if !chars.get(n + 1).is_some_and(|c| c.is_alphabetic()) => (" million", 1),
        _ => ("", 0),
    };
    let unit = if number == "1" && scale.is_empty() {
        "dollar"
    } else {
        "dollars"
    };
    (format!("{number}{scale} {unit}"), n + used)
}

/// `555-123-4567`, `(555) 123 4567` style numbers, spelt digit by digit.
fn phone_number(chars: &[char]) -> Option<(String, usize)> {
    let mut groups: Vec<String> = Vec::new();
    let mut i = 0;
    loop {
        let digits: String = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if digits.is_empty() {
            return None;
        }
        i += digits.len();
        groups.push(digits);
        match (chars.get(i), chars.get(i + 1)) {
            (Some('-' | '.' | ' '), Some(d)) if d.is_ascii_digit() && groups.len() < 4 => i += 1,
            _ => break,
        }
    }
    let total: usize = groups.iter().map(String::len).sum();
    let shape_ok = groups.len() >= 3 && (9..=15).contains(&total);
    if !shape_ok || chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    let spoken: Vec<String> = groups
        .iter()
        .map(|g| {
            g.chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Some((spoken.join(", "), i))
}

/// `3-5` (a range) → `3 to 5`.
fn numeric_range(chars: &[char]) -> Option<(String, usize)> {
    let a: String = chars.iter().take_while(|c| c.is_ascii_digit()).collect();
    let dash = chars.get(a.len())?;
    if !matches!(dash, '-' | '–') {
        return None;
    }
    let b: String = chars[a.len() + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let used = a.len() + 1 + b.len();
    if b.is_empty() || a.len() > 4 || b.len() > 4 || chars.get(used).is_some_and(|c| *c == '-') {
        return None;
    }
    Some((format!("{a} to {b}"), used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_real_ends_only() {
        assert_eq!(
            sentences("Hello there! Dr. Smith earned 3.5 million, e.g. in Node.js. Really?  Yes"),
            vec![
                "Hello there!",
                "Dr. Smith earned 3.5 million, e.g. in Node.js.",
                "Really?",
                "Yes"
            ]
        );
        assert_eq!(
            sentences("你好！我有五年经验。你呢？"),
            vec!["你好！", "我有五年经验。", "你呢？"]
        );
        assert_eq!(
            sentences("Well... okay then. \"Great!\" he said."),
            vec!["Well... okay then.", "\"Great!\"", "he said."]
        );
        assert_eq!(
            sentences("line one\nline two"),
            vec!["line one", "line two"]
        );
        assert!(sentences("  ... ").is_empty());
    }

    #[test]
    fn clauses_carry_their_punctuation() {
        let c = clauses("Great! So, tell me: how many (roughly)?");
        let got: Vec<_> = c.iter().map(|c| (c.text, c.end)).collect();
        assert_eq!(
            got,
            vec![
                ("Great", ClauseEnd::Exclamation),
                ("So", ClauseEnd::Comma),
                ("tell me", ClauseEnd::Colon),
                ("how many (roughly)", ClauseEnd::Question),
            ]
        );
        let c = clauses("I have 1,000 things; really");
        assert_eq!(c[0].text, "I have 1,000 things");
        assert_eq!(c[0].end, ClauseEnd::Semicolon);
        assert_eq!(c[1].end, ClauseEnd::None);
        assert_eq!(clauses("Really?!")[0].end, ClauseEnd::Question);
    }

    #[test]
    fn a_long_first_sentence_is_cut_after_its_first_clause() {
        let no_phrase_cut = |_: &str| None;
        let cut = FirstCut {
            max_chars: 40,
            min_chars: 4,
            phrase_cut: &no_phrase_cut,
        };
        let chunks = plan_chunks(
            "Thanks, and how many years of experience do you have with Java? Great.",
            &cut,
        );
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].text, "Thanks,");
        assert!(!chunks[0].ends_sentence);
        assert_eq!(
            chunks[1].text,
            "and how many years of experience do you have with Java?"
        );
        assert_eq!(chunks[2].text, "Great.");
        // Short first sentences stay whole.
        assert_eq!(plan_chunks("Yes, please. Go on.", &cut).len(), 2);
    }

    #[test]
    fn without_a_clause_break_english_is_cut_before_a_phrase() {
        let phrase = |s: &str| english_phrase_cut(s, 4);
        let cut = FirstCut {
            max_chars: 32,
            min_chars: 4,
            phrase_cut: &phrase,
        };
        let texts =
            |t: &str| -> Vec<String> { plan_chunks(t, &cut).into_iter().map(|c| c.text).collect() };
        assert_eq!(
            texts("How many years of experience do you have with Java?"),
            ["How many years of experience", "do you have with Java?"]
        );
        // The first clause is too long to help: cut inside it.
        assert_eq!(
            texts("Could you tell me more about the last project that you led, please?"),
            [
                "Could you tell me more",
                "about the last project that you led, please?"
            ]
        );
        // Nothing sensible to cut at: whole.
        assert_eq!(
            texts("Supercalifragilistic expialidocious wonderfulness."),
            ["Supercalifragilistic expialidocious wonderfulness."]
        );
    }

    #[test]
    fn english_rewrites() {
        assert_eq!(
            normalize_english("I earn $80,000 or $1 a day, $120k max."),
            "I earn 80,000 dollars or 1 dollar a day, 120 thousand dollars max."
        );
        assert_eq!(
            normalize_english("Call 555-123-4567 for 3-5 years, Dr. Who"),
            "Call 5 5 5, 1 2 3, 4 5 6 7 for 3 to 5 years, Doctor Who"
        );
        assert_eq!(
            normalize_english("2024-11-25 and B2B"),
            "2024-11-25 and B2B"
        );
    }
}
