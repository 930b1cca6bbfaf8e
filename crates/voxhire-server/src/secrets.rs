//! Everything the store keeps sealed under the master key, for `voxhire keys
//! rotate`: staff members' TOTP secrets, webhooks' signing secrets, the
//! server's own keys (`sealed_secrets`: the audit trail's MAC key) and the
//! personal data in sealed columns (candidates, reports, webhook bodies,
//! replayable responses).

use anyhow::{Context, Result};
use sqlx::Row;
use voxhire_vault::Keyring;

use crate::store::{label, Store};

pub fn webhook_label(id: &str) -> String {
    format!("webhook:{id}")
}

/// Seals webhook secrets a store from before encryption at rest kept in
/// the clear (run at every start; a no-op once done).
pub async fn seal_plaintext(store: &Store, ring: &Keyring) -> Result<usize> {
    let mut sealed_now = 0;
    if store.backend == crate::store::Backend::Postgres {
        // Born sealed: a PostgreSQL store holds nothing from after encryption at rest.
        return Ok(0);
    }
    for r in sqlx::query("SELECT id, secret FROM webhooks WHERE typeof(secret) = 'text'")
        .fetch_all(&store.pool)
        .await?
    {
        let id: String = r.get("id");
        let plain: String = r.get("secret");
        sqlx::query("UPDATE webhooks SET secret = $1 WHERE id = $2")
            .bind(voxhire_vault::seal(
                ring,
                &webhook_label(&id),
                plain.as_bytes(),
            ))
            .bind(&id)
            .execute(&store.pool)
            .await?;
        sealed_now += 1;
    }
    Ok(sealed_now)
}

/// A sealed column: its table, the expression naming the row, the column,
/// and how a row's name becomes the value's label (the same function the
/// code that seals it calls).
struct Column {
    table: &'static str,
    row: &'static str,
    column: &'static str,
    label: fn(&str) -> String,
}

const COLUMNS: &[Column] = &[
    Column {
        table: "users",
        row: "id",
        column: "totp_secret",
        label: crate::staff::totp_label,
    },
    Column {
        table: "webhooks",
        row: "id",
        column: "secret",
        label: webhook_label,
    },
    Column {
        table: "sealed_secrets",
        row: "name",
        column: "sealed",
        label: |name| name.to_owned(),
    },
    Column {
        table: "candidates",
        row: "id",
        column: "name",
        label: |id| label(id, "name"),
    },
    Column {
        table: "candidates",
        row: "id",
        column: "phone",
        label: |id| label(id, "phone"),
    },
    Column {
        table: "candidates",
        row: "id",
        column: "resume_text",
        label: |id| label(id, "resume"),
    },
    Column {
        table: "candidates",
        row: "id",
        column: "screening",
        label: |id| label(id, "screening"),
    },
    Column {
        table: "interviews",
        row: "id",
        column: "report_json",
        label: |id| label(id, "report"),
    },
    Column {
        table: "interviews",
        row: "id",
        column: "dialog",
        label: crate::campaigns::dialog_label,
    },
    Column {
        table: "outbox",
        row: "id",
        column: "payload",
        label: |id| label(id, "payload"),
    },
    Column {
        table: "idempotency",
        row: "caller || ':' || key",
        column: "body",
        label: crate::idempotency::body_label,
    },
];

/// Re-wraps every sealed value's data key under the keyring's current
/// master key; returns how many changed. Values in the clear (from before
/// sealing, or erased) are left alone. Each value is its own statement, so
/// a rotation cut short is finished by running it again.
pub async fn rewrap_all(store: &Store, ring: &Keyring) -> Result<usize> {
    let mut changed = 0;
    for c in COLUMNS {
        let select = format!(
            "SELECT {row} AS row_name, {col} AS value FROM {table} WHERE {blob}",
            blob = match store.backend {
                crate::store::Backend::Sqlite => format!("typeof({}) = 'blob'", c.column),
                crate::store::Backend::Postgres => format!("{} IS NOT NULL", c.column),
            },
            row = c.row,
            col = c.column,
            table = c.table
        );
        let update = format!(
            "UPDATE {table} SET {col} = $1 WHERE {row} = $2",
            table = c.table,
            col = c.column,
            row = c.row
        );
        // Table and column names come from COLUMNS, never from input.
        for r in sqlx::query(sqlx::AssertSqlSafe(select.clone()))
            .fetch_all(&store.pool)
            .await?
        {
            let name: String = r.get("row_name");
            let mut sealed: Vec<u8> = r.get("value");
            if !voxhire_vault::is_sealed(&sealed) {
                continue;
            }
            if voxhire_vault::rewrap(ring, &(c.label)(&name), &mut sealed)
                .with_context(|| format!("re-wrapping {}.{} of {name}", c.table, c.column))?
            {
                sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                    .bind(&sealed)
                    .bind(&name)
                    .execute(&store.pool)
                    .await?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}
