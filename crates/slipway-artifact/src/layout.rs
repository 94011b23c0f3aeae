//! Every file of the `dist/` layout, named once. Each stage that writes or
//! reads one of them takes its name from here.
//!
//! ```text
//! dist/                            locked (flock) while a build changes it
//!   .<function>.staging-XXXXXX/    a build in progress (swept when stale)
//!   .old-XXXXXX/                   a replaced build being removed (swept when stale)
//!   <function>/
//!     <function>.zip               the package
//!     <function>-layer.zip         the dependencies layer (`layer = true`)
//!     <zip>.sig                    sshsig of each zip (when signed)
//!     manifest.json, SHA256SUMS, requirements.lock.txt
//!     sbom.cdx.json, sbom.spdx.json, vex.cdx.json
//!     provenance.intoto.json, provenance.dsse.json
//!     deploy.json                  the last deploy of this build
//!     .build-state.json            what the input hash saw
//! ```

use std::path::{Path, PathBuf};

pub const MANIFEST_FILE_NAME: &str = "manifest.json";
pub const SHA256SUMS_FILE_NAME: &str = "SHA256SUMS";
/// The exact, hashed dependency set the dependency stage installed.
pub const LOCK_FILE_NAME: &str = "requirements.lock.txt";
pub const CYCLONEDX_FILE_NAME: &str = "sbom.cdx.json";
pub const SPDX_FILE_NAME: &str = "sbom.spdx.json";
/// The scan's VEX document (`scan --vex`).
pub const VEX_FILE_NAME: &str = "vex.cdx.json";
/// The in-toto statement with the SLSA provenance predicate.
pub const STATEMENT_FILE_NAME: &str = "provenance.intoto.json";
/// The DSSE envelope signing the statement.
pub const ENVELOPE_FILE_NAME: &str = "provenance.dsse.json";
/// What `deploy` did with this build.
pub const DEPLOY_RECORD_FILE_NAME: &str = "deploy.json";
/// The input hash's memory of the last build.
pub const BUILD_STATE_FILE_NAME: &str = ".build-state.json";
/// Prefix of a replaced build's folder while it is being removed.
pub const OLD_PREFIX: &str = ".old-";

/// `dist/<function>/`: where one function's artifacts live.
pub fn function_dist_dir(out: &Path, function: &str) -> PathBuf {
    out.join(function)
}

/// `<function>.zip`.
pub fn zip_file_name(function: &str) -> String {
    format!("{function}.zip")
}

/// `<function>-layer.zip`.
pub fn layer_zip_file_name(function: &str) -> String {
    format!("{function}-layer.zip")
}

/// `<zip>.sig` beside the zip.
pub fn signature_file_name(artifact_file: &str) -> String {
    format!("{artifact_file}.sig")
}

/// Prefix of the staging folder of a build of `function` in progress.
pub fn staging_prefix(function: &str) -> String {
    format!(".{function}.staging-")
}
