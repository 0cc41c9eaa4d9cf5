//! Typed keys: the byte layout of every key in the store, in one place. Integers are big-endian
//! so that RocksDB's byte order is numeric order.

/// Names of singleton records in [`super::Cf::Meta`].
#[derive(Debug, Clone, Copy)]
pub enum Meta {
    SchemaVersion,
    /// The CA hierarchy (keys and certificates of root, issuing, OCSP, TSA).
    CaState,
    /// Next entity sequence number (u64 BE), as kept before the transparency log; read once to
    /// set [`Meta::EntitySequenceBase`].
    EntitySequence,
    /// Entity sequences are this base (u64 BE) plus the log index of the issuance event.
    EntitySequenceBase,
    /// Last CRL number issued per issuer is kept in the CRL record itself.
    AdminKeyId,
    /// The transparency log's signing key (a `KeyRef`).
    LogKey,
    /// The transparency log's origin, fixed at creation.
    LogOrigin,
    /// The transparency log's tree size, root and latest signed checkpoint.
    LogState,
    /// Entries below this index (u64 BE) are in the log's lookup indexes.
    LogIndexedUpTo,
}

impl Meta {
    pub fn key(self) -> &'static [u8] {
        match self {
            Meta::SchemaVersion => b"schema_version",
            Meta::CaState => b"ca_state",
            Meta::EntitySequence => b"entity_sequence",
            Meta::EntitySequenceBase => b"entity_sequence_base",
            Meta::AdminKeyId => b"admin_key_id",
            Meta::LogKey => b"log_key",
            Meta::LogOrigin => b"log_origin",
            Meta::LogState => b"log_state",
            Meta::LogIndexedUpTo => b"log_indexed_up_to",
        }
    }
}

/// Which CA issued a certificate; the first byte of certificate, revocation and CRL keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssuerTag {
    Root = 0,
    Issuing = 1,
}

impl IssuerTag {
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerTag::Root => "root",
            IssuerTag::Issuing => "issuing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "root" => Some(IssuerTag::Root),
            "issuing" => Some(IssuerTag::Issuing),
            _ => None,
        }
    }
}

/// issuer tag ‖ serial bytes.
pub fn certificate(issuer: IssuerTag, serial: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + serial.len());
    key.push(issuer as u8);
    key.extend_from_slice(serial);
    key
}

/// Prefix of all certificates (or revocations) of `issuer`.
pub fn issuer_prefix(issuer: IssuerTag) -> [u8; 1] {
    [issuer as u8]
}

/// workspace ‖ 0x00 ‖ sequence (u64 BE). Workspaces never contain 0x00 (validated slugs).
pub fn workspace_entity(workspace: &str, sequence: u64) -> Vec<u8> {
    let mut key = workspace_prefix(workspace);
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

pub fn workspace_prefix(workspace: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(workspace.len() + 9);
    key.extend_from_slice(workspace.as_bytes());
    key.push(0);
    key
}

/// key id ‖ 0x00 ‖ nonce.
pub fn nonce(key_id: &str, nonce: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(key_id.len() + nonce.len() + 1);
    key.extend_from_slice(key_id.as_bytes());
    key.push(0);
    key.extend_from_slice(nonce.as_bytes());
    key
}

/// Keys of [`super::Cf::LogEntries`]: the leaf index.
pub fn log_entry(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// Keys of [`super::Cf::LogTiles`]: level ‖ tile index.
pub fn log_tile(level: u8, index: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = level;
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

/// Keys of [`super::Cf::LogIndex`]. Each starts with a one-byte tag:
/// - `L` ‖ leaf hash → leaf index (u64 BE);
/// - `S` ‖ signature SHA-256 ‖ leaf index → empty;
/// - `D` ‖ document SHA-256 ‖ leaf index → empty (before and after hashes);
/// - `H` ‖ document SHA-256 → leaf hash of the latest event about that document (chain head);
/// - `C` ‖ certificate serial (ASCII hex) ‖ 0x00 ‖ leaf index → empty.
pub mod log_index {
    pub const LEAF: u8 = b'L';
    pub const SIGNATURE: u8 = b'S';
    pub const DOCUMENT: u8 = b'D';
    pub const HEAD: u8 = b'H';
    pub const CERTIFICATE: u8 = b'C';

    pub fn hash_key(tag: u8, hash: &[u8; 32]) -> Vec<u8> {
        let mut key = Vec::with_capacity(41);
        key.push(tag);
        key.extend_from_slice(hash);
        key
    }

    pub fn hash_index_key(tag: u8, hash: &[u8; 32], index: u64) -> Vec<u8> {
        let mut key = hash_key(tag, hash);
        key.extend_from_slice(&index.to_be_bytes());
        key
    }

    pub fn certificate_prefix(serial: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(serial.len() + 10);
        key.push(CERTIFICATE);
        key.extend_from_slice(serial.as_bytes());
        key.push(0);
        key
    }

    pub fn certificate_key(serial: &str, index: u64) -> Vec<u8> {
        let mut key = certificate_prefix(serial);
        key.extend_from_slice(&index.to_be_bytes());
        key
    }
}
