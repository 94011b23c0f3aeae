//! The Terraform module (`terraform/`) and its root example
//! (`examples/terraform/`) with the real Terraform CLI and AWS provider (from
//! the filesystem mirror at /opt/tf-plugins), against moto on 127.0.0.1.
//! Every test works in its own copies, state and moto, so they run in
//! parallel with the rest of the suite.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::{Project, json_stdout};
use crate::support_aws::{ACCESS_KEY, Moto, REGION, SECRET_KEY, slipway_aws};

mod state_server;
use state_server::StateServer;

/// The repository's root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const PLUGIN_MIRROR: &str = "/opt/tf-plugins";

/// A working folder with the Terraform CLI configured to install providers
/// from the local mirror only (nothing is downloaded).
struct Tf {
    dir: tempfile::TempDir,
}

impl Tf {
    fn new() -> Tf {
        let tf = Tf {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            tf.dir.path().join("terraformrc"),
            format!("provider_installation {{\n  filesystem_mirror {{\n    path = \"{PLUGIN_MIRROR}\"\n  }}\n}}\n"),
        )
        .unwrap();
        tf
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, chdir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("terraform");
        cmd.arg(format!("-chdir={}", chdir.display()))
            .args(args)
            .env("TF_CLI_CONFIG_FILE", self.path().join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("NO_COLOR", "1")
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("TF_LOG")
            .env_remove("TF_WORKSPACE");
        for (k, _) in std::env::vars() {
            if k.starts_with("TF_HTTP_") || k.starts_with("TF_VAR_") {
                cmd.env_remove(k);
            }
        }
        cmd
    }

    /// Runs terraform in `chdir`; its output, whatever the exit code.
    fn run(&self, chdir: &Path, args: &[&str]) -> Output {
        self.command(chdir, args)
            .output()
            .expect("terraform runs (Terraform 1.11 on PATH; .ci/run checks for it)")
    }

    /// Runs terraform in `chdir`, which must exit with `code`.
    fn expect(&self, chdir: &Path, args: &[&str], code: i32) -> Output {
        let out = self.run(chdir, args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "terraform {args:?} in {}:\n{}\n{}",
            chdir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Copies `from` into `to`, leaving out Terraform's working files and builds.
fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir(from) {
        let rel = entry.strip_prefix(from).unwrap();
        let skip = rel.components().any(|c| {
            let c = c.as_os_str().to_string_lossy();
            c == ".terraform" || c == "dist" || c == "build" || c.starts_with("terraform.tfstate") || c == ".test-cache"
        });
        if skip {
            continue;
        }
        let target = to.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&entry, &target).unwrap();
        }
    }
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir() {
            let mut children: Vec<PathBuf> = std::fs::read_dir(&out[i])
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            children.sort();
            out.extend(children);
        }
        i += 1;
    }
    out
}

/// The test function of the module's tests: every trigger, publish, alias.
const HELLO_TOML: &str = r#"[defaults]
runtime = "python3.12"
tags = { team = "core" }

[functions.hello]
source = "src"
handler = "app.handler"
memory = 256
timeout = 20
environment = { GREETING = "hello" }
publish = true
alias = "live"

[[functions.hello.sqs]]
queue_arn = "arn:aws:sqs:us-east-1:123456789012:jobs"
batch_size = 20
batching_window = 2
report_batch_item_failures = true
maximum_concurrency = 4

[[functions.hello.s3]]
bucket = "uploads"
prefix = "incoming/"
suffix = ".csv"

[functions.hello.url]
cors = { allow_origins = ["https://example.test"] }

[[functions.hello.alexa]]
skill_id = "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001"
"#;

fn hello_project() -> Project {
    let p = Project::new();
    p.write("slipway.toml", HELLO_TOML);
    p.write(
        "src/app.py",
        "def handler(event, context):\n    return {\"ok\": True}\n",
    );
    p
}

fn slipway_build(p: &Project) {
    let out = p.slipway().args(["build", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

fn sha256_hex(bytes: &[u8]) -> String {
    slipway_artifact::digest::sha256_hex(bytes)
}

/// A copy of the module with the build folders its tests name under
/// `tests/build/`, made by slipway (see tests/plan.tftest.hcl).
fn module_with_fixtures(tf: &Tf) -> PathBuf {
    let module = tf.path().join("module");
    copy_tree(&repo().join("terraform"), &module);
    let p = hello_project();
    slipway_build(&p);
    let build = module.join("tests/build");
    let hello = build.join("hello");
    copy_tree(&p.join("dist/hello"), &hello);

    // The package changed after the build.
    let tampered = build.join("tampered");
    copy_tree(&hello, &tampered);
    let mut zip = std::fs::read(tampered.join("hello.zip")).unwrap();
    zip.extend_from_slice(b"\0");
    std::fs::write(tampered.join("hello.zip"), zip).unwrap();

    // function.json from another function's build.
    let mixed = build.join("mixed");
    copy_tree(&hello, &mixed);
    let settings = std::fs::read_to_string(mixed.join("function.json")).unwrap();
    std::fs::write(
        mixed.join("function.json"),
        settings.replace("\"function\": \"hello\"", "\"function\": \"orders\""),
    )
    .unwrap();

    // A dependencies layer, recorded in the manifest as slipway records it.
    let with_layer = build.join("with-layer");
    copy_tree(&hello, &with_layer);
    let layer = std::fs::read(hello.join("hello.zip")).unwrap();
    std::fs::write(with_layer.join("hello-layer.zip"), &layer).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(with_layer.join("manifest.json")).unwrap()).unwrap();
    let mut record = manifest["artifact"].clone();
    record["file"] = "hello-layer.zip".into();
    record["sha256"] = sha256_hex(&layer).into();
    record["code_sha256"] = slipway_artifact::digest::code_sha256(&layer).into();
    manifest["layer"] = record;
    std::fs::write(
        with_layer.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    module
}

#[test]
fn module_and_example_are_formatted_and_valid() {
    let tf = Tf::new();
    for dir in ["terraform", "examples/terraform"] {
        tf.expect(&repo().join(dir), &["fmt", "-check", "-recursive", "-diff"], 0);
    }
    let module = module_with_fixtures(&tf);
    let example = tf.path().join("examples");
    copy_tree(&repo().join("terraform"), &tf.path().join("terraform"));
    copy_tree(&repo().join("examples/terraform"), &example.join("terraform"));
    for dir in [
        module.clone(),
        module.join("modules/execution-role"),
        example.join("terraform"),
    ] {
        tf.expect(&dir, &["init", "-backend=false", "-input=false"], 0);
        tf.expect(&dir, &["validate", "-no-color"], 0);
    }
}

#[test]
fn module_plan_tests_with_a_mocked_provider() {
    let tf = Tf::new();
    let module = module_with_fixtures(&tf);
    tf.expect(&module, &["init", "-backend=false", "-input=false"], 0);
    let out = tf.expect(
        &module,
        &["test", "-no-color", "-filter=tests/plan.tftest.hcl"],
        0,
    );
    let out = text(&out);
    assert!(out.contains("0 failed"), "{out}");
    assert!(!out.contains("skip"), "no run may be skipped:\n{out}");
}

#[test]
fn module_apply_test_against_moto() {
    let tf = Tf::new();
    let module = module_with_fixtures(&tf);
    let moto = Moto::start();
    tf.expect(&module, &["init", "-backend=false", "-input=false"], 0);
    let out = tf
        .command(&module, &["test", "-no-color", "-filter=tests/apply.tftest.hcl"])
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    assert!(out.status.success() && text(&out).contains("0 failed"), "{}", text(&out));
}
