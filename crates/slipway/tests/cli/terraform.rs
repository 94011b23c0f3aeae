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
            c == ".terraform"
                || c == "dist"
                || c == "build"
                || c.starts_with("terraform.tfstate")
                || c == ".test-cache"
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
    let out = p
        .slipway()
        .args(["build", "--format", "json"])
        .output()
        .unwrap();
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
    for dir in [
        "terraform",
        "examples/terraform",
        "examples/reference-system/infra/terraform",
    ] {
        tf.expect(
            &repo().join(dir),
            &["fmt", "-check", "-recursive", "-diff"],
            0,
        );
    }
    let module = module_with_fixtures(&tf);
    let example = tf.path().join("examples");
    copy_tree(&repo().join("terraform"), &tf.path().join("terraform"));
    copy_tree(
        &repo().join("examples/terraform"),
        &example.join("terraform"),
    );
    // The reference system's root module reaches the module four folders up.
    let reference = example.join("reference-system/infra/terraform");
    copy_tree(
        &repo().join("examples/reference-system/infra/terraform"),
        &reference,
    );
    for dir in [
        module.clone(),
        module.join("modules/execution-role"),
        example.join("terraform"),
        reference,
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
        .command(
            &module,
            &["test", "-no-color", "-filter=tests/apply.tftest.hcl"],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out).contains("0 failed"),
        "{}",
        text(&out)
    );
}

/// Makes the provider talk to moto: the endpoint comes from AWS_ENDPOINT_URL,
/// and moto's fake credentials must not be checked against STS's real host.
const MOTO_PROVIDER_OVERRIDE: &str = r#"provider "aws" {
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
}
"#;

const EXAMPLES: [(&str, &str); 4] = [
    ("sqs-to-dynamodb", "orders-consumer"),
    ("function-url-api", "items-api"),
    ("s3-trigger", "upload-inspector"),
    ("alexa-skill", "ask-skill"),
];

/// A checkout of what the example needs (`examples/`, `terraform/`) at `root`,
/// every example built there by slipway, the provider pointed at moto.
fn checkout(root: &Path) -> PathBuf {
    copy_tree(&repo().join("examples"), &root.join("examples"));
    copy_tree(&repo().join("terraform"), &root.join("terraform"));
    build_examples(root);
    let example = root.join("examples/terraform");
    std::fs::write(example.join("moto_override.tf"), MOTO_PROVIDER_OVERRIDE).unwrap();
    example
}

fn build_examples(root: &Path) {
    for (dir, _) in EXAMPLES {
        let out = crate::support::slipway(&root.join("examples").join(dir))
            .args(["build"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{dir}: {}", text(&out));
    }
}

fn manifest_code_sha256(root: &Path, dir: &str, function: &str) -> String {
    let m = slipway_artifact::Manifest::read(
        &root.join(format!("examples/{dir}/dist/{function}/manifest.json")),
    )
    .unwrap();
    m.artifact.code_sha256
}

/// What a second machine's checkout looks like: files created with another
/// umask (0600/0700) and other mtimes.
fn disturb_modes_and_mtimes(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let when = filetime::FileTime::from_unix_time(1_700_000_000, 0);
    for path in walkdir(root) {
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        if path.is_file() {
            filetime::set_file_mtime(&path, when).unwrap();
        }
    }
}

/// `terraform plan -detailed-exitcode`'s exit code (0 no changes, 2 changes).
fn plan_exit(tf: &Tf, dir: &Path, moto: &Moto, extra: &[&str]) -> (i32, String) {
    let out = tf
        .command(
            dir,
            &[
                &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
                extra,
            ]
            .concat(),
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), text(&out))
}

fn tf_moto(tf: &Tf, dir: &Path, moto: &Moto, args: &[&str]) -> Output {
    let out = tf
        .command(dir, args)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "terraform {args:?}:\n{}", text(&out));
    out
}

#[test]
fn the_example_deploys_stays_empty_on_another_checkout_and_sees_what_terraform_can_see() {
    let tf = Tf::new();
    let moto = Moto::start();

    // ---- one apply deploys the four functions and what they need
    let a = tf.path().join("a");
    let example_a = checkout(&a);
    tf_moto(
        &tf,
        &example_a,
        &moto,
        &["init", "-input=false", "-no-color"],
    );
    tf_moto(
        &tf,
        &example_a,
        &moto,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );

    for (dir, function) in EXAMPLES {
        let live = moto.aws(&["lambda", "get-function", "--function-name", function]);
        assert_eq!(
            live["Configuration"]["CodeSha256"].as_str().unwrap(),
            manifest_code_sha256(&a, dir, function),
            "{function}: the live code is the manifest's"
        );
    }
    let orders = moto.aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        "orders-consumer",
    ]);
    assert_eq!(orders["MemorySize"], 256, "memory from slipway.toml");
    assert_eq!(orders["Environment"]["Variables"]["TABLE_NAME"], "orders");
    // moto's `--function-name` filter misses mappings made with an ARN: list all.
    let mappings = moto.aws(&["lambda", "list-event-source-mappings"]);
    let ours: Vec<&serde_json::Value> = mappings["EventSourceMappings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["FunctionArn"]
                .as_str()
                .unwrap()
                .ends_with(":orders-consumer")
        })
        .collect();
    assert_eq!(ours.len(), 1, "{mappings}");
    let mapping = ours[0].clone();
    let mapping_uuid = mapping["UUID"].as_str().unwrap().to_string();
    assert!(
        mapping["EventSourceArn"]
            .as_str()
            .unwrap()
            .ends_with(":orders"),
        "{mapping}"
    );
    assert_eq!(mapping["BatchSize"], 10);
    assert_eq!(
        mapping["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    let url = moto.aws(&[
        "lambda",
        "get-function-url-config",
        "--function-name",
        "items-api",
    ]);
    assert_eq!(url["AuthType"], "NONE", "as slipway.toml says");
    assert_eq!(url["Cors"]["AllowOrigins"][0], "http://localhost:3000");
    assert_eq!(url["Cors"]["MaxAge"], 300);
    let notifications = moto.aws(&[
        "s3api",
        "get-bucket-notification-configuration",
        "--bucket",
        "slipway-example-uploads",
    ]);
    let n = &notifications["LambdaFunctionConfigurations"][0];
    assert!(
        n["LambdaFunctionArn"]
            .as_str()
            .unwrap()
            .ends_with(":upload-inspector"),
        "{n}"
    );
    assert_eq!(n["Filter"]["Key"]["FilterRules"][0]["Value"], "incoming/");
    let policy = moto.aws(&[
        "lambda",
        "get-policy",
        "--function-name",
        "upload-inspector",
    ]);
    let policy: serde_json::Value =
        serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert!(
        statement["Principal"]
            .to_string()
            .contains("s3.amazonaws.com"),
        "{statement}"
    );
    assert_eq!(
        statement["Condition"]["ArnLike"]["AWS:SourceArn"],
        "arn:aws:s3:::slipway-example-uploads"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["AWS:SourceAccount"],
        crate::support_aws::ACCOUNT
    );
    let policy = moto.aws(&[
        "lambda",
        "get-policy",
        "--function-name",
        "ask-skill",
        "--qualifier",
        "live",
    ]);
    let policy: serde_json::Value =
        serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    // moto writes this principal as a bare string, Lambda as {"Service": …}.
    assert!(
        policy["Statement"][0]["Principal"]
            .to_string()
            .contains("alexa-appkit.amazon.com"),
        "{policy}"
    );
    let versions = |name: &str| -> Vec<String> {
        moto.aws(&[
            "lambda",
            "list-versions-by-function",
            "--function-name",
            name,
        ])["Versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["Version"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        versions("ask-skill"),
        ["$LATEST", "1"],
        "publish = true in slipway.toml"
    );

    // After terraform apply, slipway proves the live code is the built one
    // (for the examples whose settings Terraform takes unchanged).
    for dir in ["function-url-api", "alexa-skill"] {
        let out = slipway_aws(&Project::new(), &moto.url)
            .current_dir(a.join("examples").join(dir))
            .args(["verify", "--deployed"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{dir}: {}", text(&out));
    }

    // ---- the same sources on another machine: another path, umask, mtimes
    let b = tf.path().join("elsewhere/checkout-b");
    copy_tree(&repo().join("examples"), &b.join("examples"));
    copy_tree(&repo().join("terraform"), &b.join("terraform"));
    disturb_modes_and_mtimes(&b);
    build_examples(&b);
    let example_b = b.join("examples/terraform");
    std::fs::write(example_b.join("moto_override.tf"), MOTO_PROVIDER_OVERRIDE).unwrap();
    std::fs::copy(
        example_a.join("terraform.tfstate"),
        example_b.join("terraform.tfstate"),
    )
    .unwrap();
    tf_moto(
        &tf,
        &example_b,
        &moto,
        &["init", "-input=false", "-no-color"],
    );
    let (code, out) = plan_exit(&tf, &example_b, &moto, &[]);
    assert_eq!(code, 0, "no perpetual diff on another checkout:\n{out}");

    // ---- a one-line source change: one function update, one new version
    let app = b.join("examples/alexa-skill/src/app.py");
    let mut source = std::fs::read_to_string(&app).unwrap();
    source.push_str("# one more line\n");
    std::fs::write(&app, source).unwrap();
    build_examples(&b);
    let (code, out) = plan_exit(&tf, &example_b, &moto, &["-out=change.plan"]);
    assert_eq!(code, 2, "{out}");
    let shown = tf_moto(&tf, &example_b, &moto, &["show", "-json", "change.plan"]);
    let plan: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let changed: Vec<(String, String)> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["change"]["actions"] != serde_json::json!(["no-op"])
                && c["change"]["actions"] != serde_json::json!(["read"])
        })
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["change"]["actions"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            (
                "module.ask_skill.aws_lambda_alias.this[0]".to_string(),
                r#"["update"]"#.to_string()
            ),
            (
                "module.ask_skill.aws_lambda_function.this".to_string(),
                r#"["update"]"#.to_string()
            ),
        ],
        "exactly the changed function (and its alias, moving to the new version)"
    );
    tf_moto(
        &tf,
        &example_b,
        &moto,
        &["apply", "-input=false", "-no-color", "change.plan"],
    );
    assert_eq!(
        versions("ask-skill"),
        ["$LATEST", "1", "2"],
        "one new version"
    );
    let alias = moto.aws(&[
        "lambda",
        "get-alias",
        "--function-name",
        "ask-skill",
        "--name",
        "live",
    ]);
    assert_eq!(alias["FunctionVersion"], "2");
    let live = moto.aws(&[
        "lambda",
        "get-function",
        "--function-name",
        "ask-skill",
        "--qualifier",
        "live",
    ]);
    assert_eq!(
        live["Configuration"]["CodeSha256"].as_str().unwrap(),
        manifest_code_sha256(&b, "alexa-skill", "ask-skill")
    );
    let (code, out) = plan_exit(&tf, &example_b, &moto, &[]);
    assert_eq!(code, 0, "{out}");

    // ---- configuration changed outside Terraform: the plan sees it, apply converges
    moto.aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        "orders-consumer",
        "--memory-size",
        "512",
    ]);
    moto.aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        "upload-inspector",
        "--environment",
        "Variables={MAX_BYTES=1}",
    ]);
    moto.aws(&[
        "lambda",
        "update-event-source-mapping",
        "--uuid",
        &mapping_uuid,
        "--batch-size",
        "5",
    ]);
    let (code, out) = plan_exit(&tf, &example_b, &moto, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("memory_size") && out.contains("MAX_BYTES") && out.contains("batch_size"),
        "{out}"
    );
    tf_moto(
        &tf,
        &example_b,
        &moto,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    let orders = moto.aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        "orders-consumer",
    ]);
    assert_eq!(orders["MemorySize"], 256);
    let mapping = moto.aws(&[
        "lambda",
        "get-event-source-mapping",
        "--uuid",
        &mapping_uuid,
    ]);
    assert_eq!(
        mapping["BatchSize"], 10,
        "the trigger is back to slipway.toml's"
    );
    let (code, out) = plan_exit(&tf, &example_b, &moto, &[]);
    assert_eq!(code, 0, "converged:\n{out}");

    // ---- code replaced outside Terraform: the provider does not see it, slipway does
    let other = Project::new();
    other.write("slipway.toml", "[functions.items-api]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\n");
    other.write(
        "src/app.py",
        "def handler(event, context):\n    return 'replaced'\n",
    );
    slipway_build(&other);
    moto.aws(&[
        "lambda",
        "update-function-code",
        "--function-name",
        "items-api",
        "--zip-file",
        &format!(
            "fileb://{}",
            other.join("dist/items-api/items-api.zip").display()
        ),
    ]);
    let (code, out) = plan_exit(&tf, &example_b, &moto, &[]);
    assert_eq!(
        code, 0,
        "provider 5.x does not compare the live CodeSha256:\n{out}"
    );
    let out = slipway_aws(&Project::new(), &moto.url)
        .current_dir(b.join("examples/function-url-api"))
        .args(["drift", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json_stdout(&out);
    let fields: Vec<&str> = report["functions"][0]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"code_sha256"), "{fields:?}");
}

#[test]
fn bad_build_folders_and_roles_are_refused_at_plan_time_by_name() {
    let tf = Tf::new();
    let module = module_with_fixtures(&tf);
    let moto = Moto::start();
    let root = tf.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("main.tf"),
        format!(
            r#"variable "build_dir" {{}}
variable "function" {{
  default = null
}}
variable "role_arn" {{
  default = "arn:aws:iam::123456789012:role/exec"
}}
module "hello" {{
  source    = "{}"
  build_dir = var.build_dir
  function  = var.function
  role_arn  = var.role_arn
}}
{MOTO_PROVIDER_OVERRIDE}"#,
            module.display()
        ),
    )
    .unwrap();
    tf_moto(&tf, &root, &moto, &["init", "-input=false", "-no-color"]);
    let build = module.join("tests/build");
    let at = |name: &str| format!("-var=build_dir={}", build.join(name).display());
    let cases: [(Vec<String>, String); 6] = [
        (vec![at("hello")], String::new()),
        (
            vec![at("missing")],
            "var.build_dir: no manifest.json in the build folder".into(),
        ),
        (
            vec![at("tampered")],
            format!(
                "{}/hello.zip does not match the SHA-256 in",
                build.join("tampered").display()
            ),
        ),
        (
            vec![at("hello"), "-var=function=orders".into()],
            "is for function \"hello\", not \"orders\" (var.function)".into(),
        ),
        (
            vec![at("mixed")],
            format!(
                "{}/function.json is for function \"orders\"",
                build.join("mixed").display()
            ),
        ),
        (
            vec![at("hello"), "-var=role_arn=hello-exec".into()],
            "var.role_arn is not an IAM role ARN".into(),
        ),
    ];
    for (vars, needle) in cases {
        let args: Vec<&str> = vars.iter().map(String::as_str).collect();
        let (code, out) = plan_exit(&tf, &root, &moto, &args);
        // Terraform wraps long messages: compare with the line breaks removed.
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        if needle.is_empty() {
            assert_eq!(code, 2, "the good build plans:\n{out}");
        } else {
            assert_eq!(code, 1, "{vars:?}:\n{out}");
            assert!(
                flat.contains(&needle),
                "{vars:?}: expected `{needle}` in:\n{out}"
            );
        }
    }
}

#[test]
fn http_backend_state_is_locked_against_a_second_apply_and_survives() {
    let tf = Tf::new();
    let server = StateServer::start("gitlab-ci-token", "job-token-0123");
    let address = format!(
        "{}/api/v4/projects/42/terraform/state/production",
        server.url
    );
    let config = r#"terraform {
  backend "http" {}
}

resource "terraform_data" "release" {
  input = "v1"
}

resource "terraform_data" "other" {
  input = terraform_data.release.output
}
"#;
    // GitLab-managed state, configured as the module's README says.
    let gitlab = |cmd: &mut Command, password: &str| {
        cmd.env("TF_HTTP_ADDRESS", &address)
            .env("TF_HTTP_LOCK_ADDRESS", format!("{address}/lock"))
            .env("TF_HTTP_UNLOCK_ADDRESS", format!("{address}/lock"))
            .env("TF_HTTP_LOCK_METHOD", "POST")
            .env("TF_HTTP_UNLOCK_METHOD", "DELETE")
            .env("TF_HTTP_USERNAME", "gitlab-ci-token")
            .env("TF_HTTP_PASSWORD", password)
            .env("TF_HTTP_RETRY_WAIT_MIN", "1");
    };
    let dirs: Vec<PathBuf> = ["first", "second", "wrong-token"]
        .iter()
        .map(|d| {
            let dir = tf.path().join(d);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("main.tf"), config).unwrap();
            dir
        })
        .collect();
    for dir in &dirs[..2] {
        let mut init = tf.command(dir, &["init", "-input=false", "-no-color"]);
        gitlab(&mut init, "job-token-0123");
        let out = init.output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let mut init = tf.command(&dirs[2], &["init", "-input=false", "-no-color"]);
    gitlab(&mut init, "wrong");
    let out = init.output().unwrap();
    assert!(
        !out.status.success(),
        "a wrong token is refused:\n{}",
        text(&out)
    );
    assert!(text(&out).contains("requires auth"), "{}", text(&out));

    // The first apply is held inside its lock, at its state write.
    server.hold_writes();
    let mut first = tf.command(
        &dirs[0],
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    gitlab(&mut first, "job-token-0123");
    let first = first
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        server.wait_holding(Duration::from_secs(120)),
        "the first apply writes its state"
    );
    let holder = server.locked_by().expect("the first apply holds the lock");

    let mut second = tf.command(
        &dirs[1],
        &[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-lock-timeout=0s",
        ],
    );
    gitlab(&mut second, "job-token-0123");
    let out = second.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let refused = text(&out);
    assert!(
        refused.contains("Error acquiring the state lock"),
        "{refused}"
    );
    let holder_id = serde_json::from_str::<serde_json::Value>(&holder).unwrap()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        refused.contains(&holder_id),
        "the refusal names the holder's lock:\n{refused}"
    );
    assert_eq!(server.refused_locks(), 1);

    server.release();
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server.locked_by(), None, "the first apply unlocked");

    // The state is on the server: a new working folder, with Terraform's
    // default LOCK/UNLOCK methods this time, plans no change.
    let state = server.state().expect("state stored");
    let resources = state["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 2, "{state}");
    let third = tf.path().join("third");
    std::fs::create_dir_all(&third).unwrap();
    std::fs::write(third.join("main.tf"), config).unwrap();
    let default_methods = |cmd: &mut Command| {
        cmd.env("TF_HTTP_ADDRESS", &address)
            .env("TF_HTTP_LOCK_ADDRESS", &address)
            .env("TF_HTTP_UNLOCK_ADDRESS", &address)
            .env("TF_HTTP_USERNAME", "gitlab-ci-token")
            .env("TF_HTTP_PASSWORD", "job-token-0123");
    };
    let mut init = tf.command(&third, &["init", "-input=false", "-no-color"]);
    default_methods(&mut init);
    assert!(init.output().unwrap().status.success());
    let mut plan = tf.command(
        &third,
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    );
    default_methods(&mut plan);
    let out = plan.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.locked_by(), None, "the plan locked and unlocked");
    let writes = server.writes();
    assert!(writes >= 1, "{writes}");
}

#[test]
fn checkov_passes_on_the_module_with_the_skips_its_readme_lists() {
    let config = repo().join("terraform/.checkov.yaml");
    // .ci/run installs checkov in its own virtual environment (its pinned
    // boto3 would break the AWS CLI) and puts it on PATH.
    let checkov = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/slipway-ci/checkov/bin/checkov"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("checkov"));
    let out = Command::new(checkov)
        .arg("--config-file")
        .arg(&config)
        .arg("-d")
        .arg(repo().join("terraform"))
        .output()
        .expect("checkov runs (.ci/run installs it in its own virtual environment)");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Failed checks: 0"), "{}", text(&out));
    // Every skip in the configuration is explained in the README.
    let readme = std::fs::read_to_string(repo().join("terraform/README.md")).unwrap();
    let skips: Vec<String> = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- CKV"))
        .map(|l| format!("CKV{}", l.split_whitespace().next().unwrap()))
        .collect();
    assert!(!skips.is_empty());
    for id in skips {
        assert!(
            readme.contains(&format!("| `{id}` |")),
            "{id} is skipped but not explained in terraform/README.md"
        );
    }
}

/// The Alexa trigger through `slipway deploy` and `drift` (the module's
/// `aws_lambda_permission.alexa` writes the same statement id).
#[test]
fn slipway_deploy_adds_checks_and_removes_the_alexa_permission() {
    let moto = Moto::start().with_role();
    let p = Project::new();
    let toml = |alexa: &str| {
        format!(
            "[functions.skill]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\nrole = \"{}\"\n{alexa}",
            crate::support_aws::ROLE
        )
    };
    let skill = "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001";
    p.write(
        "slipway.toml",
        toml(&format!(
            "\n[[functions.skill.alexa]]\nskill_id = \"{skill}\"\n"
        )),
    );
    p.write(
        "src/app.py",
        "def handler(event, context):\n    return {}\n",
    );
    slipway_build(&p);
    let out = slipway_aws(&p, &moto.url)
        .args(["deploy"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let policy = moto.aws(&["lambda", "get-policy", "--function-name", "skill"]);
    let policy: serde_json::Value =
        serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Sid"],
        "slipway-alexa-0a1b2c3d-0000-4000-8000-000000000001"
    );
    assert!(
        statement["Principal"]
            .to_string()
            .contains("alexa-appkit.amazon.com"),
        "{statement}"
    );
    assert_eq!(statement["Action"], "lambda:InvokeFunction");
    let out = slipway_aws(&p, &moto.url).args(["drift"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Gone from slipway.toml: drift sees the statement, deploy removes it.
    p.write("slipway.toml", toml(""));
    let out = slipway_aws(&p, &moto.url)
        .args(["drift", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // Lambda reports the skill from the statement's condition; moto drops
    // the condition, leaving the statement id, which names the skill too.
    let report = text(&out);
    assert!(
        report.contains("\"alexa ") && report.contains("0a1b2c3d-0000-4000-8000-000000000001"),
        "{report}"
    );
    let out = slipway_aws(&p, &moto.url)
        .args(["deploy"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let (has_policy, policy) =
        moto.aws_succeeds(&["lambda", "get-policy", "--function-name", "skill"]);
    assert!(!has_policy || !policy.contains("alexa"), "{policy}");
}

#[test]
fn build_writes_the_settings_and_rewrites_them_when_only_settings_change() {
    let p = hello_project();
    slipway_build(&p);
    let read = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p.join("dist/hello/function.json")).unwrap()).unwrap()
    };
    let settings = read();
    assert_eq!(settings["function"], "hello");
    assert_eq!(settings["memory"], 256);
    assert_eq!(settings["triggers"]["sqs"][0]["batch_size"], 20);
    assert_eq!(settings["triggers"]["url"]["auth"], "AWS_IAM");
    assert_eq!(
        settings["triggers"]["alexa"][0]["skill_id"],
        "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001"
    );
    let zip = std::fs::read(p.join("dist/hello/hello.zip")).unwrap();

    // Memory is not an input of the package: the build is up to date, the
    // settings file still follows slipway.toml.
    p.write(
        "slipway.toml",
        HELLO_TOML.replace("memory = 256", "memory = 512"),
    );
    let out = p
        .slipway()
        .args(["build", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json_stdout(&out)["functions"][0]["status"], "up_to_date");
    assert_eq!(read()["memory"], 512);
    assert_eq!(std::fs::read(p.join("dist/hello/hello.zip")).unwrap(), zip);
}
