//! `-PY` (SCTP INIT ping) through the binary against a namespace testbed:
//! a Linux target without SCTP in its kernel answers the INIT with ICMP
//! protocol unreachable (IPv6: parameter problem), so it is up with reason
//! `proto-unreach`, over IPv4 and IPv6; a target whose nftables drop SCTP
//! is down. Needs root and a kernel without SCTP (with it the target would
//! answer ABORT); skipped, saying so, otherwise.

mod common;
use portolan_testbed::{require_root, Rule, Testbed};
use std::process::Output;

const NO_SCTP: usize = 0;
const DROPS_SCTP: usize = 1;

fn kernel_has_sctp() -> bool {
    std::path::Path::new("/proc/net/sctp").exists()
}

fn testbed() -> Testbed {
    let mut tb = Testbed::builder("pysctp")
        .targets(2)
        .build()
        .expect("testbed");
    tb.target(DROPS_SCTP)
        .unwrap()
        .nft(Rule::Raw {
            output: false,
            text: "meta l4proto sctp drop".into(),
        })
        .unwrap();
    tb
}

fn portolan(tb: &Testbed, args: &[&str], target: &str) -> Output {
    let mut all = vec!["-n", "-T4", "--max-retries", "1", "--disable-arp-ping"];
    all.extend_from_slice(args);
    all.push(target);
    common::run_in_scanner(tb, &all)
}

/// The (state, reason) of the one host of an XML report.
fn status(out: &Output) -> (String, String) {
    let xml = common::stdout(out);
    let doc = common::parse_xml(&xml);
    let st = doc
        .descendants()
        .find(|n| n.has_tag_name("status"))
        .unwrap_or_else(|| panic!("a host status in {xml}"));
    (
        st.attribute("state").unwrap_or_default().to_string(),
        st.attribute("reason").unwrap_or_default().to_string(),
    )
}

#[test]
fn sctp_ping_finds_a_host_without_sctp_and_not_one_that_drops_it() {
    if !require_root() {
        return;
    }
    if !portolan_testbed::skip_unless(
        !kernel_has_sctp(),
        "this kernel speaks SCTP, so targets answer ABORT, not ICMP",
    ) {
        return;
    }
    let tb = testbed();
    let up = ("up".to_string(), "proto-unreach".to_string());
    let t4 = tb.target_addr(NO_SCTP).to_string();
    let t6 = tb.target_addr6(NO_SCTP).to_string();
    for args in [
        &["-sn", "-PY", "-oX", "-"][..],
        &["-sn", "-PY2905,80", "-oX", "-"],
    ] {
        assert_eq!(status(&portolan(&tb, args, &t4)), up, "{args:?} {t4}");
    }
    assert_eq!(
        status(&portolan(&tb, &["-6", "-sn", "-PY", "-oX", "-"], &t6)),
        up,
        "{t6}"
    );
    // --reason in normal output names it as nmap does.
    let out = portolan(&tb, &["-sn", "-PY", "--reason"], &t4);
    let text = common::stdout(&out);
    assert!(
        text.contains("Host is up, received proto-unreach"),
        "{text}"
    );
    // A host that drops SCTP is down.
    let dropped = tb.target_addr(DROPS_SCTP).to_string();
    let out = portolan(&tb, &["-sn", "-PY", "-v", "-oX", "-"], &dropped);
    assert_eq!(status(&out).0, "down");
}

#[test]
fn sctp_ping_then_port_scan() {
    if !require_root() {
        return;
    }
    if !portolan_testbed::skip_unless(!kernel_has_sctp(), "this kernel speaks SCTP") {
        return;
    }
    let mut tb = testbed();
    tb.target(NO_SCTP).unwrap().tcp_listen(&[22]).unwrap();
    let t4 = tb.target_addr(NO_SCTP).to_string();
    let out = portolan(&tb, &["-PY", "-sS", "-p", "22", "-oX", "-"], &t4);
    let xml = common::stdout(&out);
    assert!(xml.contains(r#"reason="proto-unreach""#), "{xml}");
    assert!(
        xml.contains(r#"<state state="open" reason="syn-ack""#),
        "{xml}"
    );
}
