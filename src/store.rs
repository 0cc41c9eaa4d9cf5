//! Persistent state in RocksDB: one column family per record kind, big-endian typed keys, and
//! every logical transition written as one `WriteBatch`.
//!
//! Durability contract: [`Store::commit`] with [`Durability::Synced`] returns only after the
//! batch is in the fsynced WAL; anything acknowledged to a client is written that way.
//! [`Durability::Buffered`] (WAL written, not fsynced) is for state whose loss on power failure
//! is harmless, such as remembered request nonces. Concurrency: RocksDB serialises writes; callers
//! that read-modify-write (sequence counters) hold their own lock around read and commit.

pub mod keys;

use std::path::Path;

use rocksdb::{
    ColumnFamilyDescriptor, DB, Direction, IteratorMode, Options, WriteBatch, WriteOptions,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Column families, one per record kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cf {
    /// Singletons: CA state, counters, schema version. Key: [`keys::Meta`] name.
    Meta,
    /// Entity records. Key: entity id bytes.
    Entities,
    /// Paging index: workspace ‖ 0x00 ‖ sequence (u64 BE) → entity id.
    WorkspaceEntities,
    /// Issued certificates. Key: issuer tag ‖ serial bytes.
    Certificates,
    /// Revoked certificates, for CRL generation. Key: issuer tag ‖ serial bytes.
    Revocations,
    /// API keys. Key: key id.
    ApiKeys,
    /// Nonces of authenticated requests. Key: key id ‖ 0x00 ‖ nonce; value: unix seconds (u64 BE).
    Nonces,
    /// Current CRL per issuer. Key: issuer tag.
    Crls,
    /// Transparency-log entries. Key: leaf index (u64 BE); value: the entry bytes.
    LogEntries,
    /// Transparency-log hash tiles, full or the current partial one (a prefix of the full tile).
    /// Key: level (u8) ‖ tile index (u64 BE); value: 32-byte hashes.
    LogTiles,
    /// Transparency-log lookup indexes; see [`keys::log_index`].
    LogIndex,
    /// Signing requests by idempotency key. Key: workspace ‖ 0x00 ‖ key; value: the request's
    /// hash, its log entry and the content address of the signed output.
    Idempotency,
}

impl Cf {
    pub const ALL: [Cf; 12] = [
        Cf::Meta,
        Cf::Entities,
        Cf::WorkspaceEntities,
        Cf::Certificates,
        Cf::Revocations,
        Cf::ApiKeys,
        Cf::Nonces,
        Cf::Crls,
        Cf::LogEntries,
        Cf::LogTiles,
        Cf::LogIndex,
        Cf::Idempotency,
    ];

    fn name(self) -> &'static str {
        match self {
            Cf::Meta => "meta",
            Cf::Entities => "entities",
            Cf::WorkspaceEntities => "workspace_entities",
            Cf::Certificates => "certificates",
            Cf::Revocations => "revocations",
            Cf::ApiKeys => "api_keys",
            Cf::Nonces => "nonces",
            Cf::Crls => "crls",
            Cf::LogEntries => "log_entries",
            Cf::LogTiles => "log_tiles",
            Cf::LogIndex => "log_index",
            Cf::Idempotency => "idempotency",
        }
    }
}

/// How far a commit must reach before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// WAL fsynced: survives power loss. For everything acknowledged to a client.
    Synced,
    /// WAL written but not fsynced: survives a process crash only.
    Buffered,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot open the store at {path}: {message}")]
    Open { path: String, message: String },
    #[error("storage failure: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("stored record {what} is corrupt: {message}")]
    Corrupt { what: String, message: String },
}

/// The RocksDB-backed store. Cheap to share behind an `Arc`.
pub struct Store {
    db: DB,
}

/// Schema version written at creation; bump it with a migration when key or value layouts change.
const SCHEMA_VERSION: u32 = 1;

impl Store {
    /// Opens (creating if needed) the store in `path` with all column families.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_compression_type(rocksdb::DBCompressionType::Lz4);
        options.set_max_open_files(512);
        options.set_keep_log_file_num(4);
        let descriptors = Cf::ALL.iter().map(|cf| {
            let mut cf_options = options.clone();
            if *cf == Cf::LogIndex {
                // Mostly point lookups of keys that do not exist (a new document's chain head,
                // a leaf hash): bloom filters answer those without touching data blocks, in
                // SST files and in the memtable.
                let mut table = rocksdb::BlockBasedOptions::default();
                table.set_bloom_filter(10.0, false);
                table.set_whole_key_filtering(true);
                cf_options.set_block_based_table_factory(&table);
                cf_options.set_memtable_whole_key_filtering(true);
                cf_options.set_memtable_prefix_bloom_ratio(0.1);
            }
            ColumnFamilyDescriptor::new(cf.name(), cf_options)
        });
        let db =
            DB::open_cf_descriptors(&options, path, descriptors).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        let store = Self { db };
        store.check_schema()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let key = keys::Meta::SchemaVersion.key();
        match self.get_raw(Cf::Meta, key)? {
            None => {
                let mut batch = Batch::default();
                batch.put_raw(Cf::Meta, key, SCHEMA_VERSION.to_be_bytes());
                self.commit(batch, Durability::Synced)
            }
            Some(bytes) if bytes == SCHEMA_VERSION.to_be_bytes() => Ok(()),
            Some(bytes) => Err(StoreError::Corrupt {
                what: "schema version".into(),
                message: format!(
                    "store has schema {bytes:?}, this build understands {SCHEMA_VERSION}"
                ),
            }),
        }
    }

    fn cf(&self, cf: Cf) -> &rocksdb::ColumnFamily {
        // Every Cf is created in `open`, so the handle always exists.
        self.db
            .cf_handle(cf.name())
            .unwrap_or_else(|| unreachable!("column family {} is created at open", cf.name()))
    }

    pub fn get_raw(&self, cf: Cf, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(cf), key)?)
    }

    /// Reads and decodes a JSON record.
    pub fn get<T: DeserializeOwned>(
        &self,
        cf: Cf,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<T>, StoreError> {
        let key = key.as_ref();
        match self.get_raw(cf, key)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt {
                        what: format!("{}/{}", cf.name(), hex::encode(key)),
                        message: e.to_string(),
                    })
            }
        }
    }

    /// Up to `limit` entries whose key starts with `prefix`, in key order, strictly after
    /// `after` when given.
    pub fn scan_prefix(
        &self,
        cf: Cf,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let start = after.unwrap_or(prefix);
        let iter = self
            .db
            .iterator_cf(self.cf(cf), IteratorMode::From(start, Direction::Forward));
        let mut out = Vec::new();
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(prefix) || out.len() >= limit {
                break;
            }
            if after.is_some_and(|a| *key == *a) {
                continue;
            }
            out.push(Entry {
                key: key.into_vec(),
                value: value.into_vec(),
            });
        }
        Ok(out)
    }

    /// Up to `limit` entries with `start <= key < end`, in key order.
    pub fn scan_range(
        &self,
        cf: Cf,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let iter = self
            .db
            .iterator_cf(self.cf(cf), IteratorMode::From(start, Direction::Forward));
        let mut out = Vec::new();
        for item in iter {
            let (key, value) = item?;
            if *key >= *end || out.len() >= limit {
                break;
            }
            out.push(Entry {
                key: key.into_vec(),
                value: value.into_vec(),
            });
        }
        Ok(out)
    }

    /// Applies `batch` atomically with the requested durability.
    pub fn commit(&self, batch: Batch, durability: Durability) -> Result<(), StoreError> {
        let mut options = WriteOptions::default();
        options.set_sync(durability == Durability::Synced);
        let mut write = WriteBatch::default();
        let mut ops = batch.ops;
        // Key order makes memtable inserts cheap (each insert starts from the previous one's
        // position in the skip list) — large log batches are mostly random hash-keyed index
        // entries. The sort is stable, so two writes of one key keep their order.
        ops.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        for op in ops {
            match op {
                Op::Put(cf, key, value) => write.put_cf(self.cf(cf), key, value),
                Op::Delete(cf, key) => write.delete_cf(self.cf(cf), key),
            }
        }
        self.db.write_opt(write, &options)?;
        Ok(())
    }

    /// Deletes every key in `cf` whose value, read as a u64 BE, is below `threshold`. Used to
    /// forget expired nonces; runs as its own buffered batch.
    pub fn purge_below(&self, cf: Cf, threshold: u64) -> Result<usize, StoreError> {
        let mut batch = Batch::default();
        let mut purged = 0;
        for item in self.db.iterator_cf(self.cf(cf), IteratorMode::Start) {
            let (key, value) = item?;
            let stamp = <[u8; 8]>::try_from(&*value)
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            if stamp < threshold {
                batch.delete(cf, key.into_vec());
                purged += 1;
            }
        }
        self.commit(batch, Durability::Buffered)?;
        Ok(purged)
    }

    /// Flushes memtables; for orderly shutdown.
    pub fn flush(&self) -> Result<(), StoreError> {
        for cf in Cf::ALL {
            self.db.flush_cf(self.cf(cf))?;
        }
        Ok(())
    }
}

/// One key-value pair read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

enum Op {
    Put(Cf, Vec<u8>, Vec<u8>),
    Delete(Cf, Vec<u8>),
}

impl Op {
    fn sort_key(&self) -> (usize, &[u8]) {
        match self {
            Op::Put(cf, key, _) | Op::Delete(cf, key) => (*cf as usize, key),
        }
    }
}

/// The writes of one logical transition, applied atomically by [`Store::commit`].
#[derive(Default)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    pub fn put_raw(&mut self, cf: Cf, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put(cf, key.into(), value.into()));
    }

    /// Encodes `value` as JSON. Our record types always serialise; a failure is a bug.
    pub fn put<T: Serialize>(&mut self, cf: Cf, key: impl Into<Vec<u8>>, value: &T) {
        let bytes = serde_json::to_vec(value)
            .unwrap_or_else(|e| unreachable!("record types serialise to JSON: {e}"));
        self.put_raw(cf, key, bytes);
    }

    pub fn delete(&mut self, cf: Cf, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Delete(cf, key.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Appends the writes of `other` after these.
    pub fn extend(&mut self, other: Batch) {
        self.ops.extend(other.ops);
    }
}

/// Fsyncs a directory so that a file created in it survives power loss.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })?
    .sync_all()
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync dir) with `mode`.
pub fn write_file_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Serde adapter: bytes as standard base64 strings in JSON records.
pub mod serde_b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter: optional bytes as base64.
pub mod serde_b64_opt {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| STANDARD.decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_is_atomic_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let mut batch = Batch::default();
            batch.put(Cf::Entities, b"a".to_vec(), &"alpha");
            batch.put_raw(
                Cf::WorkspaceEntities,
                b"ws\0\0\0\0\0\0\0\0\x01".to_vec(),
                b"a".to_vec(),
            );
            store.commit(batch, Durability::Synced).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.get::<String>(Cf::Entities, b"a").unwrap().as_deref(),
            Some("alpha")
        );
        let rows = store
            .scan_prefix(Cf::WorkspaceEntities, b"ws\0", None, 10)
            .unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn scan_prefix_pages_strictly_after_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::default();
        for i in 0u64..5 {
            let mut key = b"w\0".to_vec();
            key.extend(i.to_be_bytes());
            batch.put_raw(Cf::WorkspaceEntities, key, vec![i as u8]);
        }
        batch.put_raw(Cf::WorkspaceEntities, b"x\0zzzzzzzz".to_vec(), vec![9]);
        store.commit(batch, Durability::Synced).unwrap();
        let first = store
            .scan_prefix(Cf::WorkspaceEntities, b"w\0", None, 2)
            .unwrap();
        assert_eq!(first.len(), 2);
        let rest = store
            .scan_prefix(Cf::WorkspaceEntities, b"w\0", Some(&first[1].key), 10)
            .unwrap();
        assert_eq!(
            rest.iter().map(|r| r.value[0]).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
    }

    #[test]
    fn later_writes_of_a_key_win_within_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::default();
        batch.put_raw(Cf::LogIndex, b"z".to_vec(), b"1".to_vec());
        batch.put_raw(Cf::LogIndex, b"a".to_vec(), b"1".to_vec());
        batch.put_raw(Cf::LogIndex, b"z".to_vec(), b"2".to_vec());
        batch.delete(Cf::LogIndex, b"a".to_vec());
        batch.put_raw(Cf::Meta, b"m".to_vec(), b"3".to_vec());
        store.commit(batch, Durability::Synced).unwrap();
        assert_eq!(store.get_raw(Cf::LogIndex, b"z").unwrap().unwrap(), b"2");
        assert!(store.get_raw(Cf::LogIndex, b"a").unwrap().is_none());
        assert_eq!(store.get_raw(Cf::Meta, b"m").unwrap().unwrap(), b"3");
    }

    #[test]
    fn purge_below_forgets_old_stamps() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::default();
        batch.put_raw(Cf::Nonces, b"old".to_vec(), 10u64.to_be_bytes());
        batch.put_raw(Cf::Nonces, b"new".to_vec(), 100u64.to_be_bytes());
        store.commit(batch, Durability::Buffered).unwrap();
        assert_eq!(store.purge_below(Cf::Nonces, 50).unwrap(), 1);
        assert!(store.get_raw(Cf::Nonces, b"old").unwrap().is_none());
        assert!(store.get_raw(Cf::Nonces, b"new").unwrap().is_some());
    }
}
