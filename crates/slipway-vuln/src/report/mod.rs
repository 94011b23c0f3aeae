//! The scan outcome in the formats people and tools read: a table, SARIF
//! 2.1.0, a GitLab dependency-scanning report, JUnit XML, and CycloneDX
//! `vulnerabilities` merged into the function's SBOM (VEX).
//!
//! JSON for machines is the serde form of [`crate::ScanOutcome`] itself.

pub mod cyclonedx;
pub mod gitlab;
pub mod junit;
pub mod sarif;
pub mod table;

use crate::scan::Finding;

/// A stable identity for one finding, the same in every report and run.
pub fn finding_uuid(f: &Finding) -> String {
    let key = format!(
        "slipway-scan:{}:{}:{}:{}",
        f.function, f.package, f.version, f.id
    );
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
}

/// The text of "fixed in" for people.
pub fn fixed_in_text(f: &Finding) -> &str {
    f.fixed_in.as_deref().unwrap_or("no fix known")
}
