//! The Invoke API's refusals, answered as Lambda answers them and before any
//! environment starts.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use slipway_local::pool::Pool;
use slipway_local::serve::{Served, bind, router, run};
use slipway_local::{InvokeRequest, RuntimeClient};
use support::{build, collecting_sink, spec};

const APP: &str = "def handler(event, context):\n    return event\n";

/// `slipway serve` for one function named `hello`; returns its URL and pool.
async fn serve_hello() -> (String, Arc<Pool>, support::Dist) {
    let dist = build("hello", "python3.11", "app.handler", &[("app.py", APP)]);
    let (sink, _) = collecting_sink();
    let pool = Arc::new(
        Pool::new(
            dist.built.clone(),
            spec(&dist, RuntimeClient::Builtin, 3),
            1,
            sink,
        )
        .unwrap(),
    );
    let served = Served {
        pools: Arc::new(BTreeMap::from([("hello".to_owned(), pool.clone())])),
        region: "eu-west-1".into(),
        cors: Arc::new(BTreeMap::new()),
    };
    let listener = bind(0).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(run(listener, router(served)));
    (url, pool, dist)
}

/// POSTs `body` to the Invoke API (`function` may end in `?query`); returns
/// the status, the error type header and the body.
async fn invoke(
    url: &str,
    function: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Option<String>, String) {
    let (function, query) = function.split_once('?').unwrap_or((function, ""));
    let mut request = reqwest::Client::new()
        .post(format!(
            "{url}/2015-03-31/functions/{function}/invocations?{query}"
        ))
        .body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, error_type, response.text().await.unwrap())
}

#[tokio::test]
async fn unknown_functions_and_qualifiers_are_not_found() {
    let (url, pool, _dist) = serve_hello().await;
    let (status, kind, body) = invoke(&url, "nope", &[], b"{}".to_vec()).await;
    assert_eq!(status, 404);
    assert_eq!(kind.as_deref(), Some("ResourceNotFoundException:"));
    assert!(
        body.contains("arn:aws:lambda:eu-west-1:123456789012:function:nope"),
        "{body}"
    );

    for function in ["hello:live", "hello?Qualifier=live"] {
        let (status, kind, body) = invoke(&url, function, &[], b"{}".to_vec()).await;
        assert_eq!(status, 404, "{function}");
        assert_eq!(kind.as_deref(), Some("ResourceNotFoundException:"));
        assert!(body.contains("$LATEST only"), "{body}");
    }
    let (status, _, _) = invoke(
        &url,
        "hello:$LATEST",
        &[("x-amz-invocation-type", "DryRun")],
        vec![],
    )
    .await;
    assert_eq!(status, 204);

    let response = reqwest::get(format!("{url}/lambda-url/nope/x"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.text().await.unwrap().contains("`nope`"));
    assert_eq!(pool.idle(), 0, "no environment started");
}

#[tokio::test]
async fn bad_payloads_and_invocation_types_are_refused() {
    let (url, pool, _dist) = serve_hello().await;
    for bad in [&b"{not json"[..], b"{} and more"] {
        let (status, kind, _) = invoke(&url, "hello", &[], bad.to_vec()).await;
        assert_eq!(status, 400);
        assert_eq!(kind.as_deref(), Some("InvalidRequestContentException:"));
    }

    let (status, kind, body) = invoke(
        &url,
        "hello",
        &[("x-amz-invocation-type", "Later")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(kind.as_deref(), Some("InvalidParameterValueException:"));
    assert!(body.contains("Unsupported invocation type Later"), "{body}");

    // A string of this many bytes, quoted: valid JSON just over each limit.
    let json_of = |len: usize| {
        let mut v = vec![b'"'; 1];
        v.resize(len - 1, b'x');
        v.push(b'"');
        v
    };
    let (status, kind, body) = invoke(
        &url,
        "hello",
        &[("x-amz-invocation-type", "Event")],
        json_of(1024 * 1024 + 1),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(kind.as_deref(), Some("RequestTooLargeException:"));
    assert!(body.contains("smaller than 1048576 bytes"), "{body}");
    let (status, kind, body) = invoke(&url, "hello", &[], json_of(6 * 1024 * 1024 + 1)).await;
    assert_eq!(status, 413);
    assert_eq!(kind.as_deref(), Some("RequestTooLargeException:"));
    assert!(body.contains("smaller than 6291456 bytes"), "{body}");
    assert_eq!(pool.idle(), 0, "no environment started");
}

#[test]
fn an_event_over_six_megabytes_is_refused_before_any_invocation() {
    use slipway_local::serve::{MAX_REQUEST_BYTES, check_event_size};
    check_event_size(&vec![b' '; MAX_REQUEST_BYTES]).unwrap();
    let err = check_event_size(&vec![b' '; MAX_REQUEST_BYTES + 1]).unwrap_err();
    assert!(err.to_string().contains("6291457 bytes"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prefixed_function_url_passes_the_raw_path_under_it() {
    let (url, _pool, _dist) = serve_hello().await;
    for (path, raw) in [
        ("/lambda-url/hello", "/"),
        ("/lambda-url/hello/", "/"),
        ("/lambda-url/hello/a%20b/c", "/a%20b/c"),
    ] {
        let response = reqwest::get(format!("{url}{path}?k=v")).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let event: serde_json::Value = response.json().await.unwrap();
        assert_eq!(event["rawPath"], raw, "{path}");
        assert_eq!(event["rawQueryString"], "k=v", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_with_the_same_zips_keeps_the_warm_environments() {
    let (_url, pool, dist) = serve_hello().await;
    pool.invoke(InvokeRequest::default()).await.unwrap();
    assert_eq!(pool.idle(), 1);
    assert!(!pool.reload(dist.built.clone()).unwrap());
    assert_eq!(
        pool.idle(),
        1,
        "an unchanged build keeps the warm environment"
    );

    let changed = build(
        "hello",
        "python3.11",
        "app.handler",
        &[("app.py", "def handler(event, context):\n    return 2\n")],
    );
    assert!(pool.reload(changed.built.clone()).unwrap());
    assert_eq!(pool.idle(), 0);
    let outcome = pool.invoke(InvokeRequest::default()).await.unwrap();
    assert_eq!(&outcome.payload[..], b"2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_brings_its_own_handler_but_not_another_python() {
    let (_url, pool, _dist) = serve_hello().await;
    let renamed = build(
        "hello",
        "python3.11",
        "main.answer",
        &[(
            "main.py",
            "def answer(event, context):\n    return 'renamed'\n",
        )],
    );
    assert!(pool.reload(renamed.built.clone()).unwrap());
    let outcome = pool.invoke(InvokeRequest::default()).await.unwrap();
    assert_eq!(&outcome.payload[..], b"\"renamed\"", "{}", outcome.logs);

    let newer = build("hello", "python3.12", "app.handler", &[("app.py", APP)]);
    let err = pool.reload(newer.built.clone()).unwrap_err();
    assert!(
        matches!(err, slipway_local::LocalError::PythonVersion { .. }),
        "{err}"
    );
    let outcome = pool.invoke(InvokeRequest::default()).await.unwrap();
    assert_eq!(
        &outcome.payload[..],
        b"\"renamed\"",
        "still the previous build"
    );
}
