//! End to end through `POST /v1/sign` on loopback: upload, signing (B-B, soft ECDSA P-256),
//! durable log append and response, against the real `sigillum` binary.
//!
//! Prints, per document size, the mean and p50/p99 latency of sequential requests; then the
//! throughput of 16 concurrent clients signing 100 KB documents; then the server's peak RSS
//! (VmHWM). `cargo bench --bench sign_http` runs the full set (100 KB, 1 MB, 32 MB);
//! without `--bench` (as `cargo test --all-targets` runs it) a short smoke run.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use sigillum::client::{self, KeyFile};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sign_once(url: &str, key: &KeyFile, entity: &str, pdf: &[u8]) -> f64 {
    let options = format!(r#"{{"entity_id":"{entity}","level":"B-B"}}"#);
    let (body, content_type) = client::sign_request_body(options.as_bytes(), pdf);
    let started = Instant::now();
    let reply = client::send(url, key, "POST", "/v1/sign", body, Some(&content_type), &[]).unwrap();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.body.len() > pdf.len());
    ms
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_sigillum"))
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _server = Server(child);
    let key_path = dir.path().join("data/admin-api-key.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(key_path.exists()
        && reqwest::blocking::get(format!("{url}/readyz")).is_ok_and(|r| r.status().is_success()))
    {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let key = KeyFile::load(&key_path).unwrap();
    let body = br#"{"kind":"organization","name":"Bench Ltd","workspace":"bench","credit_code":"91440300708461136T"}"#;
    let reply = client::call(&url, &key, "POST", "/v1/entities", body.to_vec()).unwrap();
    assert_eq!(reply.status, 201);
    let entity: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    let entity = entity["id"].as_str().unwrap().to_string();

    let sizes: &[(&str, usize, usize)] = if full {
        &[
            ("100KB", 100 << 10, 100),
            ("1MB", 1 << 20, 50),
            ("32MB", 32 << 20, 8),
        ]
    } else {
        &[("100KB", 100 << 10, 5)]
    };
    for (label, size, runs) in sizes {
        let pdf = common::pdf_of_size(*size);
        sign_once(&url, &key, &entity, &pdf);
        let mut times: Vec<f64> = (0..*runs)
            .map(|_| sign_once(&url, &key, &entity, &pdf))
            .collect();
        times.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!(
            "sign_http sequential size={label} runs={runs} mean_ms={mean:.2} p50_ms={:.2} p99_ms={:.2}",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }

    let clients = 16;
    let duration = Duration::from_secs(if full { 15 } else { 1 });
    let pdf = Arc::new(common::pdf_of_size(100 << 10));
    let key = Arc::new(key);
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (pdf, key, url, entity) = (pdf.clone(), key.clone(), url.clone(), entity.clone());
            std::thread::spawn(move || {
                let mut times = Vec::new();
                while started.elapsed() < duration {
                    times.push(sign_once(&url, &key, &entity, &pdf));
                }
                times
            })
        })
        .collect();
    let mut times: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    println!(
        "sign_http concurrent clients={clients} size=100KB docs={} docs_per_s={:.0} p50_ms={:.2} p99_ms={:.2}",
        times.len(),
        times.len() as f64 / elapsed,
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM")) {
        println!(
            "sign_http server peak RSS {}",
            line.trim_start_matches("VmHWM:").trim()
        );
    }
}
