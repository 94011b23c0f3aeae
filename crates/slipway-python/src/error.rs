use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum PythonError {
    #[error("{runtime} is not a Python runtime; slipway installs Python dependencies only")]
    #[diagnostic(
        code(slipway::python::not_python),
        help("remove `requirements` from the function, or use a python3.x runtime")
    )]
    NotPython { runtime: String },

    #[error("cannot {action} {}: {source}", path.display())]
    #[diagnostic(code(slipway::python::io))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{module}:{line}:{column}: the handler's module does not parse: {message}")]
    #[diagnostic(
        code(slipway::python::handler_syntax),
        help("Lambda would fail to import it; fix the syntax error")
    )]
    HandlerSyntax {
        module: String,
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "{module}:{line}: `{name}` is only annotated, never assigned, so the module has no `{name}` at import time"
    )]
    #[diagnostic(
        code(slipway::python::handler_annotated_only),
        help(
            "assign it (`{name}: Callable = make_handler()`) or define `def {name}(event, context):`"
        )
    )]
    HandlerAnnotatedOnly {
        module: String,
        line: usize,
        name: String,
    },

    #[error("{module} does not define `{name}` at its top level")]
    #[diagnostic(
        code(slipway::python::handler_undefined),
        help(
            "define `def {name}(event, context):` (or import or assign `{name}`) at the top level of {module}, or fix `handler` in slipway.toml; if the module binds it in a way no parse can see, set `handler_check = false` for the function"
        )
    )]
    HandlerUndefined { module: String, name: String },

    #[error("{}:{line}: {message}", file.display())]
    #[diagnostic(code(slipway::python::requirements), help("{help}"))]
    Requirements {
        file: PathBuf,
        line: usize,
        message: String,
        help: String,
    },

    #[error("{}: {message}", file.display())]
    #[diagnostic(code(slipway::python::dependency_file), help("{help}"))]
    DependencyFile {
        file: PathBuf,
        message: String,
        help: String,
    },

    #[error("the package index {url} could not be read: {message}")]
    #[diagnostic(
        code(slipway::python::index),
        help(
            "check the index URL (--index-url, `[python] index_url` in slipway.toml, PIP_INDEX_URL, pip's config) and the network; credentials go in the URL or ~/.netrc; --offline builds from the cache"
        )
    )]
    Index { url: String, message: String },

    #[error("no package named `{package}` on {indexes}")]
    #[diagnostic(
        code(slipway::python::not_found),
        help(
            "check the spelling in {origin}, or add the index that hosts it with --extra-index-url"
        )
    )]
    NotFound {
        package: String,
        indexes: String,
        origin: String,
    },

    #[error("SHA-256 mismatch for {file}: expected {expected}, got {actual}")]
    #[diagnostic(
        code(slipway::python::hash_mismatch),
        help(
            "the file is not the one the index or the lock promised; if the lock is stale, regenerate it, otherwise treat this as tampering"
        )
    )]
    HashMismatch {
        file: String,
        expected: String,
        actual: String,
    },

    #[error("{message}")]
    #[diagnostic(code(slipway::python::no_wheel), help("{help}"))]
    NoUsableWheel { message: String, help: String },

    #[error("the requirements cannot all be met:\n{explanation}")]
    #[diagnostic(
        code(slipway::python::conflict),
        help("relax one of the conflicting requirements, or pin versions that work together")
    )]
    Conflict { explanation: String },

    #[error("{what} is not in the cache and --offline forbids the network")]
    #[diagnostic(
        code(slipway::python::offline),
        help("run the build once without --offline to fill the cache ({cache})")
    )]
    Offline { what: String, cache: String },

    #[error("the wheel {wheel} is broken: {message}")]
    #[diagnostic(
        code(slipway::python::bad_wheel),
        help(
            "the file does not match its own RECORD or is not a valid wheel; report it to the package's maintainers and pin another version"
        )
    )]
    BadWheel { wheel: String, message: String },

    #[error("the wheel {wheel} holds an unsafe entry `{path}`: {reason}")]
    #[diagnostic(
        code(slipway::python::unsafe_wheel),
        help(
            "a wheel must never write outside the package or contain links; do not install this file"
        )
    )]
    UnsafeWheel {
        wheel: String,
        path: String,
        reason: &'static str,
    },

    #[error("`{path}` is written by two wheels: {first} and {second}")]
    #[diagnostic(
        code(slipway::python::path_conflict),
        help(
            "two distributions install the same file; remove one of them from the requirements or list it in `exclude_packages`"
        )
    )]
    PathConflict {
        path: String,
        first: String,
        second: String,
    },

    #[error("native code that cannot run on {target}:\n{violations}")]
    #[diagnostic(
        code(slipway::python::elf),
        help(
            "pin a version whose wheel targets an older glibc (manylinux2014 / manylinux_2_17), or move to a newer runtime"
        )
    )]
    Elf { target: String, violations: String },

    #[error("{message}")]
    #[diagnostic(code(slipway::python::sdist), help("{help}"))]
    Sdist { message: String, help: String },
}

impl PythonError {
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> PythonError {
        let path = path.into();
        move |source| PythonError::Io {
            action,
            path,
            source,
        }
    }
}
