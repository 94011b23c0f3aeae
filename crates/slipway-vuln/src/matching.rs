//! Is version V of a package affected? The OSV evaluation algorithm
//! (`IncludedInVersions || IncludedInRanges`, with `BeforeLimits`) over PEP
//! 440 ordering: epochs, pre-, post- and dev-releases, local versions.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::Version;

use crate::advisory::{AffectedPackage, Event};

/// An installed version: its text, and its PEP 440 value when it parses.
#[derive(Debug, Clone)]
pub struct Installed {
    pub text: String,
    pub version: Option<Version>,
}

impl Installed {
    pub fn new(text: &str) -> Installed {
        Installed {
            text: text.trim().to_string(),
            version: Version::from_str(text.trim()).ok(),
        }
    }
}

/// Why a version matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// It is listed in `affected[].versions`.
    Versions,
    /// It falls in an `ECOSYSTEM` range.
    Range,
}

/// Parsed version strings, kept across the advisories of one package:
/// their `versions` lists repeat the same releases, and parsing them is most
/// of the matching time.
#[derive(Default)]
pub struct VersionCache {
    parsed: HashMap<String, Option<Version>>,
}

impl VersionCache {
    pub fn parse(&mut self, text: &str) -> Option<Version> {
        let text = text.trim();
        if let Some(v) = self.parsed.get(text) {
            return v.clone();
        }
        let v = Version::from_str(text).ok();
        self.parsed.insert(text.to_string(), v.clone());
        v
    }
}

/// Whether `installed` is affected, and how.
pub fn matches(installed: &Installed, affected: &AffectedPackage) -> Option<MatchedBy> {
    matches_with(installed, affected, &mut VersionCache::default())
}

/// [`matches`] with a cache of parsed versions.
pub fn matches_with(
    installed: &Installed,
    affected: &AffectedPackage,
    cache: &mut VersionCache,
) -> Option<MatchedBy> {
    if in_versions_with(installed, &affected.versions, cache) {
        return Some(MatchedBy::Versions);
    }
    let version = installed.version.as_ref()?;
    affected
        .ranges
        .iter()
        .any(|events| in_range(version, events))
        .then_some(MatchedBy::Range)
}

/// `IncludedInVersions`. A listed public version matches an installed local
/// build of it (`1.0+ubuntu1` is `1.0`), as PEP 440's `==` does.
pub fn in_versions(installed: &Installed, versions: &[String]) -> bool {
    in_versions_with(installed, versions, &mut VersionCache::default())
}

fn in_versions_with(installed: &Installed, versions: &[String], cache: &mut VersionCache) -> bool {
    if versions
        .iter()
        .any(|listed| listed.trim() == installed.text)
    {
        return true;
    }
    let Some(have) = &installed.version else {
        return false;
    };
    let public = have.clone().without_local();
    versions.iter().any(|listed| match cache.parse(listed) {
        Some(want) if want.local().is_empty() => public == want,
        Some(want) => *have == want,
        None => false,
    })
}

/// `IncludedInRanges` for one range, events in any order, over PEP 440
/// ordering. An event whose version is not PEP 440 cannot be placed on the
/// timeline and is passed over, as OSV tools do.
pub fn in_range(v: &Version, events: &[Event]) -> bool {
    crate::versions::ranges::in_range_by(v, events, |t| Version::from_str(t).ok())
}

/// The smallest `fixed` version above `v` in the package's ranges: the first
/// release the advisory says is not affected.
pub fn next_fixed(v: &Version, affected: &AffectedPackage) -> Option<Version> {
    affected
        .ranges
        .iter()
        .flatten()
        .filter_map(|e| match e {
            Event::Fixed(text) => Version::from_str(text.trim()).ok(),
            _ => None,
        })
        .filter(|fixed| fixed > v)
        .min()
}

/// PEP 440 ordering of two version strings (unparseable ones sort first).
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::from_str(a).ok().cmp(&Version::from_str(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }
    fn intro(s: &str) -> Event {
        Event::Introduced(s.into())
    }
    fn fixed(s: &str) -> Event {
        Event::Fixed(s.into())
    }
    fn last(s: &str) -> Event {
        Event::LastAffected(s.into())
    }
    fn limit(s: &str) -> Event {
        Event::Limit(s.into())
    }
    fn pkg(ranges: Vec<Vec<Event>>, versions: &[&str]) -> AffectedPackage {
        AffectedPackage {
            ecosystem: Default::default(),
            name: "p".into(),
            ranges,
            versions: versions.iter().map(|s| s.to_string()).collect(),
            severity: vec![],
        }
    }

    #[test]
    fn pep_440_corner_cases() {
        assert!(v("1.0rc1") < v("1.0"));
        assert!(v("1.0") < v("1.0.post1"));
        assert!(v("1.0.dev1") < v("1.0a1"));
        assert!(v("1!0.1") > v("2.0"));
        assert!(v("1.0+local") > v("1.0"));
        assert!(v("1.0+local") < v("1.0.post1"));
        assert_eq!(v("1.0"), v("1.0.0"));
    }

    #[test]
    fn introduced_zero_and_fixed() {
        let r = [intro("0"), fixed("5.1")];
        assert!(in_range(&v("0.1"), &r));
        assert!(
            in_range(&v("5.1b1"), &r),
            "a pre-release of the fix is still affected"
        );
        assert!(in_range(&v("5.0.post3"), &r));
        assert!(!in_range(&v("5.1"), &r));
        assert!(!in_range(&v("5.1.post1"), &r));
        assert!(
            !in_range(&v("1!0.1"), &r),
            "epoch 1 sorts after every epoch-0 release"
        );
    }

    #[test]
    fn introduced_only_means_every_later_version() {
        let r = [intro("2.0")];
        assert!(!in_range(&v("1.9"), &r));
        assert!(!in_range(&v("2.0rc1"), &r));
        assert!(in_range(&v("2.0"), &r));
        assert!(in_range(&v("99"), &r));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let r = [intro("1.0"), last("1.4")];
        assert!(in_range(&v("1.4"), &r));
        assert!(!in_range(&v("1.4.post1"), &r));
        assert!(!in_range(&v("0.9"), &r));
    }

    #[test]
    fn limit_bounds_the_range() {
        let r = [intro("0"), limit("3.0")];
        assert!(in_range(&v("2.9"), &r));
        assert!(!in_range(&v("3.0"), &r));
        let star = [intro("1.0"), limit("*")];
        assert!(in_range(&v("50"), &star));
        let two = [intro("0"), limit("2.0"), limit("4.0")];
        assert!(in_range(&v("3.0"), &two), "below any one limit is enough");
        assert!(!in_range(&v("4.0"), &two));
    }

    #[test]
    fn unsorted_events_and_several_branches() {
        // Two branches, listed out of order: [1.0, 1.2) and [2.0, 2.3).
        let r = [fixed("2.3"), intro("2.0"), fixed("1.2"), intro("1.0")];
        assert!(in_range(&v("1.1"), &r));
        assert!(!in_range(&v("1.5"), &r));
        assert!(in_range(&v("2.2.9"), &r));
        assert!(!in_range(&v("2.3"), &r));
        assert!(!in_range(&v("0.9"), &r));
    }

    #[test]
    fn empty_and_degenerate_ranges() {
        assert!(!in_range(&v("1.0"), &[]));
        assert!(!in_range(&v("1.0"), &[intro("1.0"), fixed("1.0")]));
        assert!(
            !in_range(&v("1.0"), &[fixed("2.0")]),
            "no introduced: nothing affected"
        );
        // An unparseable event is skipped, not a crash.
        assert!(in_range(&v("1.5"), &[intro("1.0"), fixed("not-a-version")]));
    }

    #[test]
    fn multiple_ranges_any_matches() {
        let p = pkg(
            vec![
                vec![intro("0"), fixed("1.0")],
                vec![intro("3.0"), fixed("3.1")],
            ],
            &[],
        );
        assert_eq!(matches(&Installed::new("0.5"), &p), Some(MatchedBy::Range));
        assert_eq!(matches(&Installed::new("2.0"), &p), None);
        assert_eq!(
            matches(&Installed::new("3.0.1"), &p),
            Some(MatchedBy::Range)
        );
        assert_eq!(next_fixed(&v("3.0.1"), &p), Some(v("3.1")));
        assert_eq!(next_fixed(&v("0.5"), &p), Some(v("1.0")));
    }

    #[test]
    fn versions_list() {
        let p = pkg(vec![], &["1.0", "1.1rc1", "2.0+vendor"]);
        assert_eq!(
            matches(&Installed::new("1.0.0"), &p),
            Some(MatchedBy::Versions)
        );
        assert_eq!(
            matches(&Installed::new("1.0+local"), &p),
            Some(MatchedBy::Versions)
        );
        assert_eq!(
            matches(&Installed::new("1.1rc1"), &p),
            Some(MatchedBy::Versions)
        );
        assert_eq!(matches(&Installed::new("1.1"), &p), None);
        assert_eq!(
            matches(&Installed::new("2.0"), &p),
            None,
            "a local listing is exact"
        );
        assert_eq!(
            matches(&Installed::new("2.0+vendor"), &p),
            Some(MatchedBy::Versions)
        );
        // A version that is not PEP 440 still matches its exact listing.
        let odd = pkg(vec![], &["2004d"]);
        assert_eq!(
            matches(&Installed::new("2004d"), &odd),
            Some(MatchedBy::Versions)
        );
    }
}
