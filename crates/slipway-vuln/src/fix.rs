//! Fix advice: the smallest version that clears every known advisory of a
//! shipped distribution, and whether the lock can move there.
//!
//! What is known offline: the advisories' `fixed` events, and the
//! `Requires-Dist` lines of the other shipped distributions (read from the
//! built zip). What is not: which releases exist on the index, and what the
//! fixing release itself requires. The advice says so in `approximations`.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::Version;
use serde::Serialize;

use crate::db::Database;
use crate::matching::{self, Installed};
use crate::scan::{Finding, ScanTarget};
use slipway_sbom::normalize_name as normalize;

/// Whether moving the lock to the fixing version keeps the other shipped
/// distributions' requirements satisfied.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum LockMove {
    /// Every dependent's requirement on the package accepts the target.
    Compatible { checked: Vec<String> },
    /// These dependents' requirements exclude the target.
    Conflicts { with: Vec<Conflict> },
    /// No advisory names a fixing version.
    NoFixKnown,
    /// A dependent's requirement could not be read.
    Unknown { reason: String },
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Conflict {
    pub dependent: String,
    pub requirement: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixAdvice {
    pub function: String,
    pub package: String,
    pub installed: String,
    /// The smallest version no known advisory affects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The findings it clears.
    pub clears: Vec<String>,
    pub direct: bool,
    pub lock: LockMove,
    /// What this advice could not check, in words.
    pub approximations: Vec<String>,
}

const NOT_CHECKED: &str = "not checked offline: that the target release exists on the index, and what the target release itself requires";

/// One advice per (function, package) with findings.
pub fn advise(db: &Database, targets: &[ScanTarget], findings: &[Finding]) -> Vec<FixAdvice> {
    let mut by_package: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_package
            .entry((
                f.function.clone(),
                crate::ecosystem::key(f.ecosystem, &f.package),
            ))
            .or_default()
            .push(f);
    }
    by_package
        .into_iter()
        .map(|((function, normalized), fs)| {
            let first = fs[0];
            if !first.ecosystem.is_pypi() {
                return advise_by_order(db, function, &normalized, &fs);
            }
            let target = targets.iter().find(|t| t.function == function);
            let mut approximations = vec![NOT_CHECKED.to_string()];
            let fix = smallest_clean(db, &normalized, &first.version, &fs);
            let lock = match (&fix, target) {
                (None, _) => LockMove::NoFixKnown,
                (Some(v), Some(t)) => check_dependents(t, &normalized, v, &mut approximations),
                (Some(_), None) => LockMove::Unknown {
                    reason: "the function's inventory is not available".into(),
                },
            };
            if first.direct {
                approximations.push(format!(
                    "{} is named in the requirements: change its pin there",
                    first.package
                ));
            }
            FixAdvice {
                function,
                package: first.package.clone(),
                installed: first.version.clone(),
                target: fix.map(|v| v.to_string()),
                clears: fs.iter().map(|f| f.id.clone()).collect(),
                direct: first.direct,
                lock,
                approximations,
            }
        })
        .collect()
}

/// Advice for an ecosystem whose dependents' ranges slipway does not read
/// (npm): the smallest clean version by the ecosystem's own ordering.
fn advise_by_order(db: &Database, function: String, key: &str, fs: &[&Finding]) -> FixAdvice {
    let first = fs[0];
    let e = first.ecosystem;
    let mut candidate = if fs.iter().all(|f| f.fixed_in.is_some()) {
        fs.iter()
            .filter_map(|f| f.fixed_in.clone())
            .max_by(|a, b| crate::ecosystem::compare(e, a, b))
    } else {
        None
    };
    let mut cache = matching::VersionCache::default();
    for _ in 0..64 {
        let Some(c) = candidate.clone() else { break };
        let still: Vec<Option<String>> = db
            .for_package(key)
            .flat_map(|a| a.affected.iter().filter(|p| p.key() == key))
            .filter_map(|p| crate::ecosystem::evaluate(e, &c, p, &mut cache))
            .map(|(_, fixed)| fixed)
            .collect();
        if still.is_empty() {
            break;
        }
        candidate = still.into_iter().collect::<Option<Vec<_>>>().and_then(|v| {
            v.into_iter()
                .max_by(|a, b| crate::ecosystem::compare(e, a, b))
        });
    }
    let lock = match &candidate {
        None => LockMove::NoFixKnown,
        Some(t) => LockMove::Unknown {
            reason: format!(
                "the dependents' ranges are not checked: move the lockfile with `npm install {}@{t}` (or an `overrides` entry) and rebuild",
                first.package
            ),
        },
    };
    FixAdvice {
        function,
        package: first.package.clone(),
        installed: first.version.clone(),
        target: candidate,
        clears: fs.iter().map(|f| f.id.clone()).collect(),
        direct: first.direct,
        lock,
        approximations: vec![NOT_CHECKED.replace("index", "registry")],
    }
}

/// Starts at the highest per-finding fix and climbs while some advisory of
/// the package still affects the candidate.
fn smallest_clean(
    db: &Database,
    normalized: &str,
    installed: &str,
    findings: &[&Finding],
) -> Option<Version> {
    if findings.iter().any(|f| f.fixed_in.is_none()) {
        return None;
    }
    let mut candidate = findings
        .iter()
        .filter_map(|f| Version::from_str(f.fixed_in.as_deref()?).ok())
        .max()?;
    let installed = Version::from_str(installed).ok()?;
    let mut cache = matching::VersionCache::default();
    // Each step strictly raises the candidate; the bound only guards against
    // a malformed database.
    for _ in 0..64 {
        let probe = Installed::new(&candidate.to_string());
        let still = db
            .for_package(normalized)
            .flat_map(|a| a.affected.iter().filter(|p| p.name == normalized))
            .filter(|p| matching::matches_with(&probe, p, &mut cache).is_some())
            .map(|p| matching::next_fixed(&candidate, p))
            .collect::<Vec<_>>();
        if still.is_empty() {
            return (candidate > installed).then_some(candidate);
        }
        candidate = still
            .into_iter()
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()?;
    }
    None
}

fn check_dependents(
    target: &ScanTarget,
    normalized: &str,
    fix: &Version,
    approximations: &mut Vec<String>,
) -> LockMove {
    let dependents: Vec<_> = target
        .distributions
        .iter()
        .filter(|d| d.requires.iter().any(|r| normalize(r) == normalized))
        .collect();
    let mut checked = Vec::new();
    let mut conflicts = Vec::new();
    for dep in dependents {
        let Some(lines) = target.requires_dist.get(&normalize(&dep.name)) else {
            return LockMove::Unknown {
                reason: format!(
                    "the metadata of {} (which requires it) is not in the built package",
                    dep.name
                ),
            };
        };
        for line in lines {
            let Ok(req) = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(line) else {
                approximations.push(format!("unreadable requirement of {}: `{line}`", dep.name));
                continue;
            };
            if req.name.as_ref() != normalized {
                continue;
            }
            if !req.marker.is_true() {
                approximations.push(format!(
                    "`{line}` of {} has an environment marker; it was treated as applying",
                    dep.name
                ));
            }
            let accepts = match &req.version_or_url {
                Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => specs.contains(fix),
                _ => true,
            };
            if accepts {
                checked.push(format!("{} ({line})", dep.name));
            } else {
                conflicts.push(Conflict {
                    dependent: format!("{} {}", dep.name, dep.version),
                    requirement: line.clone(),
                });
            }
        }
    }
    if conflicts.is_empty() {
        LockMove::Compatible { checked }
    } else {
        LockMove::Conflicts { with: conflicts }
    }
}

/// `Requires-Dist` lines of every `*.dist-info/METADATA` in a built zip, by
/// normalised distribution name. Only the central directory and the METADATA
/// entries are read, so pass the open file rather than its bytes.
pub fn requires_dist_from_zip(
    zip: impl std::io::Read + std::io::Seek,
) -> std::io::Result<BTreeMap<String, Vec<String>>> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(zip).map_err(std::io::Error::other)?;
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(std::io::Error::other)?;
        let name = file.name().map_err(std::io::Error::other)?.to_string();
        let Some(dir) = name.strip_suffix("/METADATA") else {
            continue;
        };
        if !dir.ends_with(".dist-info") || !is_install_root(dir) {
            continue;
        }
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let (name, requires) = parse_metadata(&text);
        if let Some(name) = name {
            out.insert(normalize(&name), requires);
        }
    }
    Ok(out)
}

/// Whether a `*.dist-info` folder sits where installed distributions do: the
/// function zip's root, or a layer's `python/` or
/// `python/lib/pythonX.Y/site-packages/` (not a copy vendored inside a package).
fn is_install_root(dist_info: &str) -> bool {
    let parent = dist_info.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    if parent.is_empty() || parent == "python" {
        return true;
    }
    parent
        .strip_prefix("python/lib/python")
        .and_then(|rest| rest.strip_suffix("/site-packages"))
        .is_some_and(|v| !v.contains('/'))
}

/// `Name` and `Requires-Dist` of a core metadata file (headers end at the first blank line).
pub fn parse_metadata(text: &str) -> (Option<String>, Vec<String>) {
    let mut name = None;
    let mut requires = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Requires-Dist:") {
            requires.push(v.trim().to_string());
        }
    }
    (name, requires)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::{Advisory, AffectedPackage, Event};
    use crate::severity::Severity;

    fn adv(id: &str, events: Vec<Event>) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: vec![],
            summary: String::new(),
            modified: None,
            published: None,
            severity: vec![],
            affected: vec![AffectedPackage {
                ecosystem: Default::default(),
                name: "urllib3".into(),
                ranges: vec![events],
                versions: vec![],
                severity: vec![],
            }],
            url: None,
        }
    }

    fn intro(s: &str) -> Event {
        Event::Introduced(s.into())
    }
    fn fixed(s: &str) -> Event {
        Event::Fixed(s.into())
    }

    fn scan_with(requires_dist: &[&str]) -> Vec<FixAdvice> {
        let db = crate::scan::tests::db(vec![
            adv("A", vec![intro("0"), fixed("1.26.5")]),
            // The first fix is itself affected by a later advisory.
            adv(
                "B",
                vec![
                    intro("1.26.0"),
                    fixed("1.26.18"),
                    intro("2.0.0"),
                    fixed("2.0.7"),
                ],
            ),
        ]);
        let mut urllib3 = crate::scan::tests::dist("urllib3", "1.26.4");
        urllib3.direct = false;
        let mut requests = crate::scan::tests::dist("requests", "2.31.0");
        requests.requires = vec!["urllib3".into()];
        let mut rd = BTreeMap::new();
        rd.insert(
            "requests".to_string(),
            requires_dist.iter().map(|s| s.to_string()).collect(),
        );
        let targets = vec![ScanTarget {
            function: "f".into(),
            distributions: vec![requests, urllib3],
            requires_dist: rd,
        }];
        let out = crate::scan::scan(
            &db,
            &targets,
            &[],
            Severity::High,
            false,
            time::macros::date!(2025 - 01 - 01),
        );
        out.fix_advice
    }

    #[test]
    fn climbs_past_fixes_that_are_still_affected() {
        let advice = scan_with(&["urllib3<3,>=1.21.1", "idna<4,>=2.5"]);
        assert_eq!(advice.len(), 1);
        assert_eq!(advice[0].target.as_deref(), Some("1.26.18"));
        assert_eq!(advice[0].clears, vec!["A", "B"]);
        assert!(matches!(&advice[0].lock, LockMove::Compatible { checked } if checked.len() == 1));
    }

    #[test]
    fn reports_conflicting_dependents() {
        let advice = scan_with(&["urllib3<1.26.10,>=1.21.1"]);
        let LockMove::Conflicts { with } = &advice[0].lock else {
            panic!("{:?}", advice[0].lock)
        };
        assert_eq!(with[0].dependent, "requests 2.31.0");
        assert_eq!(with[0].requirement, "urllib3<1.26.10,>=1.21.1");
    }

    #[test]
    fn missing_metadata_is_unknown() {
        let db = crate::scan::tests::db(vec![adv("A", vec![intro("0"), fixed("1.26.5")])]);
        let mut requests = crate::scan::tests::dist("requests", "2.31.0");
        requests.requires = vec!["urllib3".into()];
        let targets = vec![ScanTarget {
            function: "f".into(),
            distributions: vec![requests, crate::scan::tests::dist("urllib3", "1.0")],
            requires_dist: BTreeMap::new(),
        }];
        let out = crate::scan::scan(
            &db,
            &targets,
            &[],
            Severity::High,
            false,
            time::macros::date!(2025 - 01 - 01),
        );
        assert!(matches!(out.fix_advice[0].lock, LockMove::Unknown { .. }));
    }

    #[test]
    fn dist_info_locations() {
        assert!(is_install_root("requests-2.31.0.dist-info"));
        assert!(is_install_root("python/requests-2.31.0.dist-info"));
        assert!(is_install_root(
            "python/lib/python3.12/site-packages/requests-2.31.0.dist-info"
        ));
        assert!(!is_install_root("pip/_vendor/requests-2.31.0.dist-info"));
        assert!(!is_install_root(
            "python/lib/python3.12/site-packages/x/y.dist-info"
        ));
    }

    #[test]
    fn metadata_headers() {
        let (name, req) = parse_metadata(
            "Metadata-Version: 2.1\nName: requests\nRequires-Dist: urllib3 (<3,>=1.21.1)\nRequires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"\n\nRequires-Dist: body text\n",
        );
        assert_eq!(name.as_deref(), Some("requests"));
        assert_eq!(req.len(), 2);
    }
}
