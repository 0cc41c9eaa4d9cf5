//! The PAdES engine in-process: B-B with a soft ECDSA P-256 key, invisible and with a visible
//! text field, on generated PDFs from 100 KB to 32 MB (one page plus an incompressible stream, the
//! shape of scanned contracts), next to the floor for big files: SHA-256 over the file plus
//! writing it once.
//!
//! Run: `cargo bench --bench pades_sign`; `benches/compare_pyhanko.sh` runs it next to pyHanko
//! on the same files. `SIGILLUM_BENCH_PDF_DIR=dir` also writes the generated files there.

use std::io::Write;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use sigillum::ca::Subject;
use sigillum::ca::profile::ProfileName;
use sigillum::keys::soft::{MasterKey, SoftKeyStore};
use sigillum::keys::{KeyAlgorithm, KeyStore};
use sigillum::pades::{self, FieldKind, FieldSpec, Level, PadesError, Placement, SignOptions};

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

struct NoServices;

impl pades::TrustServices for NoServices {
    fn timestamp(&self, _: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
        Err(PadesError::Timestamp("B-B only".into()))
    }
    fn validation_data(&self, _: &[Vec<u8>]) -> Result<pades::ValidationData, PadesError> {
        Err(PadesError::Revocation("B-B only".into()))
    }
    fn timestamp_chain(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

fn bench_sign(c: &mut Criterion) {
    let fixture = sigillum::fuzzing::Fixture::new();
    let store = SoftKeyStore::new(Arc::new(MasterKey::from_bytes([3; 32])));
    let key = store.generate(KeyAlgorithm::EcdsaP256, "bench").unwrap();
    let signer = store.signer(&key).unwrap();
    let subject = Subject::Organization {
        name: sigillum::identity::Name::parse("Bench Ltd").unwrap(),
        credit_code: sigillum::identity::CreditCode::parse("91440300708461136T").unwrap(),
        email: None,
    };
    let issued = fixture
        .ca
        .issue(
            ProfileName::Organization,
            &subject,
            &key.spki_der,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    let chain = vec![
        fixture.ca.state().issuing.cert_der.clone(),
        fixture.ca.state().root.cert_der.clone(),
    ];
    let signing = pades::Signing {
        signer: signer.as_ref(),
        certificate: &issued.der,
        chain: &chain,
        display_name: "Bench Ltd",
        rsa_pss: false,
    };
    let policy = pades::Policy::default();
    let invisible = SignOptions {
        level: Level::BB,
        fields: Vec::new(),
        reason: None,
        location: None,
        certify: None,
        time: time::OffsetDateTime::now_utc(),
    };
    let visible = SignOptions {
        fields: vec![FieldSpec {
            kind: FieldKind::Signature,
            placement: Placement::Coordinates {
                page: 1,
                x: 300.0,
                y: 60.0,
                width: None,
                height: None,
            },
            image: None,
            text: None,
        }],
        ..invisible.clone()
    };
    let export = std::env::var_os("SIGILLUM_BENCH_PDF_DIR").map(std::path::PathBuf::from);
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[(&str, usize)] = if full { &SIZES } else { &SIZES[..2] };

    let mut group = c.benchmark_group("pades_sign_bb");
    group.sample_size(20);
    for (label, size) in sizes {
        let pdf = pdf_of_size(*size);
        if let Some(dir) = &export {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{label}.pdf")), &pdf).unwrap();
        }
        group.throughput(Throughput::Bytes(pdf.len() as u64));
        group.bench_with_input(BenchmarkId::new("invisible", label), &pdf, |b, pdf| {
            b.iter(|| pades::sign(pdf, &invisible, &signing, &NoServices, None, &policy).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("visible_text", label), &pdf, |b, pdf| {
            b.iter(|| pades::sign(pdf, &visible, &signing, &NoServices, None, &policy).unwrap())
        });
        // The floor the issue sets for big files: hash the file and write it once.
        let out_dir = tempfile::tempdir().unwrap();
        group.bench_with_input(
            BenchmarkId::new("sha256_plus_write", label),
            &pdf,
            |b, pdf| {
                b.iter(|| {
                    let digest = Sha256::digest(pdf);
                    let mut f = std::fs::File::create(out_dir.path().join("out.pdf")).unwrap();
                    f.write_all(pdf).unwrap();
                    digest
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
