//! The REST API, `/api/v1`. Every route names the scope it needs
//! ([`Caller::require`]); errors are JSON with a stable `code` (see
//! [`ApiError`]); request bodies are strict JSON (unknown fields are refused,
//! naming the field).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use voxhire_campaign::Address;
use voxhire_dialog::InterviewScript;
use voxhire_lang::Lang;

use crate::auth::{need, Allowed, Caller};
use crate::campaigns::{Ask, Stored};
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::screening::{self, Requirements, Screening};
use crate::settings::CampaignSettings;
use crate::store::{
    label, new_id, open_text, seal_text, set_status, timestamp, Candidate, CandidateEvent, Job,
};
use crate::webhooks::{Delivery, Webhook, EVENT_TYPES};
use crate::{campaigns, AppState, Running};
use voxhire_vault::Keyring;

/// Largest request body: a script or a batch of candidates, not a résumé.
const MAX_BODY: usize = 1 << 20;

/// The API's routes with their OpenAPI description, from the handlers'
/// `#[utoipa::path]` annotations: a route cannot be served without being
/// described, nor described without being served.
fn routes() -> OpenApiRouter<AppState> {
    let resume = OpenApiRouter::new().routes(routes!(upload_resume)).layer(
        axum::extract::DefaultBodyLimit::max(crate::resume::MAX_FILE),
    );
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(create_job, list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(create_candidate, list_candidates))
        .routes(routes!(import_candidates))
        .routes(routes!(start_campaign, campaign_progress))
        .routes(routes!(pause_campaign))
        .routes(routes!(resume_campaign))
        .routes(routes!(cancel_campaign))
        .routes(routes!(get_candidate))
        .routes(routes!(candidate_events))
        .routes(routes!(override_status))
        .routes(routes!(candidate_interviews))
        .routes(routes!(get_interview))
        .routes(routes!(interview_file))
        .routes(routes!(create_webhook))
        .routes(routes!(deliveries))
        .merge(resume)
        .merge(crate::access::routes())
}

/// The routes and their OpenAPI 3.1 document, with what every route shares
/// (see [`common_answers`]) added once, here.
fn described() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut doc) = routes().split_for_parts();
    common_answers(&mut doc);
    (api, doc)
}

/// The OpenAPI 3.1 document of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    described().1
}

/// What follows from the API's shared mechanisms rather than from one
/// handler, written into every operation: a string parameter for each
/// `{name}` in its path that the handler did not describe, 404 for a path
/// with an id (`find_*` on the store), and 401/403 for an operation behind
/// the API key (the [`Caller`] extractor and [`Caller::require`]).
fn common_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Ref, Type};
    use utoipa::openapi::{ContentBuilder, Required, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorResponse")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let names: Vec<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let params = op.parameters.get_or_insert_with(Vec::new);
            for name in &names {
                if !params.iter().any(|p| p.name == *name) {
                    params.push(
                        ParameterBuilder::new()
                            .name(*name)
                            .parameter_in(ParameterIn::Path)
                            .required(Required::True)
                            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                            .build(),
                    );
                }
            }
            let answers = &mut op.responses.responses;
            if names.contains(&"id") {
                answers
                    .entry("404".into())
                    .or_insert_with(|| error("no such id").into());
            }
            let public = op.security.as_ref().is_some_and(Vec::is_empty);
            if !public {
                answers
                    .entry("401".into())
                    .or_insert_with(|| error("no, unknown or revoked API key").into());
                answers
                    .entry("403".into())
                    .or_insert_with(|| error("the key's scope does not allow it").into());
            }
        }
    }
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = described();
    let json = Arc::new(
        doc.to_pretty_json()
            .expect("the OpenAPI document serialises"),
    );
    let page = Arc::new(crate::reference::render(&doc));
    api.route(
        "/api/v1/openapi.json",
        get(move || async move {
            (
                [(header::CONTENT_TYPE, "application/json")],
                json.as_str().to_owned(),
            )
        }),
    )
    .route(
        "/api/v1/docs",
        get(move || async move { axum::response::Html(page.as_str().to_owned()) }),
    )
    .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::idempotency::layer,
    ))
    .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
    .with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "voxhire back office",
        description = "Jobs, candidates and their résumé screening, phone-interview campaigns, results and signed webhooks to the ATS. Authenticate with `Authorization: Bearer <key>` (`voxhire apikey create`); read keys may GET, write keys may also change things. Errors are JSON with a stable `code` and, for bad input, the `field` at fault. POSTs that create or start things take an `Idempotency-Key` header.",
    ),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    components(schemas(ErrorResponse)),
)]
struct ApiDoc;

struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "api_key",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some("an API key from `voxhire apikey create`"))
                        .build(),
                ),
            );
    }
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

/// Whether the server is up (no key needed).
#[utoipa::path(get, path = "/api/v1/health", tag = "meta", security(), responses((status = 200, description = "the server is up", body = Object)))]
async fn health() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

#[derive(Deserialize, ToSchema)]
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
    /// How long recordings and reports are kept after each call.
    retention: Option<crate::retention::Retention>,
}

/// Creates a job from its interview script (TOML, checked: errors name the line and key), its screening requirements and its campaign settings.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = NewJob, params(("Idempotency-Key" = Option<String>, Header, description = "acts once per key; a retry gets the first response")), responses((status = 201, body = Job), (status = 400, description = "JSON that does not parse", body = ErrorResponse), (status = 422, description = "a field's value is unusable (named in `field`)", body = ErrorResponse)))]
async fn create_job(
    State(st): State<AppState>,
    _caller: Allowed<need::WriteRecords>,
    Body(new): Body<NewJob>,
) -> ApiResult<(StatusCode, Json<Job>)> {
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
    if let Some(r) = &new.retention {
        r.check()?;
    }
    let retention = new
        .retention
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
        retention,
        script_toml: new.script,
    };
    sqlx::query(
        "INSERT INTO jobs (id, title, language, script_toml, created_at, requirements, campaign, retention)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&job.id)
    .bind(&job.title)
    .bind(&job.language)
    .bind(&job.script_toml)
    .bind(&job.created_at)
    .bind(job.requirements.as_ref().map(|r| r.to_string()))
    .bind(job.campaign.as_ref().map(|c| c.to_string()))
    .bind(job.retention.as_ref().map(|r| r.to_string()))
    .execute(&st.store.pool)
    .await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// `?limit=` (1–200, default 50) and `?after=<id>` (the last id of the previous page).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Page {
    /// 1–200, default 50.
    limit: Option<u32>,
    /// The last id of the previous page (`next_after`).
    after: Option<String>,
    /// Candidates only: those with this status.
    status: Option<String>,
}

/// A page of a list: pass `next_after` as `?after=` for the next one.
#[derive(Serialize, ToSchema)]
struct Listed<T> {
    items: Vec<T>,
    next_after: Option<String>,
}

/// A whole list.
#[derive(Serialize, ToSchema)]
struct Items<T> {
    items: Vec<T>,
}

/// A job's campaign now.
#[derive(Serialize, ToSchema)]
struct CampaignView {
    job_id: String,
    /// `idle`, `running`, `pausing`, `paused`, `cancelling`, `cancelled`,
    /// `finished`, or `interrupted` (stopped by an error: see the server's log).
    state: &'static str,
    /// Candidates per status.
    counts: std::collections::BTreeMap<String, i64>,
    /// When started: how many candidates it will dial.
    #[serde(skip_serializing_if = "Option::is_none")]
    candidates: Option<usize>,
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

/// Lists jobs, oldest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(Page), responses((status = 200, body = Listed<Job>)))]
async fn list_jobs(
    State(st): State<AppState>,
    _caller: Allowed<need::ReadRecords>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Listed<Job>>> {
    let rows = sqlx::query("SELECT * FROM jobs WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
        .bind(&page.after)
        .bind(page.limit()?)
        .fetch_all(&st.store.pool)
        .await?;
    let items: Vec<Job> = rows.iter().map(Job::from_row).collect();
    let next_after = items.last().map(|j| j.id.clone());
    Ok(Json(Listed { items, next_after }))
}

async fn find_job(st: &AppState, id: &str) -> ApiResult<Job> {
    sqlx::query("SELECT * FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(&st.store.pool)
        .await?
        .map(|r| Job::from_row(&r))
        .ok_or_else(|| ApiError::not_found("job", id))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", responses((status = 200, body = Job)))]
async fn get_job(
    State(st): State<AppState>,
    _caller: Allowed<need::ReadRecords>,
    Path(id): Path<String>,
) -> ApiResult<Json<Job>> {
    Ok(Json(find_job(&st, &id).await?))
}

#[derive(Deserialize, ToSchema)]
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

/// Adds a candidate to a job; a résumé given as text is screened at once (the status becomes shortlisted or screened_out, with the reasons).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/candidates", tag = "candidates", request_body = NewCandidate, responses((status = 201, body = Candidate), (status = 400, description = "JSON that does not parse", body = ErrorResponse), (status = 422, description = "a field's value is unusable (named in `field`)", body = ErrorResponse)))]
async fn create_candidate(
    State(st): State<AppState>,
    caller: Allowed<need::WriteRecords>,
    Path(job_id): Path<String>,
    Body(new): Body<NewCandidate>,
) -> ApiResult<(StatusCode, Json<Candidate>)> {
    let job = find_job(&st, &job_id).await?;
    let candidate = insert_candidate(&st, &job, new, &caller).await?;
    Ok((StatusCode::CREATED, Json(candidate)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Import {
    candidates: Vec<NewCandidate>,
}

/// Most candidates in one import.
const MAX_IMPORT: usize = 1000;

/// Many candidates at once: a JSON `{"candidates": [...]}` body, or CSV
/// (`Content-Type: text/csv`, a header row naming the same fields). Each row is
/// created or refused on its own; the answer lists both, by row.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/candidates/import", tag = "candidates", request_body(content((Import = "application/json"), (String = "text/csv"))), responses((status = 200, description = "`created` (row, candidate) and `refused` (row, code, field, message)", body = Object), (status = 400, description = "JSON that does not parse", body = ErrorResponse), (status = 422, description = "a field's value is unusable (named in `field`)", body = ErrorResponse)))]
async fn import_candidates(
    State(st): State<AppState>,
    caller: Allowed<need::WriteRecords>,
    Path(job_id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
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
        node: None,
    };
    let mut tx = st.store.pool.begin().await?;
    sqlx::query(
        "INSERT INTO candidates (id, job_id, external_id, name, phone, language, timezone, status, created_at, updated_at, resume_text, screening)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)",
    )
    .bind(&candidate.id)
    .bind(&candidate.job_id)
    .bind(&candidate.external_id)
    .bind(seal_text(&st.keys, &label(&candidate.id, "name"), &candidate.name))
    .bind(seal_text(&st.keys, &label(&candidate.id, "phone"), &candidate.phone))
    .bind(&candidate.language)
    .bind(&candidate.timezone)
    .bind(&candidate.status)
    .bind(&candidate.created_at)
    .bind(new.resume_text.as_ref().map(|t| seal_text(&st.keys, &label(&candidate.id, "resume"), t)))
    .bind(candidate.screening.as_ref().map(|s| {
        seal_text(&st.keys, &label(&candidate.id, "screening"), &s.to_string())
    }))
    .execute(&mut *tx)
    .await?;
    set_status(
        &mut tx,
        &st.audit,
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
        set_status(
            &mut tx,
            &st.audit,
            &candidate.id,
            s.decision,
            &cause,
            "screening",
        )
        .await?;
        candidate.status = s.decision.to_owned();
        crate::webhooks::enqueue(
            &mut tx,
            &st.keys,
            "candidate.screened",
            serde_json::json!({"candidate_id": candidate.id, "external_id": candidate.external_id, "screening": s}),
        )
        .await?;
    }
    tx.commit().await?;
    st.wake.notify_one();
    Ok(candidate)
}

/// Lists a job's candidates, optionally by status.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/candidates", tag = "candidates", params(("id" = String, Path, description = "the job"), Page), responses((status = 200, body = Listed<Candidate>)))]
async fn list_candidates(
    State(st): State<AppState>,
    caller: Allowed<need::ReadRecords>,
    Path(job_id): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Listed<Candidate>>> {
    find_job(&st, &job_id).await?;
    crate::access::record_read(&st, &caller, "candidates", &job_id).await?;
    let rows = sqlx::query(
        "SELECT * FROM candidates WHERE job_id = $1 AND ($2 IS NULL OR id > $2) AND ($3 IS NULL OR status = $3)
         ORDER BY id LIMIT $4",
    )
    .bind(&job_id)
    .bind(&page.after)
    .bind(&page.status)
    .bind(page.limit()?)
    .fetch_all(&st.store.pool)
    .await?;
    let items: Vec<Candidate> = rows
        .iter()
        .map(|r| Candidate::from_row(r, &st.keys))
        .collect::<anyhow::Result<_>>()?;
    let next_after = items.last().map(|c| c.id.clone());
    Ok(Json(Listed { items, next_after }))
}

async fn find_candidate(st: &AppState, id: &str) -> ApiResult<Candidate> {
    sqlx::query("SELECT * FROM candidates WHERE id = $1")
        .bind(id)
        .fetch_optional(&st.store.pool)
        .await?
        .map(|r| Candidate::from_row(&r, &st.keys))
        .transpose()?
        .ok_or_else(|| ApiError::not_found("candidate", id))
}

/// One candidate, with the screening.
#[utoipa::path(get, path = "/api/v1/candidates/{id}", tag = "candidates", responses((status = 200, body = Candidate)))]
async fn get_candidate(
    State(st): State<AppState>,
    caller: Allowed<need::ReadRecords>,
    Path(id): Path<String>,
) -> ApiResult<Json<Candidate>> {
    let candidate = find_candidate(&st, &id).await?;
    crate::access::record_read(&st, &caller, "candidate", &id).await?;
    Ok(Json(candidate))
}

/// The candidate's status history: every change with when, why and who.
#[utoipa::path(get, path = "/api/v1/candidates/{id}/events", tag = "candidates", responses((status = 200, body = Items<CandidateEvent>)))]
async fn candidate_events(
    State(st): State<AppState>,
    caller: Allowed<need::ReadRecords>,
    Path(id): Path<String>,
) -> ApiResult<Json<Items<CandidateEvent>>> {
    find_candidate(&st, &id).await?;
    crate::access::record_read(&st, &caller, "status_history", &id).await?;
    let rows = sqlx::query("SELECT * FROM candidate_events WHERE candidate_id = $1 ORDER BY seq")
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
    Ok(Json(Items { items }))
}

/// An interview attempt as the API shows it, with its report.
fn interview_json(r: &sqlx::any::AnyRow, keys: &Keyring) -> anyhow::Result<serde_json::Value> {
    let id: String = r.get("id");
    let report = open_text(
        keys,
        &label(&id, "report"),
        crate::store::bytes_of(r, "report_json"),
    )?;
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
    Ok(serde_json::json!({
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
    }))
}

/// The files a call leaves, by the name the API gives them: (route name,
/// file in the call's directory, media type).
const CALL_FILES: &[(&str, &str, &str)] = &[
    ("recording", "recording.wav", "audio/wav"),
    ("transcript", "transcript.json", "application/json"),
    ("events", "events.jsonl", "application/x-ndjson"),
];

/// The candidate's call attempts, each with its report and files.
#[utoipa::path(get, path = "/api/v1/candidates/{id}/interviews", tag = "interviews", responses((status = 200, description = "`items`: each attempt (see GET /interviews/{id})", body = Object)))]
async fn candidate_interviews(
    State(st): State<AppState>,
    caller: Allowed<need::ReadRecords>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    find_candidate(&st, &id).await?;
    crate::access::record_read(&st, &caller, "interviews", &id).await?;
    let rows = sqlx::query("SELECT * FROM interviews WHERE candidate_id = $1 ORDER BY attempt_no")
        .bind(&id)
        .fetch_all(&st.store.pool)
        .await?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| interview_json(r, &st.keys))
        .collect::<anyhow::Result<_>>()?;
    Ok(Json(serde_json::json!({"items": items})))
}

async fn find_interview(st: &AppState, id: &str) -> ApiResult<sqlx::any::AnyRow> {
    sqlx::query("SELECT * FROM interviews WHERE id = $1")
        .bind(id)
        .fetch_optional(&st.store.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("interview", id))
}

/// One call attempt, with its report and links to its files.
#[utoipa::path(get, path = "/api/v1/interviews/{id}", tag = "interviews", responses((status = 200, description = "the attempt: outcome, status, score, recommendation, times, `report`, and `files` (links to its recording, transcript, events)", body = Object)))]
async fn get_interview(
    State(st): State<AppState>,
    caller: Allowed<need::ReadRecords>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let row = find_interview(&st, &id).await?;
    crate::access::record_read(&st, &caller, "report", &id).await?;
    Ok(Json(interview_json(&row, &st.keys)?))
}

/// One of a call's files (`recording`, `transcript`, `events`), streamed from
/// disk with HTTP range support (`Range: bytes=…` gets 206), so a player can
/// seek in a long recording without it being held in memory.
#[utoipa::path(get, path = "/api/v1/interviews/{id}/{file}", tag = "interviews", params(("id" = String, Path, description = "the interview"), ("file" = String, Path, description = "`recording` (audio/wav), `transcript` (JSON) or `events` (JSON lines)"), ("Range" = Option<String>, Header, description = "`bytes=start-end`: answered 206 with those bytes")), responses((status = 200, description = "the whole file", content((Vec<u8> = "audio/wav"), (Object = "application/json"), (String = "application/x-ndjson"))), (status = 206, description = "the range asked for"), (status = 416, description = "a range outside the file")))]
async fn interview_file(
    State(st): State<AppState>,
    caller: Allowed<need::ReadRecords>,
    Path((id, name)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::response::Response> {
    let Some((_, file, mime)) = CALL_FILES.iter().find(|(n, _, _)| *n == name) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such file {name:?} (recording, transcript, events)"),
        ));
    };
    let row = find_interview(&st, &id).await?;
    // A player seeking in a recording sends many range requests: the read
    // is audited once, where it starts, not once per seek.
    if !crate::files::continues_a_read(&headers) {
        crate::access::record_read(&st, &caller, &name, &id).await?;
    }
    let path = std::path::PathBuf::from(row.get::<String, _>("run_dir")).join(file);
    if !path.is_file() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("interview {id} has no {name} (the call may not have been answered)"),
        ));
    }
    crate::files::serve(path, mime, st.keys.clone(), &headers).await
}

/// A job's campaign: what it is doing now and its counts per status.
async fn campaign_view(st: &AppState, job_id: &str) -> ApiResult<CampaignView> {
    let live = st
        .campaigns
        .lock()
        .await
        .get(job_id)
        .is_some_and(Running::is_live);
    let stored = campaigns::stored_state(&st.store, job_id).await?;
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM candidates WHERE job_id = $1 GROUP BY status",
    )
    .bind(job_id)
    .fetch_all(&st.store.pool)
    .await?;
    let counts = rows
        .iter()
        .map(|r| (r.get::<String, _>("status"), r.get::<i64, _>("n")))
        .collect();
    Ok(CampaignView {
        job_id: job_id.to_owned(),
        state: Stored::shown(stored, live),
        counts,
        candidates: None,
    })
}

/// Starts the job's campaign: every candidate not yet settled (imported,
/// shortlisted, unanswered, rescheduled) is called under the job's campaign
/// settings. A paused campaign is resumed, not started.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/campaign", tag = "campaigns", responses((status = 202, description = "started: `state`, `counts` per status, `candidates` to dial", body = CampaignView), (status = 409, description = "already going, or paused (resume it)", body = ErrorResponse)))]
async fn start_campaign(
    State(st): State<AppState>,
    _caller: Allowed<need::WriteRecords>,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    control_campaign(st, job_id, Ask::Start).await
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}/campaign", tag = "campaigns", responses((status = 200, body = CampaignView)))]
async fn campaign_progress(
    State(st): State<AppState>,
    _caller: Allowed<need::ReadRecords>,
    Path(job_id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    find_job(&st, &job_id).await?;
    Ok(Json(campaign_view(&st, &job_id).await?))
}

/// Pauses the campaign: nobody new is dialled; the interviews in progress
/// finish. The state is `pausing` until they have, then `paused`.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/campaign/pause", tag = "campaigns", responses((status = 202, body = CampaignView), (status = 409, description = "not running", body = ErrorResponse)))]
async fn pause_campaign(
    State(st): State<AppState>,
    _caller: Allowed<need::WriteRecords>,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    control_campaign(st, job_id, Ask::Pause).await
}

/// Resumes a paused campaign where it left off (attempts made so far count).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/campaign/resume", tag = "campaigns", responses((status = 202, body = CampaignView), (status = 409, description = "not paused", body = ErrorResponse)))]
async fn resume_campaign(
    State(st): State<AppState>,
    _caller: Allowed<need::WriteRecords>,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    control_campaign(st, job_id, Ask::Resume).await
}

/// Cancels the campaign: calls in progress are hung up (BYE, or CANCEL while
/// ringing) and nobody else is dialled. Starting it again later calls whoever
/// is still unsettled.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/campaign/cancel", tag = "campaigns", responses((status = 202, body = CampaignView), (status = 409, description = "not running or paused", body = ErrorResponse)))]
async fn cancel_campaign(
    State(st): State<AppState>,
    _caller: Allowed<need::WriteRecords>,
    Path(job_id): Path<String>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    control_campaign(st, job_id, Ask::Cancel).await
}

/// What the four campaign routes share: the key's scope, the job, the
/// transition ([`campaigns::ask`]), and the campaign as it is now.
async fn control_campaign(
    st: AppState,
    job_id: String,
    ask: Ask,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let job = find_job(&st, &job_id).await?;
    let count = campaigns::ask(&st, job, ask).await?;
    let mut view = campaign_view(&st, &job_id).await?;
    view.candidates = count;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    /// Event types (see `EVENT_TYPES`), or `["*"]`.
    events: Vec<String>,
}

/// Subscribes a URL to events; deliveries are signed with the secret returned here (shown once).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook, responses((status = 201, description = "the subscription, with its signing secret (shown once)", body = Webhook), (status = 400, description = "JSON that does not parse", body = ErrorResponse), (status = 422, description = "a field's value is unusable (named in `field`)", body = ErrorResponse)))]
async fn create_webhook(
    State(st): State<AppState>,
    caller: Allowed<need::Webhooks>,
    Body(new): Body<NewWebhook>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
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
        "INSERT INTO webhooks (id, url, secret, events, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&webhook.id)
    .bind(&webhook.url)
    .bind(voxhire_vault::seal(
        &st.keys,
        &crate::secrets::webhook_label(&webhook.id),
        webhook.secret.as_deref().unwrap_or_default().as_bytes(),
    ))
    .bind(serde_json::to_string(&webhook.events).map_err(anyhow::Error::from)?)
    .bind(&webhook.created_at)
    .execute(&st.store.pool)
    .await?;
    st.audit
        .record(
            &st.store,
            crate::audit::Event {
                actor: &caller.actor(),
                action: "webhook.create",
                object: &webhook.id,
                detail: serde_json::json!({}),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(webhook)))
}

/// A subscription's deliveries: pending, delivered or dead, with attempts and the last error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", responses((status = 200, body = Items<Delivery>)))]
async fn deliveries(
    State(st): State<AppState>,
    _caller: Allowed<need::Webhooks>,
    Path(id): Path<String>,
) -> ApiResult<Json<Items<Delivery>>> {
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM webhooks WHERE id = $1")
        .bind(&id)
        .fetch_optional(&st.store.pool)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("webhook", &id));
    }
    let rows = sqlx::query("SELECT * FROM outbox WHERE webhook_id = $1 ORDER BY created_at")
        .bind(&id)
        .fetch_all(&st.store.pool)
        .await?;
    let items: Vec<Delivery> = rows.iter().map(Delivery::from_row).collect();
    Ok(Json(Items { items }))
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: String,
    /// Why, kept in the candidate's history.
    reason: String,
}

/// A recruiter sets the status (overriding the screening, or deciding after the interview), with the reason kept in the history.
#[utoipa::path(post, path = "/api/v1/candidates/{id}/status", tag = "candidates", request_body = StatusChange, responses((status = 200, body = Candidate), (status = 409, description = "the candidate is on a call", body = ErrorResponse), (status = 400, description = "JSON that does not parse", body = ErrorResponse), (status = 422, description = "a field's value is unusable (named in `field`)", body = ErrorResponse)))]
async fn override_status(
    State(st): State<AppState>,
    caller: Allowed<need::WriteRecords>,
    Path(id): Path<String>,
    Body(change): Body<StatusChange>,
) -> ApiResult<Json<Candidate>> {
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
        &st.audit,
        &id,
        &change.status,
        change.reason.trim(),
        &caller.actor(),
    )
    .await?;
    crate::webhooks::enqueue(
        &mut tx,
        &st.keys,
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
#[utoipa::path(put, path = "/api/v1/candidates/{id}/resume", tag = "candidates", request_body(content((Vec<u8> = "application/pdf"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (String = "text/plain")), description = "PDF, DOCX or text, told by its bytes; up to 10 MB"), responses((status = 200, body = Candidate), (status = 422, description = "unreadable, empty or corrupt file", body = ErrorResponse)))]
async fn upload_resume(
    State(st): State<AppState>,
    caller: Allowed<need::WriteRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Candidate>> {
    let candidate = find_candidate(&st, &id).await?;
    let job = find_job(&st, &candidate.job_id).await?;
    let (text, format) = tokio::task::spawn_blocking(move || crate::resume::extract(&body))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|e| ApiError::invalid("resume", e.to_string()))?;
    let screening = screen_resume(&st, &job, text.clone()).await?;
    let mut tx = st.store.pool.begin().await?;
    sqlx::query("UPDATE candidates SET resume_text = $1, screening = $2 WHERE id = $3")
        .bind(seal_text(&st.keys, &label(&id, "resume"), &text))
        .bind(
            screening
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(anyhow::Error::from)?
                .map(|s| seal_text(&st.keys, &label(&id, "screening"), &s)),
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    if let Some(s) = &screening {
        if candidate.status != "calling" {
            let cause = format!("{format} résumé screened: score {}", s.score);
            set_status(&mut tx, &st.audit, &id, s.decision, &cause, &caller.actor()).await?;
        }
        crate::webhooks::enqueue(
            &mut tx,
            &st.keys,
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
