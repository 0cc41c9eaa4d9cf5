//! Robustness of the untrusted-bytes parsers on stable Rust: the cargo-fuzz entry points
//! (`fuzz/`) run here on a few thousand deterministic mutations of valid requests made by
//! openssl, plus random bytes. Each must answer with well-formed DER and never panic.

mod support;

use std::process::Command;

use der::Decode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sigillum::ca::Subject;
use sigillum::ca::profile::ProfileName;
use sigillum::fuzzing::Fixture;
use sigillum::identity::{CreditCode, Name};
use support::{openssl_ocsp_request, require_tool, run, text};

const ROUNDS: usize = 3000;

fn mutations(seed: &[u8], rounds: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut rng = StdRng::seed_from_u64(0x0051_6111_u64);
    (0..rounds).map(move |i| {
        let mut data = seed.to_vec();
        match i % 5 {
            0 => {
                for _ in 0..rng.random_range(1..4) {
                    let pos = rng.random_range(0..data.len());
                    data[pos] ^= 1 << rng.random_range(0..8);
                }
            }
            1 => data.truncate(rng.random_range(0..data.len())),
            2 => {
                let pos = rng.random_range(0..data.len());
                data[pos] = rng.random();
            }
            3 => {
                let pos = rng.random_range(0..data.len());
                let extra: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
                data.splice(pos..pos, extra);
            }
            _ => {
                data = (0..rng.random_range(0..256))
                    .map(|_| rng.random())
                    .collect();
            }
        }
        data
    })
}

fn fixture_requests(fixture: &Fixture) -> (Vec<u8>, Vec<u8>) {
    require_tool("openssl", "apt-get install openssl");
    let dir = tempfile::tempdir().unwrap();
    let tsq = dir.path().join("q.tsq");
    let out = run(Command::new("openssl")
        .args(["ts", "-query", "-sha256", "-cert", "-digest"])
        .arg("ab".repeat(32))
        .arg("-out")
        .arg(&tsq));
    assert!(out.status.success(), "{}", text(&out));

    let key = openssl::ec::EcKey::generate(
        &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
    )
    .unwrap();
    let spki = openssl::pkey::PKey::from_ec_key(key)
        .unwrap()
        .public_key_to_der()
        .unwrap();
    let leaf = fixture
        .ca
        .issue(
            ProfileName::Organization,
            &Subject::Organization {
                name: Name::parse("Fuzz Ltd").unwrap(),
                credit_code: CreditCode::parse("91440300708461136T").unwrap(),
                email: None,
            },
            &spki,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    let ocsp = openssl_ocsp_request(dir.path(), &fixture.ca.state().issuing.cert_der, &leaf.der);
    (std::fs::read(tsq).unwrap(), ocsp)
}

#[test]
fn tsa_and_ocsp_survive_mutated_requests() {
    let fixture = Fixture::new();
    let (tsq, ocsp) = fixture_requests(&fixture);

    let granted = fixture.tsa(&tsq);
    let resp = x509_tsp::TimeStampResp::from_der(&granted).unwrap();
    assert!(
        resp.time_stamp_token.is_some(),
        "the unmutated request is granted"
    );
    let mut rejected = 0;
    for input in mutations(&tsq, ROUNDS) {
        let out = fixture.tsa(&input);
        let resp = x509_tsp::TimeStampResp::from_der(&out)
            .unwrap_or_else(|e| panic!("TSA answered non-DER for {}: {e}", hex::encode(&input)));
        // RFC 3161 §2.4.2: a token is present exactly when the request was granted.
        if resp.time_stamp_token.is_none() {
            rejected += 1;
            assert!(
                resp.status.fail_info.is_some(),
                "a rejection names its failInfo"
            );
        }
    }
    assert!(
        rejected > ROUNDS / 3,
        "most mutations must be rejected, {rejected} were"
    );

    let good = fixture.ocsp(&ocsp);
    let resp = x509_ocsp::OcspResponse::from_der(&good).unwrap();
    assert_eq!(
        resp.response_status,
        x509_ocsp::OcspResponseStatus::Successful
    );
    for input in mutations(&ocsp, ROUNDS) {
        let out = fixture.ocsp(&input);
        x509_ocsp::OcspResponse::from_der(&out)
            .unwrap_or_else(|e| panic!("OCSP answered non-DER for {}: {e}", hex::encode(&input)));
    }
}

#[test]
fn authorization_header_parser_survives_arbitrary_text() {
    use sigillum::request_signing::{Credentials, canonical_query};
    let seed = "SIGILLUM-HMAC-SHA256 KeyId=ak_0123456789abcdef01234567, Timestamp=1763770000, Nonce=abcdefghijklmnop, Signature=".to_string() + &"a".repeat(64);
    for input in mutations(seed.as_bytes(), ROUNDS) {
        let text = String::from_utf8_lossy(&input);
        if let Ok(c) = Credentials::parse(&text) {
            assert_eq!(Credentials::parse(&c.to_header()).ok(), Some(c));
        }
        let once = canonical_query(Some(&text));
        assert_eq!(canonical_query(Some(&once)), once);
    }
}

#[test]
fn tlog_parsers_survive_mutated_input() {
    let mut event = sigillum::tlog::Event::new(
        sigillum::tlog::EventKind::document_signed(),
        time::OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap(),
    );
    event.document_sha256_before = Some([1; 32]);
    event.signature_sha256 = Some([2; 32]);
    let entry = event.encode().unwrap();
    let mut bundle = Vec::new();
    sigillum::tlog::tiles::push_bundle_entry(&mut bundle, &entry);
    sigillum::tlog::tiles::push_bundle_entry(&mut bundle, b"x");
    let seeds: Vec<Vec<u8>> = vec![
        entry,
        bundle,
        b"0/x001/x234/067.p/255".to_vec(),
        b"entries/x999/000".to_vec(),
        b"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW".to_vec(),
        "log.example\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} log.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
            .as_bytes()
            .to_vec(),
        "c2sp.org/tlog-proof@v1\nextra YQ==\nindex 7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nlog.example\n8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} log.example AAAA\n"
            .as_bytes()
            .to_vec(),
    ];
    for seed in &seeds {
        sigillum::fuzzing::tlog_parsers(seed);
        for input in mutations(seed, ROUNDS / 3) {
            sigillum::fuzzing::tlog_parsers(&input);
        }
    }
}

/// A small PDF with a classic cross-reference table and, made from it by qpdf, one with object
/// and cross-reference streams: seeds for mutation.
fn pdf_seeds() -> Vec<Vec<u8>> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Rotate 90 /Contents 4 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> /Annots [5 0 R] >>",
        "<< /Length 69 >>\nstream\nBT /F1 12 Tf 10 10 Td (Signature of Party A) Tj [(x) -300 (y)] TJ ET\nendstream",
        "<< /FT /Sig /T (Sig1) /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /P 3 0 R >>",
    ];
    let objects: Vec<String> = objects.iter().map(|o| o.to_string()).collect();
    let pdf = support::pdf_from_objects(&objects);
    require_tool("qpdf", "apt-get install qpdf");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.pdf"), dir.path().join("b.pdf"));
    std::fs::write(&a, &pdf).unwrap();
    let out = run(std::process::Command::new("qpdf")
        .args(["--object-streams=generate", "--compress-streams=y"])
        .arg(&a)
        .arg(&b));
    assert!(out.status.success(), "{}", text(&out));
    vec![pdf, std::fs::read(&b).unwrap()]
}

#[test]
fn pdf_reader_survives_mutated_files() {
    for seed in pdf_seeds() {
        sigillum::fuzzing::pdf_reader(&seed);
        for input in mutations(&seed, ROUNDS) {
            sigillum::fuzzing::pdf_reader(&input);
        }
    }
}

#[test]
fn seal_image_and_multipart_parsers_survive_mutated_input() {
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
    )
    .unwrap();
    let multipart = b"--sigillum-boundary\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{}\r\n--sigillum-boundary\r\nContent-Disposition: form-data; name=\"document\"\r\n\r\n%PDF-1.7\r\n--sigillum-boundary--\r\n".to_vec();
    for input in std::iter::once(png.clone()).chain(mutations(&png, ROUNDS)) {
        sigillum::fuzzing::seal_image(&input);
    }
    for input in std::iter::once(multipart.clone()).chain(mutations(&multipart, ROUNDS)) {
        sigillum::fuzzing::multipart_body(&input);
    }
}

/// The seeds committed for a cargo-fuzz target, `fuzz/seeds/<target>/`, in name order.
///
/// Their provenance: `verify_pdf/` are files signed by a throwaway appliance instance (its root is the anchor
/// of `sigillum::fuzzing::verify_trust`) and by pyHanko (throwaway self-signed EC key);
/// `cms_signed_data/` holds the CMS values of four of their signatures and document time-stamps
/// (the `/Contents` DER without padding) and two RSA signatures of the 4 bytes `fuzz` made by
/// `openssl cms -sign -binary -md sha256` and `… -keyid -md sha384 -keyopt
/// rsa_padding_mode:pss` with a self-signed RSA-2048 certificate; `xref_revisions/` are a
/// linearized and an object-stream file made by qpdf, and a hand-written file of three
/// revisions (classic table, classic table, cross-reference stream); `byte_range/` are inputs
/// of `SignedTemplates::byte_range` (template, signature, mode, payload).
fn fuzz_seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "{} holds seeds", dir.display());
    paths
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            assert!(data.len() < 64 << 10, "{} is a small seed", p.display());
            (p.file_name().unwrap().to_string_lossy().into_owned(), data)
        })
        .collect()
}

/// The signed files `byte_range` edits: the seeds of `verify_pdf` that
/// `fuzz/fuzz_targets/byte_range.rs` includes, in the same order.
fn byte_range_templates() -> sigillum::fuzzing::SignedTemplates {
    let seeds: std::collections::HashMap<String, Vec<u8>> =
        fuzz_seeds("verify_pdf").into_iter().collect();
    let pdfs: Vec<Vec<u8>> = [
        "ours-b-b.pdf",
        "ours-b-lta.pdf",
        "pyhanko-certified-then-ours.pdf",
        "pyhanko-ec.pdf",
    ]
    .iter()
    .map(|name| seeds[*name].clone())
    .collect();
    sigillum::fuzzing::SignedTemplates::new(&pdfs)
}

/// Verification is the slowest entry point (a few ms per file in a debug build): fewer rounds.
const VERIFY_ROUNDS: usize = 300;

#[test]
fn verify_pdf_survives_mutated_signed_files() {
    use sigillum::pades::verify::{Integrity, verify};
    for (name, seed) in fuzz_seeds("verify_pdf") {
        // The seeds must reach the signature checks, or mutating them proves little.
        let report = verify(
            &seed,
            sigillum::fuzzing::verify_trust(),
            sigillum::fuzzing::VERIFY_AT,
            sigillum::pdf::Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !report.signatures.is_empty()
                && report
                    .signatures
                    .iter()
                    .all(|s| s.integrity == Integrity::Intact),
            "{name}: every signature of a seed is intact"
        );
        sigillum::fuzzing::verify_pdf(&seed);
        for input in mutations(&seed, VERIFY_ROUNDS) {
            sigillum::fuzzing::verify_pdf(&input);
        }
    }
}

#[test]
fn xref_revisions_survive_mutated_files() {
    for (_, seed) in fuzz_seeds("xref_revisions") {
        sigillum::fuzzing::xref_revisions(&seed);
        for input in mutations(&seed, ROUNDS) {
            sigillum::fuzzing::xref_revisions(&input);
        }
    }
}

#[test]
fn cms_checks_survive_mutated_signatures() {
    for (_, seed) in fuzz_seeds("cms_signed_data") {
        sigillum::fuzzing::cms_signed_data(&seed);
        for input in mutations(&seed, ROUNDS / 3) {
            sigillum::fuzzing::cms_signed_data(&input);
        }
    }
}

#[test]
fn byte_range_edits_never_leave_a_signature_intact() {
    let templates = byte_range_templates();
    // Every number of every signature's /ByteRange, off by one and two: the boundaries of the
    // gap, of the file and of the revisions (with and without the end-of-line after %%EOF).
    for t in 0..4u8 {
        for s in 0..2u8 {
            for element in 0..4 {
                for delta in [-2i16, -1, 1, 2] {
                    let mut input = vec![t, s, 0];
                    for e in 0..4 {
                        let d = if e == element { delta } else { 0 };
                        input.extend_from_slice(&d.to_le_bytes());
                    }
                    templates.byte_range(&input);
                }
            }
        }
    }
    // Most edits leave a readable signed file, verified in full: fewer rounds again.
    for (_, seed) in fuzz_seeds("byte_range") {
        templates.byte_range(&seed);
        for input in mutations(&seed, VERIFY_ROUNDS / 5) {
            templates.byte_range(&input);
        }
    }
}

/// Found by fuzzing `verify_pdf` (3feee49): every pair of signatures with overlapping gaps added
/// a check, so 3,000 fields naming one small signature dictionary (225 KB) made 9 million
/// checks and more than 2 GB. The report must stay linear in the number of signatures, or the
/// file be refused as too complex.
#[test]
fn fields_sharing_one_signature_dictionary_keep_the_report_linear() {
    let n = 600;
    let fields: Vec<String> = (0..n).map(|i| format!("{} 0 R", 5 + i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>".to_string(),
        "<< /Type /Pages /Kids [] /Count 0 >>".to_string(),
        format!("<< /Fields [{}] >>", fields.join(" ")),
        "<< /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 30] /Contents <00> >>"
            .to_string(),
    ];
    objects.extend((0..n).map(|i| format!("<< /FT /Sig /T (s{i}) /V 4 0 R >>")));
    let pdf = support::pdf_from_objects(&objects);
    let result = sigillum::pades::verify::verify(
        &pdf,
        sigillum::fuzzing::verify_trust(),
        sigillum::fuzzing::VERIFY_AT,
        sigillum::pdf::Limits::default(),
    );
    match result {
        Ok(report) => {
            let checks: usize = report.signatures.iter().map(|s| s.checks.len()).sum();
            assert!(
                checks <= 50 * report.signatures.len().max(1),
                "{checks} checks for {} signatures",
                report.signatures.len()
            );
        }
        Err(e) => assert_eq!(e.code(), "document_too_complex", "{e}"),
    }
}
