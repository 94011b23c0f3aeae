//! What slipway's tests share: a temporary [`Project`] and the `slipway`
//! process isolated from the developer's machine, a [`run`] that returns
//! exit code and output, [`git`], a [`manifest`] to start records from, and
//! the official SBOM [`schemas`] as validators.
//!
//! A dev-dependency only: nothing here ships.

mod project;
pub mod schemas;

use std::path::Path;
use std::process::Command;

pub use project::{Project, build_json, command_json, json_stdout, process, slipway};
use slipway_artifact::{Architecture, ArtifactRecord, MANIFEST_SCHEMA_VERSION, Manifest, Runtime};

/// Runs `cmd` to its end: (exit code, stdout, stderr). A process ended by a
/// signal has no exit code; it reads as -1 so the assertion shows it.
pub fn run(cmd: impl std::borrow::BorrowMut<Command>) -> (i32, String, String) {
    let mut cmd = cmd;
    let out = cmd.borrow_mut().output().expect("the command starts");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A command [`succeed`] can run: a plain process or `assert_cmd`'s.
pub trait Runnable {
    fn output_now(&mut self) -> std::io::Result<std::process::Output>;
}

impl Runnable for Command {
    fn output_now(&mut self) -> std::io::Result<std::process::Output> {
        self.output()
    }
}

impl Runnable for assert_cmd::Command {
    fn output_now(&mut self) -> std::io::Result<std::process::Output> {
        self.output()
    }
}

/// Asserts that a finished command succeeded; a failure shows its exit
/// status and stderr, never the command (its environment may hold a key).
pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exited with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd`, which must succeed ([`assert_ok`]); its output.
pub fn succeed(cmd: &mut impl Runnable) -> std::process::Output {
    let out = cmd.output_now().expect("the command starts");
    assert_ok(&out);
    out
}

/// The time [`git`] commits at: 2024-03-01 12:00 UTC.
pub const GIT_COMMIT_TIME: i64 = 1_709_294_400;

/// `git ARGS…` in `dir`, which must succeed; its stdout. Commits get a fixed
/// identity and [`GIT_COMMIT_TIME`], and are never signed, whatever the
/// machine's git configuration says.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(Command::new("git")
        .current_dir(dir)
        .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00Z")
        .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00Z")
        .args([
            "-c",
            "user.name=slipway test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(["-c", "commit.gpgsign=false"])
        .args(args));
    assert_eq!(code, 0, "git {args:?}: {stderr}");
    stdout
}

/// A manifest of `function` (python3.12, x86_64, `app.handler`) whose
/// package is `artifact`, without layer or dependencies; tests set what
/// they are about with struct update syntax.
pub fn manifest(function: &str, artifact: ArtifactRecord) -> Manifest {
    Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        function: function.into(),
        runtime: Runtime::find("python3.12").expect("a known runtime"),
        architecture: Architecture::X86_64,
        handler: "app.handler".into(),
        artifact,
        layer: None,
        input_hash: "0".repeat(64),
        slipway_version: "test".into(),
        source_commit: None,
        source_date_epoch: 315_532_800,
        evidence_time: None,
        dependencies: Vec::new(),
    }
}
