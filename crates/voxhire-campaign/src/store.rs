//! The campaign's memory: a SQLite database (default
//! `runs/<name>/campaign.sqlite`) of every call attempt and every opt-out.
//!
//! The rule that keeps a candidate from being called twice by accident: an
//! attempt is written *before* its INVITE leaves, and committed with
//! `synchronous = FULL`. If the process dies mid-call, the next run finds an
//! attempt with no end, treats it as `Failed { reason: "interrupted" }`, and
//! retries it only while retries remain.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::CampaignError;
use crate::outcome::{AttemptOutcome, AttemptRecord};

/// Schema steps; `PRAGMA user_version` says how many have been applied.
const MIGRATIONS: &[&str] = &[
    // 1: campaigns, attempts, do-not-call.
    "CREATE TABLE campaigns (
         name        TEXT PRIMARY KEY,
         created_at  TEXT NOT NULL
     );
     CREATE TABLE attempts (
         campaign     TEXT NOT NULL REFERENCES campaigns(name),
         candidate_id TEXT NOT NULL,
         attempt_no   INTEGER NOT NULL CHECK (attempt_no >= 1),
         started_at   TEXT NOT NULL,
         ended_at     TEXT,
         outcome      TEXT,            -- AttemptOutcome::kind()
         detail       TEXT,            -- the whole AttemptOutcome as JSON
         score        REAL,
         report_path  TEXT,
         PRIMARY KEY (campaign, candidate_id, attempt_no)
     );
     CREATE TABLE do_not_call (
         entry        TEXT PRIMARY KEY,  -- as given: a number or SIP URI
         added_at     TEXT NOT NULL
     );",
    // 2: the dialog of an answered call while it is up (Call-ID, tags, route,
    // CSeq; sealed when the run seals its files), so the next run can end a
    // call this one left up when it died.
    "ALTER TABLE attempts ADD COLUMN dialog BLOB;",
];

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Held open with an exclusive lock for the store's lifetime: two
    /// dialers on one campaign would each see the other's candidates as
    /// not yet called, and call them twice.
    _lock: File,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database and its directory, turns on
    /// WAL and full fsync, and brings the schema up to date. Only one `Store`
    /// may have a campaign database open at a time (an exclusive lock on
    /// `<path>.lock`, released when the process exits, even by a crash): a
    /// second `voxhire campaign run` of the same campaign fails here instead
    /// of dialling the same people.
    pub fn open(path: &Path) -> Result<Store, CampaignError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CampaignError::io(dir, e))?;
        }
        let lock_path = PathBuf::from(format!("{}.lock", path.display()));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| CampaignError::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(CampaignError::StoreContents {
                    path: path.to_owned(),
                    message: format!(
                    "in use by another voxhire process (lock {}); one run per campaign at a time",
                    lock_path.display()
                ),
                })
            }
            Err(TryLockError::Error(e)) => return Err(CampaignError::io(&lock_path, e)),
        }
        let conn = Connection::open(path).map_err(|source| CampaignError::Store {
            path: path.to_owned(),
            source,
        })?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            _lock: lock,
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> CampaignError + '_ {
        move |source| CampaignError::Store {
            path: self.path.clone(),
            source,
        }
    }

    fn contents(&self, message: String) -> CampaignError {
        CampaignError::StoreContents {
            path: self.path.clone(),
            message,
        }
    }

    fn configure(&self) -> Result<(), CampaignError> {
        // WAL: readers (a progress view, the REST API) never block the dialer.
        // FULL: a committed attempt start survives power loss, not only a crash.
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;",
            )
            .map_err(self.err())?;
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(self.err())
    }

    fn migrate(&mut self) -> Result<(), CampaignError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.err())?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(self.contents(format!(
                "schema version {version} is newer than this voxhire understands ({known}); upgrade voxhire"
            )));
        }
        let path = self.path.clone();
        let err = |source| CampaignError::Store {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Registers the campaign (idempotent).
    pub fn ensure_campaign(&self, name: &str, now: DateTime<Utc>) -> Result<(), CampaignError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO campaigns (name, created_at) VALUES (?1, ?2)",
                params![name, now],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Records that attempt `attempt_no` is about to be dialled. Call before
    /// sending the INVITE; fails if that attempt number was already used, so
    /// a bug can never silently re-dial under an old attempt.
    pub fn record_attempt_start(
        &self,
        campaign: &str,
        candidate_id: &str,
        attempt_no: u32,
        started_at: DateTime<Utc>,
    ) -> Result<(), CampaignError> {
        self.ensure_campaign(campaign, started_at)?;
        self.conn
            .execute(
                "INSERT INTO attempts (campaign, candidate_id, attempt_no, started_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![campaign, candidate_id, attempt_no, started_at],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Records how an attempt ended. Fails if it was never started or has
    /// already ended.
    pub fn record_attempt_end(
        &self,
        campaign: &str,
        candidate_id: &str,
        attempt_no: u32,
        ended_at: DateTime<Utc>,
        outcome: &AttemptOutcome,
        report_path: Option<&Path>,
    ) -> Result<(), CampaignError> {
        let detail = serde_json::to_string(outcome)?;
        let changed = self
            .conn
            .execute(
                "UPDATE attempts SET ended_at = ?4, outcome = ?5, detail = ?6, score = ?7, report_path = ?8,
                     dialog = NULL
                 WHERE campaign = ?1 AND candidate_id = ?2 AND attempt_no = ?3 AND ended_at IS NULL",
                params![
                    campaign,
                    candidate_id,
                    attempt_no,
                    ended_at,
                    outcome.kind(),
                    detail,
                    outcome.score(),
                    report_path.map(|p| p.to_string_lossy().into_owned()),
                ],
            )
            .map_err(self.err())?;
        if changed != 1 {
            return Err(self.contents(format!(
                "campaign {campaign:?}: attempt {attempt_no} of {candidate_id:?} was never started or has already ended"
            )));
        }
        Ok(())
    }

    /// Where an attempt's dialog is written from the call's own task (the
    /// store's connection stays with the campaign).
    pub fn dialog_writer(
        &self,
        campaign: &str,
        candidate_id: &str,
        attempt_no: u32,
    ) -> DialogWriter {
        DialogWriter {
            path: self.path.clone(),
            campaign: campaign.to_owned(),
            candidate_id: candidate_id.to_owned(),
            attempt_no,
        }
    }

    /// The dialog kept for an attempt that has not ended, if its call was answered.
    pub fn dialog(
        &self,
        campaign: &str,
        candidate_id: &str,
        attempt_no: u32,
    ) -> Result<Option<Vec<u8>>, CampaignError> {
        self.conn
            .query_row(
                "SELECT dialog FROM attempts
                 WHERE campaign = ?1 AND candidate_id = ?2 AND attempt_no = ?3 AND ended_at IS NULL",
                params![campaign, candidate_id, attempt_no],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(self.err())
    }

    /// Every attempt of `campaign`, oldest first.
    pub fn attempts(&self, campaign: &str) -> Result<Vec<AttemptRecord>, CampaignError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT candidate_id, attempt_no, started_at, ended_at, detail, report_path
                 FROM attempts WHERE campaign = ?1 ORDER BY started_at, attempt_no",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![campaign], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, DateTime<Utc>>(2)?,
                    r.get::<_, Option<DateTime<Utc>>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (candidate_id, attempt_no, started_at, ended_at, detail, report_path) =
                row.map_err(self.err())?;
            let outcome = detail
                .map(|d| {
                    serde_json::from_str::<AttemptOutcome>(&d).map_err(|e| {
                        self.contents(format!(
                            "attempt {attempt_no} of {candidate_id:?} has an unreadable outcome: {e}"
                        ))
                    })
                })
                .transpose()?;
            out.push(AttemptRecord {
                candidate_id,
                attempt_no,
                started_at,
                ended_at,
                outcome,
                report_path: report_path.map(PathBuf::from),
            });
        }
        Ok(out)
    }

    /// Adds an opt-out (idempotent), so it is in the database as well as the
    /// do-not-call file.
    pub fn add_do_not_call(&self, entry: &str, now: DateTime<Utc>) -> Result<(), CampaignError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO do_not_call (entry, added_at) VALUES (?1, ?2)",
                params![entry.trim(), now],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Every entry of the do-not-call table.
    pub fn do_not_call(&self) -> Result<Vec<String>, CampaignError> {
        let mut stmt = self
            .conn
            .prepare("SELECT entry FROM do_not_call ORDER BY added_at")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// The schema version (for tests and diagnostics).
    pub fn schema_version(&self) -> Result<i64, CampaignError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .optional()
            .map(|v| v.unwrap_or(0))
            .map_err(self.err())
    }
}

/// Writes one attempt's dialog (see [`Store::dialog_writer`]) on a
/// connection of its own.
#[derive(Debug, Clone)]
pub struct DialogWriter {
    path: PathBuf,
    campaign: String,
    candidate_id: String,
    attempt_no: u32,
}

impl DialogWriter {
    /// Keeps `dialog` on the attempt, durably (`synchronous = FULL`), if it
    /// has not ended.
    pub fn keep(&self, dialog: &[u8]) -> Result<(), CampaignError> {
        let err = |source| CampaignError::Store {
            path: self.path.clone(),
            source,
        };
        let conn = Connection::open(&self.path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch("PRAGMA synchronous = FULL;")
            .map_err(err)?;
        conn.execute(
            "UPDATE attempts SET dialog = ?4
             WHERE campaign = ?1 AND candidate_id = ?2 AND attempt_no = ?3 AND ended_at IS NULL",
            params![self.campaign, self.candidate_id, self.attempt_no, dialog],
        )
        .map(|_| ())
        .map_err(err)
    }
}
