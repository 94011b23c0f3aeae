//! The vulnerability gate: OSV advisories (PyPI, npm) matched against the
//! distributions a built Lambda package ships (`manifest.json` →
//! `dependencies`), with severities, accepted risks, fix advice and reports
//! (table, JSON, SARIF, GitLab dependency scanning, CycloneDX VEX).
//!
//! The crate never prints: it returns values the binary renders.

pub mod advisory;
pub mod db;
pub mod ecosystem;
pub mod error;
pub mod fix;
pub mod ignore;
pub mod index;
pub mod matching;
mod osv;
pub mod report;
pub mod scan;
pub mod semver;
pub mod severity;
pub mod versions;

pub use advisory::{Advisory, AffectedPackage, Event};
pub use db::{Database, DbInfo, DbKind};
pub use error::VulnError;
pub use ignore::{IgnoreRule, IgnoreState};
pub use scan::{Finding, ScanOutcome, ScanTarget};
pub use severity::Severity;
