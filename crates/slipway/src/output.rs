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

/// A command line clap refused. clap prints it (and `--help`, `--version`)
/// as it always does; when the line asks for `--format json`, machines also
/// get the JSON error object every other failure prints, since clap stopped
/// before it could read which format was asked for.
pub fn report_usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let shown_not_refused = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if shown_not_refused || !json_requested(std::env::args_os().skip(1)) {
        error.exit();
    }
    let text = error.render().to_string();
    let mut lines = text.lines();
    let message = lines.next().unwrap_or_default();
    let help: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    let body = serde_json::json!({
        "ok": false,
        "exit_code": Status::InputError as u8,
        "error": {
            "kind": Kind::Input,
            "message": message.strip_prefix("error: ").unwrap_or(message),
            "code": "slipway::usage",
            "help": (!help.is_empty()).then(|| help.join("\n")),
            "environment": null,
            "causes": [],
        }
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );
    let _ = error.print();
    Status::InputError.into()
}

/// Whether the arguments ask for `--format json`, read without clap (which refused them).
fn json_requested(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let mut previous_was_format = false;
    for arg in args {
        let arg = arg.to_string_lossy();
        if arg == "--format=json" || (previous_was_format && arg == "json") {
            return true;
        }
        previous_was_format = arg == "--format";
    }
    false
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

#[cfg(test)]
mod tests {
    use super::json_requested;

    #[test]
    fn json_is_requested_in_either_spelling_anywhere_on_the_line() {
        let asks = |line: &str| json_requested(line.split(' ').map(Into::into));
        assert!(asks("build --format json --sing"));
        assert!(asks("--format=json build --sing"));
        assert!(!asks("build --format human --sing"));
        assert!(!asks("build --sing json"));
        assert!(!asks("build --format"));
    }
}
