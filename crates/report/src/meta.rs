//! Scan metadata: the command, version, timing, seed and shard of each
//! scan in the report.
//!
//! Why the seed and shard come from the command line: a scan's output
//! records its command but not those two as fields, and nmap's XML has
//! no place for them; reading them back from the command (`--seed`,
//! `--shard`) works for every input format.

use crate::data::ReportScan;
use portolan_model::rfc3339;
use serde::Serialize;

/// One scan's metadata, as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Meta {
    /// The file it was read from, when it was.
    pub source: Option<String>,
    /// The command line.
    pub command: String,
    /// The scanner's version.
    pub version: String,
    /// Start, RFC 3339.
    pub started: String,
    /// End, RFC 3339, when known.
    pub ended: Option<String>,
    /// Seconds from start to end, when known.
    pub elapsed: Option<String>,
    /// `--seed`, when given.
    pub seed: Option<String>,
    /// `--shard`, when given.
    pub shard: Option<String>,
    /// The techniques and their port counts (`-sS: 1000 tcp ports`).
    pub techniques: Vec<String>,
    /// `completed`, `interrupted`, `failed: …` or `in progress`.
    pub status: String,
    /// Warnings the scan gave.
    pub warnings: Vec<String>,
}

impl Meta {
    /// The metadata of `scan`.
    pub fn new(scan: &ReportScan) -> Self {
        let info = &scan.info;
        let stats = scan.stats.as_ref();
        let status = match stats {
            None => "in progress (or cut short)".to_owned(),
            Some(s) => match (&s.error, s.interrupted) {
                (Some(e), _) => format!("failed: {e}"),
                (None, true) => "interrupted".to_owned(),
                (None, false) => "completed".to_owned(),
            },
        };
        Meta {
            source: scan.source.clone(),
            command: info.args.clone(),
            version: info.version.clone(),
            started: rfc3339(info.start_time),
            ended: stats.map(|s| rfc3339(s.end_time)),
            elapsed: stats.map(|s| format!("{:.2} s", s.elapsed)),
            seed: flag_value(&info.args, "seed"),
            shard: flag_value(&info.args, "shard"),
            techniques: info
                .scans
                .iter()
                .map(|t| {
                    format!(
                        "{} ({}): {} {} ports",
                        t.scan_type.title(),
                        t.scan_type.flag(),
                        t.num_services,
                        t.protocol
                    )
                })
                .collect(),
            status,
            warnings: scan.warnings.clone(),
        }
    }
}

/// The value of `--NAME` (or `-NAME`, nmap's one-dash long form) in a
/// command line: `--NAME VALUE` or `--NAME=VALUE`; the last one wins.
fn flag_value(args: &str, name: &str) -> Option<String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let mut found = None;
    for (i, w) in words.iter().enumerate() {
        let Some(body) = w.strip_prefix("--").or_else(|| w.strip_prefix('-')) else {
            continue;
        };
        if body == name {
            found = words.get(i + 1).map(|v| (*v).to_owned()).or(found);
        } else if let Some(v) = body.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            found = Some(v.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::flag_value;

    #[test]
    fn seed_and_shard_are_read_from_the_command() {
        let args = "portolan -sT --seed 0x2a --shard=2/4 198.18.0.1";
        assert_eq!(flag_value(args, "seed").as_deref(), Some("0x2a"));
        assert_eq!(flag_value(args, "shard").as_deref(), Some("2/4"));
        assert_eq!(
            flag_value("portolan -seed 7 x", "seed").as_deref(),
            Some("7")
        );
        assert_eq!(flag_value("portolan --seeds 7 x", "seed"), None);
        assert_eq!(crate::summary::thousands(5_000_000), "5,000,000");
        assert_eq!(crate::summary::thousands(999), "999");
    }
}
