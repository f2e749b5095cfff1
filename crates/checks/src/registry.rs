//! The check registry and `--script` selection.
//!
//! Names and categories work as nmap users expect: `-sC` is the `default`
//! set, `--script` takes a comma-separated list of check names,
//! categories (`safe`, `auth`, `intrusive`, `default`) and `all`. Here the
//! `default` set is every `safe` check: nothing that logs in or relays
//! runs unless asked for by name or category. An unknown word is an error
//! with the nearest name as a suggestion.

use crate::checks::ALL;
use crate::{Category, Check};

/// Every check, in a stable order.
pub fn all_checks() -> &'static [&'static dyn Check] {
    ALL
}

/// A `--script` word that names no check or category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionError {
    /// The word as typed.
    pub word: String,
    /// The nearest check or category name, if any is near.
    pub suggestion: Option<&'static str>,
}

impl std::fmt::Display for SelectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word: String = self
            .word
            .chars()
            .take(64)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        write!(f, "unknown check or category `{word}` in --script")?;
        match self.suggestion {
            Some(s) => write!(f, " (did you mean `{s}`?)"),
            None => write!(f, " (see the list in --help)"),
        }
    }
}

impl std::error::Error for SelectionError {}

/// The checks a run will use.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    ids: Vec<&'static str>,
}

const CATEGORIES: &[&str] = &["all", "default", "safe", "auth", "intrusive"];

impl Selection {
    /// `-sC`: the default set.
    pub fn default_set() -> Selection {
        Selection::parse("default").expect("the default set exists")
    }

    /// Parses a `--script` list.
    pub fn parse(spec: &str) -> Result<Selection, SelectionError> {
        let mut ids: Vec<&'static str> = Vec::new();
        for word in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let picked: Vec<&'static str> = match word {
                "all" => ALL.iter().map(|c| c.info().id).collect(),
                "default" | "safe" => by_category(Category::Safe),
                "auth" => by_category(Category::Auth),
                "intrusive" => by_category(Category::Intrusive),
                name => match ALL.iter().find(|c| c.info().id == name) {
                    Some(c) => vec![c.info().id],
                    None => {
                        return Err(SelectionError {
                            word: word.to_string(),
                            suggestion: suggest(word),
                        })
                    }
                },
            };
            for id in picked {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(Selection { ids })
    }

    /// Adds another selection's checks (`-sC --script auth`).
    pub fn extend(&mut self, other: &Selection) {
        for id in &other.ids {
            if !self.ids.contains(id) {
                self.ids.push(id);
            }
        }
    }

    /// Whether no check is selected.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The selected checks.
    pub fn checks(&self) -> Vec<&'static dyn Check> {
        ALL.iter()
            .copied()
            .filter(|c| self.ids.contains(&c.info().id))
            .collect()
    }
}

fn by_category(cat: Category) -> Vec<&'static str> {
    ALL.iter()
        .filter(|c| c.info().category == cat)
        .map(|c| c.info().id)
        .collect()
}

/// The check or category name nearest to `word`, if within a third of its
/// length in edits.
fn suggest(word: &str) -> Option<&'static str> {
    let names = ALL
        .iter()
        .map(|c| c.info().id)
        .chain(CATEGORIES.iter().copied());
    let best = names.map(|n| (distance(word, n), n)).min()?;
    (best.0 <= (word.len() / 3).max(2)).then_some(best.1)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_safe_checks_and_never_logs_in() {
        let d = Selection::default_set().checks();
        assert!(d.iter().all(|c| c.info().category == Category::Safe));
        assert!(d.iter().any(|c| c.info().id == "redis-info"));
        assert!(!d.iter().any(|c| c.info().id == "ftp-anon"));
    }

    #[test]
    fn names_categories_and_all_select() {
        let s = Selection::parse("ftp-anon,safe").unwrap().checks();
        assert!(s.iter().any(|c| c.info().id == "ftp-anon"));
        assert_eq!(Selection::parse("all").unwrap().checks().len(), ALL.len());
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        let e = Selection::parse("safe,redis-inf").unwrap_err();
        assert_eq!(e.suggestion, Some("redis-info"));
        assert_eq!(
            e.to_string(),
            "unknown check or category `redis-inf` in --script (did you mean `redis-info`?)"
        );
        assert_eq!(
            Selection::parse("zzzzzzzzzzzz").unwrap_err().suggestion,
            None
        );
    }

    #[test]
    fn every_check_declares_itself_fully() {
        let mut ids = Vec::new();
        for c in ALL {
            let i = c.info();
            assert!(!i.id.is_empty() && !i.description.is_empty());
            assert!(!ids.contains(&i.id), "{} twice", i.id);
            assert!(!CATEGORIES.contains(&i.id));
            ids.push(i.id);
        }
    }
}
