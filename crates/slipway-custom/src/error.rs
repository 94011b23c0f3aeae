use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum CustomError {
    #[error("{runtime} is not a custom runtime")]
    #[diagnostic(
        code(slipway::custom::not_custom),
        help("custom runtimes are provided.al2023 and provided.al2")
    )]
    NotCustom { runtime: String },

    #[error("the package has no `bootstrap` at its root, and {} holds no Cargo.toml to build one from", source_dir.display())]
    #[diagnostic(
        code(slipway::custom::no_bootstrap),
        help(
            "a {runtime} function runs the executable `bootstrap` at the package root: build it yourself into `source`, or point `source` at a Rust project (slipway runs `cargo build --release` and packages the binary as `bootstrap`)"
        )
    )]
    NoBootstrap {
        source_dir: PathBuf,
        runtime: String,
    },

    #[error("{} is not executable", path.display())]
    #[diagnostic(
        code(slipway::custom::not_executable),
        help("Lambda runs `bootstrap` directly: `chmod +x {}`", path.display())
    )]
    NotExecutable { path: PathBuf },

    #[error("bootstrap cannot run on {runtime} ({architecture}):\n  {}", problems.join("\n  "))]
    #[diagnostic(
        code(slipway::custom::elf),
        help(
            "build it for {machine} against glibc {glibc} or older (e.g. on Amazon Linux, with `cargo zigbuild --target {machine}-unknown-linux-gnu.{glibc}`, or statically against musl), or change `architecture`/`runtime`"
        )
    )]
    Elf {
        runtime: String,
        architecture: String,
        machine: String,
        glibc: String,
        problems: Vec<String>,
    },

    #[error("cannot read {}: {message}", path.display())]
    #[diagnostic(code(slipway::custom::elf_read))]
    BadElf { path: PathBuf, message: String },

    #[error("{}: {message}", path.display())]
    #[diagnostic(code(slipway::custom::cargo_lock), help("{help}"))]
    CargoLock {
        path: PathBuf,
        message: String,
        help: String,
    },

    #[error("cannot build {} for {target}: {reason}", source_dir.display())]
    #[diagnostic(code(slipway::custom::cross), help("{help}"))]
    CannotCross {
        source_dir: PathBuf,
        target: String,
        reason: String,
        help: String,
    },

    #[error("`{command}` failed in {}:\n{output}", source_dir.display())]
    #[diagnostic(
        code(slipway::custom::cargo_failed),
        help("the compiler's messages are above; fix the project and build again")
    )]
    CargoFailed {
        command: String,
        source_dir: PathBuf,
        output: String,
    },

    #[error("{} builds {count} binaries ({names}); slipway cannot tell which one is `bootstrap`", source_dir.display())]
    #[diagnostic(
        code(slipway::custom::which_binary),
        help("name the Lambda binary `bootstrap` (`[[bin]] name = \"bootstrap\"` in Cargo.toml)")
    )]
    WhichBinary {
        source_dir: PathBuf,
        count: usize,
        names: String,
    },

    #[error("cannot {action} {}: {source}", path.display())]
    #[diagnostic(code(slipway::custom::io))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CustomError {
    /// Input problems (exit 2) as opposed to failed checks and tools (exit 1).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            CustomError::NotCustom { .. }
                | CustomError::NoBootstrap { .. }
                | CustomError::NotExecutable { .. }
                | CustomError::CargoLock { .. }
                | CustomError::CannotCross { .. }
                | CustomError::WhichBinary { .. }
                | CustomError::CargoFailed { .. }
        )
    }
}
