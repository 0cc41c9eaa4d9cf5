//! The operator's client for the authenticated API: `sigillum call METHOD PATH`, which signs
//! each request with `SIGILLUM-HMAC-SHA256` so nobody signs requests by hand.

use std::path::Path;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::identity::ApiKeyId;
use crate::request_signing::{self, Credentials};

/// An API key as written to `admin-api-key.json` or returned by `POST /v1/api-keys`.
#[derive(Deserialize)]
pub struct KeyFile {
    pub key_id: ApiKeyId,
    pub secret: Zeroizing<String>,
}

impl KeyFile {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read key file {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "key file {} is not {{key_id, secret}} JSON: {e}",
                path.display()
            )
        })
    }
}

/// A response: status and body.
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `Sigillum-Receipt` header of signing responses.
    pub receipt: Option<String>,
    pub body: Vec<u8>,
}

/// Random nonce: 24 characters of [A-Za-z0-9].
pub fn nonce() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The `Authorization` header value for a request.
pub fn authorization(
    key: &KeyFile,
    timestamp: i64,
    nonce: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> String {
    let sts = request_signing::string_to_sign(timestamp, nonce, method, path, query, body);
    Credentials {
        key_id: key.key_id.clone(),
        timestamp,
        nonce: nonce.to_owned(),
        signature: request_signing::sign(key.secret.as_bytes(), &sts),
    }
    .to_header()
}

/// Sends one signed request with a JSON body (if any).
pub fn call(
    base_url: &str,
    key: &KeyFile,
    method: &str,
    path_and_query: &str,
    body: Vec<u8>,
) -> Result<Reply, String> {
    let content_type = (!body.is_empty()).then_some("application/json");
    send(
        base_url,
        key,
        method,
        path_and_query,
        body,
        content_type,
        &[],
    )
}

/// Sends one signed request.
pub fn send(
    base_url: &str,
    key: &KeyFile,
    method: &str,
    path_and_query: &str,
    body: Vec<u8>,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    let url = reqwest::Url::parse(&format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        path_and_query
    ))
    .map_err(|e| format!("invalid URL: {e}"))?;
    let method_upper = method.to_ascii_uppercase();
    let http_method = reqwest::Method::from_bytes(method_upper.as_bytes())
        .map_err(|_| format!("invalid method {method}"))?;
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = authorization(
        key,
        timestamp,
        &nonce(),
        &method_upper,
        url.path(),
        url.query(),
        &body,
    );
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let mut request = client
        .request(http_method, url)
        .header("Authorization", header);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(ct) = content_type {
        request = request.header("Content-Type", ct);
    }
    if !body.is_empty() {
        request = request.body(body);
    }
    let response = request.send().map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let receipt = response
        .headers()
        .get("sigillum-receipt")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .map_err(|e| format!("reading the response failed: {e}"))?
        .to_vec();
    Ok(Reply {
        status,
        content_type,
        receipt,
        body,
    })
}

/// A `multipart/form-data` body with the parts `options` (JSON) and `document` (PDF) for
/// `POST /v1/sign`; returns the body and its content type.
pub fn sign_request_body(options_json: &[u8], pdf: &[u8]) -> (Vec<u8>, String) {
    let boundary = format!("sigillum-{}", nonce());
    let mut body = Vec::with_capacity(pdf.len() + options_json.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"options\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(options_json);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"document.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}
