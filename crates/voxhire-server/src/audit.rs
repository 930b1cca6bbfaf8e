//! The audit trail: every sign-in, read of a candidate's data, status
//! change, override, export, key rotation and erasure, appended to
//! `audit_log` as a hash chain.
//!
//! Each entry's `hash` is SHA-256 over its fields and the previous entry's
//! hash, and its `mac` is HMAC-SHA256 of that hash under a key sealed by the
//! master key (in `sealed_secrets`). Editing, deleting or reordering an entry
//! breaks the chain at that entry; rewriting the chain from there on needs
//! the MAC key, which someone with only the disk does not have. Triggers
//! refuse UPDATE and DELETE. Entries hold ids and codes, never a name, a
//! number or words someone said, so erasing a candidate leaves the chain
//! whole.

use anyhow::{Context, Result};
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use voxhire_vault::Keyring;
use zeroize::Zeroizing;

use crate::store::{timestamp, Store};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const MAC_KEY_NAME: &str = "audit_mac_key";

/// Appends entries; holds the MAC key.
pub struct Auditor {
    mac_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auditor")
    }
}

/// The MAC key, made and sealed on first use.
pub async fn mac_key(store: &Store, keys: &Keyring) -> Result<Zeroizing<[u8; 32]>> {
    let sealed: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed FROM sealed_secrets WHERE name = $1")
            .bind(MAC_KEY_NAME)
            .fetch_optional(&store.pool)
            .await?;
    let sealed = match sealed {
        Some(s) => s,
        None => {
            let fresh = voxhire_vault::seal(keys, MAC_KEY_NAME, &rand::random::<[u8; 32]>());
            sqlx::query("INSERT INTO sealed_secrets (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(MAC_KEY_NAME)
                .bind(&fresh)
                .execute(&store.pool)
                .await?;
            sqlx::query_scalar("SELECT sealed FROM sealed_secrets WHERE name = $1")
                .bind(MAC_KEY_NAME)
                .fetch_one(&store.pool)
                .await?
        }
    };
    let key = voxhire_vault::open(keys, MAC_KEY_NAME, &sealed).context(
        "opening the audit log's MAC key (is this the master key file the store was made with?)",
    )?;
    let mut out = Zeroizing::new([0u8; 32]);
    anyhow::ensure!(key.len() == 32, "the audit MAC key is not 32 bytes");
    out.copy_from_slice(&key);
    Ok(out)
}

/// What happened, to what, in a few ids.
pub struct Event<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub object: &'a str,
    pub detail: serde_json::Value,
}

/// An entry's stored fields, as its hash covers them (the detail as its
/// stored JSON text, the previous entry's hash).
struct Hashed<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    object: &'a str,
    detail: &'a str,
    prev: &'a str,
}

impl Hashed<'_> {
    fn hash(&self) -> String {
        let canonical = serde_json::to_string(&(
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.object,
            self.detail,
            self.prev,
        ))
        .expect("strings serialise");
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

fn mac_of(key: &[u8; 32], hash: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Auditor {
    pub async fn open(store: &Store, keys: &Keyring) -> Result<Auditor> {
        Ok(Auditor {
            mac_key: mac_key(store, keys).await?,
        })
    }

    /// Appends inside the caller's transaction. On SQLite it must already
    /// hold the write lock (it has written, or began IMMEDIATE); on
    /// PostgreSQL the append locks the log until the transaction ends. Either
    /// way no other append, from this node or another, reads the same last
    /// entry.
    pub async fn append(&self, conn: &mut AnyConnection, e: Event<'_>) -> Result<()> {
        if crate::store::backend_of(conn) == crate::store::Backend::Postgres {
            sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *conn)
                .await?;
        }
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
        let (seq, prev) = match last {
            Some(r) => (r.get::<i64, _>("seq") + 1, r.get::<String, _>("hash")),
            None => (1, GENESIS.to_owned()),
        };
        let at = timestamp(Utc::now());
        let detail = e.detail.to_string();
        let hash = Hashed {
            seq,
            at: &at,
            actor: e.actor,
            action: e.action,
            object: e.object,
            detail: &detail,
            prev: &prev,
        }
        .hash();
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, object, detail, prev_hash, hash, mac)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(&at)
        .bind(e.actor)
        .bind(e.action)
        .bind(e.object)
        .bind(&detail)
        .bind(&prev)
        .bind(&hash)
        .bind(mac_of(&self.mac_key, &hash))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Appends one entry in its own transaction.
    pub async fn record(&self, store: &Store, e: Event<'_>) -> Result<()> {
        let mut tx = store.begin_write().await?;
        self.append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An entry as the API and `voxhire audit` show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub hash: String,
}

/// Entries after `after`, oldest first, at most `limit`.
pub async fn entries(store: &Store, after: i64, limit: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, object, detail, hash FROM audit_log
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Entry {
            seq: r.get("seq"),
            at: r.get("at"),
            actor: r.get("actor"),
            action: r.get("action"),
            object: r.get("object"),
            detail: serde_json::from_str(&r.get::<String, _>("detail")).unwrap_or_default(),
            hash: r.get("hash"),
        })
        .collect())
}

/// What `voxhire audit verify` found.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Every entry follows from the one before and (with the key) is
    /// authentic.
    Intact { entries: i64, macs_checked: bool },
    /// The first entry that does not hold up, and why.
    Broken { seq: i64, why: String },
}

/// Walks the whole chain. Without the MAC key only the chain is checked.
pub async fn verify(store: &Store, mac_key: Option<&[u8; 32]>) -> Result<Verdict> {
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_owned();
    loop {
        // In pages, so a long trail is never held in memory at once.
        let page = sqlx::query(
            "SELECT seq, at, actor, action, object, detail, prev_hash, hash, mac FROM audit_log
             WHERE seq >= $1 ORDER BY seq LIMIT 2000",
        )
        .bind(expected_seq)
        .fetch_all(&store.pool)
        .await?;
        if page.is_empty() {
            break;
        }
        for r in &page {
            let seq: i64 = r.get("seq");
            if seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    why: format!("entry {expected_seq} is missing (the next one is {seq})"),
                });
            }
            let stored_prev: String = r.get("prev_hash");
            if stored_prev != prev {
                return Ok(Verdict::Broken {
                    seq,
                    why: format!("entry {seq} does not follow entry {}: entries were removed, reordered or replaced", seq - 1),
                });
            }
            let hash: String = r.get("hash");
            let stored = Hashed {
                seq,
                at: r.get("at"),
                actor: r.get("actor"),
                action: r.get("action"),
                object: r.get("object"),
                detail: r.get("detail"),
                prev: &prev,
            };
            if stored.hash() != hash {
                return Ok(Verdict::Broken {
                    seq,
                    why: format!("entry {seq} was altered: its fields do not give its hash"),
                });
            }
            if let Some(key) = mac_key {
                if mac_of(key, &hash) != r.get::<String, _>("mac") {
                    return Ok(Verdict::Broken {
                        seq,
                        why: format!("entry {seq} was not written by this server: its MAC does not verify (the chain was rewritten from here)"),
                    });
                }
            }
            prev = hash;
            expected_seq += 1;
        }
    }
    Ok(Verdict::Intact {
        entries: expected_seq - 1,
        macs_checked: mac_key.is_some(),
    })
}
