//! Who may call the API, and what each may do.
//!
//! Two kinds of caller: machines with API keys (`Authorization: Bearer
//! vxk_…`, shown once at creation, stored as their SHA-256, scoped `read` or
//! `write`, revocable) and staff signed in with a password and a TOTP code
//! (a session cookie, [`crate::staff`]), each with one [`Role`]. Every route
//! states the [`Right`] it needs in its signature, as an [`Allowed`]
//! extractor: the check runs before the request body is read, so a caller
//! without the right gets 403 whatever it sent.

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
        "INSERT INTO api_keys (id, name, scope, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
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
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(timestamp(Utc::now()))
            .bind(id)
            .execute(&store.pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// What a route may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    /// Jobs, candidates, their résumés, interviews, reports, recordings.
    ReadRecords,
    /// Create and change jobs and candidates, run campaigns, override.
    WriteRecords,
    /// Webhook subscriptions and their deliveries (the ATS integration).
    Webhooks,
    /// Staff accounts.
    Users,
    /// The audit trail.
    Audit,
    /// Erasing a candidate's personal data everywhere.
    Erase,
}

/// A staff member's role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Users, keys, integrations and settings; erasure; the audit trail. Not
    /// candidates' records: an admin who recruits has a recruiter account too.
    Admin,
    /// Jobs, candidates, campaigns and results.
    Recruiter,
    /// Read-only: candidates' records and the audit trail.
    Auditor,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Recruiter => "recruiter",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "recruiter" => Some(Role::Recruiter),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }

    pub fn may(self, right: Right) -> bool {
        use Right::*;
        match self {
            Role::Admin => matches!(right, Webhooks | Users | Audit | Erase),
            Role::Recruiter => matches!(right, ReadRecords | WriteRecords),
            Role::Auditor => matches!(right, ReadRecords | Audit),
        }
    }
}

impl Scope {
    /// An API key is the ATS's integration: a read key reads records; a
    /// write key also changes them and manages its own webhook receivers.
    pub fn may(self, right: Right) -> bool {
        match self {
            Scope::Read => right == Right::ReadRecords,
            Scope::Write => matches!(
                right,
                Right::ReadRecords | Right::WriteRecords | Right::Webhooks
            ),
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Key {
        id: String,
        scope: Scope,
    },
    Staff {
        user_id: String,
        role: Role,
        session: String,
    },
}

impl Caller {
    /// The actor recorded in status histories and the audit trail.
    pub fn actor(&self) -> String {
        match self {
            Caller::Key { id, .. } => format!("api_key:{id}"),
            Caller::Staff { user_id, .. } => format!("user:{user_id}"),
        }
    }

    pub fn may(&self, right: Right) -> bool {
        match self {
            Caller::Key { scope, .. } => scope.may(right),
            Caller::Staff { role, .. } => role.may(right),
        }
    }

    pub fn require(&self, right: Right) -> Result<(), ApiError> {
        if self.may(right) {
            return Ok(());
        }
        Err(ApiError::forbidden(match self {
            Caller::Key { scope, .. } => {
                format!(
                    "this key's scope ({}) does not allow {right:?}",
                    scope.name()
                )
            }
            Caller::Staff { role, .. } => {
                format!("the {} role does not allow {right:?}", role.name())
            }
        }))
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vx_session";

/// The session token in a request's `Cookie` header, if any.
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            let token = session_token(&parts.headers).ok_or_else(|| {
                ApiError::unauthorized(
                    "sign in (POST /api/v1/session) or send Authorization: Bearer <API key>",
                )
            })?;
            let (user_id, role) = crate::staff::session_user(&state.store, token)
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized("the session expired or was signed out; sign in again")
                })?;
            return Ok(Caller::Staff {
                user_id,
                role,
                session: token.to_owned(),
            });
        };
        let key = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Authorization must be: Bearer <API key>"))?;
        let row = sqlx::query(
            "SELECT id, scope FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash(key))
        .fetch_optional(&state.store.pool)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        let scope: String = row.get("scope");
        Ok(Caller::Key {
            id: row.get("id"),
            scope: Scope::parse(&scope).unwrap_or(Scope::Read),
        })
    }
}

/// A right as a type, so a route's signature says what it needs.
pub trait NeedsRight {
    const RIGHT: Right;
}

/// The rights as types, for [`Allowed`].
pub mod need {
    use super::{NeedsRight, Right};

    macro_rules! rights {
        ($($name:ident),*) => {$(
            #[derive(Debug)]
            pub struct $name;
            impl NeedsRight for $name {
                const RIGHT: Right = Right::$name;
            }
        )*};
    }
    rights!(ReadRecords, WriteRecords, Webhooks, Users, Audit, Erase);
}

/// A caller who has the right `R`: 401 without credentials, 403 without the
/// right, checked before the handler reads the body.
#[derive(Debug)]
pub struct Allowed<R: NeedsRight>(pub Caller, std::marker::PhantomData<R>);

impl<R: NeedsRight> std::ops::Deref for Allowed<R> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl<R: NeedsRight> FromRequestParts<AppState> for Allowed<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(R::RIGHT)?;
        Ok(Allowed(caller, std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_only_their_rights() {
        use Right::*;
        let all = [ReadRecords, WriteRecords, Webhooks, Users, Audit, Erase];
        let granted = |role: Role| {
            all.iter()
                .filter(|r| role.may(**r))
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(granted(Role::Admin), [Webhooks, Users, Audit, Erase]);
        assert_eq!(granted(Role::Recruiter), [ReadRecords, WriteRecords]);
        assert_eq!(granted(Role::Auditor), [ReadRecords, Audit]);
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.append("cookie", "a=1; vx_session=abc; b=2".parse().unwrap());
        assert_eq!(session_token(&h), Some("abc"));
        let mut h = axum::http::HeaderMap::new();
        h.append("cookie", "vx_session=".parse().unwrap());
        assert_eq!(session_token(&h), None);
    }
}
