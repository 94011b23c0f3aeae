//! Real AWS APIs for the deploy tests: a moto server on a free 127.0.0.1 port,
//! a fault-injecting HTTP proxy between slipway and moto, the AWS CLI, and
//! built artifacts written with slipway's own zip writer.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use slipway_artifact::Manifest;

use crate::support::Project;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/slipway-test-exec";
/// Fake credentials for moto; the tests grep every output for the secret.
pub const ACCESS_KEY: &str = "AKIASLIPWAYTESTING01";
pub const SECRET_KEY: &str = "slipway-test-secret-Kq93bZ0wLx7vT2mN";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
    pub port: u16,
}

impl Moto {
    /// Starts `python3 -m moto.server` on a free port and waits until it answers.
    pub fn start() -> Moto {
        Moto::start_with(false)
    }

    /// With AWS's managed IAM policies loaded (slower to start).
    pub fn with_managed_policies() -> Moto {
        Moto::start_with(true)
    }

    fn start_with(managed_policies: bool) -> Moto {
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env(
                "MOTO_IAM_LOAD_MANAGED_POLICIES",
                if managed_policies { "true" } else { "false" },
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m moto.server starts (pip install 'moto[server]')");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.write_all(b"GET /moto-api/ HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read(&mut buf).is_ok_and(|n| n > 0) {
                    return moto;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto server did not start on port {port}");
    }

    /// moto checks that the execution role exists, as Lambda does.
    pub fn with_role(self) -> Moto {
        self.create_role();
        self
    }

    /// Creates [`ROLE`], trusted by Lambda.
    fn create_role(&self) {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        self.aws(&[
            "iam",
            "create-role",
            "--role-name",
            "slipway-test-exec",
            "--assume-role-policy-document",
            trust,
        ]);
    }

    /// The AWS CLI against this server, answering JSON.
    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        aws_cli(&self.url, args)
    }

    /// Whether the AWS CLI call succeeds against this server (a read of
    /// something that may be gone), and what it printed.
    pub fn aws_succeeds(&self, args: &[&str]) -> (bool, String) {
        let out = aws_command(&self.url, args);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aws_command(url: &str, args: &[&str]) -> std::process::Output {
    Command::new("aws")
        .args(args)
        .args([
            "--endpoint-url",
            url,
            "--region",
            REGION,
            "--output",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI runs")
}

/// Runs the AWS CLI (`aws … --endpoint-url URL`) with the fake credentials.
pub fn aws_cli(url: &str, args: &[&str]) -> serde_json::Value {
    let out = aws_command(url, args);
    assert!(
        out.status.success(),
        "aws {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).expect("aws prints JSON")
    }
}

/// What slipway under test gets from the environment: fake credentials, a
/// region and an endpoint, and none of the developer's own AWS settings.
fn aws_env(endpoint: &str) -> [(&'static str, String); 5] {
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}
const AWS_ENV_REMOVED: [&str; 3] = ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS"];

/// `slipway` set up for a region, fake credentials and an endpoint.
pub fn slipway_aws(project: &Project, endpoint: &str) -> assert_cmd::Command {
    let mut cmd = project.slipway();
    cmd.envs(aws_env(endpoint));
    for var in AWS_ENV_REMOVED {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `slipway build` (the real pipeline: zip, manifest, SBOMs, provenance)
/// and returns the function's manifest.
pub fn slipway_build(project: &Project, function: &str) -> Manifest {
    let out = project
        .slipway()
        .args(["build", function, "--format", "json"])
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("slipway runs");
    assert!(
        out.status.success(),
        "slipway build failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Manifest::read(&project.join(&format!("dist/{function}/manifest.json")))
        .expect("manifest written")
}

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 TooManyRequestsException, not forwarded.
    Throttle,
    /// 409 ResourceConflictException (an update in progress), not forwarded.
    Conflict,
    /// 500 ServiceException, not forwarded.
    ServerError,
    /// 412 PreconditionFailedException: the RevisionId sent is stale.
    StaleRevision,
    /// The connection closes before the request reaches moto.
    DropBefore,
    /// moto handles the request, then the connection closes before the answer.
    DropAfter,
}

/// Which requests a fault waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    AnyLambda,
    LambdaWrite,
}

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// `X-Amz-Target` for JSON-protocol services (SQS).
    pub target: Option<String>,
    /// The start of the body, for form-encoded (query protocol) calls such as STS.
    pub body_start: String,
    pub fault: Option<Fault>,
}

impl Seen {
    pub fn is_lambda(&self) -> bool {
        self.path.starts_with("/20")
    }

    /// A call that changes state on AWS.
    pub fn is_write(&self) -> bool {
        match self.method.as_str() {
            "GET" | "HEAD" => false,
            "POST"
                if self.target.as_deref().is_some_and(|t| {
                    let op = t.rsplit('.').next().unwrap_or_default();
                    op.starts_with("Get") || op.starts_with("List")
                }) =>
            {
                false
            }
            _ => true,
        }
    }
}

#[derive(Default)]
struct ProxyState {
    seen: Vec<Seen>,
    faults: VecDeque<(Matching, Fault)>,
    /// Hold the answer of the request with this index (0-based, all requests) forever.
    hold_at: Option<usize>,
    holding: bool,
    /// (path fragment, from, to): rewrite answers to matching GET requests.
    rewrite: Option<(String, String, String)>,
}

/// An HTTP proxy in front of moto that records every request and injects faults.
pub struct Proxy {
    pub url: String,
    state: Arc<(Mutex<ProxyState>, Condvar)>,
}

impl Proxy {
    pub fn start(upstream_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new((Mutex::new(ProxyState::default()), Condvar::new()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream_port, &shared);
                });
            }
        });
        Proxy { url, state }
    }

    pub fn inject(&self, matching: Matching, faults: &[Fault]) {
        let mut s = self.state.0.lock().unwrap();
        s.faults.extend(faults.iter().map(|f| (matching, *f)));
    }

    /// Forward request `index` (0-based) to moto, then never answer it.
    pub fn hold_at(&self, index: usize) {
        let mut s = self.state.0.lock().unwrap();
        s.hold_at = Some(index);
        s.holding = false;
    }

    /// Waits until the held request has reached moto and been answered there.
    pub fn wait_holding(&self, timeout: Duration) -> bool {
        let (lock, cvar) = &*self.state;
        let guard = lock.lock().unwrap();
        let (guard, _) = cvar
            .wait_timeout_while(guard, timeout, |s| !s.holding)
            .unwrap();
        guard.holding
    }

    pub fn release(&self) {
        let mut s = self.state.0.lock().unwrap();
        s.hold_at = None;
        s.holding = false;
        s.seen.clear();
    }

    /// Rewrites `from` into `to` in the answers to GET requests whose path contains `path`.
    pub fn rewrite(&self, path: &str, from: &str, to: &str) {
        self.state.0.lock().unwrap().rewrite = Some((path.into(), from.into(), to.into()));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.0.lock().unwrap().seen.clone()
    }

    pub fn clear(&self) {
        self.state.0.lock().unwrap().seen.clear();
    }

    pub fn writes(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(Seen::is_write).collect()
    }
}

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let header = |name: &str| {
        head.iter().skip(1).find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut body = Vec::new();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        // Kept raw: moto gets the same chunked bytes.
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            body.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    }
    Ok(Some(Request { head, body }))
}

fn error_response(fault: Fault) -> Vec<u8> {
    let (status, code, message) = match fault {
        Fault::Throttle => (
            "429 Too Many Requests",
            "TooManyRequestsException",
            "Rate exceeded",
        ),
        Fault::Conflict => (
            "409 Conflict",
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress for resource",
        ),
        Fault::StaleRevision => (
            "412 Precondition Failed",
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id",
        ),
        _ => (
            "500 Internal Server Error",
            "ServiceException",
            "injected failure",
        ),
    };
    let body = format!("{{\"Type\":\"Service\",\"message\":\"{message}\"}}");
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: injected\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve(
    conn: TcpStream,
    upstream_port: u16,
    shared: &Arc<(Mutex<ProxyState>, Condvar)>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let mut parts = request.head[0].split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let target = request.head.iter().skip(1).find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("x-amz-target")
            .then(|| v.trim().to_string())
    });
    let mut seen = Seen {
        method,
        path,
        target,
        body_start: String::from_utf8_lossy(&request.body[..request.body.len().min(256)])
            .into_owned(),
        fault: None,
    };
    let hold = {
        let mut s = shared.0.lock().unwrap();
        let position = s
            .faults
            .iter()
            .position(|(m, _)| seen.is_lambda() && (*m == Matching::AnyLambda || seen.is_write()));
        if let Some(i) = position {
            seen.fault = s.faults.remove(i).map(|(_, f)| f);
        }
        let index = s.seen.len();
        s.seen.push(seen.clone());
        s.hold_at == Some(index)
    };
    let rewrite = shared
        .0
        .lock()
        .unwrap()
        .rewrite
        .clone()
        .filter(|(fragment, _, _)| seen.method == "GET" && seen.path.contains(fragment.as_str()));
    let mut client = conn;
    match seen.fault {
        Some(
            f @ (Fault::Throttle | Fault::Conflict | Fault::ServerError | Fault::StaleRevision),
        ) => {
            client.write_all(&error_response(f))?;
            return client.shutdown(Shutdown::Both);
        }
        Some(Fault::DropBefore) => return client.shutdown(Shutdown::Both),
        _ => {}
    }
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
    let mut out = Vec::new();
    out.extend_from_slice(request.head[0].as_bytes());
    out.extend_from_slice(b"\r\n");
    for h in request.head.iter().skip(1) {
        let name = h.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("expect") {
            continue;
        }
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&request.body);
    upstream.write_all(&out)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    if hold {
        let (lock, cvar) = &**shared;
        let mut s = lock.lock().unwrap();
        s.holding = true;
        cvar.notify_all();
        // The test kills slipway now; the answer never goes out.
        let _ = cvar.wait_timeout(s, Duration::from_secs(120));
        return client.shutdown(Shutdown::Both);
    }
    if seen.fault == Some(Fault::DropAfter) {
        return client.shutdown(Shutdown::Both);
    }
    if let Some((_, from, to)) = rewrite {
        // Same length keeps Content-Length right.
        assert_eq!(from.len(), to.len());
        response = String::from_utf8_lossy(&response)
            .replace(&from, &to)
            .into_bytes();
    }
    client.write_all(&close_response(&response))?;
    client.shutdown(Shutdown::Both)
}

/// The answer with its `Connection` header replaced by `close`: one request per connection.
fn close_response(response: &[u8]) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..end]);
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        if i > 0
            && line
                .split(':')
                .next()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("connection"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&response[end + 4..]);
    bytes
}

/// Every file under `dir`, for grepping.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Like [`slipway_aws`], as a plain process the test can kill.
pub fn slipway_aws_process(project: &Project, endpoint: &str) -> Command {
    #[allow(deprecated)]
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("slipway"));
    cmd.current_dir(project.path())
        .env_remove("SLIPWAY_CONFIG")
        .env("SLIPWAY_CACHE_DIR", project.join(".test-cache"))
        .envs(aws_env(endpoint))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for var in AWS_ENV_REMOVED {
        cmd.env_remove(var);
    }
    cmd
}

impl Moto {
    /// Forgets every resource (moto's reset API), then recreates the execution role.
    pub fn reset(&self) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(b"POST /moto-api/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
            "{answer}"
        );
        self.create_role();
    }
}
