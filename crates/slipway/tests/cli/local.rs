//! `slipway invoke`, `serve` and `event` end to end: functions built by
//! `slipway build`, run behind the Runtime API, reached with the AWS CLI and
//! curl as users reach them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};

use crate::support_aws::{Moto, all_files, aws_cli, slipway_aws_process};
use base64::Engine;
use serde_json::{Value, json};

use crate::support::{Project, assert_ok, json_stdout};

const API_APP: &str = r#"
import base64, json

def handler(event, context):
    path = event.get("rawPath", "/")
    if path == "/plain":
        return {"hello": "world"}
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "body": base64.b64encode(bytes([137, 80, 78, 71, 0, 255])).decode(), "isBase64Encoded": True}
    if path == "/cookies":
        return {"statusCode": 201, "headers": {"X-Custom": "yes"}, "cookies": ["session=abc; HttpOnly", "theme=dark"],
                "body": "made"}
    if path == "/fail":
        raise RuntimeError("no route")
    body = event.get("body")
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).hex()
    return {"statusCode": 200, "body": json.dumps({
        "method": event["requestContext"]["http"]["method"], "path": path,
        "query": event.get("queryStringParameters"), "cookies": event.get("cookies"),
        "body": body, "isBase64Encoded": event["isBase64Encoded"], "version": event["version"],
    })}

def greet(event, context):
    print("greeting", event.get("name"))
    if event.get("fail"):
        raise ValueError("cannot greet " + event["name"])
    result = {"greeting": "hello " + event.get("name", "nobody"), "function": context.function_name}
    if context.client_context:
        result["custom"] = context.client_context.custom
    return result
"#;

/// A built two-function project: `api` (a Function URL handler) and `greet`.
fn built_project() -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        r#"[defaults]
runtime = "python3.11"
memory = 256
timeout = 5

[functions.api]
source = "src"
handler = "app.handler"

[functions.greet]
source = "src"
handler = "app.greet"
environment = { STAGE = "test" }
"#,
    );
    p.write("src/app.py", API_APP);
    build(&p);
    p
}

/// Runs `slipway build` in `p`, failing the test when it fails.
fn build(p: &Project) {
    let out = p.slipway().args(["build", "--quiet"]).output().unwrap();
    assert!(
        out.status.success(),
        "slipway build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A built project holding one python3.11 function, `name`, whose
/// `src/app.py` is `app` with its handler `app.handler`.
fn built_function(name: &str, app: &str) -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        format!("[functions.{name}]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.11\"\n"),
    );
    p.write("src/app.py", app);
    build(&p);
    p
}

#[test]
fn invoke_prints_the_result_and_lambdas_log_lines() {
    let p = built_project();
    p.write("event.json", r#"{"name": "Ada"}"#);
    let out = p
        .slipway()
        .args(["invoke", "greet", "--event", "event.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result,
        json!({"greeting": "hello Ada", "function": "greet"})
    );
    let start = stderr.find("START RequestId: ").expect("START line");
    let printed = stderr.find("greeting Ada").expect("the function's output");
    let end = stderr.find("END RequestId: ").expect("END line");
    let report = stderr.find("REPORT RequestId: ").expect("REPORT line");
    assert!(start < printed && printed < end && end < report, "{stderr}");
    assert!(stderr.contains("Memory Size: 256 MB"), "{stderr}");
    assert!(stderr.contains("Max Memory Used: "), "{stderr}");
}

#[test]
fn invoke_reads_stdin_and_reports_function_errors_with_exit_1() {
    let p = built_project();
    let out = p
        .slipway()
        .args(["--format", "json", "invoke", "greet", "--event", "-"])
        .write_stdin(r#"{"name": "Bob", "fail": true}"#)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_stdout(&out);
    assert_eq!(v["function_error"], json!("Unhandled"));
    assert_eq!(v["error_type"], json!("ValueError"));
    assert_eq!(v["payload"]["errorMessage"], json!("cannot greet Bob"));
    assert!(
        v["logs"]
            .as_str()
            .unwrap()
            .contains("[ERROR] ValueError: cannot greet Bob")
    );
    assert!(v["duration_ms"].as_f64().is_some());
    assert!(v["init_duration_ms"].as_f64().is_some());
}

#[test]
fn invoke_refuses_bad_events_and_unbuilt_functions_with_exit_2() {
    let p = built_project();
    p.write("bad.json", "{not json");
    let out = p
        .slipway()
        .args(["invoke", "greet", "--event", "bad.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));

    std::fs::remove_dir_all(p.join("dist/api")).unwrap();
    let out = p.slipway().args(["invoke", "api"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("slipway build"));
}

#[test]
fn bad_client_contexts_and_unnamed_functions_or_queues_are_refused_with_exit_2() {
    let p = built_project();
    let out = p
        .slipway()
        .args(["invoke", "greet", "--client-context", "{nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--client-context is not JSON"), "{stderr}");

    // Lambda's own variables cannot be overridden locally, as in slipway.toml.
    let out = p
        .slipway()
        .args(["invoke", "greet", "--env", "AWS_REGION=eu-west-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`AWS_REGION` is set by Lambda itself"),
        "{stderr}"
    );

    // Two functions, none named: which one is not guessed.
    let out = p.slipway().args(["invoke"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("defines several functions"), "{stderr}");
    assert!(stderr.contains("api, greet"), "{stderr}");

    // A queue must say which of the served functions it feeds.
    let queue = "http://127.0.0.1:9/123456789012/work";
    for (sqs, message) in [
        (queue.to_owned(), "which function should"),
        (format!("nope={queue}"), "`nope`, which is not served"),
    ] {
        let out = p
            .slipway()
            .args(["serve", "--port", "0", "--no-watch", "--sqs", &sqs])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sqs}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[test]
fn a_function_built_for_another_architecture_is_refused() {
    let p = built_project();
    let manifest_path = p.join("dist/greet/manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let other = if std::env::consts::ARCH == "x86_64" {
        "arm64"
    } else {
        "x86_64"
    };
    manifest["architecture"] = json!(other);
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let out = p.slipway().args(["invoke", "greet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("was built for {other}")),
        "{stderr}"
    );
}

#[test]
fn event_prints_samples_with_options() {
    let p = Project::new();
    let out = p
        .slipway()
        .args([
            "event", "s3-put", "--bucket", "uploads", "--key", "a b.txt", "--size", "9",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Records"][0]["s3"]["bucket"]["name"], json!("uploads"));
    assert_eq!(v["Records"][0]["s3"]["object"]["key"], json!("a+b.txt"));
    assert_eq!(v["Records"][0]["s3"]["object"]["size"], json!(9));

    let out = p.slipway().args(["event", "--list"]).output().unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    for kind in [
        "sqs",
        "s3-put",
        "function-url",
        "apigw-http",
        "apigw-rest",
        "dynamodb-stream",
        "eventbridge-scheduled",
        "sns",
        "alexa-launch",
        "alexa-intent",
    ] {
        assert!(list.contains(kind), "{kind} missing from {list}");
    }

    let out = p
        .slipway()
        .args(["event", "sqs", "--intent", "X"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--intent"));
}

#[test]
fn a_sample_event_feeds_invoke() {
    let p = built_project();
    let out = p
        .slipway()
        .args([
            "event",
            "function-url",
            "--method",
            "POST",
            "--path",
            "/orders?x=1",
            "--body",
            "{\"qty\":2}",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = p
        .slipway()
        .args(["invoke", "api", "--event", "-"])
        .write_stdin(out.stdout)
        .output()
        .unwrap();
    assert_ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["method"], json!("POST"));
    assert_eq!(body["path"], json!("/orders"));
    assert_eq!(body["query"], json!({"x": "1"}));
    assert_eq!(body["body"], json!("{\"qty\":2}"));
}

/// `slipway serve` on a free port; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(p: &Project, args: &[&str]) -> Server {
    serve_watching(p, &[&["--no-watch"], args].concat())
}

/// `slipway serve` rebuilding on source changes unless `args` say otherwise.
fn serve_watching(p: &Project, args: &[&str]) -> Server {
    #[allow(deprecated)]
    let exe = assert_cmd::cargo::cargo_bin("slipway");
    let mut child = Process::new(exe)
        .current_dir(p.path())
        .env_remove("SLIPWAY_CONFIG")
        .env("SLIPWAY_CACHE_DIR", p.join(".test-cache"))
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    Server { child, url }
}

/// `aws lambda invoke` against `server` (failing the test when the CLI
/// fails); returns the CLI's answer and the payload it saved.
fn lambda_invoke(server: &Server, p: &Project, args: &[&str]) -> (Value, Value) {
    let saved = p.join("payload.json");
    // A payload left by an earlier call must not stand in for this one's.
    let _ = std::fs::remove_file(&saved);
    let mut all = vec!["lambda", "invoke"];
    all.extend_from_slice(args);
    all.push(saved.to_str().unwrap());
    let answer = aws_cli(&server.url, &all);
    let payload = std::fs::read(&saved).unwrap();
    let payload = serde_json::from_slice(&payload).unwrap_or(Value::Null);
    (answer, payload)
}

#[test]
fn aws_cli_invokes_through_the_invoke_api() {
    let p = built_project();
    let server = serve(&p, &[]);
    let (meta, result) = lambda_invoke(
        &server,
        &p,
        &[
            "--function-name",
            "greet",
            "--payload",
            r#"{"name": "Cli"}"#,
            "--log-type",
            "Tail",
        ],
    );
    assert_eq!(meta["StatusCode"], json!(200));
    assert_eq!(meta["ExecutedVersion"], json!("$LATEST"));
    assert!(meta.get("FunctionError").is_none(), "{meta}");
    let tail = base64::engine::general_purpose::STANDARD
        .decode(meta["LogResult"].as_str().unwrap())
        .unwrap();
    let tail = String::from_utf8(tail).unwrap();
    assert!(
        tail.contains("greeting Cli") && tail.contains("REPORT RequestId"),
        "{tail}"
    );
    assert_eq!(result["greeting"], json!("hello Cli"));

    // The client context travels base64-encoded, as the SDKs send it.
    let context = base64::engine::general_purpose::STANDARD.encode(r#"{"custom":{"tenant":"t1"}}"#);
    let (_, result) = lambda_invoke(
        &server,
        &p,
        &["--function-name", "greet", "--client-context", &context],
    );
    assert_eq!(result["custom"], json!({"tenant": "t1"}));

    let (meta, error) = lambda_invoke(
        &server,
        &p,
        &[
            "--function-name",
            "arn:aws:lambda:us-east-1:123456789012:function:greet",
            "--payload",
            r#"{"name": "X", "fail": true}"#,
        ],
    );
    assert_eq!(meta["FunctionError"], json!("Unhandled"));
    assert_eq!(error["errorType"], json!("ValueError"));

    let (meta, _) = lambda_invoke(
        &server,
        &p,
        &["--function-name", "greet", "--invocation-type", "DryRun"],
    );
    assert_eq!(meta["StatusCode"], json!(204));

    let (meta, _) = lambda_invoke(
        &server,
        &p,
        &[
            "--function-name",
            "greet",
            "--invocation-type",
            "Event",
            "--payload",
            r#"{"name": "Async"}"#,
        ],
    );
    assert_eq!(meta["StatusCode"], json!(202));

    let out = Process::new("aws")
        .args(["lambda", "invoke", "--endpoint-url", &server.url])
        .args(["--region", "us-east-1", "--function-name", "nope"])
        .arg(p.join("x.json"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI is installed");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ResourceNotFoundException"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn curl(args: &[&str]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let headers_file = dir.path().join("headers");
    let body_file = dir.path().join("body");
    let out = Process::new("curl")
        .args(["-s", "-D"])
        .arg(&headers_file)
        .arg("-o")
        .arg(&body_file)
        .args(args)
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = std::fs::read_to_string(&headers_file).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, std::fs::read(&body_file).unwrap())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn curl_reaches_the_function_url_front() {
    let p = built_project();
    let server = serve(&p, &["api"]);
    let base = &server.url;

    // One function served: every path is its URL.
    let (status, headers, body) = curl(&[&format!("{base}/plain")]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), vec!["application/json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"hello": "world"})
    );

    let (status, headers, body) = curl(&[&format!("{base}/cookies")]);
    assert_eq!(status, 201);
    assert_eq!(header(&headers, "x-custom"), vec!["yes"]);
    assert_eq!(
        header(&headers, "set-cookie"),
        vec!["session=abc; HttpOnly", "theme=dark"]
    );
    assert_eq!(body, b"made");

    let (status, headers, body) = curl(&[&format!("{base}/binary")]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), vec!["image/png"]);
    assert_eq!(body, vec![137, 80, 78, 71, 0, 255]);

    let (status, _, body) = curl(&[
        "-X",
        "PUT",
        "-H",
        "cookie: a=1; b=2",
        &format!("{base}/lambda-url/api/echo?k=v&k=w"),
    ]);
    assert_eq!(status, 200);
    let echoed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echoed["method"], json!("PUT"));
    assert_eq!(echoed["path"], json!("/echo"));
    assert_eq!(echoed["query"], json!({"k": "v,w"}));
    assert_eq!(echoed["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(echoed["version"], json!("2.0"));

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::write(&bin, [0u8, 1, 254, 255]).unwrap();
    let (status, _, body) = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/octet-stream",
        "--data-binary",
        &format!("@{}", bin.display()),
        &format!("{base}/echo"),
    ]);
    assert_eq!(status, 200);
    let echoed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echoed["isBase64Encoded"], json!(true));
    assert_eq!(echoed["body"], json!("0001feff"));

    let (status, _, _) = curl(&[&format!("{base}/fail")]);
    assert_eq!(status, 502);
}

/// Runs a boto3 script (the host's python3) against moto; returns its stdout as JSON.
fn boto3(moto: &Moto, script: &str) -> Value {
    let out = Process::new("python3")
        .args(["-c", script])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3 script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// `slipway serve --sqs QUEUE_URL` polling moto, its stderr in `serve.log`.
fn serve_sqs(
    p: &Project,
    moto: &Moto,
    queue_url: &str,
    extra: &[&str],
) -> (Server, std::path::PathBuf) {
    let log_path = p.join("serve.log");
    let child = slipway_aws_process(p, &moto.url)
        .args(["serve", "--port", "0", "--no-watch", "--sqs", queue_url])
        .args(["--endpoint-url", &moto.url])
        .args(extra)
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        url: String::new(),
    };
    (server, log_path)
}

/// What Lambda's python3.12 runtime provides (boto3), installed once per
/// test run with that interpreter's pip from the configured registry.
fn runtime_packages_312() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lambda-runtime-python3.12");
    if dir.join("boto3").is_dir() {
        return dir;
    }
    // The interpreter `slipway serve` runs the function with, found the same way.
    let python = slipway_local::python::discover(12, None)
        .expect("a Python 3.12 interpreter")
        .path;
    let staging = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&staging);
    let out = Process::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&staging)
        .arg("boto3")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip install boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::rename(&staging, &dir);
    dir
}

#[test]
fn sqs_to_dynamodb_against_moto_with_a_poison_message_ending_in_the_dlq() {
    let moto = Moto::start();
    let p = built_example("sqs-to-dynamodb");
    let runtime = runtime_packages_312();

    let queue_url: String = boto3(
        &moto,
        r#"
import boto3, json
sqs = boto3.client("sqs")
dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
q = sqs.create_queue(QueueName="orders", Attributes={
    "VisibilityTimeout": "1",
    "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
})["QueueUrl"]
boto3.client("dynamodb").create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}])
for i in range(1, 6):
    sqs.send_message(QueueUrl=q, MessageBody=json.dumps({"order_id": str(i), "customer": "c%d" % i, "total": "%d.50" % i}))
sqs.send_message(QueueUrl=q, MessageBody="this is not an order")
print(json.dumps(q))
"#,
    )
    .as_str()
    .unwrap()
    .to_owned();

    let (server, log_path) = serve_sqs(
        &p,
        &moto,
        &queue_url,
        &["--runtime-packages", runtime.to_str().unwrap()],
    );

    let check = r#"
import boto3, json, sys
sqs, ddb = boto3.client("sqs"), boto3.client("dynamodb")
q = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
dlq = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
attrs = lambda u: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"]
a, d = attrs(q), attrs(dlq)
items = ddb.scan(TableName="orders")["Items"]
print(json.dumps({
    "queued": int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]),
    "dead": int(d["ApproximateNumberOfMessages"]),
    "items": sorted((i["order_id"]["S"], i["total"]["N"]) for i in items),
}))
"#;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let state = loop {
        let state = boto3(&moto, check);
        if state["dead"] == json!(1) && state["queued"] == json!(0) {
            break state;
        }
        if std::time::Instant::now() > deadline {
            panic!(
                "timed out; state {state}\nserve log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(
        state["items"],
        json!([
            ["1", "1.50"],
            ["2", "2.50"],
            ["3", "3.50"],
            ["4", "4.50"],
            ["5", "5.50"]
        ]),
        "{log}"
    );
    // Each good order was processed exactly once; the poison message was
    // tried maxReceiveCount times before SQS moved it to the DLQ.
    for i in 1..=5 {
        assert_eq!(
            log.matches(&format!("stored order {i}\n")).count(),
            1,
            "order {i}:\n{log}"
        );
    }
    assert_eq!(
        log.matches("rejected: body is not JSON").count(),
        2,
        "{log}"
    );
    let dead = boto3(
        &moto,
        r#"
import boto3, json
sqs = boto3.client("sqs")
dlq = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
print(json.dumps([m["Body"] for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])]))
"#,
    );
    assert_eq!(dead, json!(["this is not an order"]));
}

fn examples_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn every_example_passes_its_own_tests() {
    for example in [
        "sqs-to-dynamodb",
        "function-url-api",
        "s3-trigger",
        "alexa-skill",
        // In-process moto and orjson, both pinned in .ci/requirements-test.txt.
        "reference-system",
    ] {
        let out = Process::new("python3")
            .args(["-m", "unittest", "discover", "-s", "tests"])
            .current_dir(examples_dir().join(example))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{example}: {stderr}");
        assert!(
            stderr.contains("OK") && !stderr.contains("skipped"),
            "{example}: {stderr}"
        );
    }
}

/// Copies an example's folder (without dist/) into a new project and builds it.
fn built_example(name: &str) -> Project {
    let p = Project::new();
    let root = examples_dir().join(name);
    for entry in all_files(&root) {
        let rel = entry
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("dist") || rel.contains("__pycache__") {
            continue;
        }
        p.write(&rel, std::fs::read(&entry).unwrap());
    }
    build(&p);
    p
}

fn invoke_with_event(p: &Project, event_args: &[&str], extra: &[&str]) -> (bool, Value, String) {
    let event = p.slipway().arg("event").args(event_args).output().unwrap();
    assert_ok(&event);
    let out = p
        .slipway()
        .args(["invoke", "--event", "-"])
        .args(extra)
        .write_stdin(event.stdout)
        .output()
        .unwrap();
    let value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        value,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn function_url_and_s3_examples_run_on_sample_events() {
    let api = built_example("function-url-api");
    let (ok, v, log) = invoke_with_event(
        &api,
        &[
            "function-url",
            "--method",
            "POST",
            "--path",
            "/items",
            "--body",
            r#"{"name":"tea","price":2.5}"#,
        ],
        &[],
    );
    assert!(ok, "{log}");
    assert_eq!(v["statusCode"], json!(201));
    assert_eq!(v["headers"]["location"], json!("/items/1"));

    let s3 = built_example("s3-trigger");
    let (ok, v, log) = invoke_with_event(
        &s3,
        &[
            "s3-put",
            "--bucket",
            "uploads",
            "--key",
            "incoming/holiday photo.jpg",
            "--size",
            "2048",
        ],
        &[],
    );
    assert!(ok, "{log}");
    assert_eq!(v["uploads"][0]["key"], json!("incoming/holiday photo.jpg"));
    assert_eq!(v["uploads"][0]["kind"], json!("image"));
}

/// A stand-in language-model API on 127.0.0.1 answering one request.
fn fake_model_api(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/answer", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        let mut got = Vec::new();
        loop {
            let n = sock.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length: usize = text[..head_end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= head_end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let body = format!("{{\"answer\": \"{answer}\"}}");
        write!(sock, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
        String::from_utf8_lossy(&got).into_owned()
    });
    (url, handle)
}

#[test]
fn alexa_example_answers_through_a_replaceable_model_api() {
    let skill = built_example("alexa-skill");
    let (ok, v, log) = invoke_with_event(&skill, &["alexa-launch"], &[]);
    assert!(ok, "{log}");
    assert!(
        v["response"]["outputSpeech"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Welcome to Quick Answers")
    );

    let (url, server) = fake_model_api("Mount Everest.");
    let (ok, v, log) = invoke_with_event(
        &skill,
        &[
            "alexa-intent",
            "--intent",
            "AskIntent",
            "--slot",
            "question=what is the tallest mountain",
        ],
        &[
            "--env",
            &format!("LLM_API_URL={url}"),
            "--env",
            "LLM_API_KEY=test-key",
        ],
    );
    assert!(ok, "{log}");
    assert_eq!(
        v["response"]["outputSpeech"]["text"],
        json!("Mount Everest.")
    );
    let request = server.join().unwrap();
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: bearer test-key"),
        "{request}"
    );
    assert!(
        request.contains(r#"{"question": "what is the tallest mountain"}"#),
        "{request}"
    );
}

fn http_post(url: &str, body: &str) -> String {
    let out = Process::new("curl")
        .args(["-s", "-X", "POST", "--data-binary", body, url])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn serve_reuses_warm_environments_up_to_the_concurrency_limit() {
    let p = built_function(
        "slow",
        "import os, time\nCALLS = 0\ndef handler(event, context):\n    global CALLS\n    CALLS += 1\n    time.sleep(event.get('sleep', 0))\n    return {'pid': os.getpid(), 'calls': CALLS}\n",
    );
    let server = serve(&p, &["--concurrency", "2"]);
    let url = format!("{}/2015-03-31/functions/slow/invocations", server.url);

    let started = std::time::Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || http_post(&url, r#"{"sleep": 1}"#))
        })
        .collect();
    let results: Vec<Value> = threads
        .into_iter()
        .map(|t| serde_json::from_str(&t.join().unwrap()).unwrap())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let pids: std::collections::BTreeSet<i64> =
        results.iter().map(|r| r["pid"].as_i64().unwrap()).collect();
    assert_eq!(pids.len(), 2, "two environments at most: {results:?}");
    assert!(
        elapsed >= 2.0,
        "four 1 s calls on two environments took {elapsed}s"
    );

    // A later call lands on a warm environment: its counter keeps counting.
    let again: Value = serde_json::from_str(&http_post(&url, "{}")).unwrap();
    assert!(pids.contains(&again["pid"].as_i64().unwrap()));
    assert_eq!(again["calls"], json!(3));
}

#[test]
fn serve_rebuilds_and_restarts_when_sources_change() {
    let p = built_function("live", "def handler(event, context):\n    return 'first'\n");
    let server = serve_watching(&p, &[]);
    let url = format!("{}/2015-03-31/functions/live/invocations", server.url);
    assert_eq!(http_post(&url, "{}"), "\"first\"");

    p.write(
        "src/app.py",
        "def handler(event, context):\n    return 'second'\n",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answer = http_post(&url, "{}");
        if answer == "\"second\"" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still answering {answer}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

#[test]
fn function_url_front_applies_the_configured_cors() {
    let p = built_example("function-url-api");
    let server = serve(&p, &[]);
    let url = format!("{}/items", server.url);
    let (status, headers, body) = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "origin: http://localhost:3000",
        "-H",
        "access-control-request-method: POST",
        &url,
    ]);
    assert_eq!(status, 200);
    assert!(body.is_empty());
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        vec!["http://localhost:3000"]
    );
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        vec!["GET,POST,DELETE"]
    );
    assert_eq!(header(&headers, "access-control-max-age"), vec!["300"]);

    let (status, headers, _) = curl(&["-H", "origin: http://localhost:3000", &url]);
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        vec!["http://localhost:3000"]
    );
    let (_, headers, _) = curl(&["-H", "origin: https://elsewhere.example", &url]);
    assert!(header(&headers, "access-control-allow-origin").is_empty());
}

#[test]
fn stopping_serve_stops_its_runtime_processes() {
    let p = built_function(
        "pid",
        "import os\ndef handler(event, context):\n    return os.getpid()\n",
    );
    let mut server = serve(&p, &[]);
    let pid: u32 = http_post(
        &format!("{}/2015-03-31/functions/pid/invocations", server.url),
        "{}",
    )
    .trim()
    .parse()
    .unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    let status = Process::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "serve exits cleanly on SIGTERM: {exit:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.split(' ').nth(2) == Some("Z") {
            break; // exited, waiting for init to reap it
        }
        assert!(
            std::time::Instant::now() < deadline,
            "runtime process {pid} outlived serve"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn sqs_batching_window_gathers_and_a_failed_batch_is_retried_whole() {
    let moto = Moto::start();
    let p = Project::new();
    p.write(
        "slipway.toml",
        r#"[functions.batch]
source = "src"
handler = "app.handler"
runtime = "python3.11"

[[functions.batch.sqs]]
queue_arn = "arn:aws:sqs:us-east-1:123456789012:work"
batch_size = 5
batching_window = 2
"#,
    );
    p.write(
        "src/app.py",
        r#"
def handler(event, context):
    records = event["Records"]
    bodies = sorted(r["body"] for r in records)
    attempt = max(int(r["attributes"]["ApproximateReceiveCount"]) for r in records)
    print("batch", len(records), ",".join(bodies), "attempt", attempt)
    if "boom" in bodies and attempt == 1:
        raise RuntimeError("first attempt fails")
    return {}
"#,
    );
    build(&p);
    let queue_url = boto3(
        &moto,
        r#"
import boto3, json
sqs = boto3.client("sqs")
# Longer than the batching window, as AWS advises.
print(json.dumps(sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "3"})["QueueUrl"]))
"#,
    )
    .as_str()
    .unwrap()
    .to_owned();

    let (_server, log_path) = serve_sqs(&p, &moto, &queue_url, &[]);
    // Three messages within the window, sent one by one.
    boto3(
        &moto,
        r#"
import boto3, time
sqs = boto3.client("sqs")
q = sqs.get_queue_url(QueueName="work")["QueueUrl"]
for body in ["a", "b", "boom"]:
    sqs.send_message(QueueUrl=q, MessageBody=body)
    time.sleep(0.3)
"#,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("attempt 2") && log.contains("3 received, 3 deleted") {
            assert!(
                log.contains("batch 3 a,b,boom attempt 1"),
                "the window gathers all three: {log}"
            );
            assert!(
                log.contains("(the function failed: the whole batch is retried)"),
                "{log}"
            );
            assert!(log.contains("batch 3 a,b,boom attempt 2"), "{log}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no retry seen:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let left = boto3(
        &moto,
        r#"
import boto3, json
sqs = boto3.client("sqs")
q = sqs.get_queue_url(QueueName="work")["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
print(json.dumps(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])))
"#,
    );
    assert_eq!(left, json!(0));
}
