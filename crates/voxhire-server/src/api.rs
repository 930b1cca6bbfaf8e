//! The REST API, `/api/v1`. Every route names the scope it needs
//! ([`Caller::require`]); errors are JSON with a stable `code` (see
//! [`ApiError`]); request bodies are strict JSON (unknown fields are refused,
//! naming the field).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sqlx::Row;
use voxhire_campaign::Address;
use voxhire_dialog::InterviewScript;
use voxhire_lang::Lang;

use crate::auth::{Caller, Scope};
use crate::campaigns::Stored;
use crate::error::{ApiError, ApiResult};
use crate::screening::{self, Requirements, Screening};
use crate::settings::CampaignSettings;
use crate::store::{new_id, set_status, timestamp, Candidate, CandidateEvent, Job};
use crate::webhooks::{Delivery, Webhook, EVENT_TYPES};
use crate::{campaigns, AppState, Running};
use voxhire_engine::campaign_run::Control;

/// Largest request body: a script or a batch of candidates, not a résumé.
const MAX_BODY: usize = 1 << 20;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/jobs", post(create_job).get(list_jobs))
        .route("/api/v1/jobs/{id}", get(get_job))
        .route(
            "/api/v1/jobs/{id}/candidates",
            post(create_candidate).get(list_candidates),
        )
        .route(
            "/api/v1/jobs/{id}/campaign",
            post(start_campaign).get(campaign_progress),
        )
        .route("/api/v1/jobs/{id}/campaign/pause", post(pause_campaign))
        .route("/api/v1/jobs/{id}/campaign/resume", post(resume_campaign))
        .route("/api/v1/jobs/{id}/campaign/cancel", post(cancel_campaign))
        .route(
            "/api/v1/jobs/{id}/candidates/import",
            post(import_candidates),
        )
        .route("/api/v1/candidates/{id}", get(get_candidate))
        .route("/api/v1/candidates/{id}/events", get(candidate_events))
        .route("/api/v1/candidates/{id}/status", post(override_status))
        .route(
            "/api/v1/candidates/{id}/resume",
            axum::routing::put(upload_resume).layer(axum::extract::DefaultBodyLimit::max(
                crate::resume::MAX_FILE,
            )),
        )
        .route(
            "/api/v1/candidates/{id}/interviews",
            get(candidate_interviews),
        )
        .route("/api/v1/interviews/{id}", get(get_interview))
        .route("/api/v1/interviews/{id}/{file}", get(interview_file))
        .route("/api/v1/webhooks", post(create_webhook))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::layer,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// A JSON body whose rejections are API errors (400 for JSON that does not
/// parse, 422 naming the field for JSON of the wrong shape).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                let detail = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.body_text());
                Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    detail,
                ))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON with Content-Type: application/json",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_json",
                e.body_text(),
            )),
        }
    }
}

async fn health() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewJob {
    title: String,
    /// The interview language; default: the script's first.
    language: Option<String>,
    /// The interview script, TOML (as `config/interview-*.toml`).
    script: String,
    /// What résumés are screened against.
    requirements: Option<Requirements>,
    /// When and how often candidates are called.
    campaign: Option<CampaignSettings>,
}

async fn create_job(
    State(st): State<AppState>,
    caller: Caller,
    Body(new): Body<NewJob>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    caller.require(Scope::Write)?;
    let title = new.title.trim();
    if title.is_empty() {
        return Err(ApiError::invalid("title", "a job needs a title"));
    }
    let script = InterviewScript::from_str(&new.script, "script")
        .map_err(|e| ApiError::invalid("script", e.to_string()))?;
    let language = match &new.language {
        Some(l) => {
            let lang: Lang = l
                .parse()
                .map_err(|e| ApiError::invalid("language", format!("{e}")))?;
            if !script.languages().contains(&lang) {
                return Err(ApiError::invalid(
                    "language",
                    format!("the script has no {lang} texts"),
                ));
            }
            lang
        }
        None => script.languages()[0],
    };
    if let Some(req) = &new.requirements {
        req.validate()
            .map_err(|e| ApiError::invalid("requirements", e))?;
    }
    if let Some(c) = &new.campaign {
        c.check()?;
    }
    let campaign = new
        .campaign
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(anyhow::Error::from)?;
    let requirements = new
        .requirements
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(anyhow::Error::from)?;
    let job = Job {
        id: new_id("job"),
        title: title.to_owned(),
        language: language.code().to_owned(),
        created_at: timestamp(Utc::now()),
        requirements,
        campaign,
        script_toml: new.script,
    };
    sqlx::query(
        "INSERT INTO jobs (id, title, language, script_toml, created_at, requirements, campaign) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&job.id)
    .bind(&job.title)
    .bind(&job.language)
    .bind(&job.script_toml)
    .bind(&job.created_at)
    .bind(job.requirements.as_ref().map(|r| r.to_string()))
    .bind(job.campaign.as_ref().map(|c| c.to_string()))
    .execute(&st.store.pool)
    .await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// `?limit=` (1–200, default 50) and `?after=<id>` (the last id of the previous page).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    limit: Option<u32>,
    after: Option<String>,
    status: Option<String>,
}

impl Page {
    fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(i64::from(n)),
            Some(_) => Err(ApiError::invalid("limit", "from 1 to 200")),
        }
    }
}

async fn list_jobs(
    State(st): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Read)?;
    let rows = sqlx::query("SELECT * FROM jobs WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2")
        .bind(&page.after)
        .bind(page.limit()?)
        .fetch_all(&st.store.pool)
        .await?;
    let jobs: Vec<Job> = rows.iter().map(Job::from_row).collect();
    let next = jobs.last().map(|j| j.id.clone());
    Ok(Json(serde_json::json!({"items": jobs, "next_after": next})))
}

async fn find_job(st: &AppState, id: &str) -> ApiResult<Job> {
    sqlx::query("SELECT * FROM jobs WHERE id = ?1")
        .bind(id)
        .fetch_optional(&st.store.pool)
        .await?
        .map(|r| Job::from_row(&r))
        .ok_or_else(|| ApiError::not_found("job", id))
}

async fn get_job(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Job>> {
    caller.require(Scope::Read)?;
    Ok(Json(find_job(&st, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCandidate {
    name: String,
    /// A `sip:` URI or a phone number (dialled through the trunk).
    phone: String,
    language: Option<String>,
    /// IANA time zone, for calling windows and callback times. Default UTC.
    timezone: Option<String>,
    /// The ATS's own id, echoed in webhooks.
    external_id: Option<String>,
    /// The résumé as text (English or Mandarin), screened against the job's
    /// requirements.
    resume_text: Option<String>,
}

/// Longest résumé text accepted.
const MAX_RESUME: usize = 200_000;

async fn create_candidate(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
    Body(new): Body<NewCandidate>,
) -> ApiResult<(StatusCode, Json<Candidate>)> {
    caller.require(Scope::Write)?;
    let job = find_job(&st, &job_id).await?;
    let candidate = insert_candidate(&st, &job, new, &caller).await?;
    Ok((StatusCode::CREATED, Json(candidate)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Import {
    candidates: Vec<NewCandidate>,
}

/// Most candidates in one import.
const MAX_IMPORT: usize = 1000;

/// Many candidates at once: a JSON `{"candidates": [...]}` body, or CSV
/// (`Content-Type: text/csv`, a header row naming the same fields). Each row is
/// created or refused on its own; the answer lists both, by row.
async fn import_candidates(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Write)?;
    let job = find_job(&st, &job_id).await?;
    let csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let rows: Vec<NewCandidate> = if csv {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(&body[..]);
        reader
            .deserialize()
            .enumerate()
            .map(|(i, r)| {
                r.map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        format!("CSV row {}: {e}", i + 1),
                    )
                })
            })
            .collect::<Result<_, _>>()?
    } else {
        serde_json::from_slice::<Import>(&body)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    e.to_string(),
                )
            })?
            .candidates
    };
    if rows.len() > MAX_IMPORT {
        return Err(ApiError::invalid(
            "candidates",
            format!("at most {MAX_IMPORT} per import"),
        ));
    }
    let (mut created, mut refused) = (Vec::new(), Vec::new());
    for (i, row) in rows.into_iter().enumerate() {
        match insert_candidate(&st, &job, row, &caller).await {
            Ok(c) => created.push(serde_json::json!({"row": i + 1, "candidate": c})),
            Err(e) if e.status.is_client_error() => refused.push(serde_json::json!({
                "row": i + 1, "code": e.code, "field": e.field, "message": e.message,
            })),
            Err(e) => return Err(e),
        }
    }
    Ok(Json(
        serde_json::json!({"created": created, "refused": refused}),
    ))
}

/// Checks one candidate, screens the résumé against the job's requirements,
/// and stores it with its status history and webhooks, in one transaction.
async fn insert_candidate(
    st: &AppState,
    job: &Job,
    new: NewCandidate,
    caller: &Caller,
) -> ApiResult<Candidate> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "a candidate needs a name"));
    }
    Address::parse(&new.phone).map_err(|e| ApiError::invalid("phone", e))?;
    let language = match &new.language {
        Some(l) => l
            .parse::<Lang>()
            .map_err(|e| ApiError::invalid("language", format!("{e}")))?
            .code()
            .to_owned(),
        None => job.language.clone(),
    };
    let script =
        InterviewScript::from_str(&job.script_toml, "script").map_err(anyhow::Error::from)?;
    if !script.languages().iter().any(|l| l.code() == language) {
        return Err(ApiError::invalid(
            "language",
            format!("the job's interview has no {language} texts"),
        ));
    }
    let timezone = new.timezone.clone().unwrap_or_else(|| "UTC".into());
    timezone.parse::<chrono_tz::Tz>().map_err(|_| {
        ApiError::invalid("timezone", format!("{timezone:?} is not an IANA time zone"))
    })?;
    if new
        .resume_text
        .as_ref()
        .is_some_and(|t| t.len() > MAX_RESUME)
    {
        return Err(ApiError::invalid(
            "resume_text",
            format!("longer than {MAX_RESUME} bytes"),
        ));
    }
    let screening = match &new.resume_text {
        Some(text) => screen_resume(st, job, text.clone()).await?,
        None => None,
    };
    let now = timestamp(Utc::now());
    let candidate = Candidate {
        id: new_id("cand"),
        job_id: job.id.clone(),
        external_id: new.external_id,
        name: name.to_owned(),
        phone: new.phone.trim().to_owned(),
        language,
        timezone,
        status: "imported".into(),
        created_at: now.clone(),
        updated_at: now,
        screening: screening
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(anyhow::Error::from)?,
    };
    let mut tx = st.store.pool.begin().await?;
    sqlx::query(
        "INSERT INTO candidates (id, job_id, external_id, name, phone, language, timezone, status, created_at, updated_at, resume_text, screening)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)",
    )
    .bind(&candidate.id)
    .bind(&candidate.job_id)
    .bind(&candidate.external_id)
    .bind(&candidate.name)
    .bind(&candidate.phone)
    .bind(&candidate.language)
    .bind(&candidate.timezone)
    .bind(&candidate.status)
    .bind(&candidate.created_at)
    .bind(&new.resume_text)
    .bind(candidate.screening.as_ref().map(|s| s.to_string()))
    .execute(&mut *tx)
    .await?;
    set_status(
        &mut tx,
        &candidate.id,
        "imported",
        "created through the API",
        &caller.actor(),
    )
    .await?;
    let mut candidate = candidate;
    if let Some(s) = &screening {
        let cause = match s.reasons.is_empty() {
            true => format!("résumé screened: score {}", s.score),
            false => format!("résumé screened: {}", s.reasons.join("; ")),
        };
        set_status(&mut tx, &candidate.id, s.decision, &cause, "screening").await?;
        candidate.status = s.decision.to_owned();
        crate::webhooks::enqueue(
            &mut tx,
            "candidate.screened",
            serde_json::json!({"candidate_id": candidate.id, "external_id": candidate.external_id, "screening": s}),
        )
        .await?;
    }
    tx.commit().await?;
    st.wake.notify_one();
    Ok(candidate)
}

async fn list_candidates(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Read)?;
    find_job(&st, &job_id).await?;
    let rows = sqlx::query(
        "SELECT * FROM candidates WHERE job_id = ?1 AND (?2 IS NULL OR id > ?2) AND (?3 IS NULL OR status = ?3)
         ORDER BY id LIMIT ?4",
    )
    .bind(&job_id)
    .bind(&page.after)
    .bind(&page.status)
    .bind(page.limit()?)
    .fetch_all(&st.store.pool)
    .await?;
    let items: Vec<Candidate> = rows.iter().map(Candidate::from_row).collect();
    let next = items.last().map(|c| c.id.clone());
    Ok(Json(
        serde_json::json!({"items": items, "next_after": next}),
    ))
}

async fn find_candidate(st: &AppState, id: &str) -> ApiResult<Candidate> {
    sqlx::query("SELECT * FROM candidates WHERE id = ?1")
        .bind(id)
        .fetch_optional(&st.store.pool)
        .await?
        .map(|r| Candidate::from_row(&r))
        .ok_or_else(|| ApiError::not_found("candidate", id))
}

async fn get_candidate(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Candidate>> {
    caller.require(Scope::Read)?;
    Ok(Json(find_candidate(&st, &id).await?))
}

async fn candidate_events(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Read)?;
    find_candidate(&st, &id).await?;
    let rows = sqlx::query("SELECT * FROM candidate_events WHERE candidate_id = ?1 ORDER BY seq")
        .bind(&id)
        .fetch_all(&st.store.pool)
        .await?;
    let items: Vec<CandidateEvent> = rows
        .iter()
        .map(|r| CandidateEvent {
            seq: r.get("seq"),
            at: r.get("at"),
            status: r.get("status"),
            cause: r.get("cause"),
            actor: r.get("actor"),
        })
        .collect();
    Ok(Json(serde_json::json!({"items": items})))
}

/// An interview attempt as the API shows it, with its report.
fn interview_json(r: &sqlx::sqlite::SqliteRow) -> serde_json::Value {
    let report: Option<String> = r.get("report_json");
    let id: String = r.get("id");
    let run_dir = std::path::PathBuf::from(r.get::<String, _>("run_dir"));
    let files: serde_json::Map<String, serde_json::Value> = CALL_FILES
        .iter()
        .filter(|(_, file, _)| run_dir.join(file).is_file())
        .map(|(name, _, _)| {
            (
                (*name).to_owned(),
                format!("/api/v1/interviews/{id}/{name}").into(),
            )
        })
        .collect();
    serde_json::json!({
        "id": id,
        "candidate_id": r.get::<String, _>("candidate_id"),
        "attempt_no": r.get::<i64, _>("attempt_no"),
        "call_id": r.get::<Option<String>, _>("call_id"),
        "outcome": r.get::<String, _>("outcome"),
        "status": r.get::<Option<String>, _>("status"),
        "score": r.get::<Option<f64>, _>("score"),
        "recommendation": r.get::<Option<String>, _>("recommendation"),
        "started_at": r.get::<String, _>("started_at"),
        "ended_at": r.get::<String, _>("ended_at"),
        "report": report.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()),
        "files": files,
    })
}

/// The files a call leaves, by the name the API gives them: (route name,
/// file in the call's directory, media type).
const CALL_FILES: &[(&str, &str, &str)] = &[
    ("recording", "recording.wav", "audio/wav"),
    ("transcript", "transcript.json", "application/json"),
    ("events", "events.jsonl", "application/x-ndjson"),
];

async fn candidate_interviews(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Read)?;
    find_candidate(&st, &id).await?;
    let rows = sqlx::query("SELECT * FROM interviews WHERE candidate_id = ?1 ORDER BY attempt_no")
        .bind(&id)
        .fetch_all(&st.store.pool)
        .await?;
    let items: Vec<serde_json::Value> = rows.iter().map(interview_json).collect();
    Ok(Json(serde_json::json!({"items": items})))
}

async fn find_interview(st: &AppState, id: &str) -> ApiResult<sqlx::sqlite::SqliteRow> {
    sqlx::query("SELECT * FROM interviews WHERE id = ?1")
        .bind(id)
        .fetch_optional(&st.store.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("interview", id))
}

async fn get_interview(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Read)?;
    Ok(Json(interview_json(&find_interview(&st, &id).await?)))
}

/// One of a call's files (`recording`, `transcript`, `events`), streamed from
/// disk with HTTP range support (`Range: bytes=…` gets 206), so a player can
/// seek in a long recording without it being held in memory.
async fn interview_file(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    req: Request,
) -> ApiResult<axum::response::Response> {
    use tower::ServiceExt;
    caller.require(Scope::Read)?;
    let Some((_, file, mime)) = CALL_FILES.iter().find(|(n, _, _)| *n == name) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such file {name:?} (recording, transcript, events)"),
        ));
    };
    let row = find_interview(&st, &id).await?;
    let path = std::path::PathBuf::from(row.get::<String, _>("run_dir")).join(file);
    if !path.is_file() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("interview {id} has no {name} (the call may not have been answered)"),
        ));
    }
    let served =
        tower_http::services::ServeFile::new_with_mime(&path, &mime.parse().expect("a media type"))
            .oneshot(req)
            .await
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    Ok(served.map(axum::body::Body::new))
}

/// A job's campaign: what it is doing now and its counts per status.
async fn campaign_view(st: &AppState, job_id: &str) -> ApiResult<serde_json::Value> {
    let live = st
        .campaigns
        .lock()
        .await
        .get(job_id)
        .is_some_and(Running::is_live);
    let stored = campaigns::stored_state(&st.store, job_id).await?;
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM candidates WHERE job_id = ?1 GROUP BY status",
    )
    .bind(job_id)
    .fetch_all(&st.store.pool)
    .await?;
    let counts: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|r| (r.get::<String, _>("status"), r.get::<i64, _>("n").into()))
        .collect();
    Ok(serde_json::json!({
        "job_id": job_id,
        "state": Stored::shown(stored, live),
        "counts": counts,
    }))
}

/// Starts the job's campaign: every candidate not yet settled (imported,
/// shortlisted, unanswered, rescheduled) is called under the job's campaign
/// settings. A paused campaign is resumed, not started.
async fn start_campaign(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::Write)?;
    let job = find_job(&st, &job_id).await?;
    let mut running = st.campaigns.lock().await;
    if running.get(&job_id).is_some_and(Running::is_live) {
        return Err(ApiError::conflict(
            "the job's campaign is already going (pause or cancel it first)",
        ));
    }
    if campaigns::stored_state(&st.store, &job_id).await? == Some(Stored::Paused) {
        return Err(ApiError::conflict(
            "the job's campaign is paused: POST its /campaign/resume",
        ));
    }
    let count = campaigns::launch(&st, &mut running, job).await?;
    drop(running);
    let mut view = campaign_view(&st, &job_id).await?;
    view["candidates"] = count.into();
    Ok((StatusCode::ACCEPTED, Json(view)))
}

async fn campaign_progress(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Read)?;
    find_job(&st, &job_id).await?;
    Ok(Json(campaign_view(&st, &job_id).await?))
}

/// Pauses the campaign: nobody new is dialled; the interviews in progress
/// finish. The state is `pausing` until they have, then `paused`.
async fn pause_campaign(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::Write)?;
    find_job(&st, &job_id).await?;
    {
        let running = st.campaigns.lock().await;
        let stored = campaigns::stored_state(&st.store, &job_id).await?;
        match running.get(&job_id) {
            Some(r) if r.is_live() && stored == Some(Stored::Running) => {
                campaigns::set_stored_state(&st.store, &job_id, Stored::Paused).await?;
                let _ = r.control.send(Control::Pause);
            }
            _ => return Err(ApiError::conflict("the job's campaign is not running")),
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(campaign_view(&st, &job_id).await?),
    ))
}

/// Resumes a paused campaign where it left off (attempts made so far count).
async fn resume_campaign(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::Write)?;
    let job = find_job(&st, &job_id).await?;
    {
        let mut running = st.campaigns.lock().await;
        let stored = campaigns::stored_state(&st.store, &job_id).await?;
        if !matches!(stored, Some(Stored::Paused | Stored::Running)) {
            return Err(ApiError::conflict("the job's campaign is not paused"));
        }
        match running.get(&job_id) {
            // Still finishing its calls: carry on dialling.
            Some(r) if r.is_live() => {
                if stored == Some(Stored::Running) {
                    return Err(ApiError::conflict("the job's campaign is already running"));
                }
                campaigns::set_stored_state(&st.store, &job_id, Stored::Running).await?;
                let _ = r.control.send(Control::Run);
            }
            _ => {
                campaigns::launch(&st, &mut running, job).await?;
            }
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(campaign_view(&st, &job_id).await?),
    ))
}

/// Cancels the campaign: calls in progress are hung up (BYE, or CANCEL while
/// ringing) and nobody else is dialled. Starting it again later calls whoever
/// is still unsettled.
async fn cancel_campaign(
    State(st): State<AppState>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::Write)?;
    find_job(&st, &job_id).await?;
    {
        let running = st.campaigns.lock().await;
        let stored = campaigns::stored_state(&st.store, &job_id).await?;
        let live = running.get(&job_id).filter(|r| r.is_live());
        match (live, stored) {
            (Some(r), _) => {
                campaigns::set_stored_state(&st.store, &job_id, Stored::Cancelled).await?;
                let _ = r.control.send(Control::Stop);
            }
            (None, Some(Stored::Paused | Stored::Running)) => {
                campaigns::set_stored_state(&st.store, &job_id, Stored::Cancelled).await?;
            }
            _ => return Err(ApiError::conflict("the job's campaign is not running")),
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(campaign_view(&st, &job_id).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    /// Event types (see `EVENT_TYPES`), or `["*"]`.
    events: Vec<String>,
}

async fn create_webhook(
    State(st): State<AppState>,
    caller: Caller,
    Body(new): Body<NewWebhook>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
    caller.require(Scope::Write)?;
    let url = reqwest::Url::parse(&new.url)
        .map_err(|e| ApiError::invalid("url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::invalid("url", "must be http:// or https://"));
    }
    if new.events.is_empty() {
        return Err(ApiError::invalid("events", "name at least one event type"));
    }
    if let Some(bad) = new
        .events
        .iter()
        .find(|e| *e != "*" && !EVENT_TYPES.contains(&e.as_str()))
    {
        return Err(ApiError::invalid(
            "events",
            format!(
                "unknown event type {bad:?} (known: {})",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    let webhook = Webhook {
        id: new_id("whk"),
        url: url.to_string(),
        events: new.events,
        created_at: timestamp(Utc::now()),
        secret: Some(format!("whsec_{}", hex::encode(rand::random::<[u8; 24]>()))),
    };
    sqlx::query(
        "INSERT INTO webhooks (id, url, secret, events, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&webhook.id)
    .bind(&webhook.url)
    .bind(&webhook.secret)
    .bind(serde_json::to_string(&webhook.events).map_err(anyhow::Error::from)?)
    .bind(&webhook.created_at)
    .execute(&st.store.pool)
    .await?;
    Ok((StatusCode::CREATED, Json(webhook)))
}

async fn deliveries(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Scope::Read)?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM webhooks WHERE id = ?1")
        .bind(&id)
        .fetch_optional(&st.store.pool)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("webhook", &id));
    }
    let rows = sqlx::query("SELECT * FROM outbox WHERE webhook_id = ?1 ORDER BY created_at")
        .bind(&id)
        .fetch_all(&st.store.pool)
        .await?;
    let items: Vec<Delivery> = rows.iter().map(Delivery::from_row).collect();
    Ok(Json(serde_json::json!({"items": items})))
}

/// Statuses a recruiter may set by hand: overriding the screening, or the
/// decision after the interview.
const RECRUITER_STATUSES: &[&str] = &[
    "shortlisted",
    "screened_out",
    "advanced",
    "held",
    "rejected",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: String,
    /// Why, kept in the candidate's history.
    reason: String,
}

async fn override_status(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(change): Body<StatusChange>,
) -> ApiResult<Json<Candidate>> {
    caller.require(Scope::Write)?;
    let candidate = find_candidate(&st, &id).await?;
    if !RECRUITER_STATUSES.contains(&change.status.as_str()) {
        return Err(ApiError::invalid(
            "status",
            format!("one of {}", RECRUITER_STATUSES.join(", ")),
        ));
    }
    if change.reason.trim().is_empty() {
        return Err(ApiError::invalid(
            "reason",
            "say why (it is kept in the history)",
        ));
    }
    if candidate.status == "calling" {
        return Err(ApiError::conflict("the candidate is on a call now"));
    }
    let mut tx = st.store.pool.begin().await?;
    set_status(
        &mut tx,
        &id,
        &change.status,
        change.reason.trim(),
        &caller.actor(),
    )
    .await?;
    crate::webhooks::enqueue(
        &mut tx,
        "candidate.status_changed",
        serde_json::json!({"candidate_id": id, "external_id": candidate.external_id,
            "status": change.status, "cause": change.reason.trim()}),
    )
    .await?;
    tx.commit().await?;
    st.wake.notify_one();
    Ok(Json(find_candidate(&st, &id).await?))
}

/// A résumé file (PDF, DOCX or text, told by its bytes) for a candidate: its
/// text replaces the one held, and it is screened against the job's
/// requirements (the status moves to shortlisted or screened_out, and a
/// `candidate.screened` webhook goes out).
async fn upload_resume(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Candidate>> {
    caller.require(Scope::Write)?;
    let candidate = find_candidate(&st, &id).await?;
    let job = find_job(&st, &candidate.job_id).await?;
    let (text, format) = tokio::task::spawn_blocking(move || crate::resume::extract(&body))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|e| ApiError::invalid("resume", e.to_string()))?;
    let screening = screen_resume(&st, &job, text.clone()).await?;
    let mut tx = st.store.pool.begin().await?;
    sqlx::query("UPDATE candidates SET resume_text = ?1, screening = ?2 WHERE id = ?3")
        .bind(&text)
        .bind(
            screening
                .as_ref()
                .map(|s| serde_json::to_string(s))
                .transpose()
                .map_err(anyhow::Error::from)?,
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    if let Some(s) = &screening {
        if candidate.status != "calling" {
            let cause = format!("{format} résumé screened: score {}", s.score);
            set_status(&mut tx, &id, s.decision, &cause, &caller.actor()).await?;
        }
        crate::webhooks::enqueue(
            &mut tx,
            "candidate.screened",
            serde_json::json!({"candidate_id": id, "external_id": candidate.external_id, "screening": s}),
        )
        .await?;
    }
    tx.commit().await?;
    st.wake.notify_one();
    Ok(Json(find_candidate(&st, &id).await?))
}

/// Screens a résumé against the job's requirements (`None` when the job has
/// none): keywords and years by the NLU's parsers, and, for English résumés,
/// how close it reads to the role by sentence embeddings.
async fn screen_resume(st: &AppState, job: &Job, text: String) -> ApiResult<Option<Screening>> {
    let Some(req) = &job.requirements else {
        return Ok(None);
    };
    let req: Requirements = serde_json::from_value(req.clone()).map_err(anyhow::Error::from)?;
    let role = req.summary.clone().unwrap_or_else(|| job.title.clone());
    let minilm = st.minilm.clone();
    let screening = tokio::task::spawn_blocking(move || -> anyhow::Result<Screening> {
        let lang = screening::language_of(&text);
        let similar = match lang {
            Lang::En => screening::similarity(&minilm, &text, &role)?,
            Lang::Zh => None,
        };
        Ok(screening::screen(&text, lang, &req, similar))
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(Some(screening))
}
