//! SemVer 2.0 versions and the OSV `SEMVER` range type, as npm orders them.
//!
//! Why an own implementation rather than the `semver` crate: OSV needs
//! ordering only (precedence, build metadata ignored, prereleases placed
//! before their release), with node-semver's parsing (a leading `v` or `=`
//! accepted); the crate's `VersionReq` follows Cargo's range rules, which
//! differ from npm's, so nothing beyond ordering would be shared.

use std::cmp::Ordering;

use crate::advisory::{AffectedPackage, Event};
use crate::matching::MatchedBy;
use crate::versions::ranges;

/// A SemVer version; build metadata is kept for display only.
#[derive(Debug, Clone)]
pub struct SemVer {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<Identifier>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Numeric(u64),
    Alpha(String),
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Identifier {
    /// Numeric identifiers sort below alphanumeric ones (SemVer 11.4.3).
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => a.cmp(b),
            (Identifier::Numeric(_), Identifier::Alpha(_)) => Ordering::Less,
            (Identifier::Alpha(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alpha(a), Identifier::Alpha(b)) => a.cmp(b),
        }
    }
}

fn numeric(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl SemVer {
    pub fn parse(text: &str) -> Option<SemVer> {
        let t = text.trim();
        let t = t.strip_prefix('=').unwrap_or(t).trim_start();
        let t = t.strip_prefix('v').unwrap_or(t);
        let (core_pre, _build) = match t.split_once('+') {
            Some((a, b)) => {
                if b.is_empty()
                    || b.split('.').any(|p| {
                        p.is_empty() || !p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                    })
                {
                    return None;
                }
                (a, Some(b))
            }
            None => (t, None),
        };
        let (core, pre) = match core_pre.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (core_pre, None),
        };
        let mut nums = core.split('.');
        let major = numeric(nums.next()?)?;
        let minor = numeric(nums.next()?)?;
        let patch = numeric(nums.next()?)?;
        if nums.next().is_some() {
            return None;
        }
        let mut identifiers = Vec::new();
        if let Some(pre) = pre {
            for part in pre.split('.') {
                if part.is_empty() || !part.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                {
                    return None;
                }
                if part.bytes().all(|c| c.is_ascii_digit()) {
                    identifiers.push(Identifier::Numeric(numeric(part)?));
                } else {
                    identifiers.push(Identifier::Alpha(part.to_string()));
                }
            }
        }
        Some(SemVer {
            major,
            minor,
            patch,
            pre: identifiers,
            text: t.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SemVer {}
impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SemVer {
    /// SemVer precedence: build metadata ignored, a prerelease below its release.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

/// Whether `version` is affected: listed in `versions`, or inside a range
/// (OSV's evaluation: events sorted, `introduced: "0"` first, `limit` bounds).
pub fn matches(version: &str, affected: &AffectedPackage) -> Option<MatchedBy> {
    ranges::matches_by(version, affected, SemVer::parse)
}

/// `IncludedInRanges` for one `SEMVER` range.
pub fn in_range(v: &SemVer, events: &[Event]) -> bool {
    ranges::in_range_by(v, events, SemVer::parse)
}

/// The smallest `fixed` version above `version`.
pub fn next_fixed(version: &str, affected: &AffectedPackage) -> Option<String> {
    ranges::next_fixed_by(version, affected, SemVer::parse)
}

/// SemVer ordering of two strings (unparseable ones first).
pub fn compare(a: &str, b: &str) -> Ordering {
    SemVer::parse(a).cmp(&SemVer::parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemVer {
        SemVer::parse(s).unwrap()
    }

    #[test]
    fn precedence_follows_semver_2() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.10.0",
            "2.0.0",
        ];
        for w in order.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(v("1.0.0+build.5"), v("1.0.0"));
        assert_eq!(v("v1.2.3"), v("=1.2.3"));
        for bad in ["1.0", "01.0.0", "1.0.0-", "1.0.0-01", "a.b.c", "1.0.0+"] {
            assert!(SemVer::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ranges_include_prereleases_by_order() {
        let r = [
            Event::Introduced("0".into()),
            Event::Fixed("4.17.21".into()),
        ];
        assert!(in_range(&v("4.17.20"), &r));
        assert!(
            in_range(&v("4.17.21-rc.1"), &r),
            "a prerelease of the fix is affected"
        );
        assert!(!in_range(&v("4.17.21"), &r));
        let last = [
            Event::Introduced("2.0.0-beta.1".into()),
            Event::LastAffected("2.1.0".into()),
        ];
        assert!(!in_range(&v("2.0.0-alpha"), &last));
        assert!(in_range(&v("2.0.0-beta.2"), &last));
        assert!(in_range(&v("2.1.0"), &last));
        assert!(!in_range(&v("2.1.1-0"), &last));
    }
}
