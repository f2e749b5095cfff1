//! Host discovery: which targets are up, before any port is scanned.
//!
//! Why it is a scan of its own: the ping probes are probe modules like the
//! port scans, so one engine scan whose techniques are the chosen pings
//! gets rate control, retransmission, validation and permutation for free.
//! A host is up when any of its probes got an answer, and the engine stops
//! pinging it at that answer (`ScanPlan::decide_on_answer`). The port scan
//! runs over up hosts only, pipelined with discovery through
//! [`portolan_engine::Pipeline`], so a down host costs no port probes.
//! ARP and ND (`-PR`, and the default on a directly connected Ethernet
//! segment) are probe modules of the link layer, in the same scan (see the
//! `neighbours` module); their replies carry the MAC, whose vendor is
//! looked up here.

use portolan_engine::{HostTarget, TechniquePlan};
use portolan_model::{HostResult, HostStatus, PortState, Reason};

/// The up hosts as the port scan's host source, with the names the user
/// typed.
pub fn targets(up: &[HostResult]) -> Vec<HostTarget> {
    up.iter().map(HostTarget::of).collect()
}

/// Up or down from the discovery probes' rows: up when a probe got an
/// answer (a port row `open`, or `closed` for connect pings), with the
/// reason of the first answer the engine saw. A host whose
/// `--host-timeout` ran out before any answer is neither: its status is
/// unknown and it stays marked timed out, as nmap reports it.
pub fn classify(mut host: HostResult, refusal_counts: bool) -> HostResult {
    let answered = host
        .ports
        .iter()
        .find(|p| p.state == PortState::Open || (refusal_counts && p.state == PortState::Closed));
    match answered {
        Some(p) => {
            host.status = HostStatus::Up;
            if let Some(mac) = &mut host.mac {
                if mac.vendor.is_none() {
                    mac.vendor = portolan_oui::vendor(mac.octets).map(str::to_string);
                }
            }
            if host.reason == Reason::UserSet || host.reason == Reason::NoResponse {
                host.reason = p.reason;
                host.reason_ttl = p.reason_ttl;
            }
        }
        None if host.timed_out => {
            host.status = HostStatus::Unknown;
            host.reason = Reason::NoResponse;
            host.reason_ttl = 0;
            host.latency = None;
        }
        None => {
            host.status = HostStatus::Down;
            host.reason = Reason::NoResponse;
            host.reason_ttl = 0;
            host.latency = None;
        }
    }
    host.ports.clear();
    host.icmp_rate_limit = None;
    host
}

/// The engine technique of a group of discovery probes: silence is
/// `filtered (no-response)`, i.e. "did not show the host up".
pub fn technique(protocol: portolan_model::Protocol, ports: Vec<u16>) -> TechniquePlan {
    TechniquePlan {
        protocol,
        ports,
        no_reply: (PortState::Filtered, Reason::NoResponse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::{PortResult, Protocol};
    use std::time::Duration;

    fn host(rows: &[(PortState, Reason)], reason: Reason) -> HostResult {
        let mut h = HostResult::new("198.18.0.1".parse().unwrap(), HostStatus::Up, reason);
        h.latency = Some(Duration::from_millis(1));
        h.ports = rows
            .iter()
            .enumerate()
            .map(|(i, &(state, reason))| PortResult {
                port: i as u16,
                protocol: Protocol::Tcp,
                state,
                reason,
                reason_ttl: 64,
                service: None,
            })
            .collect();
        h
    }

    #[test]
    fn any_answer_is_up_silence_is_down() {
        let silent = (PortState::Filtered, Reason::NoResponse);
        let echo = (PortState::Open, Reason::EchoReply);
        let refused = (PortState::Closed, Reason::ConnRefused);

        let h = classify(host(&[silent, echo], Reason::UserSet), false);
        assert_eq!(
            (h.status, h.reason, h.reason_ttl),
            (HostStatus::Up, Reason::EchoReply, 64)
        );
        assert!(h.ports.is_empty());
        // The engine's first answer wins over the row order.
        let h = classify(host(&[echo, silent], Reason::Reset), false);
        assert_eq!(h.reason, Reason::Reset);

        let h = classify(host(&[silent, silent], Reason::UserSet), false);
        assert_eq!((h.status, h.reason), (HostStatus::Down, Reason::NoResponse));
        assert_eq!(h.latency, None);

        // A refusal counts for connect pings only.
        let h = classify(host(&[refused], Reason::UserSet), true);
        assert_eq!((h.status, h.reason), (HostStatus::Up, Reason::ConnRefused));
        let h = classify(host(&[refused], Reason::UserSet), false);
        assert_eq!(h.status, HostStatus::Down);
    }

    #[test]
    fn a_host_timeout_before_any_answer_is_not_down() {
        let silent = (PortState::Filtered, Reason::NoResponse);
        let mut h = host(&[silent], Reason::UserSet);
        h.timed_out = true;
        let h = classify(h, false);
        assert_eq!((h.status, h.timed_out), (HostStatus::Unknown, true));
        // An answer before the timeout still shows the host up.
        let mut h = host(&[(PortState::Open, Reason::EchoReply)], Reason::UserSet);
        h.timed_out = true;
        assert_eq!(classify(h, false).status, HostStatus::Up);
    }

    #[test]
    fn targets_keep_typed_names() {
        let mut up = host(&[(PortState::Open, Reason::SynAck)], Reason::SynAck);
        up.hostnames.push(portolan_model::Hostname {
            name: "a.example".into(),
            kind: portolan_model::HostnameKind::User,
        });
        let t = targets(&[classify(up, false)]);
        assert_eq!(t[0].addr, "198.18.0.1".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(t[0].name.as_deref(), Some("a.example"));
    }
}
