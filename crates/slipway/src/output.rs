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
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// A command that could not finish: the diagnostic and the exit code it earns.
pub struct Failure {
    pub report: miette::Report,
    pub status: Status,
}

impl Failure {
    /// A failure caused by the user's input (exit 2).
    pub fn input(e: impl Into<miette::Report>) -> Failure {
        Failure {
            report: e.into(),
            status: Status::InputError,
        }
    }

    /// A failure found while doing the work (exit 1).
    pub fn failed(e: impl Into<miette::Report>) -> Failure {
        Failure {
            report: e.into(),
            status: Status::CheckFailed,
        }
    }
}

impl<E: miette::Diagnostic + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::input(miette::Report::new(e))
    }
}

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
    if ctx.json() {
        let diag: &dyn miette::Diagnostic = failure.report.as_ref();
        let body = serde_json::json!({
            "ok": false,
            "exit_code": failure.status as u8,
            "error": {
                "message": failure.report.to_string(),
                "code": diag.code().map(|c| c.to_string()),
                "help": diag.help().map(|h| h.to_string()),
                "causes": failure.report.chain().skip(1).map(|c| c.to_string()).collect::<Vec<_>>(),
            }
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    }
    eprintln!("{:?}", failure.report);
    failure.status
}
