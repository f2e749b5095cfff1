//! Tests of subcommand dispatch (`scan`, the reserved words, `help`) and of
//! the flags a later issue implements, refused by name.

use super::flags;
use super::*;
use std::ffi::OsString;

fn run(args: &[&str]) -> Result<Command, CliError> {
    parse(args.iter().map(OsString::from))
}

fn opts(args: &[&str]) -> Options {
    match run(args) {
        Ok(Command::Scan(o)) => *o,
        other => panic!("{args:?} gave {other:?}"),
    }
}

fn err(args: &[&str]) -> String {
    match run(args) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("{args:?} should fail but gave {c:?}"),
    }
}

const RESERVED: [&str; 0] = [];

#[test]
fn scan_word_is_the_same_as_no_word() {
    let plain = opts(&["-sT", "-p", "22,80", "--open", "198.18.0.1"]);
    let mut worded = opts(&["scan", "-sT", "-p", "22,80", "--open", "198.18.0.1"]);
    assert_eq!(
        worded.args_line,
        "portolan scan -sT -p 22,80 --open 198.18.0.1"
    );
    worded.args_line = plain.args_line.clone();
    assert_eq!(worded, plain);
}

#[test]
fn scan_word_alone_is_help_like_no_arguments() {
    assert_eq!(run(&["scan"]), Ok(Command::Help));
    assert_eq!(run(&["scan", "-h"]), Ok(Command::Help));
    assert_eq!(run(&["scan", "--help"]), Ok(Command::Help));
    assert_eq!(run(&["scan", "-V"]), Ok(Command::Version));
}

#[test]
fn after_scan_every_word_is_a_target() {
    for word in RESERVED.iter().chain(&[
        "scan", "help", "local", "diff", "history", "import", "report",
    ]) {
        assert_eq!(opts(&["scan", word]).targets, vec![word.to_string()]);
    }
    assert_eq!(
        opts(&["scan", "-sT", "diff", "report"]).targets,
        vec!["diff".to_string(), "report".to_string()]
    );
}

#[test]
fn subcommand_words_are_targets_after_the_first_position() {
    assert_eq!(opts(&["-sT", "diff"]).targets, vec!["diff".to_string()]);
    assert_eq!(
        opts(&["198.18.0.1", "history"]).targets,
        vec!["198.18.0.1".to_string(), "history".to_string()]
    );
    // `--` ends options before the first word too.
    assert_eq!(opts(&["--", "local"]).targets, vec!["local".to_string()]);
}

#[test]
fn reserved_subcommands_are_not_yet_supported() {
    for word in RESERVED {
        let expected = format!("'{word}' is not yet supported");
        assert_eq!(err(&[word]), expected);
        assert_eq!(err(&[word, "-sT", "198.18.0.1"]), expected);
        assert_eq!(err(&[word, "--help"]), expected);
        assert!(!expected.contains("unrecognized"));
    }
}

#[test]
fn help_word_and_help_for_a_subcommand() {
    assert_eq!(run(&["help"]), Ok(Command::Help));
    assert_eq!(run(&["help", "scan"]), Ok(Command::Help));
    for sub in Subcommand::ALL
        .into_iter()
        .filter(|s| *s != Subcommand::Scan)
    {
        assert_eq!(run(&["help", sub.name()]), Ok(Command::SubcommandHelp(sub)));
        let text = subcommand_help(sub);
        assert!(
            text.starts_with(&format!("portolan {}: ", sub.name())),
            "{text}"
        );
        assert_eq!(
            text.contains("not yet supported"),
            !sub.available(),
            "{text}"
        );
    }
    assert_eq!(subcommand_help(Subcommand::Scan), help_text());
    assert_eq!(
        err(&["help", "frobnicate"]),
        "unknown subcommand \"frobnicate\" (subcommands: scan, diff, history, local, report, import)"
    );
}

#[test]
fn help_lists_the_subcommands() {
    let help = help_text();
    assert!(help.contains("\nSUBCOMMANDS:\n"), "{help}");
    for sub in Subcommand::ALL {
        let line = format!("  {}: {}", sub.name(), sub.summary());
        let shown = help
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("missing {line}"));
        assert_eq!(shown.ends_with("(not yet supported)"), !sub.available());
    }
    for arg in ["-h", "--help"] {
        assert_eq!(run(&[arg]), Ok(Command::Help));
    }
}

#[test]
fn subcommand_names_round_trip() {
    for sub in Subcommand::ALL {
        assert_eq!(Subcommand::from_name(sub.name()), Some(sub));
    }
    assert_eq!(Subcommand::from_name("help"), None);
    assert_eq!(Subcommand::from_name("Scan"), None);
}

#[test]
fn every_flag_belongs_to_an_available_subcommand() {
    for flag in flags::table() {
        assert!(!flag.commands.is_empty(), "{flag:?}");
        assert!(flag.commands.iter().all(|c| c.available()), "{flag:?}");
    }
}

/// `--resume FILE` (nmap's form) stands alone: the checkpoint holds the
/// options, so anything else beside it is refused by name.
#[test]
fn resume_takes_its_file_and_nothing_else() {
    for args in [
        &["--resume", "scan.xml"][..],
        &["--resume=scan.xml"],
        &["-resume", "scan.xml"],
        &["scan", "--resume", "scan.xml"],
    ] {
        let got = parse(args.iter().map(OsString::from)).expect("parses");
        assert!(
            matches!(&got, Command::Resume(p) if p == std::path::Path::new("scan.xml")),
            "{args:?}: {got:?}"
        );
    }
    let alone = "--resume takes no other arguments: the checkpoint holds the scan's options";
    assert_eq!(err(&["--resume", "scan.xml", "198.18.0.1"]), alone);
    assert_eq!(err(&["-Pn", "--resume", "scan.xml"]), alone);
    assert_eq!(err(&["--resume=scan.xml", "-Pn"]), alone);
    assert_eq!(
        err(&["--resume="]),
        "invalid value \"\" for --resume: expected a checkpoint file"
    );
}

#[test]
fn report_reads_files_and_an_output() {
    let Ok(Command::Report(r)) = run(&["report", "a.xml", "-o", "r.html", "b.json"]) else {
        panic!("not a report command");
    };
    assert_eq!(r.inputs, ["a.xml", "b.json"].map(std::path::PathBuf::from));
    assert_eq!(r.output.as_deref(), Some(std::path::Path::new("r.html")));
    let Ok(Command::Report(r)) = run(&["report", "--output=-", "--", "-odd.xml"]) else {
        panic!("not a report command");
    };
    assert_eq!(r.inputs, [std::path::PathBuf::from("-odd.xml")]);
    assert_eq!(
        err(&["report"]),
        "portolan report needs a scan (an XML or JSON file, or a stored scan: last, an id, a tag)"
    );
    assert_eq!(
        err(&["report", "-sT", "a.xml"]),
        "unrecognized option \"-sT\""
    );
    assert_eq!(
        run(&["report", "-h"]),
        Ok(Command::SubcommandHelp(Subcommand::Report))
    );
    let help = subcommand_help(Subcommand::Report);
    assert!(help.contains("-o/--output <file>"), "{help}");
}

/// `--history` chooses the store, `--no-history` turns recording off;
/// both together are refused.
#[test]
fn history_flags_choose_the_store() {
    let o = opts(&["--history", "/tmp/h.sqlite", "198.18.0.1"]);
    assert_eq!(o.history.as_deref(), Some("/tmp/h.sqlite"));
    assert!(!o.no_history);
    let o = opts(&["--history=postgres://db/scans", "198.18.0.1"]);
    assert_eq!(o.history.as_deref(), Some("postgres://db/scans"));
    let o = opts(&["--no-history", "198.18.0.1"]);
    assert!(o.no_history && o.history.is_none());
    assert!(!opts(&["198.18.0.1"]).no_history);
    assert_eq!(
        err(&["--history", "a.sqlite", "--no-history", "198.18.0.1"]),
        "--history and --no-history cannot be combined"
    );
    assert_eq!(
        err(&["--history", "", "198.18.0.1"]),
        err(&["--history=", "198.18.0.1"])
    );
}

fn local(args: &[&str]) -> crate::local::LocalOptions {
    match run(args) {
        Ok(Command::Local(o)) => *o,
        other => panic!("{args:?} gave {other:?}"),
    }
}

#[test]
fn local_alone_lists_listeners() {
    let o = local(&["local"]);
    assert_eq!(o, crate::local::LocalOptions::default());
}

#[test]
fn local_reads_its_own_rows_of_the_flag_table() {
    let o = local(&[
        "local",
        "-tan",
        "-p",
        "22,80",
        "--state",
        "time-wait,close-wait",
        "--pid",
        "7",
        "--process",
        "sshd",
        "--netns",
        "all",
        "-s",
        "-oJ",
        "-",
        "--every",
        "2s",
        "--count",
        "3",
        "-6",
    ]);
    let q = &o.query;
    assert!(q.tcp && q.all && q.no_owners && q.ipv6 && !q.udp && !q.ipv4);
    assert_eq!(q.ports.as_deref(), Some("22,80"));
    assert_eq!(q.states, ["time-wait", "close-wait"]);
    assert_eq!((q.pid, q.process.as_deref()), (Some(7), Some("sshd")));
    assert_eq!(q.netns.as_deref(), Some("all"));
    assert!(o.summary);
    assert_eq!(o.json.as_deref(), Some(std::path::Path::new("-")));
    assert_eq!(o.every, Some(std::time::Duration::from_secs(2)));
    assert_eq!(o.count, Some(3));
    // -n means "no owners" here and "no DNS" for a scan: one name, two rows.
    assert!(opts(&["-n", "198.18.0.1"]).no_dns);
}

#[test]
fn local_refuses_scan_flags_words_and_bad_values_by_name() {
    assert_eq!(err(&["local", "-sT"]), "unrecognized option \"-sT\"");
    assert_eq!(err(&["local", "--open"]), "unrecognized option \"--open\"");
    assert_eq!(
        err(&["local", "198.18.0.1"]),
        "portolan local takes no arguments besides options (got \"198.18.0.1\")"
    );
    assert!(err(&["local", "--pid", "x"]).contains("\"x\""));
    assert!(err(&["local", "--every", "10ms"]).contains("at least 100ms"));
    assert!(err(&["local", "--count", "0"]).contains("\"0\""));
    // Rows of `local` are no flags of the scan.
    assert_eq!(
        err(&["--summary", "198.18.0.1"]),
        "unrecognized option \"--summary\""
    );
}

#[test]
fn local_help_lists_its_flags() {
    assert_eq!(
        run(&["local", "-h"]),
        Ok(Command::SubcommandHelp(Subcommand::Local))
    );
    let text = crate::subcommand_help(Subcommand::Local);
    for flag in ["--state", "--netns", "--every", "-oJ", "--summary"] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
    assert!(
        !crate::help_text().contains("--netns"),
        "scan help lists only scan flags"
    );
}

fn diff(args: &[&str]) -> crate::diff::DiffOptions {
    match run(args) {
        Ok(Command::Diff(o)) => *o,
        other => panic!("{args:?} gave {other:?}"),
    }
}

#[test]
fn diff_takes_up_to_two_scans_and_its_own_flags() {
    use crate::diff::DiffFormat;
    assert_eq!(diff(&["diff"]).scans, Vec::<String>::new());
    let o = diff(&["diff", "baseline", "last", "--json", "--all"]);
    assert_eq!(o.scans, vec!["baseline".to_string(), "last".to_string()]);
    assert_eq!(o.format, DiffFormat::Json);
    assert!(o.all);
    let o = diff(&["diff", "--xml", "a.xml", "--history", "h.sqlite", "b.xml"]);
    assert_eq!(o.format, DiffFormat::Xml);
    assert_eq!(o.history.as_deref(), Some("h.sqlite"));
    assert_eq!(err(&["diff", "a", "b", "c"]), err(&["diff", "a", "b", "c"]));
    assert!(err(&["diff", "a", "b", "c"]).contains("\"c\""));
    assert!(err(&["diff", "--xml", "--json"]).contains("choose one"));
    assert!(err(&["diff", "-sT"]).contains("-sT"));
    assert_eq!(
        run(&["diff", "-h"]),
        Ok(Command::SubcommandHelp(Subcommand::Diff))
    );
}

#[test]
fn history_and_import_take_their_words_and_flags() {
    let h = match run(&["history", "198.18.0.2", "--port", "22", "--service", "ssh"]) {
        Ok(Command::History(h)) => *h,
        other => panic!("{other:?}"),
    };
    assert_eq!(h.word.as_deref(), Some("198.18.0.2"));
    assert_eq!((h.port, h.service.as_deref()), (Some(22), Some("ssh")));
    let Ok(Command::History(h)) = run(&["history", "--prune", "90d"]) else {
        panic!()
    };
    assert_eq!(h.prune, Some(90 * 86_400));
    let Ok(Command::History(h)) = run(&["history", "--tag", "baseline", "3"]) else {
        panic!()
    };
    assert_eq!(
        (h.tag.as_deref(), h.word.as_deref()),
        (Some("baseline"), Some("3"))
    );
    assert!(err(&["history", "--prune", "90"]).contains("90d"));
    assert!(err(&["history", "--tag", "12"]).contains("not a number"));
    assert!(err(&["history", "a", "b"]).contains("\"b\""));
    assert!(err(&["history", "--port", "70000"]).contains("70000"));
    let Ok(Command::Import(i)) = run(&["import", "a.xml", "b.json", "--tag", "old"]) else {
        panic!()
    };
    assert_eq!(i.files, vec!["a.xml".to_string(), "b.json".to_string()]);
    assert_eq!(i.tag.as_deref(), Some("old"));
    assert!(err(&["import"]).contains("at least one file"));
}

#[test]
fn scan_id_names_a_sharded_scan() {
    let o = opts(&["--scan-id", "weekly", "--shard", "1/4", "198.18.0.1"]);
    assert_eq!(o.scan_config().scan_id.as_deref(), Some("weekly"));
    for bad in ["12", "last", ""] {
        let e = err(&["--scan-id", bad, "198.18.0.1"]);
        assert!(e.contains("--scan-id"), "{bad}: {e}");
    }
}
