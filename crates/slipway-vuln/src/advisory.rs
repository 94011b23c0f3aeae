//! The facts of one advisory that matching, severity and reports need: the
//! same shape whether it came from OSV JSON, OSV YAML, an `all.zip`, the
//! package index or the snapshot inside the binary.

use serde::{Deserialize, Serialize};

use slipway_artifact::Ecosystem;

use crate::severity::{Rating, SeverityVector};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// `PYSEC-…`, `GHSA-…`, `CVE-…`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One line: the OSV `summary`, or the first sentence of `details`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// RFC 3339, as the source wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// CVSS vectors of the whole advisory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityVector>,
    pub affected: Vec<AffectedPackage>,
    /// The page a person should read: an `ADVISORY` reference, else the first `WEB` one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One `affected[]` entry for a package of an ecosystem slipway matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// Absent means PyPI, so copies written before npm existed read unchanged.
    #[serde(default, skip_serializing_if = "Ecosystem::is_pypi")]
    pub ecosystem: Ecosystem,
    /// As [`crate::ecosystem::package_name`] spells it (PyPI: PEP 503 normalised).
    pub name: String,
    /// Ranges of the ecosystem's own type (`ECOSYSTEM`; npm `SEMVER`);
    /// `GIT` ranges say nothing about released versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Vec<Event>>,
    /// Explicitly listed affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Vectors given for this package only; they win over the advisory's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityVector>,
}

/// One event of an OSV range timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl AffectedPackage {
    /// The database index key of this package.
    pub fn key(&self) -> String {
        crate::ecosystem::key(self.ecosystem, &self.name)
    }
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

impl Advisory {
    /// The id and every alias: the names under which one problem is known.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The highest severity any of the advisory's vectors (or the package's) computes to.
    pub fn severity_for(&self, affected: &AffectedPackage) -> Rating {
        let vectors = if affected.severity.is_empty() {
            &self.severity
        } else {
            &affected.severity
        };
        crate::severity::rate(vectors)
    }
}
