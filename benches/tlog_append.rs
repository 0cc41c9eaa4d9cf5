//! The transparency log under load: group-commit appends from many concurrent writers at tree
//! sizes 10⁴, 10⁶ and 10⁷ (throughput, p50/p99 latency), inclusion and consistency proof
//! generation (criterion), and bytes stored per entry.
//!
//! `cargo bench --bench tlog_append` runs the full sizes (the 10⁷ prefill takes minutes and
//! several GB under `$SIGILLUM_BENCH_DIR`, default a temporary directory). Under `cargo test`
//! (the README's test command) it runs once at 10⁴ only. Override the sizes with
//! `SIGILLUM_BENCH_TLOG_SIZES=10000,1000000`, the writers with `SIGILLUM_BENCH_TLOG_WRITERS`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use sigillum::keys::KeyCustody;
use sigillum::keys::soft::{MasterKey, SoftKeyStore};
use sigillum::store::{Batch, Store};
use sigillum::tlog::{Event, EventKind, Log, LogOptions};

/// A realistic `document_signed` event (≈ 450 bytes).
fn event(k: u64) -> Event {
    let mut e = Event::new(
        EventKind::document_signed(),
        time::OffsetDateTime::now_utc(),
    );
    e.workspace = Some("bench-workspace".into());
    e.entity = Some("ent_0123456789abcdef01234567".into());
    e.certificate_serial = Some("7f1c2e3d4c5b6a79887766554433221100ffeedd".into());
    let h = |tag: u8| -> [u8; 32] {
        let mut d = Sha256::new();
        d.update([tag]);
        d.update(k.to_be_bytes());
        d.finalize().into()
    };
    e.document_sha256_before = Some(h(1));
    e.document_sha256_after = Some(h(2));
    e.signature_sha256 = Some(h(3));
    e.auth_evidence_sha256 = Some(h(4));
    e
}

fn dir_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn prefill(log: &Log, to: u64) {
    let start = Instant::now();
    let from = log.size();
    let mut next = from;
    while next < to {
        let n = (to - next).min(8192);
        log.append((next..next + n).map(event).collect(), Batch::default())
            .unwrap();
        next += n;
    }
    if to > from {
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "tlog prefill {from} -> {to}: {:.1} s ({:.0} entries/s in batches of 8192)",
            secs,
            (to - from) as f64 / secs
        );
    }
}

/// Many writers, one event per append, each waiting for durability.
fn concurrent_appends(log: &Arc<Log>, writers: usize, duration: Duration) {
    let size_before = log.size();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (log, latencies) = (log.clone(), latencies.clone());
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut k = (w as u64) << 40;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    log.append(vec![event(k)], Batch::default()).unwrap();
                    mine.push(t.elapsed());
                    k += 1;
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().unwrap().clone();
    l.sort();
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)].as_secs_f64() * 1e3;
    eprintln!(
        "tlog appends at size {size_before}: {writers} writers, {} appends in {elapsed:.1} s = {:.0} appends/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        l.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}

fn bench_tlog(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<u64> = match std::env::var("SIGILLUM_BENCH_TLOG_SIZES") {
        Ok(s) => s.split(',').map(|x| x.trim().parse().unwrap()).collect(),
        Err(_) if full => vec![10_000, 1_000_000, 10_000_000],
        Err(_) => vec![10_000],
    };
    let writers: usize = std::env::var("SIGILLUM_BENCH_TLOG_WRITERS")
        .ok()
        .map(|w| w.parse().unwrap())
        .unwrap_or(256);
    let duration = Duration::from_secs(if full { 10 } else { 1 });
    let base = std::env::var_os("SIGILLUM_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = match &base {
        Some(b) => tempfile::tempdir_in(b).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let db = dir.path().join("db");
    let store = Arc::new(Store::open(&db).unwrap());
    let master = Arc::new(MasterKey::from_bytes([7; 32]));
    let custody = KeyCustody::soft_only(Arc::new(SoftKeyStore::new(master)));
    let log = Arc::new(
        Log::open(
            store.clone(),
            &custody,
            "bench.example/log",
            true,
            LogOptions::default(),
        )
        .unwrap(),
    );
    let mut group = c.benchmark_group("tlog");
    for &size in &sizes {
        prefill(&log, size);
        store.flush().unwrap();
        eprintln!(
            "tlog storage at size {}: {:.0} bytes per entry (RocksDB directory, after flush)",
            log.size(),
            dir_bytes(&db) as f64 / log.size() as f64
        );
        concurrent_appends(&log, writers, duration);
        let n = log.size();
        let mut k = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            k ^= k << 13;
            k ^= k >> 7;
            k ^= k << 17;
            k
        };
        group.bench_function(BenchmarkId::new("inclusion_proof", size), |b| {
            b.iter(|| log.inclusion_proof(rand() % n, n).unwrap())
        });
        group.bench_function(BenchmarkId::new("consistency_proof", size), |b| {
            b.iter(|| log.consistency_proof(1 + rand() % (n - 1), n).unwrap())
        });
        group.bench_function(BenchmarkId::new("receipt", size), |b| {
            b.iter(|| log.receipt(rand() % n).unwrap().unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = bench_tlog
}
criterion_main!(benches);
