//! RFC 9162 §2.1 Merkle tree maths over SHA-256: hashing, roots, inclusion and consistency proofs
//! (generation and verification). Pure functions over a [`HashReader`] that yields the hashes of
//! perfect subtrees, so the same code runs over tiles in RocksDB, over the sequencer's in-memory
//! right edge, and over hashes recomputed by an auditor.

use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Source of perfect-subtree hashes: `node(height, index)` is the hash of the subtree over leaves
/// `[index·2^height, (index+1)·2^height)`, which must be complete in the tree being read.
pub trait HashReader {
    type Error;
    fn node(&self, height: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for a range that occurs in the RFC 9162 recursion (`lo` aligned to the largest
/// power of two not above `hi - lo`). `hi > lo`.
pub fn subtree_root<R: HashReader>(r: &R, lo: u64, hi: u64) -> Result<Hash, R::Error> {
    let n = hi - lo;
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        let height = n.trailing_zeros() as u8;
        return r.node(height, lo >> height);
    }
    let k = split(n);
    let left = subtree_root(r, lo, lo + k)?;
    let right = subtree_root(r, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of size `size`.
pub fn root<R: HashReader>(r: &R, size: u64) -> Result<Hash, R::Error> {
    if size == 0 {
        Ok(empty_root())
    } else {
        subtree_root(r, 0, size)
    }
}

/// Root of a perfect tree from its leaves' level (length a power of two).
pub fn perfect_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
    }
    level[0]
}

/// Why a proof cannot be produced or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {from} is larger than tree size {to}")]
    SizesOutOfOrder { from: u64, to: u64 },
    #[error("the proof has {got} hashes, expected {expected}")]
    WrongLength { got: usize, expected: usize },
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// RFC 9162 §2.1.3.1 `PATH(m, D[n])`: the inclusion proof of leaf `index` in the tree of `size`.
pub fn inclusion_proof<R: HashReader>(
    r: &R,
    index: u64,
    size: u64,
) -> Result<Result<Vec<Hash>, ProofError>, R::Error> {
    if index >= size {
        return Ok(Err(ProofError::IndexOutOfRange { index, size }));
    }
    let mut out = Vec::new();
    path(r, index, 0, size, &mut out)?;
    Ok(Ok(out))
}

fn path<R: HashReader>(
    r: &R,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> Result<(), R::Error> {
    let n = hi - lo;
    if n == 1 {
        return Ok(());
    }
    let k = split(n);
    if m < lo + k {
        path(r, m, lo, lo + k, out)?;
        out.push(subtree_root(r, lo + k, hi)?);
    } else {
        path(r, m, lo + k, hi, out)?;
        out.push(subtree_root(r, lo, lo + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.1 `PROOF(m, D[n])`: the consistency proof from tree size `from` to `to`. Empty
/// when `from` is 0 or equals `to`.
pub fn consistency_proof<R: HashReader>(
    r: &R,
    from: u64,
    to: u64,
) -> Result<Result<Vec<Hash>, ProofError>, R::Error> {
    if from > to {
        return Ok(Err(ProofError::SizesOutOfOrder { from, to }));
    }
    let mut out = Vec::new();
    if from > 0 && from < to {
        subproof(r, from, 0, to, true, &mut out)?;
    }
    Ok(Ok(out))
}

fn subproof<R: HashReader>(
    r: &R,
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), R::Error> {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push(subtree_root(r, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(r, m, lo, lo + k, whole, out)?;
        out.push(subtree_root(r, lo + k, hi)?);
    } else {
        subproof(r, m - k, lo + k, hi, false, out)?;
        out.push(subtree_root(r, lo, lo + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2: verifies that `leaf` is at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                expected: inclusion_len(index, size),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            expected: inclusion_len(index, size),
        });
    }
    if r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Length of the inclusion proof of `index` in a tree of `size` (for error messages).
fn inclusion_len(index: u64, size: u64) -> usize {
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut len = 0;
    while sn != 0 {
        if fn_ & 1 == 0 && fn_ == sn {
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        }
        len += 1;
        fn_ >>= 1;
        sn >>= 1;
    }
    len
}

/// RFC 9162 §2.1.4.2: verifies that the tree (`size2`, `root2`) extends (`size1`, `root1`).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder {
            from: size1,
            to: size2,
        });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                expected: 0,
            });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if size1 == 0 {
        // Every tree extends the empty tree; RFC 9162 proofs from size 0 are empty.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength {
                got: proof.len(),
                expected: 0,
            })
        };
    }
    let wrong = |expected| ProofError::WrongLength {
        got: proof.len(),
        expected,
    };
    if proof.is_empty() {
        return Err(wrong(1));
    }
    // Step 1: if size1 is an exact power of two, prepend root1.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let mut fn_ = size1 - 1;
    let mut sn = size2 - 1;
    // Step 3: right-shift while LSB(fn) is set.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if sn == 0 {
            return Err(wrong(path.len() - 1));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong(path.len()));
    }
    if fr == *root1 && sr == *root2 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// A [`HashReader`] over all leaf hashes in memory; for tests and small audits.
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let next = levels
                .last()
                .map(|l| l.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect())
                .unwrap_or_default();
            levels.push(next);
        }
        Self { levels }
    }

    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }
}

impl HashReader for MemoryTree {
    type Error = std::convert::Infallible;
    fn node(&self, height: u8, index: u64) -> Result<Hash, Self::Error> {
        Ok(self.levels[height as usize][index as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u64) -> MemoryTree {
        MemoryTree::new((0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect())
    }

    /// The naive RFC 9162 definition, for comparison.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn roots_and_proofs_agree_with_the_definition_and_verify() {
        for n in 1..=70u64 {
            let t = tree(n);
            let leaves = &t.levels[0];
            let r = root(&t, n).unwrap();
            assert_eq!(r, mth(leaves), "root of {n}");
            for i in 0..n {
                let proof = inclusion_proof(&t, i, n).unwrap().unwrap();
                assert_eq!(proof.len(), inclusion_len(i, n));
                verify_inclusion(&leaves[i as usize], i, n, &proof, &r).unwrap();
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = node_hash(first, first);
                    assert!(verify_inclusion(&leaves[i as usize], i, n, &bad, &r).is_err());
                }
            }
            for m in 0..=n {
                let proof = consistency_proof(&t, m, n).unwrap().unwrap();
                let rm = mth(&leaves[..m as usize]);
                verify_consistency(m, n, &proof, &rm, &r).unwrap();
                if m > 0 && m < n {
                    let wrong_old = node_hash(&rm, &rm);
                    assert!(verify_consistency(m, n, &proof, &wrong_old, &r).is_err());
                    assert!(verify_consistency(m, n, &proof[1..], &rm, &r).is_err());
                }
            }
        }
    }

    #[test]
    fn out_of_range_requests_are_errors() {
        let t = tree(5);
        assert_eq!(
            inclusion_proof(&t, 5, 5).unwrap(),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert_eq!(
            consistency_proof(&t, 6, 5).unwrap(),
            Err(ProofError::SizesOutOfOrder { from: 6, to: 5 })
        );
    }
}
