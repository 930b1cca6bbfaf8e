//! Mandarin day references: 今天 / 明天 / 后天 / 明早 / 今晚, 周三 / 下周一 /
//! 下下周五 / 星期天 / 礼拜五, 下周, 下个月 (初, 底, 中旬, 15号), 月底, 12月1号, 15号.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::{
    first_of_next_month, last_of_month, monday_of, next_weekday, upcoming, upcoming_day, DayPart,
    DayRef,
};
use crate::numbers::lex::Tok;
use crate::numbers::{number_at, Point};

fn zh_weekday(c: char) -> Option<Weekday> {
    Some(match c {
        '一' => Weekday::Mon,
        '二' => Weekday::Tue,
        '三' => Weekday::Wed,
        '四' => Weekday::Thu,
        '五' => Weekday::Fri,
        '六' => Weekday::Sat,
        '日' | '天' | '七' => Weekday::Sun,
        _ => return None,
    })
}

pub(super) fn day_at(text: &str, toks: &[Tok], i: usize, today: NaiveDate) -> Option<DayRef> {
    let rest = &text[toks[i].span.start..];
    let day = |date: NaiveDate, chars: usize, part: Option<DayPart>| {
        Some(DayRef {
            date,
            part,
            bare_weekday: false,
            end: i + chars,
        })
    };
    for (w, offset, part) in [
        ("大后天", 3, None),
        ("后天", 2, None),
        ("明天", 1, None),
        ("明早", 1, Some(DayPart::Morning)),
        ("明晚", 1, Some(DayPart::Evening)),
        ("今天", 0, None),
        ("今晚", 0, Some(DayPart::Night)),
        ("今早", 0, Some(DayPart::Morning)),
        ("今儿", 0, None),
        ("明儿", 1, None),
    ] {
        if rest.starts_with(w) {
            return day(today + Days::new(offset), w.chars().count(), part);
        }
    }
    // 下周一 / 下星期五 / 下礼拜三 / 这周五 / 本周五 / 周三 / 星期天
    let (week, after_prefix): (Option<u64>, usize) = if rest.starts_with("下下") {
        (Some(2), 2)
    } else if rest.starts_with('下') {
        (Some(1), 1)
    } else if rest.starts_with('这') || rest.starts_with('本') {
        (Some(0), 1)
    } else {
        (None, 0)
    };
    let r = &rest[after_prefix * 3..];
    for (w, len) in [
        ("周", 1),
        ("星期", 2),
        ("礼拜", 2),
        ("个星期", 3),
        ("个礼拜", 3),
    ] {
        if let Some(after) = r.strip_prefix(w) {
            let used = after_prefix + len;
            match after.chars().next().and_then(zh_weekday) {
                Some(wd) => {
                    let date = match week {
                        Some(w @ 1..) => {
                            monday_of(today) + Days::new(7 * w + wd.num_days_from_monday() as u64)
                        }
                        _ => next_weekday(today, wd),
                    };
                    return Some(DayRef {
                        date,
                        part: None,
                        bare_weekday: week.is_none(),
                        end: i + used + 1,
                    });
                }
                None => {
                    return match week {
                        Some(w @ 1..) => day(monday_of(today) + Days::new(7 * w), used, None),
                        _ => None,
                    }
                }
            }
        }
    }
    if rest.starts_with("下个月") || rest.starts_with("下月") {
        let used = if rest.starts_with("下个月") { 3 } else { 2 };
        let first = first_of_next_month(today)?;
        if rest[used * 3..].starts_with("底") {
            return day(last_of_month(first)?, used + 1, None);
        }
        if rest[used * 3..].starts_with("初") {
            return day(first, used + 1, None);
        }
        if let Some((d, len)) = part_of_month(&rest[used * 3..]) {
            return day(first.with_day(d)?, used + len, None);
        }
        if let Some((d, end)) = zh_day_of_month(text, toks, i + used) {
            return day(first.with_day(d)?, end - i, None);
        }
        return day(first, used, None);
    }
    if let Some((d, len)) = part_of_month(rest) {
        let this = today.with_day(d)?;
        let date = if this >= today {
            this
        } else {
            first_of_next_month(today)?.with_day(d)?
        };
        return day(date, len, None);
    }
    if rest.starts_with("月底") {
        return day(last_of_month(today)?, 2, None);
    }
    if rest.starts_with("月初") {
        return day(first_of_next_month(today)?, 2, None);
    }
    // 12月1号 / 十二月一日 / 15号
    let n = number_at(toks, i, Point::Clock)?;
    if toks.get(n.end).and_then(Tok::cjk) == Some('月')
        && n.value.fract() == 0.0
        && (1.0..=12.0).contains(&n.value)
    {
        let (d, end) = zh_day_of_month(text, toks, n.end + 1)?;
        return Some(DayRef {
            date: upcoming(today, n.value as u32, d)?,
            part: None,
            bare_weekday: false,
            end,
        });
    }
    let (d, end) = zh_day_of_month(text, toks, i)?;
    Some(DayRef {
        date: upcoming_day(today, d)?,
        part: None,
        bare_weekday: false,
        end,
    })
}

/// 上旬 / 中旬 / 下旬 (first, middle, last third of a month) → the 1st, 15th, 21st,
/// and how many characters were read.
fn part_of_month(rest: &str) -> Option<(u32, usize)> {
    [("上旬", 1), ("中旬", 15), ("下旬", 21)]
        .iter()
        .find(|(w, _)| rest.starts_with(w))
        .map(|(_, d)| (*d, 2))
}

/// 一号 / 15号 / 三日 at token `i`: the day and the index after it.
fn zh_day_of_month(_text: &str, toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    let n = number_at(toks, i, Point::Clock)?;
    let marker = toks.get(n.end).and_then(Tok::cjk);
    if !matches!(marker, Some('号' | '日'))
        || n.value.fract() != 0.0
        || !(1.0..=31.0).contains(&n.value)
    {
        return None;
    }
    Some((n.value as u32, n.end + 1))
}
