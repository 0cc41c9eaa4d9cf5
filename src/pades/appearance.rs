//! Appearance streams for signature widgets (ISO 32000-1 §12.5.5, §12.7.4.5): an image scaled
//! into the box (PNG transparency kept through `/SMask`), or one line of text — Helvetica for
//! text WinAnsi can encode, otherwise the configured TrueType/OpenType font, subset and embedded
//! as a Type0 font with Identity-H and a ToUnicode map so the text extracts as written.

use crate::pdf::edit::Editor;
use crate::pdf::encoding;
use crate::pdf::filter::deflate;
use crate::pdf::font::{Font, Outlines};
use crate::pdf::image::{self, ColorSpace, ImageFilter, ImageLimits, ImageXObject};
use crate::pdf::object::{format_real, round4};
use crate::pdf::{Dictionary, ObjRef, Object};

use super::PadesError;

/// A computed coordinate for a content stream, to 1/10000 pt.
fn fmt4(v: f64) -> String {
    format_real(round4(v))
}

/// What to draw in a widget of `width` × `height` points (view orientation).
pub enum Content<'c> {
    Image(&'c ImageXObject),
    Text(&'c str),
}

/// A content's resources, written once per request however many widgets show it.
pub enum Written {
    Image {
        reference: ObjRef,
        width: u32,
        height: u32,
    },
    Text {
        font: ObjRef,
        shown: Vec<u8>,
        advance: f64,
    },
}

/// Writes the image or font a content needs.
pub fn prepare(
    editor: &mut Editor<'_, '_>,
    content: &Content<'_>,
    font: Option<&Font>,
) -> Result<Written, PadesError> {
    Ok(match content {
        Content::Image(img) => Written::Image {
            reference: write_image(editor, img),
            width: img.width,
            height: img.height,
        },
        Content::Text(text) => {
            let (font, shown, advance) = write_text_font(editor, text, font)?;
            Written::Text {
                font,
                shown,
                advance,
            }
        }
    })
}

/// Decodes an uploaded image once (it may be drawn in several widgets). Seals need far fewer
/// than the module's default 16 MP; 4 MP keeps the worst case (a compressible image that
/// re-encodes poorly without predictors) to a fraction of a second.
pub fn load_image(bytes: &[u8]) -> Result<ImageXObject, PadesError> {
    let limits = ImageLimits {
        max_pixels: 4_000_000,
        ..ImageLimits::default()
    };
    image::load(bytes, &limits).map_err(PadesError::Image)
}

/// Writes the appearance form XObject for one widget and returns its reference.
pub fn write(
    editor: &mut Editor<'_, '_>,
    content: &Written,
    width: f64,
    height: f64,
    matrix: [f64; 6],
) -> ObjRef {
    let mut resources = Dictionary::new();
    let ops = match content {
        Written::Image {
            reference,
            width: img_w,
            height: img_h,
        } => {
            resources.set(
                b"XObject",
                Object::Dictionary(Dictionary::new().with(b"Im0", Object::Reference(*reference))),
            );
            // Fit inside the box, keep the aspect ratio, centre.
            let scale = (width / f64::from(*img_w)).min(height / f64::from(*img_h));
            let (w, h) = (f64::from(*img_w) * scale, f64::from(*img_h) * scale);
            format!(
                "q {} 0 0 {} {} {} cm /Im0 Do Q",
                fmt4(w),
                fmt4(h),
                fmt4((width - w) / 2.0),
                fmt4((height - h) / 2.0)
            )
        }
        Written::Text {
            font,
            shown,
            advance,
        } => {
            let advance = *advance;
            resources.set(
                b"Font",
                Object::Dictionary(Dictionary::new().with(b"F0", Object::Reference(*font))),
            );
            // One line, as large as fits: 60 % of the height, or the width with a margin.
            let size = (height * 0.6).min((width * 0.94) * 1000.0 / advance.max(1.0));
            let text_width = advance * size / 1000.0;
            let x = (width - text_width) / 2.0;
            let y = (height - size * 0.7) / 2.0;
            format!(
                "q BT 0 g /F0 {} Tf {} {} Td <{}> Tj ET Q",
                fmt4(size),
                fmt4(x),
                fmt4(y),
                hex::encode_upper(shown)
            )
        }
    };
    let dict = Dictionary::new()
        .with(b"Type", Object::name("XObject"))
        .with(b"Subtype", Object::name("Form"))
        .with(b"BBox", Object::rect([0.0, 0.0, width, height]))
        .with(
            b"Matrix",
            Object::Array(matrix.iter().map(|v| Object::Real(*v)).collect()),
        )
        .with(b"Resources", Object::Dictionary(resources));
    let r = editor.allocate();
    editor.set_stream(r, dict, ops.as_bytes());
    r
}

fn write_image(editor: &mut Editor<'_, '_>, img: &ImageXObject) -> ObjRef {
    let color_space = |cs: &ColorSpace| match cs {
        ColorSpace::Gray => Object::name("DeviceGray"),
        ColorSpace::Rgb => Object::name("DeviceRGB"),
        ColorSpace::Cmyk => Object::name("DeviceCMYK"),
    };
    let mut dict = Dictionary::new()
        .with(b"Type", Object::name("XObject"))
        .with(b"Subtype", Object::name("Image"))
        .with(b"Width", Object::Integer(i64::from(img.width)))
        .with(b"Height", Object::Integer(i64::from(img.height)))
        .with(b"ColorSpace", color_space(&img.color_space))
        .with(
            b"BitsPerComponent",
            Object::Integer(i64::from(img.bits_per_component)),
        )
        .with(
            b"Filter",
            Object::name(match img.filter {
                ImageFilter::Flate => "FlateDecode",
                ImageFilter::Dct => "DCTDecode",
            }),
        );
    if img.decode_inverted {
        dict.set(
            b"Decode",
            Object::Array([1, 0, 1, 0, 1, 0, 1, 0].map(Object::Integer).to_vec()),
        );
    }
    if let Some(mask) = &img.smask {
        let m = editor.allocate();
        let mask_dict = Dictionary::new()
            .with(b"Type", Object::name("XObject"))
            .with(b"Subtype", Object::name("Image"))
            .with(b"Width", Object::Integer(i64::from(mask.width)))
            .with(b"Height", Object::Integer(i64::from(mask.height)))
            .with(b"ColorSpace", Object::name("DeviceGray"))
            .with(b"BitsPerComponent", Object::Integer(8))
            .with(b"Filter", Object::name("FlateDecode"));
        editor.set_stream(m, mask_dict, &mask.data);
        dict.set(b"SMask", Object::Reference(m));
    }
    let r = editor.allocate();
    editor.set_stream(r, dict, &img.data);
    r
}

/// Writes the font for `text`; returns it, the bytes to show and the advance in 1/1000 em.
fn write_text_font(
    editor: &mut Editor<'_, '_>,
    text: &str,
    font: Option<&Font>,
) -> Result<(ObjRef, Vec<u8>, f64), PadesError> {
    if let Some(codes) = encoding::win_ansi_encode(text) {
        let advance: f64 = codes
            .iter()
            .map(|c| {
                encoding::win_ansi(*c)
                    .and_then(|g| encoding::standard14_width("Helvetica", g))
                    .unwrap_or(556)
            })
            .map(f64::from)
            .sum();
        let r = editor.allocate();
        editor.set(
            r,
            Object::Dictionary(
                Dictionary::new()
                    .with(b"Type", Object::name("Font"))
                    .with(b"Subtype", Object::name("Type1"))
                    .with(b"BaseFont", Object::name("Helvetica"))
                    .with(b"Encoding", Object::name("WinAnsiEncoding")),
            ),
        );
        return Ok((r, codes, advance));
    }
    let font = font.ok_or_else(|| PadesError::Text {
        detail: "the text needs characters outside Latin-1 and no font is configured for them \
                 (set [pdf] text_font)"
            .into(),
    })?;
    let embedded = font.embed(text).map_err(|e| PadesError::Text {
        detail: e.to_string(),
    })?;
    let file = editor.allocate();
    let packed = deflate(&embedded.font_file);
    let (file_key, mut file_dict) = match embedded.outlines {
        Outlines::TrueType => (
            &b"FontFile2"[..],
            Dictionary::new().with(b"Length1", Object::Integer(embedded.font_file.len() as i64)),
        ),
        Outlines::Cff => (
            &b"FontFile3"[..],
            Dictionary::new().with(b"Subtype", Object::name("OpenType")),
        ),
    };
    file_dict.set(b"Filter", Object::name("FlateDecode"));
    editor.set_stream(file, file_dict, &packed);

    let descriptor = editor.allocate();
    let b = embedded.bbox.map(|v| Object::Integer(i64::from(v)));
    editor.set(
        descriptor,
        Object::Dictionary(
            Dictionary::new()
                .with(b"Type", Object::name("FontDescriptor"))
                .with(
                    b"FontName",
                    Object::Name(embedded.base_font.as_bytes().to_vec()),
                )
                .with(b"Flags", Object::Integer(i64::from(embedded.flags)))
                .with(b"FontBBox", Object::Array(b.to_vec()))
                .with(
                    b"ItalicAngle",
                    Object::Real(f64::from(embedded.italic_angle)),
                )
                .with(b"Ascent", Object::Integer(i64::from(embedded.ascent)))
                .with(b"Descent", Object::Integer(i64::from(embedded.descent)))
                .with(
                    b"CapHeight",
                    Object::Integer(i64::from(embedded.cap_height)),
                )
                .with(b"StemV", Object::Integer(i64::from(embedded.stem_v)))
                .with(file_key, Object::Reference(file)),
        ),
    );
    let widths_src = format!("[{}]", crate::pdf::font::pdf_widths_array(&embedded.widths));
    let widths = crate::pdf::parser::Parser::new(widths_src.as_bytes(), 0)
        .object()
        .map_err(|e| PadesError::Text {
            detail: format!("font widths: {e}"),
        })?;
    let cid_font = editor.allocate();
    let subtype = match embedded.outlines {
        Outlines::TrueType => "CIDFontType2",
        Outlines::Cff => "CIDFontType0",
    };
    let mut cid_dict = Dictionary::new()
        .with(b"Type", Object::name("Font"))
        .with(b"Subtype", Object::name(subtype))
        .with(
            b"BaseFont",
            Object::Name(embedded.base_font.as_bytes().to_vec()),
        )
        .with(
            b"CIDSystemInfo",
            Object::Dictionary(
                Dictionary::new()
                    .with(b"Registry", Object::literal(b"Adobe".to_vec()))
                    .with(b"Ordering", Object::literal(b"Identity".to_vec()))
                    .with(b"Supplement", Object::Integer(0)),
            ),
        )
        .with(b"FontDescriptor", Object::Reference(descriptor))
        .with(b"DW", Object::Integer(i64::from(embedded.default_width)))
        .with(b"W", widths);
    if matches!(embedded.outlines, Outlines::TrueType) {
        cid_dict.set(b"CIDToGIDMap", Object::name("Identity"));
    }
    editor.set(cid_font, Object::Dictionary(cid_dict));

    let to_unicode = editor.allocate();
    editor.set_stream(
        to_unicode,
        Dictionary::new().with(b"Filter", Object::name("FlateDecode")),
        &deflate(&embedded.to_unicode),
    );
    let type0 = editor.allocate();
    editor.set(
        type0,
        Object::Dictionary(
            Dictionary::new()
                .with(b"Type", Object::name("Font"))
                .with(b"Subtype", Object::name("Type0"))
                .with(
                    b"BaseFont",
                    Object::Name(embedded.base_font.as_bytes().to_vec()),
                )
                .with(b"Encoding", Object::name("Identity-H"))
                .with(
                    b"DescendantFonts",
                    Object::Array(vec![Object::Reference(cid_font)]),
                )
                .with(b"ToUnicode", Object::Reference(to_unicode)),
        ),
    );
    Ok((type0, embedded.encoded, embedded.advance))
}
