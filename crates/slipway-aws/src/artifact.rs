//! The built artifact a deploy ships: `dist/<function>/manifest.json` and the
//! zip it describes, checked against each other and against slipway.toml.

use std::path::{Path, PathBuf};

use slipway_artifact::{MANIFEST_FILE_NAME, Manifest, digest, function_dist_dir};
use slipway_config::Function;

use crate::AwsError;

/// A function's built package, its manifest, and where they live.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub manifest: Manifest,
    pub zip: PathBuf,
    /// `dist/<function>/`: where deploy.json goes.
    pub dir: PathBuf,
}

impl Artifact {
    /// Reads the manifest of `function` under `out` (normally `dist/`), without checking the zip.
    pub fn load(function: &Function, out: &Path) -> Result<Artifact, AwsError> {
        let dir = function_dist_dir(out, &function.name);
        let manifest_path = dir.join(MANIFEST_FILE_NAME);
        if !manifest_path.is_file() {
            return Err(AwsError::NotBuilt {
                function: function.name.clone(),
                path: manifest_path,
            });
        }
        let manifest = Manifest::read(&manifest_path)?;
        let zip = dir.join(&manifest.artifact.file);
        Ok(Artifact { manifest, zip, dir })
    }

    /// The small local check before any upload: the zip hashes to what the
    /// manifest says, and the manifest was built from the function as
    /// slipway.toml describes it now. `slipway verify` checks far more
    /// (entries, SBOMs, provenance, signatures); deploy calls this seam so a
    /// tampered or stale zip never leaves the machine.
    pub fn check(&self, function: &Function) -> Result<(), AwsError> {
        let stale = |field: &'static str, built: &str, configured: &str| {
            (built != configured).then(|| AwsError::StaleArtifact {
                function: function.name.clone(),
                field,
                built: built.to_string(),
                configured: configured.to_string(),
            })
        };
        let m = &self.manifest;
        if let Some(e) = stale("function", &m.function, &function.name)
            .or_else(|| stale("runtime", &m.runtime, function.runtime.id))
            .or_else(|| stale("handler", &m.handler, &function.handler))
            .or_else(|| {
                stale(
                    "architecture",
                    &m.architecture,
                    function.architecture.lambda_name(),
                )
            })
        {
            return Err(e);
        }
        if !self.zip.is_file() {
            return Err(AwsError::NotBuilt {
                function: function.name.clone(),
                path: self.zip.clone(),
            });
        }
        let actual = digest::file_sha256_hex(&self.zip).map_err(|source| AwsError::Read {
            path: self.zip.clone(),
            source,
        })?;
        if actual != m.artifact.sha256 {
            return Err(AwsError::ArtifactMismatch {
                function: function.name.clone(),
                path: self.zip.clone(),
                detail: format!(
                    "its SHA-256 is {actual}, the manifest says {}",
                    m.artifact.sha256
                ),
            });
        }
        if digest::hex_to_code_sha256(&m.artifact.sha256).as_deref()
            != Some(m.artifact.code_sha256.as_str())
        {
            return Err(AwsError::ArtifactMismatch {
                function: function.name.clone(),
                path: self.zip.clone(),
                detail: "the manifest's code_sha256 is not the base64 form of its sha256".into(),
            });
        }
        Ok(())
    }

    pub fn code_sha256(&self) -> &str {
        &self.manifest.artifact.code_sha256
    }
}
