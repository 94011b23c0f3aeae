//! Results and failures, rendered for people or for machines, with stable exit codes.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use crate::context::Context;

/// The process exit codes slipway promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything asked for was done and every check passed.
    Ok = 0,
    /// A check failed: verification, a vulnerability gate, drift, a function error.
    CheckFailed = 1,
    /// The command line, the configuration or another input is wrong.
    InputError = 2,
    /// The machine failed the command: disk full, permission denied, network down.
    Environment = 3,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

impl From<Kind> for Status {
    fn from(kind: Kind) -> Status {
        match kind {
            Kind::CheckFailed => Status::CheckFailed,
            Kind::Input => Status::InputError,
            Kind::Environment => Status::Environment,
        }
    }
}

/// A command that could not finish: one type for every command and the
/// build engine, so the exit code is decided in one place.
pub use slipway_build::{Failure, Kind};

/// Something a command reports: readable text for people, JSON for machines.
pub trait Render: Serialize {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Prints a result on stdout in the requested format.
pub fn emit(ctx: &Context, value: &impl Render) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if ctx.json() {
        serde_json::to_writer_pretty(&mut out, value)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out))
    } else {
        value.human(&mut out)
    };
    match written {
        Ok(()) => Ok(()),
        // A closed pipe (`slipway … | head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::failed(miette::miette!("cannot write output: {e}"))),
    }
}

/// Prints a failure: a miette diagnostic on stderr, and in JSON mode also a
/// JSON error object on stdout so machines always get parseable output.
pub fn report_failure(ctx: &Context, failure: Failure) -> Status {
    let kind = failure.kind();
    let status = Status::from(kind);
    let cause = failure.environment_cause();
    if ctx.json() {
        let diag: &dyn miette::Diagnostic = failure.report.as_ref();
        let body = serde_json::json!({
            "ok": false,
            "exit_code": status as u8,
            "error": {
                "kind": kind,
                "message": failure.report.to_string(),
                "code": failure.code(),
                "help": diag.help().map(|h| h.to_string()),
                "environment": cause,
                "causes": failure.report.chain().skip(1).map(|c| c.to_string()).collect::<Vec<_>>(),
            }
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    }
    eprintln!("{:?}", failure.report);
    if let Some(cause) = cause {
        eprintln!(
            "error: the environment, not the input, stopped slipway: {cause}. Fix the machine (free disk space, permissions, network) and run it again."
        );
    }
    status
}
