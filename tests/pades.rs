//! PAdES signing through `POST /v1/sign`, judged by independent tools: pyHanko (library, via
//! tests/interop/validate.py), poppler's `pdfsig`, `pdftotext` and `pdftoppm`, and `qpdf --check`.
//! The corpus comes from ReportLab, Ghostscript, qpdf and pyHanko (tests/interop/make_corpus.py),
//! never from our code.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine;
use serde_json::{Value, json};
use sigillum::client::{self, KeyFile};
use sigillum::tlog::Receipt;
use sigillum::tlog::receipt::ReceiptJson;
use support::{Server, organization, person, require_tool, run, text};

const LEVELS: [&str; 4] = ["B-B", "B-T", "B-LT", "B-LTA"];

struct Fixture {
    server: Server,
    corpus: PathBuf,
    manifest: Vec<Value>,
    root_pem: PathBuf,
    /// Entities of workspace "acme": an organisation (CJK name) and four persons.
    entities: Vec<String>,
    _dir: tempfile::TempDir,
}

fn python() -> &'static str {
    require_tool(
        "pyhanko",
        "pip install pyhanko pyhanko-cli reportlab into the venv that scripts/setup.sh test creates, and put it first on PATH",
    );
    "python3"
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        for (tool, hint) in [
            ("qpdf", "apt-get install qpdf"),
            ("pdfsig", "apt-get install poppler-utils"),
            ("gs", "apt-get install ghostscript"),
        ] {
            require_tool(tool, hint);
        }
        let font = Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc");
        assert!(
            font.exists(),
            "{} is missing: apt-get install fonts-wqy-microhei",
            font.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        let out = run(Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/make_corpus.py"))
            .arg(&corpus));
        assert!(out.status.success(), "corpus build failed:\n{}", text(&out));
        let manifest: Vec<Value> =
            serde_json::from_slice(&std::fs::read(corpus.join("manifest.json")).unwrap()).unwrap();
        let config = dir.path().join("sigillum.toml");
        std::fs::write(
            &config,
            format!(
                "[signing]\ntext_font = \"{}\"\nmax_document_bytes = {}\n[verify]\nrate_limit_per_minute = 100000\n",
                font.display(),
                30 << 20
            ),
        )
        .unwrap();
        let server = Server::start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
        let (status, root) = server.get_bytes("/v1/ca/root.pem");
        assert_eq!(status, 200);
        let root_pem = dir.path().join("root.pem");
        std::fs::write(&root_pem, root).unwrap();
        let admin = server.admin_key();
        let mut entities = Vec::new();
        let (status, body) = server.call(
            &admin,
            "POST",
            "/v1/entities",
            Some(organization(Some("acme"))),
        );
        assert_eq!(status, 201, "{body}");
        entities.push(body["id"].as_str().unwrap().to_string());
        for i in 0..4 {
            let mut p = person(Some("acme"));
            p["name"] = format!("Signer {i}").into();
            let (status, body) = server.call(&admin, "POST", "/v1/entities", Some(p));
            assert_eq!(status, 201, "{body}");
            entities.push(body["id"].as_str().unwrap().to_string());
        }
        Fixture {
            server,
            corpus,
            manifest,
            root_pem,
            entities,
            _dir: dir,
        }
    })
}

struct Signed {
    status: u16,
    body: Vec<u8>,
    receipt: Option<String>,
}

fn sign_with(key: &KeyFile, pdf: &[u8], options: &Value, idempotency: Option<&str>) -> Signed {
    let f = fixture();
    let (body, content_type) =
        client::sign_request_body(serde_json::to_string(options).unwrap().as_bytes(), pdf);
    let headers: Vec<(&str, &str)> = idempotency
        .map(|k| vec![("Idempotency-Key", k)])
        .unwrap_or_default();
    let reply = client::send(
        &f.server.url,
        key,
        "POST",
        "/v1/sign",
        body,
        Some(&content_type),
        &headers,
    )
    .unwrap();
    Signed {
        status: reply.status,
        body: reply.body,
        receipt: reply.receipt,
    }
}

fn sign(pdf: &[u8], options: &Value) -> Signed {
    sign_with(&fixture().server.admin_key(), pdf, options, None)
}

/// Signs and insists on 200; returns the signed PDF.
fn sign_ok(pdf: &[u8], options: &Value) -> Vec<u8> {
    let signed = sign(pdf, options);
    assert_eq!(
        signed.status,
        200,
        "{}",
        String::from_utf8_lossy(&signed.body)
    );
    signed.body
}

/// The log's verifier key, fetched once.
fn verifier() -> sigillum::tlog::note::VerifierKey {
    let (status, body) = fixture().server.get_bytes("/v1/log/public-key");
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    let key = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["verifier_key"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.trim().to_string());
    sigillum::tlog::note::VerifierKey::parse(&key).unwrap()
}

/// Decodes a `Sigillum-Receipt` header and checks its inclusion proof against its checkpoint.
fn check_receipt(header: &str, document_after: &[u8]) -> Receipt {
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let json: ReceiptJson = serde_json::from_slice(&json).unwrap();
    let receipt = Receipt::from_json(&json).unwrap();
    receipt
        .verify(&verifier())
        .expect("inclusion proof verifies");
    let event = sigillum::tlog::Event::decode(&receipt.entry).unwrap();
    assert_eq!(event.kind.as_str(), "document_signed");
    let after: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
        sha2::Sha256::default(),
        document_after,
    ))
    .into();
    assert_eq!(event.document_sha256_after, Some(after));
    receipt
}

/// pyHanko's verdicts, one JSON object per file.
fn validate(level: &str, files: &[PathBuf]) -> HashMap<String, Value> {
    let out = run(Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/validate.py"))
        .arg("--trust-root")
        .arg(&fixture().root_pem)
        .arg("--expect-level")
        .arg(level)
        .args(files));
    assert!(out.status.success(), "validate.py failed:\n{}", text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["file"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

fn pdfsig(path: &Path) -> String {
    text(&run(Command::new("pdfsig").arg(path)))
}

fn qpdf_check(path: &Path) {
    let out = run(Command::new("qpdf").arg("--check").arg(path));
    assert!(
        out.status.success(),
        "qpdf --check {}:\n{}",
        path.display(),
        text(&out)
    );
}

/// Our signature's verdict in a validate.py result (by signer name).
fn ours<'v>(result: &'v Value, field: &str) -> &'v Value {
    result["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["field"] == field)
        .unwrap_or_else(|| panic!("no signature in field {field}: {result}"))
}

fn assert_valid(result: &Value, field: &str, level: &str, whole_file: bool) {
    assert!(result["error"].is_null(), "{result}");
    let sig = ours(result, field);
    for key in ["intact", "valid", "trusted"] {
        assert_eq!(sig[key], true, "{key}: {sig}");
    }
    assert_eq!(sig["summary"], "VALID", "{sig}");
    if whole_file {
        assert_eq!(sig["coverage"], "ENTIRE_FILE", "{sig}");
    } else {
        assert_eq!(sig["coverage"], "ENTIRE_REVISION", "{sig}");
    }
    assert_eq!(sig["level_problems"], json!([]), "{level}: {sig}");
    if level != "B-B" {
        assert_eq!(sig["timestamp_valid"], true, "{sig}");
    }
    if level == "B-LTA" {
        assert_eq!(sig["ades_indication"], "PASSED/OK", "{sig}");
        let ts = &result["doc_timestamps"][0];
        assert_eq!(ts["summary"], "VALID", "{ts}");
        assert_eq!(ts["coverage"], "ENTIRE_FILE", "{ts}");
    }
}

/// Our own verifier (`POST /v1/verify`) on a file we just signed: our signature is
/// `TOTAL_PASSED`, intact, trusted, at the level asked for, and recorded in the log with an
/// inclusion proof that verifies; signatures already in the file stay intact.
fn our_verifier_passes(pdf: &[u8], field: &str, level: &str, what: &str) {
    let report = verify_pdf(pdf);
    let sigs = report["signatures"].as_array().unwrap();
    let ours = sigs
        .iter()
        .find(|s| s["field"] == field)
        .unwrap_or_else(|| panic!("{what}: our verifier does not list {field}: {report}"));
    assert_eq!(ours["indication"], "TOTAL_PASSED", "{what}: {ours}");
    assert_eq!(ours["integrity"], "intact", "{what}: {ours}");
    assert_eq!(ours["trust"]["trusted"], true, "{what}: {ours}");
    assert_eq!(
        ours["level"],
        format!("PAdES-BASELINE-{}", &level[2..]),
        "{what}: {ours}"
    );
    assert_eq!(ours["log"]["status"], "recorded", "{what}: {ours}");
    let receipt: ReceiptJson = serde_json::from_value(ours["log"]["receipt"].clone()).unwrap();
    Receipt::from_json(&receipt)
        .unwrap()
        .verify(&verifier())
        .expect("the report's inclusion proof verifies");
    for s in sigs {
        assert_eq!(s["integrity"], "intact", "{what}: {s}");
        if s["kind"] == "document_timestamp" {
            assert_eq!(s["indication"], "TOTAL_PASSED", "{what}: {s}");
        }
    }
}

fn verify_pdf(pdf: &[u8]) -> Value {
    let reply = reqwest::blocking::Client::new()
        .post(format!("{}/v1/verify", fixture().server.url))
        .header("content-type", "application/pdf")
        .body(pdf.to_vec())
        .send()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    reply.json().unwrap()
}

/// Every corpus file × level × {invisible, coordinates, keyword}.
#[test]
fn corpus_signatures_validate_in_pyhanko_pdfsig_and_qpdf() {
    let f = fixture();
    let out_dir = f._dir.path().join("signed");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut by_level: HashMap<&str, Vec<(PathBuf, String, bool)>> = HashMap::new();
    let mut count = 0;
    for entry in &f.manifest {
        let name = entry["name"].as_str().unwrap();
        let input = std::fs::read(f.corpus.join(entry["file"].as_str().unwrap())).unwrap();
        // pyHanko treats a new visible field in a certified document as a disallowed change
        // (it judges the certification, not our signature); there the prepared field is used.
        let certified = name == "pyhanko_certified";
        let mut placements = vec![("invisible", json!([]))];
        if certified {
            let field = entry["empty_signature_field"].as_str().unwrap();
            placements.push((
                "field",
                json!([{"kind": "signature", "placement": {"field": {"name": field}}}]),
            ));
        } else {
            placements.push((
                "coordinates",
                json!([{"kind": "signature", "text": "Approved",
                        "placement": {"coordinates": {"page": 1, "x": 36, "y": 36}}}]),
            ));
            if let Some(k) = entry["keyword"].as_str() {
                placements.push((
                    "keyword",
                    json!([{"kind": "date", "placement": {"keyword": {
                        "text": k, "page": entry["keyword_page"], "relative": "below"}}}]),
                ));
            }
        }
        for level in LEVELS {
            for (mode, fields) in &placements {
                let options = json!({"entity_id": f.entities[0], "level": level, "fields": fields,
                                     "reason": "interop", "location": "Shenzhen"});
                let signed = sign(&input, &options);
                assert_eq!(
                    signed.status,
                    200,
                    "{name} {level} {mode}: {}",
                    String::from_utf8_lossy(&signed.body)
                );
                assert!(
                    signed.body.starts_with(&input),
                    "{name} {level} {mode}: the input is not a prefix of the output"
                );
                check_receipt(signed.receipt.as_deref().unwrap(), &signed.body);
                let path = out_dir.join(format!("{name}-{level}-{mode}.pdf"));
                std::fs::write(&path, &signed.body).unwrap();
                qpdf_check(&path);
                let sig_report = pdfsig(&path);
                let field = if *mode == "field" {
                    entry["empty_signature_field"].as_str().unwrap().to_string()
                } else {
                    "Signature1".to_string()
                };
                // pdfsig judges approval signatures (its poppler cannot verify document
                // time-stamps, which pyHanko checks below). It lists signatures in field order,
                // so ours is found by its field name.
                let block = sig_report
                    .split("Signature #")
                    .find(|b| b.contains(&format!("Signature Field Name: {field}\n")))
                    .unwrap_or_else(|| panic!("pdfsig does not list {field}:\n{sig_report}"));
                assert!(
                    block.contains("Signature is Valid."),
                    "pdfsig on {name} {level} {mode}:\n{sig_report}"
                );
                if matches!(level, "B-B" | "B-T") {
                    assert!(
                        block.contains("Total document signed"),
                        "pdfsig on {name} {level} {mode}:\n{sig_report}"
                    );
                }
                our_verifier_passes(
                    &signed.body,
                    &field,
                    level,
                    &format!("{name} {level} {mode}"),
                );
                by_level.entry(level).or_default().push((
                    path,
                    field,
                    matches!(level, "B-B" | "B-T"),
                ));
                count += 1;
            }
        }
    }
    for (level, files) in &by_level {
        let paths: Vec<PathBuf> = files.iter().map(|(p, _, _)| p.clone()).collect();
        let results = validate(level, &paths);
        for (path, field, whole) in files {
            let result = &results[path.to_str().unwrap()];
            assert_valid(result, field, level, *whole);
        }
    }
    eprintln!(
        "{count} signed files validated ({} corpus files)",
        f.manifest.len()
    );
}

/// Five signatures in sequence, a P2 certification first: pyHanko accepts all five, the earlier
/// ones as covering their revision with only allowed changes.
#[test]
fn five_sequential_signatures_keep_each_other_valid() {
    let f = fixture();
    let mut pdf = std::fs::read(f.corpus.join("reportlab_simple.pdf")).unwrap();
    for i in 0..5 {
        let mut options = json!({"entity_id": f.entities[i], "level": "B-T"});
        if i == 0 {
            options["certify"] = "P2".into();
        }
        let signed = sign(&pdf, &options);
        assert_eq!(
            signed.status,
            200,
            "signature {i}: {}",
            String::from_utf8_lossy(&signed.body)
        );
        assert!(signed.body.starts_with(&pdf));
        pdf = signed.body;
    }
    let path = f._dir.path().join("five.pdf");
    std::fs::write(&path, &pdf).unwrap();
    qpdf_check(&path);
    let results = validate("B-T", std::slice::from_ref(&path));
    let result = &results[path.to_str().unwrap()];
    let sigs = result["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 5, "{result}");
    for (i, sig) in sigs.iter().enumerate() {
        assert_eq!(sig["summary"], "VALID", "signature {i}: {sig}");
        assert_eq!(sig["trusted"], true, "signature {i}: {sig}");
        let expected = if i == 4 {
            "ENTIRE_FILE"
        } else {
            "ENTIRE_REVISION"
        };
        assert_eq!(sig["coverage"], expected, "signature {i}: {sig}");
        assert_ne!(sig["docmdp_ok"], false, "signature {i}: {sig}");
    }
    let report = pdfsig(&path);
    assert_eq!(report.matches("Signature is Valid.").count(), 5, "{report}");
}

/// One signature with several widgets (a seal by coordinates and a date beside every "Party B"),
/// then a second signature: pyHanko accepts both, the first as covering its revision.
#[test]
fn several_widgets_in_one_signature_stay_valid_after_a_later_signature() {
    let f = fixture();
    let input = std::fs::read(f.corpus.join("reportlab_simple.pdf")).unwrap();
    let options = json!({"entity_id": f.entities[0], "level": "B-T", "fields": [
        {"kind": "seal", "image": PNG_1X1,
         "placement": {"coordinates": {"page": 1, "x": 400, "y": 40}}},
        {"kind": "date", "placement": {"keyword": {"text": "Party B", "occurrence": "all",
            "relative": "right", "width": 60, "height": 12}}}]});
    let first = sign_ok(&input, &options);
    let second = sign_ok(&first, &json!({"entity_id": f.entities[1], "level": "B-T"}));
    let path = f._dir.path().join("widgets.pdf");
    std::fs::write(&path, &second).unwrap();
    qpdf_check(&path);
    // Every occurrence got a widget: the field's /Kids.
    let json = text(&run(Command::new("qpdf")
        .args(["--json", "--json-key=acroform"])
        .arg(&path)));
    let acroform: Value = serde_json::from_str(&json).unwrap();
    let fields = acroform["acroform"]["fields"].as_array().unwrap();
    let widgets = fields
        .iter()
        .filter(|w| w["fullname"] == "Signature1")
        .count();
    let occurrences = text(&run(Command::new("pdftotext")
        .arg(f.corpus.join("reportlab_simple.pdf"))
        .arg("-")))
    .matches("Party B")
    .count();
    assert_eq!(
        widgets,
        occurrences + 1,
        "one seal plus one date per occurrence"
    );
    let results = validate("B-T", std::slice::from_ref(&path));
    let result = &results[path.to_str().unwrap()];
    assert_valid(result, "Signature1", "B-T", false);
    assert_valid(result, "Signature2", "B-T", true);
    // pdfsig lists each widget; every one must show a valid signature, none unsigned.
    let report = pdfsig(&path);
    assert!(!report.contains("not signed"), "{report}");
    assert_eq!(
        report.matches("Signature is Valid.").count(),
        report.matches("Signature Field Name").count(),
        "{report}"
    );
    assert!(
        report.contains("Signature Field Name: Signature2"),
        "{report}"
    );
}

/// A Chinese organisation name in a `signature` field renders and extracts as written.
#[test]
fn cjk_name_renders_and_extracts() {
    let f = fixture();
    require_tool("pdftoppm", "apt-get install poppler-utils");
    let input = std::fs::read(f.corpus.join("reportlab_simple.pdf")).unwrap();
    let (x, y, w, h) = (300.0, 60.0, 240.0, 48.0);
    let options = json!({"entity_id": f.entities[0], "level": "B-B", "fields": [
        {"kind": "signature", "placement": {"coordinates": {"page": 1, "x": x, "y": y, "width": w, "height": h}}}]});
    let signed = sign(&input, &options);
    let path = f._dir.path().join("cjk.pdf");
    std::fs::write(&path, &signed.body).unwrap();
    let name = organization(None)["name"].as_str().unwrap().to_string();
    // pdftotext does not extract annotation appearances; flattening them (qpdf, an independent
    // tool) puts them in the page content first.
    let flat = f._dir.path().join("cjk-flat.pdf");
    let out = run(Command::new("qpdf")
        .args(["--flatten-annotations=all"])
        .arg(&path)
        .arg(&flat));
    assert!(
        out.status.success() || out.status.code() == Some(3),
        "{}",
        text(&out)
    );
    let extracted = text(&run(Command::new("pdftotext").arg(&flat).arg("-")));
    assert!(
        extracted.contains(&name),
        "pdftotext did not extract {name:?}:\n{extracted}"
    );
    // Rasterise just the field (A4 page: 842 pt high; pdftoppm's origin is top-left).
    let crop = run(Command::new("pdftoppm")
        .args(["-r", "72", "-gray", "-f", "1", "-l", "1"])
        .args(["-x", &format!("{}", x as i64)])
        .args(["-y", &format!("{}", (842.0 - y - h) as i64)])
        .args([
            "-W",
            &format!("{}", w as i64),
            "-H",
            &format!("{}", h as i64),
        ])
        .arg(&path));
    assert!(crop.status.success(), "{}", text(&crop));
    let pgm = crop.stdout;
    let dark = pgm
        .iter()
        .rev()
        .take((w * h) as usize)
        .filter(|p| **p < 128)
        .count();
    assert!(
        dark > 200,
        "the field area is (nearly) blank: {dark} dark pixels"
    );
}

fn problem_code(signed: &Signed) -> String {
    let v: Value = serde_json::from_slice(&signed.body).unwrap_or(Value::Null);
    v["code"].as_str().unwrap_or_default().to_string()
}

/// RSA entity keys: PKCS#1 v1.5 by default, RSASSA-PSS with `signing.rsa_pss`; both validate
/// in pyHanko (B-LT, offline) and pdfsig.
#[test]
fn rsa_pkcs1_and_pss_signatures_validate() {
    let f = fixture();
    let input = std::fs::read(f.corpus.join("reportlab_simple_objstm.pdf")).unwrap();
    for pss in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("rsa.toml");
        std::fs::write(
            &config,
            format!("[ca]\nentity_key_algorithm = \"rsa-2048\"\n[signing]\nrsa_pss = {pss}\n"),
        )
        .unwrap();
        let server = Server::start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
        let key = server.admin_key();
        let (status, body) = server.call(
            &key,
            "POST",
            "/v1/entities",
            Some(organization(Some("acme"))),
        );
        assert_eq!(status, 201, "{body}");
        let options = json!({"entity_id": body["id"], "level": "B-LT"});
        let (multipart, content_type) =
            client::sign_request_body(options.to_string().as_bytes(), &input);
        let reply = client::send(
            &server.url,
            &key,
            "POST",
            "/v1/sign",
            multipart,
            Some(&content_type),
            &[],
        )
        .unwrap();
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let path = dir.path().join("rsa.pdf");
        std::fs::write(&path, &reply.body).unwrap();
        let root = dir.path().join("root.pem");
        std::fs::write(&root, server.get_bytes("/v1/ca/root.pem").1).unwrap();
        let cms = {
            // The signature algorithm in the CMS says which padding was used.
            let out = run(Command::new("pdfsig").arg(&path));
            text(&out)
        };
        assert!(cms.contains("Signature is Valid."), "pss={pss}: {cms}");
        let out = run(Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/validate.py"))
            .arg("--trust-root")
            .arg(&root)
            .args(["--expect-level", "B-LT"])
            .arg(&path));
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_valid(&result, "Signature1", "B-LT", false);
        let dump = text(&run(Command::new("openssl")
            .args(["asn1parse", "-inform", "DER", "-in"])
            .arg(extract_cms(&reply.body, dir.path()))));
        assert_eq!(dump.contains("rsassaPss"), pss, "pss={pss}:\n{dump}");
    }
}

/// Writes the CMS of the first signature (the hex string after the first `/Contents <`) to a
/// file, for `openssl asn1parse`.
fn extract_cms(pdf: &[u8], dir: &Path) -> PathBuf {
    let at = pdf
        .windows(11)
        .position(|w| w == b"/Contents <")
        .expect("a /Contents hex string")
        + 11;
    let end = at + pdf[at..].iter().position(|b| *b == b'>').unwrap();
    let der = hex::decode(&pdf[at..end]).unwrap();
    let path = dir.join("sig.der");
    std::fs::write(&path, der).unwrap();
    path
}

/// Bad requests get a 4xx problem+json with a stable code.
#[test]
fn clear_errors() {
    let f = fixture();
    let good = std::fs::read(f.corpus.join("reportlab_simple.pdf")).unwrap();
    let e0 = &f.entities[0];
    let opts = |extra: Value| {
        let mut o = json!({"entity_id": e0, "level": "B-B"});
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    };
    let expect = |pdf: &[u8], options: Value, status: u16, code: &str| {
        let s = sign(pdf, &options);
        assert_eq!(
            (s.status, problem_code(&s).as_str()),
            (status, code),
            "{}",
            String::from_utf8_lossy(&s.body)
        );
        s
    };
    expect(b"hello, not a pdf", opts(json!({})), 415, "not_a_pdf");
    expect(
        &good[..good.len() / 2],
        opts(json!({})),
        422,
        "malformed_pdf",
    );
    // Encrypted by qpdf.
    let plain = f._dir.path().join("plain.pdf");
    let enc = f._dir.path().join("enc.pdf");
    std::fs::write(&plain, &good).unwrap();
    let out = run(Command::new("qpdf")
        .args(["--encrypt", "user", "owner", "256", "--"])
        .arg(&plain)
        .arg(&enc));
    assert!(out.status.success(), "{}", text(&out));
    expect(
        &std::fs::read(&enc).unwrap(),
        opts(json!({})),
        422,
        "encrypted_pdf",
    );
    // Certified with P1, then signed again.
    let p1 = sign(&good, &opts(json!({"certify": "P1"})));
    assert_eq!(p1.status, 200);
    expect(&p1.body, opts(json!({})), 409, "document_locked");
    let s = expect(
        &good,
        opts(
            json!({"fields": [{"kind": "date", "placement": {"keyword": {"text": "no such words here"}}}]}),
        ),
        422,
        "keyword_not_found",
    );
    assert!(String::from_utf8_lossy(&s.body).contains("no such words here"));
    let s = expect(
        &good,
        opts(json!({"fields": [{"kind": "seal", "image": PNG_1X1,
            "placement": {"coordinates": {"page": 1, "x": 550, "y": 800}}}]})),
        422,
        "rect_outside_page",
    );
    assert!(
        String::from_utf8_lossy(&s.body).contains("595"),
        "names the page size"
    );
    expect(
        &good,
        opts(
            json!({"fields": [{"kind": "date", "placement": {"coordinates": {"page": 7, "x": 10, "y": 10}}}]}),
        ),
        422,
        "page_out_of_range",
    );
    expect(&good, opts(json!({"level": "B-Z"})), 422, "unknown_level");
    // A certified document takes signatures in prepared fields or invisibly, not new widgets.
    let certified = sign(&good, &opts(json!({"certify": "P2"})));
    assert_eq!(certified.status, 200);
    expect(
        &certified.body,
        opts(
            json!({"fields": [{"kind": "date", "placement": {"coordinates": {"page": 1, "x": 10, "y": 10}}}]}),
        ),
        422,
        "visible_field_in_certified_document",
    );
    // At most 50 widgets per signature.
    expect(
        &handmade_pdf("Initials", 60),
        opts(
            json!({"fields": [{"kind": "date", "placement": {"keyword": {"text": "Initials", "occurrence": "all"}}}]}),
        ),
        422,
        "invalid_options",
    );
    // An entity of another workspace.
    let other = f.server.workspace_key("other");
    let s = sign_with(&other, &good, &opts(json!({})), None);
    assert_eq!(
        (s.status, problem_code(&s).as_str()),
        (403, "workspace_forbidden")
    );
    // Oversize: the test server accepts 30 MiB documents.
    let big = vec![b'%'; 31 << 20];
    expect(&big, opts(json!({})), 413, "document_too_large");
}

/// A one-page PDF written here (input data, not our writer): a Skia-like MediaBox with six
/// decimals, a `/Thumb null` entry, an /OpenAction with decimals, and `word` drawn `n` times.
fn handmade_pdf(word: &str, n: usize) -> Vec<u8> {
    let mut content = String::from("BT /F1 9 Tf 20 820 Td 11 TL ");
    for i in 0..n {
        content.push_str(&format!("({word} {i}) Tj T* "));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /XYZ 0 841.889764 0] >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.275591 841.889764] /Thumb null /Contents 4 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    support::pdf_from_objects(&objects)
}

/// Regression (review): rewritten pages and catalogs rounded reals to 4 decimals and dropped
/// null entries, which pyHanko reports as modifications of earlier revisions.
#[test]
fn rewritten_objects_keep_precise_values_for_validators() {
    let f = fixture();
    let input = handmade_pdf("Clause", 3);
    let dir = f._dir.path();
    std::fs::write(dir.join("handmade.pdf"), &input).unwrap();
    qpdf_check(&dir.join("handmade.pdf"));
    let first = sign_ok(
        &input,
        &json!({"entity_id": f.entities[0], "level": "B-LT", "fields": [
            {"kind": "signature", "placement": {"keyword": {"text": "Clause 1", "relative": "right"}}}]}),
    );
    let second = sign_ok(
        &first,
        &json!({"entity_id": f.entities[1], "level": "B-LT"}),
    );
    let path = dir.join("precise.pdf");
    std::fs::write(&path, &second).unwrap();
    let results = validate("B-LT", std::slice::from_ref(&path));
    let result = &results[path.to_str().unwrap()];
    assert_valid(result, "Signature1", "B-LT", false);
    assert_valid(result, "Signature2", "B-LT", false);
}

/// A 1×1 red PNG.
const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/// Idempotency: the same key and request return the same output and log entry; receipts can be
/// fetched again later with a fresh proof.
#[test]
fn idempotent_retries_and_receipts() {
    let f = fixture();
    let key = f.server.admin_key();
    let good = std::fs::read(f.corpus.join("ps2pdf.pdf")).unwrap();
    let options = json!({"entity_id": f.entities[1], "level": "B-B"});
    let first = sign_with(&key, &good, &options, Some("order-4711"));
    assert_eq!(first.status, 200);
    let r1 = check_receipt(first.receipt.as_deref().unwrap(), &first.body);
    let again = sign_with(&key, &good, &options, Some("order-4711"));
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body, "a retry returns the same document");
    let r2 = check_receipt(again.receipt.as_deref().unwrap(), &again.body);
    assert_eq!(r1.index, r2.index, "and the same log entry");
    let other = json!({"entity_id": f.entities[1], "level": "B-T"});
    let s = sign_with(&key, &good, &other, Some("order-4711"));
    assert_eq!(
        (s.status, problem_code(&s).as_str()),
        (422, "idempotency_key_reused")
    );

    let (status, body) = f
        .server
        .call(&key, "GET", &format!("/v1/receipts/{}", r1.index), None);
    assert_eq!(status, 200, "{body}");
    let json: ReceiptJson = serde_json::from_value(body).unwrap();
    let later = Receipt::from_json(&json).unwrap();
    later.verify(&verifier()).unwrap();
    assert_eq!(later.entry, r1.entry);
    // Another workspace cannot read it.
    let (status, body) = f.server.call(
        &f.server.workspace_key("elsewhere"),
        "GET",
        &format!("/v1/receipts/{}", r1.index),
        None,
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("log_entry_not_found"))
    );
}

/// Durable before acknowledged: when the log append fails, the caller gets a 503 problem and no
/// PDF, and nothing is remembered under its idempotency key.
#[test]
fn failed_log_append_returns_no_pdf() {
    use sigillum::service::Appliance;
    use tower::ServiceExt;
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let config = sigillum::config::Config {
        data_dir: dir.path().join("data"),
        ..sigillum::config::Config::default()
    };
    let app = Appliance::open(config, std::sync::Arc::new(sigillum::clock::SystemClock)).unwrap();
    let key = KeyFile::load(&dir.path().join("data/admin-api-key.json")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let send =
        |method: &str, path: &str, body: Vec<u8>, content_type: &str, extra: &[(&str, &str)]| {
            let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
            let auth =
                client::authorization(&key, timestamp, &client::nonce(), method, path, None, &body);
            let mut request = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", auth)
                .header("content-type", content_type);
            for (k, v) in extra {
                request = request.header(*k, *v);
            }
            let request = request.body(axum::body::Body::from(body)).unwrap();
            runtime.block_on(async {
                let response = sigillum::api::router(app.clone())
                    .oneshot(request)
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (status, headers, bytes.to_vec())
            })
        };
    let (status, _, body) = send(
        "POST",
        "/v1/entities",
        serde_json::to_vec(&organization(Some("acme"))).unwrap(),
        "application/json",
        &[],
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let entity: Value = serde_json::from_slice(&body).unwrap();
    let pdf = std::fs::read(f.corpus.join("reportlab_simple.pdf")).unwrap();
    let options = json!({"entity_id": entity["id"], "level": "B-B"});
    let (multipart, content_type) = client::sign_request_body(options.to_string().as_bytes(), &pdf);

    let size_before = app.log().checkpoint().checkpoint.size;
    app.log().halt("injected by test");
    let (status, headers, body) = send(
        "POST",
        "/v1/sign",
        multipart.clone(),
        &content_type,
        &[("idempotency-key", "halted-1")],
    );
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/problem+json"
    );
    assert!(headers.get("sigillum-receipt").is_none());
    assert!(
        !body.windows(5).any(|w| w == b"%PDF-"),
        "no PDF in the response"
    );
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "log_unavailable");
    assert_eq!(app.log().checkpoint().checkpoint.size, size_before);
    // The output stored for the idempotency key is removed again: a retry signs afresh.
    let stored = walk(&dir.path().join("data/blobs"));
    assert!(stored.is_empty(), "{stored:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let p = e.path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}
