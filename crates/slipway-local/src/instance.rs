//! One execution environment: a runtime process behind its own Runtime API,
//! supervised as Lambda supervises it (environment, timeout, memory, logs).

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::LocalError;
use crate::native::Launch;
use crate::python::Interpreter;
use crate::runtime_api::{Invocation, Reply, RuntimeApi};
use crate::task::TaskRoot;

/// How long Lambda lets an environment initialise before its first event.
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// The account id in the ARNs the emulator hands to functions.
pub const LOCAL_ACCOUNT_ID: &str = "123456789012";

/// Which Runtime API client runs inside the Python process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeClient {
    /// awslambdaric when the interpreter can import it, else the built-in one.
    #[default]
    Auto,
    Awslambdaric,
    /// The small client slipway ships (`slipway_lambda_bootstrap.py`).
    Builtin,
}

impl RuntimeClient {
    fn env_value(self) -> &'static str {
        match self {
            RuntimeClient::Auto => "auto",
            RuntimeClient::Awslambdaric => "awslambdaric",
            RuntimeClient::Builtin => "builtin",
        }
    }
}

/// Everything about a function that shapes its execution environment,
/// besides what its build decides (handler and runtime: see [`TaskRoot`]).
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// The function's own variables (slipway.toml and `--env`).
    pub environment: BTreeMap<String, String>,
    pub region: String,
    /// The Python that runs a Python function; `None` for .NET and custom runtimes.
    pub interpreter: Option<Interpreter>,
    pub client: RuntimeClient,
    /// What Lambda's runtime itself provides (boto3, botocore), searched
    /// after the function and its layers, as Lambda's `/var/runtime` is.
    pub runtime_packages: Option<std::path::PathBuf>,
}

impl FunctionSpec {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{LOCAL_ACCOUNT_ID}:function:{}",
            self.region, self.name
        )
    }
}

/// Receives every log line: the function's output and Lambda's
/// START / END / REPORT lines, with the function's name.
pub type LogSink = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// One event to run, with the optional context Lambda passes along.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    pub payload: Bytes,
    /// Base64-decoded `X-Amz-Client-Context` (JSON).
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
}

/// What one invocation produced, as Lambda reports it.
#[derive(Debug, Clone, Serialize)]
pub struct InvokeOutcome {
    pub request_id: String,
    #[serde(skip)]
    pub payload: Bytes,
    pub content_type: Option<String>,
    /// `Unhandled` when the function failed, as in `X-Amz-Function-Error`.
    pub function_error: Option<String>,
    pub error_type: Option<String>,
    /// START … REPORT, everything the invocation logged.
    pub logs: String,
    pub duration_ms: f64,
    pub billed_duration_ms: u64,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u64,
    /// Set on the invocation that started the environment.
    pub init_duration_ms: Option<f64>,
    /// The Runtime API client's `User-Agent` (awslambdaric or slipway's).
    pub runtime_client: Option<String>,
    pub timed_out: bool,
}

enum LogCmd {
    Flush(oneshot::Sender<()>),
}

/// Reads the runtime's merged stdout and stderr, line by line, into the sink
/// and into the current invocation's capture.
struct LogPump {
    commands: mpsc::UnboundedSender<LogCmd>,
    captured: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
    function: String,
    sink: LogSink,
}

impl Drop for LogPump {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LogPump {
    fn start(reader: OwnedFd, function: String, sink: LogSink) -> std::io::Result<LogPump> {
        let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(reader)?;
        let captured = Arc::new(Mutex::new(String::new()));
        let (commands, mut rx) = mpsc::unbounded_channel();
        let capture = captured.clone();
        let (task_function, task_sink) = (function.clone(), sink.clone());
        let task = tokio::spawn(async move {
            let (function, sink) = (task_function, task_sink);
            let mut partial: Vec<u8> = Vec::new();
            let mut eof = false;
            let mut emit = |line: &[u8]| {
                let text = String::from_utf8_lossy(line);
                // Lambda's runtime joins a multi-line record (a traceback)
                // with carriage returns so it stays one log event.
                let text = text.trim_end_matches('\r').replace('\r', "\n");
                let text = text.as_str();
                sink(&function, text);
                let mut c = capture.lock().unwrap();
                c.push_str(text);
                c.push('\n');
            };
            // Reads what the pipe holds now; true at end of file.
            let drain = |partial: &mut Vec<u8>, emit: &mut dyn FnMut(&[u8])| -> bool {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match pipe.try_read(&mut buf) {
                        Ok(0) => return true,
                        Ok(n) => {
                            partial.extend_from_slice(&buf[..n]);
                            while let Some(pos) = partial.iter().position(|b| *b == b'\n') {
                                let line: Vec<u8> = partial.drain(..=pos).collect();
                                emit(&line[..line.len() - 1]);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                        Err(_) => return true,
                    }
                }
            };
            loop {
                tokio::select! {
                    biased;
                    cmd = rx.recv() => match cmd {
                        Some(LogCmd::Flush(done)) => {
                            if !eof {
                                eof = drain(&mut partial, &mut emit);
                            }
                            if !partial.is_empty() {
                                emit(&std::mem::take(&mut partial));
                            }
                            let _ = done.send(());
                        }
                        None => return,
                    },
                    ready = pipe.readable(), if !eof => {
                        if ready.is_err() {
                            eof = true;
                        } else {
                            eof = drain(&mut partial, &mut emit);
                        }
                    }
                }
            }
        });
        Ok(LogPump {
            commands,
            captured,
            task,
            function,
            sink,
        })
    }

    /// Waits until everything the runtime wrote so far has been read.
    async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(LogCmd::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    fn take(&self) -> String {
        std::mem::take(&mut *self.captured.lock().unwrap())
    }

    /// Adds one of Lambda's own lines (START, END, REPORT, timeouts).
    fn platform_line(&self, line: &str) {
        (self.sink)(&self.function, line);
        let mut c = self.captured.lock().unwrap();
        c.push_str(line);
        c.push('\n');
    }
}

/// A running execution environment.
pub struct Instance {
    spec: Arc<FunctionSpec>,
    _task: Arc<TaskRoot>,
    api: RuntimeApi,
    child: tokio::process::Child,
    pid: i32,
    logs: LogPump,
    started: Instant,
    cold: bool,
    alive: bool,
    max_rss_kb: u64,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn random_hex(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(n);
    s
}

fn trace_id() -> String {
    let epoch = time::OffsetDateTime::now_utc().unix_timestamp();
    format!(
        "Root=1-{epoch:08x}-{};Parent={};Sampled=0",
        random_hex(24),
        random_hex(16)
    )
}

fn now_rfc3339_millis() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format).unwrap_or_default()
}

impl Instance {
    /// Starts the runtime process in `task` and its Runtime API.
    pub async fn start(
        spec: Arc<FunctionSpec>,
        task: Arc<TaskRoot>,
        sink: LogSink,
    ) -> Result<Instance, LocalError> {
        let api = RuntimeApi::start().await?;
        let (reader, writer) =
            std::io::pipe().map_err(|e| LocalError::io("cannot create a pipe for logs", e))?;
        let writer_err = writer
            .try_clone()
            .map_err(|e| LocalError::io("cannot create a pipe for logs", e))?;
        let (program, args) = match &spec.interpreter {
            // A Python function runs under the interpreter the caller chose.
            Some(python) if matches!(Launch::of(task.runtime), Launch::Python { .. }) => (
                python.path.clone(),
                vec![
                    "-c".to_owned(),
                    format!(
                        "import {m} as b; b.main()",
                        m = crate::task::BOOTSTRAP_MODULE
                    ),
                ],
            ),
            // For Node.js functions the spec's interpreter is `node`.
            Some(node) if matches!(Launch::of(task.runtime), Launch::Node { .. }) => (
                node.path.clone(),
                vec![
                    task.runtime_dir
                        .join(crate::task::BOOTSTRAP_NODE_FILE)
                        .display()
                        .to_string(),
                ],
            ),
            _ => crate::native::command(&task, &spec.name)?,
        };
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&args)
            .current_dir(&task.task)
            .env_clear()
            .envs(lambda_environment(&spec, &task, &api))
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(writer_err))
            .process_group(0)
            .kill_on_drop(true);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs between fork and exec and calls only
        // async-signal-safe functions (prctl, getppid, _exit).
        unsafe {
            cmd.pre_exec(move || {
                // The runtime dies with slipway, even a slipway killed with
                // SIGKILL that had no chance to stop it.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // slipway died before the line above took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let started = Instant::now();
        let child = cmd.spawn().map_err(|source| LocalError::Spawn {
            path: program.clone(),
            source,
        })?;
        // Our copies of the pipe's write end go with the command, so the pipe
        // reaches end of file when the runtime exits.
        drop(cmd);
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        let logs = LogPump::start(OwnedFd::from(reader), spec.name.clone(), sink)
            .map_err(|e| LocalError::io("cannot read the runtime's output", e))?;
        Ok(Instance {
            spec,
            _task: task,
            api,
            child,
            pid,
            logs,
            started,
            cold: true,
            alive: true,
            max_rss_kb: 0,
        })
    }

    /// False once the runtime crashed, timed out or failed to initialise:
    /// Lambda discards such an environment.
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    fn kill(&mut self) {
        if self.pid > 0 {
            // The whole process group: handlers may have started children.
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
        self.alive = false;
    }

    fn sample_memory(&mut self) {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", self.pid)) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            if let Some(kb) = hwm {
                self.max_rss_kb = self.max_rss_kb.max(kb);
            }
        }
    }

    /// Runs one invocation and waits for its outcome, enforcing the timeout.
    pub async fn invoke(&mut self, request: InvokeRequest) -> InvokeOutcome {
        let request_id = uuid::Uuid::new_v4().to_string();
        let timeout = Duration::from_secs(u64::from(self.spec.timeout_seconds));
        self.logs.take();
        self.logs
            .platform_line(&format!("START RequestId: {request_id} Version: $LATEST"));
        let submitted = Instant::now();
        // Lambda hands an empty payload to the function as an empty object.
        let payload = if request.payload.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            request.payload
        };
        let invocation = Invocation {
            request_id: request_id.clone(),
            payload,
            timeout,
            function_arn: self.spec.arn(),
            trace_id: trace_id(),
            client_context: request.client_context,
            cognito_identity: request.cognito_identity,
        };

        enum Ending {
            Replied(Reply),
            Abandoned,
            InitFailed(Option<String>, Bytes),
            Exited(String),
            TimedOut,
        }
        let mut init_error = self.api.init_error();
        let mut picked_up = self.api.picked_up();
        picked_up.mark_unchanged();
        let mut picked_at = None;
        let ending = if !self.alive {
            Ending::Exited("the environment was shut down".into())
        } else {
            let mut reply = self.api.submit(invocation).await;
            // Until the runtime picks the event up it is initialising, which
            // Lambda allows INIT_LIMIT for; the function's timeout counts
            // from the pickup.
            let mut deadline = tokio::time::Instant::from_std(submitted + INIT_LIMIT.max(timeout));
            loop {
                tokio::select! {
                    r = &mut reply => break match r {
                        Ok(reply) => Ending::Replied(reply),
                        Err(_) => Ending::Abandoned,
                    },
                    e = init_error.wait_for(Option::is_some) => break match e {
                        Ok(e) => {
                            let e = e.clone().expect("waited for Some");
                            Ending::InitFailed(e.error_type, e.body)
                        }
                        Err(_) => Ending::Abandoned,
                    },
                    status = self.child.wait() => break Ending::Exited(match status {
                        Ok(s) => exit_description(s),
                        Err(e) => e.to_string(),
                    }),
                    changed = picked_up.changed(), if picked_at.is_none() => {
                        if changed.is_ok() {
                            let now = Instant::now();
                            picked_at = Some(now);
                            deadline = tokio::time::Instant::from_std(now + timeout);
                        }
                    }
                    _ = tokio::time::sleep_until(deadline) => break Ending::TimedOut,
                }
            }
        };
        let ended = Instant::now();
        self.sample_memory();
        let first_next = self.api.first_next();
        let init_duration = if self.cold {
            first_next.map(|f| f.duration_since(self.started))
        } else {
            None
        };
        let run_start = picked_at.unwrap_or(submitted);
        let duration = ended.saturating_duration_since(run_start);

        let mut timed_out = false;
        let (payload, content_type, error_type) = match ending {
            Ending::Replied(Reply::Response {
                body, content_type, ..
            }) => (body, content_type, None),
            Ending::Replied(Reply::Error { error_type, body }) => {
                // awslambdaric names the error in the body, not in the header.
                let error_type = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("errorType")?.as_str().map(str::to_owned))
                    .filter(|t| !t.is_empty())
                    .or(error_type)
                    .unwrap_or_else(|| "Unhandled".into());
                (body, Some("application/json".into()), Some(error_type))
            }
            Ending::InitFailed(error_type, body) => {
                self.logs.flush().await;
                let kind = error_type.clone().unwrap_or_else(|| "Unknown".into());
                let init_ms = first_next
                    .unwrap_or(ended)
                    .duration_since(self.started)
                    .as_secs_f64()
                    * 1000.0;
                self.logs.platform_line(&format!(
                        "INIT_REPORT Init Duration: {init_ms:.2} ms\tPhase: init\tStatus: error\tError Type: {kind}"
                    ),
                );
                self.kill();
                (body, Some("application/json".into()), Some(kind))
            }
            Ending::Exited(how) => {
                self.alive = false;
                self.logs.flush().await;
                let message =
                    format!("RequestId: {request_id} Error: Runtime exited with error: {how}");
                self.logs
                    .platform_line(&format!("{message}\nRuntime.ExitError"));
                (
                    error_payload("Runtime.ExitError", &message),
                    Some("application/json".into()),
                    Some("Runtime.ExitError".into()),
                )
            }
            Ending::Abandoned => {
                let message = format!(
                    "RequestId: {request_id} Error: the runtime asked for the next event without answering this one"
                );
                (
                    error_payload("Runtime.NoResponse", &message),
                    Some("application/json".into()),
                    Some("Runtime.NoResponse".into()),
                )
            }
            Ending::TimedOut => {
                timed_out = true;
                self.kill();
                self.logs.flush().await;
                let seconds = self.spec.timeout_seconds;
                self.logs.platform_line(&format!(
                    "{} {request_id} Task timed out after {seconds}.00 seconds",
                    now_rfc3339_millis()
                ));
                (
                    error_payload(
                        "Sandbox.Timedout",
                        &format!(
                            "RequestId: {request_id} Error: Task timed out after {seconds}.00 seconds"
                        ),
                    ),
                    Some("application/json".into()),
                    Some("Sandbox.Timedout".into()),
                )
            }
        };
        let max_memory_used_mb = self.max_rss_kb.div_ceil(1024);
        let (payload, error_type) = if max_memory_used_mb > u64::from(self.spec.memory_mb)
            && error_type.is_none()
        {
            // Lambda kills an environment that outgrows its memory size.
            self.kill();
            let message =
                format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed");
            self.logs
                .platform_line(&format!("{message}\nRuntime.OutOfMemory"));
            (
                error_payload("Runtime.OutOfMemory", &message),
                Some("Runtime.OutOfMemory".to_owned()),
            )
        } else {
            (payload, error_type)
        };
        if self.alive {
            self.logs.flush().await;
        }
        self.logs
            .platform_line(&format!("END RequestId: {request_id}"));
        let duration_ms = duration.as_secs_f64() * 1000.0;
        let billed_duration_ms = (duration_ms.ceil() as u64).max(1);
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {billed_duration_ms} ms\tMemory Size: {} MB\tMax Memory Used: {max_memory_used_mb} MB",
            self.spec.memory_mb
        );
        let init_duration_ms = init_duration.map(|d| d.as_secs_f64() * 1000.0);
        if let Some(init) = init_duration_ms {
            report.push_str(&format!("\tInit Duration: {init:.2} ms"));
        }
        if timed_out {
            report.push_str("\tStatus: timeout");
        }
        self.logs.platform_line(&report);
        self.cold = false;
        InvokeOutcome {
            request_id,
            payload,
            content_type,
            function_error: error_type.as_ref().map(|_| "Unhandled".to_owned()),
            error_type,
            logs: self.logs.take(),
            duration_ms,
            billed_duration_ms,
            memory_size_mb: self.spec.memory_mb,
            max_memory_used_mb,
            init_duration_ms,
            runtime_client: self.api.user_agent(),
            timed_out,
        }
    }
}

fn error_payload(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string())
}

fn exit_description(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(9)) => "signal: killed".into(),
        (None, Some(sig)) => format!("signal: {sig}"),
        _ => "exited".into(),
    }
}

/// The variables Lambda sets for a Python function, then the function's own.
fn lambda_environment(
    spec: &FunctionSpec,
    task: &TaskRoot,
    api: &RuntimeApi,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    let task_root = task.task.display().to_string();
    let opt = task.opt.display().to_string();
    let today = time::OffsetDateTime::now_utc().date();
    set("AWS_LAMBDA_RUNTIME_API", api.address().to_string());
    set("_HANDLER", task.handler.clone());
    set("LAMBDA_TASK_ROOT", task_root.clone());
    set("LAMBDA_RUNTIME_DIR", task.runtime_dir.display().to_string());
    set("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone());
    set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into());
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        spec.memory_mb.to_string(),
    );
    set(
        "AWS_LAMBDA_LOG_GROUP_NAME",
        format!("/aws/lambda/{}", spec.name),
    );
    set(
        "AWS_LAMBDA_LOG_STREAM_NAME",
        format!(
            "{:04}/{:02}/{:02}/[$LATEST]{}",
            today.year(),
            u8::from(today.month()),
            today.day(),
            random_hex(32)
        ),
    );
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
    set("AWS_REGION", spec.region.clone());
    set("AWS_DEFAULT_REGION", spec.region.clone());
    // Lambda names the managed runtimes here; custom runtimes get none.
    if Launch::of(task.runtime) != Launch::Bootstrap {
        set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", task.runtime));
    }
    set("TZ", ":UTC".into());
    set("LANG", "en_US.UTF-8".into());
    // Lambda's runtime writes logs unbuffered; a pipe would otherwise hold
    // `print` output back until the process exits.
    set("PYTHONUNBUFFERED", "1".into());
    if let Launch::Node { major } = Launch::of(task.runtime) {
        // Lambda's NODE_PATH: layers' nodejs folders, the runtime, the task.
        set(
            "NODE_PATH",
            format!(
                "{opt}/nodejs/node{major}/node_modules:{opt}/nodejs/node_modules:{}:{task_root}",
                task.runtime_dir.display()
            ),
        );
    } else if let Some(python) = &spec.interpreter {
        let minor = python.minor;
        let mut python_path =
            format!("{task_root}:{opt}/python/lib/python3.{minor}/site-packages:{opt}/python");
        python_path.push(':');
        python_path.push_str(&task.runtime_dir.display().to_string());
        if let Some(provided) = &spec.runtime_packages {
            python_path.push(':');
            python_path.push_str(&provided.display().to_string());
        }
        set("PYTHONPATH", python_path);
    }
    set("LD_LIBRARY_PATH", format!("{task_root}/lib:{opt}/lib"));
    let inherited_path = std::env::var("PATH").unwrap_or_default();
    set("PATH", format!("{opt}/bin:{inherited_path}"));
    set("SLIPWAY_RUNTIME_CLIENT", spec.client.env_value().to_owned());
    // The role's credentials, and endpoints that point boto3 at an emulator,
    // come from the caller's environment as Lambda's come from the role.
    for (k, v) in std::env::vars() {
        let passes = matches!(
            k.as_str(),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN" | "HOME"
        ) || k.starts_with("AWS_ENDPOINT_URL");
        if passes {
            env.insert(k, v);
        }
    }
    for (k, v) in &spec.environment {
        env.insert(k.clone(), v.clone());
    }
    env
}
