//! The evidence stage of `slipway build`: SBOMs, provenance and (with
//! `--sign`) signatures, written beside the manifest.
//!
//! Owned by the evidence work (slipway-sbom, slipway-attest); the build calls
//! exactly this function after the zip(s) and manifest.json are written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use slipway_artifact::Manifest;
use slipway_attest::provenance::{self, BuildEnvironment, ProvenanceInput};
use slipway_config::{Function, Project};
use slipway_sbom::SbomInput;

use crate::output::Failure;

/// Flags of `slipway build` for evidence.
#[derive(Debug, Clone, Default, Args)]
pub struct EvidenceOptions {
    /// Sign the provenance (DSSE) and the zips (OpenSSH sshsig) with --key or SLIPWAY_SIGNING_KEY
    #[arg(long)]
    pub sign: bool,
    /// The private signing key (OpenSSH or PKCS#8 PEM, Ed25519 or ECDSA P-256); implies --sign.
    /// Without it, --sign reads the key itself from SLIPWAY_SIGNING_KEY
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
}

impl EvidenceOptions {
    fn wants_signature(&self) -> bool {
        self.sign || self.key.is_some()
    }
}

/// Writes the evidence files for one built function into `dist_dir` and
/// returns their paths. `entry_sha1` is each zip's entry SHA-1s (hex, by
/// path) as the zip writer computed or carried them.
pub fn write(
    function: &Function,
    project: &Project,
    manifest: &Manifest,
    dist_dir: &Path,
    options: &EvidenceOptions,
    entry_sha1: BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<PathBuf>, Failure> {
    // Load the key before writing anything: a bad key fails the build
    // without leaving unsigned evidence that looks complete.
    let key = if options.wants_signature() {
        Some(crate::commands::sign::load_key(options.key.as_deref())?)
    } else {
        None
    };

    // The zips are read back only to be signed.
    let mut zips = Vec::new();
    if key.is_some() {
        for artifact in manifest.artifacts() {
            let path = dist_dir.join(&artifact.file);
            let bytes = std::fs::read(&path).map_err(|e| {
                Failure::failed(miette::miette!("cannot read {}: {e}", path.display()))
            })?;
            zips.push((artifact.file.as_str(), bytes));
        }
    }
    let sbom_input = SbomInput {
        dependency_file: function
            .requirements
            .as_deref()
            .map(|p| slipway_config::relative_path(&project.root, p)),
        entry_sha1,
    };
    let lock_path = dist_dir.join(super::LOCK_FILE_NAME);
    let lock_file = match std::fs::read(&lock_path) {
        Ok(bytes) => Some((
            super::LOCK_FILE_NAME.to_string(),
            slipway_artifact::digest::sha256_hex(&bytes),
        )),
        Err(_) => None,
    };
    let sboms = [
        (
            slipway_sbom::CYCLONEDX_FILE_NAME,
            slipway_sbom::to_bytes(&slipway_sbom::cyclonedx(manifest, &sbom_input)),
        ),
        (
            slipway_sbom::SPDX_FILE_NAME,
            slipway_sbom::to_bytes(&slipway_sbom::spdx_document(manifest, &sbom_input)),
        ),
    ];
    let statement = provenance::statement(
        manifest,
        &ProvenanceInput {
            external_parameters: external_parameters(function, project),
            lock_file,
            byproducts: sboms
                .iter()
                .map(|(name, bytes)| {
                    (
                        name.to_string(),
                        slipway_artifact::digest::sha256_hex(bytes),
                    )
                })
                .collect(),
            environment: BuildEnvironment::detect(|name| std::env::var(name).ok()),
        },
    );

    let mut written = Vec::new();
    let statement_bytes = provenance::to_bytes(&statement);
    for (name, bytes) in sboms
        .iter()
        .map(|(name, bytes)| (*name, bytes.as_slice()))
        .chain([(provenance::STATEMENT_FILE_NAME, statement_bytes.as_slice())])
    {
        let path = dist_dir.join(name);
        crate::commands::sign::write_file(&path, bytes)?;
        written.push(path);
    }
    if let Some(key) = &key {
        written.extend(crate::commands::sign::write_signatures(
            dist_dir,
            zips.iter().map(|(file, bytes)| (*file, bytes.as_slice())),
            &statement_bytes,
            key,
        )?);
    }
    Ok(written)
}

/// What of the evidence options changes the build's outputs (for the input
/// hash): a build with `--sign` must not be skipped as up to date after one without.
pub fn fingerprint(options: &EvidenceOptions) -> String {
    if !options.wants_signature() {
        return String::new();
    }
    // The key's public fingerprint, so a new key re-signs; a key that does not
    // load fails later in `write` with its own message.
    match crate::commands::sign::load_key(options.key.as_deref()) {
        Ok(key) => format!("signed-by:{}", key.keyid()),
        Err(_) => "signed-by:unloadable".into(),
    }
}

/// The function's configuration as the statement's `externalParameters`:
/// what a reader needs to rebuild it. Paths relative to slipway.toml; of the
/// environment only the names, since values may be secrets and the
/// statement is published (the input hash still covers the values).
fn external_parameters(function: &Function, project: &Project) -> serde_json::Value {
    serde_json::json!({
        "function": function.name,
        "source": function.source_relative,
        "handler": function.handler,
        "runtime": function.runtime.id,
        "architecture": function.architecture.to_string(),
        "requirements": function.requirements.as_deref().map(|p| slipway_config::relative_path(&project.root, p)),
        "include": function.include,
        "exclude": function.exclude,
        "exclude_packages": function.exclude_packages,
        "dependencies_layer": function.dependencies_layer,
        "environment_names": function.environment.keys().collect::<Vec<_>>(),
        "memory": function.memory,
        "timeout": function.timeout,
        "layers": function.layers,
    })
}
