//! Lookups of well-known prefixes against the shipped table.

use portolan_oui::{counts, source, vendor};

#[test]
fn well_known_ma_l_prefixes() {
    assert_eq!(vendor([0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]), Some("VMware"));
    assert_eq!(vendor([0x3c, 0x07, 0x54, 0, 0, 1]), Some("Apple"));
    assert_eq!(vendor([0x00, 0x00, 0x0c, 1, 2, 3]), Some("Cisco Systems"));
    assert_eq!(
        vendor([0x08, 0x00, 0x27, 1, 2, 3]),
        Some("PCS Systemtechnik")
    );
}

#[test]
fn longer_prefixes_win() {
    // 70:B3:D5 is an IEEE-held MA-L whose 36-bit MA-S blocks are assigned.
    assert_eq!(
        vendor([0x70, 0xb3, 0xd5, 0x00, 0x00, 0x00]),
        Some("IEEE Registration Authority")
    );
    let mas = vendor([0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0x01]);
    assert_eq!(mas, Some("TELEPLATFORMS"));
    // An MA-M (28-bit) block.
    assert_eq!(vendor([0x20, 0x85, 0x93, 0xb0, 0, 1]), Some("IOG Products"));
}

#[test]
fn unassigned_prefixes_have_no_vendor() {
    assert_eq!(vendor([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff]), None);
    assert_eq!(vendor([0xff; 6]), None);
    // An early assignment with the locally-administered bit set.
    assert_eq!(vendor([0x02, 0x60, 0x8c, 1, 2, 3]), Some("3COM"));
}

#[test]
fn table_is_complete_and_says_where_it_comes_from() {
    let (l, m, s) = counts();
    assert!(l > 30_000, "{l} MA-L prefixes");
    assert!(m > 4_000, "{m} MA-M prefixes");
    assert!(s > 9_000, "{s} MA-S and IAB prefixes");
    let header: Vec<&str> = source().collect();
    assert!(header
        .iter()
        .any(|l| l.contains("IEEE Registration Authority")));
    assert!(header.iter().any(|l| l.contains("ieee-data")));
}
