//! What a report shows of OS detection (`-O`): the best guess per host,
//! and the family and device type the charts count.
//!
//! Why only the best match: the table has one OS cell per host, and the
//! charts count each host once. The other guesses stay in the scan's
//! own outputs. A host whose evidence did not decide shows the reason,
//! and counts as "no match" in the charts, so hosts that were examined
//! are never mistaken for hosts that were not.

use portolan_model::{OsClass, OsReport};
use serde::Serialize;

/// The label the charts give a host OS detection could not decide.
pub const NO_MATCH: &str = "no match";

/// One host's OS, as the report shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostOs {
    /// The table's cell: `Linux 5.4 - 6.8 (96%)`, or `no match: why`.
    pub text: String,
    /// The family the chart counts (`Linux`, `Cisco IOS`), or
    /// [`NO_MATCH`].
    pub family: String,
    /// The device type the chart counts (`general purpose`), or
    /// [`NO_MATCH`].
    pub device: String,
}

impl HostOs {
    /// The report's view of `r`.
    pub fn new(r: &OsReport) -> Self {
        let Some(best) = r.best() else {
            let why = r.no_match.as_deref().unwrap_or("not enough evidence");
            return HostOs {
                text: format!("{NO_MATCH}: {why}"),
                family: NO_MATCH.into(),
                device: NO_MATCH.into(),
            };
        };
        let class = best.classes.iter().max_by_key(|c| c.accuracy);
        let mut text = format!("{} ({}%)", best.name, best.accuracy);
        if let Some(d) = r.distance {
            text.push_str(&format!(", {d} hop{}", if d == 1 { "" } else { "s" }));
        }
        HostOs {
            text,
            family: class.map_or_else(|| best.name.clone(), family),
            device: class
                .map(|c| c.device_type.clone())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

/// `Linux`, or `Cisco IOS` when the vendor is not already the family's
/// first word.
fn family(c: &OsClass) -> String {
    if c.vendor.is_empty() || c.family.starts_with(&c.vendor) {
        c.family.clone()
    } else if c.family.is_empty() {
        c.vendor.clone()
    } else {
        format!("{} {}", c.vendor, c.family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::OsMatch;

    fn class(vendor: &str, family: &str, device: &str, accuracy: u8) -> OsClass {
        OsClass {
            device_type: device.into(),
            vendor: vendor.into(),
            family: family.into(),
            generation: None,
            accuracy,
            cpe: Vec::new(),
        }
    }

    #[test]
    fn the_best_match_names_the_host_and_its_best_class_the_family() {
        let r = OsReport {
            matches: vec![OsMatch {
                name: "Cisco IOS 15".into(),
                accuracy: 91,
                classes: vec![
                    class("Cisco", "IOS", "router", 91),
                    class("Cisco", "IOS", "switch", 85),
                ],
            }],
            distance: Some(1),
            ..OsReport::default()
        };
        let os = HostOs::new(&r);
        assert_eq!(os.text, "Cisco IOS 15 (91%), 1 hop");
        assert_eq!(os.family, "Cisco IOS");
        assert_eq!(os.device, "router");
        let linux = OsReport {
            matches: vec![OsMatch {
                name: "Linux 5.4 - 6.8".into(),
                accuracy: 96,
                classes: vec![class("Linux", "Linux", "general purpose", 96)],
            }],
            ..OsReport::default()
        };
        assert_eq!(HostOs::new(&linux).family, "Linux");
    }

    #[test]
    fn an_undecided_host_says_why() {
        let os = HostOs::new(&OsReport::not_enough("no open port answered"));
        assert_eq!(os.text, "no match: no open port answered");
        assert_eq!(os.family, NO_MATCH);
    }
}
