//! Shared by the benches: generated PDFs of a given size (one page plus an incompressible
//! image-like stream, the shape of scanned contracts).
#![allow(dead_code)]

use rand::{Rng, SeedableRng};

pub const SIZES: [(&str, usize); 5] = [
    ("100KB", 100 << 10),
    ("1MB", 1 << 20),
    ("5MB", 5 << 20),
    ("20MB", 20 << 20),
    ("32MB", 32 << 20),
];

/// A one-page PDF padded to `size` bytes with an incompressible image-like stream.
pub fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(size as u64);
    let filler = size.saturating_sub(1200);
    let mut data = vec![0u8; filler];
    rng.fill(&mut data[..]);
    let content = b"BT /F1 24 Tf 72 700 Td (Signature of Party A) Tj ET";
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(&mut out, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> /XObject << /Im0 5 0 R >> >> >>");
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    obj(&mut out, &stream);
    let side = ((filler / 3) as f64).sqrt().max(1.0) as usize;
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width {side} /Height {} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>\nstream\n",
        filler / 3 / side,
        filler
    )
    .into_bytes();
    image.extend_from_slice(&data);
    image.extend_from_slice(b"\nendstream");
    obj(&mut out, &image);
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}
