//! `slipway verify` as a library: every check of one function's dist folder,
//! each reported as passed, failed or skipped with a message saying why.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use slipway_artifact::{ArtifactRecord, Manifest, SHA256SUMS_FILE_NAME};

use crate::keys::TrustedKeys;
use crate::{AttestError, archive, dsse, provenance, sshsig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    Skipped,
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// A stable id: `artifact`, `entries`, `sha256sums`, `sbom_cyclonedx`,
    /// `sbom_spdx`, `provenance`, `dsse`, `sshsig`.
    pub check: &'static str,
    /// The file checked.
    pub target: String,
    pub status: CheckStatus,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Check {
    fn passed(check: &'static str, target: &str, message: impl Into<String>) -> Check {
        Check {
            check,
            target: target.into(),
            status: CheckStatus::Passed,
            message: message.into(),
            help: None,
        }
    }

    fn failed(check: &'static str, target: &str, message: impl Into<String>, help: &str) -> Check {
        Check {
            check,
            target: target.into(),
            status: CheckStatus::Failed,
            message: message.into(),
            help: Some(help.into()),
        }
    }

    fn skipped(check: &'static str, target: &str, message: impl Into<String>) -> Check {
        Check {
            check,
            target: target.into(),
            status: CheckStatus::Skipped,
            message: message.into(),
            help: None,
        }
    }

    fn from_error(check: &'static str, target: &str, error: &AttestError) -> Check {
        use miette::Diagnostic as _;
        Check {
            check,
            target: target.into(),
            status: CheckStatus::Failed,
            message: error.to_string(),
            help: error.help().map(|h| h.to_string()),
        }
    }
}

const REBUILD: &str = "rebuild with `slipway build`; never edit files in dist/ by hand";

/// Runs every check for the function whose manifest is in `dir`.
/// `trusted` = `None` skips the signature checks.
pub fn verify_function(
    dir: &Path,
    manifest: &Manifest,
    trusted: Option<&TrustedKeys>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    // Each zip is read once: hashed, unpacked and checked against its signature.
    let zips: BTreeMap<&str, std::io::Result<Vec<u8>>> = manifest
        .artifacts()
        .map(|a| (a.file.as_str(), std::fs::read(dir.join(&a.file))))
        .collect();
    for artifact in manifest.artifacts() {
        checks.extend(check_artifact(dir, artifact, &zips[artifact.file.as_str()]));
    }
    checks.push(check_sha256sums(dir, manifest));
    // Each evidence file is read once too: parsed, hashed and compared.
    let statement = read_json(dir, provenance::STATEMENT_FILE_NAME);
    let recorded = statement.as_ref().ok().map(|s| &s.json);
    let cyclonedx = read_json(dir, slipway_sbom::CYCLONEDX_FILE_NAME);
    checks.push(check_sbom_recorded(
        check_cyclonedx(&cyclonedx, manifest),
        &cyclonedx,
        recorded,
    ));
    let spdx = read_json(dir, slipway_sbom::SPDX_FILE_NAME);
    checks.push(check_sbom_recorded(
        check_spdx(&spdx, manifest),
        &spdx,
        recorded,
    ));
    checks.push(check_statement(&statement, manifest));
    checks.push(check_dsse(
        dir,
        manifest,
        trusted,
        statement
            .as_ref()
            .map(|s| s.bytes.as_slice())
            .unwrap_or_default(),
    ));
    for artifact in manifest.artifacts() {
        checks.push(check_sshsig(
            dir,
            artifact,
            &zips[artifact.file.as_str()],
            trusted,
        ));
    }
    checks
}

fn check_artifact(
    dir: &Path,
    artifact: &ArtifactRecord,
    zip: &std::io::Result<Vec<u8>>,
) -> Vec<Check> {
    let path = dir.join(&artifact.file);
    let target = artifact.file.as_str();
    let (actual, bytes) = match zip {
        Ok(bytes) => (slipway_artifact::digest::sha256_hex(bytes), bytes),
        Err(e) => {
            return vec![Check::failed(
                "artifact",
                target,
                format!("cannot read {}: {e}", path.display()),
                REBUILD,
            )];
        }
    };
    let mut checks = vec![if actual == artifact.sha256 {
        Check::passed(
            "artifact",
            target,
            format!("SHA-256 {actual} matches manifest.json"),
        )
    } else {
        Check::failed(
            "artifact",
            target,
            format!(
                "{target} has SHA-256 {actual}, but manifest.json records {}: the zip or the manifest was changed after the build",
                artifact.sha256
            ),
            REBUILD,
        )
    }];
    if slipway_artifact::digest::hex_to_code_sha256(&artifact.sha256).as_deref()
        != Some(artifact.code_sha256.as_str())
    {
        checks.push(Check::failed(
            "artifact",
            target,
            "manifest.json's code_sha256 is not the base64 form of its sha256",
            REBUILD,
        ));
    }
    checks.push(check_entries(&path, bytes, artifact));
    checks
}

fn check_entries(path: &Path, bytes: &[u8], artifact: &ArtifactRecord) -> Check {
    let target = artifact.file.as_str();
    let actual = match archive::entry_digests_of_bytes(bytes, path, archive::EntryHash::Sha256) {
        Ok(entries) => entries,
        Err(e) => return Check::from_error("entries", target, &e),
    };
    let actual: BTreeMap<&str, &archive::EntryDigest> =
        actual.iter().map(|e| (e.path.as_str(), e)).collect();
    let recorded: BTreeMap<&str, _> = artifact
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e))
        .collect();
    let mut problems = Vec::new();
    for (path, record) in &recorded {
        match actual.get(path) {
            None => problems.push(format!("{path} is missing from the zip")),
            Some(entry) if entry.sha256 != record.sha256 => problems.push(format!(
                "{path} has SHA-256 {}, manifest.json records {}",
                entry.sha256, record.sha256
            )),
            Some(entry) if entry.size != record.size => problems.push(format!(
                "{path} is {} bytes, manifest.json records {}",
                entry.size, record.size
            )),
            Some(entry) if entry.mode.is_some_and(|m| m != record.mode) => problems.push(format!(
                "{path} has mode {:o}, manifest.json records {:o}",
                entry.mode.unwrap_or_default(),
                record.mode
            )),
            Some(_) => {}
        }
    }
    for path in actual.keys().filter(|p| !recorded.contains_key(*p)) {
        problems.push(format!("{path} is in the zip but not in manifest.json"));
    }
    // The totals the manifest states, against the zip itself.
    if artifact.entries.len() != recorded.len() {
        problems.push(format!(
            "manifest.json lists {} entries but only {} distinct paths",
            artifact.entries.len(),
            recorded.len()
        ));
    }
    if artifact.zipped_size != bytes.len() as u64 {
        problems.push(format!(
            "the zip is {} bytes, manifest.json records zipped_size {}",
            bytes.len(),
            artifact.zipped_size
        ));
    }
    let unzipped: u64 = actual.values().map(|e| e.size).sum();
    if artifact.unzipped_size != unzipped {
        problems.push(format!(
            "the entries hold {unzipped} bytes, manifest.json records unzipped_size {}",
            artifact.unzipped_size
        ));
    }
    if problems.is_empty() {
        Check::passed(
            "entries",
            target,
            format!("all {} entries match manifest.json", recorded.len()),
        )
    } else {
        let shown = problems.len().min(5);
        let more = if problems.len() > shown {
            format!(" (and {} more)", problems.len() - shown)
        } else {
            String::new()
        };
        Check::failed(
            "entries",
            target,
            format!(
                "entries differ from manifest.json: {}{more}",
                problems[..shown].join("; ")
            ),
            REBUILD,
        )
    }
}

fn check_sha256sums(dir: &Path, manifest: &Manifest) -> Check {
    let path = dir.join(SHA256SUMS_FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            return Check::failed(
                "sha256sums",
                SHA256SUMS_FILE_NAME,
                format!("cannot read {}: {e}", path.display()),
                REBUILD,
            );
        }
    };
    let lines = |t: &str| -> BTreeSet<String> {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    };
    let expected = lines(&manifest.sha256sums());
    let found = lines(&text);
    if expected == found {
        Check::passed(
            "sha256sums",
            SHA256SUMS_FILE_NAME,
            "agrees with manifest.json",
        )
    } else {
        let differing: Vec<String> = found.symmetric_difference(&expected).cloned().collect();
        Check::failed(
            "sha256sums",
            SHA256SUMS_FILE_NAME,
            format!(
                "SHA256SUMS disagrees with manifest.json: {}",
                differing.join(" | ")
            ),
            REBUILD,
        )
    }
}

/// An evidence file as read: its bytes (for digests and signatures) and its JSON.
struct JsonFile {
    bytes: Vec<u8>,
    json: serde_json::Value,
}

fn read_json(dir: &Path, name: &str) -> Result<JsonFile, String> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    Ok(JsonFile { bytes, json })
}

fn digest_check(
    check: &'static str,
    name: &str,
    found: Option<&str>,
    expected: &str,
    what: &str,
) -> Check {
    match found {
        Some(found) if found == expected => {
            Check::passed(check, name, format!("names the artifact digest {expected}"))
        }
        Some(found) => Check::failed(
            check,
            name,
            format!("{name} names {what} SHA-256 {found}, but manifest.json records {expected}"),
            REBUILD,
        ),
        None => Check::failed(
            check,
            name,
            format!("{name} names no SHA-256 for {what}"),
            REBUILD,
        ),
    }
}

/// A passed SBOM check also needs the file to be the one the provenance
/// records, so the signature over the statement vouches for the SBOM.
fn check_sbom_recorded(
    check: Check,
    sbom: &Result<JsonFile, String>,
    statement: Option<&serde_json::Value>,
) -> Check {
    let Ok(sbom) = sbom else {
        return check;
    };
    if check.status != CheckStatus::Passed {
        return check;
    }
    let Some(recorded) = statement.and_then(|s| provenance::byproduct_sha256(s, &check.target))
    else {
        return check;
    };
    let actual = slipway_artifact::digest::sha256_hex(&sbom.bytes);
    if actual == recorded {
        Check {
            message: format!(
                "{}; its SHA-256 is the one provenance.intoto.json records",
                check.message
            ),
            ..check
        }
    } else {
        Check::failed(
            check.check,
            &check.target,
            format!(
                "{} has SHA-256 {actual}, but provenance.intoto.json records {recorded}: the SBOM changed after the build",
                check.target
            ),
            REBUILD,
        )
    }
}

fn check_cyclonedx(file: &Result<JsonFile, String>, manifest: &Manifest) -> Check {
    let name = slipway_sbom::CYCLONEDX_FILE_NAME;
    match file {
        Err(e) => Check::failed("sbom_cyclonedx", name, e.as_str(), REBUILD),
        Ok(JsonFile { json: doc, .. }) => {
            let found = doc["metadata"]["component"]["hashes"]
                .as_array()
                .and_then(|h| h.iter().find(|h| h["alg"] == "SHA-256"))
                .and_then(|h| h["content"].as_str());
            digest_check(
                "sbom_cyclonedx",
                name,
                found,
                &manifest.artifact.sha256,
                "the function",
            )
        }
    }
}

fn check_spdx(file: &Result<JsonFile, String>, manifest: &Manifest) -> Check {
    let name = slipway_sbom::SPDX_FILE_NAME;
    match file {
        Err(e) => Check::failed("sbom_spdx", name, e.as_str(), REBUILD),
        Ok(JsonFile { json: doc, .. }) => {
            let described = doc["relationships"]
                .as_array()
                .and_then(|r| {
                    r.iter().find(|r| {
                        r["spdxElementId"] == "SPDXRef-DOCUMENT"
                            && r["relationshipType"] == "DESCRIBES"
                    })
                })
                .and_then(|r| r["relatedSpdxElement"].as_str())
                .unwrap_or_default()
                .to_string();
            let found = doc["packages"]
                .as_array()
                .and_then(|p| p.iter().find(|p| p["SPDXID"] == described.as_str()))
                .and_then(|p| p["checksums"].as_array())
                .and_then(|c| c.iter().find(|c| c["algorithm"] == "SHA256"))
                .and_then(|c| c["checksumValue"].as_str());
            digest_check(
                "sbom_spdx",
                name,
                found,
                &manifest.artifact.sha256,
                "the package it describes",
            )
        }
    }
}

/// Every artifact of the manifest is a subject with the manifest's digest.
fn subjects_problem(
    statement: &serde_json::Value,
    manifest: &Manifest,
    what: &str,
) -> Option<String> {
    if statement["_type"] != provenance::STATEMENT_TYPE
        || statement["predicateType"] != provenance::SLSA_PROVENANCE_V1
    {
        return Some(format!(
            "{what} is not an in-toto v1 statement with SLSA provenance v1"
        ));
    }
    let subjects: BTreeMap<String, String> = provenance::subjects(statement).into_iter().collect();
    for artifact in manifest.artifacts() {
        match subjects.get(&artifact.file) {
            None => return Some(format!("{what} has no subject {}", artifact.file)),
            Some(sha) if *sha != artifact.sha256 => {
                return Some(format!(
                    "{what} names {} with SHA-256 {sha}, but manifest.json records {}",
                    artifact.file, artifact.sha256
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// Where manifest.json's descriptive fields disagree with the statement's
/// parameters. The statement is what a signature vouches for, so a handler
/// or runtime changed in manifest.json alone is caught.
fn description_problem(statement: &serde_json::Value, manifest: &Manifest) -> Option<String> {
    let params = &statement["predicate"]["buildDefinition"]["externalParameters"];
    let fields = [
        ("function", manifest.function.as_str()),
        ("handler", manifest.handler.as_str()),
        ("runtime", manifest.runtime.id),
        ("architecture", manifest.architecture.lambda_name()),
    ];
    let differ: Vec<String> = fields
        .iter()
        .filter(|(key, value)| params[*key].as_str() != Some(*value))
        .map(|(key, value)| {
            format!(
                "manifest.json says {key} `{value}`, the provenance says {}",
                params[*key]
            )
        })
        .collect();
    (!differ.is_empty()).then(|| differ.join("; "))
}

fn check_statement(file: &Result<JsonFile, String>, manifest: &Manifest) -> Check {
    let name = provenance::STATEMENT_FILE_NAME;
    match file {
        Err(e) => Check::failed("provenance", name, e.as_str(), REBUILD),
        Ok(JsonFile {
            json: statement, ..
        }) => match subjects_problem(statement, manifest, name)
            .or_else(|| description_problem(statement, manifest))
        {
            Some(problem) => Check::failed("provenance", name, problem, REBUILD),
            None => Check::passed(
                "provenance",
                name,
                "its subjects name the artifact digests and its parameters the manifest's function, handler, runtime and architecture",
            ),
        },
    }
}

/// `on_disk`: provenance.intoto.json as read (empty when it could not be).
fn check_dsse(
    dir: &Path,
    manifest: &Manifest,
    trusted: Option<&TrustedKeys>,
    on_disk: &[u8],
) -> Check {
    let name = dsse::ENVELOPE_FILE_NAME;
    let path = dir.join(name);
    let Some(trusted) = trusted else {
        return Check::skipped("dsse", name, "no --trusted-keys given");
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(source) => {
            return Check::from_error("dsse", name, &AttestError::Unreadable { path, source });
        }
    };
    let verified = match dsse::Envelope::parse(&bytes, &path)
        .and_then(|env| dsse::verify(&env, &path, trusted))
    {
        Ok(verified) => verified,
        Err(e) => return Check::from_error("dsse", name, &e),
    };
    let statement: serde_json::Value = match serde_json::from_slice(&verified.payload) {
        Ok(statement) => statement,
        Err(e) => {
            return Check::failed(
                "dsse",
                name,
                format!("the signed payload is not JSON: {e}"),
                REBUILD,
            );
        }
    };
    if let Some(problem) = subjects_problem(&statement, manifest, "the signed statement") {
        return Check::failed(
            "dsse",
            name,
            problem,
            "the signature is genuine but for another build: sign this build with `slipway sign`",
        );
    }
    if on_disk != verified.payload.as_slice() {
        return Check::failed(
            "dsse",
            name,
            format!(
                "the signed statement differs from {}",
                provenance::STATEMENT_FILE_NAME
            ),
            "provenance.intoto.json was changed after signing; rebuild and sign again",
        );
    }
    Check::passed(
        "dsse",
        name,
        format!(
            "signed by {} ({})",
            verified.signer.identity,
            verified.signer.keyid()
        ),
    )
}

fn check_sshsig(
    dir: &Path,
    artifact: &ArtifactRecord,
    zip: &std::io::Result<Vec<u8>>,
    trusted: Option<&TrustedKeys>,
) -> Check {
    let name = sshsig::signature_file_name(&artifact.file);
    let Some(trusted) = trusted else {
        return Check::skipped("sshsig", &name, "no --trusted-keys given");
    };
    let signature_path = dir.join(&name);
    let zip_path = dir.join(&artifact.file);
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| AttestError::Unreadable {
            path: path.to_path_buf(),
            source,
        })
    };
    let result = read(&signature_path).and_then(|armored| {
        let zip = zip.as_ref().map_err(|e| AttestError::Unreadable {
            path: zip_path.clone(),
            source: std::io::Error::new(e.kind(), e.to_string()),
        })?;
        sshsig::verify(&armored, &signature_path, zip, &zip_path, trusted)
    });
    match result {
        Ok(key) => Check::passed(
            "sshsig",
            &name,
            format!("signed by {} ({})", key.identity, key.keyid()),
        ),
        Err(e) => Check::from_error("sshsig", &name, &e),
    }
}
