//! What changed after a signature: the objects as resolved in the signed revision against the
//! final document, default deny.
//!
//! Every object whose cross-reference entry differs between the two views and whose value
//! differs is *changed*. A changed object is acceptable only when a rule below explains it:
//!
//! - **Allowed** without comment: the DSS and its VRI/arrays/streams (new objects), document
//!   time-stamps and later signatures (new signature dictionaries, the fields that hold them,
//!   invisible widgets and their appearances), the catalog gaining `/DSS`, `/AcroForm` gaining
//!   fields, `/Extensions`, `/Version`, a page gaining entries in `/Annots`.
//! - **Permitted** (a warning) only when DocMDP/FieldMDP allow: form filling (`/V`, `/AS`, new
//!   widget appearances) and annotations; visible signature widgets in a certified document count
//!   as annotations. Metadata (`/Info`, XMP) changes are warnings too.
//! - Anything else is a **modification**: page count, page objects, content, resources, fonts,
//!   XObjects, appearance streams redefined in place, catalog entries, objects nobody refers to.
//!
//! The cross-reference sections are content too: an entry that re-points an object into an
//! earlier revision's bytes, frees an object in use, or points at an `N G obj` header with other
//! numbers is a modification even if it adds nothing.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::pdf::object::Stream;
use crate::pdf::parser::Parser;
use crate::pdf::revision::Revisions;
use crate::pdf::text::{self, TextLimits};
use crate::pdf::xref::XrefEntry;
use crate::pdf::{Dictionary, Document, ObjRef, Object, PdfError};

use super::report::{ChangeLevel, Modification};

/// Most field-tree or annotation nodes visited per signature (hostile files can be huge).
const MAX_NODES: usize = 100_000;
const MAX_FIELD_DEPTH: usize = 32;

/// A field-tree node: reference, fully qualified name, inherited `/FT`.
type FieldNode = (ObjRef, String, Option<Vec<u8>>);

pub struct Input<'x, 'a> {
    pub data: &'a [u8],
    pub signed: &'x Document<'a>,
    pub last: &'x Document<'a>,
    pub revisions: &'x Revisions,
    pub signed_revision: usize,
    pub signature: ObjRef,
    /// DocMDP permissions in effect (1, 2, 3), if the document is certified.
    pub docmdp: Option<u8>,
    /// Whether FieldMDP locks the field with this fully qualified name.
    pub locked: &'x dyn Fn(&str) -> bool,
}

pub struct Outcome {
    pub changes: Vec<Modification>,
    /// A later revision redefined this signature's own dictionary.
    pub signature_redefined: bool,
    /// A permitted annotation or widget covers signed text.
    pub overlaps_content: bool,
}

impl Outcome {
    pub fn modified(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.level == ChangeLevel::Modification)
    }
}

pub fn analyse(input: &Input<'_, '_>) -> Result<Outcome, PdfError> {
    let mut w = Walker {
        input,
        changed: BTreeSet::new(),
        new: HashSet::new(),
        explained: HashSet::new(),
        widgets: HashSet::new(),
        out: Vec::new(),
        overlaps: false,
        nodes: 0,
    };
    w.xref_level();
    w.changed_objects()?;
    let signature_redefined = w.changed.contains(&input.signature.num);
    if signature_redefined {
        w.explained.insert(input.signature.num);
        w.push(
            input.signature.num,
            "signature_dictionary_redefined",
            ChangeLevel::Modification,
            "a later revision redefines this signature's dictionary".into(),
        );
    }
    w.trailer();
    w.catalog()?;
    w.acroform()?;
    w.pages()?;
    w.unexplained()?;
    Ok(Outcome {
        changes: w.out,
        signature_redefined,
        overlaps_content: w.overlaps,
    })
}

struct Walker<'i, 'x, 'a> {
    input: &'i Input<'x, 'a>,
    /// Object numbers in use at the end whose value differs from the signed revision's.
    changed: BTreeSet<u32>,
    /// Those not in use in the signed revision.
    new: HashSet<u32>,
    explained: HashSet<u32>,
    /// Widgets of form fields (so a page's `/Annots` rule does not count them twice).
    widgets: HashSet<ObjRef>,
    out: Vec<Modification>,
    overlaps: bool,
    nodes: usize,
}

fn in_use(e: Option<&XrefEntry>) -> bool {
    matches!(
        e,
        Some(XrefEntry::InFile { .. } | XrefEntry::InStream { .. })
    )
}

fn generation(e: &XrefEntry) -> u16 {
    match e {
        XrefEntry::InFile { generation, .. } => *generation,
        _ => 0,
    }
}

impl Walker<'_, '_, '_> {
    fn later(&self) -> &[crate::pdf::revision::Revision] {
        self.input
            .revisions
            .revisions
            .get(self.input.signed_revision + 1..)
            .unwrap_or_default()
    }

    /// The last revision that wrote `num`.
    fn revision_of(&self, num: u32) -> usize {
        self.later()
            .iter()
            .rev()
            .find(|r| r.entries.contains_key(&num))
            .map_or(self.input.signed_revision + 1, |r| r.number)
    }

    fn push(&mut self, num: u32, category: &str, level: ChangeLevel, detail: String) {
        let generation = self
            .input
            .last
            .xref()
            .entries
            .get(&num)
            .map_or(0, generation);
        self.out.push(Modification {
            revision: self.revision_of(num),
            object: Some(format!("{num} {generation}")),
            category: category.into(),
            level,
            detail,
        });
    }

    fn push_doc(&mut self, revision: usize, category: &str, level: ChangeLevel, detail: String) {
        self.out.push(Modification {
            revision,
            object: None,
            category: category.into(),
            level,
            detail,
        });
    }

    /// Cross-reference entries of each later revision, against the state before it.
    fn xref_level(&mut self) {
        let data = self.input.data;
        let mut state: HashMap<u32, XrefEntry> = self.input.signed.xref().entries.clone();
        let later: Vec<_> = self.later().to_vec();
        for rev in &later {
            let mut entries: Vec<(&u32, &XrefEntry)> = rev.entries.iter().collect();
            entries.sort_unstable_by_key(|(n, _)| **n);
            for (&num, &entry) in entries {
                let prev = state.get(&num).copied();
                if num == 0 || prev == Some(entry) {
                    continue;
                }
                let mut flag = |category: &str, detail: String| {
                    self.out.push(Modification {
                        revision: rev.number,
                        object: Some(format!("{num} {}", generation(&entry))),
                        category: category.into(),
                        level: ChangeLevel::Modification,
                        detail,
                    });
                };
                match entry {
                    XrefEntry::Free => {
                        if in_use(prev.as_ref()) {
                            flag(
                                "object_freed",
                                format!(
                                    "revision {} frees object {num}, which was in use",
                                    rev.number
                                ),
                            );
                        }
                    }
                    XrefEntry::InFile { offset, generation } => {
                        if !(rev.start..rev.end).contains(&offset) {
                            flag(
                                "xref_repoint",
                                format!(
                                    "revision {} points object {num} at offset {offset}, outside its own bytes {}..{}",
                                    rev.number, rev.start, rev.end
                                ),
                            );
                        } else {
                            let header = Parser::new(data, offset).indirect_header();
                            if header != Ok(ObjRef::new(num, generation)) {
                                flag(
                                    "xref_mismatched_header",
                                    format!(
                                        "revision {} points object {num} {generation} at offset {offset}, where another object header is",
                                        rev.number
                                    ),
                                );
                            }
                        }
                    }
                    XrefEntry::InStream { stream, .. } => {
                        let own = matches!(
                            rev.entries.get(&stream),
                            Some(XrefEntry::InFile { offset, .. }) if (rev.start..rev.end).contains(offset)
                        );
                        if !own {
                            flag(
                                "xref_repoint",
                                format!(
                                    "revision {} places object {num} in object stream {stream}, which it does not write",
                                    rev.number
                                ),
                            );
                        }
                    }
                }
            }
            for (&num, &entry) in &rev.entries {
                state.insert(num, entry);
            }
        }
    }

    fn same(&self, a: &Object, b: &Object) -> bool {
        match (a, b) {
            (Object::Stream(x), Object::Stream(y)) => {
                x.dict == y.dict
                    && match (
                        self.input.signed.raw_stream(x),
                        self.input.last.raw_stream(y),
                    ) {
                        (Ok(p), Ok(q)) => p == q,
                        _ => false,
                    }
            }
            _ => a == b,
        }
    }

    fn changed_objects(&mut self) -> Result<(), PdfError> {
        let signed = &self.input.signed.xref().entries;
        let last = &self.input.last.xref().entries;
        let mut nums: Vec<(u32, XrefEntry)> = last
            .iter()
            .filter(|(n, e)| **n != 0 && in_use(Some(e)) && signed.get(n) != Some(e))
            .map(|(n, e)| (*n, *e))
            .collect();
        nums.sort_unstable_by_key(|(n, _)| *n);
        // Cross-reference streams and object streams are containers, not content: what they
        // hold is judged object by object.
        let sections: HashSet<usize> = self
            .input
            .last
            .xref()
            .sections
            .iter()
            .map(|s| s.offset)
            .collect();
        for (num, entry) in nums {
            let r = ObjRef::new(num, generation(&entry));
            if let XrefEntry::InFile { offset, .. } = entry
                && sections.contains(&offset)
            {
                continue;
            }
            if let Ok(Object::Stream(st)) = self.input.last.get(r)
                && (st.dict.is_type(b"ObjStm") || st.dict.is_type(b"XRef"))
                && !in_use(signed.get(&num))
            {
                continue;
            }
            if !in_use(signed.get(&num)) {
                self.changed.insert(num);
                self.new.insert(num);
                continue;
            }
            let before = self.input.signed.get(r);
            let after = self.input.last.get(r);
            match (before, after) {
                (Ok(b), Ok(a)) if self.same(&b, &a) => {}
                _ => {
                    self.changed.insert(num);
                }
            }
        }
        Ok(())
    }

    fn is_changed(&self, r: ObjRef) -> bool {
        self.changed.contains(&r.num)
    }

    fn explain(&mut self, r: ObjRef, category: &str, level: ChangeLevel, detail: String) {
        if self.changed.contains(&r.num) && self.explained.insert(r.num) {
            self.push(r.num, category, level, detail);
        }
    }

    /// Explains `r` and the new objects reachable from it (appearance resources, DSS streams),
    /// never descending into objects that existed when the document was signed.
    fn explain_new_tree(&mut self, root: &Object, category: &str, level: ChangeLevel) {
        let mut stack = vec![root.clone()];
        let mut budget = MAX_NODES;
        while let Some(o) = stack.pop() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            match o {
                Object::Reference(r)
                    if self.new.contains(&r.num) && !self.explained.contains(&r.num) =>
                {
                    self.explain(r, category, level, format!("new object for {category}"));
                    if let Ok(obj) = self.input.last.get(r) {
                        stack.push(obj);
                    }
                }
                Object::Array(a) => stack.extend(a),
                Object::Dictionary(d) => stack.extend(d.0.into_iter().map(|(_, v)| v)),
                Object::Stream(Stream { dict, .. }) => {
                    stack.extend(dict.0.into_iter().map(|(_, v)| v));
                }
                _ => {}
            }
        }
    }

    fn trailer(&mut self) {
        let before = self.input.signed.trailer();
        let after = self.input.last.trailer();
        const IGNORED: &[&[u8]] = &[
            b"Size",
            b"Prev",
            b"ID",
            b"XRefStm",
            b"Type",
            b"W",
            b"Index",
            b"Length",
            b"Filter",
            b"DecodeParms",
            b"Info",
        ];
        let revision = self.input.revisions.revisions.len().saturating_sub(1);
        for key in keys(before, after) {
            if IGNORED.contains(&key.as_slice()) || before.get(&key) == after.get(&key) {
                continue;
            }
            self.push_doc(
                revision,
                "trailer",
                ChangeLevel::Modification,
                format!("the trailer's /{} changed", String::from_utf8_lossy(&key)),
            );
        }
        if before.get(b"Info") != after.get(b"Info") {
            self.push_doc(
                revision,
                "metadata",
                ChangeLevel::Permitted,
                "the document information dictionary (/Info) was replaced".into(),
            );
        }
        if let Some(r) = after.reference(b"Info") {
            self.explain(
                r,
                "metadata",
                ChangeLevel::Permitted,
                "document information dictionary (/Info) changed".into(),
            );
        }
    }

    fn catalog(&mut self) -> Result<(), PdfError> {
        let (root, after) = self.input.last.catalog()?;
        let (_, before) = self.input.signed.catalog()?;
        let mut bad = Vec::new();
        for key in keys(&before, &after) {
            if before.get(&key) == after.get(&key) {
                continue;
            }
            match key.as_slice() {
                b"DSS" | b"AcroForm" | b"Extensions" | b"Version" => {}
                b"Metadata" => {
                    if let Some(r) = after.reference(b"Metadata") {
                        self.explain(
                            r,
                            "metadata",
                            ChangeLevel::Permitted,
                            "XMP metadata stream replaced".into(),
                        );
                    }
                }
                _ => bad.push(String::from_utf8_lossy(&key).into_owned()),
            }
        }
        if bad.is_empty() {
            self.explain(
                root,
                "catalog",
                ChangeLevel::Allowed,
                "catalog updated (DSS, AcroForm or extensions)".into(),
            );
        } else {
            self.explained.insert(root.num);
            self.push(
                root.num,
                "catalog",
                ChangeLevel::Modification,
                format!("catalog entries changed: /{}", bad.join(", /")),
            );
        }
        // The XMP stream the catalog names, added or rewritten (pyHanko rewrites it with each
        // signature): metadata, not page content, but reported.
        if let Some(r) = after.reference(b"Metadata")
            && matches!(self.input.last.get(r), Ok(Object::Stream(ref st)) if st.dict.is_type(b"Metadata"))
        {
            self.explain(
                r,
                "metadata",
                ChangeLevel::Permitted,
                "XMP metadata stream written".into(),
            );
        }
        // Developer extensions (ISO 32000-2 §7.12; PAdES writers declare ESIC there).
        if let Some(ext) = after.get(b"Extensions").cloned()
            && before.get(b"Extensions") != Some(&ext)
        {
            self.explain_new_tree(&ext, "extensions", ChangeLevel::Allowed);
        }
        // The DSS: new objects anywhere below it, plus the DSS objects the signed revision had.
        if let Some(dss) = after.get(b"DSS").cloned() {
            let mut old = HashSet::new();
            if let Some(d) = before.get(b"DSS") {
                self.collect_refs(self.input.signed, d, &mut old, 4);
            }
            let mut now = HashSet::new();
            self.collect_refs(self.input.last, &dss, &mut now, 4);
            // A DSS an intermediate revision wrote and a later one replaced is validation data
            // too, though nothing refers to it any more.
            let later: Vec<_> = self.later().to_vec();
            for rev in later.iter().take(later.len().saturating_sub(1)) {
                let Some(bytes) = self.input.data.get(..rev.end) else {
                    continue;
                };
                let Ok(view) =
                    Document::open_revision(bytes, rev.startxref, crate::pdf::Limits::default())
                else {
                    continue;
                };
                if let Ok((_, cat)) = view.catalog()
                    && let Some(d) = cat.get(b"DSS")
                {
                    self.collect_refs(&view, d, &mut now, 4);
                }
            }
            for r in now {
                if self.new.contains(&r.num) || old.contains(&r) {
                    self.explain(
                        r,
                        "dss",
                        ChangeLevel::Allowed,
                        "validation data (DSS) for long-term validation".into(),
                    );
                }
            }
        }
        Ok(())
    }

    /// References reachable from `o` within `depth` levels of indirection.
    fn collect_refs(
        &self,
        doc: &Document<'_>,
        o: &Object,
        out: &mut HashSet<ObjRef>,
        depth: usize,
    ) {
        let mut stack = vec![(o.clone(), 0usize)];
        while let Some((o, d)) = stack.pop() {
            if out.len() >= MAX_NODES {
                return;
            }
            match o {
                Object::Reference(r) => {
                    if d < depth
                        && out.insert(r)
                        && let Ok(v) = doc.get(r)
                    {
                        stack.push((v, d + 1));
                    }
                }
                Object::Array(a) => stack.extend(a.into_iter().map(|v| (v, d))),
                Object::Dictionary(dict) => stack.extend(dict.0.into_iter().map(|(_, v)| (v, d))),
                Object::Stream(s) => stack.extend(s.dict.0.into_iter().map(|(_, v)| (v, d))),
                _ => {}
            }
        }
    }

    fn acroform(&mut self) -> Result<(), PdfError> {
        let form = |doc: &Document<'_>| -> Result<(Option<ObjRef>, Dictionary), PdfError> {
            let (_, cat) = doc.catalog()?;
            Ok(match cat.get(b"AcroForm") {
                Some(Object::Reference(r)) => (
                    Some(*r),
                    doc.get(*r)?.as_dict().cloned().unwrap_or_default(),
                ),
                Some(Object::Dictionary(d)) => (None, d.clone()),
                _ => (None, Dictionary::new()),
            })
        };
        let (af_ref, after) = form(self.input.last)?;
        let (_, before) = form(self.input.signed)?;
        let docmdp = self.input.docmdp;
        let fill_level = if docmdp == Some(1) {
            ChangeLevel::Modification
        } else {
            ChangeLevel::Permitted
        };
        let mut bad = Vec::new();
        let mut fill = Vec::new();
        for key in keys(&before, &after) {
            if before.get(&key) == after.get(&key) {
                continue;
            }
            match key.as_slice() {
                b"Fields" | b"SigFlags" => {}
                b"DR" | b"DA" | b"NeedAppearances" | b"Q" => {
                    fill.push(String::from_utf8_lossy(&key).into_owned());
                }
                _ => bad.push(String::from_utf8_lossy(&key).into_owned()),
            }
        }
        let before_fields = self.field_nodes(self.input.signed, &before)?;
        let after_fields = self.field_nodes(self.input.last, &after)?;
        let after_set: HashSet<ObjRef> = after_fields.iter().map(|f| f.0).collect();
        let revision = self.input.revisions.revisions.len().saturating_sub(1);
        for (r, name, _) in &before_fields {
            if !after_set.contains(r) {
                self.push_doc(
                    revision,
                    "form_field_removed",
                    ChangeLevel::Modification,
                    format!("form field {name} ({} {}) was removed", r.num, r.generation),
                );
            }
        }
        if let Some(r) = af_ref {
            if !bad.is_empty() {
                self.explained.insert(r.num);
                self.push(
                    r.num,
                    "acroform",
                    ChangeLevel::Modification,
                    format!("AcroForm entries changed: /{}", bad.join(", /")),
                );
            } else if !fill.is_empty() {
                self.explain(
                    r,
                    "form_fill",
                    fill_level,
                    format!("AcroForm entries changed: /{}", fill.join(", /")),
                );
            } else {
                self.explain(
                    r,
                    "acroform",
                    ChangeLevel::Allowed,
                    "AcroForm lists new fields".into(),
                );
            }
        } else if !bad.is_empty() {
            self.push_doc(
                revision,
                "acroform",
                ChangeLevel::Modification,
                format!("AcroForm entries changed: /{}", bad.join(", /")),
            );
        }
        if let Some(Object::Reference(r)) = after.get(b"Fields") {
            self.explain(
                *r,
                "acroform",
                ChangeLevel::Allowed,
                "AcroForm field list".into(),
            );
        }
        if let Some(Object::Reference(r)) = after.get(b"DR") {
            self.explain(*r, "form_fill", fill_level, "form default resources".into());
        }
        for (r, name, ft) in after_fields {
            self.field(r, &name, ft.as_deref())?;
        }
        Ok(())
    }

    /// Every node of the field tree: (reference, fully qualified name, inherited /FT).
    fn field_nodes(
        &mut self,
        doc: &Document<'_>,
        form: &Dictionary,
    ) -> Result<Vec<FieldNode>, PdfError> {
        let mut out = Vec::new();
        let roots = match form.get(b"Fields") {
            Some(o) => doc.resolve(o)?,
            None => return Ok(out),
        };
        let mut stack: Vec<(ObjRef, String, Option<Vec<u8>>, usize)> = roots
            .as_array()
            .unwrap_or_default()
            .iter()
            .rev()
            .filter_map(Object::as_reference)
            .map(|r| (r, String::new(), None, 0))
            .collect();
        let mut seen = HashSet::new();
        while let Some((r, parent, ft, depth)) = stack.pop() {
            if depth > MAX_FIELD_DEPTH || !seen.insert(r) {
                continue;
            }
            self.nodes += 1;
            if self.nodes > MAX_NODES {
                return Err(PdfError::new(
                    0,
                    crate::pdf::ErrorKind::Structure("form field tree too large".into()),
                ));
            }
            let Object::Dictionary(d) = doc.get(r)? else {
                continue;
            };
            let ft = d.name(b"FT").map(<[u8]>::to_vec).or(ft);
            let name = match d.get(b"T").and_then(Object::as_string) {
                Some(t) => {
                    let t = crate::pdf::object::decode_text(t);
                    if parent.is_empty() {
                        t
                    } else {
                        format!("{parent}.{t}")
                    }
                }
                None => parent.clone(),
            };
            if let Some(kids) = d.get(b"Kids") {
                let kids = doc.resolve(kids)?;
                for k in kids.as_array().unwrap_or_default().iter().rev() {
                    if let Some(k) = k.as_reference() {
                        stack.push((k, name.clone(), ft.clone(), depth + 1));
                    }
                }
            }
            out.push((r, name, ft));
        }
        Ok(out)
    }

    fn field(&mut self, r: ObjRef, name: &str, ft: Option<&[u8]>) -> Result<(), PdfError> {
        let is_sig = ft == Some(b"Sig");
        let after = self
            .input
            .last
            .get(r)?
            .as_dict()
            .cloned()
            .unwrap_or_default();
        let is_widget = after.name(b"Subtype") == Some(b"Widget");
        if is_widget {
            self.widgets.insert(r);
        }
        let docmdp = self.input.docmdp;
        let locked = (self.input.locked)(name);
        if self.new.contains(&r.num) {
            if is_sig {
                let value = after.get(b"V").cloned();
                let category = self.signature_category(value.as_ref());
                let level = if docmdp == Some(1) && category == "signature" {
                    ChangeLevel::Modification
                } else {
                    ChangeLevel::Allowed
                };
                self.explain(r, category, level, format!("new signature field {name}"));
                if let Some(v) = &value {
                    self.explain_new_tree(v, category, level);
                }
                if is_widget {
                    self.widget(r, &after, true, true, name)?;
                }
            } else {
                self.explained.insert(r.num);
                self.push(
                    r.num,
                    "form_field_added",
                    ChangeLevel::Modification,
                    format!("new form field {name}"),
                );
            }
            return Ok(());
        }
        if !self.is_changed(r) {
            return Ok(());
        }
        let before = self
            .input
            .signed
            .get(r)?
            .as_dict()
            .cloned()
            .unwrap_or_default();
        let diff: Vec<Vec<u8>> = keys(&before, &after)
            .into_iter()
            .filter(|k| before.get(k) != after.get(k))
            .collect();
        let value_keys: &[&[u8]] = &[b"V", b"AP", b"AS"];
        let other: Vec<String> = diff
            .iter()
            .filter(|k| !value_keys.contains(&k.as_slice()))
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect();
        if !other.is_empty() {
            self.explained.insert(r.num);
            self.push(
                r.num,
                "form_field",
                ChangeLevel::Modification,
                format!("field {name}: /{} changed", other.join(", /")),
            );
            return Ok(());
        }
        if is_sig {
            if before.get(b"V").is_some() && diff.iter().any(|k| k == b"V") {
                self.explained.insert(r.num);
                self.push(
                    r.num,
                    "signature_field_overwritten",
                    ChangeLevel::Modification,
                    format!("signature field {name} was given another signature value"),
                );
                return Ok(());
            }
            let value = after.get(b"V").cloned();
            let category = self.signature_category(value.as_ref());
            let level = if docmdp == Some(1) && category == "signature" {
                ChangeLevel::Modification
            } else {
                ChangeLevel::Allowed
            };
            self.explain(r, category, level, format!("signature field {name} signed"));
            if let Some(v) = &value {
                self.explain_new_tree(v, category, level);
            }
        } else {
            let level = if docmdp == Some(1) || locked {
                ChangeLevel::Modification
            } else {
                ChangeLevel::Permitted
            };
            let why = if locked {
                format!("field {name} was filled in, but a FieldMDP lock covers it")
            } else {
                format!("field {name} was filled in")
            };
            self.explain(r, "form_fill", level, why);
        }
        if is_widget {
            self.widget(r, &after, is_sig, false, name)?;
        }
        Ok(())
    }

    fn signature_category(&self, value: Option<&Object>) -> &'static str {
        let dict = value
            .and_then(|v| self.input.last.resolve(v).ok())
            .and_then(|v| v.as_dict().cloned());
        match dict {
            Some(d)
                if d.is_type(b"DocTimeStamp") || d.name(b"SubFilter") == Some(b"ETSI.RFC3161") =>
            {
                "document_timestamp"
            }
            _ => "signature",
        }
    }

    /// A widget of a field that was added or filled: its appearance, and whether it shows. A
    /// visible widget of a *new* signature field in a certified document counts as an
    /// annotation (P3 only); filling a prepared signature field is signing (P2 and P3).
    fn widget(
        &mut self,
        r: ObjRef,
        dict: &Dictionary,
        is_sig: bool,
        new_field: bool,
        name: &str,
    ) -> Result<(), PdfError> {
        let visible = visible_rect(dict, true);
        let docmdp = self.input.docmdp;
        let (category, level) = match (is_sig, visible.is_some(), docmdp) {
            (true, false, _) => ("signature", ChangeLevel::Allowed),
            (true, true, None) => ("signature", ChangeLevel::Allowed),
            (true, true, Some(1)) => ("signature", ChangeLevel::Modification),
            (true, true, Some(_)) if !new_field => ("signature", ChangeLevel::Allowed),
            (true, true, Some(3)) => ("annotation", ChangeLevel::Permitted),
            (true, true, Some(_)) => ("annotation", ChangeLevel::Modification),
            (false, _, Some(1)) => ("form_fill", ChangeLevel::Modification),
            (false, _, _) => ("form_fill", ChangeLevel::Permitted),
        };
        if let Some(ap) = dict.get(b"AP") {
            let ap = ap.clone();
            self.explain_new_tree(&ap, category, level);
        }
        if is_sig && visible.is_some() && level != ChangeLevel::Allowed {
            self.push(
                r.num,
                category,
                level,
                format!("visible signature widget {name} added to a certified document"),
            );
        }
        if let Some(rect) = visible
            && level != ChangeLevel::Modification
        {
            self.overlap(r, dict, rect, &format!("widget of field {name}"))?;
        }
        Ok(())
    }

    /// Warns when `rect` on the annotation's page covers text of the signed revision.
    fn overlap(
        &mut self,
        r: ObjRef,
        dict: &Dictionary,
        rect: [f64; 4],
        what: &str,
    ) -> Result<(), PdfError> {
        let page_index = match dict.reference(b"P") {
            Some(p) => self.input.signed.page_index_of(p)?,
            None => None,
        };
        let pages: Vec<usize> = match page_index {
            Some(i) => vec![i],
            None => self.pages_holding(r)?,
        };
        for i in pages {
            self.overlap_on(r, i, rect, what)?;
        }
        Ok(())
    }

    /// Warns when `rect` on page `i` covers text of the signed revision.
    fn overlap_on(
        &mut self,
        r: ObjRef,
        i: usize,
        rect: [f64; 4],
        what: &str,
    ) -> Result<(), PdfError> {
        let page = self.input.signed.page(i)?;
        let covered =
            text::glyphs_under(self.input.signed, &page, rect, 1000, &TextLimits::default())
                .unwrap_or_default();
        if !covered.is_empty() {
            self.overlaps = true;
            self.push(
                r.num,
                "overlaps_content",
                ChangeLevel::Permitted,
                format!(
                    "{what} on page {} covers {} glyph(s) of signed text at [{:.1} {:.1} {:.1} {:.1}]",
                    i + 1,
                    covered.len(),
                    rect[0],
                    rect[1],
                    rect[2],
                    rect[3]
                ),
            );
        }
        Ok(())
    }

    fn pages_holding(&self, annot: ObjRef) -> Result<Vec<usize>, PdfError> {
        let n = self.input.last.page_count()?;
        let mut out = Vec::new();
        for i in 0..n.min(self.input.signed.page_count()?) {
            let page = self.input.last.page(i)?;
            let annots = self.annots(self.input.last, &page.dict)?;
            if annots.contains(&annot) {
                out.push(i);
            }
        }
        Ok(out)
    }

    fn annots(&self, doc: &Document<'_>, page: &Dictionary) -> Result<Vec<ObjRef>, PdfError> {
        Ok(match page.get(b"Annots") {
            Some(a) => doc
                .resolve(a)?
                .as_array()
                .unwrap_or_default()
                .iter()
                .filter_map(Object::as_reference)
                .collect(),
            None => Vec::new(),
        })
    }

    fn pages(&mut self) -> Result<(), PdfError> {
        let before_n = self.input.signed.page_count()?;
        let after_n = self.input.last.page_count()?;
        let revision = self.input.revisions.revisions.len().saturating_sub(1);
        if before_n != after_n {
            self.push_doc(
                revision,
                "page_count",
                ChangeLevel::Modification,
                format!("the page count changed from {before_n} to {after_n}"),
            );
        }
        let docmdp = self.input.docmdp;
        for i in 0..before_n.min(after_n) {
            let before = self.input.signed.page(i)?;
            let after = self.input.last.page(i)?;
            if before.reference != after.reference {
                self.push_doc(
                    revision,
                    "page",
                    ChangeLevel::Modification,
                    format!("page {} is another page object than was signed", i + 1),
                );
                continue;
            }
            let r = after.reference;
            if !self.is_changed(r) {
                continue;
            }
            let b = self
                .input
                .signed
                .get(r)?
                .as_dict()
                .cloned()
                .unwrap_or_default();
            let a = self
                .input
                .last
                .get(r)?
                .as_dict()
                .cloned()
                .unwrap_or_default();
            let diff: Vec<Vec<u8>> = keys(&b, &a)
                .into_iter()
                .filter(|k| b.get(k) != a.get(k))
                .collect();
            let other: Vec<&Vec<u8>> = diff.iter().filter(|k| k.as_slice() != b"Annots").collect();
            if !other.is_empty() {
                let category = if other.iter().any(|k| k.as_slice() == b"Contents") {
                    "page_content"
                } else if other.iter().any(|k| k.as_slice() == b"Resources") {
                    "resources"
                } else {
                    "page"
                };
                let names: Vec<String> = other
                    .iter()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .collect();
                self.explained.insert(r.num);
                self.push(
                    r.num,
                    category,
                    ChangeLevel::Modification,
                    format!("page {}: /{} redefined", i + 1, names.join(", /")),
                );
                continue;
            }
            self.explain(
                r,
                "annotations",
                ChangeLevel::Allowed,
                format!("page {} /Annots updated", i + 1),
            );
        }
        // Annotations of every page (also for pages whose /Annots array is an indirect object).
        for i in 0..before_n.min(after_n) {
            let before = self.input.signed.page(i)?;
            let after = self.input.last.page(i)?;
            let old = self.annots(self.input.signed, &before.dict)?;
            let now = self.annots(self.input.last, &after.dict)?;
            if let Some(Object::Reference(ar)) = after.dict.get(b"Annots") {
                self.explain(
                    *ar,
                    "annotations",
                    ChangeLevel::Allowed,
                    format!("page {} annotation list", i + 1),
                );
            }
            let now_set: HashSet<ObjRef> = now.iter().copied().collect();
            for a in &old {
                if !now_set.contains(a) {
                    self.push_doc(
                        revision,
                        "annotation_removed",
                        ChangeLevel::Modification,
                        format!(
                            "annotation {} {} was removed from page {}",
                            a.num,
                            a.generation,
                            i + 1
                        ),
                    );
                }
            }
            let old_set: HashSet<ObjRef> = old.iter().copied().collect();
            for a in now {
                if old_set.contains(&a) || self.widgets.contains(&a) {
                    continue;
                }
                self.nodes += 1;
                if self.nodes > MAX_NODES {
                    return Err(PdfError::new(
                        0,
                        crate::pdf::ErrorKind::Structure("too many annotations".into()),
                    ));
                }
                let dict = self
                    .input
                    .last
                    .get(a)?
                    .as_dict()
                    .cloned()
                    .unwrap_or_default();
                let subtype = dict
                    .name(b"Subtype")
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .unwrap_or_else(|| "(none)".into());
                if !self.new.contains(&a.num) {
                    // An old object moved onto the page: default deny.
                    continue;
                }
                let (category, level) = if subtype == "Widget" {
                    ("widget_without_field", ChangeLevel::Modification)
                } else if matches!(docmdp, None | Some(3)) {
                    ("annotation", ChangeLevel::Permitted)
                } else {
                    ("annotation", ChangeLevel::Modification)
                };
                self.explain(
                    a,
                    category,
                    level,
                    format!("{subtype} annotation added to page {}", i + 1),
                );
                self.explain_new_tree(&Object::Dictionary(dict.clone()), category, level);
                if let Some(rect) = visible_rect(&dict, false)
                    && level == ChangeLevel::Permitted
                {
                    self.overlap_on(a, i, rect, &format!("{subtype} annotation"))?;
                }
            }
        }
        Ok(())
    }

    /// Whatever no rule explained is a modification, named by what the object looks like.
    fn unexplained(&mut self) -> Result<(), PdfError> {
        let rest: Vec<u32> = self
            .changed
            .iter()
            .filter(|n| !self.explained.contains(n))
            .copied()
            .collect();
        for num in rest {
            let generation = self
                .input
                .last
                .xref()
                .entries
                .get(&num)
                .map_or(0, generation);
            let obj = self.input.last.get(ObjRef::new(num, generation));
            let dict = match &obj {
                Ok(Object::Dictionary(d)) => Some(d.clone()),
                Ok(Object::Stream(s)) => Some(s.dict.clone()),
                _ => None,
            };
            let category = match &dict {
                Some(d) if d.is_type(b"Page") => "page",
                Some(d) if d.is_type(b"Pages") => "page_tree",
                Some(d) if d.is_type(b"Font") || d.is_type(b"FontDescriptor") => "font",
                Some(d)
                    if d.is_type(b"XObject")
                        || d.name(b"Subtype") == Some(b"Image")
                        || d.name(b"Subtype") == Some(b"Form") =>
                {
                    "xobject"
                }
                Some(d) if d.is_type(b"Annot") || d.get(b"Rect").is_some() => "annotation",
                Some(d) if d.is_type(b"Catalog") => "catalog",
                Some(d) if d.get(b"Linearized").is_some() => "linearization",
                Some(_) if matches!(obj, Ok(Object::Stream(_))) => "stream",
                _ => "object",
            };
            let what = if self.new.contains(&num) {
                "added after signing and not explained by any permitted change"
            } else {
                "redefined after signing"
            };
            self.push(
                num,
                category,
                ChangeLevel::Modification,
                format!("object {num} {generation} ({category}) {what}"),
            );
        }
        Ok(())
    }
}

/// Keys of both dictionaries, in order of first appearance.
fn keys(a: &Dictionary, b: &Dictionary) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (k, _) in a.0.iter().chain(b.0.iter()) {
        if !out.contains(k) {
            out.push(k.clone());
        }
    }
    out
}

/// The annotation rectangle if the annotation shows: non-empty, not hidden, and (for widgets,
/// `need_appearance`) with a normal appearance; other annotations without one are drawn by the
/// viewer from their other entries.
fn visible_rect(dict: &Dictionary, need_appearance: bool) -> Option<[f64; 4]> {
    let rect = crate::pdf::document::rect(dict.get(b"Rect")?)?;
    let flags = dict.integer(b"F").unwrap_or(0);
    if flags & (2 | 32) != 0 {
        return None;
    }
    if (rect[2] - rect[0]).abs() < 0.01 || (rect[3] - rect[1]).abs() < 0.01 {
        return None;
    }
    if need_appearance {
        dict.get(b"AP")?;
    }
    Some(rect)
}
