//! The transparency log's public read API: C2SP tlog-tiles (`/log/checkpoint`, `/log/tile/…`)
//! and JSON proofs, entries and the verifier key under `/v1/log/`. No authentication.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::blocking;
use super::problem::{ApiResult, Problem};
use crate::service::Appliance;
use crate::tlog::merkle::{self, Hash};
use crate::tlog::tiles::TilePath;

/// Tiles and bundles never change once served (partial ones are addressed by width).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The checkpoint changes with every batch.
const NO_CACHE: &str = "no-cache";

fn b64(h: &Hash) -> String {
    STANDARD.encode(h)
}

/// The latest signed checkpoint (C2SP tlog-checkpoint in a signed note).
#[utoipa::path(get, path = "/log/checkpoint",
    responses((status = 200, content_type = "text/plain; charset=utf-8", body = String)), tag = "log")]
pub async fn checkpoint(State(app): State<Arc<Appliance>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        app.log().checkpoint().note.clone(),
    )
        .into_response()
}

/// A hash tile `tile/<L>/<N>[.p/<W>]` or entry bundle `tile/entries/<N>[.p/<W>]` (C2SP
/// tlog-tiles).
#[utoipa::path(get, path = "/log/tile/{path}", params(("path" = String, Path, description = "e.g. 0/x001/234.p/5 or entries/000")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = "4XX", body = Problem, content_type = "application/problem+json")), tag = "log")]
pub async fn tile(
    State(app): State<Arc<Appliance>>,
    Path(path): Path<String>,
) -> ApiResult<Response> {
    let parsed = TilePath::parse(&path).map_err(|message| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid_tile_path", message).with_field("path")
    })?;
    let tile = blocking(app, move |app| Ok(app.log().tile(&parsed)?)).await?;
    match tile {
        Some(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, IMMUTABLE),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            ],
            bytes,
        )
            .into_response()),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "tile_not_found",
            format!(
                "tile/{path} does not exist in the current tree; request only tiles that /log/checkpoint covers"
            ),
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKeyResponse {
    /// The log's origin (first line of every checkpoint, and the key name).
    pub origin: String,
    /// C2SP signed-note verifier key: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    pub verifier_key: String,
    /// Key ID, 8 hex digits.
    pub key_id: String,
    pub algorithm: String,
    /// Raw Ed25519 public key, base64.
    pub public_key: String,
}

/// The log's verifier key and origin.
#[utoipa::path(get, path = "/v1/log/public-key", responses((status = 200, body = PublicKeyResponse)), tag = "log")]
pub async fn public_key(State(app): State<Arc<Appliance>>) -> axum::Json<PublicKeyResponse> {
    let key = app.log().verifier();
    axum::Json(PublicKeyResponse {
        origin: key.name.clone(),
        verifier_key: key.encode(),
        key_id: format!("{:08x}", key.key_id),
        algorithm: "ed25519".into(),
        public_key: STANDARD.encode(key.public_key),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// Leaf index (give this or `leaf_hash`).
    pub index: Option<String>,
    /// Base64 (or hex) leaf hash `SHA-256(0x00 ‖ entry)`.
    pub leaf_hash: Option<String>,
    /// Tree size to prove against; default the latest checkpoint's.
    pub tree_size: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionResponse {
    pub index: u64,
    pub tree_size: u64,
    /// Base64 leaf hash.
    pub leaf_hash: String,
    /// Base64 hashes, leaf sibling first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
    /// Base64 root of the tree of `tree_size`.
    pub root_hash: String,
    /// The latest signed checkpoint, when `tree_size` is its size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

fn invalid_query(message: impl Into<String>, field: &'static str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_query", message).with_field(field)
}

fn parse_u64(value: &str, field: &'static str) -> Result<u64, Problem> {
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_query(
            format!("{field} must be a non-negative decimal integer"),
            field,
        ));
    }
    value
        .parse()
        .map_err(|_| invalid_query(format!("{field} does not fit 64 bits"), field))
}

fn parse_hash(value: &str, field: &'static str) -> Result<Hash, Problem> {
    let bytes = if value.len() == 64 {
        hex::decode(value).ok()
    } else {
        STANDARD.decode(value).ok()
    };
    bytes.and_then(|b| b.try_into().ok()).ok_or_else(|| {
        invalid_query(
            format!("{field} must be a SHA-256 hash in base64 (44 characters) or hex (64)"),
            field,
        )
    })
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(q)| q)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
}

/// Inclusion proof of a leaf (by index or leaf hash).
#[utoipa::path(get, path = "/v1/log/proof/inclusion", params(InclusionQuery),
    responses((status = 200, body = InclusionResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")), tag = "log")]
pub async fn inclusion(
    State(app): State<Arc<Appliance>>,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<InclusionResponse>> {
    let q = query(q)?;
    let index = q
        .index
        .as_deref()
        .map(|i| parse_u64(i, "index"))
        .transpose()?;
    let leaf = q
        .leaf_hash
        .as_deref()
        .map(|h| parse_hash(h, "leaf_hash"))
        .transpose()?;
    let tree_size = q
        .tree_size
        .as_deref()
        .map(|s| parse_u64(s, "tree_size"))
        .transpose()?;
    if index.is_some() == leaf.is_some() {
        return Err(invalid_query(
            "give exactly one of index and leaf_hash",
            "index",
        ));
    }
    blocking(app, move |app| {
        let log = app.log();
        let latest = log.checkpoint();
        let size = tree_size.unwrap_or(latest.checkpoint.size);
        let index = match (index, leaf) {
            (Some(i), _) => i,
            (None, Some(h)) => {
                log.find_leaf(&h)?
                    .ok_or(crate::service::ServiceError::NotFound {
                        what: "log entry",
                        id: b64(&h),
                    })?
            }
            (None, None) => unreachable!("checked above"),
        };
        if index >= size && size <= latest.checkpoint.size {
            return Err(
                crate::tlog::LogError::Proof(merkle::ProofError::IndexOutOfRange { index, size })
                    .into(),
            );
        }
        let proof = log.inclusion_proof(index, size)?;
        let root = log.root_at(size)?;
        let entry = log.entry(index)?.unwrap_or_default();
        Ok(axum::Json(InclusionResponse {
            index,
            tree_size: size,
            leaf_hash: b64(&merkle::leaf_hash(&entry)),
            proof: proof.iter().map(b64).collect(),
            root_hash: b64(&root),
            checkpoint: (size == latest.checkpoint.size).then(|| latest.note.clone()),
        }))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub from: Option<String>,
    /// The newer tree size; default the latest checkpoint's.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyResponse {
    pub from: u64,
    pub to: u64,
    /// Base64 hashes (RFC 9162 §2.1.4).
    pub proof: Vec<String>,
    /// Base64 roots of both trees.
    pub from_root: String,
    pub to_root: String,
}

/// Consistency proof between two tree sizes.
#[utoipa::path(get, path = "/v1/log/proof/consistency", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")), tag = "log")]
pub async fn consistency(
    State(app): State<Arc<Appliance>>,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<ConsistencyResponse>> {
    let q = query(q)?;
    let from = parse_u64(
        q.from
            .as_deref()
            .ok_or_else(|| invalid_query("from is required", "from"))?,
        "from",
    )?;
    let to = q.to.as_deref().map(|s| parse_u64(s, "to")).transpose()?;
    blocking(app, move |app| {
        let log = app.log();
        let to = to.unwrap_or_else(|| log.size());
        let proof = log.consistency_proof(from, to)?;
        Ok(axum::Json(ConsistencyResponse {
            from,
            to,
            proof: proof.iter().map(b64).collect(),
            from_root: b64(&log.root_at(from)?),
            to_root: b64(&log.root_at(to)?),
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryResponse {
    pub index: u64,
    /// Base64 leaf hash.
    pub leaf_hash: String,
    /// Base64 of the entry bytes (canonical event JSON).
    pub entry: String,
    /// The decoded event.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// One log entry and its decoded event.
#[utoipa::path(get, path = "/v1/log/entries/{index}", params(("index" = String, Path)),
    responses((status = 200, body = EntryResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")), tag = "log")]
pub async fn entry(
    State(app): State<Arc<Appliance>>,
    Path(index): Path<String>,
) -> ApiResult<axum::Json<EntryResponse>> {
    let index = parse_u64(&index, "index")?;
    blocking(app, move |app| {
        let entry =
            app.log()
                .entry(index)?
                .ok_or_else(|| crate::service::ServiceError::NotFound {
                    what: "log entry",
                    id: index.to_string(),
                })?;
        let event = crate::tlog::Event::decode(&entry)
            .map(|e| e.to_json())
            .unwrap_or(serde_json::Value::Null);
        Ok(axum::Json(EntryResponse {
            index,
            leaf_hash: b64(&merkle::leaf_hash(&entry)),
            entry: STANDARD.encode(&entry),
            event,
        }))
    })
    .await
}
