//! OS detection's answer ([`OsReport`]) as nmap writes it in normal and
//! grepable output; the XML writer's `<os>` element is in `xml`.
//!
//! A sure best match (accuracy at least [`OsReport::SURE`]) is stated:
//! "Device type:", "Running:", "OS CPE:", "OS details:". Otherwise the
//! matches are guesses, as nmap words them: "Running (JUST GUESSING):",
//! "Aggressive OS guesses:", "No exact OS matches for host". No match is
//! said plainly, with the reason ("not enough evidence: ...").

use crate::common::clean;
use portolan_model::{OsClass, OsReport};
use std::fmt::Write;

/// nmap's `Linux 6.X` for a class: family and generation.
fn running(c: &OsClass) -> String {
    match &c.generation {
        Some(g) => format!("{} {}", clean(&c.family), clean(g)),
        None => clean(&c.family).into_owned(),
    }
}

/// Joins distinct strings with `sep`, in first-seen order.
fn distinct(items: impl Iterator<Item = String>, sep: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    for i in items {
        if !i.is_empty() && !seen.contains(&i) {
            seen.push(i);
        }
    }
    seen.join(sep)
}

/// The OS lines of a host's normal output (after the MAC address).
pub(crate) fn normal_lines(out: &mut String, os: &OsReport, verbose: u8) {
    if os.matches.is_empty() {
        let why = os.no_match.as_deref().unwrap_or("not enough evidence");
        let _ = writeln!(out, "No OS matches for host ({})", clean(why));
    } else {
        let classes = os.classes();
        let sure = os.is_sure();
        let device = distinct(
            classes.iter().map(|c| clean(&c.device_type).into_owned()),
            "|",
        );
        if !device.is_empty() {
            let _ = writeln!(out, "Device type: {device}");
        }
        if sure {
            // nmap groups generations per vendor family: "Linux 5.X|6.X".
            let runs = distinct(classes.iter().map(|c| running(c)), ", ");
            let _ = writeln!(out, "Running: {runs}");
        } else {
            let best = os.matches[0].accuracy;
            let runs = distinct(
                classes
                    .iter()
                    .map(|c| format!("{} ({}%)", running(c), best)),
                ", ",
            );
            let _ = writeln!(out, "Running (JUST GUESSING): {runs}");
        }
        let cpes = distinct(
            classes
                .iter()
                .flat_map(|c| c.cpe.iter())
                .map(|s| clean(s).into_owned()),
            " ",
        );
        if !cpes.is_empty() {
            let _ = writeln!(out, "OS CPE: {cpes}");
        }
        if sure {
            let names = distinct(
                os.matches
                    .iter()
                    .take_while(|m| m.accuracy >= OsReport::SURE)
                    .map(|m| clean(&m.name).into_owned()),
                ", ",
            );
            let _ = writeln!(out, "OS details: {names}");
        } else {
            let guesses = distinct(
                os.matches
                    .iter()
                    .take(10)
                    .map(|m| format!("{} ({}%)", clean(&m.name), m.accuracy)),
                ", ",
            );
            let _ = writeln!(out, "Aggressive OS guesses: {guesses}");
            let _ = writeln!(
                out,
                "No exact OS matches for host (test conditions non-ideal)."
            );
        }
    }
    if (os.matches.is_empty() || verbose > 0) && !os.fingerprint.is_empty() {
        let _ = writeln!(out, "OS fingerprint: {}", clean(&os.fingerprint));
    }
    if let Some(up) = &os.uptime {
        let days = up.seconds as f64 / 86_400.0;
        let _ = writeln!(
            out,
            "Uptime guess: {days:.3} days (since {})",
            crate::timefmt::ctime(up.last_boot)
        );
    }
    if let Some(d) = os.distance {
        let hops = if d == 1 { "hop" } else { "hops" };
        // (0 for this machine itself, as nmap says.)
        let _ = writeln!(out, "Network Distance: {d} {hops}");
    }
}

/// The grepable `OS:` field's value: the stated or best-guessed match.
pub(crate) fn grepable_field(os: &OsReport) -> Option<String> {
    let best = os.best()?;
    let name = clean(&best.name).into_owned();
    Some(if os.is_sure() {
        name
    } else {
        format!("{name} ({}%)", best.accuracy)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::{OsMatch, OsUptime};

    fn class(gen: &str, acc: u8) -> OsClass {
        OsClass {
            device_type: "general purpose".into(),
            vendor: "Linux".into(),
            family: "Linux".into(),
            generation: Some(gen.into()),
            accuracy: acc,
            cpe: vec![format!("cpe:/o:linux:linux_kernel:{}", &gen[..1])],
        }
    }

    fn report(accs: &[(&str, &str, u8)]) -> OsReport {
        OsReport {
            matches: accs
                .iter()
                .map(|&(name, gen, a)| OsMatch {
                    name: name.into(),
                    accuracy: a,
                    classes: vec![class(gen, a)],
                })
                .collect(),
            distance: Some(1),
            ..OsReport::default()
        }
    }

    #[test]
    fn sure_matches_are_stated() {
        let r = report(&[
            ("Linux 6.1 - 6.12", "6.X", 98),
            ("Linux 5.10 - 5.19", "5.X", 96),
            ("Linux 4.19", "4.X", 80),
        ]);
        let mut out = String::new();
        normal_lines(&mut out, &r, 0);
        assert_eq!(
            out,
            "Device type: general purpose\n\
             Running: Linux 6.X, Linux 5.X\n\
             OS CPE: cpe:/o:linux:linux_kernel:6 cpe:/o:linux:linux_kernel:5\n\
             OS details: Linux 6.1 - 6.12, Linux 5.10 - 5.19\n\
             Network Distance: 1 hop\n"
        );
        assert_eq!(grepable_field(&r).unwrap(), "Linux 6.1 - 6.12");
    }

    #[test]
    fn unsure_matches_are_guesses() {
        let mut r = report(&[("Linux 6.1 - 6.12", "6.X", 88), ("FreeBSD 14", "14.X", 60)]);
        r.distance = Some(3);
        r.uptime = Some(OsUptime {
            seconds: 86_400 * 2,
            last_boot: 0,
        });
        let mut out = String::new();
        normal_lines(&mut out, &r, 0);
        assert_eq!(
            out,
            "Device type: general purpose\n\
             Running (JUST GUESSING): Linux 6.X (88%)\n\
             OS CPE: cpe:/o:linux:linux_kernel:6\n\
             Aggressive OS guesses: Linux 6.1 - 6.12 (88%), FreeBSD 14 (60%)\n\
             No exact OS matches for host (test conditions non-ideal).\n\
             Uptime guess: 2.000 days (since Thu Jan  1 00:00:00 1970)\n\
             Network Distance: 3 hops\n"
        );
        assert_eq!(grepable_field(&r).unwrap(), "Linux 6.1 - 6.12 (88%)");
    }

    #[test]
    fn no_match_says_why_and_shows_the_fingerprint() {
        let mut r = OsReport::not_enough("not enough evidence: no TCP port answered");
        r.fingerprint = "T=64\nW=hostile".into();
        let mut out = String::new();
        normal_lines(&mut out, &r, 0);
        assert_eq!(
            out,
            "No OS matches for host (not enough evidence: no TCP port answered)\n\
             OS fingerprint: T=64\\x0aW=hostile\n"
        );
        assert!(grepable_field(&r).is_none());
    }
}
