//! PDF syntax: reading a file's revisions and objects lazily, and writing incremental updates.
//!
//! Mechanism only (no cryptography, no policy): `pades` decides what to write and `pdf` knows how.
//! We own this code rather than use lopdf because lopdf always parses a whole file and rewrites it
//! on save; a signing appliance must read only the objects an update touches (a 60 MB upload
//! should cost a hash, not a parse) and must never re-serialise a byte of the original.
//!
//! Every read of untrusted bytes is bounded ([`Limits`]) and fails with a [`PdfError`] that names
//! the byte offset.

pub mod document;
pub mod edit;
pub mod encoding;
pub mod filter;
pub mod font;
pub mod image;
pub mod object;
pub mod parser;
pub mod revision;
pub mod text;
pub mod update;
pub mod xref;

pub use document::{Document, Page};
pub use object::{Dictionary, ObjRef, Object, Stream, StreamData};
pub use update::IncrementalUpdate;

/// Bounds on what reading one file may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest decoded size of one stream.
    pub max_stream_decoded: usize,
    /// Total decoded bytes over all streams read from one file.
    pub max_total_decoded: usize,
    /// Total bytes of object syntax parsed from one file (objects are not cached: a large object
    /// read once per reference costs each time, and parsed objects take ~27× their text in
    /// memory). Signing reads a few objects; real files stay far below.
    pub max_parsed: usize,
    /// Largest decoded object stream (they hold small objects; a huge one is an attack).
    pub max_object_stream: usize,
    /// Most revisions (`/Prev` links) followed.
    pub max_revisions: usize,
    /// Highest object number accepted (`/Size`, cross-reference entries), and most
    /// cross-reference entries over all sections together.
    pub max_objects: u32,
    /// Most pages walked in the page tree.
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stream_decoded: 64 << 20,
            max_total_decoded: 256 << 20,
            max_parsed: 16 << 20,
            max_object_stream: 8 << 20,
            max_revisions: 1_000,
            max_objects: 4_000_000,
            max_pages: 100_000,
        }
    }
}

/// A failure reading a PDF, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct PdfError {
    pub offset: usize,
    pub kind: ErrorKind,
}

impl PdfError {
    pub fn new(offset: usize, kind: ErrorKind) -> Self {
        Self { offset, kind }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("not a PDF (no %PDF- header)")]
    NotPdf,
    #[error("no startxref found at the end of the file (truncated?)")]
    NoStartXref,
    #[error("unexpected end of data")]
    UnexpectedEnd,
    #[error("unexpected byte 0x{0:02x}")]
    Unexpected(u8),
    #[error("expected {0}")]
    Expected(&'static str),
    #[error("invalid {0}")]
    Invalid(&'static str),
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    #[error("nesting deeper than {max}", max = parser::MAX_DEPTH)]
    TooDeep,
    #[error("cross-reference chain loops back to an earlier section")]
    XrefCycle,
    #[error("more than {0} revisions")]
    TooManyRevisions(usize),
    #[error("object {0} is not in the cross-reference table")]
    MissingObject(ObjRef),
    #[error("object {0} found where {1} was expected")]
    WrongObject(ObjRef, ObjRef),
    #[error("reference chain too long or cyclic at {0}")]
    ReferenceLoop(ObjRef),
    #[error("stream decodes to more than {0} bytes")]
    DecodedTooLarge(usize),
    #[error("unsupported filter {0}")]
    UnsupportedFilter(String),
    #[error("corrupt compressed data: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Structure(String),
}
