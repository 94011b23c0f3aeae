//! The records every stage after `build` reads: the [`Manifest`] of a built
//! function (its artifacts, their entries, and the [`Distribution`] inventory)
//! and the file-level helpers that keep them honest (hashing, atomic writes).
//!
//! SBOMs, scans, signatures, verification and deploys read these records;
//! nothing re-derives them from the zip.

pub mod digest;
pub mod fs;
pub mod layout;
mod manifest;
mod redact;
mod severity;

pub use severity::Severity;

pub use manifest::{
    ArtifactRecord, Distribution, Ecosystem, EntryOrigin, EntryRecord, MANIFEST_FILE_NAME,
    MANIFEST_SCHEMA_VERSION, Manifest, ManifestError, SHA256SUMS_FILE_NAME, function_dist_dir,
    normalize_pypi_name,
};
pub use redact::redact_url;
