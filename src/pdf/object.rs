//! The PDF object model (ISO 32000-1 §7.3) and its serialisation.
//!
//! Objects read from a file keep their stream data as a byte range of that file (no copy); objects
//! we write are serialised here, in one canonical spelling, for incremental updates.

use std::fmt::Write as _;
use std::ops::Range;

/// An indirect reference `N G R` (§7.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub num: u32,
    pub generation: u16,
}

impl ObjRef {
    pub fn new(num: u32, generation: u16) -> Self {
        Self { num, generation }
    }
}

impl std::fmt::Display for ObjRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} R", self.num, self.generation)
    }
}

/// A direct object. Names are kept as their decoded bytes (`#xx` escapes resolved).
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Null,
    Bool(bool),
    Integer(i64),
    Real(f64),
    Name(Vec<u8>),
    /// A string after escape processing; `hex` records the spelling it was read in (or is to be
    /// written in: `/Contents` placeholders must be hex).
    String {
        bytes: Vec<u8>,
        hex: bool,
    },
    Array(Vec<Object>),
    Dictionary(Dictionary),
    Reference(ObjRef),
    Stream(Stream),
}

/// A dictionary in file order. Lookups are linear: PDF dictionaries are small, and keeping the
/// order makes rewritten objects read like their originals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dictionary(pub Vec<(Vec<u8>, Object)>);

/// A stream: its dictionary and where its raw (still encoded) data lies.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub dict: Dictionary,
    pub data: StreamData,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StreamData {
    /// Bytes `range` of the source file (or of a decoded object stream, for the tokenizer only).
    InFile(Range<usize>),
    /// Bytes we produce; written as given (encode first and set `/Filter` yourself).
    Owned(Vec<u8>),
}

impl Dictionary {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The value of `key`; a `null` value is the same as an absent entry (§7.3.7), but it is kept
    /// so that a rewritten dictionary says exactly what the original said.
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| **v != Object::Null)
    }

    /// Sets `key`, replacing an existing value in place (keeps the order).
    pub fn set(&mut self, key: &[u8], value: Object) {
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| k == key) {
            slot.1 = value;
        } else {
            self.0.push((key.to_vec(), value));
        }
    }

    pub fn with(mut self, key: &[u8], value: Object) -> Self {
        self.set(key, value);
        self
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    pub fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.get(key) {
            Some(Object::Name(n)) => Some(n),
            _ => None,
        }
    }

    pub fn integer(&self, key: &[u8]) -> Option<i64> {
        match self.get(key) {
            Some(Object::Integer(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn reference(&self, key: &[u8]) -> Option<ObjRef> {
        match self.get(key) {
            Some(Object::Reference(r)) => Some(*r),
            _ => None,
        }
    }

    pub fn is_type(&self, type_name: &[u8]) -> bool {
        self.name(b"Type") == Some(type_name)
    }
}

impl Object {
    pub fn name(name: &str) -> Self {
        Object::Name(name.as_bytes().to_vec())
    }

    pub fn literal(text: impl Into<Vec<u8>>) -> Self {
        Object::String {
            bytes: text.into(),
            hex: false,
        }
    }

    pub fn hex(bytes: impl Into<Vec<u8>>) -> Self {
        Object::String {
            bytes: bytes.into(),
            hex: true,
        }
    }

    /// A text string (§7.9.2.2): PDFDocEncoding-safe ASCII as is, anything else UTF-16BE with BOM.
    pub fn text(text: &str) -> Self {
        if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            Object::literal(text.as_bytes().to_vec())
        } else {
            let mut bytes = vec![0xfe, 0xff];
            for unit in text.encode_utf16() {
                bytes.extend_from_slice(&unit.to_be_bytes());
            }
            Object::hex(bytes)
        }
    }

    pub fn real(value: f64) -> Self {
        Object::Real(value)
    }

    /// A rectangle we compute (rounded to 1/10000 pt).
    pub fn rect(r: [f64; 4]) -> Self {
        Object::Array(r.iter().map(|v| Object::Real(round4(*v))).collect())
    }

    pub fn as_dict(&self) -> Option<&Dictionary> {
        match self {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Object::Integer(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) => Some(*r),
            _ => None,
        }
    }

    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Object::String { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    pub fn as_reference(&self) -> Option<ObjRef> {
        match self {
            Object::Reference(r) => Some(*r),
            _ => None,
        }
    }
}

impl From<Dictionary> for Object {
    fn from(d: Dictionary) -> Self {
        Object::Dictionary(d)
    }
}

impl From<ObjRef> for Object {
    fn from(r: ObjRef) -> Self {
        Object::Reference(r)
    }
}

impl From<i64> for Object {
    fn from(i: i64) -> Self {
        Object::Integer(i)
    }
}

/// Decodes a text string (§7.9.2.2): UTF-16BE with BOM, UTF-8 with BOM (PDF 2.0), else
/// PDFDocEncoding (read as Latin-1, which agrees on the printable range).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| b as char).collect()
    }
}

/// Serialises objects in a canonical spelling: one space between tokens, reals with at most four
/// decimals, names and strings escaped so any bytes round-trip.
pub fn write_object(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(format_real(*r).as_bytes()),
        Object::Name(n) => write_name(out, n),
        Object::String { bytes, hex } => {
            if *hex {
                out.push(b'<');
                out.extend_from_slice(hex::encode_upper(bytes).as_bytes());
                out.push(b'>');
            } else {
                write_literal(out, bytes);
            }
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dictionary(out, d),
        Object::Reference(r) => out.extend_from_slice(r.to_string().as_bytes()),
        Object::Stream(_) => {
            // Streams are indirect objects by definition (§7.3.8); the writer handles them.
            out.extend_from_slice(b"null");
        }
    }
}

pub fn write_dictionary(out: &mut Vec<u8>, d: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (key, value) in &d.0 {
        write_name(out, key);
        out.push(b' ');
        write_object(out, value);
    }
    out.extend_from_slice(b">>");
}

/// A real in the shortest decimal form that reads back as the same `f64` (Rust's `Display`
/// never uses an exponent, which PDF does not allow). Values read from a file are thereby written
/// back as they were (`595.275591` stays `595.275591`): validators compare rewritten objects with
/// the originals, and a rounded MediaBox is a modification.
pub fn format_real(r: f64) -> String {
    if !r.is_finite() {
        return "0".to_string();
    }
    let s = format!("{r}");
    if s == "-0" { "0".to_string() } else { s }
}

/// A real rounded to 1/10000 (for values we compute, e.g. appearance geometry).
pub fn round4(r: f64) -> f64 {
    (r * 10_000.0).round() / 10_000.0
}

fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        if b.is_ascii_graphic() && !is_delimiter(b) && b != b'#' {
            out.push(b);
        } else {
            let _ = write!(HexSink(out), "#{b:02X}");
        }
    }
}

fn write_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

struct HexSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for HexSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// §7.2.2: the delimiter characters.
pub fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// §7.2.2: the white-space characters.
pub fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ser(o: &Object) -> String {
        let mut out = Vec::new();
        write_object(&mut out, o);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn serialises_canonically() {
        let d = Dictionary::new()
            .with(b"Type", Object::name("Sig"))
            .with(b"A B", Object::literal(b"x(y)\\\n".to_vec()))
            .with(b"R", Object::Reference(ObjRef::new(3, 0)))
            .with(b"N", Object::rect([0.0, -0.5, 1.2346, 100.0]));
        assert_eq!(
            ser(&Object::Dictionary(d)),
            "<</Type /Sig/A#20B (x\\(y\\)\\\\\\n)/R 3 0 R/N [0 -0.5 1.2346 100]>>"
        );
        assert_eq!(ser(&Object::hex(vec![0xab, 0x01])), "<AB01>");
        assert_eq!(format_real(-0.0), "0");
        // Read values survive a rewrite exactly (regression: 4-decimal rounding changed MediaBoxes).
        for text in ["595.275591", "841.889764", "0.000001", "-12.5", "3"] {
            assert_eq!(format_real(text.parse().unwrap()), text);
        }
    }

    #[test]
    fn text_strings() {
        assert_eq!(Object::text("Berlin"), Object::literal(b"Berlin".to_vec()));
        let cjk = Object::text("签");
        assert_eq!(decode_text(cjk.as_string().unwrap()), "签");
    }
}
