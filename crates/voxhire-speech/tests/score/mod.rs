//! Scoring speech recognition: word error rate for English (numbers, case and
//! punctuation normalised on both sides, so "$95,000" and "ninety five thousand
//! dollars" score the same, and hesitation sounds left out as Whisper's English
//! normaliser does) and a mixed error rate for Mandarin: each Chinese
//! character is a unit and so is each Latin word ("Kubernetes" is one unit, not
//! ten), Arabic numerals read as Chinese ones. Shared by the speech crate's
//! accuracy test and the held-out benchmark (`#[path]`-included there).
#![allow(dead_code)]

/// Levenshtein distance over tokens.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
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

// ---------------------------------------------------------------------------
// English normalisation: case, punctuation, and numbers written as words, so
// "$95,000" and "ninety five thousand dollars" score the same.
// ---------------------------------------------------------------------------

/// Hesitations no transcript is wrong to leave out (or to spell otherwise): the
/// list Whisper's English normaliser ignores when it scores WER. Until 2026-12-05
/// they counted here ("Um, about six years" heard as "about 6 years" was an error).
const FILLERS: [&str; 6] = ["hmm", "mm", "mhm", "mmm", "uh", "um"];

const ONES: [&str; 20] = [
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
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn below_thousand(n: u64, out: &mut Vec<String>) {
    if n >= 100 {
        out.push(ONES[(n / 100) as usize].into());
        out.push("hundred".into());
    }
    let r = n % 100;
    if r >= 20 {
        out.push(TENS[(r / 10) as usize].into());
        if !r.is_multiple_of(10) {
            out.push(ONES[(r % 10) as usize].into());
        }
    } else if r > 0 || n == 0 {
        out.push(ONES[r as usize].into());
    }
}

pub fn number_words(n: u64) -> Vec<String> {
    let mut out = Vec::new();
    if n == 0 {
        return vec!["zero".into()];
    }
    for (scale, name) in [
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ] {
        if !(n / scale).is_multiple_of(1000) {
            below_thousand(n / scale % 1000, &mut out);
            out.push(name.into());
        }
    }
    if !n.is_multiple_of(1000) {
        below_thousand(n % 1000, &mut out);
    }
    out
}

/// Years as said: 2015 → "twenty fifteen", 1998 → "nineteen ninety eight".
fn year_words(n: u64) -> Option<Vec<String>> {
    if (1910..=1999).contains(&n) || (2010..=2099).contains(&n) {
        let mut out = number_words(n / 100);
        out.extend(number_words(n % 100));
        Some(out)
    } else {
        None
    }
}

fn ordinal(word: &str) -> String {
    match word {
        "one" => "first".into(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

pub fn normalise_en(text: &str) -> Vec<String> {
    let lower = text
        .to_lowercase()
        .replace("a.m.", "am")
        .replace("p.m.", "pm")
        .replace(['-', '/'], " ");
    let mut words = Vec::new();
    for raw in lower.split_whitespace() {
        let dollars = raw.starts_with('$');
        let token: String = raw
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ':' || *c == '\'')
            .collect();
        let token = token.trim_matches(':').replace('\'', "");
        if token.is_empty() || FILLERS.contains(&token.as_str()) {
            continue;
        }
        // 3:30 → three thirty; 10:00 → ten
        if let Some((h, m)) = token.split_once(':') {
            if let (Ok(h), Ok(m)) = (h.parse::<u64>(), m.parse::<u64>()) {
                words.extend(number_words(h));
                if m > 0 {
                    words.extend(number_words(m));
                }
                continue;
            }
        }
        let digits: String = token.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() {
            let rest = &token[digits.len()..];
            let n: u64 = digits.parse().unwrap_or(0);
            let mut w = match (rest, year_words(n)) {
                ("", Some(y)) if !dollars => y,
                _ => number_words(n),
            };
            match rest {
                "st" | "nd" | "rd" | "th" => {
                    let last = w.pop().unwrap_or_default();
                    w.push(ordinal(&last));
                }
                "k" => w.push("thousand".into()),
                "am" | "pm" => w.push(rest.into()),
                "" => {}
                other => w.push(other.into()),
            }
            words.extend(w);
            if dollars {
                words.push("dollars".into());
            }
            continue;
        }
        words.push(token);
    }
    words
}

// ---------------------------------------------------------------------------
// Mandarin normalisation: characters only, Arabic numerals as Chinese ones.
// ---------------------------------------------------------------------------

pub fn hanzi_number(n: u64) -> String {
    const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    fn below_10k(n: u64, out: &mut String, leading: bool) {
        let units = [(1000, '千'), (100, '百'), (10, '十')];
        let mut zero = false;
        let mut started = false;
        for (u, c) in units {
            let d = n / u % 10;
            if d > 0 {
                if zero {
                    out.push('零');
                    zero = false;
                }
                // 十 alone, not 一十, at the start of a number
                if !(u == 10 && d == 1 && leading && !started) {
                    out.push(DIGITS[d as usize]);
                }
                out.push(c);
                started = true;
            } else if started {
                zero = true;
            }
        }
        let d = n % 10;
        if d > 0 {
            if zero {
                out.push('零');
            }
            out.push(DIGITS[d as usize]);
        }
    }
    if n == 0 {
        return "零".into();
    }
    let mut out = String::new();
    if n >= 10_000 {
        below_10k(n / 10_000, &mut out, true);
        out.push('万');
        if !n.is_multiple_of(10_000) {
            if n % 10_000 < 1000 {
                out.push('零');
            }
            below_10k(n % 10_000, &mut out, false);
        }
    } else {
        below_10k(n, &mut out, true);
    }
    out
}

pub fn normalise_zh(text: &str) -> Vec<String> {
    // Numbers first: digits (with thousands commas) become Chinese numerals.
    let mut chars = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if !digits.is_empty() {
            out.push_str(&hanzi_number(digits.parse().unwrap_or(0)));
            digits.clear();
        }
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if c == ',' && !digits.is_empty() {
            continue; // 25,000
        }
        flush(&mut digits, &mut chars);
        chars.push(c);
    }
    flush(&mut digits, &mut chars);
    // Then units: a Chinese character each, a Latin word each; 两 and 二 are the
    // same number.
    let mut out = Vec::new();
    let mut word = String::new();
    for c in chars.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            out.push(if c == '两' {
                '二'.to_string()
            } else {
                c.to_string()
            });
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[test]
fn normalisers() {
    let zh = |t: &str| normalise_zh(t).join(" ");
    assert_eq!(
        normalise_en("My current salary is $95,000 a year.").join(" "),
        "my current salary is ninety five thousand dollars a year"
    );
    assert_eq!(
        normalise_en("Tuesday at 3:30 p.m., in 2015, the 12th; 10:00").join(" "),
        "tuesday at three thirty pm in twenty fifteen the twelfth ten"
    );
    assert_eq!(
        normalise_en("Don't call me again!").join(" "),
        "dont call me again"
    );
    assert_eq!(
        normalise_en("Um, about six years. Hmm, uh-huh, umbrella").join(" "),
        "about six years huh umbrella"
    );
    assert_eq!(zh("月薪2万5千元"), "月 薪 二 万 五 千 元");
    assert_eq!(zh("25,000元，10点"), "二 万 五 千 元 十 点");
    assert_eq!(hanzi_number(3_005), "三千零五");
    assert_eq!(hanzi_number(110_000), "十一万");
    assert_eq!(
        zh("我用 Spring Cloud和MySQL。"),
        "我 用 spring cloud 和 mysql"
    );
    assert_eq!(edit_distance(&['a', 'b', 'c'], &['a', 'c', 'd']), 2);
}
