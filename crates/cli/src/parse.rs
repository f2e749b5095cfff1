//! Reading argv the way nmap does.
//!
//! nmap parses with `getopt_long_only`, so its users type things no
//! ordinary Rust argument parser accepts: one-dash long options
//! (`-top-ports 100`), values glued to multi-letter names (`-oXout.xml`,
//! `-p-`), several scan letters in one argument (`-sSU`), repeated level
//! flags (`-vv`, `-v3`), and options mixed freely with targets. This module
//! reproduces that grammar on top of the flag table; it knows nothing about
//! individual flags except what their rows say.
//!
//! Parsing is two steps, as in ripgrep: each flag's effect checks its own
//! value, then [`validate`] checks combinations that no single flag can see
//! (`-F` with `-p`, `--min-rate` above `--max-rate`). Nothing here touches
//! files, DNS or interfaces.

use super::flags::{self, Builder, Flag, ValueKind};
use super::{CliError, Command, Options, ScanType, Subcommand};
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

/// Parses a command line (without `argv[0]`) into a [`Command`].
///
/// No arguments at all means [`Command::Help`], as with nmap. `-h` or `-V`
/// stop parsing where they appear. A first word that names a
/// [`Subcommand`] selects it (`scan` is the nmap-style command; the others
/// are refused as not yet supported); `help [SUBCOMMAND]` asks for help.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, CliError> {
    let args = args
        .into_iter()
        .map(|a| {
            a.into_string()
                .map_err(|a| CliError::NotUnicode(a.to_string_lossy().into_owned()))
        })
        .collect::<Result<Vec<String>, _>>()?;
    let Some(first) = args.first() else {
        return Ok(Command::Help);
    };
    if first == "help" {
        return help_command(&args[1..]);
    }
    let (command, rest) = match Subcommand::from_name(first) {
        Some(sub) => (sub, &args[1..]),
        None => (Subcommand::Scan, &args[..]),
    };
    command.check_available()?;
    match command {
        // `portolan local` alone lists the listeners, as `ss -tuln` does.
        Subcommand::Local => local(rest),
        Subcommand::Diff => diff(rest),
        Subcommand::History => words(Subcommand::History, rest),
        Subcommand::Import => words(Subcommand::Import, rest),
        Subcommand::Report => report(rest),
        _ if rest.is_empty() => Ok(Command::Help),
        _ => scan(&args, rest),
    }
}

/// `portolan local [options]`: no positional words, only its own rows of
/// the flag table.
fn local(rest: &[String]) -> Result<Command, CliError> {
    let mut b = Builder::new(Subcommand::Local, Options::default());
    let mut cursor = Cursor {
        args: rest,
        next: 0,
    };
    while let Some(arg) = cursor.take() {
        if arg == "-" || !arg.starts_with('-') {
            return Err(CliError::UnexpectedArgument {
                command: "local",
                arg: arg.to_owned(),
            });
        }
        flag_argument(&mut b, arg, &mut cursor)?;
        if let Some(command) = b.early.take() {
            return Ok(command);
        }
    }
    Ok(Command::Local(Box::new(b.local)))
}

/// `portolan report FILE... [-o FILE]`: the words are scan files.
fn report(rest: &[String]) -> Result<Command, CliError> {
    let mut b = Builder::new(Subcommand::Report, Options::default());
    let mut cursor = Cursor {
        args: rest,
        next: 0,
    };
    let mut options_ended = false;
    while let Some(arg) = cursor.take() {
        if options_ended || arg == "-" || !arg.starts_with('-') {
            b.report.inputs.push(arg.into());
        } else if arg == "--" {
            options_ended = true;
        } else {
            flag_argument(&mut b, arg, &mut cursor)?;
        }
        if let Some(command) = b.early.take() {
            return Ok(command);
        }
    }
    if b.report.inputs.is_empty() {
        return Err(CliError::MissingArgument {
            command: "report",
            what: "a scan (an XML or JSON file, or a stored scan: last, an id, a tag)",
        });
    }
    Ok(Command::Report(b.report))
}

/// `portolan diff [A [B]] [options]`: at most two scans, and its own
/// rows of the flag table.
fn diff(rest: &[String]) -> Result<Command, CliError> {
    let mut b = Builder::new(Subcommand::Diff, Options::default());
    let mut cursor = Cursor {
        args: rest,
        next: 0,
    };
    while let Some(arg) = cursor.take() {
        if arg == "-" || !arg.starts_with('-') {
            if b.diff.scans.len() == 2 {
                return Err(CliError::Conflict(format!(
                    "portolan diff compares two scans; \"{}\" would be a third",
                    portolan_targets::escape_token(arg)
                )));
            }
            b.diff.scans.push(arg.to_owned());
            continue;
        }
        flag_argument(&mut b, arg, &mut cursor)?;
        if let Some(command) = b.early.take() {
            return Ok(command);
        }
    }
    Ok(Command::Diff(Box::new(b.diff)))
}

/// `portolan history [TARGET|SCAN] [options]` (one word at most) and
/// `portolan import FILE... [options]` (at least one file).
fn words(cmd: Subcommand, rest: &[String]) -> Result<Command, CliError> {
    let mut b = Builder::new(cmd, Options::default());
    let mut cursor = Cursor {
        args: rest,
        next: 0,
    };
    while let Some(arg) = cursor.take() {
        if arg == "-" || !arg.starts_with('-') {
            if cmd == Subcommand::Import {
                b.import.files.push(arg.to_owned());
            } else if b.history.word.is_some() {
                return Err(CliError::Conflict(format!(
                    "portolan history takes one target or scan; \"{}\" is a second",
                    portolan_targets::escape_token(arg)
                )));
            } else {
                b.history.word = Some(arg.to_owned());
            }
            continue;
        }
        flag_argument(&mut b, arg, &mut cursor)?;
        if let Some(command) = b.early.take() {
            return Ok(command);
        }
    }
    if cmd == Subcommand::Import {
        if b.import.files.is_empty() {
            return Err(CliError::Conflict(
                "portolan import needs at least one file (nmap's or portolan's XML or JSON)".into(),
            ));
        }
        return Ok(Command::Import(Box::new(b.import)));
    }
    Ok(Command::History(Box::new(b.history)))
}

/// One argument that starts with a dash: a long option, nmap's
/// one-dash long form, or a cluster of short ones.
fn flag_argument(b: &mut Builder, arg: &str, cursor: &mut Cursor<'_>) -> Result<(), CliError> {
    if let Some(body) = arg.strip_prefix("--") {
        return long_option(b, "--", body, cursor);
    }
    let body = &arg[1..];
    let name = body.split_once('=').map_or(body, |(name, _)| name);
    if flags::by_long(name, b.cmd).is_some() {
        long_option(b, "-", body, cursor)
    } else {
        short_cluster(b, arg, body, cursor)
    }
}

/// `portolan help`, `portolan help SUBCOMMAND`.
fn help_command(rest: &[String]) -> Result<Command, CliError> {
    match rest.first() {
        None => Ok(Command::Help),
        Some(word) => match Subcommand::from_name(word) {
            Some(Subcommand::Scan) => Ok(Command::Help),
            Some(sub) => Ok(Command::SubcommandHelp(sub)),
            None => Err(CliError::UnknownSubcommand(word.clone())),
        },
    }
}

/// The nmap-style scan command: `rest` are its arguments (after the
/// `scan` word, if typed); `args` is the whole line, for output headers.
fn scan(args: &[String], rest: &[String]) -> Result<Command, CliError> {
    let mut b = Builder::new(
        Subcommand::Scan,
        Options {
            args_line: std::iter::once("portolan")
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            ..Options::default()
        },
    );
    let mut cursor = Cursor {
        args: rest,
        next: 0,
    };
    let mut options_ended = false;
    while let Some(arg) = cursor.take() {
        if options_ended || arg == "-" || !arg.starts_with('-') {
            b.opts.targets.push(arg.to_owned());
        } else if arg == "--" {
            options_ended = true;
        } else {
            flag_argument(&mut b, arg, &mut cursor)?;
        }
        if let Some(command) = b.early.take() {
            let alone = cursor.next == rest.len()
                && rest[0].trim_start_matches('-').starts_with("resume")
                && (rest.len() == 1 || !rest[0].contains('='));
            if matches!(command, Command::Resume(_)) && !alone {
                return Err(CliError::Conflict(
                    "--resume takes no other arguments: the checkpoint holds the scan's options"
                        .into(),
                ));
            }
            return Ok(command);
        }
    }
    validate(&b.opts)?;
    Ok(Command::Scan(Box::new(b.opts)))
}

/// The arguments not yet consumed.
struct Cursor<'a> {
    args: &'a [String],
    next: usize,
}

impl<'a> Cursor<'a> {
    /// The next argument, consumed.
    fn take(&mut self) -> Option<&'a str> {
        let arg = self.args.get(self.next)?;
        self.next += 1;
        Some(arg)
    }
}

/// `--name`, `--name=value` or `--name value` (also with one dash). nmap's
/// multi-letter short names also work this way (`--Pn`, `--iL file`), as
/// getopt_long_only allows.
fn long_option(
    b: &mut Builder,
    dashes: &str,
    body: &str,
    cursor: &mut Cursor<'_>,
) -> Result<(), CliError> {
    let (name, inline) = match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    };
    let (flag, shown) = if let Some(flag) = flags::by_long(name, b.cmd) {
        (flag, format!("--{name}"))
    } else if let Some(flag) = flags::by_short(name, b.cmd).filter(|_| name.len() >= 2) {
        (flag, format!("-{name}"))
    } else {
        return Err(CliError::UnknownOption(format!("{dashes}{name}")));
    };
    check_available(flag, &shown)?;
    let value = match flag.value {
        ValueKind::Switch | ValueKind::ScanLetter => {
            if let Some(value) = inline {
                return Err(CliError::UnexpectedValue {
                    flag: shown,
                    value: value.to_owned(),
                });
            }
            None
        }
        ValueKind::Required(_) => Some(
            inline
                .or_else(|| cursor.take())
                .ok_or_else(|| CliError::MissingValue(shown.clone()))?,
        ),
        ValueKind::Attached(_) | ValueKind::Level => inline,
    };
    (flag.apply)(b, &shown, value)
}

/// A one-dash argument read as getopt reads short options: the longest
/// short name that prefixes the text, then its attached value, or more
/// flags (`-nR`, `-vv`, `-sSU`).
fn short_cluster(
    b: &mut Builder,
    arg: &str,
    body: &str,
    cursor: &mut Cursor<'_>,
) -> Result<(), CliError> {
    let mut rest = body.to_owned();
    while !rest.is_empty() {
        let (flag, short) = flags::by_short_prefix(&rest, b.cmd)
            .ok_or_else(|| CliError::UnknownOption(arg.to_owned()))?;
        let shown = format!("-{short}");
        check_available(flag, &shown)?;
        let after = rest[short.len()..].to_owned();
        match flag.value {
            ValueKind::Switch => {
                (flag.apply)(b, &shown, None)?;
                rest = after;
            }
            ValueKind::ScanLetter => {
                (flag.apply)(b, &shown, None)?;
                rest = if after.is_empty() {
                    after
                } else {
                    format!("s{after}")
                };
            }
            ValueKind::Level if after.starts_with(|c: char| c.is_ascii_digit()) => {
                return (flag.apply)(b, &shown, Some(&after));
            }
            ValueKind::Level => {
                (flag.apply)(b, &shown, None)?;
                rest = after;
            }
            ValueKind::Required(_) => {
                let value = if after.is_empty() {
                    cursor
                        .take()
                        .ok_or_else(|| CliError::MissingValue(shown.clone()))?
                } else {
                    &after
                };
                return (flag.apply)(b, &shown, Some(value));
            }
            ValueKind::Attached(_) => {
                let value = (!after.is_empty()).then_some(after.as_str());
                return (flag.apply)(b, &shown, value);
            }
        }
        if b.early.is_some() {
            break;
        }
    }
    Ok(())
}

/// Rejects a flag whose feature is not built yet, by name (lookups only
/// find rows of the subcommand being parsed).
fn check_available(flag: &Flag, shown: &str) -> Result<(), CliError> {
    if flag.available {
        Ok(())
    } else {
        Err(CliError::NotSupported(shown.to_owned()))
    }
}

/// Checks combinations of flags that contradict each other.
fn validate(o: &Options) -> Result<(), CliError> {
    let conflict = |msg: String| Err(CliError::Conflict(msg));
    let tcp: Vec<ScanType> = o.scans.iter().copied().filter(|s| s.is_tcp()).collect();
    if let [first, second, ..] = tcp[..] {
        return conflict(format!(
            "you specified more than one type of TCP scan ({} and {}); choose one",
            first.flag(),
            second.flag()
        ));
    }
    if o.no_history && o.history.is_some() {
        return conflict("--history and --no-history cannot be combined".into());
    }
    if o.list_scan && o.ping_scan {
        return conflict("-sL (list scan) and -sn (ping scan) cannot be combined".into());
    }
    let only = if o.list_scan { "-sL" } else { "-sn" };
    if (o.list_scan || o.ping_scan) && (!o.scans.is_empty() || o.version.enabled) {
        let other = o.scans.first().map_or("-sV", |s| s.flag());
        return conflict(format!(
            "{only} cannot be combined with a port scan ({other}): it scans no ports"
        ));
    }
    if let (true, Some(p)) = (o.arp_ping, o.pings.first()) {
        return conflict(format!(
            "-PR cannot yet be combined with other discovery probes ({})",
            p.kind.flag()
        ));
    }
    if o.scanflags.is_some() && tcp == [ScanType::Connect] {
        return conflict(
            "--scanflags cannot be used with -sT (it needs a raw-packet TCP scan)".into(),
        );
    }
    if o.fast && o.ports.is_some() {
        return conflict("you cannot use -F (fast scan) with -p (explicit port selection)".into());
    }
    if o.fast && o.top_ports.is_some() {
        return conflict("you cannot use -F (fast scan) with --top-ports".into());
    }
    if o.top_ports.is_some() && o.ports.is_some() {
        return conflict("you cannot use --top-ports with -p (explicit port selection)".into());
    }
    if !o.exclude.is_empty() && o.exclude_file.is_some() {
        return conflict("--exclude and --excludefile are mutually exclusive".into());
    }
    if o.no_dns && o.always_dns {
        return conflict("-n (never resolve) and -R (always resolve) contradict each other".into());
    }
    match o.net.source_addr {
        Some(addr @ IpAddr::V4(_)) if o.ipv6 => {
            return conflict(format!("-S {addr} is an IPv4 address but -6 asks for IPv6"));
        }
        Some(addr @ IpAddr::V6(_)) if !o.ipv6 => {
            return conflict(format!(
                "-S {addr} is an IPv6 address; add -6 to scan over IPv6"
            ));
        }
        _ => {}
    }
    let t = &o.timing;
    let secs = |d: &Duration| format!("{}s", d.as_secs_f64());
    ordered(
        t.min_rate,
        t.max_rate,
        "--min-rate",
        "--max-rate",
        ToString::to_string,
    )?;
    ordered(
        t.min_parallelism,
        t.max_parallelism,
        "--min-parallelism",
        "--max-parallelism",
        ToString::to_string,
    )?;
    ordered(
        t.min_hostgroup,
        t.max_hostgroup,
        "--min-hostgroup",
        "--max-hostgroup",
        ToString::to_string,
    )?;
    ordered(
        t.min_rtt_timeout,
        t.max_rtt_timeout,
        "--min-rtt-timeout",
        "--max-rtt-timeout",
        secs,
    )?;
    ordered(
        t.min_rtt_timeout,
        t.initial_rtt_timeout,
        "--min-rtt-timeout",
        "--initial-rtt-timeout",
        secs,
    )?;
    ordered(
        t.initial_rtt_timeout,
        t.max_rtt_timeout,
        "--initial-rtt-timeout",
        "--max-rtt-timeout",
        secs,
    )?;
    ordered(
        t.scan_delay,
        t.max_scan_delay,
        "--scan-delay",
        "--max-scan-delay",
        secs,
    )?;
    let out = &o.output;
    let to_stdout = [&out.normal, &out.xml, &out.grepable, &out.json]
        .iter()
        .filter(|p| p.as_deref() == Some(std::path::Path::new("-")))
        .count();
    if to_stdout > 1 {
        return conflict("only one output format can be written to stdout ('-')".into());
    }
    Ok(())
}

/// Errors when a lower bound exceeds its upper bound, naming both flags
/// and their values (`show` formats a value for the message).
fn ordered<T: PartialOrd>(
    low: Option<T>,
    high: Option<T>,
    low_flag: &str,
    high_flag: &str,
    show: impl Fn(&T) -> String,
) -> Result<(), CliError> {
    match (low, high) {
        (Some(l), Some(h)) if l > h => Err(CliError::Conflict(format!(
            "{low_flag} {} is greater than {high_flag} {}",
            show(&l),
            show(&h)
        ))),
        _ => Ok(()),
    }
}
