//! Shared test harness: runs the real `sigillum` binary on loopback with a temporary data
//! directory, signs requests, and calls the independent tools (openssl, pkilint, python3).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sigillum::client::{self, KeyFile};

/// Fails the test (never skips) when an external tool is missing.
pub fn require_tool(tool: &str, install_hint: &str) -> PathBuf {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .expect("sh runs");
    if !out.status.success() {
        panic!("required tool `{tool}` is missing: {install_hint} (scripts/test.sh installs it)");
    }
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running appliance; killed on drop.
pub struct Server {
    pub child: Option<Child>,
    pub dir: PathBuf,
    pub data_dir: PathBuf,
    pub url: String,
    pub log: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    cwd: PathBuf,
}

impl Server {
    /// Starts on a free port with `--data-dir <dir>/data`, plus `extra` args.
    pub fn start(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Self {
        let port = free_port();
        let data_dir = dir.join("data");
        let mut args = vec![
            "serve".to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::launch(
            dir,
            dir.to_path_buf(),
            args,
            data_dir,
            format!("http://127.0.0.1:{port}"),
            envs.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// Starts `sigillum serve` with no arguments at all, in `cwd`.
    pub fn start_zero_config(cwd: &Path) -> Self {
        Self::launch(
            cwd,
            cwd.to_path_buf(),
            vec!["serve".into()],
            cwd.join("data"),
            "http://127.0.0.1:8470".into(),
            Vec::new(),
        )
    }

    fn launch(
        dir: &Path,
        cwd: PathBuf,
        args: Vec<String>,
        data_dir: PathBuf,
        url: String,
        envs: Vec<(String, String)>,
    ) -> Self {
        let mut server = Self {
            child: None,
            dir: dir.to_path_buf(),
            data_dir,
            url,
            log: dir.join("server.log"),
            args,
            envs,
            cwd,
        };
        server.spawn();
        server
    }

    /// SIGKILL, as a crash would: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again (same arguments, port and data) after `stop` or `kill`.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigillum"));
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .env("SIGILLUM_LOG", "info")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("spawn sigillum"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::blocking::get(format!("{}/healthz", self.url))
                && r.status().is_success()
            {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("sigillum exited with {status}; log:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "sigillum did not become healthy; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn admin_key(&self) -> KeyFile {
        KeyFile::load(&self.data_dir.join("admin-api-key.json")).unwrap()
    }

    pub fn admin_key_path(&self) -> PathBuf {
        self.data_dir.join("admin-api-key.json")
    }

    /// A signed request with `key`; returns (status, JSON body or Null).
    pub fn call(
        &self,
        key: &KeyFile,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let reply = client::call(&self.url, key, method, path, body).unwrap();
        let json = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        (reply.status, json)
    }

    pub fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = reqwest::blocking::get(format!("{}{path}", self.url)).unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    }

    /// Creates a workspace key with the admin key.
    pub fn workspace_key(&self, workspace: &str) -> KeyFile {
        let (status, body) = self.call(
            &self.admin_key(),
            "POST",
            "/v1/api-keys",
            Some(serde_json::json!({ "workspace": workspace })),
        );
        assert_eq!(status, 201, "{body}");
        serde_json::from_value(body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn organization(workspace: Option<&str>) -> Value {
    let mut v = serde_json::json!({
        "kind": "organization",
        "name": "深圳市腾讯计算机系统有限公司",
        "credit_code": "91440300708461136T",
        "email": "legal@example.cn"
    });
    if let Some(ws) = workspace {
        v["workspace"] = ws.into();
    }
    v
}

pub fn person(workspace: Option<&str>) -> Value {
    let mut v = serde_json::json!({
        "kind": "person",
        "name": "李雷",
        "id_type": "resident_id",
        "id_number": "11010519491231002X",
        "email": "li.lei@example.cn",
        "mobile": "+8613800138000"
    });
    if let Some(ws) = workspace {
        v["workspace"] = ws.into();
    }
    v
}

/// Runs pkilint's RFC 5280 linter on a PEM file and fails on any ERROR or FATAL finding.
pub fn pkilint_cert(pem_path: &Path) -> String {
    require_tool(
        "lint_pkix_cert",
        "pip install pkilint (into the venv that scripts/setup.sh test creates)",
    );
    let out = run(Command::new("lint_pkix_cert")
        .args(["lint", "-s", "ERROR", "--document-format", "PEM"])
        .arg(pem_path));
    let report = text(&out);
    assert!(
        out.status.success() && report.trim().is_empty(),
        "pkilint reports errors for {}:\n{report}",
        pem_path.display()
    );
    report
}

/// Runs one of pkilint's linters (`lint_crl`, `lint_ocsp_response`, ...) on a DER file with
/// `extra` arguments, failing on any ERROR or FATAL finding.
pub fn pkilint_der(linter: &str, extra: &[&str], der_path: &Path) {
    require_tool(
        linter,
        "pip install pkilint (into the venv that scripts/setup.sh test creates)",
    );
    let out = run(Command::new(linter)
        .arg("lint")
        .args(extra)
        .args(["-s", "ERROR", "--document-format", "DER"])
        .arg(der_path));
    let report = text(&out);
    assert!(
        out.status.success() && report.trim().is_empty(),
        "{linter} reports errors for {}:\n{report}",
        der_path.display()
    );
}

/// A DER OCSP request for `leaf_der` issued by `issuer_der`, made by the openssl CLI.
pub fn openssl_ocsp_request(dir: &Path, issuer_der: &[u8], leaf_der: &[u8]) -> Vec<u8> {
    require_tool("openssl", "apt-get install openssl");
    let pem = |der: &[u8]| {
        openssl::x509::X509::from_der(der)
            .unwrap()
            .to_pem()
            .unwrap()
    };
    std::fs::write(dir.join("ocsp-issuer.pem"), pem(issuer_der)).unwrap();
    std::fs::write(dir.join("ocsp-leaf.pem"), pem(leaf_der)).unwrap();
    let request = dir.join("ocsp-req.der");
    let out = run(Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(dir.join("ocsp-issuer.pem"))
        .arg("-cert")
        .arg(dir.join("ocsp-leaf.pem"))
        .arg("-reqout")
        .arg(&request));
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read(request).unwrap()
}

/// A PDF with a classic cross-reference table from object bodies (object i+1 is `objects[i]`),
/// written here byte by byte: test input, not the appliance's writer.
pub fn pdf_from_objects(objects: &[String]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}
