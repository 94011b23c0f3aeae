//! `slipway serve`: the Lambda Invoke API and the Function URL front over
//! warm pools, and a rebuild + restart when a function's sources change.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, Path as UrlPath, Query, Request, State,
};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use base64::Engine;
use serde_json::json;

use crate::LocalError;
use crate::function_url::{HttpRequest, request_event, response_from_result};
use crate::instance::{InvokeRequest, LOCAL_ACCOUNT_ID};
use crate::pool::Pool;
use crate::task::BuiltFunction;

/// Lambda's limit on a synchronous invocation's request payload.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// Refuses an event larger than Lambda accepts for a synchronous invocation,
/// as the Invoke API does (`slipway invoke --event`).
pub fn check_event_size(event: &[u8]) -> Result<(), crate::LocalError> {
    if event.len() > MAX_REQUEST_BYTES {
        return Err(crate::LocalError::EventTooLarge {
            size: event.len(),
            max: MAX_REQUEST_BYTES,
        });
    }
    Ok(())
}
/// Lambda's limit on an asynchronous (`Event`) invocation's payload.
const MAX_EVENT_REQUEST_BYTES: usize = 1024 * 1024;
/// `X-Amz-Log-Result` carries the last 4 KB of the invocation's log.
const LOG_TAIL_BYTES: usize = 4096;

/// The functions being served, by name.
#[derive(Clone)]
pub struct Served {
    pub pools: Arc<BTreeMap<String, Arc<Pool>>>,
    pub region: String,
    /// Each function's `[functions.X.url.cors]`, when it has one.
    pub cors: Arc<BTreeMap<String, slipway_config::Cors>>,
}

/// The Invoke API under `/2015-03-31/functions/…`, the Function URL front
/// under `/lambda-url/<function>/…`, and (with one function) every other
/// path as that function's URL.
pub fn router(served: Served) -> Router {
    let mut router = Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke_api))
        .route("/lambda-url/{function}", any(function_url_prefixed))
        // The URL serve prints ends in `/`, which `{*path}` does not match empty.
        .route("/lambda-url/{function}/", any(function_url_prefixed))
        .route("/lambda-url/{function}/{*path}", any(function_url_prefixed));
    if served.pools.len() == 1 {
        router = router.fallback(function_url_only);
    }
    router
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES + 1))
        .with_state(served)
}

/// Binds `127.0.0.1:port` (0 picks a free port).
pub async fn bind(port: u16) -> Result<tokio::net::TcpListener, LocalError> {
    let address = format!("127.0.0.1:{port}");
    tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|source| LocalError::Listen { address, source })
}

/// Serves `router` on `listener` until the process ends.
pub async fn run(listener: tokio::net::TcpListener, router: Router) -> Result<(), LocalError> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .map_err(|e| LocalError::io("the server stopped", e))
}

fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [
            ("content-type", "application/json".to_owned()),
            ("x-amzn-errortype", format!("{kind}:")),
            ("x-amzn-requestid", uuid::Uuid::new_v4().to_string()),
        ],
        json!({ "Type": "User", "message": message, "Message": message }).to_string(),
    )
        .into_response()
}

/// `name`, `name:qualifier`, a partial ARN or a full ARN → (name, qualifier).
fn function_and_qualifier(raw: &str) -> (String, Option<String>) {
    let tail = match raw.find("function:") {
        Some(i) => &raw[i + "function:".len()..],
        None => raw,
    };
    match tail.split_once(':') {
        Some((name, q)) => (name.to_owned(), Some(q.to_owned())),
        None => (tail.to_owned(), None),
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn log_tail(logs: &str) -> String {
    let bytes = logs.as_bytes();
    let start = bytes.len().saturating_sub(LOG_TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&bytes[start..])
}

async fn invoke_api(
    State(served): State<Served>,
    UrlPath(name): UrlPath<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (function, qualifier) = function_and_qualifier(&name);
    let qualifier = qualifier.or_else(|| query.get("Qualifier").cloned());
    let arn = format!(
        "arn:aws:lambda:{}:{LOCAL_ACCOUNT_ID}:function:{function}",
        served.region
    );
    let Some(pool) = served.pools.get(&function).cloned() else {
        return aws_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {arn}"),
        );
    };
    if let Some(q) = qualifier.filter(|q| q != "$LATEST") {
        return aws_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {arn}:{q} (slipway serves $LATEST only)"),
        );
    }
    let invocation_type =
        header(&headers, "x-amz-invocation-type").unwrap_or_else(|| "RequestResponse".into());
    let limit = if invocation_type == "Event" {
        MAX_EVENT_REQUEST_BYTES
    } else {
        MAX_REQUEST_BYTES
    };
    if body.len() > limit {
        return aws_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        );
    }
    // Checked, not parsed: the payload goes on as the bytes it came as.
    if !body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not parse request body into json",
        );
    }
    let client_context = header(&headers, "x-amz-client-context").and_then(|c| {
        base64::engine::general_purpose::STANDARD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    });
    let request = InvokeRequest {
        payload: body,
        client_context,
        cognito_identity: None,
    };
    match invocation_type.as_str() {
        "DryRun" => (
            StatusCode::NO_CONTENT,
            [("x-amzn-requestid", uuid::Uuid::new_v4().to_string())],
        )
            .into_response(),
        "Event" => {
            tokio::spawn(async move {
                let _ = pool.invoke(request).await;
            });
            (
                StatusCode::ACCEPTED,
                [("x-amzn-requestid", uuid::Uuid::new_v4().to_string())],
            )
                .into_response()
        }
        "RequestResponse" => match pool.invoke(request).await {
            Ok(outcome) => {
                let mut response = Response::new(Body::from(outcome.payload.clone()));
                *response.status_mut() = StatusCode::OK;
                let h = response.headers_mut();
                let mut put = |k: &'static str, v: &str| {
                    if let Ok(v) = v.parse() {
                        h.insert(k, v);
                    }
                };
                put(
                    "content-type",
                    outcome
                        .content_type
                        .as_deref()
                        .unwrap_or("application/json"),
                );
                put("x-amzn-requestid", &outcome.request_id);
                put("x-amz-executed-version", "$LATEST");
                if let Some(e) = &outcome.function_error {
                    put("x-amz-function-error", e);
                }
                if header(&headers, "x-amz-log-type").as_deref() == Some("Tail") {
                    put("x-amz-log-result", &log_tail(&outcome.logs));
                }
                response
            }
            Err(e) => aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                &e.to_string(),
            ),
        },
        other => aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            &format!("Unsupported invocation type {other}: use RequestResponse, Event or DryRun"),
        ),
    }
}

/// `/lambda-url/<function>` and every path under it. `rawPath` is what
/// follows the function's name, still percent-encoded, as Lambda passes it.
async fn function_url_prefixed(
    State(served): State<Served>,
    UrlPath(params): UrlPath<BTreeMap<String, String>>,
    call: UrlCall,
) -> Response {
    let function = params.get("function").cloned().unwrap_or_default();
    let raw = match call
        .uri
        .path()
        .strip_prefix(&format!("/lambda-url/{function}"))
    {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => "/".to_owned(),
    };
    function_url(served, &function, raw, call).await
}

async fn function_url_only(State(served): State<Served>, call: UrlCall) -> Response {
    let function = served.pools.keys().next().cloned().unwrap_or_default();
    let path = call.uri.path().to_owned();
    function_url(served, &function, path, call).await
}

/// The HTTP request of a Function URL call, as both routes extract it.
struct UrlCall {
    extensions: axum::http::Extensions,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for UrlCall {
    type Rejection = axum::extract::rejection::BytesRejection;

    async fn from_request(request: Request, state: &S) -> Result<UrlCall, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let (extensions, method, uri, headers) = (
            parts.extensions.clone(),
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        // The body is read with the request's own parts: they carry the
        // body-size limit the router set.
        let body = Bytes::from_request(Request::from_parts(parts, body), state).await?;
        Ok(UrlCall {
            extensions,
            method,
            uri,
            headers,
            body,
        })
    }
}

/// Serves one Function URL call to `function`; `path` is the `rawPath` Lambda would pass.
async fn function_url(served: Served, function: &str, path: String, call: UrlCall) -> Response {
    let UrlCall {
        extensions,
        method,
        uri,
        headers,
        body,
    } = call;
    let Some(pool) = served.pools.get(function).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            json!({ "Message": format!("no function named `{function}` is served here") })
                .to_string(),
        )
            .into_response();
    };
    let cors = served.cors.get(function);
    let origin = header(&headers, "origin");
    if let Some(cors) = cors {
        let requested = header(&headers, "access-control-request-method");
        if let Some(answer) = crate::function_url::cors::preflight(
            cors,
            method.as_str(),
            origin.as_deref(),
            requested.as_deref(),
        ) {
            return http_response(answer);
        }
    }
    let request = HttpRequest {
        method: method.as_str().to_owned(),
        path,
        query: uri.query().unwrap_or("").to_owned(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
        source_ip: extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "127.0.0.1".into()),
    };
    let event = request_event(&request, &served.region);
    let outcome = pool
        .invoke(InvokeRequest {
            payload: Bytes::from(event.to_string()),
            ..Default::default()
        })
        .await;
    let mut mapped = match outcome {
        Ok(o) => response_from_result(&o.payload, o.function_error.is_some()),
        Err(e) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    if let Some(cors) = cors {
        crate::function_url::cors::decorate(cors, origin.as_deref(), &mut mapped);
    }
    http_response(mapped)
}

fn http_response(mapped: crate::function_url::HttpResponse) -> Response {
    let mut response = Response::new(Body::from(mapped.body));
    *response.status_mut() =
        StatusCode::from_u16(mapped.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    for (name, value) in mapped.headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            h.append(n, v);
        }
    }
    response
}

/// Rebuilds a function and returns its `dist/<function>/` folder.
pub type Rebuild = Arc<dyn Fn(&str) -> Result<PathBuf, String> + Send + Sync>;

/// A cheap fingerprint of a source folder: every file's path, size and
/// modification time. Polling it keeps slipway free of platform file-watch
/// APIs; twice a second is quick enough for an edit-and-retry loop.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut v: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| {
            let n = e.file_name().to_string_lossy();
            !(n.starts_with('.') && e.depth() > 0 || n == "__pycache__" || n == "dist")
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path().to_path_buf(), m.len(), m.modified().ok()))
        })
        .collect();
    v.sort();
    v
}

/// What the watcher reports.
#[derive(Debug, Clone)]
pub enum ReloadEvent {
    Rebuilt { function: String },
    Failed { function: String, message: String },
}

/// Watches `source` and, on a change, rebuilds and switches `pool` to the
/// new artifact. Runs until the process ends.
pub async fn watch_and_reload(
    pool: Arc<Pool>,
    source: PathBuf,
    rebuild: Rebuild,
    report: Arc<dyn Fn(ReloadEvent) + Send + Sync>,
) {
    let mut last = fingerprint(&source);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = fingerprint(&source);
        if now == last {
            continue;
        }
        last = now;
        let name = pool.name().to_owned();
        let rebuild = rebuild.clone();
        let n = name.clone();
        let result = tokio::task::spawn_blocking(move || rebuild(&n))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
            .and_then(|dist| BuiltFunction::open(&dist).map_err(|e| e.to_string()))
            .and_then(|built| pool.reload(built).map_err(|e| e.to_string()));
        match result {
            Ok(false) => {}
            Ok(true) => report(ReloadEvent::Rebuilt { function: name }),
            Err(message) => report(ReloadEvent::Failed {
                function: name,
                message,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_arns_and_qualifiers() {
        assert_eq!(function_and_qualifier("f"), ("f".into(), None));
        assert_eq!(
            function_and_qualifier("f:live"),
            ("f".into(), Some("live".into()))
        );
        assert_eq!(
            function_and_qualifier("arn:aws:lambda:us-east-1:123456789012:function:f"),
            ("f".into(), None)
        );
        assert_eq!(
            function_and_qualifier("123456789012:function:f:$LATEST"),
            ("f".into(), Some("$LATEST".into()))
        );
    }
}
