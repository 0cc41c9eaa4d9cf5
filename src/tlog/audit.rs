//! `sigillum log audit`: checks a running log from the outside, using only its public read API.
//!
//! It verifies the checkpoint signature, fetches every entry bundle and hash tile, recomputes
//! every tile and the root from the entries, checks each entry is a canonical event whose
//! document chain link is right, and checks that the tree extends a previously trusted
//! checkpoint (recomputed root at that size, and the server's consistency proof). Memory is
//! O(log n) plus one bundle at a time, plus one hash per distinct document for the chain check.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::edge::{Edge, level_count};
use super::event::Event;
use super::merkle::{self, Hash};
use super::note::{SignedCheckpoint, VerifierKey};
use super::tiles::{self, TILE_WIDTH, TileKind, TilePath};

/// A discrepancy or failure, with a message precise enough to act on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuditError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, AuditError> {
    Err(AuditError(message.into()))
}

/// What the audit established.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub checkpoint: SignedCheckpoint,
    pub entries: u64,
    pub tiles_checked: u64,
    /// Size of the trusted checkpoint the log was shown to extend.
    pub extends: Option<u64>,
}

/// Where the audit reads the log from.
pub trait LogSource {
    /// GET `path` (below the server root); `Ok(None)` on 404.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, AuditError>;
}

/// HTTP source.
pub struct HttpSource {
    base: String,
    client: reqwest::blocking::Client,
}

impl HttpSource {
    pub fn new(base: &str) -> Result<Self, AuditError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| AuditError(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }
}

impl LogSource for HttpSource {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, AuditError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .map_err(|e| AuditError(format!("GET {url}: {e}")))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return fail(format!("GET {url}: HTTP {}", response.status()));
        }
        // The largest legitimate answer is a full bundle of 256 entries of 64 KiB.
        const LIMIT: u64 = 256 * 65_538;
        let mut body = Vec::new();
        use std::io::Read;
        response
            .take(LIMIT + 1)
            .read_to_end(&mut body)
            .map_err(|e| AuditError(format!("GET {url}: {e}")))?;
        if body.len() as u64 > LIMIT {
            return fail(format!("GET {url}: the answer exceeds {LIMIT} bytes"));
        }
        Ok(Some(body))
    }
}

fn get_required(source: &dyn LogSource, path: &str) -> Result<Vec<u8>, AuditError> {
    source
        .get(path)?
        .ok_or_else(|| AuditError(format!("{path} is missing (404)")))
}

/// The log's published verifier key.
pub fn fetch_verifier_key(source: &dyn LogSource) -> Result<VerifierKey, AuditError> {
    let body = get_required(source, "/v1/log/public-key")?;
    let json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| AuditError(format!("/v1/log/public-key is not JSON: {e}")))?;
    let text = json["verifier_key"]
        .as_str()
        .ok_or_else(|| AuditError("/v1/log/public-key has no verifier_key".into()))?;
    VerifierKey::parse(text).map_err(|e| AuditError(format!("published key: {e}")))
}

/// Audits the log behind `source` against `key`, optionally checking that it extends
/// `trusted` (a signed checkpoint text verified with the same key).
pub fn audit(
    source: &dyn LogSource,
    key: &VerifierKey,
    trusted: Option<&str>,
) -> Result<AuditReport, AuditError> {
    let trusted = trusted
        .map(|text| {
            SignedCheckpoint::open(text, key)
                .map_err(|e| AuditError(format!("the trusted checkpoint does not verify: {e}")))
        })
        .transpose()?;
    let text = get_required(source, "/log/checkpoint")?;
    let text =
        String::from_utf8(text).map_err(|_| AuditError("the checkpoint is not UTF-8".into()))?;
    let current = SignedCheckpoint::open(&text, key)
        .map_err(|e| AuditError(format!("the served checkpoint does not verify: {e}")))?;
    let size = current.checkpoint.size;
    if let Some(t) = &trusted
        && t.checkpoint.size > size
    {
        return fail(format!(
            "the log shrank: the trusted checkpoint has size {}, the served one {size}",
            t.checkpoint.size
        ));
    }

    let mut edge = Edge::default();
    let mut heads: HashMap<Hash, Hash> = HashMap::new();
    let mut tiles_checked = 0u64;
    if let Some(t) = &trusted
        && t.checkpoint.size == 0
        && t.checkpoint.root != merkle::empty_root()
    {
        return fail("the trusted checkpoint has size 0 but a root other than SHA-256(\"\")");
    }
    let mut trusted_root_checked = trusted.as_ref().is_none_or(|t| t.checkpoint.size == 0);
    let bundles = size.div_ceil(TILE_WIDTH);
    for bundle_index in 0..bundles {
        let width = (size - bundle_index * TILE_WIDTH).min(TILE_WIDTH);
        let path = TilePath {
            kind: TileKind::Entries,
            index: bundle_index,
            width: (width < TILE_WIDTH).then_some(width as u8),
        };
        let url = format!("/log/tile/{}", path.encode());
        let bundle = get_required(source, &url)?;
        let entries = tiles::split_bundle(&bundle)
            .ok_or_else(|| AuditError(format!("{url} is not a well-formed entry bundle")))?;
        if entries.len() as u64 != width {
            return fail(format!(
                "{url} holds {} entries, expected {width}",
                entries.len()
            ));
        }
        for (i, entry) in entries.iter().enumerate() {
            let index = bundle_index * TILE_WIDTH + i as u64;
            let leaf = merkle::leaf_hash(entry);
            check_event(index, entry, &leaf, &mut heads)?;
            for done in edge.push(leaf) {
                check_tile(source, done.level, done.index, &done.hashes, None)?;
                tiles_checked += 1;
            }
            if let Some(t) = &trusted
                && edge.size() == t.checkpoint.size
            {
                let root = edge.root();
                if root != t.checkpoint.root {
                    return fail(format!(
                        "history was rewritten: at the trusted size {} the entries give root {}, the trusted checkpoint says {}",
                        t.checkpoint.size,
                        STANDARD.encode(root),
                        STANDARD.encode(t.checkpoint.root)
                    ));
                }
                trusted_root_checked = true;
            }
        }
    }
    for (level, index, hashes) in edge.partial_tiles() {
        let width = hashes.len() as u8;
        check_tile(source, level, index, hashes, Some(width))?;
        tiles_checked += 1;
    }
    debug_assert_eq!(
        edge.partial_tiles().count(),
        (0..=tiles::MAX_LEVEL)
            .filter(|&l| !level_count(size, l).is_multiple_of(TILE_WIDTH))
            .count()
    );
    let root = edge.root();
    if root != current.checkpoint.root {
        return fail(format!(
            "the entries give root {} for size {size}, but the signed checkpoint says {}",
            STANDARD.encode(root),
            STANDARD.encode(current.checkpoint.root)
        ));
    }
    if !trusted_root_checked {
        return fail("internal: the trusted size was never reached");
    }
    let extends = match &trusted {
        None => None,
        Some(t) => {
            check_consistency_proof(source, t, &current)?;
            Some(t.checkpoint.size)
        }
    };
    Ok(AuditReport {
        checkpoint: current,
        entries: size,
        tiles_checked,
        extends,
    })
}

/// The entry must be a canonical event whose `previous_event` is the latest earlier event about
/// the same document (the rule the sequencer applies).
fn check_event(
    index: u64,
    entry: &[u8],
    leaf: &Hash,
    heads: &mut HashMap<Hash, Hash>,
) -> Result<(), AuditError> {
    let event = Event::decode(entry).map_err(|e| AuditError(format!("entry {index}: {e}")))?;
    let expected = event.documents().find_map(|d| heads.get(d)).copied();
    if event.previous_event != expected {
        return fail(format!(
            "entry {index}: previous_event is {}, but the previous event about its document is {}",
            event.previous_event.map_or("absent".into(), hex::encode),
            expected.map_or("absent".into(), hex::encode)
        ));
    }
    for d in event.documents() {
        heads.insert(*d, *leaf);
    }
    Ok(())
}

fn check_tile(
    source: &dyn LogSource,
    level: u8,
    index: u64,
    expected: &[Hash],
    width: Option<u8>,
) -> Result<(), AuditError> {
    let path = TilePath {
        kind: TileKind::Hashes(level),
        index,
        width,
    };
    let url = format!("/log/tile/{}", path.encode());
    let served = get_required(source, &url)?;
    let want: Vec<u8> = expected.iter().flatten().copied().collect();
    if served != want {
        let position = served
            .chunks(32)
            .zip(want.chunks(32))
            .position(|(a, b)| a != b)
            .map_or_else(
                || format!("length {} instead of {}", served.len(), want.len()),
                |p| format!("hash {p} differs"),
            );
        return fail(format!(
            "{url} does not match the tile recomputed from the entries: {position}"
        ));
    }
    Ok(())
}

fn check_consistency_proof(
    source: &dyn LogSource,
    trusted: &SignedCheckpoint,
    current: &SignedCheckpoint,
) -> Result<(), AuditError> {
    let (m, n) = (trusted.checkpoint.size, current.checkpoint.size);
    let url = format!("/v1/log/proof/consistency?from={m}&to={n}");
    let body = get_required(source, &url)?;
    let json: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| AuditError(format!("{url}: {e}")))?;
    let proof = json["proof"]
        .as_array()
        .ok_or_else(|| AuditError(format!("{url}: no proof array")))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| STANDARD.decode(s).ok())
                .and_then(|b| <Hash>::try_from(b).ok())
                .ok_or_else(|| AuditError(format!("{url}: a proof hash is not base64 SHA-256")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    merkle::verify_consistency(
        m,
        n,
        &proof,
        &trusted.checkpoint.root,
        &current.checkpoint.root,
    )
    .map_err(|e| {
        AuditError(format!(
            "the server's consistency proof from {m} to {n} does not verify: {e}"
        ))
    })
}
