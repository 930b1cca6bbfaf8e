//! Retention: each job may say how many days after a call its recording
//! and its report (transcript, events, the report itself) are kept. The
//! server sweeps periodically; every deletion is in the audit trail. A
//! missing setting keeps things until a recruiter or an erasure removes them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio::sync::watch;

use crate::audit::{Auditor, Event};
use crate::error::ApiError;
use crate::store::{timestamp, Store};

/// The longest retention a job may ask for: ten years.
const MAX_DAYS: u32 = 3650;

/// How long a job's call files are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days after the call that the recording is kept (0: deleted at the
    /// next sweep). Absent: kept.
    pub recordings_days: Option<u32>,
    /// Days after the call that the transcript, events and report are kept.
    pub reports_days: Option<u32>,
}

impl Retention {
    /// Checks the settings, naming the field at fault.
    pub fn check(&self) -> Result<(), ApiError> {
        for (field, days) in [
            ("retention.recordings_days", self.recordings_days),
            ("retention.reports_days", self.reports_days),
        ] {
            if days.is_some_and(|d| d > MAX_DAYS) {
                return Err(ApiError::invalid(field, format!("at most {MAX_DAYS} days")));
            }
        }
        Ok(())
    }
}

/// What one sweep deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub recordings: usize,
    pub reports: usize,
}

const REPORT_FILES: [&str; 3] = ["transcript.json", "events.jsonl", "report.json"];

fn due(ended: &str, days: Option<u32>, now: DateTime<Utc>) -> bool {
    let (Some(days), Ok(ended)) = (days, DateTime::parse_from_rfc3339(ended)) else {
        return false;
    };
    ended.with_timezone(&Utc) + TimeDelta::days(i64::from(days)) <= now
}

async fn remove(dir: &std::path::Path, name: &str) -> Result<()> {
    match tokio::fs::remove_file(dir.join(name)).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(anyhow::anyhow!(
            "deleting {}: {e}",
            dir.join(name).display()
        )),
        _ => Ok(()),
    }
}

/// What a sweep deletes of one call.
#[derive(Clone, Copy)]
enum Deleted {
    Recording,
    /// The transcript, events and report, and the report's copy in the store.
    Report,
}

/// Notes a deletion on the interview, with its audit entry, in one
/// transaction.
async fn note_deletion(
    store: &Store,
    audit: &Auditor,
    what: Deleted,
    interview: &str,
    days: Option<u32>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (update, action) = match what {
        Deleted::Recording => (
            "UPDATE interviews SET recording_deleted_at = $1 WHERE id = $2",
            "retention.recording",
        ),
        Deleted::Report => (
            "UPDATE interviews SET report_json = NULL, report_deleted_at = $1 WHERE id = $2",
            "retention.report",
        ),
    };
    let mut tx = store.pool.begin().await?;
    sqlx::query(update)
        .bind(timestamp(now))
        .bind(interview)
        .execute(&mut *tx)
        .await?;
    audit
        .append(
            &mut tx,
            Event {
                actor: "retention",
                action,
                object: interview,
                detail: serde_json::json!({ "days": days }),
            },
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes what is due at `now`.
pub async fn sweep(store: &Store, audit: &Auditor, now: DateTime<Utc>) -> Result<Swept> {
    let rows = sqlx::query(
        "SELECT i.id, i.run_dir, i.ended_at, i.recording_deleted_at, i.report_deleted_at, j.retention
         FROM interviews i JOIN candidates c ON c.id = i.candidate_id JOIN jobs j ON j.id = c.job_id
         WHERE j.retention IS NOT NULL
           AND (i.recording_deleted_at IS NULL OR i.report_deleted_at IS NULL)",
    )
    .fetch_all(&store.pool)
    .await?;
    let mut swept = Swept::default();
    for r in rows {
        let Ok(policy) = serde_json::from_str::<Retention>(&r.get::<String, _>("retention")) else {
            continue;
        };
        let (id, ended): (String, String) = (r.get("id"), r.get("ended_at"));
        let dir = PathBuf::from(r.get::<String, _>("run_dir"));
        if r.get::<Option<String>, _>("recording_deleted_at").is_none()
            && due(&ended, policy.recordings_days, now)
        {
            remove(&dir, "recording.wav").await?;
            note_deletion(
                store,
                audit,
                Deleted::Recording,
                &id,
                policy.recordings_days,
                now,
            )
            .await?;
            swept.recordings += 1;
        }
        if r.get::<Option<String>, _>("report_deleted_at").is_none()
            && due(&ended, policy.reports_days, now)
        {
            for name in REPORT_FILES {
                remove(&dir, name).await?;
            }
            note_deletion(store, audit, Deleted::Report, &id, policy.reports_days, now).await?;
            swept.reports += 1;
        }
    }
    Ok(swept)
}

/// Sweeps every `every` until `stop`.
pub async fn run(
    store: Store,
    audit: std::sync::Arc<Auditor>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match sweep(&store, &audit, Utc::now()).await {
            Ok(s) if s != Swept::default() => {
                tracing::info!(
                    recordings = s.recordings,
                    reports = s.reports,
                    "retention: deleted what was due"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "retention sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_the_field_at_fault() {
        let ok = Retention {
            recordings_days: Some(0),
            reports_days: Some(MAX_DAYS),
        };
        assert!(ok.check().is_ok());
        let bad = Retention {
            recordings_days: None,
            reports_days: Some(MAX_DAYS + 1),
        };
        assert_eq!(
            bad.check().unwrap_err().field.as_deref(),
            Some("retention.reports_days")
        );
        assert!(
            serde_json::from_str::<Retention>(r#"{"recording_days": 3}"#).is_err(),
            "unknown fields refused"
        );
    }

    #[test]
    fn due_counts_whole_days_from_the_call_end() {
        let end = "2026-01-01T10:00:00.000Z";
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert!(!due(end, Some(1), at("2026-01-02T09:59:59Z")));
        assert!(due(end, Some(1), at("2026-01-02T10:00:00Z")));
        assert!(due(end, Some(0), at(end)));
        assert!(!due(end, None, at("2030-01-01T00:00:00Z")));
    }
}
