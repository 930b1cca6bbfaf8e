//! Machine authentication: API keys (`Authorization: Bearer vxk_…`), shown
//! once at creation, stored as their SHA-256, scoped `read` or `write`,
//! revocable. Every route states the scope it needs through [`Caller`];
//! staff sign-in and roles (the security issue) become another way to make a
//! `Caller`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::ApiError;
use crate::store::{new_id, timestamp, Store};
use crate::AppState;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Creates a key; returns its id and the key itself (the only time it is seen).
pub async fn create_key(
    store: &Store,
    name: &str,
    scope: Scope,
) -> anyhow::Result<(String, String)> {
    let id = new_id("key");
    let key = format!("vxk_{}", hex::encode(rand::random::<[u8; 24]>()));
    sqlx::query(
        "INSERT INTO api_keys (id, name, scope, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&id)
    .bind(name)
    .bind(scope.name())
    .bind(hash(&key))
    .bind(timestamp(Utc::now()))
    .execute(&store.pool)
    .await?;
    Ok((id, key))
}

/// A key as `voxhire apikey list` shows it (never the key itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Every key, oldest first.
pub async fn list_keys(store: &Store) -> anyhow::Result<Vec<KeyInfo>> {
    let rows = sqlx::query(
        "SELECT id, name, scope, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
    )
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| KeyInfo {
            id: r.get("id"),
            name: r.get("name"),
            scope: r.get("scope"),
            created_at: r.get("created_at"),
            revoked_at: r.get("revoked_at"),
        })
        .collect())
}

/// Revokes a key: from now on it gets 401. False when no such key is in
/// use (unknown, or revoked already).
pub async fn revoke_key(store: &Store, id: &str) -> anyhow::Result<bool> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
            .bind(timestamp(Utc::now()))
            .bind(id)
            .execute(&store.pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Who is calling, and with what rights.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub scope: Scope,
}

impl Caller {
    /// The actor recorded in status histories.
    pub fn actor(&self) -> String {
        format!("api_key:{}", self.key_id)
    }

    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scope >= scope {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this key's scope is {}; this needs {}",
                self.scope.name(),
                scope.name()
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <API key>"))?;
        let key = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Authorization must be: Bearer <API key>"))?;
        let row = sqlx::query(
            "SELECT id, scope FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
        )
        .bind(hash(key))
        .fetch_optional(&state.store.pool)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        let scope: String = row.get("scope");
        Ok(Caller {
            key_id: row.get("id"),
            scope: Scope::parse(&scope).unwrap_or(Scope::Read),
        })
    }
}
