//! The in-toto Statement v1 with a SLSA provenance v1 predicate: what was
//! built (subjects), from what (resolved dependencies), with which settings
//! (external parameters), and where (builder).

use serde_json::{Value, json};
use slipway_artifact::Manifest;

pub use slipway_artifact::layout::STATEMENT_FILE_NAME;
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// slipway's build type: how to read `externalParameters`. A name, never fetched.
pub const BUILD_TYPE: &str = "https://slipway.dev/build/lambda-python/v1";
/// The builder id of a build run outside any recognised CI.
pub const LOCAL_BUILDER_ID: &str = "https://slipway.dev/builders/local";

/// Where the build ran, as the CI environment tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEnvironment {
    GitLab {
        server_url: String,
        project_path: String,
        pipeline_id: Option<String>,
        job_id: String,
        commit_sha: Option<String>,
        ref_name: Option<String>,
    },
    Local,
}

impl BuildEnvironment {
    /// GitLab when its job variables are set, else local. `get` reads a
    /// variable (the process environment in the binary, a map in tests).
    pub fn detect(get: impl Fn(&str) -> Option<String>) -> BuildEnvironment {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        match (
            get("CI_SERVER_URL"),
            get("CI_PROJECT_PATH"),
            get("CI_JOB_ID"),
        ) {
            (Some(server_url), Some(project_path), Some(job_id)) => BuildEnvironment::GitLab {
                server_url: server_url.trim_end_matches('/').to_string(),
                project_path,
                pipeline_id: get("CI_PIPELINE_ID"),
                job_id,
                commit_sha: get("CI_COMMIT_SHA"),
                ref_name: get("CI_COMMIT_REF_NAME"),
            },
            _ => BuildEnvironment::Local,
        }
    }
}

/// What the statement records besides the manifest.
#[derive(Debug, Clone)]
pub struct ProvenanceInput {
    /// The function's configuration as slipway.toml gives it (no absolute
    /// paths, no secret values).
    pub external_parameters: Value,
    /// The lock file's name and SHA-256, when the build wrote one.
    pub lock_file: Option<(String, String)>,
    /// Files the build wrote besides the subjects (the SBOMs), name and
    /// SHA-256: recorded so the signed statement vouches for them too.
    pub byproducts: Vec<(String, String)>,
    pub environment: BuildEnvironment,
}

/// The in-toto statement for a built function.
pub fn statement(manifest: &Manifest, input: &ProvenanceInput) -> Value {
    let subjects: Vec<Value> = manifest
        .artifacts()
        .map(|a| json!({ "name": a.file, "digest": { "sha256": a.sha256 } }))
        .collect();

    let mut resolved = Vec::new();
    if let Some(commit) = &manifest.source_commit {
        let mut source = json!({ "name": "source", "digest": { "gitCommit": commit } });
        if let BuildEnvironment::GitLab {
            server_url,
            project_path,
            ..
        } = &input.environment
        {
            source["uri"] = json!(format!("git+{server_url}/{project_path}.git@{commit}"));
        }
        resolved.push(source);
    }
    if let Some((name, sha256)) = &input.lock_file {
        resolved.push(json!({ "name": name, "digest": { "sha256": sha256 } }));
    }
    let mut wheels: Vec<Value> = manifest
        .dependencies
        .iter()
        .map(|d| {
            let mut wheel = json!({
                "uri": slipway_sbom::purl(d),
                "name": d.wheel,
                "digest": { "sha256": d.wheel_sha256 },
            });
            if let Some(url) = &d.wheel_url {
                wheel["downloadLocation"] = json!(url);
            }
            wheel
        })
        .collect();
    wheels.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    resolved.extend(wheels);

    let (builder_id, internal, metadata) = match &input.environment {
        BuildEnvironment::GitLab {
            server_url,
            project_path,
            pipeline_id,
            job_id,
            commit_sha,
            ref_name,
        } => (
            format!("{server_url}/{project_path}/-/ci/slipway"),
            json!({
                "environment": "gitlab-ci",
                "gitlab": {
                    "server_url": server_url,
                    "project_path": project_path,
                    "pipeline_id": pipeline_id,
                    "job_id": job_id,
                    "commit_sha": commit_sha,
                    "commit_ref_name": ref_name,
                },
            }),
            json!({ "invocationId": format!("{server_url}/{project_path}/-/jobs/{job_id}") }),
        ),
        BuildEnvironment::Local => (
            LOCAL_BUILDER_ID.to_string(),
            json!({ "environment": "local" }),
            json!(null),
        ),
    };

    let mut run_details = json!({
        "builder": {
            "id": builder_id,
            "version": { "slipway": manifest.slipway_version },
        },
    });
    if !metadata.is_null() {
        run_details["metadata"] = metadata;
    }
    let mut byproducts = input.byproducts.clone();
    byproducts.sort();
    if !byproducts.is_empty() {
        run_details["byproducts"] = byproducts
            .iter()
            .map(|(name, sha256)| json!({ "name": name, "digest": { "sha256": sha256 } }))
            .collect();
    }
    json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": SLSA_PROVENANCE_V1,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": input.external_parameters,
                "internalParameters": internal,
                "resolvedDependencies": resolved,
            },
            "runDetails": run_details,
        },
    })
}

/// The canonical bytes: pretty JSON with a final newline.
pub fn to_bytes(statement: &Value) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(statement).expect("JSON values serialise");
    v.push(b'\n');
    v
}

/// The SHA-256 the statement records for a byproduct, if it lists it.
pub fn byproduct_sha256<'a>(statement: &'a Value, name: &str) -> Option<&'a str> {
    statement["predicate"]["runDetails"]["byproducts"]
        .as_array()?
        .iter()
        .find(|b| b["name"] == name)?["digest"]["sha256"]
        .as_str()
}

/// `(name, sha256)` of every subject of a statement.
pub fn subjects(statement: &Value) -> Vec<(String, String)> {
    statement["subject"]
        .as_array()
        .map(|subjects| {
            subjects
                .iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap_or_default().to_string(),
                        s["digest"]["sha256"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn gitlab_is_detected_from_its_job_variables() {
        let vars: BTreeMap<&str, &str> = [
            ("CI_SERVER_URL", "https://gitlab.example/"),
            ("CI_PROJECT_PATH", "team/orders"),
            ("CI_PIPELINE_ID", "77"),
            ("CI_JOB_ID", "1234"),
            ("CI_COMMIT_SHA", "abc"),
            ("CI_COMMIT_REF_NAME", "main"),
        ]
        .into();
        let env = BuildEnvironment::detect(|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(
            env,
            BuildEnvironment::GitLab {
                server_url: "https://gitlab.example".into(),
                project_path: "team/orders".into(),
                pipeline_id: Some("77".into()),
                job_id: "1234".into(),
                commit_sha: Some("abc".into()),
                ref_name: Some("main".into()),
            }
        );
        assert_eq!(BuildEnvironment::detect(|_| None), BuildEnvironment::Local);
        assert_eq!(
            BuildEnvironment::detect(|k| (k == "CI_SERVER_URL").then(|| "x".to_string())),
            BuildEnvironment::Local,
            "a lone variable is not a GitLab job"
        );
    }

    /// The in-toto project's Python bindings accept the statement (strict
    /// protobuf parse of Statement v1 and SLSA provenance v1, then validate).
    fn passes_in_toto_bindings(statement: &Value) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("provenance.intoto.json");
        std::fs::write(&path, to_bytes(statement)).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check_provenance.py");
        let out = std::process::Command::new("python3")
            .arg(script)
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "in-toto-attestation rejected the statement:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn the_in_toto_check_can_fail() {
        let mut s = statement(
            &manifest(),
            &ProvenanceInput {
                external_parameters: json!({}),
                lock_file: None,
                byproducts: vec![],
                environment: BuildEnvironment::Local,
            },
        );
        s["predicate"]["runDetails"]["builder"]["identifier"] = json!("typo");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, to_bytes(&s)).unwrap();
        let out = std::process::Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/check_provenance.py"
            ))
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "an unknown field passed the strict parse"
        );
    }

    fn manifest() -> Manifest {
        let artifact = |file: &str| slipway_artifact::ArtifactRecord {
            file: file.into(),
            sha256: "aa".repeat(32),
            code_sha256: String::new(),
            zipped_size: 1,
            unzipped_size: 1,
            entries: vec![],
        };
        let dist = |name: &str, version: &str| slipway_artifact::Distribution {
            ecosystem: slipway_artifact::Ecosystem::PyPI,
            integrity: None,
            install_path: None,
            name: name.into(),
            version: version.into(),
            wheel: format!("{name}-{version}-py3-none-any.whl"),
            wheel_sha256: "bb".repeat(32),
            wheel_url: Some(format!("http://127.0.0.1:9/{name}.whl")),
            license_expression: None,
            license: None,
            license_classifiers: vec![],
            direct: true,
            requires: vec![],
            installed_in: slipway_artifact::InstalledIn::Layer,
        };
        Manifest {
            schema_version: 1,
            function: "orders".into(),
            runtime: slipway_artifact::Runtime::find("python3.12").unwrap(),
            architecture: slipway_artifact::Architecture::Arm64,
            handler: "app.handler".into(),
            artifact: artifact("orders.zip"),
            layer: Some(artifact("orders-layer.zip")),
            input_hash: "cc".into(),
            slipway_version: "0.1.0".into(),
            source_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            source_date_epoch: 0,
            evidence_time: None,
            dependencies: vec![dist("six", "1.16.0"), dist("Attrs", "24.2.0")],
        }
    }

    #[test]
    fn the_statement_names_subjects_sources_lock_and_every_wheel() {
        let input = ProvenanceInput {
            external_parameters: json!({ "function": "orders" }),
            lock_file: Some(("requirements.lock.txt".into(), "dd".repeat(32))),
            byproducts: vec![("sbom.spdx.json".into(), "ee".repeat(32))],
            environment: BuildEnvironment::Local,
        };
        let s = statement(&manifest(), &input);
        passes_in_toto_bindings(&s);
        assert_eq!(s["_type"], STATEMENT_TYPE);
        assert_eq!(s["predicateType"], SLSA_PROVENANCE_V1);
        assert_eq!(
            subjects(&s),
            vec![
                ("orders.zip".to_string(), "aa".repeat(32)),
                ("orders-layer.zip".to_string(), "aa".repeat(32))
            ]
        );
        let resolved = s["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap();
        assert_eq!(
            resolved[0]["digest"]["gitCommit"],
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert!(
            resolved[0].get("uri").is_none(),
            "no remote is known outside CI"
        );
        assert_eq!(resolved[1]["name"], "requirements.lock.txt");
        assert_eq!(
            resolved[2]["uri"], "pkg:pypi/attrs@24.2.0",
            "wheels sorted by file name"
        );
        assert_eq!(resolved[3]["name"], "six-1.16.0-py3-none-any.whl");
        assert_eq!(resolved[3]["digest"]["sha256"], "bb".repeat(32));
        assert_eq!(
            s["predicate"]["runDetails"]["builder"]["id"],
            LOCAL_BUILDER_ID
        );
        assert!(s["predicate"]["runDetails"].get("metadata").is_none());
        assert_eq!(
            byproduct_sha256(&s, "sbom.spdx.json"),
            Some("ee".repeat(32).as_str())
        );
        assert_eq!(byproduct_sha256(&s, "sbom.cdx.json"), None);

        let gitlab = ProvenanceInput {
            environment: BuildEnvironment::GitLab {
                server_url: "https://gitlab.example".into(),
                project_path: "team/orders".into(),
                pipeline_id: None,
                job_id: "5".into(),
                commit_sha: None,
                ref_name: None,
            },
            ..input
        };
        let s = statement(&manifest(), &gitlab);
        passes_in_toto_bindings(&s);
        assert_eq!(
            s["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"],
            "git+https://gitlab.example/team/orders.git@0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(
            s["predicate"]["runDetails"]["builder"]["id"],
            "https://gitlab.example/team/orders/-/ci/slipway"
        );
    }
}
