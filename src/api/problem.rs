//! RFC 9457 problem details: the one place where errors become HTTP responses.
//!
//! Every problem carries a stable machine `code` (listed in the README), a `title`, and a
//! `detail` that tells the caller what to fix. Internal causes are logged, never returned.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::ServiceError;

/// A problem+json response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:sigillum:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:sigillum:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the appliance failed to complete the request; it has been logged, retry later",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(invalid) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                invalid.to_string(),
            )
            .with_field(invalid.field),
            ServiceError::NotFound { what, id } => Problem::new(
                StatusCode::NOT_FOUND,
                match what {
                    "entity" => "entity_not_found",
                    "certificate" => "certificate_not_found",
                    _ => "not_found",
                },
                format!("{what} {id} does not exist"),
            ),
            ServiceError::WrongWorkspace { caller, target } => Problem::new(
                StatusCode::FORBIDDEN,
                "workspace_forbidden",
                format!(
                    "this API key acts for workspace {caller}; the resource belongs to {target}. Use a key of that workspace"
                ),
            ),
            ServiceError::AdminRequired => Problem::new(
                StatusCode::FORBIDDEN,
                "admin_required",
                "only the admin API key (data dir admin-api-key.json) may do this",
            ),
            ServiceError::AlreadyRevoked { serial } => Problem::new(
                StatusCode::CONFLICT,
                "already_revoked",
                format!("certificate {serial} is already revoked; revocation is permanent"),
            ),
            other => {
                tracing::error!(error = %other, "request failed");
                Problem::internal()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, Problem>;
