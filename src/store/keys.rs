//! Typed keys: the byte layout of every key in the store, in one place. Integers are big-endian
//! so that RocksDB's byte order is numeric order.

/// Names of singleton records in [`super::Cf::Meta`].
#[derive(Debug, Clone, Copy)]
pub enum Meta {
    SchemaVersion,
    /// The CA hierarchy (keys and certificates of root, issuing, OCSP, TSA).
    CaState,
    /// Next entity sequence number (u64 BE).
    EntitySequence,
    /// Last CRL number issued per issuer is kept in the CRL record itself.
    AdminKeyId,
}

impl Meta {
    pub fn key(self) -> &'static [u8] {
        match self {
            Meta::SchemaVersion => b"schema_version",
            Meta::CaState => b"ca_state",
            Meta::EntitySequence => b"entity_sequence",
            Meta::AdminKeyId => b"admin_key_id",
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
