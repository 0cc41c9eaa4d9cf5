//! Public PKI endpoints: CA certificates, CRLs, OCSP (RFC 6960 Appendix A) and the RFC 3161
//! time-stamping service. No authentication: relying parties and `openssl` call these.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::blocking;
use super::problem::{ApiResult, Problem};
use crate::service::Appliance;
use crate::store::keys::IssuerTag;

fn typed(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// Root CA certificate (PEM).
#[utoipa::path(get, path = "/v1/ca/root.pem", responses((status = 200, content_type = "application/x-pem-file", body = String)), tag = "pki")]
pub async fn root_pem(State(app): State<Arc<Appliance>>) -> Response {
    typed("application/x-pem-file", app.root_pem())
}

/// Issuing CA certificate followed by the root (PEM).
#[utoipa::path(get, path = "/v1/ca/chain.pem", responses((status = 200, content_type = "application/x-pem-file", body = String)), tag = "pki")]
pub async fn chain_pem(State(app): State<Arc<Appliance>>) -> Response {
    typed("application/x-pem-file", app.chain_pem())
}

/// A certificate of the hierarchy in DER: `root.crt`, `issuing.crt` (AIA caIssuers targets),
/// `ocsp.crt` or `tsa.crt`.
#[utoipa::path(get, path = "/v1/ca/{file}", params(("file" = String, Path, description = "root.crt, issuing.crt, ocsp.crt or tsa.crt")),
    responses((status = 200, content_type = "application/pkix-cert", body = Vec<u8>)), tag = "pki")]
pub async fn ca_der(
    State(app): State<Arc<Appliance>>,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let der = file
        .strip_suffix(".crt")
        .and_then(|name| app.ca_certificate_der(name))
        .ok_or_else(|| {
            not_found("CA certificates are root.crt, issuing.crt, ocsp.crt, tsa.crt, root.pem and chain.pem")
        })?;
    Ok(typed("application/pkix-cert", der))
}

fn not_found(detail: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", detail)
}

/// The current CRL of an issuer: `root.crl` or `issuing.crl` (DER).
#[utoipa::path(get, path = "/crl/{file}", params(("file" = String, Path, description = "root.crl or issuing.crl")),
    responses((status = 200, content_type = "application/pkix-crl", body = Vec<u8>)), tag = "pki")]
pub async fn crl(
    State(app): State<Arc<Appliance>>,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let issuer = file
        .strip_suffix(".crl")
        .and_then(IssuerTag::parse)
        .ok_or_else(|| not_found("CRLs are /crl/root.crl and /crl/issuing.crl"))?;
    let crl = blocking(app, move |app| app.crl(issuer)).await?;
    Ok(typed("application/pkix-crl", crl.der))
}

fn require_content_type(headers: &HeaderMap, expected: &'static str) -> Result<(), Problem> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(expected))
        });
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the request with Content-Type: {expected}"),
        ))
    }
}

/// OCSP over POST (`application/ocsp-request`).
#[utoipa::path(post, path = "/ocsp", request_body(content = Vec<u8>, content_type = "application/ocsp-request"),
    responses((status = 200, content_type = "application/ocsp-response", body = Vec<u8>)), tag = "pki")]
pub async fn ocsp_post(
    State(app): State<Arc<Appliance>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, "application/ocsp-request")?;
    let response = blocking(app, move |app| Ok(app.ocsp(&body))).await?;
    Ok(typed("application/ocsp-response", response))
}

/// OCSP over GET: the path is the base64 DER request, URL-encoded (RFC 6960 Appendix A.1).
#[utoipa::path(get, path = "/ocsp/{request}", params(("request" = String, Path)),
    responses((status = 200, content_type = "application/ocsp-response", body = Vec<u8>)), tag = "pki")]
pub async fn ocsp_get(
    State(app): State<Arc<Appliance>>,
    Path(encoded): Path<String>,
) -> ApiResult<Response> {
    if encoded.len() > app.config().api.max_protocol_body_bytes * 2 {
        return Err(super::body_too_large_for(
            app.config().api.max_protocol_body_bytes,
        ));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed_ocsp_request",
                "GET /ocsp/ takes the base64 of a DER OCSPRequest, URL-encoded",
            )
        })?;
    let response = blocking(app, move |app| Ok(app.ocsp(&der))).await?;
    Ok(typed("application/ocsp-response", response))
}

/// RFC 3161 time-stamping (`application/timestamp-query` → `application/timestamp-reply`).
#[utoipa::path(post, path = "/tsa", request_body(content = Vec<u8>, content_type = "application/timestamp-query"),
    responses((status = 200, content_type = "application/timestamp-reply", body = Vec<u8>)), tag = "pki")]
pub async fn tsa(
    State(app): State<Arc<Appliance>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, "application/timestamp-query")?;
    let response = blocking(app, move |app| Ok(app.timestamp(&body))).await?;
    Ok(typed("application/timestamp-reply", response))
}
