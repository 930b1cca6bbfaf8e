//! The API's errors: a status, a stable machine `code`, a human message and,
//! for bad input, the field at fault.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// Every error's body, for the OpenAPI document (the wire shape of [`Body`]).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only described, never built.
pub struct ErrorResponse {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Stable, for machines: `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `invalid_field`, `invalid_body`, `bad_json`, `too_many_attempts`,
    /// `unsupported_media_type`, `too_large`, `internal`.
    code: String,
    /// For people.
    message: String,
    /// The field at fault (`campaign.retry.on[1]`), for bad input.
    field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// 422: the request is well-formed but a field's value is unusable.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
        }
    }

    pub fn not_found(what: &str, id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} {id:?}"),
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Anything unexpected (the store, the engine): 500, logged with its cause;
/// the client sees no internals.
impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        tracing::error!(error = %format!("{e:#}"), "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error (logged on the server)",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::from(anyhow::Error::from(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
