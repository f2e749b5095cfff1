//! Tests of the command line as users type it: every flag, every value
//! syntax, every error message.

use super::flags::{self, ValueKind};
use super::*;
use proptest::prelude::*;
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

fn run(args: &[&str]) -> Result<Command, CliError> {
    parse(args.iter().map(OsString::from))
}

/// Parses a scan command line, failing the test on anything else.
fn opts(args: &[&str]) -> Options {
    match run(args) {
        Ok(Command::Scan(o)) => *o,
        other => panic!("{args:?} gave {other:?}"),
    }
}

/// The error text for a command line that must fail.
fn err(args: &[&str]) -> String {
    match run(args) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("{args:?} should fail but gave {c:?}"),
    }
}

fn p(s: &str) -> Option<PathBuf> {
    Some(PathBuf::from(s))
}

#[test]
fn no_arguments_means_help() {
    assert_eq!(run(&[]), Ok(Command::Help));
}

#[test]
fn help_and_version() {
    for a in ["-h", "--help", "-help"] {
        assert_eq!(run(&[a]), Ok(Command::Help), "{a}");
    }
    for a in ["-V", "--version", "-version"] {
        assert_eq!(run(&[a]), Ok(Command::Version), "{a}");
    }
    assert_eq!(run(&["-sT", "198.18.0.1", "-h"]), Ok(Command::Help));
    assert_eq!(run(&["-nh"]), Ok(Command::Help));
    assert_eq!(err(&["--help=x"]), "--help takes no value (got \"x\")");
}

#[test]
fn args_line_rejoins_the_command() {
    let o = opts(&["-sT", "-p-", "127.0.0.1"]);
    assert_eq!(o.args_line, "portolan -sT -p- 127.0.0.1");
}

#[test]
fn targets_mix_with_options_in_any_order() {
    let o = opts(&[
        "198.18.0.1",
        "-p",
        "22",
        "scanme.example",
        "-n",
        "198.18.1.0/24",
    ]);
    assert_eq!(o.targets, ["198.18.0.1", "scanme.example", "198.18.1.0/24"]);
    assert_eq!(o.ports.as_deref(), Some("22"));
    assert!(o.no_dns);
}

#[test]
fn double_dash_ends_options() {
    let o = opts(&["-n", "--", "-sT", "--open", "198.18.0.1"]);
    assert_eq!(o.targets, ["-sT", "--open", "198.18.0.1"]);
    assert!(o.scans.is_empty());
    assert!(!o.output.open_only);
    // A lone dash is an argument, not an option.
    assert_eq!(opts(&["-"]).targets, ["-"]);
}

#[test]
fn scan_types_single_and_combined() {
    let cases: [(&str, ScanType); 8] = [
        ("-sS", ScanType::Syn),
        ("-sT", ScanType::Connect),
        ("-sA", ScanType::Ack),
        ("-sW", ScanType::Window),
        ("-sM", ScanType::Maimon),
        ("-sN", ScanType::Null),
        ("-sF", ScanType::Fin),
        ("-sX", ScanType::Xmas),
    ];
    for (flag, tech) in cases {
        assert_eq!(opts(&[flag]).scans, [tech], "{flag}");
        assert_eq!(tech.flag(), flag);
        assert_eq!(tech.is_raw(), flag != "-sT");
    }
    // Repeats are dropped.
    assert_eq!(opts(&["-sS", "-sS", "-sSS"]).scans, [ScanType::Syn]);
    assert!(opts(&["-sT"]).scans[0] == ScanType::Connect);
}

#[test]
fn unknown_scan_letters_are_rejected_by_name() {
    assert_eq!(err(&["-sZ"]), "unrecognized option \"-sZ\"");
    assert_eq!(err(&["-sSZ"]), "unrecognized option \"-sSZ\"");
    assert_eq!(err(&["-s"]), "unrecognized option \"-s\"");
}

#[test]
fn more_than_one_tcp_scan_is_an_error() {
    let e = err(&["-sT", "-sS"]);
    assert!(
        e.contains("more than one type of TCP scan") && e.contains("-sT") && e.contains("-sS"),
        "{e}"
    );
    let e = err(&["-sSA"]);
    assert!(e.contains("-sS") && e.contains("-sA"), "{e}");
}

#[test]
fn every_unavailable_flag_is_rejected_with_its_name() {
    for flag in flags::table().iter().filter(|f| !f.available) {
        let (arg, shown) = match (flag.short, flag.long) {
            (Some(s), _) => (format!("-{s}"), format!("-{s}")),
            (None, Some(l)) => (format!("--{l}"), format!("--{l}")),
            (None, None) => unreachable!("a flag without a name"),
        };
        let mut args = vec![arg.as_str()];
        if matches!(flag.value, ValueKind::Required(_)) {
            args.push("1");
        }
        assert_eq!(
            err(&args),
            format!("{shown}: not yet supported"),
            "{args:?}"
        );
    }
}

#[test]
fn list_and_ping_scans() {
    assert!(opts(&["-sL"]).list_scan);
    assert!(opts(&["-sn"]).ping_scan);
    let o = opts(&["-sL", "-n"]);
    assert!(o.list_scan && !o.ping_scan && o.scans.is_empty());
    assert!(err(&["-sL", "-sn"]).contains("-sL"));
    let e = err(&["-sn", "-sS"]);
    assert!(e.contains("-sn") && e.contains("-sS"), "{e}");
    let e = err(&["-sL", "-sV"]);
    assert!(e.contains("-sL") && e.contains("-sV"), "{e}");
}

#[test]
fn discovery_probes_keep_order_and_merge_ports() {
    let o = opts(&[
        "-PE", "-PS22,80", "-PA", "-PS80-82", "-PU53", "-PP", "-PM", "-PY", "-PY2905",
    ]);
    let got: Vec<(PingKind, Vec<u16>)> =
        o.pings.iter().map(|p| (p.kind, p.ports.clone())).collect();
    assert_eq!(
        got,
        vec![
            (PingKind::Echo, vec![]),
            (PingKind::TcpSyn, vec![22, 80, 81, 82]),
            (PingKind::TcpAck, vec![]),
            (PingKind::Udp, vec![53]),
            (PingKind::Timestamp, vec![]),
            (PingKind::AddressMask, vec![]),
            (PingKind::SctpInit, vec![2905]),
        ]
    );
    assert_eq!(opts(&["-PS0-65535"]).pings[0].ports.len(), 65_536);
    assert!(opts(&["-PR"]).arp_ping);
    let e = err(&["-PR", "-PE"]);
    assert!(e.contains("-PR") && e.contains("-PE"), "{e}");
    for bad in ["-PS22,", "-PSx", "-PS80-22", "-PS70000", "-PA-"] {
        let e = err(&[bad]);
        assert!(
            e.starts_with("invalid value") && e.contains(&bad[3..]),
            "{bad}: {e}"
        );
    }
}

#[test]
fn version_detection_flags() {
    let o = opts(&["-sSV"]);
    assert!(o.version.enabled && o.scans == [ScanType::Syn]);
    assert!(opts(&["-sV"]).version.intensity.is_none());
    assert_eq!(
        opts(&["-version-intensity", "5"]).version.intensity,
        Some(5)
    );
    assert_eq!(opts(&["--version-light"]).version.intensity, Some(2));
    assert_eq!(opts(&["--version-all"]).version.intensity, Some(9));
    let o = opts(&["--version-trace", "--allports", "--service-db", "my.db"]);
    assert!(o.version.trace && o.version.all_ports);
    assert_eq!(o.version.db_file, p("my.db"));
    assert!(err(&["--version-intensity", "10"]).contains("\"10\""));
    assert!(err(&["--version-intensity", "x"]).contains("--version-intensity"));
}

#[test]
fn ports_attached_and_separate() {
    assert_eq!(opts(&["-p-"]).ports.as_deref(), Some("-"));
    assert_eq!(opts(&["-p1-1024"]).ports.as_deref(), Some("1-1024"));
    assert_eq!(opts(&["-p", "22,80"]).ports.as_deref(), Some("22,80"));
    assert_eq!(opts(&["-p", "-"]).ports.as_deref(), Some("-"));
    assert_eq!(opts(&["-pU:53,T:80"]).ports.as_deref(), Some("U:53,T:80"));
    // nmap allows one -p only.
    assert_eq!(
        err(&["-p1", "-p", "2"]),
        "only one -p option is allowed; separate multiple ranges with commas"
    );
    assert!(
        err(&["--exclude-ports", "1", "--exclude-ports=2"]).contains("only one --exclude-ports")
    );
    assert_eq!(err(&["-p"]), "-p requires a value");
    assert_eq!(
        err(&["-p", ""]),
        "invalid value \"\" for -p: expected port ranges"
    );
    let o = opts(&["--exclude-ports", "25", "-F", "-r"]);
    assert_eq!(o.exclude_ports.as_deref(), Some("25"));
    assert!(o.fast && o.sequential_ports);
    assert_eq!(
        opts(&["--exclude-ports=T:25"]).exclude_ports.as_deref(),
        Some("T:25")
    );
}

#[test]
fn top_ports_one_or_two_dashes_and_equals() {
    for args in [
        &["--top-ports", "100"][..],
        &["-top-ports", "100"],
        &["--top-ports=100"],
        &["-top-ports=100"],
    ] {
        assert_eq!(opts(args).top_ports, Some(100), "{args:?}");
    }
    assert_eq!(
        err(&["--top-ports", "0"]),
        "invalid value \"0\" for --top-ports: expected a positive number"
    );
    assert_eq!(
        err(&["-top-ports", "x"]),
        "invalid value \"x\" for --top-ports: expected a positive number"
    );
    assert_eq!(err(&["--top-ports"]), "--top-ports requires a value");
    assert_eq!(
        err(&["--top-ports="]),
        "invalid value \"\" for --top-ports: expected a positive number"
    );
}

#[test]
fn port_selection_conflicts() {
    assert!(err(&["-F", "-p", "22"]).contains("-F (fast scan) with -p"));
    assert!(err(&["-p22", "-F"]).contains("-F (fast scan) with -p"));
    let e = err(&["-F", "--top-ports", "10"]);
    assert!(e.contains("-F") && e.contains("--top-ports"), "{e}");
    let e = err(&["--top-ports", "10", "-p", "80"]);
    assert!(e.contains("--top-ports") && e.contains("-p"), "{e}");
}

#[test]
fn timing_templates() {
    for (args, n) in [
        (&["-T4"][..], 4),
        (&["-T", "4"], 4),
        (&["-T0"], 0),
        (&["-T5"], 5),
        (&["-Tinsane"], 5),
        (&["-T", "paranoid"], 0),
        (&["-TPolite"], 2),
    ] {
        assert_eq!(opts(args).timing.template, Some(n), "{args:?}");
    }
    assert_eq!(
        err(&["-T9"]),
        "invalid value \"9\" for -T: expected 0-5 or a template name"
    );
    assert_eq!(
        err(&["-T", "fast"]),
        "invalid value \"fast\" for -T: expected 0-5 or a template name"
    );
    assert_eq!(err(&["-T"]), "-T requires a value");
}

#[test]
fn timing_numbers_and_durations() {
    let o = opts(&[
        "--min-hostgroup",
        "8",
        "--max-hostgroup=64",
        "-min-parallelism",
        "2",
        "--max-parallelism",
        "100",
        "--min-rtt-timeout",
        "50ms",
        "--max-rtt-timeout",
        "2s",
        "--initial-rtt-timeout",
        "500ms",
        "--max-retries",
        "3",
        "--host-timeout",
        "5m",
        "--scan-delay",
        "10ms",
        "--max-scan-delay",
        "1",
        "--min-rate",
        "100",
        "--max-rate=1e4",
    ]);
    let t = &o.timing;
    assert_eq!(t.min_hostgroup, Some(8));
    assert_eq!(t.max_hostgroup, Some(64));
    assert_eq!(t.min_parallelism, Some(2));
    assert_eq!(t.max_parallelism, Some(100));
    assert_eq!(t.min_rtt_timeout, Some(Duration::from_millis(50)));
    assert_eq!(t.max_rtt_timeout, Some(Duration::from_secs(2)));
    assert_eq!(t.initial_rtt_timeout, Some(Duration::from_millis(500)));
    assert_eq!(t.max_retries, Some(3));
    assert_eq!(t.host_timeout, Some(Duration::from_secs(300)));
    assert_eq!(t.scan_delay, Some(Duration::from_millis(10)));
    assert_eq!(t.max_scan_delay, Some(Duration::from_secs(1)));
    assert_eq!(t.min_rate, Some(100.0));
    assert_eq!(t.max_rate, Some(10_000.0));
    assert_eq!(
        opts(&["--host-timeout", "1h"]).timing.host_timeout,
        Some(Duration::from_secs(3600))
    );
    assert_eq!(opts(&["--max-retries", "0"]).timing.max_retries, Some(0));
    assert_eq!(opts(&["--min-rate", "0.5"]).timing.min_rate, Some(0.5));
}

#[test]
fn timing_errors_name_the_token() {
    assert_eq!(
        err(&["--max-retries", "abc"]),
        "invalid value \"abc\" for --max-retries: expected a number of retries"
    );
    assert!(
        err(&["--host-timeout", "5x"]).starts_with("invalid duration \"5x\" for --host-timeout")
    );
    assert!(err(&["-host-timeout=5x"]).starts_with("invalid duration \"5x\" for --host-timeout"));
    assert!(err(&["--scan-delay", "-1"]).starts_with("invalid duration \"-1\" for --scan-delay"));
    for flag in [
        "--min-hostgroup",
        "--max-hostgroup",
        "--min-parallelism",
        "--max-parallelism",
    ] {
        let e = err(&[flag, "0"]);
        assert!(e.contains(flag) && e.contains("\"0\""), "{e}");
    }
    for flag in ["--min-rate", "--max-rate"] {
        for bad in ["0", "-5", "fast", "inf"] {
            let e = err(&[flag, bad]);
            assert!(e.contains(flag) && e.contains(&format!("\"{bad}\"")), "{e}");
        }
    }
}

#[test]
fn bounds_must_be_ordered() {
    assert_eq!(
        err(&["--min-rate", "1000", "--max-rate", "10"]),
        "--min-rate 1000 is greater than --max-rate 10"
    );
    for (low, high) in [
        ("--min-parallelism", "--max-parallelism"),
        ("--min-hostgroup", "--max-hostgroup"),
    ] {
        let e = err(&[low, "9", high, "3"]);
        assert!(e.contains(low) && e.contains(high), "{e}");
    }
    for (low, high) in [
        ("--min-rtt-timeout", "--max-rtt-timeout"),
        ("--min-rtt-timeout", "--initial-rtt-timeout"),
        ("--initial-rtt-timeout", "--max-rtt-timeout"),
        ("--scan-delay", "--max-scan-delay"),
    ] {
        let e = err(&[low, "2s", high, "500ms"]);
        assert_eq!(e, format!("{low} 2s is greater than {high} 0.5s"));
    }
    // Equal bounds are fine.
    let o = opts(&["--min-rate", "10", "--max-rate", "10"]);
    assert_eq!(o.timing.min_rate, o.timing.max_rate);
}

#[test]
fn verbosity_and_debug_levels() {
    assert_eq!(opts(&["-v"]).output.verbose, 1);
    assert_eq!(opts(&["-vv"]).output.verbose, 2);
    assert_eq!(opts(&["-v", "-v", "-vv"]).output.verbose, 4);
    assert_eq!(opts(&["-v3"]).output.verbose, 3);
    assert_eq!(opts(&["-v0"]).output.verbose, 0);
    assert_eq!(opts(&["-d"]).output.debug, 1);
    assert_eq!(opts(&["-dd"]).output.debug, 2);
    assert_eq!(opts(&["-d9"]).output.debug, 9);
    let o = opts(&["-vvd"]);
    assert_eq!((o.output.verbose, o.output.debug), (2, 1));
    assert_eq!(
        err(&["-v3x"]),
        "invalid value \"3x\" for -v: expected a level 0-255"
    );
    assert_eq!(
        err(&["-v999"]),
        "invalid value \"999\" for -v: expected a level 0-255"
    );
}

#[test]
fn output_files() {
    let o = opts(&["-oN", "a.txt", "-oXout.xml", "-oG", "g.txt", "-oJ", "-"]);
    assert_eq!(o.output.normal, p("a.txt"));
    assert_eq!(o.output.xml, p("out.xml"));
    assert_eq!(o.output.grepable, p("g.txt"));
    assert_eq!(o.output.json, p("-"));
    assert_eq!(opts(&["-oN", "-"]).output.normal, p("-"));
    assert_eq!(opts(&["-oN-"]).output.normal, p("-"));
    // A file name that looks like an option is still taken verbatim.
    assert_eq!(opts(&["-oX", "-sT"]).output.xml, p("-sT"));
    assert_eq!(err(&["-oX"]), "-oX requires a value");
    assert_eq!(
        err(&["-oX", ""]),
        "invalid value \"\" for -oX: expected a file name"
    );
    assert_eq!(err(&["-oZ", "x"]), "unrecognized option \"-oZ\"");
    let e = err(&["-oN", "-", "-oX", "-"]);
    assert!(e.contains("stdout"), "{e}");
}

#[test]
fn output_all_formats() {
    let o = opts(&["-oA", "base"]);
    assert_eq!(o.output.normal, p("base.nmap"));
    assert_eq!(o.output.xml, p("base.xml"));
    assert_eq!(o.output.grepable, p("base.gnmap"));
    assert_eq!(o.output.json, None);
    assert_eq!(opts(&["-oAdir/scan"]).output.xml, p("dir/scan.xml"));
    // Later flags override one of the three.
    assert_eq!(opts(&["-oA", "b", "-oX", "-"]).output.xml, p("-"));
    assert!(err(&["-oA", "-"]).contains("for -oA"));
}

#[test]
fn output_switches() {
    let o = opts(&[
        "--reason",
        "-open",
        "--stats-every",
        "10s",
        "--noninteractive",
    ]);
    assert!(o.output.reason && o.output.open_only && o.noninteractive);
    assert_eq!(o.output.stats_every, Some(Duration::from_secs(10)));
    assert_eq!(err(&["--open=yes"]), "--open takes no value (got \"yes\")");
}

#[test]
fn target_specification_flags() {
    let o = opts(&[
        "-iL",
        "hosts.txt",
        "--exclude",
        "198.18.0.1,198.18.0.2",
        "--exclude=h3",
        "--unique",
        "-6",
    ]);
    assert_eq!(o.input_list, p("hosts.txt"));
    assert_eq!(o.exclude, ["198.18.0.1", "198.18.0.2", "h3"]);
    assert!(o.unique && o.ipv6);
    assert_eq!(opts(&["-iLlist"]).input_list, p("list"));
    assert_eq!(opts(&["-iL", "-"]).input_list, p("-"));
    assert_eq!(opts(&["--excludefile", "ex.txt"]).exclude_file, p("ex.txt"));
    assert_eq!(opts(&["--exclude", "a,,b,"]).exclude, ["a", "b"]);
    // Octet lists keep their commas.
    assert_eq!(
        opts(&["--exclude", "198.18.0,1,3-7.-,h4"]).exclude,
        ["198.18.0,1,3-7.-", "h4"]
    );
    assert!(err(&["--exclude", ","]).contains("for --exclude"));
    let e = err(&["--exclude", "a", "--excludefile", "f"]);
    assert!(
        e.contains("--exclude") && e.contains("--excludefile"),
        "{e}"
    );
    assert_eq!(err(&["-iL"]), "-iL requires a value");
}

#[test]
fn host_discovery_and_dns_flags() {
    let o = opts(&["-Pn", "-n", "--resolve-all"]);
    assert!(o.skip_discovery && o.no_dns && o.resolve_all);
    assert!(opts(&["-R"]).always_dns);
    assert!(opts(&["--Pn"]).skip_discovery);
    let e = err(&["-n", "-R"]);
    assert!(e.contains("-n") && e.contains("-R"), "{e}");
    let o = opts(&["--dns-servers", "198.18.0.53,2001:2::53", "--system-dns"]);
    assert_eq!(o.dns_servers.len(), 2);
    assert!(o.system_dns);
    assert_eq!(
        err(&["--dns-servers", "198.18.0.53,ns1"]),
        "invalid value \"ns1\" for --dns-servers: expected IP addresses separated by commas (e.g. 198.18.0.53,2001:2::53)"
    );
    assert!(opts(&["--disable-arp-ping"]).disable_arp_ping);
    assert!(opts(&["--send-ip"]).disable_arp_ping);
}

#[test]
fn clustered_short_switches() {
    let o = opts(&["-nFr6"]);
    assert!(o.no_dns && o.fast && o.sequential_ports && o.ipv6);
    let o = opts(&["-Pnv"]);
    assert!(o.skip_discovery);
    assert_eq!(o.output.verbose, 1);
    // A value-taking flag ends a cluster and takes the rest or the next argument.
    let o = opts(&["-np", "80"]);
    assert!(o.no_dns);
    assert_eq!(o.ports.as_deref(), Some("80"));
    assert_eq!(opts(&["-np80"]).ports.as_deref(), Some("80"));
    assert_eq!(err(&["-nq"]), "unrecognized option \"-nq\"");
}

#[test]
fn scanflags_values() {
    assert_eq!(
        opts(&["--scanflags", "URGACKPSHRSTSYNFIN"]).scanflags,
        Some(0x3f)
    );
    assert_eq!(opts(&["--scanflags=synfin", "-sS"]).scanflags, Some(0x03));
    assert_eq!(opts(&["-scanflags", "0x12"]).scanflags, Some(0x12));
    assert_eq!(opts(&["--scanflags", "255"]).scanflags, Some(0xff));
    let e = err(&["--scanflags", "SYNXYZ"]);
    assert!(
        e.starts_with("invalid value \"SYNXYZ\" for --scanflags"),
        "{e}"
    );
    assert!(err(&["--scanflags", "256"]).contains("\"256\""));
    let e = err(&["-sT", "--scanflags", "SYN"]);
    assert!(e.contains("--scanflags") && e.contains("-sT"), "{e}");
}

#[test]
fn evasion_flags() {
    let o = opts(&["-S", "198.18.0.1", "-e", "eth0", "-g", "53", "--ttl", "64"]);
    assert_eq!(
        o.net.source_addr,
        Some("198.18.0.1".parse::<IpAddr>().unwrap())
    );
    assert_eq!(o.net.interface.as_deref(), Some("eth0"));
    assert_eq!(o.net.source_port, Some(53));
    assert_eq!(o.net.ttl, Some(64));
    let o = opts(&["-S198.18.0.2", "-eeth1", "-g53", "--source-port=54"]);
    assert_eq!(
        o.net.source_addr,
        Some("198.18.0.2".parse::<IpAddr>().unwrap())
    );
    assert_eq!(o.net.interface.as_deref(), Some("eth1"));
    assert_eq!(o.net.source_port, Some(54));
    assert_eq!(opts(&["-source-port", "0"]).net.source_port, Some(0));
    assert_eq!(
        opts(&["-6", "-S", "2001:2::1"]).net.source_addr,
        Some("2001:2::1".parse().unwrap())
    );
    assert_eq!(
        err(&["-S", "nope"]),
        "invalid value \"nope\" for -S: expected an IPv4 or IPv6 address"
    );
    assert_eq!(
        err(&["-g", "65536"]),
        "invalid value \"65536\" for -g: expected a port number 0-65535"
    );
    assert_eq!(
        err(&["--source-port", "x"]),
        "invalid value \"x\" for --source-port: expected a port number 0-65535"
    );
    assert_eq!(
        err(&["--ttl", "256"]),
        "invalid value \"256\" for --ttl: expected a TTL 0-255"
    );
    assert_eq!(
        err(&["-e", ""]),
        "invalid value \"\" for -e: expected an interface name"
    );
    assert!(err(&["-S", "2001:2::1"]).contains("-6"));
    assert!(err(&["-6", "-S", "198.18.0.1"]).contains("-S 198.18.0.1"));
}

#[test]
fn misc_flags() {
    let o = opts(&["--seed", "42", "--shard", "2/3", "--privileged"]);
    assert_eq!(o.seed, Some(42));
    assert_eq!(o.shard, Some((2, 3)));
    assert_eq!(o.privileged, Some(true));
    assert_eq!(opts(&["--seed=0xdeadbeef"]).seed, Some(0xdead_beef));
    assert_eq!(opts(&["--unprivileged"]).privileged, Some(false));
    assert_eq!(
        opts(&["--privileged", "--unprivileged"]).privileged,
        Some(false)
    );
    assert_eq!(opts(&["198.18.0.1"]).privileged, None);
    assert_eq!(
        err(&["--shard", "3/2"]),
        "invalid value \"3/2\" for --shard: expected K/N with 1 <= K <= N"
    );
    assert!(err(&["--seed", "-1"]).starts_with("invalid value \"-1\" for --seed"));
}

#[test]
fn unknown_options_are_named() {
    assert_eq!(err(&["--foo"]), "unrecognized option \"--foo\"");
    assert_eq!(err(&["--foo=bar"]), "unrecognized option \"--foo\"");
    assert_eq!(err(&["-foo"]), "unrecognized option \"-foo\"");
    assert_eq!(err(&["-x"]), "unrecognized option \"-x\"");
    assert_eq!(err(&["--p"]), "unrecognized option \"--p\"");
}

#[test]
fn non_utf8_arguments_are_an_error() {
    use std::os::unix::ffi::OsStringExt;
    let bad = OsString::from_vec(vec![b'-', b'p', 0xff]);
    let e = parse([bad]).unwrap_err();
    assert!(matches!(e, CliError::NotUnicode(_)), "{e}");
}

#[test]
fn help_lists_every_group_and_flag() {
    let help = help_text();
    assert!(help.contains("Usage: portolan"));
    let scan_flags = || {
        flags::table()
            .iter()
            .filter(|f| f.commands.contains(&Subcommand::Scan))
    };
    for group in flags::Group::ALL {
        if scan_flags().any(|f| f.group == group) {
            assert!(
                help.contains(&format!("\n{}:\n", group.heading())),
                "{}",
                group.heading()
            );
        }
    }
    assert!(help.contains("\nEXAMPLES:\n"));
    for flag in scan_flags() {
        let line = format!("  {}: {}", flag.usage(), flag.help);
        assert!(help.contains(&line), "missing {line}");
        let marked = help
            .lines()
            .any(|l| l.starts_with(&line) && l.ends_with("(not yet supported)"));
        assert_eq!(marked, !flag.available, "{line}");
        if let Some(s) = flag.short {
            assert!(help.contains(&format!("-{s}")));
        }
        if let Some(l) = flag.long {
            assert!(help.contains(&format!("--{l}")));
        }
    }
    assert!(help.contains("README"));
    let pn = help.lines().find(|l| l.starts_with("  -Pn:")).unwrap();
    assert!(pn.ends_with("skip host discovery"), "{pn}");
    assert!(help.contains("  -T<0-5>: "));
    assert!(help.contains("  -g/--source-port <portnum>: "));
    assert!(help.contains("  -PS[portlist]: "));
}

#[test]
fn flag_table_is_consistent() {
    let table = flags::table();
    for (i, a) in table.iter().enumerate() {
        assert!(a.short.is_some() || a.long.is_some());
        assert!(!a.help.is_empty());
        // A name may mean different things to different subcommands
        // (`-n`: no DNS for a scan, no owners for `local`), never two
        // things to one.
        for b in &table[i + 1..] {
            if !a.commands.iter().any(|c| b.commands.contains(c)) {
                continue;
            }
            assert!(
                a.short.is_none() || a.short != b.short,
                "duplicate {:?}",
                a.short
            );
            assert!(
                a.long.is_none() || a.long != b.long,
                "duplicate {:?}",
                a.long
            );
        }
        // Scan letters must be `s` + one letter so that `-sSU` splits.
        if a.value == ValueKind::ScanLetter {
            let s = a.short.unwrap_or_default();
            assert!(s.len() == 2 && s.starts_with('s'), "{s}");
        }
    }
    for t in ScanType::ALL {
        assert!(
            flags::table()
                .iter()
                .any(|f| f.short == Some(&t.flag()[1..])),
            "{t:?}"
        );
    }
}

#[test]
fn version_names_the_program_and_platform() {
    let v = version_text();
    assert!(
        v.starts_with(&format!("Portolan version {} (", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    assert!(v.contains(std::env::consts::OS));
    assert!(v.contains("connect") && v.contains("syn"));
    assert!(v.contains("udp") && !v.contains("not yet supported"), "{v}");
}

/// Tokens that make random command lines hit every parser path.
fn token() -> impl Strategy<Value = String> {
    let known: Vec<String> = flags::table()
        .iter()
        .flat_map(|f| {
            let s = f.short.map(|s| format!("-{s}"));
            let l = f.long.map(|l| format!("--{l}"));
            let l1 = f.long.map(|l| format!("-{l}="));
            [s, l, l1].into_iter().flatten()
        })
        .chain(
            [
                "--", "-", "-sSU", "-vv", "-v3", "-p-", "0", "1/2", "5x", "0x1f",
            ]
            .map(String::from),
        )
        .collect();
    prop_oneof![
        proptest::sample::select(known),
        "-{0,2}[a-zA-Z0-9=/.:,-]{0,12}",
        any::<String>(),
        (
            proptest::sample::select(vec!["-", "--", "-s", "-o", "-P", "-T", "-v", "-p"]),
            ".{0,6}"
        )
            .prop_map(|(a, b)| format!("{a}{b}")),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(args in proptest::collection::vec(token(), 0..8)) {
        let _ = parse(args.into_iter().map(OsString::from));
    }

    #[test]
    fn parse_never_panics_on_bytes(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..10), 0..6)) {
        use std::os::unix::ffi::OsStringExt;
        let _ = parse(args.into_iter().map(OsString::from_vec));
    }
}

#[test]
fn udp_exact_is_a_timing_switch() {
    assert!(!opts(&["-sU", "198.18.0.1"]).timing.udp_exact);
    let o = opts(&["-sU", "--udp-exact", "-p1-1000", "198.18.0.1"]);
    assert!(o.timing.udp_exact);
    assert_eq!(
        err(&["--udp-exact=yes", "198.18.0.1"]),
        "--udp-exact takes no value (got \"yes\")"
    );
    let help = help_text();
    assert!(help.contains("--udp-exact"), "{help}");
}

proptest! {
    #[test]
    fn errors_are_one_short_line_whatever_was_typed(args in proptest::collection::vec(token(), 1..6), junk in "[\\x00-\\x1f\\x7f\\u{85}\\u{2028}a-z]{0,300}") {
        let mut args: Vec<String> = args;
        args.push(format!("--max-rate={junk}"));
        args.push(format!("--{junk}"));
        if let Err(e) = parse(args.into_iter().map(OsString::from)) {
            let text = e.to_string();
            prop_assert!(!text.chars().any(|c| c.is_control() || c == '\u{2028}'), "{text:?}");
            prop_assert!(text.chars().count() < 400, "{text:?}");
        }
    }
}

#[test]
fn errors_escape_and_cut_what_was_typed() {
    assert_eq!(
        err(&["--max-rate", "1\x1b[2J", "198.18.0.1"]),
        "invalid value \"1\\x1b[2J\" for --max-rate: expected a positive number of packets per second"
    );
    let e = err(&[&format!("--{}\n", "x".repeat(200))]);
    assert!(!e.contains('\n') && e.chars().count() < 120, "{e}");
    let e = err(&["--host-timeout", "5\rm", "198.18.0.1"]);
    assert!(e.contains("\"5\\rm\""), "{e}");
}
