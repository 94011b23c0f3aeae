//! A Terraform `http` backend on 127.0.0.1, speaking the protocol as GitLab's
//! managed state does: `GET`/`POST` the state at its address, and locks taken
//! either with `LOCK`/`UNLOCK` on the same address (Terraform's defaults) or
//! with `POST`/`DELETE` on `<address>/lock` (GitLab's). Basic auth as GitLab
//! asks for it. A held lock answers 423 with the holder's lock info.
//!
//! `hold_writes` makes the next state write wait until `release`, so a test
//! can keep one apply inside its lock while a second one tries.

use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;

#[derive(Default)]
struct Store {
    state: Option<Vec<u8>>,
    /// The lock holder's info as Terraform sent it (JSON with `ID`).
    lock: Option<String>,
    refused_locks: usize,
    writes: usize,
    hold_writes: bool,
    holding: bool,
}

#[derive(Clone)]
struct Shared {
    store: Arc<(Mutex<Store>, Condvar)>,
    credentials: String,
}

pub struct StateServer {
    shared: Shared,
    pub url: String,
    _thread: std::thread::JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl StateServer {
    /// Starts the server; it accepts `user`/`password` as basic auth.
    pub fn start(user: &str, password: &str) -> StateServer {
        let shared = Shared {
            store: Arc::new((Mutex::new(Store::default()), Condvar::new())),
            credentials: base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{password}")),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app_shared = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = Router::new().fallback(move |method, uri, headers, body| {
                    let shared = app_shared.clone();
                    async move { handle(shared, method, uri, headers, body).await }
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        StateServer {
            shared,
            url: format!("http://{addr}"),
            _thread: thread,
            shutdown: Some(tx),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.shared.store.0.lock().unwrap()
    }

    pub fn state(&self) -> Option<serde_json::Value> {
        self.store()
            .state
            .as_ref()
            .map(|s| serde_json::from_slice(s).expect("state is JSON"))
    }

    pub fn locked_by(&self) -> Option<String> {
        self.store().lock.clone()
    }

    pub fn refused_locks(&self) -> usize {
        self.store().refused_locks
    }

    pub fn writes(&self) -> usize {
        self.store().writes
    }

    pub fn hold_writes(&self) {
        self.store().hold_writes = true;
    }

    /// Waits until a write is being held; false on timeout.
    pub fn wait_holding(&self, timeout: Duration) -> bool {
        let (lock, cvar) = &*self.shared.store;
        let guard = lock.lock().unwrap();
        let (guard, _) = cvar
            .wait_timeout_while(guard, timeout, |s| !s.holding)
            .unwrap();
        guard.holding
    }

    pub fn release(&self) {
        let (lock, cvar) = &*self.shared.store;
        lock.lock().unwrap().hold_writes = false;
        cvar.notify_all();
    }
}

impl Drop for StateServer {
    fn drop(&mut self) {
        self.release();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn lock_id(info: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(info)
        .ok()?
        .get("ID")?
        .as_str()
        .map(str::to_string)
}

async fn handle(
    shared: Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .is_some_and(|v| v == shared.credentials);
    if !authorised {
        return (StatusCode::UNAUTHORIZED, "401 Unauthorized").into_response();
    }
    let lock_path = uri.path().ends_with("/lock");
    let store = shared.store.clone();
    // Holding a write blocks; keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let (mutex, cvar) = &*store;
        let mut s = mutex.lock().unwrap();
        match (method.as_str(), lock_path) {
            ("GET", false) => match &s.state {
                Some(state) => (StatusCode::OK, state.clone()).into_response(),
                None => StatusCode::NO_CONTENT.into_response(),
            },
            ("POST", false) => {
                // Terraform names its lock in `?ID=`; a write by anyone else is refused.
                let id = uri
                    .query()
                    .and_then(|q| form_pairs(q).find(|(k, _)| k == "ID").map(|(_, v)| v));
                if let Some(holder) = s.lock.as_deref().and_then(lock_id)
                    && id.as_deref() != Some(holder.as_str())
                {
                    return (StatusCode::CONFLICT, "locked by another client").into_response();
                }
                if s.hold_writes {
                    s.holding = true;
                    cvar.notify_all();
                    s = cvar.wait_while(s, |s| s.hold_writes).unwrap();
                    s.holding = false;
                }
                s.state = Some(body.to_vec());
                s.writes += 1;
                StatusCode::OK.into_response()
            }
            ("DELETE", false) => {
                s.state = None;
                StatusCode::OK.into_response()
            }
            ("LOCK", false) | ("POST", true) => {
                let info = String::from_utf8_lossy(&body).into_owned();
                match s.lock.clone() {
                    Some(held) => {
                        s.refused_locks += 1;
                        (StatusCode::LOCKED, held).into_response()
                    }
                    None => {
                        s.lock = Some(info);
                        StatusCode::OK.into_response()
                    }
                }
            }
            ("UNLOCK", false) | ("DELETE", true) => {
                let id = lock_id(&String::from_utf8_lossy(&body));
                let holder = s.lock.as_deref().and_then(lock_id);
                // Terraform's `force-unlock` sends no body.
                if id.is_some() && holder.is_some() && id != holder {
                    return (StatusCode::CONFLICT, s.lock.clone().unwrap_or_default())
                        .into_response();
                }
                s.lock = None;
                StatusCode::OK.into_response()
            }
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    })
    .await
    .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        Some((k.to_string(), percent_decode(v)))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
