//! `--help` and `--version` text, generated from the flag table.
//!
//! The help page is laid out like nmap's `-h` summary, so an nmap user
//! finds each flag where they expect it; every line comes from a table row,
//! so a flag cannot exist without appearing here.

use super::flags::{self, Group};
use super::{ScanType, Subcommand};
use std::fmt::Write as _;

/// The program version, from Cargo.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The nmap-style `-h` summary: usage line, the subcommands, one section
/// per [`Group`] with every flag of the scan command (unavailable ones
/// marked "(not yet supported)"), then examples.
pub fn help_text() -> String {
    let mut out = format!(
        "Portolan {VERSION} ( nmap-style network port scanner )\n\
         Usage: portolan [scan] [Scan Type(s)] [Options] {{target specification}}\n\
         \x20      portolan <subcommand> [...] | portolan help [subcommand]\n"
    );
    out.push_str("SUBCOMMANDS:\n");
    for sub in Subcommand::ALL {
        let _ = write!(out, "  {}: {}", sub.name(), sub.summary());
        if !sub.available() {
            out.push_str(" (not yet supported)");
        }
        out.push('\n');
    }
    out.push_str(
        "  (after `scan` every word is a target: `portolan scan diff` scans host \"diff\")\n",
    );
    write_flags(&mut out, Subcommand::Scan);
    out.push_str(
        "EXAMPLES:\n  \
         portolan -v -sT -p 22,80,443 198.18.0.1\n  \
         portolan -sS -T4 -F --open 198.18.0.0/24\n  \
         portolan -sT -p- --min-rate 1000 -oA scan scanme.example\n  \
         portolan -6 -sS --top-ports 100 -oX - 2001:2::1\n\
         SEE THE README FOR THE TIMING TEMPLATES' VALUES AND MORE EXAMPLES\n",
    );
    out
}

/// `portolan help SUBCOMMAND`: the scan command's help is [`help_text`];
/// a reserved subcommand says what it will do and that it is not built
/// yet.
pub fn subcommand_help(sub: Subcommand) -> String {
    if sub == Subcommand::Scan {
        return help_text();
    }
    let mut out = format!("portolan {}: {}", sub.name(), sub.summary());
    if !sub.available() {
        out.push_str(" (not yet supported)");
    }
    out.push('\n');
    if sub == Subcommand::Diff {
        out.push_str(
            "Usage: portolan diff [A [B]] [options]\n\
             Compares scan A (older) with scan B (newer), as ndiff does. A and B are\n\
             history ids, `last`, tags, or files (nmap's XML, portolan's XML or JSON).\n\
             Without B, A is compared with the last scan; without either, the last\n\
             two scans of the same targets. A port only one scan covered is counted\n\
             as not compared, never shown as closed. Exit status: 0 same, 1 different,\n\
             2 error.\n",
        );
        write_flags(&mut out, sub);
        out.push_str(
            "EXAMPLES:\n  \
             portolan diff                       # the last two scans of the same targets\n  \
             portolan diff baseline last --json\n  \
             portolan diff monday.xml tuesday.xml --xml\n",
        );
    }
    if sub == Subcommand::History {
        out.push_str(
            "Usage: portolan history [TARGET] [--port P] [--service S] [options]\n\
             \x20      portolan history --tag NAME [SCAN] | --prune AGE\n\
             Without a target, lists the stored scans. With a target (an address or\n\
             host name), --port or --service, shows each port's timeline: first seen,\n\
             last seen, and every change of state or service.\n",
        );
        write_flags(&mut out, sub);
    }
    if sub == Subcommand::Import {
        out.push_str(
            "Usage: portolan import FILE... [options]\n\
             Records nmap's XML, or portolan's XML or JSON, in the scan history.\n",
        );
        write_flags(&mut out, sub);
    }
    if sub == Subcommand::Report {
        out.push_str(
            "Usage: portolan report FILE... [-o report.html]\n\
             Reads scans (portolan or nmap XML, portolan JSON) and writes one HTML file:\n\
             inline styles, script and charts, no network fetches, opens from file://.\n",
        );
        write_flags(&mut out, sub);
        out.push_str(
            "EXAMPLES:\n  \
             portolan report scan.xml -o report.html\n  \
             portolan report monday.json tuesday.json -o week.html\n",
        );
    }
    if sub == Subcommand::Local {
        out.push_str(
            "Usage: portolan local [options]\n\
             Lists this machine's TCP and UDP sockets (by default the listening ones)\n\
             with their states, queues, owning processes and bind scope.\n",
        );
        write_flags(&mut out, sub);
        out.push_str(
            "EXAMPLES:\n  \
             portolan local                      # what listens, and who owns it\n  \
             portolan local -a --state close-wait,time-wait -s\n  \
             portolan local -t -p 80,443 -oJ -\n  \
             portolan local --netns all --every 2s\n",
        );
    }
    out
}

/// One section per [`Group`] that has rows of `sub`, each row a line.
fn write_flags(out: &mut String, sub: Subcommand) {
    for group in Group::ALL {
        let mut rows = flags::table()
            .iter()
            .filter(|f| f.group == group && f.commands.contains(&sub))
            .peekable();
        if rows.peek().is_none() {
            continue;
        }
        let _ = writeln!(out, "{}:", group.heading());
        for line in group.intro() {
            let _ = writeln!(out, "  {line}");
        }
        for flag in rows {
            let _ = write!(out, "  {}: {}", flag.usage(), flag.help);
            if !flag.available {
                out.push_str(" (not yet supported)");
            }
            out.push('\n');
        }
    }
}

/// `-V` output: the version line and what this build can do.
pub fn version_text() -> String {
    let (ready, pending): (Vec<ScanType>, Vec<ScanType>) =
        ScanType::ALL.into_iter().partition(|t| {
            flags::by_short(&t.flag()[1..], Subcommand::Scan).is_some_and(|f| f.available)
        });
    let names = |ts: &[ScanType]| ts.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
    let mut out = format!(
        "Portolan version {VERSION} ( nmap-style network port scanner )\n\
         Platform: {}-{}\n\
         Scan techniques: {}",
        std::env::consts::ARCH,
        std::env::consts::OS,
        names(&ready)
    );
    if !pending.is_empty() {
        let _ = write!(out, " (not yet supported: {})", names(&pending));
    }
    out.push('\n');
    out
}
