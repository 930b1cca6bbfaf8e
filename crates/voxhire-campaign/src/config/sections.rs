//! The campaign file's raw serde shape (with spans, for line numbers) and
//! the checks of its `[retry]` and `[calling_window]` tables.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{RetryField, RetryPolicy};
use crate::error::CampaignError;
use crate::window::{CallingWindow, WindowField};

pub(super) type ErrFn<'a> = dyn Fn(&str, std::ops::Range<usize>, String) -> CampaignError + 'a;

pub(super) fn parse_retry(r: &RawRetry, err: &ErrFn<'_>) -> Result<RetryPolicy, CampaignError> {
    let secs = match r.backoff_secs.get_ref() {
        RawBackoff::One(s) => vec![*s],
        RawBackoff::PerRetry(v) => v.clone(),
    };
    let on: Option<Vec<&str>> =
        r.on.as_ref()
            .map(|on| on.iter().map(|o| o.get_ref().as_str()).collect());
    RetryPolicy::from_parts(*r.max_attempts.get_ref(), &secs, on.as_deref()).map_err(
        |(field, message)| match field {
            RetryField::MaxAttempts => err("retry.max_attempts", r.max_attempts.span(), message),
            RetryField::BackoffSecs => err("retry.backoff_secs", r.backoff_secs.span(), message),
            RetryField::On(i) => {
                let span =
                    r.on.as_ref()
                        .and_then(|on| on.get(i))
                        .map_or(0..0, |o| o.span());
                err("retry.on", span, message)
            }
        },
    )
}

pub(super) fn parse_window(w: &RawWindow, err: &ErrFn<'_>) -> Result<CallingWindow, CampaignError> {
    let days: Vec<&str> = w
        .days
        .get_ref()
        .iter()
        .map(|d| d.get_ref().as_str())
        .collect();
    CallingWindow::from_parts(&days, w.start.get_ref(), w.end.get_ref()).map_err(
        |(field, message)| match field {
            WindowField::Day(i) => err("calling_window.days", w.days.get_ref()[i].span(), message),
            WindowField::Days => err("calling_window.days", w.days.span(), message),
            WindowField::Start => err("calling_window.start", w.start.span(), message),
            WindowField::End => err("calling_window.end", w.end.span(), message),
        },
    )
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
    pub(super) answering_machine: Option<Spanned<RawAnsweringMachine>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAnsweringMachine {
    pub(super) on_machine: Option<Spanned<String>>,
    pub(super) message: Option<Spanned<String>>,
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
