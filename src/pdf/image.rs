//! Seal images for visible signatures: an untrusted PNG or JPEG, as uploaded by an API client,
//! turned into the parts of a PDF image XObject (ISO 32000-1 §8.9.5) that the writer serialises.
//!
//! PNG (ISO/IEC 15948, W3C PNG 2nd/3rd edition) is decoded with the `png` crate, normalised to
//! 8 bits per component and re-compressed as `/FlateDecode`; its alpha channel (or `tRNS`
//! transparency) becomes a separate soft-mask image (§11.6.5.3), because PDF colour data has no
//! alpha. JPEG (ITU-T T.81) is never decoded: PDF's `/DCTDecode` filter takes the file as it is,
//! so we only walk its marker segments (T.81 Annex B) to learn the frame geometry, refuse the
//! codings that `/DCTDecode` readers do not reliably support (lossless, hierarchical, arithmetic,
//! 12-bit), and detect the Adobe `APP14` segment (Adobe Technical Note #5116) whose CMYK data is
//! stored inverted. The format is sniffed from the bytes, never from a file name or media type.
//!
//! Every size derived from the input is checked against [`ImageLimits`] before anything is
//! allocated for it, and malformed input yields an [`ImageError`], never a panic.

use std::fmt;
use std::io::{Cursor, Write};

use flate2::Compression;
use flate2::write::ZlibEncoder;

/// Upper bounds on what [`load`] accepts. The defaults fit a seal or signature picture with a
/// wide margin while keeping one request's working memory to a few tens of MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Size of the encoded file.
    pub max_bytes: usize,
    /// Width × height.
    pub max_pixels: u64,
    /// Width and height each.
    pub max_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_pixels: 16_000_000,
            max_side: 10_000,
        }
    }
}

/// Colour space of the image samples (§8.6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorSpace {
    Gray,
    Rgb,
    Cmyk,
}

impl ColorSpace {
    /// The `/ColorSpace` name, without the slash.
    pub fn pdf_name(self) -> &'static str {
        match self {
            Self::Gray => "DeviceGray",
            Self::Rgb => "DeviceRGB",
            Self::Cmyk => "DeviceCMYK",
        }
    }

    /// Components per pixel, e.g. for the length of a `/Decode` array.
    pub fn components(self) -> u8 {
        match self {
            Self::Gray => 1,
            Self::Rgb => 3,
            Self::Cmyk => 4,
        }
    }
}

/// The filter the stream data is encoded with (§7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFilter {
    Flate,
    Dct,
}

impl ImageFilter {
    /// The `/Filter` name, without the slash.
    pub fn pdf_name(self) -> &'static str {
        match self {
            Self::Flate => "FlateDecode",
            Self::Dct => "DCTDecode",
        }
    }
}

/// An image ready to be written as an image XObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageXObject {
    pub width: u32,
    pub height: u32,
    pub color_space: ColorSpace,
    /// Always 8 from [`load`].
    pub bits_per_component: u8,
    pub filter: ImageFilter,
    /// Stream data, already encoded with `filter`.
    pub data: Vec<u8>,
    /// Adobe-style inverted CMYK JPEG: the writer must emit `/Decode [1 0 1 0 1 0 1 0]`.
    pub decode_inverted: bool,
    /// Transparency, to be written as the `/SMask` of this image. `None` when the source had no
    /// alpha or every pixel was opaque.
    pub smask: Option<SoftMask>,
}

impl ImageXObject {
    /// Width over height. Never zero or infinite for an image from [`load`]; a hand-built value
    /// with zero height yields `f64::INFINITY` (or NaN for 0×0), as IEEE division does.
    pub fn aspect(&self) -> f64 {
        f64::from(self.width) / f64::from(self.height)
    }
}

/// A soft-mask image (§11.6.5.3): `/ColorSpace /DeviceGray /BitsPerComponent 8
/// /Filter /FlateDecode`, same size as its parent image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftMask {
    pub width: u32,
    pub height: u32,
    /// Zlib (Flate) compressed 8-bit alpha samples, one per pixel, 255 = opaque.
    pub data: Vec<u8>,
}

/// The container format an error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
        })
    }
}

/// Why an image was refused. The messages are meant to be shown to the API client.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not a PNG or JPEG image (unrecognised file signature)")]
    NotAnImage,
    #[error("image too large: {what}{} exceeds the limit of {limit}", Actual(*.actual))]
    TooLarge {
        what: &'static str,
        /// `None` where the decoder only reports that a budget was exhausted.
        actual: Option<u64>,
        limit: u64,
    },
    #[error("malformed {format} image{}: {reason}", At(*.offset))]
    Malformed {
        format: ImageFormat,
        /// Byte offset into the file, where known.
        offset: Option<usize>,
        reason: String,
    },
    #[error("unsupported {format} image: {what}")]
    Unsupported { format: ImageFormat, what: String },
    /// Compressing into memory failed; not caused by the input.
    #[error("compressing image data failed")]
    Compress(#[source] std::io::Error),
}

struct Actual(Option<u64>);

impl fmt::Display for Actual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(actual) => write!(f, " ({actual})"),
            None => Ok(()),
        }
    }
}

struct At(Option<usize>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(offset) => write!(f, " at byte {offset}"),
            None => Ok(()),
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_SOI: &[u8] = &[0xFF, 0xD8];

/// zlib's default level. Measured on 1–2 MP RGBA seal-like images (release build, 2 cores):
/// level 1 compresses about 8 times faster (~1 ms against ~8 ms a megapixel) but makes the
/// colour stream 5 times and the mask 1.7 times larger, and these streams are copied into
/// every signed PDF; on noise-like photographs it is about 5 times faster at equal size.
/// Level 6 keeps a 1 MP seal's `load` near 15 ms, so size wins.
const FLATE_LEVEL: u32 = 6;

/// Sniffs PNG vs JPEG from the bytes (never from a name) and prepares the image XObject.
pub fn load(bytes: &[u8], limits: &ImageLimits) -> Result<ImageXObject, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge {
            what: "file size in bytes",
            actual: u64::try_from(bytes.len()).ok(),
            limit: u64::try_from(limits.max_bytes).unwrap_or(u64::MAX),
        });
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        load_png(bytes, limits)
    } else if bytes.starts_with(JPEG_SOI) {
        load_jpeg(bytes, limits)
    } else if !bytes.is_empty() && PNG_SIGNATURE.starts_with(bytes) {
        // A cut-off upload deserves "truncated", not "not an image".
        Err(malformed(
            ImageFormat::Png,
            Some(bytes.len()),
            "truncated signature",
        ))
    } else if !bytes.is_empty() && JPEG_SOI.starts_with(bytes) {
        Err(malformed(
            ImageFormat::Jpeg,
            Some(bytes.len()),
            "truncated signature",
        ))
    } else {
        Err(ImageError::NotAnImage)
    }
}

fn malformed(format: ImageFormat, offset: Option<usize>, reason: impl Into<String>) -> ImageError {
    ImageError::Malformed {
        format,
        offset,
        reason: reason.into(),
    }
}

fn unsupported(format: ImageFormat, what: impl Into<String>) -> ImageError {
    ImageError::Unsupported {
        format,
        what: what.into(),
    }
}

fn check_dimensions(
    format: ImageFormat,
    width: u32,
    height: u32,
    limits: &ImageLimits,
) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(malformed(format, None, "zero width or height"));
    }
    for (what, side) in [("width in pixels", width), ("height in pixels", height)] {
        if side > limits.max_side {
            return Err(ImageError::TooLarge {
                what,
                actual: Some(u64::from(side)),
                limit: u64::from(limits.max_side),
            });
        }
    }
    let pixels = u64::from(width).checked_mul(u64::from(height));
    if pixels.is_none_or(|pixels| pixels > limits.max_pixels) {
        return Err(ImageError::TooLarge {
            what: "pixel count",
            actual: pixels,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// PNG

const PNG_DECODER_PANICKED: &str = "the PNG decoder failed on this file (internal error)";

fn load_png(bytes: &[u8], limits: &ImageLimits) -> Result<ImageXObject, ImageError> {
    check_png_palette_lengths(bytes)?;
    // A backstop only: png 0.18.1 has panicked on hostile input (see below), and a seal upload
    // must not take a worker down with it. With `panic = "abort"` this catches nothing, which is
    // why known triggers are refused beforehand. The fuzz test asserts it never fires.
    std::panic::catch_unwind(|| decode_png(bytes, limits))
        .unwrap_or_else(|_| Err(malformed(ImageFormat::Png, None, PNG_DECODER_PANICKED)))
}

/// png 0.18.1 accepts a `PLTE` whose length is not a multiple of 3 and then panics while
/// expanding it (image-rs/image-png#694, unfixed in a release as of this writing). PNG §11.2.3
/// makes such a chunk an error, so it is refused here, anywhere in the file.
fn check_png_palette_lengths(bytes: &[u8]) -> Result<(), ImageError> {
    let mut pos = PNG_SIGNATURE.len();
    // Framing errors are left for the decoder to report; this walk only looks for PLTE.
    while let Some(&[l0, l1, l2, l3, k0, k1, k2, k3]) = bytes.get(pos..pos.saturating_add(8)) {
        let length = u32::from_be_bytes([l0, l1, l2, l3]);
        let kind = [k0, k1, k2, k3];
        if &kind == b"PLTE" && !length.is_multiple_of(3) {
            return Err(malformed(
                ImageFormat::Png,
                Some(pos),
                "PLTE length is not a multiple of 3",
            ));
        }
        if &kind == b"IEND" {
            break;
        }
        // Length, type, data, CRC.
        let Ok(length) = usize::try_from(length) else {
            break;
        };
        pos = pos.saturating_add(12).saturating_add(length);
    }
    Ok(())
}

fn decode_png(bytes: &[u8], limits: &ImageLimits) -> Result<ImageXObject, ImageError> {
    // The png crate charges its chunk buffer and row buffer to this budget (not the caller's
    // frame buffer). The chunk buffer grows by doubling, so a file within `max_bytes` whose
    // metadata chunk (eXIf, say) is nearly that large is charged up to twice its size; one
    // `max_bytes` alone refused such files. A row of 16-bit RGBA is 8 bytes a pixel.
    let budget = limits.max_bytes.saturating_mul(2).saturating_add(
        usize::try_from(limits.max_side)
            .unwrap_or(usize::MAX)
            .saturating_mul(16),
    );
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: budget });
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    // The XObject is written as device colour, so these would be decompressed only to be dropped.
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);

    let header = decoder
        .read_header_info()
        .map_err(|e| png_error(e, budget))?;
    let (width, height) = (header.width, header.height);
    check_dimensions(ImageFormat::Png, width, height, limits)?;

    let mut reader = decoder.read_info().map_err(|e| png_error(e, budget))?;
    let (color_type, depth) = reader.output_color_type();
    if depth != png::BitDepth::Eight {
        return Err(unsupported(
            ImageFormat::Png,
            format!("bit depth {} after normalisation", depth as u8),
        ));
    }
    let (color_space, has_alpha) = match color_type {
        png::ColorType::Grayscale => (ColorSpace::Gray, false),
        png::ColorType::GrayscaleAlpha => (ColorSpace::Gray, true),
        png::ColorType::Rgb => (ColorSpace::Rgb, false),
        png::ColorType::Rgba => (ColorSpace::Rgb, true),
        png::ColorType::Indexed => {
            return Err(unsupported(ImageFormat::Png, "palette left unexpanded"));
        }
    };
    let mut planes = PlaneWriter::new(width, height, color_space, has_alpha, limits)?;

    if reader.info().interlaced {
        // Adam7 passes each cover the whole image, so the frame has to be assembled before any
        // row is final.
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| malformed(ImageFormat::Png, None, "frame size overflows"))?;
        let cap = limits.max_pixels.saturating_mul(4);
        if !u64::try_from(size).is_ok_and(|size| size <= cap) {
            return Err(ImageError::TooLarge {
                what: "decoded frame in bytes",
                actual: u64::try_from(size).ok(),
                limit: cap,
            });
        }
        let mut frame = vec![0u8; size];
        let info = reader
            .next_frame(&mut frame)
            .map_err(|e| png_error(e, budget))?;
        let rows = frame
            .get(..info.buffer_size())
            .ok_or_else(|| malformed(ImageFormat::Png, None, "frame larger than its buffer"))?;
        if info.line_size == 0 {
            return Err(malformed(ImageFormat::Png, None, "empty rows"));
        }
        for row in rows.chunks_exact(info.line_size) {
            planes.push_row(row)?;
        }
    } else {
        while let Some(row) = reader.next_row().map_err(|e| png_error(e, budget))? {
            planes.push_row(row.data())?;
        }
    }
    // Reaching IEND is what tells a complete file from one cut off after its image data.
    reader.finish().map_err(|e| png_error(e, budget))?;

    let (data, smask) = planes.finish()?;
    Ok(ImageXObject {
        width,
        height,
        color_space,
        bits_per_component: 8,
        filter: ImageFilter::Flate,
        data,
        decode_inverted: false,
        smask,
    })
}

fn png_error(error: png::DecodingError, budget: usize) -> ImageError {
    match error {
        png::DecodingError::LimitsExceeded => ImageError::TooLarge {
            what: "PNG decoder memory in bytes",
            actual: None,
            limit: u64::try_from(budget).unwrap_or(u64::MAX),
        },
        png::DecodingError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            malformed(ImageFormat::Png, None, "truncated: unexpected end of data")
        }
        other => malformed(ImageFormat::Png, None, other.to_string()),
    }
}

/// Splits decoded 8-bit rows into colour and alpha planes and compresses each as it arrives, so
/// that (for non-interlaced files) the decoded image never sits in memory whole.
struct PlaneWriter {
    width: u32,
    height: u32,
    /// Samples per pixel in the decoded rows, alpha included.
    channels: usize,
    row_len: usize,
    rows_seen: u32,
    color: ZlibEncoder<Vec<u8>>,
    alpha: Option<AlphaPlane>,
    color_row: Vec<u8>,
}

struct AlphaPlane {
    alpha_row: Vec<u8>,
    /// Opaque rows seen before the first translucent one: most PNGs with an alpha channel are
    /// opaque throughout and then need no mask, so compression starts only when proven useful.
    pending_opaque_rows: u32,
    encoder: Option<ZlibEncoder<Vec<u8>>>,
}

impl PlaneWriter {
    fn new(
        width: u32,
        height: u32,
        color_space: ColorSpace,
        has_alpha: bool,
        limits: &ImageLimits,
    ) -> Result<Self, ImageError> {
        // Width was checked against `max_side`, so these stay small; checked all the same.
        let color_channels = usize::from(color_space.components());
        let channels = color_channels.saturating_add(usize::from(has_alpha));
        let too_wide = || ImageError::TooLarge {
            what: "row length in bytes",
            actual: None,
            limit: u64::from(limits.max_side).saturating_mul(4),
        };
        let pixels_per_row = usize::try_from(width).map_err(|_| too_wide())?;
        let row_len = pixels_per_row.checked_mul(channels).ok_or_else(too_wide)?;
        let color_row_len = pixels_per_row
            .checked_mul(color_channels)
            .ok_or_else(too_wide)?;
        Ok(Self {
            width,
            height,
            channels,
            row_len,
            rows_seen: 0,
            color: ZlibEncoder::new(Vec::new(), Compression::new(FLATE_LEVEL)),
            alpha: has_alpha.then(|| AlphaPlane {
                alpha_row: Vec::with_capacity(pixels_per_row),
                pending_opaque_rows: 0,
                encoder: None,
            }),
            color_row: if has_alpha {
                Vec::with_capacity(color_row_len)
            } else {
                Vec::new()
            },
        })
    }

    fn push_row(&mut self, row: &[u8]) -> Result<(), ImageError> {
        if row.len() != self.row_len {
            return Err(malformed(
                ImageFormat::Png,
                None,
                "decoded row length does not match the header",
            ));
        }
        if self.rows_seen >= self.height {
            return Err(malformed(
                ImageFormat::Png,
                None,
                "more rows than the header",
            ));
        }
        self.rows_seen = self.rows_seen.saturating_add(1);

        let Some(alpha) = self.alpha.as_mut() else {
            return self.color.write_all(row).map_err(ImageError::Compress);
        };
        self.color_row.clear();
        alpha.alpha_row.clear();
        for pixel in row.chunks_exact(self.channels) {
            if let Some((a, color)) = pixel.split_last() {
                self.color_row.extend_from_slice(color);
                alpha.alpha_row.push(*a);
            }
        }
        self.color
            .write_all(&self.color_row)
            .map_err(ImageError::Compress)?;
        alpha.push()
    }

    fn finish(self) -> Result<(Vec<u8>, Option<SoftMask>), ImageError> {
        if self.rows_seen != self.height {
            return Err(malformed(
                ImageFormat::Png,
                None,
                "fewer rows than the header",
            ));
        }
        let data = self.color.finish().map_err(ImageError::Compress)?;
        let smask = match self.alpha.and_then(|alpha| alpha.encoder) {
            None => None,
            Some(encoder) => Some(SoftMask {
                width: self.width,
                height: self.height,
                data: encoder.finish().map_err(ImageError::Compress)?,
            }),
        };
        Ok((data, smask))
    }
}

impl AlphaPlane {
    fn push(&mut self) -> Result<(), ImageError> {
        if self.encoder.is_none() {
            if self.alpha_row.iter().all(|&a| a == u8::MAX) {
                self.pending_opaque_rows = self.pending_opaque_rows.saturating_add(1);
                return Ok(());
            }
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(FLATE_LEVEL));
            let opaque_row = vec![u8::MAX; self.alpha_row.len()];
            for _ in 0..self.pending_opaque_rows {
                encoder
                    .write_all(&opaque_row)
                    .map_err(ImageError::Compress)?;
            }
            self.encoder = Some(encoder);
        }
        match self.encoder.as_mut() {
            Some(encoder) => encoder
                .write_all(&self.alpha_row)
                .map_err(ImageError::Compress),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JPEG

/// What the marker walk learns; the entropy-coded data itself is left to the PDF reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct JpegFrame {
    width: u32,
    height: u32,
    components: u8,
    /// The transform byte of the first Adobe `APP14` segment, if there is one.
    adobe_transform: Option<u8>,
}

fn load_jpeg(bytes: &[u8], limits: &ImageLimits) -> Result<ImageXObject, ImageError> {
    let frame = parse_jpeg(bytes, limits)?;
    let color_space = match frame.components {
        1 => ColorSpace::Gray,
        3 => ColorSpace::Rgb,
        4 => ColorSpace::Cmyk,
        n => {
            return Err(unsupported(
                ImageFormat::Jpeg,
                format!("{n} colour components"),
            ));
        }
    };
    Ok(ImageXObject {
        width: frame.width,
        height: frame.height,
        color_space,
        bits_per_component: 8,
        filter: ImageFilter::Dct,
        data: bytes.to_vec(),
        // Adobe writers store CMYK (and YCCK) inverted whenever they add APP14; DCTDecode
        // undoes YCCK but not the inversion, hence /Decode (the convention of Acrobat and
        // img2pdf, and what pdf.js, MuPDF and poppler expect).
        decode_inverted: color_space == ColorSpace::Cmyk && frame.adobe_transform.is_some(),
        smask: None,
    })
}

fn jpeg_err(offset: usize, reason: &'static str) -> ImageError {
    malformed(ImageFormat::Jpeg, Some(offset), reason)
}

fn byte_at(bytes: &[u8], pos: usize) -> Result<u8, ImageError> {
    bytes
        .get(pos)
        .copied()
        .ok_or_else(|| jpeg_err(pos, "truncated: unexpected end of data"))
}

fn u16_at(bytes: &[u8], pos: usize) -> Result<u16, ImageError> {
    Ok(u16::from_be_bytes([
        byte_at(bytes, pos)?,
        byte_at(bytes, pos.saturating_add(1))?,
    ]))
}

/// Walks the marker segments of the whole file (T.81 B.1.1.2 to B.2.5): the header up to the
/// first scan, then each entropy-coded segment and the tables between scans, to the `EOI` marker.
/// Positions use saturating arithmetic: a saturated position is past the end and fails the
/// bounds-checked read that follows.
fn parse_jpeg(bytes: &[u8], limits: &ImageLimits) -> Result<JpegFrame, ImageError> {
    let mut pos = JPEG_SOI.len();
    let mut frame: Option<JpegFrame> = None;
    let mut adobe_transform = None;
    let mut scans = 0u32;

    loop {
        let marker_pos = pos;
        if byte_at(bytes, pos)? != 0xFF {
            return Err(jpeg_err(pos, "expected a marker"));
        }
        // Any number of 0xFF fill bytes may precede a marker (B.1.1.2).
        while byte_at(bytes, pos)? == 0xFF {
            pos = pos.saturating_add(1);
        }
        let marker = byte_at(bytes, pos)?;
        pos = pos.saturating_add(1);

        match marker {
            0xD9 => {
                return match frame {
                    Some(frame) if scans > 0 => Ok(JpegFrame {
                        adobe_transform,
                        ..frame
                    }),
                    Some(_) => Err(jpeg_err(marker_pos, "no scan before end of image")),
                    None => Err(jpeg_err(marker_pos, "no frame header before end of image")),
                };
            }
            0xD8 => return Err(jpeg_err(marker_pos, "second start-of-image marker")),
            // Restart markers only occur inside entropy-coded data, which is skipped below.
            0xD0..=0xD7 => return Err(jpeg_err(marker_pos, "restart marker outside a scan")),
            0x00 => return Err(jpeg_err(marker_pos, "stuffed zero byte outside a scan")),
            // TEM carries no length.
            0x01 => continue,
            _ => {}
        }

        let length = usize::from(u16_at(bytes, pos)?);
        if length < 2 {
            return Err(jpeg_err(pos, "segment length below 2"));
        }
        let end = pos.saturating_add(length);
        let payload = bytes
            .get(pos.saturating_add(2)..end)
            .ok_or_else(|| jpeg_err(pos, "truncated: segment runs past the end of data"))?;
        let payload_pos = pos.saturating_add(2);

        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(jpeg_err(marker_pos, "second frame header"));
                }
                frame = Some(parse_sof(payload, payload_pos, limits)?);
            }
            0xC3 => return Err(unsupported(ImageFormat::Jpeg, "lossless coding (SOF3)")),
            0xC5..=0xC7 | 0xDE | 0xDF => {
                return Err(unsupported(ImageFormat::Jpeg, "hierarchical coding"));
            }
            0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(unsupported(
                    ImageFormat::Jpeg,
                    format!("arithmetic coding (SOF{})", marker & 0x0F),
                ));
            }
            0xF7 => return Err(unsupported(ImageFormat::Jpeg, "JPEG-LS (SOF55)")),
            0xEE if adobe_transform.is_none() => adobe_transform = parse_adobe(payload),
            0xDA => {
                let Some(frame) = frame else {
                    return Err(jpeg_err(marker_pos, "scan before the frame header"));
                };
                check_sos(payload, payload_pos, frame.components)?;
                scans = scans.saturating_add(1);
                pos = skip_entropy_coded_data(bytes, end)?;
                continue;
            }
            _ => {}
        }
        pos = end;
    }
}

/// Frame header (T.81 B.2.2).
fn parse_sof(payload: &[u8], at: usize, limits: &ImageLimits) -> Result<JpegFrame, ImageError> {
    let [precision, h1, h0, w1, w0, count, components @ ..] = payload else {
        return Err(jpeg_err(at, "frame header too short"));
    };
    match precision {
        8 => {}
        12 => return Err(unsupported(ImageFormat::Jpeg, "12-bit sample precision")),
        _ => return Err(jpeg_err(at, "invalid sample precision")),
    }
    let height = u32::from(u16::from_be_bytes([*h1, *h0]));
    let width = u32::from(u16::from_be_bytes([*w1, *w0]));
    if height == 0 {
        return Err(unsupported(
            ImageFormat::Jpeg,
            "height defined by a DNL marker (height 0 in the frame header)",
        ));
    }
    if width == 0 {
        return Err(jpeg_err(at, "zero width"));
    }
    if !matches!(count, 1 | 3 | 4) {
        return Err(unsupported(
            ImageFormat::Jpeg,
            format!("{count} colour components"),
        ));
    }
    if components.len() != usize::from(*count).saturating_mul(3) {
        return Err(jpeg_err(
            at,
            "frame header length does not match its components",
        ));
    }
    for component in components.chunks_exact(3) {
        let [_id, sampling, table] = component else {
            return Err(jpeg_err(at, "frame header too short"));
        };
        let (h, v) = (sampling >> 4, sampling & 0x0F);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || *table > 3 {
            return Err(jpeg_err(at, "invalid component parameters"));
        }
    }
    check_dimensions(ImageFormat::Jpeg, width, height, limits)?;
    Ok(JpegFrame {
        width,
        height,
        components: *count,
        adobe_transform: None,
    })
}

/// Scan header (T.81 B.2.3): only its shape, since the components are the reader's business.
fn check_sos(payload: &[u8], at: usize, frame_components: u8) -> Result<(), ImageError> {
    let [count, rest @ ..] = payload else {
        return Err(jpeg_err(at, "scan header too short"));
    };
    if *count == 0 || *count > frame_components {
        return Err(jpeg_err(at, "invalid number of scan components"));
    }
    // Ns component selectors of 2 bytes, then Ss, Se and Ah/Al.
    if rest.len() != usize::from(*count).saturating_mul(2).saturating_add(3) {
        return Err(jpeg_err(
            at,
            "scan header length does not match its components",
        ));
    }
    Ok(())
}

/// Adobe `APP14` (Technical Note #5116): "Adobe", version (2), flags0 (2), flags1 (2),
/// transform (1).
fn parse_adobe(payload: &[u8]) -> Option<u8> {
    payload
        .strip_prefix(b"Adobe")
        .and_then(|rest| rest.get(6))
        .copied()
}

/// Returns the position of the marker that ends the entropy-coded data starting at `pos`. In
/// that data 0xFF is always followed by a stuffed 0x00 or a restart marker (B.1.1.5), so the
/// first other 0xFF-prefixed byte is a real marker.
fn skip_entropy_coded_data(bytes: &[u8], mut pos: usize) -> Result<usize, ImageError> {
    loop {
        let rest = bytes
            .get(pos..)
            .ok_or_else(|| jpeg_err(pos, "truncated: unexpected end of data"))?;
        let Some(ff) = rest.iter().position(|&b| b == 0xFF) else {
            return Err(jpeg_err(
                bytes.len(),
                "truncated: scan data without end-of-image marker",
            ));
        };
        pos = pos.saturating_add(ff);
        match byte_at(bytes, pos.saturating_add(1))? {
            0x00 | 0xD0..=0xD7 => pos = pos.saturating_add(2),
            // A fill byte: the marker follows it.
            0xFF => pos = pos.saturating_add(1),
            _ => return Ok(pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    // ---- helpers ---------------------------------------------------------------------------

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => c - b'A' + 10,
            })
            .collect();
        digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect()
    }

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(data)
            .read_to_end(&mut out)
            .expect("valid zlib stream");
        out
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::new(6));
        e.write_all(data).expect("write to Vec");
        e.finish().expect("write to Vec")
    }

    fn load_ok(bytes: &[u8]) -> ImageXObject {
        load(bytes, &ImageLimits::default()).expect("image loads")
    }

    fn smask_values(image: &ImageXObject) -> Option<Vec<u8>> {
        image.smask.as_ref().map(|m| {
            assert_eq!((m.width, m.height), (image.width, image.height));
            inflate(&m.data)
        })
    }

    /// Deterministic test pattern: sample `c` of pixel (x, y), in `0..2^depth`.
    fn sample(x: u32, y: u32, c: u32, depth: u8) -> u16 {
        let v = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ c.wrapping_mul(15_485_863))
            .wrapping_mul(2_654_435_761);
        let v = v >> 8;
        (v & ((1u32 << depth) - 1)) as u16
    }

    /// What the loader should make of a sample: low depths scaled up, 16 bits truncated.
    fn to8(v: u16, depth: u8) -> u8 {
        match depth {
            1 => (v * 255) as u8,
            2 => (v * 85) as u8,
            4 => (v * 17) as u8,
            8 => v as u8,
            16 => (v >> 8) as u8,
            _ => unreachable!(),
        }
    }

    /// Packs one row of samples, MSB first for depths below 8, big-endian for 16.
    fn pack_row(samples: &[u16], depth: u8) -> Vec<u8> {
        match depth {
            16 => samples.iter().flat_map(|s| s.to_be_bytes()).collect(),
            8 => samples.iter().map(|&s| s as u8).collect(),
            _ => {
                let per_byte = 8 / usize::from(depth);
                samples
                    .chunks(per_byte)
                    .map(|group| {
                        group.iter().enumerate().fold(0u8, |acc, (i, &s)| {
                            acc | (s as u8) << (8 - usize::from(depth) * (i + 1))
                        })
                    })
                    .collect()
            }
        }
    }

    /// Samples of a `w`×`h` image with `channels` samples a pixel, row by row.
    fn pattern(w: u32, h: u32, channels: u32, depth: u8) -> Vec<Vec<u16>> {
        (0..h)
            .map(|y| {
                (0..w)
                    .flat_map(|x| (0..channels).map(move |c| sample(x, y, c, depth)))
                    .collect()
            })
            .collect()
    }

    struct PngSpec<'a> {
        width: u32,
        height: u32,
        color: png::ColorType,
        depth: u8,
        palette: Option<&'a [u8]>,
        trns: Option<&'a [u8]>,
    }

    fn bit_depth(depth: u8) -> png::BitDepth {
        png::BitDepth::from_u8(depth).expect("valid depth")
    }

    /// Encodes with the png crate's encoder (non-interlaced only).
    fn encode_png(spec: &PngSpec<'_>, rows: &[Vec<u16>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, spec.width, spec.height);
        encoder.set_color(spec.color);
        encoder.set_depth(bit_depth(spec.depth));
        if let Some(palette) = spec.palette {
            encoder.set_palette(palette.to_vec());
        }
        if let Some(trns) = spec.trns {
            encoder.set_trns(trns.to_vec());
        }
        let mut writer = encoder.write_header().expect("header");
        let data: Vec<u8> = rows.iter().flat_map(|r| pack_row(r, spec.depth)).collect();
        writer.write_image_data(&data).expect("image data");
        writer.finish().expect("finish");
        out
    }

    /// CRC-32 as PNG §5.5 defines it; written out so that hand-built chunks pass the decoder's
    /// CRC check without a test-only dependency.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    crc >> 1 ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        out
    }

    fn ihdr(w: u32, h: u32, depth: u8, color_type: u8, interlaced: bool) -> Vec<u8> {
        let mut data = w.to_be_bytes().to_vec();
        data.extend_from_slice(&h.to_be_bytes());
        data.extend_from_slice(&[depth, color_type, 0, 0, u8::from(interlaced)]);
        chunk(b"IHDR", &data)
    }

    /// Adam7 passes (PNG §8.2): first column, first row, column step, row step.
    const ADAM7: [(u32, u32, usize, usize); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];

    /// Builds a PNG by hand, so that interlaced files (which the png crate cannot encode) and
    /// hostile headers can be made. Filter type 0 throughout.
    fn build_png(
        (w, h, depth, color_type, interlaced): (u32, u32, u8, u8, bool),
        channels: usize,
        extra: &[Vec<u8>],
        rows: &[Vec<u16>],
    ) -> Vec<u8> {
        let mut raw = Vec::new();
        if interlaced {
            for (x0, y0, dx, dy) in ADAM7 {
                let xs: Vec<usize> = (x0..w).step_by(dx).map(|x| x as usize).collect();
                if xs.is_empty() {
                    continue;
                }
                for y in (y0..h).step_by(dy) {
                    let row = &rows[y as usize];
                    let samples: Vec<u16> = xs
                        .iter()
                        .flat_map(|&x| row[x * channels..(x + 1) * channels].iter().copied())
                        .collect();
                    raw.push(0);
                    raw.extend(pack_row(&samples, depth));
                }
            }
        } else {
            for row in rows {
                raw.push(0);
                raw.extend(pack_row(row, depth));
            }
        }
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(ihdr(w, h, depth, color_type, interlaced));
        for c in extra {
            out.extend_from_slice(c);
        }
        out.extend(chunk(b"IDAT", &deflate(&raw)));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    /// Recomputes every chunk CRC that lies within the file, so that mutations reach past the
    /// checksum into the decoder.
    fn fix_png_crcs(bytes: &mut [u8]) {
        let mut pos = 8usize;
        while pos + 12 <= bytes.len() {
            let len =
                u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]])
                    as usize;
            let Some(end) = (pos + 8).checked_add(len) else {
                return;
            };
            if end + 4 > bytes.len() {
                return;
            }
            let crc = crc32(&bytes[pos + 4..end]);
            bytes[end..end + 4].copy_from_slice(&crc.to_be_bytes());
            pos = end + 4;
        }
    }

    fn assert_malformed(result: Result<ImageXObject, ImageError>, format: ImageFormat) {
        match result {
            Err(ImageError::Malformed { format: f, .. }) => assert_eq!(f, format),
            other => panic!("expected a malformed {format} error, got {other:?}"),
        }
    }

    fn assert_unsupported(result: Result<ImageXObject, ImageError>, needle: &str) {
        match result {
            Err(ImageError::Unsupported { what, .. }) => {
                assert!(what.contains(needle), "{what:?} lacks {needle:?}")
            }
            other => panic!("expected unsupported {needle}, got {other:?}"),
        }
    }

    fn assert_too_large(result: Result<ImageXObject, ImageError>, needle: &str) {
        match result {
            Err(ImageError::TooLarge { what, .. }) => {
                assert!(what.contains(needle), "{what:?} lacks {needle:?}")
            }
            other => panic!("expected too large ({needle}), got {other:?}"),
        }
    }

    // ---- PNG -------------------------------------------------------------------------------

    /// Checks a gray/RGB(+alpha) decode against the source samples.
    fn check_direct(image: &ImageXObject, rows: &[Vec<u16>], color: usize, alpha: bool, depth: u8) {
        let channels = color + usize::from(alpha);
        let expected_color: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.chunks(channels).flat_map(|p| p[..color].to_vec()))
            .map(|s| to8(s, depth))
            .collect();
        assert_eq!(image.bits_per_component, 8);
        assert_eq!(image.filter, ImageFilter::Flate);
        assert!(!image.decode_inverted);
        assert_eq!(inflate(&image.data), expected_color);
        if alpha {
            let expected_alpha: Vec<u8> = rows
                .iter()
                .flat_map(|r| r.chunks(channels).map(|p| to8(p[color], depth)))
                .collect();
            assert!(
                expected_alpha.iter().any(|&a| a != 255),
                "pattern must be translucent"
            );
            assert_eq!(smask_values(image), Some(expected_alpha));
        } else {
            assert_eq!(image.smask, None);
        }
    }

    #[test]
    fn png_gray_all_bit_depths() {
        for depth in [1, 2, 4, 8, 16] {
            let (w, h) = (13, 5);
            let rows = pattern(w, h, 1, depth);
            let spec = PngSpec {
                width: w,
                height: h,
                color: png::ColorType::Grayscale,
                depth,
                palette: None,
                trns: None,
            };
            let image = load_ok(&encode_png(&spec, &rows));
            assert_eq!((image.width, image.height), (w, h));
            assert_eq!(image.color_space, ColorSpace::Gray, "depth {depth}");
            check_direct(&image, &rows, 1, false, depth);
        }
    }

    #[test]
    fn png_rgb_gray_alpha_rgba_8_and_16_bit() {
        for depth in [8, 16] {
            for (color, channels, space, alpha) in [
                (png::ColorType::Rgb, 3, ColorSpace::Rgb, false),
                (png::ColorType::GrayscaleAlpha, 2, ColorSpace::Gray, true),
                (png::ColorType::Rgba, 4, ColorSpace::Rgb, true),
            ] {
                let (w, h) = (7, 6);
                let rows = pattern(w, h, channels, depth);
                let spec = PngSpec {
                    width: w,
                    height: h,
                    color,
                    depth,
                    palette: None,
                    trns: None,
                };
                let image = load_ok(&encode_png(&spec, &rows));
                assert_eq!(image.color_space, space, "{color:?} {depth}");
                check_direct(
                    &image,
                    &rows,
                    channels as usize - usize::from(alpha),
                    alpha,
                    depth,
                );
            }
        }
    }

    #[test]
    fn png_rgba_alpha_goes_to_smask_exactly() {
        // Colour under transparent pixels is kept as is: PDF does not premultiply.
        let rows = vec![vec![10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255]];
        let spec = PngSpec {
            width: 3,
            height: 1,
            color: png::ColorType::Rgba,
            depth: 8,
            palette: None,
            trns: None,
        };
        let image = load_ok(&encode_png(&spec, &rows));
        assert_eq!(inflate(&image.data), [10, 20, 30, 40, 50, 60, 70, 80, 90]);
        assert_eq!(smask_values(&image), Some(vec![0, 128, 255]));
    }

    #[test]
    fn png_opaque_alpha_channel_needs_no_smask() {
        for (color, channels) in [
            (png::ColorType::Rgba, 4),
            (png::ColorType::GrayscaleAlpha, 2),
        ] {
            let mut rows = pattern(9, 4, channels, 8);
            for row in &mut rows {
                for pixel in row.chunks_mut(channels as usize) {
                    *pixel.last_mut().expect("alpha") = 255;
                }
            }
            let spec = PngSpec {
                width: 9,
                height: 4,
                color,
                depth: 8,
                palette: None,
                trns: None,
            };
            let image = load_ok(&encode_png(&spec, &rows));
            assert_eq!(image.smask, None, "{color:?}");
            assert_eq!(inflate(&image.data).len(), 9 * 4 * (channels as usize - 1));
        }
    }

    #[test]
    fn png_late_translucency_keeps_earlier_opaque_rows() {
        // Rows are compressed as they arrive; the mask must still cover the opaque rows that
        // came before the first translucent pixel.
        let mut rows = vec![[1, 2, 3, 255].repeat(4); 3];
        rows[2][7] = 7;
        let spec = PngSpec {
            width: 4,
            height: 3,
            color: png::ColorType::Rgba,
            depth: 8,
            palette: None,
            trns: None,
        };
        let image = load_ok(&encode_png(&spec, &rows));
        let mut expected = vec![255u8; 12];
        expected[9] = 7;
        assert_eq!(smask_values(&image), Some(expected));
    }

    fn test_palette(entries: usize) -> Vec<u8> {
        (0..entries)
            .flat_map(|i| [(i * 37) as u8, (i * 91 + 5) as u8, (255 - i) as u8])
            .collect()
    }

    #[test]
    fn png_palette_all_bit_depths_with_and_without_trns() {
        for depth in [1u8, 2, 4, 8] {
            let entries = 1usize << depth;
            let palette = test_palette(entries);
            // Shorter than the palette: entries past its end are opaque.
            let trns: Vec<u8> = (0..entries.div_ceil(2)).map(|i| (i * 50) as u8).collect();
            let (w, h) = (11, 3);
            let rows = pattern(w, h, 1, depth);
            for with_trns in [false, true] {
                let spec = PngSpec {
                    width: w,
                    height: h,
                    color: png::ColorType::Indexed,
                    depth,
                    palette: Some(&palette),
                    trns: with_trns.then_some(&trns[..]),
                };
                let image = load_ok(&encode_png(&spec, &rows));
                assert_eq!(image.color_space, ColorSpace::Rgb);
                let indices: Vec<usize> = rows.iter().flatten().map(|&i| usize::from(i)).collect();
                let expected: Vec<u8> = indices
                    .iter()
                    .flat_map(|&i| palette[i * 3..i * 3 + 3].to_vec())
                    .collect();
                assert_eq!(inflate(&image.data), expected, "depth {depth}");
                let expected_alpha: Vec<u8> = indices
                    .iter()
                    .map(|&i| trns.get(i).copied().unwrap_or(255))
                    .collect();
                if with_trns && expected_alpha.iter().any(|&a| a != 255) {
                    assert_eq!(smask_values(&image), Some(expected_alpha), "depth {depth}");
                } else {
                    assert_eq!(image.smask, None, "depth {depth} trns {with_trns}");
                }
            }
        }
    }

    #[test]
    fn png_gray_and_rgb_trns_colour_key_becomes_mask() {
        // Gray, 4-bit: key 3 (tRNS holds 16-bit values even for low depths).
        let rows = vec![vec![3, 4, 3, 15]];
        let png = build_png((4, 1, 4, 0, false), 1, &[chunk(b"tRNS", &[0, 3])], &rows);
        let image = load_ok(&png);
        assert_eq!(image.color_space, ColorSpace::Gray);
        assert_eq!(inflate(&image.data), [51, 68, 51, 255]);
        assert_eq!(smask_values(&image), Some(vec![0, 255, 0, 255]));

        // Gray, 16-bit: the key is compared at full precision, before truncation to 8 bits.
        let rows = vec![vec![0x1234, 0x1235, 0x1234]];
        let png = build_png(
            (3, 1, 16, 0, false),
            1,
            &[chunk(b"tRNS", &[0x12, 0x34])],
            &rows,
        );
        let image = load_ok(&png);
        assert_eq!(inflate(&image.data), [0x12, 0x12, 0x12]);
        assert_eq!(smask_values(&image), Some(vec![0, 255, 0]));

        // RGB, 8-bit.
        let rows = vec![vec![1, 2, 3, 1, 2, 4]];
        let png = build_png(
            (2, 1, 8, 2, false),
            3,
            &[chunk(b"tRNS", &[0, 1, 0, 2, 0, 3])],
            &rows,
        );
        let image = load_ok(&png);
        assert_eq!(image.color_space, ColorSpace::Rgb);
        assert_eq!(inflate(&image.data), [1, 2, 3, 1, 2, 4]);
        assert_eq!(smask_values(&image), Some(vec![0, 255]));
    }

    #[test]
    fn png_hand_built_matches_encoder_built() {
        // Guards the hand-built PNGs the interlace and refusal tests rely on.
        let rows = pattern(5, 4, 4, 8);
        let spec = PngSpec {
            width: 5,
            height: 4,
            color: png::ColorType::Rgba,
            depth: 8,
            palette: None,
            trns: None,
        };
        let a = load_ok(&encode_png(&spec, &rows));
        let b = load_ok(&build_png((5, 4, 8, 6, false), 4, &[], &rows));
        assert_eq!(inflate(&a.data), inflate(&b.data));
        assert_eq!(smask_values(&a), smask_values(&b));
    }

    #[test]
    fn png_interlaced() {
        // Odd sizes leave some Adam7 passes empty or one column wide.
        for (w, h) in [(13, 11), (1, 1), (3, 9), (9, 2)] {
            for (depth, color_type, channels, space, alpha) in [
                (8, 6, 4, ColorSpace::Rgb, true),
                (16, 6, 4, ColorSpace::Rgb, true),
                (16, 2, 3, ColorSpace::Rgb, false),
                (8, 4, 2, ColorSpace::Gray, true),
                (1, 0, 1, ColorSpace::Gray, false),
                (4, 0, 1, ColorSpace::Gray, false),
            ] {
                let rows = pattern(w, h, channels, depth);
                let png = build_png(
                    (w, h, depth, color_type, true),
                    channels as usize,
                    &[],
                    &rows,
                );
                let image = load_ok(&png);
                assert_eq!(image.color_space, space);
                let color = channels as usize - usize::from(alpha);
                let has_translucency = alpha
                    && rows
                        .iter()
                        .flat_map(|r| r.chunks(channels as usize).map(|p| p[color]))
                        .any(|a| to8(a, depth) != 255);
                if alpha && !has_translucency {
                    assert_eq!(image.smask, None);
                    continue;
                }
                check_direct(&image, &rows, color, alpha, depth);
            }
        }
        // Interlaced palette with tRNS.
        let palette = test_palette(4);
        let rows = pattern(10, 10, 1, 2);
        let png = build_png(
            (10, 10, 2, 3, true),
            1,
            &[chunk(b"PLTE", &palette), chunk(b"tRNS", &[0, 255, 100])],
            &rows,
        );
        let image = load_ok(&png);
        let alpha: Vec<u8> = rows
            .iter()
            .flatten()
            .map(|&i| [0, 255, 100, 255][usize::from(i)])
            .collect();
        assert_eq!(smask_values(&image), Some(alpha));
    }

    #[test]
    fn png_oversize_dimensions_refused_from_the_header() {
        // No image data worth the name: the refusal must come from IHDR alone, before the
        // decoder sizes any buffer from it.
        let tiny_idat = chunk(b"IDAT", &deflate(&[0]));
        let hostile = |w: u32, h: u32| {
            let mut png = PNG_SIGNATURE.to_vec();
            png.extend(ihdr(w, h, 8, 6, false));
            png.extend_from_slice(&tiny_idat);
            png.extend(chunk(b"IEND", &[]));
            png
        };
        let limits = ImageLimits::default();
        assert_too_large(load(&hostile(10_001, 1), &limits), "width");
        assert_too_large(load(&hostile(1, 10_001), &limits), "height");
        assert_too_large(load(&hostile(5_000, 5_000), &limits), "pixel count");
        assert_too_large(load(&hostile(0x7FFF_FFFF, 0x7FFF_FFFF), &limits), "width");
        let tight = ImageLimits {
            max_pixels: 99,
            ..ImageLimits::default()
        };
        assert_too_large(load(&hostile(10, 10), &tight), "pixel count");
        // Zero sizes are the png crate's to refuse, as malformed.
        assert_malformed(load(&hostile(0, 5), &limits), ImageFormat::Png);
    }

    #[test]
    fn file_size_limit() {
        let rows = pattern(4, 4, 3, 8);
        let png = build_png((4, 4, 8, 2, false), 3, &[], &rows);
        let limits = ImageLimits {
            max_bytes: png.len() - 1,
            ..ImageLimits::default()
        };
        assert_too_large(load(&png, &limits), "file size");
        assert!(
            load(
                &png,
                &ImageLimits {
                    max_bytes: png.len(),
                    ..limits
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn png_large_metadata_chunk_within_file_limit_loads() {
        // The decoder's chunk buffer doubles as it grows: a budget of `max_bytes` alone refused
        // this file although it is within `max_bytes`.
        let rows = pattern(2, 2, 3, 8);
        let mut exif = b"MM\0\x2a\0\0\0\x08".to_vec();
        exif.resize(69_000, 0);
        let png = build_png((2, 2, 8, 2, false), 3, &[chunk(b"eXIf", &exif)], &rows);
        let limits = ImageLimits {
            max_bytes: 70_000,
            max_side: 10,
            ..ImageLimits::default()
        };
        assert!(png.len() <= limits.max_bytes);
        assert!(load(&png, &limits).is_ok());
        assert!(matches!(
            png_error(png::DecodingError::LimitsExceeded, 1),
            ImageError::TooLarge {
                actual: None,
                limit: 1,
                ..
            }
        ));
    }

    #[test]
    fn png_palette_length_not_a_multiple_of_3_is_refused_not_a_panic() {
        // png 0.18.1 panics on these (image-rs/image-png#694); found by the fuzz loop below.
        for length in [4usize, 5, 14] {
            let palette = test_palette(256)[..length].to_vec();
            for with_trns in [false, true] {
                let mut extra = vec![chunk(b"PLTE", &palette)];
                if with_trns {
                    extra.push(chunk(b"tRNS", &[0]));
                }
                let png = build_png((3, 1, 8, 3, false), 1, &extra, &[vec![0, 1, 0]]);
                match load(&png, &ImageLimits::default()) {
                    Err(ImageError::Malformed { reason, .. }) => {
                        assert!(reason.contains("PLTE"), "{reason}")
                    }
                    other => panic!("PLTE of {length} bytes: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn png_animated_yields_the_default_image() {
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, 2, 1);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_animated(2, 0).expect("animated");
        let mut writer = encoder.write_header().expect("header");
        writer.write_image_data(&[10, 20]).expect("frame 1");
        writer.write_image_data(&[30, 40]).expect("frame 2");
        writer.finish().expect("finish");
        assert_eq!(inflate(&load_ok(&png).data), [10, 20]);
    }

    #[test]
    fn png_refusals() {
        let rows = pattern(4, 4, 3, 8);
        let good = build_png((4, 4, 8, 2, false), 3, &[], &rows);
        // Bad CRC.
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_malformed(load(&bad, &ImageLimits::default()), ImageFormat::Png);
        // Missing IEND.
        let cut = &good[..good.len() - 12];
        assert_malformed(load(cut, &ImageLimits::default()), ImageFormat::Png);
        // Too little image data.
        let short = build_png((4, 5, 8, 2, false), 3, &[], &rows);
        assert_malformed(load(&short, &ImageLimits::default()), ImageFormat::Png);
        // Palette image without a palette.
        let no_plte = build_png((4, 4, 8, 3, false), 1, &[], &pattern(4, 4, 1, 2));
        assert_malformed(load(&no_plte, &ImageLimits::default()), ImageFormat::Png);
        // Invalid depth/colour combination.
        let bad_depth = build_png((4, 4, 4, 2, false), 3, &[], &pattern(4, 4, 3, 4));
        assert_malformed(load(&bad_depth, &ImageLimits::default()), ImageFormat::Png);
    }

    // ---- JPEG ------------------------------------------------------------------------------

    // Made once with Pillow 13.0.0 (libjpeg-turbo), then copied here with `xxd -p`:
    //   rgb = Image.new("RGB", (16, 8)); left half (255, 0, 0), right half (0, 0, 255)
    //   rgb.save("baseline.jpg", quality=90, optimize=True)
    //   rgb.save("progressive.jpg", quality=90, optimize=True, progressive=True)
    //   Image.new("L", (8, 8), 128).save("gray.jpg", quality=90, optimize=True)
    //   Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save("cmyk.jpg", quality=90, optimize=True)
    //   random.seed(0); g = Image.new("L", (16, 16)); g.putdata([random.randrange(256)
    //       for _ in range(256)]); g.save("restart.jpg", quality=95, optimize=True,
    //       restart_marker_blocks=1)   # DRI, RST0-2 and one 0xFF00 stuffing in the scan
    // The CMYK file carries Adobe APP14 (transform 0) and inverted samples, as Adobe's own do.
    const BASELINE_JPEG: &str = concat!(
        "ffd8ffe000104a46494600010100000100010000ffdb004300030202030202030303030403030405",
        "0805050404050a070706080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f",
        "171816141812141514ffdb00430103040405040509050509140d0b0d141414141414141414141414",
        "1414141414141414141414141414141414141414141414141414141414141414141414141414ffc0",
        "0011080008001003012200021101031101ffc4001600010101000000000000000000000000000007",
        "08ffc40014100100000000000000000000000000000000ffc4001501010100000000000000000000",
        "000000000708ffc40018110002030000000000000000000000000000084583c3ffda000c03010002",
        "110311003f00ce88101c16598a3628d61a2aec8fffd9",
    );
    const PROGRESSIVE_JPEG: &str = concat!(
        "ffd8ffe000104a46494600010100000100010000ffdb004300030202030202030303030403030405",
        "0805050404050a070706080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f",
        "171816141812141514ffdb00430103040405040509050509140d0b0d141414141414141414141414",
        "1414141414141414141414141414141414141414141414141414141414141414141414141414ffc2",
        "0011080008001003012200021101031101ffc4001600010101000000000000000000000000000006",
        "07ffc4001501010100000000000000000000000000000607ffda000c03010002100310000001ce60",
        "47146fffc40014100100000000000000000000000000000010ffda00080101000105023fffc40018",
        "110002030000000000000000000000000000074482c2ffda0008010301013f0161c5be4fffc40018",
        "110002030000000000000000000000000000074482c2ffda0008010201013f01594ca6cfffc40014",
        "100100000000000000000000000000000010ffda0008010100063f023fffc4001410010000000000",
        "0000000000000000000010ffda0008010100013f213fffda000c0301000200030000001087ffc400",
        "14110100000000000000000000000000000000ffda0008010301013f102fffc40014110100000000",
        "000000000000000000000000ffda0008010201013f1017ffc4001410010000000000000000000000",
        "0000000010ffda0008010100013f103fffd9",
    );
    const GRAY_JPEG: &str = concat!(
        "ffd8ffe000104a46494600010100000100010000ffdb004300030202030202030303030403030405",
        "0805050404050a070706080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f",
        "171816141812141514ffc0000b080008000801011100ffc400140001000000000000000000000000",
        "00000000ffc40014100100000000000000000000000000000000ffda0008010100003f003fffd9",
    );
    const CMYK_ADOBE_JPEG: &str = concat!(
        "ffd8ffee000e41646f626500640000000000ffdb0043000302020302020303030304030304050805",
        "050404050a070706080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f1718",
        "16141812141514ffc000140800080008044311004d11005911004b1100ffc4001400010000000000",
        "0000000000000000000009ffc40014100100000000000000000000000000000000ffda000e044300",
        "4d0059004b00003f002a8a99532a6fffd9",
    );
    const RESTART_JPEG: &str = concat!(
        "ffd8ffe000104a46494600010100000100010000ffdb004300020101010101020101010202020202",
        "0403020202020504040304060506060605060606070908060709070606080b08090a0a0a0a0a0608",
        "0b0c0b0a0c090a0a0affc0000b080010001001011100ffc400160001010100000000000000000000",
        "000000060305ffc4001e10000300030101010101000000000000000304050102060708120014ffdd",
        "00040001ffda0008010100003f00c17fed2abe0d1fa6f40e63d416627cae994e8bd0fd0a0d3b2552",
        "f74fa119c28b22e9a6be33ccd92c6159c660020e032cbbe4653eaa386fffd02b4ac7967b71b9481e",
        "dd229a15393aacd1e824afcced8ab7eb18cba3554dc128aad5617d7f2db211e4ba9f6085906f8db2",
        "a9408fffd1bc2e875e53b1ebbdefb6f9abd1ad734ed2e86df957a953e5679114dda7a3f2ad6f4e6e",
        "5c0e72e6313164749ac1b6d8da00593ea8be5d3f3fffd223e9bd627f5ffd0a1f02b334d22a70d147",
        "486c691da6aac658b119ff00472ba88ea85068b96abe9b2ed976448b835213260b78d49fdfffd9",
    );

    /// Offset of the first segment with `marker` in a well-formed header.
    fn segment(bytes: &[u8], marker: u8) -> usize {
        let mut pos = 2;
        loop {
            assert_eq!(bytes[pos], 0xFF);
            if bytes[pos + 1] == marker {
                return pos;
            }
            pos += 2 + usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        }
    }

    #[test]
    fn jpeg_fixtures_pass_through() {
        for (name, hex_bytes, w, h, space, inverted) in [
            ("baseline", BASELINE_JPEG, 16, 8, ColorSpace::Rgb, false),
            (
                "progressive",
                PROGRESSIVE_JPEG,
                16,
                8,
                ColorSpace::Rgb,
                false,
            ),
            ("gray", GRAY_JPEG, 8, 8, ColorSpace::Gray, false),
            ("cmyk", CMYK_ADOBE_JPEG, 8, 8, ColorSpace::Cmyk, true),
            ("restart", RESTART_JPEG, 16, 16, ColorSpace::Gray, false),
        ] {
            let bytes = hex(hex_bytes);
            let image = load_ok(&bytes);
            assert_eq!((image.width, image.height), (w, h), "{name}");
            assert_eq!(image.color_space, space, "{name}");
            assert_eq!(image.decode_inverted, inverted, "{name}");
            assert_eq!(image.filter, ImageFilter::Dct);
            assert_eq!(image.bits_per_component, 8);
            assert_eq!(image.smask, None);
            assert_eq!(image.data, bytes, "{name} must pass through unchanged");
        }
    }

    #[test]
    fn jpeg_cmyk_without_adobe_segment_is_not_inverted() {
        let bytes = hex(CMYK_ADOBE_JPEG);
        let app14 = segment(&bytes, 0xEE);
        let mut plain = bytes[..app14].to_vec();
        plain.extend_from_slice(&bytes[app14 + 16..]);
        let image = load_ok(&plain);
        assert_eq!(image.color_space, ColorSpace::Cmyk);
        assert!(!image.decode_inverted);
        // An APP14 that is not Adobe's changes nothing either.
        let mut other = plain.clone();
        let app = [
            0xFF, 0xEE, 0x00, 0x0E, b'A', b'd', b'o', b'b', b'X', 0, 0, 0, 0, 0, 0, 0,
        ];
        other.splice(2..2, app);
        assert!(!load_ok(&other).decode_inverted);
    }

    #[test]
    fn jpeg_tolerates_what_t81_allows() {
        let bytes = hex(BASELINE_JPEG);
        // An APP1 whose payload looks like markers (as EXIF thumbnails do) is skipped by length.
        let mut exif = vec![0xFF, 0xE1, 0x00, 0x10];
        exif.extend_from_slice(b"Exif\0\0");
        exif.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 0xFF, 0xC3]);
        let mut with_exif = bytes.clone();
        with_exif.splice(2..2, exif);
        assert_eq!(load_ok(&with_exif).width, 16);
        // Fill bytes before a marker.
        let dqt = segment(&bytes, 0xDB);
        let mut filled = bytes.clone();
        filled.splice(dqt..dqt, [0xFF, 0xFF, 0xFF]);
        assert_eq!(load_ok(&filled).width, 16);
        // Trailing bytes after EOI are kept (the stream is passed through unchanged).
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(b"trailer");
        assert_eq!(load_ok(&trailing).data, trailing);
    }

    #[test]
    fn jpeg_refusals() {
        let bytes = hex(BASELINE_JPEG);
        let sof = segment(&bytes, 0xC0);
        let patched = |at: usize, value: &[u8]| {
            let mut b = bytes.clone();
            b[at..at + value.len()].copy_from_slice(value);
            load(&b, &ImageLimits::default())
        };
        assert_unsupported(patched(sof + 1, &[0xC3]), "lossless");
        assert_unsupported(patched(sof + 1, &[0xC5]), "hierarchical");
        assert_unsupported(patched(sof + 1, &[0xF7]), "JPEG-LS");
        for arithmetic in [0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF] {
            assert_unsupported(patched(sof + 1, &[arithmetic]), "arithmetic");
        }
        assert_unsupported(patched(sof + 4, &[12]), "12-bit");
        assert_malformed(patched(sof + 4, &[16]), ImageFormat::Jpeg);
        assert_unsupported(patched(sof + 5, &[0, 0]), "DNL");
        assert_malformed(patched(sof + 7, &[0, 0]), ImageFormat::Jpeg);
        assert_unsupported(patched(sof + 9, &[2]), "2 colour components");
        assert_malformed(patched(sof + 11, &[0x05]), ImageFormat::Jpeg); // H=0 sampling
        assert_too_large(patched(sof + 5, &[0xFF, 0xFF]), "height");
        assert_too_large(patched(sof + 7, &[0xFF, 0xFF]), "width");
        // Segment lengths.
        assert_malformed(patched(4, &[0xFF, 0xFF]), ImageFormat::Jpeg);
        assert_malformed(patched(4, &[0x00, 0x01]), ImageFormat::Jpeg);
        assert_malformed(patched(4, &[0x00, 0x00]), ImageFormat::Jpeg);
        // Not a marker where one must be.
        assert_malformed(patched(2, &[0x12]), ImageFormat::Jpeg);
        // A second SOI, a stray RST, a stuffed zero between segments.
        for marker in [0xD8, 0xD0, 0x00] {
            let mut b = bytes.clone();
            b.splice(2..2, [0xFF, marker]);
            assert_malformed(load(&b, &ImageLimits::default()), ImageFormat::Jpeg);
        }
        // Scan before frame header.
        let dht = segment(&bytes, 0xC4);
        let mut no_sof = bytes[..sof].to_vec();
        no_sof.extend_from_slice(&bytes[dht..]);
        assert_malformed(load(&no_sof, &ImageLimits::default()), ImageFormat::Jpeg);
        // Frame header but no scan.
        let mut no_scan = bytes[..dht].to_vec();
        no_scan.extend_from_slice(&[0xFF, 0xD9]);
        assert_malformed(load(&no_scan, &ImageLimits::default()), ImageFormat::Jpeg);
        // Two frame headers.
        let mut two = bytes.clone();
        two.splice(dht..dht, bytes[sof..dht].to_vec());
        assert_malformed(load(&two, &ImageLimits::default()), ImageFormat::Jpeg);
        // Scan with a bad component count.
        let sos = segment(&bytes, 0xDA);
        assert_malformed(patched(sos + 4, &[4]), ImageFormat::Jpeg);
        assert_malformed(patched(sos + 4, &[0]), ImageFormat::Jpeg);
        // No EOI.
        assert_malformed(
            load(&bytes[..bytes.len() - 2], &ImageLimits::default()),
            ImageFormat::Jpeg,
        );
    }

    #[test]
    fn jpeg_sof_without_eoi_or_sos_is_refused() {
        let bytes = hex(GRAY_JPEG);
        let dht = segment(&bytes, 0xC4);
        assert_malformed(
            load(&bytes[..dht], &ImageLimits::default()),
            ImageFormat::Jpeg,
        );
    }

    // ---- hostile input in general -----------------------------------------------------------

    fn small_pngs() -> Vec<Vec<u8>> {
        let palette = test_palette(4);
        vec![
            build_png((5, 3, 8, 6, false), 4, &[], &pattern(5, 3, 4, 8)),
            build_png((6, 5, 16, 2, true), 3, &[], &pattern(6, 5, 3, 16)),
            build_png(
                (7, 2, 2, 3, false),
                1,
                &[chunk(b"PLTE", &palette), chunk(b"tRNS", &[0, 128])],
                &pattern(7, 2, 1, 2),
            ),
            build_png(
                (9, 9, 1, 0, true),
                1,
                &[chunk(b"tRNS", &[0, 1])],
                &pattern(9, 9, 1, 1),
            ),
        ]
    }

    fn small_jpegs() -> Vec<Vec<u8>> {
        [
            BASELINE_JPEG,
            PROGRESSIVE_JPEG,
            GRAY_JPEG,
            CMYK_ADOBE_JPEG,
            RESTART_JPEG,
        ]
        .iter()
        .map(|h| hex(h))
        .collect()
    }

    #[test]
    fn every_truncation_is_a_clear_error() {
        let limits = ImageLimits::default();
        assert!(matches!(load(&[], &limits), Err(ImageError::NotAnImage)));
        for (format, files) in [
            (ImageFormat::Png, small_pngs()),
            (ImageFormat::Jpeg, small_jpegs()),
        ] {
            for file in files {
                assert!(load(&file, &limits).is_ok());
                for len in 1..file.len() {
                    assert_malformed(load(&file[..len], &limits), format);
                }
            }
        }
    }

    #[test]
    fn garbage_is_not_an_image() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for len in [1usize, 2, 3, 7, 8, 64, 1000] {
            for _ in 0..50 {
                let mut bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
                if bytes.first() == Some(&0x89) || bytes.first() == Some(&0xFF) {
                    bytes[0] = 0;
                }
                assert!(matches!(
                    load(&bytes, &ImageLimits::default()),
                    Err(ImageError::NotAnImage)
                ));
                // Behind a valid signature, it is a malformed file of that format.
                for (signature, format) in [
                    (PNG_SIGNATURE, ImageFormat::Png),
                    (JPEG_SOI, ImageFormat::Jpeg),
                ] {
                    let mut framed = signature.to_vec();
                    framed.extend_from_slice(&bytes);
                    match load(&framed, &ImageLimits::default()) {
                        Err(ImageError::Malformed { format: f, .. }) => assert_eq!(f, format),
                        Err(ImageError::Unsupported { format: f, .. }) => assert_eq!(f, format),
                        other => panic!("{format}: {other:?}"),
                    }
                }
            }
        }
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn mutate(input: &[u8], state: &mut u64) -> Vec<u8> {
        let mut bytes = input.to_vec();
        for _ in 0..=(xorshift(state) % 4) {
            let len = bytes.len().max(1);
            let at = (xorshift(state) as usize) % len;
            match xorshift(state) % 7 {
                0 => {
                    if let Some(b) = bytes.get_mut(at) {
                        *b ^= 1 << (xorshift(state) % 8);
                    }
                }
                1 => {
                    let special = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0xD9, 0xDA];
                    if let Some(b) = bytes.get_mut(at) {
                        *b = special[(xorshift(state) % 8) as usize];
                    }
                }
                2 => bytes.insert(at.min(bytes.len()), xorshift(state) as u8),
                3 => {
                    let end = (at + (xorshift(state) % 16) as usize).min(bytes.len());
                    bytes.drain(at.min(end)..end);
                }
                4 => bytes.truncate(at),
                5 => {
                    // Duplicate a span, as a repeated segment or chunk would.
                    let end = (at + (xorshift(state) % 32) as usize).min(bytes.len());
                    let span = bytes[at.min(end)..end].to_vec();
                    let to = (xorshift(state) as usize) % (bytes.len() + 1);
                    bytes.splice(to..to, span);
                }
                _ => {
                    if let Some(b) = bytes.get_mut(at) {
                        *b = xorshift(state) as u8;
                    }
                }
            }
        }
        bytes
    }

    /// A PNG with a random (often invalid) header, palette and transparency, and random but
    /// validly compressed rows: byte mutations rarely get past zlib and the CRCs into the
    /// unfiltering and expansion code, these do.
    fn random_png(state: &mut u64) -> Vec<u8> {
        let mut pick = |n: usize| (xorshift(state) % n as u64) as usize;
        let (w, h) = (1 + pick(20) as u32, 1 + pick(20) as u32);
        let depth = [1u8, 2, 4, 8, 16, 3][pick(6)];
        let color_type = [0u8, 2, 3, 4, 6, 1][pick(6)];
        let interlaced = pick(2) == 1;
        let channels = match color_type {
            2 => 3,
            4 => 2,
            6 => 4,
            _ => 1,
        };
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(ihdr(w, h, depth, color_type, interlaced));
        if pick(3) != 0 {
            let len = pick(260) * 3 + if pick(8) == 0 { pick(3) } else { 0 };
            let palette: Vec<u8> = (0..len).map(|_| pick(256) as u8).collect();
            out.extend(chunk(b"PLTE", &palette));
        }
        if pick(3) == 0 {
            let trns: Vec<u8> = (0..pick(300)).map(|_| pick(256) as u8).collect();
            out.extend(chunk(b"tRNS", &trns));
        }
        let passes: Vec<(u32, u32)> = if interlaced {
            ADAM7
                .iter()
                .map(|&(x0, y0, dx, dy)| {
                    let span = |n: u32, start: u32, step: usize| {
                        n.saturating_sub(start).div_ceil(step as u32)
                    };
                    (span(w, x0, dx), span(h, y0, dy))
                })
                .filter(|&(cols, rows)| cols > 0 && rows > 0)
                .collect()
        } else {
            vec![(w, h)]
        };
        let mut raw = Vec::new();
        for (cols, rows) in passes {
            let row_bytes = (cols as usize * channels * usize::from(depth)).div_ceil(8);
            for _ in 0..rows {
                raw.push(if pick(200) == 0 { pick(256) } else { pick(5) } as u8);
                raw.extend((0..row_bytes).map(|_| pick(256) as u8));
            }
        }
        match pick(10) {
            0 => raw.truncate(pick(raw.len() + 1)),
            1 => raw.extend((0..pick(64)).map(|_| pick(256) as u8)),
            _ => {}
        }
        let compressed = deflate(&raw);
        let (first, second) = compressed.split_at(pick(compressed.len() + 1));
        out.extend(chunk(b"IDAT", first));
        if !second.is_empty() {
            out.extend(chunk(b"IDAT", second));
        }
        out.extend(chunk(b"IEND", &[]));
        out
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let limits = ImageLimits {
            max_bytes: 64 * 1024,
            max_pixels: 1 << 16,
            max_side: 1024,
        };
        let seeds: Vec<(bool, Vec<u8>)> = small_pngs()
            .into_iter()
            .map(|p| (true, p))
            .chain(small_jpegs().into_iter().map(|j| (false, j)))
            .collect();
        // A longer run on demand, e.g. SIGILLUM_IMAGE_FUZZ_ITERATIONS=1000000 (release mode),
        // with SIGILLUM_IMAGE_FUZZ_SEED for other inputs than the ones CI sees.
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let iterations = env("SIGILLUM_IMAGE_FUZZ_ITERATIONS").unwrap_or(4000);
        let mut state =
            (env("SIGILLUM_IMAGE_FUZZ_SEED").unwrap_or(0) ^ 0x9E37_79B9_7F4A_7C15).max(1);
        let (mut ok, mut refused) = (0u32, 0u32);
        for iteration in 0..iterations {
            let input = if iteration % 4 == 3 {
                random_png(&mut state)
            } else {
                let (is_png, seed) = &seeds[iteration as usize % seeds.len()];
                let mut input = mutate(seed, &mut state);
                if *is_png && !xorshift(&mut state).is_multiple_of(4) {
                    fix_png_crcs(&mut input);
                }
                input
            };
            match catch_unwind(AssertUnwindSafe(|| load(&input, &limits))) {
                Ok(Ok(_)) => ok += 1,
                Ok(Err(error)) => {
                    let message = error.to_string();
                    assert!(
                        !message.contains(PNG_DECODER_PANICKED),
                        "the png crate panicked at iteration {iteration} on {input:02x?}"
                    );
                    refused += 1;
                }
                Err(_) => panic!("panic at iteration {iteration} on {input:02x?}"),
            }
        }
        eprintln!("fuzz: {iterations} inputs, {ok} loaded, {refused} refused");
        // Both outcomes must occur, or the mutations are too weak (or too strong) to test much.
        assert!(ok > 100 && refused > 100, "ok {ok}, refused {refused}");
    }

    // ---- small API pieces -------------------------------------------------------------------

    #[test]
    fn names_aspect_and_messages() {
        assert_eq!(ColorSpace::Gray.pdf_name(), "DeviceGray");
        assert_eq!(ColorSpace::Rgb.pdf_name(), "DeviceRGB");
        assert_eq!(ColorSpace::Cmyk.pdf_name(), "DeviceCMYK");
        assert_eq!(ColorSpace::Cmyk.components(), 4);
        assert_eq!(ImageFilter::Flate.pdf_name(), "FlateDecode");
        assert_eq!(ImageFilter::Dct.pdf_name(), "DCTDecode");
        let image = load_ok(&hex(BASELINE_JPEG));
        assert_eq!(image.aspect(), 2.0);

        let limits = ImageLimits::default();
        assert_eq!(limits.max_bytes, 8 * 1024 * 1024);
        let mut b = hex(BASELINE_JPEG);
        let sof = segment(&b, 0xC0);
        b[sof + 7..sof + 9].copy_from_slice(&[0x4E, 0x21]); // width 20001
        let message = load(&b, &limits).expect_err("too wide").to_string();
        assert_eq!(
            message,
            "image too large: width in pixels (20001) exceeds the limit of 10000"
        );
        let message = load(
            &b[..b.len() - 2],
            &ImageLimits {
                max_side: 30_000,
                ..limits
            },
        )
        .expect_err("no EOI")
        .to_string();
        assert!(
            message.starts_with("malformed JPEG image at byte "),
            "{message}"
        );
        assert!(
            ImageError::NotAnImage.to_string().contains("PNG or JPEG"),
            "names the accepted formats"
        );
    }
}
