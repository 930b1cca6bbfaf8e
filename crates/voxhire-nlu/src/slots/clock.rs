//! Clock times, parts of the day and "in two hours", English and Mandarin:
//! "at ten", "10:30", "ten thirty", "half past two", "quarter to four", "2 pm",
//! "noon", "after 6 pm", "in the afternoon", 十点, 下午两点半, 八点一刻, 9:30, 七点以后,
//! 两个小时后, 半小时后, "in half an hour", "in 30 minutes".

use super::calendar::DayPart;
use crate::numbers::lex::{Tok, TokKind};
use crate::numbers::{number_at, Point};

/// A clock time as said; the hour is not yet placed in the day unless
/// `meridiem` is set (am/pm said, or a 24-hour value like 18:00).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Clock {
    pub hour: u32,
    pub minute: u32,
    /// "am"/"pm" said, or an hour above 12.
    pub meridiem: Option<DayPart>,
    /// Said with "at", "around", "after", a clock word or 点: surely a time.
    pub marked: bool,
    pub end: usize,
}

/// A part of the day at token `i` and the index after it.
pub(super) fn part_at(text: &str, toks: &[Tok], i: usize) -> Option<(DayPart, usize)> {
    let t = toks.get(i)?;
    if t.cjk().is_some() {
        let rest = &text[t.span.start..];
        for (w, p) in [
            ("早上", DayPart::Morning),
            ("早晨", DayPart::Morning),
            ("上午", DayPart::Morning),
            ("凌晨", DayPart::Morning),
            ("中午", DayPart::Noon),
            ("下午", DayPart::Afternoon),
            ("傍晚", DayPart::Evening),
            ("晚上", DayPart::Evening),
            ("夜里", DayPart::Night),
            ("今晚", DayPart::Night),
        ] {
            if rest.starts_with(w) {
                return Some((p, i + 2));
            }
        }
        return None;
    }
    let k = if t.is("in") && toks.get(i + 1).is_some_and(|n| n.is("the")) {
        i + 2
    } else {
        i
    };
    let k = if toks.get(k).is_some_and(|n| n.is("at")) {
        k + 1
    } else {
        k
    };
    let p = match toks.get(k)?.text.as_str() {
        "morning" => DayPart::Morning,
        "noon" | "midday" | "lunchtime" | "lunch" => DayPart::Noon,
        "afternoon" => DayPart::Afternoon,
        "evening" => DayPart::Evening,
        "night" | "tonight" => DayPart::Night,
        _ => return None,
    };
    Some((p, k + 1))
}

/// "am" / "pm" / "a.m." / "p m" at token `k`.
fn meridiem_at(toks: &[Tok], k: usize) -> Option<(DayPart, usize)> {
    let t = toks.get(k)?;
    let part = |s: &str| {
        if s == "a" {
            DayPart::Morning
        } else {
            DayPart::Afternoon
        }
    };
    match t.text.as_str() {
        "am" => Some((DayPart::Morning, k + 1)),
        "pm" => Some((DayPart::Afternoon, k + 1)),
        "a" | "p" => {
            let mut j = k + 1;
            if toks.get(j).is_some_and(|d| d.is(".")) {
                j += 1;
            }
            if !toks.get(j).is_some_and(|m| m.is("m")) {
                return None;
            }
            j += 1;
            if toks.get(j).is_some_and(|d| d.is(".") && d.glued) {
                j += 1;
            }
            Some((part(&t.text), j))
        }
        _ => None,
    }
}

fn minutes_word(toks: &[Tok], k: usize) -> Option<(u32, usize)> {
    // "ten oh five"
    let (k, oh) = if toks.get(k).is_some_and(|t| t.is("oh")) {
        (k + 1, true)
    } else {
        (k, false)
    };
    let m = number_at(toks, k, Point::Clock)?;
    let next = toks.get(m.end);
    if next.is_some_and(|t| t.is_any(&["hours", "hour", "minutes", "minute", "years", "k", "days"]))
    {
        return None;
    }
    let v = m.value;
    let ok = v.fract() == 0.0
        && (if oh {
            (1.0..10.0).contains(&v)
        } else {
            (10.0..60.0).contains(&v)
        });
    ok.then_some((v as u32, m.end))
}

/// An English clock time at token `i`.
pub(super) fn en_clock_at(toks: &[Tok], i: usize) -> Option<Clock> {
    let t = toks.get(i)?;
    let lead = t.is_any(&["at", "around", "about", "after", "by", "till", "until"]);
    let k = if lead { i + 1 } else { i };
    let t = toks.get(k)?;
    if t.is_any(&["noon", "midday"]) {
        return Some(Clock {
            hour: 12,
            minute: 0,
            meridiem: Some(DayPart::Noon),
            marked: true,
            end: k + 1,
        });
    }
    // "half past two", "quarter past three", "quarter to four"
    if t.is_any(&["half", "quarter"]) {
        let j = if toks.get(k + 1).is_some_and(|a| a.is("a")) {
            k + 2
        } else {
            k + 1
        };
        let past = toks.get(j).is_some_and(|p| p.is_any(&["past", "after"]));
        let to = toks.get(j).is_some_and(|p| p.is_any(&["to", "till"]));
        if !(past || (to && t.is("quarter"))) {
            return None;
        }
        let h = number_at(toks, j + 1, Point::Clock)
            .filter(|h| h.value.fract() == 0.0 && (1.0..=12.0).contains(&h.value))?;
        let hour = h.value as u32;
        let (hour, minute) = match (t.is("half"), past) {
            (true, _) => (hour, 30),
            (false, true) => (hour, 15),
            (false, false) => ((hour + 11) % 12, 45),
        };
        return finish(toks, hour, minute, true, h.end);
    }
    if t.kind != TokKind::Digits && !crate::numbers::is_en_number_word(t) {
        return None;
    }
    // "10:30"
    if t.kind == TokKind::Digits && toks.get(k + 1).is_some_and(|c| c.is(":") && c.glued) {
        let h = t.digits()?;
        let m = toks.get(k + 2).filter(|m| m.glued)?.digits()?;
        if h.fract() != 0.0 || m.fract() != 0.0 || h > 23.0 || m > 59.0 {
            return None;
        }
        return finish(toks, h as u32, m as u32, true, k + 3);
    }
    let n = number_at(toks, k, Point::Clock)?;
    if n.scaled || n.value.fract() != 0.0 {
        return None;
    }
    let v = n.value as u32;
    // "ten thirty" reads as 1030 in the number grammar (like "nineteen eighty"), and
    // Whisper writes "nine thirty" as "930": as digits only after "at" or before
    // am/pm, where a three- or four-figure number is a time, not an amount.
    let clock_digits = t.kind == TokKind::Digits
        && (3..=4).contains(&t.text.len())
        && (lead || meridiem_at(toks, n.end).is_some());
    let (hour, mut minute, mut end) =
        if (100..=2359).contains(&v) && v % 100 < 60 && (t.kind != TokKind::Digits || clock_digits)
        {
            (v / 100, v % 100, n.end)
        } else {
            (v, 0, n.end)
        };
    if hour > 23 {
        return None;
    }
    if minute == 0 {
        if let Some((m, e)) = minutes_word(toks, end) {
            minute = m;
            end = e;
        }
    }
    if toks.get(end).is_some_and(|u| {
        u.is_any(&[
            "hours", "hour", "minutes", "minute", "years", "year", "days", "weeks", "months", "k",
            "thousand", "people",
        ])
    }) {
        return None;
    }
    finish(toks, hour, minute, lead, end)
}

fn finish(toks: &[Tok], hour: u32, minute: u32, marked: bool, mut end: usize) -> Option<Clock> {
    let mut marked = marked;
    let mut meridiem = (hour > 12).then_some(DayPart::Afternoon);
    if toks
        .get(end)
        .is_some_and(|o| o.is_any(&["o'clock", "oclock"]))
    {
        end += 1;
        marked = true;
    } else if toks.get(end).is_some_and(|o| o.is("o"))
        && toks.get(end + 1).is_some_and(|c| c.is("clock"))
    {
        end += 2;
        marked = true;
    }
    if let Some((p, e)) = meridiem_at(toks, end) {
        meridiem = Some(p);
        end = e;
        marked = true;
    }
    Some(Clock {
        hour,
        minute,
        meridiem,
        marked,
        end,
    })
}

/// A Mandarin clock time at token `i`: 十点, 两点半, 八点一刻, 三点四十(分), 9:30.
pub(super) fn zh_clock_at(text: &str, toks: &[Tok], i: usize) -> Option<Clock> {
    let t = toks.get(i)?;
    if t.kind == TokKind::Digits
        && toks
            .get(i + 1)
            .is_some_and(|c| (c.is(":") || c.is("：")) && c.glued)
    {
        let h = t.digits()?;
        let m = toks.get(i + 2)?.digits()?;
        if h.fract() != 0.0 || m.fract() != 0.0 || h > 23.0 || m > 59.0 {
            return None;
        }
        return Some(Clock {
            hour: h as u32,
            minute: m as u32,
            meridiem: (h > 12.0).then_some(DayPart::Afternoon),
            marked: true,
            end: i + 3,
        });
    }
    let h = number_at(toks, i, Point::Clock)?;
    let mut end = h.end;
    if !matches!(toks.get(end).and_then(Tok::cjk), Some('点' | '时'))
        || h.value.fract() != 0.0
        || h.value > 24.0
    {
        return None;
    }
    end += 1;
    let cjk = |k: usize| toks.get(k).and_then(Tok::cjk);
    if cjk(end) == Some('钟') {
        end += 1;
    }
    let mut minute = 0;
    match cjk(end) {
        Some('半') => {
            minute = 30;
            end += 1;
        }
        Some('一') if cjk(end + 1) == Some('刻') => {
            minute = 15;
            end += 2;
        }
        Some('三') if cjk(end + 1) == Some('刻') => {
            minute = 45;
            end += 2;
        }
        _ => {
            if let Some(m) = number_at(toks, end, Point::Clock)
                .filter(|m| m.value.fract() == 0.0 && m.value < 60.0)
            {
                let unit = toks.get(m.end).and_then(Tok::cjk);
                if !matches!(unit, Some('个' | '小' | '天' | '年' | '月' | '号')) {
                    minute = m.value as u32;
                    end = m.end;
                    if unit == Some('分') {
                        end += 1;
                    }
                }
            }
        }
    }
    let rest = toks.get(end).map_or("", |t| &text[t.span.start..]);
    for w in ["以后", "之后", "后", "左右"] {
        if rest.starts_with(w) {
            end += w.chars().count();
            break;
        }
    }
    let hour = h.value as u32 % 24;
    Some(Clock {
        hour,
        minute,
        meridiem: (hour > 12).then_some(DayPart::Afternoon),
        marked: true,
        end,
    })
}

/// "in two hours", "in half an hour", "in 30 minutes", "an hour from now",
/// 两个小时后, 半小时以后, 二十分钟后, 过一个小时: minutes from now and the index after.
pub(super) fn relative_at(text: &str, toks: &[Tok], i: usize) -> Option<(i64, usize)> {
    let t = toks.get(i)?;
    if t.cjk().is_some() {
        let k = if t.cjk() == Some('过') { i + 1 } else { i };
        let n = number_at(toks, k, Point::Clock)?;
        let mut end = n.end;
        let rest = |e: usize| toks.get(e).map_or("", |t| &text[t.span.start..]);
        let per = if let Some(w) = ["个小时", "小时", "个钟头", "钟头"]
            .iter()
            .find(|w| rest(end).starts_with(**w))
        {
            end += w.chars().count();
            60.0
        } else if rest(end).starts_with("分钟") {
            end += 2;
            1.0
        } else {
            return None;
        };
        let mut later = k > i;
        for w in ["以后", "之后", "后"] {
            if rest(end).starts_with(w) {
                end += w.chars().count();
                later = true;
                break;
            }
        }
        return later.then_some(((n.value * per).round() as i64, end));
    }
    let (k, lead) = if t.is("in") {
        (i + 1, true)
    } else {
        (i, false)
    };
    let (value, mut end) = match toks.get(k)? {
        a if a.is_any(&["an", "a"]) && toks.get(k + 1).is_some_and(|h| h.is("hour")) => {
            (1.0, k + 1)
        }
        h if h.is("half") => {
            let j = if toks.get(k + 1).is_some_and(|a| a.is_any(&["an", "a"])) {
                k + 2
            } else {
                k + 1
            };
            (0.5, j)
        }
        _ => {
            let n = number_at(toks, k, Point::Clock)?;
            (n.value, n.end)
        }
    };
    let per = match toks.get(end)?.text.as_str() {
        "hour" | "hours" | "hrs" => 60.0,
        "minute" | "minutes" | "mins" => 1.0,
        _ => return None,
    };
    end += 1;
    let from_now = toks.get(end).is_some_and(|f| f.is("from"))
        && toks.get(end + 1).is_some_and(|n| n.is("now"));
    let later = toks.get(end).is_some_and(|l| l.is_any(&["later", "time"]));
    if from_now {
        end += 2;
    } else if later {
        end += 1;
    }
    (lead || from_now || later).then_some(((value * per).round() as i64, end))
}
