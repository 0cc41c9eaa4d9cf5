//! Cross-reference sections and the revision chain (ISO 32000-1 §7.5.4–§7.5.8).
//!
//! Revisions are found only through `startxref` and `/Prev` (never by searching for `%%EOF`),
//! hybrid files through `/XRefStm`; a chain that loops is refused.

use std::collections::{HashMap, HashSet};

use super::document::Source;
use super::filter;
use super::object::{Dictionary, Object, StreamData};
use super::parser::Parser;
use super::{ErrorKind, Limits, PdfError};

/// Where an object lives, per the newest section that mentions it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefEntry {
    Free,
    InFile { offset: usize, generation: u16 },
    InStream { stream: u32, index: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    Table,
    Stream,
}

/// One cross-reference section: what `startxref` (or a `/Prev`) pointed at.
#[derive(Debug, Clone)]
pub struct Section {
    /// Its byte offset (the value `startxref` / `/Prev` gave).
    pub offset: usize,
    pub kind: SectionKind,
    pub trailer: Dictionary,
    pub entries: Vec<(u32, XrefEntry)>,
    /// File offset just past the section (the trailer dictionary, or the stream's `endobj`):
    /// where `startxref` of a revision that ends here follows.
    pub end: usize,
}

/// The merged table of a file plus its sections, newest first.
#[derive(Debug, Clone)]
pub struct Xref {
    pub entries: HashMap<u32, XrefEntry>,
    pub sections: Vec<Section>,
    /// The value of the final `startxref`.
    pub startxref: usize,
}

/// Finds the last `startxref` within the file's final kilobytes and reads its offset.
pub fn find_startxref(data: &[u8]) -> Result<usize, PdfError> {
    startxref_in(data, 0, data.len())
}

/// `startxref` in `last` (the file's last part, starting at file offset `base`), checked against
/// the file length `total`.
fn startxref_in(last: &[u8], base: usize, total: usize) -> Result<usize, PdfError> {
    let tail_start = last.len().saturating_sub(4096);
    let tail = &last[tail_start..];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or(PdfError::new(total, ErrorKind::NoStartXref))?;
    let mut p = Parser::new(last, tail_start + at + 9).with_base(base);
    let offset = p.unsigned()?;
    usize::try_from(offset)
        .ok()
        .filter(|o| *o < total)
        .ok_or_else(|| {
            p.error(ErrorKind::Invalid(
                "startxref offset (beyond the end of file)",
            ))
        })
}

/// Reads the whole chain of sections from the final `startxref`.
pub fn read(source: &Source<'_>, limits: &Limits) -> Result<Xref, PdfError> {
    let (last, last_start) = source.last();
    let startxref = startxref_in(last, last_start, source.len())?;
    read_from(source, startxref, limits)
}

/// Reads the chain of sections starting at `startxref` (a revision's own, for reading the file
/// as it was when that revision was its end).
pub fn read_from(source: &Source<'_>, startxref: usize, limits: &Limits) -> Result<Xref, PdfError> {
    let data_len = source.len();
    if startxref >= data_len {
        return Err(PdfError::new(
            startxref,
            ErrorKind::Invalid("startxref offset"),
        ));
    }
    let mut sections: Vec<Section> = Vec::new();
    // Entries over all sections: each costs memory, and sections can repeat ranges.
    let mut total_entries = 0usize;
    // Decoded cross-reference stream bytes, against the file's decode budget.
    let mut decoded = 0usize;
    let mut seen = HashSet::new();
    let mut next = Some(startxref);
    while let Some(offset) = next {
        if !seen.insert(offset) {
            return Err(PdfError::new(offset, ErrorKind::XrefCycle));
        }
        if sections.len() >= limits.max_revisions {
            return Err(PdfError::new(
                offset,
                ErrorKind::TooManyRevisions(limits.max_revisions),
            ));
        }
        let mut section = read_section(source, offset, limits, &mut decoded)?;
        // Hybrid-reference files (§7.5.8.4): entries of the /XRefStm stream complete the table.
        if let Some(stm) = section.trailer.integer(b"XRefStm") {
            let stm = usize::try_from(stm)
                .ok()
                .filter(|o| *o < data_len)
                .ok_or(PdfError::new(offset, ErrorKind::Invalid("/XRefStm offset")))?;
            if seen.insert(stm) {
                let hidden = read_section(source, stm, limits, &mut decoded)?;
                // The stream completes the table: it supplies objects the table lacks or marks
                // free (the spec's example hides compressed objects from old readers that way).
                let listed: HashMap<u32, XrefEntry> = section.entries.iter().copied().collect();
                for (num, entry) in hidden.entries {
                    if matches!(listed.get(&num), None | Some(XrefEntry::Free)) {
                        section.entries.push((num, entry));
                    }
                }
                // Later entries for a number win within a section.
                section.entries.reverse();
                let mut once = HashSet::new();
                section.entries.retain(|(n, _)| once.insert(*n));
                section.entries.reverse();
            }
        }
        total_entries = total_entries.saturating_add(section.entries.len());
        if total_entries > limits.max_objects as usize {
            return Err(PdfError::new(
                offset,
                ErrorKind::Invalid("cross-reference sections (more entries than the object limit)"),
            ));
        }
        if let Some(size) = section.trailer.integer(b"Size")
            && !(0..=i64::from(limits.max_objects)).contains(&size)
        {
            return Err(PdfError::new(offset, ErrorKind::Invalid("trailer /Size")));
        }
        next = match section.trailer.get(b"Prev") {
            None => None,
            Some(Object::Integer(p)) => Some(
                usize::try_from(*p)
                    .ok()
                    .filter(|o| *o < data_len)
                    .ok_or(PdfError::new(offset, ErrorKind::Invalid("/Prev offset")))?,
            ),
            Some(_) => return Err(PdfError::new(offset, ErrorKind::Invalid("/Prev"))),
        };
        sections.push(section);
    }
    let mut entries = HashMap::new();
    for section in &sections {
        // Within a section, the last entry for a number counts; across sections, the newest.
        let mut own: HashMap<u32, XrefEntry> = HashMap::new();
        for (num, entry) in &section.entries {
            own.insert(*num, *entry);
        }
        for (num, entry) in own {
            entries.entry(num).or_insert(entry);
        }
    }
    Ok(Xref {
        entries,
        sections,
        startxref,
    })
}

fn read_section(
    source: &Source<'_>,
    offset: usize,
    limits: &Limits,
    decoded: &mut usize,
) -> Result<Section, PdfError> {
    let mut p = source.parser(offset);
    if p.eat_keyword(b"xref") {
        read_table(p, offset, limits)
    } else {
        read_stream(source, offset, limits, decoded)
    }
}

fn read_table(mut p: Parser<'_>, offset: usize, limits: &Limits) -> Result<Section, PdfError> {
    let mut entries = Vec::new();
    loop {
        if p.eat_keyword(b"trailer") {
            break;
        }
        let start = p.unsigned()?;
        let count = p.unsigned()?;
        if start.saturating_add(count) > u64::from(limits.max_objects) {
            return Err(p.error(ErrorKind::Invalid("cross-reference subsection size")));
        }
        for i in 0..count {
            let field1 = p.unsigned()?;
            let generation = p.unsigned()?;
            // Object numbers fit: start + count ≤ max_objects ≤ u32::MAX.
            let num = (start + i) as u32;
            let generation = u16::try_from(generation).unwrap_or(u16::MAX);
            if p.eat_keyword(b"n") {
                let off = usize::try_from(field1)
                    .map_err(|_| p.error(ErrorKind::Invalid("object offset")))?;
                // Offset 0 marks a broken "in use" entry some producers write; treat it as free.
                let entry = if off == 0 {
                    XrefEntry::Free
                } else {
                    XrefEntry::InFile {
                        offset: off,
                        generation,
                    }
                };
                entries.push((num, entry));
            } else if p.eat_keyword(b"f") {
                entries.push((num, XrefEntry::Free));
            } else {
                return Err(p.error(ErrorKind::Expected("n or f in a cross-reference entry")));
            }
        }
    }
    let trailer = match p.object()? {
        Object::Dictionary(d) => d,
        _ => return Err(p.error(ErrorKind::Expected("the trailer dictionary"))),
    };
    Ok(Section {
        offset,
        kind: SectionKind::Table,
        trailer,
        entries,
        end: p.base() + p.pos(),
    })
}

fn read_stream(
    source: &Source<'_>,
    offset: usize,
    limits: &Limits,
    decoded_so_far: &mut usize,
) -> Result<Section, PdfError> {
    let mut p = source.parser(offset);
    p.indirect_header()?;
    let body = read_stream_body(&mut p, None)?;
    p.eat_keyword(b"endobj");
    let end = p.base() + p.pos();
    let stream = match body {
        Object::Stream(s) => s,
        _ => {
            return Err(PdfError::new(
                offset,
                ErrorKind::Expected("xref or a cross-reference stream"),
            ));
        }
    };
    if !stream.dict.is_type(b"XRef") {
        return Err(PdfError::new(
            offset,
            ErrorKind::Expected("a /Type /XRef stream"),
        ));
    }
    let StreamData::InFile(range) = &stream.data else {
        return Err(PdfError::new(
            offset,
            ErrorKind::Invalid("cross-reference stream"),
        ));
    };
    let raw = source
        .slice(range.clone())
        .ok_or(PdfError::new(offset, ErrorKind::UnexpectedEnd))?;
    let budget = limits
        .max_stream_decoded
        .min(limits.max_total_decoded.saturating_sub(*decoded_so_far));
    let decoded = filter::decode(&stream.dict, raw, budget, range.start)?;
    *decoded_so_far = decoded_so_far.saturating_add(decoded.len());
    let bad = |what| PdfError::new(offset, ErrorKind::Invalid(what));
    let widths: Vec<usize> = stream
        .dict
        .get(b"W")
        .and_then(Object::as_array)
        .ok_or(bad("/W"))?
        .iter()
        .map(|w| {
            w.as_i64()
                .and_then(|w| usize::try_from(w).ok())
                .filter(|w| *w <= 8)
        })
        .collect::<Option<_>>()
        .ok_or(bad("/W"))?;
    if widths.len() != 3 {
        return Err(bad("/W"));
    }
    let size = stream.dict.integer(b"Size").ok_or(bad("/Size"))?;
    let index: Vec<u64> = match stream.dict.get(b"Index") {
        Some(Object::Array(a)) => a
            .iter()
            .map(|v| v.as_i64().and_then(|v| u64::try_from(v).ok()))
            .collect::<Option<_>>()
            .ok_or(bad("/Index"))?,
        _ => vec![0, u64::try_from(size).map_err(|_| bad("/Size"))?],
    };
    if !index.len().is_multiple_of(2) {
        return Err(bad("/Index"));
    }
    let row = widths[0] + widths[1] + widths[2];
    if row == 0 {
        return Err(bad("/W"));
    }
    let mut rows = decoded.chunks_exact(row);
    let mut entries = Vec::new();
    for pair in index.chunks_exact(2) {
        let (start, count) = (pair[0], pair[1]);
        if start.saturating_add(count) > u64::from(limits.max_objects)
            || entries.len() as u64 + count > u64::from(limits.max_objects)
        {
            return Err(bad("/Index range"));
        }
        for i in 0..count {
            let Some(r) = rows.next() else {
                return Err(bad("cross-reference stream (fewer rows than /Index)"));
            };
            let (f1, rest) = r.split_at(widths[0]);
            let (f2, f3) = rest.split_at(widths[1]);
            let kind = if widths[0] == 0 { 1 } else { be(f1) };
            let num = (start + i) as u32;
            let entry = match kind {
                0 => XrefEntry::Free,
                1 => match usize::try_from(be(f2)) {
                    Ok(0) | Err(_) => XrefEntry::Free,
                    Ok(off) => XrefEntry::InFile {
                        offset: off,
                        generation: u16::try_from(be(f3)).unwrap_or(u16::MAX),
                    },
                },
                2 => XrefEntry::InStream {
                    stream: u32::try_from(be(f2)).map_err(|_| bad("object stream number"))?,
                    index: u32::try_from(be(f3)).map_err(|_| bad("object stream index"))?,
                },
                // §7.5.8.3: unknown types are references to the null object.
                _ => XrefEntry::Free,
            };
            entries.push((num, entry));
        }
    }
    Ok(Section {
        offset,
        kind: SectionKind::Stream,
        trailer: stream.dict,
        entries,
        end,
    })
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b))
}

/// Resolves an indirect `/Length` to a byte count.
pub type LengthResolver<'a> = dyn Fn(&Object) -> Option<usize> + 'a;

/// After `N G obj`: parses the object and, if `stream` follows a dictionary, locates its data.
/// `length` resolves an indirect `/Length`; without it (or if it is wrong) the data ends at the
/// next `endstream`.
pub fn read_stream_body(
    p: &mut Parser<'_>,
    length: Option<&LengthResolver<'_>>,
) -> Result<Object, PdfError> {
    let object = p.object()?;
    let Object::Dictionary(dict) = object else {
        return Ok(object);
    };
    if !p.eat_keyword(b"stream") {
        return Ok(Object::Dictionary(dict));
    }
    let data = p.data();
    let mut start = p.pos();
    // §7.3.8.1: `stream` is followed by CRLF or LF (a lone CR is tolerated).
    if data.get(start) == Some(&b'\r') {
        start += 1;
    }
    if data.get(start) == Some(&b'\n') {
        start += 1;
    }
    let declared = match dict.get(b"Length") {
        Some(Object::Integer(n)) => usize::try_from(*n).ok(),
        Some(other) => length.and_then(|f| f(other)),
        None => None,
    };
    let ends_properly = |end: usize| {
        let mut q = Parser::new(data, end);
        q.eat_keyword(b"endstream")
    };
    let end = match declared {
        Some(n)
            if start
                .checked_add(n)
                .is_some_and(|e| e <= data.len() && ends_properly(e)) =>
        {
            start + n
        }
        _ => {
            let rel = data[start..]
                .windows(9)
                .position(|w| w == b"endstream")
                .ok_or(PdfError::new(start, ErrorKind::Unterminated("stream")))?;
            let mut end = start + rel;
            if end > start && data[end - 1] == b'\n' {
                end -= 1;
            }
            if end > start && data[end - 1] == b'\r' {
                end -= 1;
            }
            end
        }
    };
    p.set_pos(end);
    p.expect_keyword("endstream")?;
    // File offsets: the parser may read one part of a multi-part source.
    let base = p.base();
    Ok(Object::Stream(super::object::Stream {
        dict,
        data: StreamData::InFile(start + base..end + base),
    }))
}
