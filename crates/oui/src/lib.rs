//! MAC address vendors, from the IEEE Registration Authority's public
//! listing.
//!
//! nmap prints the maker of an Ethernet neighbour's network card next to
//! its MAC address ("MAC Address: 3C:07:54:00:00:01 (Apple)"). The maker
//! is whoever the IEEE assigned the address's prefix to: a 24-bit MA-L
//! block, or a 28-bit MA-M or 36-bit MA-S / IAB block carved out of one.
//!
//! Why a data file compiled in: the table (`data/oui.tsv`, about 46 000
//! prefixes, ~1.2 MB) is generated from Debian's `ieee-data` package by
//! `scripts/gen-oui.py`, whose header states the listing's version and
//! date, and is committed, so builds need neither the package nor the
//! network. It is embedded with `include_str!` and parsed on the first
//! lookup only (a few milliseconds), so programs that never print a MAC
//! pay nothing. Lookups are three binary searches, longest prefix first.
//!
//! ```
//! assert_eq!(portolan_oui::vendor([0x00, 0x0c, 0x29, 0x12, 0x34, 0x56]), Some("VMware"));
//! ```

use std::sync::OnceLock;

/// The generated table: `#` comment lines, then `HEX\tName` per prefix.
const DATA: &str = include_str!("../data/oui.tsv");

/// Prefix lengths in bits, longest first (MA-S/IAB, MA-M, MA-L).
const LENGTHS: [u32; 3] = [36, 28, 24];

/// One sorted table per prefix length, in [`LENGTHS`] order.
struct Tables {
    by_len: [Vec<(u64, &'static str)>; 3],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| parse(DATA))
}

/// Parses the table; lines that are not `HEX\tName` with 6, 7 or 9 hex
/// digits are skipped (the file is ours, but a bad line must not panic).
fn parse(data: &'static str) -> Tables {
    let mut by_len: [Vec<(u64, &'static str)>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for line in data.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some((hex, name)) = line.split_once('\t') else {
            continue;
        };
        let slot = match hex.len() {
            9 => 0,
            7 => 1,
            6 => 2,
            _ => continue,
        };
        let Ok(prefix) = u64::from_str_radix(hex, 16) else {
            continue;
        };
        if !name.is_empty() {
            by_len[slot].push((prefix, name));
        }
    }
    for t in &mut by_len {
        t.sort_unstable_by_key(|&(p, _)| p);
        t.dedup_by_key(|&mut (p, _)| p);
    }
    Tables { by_len }
}

/// The organisation the IEEE assigned `mac`'s prefix to, by longest
/// prefix match (36, then 28, then 24 bits); `None` for unassigned
/// prefixes. Locally administered addresses (random ones of veth pairs
/// and VMs) are looked up too: a few early assignments have that bit set,
/// and a random address rarely hits one.
pub fn vendor(mac: [u8; 6]) -> Option<&'static str> {
    let v = mac.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    let t = tables();
    LENGTHS.iter().zip(&t.by_len).find_map(|(&bits, table)| {
        let key = v >> (48 - bits);
        table
            .binary_search_by_key(&key, |&(p, _)| p)
            .ok()
            .map(|i| table[i].1)
    })
}

/// The number of prefixes of each length in the table: (24-bit, 28-bit,
/// 36-bit).
pub fn counts() -> (usize, usize, usize) {
    let t = tables();
    (t.by_len[2].len(), t.by_len[1].len(), t.by_len[0].len())
}

/// The header of the data file: where the table comes from and when.
pub fn source() -> impl Iterator<Item = &'static str> {
    DATA.lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_skipped_not_fatal() {
        let t = parse("# c\nzz\tX\n00000\tShort\n0A0B0C\t\n0A0B0C\tGood\nnot a line\n");
        assert_eq!(t.by_len[2], vec![(0x0a0b0c, "Good")]);
        assert!(t.by_len[0].is_empty() && t.by_len[1].is_empty());
    }
}
