//! The technique registry, row by row: each row's module reports the
//! row's scan type and protocol, its no-reply rule is nmap's documented
//! one (written here independently of the rows), and every scan type and
//! every `-s` flag of the model has exactly one row.

use portolan_model::{PortState, PortState::*, Protocol, Reason, ScanType};
use portolan_probes::registry::{by_flag, lookup, module, Privilege, TECHNIQUES};
use portolan_probes::TcpFlagScan;

/// What silence means, as nmap's documentation of each technique says.
const NMAP_NO_REPLY: &[(ScanType, PortState)] = &[
    (ScanType::Syn, Filtered),
    (ScanType::Connect, Filtered),
    (ScanType::Ack, Filtered),
    (ScanType::Window, Filtered),
    (ScanType::Maimon, OpenFiltered),
    (ScanType::Udp, OpenFiltered),
    (ScanType::Null, OpenFiltered),
    (ScanType::Fin, OpenFiltered),
    (ScanType::Xmas, OpenFiltered),
    (ScanType::Custom, Filtered),
    (ScanType::SctpInit, Filtered),
];

#[test]
fn every_scan_type_has_one_row_with_its_flag_and_protocol() {
    let mut all = ScanType::ALL.to_vec();
    all.push(ScanType::Custom);
    assert_eq!(TECHNIQUES.len(), all.len());
    for t in all {
        let rows: Vec<_> = TECHNIQUES.iter().filter(|r| r.scan_type == t).collect();
        assert_eq!(rows.len(), 1, "{t:?}");
        let r = lookup(t);
        assert_eq!(r.flag, t.flag(), "{t:?}");
        assert_eq!(r.protocol, t.protocol(), "{t:?}");
        assert_eq!(r.privilege == Privilege::Raw, t.is_raw(), "{t:?} privilege");
        assert_eq!(by_flag(r.flag).map(|r| r.scan_type), Some(t));
        assert!(!r.name.is_empty());
    }
    assert!(by_flag("-sZ").is_none());
}

#[test]
fn each_row_builds_a_module_of_its_technique() {
    for r in TECHNIQUES {
        let flags = (r.scan_type == ScanType::Custom).then_some(0x29);
        match r.module(flags) {
            None => {
                assert_eq!(r.scan_type, ScanType::Connect);
                assert_eq!(r.privilege, Privilege::None);
            }
            Some(m) => {
                assert_eq!(m.scan_type(), r.scan_type, "{}", r.flag);
                assert_eq!(m.protocol(), r.protocol, "{}", r.flag);
                assert_eq!(m.no_reply(), r.no_reply, "{}", r.flag);
            }
        }
        assert_eq!(
            module(r.scan_type, flags).map(|m| m.scan_type()),
            r.module(flags).map(|m| m.scan_type())
        );
    }
}

#[test]
fn no_reply_rules_are_nmaps() {
    assert_eq!(NMAP_NO_REPLY.len(), TECHNIQUES.len());
    for &(t, state) in NMAP_NO_REPLY {
        assert_eq!(lookup(t).no_reply, (state, Reason::NoResponse), "{t:?}");
    }
}

#[test]
fn scanflags_reach_the_tcp_modules() {
    // `--scanflags` with a base technique keeps the base's rules; alone it
    // is a custom scan with SYN's.
    let fin = TcpFlagScan::new(portolan_probes::TcpScanKind::Fin, Some(0x29));
    let m = module(ScanType::Fin, Some(0x29)).unwrap();
    assert_eq!(m.scan_type(), ScanType::Fin);
    assert_eq!(m.no_reply(), portolan_engine::ProbeModule::no_reply(&fin));
    assert_eq!(
        module(ScanType::Custom, Some(0x29)).unwrap().scan_type(),
        ScanType::Custom
    );
    // Techniques that are not TCP ignore them.
    let udp = module(ScanType::Udp, Some(0x29)).unwrap();
    assert_eq!(udp.protocol(), Protocol::Udp);
    let sctp = module(ScanType::SctpInit, Some(0x29)).unwrap();
    assert_eq!(sctp.protocol(), Protocol::Sctp);
}
