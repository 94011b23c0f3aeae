//! The Lambda Runtime API (`/2018-06-01`) for one execution environment.
//!
//! One server per runtime process, as Lambda gives each sandbox its own
//! endpoint. Invocations are handed in through [`RuntimeApi::submit`]; the
//! runtime's `invocation/next` call is held open until one exists. Status
//! codes and error bodies for wrong request ids, repeated replies and large
//! responses are the ones Lambda's own implementation (RAPID) answers with.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::sync::{mpsc, oneshot, watch};

use crate::LocalError;

/// Lambda's limit on a buffered response: 6 MB plus the 100 bytes of slack
/// the service allows (RAPID's `MaxPayloadSize`).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;
/// The soft limit on a streamed response.
pub const MAX_STREAMED_RESPONSE_BYTES: usize = 20 * 1024 * 1024;

const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";
const ERROR_BODY_TRAILER: &str = "lambda-runtime-function-error-body";
const RESPONSE_MODE_HEADER: &str = "lambda-runtime-function-response-mode";
/// How many answered request ids are remembered to tell a repeated reply
/// (403) from an unknown id (400).
const ANSWERED_MEMORY: usize = 64;

/// One event for the runtime, with the context Lambda sends in headers.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    /// Milliseconds since the epoch.
    pub deadline_ms: u64,
    pub function_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
}

/// What the runtime answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Response {
        body: Bytes,
        content_type: Option<String>,
        streamed: bool,
    },
    /// `invocation/{id}/error`, an error in a stream's trailers, or a
    /// response Lambda refuses (too large).
    Error {
        error_type: Option<String>,
        body: Bytes,
    },
}

/// What the runtime reported through `init/error`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitError {
    pub error_type: Option<String>,
    pub body: Bytes,
}

type Pending = (Invocation, oneshot::Sender<Reply>);

struct Active {
    request_id: String,
    reply: oneshot::Sender<Reply>,
}

#[derive(Default)]
struct Ledger {
    active: Option<Active>,
    answered: VecDeque<String>,
    init_error_reported: bool,
    first_next: Option<Instant>,
    user_agent: Option<String>,
}

impl Ledger {
    fn remember_answered(&mut self, id: String) {
        if self.answered.len() == ANSWERED_MEMORY {
            self.answered.pop_front();
        }
        self.answered.push_back(id);
    }
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    ledger: Mutex<Ledger>,
    init_error: watch::Sender<Option<InitError>>,
}

/// A running Runtime API endpoint.
pub struct RuntimeApi {
    address: SocketAddr,
    submit: mpsc::Sender<Pending>,
    shared: Arc<Shared>,
    init_error: watch::Receiver<Option<InitError>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts the endpoint on a free port of 127.0.0.1.
    pub async fn start() -> Result<RuntimeApi, LocalError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|source| LocalError::Listen {
                address: "127.0.0.1:0".into(),
                source,
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| LocalError::io("cannot read the Runtime API address", e))?;
        let (submit, queue) = mpsc::channel(1);
        let (init_tx, init_rx) = watch::channel(None);
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(queue),
            ledger: Mutex::new(Ledger::default()),
            init_error: init_tx,
        });
        let router = router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(RuntimeApi {
            address,
            submit,
            shared,
            init_error: init_rx,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Queues an invocation; the receiver yields the runtime's reply.
    /// Dropped without a value when the runtime asks for the next event
    /// without answering this one.
    pub async fn submit(&self, invocation: Invocation) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        // The receiving half lives as long as `shared`, which we hold.
        let _ = self.submit.send((invocation, tx)).await;
        rx
    }

    /// A watch that turns `Some` when the runtime reports an init error.
    pub fn init_error(&self) -> watch::Receiver<Option<InitError>> {
        self.init_error.clone()
    }

    /// When the runtime first asked for an event: the end of its init phase.
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.ledger.lock().unwrap().first_next
    }

    /// The `User-Agent` of the runtime client (awslambdaric names itself).
    pub fn user_agent(&self) -> Option<String> {
        self.shared.ledger.lock().unwrap().user_agent.clone()
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(shared)
}

fn error_body(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn invalid_request_id() -> Response {
    error_body(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn invalid_state(from: &str, to: &str) -> Response {
    error_body(
        StatusCode::FORBIDDEN,
        "InvalidStateTransition",
        &format!(
            "State transition from {from} to {to} failed for runtime. Error: State transition is not allowed"
        ),
    )
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

async fn next(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    {
        let mut ledger = shared.ledger.lock().unwrap();
        ledger.first_next.get_or_insert_with(Instant::now);
        if ledger.user_agent.is_none() {
            ledger.user_agent = headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
        // Asking for the next event abandons an unanswered one.
        if let Some(active) = ledger.active.take() {
            ledger.remember_answered(active.request_id);
        }
    }
    let pending = shared.queue.lock().await.recv().await;
    let Some((invocation, reply)) = pending else {
        return error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "the environment is shutting down",
        );
    };
    shared.ledger.lock().unwrap().active = Some(Active {
        request_id: invocation.request_id.clone(),
        reply,
    });
    let mut response = Response::new(Body::from(invocation.payload));
    let h = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put("content-type", "application/json");
    put("lambda-runtime-aws-request-id", &invocation.request_id);
    put(
        "lambda-runtime-deadline-ms",
        &invocation.deadline_ms.to_string(),
    );
    put(
        "lambda-runtime-invoked-function-arn",
        &invocation.function_arn,
    );
    put("lambda-runtime-trace-id", &invocation.trace_id);
    if let Some(cc) = &invocation.client_context {
        put("lambda-runtime-client-context", cc);
    }
    if let Some(ci) = &invocation.cognito_identity {
        put("lambda-runtime-cognito-identity", ci);
    }
    response
}

/// Takes the active invocation if `id` names it; otherwise the answer the
/// runtime gets instead.
fn claim(shared: &Shared, id: &str, to_state: &str) -> Result<Active, Response> {
    let mut ledger = shared.ledger.lock().unwrap();
    match &ledger.active {
        Some(active) if active.request_id == id => {
            let active = ledger.active.take().expect("checked above");
            ledger.remember_answered(id.to_owned());
            Ok(active)
        }
        _ if ledger.answered.iter().any(|a| a == id) => {
            Err(invalid_state("RuntimeResponseSent", to_state))
        }
        _ => Err(invalid_request_id()),
    }
}

fn too_large_error(limit: usize) -> Reply {
    let body = serde_json::json!({
        "errorMessage": format!("Response payload size exceeded maximum allowed payload size ({limit} bytes)."),
        "errorType": "Function.ResponseSizeTooLarge",
    });
    Reply::Error {
        error_type: Some("Function.ResponseSizeTooLarge".into()),
        body: Bytes::from(body.to_string()),
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let active = match claim(&shared, &id, "RuntimeInvocationResponse") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let streamed =
        header(&headers, RESPONSE_MODE_HEADER).is_some_and(|m| m.eq_ignore_ascii_case("streaming"));
    let limit = if streamed {
        MAX_STREAMED_RESPONSE_BYTES
    } else {
        MAX_RESPONSE_BYTES
    };
    let content_type = header(&headers, "content-type");
    let collected = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => c,
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let _ = active.reply.send(too_large_error(limit));
            return error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({limit} bytes)."),
            );
        }
        Err(_) => {
            let _ = active.reply.send(Reply::Error {
                error_type: Some("Runtime.TruncatedResponse".into()),
                body: Bytes::from_static(
                    br#"{"errorMessage":"HTTP request detected as truncated","errorType":"Runtime.TruncatedResponse"}"#,
                ),
            });
            return error_body(
                StatusCode::BAD_REQUEST,
                "TruncatedHTTPRequest",
                "HTTP request detected as truncated",
            );
        }
    };
    // A streaming runtime reports a failure mid-stream in the trailers.
    let trailer_error = collected.trailers().and_then(|t| {
        let error_type = header(t, ERROR_TYPE_HEADER)?;
        let body = header(t, ERROR_BODY_TRAILER)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default();
        Some((error_type, body))
    });
    let reply = match trailer_error {
        Some((error_type, body)) => Reply::Error {
            body: if body.is_empty() {
                default_error_body(&error_type)
            } else {
                Bytes::from(body)
            },
            error_type: Some(error_type),
        },
        None => Reply::Response {
            body: collected.to_bytes(),
            content_type,
            streamed,
        },
    };
    let _ = active.reply.send(reply);
    accepted()
}

fn default_error_body(error_type: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "errorMessage": "", "errorType": error_type }).to_string())
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let active = match claim(&shared, &id, "RuntimeInvocationErrorResponse") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let error_type = header(&headers, ERROR_TYPE_HEADER);
    let body = if body.is_empty() {
        default_error_body(error_type.as_deref().unwrap_or("Unknown"))
    } else {
        body
    };
    let _ = active.reply.send(Reply::Error { error_type, body });
    accepted()
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    {
        let mut ledger = shared.ledger.lock().unwrap();
        if ledger.init_error_reported || ledger.first_next.is_some() {
            return invalid_state("RuntimeReady", "RuntimeInitError");
        }
        ledger.init_error_reported = true;
    }
    let error_type = header(&headers, ERROR_TYPE_HEADER);
    let body = if body.is_empty() {
        default_error_body(error_type.as_deref().unwrap_or("Unknown"))
    } else {
        body
    };
    shared
        .init_error
        .send_replace(Some(InitError { error_type, body }));
    accepted()
}
