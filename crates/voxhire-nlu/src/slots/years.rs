//! Years of experience: "about seven years", "7 yrs", "5+ years", "a year and a
//! half", "two years and six months", "a decade", "since 2018" / "since twenty
//! eighteen" (counted from the call's local year), 五年, 三年半, 一年多, 七八年,
//! 半年, 十八个月, 从2018年开始, 18年毕业; a range ("four or five years", 五到六年,
//! 七八年) is its middle.
//!
//! Choices for vague answers (the dialog sees a lower confidence for each):
//! "almost ten" / 快十年了 / 将近十年 → 9.5; "less than a year" / 不到一年 → 0.5
//! (value − 0.5); "more than" answers keep the bound said, as a recruiter writes
//! "2+ years": "over five" / 五年以上 → 5, 两年多 → 2, 十多年 → 10. When several durations are said
//! ("three years at Alibaba and two at Tencent") the one after "in total" / 一共
//! wins, else the largest (confidence 0.6).

use super::{Found, Input};
use crate::numbers::{number_at, NumAt, Point};
use crate::skills::negation::is_value_negated;
use crate::types::{SlotKind, SlotValue};

const EN_YEAR: [&str; 7] = ["year", "years", "yrs", "yr", "year's", "years'", "yeas"];
const EN_MONTH: [&str; 4] = ["month", "months", "mos", "mo"];

struct Candidate {
    years: f32,
    span: std::ops::Range<usize>,
    confidence: f32,
}

pub(super) fn extract(input: &Input, out: &mut Vec<Found>) {
    let mut cands = Vec::new();
    let toks = input.toks;
    let mut i = 0;
    while i < toks.len() {
        match duration_at(input, i).or_else(|| since_year_at(input, i)) {
            Some((c, end)) => {
                cands.push(c);
                i = end.max(i + 1);
            }
            None => i += 1,
        }
    }
    // "没有五年，四年吧": drop the negated ones before choosing among the rest.
    cands.retain(|c| !is_value_negated(input.text, input.toks, &c.span));
    let Some(best) = choose(input, cands) else {
        return;
    };
    let clear = input.has_word(&["experience", "experienced", "worked", "working", "coding"])
        || input.has_any(&["经验", "工作", "开发", "干了", "做了"]);
    out.push(
        Found::new(
            SlotKind::YearsExperience,
            SlotValue::Years { years: best.years },
            best.span,
            best.confidence,
        )
        .clear(clear)
        .negation_checked(),
    );
}

fn choose(input: &Input, mut cands: Vec<Candidate>) -> Option<Candidate> {
    if cands.len() <= 1 {
        return cands.pop();
    }
    let total_at = input
        .toks
        .iter()
        .position(|t| t.is_any(&["total", "overall", "altogether", "all"]))
        .map(|k| input.toks[k].span.start)
        .or_else(|| {
            ["一共", "总共", "加起来", "总的", "累计"]
                .iter()
                .find_map(|w| input.text.find(w))
        });
    if let Some(at) = total_at {
        // The first duration after the "in total" cue ("一共五年"), else the
        // nearest before it ("five years in total").
        if let Some(k) = cands.iter().position(|c| c.span.start >= at) {
            return Some(cands.swap_remove(k));
        }
        return cands.into_iter().min_by_key(|c| at.abs_diff(c.span.end));
    }
    let mut best = cands
        .into_iter()
        .max_by(|a, b| a.years.total_cmp(&b.years))?;
    best.confidence = best.confidence.min(0.6);
    Some(best)
}

/// A hedge before the number and what it does to the value.
fn hedge_before(input: &Input, i: usize) -> (usize, f32, f32) {
    let toks = input.toks;
    let prev = |k: usize| i.checked_sub(k).and_then(|p| toks.get(p));
    // (first token of the hedge, value shift, confidence)
    if prev(2).is_some_and(|a| a.is_any(&["more", "over"])) && prev(1).is_some_and(|b| b.is("than"))
    {
        return (i - 2, 0.0, 0.8);
    }
    if prev(2).is_some_and(|a| a.is("less")) && prev(1).is_some_and(|b| b.is("than")) {
        return (i - 2, -0.5, 0.7);
    }
    if prev(1).is_some_and(|a| a.is_any(&["almost", "nearly"])) {
        return (i - 1, -0.5, 0.8);
    }
    if prev(1).is_some_and(|a| {
        a.is_any(&[
            "about",
            "around",
            "roughly",
            "approximately",
            "like",
            "over",
        ])
    }) {
        return (i - 1, 0.0, 0.85);
    }
    // Mandarin hedges, a character or two before the number.
    let before = &input.text[..toks.get(i).map_or(0, |t| t.span.start)];
    for (cue, shift, conf) in [
        ("快", -0.5, 0.8),
        ("将近", -0.5, 0.8),
        ("接近", -0.5, 0.8),
        ("差不多", 0.0, 0.85),
        ("大概", 0.0, 0.85),
        ("不到", -0.5, 0.7),
        ("超过", 0.0, 0.8),
    ] {
        if before.ends_with(cue) {
            let start = toks
                .iter()
                .position(|t| t.span.start >= before.len() - cue.len())
                .unwrap_or(i);
            return (start, shift, conf);
        }
    }
    (i, 0.0, 1.0)
}

/// "seven years", 三年半, "a year and a half", 十八个月 starting at token `i`.
fn duration_at(input: &Input, i: usize) -> Option<(Candidate, usize)> {
    let toks = input.toks;
    let t = &toks[i];
    // "a year" / "an year": the article is one — unless it is a rate ("300k a year").
    let num =
        if t.is_any(&["a", "an", "one"]) && toks.get(i + 1).is_some_and(|n| n.is_any(&EN_YEAR)) {
            let rate = i > 0
                && (toks[i - 1].is_any(&["k", "thousand", "per", "dollars", "yuan", "rmb"])
                    || toks[i - 1].digits().is_some());
            if rate {
                return None;
            }
            NumAt {
                value: 1.0,
                end: i + 1,
                approx: false,
                scaled: false,
            }
        } else if t.is_any(&["a", "an"]) && toks.get(i + 1).is_some_and(|n| n.is("decade")) {
            NumAt {
                value: 1.0,
                end: i + 1,
                approx: false,
                scaled: false,
            }
        } else {
            number_at(toks, i, Point::Decimal)?
        };
    if num.scaled || num.value > 60.0 {
        return None;
    }
    let mut value = num.value as f32;
    let mut k = num.end;
    let mut conf: f32 = if num.approx { 0.8 } else { 1.0 };
    let cjk = |k: usize| toks.get(k).and_then(|t| t.cjk());
    // "four or five years", "5 to 7 years", "5-6 years", 五到六年: the middle.
    if toks
        .get(k)
        .is_some_and(|j| j.is_any(&["or", "to", "-"]) || j.cjk() == Some('到'))
    {
        if let Some(m) = number_at(toks, k + 1, Point::Decimal)
            .filter(|m| !m.scaled && m.value > num.value && m.value <= num.value * 3.0)
        {
            value = ((num.value + m.value) / 2.0) as f32;
            k = m.end;
            conf = 0.8;
        }
    }
    // Between number and unit: "5+ years", "ten plus years", "five full years".
    while toks
        .get(k)
        .is_some_and(|n| n.is_any(&["+", "plus", "full", "whole", "more", "solid"]))
    {
        k += 1;
    }
    let months;
    if toks.get(k).is_some_and(|n| n.is_any(&EN_YEAR)) {
        months = false;
        k += 1;
        // "a year and a half", "two years and six months", "or so", "plus"
        if toks.get(k).is_some_and(|n| n.is("and")) {
            if toks.get(k + 1).is_some_and(|n| n.is("half")) {
                value += 0.5;
                k += 2;
            } else if toks.get(k + 1).is_some_and(|n| n.is_any(&["a", "an"]))
                && toks.get(k + 2).is_some_and(|n| n.is("half"))
            {
                value += 0.5;
                k += 3;
            } else if let Some(m) = number_at(toks, k + 1, Point::Decimal)
                .filter(|m| toks.get(m.end).is_some_and(|u| u.is_any(&EN_MONTH)))
            {
                value += m.value as f32 / 12.0;
                k = m.end + 1;
            }
        }
        if toks
            .get(k)
            .is_some_and(|n| n.is_any(&["ago", "old", "older", "younger"]))
        {
            return None;
        }
    } else if toks
        .get(k)
        .is_some_and(|n| n.is_any(&["decade", "decades"]))
    {
        months = false;
        value *= 10.0;
        k += 1;
    } else if toks.get(k).is_some_and(|n| n.is_any(&EN_MONTH)) {
        months = true;
        k += 1;
    } else if cjk(k) == Some('个') && cjk(k + 1) == Some('月') {
        months = true;
        k += 2;
    } else if cjk(k) == Some('个') && cjk(k + 1) == Some('半') && cjk(k + 2) == Some('月') {
        months = true;
        value += 0.5;
        k += 3;
    } else if cjk(k) == Some('年') || (cjk(k) == Some('多') && cjk(k + 1) == Some('年')) {
        months = false;
        if cjk(k) == Some('多') {
            conf = conf.min(0.8);
            k += 1;
        }
        k += 1;
        match cjk(k) {
            // 年级 (school year), 年龄, 年代, 年前 (ago): not experience.
            Some('级' | '龄' | '代' | '前' | '纪') => return None,
            // 18年开始 / 2018年毕业: a calendar year, read by since_year_at.
            _ if num.value >= 1900.0 || starts_career(input, k) => return None,
            Some('半') => {
                value += 0.5;
                k += 1;
            }
            Some('多') => {
                conf = conf.min(0.8);
                k += 1;
            }
            _ => {}
        }
        if cjk(k) == Some('以') && cjk(k + 1) == Some('上') {
            k += 2;
            conf = conf.min(0.8);
        }
    } else {
        return None;
    }
    if months {
        value = (value / 12.0 * 100.0).round() / 100.0;
    }
    // "or so" / 左右 after the unit
    if toks.get(k).is_some_and(|n| n.is("or")) && toks.get(k + 1).is_some_and(|n| n.is("so")) {
        k += 2;
        conf = conf.min(0.85);
    }
    if cjk(k) == Some('左') && cjk(k + 1) == Some('右') {
        k += 2;
        conf = conf.min(0.85);
    }
    let (start, shift, hedge_conf) = hedge_before(input, i);
    value = (value + shift).max(0.0);
    Some((
        Candidate {
            years: value,
            span: input.span(start, k),
            confidence: conf.min(hedge_conf),
        },
        k,
    ))
}

/// True when the words at token `k` say a career began then (开始, 毕业, 入行…).
fn starts_career(input: &Input, k: usize) -> bool {
    let rest = input
        .toks
        .get(k)
        .map_or("", |t| &input.text[t.span.start..]);
    [
        "开始",
        "毕业",
        "入行",
        "入职",
        "参加工作",
        "工作到现在",
        "到现在",
        "至今",
        "起",
    ]
    .iter()
    .any(|w| rest.starts_with(w))
}

/// "since 2018", "since twenty eighteen", "started in 2019", 从2018年, 2018年开始,
/// 18年毕业: years from then to the call's local year.
fn since_year_at(input: &Input, i: usize) -> Option<(Candidate, usize)> {
    let now = input.ctx.local_now?;
    let toks = input.toks;
    let num = number_at(toks, i, Point::Decimal)?;
    let cjk = |k: usize| toks.get(k).and_then(|t| t.cjk());
    let this_year = chrono::Datelike::year(&now) as f64;
    let mut year = num.value;
    let mut start = i;
    let mut end = num.end;
    if cjk(num.end) == Some('年') {
        let from = i > 0 && toks[i - 1].cjk().is_some_and(|c| matches!(c, '从' | '自'));
        if !(from || starts_career(input, num.end + 1)) {
            return None;
        }
        if year < 100.0 {
            year += 2000.0;
        }
        if from {
            start = i - 1;
        }
        end = num.end + 1;
        // include the verb: 2018年开始
        if let Some(w) = ["开始", "毕业", "入行", "入职", "参加工作"]
            .iter()
            .find(|w| {
                input.text[toks.get(end).map_or(input.text.len(), |t| t.span.start)..]
                    .starts_with(*w)
            })
        {
            end += w.chars().count();
        }
    } else {
        let prev = |k: usize| i.checked_sub(k).and_then(|p| toks.get(p));
        if prev(1).is_some_and(|t| t.is("since")) {
            start = i - 1;
        } else if prev(1).is_some_and(|t| t.is("in"))
            && prev(2).is_some_and(|t| {
                t.is_any(&[
                    "started",
                    "start",
                    "began",
                    "graduated",
                    "joined",
                    "starting",
                ])
            })
        {
            start = i - 2;
        } else {
            return None;
        }
    }
    if !(1970.0..=this_year).contains(&year) || year.fract() != 0.0 {
        return None;
    }
    Some((
        Candidate {
            years: (this_year - year) as f32,
            span: input.span(start, end),
            confidence: 0.8,
        },
        end,
    ))
}
