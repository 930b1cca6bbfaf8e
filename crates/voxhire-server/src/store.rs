//! The back office's store: by default one SQLite file in the data
//! directory; with `--database postgres://…`, a PostgreSQL database that
//! several nodes share. The same queries run on both (sqlx's `Any` driver,
//! `$1`-style parameters, which SQLite reads as well); each backend has its
//! own migrations, embedded and applied at open. Every change that the ATS
//! must hear about writes its outbox rows in the same transaction
//! ([`crate::webhooks::enqueue`]).

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Executor, Row};
use voxhire_vault::Keyring;

/// The store's file inside `--data`.
pub const STORE_FILE: &str = "voxhire.sqlite";

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file in the data directory: one node.
    Sqlite,
    /// A server that several nodes share.
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
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
    /// Opens the store and applies the migrations this version has and the
    /// database does not: `database` is a `postgres://` URL, or `None` for
    /// the SQLite file under `data_dir` (created if needed).
    pub async fn open(data_dir: &Path, database: Option<&str>) -> Result<Store> {
        sqlx::any::install_default_drivers();
        match database {
            None => Self::open_sqlite(data_dir).await,
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::open_postgres(url).await
            }
            Some(url) => anyhow::bail!(
                "--database {:?}: expected a postgres:// URL (leave it out for the SQLite file in the data directory)",
                redact(url)
            ),
        }
    }

    async fn open_sqlite(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let path = data_dir.join(STORE_FILE);
        // sqlx's SQLite connections enforce foreign keys and wait 5 s on a
        // busy file by default; `mode=rwc` creates the file.
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Deleted and overwritten content is zeroed, not left in
                    // free pages: an erased candidate is gone from the file.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON")
                        .await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("opening the store {}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .with_context(|| format!("migrating the store {}", path.display()))?;
        Ok(Store {
            pool,
            backend: Backend::Sqlite,
        })
    }

    async fn open_postgres(url: &str) -> Result<Store> {
        let shown = redact(url);
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .with_context(|| format!("connecting to the store {shown}"))?;
        sqlx::migrate!("./migrations-postgres")
            .run(&pool)
            .await
            .with_context(|| format!("migrating the store {shown}"))?;
        Ok(Store {
            pool,
            backend: Backend::Postgres,
        })
    }

    /// A transaction that writes from its first statement on, so that two
    /// of them never interleave a read and a write of the same rows
    /// (SQLite: `BEGIN IMMEDIATE`; PostgreSQL takes row locks as it writes).
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

/// Which backend a connection (or transaction) talks to.
pub fn backend_of(conn: &AnyConnection) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// A database URL with its password blanked, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// A column that holds bytes: sealed personal data, or (in a SQLite store
/// from before sealing) the same column as plain text.
pub fn bytes_of(r: &AnyRow, column: &str) -> Option<Vec<u8>> {
    match r.try_get::<Option<Vec<u8>>, _>(column) {
        Ok(b) => b,
        Err(_) => r
            .try_get::<Option<String>, _>(column)
            .ok()
            .flatten()
            .map(String::into_bytes),
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
    pub(crate) fn from_row(r: &AnyRow) -> Job {
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
    /// The node that holds them for a call now (`--node`), when nodes share
    /// a store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl Candidate {
    pub(crate) fn from_row(r: &AnyRow, keys: &Keyring) -> Result<Candidate> {
        let id: String = r.get("id");
        Ok(Candidate {
            name: open_text(keys, &label(&id, "name"), bytes_of(r, "name"))?.unwrap_or_default(),
            phone: open_text(keys, &label(&id, "phone"), bytes_of(r, "phone"))?.unwrap_or_default(),
            screening: open_text(keys, &label(&id, "screening"), bytes_of(r, "screening"))?
                .and_then(|t| serde_json::from_str(&t).ok()),
            job_id: r.get("job_id"),
            external_id: r.get("external_id"),
            language: r.get("language"),
            timezone: r.get("timezone"),
            status: r.get("status"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
            node: r.try_get("claimed_by").ok().flatten(),
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
    tx: &mut AnyConnection,
    audit: &crate::audit::Auditor,
    candidate_id: &str,
    status: &str,
    cause: &str,
    actor: &str,
) -> Result<()> {
    let now = timestamp(Utc::now());
    sqlx::query("UPDATE candidates SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(&now)
        .bind(candidate_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO candidate_events (candidate_id, at, status, cause, actor) VALUES ($1, $2, $3, $4, $5)",
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
        sqlx::query_scalar("SELECT run_dir FROM interviews WHERE id = $1")
            .bind(id)
            .fetch_optional(&store.pool)
            .await?,
    )
}
