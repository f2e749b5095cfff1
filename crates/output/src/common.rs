//! Small pieces every format shares: making untrusted text safe to print,
//! compact port ranges, and the ordering and wording of nmap's summaries.

use portolan_model::{
    Certificate, HostResult, IcmpRateLimit, PortResult, PortState, PortSummary, Protocol, Reason,
    RunStats,
};
use std::fmt::Write as _;

/// Makes text that came off the network (banners, names) safe to print:
/// control characters become `\xNN`, so a hostile service can neither
/// move the terminal cursor nor break a line- or tab-separated format, and
/// the XML 1.0 non-characters U+FFFE and U+FFFF become U+FFFD.
pub(crate) fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && (c as u32) < 0xA0 || c == '\u{FFFE}' || c == '\u{FFFF}';
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c if bad(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Ports as compact ranges: `1-21,23,25-79`.
pub(crate) use portolan_model::format_ranges as port_ranges;

/// The ports of `host` in one summarised group that had `reason`.
/// The rate of an ICMP limit in words: `1`, `0.5`, `12` (a measured
/// 0.98 is "1": the figure is an estimate).
pub(crate) fn rate_words(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0".to_string()
    } else if per_sec >= 0.95 {
        format!("{}", per_sec.round() as u64)
    } else {
        format!("{:.1}", per_sec.max(0.1))
    }
}

/// The normal output's line about a host's ICMP rate limit.
pub(crate) fn rate_limit_note(rl: &IcmpRateLimit) -> String {
    let proto = rl.protocol.as_str().to_uppercase();
    let rate = rate_words(rl.observed_per_sec);
    let ports = if rl.unresolved == 1 { "port" } else { "ports" };
    if rl.protocol == Protocol::Tcp && rl.tcp_icmp {
        // FIN, NULL, Xmas, Maimon, ACK, window: rejects come as ICMP.
        return if rl.unresolved == 0 {
            format!(
                "Note: the host rate-limits ICMP errors (about {rate} per second); \
                 silent {proto} ports were re-probed at that pace until each was told \
                 from a rejected one."
            )
        } else {
            format!(
                "Note: {} silent {proto} {ports} could not be told from rejected (filtered) \
                 ones within the retry budget: the host rate-limits ICMP errors \
                 (about {rate} per second).",
                rl.unresolved
            )
        };
    }
    if rl.protocol == Protocol::Tcp {
        // The engine always paces a host that rate-limits its resets.
        return if rl.unresolved == 0 {
            format!(
                "Note: the host rate-limits TCP resets (about {rate} per second); \
                 probes were paced to it until every {proto} port answered."
            )
        } else {
            format!(
                "Note: the host rate-limits TCP resets (about {rate} per second); \
                 probes were paced to it, {} {proto} {ports} never answered (filtered).",
                rl.unresolved
            )
        };
    }
    if rl.exact && rl.unresolved == 0 {
        format!(
            "Note: the host rate-limits ICMP port unreachables (about {rate} per second); \
             --udp-exact retried at that pace until every {proto} port answered."
        )
    } else if rl.exact {
        format!(
            "Note: the host rate-limits ICMP port unreachables (about {rate} per second); \
             --udp-exact retried at that pace, {} {proto} {ports} never answered (open|filtered).",
            rl.unresolved
        )
    } else {
        format!(
            "Note: {} {proto} {ports} left open|filtered: the host rate-limits ICMP port \
             unreachables (about {rate} per second); --udp-exact names every closed port (slow).",
            rl.unresolved
        )
    }
}

pub(crate) fn group_ports(
    host: &HostResult,
    state: PortState,
    protocol: Protocol,
    reason: Reason,
) -> Vec<u16> {
    host.ports
        .iter()
        .filter(|p| p.state == state && p.protocol == protocol && p.reason == reason)
        .map(|p| p.port)
        .collect()
}

/// The split of [`HostResult::port_summary`], with the listed ports in
/// nmap's order: all TCP ports, then UDP, then SCTP, each by number.
pub(crate) fn summary(host: &HostResult, verbose: u8, open_only: bool) -> PortSummary<'_> {
    let mut s = host.port_summary(verbose, open_only);
    s.shown.sort_by_key(|p| (p.protocol, p.port));
    s
}

/// Whether `--open` hides this host entirely: nmap leaves out hosts that
/// had ports scanned but none that may be open.
pub(crate) fn hidden_by_open(host: &HostResult, open_only: bool) -> bool {
    open_only
        && !host.ports.is_empty()
        && !host.ports.iter().any(|p| p.state.shown_with_open_only())
}

/// `name (addr)` when a name is known, else `addr`: nmap's `NameIP`.
pub(crate) fn name_ip(host: &HostResult) -> String {
    match host.display_name() {
        Some(name) => format!("{} ({})", clean(name), host.addr),
        None => host.addr.to_string(),
    }
}

/// `1 IP address (1 host up)` / `3 IP addresses (0 hosts up)`.
pub(crate) fn hosts_phrase(total: u64, up: u64) -> String {
    format!(
        "{total} IP address{} ({up} host{} up)",
        if total == 1 { "" } else { "es" },
        if up == 1 { "" } else { "s" }
    )
}

/// What an interrupted run's report covers: hosts not begun are left out
/// (the closing line counts only what was scanned), and hosts caught
/// mid-scan are marked incomplete.
pub(crate) fn interrupted_line(stats: &RunStats) -> String {
    let mut line = String::from(
        "Portolan scan interrupted: hosts not scanned before the interrupt are not reported",
    );
    match stats.hosts_incomplete {
        0 => line.push('.'),
        1 => line.push_str("; 1 host partly scanned is marked incomplete."),
        n => {
            let _ = write!(line, "; {n} hosts partly scanned are marked incomplete.");
        }
    }
    line
}

/// A reason with its TTL, as the REASON column shows it: `syn-ack ttl 64`,
/// or just `syn-ack` when no TTL was seen (connect scans).
pub(crate) fn reason_with_ttl(reason: Reason, ttl: u8) -> String {
    if ttl > 0 {
        format!("{reason} ttl {ttl}")
    } else {
        reason.to_string()
    }
}

/// The reasons of a summarised group as nmap words them: one reason alone
/// is named (`conn-refused`); several are counted (`990 resets, 7 no-response`).
pub(crate) fn reasons_phrase(reasons: &[(Reason, u32)]) -> String {
    match reasons {
        [(only, _)] => only.to_string(),
        many => many
            .iter()
            .map(|&(r, n)| {
                if n == 1 {
                    format!("{n} {r}")
                } else {
                    format!("{n} {}", r.plural())
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The SERVICE column: `ssl/http` for services inside TLS, `unknown` when
/// no name is known.
pub(crate) fn service_column(port: &PortResult) -> String {
    match &port.service {
        None => "unknown".into(),
        Some(s) => {
            let name = if s.name.is_empty() {
                "unknown"
            } else {
                s.name.as_str()
            };
            match s.tunnel.as_deref() {
                Some("ssl") => format!("ssl/{}", clean(name)),
                _ => clean(name).into_owned(),
            }
        }
    }
}

/// The VERSION column text of a port (empty when nothing is known).
pub(crate) fn version_column(port: &PortResult) -> String {
    port.service
        .as_ref()
        .map(|s| clean(&s.version_text()).into_owned())
        .unwrap_or_default()
}

/// A certificate time as nmap's `ssl-cert` writes it:
/// `2026-11-22T10:15:00` (UTC; times before 1970 clamp to the epoch).
pub(crate) fn cert_time(unix: i64) -> String {
    let c = crate::timefmt::civil(u64::try_from(unix).unwrap_or(0));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The lines of nmap's `ssl-cert` script output for a certificate
/// (subject, alternative names, issuer, validity), cleaned for printing.
pub(crate) fn ssl_cert_lines(c: &Certificate) -> Vec<String> {
    let mut lines = vec![format!(
        "Subject: {}",
        clean(&Certificate::name_text(&c.subject))
    )];
    if !c.alt_names.is_empty() {
        lines.push(format!(
            "Subject Alternative Name: {}",
            clean(&c.alt_names.join(", "))
        ));
    }
    lines.push(format!(
        "Issuer: {}",
        clean(&Certificate::name_text(&c.issuer))
    ));
    lines.push(format!("Not valid before: {}", cert_time(c.not_before)));
    lines.push(format!("Not valid after:  {}", cert_time(c.not_after)));
    lines
}

/// nmap's "Service Info:" facts from the open ports: host names, OS types,
/// device types and OS/hardware CPEs, each deduplicated in order of first
/// appearance. `None` when there is nothing to say.
pub(crate) fn service_info_line(shown: &[&PortResult]) -> Option<String> {
    let mut hosts: Vec<String> = Vec::new();
    let mut oses: Vec<String> = Vec::new();
    let mut devices: Vec<String> = Vec::new();
    let mut cpes: Vec<String> = Vec::new();
    let add = |list: &mut Vec<String>, v: &str| {
        let v = clean(v).into_owned();
        if !v.is_empty() && !list.contains(&v) {
            list.push(v);
        }
    };
    for p in shown.iter().filter(|p| p.state == PortState::Open) {
        let Some(s) = &p.service else { continue };
        if let Some(h) = &s.hostname {
            add(&mut hosts, h);
        }
        if let Some(o) = &s.ostype {
            add(&mut oses, o);
        }
        if let Some(d) = &s.devicetype {
            add(&mut devices, d);
        }
        for c in &s.cpe {
            if c.starts_with("cpe:/o") || c.starts_with("cpe:/h") {
                add(&mut cpes, c);
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let mut push = |singular: &str, plural: &str, list: &[String]| {
        if !list.is_empty() {
            let label = if list.len() == 1 { singular } else { plural };
            parts.push(format!("{label}: {}", list.join(", ")));
        }
    };
    push("Host", "Hosts", &hosts);
    push("OS", "OSs", &oses);
    push("Device", "Devices", &devices);
    push("CPE", "CPE", &cpes);
    if parts.is_empty() {
        None
    } else {
        Some(format!("Service Info: {}", parts.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_limit(unresolved: u32) -> IcmpRateLimit {
        IcmpRateLimit {
            protocol: Protocol::Tcp,
            observed_per_sec: 199.6,
            unresolved,
            exact: true,
            tcp_icmp: false,
        }
    }

    #[test]
    fn tcp_icmp_limit_note_names_icmp_errors() {
        let mut rl = tcp_limit(0);
        rl.tcp_icmp = true;
        rl.observed_per_sec = 1.0;
        assert_eq!(
            rate_limit_note(&rl),
            "Note: the host rate-limits ICMP errors (about 1 per second); \
             silent TCP ports were re-probed at that pace until each was told \
             from a rejected one."
        );
        rl.unresolved = 2;
        assert_eq!(
            rate_limit_note(&rl),
            "Note: 2 silent TCP ports could not be told from rejected (filtered) \
             ones within the retry budget: the host rate-limits ICMP errors \
             (about 1 per second)."
        );
    }

    #[test]
    fn tcp_reset_limit_note_names_resets_and_pacing() {
        assert_eq!(
            rate_limit_note(&tcp_limit(0)),
            "Note: the host rate-limits TCP resets (about 200 per second); \
             probes were paced to it until every TCP port answered."
        );
        assert_eq!(
            rate_limit_note(&tcp_limit(3)),
            "Note: the host rate-limits TCP resets (about 200 per second); \
             probes were paced to it, 3 TCP ports never answered (filtered)."
        );
        assert!(rate_limit_note(&tcp_limit(1)).contains("1 TCP port never"));
    }

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(
            clean("OpenSSH 9.2"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            clean("a\x1b[2Jb\n\u{7f}\u{85}"),
            "a\\x1b[2Jb\\x0a\\x7f\\x85"
        );
        assert_eq!(clean("x\u{FFFE}y"), "x\u{FFFD}y");
    }

    #[test]
    fn ports_compact_into_ranges() {
        assert_eq!(port_ranges(&[5, 1, 2, 3, 7, 8, 65535]), "1-3,5,7-8,65535");
        assert_eq!(port_ranges(&[]), "");
        assert_eq!(port_ranges(&[65534, 65535]), "65534-65535");
    }

    #[test]
    fn reasons_are_named_alone_and_counted_together() {
        assert_eq!(
            reasons_phrase(&[(Reason::ConnRefused, 997)]),
            "conn-refused"
        );
        assert_eq!(
            reasons_phrase(&[(Reason::Reset, 990), (Reason::PortUnreach, 1)]),
            "990 resets, 1 port-unreach"
        );
    }

    #[test]
    fn hosts_phrase_pluralises_like_nmap() {
        assert_eq!(hosts_phrase(1, 1), "1 IP address (1 host up)");
        assert_eq!(hosts_phrase(256, 0), "256 IP addresses (0 hosts up)");
    }
}
