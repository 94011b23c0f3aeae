use super::*;
use crate::testing::{assert_valid, documents, interpolate};

fn project(n: usize) -> Project {
    Project {
        functions: (0..n).map(|i| format!("fn{i:02}")).collect(),
        config: "slipway.toml".into(),
    }
}

fn root(monorepo: bool, inputs: &[&str]) -> String {
    root_pipeline(
        &project(2),
        &RootOptions {
            component: Component::parse("$CI_SERVER_FQDN/slipway/slipway/slipway@1.2.3"),
            inputs: Inputs::parse(inputs.iter().copied()).unwrap(),
            monorepo,
            command: "slipway ci gitlab".into(),
        },
    )
}

#[test]
fn the_component_templates_validate_with_default_and_other_inputs() {
    assert_valid(
        COMPONENT_TEMPLATE,
        "templates/slipway.yml (its spec header)",
    );
    for inputs in [
        vec![("functions", "orders")],
        vec![
            ("functions", "orders billing"),
            ("deploy_with", "terraform"),
            ("environment", "staging"),
            ("deployment_tier", "staging"),
            ("canary", "10"),
            ("trusted_keys", "allowed_signers"),
            ("job_prefix", "orders-"),
        ],
    ] {
        let body = interpolate(COMPONENT_TEMPLATE, &inputs);
        assert_valid(&body, &format!("templates/slipway.yml with {inputs:?}"));
    }
    assert_valid(
        MONOREPO_TEMPLATE,
        "templates/monorepo.yml (its spec header)",
    );
    let body = interpolate(
        MONOREPO_TEMPLATE,
        &[("component", "$CI_SERVER_FQDN/slipway/slipway/slipway@1.2.3")],
    );
    assert_valid(&body, "templates/monorepo.yml");
}

#[test]
fn the_component_sets_no_global_keywords() {
    for template in [COMPONENT_TEMPLATE, MONOREPO_TEMPLATE] {
        let body = interpolate(template, &[("functions", "a"), ("component", "x.yml")]);
        let doc = &documents(&body)[0];
        for key in doc.as_object().unwrap().keys() {
            assert!(
                ![
                    "default",
                    "stages",
                    "variables",
                    "workflow",
                    "include",
                    "image",
                    "services",
                    "cache",
                    "before_script",
                    "after_script"
                ]
                .contains(&key.as_str()),
                "global keyword `{key}` in a component"
            );
        }
    }
}

#[test]
fn deploy_jobs_take_aws_credentials_only_from_an_id_token_on_protected_refs() {
    let body = interpolate(COMPONENT_TEMPLATE, &[("functions", "a")]);
    let doc = &documents(&body)[0];
    for job in ["deploy", "promote", "rollback", "drift"] {
        let j = &doc[format!("slipway-{job}")];
        assert_eq!(
            j["id_tokens"]["SLIPWAY_ID_TOKEN"]["aud"],
            "sts.amazonaws.com"
        );
        assert_eq!(j["resource_group"], "slipway-production");
        let text = j.to_string();
        assert!(!text.contains("AWS_ACCESS_KEY_ID") && !text.contains("AWS_SECRET_ACCESS_KEY"));
    }
    let deploy = &doc["slipway-deploy"];
    assert_eq!(deploy["environment"]["deployment_tier"], "production");
    let rules = deploy["rules"].as_array().unwrap();
    assert_eq!(
        rules.last().unwrap()["if"],
        "$CI_COMMIT_REF_PROTECTED == \"true\""
    );
    assert_eq!(rules[0]["when"], "never");
    assert_eq!(
        deploy["artifacts"]["reports"]["dotenv"],
        "slipway-deploy.env"
    );
    let scan = &doc["slipway-scan"]["artifacts"]["reports"];
    assert_eq!(scan["junit"], "slipway-scan-junit.xml");
    assert_eq!(
        scan["dependency_scanning"],
        "gl-dependency-scanning-report.json"
    );
    assert_eq!(scan["cyclonedx"], "dist/*/vex.cdx.json");
    assert_eq!(
        doc["slipway-drift"]["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"schedule\""
    );
    // Only the build job may keep the signing key.
    for (name, job) in doc.as_object().unwrap() {
        if name.starts_with('.') {
            continue;
        }
        let before = job["before_script"].to_string();
        assert!(before.contains("unset SLIPWAY_SIGNING_KEY"), "{name}");
    }
}

#[test]
fn the_root_pipeline_includes_the_component_with_the_functions_and_validates() {
    let text = root(false, &[]);
    assert_valid(&text, "the root pipeline");
    let doc = &documents(&text)[0];
    assert_eq!(
        doc["stages"],
        serde_json::json!(["build", "test", "deploy"])
    );
    let inc = &doc["include"][0];
    assert_eq!(
        inc["component"],
        "$CI_SERVER_FQDN/slipway/slipway/slipway@1.2.3"
    );
    assert_eq!(inc["inputs"], serde_json::json!({"functions": "fn00 fn01"}));
    assert_eq!(
        doc["slipway-ci-check"]["script"][0],
        "slipway ci gitlab --check"
    );
    let text = root(false, &["environment=staging", "deploy_stage=release"]);
    assert_valid(&text, "the root pipeline with inputs");
    let doc = &documents(&text)[0];
    assert_eq!(
        doc["stages"],
        serde_json::json!(["build", "test", "release"])
    );
    assert_eq!(doc["include"][0]["inputs"]["environment"], "staging");
}

#[test]
fn the_monorepo_root_includes_the_monorepo_component_beside_the_slipway_one() {
    let text = root(true, &["environment=staging"]);
    assert_valid(&text, "the monorepo root pipeline");
    let doc = &documents(&text)[0];
    let inc = &doc["include"][0];
    assert_eq!(
        inc["component"],
        "$CI_SERVER_FQDN/slipway/slipway/monorepo@1.2.3"
    );
    assert_eq!(
        inc["inputs"]["component"],
        "$CI_SERVER_FQDN/slipway/slipway/slipway@1.2.3"
    );
    assert_eq!(inc["inputs"]["chain_inputs"], "environment=staging");
    assert_eq!(
        Component::parse("templates/slipway.yml").sibling("monorepo"),
        Component::Local("templates/monorepo.yml".into())
    );
}

#[test]
fn inputs_are_checked_against_the_component() {
    assert!(matches!(
        Inputs::parse(["nonsense=1"]),
        Err(CiError::UnknownInput { .. })
    ));
    assert!(matches!(
        Inputs::parse(["deploy_with=cdk"]),
        Err(CiError::UnknownInput { .. })
    ));
    assert!(matches!(
        Inputs::parse(["functions=a"]),
        Err(CiError::ReservedInput { .. })
    ));
    assert!(matches!(
        Inputs::parse(["environment"]),
        Err(CiError::InputSyntax { .. })
    ));
    assert_eq!(
        Inputs::parse_spaced(" fail_on=medium  environment=qa ")
            .unwrap()
            .args(),
        ["environment=qa", "fail_on=medium"]
    );
}

fn write_deployed(dir: &std::path::Path, name: &str, input_hash: &str, deployed: bool) {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let manifest = serde_json::json!({
        "schema_version": 1, "function": name, "runtime": "python3.12",
        "architecture": "x86_64", "handler": "app.handler",
        "artifact": {"file": format!("{name}.zip"), "sha256": "aa", "code_sha256": "qg==",
                     "zipped_size": 1, "unzipped_size": 1, "entries": []},
        "input_hash": input_hash, "slipway_version": "0.1.0", "source_date_epoch": 315532800,
        "dependencies": []
    });
    std::fs::write(d.join("manifest.json"), manifest.to_string()).unwrap();
    let sha = if deployed { "aa" } else { "bb" };
    std::fs::write(d.join("deploy.json"), format!("{{\"sha256\":\"{sha}\"}}")).unwrap();
}

#[test]
fn changes_compare_input_hashes_with_the_deployed_manifests() {
    let dir = tempfile::tempdir().unwrap();
    write_deployed(dir.path(), "same", "h1", true);
    write_deployed(dir.path(), "moved", "h-old", true);
    write_deployed(dir.path(), "built-not-deployed", "h3", false);
    let plan = Plan::from_json(
        br#"{"functions":[
            {"name":"same","input_hash":"h1","runtime":"python3.12","architecture":"x86_64","source":"a","dist_dir":"dist/same","up_to_date":true},
            {"name":"moved","input_hash":"h2","runtime":"python3.12","architecture":"x86_64","source":"b","dist_dir":"dist/moved","up_to_date":false},
            {"name":"built-not-deployed","input_hash":"h3","runtime":"python3.12","architecture":"x86_64","source":"c","dist_dir":"d","up_to_date":true},
            {"name":"new","input_hash":"h4","runtime":"python3.12","architecture":"x86_64","source":"d","dist_dir":"d","up_to_date":false}]}"#,
        "plan",
    )
    .unwrap();
    let changes = plan::changes(&plan, dir.path()).unwrap();
    let states: Vec<(&str, &ChangeReason)> = changes
        .iter()
        .map(|c| (c.function.as_str(), &c.reason))
        .collect();
    assert_eq!(
        states,
        [
            ("same", &ChangeReason::Unchanged),
            (
                "moved",
                &ChangeReason::Changed {
                    deployed_input_hash: "h-old".into()
                }
            ),
            ("built-not-deployed", &ChangeReason::NeverDeployed),
            ("new", &ChangeReason::NeverDeployed),
        ]
    );
    // No folder at all: nothing was ever deployed.
    let none = plan::changes(&plan, &dir.path().join("absent")).unwrap();
    assert!(none.iter().all(Change::is_changed));
    assert!(matches!(
        Plan::from_json(b"{\"functions\":[{\"name\":\"a\"}]}", "x"),
        Err(CiError::PlanInvalid { .. })
    ));
}

#[test]
fn the_child_pipeline_has_one_chain_per_changed_function_and_validates() {
    let p = Project {
        functions: vec![],
        config: "services/slipway.toml".into(),
    };
    let changes = vec![
        Change {
            function: "a".into(),
            input_hash: "1".into(),
            reason: ChangeReason::Unchanged,
        },
        Change {
            function: "b".into(),
            input_hash: "2".into(),
            reason: ChangeReason::NeverDeployed,
        },
        Change {
            function: "c".into(),
            input_hash: "3".into(),
            reason: ChangeReason::Changed {
                deployed_input_hash: "0".into(),
            },
        },
    ];
    let opts = ChildOptions {
        component: Component::parse("templates/slipway.yml"),
        inputs: Inputs::parse(["environment=staging"]).unwrap(),
        job_prefix: "slipway-".into(),
    };
    let text = child_pipeline(&p, &changes, &opts);
    assert_valid(&text, "the child pipeline");
    let doc = &documents(&text)[0];
    let includes = doc["include"].as_array().unwrap();
    assert_eq!(includes.len(), 2, "{text}");
    assert_eq!(includes[0]["local"], "templates/slipway.yml");
    assert_eq!(
        includes[0]["inputs"],
        serde_json::json!({"functions": "b", "job_prefix": "slipway-b-",
            "config": "services/slipway.toml", "dist": "services/dist", "environment": "staging"})
    );
    assert_eq!(includes[1]["inputs"]["functions"], "c");
    let record = &doc["slipway-record"];
    assert_eq!(record["needs"][0]["pipeline"], "$PARENT_PIPELINE_ID");
    assert_eq!(record["needs"][1]["job"], "slipway-b-deploy");
    assert_eq!(record["needs"][2]["job"], "slipway-c-deploy");
    // Nothing changed: no chain, the record job carries the state forward.
    let text = child_pipeline(&p, &changes[..1], &opts);
    assert_valid(&text, "the child pipeline without changes");
    assert!(documents(&text)[0].get("include").is_none());
}
