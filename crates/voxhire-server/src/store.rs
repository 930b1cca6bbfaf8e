//! The back office's store: one SQLite file in the data directory (sqlx, so
//! the same queries can later run on PostgreSQL), migrations embedded and
//! applied at open. Every change that the ATS must hear about writes its
//! outbox rows in the same transaction ([`crate::webhooks::enqueue`]).

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use voxhire_vault::Keyring;

/// The store's file inside `--data`.
pub const STORE_FILE: &str = "voxhire.sqlite";

#[derive(Clone)]
pub struct Store {
    pub pool: SqlitePool,
}

/// A time as stored: RFC 3339, UTC, milliseconds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A fresh id: `prefix_` and 16 hex digits of randomness.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{:016x}", rand::random::<u64>())
}

impl Store {
    /// Opens (creating if needed) the store under `data_dir` and applies the
    /// migrations this version has and the file does not.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let path = data_dir.join(STORE_FILE);
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5))
            // Deleted and overwritten content is zeroed, not left in free
            // pages: an erased candidate is gone from the file.
            .pragma("secure_delete", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the store {}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .with_context(|| format!("migrating the store {}", path.display()))?;
        Ok(Store { pool })
    }
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: String,
    pub title: String,
    pub language: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::screening::Requirements>)]
    pub requirements: Option<serde_json::Value>,
    /// Calling window, retries, ring timeout, pacing ([`crate::settings`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::settings::CampaignSettings>)]
    pub campaign: Option<serde_json::Value>,
    /// How long recordings and reports are kept ([`crate::retention`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::retention::Retention>)]
    pub retention: Option<serde_json::Value>,
    #[serde(skip)]
    #[schema(ignore)]
    pub script_toml: String,
}

impl Job {
    pub(crate) fn from_row(r: &sqlx::sqlite::SqliteRow) -> Job {
        Job {
            id: r.get("id"),
            title: r.get("title"),
            language: r.get("language"),
            created_at: r.get("created_at"),
            requirements: r
                .get::<Option<String>, _>("requirements")
                .and_then(|t| serde_json::from_str(&t).ok()),
            campaign: r
                .get::<Option<String>, _>("campaign")
                .and_then(|t| serde_json::from_str(&t).ok()),
            retention: r
                .get::<Option<String>, _>("retention")
                .and_then(|t| serde_json::from_str(&t).ok()),
            script_toml: r.get("script_toml"),
        }
    }
}

/// A candidate as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub id: String,
    pub job_id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub phone: String,
    pub language: String,
    pub timezone: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::screening::Screening>)]
    pub screening: Option<serde_json::Value>,
}

impl Candidate {
    pub(crate) fn from_row(r: &sqlx::sqlite::SqliteRow, keys: &Keyring) -> Result<Candidate> {
        let id: String = r.get("id");
        Ok(Candidate {
            name: open_text(keys, &label(&id, "name"), r.get("name"))?.unwrap_or_default(),
            phone: open_text(keys, &label(&id, "phone"), r.get("phone"))?.unwrap_or_default(),
            screening: open_text(keys, &label(&id, "screening"), r.get("screening"))?
                .and_then(|t| serde_json::from_str(&t).ok()),
            job_id: r.get("job_id"),
            external_id: r.get("external_id"),
            language: r.get("language"),
            timezone: r.get("timezone"),
            status: r.get("status"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
            id,
        })
    }
}

/// The label a row's sealed column is bound to: `cand_…:name`.
pub fn label(row_id: &str, column: &str) -> String {
    format!("{row_id}:{column}")
}

/// Personal data as the store keeps it: sealed under the master key, bound
/// to its row and column (so it cannot be moved to another row).
pub fn seal_text(keys: &Keyring, label: &str, text: &str) -> Vec<u8> {
    voxhire_vault::seal(keys, label, text.as_bytes())
}

/// Reads a sealed column; a value from before sealing is read as it is.
pub fn open_text(keys: &Keyring, label: &str, raw: Option<Vec<u8>>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let bytes = if voxhire_vault::is_sealed(&raw) {
        voxhire_vault::open(keys, label, &raw)
            .with_context(|| format!("opening {label}"))?
            .to_vec()
    } else {
        raw
    };
    Ok(Some(
        String::from_utf8(bytes).with_context(|| format!("{label} is not UTF-8"))?,
    ))
}

/// One entry of a candidate's status history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CandidateEvent {
    pub seq: i64,
    pub at: String,
    pub status: String,
    pub cause: String,
    pub actor: String,
}

/// Moves a candidate to `status`, recording when, why and who, inside `tx`.
pub async fn set_status(
    tx: &mut sqlx::SqliteConnection,
    audit: &crate::audit::Auditor,
    candidate_id: &str,
    status: &str,
    cause: &str,
    actor: &str,
) -> Result<()> {
    let now = timestamp(Utc::now());
    sqlx::query("UPDATE candidates SET status = ?1, updated_at = ?2 WHERE id = ?3")
        .bind(status)
        .bind(&now)
        .bind(candidate_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO candidate_events (candidate_id, at, status, cause, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(candidate_id)
    .bind(&now)
    .bind(status)
    .bind(cause)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    audit
        .append(
            tx,
            crate::audit::Event {
                actor,
                action: "candidate.status",
                object: candidate_id,
                detail: serde_json::json!({ "status": status }),
            },
        )
        .await
}

/// Where an interview's files are, if there is such an interview.
pub async fn interview_run_dir(store: &Store, id: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT run_dir FROM interviews WHERE id = ?1")
            .bind(id)
            .fetch_optional(&store.pool)
            .await?,
    )
}
