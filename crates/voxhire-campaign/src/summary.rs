//! The end-of-campaign summary: counts a recruiter reads at a glance, one row
//! per candidate (by id — names stay out of it), as a table and as
//! `summary.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::atomic::write_atomic;
use crate::error::CampaignError;
use crate::outcome::AttemptOutcome;
use crate::scheduler::{Scheduler, State};

/// Where a candidate ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    Completed,
    KnockedOut,
    OptedOut,
    CallbackRequested,
    DeclinedConsent,
    WrongPerson,
    HungUp,
    /// On the do-not-call list; never dialled.
    SkippedDnc,
    /// Busy / no answer / voicemail / failed on the last attempt allowed.
    Failed,
    /// Still to be dialled, and the calling window is closed now.
    OutsideWindow,
    /// Still to be dialled (waiting for a line, pacing or a retry backoff).
    Pending,
    InFlight,
}

impl CandidateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateStatus::Completed => "completed",
            CandidateStatus::KnockedOut => "knocked_out",
            CandidateStatus::OptedOut => "opted_out",
            CandidateStatus::CallbackRequested => "callback_requested",
            CandidateStatus::DeclinedConsent => "declined_consent",
            CandidateStatus::WrongPerson => "wrong_person",
            CandidateStatus::HungUp => "hung_up",
            CandidateStatus::SkippedDnc => "skipped_dnc",
            CandidateStatus::Failed => "failed",
            CandidateStatus::OutsideWindow => "outside_window",
            CandidateStatus::Pending => "pending",
            CandidateStatus::InFlight => "in_flight",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateRow {
    pub id: String,
    pub status: CandidateStatus,
    pub attempts: u32,
    /// The last attempt's outcome (`busy`, `no_answer`, `completed` …).
    pub last_outcome: Option<String>,
    /// Why the last attempt failed, for `failed` outcomes.
    pub failure_reason: Option<String>,
    pub score: Option<f64>,
    pub recommendation: Option<String>,
    /// Local time (the candidate's zone) they asked to be called back.
    pub callback_at: Option<NaiveDateTime>,
    pub report_path: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignSummary {
    pub campaign: String,
    pub generated_at: DateTime<Utc>,
    pub candidates: usize,
    /// Calls placed, retries included (earlier runs too).
    pub dialled: u32,
    /// Candidates dialled at least once.
    pub candidates_dialled: usize,
    /// Candidates who picked up at least once.
    pub answered: usize,
    pub completed: usize,
    pub knocked_out: usize,
    pub opted_out: usize,
    pub callbacks: usize,
    pub declined_consent: usize,
    pub wrong_person: usize,
    pub hung_up: usize,
    pub skipped_dnc: usize,
    pub failed_after_retries: usize,
    pub outside_window: usize,
    /// Pending or in flight when the summary was taken.
    pub unfinished: usize,
    /// Mean score of completed interviews that have one.
    pub average_score: Option<f64>,
    pub rows: Vec<CandidateRow>,
}

impl Scheduler {
    /// The summary as of the latest `now` the scheduler has seen.
    pub fn summary(&self) -> CampaignSummary {
        let rows: Vec<CandidateRow> = self
            .entries
            .iter()
            .map(|e| {
                let status = match &e.state {
                    State::SkippedDnc => CandidateStatus::SkippedDnc,
                    State::InFlight { .. } => CandidateStatus::InFlight,
                    State::Waiting { .. }
                        if e.last_outcome.as_ref().is_some_and(|o| {
                            matches!(o, AttemptOutcome::CallbackRequested { .. })
                        }) =>
                    {
                        CandidateStatus::CallbackRequested
                    }
                    State::Waiting { .. } => {
                        if self
                            .config
                            .calling_window
                            .is_open(self.now, e.candidate.timezone)
                        {
                            CandidateStatus::Pending
                        } else {
                            CandidateStatus::OutsideWindow
                        }
                    }
                    State::Done { last } => status_of(last),
                };
                let last = e.last_outcome.as_ref();
                CandidateRow {
                    id: e.candidate.id.clone(),
                    status,
                    attempts: e.attempts,
                    last_outcome: last.map(|o| o.kind().to_owned()),
                    failure_reason: match last {
                        Some(AttemptOutcome::Failed { reason }) => Some(reason.clone()),
                        _ => None,
                    },
                    score: last.and_then(AttemptOutcome::score),
                    recommendation: match last {
                        Some(AttemptOutcome::Completed { recommendation, .. }) => {
                            recommendation.clone()
                        }
                        _ => None,
                    },
                    callback_at: match last {
                        Some(AttemptOutcome::CallbackRequested { at }) => Some(*at),
                        _ => None,
                    },
                    report_path: e.report_path.clone(),
                }
            })
            .collect();
        let count = |s: CandidateStatus| rows.iter().filter(|r| r.status == s).count();
        let scores: Vec<f64> = rows
            .iter()
            .filter(|r| r.status == CandidateStatus::Completed)
            .filter_map(|r| r.score)
            .collect();
        CampaignSummary {
            campaign: self.config.name.clone(),
            generated_at: self.now,
            candidates: rows.len(),
            dialled: self.entries.iter().map(|e| e.attempts).sum(),
            candidates_dialled: self.entries.iter().filter(|e| e.attempts > 0).count(),
            answered: self.entries.iter().filter(|e| e.answered).count(),
            completed: count(CandidateStatus::Completed),
            knocked_out: count(CandidateStatus::KnockedOut),
            opted_out: count(CandidateStatus::OptedOut),
            callbacks: count(CandidateStatus::CallbackRequested),
            declined_consent: count(CandidateStatus::DeclinedConsent),
            wrong_person: count(CandidateStatus::WrongPerson),
            hung_up: count(CandidateStatus::HungUp),
            skipped_dnc: count(CandidateStatus::SkippedDnc),
            failed_after_retries: count(CandidateStatus::Failed),
            outside_window: count(CandidateStatus::OutsideWindow),
            unfinished: count(CandidateStatus::Pending)
                + count(CandidateStatus::InFlight)
                + count(CandidateStatus::OutsideWindow),
            average_score: (!scores.is_empty())
                .then(|| scores.iter().sum::<f64>() / scores.len() as f64),
            rows,
        }
    }
}

fn status_of(last: &AttemptOutcome) -> CandidateStatus {
    match last {
        AttemptOutcome::Completed { .. } => CandidateStatus::Completed,
        AttemptOutcome::KnockedOut { .. } => CandidateStatus::KnockedOut,
        AttemptOutcome::OptedOut => CandidateStatus::OptedOut,
        AttemptOutcome::CallbackRequested { .. } => CandidateStatus::CallbackRequested,
        AttemptOutcome::DeclinedConsent => CandidateStatus::DeclinedConsent,
        AttemptOutcome::WrongPerson => CandidateStatus::WrongPerson,
        AttemptOutcome::HungUp => CandidateStatus::HungUp,
        AttemptOutcome::Busy
        | AttemptOutcome::NoAnswer
        | AttemptOutcome::Voicemail
        | AttemptOutcome::Rejected { .. }
        | AttemptOutcome::Failed { .. } => CandidateStatus::Failed,
    }
}

impl CampaignSummary {
    /// Plain-text report: the counts, then one aligned row per candidate.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let avg = self
            .average_score
            .map_or_else(|| "-".to_owned(), |s| format!("{s:.1}"));
        let counts: [(&str, String); 13] = [
            ("candidates", self.candidates.to_string()),
            ("dialled (attempts)", self.dialled.to_string()),
            ("answered", self.answered.to_string()),
            ("completed", self.completed.to_string()),
            ("knocked out", self.knocked_out.to_string()),
            ("opted out", self.opted_out.to_string()),
            ("callbacks", self.callbacks.to_string()),
            (
                "declined / wrong person / hung up",
                format!(
                    "{} / {} / {}",
                    self.declined_consent, self.wrong_person, self.hung_up
                ),
            ),
            ("skipped (do-not-call)", self.skipped_dnc.to_string()),
            (
                "failed after retries",
                self.failed_after_retries.to_string(),
            ),
            ("outside window", self.outside_window.to_string()),
            ("unfinished", self.unfinished.to_string()),
            ("average score (completed)", avg),
        ];
        let _ = writeln!(out, "campaign {}", self.campaign);
        let w = counts.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &counts {
            let _ = writeln!(out, "  {k:<w$}  {v}");
        }
        out.push('\n');

        let header = [
            "id",
            "status",
            "attempts",
            "score",
            "recommendation",
            "report",
        ];
        let cells: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                let status = match (&r.status, &r.callback_at, &r.last_outcome) {
                    (CandidateStatus::CallbackRequested, Some(at), _) => {
                        format!("callback {}", at.format("%Y-%m-%d %H:%M"))
                    }
                    (CandidateStatus::Failed, _, Some(last)) => format!("failed ({last})"),
                    (s, _, _) => s.as_str().to_owned(),
                };
                [
                    r.id.clone(),
                    status,
                    r.attempts.to_string(),
                    r.score.map_or_else(|| "-".into(), |s| format!("{s:.1}")),
                    r.recommendation.clone().unwrap_or_else(|| "-".into()),
                    r.report_path
                        .as_ref()
                        .map_or_else(|| "-".into(), |p| p.display().to_string()),
                ]
            })
            .collect();
        let mut widths = header.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut line = |fields: &[String]| {
            let mut l = String::new();
            for (i, (f, w)) in fields.iter().zip(widths).enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                l.push_str(f);
                if i + 1 < fields.len() {
                    l.push_str(&" ".repeat(w - f.chars().count()));
                }
            }
            let _ = writeln!(out, "{l}");
        };
        line(&header.map(String::from));
        line(&widths.map(|w| "-".repeat(w)));
        for row in &cells {
            line(row);
        }
        out
    }
}

/// Writes `<dir>/summary.json` atomically (temp + fsync + rename + fsync of
/// the directory), creating `dir` if needed. Returns the file's path.
pub fn write_summary(dir: &Path, summary: &CampaignSummary) -> Result<PathBuf, CampaignError> {
    std::fs::create_dir_all(dir).map_err(|e| CampaignError::io(dir, e))?;
    let path = dir.join("summary.json");
    let mut json = serde_json::to_vec_pretty(summary)?;
    json.push(b'\n');
    write_atomic(&path, &json)?;
    Ok(path)
}
