//! The verification service around [`crate::pades::verify`]: isolation of untrusted parsing in
//! a worker process with resource limits, per-IP rate limiting, the transparency-log lookup,
//! and renderings of the report (text for the CLI, HTML for `GET /verify`).
//!
//! Isolation: each upload is verified by a fresh `sigillum verify-worker` process that first
//! lowers its own limits (address space, CPU seconds, no core files, no file writes), then reads
//! the trust material and the PDF from stdin and writes the JSON report to stdout. The server
//! kills it when the wall-clock budget runs out. A stack overflow, an allocation failure or a
//! CPU limit kills only the worker, and the client gets a 422 with the budget it exceeded.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::{Isolation, VerifyConfig};
use crate::pades::verify::{self, LogInfo, LogStatus, Report, TrustSettings, VerifyError};
use crate::pdf::Limits;
use crate::service::Appliance;

/// Trust material sent to a worker (DER, base64 in JSON).
#[derive(Serialize, Deserialize)]
struct WireTrust {
    anchors: Vec<String>,
    crls: Vec<String>,
    /// Validation time, unix seconds.
    at: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WorkerReply {
    Report(Box<Report>),
    Unusable { code: String, detail: String },
}

/// What a worker writes to stdout.
#[derive(Serialize, Deserialize)]
struct WorkerOutput {
    reply: WorkerReply,
    /// The worker's peak resident set (VmHWM), KiB: what the upload cost in memory.
    peak_rss_kb: Option<u64>,
}

/// The worker's stdin for `pdf` (for tools and tests that run `sigillum verify-worker`).
pub fn worker_input(trust: &TrustSettings, at: i64, pdf: &[u8]) -> Vec<u8> {
    let wire = WireTrust {
        anchors: trust.anchors.iter().map(|a| b64(a)).collect(),
        crls: trust.crls.iter().map(|c| b64(c)).collect(),
        at,
    };
    let wire = serde_json::to_vec(&wire).unwrap_or_default();
    let mut out = Vec::with_capacity(8 + wire.len() + pdf.len());
    out.extend_from_slice(&(wire.len() as u64).to_be_bytes());
    out.extend_from_slice(&wire);
    out.extend_from_slice(pdf);
    out
}

/// A worker's verdict: the report, or the unusable-input error as (code, detail).
pub type WorkerResult = Result<Report, (String, String)>;

/// Parses a worker's stdout: the report or the unusable-input error, and its peak memory.
pub fn parse_worker_output(out: &[u8]) -> Result<(WorkerResult, Option<u64>), String> {
    let o: WorkerOutput = serde_json::from_slice(out).map_err(|e| e.to_string())?;
    let r = match o.reply {
        WorkerReply::Report(r) => Ok(*r),
        WorkerReply::Unusable { code, detail } => Err((code, detail)),
    };
    Ok((r, o.peak_rss_kb))
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Why an upload got no report.
#[derive(Debug)]
pub enum Failure {
    /// The file is not usable (`code`: `not_a_pdf`, `encrypted_pdf`, `malformed_pdf`,
    /// `document_too_complex`).
    Unusable { code: String, detail: String },
    /// The worker ran out of time or memory.
    Budget(String),
    /// Something on our side (worker would not start, unreadable reply).
    Internal(String),
}

fn b64(d: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// Worker exit status when its address-space limit stopped it from reading the upload.
const EXIT_OUT_OF_MEMORY: u8 = 71;

/// Entry point of `sigillum verify-worker`: limits itself, then verifies stdin.
pub fn worker_main(memory_mb: u64, cpu_seconds: u64) -> ExitCode {
    use rlimit::Resource;
    let bytes = memory_mb.saturating_mul(1 << 20);
    let limits = [
        (Resource::AS, bytes),
        (Resource::CPU, cpu_seconds),
        (Resource::CORE, 0),
        (Resource::FSIZE, 0),
    ];
    for (resource, value) in limits {
        if let Err(e) = resource.set(value, value) {
            eprintln!("verify-worker: cannot set {resource:?}: {e}");
            return ExitCode::from(70);
        }
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut input) {
        eprintln!("verify-worker: stdin: {e}");
        return ExitCode::from(if e.kind() == std::io::ErrorKind::OutOfMemory {
            EXIT_OUT_OF_MEMORY
        } else {
            70
        });
    }
    let reply = worker_reply(&input);
    drop(input);
    let out = match serde_json::to_vec(&WorkerOutput {
        reply,
        peak_rss_kb: peak_rss_kb(),
    }) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("verify-worker: {e}");
            return ExitCode::from(70);
        }
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(70);
    }
    ExitCode::SUCCESS
}

/// Input framing: 8-byte big-endian length of the trust JSON, the JSON, then the PDF.
fn worker_reply(input: &[u8]) -> WorkerReply {
    let bad = |detail: &str| WorkerReply::Unusable {
        code: "internal".into(),
        detail: detail.into(),
    };
    let Some((len, rest)) = input.split_first_chunk::<8>() else {
        return bad("short worker input");
    };
    let len = usize::try_from(u64::from_be_bytes(*len)).unwrap_or(usize::MAX);
    let Some((trust, pdf)) = rest.split_at_checked(len) else {
        return bad("short worker input");
    };
    let Ok(wire) = serde_json::from_slice::<WireTrust>(trust) else {
        return bad("unreadable trust material");
    };
    let settings = TrustSettings {
        anchors: wire.anchors.iter().filter_map(|a| unb64(a)).collect(),
        crls: wire.crls.iter().filter_map(|c| unb64(c)).collect(),
    };
    let at = time::OffsetDateTime::from_unix_timestamp(wire.at)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    match verify::verify(pdf, &settings, at, Limits::default()) {
        Ok(report) => WorkerReply::Report(Box::new(report)),
        Err(e) => WorkerReply::Unusable {
            code: e.code().into(),
            detail: e.to_string(),
        },
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Verification as the server runs it.
pub struct Verifier {
    config: VerifyConfig,
    extra_anchors: Vec<Vec<u8>>,
    slots: tokio::sync::Semaphore,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl Verifier {
    /// `config.trust_anchors` was checked when the configuration was validated; a bundle that
    /// became unreadable since is logged and left out.
    pub fn new(config: VerifyConfig) -> Self {
        let mut extra = TrustSettings::default();
        if let Some(path) = &config.trust_anchors
            && let Err(e) = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|pem| extra.add_pem_bundle(&pem))
        {
            tracing::error!(path = %path.display(), error = %e, "verify.trust_anchors unreadable");
        }
        Self {
            slots: tokio::sync::Semaphore::new(config.max_concurrent),
            config,
            extra_anchors: extra.anchors,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }

    /// Takes one token from `ip`'s bucket; `Err(seconds)` until the next token when empty.
    pub fn admit(&self, ip: IpAddr) -> Result<(), u64> {
        let per_minute = f64::from(self.config.rate_limit_per_minute);
        let rate = per_minute / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() * rate < per_minute);
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: per_minute,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(per_minute);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil() as u64)
        }
    }

    /// Verifies `pdf` within the configured budgets and adds what the log knows.
    pub async fn verify(
        &self,
        app: Arc<Appliance>,
        pdf: axum::body::Bytes,
    ) -> Result<Report, Failure> {
        let budget = Duration::from_secs(self.config.timeout_seconds);
        let started = Instant::now();
        let _slot = tokio::time::timeout(budget, self.slots.acquire())
            .await
            .map_err(|_| {
                Failure::Budget("the verifier stayed busy for the whole time budget".into())
            })?
            .map_err(|_| Failure::Internal("verifier closed".into()))?;
        let remaining = budget.saturating_sub(started.elapsed());
        let app2 = app.clone();
        let (trust, at) = tokio::task::spawn_blocking(move || {
            (
                Verifier::trust_of(&app2),
                app2.clock().now().unix_timestamp(),
            )
        })
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
        let mut trust = trust;
        trust.anchors.extend(self.extra_anchors.iter().cloned());
        let mut report = match self.config.isolation {
            Isolation::InProcess => {
                let task = tokio::task::spawn_blocking(move || {
                    let at = time::OffsetDateTime::from_unix_timestamp(at)
                        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
                    verify::verify(&pdf, &trust, at, Limits::default())
                });
                match tokio::time::timeout(remaining, task).await {
                    Err(_) => {
                        return Err(Failure::Budget(format!(
                            "verification took longer than {} s",
                            self.config.timeout_seconds
                        )));
                    }
                    Ok(Err(e)) => return Err(Failure::Internal(e.to_string())),
                    Ok(Ok(Err(e))) => return Err(unusable(&e)),
                    Ok(Ok(Ok(r))) => r,
                }
            }
            Isolation::Process => self.run_worker(&trust, at, pdf, remaining).await?,
        };
        let app3 = app.clone();
        report = tokio::task::spawn_blocking(move || {
            annotate(&app3, &mut report);
            report
        })
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
        Ok(report)
    }

    /// This appliance's root and the current CRLs of its own CA (so our certificates' status is
    /// known even without embedded revocation data).
    fn trust_of(app: &Appliance) -> TrustSettings {
        let mut anchors = Vec::new();
        if let Some(root) = app.ca_certificate_der("root") {
            anchors.push(root);
        }
        let mut crls = Vec::new();
        for issuer in [
            crate::store::keys::IssuerTag::Root,
            crate::store::keys::IssuerTag::Issuing,
        ] {
            match app.crl(issuer) {
                Ok(crl) => crls.push(crl.der),
                Err(e) => tracing::warn!(error = %e, "no current CRL for verification"),
            }
        }
        TrustSettings { anchors, crls }
    }

    async fn run_worker(
        &self,
        trust: &TrustSettings,
        at: i64,
        pdf: axum::body::Bytes,
        budget: Duration,
    ) -> Result<Report, Failure> {
        let exe = std::env::current_exe()
            .map_err(|e| Failure::Internal(format!("own executable: {e}")))?;
        let wire = WireTrust {
            anchors: trust.anchors.iter().map(|a| b64(a)).collect(),
            crls: trust.crls.iter().map(|c| b64(c)).collect(),
            at,
        };
        let wire = serde_json::to_vec(&wire).map_err(|e| Failure::Internal(e.to_string()))?;
        // The PDF is written after the trust framing without copying it into one buffer.
        let cpu = self.config.timeout_seconds + 1;
        let mut child = tokio::process::Command::new(exe)
            .arg("verify-worker")
            .arg("--memory-mb")
            .arg(self.config.worker_memory_mb.to_string())
            .arg("--cpu-seconds")
            .arg(cpu.to_string())
            .env_clear()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Failure::Internal(format!("cannot start the verification worker: {e}")))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| Failure::Internal("worker stdin".into()))?;
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| Failure::Internal("worker stdout".into()))?;
        let mut stderr = child
            .stderr
            .take()
            .ok_or_else(|| Failure::Internal("worker stderr".into()))?;
        let feed = async move {
            // A worker that dies early closes the pipe; its exit status tells why.
            let _ = stdin.write_all(&(wire.len() as u64).to_be_bytes()).await;
            let _ = stdin.write_all(&wire).await;
            let _ = stdin.write_all(&pdf).await;
            drop(stdin);
        };
        let collect = async move {
            let mut out = Vec::new();
            let _ = (&mut stdout).take(256 << 20).read_to_end(&mut out).await;
            out
        };
        let errors = async move {
            let mut err = Vec::new();
            let _ = (&mut stderr).take(64 << 10).read_to_end(&mut err).await;
            err
        };
        let run = async {
            let ((), out, err) = tokio::join!(feed, collect, errors);
            let status = child.wait().await;
            (out, err, status)
        };
        let (out, err, status) = match tokio::time::timeout(budget, run).await {
            Ok(r) => r,
            Err(_) => {
                return Err(Failure::Budget(format!(
                    "verification took longer than the {} s budget",
                    self.config.timeout_seconds
                )));
            }
        };
        let status = status.map_err(|e| Failure::Internal(e.to_string()))?;
        if !status.success() {
            use std::os::unix::process::ExitStatusExt;
            let stderr = String::from_utf8_lossy(&err);
            tracing::warn!(status = %status, stderr = %stderr.trim(), "verification worker failed");
            return Err(match status.signal() {
                Some(_) => Failure::Budget(format!(
                    "verification exceeded its memory ({} MiB) or CPU budget",
                    self.config.worker_memory_mb
                )),
                None if status.code() == Some(i32::from(EXIT_OUT_OF_MEMORY))
                    || stderr.contains("memory allocation") =>
                {
                    Failure::Budget(format!(
                        "verification exceeded its memory budget ({} MiB)",
                        self.config.worker_memory_mb
                    ))
                }
                None => Failure::Internal(format!("worker exited with {status}")),
            });
        }
        match parse_worker_output(&out) {
            Ok((result, peak)) => {
                tracing::debug!(peak_rss_kb = peak, "verification worker finished");
                match result {
                    Ok(r) => Ok(r),
                    Err((code, detail)) if code == "internal" => Err(Failure::Internal(detail)),
                    Err((code, detail)) => Err(Failure::Unusable { code, detail }),
                }
            }
            Err(e) => Err(Failure::Internal(format!("worker reply: {e}"))),
        }
    }
}

fn unusable(e: &VerifyError) -> Failure {
    Failure::Unusable {
        code: e.code().into(),
        detail: e.to_string(),
    }
}

/// Adds the transparency-log record of each signature (leaf index, receipt with inclusion proof
/// and checkpoint) and, for signatures this appliance made, the entity id from the log event.
pub fn annotate(app: &Appliance, report: &mut Report) {
    for sig in &mut report.signatures {
        let Some(hash) = sig
            .signature_sha256
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
        else {
            continue;
        };
        let found = match app.log().find_by_signature(&hash, 1) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "log lookup failed");
                continue;
            }
        };
        let Some(&index) = found.first() else {
            sig.log = LogInfo {
                status: LogStatus::NotFound,
                leaf_index: None,
                receipt: None,
            };
            continue;
        };
        let receipt = app.log().receipt(index).ok().flatten();
        if let Some(signer) = sig.signer.as_mut()
            && let Ok(Some(entry)) = app.log().entry(index)
            && let Ok(event) = crate::tlog::event::Event::decode(&entry)
        {
            signer.entity_id = event.entity.map(|e| e.to_string());
        }
        sig.log = LogInfo {
            status: LogStatus::Recorded,
            leaf_index: Some(index),
            receipt: receipt.and_then(|r| serde_json::to_value(r.to_json()).ok()),
        };
    }
}

/// 0 every signature `TOTAL_PASSED`; 1 some signature invalid or modified; 2 indeterminate,
/// untrusted, or no signature at all.
pub fn exit_code(report: &Report) -> u8 {
    use verify::{Indication, Integrity, Verdict};
    if report.verdict == Verdict::NoSignatures {
        return 2;
    }
    if report
        .signatures
        .iter()
        .any(|s| s.integrity != Integrity::Intact || s.indication == Indication::TOTAL_FAILED)
    {
        return 1;
    }
    if report.verdict == Verdict::Passed {
        0
    } else {
        2
    }
}

/// The report as plain text for a terminal.
pub fn render_text(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{}", report.summary);
    let _ = writeln!(
        out,
        "document: sha256 {}, {} bytes, {} revision(s), {} page(s)",
        report.document.sha256,
        report.document.size,
        report.document.revisions,
        report.document.pages
    );
    for s in &report.signatures {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} [{:?}] {:?}{} — integrity {:?}, coverage {:?}, level {}",
            s.field,
            s.kind,
            s.indication,
            s.sub_indication
                .as_deref()
                .map(|x| format!("/{x}"))
                .unwrap_or_default(),
            s.integrity,
            s.coverage,
            s.level.as_deref().unwrap_or("-"),
        );
        if let Some(signer) = &s.signer {
            let _ = writeln!(
                out,
                "  signer: {} (serial {}, issuer {})",
                signer.subject, signer.serial, signer.issuer
            );
        }
        if let Some(t) = &s.timestamped_time {
            let _ = writeln!(out, "  time-stamped: {t}");
        } else if let Some(t) = &s.claimed_signing_time {
            let _ = writeln!(out, "  claimed signing time: {t}");
        }
        let _ = writeln!(
            out,
            "  trusted: {}; revocation: {:?}; log: {:?}",
            s.trust.trusted, s.revocation.status, s.log.status
        );
        for c in &s.checks {
            if c.status != verify::CheckStatus::Passed {
                let _ = writeln!(out, "  {:?} {}: {}", c.status, c.id, c.message);
            }
        }
        for m in s
            .modifications
            .iter()
            .filter(|m| m.level != verify::ChangeLevel::Allowed)
            .take(20)
        {
            let _ = writeln!(
                out,
                "  change (revision {}, {:?}, {}): {}",
                m.revision, m.level, m.category, m.detail
            );
        }
    }
    for c in report
        .checks
        .iter()
        .filter(|c| c.status != verify::CheckStatus::Passed)
    {
        let _ = writeln!(out, "{:?} {}: {}", c.status, c.id, c.message);
    }
    out
}

/// Trust anchors from PEM files (for tools).
pub fn anchors_from_pem(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut t = TrustSettings::default();
    t.add_pem_bundle(&pem)?;
    Ok(t.anchors)
}
