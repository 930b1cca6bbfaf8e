//! A candidate's erasure request (GDPR art. 17, PIPL art. 47): their
//! personal data removed everywhere — the candidate row, the status
//! history's reasons, the interviews' reports, scores and call files
//! (recording, transcript, events), webhook deliveries and replayable
//! responses that carry them — while the ids stay, so the audit trail
//! (ids only) still verifies. The store deletes securely (`secure_delete`)
//! and its write-ahead log is truncated, so no old page keeps the data.

use axum::extract::{Path, State};
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::audit::Event;
use crate::auth::{need, Allowed};
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::store::timestamp;
use crate::AppState;

/// What a candidate's name becomes.
pub const ERASED: &str = "[erased]";

#[derive(Serialize, ToSchema)]
pub struct Erased {
    pub id: String,
    pub interviews: u64,
    /// Call directories deleted from the archive.
    pub call_dirs_removed: u64,
}

/// Erases a candidate's personal data everywhere (store, archive, outbox).
/// Their id remains, with status `erased`.
#[utoipa::path(post, path = "/api/v1/candidates/{id}/erase", tag = "candidates", responses((status = 200, body = Erased), (status = 409, description = "the candidate is on a call; try when it ends", body = ErrorResponse)))]
pub async fn erase(
    State(st): State<AppState>,
    caller: Allowed<need::Erase>,
    Path(id): Path<String>,
) -> ApiResult<Json<Erased>> {
    let mut tx = st.store.begin_write().await?;
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM candidates WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
    match status.as_deref() {
        None => return Err(ApiError::not_found("candidate", &id)),
        Some("calling") => {
            return Err(ApiError::conflict(
                "the candidate is on a call now; erase them when it ends",
            ))
        }
        Some(_) => {}
    }
    let run_dirs: Vec<String> =
        sqlx::query("SELECT run_dir FROM interviews WHERE candidate_id = $1")
            .bind(&id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.get("run_dir"))
            .collect();
    sqlx::query(
        "UPDATE candidates SET name = $1, phone = '', external_id = NULL, resume_text = NULL,
             screening = NULL, status = 'erased', updated_at = $2 WHERE id = $3",
    )
    .bind(ERASED.as_bytes())
    .bind(timestamp(Utc::now()))
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE candidate_events SET cause = $1 WHERE candidate_id = $2")
        .bind(ERASED)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE interviews SET attempt = '{}', status = NULL, score = NULL, recommendation = NULL,
             report_json = NULL, call_id = NULL WHERE candidate_id = $1",
    )
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    // Webhook bodies about the candidate. Replayable responses are sealed
    // and cannot be searched: the whole day-long replay cache goes (a POST
    // retried across an erasure may act twice).
    sqlx::query("DELETE FROM outbox WHERE candidate_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM idempotency")
        .execute(&mut *tx)
        .await?;
    st.audit
        .append(
            &mut tx,
            Event {
                actor: &caller.actor(),
                action: "candidate.erase",
                object: &id,
                detail: serde_json::json!({ "interviews": run_dirs.len() }),
            },
        )
        .await?;
    tx.commit().await?;
    let mut removed = 0;
    for dir in &run_dirs {
        match tokio::fs::remove_dir_all(dir).await {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "the store is erased but {dir} could not be removed ({e}); erase again to retry"
                )
                .into())
            }
        }
    }
    // Old page images of the rows just scrubbed live in the write-ahead log
    // until it is checkpointed into the (securely overwritten) database.
    // (PostgreSQL's old row versions go at its next vacuum.)
    if st.store.backend == crate::store::Backend::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&st.store.pool)
            .await?;
    }
    tracing::info!(candidate = %id, interviews = run_dirs.len(), "erased");
    Ok(Json(Erased {
        id,
        interviews: run_dirs.len() as u64,
        call_dirs_removed: removed,
    }))
}
