//! A chain of incremental updates over one document, with reads that see earlier updates, and
//! the interactive-form operations signing needs (ISO 32000-1 §12.7 forms, §12.5.6.19 widgets,
//! §12.7.4.5 signature fields).

use std::collections::{HashMap, HashSet};

use super::document::Document;
use super::object::{Dictionary, ObjRef, Object};
use super::update::{Continuation, IncrementalUpdate, Written};
use super::{ErrorKind, PdfError};

/// Deepest field hierarchy walked, and most field nodes visited.
const MAX_FIELD_DEPTH: usize = 16;
const MAX_FIELD_NODES: usize = 20_000;

pub struct Editor<'d, 'a> {
    doc: &'d Document<'a>,
    written: HashMap<ObjRef, Object>,
    update: IncrementalUpdate,
}

/// A terminal form field found by name.
#[derive(Debug, Clone)]
pub struct FoundField {
    pub reference: ObjRef,
    pub dict: Dictionary,
    pub full_name: String,
    /// The widget annotations of the field (itself if merged).
    pub widgets: Vec<(ObjRef, Dictionary)>,
}

/// Inheritable field attributes on the way down the field tree.
#[derive(Default, Clone)]
struct Inheritable {
    ft: Option<Object>,
    v: Option<Object>,
}

/// One visible (or invisible, with a zero rectangle) widget to attach to a new field.
pub struct Widget {
    pub page: ObjRef,
    pub rect: [f64; 4],
    pub appearance: Option<ObjRef>,
}

impl<'d, 'a> Editor<'d, 'a> {
    pub fn new(doc: &'d Document<'a>) -> Self {
        Self {
            doc,
            written: HashMap::new(),
            update: IncrementalUpdate::new(doc),
        }
    }

    pub fn doc(&self) -> &'d Document<'a> {
        self.doc
    }

    /// Reads `r` as the file stands after the updates so far.
    pub fn get(&self, r: ObjRef) -> Result<Object, PdfError> {
        match self.written.get(&r) {
            Some(o) => Ok(o.clone()),
            None => self.doc.get(r),
        }
    }

    pub fn resolve(&self, o: &Object) -> Result<Object, PdfError> {
        match o {
            Object::Reference(r) => self.get(*r),
            other => Ok(other.clone()),
        }
    }

    pub fn allocate(&mut self) -> ObjRef {
        self.update.allocate()
    }

    pub fn set(&mut self, r: ObjRef, object: Object) {
        self.update.set(r, &object);
        self.written.insert(r, object);
    }

    pub fn set_stream(&mut self, r: ObjRef, dict: Dictionary, data: &[u8]) {
        self.update.set_stream(r, dict, data);
    }

    /// Writes an object from raw bytes (not readable back through [`get`](Self::get)).
    pub fn set_raw(&mut self, r: ObjRef, body: Vec<u8>) {
        self.update.set_raw(r, body);
    }

    /// Closes the current update and starts the next one after it.
    pub fn commit(&mut self) -> Written {
        let next = IncrementalUpdate::after(&self.placeholder_continuation());
        let done = std::mem::replace(&mut self.update, next);
        let written = done.finish();
        self.update = IncrementalUpdate::after(&written.continuation);
        written
    }

    fn placeholder_continuation(&self) -> Continuation {
        Continuation {
            len: 0,
            ends_with_eol: true,
            startxref: 0,
            trailer: Dictionary::new(),
            xref_stream: false,
            next: 0,
        }
    }

    pub fn catalog(&self) -> Result<(ObjRef, Dictionary), PdfError> {
        let (root, _) = self.doc.catalog()?;
        match self.get(root)? {
            Object::Dictionary(d) => Ok((root, d)),
            _ => Err(structure("/Root is not a dictionary")),
        }
    }

    /// The AcroForm dictionary, if any, and whether it is an indirect object.
    pub fn acroform(&self) -> Result<Option<(Option<ObjRef>, Dictionary)>, PdfError> {
        let (_, catalog) = self.catalog()?;
        match catalog.get(b"AcroForm") {
            None => Ok(None),
            Some(Object::Reference(r)) => match self.get(*r)? {
                Object::Dictionary(d) => Ok(Some((Some(*r), d))),
                Object::Null => Ok(None),
                _ => Err(structure("/AcroForm is not a dictionary")),
            },
            Some(Object::Dictionary(d)) => Ok(Some((None, d.clone()))),
            Some(_) => Err(structure("/AcroForm is not a dictionary")),
        }
    }

    /// Every terminal field with its fully qualified name (§12.7.3.2).
    pub fn fields(&self) -> Result<Vec<FoundField>, PdfError> {
        let Some((_, acroform)) = self.acroform()? else {
            return Ok(Vec::new());
        };
        let roots = match acroform.get(b"Fields") {
            Some(o) => self.resolve(o)?,
            None => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for r in roots
            .as_array()
            .unwrap_or_default()
            .iter()
            .filter_map(Object::as_reference)
        {
            self.walk_field(r, "", &Inheritable::default(), 0, &mut seen, &mut out)?;
        }
        Ok(out)
    }

    fn walk_field(
        &self,
        r: ObjRef,
        parent_name: &str,
        parent: &Inheritable,
        depth: usize,
        seen: &mut HashSet<ObjRef>,
        out: &mut Vec<FoundField>,
    ) -> Result<(), PdfError> {
        if depth > MAX_FIELD_DEPTH || seen.len() >= MAX_FIELD_NODES {
            return Err(structure("form field tree too deep or too large"));
        }
        // A node listed twice (qpdf and pyHanko accept duplicate /Fields entries) is visited
        // once; a real cycle ends here too.
        if !seen.insert(r) {
            return Ok(());
        }
        let Object::Dictionary(mut dict) = self.get(r)? else {
            return Ok(());
        };
        // §12.7.3.1: /FT and /V are inheritable; terminal fields see their ancestors' values.
        let inherited = Inheritable {
            ft: dict.get(b"FT").cloned().or_else(|| parent.ft.clone()),
            v: dict.get(b"V").cloned().or_else(|| parent.v.clone()),
        };
        let partial = dict
            .get(b"T")
            .and_then(Object::as_string)
            .map(super::object::decode_text);
        let full_name = match (&partial, parent_name.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => format!("{parent_name}.{p}"),
            (None, _) => parent_name.to_string(),
        };
        let kids: Vec<ObjRef> = match dict.get(b"Kids") {
            Some(k) => self
                .resolve(k)?
                .as_array()
                .unwrap_or_default()
                .iter()
                .filter_map(Object::as_reference)
                .collect(),
            None => Vec::new(),
        };
        // Kids with a /T are fields; kids without are this field's widgets.
        let mut widgets = Vec::new();
        let mut child_fields = Vec::new();
        for kid in kids {
            let Object::Dictionary(kd) = self.get(kid)? else {
                continue;
            };
            if kd.get(b"T").is_some() {
                child_fields.push(kid);
            } else {
                widgets.push((kid, kd));
            }
        }
        if child_fields.is_empty() {
            if dict.name(b"Subtype") == Some(b"Widget") {
                widgets.insert(0, (r, dict.clone()));
            }
            // Report the effective values (the object itself is rewritten from `dict` only
            // when it is signed, and then /FT and /V are set explicitly anyway).
            for (key, value) in [(&b"FT"[..], &inherited.ft), (b"V", &inherited.v)] {
                if let (None, Some(v)) = (dict.get(key), value) {
                    dict.set(key, v.clone());
                }
            }
            out.push(FoundField {
                reference: r,
                dict,
                full_name,
                widgets,
            });
        } else {
            for kid in child_fields {
                self.walk_field(kid, &full_name, &inherited, depth + 1, seen, out)?;
            }
        }
        Ok(())
    }

    /// Adds `r` to the page's `/Annots`.
    pub fn add_annotation(&mut self, page: ObjRef, annot: ObjRef) -> Result<(), PdfError> {
        let Object::Dictionary(mut page_dict) = self.get(page)? else {
            return Err(structure("page is not a dictionary"));
        };
        match page_dict.get(b"Annots").cloned() {
            Some(Object::Reference(ar)) => {
                let mut items = self.get(ar)?.as_array().unwrap_or_default().to_vec();
                items.push(Object::Reference(annot));
                self.set(ar, Object::Array(items));
            }
            Some(Object::Array(mut items)) => {
                items.push(Object::Reference(annot));
                page_dict.set(b"Annots", Object::Array(items));
                self.set(page, Object::Dictionary(page_dict));
            }
            _ => {
                page_dict.set(b"Annots", Object::Array(vec![Object::Reference(annot)]));
                self.set(page, Object::Dictionary(page_dict));
            }
        }
        Ok(())
    }

    /// Adds a top-level field to the AcroForm (creating it if absent) and sets `/SigFlags 3`
    /// (SignaturesExist | AppendOnly, §12.7.2).
    pub fn add_field(&mut self, field: ObjRef) -> Result<(), PdfError> {
        let (root, mut catalog) = self.catalog()?;
        let (acro_ref, mut acroform) = self.acroform()?.unwrap_or((None, Dictionary::new()));
        match acroform.get(b"Fields").cloned() {
            Some(Object::Reference(fr)) => {
                let mut items = self.get(fr)?.as_array().unwrap_or_default().to_vec();
                items.push(Object::Reference(field));
                self.set(fr, Object::Array(items));
            }
            Some(Object::Array(mut items)) => {
                items.push(Object::Reference(field));
                acroform.set(b"Fields", Object::Array(items));
            }
            _ => acroform.set(b"Fields", Object::Array(vec![Object::Reference(field)])),
        }
        acroform.set(b"SigFlags", Object::Integer(3));
        match acro_ref {
            Some(ar) => self.set(ar, Object::Dictionary(acroform)),
            None => {
                let ar = self.allocate();
                self.set(ar, Object::Dictionary(acroform));
                catalog.set(b"AcroForm", Object::Reference(ar));
                self.set(root, Object::Dictionary(catalog));
            }
        }
        Ok(())
    }

    /// Creates a signature field named `name` with value `value` and the given widgets (merged
    /// into the field when there is one, as `/Kids` otherwise), adds the widgets to their pages
    /// and the field to the AcroForm.
    pub fn add_signature_field(
        &mut self,
        name: &str,
        value: ObjRef,
        widgets: &[Widget],
    ) -> Result<ObjRef, PdfError> {
        let field = self.allocate();
        let mut field_dict = Dictionary::new()
            .with(b"FT", Object::name("Sig"))
            .with(b"T", Object::text(name))
            .with(b"V", Object::Reference(value));
        let widget_dict = |w: &Widget| {
            // Print + Locked, visible or not: invisible signatures are zero rectangles
            // (§12.7.4.5), never Hidden, which PDF/A forbids.
            let flags = 4 | 128;
            let mut d = Dictionary::new()
                .with(b"Type", Object::name("Annot"))
                .with(b"Subtype", Object::name("Widget"))
                .with(b"Rect", Object::rect(w.rect))
                .with(b"F", Object::Integer(flags))
                .with(b"P", Object::Reference(w.page));
            if let Some(ap) = w.appearance {
                d.set(
                    b"AP",
                    Object::Dictionary(Dictionary::new().with(b"N", Object::Reference(ap))),
                );
            }
            d
        };
        match widgets {
            [single] => {
                for (k, v) in widget_dict(single).0 {
                    field_dict.set(&k, v);
                }
                self.set(field, Object::Dictionary(field_dict));
                self.add_annotation(single.page, field)?;
            }
            many => {
                let mut kids = Vec::new();
                for w in many {
                    let wr = self.allocate();
                    // /V is inherited from the parent (§12.7.3.1), but poppler (22.12) reads it
                    // only from the widget's own dictionary and reports widgets without it as
                    // unsigned fields; repeating it is harmless to readers that inherit.
                    let d = widget_dict(w)
                        .with(b"Parent", Object::Reference(field))
                        .with(b"V", Object::Reference(value));
                    self.set(wr, Object::Dictionary(d));
                    self.add_annotation(w.page, wr)?;
                    kids.push(Object::Reference(wr));
                }
                field_dict.set(b"Kids", Object::Array(kids));
                self.set(field, Object::Dictionary(field_dict));
            }
        }
        self.add_field(field)?;
        Ok(field)
    }
}

fn structure(what: &str) -> PdfError {
    PdfError::new(0, ErrorKind::Structure(what.to_string()))
}
