//! Both SBOMs validate against the official schemas (bundled under
//! `schemas/`, references registered locally: no network) for several
//! functions, one with the resolved closure of the `api` reference workload.

use std::collections::BTreeMap;

use serde_json::Value;
use slipway_artifact::{
    ArtifactRecord, Distribution, EntryOrigin, EntryRecord, InstalledIn, Manifest,
};
use slipway_sbom::{SbomInput, cyclonedx, spdx_document, to_bytes};

use slipway_test_support::schemas::{assert_valid, cyclonedx_validator, spdx_validator};

fn hex_of(seed: &str) -> String {
    slipway_artifact::digest::sha256_hex(seed.as_bytes())
}

fn artifact(file: &str, paths: &[&str]) -> ArtifactRecord {
    ArtifactRecord {
        file: file.into(),
        sha256: hex_of(file),
        code_sha256: slipway_artifact::digest::code_sha256(file.as_bytes()),
        zipped_size: 100,
        unzipped_size: 200,
        entries: paths
            .iter()
            .map(|p| EntryRecord {
                path: p.to_string(),
                size: 10,
                mode: 0o644,
                sha256: hex_of(p),
                origin: EntryOrigin::Source,
            })
            .collect(),
    }
}

struct Dist<'a> {
    name: &'a str,
    version: &'a str,
    expression: Option<&'a str>,
    license: Option<&'a str>,
    classifier: Option<&'a str>,
    direct: bool,
    requires: &'a [&'a str],
}

fn distribution(d: &Dist, installed_in: InstalledIn) -> Distribution {
    Distribution {
        ecosystem: slipway_artifact::Ecosystem::PyPI,
        integrity: None,
        install_path: None,
        name: d.name.into(),
        version: d.version.into(),
        wheel: format!(
            "{}-{}-py3-none-any.whl",
            d.name.replace('-', "_"),
            d.version
        ),
        wheel_sha256: hex_of(d.name),
        wheel_url: Some(format!(
            "http://127.0.0.1:8080/packages/{}-{}.whl",
            d.name, d.version
        )),
        license_expression: d.expression.map(String::from),
        license: d.license.map(String::from),
        license_classifiers: d
            .classifier
            .map(|c| vec![format!("License :: OSI Approved :: {c}")])
            .unwrap_or_default(),
        direct: d.direct,
        requires: d.requires.iter().map(|s| s.to_string()).collect(),
        installed_in,
    }
}

fn manifest(function: &str, layer: bool, dists: &[Dist]) -> Manifest {
    let installed_in = if layer {
        InstalledIn::Layer
    } else {
        InstalledIn::Function
    };
    let package = artifact(&format!("{function}.zip"), &["app.py", "lib/util.py"]);
    Manifest {
        layer: layer.then(|| artifact(&format!("{function}-layer.zip"), &["python/x.py"])),
        input_hash: hex_of("inputs"),
        slipway_version: "0.1.0".into(),
        source_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        source_date_epoch: 1_700_000_000,
        dependencies: dists
            .iter()
            .map(|d| distribution(d, installed_in))
            .collect(),
        ..slipway_test_support::manifest(function, package)
    }
}

/// The closure `pip` resolves for `shared/bench/api.txt` on python3.12, with
/// the license metadata those versions declare.
fn api_workload() -> Vec<Dist<'static>> {
    let d = |name, version, expression, license, classifier, direct, requires| Dist {
        name,
        version,
        expression,
        license,
        classifier,
        direct,
        requires,
    };
    vec![
        d(
            "requests",
            "2.32.3",
            None,
            Some("Apache-2.0"),
            Some("Apache Software License"),
            true,
            &["charset-normalizer", "idna", "urllib3", "certifi"],
        ),
        d(
            "charset-normalizer",
            "3.4.0",
            None,
            Some("MIT"),
            Some("MIT License"),
            false,
            &[],
        ),
        d("idna", "3.10", None, None, Some("BSD License"), false, &[]),
        d(
            "urllib3",
            "2.2.3",
            None,
            None,
            Some("MIT License"),
            false,
            &[],
        ),
        d(
            "certifi",
            "2024.8.30",
            None,
            Some("MPL-2.0"),
            Some("Mozilla Public License 2.0 (MPL 2.0)"),
            false,
            &[],
        ),
        d(
            "pydantic",
            "2.9.2",
            None,
            None,
            Some("MIT License"),
            true,
            &["annotated-types", "pydantic-core", "typing-extensions"],
        ),
        d(
            "pydantic_core",
            "2.23.4",
            None,
            None,
            Some("MIT License"),
            false,
            &["typing_extensions"],
        ),
        d(
            "annotated-types",
            "0.7.0",
            None,
            None,
            Some("MIT License"),
            false,
            &[],
        ),
        d(
            "typing_extensions",
            "4.12.2",
            None,
            None,
            Some("Python Software Foundation License"),
            false,
            &[],
        ),
        d(
            "numpy",
            "2.1.3",
            None,
            Some("Copyright (c) 2005-2024, NumPy Developers.\nAll rights reserved."),
            Some("BSD License"),
            true,
            &[],
        ),
        d(
            "PyYAML",
            "6.0.2",
            None,
            Some("MIT"),
            Some("MIT License"),
            true,
            &[],
        ),
        d(
            "cryptography",
            "43.0.3",
            Some("Apache-2.0 OR BSD-3-Clause"),
            None,
            None,
            true,
            &["cffi"],
        ),
        d(
            "cffi",
            "1.17.1",
            None,
            Some("MIT"),
            Some("MIT License"),
            false,
            &["pycparser"],
        ),
        d(
            "pycparser",
            "2.22",
            None,
            Some("BSD-3-Clause"),
            Some("BSD License"),
            false,
            &[],
        ),
        d(
            "orjson",
            "3.10.11",
            None,
            None,
            Some("Apache Software License"),
            true,
            &[],
        ),
        d(
            "python-dateutil",
            "2.9.0.post0",
            None,
            Some("Dual License"),
            Some("BSD License"),
            true,
            &["six"],
        ),
        d(
            "six",
            "1.16.0",
            None,
            Some("MIT"),
            Some("MIT License"),
            false,
            &[],
        ),
        d(
            "structlog",
            "24.4.0",
            Some("MIT OR Apache-2.0"),
            None,
            None,
            true,
            &[],
        ),
    ]
}

fn input_for(m: &Manifest) -> SbomInput {
    let mut entry_sha1 = BTreeMap::new();
    for a in m.artifacts() {
        entry_sha1.insert(
            a.file.clone(),
            a.entries
                .iter()
                .map(|e| (e.path.clone(), hex_of(&e.path)[..40].to_string()))
                .collect(),
        );
    }
    SbomInput {
        dependency_file: Some("requirements.txt".into()),
        entry_sha1,
    }
}

fn functions() -> Vec<Manifest> {
    let local = Dist {
        name: "mylib",
        version: "1.0+local.1",
        expression: None,
        license: None,
        classifier: None,
        direct: true,
        requires: &[],
    };
    vec![
        manifest("hello", false, &[]),
        manifest("api", false, &api_workload()),
        manifest("api-layered", true, &api_workload()),
        {
            // A wheel from an index with a host name: SPDX keeps its URL.
            let mut m = manifest("local-version", false, &[local]);
            m.dependencies[0].wheel_url =
                Some("https://wheels.example.com/mylib-1.0+local.1.whl".into());
            m
        },
    ]
}

#[test]
fn cyclonedx_documents_validate_against_the_1_6_schema() {
    let validator = cyclonedx_validator();
    for m in functions() {
        let doc = cyclonedx(&m, &input_for(&m));
        assert_valid(&validator, &doc, &format!("CycloneDX of {}", m.function));
    }
}

#[test]
fn spdx_documents_validate_against_the_2_3_schema() {
    let validator = spdx_validator();
    for m in functions() {
        let doc = spdx_document(&m, &input_for(&m));
        assert_valid(&validator, &doc, &format!("SPDX of {}", m.function));
    }
}

#[test]
fn the_validators_reject_what_the_schemas_forbid() {
    // Guards against a validator that accepts everything (a missed `$ref`, a
    // wrong draft): the same documents with one forbidden value must fail.
    let m = manifest("api", false, &api_workload());
    let mut cdx = cyclonedx(&m, &input_for(&m));
    cdx["components"][0]["hashes"][0]["content"] = "not-a-digest".into();
    assert!(!cyclonedx_validator().is_valid(&cdx));
    let mut cdx = cyclonedx(&m, &input_for(&m));
    cdx["components"][0]["licenses"] =
        serde_json::json!([{ "license": { "id": "Not-A-License" } }]);
    assert!(
        !cyclonedx_validator().is_valid(&cdx),
        "the spdx.schema.json reference is resolved"
    );
    let mut spdx = spdx_document(&m, &input_for(&m));
    spdx["packages"][1]["primaryPackagePurpose"] = "PLUGIN".into();
    assert!(!spdx_validator().is_valid(&spdx));
}

#[test]
fn the_cyclonedx_content_is_what_gitlab_and_dependency_track_read() {
    let m = manifest("api", false, &api_workload());
    let doc = cyclonedx(&m, &input_for(&m));
    let meta = &doc["metadata"];
    assert_eq!(meta["component"]["type"], "application");
    assert_eq!(meta["component"]["hashes"][0]["content"], m.artifact.sha256);
    assert_eq!(meta["tools"]["components"][0]["name"], "slipway");
    assert_eq!(meta["timestamp"], "2023-11-14T22:13:20Z");
    let props: BTreeMap<&str, &str> = meta["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert_eq!(props["gitlab:meta:schema_version"], "1");
    assert_eq!(
        props["gitlab:dependency_scanning:input_file:path"],
        "requirements.txt"
    );

    let components = doc["components"].as_array().unwrap();
    assert_eq!(components.len(), 18);
    let by_purl = |purl: &str| {
        components
            .iter()
            .find(|c| c["purl"] == purl)
            .unwrap()
            .clone()
    };
    let core = by_purl("pkg:pypi/pydantic-core@2.23.4");
    assert_eq!(core["hashes"][0]["content"], hex_of("pydantic_core"));
    assert_eq!(
        core["licenses"],
        serde_json::json!([{ "license": { "id": "MIT" } }])
    );
    assert_eq!(
        by_purl("pkg:pypi/cryptography@43.0.3")["licenses"],
        serde_json::json!([{ "expression": "Apache-2.0 OR BSD-3-Clause" }])
    );
    assert_eq!(
        by_purl("pkg:pypi/orjson@3.10.11")["licenses"],
        serde_json::json!([{ "license": { "name": "Apache Software License" } }])
    );

    // Every component is in the graph; the function depends on the direct ones.
    let deps = doc["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), components.len() + 1);
    let function = deps.iter().find(|d| d["ref"] == "function:api").unwrap();
    assert_eq!(function["dependsOn"].as_array().unwrap().len(), 8);
    let pydantic = deps
        .iter()
        .find(|d| d["ref"] == "pkg:pypi/pydantic@2.9.2")
        .unwrap();
    assert_eq!(
        pydantic["dependsOn"],
        serde_json::json!([
            "pkg:pypi/annotated-types@0.7.0",
            "pkg:pypi/pydantic-core@2.23.4",
            "pkg:pypi/typing-extensions@4.12.2"
        ])
    );
}

#[test]
fn the_spdx_content_describes_depends_and_lists_files() {
    let m = manifest("api", false, &api_workload());
    let doc = spdx_document(&m, &input_for(&m));
    let rels = doc["relationships"].as_array().unwrap();
    assert!(rels.iter().any(|r| r["relationshipType"] == "DESCRIBES"
        && r["relatedSpdxElement"] == "SPDXRef-Package-function"));
    assert_eq!(
        rels.iter()
            .filter(|r| r["spdxElementId"] == "SPDXRef-Package-function"
                && r["relationshipType"] == "DEPENDS_ON")
            .count(),
        8
    );
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["fileName"], "./app.py");
    assert!(
        files[0]["checksums"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["algorithm"] == "SHA256" && c["checksumValue"] == hex_of("app.py"))
    );
    let function = &doc["packages"][0];
    assert_eq!(function["primaryPackagePurpose"], "APPLICATION");
    assert_eq!(function["checksums"][0]["checksumValue"], m.artifact.sha256);
    assert!(function["packageVerificationCode"]["packageVerificationCodeValue"].is_string());
    let requests = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "requests")
        .unwrap()
        .clone();
    assert_eq!(
        requests["externalRefs"][0]["referenceLocator"],
        "pkg:pypi/requests@2.32.3"
    );
    assert_eq!(requests["licenseDeclared"], "Apache-2.0");
    assert_eq!(
        requests["downloadLocation"], "NOASSERTION",
        "an IP-address index URL fails SPDX's pattern"
    );
    let local = functions().pop().unwrap();
    let doc = spdx_document(&local, &input_for(&local));
    assert_eq!(
        doc["packages"][1]["downloadLocation"],
        "https://wheels.example.com/mylib-1.0+local.1.whl"
    );
}

#[test]
fn the_same_inputs_give_the_same_bytes_whatever_the_inventory_order() {
    let m = manifest("api", true, &api_workload());
    let mut shuffled = m.clone();
    shuffled.dependencies.reverse();
    let input = input_for(&m);
    assert_eq!(
        to_bytes(&cyclonedx(&m, &input)),
        to_bytes(&cyclonedx(&shuffled, &input))
    );
    assert_eq!(
        to_bytes(&spdx_document(&m, &input)),
        to_bytes(&spdx_document(&shuffled, &input))
    );
    // A different artifact gets a different serial number and namespace.
    let mut other = m.clone();
    other.artifact.sha256 = hex_of("other");
    assert_ne!(
        cyclonedx(&m, &input)["serialNumber"],
        cyclonedx(&other, &input)["serialNumber"]
    );
    assert_ne!(
        spdx_document(&m, &input)["documentNamespace"],
        spdx_document(&other, &input)["documentNamespace"]
    );
}

/// `pyspdxtools` (the SPDX project's own Python tools) checks what the JSON
/// schema cannot: SPDX ids that resolve, license expressions, checksums,
/// verification codes.
fn pyspdxtools(doc: &Value) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sbom.spdx.json");
    std::fs::write(&path, to_bytes(doc)).unwrap();
    std::process::Command::new("pyspdxtools")
        .arg("-i")
        .arg(&path)
        .output()
        .expect("pyspdxtools runs (pip install spdx-tools)")
}

#[test]
fn spdx_documents_pass_the_spdx_tools_validator() {
    for m in functions() {
        let out = pyspdxtools(&spdx_document(&m, &input_for(&m)));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.trim().is_empty(),
            "SPDX of {} rejected by pyspdxtools:\n{text}",
            m.function
        );
    }
    // The validator does reject: a relationship to an element that does not exist.
    let m = manifest("api", false, &api_workload());
    let mut doc = spdx_document(&m, &input_for(&m));
    doc["relationships"][0]["relatedSpdxElement"] = "SPDXRef-Package-nowhere".into();
    let out = pyspdxtools(&doc);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success() || !text.trim().is_empty(),
        "pyspdxtools accepted a dangling relationship"
    );
}
