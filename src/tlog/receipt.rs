//! Receipts: an entry, its index, a signed checkpoint and the inclusion proof that ties them, in
//! JSON for the API and in the C2SP tlog-proof text format for offline verification.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::event::Event;
use super::merkle::{self, Hash};
use super::note::{NoteError, SignedCheckpoint, VerifierKey};

const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Proof that an entry is in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub index: u64,
    /// The entry bytes (canonical event JSON).
    pub entry: Vec<u8>,
    /// The signed checkpoint (note text) the proof leads to.
    pub checkpoint: String,
    /// RFC 9162 inclusion proof of `index` in the checkpoint's tree.
    pub inclusion_proof: Vec<Hash>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("malformed receipt: {0}")]
    Malformed(String),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] NoteError),
    #[error("inclusion proof: {0}")]
    Proof(#[from] merkle::ProofError),
}

/// The JSON form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptJson {
    pub index: u64,
    /// Base64 of the entry bytes.
    pub entry: String,
    /// The decoded event (informative; `entry` is authoritative).
    #[serde(default)]
    pub event: serde_json::Value,
    /// Base64 leaf hash, `SHA-256(0x00 ‖ entry)`.
    pub leaf_hash: String,
    /// The signed checkpoint note.
    pub checkpoint: String,
    /// Base64 hashes, leaf sibling first.
    pub inclusion_proof: Vec<String>,
    /// The same proof in C2SP tlog-proof format.
    pub tlog_proof: String,
}

impl Receipt {
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.entry)
    }

    pub fn to_json(&self) -> ReceiptJson {
        ReceiptJson {
            index: self.index,
            entry: STANDARD.encode(&self.entry),
            event: Event::decode(&self.entry)
                .map(|e| e.to_json())
                .unwrap_or(serde_json::Value::Null),
            leaf_hash: STANDARD.encode(self.leaf_hash()),
            checkpoint: self.checkpoint.clone(),
            inclusion_proof: self
                .inclusion_proof
                .iter()
                .map(|h| STANDARD.encode(h))
                .collect(),
            tlog_proof: self.to_tlog_proof(),
        }
    }

    pub fn from_json(json: &ReceiptJson) -> Result<Self, ReceiptError> {
        let entry = STANDARD
            .decode(&json.entry)
            .map_err(|_| ReceiptError::Malformed("entry is not base64".into()))?;
        let receipt = Self {
            index: json.index,
            entry,
            checkpoint: json.checkpoint.clone(),
            inclusion_proof: json
                .inclusion_proof
                .iter()
                .map(|h| decode_hash(h))
                .collect::<Result<_, _>>()?,
        };
        if STANDARD.encode(receipt.leaf_hash()) != json.leaf_hash {
            return Err(ReceiptError::Malformed(
                "leaf_hash is not the hash of entry".into(),
            ));
        }
        Ok(receipt)
    }

    /// C2SP tlog-proof text: header, `index`, proof hashes, blank line, checkpoint.
    pub fn to_tlog_proof(&self) -> String {
        let mut out = format!("{TLOG_PROOF_HEADER}\nindex {}\n", self.index);
        for h in &self.inclusion_proof {
            out.push_str(&STANDARD.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses C2SP tlog-proof text into (index, proof, checkpoint note); `extra` is ignored.
    pub fn parse_tlog_proof(text: &str) -> Result<(u64, Vec<Hash>, String), ReceiptError> {
        let bad = |m: &str| ReceiptError::Malformed(m.to_owned());
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(bad("the first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut line = lines.next().ok_or_else(|| bad("no index line"))?;
        if line.starts_with("extra ") {
            line = lines.next().ok_or_else(|| bad("no index line"))?;
        }
        let index_text = line
            .strip_prefix("index ")
            .ok_or_else(|| bad("no index line"))?;
        if index_text.is_empty()
            || !index_text.bytes().all(|b| b.is_ascii_digit())
            || (index_text.len() > 1 && index_text.starts_with('0'))
        {
            return Err(bad("the index is not a decimal without leading zeros"));
        }
        let index = index_text
            .parse()
            .map_err(|_| bad("the index does not fit 64 bits"))?;
        let proof = lines.map(decode_hash).collect::<Result<Vec<_>, _>>()?;
        if proof.len() > 64 {
            return Err(bad("more than 64 proof hashes"));
        }
        Ok((index, proof, checkpoint.to_owned()))
    }

    /// Verifies offline: the checkpoint is signed by `key` and the entry is included in it.
    pub fn verify(&self, key: &VerifierKey) -> Result<SignedCheckpoint, ReceiptError> {
        let checkpoint = SignedCheckpoint::open(&self.checkpoint, key)?;
        merkle::verify_inclusion(
            &self.leaf_hash(),
            self.index,
            checkpoint.checkpoint.size,
            &self.inclusion_proof,
            &checkpoint.checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}

fn decode_hash(text: &str) -> Result<Hash, ReceiptError> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ReceiptError::Malformed(format!("{text:?} is not a base64 SHA-256 hash")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example_shape() {
        let text = "c2sp.org/tlog-proof@v1\nextra YWdl\nindex 73894\n\
                    gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
                    B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\n\
                    example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n\u{2014} x AAAA\n";
        let (index, proof, checkpoint) = Receipt::parse_tlog_proof(text).unwrap();
        assert_eq!(index, 73894);
        assert_eq!(proof.len(), 2);
        assert!(checkpoint.starts_with("example.com/fancylog\n109482\n"));
        assert!(Receipt::parse_tlog_proof("c2sp.org/tlog-proof@v1\nindex 01\n\nx").is_err());
        assert!(Receipt::parse_tlog_proof("nope\nindex 1\n\nx").is_err());
    }
}
