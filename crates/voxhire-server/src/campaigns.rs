//! A job's campaign, run in-process on the engine: the same scheduler and
//! runner as `voxhire campaign run`, with the server's store as the log. Each
//! ended attempt moves the candidate's status and queues its webhooks in one
//! transaction; the deliverer is woken at once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{TimeDelta, Utc};
use sqlx::Row;
use tokio::sync::{watch, Notify};
use voxhire_campaign::{
    Address, AttemptOutcome, AttemptRecord, CampaignConfig, Candidate, Dial, DoNotCallList,
    Scheduler, Scripts,
};
use voxhire_dialog::InterviewScript;
use voxhire_engine::campaign_run::{AttemptLog, CampaignRun, Claim, Control, Ended, Finished};
use voxhire_engine::interview::InterviewStack;
use voxhire_engine::interview_call::Dialer;
use voxhire_engine::orphans::{self, DialogKeeper};
use voxhire_lang::Lang;

use crate::error::ApiError;
use crate::settings::{CampaignSettings, Checked};
use crate::store::{new_id, set_status, timestamp, Job, Store};
use crate::{claims, webhooks};
use crate::{AppState, Engine, Running};

/// Statuses a campaign dials (anything else is settled or not shortlisted).
pub const DIALLABLE: &[&str] = &[
    "imported",
    "shortlisted",
    "scheduled",
    "no_answer",
    "voicemail",
    "rescheduled",
    "interrupted",
];

/// What binds an interview's kept dialog to its row.
pub fn dialog_label(interview_id: &str) -> String {
    crate::store::label(interview_id, "dialog")
}

/// The candidate's status after an attempt.
pub fn status_after(outcome: &AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Completed { .. }
        | AttemptOutcome::KnockedOut { .. }
        | AttemptOutcome::HungUp
        | AttemptOutcome::DeclinedConsent
        | AttemptOutcome::WrongPerson => "interviewed",
        AttemptOutcome::OptedOut => "opted_out",
        AttemptOutcome::CallbackRequested { .. } => "rescheduled",
        AttemptOutcome::Busy | AttemptOutcome::NoAnswer => "no_answer",
        AttemptOutcome::Voicemail => "voicemail",
        AttemptOutcome::Rejected { .. } | AttemptOutcome::Failed { .. } => "failed",
    }
}

/// A job's campaign as the recruiter left it (the `campaigns` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Running,
    Paused,
    Cancelled,
    Finished,
}

impl Stored {
    pub fn as_str(self) -> &'static str {
        match self {
            Stored::Running => "running",
            Stored::Paused => "paused",
            Stored::Cancelled => "cancelled",
            Stored::Finished => "finished",
        }
    }

    /// The state the API shows, from the stored one and whether the
    /// campaign's task is still going.
    pub fn shown(stored: Option<Stored>, live: bool) -> &'static str {
        match (stored, live) {
            (None, _) => "idle",
            (Some(Stored::Running), true) => "running",
            (Some(Stored::Paused), true) => "pausing",
            (Some(Stored::Cancelled), true) => "cancelling",
            // Stopped by an error (see the server's log); resume or start it again.
            (Some(Stored::Running), false) => "interrupted",
            (Some(s), _) => s.as_str(),
        }
    }
}

pub async fn stored_state(store: &Store, job_id: &str) -> Result<Option<Stored>> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM campaigns WHERE job_id = $1")
        .bind(job_id)
        .fetch_optional(&store.pool)
        .await?;
    Ok(state.map(|s| match s.as_str() {
        "running" => Stored::Running,
        "paused" => Stored::Paused,
        "cancelled" => Stored::Cancelled,
        _ => Stored::Finished,
    }))
}

async fn set_stored_state(store: &Store, job_id: &str, state: Stored) -> Result<()> {
    sqlx::query(
        "INSERT INTO campaigns (job_id, state, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(job_id)
    .bind(state.as_str())
    .bind(timestamp(Utc::now()))
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// Starts the job's campaign in the background, recorded as running, and
/// registers it with the server. Returns how many candidates it will dial.
pub(crate) async fn launch(
    st: &AppState,
    running: &mut HashMap<String, Running>,
    job: Job,
) -> Result<usize> {
    let (control, control_rx) = watch::channel(Control::Run);
    let job_id = job.id.clone();
    // The task records how it ended under the registry's lock, which our
    // caller holds: this Running always comes first.
    let (count, task) = start(st, job, control_rx).await?;
    set_stored_state(&st.store, &job_id, Stored::Running).await?;
    running.insert(job_id, Running { control, task });
    Ok(count)
}

/// What a recruiter asks of a job's campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Start,
    Pause,
    Resume,
    Cancel,
}

/// The campaign's state machine: applies `ask` to the job's campaign, from
/// its stored state and whether its task is live, under the registry's lock
/// (the task records its own end under the same lock). A request that does
/// not apply is a 409 saying why. Returns how many candidates a started
/// campaign will dial.
pub async fn ask(st: &AppState, job: Job, ask: Ask) -> Result<Option<usize>, ApiError> {
    let mut registry = st.campaigns.lock().await;
    let id = job.id.clone();
    let live = registry.get(&id).is_some_and(Running::is_live);
    let stored = stored_state(&st.store, &id).await?;
    let tell = |registry: &HashMap<String, Running>, control: Control| {
        if let Some(r) = registry.get(&id) {
            let _ = r.control.send(control);
        }
    };
    let conflict = |why: &str| Err(ApiError::conflict(format!("the job's campaign {why}")));
    use Stored::{Paused, Running as Going};
    match (ask, live, stored) {
        (Ask::Start, true, _) => conflict("is already going (pause or cancel it first)"),
        (Ask::Start, false, Some(Paused)) => conflict("is paused: POST its /campaign/resume"),
        (Ask::Start, false, _) | (Ask::Resume, false, Some(Paused | Going)) => {
            Ok(Some(launch(st, &mut registry, job).await?))
        }
        (Ask::Pause, true, Some(Going)) => {
            set_stored_state(&st.store, &id, Paused).await?;
            tell(&registry, Control::Pause);
            Ok(None)
        }
        (Ask::Pause, ..) => conflict("is not running"),
        // Still finishing its calls after a pause: it carries on dialling.
        (Ask::Resume, true, Some(Paused)) => {
            set_stored_state(&st.store, &id, Going).await?;
            tell(&registry, Control::Run);
            Ok(None)
        }
        (Ask::Resume, true, Some(Going)) => conflict("is already running"),
        (Ask::Resume, ..) => conflict("is not paused"),
        (Ask::Cancel, true, _) | (Ask::Cancel, false, Some(Paused | Going)) => {
            set_stored_state(&st.store, &id, Stored::Cancelled).await?;
            tell(&registry, Control::Stop);
            Ok(None)
        }
        (Ask::Cancel, ..) => conflict("is not running"),
    }
}

/// Runs the job's campaign in the background until it has nobody left to
/// call, or `control` pauses or stops it. A campaign that ends by itself is
/// recorded as finished, a paused one as paused; a stopped one keeps what the
/// stopper recorded (cancelled, or running when the server shuts down, so it
/// resumes at the next start).
async fn start(
    st: &AppState,
    job: Job,
    control: watch::Receiver<Control>,
) -> Result<(usize, tokio::task::JoinHandle<()>)> {
    let (engine, store) = (st.engine.clone(), st.store.clone());
    let rows = sqlx::query("SELECT * FROM candidates WHERE job_id = $1 ORDER BY created_at")
        .bind(&job.id)
        .fetch_all(&store.pool)
        .await?;
    let mut candidates = Vec::new();
    for r in &rows {
        let status: String = r.get("status");
        // Someone on a call may be another node's, which could die: they
        // stay in the schedule, and wait until that node lets them go.
        if !DIALLABLE.contains(&status.as_str()) && status != "calling" {
            continue;
        }
        let id: String = r.get("id");
        let open = |column: &str| -> Result<String> {
            Ok(crate::store::open_text(
                &st.keys,
                &crate::store::label(&id, column),
                crate::store::bytes_of(r, column),
            )?
            .unwrap_or_default())
        };
        let (name, phone) = (open("name")?, open("phone")?);
        let language: String = r.get("language");
        let timezone: String = r.get("timezone");
        candidates.push(Candidate {
            name,
            id,
            address: Address::parse(&phone).map_err(anyhow::Error::msg)?,
            language: language.parse().map_err(anyhow::Error::msg)?,
            timezone: timezone.parse().map_err(anyhow::Error::msg)?,
            line: 0,
        });
    }
    let count = candidates.len();
    let dir = engine.data_dir.join("jobs").join(&job.id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let script_path = dir.join("script.toml");
    voxhire_campaign::write_atomic(&script_path, job.script_toml.as_bytes())?;
    let script = Arc::new(InterviewScript::from_str(&job.script_toml, &script_path)?);
    let lang: Lang = job.language.parse().map_err(anyhow::Error::msg)?;
    let settings: CampaignSettings = match &job.campaign {
        Some(v) => serde_json::from_value(v.clone())?,
        None => CampaignSettings::default(),
    };
    let checked = settings
        .check()
        .map_err(|e| anyhow::anyhow!("the job's campaign settings: {}", e.message))?;
    let config = campaign_config(&engine, &job, &script_path, lang, checked);
    // Earlier attempts of the job's candidates, so a restarted campaign resumes.
    let prior = attempt_records(&store.pool, Some(&job.id), None).await?;
    let sched = Scheduler::new(config, candidates, DoNotCallList::new(), &prior, Utc::now())?;
    let (wake, registry, audit) = (st.wake.clone(), st.campaigns.clone(), st.audit.clone());
    let archive = voxhire_engine::archive::Archive::sealed(st.keys.clone());
    let keys = st.keys.clone();
    let node = st.node.clone();
    let task = tokio::spawn(async move {
        let job_id = job.id.clone();
        let stack = match engine.stack_for(&job_id, script.clone(), lang).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(job = %job_id, error = %format!("{e:#}"), "campaign cannot start");
                return;
            }
        };
        let dialer = Arc::new(Dialer {
            line: engine.outbound.clone(),
            stack,
        });
        let scripts = [(script.path().to_path_buf(), script)]
            .into_iter()
            .collect();
        let log = ServerLog {
            store: store.clone(),
            node,
            keys: keys.clone(),
            audit,
            wake,
        };
        let mut campaign =
            CampaignRun::new(sched, log, scripts, dialer, true).with_archive(archive);
        loop {
            let ended = campaign.run(control.clone()).await;
            // Decided under the registry's lock, so that a resume racing the
            // end of a pause is never lost: either it comes first and the
            // campaign carries on here, or it finds the campaign gone and
            // starts it again.
            let mut registry = registry.lock().await;
            let state = match ended {
                Err(e) => {
                    tracing::error!(job = %job_id, error = %format!("{e:#}"), "campaign stopped on an error");
                    break;
                }
                Ok(Ended::Paused) if *control.borrow() == Control::Run => continue,
                Ok(Ended::Done) => Some(Stored::Finished),
                Ok(Ended::Paused) => Some(Stored::Paused),
                Ok(Ended::Stopped) => None,
            };
            if let Some(state) = state {
                if let Err(e) = set_stored_state(&store, &job_id, state).await {
                    tracing::error!(job = %job_id, error = %format!("{e:#}"), "cannot record the campaign's end");
                }
            }
            registry.remove(&job_id);
            tracing::info!(job = %job_id, state = ?state, "campaign ended");
            break;
        }
    });
    Ok((count, task))
}

/// A campaign's rules for a job: the engine's concurrency, the job's calling
/// window, retries and ring timeout, callbacks at the time asked for.
fn campaign_config(
    engine: &Engine,
    job: &Job,
    script: &std::path::Path,
    lang: Lang,
    settings: Checked,
) -> CampaignConfig {
    CampaignConfig {
        file: script.to_owned(),
        name: job.id.clone(),
        scripts: Scripts::Single(script.to_owned()),
        trunk: None,
        candidates: PathBuf::from(format!("job {}", job.id)),
        do_not_call: None,
        opt_outs: engine.data_dir.join("opted-out.txt"),
        out_dir: engine.data_dir.join("runs").join(&job.id),
        max_concurrent_calls: engine.max_calls,
        min_gap: settings.min_gap,
        ring_timeout: settings.ring_timeout,
        retry: settings.retry,
        calling_window: settings.calling_window,
        default_language: lang,
        default_timezone: None,
        answering_machine: settings.answering_machine,
    }
}

/// The ended attempts of a job's candidates, or of one candidate.
pub(crate) async fn attempt_records(
    pool: &sqlx::AnyPool,
    job_id: Option<&str>,
    candidate_id: Option<&str>,
) -> Result<Vec<AttemptRecord>> {
    let rows = sqlx::query(
        "SELECT i.candidate_id, i.attempt_no, i.started_at, i.ended_at, i.attempt,
                CASE WHEN i.report_json IS NULL THEN 0 ELSE 1 END AS has_report, i.run_dir
         FROM interviews i JOIN candidates c ON c.id = i.candidate_id
         WHERE ($1 IS NULL OR c.job_id = $1) AND ($2 IS NULL OR i.candidate_id = $2)
           AND i.outcome != 'in_progress'",
    )
    .bind(job_id)
    .bind(candidate_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let started: String = r.get("started_at");
            let ended: String = r.get("ended_at");
            let attempt: String = r.get("attempt");
            let run_dir: String = r.get("run_dir");
            let has_report = r.get::<i64, _>("has_report") != 0;
            Ok(AttemptRecord {
                candidate_id: r.get("candidate_id"),
                attempt_no: r.get::<i64, _>("attempt_no") as u32,
                started_at: started.parse()?,
                ended_at: Some(ended.parse()?),
                outcome: Some(serde_json::from_str(&attempt)?),
                report_path: has_report.then(|| PathBuf::from(run_dir).join("report.json")),
            })
        })
        .collect()
}

/// The server's record of a campaign: statuses, interviews, the outbox.
struct ServerLog {
    store: Store,
    /// This node, as its claims name it.
    node: Arc<str>,
    keys: Arc<voxhire_vault::Keyring>,
    audit: Arc<crate::audit::Auditor>,
    wake: Arc<Notify>,
}

impl AttemptLog for ServerLog {
    async fn started(&mut self, dial: &Dial) -> Result<Claim> {
        let (candidate, attempt_no, call_dir) = (&dial.candidate, dial.attempt_no, &dial.call_dir);
        let mut tx = self.store.pool.begin().await?;
        if !claims::claim(&mut tx, &self.node, dial).await? {
            tx.rollback().await?;
            return Ok(Claim::Elsewhere(
                claims::elsewhere(&self.store, &candidate.id).await?,
            ));
        }
        // The attempt is on record from the dial on, with where its files
        // go: a server that dies mid-call finds it at the next start.
        let now = timestamp(Utc::now());
        sqlx::query(
            "INSERT INTO interviews (id, candidate_id, attempt_no, outcome, attempt, run_dir, started_at, ended_at)
             VALUES ($1, $2, $3, 'in_progress', '{}', $4, $5, $5)",
        )
        .bind(new_id("itv"))
        .bind(&candidate.id)
        .bind(i64::from(attempt_no))
        .bind(call_dir.display().to_string())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let cause = format!("attempt {attempt_no} dialled");
        set_status(
            &mut tx,
            &self.audit,
            &candidate.id,
            "calling",
            &cause,
            "engine",
        )
        .await?;
        enqueue_status(&mut tx, &self.keys, &candidate.id, "calling", &cause).await?;
        tx.commit().await?;
        self.wake.notify_one();
        Ok(Claim::Granted)
    }

    fn dialog_keeper(&self, candidate: &Candidate, attempt_no: u32) -> Option<DialogKeeper> {
        let (store, keys, candidate) =
            (self.store.clone(), self.keys.clone(), candidate.id.clone());
        Some(Box::new(move |state| {
            Box::pin(async move {
                let id: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM interviews
                     WHERE candidate_id = $1 AND attempt_no = $2 AND outcome = 'in_progress'",
                )
                .bind(&candidate)
                .bind(i64::from(attempt_no))
                .fetch_optional(&store.pool)
                .await?;
                let Some(id) = id else { return Ok(()) };
                sqlx::query("UPDATE interviews SET dialog = $1 WHERE id = $2")
                    .bind(orphans::seal_state(Some(&keys), &dialog_label(&id), &state))
                    .bind(&id)
                    .execute(&store.pool)
                    .await?;
                Ok(())
            })
        }))
    }

    async fn ended(&mut self, done: &Finished) -> Result<()> {
        let status = status_after(&done.outcome);
        let record = done.record.as_ref().ok();
        let report: Option<serde_json::Value> = record
            .and_then(|r| r.interview.as_ref())
            .map(|i| serde_json::to_value(&i.report))
            .transpose()?;
        let now = timestamp(Utc::now());
        let mut tx = self.store.pool.begin().await?;
        // The row the dial opened becomes the attempt's record, under its id.
        let open = sqlx::query(
            "DELETE FROM interviews
             WHERE candidate_id = $1 AND attempt_no = $2 AND outcome = 'in_progress'
             RETURNING id, run_dir, started_at",
        )
        .bind(&done.candidate_id)
        .bind(i64::from(done.attempt_no))
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_none() {
            // Closed already: this node lost its claim (cut off from the
            // store longer than a lease) and another node closed the attempt
            // as interrupted and ended its call. Its record stands; a second
            // one for the same attempt would count it twice.
            let closed: Option<String> = sqlx::query_scalar(
                "SELECT outcome FROM interviews WHERE candidate_id = $1 AND attempt_no = $2",
            )
            .bind(&done.candidate_id)
            .bind(i64::from(done.attempt_no))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(outcome) = closed {
                tx.rollback().await?;
                tracing::warn!(candidate = %done.candidate_id, attempt = done.attempt_no, recorded = %outcome, late = done.outcome.kind(), "another node closed this attempt while this node ran it (its claim lapsed); the late result is not recorded");
                return Ok(());
            }
        }
        let (interview_id, run_dir, started): (String, String, String) = match &open {
            Some(r) => (r.get("id"), r.get("run_dir"), r.get("started_at")),
            None => {
                let call_ms = record.map_or(0, |r| r.duration_ms.min(i64::MAX as u64) as i64);
                (
                    new_id("itv"),
                    record
                        .map(|r| r.run_dir.display().to_string())
                        .unwrap_or_default(),
                    timestamp(Utc::now() - TimeDelta::milliseconds(call_ms)),
                )
            }
        };
        sqlx::query(
            "INSERT INTO interviews (id, candidate_id, attempt_no, call_id, outcome, attempt, status, score,
                recommendation, report_json, run_dir, started_at, ended_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&interview_id)
        .bind(&done.candidate_id)
        .bind(i64::from(done.attempt_no))
        .bind(record.map(|r| r.call_id.clone()))
        .bind(done.outcome.kind())
        .bind(serde_json::to_string(&done.outcome)?)
        .bind(report.as_ref().and_then(|r| r["status"].as_str().map(str::to_owned)))
        .bind(report.as_ref().and_then(|r| r["score"].as_f64()))
        .bind(report.as_ref().and_then(|r| r["recommendation"].as_str().map(str::to_owned)))
        .bind(report.as_ref().map(|r| {
            crate::store::seal_text(&self.keys, &crate::store::label(&interview_id, "report"), &r.to_string())
        }))
        .bind(&run_dir)
        .bind(&started)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        claims::release(&mut tx, &self.node, &done.candidate_id).await?;
        let cause = format!("attempt {}: {}", done.attempt_no, done.outcome.kind());
        set_status(
            &mut tx,
            &self.audit,
            &done.candidate_id,
            status,
            &cause,
            "engine",
        )
        .await?;
        enqueue_status(&mut tx, &self.keys, &done.candidate_id, status, &cause).await?;
        if let Some(report) = &report {
            webhooks::enqueue(
                &mut tx,
                &self.keys,
                "interview.completed",
                serde_json::json!({
                    "candidate_id": done.candidate_id,
                    "interview_id": interview_id,
                    "attempt_no": done.attempt_no,
                    "outcome": done.outcome.kind(),
                    "report": report,
                }),
            )
            .await?;
        }
        if status == "opted_out" {
            webhooks::enqueue(
                &mut tx,
                &self.keys,
                "candidate.opted_out",
                serde_json::json!({"candidate_id": done.candidate_id}),
            )
            .await?;
        }
        tx.commit().await?;
        self.wake.notify_one();
        Ok(())
    }
}

pub(crate) async fn enqueue_status(
    tx: &mut sqlx::AnyConnection,
    keys: &voxhire_vault::Keyring,
    candidate_id: &str,
    status: &str,
    cause: &str,
) -> Result<()> {
    let external: Option<String> =
        sqlx::query_scalar("SELECT external_id FROM candidates WHERE id = $1")
            .bind(candidate_id)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
    webhooks::enqueue(
        tx,
        keys,
        "candidate.status_changed",
        serde_json::json!({
            "candidate_id": candidate_id,
            "external_id": external,
            "status": status,
            "cause": cause,
        }),
    )
    .await?;
    Ok(())
}

/// Loads the interview stack for a job's script (cached per job).
pub(crate) async fn load_stack(
    script: Arc<InterviewScript>,
    lang: Lang,
    max_calls: usize,
    tuning: voxhire_engine::interview::Tuning,
) -> Result<Arc<InterviewStack>> {
    let stack = tokio::task::spawn_blocking(move || {
        InterviewStack::load(&[(script, lang)], max_calls, &tuning)
    })
    .await??;
    Ok(Arc::new(stack))
}
