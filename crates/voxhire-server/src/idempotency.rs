//! `Idempotency-Key` on POST requests: the first successful response to a key
//! is stored (per API key) and returned again, unchanged, to a retry of the
//! same request, which does not act twice. Reusing a key for a different
//! request is refused (422). Keys are kept for a day.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{TimeDelta, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::ApiError;
use crate::store::timestamp;
use crate::AppState;

const HEADER: &str = "idempotency-key";
/// Longest key accepted.
const MAX_KEY: usize = 200;
/// Largest request or response kept.
const MAX_BODY: usize = 1 << 20;

pub async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match handle(st, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(st: AppState, req: Request, next: Next) -> Result<Response, ApiError> {
    let key = match req.headers().get(HEADER) {
        Some(k) if req.method() == Method::POST => k
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= MAX_KEY)
            .ok_or_else(|| {
                ApiError::invalid(
                    "Idempotency-Key",
                    format!("1 to {MAX_KEY} visible characters"),
                )
            })?
            .to_owned(),
        _ => return Ok(next.run(req).await),
    };
    let caller = crate::access::caller_fingerprint(req.headers()).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "request body too large",
        )
    })?;
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update(b" ");
    h.update(parts.uri.path());
    h.update(b"\n");
    h.update(&bytes);
    let fingerprint = hex::encode(h.finalize());
    let cutoff = timestamp(Utc::now() - TimeDelta::days(1));
    sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
        .bind(&cutoff)
        .execute(&st.store.pool)
        .await?;
    // Claim the key first (status 0 = in progress), so two concurrent
    // retries cannot both act.
    let claimed = sqlx::query(
        "INSERT INTO idempotency (caller, key, request, status, body, created_at) VALUES ($1, $2, $3, 0, '', $4)
         ON CONFLICT (caller, key) DO NOTHING",
    )
    .bind(&caller)
    .bind(&key)
    .bind(&fingerprint)
    .bind(timestamp(Utc::now()))
    .execute(&st.store.pool)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        let row = sqlx::query(
            "SELECT request, status, body FROM idempotency WHERE caller = $1 AND key = $2",
        )
        .bind(&caller)
        .bind(&key)
        .fetch_one(&st.store.pool)
        .await?;
        if row.get::<String, _>("request") != fingerprint {
            return Err(ApiError::invalid(
                "Idempotency-Key",
                "this key was used for a different request",
            ));
        }
        let status = row.get::<i64, _>("status");
        if status == 0 {
            return Err(ApiError::conflict(
                "a request with this Idempotency-Key is in progress",
            ));
        }
        let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
        let body = crate::store::open_text(
            &st.keys,
            &body_label(&format!("{caller}:{key}")),
            crate::store::bytes_of(&row, "body"),
        )?
        .unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if !response.status().is_success() {
        // Nothing was done: the key is free for a corrected retry.
        sqlx::query("DELETE FROM idempotency WHERE caller = $1 AND key = $2")
            .bind(&caller)
            .bind(&key)
            .execute(&st.store.pool)
            .await?;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| anyhow::anyhow!("buffering a response: {e}"))?;
    sqlx::query("UPDATE idempotency SET status = $1, body = $2 WHERE caller = $3 AND key = $4")
        .bind(i64::from(parts.status.as_u16()))
        .bind(crate::store::seal_text(
            &st.keys,
            &body_label(&format!("{caller}:{key}")),
            &String::from_utf8_lossy(&bytes),
        ))
        .bind(&caller)
        .bind(&key)
        .execute(&st.store.pool)
        .await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// What a stored response (it may name a candidate) is sealed to, from
/// `<caller>:<key>`.
pub(crate) fn body_label(caller_key: &str) -> String {
    format!("idempotency:{caller_key}")
}
