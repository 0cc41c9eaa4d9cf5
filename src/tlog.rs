//! The transparency log: an RFC 9162 Merkle tree of events, stored in RocksDB as C2SP
//! tlog-tiles, with a group-commit sequencer and C2SP signed checkpoints.
//!
//! Layout: entries by index in [`Cf::LogEntries`]; hash tiles (full, or the current partial one,
//! which is a prefix of the full tile it becomes) in [`Cf::LogTiles`]; tree size, root and the
//! latest signed checkpoint in [`Meta::LogState`]; document chain heads and lookup indexes in
//! [`Cf::LogIndex`].
//!
//! Writes run on three threads. The *sequencer* owns the right edge of the tree (the last tile of
//! each level, at most 8 × 256 hashes: O(log n) memory); it takes every append waiting in its
//! queue, assigns indexes, links each document event to the previous one, extends the tiles and
//! checks that the new tree is consistent with the previous one. The *committer* signs the
//! checkpoint and commits entries, tiles, chain heads, state, checkpoint and the callers' own
//! records in one synced `WriteBatch`, in order; only then does any caller get its index. The
//! two overlap (batch N is fsynced while N+1 is prepared). The *indexer* derives the lookup
//! indexes from committed entries behind a watermark.
//!
//! Reads never block on the sequencer: tiles, entries and the state are committed atomically, so
//! every read sees a prefix of the tree that a signed checkpoint covers.

pub mod audit;
pub mod edge;
pub mod event;
pub mod merkle;
pub mod note;
pub mod receipt;
pub mod tiles;

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::keys::{KeyAlgorithm, KeyCustody, KeyError, KeyRef, Signer};
use crate::store::keys::{self as store_keys, Meta, log_index};
use crate::store::{Batch, Cf, Durability, Store, StoreError};
use edge::{Edge, level_count};
pub use event::{Event, EventError, EventKind};
use merkle::{Hash, HashReader, ProofError};
use note::{Checkpoint, SignedCheckpoint, VerifierKey};
pub use receipt::Receipt;
use tiles::{TILE_WIDTH, TileKind, TilePath};

/// What the log can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    #[error("{0}")]
    Event(#[from] EventError),
    #[error("{0}")]
    Proof(#[from] ProofError),
    #[error("tree size {requested} is beyond the current tree size {size}")]
    BeyondTree { requested: u64, size: u64 },
    #[error("the log's storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("the log key failed: {0}")]
    Key(#[from] KeyError),
    #[error("the log's stored state is inconsistent: {0}")]
    Corrupt(String),
    #[error("the log has stopped accepting appends: {0}")]
    Halted(String),
    /// The commit of this append failed in a way that leaves unknown whether it reached the
    /// disk (e.g. an fsync error): after a restart it is either fully there or absent.
    #[error("the outcome of this append is unknown: {0}")]
    Indeterminate(String),
    #[error("the log's lookup indexes are not available: {0}")]
    IndexUnavailable(String),
    #[error("the log is misconfigured: {0}")]
    Config(String),
}

/// Sequencer settings.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// Most events per group commit.
    pub max_batch: usize,
    /// Least time between commits.
    pub min_batch_interval: Duration,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            max_batch: 4096,
            min_batch_interval: Duration::ZERO,
        }
    }
}

/// The result of a durable append: the leaf indexes of the events, in order, and the checkpoint
/// that first covers them (already committed).
#[derive(Debug, Clone)]
pub struct Appended {
    pub indexes: Vec<u64>,
    /// The entry bytes (leaf hash: [`merkle::leaf_hash`]).
    pub entries: Vec<Vec<u8>>,
    pub checkpoint: Arc<SignedCheckpoint>,
}

/// The persisted tree state: the latest signed checkpoint, which carries size and root.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogState {
    checkpoint: String,
}

/// Builds the caller's own records once the events' indexes are known; runs on the sequencer
/// thread, so it must be quick and must not touch the log.
pub type RecordsFn = Box<dyn FnOnce(&[u64]) -> Batch + Send>;

struct Job {
    events: Vec<Event>,
    records: Option<RecordsFn>,
    reply: mpsc::SyncSender<Result<Appended, LogError>>,
}

struct Shared {
    store: Arc<Store>,
    verifier: VerifierKey,
    latest: RwLock<Arc<SignedCheckpoint>>,
    halted: Mutex<Option<String>>,
    /// Indexer progress: entries below `indexed` are in the lookup indexes.
    index: Mutex<IndexProgress>,
    index_changed: std::sync::Condvar,
}

struct IndexProgress {
    indexed: u64,
    /// Size of the tree committed so far (what the indexer should reach).
    committed: u64,
    stop: bool,
    failed: Option<String>,
}

/// The transparency log. Appends go through the sequencer thread; reads go to the store.
pub struct Log {
    shared: Arc<Shared>,
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    indexer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Log {
    /// Opens the log in `store`, creating its key (Ed25519, in the primary key store), origin and
    /// empty checkpoint on first use, verifying on every start that the stored tiles recompute
    /// to the stored, signed root.
    pub fn open(
        store: Arc<Store>,
        custody: &KeyCustody,
        origin: &str,
        origin_is_explicit: bool,
        options: LogOptions,
    ) -> Result<Self, LogError> {
        let stored_origin = store
            .get_raw(Cf::Meta, Meta::LogOrigin.key())?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let origin = match stored_origin {
            Some(stored) if stored != origin && origin_is_explicit => {
                return Err(LogError::Config(format!(
                    "log.origin is {origin:?} but this log was created with origin {stored:?}; the origin of a log cannot change"
                )));
            }
            Some(stored) => stored,
            None => {
                if !note::valid_key_name(origin) || !origin.is_ascii() {
                    return Err(LogError::Config(format!(
                        "log origin {origin:?} must be ASCII without spaces or '+'"
                    )));
                }
                origin.to_owned()
            }
        };
        let key = match store.get::<KeyRef>(Cf::Meta, Meta::LogKey.key())? {
            Some(key) => key,
            None => {
                let key = custody.generate(KeyAlgorithm::Ed25519, "sigillum-log")?;
                let mut batch = Batch::default();
                batch.put(Cf::Meta, Meta::LogKey.key(), &key);
                batch.put_raw(Cf::Meta, Meta::LogOrigin.key(), origin.as_bytes().to_vec());
                store.commit(batch, Durability::Synced)?;
                tracing::info!(%origin, key = %key.id, backend = ?key.backend, "created the transparency log key");
                key
            }
        };
        let signer = custody.signer(&key)?;
        let public = note::ed25519_public_key(signer.spki_der())
            .ok_or_else(|| LogError::Corrupt("the log key is not an Ed25519 key".into()))?;
        let verifier =
            VerifierKey::new(&origin, public).map_err(|e| LogError::Config(e.to_string()))?;

        let state = match store.get::<LogState>(Cf::Meta, Meta::LogState.key())? {
            Some(state) => state,
            None => {
                let checkpoint = Checkpoint {
                    origin: origin.clone(),
                    size: 0,
                    root: merkle::empty_root(),
                };
                let note = sign_checkpoint(signer.as_ref(), &verifier, &checkpoint)?;
                let state = LogState { checkpoint: note };
                let mut batch = Batch::default();
                batch.put(Cf::Meta, Meta::LogState.key(), &state);
                store.commit(batch, Durability::Synced)?;
                state
            }
        };
        let latest = SignedCheckpoint::open(&state.checkpoint, &verifier)
            .map_err(|e| LogError::Corrupt(format!("stored checkpoint: {e}")))?;
        let (size, root) = (latest.checkpoint.size, latest.checkpoint.root);
        let edge = load_edge(&store, size)?;
        let sequencer = Sequencer {
            store: store.clone(),
            signer,
            verifier: verifier.clone(),
            root,
            edge,
            options,
            inflight: Arc::new(Mutex::new(InFlight::default())),
        };
        let recomputed = sequencer.edge.root();
        if recomputed != root {
            return Err(LogError::Corrupt(format!(
                "the stored tiles give root {} for size {size}, but the signed checkpoint says {}",
                hex::encode(recomputed),
                hex::encode(root)
            )));
        }
        let indexed = store
            .get_raw(Cf::Meta, Meta::LogIndexedUpTo.key())?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        let committed = latest.checkpoint.size;
        let shared = Arc::new(Shared {
            store,
            verifier,
            latest: RwLock::new(Arc::new(latest)),
            halted: Mutex::new(None),
            index: Mutex::new(IndexProgress {
                indexed,
                committed,
                stop: false,
                failed: None,
            }),
            index_changed: std::sync::Condvar::new(),
        });
        let indexer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("tlog-indexer".into())
                .spawn(move || index_loop(&shared))
                .map_err(|e| LogError::Halted(format!("cannot start the log indexer: {e}")))?
        };
        let (tx, rx) = mpsc::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tlog-sequencer".into())
            .spawn(move || sequencer.run(rx, thread_shared))
            .map_err(|e| LogError::Halted(format!("cannot start the sequencer: {e}")))?;
        Ok(Self {
            shared,
            queue: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            indexer: Mutex::new(Some(indexer)),
        })
    }

    /// Appends `events` in order, together with the caller's own `records`, in one atomic,
    /// synced commit; returns after that commit with the assigned indexes. Blocking.
    pub fn append(&self, events: Vec<Event>, records: Batch) -> Result<Appended, LogError> {
        self.append_with(events, Box::new(move |_| records))
    }

    /// Like [`Log::append`], for records that depend on the indexes the events get.
    pub fn append_with(
        &self,
        events: Vec<Event>,
        records: RecordsFn,
    ) -> Result<Appended, LogError> {
        for event in &events {
            // Validate up front, so that the sequencer never meets an event it cannot encode.
            event.validate()?;
        }
        if let Some(reason) = lock(&self.shared.halted).clone() {
            return Err(LogError::Halted(reason));
        }
        let (reply, answer) = mpsc::sync_channel(1);
        {
            let queue = lock(&self.queue);
            let sender = queue
                .as_ref()
                .ok_or_else(|| LogError::Halted("the log is shut down".into()))?;
            sender
                .send(Job {
                    events,
                    records: Some(records),
                    reply,
                })
                .map_err(|_| LogError::Halted("the sequencer has stopped".into()))?;
        }
        answer
            .recv()
            .map_err(|_| LogError::Halted("the sequencer stopped before answering".into()))?
    }

    /// Stops the sequencer after the appends already queued.
    pub fn shutdown(&self) {
        lock(&self.queue).take();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
        lock(&self.shared.index).stop = true;
        self.shared.index_changed.notify_all();
        if let Some(thread) = lock(&self.indexer).take() {
            let _ = thread.join();
        }
    }

    /// Waits until the lookup indexes (`find_*`) cover every entry committed when called, or
    /// `timeout` passes; returns whether they do. Indexing runs behind the durable path by at
    /// most a batch or two.
    pub fn sync_index(&self, timeout: Duration) -> bool {
        let target = self.size();
        let deadline = Instant::now() + timeout;
        let mut progress = lock(&self.shared.index);
        while progress.indexed < target {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            progress = self
                .shared
                .index_changed
                .wait_timeout(progress, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        progress.indexed >= target
    }

    /// Entries below this index are in the lookup indexes.
    pub fn indexed_size(&self) -> u64 {
        lock(&self.shared.index).indexed
    }

    /// Stops accepting appends from now on (fail-stop, as after a storage failure): for an
    /// operator or a check that no longer trusts the store, and for tests that need an append to
    /// fail. Reads keep working; only a restart resumes appends.
    pub fn halt(&self, reason: &str) {
        lock(&self.shared.halted).get_or_insert_with(|| reason.to_owned());
        tracing::error!(%reason, "transparency log halted");
    }

    /// `Err` with the reason once the log has halted (see the sequencer's fail-stop rule).
    pub fn health(&self) -> Result<(), String> {
        if let Some(reason) = lock(&self.shared.halted).clone() {
            return Err(reason);
        }
        match lock(&self.shared.index).failed.clone() {
            Some(reason) => Err(format!("the log indexer stopped: {reason}")),
            None => Ok(()),
        }
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Arc<SignedCheckpoint> {
        self.shared
            .latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn size(&self) -> u64 {
        self.checkpoint().checkpoint.size
    }

    pub fn origin(&self) -> &str {
        &self.shared.verifier.name
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> &VerifierKey {
        &self.shared.verifier
    }

    /// A tile or entry bundle as served, or `None` if it does not exist (yet).
    pub fn tile(&self, path: &TilePath) -> Result<Option<Vec<u8>>, LogError> {
        let count = path.count();
        match path.kind {
            // Levels above 7 are valid names but cannot exist in a 64-bit tree.
            TileKind::Hashes(level) if level > tiles::MAX_LEVEL => Ok(None),
            TileKind::Hashes(level) => {
                let stored = self
                    .shared
                    .store
                    .get_raw(Cf::LogTiles, store_keys::log_tile(level, path.index))?;
                Ok(stored.and_then(|bytes| {
                    let want = count as usize * 32;
                    (bytes.len() >= want).then(|| bytes[..want].to_vec())
                }))
            }
            TileKind::Entries => {
                let Some(first) = path.index.checked_mul(TILE_WIDTH) else {
                    return Ok(None);
                };
                let Some(end) = first.checked_add(count) else {
                    return Ok(None);
                };
                if end > self.size() {
                    return Ok(None);
                }
                let mut bundle = Vec::new();
                for (i, entry) in self.entries(first, count as usize)?.into_iter().enumerate() {
                    let Some(entry) = entry else {
                        return Err(LogError::Corrupt(format!(
                            "entry {} is missing",
                            first + i as u64
                        )));
                    };
                    tiles::push_bundle_entry(&mut bundle, &entry);
                }
                Ok(Some(bundle))
            }
        }
    }

    /// Entries `first .. first + count` (each `None` if absent).
    fn entries(&self, first: u64, count: usize) -> Result<Vec<Option<Vec<u8>>>, LogError> {
        let rows = self.shared.store.scan_range(
            Cf::LogEntries,
            &store_keys::log_entry(first),
            &store_keys::log_entry(first.saturating_add(count as u64)),
            count,
        )?;
        let mut out = vec![None; count];
        for row in rows {
            let index = u64::from_be_bytes(
                row.key
                    .as_slice()
                    .try_into()
                    .map_err(|_| LogError::Corrupt("malformed entry key".into()))?,
            );
            if let Some(slot) = out.get_mut((index - first) as usize) {
                *slot = Some(row.value);
            }
        }
        Ok(out)
    }

    /// The entry at `index`, if it is in the tree.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, LogError> {
        if index >= self.size() {
            return Ok(None);
        }
        Ok(self
            .shared
            .store
            .get_raw(Cf::LogEntries, store_keys::log_entry(index))?)
    }

    fn check_size(&self, requested: u64) -> Result<(), LogError> {
        let size = self.size();
        if requested > size {
            Err(LogError::BeyondTree { requested, size })
        } else {
            Ok(())
        }
    }

    /// Inclusion proof of `index` in the tree of `size` (≤ the current size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        let reader = StoreReader::new(&self.shared.store);
        Ok(merkle::inclusion_proof(&reader, index, size)??)
    }

    /// Consistency proof from `from` to `to` (≤ the current size).
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(to)?;
        let reader = StoreReader::new(&self.shared.store);
        Ok(merkle::consistency_proof(&reader, from, to)??)
    }

    /// Root of the tree of `size` (≤ the current size).
    pub fn root_at(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        merkle::root(&StoreReader::new(&self.shared.store), size)
    }

    /// Index of the leaf with hash `leaf`. Like every `find_*`, it first waits (briefly) for the
    /// indexer to cover what is committed, so callers read their own writes.
    pub fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, LogError> {
        self.require_index()?;
        let raw = self
            .shared
            .store
            .get_raw(Cf::LogIndex, log_index::hash_key(log_index::LEAF, leaf))?;
        raw.map(|b| {
            <[u8; 8]>::try_from(b.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| LogError::Corrupt("malformed leaf index".into()))
        })
        .transpose()
    }

    fn require_index(&self) -> Result<(), LogError> {
        if self.sync_index(INDEX_WAIT) {
            return Ok(());
        }
        let progress = lock(&self.shared.index);
        Err(LogError::IndexUnavailable(match &progress.failed {
            Some(reason) => format!("the indexer is failing: {reason}"),
            None => format!(
                "the indexer is behind (indexed {} of {} entries)",
                progress.indexed, progress.committed
            ),
        }))
    }

    fn find_indexed(&self, prefix: Vec<u8>, limit: usize) -> Result<Vec<u64>, LogError> {
        self.require_index()?;
        let rows = self
            .shared
            .store
            .scan_prefix(Cf::LogIndex, &prefix, None, limit)?;
        rows.iter()
            .map(|row| {
                row.key[prefix.len()..]
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| LogError::Corrupt("malformed log index key".into()))
            })
            .collect()
    }

    /// Indexes of events whose signature has SHA-256 `hash` (at most `limit`).
    pub fn find_by_signature(&self, hash: &Hash, limit: usize) -> Result<Vec<u64>, LogError> {
        self.find_indexed(log_index::hash_key(log_index::SIGNATURE, hash), limit)
    }

    /// Indexes of events about the document with SHA-256 `hash` (before or after).
    pub fn find_by_document(&self, hash: &Hash, limit: usize) -> Result<Vec<u64>, LogError> {
        self.find_indexed(log_index::hash_key(log_index::DOCUMENT, hash), limit)
    }

    /// Indexes of events about the certificate with (upper-case hex) `serial`.
    pub fn find_by_certificate(&self, serial: &str, limit: usize) -> Result<Vec<u64>, LogError> {
        self.find_indexed(log_index::certificate_prefix(serial), limit)
    }

    /// A receipt for the entry at `index` against the latest checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Option<Receipt>, LogError> {
        let checkpoint = self.checkpoint();
        if index >= checkpoint.checkpoint.size {
            return Ok(None);
        }
        let Some(entry) = self.entry(index)? else {
            return Err(LogError::Corrupt(format!("entry {index} is missing")));
        };
        let proof = self.inclusion_proof(index, checkpoint.checkpoint.size)?;
        Ok(Some(Receipt {
            index,
            entry,
            checkpoint: checkpoint.note.clone(),
            inclusion_proof: proof,
        }))
    }

    /// Appends and returns a receipt per event: what the signing path calls.
    pub fn append_with_receipts(
        &self,
        events: Vec<Event>,
        records: Batch,
    ) -> Result<Vec<Receipt>, LogError> {
        let appended = self.append(events, records)?;
        let size = appended.checkpoint.checkpoint.size;
        let reader = StoreReader::new(&self.shared.store);
        appended
            .indexes
            .iter()
            .zip(appended.entries)
            .map(|(&index, entry)| {
                Ok(Receipt {
                    index,
                    entry,
                    checkpoint: appended.checkpoint.note.clone(),
                    inclusion_proof: merkle::inclusion_proof(&reader, index, size)??,
                })
            })
            .collect()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn sign_checkpoint(
    signer: &dyn Signer,
    verifier: &VerifierKey,
    checkpoint: &Checkpoint,
) -> Result<String, LogError> {
    let body = checkpoint.body();
    let signature = signer.sign(body.as_bytes())?;
    if !verifier.verify(body.as_bytes(), &signature) {
        return Err(LogError::Halted(
            "the log key produced a signature that does not verify".into(),
        ));
    }
    Ok(note::format_signed(&body, verifier, &signature))
}

/// Loads the last (partial) tile of each level for a tree of `size`.
fn load_edge(store: &Store, size: u64) -> Result<Edge, LogError> {
    let mut levels = Vec::new();
    for level in 0..=tiles::MAX_LEVEL {
        let count = level_count(size, level);
        if count == 0 {
            break;
        }
        let width = (count % TILE_WIDTH) as usize;
        let mut hashes = Vec::new();
        if width > 0 {
            let index = count / TILE_WIDTH;
            let tile = store
                .get_raw(Cf::LogTiles, store_keys::log_tile(level, index))?
                .ok_or_else(|| LogError::Corrupt(format!("tile {level}/{index} is missing")))?;
            if tile.len() != width * 32 {
                return Err(LogError::Corrupt(format!(
                    "tile {level}/{index} has {} bytes, expected {} for tree size {size}",
                    tile.len(),
                    width * 32
                )));
            }
            hashes = hashes_of(&tile).collect();
        }
        levels.push(hashes);
    }
    Edge::from_parts(size, levels)
        .ok_or_else(|| LogError::Corrupt("the stored edge tiles do not fit the tree size".into()))
}

fn hashes_of(bytes: &[u8]) -> impl Iterator<Item = Hash> + '_ {
    bytes.chunks_exact(32).map(|c| {
        let mut h = [0u8; 32];
        h.copy_from_slice(c);
        h
    })
}

/// A node hash from the tile that holds it, through a per-reader cache of [`edge::TileTree`]s.
fn node_from_tile(
    height: u8,
    index: u64,
    cache: &Mutex<TileCache>,
    tile_of: impl FnOnce(u8, u64) -> Result<Option<Vec<Hash>>, LogError>,
) -> Result<Hash, LogError> {
    let (level, tile_index) = edge::tile_of_node(height, index);
    let mut cache = lock(cache);
    let tree = match cache.entry((level, tile_index)) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(tile_of(level, tile_index)?.map(edge::TileTree::new))
        }
    };
    tree.as_ref()
        .and_then(|t| t.node(height, index))
        .ok_or_else(|| {
            LogError::Corrupt(format!(
                "tile {level}/{tile_index} lacks the hashes of node {height}/{index}"
            ))
        })
}

/// Tile trees by (level, index); `None` when the tile is absent.
type TileCache = HashMap<(u8, u64), Option<edge::TileTree>>;

/// Reads node hashes from committed tiles, caching tiles for one proof.
struct StoreReader<'a> {
    store: &'a Store,
    cache: Mutex<TileCache>,
}

impl<'a> StoreReader<'a> {
    fn new(store: &'a Store) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl HashReader for StoreReader<'_> {
    type Error = LogError;
    fn node(&self, height: u8, index: u64) -> Result<Hash, LogError> {
        node_from_tile(height, index, &self.cache, |level, tile| {
            Ok(self
                .store
                .get_raw(Cf::LogTiles, store_keys::log_tile(level, tile))?
                .map(|t| hashes_of(&t).collect()))
        })
    }
}

/// The sequencer's state: the right edge of the tree and the root of the last batch it
/// prepared (signed and committed by the committer thread, in order).
struct Sequencer {
    store: Arc<Store>,
    signer: Arc<dyn Signer>,
    verifier: VerifierKey,
    root: Hash,
    /// The last, incomplete tile of each level.
    edge: Edge,
    options: LogOptions,
    /// Batches handed to the committer and not yet durable: what later batches must see that
    /// the store does not have yet.
    inflight: Arc<Mutex<InFlight>>,
}

/// Effects of prepared, uncommitted batches, oldest first.
#[derive(Default)]
struct InFlight {
    batches: std::collections::VecDeque<InFlightBatch>,
}

struct InFlightBatch {
    id: u64,
    /// Document chain heads set by the batch.
    heads: HashMap<Hash, Hash>,
    /// Tiles the batch completed.
    completed: HashMap<(u8, u64), Vec<u8>>,
}

impl InFlight {
    fn head(&self, document: &Hash) -> Option<Hash> {
        self.batches
            .iter()
            .rev()
            .find_map(|b| b.heads.get(document).copied())
    }

    fn tile(&self, key: &(u8, u64)) -> Option<Vec<u8>> {
        self.batches
            .iter()
            .rev()
            .find_map(|b| b.completed.get(key).cloned())
    }
}

/// A batch ready to be signed and committed.
struct Prepared {
    id: u64,
    batch: Batch,
    checkpoint: Checkpoint,
    jobs: Vec<Job>,
    results: Vec<JobResult>,
}

/// Reads node hashes during a batch: the edge in memory, tiles completed in this batch, then
/// committed tiles.
struct EdgeReader<'a> {
    seq: &'a Sequencer,
    completed: &'a HashMap<(u8, u64), Vec<u8>>,
    cache: Mutex<TileCache>,
}

impl HashReader for EdgeReader<'_> {
    type Error = LogError;
    fn node(&self, height: u8, index: u64) -> Result<Hash, LogError> {
        node_from_tile(height, index, &self.cache, |level, tile| {
            if let Some(hashes) = self.seq.edge.tile(level, tile) {
                return Ok(Some(hashes.to_vec()));
            }
            if let Some(t) = self.completed.get(&(level, tile)) {
                return Ok(Some(hashes_of(t).collect()));
            }
            if let Some(t) = lock(&self.seq.inflight).tile(&(level, tile)) {
                return Ok(Some(hashes_of(&t).collect()));
            }
            Ok(self
                .seq
                .store
                .get_raw(Cf::LogTiles, store_keys::log_tile(level, tile))?
                .map(|t| hashes_of(&t).collect()))
        })
    }
}

/// Per job: indexes and entry bytes of its events.
type JobResult = (Vec<u64>, Vec<Vec<u8>>);

/// Staged effects of one batch, applied to the sequencer only after the commit.
struct Staged {
    batch: Batch,
    completed: HashMap<(u8, u64), Vec<u8>>,
    heads: HashMap<Hash, Hash>,
    results: Vec<JobResult>,
}

/// How long a lookup waits for the indexer to catch up with committed entries.
const INDEX_WAIT: Duration = Duration::from_secs(2);

/// Most entries indexed per index batch.
const INDEX_CHUNK: u64 = 4096;

/// Derives the lookup indexes from committed entries, in order, each chunk in one batch with
/// the new watermark (so a crash resumes exactly where the indexes stop). Index writes are not
/// fsynced: they can always be rebuilt from the entries, which are.
fn index_loop(shared: &Shared) {
    loop {
        let (from, to) = {
            let mut progress = lock(&shared.index);
            while progress.indexed >= progress.committed && !progress.stop {
                progress = shared
                    .index_changed
                    .wait(progress)
                    .unwrap_or_else(|e| e.into_inner());
            }
            if progress.stop {
                return;
            }
            (
                progress.indexed,
                progress.committed.min(progress.indexed + INDEX_CHUNK),
            )
        };
        match index_range(&shared.store, from, to) {
            Ok(()) => {
                let mut progress = lock(&shared.index);
                progress.indexed = to;
                progress.failed = None;
                drop(progress);
                shared.index_changed.notify_all();
            }
            Err(e) => {
                // Retried: health reports the failure meanwhile, and lookups answer 503
                // rather than an incomplete result.
                tracing::error!(error = %e, from, "the log indexer failed; retrying in 1 s");
                lock(&shared.index).failed = Some(e.to_string());
                shared.index_changed.notify_all();
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

fn index_range(store: &Store, from: u64, to: u64) -> Result<(), LogError> {
    let rows = store.scan_range(
        Cf::LogEntries,
        &store_keys::log_entry(from),
        &store_keys::log_entry(to),
        (to - from) as usize,
    )?;
    if rows.len() as u64 != to - from {
        return Err(LogError::Corrupt(format!(
            "entries {from}..{to} are incomplete ({} found)",
            rows.len()
        )));
    }
    let mut b = Batch::default();
    for (index, row) in (from..to).zip(rows) {
        let leaf = merkle::leaf_hash(&row.value);
        b.put_raw(
            Cf::LogIndex,
            log_index::hash_key(log_index::LEAF, &leaf),
            index.to_be_bytes(),
        );
        let event = Event::decode(&row.value)?;
        if let Some(sig) = &event.signature_sha256 {
            b.put_raw(
                Cf::LogIndex,
                log_index::hash_index_key(log_index::SIGNATURE, sig, index),
                Vec::new(),
            );
        }
        for document in event.documents() {
            b.put_raw(
                Cf::LogIndex,
                log_index::hash_index_key(log_index::DOCUMENT, document, index),
                Vec::new(),
            );
        }
        if let Some(serial) = &event.certificate_serial {
            b.put_raw(
                Cf::LogIndex,
                log_index::certificate_key(serial, index),
                Vec::new(),
            );
        }
    }
    b.put_raw(Cf::Meta, Meta::LogIndexedUpTo.key(), to.to_be_bytes());
    store.commit(b, Durability::Buffered)?;
    Ok(())
}

fn fail_jobs(jobs: Vec<Job>, reason: &str) {
    for job in jobs {
        let _ = job.reply.send(Err(LogError::Halted(reason.to_owned())));
    }
}

/// Signs, commits (fsynced) and answers prepared batches in order. Fail-stop: after a failed
/// commit the disk may or may not hold the batch (an fsync error leaves it unknown), and later
/// batches were prepared on top of it, so nothing more is written until a restart re-reads and
/// re-verifies the stored state.
fn commit_loop(
    rx: mpsc::Receiver<Prepared>,
    store: &Store,
    signer: &dyn Signer,
    verifier: &VerifierKey,
    inflight: &Mutex<InFlight>,
    shared: &Shared,
) {
    while let Ok(mut p) = rx.recv() {
        let result = match lock(&shared.halted).clone() {
            Some(reason) => Err(LogError::Halted(reason)),
            None => sign_checkpoint(signer, verifier, &p.checkpoint).and_then(|note| {
                p.batch.put(
                    Cf::Meta,
                    Meta::LogState.key(),
                    &LogState {
                        checkpoint: note.clone(),
                    },
                );
                store
                    .commit(std::mem::take(&mut p.batch), Durability::Synced)
                    .map_err(|e| LogError::Indeterminate(e.to_string()))?;
                Ok(note)
            }),
        };
        // Durable (or failed): later batches now read this one from the store.
        lock(inflight).batches.retain(|b| b.id != p.id);
        match result {
            Ok(note) => {
                let checkpoint = Arc::new(SignedCheckpoint {
                    checkpoint: p.checkpoint,
                    note,
                });
                *shared.latest.write().unwrap_or_else(|e| e.into_inner()) = checkpoint.clone();
                lock(&shared.index).committed = checkpoint.checkpoint.size;
                shared.index_changed.notify_all();
                for (job, (indexes, entries)) in p.jobs.into_iter().zip(p.results) {
                    let _ = job.reply.send(Ok(Appended {
                        indexes,
                        entries,
                        checkpoint: checkpoint.clone(),
                    }));
                }
            }
            Err(e) => {
                let message = e.to_string();
                let mut halted = lock(&shared.halted);
                if halted.is_none() {
                    tracing::error!(error = %message, "the transparency log halts after a failed batch");
                    *halted = Some(message.clone());
                }
                drop(halted);
                let indeterminate = matches!(e, LogError::Indeterminate(_));
                for job in p.jobs {
                    let _ = job.reply.send(Err(if indeterminate {
                        LogError::Indeterminate(message.clone())
                    } else {
                        LogError::Halted(message.clone())
                    }));
                }
            }
        }
    }
}

impl Sequencer {
    fn reader<'a>(&'a self, completed: &'a HashMap<(u8, u64), Vec<u8>>) -> EdgeReader<'a> {
        EdgeReader {
            seq: self,
            completed,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The sequencer loop. Batches are pipelined: while the committer thread signs and fsyncs
    /// batch N, this thread prepares batch N+1 on top of it (at most one batch waits). The
    /// committer commits in order and answers callers only after their batch is durable; the
    /// first failure halts the log, and every batch prepared after it is refused.
    fn run(mut self, rx: mpsc::Receiver<Job>, shared: Arc<Shared>) {
        let (to_committer, committer_rx) = mpsc::sync_channel::<Prepared>(1);
        let committer = {
            let (store, signer, verifier, inflight, shared) = (
                self.store.clone(),
                self.signer.clone(),
                self.verifier.clone(),
                self.inflight.clone(),
                shared.clone(),
            );
            std::thread::Builder::new()
                .name("tlog-committer".into())
                .spawn(move || {
                    commit_loop(
                        committer_rx,
                        &store,
                        signer.as_ref(),
                        &verifier,
                        &inflight,
                        &shared,
                    )
                })
        };
        let committer = match committer {
            Ok(handle) => handle,
            Err(e) => {
                *lock(&shared.halted) = Some(format!("cannot start the log committer: {e}"));
                return;
            }
        };
        let mut last_batch = Instant::now()
            .checked_sub(self.options.min_batch_interval)
            .unwrap_or_else(Instant::now);
        let mut next_id = 0u64;
        while let Ok(first) = rx.recv() {
            let wait = self
                .options
                .min_batch_interval
                .saturating_sub(last_batch.elapsed());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            let mut jobs = vec![first];
            let mut events = jobs[0].events.len();
            while events < self.options.max_batch {
                match rx.try_recv() {
                    Ok(job) => {
                        events += job.events.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            last_batch = Instant::now();
            if let Some(reason) = lock(&shared.halted).clone() {
                fail_jobs(jobs, &reason);
                continue;
            }
            next_id += 1;
            match self.prepare(next_id, &mut jobs) {
                Ok((batch, checkpoint, results)) => {
                    let prepared = Prepared {
                        id: next_id,
                        batch,
                        checkpoint,
                        jobs,
                        results,
                    };
                    if let Err(mpsc::SendError(prepared)) = to_committer.send(prepared) {
                        let reason = "the log committer has stopped".to_owned();
                        lock(&shared.halted).get_or_insert_with(|| reason.clone());
                        fail_jobs(prepared.jobs, &reason);
                    }
                }
                Err(e) => {
                    // The edge may hold part of the failed batch: fail-stop (see commit_loop).
                    let message = e.to_string();
                    tracing::error!(error = %message, "the transparency log halts: a batch could not be prepared");
                    lock(&shared.halted).get_or_insert_with(|| message.clone());
                    fail_jobs(jobs, &message);
                }
            }
        }
        drop(to_committer);
        let _ = committer.join();
    }

    /// Sequences one batch on top of the in-flight ones and checks the new tree is consistent
    /// with the previous one; registers its effects as in flight.
    fn prepare(
        &mut self,
        id: u64,
        jobs: &mut [Job],
    ) -> Result<(Batch, Checkpoint, Vec<JobResult>), LogError> {
        let old_size = self.edge.size();
        let old_root = self.root;
        let mut staged = Staged {
            batch: Batch::default(),
            completed: HashMap::new(),
            heads: HashMap::new(),
            results: Vec::with_capacity(jobs.len()),
        };
        for job in jobs.iter_mut() {
            let mut indexes = Vec::with_capacity(job.events.len());
            let mut entries = Vec::with_capacity(job.events.len());
            for event in &mut job.events {
                let (index, entry) = self.sequence(event, &mut staged)?;
                indexes.push(index);
                entries.push(entry);
            }
            if let Some(records) = job.records.take() {
                // Caller code on the sequencer thread: a panic in it must halt the log cleanly
                // (health reports it), not kill the thread silently.
                let built =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| records(&indexes)))
                        .map_err(|_| {
                            LogError::Halted("an append's record builder panicked".into())
                        })?;
                staged.batch.extend(built);
            }
            staged.results.push((indexes, entries));
        }
        for (level, tile, hashes) in self.edge.partial_tiles() {
            staged.batch.put_raw(
                Cf::LogTiles,
                store_keys::log_tile(level, tile),
                hashes.iter().flatten().copied().collect::<Vec<u8>>(),
            );
        }
        let size = self.edge.size();
        let root = self.edge.root();
        let reader = self.reader(&staged.completed);
        // Never sign a checkpoint inconsistent with the last one.
        let proof = merkle::consistency_proof(&reader, old_size, size)??;
        merkle::verify_consistency(old_size, size, &proof, &old_root, &root).map_err(|e| {
            LogError::Halted(format!(
                "refusing to sign tree size {size} (root {}): not consistent with the signed size {old_size}: {e}",
                hex::encode(root)
            ))
        })?;
        drop(reader);
        self.root = root;
        lock(&self.inflight).batches.push_back(InFlightBatch {
            id,
            heads: staged.heads,
            completed: staged.completed,
        });
        let checkpoint = Checkpoint {
            origin: self.verifier.name.clone(),
            size,
            root,
        };
        Ok((staged.batch, checkpoint, staged.results))
    }

    /// Assigns the next index to `event`, links it to its document's previous event, extends the
    /// tiles and stages entry and index writes.
    fn sequence(
        &mut self,
        event: &mut Event,
        staged: &mut Staged,
    ) -> Result<(u64, Vec<u8>), LogError> {
        let mut previous = None;
        for document in event.documents() {
            if let Some(head) = staged.heads.get(document) {
                previous = Some(*head);
                break;
            }
            if let Some(head) = lock(&self.inflight).head(document) {
                previous = Some(head);
                break;
            }
            if let Some(raw) = self
                .store
                .get_raw(Cf::LogIndex, log_index::hash_key(log_index::HEAD, document))?
            {
                previous = Some(
                    raw.try_into()
                        .map_err(|_| LogError::Corrupt("malformed document chain head".into()))?,
                );
                break;
            }
        }
        event.previous_event = previous;
        let entry = event.encode()?;
        let leaf = merkle::leaf_hash(&entry);
        let index = self.edge.size();
        let b = &mut staged.batch;
        b.put_raw(Cf::LogEntries, store_keys::log_entry(index), entry.clone());
        // Chain heads are needed to sequence the next event, so they are written here; the
        // lookup indexes (leaf, signature, document, certificate) are derived from the entries
        // by the indexer thread, off the durable path.
        for document in event.documents() {
            b.put_raw(
                Cf::LogIndex,
                log_index::hash_key(log_index::HEAD, document),
                leaf.to_vec(),
            );
            staged.heads.insert(*document, leaf);
        }
        self.push_leaf(leaf, staged);
        Ok((index, entry))
    }

    /// Adds a leaf hash, staging the tiles it completes.
    fn push_leaf(&mut self, leaf: Hash, staged: &mut Staged) {
        for tile in self.edge.push(leaf) {
            let bytes: Vec<u8> = tile.hashes.iter().flatten().copied().collect();
            staged.batch.put_raw(
                Cf::LogTiles,
                store_keys::log_tile(tile.level, tile.index),
                bytes.clone(),
            );
            staged.completed.insert((tile.level, tile.index), bytes);
        }
    }
}
