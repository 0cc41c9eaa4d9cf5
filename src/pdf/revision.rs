//! Revisions of a file (ISO 32000-1 §7.5.6): where each one ends, found from the parsed
//! cross-reference chain only.
//!
//! A revision ends with `startxref N %%EOF` right after one of its cross-reference sections,
//! where `N` is the offset of the revision's newest section. The tail is read forward from the
//! parsed end of a section, never by searching the file for `%%EOF`, which can sit inside
//! strings, streams or comments. A linearized file's first-page section is followed by
//! `startxref 0` and so ends no revision; its main section's tail names the first-page section
//! and ends revision 0.

use std::collections::HashMap;

use super::object::is_whitespace;
use super::xref::{Xref, XrefEntry};
use super::{ErrorKind, PdfError};

/// One revision: the original file or an incremental update.
#[derive(Debug, Clone)]
pub struct Revision {
    /// 0 for the original file.
    pub number: usize,
    /// Offset of its first byte (the previous revision's end).
    pub start: usize,
    /// Offset just past its `%%EOF` marker.
    pub eof: usize,
    /// [`eof`](Self::eof) plus one end-of-line marker (CR, LF or CR LF) if one follows.
    pub end: usize,
    /// Offset of its newest cross-reference section (its `startxref` value).
    pub startxref: usize,
    /// The entries its sections list; where several list a number, the newest counts.
    pub entries: HashMap<u32, XrefEntry>,
}

/// The revisions of a file, oldest first, and what follows the last one.
#[derive(Debug, Clone)]
pub struct Revisions {
    pub revisions: Vec<Revision>,
    /// Offset where bytes after the last revision start (`len` when none follow).
    pub trailing_from: usize,
    /// Whether those bytes are all white space.
    pub trailing_is_whitespace: bool,
}

impl Revisions {
    /// The revision whose end (with or without its end-of-line marker) is `offset`.
    pub fn ending_at(&self, offset: usize) -> Option<&Revision> {
        self.revisions
            .iter()
            .find(|r| r.end == offset || r.eof == offset)
    }
}

/// Finds the revisions of `data` from its cross-reference chain `xref` (read from the whole file).
pub fn revisions(data: &[u8], xref: &Xref) -> Result<Revisions, PdfError> {
    let section_offsets: HashMap<usize, usize> = xref
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| (s.offset, i))
        .collect();
    // (eof, end, startxref) for each tail that names a section of the chain.
    let mut ends: Vec<(usize, usize, usize)> = Vec::new();
    for section in &xref.sections {
        if let Some((named, eof, end)) = tail(data, section.end)
            && section_offsets.contains_key(&named)
            && !ends.iter().any(|e| e.0 == eof)
        {
            ends.push((eof, end, named));
        }
    }
    ends.sort_unstable();
    let Some(&(_, last_end, last_startxref)) = ends.last() else {
        return Err(PdfError::new(
            xref.startxref,
            ErrorKind::Structure(
                "no revision ends with startxref and %%EOF after its cross-reference section"
                    .into(),
            ),
        ));
    };
    if last_startxref != xref.startxref {
        return Err(PdfError::new(
            last_end,
            ErrorKind::Structure(format!(
                "the last revision names cross-reference section {last_startxref}, but the \
                 file's final startxref is {}",
                xref.startxref
            )),
        ));
    }
    let mut revisions: Vec<Revision> = Vec::with_capacity(ends.len());
    let mut start = 0;
    for (number, &(eof, end, startxref)) in ends.iter().enumerate() {
        revisions.push(Revision {
            number,
            start,
            eof,
            end,
            startxref,
            entries: HashMap::new(),
        });
        start = end;
    }
    // Each section belongs to the revision whose bytes hold it; oldest section first so that
    // newer entries (and later ones within a section) overwrite older ones.
    for section in xref.sections.iter().rev() {
        let Some(rev) = revisions
            .iter_mut()
            .find(|r| (r.start..r.end).contains(&section.offset))
        else {
            return Err(PdfError::new(
                section.offset,
                ErrorKind::Structure(
                    "a cross-reference section lies outside every revision".into(),
                ),
            ));
        };
        for (num, entry) in &section.entries {
            rev.entries.insert(*num, *entry);
        }
    }
    let trailing_from = last_end;
    let trailing_is_whitespace = data
        .get(trailing_from..)
        .unwrap_or_default()
        .iter()
        .all(|b| is_whitespace(*b));
    Ok(Revisions {
        revisions,
        trailing_from,
        trailing_is_whitespace,
    })
}

/// After a section ending at `at`: white space, `startxref`, white space, an unsigned integer,
/// white space, `%%EOF`. Returns (the integer, offset past `%%EOF`, that plus one EOL marker).
fn tail(data: &[u8], at: usize) -> Option<(usize, usize, usize)> {
    let mut p = at;
    let skip_ws = |p: &mut usize| {
        while data.get(*p).is_some_and(|b| is_whitespace(*b)) {
            *p += 1;
        }
    };
    skip_ws(&mut p);
    if !data.get(p..)?.starts_with(b"startxref") {
        return None;
    }
    p += 9;
    skip_ws(&mut p);
    let digits = data
        .get(p..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let value = std::str::from_utf8(&data[p..p + digits])
        .ok()?
        .parse()
        .ok()?;
    p += digits;
    skip_ws(&mut p);
    if !data.get(p..)?.starts_with(b"%%EOF") {
        return None;
    }
    let eof = p + 5;
    let end = match (data.get(eof), data.get(eof + 1)) {
        (Some(b'\r'), Some(b'\n')) => eof + 2,
        (Some(b'\r' | b'\n'), _) => eof + 1,
        _ => eof,
    };
    Some((value, eof, end))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pdf::document::Source;
    use crate::pdf::{Limits, xref};

    fn revs(data: &[u8]) -> Revisions {
        let x = xref::read(&Source::new(&[data]), &Limits::default()).unwrap();
        revisions(data, &x).unwrap()
    }

    const BASE: &[u8] = b"%PDF-1.7\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n";

    fn file(extra: &[u8]) -> Vec<u8> {
        let mut d = BASE.to_vec();
        let x = d.len();
        d.extend_from_slice(
            format!(
                "xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \ntrailer\n<</Size 3/Root 1 0 R>>\nstartxref\n{x}\n%%EOF\n"
            )
            .as_bytes(),
        );
        let first_end = d.len();
        // An update whose new object holds a string with %%EOF and startxref inside.
        let obj = d.len();
        d.extend_from_slice(extra);
        d.extend_from_slice(b"3 0 obj\n(\nstartxref\n9\n%%EOF\n)\nendobj\n");
        let x2 = d.len();
        d.extend_from_slice(
            format!(
                "xref\n0 1\n0000000000 65535 f \n3 1\n{obj:010} 00000 n \ntrailer\n<</Size 4/Root 1 0 R/Prev {x}>>\nstartxref\n{x2}\n%%EOF"
            )
            .as_bytes(),
        );
        let _ = first_end;
        d
    }

    #[test]
    fn revisions_come_from_the_chain_not_from_eof_markers_in_strings() {
        let d = file(b"");
        let r = revs(&d);
        assert_eq!(r.revisions.len(), 2);
        let first = &r.revisions[0];
        assert!(d[..first.eof].ends_with(b"%%EOF"));
        assert_eq!(d[first.end - 1], b'\n');
        assert_eq!(r.revisions[1].start, first.end);
        assert_eq!(r.revisions[1].eof, d.len());
        assert_eq!(r.revisions[1].end, d.len());
        assert_eq!(r.revisions[1].entries.len(), 2);
        assert!(r.trailing_is_whitespace);
        assert!(r.ending_at(first.eof).is_some());
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let mut d = file(b"");
        d.extend_from_slice(b"\r");
        assert!(revs(&d).trailing_is_whitespace);
        d.extend_from_slice(b"4 0 obj (x) endobj");
        let r = revs(&d);
        assert!(!r.trailing_is_whitespace);
        assert_eq!(r.trailing_from, d.len() - 18);
    }
}
