//! Calling windows: the local days and hours a candidate may be phoned,
//! evaluated in the candidate's own time zone — 10:00 in Shanghai is 21:00 the
//! day before in New York, and each must be called in their own daytime.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::Serialize;

/// Seconds in a day: a window may end at "24:00".
pub const DAY_SECS: u32 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallingWindow {
    /// `days[0]` is Monday … `days[6]` Sunday.
    pub days: [bool; 7],
    /// Local seconds after midnight at which calling may start (inclusive).
    pub start_secs: u32,
    /// Local seconds after midnight at which calling must stop (exclusive);
    /// always greater than `start_secs` (windows across midnight are not
    /// supported: nobody screens candidates at 2 a.m.).
    pub end_secs: u32,
}

impl CallingWindow {
    /// Every day, all day: what a campaign without `[calling_window]` uses.
    pub fn always() -> Self {
        CallingWindow {
            days: [true; 7],
            start_secs: 0,
            end_secs: DAY_SECS,
        }
    }

    /// Whether a call may start at `now` for someone living in `tz`.
    pub fn is_open(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        let local = now.with_timezone(&tz);
        let secs = local.num_seconds_from_midnight();
        self.days[local.weekday().num_days_from_monday() as usize]
            && secs >= self.start_secs
            && secs < self.end_secs
    }

    /// The first instant at or after `from` when the window is open in `tz`.
    /// `None` only when no day is enabled (rejected at config load).
    pub fn next_open(&self, from: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        if self.is_open(from, tz) {
            return Some(from);
        }
        let today = from.with_timezone(&tz).date_naive();
        // Eight days covers every weekday even when today's window has passed.
        (0..=8)
            .filter_map(|d| today.checked_add_signed(Duration::days(d)))
            .filter(|date| self.days[date.weekday().num_days_from_monday() as usize])
            .filter_map(|date| self.local_start(date, tz))
            .find(|start| *start >= from && self.is_open(*start, tz))
    }

    /// The UTC instant at which `date`'s window opens in `tz`. A start that
    /// falls in a daylight-saving gap moves to the first valid local minute.
    fn local_start(&self, date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
        let midnight = date.and_hms_opt(0, 0, 0)?;
        let mut local = midnight + Duration::seconds(i64::from(self.start_secs));
        // A DST gap is at most a couple of hours; step over it a minute at a time.
        for _ in 0..=180 {
            match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(earliest, _) => return Some(earliest.with_timezone(&Utc)),
                LocalResult::None => local += Duration::minutes(1),
            }
        }
        None
    }
}

/// Which part of a calling window a check refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowField {
    /// The day at this index of `days`.
    Day(usize),
    Days,
    Start,
    End,
}

impl CallingWindow {
    /// A window from its written form: day names (`mon` … `sun`) and local
    /// `HH:MM` times. The campaign file's `[calling_window]` and the API's
    /// job settings are both checked here.
    pub fn from_parts<S: AsRef<str>>(
        days: &[S],
        start: &str,
        end: &str,
    ) -> Result<CallingWindow, (WindowField, String)> {
        let mut set = [false; 7];
        for (i, d) in days.iter().enumerate() {
            let wd = parse_weekday(d.as_ref()).ok_or_else(|| {
                (
                    WindowField::Day(i),
                    format!("unknown day {:?} (use mon … sun)", d.as_ref()),
                )
            })?;
            set[wd.num_days_from_monday() as usize] = true;
        }
        if !set.contains(&true) {
            return Err((WindowField::Days, "names no day".into()));
        }
        let time = |t: &str, field| {
            parse_hhmm(t)
                .ok_or_else(|| (field, format!("{t:?} is not a time HH:MM (00:00 … 24:00)")))
        };
        let start_secs = time(start, WindowField::Start)?;
        let end_secs = time(end, WindowField::End)?;
        if end_secs <= start_secs {
            return Err((
                WindowField::End,
                "must be after start (windows across midnight are not supported)".into(),
            ));
        }
        Ok(CallingWindow {
            days: set,
            start_secs,
            end_secs,
        })
    }
}

/// Parses `mon`, `Tue`, `wednesday` … into a weekday.
pub(crate) fn parse_weekday(s: &str) -> Option<Weekday> {
    s.trim().parse::<Weekday>().ok()
}

/// Parses `HH:MM` (00:00 … 24:00) into seconds after midnight.
pub(crate) fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 3600 + m * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    fn weekdays_9_to_19() -> CallingWindow {
        CallingWindow {
            days: [true, true, true, true, true, false, false],
            start_secs: 9 * 3600,
            end_secs: 19 * 3600,
        }
    }

    #[test]
    fn same_instant_is_open_in_shanghai_and_closed_in_new_york() {
        // Tue 02:00 UTC = Tue 10:00 Shanghai = Mon 21:00 New York (EST).
        let now = utc("2026-11-24T02:00:00Z");
        let w = weekdays_9_to_19();
        assert!(w.is_open(now, chrono_tz::Asia::Shanghai));
        assert!(!w.is_open(now, chrono_tz::America::New_York));
        // New York opens Tue 09:00 EST = 14:00 UTC.
        assert_eq!(
            w.next_open(now, chrono_tz::America::New_York),
            Some(utc("2026-11-24T14:00:00Z"))
        );
    }

    #[test]
    fn friday_evening_waits_for_monday_morning() {
        // Fri 20:00 Shanghai = 12:00 UTC.
        let now = utc("2026-11-27T12:00:00Z");
        let next = weekdays_9_to_19().next_open(now, chrono_tz::Asia::Shanghai);
        // Mon 09:00 Shanghai = Mon 01:00 UTC.
        assert_eq!(next, Some(utc("2026-11-30T01:00:00Z")));
    }

    #[test]
    fn end_is_exclusive() {
        let w = weekdays_9_to_19();
        // Tue 19:00:00 Shanghai.
        assert!(!w.is_open(utc("2026-11-24T11:00:00Z"), chrono_tz::Asia::Shanghai));
        assert!(w.is_open(utc("2026-11-24T10:59:59Z"), chrono_tz::Asia::Shanghai));
    }

    #[test]
    fn start_inside_a_dst_gap_moves_forward() {
        // New York springs forward on Sun 2026-03-08 at 02:00 → 03:00.
        let w = CallingWindow {
            days: [true; 7],
            start_secs: 2 * 3600 + 30 * 60,
            end_secs: 5 * 3600,
        };
        let from = utc("2026-03-08T05:00:00Z"); // 00:00 EST
        let next = w.next_open(from, chrono_tz::America::New_York);
        // 03:00 EDT = 07:00 UTC.
        assert_eq!(next, Some(utc("2026-03-08T07:00:00Z")));
    }

    #[test]
    fn hhmm_parsing() {
        assert_eq!(parse_hhmm("09:00"), Some(9 * 3600));
        assert_eq!(parse_hhmm("9:30"), Some(9 * 3600 + 1800));
        assert_eq!(parse_hhmm("24:00"), Some(DAY_SECS));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("12:60"), None);
        assert_eq!(parse_hhmm("noon"), None);
        assert_eq!(parse_weekday("mon"), Some(Weekday::Mon));
        assert_eq!(parse_weekday("Friday"), Some(Weekday::Fri));
        assert_eq!(parse_weekday("funday"), None);
    }
}
