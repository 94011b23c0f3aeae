//! `slipway deploy`, `drift`, `promote`, `rollback` and `remove` against a real
//! moto server, with a fault-injecting proxy in between where the test says so.

use std::process::Output;

use serde_json::Value;

use crate::support_aws::*;

use crate::support::{Project, assert_ok, json_stdout};

const APP_V1: &str = "def handler(event, context):\n    return {\"version\": 1}\n";
const APP_V2: &str = "def handler(event, context):\n    return {\"version\": 2}\n";

fn project(extra: &str) -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        format!(
            "[defaults]\nruntime = \"python3.12\"\nrole = \"{ROLE}\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nmemory = 256\ntimeout = 10\npublish = true\nalias = \"live\"\nenvironment = {{ STAGE = \"test\" }}\n{extra}"
        ),
    );
    p.write("src/app.py", APP_V1);
    p
}

/// Writes the handler and builds it with `slipway build`.
fn build(p: &Project, app: &str) -> slipway_artifact::Manifest {
    p.write("src/app.py", app);
    slipway_build(p, "hello")
}

/// Runs a command, checks its exit code, and keeps its output for the credentials check.
fn run(cmd: &mut assert_cmd::Command, code: i32, transcript: &mut Vec<u8>) -> Output {
    let out = cmd.output().expect("slipway runs");
    transcript.extend_from_slice(&out.stdout);
    transcript.extend_from_slice(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn versions(moto: &Moto, name: &str) -> Vec<String> {
    let v = moto.aws(&[
        "lambda",
        "list-versions-by-function",
        "--function-name",
        name,
    ]);
    v["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Version"].as_str().unwrap().to_string())
        .filter(|v| v != "$LATEST")
        .collect()
}

fn alias_version(moto: &Moto, name: &str, alias: &str) -> String {
    moto.aws(&[
        "lambda",
        "get-alias",
        "--function-name",
        name,
        "--name",
        alias,
    ])["FunctionVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn assert_no_credentials(transcript: &[u8], p: &Project) {
    let text = String::from_utf8_lossy(transcript);
    assert!(
        !text.contains(SECRET_KEY),
        "the secret key leaked into output"
    );
    assert!(
        !text.contains(ACCESS_KEY),
        "the access key leaked into output: {}",
        text.lines()
            .filter(|l| l.contains(ACCESS_KEY))
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    );
    for file in all_files(&p.join("dist")) {
        let content = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(
            !content.contains(SECRET_KEY),
            "secret key in {}",
            file.display()
        );
        assert!(
            !content.contains(ACCESS_KEY),
            "access key in {}",
            file.display()
        );
    }
}

#[test]
fn deploy_creates_proves_then_changes_nothing_then_publishes_one_version() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    let v1 = build(&p, APP_V1);
    let mut transcript = Vec::new();

    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy", "--format", "json", "-vvv"]),
        0,
        &mut transcript,
    );
    let report = json_stdout(&out);
    let f = &report["functions"][0];
    assert_eq!(f["action"], "created");
    assert_eq!(f["version"], "1");
    assert_eq!(f["code_sha256"], v1.artifact.code_sha256.as_str());

    // Read back with the AWS CLI: what runs is what was built.
    let live = moto.aws(&["lambda", "get-function", "--function-name", "hello"]);
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        v1.artifact.code_sha256.as_str()
    );
    assert_eq!(live["Configuration"]["MemorySize"], 256);
    assert_eq!(live["Configuration"]["Role"], ROLE);
    assert_eq!(
        live["Configuration"]["Environment"]["Variables"]["STAGE"],
        "test"
    );
    assert_eq!(alias_version(&moto, "hello", "live"), "1");
    // …and with the AWS SDK.
    let sdk_code = sdk_code_sha256(&proxy.url, "hello", Some("live"));
    assert_eq!(sdk_code, v1.artifact.code_sha256);

    let record: Value =
        serde_json::from_slice(&std::fs::read(p.join("dist/hello/deploy.json")).unwrap()).unwrap();
    assert_eq!(record["code_sha256"], v1.artifact.code_sha256.as_str());
    assert_eq!(record["version"], "1");
    assert_eq!(record["alias"], "live");
    assert_eq!(
        record["function_arn"],
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:hello")
    );
    assert!(record["deployed_at"].as_str().unwrap().ends_with('Z'));

    // The same artifact again: no write call, no new version. Logged at the
    // SDK's most verbose level, which must still hold no credentials.
    proxy.clear();
    let out = run(
        slipway_aws(&p, &proxy.url)
            .env("SLIPWAY_LOG", "trace")
            .args(["deploy"]),
        0,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("hello: up to date"));
    assert!(
        !proxy.seen().is_empty(),
        "the deploy read nothing through the proxy"
    );
    assert_eq!(
        proxy.writes().len(),
        0,
        "writes on a no-op deploy: {:?}",
        proxy.writes()
    );
    assert_eq!(versions(&moto, "hello"), ["1"]);

    // Changed source: exactly one new version, and the alias moves to it.
    let v2 = build(&p, APP_V2);
    let dotenv = p.join("deploy.env");
    let out = run(
        slipway_aws(&p, &proxy.url)
            .args(["deploy", "hello", "--format", "json", "--dotenv"])
            .arg(&dotenv),
        0,
        &mut transcript,
    );
    let f = &json_stdout(&out)["functions"][0];
    assert_eq!(f["action"], "updated");
    assert_eq!(f["version"], "2");
    assert_eq!(f["previous_version"], "1");
    assert_eq!(versions(&moto, "hello"), ["1", "2"]);
    assert_eq!(alias_version(&moto, "hello", "live"), "2");
    let live = moto.aws(&[
        "lambda",
        "get-function",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        v2.artifact.code_sha256.as_str()
    );
    let env = std::fs::read_to_string(&dotenv).unwrap();
    assert!(env.contains("SLIPWAY_HELLO_VERSION=2\n"), "{env}");
    assert!(
        env.contains(&format!(
            "SLIPWAY_HELLO_CODE_SHA256={}\n",
            v2.artifact.code_sha256
        )),
        "{env}"
    );

    transcript.extend_from_slice(env.as_bytes());
    assert_no_credentials(&transcript, &p);
}

/// Reads `CodeSha256` with the AWS SDK, as a second independent reader.
fn sdk_code_sha256(endpoint: &str, name: &str, qualifier: Option<&str>) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let creds =
            aws_sdk_lambda::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(creds)
            .build();
        let client = aws_sdk_lambda::Client::from_conf(config);
        let out = client
            .get_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .expect("GetFunction");
        out.configuration()
            .unwrap()
            .code_sha256()
            .unwrap()
            .to_string()
    })
}

#[test]
fn drift_reports_out_of_band_changes_and_fix_reverts_them() {
    let moto = Moto::start().with_role();
    let p = project("");
    let v1 = build(&p, APP_V1);
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &moto.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        0,
        &mut transcript,
    );

    // Someone edits the function with the AWS CLI: code and configuration.
    let other = p.join("other.zip");
    std::fs::write(&other, make_zip("print('patched in the console')\n")).unwrap();
    moto.aws(&[
        "lambda",
        "update-function-code",
        "--function-name",
        "hello",
        "--zip-file",
        &format!("fileb://{}", other.display()),
    ]);
    moto.aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        "hello",
        "--memory-size",
        "512",
        "--environment",
        "Variables={STAGE=hacked,EXTRA=1}",
    ]);

    let out = run(
        slipway_aws(&p, &moto.url).args(["drift", "--format", "json"]),
        1,
        &mut transcript,
    );
    let report = json_stdout(&out);
    assert_eq!(report["ok"], false);
    let fields: Vec<&str> = report["functions"][0]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"code_sha256"), "{fields:?}");
    assert!(fields.contains(&"memory"), "{fields:?}");
    assert!(fields.contains(&"environment"), "{fields:?}");
    // Environment values may be secrets: only names are reported.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hacked"));

    // `slipway verify --deployed` sees the same drift, beside the file checks.
    let out = run(
        slipway_aws(&p, &moto.url).args(["verify", "--deployed", "--format", "json"]),
        1,
        &mut transcript,
    );
    let verify = json_stdout(&out);
    assert_eq!(verify["ok"], false);
    assert_eq!(
        verify["functions"][0]["ok"], true,
        "the built files are fine"
    );
    assert_eq!(verify["deployed"]["ok"], false);

    let human = run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        1,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&human.stdout).contains("memory: expected 256, live 512"));

    run(
        slipway_aws(&p, &moto.url).args(["drift", "--fix"]),
        0,
        &mut transcript,
    );
    run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        0,
        &mut transcript,
    );
    run(
        slipway_aws(&p, &moto.url).args(["verify", "--deployed"]),
        0,
        &mut transcript,
    );
    let live = moto.aws(&["lambda", "get-function", "--function-name", "hello"]);
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        v1.artifact.code_sha256.as_str()
    );
    assert_eq!(live["Configuration"]["MemorySize"], 256);
    // The fix restored $LATEST to what version 1 already holds: no new version.
    assert_eq!(versions(&moto, "hello"), ["1"]);
    assert_no_credentials(&transcript, &p);
}

fn make_zip(app: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.zip");
    slipway_package::write_zip(
        vec![slipway_package::ZipEntry {
            path: "app.py".into(),
            executable: false,
            data: slipway_package::EntryData::Bytes(app.as_bytes().to_vec()),
            origin: slipway_artifact::EntryOrigin::Source,
        }],
        &path,
        &slipway_package::ZipOptions::default(),
    )
    .unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn throttling_conflicts_5xx_and_dropped_connections_still_converge_on_one_version() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    let v1 = build(&p, APP_V1);
    proxy.inject(
        Matching::AnyLambda,
        &[Fault::Throttle, Fault::ServerError, Fault::DropBefore],
    );
    proxy.inject(
        Matching::LambdaWrite,
        &[
            Fault::Throttle,
            Fault::Conflict,
            Fault::ServerError,
            Fault::DropBefore,
            Fault::DropAfter,
            Fault::Conflict,
            Fault::DropAfter,
        ],
    );
    let mut transcript = Vec::new();
    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy", "--format", "json"]),
        0,
        &mut transcript,
    );
    let faulted = proxy.seen().iter().filter(|s| s.fault.is_some()).count();
    assert_eq!(
        faulted,
        10,
        "every injected fault was hit: {:?}",
        proxy.seen()
    );
    assert_eq!(json_stdout(&out)["functions"][0]["version"], "1");
    assert_eq!(versions(&moto, "hello"), ["1"]);
    assert_eq!(alias_version(&moto, "hello", "live"), "1");
    let live = moto.aws(&[
        "lambda",
        "get-function",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        v1.artifact.code_sha256.as_str()
    );

    // And a changed artifact under the same faults publishes exactly one more.
    build(&p, APP_V2);
    proxy.inject(
        Matching::LambdaWrite,
        &[
            Fault::Conflict,
            Fault::DropAfter,
            Fault::Throttle,
            Fault::DropAfter,
            Fault::ServerError,
            Fault::DropAfter,
        ],
    );
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    assert_eq!(versions(&moto, "hello"), ["1", "2"]);
    assert_eq!(alias_version(&moto, "hello", "live"), "2");
}

#[test]
fn a_retired_runtime_is_refused_before_any_call() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    p.write(
        "slipway.toml",
        format!("[functions.old]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.9\"\nrole = \"{ROLE}\"\n"),
    );
    slipway_build(&p, "old");
    let out = slipway_aws(&p, &proxy.url)
        .args(["deploy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("python3.9"), "{err}");
    assert!(err.contains("python3.13"), "the successor is named: {err}");
    assert!(
        proxy.seen().is_empty(),
        "calls were made: {:?}",
        proxy.seen()
    );
}

#[test]
fn a_canary_must_be_a_share_strictly_between_0_and_100() {
    let p = project("");
    for bad in ["0", "100", "150", "ten"] {
        let out = slipway_aws(&p, "http://127.0.0.1:9")
            .args(["deploy", "--canary", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--canary {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        let why = if bad == "ten" {
            "`ten` is not a number"
        } else {
            "strictly between 0 and 100"
        };
        assert!(err.contains(why), "--canary {bad}: {err}");
    }
}

#[test]
fn a_missing_region_is_an_error_not_a_default() {
    let p = project("");
    build(&p, APP_V1);
    let out = slipway_aws(&p, "http://127.0.0.1:9")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", p.join("no-config"))
        .args(["deploy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no AWS region configured"));
}

#[test]
fn a_tampered_zip_never_leaves_the_machine() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    build(&p, APP_V1);
    let zip = p.join("dist/hello/hello.zip");
    let mut bytes = std::fs::read(&zip).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&zip, bytes).unwrap();
    let out = slipway_aws(&p, &proxy.url)
        .args(["deploy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not match its manifest") || err.contains("failed verification"),
        "{err}"
    );
    // The one check that hashes the zip names it and what it found.
    let flat = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("failed verification"), "{err}");
    assert!(flat.contains("hello.zip has SHA-256"), "{err}");
    assert!(proxy.seen().is_empty());
}

fn triggers_toml(queue_arn: &str) -> String {
    format!(
        "\n[[functions.hello.sqs]]\nqueue_arn = \"{queue_arn}\"\nbatch_size = 5\nreport_batch_item_failures = true\nmaximum_concurrency = 4\n\n[[functions.hello.s3]]\nbucket = \"slipway-uploads\"\nevents = [\"s3:ObjectCreated:*\"]\nprefix = \"incoming/\"\nsuffix = \".csv\"\n\n[functions.hello.url]\ncors = {{ allow_origins = [\"https://example.test\"] }}\n"
    )
}

fn assert_no_lambda_notification(moto: &Moto, bucket: &str) {
    let n = moto.aws(&[
        "s3api",
        "get-bucket-notification-configuration",
        "--bucket",
        bucket,
    ]);
    assert!(
        n["LambdaFunctionConfigurations"]
            .as_array()
            .is_none_or(|l| l.is_empty()),
        "{n}"
    );
}

fn alias_arn() -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:hello:live")
}

#[test]
fn triggers_are_created_checked_and_removed_with_the_file() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    moto.aws(&[
        "sqs",
        "create-queue",
        "--queue-name",
        "orders",
        "--attributes",
        "VisibilityTimeout=60",
    ]);
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:orders");
    moto.aws(&["s3api", "create-bucket", "--bucket", "slipway-uploads"]);
    let p = project(&triggers_toml(&queue_arn));
    build(&p, APP_V1);
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &proxy.url)
            .args(["deploy", "--dotenv"])
            .arg(p.join("deploy.env")),
        0,
        &mut transcript,
    );
    // The dotenv report carries the Function URL Lambda gave the alias.
    let url = moto.aws(&[
        "lambda",
        "get-function-url-config",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    let env = std::fs::read_to_string(p.join("deploy.env")).unwrap();
    assert!(
        env.contains(&format!(
            "SLIPWAY_HELLO_FUNCTION_URL={}\n",
            url["FunctionUrl"].as_str().unwrap()
        )),
        "{env}"
    );

    // SQS: one mapping on the alias, with the settings from slipway.toml.
    let mappings = moto.aws(&[
        "lambda",
        "list-event-source-mappings",
        "--function-name",
        &alias_arn(),
    ]);
    let m = &mappings["EventSourceMappings"].as_array().unwrap();
    assert_eq!(m.len(), 1, "{mappings}");
    assert_eq!(m[0]["EventSourceArn"], queue_arn.as_str());
    assert_eq!(m[0]["BatchSize"], 5);
    assert_eq!(m[0]["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert_eq!(m[0]["ScalingConfig"]["MaximumConcurrency"], 4);

    // S3: the notification, and a permission scoped to the bucket and the account.
    let n = moto.aws(&[
        "s3api",
        "get-bucket-notification-configuration",
        "--bucket",
        "slipway-uploads",
    ]);
    let lambdas = n["LambdaFunctionConfigurations"].as_array().unwrap();
    assert_eq!(lambdas.len(), 1, "{n}");
    assert_eq!(lambdas[0]["LambdaFunctionArn"], alias_arn().as_str());
    assert_eq!(lambdas[0]["Events"][0], "s3:ObjectCreated:*");
    let rules = lambdas[0]["Filter"]["Key"]["FilterRules"].to_string();
    assert!(
        rules.contains("incoming/") && rules.contains(".csv"),
        "{rules}"
    );
    let policy = moto.aws(&[
        "lambda",
        "get-policy",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    let policy: Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    let statement = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Principal"]["Service"] == "s3.amazonaws.com")
        .unwrap_or_else(|| panic!("no S3 statement: {policy}"))
        .clone();
    assert_eq!(statement["Action"], "lambda:InvokeFunction");
    assert_eq!(
        statement["Condition"]["ArnLike"]["AWS:SourceArn"],
        "arn:aws:s3:::slipway-uploads"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["AWS:SourceAccount"],
        ACCOUNT
    );

    // Function URL: AWS_IAM unless written out otherwise.
    let url = moto.aws(&[
        "lambda",
        "get-function-url-config",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    assert_eq!(url["AuthType"], "AWS_IAM");
    assert_eq!(url["Cors"]["AllowOrigins"][0], "https://example.test");

    // Nothing changed: no write call, and drift agrees.
    proxy.clear();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    assert_eq!(proxy.writes().len(), 0, "{:?}", proxy.writes());
    run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        0,
        &mut transcript,
    );

    // Out-of-band: the batch size changes; drift sees it, --fix puts it back.
    let uuid = m[0]["UUID"].as_str().unwrap();
    moto.aws(&[
        "lambda",
        "update-event-source-mapping",
        "--uuid",
        uuid,
        "--batch-size",
        "9",
    ]);
    let out = run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        1,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("sqs {queue_arn}")));
    run(
        slipway_aws(&p, &moto.url).args(["drift", "--fix"]),
        0,
        &mut transcript,
    );
    let mappings = moto.aws(&[
        "lambda",
        "list-event-source-mappings",
        "--function-name",
        &alias_arn(),
    ]);
    assert_eq!(mappings["EventSourceMappings"][0]["BatchSize"], 5);

    // Triggers deleted from the file are deleted on AWS.
    p.write(
        "slipway.toml",
        std::fs::read_to_string(p.join("slipway.toml"))
            .unwrap()
            .replace(&triggers_toml(&queue_arn), ""),
    );
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    let mappings = moto.aws(&[
        "lambda",
        "list-event-source-mappings",
        "--function-name",
        &alias_arn(),
    ]);
    assert_eq!(
        mappings["EventSourceMappings"].as_array().unwrap().len(),
        0,
        "{mappings}"
    );
    assert_no_lambda_notification(&moto, "slipway-uploads");
    let (_, policy) = moto.aws_succeeds(&[
        "lambda",
        "get-policy",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    assert!(
        !policy.contains("s3.amazonaws.com"),
        "permission left behind: {policy}"
    );
    let (url_left, _) = moto.aws_succeeds(&[
        "lambda",
        "get-function-url-config",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    assert!(!url_left, "the Function URL is still there");
    run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        0,
        &mut transcript,
    );
    assert_no_credentials(&transcript, &p);
}

#[test]
fn a_queue_that_hides_messages_too_briefly_is_refused() {
    let moto = Moto::start().with_role();
    moto.aws(&[
        "sqs",
        "create-queue",
        "--queue-name",
        "short",
        "--attributes",
        "VisibilityTimeout=5",
    ]);
    moto.aws(&["s3api", "create-bucket", "--bucket", "slipway-uploads"]);
    let p = project(&triggers_toml(&format!(
        "arn:aws:sqs:{REGION}:{ACCOUNT}:short"
    )));
    build(&p, APP_V1);
    let out = slipway_aws(&p, &moto.url)
        .args(["deploy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("visibility timeout of 5s"), "{err}");
    assert!(err.contains("timeout of 10s"), "{err}");
}

#[test]
fn remove_asks_first_then_deletes_the_function_and_its_triggers() {
    let moto = Moto::start().with_role();
    moto.aws(&[
        "sqs",
        "create-queue",
        "--queue-name",
        "orders",
        "--attributes",
        "VisibilityTimeout=60",
    ]);
    moto.aws(&["s3api", "create-bucket", "--bucket", "slipway-uploads"]);
    let p = project(&triggers_toml(&format!(
        "arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
    )));
    build(&p, APP_V1);
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &moto.url).args(["deploy"]),
        0,
        &mut transcript,
    );

    let out = run(
        slipway_aws(&p, &moto.url).args(["remove", "hello"]),
        2,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(
        versions(&moto, "hello"),
        ["1"],
        "removed without confirmation"
    );

    let out = run(
        slipway_aws(&p, &moto.url).args(["remove", "hello", "--yes", "--format", "json"]),
        0,
        &mut transcript,
    );
    assert_eq!(json_stdout(&out)["existed"], true);
    let (exists, _) = moto.aws_succeeds(&["lambda", "get-function", "--function-name", "hello"]);
    assert!(!exists, "the function is still there");
    let mappings = moto.aws(&["lambda", "list-event-source-mappings"]);
    assert_eq!(
        mappings["EventSourceMappings"].as_array().unwrap().len(),
        0,
        "{mappings}"
    );
    assert_no_lambda_notification(&moto, "slipway-uploads");
    // A second remove has nothing to do.
    let out = run(
        slipway_aws(&p, &moto.url).args(["remove", "hello", "--yes", "--format", "json"]),
        0,
        &mut transcript,
    );
    assert_eq!(json_stdout(&out)["existed"], false);
}

#[test]
fn a_canary_splits_traffic_until_promoted_or_rolled_back() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    build(&p, APP_V1);
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &moto.url).args(["deploy"]),
        0,
        &mut transcript,
    );

    let weights = |moto: &Moto| {
        let a = moto.aws(&[
            "lambda",
            "get-alias",
            "--function-name",
            "hello",
            "--name",
            "live",
        ]);
        (
            a["FunctionVersion"].as_str().unwrap().to_string(),
            a["RoutingConfig"]["AdditionalVersionWeights"].clone(),
        )
    };

    build(&p, APP_V2);
    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy", "--canary", "10", "--format", "json"]),
        0,
        &mut transcript,
    );
    let f = &json_stdout(&out)["functions"][0];
    assert_eq!(f["version"], "2");
    assert_eq!(f["canary_weight"], 0.1);
    let (on, routing) = weights(&moto);
    assert_eq!(on, "1", "the alias stays on the old version");
    assert_eq!(routing["2"], 0.1);
    // The same canary again changes nothing, and a canary in progress is not drift.
    proxy.clear();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy", "--canary", "10"]),
        0,
        &mut transcript,
    );
    assert_eq!(proxy.writes().len(), 0, "{:?}", proxy.writes());
    run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        0,
        &mut transcript,
    );

    let out = run(
        slipway_aws(&p, &moto.url).args(["promote", "hello"]),
        0,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("all traffic to version 2"));
    let (on, routing) = weights(&moto);
    assert_eq!(on, "2");
    assert!(
        routing.as_object().is_none_or(|r| r.is_empty()),
        "{routing}"
    );

    build(
        &p,
        "def handler(event, context):\n    return {\"version\": 3}\n",
    );
    run(
        slipway_aws(&p, &moto.url).args(["deploy", "--canary", "25"]),
        0,
        &mut transcript,
    );
    assert_eq!(weights(&moto).1["3"], 0.25);
    let out = run(
        slipway_aws(&p, &moto.url).args(["rollback", "hello", "--format", "json"]),
        0,
        &mut transcript,
    );
    assert_eq!(json_stdout(&out)["version"], "2");
    assert_eq!(json_stdout(&out)["dropped_version"], "3");
    let (on, routing) = weights(&moto);
    assert_eq!(on, "2");
    assert!(
        routing.as_object().is_none_or(|r| r.is_empty()),
        "{routing}"
    );

    let out = run(
        slipway_aws(&p, &moto.url).args(["promote", "hello"]),
        2,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no canary in progress"));
    assert_eq!(versions(&moto, "hello"), ["1", "2", "3"]);
}

/// Kills `slipway deploy` with SIGKILL right after request `index` reached
/// moto (its answer never arrives), then deploys again.
fn kill_at(proxy: &Proxy, p: &Project, index: usize) -> bool {
    proxy.hold_at(index);
    let mut child = slipway_aws_process(p, &proxy.url)
        .arg("deploy")
        .spawn()
        .unwrap();
    let held = proxy.wait_holding(std::time::Duration::from_secs(60));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    proxy.release();
    if !held {
        assert!(
            status.success() || status.code().is_none(),
            "the deploy failed before request {index}"
        );
        return false;
    }
    true
}

fn assert_converged(
    moto: &Moto,
    p: &Project,
    proxy: &Proxy,
    expected_versions: &[&str],
    code: &str,
) {
    let mut transcript = Vec::new();
    run(
        slipway_aws(p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    assert_eq!(
        versions(moto, "hello"),
        expected_versions,
        "duplicate or missing versions"
    );
    let last = expected_versions.last().unwrap();
    assert_eq!(&alias_version(moto, "hello", "live"), last);
    let live = moto.aws(&[
        "lambda",
        "get-function",
        "--function-name",
        "hello",
        "--qualifier",
        "live",
    ]);
    assert_eq!(live["Configuration"]["CodeSha256"], code);
    proxy.clear();
    run(
        slipway_aws(p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    assert_eq!(
        proxy.writes().len(),
        0,
        "not converged: {:?}",
        proxy.writes()
    );
}

#[test]
fn a_deploy_killed_at_any_call_converges_on_rerun_without_duplicate_versions() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    let v1 = build(&p, APP_V1);

    // How many calls a first deploy makes, through the same proxy.
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    let create_calls = proxy.seen().len();
    assert!(create_calls >= 6, "{:?}", proxy.seen());

    let mut killed = 0;
    for index in 0..create_calls {
        moto.reset();
        proxy.clear();
        if kill_at(&proxy, &p, index) {
            killed += 1;
        }
        assert_converged(&moto, &p, &proxy, &["1"], &v1.artifact.code_sha256);
    }
    assert_eq!(killed, create_calls, "every create stage was interrupted");

    // An update: version 1 is live, version 2 is interrupted at every call.
    moto.reset();
    build(&p, APP_V1);
    run(
        slipway_aws(&p, &moto.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    let v2 = build(&p, APP_V2);
    proxy.clear();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    let update_calls = proxy.seen().len();
    eprintln!(
        "interrupted a create at each of {create_calls} calls and an update at each of {update_calls} calls"
    );
    for index in 0..update_calls {
        moto.reset();
        build(&p, APP_V1);
        run(
            slipway_aws(&p, &moto.url).args(["deploy"]),
            0,
            &mut transcript,
        );
        build(&p, APP_V2);
        proxy.clear();
        assert!(kill_at(&proxy, &p, index), "stage {index} not reached");
        assert_converged(&moto, &p, &proxy, &["1", "2"], &v2.artifact.code_sha256);
    }
}

#[test]
fn code_goes_through_s3_under_its_digest_once() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    moto.aws(&["s3api", "create-bucket", "--bucket", "slipway-artifacts"]);
    let p = project("s3_bucket = \"slipway-artifacts\"\ns3_prefix = \"lambda/\"\n");
    let v1 = build(&p, APP_V1);
    let mut transcript = Vec::new();
    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy", "--format", "json"]),
        0,
        &mut transcript,
    );
    let key = format!("lambda/hello/{}.zip", v1.artifact.sha256);
    assert_eq!(
        json_stdout(&out)["functions"][0]["s3_location"],
        format!("s3://slipway-artifacts/{key}")
    );
    let head = moto.aws(&[
        "s3api",
        "head-object",
        "--bucket",
        "slipway-artifacts",
        "--key",
        &key,
    ]);
    assert_eq!(head["ContentLength"], v1.artifact.zipped_size);
    let live = moto.aws(&["lambda", "get-function", "--function-name", "hello"]);
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        v1.artifact.code_sha256.as_str()
    );

    // The function is changed behind slipway's back; the redeploy finds the
    // object already in S3 and only points Lambda at it again.
    let other = p.join("other.zip");
    std::fs::write(&other, make_zip("x = 1\n")).unwrap();
    moto.aws(&[
        "lambda",
        "update-function-code",
        "--function-name",
        "hello",
        "--zip-file",
        &format!("fileb://{}", other.display()),
    ]);
    proxy.clear();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    let puts: Vec<_> = proxy
        .writes()
        .into_iter()
        .filter(|s| !s.is_lambda())
        .collect();
    assert!(puts.is_empty(), "uploaded again: {puts:?}");
    let live = moto.aws(&["lambda", "get-function", "--function-name", "hello"]);
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        v1.artifact.code_sha256.as_str()
    );
}

#[test]
fn the_dependencies_layer_is_published_once_and_attached_first() {
    use slipway_python::testing::{LocalIndex, WheelSpec};
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new("wordlist", "1.0", "py3-none-any")
            .file("wordlist/__init__.py", "WORDS = ['hello']\n"),
    );
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("requirements = \"requirements.txt\"\nlayer = true\n");
    let toml = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    p.write(
        "slipway.toml",
        format!("[python]\nindex_url = \"{}\"\n\n{toml}", index.url()),
    );
    p.write("requirements.txt", "wordlist\n");
    let manifest = build(&p, APP_V1);
    let layer = manifest.layer.expect("a layer was built");
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    let live = moto.aws(&["lambda", "get-function", "--function-name", "hello"]);
    let arn = live["Configuration"]["Layers"][0]["Arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(arn.contains(":layer:hello-dependencies:1"), "{arn}");
    let version = moto.aws(&[
        "lambda",
        "get-layer-version",
        "--layer-name",
        "hello-dependencies",
        "--version-number",
        "1",
    ]);
    assert_eq!(version["Content"]["CodeSha256"], layer.code_sha256.as_str());
    proxy.clear();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    assert_eq!(proxy.writes().len(), 0, "{:?}", proxy.writes());
    let versions = moto.aws(&[
        "lambda",
        "list-layer-versions",
        "--layer-name",
        "hello-dependencies",
    ]);
    assert_eq!(versions["LayerVersions"].as_array().unwrap().len(), 1);
    run(
        slipway_aws(&p, &moto.url).args(["drift"]),
        0,
        &mut transcript,
    );
}

#[test]
fn a_failed_proof_moves_the_alias_back() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    build(&p, APP_V1);
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    let v2 = build(&p, APP_V2);
    // Lambda will seem to run other code for version 2 when slipway checks.
    let code = &v2.artifact.code_sha256;
    let other: String = code.chars().rev().collect();
    proxy.rewrite("Qualifier=2", code, &other);
    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        1,
        &mut transcript,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let err = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(err.contains("the live code is not the built code"), "{err}");
    assert!(err.contains("moved back to version 1"), "{err}");
    assert_eq!(alias_version(&moto, "hello", "live"), "1");
}

#[test]
fn require_signature_deploys_only_artifacts_signed_by_a_trusted_key() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("require_signature = true\n");
    let keygen = |name: &str| {
        let key = p.join(&format!("keys/{name}"));
        let out = p
            .slipway()
            .args([
                "keygen",
                "--type",
                "ed25519",
                "--identity",
                "release@example",
                "--out",
            ])
            .arg(&key)
            .output()
            .unwrap();
        assert_ok(&out);
        key
    };
    let release = keygen("release");
    std::fs::copy(p.join("keys/allowed_signers"), p.join("trusted")).unwrap();
    let intruder = keygen("intruder");
    let trusted = p.join("trusted");
    let mut transcript = Vec::new();

    // Unsigned, and no keys to check with: refused before any call.
    build(&p, APP_V1);
    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        2,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trusted-keys"));
    let out = run(
        slipway_aws(&p, &proxy.url)
            .args(["deploy", "--trusted-keys"])
            .arg(&trusted),
        1,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed verification"));

    // Signed by a key that is not trusted: refused.
    let sign = |key: &std::path::Path| {
        let out = p
            .slipway()
            .args(["build", "--sign", "--key"])
            .arg(key)
            .output()
            .unwrap();
        assert_ok(&out);
    };
    sign(&intruder);
    let out = run(
        slipway_aws(&p, &proxy.url)
            .args(["deploy", "--trusted-keys"])
            .arg(&trusted),
        1,
        &mut transcript,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("failed verification"), "{err}");
    assert!(err.contains("nothing was deployed"), "{err}");
    assert!(
        proxy.seen().is_empty(),
        "AWS was called: {:?}",
        proxy.seen()
    );

    // Signed by the release key: deployed.
    sign(&release);
    run(
        slipway_aws(&p, &proxy.url)
            .args(["deploy", "--trusted-keys"])
            .arg(&trusted),
        0,
        &mut transcript,
    );
    assert_eq!(versions(&moto, "hello"), ["1"]);
}

#[test]
fn roles_are_created_only_when_asked_and_then_minimal() {
    let moto = Moto::with_managed_policies();
    let proxy = Proxy::start(moto.port);
    let p = Project::new();
    p.write(
        "slipway.toml",
        "[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\n",
    );
    build(&p, APP_V1);
    let mut transcript = Vec::new();
    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        2,
        &mut transcript,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("gives it no `role`"));
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());

    run(
        slipway_aws(&p, &proxy.url).args(["deploy", "--create-role"]),
        0,
        &mut transcript,
    );
    let role = moto.aws(&["iam", "get-role", "--role-name", "slipway-hello-exec"]);
    let arn = role["Role"]["Arn"].as_str().unwrap().to_string();
    let trust = role["Role"]["AssumeRolePolicyDocument"].to_string();
    assert!(trust.contains("lambda.amazonaws.com"), "{trust}");
    let attached = moto.aws(&[
        "iam",
        "list-attached-role-policies",
        "--role-name",
        "slipway-hello-exec",
    ]);
    let policies: Vec<&str> = attached["AttachedPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    assert_eq!(policies, ["AWSLambdaBasicExecutionRole"]);
    let inline = moto.aws(&[
        "iam",
        "list-role-policies",
        "--role-name",
        "slipway-hello-exec",
    ]);
    assert_eq!(inline["PolicyNames"].as_array().unwrap().len(), 0);
    let live = moto.aws(&["lambda", "get-function", "--function-name", "hello"]);
    assert_eq!(live["Configuration"]["Role"], arn.as_str());

    proxy.clear();
    run(
        slipway_aws(&p, &proxy.url).args(["deploy", "--create-role"]),
        0,
        &mut transcript,
    );
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
}

#[test]
fn a_concurrent_change_is_reported_not_overwritten() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    build(&p, APP_V1);
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &moto.url).args(["deploy"]),
        0,
        &mut transcript,
    );
    build(&p, APP_V2);
    // Someone else updates the function between slipway's read and its write:
    // Lambda refuses the stale RevisionId.
    proxy.inject(Matching::LambdaWrite, &[Fault::StaleRevision]);
    let out = run(
        slipway_aws(&p, &proxy.url).args(["deploy"]),
        1,
        &mut transcript,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("changed on AWS while slipway was deploying it"),
        "{err}"
    );
    let update = proxy
        .seen()
        .into_iter()
        .find(|s| s.fault.is_some())
        .unwrap();
    assert!(update.path.ends_with("/functions/hello/code"), "{update:?}");
    assert_eq!(
        versions(&moto, "hello"),
        ["1"],
        "nothing was published over the other change"
    );
}

/// A GitLab job gets AWS credentials from its OIDC token: `AWS_ROLE_ARN` and
/// `AWS_WEB_IDENTITY_TOKEN_FILE`, exchanged with STS (moto's, here).
#[test]
fn web_identity_credentials_come_from_sts() {
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let p = project("");
    build(&p, APP_V1);
    let token =
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJwcm9qZWN0X3BhdGg6Z3JvdXAvYXBwIn0.c2xpcHdheS10b2tlbg";
    p.write("oidc-token", token);
    let mut transcript = Vec::new();
    run(
        slipway_aws(&p, &proxy.url)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_CONFIG_FILE", p.join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", p.join("no-credentials"))
            .env("AWS_ROLE_ARN", ROLE)
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", p.join("oidc-token"))
            .env("AWS_ROLE_SESSION_NAME", "gitlab-job")
            .args(["deploy", "-vvv"]),
        0,
        &mut transcript,
    );
    let sts: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.body_start.contains("Action=AssumeRoleWithWebIdentity"))
        .collect();
    assert_eq!(sts.len(), 1, "{:?}", proxy.seen());
    assert_eq!(versions(&moto, "hello"), ["1"]);
    let text = String::from_utf8_lossy(&transcript);
    assert!(!text.contains(token), "the OIDC token leaked into output");
    assert_no_credentials(&transcript, &p);
}

/// Region and credentials from a named profile, the endpoint from slipway.toml.
#[test]
fn a_profile_and_the_aws_table_configure_the_clients() {
    let moto = Moto::start().with_role();
    let p = project("");
    let toml = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    p.write(
        "slipway.toml",
        format!("{toml}\n[aws]\nendpoint_url = \"{}\"\n", moto.url),
    );
    build(&p, APP_V1);
    p.write("aws/config", format!("[profile ci]\nregion = {REGION}\n"));
    p.write(
        "aws/credentials",
        format!("[ci]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    );
    let mut transcript = Vec::new();
    let isolated = |cmd: &mut assert_cmd::Command| {
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_CONFIG_FILE", p.join("aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", p.join("aws/credentials"));
    };
    let mut without = slipway_aws(&p, "unused");
    isolated(&mut without);
    let out = run(without.arg("deploy"), 2, &mut transcript);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no AWS region configured"));

    let mut with = slipway_aws(&p, "unused");
    isolated(&mut with);
    let out = run(
        with.args(["deploy", "--profile", "ci", "--format", "json"]),
        0,
        &mut transcript,
    );
    assert_eq!(json_stdout(&out)["functions"][0]["region"], REGION);
    assert_eq!(versions(&moto, "hello"), ["1"]);
    assert_no_credentials(&transcript, &p);
}
