use std::path::PathBuf;

/// Everything that can stop slipway from running a function locally.
///
/// A function that fails (raises, times out, crashes) is not an error here:
/// that is an [`crate::InvokeOutcome`] with a function error, like Lambda's.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LocalError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] slipway_artifact::ManifestError),

    #[error("`{function}` was built for {built}, but this machine is {host}")]
    #[diagnostic(
        code(slipway::local::architecture),
        help(
            "run it on a {built} machine, or build it for this one: set `architecture = \"{host}\"` in slipway.toml (for a SAM template, its `Architectures`, or a parameter override) and run `slipway build {function}`"
        )
    )]
    Architecture {
        function: String,
        built: String,
        host: String,
    },

    #[error("`{function}` was built for {runtime}, which slipway cannot run locally")]
    #[diagnostic(
        code(slipway::local::runtime),
        help(
            "slipway runs Python (python3.9 and later), Node.js (nodejs20.x and later), .NET (dotnet8, dotnet10) and custom (provided.*) runtimes locally"
        )
    )]
    UnsupportedRuntime { function: String, runtime: String },

    #[error("`{function}`: {message}")]
    #[diagnostic(code(slipway::local::native_runtime), help("{help}"))]
    NativeRuntime {
        function: String,
        message: String,
        help: String,
    },

    /// No interpreter of the runtime's version could be found or used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Interpreter(#[from] slipway_python::interpreter::InterpreterError),

    #[error("{} is Python {found}, but the function runs on python{wanted}", path.display())]
    #[diagnostic(
        code(slipway::local::python_version),
        help("give `--python` an interpreter of version {wanted}")
    )]
    PythonVersion {
        path: PathBuf,
        found: String,
        wanted: String,
    },

    #[error("no usable Node.js for {runtime}: {message}")]
    #[diagnostic(
        code(slipway::local::node),
        help("install Node.js, put `node` on PATH, or give `--node` the binary to use")
    )]
    Node { runtime: String, message: String },

    #[error("cannot run {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::local::spawn),
        help("check that the interpreter exists and is executable")
    )]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot unpack {}: {message}", path.display())]
    #[diagnostic(
        code(slipway::local::unpack),
        help("rebuild it with `slipway build`; the zip may be damaged")
    )]
    Unpack { path: PathBuf, message: String },

    #[error("cannot listen on {address}: {source}")]
    #[diagnostic(
        code(slipway::local::listen),
        help("choose another port with `--port`, or stop what uses this one")
    )]
    Listen {
        address: String,
        source: std::io::Error,
    },

    #[error("unknown event type `{kind}`")]
    #[diagnostic(code(slipway::local::event_type), help("known types: {known}"))]
    UnknownEvent { kind: String, known: String },

    #[error("option `--{option}` does not apply to `{kind}` events")]
    #[diagnostic(
        code(slipway::local::event_option),
        help("options of `{kind}`: {accepted}")
    )]
    EventOption {
        kind: String,
        option: String,
        accepted: String,
    },

    #[error("the event is not JSON: {message}")]
    #[diagnostic(
        code(slipway::local::event_json),
        help("give `--event` a file holding one JSON value (e.g. from `slipway event sqs`)")
    )]
    EventJson { message: String },

    #[error(
        "the event is {size} bytes; Lambda accepts at most {max} bytes for a synchronous invocation"
    )]
    #[diagnostic(
        code(slipway::local::event_too_large),
        help(
            "Lambda refuses it with RequestTooLargeException; pass large data through S3 and send its key"
        )
    )]
    EventTooLarge { size: usize, max: usize },

    #[error("SQS: {message}")]
    #[diagnostic(
        code(slipway::local::sqs),
        help("check the queue URL, `--endpoint-url` and the AWS credentials in the environment")
    )]
    Sqs { message: String },

    #[error("{message}: {source}")]
    #[diagnostic(code(slipway::local::io))]
    Io {
        message: String,
        source: std::io::Error,
    },
}

impl LocalError {
    pub(crate) fn io(message: impl Into<String>, source: std::io::Error) -> LocalError {
        LocalError::Io {
            message: message.into(),
            source,
        }
    }
}
