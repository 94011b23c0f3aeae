//! The evidence stage of `slipway build`: SBOMs, provenance and (with
//! `--sign`) signatures, written beside the manifest.
//!
//! Owned by the evidence work (slipway-sbom, slipway-attest); the build calls
//! exactly this function after the zip(s) and manifest.json are written.

use std::path::{Path, PathBuf};

use clap::Args;
use slipway_artifact::Manifest;
use slipway_config::{Function, Project};

use crate::output::Failure;

/// Flags of `slipway build` for evidence.
#[derive(Debug, Clone, Default, Args)]
pub struct EvidenceOptions {}

/// Writes the evidence files for one built function into `dist_dir` and
/// returns their paths.
pub fn write(
    _function: &Function,
    _project: &Project,
    _manifest: &Manifest,
    _dist_dir: &Path,
    _options: &EvidenceOptions,
) -> Result<Vec<PathBuf>, Failure> {
    Ok(Vec::new())
}

/// What of the evidence options changes the build's outputs (for the input
/// hash): a build with `--sign` must not be skipped as up to date after one without.
pub fn fingerprint(_options: &EvidenceOptions) -> String {
    String::new()
}
