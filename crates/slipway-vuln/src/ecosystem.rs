//! One place that knows how each ecosystem's advisories are named, which
//! OSV range type orders its versions, and how a version is matched. A new
//! ecosystem is one arm in each function here.

use std::cmp::Ordering;

use slipway_artifact::Ecosystem;

use crate::advisory::AffectedPackage;
use crate::matching::{self, Installed, MatchedBy, VersionCache};

/// The name an advisory's package is stored and looked up under.
pub fn package_name(e: Ecosystem, name: &str) -> String {
    match e {
        Ecosystem::PyPI => slipway_sbom::normalize_name(name),
        // npm names are exact (scope included).
        Ecosystem::Npm => name.to_string(),
        Ecosystem::NuGet => name.to_ascii_lowercase(),
        Ecosystem::CratesIo => name.replace('_', "-"),
    }
}

/// The index key of a package: PyPI names bare (as every earlier copy of
/// the database stored them), the others prefixed so names never collide.
pub fn key(e: Ecosystem, name: &str) -> String {
    match e {
        Ecosystem::PyPI => package_name(e, name),
        other => format!("{}:{}", other.osv_name(), package_name(e, name)),
    }
}

/// The OSV range types whose events are versions of this ecosystem.
pub fn range_types(e: Ecosystem) -> &'static [&'static str] {
    match e {
        Ecosystem::PyPI | Ecosystem::NuGet => &["ECOSYSTEM"],
        Ecosystem::Npm | Ecosystem::CratesIo => &["SEMVER", "ECOSYSTEM"],
    }
}

/// Whether `version` is affected by `affected`, how, and the first fixed
/// version above it.
pub fn evaluate(
    e: Ecosystem,
    version: &str,
    affected: &AffectedPackage,
    cache: &mut VersionCache,
) -> Option<(MatchedBy, Option<String>)> {
    match e {
        Ecosystem::PyPI => {
            let installed = Installed::new(version);
            let by = matching::matches_with(&installed, affected, cache)?;
            let fixed = installed
                .version
                .as_ref()
                .and_then(|v| matching::next_fixed(v, affected))
                .map(|v| v.to_string());
            Some((by, fixed))
        }
        Ecosystem::Npm | Ecosystem::CratesIo => {
            let by = crate::semver::matches(version, affected)?;
            Some((by, crate::semver::next_fixed(version, affected)))
        }
        Ecosystem::NuGet => {
            let parse = |t: &str| crate::versions::nuget::parse(t).ok();
            let by = crate::versions::ranges::matches_by(version, affected, parse)?;
            Some((
                by,
                crate::versions::ranges::next_fixed_by(version, affected, parse),
            ))
        }
    }
}

/// The ecosystem's order of two version strings.
pub fn compare(e: Ecosystem, a: &str, b: &str) -> Ordering {
    match e {
        Ecosystem::PyPI => matching::compare(a, b),
        Ecosystem::NuGet => crate::versions::nuget::compare(a, b).unwrap_or_else(|| a.cmp(b)),
        Ecosystem::Npm | Ecosystem::CratesIo => crate::semver::compare(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::Event;

    fn affected(ranges: Vec<Vec<Event>>, versions: &[&str]) -> AffectedPackage {
        AffectedPackage {
            ecosystem: Ecosystem::NuGet,
            name: "newtonsoft.json".into(),
            ranges,
            versions: versions.iter().map(|v| v.to_string()).collect(),
            severity: Vec::new(),
        }
    }

    #[test]
    fn nuget_ranges_walk_nuget_order() {
        // Newtonsoft.Json's GHSA-5crp-9r3c-p9vr: introduced 0, fixed 13.0.1.
        let a = affected(
            vec![vec![
                Event::Introduced("0".into()),
                Event::Fixed("13.0.1".into()),
            ]],
            &[],
        );
        let mut cache = VersionCache::default();
        let hit = evaluate(Ecosystem::NuGet, "11.0.2", &a, &mut cache).unwrap();
        assert_eq!(hit, (MatchedBy::Range, Some("13.0.1".into())));
        // Four-part and prerelease versions order as NuGet orders them.
        assert!(evaluate(Ecosystem::NuGet, "13.0.0.9", &a, &mut cache).is_some());
        assert!(evaluate(Ecosystem::NuGet, "13.0.1-beta1", &a, &mut cache).is_some());
        assert!(evaluate(Ecosystem::NuGet, "13.0.1", &a, &mut cache).is_none());
        assert!(evaluate(Ecosystem::NuGet, "13.0.01", &a, &mut cache).is_none());
        assert_eq!(
            compare(Ecosystem::NuGet, "1.0.0-RC.1", "1.0.0-rc.1"),
            Ordering::Equal
        );
    }
}
