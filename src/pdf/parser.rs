//! Tokenizer and object parser (ISO 32000-1 §7.2–§7.3) over untrusted bytes.
//!
//! Bounded by construction: nesting depth is capped, every element consumes input (so sizes are
//! bounded by the input), and every failure is a [`PdfError`] with the byte offset. Used for file
//! objects (with indirect references) and content streams (operators, no references).

use super::object::{Dictionary, ObjRef, Object, is_delimiter, is_whitespace};
use super::{ErrorKind, PdfError};

/// Deepest nesting of arrays and dictionaries accepted (§C.2 lists 28 as a minimum; real files
/// stay far below 64).
pub const MAX_DEPTH: usize = 64;

/// One item of a content stream (§7.8.2): an operand or an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentItem {
    Operand(Object),
    Operator(Vec<u8>),
}

pub struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    /// Base added to reported offsets (for bytes that are a window of a larger file).
    base: usize,
    references: bool,
    /// Array items and dictionary entries in the current top-level object.
    elements: usize,
}

/// Most array items plus dictionary entries in one object: parsed objects cost ~27× their text
/// in memory, so one huge array must not reach the allocator unbounded.
pub const MAX_ELEMENTS: usize = 1_000_000;

impl<'a> Parser<'a> {
    /// A parser for file objects at `pos`.
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            // Offsets come from untrusted cross-references: past the end reads as end of data.
            pos: pos.min(data.len()),
            base: 0,
            references: true,
            elements: 0,
        }
    }

    /// A parser for a content stream: `N G R` is not a reference there (`1 0 0 RG` is an
    /// operator sequence).
    pub fn content(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            base: 0,
            references: false,
            elements: 0,
        }
    }

    /// Reports offsets relative to `base` (e.g. the start of a decoded object stream).
    pub fn with_base(mut self, base: usize) -> Self {
        self.base = base;
        self
    }

    /// What [`with_base`](Self::with_base) set: add it to positions to get file offsets.
    pub fn base(&self) -> usize {
        self.base
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    pub fn error(&self, kind: ErrorKind) -> PdfError {
        PdfError::new(self.base.saturating_add(self.pos), kind)
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.data.get(self.pos.checked_add(ahead)?).copied()
    }

    /// Skips white space and comments.
    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.data.len()
    }

    /// Reads a run of regular characters (a keyword or number token) without consuming delimiters.
    fn regular_token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_whitespace(b) || is_delimiter(b) {
                break;
            }
            self.pos += 1;
        }
        self.data.get(start..self.pos).unwrap_or_default()
    }

    /// Consumes `keyword` (after white space) if it is the next token.
    pub fn eat_keyword(&mut self, keyword: &[u8]) -> bool {
        self.skip_ws();
        let save = self.pos;
        let token = self.regular_token();
        if token == keyword {
            true
        } else {
            self.pos = save;
            false
        }
    }

    pub fn expect_keyword(&mut self, keyword: &'static str) -> Result<(), PdfError> {
        if self.eat_keyword(keyword.as_bytes()) {
            Ok(())
        } else {
            Err(self.error(ErrorKind::Expected(keyword)))
        }
    }

    /// An unsigned integer token (object numbers, offsets, counts).
    pub fn unsigned(&mut self) -> Result<u64, PdfError> {
        self.skip_ws();
        let start = self.pos;
        let token = self.regular_token();
        if token.is_empty() || token.len() > 19 || !token.iter().all(u8::is_ascii_digit) {
            self.pos = start;
            return Err(self.error(ErrorKind::Expected("an unsigned integer")));
        }
        Ok(token
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
    }

    /// `N G obj`, returning the reference.
    pub fn indirect_header(&mut self) -> Result<ObjRef, PdfError> {
        let num = self.unsigned()?;
        let generation = self.unsigned()?;
        self.expect_keyword("obj")?;
        let num =
            u32::try_from(num).map_err(|_| self.error(ErrorKind::Invalid("object number")))?;
        let generation = u16::try_from(generation)
            .map_err(|_| self.error(ErrorKind::Invalid("generation number")))?;
        Ok(ObjRef::new(num, generation))
    }

    /// Parses one object.
    pub fn object(&mut self) -> Result<Object, PdfError> {
        self.elements = 0;
        self.object_at_depth(0)
    }

    fn count_element(&mut self) -> Result<(), PdfError> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(self.error(ErrorKind::Invalid("object (more than a million elements)")));
        }
        Ok(())
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_DEPTH {
            return Err(self.error(ErrorKind::TooDeep));
        }
        self.skip_ws();
        let Some(b) = self.peek() else {
            return Err(self.error(ErrorKind::UnexpectedEnd));
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name_body()))
            }
            b'(' => self.literal_string(),
            b'<' if self.peek_at(1) == Some(b'<') => {
                self.pos += 2;
                let mut dict = Dictionary::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'>') if self.peek_at(1) == Some(b'>') => {
                            self.pos += 2;
                            return Ok(Object::Dictionary(dict));
                        }
                        Some(b'/') => {
                            self.pos += 1;
                            let key = self.name_body();
                            self.count_element()?;
                            let value = self.object_at_depth(depth + 1)?;
                            // Kept even when null (§7.3.7: same as absent; `get` hides it), so
                            // that a rewritten dictionary keeps every original key.
                            dict.0.push((key, value));
                        }
                        None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                        Some(_) => return Err(self.error(ErrorKind::Expected("a name key or >>"))),
                    }
                }
            }
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                        Some(_) => {
                            self.count_element()?;
                            items.push(self.object_at_depth(depth + 1)?)
                        }
                    }
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number_or_reference(),
            _ if is_delimiter(b) => Err(self.error(ErrorKind::Unexpected(b))),
            _ => {
                let start = self.pos;
                match self.regular_token() {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    _ => {
                        self.pos = start;
                        Err(self.error(ErrorKind::Expected("an object")))
                    }
                }
            }
        }
    }

    fn number_or_reference(&mut self) -> Result<Object, PdfError> {
        let start = self.pos;
        let token = self.regular_token();
        let number = parse_number(token).ok_or_else(|| {
            PdfError::new(
                self.base.saturating_add(start),
                ErrorKind::Invalid("number"),
            )
        })?;
        if let (true, Object::Integer(num)) = (self.references, &number) {
            // Look ahead for `G R`; restore if it is not there.
            let save = self.pos;
            self.skip_ws();
            let gen_token = self.regular_token();
            if !gen_token.is_empty() && gen_token.iter().all(u8::is_ascii_digit) {
                self.skip_ws();
                let r = self.regular_token();
                if r == b"R" {
                    let num = u32::try_from(*num)
                        .map_err(|_| self.error(ErrorKind::Invalid("object number")))?;
                    let generation = parse_number(gen_token)
                        .and_then(|g| g.as_i64())
                        .and_then(|g| u16::try_from(g).ok())
                        .ok_or_else(|| self.error(ErrorKind::Invalid("generation number")))?;
                    return Ok(Object::Reference(ObjRef::new(num, generation)));
                }
            }
            self.pos = save;
        }
        Ok(number)
    }

    fn name_body(&mut self) -> Vec<u8> {
        let raw = self.regular_token();
        let mut name = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'#'
                && let Some(v) = raw.get(i + 1..i + 3).and_then(hex_pair)
            {
                name.push(v);
                i += 3;
                continue;
            }
            name.push(raw[i]);
            i += 1;
        }
        name
    }

    fn literal_string(&mut self) -> Result<Object, PdfError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut nesting = 1usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(PdfError::new(
                    self.base.saturating_add(start),
                    ErrorKind::Unterminated("literal string"),
                ));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' => {
                    nesting -= 1;
                    if nesting == 0 {
                        return Ok(Object::String {
                            bytes: out,
                            hex: false,
                        });
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(e) = self.peek() else { continue };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                b'\r' => {
                    // §7.3.4.2: an unescaped end-of-line is read as a line feed.
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
    }

    fn hex_string(&mut self) -> Result<Object, PdfError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(PdfError::new(
                    self.base.saturating_add(start),
                    ErrorKind::Unterminated("hex string"),
                ));
            };
            self.pos += 1;
            if b == b'>' {
                if let Some(h) = high {
                    out.push(h << 4);
                }
                return Ok(Object::String {
                    bytes: out,
                    hex: true,
                });
            }
            if is_whitespace(b) {
                continue;
            }
            let v = hex_digit(b).ok_or_else(|| self.error(ErrorKind::Invalid("hex digit")))?;
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
    }

    /// The next item of a content stream, or `None` at the end. Inline images (`BI … ID … EI`)
    /// are skipped and reported as the operator `EI`.
    pub fn content_item(&mut self) -> Result<Option<ContentItem>, PdfError> {
        self.skip_ws();
        let Some(b) = self.peek() else {
            return Ok(None);
        };
        let is_operator = !(is_delimiter(b)
            || matches!(b, b'+' | b'-' | b'.' | b'0'..=b'9')
            || self.data[self.pos..].starts_with(b"true") && self.after_is_boundary(4)
            || self.data[self.pos..].starts_with(b"false") && self.after_is_boundary(5)
            || self.data[self.pos..].starts_with(b"null") && self.after_is_boundary(4));
        if b == b']' || b == b'>' || b == b')' || b == b'{' || b == b'}' {
            // Stray closers and PostScript braces (type 4 functions) are not operands here.
            self.pos += 1;
            return Ok(Some(ContentItem::Operator(vec![b])));
        }
        if !is_operator {
            return self.object().map(|o| Some(ContentItem::Operand(o)));
        }
        let op = self.regular_token().to_vec();
        if op == b"BI" {
            self.skip_inline_image()?;
            return Ok(Some(ContentItem::Operator(b"EI".to_vec())));
        }
        Ok(Some(ContentItem::Operator(op)))
    }

    fn after_is_boundary(&self, len: usize) -> bool {
        match self.peek_at(len) {
            None => true,
            Some(c) => is_whitespace(c) || is_delimiter(c),
        }
    }

    fn skip_inline_image(&mut self) -> Result<(), PdfError> {
        // Skip the dictionary part up to `ID`, then data up to a white-space-delimited `EI`.
        let mut guard = 0usize;
        loop {
            guard += 1;
            if guard > 10_000 {
                return Err(self.error(ErrorKind::Invalid("inline image dictionary")));
            }
            self.skip_ws();
            if self.eat_keyword(b"ID") {
                break;
            }
            if self.peek().is_none() {
                return Err(self.error(ErrorKind::Unterminated("inline image")));
            }
            self.object()?;
        }
        let rest = &self.data[self.pos..];
        let mut i = 1;
        while i + 2 <= rest.len() {
            if &rest[i..i + 2] == b"EI"
                && is_whitespace(rest[i - 1])
                && rest.get(i + 2).is_none_or(|c| is_whitespace(*c))
            {
                self.pos += i + 2;
                return Ok(());
            }
            i += 1;
        }
        Err(self.error(ErrorKind::Unterminated("inline image")))
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex_pair(p: &[u8]) -> Option<u8> {
    match p {
        [h, l] => Some(hex_digit(*h)? << 4 | hex_digit(*l)?),
        _ => None,
    }
}

/// §7.3.3 numbers: integers, and reals without exponent. A real's leading sign may repeat in
/// broken producers' output (`--5`); that is refused.
pub fn parse_number(token: &[u8]) -> Option<Object> {
    let text = std::str::from_utf8(token).ok()?;
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    if !digits.contains('.') {
        return text
            .parse::<i64>()
            .ok()
            .map(Object::Integer)
            .or_else(|| text.parse::<f64>().ok().map(Object::Real));
    }
    if digits.matches('.').count() > 1 || digits == "." {
        return None;
    }
    text.parse::<f64>().ok().map(Object::Real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Object {
        Parser::new(s.as_bytes(), 0).object().unwrap()
    }

    #[test]
    fn parses_objects() {
        let o = parse(
            "<< /Type /Catalog /Pages 3 0 R /A [1 -2.5 .5 (a\\(b\\)\\101) <4142 4> true null] /N#20x 1 >>",
        );
        let d = o.as_dict().unwrap();
        assert_eq!(d.name(b"Type"), Some(&b"Catalog"[..]));
        assert_eq!(d.reference(b"Pages"), Some(ObjRef::new(3, 0)));
        let a = d.get(b"A").unwrap().as_array().unwrap();
        assert_eq!(a[0], Object::Integer(1));
        assert_eq!(a[1], Object::Real(-2.5));
        assert_eq!(a[2], Object::Real(0.5));
        assert_eq!(a[3].as_string(), Some(&b"a(b)A"[..]));
        assert_eq!(a[4].as_string(), Some(&b"AB@"[..]));
        assert_eq!(d.integer(b"N x"), Some(1));
    }

    #[test]
    fn content_streams_have_no_references() {
        let mut p = Parser::content(b"1 0 0 RG BT /F1 12 Tf (Hi) Tj ET BI /W 1 ID \x00\xff EI q");
        let mut items = Vec::new();
        while let Some(item) = p.content_item().unwrap() {
            items.push(item);
        }
        assert_eq!(items[3], ContentItem::Operator(b"RG".to_vec()));
        assert!(items.contains(&ContentItem::Operator(b"EI".to_vec())));
        assert_eq!(items.last(), Some(&ContentItem::Operator(b"q".to_vec())));
    }

    #[test]
    fn refuses_deep_nesting_and_garbage_without_panicking() {
        let deep = "[".repeat(100);
        let err = Parser::new(deep.as_bytes(), 0).object().unwrap_err();
        assert!(matches!(err.kind, ErrorKind::TooDeep));
        for input in ["(abc", "<ab", "<< /A", "[1 2", "--5", ")", "<<1>>", "1.2.3"] {
            assert!(
                Parser::new(input.as_bytes(), 0).object().is_err(),
                "{input}"
            );
        }
    }
}
