//! OSV records as written (JSON or YAML), reduced to [`Advisory`] values.

use serde::{Deserialize, Deserializer};

use crate::advisory::{Advisory, AffectedPackage, Event};
use crate::severity::SeverityVector;
use slipway_artifact::Ecosystem;

#[derive(Deserialize)]
pub struct RawRecord {
    pub id: String,
    #[serde(default, deserialize_with = "lenient_opt")]
    pub modified: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt")]
    pub published: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt")]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Option<Vec<SeverityVector>>,
    #[serde(default)]
    pub affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    pub references: Option<Vec<RawReference>>,
}

#[derive(Deserialize)]
pub struct RawAffected {
    #[serde(default)]
    pub package: Option<RawPackage>,
    #[serde(default)]
    pub ranges: Option<Vec<RawRange>>,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Option<Vec<SeverityVector>>,
}

#[derive(Deserialize)]
pub struct RawPackage {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Deserialize)]
pub struct RawRange {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<RawEvent>,
}

#[derive(Deserialize)]
pub struct RawEvent {
    #[serde(default, deserialize_with = "lenient_opt")]
    pub introduced: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt")]
    pub fixed: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt")]
    pub last_affected: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt")]
    pub limit: Option<String>,
}

#[derive(Deserialize)]
pub struct RawReference {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
}

/// What one record became.
pub enum Reduced {
    Advisory(Advisory),
    /// The record says it was withdrawn: it must not match anything.
    Withdrawn,
    /// No `affected` entry is about an ecosystem slipway matches.
    NotSupported,
    /// Not parsed: it names no distribution the scan asked about.
    NotRelevant,
}

impl RawRecord {
    pub fn reduce(self) -> Reduced {
        if self.withdrawn.is_some() {
            return Reduced::Withdrawn;
        }
        let affected: Vec<AffectedPackage> = self
            .affected
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| {
                let package = a.package?;
                // Ecosystems slipway does not install (Go, Maven, …) are left out.
                let ecosystem = Ecosystem::from_osv_name(&package.ecosystem)?;
                if package.name.is_empty() {
                    return None;
                }
                let types = crate::ecosystem::range_types(ecosystem);
                let ranges = a
                    .ranges
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|r| types.contains(&r.kind.as_str()))
                    .map(|r| {
                        r.events
                            .into_iter()
                            .filter_map(RawEvent::into_event)
                            .collect()
                    })
                    .collect();
                Some(AffectedPackage {
                    ecosystem,
                    name: crate::ecosystem::package_name(ecosystem, &package.name),
                    ranges,
                    versions: a.versions,
                    severity: a.severity.unwrap_or_default(),
                })
            })
            .collect();
        if affected.is_empty() {
            return Reduced::NotSupported;
        }
        let references = self.references.unwrap_or_default();
        let url = references
            .iter()
            .find(|r| r.kind == "ADVISORY")
            .or_else(|| references.iter().find(|r| r.kind == "WEB"))
            .map(|r| r.url.clone());
        let summary = match self.summary.filter(|s| !s.trim().is_empty()) {
            Some(s) => one_line(&s),
            None => self
                .details
                .as_deref()
                .map(first_sentence)
                .unwrap_or_default(),
        };
        Reduced::Advisory(Advisory {
            id: self.id,
            aliases: self.aliases.unwrap_or_default(),
            summary,
            modified: self.modified,
            published: self.published,
            severity: self.severity.unwrap_or_default(),
            affected,
            url,
        })
    }
}

impl RawEvent {
    fn into_event(self) -> Option<Event> {
        // OSV allows one key per event; take the first present.
        if let Some(v) = self.introduced {
            Some(Event::Introduced(v))
        } else if let Some(v) = self.fixed {
            Some(Event::Fixed(v))
        } else if let Some(v) = self.last_affected {
            Some(Event::LastAffected(v))
        } else {
            self.limit.map(Event::Limit)
        }
    }
}

const SUMMARY_MAX_CHARS: usize = 200;

fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(joined)
}

/// The first sentence of an OSV `details` text, on one line.
fn first_sentence(details: &str) -> String {
    let flat = details.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = flat
        .match_indices(". ")
        .map(|(i, _)| i + 1)
        .find(|&i| i >= 20)
        .unwrap_or(flat.len());
    truncate(flat[..end].to_string())
}

fn truncate(mut s: String) -> String {
    if s.chars().count() > SUMMARY_MAX_CHARS {
        let cut = s
            .char_indices()
            .nth(SUMMARY_MAX_CHARS - 1)
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// YAML writers sometimes leave versions and dates unquoted, which a YAML
/// parser may read as numbers; accept any scalar and keep its text.
struct LenientString;

impl serde::de::Visitor<'_> for LenientString {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

struct Lenient(String);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Lenient, D::Error> {
        d.deserialize_any(LenientString).map(Lenient)
    }
}

fn lenient_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Lenient>::deserialize(d)?.map(|l| l.0))
}

fn lenient_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<Lenient>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.0)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce_yaml(text: &str) -> Reduced {
        serde_norway::from_str::<RawRecord>(text).unwrap().reduce()
    }

    #[test]
    fn yaml_record_with_unquoted_scalars() {
        let text = "id: PYSEC-0000-1\nmodified: 2021-07-05T00:01:25Z\ndetails: Bad things. More words here.\naffected:\n- package:\n    name: Jw.Util\n    ecosystem: PyPI\n  ranges:\n  - type: GIT\n    repo: x\n    events:\n    - introduced: '0'\n  - type: ECOSYSTEM\n    events:\n    - introduced: 1.0\n    - fixed: 2\n  versions:\n  - 1.0\n";
        let Reduced::Advisory(a) = reduce_yaml(text) else {
            panic!("not reduced")
        };
        assert_eq!(a.affected[0].name, "jw-util");
        assert_eq!(a.affected[0].ranges.len(), 1, "GIT ranges are dropped");
        // An unquoted `1.0` is a YAML float; its text comes back as `1`,
        // which PEP 440 orders equal to `1.0`.
        assert_eq!(
            a.affected[0].ranges[0],
            vec![Event::Introduced("1".into()), Event::Fixed("2".into())]
        );
        assert_eq!(a.modified.as_deref(), Some("2021-07-05T00:01:25Z"));
    }

    #[test]
    fn withdrawn_and_foreign_records() {
        assert!(matches!(
            reduce_yaml(
                "id: X\nwithdrawn: '2022-01-01T00:00:00Z'\naffected:\n- package: {name: a, ecosystem: PyPI}\n"
            ),
            Reduced::Withdrawn
        ));
        assert!(matches!(
            reduce_yaml("id: X\naffected:\n- package: {name: a, ecosystem: Go}\n"),
            Reduced::NotSupported
        ));
    }

    #[test]
    fn npm_records_keep_semver_ranges_and_exact_names() {
        let text = "id: GHSA-x\naffected:\n- package: {name: '@Scope/Pkg.js', ecosystem: npm}\n  ranges:\n  - type: SEMVER\n    events: [{introduced: '0'}, {fixed: 1.2.3}]\n  - type: GIT\n    repo: r\n    events: [{introduced: abc}]\n- package: {name: Pkg.js, ecosystem: PyPI}\n  versions: ['1.0']\n";
        let Reduced::Advisory(a) = reduce_yaml(text) else {
            panic!("npm advisory kept")
        };
        assert_eq!(a.affected[0].ecosystem, Ecosystem::Npm);
        assert_eq!(a.affected[0].name, "@Scope/Pkg.js");
        assert_eq!(a.affected[0].ranges.len(), 1, "GIT range dropped");
        assert_eq!(a.affected[0].key(), "npm:@Scope/Pkg.js");
        assert_eq!(a.affected[1].key(), "pkg-js");
        let json = serde_json::to_string(&a.affected).unwrap();
        assert!(
            json.contains("\"ecosystem\":\"npm\"") && json.matches("ecosystem").count() == 1,
            "{json}"
        );
    }

    #[test]
    fn summary_from_details() {
        assert_eq!(
            first_sentence(
                "In PyYAML before 5.1, the yaml.load() API could execute code. The load() function"
            ),
            "In PyYAML before 5.1, the yaml.load() API could execute code."
        );
    }
}
