//! Real runtime clients against the emulator: awslambdaric (the client AWS
//! ships) and slipway's built-in bootstrap must pass the same checks.

mod support;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use serde_json::{Value, json};
use slipway_local::instance::Instance;
use slipway_local::{
    FunctionSpec, InvokeOutcome, InvokeRequest, RuntimeClient, TaskRoot, invoke_once,
};
use support::{Dist, build, collecting_sink, spec};

const APP: &str = r#"
import json, os, time
CALLS = 0

def handler(event, context):
    global CALLS
    CALLS += 1
    print("got", json.dumps(event))
    return {
        "event": event,
        "calls": CALLS,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "log_group": context.log_group_name,
        "execution_env": os.environ["AWS_EXECUTION_ENV"],
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "cwd": os.getcwd(),
        "greeting": os.environ.get("GREETING"),
        "region": os.environ["AWS_REGION"],
        "tz": os.environ["TZ"],
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "client_context": context.client_context.custom if context.client_context else None,
    }

def fails(event, context):
    raise ValueError("boom: " + event.get("why", ""))

def handled(event, context):
    try:
        raise KeyError("missing")
    except KeyError:
        return {"statusCode": 500, "body": "handled"}

def sleeps(event, context):
    print("going to sleep")
    time.sleep(30)

def huge(event, context):
    return "x" * (7 * 1024 * 1024)

def crashes(event, context):
    print("about to exit")
    os._exit(3)

def hungry(event, context):
    global HOARD
    HOARD = bytearray(300 * 1024 * 1024)
    for i in range(0, len(HOARD), 4096):
        HOARD[i] = 1
    return "fed"

def just_under(event, context):
    return "y" * (6 * 1024 * 1024 - 10)
"#;

fn payload(outcome: &slipway_local::InvokeOutcome) -> Value {
    serde_json::from_slice(&outcome.payload).unwrap_or_else(|e| {
        panic!(
            "payload is not JSON ({e}): {}",
            String::from_utf8_lossy(&outcome.payload)
        )
    })
}

fn expect_client(outcome: &slipway_local::InvokeOutcome, client: RuntimeClient) {
    let agent = outcome.runtime_client.clone().unwrap_or_default();
    match client {
        RuntimeClient::Awslambdaric => {
            assert!(
                agent.starts_with("aws-lambda-python/"),
                "client was {agent:?}"
            )
        }
        RuntimeClient::Builtin => {
            assert!(
                agent.starts_with("slipway-bootstrap/"),
                "client was {agent:?}"
            )
        }
        RuntimeClient::Auto => {}
    }
}

/// Runs one empty event in a new environment for `dist`.
async fn run_default(dist: &Dist, client: RuntimeClient, timeout_seconds: u32) -> InvokeOutcome {
    let (sink, _) = collecting_sink();
    invoke_once(
        &dist.built,
        spec(dist, client, timeout_seconds),
        InvokeRequest::default(),
        sink,
    )
    .await
    .unwrap()
}

/// Starts an environment for `dist`, kept for several invocations.
async fn start(dist: &Dist, spec: FunctionSpec) -> Instance {
    let (sink, _) = collecting_sink();
    let task = Arc::new(TaskRoot::prepare(&dist.built).unwrap());
    Instance::start(Arc::new(spec), task, sink).await.unwrap()
}

async fn success_and_context(client: RuntimeClient) {
    let dist = build("hello", "python3.11", "app.handler", &[("app.py", APP)]);
    let (sink, lines) = collecting_sink();
    let request = InvokeRequest {
        payload: Bytes::from(r#"{"name":"world"}"#),
        client_context: Some(r#"{"custom":{"k":"v"},"client":{},"env":{}}"#.into()),
        cognito_identity: None,
    };
    let outcome = invoke_once(&dist.built, spec(&dist, client, 3), request, sink)
        .await
        .unwrap();
    expect_client(&outcome, client);
    assert_eq!(outcome.function_error, None, "{}", outcome.logs);
    let p = payload(&outcome);
    assert_eq!(p["event"], json!({"name": "world"}));
    assert_eq!(p["request_id"], json!(outcome.request_id));
    assert_eq!(
        p["arn"],
        json!("arn:aws:lambda:eu-west-1:123456789012:function:hello")
    );
    let remaining = p["remaining"].as_i64().unwrap();
    assert!(
        remaining > 1000 && remaining <= 3000,
        "remaining {remaining}"
    );
    assert_eq!(p["function_name"], json!("hello"));
    assert_eq!(p["memory"], json!("256"));
    assert_eq!(p["log_group"], json!("/aws/lambda/hello"));
    assert_eq!(p["execution_env"], json!("AWS_Lambda_python3.11"));
    assert_eq!(p["task_root"], p["cwd"]);
    assert_eq!(p["greeting"], json!("hello"));
    assert_eq!(p["region"], json!("eu-west-1"));
    assert_eq!(p["tz"], json!(":UTC"));
    assert!(p["trace"].as_str().unwrap().starts_with("Root=1-"));
    assert_eq!(p["client_context"], json!({"k": "v"}));

    let lines = lines.lock().unwrap().clone();
    let pos = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
    };
    let (start, got, end, report) = (
        pos("START RequestId: "),
        pos("got {"),
        pos("END RequestId: "),
        pos("REPORT RequestId: "),
    );
    assert!(start < got && got < end && end < report, "{lines:#?}");
    let report_line = &lines[report];
    for field in [
        "Duration: ",
        "Billed Duration: ",
        "Memory Size: 256 MB",
        "Max Memory Used: ",
        "Init Duration: ",
    ] {
        assert!(report_line.contains(field), "{report_line}");
    }
    assert!(outcome.max_memory_used_mb > 1 && outcome.max_memory_used_mb < 256);
    assert!(
        outcome.logs.contains("got {\"name\": \"world\"}"),
        "{}",
        outcome.logs
    );
}

async fn unhandled_error(client: RuntimeClient) {
    let dist = build("fails", "python3.11", "app.fails", &[("app.py", APP)]);
    let (sink, _) = collecting_sink();
    let request = InvokeRequest {
        payload: Bytes::from(r#"{"why":"bad input"}"#),
        ..Default::default()
    };
    let outcome = invoke_once(&dist.built, spec(&dist, client, 3), request, sink)
        .await
        .unwrap();
    expect_client(&outcome, client);
    assert_eq!(outcome.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(outcome.error_type.as_deref(), Some("ValueError"));
    let p = payload(&outcome);
    assert_eq!(p["errorType"], json!("ValueError"));
    assert_eq!(p["errorMessage"], json!("boom: bad input"));
    assert_eq!(p["requestId"], json!(outcome.request_id));
    let trace = p["stackTrace"].as_array().unwrap();
    assert!(
        trace.iter().any(|f| f.as_str().unwrap().contains("app.py")),
        "{p}"
    );
    assert!(
        !trace
            .iter()
            .any(|f| f.as_str().unwrap().contains("bootstrap.py")),
        "runtime frames leak into the trace: {p}"
    );
    assert!(
        outcome.logs.contains("[ERROR] ValueError: boom: bad input"),
        "{}",
        outcome.logs
    );
}

async fn handled_error(client: RuntimeClient) {
    let dist = build("handled", "python3.11", "app.handled", &[("app.py", APP)]);
    let outcome = run_default(&dist, client, 3).await;
    assert_eq!(
        outcome.function_error,
        None,
        "{}\n{}",
        outcome.logs,
        String::from_utf8_lossy(&outcome.payload)
    );
    assert_eq!(
        payload(&outcome),
        json!({"statusCode": 500, "body": "handled"})
    );
}

async fn import_error_is_an_init_error(client: RuntimeClient) {
    let dist = build(
        "broken",
        "python3.11",
        "app.handler",
        &[(
            "app.py",
            "import not_a_module_anywhere\n\ndef handler(e, c):\n    return 1\n",
        )],
    );
    let outcome = run_default(&dist, client, 3).await;
    assert_eq!(outcome.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        outcome.error_type.as_deref(),
        Some("Runtime.ImportModuleError")
    );
    let p = payload(&outcome);
    assert_eq!(p["errorType"], json!("Runtime.ImportModuleError"));
    assert_eq!(
        p["errorMessage"],
        json!("Unable to import module 'app': No module named 'not_a_module_anywhere'")
    );
    assert!(
        outcome.logs.contains("INIT_REPORT Init Duration"),
        "{}",
        outcome.logs
    );
    assert!(
        outcome
            .logs
            .contains("Status: error\tError Type: Runtime.ImportModuleError")
    );
}

async fn missing_handler_function(client: RuntimeClient) {
    let dist = build("nohandler", "python3.11", "app.nope", &[("app.py", APP)]);
    let outcome = run_default(&dist, client, 3).await;
    assert_eq!(
        outcome.error_type.as_deref(),
        Some("Runtime.HandlerNotFound")
    );
    assert_eq!(
        payload(&outcome)["errorMessage"],
        json!("Handler 'nope' missing on module 'app'")
    );
}

async fn timeout_kills_the_runtime(client: RuntimeClient) {
    let dist = build("sleepy", "python3.11", "app.sleeps", &[("app.py", APP)]);
    let mut instance = start(&dist, spec(&dist, client, 1)).await;
    let started = Instant::now();
    let outcome = instance.invoke(InvokeRequest::default()).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert!((1.0..5.0).contains(&elapsed), "took {elapsed}s");
    assert!(outcome.timed_out);
    assert_eq!(outcome.function_error.as_deref(), Some("Unhandled"));
    let p = payload(&outcome);
    assert_eq!(p["errorType"], json!("Sandbox.Timedout"));
    assert!(
        p["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds"),
        "{p}"
    );
    assert!(outcome.logs.contains("going to sleep"), "{}", outcome.logs);
    assert!(
        outcome.logs.contains(&format!(
            "{} Task timed out after 1.00 seconds",
            outcome.request_id
        )),
        "{}",
        outcome.logs
    );
    assert!(outcome.logs.contains("Status: timeout"));
    assert!(
        !instance.is_alive(),
        "a timed-out environment must be discarded"
    );
}

async fn response_over_six_megabytes_is_refused(client: RuntimeClient) {
    let dist = build("huge", "python3.11", "app.huge", &[("app.py", APP)]);
    let outcome = run_default(&dist, client, 10).await;
    assert_eq!(outcome.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        outcome.error_type.as_deref(),
        Some("Function.ResponseSizeTooLarge")
    );
    assert!(
        payload(&outcome)["errorMessage"]
            .as_str()
            .unwrap()
            .contains("(6291556 bytes)")
    );

    let dist = build("big", "python3.11", "app.just_under", &[("app.py", APP)]);
    let outcome = run_default(&dist, client, 10).await;
    assert_eq!(outcome.function_error, None);
    assert_eq!(outcome.payload.len(), 6 * 1024 * 1024 - 10 + 2);
}

async fn warm_environment_is_reused(client: RuntimeClient) {
    let dist = build("warm", "python3.11", "app.handler", &[("app.py", APP)]);
    let mut instance = start(&dist, spec(&dist, client, 3)).await;
    let first = instance.invoke(InvokeRequest::default()).await;
    let second = instance.invoke(InvokeRequest::default()).await;
    assert!(first.init_duration_ms.is_some());
    assert_eq!(second.init_duration_ms, None);
    assert!(!second.logs.contains("Init Duration"));
    assert_eq!(payload(&first)["calls"], json!(1));
    assert_eq!(payload(&second)["calls"], json!(2));
    assert_ne!(first.request_id, second.request_id);
}

async fn a_crash_is_a_runtime_exit_error(client: RuntimeClient) {
    let dist = build("crash", "python3.11", "app.crashes", &[("app.py", APP)]);
    let mut instance = start(&dist, spec(&dist, client, 3)).await;
    let outcome = instance.invoke(InvokeRequest::default()).await;
    assert_eq!(outcome.error_type.as_deref(), Some("Runtime.ExitError"));
    let p = payload(&outcome);
    assert!(
        p["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Runtime exited with error: exit status 3"),
        "{p}"
    );
    assert!(outcome.logs.contains("about to exit"), "{}", outcome.logs);
    assert!(!instance.is_alive());
}

async fn outgrowing_memory_kills_the_environment(client: RuntimeClient) {
    let dist = build("hungry", "python3.11", "app.hungry", &[("app.py", APP)]);
    let mut spec = spec(&dist, client, 10);
    spec.memory_mb = 128;
    let mut instance = start(&dist, spec).await;
    let outcome = instance.invoke(InvokeRequest::default()).await;
    assert!(outcome.max_memory_used_mb > 128, "{}", outcome.logs);
    assert_eq!(outcome.error_type.as_deref(), Some("Runtime.OutOfMemory"));
    assert_eq!(outcome.function_error.as_deref(), Some("Unhandled"));
    assert!(!instance.is_alive());
}

async fn slow_init_does_not_eat_the_functions_timeout(client: RuntimeClient) {
    let dist = build(
        "slowinit",
        "python3.11",
        "app.handler",
        &[(
            "app.py",
            "import time\ntime.sleep(1.5)\ndef handler(e, c):\n    return c.get_remaining_time_in_millis()\n",
        )],
    );
    let outcome = run_default(&dist, client, 1).await;
    assert_eq!(outcome.function_error, None, "{}", outcome.logs);
    let remaining = payload(&outcome).as_i64().unwrap();
    assert!(
        remaining > 500 && remaining <= 1000,
        "remaining {remaining}"
    );
    assert!(outcome.init_duration_ms.unwrap() >= 1500.0);
}

macro_rules! both_clients {
    ($($name:ident),* $(,)?) => {
        mod awslambdaric {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(RuntimeClient::Awslambdaric).await
                }
            )*
        }
        mod builtin {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(RuntimeClient::Builtin).await
                }
            )*
        }
    };
}

both_clients!(
    success_and_context,
    unhandled_error,
    handled_error,
    import_error_is_an_init_error,
    missing_handler_function,
    timeout_kills_the_runtime,
    response_over_six_megabytes_is_refused,
    warm_environment_is_reused,
    a_crash_is_a_runtime_exit_error,
    outgrowing_memory_kills_the_environment,
    slow_init_does_not_eat_the_functions_timeout,
);

#[tokio::test]
async fn auto_falls_back_to_the_builtin_client_and_finds_other_pythons() {
    // Whether 3.12 has awslambdaric depends on the machine: auto must pick
    // it exactly when the interpreter can import it, and the function must
    // run on Python 3.12 either way.
    let dist = build(
        "py312",
        "python3.12",
        "app.handler",
        &[(
            "app.py",
            "import sys\ndef handler(e, c):\n    return list(sys.version_info[:2])\n",
        )],
    );
    let outcome = run_default(&dist, RuntimeClient::Auto, 3).await;
    assert_eq!(payload(&outcome), json!([3, 12]), "{}", outcome.logs);
    let has_awslambdaric = std::process::Command::new(support::interpreter(12).path)
        .args(["-c", "import awslambdaric"])
        .output()
        .unwrap()
        .status
        .success();
    expect_client(
        &outcome,
        if has_awslambdaric {
            RuntimeClient::Awslambdaric
        } else {
            RuntimeClient::Builtin
        },
    );
}

#[tokio::test]
async fn layers_are_importable_from_opt_python() {
    let dist = support::build_with_layer(
        "layered",
        "python3.11",
        "app.handler",
        &[(
            "app.py",
            "import shared\ndef handler(e, c):\n    return shared.VALUE\n",
        )],
        &[("python/shared.py", "VALUE = 'from the layer'\n")],
    );
    let outcome = run_default(&dist, RuntimeClient::Builtin, 3).await;
    assert_eq!(
        payload(&outcome),
        json!("from the layer"),
        "{}",
        outcome.logs
    );
}
