//! Expected salary per month: "twenty-five thousand a month", "25k", "about 30k
//! monthly", "$8,000", "between 25 and 30k" (the middle), 两万五, 2万5, 一个月两万,
//! 月薪三万, 15k到20k, 三万块.
//!
//! Annual figures ("300k a year", 年薪三十万) are divided by 12 (rounded) with
//! confidence 0.8, and the quote keeps the words "a year" / 年薪 so a reader sees
//! it was annual. A figure of 100,000 or more with no period word is taken as
//! annual too (confidence 0.6): nobody quotes 300k a month in a screening call.
//! Currency: what was said ("dollars", "bucks", "yuan", "RMB", 块, 元, 美元),
//! else CNY for Mandarin and USD for English. When two amounts are said ("I make
//! 20k now and want 30k", 现在两万，期望三万) the one near an expectation word
//! wins, else the last.

use super::{Found, Input};
use crate::numbers::{number_at, NumAt, Point};
use crate::skills::negation::is_value_negated;
use crate::types::{Lang, SlotKind, SlotValue};

#[derive(Clone, Copy, PartialEq)]
enum Period {
    Month,
    Year,
    Unsaid,
}

struct Amount {
    value: f64,
    currency: Option<&'static str>,
    period: Period,
    start: usize,
    end: usize,
    range: bool,
}

/// Words right after a number that make it no amount of money.
const EN_NOT_MONEY: [&str; 16] = [
    "year",
    "years",
    "yrs",
    "month",
    "months",
    "week",
    "weeks",
    "day",
    "days",
    "hour",
    "hours",
    "minutes",
    "people",
    "percent",
    "%",
    "employees",
];
const ZH_NOT_MONEY: [char; 12] = [
    '年', '个', '月', '天', '周', '号', '点', '岁', '人', '日', '小', '分',
];

fn currency_word(text: &str) -> Option<&'static str> {
    Some(match text {
        "dollars" | "dollar" | "bucks" | "usd" | "$" => "USD",
        "yuan" | "rmb" | "cny" | "kuai" | "renminbi" | "¥" | "￥" => "CNY",
        _ => return None,
    })
}

fn zh_currency_at(rest: &str) -> Option<(&'static str, usize)> {
    for (w, cur) in [
        ("块钱", "CNY"),
        ("人民币", "CNY"),
        ("块", "CNY"),
        ("元", "CNY"),
        ("美元", "USD"),
        ("美金", "USD"),
        ("刀", "USD"),
    ] {
        if rest.starts_with(w) {
            return Some((cur, w.chars().count()));
        }
    }
    None
}

pub(super) fn extract(input: &Input, out: &mut Vec<Found>) {
    let toks = input.toks;
    let mut amounts = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match amount_at(input, i) {
            Some(a) => {
                i = a.end;
                amounts.push(a);
            }
            None => i += 1,
        }
    }
    amounts.retain(|a| !is_value_negated(input.text, toks, &input.span(a.start, a.end)));
    let expect_at = [
        "expect",
        "expecting",
        "expected",
        "want",
        "hoping",
        "looking",
        "asking",
        "target",
    ]
    .iter()
    .find_map(|w| toks.iter().position(|t| t.is(w)))
    .map(|k| toks[k].span.start)
    .or_else(|| {
        ["期望", "希望", "想要", "要求", "期待", "预期"]
            .iter()
            .find_map(|w| input.text.find(w))
    });
    let chosen = match expect_at {
        Some(at) => amounts.iter().find(|a| toks[a.start].span.start >= at),
        None => amounts.last(),
    };
    let Some(a) = chosen.or(amounts.last()) else {
        return;
    };
    let period = match a.period {
        Period::Unsaid if a.value >= 100_000.0 => Period::Year,
        p => p,
    };
    let monthly = match period {
        Period::Year => (a.value / 12.0).round(),
        _ => a.value.round(),
    };
    let mut confidence: f32 = match (a.period, period) {
        (Period::Unsaid, Period::Year) => 0.6,
        (_, Period::Year) => 0.8,
        _ => 0.95,
    };
    if a.range {
        confidence = confidence.min(0.8);
    }
    if amounts.len() > 1 && expect_at.is_none() {
        confidence = confidence.min(0.7);
    }
    let currency = a.currency.unwrap_or(match input.lang {
        Lang::Zh => "CNY",
        Lang::En => "USD",
    });
    let clear = a.currency.is_some()
        || a.period != Period::Unsaid
        || input.has_word(&[
            "salary",
            "pay",
            "paid",
            "compensation",
            "package",
            "make",
            "earn",
            "expect",
            "expecting",
        ])
        || input.has_any(&["薪", "工资", "收入", "待遇", "期望"]);
    out.push(
        Found::new(
            SlotKind::SalaryMonthly,
            SlotValue::Money {
                amount: monthly as u64,
                currency: currency.to_string(),
            },
            input.span(a.start, a.end),
            confidence,
        )
        .clear(clear)
        .negation_checked(),
    );
}

/// A number that is not a count of something else (years, people, o'clock).
fn plain_number(input: &Input, i: usize) -> Option<NumAt> {
    let toks = input.toks;
    let n = number_at(toks, i, Point::Decimal)?;
    let next = toks.get(n.end);
    if next.is_some_and(|t| {
        t.is_any(&EN_NOT_MONEY) || t.cjk().is_some_and(|c| ZH_NOT_MONEY.contains(&c))
    }) {
        return None;
    }
    Some(n)
}

fn amount_at(input: &Input, i: usize) -> Option<Amount> {
    let toks = input.toks;
    let cjk = |k: usize| toks.get(k).and_then(|t| t.cjk());
    let n = plain_number(input, i)?;
    let mut value = n.value;
    let mut end = n.end;
    let mut range = false;
    // A range: "25 to 30k", "25-30k", 两到三万, 15k到20k.
    let joiner = toks.get(end).is_some_and(|t| {
        t.is_any(&["to", "-", "~", "or", "and"]) || matches!(t.cjk(), Some('到' | '至'))
    });
    if joiner {
        if let Some(m) = plain_number(input, end + 1).filter(|m| m.value > value || m.scaled) {
            let mut low = value;
            if !n.scaled && low < 1000.0 && m.value >= 1000.0 {
                let shift = m.value.log10().floor() - low.max(1.0).log10().floor();
                low *= 10f64.powf(shift);
            }
            if low <= m.value && low * 3.0 >= m.value {
                value = (low + m.value) / 2.0;
                end = m.end;
                range = true;
            }
        }
    }
    if !(1000.0..=10_000_000.0).contains(&value) {
        return None;
    }
    let mut start = i;
    let mut currency = None;
    // Before: "$25k", "RMB 30k", "usd 8000"
    if let Some(p) = i.checked_sub(1).and_then(|p| toks.get(p)) {
        if let Some(c) = currency_word(&p.text) {
            currency = Some(c);
            start = i - 1;
        }
    }
    // After: currency, then period ("25k dollars a month", 两万块一个月).
    if let Some(c) = toks.get(end).and_then(|t| currency_word(&t.text)) {
        currency = Some(c);
        end += 1;
    } else if let Some(t) = toks.get(end) {
        if let Some((c, len)) = zh_currency_at(&input.text[t.span.start..]) {
            currency = Some(c);
            end += len;
        }
    }
    if toks.get(end).is_some_and(|t| t.is_any(&["us", "american"]))
        && toks
            .get(end + 1)
            .is_some_and(|t| t.is_any(&["dollars", "dollar"]))
    {
        currency = Some("USD");
        end += 2;
    }
    let mut period = Period::Unsaid;
    let after = |k: usize| toks.get(k).map(|t| t.text.as_str());
    match (after(end), after(end + 1)) {
        (Some("a" | "per" | "each" | "every" | "/"), Some("month" | "mo")) => {
            period = Period::Month;
            end += 2;
        }
        (Some("monthly"), _) => {
            period = Period::Month;
            end += 1;
        }
        (Some("a" | "per" | "each" | "every" | "/"), Some("year" | "yr" | "annum")) => {
            period = Period::Year;
            end += 2;
        }
        (Some("annually" | "yearly" | "annual"), _) => {
            period = Period::Year;
            end += 1;
        }
        _ => {}
    }
    if period == Period::Unsaid {
        let rest = toks.get(end).map_or("", |t| &input.text[t.span.start..]);
        for (w, p) in [
            ("一个月", Period::Month),
            ("每月", Period::Month),
            ("每个月", Period::Month),
            ("/月", Period::Month),
            ("一年", Period::Year),
            ("每年", Period::Year),
            ("/年", Period::Year),
        ] {
            if rest.starts_with(w) {
                period = p;
                end += w.chars().count();
                break;
            }
        }
    }
    if period == Period::Unsaid {
        // Before, within the clause: 月薪 / 一个月 / "monthly" … 年薪 / "annual" …
        let from = (0..i)
            .rev()
            .take(8)
            .take_while(|&k| !toks[k].is_clause_break())
            .last()
            .unwrap_or(i);
        let before = &input.text[toks.get(from).map_or(0, |t| t.span.start)..toks[i].span.start];
        let words = &toks[from..i];
        let month_before = ["月薪", "一个月", "每个月", "每月", "月入", "月工资"]
            .iter()
            .any(|w| before.contains(w))
            || words.iter().any(|t| t.is_any(&["monthly", "month"]));
        let year_before = ["年薪", "一年", "每年", "年包", "年收入"]
            .iter()
            .any(|w| before.contains(w))
            || words
                .iter()
                .any(|t| t.is_any(&["annual", "annually", "yearly", "year"]));
        if month_before != year_before {
            period = if month_before {
                Period::Month
            } else {
                Period::Year
            };
            // Quote 月薪 / 年薪 with the amount when it is right before it.
            if i >= 2 && cjk(i - 1) == Some('薪') {
                start = start.min(i - 2);
            }
        }
    }
    Some(Amount {
        value,
        currency,
        period,
        start,
        end,
        range,
    })
}
