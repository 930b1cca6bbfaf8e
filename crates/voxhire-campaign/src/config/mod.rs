//! The campaign file (TOML) a recruiter writes.
//!
//! ```toml
//! name = "java-backend-2026-11"          # runs/<name>/ — a safe directory name
//! script = "interview-java-backend.en.toml"   # or a table per language:
//! # [scripts]
//! # en = "interview-java-backend.en.toml"
//! # zh = "interview-frontend.zh.toml"
//! trunk = "trunk.toml"                   # optional
//! candidates = "candidates.csv"
//! do_not_call = "do-not-call.txt"        # optional, never written to
//! # opt_outs = "runs/opted-out.txt"      # opt-outs heard on calls: appended, and never called
//! # out_dir = "runs/java-backend-2026-11"
//! max_concurrent_calls = 2
//! ring_timeout_secs = 30
//! default_language = "en"
//! default_timezone = "Asia/Shanghai"     # optional, for CSV rows without one
//!
//! [pacing]                               # one of:
//! min_gap_ms = 2000                      # calls_per_minute = 30
//!
//! [retry]
//! max_attempts = 3                       # including the first call
//! backoff_secs = [60, 300]               # before retry 1, 2 … (last repeats); or one number
//! on = ["busy", "no_answer", "voicemail", "failed"]  # also "rejected" (403/603…): off by default
//!
//! [answering_machine]                    # optional: listen before speaking (≤ 3.5 s)
//! on_machine = "hang_up"                 # or "leave_message" (after the beep)
//! # message = "…"                        # what to leave; default: a short generic one
//!
//! [calling_window]                       # in each candidate's own time zone
//! days = ["mon", "tue", "wed", "thu", "fri"]
//! start = "09:00"
//! end = "19:00"
//! ```
//!
//! Paths in the file are relative to the file's directory. The default
//! `out_dir`, `runs/<name>`, is relative to where voxhire runs, as every
//! campaign's results land in the one `runs/` folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use chrono_tz::Tz;
use toml::Spanned;

use crate::candidates::Language;
use crate::error::{line_of, CampaignError};
use crate::window::CallingWindow;

mod sections;

use sections::{parse_retry, parse_window, RawConfig};

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignConfig {
    /// The file this was loaded from (for messages).
    pub file: PathBuf,
    pub name: String,
    pub scripts: Scripts,
    pub trunk: Option<PathBuf>,
    pub candidates: PathBuf,
    /// The list never to call, read only: the campaign never writes to it.
    pub do_not_call: Option<PathBuf>,
    /// Where opt-outs heard on calls are appended (and read back as part of
    /// the do-not-call list): `runs/opted-out.txt` by default, shared by every
    /// campaign run from the same place.
    pub opt_outs: PathBuf,
    pub out_dir: PathBuf,
    pub max_concurrent_calls: usize,
    /// Minimum time between two call starts, so a trunk or a PBX is never
    /// hit with a burst of INVITEs.
    pub min_gap: TimeDelta,
    pub ring_timeout: TimeDelta,
    pub retry: RetryPolicy,
    pub calling_window: CallingWindow,
    pub default_language: Language,
    pub default_timezone: Option<Tz>,
    /// Answering-machine detection (`None`: off).
    pub answering_machine: Option<AnsweringMachine>,
}

/// Which interview script a candidate gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scripts {
    /// One script for everyone; the candidate's language is passed along.
    Single(PathBuf),
    /// One script per language, chosen by the candidate's language.
    PerLanguage(BTreeMap<Language, PathBuf>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls per candidate, the first included; at least 1.
    pub max_attempts: u32,
    /// `backoff[i]` is the wait before retry `i + 1`; the last entry repeats.
    pub backoff: Vec<TimeDelta>,
    pub on_busy: bool,
    pub on_no_answer: bool,
    pub on_voicemail: bool,
    pub on_rejected: bool,
    pub on_failed: bool,
}

/// What a campaign does about answering machines (`[answering_machine]`):
/// when given, each answered call is listened to (silently, up to 3 s) before
/// the interview starts, and a voicemail is hung up on or left a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweringMachine {
    pub on_machine: MachineAction,
    /// The message to leave (`None`: the engine's default, per language).
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineAction {
    /// Hang up; the attempt ends as `voicemail` and is retried as `retry.on` says.
    HangUp,
    /// Wait for the beep, leave the message, hang up.
    LeaveMessage,
}

impl MachineAction {
    pub fn parse(s: &str) -> Option<MachineAction> {
        match s {
            "hang_up" => Some(MachineAction::HangUp),
            "leave_message" => Some(MachineAction::LeaveMessage),
            _ => None,
        }
    }
}

/// Which part of a retry policy a check refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryField {
    MaxAttempts,
    BackoffSecs,
    /// The outcome at this index of `on`.
    On(usize),
}

impl RetryPolicy {
    /// A policy from its written form: calls per candidate (1–20), the waits
    /// before each retry in seconds (the last repeats; up to a week), and the
    /// outcomes that are retried (`busy`, `no_answer`, `voicemail`, `rejected`,
    /// `failed`; default: all but `rejected`). The campaign file's `[retry]` and the
    /// API's job settings are both checked here.
    pub fn from_parts<S: AsRef<str>>(
        max_attempts: i64,
        backoff_secs: &[i64],
        on: Option<&[S]>,
    ) -> Result<RetryPolicy, (RetryField, String)> {
        if !(1..=20).contains(&max_attempts) {
            return Err((
                RetryField::MaxAttempts,
                format!("{max_attempts} is not between 1 and 20"),
            ));
        }
        if backoff_secs.is_empty() && max_attempts > 1 {
            return Err((RetryField::BackoffSecs, "is empty".into()));
        }
        if let Some(bad) = backoff_secs.iter().find(|s| !(0..=7 * 86_400).contains(*s)) {
            return Err((
                RetryField::BackoffSecs,
                format!("{bad} is not between 0 and 604800 (a week)"),
            ));
        }
        let mut policy = RetryPolicy {
            max_attempts: max_attempts as u32,
            backoff: backoff_secs
                .iter()
                .map(|s| TimeDelta::seconds(*s))
                .collect(),
            on_busy: false,
            on_no_answer: false,
            on_voicemail: false,
            on_rejected: false,
            on_failed: false,
        };
        let default = ["busy", "no_answer", "voicemail", "failed"];
        let on: Vec<&str> = match on {
            Some(on) => on.iter().map(AsRef::as_ref).collect(),
            None => default.to_vec(),
        };
        for (i, o) in on.into_iter().enumerate() {
            match o {
                "busy" => policy.on_busy = true,
                "no_answer" => policy.on_no_answer = true,
                "voicemail" => policy.on_voicemail = true,
                "rejected" => policy.on_rejected = true,
                "failed" => policy.on_failed = true,
                other => {
                    return Err((
                        RetryField::On(i),
                        format!(
                            "unknown outcome {other:?} (use busy, no_answer, voicemail, rejected, failed)"
                        ),
                    ))
                }
            }
        }
        Ok(policy)
    }

    /// The wait after attempt number `attempts_made` before the next one.
    pub fn backoff_after(&self, attempts_made: u32) -> TimeDelta {
        let i = (attempts_made.max(1) - 1) as usize;
        self.backoff
            .get(i)
            .or(self.backoff.last())
            .copied()
            .unwrap_or_else(TimeDelta::zero)
    }
}

impl CampaignConfig {
    pub fn load(path: &Path) -> Result<CampaignConfig, CampaignError> {
        let text = std::fs::read_to_string(path).map_err(|e| CampaignError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses campaign text; `path` names the file in errors and anchors the
    /// relative paths inside it.
    pub fn parse(text: &str, path: &Path) -> Result<CampaignConfig, CampaignError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| CampaignError::Toml {
            file: path.to_owned(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().to_owned(),
        })?;
        let err =
            |key: &str, span: std::ops::Range<usize>, message: String| CampaignError::Config {
                file: path.to_owned(),
                key: key.to_owned(),
                line: line_of(text, span.start),
                message,
            };
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |p: &Spanned<String>, key: &str| -> Result<PathBuf, CampaignError> {
            if p.get_ref().trim().is_empty() {
                return Err(err(key, p.span(), "is empty".into()));
            }
            let p = Path::new(p.get_ref());
            Ok(if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            })
        };

        if !is_safe_name(raw.name.get_ref()) {
            return Err(err(
                "name",
                raw.name.span(),
                "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (it names the run directory)".into(),
            ));
        }
        let name = raw.name.get_ref().clone();

        let scripts = match (&raw.script, &raw.scripts) {
            (Some(s), None) => Scripts::Single(resolve(s, "script")?),
            (None, Some(table)) => {
                let mut map = BTreeMap::new();
                for (lang, p) in table.get_ref() {
                    let key = format!("scripts.{lang}");
                    let l = lang.trim().parse::<Language>().ok().ok_or_else(|| {
                        err(&key, p.span(), "unknown language (use en or zh)".into())
                    })?;
                    map.insert(l, resolve(p, &key)?);
                }
                if map.is_empty() {
                    return Err(err("scripts", table.span(), "names no script".into()));
                }
                Scripts::PerLanguage(map)
            }
            (Some(s), Some(_)) => {
                return Err(err(
                    "script",
                    s.span(),
                    "give either `script` or `[scripts]`, not both".into(),
                ))
            }
            (None, None) => {
                return Err(err(
                    "script",
                    0..0,
                    "missing: give `script` or a `[scripts]` table".into(),
                ))
            }
        };

        let max = *raw.max_concurrent_calls.get_ref();
        if !(1..=1000).contains(&max) {
            return Err(err(
                "max_concurrent_calls",
                raw.max_concurrent_calls.span(),
                format!("{max} is not between 1 and 1000"),
            ));
        }

        let min_gap = match &raw.pacing {
            None => TimeDelta::zero(),
            Some(p) => match (&p.get_ref().calls_per_minute, &p.get_ref().min_gap_ms) {
                (Some(cpm), None) => {
                    let v = *cpm.get_ref();
                    if !(v.is_finite() && v > 0.0 && v <= 6000.0) {
                        return Err(err(
                            "pacing.calls_per_minute",
                            cpm.span(),
                            format!("{v} is not between 0 and 6000"),
                        ));
                    }
                    TimeDelta::milliseconds((60_000.0 / v).round() as i64)
                }
                (None, Some(ms)) => {
                    let v = *ms.get_ref();
                    if !(0..=86_400_000).contains(&v) {
                        return Err(err(
                            "pacing.min_gap_ms",
                            ms.span(),
                            format!("{v} is not between 0 and 86400000"),
                        ));
                    }
                    TimeDelta::milliseconds(v)
                }
                _ => {
                    return Err(err(
                        "pacing",
                        p.span(),
                        "give exactly one of `calls_per_minute` or `min_gap_ms`".into(),
                    ))
                }
            },
        };

        let ring_timeout = match &raw.ring_timeout_secs {
            None => TimeDelta::seconds(30),
            Some(r) => {
                let v = *r.get_ref();
                if !(5..=300).contains(&v) {
                    return Err(err(
                        "ring_timeout_secs",
                        r.span(),
                        format!("{v} is not between 5 and 300"),
                    ));
                }
                TimeDelta::seconds(v)
            }
        };

        let retry = match &raw.retry {
            None => RetryPolicy {
                max_attempts: 1,
                backoff: vec![],
                on_busy: false,
                on_no_answer: false,
                on_voicemail: false,
                on_rejected: false,
                on_failed: false,
            },
            Some(r) => parse_retry(r.get_ref(), &err)?,
        };

        let answering_machine = match &raw.answering_machine {
            None => None,
            Some(a) => {
                let a = a.get_ref();
                let on_machine = match &a.on_machine {
                    None => MachineAction::HangUp,
                    Some(o) => MachineAction::parse(o.get_ref().trim()).ok_or_else(|| {
                        err(
                            "answering_machine.on_machine",
                            o.span(),
                            format!("{:?} is not hang_up or leave_message", o.get_ref()),
                        )
                    })?,
                };
                let message = match &a.message {
                    Some(m)
                        if m.get_ref().trim().is_empty() || m.get_ref().chars().count() > 500 =>
                    {
                        return Err(err(
                            "answering_machine.message",
                            m.span(),
                            "must be 1-500 characters".into(),
                        ))
                    }
                    Some(m) => Some(m.get_ref().trim().to_owned()),
                    None => None,
                };
                Some(AnsweringMachine {
                    on_machine,
                    message,
                })
            }
        };

        let calling_window = match &raw.calling_window {
            None => CallingWindow::always(),
            Some(w) => parse_window(w.get_ref(), &err)?,
        };

        let default_language = match &raw.default_language {
            None => Language::En,
            Some(l) => l.get_ref().trim().parse::<Language>().ok().ok_or_else(|| {
                err(
                    "default_language",
                    l.span(),
                    format!("unknown language {:?} (use en or zh)", l.get_ref()),
                )
            })?,
        };
        let default_timezone = raw
            .default_timezone
            .as_ref()
            .map(|tz| {
                tz.get_ref().parse::<Tz>().map_err(|_| {
                    err(
                        "default_timezone",
                        tz.span(),
                        format!("unknown time zone {:?}", tz.get_ref()),
                    )
                })
            })
            .transpose()?;

        let out_dir = match &raw.out_dir {
            Some(o) => resolve(o, "out_dir")?,
            None => Path::new("runs").join(&name),
        };

        Ok(CampaignConfig {
            file: path.to_owned(),
            name,
            scripts,
            trunk: raw
                .trunk
                .as_ref()
                .map(|t| resolve(t, "trunk"))
                .transpose()?,
            candidates: resolve(&raw.candidates, "candidates")?,
            do_not_call: raw
                .do_not_call
                .as_ref()
                .map(|d| resolve(d, "do_not_call"))
                .transpose()?,
            opt_outs: match &raw.opt_outs {
                Some(o) => resolve(o, "opt_outs")?,
                None => Path::new("runs").join("opted-out.txt"),
            },
            out_dir,
            max_concurrent_calls: max as usize,
            min_gap,
            ring_timeout,
            retry,
            calling_window,
            default_language,
            default_timezone,
            answering_machine,
        })
    }

    /// The script for a candidate speaking `language`; `None` when the
    /// `[scripts]` table has no entry for it.
    pub fn script_for(&self, language: Language) -> Option<&Path> {
        match &self.scripts {
            Scripts::Single(p) => Some(p),
            Scripts::PerLanguage(m) => m.get(&language).map(PathBuf::as_path),
        }
    }

    /// `<out_dir>/campaign.sqlite`.
    pub fn store_path(&self) -> PathBuf {
        self.out_dir.join("campaign.sqlite")
    }

    /// `<out_dir>/<candidate id>`: where one candidate's call files go.
    pub fn candidate_dir(&self, candidate_id: &str) -> PathBuf {
        self.out_dir.join(candidate_id)
    }

    /// One attempt's own directory (`<out_dir>/<candidate>/<attempt>`): a
    /// retried call never overwrites an earlier attempt's files.
    pub fn attempt_dir(&self, candidate_id: &str, attempt_no: u32) -> PathBuf {
        self.candidate_dir(candidate_id)
            .join(attempt_no.to_string())
    }
}

/// A name that is safe as one path component: 1–64 of `[A-Za-z0-9._-]`,
/// starting with a letter or digit (so never `.`, `..` or hidden).
pub fn is_safe_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
