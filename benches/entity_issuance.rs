//! Entity creation end to end below HTTP: key generation in the key store, issuance by the CA
//! and the synced RocksDB batch — for the soft key store and for SoftHSM2 over PKCS#11.
//!
//! Run: `cargo bench --bench entity_issuance`. The PKCS#11 group creates its own SoftHSM2 token
//! with `hsm/init-token.sh` in a temporary directory (SoftHSM2 must be installed:
//! `apt-get install softhsm2`; without it the bench fails with that hint rather than skipping).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use sigillum::clock::SystemClock;
use sigillum::config::{Config, KeyBackend};
use sigillum::identity::{CreditCode, Name, Workspace};
use sigillum::service::{Appliance, EntityDetails, NewEntity, Principal};

fn request() -> NewEntity {
    NewEntity {
        workspace: Some(Workspace::parse("bench").unwrap()),
        details: EntityDetails::Organization {
            name: Name::parse("Bench Ltd").unwrap(),
            credit_code: CreditCode::parse("91440300708461136T").unwrap(),
            email: None,
        },
    }
}

fn open(dir: &Path, backend: KeyBackend, pin_file: Option<&Path>) -> Arc<Appliance> {
    let mut config = Config {
        data_dir: dir.join("data"),
        ..Config::default()
    };
    config.keys.backend = backend;
    config.keys.pkcs11.pin_file = pin_file.map(Path::to_path_buf);
    config.keys.pkcs11.token_label = "sigillum-bench".into();
    Appliance::open(config, Arc::new(SystemClock)).unwrap()
}

fn bench_entities(c: &mut Criterion) {
    let hsm_dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hsm/init-token.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(hsm_dir.path())
        .arg("sigillum-bench")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "hsm/init-token.sh failed (SoftHSM2 needed: apt-get install softhsm2): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SAFETY: set before the PKCS#11 module is loaded and before any other thread (RocksDB, criterion) exists;
    // nothing else in this process reads or writes the environment concurrently.
    unsafe { std::env::set_var("SOFTHSM2_CONF", hsm_dir.path().join("softhsm2.conf")) };
    let admin = Principal::Admin {
        key_id: sigillum::identity::ApiKeyId::generate(),
    };
    let mut group = c.benchmark_group("entity_create");
    group.sample_size(30);

    let soft_dir = tempfile::tempdir().unwrap();
    let soft = open(soft_dir.path(), KeyBackend::Soft, None);
    group.bench_function("soft_ecdsa_p256", |b| {
        b.iter(|| soft.create_entity(&admin, request()).unwrap())
    });

    let pkcs11 = open(
        &hsm_dir.path().join("appliance"),
        KeyBackend::Pkcs11,
        Some(&hsm_dir.path().join("user.pin")),
    );
    group.bench_function("pkcs11_softhsm2_ecdsa_p256", |b| {
        b.iter(|| pkcs11.create_entity(&admin, request()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_entities);
criterion_main!(benches);
