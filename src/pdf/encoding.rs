//! Simple-font encodings, glyph names and standard-14 metrics.
//!
//! Keyword search has to turn the bytes of a simple font's strings back into
//! text, and the seal/date text we draw with a standard font has to be encoded
//! and measured. Both rest on the same data: the four predefined Latin
//! encodings of ISO 32000-1 Annex D (StandardEncoding, MacRomanEncoding,
//! WinAnsiEncoding, PDFDocEncoding; §9.6.6 for their use), the Adobe Glyph
//! List (AGL 2.0) with its naming rules for `uniXXXX`, `uXXXX[XX]`, ligature
//! (`f_f`) and suffixed (`a.sc`) names, and the advance widths of the 14
//! standard Type 1 fonts (§9.6.2.2) from Adobe's Core14 AFM files.
//!
//! The tables at the bottom are generated (see the comment above them); this
//! module only adds lookups. It allocates only for the returned strings.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]

/// Glyph name for `code` in WinAnsiEncoding (ISO 32000-1 Table D.2).
///
/// Follows the table's footnotes, as viewers do: 0xA0 is `space`, 0xAD is
/// `hyphen`, and the unassigned codes above 0x20 (0x7F, 0x81, 0x8D, 0x8F,
/// 0x90, 0x9D) render as `bullet`.
pub fn win_ansi(code: u8) -> Option<&'static str> {
    match code {
        0x20..=0x7E => ascii(code),
        0x7F => Some("bullet"),
        0x80..=0xFF => high(&WIN_ANSI_HIGH, code),
        _ => None,
    }
}

/// Glyph name for `code` in StandardEncoding, the built-in encoding of the
/// standard Latin Type 1 fonts (Table D.2). Differs from ASCII at 0x27
/// (`quoteright`) and 0x60 (`quoteleft`).
pub fn standard(code: u8) -> Option<&'static str> {
    match code {
        0x27 => Some("quoteright"),
        0x60 => Some("quoteleft"),
        0x20..=0x7E => ascii(code),
        0x80..=0xFF => high(&STANDARD_HIGH, code),
        _ => None,
    }
}

/// Glyph name for `code` in PDF's MacRomanEncoding (Table D.2).
///
/// This is deliberately not Mac OS Roman: Annex D omits the 15 Mac OS
/// characters that are not in the Adobe standard Latin set (`notequal`,
/// `infinity`, … `apple`, see §9.6.6.4), has `currency` at 0xDB rather than the
/// Euro, and `space` at 0xCA.
pub fn mac_roman(code: u8) -> Option<&'static str> {
    match code {
        0x20..=0x7E => ascii(code),
        0x80..=0xFF => high(&MAC_ROMAN_HIGH, code),
        _ => None,
    }
}

/// Glyph name for `code` in PDFDocEncoding (Table D.2), the encoding of
/// text strings outside content streams.
///
/// The control codes 0x09, 0x0A and 0x0D that text strings may carry have no
/// glyph name and give `None`.
pub fn pdf_doc(code: u8) -> Option<&'static str> {
    match code {
        0x18..=0x1F => PDF_DOC_LOW.get(usize::from(code & 0x07)).copied(),
        0x20..=0x7E => ascii(code),
        0x80..=0xFF => high(&PDF_DOC_HIGH, code),
        _ => None,
    }
}

fn ascii(code: u8) -> Option<&'static str> {
    usize::from(code)
        .checked_sub(0x20)
        .and_then(|i| ASCII.get(i))
        .copied()
}

fn high(table: &'static [&'static str; 128], code: u8) -> Option<&'static str> {
    table
        .get(usize::from(code & 0x7F))
        .copied()
        .filter(|name| !name.is_empty())
}

/// Unicode text for a glyph name, following the AGL specification.
///
/// The name is cut at the first `.` (so `a.sc` maps like `a`), split at `_`
/// into ligature components (`f_f_i`), and each component is looked up in the
/// bundled part of the AGL or decoded from the `uniXXXX[XXXX…]` and
/// `uXXXX`–`uXXXXXX` forms. Components that resolve to nothing contribute
/// nothing, as the AGL specification prescribes; `None` means the whole name
/// resolved to nothing.
///
/// Deviations from AGL, both in the lenient direction because the result
/// only feeds text extraction: lowercase hex digits are accepted in the
/// `uni`/`u` forms (common in the wild), and only the part of the AGL needed
/// for Latin, Greek, general punctuation, the Symbol font and the names of
/// the four Annex D encodings is bundled (Cyrillic/Hebrew/Arabic `afii…` names
/// and the small-cap PUA names give `None`).
pub fn glyph_to_unicode(name: &str) -> Option<String> {
    let base = name.split('.').next().unwrap_or_default();
    let mut out = String::new();
    for component in base.split('_') {
        if let Ok(i) = AGL.binary_search_by(|(n, _)| (*n).cmp(component)) {
            if let Some((_, ch)) = AGL.get(i) {
                out.push(*ch);
            }
        } else if let Some(hex) = component.strip_prefix("uni") {
            push_uni(hex, &mut out);
        } else if let Some(hex) = component.strip_prefix('u') {
            push_u(hex, &mut out);
        }
    }
    if out.is_empty() { None } else { Some(out) }
}

/// `uniXXXX…`: a sequence of BMP code points, 4 hex digits each, surrogates
/// excluded. A malformed sequence contributes nothing at all (AGL rule).
fn push_uni(hex: &str, out: &mut String) {
    if hex.is_empty() || !hex.len().is_multiple_of(4) || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return;
    }
    let mut decoded = String::with_capacity(hex.len());
    let mut rest = hex;
    while let Some((group, tail)) = rest.split_at_checked(4) {
        match u32::from_str_radix(group, 16).ok().and_then(char::from_u32) {
            Some(ch) => decoded.push(ch),
            None => return,
        }
        rest = tail;
    }
    out.push_str(&decoded);
}

/// `uXXXX` to `uXXXXXX`: one Unicode scalar value.
fn push_u(hex: &str, out: &mut String) {
    if !(4..=6).contains(&hex.len()) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return;
    }
    if let Some(ch) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
        out.push(ch);
    }
}

/// The standard 14 fonts, by the metrics they share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Std14 {
    /// Index into the width columns of [`LATIN`].
    Latin(usize),
    Courier,
    Symbol,
    ZapfDingbats,
}

/// Advance width (1/1000 em) of `glyph` in the standard-14 font `base_font`.
///
/// `base_font` may carry a subset tag (`ABCDEF+Helvetica`) and may use the
/// aliases that viewers accept for the standard fonts (ISO 32000-1 §9.6.2.2
/// and Acrobat's substitution list): `Arial[MT]`/`Helvetica`,
/// `TimesNewRoman[PS[MT]]`/`Times`, `CourierNew[PS[MT]]`/`Courier`, with a
/// style given as `-Bold`, `,Bold`, `-Italic`, `-BoldItalic`, `-Oblique`,
/// `-BoldOblique`, `-Roman` or `-Regular` (optionally ending in `MT`). Any
/// other style (Narrow, Black, Light, …) has different metrics and gives
/// `None`. Oblique and italic Helvetica/Courier share their upright widths.
pub fn standard14_width(base_font: &str, glyph: &str) -> Option<u16> {
    match std14(base_font)? {
        Std14::Latin(column) => {
            let i = LATIN.binary_search_by(|(n, _)| (*n).cmp(glyph)).ok()?;
            LATIN.get(i)?.1.get(column).copied()
        }
        Std14::Courier => LATIN
            .binary_search_by(|(n, _)| (*n).cmp(glyph))
            .ok()
            .map(|_| 600),
        Std14::Symbol => lookup_width(&SYMBOL, glyph),
        Std14::ZapfDingbats => lookup_width(&ZAPF_DINGBATS, glyph),
    }
}

fn lookup_width(table: &[(&str, u16)], glyph: &str) -> Option<u16> {
    let i = table.binary_search_by(|(n, _)| (*n).cmp(glyph)).ok()?;
    table.get(i).map(|(_, w)| *w)
}

fn std14(base_font: &str) -> Option<Std14> {
    let name = strip_subset_tag(base_font);
    let compact: String = name.chars().filter(|c| *c != ' ').collect();
    match compact.as_str() {
        "Symbol" | "SymbolMT" => return Some(Std14::Symbol),
        "ZapfDingbats" | "ZapfDingbatsITC" | "Dingbats" => return Some(Std14::ZapfDingbats),
        _ => {}
    }
    let (family, style) = match compact.find([',', '-']) {
        Some(at) => compact.split_at(at),
        None => (compact.as_str(), ""),
    };
    let style = style.get(1..).unwrap_or_default();
    let style = style.strip_suffix("MT").unwrap_or(style);
    let (bold, italic) = match style {
        "" | "Roman" | "Regular" => (false, false),
        "Bold" => (true, false),
        "Italic" | "Oblique" => (false, true),
        "BoldItalic" | "BoldOblique" => (true, true),
        _ => return None,
    };
    match family {
        "Helvetica" | "Arial" | "ArialMT" => Some(Std14::Latin(usize::from(bold))),
        "Times" | "TimesNewRoman" | "TimesNewRomanPS" | "TimesNewRomanPSMT" => {
            Some(Std14::Latin(match (bold, italic) {
                (false, false) => 2,
                (true, false) => 3,
                (false, true) => 4,
                (true, true) => 5,
            }))
        }
        "Courier" | "CourierNew" | "CourierNewPS" | "CourierNewPSMT" => Some(Std14::Courier),
        _ => None,
    }
}

/// Drops a subset tag: six uppercase ASCII letters and `+` (§9.6.4).
fn strip_subset_tag(name: &str) -> &str {
    match name.split_once('+') {
        Some((tag, rest)) if tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()) => rest,
        _ => name,
    }
}

/// Encodes `text` in WinAnsiEncoding for a simple font's string operand, or
/// `None` if some character has no code there (callers then fall back to an
/// embedded font). Control characters, tab and newline included, are refused
/// because simple fonts have no glyphs for them.
pub fn win_ansi_encode(text: &str) -> Option<Vec<u8>> {
    text.chars().map(win_ansi_byte).collect()
}

fn win_ansi_byte(ch: char) -> Option<u8> {
    let code = u32::from(ch);
    if (0x20..=0x7E).contains(&code) || (0xA0..=0xFF).contains(&code) {
        return u8::try_from(code).ok();
    }
    // The CP1252 extensions in 0x80..=0x9F; 0x7F and the unassigned codes are
    // never produced even though viewers render them as bullets.
    Some(match ch {
        '\u{20AC}' => 0x80,
        '\u{201A}' => 0x82,
        '\u{0192}' => 0x83,
        '\u{201E}' => 0x84,
        '\u{2026}' => 0x85,
        '\u{2020}' => 0x86,
        '\u{2021}' => 0x87,
        '\u{02C6}' => 0x88,
        '\u{2030}' => 0x89,
        '\u{0160}' => 0x8A,
        '\u{2039}' => 0x8B,
        '\u{0152}' => 0x8C,
        '\u{017D}' => 0x8E,
        '\u{2018}' => 0x91,
        '\u{2019}' => 0x92,
        '\u{201C}' => 0x93,
        '\u{201D}' => 0x94,
        '\u{2022}' => 0x95,
        '\u{2013}' => 0x96,
        '\u{2014}' => 0x97,
        '\u{02DC}' => 0x98,
        '\u{2122}' => 0x99,
        '\u{0161}' => 0x9A,
        '\u{203A}' => 0x9B,
        '\u{0153}' => 0x9C,
        '\u{017E}' => 0x9E,
        '\u{0178}' => 0x9F,
        _ => return None,
    })
}

// Tables.
//
// Provenance: generated by a small script from the data bundled with
// ReportLab 5.1.0 (BSD licence), `reportlab/pdfbase/`:
// - `_fontdata_enc_{standard,macroman,winansi,pdfdoc}.py`: the Annex D
//   encodings; checked against Python's cp1252 and mac_roman codecs, the only
//   differences being those Annex D documents (see the functions above).
// - `_fontdata_widths_*.py`: the advance widths of Adobe's Core14 AFM files
//   (Adobe Standard Latin set, 229 glyphs incl. Euro, per font; the 86 Central
//   European glyphs of the v4.1 AFMs are not in ReportLab's tables and give
//   `None`). Helvetica-Oblique/-BoldOblique equal Helvetica/-Bold and every
//   Courier glyph is 600, so those are not stored again.
// - `_glyphlist.py`: Adobe Glyph List 2.0 (BSD-3-Clause, Adobe), reduced to the
//   names of the encodings and fonts above plus AGL names for U+0020–U+017F,
//   U+02B0–U+02FF, U+0370–U+03FF, U+2000–U+206F, U+20A0–U+20CF, U+2100–U+214F,
//   U+FB00–U+FB06.
// Name tables are sorted bytewise for binary search; `LATIN` columns are
// Helvetica, Helvetica-Bold, Times-Roman, Times-Bold, Times-Italic,
// Times-BoldItalic.

// ---- generated by gen/gen_tables.py from ReportLab 5.1.0; do not edit by hand ----

#[rustfmt::skip]
static ASCII: [&str; 95] = [
    "space", "exclam", "quotedbl", "numbersign", "dollar", "percent", "ampersand", "quotesingle", // 0x20
    "parenleft", "parenright", "asterisk", "plus", "comma", "hyphen", "period", "slash", // 0x28
    "zero", "one", "two", "three", "four", "five", "six", "seven", // 0x30
    "eight", "nine", "colon", "semicolon", "less", "equal", "greater", "question", // 0x38
    "at", "A", "B", "C", "D", "E", "F", "G", // 0x40
    "H", "I", "J", "K", "L", "M", "N", "O", // 0x48
    "P", "Q", "R", "S", "T", "U", "V", "W", // 0x50
    "X", "Y", "Z", "bracketleft", "backslash", "bracketright", "asciicircum", "underscore", // 0x58
    "grave", "a", "b", "c", "d", "e", "f", "g", // 0x60
    "h", "i", "j", "k", "l", "m", "n", "o", // 0x68
    "p", "q", "r", "s", "t", "u", "v", "w", // 0x70
    "x", "y", "z", "braceleft", "bar", "braceright", "asciitilde", // 0x78
];

#[rustfmt::skip]
static WIN_ANSI_HIGH: [&str; 128] = [
    "Euro", "bullet", "quotesinglbase", "florin", "quotedblbase", "ellipsis", "dagger", "daggerdbl", // 0x80
    "circumflex", "perthousand", "Scaron", "guilsinglleft", "OE", "bullet", "Zcaron", "bullet", // 0x88
    "bullet", "quoteleft", "quoteright", "quotedblleft", "quotedblright", "bullet", "endash", "emdash", // 0x90
    "tilde", "trademark", "scaron", "guilsinglright", "oe", "bullet", "zcaron", "Ydieresis", // 0x98
    "space", "exclamdown", "cent", "sterling", "currency", "yen", "brokenbar", "section", // 0xA0
    "dieresis", "copyright", "ordfeminine", "guillemotleft", "logicalnot", "hyphen", "registered", "macron", // 0xA8
    "degree", "plusminus", "twosuperior", "threesuperior", "acute", "mu", "paragraph", "periodcentered", // 0xB0
    "cedilla", "onesuperior", "ordmasculine", "guillemotright", "onequarter", "onehalf", "threequarters", "questiondown", // 0xB8
    "Agrave", "Aacute", "Acircumflex", "Atilde", "Adieresis", "Aring", "AE", "Ccedilla", // 0xC0
    "Egrave", "Eacute", "Ecircumflex", "Edieresis", "Igrave", "Iacute", "Icircumflex", "Idieresis", // 0xC8
    "Eth", "Ntilde", "Ograve", "Oacute", "Ocircumflex", "Otilde", "Odieresis", "multiply", // 0xD0
    "Oslash", "Ugrave", "Uacute", "Ucircumflex", "Udieresis", "Yacute", "Thorn", "germandbls", // 0xD8
    "agrave", "aacute", "acircumflex", "atilde", "adieresis", "aring", "ae", "ccedilla", // 0xE0
    "egrave", "eacute", "ecircumflex", "edieresis", "igrave", "iacute", "icircumflex", "idieresis", // 0xE8
    "eth", "ntilde", "ograve", "oacute", "ocircumflex", "otilde", "odieresis", "divide", // 0xF0
    "oslash", "ugrave", "uacute", "ucircumflex", "udieresis", "yacute", "thorn", "ydieresis", // 0xF8
];

#[rustfmt::skip]
static MAC_ROMAN_HIGH: [&str; 128] = [
    "Adieresis", "Aring", "Ccedilla", "Eacute", "Ntilde", "Odieresis", "Udieresis", "aacute", // 0x80
    "agrave", "acircumflex", "adieresis", "atilde", "aring", "ccedilla", "eacute", "egrave", // 0x88
    "ecircumflex", "edieresis", "iacute", "igrave", "icircumflex", "idieresis", "ntilde", "oacute", // 0x90
    "ograve", "ocircumflex", "odieresis", "otilde", "uacute", "ugrave", "ucircumflex", "udieresis", // 0x98
    "dagger", "degree", "cent", "sterling", "section", "bullet", "paragraph", "germandbls", // 0xA0
    "registered", "copyright", "trademark", "acute", "dieresis", "", "AE", "Oslash", // 0xA8
    "", "plusminus", "", "", "yen", "mu", "", "", // 0xB0
    "", "", "", "ordfeminine", "ordmasculine", "", "ae", "oslash", // 0xB8
    "questiondown", "exclamdown", "logicalnot", "", "florin", "", "", "guillemotleft", // 0xC0
    "guillemotright", "ellipsis", "space", "Agrave", "Atilde", "Otilde", "OE", "oe", // 0xC8
    "endash", "emdash", "quotedblleft", "quotedblright", "quoteleft", "quoteright", "divide", "", // 0xD0
    "ydieresis", "Ydieresis", "fraction", "currency", "guilsinglleft", "guilsinglright", "fi", "fl", // 0xD8
    "daggerdbl", "periodcentered", "quotesinglbase", "quotedblbase", "perthousand", "Acircumflex", "Ecircumflex", "Aacute", // 0xE0
    "Edieresis", "Egrave", "Iacute", "Icircumflex", "Idieresis", "Igrave", "Oacute", "Ocircumflex", // 0xE8
    "", "Ograve", "Uacute", "Ucircumflex", "Ugrave", "dotlessi", "circumflex", "tilde", // 0xF0
    "macron", "breve", "dotaccent", "ring", "cedilla", "hungarumlaut", "ogonek", "caron", // 0xF8
];

#[rustfmt::skip]
static STANDARD_HIGH: [&str; 128] = [
    "", "", "", "", "", "", "", "", // 0x80
    "", "", "", "", "", "", "", "", // 0x88
    "", "", "", "", "", "", "", "", // 0x90
    "", "", "", "", "", "", "", "", // 0x98
    "", "exclamdown", "cent", "sterling", "fraction", "yen", "florin", "section", // 0xA0
    "currency", "quotesingle", "quotedblleft", "guillemotleft", "guilsinglleft", "guilsinglright", "fi", "fl", // 0xA8
    "", "endash", "dagger", "daggerdbl", "periodcentered", "", "paragraph", "bullet", // 0xB0
    "quotesinglbase", "quotedblbase", "quotedblright", "guillemotright", "ellipsis", "perthousand", "", "questiondown", // 0xB8
    "", "grave", "acute", "circumflex", "tilde", "macron", "breve", "dotaccent", // 0xC0
    "dieresis", "", "ring", "cedilla", "", "hungarumlaut", "ogonek", "caron", // 0xC8
    "emdash", "", "", "", "", "", "", "", // 0xD0
    "", "", "", "", "", "", "", "", // 0xD8
    "", "AE", "", "ordfeminine", "", "", "", "", // 0xE0
    "Lslash", "Oslash", "OE", "ordmasculine", "", "", "", "", // 0xE8
    "", "ae", "", "", "", "dotlessi", "", "", // 0xF0
    "lslash", "oslash", "oe", "germandbls", "", "", "", "", // 0xF8
];

#[rustfmt::skip]
static PDF_DOC_HIGH: [&str; 128] = [
    "bullet", "dagger", "daggerdbl", "ellipsis", "emdash", "endash", "florin", "fraction", // 0x80
    "guilsinglleft", "guilsinglright", "minus", "perthousand", "quotedblbase", "quotedblleft", "quotedblright", "quoteleft", // 0x88
    "quoteright", "quotesinglbase", "trademark", "fi", "fl", "Lslash", "OE", "Scaron", // 0x90
    "Ydieresis", "Zcaron", "dotlessi", "lslash", "oe", "scaron", "zcaron", "", // 0x98
    "Euro", "exclamdown", "cent", "sterling", "currency", "yen", "brokenbar", "section", // 0xA0
    "dieresis", "copyright", "ordfeminine", "guillemotleft", "logicalnot", "", "registered", "macron", // 0xA8
    "degree", "plusminus", "twosuperior", "threesuperior", "acute", "mu", "paragraph", "periodcentered", // 0xB0
    "cedilla", "onesuperior", "ordmasculine", "guillemotright", "onequarter", "onehalf", "threequarters", "questiondown", // 0xB8
    "Agrave", "Aacute", "Acircumflex", "Atilde", "Adieresis", "Aring", "AE", "Ccedilla", // 0xC0
    "Egrave", "Eacute", "Ecircumflex", "Edieresis", "Igrave", "Iacute", "Icircumflex", "Idieresis", // 0xC8
    "Eth", "Ntilde", "Ograve", "Oacute", "Ocircumflex", "Otilde", "Odieresis", "multiply", // 0xD0
    "Oslash", "Ugrave", "Uacute", "Ucircumflex", "Udieresis", "Yacute", "Thorn", "germandbls", // 0xD8
    "agrave", "aacute", "acircumflex", "atilde", "adieresis", "aring", "ae", "ccedilla", // 0xE0
    "egrave", "eacute", "ecircumflex", "edieresis", "igrave", "iacute", "icircumflex", "idieresis", // 0xE8
    "eth", "ntilde", "ograve", "oacute", "ocircumflex", "otilde", "odieresis", "divide", // 0xF0
    "oslash", "ugrave", "uacute", "ucircumflex", "udieresis", "yacute", "thorn", "ydieresis", // 0xF8
];

#[rustfmt::skip]
static PDF_DOC_LOW: [&str; 8] = [
    "breve", "caron", "circumflex", "dotaccent", "hungarumlaut", "ogonek", "ring", "tilde", // 0x18
];

#[rustfmt::skip]
static LATIN: [(&str, [u16; 6]); 229] = [
    ("A", [667, 722, 722, 722, 611, 667]),
    ("AE", [1000, 1000, 889, 1000, 889, 944]),
    ("Aacute", [667, 722, 722, 722, 611, 667]),
    ("Acircumflex", [667, 722, 722, 722, 611, 667]),
    ("Adieresis", [667, 722, 722, 722, 611, 667]),
    ("Agrave", [667, 722, 722, 722, 611, 667]),
    ("Aring", [667, 722, 722, 722, 611, 667]),
    ("Atilde", [667, 722, 722, 722, 611, 667]),
    ("B", [667, 722, 667, 667, 611, 667]),
    ("C", [722, 722, 667, 722, 667, 667]),
    ("Ccedilla", [722, 722, 667, 722, 667, 667]),
    ("D", [722, 722, 722, 722, 722, 722]),
    ("E", [667, 667, 611, 667, 611, 667]),
    ("Eacute", [667, 667, 611, 667, 611, 667]),
    ("Ecircumflex", [667, 667, 611, 667, 611, 667]),
    ("Edieresis", [667, 667, 611, 667, 611, 667]),
    ("Egrave", [667, 667, 611, 667, 611, 667]),
    ("Eth", [722, 722, 722, 722, 722, 722]),
    ("Euro", [556, 556, 500, 500, 500, 500]),
    ("F", [611, 611, 556, 611, 611, 667]),
    ("G", [778, 778, 722, 778, 722, 722]),
    ("H", [722, 722, 722, 778, 722, 778]),
    ("I", [278, 278, 333, 389, 333, 389]),
    ("Iacute", [278, 278, 333, 389, 333, 389]),
    ("Icircumflex", [278, 278, 333, 389, 333, 389]),
    ("Idieresis", [278, 278, 333, 389, 333, 389]),
    ("Igrave", [278, 278, 333, 389, 333, 389]),
    ("J", [500, 556, 389, 500, 444, 500]),
    ("K", [667, 722, 722, 778, 667, 667]),
    ("L", [556, 611, 611, 667, 556, 611]),
    ("Lslash", [556, 611, 611, 667, 556, 611]),
    ("M", [833, 833, 889, 944, 833, 889]),
    ("N", [722, 722, 722, 722, 667, 722]),
    ("Ntilde", [722, 722, 722, 722, 667, 722]),
    ("O", [778, 778, 722, 778, 722, 722]),
    ("OE", [1000, 1000, 889, 1000, 944, 944]),
    ("Oacute", [778, 778, 722, 778, 722, 722]),
    ("Ocircumflex", [778, 778, 722, 778, 722, 722]),
    ("Odieresis", [778, 778, 722, 778, 722, 722]),
    ("Ograve", [778, 778, 722, 778, 722, 722]),
    ("Oslash", [778, 778, 722, 778, 722, 722]),
    ("Otilde", [778, 778, 722, 778, 722, 722]),
    ("P", [667, 667, 556, 611, 611, 611]),
    ("Q", [778, 778, 722, 778, 722, 722]),
    ("R", [722, 722, 667, 722, 611, 667]),
    ("S", [667, 667, 556, 556, 500, 556]),
    ("Scaron", [667, 667, 556, 556, 500, 556]),
    ("T", [611, 611, 611, 667, 556, 611]),
    ("Thorn", [667, 667, 556, 611, 611, 611]),
    ("U", [722, 722, 722, 722, 722, 722]),
    ("Uacute", [722, 722, 722, 722, 722, 722]),
    ("Ucircumflex", [722, 722, 722, 722, 722, 722]),
    ("Udieresis", [722, 722, 722, 722, 722, 722]),
    ("Ugrave", [722, 722, 722, 722, 722, 722]),
    ("V", [667, 667, 722, 722, 611, 667]),
    ("W", [944, 944, 944, 1000, 833, 889]),
    ("X", [667, 667, 722, 722, 611, 667]),
    ("Y", [667, 667, 722, 722, 556, 611]),
    ("Yacute", [667, 667, 722, 722, 556, 611]),
    ("Ydieresis", [667, 667, 722, 722, 556, 611]),
    ("Z", [611, 611, 611, 667, 556, 611]),
    ("Zcaron", [611, 611, 611, 667, 556, 611]),
    ("a", [556, 556, 444, 500, 500, 500]),
    ("aacute", [556, 556, 444, 500, 500, 500]),
    ("acircumflex", [556, 556, 444, 500, 500, 500]),
    ("acute", [333, 333, 333, 333, 333, 333]),
    ("adieresis", [556, 556, 444, 500, 500, 500]),
    ("ae", [889, 889, 667, 722, 667, 722]),
    ("agrave", [556, 556, 444, 500, 500, 500]),
    ("ampersand", [667, 722, 778, 833, 778, 778]),
    ("aring", [556, 556, 444, 500, 500, 500]),
    ("asciicircum", [469, 584, 469, 581, 422, 570]),
    ("asciitilde", [584, 584, 541, 520, 541, 570]),
    ("asterisk", [389, 389, 500, 500, 500, 500]),
    ("at", [1015, 975, 921, 930, 920, 832]),
    ("atilde", [556, 556, 444, 500, 500, 500]),
    ("b", [556, 611, 500, 556, 500, 500]),
    ("backslash", [278, 278, 278, 278, 278, 278]),
    ("bar", [260, 280, 200, 220, 275, 220]),
    ("braceleft", [334, 389, 480, 394, 400, 348]),
    ("braceright", [334, 389, 480, 394, 400, 348]),
    ("bracketleft", [278, 333, 333, 333, 389, 333]),
    ("bracketright", [278, 333, 333, 333, 389, 333]),
    ("breve", [333, 333, 333, 333, 333, 333]),
    ("brokenbar", [260, 280, 200, 220, 275, 220]),
    ("bullet", [350, 350, 350, 350, 350, 350]),
    ("c", [500, 556, 444, 444, 444, 444]),
    ("caron", [333, 333, 333, 333, 333, 333]),
    ("ccedilla", [500, 556, 444, 444, 444, 444]),
    ("cedilla", [333, 333, 333, 333, 333, 333]),
    ("cent", [556, 556, 500, 500, 500, 500]),
    ("circumflex", [333, 333, 333, 333, 333, 333]),
    ("colon", [278, 333, 278, 333, 333, 333]),
    ("comma", [278, 278, 250, 250, 250, 250]),
    ("copyright", [737, 737, 760, 747, 760, 747]),
    ("currency", [556, 556, 500, 500, 500, 500]),
    ("d", [556, 611, 500, 556, 500, 500]),
    ("dagger", [556, 556, 500, 500, 500, 500]),
    ("daggerdbl", [556, 556, 500, 500, 500, 500]),
    ("degree", [400, 400, 400, 400, 400, 400]),
    ("dieresis", [333, 333, 333, 333, 333, 333]),
    ("divide", [584, 584, 564, 570, 675, 570]),
    ("dollar", [556, 556, 500, 500, 500, 500]),
    ("dotaccent", [333, 333, 333, 333, 333, 333]),
    ("dotlessi", [278, 278, 278, 278, 278, 278]),
    ("e", [556, 556, 444, 444, 444, 444]),
    ("eacute", [556, 556, 444, 444, 444, 444]),
    ("ecircumflex", [556, 556, 444, 444, 444, 444]),
    ("edieresis", [556, 556, 444, 444, 444, 444]),
    ("egrave", [556, 556, 444, 444, 444, 444]),
    ("eight", [556, 556, 500, 500, 500, 500]),
    ("ellipsis", [1000, 1000, 1000, 1000, 889, 1000]),
    ("emdash", [1000, 1000, 1000, 1000, 889, 1000]),
    ("endash", [556, 556, 500, 500, 500, 500]),
    ("equal", [584, 584, 564, 570, 675, 570]),
    ("eth", [556, 611, 500, 500, 500, 500]),
    ("exclam", [278, 333, 333, 333, 333, 389]),
    ("exclamdown", [333, 333, 333, 333, 389, 389]),
    ("f", [278, 333, 333, 333, 278, 333]),
    ("fi", [500, 611, 556, 556, 500, 556]),
    ("five", [556, 556, 500, 500, 500, 500]),
    ("fl", [500, 611, 556, 556, 500, 556]),
    ("florin", [556, 556, 500, 500, 500, 500]),
    ("four", [556, 556, 500, 500, 500, 500]),
    ("fraction", [167, 167, 167, 167, 167, 167]),
    ("g", [556, 611, 500, 500, 500, 500]),
    ("germandbls", [611, 611, 500, 556, 500, 500]),
    ("grave", [333, 333, 333, 333, 333, 333]),
    ("greater", [584, 584, 564, 570, 675, 570]),
    ("guillemotleft", [556, 556, 500, 500, 500, 500]),
    ("guillemotright", [556, 556, 500, 500, 500, 500]),
    ("guilsinglleft", [333, 333, 333, 333, 333, 333]),
    ("guilsinglright", [333, 333, 333, 333, 333, 333]),
    ("h", [556, 611, 500, 556, 500, 556]),
    ("hungarumlaut", [333, 333, 333, 333, 333, 333]),
    ("hyphen", [333, 333, 333, 333, 333, 333]),
    ("i", [222, 278, 278, 278, 278, 278]),
    ("iacute", [278, 278, 278, 278, 278, 278]),
    ("icircumflex", [278, 278, 278, 278, 278, 278]),
    ("idieresis", [278, 278, 278, 278, 278, 278]),
    ("igrave", [278, 278, 278, 278, 278, 278]),
    ("j", [222, 278, 278, 333, 278, 278]),
    ("k", [500, 556, 500, 556, 444, 500]),
    ("l", [222, 278, 278, 278, 278, 278]),
    ("less", [584, 584, 564, 570, 675, 570]),
    ("logicalnot", [584, 584, 564, 570, 675, 606]),
    ("lslash", [222, 278, 278, 278, 278, 278]),
    ("m", [833, 889, 778, 833, 722, 778]),
    ("macron", [333, 333, 333, 333, 333, 333]),
    ("minus", [584, 584, 564, 570, 675, 606]),
    ("mu", [556, 611, 500, 556, 500, 576]),
    ("multiply", [584, 584, 564, 570, 675, 570]),
    ("n", [556, 611, 500, 556, 500, 556]),
    ("nine", [556, 556, 500, 500, 500, 500]),
    ("ntilde", [556, 611, 500, 556, 500, 556]),
    ("numbersign", [556, 556, 500, 500, 500, 500]),
    ("o", [556, 611, 500, 500, 500, 500]),
    ("oacute", [556, 611, 500, 500, 500, 500]),
    ("ocircumflex", [556, 611, 500, 500, 500, 500]),
    ("odieresis", [556, 611, 500, 500, 500, 500]),
    ("oe", [944, 944, 722, 722, 667, 722]),
    ("ogonek", [333, 333, 333, 333, 333, 333]),
    ("ograve", [556, 611, 500, 500, 500, 500]),
    ("one", [556, 556, 500, 500, 500, 500]),
    ("onehalf", [834, 834, 750, 750, 750, 750]),
    ("onequarter", [834, 834, 750, 750, 750, 750]),
    ("onesuperior", [333, 333, 300, 300, 300, 300]),
    ("ordfeminine", [370, 370, 276, 300, 276, 266]),
    ("ordmasculine", [365, 365, 310, 330, 310, 300]),
    ("oslash", [611, 611, 500, 500, 500, 500]),
    ("otilde", [556, 611, 500, 500, 500, 500]),
    ("p", [556, 611, 500, 556, 500, 500]),
    ("paragraph", [537, 556, 453, 540, 523, 500]),
    ("parenleft", [333, 333, 333, 333, 333, 333]),
    ("parenright", [333, 333, 333, 333, 333, 333]),
    ("percent", [889, 889, 833, 1000, 833, 833]),
    ("period", [278, 278, 250, 250, 250, 250]),
    ("periodcentered", [278, 278, 250, 250, 250, 250]),
    ("perthousand", [1000, 1000, 1000, 1000, 1000, 1000]),
    ("plus", [584, 584, 564, 570, 675, 570]),
    ("plusminus", [584, 584, 564, 570, 675, 570]),
    ("q", [556, 611, 500, 556, 500, 500]),
    ("question", [556, 611, 444, 500, 500, 500]),
    ("questiondown", [611, 611, 444, 500, 500, 500]),
    ("quotedbl", [355, 474, 408, 555, 420, 555]),
    ("quotedblbase", [333, 500, 444, 500, 556, 500]),
    ("quotedblleft", [333, 500, 444, 500, 556, 500]),
    ("quotedblright", [333, 500, 444, 500, 556, 500]),
    ("quoteleft", [222, 278, 333, 333, 333, 333]),
    ("quoteright", [222, 278, 333, 333, 333, 333]),
    ("quotesinglbase", [222, 278, 333, 333, 333, 333]),
    ("quotesingle", [191, 238, 180, 278, 214, 278]),
    ("r", [333, 389, 333, 444, 389, 389]),
    ("registered", [737, 737, 760, 747, 760, 747]),
    ("ring", [333, 333, 333, 333, 333, 333]),
    ("s", [500, 556, 389, 389, 389, 389]),
    ("scaron", [500, 556, 389, 389, 389, 389]),
    ("section", [556, 556, 500, 500, 500, 500]),
    ("semicolon", [278, 333, 278, 333, 333, 333]),
    ("seven", [556, 556, 500, 500, 500, 500]),
    ("six", [556, 556, 500, 500, 500, 500]),
    ("slash", [278, 278, 278, 278, 278, 278]),
    ("space", [278, 278, 250, 250, 250, 250]),
    ("sterling", [556, 556, 500, 500, 500, 500]),
    ("t", [278, 333, 278, 333, 278, 278]),
    ("thorn", [556, 611, 500, 556, 500, 500]),
    ("three", [556, 556, 500, 500, 500, 500]),
    ("threequarters", [834, 834, 750, 750, 750, 750]),
    ("threesuperior", [333, 333, 300, 300, 300, 300]),
    ("tilde", [333, 333, 333, 333, 333, 333]),
    ("trademark", [1000, 1000, 980, 1000, 980, 1000]),
    ("two", [556, 556, 500, 500, 500, 500]),
    ("twosuperior", [333, 333, 300, 300, 300, 300]),
    ("u", [556, 611, 500, 556, 500, 556]),
    ("uacute", [556, 611, 500, 556, 500, 556]),
    ("ucircumflex", [556, 611, 500, 556, 500, 556]),
    ("udieresis", [556, 611, 500, 556, 500, 556]),
    ("ugrave", [556, 611, 500, 556, 500, 556]),
    ("underscore", [556, 556, 500, 500, 500, 500]),
    ("v", [500, 556, 500, 500, 444, 444]),
    ("w", [722, 778, 722, 722, 667, 667]),
    ("x", [500, 556, 500, 500, 444, 500]),
    ("y", [500, 556, 500, 500, 444, 444]),
    ("yacute", [500, 556, 500, 500, 444, 444]),
    ("ydieresis", [500, 556, 500, 500, 444, 444]),
    ("yen", [556, 556, 500, 500, 500, 500]),
    ("z", [500, 500, 444, 444, 389, 389]),
    ("zcaron", [500, 500, 444, 444, 389, 389]),
    ("zero", [556, 556, 500, 500, 500, 500]),
];

#[rustfmt::skip]
static SYMBOL: [(&str, u16); 190] = [
    ("Alpha", 722), ("Beta", 667), ("Chi", 722), ("Delta", 612), ("Epsilon", 611),
    ("Eta", 722), ("Euro", 750), ("Gamma", 603), ("Ifraktur", 686), ("Iota", 333),
    ("Kappa", 722), ("Lambda", 686), ("Mu", 889), ("Nu", 722), ("Omega", 768),
    ("Omicron", 722), ("Phi", 763), ("Pi", 768), ("Psi", 795), ("Rfraktur", 795),
    ("Rho", 556), ("Sigma", 592), ("Tau", 611), ("Theta", 741), ("Upsilon", 690),
    ("Upsilon1", 620), ("Xi", 645), ("Zeta", 611), ("aleph", 823), ("alpha", 631),
    ("ampersand", 778), ("angle", 768), ("angleleft", 329), ("angleright", 329), ("apple", 790),
    ("approxequal", 549), ("arrowboth", 1042), ("arrowdblboth", 1042), ("arrowdbldown", 603), ("arrowdblleft", 987),
    ("arrowdblright", 987), ("arrowdblup", 603), ("arrowdown", 603), ("arrowhorizex", 1000), ("arrowleft", 987),
    ("arrowright", 987), ("arrowup", 603), ("arrowvertex", 603), ("asteriskmath", 500), ("bar", 200),
    ("beta", 549), ("braceex", 494), ("braceleft", 480), ("braceleftbt", 494), ("braceleftmid", 494),
    ("bracelefttp", 494), ("braceright", 480), ("bracerightbt", 494), ("bracerightmid", 494), ("bracerighttp", 494),
    ("bracketleft", 333), ("bracketleftbt", 384), ("bracketleftex", 384), ("bracketlefttp", 384), ("bracketright", 333),
    ("bracketrightbt", 384), ("bracketrightex", 384), ("bracketrighttp", 384), ("bullet", 460), ("carriagereturn", 658),
    ("chi", 549), ("circlemultiply", 768), ("circleplus", 768), ("club", 753), ("colon", 278),
    ("comma", 250), ("congruent", 549), ("copyrightsans", 790), ("copyrightserif", 790), ("degree", 400),
    ("delta", 494), ("diamond", 753), ("divide", 549), ("dotmath", 250), ("eight", 500),
    ("element", 713), ("ellipsis", 1000), ("emptyset", 823), ("epsilon", 439), ("equal", 549),
    ("equivalence", 549), ("eta", 603), ("exclam", 333), ("existential", 549), ("five", 500),
    ("florin", 500), ("four", 500), ("fraction", 167), ("gamma", 411), ("gradient", 713),
    ("greater", 549), ("greaterequal", 549), ("heart", 753), ("infinity", 713), ("integral", 274),
    ("integralbt", 686), ("integralex", 686), ("integraltp", 686), ("intersection", 768), ("iota", 329),
    ("kappa", 549), ("lambda", 549), ("less", 549), ("lessequal", 549), ("logicaland", 603),
    ("logicalnot", 713), ("logicalor", 603), ("lozenge", 494), ("minus", 549), ("minute", 247),
    ("mu", 576), ("multiply", 549), ("nine", 500), ("notelement", 713), ("notequal", 549),
    ("notsubset", 713), ("nu", 521), ("numbersign", 500), ("omega", 686), ("omega1", 713),
    ("omicron", 549), ("one", 500), ("parenleft", 333), ("parenleftbt", 384), ("parenleftex", 384),
    ("parenlefttp", 384), ("parenright", 333), ("parenrightbt", 384), ("parenrightex", 384), ("parenrighttp", 384),
    ("partialdiff", 494), ("percent", 833), ("period", 250), ("perpendicular", 658), ("phi", 521),
    ("phi1", 603), ("pi", 549), ("plus", 549), ("plusminus", 549), ("product", 823),
    ("propersubset", 713), ("propersuperset", 713), ("proportional", 713), ("psi", 686), ("question", 444),
    ("radical", 549), ("radicalex", 500), ("reflexsubset", 713), ("reflexsuperset", 713), ("registersans", 790),
    ("registerserif", 790), ("rho", 549), ("second", 411), ("semicolon", 278), ("seven", 500),
    ("sigma", 603), ("sigma1", 439), ("similar", 549), ("six", 500), ("slash", 278),
    ("space", 250), ("spade", 753), ("suchthat", 439), ("summation", 713), ("tau", 439),
    ("therefore", 863), ("theta", 521), ("theta1", 631), ("three", 500), ("trademarksans", 786),
    ("trademarkserif", 890), ("two", 500), ("underscore", 500), ("union", 768), ("universal", 713),
    ("upsilon", 576), ("weierstrass", 987), ("xi", 493), ("zero", 500), ("zeta", 494),
];

#[rustfmt::skip]
static ZAPF_DINGBATS: [(&str, u16); 202] = [
    ("a1", 974), ("a10", 692), ("a100", 668), ("a101", 732), ("a102", 544),
    ("a103", 544), ("a104", 910), ("a105", 911), ("a106", 667), ("a107", 760),
    ("a108", 760), ("a109", 626), ("a11", 960), ("a110", 694), ("a111", 595),
    ("a112", 776), ("a117", 690), ("a118", 791), ("a119", 790), ("a12", 939),
    ("a120", 788), ("a121", 788), ("a122", 788), ("a123", 788), ("a124", 788),
    ("a125", 788), ("a126", 788), ("a127", 788), ("a128", 788), ("a129", 788),
    ("a13", 549), ("a130", 788), ("a131", 788), ("a132", 788), ("a133", 788),
    ("a134", 788), ("a135", 788), ("a136", 788), ("a137", 788), ("a138", 788),
    ("a139", 788), ("a14", 855), ("a140", 788), ("a141", 788), ("a142", 788),
    ("a143", 788), ("a144", 788), ("a145", 788), ("a146", 788), ("a147", 788),
    ("a148", 788), ("a149", 788), ("a15", 911), ("a150", 788), ("a151", 788),
    ("a152", 788), ("a153", 788), ("a154", 788), ("a155", 788), ("a156", 788),
    ("a157", 788), ("a158", 788), ("a159", 788), ("a16", 933), ("a160", 894),
    ("a161", 838), ("a162", 924), ("a163", 1016), ("a164", 458), ("a165", 924),
    ("a166", 918), ("a167", 927), ("a168", 928), ("a169", 928), ("a17", 945),
    ("a170", 834), ("a171", 873), ("a172", 828), ("a173", 924), ("a174", 917),
    ("a175", 930), ("a176", 931), ("a177", 463), ("a178", 883), ("a179", 836),
    ("a18", 974), ("a180", 867), ("a181", 696), ("a182", 874), ("a183", 760),
    ("a184", 946), ("a185", 865), ("a186", 967), ("a187", 831), ("a188", 873),
    ("a189", 927), ("a19", 755), ("a190", 970), ("a191", 918), ("a192", 748),
    ("a193", 836), ("a194", 771), ("a195", 888), ("a196", 748), ("a197", 771),
    ("a198", 888), ("a199", 867), ("a2", 961), ("a20", 846), ("a200", 696),
    ("a201", 874), ("a202", 974), ("a203", 762), ("a204", 759), ("a205", 509),
    ("a206", 410), ("a21", 762), ("a22", 761), ("a23", 571), ("a24", 677),
    ("a25", 763), ("a26", 760), ("a27", 759), ("a28", 754), ("a29", 786),
    ("a3", 980), ("a30", 788), ("a31", 788), ("a32", 790), ("a33", 793),
    ("a34", 794), ("a35", 816), ("a36", 823), ("a37", 789), ("a38", 841),
    ("a39", 823), ("a4", 719), ("a40", 833), ("a41", 816), ("a42", 831),
    ("a43", 923), ("a44", 744), ("a45", 723), ("a46", 749), ("a47", 790),
    ("a48", 792), ("a49", 695), ("a5", 789), ("a50", 776), ("a51", 768),
    ("a52", 792), ("a53", 759), ("a54", 707), ("a55", 708), ("a56", 682),
    ("a57", 701), ("a58", 826), ("a59", 815), ("a6", 494), ("a60", 789),
    ("a61", 789), ("a62", 707), ("a63", 687), ("a64", 696), ("a65", 689),
    ("a66", 786), ("a67", 787), ("a68", 713), ("a69", 791), ("a7", 552),
    ("a70", 785), ("a71", 791), ("a72", 873), ("a73", 761), ("a74", 762),
    ("a75", 759), ("a76", 892), ("a77", 892), ("a78", 788), ("a79", 784),
    ("a8", 537), ("a81", 438), ("a82", 138), ("a83", 277), ("a84", 415),
    ("a85", 509), ("a86", 410), ("a87", 234), ("a88", 234), ("a89", 390),
    ("a9", 577), ("a90", 390), ("a91", 276), ("a92", 276), ("a93", 317),
    ("a94", 317), ("a95", 334), ("a96", 334), ("a97", 392), ("a98", 392),
    ("a99", 668), ("space", 278),
];

#[rustfmt::skip]
static AGL: [(&str, char); 685] = [
    ("A", '\u{0041}'), ("AE", '\u{00C6}'), ("Aacute", '\u{00C1}'), ("Abreve", '\u{0102}'),
    ("Acircumflex", '\u{00C2}'), ("Adieresis", '\u{00C4}'), ("Agrave", '\u{00C0}'), ("Alpha", '\u{0391}'),
    ("Alphatonos", '\u{0386}'), ("Amacron", '\u{0100}'), ("Aogonek", '\u{0104}'), ("Aring", '\u{00C5}'),
    ("Atilde", '\u{00C3}'), ("B", '\u{0042}'), ("Beta", '\u{0392}'), ("C", '\u{0043}'),
    ("Cacute", '\u{0106}'), ("Ccaron", '\u{010C}'), ("Ccedilla", '\u{00C7}'), ("Ccircumflex", '\u{0108}'),
    ("Cdot", '\u{010A}'), ("Cdotaccent", '\u{010A}'), ("Chi", '\u{03A7}'), ("D", '\u{0044}'),
    ("Dcaron", '\u{010E}'), ("Dcroat", '\u{0110}'), ("Deicoptic", '\u{03EE}'), ("Delta", '\u{2206}'),
    ("Deltagreek", '\u{0394}'), ("Digammagreek", '\u{03DC}'), ("Dslash", '\u{0110}'), ("E", '\u{0045}'),
    ("Eacute", '\u{00C9}'), ("Ebreve", '\u{0114}'), ("Ecaron", '\u{011A}'), ("Ecircumflex", '\u{00CA}'),
    ("Edieresis", '\u{00CB}'), ("Edot", '\u{0116}'), ("Edotaccent", '\u{0116}'), ("Egrave", '\u{00C8}'),
    ("Emacron", '\u{0112}'), ("Eng", '\u{014A}'), ("Eogonek", '\u{0118}'), ("Epsilon", '\u{0395}'),
    ("Epsilontonos", '\u{0388}'), ("Eta", '\u{0397}'), ("Etatonos", '\u{0389}'), ("Eth", '\u{00D0}'),
    ("Euro", '\u{20AC}'), ("F", '\u{0046}'), ("Feicoptic", '\u{03E4}'), ("G", '\u{0047}'),
    ("Gamma", '\u{0393}'), ("Gangiacoptic", '\u{03EA}'), ("Gbreve", '\u{011E}'), ("Gcedilla", '\u{0122}'),
    ("Gcircumflex", '\u{011C}'), ("Gcommaaccent", '\u{0122}'), ("Gdot", '\u{0120}'), ("Gdotaccent", '\u{0120}'),
    ("H", '\u{0048}'), ("Hbar", '\u{0126}'), ("Hcircumflex", '\u{0124}'), ("Horicoptic", '\u{03E8}'),
    ("I", '\u{0049}'), ("IJ", '\u{0132}'), ("Iacute", '\u{00CD}'), ("Ibreve", '\u{012C}'),
    ("Icircumflex", '\u{00CE}'), ("Idieresis", '\u{00CF}'), ("Idot", '\u{0130}'), ("Idotaccent", '\u{0130}'),
    ("Ifraktur", '\u{2111}'), ("Igrave", '\u{00CC}'), ("Imacron", '\u{012A}'), ("Iogonek", '\u{012E}'),
    ("Iota", '\u{0399}'), ("Iotadieresis", '\u{03AA}'), ("Iotatonos", '\u{038A}'), ("Itilde", '\u{0128}'),
    ("J", '\u{004A}'), ("Jcircumflex", '\u{0134}'), ("K", '\u{004B}'), ("Kappa", '\u{039A}'),
    ("Kcedilla", '\u{0136}'), ("Kcommaaccent", '\u{0136}'), ("Kheicoptic", '\u{03E6}'), ("Koppagreek", '\u{03DE}'),
    ("L", '\u{004C}'), ("Lacute", '\u{0139}'), ("Lambda", '\u{039B}'), ("Lcaron", '\u{013D}'),
    ("Lcedilla", '\u{013B}'), ("Lcommaaccent", '\u{013B}'), ("Ldot", '\u{013F}'), ("Ldotaccent", '\u{013F}'),
    ("Lslash", '\u{0141}'), ("M", '\u{004D}'), ("Mu", '\u{039C}'), ("N", '\u{004E}'),
    ("Nacute", '\u{0143}'), ("Ncaron", '\u{0147}'), ("Ncedilla", '\u{0145}'), ("Ncommaaccent", '\u{0145}'),
    ("Ntilde", '\u{00D1}'), ("Nu", '\u{039D}'), ("O", '\u{004F}'), ("OE", '\u{0152}'),
    ("Oacute", '\u{00D3}'), ("Obreve", '\u{014E}'), ("Ocircumflex", '\u{00D4}'), ("Odblacute", '\u{0150}'),
    ("Odieresis", '\u{00D6}'), ("Ograve", '\u{00D2}'), ("Ohm", '\u{2126}'), ("Ohungarumlaut", '\u{0150}'),
    ("Omacron", '\u{014C}'), ("Omega", '\u{2126}'), ("Omegagreek", '\u{03A9}'), ("Omegatonos", '\u{038F}'),
    ("Omicron", '\u{039F}'), ("Omicrontonos", '\u{038C}'), ("Oslash", '\u{00D8}'), ("Otilde", '\u{00D5}'),
    ("P", '\u{0050}'), ("Phi", '\u{03A6}'), ("Pi", '\u{03A0}'), ("Psi", '\u{03A8}'),
    ("Q", '\u{0051}'), ("R", '\u{0052}'), ("Racute", '\u{0154}'), ("Rcaron", '\u{0158}'),
    ("Rcedilla", '\u{0156}'), ("Rcommaaccent", '\u{0156}'), ("Rfraktur", '\u{211C}'), ("Rho", '\u{03A1}'),
    ("Rsmallinvertedsuperior", '\u{02B6}'), ("S", '\u{0053}'), ("Sacute", '\u{015A}'), ("Sampigreek", '\u{03E0}'),
    ("Scaron", '\u{0160}'), ("Scedilla", '\u{015E}'), ("Scircumflex", '\u{015C}'), ("Sheicoptic", '\u{03E2}'),
    ("Shimacoptic", '\u{03EC}'), ("Sigma", '\u{03A3}'), ("Stigmagreek", '\u{03DA}'), ("T", '\u{0054}'),
    ("Tau", '\u{03A4}'), ("Tbar", '\u{0166}'), ("Tcaron", '\u{0164}'), ("Tcedilla", '\u{0162}'),
    ("Tcommaaccent", '\u{0162}'), ("Theta", '\u{0398}'), ("Thorn", '\u{00DE}'), ("U", '\u{0055}'),
    ("Uacute", '\u{00DA}'), ("Ubreve", '\u{016C}'), ("Ucircumflex", '\u{00DB}'), ("Udblacute", '\u{0170}'),
    ("Udieresis", '\u{00DC}'), ("Ugrave", '\u{00D9}'), ("Uhungarumlaut", '\u{0170}'), ("Umacron", '\u{016A}'),
    ("Uogonek", '\u{0172}'), ("Upsilon", '\u{03A5}'), ("Upsilon1", '\u{03D2}'), ("Upsilonacutehooksymbolgreek", '\u{03D3}'),
    ("Upsilondieresis", '\u{03AB}'), ("Upsilondieresishooksymbolgreek", '\u{03D4}'), ("Upsilonhooksymbol", '\u{03D2}'), ("Upsilontonos", '\u{038E}'),
    ("Uring", '\u{016E}'), ("Utilde", '\u{0168}'), ("V", '\u{0056}'), ("W", '\u{0057}'),
    ("Wcircumflex", '\u{0174}'), ("X", '\u{0058}'), ("Xi", '\u{039E}'), ("Y", '\u{0059}'),
    ("Yacute", '\u{00DD}'), ("Ycircumflex", '\u{0176}'), ("Ydieresis", '\u{0178}'), ("Z", '\u{005A}'),
    ("Zacute", '\u{0179}'), ("Zcaron", '\u{017D}'), ("Zdot", '\u{017B}'), ("Zdotaccent", '\u{017B}'),
    ("Zeta", '\u{0396}'), ("a", '\u{0061}'), ("aacute", '\u{00E1}'), ("abreve", '\u{0103}'),
    ("acircumflex", '\u{00E2}'), ("acute", '\u{00B4}'), ("acutelowmod", '\u{02CF}'), ("adieresis", '\u{00E4}'),
    ("ae", '\u{00E6}'), ("agrave", '\u{00E0}'), ("aleph", '\u{2135}'), ("alpha", '\u{03B1}'),
    ("alphatonos", '\u{03AC}'), ("amacron", '\u{0101}'), ("ampersand", '\u{0026}'), ("angle", '\u{2220}'),
    ("angleleft", '\u{2329}'), ("angleright", '\u{232A}'), ("angstrom", '\u{212B}'), ("anoteleia", '\u{0387}'),
    ("aogonek", '\u{0105}'), ("apostrophemod", '\u{02BC}'), ("apple", '\u{F8FF}'), ("approxequal", '\u{2248}'),
    ("aring", '\u{00E5}'), ("arrowboth", '\u{2194}'), ("arrowdblboth", '\u{21D4}'), ("arrowdbldown", '\u{21D3}'),
    ("arrowdblleft", '\u{21D0}'), ("arrowdblright", '\u{21D2}'), ("arrowdblup", '\u{21D1}'), ("arrowdown", '\u{2193}'),
    ("arrowheaddownmod", '\u{02C5}'), ("arrowheadleftmod", '\u{02C2}'), ("arrowheadrightmod", '\u{02C3}'), ("arrowheadupmod", '\u{02C4}'),
    ("arrowhorizex", '\u{F8E7}'), ("arrowleft", '\u{2190}'), ("arrowright", '\u{2192}'), ("arrowup", '\u{2191}'),
    ("arrowvertex", '\u{F8E6}'), ("asciicircum", '\u{005E}'), ("asciitilde", '\u{007E}'), ("asterisk", '\u{002A}'),
    ("asteriskmath", '\u{2217}'), ("asterism", '\u{2042}'), ("at", '\u{0040}'), ("atilde", '\u{00E3}'),
    ("b", '\u{0062}'), ("backslash", '\u{005C}'), ("bar", '\u{007C}'), ("beta", '\u{03B2}'),
    ("betasymbolgreek", '\u{03D0}'), ("braceex", '\u{F8F4}'), ("braceleft", '\u{007B}'), ("braceleftbt", '\u{F8F3}'),
    ("braceleftmid", '\u{F8F2}'), ("bracelefttp", '\u{F8F1}'), ("braceright", '\u{007D}'), ("bracerightbt", '\u{F8FE}'),
    ("bracerightmid", '\u{F8FD}'), ("bracerighttp", '\u{F8FC}'), ("bracketleft", '\u{005B}'), ("bracketleftbt", '\u{F8F0}'),
    ("bracketleftex", '\u{F8EF}'), ("bracketlefttp", '\u{F8EE}'), ("bracketright", '\u{005D}'), ("bracketrightbt", '\u{F8FB}'),
    ("bracketrightex", '\u{F8FA}'), ("bracketrighttp", '\u{F8F9}'), ("breve", '\u{02D8}'), ("brokenbar", '\u{00A6}'),
    ("bullet", '\u{2022}'), ("c", '\u{0063}'), ("cacute", '\u{0107}'), ("careof", '\u{2105}'),
    ("caron", '\u{02C7}'), ("carriagereturn", '\u{21B5}'), ("ccaron", '\u{010D}'), ("ccedilla", '\u{00E7}'),
    ("ccircumflex", '\u{0109}'), ("cdot", '\u{010B}'), ("cdotaccent", '\u{010B}'), ("cedilla", '\u{00B8}'),
    ("cent", '\u{00A2}'), ("centigrade", '\u{2103}'), ("chi", '\u{03C7}'), ("circlemultiply", '\u{2297}'),
    ("circleplus", '\u{2295}'), ("circumflex", '\u{02C6}'), ("club", '\u{2663}'), ("colon", '\u{003A}'),
    ("colonmonetary", '\u{20A1}'), ("colonsign", '\u{20A1}'), ("colontriangularhalfmod", '\u{02D1}'), ("colontriangularmod", '\u{02D0}'),
    ("comma", '\u{002C}'), ("commareversedmod", '\u{02BD}'), ("commaturnedmod", '\u{02BB}'), ("congruent", '\u{2245}'),
    ("controlDEL", '\u{007F}'), ("copyright", '\u{00A9}'), ("copyrightsans", '\u{F8E9}'), ("copyrightserif", '\u{F6D9}'),
    ("cruzeiro", '\u{20A2}'), ("currency", '\u{00A4}'), ("d", '\u{0064}'), ("dagger", '\u{2020}'),
    ("daggerdbl", '\u{2021}'), ("dbllowline", '\u{2017}'), ("dblprimemod", '\u{02BA}'), ("dblverticalbar", '\u{2016}'),
    ("dcaron", '\u{010F}'), ("dcroat", '\u{0111}'), ("degree", '\u{00B0}'), ("deicoptic", '\u{03EF}'),
    ("delta", '\u{03B4}'), ("dialytikatonos", '\u{0385}'), ("diamond", '\u{2666}'), ("dieresis", '\u{00A8}'),
    ("dieresistonos", '\u{0385}'), ("divide", '\u{00F7}'), ("dmacron", '\u{0111}'), ("dollar", '\u{0024}'),
    ("dong", '\u{20AB}'), ("dotaccent", '\u{02D9}'), ("dotlessi", '\u{0131}'), ("dotmath", '\u{22C5}'),
    ("downtackmod", '\u{02D5}'), ("e", '\u{0065}'), ("eacute", '\u{00E9}'), ("ebreve", '\u{0115}'),
    ("ecaron", '\u{011B}'), ("ecircumflex", '\u{00EA}'), ("edieresis", '\u{00EB}'), ("edot", '\u{0117}'),
    ("edotaccent", '\u{0117}'), ("egrave", '\u{00E8}'), ("eight", '\u{0038}'), ("element", '\u{2208}'),
    ("ellipsis", '\u{2026}'), ("emacron", '\u{0113}'), ("emdash", '\u{2014}'), ("emptyset", '\u{2205}'),
    ("endash", '\u{2013}'), ("eng", '\u{014B}'), ("enspace", '\u{2002}'), ("eogonek", '\u{0119}'),
    ("epsilon", '\u{03B5}'), ("epsilontonos", '\u{03AD}'), ("equal", '\u{003D}'), ("equivalence", '\u{2261}'),
    ("estimated", '\u{212E}'), ("eta", '\u{03B7}'), ("etatonos", '\u{03AE}'), ("eth", '\u{00F0}'),
    ("euro", '\u{20AC}'), ("exclam", '\u{0021}'), ("exclamdbl", '\u{203C}'), ("exclamdown", '\u{00A1}'),
    ("existential", '\u{2203}'), ("f", '\u{0066}'), ("fahrenheit", '\u{2109}'), ("feicoptic", '\u{03E5}'),
    ("ff", '\u{FB00}'), ("ffi", '\u{FB03}'), ("ffl", '\u{FB04}'), ("fi", '\u{FB01}'),
    ("figuredash", '\u{2012}'), ("firsttonechinese", '\u{02C9}'), ("five", '\u{0035}'), ("fl", '\u{FB02}'),
    ("florin", '\u{0192}'), ("four", '\u{0034}'), ("fourthtonechinese", '\u{02CB}'), ("fraction", '\u{2044}'),
    ("franc", '\u{20A3}'), ("g", '\u{0067}'), ("gamma", '\u{03B3}'), ("gammasuperior", '\u{02E0}'),
    ("gangiacoptic", '\u{03EB}'), ("gbreve", '\u{011F}'), ("gcedilla", '\u{0123}'), ("gcircumflex", '\u{011D}'),
    ("gcommaaccent", '\u{0123}'), ("gdot", '\u{0121}'), ("gdotaccent", '\u{0121}'), ("germandbls", '\u{00DF}'),
    ("glottalstopmod", '\u{02C0}'), ("glottalstopreversedmod", '\u{02C1}'), ("glottalstopreversedsuperior", '\u{02E4}'), ("gradient", '\u{2207}'),
    ("grave", '\u{0060}'), ("gravelowmod", '\u{02CE}'), ("greater", '\u{003E}'), ("greaterequal", '\u{2265}'),
    ("guillemotleft", '\u{00AB}'), ("guillemotright", '\u{00BB}'), ("guilsinglleft", '\u{2039}'), ("guilsinglright", '\u{203A}'),
    ("h", '\u{0068}'), ("hbar", '\u{0127}'), ("hcircumflex", '\u{0125}'), ("heart", '\u{2665}'),
    ("hhooksuperior", '\u{02B1}'), ("horicoptic", '\u{03E9}'), ("horizontalbar", '\u{2015}'), ("hsuperior", '\u{02B0}'),
    ("hungarumlaut", '\u{02DD}'), ("hyphen", '\u{002D}'), ("hyphentwo", '\u{2010}'), ("i", '\u{0069}'),
    ("iacute", '\u{00ED}'), ("ibreve", '\u{012D}'), ("icircumflex", '\u{00EE}'), ("idieresis", '\u{00EF}'),
    ("igrave", '\u{00EC}'), ("ij", '\u{0133}'), ("ilde", '\u{02DC}'), ("imacron", '\u{012B}'),
    ("infinity", '\u{221E}'), ("integral", '\u{222B}'), ("integralbt", '\u{2321}'), ("integralex", '\u{F8F5}'),
    ("integraltp", '\u{2320}'), ("intersection", '\u{2229}'), ("iogonek", '\u{012F}'), ("iota", '\u{03B9}'),
    ("iotadieresis", '\u{03CA}'), ("iotadieresistonos", '\u{0390}'), ("iotatonos", '\u{03AF}'), ("itilde", '\u{0129}'),
    ("j", '\u{006A}'), ("jcircumflex", '\u{0135}'), ("jsuperior", '\u{02B2}'), ("k", '\u{006B}'),
    ("kappa", '\u{03BA}'), ("kappasymbolgreek", '\u{03F0}'), ("kcedilla", '\u{0137}'), ("kcommaaccent", '\u{0137}'),
    ("kgreenlandic", '\u{0138}'), ("kheicoptic", '\u{03E7}'), ("l", '\u{006C}'), ("lacute", '\u{013A}'),
    ("lambda", '\u{03BB}'), ("lcaron", '\u{013E}'), ("lcedilla", '\u{013C}'), ("lcommaaccent", '\u{013C}'),
    ("ldot", '\u{0140}'), ("ldotaccent", '\u{0140}'), ("less", '\u{003C}'), ("lessequal", '\u{2264}'),
    ("lira", '\u{20A4}'), ("logicaland", '\u{2227}'), ("logicalnot", '\u{00AC}'), ("logicalor", '\u{2228}'),
    ("longs", '\u{017F}'), ("lozenge", '\u{25CA}'), ("lslash", '\u{0142}'), ("lsquare", '\u{2113}'),
    ("m", '\u{006D}'), ("macron", '\u{00AF}'), ("macronlowmod", '\u{02CD}'), ("middot", '\u{00B7}'),
    ("minus", '\u{2212}'), ("minusmod", '\u{02D7}'), ("minute", '\u{2032}'), ("mu", '\u{00B5}'),
    ("mu1", '\u{00B5}'), ("mugreek", '\u{03BC}'), ("multiply", '\u{00D7}'), ("n", '\u{006E}'),
    ("nacute", '\u{0144}'), ("napostrophe", '\u{0149}'), ("nbspace", '\u{00A0}'), ("ncaron", '\u{0148}'),
    ("ncedilla", '\u{0146}'), ("ncommaaccent", '\u{0146}'), ("newsheqelsign", '\u{20AA}'), ("nine", '\u{0039}'),
    ("nonbreakingspace", '\u{00A0}'), ("notelement", '\u{2209}'), ("notequal", '\u{2260}'), ("notsubset", '\u{2284}'),
    ("ntilde", '\u{00F1}'), ("nu", '\u{03BD}'), ("numbersign", '\u{0023}'), ("numeralsigngreek", '\u{0374}'),
    ("numeralsignlowergreek", '\u{0375}'), ("numero", '\u{2116}'), ("o", '\u{006F}'), ("oacute", '\u{00F3}'),
    ("obreve", '\u{014F}'), ("ocircumflex", '\u{00F4}'), ("odblacute", '\u{0151}'), ("odieresis", '\u{00F6}'),
    ("oe", '\u{0153}'), ("ogonek", '\u{02DB}'), ("ograve", '\u{00F2}'), ("ohungarumlaut", '\u{0151}'),
    ("omacron", '\u{014D}'), ("omega", '\u{03C9}'), ("omega1", '\u{03D6}'), ("omegatonos", '\u{03CE}'),
    ("omicron", '\u{03BF}'), ("omicrontonos", '\u{03CC}'), ("one", '\u{0031}'), ("onedotenleader", '\u{2024}'),
    ("onehalf", '\u{00BD}'), ("onequarter", '\u{00BC}'), ("onesuperior", '\u{00B9}'), ("ordfeminine", '\u{00AA}'),
    ("ordmasculine", '\u{00BA}'), ("oslash", '\u{00F8}'), ("otilde", '\u{00F5}'), ("overline", '\u{203E}'),
    ("overscore", '\u{00AF}'), ("p", '\u{0070}'), ("paragraph", '\u{00B6}'), ("parenleft", '\u{0028}'),
    ("parenleftbt", '\u{F8ED}'), ("parenleftex", '\u{F8EC}'), ("parenlefttp", '\u{F8EB}'), ("parenright", '\u{0029}'),
    ("parenrightbt", '\u{F8F8}'), ("parenrightex", '\u{F8F7}'), ("parenrighttp", '\u{F8F6}'), ("partialdiff", '\u{2202}'),
    ("percent", '\u{0025}'), ("period", '\u{002E}'), ("periodcentered", '\u{00B7}'), ("perpendicular", '\u{22A5}'),
    ("perthousand", '\u{2030}'), ("peseta", '\u{20A7}'), ("phi", '\u{03C6}'), ("phi1", '\u{03D5}'),
    ("phisymbolgreek", '\u{03D5}'), ("pi", '\u{03C0}'), ("pisymbolgreek", '\u{03D6}'), ("plus", '\u{002B}'),
    ("plusminus", '\u{00B1}'), ("plusmod", '\u{02D6}'), ("prescription", '\u{211E}'), ("primemod", '\u{02B9}'),
    ("primereversed", '\u{2035}'), ("product", '\u{220F}'), ("propersubset", '\u{2282}'), ("propersuperset", '\u{2283}'),
    ("proportional", '\u{221D}'), ("psi", '\u{03C8}'), ("q", '\u{0071}'), ("question", '\u{003F}'),
    ("questiondown", '\u{00BF}'), ("questiongreek", '\u{037E}'), ("quotedbl", '\u{0022}'), ("quotedblbase", '\u{201E}'),
    ("quotedblleft", '\u{201C}'), ("quotedblright", '\u{201D}'), ("quoteleft", '\u{2018}'), ("quoteleftreversed", '\u{201B}'),
    ("quotereversed", '\u{201B}'), ("quoteright", '\u{2019}'), ("quoterightn", '\u{0149}'), ("quotesinglbase", '\u{201A}'),
    ("quotesingle", '\u{0027}'), ("r", '\u{0072}'), ("racute", '\u{0155}'), ("radical", '\u{221A}'),
    ("radicalex", '\u{F8E5}'), ("rcaron", '\u{0159}'), ("rcedilla", '\u{0157}'), ("rcommaaccent", '\u{0157}'),
    ("referencemark", '\u{203B}'), ("reflexsubset", '\u{2286}'), ("reflexsuperset", '\u{2287}'), ("registered", '\u{00AE}'),
    ("registersans", '\u{F8E8}'), ("registerserif", '\u{F6DA}'), ("rho", '\u{03C1}'), ("rhookturnedsuperior", '\u{02B5}'),
    ("rhosymbolgreek", '\u{03F1}'), ("rhotichookmod", '\u{02DE}'), ("ring", '\u{02DA}'), ("ringhalfleft", '\u{02BF}'),
    ("ringhalfleftcentered", '\u{02D3}'), ("ringhalfright", '\u{02BE}'), ("ringhalfrightcentered", '\u{02D2}'), ("rturnedsuperior", '\u{02B4}'),
    ("s", '\u{0073}'), ("sacute", '\u{015B}'), ("scaron", '\u{0161}'), ("scedilla", '\u{015F}'),
    ("scircumflex", '\u{015D}'), ("second", '\u{2033}'), ("secondtonechinese", '\u{02CA}'), ("section", '\u{00A7}'),
    ("semicolon", '\u{003B}'), ("seven", '\u{0037}'), ("sfthyphen", '\u{00AD}'), ("sheicoptic", '\u{03E3}'),
    ("sheqel", '\u{20AA}'), ("sheqelhebrew", '\u{20AA}'), ("shimacoptic", '\u{03ED}'), ("sigma", '\u{03C3}'),
    ("sigma1", '\u{03C2}'), ("sigmafinal", '\u{03C2}'), ("sigmalunatesymbolgreek", '\u{03F2}'), ("similar", '\u{223C}'),
    ("six", '\u{0036}'), ("slash", '\u{002F}'), ("slong", '\u{017F}'), ("softhyphen", '\u{00AD}'),
    ("space", '\u{0020}'), ("spacehackarabic", '\u{0020}'), ("spade", '\u{2660}'), ("sterling", '\u{00A3}'),
    ("suchthat", '\u{220B}'), ("summation", '\u{2211}'), ("t", '\u{0074}'), ("tau", '\u{03C4}'),
    ("tbar", '\u{0167}'), ("tcaron", '\u{0165}'), ("tcedilla", '\u{0163}'), ("tcommaaccent", '\u{0163}'),
    ("telephone", '\u{2121}'), ("therefore", '\u{2234}'), ("theta", '\u{03B8}'), ("theta1", '\u{03D1}'),
    ("thetasymbolgreek", '\u{03D1}'), ("thorn", '\u{00FE}'), ("three", '\u{0033}'), ("threequarters", '\u{00BE}'),
    ("threesuperior", '\u{00B3}'), ("tilde", '\u{02DC}'), ("tonebarextrahighmod", '\u{02E5}'), ("tonebarextralowmod", '\u{02E9}'),
    ("tonebarhighmod", '\u{02E6}'), ("tonebarlowmod", '\u{02E8}'), ("tonebarmidmod", '\u{02E7}'), ("tonos", '\u{0384}'),
    ("trademark", '\u{2122}'), ("trademarksans", '\u{F8EA}'), ("trademarkserif", '\u{F6DB}'), ("two", '\u{0032}'),
    ("twodotenleader", '\u{2025}'), ("twodotleader", '\u{2025}'), ("twosuperior", '\u{00B2}'), ("u", '\u{0075}'),
    ("uacute", '\u{00FA}'), ("ubreve", '\u{016D}'), ("ucircumflex", '\u{00FB}'), ("udblacute", '\u{0171}'),
    ("udieresis", '\u{00FC}'), ("ugrave", '\u{00F9}'), ("uhungarumlaut", '\u{0171}'), ("umacron", '\u{016B}'),
    ("underscore", '\u{005F}'), ("underscoredbl", '\u{2017}'), ("union", '\u{222A}'), ("universal", '\u{2200}'),
    ("uogonek", '\u{0173}'), ("upsilon", '\u{03C5}'), ("upsilondieresis", '\u{03CB}'), ("upsilondieresistonos", '\u{03B0}'),
    ("upsilontonos", '\u{03CD}'), ("uptackmod", '\u{02D4}'), ("uring", '\u{016F}'), ("utilde", '\u{0169}'),
    ("v", '\u{0076}'), ("verticalbar", '\u{007C}'), ("verticallinelowmod", '\u{02CC}'), ("verticallinemod", '\u{02C8}'),
    ("w", '\u{0077}'), ("wcircumflex", '\u{0175}'), ("weierstrass", '\u{2118}'), ("won", '\u{20A9}'),
    ("wsuperior", '\u{02B7}'), ("x", '\u{0078}'), ("xi", '\u{03BE}'), ("xsuperior", '\u{02E3}'),
    ("y", '\u{0079}'), ("yacute", '\u{00FD}'), ("ycircumflex", '\u{0177}'), ("ydieresis", '\u{00FF}'),
    ("yen", '\u{00A5}'), ("yotgreek", '\u{03F3}'), ("ypogegrammeni", '\u{037A}'), ("ysuperior", '\u{02B8}'),
    ("z", '\u{007A}'), ("zacute", '\u{017A}'), ("zcaron", '\u{017E}'), ("zdot", '\u{017C}'),
    ("zdotaccent", '\u{017C}'), ("zero", '\u{0030}'), ("zerowidthnonjoiner", '\u{200C}'), ("zerowidthspace", '\u{200B}'),
    ("zeta", '\u{03B6}'),
];

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

    fn is_sorted<T>(table: &[(&str, T)]) -> bool {
        table.windows(2).all(|w| w[0].0 < w[1].0)
    }

    #[test]
    fn name_tables_are_sorted_for_binary_search() {
        assert!(is_sorted(&LATIN));
        assert!(is_sorted(&SYMBOL));
        assert!(is_sorted(&ZAPF_DINGBATS));
        assert!(is_sorted(&AGL));
    }

    #[test]
    fn encodings_match_annex_d_samples() {
        assert_eq!(win_ansi(b'A'), Some("A"));
        assert_eq!(win_ansi(0x27), Some("quotesingle"));
        assert_eq!(win_ansi(0x80), Some("Euro"));
        assert_eq!(win_ansi(0x81), Some("bullet"));
        assert_eq!(win_ansi(0xA0), Some("space"));
        assert_eq!(win_ansi(0xAD), Some("hyphen"));
        assert_eq!(win_ansi(0xFF), Some("ydieresis"));
        assert_eq!(win_ansi(0x1F), None);
        assert_eq!(standard(0x27), Some("quoteright"));
        assert_eq!(standard(0x60), Some("quoteleft"));
        assert_eq!(standard(0xA4), Some("fraction"));
        assert_eq!(standard(0xE1), Some("AE"));
        assert_eq!(standard(0xFB), Some("germandbls"));
        assert_eq!(standard(0x80), None);
        assert_eq!(standard(0x7F), None);
        assert_eq!(mac_roman(0x80), Some("Adieresis"));
        assert_eq!(mac_roman(0xCA), Some("space"));
        assert_eq!(mac_roman(0xDB), Some("currency"));
        assert_eq!(mac_roman(0xDE), Some("fi"));
        assert_eq!(mac_roman(0xAD), None, "notequal is Mac OS Roman only");
        assert_eq!(mac_roman(0xF0), None, "apple is Mac OS Roman only");
        assert_eq!(pdf_doc(0x18), Some("breve"));
        assert_eq!(pdf_doc(0x1F), Some("tilde"));
        assert_eq!(pdf_doc(0x8A), Some("minus"));
        assert_eq!(pdf_doc(0x9F), None);
        assert_eq!(pdf_doc(0xA0), Some("Euro"));
        assert_eq!(pdf_doc(0xAD), None);
        assert_eq!(pdf_doc(0x0A), None);
    }

    #[test]
    fn every_encoded_name_has_unicode_and_latin_width() {
        for code in 0..=255u8 {
            for name in [
                win_ansi(code),
                standard(code),
                mac_roman(code),
                pdf_doc(code),
            ]
            .into_iter()
            .flatten()
            {
                assert!(glyph_to_unicode(name).is_some(), "{name} at {code:#04x}");
                assert!(standard14_width("Helvetica", name).is_some(), "{name}");
                assert_eq!(standard14_width("Courier", name), Some(600), "{name}");
            }
        }
    }

    #[test]
    fn win_ansi_encode_round_trips_through_glyph_names() {
        let mut covered = 0;
        for cp in 0..0x3000u32 {
            let Some(ch) = char::from_u32(cp) else {
                continue;
            };
            let Some(bytes) = win_ansi_encode(&ch.to_string()) else {
                continue;
            };
            covered += 1;
            assert_eq!(bytes.len(), 1);
            let name = win_ansi(bytes[0]).unwrap();
            let back = glyph_to_unicode(name).unwrap();
            match ch {
                // Annex D names these codes `space`/`hyphen`.
                '\u{A0}' => assert_eq!(back, " "),
                '\u{AD}' => assert_eq!(back, "-"),
                _ => assert_eq!(back, ch.to_string(), "{ch:?} -> {:#04x} {name}", bytes[0]),
            }
        }
        // 95 printable ASCII + 96 Latin-1 + 27 CP1252 extensions.
        assert_eq!(covered, 95 + 96 + 27);
        assert_eq!(
            win_ansi_encode("Signed 2024-05-01 – €5 “ok” Zoë").unwrap(),
            b"Signed 2024-05-01 \x96 \x805 \x93ok\x94 Zo\xeb"
        );
        assert_eq!(win_ansi_encode("line\nbreak"), None);
        assert_eq!(win_ansi_encode("签"), None);
        assert_eq!(win_ansi_encode("").unwrap(), b"");
    }

    #[test]
    fn glyph_names_follow_agl_rules() {
        let g = |n: &str| glyph_to_unicode(n);
        assert_eq!(g("A").as_deref(), Some("A"));
        assert_eq!(g("Euro").as_deref(), Some("\u{20AC}"));
        assert_eq!(g("fi").as_deref(), Some("\u{FB01}"));
        assert_eq!(g("ffl").as_deref(), Some("\u{FB04}"));
        assert_eq!(g("dotlessi").as_deref(), Some("\u{131}"));
        assert_eq!(g("a.sc").as_deref(), Some("a"));
        assert_eq!(g("f_f_i").as_deref(), Some("ffi"));
        assert_eq!(g("f_f.liga").as_deref(), Some("ff"));
        assert_eq!(g("uni0041").as_deref(), Some("A"));
        assert_eq!(g("uni00410042").as_deref(), Some("AB"));
        assert_eq!(g("uni8BC1").as_deref(), Some("证"));
        assert_eq!(g("uni8bc1").as_deref(), Some("证"));
        assert_eq!(g("uniD800"), None, "surrogates are not scalar values");
        assert_eq!(g("uni004"), None);
        assert_eq!(g("u1F600").as_deref(), Some("\u{1F600}"));
        assert_eq!(g("u8BC1").as_deref(), Some("证"));
        assert_eq!(g("u110000"), None);
        assert_eq!(g("u12"), None);
        assert_eq!(g("alpha").as_deref(), Some("\u{3B1}"));
        assert_eq!(g("Lslash_uni0041").as_deref(), Some("\u{141}A"));
        assert_eq!(g(".notdef"), None);
        assert_eq!(g("nosuchglyph"), None);
        assert_eq!(g(""), None);
    }

    #[test]
    fn standard14_widths_and_aliases() {
        // Values from Adobe's Core14 AFMs.
        assert_eq!(standard14_width("Helvetica", "A"), Some(667));
        assert_eq!(standard14_width("Helvetica", "at"), Some(1015));
        assert_eq!(standard14_width("Helvetica-Bold", "A"), Some(722));
        assert_eq!(standard14_width("Helvetica-BoldOblique", "at"), Some(975));
        assert_eq!(standard14_width("Times-Roman", "space"), Some(250));
        assert_eq!(standard14_width("Times-Italic", "A"), Some(611));
        assert_eq!(standard14_width("Times-BoldItalic", "AE"), Some(944));
        assert_eq!(standard14_width("Courier-BoldOblique", "Euro"), Some(600));
        assert_eq!(standard14_width("Symbol", "alpha"), Some(631));
        assert_eq!(standard14_width("ZapfDingbats", "a1"), Some(974));
        // Aliases and subset tags.
        assert_eq!(standard14_width("ABCDEF+Helvetica", "A"), Some(667));
        assert_eq!(standard14_width("Arial", "A"), Some(667));
        assert_eq!(standard14_width("Arial,Bold", "A"), Some(722));
        assert_eq!(standard14_width("Arial-BoldMT", "A"), Some(722));
        assert_eq!(standard14_width("Helvetica,Bold", "A"), Some(722));
        assert_eq!(standard14_width("TimesNewRoman", "A"), Some(722));
        assert_eq!(
            standard14_width("TimesNewRomanPS-BoldItalicMT", "AE"),
            Some(944)
        );
        assert_eq!(standard14_width("Times New Roman,Italic", "A"), Some(611));
        assert_eq!(standard14_width("CourierNewPSMT", "W"), Some(600));
        // Not standard-14 metrics.
        assert_eq!(standard14_width("Helvetica-Narrow", "A"), None);
        assert_eq!(standard14_width("Arial-Black", "A"), None);
        assert_eq!(standard14_width("abcdef+Helvetica", "A"), None);
        assert_eq!(standard14_width("Verdana", "A"), None);
        assert_eq!(standard14_width("Helvetica", "uni0041"), None);
        assert_eq!(standard14_width("Helvetica", "Abreve"), None);
    }

    #[test]
    fn helvetica_string_width_matches_afm_sum() {
        // "Hello" in Helvetica per the AFM: H 722, e 556, l 222, l 222, o 556.
        let total: u32 = b"Hello"
            .iter()
            .map(|b| u32::from(standard14_width("Helvetica", win_ansi(*b).unwrap()).unwrap()))
            .sum();
        assert_eq!(total, 2278);
    }
}
