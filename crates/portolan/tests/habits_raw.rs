//! nmap's habits in raw scans, in throwaway namespaces: each host's own
//! latency.

mod common;
use portolan_testbed::{require_root, Testbed};
use std::time::Duration;

#[test]
fn raw_scans_show_each_hosts_measured_latency() {
    if !require_root() {
        return;
    }
    // 30 ms each way: about 0.060 s a round trip.
    let mut tb = Testbed::builder("lat")
        .delay(Duration::from_millis(30))
        .build()
        .expect("testbed");
    tb.target(0).unwrap().tcp_listen(&[22]).unwrap();
    let t = tb.target_addr(0).to_string();
    for flags in [&["-sS"][..], &["-sS", "-Pn"], &["-sn"]] {
        let mut args = vec!["-n", "-p22,23", "-oX", "-"];
        if flags.contains(&"-sn") {
            args.remove(1);
        }
        args.extend(flags);
        args.push(&t);
        let out = common::run_in_scanner(&tb, &args);
        let xml = common::stdout(&out);
        let doc = common::parse_xml(&xml);
        let times = doc
            .descendants()
            .find(|n| n.has_tag_name("times"))
            .unwrap_or_else(|| panic!("{flags:?}: no <times> in {xml}"));
        let srtt: f64 = times.attribute("srtt").unwrap().parse().unwrap();
        // nmap writes microseconds.
        assert!(
            (50_000.0..200_000.0).contains(&srtt),
            "{flags:?}: srtt {srtt} in {xml}"
        );
    }
}

#[test]
fn raw_latency_is_the_round_trip_not_the_receive_rings_delay() {
    if !require_root() {
        return;
    }
    // Straight veth links: a round trip takes well under a millisecond;
    // the receive ring hands packets over up to 2 ms late, which the
    // latency must not include.
    let mut tb = Testbed::new("lat0").expect("testbed");
    tb.target(0).unwrap().tcp_listen(&[22]).unwrap();
    let t = tb.target_addr(0).to_string();
    for flags in [&["-sS", "-Pn"][..], &["-sS", "-PE", "--disable-arp-ping"]] {
        let mut args = vec!["-n", "-p22,23", "-oX", "-"];
        args.extend(flags);
        args.push(&t);
        let out = common::run_in_scanner(&tb, &args);
        let xml = common::stdout(&out);
        let doc = common::parse_xml(&xml);
        let times = doc
            .descendants()
            .find(|n| n.has_tag_name("times"))
            .unwrap_or_else(|| panic!("{flags:?}: no <times> in {xml}"));
        let srtt: f64 = times.attribute("srtt").unwrap().parse().unwrap();
        assert!(srtt < 1_000.0, "{flags:?}: srtt {srtt} µs in {xml}");
    }
}
