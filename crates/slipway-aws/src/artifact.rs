//! The built artifact a deploy ships: `dist/<function>/manifest.json` and the
//! zip it describes, checked against slipway.toml.

use std::path::{Path, PathBuf};

use slipway_artifact::{MANIFEST_FILE_NAME, Manifest, function_dist_dir};
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

    /// The check only slipway.toml can make: the manifest was built from the
    /// function as slipway.toml describes it now. The zip's bytes are checked
    /// against the manifest by `slipway verify`'s checks
    /// (`slipway_attest::verify::verify_function`), which the binary runs
    /// before any deploy; they read each zip once, so this does not hash it again.
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
        match stale("function", &m.function, &function.name)
            .or_else(|| stale("runtime", m.runtime.id, function.runtime.id))
            .or_else(|| stale("handler", &m.handler, &function.handler))
            .or_else(|| {
                stale(
                    "architecture",
                    m.architecture.lambda_name(),
                    function.architecture.lambda_name(),
                )
            }) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn code_sha256(&self) -> &str {
        &self.manifest.artifact.code_sha256
    }
}
