//! `--sam TEMPLATE`: a SAM template as the configuration, the build template
//! SAM deploys unchanged, checked with SAM's own translator, cfn-lint, the
//! AWS CLI and a moto server.

use std::path::{Path, PathBuf};
use std::process::Command;

use slipway_python::testing::{LocalIndex, WheelSpec};

use crate::support::{Project, assert_ok, json_stdout, slipway, succeed};
use crate::support_aws::{ACCESS_KEY, Moto, REGION, SECRET_KEY};

/// The repository's SAM example, copied into a fresh folder (a checkout of its own).
fn sam_app() -> Project {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sam-app");
    let p = Project::new();
    copy_tree(&example, p.path());
    p
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        // Only what a clone holds: no earlier build output.
        if [".aws-sam", "dist"].contains(&name.to_str().unwrap()) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn build_sam(p: &Project, extra: &[&str]) -> serde_json::Value {
    let out = p
        .slipway()
        .args(["--format", "json", "--sam", "template.yaml", "build"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json_stdout(&out)
}

fn read(p: &Project, rel: &str) -> Vec<u8> {
    std::fs::read(p.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn manifest(p: &Project, id: &str) -> serde_json::Value {
    serde_json::from_slice(&read(p, &format!("dist/{id}/manifest.json"))).unwrap()
}

const FUNCTIONS: [&str; 4] = ["AskSkill", "ItemsApi", "OrdersConsumer", "UploadInspector"];

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> String {
    let cmd = cmd.borrow_mut();
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The AWS CLI against moto, S3 uploads included (`aws cloudformation
/// package` takes its S3 endpoint from the environment only).
fn aws(moto: &Moto, cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("aws");
    cmd.current_dir(cwd)
        .args(args)
        .args(["--region", REGION])
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env_remove("AWS_PROFILE");
    cmd
}

/// The SAM transform as `sam deploy` runs it, offline: SAM's own translator
/// with a managed-policy loader that names AWS's policies without calling IAM.
const TRANSFORM: &str = r#"
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class Names(dict):
    def get(self, name, default=None):
        path = "service-role/" if name.startswith("AWSLambda") else ""
        return f"arn:aws:iam::aws:policy/{path}{name}"
    def __contains__(self, name):
        return True
    def __getitem__(self, name):
        return self.get(name)

class OfflineManagedPolicies:
    def load(self):
        return Names()

template = yaml_parse(open(sys.argv[1]).read())
out = transform(template, {}, OfflineManagedPolicies())
# moto's CloudFormation has no AWS::Lambda::Url or AWS::Lambda::Alias: leave
# them out and point what used the alias at the function itself.
resources = out["Resources"]
aliases = {k: v["Properties"]["FunctionName"] for k, v in resources.items() if v["Type"] == "AWS::Lambda::Alias"}
for k in [k for k, v in resources.items() if v["Type"] in ("AWS::Lambda::Url", "AWS::Lambda::Alias")]:
    del resources[k]
for k, v in list(out.get("Outputs", {}).items()):
    if "ItemsApiUrl" in json.dumps(v):
        del out["Outputs"][k]
def unalias(v):
    if isinstance(v, dict):
        if len(v) == 1 and v.get("Ref") in aliases:
            return aliases[v["Ref"]]
        return {k: unalias(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unalias(x) for x in v]
    return v
out = unalias(out)
open(sys.argv[2], "w").write(json.dumps(out, indent=1, sort_keys=True))
print(json.dumps(sorted(v["Type"] for v in out["Resources"].values())))
"#;

#[test]
fn the_build_template_is_reproducible_passes_cfn_lint_and_deploys_the_bytes_slipway_built() {
    let a = sam_app();
    let report = build_sam(&a, &[]);
    let sam = &report["sam"];
    assert_eq!(
        sam["path"].as_str().map(PathBuf::from),
        Some(a.join(".aws-sam/build/template.yaml"))
    );
    let template = String::from_utf8(read(&a, ".aws-sam/build/template.yaml")).unwrap();
    for id in FUNCTIONS {
        let m = manifest(&a, id);
        assert!(
            template.contains(&format!("CodeUri: {id}/{id}.zip")),
            "{id} in\n{template}"
        );
        assert_eq!(
            read(&a, &format!(".aws-sam/build/{id}/{id}.zip")),
            read(&a, &format!("dist/{id}/{id}.zip")),
            "SAM uploads the zip slipway built"
        );
        assert_eq!(m["architecture"], "arm64", "Globals.Function.Architectures");
    }
    let orders = manifest(&a, "OrdersConsumer");
    assert!(
        template.contains(&format!(
            "AutoPublishCodeSha256: {}",
            orders["artifact"]["code_sha256"].as_str().unwrap()
        )),
        "AutoPublishAlias gets the package's CodeSha256:\n{template}"
    );
    assert!(
        template.contains("AWSTemplateFormatVersion: '2010-09-09'"),
        "YAML 1.1 readers must not see a date:\n{template}"
    );

    // Another checkout, another path, later mtimes: the same bytes.
    let b = sam_app();
    for f in ["orders/app.py", "template.yaml"] {
        filetime::set_file_mtime(
            b.join(f),
            filetime::FileTime::from_unix_time(2_000_000_000, 0),
        )
        .unwrap();
    }
    build_sam(&b, &[]);
    for rel in std::iter::once(".aws-sam/build/template.yaml".to_string()).chain(
        FUNCTIONS
            .iter()
            .map(|id| format!(".aws-sam/build/{id}/{id}.zip")),
    ) {
        assert_eq!(
            read(&a, &rel),
            read(&b, &rel),
            "{rel} differs between checkouts"
        );
    }

    let lint = Command::new("cfn-lint")
        .arg(a.join(".aws-sam/build/template.yaml"))
        .output()
        .expect("cfn-lint runs (pip install cfn-lint)");
    assert!(
        lint.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    // sam deploy's path: package (upload the zips as they are), transform, deploy.
    let moto = Moto::start();
    let build_dir = a.join(".aws-sam/build");
    run(aws(&moto, &build_dir, &["s3", "mb", "s3://artifacts"]).arg("--output=json"));
    run(aws(
        &moto,
        &build_dir,
        &[
            "cloudformation",
            "package",
            "--template-file",
            "template.yaml",
            "--s3-bucket",
            "artifacts",
            "--output-template-file",
            "packaged.yaml",
        ],
    ));
    let transformed = run(Command::new("python3")
        .current_dir(&build_dir)
        .env("AWS_DEFAULT_REGION", REGION)
        .args(["-c", TRANSFORM, "packaged.yaml", "transformed.json"]));
    for resource in [
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Version",
        "AWS::Lambda::Permission",
    ] {
        assert!(
            transformed.contains(resource),
            "{resource} in {transformed}"
        );
    }
    let deploy = |cwd: &Path| {
        aws(
            &moto,
            cwd,
            &[
                "cloudformation",
                "deploy",
                "--template-file",
                "transformed.json",
                "--stack-name",
                "sam-app",
                "--capabilities",
                "CAPABILITY_IAM",
                "--no-fail-on-empty-changeset",
            ],
        )
    };
    run(deploy(&build_dir));
    let physical: serde_json::Value = serde_json::from_str(&run(aws(
        &moto,
        &build_dir,
        &[
            "cloudformation",
            "describe-stack-resources",
            "--stack-name",
            "sam-app",
            "--output",
            "json",
        ],
    )))
    .unwrap();
    let mut checked = 0;
    for r in physical["StackResources"].as_array().unwrap() {
        if r["ResourceType"] != "AWS::Lambda::Function" {
            continue;
        }
        let id = r["LogicalResourceId"].as_str().unwrap();
        let live: serde_json::Value = serde_json::from_str(&run(aws(
            &moto,
            &build_dir,
            &[
                "lambda",
                "get-function",
                "--function-name",
                r["PhysicalResourceId"].as_str().unwrap(),
                "--output",
                "json",
            ],
        )))
        .unwrap();
        assert_eq!(
            live["Configuration"]["CodeSha256"],
            manifest(&a, id)["artifact"]["code_sha256"],
            "{id}: the live code is the built code"
        );
        checked += 1;
    }
    assert_eq!(checked, FUNCTIONS.len());

    // Nothing changed: rebuild from the other checkout, package, transform, deploy again.
    let b_build = b.join(".aws-sam/build");
    run(aws(
        &moto,
        &b_build,
        &[
            "cloudformation",
            "package",
            "--template-file",
            "template.yaml",
            "--s3-bucket",
            "artifacts",
            "--output-template-file",
            "packaged.yaml",
        ],
    ));
    assert_eq!(
        std::fs::read(build_dir.join("packaged.yaml")).unwrap(),
        std::fs::read(b_build.join("packaged.yaml")).unwrap(),
        "the same zips give the same S3 keys"
    );
    run(Command::new("python3")
        .current_dir(&b_build)
        .env("AWS_DEFAULT_REGION", REGION)
        .args(["-c", TRANSFORM, "packaged.yaml", "transformed.json"]));
    // CloudFormation answers an empty change set with "No changes to deploy";
    // moto refuses the change set with the message of an empty stack update.
    let second = deploy(&b_build).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        said.contains("No changes to deploy") || said.contains("No updates are to be performed"),
        "a second deploy changes nothing: {said}"
    );
}

/// A one-function template in `p`, `Fn`, with `properties` indented for it.
fn template(p: &Project, properties: &str) {
    p.write(
        "template.yaml",
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n{properties}"
        ),
    );
}

const GOOD: &str = "      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.11\n";

#[test]
fn templates_slipway_cannot_build_are_input_errors_naming_the_resource_and_property() {
    let p = Project::new();
    p.write("src/app.py", "def handler(e, c):\n    return e\n");
    let cases = [
        (
            GOOD.replace("CodeUri: src/", "CodeUri: !GetAtt Bucket.Arn"),
            "Fn.CodeUri",
            "!GetAtt Bucket.Arn",
        ),
        (
            GOOD.replace("python3.11", "!If [IsNew, python3.12, python3.11]"),
            "Fn.Runtime",
            "!If",
        ),
        (
            GOOD.replace("CodeUri: src/", "CodeUri: ../"),
            "Fn.CodeUri",
            "outside the project",
        ),
        (
            format!("{GOOD}      PackageType: Image\n"),
            "Fn.PackageType",
            "Zip packages only",
        ),
        (
            GOOD.replace("python3.11", "java21"),
            "Fn.Runtime",
            "not a runtime slipway builds for",
        ),
        (
            format!("{GOOD}      Architectures: [!Ref Arch]\n"),
            "Fn.Architectures",
            "!Ref Arch",
        ),
    ];
    for (properties, property, needle) in cases {
        template(&p, &properties);
        let out = p
            .slipway()
            .args(["--sam", "template.yaml", "build"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{properties}\n{stderr}");
        assert!(stderr.contains(property), "{property} in {stderr}");
        assert!(stderr.contains(needle), "{needle} in {stderr}");
        assert!(stderr.contains("help:"), "{stderr}");
        assert!(!p.join(".aws-sam").exists(), "nothing written");
    }

    template(&p, GOOD);
    let out = p
        .slipway()
        .args(["--sam", "template.yaml", "deploy"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a template is deployed as a stack, which needs a name and a bucket"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("sam deploy"));

    p.write("template.yaml", "Resources:\n  Fn: {Type: [\n");
    let out = p
        .slipway()
        .args(["--format", "json", "--sam", "template.yaml", "build"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let error = json_stdout(&out);
    assert_eq!(error["error"]["code"], "slipway::sam::not_yaml", "{error}");
}

#[test]
fn dependencies_come_from_requirements_txt_in_code_uri_for_both_architectures_and_a_layer() {
    let index = LocalIndex::start();
    for tag in [
        "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64",
    ] {
        index.add_wheel(
            &WheelSpec::new("fastjson", "3.10.0", tag)
                .file("fastjson/__init__.py", format!("TAG = {tag:?}\n")),
        );
    }
    let p = Project::new();
    p.write(
        "template.yaml",
        r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Arch: { Type: String, Default: arm64 }
Globals:
  Function: { Runtime: python3.12, Handler: app.handler, CodeUri: src/ }
Resources:
  Arm:
    Type: AWS::Serverless::Function
    Properties: { Architectures: [!Ref Arch] }
  Intel:
    Type: AWS::Serverless::Function
    Metadata: { slipway: { layer: true } }
    Properties: { Architectures: [x86_64], AutoPublishAlias: live }
"#,
    );
    p.write(
        "src/app.py",
        "import fastjson\n\ndef handler(e, c):\n    return fastjson.TAG\n",
    );
    p.write("src/requirements.txt", "fastjson==3.10.0\n");
    build_sam(&p, &["--index-url", &index.url()]);

    let arm = manifest(&p, "Arm");
    assert_eq!(arm["dependencies"][0]["name"], "fastjson");
    assert!(
        arm["dependencies"][0]["wheel"]
            .as_str()
            .unwrap()
            .contains("aarch64"),
        "{arm}"
    );
    let intel = manifest(&p, "Intel");
    assert!(intel["layer"]["file"].is_string(), "layer = true: {intel}");
    let template = String::from_utf8(read(&p, ".aws-sam/build/template.yaml")).unwrap();
    for expected in [
        "IntelDependenciesLayer:\n    Type: AWS::Serverless::LayerVersion",
        "ContentUri: Intel/Intel-layer.zip",
        "CompatibleArchitectures:\n      - x86_64",
        "- !Ref IntelDependenciesLayer",
    ] {
        assert!(template.contains(expected), "{expected} in\n{template}");
    }
    assert_eq!(
        read(&p, ".aws-sam/build/Intel/Intel-layer.zip"),
        read(&p, "dist/Intel/Intel-layer.zip")
    );
    let lint = Command::new("cfn-lint")
        .arg(p.join(".aws-sam/build/template.yaml"))
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}

#[test]
fn invoke_runs_a_template_function_with_its_resolved_environment() {
    let p = Project::new();
    p.write(
        "template.yaml",
        r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: { Type: String, Default: test }
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: python3.11
      Environment:
        Variables: { GREETING: !Sub "hello-${Stage}", TABLE: !Ref Table }
"#,
    );
    p.write(
        "hello/app.py",
        "import os\n\ndef handler(event, context):\n    return {'greeting': os.environ['GREETING'], 'table': os.environ.get('TABLE'), 'name': event['name']}\n",
    );
    build_sam(&p, &[]);
    p.write("event.json", r#"{"name": "Ada"}"#);
    let out = succeed(slipway(p.path()).args([
        "--sam",
        "template.yaml",
        "invoke",
        "Hello",
        "--event",
        "event.json",
    ]));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result,
        serde_json::json!({"greeting": "hello-test", "table": null, "name": "Ada"})
    );
}

/// A C-extension dependency from the real index, for both architectures,
/// and the x86_64 package imported by CPython of the runtime's version.
/// Runs only with `SLIPWAY_LIVE_TESTS=1`.
#[test]
fn live_c_extension_dependencies_build_for_arm64_and_x86_64_without_docker() {
    if !std::env::var("SLIPWAY_LIVE_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("skipped: set SLIPWAY_LIVE_TESTS=1 to run the live index tests");
        return;
    }
    let p = Project::new();
    p.write(
        "template.yaml",
        r#"Transform: AWS::Serverless-2016-10-31
Globals:
  Function: { Runtime: python3.12, Handler: app.handler, CodeUri: src/ }
Resources:
  Arm:
    Type: AWS::Serverless::Function
    Properties: { Architectures: [arm64] }
  Intel:
    Type: AWS::Serverless::Function
    Properties: { Architectures: [x86_64] }
"#,
    );
    p.write(
        "src/app.py",
        "import orjson\n\ndef handler(e, c):\n    return orjson.dumps(e).decode()\n",
    );
    p.write("src/requirements.txt", "orjson\n");
    // The machine's own pip configuration names the index; slipway reads it.
    succeed(
        Command::new(env!("CARGO_BIN_EXE_slipway"))
            .current_dir(p.path())
            .args(["--format", "json", "--sam", "template.yaml", "build"])
            .env("SLIPWAY_CACHE_DIR", p.join(".test-cache")),
    );
    for (id, machine) in [("Arm", "aarch64"), ("Intel", "x86_64")] {
        let m = manifest(&p, id);
        let wheel = m["dependencies"][0]["wheel"].as_str().unwrap().to_string();
        assert!(
            wheel.starts_with("orjson-") && wheel.contains(machine),
            "{id}: {wheel}"
        );
        assert!(
            m["artifact"]["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["path"].as_str().unwrap().ends_with(".so")),
            "{id} holds the compiled extension"
        );
    }
    let root =
        String::from_utf8(Command::new("pyenv").arg("root").output().unwrap().stdout).unwrap();
    let python = std::fs::read_dir(Path::new(root.trim()).join("versions"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin/python3.12"))
        .find(|p| p.is_file())
        .expect("pyenv's python3.12");
    let unpacked = p.join("unpacked");
    run(Command::new("unzip")
        .args(["-q", "-d"])
        .arg(&unpacked)
        .arg(p.join("dist/Intel/Intel.zip")));
    let imported = run(Command::new(python).current_dir(&unpacked).args([
        "-I",
        "-c",
        "import sys; sys.path.insert(0, '.'); import app; print(app.handler({'ok': 1}, None))",
    ]));
    assert_eq!(imported.trim(), r#"{"ok":1}"#);
}

/// A template beside a slipway.toml that names it: the settings SAM has no
/// property for in slipway.toml, the functions and their events in the template.
fn template_project() -> Project {
    let p = Project::new();
    p.write(
        "template.yaml",
        r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: { Type: String, Default: prod, AllowedValues: [dev, prod] }
  Owner: { Type: String }
Globals:
  Function: { Runtime: python3.12, Handler: app.handler }
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties: { QueueName: !Sub "jobs-${Stage}", VisibilityTimeout: 30 }
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Environment:
        Variables: { GREETING: !Sub "hello-${Stage}", OWNER: !Ref Owner }
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
"#,
    );
    p.write(
        "hello/app.py",
        "import os\n\ndef handler(event, context):\n    for r in event.get('Records', []):\n        print('got', r['body'], 'from', r['eventSourceARN'].rsplit(':', 1)[-1], flush=True)\n    return {'greeting': os.environ['GREETING'], 'owner': os.environ.get('OWNER'), 'batchItemFailures': []}\n",
    );
    p.write("hello/tests/test_app.py", "def test_nothing():\n    pass\n");
    p.write(
        "slipway.toml",
        "sam = \"template.yaml\"\n\n[functions.Hello]\nexclude = [\"tests\"]\n",
    );
    p
}

fn zip_entries(p: &Project, id: &str) -> Vec<String> {
    manifest(p, id)["artifact"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect()
}

fn invoke_hello(p: &Project, args: &[&str]) -> std::process::Output {
    p.write("event.json", "{}");
    p.slipway()
        .args(["invoke", "--event", "event.json"])
        .args(args)
        .arg("Hello")
        .output()
        .unwrap()
}

#[test]
fn slipway_toml_naming_a_template_runs_every_command_without_sam_on_the_command_line() {
    let p = template_project();
    let out = succeed(p.slipway().args(["--format", "json", "build"]));
    let report = json_stdout(&out);
    assert_eq!(
        report["sam"]["path"].as_str().map(PathBuf::from),
        Some(p.join(".aws-sam/build/template.yaml")),
        "a plain build writes SAM's build template: {report}"
    );
    let entries = zip_entries(&p, "Hello");
    assert!(entries.contains(&"app.py".to_string()), "{entries:?}");
    assert!(
        !entries.iter().any(|e| e.starts_with("tests/")),
        "slipway.toml's exclude applies: {entries:?}"
    );

    let out = invoke_hello(&p, &[]);
    assert_ok(&out);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["greeting"], "hello-prod");

    for command in [&["verify"][..], &["plan"], &["scan"]] {
        let out = p.slipway().args(command).output().unwrap();
        assert!(
            out.status.success(),
            "{command:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Hello"),
            "{command:?} sees the template's function"
        );
    }

    // `--sam` on the command line wins over the key: another template, another function.
    p.write(
        "other.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Other:\n    Type: AWS::Serverless::Function\n    Properties: { CodeUri: hello/, Handler: app.handler, Runtime: python3.11 }\n",
    );
    let out = p
        .slipway()
        .args(["--format", "json", "--sam", "other.yaml", "plan"])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && plan.contains("Other") && !plan.contains("Hello"),
        "{plan}"
    );

    let help = p.slipway().arg("--help").output().unwrap();
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("Wins over slipway.toml's `sam` key"),
        "--help says which wins"
    );

    // A key the template owns, and a table for no function, are input errors at their line.
    for (toml, needle) in [
        (
            "sam = \"template.yaml\"\n\n[functions.Hello]\nmemory = 256\n",
            "slipway.toml:4: `functions.Hello.memory`: the SAM template named by `sam` defines this",
        ),
        (
            "sam = \"template.yaml\"\n\n[functions.Hallo]\nlayer = true\n",
            "slipway.toml:3: `[functions.Hallo]` names no `AWS::Serverless::Function`",
        ),
        ("sam = \"template.yaml\"\nsma = 1\n", "unknown field `sma`"),
        ("sam = \"missing.yaml\"\n", "missing.yaml does not exist"),
    ] {
        p.write("slipway.toml", toml);
        let out = p.slipway().arg("build").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{toml}\n{stderr}");
        assert!(stderr.contains(needle), "{needle} in {stderr}");
        assert!(stderr.contains("help:"), "{stderr}");
    }
    p.write(
        "slipway.toml",
        "sam = \"template.yaml\"\n\n[functions.Hello]\nexclude = [\"tests\"]\n",
    );
    let out = p.slipway().arg("deploy").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the Lambda API path refuses the template"
    );
}

#[test]
fn parameter_overrides_feed_the_template_for_every_command_that_reads_it() {
    let p = template_project();
    // Space-separated in one flag, or the flag repeated; a later value wins.
    succeed(
        p.slipway()
            .args(["build", "--parameter-overrides", "Stage=prod Owner=ada"])
            .args(["--parameter-overrides", "Stage=dev"]),
    );
    let out = invoke_hello(
        &p,
        &[
            "--parameter-overrides",
            "Stage=dev",
            "Owner=\"ada lovelace\"",
            "--",
        ],
    );
    assert_ok(&out);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&result["greeting"], &result["owner"]),
        (
            &serde_json::json!("hello-dev"),
            &serde_json::json!("ada lovelace")
        ),
        "!Sub of an overridden default, !Ref of a parameter without one"
    );
    let out = invoke_hello(&p, &[]);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result["owner"],
        serde_json::Value::Null,
        "no value without the override"
    );

    for (args, needle) in [
        (
            &["--parameter-overrides", "Stgae=dev"][..],
            "`Stgae`, which is not a parameter of the template",
        ),
        (
            &["--parameter-overrides", "Stage=test"],
            "Stage `test`, which its `AllowedValues` do not list",
        ),
        (&["--parameter-overrides", "Stage"], "is not NAME=VALUE"),
    ] {
        let out = p.slipway().arg("build").args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
    // The template named with --sam takes them as well.
    let out = p
        .slipway()
        .args([
            "--sam",
            "template.yaml",
            "plan",
            "--parameter-overrides",
            "Nope=1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`Nope`"));

    // A slipway.toml with functions of its own has nothing to override.
    let plain = Project::hello();
    let out = plain
        .slipway()
        .args(["build", "--parameter-overrides", "Stage=dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("without a SAM template"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn serve_polls_the_templates_queue_at_moto_and_delivers_its_messages() {
    let p = template_project();
    succeed(
        p.slipway()
            .args(["build", "--parameter-overrides", "Stage=dev"]),
    );
    let moto = Moto::start();
    let queue = moto.aws(&["sqs", "create-queue", "--queue-name", "jobs-dev"]);
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_string();
    moto.aws(&[
        "sqs",
        "send-message",
        "--queue-url",
        &queue_url,
        "--message-body",
        "job-42",
    ]);

    let log_path = p.join("serve.log");
    let mut child = crate::support_aws::slipway_aws_process(&p, &moto.url)
        .args([
            "serve",
            "--port",
            "0",
            "--no-watch",
            "--endpoint-url",
            &moto.url,
        ])
        .args(["--parameter-overrides", "Stage=dev"])
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("got job-42 from jobs-dev") || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    let drained = moto.aws(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        &queue_url,
        "--attribute-names",
        "All",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        log.contains("got job-42 from jobs-dev"),
        "the message reached the function served from the template:\n{log}"
    );
    assert_eq!(
        drained["Attributes"]["ApproximateNumberOfMessagesNotVisible"], "0",
        "the batch succeeded, so the message was deleted: {drained}"
    );
    assert_eq!(drained["Attributes"]["ApproximateNumberOfMessages"], "0");

    // Without the queue at the endpoint, serving goes on and says which queue is missing.
    let (still_serving, log2) = {
        let log_path = p.join("serve2.log");
        let mut child = crate::support_aws::slipway_aws_process(&p, &moto.url)
            .args([
                "serve",
                "--port",
                "0",
                "--no-watch",
                "--endpoint-url",
                &moto.url,
            ])
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let log = loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if log.contains("not polled") || std::time::Instant::now() > deadline {
                break log;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        let running = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        (running, log)
    };
    assert!(
        log2.contains("Hello.Events.Work: queue `Jobs` not polled")
            && log2.contains("named `jobs-prod`"),
        "{log2}"
    );
    assert!(
        still_serving,
        "a missing queue does not stop serving:\n{log2}"
    );
}

/// The SAM transform of a build template whose `CodeUri`s are still local
/// folders: as `sam package` would, each becomes an S3 location first.
const TRANSFORM_LOCAL: &str = r#"
import json, sys
from samtranslator.yaml_helper import yaml_parse
template = yaml_parse(open(sys.argv[1]).read())
for r in template["Resources"].values():
    props = r.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if isinstance(props.get(key), str):
            props[key] = "s3://artifacts/" + props[key]
open(sys.argv[2], "w").write(json.dumps(template))
"#;

#[test]
fn the_reference_systems_sam_template_builds_the_same_packages_as_its_slipway_toml() {
    let index = LocalIndex::start();
    for tag in [
        "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64",
    ] {
        index.add_wheel(
            &WheelSpec::new("orjson", "3.10.18", tag)
                .file("orjson/__init__.py", format!("TAG = {tag:?}\n")),
        );
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reference-system");
    let p = Project::new();
    copy_tree(&example, p.path());

    succeed(p.slipway().args(["build", "--index-url", &index.url()]));
    build_sam(&p, &["--index-url", &index.url()]);
    for (toml_name, logical_id) in [
        ("items-api", "ItemsApi"),
        ("change-consumer", "ChangeConsumer"),
        ("ingest", "Ingest"),
        ("assistant", "Assistant"),
        ("report", "Report"),
    ] {
        let from_toml = manifest(&p, toml_name);
        let from_sam = manifest(&p, logical_id);
        assert_eq!(
            from_sam["artifact"]["code_sha256"], from_toml["artifact"]["code_sha256"],
            "{logical_id}: the template builds {toml_name}'s package"
        );
        for field in ["architecture", "runtime"] {
            assert_eq!(from_sam[field], from_toml[field], "{logical_id}.{field}");
        }
    }
    assert_eq!(manifest(&p, "Report")["architecture"], "arm64");

    for template in ["template.yaml", ".aws-sam/build/template.yaml"] {
        let lint = Command::new("cfn-lint")
            .arg(p.join(template))
            .output()
            .unwrap();
        assert!(
            lint.status.success(),
            "cfn-lint {template}:\n{}",
            String::from_utf8_lossy(&lint.stdout)
        );
    }
    let build_dir = p.join(".aws-sam/build");
    run(Command::new("python3").current_dir(&build_dir).args([
        "-c",
        TRANSFORM_LOCAL,
        "template.yaml",
        "packaged.json",
    ]));
    let transformed = run(Command::new("python3")
        .current_dir(&build_dir)
        .env("AWS_DEFAULT_REGION", REGION)
        .args(["-c", TRANSFORM, "packaged.json", "transformed.json"]));
    for resource in [
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Permission",
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
    ] {
        assert!(
            transformed.contains(resource),
            "{resource} in {transformed}"
        );
    }
    let resources: serde_json::Value =
        serde_json::from_slice(&std::fs::read(build_dir.join("transformed.json")).unwrap())
            .unwrap();
    let resources = &resources["Resources"];
    let mapping = resources
        .as_object()
        .unwrap()
        .values()
        .find(|r| r["Type"] == "AWS::Lambda::EventSourceMapping")
        .unwrap();
    assert_eq!(
        mapping["Properties"]["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    let skill = resources
        .as_object()
        .unwrap()
        .values()
        .find(|r| {
            r["Type"] == "AWS::Lambda::Permission"
                && r["Properties"]["Principal"] == "alexa-appkit.amazon.com"
        })
        .expect("the Alexa permission");
    assert_eq!(
        skill["Properties"]["EventSourceToken"],
        serde_json::json!({"Ref": "SkillId"}),
        "only the template's skill may invoke the assistant"
    );
}

fn deploy_sam(p: &Project, moto: &Moto, extra: &[&str]) -> std::process::Output {
    crate::support_aws::slipway_aws(p, &moto.url)
        .args(["--format", "json", "--sam", "template.yaml", "deploy"])
        .args(["--stack-name", "sam-app", "--s3-bucket", "artifacts"])
        .args(extra)
        .output()
        .unwrap()
}

fn succeeded(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json_stdout(out)
}

#[test]
fn deploy_of_a_template_packages_deploys_through_a_change_set_and_proves_every_function() {
    let p = sam_app();
    build_sam(&p, &[]);
    let moto = Moto::start();
    moto.aws(&["s3api", "create-bucket", "--bucket", "artifacts"]);

    // `sam package`'s step: upload by SHA-256, write the packaged template.
    let packaged = succeeded(&deploy_sam(&p, &moto, &["--package-only"]));
    assert!(packaged["stack"].is_null(), "nothing deployed: {packaged}");
    let text = String::from_utf8(read(&p, ".aws-sam/packaged.yaml")).unwrap();
    for id in FUNCTIONS {
        let m = manifest(&p, id);
        let key = format!("{id}/{}.zip", m["artifact"]["sha256"].as_str().unwrap());
        assert!(
            text.contains(&format!("CodeUri: s3://artifacts/{key}")),
            "{key} in\n{text}"
        );
        let head = moto.aws(&[
            "s3api",
            "head-object",
            "--bucket",
            "artifacts",
            "--key",
            &key,
        ]);
        assert_eq!(head["ContentLength"], m["artifact"]["zipped_size"], "{id}");
    }

    // moto's CloudFormation has no SAM transform: SAM's translator runs here.
    let sam_dir = p.join(".aws-sam");
    run(Command::new("python3")
        .current_dir(&sam_dir)
        .env("AWS_DEFAULT_REGION", REGION)
        .args(["-c", TRANSFORM, "packaged.yaml", "transformed.json"]));
    let first = succeeded(&deploy_sam(
        &p,
        &moto,
        &["--transformed", ".aws-sam/transformed.json"],
    ));
    let stack = &first["stack"];
    assert_eq!(stack["action"], "created", "{first}");
    // The outputs as CloudFormation reports them (moto reports none for a
    // stack made through a change set; AWS reports OrdersQueueUrl).
    let described = moto.aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        "sam-app",
    ]);
    let outputs: serde_json::Map<String, serde_json::Value> = described["Stacks"][0]["Outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["OutputKey"].as_str().unwrap().to_string(),
                o["OutputValue"].clone(),
            )
        })
        .collect();
    assert_eq!(
        stack["outputs"],
        serde_json::Value::Object(outputs),
        "{stack}"
    );
    assert_eq!(stack["stack_id"], described["Stacks"][0]["StackId"]);
    let proven: Vec<&str> = stack["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["logical_id"].as_str().unwrap())
        .collect();
    assert_eq!(proven, FUNCTIONS, "every function's live code is proven");
    for f in stack["functions"].as_array().unwrap() {
        let id = f["logical_id"].as_str().unwrap();
        let live = moto.aws(&[
            "lambda",
            "get-function",
            "--function-name",
            f["function_name"].as_str().unwrap(),
        ]);
        assert_eq!(
            live["Configuration"]["CodeSha256"],
            manifest(&p, id)["artifact"]["code_sha256"]
        );
    }

    // The same build again: no upload, no change, still proven.
    let events_before = moto.aws(&[
        "cloudformation",
        "describe-stack-events",
        "--stack-name",
        "sam-app",
    ]);
    let second = succeeded(&deploy_sam(
        &p,
        &moto,
        &["--transformed", ".aws-sam/transformed.json"],
    ));
    assert_eq!(second["stack"]["action"], "unchanged", "{second}");
    assert!(
        second["uploads"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["changes"].as_array().unwrap().is_empty()),
        "nothing uploaded again: {second}"
    );
    assert_eq!(
        second["stack"]["functions"].as_array().unwrap().len(),
        FUNCTIONS.len()
    );
    let events_after = moto.aws(&[
        "cloudformation",
        "describe-stack-events",
        "--stack-name",
        "sam-app",
    ]);
    assert_eq!(
        events_before["StackEvents"].as_array().unwrap().len(),
        events_after["StackEvents"].as_array().unwrap().len(),
        "the stack was not touched"
    );

    // A transformed template of other code is refused before the stack changes.
    let tampered = std::fs::read_to_string(sam_dir.join("transformed.json"))
        .unwrap()
        .replace("OrdersConsumer/", "OrdersConsumer/old-");
    std::fs::write(sam_dir.join("other.json"), tampered).unwrap();
    let out = deploy_sam(&p, &moto, &["--transformed", ".aws-sam/other.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "`OrdersConsumer` is not an AWS::Lambda::Function with the code just uploaded"
        ),
        "{stderr}"
    );

    // Code replaced behind the stack's back: the proof fails with exit 1.
    let ask = stack["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["logical_id"] == "AskSkill")
        .unwrap()["function_name"]
        .as_str()
        .unwrap()
        .to_string();
    let other_zip = p.join("dist/ItemsApi/ItemsApi.zip");
    moto.aws(&[
        "lambda",
        "update-function-code",
        "--function-name",
        &ask,
        "--zip-file",
        &format!("fileb://{}", other_zip.display()),
    ]);
    let out = deploy_sam(&p, &moto, &["--transformed", ".aws-sam/transformed.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("AskSkill") && stderr.contains("the live code is not the built code"),
        "{stderr}"
    );

    // A template still to be transformed, given as transformed, is refused.
    let out = deploy_sam(&p, &moto, &["--transformed", ".aws-sam/packaged.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("still has `Transform`"));
}

#[test]
fn serve_gives_a_template_function_its_function_url_cors() {
    let p = Project::new();
    p.write(
        "template.yaml",
        r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: api/
      Handler: app.handler
      Runtime: python3.12
      FunctionUrlConfig:
        AuthType: NONE
        Cors:
          AllowOrigins: ["http://localhost:3000"]
          AllowMethods: [GET, POST, DELETE]
          MaxAge: 300
"#,
    );
    p.write(
        "api/app.py",
        "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n",
    );
    build_sam(&p, &[]);
    let mut child = crate::support::process(p.path())
        .args([
            "--sam",
            "template.yaml",
            "serve",
            "--port",
            "0",
            "--no-watch",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .map(str::to_string);
    let preflight = base.as_ref().map(|base| {
        Command::new("curl")
            .args(["-s", "-i", "-X", "OPTIONS"])
            .args(["-H", "origin: http://localhost:3000"])
            .args(["-H", "access-control-request-method: POST"])
            .arg(format!("{base}/items"))
            .output()
            .unwrap()
    });
    let _ = child.kill();
    let _ = child.wait();
    let preflight = preflight.unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let answer = String::from_utf8_lossy(&preflight.stdout).to_lowercase();
    for header in [
        "access-control-allow-origin: http://localhost:3000",
        "access-control-allow-methods: get,post,delete",
        "access-control-max-age: 300",
    ] {
        assert!(
            answer.contains(header),
            "FunctionUrlConfig.Cors: {header} in\n{answer}"
        );
    }
}
