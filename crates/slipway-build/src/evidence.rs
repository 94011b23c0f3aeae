//! The evidence stage: SBOMs, provenance and (when signing) signatures,
//! written beside the manifest from what the build holds in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use slipway_artifact::Manifest;
use slipway_attest::provenance::{self, BuildEnvironment, ProvenanceInput};
use slipway_attest::{SigningKey, dsse, sshsig};
use slipway_config::{Function, Project};
use slipway_sbom::SbomInput;

use crate::error::{Failure, Kind};
use crate::layout;

/// What the evidence stage needs from the build besides the manifest.
pub(crate) struct EvidenceInput<'a> {
    pub function: &'a Function,
    pub project: &'a Project,
    pub manifest: &'a Manifest,
    /// The lock the dependency stage produced, as written beside the zip.
    pub lock: Option<&'a str>,
    pub environment: &'a BuildEnvironment,
    pub key: Option<&'a SigningKey>,
    /// Each zip's entry SHA-1s (hex, by path), for SPDX.
    pub entry_sha1: BTreeMap<String, BTreeMap<String, String>>,
}

/// Writes the evidence files for one built function into `dir` and returns
/// their paths.
pub(crate) fn write(input: &EvidenceInput<'_>, dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let EvidenceInput {
        function,
        project,
        manifest,
        ..
    } = input;
    let entry_sha1 = input.entry_sha1.clone();
    // The zips are read back only to be signed: SPDX's SHA-1s come from the
    // zip writer, which computed or carried them.
    let mut zips = Vec::new();
    if input.key.is_some() {
        for artifact in manifest.artifacts() {
            let path = dir.join(&artifact.file);
            let bytes = std::fs::read(&path)
                .map_err(|e| Failure::io("read", &path, e, Kind::CheckFailed))?;
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
    let lock_file = input.lock.map(|lock| {
        (
            layout::LOCK_FILE_NAME.to_string(),
            slipway_artifact::digest::sha256_hex(lock.as_bytes()),
        )
    });
    let sboms = [
        (
            layout::CYCLONEDX_FILE_NAME,
            slipway_sbom::to_bytes(&slipway_sbom::cyclonedx(manifest, &sbom_input)),
        ),
        (
            layout::SPDX_FILE_NAME,
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
            environment: input.environment.clone(),
        },
    );

    let mut written = Vec::new();
    let statement_bytes = provenance::to_bytes(&statement);
    for (name, bytes) in sboms
        .iter()
        .map(|(name, bytes)| (*name, bytes.as_slice()))
        .chain([(layout::STATEMENT_FILE_NAME, statement_bytes.as_slice())])
    {
        let path = dir.join(name);
        write_file(&path, bytes)?;
        written.push(path);
    }
    if let Some(key) = input.key {
        written.extend(write_signatures(
            dir,
            zips.iter().map(|(file, bytes)| (*file, bytes.as_slice())),
            &statement_bytes,
            key,
        )?);
    }
    Ok(written)
}

/// Signs zips and a statement the caller has checked (or just made) and
/// holds in memory: an sshsig per zip (`(file name, bytes)`) and the DSSE
/// envelope. Every signature is computed before anything is written.
pub fn write_signatures<'a>(
    dir: &Path,
    zips: impl Iterator<Item = (&'a str, &'a [u8])>,
    statement: &[u8],
    key: &SigningKey,
) -> Result<Vec<PathBuf>, Failure> {
    let mut outputs = Vec::new();
    for (file, bytes) in zips {
        outputs.push((
            dir.join(sshsig::signature_file_name(file)),
            sshsig::sign(key, bytes)?.into_bytes(),
        ));
    }
    outputs.push((
        dir.join(dsse::ENVELOPE_FILE_NAME),
        dsse::sign(statement, key).to_json(),
    ));
    let mut written = Vec::new();
    for (path, bytes) in outputs {
        write_file(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// Writes a shareable artifact atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    slipway_artifact::fs::write_atomic(path, bytes)
        .map_err(|e| Failure::io("write", path, e, Kind::CheckFailed))
}

/// What of the signing changes the build's outputs (for the input hash): a
/// build that signs must not be skipped as up to date after one that did
/// not, and a new key re-signs.
pub(crate) fn fingerprint(key: Option<&SigningKey>) -> String {
    match key {
        None => String::new(),
        Some(key) => format!("signed-by:{}", key.keyid()),
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
        "architecture": function.architecture,
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
