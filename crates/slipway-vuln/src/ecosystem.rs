//! One place that knows how each ecosystem's advisories are named, which
//! OSV range type orders its versions, and how a version is matched. A new
//! ecosystem is one arm in each function here.

use std::cmp::Ordering;

use slipway_artifact::Ecosystem;

use crate::advisory::AffectedPackage;
use crate::matching::{self, Installed, MatchedBy, VersionCache};

/// Whether slipway matches advisories of this ecosystem yet.
pub fn supported(e: Ecosystem) -> bool {
    match e {
        Ecosystem::PyPI | Ecosystem::Npm => true,
        // NuGet needs its own version ordering; crates.io is SEMVER too and
        // becomes supported once its names are folded below.
        Ecosystem::NuGet | Ecosystem::CratesIo => false,
    }
}

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
        Ecosystem::NuGet => None,
    }
}

/// The ecosystem's order of two version strings.
pub fn compare(e: Ecosystem, a: &str, b: &str) -> Ordering {
    match e {
        Ecosystem::PyPI | Ecosystem::NuGet => matching::compare(a, b),
        Ecosystem::Npm | Ecosystem::CratesIo => crate::semver::compare(a, b),
    }
}
