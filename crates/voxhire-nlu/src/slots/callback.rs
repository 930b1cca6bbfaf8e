//! When to call back, as a local date and time: "tomorrow at ten", "tomorrow
//! morning", "Wednesday afternoon at two", "after 6 pm today", "in two hours",
//! 明天上午十点, 周三下午两点, 下周一上午, 今晚八点, 两个小时后.
//!
//! Placing the hour: am/pm or a part of the day wins; otherwise 8–11 are
//! morning, 12 is noon and 1–7 are afternoon ("call me at three" = 15:00). A part
//! of the day alone goes to its usual hour (morning 09:00, noon 12:00, afternoon
//! 14:00, evening 19:00, tonight 20:00); a day alone to 10:00 (confidence 0.6). A
//! time already past today moves on: an hour that could be evening to the evening
//! (at 14:30, "at eight" = 20:00 today), anything else to tomorrow, a bare weekday
//! to next week.
//!
//! With LAC's TIME spans (Mandarin) only those spans are read, so a number
//! elsewhere in the sentence is not taken for an hour; when they hold no time the
//! whole text is read.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use super::calendar::{day_at, DayPart, DayRef};
use super::clock::{en_clock_at, part_at, relative_at, zh_clock_at, Clock};
use super::{Found, Input};
use crate::numbers::lex::TokKind;
use crate::types::{SlotKind, SlotValue};

#[derive(Default)]
struct Said {
    relative: Option<i64>,
    day: Option<DayRef>,
    part: Option<DayPart>,
    clock: Option<Clock>,
    first: Option<usize>,
    end: usize,
}

pub(super) fn extract(input: &Input, out: &mut Vec<Found>) {
    let Some(now) = input.ctx.local_now else {
        return;
    };
    let in_spans = |k: usize| {
        let s = &input.toks[k].span;
        let spans = &input.hints.time_spans;
        spans.is_empty() || spans.iter().any(|r| r.start <= s.start && s.end <= r.end)
    };
    let mut said = scan(input, now.date(), &in_spans);
    if said.first.is_none() && !input.hints.time_spans.is_empty() {
        said = scan(input, now.date(), &|_| true);
    }
    // "this time tomorrow" / 明天这个时候: the clock reads now's time.
    if said.clock.is_none()
        && said.day.is_some()
        && (input.has_any(&["这个时候", "这个点", "同一时间", "这时候"])
            || input.text.to_ascii_lowercase().contains("same time")
            || input.text.to_ascii_lowercase().contains("this time"))
    {
        use chrono::Timelike;
        said.clock = Some(Clock {
            hour: now.hour(),
            minute: now.minute(),
            meridiem: Some(if now.hour() >= 12 {
                DayPart::Afternoon
            } else {
                DayPart::Morning
            }),
            marked: true,
            end: said.end,
        });
    }
    let Some((at, confidence)) = resolve(&said, now) else {
        return;
    };
    let Some(first) = said.first else {
        return;
    };
    // A time in a "not now" answer is when to call back, asked or not.
    let clear = input.has_word(&[
        "call", "ring", "phone", "reach", "contact", "talk", "back", "try",
    ]) || input.has_any(&["打", "联系", "电话", "再聊", "回电"])
        || matches!(
            crate::rules::rule_intent(input.text, input.lang, input.ctx),
            Some((crate::types::Intent::Reschedule, _))
        );
    out.push(
        Found::new(
            SlotKind::CallbackTime,
            SlotValue::DateTime { at },
            input.span(first, said.end),
            confidence,
        )
        .clear(clear),
    );
}

fn scan(input: &Input, today: NaiveDate, allowed: &dyn Fn(usize) -> bool) -> Said {
    let (text, toks) = (input.text, input.toks);
    let mut said = Said::default();
    let mut i = 0;
    while i < toks.len() {
        if !allowed(i) {
            i += 1;
            continue;
        }
        let zh = toks[i].kind == TokKind::Cjk
            || (toks[i].kind == TokKind::Digits
                && toks
                    .get(i + 1)
                    .is_some_and(|n| n.cjk().is_some() || n.is(":")));
        let mut end = None;
        if said.relative.is_none() {
            if let Some((minutes, e)) = relative_at(text, toks, i) {
                said.relative = Some(minutes);
                end = Some(e);
            }
        }
        if end.is_none() && said.day.is_none() {
            if let Some(d) = day_at(text, toks, i, today) {
                said.day = Some(d);
                said.part = said.part.or(d.part);
                end = Some(d.end);
            }
        }
        if end.is_none() && said.part.is_none() {
            if let Some((p, e)) = part_at(text, toks, i) {
                said.part = Some(p);
                end = Some(e);
            }
        }
        if end.is_none() && said.clock.is_none() {
            let clock = if zh {
                zh_clock_at(text, toks, i)
            } else {
                en_clock_at(toks, i)
            };
            if let Some(c) = clock {
                said.clock = Some(c);
                end = Some(c.end);
            }
        }
        match end {
            Some(e) => {
                said.first = Some(said.first.unwrap_or(i));
                said.end = said.end.max(e);
                i = e.max(i + 1);
            }
            None => i += 1,
        }
    }
    // A bare English number ("ten") is a time only next to a day or a part of the day.
    if said.clock.is_some_and(|c| !c.marked) && said.day.is_none() && said.part.is_none() {
        said.clock = None;
        if said.relative.is_none() {
            said.first = None;
        }
    }
    said
}

/// Puts a clock hour into the day: am/pm or the part of the day, else 8–11 in
/// the morning and 1–7 in the afternoon.
fn place_hour(hour: u32, part: Option<DayPart>) -> u32 {
    match part {
        Some(DayPart::Afternoon | DayPart::Evening) if hour < 12 => hour + 12,
        Some(DayPart::Night) if (5..12).contains(&hour) => hour + 12,
        Some(DayPart::Noon) if hour < 6 => hour + 12,
        Some(DayPart::Morning) if hour == 12 => 0,
        Some(_) => hour,
        None if (1..=7).contains(&hour) => hour + 12,
        None => hour,
    }
}

fn resolve(said: &Said, now: NaiveDateTime) -> Option<(NaiveDateTime, f32)> {
    if let Some(minutes) = said.relative {
        return Some((now + TimeDelta::minutes(minutes), 0.9));
    }
    let today = now.date();
    let date = said.day.map_or(today, |d| d.date);
    let part = said.clock.and_then(|c| c.meridiem).or(said.part);
    let (hour, minute, mut confidence) = match (said.clock, part) {
        (Some(c), _) => (
            place_hour(c.hour, part),
            c.minute,
            if said.day.is_some() || said.part.is_some() {
                0.95
            } else {
                0.85
            },
        ),
        (None, Some(p)) => (p.default_hour(), 0, 0.85),
        (None, None) => {
            let d = said.day?;
            if d.date == today {
                return None;
            }
            (10, 0, 0.6)
        }
    };
    let at = date.and_time(NaiveTime::from_hms_opt(hour.min(23), minute.min(59), 0)?);
    if at > now {
        return Some((at, confidence));
    }
    let ambiguous = said.clock.is_some_and(|c| c.meridiem.is_none()) && part.is_none();
    let moved = match said.day {
        None if ambiguous && hour < 12 && hour + 12 <= 21 && at + TimeDelta::hours(12) > now => {
            at + TimeDelta::hours(12)
        }
        None => at.checked_add_days(Days::new(1))?,
        Some(d) if d.bare_weekday => at.checked_add_days(Days::new(7))?,
        Some(_) => {
            confidence = 0.5; // a time in the past, kept as said
            at
        }
    };
    Some((moved, confidence))
}
