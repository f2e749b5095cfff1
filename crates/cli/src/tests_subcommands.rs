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

const RESERVED: [&str; 5] = ["diff", "history", "local", "report", "import"];

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
    for word in RESERVED.iter().chain(&["scan", "help"]) {
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
        assert!(text.contains("not yet supported"), "{text}");
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
fn every_current_flag_belongs_to_scan() {
    for flag in flags::table() {
        assert!(flag.commands.contains(&Subcommand::Scan), "{flag:?}");
    }
}

/// The flags of features a later issue builds: present in the table and
/// help, refused by name rather than "unrecognized".
#[test]
fn later_issue_flags_are_not_yet_supported() {
    let cases: [(&[&str], &str); 14] = [
        (&["-O"], "-O"),
        (&["--osscan-limit"], "--osscan-limit"),
        (&["--osscan-guess"], "--osscan-guess"),
        (&["--fuzzy"], "--fuzzy"),
        (&["--max-os-tries", "2"], "--max-os-tries"),
        (&["-A"], "-A"),
        (&["-sC"], "-sC"),
        (&["--script", "default"], "--script"),
        (&["--script-args", "a=b"], "--script-args"),
        (&["--resume", "scan.xml"], "--resume"),
        (&["-oH", "scan.html"], "-oH"),
        (&["--live"], "--live"),
        (&["--history"], "--history"),
        (&["--no-history"], "--no-history"),
    ];
    let help = help_text();
    for (args, shown) in cases {
        let mut line = args.to_vec();
        line.push("198.18.0.1");
        assert_eq!(
            err(&line),
            format!("{shown}: not yet supported"),
            "{line:?}"
        );
        line.insert(0, "scan");
        assert_eq!(
            err(&line),
            format!("{shown}: not yet supported"),
            "{line:?}"
        );
        let marked = help
            .lines()
            .any(|l| l.starts_with(&format!("  {shown}")) && l.ends_with("(not yet supported)"));
        assert!(marked, "{shown} not marked in help");
    }
    // Other spellings reach the same rows.
    assert_eq!(
        err(&["--script=default", "198.18.0.1"]),
        "--script: not yet supported"
    );
    assert_eq!(
        err(&["-script", "default", "198.18.0.1"]),
        "--script: not yet supported"
    );
    assert_eq!(err(&["-sVC", "198.18.0.1"]), "-sC: not yet supported");
    assert_eq!(
        err(&["-oHscan.html", "198.18.0.1"]),
        "-oH: not yet supported"
    );
}
