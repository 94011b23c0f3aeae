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
    let cli = cli::Cli::parse();
    let ctx = context::Context::new(&cli.global);
    install_report_hook();
    ctx.init_logging();
    match commands::run(&ctx, cli.command) {
        Ok(status) => status.into(),
        Err(failure) => output::report_failure(&ctx, failure).into(),
    }
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
