//! Several nodes, one store: who dials whom, and who cleans up after a node
//! that died.
//!
//! Every node runs every running campaign over the same candidates. Before a
//! node dials, it claims the candidate's next attempt in the store, in the
//! transaction that puts the attempt on record ([`claim`]): one conditional
//! `UPDATE` of the candidate's row, which succeeds only if the attempt number
//! is the next one, the candidate may be dialled and nobody else holds them.
//! The row lock that `UPDATE` takes (PostgreSQL re-checks the condition once
//! it has the lock; SQLite writes one at a time) means two nodes can never
//! both win. A claim lasts [`LEASE`]; the node renews its claims every
//! [`BEAT`] while its calls go on, and gives each back when the attempt ends.
//!
//! A node that dies stops renewing. Once its claims have lapsed, another
//! node's beat ([`reap`]) closes its attempts as interrupted, repairs their
//! partial files, and ends their calls with BYE from the dialogs they kept;
//! the candidates are then diallable again and the campaign's retry rules
//! decide. A node that restarts does the same for its own claims at once.
//!
//! The beat also makes every node follow the campaigns' stored states
//! ([`follow_campaigns`]): a campaign started, paused, resumed or cancelled
//! through one node's API is, within a beat, on every node.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{AnyConnection, Row};
use tokio::sync::watch;
use voxhire_campaign::{AttemptOutcome, Dial, Elsewhere};
use voxhire_engine::campaign_run::Control;
use voxhire_engine::orphans::{self, end_orphans};
use voxhire_sip::dialog::DialogState;

use crate::campaigns::{attempt_records, dialog_label, enqueue_status, launch, DIALLABLE};
use crate::store::{set_status, timestamp, Job, Store};
use crate::{AppState, Running};

/// How long a claim lasts unless its node renews it: how soon after a node
/// dies its calls are ended and its candidates redialled.
pub const LEASE: TimeDelta = TimeDelta::seconds(15);

/// How often a node renews its claims, closes lapsed ones and follows the
/// campaigns' stored states.
pub const BEAT: Duration = Duration::from_secs(3);

/// A node's name in the store: `--node`, or the one kept in the data
/// directory's `node-id` file (made on first start).
pub fn node_id(data_dir: &std::path::Path, given: Option<&str>) -> Result<String> {
    if let Some(name) = given {
        anyhow::ensure!(
            !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_graphic()),
            "--node {name:?}: 1 to 64 printable ASCII characters, no spaces"
        );
        return Ok(name.to_owned());
    }
    let path = data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        Ok(_) => anyhow::bail!(
            "{} is empty: delete it to get a new node id",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let id = crate::store::new_id("node");
            voxhire_campaign::write_atomic(&path, format!("{id}\n").as_bytes())?;
            Ok(id)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// `status IN (…)` over the statuses a campaign dials.
fn diallable_sql() -> String {
    let list: Vec<String> = DIALLABLE.iter().map(|s| format!("'{s}'")).collect();
    format!("status IN ({})", list.join(", "))
}

/// Claims `dial`'s attempt for `node`, inside the transaction that records
/// the attempt. False: another node holds the candidate, or has made that
/// attempt, or they are no longer diallable, or the store knows of ended
/// attempts the dialling scheduler does not (so it catches up first, and its
/// retry rules see every attempt).
pub async fn claim(tx: &mut AnyConnection, node: &str, dial: &Dial) -> Result<bool> {
    let now = Utc::now();
    let sql = format!(
        "UPDATE candidates SET attempts = $1, claimed_by = $2, claim_until = $3
         WHERE id = $4 AND attempts = $5 AND {}
           AND (claimed_by IS NULL OR claim_until < $6)
           AND (SELECT COUNT(*) FROM interviews
                WHERE candidate_id = $4 AND outcome != 'in_progress') = $7",
        diallable_sql()
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(dial.attempt_no))
        .bind(node)
        .bind(timestamp(now + LEASE))
        .bind(&dial.candidate.id)
        .bind(i64::from(dial.attempt_no) - 1)
        .bind(timestamp(now))
        .bind(i64::from(dial.known_attempts))
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives `node`'s claim on `candidate` back (the attempt has ended).
pub async fn release(tx: &mut AnyConnection, node: &str, candidate: &str) -> Result<()> {
    sqlx::query(
        "UPDATE candidates SET claimed_by = NULL, claim_until = NULL WHERE id = $1 AND claimed_by = $2",
    )
    .bind(candidate)
    .bind(node)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The store's view of a candidate whose claim was refused.
pub async fn elsewhere(store: &Store, candidate: &str) -> Result<Elsewhere> {
    let row = sqlx::query(
        "SELECT status, attempts, claimed_by, claim_until FROM candidates WHERE id = $1",
    )
    .bind(candidate)
    .fetch_optional(&store.pool)
    .await?;
    let Some(row) = row else {
        // Gone from the store (erased and removed): nobody calls them.
        return Ok(Elsewhere {
            closed: true,
            ..Elsewhere::default()
        });
    };
    let status: String = row.get("status");
    let held = row
        .get::<Option<String>, _>("claimed_by")
        .and(row.get::<Option<String>, _>("claim_until"))
        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
        .filter(|&until| until >= Utc::now());
    let calling = status == "calling";
    Ok(Elsewhere {
        attempts: attempt_records(&store.pool, None, Some(candidate)).await?,
        attempts_made: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(0),
        // A call whose node died is still `calling` until its claim lapses
        // and a beat closes it: look again then.
        busy_until: held.or(calling.then(|| Utc::now() + LEASE)),
        closed: !calling && !DIALLABLE.contains(&status.as_str()),
    })
}

/// Extends every claim `node` holds by a [`LEASE`] from now.
pub async fn renew(store: &Store, node: &str) -> Result<u64> {
    let done = sqlx::query("UPDATE candidates SET claim_until = $1 WHERE claimed_by = $2")
        .bind(timestamp(Utc::now() + LEASE))
        .bind(node)
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected())
}

/// Closes the attempts left in progress by a node whose claims have lapsed
/// (or by this node's previous life, with `mine_too`): each attempt becomes
/// `failed: interrupted`, its partial recording and event log are repaired
/// and kept, and its candidate moves from `calling` to `interrupted`, which
/// the campaign's retry rules treat like any failed attempt. Returns the
/// dialogs of the calls that were answered, for [`end_orphans`]. Two nodes
/// reaping at once never close one attempt twice.
pub async fn reap(st: &AppState, mine_too: bool) -> Result<Vec<DialogState>> {
    let now = timestamp(Utc::now());
    let mine = if mine_too { st.node.as_ref() } else { "" };
    let open = sqlx::query(
        "SELECT i.id, i.candidate_id, i.attempt_no, i.run_dir, i.dialog
         FROM interviews i JOIN candidates c ON c.id = i.candidate_id
         WHERE i.outcome = 'in_progress'
           AND (c.claimed_by IS NULL OR c.claim_until < $1 OR c.claimed_by = $2)",
    )
    .bind(&now)
    .bind(mine)
    .fetch_all(&st.store.pool)
    .await?;
    let outcome = AttemptOutcome::interrupted();
    let mut dialogs = Vec::new();
    let mut closed_any = false;
    for r in &open {
        let (id, candidate, attempt_no, run_dir): (String, String, i64, String) = (
            r.get("id"),
            r.get("candidate_id"),
            r.get("attempt_no"),
            r.get("run_dir"),
        );
        let mut tx = st.store.pool.begin().await?;
        let freed = sqlx::query(
            "UPDATE candidates SET claimed_by = NULL, claim_until = NULL
             WHERE id = $1 AND (claimed_by IS NULL OR claim_until < $2 OR claimed_by = $3)",
        )
        .bind(&candidate)
        .bind(&now)
        .bind(mine)
        .execute(&mut *tx)
        .await?;
        let closed = sqlx::query(
            "UPDATE interviews SET outcome = $1, attempt = $2, ended_at = $3, dialog = NULL
             WHERE id = $4 AND outcome = 'in_progress'",
        )
        .bind(outcome.kind())
        .bind(serde_json::to_string(&outcome)?)
        .bind(&now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        if freed.rows_affected() != 1 || closed.rows_affected() != 1 {
            // Renewed meanwhile, or closed by another node's beat.
            tx.rollback().await?;
            continue;
        }
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM candidates WHERE id = $1")
                .bind(&candidate)
                .fetch_optional(&mut *tx)
                .await?;
        if status.as_deref() == Some("calling") {
            let cause = format!("attempt {attempt_no} interrupted: its node stopped mid-call");
            set_status(
                &mut tx,
                &st.audit,
                &candidate,
                "interrupted",
                &cause,
                "engine",
            )
            .await?;
            enqueue_status(&mut tx, &st.keys, &candidate, "interrupted", &cause).await?;
        }
        tx.commit().await?;
        closed_any = true;
        tracing::warn!(interview = %id, candidate = %candidate, attempt_no, "closed an attempt its node left in progress");
        if let Some(bytes) = crate::store::bytes_of(r, "dialog") {
            match orphans::open_state(Some(&st.keys), &dialog_label(&id), &bytes) {
                Ok(state) => dialogs.push(state),
                Err(e) => {
                    tracing::error!(interview = %id, error = %format!("{e:#}"), "cannot read the kept dialog; the call is left to time out")
                }
            }
        }
        // The files are where the dead node wrote them: on its disk, or on
        // storage the nodes share.
        let keys = st.keys.clone();
        let dir = PathBuf::from(&run_dir);
        let repaired = tokio::task::spawn_blocking(move || {
            voxhire_engine::archive::repair_partials(&dir, Some(&keys))
        })
        .await?;
        match repaired {
            Ok(files) => {
                tracing::info!(interview = %id, ?files, "repaired the attempt's partial files")
            }
            Err(e) => {
                tracing::warn!(interview = %id, run_dir, error = %format!("{e:#}"), "cannot repair the attempt's files (not on this node's disk?)")
            }
        }
    }
    if closed_any {
        // Their status changes queued webhooks.
        st.wake.notify_one();
    }
    Ok(dialogs)
}

/// Makes this node's campaigns match the stored states (another node's API
/// may have changed them, or this node was restarted): a running campaign
/// this node is not running starts here, logged as `started`; a paused,
/// resumed or cancelled one is told so.
pub async fn follow_campaigns(st: &AppState, started: &str) -> Result<()> {
    let stored: Vec<(String, String)> =
        sqlx::query("SELECT job_id, state FROM campaigns ORDER BY job_id")
            .fetch_all(&st.store.pool)
            .await?
            .iter()
            .map(|r| (r.get("job_id"), r.get("state")))
            .collect();
    let mut registry = st.campaigns.lock().await;
    for (job_id, state) in stored {
        let control = registry
            .get(&job_id)
            .filter(|r| r.is_live())
            .map(Running::asked);
        let want = match state.as_str() {
            "running" => Control::Run,
            "paused" => Control::Pause,
            "cancelled" => Control::Stop,
            _ => continue,
        };
        match control {
            None if want == Control::Run && !registry.contains_key(&job_id) => {
                let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
                    .bind(&job_id)
                    .fetch_one(&st.store.pool)
                    .await?;
                let count = launch(st, &mut registry, Job::from_row(&row)).await?;
                tracing::info!(job = %job_id, candidates = count, "{started}");
            }
            Some(now) if now != want && now != Control::Stop => {
                if let Some(r) = registry.get(&job_id) {
                    let _ = r.control.send(want);
                    tracing::info!(job = %job_id, ?want, "following the campaign's stored state");
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The node's beat, every [`BEAT`] until `stop`: renew this node's claims,
/// close what dead nodes left, follow the campaigns.
pub async fn beat(st: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(BEAT) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = renew(&st.store, &st.node).await {
            tracing::error!(error = %format!("{e:#}"), "cannot renew this node's claims");
        }
        match reap(&st, false).await {
            Ok(dialogs) => {
                for (call_id, how) in end_orphans(&st.engine.outbound, dialogs).await {
                    tracing::warn!(call_id = %voxhire_engine::redact::Redacted(&call_id), ?how, "ended a call a dead node left up");
                }
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "cannot close what dead nodes left")
            }
        }
        if let Err(e) = follow_campaigns(&st, "joined the campaign another node started").await {
            tracing::error!(error = %format!("{e:#}"), "cannot follow the campaigns' stored states");
        }
    }
}
