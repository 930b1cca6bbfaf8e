//! Everything the store keeps sealed under the master key, for `voxhire keys
//! rotate`: each staff member's TOTP secret, each webhook's signing secret
//! and the server's own keys (`sealed_secrets`: the audit trail's MAC key).

use anyhow::{Context, Result};
use sqlx::Row;
use voxhire_vault::Keyring;

use crate::store::Store;

pub fn webhook_label(id: &str) -> String {
    format!("webhook:{id}")
}

/// Seals webhook secrets a store from before encryption at rest kept in
/// the clear (run at every start; a no-op once done).
pub async fn seal_plaintext(store: &Store, ring: &Keyring) -> Result<usize> {
    let mut sealed_now = 0;
    for r in sqlx::query("SELECT id, secret FROM webhooks WHERE typeof(secret) = 'text'")
        .fetch_all(&store.pool)
        .await?
    {
        let id: String = r.get("id");
        let plain: String = r.get("secret");
        sqlx::query("UPDATE webhooks SET secret = ?1 WHERE id = ?2")
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

/// Re-wraps every sealed secret's data key under the keyring's current
/// master key; returns how many changed. Each row is its own statement, so a
/// rotation cut short is finished by running it again.
pub async fn rewrap_all(store: &Store, ring: &Keyring) -> Result<usize> {
    let mut changed = 0;
    for r in sqlx::query("SELECT id, totp_secret FROM users")
        .fetch_all(&store.pool)
        .await?
    {
        let id: String = r.get("id");
        let mut sealed: Vec<u8> = r.get("totp_secret");
        if voxhire_vault::rewrap(ring, &format!("totp:{id}"), &mut sealed)
            .with_context(|| format!("re-wrapping {id}'s TOTP secret"))?
        {
            sqlx::query("UPDATE users SET totp_secret = ?1 WHERE id = ?2")
                .bind(&sealed)
                .bind(&id)
                .execute(&store.pool)
                .await?;
            changed += 1;
        }
    }
    for r in sqlx::query("SELECT id, secret FROM webhooks")
        .fetch_all(&store.pool)
        .await?
    {
        let id: String = r.get("id");
        let mut sealed: Vec<u8> = r.get("secret");
        if voxhire_vault::rewrap(ring, &webhook_label(&id), &mut sealed)
            .with_context(|| format!("re-wrapping webhook {id}'s secret"))?
        {
            sqlx::query("UPDATE webhooks SET secret = ?1 WHERE id = ?2")
                .bind(&sealed)
                .bind(&id)
                .execute(&store.pool)
                .await?;
            changed += 1;
        }
    }
    for r in sqlx::query("SELECT name, sealed FROM sealed_secrets")
        .fetch_all(&store.pool)
        .await?
    {
        let name: String = r.get("name");
        let mut sealed: Vec<u8> = r.get("sealed");
        if voxhire_vault::rewrap(ring, &name, &mut sealed)
            .with_context(|| format!("re-wrapping the secret {name}"))?
        {
            sqlx::query("UPDATE sealed_secrets SET sealed = ?1 WHERE name = ?2")
                .bind(&sealed)
                .bind(&name)
                .execute(&store.pool)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}
