//! Text extraction and search on one page: where does a keyword appear, in default user space?
//!
//! Placing a visible signature "by keyword" needs the keyword's position on the page. We
//! interpret the page's content stream just far enough to know where each glyph lands: the
//! graphics state's CTM (`q`/`Q`/`cm`), text objects and the text state (ISO 32000-1 §9.3,
//! §9.4), glyph positioning from the fonts' widths (§9.2.4, §9.4.4), Form XObjects (§8.10), and
//! the mapping from character codes to Unicode (§9.10: `/ToUnicode` first, then a simple font's
//! encoding and glyph names). Nothing is rendered and no font program is read: a glyph's box is
//! its advance along the baseline by the font's ascent and descent, which is what a signature
//! placed next to the text needs.
//!
//! Words are rarely stored with their spaces: producers position words with `Td`, `TJ` kerning
//! or separate text objects. A jump of the pen (forward by more than a fifth of an em, backward
//! by more than half an em, or off the line) therefore counts as an *implied* space, which a
//! search may match against a space in the keyword or skip.
//!
//! Content is untrusted: decoded bytes, operations and form nesting are bounded by
//! [`TextLimits`] and reaching a bound is an error. Malformed syntax is skipped as viewers skip
//! it, and a broken font degrades to a fallback font rather than failing the search.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::encoding;
use super::object::{Dictionary, ObjRef, Object, Stream, StreamData};
use super::parser::{ContentItem, Parser};
use super::{Document, ErrorKind, Page, PdfError};

/// Limits on the work one search may do (content is untrusted).
#[derive(Debug, Clone)]
pub struct TextLimits {
    /// Decoded content bytes interpreted for one page, forms (each time they are drawn) and the
    /// fonts' CMaps included.
    pub max_content_bytes: usize,
    /// Content stream tokens (operands and operators) plus glyphs shown.
    pub max_ops: usize,
    /// Deepest nesting of Form XObjects (the page's own content is depth 0).
    pub max_form_depth: usize,
}

impl Default for TextLimits {
    fn default() -> Self {
        Self {
            max_content_bytes: 32 << 20,
            max_ops: 5_000_000,
            max_form_depth: 8,
        }
    }
}

/// Bounding boxes `[llx, lly, urx, ury]` in the page's default user space (unrotated page
/// coordinates, same space as MediaBox) of each occurrence of `needle` on `page`, in content
/// order.
///
/// Matching is case-sensitive on the extracted text, with runs of white space in both the
/// needle and the text read as one space; an implied space (see the module documentation) may
/// match a space in the needle or be skipped. A match may span several text-showing operations
/// and lines. An empty or all-space needle matches nothing. Occurrences drawn twice at the same
/// place (fake bold, shadows) are reported once.
pub fn find_text(
    doc: &Document<'_>,
    page: &Page,
    needle: &str,
    limits: &TextLimits,
) -> Result<Vec<[f64; 4]>, PdfError> {
    let needle = normalize_needle(needle);
    if needle.is_empty() {
        return Ok(Vec::new());
    }
    Ok(extract(doc, page, limits, Matcher::new(&needle))?.finish())
}

/// The page's text in content order (for error messages and tests), from the same extraction
/// as [`find_text`]: implied spaces appear as `' '`, implied line breaks as `'\n'`, and glyphs
/// without a known Unicode value as U+FFFD.
pub fn page_text(doc: &Document<'_>, page: &Page, limits: &TextLimits) -> Result<String, PdfError> {
    extract(doc, page, limits, String::new())
}

/// The boxes of the glyphs drawn on `page` (white space excluded) that intersect `rect`
/// (default user space), at most `max` of them: what an annotation placed over `rect` would
/// cover.
pub fn glyphs_under(
    doc: &Document<'_>,
    page: &Page,
    rect: [f64; 4],
    max: usize,
    limits: &TextLimits,
) -> Result<Vec<[f64; 4]>, PdfError> {
    struct Under {
        rect: [f64; 4],
        max: usize,
        found: Vec<[f64; 4]>,
    }
    impl Sink for Under {
        fn push(&mut self, ch: char, bbox: Option<[f64; 4]>, implied: bool) {
            if implied || ch.is_whitespace() || self.found.len() >= self.max {
                return;
            }
            if let Some(b) = bbox
                && b[0] < self.rect[2]
                && self.rect[0] < b[2]
                && b[1] < self.rect[3]
                && self.rect[1] < b[3]
            {
                self.found.push(b);
            }
        }
    }
    let [x0, y0, x1, y1] = rect;
    let rect = [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)];
    Ok(extract(
        doc,
        page,
        limits,
        Under {
            rect,
            max,
            found: Vec::new(),
        },
    )?
    .found)
}

// ---- extraction --------------------------------------------------------------------------

/// Most graphics states saved at once. §C.2 gives 28 as a conforming reader's limit for `q`
/// nesting; far beyond that the content is hostile, not unusual.
const MAX_SAVED_STATES: usize = 1024;
/// A forward jump of the pen wider than this (em) is a word break: the same as a `TJ`
/// adjustment below -200 thousandths, and narrower than any font's space (about 0.25 em).
const SPACE_GAP: f64 = 0.2;
/// A backward jump wider than this (em) starts a new run of text (over-printing, a new
/// column), not kerning.
const BACK_GAP: f64 = 0.5;
/// A move across the writing direction larger than this (em) is a new line; superscripts and
/// subscripts (`Ts`) stay below it.
const LINE_GAP: f64 = 0.5;
/// Glyph width (thousandths of an em) guessed when a font gives none at all.
const GUESSED_WIDTH: f64 = 500.0;
/// Ascent and descent (em) when the font descriptor has no usable values.
const DEFAULT_ASCENT: f64 = 0.8;
const DEFAULT_DESCENT: f64 = -0.2;

/// Where extracted characters go: collected as text, or matched as they arrive (so a search
/// holds a window the size of the needle, not the page's glyphs).
trait Sink {
    /// One character with the box of the glyph that drew it (`None` for implied spaces and
    /// non-finite boxes); `implied` if it was inferred from positions rather than drawn.
    fn push(&mut self, ch: char, bbox: Option<[f64; 4]>, implied: bool);
}

impl Sink for String {
    fn push(&mut self, ch: char, _: Option<[f64; 4]>, _: bool) {
        String::push(self, ch);
    }
}

/// An affine matrix `[a b c d e f]` acting on row vectors (§8.3.4).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Matrix([f64; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn translate(tx: f64, ty: f64) -> Self {
        Matrix([1.0, 0.0, 0.0, 1.0, tx, ty])
    }

    /// `self × other`: the transformation `self` followed by `other`.
    fn then(&self, other: &Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = other.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    fn invert(&self) -> Option<Matrix> {
        let [a, b, c, d, e, f] = self.0;
        let det = a * d - b * c;
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Matrix([
            ia,
            ib,
            ic,
            id,
            -(e * ia + f * ic),
            -(e * ib + f * id),
        ]))
    }

    /// The last six operands as a matrix (extra leading operands are ignored, as viewers do).
    fn from_operands(operands: &[Object]) -> Option<Matrix> {
        numbers::<6>(operands).map(Matrix)
    }

    fn from_object(o: &Object) -> Option<Matrix> {
        let a = o.as_array()?;
        if a.len() != 6 {
            return None;
        }
        numbers::<6>(a).map(Matrix)
    }

    /// The axis-aligned bounding box of `rect` transformed by `self`; `None` if not finite.
    fn bbox(&self, [x0, y0, x1, y1]: [f64; 4]) -> Option<[f64; 4]> {
        let corners = [
            self.apply(x0, y0),
            self.apply(x1, y0),
            self.apply(x0, y1),
            self.apply(x1, y1),
        ];
        let mut out = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (x, y) in corners {
            out = [out[0].min(x), out[1].min(y), out[2].max(x), out[3].max(y)];
        }
        out.iter().all(|v| v.is_finite()).then_some(out)
    }
}

/// The last `N` operands as numbers.
fn numbers<const N: usize>(operands: &[Object]) -> Option<[f64; N]> {
    let start = operands.len().checked_sub(N)?;
    let mut out = [0.0; N];
    for (slot, o) in out.iter_mut().zip(operands.get(start..)?) {
        *slot = o.as_f64()?;
    }
    Some(out)
}

fn last_number(operands: &[Object]) -> Option<f64> {
    numbers::<1>(operands).map(|[v]| v)
}

/// The parts of the graphics state text extraction needs; `q`/`Q` save and restore all of it
/// (the text state is part of the graphics state, §9.3.1).
#[derive(Clone)]
struct GState {
    ctm: Matrix,
    char_spacing: f64,
    word_spacing: f64,
    /// `Tz / 100`.
    horizontal_scaling: f64,
    leading: f64,
    rise: f64,
    font: Option<Rc<Font>>,
    font_size: f64,
}

impl GState {
    fn new(ctm: Matrix) -> Self {
        Self {
            ctm,
            char_spacing: 0.0,
            word_spacing: 0.0,
            horizontal_scaling: 1.0,
            leading: 0.0,
            rise: 0.0,
            font: None,
            font_size: 0.0,
        }
    }
}

/// The resources content runs with, and the fonts already looked up by name in them.
struct Frame {
    /// `/Font` and `/XObject` by name: content may name resources once per operation, and
    /// resource dictionaries can be large. Shared with forms that inherit them.
    fonts: Rc<Resources>,
    xobjects: Rc<Resources>,
    loaded: HashMap<Vec<u8>, Rc<Font>>,
}

/// A resource subdictionary indexed by name; as in [`Dictionary::get`], the first entry for a
/// name wins and `null` is absent.
type Resources = HashMap<Vec<u8>, Object>;

/// One page's interpretation: its budgets, caches, the pen, and where characters go.
struct Extractor<'x, 'a, S> {
    doc: &'x Document<'a>,
    limits: &'x TextLimits,
    content_bytes: usize,
    ops: usize,
    /// Fonts by object: the same font is usually used from many forms and text objects.
    fonts: HashMap<ObjRef, Rc<Font>>,
    /// Decoded Form XObject content, so a form drawn many times is decoded once.
    forms: HashMap<ObjRef, Rc<Vec<u8>>>,
    /// The forms being drawn (for cycle detection).
    form_stack: Vec<ObjRef>,
    /// Offset of the page's first content stream, for errors found while interpreting it.
    origin: usize,
    /// Where the pen stood after the last glyph, in default user space.
    pen: Option<(f64, f64)>,
    /// Whether the last character was white space (no implied space is needed after it).
    after_space: bool,
    sink: S,
}

fn extract<S: Sink>(
    doc: &Document<'_>,
    page: &Page,
    limits: &TextLimits,
    sink: S,
) -> Result<S, PdfError> {
    let mut x = Extractor {
        doc,
        limits,
        content_bytes: 0,
        ops: 0,
        fonts: HashMap::new(),
        forms: HashMap::new(),
        form_stack: Vec::new(),
        origin: 0,
        pen: None,
        after_space: true,
        sink,
    };
    let resources = match &page.resources {
        Some(r) => doc.resolve(r)?.as_dict().cloned().unwrap_or_default(),
        None => Dictionary::new(),
    };
    let streams = match doc.resolve_key(&page.dict, b"Contents")? {
        Some(Object::Stream(s)) => vec![s],
        Some(Object::Array(parts)) => {
            let mut streams = Vec::new();
            for part in &parts {
                x.tick(1)?;
                if let Object::Stream(s) = doc.resolve(part)? {
                    streams.push(s);
                }
            }
            streams
        }
        _ => Vec::new(),
    };
    // §7.8.2: the streams of an array are one content stream, split only between tokens; a
    // space keeps the last token of one from running into the first of the next.
    let mut data = Vec::new();
    for (i, stream) in streams.iter().enumerate() {
        if i == 0 {
            x.origin = stream_offset(stream);
        } else {
            data.push(b' ');
        }
        data.extend_from_slice(&x.decode(stream)?);
    }
    let frame = x.frame(&resources)?;
    x.run(&data, frame, GState::new(Matrix::IDENTITY), 0)?;
    Ok(x.sink)
}

fn stream_offset(stream: &Stream) -> usize {
    match &stream.data {
        StreamData::InFile(range) => range.start,
        StreamData::Owned(_) => 0,
    }
}

/// Font trouble degrades the extraction instead of failing it, unless a limit was reached.
fn soft<T>(result: Result<T, PdfError>) -> Result<Option<T>, PdfError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if matches!(e.kind, ErrorKind::DecodedTooLarge(_)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Where the next glyph stands relative to where the pen was left.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Break {
    None,
    Space,
    Line,
}

impl<S: Sink> Extractor<'_, '_, S> {
    fn tick(&mut self, n: usize) -> Result<(), PdfError> {
        self.ops = self.ops.saturating_add(n);
        if self.ops > self.limits.max_ops {
            return Err(PdfError::new(
                self.origin,
                ErrorKind::Structure(format!(
                    "page content needs more than {} operations",
                    self.limits.max_ops
                )),
            ));
        }
        Ok(())
    }

    /// Decodes a stream and counts it against the page's budget.
    fn decode(&mut self, stream: &Stream) -> Result<Vec<u8>, PdfError> {
        let data = self.doc.decode_stream(stream)?;
        self.charge(data.len(), stream_offset(stream))?;
        Ok(data)
    }

    fn charge(&mut self, bytes: usize, offset: usize) -> Result<(), PdfError> {
        self.content_bytes = self.content_bytes.saturating_add(bytes);
        if self.content_bytes > self.limits.max_content_bytes {
            return Err(PdfError::new(
                offset,
                ErrorKind::DecodedTooLarge(self.limits.max_content_bytes),
            ));
        }
        Ok(())
    }

    fn frame(&self, resources: &Dictionary) -> Result<Frame, PdfError> {
        let sub = |key: &[u8]| -> Result<Rc<Resources>, PdfError> {
            let mut map = Resources::new();
            if let Some(d) = self
                .doc
                .resolve_key(resources, key)?
                .and_then(|o| o.as_dict().cloned())
            {
                for (name, value) in d.0 {
                    map.entry(name).or_insert(value);
                }
            }
            Ok(Rc::new(map))
        };
        Ok(Frame {
            fonts: sub(b"Font")?,
            xobjects: sub(b"XObject")?,
            loaded: HashMap::new(),
        })
    }

    /// Interprets one content stream (the page's or a form's) from graphics state `gs`.
    fn run(
        &mut self,
        data: &[u8],
        mut frame: Frame,
        mut gs: GState,
        depth: usize,
    ) -> Result<(), PdfError> {
        let mut parser = Parser::content(data);
        let mut operands: Vec<Object> = Vec::new();
        let mut saved: Vec<GState> = Vec::new();
        // §9.4.1: the text matrices exist only inside BT … ET; identity is what a stray
        // text operator outside one gets in practice.
        let mut tm = Matrix::IDENTITY;
        let mut tlm = Matrix::IDENTITY;
        loop {
            let before = parser.pos();
            let item = match parser.content_item() {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(e) => {
                    // Viewers draw what they can of a damaged stream. An unterminated string or
                    // inline image already ran to the end, so stop; otherwise skip one byte.
                    if matches!(
                        e.kind,
                        ErrorKind::Unterminated(_) | ErrorKind::UnexpectedEnd
                    ) {
                        break;
                    }
                    self.tick(1)?;
                    operands.clear();
                    // Resume past what the parser consumed: a bad number is reported at its
                    // start, and re-reading it from each of its bytes is quadratic.
                    let resume = e.offset.max(parser.pos());
                    parser.set_pos(if resume > before { resume } else { before + 1 });
                    continue;
                }
            };
            self.tick(1)?;
            let op = match item {
                ContentItem::Operand(o) => {
                    operands.push(o);
                    continue;
                }
                ContentItem::Operator(op) => op,
            };
            match op.as_slice() {
                b"q" => {
                    if saved.len() >= MAX_SAVED_STATES {
                        return Err(PdfError::new(
                            self.origin,
                            ErrorKind::Structure(format!(
                                "graphics state saved more than {MAX_SAVED_STATES} times"
                            )),
                        ));
                    }
                    saved.push(gs.clone());
                }
                b"Q" => {
                    // An unbalanced Q is ignored, as viewers do.
                    if let Some(s) = saved.pop() {
                        gs = s;
                    }
                }
                b"cm" => {
                    if let Some(m) = Matrix::from_operands(&operands) {
                        gs.ctm = m.then(&gs.ctm);
                    }
                }
                b"BT" => {
                    tm = Matrix::IDENTITY;
                    tlm = Matrix::IDENTITY;
                }
                b"Tf" => {
                    if let [.., Object::Name(name), size] = operands.as_slice()
                        && let Some(size) = size.as_f64()
                    {
                        gs.font = Some(self.font(&mut frame, name)?);
                        gs.font_size = size;
                    }
                }
                b"Tc" => {
                    if let Some(v) = last_number(&operands) {
                        gs.char_spacing = v;
                    }
                }
                b"Tw" => {
                    if let Some(v) = last_number(&operands) {
                        gs.word_spacing = v;
                    }
                }
                b"Tz" => {
                    if let Some(v) = last_number(&operands) {
                        gs.horizontal_scaling = v / 100.0;
                    }
                }
                b"TL" => {
                    if let Some(v) = last_number(&operands) {
                        gs.leading = v;
                    }
                }
                b"Ts" => {
                    if let Some(v) = last_number(&operands) {
                        gs.rise = v;
                    }
                }
                b"Td" | b"TD" => {
                    if let Some([tx, ty]) = numbers::<2>(&operands) {
                        if op == b"TD" {
                            gs.leading = -ty;
                        }
                        tlm = Matrix::translate(tx, ty).then(&tlm);
                        tm = tlm;
                    }
                }
                b"Tm" => {
                    if let Some(m) = Matrix::from_operands(&operands) {
                        tlm = m;
                        tm = m;
                    }
                }
                b"T*" => {
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                }
                b"Tj" => {
                    if let Some(s) = operands.last().and_then(Object::as_string) {
                        self.show(s, &gs, &mut tm)?;
                    }
                }
                b"'" | b"\"" => {
                    if op == b"\""
                        && let [.., aw, ac, _] = operands.as_slice()
                    {
                        gs.word_spacing = aw.as_f64().unwrap_or(gs.word_spacing);
                        gs.char_spacing = ac.as_f64().unwrap_or(gs.char_spacing);
                    }
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                    if let Some(s) = operands.last().and_then(Object::as_string) {
                        self.show(s, &gs, &mut tm)?;
                    }
                }
                b"TJ" => {
                    if let Some(parts) = operands.last().and_then(Object::as_array) {
                        for part in parts {
                            match part {
                                Object::String { bytes, .. } => self.show(bytes, &gs, &mut tm)?,
                                other => {
                                    if let Some(adjust) = other.as_f64() {
                                        tm = kern(&gs, adjust).then(&tm);
                                    }
                                }
                            }
                        }
                    }
                }
                b"Do" => {
                    if let Some(Object::Name(name)) = operands.last() {
                        self.draw_xobject(&frame, name, &gs, depth)?;
                    }
                }
                _ => {}
            }
            operands.clear();
        }
        Ok(())
    }

    /// The font named `name` in the frame's resources; a missing or broken font is replaced
    /// by a fallback so the text around it is still found.
    fn font(&mut self, frame: &mut Frame, name: &[u8]) -> Result<Rc<Font>, PdfError> {
        if let Some(f) = frame.loaded.get(name) {
            return Ok(f.clone());
        }
        let entry = frame
            .fonts
            .get(name)
            .filter(|o| **o != Object::Null)
            .cloned();
        let reference = entry.as_ref().and_then(Object::as_reference);
        if let Some(f) = reference.and_then(|r| self.fonts.get(&r)) {
            let f = f.clone();
            frame.loaded.insert(name.to_vec(), f.clone());
            return Ok(f);
        }
        let font = match entry {
            Some(entry) => match soft(self.doc.resolve(&entry))? {
                Some(Object::Dictionary(d)) => soft(self.load_font(&d))?,
                _ => None,
            },
            None => None,
        };
        // The operation budget spent on /W arrays is not font trouble: fail if it ran out.
        self.tick(0)?;
        let font = Rc::new(font.unwrap_or_else(Font::fallback));
        if let Some(r) = reference {
            self.fonts.insert(r, font.clone());
        }
        frame.loaded.insert(name.to_vec(), font.clone());
        Ok(font)
    }

    /// `Do` (§8.8): Form XObjects are interpreted with their matrix and resources; images and
    /// anything else are skipped.
    fn draw_xobject(
        &mut self,
        frame: &Frame,
        name: &[u8],
        gs: &GState,
        depth: usize,
    ) -> Result<(), PdfError> {
        let Some(entry) = frame.xobjects.get(name).filter(|o| **o != Object::Null) else {
            return Ok(());
        };
        let reference = entry.as_reference();
        let Some(Object::Stream(stream)) = soft(self.doc.resolve(entry))? else {
            return Ok(());
        };
        if stream.dict.name(b"Subtype") != Some(b"Form") {
            return Ok(());
        }
        let offset = stream_offset(&stream);
        if depth >= self.limits.max_form_depth {
            return Err(PdfError::new(
                offset,
                ErrorKind::Structure(format!(
                    "Form XObjects nested deeper than {}",
                    self.limits.max_form_depth
                )),
            ));
        }
        if let Some(r) = reference
            && self.form_stack.contains(&r)
        {
            return Err(PdfError::new(offset, ErrorKind::ReferenceLoop(r)));
        }
        let data = match reference.and_then(|r| self.forms.get(&r)) {
            Some(data) => {
                let data = data.clone();
                self.charge(data.len(), offset)?;
                data
            }
            None => {
                // A form that does not decode is skipped (its text is lost, the page's is not).
                let Some(data) = soft(self.decode(&stream))? else {
                    return Ok(());
                };
                let data = Rc::new(data);
                if let Some(r) = reference {
                    self.forms.insert(r, data.clone());
                }
                data
            }
        };
        // §8.10.1: the form's /Matrix maps form space into the user space current at `Do`;
        // a form without /Resources uses its caller's (allowed for old files, §7.8.3).
        let matrix = soft(self.doc.resolve_key(&stream.dict, b"Matrix"))?
            .flatten()
            .and_then(|m| Matrix::from_object(&m))
            .unwrap_or(Matrix::IDENTITY);
        let inner_frame = match soft(self.doc.resolve_key(&stream.dict, b"Resources"))?.flatten() {
            Some(Object::Dictionary(d)) => self.frame(&d)?,
            _ => Frame {
                fonts: frame.fonts.clone(),
                xobjects: frame.xobjects.clone(),
                loaded: HashMap::new(),
            },
        };
        let mut inner = gs.clone();
        inner.ctm = matrix.then(&gs.ctm);
        if let Some(r) = reference {
            self.form_stack.push(r);
        }
        let result = self.run(&data, inner_frame, inner, depth + 1);
        if reference.is_some() {
            self.form_stack.pop();
        }
        result
    }

    /// Shows a string (§9.4.3): each character code becomes a glyph box and its text, and
    /// the text matrix advances by the glyph's displacement (§9.4.4).
    fn show(&mut self, bytes: &[u8], gs: &GState, tm: &mut Matrix) -> Result<(), PdfError> {
        let fallback;
        let font = match &gs.font {
            Some(f) => f.as_ref(),
            None => {
                // Text shown before any Tf is invalid; guess rather than lose it.
                fallback = Font::fallback();
                &fallback
            }
        };
        let size = gs.font_size;
        let th = gs.horizontal_scaling;
        let mut rest = bytes;
        while !rest.is_empty() {
            self.tick(1)?;
            let (code, len) = font.codes.next(rest);
            rest = rest.get(len..).unwrap_or_default();
            let glyph = font.glyph(code);
            // §9.3.3: word spacing applies to the single-byte code 32 only.
            let word_spacing = if len == 1 && code == 32 {
                gs.word_spacing
            } else {
                0.0
            };
            let m = tm.then(&gs.ctm);
            let (em, text_box, advance) = if font.vertical {
                let ty = glyph.w1 * size + gs.char_spacing + word_spacing;
                let em = Matrix([size, 0.0, 0.0, size, 0.0, 0.0]);
                let b = [
                    -glyph.vx,
                    font.descent - glyph.vy,
                    glyph.w0 - glyph.vx,
                    font.ascent - glyph.vy,
                ];
                let text_box = [b[0] * size, b[1] * size, b[2] * size, b[3] * size];
                (em, text_box, (0.0, ty))
            } else {
                let tx = (glyph.w0 * size + gs.char_spacing + word_spacing) * th;
                let em = Matrix([size * th, 0.0, 0.0, size, 0.0, gs.rise]);
                // The box spans the glyph's own width; Tc and Tw move the pen but are space
                // after the glyph (a word's box would otherwise overhang its last letter,
                // which poppler's boxes do not).
                let text_box = [
                    0.0,
                    font.descent * size + gs.rise,
                    glyph.w0 * size * th,
                    font.ascent * size + gs.rise,
                ];
                (em, text_box, (tx, 0.0))
            };
            let em = em.then(&m);
            let gap = self.gap(&em, font.vertical);
            let bbox = m.bbox(text_box);
            self.emit(&glyph.text, bbox, gap);
            let (ex, ey) = m.apply(advance.0, advance.1 + gs.rise);
            self.pen = Some((ex, ey));
            *tm = Matrix::translate(advance.0, advance.1).then(tm);
        }
        Ok(())
    }

    /// Classifies the jump from the pen's last position to the origin of the glyph whose
    /// glyph-space-to-user-space matrix (in em) is `em`.
    fn gap(&self, em: &Matrix, vertical: bool) -> Break {
        let Some((x, y)) = self.pen else {
            return Break::None;
        };
        let Some(inverse) = em.invert() else {
            return Break::None;
        };
        let (ex, ey) = inverse.apply(x, y);
        // The new glyph's origin is (0, 0); `along` is how far it lies ahead of the old pen.
        let (along, across) = if vertical { (ey, ex) } else { (-ex, ey) };
        if !along.is_finite() || !across.is_finite() {
            Break::None
        } else if across.abs() > LINE_GAP {
            Break::Line
        } else if !(-BACK_GAP..=SPACE_GAP).contains(&along) {
            Break::Space
        } else {
            Break::None
        }
    }

    /// Passes one glyph's text on, preceded by an implied space or line break if the pen
    /// jumped and no white space is there already.
    fn emit(&mut self, text: &str, bbox: Option<[f64; 4]>, gap: Break) {
        let starts_with_space = text.chars().next().is_none_or(char::is_whitespace);
        if gap != Break::None && !self.after_space && !starts_with_space {
            let ch = if gap == Break::Line { '\n' } else { ' ' };
            self.sink.push(ch, None, true);
            self.after_space = true;
        }
        for c in text.chars() {
            match ligature(c) {
                Some(letters) => {
                    for ch in letters.chars() {
                        self.sink.push(ch, bbox, false);
                    }
                    self.after_space = false;
                }
                None => {
                    self.sink.push(c, bbox, false);
                    self.after_space = c.is_whitespace();
                }
            }
        }
    }
}

/// The text-matrix translation for a `TJ` number (§9.4.3): thousandths of an em against the
/// writing direction.
fn kern(gs: &GState, adjust: f64) -> Matrix {
    let shift = -adjust / 1000.0 * gs.font_size;
    match &gs.font {
        Some(f) if f.vertical => Matrix::translate(0.0, shift),
        _ => Matrix::translate(shift * gs.horizontal_scaling, 0.0),
    }
}

/// Latin ligatures as their letters, so "fi" in a keyword matches a ligature glyph.
fn ligature(c: char) -> Option<&'static str> {
    match c {
        '\u{FB00}' => Some("ff"),
        '\u{FB01}' => Some("fi"),
        '\u{FB02}' => Some("fl"),
        '\u{FB03}' => Some("ffi"),
        '\u{FB04}' => Some("ffl"),
        '\u{FB05}' | '\u{FB06}' => Some("st"),
        _ => None,
    }
}

// ---- fonts -------------------------------------------------------------------------------

/// What extraction needs of a font: how to split strings into codes, each code's advance and
/// text, and the font's vertical extent.
struct Font {
    codes: CodeSpace,
    /// §9.10.2: `/ToUnicode` takes precedence over everything else.
    to_unicode: Option<UnicodeMap>,
    metrics: Metrics,
    /// In em (text space units per unit of font size).
    ascent: f64,
    descent: f64,
    /// Writing mode 1 (§9.7.4.3).
    vertical: bool,
}

enum Metrics {
    /// One-byte codes: advance in em and text per code.
    Simple {
        widths: Vec<f64>,
        text: Vec<Option<String>>,
    },
    /// Type 0 (§9.7): codes map to CIDs, CIDs to widths.
    Composite {
        cids: CidMap,
        widths: CidMetrics<1>,
        default_width: f64,
        vertical: CidMetrics<3>,
        /// `[vy w1]` from `/DW2`.
        default_vertical: [f64; 2],
        /// The encoding is a UCS-2/UTF-16 CMap: codes are Unicode already.
        unicode_codes: bool,
    },
}

struct GlyphInfo<'f> {
    text: Cow<'f, str>,
    /// Horizontal advance (em).
    w0: f64,
    /// Vertical advance and position vector (em), for writing mode 1.
    w1: f64,
    vx: f64,
    vy: f64,
}

impl Font {
    /// A font for an unknown or broken font resource: one-byte codes read as Windows ANSI,
    /// half an em wide.
    fn fallback() -> Font {
        let text = (0..=255u8)
            .map(|c| encoding::win_ansi(c).and_then(encoding::glyph_to_unicode))
            .collect();
        Font {
            codes: CodeSpace::one_byte(),
            to_unicode: None,
            metrics: Metrics::Simple {
                widths: vec![GUESSED_WIDTH / 1000.0; 256],
                text,
            },
            ascent: DEFAULT_ASCENT,
            descent: DEFAULT_DESCENT,
            vertical: false,
        }
    }

    fn glyph(&self, code: u32) -> GlyphInfo<'_> {
        let mapped = self.to_unicode.as_ref().and_then(|m| m.get(code));
        match &self.metrics {
            Metrics::Simple { widths, text } => {
                let index = usize::try_from(code).unwrap_or(usize::MAX);
                let w0 = widths.get(index).copied().unwrap_or(0.0);
                let text = mapped
                    .or_else(|| {
                        text.get(index)
                            .and_then(|t| t.as_deref())
                            .map(Cow::Borrowed)
                    })
                    .unwrap_or(Cow::Borrowed("\u{FFFD}"));
                GlyphInfo {
                    text,
                    w0,
                    w1: -1.0,
                    vx: w0 / 2.0,
                    vy: 0.88,
                }
            }
            Metrics::Composite {
                cids,
                widths,
                default_width,
                vertical,
                default_vertical,
                unicode_codes,
            } => {
                let cid = cids.cid(code);
                let w0 = cid
                    .and_then(|c| widths.get(c))
                    .map_or(*default_width, |[w]| w);
                let [w1, vx, vy] = cid.and_then(|c| vertical.get(c)).unwrap_or([
                    default_vertical[1],
                    w0 / 2.0,
                    default_vertical[0],
                ]);
                let text = mapped
                    .or_else(|| {
                        unicode_codes
                            .then(|| u16::try_from(code).ok())
                            .flatten()
                            .map(|u| Cow::Owned(String::from_utf16_lossy(&[u])))
                    })
                    .unwrap_or(Cow::Borrowed("\u{FFFD}"));
                GlyphInfo {
                    text,
                    w0,
                    w1,
                    vx,
                    vy,
                }
            }
        }
    }
}

impl<S: Sink> Extractor<'_, '_, S> {
    fn load_font(&mut self, dict: &Dictionary) -> Result<Font, PdfError> {
        let to_unicode = match self.doc.resolve_key(dict, b"ToUnicode")? {
            Some(Object::Stream(s)) => soft(self.read_cmap(&s))?.map(|c| c.unicode),
            _ => None,
        };
        match dict.name(b"Subtype") {
            Some(b"Type0") => self.load_composite(dict, to_unicode),
            subtype => self.load_simple(dict, subtype == Some(b"Type3"), to_unicode),
        }
    }

    fn number(&self, dict: &Dictionary, key: &[u8]) -> Result<Option<f64>, PdfError> {
        Ok(self.doc.resolve_key(dict, key)?.and_then(|o| o.as_f64()))
    }

    fn dict(&self, dict: &Dictionary, key: &[u8]) -> Result<Option<Dictionary>, PdfError> {
        Ok(self
            .doc
            .resolve_key(dict, key)?
            .and_then(|o| o.as_dict().cloned()))
    }

    /// Type 1, MMType1, TrueType and Type 3 fonts (§9.6): one-byte codes.
    fn load_simple(
        &mut self,
        dict: &Dictionary,
        type3: bool,
        to_unicode: Option<UnicodeMap>,
    ) -> Result<Font, PdfError> {
        let base_font = dict
            .name(b"BaseFont")
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let standard = if type3 { None } else { standard14(&base_font) };
        let descriptor = self.dict(dict, b"FontDescriptor")?;
        let flags = match &descriptor {
            Some(d) => self.number(d, b"Flags")?.unwrap_or(0.0),
            None => 0.0,
        } as i64;
        // §9.8.2: bit 3 symbolic, bit 6 nonsymbolic.
        let symbolic = flags & 4 != 0 && flags & 32 == 0;
        // §9.2.4: glyph space is 1/1000 em except in Type 3 fonts, which give /FontMatrix.
        let font_matrix = if type3 {
            self.doc
                .resolve_key(dict, b"FontMatrix")?
                .and_then(|m| Matrix::from_object(&m))
                .unwrap_or(Matrix([0.001, 0.0, 0.0, 0.001, 0.0, 0.0]))
        } else {
            Matrix([0.001, 0.0, 0.0, 0.001, 0.0, 0.0])
        };

        // The encoding (§9.6.6): a base table, then /Differences.
        let (base_name, differences) = match self.doc.resolve_key(dict, b"Encoding")? {
            Some(Object::Name(n)) => (Some(n), None),
            Some(Object::Dictionary(d)) => (
                d.name(b"BaseEncoding").map(<[u8]>::to_vec),
                self.doc
                    .resolve_key(&d, b"Differences")?
                    .and_then(|o| o.as_array().map(<[Object]>::to_vec)),
            ),
            _ => (None, None),
        };
        let base: fn(u8) -> Option<&'static str> = match base_name.as_deref() {
            Some(b"WinAnsiEncoding") => encoding::win_ansi,
            Some(b"MacRomanEncoding") => encoding::mac_roman,
            Some(b"StandardEncoding") => encoding::standard,
            Some(b"PDFDocEncoding") => encoding::pdf_doc,
            // No base: the font's built-in encoding, which we only know for text fonts
            // (StandardEncoding, Table 114); nonsymbolic TrueType fonts are read as Windows
            // ANSI as viewers do; a symbolic font's own encoding is unknown (see below).
            _ if type3 || matches!(standard, Some("Symbol" | "ZapfDingbats")) => |_| None,
            _ if dict.name(b"Subtype") == Some(b"TrueType") && !symbolic => encoding::win_ansi,
            _ if symbolic && standard.is_none() => |_| None,
            _ => encoding::standard,
        };
        let mut names: Vec<Option<Cow<'static, str>>> =
            (0..=255u8).map(|c| base(c).map(Cow::Borrowed)).collect();
        let mut code = 0usize;
        for item in differences.iter().flatten() {
            match item {
                Object::Integer(c) => code = usize::try_from(*c).unwrap_or(usize::MAX),
                Object::Name(n) => {
                    if let Some(slot) = names.get_mut(code) {
                        *slot = Some(Cow::Owned(String::from_utf8_lossy(n).into_owned()));
                    }
                    code = code.saturating_add(1);
                }
                _ => {}
            }
        }
        let text = names
            .iter()
            .enumerate()
            .map(|(code, name)| match name {
                Some(name) => encoding::glyph_to_unicode(name),
                // Unknown built-in encoding (symbolic fonts): printable ASCII codes are
                // nearly always the ASCII characters.
                None => u8::try_from(code)
                    .ok()
                    .filter(|c| (0x20..0x7f).contains(c))
                    .map(|c| char::from(c).to_string()),
            })
            .collect();

        // Widths (§9.6.2.1): /Widths from /FirstChar, else the descriptor's /MissingWidth;
        // the standard 14 fonts may omit /Widths and use their AFM metrics.
        let first = self.number(dict, b"FirstChar")?.unwrap_or(0.0) as i64;
        let widths_array = self
            .doc
            .resolve_key(dict, b"Widths")?
            .and_then(|o| o.as_array().map(<[Object]>::to_vec));
        let missing = match &descriptor {
            Some(d) => self.number(d, b"MissingWidth")?,
            None => None,
        };
        let mut widths = Vec::with_capacity(256);
        for (code, name) in names.iter().enumerate() {
            let w = match &widths_array {
                Some(array) => {
                    let slot = (code as i64)
                        .checked_sub(first)
                        .and_then(|i| usize::try_from(i).ok())
                        .and_then(|i| array.get(i));
                    match slot {
                        Some(Object::Reference(r)) => soft(self.doc.get(*r))?
                            .and_then(|o| o.as_f64())
                            .unwrap_or(0.0),
                        Some(o) => o.as_f64().unwrap_or(0.0),
                        None => missing.unwrap_or(0.0),
                    }
                }
                None => standard
                    .zip(name.as_deref())
                    .and_then(|(font, glyph)| encoding::standard14_width(font, glyph))
                    .map(f64::from)
                    .or(missing.filter(|m| *m > 0.0))
                    .unwrap_or(GUESSED_WIDTH),
            };
            widths.push(w * font_matrix.0[0]);
        }

        let (ascent, descent) = self.vertical_extent(
            descriptor.as_ref(),
            &font_matrix,
            type3.then_some(dict),
            standard,
        )?;
        Ok(Font {
            codes: CodeSpace::one_byte(),
            to_unicode,
            metrics: Metrics::Simple { widths, text },
            ascent,
            descent,
            vertical: false,
        })
    }

    /// Ascent and descent in em: the descriptor's if plausible, else a Type 3 font's
    /// /FontBBox, a standard font's AFM values, or a generic guess.
    fn vertical_extent(
        &self,
        descriptor: Option<&Dictionary>,
        font_matrix: &Matrix,
        type3: Option<&Dictionary>,
        standard: Option<&str>,
    ) -> Result<(f64, f64), PdfError> {
        let scale = font_matrix.0[3];
        let from = |a: f64, d: f64| {
            let (a, d) = (a * scale, d * scale);
            (a.max(d), a.min(d))
        };
        if let Some(d) = descriptor {
            let ascent = self.number(d, b"Ascent")?;
            let descent = self.number(d, b"Descent")?;
            if let (Some(a), Some(d)) = (ascent, descent) {
                let (a, d) = from(a, d);
                // Broken descriptors give 0 or font-unit values (e.g. 32768); ignore those.
                if a > 0.0 && a < 2.0 && d <= 0.0 && d > -1.0 {
                    return Ok((a, d));
                }
            }
        }
        if let Some(dict) = type3
            && let Some(bbox) = self
                .doc
                .resolve_key(dict, b"FontBBox")?
                .and_then(|b| super::document::rect(&b))
            && bbox[3] > bbox[1]
        {
            return Ok(from(bbox[3], bbox[1]));
        }
        Ok(standard
            .and_then(standard14_extent)
            .unwrap_or((DEFAULT_ASCENT, DEFAULT_DESCENT)))
    }

    /// Type 0 fonts (§9.7): codes per the encoding CMap, widths per CID from the descendant.
    fn load_composite(
        &mut self,
        dict: &Dictionary,
        to_unicode: Option<UnicodeMap>,
    ) -> Result<Font, PdfError> {
        let (codes, cids, vertical, unicode_codes) =
            match self.doc.resolve_key(dict, b"Encoding")? {
                Some(Object::Stream(s)) => {
                    let cmap = soft(self.read_cmap(&s))?.unwrap_or_default();
                    let vertical = cmap.vertical || s.dict.integer(b"WMode") == Some(1);
                    let parent = s.dict.name(b"UseCMap").map(<[u8]>::to_vec).or(cmap.parent);
                    let identity_parent =
                        parent.as_deref().is_none_or(|p| p.starts_with(b"Identity"));
                    let codes = if cmap.codespace.is_empty() {
                        CodeSpace::two_byte()
                    } else {
                        CodeSpace(cmap.codespace)
                    };
                    let cids = if cmap.cids.is_empty() && identity_parent {
                        CidMap::Identity
                    } else {
                        let mut ranges = cmap.cids;
                        ranges.sort_by_key(|r| r.0);
                        CidMap::Table {
                            ranges,
                            identity_fallback: identity_parent,
                        }
                    };
                    (codes, cids, vertical, false)
                }
                // Predefined CMaps (§9.7.5.2): Identity maps codes to equal CIDs; the others we
                // do not carry, so their codes are read as two bytes with unknown CIDs.
                Some(Object::Name(n)) => {
                    let identity = n.starts_with(b"Identity-");
                    let unicode =
                        n.windows(4).any(|w| w == b"UCS2") || n.windows(5).any(|w| w == b"UTF16");
                    (
                        CodeSpace::two_byte(),
                        if identity {
                            CidMap::Identity
                        } else {
                            CidMap::Unknown
                        },
                        n.ends_with(b"-V"),
                        unicode,
                    )
                }
                _ => (CodeSpace::two_byte(), CidMap::Identity, false, false),
            };
        let descendant = match self.doc.resolve_key(dict, b"DescendantFonts")? {
            Some(Object::Array(a)) => match a.first() {
                Some(first) => self.doc.resolve(first)?.as_dict().cloned(),
                None => None,
            },
            Some(Object::Dictionary(d)) => Some(d),
            _ => None,
        }
        .unwrap_or_default();
        let default_width = self.number(&descendant, b"DW")?.unwrap_or(1000.0) / 1000.0;
        let widths = self.cid_metrics::<1>(&descendant, b"W")?;
        let vertical_metrics = self.cid_metrics::<3>(&descendant, b"W2")?;
        let default_vertical = match self.doc.resolve_key(&descendant, b"DW2")? {
            Some(o) => o
                .as_array()
                .and_then(numbers::<2>)
                .map_or([0.88, -1.0], |[vy, w1]| [vy / 1000.0, w1 / 1000.0]),
            None => [0.88, -1.0],
        };
        let descriptor = self.dict(&descendant, b"FontDescriptor")?;
        let (ascent, descent) = self.vertical_extent(
            descriptor.as_ref(),
            &Matrix([0.001, 0.0, 0.0, 0.001, 0.0, 0.0]),
            None,
            None,
        )?;
        Ok(Font {
            codes,
            to_unicode,
            metrics: Metrics::Composite {
                cids,
                widths,
                default_width,
                vertical: vertical_metrics,
                default_vertical,
                unicode_codes,
            },
            ascent,
            descent,
            vertical,
        })
    }

    /// `/W` (N = 1) or `/W2` (N = 3) of a CIDFont (§9.7.4.3): `c [v…]` or `cfirst clast v`,
    /// values in thousandths of an em.
    fn cid_metrics<const N: usize>(
        &mut self,
        font: &Dictionary,
        key: &[u8],
    ) -> Result<CidMetrics<N>, PdfError> {
        let mut out = CidMetrics::default();
        let Some(Object::Array(items)) = self.doc.resolve_key(font, key)? else {
            return Ok(out);
        };
        let mut i = 0usize;
        while let Some(first) = items.get(i) {
            self.tick(1)?;
            let Some(first) = first.as_i64().and_then(|c| u32::try_from(c).ok()) else {
                break;
            };
            let next = match items.get(i + 1) {
                Some(Object::Reference(r)) => self.doc.get(*r)?,
                Some(o) => o.clone(),
                None => break,
            };
            if let Object::Array(values) = next {
                self.tick(values.len())?;
                for (k, chunk) in values.chunks_exact(N).enumerate() {
                    if let (Some(v), Ok(k)) = (numbers::<N>(chunk), u32::try_from(k)) {
                        out.single
                            .insert(first.saturating_add(k), v.map(|x| x / 1000.0));
                    }
                }
                i += 2;
            } else {
                let last = next.as_i64().and_then(|c| u32::try_from(c).ok());
                let values = items.get(i + 2..i + 2 + N).and_then(numbers::<N>);
                if let (Some(last), Some(v)) = (last, values) {
                    out.ranges.push((first, last, v.map(|x| x / 1000.0)));
                }
                i += 2 + N;
            }
        }
        out.ranges.sort_by_key(|r| r.0);
        Ok(out)
    }

    /// Reads a CMap stream (an encoding or a ToUnicode map), counting it against the budget.
    fn read_cmap(&mut self, stream: &Stream) -> Result<CMap, PdfError> {
        let data = self.decode(stream)?;
        Ok(parse_cmap(&data))
    }
}

/// The standard 14 font (§9.6.2.2) a `/BaseFont` names, including the aliases Acrobat accepts
/// for non-embedded fonts (Arial for Helvetica, Times New Roman, Courier New).
fn standard14(base_font: &str) -> Option<&'static str> {
    // A subset tag "ABCDEF+" (§9.6.4) does not change the font.
    let name = match base_font.split_once('+') {
        Some((tag, rest)) if tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()) => rest,
        _ => base_font,
    };
    let compact: String = name
        .chars()
        .filter(|c| !matches!(c, ' ' | ',' | '-'))
        .collect();
    let standard = match compact.as_str() {
        "Helvetica" | "Arial" | "ArialMT" => "Helvetica",
        "HelveticaBold" | "ArialBold" | "ArialBoldMT" => "Helvetica-Bold",
        "HelveticaOblique" | "HelveticaItalic" | "ArialItalic" | "ArialItalicMT" => {
            "Helvetica-Oblique"
        }
        "HelveticaBoldOblique"
        | "HelveticaBoldItalic"
        | "ArialBoldItalic"
        | "ArialBoldItalicMT" => "Helvetica-BoldOblique",
        "TimesRoman" | "Times" | "TimesNewRoman" | "TimesNewRomanPSMT" => "Times-Roman",
        "TimesBold" | "TimesNewRomanBold" | "TimesNewRomanPSBoldMT" => "Times-Bold",
        "TimesItalic" | "TimesNewRomanItalic" | "TimesNewRomanPSItalicMT" => "Times-Italic",
        "TimesBoldItalic" | "TimesNewRomanBoldItalic" | "TimesNewRomanPSBoldItalicMT" => {
            "Times-BoldItalic"
        }
        "Courier" | "CourierNew" | "CourierNewPSMT" => "Courier",
        "CourierBold" | "CourierNewBold" | "CourierNewPSBoldMT" => "Courier-Bold",
        "CourierOblique" | "CourierItalic" | "CourierNewItalic" | "CourierNewPSItalicMT" => {
            "Courier-Oblique"
        }
        "CourierBoldOblique"
        | "CourierBoldItalic"
        | "CourierNewBoldItalic"
        | "CourierNewPSBoldItalicMT" => "Courier-BoldOblique",
        "Symbol" => "Symbol",
        "ZapfDingbats" => "ZapfDingbats",
        _ => return None,
    };
    Some(standard)
}

/// Ascender and descender of the standard 14 fonts' AFM files, in em.
fn standard14_extent(standard: &str) -> Option<(f64, f64)> {
    if standard.starts_with("Helvetica") {
        Some((0.718, -0.207))
    } else if standard.starts_with("Times") {
        Some((0.683, -0.217))
    } else if standard.starts_with("Courier") {
        Some((0.629, -0.157))
    } else {
        None
    }
}

// ---- CMaps -------------------------------------------------------------------------------

/// One codespace range (§9.7.6.2): codes of `len` bytes whose every byte lies between the
/// corresponding bytes of `lo` and `hi`.
#[derive(Debug, Clone)]
struct CodeRange {
    len: usize,
    lo: [u8; 4],
    hi: [u8; 4],
}

#[derive(Debug, Clone)]
struct CodeSpace(Vec<CodeRange>);

impl CodeSpace {
    fn one_byte() -> Self {
        CodeSpace(vec![CodeRange {
            len: 1,
            lo: [0; 4],
            hi: [0xff, 0, 0, 0],
        }])
    }

    fn two_byte() -> Self {
        CodeSpace(vec![CodeRange {
            len: 2,
            lo: [0; 4],
            hi: [0xff, 0xff, 0, 0],
        }])
    }

    /// The first code of non-empty `bytes` and its length: the shortest prefix inside a
    /// codespace range. Bytes matching no range are consumed as a code of the shortest
    /// length, as viewers do, so a string always makes progress.
    fn next(&self, bytes: &[u8]) -> (u32, usize) {
        let mut code = 0u32;
        for (i, &b) in bytes.iter().take(4).enumerate() {
            code = code << 8 | u32::from(b);
            let n = i + 1;
            let inside = |r: &CodeRange| {
                r.len == n
                    && bytes
                        .iter()
                        .zip(r.lo.iter().zip(r.hi.iter()))
                        .take(n)
                        .all(|(b, (lo, hi))| lo <= b && b <= hi)
            };
            if self.0.iter().any(inside) {
                return (code, n);
            }
        }
        let n = self
            .0
            .iter()
            .map(|r| r.len)
            .min()
            .unwrap_or(1)
            .clamp(1, bytes.len().max(1));
        let code = bytes
            .iter()
            .take(n)
            .fold(0u32, |acc, &b| acc << 8 | u32::from(b));
        (code, n)
    }
}

/// Code → Unicode from a ToUnicode CMap (§9.10.3).
#[derive(Debug, Default)]
struct UnicodeMap {
    single: HashMap<u32, String>,
    /// `(lo, hi, UTF-16 of lo)` sorted by `lo`; later codes increment the last unit.
    ranges: Vec<(u32, u32, Vec<u16>)>,
}

impl UnicodeMap {
    fn get(&self, code: u32) -> Option<Cow<'_, str>> {
        if let Some(s) = self.single.get(&code) {
            return Some(Cow::Borrowed(s));
        }
        let end = self.ranges.partition_point(|r| r.0 <= code);
        // Ranges do not overlap in sane maps; looking back a few covers the insane ones.
        for (lo, hi, base) in self.ranges.get(..end)?.iter().rev().take(8) {
            if code <= *hi {
                let mut units = base.clone();
                if let Some(last) = units.last_mut() {
                    *last = last.wrapping_add((code - lo) as u16);
                }
                return Some(Cow::Owned(String::from_utf16_lossy(&units)));
            }
        }
        None
    }
}

/// Code → CID for a composite font.
enum CidMap {
    Identity,
    /// A predefined CMap we do not carry: widths fall back to `/DW`.
    Unknown,
    Table {
        /// `(lo, hi, CID of lo)` sorted by `lo`.
        ranges: Vec<(u32, u32, u32)>,
        identity_fallback: bool,
    },
}

impl CidMap {
    fn cid(&self, code: u32) -> Option<u32> {
        match self {
            CidMap::Identity => Some(code),
            CidMap::Unknown => None,
            CidMap::Table {
                ranges,
                identity_fallback,
            } => {
                let end = ranges.partition_point(|r| r.0 <= code);
                ranges
                    .get(..end)
                    .and_then(|r| r.iter().rev().take(8).find(|r| code <= r.1))
                    .map(|(lo, _, cid)| cid.saturating_add(code - lo))
                    .or(identity_fallback.then_some(code))
            }
        }
    }
}

/// Per-CID values from `/W` or `/W2`, in em.
struct CidMetrics<const N: usize> {
    single: HashMap<u32, [f64; N]>,
    /// `(first, last, values)` sorted by `first`.
    ranges: Vec<(u32, u32, [f64; N])>,
}

impl<const N: usize> Default for CidMetrics<N> {
    fn default() -> Self {
        Self {
            single: HashMap::new(),
            ranges: Vec::new(),
        }
    }
}

impl<const N: usize> CidMetrics<N> {
    fn get(&self, cid: u32) -> Option<[f64; N]> {
        if let Some(v) = self.single.get(&cid) {
            return Some(*v);
        }
        let end = self.ranges.partition_point(|r| r.0 <= cid);
        self.ranges
            .get(..end)?
            .iter()
            .rev()
            .take(8)
            .find(|r| cid <= r.1)
            .map(|r| r.2)
    }
}

/// What a CMap stream says, as far as extraction cares.
#[derive(Default)]
struct CMap {
    codespace: Vec<CodeRange>,
    cids: Vec<(u32, u32, u32)>,
    unicode: UnicodeMap,
    vertical: bool,
    /// The CMap named by `usecmap`.
    parent: Option<Vec<u8>>,
}

/// Parses a CMap (§9.7.5.4, Adobe TN 5014/5411) with the content tokenizer: operands
/// accumulate until an operator, and only the `end…` operators and `def`/`usecmap` matter.
/// Damage ends the parse with what was read so far.
fn parse_cmap(data: &[u8]) -> CMap {
    let mut cmap = CMap::default();
    let mut parser = Parser::content(data);
    let mut operands: Vec<Object> = Vec::new();
    while let Ok(Some(item)) = parser.content_item() {
        let op = match item {
            ContentItem::Operand(o) => {
                operands.push(o);
                continue;
            }
            ContentItem::Operator(op) => op,
        };
        match op.as_slice() {
            b"endcodespacerange" => {
                for pair in operands.chunks_exact(2) {
                    if let [
                        Object::String { bytes: lo, .. },
                        Object::String { bytes: hi, .. },
                    ] = pair
                        && lo.len() == hi.len()
                        && (1..=4).contains(&lo.len())
                    {
                        let mut range = CodeRange {
                            len: lo.len(),
                            lo: [0; 4],
                            hi: [0; 4],
                        };
                        for (slot, b) in range.lo.iter_mut().zip(lo) {
                            *slot = *b;
                        }
                        for (slot, b) in range.hi.iter_mut().zip(hi) {
                            *slot = *b;
                        }
                        cmap.codespace.push(range);
                    }
                }
            }
            b"endcidrange" => {
                for triple in operands.chunks_exact(3) {
                    if let [lo, hi, Object::Integer(cid)] = triple
                        && let (Some(lo), Some(hi), Ok(cid)) =
                            (code_of(lo), code_of(hi), u32::try_from(*cid))
                        && lo <= hi
                    {
                        cmap.cids.push((lo, hi, cid));
                    }
                }
            }
            b"endcidchar" => {
                for pair in operands.chunks_exact(2) {
                    if let [code, Object::Integer(cid)] = pair
                        && let (Some(code), Ok(cid)) = (code_of(code), u32::try_from(*cid))
                    {
                        cmap.cids.push((code, code, cid));
                    }
                }
            }
            b"endbfchar" => {
                for pair in operands.chunks_exact(2) {
                    if let [code, dest] = pair
                        && let Some(code) = code_of(code)
                    {
                        let text = match dest {
                            Object::String { bytes, .. } => Some(utf16_text(bytes)),
                            Object::Name(n) => {
                                encoding::glyph_to_unicode(&String::from_utf8_lossy(n))
                            }
                            _ => None,
                        };
                        if let Some(text) = text {
                            cmap.unicode.single.insert(code, text);
                        }
                    }
                }
            }
            b"endbfrange" => {
                for triple in operands.chunks_exact(3) {
                    let [lo, hi, dest] = triple else { continue };
                    let (Some(lo), Some(hi)) = (code_of(lo), code_of(hi)) else {
                        continue;
                    };
                    if lo > hi {
                        continue;
                    }
                    match dest {
                        Object::String { bytes, .. } => {
                            cmap.unicode.ranges.push((lo, hi, utf16_units(bytes)));
                        }
                        // The array form lists each code's text (bounded by the array's size).
                        Object::Array(items) => {
                            for (code, item) in (lo..=hi).zip(items) {
                                if let Some(bytes) = item.as_string() {
                                    cmap.unicode.single.insert(code, utf16_text(bytes));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            b"usecmap" => {
                if let Some(Object::Name(n)) = operands.last() {
                    cmap.parent = Some(n.clone());
                }
            }
            b"def" => {
                if let [.., Object::Name(key), Object::Integer(1)] = operands.as_slice()
                    && key == b"WMode"
                {
                    cmap.vertical = true;
                }
            }
            _ => {}
        }
        operands.clear();
    }
    cmap.unicode.ranges.sort_by_key(|r| r.0);
    cmap
}

/// A code written as a string of 1–4 bytes (big-endian).
fn code_of(o: &Object) -> Option<u32> {
    let bytes = o.as_string()?;
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some(bytes.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)))
}

/// A ToUnicode destination: UTF-16BE (surrogate pairs included); a lone byte, which some
/// producers write, as that character.
fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    if let [b] = bytes {
        return vec![u16::from(*b)];
    }
    bytes
        .chunks_exact(2)
        .map(|c| {
            u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect()
}

fn utf16_text(bytes: &[u8]) -> String {
    String::from_utf16_lossy(&utf16_units(bytes))
}

// ---- search ------------------------------------------------------------------------------

/// A needle or text element after normalisation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Char(char),
    /// A run of white space; `implied` if no space was drawn anywhere in it.
    Space {
        implied: bool,
    },
}

fn normalize_needle(needle: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for c in needle.trim().chars() {
        if c.is_whitespace() {
            if out.last() != Some(&Token::Space { implied: false }) {
                out.push(Token::Space { implied: false });
            }
        } else {
            match ligature(c) {
                Some(letters) => out.extend(letters.chars().map(Token::Char)),
                None => out.push(Token::Char(c)),
            }
        }
    }
    out
}

/// A needle matched against characters as extraction produces them.
///
/// White space runs collapse into one [`Token::Space`] as they arrive, so no two spaces are
/// adjacent and a match of `n` needle tokens spans at most `2n` text tokens (each needle
/// character may skip one implied space). The window therefore only needs `2n` tokens of
/// look-ahead before its front can be decided.
struct Matcher<'n> {
    needle: &'n [Token],
    window: VecDeque<(Token, Option<[f64; 4]>)>,
    found: Vec<[f64; 4]>,
}

impl<'n> Matcher<'n> {
    fn new(needle: &'n [Token]) -> Self {
        Self {
            needle,
            window: VecDeque::new(),
            found: Vec::new(),
        }
    }

    /// Decides the front of the window: records a match starting there and drops it, or
    /// drops the front token.
    fn step(&mut self) {
        let Some(end) = match_at(&self.window, self.needle) else {
            self.window.pop_front();
            return;
        };
        let bbox = self
            .window
            .drain(..end.min(self.window.len()))
            .filter_map(|(_, bbox)| bbox)
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            });
        // Text drawn twice at the same place (fake bold, shadows) is one occurrence. Such
        // repeats follow each other, so only the last few hits are compared (comparing with all
        // made a page of one repeated glyph quadratic).
        if let Some(bbox) = bbox
            && !self
                .found
                .iter()
                .rev()
                .take(8)
                .any(|f| f.iter().zip(&bbox).all(|(a, b)| (a - b).abs() < 0.5))
        {
            self.found.push(bbox);
        }
    }

    fn finish(mut self) -> Vec<[f64; 4]> {
        while !self.window.is_empty() {
            self.step();
        }
        self.found
    }
}

impl Sink for Matcher<'_> {
    fn push(&mut self, ch: char, bbox: Option<[f64; 4]>, implied: bool) {
        if ch.is_whitespace() {
            // A run is implied only if no member of it was drawn.
            if let Some((Token::Space { implied: run }, _)) = self.window.back_mut() {
                *run &= implied;
                return;
            }
            self.window.push_back((Token::Space { implied }, None));
        } else {
            self.window.push_back((Token::Char(ch), bbox));
        }
        // The newest token (a space run may still grow) lies beyond what a match from the
        // front can reach.
        while self.window.len() > 2 * self.needle.len() {
            self.step();
        }
    }
}

/// Whether `needle` matches `tokens` from the front; returns the end of the match. A needle
/// character may skip an implied space; a needle space needs a space, implied or drawn.
fn match_at(tokens: &VecDeque<(Token, Option<[f64; 4]>)>, needle: &[Token]) -> Option<usize> {
    if !matches!(tokens.front(), Some((Token::Char(_), _))) {
        return None;
    }
    let mut t = 0usize;
    for want in needle {
        match want {
            Token::Char(c) => {
                if matches!(tokens.get(t), Some((Token::Space { implied: true }, _))) {
                    t += 1;
                }
                if tokens.get(t).map(|(tok, _)| tok) != Some(&Token::Char(*c)) {
                    return None;
                }
            }
            Token::Space { .. } => {
                if !matches!(tokens.get(t), Some((Token::Space { .. }, _))) {
                    return None;
                }
            }
        }
        t += 1;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::Limits;

    /// Helvetica's AFM widths for the letters the tests use (independent of `encoding`).
    fn helvetica(text: &str) -> f64 {
        text.chars()
            .map(|c| match c {
                'S' | 'P' | 'A' => 667.0,
                'H' => 722.0,
                'i' | 'l' => 222.0,
                'g' | 'n' | 'a' | 'u' | 'e' | 'o' | 'b' => 556.0,
                't' | 'f' | ' ' => 278.0,
                'r' => 333.0,
                'y' => 500.0,
                _ => panic!("no width for {c:?} in the test table"),
            })
            .sum()
    }

    const HELVETICA: &str = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica \
                             /Encoding /WinAnsiEncoding >>";

    /// A stream object body.
    fn stream(dict: &str, data: &[u8]) -> String {
        format!(
            "<< {dict} /Length {} >>\nstream\n{}\nendstream",
            data.len(),
            String::from_utf8_lossy(data)
        )
    }

    /// A PDF whose objects are numbered from 1 in order, with a classic cross-reference table.
    fn build(objects: &[String]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    /// One page (object 3) with `resources` and `content` (object 4); `extra` objects are
    /// numbered from 5.
    fn one_page(resources: &str, content: &str, extra: &[String]) -> Vec<u8> {
        let mut objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} \
                 /Contents 4 0 R >>"
            ),
            stream("", content.as_bytes()),
        ];
        objects.extend_from_slice(extra);
        build(&objects)
    }

    /// Page content using Helvetica as /F1 (object 5).
    fn helvetica_page(content: &str) -> Vec<u8> {
        one_page(
            "<< /Font << /F1 5 0 R >> >>",
            content,
            &[HELVETICA.to_string()],
        )
    }

    fn find_with(pdf: &[u8], needle: &str, limits: &TextLimits) -> Result<Vec<[f64; 4]>, PdfError> {
        let doc = Document::open(pdf, Limits::default())?;
        let page = doc.page(0)?;
        find_text(&doc, &page, needle, limits)
    }

    fn find(pdf: &[u8], needle: &str) -> Vec<[f64; 4]> {
        find_with(pdf, needle, &TextLimits::default()).unwrap()
    }

    fn text(pdf: &[u8]) -> String {
        let doc = Document::open(pdf, Limits::default()).unwrap();
        let page = doc.page(0).unwrap();
        page_text(&doc, &page, &TextLimits::default()).unwrap()
    }

    #[track_caller]
    fn assert_boxes(got: &[[f64; 4]], want: &[[f64; 4]]) {
        assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                g.iter().zip(w).all(|(a, b)| (a - b).abs() < 0.01),
                "got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn standard_helvetica_split_across_tj_with_kerning() {
        // No /Widths: the standard 14 metrics apply. -278 and -333 are word gaps, 15 and -20
        // kerning inside words.
        let pdf = helvetica_page(
            "BT /F1 12 Tf 72 700 Td [(Sign) 15 (ature) -278 (of) ( Par) -20 (ty) -333 (A)] TJ ET",
        );
        assert_eq!(text(&pdf), "Signature of Party A");
        // Two of the three word gaps are implied (no space glyph drawn).
        let total = helvetica("Signatureof PartyA") - 15.0 + 278.0 + 20.0 + 333.0;
        let (lly, ury) = (700.0 - 0.207 * 12.0, 700.0 + 0.718 * 12.0);
        let full = [72.0, lly, 72.0 + total * 0.012, ury];
        assert_boxes(&find(&pdf, "Signature of Party A"), &[full]);
        // White space in the needle is collapsed; an implied space may also be skipped.
        assert_boxes(&find(&pdf, "  Signature \n of  Party\tA "), &[full]);
        assert_boxes(
            &find(&pdf, "Signatureof"),
            &[[
                72.0,
                lly,
                72.0 + (helvetica("Signatureof") - 15.0 + 278.0) * 0.012,
                ury,
            ]],
        );
        // A drawn space is never skipped.
        assert!(find(&pdf, "ofParty").is_empty());
        let party_x = 72.0 + (helvetica("Signatureof ") - 15.0 + 278.0) * 0.012;
        assert_boxes(&find(&pdf, "Party A"), &[[party_x, lly, full[2], ury]]);
    }

    #[test]
    fn differences_encoding_with_widths_and_descriptor() {
        let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Custom /FirstChar 1 /LastChar 7 \
                    /Widths [600 500 400 700 500 300 600] /FontDescriptor 6 0 R \
                    /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding \
                    /Differences [1 /K /e /y /w /o /r /d] >> >>";
        let descriptor = "<< /Type /FontDescriptor /FontName /Custom /Flags 32 /Ascent 750 \
                          /Descent -250 /MissingWidth 250 >>";
        let pdf = one_page(
            "<< /Font << /F1 5 0 R >> >>",
            "BT /F1 10 Tf 100 500 Td <01020304050607> Tj (AB) Tj ET",
            &[font.to_string(), descriptor.to_string()],
        );
        assert_eq!(text(&pdf), "KeywordAB");
        assert_boxes(&find(&pdf, "Keyword"), &[[100.0, 497.5, 136.0, 507.5]]);
        assert_boxes(&find(&pdf, "wo"), &[[115.0, 497.5, 127.0, 507.5]]);
        // Codes outside /FirstChar../LastChar take /MissingWidth; base encoding still applies.
        assert_boxes(&find(&pdf, "dAB"), &[[130.0, 497.5, 141.0, 507.5]]);
    }

    const TO_UNICODE: &str = "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
        /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
        /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
        1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
        2 beginbfchar\n<0005> <0020>\n<0006> <D83DDE00>\nendbfchar\n\
        2 beginbfrange\n<0001> <0002> <0041>\n<0003> <0004> [<0043> <00660069>]\nendbfrange\n\
        endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend";

    fn type0_page(
        encoding: &str,
        descendant_extra: &str,
        content: &str,
        extra: &[String],
    ) -> Vec<u8> {
        let mut objects = vec![
            format!(
                "<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Test /Encoding {encoding} \
                 /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>"
            ),
            format!(
                "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Test \
                 /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
                 /FontDescriptor 8 0 R {descendant_extra} >>"
            ),
            stream("", TO_UNICODE.as_bytes()),
            "<< /Type /FontDescriptor /FontName /ABCDEF+Test /Flags 4 /Ascent 800 \
             /Descent -200 >>"
                .to_string(),
        ];
        objects.extend_from_slice(extra);
        one_page("<< /Font << /F1 5 0 R >> >>", content, &objects)
    }

    #[test]
    fn type0_identity_h_with_to_unicode() {
        let pdf = type0_page(
            "/Identity-H",
            "/DW 1000 /W [1 [500 600] 3 4 700]",
            "BT /F1 20 Tf 50 400 Td <0001000200030004000500060007> Tj ET",
            &[],
        );
        // bfrange (string and array forms), bfchar with a surrogate pair, an unmapped code.
        assert_eq!(text(&pdf), "ABCfi \u{1F600}\u{FFFD}");
        assert_boxes(&find(&pdf, "BCfi"), &[[60.0, 396.0, 100.0, 416.0]]);
        // A ligature in the needle matches its letters.
        assert_boxes(&find(&pdf, "C\u{FB01}"), &[[72.0, 396.0, 100.0, 416.0]]);
        assert_boxes(&find(&pdf, "\u{1F600}"), &[[120.0, 396.0, 140.0, 416.0]]);
    }

    #[test]
    fn type0_embedded_cmap_with_mixed_code_lengths() {
        let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
                    /CMapName /Test-Mixed def\n\
                    2 begincodespacerange <00> <7F> <8000> <FFFF> endcodespacerange\n\
                    2 begincidrange <00> <7F> 0 <8000> <FFFF> 200 endcidrange\n\
                    endcmap CMapName currentdict /CMap defineresource pop end end";
        let unicode = "begincmap 1 begincodespacerange <00> <FFFF> endcodespacerange\n\
                       3 beginbfchar <41> <0041> <8001> <03A9> <42> <0042> endbfchar endcmap";
        let mut pdf_objects = vec![
            "<< /Type /Font /Subtype /Type0 /BaseFont /Mixed /Encoding 6 0 R \
             /DescendantFonts [7 0 R] /ToUnicode 8 0 R >>"
                .to_string(),
            stream("/Type /CMap /CMapName /Test-Mixed", cmap.as_bytes()),
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /Mixed /DW 1000 \
             /W [65 [300 400] 201 [900]] >>"
                .to_string(),
            stream("", unicode.as_bytes()),
        ];
        let pdf = one_page(
            "<< /Font << /F1 5 0 R >> >>",
            "BT /F1 10 Tf 0 0 Td <41800142> Tj ET",
            &pdf_objects,
        );
        assert_eq!(text(&pdf), "A\u{3A9}B");
        // No descriptor: the generic 0.8/-0.2 em extent.
        assert_boxes(&find(&pdf, "A\u{3A9}B"), &[[0.0, -2.0, 16.0, 8.0]]);
        assert_boxes(&find(&pdf, "B"), &[[12.0, -2.0, 16.0, 8.0]]);
        // The same through /WMode 1 in the CMap stream: vertical advances from /DW2's default.
        pdf_objects[1] = stream("/Type /CMap /WMode 1", cmap.as_bytes());
        let pdf = one_page(
            "<< /Font << /F1 5 0 R >> >>",
            "BT /F1 10 Tf 100 500 Td <4142> Tj ET",
            &pdf_objects,
        );
        // Each glyph hangs below the pen by vy = 0.88 em and is centred on it (vx = w0 / 2).
        assert_boxes(
            &find(&pdf, "A"),
            &[[98.5, 500.0 - 10.8, 101.5, 500.0 - 0.8]],
        );
        assert_boxes(
            &find(&pdf, "B"),
            &[[98.0, 490.0 - 10.8, 102.0, 490.0 - 0.8]],
        );
    }

    #[test]
    fn identity_v_moves_down() {
        let pdf = type0_page(
            "/Identity-V",
            "/DW 1000",
            "BT /F1 10 Tf 100 500 Td <00010002> Tj ET",
            &[],
        );
        assert_eq!(text(&pdf), "AB");
        assert_boxes(
            &find(&pdf, "AB"),
            &[[95.0, 480.0 - 0.8, 105.0, 500.0 - 0.8]],
        );
    }

    #[test]
    fn form_xobject_with_matrix_and_own_resources() {
        let form = stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 200 50] /Matrix [2 0 0 2 10 20] \
             /Resources << /Font << /F1 5 0 R >> >>",
            b"BT /F1 10 Tf 0 0 Td (Hi) Tj ET",
        );
        let image = stream(
            "/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray \
             /BitsPerComponent 8",
            b"\x00",
        );
        let pdf = one_page(
            "<< /XObject << /Fm1 6 0 R /Im1 7 0 R >> >>",
            "/Im1 Do q 1 0 0 1 100 100 cm /Fm1 Do Q /Fm1 Do",
            &[HELVETICA.to_string(), form, image],
        );
        assert_eq!(text(&pdf), "Hi\nHi");
        let w = helvetica("Hi") * 0.01;
        let (d, a) = (-0.207 * 10.0, 0.718 * 10.0);
        assert_boxes(
            &find(&pdf, "Hi"),
            &[
                [110.0, 120.0 + 2.0 * d, 110.0 + 2.0 * w, 120.0 + 2.0 * a],
                [10.0, 20.0 + 2.0 * d, 10.0 + 2.0 * w, 20.0 + 2.0 * a],
            ],
        );
    }

    #[test]
    fn form_cycles_and_depth_are_errors() {
        // Form 6 draws itself.
        let form = stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 1 1] \
             /Resources << /XObject << /Me 6 0 R >> >>",
            b"/Me Do",
        );
        let pdf = one_page(
            "<< /XObject << /Fm 6 0 R >> >>",
            "/Fm Do",
            &[HELVETICA.to_string(), form],
        );
        let err = find_with(&pdf, "x", &TextLimits::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ReferenceLoop(ObjRef::new(6, 0)));
        // A chain 6 → 7 → 8 is three deep: fine with 3, refused with 2.
        let chain = |next: Option<u32>| {
            let (res, body) = match next {
                Some(n) => (
                    format!("<< /XObject << /N {n} 0 R >> >>"),
                    "/N Do".to_string(),
                ),
                None => ("<< >>".to_string(), String::new()),
            };
            stream(
                &format!("/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources {res}"),
                body.as_bytes(),
            )
        };
        let pdf = one_page(
            "<< /XObject << /Fm 6 0 R >> >>",
            "/Fm Do",
            &[
                HELVETICA.to_string(),
                chain(Some(7)),
                chain(Some(8)),
                chain(None),
            ],
        );
        let three = TextLimits {
            max_form_depth: 3,
            ..TextLimits::default()
        };
        assert!(find_with(&pdf, "x", &three).unwrap().is_empty());
        let two = TextLimits {
            max_form_depth: 2,
            ..TextLimits::default()
        };
        let err = find_with(&pdf, "x", &two).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Structure(_)), "{err}");
    }

    #[test]
    fn cm_and_tm_scaling() {
        let pdf = helvetica_page("2 0 0 2 0 0 cm BT /F1 10 Tf 1 0 0 1 50 50 Tm (Hello) Tj ET");
        let w = helvetica("Hello") * 0.01;
        assert_boxes(
            &find(&pdf, "Hello"),
            &[[
                100.0,
                2.0 * (50.0 - 2.07),
                100.0 + 2.0 * w,
                2.0 * (50.0 + 7.18),
            ]],
        );
        let pdf = helvetica_page("BT /F1 10 Tf 3 0 0 1.5 10 10 Tm (Hello) Tj ET");
        assert_boxes(
            &find(&pdf, "Hello"),
            &[[10.0, 10.0 - 1.5 * 2.07, 10.0 + 3.0 * w, 10.0 + 1.5 * 7.18]],
        );
    }

    #[test]
    fn rotated_text_matrix() {
        // 90° counter-clockwise: text space (x, y) lands on (300 - y, 100 + x).
        let pdf = helvetica_page("BT /F1 10 Tf 0 1 -1 0 300 100 Tm (Hello) Tj ET");
        let w = helvetica("Hello") * 0.01;
        assert_boxes(
            &find(&pdf, "Hello"),
            &[[300.0 - 7.18, 100.0, 300.0 + 2.07, 100.0 + w]],
        );
    }

    #[test]
    fn spacing_scaling_and_rise() {
        // Tc 2, Tw 5 (on the space only), Tz 50: advances are halved, boxes are glyph widths.
        let pdf = helvetica_page("BT /F1 10 Tf 2 Tc 5 Tw 50 Tz 3 Ts 0 0 Td (a b) Tj ET");
        let a = (5.56 + 2.0) * 0.5;
        let space = (2.78 + 2.0 + 5.0) * 0.5;
        assert_boxes(
            &find(&pdf, "b"),
            &[[a + space, 3.0 - 2.07, a + space + 2.78, 3.0 + 7.18]],
        );
        // `"` sets Tw and Tc and moves to the next line (TL from TD).
        let pdf = helvetica_page("BT /F1 10 Tf 0 700 TD 0 -12 TD 1 2 (ab) \" ET");
        assert_boxes(
            &find(&pdf, "b"),
            &[[5.56 + 2.0, 676.0 - 2.07, 5.56 + 2.0 + 5.56, 676.0 + 7.18]],
        );
    }

    #[test]
    fn matches_span_operations_and_lines() {
        let pdf = helvetica_page(
            "BT /F1 12 Tf 72 700 Td (Signature of) Tj 0 -14 Td (Party) Tj 40 0 Td (A) Tj ET",
        );
        assert_eq!(text(&pdf), "Signature of\nParty A");
        let found = find(&pdf, "Signature of Party A");
        assert_boxes(
            &found,
            &[[
                72.0,
                686.0 - 2.484,
                72.0 + helvetica("Signature of") * 0.012,
                700.0 + 8.616,
            ]],
        );
        assert!(find(&pdf, "of Party").len() == 1);
        assert!(
            find(&pdf, "ofParty").len() == 1,
            "an implied line break may be skipped"
        );
    }

    #[test]
    fn not_found_and_empty_needles() {
        let pdf = helvetica_page("BT /F1 12 Tf 72 700 Td (Signature of Party A) Tj ET");
        assert!(find(&pdf, "Party B").is_empty());
        assert!(find(&pdf, "signature").is_empty(), "case-sensitive");
        assert!(find(&pdf, "").is_empty());
        assert!(find(&pdf, " \n ").is_empty());
        let empty = one_page("<< >>", "", &[]);
        assert!(find(&empty, "x").is_empty());
    }

    #[test]
    fn occurrences_in_content_order_and_overprint_once() {
        // Fake bold: the same text drawn twice at (almost) the same place counts once.
        let pdf = helvetica_page(
            "BT /F1 10 Tf 10 100 Td (AA) Tj ET BT /F1 10 Tf 10 50 Td (AA) Tj ET \
             BT /F1 10 Tf 10.1 50 Td (AA) Tj ET",
        );
        let found = find(&pdf, "A");
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0][1] > 90.0 && found[2][1] < 60.0);
    }

    #[test]
    fn false_starts_and_repeats() {
        let pdf = helvetica_page("BT /F1 10 Tf 0 0 Td (xx aab ababab yy) Tj ET");
        assert_eq!(find(&pdf, "ab").len(), 4);
        // Occurrences do not overlap: "ababab" holds one "abab".
        assert_eq!(find(&pdf, "abab").len(), 1);
        assert_eq!(find(&pdf, "b yy").len(), 1);
        assert_eq!(find(&pdf, "xx a").len(), 1);
    }

    #[test]
    fn type3_font_matrix() {
        let font = "<< /Type /Font /Subtype /Type3 /FontBBox [0 -10 50 40] \
                    /FontMatrix [0.02 0 0 0.02 0 0] /CharProcs << >> /FirstChar 65 \
                    /LastChar 66 /Widths [40 25] \
                    /Encoding << /Type /Encoding /Differences [65 /X /Y] >> >>";
        let pdf = one_page(
            "<< /Font << /T3 5 0 R >> >>",
            "BT /T3 10 Tf 0 0 Td (AB) Tj ET",
            &[font.to_string()],
        );
        assert_eq!(text(&pdf), "XY");
        // Widths 40 and 25 glyph units × 0.02 = 0.8 and 0.5 em; extent from /FontBBox.
        assert_boxes(&find(&pdf, "XY"), &[[0.0, -2.0, 13.0, 8.0]]);
    }

    #[test]
    fn contents_array_is_one_stream() {
        let pdf = build(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 6 0 R >> >> /Contents [4 0 R 5 0 R] >>"
                .into(),
            // The split falls between an operand and its operator.
            stream("", b"BT /F1 10 Tf 10 10 Td (Hello)"),
            stream("", b"Tj ET"),
            HELVETICA.into(),
        ]);
        assert_eq!(text(&pdf), "Hello");
    }

    #[test]
    fn limits_are_errors() {
        let pdf = helvetica_page("BT /F1 12 Tf 72 700 Td (Signature of Party A) Tj ET");
        let few_ops = TextLimits {
            max_ops: 10,
            ..TextLimits::default()
        };
        assert!(matches!(
            find_with(&pdf, "A", &few_ops).unwrap_err().kind,
            ErrorKind::Structure(_)
        ));
        let few_bytes = TextLimits {
            max_content_bytes: 20,
            ..TextLimits::default()
        };
        assert_eq!(
            find_with(&pdf, "A", &few_bytes).unwrap_err().kind,
            ErrorKind::DecodedTooLarge(20)
        );
        let deep = helvetica_page(&"q ".repeat(MAX_SAVED_STATES + 1));
        assert!(find_with(&deep, "A", &TextLimits::default()).is_err());
    }

    #[test]
    fn damaged_content_and_fonts_do_not_fail_the_search() {
        for content in [
            "BT /F1 12 Tf 72 700 Td (A) Tj ET BT /F1 Tf (x) Tj Td Tm cm ] } ) > (A",
            "BT /F9 12 Tf (A) Tj ET",
            "BT (A) Tj ET",
            "BT /F1 12 Tf [(A) /x 1e5 (A)] TJ 1 0 0 0 0 0 Tm (A) Tj ET Q Q Q",
            "BT /F1 12 Tf <41 (A) Tj ET BI /W 1 ID \x00 EI (A) Tj",
            "BT /F1 1e308 Tf 1e308 0 0 1e308 0 0 Tm (AAAA) Tj ET",
            "BT /F1 12 Tf 0 0 0 0 0 0 Tm (A) Tj ET",
        ] {
            let pdf = helvetica_page(content);
            let doc = Document::open(&pdf, Limits::default()).unwrap();
            let page = doc.page(0).unwrap();
            let result = find_text(&doc, &page, "A", &TextLimits::default());
            assert!(result.is_ok(), "{content}: {result:?}");
        }
        // A font whose ToUnicode is not a stream and whose widths are garbage still reads.
        let pdf = one_page(
            "<< /Font << /F1 5 0 R >> >>",
            "BT /F1 10 Tf (AB) Tj ET",
            &[
                "<< /Type /Font /Subtype /TrueType /BaseFont /Broken /ToUnicode 99 0 R \
               /Widths (x) /FirstChar /x /Encoding 42 >>"
                    .to_string(),
            ],
        );
        assert_eq!(text(&pdf), "AB");
    }

    #[test]
    fn cmap_parsing_details() {
        let cmap = parse_cmap(
            b"1 begincodespacerange <00> <80> endcodespacerange \
              1 beginbfrange <01> <03> <D83DDE00> endbfrange \
              1 beginbfchar <05> /fi endbfchar /WMode 1 def /Parent usecmap",
        );
        assert!(cmap.vertical);
        assert_eq!(cmap.parent.as_deref(), Some(&b"Parent"[..]));
        // The last UTF-16 unit of a range's destination increments.
        assert_eq!(cmap.unicode.get(3).as_deref(), Some("\u{1F602}"));
        assert_eq!(cmap.unicode.get(4), None);
        assert_eq!(cmap.unicode.get(5).as_deref(), Some("\u{FB01}"));
        let space = CodeSpace(cmap.codespace);
        // 0x81 lies in no range: consumed as one byte (the shortest range) all the same.
        assert_eq!(space.next(&[0x81, 0x01]), (0x81, 1));
        assert_eq!(space.next(&[0x05]), (5, 1));
        // Garbage ends the parse with what was read.
        let broken = parse_cmap(b"1 beginbfchar <01> <0041> endbfchar 1 beginbfchar <02> (");
        assert_eq!(broken.unicode.get(1).as_deref(), Some("A"));
    }

    #[test]
    fn standard_font_names() {
        assert_eq!(standard14("ABCDEF+Helvetica"), Some("Helvetica"));
        assert_eq!(standard14("Arial,Bold"), Some("Helvetica-Bold"));
        assert_eq!(
            standard14("TimesNewRomanPS-BoldItalicMT"),
            Some("Times-BoldItalic")
        );
        assert_eq!(standard14("CourierNew"), Some("Courier"));
        assert_eq!(standard14("DejaVuSans"), None);
    }
}
