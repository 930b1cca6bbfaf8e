//! Start date and notice period, which answer the same question ("when could you
//! start?") from two sides.
//!
//! Start date: "immediately" / "right away" / 马上 / 随时 = today; a day
//! ("next Monday", "March 1st", "the first of next month", 下个月一号, 下周一); or
//! "in two weeks" / 两周后 = today + 14 (months as calendar months). A bare
//! weekday that is today means next week's.
//!
//! Notice period, in days: a month = 30, a week = 7, 一个半月 = 45; "one month
//! notice", "two weeks", 三个月, 离职需要一个月; "no notice" / 不需要 / 已经离职 = 0.
//! A duration with a notice word (notice, resign, 离职, 交接) is a notice period;
//! "in two weeks" / 两周后 is a start date; a bare duration is whichever the
//! question asked (both when it asked both: 14 days of notice and a start two
//! weeks from today).

use chrono::{Days, Months, NaiveDate};

use super::calendar::day_at;
use super::{Found, Input};
use crate::numbers::{number_at, Point};
use crate::types::{SlotKind, SlotValue};

const EN_NOTICE: [&str; 6] = [
    "notice",
    "resign",
    "resignation",
    "handover",
    "quit",
    "leave",
];
const ZH_NOTICE: [&str; 6] = ["离职", "交接", "辞职", "提前", "通知期", "走流程"];

/// A span of time said: days plus calendar months, and the token after it.
#[derive(Debug, Clone, Copy)]
struct Span {
    days: u32,
    months: u32,
    start: usize,
    end: usize,
}

impl Span {
    fn total_days(self) -> u32 {
        self.days + self.months * 30
    }
    fn after(self, today: NaiveDate) -> Option<NaiveDate> {
        today
            .checked_add_months(Months::new(self.months))?
            .checked_add_days(Days::new(self.days as u64))
    }
}

pub(super) fn extract(input: &Input, out: &mut Vec<Found>) {
    let today = input.ctx.local_now.map(|n| n.date());
    let notice_cue = input.has_word(&EN_NOTICE) || input.has_any(&ZH_NOTICE);
    let start_cue = input.has_word(&["start", "join", "begin", "onboard", "available", "starting"])
        || input.has_any(&["入职", "到岗", "上班", "报到", "开始"]);
    let toks = input.toks;
    let mut i = 0;
    let (mut got_start, mut got_notice) = (false, false);
    let mut derived_start: Option<Found> = None;
    while i < toks.len() {
        if let Some((span, relative)) = duration_at(input, i) {
            let days = span.total_days();
            let whole = input.span(span.start, span.end);
            if !got_notice && (notice_cue || !relative) {
                let conf = if notice_cue { 0.95 } else { 0.85 };
                out.push(
                    Found::new(
                        SlotKind::NoticePeriod,
                        SlotValue::Days { days },
                        whole.clone(),
                        conf,
                    )
                    .clear(notice_cue),
                );
                got_notice = true;
            }
            if let (false, Some(today)) = (got_start, today) {
                if let Some(date) = span.after(today) {
                    let conf = if relative { 0.9 } else { 0.7 };
                    let found =
                        Found::new(SlotKind::StartDate, SlotValue::Date { date }, whole, conf)
                            .clear(relative && start_cue);
                    if relative {
                        out.push(found);
                        got_start = true;
                    } else {
                        // "one month notice, so I could start on the first of next
                        // month": a date counted from the notice is only a fallback
                        // for an explicit date said in the same answer.
                        derived_start.get_or_insert(found);
                    }
                }
            }
            i = span.end;
            continue;
        }
        if let Some(today) = today.filter(|_| !got_start) {
            if let Some(d) = day_at(input.text, toks, i, today) {
                let date = if d.bare_weekday && d.date == today {
                    d.date + Days::new(7)
                } else {
                    d.date
                };
                if date >= today {
                    out.push(
                        Found::new(
                            SlotKind::StartDate,
                            SlotValue::Date { date },
                            input.span(i, d.end),
                            0.95,
                        )
                        .clear(start_cue),
                    );
                    got_start = true;
                }
                i = d.end.max(i + 1);
                continue;
            }
            if let Some(end) = immediately_at(input, i) {
                out.push(
                    Found::new(
                        SlotKind::StartDate,
                        SlotValue::Date { date: today },
                        input.span(i, end),
                        0.9,
                    )
                    .clear(start_cue),
                );
                got_start = true;
                if !got_notice {
                    out.push(Found::new(
                        SlotKind::NoticePeriod,
                        SlotValue::Days { days: 0 },
                        input.span(i, end),
                        0.8,
                    ));
                    got_notice = true;
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    if !got_start {
        out.extend(derived_start);
    }
    if !got_notice && input.expects(SlotKind::NoticePeriod) {
        if let Some(span) = no_notice(input) {
            let mut f = Found::new(
                SlotKind::NoticePeriod,
                SlotValue::Days { days: 0 },
                span,
                0.85,
            );
            f.negation_checked = true;
            out.push(f);
        }
    }
}

/// "immediately", "right away", "asap", "as soon as possible", 马上, 随时, 立刻.
fn immediately_at(input: &Input, i: usize) -> Option<usize> {
    let toks = input.toks;
    let t = &toks[i];
    let is = |k: usize, w: &str| toks.get(k).is_some_and(|t| t.is(w));
    if t.is_any(&["immediately", "asap", "anytime", "whenever"]) {
        return Some(i + 1);
    }
    if (t.is("right") && is(i + 1, "away"))
        || (t.is("any") && is(i + 1, "time"))
        || (t.is("right") && is(i + 1, "now"))
    {
        return Some(i + 2);
    }
    if t.is("as") && is(i + 1, "soon") && is(i + 2, "as") && is(i + 3, "possible") {
        return Some(i + 4);
    }
    let rest = &input.text[t.span.start..];
    ["马上", "随时", "立刻", "立即", "现在就"]
        .iter()
        .find(|w| rest.starts_with(**w))
        .map(|w| i + w.chars().count())
}

/// "no notice", "don't need to give notice", 不需要, 已经离职, 不用交接: a notice of 0.
fn no_notice(input: &Input) -> Option<std::ops::Range<usize>> {
    let toks = input.toks;
    for (k, t) in toks.iter().enumerate() {
        if t.is_any(&["no", "don't", "dont", "without", "zero"])
            && toks[k + 1..].iter().take(5).any(|n| n.is("notice"))
        {
            return Some(input.span(k, (k + 6).min(toks.len())));
        }
    }
    [
        "不需要",
        "不用",
        "已经离职",
        "离职了",
        "已离职",
        "没有通知期",
    ]
    .iter()
    .find_map(|w| input.text.find(w).map(|s| s..s + w.len()))
}

/// A duration at token `i` ("two weeks", "a month", 一个半月, 两周) and whether it
/// is said relative to now ("in two weeks", "two weeks from now", 两周后, 一个月以后).
fn duration_at(input: &Input, i: usize) -> Option<(Span, bool)> {
    let toks = input.toks;
    let cjk = |k: usize| toks.get(k).and_then(|t| t.cjk());
    let (lead, k) = if toks[i].is_any(&["in", "within", "after"]) {
        (true, i + 1)
    } else {
        (false, i)
    };
    let t = toks.get(k)?;
    let (value, mut end) = if t.is_any(&["a", "an"]) {
        (1.0, k + 1)
    } else if t.is("fortnight") {
        return Some((
            Span {
                days: 14,
                months: 0,
                start: i,
                end: k + 1,
            },
            lead,
        ));
    } else {
        let n = number_at(toks, k, Point::Decimal)?;
        if n.scaled {
            return None;
        }
        (n.value, n.end)
    };
    let unit = toks.get(end)?;
    let (mut days, mut months) = (0.0_f64, 0.0_f64);
    if unit.is_any(&["day", "days"]) {
        days = value;
        end += 1;
    } else if unit.is_any(&["week", "weeks", "week's", "weeks'"]) {
        days = value * 7.0;
        end += 1;
    } else if unit.is_any(&["month", "months", "month's", "months'"]) {
        months = value;
        end += 1;
    } else if cjk(end) == Some('天') {
        days = value;
        end += 1;
    } else if matches!(cjk(end), Some('周')) {
        days = value * 7.0;
        end += 1;
    } else if cjk(end) == Some('个')
        && matches!(cjk(end + 1), Some('星' | '礼'))
        && matches!(cjk(end + 2), Some('期' | '拜'))
    {
        days = value * 7.0;
        end += 3;
    } else if cjk(end) == Some('个') && cjk(end + 1) == Some('月') {
        months = value;
        end += 2;
    } else if cjk(end) == Some('个') && cjk(end + 1) == Some('半') && cjk(end + 2) == Some('月')
    {
        months = value + 0.5;
        end += 3;
    } else {
        return None;
    }
    // "a month and a half"
    if toks.get(end).is_some_and(|a| a.is("and"))
        && toks.get(end + 1).is_some_and(|h| h.is("a"))
        && toks.get(end + 2).is_some_and(|h| h.is("half"))
    {
        if months > 0.0 {
            months += 0.5
        } else {
            days *= 1.5
        }
        end += 3;
    }
    // Fractions of a month go to days (一个半月 = 1 month + 15 days).
    let whole_months = months.trunc();
    days += (months - whole_months) * 30.0;
    let mut relative = lead;
    let is = |k: usize, w: &str| toks.get(k).is_some_and(|t| t.is(w));
    if is(end, "from") && is(end + 1, "now") {
        end += 2;
        relative = true;
    } else if is(end, "later") {
        end += 1;
        relative = true;
    }
    let rest = toks.get(end).map_or("", |t| &input.text[t.span.start..]);
    for w in ["以后", "之后", "后", "以内", "内"] {
        if rest.starts_with(w) {
            end += w.chars().count();
            relative = true;
            break;
        }
    }
    // "two weeks notice" / "a month's notice": the notice word belongs to the quote.
    if is(end, "notice") {
        end += 1;
        relative = false;
    }
    if days < 0.0 || days + whole_months * 30.0 > 400.0 {
        return None;
    }
    Some((
        Span {
            days: days.round() as u32,
            months: whole_months as u32,
            start: i,
            end,
        },
        relative,
    ))
}
