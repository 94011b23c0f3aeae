//! Custom runtimes (`provided.al2023`, `provided.al2`): the package brings
//! its own executable `bootstrap` at the root, which Lambda runs as the
//! runtime.
//!
//! - A `bootstrap` in the function's source is packaged as it is, after the
//!   checks Lambda would otherwise fail at cold start: executable, built for
//!   the function's architecture, no glibc symbol version newer than the
//!   runtime's (the same ELF check wheels get, [`slipway_package::elf`]).
//! - A Rust project (a `Cargo.toml` in `source`, no `bootstrap`) is built
//!   with `cargo build --release` for the target (`cargo zigbuild` when
//!   crossing architectures), its binary packaged as `bootstrap`, and its
//!   `Cargo.lock` read into the inventory ([`cargo_lock`]).

pub mod cargo_lock;
mod error;

use std::path::{Path, PathBuf};
use std::process::Command;

use slipway_artifact::Distribution;
use slipway_config::{Architecture, Runtime, RuntimeFamily};
use slipway_package::elf::{self, ElfTarget};
use slipway_package::select::SelectedFile;
use slipway_package::{EntryData, ZipEntry};

pub use error::CustomError;

/// The entry Lambda runs.
pub const BOOTSTRAP: &str = "bootstrap";

/// What a custom runtime function needs from the build.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The function's source folder.
    pub source: &'a Path,
    pub runtime: &'static Runtime,
    pub architecture: Architecture,
    /// The files the build selected from `source`, as package paths.
    pub files: &'a [SelectedFile],
    /// Never touch the network (`cargo build --offline`).
    pub offline: bool,
}

/// What the build adds to the package (no lock: the ecosystem's own lock
/// ships in the package or stays in the source).
pub use slipway_package::Installed;

/// How a Rust project is built for a target, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builder {
    /// `cargo build --release --target <triple>` (the host's architecture).
    Cargo { triple: String },
    /// `cargo zigbuild --release --target <triple>.<glibc>`: another
    /// architecture, glibc pinned to the runtime's.
    Zigbuild { triple: String, glibc: (u32, u32) },
}

impl Builder {
    pub fn triple(&self) -> &str {
        match self {
            Builder::Cargo { triple } | Builder::Zigbuild { triple, .. } => triple,
        }
    }

    /// The arguments after `cargo`.
    pub fn args(&self) -> Vec<String> {
        match self {
            Builder::Cargo { triple } => vec![
                "build".into(),
                "--release".into(),
                "--target".into(),
                triple.clone(),
            ],
            Builder::Zigbuild { triple, glibc } => vec![
                "zigbuild".into(),
                "--release".into(),
                "--target".into(),
                format!("{triple}.{}.{}", glibc.0, glibc.1),
            ],
        }
    }
}

/// The Rust target triple of a Lambda architecture.
pub fn target_triple(architecture: Architecture) -> String {
    format!("{}-unknown-linux-gnu", architecture.machine())
}

fn ensure_custom(runtime: &Runtime) -> Result<(), CustomError> {
    if runtime.family != RuntimeFamily::OsOnly {
        return Err(CustomError::NotCustom {
            runtime: runtime.id.to_string(),
        });
    }
    Ok(())
}

fn find<'a>(files: &'a [SelectedFile], path: &str) -> Option<&'a SelectedFile> {
    files.iter().find(|f| f.zip_path == path)
}

/// A digest of what decides the built bootstrap besides the source files
/// (which the build hashes itself): how it is built and with which
/// toolchain. Cheap: one `rustc --version` when the function is a project.
pub fn fingerprint(request: &Request) -> Result<String, CustomError> {
    ensure_custom(request.runtime)?;
    if find(request.files, BOOTSTRAP).is_some() || !request.source.join("Cargo.toml").is_file() {
        return Ok("custom:bootstrap".into());
    }
    let builder = builder(request)?;
    let rustc = Command::new(rustc_program())
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Ok(format!("custom:cargo|{}|{rustc}", builder.args().join(" ")))
}

/// Checks the function's `bootstrap`, or builds it from the Rust project in
/// `source`, and reads the inventory.
pub fn install(request: &Request) -> Result<Installed, CustomError> {
    ensure_custom(request.runtime)?;
    if let Some(file) = find(request.files, BOOTSTRAP) {
        if !file.executable {
            return Err(CustomError::NotExecutable {
                path: file.disk_path.clone(),
            });
        }
        let bytes = read(&file.disk_path)?;
        check_binary(
            &file.disk_path,
            &bytes,
            request.runtime,
            request.architecture,
        )?;
        let distributions = lock_inventory(request.source)?;
        return Ok(Installed {
            entries: Vec::new(),
            distributions,
            lock: None,
            replaces_sources: false,
        });
    }
    if !request.source.join("Cargo.toml").is_file() {
        return Err(CustomError::NoBootstrap {
            source_dir: request.source.to_path_buf(),
            runtime: request.runtime.id.to_string(),
        });
    }
    let builder = builder(request)?;
    let binary = cargo_build(request, &builder)?;
    let bytes = read(&binary)?;
    check_binary(&binary, &bytes, request.runtime, request.architecture)?;
    let distributions = lock_inventory(request.source)?;
    Ok(Installed {
        entries: vec![ZipEntry {
            path: BOOTSTRAP.into(),
            executable: true,
            data: EntryData::Bytes(bytes),
            origin: slipway_artifact::EntryOrigin::Source,
        }],
        distributions,
        lock: None,
        replaces_sources: true,
    })
}

/// The checks Lambda would otherwise fail at cold start: an ELF `bootstrap`
/// must be for the architecture's machine and need no glibc newer than the
/// runtime's. A script (`#!/bin/sh`) passes: the runtime's OS runs it.
pub fn check_binary(
    path: &Path,
    bytes: &[u8],
    runtime: &Runtime,
    architecture: Architecture,
) -> Result<(), CustomError> {
    let facts = elf::inspect(BOOTSTRAP, bytes).map_err(|message| CustomError::BadElf {
        path: path.to_path_buf(),
        message,
    })?;
    let Some(facts) = facts else { return Ok(()) };
    let glibc = runtime.os.glibc();
    let problems = elf::violations(
        &facts,
        "",
        &ElfTarget {
            runtime: runtime.id,
            machine: architecture.machine(),
            glibc,
        },
    );
    if problems.is_empty() {
        return Ok(());
    }
    Err(CustomError::Elf {
        runtime: runtime.id.to_string(),
        architecture: architecture.to_string(),
        machine: architecture.machine().to_string(),
        glibc: format!("{}.{}", glibc.0, glibc.1),
        problems,
    })
}

fn lock_inventory(source: &Path) -> Result<Vec<Distribution>, CustomError> {
    let path = source.join("Cargo.lock");
    match std::fs::read_to_string(&path) {
        Ok(text) => cargo_lock::read(&path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(CustomError::Io {
            action: "read",
            path,
            source,
        }),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CustomError> {
    std::fs::read(path).map_err(|source| CustomError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

fn cargo_program() -> std::ffi::OsString {
    // Under `cargo run`/`cargo test` this is the cargo that started us.
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn rustc_program() -> std::ffi::OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// `cargo build` for the host's architecture; `cargo zigbuild` (with its
/// glibc pinned to the runtime's) for the other one, when installed.
pub fn builder(request: &Request) -> Result<Builder, CustomError> {
    let triple = target_triple(request.architecture);
    if Architecture::host() == Some(request.architecture) {
        return Ok(Builder::Cargo { triple });
    }
    if !on_path("cargo-zigbuild") {
        return Err(CustomError::CannotCross {
            source_dir: request.source.to_path_buf(),
            target: triple.clone(),
            reason: format!(
                "this machine is {} and cargo-zigbuild is not installed",
                std::env::consts::ARCH
            ),
            help: format!(
                "install the cross toolchain (`pip install ziglang`, `cargo install cargo-zigbuild`, `rustup target add {triple}`), build on a {} machine, or build `bootstrap` yourself into `source`",
                request.architecture.machine()
            ),
        });
    }
    Ok(Builder::Zigbuild {
        triple,
        glibc: request.runtime.os.glibc(),
    })
}

/// Where cargo builds: `CARGO_TARGET_DIR` when set, else a folder in
/// slipway's cache named by the project, so the source folder (whose files
/// feed the input hash) never fills with build output.
fn target_dir(source: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let key = slipway_artifact::digest::sha256_hex(source.to_string_lossy().as_bytes());
    slipway_artifact::fs::cache_root()
        .unwrap_or_else(std::env::temp_dir)
        .join("cargo-target")
        .join(&key[..16])
}

fn cargo_build(request: &Request, builder: &Builder) -> Result<PathBuf, CustomError> {
    let mut args = builder.args();
    args.extend([
        "--message-format".into(),
        "json-render-diagnostics".into(),
        "--target-dir".into(),
        target_dir(request.source).display().to_string(),
    ]);
    if request.source.join("Cargo.lock").is_file() {
        // The lock is an input of the build; never let cargo change it.
        args.push("--locked".into());
    }
    if request.offline {
        args.push("--offline".into());
    }
    let command = format!("cargo {}", args.join(" "));
    let output = Command::new(cargo_program())
        .args(&args)
        .current_dir(request.source)
        // Paths of the checkout and of cargo's home must not reach the
        // binary (panic messages), or two checkouts would differ.
        .env("CARGO_ENCODED_RUSTFLAGS", remap_flags(request.source))
        .output()
        .map_err(|source| CustomError::Io {
            action: "run cargo in",
            path: request.source.to_path_buf(),
            source,
        })?;
    if !output.status.success() {
        return Err(CustomError::CargoFailed {
            command,
            source_dir: request.source.to_path_buf(),
            output: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_owned(),
        });
    }
    let mut binaries: Vec<(String, PathBuf)> = Vec::new();
    for line in output.stdout.split(|b| *b == b'\n') {
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact"
            || !message["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        {
            continue;
        }
        if let (Some(name), Some(exe)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) {
            binaries.push((name.to_owned(), PathBuf::from(exe)));
        }
    }
    if let Some((_, path)) = binaries.iter().find(|(n, _)| n == BOOTSTRAP) {
        return Ok(path.clone());
    }
    match binaries.len() {
        1 => Ok(binaries.remove(0).1),
        0 => Err(CustomError::NoBootstrap {
            source_dir: request.source.to_path_buf(),
            runtime: request.runtime.id.to_string(),
        }),
        count => Err(CustomError::WhichBinary {
            source_dir: request.source.to_path_buf(),
            count,
            names: binaries
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// `--remap-path-prefix` for the project and cargo's home, `\x1f`-separated
/// as `CARGO_ENCODED_RUSTFLAGS` wants, keeping flags the caller set.
fn remap_flags(source: &Path) -> String {
    let mut flags: Vec<String> = match std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        Ok(f) if !f.is_empty() => f.split('\x1f').map(str::to_owned).collect(),
        _ => std::env::var("RUSTFLAGS")
            .map(|f| f.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
    };
    flags.push(format!("--remap-path-prefix={}=.", source.display()));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    flags.join("\x1f")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_name_the_target_and_pin_glibc_when_crossing() {
        assert_eq!(
            target_triple(Architecture::Arm64),
            "aarch64-unknown-linux-gnu"
        );
        let b = Builder::Zigbuild {
            triple: target_triple(Architecture::Arm64),
            glibc: (2, 34),
        };
        assert_eq!(
            b.args(),
            [
                "zigbuild",
                "--release",
                "--target",
                "aarch64-unknown-linux-gnu.2.34"
            ]
        );
        let c = Builder::Cargo {
            triple: target_triple(Architecture::X86_64),
        };
        assert_eq!(c.args()[0], "build");
        assert_eq!(c.triple(), "x86_64-unknown-linux-gnu");
    }

    #[test]
    fn scripts_pass_and_other_runtimes_are_refused() {
        let rt = Runtime::find("provided.al2023").unwrap();
        check_binary(
            Path::new("bootstrap"),
            b"#!/bin/sh\nexec ./app\n",
            rt,
            Architecture::X86_64,
        )
        .unwrap();
        let files = [];
        let request = Request {
            source: Path::new("/nonexistent"),
            runtime: Runtime::find("python3.12").unwrap(),
            architecture: Architecture::X86_64,
            files: &files,
            offline: true,
        };
        assert!(matches!(
            install(&request),
            Err(CustomError::NotCustom { .. })
        ));
        let request = Request {
            runtime: rt,
            ..request
        };
        let e = install(&request).unwrap_err();
        assert!(matches!(e, CustomError::NoBootstrap { .. }), "{e}");
        assert!(e.is_input());
    }
}
