//! End-to-end tests of the running appliance against independent tools: openssl (verify, ocsp,
//! crl, ts), pkilint, and a Python HMAC client that shares no code with the server.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::{Server, organization, person, pkilint_cert, pkilint_der, require_tool, run, text};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn der_to_pem(dir: &Path, name: &str, der: &[u8]) -> std::path::PathBuf {
    let x = openssl::x509::X509::from_der(der).unwrap();
    write(dir, name, x.to_pem().unwrap())
}

/// Acceptance 1: zero configuration, then a restart that reuses CA, keys and data.
#[test]
fn zero_config_start_then_restart_reuses_ca_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_zero_config(dir.path());
    assert!(dir.path().join("data/db").is_dir());
    for file in ["master.key", "admin-api-key.json"] {
        let mode = std::fs::metadata(dir.path().join("data").join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} must be private");
    }
    let admin = server.admin_key();
    assert!(
        !server.log_text().contains(admin.secret.as_str()),
        "the admin secret must never be logged"
    );
    assert!(server.log_text().contains("admin-api-key.json"));

    let (_, root_before) = server.get_bytes("/v1/ca/root.pem");
    let (status, created) = server.call(
        &admin,
        "POST",
        "/v1/entities",
        Some(organization(Some("acme"))),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let crl_number = |server: &Server| {
        let (status, crl) = server.get_bytes("/crl/issuing.crl");
        assert_eq!(status, 200);
        let path = server.dir.join("n.crl");
        std::fs::write(&path, crl).unwrap();
        let out = run(Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-crlnumber", "-in"])
            .arg(&path));
        let t = text(&out);
        let hex = t
            .trim()
            .strip_prefix("crlNumber=0x")
            .unwrap_or_else(|| panic!("{t}"))
            .to_owned();
        u64::from_str_radix(&hex, 16).unwrap()
    };
    let number_before = crl_number(&server);

    server.restart();
    assert!(
        crl_number(&server) > number_before,
        "CRL numbers increase across restarts"
    );
    let (_, root_after) = server.get_bytes("/v1/ca/root.pem");
    assert_eq!(root_before, root_after, "the CA must survive a restart");
    let admin_after = server.admin_key();
    assert_eq!(
        admin.key_id, admin_after.key_id,
        "the admin key is created once"
    );
    let (status, fetched) = server.call(&admin, "GET", &format!("/v1/entities/{id}"), None);
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(
        fetched["certificate"]["serial"],
        created["certificate"]["serial"]
    );
    assert_eq!(fetched["certificate"]["pem"], created["certificate"]["pem"]);
    server.stop();
}

/// Acceptance 2 for a running server whatever its key backend: `openssl verify` and pkilint.
pub fn certificates_pass_openssl_and_pkilint(server: &Server, expected_backend: &str) {
    require_tool("openssl", "apt-get install openssl");
    let work = server.dir.join("pki");
    std::fs::create_dir_all(&work).unwrap();
    let admin = server.admin_key();
    let mut pems = Vec::new();
    for name in ["root", "issuing", "ocsp", "tsa"] {
        let (status, der) = server.get_bytes(&format!("/v1/ca/{name}.crt"));
        assert_eq!(status, 200);
        pems.push((
            name.to_owned(),
            der_to_pem(&work, &format!("{name}.pem"), &der),
        ));
    }
    for (name, body) in [
        ("organization", organization(Some("acme"))),
        ("person", person(Some("acme"))),
    ] {
        let (status, entity) = server.call(&admin, "POST", "/v1/entities", Some(body));
        assert_eq!(status, 201, "{entity}");
        assert_eq!(entity["key_backend"], expected_backend);
        let pem = entity["certificate"]["pem"].as_str().unwrap();
        pems.push((name.to_owned(), write(&work, &format!("{name}.pem"), pem)));
    }
    let root = work.join("root.pem");
    let issuing = work.join("issuing.pem");
    for (name, pem) in &pems {
        let out = if name == "root" || name == "issuing" {
            run(Command::new("openssl")
                .arg("verify")
                .arg("-CAfile")
                .arg(&root)
                .arg(pem))
        } else {
            run(Command::new("openssl")
                .arg("verify")
                .arg("-CAfile")
                .arg(&root)
                .arg("-untrusted")
                .arg(&issuing)
                .arg(pem))
        };
        assert!(
            out.status.success(),
            "openssl verify {name}: {}",
            text(&out)
        );
        assert!(text(&out).contains(": OK"), "{}", text(&out));
        pkilint_cert(pem);
    }
    // The TSA certificate's EKU is critical and only timeStamping (RFC 3161 §2.3).
    let out = run(Command::new("openssl")
        .args(["x509", "-noout", "-ext", "extendedKeyUsage", "-in"])
        .arg(work.join("tsa.pem")));
    let t = text(&out);
    assert!(t.contains("critical") && t.contains("Time Stamping"), "{t}");
}

#[test]
fn soft_backend_certificates_pass_openssl_verify_and_pkilint() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    certificates_pass_openssl_and_pkilint(&server, "soft");
}

/// Acceptance 4: OCSP good → revoked with reason, the CRL lists the serial, TSA tokens verify.
#[test]
fn ocsp_crl_and_tsa_interoperate_with_openssl() {
    require_tool("openssl", "apt-get install openssl");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    let work = dir.path();
    let admin = server.admin_key();
    let (_, root) = server.get_bytes("/v1/ca/root.crt");
    let (_, issuing) = server.get_bytes("/v1/ca/issuing.crt");
    let root_pem = der_to_pem(work, "root.pem", &root);
    let issuing_pem = der_to_pem(work, "issuing.pem", &issuing);
    let (_, chain) = server.get_bytes("/v1/ca/chain.pem");
    let chain_pem = write(work, "chain.pem", chain);
    let (status, entity) = server.call(&admin, "POST", "/v1/entities", Some(person(Some("acme"))));
    assert_eq!(status, 201, "{entity}");
    let leaf = write(
        work,
        "leaf.pem",
        entity["certificate"]["pem"].as_str().unwrap(),
    );
    let serial = entity["certificate"]["serial"].as_str().unwrap().to_owned();

    let ocsp = || {
        let out = run(Command::new("openssl")
            .args(["ocsp", "-issuer"])
            .arg(&issuing_pem)
            .arg("-cert")
            .arg(&leaf)
            .arg("-CAfile")
            .arg(&root_pem)
            .arg("-url")
            .arg(format!("{}/ocsp", server.url))
            .arg("-resp_text"));
        text(&out)
    };
    let before = ocsp();
    assert!(before.contains(": good"), "{before}");
    assert!(before.contains("Response verify OK"), "{before}");
    assert!(
        !before.contains("WARNING: no nonce"),
        "the nonce must be echoed: {before}"
    );

    let (status, revoked) = server.call(
        &admin,
        "POST",
        &format!("/v1/certificates/{serial}/revoke"),
        Some(json!({ "reason": "keyCompromise" })),
    );
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    let after = ocsp();
    assert!(after.contains(": revoked"), "{after}");
    assert!(after.contains("Reason: keyCompromise"), "{after}");
    assert!(after.contains("Response verify OK"), "{after}");

    // GET form of OCSP (RFC 6960 Appendix A.1).
    let req = work.join("req.der");
    let out = run(Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer"])
        .arg(&issuing_pem)
        .arg("-cert")
        .arg(&leaf)
        .arg("-reqout")
        .arg(&req));
    assert!(out.status.success(), "{}", text(&out));
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&req).unwrap());
    let encoded =
        percent_encoding::utf8_percent_encode(&b64, percent_encoding::NON_ALPHANUMERIC).to_string();
    let (status, resp) = server.get_bytes(&format!("/ocsp/{encoded}"));
    assert_eq!(status, 200);
    let resp_path = write(work, "resp.der", resp);
    let out = run(Command::new("openssl")
        .args(["ocsp", "-respin"])
        .arg(&resp_path)
        .arg("-issuer")
        .arg(&issuing_pem)
        .arg("-cert")
        .arg(&leaf)
        .arg("-CAfile")
        .arg(&root_pem));
    assert!(text(&out).contains(": revoked"), "{}", text(&out));
    pkilint_der("lint_ocsp_response", &[], &resp_path);

    // CRL: signed by the issuing CA, lists the serial with its reason.
    let (status, crl) = server.get_bytes("/crl/issuing.crl");
    assert_eq!(status, 200);
    let crl_path = write(work, "issuing.crl", crl);
    let out = run(Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&crl_path)
        .arg("-CAfile")
        .arg(&chain_pem));
    let t = text(&out);
    assert!(t.contains("verify OK"), "{t}");
    assert!(
        t.to_lowercase().contains(&serial.to_lowercase()),
        "serial {serial} not in CRL: {t}"
    );
    assert!(t.contains("Key Compromise"), "{t}");
    pkilint_der("lint_crl", &["-t", "CRL", "-p", "PKIX"], &crl_path);
    let (status, root_crl) = server.get_bytes("/crl/root.crl");
    assert_eq!(status, 200);
    let root_crl_path = write(work, "root.crl", root_crl);
    let out = run(Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(&root_crl_path)
        .arg("-CAfile")
        .arg(&root_pem));
    assert!(text(&out).contains("verify OK"), "{}", text(&out));
    pkilint_der("lint_crl", &["-t", "ARL", "-p", "PKIX"], &root_crl_path);

    // TSA: a query from openssl, verified by openssl against our chain.
    let data = write(work, "data.txt", "the document to timestamp\n");
    let tsq = work.join("q.tsq");
    let out = run(Command::new("openssl")
        .args(["ts", "-query", "-sha256", "-cert", "-data"])
        .arg(&data)
        .arg("-out")
        .arg(&tsq));
    assert!(out.status.success(), "{}", text(&out));
    let reply = reqwest::blocking::Client::new()
        .post(format!("{}/tsa", server.url))
        .header("Content-Type", "application/timestamp-query")
        .body(std::fs::read(&tsq).unwrap())
        .send()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        reply.headers()["content-type"].to_str().unwrap(),
        "application/timestamp-reply"
    );
    let tsr = write(work, "r.tsr", reply.bytes().unwrap());
    let out = run(Command::new("openssl")
        .args(["ts", "-verify", "-data"])
        .arg(&data)
        .arg("-in")
        .arg(&tsr)
        .arg("-CAfile")
        .arg(&root_pem)
        .arg("-untrusted")
        .arg(&issuing_pem));
    assert!(text(&out).contains("Verification: OK"), "{}", text(&out));
    // ... and a different document does not verify against that token.
    let other = write(work, "other.txt", "another document\n");
    let out = run(Command::new("openssl")
        .args(["ts", "-verify", "-data"])
        .arg(&other)
        .arg("-in")
        .arg(&tsr)
        .arg("-CAfile")
        .arg(&root_pem)
        .arg("-untrusted")
        .arg(&issuing_pem));
    assert!(!text(&out).contains("Verification: OK"), "{}", text(&out));
}

fn python_call(server: &Server, args: &[&str]) -> (u16, String, Value) {
    require_tool("python3", "apt-get install python3");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hmac_client.py");
    let out = run(Command::new("python3")
        .arg(script)
        .arg(&server.url)
        .args(args));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.splitn(3, '\n');
    let status = lines.next().unwrap().parse().unwrap();
    let content_type = lines.next().unwrap_or_default().to_owned();
    let body = serde_json::from_str(lines.next().unwrap_or_default()).unwrap_or(Value::Null);
    (status, content_type, body)
}

/// Acceptance 5: the README's HMAC scheme, exercised by an independent Python client.
#[test]
fn hmac_scheme_with_an_independent_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    let acme = server.workspace_key("acme");
    let other = server.workspace_key("globex");
    // `--secret=…` in one argument: a base64url secret may start with '-', which argparse would
    // take for an option (a flaky failure once in ~30 runs before this form).
    let acme_secret = format!("--secret={}", acme.secret.as_str());
    let other_secret = format!("--secret={}", other.secret.as_str());
    let key = ["--key-id", acme.key_id.as_str(), acme_secret.as_str()];
    let body = serde_json::to_string(&organization(None)).unwrap();

    // A correct request succeeds.
    let mut args = vec!["POST", "/v1/entities", "--body", body.as_str()];
    args.extend(key);
    let (status, _, created) = python_call(&server, &args);
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["workspace"], "acme");
    let id = created["id"].as_str().unwrap().to_owned();
    let entity_path = format!("/v1/entities/{id}");

    // A query out of canonical order, with an empty value and a percent-encoded unreserved
    // character that canonicalisation must decode (`%61` is `a`).
    let mut args = vec![
        "GET",
        "/v1/entities",
        "--query",
        "workspace=%61cme&limit=5&cursor=",
    ];
    args.extend(key);
    let (status, _, page) = python_call(&server, &args);
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["id"], id.as_str());

    let expect = |args: Vec<&str>, status: u16, code: &str| {
        let (got, content_type, body) = python_call(&server, &args);
        assert_eq!(got, status, "{args:?}: {body}");
        assert_eq!(content_type, "application/problem+json", "{args:?}");
        assert_eq!(body["code"], code, "{args:?}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    };
    // Wrong secret.
    expect(
        vec![
            "GET",
            &entity_path,
            "--key-id",
            acme.key_id.as_str(),
            "--secret",
            "not-the-secret",
        ],
        401,
        "signature_mismatch",
    );
    // Altered body: signed one body, sent another.
    let altered = body.replace("legal@", "attacker@");
    let mut args = vec![
        "POST",
        "/v1/entities",
        "--body",
        body.as_str(),
        "--send-body",
        altered.as_str(),
    ];
    args.extend(key);
    expect(args, 401, "signature_mismatch");
    // Altered query.
    let mut args = vec![
        "GET",
        "/v1/entities",
        "--query",
        "limit=5",
        "--send-query",
        "limit=50",
    ];
    args.extend(key);
    expect(args, 401, "signature_mismatch");
    // Stale timestamp.
    // Margins well beyond the 300 s window: the Python client may take seconds to start on a
    // loaded machine, which shrinks a future timestamp's distance (it flaked at +301).
    let stale = (time::OffsetDateTime::now_utc().unix_timestamp() - 330).to_string();
    let mut args = vec!["GET", entity_path.as_str(), "--timestamp", stale.as_str()];
    args.extend(key);
    expect(args, 401, "timestamp_out_of_window");
    let future = (time::OffsetDateTime::now_utc().unix_timestamp() + 330).to_string();
    let mut args = vec!["GET", entity_path.as_str(), "--timestamp", future.as_str()];
    args.extend(key);
    expect(args, 401, "timestamp_out_of_window");
    let absurd = i64::MIN.to_string();
    let mut args = vec!["GET", entity_path.as_str(), "--timestamp", absurd.as_str()];
    args.extend(key);
    expect(args, 401, "timestamp_out_of_window");
    // Replayed nonce: the same signed request twice.
    let now = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let mut args = vec![
        "GET",
        entity_path.as_str(),
        "--timestamp",
        now.as_str(),
        "--nonce",
        "replay-me-0123456789",
    ];
    args.extend(key);
    let (status, _, _) = python_call(&server, &args);
    assert_eq!(status, 200);
    expect(args, 401, "nonce_replayed");
    // Another workspace's entity.
    expect(
        vec![
            "GET",
            &entity_path,
            "--key-id",
            other.key_id.as_str(),
            &other_secret,
        ],
        403,
        "workspace_forbidden",
    );
    // Unknown key and a workspace key trying an admin action.
    expect(
        vec![
            "GET",
            &entity_path,
            "--key-id",
            "ak_000000000000000000000000",
            "--secret",
            "x",
        ],
        401,
        "unknown_key",
    );
    let mut args = vec!["POST", "/v1/api-keys", "--body", r#"{"workspace":"acme"}"#];
    args.extend(key);
    expect(args, 403, "admin_required");
    // No header at all.
    let r = reqwest::blocking::get(format!("{}{entity_path}", server.url)).unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().unwrap();
    assert_eq!(v["code"], "missing_authorization");
    // Public endpoints need no signature.
    assert_eq!(server.get_bytes("/v1/ca/root.pem").0, 200);
}

/// Acceptance 6: bad input is a 4xx problem, never a 5xx.
#[test]
fn bad_input_gets_problem_json() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "sigillum.toml",
        "[api]\nmax_body_bytes = 2048\n",
    );
    let server = Server::start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
    let admin = server.admin_key();
    let send = |raw: &[u8]| {
        let reply =
            sigillum::client::call(&server.url, &admin, "POST", "/v1/entities", raw.to_vec())
                .unwrap();
        assert_eq!(
            reply.content_type.as_deref(),
            Some("application/problem+json")
        );
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(v["status"], reply.status);
        assert!(v["detail"].as_str().is_some_and(|d| d.len() > 10), "{v}");
        (reply.status, v)
    };
    let cases: Vec<(Vec<u8>, u16, &str, Option<&str>)> = vec![
        (b"{\"kind\": \"organization\", ".to_vec(), 400, "malformed_json", None),
        (br#"{"kind":"organization","name":"A","credit_code":"91440300708461136T","workspace":"acme","colour":"red"}"#.to_vec(), 422, "invalid_request", None),
        (br#"{"kind":"organization","name":42,"credit_code":"91440300708461136T","workspace":"acme"}"#.to_vec(), 422, "invalid_request", None),
        (br#"{"kind":"robot","name":"A","workspace":"acme"}"#.to_vec(), 422, "invalid_request", None),
        (br#"{"kind":"organization","name":"A","credit_code":"91440300708461136X","workspace":"acme"}"#.to_vec(), 422, "invalid_field", Some("credit_code")),
        (br#"{"kind":"organization","name":"   ","credit_code":"91440300708461136T","workspace":"acme"}"#.to_vec(), 422, "invalid_field", Some("name")),
        (br#"{"kind":"person","name":"A","id_type":"resident_id","id_number":"110105194912310021","workspace":"acme"}"#.to_vec(), 422, "invalid_field", Some("id_number")),
        (br#"{"kind":"organization","name":"A","credit_code":"91440300708461136T"}"#.to_vec(), 422, "invalid_field", Some("workspace")),
        (format!(r#"{{"kind":"organization","name":"{}","credit_code":"91440300708461136T","workspace":"acme"}}"#, "x".repeat(4096)).into_bytes(), 413, "body_too_large", None),
    ];
    for (body, status, code, field) in cases {
        let (got, v) = send(&body);
        assert_eq!(
            (got, v["code"].as_str().unwrap()),
            (status, code),
            "{}: {v}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        );
        if let Some(field) = field {
            assert_eq!(v["field"], field, "{v}");
        }
    }
    // The check character error names the expected character.
    let (_, v) = send(br#"{"kind":"organization","name":"A","credit_code":"91440300708461136X","workspace":"acme"}"#);
    assert!(v["detail"].as_str().unwrap().contains("'T'"), "{v}");
    // Unknown routes, unknown entities, bad serials, bad reasons, bad queries.
    let revoke_body = |reason: &str| Some(json!({ "reason": reason }));
    let cases = [
        (
            "GET",
            "/v1/entities/ent_00000000000000000000000000000000",
            None,
            404,
            "entity_not_found",
        ),
        ("GET", "/v1/entities/garbage", None, 404, "entity_not_found"),
        (
            "POST",
            "/v1/certificates/zz/revoke",
            revoke_body("keyCompromise"),
            404,
            "certificate_not_found",
        ),
        (
            "POST",
            "/v1/certificates/01/revoke",
            revoke_body("certificateHold"),
            422,
            "invalid_request",
        ),
        (
            "GET",
            "/v1/entities?workspace=acme&limit=0",
            None,
            422,
            "invalid_field",
        ),
        (
            "GET",
            "/v1/entities?workspace=acme&colour=red",
            None,
            400,
            "invalid_query",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (got, v) = server.call(&admin, method, path, body);
        assert_eq!(
            (got, v["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {v}"
        );
    }
    let r = reqwest::blocking::get(format!("{}/nope", server.url)).unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = reqwest::blocking::get(format!("{}/v1/ca/%FF", server.url)).unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = reqwest::blocking::Client::new()
        .delete(format!("{}/v1/ca/root.pem", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Protocol endpoints refuse garbage with protocol-level errors, not 5xx.
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/tsa", server.url))
        .header("Content-Type", "application/timestamp-query")
        .body(vec![0x30, 0x03, 0x02, 0x01])
        .send()
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        200,
        "a TimeStampResp with status rejection"
    );
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/ocsp", server.url))
        .header("Content-Type", "application/ocsp-request")
        .body(vec![0xff; 100])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "an OCSPResponse malformedRequest");
    assert_eq!(r.bytes().unwrap().as_ref(), [0x30, 0x03, 0x0a, 0x01, 0x01]);
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/tsa", server.url))
        .header("Content-Type", "application/timestamp-query")
        .body(vec![0u8; 20_000])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().unwrap();
    assert_eq!(v["code"], "body_too_large");
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

/// Entities list in pages, renew supersedes, and operations endpoints answer.
#[test]
fn listing_renewal_and_operations_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    let acme = server.workspace_key("acme");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, e) = server.call(&acme, "POST", "/v1/entities", Some(person(None)));
        assert_eq!(status, 201, "{e}");
        ids.push(e["id"].as_str().unwrap().to_owned());
    }
    let (status, page1) = server.call(&acme, "GET", "/v1/entities?limit=2", None);
    assert_eq!(status, 200, "{page1}");
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = server.call(
        &acme,
        "GET",
        &format!("/v1/entities?limit=2&cursor={cursor}"),
        None,
    );
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2.get("next_cursor").is_none());
    let listed: Vec<_> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["items"].as_array().unwrap())
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ids);
    let globex = server.workspace_key("globex");
    let (_, empty) = server.call(&globex, "GET", "/v1/entities", None);
    assert_eq!(empty["items"].as_array().unwrap().len(), 0);

    let (_, before) = server.call(&acme, "GET", &format!("/v1/entities/{}", ids[0]), None);
    let (status, renewed) = server.call(
        &acme,
        "POST",
        &format!("/v1/entities/{}/renew", ids[0]),
        None,
    );
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(
        renewed["certificate"]["serial"],
        before["certificate"]["serial"]
    );
    let old_serial = before["certificate"]["serial"].as_str().unwrap();
    // Renewal revoked the old certificate as superseded; a later key compromise is still
    // signalled (the reason changes, the date stays), and only once.
    let revoke = |key, serial: &str, reason: &str| {
        server.call(
            key,
            "POST",
            &format!("/v1/certificates/{serial}/revoke"),
            Some(json!({ "reason": reason })),
        )
    };
    let (status, v) = revoke(&acme, old_serial, "affiliationChanged");
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("already_revoked")),
        "{v}"
    );
    let (status, v) = revoke(&acme, old_serial, "keyCompromise");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["revocation_reason"], "keyCompromise");
    let (status, v) = revoke(&acme, old_serial, "keyCompromise");
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("already_revoked")),
        "{v}"
    );

    // Another workspace can neither read, renew, revoke nor list acme's entities, and is not
    // told the owning workspace's name.
    let current = renewed["certificate"]["serial"].as_str().unwrap();
    for (method, path, body) in [
        ("GET", format!("/v1/entities/{}", ids[0]), None),
        ("POST", format!("/v1/entities/{}/renew", ids[0]), None),
        (
            "POST",
            format!("/v1/certificates/{current}/revoke"),
            Some(json!({"reason": "keyCompromise"})),
        ),
        ("GET", "/v1/entities?workspace=acme".to_owned(), None),
    ] {
        let (status, v) = server.call(&globex, method, &path, body);
        assert_eq!(
            (status, v["code"].as_str()),
            (403, Some("workspace_forbidden")),
            "{method} {path}: {v}"
        );
        assert!(!v["detail"].as_str().unwrap().contains("acme"), "{v}");
    }
    let (_, still) = server.call(&acme, "GET", &format!("/v1/entities/{}", ids[0]), None);
    assert_eq!(still["certificate"]["status"], "good");

    // The appliance's own OCSP and TSA certificates are not revocable through the API.
    let admin = server.admin_key();
    for name in ["ocsp", "tsa"] {
        let (_, der) = server.get_bytes(&format!("/v1/ca/{name}.crt"));
        let cert = openssl::x509::X509::from_der(&der).unwrap();
        let serial = hex::encode(cert.serial_number().to_bn().unwrap().to_vec());
        let (status, v) = revoke(&admin, &serial, "keyCompromise");
        assert_eq!(
            (status, v["code"].as_str()),
            (409, Some("service_certificate")),
            "{v}"
        );
    }

    let (status, openapi) = server.get_bytes("/openapi.json");
    assert_eq!(status, 200);
    let openapi: Value = serde_json::from_slice(&openapi).unwrap();
    for path in [
        "/v1/entities",
        "/v1/entities/{id}",
        "/v1/certificates/{serial}/revoke",
        "/v1/api-keys",
        "/ocsp",
        "/tsa",
        "/crl/{file}",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} missing from openapi.json"
        );
    }
    let (status, metrics) = server.get_bytes("/metrics");
    assert_eq!(status, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(
            "sigillum_http_requests_total{method=\"POST\",route=\"/v1/entities\",status=\"201\"} 3"
        ),
        "{metrics}"
    );
    assert_eq!(server.get_bytes("/readyz").0, 200);
}

/// Acceptance 2 with keys in SoftHSM2: every CA, OCSP, TSA and entity key is a token object.
#[test]
fn pkcs11_backend_certificates_pass_openssl_verify_and_pkilint() {
    require_tool("softhsm2-util", "apt-get install softhsm2");
    let dir = tempfile::tempdir().unwrap();
    let hsm = dir.path().join("hsm");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hsm/init-token.sh");
    let out = run(Command::new("bash").arg(script).arg(&hsm).arg("sigillum"));
    assert!(out.status.success(), "{}", text(&out));
    let config = write(
        dir.path(),
        "sigillum.toml",
        format!(
            "[keys]\nbackend = \"pkcs11\"\n[keys.pkcs11]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\ntoken_label = \"sigillum\"\npin_file = \"{}\"\n",
            hsm.join("user.pin").display()
        ),
    );
    let conf = hsm.join("softhsm2.conf");
    let server = Server::start(
        dir.path(),
        &["--config", config.to_str().unwrap()],
        &[("SOFTHSM2_CONF", conf.to_str().unwrap())],
    );
    certificates_pass_openssl_and_pkilint(&server, "pkcs11");
    // Renewal re-keys in the token and destroys the superseded key there.
    let admin = server.admin_key();
    let (status, entity) = server.call(&admin, "POST", "/v1/entities", Some(person(Some("acme"))));
    assert_eq!(status, 201, "{entity}");
    let id = entity["id"].as_str().unwrap();
    let (status, renewed) = server.call(&admin, "POST", &format!("/v1/entities/{id}/renew"), None);
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["key_backend"], "pkcs11");
    assert!(
        !server.log_text().contains("could not destroy"),
        "{}",
        server.log_text()
    );
    // The keys live in the token, and the PIN never reaches the log.
    let out = run(Command::new("softhsm2-util")
        .arg("--show-slots")
        .env("SOFTHSM2_CONF", &conf));
    assert!(text(&out).contains("sigillum"), "{}", text(&out));
    assert!(
        !server
            .log_text()
            .contains(&std::fs::read_to_string(hsm.join("user.pin")).unwrap())
    );
}

/// Concurrent renewals and revocations: no lost update, one valid certificate per entity.
#[test]
fn concurrent_renewals_and_revocations_do_not_lose_updates() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    let acme = server.workspace_key("acme");
    let (_, entity) = server.call(&acme, "POST", "/v1/entities", Some(person(None)));
    let id = entity["id"].as_str().unwrap().to_owned();
    let first = entity["certificate"]["serial"].as_str().unwrap().to_owned();

    let renewals: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let key = server.workspace_key("acme");
                let path = format!("/v1/entities/{id}/renew");
                let server = &server;
                scope.spawn(move || server.call(&key, "POST", &path, None))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut issued = vec![first];
    for (status, v) in &renewals {
        match status {
            200 => issued.push(v["certificate"]["serial"].as_str().unwrap().to_owned()),
            409 => assert_eq!(v["code"], "conflict", "{v}"),
            _ => panic!("unexpected {status}: {v}"),
        }
    }
    assert!(
        issued.len() >= 2,
        "at least one renewal succeeds: {renewals:?}"
    );
    let (_, now) = server.call(&acme, "GET", &format!("/v1/entities/{id}"), None);
    let current = now["certificate"]["serial"].as_str().unwrap().to_owned();
    let (_, crl) = server.get_bytes("/crl/issuing.crl");
    let crl = openssl::x509::X509Crl::from_der(&crl).unwrap();
    let revoked: Vec<String> = crl
        .get_revoked()
        .map(|r| {
            r.iter()
                .map(|e| hex::encode(e.serial_number().to_bn().unwrap().to_vec()))
                .collect()
        })
        .unwrap_or_default();
    for serial in &issued {
        assert_eq!(
            revoked.contains(serial),
            *serial != current,
            "exactly the non-current certificates are revoked: {serial} (current {current}, revoked {revoked:?})"
        );
    }

    let outcomes: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let key = server.workspace_key("acme");
                let path = format!("/v1/certificates/{current}/revoke");
                let server = &server;
                scope.spawn(move || {
                    server
                        .call(
                            &key,
                            "POST",
                            &path,
                            Some(json!({"reason": "cessationOfOperation"})),
                        )
                        .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        outcomes.iter().filter(|s| **s == 200).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|s| **s == 409).count(),
        3,
        "{outcomes:?}"
    );
}
