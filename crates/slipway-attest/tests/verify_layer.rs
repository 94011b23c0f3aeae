//! `verify_function` over a function with a dependencies layer, written by
//! the real zip writer: everything passes, then a changed layer is caught
//! by its hash, its entries and its signature.

use std::path::Path;

use slipway_artifact::{Distribution, EntryOrigin, Manifest};
use slipway_attest::keys::{TrustedKeys, allowed_signers_line};
use slipway_attest::verify::{CheckStatus, verify_function};
use slipway_attest::{KeyKind, SigningKey, archive, dsse, provenance, sshsig};
use slipway_package::{EntryData, ZipEntry, ZipOptions, write_zip};

fn entry(path: &str, content: &str, origin: EntryOrigin) -> ZipEntry {
    ZipEntry {
        path: path.into(),
        executable: false,
        data: EntryData::Bytes(content.as_bytes().to_vec()),
        origin,
    }
}

fn build(dir: &Path, key: &SigningKey) -> Manifest {
    let options = ZipOptions::default();
    let artifact = write_zip(
        vec![entry(
            "app.py",
            "def handler(e, c):\n    return 1\n",
            EntryOrigin::Source,
        )],
        &dir.join("orders.zip"),
        &options,
    )
    .unwrap();
    let six = EntryOrigin::Dependency {
        distribution: "six".into(),
    };
    let layer = write_zip(
        vec![
            entry("python/six.py", "# six\n", six.clone()),
            entry("python/six-1.16.0.dist-info/METADATA", "Name: six\n", six),
        ],
        &dir.join("orders-layer.zip"),
        &options,
    )
    .unwrap();
    let manifest = Manifest {
        schema_version: 1,
        function: "orders".into(),
        runtime: slipway_artifact::Runtime::find("python3.12").unwrap(),
        architecture: slipway_artifact::Architecture::X86_64,
        handler: "app.handler".into(),
        artifact,
        layer: Some(layer),
        input_hash: "00".into(),
        slipway_version: "0.1.0".into(),
        source_commit: None,
        source_date_epoch: options.source_date_epoch,
        evidence_time: None,
        dependencies: vec![Distribution {
            ecosystem: slipway_artifact::Ecosystem::PyPI,
            integrity: None,
            install_path: None,
            name: "six".into(),
            version: "1.16.0".into(),
            wheel: "six-1.16.0-py2.py3-none-any.whl".into(),
            wheel_sha256: "11".repeat(32),
            wheel_url: None,
            license_expression: None,
            license: Some("MIT".into()),
            license_classifiers: vec![],
            direct: true,
            requires: vec![],
            installed_in: slipway_artifact::InstalledIn::Layer,
        }],
    };
    std::fs::write(dir.join("manifest.json"), manifest.to_json()).unwrap();
    std::fs::write(dir.join("SHA256SUMS"), manifest.sha256sums()).unwrap();

    let mut input = slipway_sbom::SbomInput::default();
    for a in manifest.artifacts() {
        let path = dir.join(&a.file);
        let digests = archive::entry_digests_of_bytes(
            &std::fs::read(&path).unwrap(),
            &path,
            archive::EntryHash::Sha1,
        )
        .unwrap();
        input.entry_sha1.insert(
            a.file.clone(),
            digests.into_iter().map(|d| (d.path, d.sha1)).collect(),
        );
    }
    let cdx = slipway_sbom::cyclonedx(&manifest, &input);
    std::fs::write(
        dir.join(slipway_sbom::CYCLONEDX_FILE_NAME),
        slipway_sbom::to_bytes(&cdx),
    )
    .unwrap();
    let spdx = slipway_sbom::spdx_document(&manifest, &input);
    std::fs::write(
        dir.join(slipway_sbom::SPDX_FILE_NAME),
        slipway_sbom::to_bytes(&spdx),
    )
    .unwrap();
    let statement = provenance::to_bytes(&provenance::statement(
        &manifest,
        &provenance::ProvenanceInput {
            external_parameters: serde_json::json!({
                "function": "orders",
                "handler": "app.handler",
                "runtime": "python3.12",
                "architecture": "x86_64",
            }),
            lock_file: None,
            byproducts: vec![],
            environment: provenance::BuildEnvironment::Local,
        },
    ));
    std::fs::write(dir.join(provenance::STATEMENT_FILE_NAME), &statement).unwrap();
    std::fs::write(
        dir.join(dsse::ENVELOPE_FILE_NAME),
        dsse::sign(&statement, key).to_json(),
    )
    .unwrap();
    for a in manifest.artifacts() {
        let zip = std::fs::read(dir.join(&a.file)).unwrap();
        std::fs::write(
            dir.join(sshsig::signature_file_name(&a.file)),
            sshsig::sign(key, &zip).unwrap(),
        )
        .unwrap();
    }
    manifest
}

#[test]
fn a_layer_is_verified_like_the_function() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(KeyKind::Ed25519, "ci").unwrap();
    let manifest = build(dir.path(), &key);
    let trusted_path = dir.path().join("allowed_signers");
    std::fs::write(&trusted_path, allowed_signers_line("ci", key.public_key())).unwrap();
    let trusted = TrustedKeys::read(&[trusted_path]).unwrap();

    let checks = verify_function(dir.path(), &manifest, Some(&trusted));
    let failed: Vec<_> = checks
        .iter()
        .filter(|c| c.status != CheckStatus::Passed)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    for target in ["orders-layer.zip", "orders-layer.zip.sig"] {
        assert!(
            checks.iter().any(|c| c.target == target),
            "no check of {target}"
        );
    }

    // Replace the layer with one whose six.py differs.
    let changed = write_zip(
        vec![
            entry("python/six.py", "# six, patched\n", EntryOrigin::Source),
            entry(
                "python/six-1.16.0.dist-info/METADATA",
                "Name: six\n",
                EntryOrigin::Source,
            ),
        ],
        &dir.path().join("orders-layer.zip"),
        &ZipOptions::default(),
    )
    .unwrap();
    assert_ne!(changed.sha256, manifest.layer.as_ref().unwrap().sha256);
    let checks = verify_function(dir.path(), &manifest, Some(&trusted));
    let failed: Vec<(&str, &str)> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .map(|c| (c.check, c.target.as_str()))
        .collect();
    assert_eq!(
        failed,
        vec![
            ("artifact", "orders-layer.zip"),
            ("entries", "orders-layer.zip"),
            ("sshsig", "orders-layer.zip.sig"),
        ]
    );
}

#[test]
fn descriptive_fields_changed_in_the_manifest_alone_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(KeyKind::Ed25519, "ci").unwrap();
    let manifest = build(dir.path(), &key);
    let trusted_path = dir.path().join("allowed_signers");
    std::fs::write(&trusted_path, allowed_signers_line("ci", key.public_key())).unwrap();
    let trusted = TrustedKeys::read(&[trusted_path]).unwrap();
    let failed = |m: &Manifest| -> Vec<(&'static str, String)> {
        verify_function(dir.path(), m, Some(&trusted))
            .into_iter()
            .filter(|c| c.status == CheckStatus::Failed)
            .map(|c| (c.check, c.target))
            .collect()
    };
    type Tamper = fn(&mut Manifest);
    let tampers: [(&str, Tamper, &str); 6] = [
        (
            "handler",
            |m| m.handler = "evil.handler".into(),
            "provenance",
        ),
        (
            "runtime",
            |m| m.runtime = slipway_artifact::Runtime::find("python3.9").unwrap(),
            "provenance",
        ),
        (
            "architecture",
            |m| m.architecture = slipway_artifact::Architecture::Arm64,
            "provenance",
        ),
        ("function", |m| m.function = "other".into(), "provenance"),
        ("zipped_size", |m| m.artifact.zipped_size += 1, "entries"),
        (
            "unzipped_size",
            |m| m.artifact.unzipped_size -= 1,
            "entries",
        ),
    ];
    for (what, tamper, check) in tampers {
        let mut m = manifest.clone();
        tamper(&mut m);
        let failed = failed(&m);
        assert!(
            failed.iter().any(|(c, _)| *c == check),
            "{what} changed in manifest.json passed: {failed:?}"
        );
    }
    let mut m = manifest.clone();
    let first = m.artifact.entries[0].clone();
    m.artifact.entries.push(first);
    assert!(
        failed(&m).iter().any(|(c, _)| *c == "entries"),
        "a duplicated entry passed"
    );
}
