//! Stream filters (ISO 32000-1 §7.4) with a cap on decoded size: FlateDecode (with PNG and TIFF
//! predictors, §7.4.4.4), ASCIIHexDecode and ASCII85Decode. Image filters are never decoded here.

use std::io::Read;

use super::object::{Dictionary, Object};
use super::{ErrorKind, PdfError};

/// Decodes `data` through the stream's `/Filter` chain, refusing output beyond `max` bytes.
/// `offset` is where the data starts in the file (for errors).
pub fn decode(
    dict: &Dictionary,
    data: &[u8],
    max: usize,
    offset: usize,
) -> Result<Vec<u8>, PdfError> {
    let filters: Vec<&[u8]> = match dict.get(b"Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) => a.iter().filter_map(Object::as_name).collect(),
        Some(_) => return Err(PdfError::new(offset, ErrorKind::Invalid("/Filter"))),
    };
    let parms: Vec<Option<&Dictionary>> = match dict.get(b"DecodeParms") {
        Some(Object::Dictionary(d)) => vec![Some(d)],
        Some(Object::Array(a)) => a.iter().map(Object::as_dict).collect(),
        _ => Vec::new(),
    };
    let mut current = data.to_vec();
    if current.len() > max && filters.is_empty() {
        return Err(PdfError::new(offset, ErrorKind::DecodedTooLarge(max)));
    }
    for (i, filter) in filters.iter().enumerate() {
        let parm = parms.get(i).copied().flatten();
        current = match *filter {
            b"FlateDecode" | b"Fl" => {
                let inflated = inflate(&current, max, offset)?;
                match parm {
                    Some(p) => predict(inflated, p, max, offset)?,
                    None => inflated,
                }
            }
            b"ASCIIHexDecode" | b"AHx" => ascii_hex(&current, offset)?,
            b"ASCII85Decode" | b"A85" => ascii85(&current, max, offset)?,
            other => {
                return Err(PdfError::new(
                    offset,
                    ErrorKind::UnsupportedFilter(String::from_utf8_lossy(other).into_owned()),
                ));
            }
        };
    }
    Ok(current)
}

/// zlib inflate, stopping with an error once more than `max` bytes come out. Streams whose
/// checksum or end is damaged but whose data decoded are accepted as far as they go, as viewers do.
pub fn inflate(data: &[u8], max: usize, offset: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = flate2::read::ZlibDecoder::new(data).take(limit);
    match reader.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if out.is_empty() => {
            return Err(PdfError::new(offset, ErrorKind::Corrupt(e.to_string())));
        }
        Err(_) => {}
    }
    if out.len() > max {
        return Err(PdfError::new(offset, ErrorKind::DecodedTooLarge(max)));
    }
    Ok(out)
}

/// zlib deflate at the default level (for streams we write).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// §7.4.4.4 predictors: 2 (TIFF) and 10–15 (PNG, per-row filter byte).
fn predict(
    data: Vec<u8>,
    parms: &Dictionary,
    max: usize,
    offset: usize,
) -> Result<Vec<u8>, PdfError> {
    let predictor = parms.integer(b"Predictor").unwrap_or(1);
    if predictor <= 1 {
        return Ok(data);
    }
    let colors = parms.integer(b"Colors").unwrap_or(1);
    let bpc = parms.integer(b"BitsPerComponent").unwrap_or(8);
    let columns = parms.integer(b"Columns").unwrap_or(1);
    let bad = || PdfError::new(offset, ErrorKind::Invalid("predictor parameters"));
    if !(1..=32).contains(&colors)
        || ![1, 2, 4, 8, 16].contains(&bpc)
        || !(1..=1 << 20).contains(&columns)
    {
        return Err(bad());
    }
    let bits_per_pixel = (colors * bpc) as usize;
    let bpp = bits_per_pixel.div_ceil(8).max(1);
    let row_len = (columns as usize * bits_per_pixel).div_ceil(8);
    // The output is never longer than the input rows, but a row buffer sized from the
    // parameters alone could be: refuse rows beyond the decode limit.
    if row_len > max {
        return Err(PdfError::new(offset, ErrorKind::DecodedTooLarge(max)));
    }
    if predictor == 2 {
        if bpc != 8 {
            return Err(PdfError::new(
                offset,
                ErrorKind::UnsupportedFilter("TIFF predictor below 8 bits".into()),
            ));
        }
        let mut out = data;
        for row in out.chunks_mut(row_len) {
            for i in bpp..row.len() {
                row[i] = row[i].wrapping_add(row[i - bpp]);
            }
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row_len];
    for chunk in data.chunks(row_len + 1) {
        let Some((&kind, raw)) = chunk.split_first() else {
            break;
        };
        let mut row = raw.to_vec();
        row.resize(row_len, 0);
        for i in 0..row_len {
            let left = if i >= bpp { row[i - bpp] } else { 0 };
            let up = prev[i];
            let up_left = if i >= bpp { prev[i - bpp] } else { 0 };
            row[i] = match kind {
                0 => row[i],
                1 => row[i].wrapping_add(left),
                2 => row[i].wrapping_add(up),
                3 => row[i].wrapping_add(((u16::from(left) + u16::from(up)) / 2) as u8),
                4 => row[i].wrapping_add(paeth(left, up, up_left)),
                _ => {
                    return Err(PdfError::new(
                        offset,
                        ErrorKind::Invalid("PNG predictor row"),
                    ));
                }
            };
        }
        out.extend_from_slice(&row);
        prev = row;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn ascii_hex(data: &[u8], offset: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::with_capacity(data.len() / 2);
    let mut high: Option<u8> = None;
    for &b in data {
        if b == b'>' {
            break;
        }
        if super::object::is_whitespace(b) {
            continue;
        }
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(PdfError::new(offset, ErrorKind::Invalid("ASCIIHex data"))),
        };
        match high.take() {
            Some(h) => out.push(h << 4 | v),
            None => high = Some(v),
        }
    }
    if let Some(h) = high {
        out.push(h << 4);
    }
    Ok(out)
}

fn ascii85(data: &[u8], max: usize, offset: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::with_capacity(data.len() * 4 / 5);
    let mut group = [0u8; 5];
    let mut n = 0usize;
    let body = data.strip_prefix(b"<~").unwrap_or(data);
    for &b in body {
        if b == b'~' {
            break;
        }
        if super::object::is_whitespace(b) {
            continue;
        }
        if b == b'z' && n == 0 {
            out.extend_from_slice(&[0, 0, 0, 0]);
        } else if (b'!'..=b'u').contains(&b) {
            group[n] = b - b'!';
            n += 1;
            if n == 5 {
                out.extend_from_slice(&a85_group(&group)?.to_be_bytes());
                n = 0;
            }
        } else {
            return Err(PdfError::new(offset, ErrorKind::Invalid("ASCII85 data")));
        }
        if out.len() > max {
            return Err(PdfError::new(offset, ErrorKind::DecodedTooLarge(max)));
        }
    }
    if n > 1 {
        for slot in group.iter_mut().skip(n) {
            *slot = 84;
        }
        let bytes = a85_group(&group)?.to_be_bytes();
        out.extend_from_slice(&bytes[..n - 1]);
    }
    Ok(out)
}

fn a85_group(group: &[u8; 5]) -> Result<u32, PdfError> {
    let value = group.iter().fold(0u64, |acc, &d| acc * 85 + u64::from(d));
    u32::try_from(value).map_err(|_| PdfError::new(0, ErrorKind::Invalid("ASCII85 group")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flate_round_trip_and_cap() {
        let data = vec![7u8; 10_000];
        let packed = deflate(&data);
        let dict = Dictionary::new().with(b"Filter", Object::name("FlateDecode"));
        assert_eq!(decode(&dict, &packed, 10_000, 0).unwrap(), data);
        let err = decode(&dict, &packed, 9_999, 5).unwrap_err();
        assert_eq!(err, PdfError::new(5, ErrorKind::DecodedTooLarge(9_999)));
    }

    #[test]
    fn png_up_predictor() {
        // Two rows of 3 columns, filter 2 (Up).
        let raw = [2u8, 1, 2, 3, 2, 1, 1, 1];
        let parms = Dictionary::new()
            .with(b"Predictor", Object::Integer(12))
            .with(b"Columns", Object::Integer(3));
        assert_eq!(
            predict(raw.to_vec(), &parms, 100, 0).unwrap(),
            vec![1, 2, 3, 2, 3, 4]
        );
    }

    #[test]
    fn ascii85_matches_known_answer() {
        // "Man " → 9jqo^ (Wikipedia's Ascii85 example).
        assert_eq!(ascii85(b"9jqo^~>", 100, 0).unwrap(), b"Man ");
        assert_eq!(
            ascii85(b"<~9jqo^BlbD-BleB1DJ+*+F(f,q~>", 100, 0).unwrap(),
            b"Man is distinguished"
        );
    }
}
