//! Numbers in ASR text, English and Mandarin, with where they were said.
//!
//! Whisper writes numbers every which way over the phone: "25,000", "25k",
//! "twenty five thousand", "twenty-five k", 两万五, 2万5, 1.5万, 三年半. Both
//! grammars ([`en`] and [`zh`]) walk the shared token stream of [`lex`], so a
//! Mandarin sentence with an English number (or the reverse) still parses.
//!
//! ```
//! use voxhire_nlu::numbers::find_numbers;
//! let found: Vec<f64> = find_numbers("about twenty-five k, 或者两万五").iter().map(|n| n.value).collect();
//! assert_eq!(found, vec![25000.0, 25000.0]);
//! ```

use std::ops::Range;

mod en;
pub mod lex;
mod zh;

use lex::{Tok, TokKind};

/// A number found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: f64,
    /// Byte range in the text.
    pub span: Range<usize>,
    /// A vague quantity: "a couple of", "a few", 七八 (a range, its middle).
    pub approx: bool,
}

/// A number that starts at a token, for the slot parsers that walk tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumAt {
    pub value: f64,
    /// Index of the first token after the number.
    pub end: usize,
    pub approx: bool,
    /// A scale word or suffix was said (thousand, k, 万, 千): "25k" is money,
    /// "25" may be anything.
    pub scaled: bool,
}

/// How to read 点 in Mandarin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// 一点五万, 三点五年: a decimal point.
    Decimal,
    /// 十点, 八点五十: o'clock (the number stops before 点).
    Clock,
}

/// The number starting at token `i`, if one does (English words, digits or
/// Chinese numerals, whichever the token is).
pub fn number_at(toks: &[Tok], i: usize, point: Point) -> Option<NumAt> {
    let t = toks.get(i)?;
    let zh_digits = t.kind == TokKind::Digits
        && toks.get(i + 1).is_some_and(|n| {
            zh::continues_digits(n)
                && !(n.cjk() == Some('点') && point == Point::Clock)
                && !(n.is("k")
                    && toks
                        .get(i + 2)
                        .is_some_and(|m| m.glued && m.kind == TokKind::Word))
        });
    if zh::starts_number(t) || zh_digits {
        zh::parse(toks, i, point == Point::Decimal)
    } else if matches!(t.kind, TokKind::Word | TokKind::Digits) {
        en::parse(toks, i)
    } else {
        None
    }
}

/// A day-of-month ordinal in English at token `i` ("first", "twenty-first",
/// "1st", "15"), with the index after it.
pub fn en_ordinal_at(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    en::ordinal(toks, i)
}

/// True when the token can begin an English number word ("five", "twenty", "25").
pub fn is_en_number_word(t: &Tok) -> bool {
    en::is_number_word(t)
}

/// Every number in `text`, left to right, not overlapping.
pub fn find_numbers(text: &str) -> Vec<Number> {
    let toks = lex::tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match number_at(&toks, i, Point::Decimal) {
            Some(n) if n.end > i => {
                out.push(Number {
                    value: n.value,
                    span: toks[i].span.start..toks[n.end - 1].span.end,
                    approx: n.approx,
                });
                i = n.end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The value of `text` when all of it is one number ("twenty five k", 两万五).
pub fn parse_number(text: &str) -> Option<f64> {
    let toks = lex::tokenize(text);
    let n = number_at(&toks, 0, Point::Decimal)?;
    (n.end == toks.len()).then_some(n.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_words() {
        let text = "I want twenty five k or 2万5";
        let found = find_numbers(text);
        assert_eq!(found.len(), 2);
        assert_eq!(&text[found[0].span.clone()], "twenty five k");
        assert_eq!(&text[found[1].span.clone()], "2万5");
        assert_eq!(found[1].value, 25000.0);
    }

    #[test]
    fn clock_point_stops_before_dian() {
        let toks = lex::tokenize("十点五十");
        let n = number_at(&toks, 0, Point::Clock).map(|n| (n.value, n.end));
        assert_eq!(n, Some((10.0, 1)));
        let n = number_at(&toks, 0, Point::Decimal).map(|n| n.value);
        assert_eq!(n, Some(10.5));
    }
}
