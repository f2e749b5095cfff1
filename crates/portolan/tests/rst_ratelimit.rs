//! A target whose firewall rate-limits its TCP resets (nftables `limit
//! rate over 200/second drop` on outgoing RSTs): a SYN scan must name every
//! closed port closed, in about ports / rate seconds, and say why it was
//! slow (`<ratelimit proto="tcp" reply="reset">`).

mod common;

use portolan_testbed::{require_root, Testbed};
use std::net::IpAddr;
use std::time::{Duration, Instant};

const OPEN: [u16; 2] = [22, 80];
const RATE: u32 = 200;
const PORTS: u16 = 1000;

#[test]
fn reset_rate_limited_target_gets_every_port_exactly() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("rstrl").expect("testbed");
    tb.target(0)
        .unwrap()
        .tcp_listen(&OPEN)
        .unwrap()
        .nft_rst_rate_limit(RATE)
        .unwrap();
    let target = IpAddr::V4(tb.target_addr(0));
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["-sS", "-Pn", "-n", "-oX", "-", "-p"]);
    cmd.arg(format!("1-{PORTS}"));
    cmd.arg(target.to_string());
    let t0 = Instant::now();
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    let elapsed = t0.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    let doc = common::parse_xml(&xml);
    let states = common::port_states(&doc);
    // Closed ports may also be summarised in <extraports>; count them there.
    let extra_closed: u32 = doc
        .descendants()
        .filter(|n| n.has_tag_name("extraports") && n.attribute("state") == Some("closed"))
        .filter_map(|n| n.attribute("count")?.parse::<u32>().ok())
        .sum();
    let listed_closed = states.values().filter(|(s, _)| s == "closed").count() as u32;
    let wrong: Vec<_> = states
        .iter()
        .filter(|(p, (s, _))| {
            let want = if OPEN.contains(p) { "open" } else { "closed" };
            s != want
        })
        .collect();
    assert!(wrong.is_empty(), "wrong states: {wrong:?}\n{xml}");
    for p in OPEN {
        assert_eq!(states.get(&p).map(|s| s.0.as_str()), Some("open"), "{p}");
    }
    assert_eq!(
        listed_closed + extra_closed,
        u32::from(PORTS) - OPEN.len() as u32,
        "{xml}"
    );
    let rl = doc
        .descendants()
        .find(|n| n.has_tag_name("ratelimit"))
        .expect("the rate limit is reported");
    assert_eq!(rl.attribute("proto"), Some("tcp"));
    assert_eq!(rl.attribute("reply"), Some("reset"));
    let persec: f64 = rl.attribute("persec").unwrap().parse().unwrap();
    assert!(
        (f64::from(RATE) * 0.7..=f64::from(RATE) * 1.3).contains(&persec),
        "{persec}"
    );
    // ports / rate, plus slack for detection and a loaded CI machine.
    let bound = Duration::from_secs_f64(f64::from(PORTS) / f64::from(RATE) * 1.5 + 5.0);
    assert!(elapsed < bound, "{elapsed:?} > {bound:?}");
}
