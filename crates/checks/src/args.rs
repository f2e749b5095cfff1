//! `--script-args`: `key=value` pairs, comma-separated, as nmap takes
//! them (`snmp.community=private,http-open-proxy.url=http://...`).

use std::collections::BTreeMap;

/// The parsed `--script-args`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptArgs {
    values: BTreeMap<String, String>,
}

impl ScriptArgs {
    /// Parses `k=v,k2=v2`; a pair without `=` or with an empty key is an
    /// error naming it.
    pub fn parse(text: &str) -> Result<ScriptArgs, String> {
        let mut values = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    values.insert(k.trim().to_string(), v.trim().to_string());
                }
                _ => {
                    return Err(format!(
                        "bad --script-args pair `{pair}`: expected KEY=VALUE"
                    ))
                }
            }
        }
        Ok(ScriptArgs { values })
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The keys given, for checking them against what checks read.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_bad_ones_are_named() {
        let a = ScriptArgs::parse("snmp.community=private, x=1").unwrap();
        assert_eq!(a.get("snmp.community"), Some("private"));
        assert_eq!(a.get("x"), Some("1"));
        let e = ScriptArgs::parse("a=1,oops").unwrap_err();
        assert!(e.contains("`oops`"), "{e}");
    }
}
