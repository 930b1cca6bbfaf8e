//! Day references, English and Mandarin, resolved against the call's local date:
//! today / tomorrow / 明天 / 后天, weekdays (Monday, next Friday, 周三, 下周一,
//! 星期五, 礼拜天), next week / 下周, next month / 下个月, dates ("March 1st", "the
//! 15th", "the first of next month", 12月1号, 下个月一号, 15号), 月底 / 月初.
//!
//! Weekdays: a bare weekday or "this Friday" / 周五 / 这周五 is the next one from
//! today (today included; callers that need a future day move it a week on);
//! "next Friday" / 下周五 is the Friday of next week (weeks start on Monday), the
//! reading that agrees with 下周五. A date that already passed this year is next
//! year's.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

mod zh;

use crate::numbers::en_ordinal_at;
use crate::numbers::lex::Tok;

/// A part of the day said with the day ("tomorrow morning", 今晚, 明早).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DayPart {
    Morning,
    Noon,
    Afternoon,
    Evening,
    Night,
}

impl DayPart {
    /// The hour a callback goes to when only the part of the day was said.
    pub fn default_hour(self) -> u32 {
        match self {
            DayPart::Morning => 9,
            DayPart::Noon => 12,
            DayPart::Afternoon => 14,
            DayPart::Evening => 19,
            DayPart::Night => 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct DayRef {
    pub date: NaiveDate,
    pub part: Option<DayPart>,
    /// A bare weekday (today counts): a caller may move it on a week.
    pub bare_weekday: bool,
    /// Index of the token after the reference.
    pub end: usize,
}

const EN_WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];
const EN_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn en_weekday(t: &Tok) -> Option<Weekday> {
    let w = t.text.strip_suffix('s').unwrap_or(&t.text); // "mondays"
    EN_WEEKDAYS.iter().find(|(n, _)| *n == w).map(|(_, d)| *d)
}

/// Month names and the short forms people say ("Sept"); not "mar" / "jun", which
/// are other words more often than months.
fn en_month(t: &Tok) -> Option<u32> {
    const SHORT: [(&str, u32); 7] = [
        ("jan", 1),
        ("feb", 2),
        ("aug", 8),
        ("sept", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ];
    EN_MONTHS
        .iter()
        .position(|m| t.is(m))
        .map(|m| m as u32 + 1)
        .or_else(|| SHORT.iter().find(|(s, _)| t.is(s)).map(|(_, m)| *m))
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Days::new(d.weekday().num_days_from_monday() as u64)
}

fn next_weekday(today: NaiveDate, wd: Weekday) -> NaiveDate {
    let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today + Days::new(ahead as u64)
}

fn first_of_next_month(today: NaiveDate) -> Option<NaiveDate> {
    today.with_day(1)?.checked_add_months(Months::new(1))
}

fn last_of_month(d: NaiveDate) -> Option<NaiveDate> {
    first_of_next_month(d).map(|f| f - Days::new(1))
}

/// A month/day that is not past this year, else next year's.
fn upcoming(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    let this = NaiveDate::from_ymd_opt(today.year(), month, day)?;
    if this >= today {
        Some(this)
    } else {
        NaiveDate::from_ymd_opt(today.year() + 1, month, day)
    }
}

/// Day `day` of this month, or of next month when it is past.
fn upcoming_day(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    let this = today.with_day(day);
    match this {
        Some(d) if d >= today => Some(d),
        _ => first_of_next_month(today)?.with_day(day),
    }
}

/// The day reference starting at token `i`.
pub(super) fn day_at(text: &str, toks: &[Tok], i: usize, today: NaiveDate) -> Option<DayRef> {
    let t = toks.get(i)?;
    let digits_then_cjk = t.digits().is_some()
        && toks
            .get(i + 1)
            .is_some_and(|n| n.glued && n.cjk().is_some());
    if t.cjk().is_some() || digits_then_cjk {
        return zh::day_at(text, toks, i, today);
    }
    let at = |k: usize| toks.get(k);
    let is = |k: usize, w: &str| at(k).is_some_and(|t| t.is(w));
    let day = |date: NaiveDate, end: usize| {
        Some(DayRef {
            date,
            part: None,
            bare_weekday: false,
            end,
        })
    };
    match t.text.as_str() {
        "today" => return day(today, i + 1),
        "tonight" => {
            return Some(DayRef {
                date: today,
                part: Some(DayPart::Night),
                bare_weekday: false,
                end: i + 1,
            })
        }
        "tomorrow" | "tmr" | "tomorow" => return day(today + Days::new(1), i + 1),
        "day" if is(i + 1, "after") && is(i + 2, "tomorrow") => {
            return day(today + Days::new(2), i + 3)
        }
        "the" if is(i + 1, "day") && is(i + 2, "after") && is(i + 3, "tomorrow") => {
            return day(today + Days::new(2), i + 4)
        }
        // "the week after next": its Monday.
        "the" | "week"
            if {
                let k = if t.is("the") { i + 1 } else { i };
                is(k, "week") && is(k + 1, "after") && is(k + 2, "next")
            } =>
        {
            let end = if t.is("the") { i + 4 } else { i + 3 };
            return day(monday_of(today) + Days::new(14), end);
        }
        "next" | "this" | "coming" => {
            let next = t.is("next");
            if let Some(wd) = at(i + 1).and_then(en_weekday) {
                let date = if next {
                    monday_of(today) + Days::new(7 + wd.num_days_from_monday() as u64)
                } else {
                    next_weekday(today, wd)
                };
                return day(date, i + 2);
            }
            if is(i + 1, "week") && next {
                return day(monday_of(today) + Days::new(7), i + 2);
            }
            if is(i + 1, "month") && next {
                return day(first_of_next_month(today)?, i + 2);
            }
            return None;
        }
        "on" => return day_at(text, toks, i + 1, today).filter(|d| d.end > i + 1),
        _ => {}
    }
    if let Some(wd) = en_weekday(t) {
        return Some(DayRef {
            date: next_weekday(today, wd),
            part: None,
            bare_weekday: true,
            end: i + 1,
        });
    }
    // "mid December", "the middle of next month", "early January", "end of the month"
    let k = if t.is("the") { i + 1 } else { i };
    let third = match at(k).map(|t| t.text.as_str()) {
        Some("mid" | "middle") => Some(15),
        Some("early" | "beginning" | "start") => Some(1),
        Some("end" | "late") => Some(0),
        _ => None,
    };
    if let Some(d) = third {
        let k = if is(k + 1, "of") { k + 2 } else { k + 1 };
        let (month_first, end) = if let Some(m) = at(k).and_then(en_month) {
            (
                upcoming(today, m, 1)
                    .or_else(|| NaiveDate::from_ymd_opt(today.year() + 1, m, 1))?,
                k + 1,
            )
        } else if is(k, "next") && is(k + 1, "month") {
            (first_of_next_month(today)?, k + 2)
        } else if is(k, "the") && is(k + 1, "month") || is(k, "this") && is(k + 1, "month") {
            (today.with_day(1)?, k + 2)
        } else {
            return None;
        };
        let date = if d == 0 {
            last_of_month(month_first)?
        } else {
            month_first.with_day(d)?
        };
        return day(date.max(today), end);
    }
    // "March 1st", "march the first"
    if let Some(m) = en_month(t) {
        let k = if is(i + 1, "the") { i + 2 } else { i + 1 };
        let (d, end) = en_ordinal_at(toks, k)?;
        return day(upcoming(today, m, d)?, end);
    }
    // "the first of March", "the 15th", "the first of next month", "1st of march"
    let k = if t.is("the") { i + 1 } else { i };
    let (d, end) = en_ordinal_at(toks, k)?;
    let plain_digits = at(k).is_some_and(|t| t.digits().is_some()) && end == k + 1;
    if is(end, "of") {
        if let Some(m) = at(end + 1).and_then(en_month) {
            return day(upcoming(today, m, d)?, end + 2);
        }
        if is(end + 1, "next") && is(end + 2, "month") {
            return day(first_of_next_month(today)?.with_day(d)?, end + 3);
        }
        if is(end + 1, "this") && is(end + 2, "month") {
            return day(today.with_day(d)?, end + 3);
        }
    }
    // A bare "the 15th" (not bare digits, which are anything).
    if t.is("the") && !plain_digits {
        return day(upcoming_day(today, d)?, end);
    }
    None
}
