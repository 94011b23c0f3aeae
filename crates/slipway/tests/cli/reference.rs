//! The reference system (`examples/reference-system/`): its committed
//! `.gitlab-ci.yml` is what `slipway ci gitlab` writes and valid GitLab CI,
//! and its one-command local run (`local/run`) takes the whole scene through
//! gitlab-ci-local against a moto server and the fake model server: build,
//! unit tests, the built packages invoked, scan, `terraform apply`,
//! `slipway verify --deployed`, traffic through the deployed wiring, and a
//! scheduled drift run. Then a second run deploys nothing, a changed function
//! is the only one redeployed, and a change made behind the pipeline's back
//! fails the drift run naming the function and the setting.
//!
//! The scene is live (`SLIPWAY_LIVE_TESTS=1`): the build takes orjson's
//! wheels (for x86_64 and arm64) from the index the machine's pip is
//! configured with. It skips, saying so, when gitlab-ci-local or terraform is
//! missing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use slipway_ci::testing::assert_valid;

use crate::support_aws::{Moto, Proxy};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/reference-system"
);
const REGION: &str = "eu-west-1";
const FUNCTIONS: [&str; 5] = [
    "assistant",
    "change-consumer",
    "ingest",
    "items-api",
    "report",
];
const MODEL_KEY: &str = "reference-model-key-7Qx2";

fn slipway_bin() -> PathBuf {
    #[allow(deprecated)]
    assert_cmd::cargo::cargo_bin("slipway")
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

#[test]
fn the_committed_pipeline_is_what_slipway_writes_and_valid_gitlab_ci() {
    let example = Path::new(EXAMPLE);
    let pipeline = std::fs::read_to_string(example.join(".gitlab-ci.yml")).unwrap();
    assert_valid(&pipeline, "examples/reference-system/.gitlab-ci.yml");
    let own = std::fs::read_to_string(example.join("ci/reference.yml")).unwrap();
    assert_valid(&own, "examples/reference-system/ci/reference.yml");
    assert!(
        pipeline.contains("deploy_with: terraform")
            && pipeline.contains("terraform_dir: infra/terraform"),
        "{pipeline}"
    );
    // The check job's own command, with the file named (in this repository
    // the default is the repository's top, not the example's).
    let check = pipeline
        .lines()
        .find_map(|l| l.trim().strip_prefix("- slipway ci gitlab"))
        .expect("the slipway-ci-check job");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("slipway ci gitlab{check} --out .gitlab-ci.yml"))
        .current_dir(example)
        .env(
            "PATH",
            format!(
                "{}:{}",
                slipway_bin().parent().unwrap().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env_remove("SLIPWAY_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the committed .gitlab-ci.yml is stale: run `{}` in examples/reference-system\n{}{}",
        format_args!(
            "slipway ci gitlab{} --out .gitlab-ci.yml",
            check.trim_end_matches(" --check")
        ),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `local/fake_model_server.py` on a free port, stopped when dropped.
struct ModelServer {
    child: Child,
    url: String,
}

impl ModelServer {
    fn start() -> ModelServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .arg(Path::new(EXAMPLE).join("local/fake_model_server.py"))
            .args(["--port", &port.to_string(), "--api-key", MODEL_KEY])
            .args(["--slow-seconds", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the fake model server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the fake model server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        ModelServer {
            child,
            url: format!("http://127.0.0.1:{port}/v1"),
        }
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `local/run` with the test's moto (through the recording proxy) and model server.
struct Scene<'a> {
    work: &'a Path,
    proxy: &'a Proxy,
    model: &'a ModelServer,
}

impl Scene<'_> {
    fn run(&self, pipeline: &str) -> (bool, String) {
        let mut cmd = Command::new("python3");
        cmd.arg(Path::new(EXAMPLE).join("local/run"))
            .arg("--work")
            .arg(self.work)
            .args(["--pipeline", pipeline])
            .args(["--aws-endpoint", &self.proxy.url])
            .args(["--model-url", &self.model.url, "--model-key", MODEL_KEY])
            .arg("--slipway")
            .arg(slipway_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") || k.starts_with("SLIPWAY_") && k != "SLIPWAY_LIVE_TESTS" {
                cmd.env_remove(k);
            }
        }
        let out = cmd.output().expect("python3 runs local/run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn artifact(&self, job: &str, rel: &str) -> PathBuf {
        self.work
            .join("project/.gitlab-ci-local/artifacts")
            .join(job)
            .join(rel)
    }
}

/// The AWS CLI against moto in the reference system's region.
fn aws(endpoint: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("aws")
        .args(args)
        .args([
            "--endpoint-url",
            endpoint,
            "--region",
            REGION,
            "--output",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIAREFERENCETEST001")
        .env("AWS_SECRET_ACCESS_KEY", "reference-test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI runs");
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn get_item(endpoint: &str, table: &str, key: &str, value: &str) -> serde_json::Value {
    aws(
        endpoint,
        &[
            "dynamodb",
            "get-item",
            "--table-name",
            table,
            "--consistent-read",
            "--key",
            &format!("{{\"{key}\": {{\"S\": \"{value}\"}}}}"),
        ],
    )["Item"]
        .clone()
}

fn passed(log: &str, job: &str) -> bool {
    log.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("PASS") && l.split_whitespace().last() == Some(job)
    })
}

fn failed(log: &str, job: &str) -> bool {
    log.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("FAIL") && l.split_whitespace().last() == Some(job)
    })
}

/// The Lambda calls that change something, by path (`/2015-03-31/functions/NAME/…`).
fn lambda_writes(proxy: &Proxy) -> Vec<String> {
    proxy
        .writes()
        .into_iter()
        .filter(|w| w.is_lambda())
        .map(|w| format!("{} {}", w.method, w.path))
        .collect()
}

#[test]
fn the_reference_scene_deploys_proves_serves_and_watches_the_system() {
    if std::env::var("SLIPWAY_LIVE_TESTS").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set SLIPWAY_LIVE_TESTS=1 to run the reference scene (its build takes orjson from the configured package index)"
        );
        return;
    }
    if !on_path("gitlab-ci-local") {
        eprintln!(
            "skipping: gitlab-ci-local is not on PATH (`.ci/run` installs the pinned one: `cd .ci/npm && npm ci`, then .ci/npm/node_modules/.bin on PATH; and Debian's rsync)"
        );
        return;
    }
    if !on_path("terraform") {
        eprintln!(
            "skipping: terraform is not on PATH (Terraform 1.9 or later; .ci/run checks for it)"
        );
        return;
    }
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let model = ModelServer::start();
    let work = tempfile::tempdir().unwrap();
    let scene = Scene {
        work: work.path(),
        proxy: &proxy,
        model: &model,
    };

    // ---- the first push and the night's schedule
    let (ok, log) = scene.run("both");
    assert!(ok, "{log}");
    for job in [
        "slipway-build",
        "slipway-ci-check",
        "slipway-test",
        "slipway-scan",
        "slipway-deploy",
        "reference-traffic",
        "slipway-drift",
    ] {
        assert!(passed(&log, job), "{job} did not pass:\n{log}");
    }
    // Built, signed and checked before anything reached AWS.
    for f in FUNCTIONS {
        assert!(
            scene
                .artifact("slipway-build", &format!("dist/{f}/{f}.zip.sig"))
                .is_file(),
            "{f} was not signed"
        );
        assert!(
            log.contains(&format!("passed  sshsig          {f}.zip.sig")),
            "{f}'s signature was not checked:\n{log}"
        );
    }
    assert!(
        log.contains("> Ran ")
            && log
                .lines()
                .any(|l| l.contains("slipway-test") && l.trim_end().ends_with("> OK")),
        "the unit tests ran and passed:\n{log}"
    );
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(work.path().join("keys/signing")).unwrap());
    assert!(!log.contains(&key[..40]), "a log shows the signing key");
    assert!(
        log.contains("Welcome. What would you like to know?"),
        "the smoke invoke ran the assistant:\n{log}"
    );
    assert!(
        log.contains(
            "report: built for another architecture than this x86_64 runner, not invoked here"
        ) || !cfg!(target_arch = "x86_64"),
        "{log}"
    );
    assert!(
        log.contains("gate at high: nothing at or above it"),
        "{log}"
    );
    assert!(log.contains("Apply complete!"), "{log}");
    assert!(log.contains("verified: every check passed"), "{log}");
    assert!(log.contains("no drift"), "{log}");
    assert!(
        log.contains("No changes."),
        "the scheduled plan sees what was applied:\n{log}"
    );
    // Credentials came from the ID token, exchanged at moto's STS.
    assert!(
        proxy
            .seen()
            .iter()
            .any(|s| s.body_start.contains("AssumeRoleWithWebIdentity")),
        "no web identity exchange"
    );
    // Every live function runs exactly the bytes the build's manifest names.
    for f in FUNCTIONS {
        let live = aws(&moto.url, &["lambda", "get-function", "--function-name", f]);
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(scene.artifact("slipway-build", &format!("dist/{f}/manifest.json")))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            live["Configuration"]["CodeSha256"], manifest["artifact"]["code_sha256"],
            "{f}"
        );
    }

    // ---- the traffic, seen from AWS's side
    let traffic: serde_json::Value = serde_json::from_slice(
        &std::fs::read(scene.artifact("reference-traffic", "reference-traffic.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(traffic["failed"], serde_json::json!([]), "{traffic}");
    for line in [
        "ok  POST /items creates an item (201)",
        "ok  GET /items/{id} reads it back through the API",
        "ok  a change delivered twice is applied once (quantity 3 + 5 = 8)",
        "ok  the poison message is in the dead-letter queue",
        "ok  the CSV rows are in the table",
        "ok  the assistant speaks the model's answer",
        "ok  a slow model gets the spoken fallback within Alexa's 8 s",
    ] {
        assert!(log.contains(line), "{line}:\n{log}");
    }
    let run_id = traffic["run_id"].as_str().unwrap();
    let item_id = traffic["item_id"].as_str().unwrap();
    let item = get_item(&moto.url, "items", "id", item_id);
    assert_eq!(
        item["quantity"]["N"], "8",
        "the twice-delivered change applied once: {item}"
    );
    let markers = aws(
        &moto.url,
        &["dynamodb", "scan", "--table-name", "item-changes"],
    );
    let ours: Vec<_> = markers["Items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["change_id"]["S"] == format!("traffic-{run_id}"))
        .collect();
    assert_eq!(ours.len(), 1, "{markers}");
    let dlq_url = aws(
        &moto.url,
        &["sqs", "get-queue-url", "--queue-name", "item-changes-dlq"],
    )["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let dlq = aws(
        &moto.url,
        &[
            "sqs",
            "receive-message",
            "--queue-url",
            &dlq_url,
            "--max-number-of-messages",
            "10",
            "--visibility-timeout",
            "0",
        ],
    );
    assert!(
        dlq["Messages"].as_array().is_some_and(|m| m
            .iter()
            .any(|m| m["Body"] == format!("not a change request {run_id}"))),
        "{dlq}"
    );
    for (row, present) in [(1, true), (2, true), (3, false), (4, true)] {
        let item = get_item(&moto.url, "items", "id", &format!("csv-{run_id}-{row}"));
        assert_eq!(!item.is_null(), present, "CSV row {row}: {item}");
    }

    // ---- the same commit again: nothing to deploy
    proxy.clear();
    let (ok, log) = scene.run("push");
    assert!(ok, "{log}");
    assert!(
        log.contains("No changes.") || log.contains("0 added, 0 changed, 0 destroyed"),
        "{log}"
    );
    let writes = lambda_writes(&proxy);
    assert!(
        writes.is_empty(),
        "a second run wrote to Lambda: {writes:?}"
    );

    // ---- one function changes: only it is deployed again
    let app = work.path().join("project/functions/items_api/app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, text.replace("DEFAULT_PAGE = 25", "DEFAULT_PAGE = 20")).unwrap();
    proxy.clear();
    let (ok, log) = scene.run("push");
    assert!(ok, "{log}");
    let writes = lambda_writes(&proxy);
    assert!(
        writes
            .iter()
            .any(|w| w.contains("/functions/items-api/code")),
        "items-api's code was not updated: {writes:?}"
    );
    assert!(
        writes.iter().all(|w| w.contains("/functions/items-api")),
        "another function was deployed: {writes:?}"
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(scene.artifact("slipway-build", "dist/items-api/manifest.json")).unwrap(),
    )
    .unwrap();
    let live = aws(
        &moto.url,
        &["lambda", "get-function", "--function-name", "items-api"],
    );
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        manifest["artifact"]["code_sha256"]
    );

    // ---- someone changes a function by hand: the schedule names it and the setting
    aws(
        &moto.url,
        &[
            "lambda",
            "update-function-configuration",
            "--function-name",
            "change-consumer",
            "--memory-size",
            "512",
        ],
    );
    let (ok, log) = scene.run("schedule");
    assert!(!ok, "drift passed:\n{log}");
    assert!(failed(&log, "slipway-drift"), "{log}");
    assert!(log.contains("change-consumer: drift"), "{log}");
    assert!(log.contains("memory"), "{log}");
    assert!(
        !passed(&log, "slipway-deploy"),
        "a schedule deployed:\n{log}"
    );
    assert!(!log.contains(MODEL_KEY), "a log shows the model's API key");
}
