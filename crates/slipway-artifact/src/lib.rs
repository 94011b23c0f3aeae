//! The records every stage after `build` reads: the [`Manifest`] of a built
//! function (its artifacts, their entries, and the [`Distribution`] inventory)
//! and the file-level helpers that keep them honest (hashing, atomic writes).
//!
//! SBOMs, scans, signatures, verification and deploys read these records;
//! nothing re-derives them from the zip.
//!
//! The Lambda vocabulary the records speak ([`Runtime`], [`Architecture`])
//! lives here rather than in `slipway-config`: configuration reads these
//! records' types (and already depends on this crate), while the stages
//! after `build` read manifests without reading `slipway.toml`, so the
//! typed values sit at the bottom of the graph and nobody parses strings.

pub mod digest;
pub mod fs;
pub mod layout;
mod manifest;
mod redact;
pub mod runtime;
mod severity;

pub use severity::Severity;

pub use manifest::{
    ArtifactRecord, Distribution, Ecosystem, EntryOrigin, EntryRecord, InstalledIn,
    MANIFEST_FILE_NAME, MANIFEST_SCHEMA_VERSION, Manifest, ManifestError, SHA256SUMS_FILE_NAME,
    function_dist_dir, normalize_pypi_name,
};
pub use redact::redact_url;
pub use runtime::{Architecture, LifecycleStatus, Runtime, RuntimeFamily};
