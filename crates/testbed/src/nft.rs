//! nftables rule sets that make each port state happen on a target host.
//!
//! A host's rules live in one `inet` table with an `input` and an `output`
//! chain. The whole table is regenerated and replaced atomically on every
//! change (`nft -f` applies a script as one transaction), so the rules a test
//! sees are always exactly the ones it asked for, in a fixed order: loss
//! first (it models the wire), then "silent host", then per-port rules.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// Name of the nftables table the testbed owns in each namespace.
pub const TABLE: &str = "portolan_tb";

/// Transport protocol a port rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    fn keyword(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// The ICMP error a `reject` rule answers with (and its ICMPv6 counterpart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpKind {
    /// Destination unreachable, port unreachable (ICMPv6: port unreachable).
    PortUnreach,
    /// Destination unreachable, communication administratively prohibited.
    AdminProhibited,
    /// Destination unreachable, host unreachable (ICMPv6: address unreachable).
    HostUnreach,
}

impl IcmpKind {
    fn v4(self) -> &'static str {
        match self {
            IcmpKind::PortUnreach => "port-unreachable",
            IcmpKind::AdminProhibited => "admin-prohibited",
            IcmpKind::HostUnreach => "host-unreachable",
        }
    }

    fn v6(self) -> &'static str {
        match self {
            IcmpKind::PortUnreach => "port-unreachable",
            IcmpKind::AdminProhibited => "admin-prohibited",
            IcmpKind::HostUnreach => "addr-unreachable",
        }
    }
}

/// One rule of a host's rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Silently drop packets to these ports (→ filtered).
    Drop {
        /// Protocol matched.
        proto: Proto,
        /// Destination ports.
        ports: Vec<u16>,
    },
    /// Answer packets to these ports with an ICMP error (→ filtered, or closed for UDP port-unreachable).
    RejectIcmp {
        /// Protocol matched.
        proto: Proto,
        /// Destination ports.
        ports: Vec<u16>,
        /// Which ICMP error.
        kind: IcmpKind,
    },
    /// Answer TCP packets to these ports with a RST (→ closed, even with a listener).
    RejectReset {
        /// Destination ports.
        ports: Vec<u16>,
    },
    /// Let at most this many RSTs per second leave the host; drop the rest.
    RstRateLimit {
        /// RSTs per second.
        per_second: u32,
    },
    /// Random loss, in percent, of packets entering and leaving the host.
    Loss {
        /// Percent of incoming packets dropped (0–100).
        input_pct: u8,
        /// Percent of outgoing packets dropped (0–100).
        output_pct: u8,
    },
    /// Drop every incoming IP packet: the host never answers.
    Silent,
    /// Drop packets to `net/prefix` unless the destination is in `up`.
    OnlyUp {
        /// The network whose addresses are silent unless listed.
        net: Ipv4Addr,
        /// Its prefix length.
        prefix: u8,
        /// Addresses that answer.
        up: Vec<Ipv4Addr>,
    },
    /// A raw rule appended to `input` (`output == false`) or `output`.
    Raw {
        /// True for the output chain.
        output: bool,
        /// The rule text, in nft syntax.
        text: String,
    },
}

fn port_set(ports: &[u16]) -> String {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!("{{ {} }}", list.join(", "))
}

/// Renders a complete script that replaces the testbed table with `rules`.
pub fn render(rules: &[Rule]) -> String {
    let mut input = Vec::new();
    let mut output = Vec::new();
    let mut sets = String::new();
    let rank = |r: &Rule| match r {
        Rule::Loss { .. } => 0,
        Rule::Silent | Rule::OnlyUp { .. } => 1,
        _ => 2,
    };
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| rank(r));
    for (i, rule) in ordered.into_iter().enumerate() {
        match rule {
            Rule::Drop { proto, ports } if !ports.is_empty() => {
                input.push(format!(
                    "{} dport {} drop",
                    proto.keyword(),
                    port_set(ports)
                ));
            }
            Rule::RejectIcmp { proto, ports, kind } if !ports.is_empty() => {
                let p = proto.keyword();
                let set = port_set(ports);
                input.push(format!(
                    "meta nfproto ipv4 {p} dport {set} reject with icmp type {}",
                    kind.v4()
                ));
                input.push(format!(
                    "meta nfproto ipv6 {p} dport {set} reject with icmpv6 type {}",
                    kind.v6()
                ));
            }
            Rule::RejectReset { ports } if !ports.is_empty() => {
                input.push(format!(
                    "tcp dport {} reject with tcp reset",
                    port_set(ports)
                ));
            }
            Rule::RstRateLimit { per_second } => {
                output.push(format!(
                    "tcp flags & rst == rst limit rate over {per_second}/second drop"
                ));
            }
            Rule::Loss {
                input_pct,
                output_pct,
            } => {
                if *input_pct > 0 {
                    input.push(format!(
                        "numgen random mod 100 < {} drop",
                        input_pct.min(&100)
                    ));
                }
                if *output_pct > 0 {
                    output.push(format!(
                        "numgen random mod 100 < {} drop",
                        output_pct.min(&100)
                    ));
                }
            }
            Rule::Silent => input.push("meta nfproto { ipv4, ipv6 } drop".to_string()),
            Rule::OnlyUp { net, prefix, up } => {
                let name = format!("up{i}");
                let _ = write!(sets, "  set {name} {{ type ipv4_addr;");
                if !up.is_empty() {
                    let elems: Vec<String> = up.iter().map(Ipv4Addr::to_string).collect();
                    let _ = write!(sets, " elements = {{ {} }};", elems.join(", "));
                }
                sets.push_str(" }\n");
                input.push(format!("ip daddr {net}/{prefix} ip daddr != @{name} drop"));
            }
            Rule::Raw { output: out, text } => {
                if *out {
                    output.push(text.clone());
                } else {
                    input.push(text.clone());
                }
            }
            _ => {}
        }
    }
    let mut s = String::new();
    // Creating the table first makes the delete valid even on first use.
    let _ = writeln!(s, "table inet {TABLE}\ndelete table inet {TABLE}");
    let _ = writeln!(s, "table inet {TABLE} {{");
    s.push_str(&sets);
    for (chain, rules) in [("input", &input), ("output", &output)] {
        let _ = writeln!(
            s,
            "  chain {chain} {{\n    type filter hook {chain} priority 0; policy accept;"
        );
        for r in rules.iter() {
            let _ = writeln!(s, "    {r}");
        }
        s.push_str("  }\n");
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rules_in_fixed_order() {
        let s = render(&[
            Rule::Drop {
                proto: Proto::Tcp,
                ports: vec![81, 84],
            },
            Rule::Loss {
                input_pct: 1,
                output_pct: 2,
            },
            Rule::RejectIcmp {
                proto: Proto::Tcp,
                ports: vec![82],
                kind: IcmpKind::HostUnreach,
            },
        ]);
        let loss = s.find("numgen random mod 100 < 1 drop").unwrap();
        let drop = s.find("tcp dport { 81, 84 } drop").unwrap();
        assert!(loss < drop);
        assert!(s.contains("reject with icmp type host-unreachable"));
        assert!(s.contains("reject with icmpv6 type addr-unreachable"));
        assert!(s.contains("numgen random mod 100 < 2 drop"));
    }

    #[test]
    fn empty_port_lists_make_no_rule() {
        let s = render(&[Rule::Drop {
            proto: Proto::Udp,
            ports: vec![],
        }]);
        assert!(!s.contains("udp dport"));
    }

    #[test]
    fn only_up_declares_a_set() {
        let s = render(&[Rule::OnlyUp {
            net: Ipv4Addr::new(198, 19, 0, 0),
            prefix: 16,
            up: vec![Ipv4Addr::new(198, 19, 0, 1)],
        }]);
        assert!(s.contains("set up0 { type ipv4_addr; elements = { 198.19.0.1 }; }"));
        assert!(s.contains("ip daddr 198.19.0.0/16 ip daddr != @up0 drop"));
    }
}
