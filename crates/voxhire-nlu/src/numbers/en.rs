//! English numbers as Whisper writes them: digits ("25,000", "25k", "5.5"), words
//! ("twenty-five thousand", "two hundred and five", "five and a half", "a couple
//! of", "half a million"), years read in pairs ("twenty eighteen"), and both mixed
//! ("25 thousand", "twenty five k").
//!
//! The grammar is the usual accumulator: `current` holds the group below the last
//! scale word, `total` what the scale words already closed. A token that cannot
//! continue the number ends it, so "five six years" is two numbers.

use super::lex::{Tok, TokKind};
use super::NumAt;

const SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const ORDINAL_SMALL: [&str; 20] = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];

fn small(t: &Tok) -> Option<f64> {
    SMALL.iter().position(|w| t.is(w)).map(|v| v as f64)
}

fn tens(t: &Tok) -> Option<f64> {
    TENS.iter()
        .position(|w| t.is(w))
        .map(|v| (v as f64 + 2.0) * 10.0)
}

/// True when `t` can start or continue an English number.
pub(super) fn is_number_word(t: &Tok) -> bool {
    t.kind == TokKind::Digits || small(t).is_some() || tens(t).is_some()
}

/// What the previous token of the number was, which decides what may follow.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    Start,
    Atom,
    Teen,
    Tens,
    Hundred,
    Scale,
}

/// Parses the English number starting at token `i`.
pub(super) fn parse(toks: &[Tok], i: usize) -> Option<NumAt> {
    let mut j = i;
    let (mut total, mut current) = (0.0_f64, 0.0_f64);
    let (mut approx, mut scaled) = (false, false);
    let mut last = Last::Start;
    let mut atoms = 0;
    let at = |k: usize| toks.get(k);
    // "a hundred", "a couple of", "a few", "an eight"? — only quantity words after "a".
    if at(j).is_some_and(|t| t.is_any(&["a", "an"])) {
        match at(j + 1).map(|t| t.text.as_str()) {
            Some("hundred" | "thousand" | "million" | "dozen") => {
                current = 1.0;
                last = Last::Atom;
                j += 1;
            }
            Some("couple" | "few") => j += 1,
            _ => return None,
        }
    }
    while let Some(t) = at(j) {
        let started = last != Last::Start;
        // "twenty-five": the hyphen joins two number words.
        if started && t.is("-") && at(j + 1).is_some_and(|n| n.glued && small(n).is_some()) {
            j += 1;
            continue;
        }
        if let Some(v) = t.digits() {
            if started {
                break;
            }
            current = v;
            last = Last::Atom;
        } else if let Some(v) = small(t) {
            match last {
                Last::Start | Last::Scale => current = v,
                Last::Tens if v < 10.0 && v > 0.0 => current += v,
                Last::Hundred => current += v,
                // "nineteen eighteen", "twenty nineteen": a year read in pairs.
                Last::Teen | Last::Tens if atoms == 1 && v >= 10.0 => current = current * 100.0 + v,
                _ => break,
            }
            last = if v >= 10.0 { Last::Teen } else { Last::Atom };
            atoms += 1;
        } else if let Some(v) = tens(t) {
            match last {
                Last::Start | Last::Scale => current = v,
                Last::Hundred => current += v,
                Last::Teen | Last::Tens if atoms == 1 => current = current * 100.0 + v,
                _ => break,
            }
            last = Last::Tens;
            atoms += 1;
        } else if t.is("hundred") && started && last != Last::Hundred {
            current = current.max(1.0) * 100.0;
            last = Last::Hundred;
        } else if started
            && (t.is_any(&["thousand", "grand"]) || (t.is("k") && last != Last::Scale))
        {
            total += current.max(1.0) * 1e3;
            current = 0.0;
            last = Last::Scale;
            scaled = true;
        } else if started && (t.is_any(&["million", "mil"]) || (t.is("m") && t.glued)) {
            total += current.max(1.0) * 1e6;
            current = 0.0;
            last = Last::Scale;
            scaled = true;
        } else if t.is("dozen") {
            current = current.max(1.0) * 12.0;
            last = Last::Atom;
        } else if t.is("couple") && !started {
            current = 2.0;
            approx = true;
            last = Last::Scale; // "a couple thousand" may follow
            if at(j + 1).is_some_and(|n| n.is("of")) {
                j += 1;
            }
        } else if t.is_any(&["few", "several"]) && !started {
            current = 3.0;
            approx = true;
            last = Last::Scale;
            if at(j + 1).is_some_and(|n| n.is("of")) {
                j += 1;
            }
        } else if t.is("half") && !started {
            // "half a year", "half a million"
            current = 0.5;
            last = Last::Scale;
            if at(j + 1).is_some_and(|n| n.is_any(&["a", "an"])) {
                j += 1;
            }
            if !at(j + 1).is_some_and(|n| n.is_any(&["million", "thousand", "k"])) {
                j += 1;
                break;
            }
            current = 0.0;
            total = 0.0;
            let scale = if at(j + 1).is_some_and(|n| n.is("million")) {
                1e6
            } else {
                1e3
            };
            total += 0.5 * scale;
            scaled = true;
            j += 2;
            break;
        } else if t.is("and") && started {
            let next = at(j + 1);
            if next.is_some_and(|n| n.is("half")) {
                current += 0.5;
                j += 2;
                break;
            }
            if next.is_some_and(|n| n.is_any(&["a", "an"]))
                && at(j + 2).is_some_and(|n| n.is("half"))
            {
                current += 0.5;
                j += 3;
                break;
            }
            let word_follows = next.is_some_and(|n| small(n).is_some() || tens(n).is_some());
            if matches!(last, Last::Hundred | Last::Scale) && word_follows {
                j += 1;
                continue;
            }
            break;
        } else if t.is("point") && started {
            let mut frac = String::new();
            let mut k = j + 1;
            while let Some(d) = at(k).and_then(small).filter(|d| *d < 10.0) {
                frac.push(char::from(b'0' + d as u8));
                k += 1;
            }
            if frac.is_empty() {
                if let Some(n) =
                    at(k).filter(|n| n.kind == TokKind::Digits && !n.text.contains('.'))
                {
                    frac.push_str(&n.text);
                    k += 1;
                }
            }
            let Ok(f) = format!("0.{frac}").parse::<f64>() else {
                break;
            };
            if frac.is_empty() {
                break;
            }
            current += f;
            j = k;
            last = Last::Atom;
            continue;
        } else {
            break;
        }
        j += 1;
    }
    if last == Last::Start {
        return None;
    }
    Some(NumAt {
        value: total + current,
        end: j,
        approx,
        scaled,
    })
}

/// A day-of-month ordinal at token `i`: "first", "twenty-first", "1st", "21st",
/// "the 3rd" (without "the"); plain digits 1..=31 count too ("March 1").
/// Returns the day and the token index after it.
pub(super) fn ordinal(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    let t = toks.get(i)?;
    let ord_small = |t: &Tok| ORDINAL_SMALL.iter().position(|w| t.is(w));
    if let Some(v) = ord_small(t) {
        return Some((v as u32, i + 1));
    }
    if t.is("twentieth") {
        return Some((20, i + 1));
    }
    if t.is("thirtieth") {
        return Some((30, i + 1));
    }
    if let Some(v) = tens(t) {
        let k = if toks.get(i + 1).is_some_and(|h| h.is("-")) {
            i + 2
        } else {
            i + 1
        };
        let unit = toks.get(k).and_then(ord_small).filter(|u| *u < 10)?;
        return Some((v as u32 + unit as u32, k + 1));
    }
    let v = t
        .digits()
        .filter(|v| v.fract() == 0.0 && *v >= 1.0 && *v <= 31.0)?;
    let suffix = toks
        .get(i + 1)
        .is_some_and(|n| n.glued && n.is_any(&["st", "nd", "rd", "th"]));
    Some((v as u32, if suffix { i + 2 } else { i + 1 }))
}
