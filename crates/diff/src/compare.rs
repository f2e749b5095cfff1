//! The comparison itself (rules in the crate docs).

use crate::{DiffOptions, HostDiff, HostSide, PortDiff, PortSide, ScanDiff, ScanSide};
use portolan_model::{HostResult, HostStatus, PortResult, PortState, ScanDocument};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Compares scan `a` (older) with scan `b` (newer).
pub fn diff(a: &ScanDocument, b: &ScanDocument, opts: DiffOptions) -> ScanDiff {
    let side = |d: &ScanDocument| ScanSide {
        version: d.info.version.clone(),
        args: d.info.args.clone(),
        start_time: d.info.start_time,
    };
    let mut hosts: BTreeMap<IpAddr, (Option<&HostResult>, Option<&HostResult>)> = BTreeMap::new();
    // A host written twice (several shards) counts as its last record.
    for h in &a.hosts {
        hosts.entry(h.addr).or_default().0 = Some(h);
    }
    for h in &b.hosts {
        hosts.entry(h.addr).or_default().1 = Some(h);
    }
    let mut out = ScanDiff {
        a: side(a),
        b: side(b),
        hosts: Vec::new(),
        not_compared: 0,
        flaps_suppressed: 0,
    };
    for (addr, (ha, hb)) in hosts {
        if let Some(d) = diff_host(addr, ha, hb, opts, &mut out.flaps_suppressed) {
            out.not_compared += d.not_compared;
            if d.differs() {
                out.hosts.push(d);
            }
        }
    }
    out
}

/// Compares one host of scan `a` with the same address in scan `b`
/// (either may be missing: a host in one scan only), by the crate's
/// rules; `None` when neither side has it. `flaps` counts the
/// `open|filtered` flaps left out. The host may not differ: see
/// [`HostDiff::differs`]. This is what [`diff`] does per address, for
/// callers that see one host at a time (the HTML report of a running
/// scan).
pub fn diff_host(
    addr: IpAddr,
    ha: Option<&HostResult>,
    hb: Option<&HostResult>,
    opts: DiffOptions,
    flaps: &mut u64,
) -> Option<HostDiff> {
    if ha.is_none() && hb.is_none() {
        return None;
    }
    let mut d = HostDiff {
        addr,
        a: ha.map(host_side),
        b: hb.map(host_side),
        ports: Vec::new(),
        not_compared: 0,
    };
    match (ha, hb) {
        (Some(ha), Some(hb)) if is_up(ha) && is_up(hb) => {
            compare_ports(ha, hb, opts, &mut d, flaps);
        }
        (Some(ha), Some(hb)) => {
            // Down (or unknown) in one: nothing is known of its ports there.
            d.not_compared = (ha.ports.len() + hb.ports.len()) as u64;
        }
        (Some(h), None) | (None, Some(h)) => {
            let a_side = ha.is_some();
            for p in h.ports.iter().filter(|p| p.state == PortState::Open) {
                let s = Some(port_side(p));
                let (a, b) = if a_side { (s, None) } else { (None, s) };
                d.ports.push(PortDiff {
                    port: p.port,
                    protocol: p.protocol,
                    a,
                    b,
                });
            }
        }
        (None, None) => {}
    }
    Some(d)
}

fn is_up(h: &HostResult) -> bool {
    h.status == HostStatus::Up
}

fn host_side(h: &HostResult) -> HostSide {
    let mut hostnames: Vec<String> = h.hostnames.iter().map(|n| n.name.clone()).collect();
    hostnames.dedup();
    HostSide {
        status: h.status,
        hostnames,
        os: h.os.as_ref().and_then(|o| o.best()).map(|m| m.name.clone()),
    }
}

fn port_side(p: &PortResult) -> PortSide {
    PortSide {
        state: p.state,
        service: p.service.as_ref().map(|s| match &s.tunnel {
            Some(t) => format!("{t}/{}", s.name),
            None => s.name.clone(),
        }),
        product: p.service.as_ref().and_then(|s| s.product.clone()),
        version: p.service.as_ref().and_then(|s| s.version.clone()),
        extrainfo: p.service.as_ref().and_then(|s| s.extrainfo.clone()),
    }
}

/// Whether the change from `a` to `b` is UDP-style flapping.
fn flap(a: PortState, b: PortState) -> bool {
    let vague = |s| {
        matches!(
            s,
            PortState::Closed | PortState::Filtered | PortState::ClosedFiltered
        )
    };
    (a == PortState::OpenFiltered && vague(b)) || (b == PortState::OpenFiltered && vague(a))
}

fn compare_ports(
    ha: &HostResult,
    hb: &HostResult,
    opts: DiffOptions,
    d: &mut HostDiff,
    flaps: &mut u64,
) {
    let mut a: Vec<&PortResult> = ha.ports.iter().collect();
    let mut b: Vec<&PortResult> = hb.ports.iter().collect();
    let key = |p: &&PortResult| (p.protocol, p.port);
    a.sort_by_key(key);
    b.sort_by_key(key);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(pa), Some(pb)) => key(pa).cmp(&key(pb)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                d.not_compared += 1;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                d.not_compared += 1;
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (pa, pb) = (a[i], b[j]);
                i += 1;
                j += 1;
                // The common case, without building anything.
                if pa.state == pb.state && same_service(pa, pb) {
                    continue;
                }
                if pa.state != pb.state && !opts.all && flap(pa.state, pb.state) {
                    *flaps += 1;
                    continue;
                }
                let (sa, sb) = (port_side(pa), port_side(pb));
                if differs(&sa, &sb) {
                    d.ports.push(PortDiff {
                        port: pa.port,
                        protocol: pa.protocol,
                        a: Some(sa),
                        b: Some(sb),
                    });
                }
            }
        }
    }
    d.ports.sort_by_key(|p| (p.port, p.protocol));
}

/// States differ, or both sides name a service and it differs. A side
/// without a service (nmap's "Not shown" ports carry none) does not
/// count as a change of service.
fn differs(a: &PortSide, b: &PortSide) -> bool {
    if a.state != b.state {
        return true;
    }
    match (&a.service, &b.service) {
        (Some(sa), Some(sb)) => {
            sa != sb
                || a.product != b.product
                || a.version != b.version
                || a.extrainfo != b.extrainfo
        }
        _ => false,
    }
}

/// Whether the services are the same as far as [`differs`] looks.
fn same_service(a: &PortResult, b: &PortResult) -> bool {
    match (&a.service, &b.service) {
        (Some(x), Some(y)) => {
            x.name == y.name
                && x.tunnel == y.tunnel
                && x.product == y.product
                && x.version == y.version
                && x.extrainfo == y.extrainfo
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::{Protocol, Reason, ScanInfo};

    fn doc(hosts: Vec<HostResult>) -> ScanDocument {
        let mut d = ScanDocument::new(ScanInfo {
            version: "0.1.0".into(),
            args: "portolan -sU 198.18.0.0/30".into(),
            start_time: 0,
            scans: Vec::new(),
            verbose: 0,
            debugging: 0,
        });
        d.hosts = hosts;
        d
    }

    fn host(last: u8, status: HostStatus, ports: &[(u16, PortState)]) -> HostResult {
        let mut h = HostResult::new(
            format!("198.18.0.{last}").parse().unwrap(),
            status,
            Reason::EchoReply,
        );
        for &(port, state) in ports {
            h.ports.push(PortResult {
                port,
                protocol: Protocol::Udp,
                state,
                reason: Reason::NoResponse,
                reason_ttl: 0,
                service: None,
            });
        }
        h
    }

    use PortState::{Closed, Open, OpenFiltered};

    fn with_os(mut h: HostResult, name: Option<&str>) -> HostResult {
        h.os = Some(match name {
            Some(n) => portolan_model::OsReport {
                matches: vec![portolan_model::OsMatch {
                    name: n.into(),
                    accuracy: 100,
                    classes: Vec::new(),
                }],
                ..Default::default()
            },
            None => portolan_model::OsReport::not_enough("not enough evidence"),
        });
        h
    }

    #[test]
    fn a_different_os_is_a_change_and_a_missing_answer_is_not_compared() {
        let up = || host(1, HostStatus::Up, &[(53, Open)]);
        let a = doc(vec![with_os(up(), Some("Linux 6.18"))]);
        let b = doc(vec![with_os(up(), Some("FreeBSD 14"))]);
        let d = diff(&a, &b, DiffOptions::default());
        assert!(d.hosts[0].os_changed());
        let mut text = Vec::new();
        crate::text::write_text(&mut text, &d).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("-OS details:\n-  Linux 6.18\n+OS details:\n+  FreeBSD 14\n"),
            "{text}"
        );
        let mut xml = Vec::new();
        crate::xml::write_xml(&mut xml, &d).unwrap();
        let xml = String::from_utf8(xml).unwrap();
        assert!(
            xml.contains("<a><os><osmatch name=\"Linux 6.18\"/></os></a>"),
            "{xml}"
        );
        // No answer on one side (no -O, or not enough evidence): no change.
        for other in [doc(vec![up()]), doc(vec![with_os(up(), None)])] {
            assert!(diff(&a, &other, DiffOptions::default()).hosts.is_empty());
        }
    }

    #[test]
    fn open_filtered_flapping_is_left_out_unless_all() {
        let a = doc(vec![host(
            1,
            HostStatus::Up,
            &[(53, OpenFiltered), (161, Closed), (500, Closed)],
        )]);
        let b = doc(vec![host(
            1,
            HostStatus::Up,
            &[(53, Closed), (161, OpenFiltered), (500, Open)],
        )]);
        let d = diff(&a, &b, DiffOptions::default());
        assert_eq!(d.flaps_suppressed, 2);
        let ports: Vec<u16> = d.hosts[0].ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, [500]);
        let all = diff(&a, &b, DiffOptions { all: true });
        assert_eq!(all.flaps_suppressed, 0);
        assert_eq!(all.hosts[0].ports.len(), 3);
    }

    #[test]
    fn a_host_down_in_one_scan_has_its_ports_not_compared() {
        let a = doc(vec![host(1, HostStatus::Up, &[(53, Open), (161, Closed)])]);
        let b = doc(vec![host(1, HostStatus::Down, &[])]);
        let d = diff(&a, &b, DiffOptions::default());
        assert!(d.hosts[0].status_changed());
        assert!(d.hosts[0].ports.is_empty());
        assert_eq!(d.not_compared, 2);
    }

    #[test]
    fn hosts_in_one_scan_only_show_their_open_ports() {
        let a = doc(vec![host(1, HostStatus::Up, &[(53, Open), (161, Closed)])]);
        let b = doc(vec![host(2, HostStatus::Up, &[(67, Open)])]);
        let d = diff(&a, &b, DiffOptions::default());
        assert_eq!(d.hosts.len(), 2);
        assert!(d.hosts[0].b.is_none() && d.hosts[0].ports.len() == 1);
        assert!(d.hosts[1].a.is_none() && d.hosts[1].ports[0].port == 67);
        assert!(diff(&a, &a, DiffOptions::default()).hosts.is_empty());
    }
}
