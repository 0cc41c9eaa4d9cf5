//! C2SP tlog-tiles addressing: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, with `N`
//! written in groups of three digits, all but the last prefixed by `x` (`1234067` →
//! `x001/x234/067`). Tiles are 256 hashes wide; a partial tile is a prefix of the full one.

/// Hashes (or entries) per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Height of one tile level in the tree.
pub const TILE_HEIGHT: u8 = 8;
/// Highest hash tile level a 64-bit tree can need.
pub const MAX_LEVEL: u8 = 7;
/// Highest level a tile path may name (C2SP tlog-tiles: 0 to 63).
pub const MAX_PATH_LEVEL: u8 = 63;

/// Which kind of tile a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// A hash tile at level `L`.
    Hashes(u8),
    /// An entry bundle.
    Entries,
}

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    pub kind: TileKind,
    pub index: u64,
    /// `None` for a full tile, `Some(1..=255)` for a partial one.
    pub width: Option<u8>,
}

impl TilePath {
    /// Number of hashes or entries the tile holds.
    pub fn count(&self) -> u64 {
        self.width.map_or(TILE_WIDTH, u64::from)
    }

    /// The path below `tile/`, e.g. `0/x001/234.p/5` or `entries/000`.
    pub fn encode(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes(l) => l.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut s = format!("{level}/{}", encode_index(self.index));
        if let Some(w) = self.width {
            s.push_str(&format!(".p/{w}"));
        }
        s
    }

    /// Parses the path below `tile/`. The error says what is wrong.
    pub fn parse(path: &str) -> Result<Self, String> {
        let (level, rest) = path
            .split_once('/')
            .ok_or("a tile path is <L>/<N>[.p/<W>] or entries/<N>[.p/<W>]")?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = parse_decimal(level).ok_or("the tile level must be a decimal number")?;
            if l > u64::from(MAX_PATH_LEVEL) {
                return Err(format!("tile level {l} is outside 0..={MAX_PATH_LEVEL}"));
            }
            TileKind::Hashes(l as u8)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            None => (rest, None),
            Some((index_part, w)) => {
                let w = parse_decimal(w).ok_or("the partial width must be a decimal number")?;
                if !(1..=255).contains(&w) {
                    return Err(format!("partial width {w} is outside 1..=255"));
                }
                (index_part, Some(w as u8))
            }
        };
        let index = parse_index(index_part)?;
        Ok(Self { kind, index, width })
    }
}

/// Decimal without sign or leading zeros ("0" itself is fine).
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// `N` as `x`-prefixed three-digit groups.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn parse_index(s: &str) -> Result<u64, String> {
    let err = || format!("tile index {s:?} is not <x000/>…<000> (three-digit groups)");
    let groups: Vec<&str> = s.split('/').collect();
    if groups.len() > 7 {
        return Err(err());
    }
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let last = i + 1 == groups.len();
        let digits = if last {
            *g
        } else {
            g.strip_prefix('x').ok_or_else(err)?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let d: u64 = digits.parse().map_err(|_| err())?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(d))
            .ok_or_else(err)?;
    }
    // The canonical encoding has no leading zero group ("x000/001" is not 1).
    if encode_index(n) != s {
        return Err(err());
    }
    Ok(n)
}

/// Appends one entry to an entry bundle: big-endian u16 length, then the bytes.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) {
    debug_assert!(entry.len() <= usize::from(u16::MAX));
    bundle.extend_from_slice(&(entry.len() as u16).to_be_bytes());
    bundle.extend_from_slice(entry);
}

/// Splits an entry bundle into its entries; `None` if it is malformed.
pub fn split_bundle(bundle: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + len || out.len() >= TILE_WIDTH as usize {
            return None;
        }
        out.push(&rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_matches_the_spec_examples() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
        for n in [0, 1, 999, 1000, 1234067, u64::MAX] {
            assert_eq!(parse_index(&encode_index(n)).unwrap(), n);
        }
    }

    #[test]
    fn paths_parse_and_bad_paths_are_refused() {
        let p = TilePath::parse("1/x001/234.p/7").unwrap();
        assert_eq!(
            p,
            TilePath {
                kind: TileKind::Hashes(1),
                index: 1234,
                width: Some(7)
            }
        );
        assert_eq!(p.encode(), "1/x001/234.p/7");
        let e = TilePath::parse("entries/005").unwrap();
        assert_eq!(e.kind, TileKind::Entries);
        for bad in [
            "",
            "0",
            "0/",
            "0/5",
            "0/0005",
            "0/x000/005",
            "0/005.p/0",
            "0/005.p/256",
            "0/005.p/",
            "0/005.p/07",
            "64/000",
            "-1/000",
            "a/000",
            "0/x1/000",
            "0/x999/x999/x999/x999/x999/x999/x999/999",
            "0/x018/x446/x744/x073/x709/x551/616",
            "entries/00a",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bundles_roundtrip() {
        let mut b = Vec::new();
        push_bundle_entry(&mut b, b"one");
        push_bundle_entry(&mut b, b"");
        assert_eq!(split_bundle(&b).unwrap(), vec![&b"one"[..], &b""[..]]);
        assert!(split_bundle(&b[..b.len() - 1]).is_none());
    }
}
