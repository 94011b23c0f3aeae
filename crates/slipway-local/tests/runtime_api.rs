//! The Runtime API's answers to a runtime that misbehaves, and the streaming
//! response mode, driven over plain HTTP as a custom runtime would.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use slipway_local::runtime_api::{Invocation, Reply, RuntimeApi};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn invocation(id: &str) -> Invocation {
    Invocation {
        request_id: id.into(),
        payload: Bytes::from_static(br#"{"n":1}"#),
        timeout: std::time::Duration::from_secs(30),
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
        trace_id: "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
            .into(),
        client_context: Some(r#"{"custom":{}}"#.into()),
        cognito_identity: Some(
            r#"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#.into(),
        ),
    }
}

fn base(api: &RuntimeApi) -> String {
    format!("http://{}/2018-06-01/runtime", api.address())
}

#[tokio::test]
async fn next_carries_every_header_and_waits_for_an_event() {
    let api = RuntimeApi::start().await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/invocation/next", base(&api));
    let next = tokio::spawn(client.get(url).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !next.is_finished(),
        "next must be held open until an event exists"
    );
    let reply = api.submit(invocation("req-1")).await;
    let response = next.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers();
    assert_eq!(h["lambda-runtime-aws-request-id"], "req-1");
    let deadline: u128 = h["lambda-runtime-deadline-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(
        deadline > now + 29_000 && deadline <= now + 30_000,
        "the deadline counts from the pickup: {deadline} vs {now}"
    );
    assert_eq!(
        h["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:f"
    );
    assert!(
        h["lambda-runtime-trace-id"]
            .to_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(h["lambda-runtime-client-context"], r#"{"custom":{}}"#);
    assert!(
        h["lambda-runtime-cognito-identity"]
            .to_str()
            .unwrap()
            .contains("pool")
    );
    assert_eq!(response.text().await.unwrap(), r#"{"n":1}"#);

    let answer = client
        .post(format!("{}/invocation/req-1/response", base(&api)))
        .body("\"done\"")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    assert_eq!(
        reply.await.unwrap(),
        Reply::Response {
            body: Bytes::from_static(b"\"done\""),
            content_type: None,
            streamed: false
        }
    );
}

#[tokio::test]
async fn wrong_ids_and_repeated_replies_get_the_services_answers() {
    let api = RuntimeApi::start().await.unwrap();
    let client = reqwest::Client::new();
    let next = tokio::spawn(client.get(format!("{}/invocation/next", base(&api))).send());
    let reply = api.submit(invocation("req-2")).await;
    next.await.unwrap().unwrap();

    let wrong = client
        .post(format!("{}/invocation/not-this-one/response", base(&api)))
        .body("1")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body,
        json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
    );

    let error = client
        .post(format!("{}/invocation/req-2/error", base(&api)))
        .header("Lambda-Runtime-Function-Error-Type", "Custom.Failure")
        .body(r#"{"errorMessage":"no","errorType":"Custom.Failure"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(error.status(), 202);
    match reply.await.unwrap() {
        Reply::Error { error_type, body } => {
            assert_eq!(error_type.as_deref(), Some("Custom.Failure"));
            assert!(String::from_utf8_lossy(&body).contains("\"no\""));
        }
        other => panic!("{other:?}"),
    }

    for endpoint in ["response", "error"] {
        let again = client
            .post(format!("{}/invocation/req-2/{endpoint}", base(&api)))
            .body("1")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 403, "repeated {endpoint}");
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["errorType"], json!("InvalidStateTransition"));
    }

    // After the runtime is ready, init/error is a state it cannot go back to.
    let late_init = client
        .post(format!("{}/init/error", base(&api)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(late_init.status(), 403);
}

#[tokio::test]
async fn init_error_is_reported_once() {
    let api = RuntimeApi::start().await.unwrap();
    let client = reqwest::Client::new();
    let mut watch = api.init_error();
    let first = client
        .post(format!("{}/init/error", base(&api)))
        .header(
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.ImportModuleError",
        )
        .body(r#"{"errorMessage":"x","errorType":"Runtime.ImportModuleError"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 202);
    let reported = watch
        .wait_for(Option::is_some)
        .await
        .unwrap()
        .clone()
        .unwrap();
    assert_eq!(
        reported.error_type.as_deref(),
        Some("Runtime.ImportModuleError")
    );
    let second = client
        .post(format!("{}/init/error", base(&api)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 403);
}

#[tokio::test]
async fn oversized_response_gets_413_and_the_invoker_an_error() {
    let api = RuntimeApi::start().await.unwrap();
    let client = reqwest::Client::new();
    let next = tokio::spawn(client.get(format!("{}/invocation/next", base(&api))).send());
    let reply = api.submit(invocation("req-3")).await;
    next.await.unwrap().unwrap();
    let big = vec![b'a'; 6 * 1024 * 1024 + 101];
    let answer = client
        .post(format!("{}/invocation/req-3/response", base(&api)))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["errorType"], json!("RequestEntityTooLarge"));
    assert_eq!(
        body["errorMessage"],
        json!("Exceeded maximum allowed payload size (6291556 bytes).")
    );
    match reply.await.unwrap() {
        Reply::Error { error_type, .. } => {
            assert_eq!(error_type.as_deref(), Some("Function.ResponseSizeTooLarge"))
        }
        other => panic!("{other:?}"),
    }
}

/// Sends a chunked, streaming-mode response with optional trailers.
async fn stream_response(api: &RuntimeApi, id: &str, chunks: &[&str], trailers: &str) -> String {
    let mut sock = tokio::net::TcpStream::connect(api.address()).await.unwrap();
    let mut req = format!(
        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    );
    for c in chunks {
        req.push_str(&format!("{:x}\r\n{c}\r\n", c.len()));
    }
    req.push_str(&format!("0\r\n{trailers}\r\n"));
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn streaming_mode_collects_chunks_and_reads_errors_from_trailers() {
    let api = RuntimeApi::start().await.unwrap();
    let client = reqwest::Client::new();

    let next = tokio::spawn(client.get(format!("{}/invocation/next", base(&api))).send());
    let reply = api.submit(invocation("s-1")).await;
    next.await.unwrap().unwrap();
    let answer = stream_response(&api, "s-1", &["hello ", "streamed ", "world"], "").await;
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert_eq!(
        reply.await.unwrap(),
        Reply::Response {
            body: Bytes::from_static(b"hello streamed world"),
            content_type: Some("text/plain".into()),
            streamed: true
        }
    );

    let next = tokio::spawn(client.get(format!("{}/invocation/next", base(&api))).send());
    let reply = api.submit(invocation("s-2")).await;
    next.await.unwrap().unwrap();
    // base64 of {"errorMessage":"mid-stream","errorType":"StreamError"}
    let body = "eyJlcnJvck1lc3NhZ2UiOiJtaWQtc3RyZWFtIiwiZXJyb3JUeXBlIjoiU3RyZWFtRXJyb3IifQ==";
    let trailers = format!(
        "Lambda-Runtime-Function-Error-Type: StreamError\r\nLambda-Runtime-Function-Error-Body: {body}\r\n"
    );
    let answer = stream_response(&api, "s-2", &["partial"], &trailers).await;
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    match reply.await.unwrap() {
        Reply::Error { error_type, body } => {
            assert_eq!(error_type.as_deref(), Some("StreamError"));
            assert_eq!(
                serde_json::from_slice::<Value>(&body).unwrap()["errorMessage"],
                json!("mid-stream")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn asking_for_the_next_event_abandons_an_unanswered_one() {
    let api = RuntimeApi::start().await.unwrap();
    let client = reqwest::Client::new();
    let next = tokio::spawn(client.get(format!("{}/invocation/next", base(&api))).send());
    let reply = api.submit(invocation("req-4")).await;
    next.await.unwrap().unwrap();

    let _waiting = tokio::spawn(client.get(format!("{}/invocation/next", base(&api))).send());
    let abandoned = tokio::time::timeout(Duration::from_secs(10), reply)
        .await
        .expect("the invoker hears of it");
    assert!(abandoned.is_err(), "no reply comes: {abandoned:?}");

    let late = client
        .post(format!("{}/invocation/req-4/response", base(&api)))
        .body("1")
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 403, "a late answer is a repeated one");
}
