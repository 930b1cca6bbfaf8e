//! The campaign file's raw serde shape (with spans, for line numbers) and
//! the checks of its `[retry]` and `[calling_window]` tables.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde::Deserialize;
use toml::Spanned;

use super::RetryPolicy;
use crate::error::CampaignError;
use crate::window::{parse_hhmm, parse_weekday, CallingWindow};

pub(super) type ErrFn<'a> = dyn Fn(&str, std::ops::Range<usize>, String) -> CampaignError + 'a;

pub(super) fn parse_retry(r: &RawRetry, err: &ErrFn<'_>) -> Result<RetryPolicy, CampaignError> {
    let max = *r.max_attempts.get_ref();
    if !(1..=20).contains(&max) {
        return Err(err(
            "retry.max_attempts",
            r.max_attempts.span(),
            format!("{max} is not between 1 and 20"),
        ));
    }
    let secs = match r.backoff_secs.get_ref() {
        RawBackoff::One(s) => vec![*s],
        RawBackoff::PerRetry(v) => v.clone(),
    };
    if secs.is_empty() && max > 1 {
        return Err(err(
            "retry.backoff_secs",
            r.backoff_secs.span(),
            "is empty".into(),
        ));
    }
    if let Some(bad) = secs.iter().find(|s| !(0..=7 * 86_400).contains(*s)) {
        return Err(err(
            "retry.backoff_secs",
            r.backoff_secs.span(),
            format!("{bad} is not between 0 and 604800 (a week)"),
        ));
    }
    let mut policy = RetryPolicy {
        max_attempts: max as u32,
        backoff: secs.into_iter().map(TimeDelta::seconds).collect(),
        on_busy: false,
        on_no_answer: false,
        on_rejected: false,
        on_failed: false,
    };
    let on = match &r.on {
        Some(on) => on.clone(),
        None => ["busy", "no_answer", "failed"]
            .into_iter()
            .map(|s| Spanned::new(0..0, s.to_owned()))
            .collect(),
    };
    for o in &on {
        match o.get_ref().as_str() {
            "busy" => policy.on_busy = true,
            "no_answer" => policy.on_no_answer = true,
            "rejected" => policy.on_rejected = true,
            "failed" => policy.on_failed = true,
            other => {
                return Err(err(
                    "retry.on",
                    o.span(),
                    format!("unknown outcome {other:?} (use busy, no_answer, rejected, failed)"),
                ))
            }
        }
    }
    Ok(policy)
}

pub(super) fn parse_window(w: &RawWindow, err: &ErrFn<'_>) -> Result<CallingWindow, CampaignError> {
    let mut days = [false; 7];
    for d in w.days.get_ref() {
        let wd = parse_weekday(d.get_ref()).ok_or_else(|| {
            err(
                "calling_window.days",
                d.span(),
                format!("unknown day {:?} (use mon … sun)", d.get_ref()),
            )
        })?;
        days[wd.num_days_from_monday() as usize] = true;
    }
    if !days.contains(&true) {
        return Err(err(
            "calling_window.days",
            w.days.span(),
            "names no day".into(),
        ));
    }
    let time = |t: &Spanned<String>, key: &str| {
        parse_hhmm(t.get_ref()).ok_or_else(|| {
            err(
                key,
                t.span(),
                format!("{:?} is not a time HH:MM (00:00 … 24:00)", t.get_ref()),
            )
        })
    };
    let start_secs = time(&w.start, "calling_window.start")?;
    let end_secs = time(&w.end, "calling_window.end")?;
    if end_secs <= start_secs {
        return Err(err(
            "calling_window.end",
            w.end.span(),
            "must be after start (windows across midnight are not supported)".into(),
        ));
    }
    Ok(CallingWindow {
        days,
        start_secs,
        end_secs,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) name: Spanned<String>,
    pub(super) script: Option<Spanned<String>>,
    pub(super) scripts: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub(super) trunk: Option<Spanned<String>>,
    pub(super) candidates: Spanned<String>,
    pub(super) do_not_call: Option<Spanned<String>>,
    pub(super) out_dir: Option<Spanned<String>>,
    pub(super) opt_outs: Option<Spanned<String>>,
    pub(super) max_concurrent_calls: Spanned<i64>,
    pub(super) pacing: Option<Spanned<RawPacing>>,
    pub(super) ring_timeout_secs: Option<Spanned<i64>>,
    pub(super) retry: Option<Spanned<RawRetry>>,
    pub(super) calling_window: Option<Spanned<RawWindow>>,
    pub(super) default_language: Option<Spanned<String>>,
    pub(super) default_timezone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPacing {
    pub(super) calls_per_minute: Option<Spanned<f64>>,
    pub(super) min_gap_ms: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) max_attempts: Spanned<i64>,
    pub(super) backoff_secs: Spanned<RawBackoff>,
    pub(super) on: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawBackoff {
    One(i64),
    PerRetry(Vec<i64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWindow {
    pub(super) days: Spanned<Vec<Spanned<String>>>,
    pub(super) start: Spanned<String>,
    pub(super) end: Spanned<String>,
}
