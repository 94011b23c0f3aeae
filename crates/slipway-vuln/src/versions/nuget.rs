//! NuGet versions as NuGet.Versioning reads and orders them, for OSV
//! advisories of the `NuGet` ecosystem (whose `ECOSYSTEM` ranges are NuGet
//! versions).
//!
//! A NuGet version is SemVer 2.0 extended the legacy way: one to four
//! numeric parts (`1`, `1.2`, `1.2.3`, `1.2.3.4`; missing parts are 0),
//! leading zeros allowed in them (`01.002` is `1.2.0`), then an optional
//! `-prerelease` and `+metadata`. Ordering:
//!
//! - major, minor, patch, revision numerically;
//! - a version without prerelease labels sorts after one with them;
//! - prerelease labels compare identifier by identifier (`.`-separated):
//!   numeric ones numerically, below alphanumeric ones, alphanumeric ones
//!   case-insensitively (NuGet's default comparer), and a longer list wins
//!   when all shared identifiers are equal;
//! - build metadata never takes part (`1.0.0+a` equals `1.0.0+b`).
//!
//! NuGet's legacy SemVer 1.0 labels (`1.0.0-beta2`) are one alphanumeric
//! identifier, so `beta10` sorts before `beta2`, as NuGet sorts them.

use std::cmp::Ordering;
use std::fmt;

/// A parsed NuGet version.
#[derive(Debug, Clone)]
pub struct NuGetVersion {
    /// Major, minor, patch, revision.
    parts: [u64; 4],
    /// Prerelease identifiers, in order; empty for a release.
    release: Vec<String>,
    /// Build metadata after `+`, kept for display only.
    metadata: Option<String>,
}

/// Why a string is not a NuGet version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a NuGet version: {reason}")]
pub struct ParseError {
    pub text: String,
    pub reason: &'static str,
}

/// Parses `text` the way `NuGetVersion.TryParse` does (surrounding
/// whitespace ignored).
pub fn parse(text: &str) -> Result<NuGetVersion, ParseError> {
    let fail = |reason| ParseError {
        text: text.to_owned(),
        reason,
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(fail("it is empty"));
    }
    let (rest, metadata) = match s.split_once('+') {
        Some((r, m)) => {
            if !valid_identifiers(m) {
                return Err(fail(
                    "build metadata must be dot-separated identifiers of [0-9A-Za-z-]",
                ));
            }
            (r, Some(m.to_owned()))
        }
        None => (s, None),
    };
    let (numbers, release) = match rest.split_once('-') {
        Some((n, r)) => {
            if !valid_identifiers(r) {
                return Err(fail(
                    "prerelease labels must be dot-separated identifiers of [0-9A-Za-z-]",
                ));
            }
            (n, r.split('.').map(str::to_owned).collect())
        }
        None => (rest, Vec::new()),
    };
    let mut parts = [0u64; 4];
    for (count, piece) in numbers.split('.').enumerate() {
        if count == 4 {
            return Err(fail("it has more than four numeric parts"));
        }
        if piece.is_empty() || !piece.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("its numeric parts must be digits"));
        }
        // NuGet stores each part as a 32-bit signed integer.
        let value: u64 = piece
            .parse()
            .map_err(|_| fail("a numeric part is too large"))?;
        if value > i32::MAX as u64 {
            return Err(fail("a numeric part is too large"));
        }
        parts[count] = value;
    }
    Ok(NuGetVersion {
        parts,
        release,
        metadata,
    })
}

/// Orders two version strings; `None` when either is not a NuGet version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(parse(a).ok()?.cmp(&parse(b).ok()?))
}

fn valid_identifiers(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn is_numeric(id: &str) -> bool {
    id.bytes().all(|b| b.is_ascii_digit())
}

fn compare_identifiers(a: &str, b: &str) -> Ordering {
    match (is_numeric(a), is_numeric(b)) {
        (true, true) => {
            // Compare as numbers of any length: strip leading zeros, then length, then digits.
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase())),
    }
}

impl NuGetVersion {
    pub fn major(&self) -> u64 {
        self.parts[0]
    }
    pub fn minor(&self) -> u64 {
        self.parts[1]
    }
    pub fn patch(&self) -> u64 {
        self.parts[2]
    }
    pub fn revision(&self) -> u64 {
        self.parts[3]
    }
    pub fn is_prerelease(&self) -> bool {
        !self.release.is_empty()
    }
    pub fn release_labels(&self) -> &[String] {
        &self.release
    }
    pub fn metadata(&self) -> Option<&str> {
        self.metadata.as_deref()
    }

    /// NuGet's normalised form (`ToNormalizedString`): three parts, a fourth
    /// only when it is not 0, no leading zeros, the prerelease labels as
    /// written, no metadata. It is how nuget.org and `deps.json` spell a version.
    pub fn normalized(&self) -> String {
        let [major, minor, patch, revision] = self.parts;
        let mut s = format!("{major}.{minor}.{patch}");
        if revision != 0 {
            s.push_str(&format!(".{revision}"));
        }
        if !self.release.is_empty() {
            s.push('-');
            s.push_str(&self.release.join("."));
        }
        s
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts).then_with(|| {
            match (self.release.is_empty(), other.release.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.release.iter().zip(&other.release) {
                        let o = compare_identifiers(a, b);
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    self.release.len().cmp(&other.release.len())
                }
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}

impl std::str::FromStr for NuGetVersion {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl fmt::Display for NuGetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())?;
        if let Some(m) = &self.metadata {
            write!(f, "+{m}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> NuGetVersion {
        parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn missing_parts_are_zero_and_normalise_to_three() {
        for (text, normal) in [
            ("1", "1.0.0"),
            ("1.2", "1.2.0"),
            ("1.2.3", "1.2.3"),
            ("1.2.3.0", "1.2.3"),
            ("1.2.3.4", "1.2.3.4"),
            ("01.002.0003", "1.2.3"),
            ("1.0.0.00", "1.0.0"),
            ("  4.7.0  ", "4.7.0"),
            ("1.0-beta", "1.0.0-beta"),
            ("1.0.0.1-RC.1", "1.0.0.1-RC.1"),
            ("2.0.0+sha.abc", "2.0.0"),
            ("13.0.1", "13.0.1"),
        ] {
            assert_eq!(v(text).normalized(), normal, "{text}");
        }
        assert_eq!(v("1.0.0-rc.1+build.5").to_string(), "1.0.0-rc.1+build.5");
        assert_eq!(v("1.2.3.4").revision(), 4);
    }

    #[test]
    fn malformed_versions_are_refused_with_a_reason() {
        for text in [
            "",
            "   ",
            "a.b",
            "1.",
            ".1",
            "1..2",
            "1.2.3.4.5",
            "1.0-",
            "1.0+",
            "1.0-beta..1",
            "1.0-beta_1",
            "1.0+meta!",
            "v1.0",
            "-1.0",
            "1.0 .0",
            "2147483648.0",
            "99999999999999999999999.0",
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.to_string().contains("is not a NuGet version"), "{e}");
        }
        assert_eq!(v("2147483647.0").major(), 2147483647);
    }

    /// Each list is strictly ascending; every pair is checked both ways.
    fn assert_ascending(list: &[&str]) {
        for (i, a) in list.iter().enumerate() {
            for (j, b) in list.iter().enumerate() {
                assert_eq!(
                    compare(a, b),
                    Some(i.cmp(&j)),
                    "{a} vs {b} should be {:?}",
                    i.cmp(&j)
                );
            }
        }
    }

    #[test]
    fn numeric_parts_order_numerically_including_the_legacy_fourth() {
        assert_ascending(&[
            "0.0.1", "0.1", "0.9.9.9", "1.0", "1.0.0.1", "1.0.1", "1.2", "1.10", "2", "2.0.0.10",
            "10.0",
        ]);
    }

    #[test]
    fn prereleases_order_as_semver_two() {
        // The SemVer 2.0 specification's own example, with NuGet's rules.
        assert_ascending(&[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1-alpha",
            "1.0.0.1",
        ]);
    }

    #[test]
    fn legacy_labels_compare_as_one_identifier() {
        // NuGet SemVer 1.0 style: lexical, so beta10 sorts before beta2.
        assert_ascending(&["1.0.0-beta1", "1.0.0-beta10", "1.0.0-beta2", "1.0.0-rc"]);
        // Numeric identifiers sort below alphanumeric ones, and numerically.
        assert_ascending(&["1.0.0-2", "1.0.0-10", "1.0.0-a", "1.0.0-a-b"]);
        assert_eq!(compare("1.0.0-01", "1.0.0-1"), Some(Ordering::Equal));
    }

    #[test]
    fn labels_are_case_insensitive_and_metadata_is_ignored() {
        assert_eq!(compare("1.0.0-BETA", "1.0.0-beta"), Some(Ordering::Equal));
        assert_eq!(
            compare("1.0.0-Beta.X", "1.0.0-beta.y"),
            Some(Ordering::Less)
        );
        assert_eq!(compare("1.0.0+a", "1.0.0+b"), Some(Ordering::Equal));
        assert_eq!(compare("1.0+z", "1.0.0.0"), Some(Ordering::Equal));
        assert_eq!(v("1.0.0-beta+x"), v("1.0.0-BETA+y"));
        assert_eq!(compare("1.0", "not a version"), None);
    }

    #[test]
    fn real_package_versions_order_as_nuget_lists_them() {
        // Amazon.Lambda.Core, Newtonsoft.Json and System.Text.Json history, shuffled.
        let mut list = vec![
            "13.0.1",
            "2.2.0",
            "9.0.0-preview.1.24080.9",
            "12.0.3",
            "1.0.0",
            "9.0.0-rc.2.24473.5",
            "8.0.5",
            "9.0.0",
            "6.0.0-preview.7.21377.19",
            "9.0.0-preview.10.24000.1",
            "4.5.0",
        ];
        list.sort_by(|a, b| compare(a, b).unwrap());
        assert_eq!(
            list,
            [
                "1.0.0",
                "2.2.0",
                "4.5.0",
                "6.0.0-preview.7.21377.19",
                "8.0.5",
                "9.0.0-preview.1.24080.9",
                "9.0.0-preview.10.24000.1",
                "9.0.0-rc.2.24473.5",
                "9.0.0",
                "12.0.3",
                "13.0.1",
            ]
        );
    }
}
