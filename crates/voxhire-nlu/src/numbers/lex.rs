//! The one tokenizer every rule and parser of this crate reads: ASR text (English,
//! Mandarin, or both in one utterance) cut into ASCII words, digit runs, single CJK
//! characters and symbols, each with its byte range in the original text.
//!
//! Why one token stream for both languages: candidates mix them ("我用过Spring
//! Boot", "两万五 per month", "2万5"), so the number grammar, the skill matcher and
//! the slot parsers all walk the same tokens and never re-scan the text.

use std::ops::Range;

/// What a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// A run of ASCII letters (and digits after the first letter, `k8s`), with
    /// inner apostrophes (`don't`), lower-cased.
    Word,
    /// A run of ASCII digits with inner `,` thousands separators and one `.`
    /// decimal point (`25,000`, `5.5`).
    Digits,
    /// One CJK character (Mandarin is read character by character).
    Cjk,
    /// Anything else that is not white space: punctuation, `$`, `%`, `:`, `+`.
    Sym,
}

/// One token of an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    pub kind: TokKind,
    /// The token's text, ASCII lower-cased (`’` folded to `'`).
    pub text: String,
    /// Byte range in the original text.
    pub span: Range<usize>,
    /// True when no white space separates this token from the previous one
    /// (`25k`, `2万5`), which is how a suffix is told from a new word.
    pub glued: bool,
}

impl Tok {
    pub fn is(&self, word: &str) -> bool {
        self.text == word
    }
    pub fn is_any(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.text == *w)
    }
    /// The character of a [`TokKind::Cjk`] token.
    pub fn cjk(&self) -> Option<char> {
        match self.kind {
            TokKind::Cjk => self.text.chars().next(),
            _ => None,
        }
    }
    /// The value of a [`TokKind::Digits`] token.
    pub fn digits(&self) -> Option<f64> {
        match self.kind {
            TokKind::Digits => self.text.replace(',', "").parse().ok(),
            _ => None,
        }
    }
    /// True for sentence and clause punctuation in either script.
    pub fn is_clause_break(&self) -> bool {
        self.kind == TokKind::Sym
            && matches!(
                self.text.as_str(),
                "," | "." | ";" | "!" | "?" | "，" | "。" | "；" | "！" | "？" | "、" | "…"
            )
    }
}

/// True for the CJK ideograph blocks Whisper emits for Mandarin.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

/// Cuts `text` into tokens. Never fails; unknown characters become [`TokKind::Sym`].
pub fn tokenize(text: &str) -> Vec<Tok> {
    let mut toks = Vec::with_capacity(text.len() / 3 + 1);
    let mut it = text.char_indices().peekable();
    let mut glued = false;
    while let Some(&(start, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            glued = false;
            continue;
        }
        let (kind, mut end) = (
            if c.is_ascii_alphabetic() {
                TokKind::Word
            } else if c.is_ascii_digit() {
                TokKind::Digits
            } else if is_cjk(c) {
                TokKind::Cjk
            } else {
                TokKind::Sym
            },
            start + c.len_utf8(),
        );
        it.next();
        match kind {
            TokKind::Word => {
                while let Some(&(i, d)) = it.peek() {
                    let inner_apostrophe = (d == '\'' || d == '’')
                        && text[i + d.len_utf8()..]
                            .chars()
                            .next()
                            .is_some_and(|n| n.is_ascii_alphabetic());
                    if d.is_ascii_alphanumeric() || inner_apostrophe {
                        end = i + d.len_utf8();
                        it.next();
                    } else {
                        break;
                    }
                }
            }
            TokKind::Digits => {
                let mut seen_point = false;
                while let Some(&(i, d)) = it.peek() {
                    let next_is_digit = text[i + d.len_utf8()..]
                        .chars()
                        .next()
                        .is_some_and(|n| n.is_ascii_digit());
                    let separator =
                        d == ',' && next_is_digit && thousands_group_follows(&text[i + 1..]);
                    let point = d == '.' && next_is_digit && !seen_point;
                    if !(d.is_ascii_digit() || separator || point) {
                        break;
                    }
                    seen_point |= point;
                    end = i + 1;
                    it.next();
                }
            }
            TokKind::Cjk | TokKind::Sym => {}
        }
        let raw = &text[start..end];
        let text = match kind {
            TokKind::Word => raw.to_ascii_lowercase().replace('’', "'"),
            _ => raw.to_string(),
        };
        toks.push(Tok {
            kind,
            text,
            span: start..end,
            glued,
        });
        glued = true;
    }
    toks
}

/// `,` is a thousands separator only before exactly three digits ("25,000" but
/// not the list "3,4 years").
fn thousands_group_follows(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && b.get(3).is_none_or(|c| !c.is_ascii_digit())
}

/// The original text from the start of token `a` to the end of token `b - 1`.
pub fn quote<'t>(text: &'t str, toks: &[Tok], a: usize, b: usize) -> &'t str {
    match (toks.get(a), b.checked_sub(1).and_then(|l| toks.get(l))) {
        (Some(first), Some(last)) if first.span.start <= last.span.end => {
            &text[first.span.start..last.span.end]
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokKind, String, bool)> {
        tokenize(text)
            .into_iter()
            .map(|t| (t.kind, t.text, t.glued))
            .collect()
    }

    #[test]
    fn mixed_scripts_and_suffixes() {
        use TokKind::*;
        assert_eq!(
            kinds("I'm 25k/月 2万5 k8s"),
            vec![
                (Word, "i'm".into(), false),
                (Digits, "25".into(), false),
                (Word, "k".into(), true),
                (Sym, "/".into(), true),
                (Cjk, "月".into(), true),
                (Digits, "2".into(), false),
                (Cjk, "万".into(), true),
                (Digits, "5".into(), true),
                (Word, "k8s".into(), false),
            ]
        );
    }

    #[test]
    fn digit_separators() {
        let t = tokenize("25,000 and 5.5, 3,4 years.");
        assert_eq!(t[0].digits(), Some(25000.0));
        assert_eq!(t[2].digits(), Some(5.5));
        assert_eq!(t[3].text, ",");
        assert_eq!(t[4].digits(), Some(3.0));
        assert!(t.last().is_some_and(Tok::is_clause_break));
        assert_eq!(quote("25,000 and 5.5", &t, 0, 3), "25,000 and 5.5");
    }
}
