//! Matching an inventory against a database: one finding per problem per
//! installed distribution (PYSEC, GHSA and CVE names of one problem merged),
//! accepted risks applied, the gate decided.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use slipway_artifact::Distribution;

use crate::advisory::Advisory;
use crate::db::{Database, DbInfo};
use crate::fix::{self, FixAdvice};
use crate::ignore::{IgnoreRule, IgnoreState};
use crate::matching::{self, MatchedBy};
use crate::severity::{Rating, Severity};
use slipway_artifact::{Ecosystem, InstalledIn};
use slipway_sbom::normalize_name as normalize;

/// What one built function ships.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    pub function: String,
    pub distributions: Vec<Distribution>,
    /// `Requires-Dist` lines of the shipped distributions, by normalised
    /// name, read from the built zip; used for fix advice.
    pub requires_dist: BTreeMap<String, Vec<String>>,
}

/// An accepted risk that covers a finding.
#[derive(Debug, Clone, Serialize)]
pub struct Acceptance {
    pub rule_id: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub origin: String,
}

/// One problem in one shipped distribution of one function.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub function: String,
    /// The distribution's ecosystem; absent means PyPI.
    #[serde(default, skip_serializing_if = "Ecosystem::is_pypi")]
    pub ecosystem: Ecosystem,
    /// The distribution's name as it spells it.
    pub package: String,
    pub version: String,
    pub installed_in: InstalledIn,
    pub direct: bool,
    /// The name the finding is reported under.
    pub id: String,
    /// Every other name of the same problem (merged records and their aliases).
    pub aliases: Vec<String>,
    /// The database records merged into this finding.
    pub records: Vec<String>,
    pub summary: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// The smallest version that fixes this problem, when the advisory names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub matched_by: MatchedBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Acceptance>,
}

impl Finding {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Whether this finding fails a gate at `fail_on`. A finding nobody
    /// scored (most PyPA records carry no CVSS vector) fails the gate too
    /// unless `allow_unscored`: an unknown risk is not a pass.
    pub fn blocks(&self, fail_on: Severity, allow_unscored: bool) -> bool {
        self.accepted.is_none()
            && (self.severity >= fail_on || (self.severity == Severity::Unknown && !allow_unscored))
    }
}

/// What became of one ignore rule.
#[derive(Debug, Clone, Serialize)]
pub struct IgnoreReport {
    #[serde(flatten)]
    pub rule: IgnoreRule,
    pub state: IgnoreState,
    /// `function/package@version id` of each finding it covers (or would, if expired).
    pub matches: Vec<String>,
}

/// The result of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanOutcome {
    pub db: DbInfo,
    pub functions: Vec<String>,
    pub distributions_scanned: usize,
    pub fail_on: Severity,
    /// Whether unscored findings were let through the gate.
    pub allow_unscored: bool,
    pub findings: Vec<Finding>,
    pub ignores: Vec<IgnoreReport>,
    pub fix_advice: Vec<FixAdvice>,
    /// Findings at or above `fail_on` (or unscored, unless allowed) that no accepted risk covers.
    pub blocking: usize,
}

impl ScanOutcome {
    pub fn passed(&self) -> bool {
        self.blocking == 0
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity && f.accepted.is_none())
            .count()
    }
}

/// Matches every target's distributions against `db`, applies `ignores` as
/// of `today`, and decides the gate at `fail_on`.
pub fn scan(
    db: &Database,
    targets: &[ScanTarget],
    ignores: &[IgnoreRule],
    fail_on: Severity,
    allow_unscored: bool,
    today: time::Date,
) -> ScanOutcome {
    let mut findings = Vec::new();
    let mut scanned = 0;
    for target in targets {
        for dist in &target.distributions {
            scanned += 1;
            findings.extend(findings_for(db, &target.function, dist));
        }
    }
    findings.sort_by(|a, b| {
        (&a.function, normalize(&a.package), b.severity, &a.id).cmp(&(
            &b.function,
            normalize(&b.package),
            a.severity,
            &b.id,
        ))
    });

    let mut reports = Vec::new();
    for rule in ignores {
        let expired = rule.is_expired(today);
        let mut matches = Vec::new();
        for finding in findings.iter_mut() {
            if !finding.names().any(|n| n.eq_ignore_ascii_case(&rule.id)) {
                continue;
            }
            matches.push(format!(
                "{}/{}@{} {}",
                finding.function, finding.package, finding.version, finding.id
            ));
            if !expired && finding.accepted.is_none() {
                finding.accepted = Some(Acceptance {
                    rule_id: rule.id.clone(),
                    reason: rule.reason.clone(),
                    until: rule.until.map(|d| d.to_string()),
                    origin: rule.origin.clone(),
                });
            }
        }
        let state = if expired {
            IgnoreState::Expired
        } else if matches.is_empty() {
            IgnoreState::Stale
        } else {
            IgnoreState::Applied
        };
        reports.push(IgnoreReport {
            rule: rule.clone(),
            state,
            matches,
        });
    }

    let fix_advice = fix::advise(db, targets, &findings);
    let blocking = findings
        .iter()
        .filter(|f| f.blocks(fail_on, allow_unscored))
        .count();
    ScanOutcome {
        db: db.info.clone(),
        functions: targets.iter().map(|t| t.function.clone()).collect(),
        distributions_scanned: scanned,
        fail_on,
        allow_unscored,
        findings,
        ignores: reports,
        fix_advice,
        blocking,
    }
}

/// One advisory record that matched an installed version.
struct Hit<'a> {
    advisory: &'a Advisory,
    by: MatchedBy,
    /// The smallest fixing version above the installed one.
    fixed: Option<String>,
    rating: Rating,
}

/// The findings of one distribution: matching records grouped by shared names.
fn findings_for(db: &Database, function: &str, dist: &Distribution) -> Vec<Finding> {
    let ecosystem = dist.ecosystem;
    let key = crate::ecosystem::key(ecosystem, &dist.name);
    let mut hits: Vec<Hit<'_>> = Vec::new();
    let mut cache = matching::VersionCache::default();
    for adv in db.for_package(&key) {
        for affected in adv.affected.iter().filter(|a| a.key() == key) {
            if let Some((by, fixed)) =
                crate::ecosystem::evaluate(ecosystem, &dist.version, affected, &mut cache)
            {
                hits.push(Hit {
                    advisory: adv,
                    by,
                    fixed,
                    rating: adv.severity_for(affected),
                });
                break;
            }
        }
    }
    group_by_names(&hits.iter().map(|h| h.advisory).collect::<Vec<_>>())
        .into_iter()
        .map(|group| {
            let members: Vec<_> = group.iter().map(|&i| &hits[i]).collect();
            let mut record_ids: Vec<String> =
                members.iter().map(|h| h.advisory.id.clone()).collect();
            record_ids.sort_by_key(|id| (id_rank(id), id.clone()));
            let id = record_ids[0].clone();
            let aliases: BTreeSet<String> = members
                .iter()
                .flat_map(|h| h.advisory.names())
                .filter(|n| *n != id)
                .map(str::to_string)
                .collect();
            let worst = members
                .iter()
                .map(|h| &h.rating)
                .max_by(|a, b| {
                    a.severity.cmp(&b.severity).then(
                        a.score
                            .partial_cmp(&b.score)
                            .unwrap_or(std::cmp::Ordering::Equal),
                    )
                })
                .cloned()
                .unwrap_or(Rating::UNKNOWN);
            // Every merged record must be satisfied: the fix is the highest of theirs.
            let fixed_in = if members.iter().all(|h| h.fixed.is_some()) {
                members
                    .iter()
                    .filter_map(|h| h.fixed.clone())
                    .max_by(|a, b| crate::ecosystem::compare(ecosystem, a, b))
            } else {
                None
            };
            let primary = members
                .iter()
                .find(|h| h.advisory.id == id)
                .expect("id from members");
            let summary = members
                .iter()
                .map(|h| h.advisory.summary.as_str())
                .find(|s| !s.is_empty())
                .unwrap_or_default()
                .to_string();
            Finding {
                function: function.to_string(),
                ecosystem,
                package: dist.name.clone(),
                version: dist.version.clone(),
                installed_in: dist.installed_in,
                direct: dist.direct,
                id: id.clone(),
                aliases: aliases.into_iter().collect(),
                records: record_ids,
                summary,
                severity: worst.severity,
                score: worst.score,
                vector: worst.vector,
                fixed_in,
                url: primary
                    .advisory
                    .url
                    .clone()
                    .or_else(|| members.iter().find_map(|h| h.advisory.url.clone())),
                matched_by: primary.by,
                accepted: None,
            }
        })
        .collect()
}

/// Which name a finding is reported under: the Python ecosystem's own
/// (`PYSEC`), then GitHub's (`GHSA`), then anything else, `CVE` last.
fn id_rank(id: &str) -> u8 {
    if id.starts_with("PYSEC-") {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("CVE-") {
        3
    } else {
        2
    }
}

/// Groups records that share any name (id or alias), transitively.
fn group_by_names(records: &[&Advisory]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..records.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, adv) in records.iter().enumerate() {
        for name in adv.names() {
            match owner.get(&name.to_ascii_uppercase()) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(name.to_ascii_uppercase(), i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..records.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::advisory::{AffectedPackage, Event};
    use crate::db::DbKind;
    use crate::severity::SeverityVector;

    fn adv(id: &str, aliases: &[&str], pkg: &str, fixed: &str, vector: Option<&str>) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            summary: format!("{id} summary"),
            modified: Some("2024-01-01T00:00:00Z".into()),
            published: None,
            severity: vector
                .map(|v| {
                    vec![SeverityVector {
                        kind: "CVSS_V3".into(),
                        score: v.into(),
                    }]
                })
                .unwrap_or_default(),
            affected: vec![AffectedPackage {
                ecosystem: Default::default(),
                name: pkg.into(),
                ranges: vec![vec![
                    Event::Introduced("0".into()),
                    Event::Fixed(fixed.into()),
                ]],
                versions: vec![],
                severity: vec![],
            }],
            url: None,
        }
    }

    pub(crate) fn dist(name: &str, version: &str) -> Distribution {
        Distribution {
            ecosystem: slipway_artifact::Ecosystem::PyPI,
            integrity: None,
            install_path: None,
            name: name.into(),
            version: version.into(),
            wheel: format!("{name}-{version}-py3-none-any.whl"),
            wheel_sha256: "0".repeat(64),
            wheel_url: None,
            license_expression: None,
            license: None,
            license_classifiers: vec![],
            direct: true,
            requires: vec![],
            installed_in: slipway_artifact::InstalledIn::Function,
        }
    }

    pub(crate) fn db(advisories: Vec<Advisory>) -> Database {
        Database::new(
            DbInfo {
                date: Some("2024-01-01T00:00:00Z".into()),
                ..DbInfo::new(DbKind::Folder, "test".into())
            },
            advisories,
        )
    }

    const CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    const MEDIUM: &str = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N";

    fn target(dists: Vec<Distribution>) -> Vec<ScanTarget> {
        vec![ScanTarget {
            function: "f".into(),
            distributions: dists,
            requires_dist: BTreeMap::new(),
        }]
    }

    #[test]
    fn aliases_merge_into_one_finding() {
        let db = db(vec![
            adv(
                "PYSEC-2020-1",
                &["CVE-2020-9", "GHSA-aaaa"],
                "foo",
                "1.5",
                None,
            ),
            adv("GHSA-aaaa", &["CVE-2020-9"], "foo", "1.6", Some(CRITICAL)),
            adv("PYSEC-2021-2", &["CVE-2021-1"], "foo", "2.0", Some(MEDIUM)),
            adv("PYSEC-2021-3", &[], "bar", "2.0", Some(CRITICAL)),
        ]);
        let today = time::macros::date!(2025 - 01 - 01);
        let out = scan(
            &db,
            &target(vec![dist("Foo", "1.0")]),
            &[],
            Severity::High,
            false,
            today,
        );
        assert_eq!(out.findings.len(), 2, "{:#?}", out.findings);
        let merged = out
            .findings
            .iter()
            .find(|f| f.id == "PYSEC-2020-1")
            .unwrap();
        assert_eq!(merged.aliases, vec!["CVE-2020-9", "GHSA-aaaa"]);
        assert_eq!(merged.records, vec!["PYSEC-2020-1", "GHSA-aaaa"]);
        assert_eq!(
            merged.severity,
            Severity::Critical,
            "the worst member's severity"
        );
        assert_eq!(
            merged.fixed_in.as_deref(),
            Some("1.6"),
            "fixed only when every record is"
        );
        assert_eq!(out.blocking, 1);
        assert!(!out.passed());
        // Sorted worst first within a package.
        assert_eq!(out.findings[0].id, "PYSEC-2020-1");
    }

    #[test]
    fn fail_on_and_ignores() {
        let db = db(vec![
            adv("PYSEC-1", &["CVE-1"], "foo", "2.0", Some(CRITICAL)),
            adv("PYSEC-2", &[], "foo", "2.0", Some(MEDIUM)),
        ]);
        let today = time::macros::date!(2025 - 06 - 01);
        let t = target(vec![dist("foo", "1.0")]);
        assert_eq!(
            scan(&db, &t, &[], Severity::Critical, false, today).blocking,
            1
        );
        assert_eq!(
            scan(&db, &t, &[], Severity::Medium, false, today).blocking,
            2
        );
        let rule = |id: &str, until: Option<time::Date>| IgnoreRule {
            id: id.into(),
            reason: "r".into(),
            until,
            origin: "x:1".into(),
        };
        let rules = [
            rule("cve-1", Some(time::macros::date!(2025 - 06 - 01))),
            rule("PYSEC-2", Some(time::macros::date!(2025 - 05 - 31))),
            rule("GHSA-none", None),
        ];
        let out = scan(&db, &t, &rules, Severity::Medium, false, today);
        let states: Vec<_> = out.ignores.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            [
                IgnoreState::Applied,
                IgnoreState::Expired,
                IgnoreState::Stale
            ]
        );
        assert_eq!(out.blocking, 1, "the expired rule no longer covers PYSEC-2");
        let covered = out.findings.iter().find(|f| f.id == "PYSEC-1").unwrap();
        assert_eq!(covered.accepted.as_ref().unwrap().rule_id, "cve-1");
    }

    #[test]
    fn unscored_findings_fail_the_gate_unless_allowed() {
        let db = db(vec![
            adv("PYSEC-9", &[], "foo", "2.0", None),
            adv("PYSEC-8", &[], "foo", "2.0", Some(MEDIUM)),
        ]);
        let today = time::macros::date!(2025 - 06 - 01);
        let t = target(vec![dist("foo", "1.0")]);
        assert_eq!(
            scan(&db, &t, &[], Severity::High, false, today).blocking,
            1,
            "the unscored one blocks"
        );
        assert_eq!(scan(&db, &t, &[], Severity::High, true, today).blocking, 0);
        assert_eq!(
            scan(&db, &t, &[], Severity::Medium, true, today).blocking,
            1
        );
    }

    #[test]
    fn fixed_versions_do_not_match() {
        let db = db(vec![adv("PYSEC-1", &[], "foo", "2.0", Some(CRITICAL))]);
        let today = time::macros::date!(2025 - 01 - 01);
        let out = scan(
            &db,
            &target(vec![dist("foo", "2.0"), dist("foo-bar", "1.0")]),
            &[],
            Severity::High,
            false,
            today,
        );
        assert!(out.findings.is_empty());
        assert_eq!(out.distributions_scanned, 2);
        assert!(out.passed());
    }
}
