//! `multipart/form-data` (RFC 7578) over a body that is already in memory, without copying: parts
//! are `Bytes` slices of the body. Ours rather than `multer` because the signing endpoint must
//! hold a 60 MB upload once, not once per layer.
//!
//! Bounded: at most [`MAX_PARTS`] parts, header blocks of at most [`MAX_HEADER_BYTES`], one
//! linear scan per boundary.

use axum::body::Bytes;

pub const MAX_PARTS: usize = 16;
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

#[derive(Debug)]
pub struct Part {
    pub name: String,
    pub data: Bytes,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MultipartError {
    #[error("Content-Type must be multipart/form-data with a boundary parameter")]
    NotMultipart,
    #[error("malformed multipart body: {0}")]
    Malformed(&'static str),
    #[error("more than {MAX_PARTS} parts")]
    TooManyParts,
}

/// The boundary parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut params = content_type.split(';');
    let media = params.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::NotMultipart);
    }
    for p in params {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("boundary") {
            let v = v.trim().trim_matches('"');
            // RFC 2046 §5.1.1: 1-70 characters.
            if v.is_empty() || v.len() > 70 {
                return Err(MultipartError::NotMultipart);
            }
            return Ok(v.to_string());
        }
    }
    Err(MultipartError::NotMultipart)
}

/// Splits `body` into its parts.
pub fn parse(body: &Bytes, boundary: &str) -> Result<Vec<Part>, MultipartError> {
    let delimiter = format!("--{boundary}");
    let delim = delimiter.as_bytes();
    let mut pos = find(body, delim, 0).ok_or(MultipartError::Malformed("no boundary found"))?;
    let mut parts = Vec::new();
    loop {
        let after = pos + delim.len();
        let rest = body.get(after..).unwrap_or_default();
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding then CRLF after the delimiter line.
        let line_end = find(body, b"\r\n", after)
            .ok_or(MultipartError::Malformed("unterminated boundary line"))?;
        let headers_start = line_end + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start)
            .filter(|e| e - headers_start <= MAX_HEADER_BYTES)
            .ok_or(MultipartError::Malformed(
                "part headers missing or too long",
            ))?;
        let headers = std::str::from_utf8(&body[headers_start..headers_end])
            .map_err(|_| MultipartError::Malformed("part headers are not UTF-8"))?;
        let data_start = headers_end + 4;
        let mut close = Vec::with_capacity(delim.len() + 2);
        close.extend_from_slice(b"\r\n");
        close.extend_from_slice(delim);
        let data_end = find(body, &close, data_start)
            .ok_or(MultipartError::Malformed("part not closed by a boundary"))?;
        let mut name = None;
        for line in headers.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_name(v);
            }
        }
        let name = name.ok_or(MultipartError::Malformed(
            "part without a Content-Disposition name",
        ))?;
        if parts.len() >= MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        parts.push(Part {
            name,
            data: body.slice(data_start..data_end),
        });
        pos = data_end + 2;
    }
}

fn disposition_name(value: &str) -> Option<String> {
    let mut params = value.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("name")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    // SIMD substring search: a 60 MB upload is scanned once for its closing delimiter.
    let rest = haystack.get(from..)?;
    memchr::memmem::find(rest, needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts_without_copying() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"options\"\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\r\n--XyZ--\r\n",
        );
        let parts = parse(
            &body,
            &boundary("multipart/form-data; boundary=XyZ").unwrap(),
        )
        .unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "options");
        assert_eq!(&parts[0].data[..], b"{\"a\":1}");
        assert_eq!(&parts[1].data[..], b"%PDF-1.7");
    }

    #[test]
    fn refuses_broken_bodies() {
        assert_eq!(
            boundary("application/json"),
            Err(MultipartError::NotMultipart)
        );
        for body in [
            &b""[..],
            b"--B\r\n",
            b"--B\r\nContent-Disposition: form-data; name=x\r\n\r\nabc",
        ] {
            assert!(parse(&Bytes::copy_from_slice(body), "B").is_err());
        }
    }
}
