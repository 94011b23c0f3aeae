//! Software bills of materials for a built function, in the two standard
//! formats security tools read: CycloneDX 1.6 JSON ([`cyclonedx`]) and
//! SPDX 2.3 JSON ([`spdx_document`]).
//!
//! Both are pure functions of the [`Manifest`] (plus the per-file SHA-1s SPDX
//! insists on), so the same build gives byte-identical documents: serial
//! numbers and namespaces are UUIDv5s of the artifact's hash, the timestamp is
//! the build's `SOURCE_DATE_EPOCH`, and every list is sorted.

mod cyclonedx;
mod license;
mod spdx_doc;

use std::collections::BTreeMap;

use slipway_artifact::{Distribution, Manifest};
use uuid::Uuid;

pub use cyclonedx::cyclonedx;
pub use license::DeclaredLicense;
pub use spdx_doc::spdx_document;

pub use slipway_artifact::layout::{CYCLONEDX_FILE_NAME, SPDX_FILE_NAME};

/// Identifies slipway's documents; a name, never fetched.
const SLIPWAY_URI: &str = "https://slipway.dev/";

/// What the SBOMs are made from besides the manifest.
#[derive(Debug, Clone, Default)]
pub struct SbomInput {
    /// The dependency file the inventory was resolved from, relative to the
    /// repository root (GitLab shows dependencies against this path).
    pub dependency_file: Option<String>,
    /// SHA-1 (hex) of each zip entry, by artifact file name then entry path.
    /// SPDX 2.3 requires a SHA-1 for every file and for the package
    /// verification code; the manifest records only SHA-256.
    pub entry_sha1: BTreeMap<String, BTreeMap<String, String>>,
}

/// The canonical bytes of an SBOM: pretty JSON and a final newline.
pub fn to_bytes(document: &serde_json::Value) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(document).expect("JSON values serialise");
    v.push(b'\n');
    v
}

/// A UUIDv5 in slipway's namespace: the same name always gives the same id.
fn stable_uuid(name: &str) -> Uuid {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, SLIPWAY_URI.as_bytes());
    Uuid::new_v5(&namespace, name.as_bytes())
}

/// `SOURCE_DATE_EPOCH` as the UTC timestamp both formats accept.
fn timestamp(epoch: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&format)
        .expect("fixed format")
}

/// The PEP 503 normalised name: lowercase, runs of `-_.` as one `-`, so
/// that `Jinja2`, `jinja2` and `JINJA_2`-style spellings of one project
/// compare equal. The scan (slipway-vuln) matches advisories by it too.
pub use slipway_artifact::normalize_pypi_name as normalize_name;

/// The distribution's package URL; see [`Distribution::purl`].
pub fn purl(distribution: &Distribution) -> String {
    distribution.purl()
}

/// The distributions sorted by normalised name then version, so documents do
/// not depend on the order the inventory was written in.
/// A distribution's file digests as (CycloneDX algorithm, lowercase hex):
/// the SHA-256 of its file when known, and the SHA-512 its ecosystem
/// records (`integrity = "sha512-<base64>"`: npm lockfiles, .NET `deps.json`).
fn digests(distribution: &Distribution) -> Vec<(&'static str, String)> {
    use base64::Engine;
    let mut out = Vec::new();
    if !distribution.wheel_sha256.is_empty() {
        out.push(("SHA-256", distribution.wheel_sha256.clone()));
    }
    if let Some(sha512) = distribution
        .integrity
        .as_deref()
        .and_then(|i| i.strip_prefix("sha512-"))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter(|d| d.len() == 64)
    {
        out.push(("SHA-512", hex::encode(sha512)));
    }
    out
}

fn sorted_distributions(manifest: &Manifest) -> Vec<&Distribution> {
    let mut all: Vec<&Distribution> = manifest.dependencies.iter().collect();
    all.sort_by(|a, b| {
        (normalize_name(&a.name), &a.version).cmp(&(normalize_name(&b.name), &b.version))
    });
    all
}

/// Normalised name → distribution, to resolve `requires`.
fn by_normalized_name(manifest: &Manifest) -> BTreeMap<String, &Distribution> {
    manifest
        .dependencies
        .iter()
        .map(|d| (normalize_name(&d.name), d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_as_pep_503_says() {
        assert_eq!(normalize_name("Typing_Extensions"), "typing-extensions");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("a-_.b"), "a-b");
        for spelling in [
            "friendly-bard",
            "Friendly-Bard",
            "FRIENDLY-BARD",
            "friendly.bard",
            "friendly_bard",
            "friendly--bard",
            "FrIeNdLy-._.-bArD",
            " friendly-bard\n",
        ] {
            assert_eq!(normalize_name(spelling), "friendly-bard", "{spelling:?}");
        }
        assert_eq!(normalize_name("jw.util"), "jw-util");
        assert_eq!(normalize_name("PyYAML"), "pyyaml");
    }

    #[test]
    fn timestamps_come_from_the_epoch() {
        assert_eq!(timestamp(315_532_800), "1980-01-01T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn uuids_are_stable_and_distinct() {
        assert_eq!(stable_uuid("a"), stable_uuid("a"));
        assert_ne!(stable_uuid("a"), stable_uuid("b"));
        assert_eq!(stable_uuid("a").get_version_num(), 5);
    }
}
