//! A PDF opened lazily: the cross-reference chain is read up front, objects only when asked for.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::object::{Dictionary, ObjRef, Object, Stream, StreamData};
use super::parser::Parser;
use super::xref::{self, SectionKind, Xref, XrefEntry};
use super::{ErrorKind, Limits, PdfError, filter};

/// Longest chain of references followed to reach a direct object.
const MAX_INDIRECTION: usize = 32;

/// An object stream, decoded once: its data and the (number, offset) pairs of its header.
struct ObjectStream {
    data: Vec<u8>,
    first: usize,
    index: Vec<(u32, usize)>,
}

/// The bytes of a file, possibly in several consecutive parts (an input followed by the
/// incremental updates written to it), read without concatenating them. No object or stream
/// spans two parts: each update starts after the previous part's end.
#[derive(Clone)]
pub struct Source<'a> {
    parts: Vec<&'a [u8]>,
    starts: Vec<usize>,
    len: usize,
}

impl<'a> Source<'a> {
    pub fn new(parts: &[&'a [u8]]) -> Self {
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0usize;
        for p in parts {
            starts.push(len);
            len += p.len();
        }
        Self {
            parts: parts.to_vec(),
            starts,
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The last part and where it starts.
    pub fn last(&self) -> (&'a [u8], usize) {
        match (self.parts.last(), self.starts.last()) {
            (Some(p), Some(s)) => (p, *s),
            _ => (&[], 0),
        }
    }

    /// The part containing `offset` and where it starts.
    fn locate(&self, offset: usize) -> Option<(&'a [u8], usize)> {
        let i = self
            .starts
            .partition_point(|s| *s <= offset)
            .checked_sub(1)?;
        let part = self.parts.get(i)?;
        let start = *self.starts.get(i)?;
        (offset < start + part.len()).then_some((part, start))
    }

    /// A parser at file offset `offset` (at the end of data if it is past the end).
    pub fn parser(&self, offset: usize) -> Parser<'a> {
        match self.locate(offset) {
            Some((part, start)) => Parser::new(part, offset - start).with_base(start),
            None => Parser::new(&[], 0).with_base(self.len),
        }
    }

    /// Bytes `range`, which must lie within one part.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Option<&'a [u8]> {
        if range.start == range.end {
            return Some(&[]);
        }
        let (part, start) = self.locate(range.start)?;
        part.get(range.start - start..range.end.checked_sub(start)?)
    }

    pub fn last_byte(&self) -> Option<u8> {
        self.parts.iter().rev().find_map(|p| p.last().copied())
    }
}

/// A PDF file opened for reading. Not `Sync`: one request's worth of work on one thread.
pub struct Document<'a> {
    data: Source<'a>,
    limits: Limits,
    xref: Xref,
    object_streams: RefCell<HashMap<u32, Rc<ObjectStream>>>,
    decoded: Cell<usize>,
    /// Bytes of object syntax parsed so far (see [`Limits::max_parsed`]).
    parsed: Cell<usize>,
}

/// A page with its inherited attributes resolved (§7.7.3.4).
#[derive(Debug, Clone)]
pub struct Page {
    /// 0-based.
    pub index: usize,
    pub reference: ObjRef,
    pub dict: Dictionary,
    pub media_box: [f64; 4],
    /// The visible region (§14.11.2): CropBox clipped to the MediaBox, MediaBox if absent.
    pub crop_box: [f64; 4],
    /// 0, 90, 180 or 270.
    pub rotate: i64,
    pub resources: Option<Object>,
}

impl<'a> Document<'a> {
    pub fn open(data: &'a [u8], limits: Limits) -> Result<Self, PdfError> {
        Self::open_parts(&[data], limits)
    }

    /// Opens a file given as consecutive parts (e.g. an input and the updates written to it).
    pub fn open_parts(parts: &[&'a [u8]], limits: Limits) -> Result<Self, PdfError> {
        let data = Source::new(parts);
        let first = parts.first().copied().unwrap_or_default();
        let head = &first[..first.len().min(1024)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::new(0, ErrorKind::NotPdf));
        }
        let xref = xref::read(&data, &limits)?;
        Ok(Self {
            data,
            limits,
            xref,
            object_streams: RefCell::new(HashMap::new()),
            decoded: Cell::new(0),
            parsed: Cell::new(0),
        })
    }

    /// Opens `data` as it read when the revision whose newest cross-reference section is at
    /// `startxref` was the file's end (pass `data` cut at that revision's end).
    pub fn open_revision(
        data: &'a [u8],
        startxref: usize,
        limits: Limits,
    ) -> Result<Self, PdfError> {
        let head = &data[..data.len().min(1024)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::new(0, ErrorKind::NotPdf));
        }
        let source = Source::new(&[data]);
        let xref = xref::read_from(&source, startxref, &limits)?;
        Ok(Self {
            data: source,
            limits,
            xref,
            object_streams: RefCell::new(HashMap::new()),
            decoded: Cell::new(0),
            parsed: Cell::new(0),
        })
    }

    /// The file's first part: the whole file when opened with [`open`](Self::open).
    pub fn bytes(&self) -> &'a [u8] {
        self.data.parts.first().copied().unwrap_or_default()
    }

    /// The file's bytes.
    pub fn source(&self) -> &Source<'a> {
        &self.data
    }

    /// The newest trailer (for a cross-reference stream, its dictionary).
    pub fn trailer(&self) -> &Dictionary {
        &self.xref.sections[0].trailer
    }

    pub fn xref(&self) -> &Xref {
        &self.xref
    }

    /// Offset of the newest cross-reference section (the next update's `/Prev`).
    pub fn startxref(&self) -> usize {
        self.xref.startxref
    }

    /// Whether the newest section is a cross-reference stream (an update should then be one too).
    pub fn uses_xref_streams(&self) -> bool {
        self.xref.sections[0].kind == SectionKind::Stream
    }

    pub fn is_encrypted(&self) -> bool {
        self.trailer().get(b"Encrypt").is_some()
    }

    /// The next free object number: past both `/Size` and every number the sections mention.
    pub fn next_object_number(&self) -> u32 {
        let size = self
            .xref
            .sections
            .iter()
            .filter_map(|s| s.trailer.integer(b"Size"))
            .max()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        // Both are bounded by `Limits::max_objects` when the cross-references are read, so the
        // numbers an update allocates cannot overflow.
        let max_num = self.xref.entries.keys().max().map_or(0, |n| n + 1);
        size.max(max_num).max(1)
    }

    /// Reads indirect object `r`. A free or absent object is `null` (§7.3.10).
    pub fn get(&self, r: ObjRef) -> Result<Object, PdfError> {
        self.get_depth(r, 0)
    }

    fn get_depth(&self, r: ObjRef, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_INDIRECTION {
            return Err(PdfError::new(0, ErrorKind::ReferenceLoop(r)));
        }
        self.charge(0, 0)?;
        match self.xref.entries.get(&r.num) {
            None | Some(XrefEntry::Free) => Ok(Object::Null),
            Some(XrefEntry::InFile { offset, generation }) => {
                if *generation != r.generation {
                    return Ok(Object::Null);
                }
                let mut p = self.data.parser(*offset);
                let found = p.indirect_header()?;
                if found.num != r.num {
                    return Err(PdfError::new(*offset, ErrorKind::WrongObject(found, r)));
                }
                let from = p.pos();
                let resolved = Cell::new(None);
                let length = |o: &Object| -> Option<usize> {
                    let r = o.as_reference()?;
                    let v = self.get_depth(r, depth + 1).ok()?;
                    let n = v.as_i64().and_then(|n| usize::try_from(n).ok());
                    resolved.set(n);
                    n
                };
                let object = xref::read_stream_body(&mut p, Some(&length))?;
                // Stream data delimited by /Length was skipped, not read (only a search for
                // `endstream` reads it).
                let skipped = match &object {
                    Object::Stream(Stream {
                        dict,
                        data: StreamData::InFile(range),
                    }) => {
                        let declared = match dict.get(b"Length") {
                            Some(Object::Integer(n)) => usize::try_from(*n).ok(),
                            _ => resolved.get(),
                        };
                        if declared == Some(range.len()) {
                            range.len()
                        } else {
                            0
                        }
                    }
                    _ => 0,
                };
                self.charge(
                    p.pos().saturating_sub(from).saturating_sub(skipped),
                    *offset,
                )?;
                Ok(object)
            }
            Some(XrefEntry::InStream { stream, index }) => {
                if r.generation != 0 {
                    return Ok(Object::Null);
                }
                let os = self.object_stream(*stream, depth)?;
                let Some(&(num, offset)) = os.index.get(*index as usize) else {
                    return Err(PdfError::new(0, ErrorKind::MissingObject(r)));
                };
                if num != r.num {
                    return Err(PdfError::new(
                        0,
                        ErrorKind::WrongObject(ObjRef::new(num, 0), r),
                    ));
                }
                let start = os
                    .first
                    .checked_add(offset)
                    .filter(|s| *s <= os.data.len())
                    .ok_or(PdfError::new(0, ErrorKind::Invalid("object stream offset")))?;
                let mut p = Parser::new(&os.data, start);
                let object = p.object()?;
                self.charge(p.pos() - start, 0)?;
                Ok(object)
            }
        }
    }

    /// Counts `bytes` of object syntax read against the file's decoding budget. Objects are not
    /// cached, so without this a file could have one large object read again for every
    /// reference to it (page tree kids, form fields, font widths, `Do` operators).
    fn charge(&self, bytes: usize, offset: usize) -> Result<(), PdfError> {
        let total = self.parsed.get().saturating_add(bytes);
        self.parsed.set(total);
        if total > self.limits.max_parsed {
            return Err(PdfError::new(
                offset,
                ErrorKind::DecodedTooLarge(self.limits.max_parsed),
            ));
        }
        Ok(())
    }

    fn object_stream(&self, num: u32, depth: usize) -> Result<Rc<ObjectStream>, PdfError> {
        if let Some(os) = self.object_streams.borrow().get(&num) {
            return Ok(os.clone());
        }
        let r = ObjRef::new(num, 0);
        let Object::Stream(stream) = self.get_depth(r, depth + 1)? else {
            return Err(PdfError::new(
                0,
                ErrorKind::Structure(format!("object stream {r} is not a stream")),
            ));
        };
        if !stream.dict.is_type(b"ObjStm") {
            return Err(PdfError::new(
                0,
                ErrorKind::Structure(format!("object {r} is not an object stream")),
            ));
        }
        // §7.5.7: /Extends names the stream this one extends; a chain that loops is malformed
        // (we never need the extended streams, but a loop marks a hostile file).
        let mut seen = std::collections::HashSet::from([r]);
        let mut next = stream.dict.reference(b"Extends");
        while let Some(e) = next {
            if !seen.insert(e) || seen.len() > 64 {
                return Err(PdfError::new(0, ErrorKind::ReferenceLoop(e)));
            }
            next = match self.get_depth(e, depth + 1)? {
                Object::Stream(s) => s.dict.reference(b"Extends"),
                _ => None,
            };
        }
        let data = self.decode_stream_max(&stream, self.limits.max_object_stream)?;
        let n = stream
            .dict
            .integer(b"N")
            .and_then(|n| usize::try_from(n).ok());
        let first = stream
            .dict
            .integer(b"First")
            .and_then(|n| usize::try_from(n).ok());
        let (Some(n), Some(first)) = (n, first) else {
            return Err(PdfError::new(
                0,
                ErrorKind::Invalid("object stream /N or /First"),
            ));
        };
        if first > data.len() || n > data.len() {
            return Err(PdfError::new(
                0,
                ErrorKind::Invalid("object stream /N or /First"),
            ));
        }
        let mut index = Vec::with_capacity(n);
        let mut p = Parser::new(&data[..first], 0);
        for _ in 0..n {
            let obj_num = u32::try_from(p.unsigned()?)
                .map_err(|_| p.error(ErrorKind::Invalid("object number")))?;
            let offset = usize::try_from(p.unsigned()?)
                .map_err(|_| p.error(ErrorKind::Invalid("offset")))?;
            index.push((obj_num, offset));
        }
        let os = Rc::new(ObjectStream { data, first, index });
        self.object_streams.borrow_mut().insert(num, os.clone());
        Ok(os)
    }

    /// Follows references until a direct object.
    pub fn resolve(&self, object: &Object) -> Result<Object, PdfError> {
        match object {
            Object::Reference(r) => self.get(*r),
            other => Ok(other.clone()),
        }
    }

    /// `dict[key]`, resolved.
    pub fn resolve_key(&self, dict: &Dictionary, key: &[u8]) -> Result<Option<Object>, PdfError> {
        match dict.get(key) {
            None => Ok(None),
            Some(o) => Ok(Some(self.resolve(o)?).filter(|o| *o != Object::Null)),
        }
    }

    /// Raw (still encoded) bytes of a stream.
    pub fn raw_stream<'s>(&'s self, stream: &'s Stream) -> Result<&'s [u8], PdfError> {
        match &stream.data {
            StreamData::InFile(range) => self
                .data
                .slice(range.clone())
                .ok_or(PdfError::new(range.start, ErrorKind::UnexpectedEnd)),
            StreamData::Owned(bytes) => Ok(bytes),
        }
    }

    /// Decoded bytes of a stream, counted against the per-file budget.
    pub fn decode_stream(&self, stream: &Stream) -> Result<Vec<u8>, PdfError> {
        self.decode_stream_max(stream, self.limits.max_stream_decoded)
    }

    fn decode_stream_max(&self, stream: &Stream, cap: usize) -> Result<Vec<u8>, PdfError> {
        let raw = self.raw_stream(stream)?;
        let offset = match &stream.data {
            StreamData::InFile(r) => r.start,
            StreamData::Owned(_) => 0,
        };
        let left = self
            .limits
            .max_total_decoded
            .saturating_sub(self.decoded.get());
        let max = cap.min(self.limits.max_stream_decoded).min(left);
        let dict = match stream.dict.get(b"DecodeParms") {
            Some(Object::Reference(_)) => {
                let mut d = stream.dict.clone();
                if let Some(p) = self.resolve_key(&stream.dict, b"DecodeParms")? {
                    d.set(b"DecodeParms", p);
                }
                d
            }
            _ => stream.dict.clone(),
        };
        let out = filter::decode(&dict, raw, max, offset)?;
        self.decoded
            .set(self.decoded.get().saturating_add(out.len()));
        Ok(out)
    }

    /// The document catalog and its reference.
    pub fn catalog(&self) -> Result<(ObjRef, Dictionary), PdfError> {
        let root = self.trailer().reference(b"Root").ok_or(PdfError::new(
            self.startxref(),
            ErrorKind::Structure("trailer has no /Root".into()),
        ))?;
        match self.get(root)? {
            Object::Dictionary(d) => Ok((root, d)),
            _ => Err(PdfError::new(
                0,
                ErrorKind::Structure("/Root is not a dictionary".into()),
            )),
        }
    }

    /// Number of pages per the page tree root's `/Count`.
    pub fn page_count(&self) -> Result<usize, PdfError> {
        let (_, catalog) = self.catalog()?;
        let pages = self.resolve_key(&catalog, b"Pages")?;
        let count = pages
            .as_ref()
            .and_then(Object::as_dict)
            .and_then(|d| d.integer(b"Count"))
            .and_then(|c| usize::try_from(c).ok())
            .ok_or(PdfError::new(
                0,
                ErrorKind::Structure("page tree root has no /Count".into()),
            ))?;
        if count > self.limits.max_pages {
            return Err(PdfError::new(
                0,
                ErrorKind::Structure(format!("more than {} pages", self.limits.max_pages)),
            ));
        }
        Ok(count)
    }

    /// Page `index` (0-based), found by descending the page tree with `/Count` (only the nodes on
    /// the path are read).
    pub fn page(&self, index: usize) -> Result<Page, PdfError> {
        let (_, catalog) = self.catalog()?;
        let root = catalog.reference(b"Pages").ok_or(PdfError::new(
            0,
            ErrorKind::Structure("catalog has no /Pages reference".into()),
        ))?;
        let mut node_ref = root;
        let mut remaining = index;
        let mut inherited = Inherited::default();
        let mut visited = 0usize;
        loop {
            visited += 1;
            if visited > 256 {
                return Err(PdfError::new(0, ErrorKind::ReferenceLoop(node_ref)));
            }
            let node = match self.get(node_ref)? {
                Object::Dictionary(d) => d,
                _ => {
                    return Err(PdfError::new(
                        0,
                        ErrorKind::Structure(format!(
                            "page tree node {node_ref} is not a dictionary"
                        )),
                    ));
                }
            };
            inherited.absorb(self, &node)?;
            if node.is_type(b"Page") || node.get(b"Kids").is_none() {
                if remaining != 0 {
                    return Err(PdfError::new(
                        0,
                        ErrorKind::Structure("page tree /Count does not match its leaves".into()),
                    ));
                }
                return inherited.page(index, node_ref, node);
            }
            let kids = self
                .resolve_key(&node, b"Kids")?
                .and_then(|k| k.as_array().map(<[Object]>::to_vec))
                .ok_or(PdfError::new(
                    0,
                    ErrorKind::Structure(format!("page tree node {node_ref} has no /Kids array")),
                ))?;
            let mut next = None;
            for kid in kids.iter().take(self.limits.max_pages) {
                let Some(kid_ref) = kid.as_reference() else {
                    continue;
                };
                let kid_obj = self.get(kid_ref)?;
                let Some(kid_dict) = kid_obj.as_dict() else {
                    continue;
                };
                let count = if kid_dict.is_type(b"Pages") || kid_dict.get(b"Kids").is_some() {
                    kid_dict
                        .integer(b"Count")
                        .and_then(|c| usize::try_from(c).ok())
                        .unwrap_or(0)
                } else {
                    1
                };
                if remaining < count {
                    next = Some(kid_ref);
                    break;
                }
                remaining -= count;
            }
            node_ref = next.ok_or(PdfError::new(
                0,
                ErrorKind::Structure(format!("page {} not found in the page tree", index + 1)),
            ))?;
        }
    }

    /// The 0-based index of the page object `r` (for widgets' `/P`), in one walk of the tree.
    pub fn page_index_of(&self, r: ObjRef) -> Result<Option<usize>, PdfError> {
        let mut found = None;
        self.walk_pages(&mut |page| {
            if page.reference == r {
                found = Some(page.index);
                return Ok(false);
            }
            Ok(true)
        })?;
        Ok(found)
    }

    /// Visits the pages in order, reading each page tree node once (depth-first, inherited
    /// attributes carried down), until `visit` returns `false`. Bounded by `max_pages` leaves,
    /// and refuses a tree that revisits a node.
    pub fn walk_pages(
        &self,
        visit: &mut dyn FnMut(Page) -> Result<bool, PdfError>,
    ) -> Result<(), PdfError> {
        let (_, catalog) = self.catalog()?;
        let root = catalog.reference(b"Pages").ok_or(PdfError::new(
            0,
            ErrorKind::Structure("catalog has no /Pages reference".into()),
        ))?;
        // Stack of (node, inherited attributes of its parent); kids pushed in reverse.
        let mut stack = vec![(root, Inherited::default(), 0usize)];
        let mut seen = std::collections::HashSet::new();
        let mut index = 0usize;
        while let Some((node_ref, parent, depth)) = stack.pop() {
            if depth > 64 || !seen.insert(node_ref) {
                return Err(PdfError::new(0, ErrorKind::ReferenceLoop(node_ref)));
            }
            let Object::Dictionary(node) = self.get(node_ref)? else {
                continue;
            };
            let mut inherited = parent;
            inherited.absorb(self, &node)?;
            if node.is_type(b"Page") || node.get(b"Kids").is_none() {
                if index >= self.limits.max_pages {
                    return Err(PdfError::new(
                        0,
                        ErrorKind::Structure(format!("more than {} pages", self.limits.max_pages)),
                    ));
                }
                let page = inherited.page(index, node_ref, node)?;
                index += 1;
                if !visit(page)? {
                    return Ok(());
                }
                continue;
            }
            let kids = self
                .resolve_key(&node, b"Kids")?
                .and_then(|k| k.as_array().map(<[Object]>::to_vec))
                .unwrap_or_default();
            for kid in kids.iter().rev().filter_map(Object::as_reference) {
                stack.push((kid, inherited.clone(), depth + 1));
            }
        }
        Ok(())
    }
}

#[derive(Default, Clone)]
struct Inherited {
    media_box: Option<[f64; 4]>,
    crop_box: Option<[f64; 4]>,
    rotate: Option<i64>,
    resources: Option<Object>,
}

impl Inherited {
    fn absorb(&mut self, doc: &Document<'_>, node: &Dictionary) -> Result<(), PdfError> {
        if let Some(b) = doc.resolve_key(node, b"MediaBox")? {
            self.media_box = rect(&b).or(self.media_box);
        }
        if let Some(b) = doc.resolve_key(node, b"CropBox")? {
            self.crop_box = rect(&b).or(self.crop_box);
        }
        if let Some(r) = doc.resolve_key(node, b"Rotate")?.and_then(|r| r.as_i64()) {
            self.rotate = Some(r);
        }
        if let Some(r) = node.get(b"Resources") {
            self.resources = Some(r.clone());
        }
        Ok(())
    }

    fn page(self, index: usize, reference: ObjRef, dict: Dictionary) -> Result<Page, PdfError> {
        // §7.7.3.3: MediaBox is required; Letter is what viewers assume when a broken file lacks it.
        let media_box = self.media_box.unwrap_or([0.0, 0.0, 612.0, 792.0]);
        let crop_box = match self.crop_box {
            Some(c) => [
                c[0].max(media_box[0]),
                c[1].max(media_box[1]),
                c[2].min(media_box[2]),
                c[3].min(media_box[3]),
            ],
            None => media_box,
        };
        let crop_box = if crop_box[2] > crop_box[0] && crop_box[3] > crop_box[1] {
            crop_box
        } else {
            media_box
        };
        Ok(Page {
            index,
            reference,
            dict,
            media_box,
            crop_box,
            rotate: self.rotate.unwrap_or(0).rem_euclid(360) / 90 * 90,
            resources: self.resources,
        })
    }
}

/// A rectangle, normalised so that `[llx lly urx ury]` has ll < ur.
pub fn rect(o: &Object) -> Option<[f64; 4]> {
    let a = o.as_array()?;
    if a.len() != 4 {
        return None;
    }
    let v: Vec<f64> = a.iter().map(Object::as_f64).collect::<Option<_>>()?;
    if v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    Some([
        v[0].min(v[2]),
        v[1].min(v[3]),
        v[0].max(v[2]),
        v[1].max(v[3]),
    ])
}
