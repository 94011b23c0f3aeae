//! `slipway invoke`, `serve` and `event`: running built functions on this
//! machine behind a real Lambda Runtime API, and sample events to feed them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde::Serialize;
use slipway_local::events::EventOptions;
use slipway_local::pool::Pool;
use slipway_local::serve::{ReloadEvent, Served};
use slipway_local::sqs::{SqsMapping, SqsReport};
use slipway_local::{BuiltFunction, FunctionSpec, InvokeRequest, LogSink, RuntimeClient};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientChoice {
    /// awslambdaric when the interpreter can import it, else slipway's own
    Auto,
    /// AWS's runtime interface client (fails when it is not installed)
    Awslambdaric,
    /// slipway's small built-in client
    Builtin,
}

impl From<ClientChoice> for RuntimeClient {
    fn from(c: ClientChoice) -> RuntimeClient {
        match c {
            ClientChoice::Auto => RuntimeClient::Auto,
            ClientChoice::Awslambdaric => RuntimeClient::Awslambdaric,
            ClientChoice::Builtin => RuntimeClient::Builtin,
        }
    }
}

/// How the runtime process is set up; shared by `invoke` and `serve`.
#[derive(Debug, Args)]
pub struct RuntimeOptions {
    /// The Python interpreter [default: python3.X for the function's runtime, found on PATH,
    /// in pyenv's or uv's interpreter folders]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// The Node.js binary for nodejsNN.x functions [default: `node` on PATH]
    #[arg(long, value_name = "PATH")]
    pub node: Option<PathBuf>,

    /// The Runtime API client inside the function's process
    #[arg(long, value_enum, default_value_t = ClientChoice::Auto)]
    pub runtime_client: ClientChoice,

    /// Set or override a function environment variable (repeatable)
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_function_env)]
    pub env: Vec<(String, String)>,

    /// The AWS region the function believes it runs in [default: [aws] region, AWS_REGION, us-east-1]
    #[arg(long)]
    pub region: Option<String>,

    /// A folder of the packages Lambda's runtime provides (boto3, botocore), searched after the
    /// function's own, e.g. made with `pip install --target DIR boto3`
    #[arg(long, value_name = "DIR", env = "SLIPWAY_RUNTIME_PACKAGES")]
    pub runtime_packages: Option<PathBuf>,

    /// The folder holding the built functions [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
}

/// `--env KEY=VALUE`, refusing the variables Lambda sets itself, as
/// slipway.toml does: overriding them locally would test a function Lambda cannot run.
fn parse_function_env(s: &str) -> Result<(String, String), String> {
    let (key, value) = parse_key_value(s)?;
    if slipway_config::is_reserved_environment_variable(&key) {
        return Err(format!(
            "`{key}` is set by Lambda itself and cannot be overridden"
        ));
    }
    Ok((key, value))
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The function to run [default: the only function in slipway.toml]
    pub function: Option<String>,

    /// The event: a JSON file, or `-` for stdin [default: {}]
    #[arg(short, long, value_name = "FILE")]
    pub event: Option<PathBuf>,

    /// The client context the function sees, as JSON (`aws lambda invoke` takes it base64-encoded)
    #[arg(long, value_name = "JSON")]
    pub client_context: Option<String>,

    #[command(flatten)]
    pub runtime: RuntimeOptions,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Functions to serve [default: all in slipway.toml]
    pub functions: Vec<String>,

    /// The port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 9001)]
    pub port: u16,

    /// Environments each function may run at once
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,

    /// Poll this SQS queue and invoke the function with its messages, as an
    /// event source mapping does (repeatable; FUNCTION=URL when serving several)
    #[arg(long, value_name = "[FUNCTION=]QUEUE_URL")]
    pub sqs: Vec<String>,

    /// The AWS endpoint for SQS polling (an emulator such as moto) [default: [aws] endpoint_url]
    #[arg(long, value_name = "URL", value_parser = slipway_config::parse_http_url)]
    pub endpoint_url: Option<String>,

    /// Do not rebuild and restart a function when its sources change
    #[arg(long)]
    pub no_watch: bool,

    #[command(flatten)]
    pub runtime: RuntimeOptions,
}

#[derive(Debug, Args)]
pub struct EventArgs {
    /// The event type (see --list)
    #[arg(required_unless_present = "list")]
    pub kind: Option<String>,

    /// List the event types
    #[arg(long)]
    pub list: bool,

    /// The fields to set (boxed: they are many, and clap's enum of commands holds them)
    #[command(flatten)]
    pub fields: Box<EventFields>,
}

#[derive(Debug, Args)]
pub struct EventFields {
    /// Message or request body (sqs, function-url, apigw-http, apigw-rest)
    #[arg(long)]
    pub body: Option<String>,
    /// Bucket name (s3-put)
    #[arg(long)]
    pub bucket: Option<String>,
    /// Object key (s3-put)
    #[arg(long)]
    pub key: Option<String>,
    /// Object size in bytes (s3-put)
    #[arg(long)]
    pub size: Option<u64>,
    /// Request path, may include `?query` (function-url, apigw-http, apigw-rest)
    #[arg(long)]
    pub path: Option<String>,
    /// HTTP method (function-url, apigw-http, apigw-rest)
    #[arg(long)]
    pub method: Option<String>,
    /// Raw query string (function-url, apigw-http, apigw-rest)
    #[arg(long)]
    pub query: Option<String>,
    /// Request header NAME=VALUE, repeatable (function-url, apigw-http, apigw-rest)
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub headers: Vec<(String, String)>,
    /// Queue name (sqs)
    #[arg(long)]
    pub queue: Option<String>,
    /// Number of records (sqs)
    #[arg(long)]
    pub count: Option<u32>,
    /// AWS region (sqs, s3-put, function-url, dynamodb-stream, eventbridge-scheduled, sns)
    #[arg(long)]
    pub region: Option<String>,
    /// Notification message (sns)
    #[arg(long)]
    pub message: Option<String>,
    /// Notification subject (sns)
    #[arg(long)]
    pub subject: Option<String>,
    /// Topic name (sns)
    #[arg(long)]
    pub topic: Option<String>,
    /// Table name (dynamodb-stream)
    #[arg(long)]
    pub table: Option<String>,
    /// Intent name (alexa-intent)
    #[arg(long)]
    pub intent: Option<String>,
    /// Intent slot NAME=VALUE, repeatable (alexa-intent)
    #[arg(long = "slot", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub slots: Vec<(String, String)>,
    /// Skill id (alexa-launch, alexa-intent)
    #[arg(long)]
    pub application_id: Option<String>,
}

fn failed(code: &'static str, help: &str, message: String) -> Failure {
    Failure::failed(miette::miette!(
        code = code,
        help = help.to_owned(),
        "{message}"
    ))
}

fn region_of(project: &slipway_config::Project, given: &Option<String>) -> String {
    given
        .clone()
        .or_else(|| project.aws.region.clone())
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into())
}

/// The built function and the environment it runs with.
fn prepare(
    project: &slipway_config::Project,
    function: &slipway_config::Function,
    options: &RuntimeOptions,
) -> Result<(BuiltFunction, FunctionSpec), Failure> {
    let dist = slipway_artifact::function_dist_dir(
        &Context::out_dir(project, options.dist.as_deref()),
        &function.name,
    );
    let built = BuiltFunction::open(&dist)?;
    let interpreter = match (built.node_major(), built.python_minor()) {
        (Some(wanted), _) => {
            let node = options.node.as_deref().map(Context::user_path);
            let (path, major) =
                slipway_local::node::discover(built.manifest.runtime.id, node.as_deref())?;
            if major != wanted {
                tracing::warn!(
                    "{}: {} is Node.js {major}, the function runs on {}",
                    function.name,
                    path.display(),
                    built.manifest.runtime
                );
            }
            // The spec's interpreter is the process the runtime starts: `node` here.
            Some(slipway_local::python::Interpreter {
                path,
                minor: wanted,
            })
        }
        (None, Some(minor)) => {
            let python = options.python.as_deref().map(Context::user_path);
            Some(slipway_local::python::discover(minor, python.as_deref())?)
        }
        (None, None) => None,
    };
    let mut environment = function.environment.clone();
    environment.extend(options.env.iter().cloned());
    let spec = FunctionSpec {
        name: function.name.clone(),
        memory_mb: function.memory,
        timeout_seconds: function.timeout,
        environment,
        region: region_of(project, &options.region),
        interpreter,
        client: options.runtime_client.into(),
        runtime_packages: options.runtime_packages.as_deref().map(Context::user_path),
    };
    Ok((built, spec))
}

fn stderr_sink(ctx: &Context, prefix: bool) -> LogSink {
    let quiet = ctx.quiet;
    Arc::new(move |function: &str, line: &str| {
        if quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = if prefix {
            writeln!(err, "[{function}] {line}")
        } else {
            writeln!(err, "{line}")
        };
    })
}

fn read_event(path: &Option<PathBuf>) -> Result<Vec<u8>, Failure> {
    let bytes = match path.as_deref() {
        None => return Ok(b"{}".to_vec()),
        Some(p) if p == Path::new("-") => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b).map_err(|e| {
                Failure::input(miette::miette!("cannot read the event from stdin: {e}"))
            })?;
            b
        }
        Some(p) => std::fs::read(p).map_err(|e| {
            Failure::input(miette::miette!(
                code = "slipway::invoke::event",
                help = "give --event a JSON file, or `-` to read stdin",
                "cannot read {}: {e}",
                p.display()
            ))
        })?,
    };
    slipway_local::serve::check_event_size(&bytes)?;
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        return Err(Failure::input(slipway_local::LocalError::EventJson {
            message: e.to_string(),
        }));
    }
    Ok(bytes)
}

fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, Failure> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().map_err(|e| {
        failed(
            "slipway::runtime",
            "this is a bug",
            format!("cannot start the async runtime: {e}"),
        )
    })
}

#[derive(Serialize)]
struct InvokeResult {
    function: String,
    /// The interpreter the function ran under (Python functions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    python: Option<PathBuf>,
    #[serde(flatten)]
    outcome: slipway_local::InvokeOutcome,
    /// The function's result: JSON when it is JSON, else a string.
    payload: serde_json::Value,
}

impl Render for InvokeResult {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(&self.outcome.payload)?;
        writeln!(out)
    }
}

pub fn run_invoke(ctx: &Context, args: InvokeArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let function = match &args.function {
        Some(name) => project.select(std::slice::from_ref(name))?[0].clone(),
        None if project.functions.len() == 1 => {
            project.functions.values().next().cloned().expect("one")
        }
        None => {
            return Err(Failure::input(miette::miette!(
                code = "slipway::invoke::which",
                help = format!(
                    "name one: {}",
                    project
                        .functions
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "{} defines several functions",
                project.file.path.display()
            )));
        }
    };
    let (built, spec) = prepare(&project, &function, &args.runtime)?;
    let python = spec.interpreter.as_ref().map(|i| i.path.clone());
    let payload = read_event(&args.event)?;
    if let Some(cc) = &args.client_context {
        serde_json::from_str::<serde_json::Value>(cc)
            .map_err(|e| Failure::input(miette::miette!("--client-context is not JSON: {e}")))?;
    }
    let request = InvokeRequest {
        payload: payload.into(),
        client_context: args.client_context.clone(),
        cognito_identity: None,
    };
    let sink = stderr_sink(ctx, false);
    let outcome =
        runtime(false)?.block_on(slipway_local::invoke_once(&built, spec, request, sink))?;
    let failed_fn = outcome.function_error.is_some();
    let payload = serde_json::from_slice(&outcome.payload).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&outcome.payload).into_owned())
    });
    emit(
        ctx,
        &InvokeResult {
            function: function.name.clone(),
            python,
            outcome,
            payload,
        },
    )?;
    Ok(if failed_fn {
        Status::CheckFailed
    } else {
        Status::Ok
    })
}

#[derive(Serialize)]
struct Listening {
    url: String,
    functions: Vec<String>,
    function_urls: BTreeMap<String, String>,
    sqs: Vec<String>,
}

impl Render for Listening {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "listening on {}", self.url)?;
        for (f, url) in &self.function_urls {
            writeln!(
                out,
                "  {f}: Invoke API {}/2015-03-31/functions/{f}/invocations, Function URL {url}",
                self.url
            )?;
        }
        for q in &self.sqs {
            writeln!(out, "  polling {q}")?;
        }
        out.flush()
    }
}

/// Rebuilds a function with the build engine, in this process: the same
/// code path as `slipway build`, without the configuration being read again.
fn rebuild_in_process(
    project: &slipway_config::Project,
    dist: PathBuf,
) -> Result<slipway_local::serve::Rebuild, Failure> {
    let flags = slipway_build::BuildFlags {
        out: Some(dist),
        ..Default::default()
    };
    let settings =
        slipway_build::BuildSettings::resolve(flags, project, |name| std::env::var(name).ok())?;
    let engine = Arc::new(slipway_build::Engine::new(project.clone(), settings)?);
    Ok(Arc::new(move |name: &str| {
        let function = engine
            .project()
            .functions
            .get(name)
            .ok_or_else(|| format!("no function `{name}` in slipway.toml"))?;
        engine
            .build_function(function, &slipway_build::Silent)
            .map(|report| report.dist_dir)
            .map_err(|failure| format!("{:?}", failure.report))
    }))
}

pub fn run_serve(ctx: &Context, args: ServeArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let functions: Vec<slipway_config::Function> = project
        .select(&args.functions)?
        .into_iter()
        .cloned()
        .collect();
    let sink = stderr_sink(ctx, functions.len() > 1);
    let rt = runtime(true)?;
    let guard = rt.enter();
    let mut pools = BTreeMap::new();
    for f in &functions {
        let (built, spec) = prepare(&project, f, &args.runtime)?;
        let pool = Pool::new(built, spec, args.concurrency, sink.clone())?;
        pools.insert(f.name.clone(), Arc::new(pool));
    }
    let cors = functions
        .iter()
        .filter_map(|f| Some((f.name.clone(), f.triggers.url.as_ref()?.cors.clone()?)))
        .collect();
    let served = Served {
        pools: Arc::new(pools),
        region: region_of(&project, &args.runtime.region),
        cors: Arc::new(cors),
    };
    let mut mappings = Vec::new();
    for entry in &args.sqs {
        let (name, url) = match entry.split_once('=') {
            Some((n, u)) if !n.contains('/') => (n.to_owned(), u.to_owned()),
            _ if functions.len() == 1 => (functions[0].name.clone(), entry.clone()),
            _ => {
                return Err(Failure::input(miette::miette!(
                    code = "slipway::serve::sqs",
                    help = "write --sqs FUNCTION=QUEUE_URL when serving several functions",
                    "which function should `{entry}` feed?"
                )));
            }
        };
        let Some(pool) = served.pools.get(&name).cloned() else {
            return Err(Failure::input(miette::miette!(
                "--sqs names `{name}`, which is not served"
            )));
        };
        let function = functions.iter().find(|f| f.name == name).expect("served");
        mappings.push(SqsMapping::from_config(pool, &url, function));
    }
    let endpoint = args
        .endpoint_url
        .clone()
        .or_else(|| project.aws.endpoint_url.clone());
    if let Some(sam) = ctx.sam_project()? {
        let explicit: Vec<&str> = args
            .sqs
            .iter()
            .map(|e| match e.split_once('=') {
                Some((n, _)) if !n.contains('/') => n,
                _ => functions[0].name.as_str(),
            })
            .collect();
        let wanted = functions
            .iter()
            .filter(|f| !explicit.contains(&f.name.as_str()))
            .filter_map(|f| Some((f, sam.functions.get(&f.name)?)));
        for (function, queue_url) in rt.block_on(crate::sam::template_queues(
            wanted,
            endpoint.as_deref(),
            &served.region,
            ctx.quiet,
        )) {
            let pool = served.pools[&function.name].clone();
            mappings.push(SqsMapping::from_config(pool, &queue_url, &function));
        }
    }
    let listener = rt.block_on(slipway_local::serve::bind(args.port))?;
    let address = listener
        .local_addr()
        .map_err(|e| failed("slipway::serve::address", "this is a bug", e.to_string()))?;
    let url = format!("http://{address}");
    let single = served.pools.len() == 1;
    emit(
        ctx,
        &Listening {
            url: url.clone(),
            functions: served.pools.keys().cloned().collect(),
            function_urls: served
                .pools
                .keys()
                .map(|f| {
                    let u = if single {
                        format!("{url}/")
                    } else {
                        format!("{url}/lambda-url/{f}/")
                    };
                    (f.clone(), u)
                })
                .collect(),
            sqs: mappings.iter().map(|m| m.queue_url().to_owned()).collect(),
        },
    )?;
    if !args.no_watch {
        let rebuild = rebuild_in_process(
            &project,
            Context::out_dir(&project, args.runtime.dist.as_deref()),
        )?;
        let quiet = ctx.quiet;
        let report: Arc<dyn Fn(ReloadEvent) + Send + Sync> = Arc::new(move |e| {
            if quiet {
                return;
            }
            match e {
                ReloadEvent::Rebuilt { function } => {
                    eprintln!(
                        "slipway: {function} changed: rebuilt, new environments start from the new build"
                    )
                }
                ReloadEvent::Failed { function, message } => {
                    eprintln!(
                        "slipway: {function} changed but the rebuild failed; still serving the previous build\n{message}"
                    )
                }
            }
        });
        for f in &functions {
            let pool = served.pools[&f.name].clone();
            rt.spawn(slipway_local::serve::watch_and_reload(
                pool,
                f.source.clone(),
                rebuild.clone(),
                report.clone(),
            ));
        }
    }
    let region = served.region.clone();
    for mapping in mappings {
        let quiet = ctx.quiet;
        let report: Arc<dyn Fn(SqsReport) + Send + Sync> = Arc::new(move |r| {
            if !quiet {
                eprintln!("slipway: sqs: {r}");
            }
        });
        let endpoint = endpoint.clone();
        let region = region.clone();
        rt.spawn(async move {
            if let Err(e) = mapping.run(endpoint, region, report.clone()).await {
                report(SqsReport::Stopped(e.to_string()));
            }
        });
    }
    let router = slipway_local::serve::router(served);
    rt.block_on(async {
        tokio::select! {
            r = slipway_local::serve::run(listener, router) => r,
            () = shutdown_signal() => Ok(()),
        }
    })?;
    // Dropping the runtime drops the pools, which stops every runtime process.
    drop(guard);
    drop(rt);
    Ok(Status::Ok)
}

/// Ctrl-C or SIGTERM: stop serving and take the runtime processes down too
/// (they run in their own process groups, out of the terminal's reach).
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}

#[derive(Serialize)]
struct EventList {
    kinds: Vec<EventKind>,
}

#[derive(Serialize)]
struct EventKind {
    name: &'static str,
    description: &'static str,
}

impl Render for EventList {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for k in &self.kinds {
            writeln!(out, "{:<22} {}", k.name, k.description)?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
#[serde(transparent)]
struct EventJson(serde_json::Value);

impl Render for EventJson {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &self.0).map_err(std::io::Error::other)?;
        writeln!(out)
    }
}

pub fn run_event(ctx: &Context, args: EventArgs) -> Result<Status, Failure> {
    if args.list {
        let kinds = slipway_local::events::kinds()
            .into_iter()
            .map(|(name, description)| EventKind { name, description })
            .collect();
        emit(ctx, &EventList { kinds })?;
        return Ok(Status::Ok);
    }
    let kind = args.kind.clone().unwrap_or_default();
    let args = *args.fields;
    let options = EventOptions {
        body: args.body,
        bucket: args.bucket,
        key: args.key,
        size: args.size,
        path: args.path,
        method: args.method,
        query: args.query,
        headers: args.headers,
        queue: args.queue,
        region: args.region,
        message: args.message,
        subject: args.subject,
        topic: args.topic,
        table: args.table,
        intent: args.intent,
        slots: args.slots,
        application_id: args.application_id,
        count: args.count,
    };
    let event = slipway_local::events::sample(&kind, &options)?;
    emit(ctx, &EventJson(event))?;
    Ok(Status::Ok)
}
