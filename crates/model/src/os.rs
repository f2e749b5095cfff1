//! What OS detection (`-O`) concluded about a host.
//!
//! The vocabulary is nmap's, so every output format can write it the way
//! nmap users read it: a ranked list of matches ("OS details:", XML
//! `<osmatch name accuracy>`), each with its classes (device type,
//! vendor, family, generation, CPE: "Running:", `<osclass>`). The
//! classifier that fills it lives in `portolan-os`; this is plain data.
//!
//! "Not enough evidence" is an answer, not an absence: [`OsReport`] with
//! no matches carries the reason in [`OsReport::no_match`].

use serde::{Deserialize, Serialize};

/// OS detection's answer for one host.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OsReport {
    /// Ranked guesses, best first; empty when the evidence did not
    /// decide (then [`OsReport::no_match`] says why).
    #[serde(default)]
    pub matches: Vec<OsMatch>,
    /// Why no match is given ("not enough evidence: no open port
    /// answered"), when `matches` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_match: Option<String>,
    /// Network distance in hops, from the reply TTL against the stack's
    /// initial TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<u8>,
    /// Uptime read from the TCP timestamp clock, where it supports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime: Option<OsUptime>,
    /// The evidence in portolan's own compact text form, for users to
    /// submit or compare (`docs/os-detection.md`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
}

/// One candidate OS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OsMatch {
    /// The database entry's label ("Linux 5.4 - 6.8").
    pub name: String,
    /// Confidence, 0-100.
    pub accuracy: u8,
    /// The entry's classes (most entries have one).
    #[serde(default)]
    pub classes: Vec<OsClass>,
}

/// A class of OS: nmap's `<osclass>`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OsClass {
    /// "general purpose", "router", "printer", ...
    pub device_type: String,
    /// "Linux", "Microsoft", "Cisco", ...
    pub vendor: String,
    /// "Linux", "Windows", "IOS", ...
    pub family: String,
    /// "6.X", "10", ... when the entry is that precise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
    /// Confidence in the class, 0-100.
    pub accuracy: u8,
    /// CPE names ("cpe:/o:linux:linux_kernel:6").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpe: Vec<String>,
}

/// An uptime guess from the TCP timestamp clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OsUptime {
    /// Seconds since the guessed boot.
    pub seconds: u64,
    /// The guessed boot, in seconds since the Unix epoch.
    pub last_boot: u64,
}

impl OsReport {
    /// The accuracy from which a match is stated as the host's OS ("OS
    /// details:") rather than offered as a guess ("Aggressive OS
    /// guesses:"), in every output format, and from which the classifier
    /// (`portolan_os`) reports a match without `--osscan-guess`: the one
    /// definition both use.
    pub const SURE: u8 = 90;

    /// An answer without a match, saying why.
    pub fn not_enough(why: impl Into<String>) -> Self {
        OsReport {
            no_match: Some(why.into()),
            ..OsReport::default()
        }
    }

    /// The best match, if any.
    pub fn best(&self) -> Option<&OsMatch> {
        self.matches.first()
    }

    /// Takes what `other` (an `<os>` element read back) holds, keeping
    /// the distance and uptime already known (XML writes them beside
    /// `<os>`, in either order).
    pub fn merge_xml(&mut self, other: OsReport) {
        self.matches = other.matches;
        self.no_match = other.no_match;
        self.fingerprint = other.fingerprint;
    }

    /// Whether the best match is sure ([`OsReport::SURE`]).
    pub fn is_sure(&self) -> bool {
        self.best().is_some_and(|m| m.accuracy >= Self::SURE)
    }

    /// The classes of the matches that count: the sure ones when the best
    /// is sure, otherwise the best match's (a guess), without repeats.
    pub fn classes(&self) -> Vec<&OsClass> {
        let mut out: Vec<&OsClass> = Vec::new();
        let sure = self.is_sure();
        for m in self.matches.iter().take(if sure { usize::MAX } else { 1 }) {
            if sure && m.accuracy < Self::SURE {
                break;
            }
            for c in &m.classes {
                let same = |o: &&OsClass| {
                    o.vendor == c.vendor
                        && o.family == c.family
                        && o.generation == c.generation
                        && o.device_type == c.device_type
                };
                if !out.iter().any(same) {
                    out.push(c);
                }
            }
        }
        out
    }
}
