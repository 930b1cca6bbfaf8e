//! Staff accounts and their sign-in: an Argon2id password and an RFC 6238
//! TOTP code (or a single-use recovery code), then a session cookie
//! (`HttpOnly; Secure; SameSite=Strict`, 8 hours, revocable).
//!
//! Guessing is slowed three ways: every attempt costs an Argon2id hash
//! (≈ the figure in docs/security.md), five failures in a row lock the
//! account for 15 minutes (429 with `Retry-After`), and one address may fail
//! 20 times in 15 minutes across all accounts. A TOTP code is accepted once:
//! the newest time step used is kept and a code from it or before is refused.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{TimeDelta, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use voxhire_vault::Keyring;

use crate::auth::Role;
use crate::error::ApiError;
use crate::store::{new_id, timestamp, Store};

/// Argon2id at RFC 9106's second recommended setting (64 MiB, 3 passes),
/// with one lane because the server has few cores: 98 ms a sign-in on 2
/// cores (`cargo bench -p voxhire-server --bench sign_in`), where OWASP's
/// floor (19 MiB, 2 passes) took 13 ms — 7.5 times the work for a password
/// guesser holding the database, at a cost staff do not notice once a day.
/// Existing hashes keep their own parameters (PHC strings carry them).
const ARGON2_M_KIB: u32 = 64 * 1024;
const ARGON2_T: u32 = 3;
const ARGON2_P: u32 = 1;

pub const SESSION_HOURS: i64 = 8;
pub const MIN_PASSWORD: usize = 12;
const LOCK_AFTER: i64 = 5;
const LOCK_FOR: TimeDelta = TimeDelta::minutes(15);
const RECOVERY_CODES: usize = 10;
/// Failed sign-ins one address may make per window, across accounts.
const PER_ADDRESS: usize = 20;
const ADDRESS_WINDOW: Duration = Duration::from_secs(15 * 60);

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).expect("valid Argon2 parameters"),
    )
}

/// Hashes a password (Argon2id, random salt) to a PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// Checks a password against its PHC string (the cost of each sign-in).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .ok()
        .is_some_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A PHC string to verify against when the account does not exist, so an
/// unknown email costs the same time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password anyone has").expect("hashing works"))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub(crate) fn totp_label(user_id: &str) -> String {
    format!("totp:{user_id}")
}

fn totp(secret: Vec<u8>, email: &str) -> anyhow::Result<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(email)
        .with_issuer(Some("voxhire"))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP: {e}"))
}

/// What a new account's owner needs once: the TOTP secret for their
/// authenticator app and their recovery codes. Never shown again.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    pub id: String,
    pub email: String,
    pub role: Role,
    /// Base32, for typing into an authenticator app.
    pub totp_secret: String,
    /// `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
    /// Single-use codes for when the authenticator is lost.
    pub recovery_codes: Vec<String>,
}

/// Creates a staff account. Refuses a short password or an email in use.
pub async fn create_user(
    store: &Store,
    keys: &Keyring,
    email: &str,
    role: Role,
    password: &str,
) -> Result<Enrolment, ApiError> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 254 {
        return Err(ApiError::invalid("email", "an email address"));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::invalid(
            "password",
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    let id = new_id("usr");
    let secret: [u8; 20] = rand::random();
    let otp = totp(secret.to_vec(), email)?;
    let sealed = voxhire_vault::seal(keys, &totp_label(&id), &secret);
    let password = password.to_owned();
    let phc = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .context("hashing the password")??;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let mut tx = store.pool.begin().await?;
    let now = timestamp(Utc::now());
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, role, password_hash, totp_secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(email)
    .bind(role.name())
    .bind(&phc)
    .bind(&sealed)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::conflict(format!(
            "{email} has an account already"
        )));
    }
    for code in &codes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(&id)
            .bind(sha256_hex(code))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Enrolment {
        id,
        email: email.to_owned(),
        role,
        totp_secret: otp.secret().to_base32(),
        otpauth_uri: otp
            .to_url()
            .map_err(|e| anyhow::anyhow!("otpauth URI: {e}"))?,
        recovery_codes: codes,
    })
}

/// `xxxxx-xxxxx`, lower-case base32: 50 random bits.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bits: u64 = rand::random();
    let c: String = (0..10)
        .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect();
    format!("{}-{}", &c[..5], &c[5..])
}

/// Why a sign-in failed, as the audit trail records it. The caller is told
/// only "wrong email, password or code" (or that the account is locked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownEmail,
    Disabled,
    /// Locked after repeated failures, for this many more seconds.
    Locked {
        retry_after_secs: u64,
    },
    Password,
    Code,
    TooManyFromAddress,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownEmail => "unknown_email",
            Refusal::Disabled => "disabled",
            Refusal::Locked { .. } => "locked",
            Refusal::Password => "password",
            Refusal::Code => "code",
            Refusal::TooManyFromAddress => "address_limited",
        }
    }
}

/// A signed-in session: the cookie's token (shown once) and who it is.
pub struct SignedIn {
    pub token: String,
    pub user_id: String,
    pub role: Role,
    pub expires_at: chrono::DateTime<Utc>,
}

/// The outcome of a sign-in attempt. `user_id` is known whenever the email
/// named an account, for the audit trail.
pub struct Attempt {
    pub user_id: Option<String>,
    pub result: Result<SignedIn, Refusal>,
}

/// Checks an email, password and code (a 6-digit TOTP code or a recovery
/// code) and opens a session.
pub async fn sign_in(
    store: &Store,
    keys: &Keyring,
    email: &str,
    password: &str,
    code: &str,
) -> anyhow::Result<Attempt> {
    let row = sqlx::query(
        "SELECT id, email, role, password_hash, totp_secret, totp_last_step, failed_logins,
                locked_until, disabled_at FROM users WHERE lower(email) = lower($1)",
    )
    .bind(email.trim())
    .fetch_optional(&store.pool)
    .await?;
    let Some(row) = row else {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || verify_password(&password, decoy_hash())).await?;
        return Ok(Attempt {
            user_id: None,
            result: Err(Refusal::UnknownEmail),
        });
    };
    let user_id: String = row.get("id");
    let refuse = |why: Refusal| Attempt {
        user_id: Some(user_id.clone()),
        result: Err(why),
    };
    if row.get::<Option<String>, _>("disabled_at").is_some() {
        return Ok(refuse(Refusal::Disabled));
    }
    let now = Utc::now();
    if let Some(until) = row.get::<Option<String>, _>("locked_until") {
        let until = chrono::DateTime::parse_from_rfc3339(&until)?.with_timezone(&Utc);
        if until > now {
            let secs = (until - now).num_seconds().max(1) as u64;
            return Ok(refuse(Refusal::Locked {
                retry_after_secs: secs,
            }));
        }
    }
    let phc: String = row.get("password_hash");
    let given = password.to_owned();
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&given, &phc)).await?;
    let code_ok = password_ok
        && check_code(store, keys, &row, code.trim())
            .await
            .context("checking the code")?;
    if !code_ok {
        let why = if password_ok {
            Refusal::Code
        } else {
            Refusal::Password
        };
        let failed: i64 = row.get::<i64, _>("failed_logins") + 1;
        let lock = (failed >= LOCK_AFTER).then(|| timestamp(now + LOCK_FOR));
        sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
            .bind(failed)
            .bind(&lock)
            .bind(&user_id)
            .execute(&store.pool)
            .await?;
        return Ok(refuse(why));
    }
    sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(&user_id)
        .execute(&store.pool)
        .await?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    let expires_at = now + TimeDelta::hours(SESSION_HOURS);
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(sha256_hex(&token))
    .bind(&user_id)
    .bind(timestamp(now))
    .bind(timestamp(expires_at))
    .execute(&store.pool)
    .await?;
    let role = Role::parse(&row.get::<String, _>("role")).context("a stored role")?;
    Ok(Attempt {
        user_id: Some(user_id.clone()),
        result: Ok(SignedIn {
            token,
            user_id,
            role,
            expires_at,
        }),
    })
}

/// A TOTP code from a time step after the last one used, or an unused
/// recovery code. Either is spent by the same statement that accepts it, so
/// two requests racing with one code cannot both succeed.
async fn check_code(
    store: &Store,
    keys: &Keyring,
    row: &sqlx::any::AnyRow,
    code: &str,
) -> anyhow::Result<bool> {
    let user_id: String = row.get("id");
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let sealed: Vec<u8> = row.get("totp_secret");
        let secret = voxhire_vault::open(keys, &totp_label(&user_id), &sealed).context(
            "opening the TOTP secret (is this the master key the account was made under?)",
        )?;
        let otp = totp(secret.to_vec(), row.get("email"))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let Some(step) = otp.check(code, now) else {
            return Ok(false);
        };
        let spent = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step as i64)
        .bind(&user_id)
        .execute(&store.pool)
        .await?;
        return Ok(spent.rows_affected() == 1);
    }
    let spent = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(timestamp(Utc::now()))
    .bind(&user_id)
    .bind(sha256_hex(&code.to_ascii_lowercase()))
    .execute(&store.pool)
    .await?;
    Ok(spent.rows_affected() == 1)
}

/// The user and role behind a session token, if it is live.
pub async fn session_user(store: &Store, token: &str) -> anyhow::Result<Option<(String, Role)>> {
    let row = sqlx::query(
        "SELECT u.id, u.role FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND u.disabled_at IS NULL",
    )
    .bind(sha256_hex(token))
    .bind(timestamp(Utc::now()))
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.and_then(|r| Some((r.get("id"), Role::parse(&r.get::<String, _>("role"))?))))
}

/// Ends a session.
pub async fn sign_out(store: &Store, token: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(timestamp(Utc::now()))
        .bind(sha256_hex(token))
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// A staff account as listed (never its secrets).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: String,
    pub disabled_at: Option<String>,
    pub locked_until: Option<String>,
}

pub async fn list_users(store: &Store) -> anyhow::Result<Vec<User>> {
    let rows = sqlx::query(
        "SELECT id, email, role, created_at, disabled_at, locked_until FROM users ORDER BY created_at, id",
    )
    .fetch_all(&store.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(User {
                id: r.get("id"),
                email: r.get("email"),
                role: Role::parse(&r.get::<String, _>("role")).context("a stored role")?,
                created_at: r.get("created_at"),
                disabled_at: r.get("disabled_at"),
                locked_until: r.get("locked_until"),
            })
        })
        .collect()
}

/// Disables an account and ends its sessions. False when no such account
/// is enabled.
pub async fn disable_user(store: &Store, id: &str) -> anyhow::Result<bool> {
    let now = timestamp(Utc::now());
    let mut tx = store.pool.begin().await?;
    let done =
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Failed sign-ins per address in a sliding window (in memory: a restart
/// forgets them, the per-account lock in the store does not).
#[derive(Default)]
pub struct AddressLimiter {
    failures: std::sync::Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl AddressLimiter {
    /// Seconds to wait when the address has failed too often, else None.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let q = map.get_mut(&ip)?;
        let now = Instant::now();
        while q.front().is_some_and(|t| now - *t > ADDRESS_WINDOW) {
            q.pop_front();
        }
        (q.len() >= PER_ADDRESS).then(|| {
            let oldest = *q.front().expect("non-empty");
            (ADDRESS_WINDOW - (now - oldest)).as_secs().max(1)
        })
    }

    pub fn failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < ADDRESS_WINDOW));
        }
        map.entry(ip).or_default().push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterz", &phc));
        assert!(!verify_password("x", "not a PHC string"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_shaped() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| recovery_code()).collect();
        assert_eq!(codes.len(), 200);
        assert!(codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
    }

    #[test]
    fn an_address_is_limited_after_its_failures() {
        let limiter = AddressLimiter::default();
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        for _ in 0..PER_ADDRESS {
            assert!(limiter.blocked(ip).is_none());
            limiter.failed(ip);
        }
        assert!(limiter.blocked(ip).is_some_and(|s| s > 0 && s <= 900));
        assert!(limiter.blocked("127.0.0.10".parse().unwrap()).is_none());
    }
}
