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
use sha2::{Digest, Sha256};
use sigillum::ca::Subject;
use sigillum::ca::profile::ProfileName;
use sigillum::keys::soft::{MasterKey, SoftKeyStore};
use sigillum::keys::{KeyAlgorithm, KeyStore};
use sigillum::pades::{self, FieldKind, FieldSpec, Level, PadesError, Placement, SignOptions};

mod common;

use common::{SIZES, pdf_of_size};

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
