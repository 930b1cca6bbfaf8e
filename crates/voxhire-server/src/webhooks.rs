//! Webhooks to the ATS: subscriptions, a durable outbox written in the same
//! transaction as the change it reports, and a deliverer that posts each row
//! at least once, signed, with exponential backoff and a dead-letter state.
//!
//! Each delivery carries
//! - `Voxhire-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//!   — the receiver recomputes it and rejects a stale `t` (replays);
//! - `Voxhire-Delivery: <id>` — the idempotency id: a retried delivery has the
//!   same id, so the receiver can drop a duplicate;
//! - `Voxhire-Event: <type>`.

use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use sqlx::Row;
use tokio::sync::{watch, Notify};

use crate::store::{new_id, timestamp, Store};

/// Event types a subscription may ask for.
pub const EVENT_TYPES: &[&str] = &[
    "candidate.screened",
    "interview.completed",
    "candidate.status_changed",
    "candidate.opted_out",
];

/// Attempts before a delivery is dead-lettered.
pub const MAX_ATTEMPTS: i64 = 8;

/// How long one delivery may take before it counts as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Wait before retry `n` (1-based): 1 s, 2 s, 4 s, … capped at an hour.
pub fn backoff(attempts: i64) -> chrono::TimeDelta {
    let exp = (attempts - 1).clamp(0, 12) as u32;
    chrono::TimeDelta::seconds((1i64 << exp).min(3600))
}

/// The signature header's value for `body` sent at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A webhook subscription as the API shows it (the secret only at creation).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// One outbox row, as the API shows deliveries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_type: String,
    pub created_at: String,
    pub attempts: i64,
    /// `pending`, `delivered` or `dead`.
    pub state: &'static str,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

impl Delivery {
    pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> Delivery {
        let delivered_at: Option<String> = r.get("delivered_at");
        let dead_at: Option<String> = r.get("dead_at");
        let state = match (&delivered_at, &dead_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "dead",
            (None, None) => "pending",
        };
        Delivery {
            id: r.get("id"),
            event_type: r.get("event_type"),
            created_at: r.get("created_at"),
            attempts: r.get("attempts"),
            state,
            delivered_at,
            last_error: r.get("last_error"),
        }
    }
}

/// Queues `event_type` with `data` for every subscription that wants it,
/// inside the caller's transaction: the change and its notification commit
/// together or not at all.
pub async fn enqueue(
    tx: &mut sqlx::AnyConnection,
    keys: &voxhire_vault::Keyring,
    event_type: &str,
    data: serde_json::Value,
) -> Result<usize> {
    let subs = sqlx::query("SELECT id, events FROM webhooks WHERE disabled_at IS NULL")
        .fetch_all(&mut *tx)
        .await?;
    let now = Utc::now();
    let event_id = new_id("evt");
    let mut queued = 0;
    for sub in subs {
        let events: String = sub.get("events");
        let wanted: Vec<String> = serde_json::from_str(&events).unwrap_or_default();
        if !wanted.iter().any(|e| e == event_type || e == "*") {
            continue;
        }
        let id = new_id("dlv");
        let body = serde_json::json!({
            "id": event_id,
            "type": event_type,
            "created_at": timestamp(now),
            "data": data,
        });
        sqlx::query(
            "INSERT INTO outbox (id, webhook_id, event_type, payload, created_at, next_attempt_at, candidate_id)
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(&id)
        .bind(sub.get::<String, _>("id"))
        .bind(event_type)
        .bind(crate::store::seal_text(keys, &crate::store::label(&id, "payload"), &body.to_string()))
        .bind(timestamp(now))
        .bind(data.get("candidate_id").and_then(|c| c.as_str()))
        .execute(&mut *tx)
        .await?;
        queued += 1;
    }
    Ok(queued)
}

/// Posts due outbox rows until `stop` turns true; `wake` is notified when new
/// rows are committed, so a delivery leaves at once rather than at the next poll.
///
/// Each subscription has its own lane (a task delivering its due rows oldest
/// first): an ATS that hangs for the whole timeout delays only its own
/// deliveries, never another subscriber's.
pub async fn deliver(
    store: Store,
    keys: std::sync::Arc<voxhire_vault::Keyring>,
    wake: std::sync::Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .user_agent(concat!("voxhire/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client; no deliveries");
            return;
        }
    };
    let mut lanes: std::collections::HashMap<String, tokio::task::JoinHandle<()>> =
        Default::default();
    loop {
        lanes.retain(|_, lane| !lane.is_finished());
        match due_subscriptions(&store).await {
            Ok(due) => {
                for webhook in due {
                    if lanes.contains_key(&webhook) {
                        continue;
                    }
                    let lane = tokio::spawn(deliver_lane(
                        store.clone(),
                        keys.clone(),
                        client.clone(),
                        webhook.clone(),
                    ));
                    lanes.insert(webhook, lane);
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "webhook delivery pass failed"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => break,
        }
    }
    // A delivery cut off here was not recorded: it goes again at the next
    // start (at least once).
    for (_, lane) in lanes {
        lane.abort();
    }
}

/// Subscriptions with a row due now.
async fn due_subscriptions(store: &Store) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT webhook_id FROM outbox
         WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1",
    )
    .bind(timestamp(Utc::now()))
    .fetch_all(&store.pool)
    .await?)
}

/// Delivers one subscription's due rows, oldest first, until none is due.
async fn deliver_lane(
    store: Store,
    keys: std::sync::Arc<voxhire_vault::Keyring>,
    client: reqwest::Client,
    webhook: String,
) {
    loop {
        match deliver_due(&store, &keys, &client, &webhook).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(webhook = %webhook, error = %format!("{e:#}"), "webhook delivery failed");
                return;
            }
        }
    }
}

/// One pass over a subscription: its rows due now, oldest first. Returns how
/// many were tried.
async fn deliver_due(
    store: &Store,
    keys: &voxhire_vault::Keyring,
    client: &reqwest::Client,
    webhook: &str,
) -> Result<usize> {
    let now = Utc::now();
    // Rows queued in one transaction share a millisecond: insertion order
    // breaks the tie (SQLite's rowid; PostgreSQL's identity column).
    let order = match store.backend {
        crate::store::Backend::Sqlite => "o.rowid",
        crate::store::Backend::Postgres => "o.seq",
    };
    let due = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT o.id, o.event_type, o.payload, o.attempts, o.next_attempt_at, o.webhook_id, w.url, w.secret
         FROM outbox o JOIN webhooks w ON w.id = o.webhook_id
         WHERE o.webhook_id = $2 AND o.delivered_at IS NULL AND o.dead_at IS NULL
           AND o.next_attempt_at <= $1
         ORDER BY o.created_at, {order} LIMIT 32"
    )))
    .bind(timestamp(now))
    .bind(webhook)
    .fetch_all(&store.pool)
    .await?;
    for row in &due {
        let id: String = row.get("id");
        // Taken for the POST: another node sharing the store skips it, and
        // if this one dies before recording the result, it is due again
        // after DELIVERY_LEASE (at least once, never lost).
        let due_at: String = row.get("next_attempt_at");
        let taken = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1
             WHERE id = $2 AND next_attempt_at = $3 AND delivered_at IS NULL AND dead_at IS NULL",
        )
        .bind(timestamp(Utc::now() + DELIVERY_LEASE))
        .bind(&id)
        .bind(&due_at)
        .execute(&store.pool)
        .await?;
        if taken.rows_affected() != 1 {
            continue;
        }
        let result = post(client, keys, row).await;
        let attempts: i64 = row.get::<i64, _>("attempts") + 1;
        match result {
            Ok(()) => {
                sqlx::query("UPDATE outbox SET attempts = $1, delivered_at = $2, last_error = NULL WHERE id = $3")
                    .bind(attempts)
                    .bind(timestamp(Utc::now()))
                    .bind(&id)
                    .execute(&store.pool)
                    .await?;
                tracing::info!(delivery = %id, attempts, "webhook delivered");
            }
            Err(why) => {
                let (next, dead) = retry_at(Utc::now(), attempts);
                sqlx::query(
                    "UPDATE outbox SET attempts = $1, next_attempt_at = $2, dead_at = $3, last_error = $4 WHERE id = $5",
                )
                .bind(attempts)
                .bind(timestamp(next))
                .bind(dead.map(timestamp))
                .bind(&why)
                .bind(&id)
                .execute(&store.pool)
                .await?;
                tracing::warn!(delivery = %id, attempts, error = %why, dead = dead.is_some(), "webhook delivery failed");
            }
        }
    }
    Ok(due.len())
}

/// How long a delivery being posted is kept from other nodes: longer than
/// the POST's own timeout.
const DELIVERY_LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// When to try again after `attempts` failures, or when it died.
fn retry_at(now: DateTime<Utc>, attempts: i64) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    if attempts >= MAX_ATTEMPTS {
        (now, Some(now))
    } else {
        (now + backoff(attempts), None)
    }
}

async fn post(
    client: &reqwest::Client,
    keys: &voxhire_vault::Keyring,
    row: &sqlx::any::AnyRow,
) -> Result<(), String> {
    let id: String = row.get("id");
    let url: String = row.get("url");
    let sealed: Vec<u8> = row.get("secret");
    let webhook: String = row.get("webhook_id");
    let secret = voxhire_vault::open(keys, &crate::secrets::webhook_label(&webhook), &sealed)
        .map_err(|e| format!("the webhook's signing secret: {e}"))?;
    let secret = String::from_utf8_lossy(&secret).into_owned();
    let event_type: String = row.get("event_type");
    let body = crate::store::open_text(
        keys,
        &crate::store::label(&id, "payload"),
        crate::store::bytes_of(row, "payload"),
    )
    .map_err(|e| format!("{e:#}"))?
    .unwrap_or_default();
    let t = Utc::now().timestamp();
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .header("voxhire-signature", signature(&secret, t, body.as_bytes()))
        .header("voxhire-delivery", &id)
        .header("voxhire-event", &event_type)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_time_and_body() {
        let a = signature("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(a.starts_with("t=1700000000,v1="), "{a}");
        assert_eq!(a.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(a, signature("s3cret", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(a, signature("s3cret", 1_700_000_000, b"{\"a\":2}"));
        assert_ne!(a, signature("other", 1_700_000_000, b"{\"a\":1}"));
    }

    #[test]
    fn retries_back_off_then_dead_letter() {
        let now = Utc::now();
        let secs: Vec<i64> = (1..MAX_ATTEMPTS)
            .map(|n| (retry_at(now, n).0 - now).num_seconds())
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(retry_at(now, MAX_ATTEMPTS).1, Some(now));
        assert_eq!(backoff(100).num_seconds(), 3600);
    }
}
