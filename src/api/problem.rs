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
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait, sent as `Retry-After` (429).
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:sigillum:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            field: None,
            retry_after: None,
        }
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
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
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

use crate::pades::PadesError;
use crate::tlog::LogError;

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
                    "log entry" => "log_entry_not_found",
                    _ => "not_found",
                },
                format!("{what} {id} does not exist"),
            ),
            // The other workspace is not named: workspace names are other tenants' data.
            ServiceError::WrongWorkspace { caller, .. } => Problem::new(
                StatusCode::FORBIDDEN,
                "workspace_forbidden",
                format!(
                    "this API key acts for workspace {caller} only; the resource belongs to another workspace"
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
            ServiceError::ServiceCertificate { serial } => Problem::new(
                StatusCode::CONFLICT,
                "service_certificate",
                format!(
                    "certificate {serial} is one of the appliance's own (OCSP or TSA); it is replaced by the appliance, not revoked through the API"
                ),
            ),
            ServiceError::Conflict { what } => Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{what} changed while this request ran; read it again and retry"),
            ),
            ServiceError::Log(LogError::BeyondTree { requested, size }) => Problem::new(
                StatusCode::BAD_REQUEST,
                "beyond_tree_size",
                format!("tree size {requested} is beyond the log's current size {size}"),
            ),
            ServiceError::Log(LogError::Proof(e)) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_proof_request",
                e.to_string(),
            ),
            ServiceError::Log(LogError::Event(e)) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_event",
                e.to_string(),
            ),
            ServiceError::Log(LogError::Indeterminate(reason)) => {
                tracing::error!(%reason, "an append's outcome is unknown; the log halted");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "log_outcome_unknown",
                    "storage failed while recording this event; it may or may not have been recorded — after the appliance restarts, check (e.g. GET the resource) before retrying",
                )
            }
            ServiceError::Log(LogError::IndexUnavailable(reason)) => {
                tracing::error!(%reason, "log lookup refused");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "log_index_unavailable",
                    "the log's lookup index is temporarily behind or failing; retry shortly (index and tile reads still work)",
                )
            }
            ServiceError::Log(LogError::Halted(reason)) => {
                tracing::error!(%reason, "request refused: the transparency log has halted");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "log_unavailable",
                    "the transparency log is not accepting new events; nothing was recorded — retry later",
                )
            }
            ServiceError::Signing(e) => Problem::from(e),
            ServiceError::CannotSign { reason } => {
                Problem::new(StatusCode::CONFLICT, "entity_cannot_sign", reason)
            }
            ServiceError::InvalidIdempotencyKey => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-128 printable ASCII characters without spaces",
            ),
            ServiceError::IdempotencyKeyReused => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request (entity, options or document); use a new key",
            ),
            ServiceError::DeadlineExceeded => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "signing_timeout",
                "signing took longer than api.request_timeout_seconds; nothing was recorded — retry, or raise the timeout for large documents",
            ),
            ServiceError::IdempotencyKeyInFlight => Problem::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_flight",
                "a request with this Idempotency-Key is still being processed; retry it when that one has finished",
            ),
            other => {
                tracing::error!(error = %other, "request failed");
                Problem::internal()
            }
        }
    }
}

impl From<PadesError> for Problem {
    fn from(e: PadesError) -> Self {
        let unprocessable =
            |code, detail: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail);
        match e {
            PadesError::NotPdf(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_a_pdf",
                "the document is not a PDF (it does not start with a %PDF- header)",
            ),
            PadesError::Malformed(err) => unprocessable(
                "malformed_pdf",
                format!("the PDF cannot be read ({err}); it may be truncated or damaged — check it with `qpdf --check`"),
            ),
            PadesError::Encrypted => unprocessable(
                "encrypted_pdf",
                "the PDF is encrypted; remove the encryption (e.g. `qpdf --decrypt`) and sign the result".into(),
            ),
            PadesError::CertifiedNoChanges => Problem::new(
                StatusCode::CONFLICT,
                "document_locked",
                "the document is certified with DocMDP P=1, which forbids any change, including new signatures",
            ),
            e @ PadesError::CertificationNotFirst(_) => unprocessable("certification_not_first", e.to_string()),
            e @ PadesError::LevelNotAllowed(_) => unprocessable("level_not_allowed", e.to_string()),
            e @ PadesError::PageOutOfRange { .. } => unprocessable("page_out_of_range", e.to_string()),
            e @ PadesError::RectOutsidePage { .. } => unprocessable("rect_outside_page", e.to_string()),
            e @ PadesError::KeywordNotFound { .. } => unprocessable("keyword_not_found", e.to_string()),
            e @ PadesError::Field(..) => unprocessable("invalid_signature_field", e.to_string()),
            e @ PadesError::CertifiedDocumentField => {
                unprocessable("visible_field_in_certified_document", e.to_string())
            }
            e @ PadesError::InvalidRequest(_) => unprocessable("invalid_options", e.to_string()),
            e @ PadesError::Image(_) => unprocessable("invalid_image", e.to_string()),
            e @ PadesError::Text { .. } => unprocessable("unsupported_text", e.to_string()),
            PadesError::Timestamp(reason) => {
                tracing::error!(%reason, "time-stamp authority failed");
                Problem::new(
                    StatusCode::BAD_GATEWAY,
                    "timestamp_unavailable",
                    "the time-stamp authority did not deliver a usable token; nothing was signed — retry later",
                )
            }
            PadesError::Revocation(reason) => {
                tracing::error!(%reason, "revocation data unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "revocation_data_unavailable",
                    "revocation data for B-LT could not be gathered; nothing was signed — retry later",
                )
            }
            other => {
                tracing::error!(error = %other, "signing failed");
                Problem::internal()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, Problem>;

/// Middleware: turns any error response that is not already a problem document (axum's own
/// extractor rejections, the body limit, the timeout layer) into one, so that every 4xx/5xx a
/// client sees has a stable `code` and a `detail`.
pub async fn ensure_problem(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Problems, and the pages of the browser-facing /verify form (an error page there is HTML
    // on purpose), pass through.
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if is_problem {
        return response;
    }
    let (code, detail): (&'static str, &str) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            "the request body exceeds the limit for this endpoint",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "request_timeout",
            "the request took longer than api.request_timeout_seconds; retry later",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the Content-Type is not accepted by this endpoint; see /openapi.json",
        ),
        StatusCode::NOT_FOUND => ("route_not_found", "no such endpoint; see /openapi.json"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not accept that method; see /openapi.json",
        ),
        s if s.is_server_error() => return Problem::internal().into_response(),
        _ => (
            "bad_request",
            "the request could not be understood (path, query or body); see /openapi.json",
        ),
    };
    Problem::new(status, code, detail).into_response()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn framework_errors_become_problem_documents() {
        let app = Router::new()
            .route(
                "/timeout",
                get(|| async { (StatusCode::REQUEST_TIMEOUT, "") }),
            )
            .route(
                "/boom",
                get(|| async { (StatusCode::BAD_GATEWAY, "upstream said: secret") }),
            )
            .route("/ok", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(ensure_problem));
        for (path, status, code) in [
            ("/timeout", 408, "request_timeout"),
            ("/boom", 500, "internal_error"),
            ("/missing", 404, "route_not_found"),
        ] {
            let response = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let got_status = response.status().as_u16();
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
            let body = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["code"], code, "{path}");
            assert_eq!(got_status, if path == "/boom" { 500 } else { status });
            assert!(!String::from_utf8_lossy(&body).contains("secret"));
        }
        let ok = app
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
