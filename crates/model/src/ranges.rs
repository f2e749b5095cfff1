//! Port lists as nmap writes them.

use std::fmt::Write;

/// Formats ports as nmap's compact range list (`1-1024,3306,8080-8081`),
/// as in XML `scaninfo services` and `extrareasons ports`. Input order and
/// duplicates do not matter; an empty list gives an empty string.
pub fn format_ranges(ports: &[u16]) -> String {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end.wrapping_add(1) && end != u16::MAX {
            end = sorted[i + 1];
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format_ranges;

    #[test]
    fn ranges_are_compact_sorted_and_deduplicated() {
        assert_eq!(format_ranges(&[]), "");
        assert_eq!(
            format_ranges(&[80, 22, 23, 24, 80, 65535, 0]),
            "0,22-24,80,65535"
        );
        assert_eq!(format_ranges(&[65534, 65535]), "65534-65535");
    }
}
