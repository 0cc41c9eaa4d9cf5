//! The transparency log's Merkle maths against material that is not ours:
//! - RFC 6962 vectors from transparency-dev/merkle (see tests/vectors/README.md);
//! - `ct-merkle` (an independent RFC 6962 implementation) for roots, inclusion and consistency
//!   proofs produced by the log's storage path for every tree size 1..=300 and random larger
//!   sizes;
//! - `signed_note` (Cloudflare's C2SP signed-note implementation) for the checkpoints.

use std::sync::Arc;

use ct_merkle::{ConsistencyProof, InclusionProof, RootHash, mem_backed_tree::MemoryBackedTree};
use serde_json::Value;
use sha2::Sha256;
use sigillum::keys::KeyCustody;
use sigillum::keys::soft::{MasterKey, SoftKeyStore};
use sigillum::store::{Batch, Store};
use sigillum::tlog::merkle::{self, Hash, MemoryTree};
use sigillum::tlog::{Event, EventKind, Log, LogOptions};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/rfc6962_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn h(v: &Value) -> Hash {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(h).collect()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// A probe's hash, or `None` when it is not 32 bytes (upstream probes malformed inputs too).
fn probe_hash(v: &Value) -> Option<Hash> {
    bytes(v).try_into().ok()
}

fn probe_proof(v: &Value) -> Option<Vec<Hash>> {
    v.as_array().unwrap().iter().map(probe_hash).collect()
}

#[test]
fn rfc6962_vectors_from_transparency_dev_merkle() {
    let v = vectors();
    assert_eq!(
        v["provenance"]["commit"],
        "417fb0c314750d94e53942e9f92e79b6d35915db"
    );
    assert_eq!(merkle::empty_root(), h(&v["empty_tree_root_hex"]));
    let leaves: Vec<Vec<u8>> = v["leaves_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(bytes)
        .collect();
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
    assert_eq!(leaf_hashes, hashes(&v["leaf_hashes"]));
    for case in v["roots"].as_array().unwrap() {
        let n = case["tree_size"].as_u64().unwrap();
        let tree = MemoryTree::new(leaf_hashes[..n as usize].to_vec());
        assert_eq!(
            merkle::root(&tree, n).unwrap(),
            h(&case["root_hex"]),
            "root {n}"
        );
    }
    let root_of =
        |n: u64| merkle::root(&MemoryTree::new(leaf_hashes[..n as usize].to_vec()), n).unwrap();
    let mut checked = 0;
    for case in v["inclusion"].as_array().unwrap() {
        let (i, n) = (
            case["leaf_index"].as_u64().unwrap(),
            case["tree_size"].as_u64().unwrap(),
        );
        let want = hashes(&case["proof_hex"]);
        let sub = MemoryTree::new(leaf_hashes[..n as usize].to_vec());
        assert_eq!(
            merkle::inclusion_proof(&sub, i, n).unwrap().unwrap(),
            want,
            "inclusion {i}/{n}"
        );
        merkle::verify_inclusion(&leaf_hashes[i as usize], i, n, &want, &root_of(n)).unwrap();
        checked += 1;
    }
    for case in v["consistency"].as_array().unwrap() {
        let (m, n) = (
            case["size1"].as_u64().unwrap(),
            case["size2"].as_u64().unwrap(),
        );
        let want = hashes(&case["proof_hex"]);
        let sub = MemoryTree::new(leaf_hashes[..n as usize].to_vec());
        assert_eq!(
            merkle::consistency_proof(&sub, m, n).unwrap().unwrap(),
            want,
            "consistency {m}/{n}"
        );
        merkle::verify_consistency(m, n, &want, &root_of(m), &root_of(n)).unwrap();
        checked += 1;
    }
    assert_eq!(checked, 12);

    // Upstream's verifier probes: our verifiers must reach upstream's verdict on each. The
    // `additional/` probes exercise conventions of the Go API rather than RFC 9162 (roots that
    // are arbitrary byte strings such as "don't care 1", and refusing any proof that involves
    // size 0, where we follow the RFC: every tree consistently extends the empty tree); they are
    // counted but not compared.
    let mut probes = 0;
    let mut compared = 0;
    let convention_probe = |p: &Value| p["file"].as_str().unwrap().contains("/additional/");
    let mut check = |p: &Value, rejected: bool| {
        probes += 1;
        if !convention_probe(p) {
            let want_error = p["want_error"].as_bool().unwrap();
            assert_eq!(rejected, want_error, "{}: {}", p["file"], p["desc"]);
            compared += 1;
        }
    };
    for p in v["probes"]["inclusion"].as_array().unwrap() {
        // A hash that is not 32 bytes cannot even be given to our verifier: rejected.
        let rejected = match (
            probe_hash(&p["leaf_hash_hex"]),
            probe_proof(&p["proof_hex"]),
            probe_hash(&p["root_hex"]),
        ) {
            (Some(leaf), Some(proof), Some(root)) => merkle::verify_inclusion(
                &leaf,
                p["leaf_index"].as_u64().unwrap(),
                p["tree_size"].as_u64().unwrap(),
                &proof,
                &root,
            )
            .is_err(),
            _ => true,
        };
        check(p, rejected);
    }
    for p in v["probes"]["consistency"].as_array().unwrap() {
        let rejected = match (
            probe_proof(&p["proof_hex"]),
            probe_hash(&p["root1_hex"]),
            probe_hash(&p["root2_hex"]),
        ) {
            (Some(proof), Some(root1), Some(root2)) => merkle::verify_consistency(
                p["size1"].as_u64().unwrap(),
                p["size2"].as_u64().unwrap(),
                &proof,
                &root1,
                &root2,
            )
            .is_err(),
            _ => true,
        };
        check(p, rejected);
    }
    assert_eq!(probes, 196);
    assert_eq!(compared, 170, "probes compared (those outside additional/)");
}

fn open_log(dir: &std::path::Path) -> (Arc<Store>, Log) {
    let store = Arc::new(Store::open(&dir.join("db")).unwrap());
    let master = Arc::new(MasterKey::load_or_create(&dir.join("master.key")).unwrap());
    let custody = KeyCustody::soft_only(Arc::new(SoftKeyStore::new(master)));
    let log = Log::open(
        store.clone(),
        &custody,
        "test.example/log",
        false,
        LogOptions::default(),
    )
    .unwrap();
    (store, log)
}

fn event(i: u64) -> Event {
    let mut e = Event::new(
        EventKind::certificate_issued(),
        time::OffsetDateTime::from_unix_timestamp(1_790_000_000 + i as i64).unwrap(),
    );
    e.entity = Some(format!("ent_{i:08}"));
    e
}

fn ct_root(tree: &MemoryBackedTree<Sha256, Vec<u8>>) -> Hash {
    tree.root().as_bytes().as_slice().try_into().unwrap()
}

fn ct_root_hash(root: &Hash, size: u64) -> RootHash<Sha256> {
    RootHash::<Sha256>::new((*root).into(), size)
}

/// Checks the log's root at `n` and a set of its proofs against ct-merkle's `tree` of the
/// first `n` entries.
fn cross_check(
    log: &Log,
    tree: &MemoryBackedTree<Sha256, Vec<u8>>,
    entries: &[Vec<u8>],
    n: u64,
    indexes: &[u64],
    olds: &[u64],
) {
    assert_eq!(tree.len(), n);
    let root = log.root_at(n).unwrap();
    assert_eq!(root, ct_root(tree), "root at {n}");
    let ct = ct_root_hash(&root, n);
    for &i in indexes {
        let proof = log.inclusion_proof(i, n).unwrap();
        let ours = InclusionProof::<Sha256>::try_from_bytes(proof.concat()).unwrap();
        ct.verify_inclusion(&entries[i as usize], i, &ours)
            .unwrap_or_else(|e| panic!("inclusion {i}/{n}: {e:?}"));
        let theirs = tree.prove_inclusion(i as usize);
        assert_eq!(
            theirs.as_bytes(),
            proof.concat().as_slice(),
            "inclusion {i}/{n}"
        );
    }
    for &m in olds {
        let proof = log.consistency_proof(m, n).unwrap();
        let old_root = log.root_at(m).unwrap();
        let ours = ConsistencyProof::<Sha256>::try_from_bytes(proof.concat()).unwrap();
        ct.verify_consistency(&ct_root_hash(&old_root, m), &ours)
            .unwrap_or_else(|e| panic!("consistency {m}->{n}: {e:?}"));
        let theirs = tree.prove_consistency((n - m) as usize);
        assert_eq!(
            theirs.as_bytes(),
            proof.concat().as_slice(),
            "consistency {m}->{n}"
        );
    }
}

#[test]
fn log_roots_and_proofs_agree_with_ct_merkle() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, log) = open_log(dir.path());
    let mut entries = Vec::new();
    let mut tree = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    // Sizes 1..=300, one append (and one signed checkpoint) at a time.
    for i in 0..300u64 {
        let appended = log.append(vec![event(i)], Batch::default()).unwrap();
        assert_eq!(appended.indexes, vec![i]);
        entries.push(appended.entries[0].clone());
        tree.push(appended.entries[0].clone());
        let n = i + 1;
        let all: Vec<u64> = (0..n).collect();
        let some: Vec<u64> = (0..n)
            .filter(|x| x % 17 == 0 || *x == n - 1 || *x + 2 == n)
            .collect();
        let (idx, olds) = if n <= 40 {
            (&all, &all[1..])
        } else {
            (&some, &some[1..])
        };
        cross_check(&log, &tree, &entries, n, idx, olds);
    }
    // Larger trees, in batches, up to past two full levels of tiles.
    let mut rng_state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: u64| {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state % bound
    };
    while (entries.len() as u64) < 66_000 {
        let chunk = 1 + next(3_000);
        let start = entries.len() as u64;
        let events = (start..start + chunk).map(event).collect();
        let appended = log.append(events, Batch::default()).unwrap();
        assert_eq!(appended.indexes.first(), Some(&start));
        for e in &appended.entries {
            tree.push(e.clone());
        }
        entries.extend(appended.entries);
        let n = entries.len() as u64;
        let idx: Vec<u64> = (0..4).map(|_| next(n)).chain([n - 1, 0]).collect();
        let olds: Vec<u64> = (0..3).map(|_| 1 + next(n - 1)).chain([n - chunk]).collect();
        cross_check(&log, &tree, &entries, n, &idx, &olds);
    }
    // Old sizes stay provable after the tree grew.
    let n = entries.len() as u64;
    cross_check(&log, &tree, &entries, n, &[65_536], &[65_536, 255, 257]);
    let mut old = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for e in &entries[..65_536] {
        old.push(e.clone());
    }
    cross_check(
        &log,
        &old,
        &entries,
        65_536,
        &[0, 65_535, 300],
        &[1, 256, 65_535],
    );
}

#[test]
fn checkpoints_verify_with_signed_note_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (store, log) = open_log(dir.path());
    let vkey = log.verifier().encode();
    let verifier = signed_note::StandardVerifier::new(&vkey).unwrap();
    let verifiers = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    let mut seen = vec![log.checkpoint().note.clone()];
    for i in 0..20 {
        let a = log.append(vec![event(i)], Batch::default()).unwrap();
        seen.push(a.checkpoint.note.clone());
    }
    for text in &seen {
        let note = signed_note::Note::from_bytes(text.as_bytes()).unwrap();
        let (verified, unverified) = note.verify(&verifiers).unwrap();
        assert_eq!(verified.len(), 1);
        assert!(unverified.is_empty());
        assert!(
            std::str::from_utf8(note.text())
                .unwrap()
                .starts_with("test.example/log\n")
        );
    }
    let tampered = seen[5].replacen("\n5\n", "\n6\n", 1);
    let note = signed_note::Note::from_bytes(tampered.as_bytes()).unwrap();
    assert!(note.verify(&verifiers).is_err());
    let last = log.checkpoint();
    // Reopen: same key, same state, appends continue at the next index.
    drop(log);
    drop(store);
    let (_store, log) = open_log(dir.path());
    assert_eq!(log.verifier().encode(), vkey);
    assert_eq!(log.checkpoint().note, last.note);
    let a = log.append(vec![event(20)], Batch::default()).unwrap();
    assert_eq!(a.indexes, vec![20]);
}

#[test]
fn receipts_verify_offline_and_documents_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, log) = open_log(dir.path());
    let doc_a = [0xa1; 32];
    let doc_b = [0xb2; 32];
    let doc_c = [0xc3; 32];
    let signed = |before: Hash, after: Hash, sig: u8| {
        let mut e = Event::new(
            EventKind::document_signed(),
            time::OffsetDateTime::now_utc(),
        );
        e.document_sha256_before = Some(before);
        e.document_sha256_after = Some(after);
        e.signature_sha256 = Some([sig; 32]);
        e
    };
    // A → B, then B → C in one batch with an unrelated event in between.
    let first = log
        .append_with_receipts(vec![signed(doc_a, doc_b, 1)], Batch::default())
        .unwrap();
    let rest = log
        .append_with_receipts(vec![event(99), signed(doc_b, doc_c, 2)], Batch::default())
        .unwrap();
    let key = log.verifier().clone();
    for r in first.iter().chain(&rest) {
        r.verify(&key).unwrap();
        let text = r.to_tlog_proof();
        let (index, proof, checkpoint) = sigillum::tlog::Receipt::parse_tlog_proof(&text).unwrap();
        assert_eq!(
            (index, &proof, &checkpoint),
            (r.index, &r.inclusion_proof, &r.checkpoint)
        );
        let json = serde_json::to_string(&r.to_json()).unwrap();
        let back: sigillum::tlog::receipt::ReceiptJson = serde_json::from_str(&json).unwrap();
        assert_eq!(&sigillum::tlog::Receipt::from_json(&back).unwrap(), r);
    }
    let second = Event::decode(&rest[1].entry).unwrap();
    assert_eq!(second.previous_event, Some(first[0].leaf_hash()));
    assert_eq!(Event::decode(&first[0].entry).unwrap().previous_event, None);
    assert_eq!(log.find_by_document(&doc_b, 10).unwrap(), vec![0, 2]);
    assert_eq!(log.find_by_signature(&[2; 32], 10).unwrap(), vec![2]);
    assert_eq!(log.find_leaf(&rest[0].leaf_hash()).unwrap(), Some(1));
    // A receipt whose entry was changed does not verify.
    let mut forged = rest[1].clone();
    forged.entry[10] ^= 1;
    assert!(forged.verify(&key).is_err());
    // A fresh receipt for an old entry proves against the newest checkpoint.
    let fresh = log.receipt(0).unwrap().unwrap();
    fresh.verify(&key).unwrap();
    assert_eq!(fresh.checkpoint, log.checkpoint().note);
}
