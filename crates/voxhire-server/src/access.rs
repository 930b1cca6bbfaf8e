//! The API's sign-in, staff accounts and audit trail routes.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::Body;
use crate::audit::{self, Entry, Event, Verdict};
use crate::auth::{need, Allowed, Caller, Role, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::staff::{self, Enrolment, Refusal, User};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
    /// The authenticator's 6-digit code, or a recovery code.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    /// `user:usr_…` or `api_key:key_…`.
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// The client's address, when the server was started with it (tests that
/// drive the router directly have none).
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip()),
        ))
    }
}

fn cookie(value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age={max_age}"
    ))
    .expect("a cookie of hex digits")
}

fn too_many(secs: u64, message: &str) -> Response {
    let mut r =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message).into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// A refused sign-in in the audit trail: the account's id (or `-`) and why.
async fn note_refusal(st: &AppState, object: &str, why: Refusal) -> ApiResult<()> {
    st.audit
        .record(
            &st.store,
            Event {
                actor: "anonymous",
                action: "signin.refused",
                object,
                detail: serde_json::json!({ "why": why.code() }),
            },
        )
        .await?;
    Ok(())
}

/// Signs a staff member in with email, password and TOTP (or recovery)
/// code; the session is an `HttpOnly; Secure; SameSite=Strict` cookie for 8
/// hours. Every attempt is in the audit trail.
#[utoipa::path(post, path = "/api/v1/session", tag = "access", security(), request_body = SignIn, responses((status = 200, body = Session, headers(("Set-Cookie" = String, description = "the session"))), (status = 401, description = "wrong email, password or code", body = ErrorResponse), (status = 429, description = "locked after repeated failures; `Retry-After` says for how long", body = ErrorResponse)))]
async fn sign_in(
    State(st): State<AppState>,
    Peer(ip): Peer,
    Body(req): Body<SignIn>,
) -> ApiResult<Response> {
    if let Some(secs) = ip.and_then(|ip| st.sign_in_limiter.blocked(ip)) {
        note_refusal(&st, "-", Refusal::TooManyFromAddress).await?;
        return Ok(too_many(
            secs,
            "too many failed sign-ins from this address; wait",
        ));
    }
    let attempt = staff::sign_in(&st.store, &st.keys, &req.email, &req.password, &req.code).await?;
    let object = attempt.user_id.as_deref().unwrap_or("-");
    match attempt.result {
        Ok(signed) => {
            st.audit
                .record(
                    &st.store,
                    Event {
                        actor: &format!("user:{}", signed.user_id),
                        action: "signin",
                        object,
                        detail: serde_json::json!({}),
                    },
                )
                .await?;
            let expires_at = crate::store::timestamp(signed.expires_at);
            let mut r = Json(Session {
                actor: format!("user:{}", signed.user_id),
                role: Some(signed.role),
                expires_at: Some(expires_at),
            })
            .into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                cookie(&signed.token, staff::SESSION_HOURS * 3600),
            );
            Ok(r)
        }
        Err(why) => {
            if let Some(ip) = ip.filter(|_| !matches!(why, Refusal::Locked { .. })) {
                st.sign_in_limiter.failed(ip);
            }
            note_refusal(&st, object, why).await?;
            match why {
                Refusal::Locked { retry_after_secs } => Ok(too_many(
                    retry_after_secs,
                    "this account is locked after repeated failures; wait",
                )),
                _ => Err(ApiError::unauthorized("wrong email, password or code")),
            }
        }
    }
}

/// Who the request is signed in as.
#[utoipa::path(get, path = "/api/v1/session", tag = "access", responses((status = 200, body = Session)))]
async fn who_am_i(caller: Caller) -> Json<Session> {
    Json(Session {
        actor: caller.actor(),
        role: match &caller {
            Caller::Staff { role, .. } => Some(*role),
            Caller::Key { .. } => None,
        },
        expires_at: None,
    })
}

/// Signs out: the session stops working at once.
#[utoipa::path(delete, path = "/api/v1/session", tag = "access", responses((status = 204, description = "signed out"), (status = 409, description = "an API key has no session", body = ErrorResponse)))]
async fn sign_out(State(st): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let Caller::Staff {
        user_id, session, ..
    } = &caller
    else {
        return Err(ApiError::conflict(
            "an API key has no session; revoke the key instead",
        ));
    };
    staff::sign_out(&st.store, session).await?;
    st.audit
        .record(
            &st.store,
            Event {
                actor: &caller.actor(),
                action: "signout",
                object: user_id,
                detail: serde_json::json!({}),
            },
        )
        .await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie("", 0));
    Ok(r)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub role: Role,
    /// At least 12 characters.
    pub password: String,
}

/// Creates a staff account. The answer holds the TOTP secret and recovery
/// codes: hand them to the person, they are never shown again.
#[utoipa::path(post, path = "/api/v1/users", tag = "access", request_body = NewUser, responses((status = 201, body = Enrolment), (status = 409, description = "the email has an account", body = ErrorResponse), (status = 422, description = "a field is unusable", body = ErrorResponse)))]
async fn create_user(
    State(st): State<AppState>,
    caller: Allowed<need::Users>,
    Body(new): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<Enrolment>)> {
    let made = staff::create_user(&st.store, &st.keys, &new.email, new.role, &new.password).await?;
    st.audit
        .record(
            &st.store,
            Event {
                actor: &caller.actor(),
                action: "user.create",
                object: &made.id,
                detail: serde_json::json!({ "role": made.role.name() }),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// The staff accounts.
#[utoipa::path(get, path = "/api/v1/users", tag = "access", responses((status = 200, body = Vec<User>)))]
async fn list_users(
    State(st): State<AppState>,
    _caller: Allowed<need::Users>,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(staff::list_users(&st.store).await?))
}

/// Disables an account and ends its sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "access", responses((status = 204, description = "disabled")))]
async fn disable_user(
    State(st): State<AppState>,
    caller: Allowed<need::Users>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !staff::disable_user(&st.store, &id).await? {
        return Err(ApiError::not_found("enabled user", &id));
    }
    st.audit
        .record(
            &st.store,
            Event {
                actor: &caller.actor(),
                action: "user.disable",
                object: &id,
                detail: serde_json::json!({}),
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct AuditPage {
    /// Entries after this sequence number.
    #[serde(default)]
    pub after: i64,
    /// At most this many (1–1000, default 100).
    pub limit: Option<i64>,
}

/// The audit trail, oldest first, in pages.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditPage), responses((status = 200, body = Vec<Entry>)))]
async fn audit_log(
    State(st): State<AppState>,
    _caller: Allowed<need::Audit>,
    Query(page): Query<AuditPage>,
) -> ApiResult<Json<Vec<Entry>>> {
    let limit = page.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "1 to 1000"));
    }
    Ok(Json(audit::entries(&st.store, page.after, limit).await?))
}

#[derive(Serialize, ToSchema)]
pub struct AuditCheck {
    pub intact: bool,
    pub entries: Option<i64>,
    /// The first entry that does not hold up.
    pub broken_at: Option<i64>,
    pub why: Option<String>,
}

/// Verifies the whole audit chain and its MACs.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = AuditCheck)))]
async fn audit_verify(
    State(st): State<AppState>,
    _caller: Allowed<need::Audit>,
) -> ApiResult<Json<AuditCheck>> {
    let key = audit::mac_key(&st.store, &st.keys).await?;
    Ok(Json(match audit::verify(&st.store, Some(&key)).await? {
        Verdict::Intact { entries, .. } => AuditCheck {
            intact: true,
            entries: Some(entries),
            broken_at: None,
            why: None,
        },
        Verdict::Broken { seq, why } => AuditCheck {
            intact: false,
            entries: None,
            broken_at: Some(seq),
            why: Some(why),
        },
    }))
}

/// Records that `caller` read a candidate's data (`what`: report,
/// transcript, recording, …) — the reads an auditor must be able to see.
pub async fn record_read(
    st: &AppState,
    caller: &Caller,
    what: &str,
    object: &str,
) -> ApiResult<()> {
    st.audit
        .record(
            &st.store,
            Event {
                actor: &caller.actor(),
                action: &format!("read.{what}"),
                object,
                detail: serde_json::json!({}),
            },
        )
        .await?;
    Ok(())
}

/// Who a request comes from, for the idempotency layer (before any
/// extractor runs): a hash of its API key or of its session token.
pub fn caller_fingerprint(headers: &HeaderMap) -> Option<String> {
    use sha2::{Digest, Sha256};
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        return Some(hex::encode(Sha256::digest(auth.as_bytes())));
    }
    crate::auth::session_token(headers).map(|t| hex::encode(Sha256::digest(t.as_bytes())))
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(sign_in, who_am_i, sign_out))
        .routes(routes!(create_user, list_users))
        .routes(routes!(disable_user))
        .routes(routes!(audit_log))
        .routes(routes!(audit_verify))
        .routes(routes!(crate::erasure::erase))
}
