//! Embedding text in an operator-configured TrueType/OpenType font.
//!
//! The standard 14 fonts only cover Latin text, so anything else we draw (a
//! Chinese organisation name in a signature appearance, say) must carry its
//! own font program. This module prepares everything a PDF writer needs for a
//! composite font as described in ISO 32000-1 §9.7: a Type0 font with
//! `/Encoding /Identity-H` whose descendant is a `CIDFontType2` (TrueType
//! outlines, `/FontFile2`) or `CIDFontType0` (CFF outlines, `/FontFile3`)
//! with `/CIDToGIDMap /Identity`, the `/W` widths (§9.7.4.3), the font
//! descriptor values (§9.8) and a ToUnicode CMap (§9.10.3) written in the
//! CMap syntax of Adobe Technical Note #5411 (and #5014), so that copied or
//! extracted text comes back as Unicode.
//!
//! The font is subset to the glyphs of the text with the `subsetter` crate,
//! which renumbers glyphs densely from 1 (0 stays `.notdef`); every CID we
//! hand out is such a new glyph id (component glyphs of composite TrueType
//! glyphs are appended after ours and never used as CIDs). For CFF fonts `subsetter` always emits a
//! CID-keyed CFF with an identity charset, so CID = GID holds there as well.
//! `subsetter` drops `cmap` and `OS/2` from the program: the CMaps live in the
//! PDF, which is all a CIDFont needs.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet, btree_map::Entry};
use std::fmt::{self, Write as _};
use std::panic;

use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;
use ttf_parser::os2::Permissions;
use ttf_parser::{Face, GlyphId, Tag, name_id};

/// Longest text [`Font::embed`] accepts, in chars. Appearance text is short;
/// the cap bounds the work done for one request and keeps the glyph count far
/// below the 65 535 CIDs that Identity-H can address.
pub const MAX_TEXT_CHARS: usize = 4096;

/// Limit of the PostScript `FontName` (and so of our `/BaseFont` after the tag).
const MAX_POSTSCRIPT_NAME: usize = 63;

/// TN #5411 limits a `beginbfchar` block to 100 entries.
const BFCHAR_BLOCK: usize = 100;

/// Font descriptor flags (ISO 32000-1 Table 123); bit n is `1 << (n - 1)`.
const FLAG_FIXED_PITCH: u32 = 0x01;
const FLAG_SYMBOLIC: u32 = 0x04;
const FLAG_ITALIC: u32 = 0x40;

/// Why a font cannot be used or a text cannot be embedded.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("cannot parse font face {index}")]
    Parse {
        index: u32,
        #[source]
        source: ttf_parser::FaceParsingError,
    },
    #[error("font face index {index} does not exist: the font file has {count} face(s)")]
    FaceIndex { index: u32, count: u32 },
    #[error("font {font:?} may not be embedded: {reason} (OS/2 fsType {fs_type:#06x})")]
    EmbeddingForbidden {
        font: String,
        fs_type: u16,
        reason: &'static str,
    },
    #[error("font {font:?} has no usable outlines: {reason}")]
    NoOutlines { font: String, reason: &'static str },
    #[error("font {font:?} is malformed: {reason}")]
    Malformed { font: String, reason: String },
    #[error("no text to embed")]
    EmptyText,
    #[error("text to embed has {len} characters, more than the limit of {max}")]
    TextTooLong { len: usize, max: usize },
    #[error("font {font:?} has no glyph for {ch:?} (U+{code:04X})", code = u32::from(*ch))]
    MissingGlyph { ch: char, font: String },
    #[error("subsetting font {font:?} failed: {reason}")]
    Subset { font: String, reason: String },
}

/// Outline format of the subset font program, which decides the CIDFont
/// subtype and the font file key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outlines {
    /// `glyf` outlines: `/Subtype /CIDFontType2`, program in `/FontFile2`.
    TrueType,
    /// CFF outlines: `/Subtype /CIDFontType0`, program in `/FontFile3` with
    /// `/Subtype /OpenType` (PDF 1.6), or the bare table from
    /// [`EmbeddedText::cff_program`] with `/Subtype /CIDFontType0C`.
    Cff,
}

/// Everything a PDF writer needs to show one text in a subset Type0 font.
///
/// Lengths and metrics are in 1/1000 em (PDF glyph space units); multiply by
/// font size / 1000 for text space.
#[derive(Clone, PartialEq)]
pub struct EmbeddedText {
    /// `ABCDEF+PostScriptName`; the tag is a hash of font and glyph set.
    pub base_font: String,
    pub outlines: Outlines,
    /// The subset font program, uncompressed.
    pub font_file: Vec<u8>,
    /// The text as 2-byte big-endian CIDs (Identity-H), for a hex string.
    pub encoded: Vec<u8>,
    /// `(cid, advance)` for each distinct CID, sorted by CID. Entries equal
    /// to `default_width` may be left out of `/W`.
    pub widths: Vec<(u16, u16)>,
    /// The most common advance among `widths`, for `/DW`.
    pub default_width: u16,
    /// Sum of the advances of all characters of the text (no kerning).
    pub advance: f64,
    /// ToUnicode CMap stream content.
    pub to_unicode: Vec<u8>,
    pub ascent: i16,
    pub descent: i16,
    pub cap_height: i16,
    /// `[x_min y_min x_max y_max]` of the whole (unsubset) font.
    pub bbox: [i16; 4],
    pub italic_angle: f32,
    pub stem_v: u16,
    /// Font descriptor `/Flags`; always has Symbolic set, as CIDFonts use no
    /// standard Latin character set.
    pub flags: u32,
}

/// Byte fields are shown by length: a stray `{:?}` in a log line should not
/// dump a font program.
impl fmt::Debug for EmbeddedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedText")
            .field("base_font", &self.base_font)
            .field("outlines", &self.outlines)
            .field("font_file_len", &self.font_file.len())
            .field("cids", &self.encoded.len().div_ceil(2))
            .field("widths", &self.widths)
            .field("default_width", &self.default_width)
            .field("advance", &self.advance)
            .field("to_unicode_len", &self.to_unicode.len())
            .field("ascent", &self.ascent)
            .field("descent", &self.descent)
            .field("cap_height", &self.cap_height)
            .field("bbox", &self.bbox)
            .field("italic_angle", &self.italic_angle)
            .field("stem_v", &self.stem_v)
            .field("flags", &self.flags)
            .finish()
    }
}

impl EmbeddedText {
    /// The bare CFF table of a CFF subset, for `/FontFile3 /Subtype
    /// /CIDFontType0C`: unlike the OpenType wrapper it is allowed before
    /// PDF 1.6 (and so in PDF/A-1).
    pub fn cff_program(&self) -> Result<Vec<u8>, FontError> {
        let malformed = |reason: &str| FontError::Malformed {
            font: self.base_font.clone(),
            reason: reason.to_owned(),
        };
        if self.outlines != Outlines::Cff {
            return Err(malformed("not a CFF font, there is no CFF program"));
        }
        let raw = ttf_parser::RawFace::parse(&self.font_file, 0)
            .map_err(|_| malformed("subset font directory does not parse"))?;
        raw.table(Tag::from_bytes(b"CFF "))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| malformed("subset font has no CFF table"))
    }
}

/// Metrics of the whole face, in 1/1000 em, computed once.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Metrics {
    ascent: i16,
    descent: i16,
    cap_height: i16,
    bbox: [i16; 4],
    italic_angle: f32,
    stem_v: u16,
    flags: u32,
}

/// A validated font face, reused for many documents.
///
/// `ttf_parser::Face` borrows the font bytes and cannot live next to them in
/// one struct without unsafe code, so the face is parsed again per call. That
/// reads only the table directory and a few headers (microseconds); the
/// checks, names and metrics are done once here.
pub struct Font {
    data: Vec<u8>,
    index: u32,
    /// SHA-256 of `data`, so that subset tags differ between font versions.
    data_digest: [u8; 32],
    postscript_name: String,
    outlines: Outlines,
    units_per_em: u16,
    metrics: Metrics,
}

impl fmt::Debug for Font {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Font")
            .field("postscript_name", &self.postscript_name)
            .field("index", &self.index)
            .field("outlines", &self.outlines)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

impl Font {
    /// Parses and checks a font. `index` is the face index inside a `.ttc`
    /// collection (0 for plain files).
    ///
    /// Refuses fonts whose OS/2 `fsType` forbids what we do with them
    /// (restricted-license embedding, no subsetting, bitmap embedding only),
    /// fonts without outlines (bitmap-only) and CFF2 fonts, which `subsetter`
    /// cannot subset without variable-font support.
    pub fn from_bytes(data: Vec<u8>, index: u32) -> Result<Font, FontError> {
        match ttf_parser::fonts_in_collection(&data) {
            // subsetter reads the collection's offset table without checking
            // the face count, so an out-of-range index must not reach it.
            Some(count) if index >= count => return Err(FontError::FaceIndex { index, count }),
            None if index != 0 => return Err(FontError::FaceIndex { index, count: 1 }),
            _ => {}
        }
        let face =
            Face::parse(&data, index).map_err(|source| FontError::Parse { index, source })?;
        let postscript_name = postscript_name(&face);
        check_license(&face, &postscript_name)?;
        let outlines = outline_kind(&face, &postscript_name)?;
        let units_per_em = face.units_per_em();
        let metrics = Metrics::of(&face);
        let data_digest = Sha256::digest(&data).into();
        Ok(Font {
            data,
            index,
            data_digest,
            postscript_name,
            outlines,
            units_per_em,
            metrics,
        })
    }

    /// The face's PostScript name (name ID 6), reduced to characters that
    /// are safe in a PDF name; used in `/BaseFont` and error messages.
    pub fn postscript_name(&self) -> &str {
        &self.postscript_name
    }

    /// Outline format of this font and of its subsets.
    pub fn outlines(&self) -> Outlines {
        self.outlines
    }

    /// Whether every char of `text` has a glyph other than `.notdef`
    /// (vacuously true for empty text).
    pub fn covers(&self, text: &str) -> bool {
        match self.face() {
            Ok(face) => text.chars().all(|ch| {
                face.glyph_index(ch)
                    .is_some_and(|g| g.0 != 0 && g.0 < face.number_of_glyphs())
            }),
            Err(_) => false,
        }
    }

    /// Subsets the font to exactly the glyphs of `text` and returns the
    /// pieces of a Type0/Identity-H font showing it.
    ///
    /// Each char is mapped through the font's `cmap` alone: no shaping, so
    /// no ligatures, contextual forms or mark positioning, which is what
    /// plain CJK and Latin names need. Repeated chars share one CID. If two
    /// different chars use the same glyph (e.g. U+0020 and U+00A0 in some
    /// fonts), the ToUnicode entry of that CID names the first of them.
    pub fn embed(&self, text: &str) -> Result<EmbeddedText, FontError> {
        let len = text.chars().count();
        if len == 0 {
            return Err(FontError::EmptyText);
        }
        if len > MAX_TEXT_CHARS {
            return Err(FontError::TextTooLong {
                len,
                max: MAX_TEXT_CHARS,
            });
        }
        let face = self.face()?;
        let glyph_count = face.number_of_glyphs();
        let glyphs = text
            .chars()
            .map(|ch| match face.glyph_index(ch) {
                Some(g) if g.0 != 0 && g.0 < glyph_count => Ok((ch, g.0)),
                // A cmap entry past the glyph count would make the subsetter
                // fail or pick garbage; name the real problem instead.
                Some(g) if g.0 != 0 => Err(FontError::Malformed {
                    font: self.postscript_name.clone(),
                    reason: format!(
                        "cmap maps U+{:04X} to glyph {} but the font has {glyph_count} glyphs",
                        u32::from(ch),
                        g.0
                    ),
                }),
                _ => Err(FontError::MissingGlyph {
                    ch,
                    font: self.postscript_name.clone(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;

        // New ids in ascending old-id order make the subset depend only on
        // the glyph set, so equal sets give byte-identical programs and tags.
        let glyph_set: BTreeSet<u16> = glyphs.iter().map(|(_, g)| *g).collect();
        let mut remapper = GlyphRemapper::new();
        for gid in &glyph_set {
            remapper.remap(*gid);
        }

        let mut encoded = Vec::with_capacity(len.saturating_mul(2));
        let mut first_char: BTreeMap<u16, char> = BTreeMap::new();
        let mut widths: BTreeMap<u16, u16> = BTreeMap::new();
        let mut advance = 0.0;
        for (ch, gid) in glyphs {
            let cid = remapper.get(gid).ok_or_else(|| FontError::Subset {
                font: self.postscript_name.clone(),
                reason: format!("glyph {gid} was not remapped"),
            })?;
            encoded.extend_from_slice(&cid.to_be_bytes());
            first_char.entry(cid).or_insert(ch);
            let width = match widths.entry(cid) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => *e.insert(self.advance_of(&face, gid)?),
            };
            advance += f64::from(width);
        }

        let font_file = self.subset(&remapper)?;
        self.verify_subset(&face, &font_file, &glyph_set, &remapper)?;

        let widths: Vec<(u16, u16)> = widths.into_iter().collect();
        let m = self.metrics;
        Ok(EmbeddedText {
            base_font: format!("{}+{}", self.subset_tag(&glyph_set), self.postscript_name),
            outlines: self.outlines,
            font_file,
            encoded,
            default_width: most_common_width(&widths),
            widths,
            advance,
            to_unicode: to_unicode_cmap(&first_char),
            ascent: m.ascent,
            descent: m.descent,
            cap_height: m.cap_height,
            bbox: m.bbox,
            italic_angle: m.italic_angle,
            stem_v: m.stem_v,
            flags: m.flags,
        })
    }

    fn face(&self) -> Result<Face<'_>, FontError> {
        Face::parse(&self.data, self.index).map_err(|source| FontError::Parse {
            index: self.index,
            source,
        })
    }

    fn advance_of(&self, face: &Face<'_>, gid: u16) -> Result<u16, FontError> {
        let units = face
            .glyph_hor_advance(GlyphId(gid))
            .ok_or_else(|| FontError::Malformed {
                font: self.postscript_name.clone(),
                reason: format!("no horizontal advance for glyph {gid}"),
            })?;
        // Saturating float-to-int cast; advances are non-negative.
        Ok(to_milli(f64::from(units), self.units_per_em) as u16)
    }

    fn subset(&self, remapper: &GlyphRemapper) -> Result<Vec<u8>, FontError> {
        // subsetter has unwrap/panic paths (CFF number writing, table
        // dispatch). The font comes from configuration, but a bad one must
        // surface as an error for this document, not kill the signing worker.
        let result = panic::catch_unwind(|| subsetter::subset(&self.data, self.index, remapper));
        let reason = match result {
            Ok(Ok(program)) => return Ok(program),
            Ok(Err(e)) => e.to_string(),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("subsetter panicked: {message}")
            }
        };
        Err(FontError::Subset {
            font: self.postscript_name.clone(),
            reason,
        })
    }

    /// Re-reads the subset and checks that every CID we return names the
    /// glyph we meant: a remapping mistake here would silently show wrong
    /// characters in a signed document.
    fn verify_subset(
        &self,
        face: &Face<'_>,
        program: &[u8],
        glyph_set: &BTreeSet<u16>,
        remapper: &GlyphRemapper,
    ) -> Result<(), FontError> {
        let fail = |reason: String| FontError::Subset {
            font: self.postscript_name.clone(),
            reason,
        };
        let sub =
            Face::parse(program, 0).map_err(|e| fail(format!("subset does not parse: {e}")))?;
        let cff = match self.outlines {
            Outlines::TrueType if sub.tables().glyf.is_some() => None,
            Outlines::Cff => Some(
                sub.tables()
                    .cff
                    .ok_or_else(|| fail("subset has no CFF table".to_owned()))?,
            ),
            Outlines::TrueType => return Err(fail("subset has no glyf table".to_owned())),
        };
        for &gid in glyph_set {
            let cid = remapper
                .get(gid)
                .ok_or_else(|| fail(format!("glyph {gid} was not remapped")))?;
            let old = face.glyph_hor_advance(GlyphId(gid));
            let new = sub.glyph_hor_advance(GlyphId(cid));
            if old != new {
                return Err(fail(format!(
                    "glyph {gid} became {cid} but its advance changed ({old:?} to {new:?})"
                )));
            }
            if let Some(cff) = cff {
                let mapped = cff.glyph_cid(GlyphId(cid));
                if mapped != Some(cid) {
                    return Err(fail(format!(
                        "CFF glyph {cid} has CID {mapped:?}; Identity needs CID = GID"
                    )));
                }
            }
        }
        Ok(())
    }

    fn subset_tag(&self, glyph_set: &BTreeSet<u16>) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.data_digest);
        hasher.update(self.index.to_be_bytes());
        for gid in glyph_set {
            hasher.update(gid.to_be_bytes());
        }
        hasher
            .finalize()
            .iter()
            .take(6)
            .map(|b| char::from(b'A'.wrapping_add(b.checked_rem(26).unwrap_or(0))))
            .collect()
    }
}

impl Metrics {
    fn of(face: &Face<'_>) -> Metrics {
        let upem = face.units_per_em();
        let scale = |v: i16| to_milli(f64::from(v), upem) as i16;
        let ascent = face.ascender();
        // OS/2 before version 2 has no cap height; the top of "H" is what
        // the value means, and the ascent is the last resort (CJK-only fonts).
        let cap_height = face
            .capital_height()
            .filter(|h| *h > 0)
            .or_else(|| {
                face.glyph_index('H')
                    .and_then(|g| face.glyph_bounding_box(g))
                    .map(|r| r.y_max)
            })
            .unwrap_or(ascent);
        let bbox = face.global_bounding_box();
        let italic_angle = face.italic_angle();
        // TrueType/CFF-in-OpenType carry no StemV; this is the weight-based
        // estimate also used by typst and others (400 → 95, 700 → 169).
        let weight = f64::from(face.weight().to_number());
        let stem_v = (10.0 + 0.244 * (weight - 50.0)).round().max(0.0) as u16;
        let mut flags = FLAG_SYMBOLIC;
        if face.is_monospaced() {
            flags |= FLAG_FIXED_PITCH;
        }
        if face.is_italic() || italic_angle != 0.0 {
            flags |= FLAG_ITALIC;
        }
        Metrics {
            ascent: scale(ascent),
            descent: scale(face.descender()),
            cap_height: scale(cap_height),
            bbox: [
                scale(bbox.x_min),
                scale(bbox.y_min),
                scale(bbox.x_max),
                scale(bbox.y_max),
            ],
            italic_angle,
            stem_v,
            flags,
        }
    }
}

/// Font units to 1/1000 em, rounded. `units_per_em` is never 0: ttf-parser
/// rejects `head` tables outside 16..=16384.
fn to_milli(units: f64, units_per_em: u16) -> f64 {
    (units * 1000.0 / f64::from(units_per_em.max(1))).round()
}

fn check_license(face: &Face<'_>, font: &str) -> Result<(), FontError> {
    let Some(os2) = face.tables().os2 else {
        // No OS/2 table (old Apple fonts): no restrictions are declared.
        return Ok(());
    };
    let fs_type = face
        .raw_face()
        .table(Tag::from_bytes(b"OS/2"))
        .and_then(|t| t.get(8..10))
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map_or(0, u16::from_be_bytes);
    let forbid = |reason| {
        Err(FontError::EmbeddingForbidden {
            font: font.to_owned(),
            fs_type,
            reason,
        })
    };
    // ttf-parser applies the OpenType rules: before OS/2 v3 the least
    // restrictive usage bit wins; from v3 on the bits are exclusive and a
    // combination is invalid (None), which we treat as not permitted.
    match os2.permissions() {
        Some(Permissions::Restricted) => {
            return forbid("restricted license embedding (bit 0x0002)");
        }
        None => return forbid("invalid combination of embedding permission bits"),
        Some(_) => {}
    }
    // Read the raw bits: ttf-parser ignores them before OS/2 v2, where they
    // were reserved, but a vendor who set them meant them.
    if fs_type & 0x0100 != 0 {
        return forbid("the font must not be subset (bit 0x0100)");
    }
    if fs_type & 0x0200 != 0 {
        return forbid("only bitmaps may be embedded (bit 0x0200)");
    }
    Ok(())
}

fn outline_kind(face: &Face<'_>, font: &str) -> Result<Outlines, FontError> {
    let raw = face.raw_face();
    let has = |tag: &[u8; 4]| raw.table(Tag::from_bytes(tag)).is_some();
    let malformed = |reason: &str| FontError::Malformed {
        font: font.to_owned(),
        reason: reason.to_owned(),
    };
    // Same precedence as subsetter, which picks glyf before CFF.
    if has(b"glyf") {
        face.tables()
            .glyf
            .map(|_| Outlines::TrueType)
            .ok_or_else(|| malformed("glyf/loca tables do not parse"))
    } else if has(b"CFF ") {
        face.tables()
            .cff
            .map(|_| Outlines::Cff)
            .ok_or_else(|| malformed("CFF table does not parse"))
    } else if has(b"CFF2") {
        Err(FontError::NoOutlines {
            font: font.to_owned(),
            reason: "CFF2 outlines are not supported; use a TrueType or CFF version of the font",
        })
    } else {
        Err(FontError::NoOutlines {
            font: font.to_owned(),
            reason: "no glyf or CFF table (bitmap-only font?)",
        })
    }
}

/// PostScript name from the `name` table (Unicode or Mac Roman records),
/// falling back to the family name, kept to the characters PostScript and
/// PDF names allow without escaping.
fn postscript_name(face: &Face<'_>) -> String {
    let find = |id: u16| {
        face.names()
            .into_iter()
            .filter(|n| n.name_id == id)
            .find_map(|n| {
                n.to_string().or_else(|| {
                    // Mac Roman records (platform 1, encoding 0) are ASCII for
                    // the characters a PostScript name may contain.
                    (n.platform_id == ttf_parser::PlatformId::Macintosh && n.encoding_id == 0)
                        .then(|| n.name.iter().map(|&b| char::from(b)).collect())
                })
            })
            .map(|s: String| sanitize_name(&s))
            .filter(|s| !s.is_empty())
    };
    find(name_id::POST_SCRIPT_NAME)
        .or_else(|| find(name_id::FAMILY))
        .unwrap_or_else(|| "Unnamed".to_owned())
}

fn sanitize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic() && !"()<>[]{}/%#".contains(*c))
        .take(MAX_POSTSCRIPT_NAME)
        .collect()
}

/// The width used by most CIDs (the smaller one on a tie), for `/DW`.
fn most_common_width(widths: &[(u16, u16)]) -> u16 {
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    for (_, w) in widths {
        let n = counts.entry(*w).or_insert(0);
        *n = n.saturating_add(1);
    }
    counts
        .into_iter()
        .max_by_key(|(w, n)| (*n, std::cmp::Reverse(*w)))
        .map_or(1000, |(w, _)| w)
}

/// A ToUnicode CMap (TN #5411 syntax, the layout of TN #5014's examples)
/// mapping each 2-byte CID to the UTF-16BE of its char.
fn to_unicode_cmap(first_char: &BTreeMap<u16, char>) -> Vec<u8> {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n\
         12 dict begin\n\
         begincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n\
         /CMapType 2 def\n\
         1 begincodespacerange\n\
         <0000> <FFFF>\n\
         endcodespacerange\n",
    );
    let entries: Vec<(&u16, &char)> = first_char.iter().collect();
    for block in entries.chunks(BFCHAR_BLOCK) {
        // Writing to a String cannot fail.
        let _ = writeln!(s, "{} beginbfchar", block.len());
        for (cid, ch) in block {
            let _ = write!(s, "<{cid:04X}> <");
            for unit in ch.encode_utf16(&mut [0; 2]) {
                let _ = write!(s, "{unit:04X}");
            }
            s.push_str(">\n");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str(
        "endcmap\n\
         CMapName currentdict /CMap defineresource pop\n\
         end\n\
         end\n",
    );
    s.into_bytes()
}

/// A compact `/W` array (ISO 32000-1 §9.7.4.3), brackets included.
///
/// Consecutive CIDs are grouped as `c [w1 w2 …]`; a run of three or more
/// consecutive CIDs with one width becomes `c_first c_last w`. The input is
/// sorted and de-duplicated by CID first (the first width of a CID wins).
pub fn pdf_widths_array(widths: &[(u16, u16)]) -> String {
    let mut sorted = widths.to_vec();
    sorted.sort_by_key(|(cid, _)| *cid);
    sorted.dedup_by_key(|(cid, _)| *cid);

    let mut items: Vec<String> = Vec::new();
    let flush = |pending: &mut Vec<(u16, u16)>, items: &mut Vec<String>| {
        if let Some((first, _)) = pending.first() {
            let list: Vec<String> = pending.iter().map(|(_, w)| w.to_string()).collect();
            items.push(format!("{first} [{}]", list.join(" ")));
            pending.clear();
        }
    };
    for run in sorted.chunk_by(|a, b| a.0.checked_add(1) == Some(b.0)) {
        let mut pending: Vec<(u16, u16)> = Vec::new();
        for same in run.chunk_by(|a, b| a.1 == b.1) {
            match (same.first(), same.last()) {
                (Some((first, w)), Some((last, _))) if same.len() >= 3 => {
                    flush(&mut pending, &mut items);
                    items.push(format!("{first} {last} {w}"));
                }
                _ => pending.extend_from_slice(same),
            }
        }
        flush(&mut pending, &mut items);
    }
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const WQY: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
    const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    const NIMBUS_OTF: &str = "/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf";
    const CJK_TEXT: &str = "腾讯电子签 Tencent 有限公司";

    fn font_bytes(path: &str, package: &str) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| {
            panic!("test font {path} unreadable ({e}); install it: apt-get install {package}")
        })
    }

    fn wqy() -> Font {
        Font::from_bytes(font_bytes(WQY, "fonts-wqy-microhei"), 0).unwrap()
    }

    fn dejavu() -> Font {
        Font::from_bytes(font_bytes(DEJAVU, "fonts-dejavu-core"), 0).unwrap()
    }

    fn nimbus() -> Font {
        Font::from_bytes(font_bytes(NIMBUS_OTF, "fonts-urw-base35"), 0).unwrap()
    }

    /// Records an outline so that glyphs of two fonts can be compared.
    #[derive(Default, PartialEq, Debug)]
    struct Path2(Vec<(char, [i32; 6])>);

    impl ttf_parser::OutlineBuilder for Path2 {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.push(('M', [x as i32, y as i32, 0, 0, 0, 0]));
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.push(('L', [x as i32, y as i32, 0, 0, 0, 0]));
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0
                .push(('Q', [x1 as i32, y1 as i32, x as i32, y as i32, 0, 0]));
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            let p = [x1, y1, x2, y2, x, y].map(|v| v as i32);
            self.0.push(('C', p));
        }
        fn close(&mut self) {
            self.0.push(('Z', [0; 6]));
        }
    }

    fn outline(face: &Face<'_>, gid: u16) -> Path2 {
        let mut p = Path2::default();
        face.outline_glyph(GlyphId(gid), &mut p);
        p
    }

    fn cids(e: &EmbeddedText) -> Vec<u16> {
        e.encoded
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    /// Minimal reader for our own ToUnicode output: `<cid> <utf16be>` lines.
    fn parse_to_unicode(cmap: &[u8]) -> BTreeMap<u16, String> {
        let text = std::str::from_utf8(cmap).unwrap();
        assert!(text.contains("/CMapName /Adobe-Identity-UCS def"));
        assert!(text.contains("<0000> <FFFF>"));
        let mut map = BTreeMap::new();
        let mut in_block = false;
        for line in text.lines() {
            if line.ends_with("beginbfchar") {
                let n: usize = line.split(' ').next().unwrap().parse().unwrap();
                assert!((1..=100).contains(&n));
                in_block = true;
            } else if line == "endbfchar" {
                in_block = false;
            } else if in_block {
                let (src, dst) = line.split_once(' ').unwrap();
                let cid = u16::from_str_radix(src.trim_matches(['<', '>']), 16).unwrap();
                let hex = dst.trim_matches(['<', '>']);
                let units: Vec<u16> = (0..hex.len())
                    .step_by(4)
                    .map(|i| u16::from_str_radix(&hex[i..i + 4], 16).unwrap())
                    .collect();
                assert!(
                    map.insert(cid, String::from_utf16(&units).unwrap())
                        .is_none()
                );
            }
        }
        map
    }

    fn decode_with_to_unicode(e: &EmbeddedText) -> String {
        let map = parse_to_unicode(&e.to_unicode);
        cids(e).iter().map(|c| map[c].as_str()).collect()
    }

    /// Every CID shows the glyph, with the advance, that the original font
    /// has for the corresponding char.
    fn assert_subset_faithful(font: &Font, text: &str, e: &EmbeddedText) {
        let original = Face::parse(&font.data, font.index).unwrap();
        let subset = Face::parse(&e.font_file, 0).unwrap();
        let widths: BTreeMap<u16, u16> = e.widths.iter().copied().collect();
        let mut sum = 0.0;
        for (ch, cid) in text.chars().zip(cids(e)) {
            let old = original.glyph_index(ch).unwrap().0;
            assert!(
                cid != 0 && cid < subset.number_of_glyphs(),
                "{ch}: cid {cid}"
            );
            assert_eq!(outline(&original, old), outline(&subset, cid), "{ch}");
            assert_eq!(
                original.glyph_hor_advance(GlyphId(old)),
                subset.glyph_hor_advance(GlyphId(cid)),
                "{ch}"
            );
            let expected = (f64::from(original.glyph_hor_advance(GlyphId(old)).unwrap()) * 1000.0
                / f64::from(original.units_per_em()))
            .round() as u16;
            assert_eq!(widths[&cid], expected, "{ch}");
            sum += f64::from(expected);
        }
        assert_eq!(e.advance, sum);
        assert!(e.widths.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(e.encoded.len(), text.chars().count() * 2);
    }

    #[test]
    fn cjk_subset_from_ttc_is_faithful_and_small() {
        let font = wqy();
        assert_eq!(font.postscript_name(), "WenQuanYiMicroHei");
        assert_eq!(font.outlines(), Outlines::TrueType);
        assert!(font.covers(CJK_TEXT));
        let e = font.embed(CJK_TEXT).unwrap();
        assert_eq!(e.outlines, Outlines::TrueType);
        assert_subset_faithful(&font, CJK_TEXT, &e);

        // Repeated chars (space, 'e', 'n') share a CID; CIDs are 1..=15.
        let distinct: BTreeSet<char> = CJK_TEXT.chars().collect();
        assert_eq!(distinct.len(), 15);
        assert_eq!(e.widths.len(), distinct.len());
        assert_eq!(e.widths.last().unwrap().0, 15);
        // wqy-microhei builds many ideographs from component glyphs; the
        // subsetter appends those after our CIDs.
        let subset = Face::parse(&e.font_file, 0).unwrap();
        assert!(usize::from(subset.number_of_glyphs()) > distinct.len());
        assert!(
            e.font_file.len() * 100 < font.data.len(),
            "subset {} bytes vs original {}",
            e.font_file.len(),
            font.data.len()
        );

        let (tag, name) = e.base_font.split_once('+').unwrap();
        assert_eq!(name, "WenQuanYiMicroHei");
        assert!(tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()));
        assert_eq!(e.default_width, 1000, "CJK ideographs are full width");
        assert_eq!(e.flags & FLAG_SYMBOLIC, FLAG_SYMBOLIC);
        assert!(e.ascent > 0 && e.descent < 0 && e.cap_height > 0);
        assert!(e.bbox[0] < e.bbox[2] && e.bbox[1] < e.bbox[3]);
        println!(
            "wqy: original {} bytes, subset {} bytes; {e:?}",
            font.data.len(),
            e.font_file.len()
        );
    }

    #[test]
    fn second_face_of_collection_is_used() {
        let data = font_bytes(WQY, "fonts-wqy-microhei");
        let mono = Font::from_bytes(data.clone(), 1).unwrap();
        assert_ne!(mono.postscript_name(), wqy().postscript_name());
        let e = mono.embed(CJK_TEXT).unwrap();
        assert_subset_faithful(&mono, CJK_TEXT, &e);
        assert!(matches!(
            Font::from_bytes(data, 2),
            Err(FontError::FaceIndex { index: 2, count: 2 })
        ));
    }

    #[test]
    fn to_unicode_round_trips() {
        let font = wqy();
        for text in [CJK_TEXT, "签签签", "A", "有限公司（北京）"] {
            let e = font.embed(text).unwrap();
            assert_eq!(decode_with_to_unicode(&e), text);
        }
        // More than one bfchar block.
        let dejavu = dejavu();
        let many: String = ('\u{21}'..='\u{7E}').chain('\u{A1}'..='\u{17F}').collect();
        let e = dejavu.embed(&many).unwrap();
        assert!(e.widths.len() > 2 * BFCHAR_BLOCK);
        assert_eq!(decode_with_to_unicode(&e), many);
    }

    #[test]
    fn to_unicode_uses_surrogate_pairs_beyond_bmp() {
        let map = BTreeMap::from([(1, '\u{20BB7}'), (2, 'A')]);
        let cmap = String::from_utf8(to_unicode_cmap(&map)).unwrap();
        assert!(cmap.contains("2 beginbfchar\n<0001> <D842DFB7>\n<0002> <0041>\nendbfchar\n"));
        let parsed = parse_to_unicode(cmap.as_bytes());
        assert_eq!(parsed[&1], "\u{20BB7}");
    }

    #[test]
    fn repeated_chars_share_one_cid() {
        let e = wqy().embed("签签签").unwrap();
        assert_eq!(e.encoded, [0, 1, 0, 1, 0, 1]);
        assert_eq!(e.widths, [(1, 1000)]);
        assert_eq!(e.advance, 3000.0);
    }

    #[test]
    fn dejavu_sans_works() {
        let font = dejavu();
        assert_eq!(font.postscript_name(), "DejaVuSans");
        let text = "Signed by Zoë Æther — 2024-05-01 ĄŁŻ Ωμ";
        let e = font.embed(text).unwrap();
        assert_subset_faithful(&font, text, &e);
        assert_eq!(decode_with_to_unicode(&e), text);
        assert!(e.font_file.len() * 20 < font.data.len());
        println!("dejavu: original {} bytes, {e:?}", font.data.len());
        assert!(!format!("{e:?}").contains("font_file:"));
        assert!(!font.covers("签"));
    }

    #[test]
    fn cff_font_is_subset_as_cid_keyed_cff() {
        let font = nimbus();
        assert_eq!(font.outlines(), Outlines::Cff);
        let text = "Grüße aus Köln – 5 €";
        let e = font.embed(text).unwrap();
        assert_eq!(e.outlines, Outlines::Cff);
        assert_eq!(&e.font_file[..4], b"OTTO");
        assert_subset_faithful(&font, text, &e);
        assert_eq!(decode_with_to_unicode(&e), text);
        println!("nimbus: original {} bytes, {e:?}", font.data.len());
        let cff = e.cff_program().unwrap();
        assert_eq!(cff[0], 1, "CFF major version");
        assert!(wqy().embed("A").unwrap().cff_program().is_err());
    }

    #[test]
    fn embedding_is_deterministic_per_glyph_set() {
        let font = wqy();
        let a = font.embed("有限公司").unwrap();
        let b = font.embed("公司有限").unwrap();
        let c = font.embed("有限公").unwrap();
        assert_eq!(a.base_font, b.base_font);
        assert_eq!(a.font_file, b.font_file);
        assert_ne!(a.encoded, b.encoded);
        assert_ne!(a.base_font, c.base_font);
        assert_eq!(font.embed("有限公司").unwrap(), a);
    }

    #[test]
    fn errors() {
        let font = wqy();
        assert!(matches!(font.embed(""), Err(FontError::EmptyText)));
        let missing = dejavu().embed("Tencent 腾讯").unwrap_err();
        assert!(
            matches!(missing, FontError::MissingGlyph { ch: '腾', ref font } if font == "DejaVuSans")
        );
        assert_eq!(
            missing.to_string(),
            "font \"DejaVuSans\" has no glyph for '腾' (U+817E)"
        );
        assert!(matches!(
            font.embed("a\nb"),
            Err(FontError::MissingGlyph { ch: '\n', .. })
        ));
        assert!(!font.covers("a\nb"));
        let long = "签".repeat(MAX_TEXT_CHARS + 1);
        assert!(matches!(
            font.embed(&long),
            Err(FontError::TextTooLong {
                len: 4097,
                max: 4096
            })
        ));
        assert!(font.embed(&"签".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(matches!(
            Font::from_bytes(b"not a font at all".to_vec(), 0),
            Err(FontError::Parse { .. })
        ));
        assert!(matches!(
            Font::from_bytes(font_bytes(DEJAVU, "fonts-dejavu-core"), 1),
            Err(FontError::FaceIndex { index: 1, count: 1 })
        ));
        let mut truncated = font_bytes(DEJAVU, "fonts-dejavu-core");
        truncated.truncate(4000);
        assert!(Font::from_bytes(truncated, 0).is_err());
    }

    /// Offset of a table in a plain sfnt, from its table directory.
    fn table_record(data: &[u8], tag: &[u8; 4]) -> usize {
        let count = usize::from(u16::from_be_bytes([data[4], data[5]]));
        (0..count)
            .map(|i| 12 + 16 * i)
            .find(|&rec| &data[rec..rec + 4] == tag)
            .unwrap()
    }

    fn with_fs_type(fs_type: u16) -> Result<Font, FontError> {
        let mut data = font_bytes(DEJAVU, "fonts-dejavu-core");
        let rec = table_record(&data, b"OS/2");
        let offset = u32::from_be_bytes(data[rec + 8..rec + 12].try_into().unwrap()) as usize;
        data[offset + 8..offset + 10].copy_from_slice(&fs_type.to_be_bytes());
        Font::from_bytes(data, 0)
    }

    #[test]
    fn license_bits_are_enforced() {
        let err = with_fs_type(0x0002).unwrap_err();
        assert!(matches!(
            err,
            FontError::EmbeddingForbidden {
                fs_type: 0x0002,
                ..
            }
        ));
        assert!(err.to_string().contains("restricted license"), "{err}");
        assert!(with_fs_type(0x0000).is_ok());
        assert!(with_fs_type(0x0004).is_ok(), "preview & print embedding");
        assert!(with_fs_type(0x0008).is_ok(), "editable embedding");
        assert!(matches!(
            with_fs_type(0x0104),
            Err(FontError::EmbeddingForbidden { .. })
        ));
        assert!(matches!(
            with_fs_type(0x0204),
            Err(FontError::EmbeddingForbidden { .. })
        ));
    }

    #[test]
    fn fonts_without_outlines_are_refused() {
        let mut data = font_bytes(DEJAVU, "fonts-dejavu-core");
        let rec = table_record(&data, b"glyf");
        // Renaming keeps the directory sorted ("glyg" < "head").
        data[rec..rec + 4].copy_from_slice(b"glyg");
        let err = Font::from_bytes(data, 0).unwrap_err();
        assert!(matches!(err, FontError::NoOutlines { .. }), "{err}");
    }

    #[test]
    fn cmap_pointing_past_the_glyphs_is_an_error() {
        let mut data = font_bytes(DEJAVU, "fonts-dejavu-core");
        let rec = table_record(&data, b"maxp");
        let offset = u32::from_be_bytes(data[rec + 8..rec + 12].try_into().unwrap()) as usize;
        data[offset + 4..offset + 6].copy_from_slice(&10u16.to_be_bytes());
        let font = Font::from_bytes(data, 0).unwrap();
        assert!(!font.covers("A"));
        let err = font.embed("A").unwrap_err();
        assert!(matches!(err, FontError::Malformed { .. }), "{err}");
    }

    #[test]
    fn cff2_fonts_are_refused() {
        let mut data = font_bytes(NIMBUS_OTF, "fonts-urw-base35");
        let rec = table_record(&data, b"CFF ");
        // Still sorted: "CFF2" sorts before every other tag of the font.
        data[rec..rec + 4].copy_from_slice(b"CFF2");
        let err = Font::from_bytes(data, 0).unwrap_err();
        assert!(err.to_string().contains("CFF2"), "{err}");
    }

    #[test]
    fn font_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Font>();
        check::<EmbeddedText>();
    }

    #[test]
    fn widths_array_is_compact() {
        assert_eq!(pdf_widths_array(&[]), "[]");
        assert_eq!(pdf_widths_array(&[(1, 500)]), "[1 [500]]");
        assert_eq!(
            pdf_widths_array(&[(1, 500), (2, 600), (5, 700)]),
            "[1 [500 600] 5 [700]]"
        );
        assert_eq!(
            pdf_widths_array(&[(1, 1000), (2, 1000), (3, 1000), (4, 500), (5, 600)]),
            "[1 3 1000 4 [500 600]]"
        );
        assert_eq!(
            pdf_widths_array(&[(9, 1), (7, 2), (8, 3), (7, 4)]),
            "[7 [2 3 1]]"
        );
        assert_eq!(pdf_widths_array(&[(65534, 1), (65535, 2)]), "[65534 [1 2]]");
    }

    // ---- end to end: a hand-made PDF read back by poppler ----

    fn tool(name: &str) -> Command {
        let probe = Command::new(name).arg("-v").output();
        if probe.is_err() {
            panic!("`{name}` not found: install poppler-utils (apt-get install poppler-utils)");
        }
        Command::new(name)
    }

    /// One page showing `e` at 24 pt, with the objects of ISO 32000-1 §9.7.
    fn one_page_pdf(e: &EmbeddedText, bare_cff: bool) -> Vec<u8> {
        let size = 24.0;
        let width = (e.advance * size / 1000.0).ceil() + 40.0;
        let hex: String = e.encoded.iter().map(|b| format!("{b:02X}")).collect();
        let content = format!("BT /F1 {size} Tf 20 30 Td <{hex}> Tj ET\n");
        let (subtype, file_key, file_dict, program) = match (e.outlines, bare_cff) {
            (Outlines::TrueType, _) => (
                "CIDFontType2",
                "FontFile2",
                format!("/Length1 {}", e.font_file.len()),
                e.font_file.clone(),
            ),
            (Outlines::Cff, false) => (
                "CIDFontType0",
                "FontFile3",
                "/Subtype /OpenType".to_owned(),
                e.font_file.clone(),
            ),
            (Outlines::Cff, true) => (
                "CIDFontType0",
                "FontFile3",
                "/Subtype /CIDFontType0C".to_owned(),
                e.cff_program().unwrap(),
            ),
        };
        let cid_to_gid = if e.outlines == Outlines::TrueType {
            "/CIDToGIDMap /Identity"
        } else {
            ""
        };
        let stream = |dict: String, data: &[u8]| -> Vec<u8> {
            let mut v = format!("<< /Length {} {dict} >>\nstream\n", data.len()).into_bytes();
            v.extend_from_slice(data);
            v.extend_from_slice(b"\nendstream");
            v
        };
        let [x0, y0, x1, y1] = e.bbox;
        let objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} 80] \
                 /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            )
            .into_bytes(),
            stream(String::new(), content.as_bytes()),
            format!(
                "<< /Type /Font /Subtype /Type0 /BaseFont /{bf} /Encoding /Identity-H \
                 /DescendantFonts [6 0 R] /ToUnicode 9 0 R >>",
                bf = e.base_font
            )
            .into_bytes(),
            format!(
                "<< /Type /Font /Subtype /{subtype} /BaseFont /{bf} \
                 /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
                 /FontDescriptor 7 0 R /DW {dw} /W {w} {cid_to_gid} >>",
                bf = e.base_font,
                dw = e.default_width,
                w = pdf_widths_array(&e.widths)
            )
            .into_bytes(),
            format!(
                "<< /Type /FontDescriptor /FontName /{bf} /Flags {flags} \
                 /FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle {ia} /Ascent {a} /Descent {d} \
                 /CapHeight {ch} /StemV {sv} /{file_key} 8 0 R >>",
                bf = e.base_font,
                flags = e.flags,
                ia = e.italic_angle,
                a = e.ascent,
                d = e.descent,
                ch = e.cap_height,
                sv = e.stem_v
            )
            .into_bytes(),
            stream(file_dict, &program),
            stream(String::new(), &e.to_unicode),
        ];
        let mut pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            pdf.extend_from_slice(body);
            pdf.extend_from_slice(b"\nendobj\n");
        }
        let xref = pdf.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for off in offsets {
            table.push_str(&format!("{off:010} 00000 n \n"));
        }
        table.push_str(&format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        ));
        pdf.extend_from_slice(table.as_bytes());
        pdf
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sigillum-font-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn run(cmd: &mut Command) -> String {
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{cmd:?} failed: {stderr}");
        assert!(stderr.trim().is_empty(), "{cmd:?} complained: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// Dark pixels of a binary PGM (P5, 8 bit) as written by pdftoppm -gray.
    fn dark_pixels(pgm: &Path) -> (usize, usize) {
        let data = std::fs::read(pgm).unwrap();
        let mut fields = Vec::new();
        let mut pos = 0;
        while fields.len() < 4 {
            while data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            let start = pos;
            while !data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            fields.push(std::str::from_utf8(&data[start..pos]).unwrap().to_owned());
        }
        assert_eq!(fields[0], "P5");
        assert_eq!(fields[3], "255");
        let pixels = &data[pos + 1..];
        let total: usize =
            fields[1].parse::<usize>().unwrap() * fields[2].parse::<usize>().unwrap();
        assert_eq!(pixels.len(), total);
        (pixels.iter().filter(|&&p| p < 128).count(), total)
    }

    fn assert_poppler_reads_back(font: &Font, text: &str, name: &str, bare_cff: bool, kind: &str) {
        let e = font.embed(text).unwrap();
        let dir = scratch(name);
        let pdf = dir.join("page.pdf");
        std::fs::write(&pdf, one_page_pdf(&e, bare_cff)).unwrap();

        let extracted = run(tool("pdftotext").args(["-enc", "UTF-8"]).arg(&pdf).arg("-"));
        assert_eq!(extracted.trim_end_matches(['\n', '\x0c']), text);

        let fonts = run(tool("pdffonts").arg(&pdf));
        let line = fonts.lines().find(|l| l.starts_with(&e.base_font)).unwrap();
        let (font_type, rest) = line[e.base_font.len()..].split_once("Identity-H").unwrap();
        assert_eq!(font_type.trim(), kind, "{line}");
        let flags: Vec<&str> = rest.split_whitespace().take(3).collect();
        assert_eq!(flags, ["yes"; 3], "embedded, subset, ToUnicode: {line}");

        let prefix = dir.join("page");
        run(tool("pdftoppm")
            .args(["-r", "50", "-gray", "-singlefile"])
            .arg(&pdf)
            .arg(&prefix));
        let (dark, total) = dark_pixels(&prefix.with_extension("pgm"));
        assert!(
            dark > 30 && dark < total / 2,
            "{dark} dark of {total} pixels"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn end_to_end_cjk_truetype_collection() {
        assert_poppler_reads_back(&wqy(), CJK_TEXT, "wqy", false, "CID TrueType");
    }

    #[test]
    fn end_to_end_dejavu() {
        let text = "Signed by Zoë Æther — 2024-05-01";
        assert_poppler_reads_back(&dejavu(), text, "dejavu", false, "CID TrueType");
    }

    #[test]
    fn end_to_end_cff_opentype_and_bare_cff() {
        let text = "Grüße aus Köln – 5 €";
        assert_poppler_reads_back(&nimbus(), text, "otf", false, "CID Type 0C (OT)");
        assert_poppler_reads_back(&nimbus(), text, "cff", true, "CID Type 0C");
    }
}
