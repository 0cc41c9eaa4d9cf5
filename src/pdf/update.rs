//! Incremental updates (ISO 32000-1 §7.5.6): new and changed objects, a cross-reference section
//! for exactly those, and a trailer linked to the previous one by `/Prev`. The original bytes are
//! never rewritten; the update is returned separately so callers can stream `original ‖ update`
//! without copying a large file.

use std::collections::BTreeMap;

use super::document::Document;
use super::object::{Dictionary, ObjRef, Object, write_dictionary, write_object};
use super::xref::SectionKind;

/// What the next update needs to know about the file so far (so a chain of updates can be built
/// without re-reading the bytes).
#[derive(Debug, Clone)]
pub struct Continuation {
    pub len: usize,
    pub ends_with_eol: bool,
    pub startxref: usize,
    pub trailer: Dictionary,
    pub xref_stream: bool,
    pub next: u32,
}

pub struct IncrementalUpdate {
    /// Length of everything the update is appended to.
    base_len: usize,
    /// Whether the base ends with an end-of-line (if not, the update starts with one).
    base_ends_with_eol: bool,
    prev: usize,
    previous_trailer: Dictionary,
    use_xref_stream: bool,
    next: u32,
    objects: BTreeMap<u32, (u16, Vec<u8>)>,
}

/// The serialised update and where each of its objects starts (absolute file offsets).
pub struct Written {
    pub bytes: Vec<u8>,
    /// Where each object's body starts (just after its `N G obj` line), as absolute offsets.
    pub offsets: BTreeMap<u32, usize>,
    /// Offset of this update's cross-reference section (the next update's `/Prev`).
    pub startxref: usize,
    pub continuation: Continuation,
}

impl IncrementalUpdate {
    /// An update to `doc`, whose bytes are the whole file so far.
    pub fn new(doc: &Document<'_>) -> Self {
        let source = doc.source();
        Self::after(&Continuation {
            len: source.len(),
            ends_with_eol: matches!(source.last_byte(), Some(b'\n' | b'\r')),
            startxref: doc.startxref(),
            trailer: doc.trailer().clone(),
            xref_stream: doc.xref().sections[0].kind == SectionKind::Stream,
            next: doc.next_object_number(),
        })
    }

    /// An update following an earlier one.
    pub fn after(c: &Continuation) -> Self {
        Self {
            base_len: c.len,
            base_ends_with_eol: c.ends_with_eol,
            prev: c.startxref,
            previous_trailer: c.trailer.clone(),
            use_xref_stream: c.xref_stream,
            next: c.next,
            objects: BTreeMap::new(),
        }
    }

    /// Writes object `r` from already serialised bytes (what goes between `obj` and `endobj`).
    pub fn set_raw(&mut self, r: ObjRef, body: Vec<u8>) {
        self.objects.insert(r.num, (r.generation, body));
    }

    /// A fresh object number.
    pub fn allocate(&mut self) -> ObjRef {
        let r = ObjRef::new(self.next, 0);
        self.next += 1;
        r
    }

    /// Writes (or overwrites) object `r`.
    pub fn set(&mut self, r: ObjRef, object: &Object) {
        let mut body = Vec::new();
        write_object(&mut body, object);
        self.objects.insert(r.num, (r.generation, body));
    }

    /// Writes a stream object; `/Length` is set from `data`, which must already be encoded as the
    /// dictionary's `/Filter` says.
    pub fn set_stream(&mut self, r: ObjRef, mut dict: Dictionary, data: &[u8]) {
        dict.set(b"Length", Object::Integer(data.len() as i64));
        let mut body = Vec::with_capacity(data.len() + 64);
        write_dictionary(&mut body, &dict);
        body.extend_from_slice(b"\nstream\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.objects.insert(r.num, (r.generation, body));
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Serialises the update.
    pub fn finish(mut self) -> Written {
        let mut out = Vec::new();
        if !self.base_ends_with_eol {
            out.push(b'\n');
        }
        let mut offsets = BTreeMap::new();
        let xref_stream_ref = self.use_xref_stream.then(|| self.allocate());
        let mut xref_offsets = BTreeMap::new();
        for (num, (generation, body)) in &self.objects {
            xref_offsets.insert(*num, self.base_len + out.len());
            out.extend_from_slice(format!("{num} {generation} obj\n").as_bytes());
            offsets.insert(*num, self.base_len + out.len());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let startxref = self.base_len + out.len();
        let mut trailer = Dictionary::new();
        trailer.set(b"Size", Object::Integer(i64::from(self.next)));
        for key in [&b"Root"[..], b"Info", b"ID"] {
            if let Some(v) = self.previous_trailer.get(key) {
                trailer.set(key, v.clone());
            }
        }
        trailer.set(b"Prev", Object::Integer(self.prev as i64));
        let generations: BTreeMap<u32, u16> =
            self.objects.iter().map(|(n, (g, _))| (*n, *g)).collect();
        match xref_stream_ref {
            None => {
                out.extend_from_slice(b"xref\n");
                for run in runs(&generations) {
                    out.extend_from_slice(format!("{} {}\n", run[0].0, run.len()).as_bytes());
                    for (num, generation) in run {
                        let offset = xref_offsets.get(&num).copied().unwrap_or(0);
                        out.extend_from_slice(
                            format!("{offset:010} {generation:05} n\r\n").as_bytes(),
                        );
                    }
                }
                out.extend_from_slice(b"trailer\n");
                write_dictionary(&mut out, &trailer);
                out.push(b'\n');
            }
            Some(xref_ref) => {
                // §7.5.8: the stream lists itself; offsets need 4 bytes up to 4 GiB.
                let mut all = generations.clone();
                all.insert(xref_ref.num, 0);
                xref_offsets.insert(xref_ref.num, startxref);
                let wide = startxref > u32::MAX as usize;
                let offset_width = if wide { 8 } else { 4 };
                let mut index = Vec::new();
                let mut data = Vec::new();
                for run in runs(&all) {
                    index.push(Object::Integer(i64::from(run[0].0)));
                    index.push(Object::Integer(run.len() as i64));
                    for (num, generation) in run {
                        let offset = xref_offsets.get(&num).copied().unwrap_or(0) as u64;
                        data.push(1);
                        data.extend_from_slice(&offset.to_be_bytes()[8 - offset_width..]);
                        data.extend_from_slice(&generation.to_be_bytes());
                    }
                }
                trailer.set(b"Type", Object::name("XRef"));
                trailer.set(
                    b"W",
                    Object::Array(vec![
                        Object::Integer(1),
                        Object::Integer(offset_width as i64),
                        Object::Integer(2),
                    ]),
                );
                trailer.set(b"Index", Object::Array(index));
                trailer.set(b"Length", Object::Integer(data.len() as i64));
                offsets.insert(xref_ref.num, startxref);
                out.extend_from_slice(format!("{} 0 obj\n", xref_ref.num).as_bytes());
                write_dictionary(&mut out, &trailer);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(&data);
                out.extend_from_slice(b"\nendstream\nendobj\n");
            }
        }
        out.extend_from_slice(format!("startxref\n{startxref}\n%%EOF\n").as_bytes());
        let mut next_trailer = trailer;
        for key in [&b"Type"[..], b"W", b"Index", b"Length", b"Prev", b"Size"] {
            next_trailer.remove(key);
        }
        let continuation = Continuation {
            len: self.base_len + out.len(),
            ends_with_eol: true,
            startxref,
            trailer: next_trailer,
            xref_stream: self.use_xref_stream,
            next: self.next,
        };
        Written {
            bytes: out,
            offsets,
            startxref,
            continuation,
        }
    }
}

/// Consecutive object-number runs, for cross-reference subsections.
fn runs(entries: &BTreeMap<u32, u16>) -> Vec<Vec<(u32, u16)>> {
    let mut out: Vec<Vec<(u32, u16)>> = Vec::new();
    for (num, generation) in entries {
        match out.last_mut() {
            Some(run) if run.last().is_some_and(|(n, _)| n + 1 == *num) => {
                run.push((*num, *generation))
            }
            _ => out.push(vec![(*num, *generation)]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::Limits;

    /// A minimal one-page PDF with a classic cross-reference table.
    pub(crate) fn minimal_pdf() -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ];
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f\r\n");
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        out
    }

    #[test]
    fn update_is_appended_and_readable() {
        let base = minimal_pdf();
        let doc = Document::open(&base, Limits::default()).unwrap();
        let page = doc.page(0).unwrap();
        assert_eq!(page.media_box, [0.0, 0.0, 200.0, 200.0]);
        let mut update = IncrementalUpdate::new(&doc);
        let info = update.allocate();
        assert_eq!(info.num, 4);
        update.set(
            info,
            &Object::Dictionary(Dictionary::new().with(b"Title", Object::text("t"))),
        );
        let written = update.finish();
        let mut full = base.clone();
        full.extend_from_slice(&written.bytes);
        assert!(full.starts_with(&base));
        let doc2 = Document::open(&full, Limits::default()).unwrap();
        assert_eq!(doc2.xref().sections.len(), 2);
        let title = doc2.get(info).unwrap();
        assert_eq!(
            title.as_dict().unwrap().get(b"Title").unwrap().as_string(),
            Some(&b"t"[..])
        );
        assert_eq!(doc2.page_count().unwrap(), 1);
    }

    /// A hybrid-reference file (§7.5.8.4): the classic table lists objects 1-3, the trailer's
    /// /XRefStm stream lists an object stream (4) and an object inside it (5).
    #[test]
    fn hybrid_reference_file_reads_objects_only_the_stream_lists() {
        let objstm_body = b"5 0 << /Hidden true >>";
        let first = 4; // "5 0 " precedes the object
        let mut pdf = b"%PDF-1.5\n".to_vec();
        let mut off = Vec::new();
        for (i, body) in [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ]
        .iter()
        .enumerate()
        {
            off.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let objstm_at = pdf.len();
        pdf.extend_from_slice(
            format!(
                "4 0 obj\n<< /Type /ObjStm /N 1 /First {first} /Length {} >>\nstream\n",
                objstm_body.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(objstm_body);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let xrefstm_at = pdf.len();
        // Rows (W [1 4 2]) for objects 4 (in file) and 5 (in stream 4, index 0).
        let mut rows = vec![1u8];
        rows.extend_from_slice(&(objstm_at as u32).to_be_bytes());
        rows.extend_from_slice(&[0, 0, 2, 0, 0, 0, 4, 0, 0]);
        pdf.extend_from_slice(
            format!(
                "6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Index [4 2] /Length {} >>\nstream\n",
                rows.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&rows);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 4\n0000000000 65535 f\r\n");
        for o in off {
            pdf.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Size 7 /Root 1 0 R /XRefStm {xrefstm_at} >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        let doc = Document::open(&pdf, Limits::default()).unwrap();
        let hidden = doc.get(ObjRef::new(5, 0)).unwrap();
        assert_eq!(
            hidden.as_dict().unwrap().get(b"Hidden"),
            Some(&Object::Bool(true))
        );
        assert_eq!(doc.page_count().unwrap(), 1);
        // An update to a hybrid file continues with a classic table and stays readable.
        let mut update = IncrementalUpdate::new(&doc);
        let r = update.allocate();
        assert_eq!(r.num, 7);
        update.set(r, &Object::Integer(42));
        let mut full = pdf.clone();
        full.extend_from_slice(&update.finish().bytes);
        let doc2 = Document::open(&full, Limits::default()).unwrap();
        assert_eq!(doc2.get(r).unwrap(), Object::Integer(42));
        assert!(doc2.get(ObjRef::new(5, 0)).unwrap().as_dict().is_some());
    }

    /// Regression: a trailer /Size near u32::MAX made the next object number overflow.
    #[test]
    fn huge_size_is_refused() {
        let pdf = String::from_utf8(minimal_pdf())
            .unwrap()
            .replace("/Size 4 ", "/Size 4294967295 ")
            .into_bytes();
        let err = Document::open(&pdf, Limits::default()).err().unwrap();
        assert_eq!(err.kind, crate::pdf::ErrorKind::Invalid("trailer /Size"));
    }

    /// Regression: one cross-reference stream whose /Index promised 64M entries cost gigabytes.
    #[test]
    fn cross_reference_entries_are_bounded() {
        let rows = vec![0u8; 4096];
        let packed = crate::pdf::filter::deflate(&vec![0u8; 8 << 20]);
        for (index, data, filter) in [
            ("[0 4096 100 4000000]", rows.clone(), ""),
            ("[0 8388608]", packed, "/Filter /FlateDecode "),
        ] {
            let mut pdf = b"%PDF-1.5\n".to_vec();
            let at = pdf.len();
            pdf.extend_from_slice(
                format!(
                    "1 0 obj\n<< /Type /XRef /Size 100 /W [1 0 0] /Index {index} {filter}/Length {} >>\nstream\n",
                    data.len()
                )
                .as_bytes(),
            );
            pdf.extend_from_slice(&data);
            pdf.extend_from_slice(
                format!("\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n").as_bytes(),
            );
            let limits = Limits {
                max_objects: 1_000_000,
                ..Limits::default()
            };
            assert!(Document::open(&pdf, limits).is_err(), "{index}");
        }
    }

    /// Regression: reals and null entries of rewritten objects must be written back as read
    /// (validators compare them with the originals).
    #[test]
    fn rewritten_objects_keep_their_values() {
        let base = minimal_pdf();
        let doc = Document::open(&base, Limits::default()).unwrap();
        let mut update = IncrementalUpdate::new(&doc);
        let page = crate::pdf::parser::Parser::new(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.275591 841.889764] /Thumb null >>",
            0,
        )
        .object()
        .unwrap();
        update.set(ObjRef::new(3, 0), &page);
        let mut full = base.clone();
        full.extend_from_slice(&update.finish().bytes);
        let text = String::from_utf8_lossy(&full);
        assert!(
            text.contains("/MediaBox [0 0 595.275591 841.889764]/Thumb null"),
            "{text}"
        );
        let doc2 = Document::open(&full, Limits::default()).unwrap();
        let reread = doc2.get(ObjRef::new(3, 0)).unwrap();
        assert_eq!(reread, page);
        assert!(reread.as_dict().unwrap().get(b"Thumb").is_none());
    }

    #[test]
    fn prev_cycle_is_refused() {
        let mut pdf = minimal_pdf();
        // Point the trailer's /Prev at its own section.
        let xref = crate::pdf::xref::find_startxref(&pdf).unwrap();
        let text = String::from_utf8(pdf.clone()).unwrap().replace(
            "<< /Size 4 /Root 1 0 R >>",
            &format!("<< /Size 4 /Root 1 0 R /Prev {xref} >>"),
        );
        pdf = text.into_bytes();
        let err = Document::open(&pdf, Limits::default()).err().unwrap();
        assert_eq!(err.kind, crate::pdf::ErrorKind::XrefCycle);
    }
}
