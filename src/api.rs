//! The HTTP API (axum): one route table, authentication, limits, and the mapping of errors to
//! RFC 9457 problems. Handlers are thin: they parse, call `service`, and shape JSON.

mod api_keys;
mod auth;
mod entities;
mod json;
mod log;
mod metrics;
#[doc(hidden)]
pub mod multipart;
mod pki;
pub mod problem;
pub(crate) mod sign;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::service::{Appliance, ServiceError};
use problem::Problem;

/// The OpenAPI document, generated from the handlers and DTOs below.
#[derive(OpenApi)]
#[openapi(
    info(title = "sigillum", description = "Signing and evidence appliance API. `/v1/` endpoints other than the CA certificates need a SIGILLUM-HMAC-SHA256 Authorization header (see README)."),
    paths(
        entities::create, entities::get, entities::list, entities::renew, entities::revoke,
        api_keys::create,
        sign::sign, sign::receipt,
        verify::verify_pdf,
        pki::root_pem, pki::chain_pem, pki::ca_der, pki::crl, pki::ocsp_post, pki::ocsp_get, pki::tsa,
        log::checkpoint, log::tile, log::public_key, log::inclusion, log::consistency, log::entry,
        healthz, readyz, metrics_text, openapi_json,
    ),
    components(schemas(Problem, sign::SignOptionsRequest, sign::FieldRequest, sign::PlacementRequest)),
    modifiers(&SecurityAddon),
)]
pub struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "sigillum_hmac",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "SIGILLUM-HMAC-SHA256 KeyId=…, Timestamp=…, Nonce=…, Signature=… (see README)",
            ))),
        );
    }
}

/// Builds the router for `app`.
pub fn router(app: Arc<Appliance>) -> Router {
    let config = app.config().api.clone();
    let metrics = Arc::new(metrics::Metrics::default());

    let authenticated = Router::new()
        .route("/v1/entities", post(entities::create).get(entities::list))
        .route("/v1/entities/{id}", get(entities::get))
        .route("/v1/entities/{id}/renew", post(entities::renew))
        .route("/v1/certificates/{serial}/revoke", post(entities::revoke))
        .route("/v1/api-keys", post(api_keys::create))
        .route("/v1/receipts/{leaf_index}", get(sign::receipt))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));

    // Uploads: the document plus options (base64 images) and multipart framing.
    let upload_limit = app.config().signing.max_document_bytes + (16 << 20);
    let uploads = Router::new()
        .route("/v1/sign", post(sign::sign))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            auth::authenticate,
        ))
        .route_layer(axum::Extension(auth::BodyLimit(upload_limit)))
        .layer(DefaultBodyLimit::max(upload_limit));

    let verify_config = app.config().verify.clone();
    let verify_limit = verify_config.max_document_bytes + verify::MULTIPART_OVERHEAD;
    let verifier = Arc::new(crate::service::verification::Verifier::new(
        verify_config.clone(),
    ));
    let verification = Router::new()
        .route("/v1/verify", post(verify::verify_pdf))
        .route("/verify", get(verify::form).post(verify::form_post))
        .layer(axum::Extension(verifier))
        .route_layer(middleware::from_fn_with_state(
            verify_config.max_document_bytes,
            verify::limit_upload,
        ))
        .layer(DefaultBodyLimit::max(verify_limit));

    let protocol = Router::new()
        .route("/ocsp", post(pki::ocsp_post))
        .route("/ocsp/{*request}", get(pki::ocsp_get))
        .route("/tsa", post(pki::tsa))
        .layer(DefaultBodyLimit::max(config.max_protocol_body_bytes));

    let public = Router::new()
        .route("/v1/ca/root.pem", get(pki::root_pem))
        .route("/v1/ca/chain.pem", get(pki::chain_pem))
        .route("/v1/ca/{file}", get(pki::ca_der))
        .route("/crl/{file}", get(pki::crl))
        .route("/log/checkpoint", get(log::checkpoint))
        .route("/log/tile/{*path}", get(log::tile))
        .route("/v1/log/public-key", get(log::public_key))
        .route("/v1/log/proof/inclusion", get(log::inclusion))
        .route("/v1/log/proof/consistency", get(log::consistency))
        .route("/v1/log/entries/{index}", get(log::entry))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi_json));

    let metrics_route = Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(metrics.clone());

    Router::new()
        .merge(authenticated)
        .merge(uploads)
        .merge(verification)
        .merge(protocol)
        .merge(public)
        .with_state(app)
        .merge(metrics_route)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(metrics, metrics::track))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_seconds),
        ))
        // Just outside the timeout: when its clock started, for work that must not outlive it.
        .layer(middleware::from_fn(stamp_start))
        // Outside the timeout, so that its bare 408 becomes a problem document too.
        .layer(middleware::from_fn(problem::ensure_problem))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal().into_response()
        }))
        .layer(TraceLayer::new_for_http())
}

/// Runs a blocking service call (key generation, HSM signing, RocksDB) off the async threads.
async fn blocking<T, F>(app: Arc<Appliance>, f: F) -> Result<T, Problem>
where
    T: Send + 'static,
    F: FnOnce(&Appliance) -> Result<T, ServiceError> + Send + 'static,
{
    match tokio::task::spawn_blocking(move || f(&app)).await {
        Ok(result) => result.map_err(Problem::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(Problem::internal())
        }
    }
}

/// When a request arrived (before its body was read), as a request extension.
#[derive(Debug, Clone, Copy)]
pub struct RequestStart(pub std::time::Instant);

async fn stamp_start(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    request
        .extensions_mut()
        .insert(RequestStart(std::time::Instant::now()));
    next.run(request).await
}

fn body_too_large_for(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body exceeds the limit of {limit} bytes"),
    )
}

fn body_too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "the request body exceeds the configured limit (api.max_body_bytes)",
    )
}

async fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "no such endpoint; see /openapi.json",
    )
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method; see /openapi.json",
    )
}

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = String)), tag = "operations")]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the store answers.
#[utoipa::path(get, path = "/readyz", responses((status = 200, body = String), (status = 503, body = Problem)), tag = "operations")]
pub async fn readyz(State(app): State<Arc<Appliance>>) -> Response {
    match blocking(app, |app| app.ready()).await {
        Ok(()) => "ready\n".into_response(),
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the store is not answering or the transparency log has halted; see the server log",
        )
        .into_response(),
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String, content_type = "text/plain")), tag = "operations")]
pub async fn metrics_text(State(metrics): State<Arc<metrics::Metrics>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, body = Object)), tag = "operations")]
pub async fn openapi_json() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}
