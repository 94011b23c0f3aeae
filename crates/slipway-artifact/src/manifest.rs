use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const MANIFEST_FILE_NAME: &str = "manifest.json";
pub const SHA256SUMS_FILE_NAME: &str = "SHA256SUMS";
/// Bumped whenever a field changes meaning or goes away; new optional fields do not bump it.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// `dist/<function>/`: where one function's artifacts live.
pub fn function_dist_dir(out: &Path, function: &str) -> PathBuf {
    out.join(function)
}

/// `manifest.json`: what was built for one function, and from what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub function: String,
    pub runtime: String,
    pub architecture: String,
    pub handler: String,
    /// The deployment package.
    pub artifact: ArtifactRecord,
    /// The dependencies layer, when the function builds one (`layer = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<ArtifactRecord>,
    /// Hash over every normalised input; equal hashes mean equal artifacts.
    pub input_hash: String,
    pub slipway_version: String,
    /// The git commit of the source folder, when it is in a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    /// The timestamp written into the zip entries (seconds since the epoch).
    pub source_date_epoch: i64,
    /// The time the evidence (SBOMs) states: `SOURCE_DATE_EPOCH` when set,
    /// otherwise the source commit's time, otherwise `source_date_epoch`.
    /// Derived from the inputs, never the clock, so evidence is reproducible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_time: Option<i64>,
    /// Every installed distribution, sorted by name.
    #[serde(default)]
    pub dependencies: Vec<Distribution>,
}

/// One zip file and everything in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRecord {
    /// The file name, relative to the manifest's folder.
    pub file: String,
    /// SHA-256 of the zip, hex.
    pub sha256: String,
    /// SHA-256 of the zip, base64, exactly as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    pub zipped_size: u64,
    pub unzipped_size: u64,
    /// Sorted by path.
    pub entries: Vec<EntryRecord>,
}

/// One file inside a zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// `/`-separated, relative to the zip root.
    pub path: String,
    pub size: u64,
    /// Unix mode bits as stored: 0o644 or 0o755.
    pub mode: u32,
    /// SHA-256 of the uncompressed content, hex.
    pub sha256: String,
    pub origin: EntryOrigin,
}

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryOrigin {
    /// A file of the function's source folder.
    Source,
    /// A file installed from a wheel; `distribution` is the normalised name.
    Dependency { distribution: String },
}

/// One installed Python distribution: the inventory SBOMs and scans read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// The name as the distribution spells it.
    pub name: String,
    pub version: String,
    /// The wheel's file name.
    pub wheel: String,
    /// SHA-256 of the wheel file, hex.
    pub wheel_sha256: String,
    /// Where the wheel was downloaded from, credentials removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wheel_url: Option<String>,
    /// The `License-Expression` metadata field (PEP 639), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_expression: Option<String>,
    /// The free-text `License` metadata field, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `License ::` trove classifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license_classifiers: Vec<String>,
    /// Named in the requirements (true) or pulled in by another distribution.
    pub direct: bool,
    /// Normalised names of the installed distributions this one requires.
    #[serde(default)]
    pub requires: Vec<String>,
    /// `function` or `layer`: which zip holds it.
    pub installed_in: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ManifestError {
    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(code(slipway::manifest::unreadable), help("run `slipway build` first"))]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a slipway manifest: {source}", path.display())]
    #[diagnostic(
        code(slipway::manifest::malformed),
        help("rebuild with `slipway build`; do not edit manifest.json by hand")
    )]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{} has schema version {found}; this slipway reads version {MANIFEST_SCHEMA_VERSION}", path.display())]
    #[diagnostic(
        code(slipway::manifest::version),
        help("rebuild with this slipway, or use the slipway that wrote it")
    )]
    Version { path: PathBuf, found: u32 },
}

impl Manifest {
    /// Reads `dist/<function>/manifest.json`.
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let bytes = std::fs::read(path).map_err(|source| ManifestError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let m: Manifest =
            serde_json::from_slice(&bytes).map_err(|source| ManifestError::Malformed {
                path: path.to_path_buf(),
                source,
            })?;
        if m.schema_version != MANIFEST_SCHEMA_VERSION {
            return Err(ManifestError::Version {
                path: path.to_path_buf(),
                found: m.schema_version,
            });
        }
        Ok(m)
    }

    /// The canonical bytes: pretty JSON with a final newline, fields in declaration order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }

    /// The time SBOMs and other evidence state (see `evidence_time`).
    pub fn evidence_time(&self) -> i64 {
        self.evidence_time.unwrap_or(self.source_date_epoch)
    }

    /// Every artifact the manifest describes: the function zip, then the layer zip.
    pub fn artifacts(&self) -> impl Iterator<Item = &ArtifactRecord> {
        std::iter::once(&self.artifact).chain(self.layer.as_ref())
    }

    /// `SHA256SUMS` content for the artifacts, in `sha256sum -c` format.
    pub fn sha256sums(&self) -> String {
        self.artifacts()
            .map(|a| format!("{}  {}\n", a.sha256, a.file))
            .collect()
    }
}
