//! The `slipway` binary: parse the command line, run one command, render its
//! result as text or JSON, and exit with a stable code. Library crates do the
//! work and never print.

mod cli;
mod commands;
mod context;
mod output;
mod progress;
mod sam;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Past a file-size limit (`ulimit -f`) a write then fails with EFBIG and
    // is reported like a full disk, instead of SIGXFSZ killing the process
    // mid-write without a word.
    // SAFETY: setting a signal's disposition to ignore has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return output::report_usage_error(error),
    };
    let ctx = context::Context::new(&cli.global);
    install_report_hook();
    ctx.init_logging();
    let status = match commands::run(&ctx, cli.command) {
        Ok(status) => status,
        Err(failure) if slipway_build::staging::interrupted() => {
            // The failure is the interruption's doing (its staging folder
            // vanished); the process ends with the signal, not a code.
            drop(failure);
            output::Status::CheckFailed
        }
        Err(failure) => output::report_failure(&ctx, failure),
    };
    while slipway_build::staging::interrupted() {
        // The interrupt handler is removing staging folders and will end the
        // process with the signal.
        std::thread::park();
    }
    status.into()
}

/// Diagnostics wrap to the terminal; in logs (CI, pipes) they keep whole lines
/// so they can be searched.
fn install_report_hook() {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(terminal)
                .build(),
        )
    }));
}
