#!/usr/bin/env python3
"""Extract RFC 6962 test vectors from a transparency-dev/merkle git mirror.

Reads git objects directly (git show <commit>:<path>) so every value is traceable
to an upstream file at a fixed commit. Produces rfc6962_vectors.json.

Usage: build.py <git-dir> <out.json>
"""
import base64, json, re, subprocess, sys

GIT_DIR = sys.argv[1]
OUT = sys.argv[2]


def git(*args):
    return subprocess.run(["git", "--git-dir=" + GIT_DIR, *args], check=True,
                          capture_output=True, text=True).stdout


COMMIT = git("rev-parse", "HEAD").strip()
COMMIT_DATE = git("log", "-1", "--format=%cI", COMMIT).strip()
show = lambda path, rev=COMMIT: git("show", f"{rev}:{path}")

HEX = r'"([0-9a-f]*)"'


def func_body(src, name):
    i = src.index(f"func {name}(")
    j = src.index("\n}\n", i)
    return src[i:j]


# ---------------------------------------------------------------- constants.go
const = show("testonly/constants.go")
leaves = re.findall(r'hd\(' + HEX + r'\)', func_body(const, "LeafInputs"))
assert len(leaves) == 8, leaves
nh_body = func_body(const, "NodeHashes")
levels = [re.findall(r'hd\(' + HEX + r'\)', blk) for blk in nh_body.split("}, {")]
assert [len(l) for l in levels] == [8, 4, 2, 1], [len(l) for l in levels]
root_hashes = re.findall(r'hd\(' + HEX + r'\)', func_body(const, "RootHashes"))
assert len(root_hashes) == 8
empty_root = re.findall(r'hd\(' + HEX + r'\)', func_body(const, "EmptyRootHash"))[0]

# --------------------------------------------------------- cmd/proofgen/main.go
# Upstream table uses 1-BASED leaf numbers ("leafIdx"), converted with
# `p.leafIdx-1` when generating probes. We convert to 0-based here.
pg = show("cmd/proofgen/main.go")


def parse_table(src, var):
    i = src.index(f"\t{var} = []")
    j = src.index("\n\t}\n", i)
    body = src[i:j]
    out = []
    for m in re.finditer(r'\{(\d+), (\d+), (nil|\[\]\[\]byte\{(.*?)\n\t\t\})\}', body, re.S):
        a, b = int(m.group(1)), int(m.group(2))
        proof = re.findall(r'dh\(' + HEX + r', 32\)', m.group(4) or "")
        out.append((a, b, proof))
    return out


pg_incl = parse_table(pg, "inclusionProofs")
pg_cons = parse_table(pg, "consistencyProofs")
pg_roots = re.findall(r'dh\(' + HEX + r', 32\)', pg[pg.index("\troots = "):pg.index("\tleaves = ")])
assert pg_roots == root_hashes, "roots differ between files"

# ------------------------------------------------- testonly/reference_test.go
# TestRefInclusionProof uses 0-BASED index; TestRefConsistencyProof sizes.
rt = show("testonly/reference_test.go")


def parse_ref(body, k1, k2):
    out = []
    for m in re.finditer(r'\{' + k1 + r': (\d+), ' + k2 + r': (\d+), want: (nil|\[\]\[\]byte\{(.*?)\n\t\t\})\}', body, re.S):
        out.append((int(m.group(1)), int(m.group(2)), re.findall(r'hd\(' + HEX + r'\)', m.group(4) or "")))
    return out


ref_incl = parse_ref(func_body(rt, "TestRefInclusionProof"), "index", "size")
ref_cons = parse_ref(func_body(rt, "TestRefConsistencyProof"), "size1", "size2")

# --------------------------------------- historical proof/verify_test.go table
HIST = "bcba819ef46f73fd3aaa964f46778beab2e20d59"  # commit that moved tables to proofgen
hv = show("proof/verify_test.go", HIST + "^")
hist_incl = parse_table(hv, "inclusionProofs")
hist_cons = parse_table(hv, "consistencyProofs")

# ------------------------------------------------------------- merge + dedupe
inclusion = {}


def add_incl(idx0, size, proof, src):
    key = (idx0, size)
    if key in inclusion:
        assert inclusion[key]["proof_hex"] == proof, ("conflict", key)
        if src not in inclusion[key]["sources"]:
            inclusion[key]["sources"].append(src)
    else:
        inclusion[key] = {"leaf_index": idx0, "tree_size": size, "proof_hex": proof, "sources": [src]}


for a, b, p in pg_incl:
    add_incl(a - 1, b, p, "cmd/proofgen/main.go:inclusionProofs (1-based leafIdx, converted)")
for a, b, p in hist_incl:
    if a == 0:  # {0, 0, nil}: invalid-path placeholder, skipped upstream ("i = 0 is an invalid path")
        continue
    add_incl(a - 1, b, p, f"proof/verify_test.go@{HIST}^:inclusionProofs (1-based leaf, converted)")
for a, b, p in ref_incl:
    add_incl(a, b, p, "testonly/reference_test.go:TestRefInclusionProof (0-based index)")

consistency = {}


def add_cons(m, n, proof, src):
    key = (m, n)
    if key in consistency:
        assert consistency[key]["proof_hex"] == proof, ("conflict", key)
        if src not in consistency[key]["sources"]:
            consistency[key]["sources"].append(src)
    else:
        consistency[key] = {"size1": m, "size2": n, "proof_hex": proof, "sources": [src]}


for a, b, p in pg_cons:
    add_cons(a, b, p, "cmd/proofgen/main.go:consistencyProofs")
for a, b, p in hist_cons:
    add_cons(a, b, p, f"proof/verify_test.go@{HIST}^:consistencyProofs")
for a, b, p in ref_cons:
    add_cons(a, b, p, "testonly/reference_test.go:TestRefConsistencyProof")

# ------------------------------------------------------- testdata/*.json probes
b64hex = lambda s: base64.b64decode(s).hex()
files = git("ls-tree", "-r", "--name-only", COMMIT, "testdata/inclusion", "testdata/consistency").split()
incl_probes, cons_probes = [], []
for f in sorted(files):
    if not f.endswith(".json"):
        continue
    d = json.loads(show(f))
    proof = [b64hex(x) for x in (d.get("proof") or [])]
    if f.startswith("testdata/inclusion/"):
        incl_probes.append({"file": f, "desc": d["desc"], "want_error": d["wantErr"],
                            "leaf_index": d["leafIdx"], "tree_size": d["treeSize"],
                            "leaf_hash_hex": b64hex(d["leafHash"] or ""),
                            "root_hex": b64hex(d["root"] or ""), "proof_hex": proof})
    else:
        cons_probes.append({"file": f, "desc": d["desc"], "want_error": d["wantErr"],
                            "size1": d["size1"], "size2": d["size2"],
                            "root1_hex": b64hex(d["root1"] or ""), "root2_hex": b64hex(d["root2"] or ""),
                            "proof_hex": proof})

# Fold happy-path JSON probes that belong to the 8-leaf golden tree into the tables.
leaf_hash_set = set(levels[0])
for p in incl_probes:
    if p["desc"] == "happy path" and not p["want_error"] and p["root_hex"] == root_hashes[p["tree_size"] - 1] \
            and p["leaf_hash_hex"] in leaf_hash_set:
        add_incl(p["leaf_index"], p["tree_size"], p["proof_hex"], p["file"] + " (0-based leafIdx)")
for p in cons_probes:
    if p["desc"] == "happy path" and not p["want_error"] and p["size1"] >= 1 \
            and p["root1_hex"] == root_hashes[p["size1"] - 1] and p["root2_hex"] == root_hashes[p["size2"] - 1]:
        add_cons(p["size1"], p["size2"], p["proof_hex"], p["file"])

out = {
    "provenance": {
        "repository": "https://github.com/transparency-dev/merkle",
        "commit": COMMIT,
        "commit_date": COMMIT_DATE,
        "files": [
            "testonly/constants.go",
            "testonly/reference_test.go",
            "cmd/proofgen/main.go",
            "proof/verify_test.go",
            f"proof/verify_test.go @ {HIST}^ (historical, before tables moved to cmd/proofgen)",
            "rfc6962/rfc6962_test.go",
            "testdata/inclusion/**/*.json",
            "testdata/consistency/**/*.json",
        ],
        "license": "Apache-2.0",
        "note": (
            "Leaf inputs, node hashes and roots come from testonly/constants.go (LeafInputs, NodeHashes, RootHashes, "
            "EmptyRootHash). These vectors originate from the Certificate Transparency C++ merkle_tree_test and were "
            "carried through google/trillian into transparency-dev/merkle. "
            "INDEX CONVENTION: every leaf_index in this file is 0-BASED. The Go tables in cmd/proofgen/main.go and in "
            "the historical proof/verify_test.go store 1-BASED leaf numbers (the code calls "
            "VerifyInclusion(..., p.leafIdx-1, ...) and leaves[p.leafIdx-1]); they were converted by subtracting 1. "
            "testonly/reference_test.go and the testdata/*.json probes already use 0-based indexes. "
            "The historical placeholder {0, 0, nil} ('i = 0 is an invalid path') was dropped. "
            "roots[k] is MTH of the first tree_size leaves of leaves_hex. All hashes are SHA-256 hex; "
            "leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right). "
            "Proof arrays are ordered bottom-up (leaf sibling first), as in RFC 6962/9162. "
            "'sources' lists every upstream location that states the same case (all agree). "
            "'probes' holds every testdata JSON probe (base64 converted to hex) incl. negative ones "
            "(want_error=true); some 'additional'/'single-entry' probes use non-golden or deliberately malformed "
            "hashes (e.g. 'don't care 1' ASCII roots, empty byte strings) and test edge-case conventions of the Go "
            "verifier rather than the RFC algorithm."
        ),
    },
    "hash_algorithm": "SHA-256",
    "leaf_index_base": 0,
    "leaves_hex": leaves,
    "leaf_hashes": levels[0],
    "node_hashes_by_level": {
        "description": "testonly/constants.go NodeHashes(): level 0 = leaf hashes; level k index j = MTH(leaves[j*2^k:(j+1)*2^k])",
        "levels": levels,
    },
    "empty_tree_root_hex": empty_root,
    "roots": [{"tree_size": i + 1, "root_hex": r} for i, r in enumerate(root_hashes)],
    "hasher_vectors": [
        {"source": "rfc6962/rfc6962_test.go", "desc": "empty tree root = SHA-256('')", "kind": "empty_root",
         "want_hex": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"source": "rfc6962/rfc6962_test.go", "desc": "leaf hash of empty leaf", "kind": "leaf", "input_hex": "",
         "want_hex": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
        {"source": "rfc6962/rfc6962_test.go", "desc": "leaf hash of ASCII 'L123456'", "kind": "leaf",
         "input_hex": b"L123456".hex(),
         "want_hex": "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"},
        {"source": "rfc6962/rfc6962_test.go", "desc": "HashChildren('N123','N456') (raw 4-byte children, not 32-byte hashes)",
         "kind": "node", "left_hex": b"N123".hex(), "right_hex": b"N456".hex(),
         "want_hex": "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"},
    ],
    "inclusion": sorted(inclusion.values(), key=lambda c: (c["tree_size"], c["leaf_index"])),
    "consistency": sorted(consistency.values(), key=lambda c: (c["size2"], c["size1"])),
    "probes": {
        "description": "All testdata/inclusion and testdata/consistency JSON files at the commit, hex-converted. "
                       "want_error is upstream's expectation for proof.VerifyInclusion / proof.VerifyConsistency.",
        "inclusion": incl_probes,
        "consistency": cons_probes,
    },
}
with open(OUT, "w") as fh:
    json.dump(out, fh, indent=1)
print("commit", COMMIT)
print("inclusion cases:", [(c["leaf_index"], c["tree_size"]) for c in out["inclusion"]])
print("consistency cases:", [(c["size1"], c["size2"]) for c in out["consistency"]])
print("probes:", len(incl_probes), len(cons_probes))
