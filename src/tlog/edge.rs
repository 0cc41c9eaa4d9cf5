//! The right edge of a tiled tree: the last, incomplete tile of every level. It is all that is
//! needed to append leaves and to compute the root, and it is O(log n) in size (at most
//! 8 levels × 255 hashes). The sequencer and the auditor share it.

use super::merkle::{self, Hash, HashReader};
use super::tiles::{MAX_LEVEL, TILE_HEIGHT, TILE_WIDTH};

/// A tile that became full while pushing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedTile {
    pub level: u8,
    pub index: u64,
    pub hashes: Vec<Hash>,
}

/// Number of level-`level` hashes in a tree of `size` leaves.
pub fn level_count(size: u64, level: u8) -> u64 {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    if shift >= 64 { 0 } else { size >> shift }
}

/// Root of the perfect subtree `node(height, index)` from the level tile that holds its hashes:
/// with `height = 8·L + r`, it is the root of the `2^r` level-`L` hashes from `index·2^r`, which
/// always lie in one tile. `tile` is that tile's hashes (any prefix long enough).
pub fn node_in_tile(height: u8, index: u64, tile: &[Hash]) -> Option<Hash> {
    let r = height % TILE_HEIGHT;
    let first = index << r;
    let offset = (first % TILE_WIDTH) as usize;
    let n = 1usize << r;
    tile.get(offset..offset + n).map(merkle::perfect_root)
}

/// Every node hash one tile determines: `levels[r]` holds the hashes of height `8·L + r` over
/// the tile's complete pairs, quadruples, … (a partial tile determines fewer). Built once per
/// tile read, so that a proof touching many nodes of one tile hashes it once.
#[derive(Debug, Clone)]
pub struct TileTree {
    levels: Vec<Vec<Hash>>,
}

impl TileTree {
    pub fn new(hashes: Vec<Hash>) -> Self {
        let mut levels = vec![hashes];
        while levels.len() <= usize::from(TILE_HEIGHT) {
            let below = &levels[levels.len() - 1];
            if below.len() < 2 {
                break;
            }
            let next = below
                .chunks_exact(2)
                .map(|p| merkle::node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        Self { levels }
    }

    /// Node `(height, index)` if this tile (the one [`tile_of_node`] names) determines it.
    pub fn node(&self, height: u8, index: u64) -> Option<Hash> {
        let r = height % TILE_HEIGHT;
        let offset = ((index << r) % TILE_WIDTH) >> r;
        self.levels
            .get(usize::from(r))
            .and_then(|l| l.get(offset as usize))
            .copied()
    }
}

/// The tile (level, index) that holds node `(height, index)`.
pub fn tile_of_node(height: u8, index: u64) -> (u8, u64) {
    let r = height % TILE_HEIGHT;
    (height / TILE_HEIGHT, (index << r) / TILE_WIDTH)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edge {
    size: u64,
    /// `levels[L]`: the hashes of the last, incomplete tile of level `L` (fewer than 256).
    levels: Vec<Vec<Hash>>,
}

impl Edge {
    /// An edge from stored partial tiles; `levels[L]` must hold `level_count(size, L) % 256`
    /// hashes.
    pub fn from_parts(size: u64, levels: Vec<Vec<Hash>>) -> Option<Self> {
        for (level, hashes) in levels.iter().enumerate() {
            if level > usize::from(MAX_LEVEL)
                || hashes.len() as u64 != level_count(size, level as u8) % TILE_WIDTH
            {
                return None;
            }
        }
        Some(Self { size, levels })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The incomplete tiles: (level, tile index, hashes), non-empty ones only.
    pub fn partial_tiles(&self) -> impl Iterator<Item = (u8, u64, &[Hash])> {
        self.levels
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(level, h)| {
                let level = level as u8;
                (
                    level,
                    level_count(self.size, level) / TILE_WIDTH,
                    h.as_slice(),
                )
            })
    }

    /// The current tile of `level` if `index` is it.
    pub fn tile(&self, level: u8, index: u64) -> Option<&[Hash]> {
        (index == level_count(self.size, level) / TILE_WIDTH)
            .then(|| self.levels.get(usize::from(level)).map(Vec::as_slice))
            .flatten()
    }

    /// Appends a leaf hash; returns the tiles it completed (lowest level first).
    pub fn push(&mut self, leaf: Hash) -> Vec<CompletedTile> {
        let mut completed = Vec::new();
        let mut carry = leaf;
        let mut level = 0u8;
        loop {
            let l = usize::from(level);
            if self.levels.len() <= l {
                self.levels.push(Vec::with_capacity(TILE_WIDTH as usize));
            }
            let index = level_count(self.size, level) / TILE_WIDTH;
            self.levels[l].push(carry);
            if self.levels[l].len() < TILE_WIDTH as usize {
                break;
            }
            let hashes = std::mem::take(&mut self.levels[l]);
            carry = merkle::perfect_root(&hashes);
            completed.push(CompletedTile {
                level,
                index,
                hashes,
            });
            level += 1;
        }
        self.size += 1;
        completed
    }

    /// The root of the tree of the current size.
    pub fn root(&self) -> Hash {
        struct Reader<'a>(&'a Edge);
        impl HashReader for Reader<'_> {
            type Error = ();
            fn node(&self, height: u8, index: u64) -> Result<Hash, ()> {
                let (level, tile) = tile_of_node(height, index);
                self.0
                    .tile(level, tile)
                    .and_then(|t| node_in_tile(height, index, t))
                    .ok_or(())
            }
        }
        // The root decomposes into perfect subtrees along the right edge, whose hashes all lie
        // in the last tile of their level.
        merkle::root(&Reader(self), self.size)
            .unwrap_or_else(|()| unreachable!("right-edge nodes lie in the edge tiles"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::{MemoryTree, leaf_hash, root};

    #[test]
    fn tile_trees_give_the_same_nodes_as_direct_hashing() {
        let hashes: Vec<Hash> = (0u64..200).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let tree = TileTree::new(hashes.clone());
        for height in 8u8..16 {
            let r = height % 8;
            for index in 0..(256u64 >> r) {
                // Tile 3 of level 1 holds nodes of heights 8..=15 from index 3·256 >> r.
                let global = ((3 * 256) >> r) + index;
                assert_eq!(
                    tree.node(height, global),
                    node_in_tile(height, global, &hashes),
                    "{height}/{global}"
                );
            }
        }
    }

    #[test]
    fn edge_root_matches_the_full_tree_across_tile_boundaries() {
        let mut edge = Edge::default();
        let mut leaves = Vec::new();
        let mut completed = 0;
        for i in 0u64..70_000 {
            let leaf = leaf_hash(&i.to_le_bytes());
            leaves.push(leaf);
            completed += edge.push(leaf).len();
            let n = i + 1;
            if n < 600 || n % 4099 == 0 || n == 65_536 || n == 65_537 {
                let tree = MemoryTree::new(leaves.clone());
                assert_eq!(edge.root(), root(&tree, n).unwrap(), "size {n}");
            }
        }
        // 273 full level-0 tiles and 1 full level-1 tile.
        assert_eq!(completed, 70_000 / 256 + 1);
        let parts: Vec<_> = edge
            .partial_tiles()
            .map(|(l, i, h)| (l, i, h.len()))
            .collect();
        assert_eq!(
            parts,
            vec![(0, 273, 70_000 % 256), (1, 1, 273 - 256), (2, 0, 1)]
        );
    }
}
