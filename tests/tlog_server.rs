//! The transparency log over HTTP, checked from the outside with code that is not the log's:
//! tiles and bundles parsed and hashed here, roots and proofs checked with `ct-merkle`,
//! checkpoints with `signed_note`; crash safety under SIGKILL; tamper evidence through
//! `sigillum log audit`; bad input on the read API.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ct_merkle::{ConsistencyProof, RootHash, mem_backed_tree::MemoryBackedTree};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sigillum::keys::KeyCustody;
use sigillum::keys::soft::{MasterKey, SoftKeyStore};
use sigillum::store::{Batch, Cf, Durability, Store};
use sigillum::tlog::{Event, EventKind, Log, LogOptions};
use support::{Server, organization, text};

/// Appends `count` synthetic events to the log in `<dir>/data`, as the appliance would store
/// them, before any server runs there.
fn populate(dir: &Path, count: u64) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = Arc::new(Store::open(&data.join("db")).unwrap());
    let master = Arc::new(MasterKey::load_or_create(&data.join("master.key")).unwrap());
    let custody = KeyCustody::soft_only(Arc::new(SoftKeyStore::new(master)));
    let log = Log::open(
        store,
        &custody,
        "test.example/log",
        true,
        LogOptions::default(),
    )
    .unwrap();
    let mut i = 0;
    while i < count {
        let n = (count - i).min(5_000);
        let events = (i..i + n)
            .map(|k| {
                let mut e = Event::new(
                    EventKind::document_signed(),
                    time::OffsetDateTime::from_unix_timestamp(1_790_000_000 + k as i64).unwrap(),
                );
                e.workspace = Some("bulk".into());
                let mut doc = [0u8; 32];
                doc[..8].copy_from_slice(&k.to_be_bytes());
                e.document_sha256_before = Some(doc);
                doc[31] = 1;
                e.document_sha256_after = Some(doc);
                e.signature_sha256 = Some(Sha256::digest(k.to_be_bytes()).into());
                e
            })
            .collect();
        log.append(events, Batch::default()).unwrap();
        i += n;
    }
}

fn get_json(server: &Server, path: &str) -> (u16, Value) {
    let (status, body) = server.get_bytes(path);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn verifier(server: &Server) -> signed_note::VerifierList {
    let (status, key) = get_json(server, "/v1/log/public-key");
    assert_eq!(status, 200);
    let v = signed_note::StandardVerifier::new(key["verifier_key"].as_str().unwrap()).unwrap();
    signed_note::VerifierList::new(vec![Box::new(v)])
}

/// Verifies a checkpoint note with `signed_note` and parses its body here.
fn open_checkpoint(text: &str, verifiers: &signed_note::VerifierList) -> (u64, [u8; 32]) {
    let note = signed_note::Note::from_bytes(text.as_bytes()).unwrap();
    let (verified, _) = note.verify(verifiers).expect("checkpoint signature");
    assert_eq!(verified.len(), 1);
    let body = std::str::from_utf8(note.text()).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let size = lines[1].parse().unwrap();
    let root = STANDARD.decode(lines[2]).unwrap().try_into().unwrap();
    (size, root)
}

fn checkpoint(server: &Server, verifiers: &signed_note::VerifierList) -> (u64, [u8; 32], String) {
    let r = reqwest::blocking::get(format!("{}/log/checkpoint", server.url)).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let text = r.text().unwrap();
    let (size, root) = open_checkpoint(&text, verifiers);
    (size, root, text)
}

/// `N` in tlog-tiles path form, written independently of the server's encoder.
fn tile_index(n: u64) -> String {
    let digits = format!("{n}");
    let padded = format!("{}{digits}", "0".repeat((3 - digits.len() % 3) % 3));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g}")
            } else {
                (*g).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn fetch(server: &Server, path: &str) -> Vec<u8> {
    let r = reqwest::blocking::get(format!("{}{path}", server.url)).unwrap();
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(
        r.headers()["content-type"],
        "application/octet-stream",
        "{path}"
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"),
        "{path}"
    );
    r.bytes().unwrap().to_vec()
}

fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// Fetches every bundle and level-0/1/2 tile for `size`, checks tiles against hashes computed
/// here, and returns the entries.
fn fetch_and_check_tree(server: &Server, size: u64) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    let mut level0 = Vec::new();
    for t in 0..size.div_ceil(256) {
        let w = (size - t * 256).min(256);
        let suffix = if w < 256 {
            format!(".p/{w}")
        } else {
            String::new()
        };
        let bundle = fetch(
            server,
            &format!("/log/tile/entries/{}{suffix}", tile_index(t)),
        );
        let mut rest = &bundle[..];
        let mut got = 0;
        while !rest.is_empty() {
            let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            let entry = rest[2..2 + len].to_vec();
            rest = &rest[2 + len..];
            let mut h = Sha256::new();
            h.update([0]);
            h.update(&entry);
            level0.push(<[u8; 32]>::from(h.finalize()));
            entries.push(entry);
            got += 1;
        }
        assert_eq!(got, w, "bundle {t}");
        let tile = fetch(server, &format!("/log/tile/0/{}{suffix}", tile_index(t)));
        assert_eq!(tile, level0[(t * 256) as usize..].concat(), "tile 0/{t}");
    }
    // Higher levels: each hash is the root of 256 hashes of the level below.
    let mut below = level0;
    for level in 1..=2u8 {
        let complete = below.len() / 256;
        let mut hashes = Vec::new();
        for c in below.chunks_exact(256) {
            let mut layer = c.to_vec();
            while layer.len() > 1 {
                layer = layer.chunks(2).map(|p| node(&p[0], &p[1])).collect();
            }
            hashes.push(layer[0]);
        }
        assert_eq!(hashes.len(), complete);
        for t in 0..(complete as u64).div_ceil(256) {
            let w = (complete as u64 - t * 256).min(256);
            let suffix = if w < 256 {
                format!(".p/{w}")
            } else {
                String::new()
            };
            let tile = fetch(
                server,
                &format!("/log/tile/{level}/{}{suffix}", tile_index(t)),
            );
            assert_eq!(
                tile,
                hashes[(t * 256) as usize..((t * 256) + w) as usize].concat(),
                "tile {level}/{t}"
            );
        }
        below = hashes;
    }
    entries
}

fn ct_tree(entries: &[Vec<u8>]) -> MemoryBackedTree<Sha256, Vec<u8>> {
    let mut tree = MemoryBackedTree::new();
    for e in entries {
        tree.push(e.clone());
    }
    tree
}

fn audit(server: &Server, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigillum"));
    cmd.args(["log", "audit", "--server", &server.url])
        .args(extra);
    cmd.output().unwrap()
}

fn status_of(server: &Server, path: &str) -> u16 {
    server.get_bytes(path).0
}

#[test]
fn tiles_over_http_recompute_the_checkpoint_root_of_a_70k_log() {
    let dir = tempfile::tempdir().unwrap();
    // 70,398 entries: the next three appends complete tile 0/274 (70,400 = 275 × 256).
    populate(dir.path(), 70_398);
    let server = Server::start(dir.path(), &[], &[]);
    let verifiers = verifier(&server);
    let (size, root, _) = checkpoint(&server, &verifiers);
    assert_eq!(size, 70_398);
    let entries = fetch_and_check_tree(&server, size);
    let tree = ct_tree(&entries);
    assert_eq!(
        tree.root().as_bytes().as_slice(),
        root,
        "ct-merkle root of the served entries"
    );

    // Partial tile widths at this size and after each of three more appends.
    assert_eq!(
        status_of(&server, "/log/tile/0/274"),
        404,
        "full tile not yet complete"
    );
    assert_eq!(
        status_of(&server, "/log/tile/0/274.p/255"),
        404,
        "wider than the tree"
    );
    assert_eq!(status_of(&server, "/log/tile/entries/274.p/255"), 404);
    let old_partial = fetch(&server, "/log/tile/0/274.p/254");
    let key = server.workspace_key("tiles");
    for want_w0 in [255u64, 0, 1] {
        let (status, body) = server.call(&key, "POST", "/v1/entities", Some(organization(None)));
        assert_eq!(status, 201, "{body}");
        let (size, _, _) = checkpoint(&server, &verifiers);
        let w0 = size % 256;
        assert_eq!(w0, want_w0, "size {size}");
        let t0 = size / 256;
        if w0 == 0 {
            assert_eq!(
                fetch(&server, &format!("/log/tile/0/{}", tile_index(t0 - 1))).len(),
                8192
            );
            assert_eq!(
                status_of(&server, &format!("/log/tile/0/{}.p/1", tile_index(t0))),
                404
            );
        } else {
            let tile = fetch(&server, &format!("/log/tile/0/{}.p/{w0}", tile_index(t0)));
            assert_eq!(tile.len() as u64, 32 * w0);
            let bundle = fetch(
                &server,
                &format!("/log/tile/entries/{}.p/{w0}", tile_index(t0)),
            );
            assert!(!bundle.is_empty());
            if w0 < 255 {
                assert_eq!(
                    status_of(
                        &server,
                        &format!("/log/tile/0/{}.p/{}", tile_index(t0), w0 + 1)
                    ),
                    404
                );
            }
        }
        // Level 1 holds one hash per complete level-0 tile; level 2 one per 65,536 leaves.
        let w1 = (size >> 8) % 256;
        assert_eq!(
            fetch(&server, &format!("/log/tile/1/001.p/{w1}")).len() as u64,
            32 * w1
        );
        assert_eq!(
            status_of(&server, &format!("/log/tile/1/001.p/{}", w1 + 1)),
            404
        );
        assert_eq!(fetch(&server, "/log/tile/1/000").len(), 8192);
        assert_eq!(fetch(&server, "/log/tile/2/000.p/1").len(), 32);
    }
    // A partial tile once served stays a prefix of the tile it grows into.
    let full = fetch(&server, "/log/tile/0/274");
    assert_eq!(&full[..old_partial.len()], &old_partial[..]);
    let (size, root, _) = checkpoint(&server, &verifiers);
    let entries = fetch_and_check_tree(&server, size);
    assert_eq!(ct_tree(&entries).root().as_bytes().as_slice(), root);

    // The audit tool agrees, and checks consistency with a saved checkpoint.
    let saved = dir.path().join("trusted.checkpoint");
    let out = audit(&server, &["--save-checkpoint", saved.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let (status, body) = server.call(&key, "POST", "/v1/entities", Some(organization(None)));
    assert_eq!(status, 201, "{body}");
    let out = audit(&server, &["--trusted-checkpoint", saved.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("extends the trusted checkpoint of size {size}")));
}

/// One acknowledged entity creation.
#[derive(Debug, Clone)]
struct Acked {
    index: u64,
    entity: String,
    serial: String,
}

fn verify_consistency(server: &Server, from: (u64, [u8; 32]), to: (u64, [u8; 32])) {
    let (status, body) = get_json(
        server,
        &format!("/v1/log/proof/consistency?from={}&to={}", from.0, to.0),
    );
    assert_eq!(status, 200, "{body}");
    let proof: Vec<u8> = body["proof"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| STANDARD.decode(h.as_str().unwrap()).unwrap())
        .collect();
    let proof = ConsistencyProof::<Sha256>::try_from_bytes(proof).unwrap();
    let new = RootHash::<Sha256>::new(to.1.into(), to.0);
    let old = RootHash::<Sha256>::new(from.1.into(), from.0);
    new.verify_consistency(&old, &proof)
        .unwrap_or_else(|e| panic!("consistency {} -> {}: {e:?}", from.0, to.0));
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[], &[]);
    let key = Arc::new(server.workspace_key("crash"));
    let verifiers = verifier(&server);
    // The default origin is the public URL without scheme, plus /log.
    let (_, public) = get_json(&server, "/v1/log/public-key");
    assert_eq!(
        public["origin"],
        format!("{}/log", server.url.trim_start_matches("http://"))
    );
    let mut acked_all: Vec<Acked> = Vec::new();
    let mut checkpoints: BTreeMap<u64, ([u8; 32], String)> = BTreeMap::new();
    let rounds = 5;
    for round in 0..rounds {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for _ in 0..12 {
            let (acked, stop, key, url) =
                (acked.clone(), stop.clone(), key.clone(), server.url.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let body = serde_json::to_vec(&organization(None)).unwrap();
                    let Ok(reply) =
                        sigillum::client::call(&url, &key, "POST", "/v1/entities", body)
                    else {
                        continue;
                    };
                    if reply.status == 201 {
                        let v: Value = serde_json::from_slice(&reply.body).unwrap();
                        let index = v["certificate"]["log_events"][0].as_u64().unwrap();
                        acked.lock().unwrap().push(Acked {
                            index,
                            entity: v["id"].as_str().unwrap().to_owned(),
                            serial: v["certificate"]["serial"].as_str().unwrap().to_owned(),
                        });
                    }
                }
            }));
        }
        {
            let (seen, stop, url) = (seen.clone(), stop.clone(), server.url.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(r) = reqwest::blocking::get(format!("{url}/log/checkpoint"))
                        && r.status() == 200
                        && let Ok(t) = r.text()
                    {
                        seen.lock().unwrap().push(t);
                    }
                    std::thread::sleep(Duration::from_millis(15));
                }
            }));
        }
        // Kill at a pseudo-random point of the round.
        let ms = 1000 + (round * 397 + 211) % 1000;
        std::thread::sleep(Duration::from_millis(ms as u64));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        server.spawn();
        let (size, root, _) = checkpoint(&server, &verifiers);
        let acked = acked.lock().unwrap().clone();
        assert!(!acked.is_empty(), "round {round}: nothing was acknowledged");
        for a in &acked {
            assert!(
                a.index < size,
                "acknowledged index {} beyond size {size}",
                a.index
            );
        }
        acked_all.extend(acked);
        // Every append acknowledged in any round so far is at its index, with its records.
        for a in &acked_all {
            let (status, entry) = get_json(&server, &format!("/v1/log/entries/{}", a.index));
            assert_eq!(status, 200);
            assert_eq!(
                entry["event"]["entity"],
                a.entity.as_str(),
                "entry {}",
                a.index
            );
            assert_eq!(entry["event"]["certificate_serial"], a.serial.as_str());
            assert_eq!(entry["event"]["kind"], "certificate_issued");
        }
        for t in seen.lock().unwrap().iter() {
            let (s, r) = open_checkpoint(t, &verifiers);
            checkpoints.insert(s, (r, t.clone()));
        }
        // Every checkpoint published before any crash is consistent with the current one.
        for (&s, (r, _)) in checkpoints.iter().filter(|(s, _)| **s > 0) {
            assert!(
                s <= size,
                "a published checkpoint (size {s}) was lost: now {size}"
            );
            verify_consistency(&server, (s, *r), (size, root));
        }
        checkpoints.insert(size, (root, String::new()));
    }
    // Entities acknowledged are readable, and the whole tree recomputes.
    for a in acked_all.iter().step_by(97) {
        let (status, body) = server.call(&key, "GET", &format!("/v1/entities/{}", a.entity), None);
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        acked_all.len() >= 1000,
        "only {} appends were acknowledged",
        acked_all.len()
    );
    eprintln!(
        "{} acknowledged appends across {rounds} SIGKILLs",
        acked_all.len()
    );
    let out = audit(&server, &[]);
    assert!(out.status.success(), "{}", text(&out));
}

fn edit_store(server: &mut Server, edit: impl FnOnce(&Store)) {
    server.stop();
    {
        let store = Store::open(&server.data_dir.join("db")).unwrap();
        edit(&store);
    }
    server.spawn();
}

fn put(store: &Store, cf: Cf, key: &[u8], value: Option<Vec<u8>>) {
    let mut b = Batch::default();
    match value {
        Some(v) => b.put_raw(cf, key.to_vec(), v),
        None => b.delete(cf, key.to_vec()),
    }
    store.commit(b, Durability::Synced).unwrap();
}

#[test]
fn tampering_with_stored_entries_or_tiles_is_detected_by_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 1_000);
    let mut server = Server::start(dir.path(), &[], &[]);
    let out = audit(&server, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let entry_key = sigillum::store::keys::log_entry(500);
    let tile_key = sigillum::store::keys::log_tile(0, 1);
    let mut original_entry = None;
    let mut original_tile = None;

    // 1. One byte of one entry changed.
    edit_store(&mut server, |s| {
        let v = s.get_raw(Cf::LogEntries, entry_key).unwrap().unwrap();
        // Still a canonical event: one hex digit of its signature hash changed.
        let mut changed = v.clone();
        let marker = b"\"signature_sha256\":\"";
        let pos = changed
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap()
            + marker.len();
        changed[pos] = if changed[pos] == b'1' { b'2' } else { b'1' };
        original_entry = Some(v);
        put(s, Cf::LogEntries, &entry_key, Some(changed));
    });
    let out = audit(&server, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("/log/tile/0/001 does not match"),
        "{}",
        text(&out)
    );

    // 2. The entry deleted.
    edit_store(&mut server, |s| put(s, Cf::LogEntries, &entry_key, None));
    let out = audit(&server, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("tile/entries/001"), "{}", text(&out));

    // 3. Entry restored, one hash of a full tile changed.
    edit_store(&mut server, |s| {
        put(s, Cf::LogEntries, &entry_key, original_entry.clone());
        let mut t = s.get_raw(Cf::LogTiles, tile_key).unwrap().unwrap();
        original_tile = Some(t.clone());
        t[32 * 7] ^= 0x80;
        put(s, Cf::LogTiles, &tile_key, Some(t));
    });
    let out = audit(&server, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "/log/tile/0/001 does not match the tile recomputed from the entries: hash 7 differs"
        ),
        "{}",
        text(&out)
    );

    // 4. The tile deleted.
    edit_store(&mut server, |s| put(s, Cf::LogTiles, &tile_key, None));
    let out = audit(&server, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("/log/tile/0/001 is missing"),
        "{}",
        text(&out)
    );

    // Restored: the audit passes again.
    edit_store(&mut server, |s| {
        put(s, Cf::LogTiles, &tile_key, original_tile.clone())
    });
    let out = audit(&server, &[]);
    assert!(out.status.success(), "{}", text(&out));

    // A checkpoint from another log (another key) is not accepted as trusted.
    let other = tempfile::tempdir().unwrap();
    populate(other.path(), 3);
    let other_server = Server::start(other.path(), &[], &[]);
    let foreign = dir.path().join("foreign.checkpoint");
    std::fs::write(&foreign, other_server.get_bytes("/log/checkpoint").1).unwrap();
    let out = audit(
        &server,
        &["--trusted-checkpoint", foreign.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("trusted checkpoint does not verify"),
        "{}",
        text(&out)
    );
}

#[test]
fn bad_input_on_the_read_api_is_a_4xx_problem() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 300);
    let server = Server::start(dir.path(), &[], &[]);
    let cases: &[(&str, u16)] = &[
        ("/log/tile/0/abc", 400),
        ("/log/tile/0/000.p/0", 400),
        ("/log/tile/0/000.p/256", 400),
        ("/log/tile/0/000.p/01", 400),
        ("/log/tile/0/000.p/", 400),
        ("/log/tile/64/000", 400),
        ("/log/tile/-1/000", 400),
        ("/log/tile/0/x000/001", 400),
        ("/log/tile/0/1", 400),
        ("/log/tile/0/x1/000", 400),
        ("/log/tile/entries/0001", 400),
        ("/log/tile/entries", 400),
        ("/log/tile/0/x018/x446/x744/x073/x709/x551/616", 400),
        ("/log/tile/0/999", 404),
        ("/log/tile/0/001", 404),
        ("/log/tile/0/001.p/45", 404),
        ("/log/tile/entries/001.p/45", 404),
        ("/log/tile/entries/x999/999", 404),
        ("/log/tile/3/000", 404),
        ("/log/tile/8/000", 404),
        ("/log/tile/63/000.p/1", 404),
        ("/v1/log/entries/abc", 400),
        ("/v1/log/entries/-1", 400),
        ("/v1/log/entries/18446744073709551616", 400),
        ("/v1/log/entries/300", 404),
        ("/v1/log/entries/18446744073709551615", 404),
        ("/v1/log/proof/inclusion", 400),
        ("/v1/log/proof/inclusion?index=x", 400),
        ("/v1/log/proof/inclusion?index=1&leaf_hash=AAAA", 400),
        ("/v1/log/proof/inclusion?leaf_hash=zz", 400),
        ("/v1/log/proof/inclusion?index=5&tree_size=999999999", 400),
        ("/v1/log/proof/inclusion?index=9999&tree_size=3", 400),
        ("/v1/log/proof/inclusion?index=300", 400),
        ("/v1/log/proof/inclusion?index=0&tree_size=0", 400),
        (
            "/v1/log/proof/inclusion?index=18446744073709551615&tree_size=18446744073709551615",
            400,
        ),
        ("/v1/log/proof/inclusion?index=1&bogus=1", 400),
        (
            "/v1/log/proof/inclusion?leaf_hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            404,
        ),
        ("/v1/log/proof/consistency", 400),
        ("/v1/log/proof/consistency?from=5&to=2", 400),
        ("/v1/log/proof/consistency?from=1&to=99999999", 400),
        ("/v1/log/proof/consistency?from=-1", 400),
        ("/v1/log/proof/consistency?from=1e3", 400),
        ("/v1/log/proof/consistency?from=18446744073709551615", 400),
    ];
    for (path, want) in cases {
        let r = reqwest::blocking::get(format!("{}{path}", server.url)).unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = r.json().unwrap_or(Value::Null);
        assert_eq!(status, *want, "{path}: {body}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{path}");
        assert!(
            body["code"].is_string() && body["detail"].is_string(),
            "{path}: {body}"
        );
    }
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/log/checkpoint", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
    // And the well-formed requests work.
    for path in [
        "/v1/log/proof/inclusion?index=299",
        "/v1/log/proof/inclusion?index=0&tree_size=1",
        "/v1/log/proof/consistency?from=0",
        "/v1/log/proof/consistency?from=300&to=300",
        "/v1/log/entries/299",
        "/log/tile/0/001.p/44",
        "/log/tile/entries/000",
    ] {
        assert_eq!(status_of(&server, path), 200, "{path}");
    }
}
