//! Authentication of `/v1/` calls with `SIGILLUM-HMAC-SHA256` (see `request_signing`).
//!
//! Order of checks, each with its own problem code: header present and well-formed, timestamp
//! within the window, key known, signature matches (constant time), nonce unseen. The nonce is
//! remembered only after the signature verifies, so nobody can burn another caller's nonces.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![deny(clippy::arithmetic_side_effects)]

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::problem::Problem;
use crate::request_signing::{self, Credentials};
use crate::service::Appliance;

fn unauthorized(code: &'static str, detail: impl Into<String>) -> Response {
    Problem::new(StatusCode::UNAUTHORIZED, code, detail).into_response()
}

/// Reads a body of at most `limit` bytes into one buffer, allocated once from `Content-Length`
/// (a 60 MB upload is held once, not once in chunks and again contiguous).
async fn collect_body(
    body: Body,
    limit: usize,
    content_length: Option<usize>,
) -> Result<Bytes, ()> {
    if content_length.is_some_and(|n| n > limit) {
        return Err(());
    }
    let mut buf = Vec::with_capacity(content_length.unwrap_or(0));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ())?;
        if buf.len().saturating_add(chunk.len()) > limit {
            return Err(());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// A larger body limit for one route group (e.g. document uploads), set as a request extension
/// by a layer outside [`authenticate`]; the HMAC covers the whole body, so it is read here.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Axum middleware: verifies the request signature and inserts the [`crate::service::Principal`].
pub async fn authenticate(
    State(app): State<Arc<Appliance>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(header_value) = request.headers().get(header::AUTHORIZATION) else {
        return unauthorized(
            "missing_authorization",
            "this endpoint needs an Authorization: SIGILLUM-HMAC-SHA256 header; `sigillum call` signs requests for you",
        );
    };
    let credentials = match header_value
        .to_str()
        .map_err(|_| request_signing::MalformedAuthorization("the header is not ASCII".into()))
        .and_then(Credentials::parse)
    {
        Ok(c) => c,
        Err(e) => return unauthorized("malformed_authorization", e.0),
    };
    let window = app.config().api.auth_window_seconds;
    let now = app.clock().now().unix_timestamp();
    if now.abs_diff(credentials.timestamp) > window {
        return unauthorized(
            "timestamp_out_of_window",
            format!(
                "Timestamp {} is more than {window} s from the server time {now}; sign each request when you send it and keep your clock in sync",
                credentials.timestamp
            ),
        );
    }
    let lookup = {
        let app = app.clone();
        let key_id = credentials.key_id.clone();
        tokio::task::spawn_blocking(move || app.api_key_secret(&key_id)).await
    };
    let crate::service::ApiKeySecret { principal, secret } = match lookup {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => {
            return unauthorized(
                "unknown_key",
                format!(
                    "API key {} is not known to this appliance",
                    credentials.key_id
                ),
            );
        }
        Ok(Err(e)) => return Problem::from(e).into_response(),
        Err(_) => return Problem::internal().into_response(),
    };

    let upload_limit = request.extensions().get::<BodyLimit>().map(|l| l.0);
    let limit = upload_limit.unwrap_or(app.config().api.max_body_bytes);
    let (mut parts, body) = request.into_parts();
    let content_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let bytes = match collect_body(body, limit, content_length).await {
        Ok(b) => b,
        Err(_) if upload_limit.is_some() => {
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "document_too_large",
                format!(
                    "the upload exceeds {limit} bytes (signing.max_document_bytes plus room for options)"
                ),
            )
            .into_response();
        }
        Err(_) => return super::body_too_large_for(limit).into_response(),
    };
    let string_to_sign = request_signing::string_to_sign(
        credentials.timestamp,
        &credentials.nonce,
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query(),
        &bytes,
    );
    if !request_signing::verify(&secret, &string_to_sign, &credentials.signature) {
        return unauthorized(
            "signature_mismatch",
            "the signature does not match this request: check the secret, and sign exactly the method, path, query and body you send",
        );
    }
    drop(secret);
    let remembered = {
        let app = app.clone();
        let c = credentials.clone();
        tokio::task::spawn_blocking(move || app.remember_nonce(&c.key_id, &c.nonce, c.timestamp))
            .await
    };
    match remembered {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            return unauthorized(
                "nonce_replayed",
                "this Nonce was already used with this key; use a fresh random nonce for every request",
            );
        }
        Ok(Err(e)) => return Problem::from(e).into_response(),
        Err(_) => return Problem::internal().into_response(),
    }
    parts.extensions.insert(principal);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
