//! Accepted risks: an advisory id, the reason it is accepted, and the date
//! the acceptance ends. Read from `[scan] ignore` in slipway.toml (the binary
//! converts those) and from a `slipway-ignore.toml` file.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::VulnError;

/// The ignore file's name, looked for beside slipway.toml.
pub const IGNORE_FILE_NAME: &str = "slipway-ignore.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoreRule {
    /// An advisory id or any of its aliases.
    pub id: String,
    pub reason: String,
    /// The last day the acceptance holds; `None` is open-ended.
    pub until: Option<time::Date>,
    /// `file:line` of the entry, for messages.
    pub origin: String,
}

/// What became of a rule in one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreState {
    /// It matched findings and is in force: they do not fail the gate.
    Applied,
    /// Its `until` date has passed: it no longer applies.
    Expired,
    /// It matches no finding: the advisory is gone or the id is mistyped.
    Stale,
}

impl IgnoreRule {
    pub fn is_expired(&self, today: time::Date) -> bool {
        self.until.is_some_and(|until| until < today)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    ignore: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    reason: String,
    until: Option<toml::value::Datetime>,
}

/// Reads `slipway-ignore.toml`: `[[ignore]]` tables with `id`, `reason`, `until`.
pub fn read_ignore_file(path: &Path) -> Result<Vec<IgnoreRule>, VulnError> {
    let text = std::fs::read_to_string(path).map_err(|source| VulnError::IgnoreUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse_ignore_file(&text, path)
}

pub fn parse_ignore_file(text: &str, path: &Path) -> Result<Vec<IgnoreRule>, VulnError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let file: IgnoreFile = toml::from_str(text).map_err(|e| VulnError::IgnoreFile {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(s.start)).unwrap_or(1),
        message: e.message().to_string(),
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.ignore
        .into_iter()
        .map(|spanned| {
            let line = line_of(spanned.span().start);
            let raw = spanned.into_inner();
            let bad = |message: String| VulnError::IgnoreFile {
                path: path.to_path_buf(),
                line,
                message,
            };
            if raw.id.trim().is_empty() {
                return Err(bad("`id` is empty".into()));
            }
            if raw.reason.trim().is_empty() {
                return Err(bad(format!(
                    "`{}` has no reason; say why the risk is accepted",
                    raw.id
                )));
            }
            let until = match raw.until {
                None => None,
                Some(dt) => match (dt.date, dt.time) {
                    (Some(d), None) => Some(
                        time::Date::from_calendar_date(
                            i32::from(d.year),
                            time::Month::try_from(d.month).map_err(|e| bad(e.to_string()))?,
                            d.day,
                        )
                        .map_err(|e| bad(e.to_string()))?,
                    ),
                    _ => return Err(bad("`until` must be a date like 2027-01-31".into())),
                },
            };
            Ok(IgnoreRule {
                id: raw.id.trim().to_string(),
                reason: raw.reason,
                until,
                origin: format!("{name}:{line}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_with_lines() {
        let text = "# accepted risks\n[[ignore]]\nid = \"PYSEC-1\"\nreason = \"not reachable\"\nuntil = 2027-01-31\n\n[[ignore]]\nid = \"CVE-2\"\nreason = \"vendor fix pending\"\n";
        let rules = parse_ignore_file(text, Path::new("slipway-ignore.toml")).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].origin, "slipway-ignore.toml:2");
        assert_eq!(rules[1].origin, "slipway-ignore.toml:7");
        let today = time::macros::date!(2027 - 02 - 01);
        assert!(rules[0].is_expired(today));
        assert!(
            !rules[0].is_expired(time::macros::date!(2027 - 01 - 31)),
            "until is inclusive"
        );
        assert!(!rules[1].is_expired(today));
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse_ignore_file(
            "[[ignore]]\nid = \"X\"\nreason = \"\"\n",
            Path::new("f.toml"),
        )
        .unwrap_err();
        assert!(
            matches!(err, VulnError::IgnoreFile { line: 1, .. }),
            "{err:?}"
        );
        let err = parse_ignore_file(
            "[[ignore]]\nid = \"X\"\nreason = \"r\"\nuntil = \"soon\"\n",
            Path::new("f.toml"),
        )
        .unwrap_err();
        assert!(
            matches!(err, VulnError::IgnoreFile { line: 4, .. }),
            "{err:?}"
        );
        let err = parse_ignore_file(
            "[[ignore]]\nid = \"X\"\nreason = \"r\"\nuntil = 2027-01-31T10:00:00\n",
            Path::new("f.toml"),
        )
        .unwrap_err();
        assert!(matches!(err, VulnError::IgnoreFile { .. }), "{err:?}");
    }
}
