//! The verification engine in-process (`pades::verify::verify`, the code the worker runs) on
//! single-signature files of 1, 5 and 20 MB and a six-signature file (difference analysis over
//! five later revisions), next to the floor for big files: SHA-256 over the file.
//!
//! Run: `cargo bench --bench verify_pdf`; `benches/compare_verify.sh` runs it next to pyHanko
//! (in-process, difference analysis on) and pdfsig on the same files.
//! `SIGILLUM_BENCH_PDF_DIR=dir` also writes the signed files and the trust root there.

mod common;

use std::sync::Arc;

use common::pdf_of_size;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use sigillum::ca::Subject;
use sigillum::ca::profile::ProfileName;
use sigillum::keys::soft::{MasterKey, SoftKeyStore};
use sigillum::keys::{KeyAlgorithm, KeyStore};
use sigillum::pades::verify::{self, TrustSettings};
use sigillum::pades::{self, Level, PadesError, SignOptions};

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

fn bench_verify(c: &mut Criterion) {
    let fixture = sigillum::fuzzing::Fixture::new();
    let store = SoftKeyStore::new(Arc::new(MasterKey::from_bytes([3; 32])));
    let key = store.generate(KeyAlgorithm::EcdsaP256, "bench").unwrap();
    let signer = store.signer(&key).unwrap();
    let subject = Subject::Organization {
        name: sigillum::identity::Name::parse("Bench Ltd").unwrap(),
        credit_code: sigillum::identity::CreditCode::parse("91440300708461136T").unwrap(),
        email: None,
    };
    let now = time::OffsetDateTime::now_utc();
    let issued = fixture
        .ca
        .issue(ProfileName::Organization, &subject, &key.spki_der, now)
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
    let options = SignOptions {
        level: Level::BB,
        fields: Vec::new(),
        reason: None,
        location: None,
        certify: None,
        time: now,
    };
    let policy = pades::Policy::default();
    let sign = |pdf: &[u8]| {
        let out = pades::sign(pdf, &options, &signing, &NoServices, None, &policy).unwrap();
        let mut whole = pdf.to_vec();
        for update in &out.updates {
            whole.extend_from_slice(update);
        }
        whole
    };
    let trust = TrustSettings {
        anchors: vec![fixture.ca.state().root.cert_der.clone()],
        crls: Vec::new(),
    };
    let full = std::env::args().any(|a| a == "--bench");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let sizes: &[(&str, usize)] = if full {
        &[("1MB", 1 << 20), ("5MB", 5 << 20), ("20MB", 20 << 20)]
    } else {
        &[("1MB", 1 << 20)]
    };
    for (label, size) in sizes {
        files.push((label.to_string(), sign(&pdf_of_size(*size))));
    }
    let mut six = pdf_of_size(100 << 10);
    for _ in 0..6 {
        six = sign(&six);
    }
    files.push(("six_signatures".into(), six));
    if let Some(dir) = std::env::var_os("SIGILLUM_BENCH_PDF_DIR").map(std::path::PathBuf::from) {
        std::fs::create_dir_all(&dir).unwrap();
        for (label, pdf) in &files {
            std::fs::write(dir.join(format!("signed_{label}.pdf")), pdf).unwrap();
        }
        std::fs::write(dir.join("root.pem"), fixture.ca.root_pem()).unwrap();
    }
    let mut group = c.benchmark_group("verify");
    group.sample_size(20);
    for (label, pdf) in &files {
        // The engine must agree before it is timed.
        let report = verify::verify(pdf, &trust, now, sigillum::pdf::Limits::default()).unwrap();
        assert!(
            report
                .signatures
                .iter()
                .all(|s| s.integrity == verify::Integrity::Intact && s.trust.trusted),
            "{label}: {}",
            report.summary
        );
        group.throughput(Throughput::Bytes(pdf.len() as u64));
        group.bench_with_input(BenchmarkId::new("engine", label), pdf, |b, pdf| {
            b.iter(|| verify::verify(pdf, &trust, now, sigillum::pdf::Limits::default()).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("sha256", label), pdf, |b, pdf| {
            b.iter(|| Sha256::digest(pdf))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
